//! Replaying a bundle: its block on the reference and a candidate, under the recorded
//! schedule when the bundle has one, real threads otherwise (seeded delays after the first
//! run).

use super::bundle;
use crate::check::{self, Divergence, isolate};
use crate::error::Result;
use crate::schedule::{self, DelayHook, Schedule, Strategy};
use lockstep_executors::hook::ScheduleHook;
use lockstep_executors::{BlockInput, Executor, RunControl};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// One replay's result: the divergence, if it showed, and the schedule as it happened (empty
/// for a plain run).
pub struct Replayed {
    /// How the candidate differed from the reference this time; `None` when they agreed.
    pub divergence: Option<Divergence>,
    /// The controlled schedule as it happened (choices and trace); empty for a plain run.
    pub schedule: Schedule,
}

/// Replays the bundle in `dir` once on `candidate` (threads as recorded) against `reference`.
///
/// Errors: the bundle's read errors; [`crate::Error::Reference`] when the reference cannot run
/// its block.
pub fn replay_bundle(
    dir: &Path,
    candidate: &Arc<dyn Executor>,
    reference: &dyn Executor,
    step_budget: u64,
    timeout: Duration,
) -> Result<Replayed> {
    let case = bundle::read(dir)?;
    replay_block(Arc::new(case.block), case.schedule, (case.threads, 0), candidate, reference, step_budget, timeout)
}

/// Chance of a delay at each hook point in the runs after the first of a replay without a
/// schedule: as `lockstep stress` perturbs real threads.
const REPLAY_DELAY_PROBABILITY: f64 = 0.05;

/// Replays `block` once, as run `run` of a repeated replay: under `schedule` when given (every
/// run the same), else on `threads` real threads, plain in run 0 and with delays seeded by the
/// run number after it, so that repeated runs try other interleavings.
pub fn replay_block(
    block: Arc<BlockInput>,
    schedule: Option<Schedule>,
    (threads, run): (usize, u64),
    candidate: &Arc<dyn Executor>,
    reference: &dyn Executor,
    step_budget: u64,
    timeout: Duration,
) -> Result<Replayed> {
    let expected = check::reference_output(reference, &block)?;
    Ok(match schedule {
        Some(s) => {
            let strategy = Strategy::Replay { choices: s.choices };
            let (divergence, schedule) = schedule::diverges_under(
                candidate,
                &block,
                &expected,
                s.workers.max(1),
                strategy,
                step_budget,
                timeout,
            );
            Replayed { divergence, schedule }
        }
        None => {
            let threads = threads.max(1);
            let hook = (run > 0)
                .then(|| Arc::new(DelayHook::new(run, threads, REPLAY_DELAY_PROBABILITY)) as Arc<dyn ScheduleHook>);
            let control = RunControl { threads, hook, deadline: None };
            let (result, _) = isolate::run_with_timeout(candidate.clone(), block, control, timeout);
            Replayed {
                divergence: check::judge(&expected, result, reference.capabilities().common(candidate.capabilities())),
                schedule: Schedule::default(),
            }
        }
    })
}
