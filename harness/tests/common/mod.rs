//! Mock executors the integration tests share.

use alloy_primitives::U256;
use lockstep_executors::{BlockInput, BlockOutput, ExecError, Executor, RunControl, Sequential, TxOutcome};

/// Reports one more gas than it used on every executed transaction, and charges the first
/// sender for it, so that receipts and state both differ from the reference.
pub struct GasOff;

impl Executor for GasOff {
    fn name(&self) -> &str {
        "gas-off"
    }
    fn execute(&self, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError> {
        let mut out = Sequential.execute(block, run)?;
        for o in &mut out.outcomes {
            if let TxOutcome::Executed { gas_used, .. } = o {
                *gas_used += 1;
            }
        }
        if let Some(tx) = block.txs.first() {
            if let Some(a) = out.post_state.get_mut(&tx.sender) {
                a.balance -= U256::from(tx.gas_price);
            }
        }
        Ok(out)
    }
}
