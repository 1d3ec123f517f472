//! What an executor returns for a block: an outcome per transaction, the post-state, stats.

use super::State;
use alloy_primitives::{Address, B256, Bytes, Log};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How an executed transaction ended (the receipt status, with halts told apart from reverts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TxStatus {
    Success,
    /// REVERT: remaining gas returned.
    Revert,
    /// Exceptional halt (out of gas, invalid opcode, stack error...): all gas consumed.
    Halt,
}

/// Why a transaction was not included. An invalid transaction changes no state; the block
/// goes on without it, as `evm t8n` does.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RejectKind {
    NonceTooLow,
    NonceTooHigh,
    NonceOverflow,
    /// Balance below gas limit x max fee (+ blob fee) + value.
    InsufficientFunds,
    /// Gas limit below the intrinsic gas or the EIP-7623 calldata floor.
    IntrinsicGas,
    GasLimitAboveBlock,
    /// Above the EIP-7825 per-transaction cap.
    GasLimitAboveCap,
    FeeCapBelowBaseFee,
    PriorityFeeAboveFeeCap,
    /// EIP-3607: the sender has code that is not a delegation.
    SenderHasCode,
    InitCodeTooLarge,
    ChainIdMismatch,
    /// The transaction type is not enabled at this fork.
    TypeNotSupported,
    /// EIP-4844 rules (no blobs, too many, bad version, blob fee too low, create).
    Blob,
    /// EIP-7702 rules (empty authorization list, create).
    Authorization,
    /// Fee arithmetic overflows.
    Overflow,
    Other(String),
}

impl fmt::Display for RejectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectKind::Other(s) => write!(f, "Other({s})"),
            other => fmt::Debug::fmt(other, f),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TxOutcome {
    Executed {
        status: TxStatus,
        /// Gas charged to the sender, as the receipt counts it (after refunds and the
        /// EIP-7623 floor).
        gas_used: u64,
        logs: Vec<Log>,
        output: Bytes,
        created_address: Option<Address>,
    },
    Rejected {
        kind: RejectKind,
    },
}

impl TxOutcome {
    pub fn gas_used(&self) -> u64 {
        match self {
            TxOutcome::Executed { gas_used, .. } => *gas_used,
            TxOutcome::Rejected { .. } => 0,
        }
    }

    pub fn logs(&self) -> &[Log] {
        match self {
            TxOutcome::Executed { logs, .. } => logs,
            TxOutcome::Rejected { .. } => &[],
        }
    }
}

/// What an executor did to produce its output. Compared never; reported always.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecStats {
    pub threads: usize,
    /// Transaction executions, first incarnations and re-executions together.
    pub executions: u64,
    /// Incarnations aborted (failed validation or hit an ESTIMATE).
    pub aborts: u64,
    pub validations: u64,
    /// False when the block ran on one thread, whatever the executor is.
    pub parallel: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockOutput {
    /// One per input transaction, in order.
    pub outcomes: Vec<TxOutcome>,
    pub post_state: State,
    pub stats: ExecStats,
}

impl BlockOutput {
    pub fn cumulative_gas(&self) -> impl Iterator<Item = u64> + '_ {
        self.outcomes.iter().scan(0u64, |acc, o| {
            *acc += o.gas_used();
            Some(*acc)
        })
    }

    pub fn state_root(&self) -> B256 {
        crate::trie::state_root(&self.post_state)
    }
}
