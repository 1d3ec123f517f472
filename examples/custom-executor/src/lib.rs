//! A third-party executor plugged into lockstep: its executors, which `main.rs` makes a
//! `lockstep` binary of its own and `fuzz/` a fuzz campaign of its own.
//!
//! `NaiveParallel` runs every transaction on its own against the pre-state, in parallel, and
//! merges the results last-writer-wins, with no conflict detection: right for independent
//! transactions, wrong as soon as two touch the same account. `NoReturnData` is a correct
//! executor whose outcomes carry no return data and no created address, as many do; it says
//! so in its [`Capabilities`], so those fields are never a divergence.
//!
//! `main` is lockstep's whole command line with both linked in: `cargo run -p custom-executor
//! -- run -e naive-parallel --blocks 60` finds NaiveParallel's bugs, and every bundle it
//! writes replays with `custom-executor replay DIR`. `fuzz/` is a cargo-fuzz package whose
//! target is three lines around lockstep's `differential` body with `NaiveParallel` in it.

use lockstep_executors::{
    BlockInput, BlockOutput, Capabilities, ExecError, ExecStats, Executor, RunControl, Sequential, TxOutcome,
};

/// Every transaction alone on the pre-state, merged last-writer-wins.
pub struct NaiveParallel;

impl Executor for NaiveParallel {
    fn name(&self) -> &str {
        "naive-parallel"
    }

    fn version(&self) -> String {
        "0.1.0".into()
    }

    fn execute(&self, block: &BlockInput, _run: &RunControl) -> Result<BlockOutput, ExecError> {
        // A block rule it does not implement is said, so that lockstep reports it apart
        // instead of counting a divergence.
        if block.rules.is_some() {
            return Err(ExecError::Unsupported("block rules (system calls, rewards, withdrawals)".into()));
        }
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
            requests: Vec::new(),
        })
    }
}

/// A correct executor that reports no return data and no created address.
pub struct NoReturnData;

impl Executor for NoReturnData {
    fn name(&self) -> &str {
        "no-return-data"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { return_data: false, created_address: false, ..Capabilities::FULL }
    }

    fn execute(&self, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError> {
        let mut out = Sequential.execute(block, run)?;
        for o in &mut out.outcomes {
            if let TxOutcome::Executed { output, created_address, .. } = o {
                *output = Default::default();
                *created_address = None;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_harness::jobs::run::{Budget, RunOptions};
    use lockstep_harness::workload::{Family, Workload};
    use std::sync::Arc;
    use std::time::Duration;

    fn divergences(w: Workload, candidate: Arc<dyn Executor>) -> usize {
        lockstep_harness::jobs::run::run(&RunOptions {
            workloads: vec![w],
            seed: 3,
            budget: Budget { blocks: Some(4), duration: None },
            threads: vec![2],
            reference: Arc::new(Sequential),
            candidates: vec![candidate],
            spec: None,
            valid_only: false,
            timeout: Duration::from_secs(10),
            out_dir: None,
            progress: false,
        })
        .found
        .len()
    }

    #[test]
    fn lockstep_catches_the_naive_executor_on_conflicts_only() {
        assert_eq!(divergences(Workload::new(Family::HotKey, 6), Arc::new(NaiveParallel)), 4);
        assert!(divergences(Workload::new(Family::RawTransfers, 6).with_hot_ratio(1.0), Arc::new(NaiveParallel)) > 0);
    }

    #[test]
    fn an_executor_without_return_data_gives_no_false_divergence() {
        // AMM swaps and ERC-20 transfers return data; creations deploy contracts.
        for family in [Family::Amm, Family::Erc20, Family::NonceFactory, Family::Phoenix] {
            assert_eq!(
                divergences(Workload::new(family, 8).with_hot_ratio(0.5), Arc::new(NoReturnData)),
                0,
                "{family}"
            );
        }
    }
}
