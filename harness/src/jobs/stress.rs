//! Stress mode: real threads at several worker counts, with random delays injected at the
//! executor's hook points from a seed, repeated. The divergence *rate* per configuration is
//! the result: a failure is never retried to green.

use crate::check::{self, isolate};
use crate::schedule::DelayHook;
use crate::workload::{Workload, block_seed};
use lockstep_executors::{Executor, RunControl};
use lockstep_reports::table::Table;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
/// One workload at one worker count.
pub struct StressRow {
    /// The workload's [`Workload::label`].
    pub workload: String,
    /// Candidate worker threads.
    pub threads: usize,
    /// Candidate runs.
    pub runs: u64,
    /// Runs that diverged (a hang or panic included).
    pub divergences: u64,
    /// `divergences / runs`, a ratio 0.0-1.0.
    pub rate: f64,
    /// The first divergence: the block seed, the run index (the delay seed is
    /// [`block_seed`]`(block seed, run)`) and the divergence displayed.
    pub first: Option<(u64, u64, String)>,
}

/// What `lockstep stress` runs.
pub struct StressOptions {
    /// One block is generated per workload.
    pub workloads: Vec<Workload>,
    /// The run seed: workload `i`'s block comes from [`block_seed`]`(seed, i)`.
    pub seed: u64,
    /// Candidate worker counts; each gets its own row.
    pub threads: Vec<usize>,
    /// Runs per workload and worker count, each with its own delay seed.
    pub repeats: u64,
    /// Chance of a delay at each hook point (0.0 to 1.0).
    pub probability: f64,
    /// The executor whose output each candidate run is compared with; run once a block.
    pub reference: Arc<dyn Executor>,
    /// The executor stressed; it must call its hook for delays to be injected.
    pub candidate: Arc<dyn Executor>,
    /// Per candidate execution; past it the run is a hang.
    pub timeout: Duration,
}

/// Runs every configuration; a block the reference cannot run is skipped.
pub fn run(opts: &StressOptions) -> Vec<StressRow> {
    let mut rows = Vec::new();
    for (wi, w) in opts.workloads.iter().enumerate() {
        let bseed = block_seed(opts.seed, wi as u64);
        let block = Arc::new(w.generate(bseed).block);
        let Ok(expected) = check::reference_output(opts.reference.as_ref(), &block) else {
            continue;
        };
        for &threads in &opts.threads {
            let mut row = StressRow { workload: w.label(), threads, ..Default::default() };
            for r in 0..opts.repeats {
                if crate::interrupt::requested() {
                    break;
                }
                let hook = Arc::new(DelayHook::new(block_seed(bseed, r), threads, opts.probability));
                let run = RunControl { threads, hook: Some(hook), deadline: None };
                let (result, _) = isolate::run_with_timeout(opts.candidate.clone(), block.clone(), run, opts.timeout);
                row.runs += 1;
                if let Some(d) =
                    check::judge(&expected, result, opts.reference.capabilities().common(opts.candidate.capabilities()))
                {
                    if d.kind() == "hang" {
                        crate::progress::note(format!(
                            "{} hung on {} at {threads} threads, run {r}: {d}",
                            opts.candidate.name(),
                            w.label()
                        ));
                    }
                    row.divergences += 1;
                    row.first.get_or_insert((bseed, r, d.to_string()));
                }
            }
            row.rate = row.divergences as f64 / row.runs.max(1) as f64;
            rows.push(row);
        }
    }
    rows
}

/// The rows as a text table.
pub fn table(rows: &[StressRow]) -> String {
    let mut t = Table::new(["workload", "threads", "runs", "divergences", "rate"]);
    for r in rows {
        t.row([
            r.workload.clone(),
            r.threads.to_string(),
            r.runs.to_string(),
            r.divergences.to_string(),
            format!("{:.4}", r.rate),
        ]);
    }
    t.render()
}

/// The report of a stress run: one case per workload and thread count (diverged when any run
/// did), and each row's divergence rate.
pub fn to_report(rows: &[StressRow], candidate: &str, meta: lockstep_reports::Meta) -> lockstep_reports::Report {
    use lockstep_reports::{CaseResult, Detection, Job, Report, Status, WorkloadRow};
    let reference = meta.executors.first().map(|e| e.name.clone()).unwrap_or_default();
    let mut r = Report::new(Job::Stress, meta);
    for row in rows {
        let id = format!("{}::t{}", row.workload, row.threads);
        let first = row.first.as_ref().map(|(seed, run, d)| format!("block seed {seed} run {run}: {d}"));
        r.cases.push(CaseResult {
            id: id.clone(),
            category: row.workload.clone(),
            fork: "-".into(),
            executor: candidate.to_string(),
            status: if row.divergences > 0 { Status::Diverged } else { Status::Passed },
            message: first.clone(),
            bundle: None,
        });
        if let Some(what) = first {
            r.divergences.push(lockstep_reports::DivergenceRecord {
                case: id,
                reference: reference.clone(),
                candidate: candidate.to_string(),
                threads: Some(row.threads as u64),
                kind: "stress".into(),
                what,
                bundle: None,
                conflicts: None,
            });
        }
        r.workloads.push(WorkloadRow {
            workload: row.workload.clone(),
            threads: row.threads as u64,
            blocks: row.runs,
            txs: 0,
            divergences: row.divergences,
            unsupported: 0,
        });
        r.measured.detections.push(Detection {
            target: format!("{} t{}", row.workload, row.threads),
            seconds: None,
            rate: row.rate,
        });
    }
    r.canonicalize();
    r
}
