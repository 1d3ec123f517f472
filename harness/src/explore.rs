//! `lockstep explore`: a candidate under many controlled schedules per block, each result
//! compared with the reference; a failing schedule is shrunk and written beside its block so
//! that `lockstep explore --replay DIR` reproduces it exactly.

use crate::diff::{self, Divergence};
use crate::engine::{block_seed, sanitize};
use crate::guard;
use crate::schedule::{Controller, Schedule, Strategy, shrink};
use crate::workload::Workload;
use lockstep_executors::{BlockInput, BlockOutput, Executor, RunControl};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `block` on `candidate` under one controlled schedule.
pub fn run_controlled(
    candidate: &Arc<dyn Executor>,
    block: &Arc<BlockInput>,
    threads: usize,
    strategy: Strategy,
    step_budget: u64,
    timeout: Duration,
) -> (Result<BlockOutput, Divergence>, Schedule) {
    let controller = Arc::new(Controller::new(threads, strategy, step_budget));
    let run = RunControl { threads, hook: Some(controller.clone()), deadline: None };
    let (result, _) = guard::run_with_timeout(candidate.clone(), block.clone(), run, timeout);
    let result = match result {
        Err(Divergence::Panic { message }) if message.contains("step budget") => {
            Err(Divergence::Hang { after_ms: timeout.as_millis() as u64 })
        }
        other => other,
    };
    (result, controller.schedule())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StrategyKind {
    Random,
    Pct,
}

pub struct ExploreOptions {
    pub workloads: Vec<Workload>,
    pub seed: u64,
    /// Blocks per workload.
    pub blocks: u64,
    pub schedules: u64,
    pub strategy: StrategyKind,
    pub threads: usize,
    pub reference: Arc<dyn Executor>,
    pub candidate: Arc<dyn Executor>,
    pub step_budget: u64,
    pub timeout: Duration,
    pub out_dir: Option<PathBuf>,
    pub shrink: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExploreFound {
    pub workload: Workload,
    pub block_seed: u64,
    pub threads: usize,
    pub candidate: String,
    pub strategy: Strategy,
    pub schedule: Schedule,
    /// The shrunk choices (replayed with `Strategy::Replay`), when shrinking ran.
    pub shrunk: Option<Vec<usize>>,
    pub divergence: Divergence,
    pub bundle: Option<PathBuf>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExploreReport {
    pub seed: u64,
    pub blocks: u64,
    pub schedules: u64,
    pub found: Vec<ExploreFound>,
    pub wall_seconds: f64,
}

impl ExploreReport {
    pub fn schedules_per_second(&self) -> f64 {
        self.schedules as f64 / self.wall_seconds.max(1e-9)
    }
}

fn strategy(kind: StrategyKind, seed: u64, txs: usize) -> Strategy {
    match kind {
        StrategyKind::Random => Strategy::Random { seed },
        StrategyKind::Pct => Strategy::Pct { seed, depth: 3, expected_steps: 20 * txs as u64 + 10 },
    }
}

pub fn explore(opts: &ExploreOptions) -> ExploreReport {
    let start = Instant::now();
    let mut report = ExploreReport { seed: opts.seed, ..Default::default() };
    let mut n = 0u64;
    for w in &opts.workloads {
        for _ in 0..opts.blocks {
            let bseed = block_seed(opts.seed, n);
            n += 1;
            let block = Arc::new(w.generate(bseed).block);
            let Ok(expected) = guard::run_caught(opts.reference.as_ref(), &block, &RunControl::with_threads(1)) else {
                continue;
            };
            report.blocks += 1;
            for s in 0..opts.schedules {
                let strat = strategy(opts.strategy, block_seed(bseed, s), block.txs.len());
                let (result, schedule) = run_controlled(
                    &opts.candidate,
                    &block,
                    opts.threads,
                    strat.clone(),
                    opts.step_budget,
                    opts.timeout,
                );
                report.schedules += 1;
                let divergence = match result {
                    Ok(out) => diff::compare(&expected, &out),
                    Err(d) => Some(d),
                };
                let Some(divergence) = divergence else { continue };
                let shrunk = opts.shrink.then(|| {
                    let kind = divergence.kind();
                    let fails = |choices: &[usize]| {
                        let (r, _) = run_controlled(
                            &opts.candidate,
                            &block,
                            opts.threads,
                            Strategy::Replay { choices: choices.to_vec() },
                            opts.step_budget,
                            opts.timeout,
                        );
                        let d = match r {
                            Ok(out) => diff::compare(&expected, &out),
                            Err(d) => Some(d),
                        };
                        d.is_some_and(|d| d.kind() == kind)
                    };
                    shrink(&schedule, fails, 200).0
                });
                let mut found = ExploreFound {
                    workload: w.clone(),
                    block_seed: bseed,
                    threads: opts.threads,
                    candidate: opts.candidate.name().to_string(),
                    strategy: strat,
                    schedule,
                    shrunk,
                    divergence,
                    bundle: None,
                };
                if let Some(dir) = &opts.out_dir {
                    found.bundle = write_found(
                        dir,
                        report.found.len(),
                        &found,
                        &block,
                        opts.reference.as_ref(),
                        opts.candidate.as_ref(),
                        &expected,
                    )
                    .ok();
                }
                report.found.push(found);
                // One failing schedule per block is enough to report it.
                break;
            }
        }
    }
    report.wall_seconds = start.elapsed().as_secs_f64();
    report
}

fn write_found(
    dir: &Path,
    k: usize,
    f: &ExploreFound,
    block: &BlockInput,
    reference: &dyn Executor,
    candidate: &dyn Executor,
    expected: &BlockOutput,
) -> std::io::Result<PathBuf> {
    let d = dir.join(sanitize(&format!("{k:03}-{}-{}-{}", f.workload.family, f.candidate, f.divergence.kind())));
    let choices = f.shrunk.clone().unwrap_or_else(|| f.schedule.choices.clone());
    let mut case = crate::bundle::Case::new(block.clone(), reference, candidate, f.threads, f.divergence.clone());
    case.seed = Some(f.block_seed);
    case.schedule = Some(Schedule { workers: f.threads, choices, trace: Vec::new() });
    crate::bundle::write(&d, &case, expected)
}

/// Replays a bundle's block under its recorded schedule (plain runs when it has none).
pub fn replay_bundle(
    dir: &Path,
    candidate: &Arc<dyn Executor>,
    reference: &dyn Executor,
    step_budget: u64,
    timeout: Duration,
) -> Result<(Option<Divergence>, Schedule), String> {
    let case = crate::bundle::read(dir)?;
    let expected =
        guard::run_caught(reference, &case.block, &RunControl::with_threads(1)).map_err(|d| d.to_string())?;
    let block = Arc::new(case.block);
    let (result, trace) = match case.schedule {
        Some(s) => run_controlled(
            candidate,
            &block,
            s.workers.max(1),
            Strategy::Replay { choices: s.choices },
            step_budget,
            timeout,
        ),
        None => {
            let (r, _) = guard::run_with_timeout(
                candidate.clone(),
                block.clone(),
                RunControl::with_threads(case.threads),
                timeout,
            );
            (r, Schedule::default())
        }
    };
    let d = match result {
        Ok(out) => diff::compare(&expected, &out),
        Err(d) => Some(d),
    };
    Ok((d, trace))
}
