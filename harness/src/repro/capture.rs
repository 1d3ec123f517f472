//! Capture: a controlled schedule for a divergence found on real threads, so that its bundle
//! replays it exactly instead of hoping the race happens again.

use super::Controlled;
use crate::check::Divergence;
use crate::defaults::STEP_BUDGET;
use crate::schedule::{StrategyKind, diverges_under};
use crate::workload::block_seed;
use lockstep_executors::{BlockInput, BlockOutput, Executor};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Searches for a controlled schedule under which `candidate` shows a divergence of the same
/// kind as `found` on `block`: high-first, PCT and random schedules, at 2 and 3 workers, try
/// `k` seeded from `block_seed(0, k)`, in turn until one does or `budget` is spent. Each run
/// is limited to `timeout`. `None`: no schedule within the budget (the executor may not report
/// its hook events, or the race needs more than the controller explores).
pub fn capture(
    candidate: &Arc<dyn Executor>,
    block: &Arc<BlockInput>,
    expected: &BlockOutput,
    found: &Divergence,
    budget: Duration,
    timeout: Duration,
) -> Option<Controlled> {
    let start = Instant::now();
    let kind = found.kind();
    let kinds = [StrategyKind::HighFirst, StrategyKind::Pct, StrategyKind::Random];
    for k in 0u64.. {
        for (i, strategy_kind) in kinds.iter().enumerate() {
            if start.elapsed() >= budget {
                return None;
            }
            let strategy = strategy_kind.strategy(block_seed(k, i as u64), block.txs.len());
            let workers = 2 + (k % 2) as usize;
            let left = budget.saturating_sub(start.elapsed()).min(timeout).max(Duration::from_millis(1));
            let (d, schedule) =
                diverges_under(candidate, block, expected, workers, strategy.clone(), STEP_BUDGET, left);
            if d.is_some_and(|d| d.kind() == kind) {
                return Some(Controlled { strategy, schedule, shrunk: None });
            }
        }
    }
    None
}
