//! A third-party executor plugged into lockstep.
//!
//! `NaiveParallel` runs every transaction on its own against the pre-state, in parallel, and
//! merges the results last-writer-wins, with no conflict detection: right for independent
//! transactions, wrong as soon as two touch the same account. This program runs lockstep's
//! main job on it (`cargo run -p custom-executor`) and prints what lockstep finds.

use lockstep_executors::{BlockInput, BlockOutput, ExecError, ExecStats, Executor, RunControl, Sequential};
use lockstep_harness::jobs::{
    self,
    run::{Budget, RunOptions},
};
use std::sync::Arc;
use std::time::Duration;

struct NaiveParallel;

impl Executor for NaiveParallel {
    fn name(&self) -> &str {
        "naive-parallel"
    }

    fn version(&self) -> String {
        "0.1.0".into()
    }

    fn execute(&self, block: &BlockInput, _run: &RunControl) -> Result<BlockOutput, ExecError> {
        let results: Vec<Result<BlockOutput, ExecError>> = std::thread::scope(|s| {
            let handles: Vec<_> = block
                .txs
                .iter()
                .map(|tx| {
                    s.spawn(move || {
                        let alone = BlockInput { txs: vec![tx.clone()], ..block.clone() };
                        Sequential.execute(&alone, &RunControl::default())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(ExecError::Internal("panic".into())))).collect()
        });
        let mut post_state = block.pre_state.clone();
        let mut outcomes = Vec::new();
        for r in results {
            let out = r?;
            outcomes.extend(out.outcomes);
            for (addr, acc) in out.post_state {
                if block.pre_state.get(&addr) != Some(&acc) {
                    post_state.insert(addr, acc);
                }
            }
        }
        let n = outcomes.len() as u64;
        Ok(BlockOutput {
            outcomes,
            post_state,
            stats: ExecStats { threads: block.txs.len(), executions: n, aborts: 0, validations: 0, parallel: true },
        })
    }
}

fn main() {
    let blocks = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(60);
    let report = jobs::run::run(&RunOptions {
        workloads: jobs::run::mix(&[], 8),
        seed: 7,
        budget: Budget { blocks: Some(blocks), duration: None },
        threads: vec![2],
        reference: Arc::new(Sequential),
        candidates: vec![Arc::new(NaiveParallel)],
        timeout: Duration::from_secs(10),
        out_dir: None,
        progress: false,
    });
    print!("{}", report.table());
    for f in report.found.iter().take(3) {
        println!("{} on {} (seed {}): {}", f.candidate, f.workload.label(), f.block_seed, f.divergence);
    }
    println!("{} blocks, {} divergences", report.blocks, report.found.len());
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_harness::workload::{Family, Workload};

    fn divergences(w: Workload) -> usize {
        jobs::run::run(&RunOptions {
            workloads: vec![w],
            seed: 3,
            budget: Budget { blocks: Some(4), duration: None },
            threads: vec![2],
            reference: Arc::new(Sequential),
            candidates: vec![Arc::new(NaiveParallel)],
            timeout: Duration::from_secs(10),
            out_dir: None,
            progress: false,
        })
        .found
        .len()
    }

    #[test]
    fn lockstep_catches_the_naive_executor_on_conflicts_only() {
        // Independent ERC-20 transfers (cold coinbase fees aside) and a hot counter.
        assert_eq!(divergences(Workload::new(Family::HotKey, 6)), 4);
        assert!(divergences(Workload::new(Family::RawTransfers, 6).with_hot_ratio(1.0)) > 0);
    }
}
