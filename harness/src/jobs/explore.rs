//! `lockstep explore`: a candidate under many controlled schedules per block, each result
//! compared with the reference; a failing schedule is shrunk and written beside its block so
//! that `lockstep explore --replay DIR` reproduces it exactly.

use crate::check;
use crate::repro::{Controlled, Found, write_found};
use crate::schedule::{Strategy, StrategyKind, diverges_under, shrink};
use crate::workload::{Workload, block_seed};
use lockstep_executors::{BlockInput, BlockOutput, Executor};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `lockstep explore` runs.
pub struct ExploreOptions {
    /// Workloads explored in turn (round-robin), `blocks` blocks each.
    pub workloads: Vec<Workload>,
    /// The run seed: block `n` comes from [`block_seed`]`(seed, n)`, its schedule `s` from
    /// `block_seed(block seed, s)`.
    pub seed: u64,
    /// Blocks per workload.
    pub blocks: u64,
    /// Seeded schedules per block.
    pub schedules: u64,
    /// How the seeded schedules pick the next worker.
    pub strategy: StrategyKind,
    /// Candidate workers (only one runs at a time).
    pub threads: usize,
    /// The executor whose output every controlled run is compared with; run freely, once a
    /// block.
    pub reference: Arc<dyn Executor>,
    /// The executor run under controlled schedules; it must call its hook.
    pub candidate: Arc<dyn Executor>,
    /// Steps after which a controlled run counts as a livelock.
    pub step_budget: u64,
    /// Wall-clock limit of one controlled run.
    pub timeout: Duration,
    /// Where bundles go (`DIR/divergences/...`); `None`: not written.
    pub out_dir: Option<PathBuf>,
    /// Shrink each failing schedule before writing it.
    pub shrink: bool,
}

/// What `lockstep explore` found.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExploreReport {
    /// The run seed.
    pub seed: u64,
    /// Blocks explored (those the reference could run).
    pub blocks: u64,
    /// Controlled schedules run, shrinking's replays not counted.
    pub schedules: u64,
    /// One divergence per failing block, with its strategy and (shrunk) schedule.
    pub found: Vec<Found>,
    /// Stopped by SIGINT: the report covers the blocks that ran.
    #[serde(default)]
    pub interrupted: bool,
    /// Bundles that could not be written (the divergence is still in `found`).
    #[serde(default)]
    pub write_errors: Vec<String>,
    /// What depends on timing, kept apart so that everything else is the same, byte for
    /// byte, for the same seed and inputs.
    pub measured: ExploreMeasured,
}

/// The measured part of an [`ExploreReport`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExploreMeasured {
    /// Wall time of the whole job, in seconds.
    pub wall_seconds: f64,
}

impl ExploreReport {
    /// The report of this exploration: one case per workload under `strategy` (diverged when
    /// any of its blocks did under some schedule).
    pub fn to_report(
        &self,
        workloads: &[String],
        strategy: &str,
        meta: lockstep_reports::Meta,
    ) -> lockstep_reports::Report {
        use lockstep_reports::{CaseResult, InputError, Job, Report, Status};
        let mut r = Report::new(Job::Explore, meta);
        let candidate = r.meta.executors.get(1).map(|e| e.name.clone()).unwrap_or_default();
        for w in workloads {
            let id = format!("{w}::{strategy}");
            let found = self.found.iter().find(|f| &f.workload.label() == w);
            r.cases.push(CaseResult {
                id: id.clone(),
                category: w.clone(),
                fork: "-".into(),
                executor: candidate.clone(),
                status: if found.is_some() { Status::Diverged } else { Status::Passed },
                message: found.map(Found::summary),
                bundle: found.and_then(|f| f.bundle.as_ref().map(|p| p.display().to_string())),
            });
        }
        for f in &self.found {
            r.divergences.push(f.record(format!("{}::{strategy}", f.workload.label())));
        }
        for e in &self.write_errors {
            r.errors.push(InputError {
                file: "-".into(),
                test: "-".into(),
                message: e.clone(),
                field: None,
                line: None,
                column: None,
            });
        }
        r.interrupted = self.interrupted;
        r.measured.wall_seconds = self.measured.wall_seconds;
        r.canonicalize();
        r
    }

    /// Schedules run per second of wall time (shrinking included in the time).
    pub fn schedules_per_second(&self) -> f64 {
        self.schedules as f64 / self.measured.wall_seconds.max(1e-9)
    }
}

/// Explores every workload's blocks (block `n` of the run from [`block_seed`]`(seed, n)`), each
/// under up to `schedules` seeded schedules; the first failing schedule of a block is shrunk
/// (unless `shrink` is off) and written as a bundle with its schedule.
pub fn run(opts: &ExploreOptions) -> ExploreReport {
    let start = Instant::now();
    let mut report = ExploreReport { seed: opts.seed, ..Default::default() };
    let mut n = 0u64;
    // Round-robin: every workload's first block, then every workload's second, so that the
    // families late in the list are reached early.
    'blocks: for _ in 0..opts.blocks {
        for w in &opts.workloads {
            if crate::interrupt::requested() {
                report.interrupted = true;
                break 'blocks;
            }
            let bseed = block_seed(opts.seed, n);
            n += 1;
            let Some((generated, block, expected)) = check::generated(w, bseed, opts.reference.as_ref()) else {
                continue;
            };
            report.blocks += 1;
            for s in 0..opts.schedules {
                let strategy = opts.strategy.strategy(block_seed(bseed, s), block.txs.len());
                let (divergence, schedule) = under(opts, &block, &expected, strategy.clone());
                report.schedules += 1;
                let Some(divergence) = divergence else { continue };
                let shrunk = opts.shrink.then(|| {
                    let kind = divergence.kind();
                    let fails = |choices: &[usize]| {
                        let replay = Strategy::Replay { choices: choices.to_vec() };
                        under(opts, &block, &expected, replay).0.is_some_and(|d| d.kind() == kind)
                    };
                    shrink(&schedule, fails, 200).0
                });
                let mut found = Found {
                    workload: w.clone(),
                    block_seed: bseed,
                    block_number: n - 1,
                    reference: opts.reference.name().to_string(),
                    candidate: opts.candidate.name().to_string(),
                    threads: opts.threads,
                    divergence,
                    controlled: Some(Controlled { strategy, schedule, shrunk }),
                    bundle: None,
                };
                if let Some(dir) = &opts.out_dir {
                    let (r, c) = (opts.reference.as_ref(), opts.candidate.as_ref());
                    match write_found(dir, report.found.len(), &found, &generated, r, c, &expected) {
                        Ok(p) => found.bundle = Some(p),
                        Err(e) => report.write_errors.push(e.to_string()),
                    }
                }
                report.found.push(found);
                // One failing schedule per block is enough to report it.
                break;
            }
        }
    }
    report.measured.wall_seconds = start.elapsed().as_secs_f64();
    report
}

fn under(
    opts: &ExploreOptions,
    block: &Arc<BlockInput>,
    expected: &BlockOutput,
    strategy: Strategy,
) -> (Option<crate::check::Divergence>, crate::schedule::Schedule) {
    diverges_under(&opts.candidate, block, expected, opts.threads, strategy, opts.step_budget, opts.timeout)
}
