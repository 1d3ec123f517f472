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
    "  lockstep minimize lockstep-out/run-1/divergences/000-hot-key-block-stm-t2-state_Balance\n  lockstep minimize BUNDLE --budget 300 --repeat 10     a flaky, schedule-dependent case\n  lockstep minimize t8n-input/ --fork Prague -e block-stm   an imported block: bundled first, then minimized"
))]
pub struct MinimizeArgs {
    /// A bundle directory (holding case.json), or its case.json; or a t8n input directory or
    /// a state-test file (with --fork), written as a bundle under --out first.
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,
    #[command(flatten)]
    pub import: args::ImportFlags,
    /// The candidate of an imported block.
    #[arg(long = "executor", short = 'e', value_name = "NAME", default_value = "block-stm")]
    pub executor: String,
    #[command(flatten)]
    pub reference: args::Reference,
    /// Candidate worker threads for an imported block.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=args::MAX_THREADS))]
    pub threads: u64,
    /// Where an imported block's bundle is written.
    #[arg(long, value_name = "DIR", default_value = "lockstep-out/imported")]
    pub out: PathBuf,
    /// Seconds the whole minimization may take.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = args::seconds)]
    pub budget: Duration,
    /// Candidate runs per step; any one diverging the same way counts (at least 20 under a
    /// recorded schedule).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub repeat: u64,
    #[command(flatten)]
    pub report: crate::report::ReportFlags,
}

/// An imported block as a bundle: its divergence between the reference and `-e`, found
/// again here.
fn bundle_of_import(a: &MinimizeArgs, block: lockstep_executors::BlockInput) -> Result<PathBuf> {
    let reference = jobs::executor(&a.reference.reference)?;
    let candidate = jobs::executor(&a.executor)?;
    let block = std::sync::Arc::new(block);
    let threads = a.threads as usize;
    let checked = crate::check::check_block(&block, reference.as_ref(), None, &candidate, threads, DEFAULT_TIMEOUT)?;
    let Some(divergence) = checked.divergence else {
        return Err(crate::Error::NotReproduced { path: a.bundle.clone(), kind: "any".into() });
    };
    let expected = crate::check::reference_output(reference.as_ref(), &block)?;
    args::writable_dir(&a.out)?;
    let label = format!("{}-t{threads}-{}", candidate.name(), divergence.kind());
    let identity = format!("{label} {}", a.bundle.display());
    let case = bundle::Case::new((*block).clone(), reference.as_ref(), candidate.as_ref(), threads, divergence);
    let dir = crate::repro::paths::new_bundle_dir(&a.out, &label, &identity)?;
    bundle::write(&dir, &case, &expected)
}

/// How long one candidate run of an imported block may take.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(a: MinimizeArgs) -> Result<ExitCode> {
    let bundle_path = match crate::repro::import::imported(&a.bundle, &a.import.spec())? {
        Some(block) => {
            let dir = bundle_of_import(&a, block)?;
            println!("imported as {}", dir.display());
            dir
        }
        None => a.bundle.clone(),
    };
    let case = bundle::read(&bundle_path)?;
    let reference = jobs::executor(&case.reference.name)?;
    let candidate = jobs::executor(&case.candidate.name)?;
    isolate::quiet_executor_panics();
    let dir = bundle::dir_of(&bundle_path);
    let m = minimize_bundle(&dir, reference.clone(), candidate.clone(), a.budget, a.repeat as usize, true)?;
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
    if m.kept_original {
        println!("the minimized block never diverged in its re-check: the bundle is left as it was");
    }
    println!("bundle: {}", dir.display());
    let meta = crate::report::meta(&[(&reference, "reference"), (&candidate, "candidate")], None, &[]);
    let mut report = lockstep_reports::Report::new(lockstep_reports::Job::Minimize, meta);
    let id = dir.display().to_string();
    report.cases.push(lockstep_reports::CaseResult {
        id: id.clone(),
        category: "minimize".into(),
        fork: m.block.fork.to_string(),
        executor: candidate.name().to_string(),
        status: lockstep_reports::Status::Diverged,
        message: Some(format!(
            "{} -> {} transactions, {} accounts; diverges in {} of {} re-runs",
            m.original_txs,
            m.block.txs.len(),
            m.block.pre_state.len(),
            m.recheck_hits,
            m.recheck_runs
        )),
        bundle: Some(id.clone()),
    });
    let after = bundle::read(&dir)?;
    report.divergences.push(lockstep_reports::DivergenceRecord {
        case: id.clone(),
        reference: reference.name().to_string(),
        candidate: candidate.name().to_string(),
        threads: Some(after.threads as u64),
        kind: after.kind.clone(),
        what: after.divergence.to_string(),
        bundle: Some(id),
        conflicts: crate::check::conflicts::of(reference.as_ref(), &m.block),
    });
    report.measured.wall_seconds = m.elapsed.as_secs_f64();
    a.report.finish(&mut report, None)?;
    Ok(ExitCode::SUCCESS)
}
