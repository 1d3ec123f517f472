//! `lockstep replay`: a saved block again, on the reference and a candidate.

use super::args::{self, Isolation, MAX_THREADS, Reference, after_help};
use crate::check::isolate;
use crate::defaults::STEP_BUDGET;
use crate::repro::{bundle, import, replay};
use crate::{Error, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Debug)]
#[command(after_help = after_help!(
    "  lockstep replay lockstep-out/run-1/divergences/000-hot-key-block-stm-t2-state_Balance --repeat 10\n  lockstep replay block.json --executor block-stm --threads 8\n  lockstep replay t8n-input/ --fork Prague          (alloc.json, env.json, txs.json)\n  lockstep replay add11.json --fork Cancun --indexes 0,0,0   (one state-test case)"
))]
pub struct ReplayArgs {
    /// A bundle directory (holding case.json), a case.json, a bare block.json (a
    /// `BlockInput`), a t8n input directory (alloc.json, env.json, txs.json), or a state-test
    /// file (with --fork and --indexes).
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    #[command(flatten)]
    pub import: args::ImportFlags,
    /// The candidate (default: the bundle's, or block-stm for a bare block).
    #[arg(long = "executor", short = 'e', value_name = "NAME")]
    pub executor: Option<String>,
    #[command(flatten)]
    pub reference: Reference,
    /// Candidate worker threads for a bare block (a bundle records its own).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=MAX_THREADS))]
    pub threads: u64,
    /// Also run the block once on the specification (an external executor such as `eels`)
    /// and say whether the reference agrees with it.
    #[arg(long, value_name = "NAME")]
    pub spec: Option<String>,
    /// Run it this many times (a schedule-dependent divergence may not show every time).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub repeat: u64,
    /// Seconds one candidate execution may take; past it the candidate has hung.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = args::seconds)]
    pub timeout: Duration,
    #[command(flatten)]
    pub isolation: Isolation,
    #[command(flatten)]
    pub report: crate::report::ReportFlags,
}

pub fn run(a: ReplayArgs) -> Result<ExitCode> {
    let reference = a.isolation.executor(&a.reference.reference)?;
    isolate::quiet_executor_panics();
    let is_bundle = a.path.join("case.json").is_file() || a.path.file_name().is_some_and(|n| n == "case.json");
    let (block, schedule, threads, candidate, recorded) = if is_bundle {
        let case = bundle::read(&a.path)?;
        let candidate = a.isolation.executor(a.executor.as_deref().unwrap_or(&case.candidate.name))?;
        (case.block, case.schedule, case.threads, candidate, Some(case.kind))
    } else if let Some(block) = import::imported(&a.path, &a.import.spec())? {
        let candidate = a.isolation.executor(a.executor.as_deref().unwrap_or("block-stm"))?;
        (block, None, a.threads as usize, candidate, None)
    } else {
        let path = if a.path.is_dir() { a.path.join("block.json") } else { a.path.clone() };
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let block = serde_json::from_str(&text).map_err(|e| Error::bad_input(&path, format!("not a block: {e}")))?;
        let candidate = a.isolation.executor(a.executor.as_deref().unwrap_or("block-stm"))?;
        (block, None, a.threads as usize, candidate, None)
    };
    let block = Arc::new(block);
    let baseline = a.report.load_baseline()?;
    let mut diverged = 0;
    let mut first = None;
    for i in 0..a.repeat {
        let r = replay::replay_block(
            block.clone(),
            schedule.clone(),
            (threads, i),
            &candidate,
            reference.as_ref(),
            STEP_BUDGET,
            a.timeout,
        )?;
        if let Some(d) = r.divergence {
            diverged += 1;
            if diverged == 1 {
                println!("run {i}: {} diverges from {}:\n{d}", candidate.name(), reference.name());
                first = Some((d.kind(), d.to_string()));
            }
        }
    }
    match recorded {
        Some(kind) => println!("{diverged} of {} runs diverged (recorded: {kind})", a.repeat),
        None => println!("{diverged} of {} runs diverged", a.repeat),
    }
    let mut spec_disagrees = false;
    if let Some(name) = &a.spec {
        let spec = crate::jobs::executor(name)?;
        let expected = crate::check::reference_output(reference.as_ref(), &block)?;
        let (got, _) = isolate::run_with_timeout(
            spec.clone(),
            block.clone(),
            lockstep_executors::RunControl::with_threads(1),
            a.timeout,
        );
        let caps = reference.capabilities().common(spec.capabilities());
        match crate::check::judge(&expected, got, caps) {
            None => println!("spec {name}: agrees with {}", reference.name()),
            Some(d) if d.is_unsupported() => println!("spec {name}: declines the block: {d}"),
            Some(d) => {
                spec_disagrees = true;
                println!("REFERENCE DISAGREES WITH THE SPEC {name}:\n{d}");
            }
        }
    }
    let mut roles = vec![(&reference, "reference"), (&candidate, "candidate")];
    let spec_exec = a.spec.as_deref().map(crate::jobs::executor).transpose()?;
    roles.extend(spec_exec.iter().map(|s| (s, "spec")));
    let mut report =
        lockstep_reports::Report::new(lockstep_reports::Job::Replay, crate::report::meta(&roles, None, &[]));
    let id = a.path.display().to_string();
    let summary = format!("{diverged} of {} runs diverged", a.repeat);
    report.cases.push(lockstep_reports::CaseResult {
        id: id.clone(),
        category: "replay".into(),
        fork: block.fork.to_string(),
        executor: candidate.name().to_string(),
        status: if diverged > 0 { lockstep_reports::Status::Diverged } else { lockstep_reports::Status::Passed },
        message: Some(summary.clone()),
        bundle: Some(id.clone()),
    });
    if let Some((kind, what)) = first {
        report.divergences.push(lockstep_reports::DivergenceRecord {
            case: id.clone(),
            reference: reference.name().to_string(),
            candidate: candidate.name().to_string(),
            threads: Some(threads as u64),
            kind,
            what: format!("{summary}; first: {what}"),
            bundle: Some(id.clone()),
            conflicts: crate::check::conflicts::of(reference.as_ref(), &block),
        });
    }
    if let Some(spec) = &spec_exec {
        report.cases.push(lockstep_reports::CaseResult {
            id: format!("{id}::spec"),
            category: "replay".into(),
            fork: block.fork.to_string(),
            executor: spec.name().to_string(),
            status: if spec_disagrees { lockstep_reports::Status::Diverged } else { lockstep_reports::Status::Passed },
            message: None,
            bundle: None,
        });
    }
    let ok = a.report.finish(&mut report, baseline.as_ref())?;
    Ok(super::found(!ok || diverged > 0 || spec_disagrees))
}
