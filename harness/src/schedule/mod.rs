//! Interleavings under lockstep's control: [`Controller`] runs one worker of a parallel
//! executor at a time and picks who continues at every semantic point (the executor's
//! [`ScheduleHook`](lockstep_executors::hook::ScheduleHook) calls); [`DelayHook`] instead
//! perturbs real threads with seeded delays; [`shrink`] reduces a failing schedule.

mod controller;
mod delay;
mod shrink;

pub use controller::{Controller, Schedule, Step, Strategy};
pub use delay::DelayHook;
pub use shrink::shrink;

use crate::check::{self, Divergence, isolate};
use lockstep_executors::{BlockInput, BlockOutput, Executor, RunControl};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// How seeded schedules choose the next worker, as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StrategyKind {
    /// Uniformly among the waiting workers.
    Random,
    /// PCT priorities (Burckhardt et al., ASPLOS 2010), depth 3.
    Pct,
    /// The worker on the highest transaction first ([`Strategy::HighFirst`]).
    #[value(name = "high-first")]
    #[serde(rename = "high-first")]
    HighFirst,
}

impl StrategyKind {
    /// The seeded strategy of this kind for a block of `txs` transactions (PCT spreads its
    /// change points over about 20 steps a transaction).
    pub fn strategy(self, seed: u64, txs: usize) -> Strategy {
        match self {
            StrategyKind::Random => Strategy::Random { seed },
            StrategyKind::HighFirst => Strategy::HighFirst { seed },
            StrategyKind::Pct => {
                Strategy::Pct { seed, depth: crate::defaults::PCT_DEPTH, expected_steps: 20 * txs as u64 + 10 }
            }
        }
    }
}

/// Runs `block` on `candidate` with `workers` workers under one controlled schedule, on a
/// helper thread with `timeout`. A run past `step_budget` steps (a livelock) is reported as a
/// [`Divergence::Hang`]. Returns the result and the schedule as it happened.
pub fn run_controlled(
    candidate: &Arc<dyn Executor>,
    block: &Arc<BlockInput>,
    workers: usize,
    strategy: Strategy,
    step_budget: u64,
    timeout: Duration,
) -> (Result<BlockOutput, Divergence>, Schedule) {
    let controller = Arc::new(Controller::new(workers, strategy, step_budget));
    let run = RunControl { threads: workers, hook: Some(controller.clone()), deadline: None };
    let (result, _) = isolate::run_with_timeout(candidate.clone(), block.clone(), run, timeout);
    let result = match result {
        Err(Divergence::Panic { message }) if message.contains("step budget") => {
            Err(Divergence::Hang { after_ms: timeout.as_millis() as u64 })
        }
        other => other,
    };
    (result, controller.schedule())
}

/// [`run_controlled`], judged against the reference's `expected` output: the divergence it
/// shows, if any, and the schedule as it happened.
pub fn diverges_under(
    candidate: &Arc<dyn Executor>,
    block: &Arc<BlockInput>,
    expected: &BlockOutput,
    workers: usize,
    strategy: Strategy,
    step_budget: u64,
    timeout: Duration,
) -> (Option<Divergence>, Schedule) {
    let (result, schedule) = run_controlled(candidate, block, workers, strategy, step_budget, timeout);
    // Controlled schedules need the hook, so the candidate is one that reports everything
    // the bundled reference does; its own capabilities still bound the comparison.
    (check::judge(expected, result, candidate.capabilities()), schedule)
}
