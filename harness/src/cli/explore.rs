//! `lockstep explore`: controlled interleavings.

use super::args::{self, Reference, after_help};
use crate::check::isolate;
use crate::defaults::STEP_BUDGET;
use crate::jobs::explore::{self as job, ExploreOptions};
use crate::repro::replay;
use crate::schedule::StrategyKind;
use crate::workload::{Family, Workload};
use crate::{Result, jobs};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
#[command(after_help = after_help!(
    "  lockstep explore                                  every hazard family, 4 blocks, 50 schedules each\n  lockstep explore -w hot-key -w eip7702 --strategy pct --schedules 500\n  lockstep explore --replay lockstep-out/explore-1/divergences/000-hot-key-block-stm-t2-state_Storage --repeat 10"
))]
pub struct ExploreArgs {
    /// Workload families (repeatable; default: every hazard family).
    #[arg(long = "workload", short = 'w', value_name = "FAMILY")]
    pub workloads: Vec<Family>,
    /// Run seed: block n comes from splitmix64(seed, n), its schedules from that block's seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Blocks per workload.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..))]
    pub blocks: u64,
    /// Controlled schedules per block.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub schedules: u64,
    /// How a seeded schedule picks the next worker.
    #[arg(long, value_enum, default_value_t = StrategyKind::Random)]
    pub strategy: StrategyKind,
    /// Transactions per generated block.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub txs: u64,
    /// Candidate workers (one runs at a time).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub threads: u64,
    /// The candidate executor.
    #[arg(long = "executor", short = 'e', value_name = "NAME", default_value = "block-stm")]
    pub executor: String,
    #[command(flatten)]
    pub reference: Reference,
    /// Steps before a controlled run counts as a livelock.
    #[arg(long, default_value_t = STEP_BUDGET, value_parser = clap::value_parser!(u64).range(1..))]
    pub step_budget: u64,
    /// Seconds one controlled execution may take; past it the candidate has hung.
    #[arg(long, value_name = "SECS", default_value = "20", value_parser = args::seconds)]
    pub timeout: Duration,
    /// Do not shrink failing schedules.
    #[arg(long)]
    pub no_shrink: bool,
    /// Do not minimize divergences (by default the first 3 are, 20 s each).
    #[arg(long)]
    pub no_minimize: bool,
    /// Where the summary and divergence bundles go (default lockstep-out/explore-SEED).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replay a bundle (case.json and its schedule.json) exactly, instead of exploring.
    #[arg(long, value_name = "BUNDLE")]
    pub replay: Option<PathBuf>,
    /// With --replay: how many times.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..), requires = "replay")]
    pub repeat: u64,
    #[command(flatten)]
    pub report: crate::report::ReportFlags,
}

pub fn run(a: ExploreArgs) -> Result<ExitCode> {
    let reference = a.reference.executor()?;
    let candidate = jobs::executor(&a.executor)?;
    isolate::quiet_executor_panics();
    if let Some(dir) = &a.replay {
        let mut diverged = 0;
        for i in 0..a.repeat {
            let r = replay::replay_bundle(dir, &candidate, reference.as_ref(), a.step_budget, a.timeout)?;
            if let Some(d) = r.divergence {
                diverged += 1;
                if diverged == 1 {
                    println!("replay {i}: {} steps, {} diverges:\n{d}", r.schedule.trace.len(), candidate.name());
                }
            }
        }
        println!("{diverged} of {} replays diverged", a.repeat);
        return Ok(super::found(diverged > 0));
    }
    let families = if a.workloads.is_empty() { Family::HAZARDS.to_vec() } else { a.workloads.clone() };
    let txs = a.txs as usize;
    let workloads: Vec<Workload> =
        families.into_iter().map(|f| Workload::new(f, txs).with_accounts((txs / 2).max(1))).collect();
    let labels: Vec<String> = workloads.iter().map(|w| w.label()).collect();
    let baseline = a.report.load_baseline()?;
    let meta = crate::report::meta(&[(&reference, "reference"), (&candidate, "candidate")], Some(a.seed), &[]);
    let strategy = format!("{:?}", a.strategy).to_lowercase();
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from(format!("lockstep-out/explore-{}", a.seed)));
    args::writable_dir(&out)?;
    println!(
        "lockstep explore: seed {}; {} on {} workers, {} {} schedules per block",
        a.seed,
        candidate.name(),
        a.threads,
        a.schedules,
        format!("{:?}", a.strategy).to_lowercase()
    );
    let report = job::run(&ExploreOptions {
        workloads,
        seed: a.seed,
        blocks: a.blocks,
        schedules: a.schedules,
        strategy: a.strategy,
        threads: a.threads as usize,
        reference,
        candidate,
        step_budget: a.step_budget,
        timeout: a.timeout,
        out_dir: Some(out.clone()),
        shrink: !a.no_shrink,
    });
    if !a.no_minimize {
        super::minimize_first(report.found.iter().filter_map(|f| f.bundle.clone()));
    }
    for f in &report.found {
        let c = f.controlled.as_ref();
        println!(
            "DIVERGENCE on {} block seed {}: {}\n  schedule {} choices, shrunk to {}\n  bundle: {}",
            f.workload.label(),
            f.block_seed,
            f.divergence,
            c.map_or(0, |c| c.schedule.choices.len()),
            c.and_then(|c| c.shrunk.as_ref()).map(|s| s.len().to_string()).unwrap_or_else(|| "-".into()),
            f.bundle.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "-".into())
        );
    }
    for e in &report.write_errors {
        eprintln!("error: {e}");
    }
    println!(
        "{} blocks, {} schedules, {} divergences in {:.1} s ({:.0} schedules/s); seed {}",
        report.blocks,
        report.schedules,
        report.found.len(),
        report.measured.wall_seconds,
        report.schedules_per_second(),
        a.seed
    );
    let mut full = report.to_report(&labels, &strategy, meta);
    let mut flags = a.report.clone();
    flags.json.get_or_insert_with(|| out.join("report.json"));
    let ok = flags.finish(&mut full, baseline.as_ref())?;
    Ok(super::found(!ok))
}
