//! Capture: a controlled schedule for a divergence found on real threads, so that its bundle
//! replays it exactly instead of hoping the race happens again. Where none is found, the
//! bundle says so, with the rate the divergence shows at on real threads.

use super::{Controlled, bundle};
use crate::check::{self, Divergence, isolate};
use crate::defaults::STEP_BUDGET;
use crate::error::Result;
use crate::schedule::{StrategyKind, diverges_under};
use crate::workload::block_seed;
use lockstep_executors::{BlockInput, BlockOutput, Executor, RunControl};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the search for a schedule went, as `case.json` keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureNote {
    /// Whether a controlled schedule reproduced the divergence (the bundle then holds it).
    pub captured: bool,
    /// Controlled schedules tried.
    pub schedules: u64,
    /// Seconds the search took.
    pub seconds: f64,
    /// Of plain real-thread runs of the block at the recorded thread count, how many showed
    /// the divergence's kind: the rate a replay without a schedule can expect.
    pub real_thread_rate: (usize, usize),
}

impl CaptureNote {
    /// What the note means, in a sentence.
    pub fn describe(&self) -> String {
        let (h, n) = self.real_thread_rate;
        if self.captured {
            format!(
                "Found on real threads (it diverged in {h} of {n} real-thread runs) and captured under a controlled schedule after {} tries: a replay follows that schedule.",
                self.schedules
            )
        } else {
            format!(
                "Found on real threads; no high-first, PCT or random schedule of {} tried in {:.1} s reproduced it, so a replay runs real threads (with seeded delays after the first run), where it diverged in {h} of {n} runs.",
                self.schedules, self.seconds
            )
        }
    }
}

/// Searches for a controlled schedule under which `candidate` shows a divergence of the same
/// kind as `found` on `block`: high-first, PCT and random schedules, at 2 and 3 workers, try
/// `k` seeded from `block_seed(k, strategy)`, in turn until one does or `budget` is spent.
/// Each run is limited to `timeout`. Returns the schedule, if any, and the tries made.
pub fn capture(
    candidate: &Arc<dyn Executor>,
    block: &Arc<BlockInput>,
    expected: &BlockOutput,
    found: &Divergence,
    budget: Duration,
    timeout: Duration,
) -> (Option<Controlled>, u64) {
    let start = Instant::now();
    let kind = found.kind();
    let kinds = [StrategyKind::HighFirst, StrategyKind::Pct, StrategyKind::Random];
    let mut tries = 0;
    for k in 0u64.. {
        for (i, strategy_kind) in kinds.iter().enumerate() {
            let left = budget.saturating_sub(start.elapsed());
            if left.is_zero() {
                return (None, tries);
            }
            let strategy = strategy_kind.strategy(block_seed(k, i as u64), block.txs.len());
            let workers = 2 + (k % 2) as usize;
            tries += 1;
            let (d, schedule) =
                diverges_under(candidate, block, expected, workers, strategy.clone(), STEP_BUDGET, left.min(timeout));
            if d.is_some_and(|d| d.kind() == kind) {
                return (Some(Controlled { strategy, schedule, shrunk: None }), tries);
            }
        }
    }
    (None, tries)
}

/// Of up to `runs` plain runs of `block` on `threads` real threads (fewer once `budget` is
/// spent, at least one), how many show a divergence of kind `kind`.
pub fn real_thread_rate(
    reference: &dyn Executor,
    candidate: &Arc<dyn Executor>,
    block: &Arc<BlockInput>,
    expected: &BlockOutput,
    (kind, threads): (&str, usize),
    runs: usize,
    budget: Duration,
    timeout: Duration,
) -> (usize, usize) {
    let start = Instant::now();
    let caps = reference.capabilities().common(candidate.capabilities());
    let (mut hits, mut done) = (0, 0);
    while done < runs && (done == 0 || start.elapsed() < budget) {
        let limit = budget.saturating_sub(start.elapsed()).clamp(Duration::from_millis(50), timeout);
        let run = RunControl::with_threads(threads);
        let (got, _) = isolate::run_with_timeout(candidate.clone(), block.clone(), run, limit);
        hits += usize::from(check::judge(expected, got, caps).is_some_and(|d| d.kind() == kind));
        done += 1;
    }
    (hits, done)
}

/// Captures the bundle in `dir` when it has no schedule: measures its real-thread rate (a
/// third of `budget`), searches for a schedule (the rest), and rewrites the bundle with the
/// schedule found or with a note that says none was. Each run is limited to `timeout`. A
/// bundle that already has a schedule is left as it is (`None`).
///
/// Errors: the bundle's read and write errors; [`crate::Error::Reference`] when the reference
/// cannot run its block.
pub fn capture_bundle(
    dir: &Path,
    reference: &dyn Executor,
    candidate: &Arc<dyn Executor>,
    budget: Duration,
    timeout: Duration,
) -> Result<Option<CaptureNote>> {
    let mut case = bundle::read(dir)?;
    if case.schedule.is_some() {
        return Ok(None);
    }
    let block = Arc::new(case.block.clone());
    let expected = check::reference_output(reference, &block)?;
    let start = Instant::now();
    let rate =
        real_thread_rate(reference, candidate, &block, &expected, (&case.kind, case.threads), 10, budget / 3, timeout);
    let search_start = Instant::now();
    let left = budget.saturating_sub(start.elapsed());
    let (controlled, schedules) = capture(candidate, &block, &expected, &case.divergence, left, timeout);
    let note = CaptureNote {
        captured: controlled.is_some(),
        schedules,
        seconds: search_start.elapsed().as_secs_f64(),
        real_thread_rate: rate,
    };
    if let Some(c) = controlled {
        case.threads = c.schedule.workers;
        case.schedule = Some(c.schedule);
    }
    case.capture = Some(note.clone());
    bundle::write(dir, &case, &expected)?;
    Ok(Some(note))
}
