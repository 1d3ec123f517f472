//! `lockstep hunt`: every seeded Block-STM bug (`--features planted-bugs`) against every
//! search strategy, and the unmutated build as the control.

use super::args::{self, Reference, after_help};
use crate::check::isolate;
use crate::jobs::hunt::{self as job, HuntOptions, HuntStrategy};
use crate::{Error, Result, jobs};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
#[command(after_help = after_help!(
    "  cargo run --release --features planted-bugs -- hunt               every seeded bug, 60 s a strategy\n  cargo run --release --features planted-bugs -- hunt --bug block-stm-stale-write-set --budget 10 -s pct"
))]
pub struct HuntArgs {
    /// Candidates hunted (repeatable; default: every seeded bug this build has, then
    /// `block-stm` as the control).
    #[arg(long = "bug", short = 'b', value_name = "EXECUTOR")]
    pub bugs: Vec<String>,
    /// Strategies (repeatable; default: all).
    #[arg(long = "strategy", short = 's', value_enum)]
    pub strategies: Vec<HuntStrategy>,
    /// Seconds each strategy has to catch each candidate.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = args::seconds)]
    pub budget: Duration,
    /// Seconds to minimize each caught bug's divergence (a hard limit).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = args::seconds)]
    pub minimize_budget: Duration,
    /// Run seed: every search's blocks and schedules derive from it.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Transactions per generated block.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub txs: u64,
    /// Replays of each minimized bundle.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    pub replays: u64,
    /// Seconds one candidate run may take; past it the candidate has hung.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = args::seconds)]
    pub timeout: Duration,
    /// Where the bundles go, one folder per candidate.
    #[arg(long, default_value = "lockstep-out/hunt")]
    pub out: PathBuf,
    #[command(flatten)]
    pub reference: Reference,
    #[command(flatten)]
    pub report: crate::report::ReportFlags,
}

/// The seeded bugs this build has, then the control.
fn default_bugs() -> Vec<String> {
    let mut names: Vec<String> = lockstep_executors::bundled_names()
        .into_iter()
        .filter(|n| lockstep_executors::block_stm::Mutant::from_executor(n).is_some())
        .map(String::from)
        .collect();
    names.push("block-stm".into());
    names
}

pub fn run(a: HuntArgs) -> Result<ExitCode> {
    let names = if a.bugs.is_empty() { default_bugs() } else { a.bugs.clone() };
    if names.len() == 1 && a.bugs.is_empty() {
        return Err(Error::Usage("this lockstep has no seeded bugs: build it with `--features planted-bugs`".into()));
    }
    let reference = a.reference.executor()?;
    let candidates = names.iter().map(|n| jobs::executor(n)).collect::<Result<Vec<_>>>()?;
    let strategies = if a.strategies.is_empty() { HuntStrategy::ALL.to_vec() } else { a.strategies.clone() };
    let baseline = a.report.load_baseline()?;
    let mut roles: Vec<_> = vec![(&reference, "reference")];
    roles.extend(candidates.iter().map(|c| (c, "candidate")));
    let meta = crate::report::meta(&roles, Some(a.seed), &[]);
    println!(
        "lockstep hunt: seed {}; {} candidates, {} strategies, {:.0} s each; {} txs a block",
        a.seed,
        candidates.len(),
        strategies.len(),
        a.budget.as_secs_f64(),
        a.txs
    );
    isolate::quiet_executor_panics();
    let rows = job::run(&HuntOptions {
        candidates,
        reference,
        strategies,
        seed: a.seed,
        budget: a.budget,
        txs: a.txs as usize,
        minimize_budget: a.minimize_budget,
        replays: a.replays as usize,
        timeout: a.timeout,
        out_dir: Some(a.out.clone()),
    });
    print!("{}", job::table(&rows));
    for r in rows.iter().filter(|r| !r.ok()) {
        match r.class {
            Some(_) => println!("{}: not caught by any strategy", r.executor),
            None => println!("{}: the control diverged: {}", r.executor, r.first_divergence().unwrap_or("-")),
        }
    }
    for r in rows.iter().filter_map(|r| r.note.as_ref().map(|n| (r, n))) {
        println!("{}: {}", r.0.executor, r.1);
    }
    let all_ok = rows.iter().all(job::HuntRow::ok);
    let mut report = job::to_report(&rows, meta);
    let ok = a.report.finish(&mut report, baseline.as_ref())?;
    Ok(super::found(!ok || !all_ok))
}
