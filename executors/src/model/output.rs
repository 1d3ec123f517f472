//! What an executor returns for a block: an outcome per transaction, the post-state, stats.

use super::State;
use super::{BlockInput, Fork, TxType};
use alloy_primitives::{Address, B256, Bloom, Bytes, Log};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How an executed transaction ended (the receipt status, with halts told apart from reverts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TxStatus {
    /// Ended without REVERT or an exceptional halt (STOP, RETURN, SELFDESTRUCT, the end of the
    /// code, a plain transfer): receipt status 1 (EIP-658).
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
    /// The transaction's nonce is below the sender's.
    NonceTooLow,
    /// The transaction's nonce is above the sender's.
    NonceTooHigh,
    /// The transaction's nonce is 2^64 - 1: sending it would overflow the sender's nonce
    /// (EIP-2681).
    NonceOverflow,
    /// Balance below gas limit x max fee (+ blob fee) + value.
    InsufficientFunds,
    /// Gas limit below the intrinsic gas or the EIP-7623 calldata floor.
    IntrinsicGas,
    /// Gas limit above the block's gas limit.
    GasLimitAboveBlock,
    /// Above the EIP-7825 per-transaction cap.
    GasLimitAboveCap,
    /// The gas price or max fee per gas is below the block's base fee (EIP-1559).
    FeeCapBelowBaseFee,
    /// The max priority fee per gas is above the max fee per gas (EIP-1559).
    PriorityFeeAboveFeeCap,
    /// EIP-3607: the sender has code that is not a delegation.
    SenderHasCode,
    /// A creation's init code is above 49152 bytes (EIP-3860, from Shanghai on).
    InitCodeTooLarge,
    /// The transaction's chain id is not the block's (EIP-155), or a typed transaction has none.
    ChainIdMismatch,
    /// The transaction type is not enabled at this fork.
    TypeNotSupported,
    /// EIP-4844 rules (no blobs, too many, bad version, blob fee too low, create).
    Blob,
    /// EIP-7702 rules (empty authorization list, create).
    Authorization,
    /// Fee arithmetic overflows.
    Overflow,
    /// A rejection that fits no other kind, with the executor's own message.
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

/// What became of one transaction: executed (included, with a receipt) or rejected (invalid,
/// not included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TxOutcome {
    /// Included: the transaction ran and the sender paid for its gas, whatever the status.
    Executed {
        /// How execution ended.
        status: TxStatus,
        /// Gas charged to the sender, as the receipt counts it (after refunds and the
        /// EIP-7623 floor).
        gas_used: u64,
        /// The receipt's logs, in order; none unless the status is `Success` (a revert or halt
        /// discards them).
        logs: Vec<Log>,
        /// Return data: what a call RETURNs, a creation's deployed code, the REVERT data; empty
        /// after a halt.
        output: Bytes,
        /// The new contract of a successful creation; `None` for a call or a failed creation.
        created_address: Option<Address>,
    },
    /// Invalid: not included, no state changed, no gas charged; the block goes on without it.
    Rejected {
        /// Why it is invalid.
        kind: RejectKind,
    },
}

impl TxOutcome {
    /// The gas charged, as the receipt counts it; 0 for a rejected transaction.
    pub fn gas_used(&self) -> u64 {
        match self {
            TxOutcome::Executed { gas_used, .. } => *gas_used,
            TxOutcome::Rejected { .. } => 0,
        }
    }

    /// The receipt's logs; none for a rejected transaction.
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
    /// Worker threads the block ran on, the calling thread included: 1 for `sequential`; for
    /// `block-stm`, [`RunControl::threads`](crate::RunControl::threads), or the machine's
    /// available parallelism when that is 0.
    pub threads: usize,
    /// Transaction executions, first incarnations and re-executions together. For Block-STM,
    /// a block's system calls and credits are incarnations too and count here.
    pub executions: u64,
    /// Incarnations aborted (failed validation or hit an ESTIMATE).
    pub aborts: u64,
    /// Read-set validations run; 0 for an executor that does not validate.
    pub validations: u64,
    /// False when the block ran on one thread, whatever the executor is.
    pub parallel: bool,
}

/// What an executor returns for a block it ran: an outcome per transaction, the post-state,
/// and how it got them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockOutput {
    /// One per input transaction, in order.
    pub outcomes: Vec<TxOutcome>,
    /// The state after the last transaction: every account that exists then (EIP-161 cleared
    /// and self-destructed ones absent), zero slots absent.
    pub post_state: State,
    /// How the executor ran the block; never compared.
    pub stats: ExecStats,
    /// The EIP-7685 requests (Prague on, for a block with [`BlockRules`](crate::BlockRules)):
    /// deposits (type 0), withdrawal requests (1), consolidations (2), each its type byte and
    /// data; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<Bytes>,
}

/// What a block header commits to of a block's execution, besides the state root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockResults {
    /// In gas: the last receipt's cumulative gas.
    pub gas_used: u64,
    /// EIP-4844 blob gas of the included blob transactions (131,072 a blob).
    pub blob_gas_used: u64,
    /// The receipts trie's root (EIP-2718 typed receipts). `None` before Byzantium, whose
    /// receipts hold an intermediate state root per transaction that no executor reports.
    pub receipts_root: Option<B256>,
    /// The OR of every log's bloom.
    pub logs_bloom: Bloom,
    /// EIP-7685's hash of [`BlockOutput::requests`], from Prague on.
    pub requests_hash: Option<B256>,
}
impl BlockOutput {
    /// The receipts' cumulative gas used, one per outcome in order (a rejected transaction
    /// adds 0).
    pub fn cumulative_gas(&self) -> impl Iterator<Item = u64> + '_ {
        self.outcomes.iter().scan(0u64, |acc, o| {
            *acc += o.gas_used();
            Some(*acc)
        })
    }

    /// What the header of `block` commits to of this output. Rejected transactions are left
    /// out: a block holding one is invalid, which the caller decides.
    pub fn results(&self, block: &BlockInput) -> BlockResults {
        use alloy_consensus::{Eip658Value, Receipt, ReceiptEnvelope, ReceiptWithBloom};
        let mut receipts = Vec::with_capacity(self.outcomes.len());
        let mut blob_gas_used = 0u64;
        let mut cumulative = 0u64;
        let mut bloom = Bloom::ZERO;
        for (tx, outcome) in block.txs.iter().zip(&self.outcomes) {
            let TxOutcome::Executed { status, gas_used, logs, .. } = outcome else { continue };
            cumulative = cumulative.saturating_add(*gas_used);
            blob_gas_used = blob_gas_used.saturating_add(131_072u64.saturating_mul(tx.blob_hashes.len() as u64));
            let logs_bloom = alloy_primitives::logs_bloom(logs);
            bloom.accrue_bloom(&logs_bloom);
            let receipt = Receipt {
                status: Eip658Value::Eip658(*status == TxStatus::Success),
                cumulative_gas_used: cumulative,
                logs: logs.clone(),
            };
            let ty = match tx.tx_type {
                TxType::Legacy => alloy_consensus::TxType::Legacy,
                TxType::Eip2930 => alloy_consensus::TxType::Eip2930,
                TxType::Eip1559 => alloy_consensus::TxType::Eip1559,
                TxType::Eip4844 => alloy_consensus::TxType::Eip4844,
                TxType::Eip7702 => alloy_consensus::TxType::Eip7702,
            };
            receipts.push(ReceiptEnvelope::from_typed(ty, ReceiptWithBloom { receipt, logs_bloom }));
        }
        let receipts_root =
            block.fork.at_least(Fork::Byzantium).then(|| alloy_consensus::proofs::calculate_receipt_root(&receipts));
        let requests_hash = (block.rules.is_some() && block.fork.at_least(Fork::Prague))
            .then(|| alloy_eips::eip7685::Requests::new(self.requests.clone()).requests_hash());
        BlockResults { gas_used: cumulative, blob_gas_used, receipts_root, logs_bloom: bloom, requests_hash }
    }

    /// The Merkle-Patricia root of `post_state` ([`trie::state_root`](crate::trie::state_root)).
    pub fn state_root(&self) -> B256 {
        crate::trie::state_root(&self.post_state)
    }
}
