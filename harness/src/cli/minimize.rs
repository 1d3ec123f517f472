//! `lockstep minimize`: a bundle's divergence, smaller.

use super::args::{self, after_help};
use crate::check::isolate;
use crate::repro::{bundle, minimize_bundle};
use crate::{Result, jobs};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
#[command(after_help = after_help!(
    "  lockstep minimize lockstep-out/run-1/divergences/000-hot-key-block-stm-t2-state_Balance\n  lockstep minimize BUNDLE --budget 300 --repeat 10     a flaky, schedule-dependent case"
))]
pub struct MinimizeArgs {
    /// A bundle directory (holding case.json), or its case.json.
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,
    /// Seconds the whole minimization may take.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = args::seconds)]
    pub budget: Duration,
    /// Candidate runs per step; any one diverging the same way counts (at least 20 under a
    /// recorded schedule).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub repeat: u64,
}

pub fn run(a: MinimizeArgs) -> Result<ExitCode> {
    let case = bundle::read(&a.bundle)?;
    let reference = jobs::executor(&case.reference.name)?;
    let candidate = jobs::executor(&case.candidate.name)?;
    isolate::quiet_executor_panics();
    let dir = bundle::dir_of(&a.bundle);
    let m = minimize_bundle(&dir, reference, candidate, a.budget, a.repeat as usize, true)?;
    println!(
        "minimized {} -> {} transactions, {} accounts, in {:.1} s ({} evaluations{}); diverges in {} of {} re-runs",
        m.original_txs,
        m.block.txs.len(),
        m.block.pre_state.len(),
        m.elapsed.as_secs_f64(),
        m.evaluations,
        if m.budget_exhausted { ", budget exhausted" } else { "" },
        m.recheck_hits,
        m.recheck_runs
    );
    println!("bundle: {}", dir.display());
    Ok(ExitCode::SUCCESS)
}
