//! Stress mode reports rates, never retries to green.

use lockstep_executors::{BlockInput, BlockOutput, BlockStm, ExecError, Executor, RunControl, Sequential};
use lockstep_harness::jobs::stress::{StressOptions, run as stress};
use lockstep_harness::workload::{Family, Workload};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Wrong on every other run: the rate must say one half.
struct Flaky(AtomicU64);

impl Executor for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    fn execute(&self, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError> {
        let mut out = Sequential.execute(block, run)?;
        if self.0.fetch_add(1, Ordering::Relaxed) % 2 == 1 {
            out.outcomes.pop();
        }
        Ok(out)
    }
}

fn opts(candidate: Arc<dyn Executor>) -> StressOptions {
    StressOptions {
        workloads: vec![Workload::new(Family::HotKey, 16), Workload::new(Family::Branchy, 16)],
        seed: 3,
        threads: vec![1, 4],
        repeats: 10,
        probability: 0.2,
        reference: Arc::new(Sequential),
        candidate,
        timeout: Duration::from_secs(20),
    }
}

#[test]
fn block_stm_under_injected_delays_agrees() {
    let rows = stress(&opts(Arc::new(BlockStm::default())));
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.runs == 10 && r.divergences == 0), "{rows:?}");
}

#[test]
fn the_rate_counts_every_failure() {
    let rows = stress(&opts(Arc::new(Flaky(AtomicU64::new(0)))));
    assert!(rows.iter().all(|r| r.divergences == 5 && (r.rate - 0.5).abs() < 1e-9), "{rows:?}");
    assert!(rows[0].first.is_some());
}
