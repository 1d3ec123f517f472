//! Reading a t8n tool's answer (`result` and post-`alloc`) back as a [`BlockOutput`].
//!
//! t8n receipts carry less than lockstep's outcomes: no return data, no created address, no
//! per-transaction gas (derived from `cumulativeGasUsed`), and, from Byzantium on, only
//! success or failure. Before Byzantium a receipt has a post-state root instead of a status;
//! every failure then is an exceptional halt that consumes all of the transaction's gas
//! (REVERT came with Byzantium), so a transaction that used its whole gas limit reads as a
//! halt, unless that limit was its intrinsic gas (a plain transfer). A call that succeeds
//! using exactly all its gas reads as a halt there: a known blind spot before Byzantium. Rejections come as `rejected[{index, error}]`, merged by index; the error text maps
//! to a kind through the tool's [`Preset`].

use crate::format::{Alloc, state_of};
use crate::tool::Preset;
use alloy_primitives::{Address, B256, Bytes, Log, LogData, U64};
use lockstep_executors::{BlockInput, BlockOutput, ExecStats, Fork, TxOutcome, TxStatus};
use serde::Deserialize;

/// The `result` object of a t8n tool.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct T8nResult {
    /// The post-state's root, as the tool computed it.
    pub state_root: B256,
    /// The receipts trie's root.
    #[serde(default)]
    pub receipts_root: Option<B256>,
    /// Total gas used by the block.
    #[serde(default)]
    pub gas_used: Option<U64>,
    /// Receipts of the included transactions, in order.
    #[serde(default)]
    pub receipts: Option<Vec<Receipt>>,
    /// The transactions the tool did not include.
    #[serde(default)]
    pub rejected: Option<Vec<Rejected>>,
    /// A block-level failure the tool reports (the execution spec: a Prague system contract
    /// without code). An invalid block for a block with rules; ignored for one without,
    /// whose system calls lockstep does not ask for.
    #[serde(default)]
    pub block_exception: Option<String>,
    /// The EIP-7685 requests, each its type byte and data, those with data only (Prague on).
    #[serde(default)]
    pub requests: Option<Vec<Bytes>>,
}

/// One receipt of `result.receipts`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// The execution spec's status, from Byzantium on.
    #[serde(default)]
    pub succeeded: Option<bool>,
    /// go-ethereum's and most clients' status (`0x1` success), from Byzantium on.
    #[serde(default)]
    pub status: Option<U64>,
    /// Gas used by this and every earlier included transaction.
    pub cumulative_gas_used: U64,
    /// The receipt's logs; `null` for none.
    #[serde(default)]
    pub logs: Option<Vec<T8nLog>>,
}

/// One log of a receipt.
#[derive(Clone, Debug, Deserialize)]
pub struct T8nLog {
    /// The contract that emitted it.
    pub address: Address,
    /// Its topics.
    #[serde(default)]
    pub topics: Vec<B256>,
    /// Its data.
    #[serde(default)]
    pub data: Bytes,
}

/// One entry of `result.rejected`.
#[derive(Clone, Debug, Deserialize)]
pub struct Rejected {
    /// The transaction's index in the input.
    pub index: usize,
    /// The tool's reason, as text.
    pub error: String,
}

/// Why a tool's answer cannot be read as an output for the block it was given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutputError {
    /// More or fewer receipts than transactions not rejected.
    #[error("{receipts} receipts and {rejected} rejections for {txs} transactions")]
    WrongTxCount {
        /// Receipts in the answer.
        receipts: usize,
        /// Rejections in the answer.
        rejected: usize,
        /// Transactions in the block.
        txs: usize,
    },
    /// A rejection names a transaction that is not in the block, or one twice.
    #[error("rejection of transaction {0}, which the block does not have or which is rejected twice")]
    BadRejection(usize),
    /// Cumulative gas goes down from one receipt to the next.
    #[error("cumulative gas falls at receipt {0}")]
    GasFalls(usize),
    /// The tool found a block with rules invalid (`blockException`).
    #[error("the tool finds the block invalid: {0}")]
    InvalidBlock(String),
    /// The reported state root is not the root of the reported post-state.
    #[error("the reported state root {reported} is not the root {computed} of the reported post-state")]
    StateRoot {
        /// The tool's `stateRoot`.
        reported: B256,
        /// The root of the tool's `alloc`.
        computed: B256,
    },
}

/// A transaction's intrinsic gas before Byzantium (Yellow Paper `g0`): 21,000, 32,000 more for
/// a creation from Homestead on, 4 a zero byte of data and 68 a non-zero one. A transaction
/// that used exactly this much ran no code that could fail.
fn intrinsic_gas(tx: &lockstep_executors::Tx, fork: Fork) -> u64 {
    let zeros = tx.input.iter().filter(|b| **b == 0).count() as u64;
    let data = zeros * 4 + (tx.input.len() as u64 - zeros) * 68;
    let create = if tx.to.is_none() && fork.at_least(Fork::Homestead) { 32_000 } else { 0 };
    21_000 + create + data
}

/// `result` and `alloc` as the output for `block`, outcome by outcome.
pub fn block_output(
    preset: Preset,
    block: &BlockInput,
    result: &T8nResult,
    alloc: &Alloc,
) -> Result<BlockOutput, OutputError> {
    if let (Some(_), Some(exception)) = (&block.rules, &result.block_exception) {
        return Err(OutputError::InvalidBlock(exception.clone()));
    }
    let n = block.txs.len();
    let receipts = result.receipts.as_deref().unwrap_or_default();
    let rejected = result.rejected.as_deref().unwrap_or_default();
    let mut rejections: Vec<Option<&str>> = vec![None; n];
    for r in rejected {
        match rejections.get_mut(r.index) {
            Some(slot @ None) => *slot = Some(&r.error),
            _ => return Err(OutputError::BadRejection(r.index)),
        }
    }
    if receipts.len() + rejected.len() != n {
        return Err(OutputError::WrongTxCount { receipts: receipts.len(), rejected: rejected.len(), txs: n });
    }
    let byzantium = block.fork.at_least(Fork::Byzantium);
    let mut receipts = receipts.iter().enumerate();
    let mut cumulative = 0u64;
    let mut outcomes = Vec::with_capacity(n);
    for (i, tx) in block.txs.iter().enumerate() {
        if let Some(error) = rejections[i] {
            outcomes.push(TxOutcome::Rejected { kind: preset.reject_kind(error) });
            continue;
        }
        let (k, receipt) = receipts.next().expect("counted above");
        let total = receipt.cumulative_gas_used.to::<u64>();
        let gas_used = total.checked_sub(cumulative).ok_or(OutputError::GasFalls(k))?;
        cumulative = total;
        let succeeded = match (receipt.succeeded, receipt.status) {
            (Some(ok), _) => ok,
            (None, Some(status)) => status == U64::from(1),
            (None, None) => !byzantium && (gas_used < tx.gas_limit || gas_used == intrinsic_gas(tx, block.fork)),
        };
        let logs = receipt
            .logs
            .iter()
            .flatten()
            .map(|l| Log { address: l.address, data: LogData::new_unchecked(l.topics.clone(), l.data.clone()) })
            .collect();
        outcomes.push(TxOutcome::Executed {
            status: if succeeded { TxStatus::Success } else { TxStatus::Halt },
            gas_used,
            logs,
            output: Bytes::new(),
            created_address: None,
        });
    }
    let output = BlockOutput {
        outcomes,
        post_state: state_of(alloc),
        stats: ExecStats { threads: 1, ..Default::default() },
        requests: if block.rules.is_some() { result.requests.clone().unwrap_or_default() } else { Vec::new() },
    };
    let computed = output.state_root();
    if computed != result.state_root {
        return Err(OutputError::StateRoot { reported: result.state_root, computed });
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_executors::{BlockRules, State};

    fn result(json: serde_json::Value) -> T8nResult {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_block_exception_invalidates_a_whole_block_only_and_requests_are_read() {
        let empty_root =
            BlockOutput { outcomes: vec![], post_state: State::new(), stats: Default::default(), requests: vec![] }
                .state_root();
        let answer = result(serde_json::json!({
            "stateRoot": empty_root,
            "requests": ["0x01aa"],
            "blockException": "system contract empty",
        }));
        let mut block = BlockInput {
            fork: Fork::Prague,
            chain_id: 1,
            env: Default::default(),
            pre_state: State::new(),
            txs: vec![],
            rules: None,
        };
        let plain = block_output(Preset::Eels, &block, &answer, &Alloc::new()).unwrap();
        assert!(plain.requests.is_empty());
        block.rules = Some(BlockRules::default());
        let invalid = block_output(Preset::Eels, &block, &answer, &Alloc::new()).unwrap_err();
        assert_eq!(invalid, OutputError::InvalidBlock("system contract empty".into()));
        let answer = result(serde_json::json!({ "stateRoot": empty_root, "requests": ["0x01aa"] }));
        let whole = block_output(Preset::Eels, &block, &answer, &Alloc::new()).unwrap();
        assert_eq!(whole.requests, vec![Bytes::from_static(&[1, 0xaa])]);
    }
}
