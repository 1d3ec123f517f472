//! The block model every executor speaks: plain data on alloy-primitives types, serde-ready,
//! with no revm type in sight, so an executor built on another revm version (or none) plugs in.
//!
//! Units: balances, values and fee fields are wei; gas fields are gas units.

use alloy_primitives::{Address, B256, Bytes, Log, U256, keccak256};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Position of a transaction in its block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TxIndex(pub usize);

impl fmt::Display for TxIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tx {}", self.0)
    }
}

/// Ethereum hard forks from Frontier to Osaka, with the rules revm implements for each.
///
/// Constantinople (the first, withdrawn one with EIP-1283) is absent: no client runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Fork {
    Frontier,
    Homestead,
    /// EIP-150, "Tangerine Whistle".
    Tangerine,
    /// EIP-158/161, "Spurious Dragon": empty accounts are cleared.
    SpuriousDragon,
    Byzantium,
    /// Constantinople without EIP-1283 ("ConstantinopleFix").
    Petersburg,
    Istanbul,
    Berlin,
    London,
    /// Paris, the Merge: PREVRANDAO replaces DIFFICULTY.
    Merge,
    Shanghai,
    Cancun,
    Prague,
    Osaka,
}

impl Fork {
    pub const ALL: [Fork; 14] = [
        Fork::Frontier,
        Fork::Homestead,
        Fork::Tangerine,
        Fork::SpuriousDragon,
        Fork::Byzantium,
        Fork::Petersburg,
        Fork::Istanbul,
        Fork::Berlin,
        Fork::London,
        Fork::Merge,
        Fork::Shanghai,
        Fork::Cancun,
        Fork::Prague,
        Fork::Osaka,
    ];

    /// Whether `self` includes the rules of `other`.
    pub fn at_least(self, other: Fork) -> bool {
        self >= other
    }

    /// Parses our names and the names official fixtures use (`EIP150`, `EIP158`,
    /// `ConstantinopleFix`, `Paris`, and the `XToYAt5` transition names, which state tests
    /// run at block 1 and so under the earlier fork's successor as revm does).
    pub fn from_name(name: &str) -> Option<Fork> {
        Some(match name {
            "Frontier" => Fork::Frontier,
            "Homestead" | "FrontierToHomesteadAt5" => Fork::Homestead,
            "Tangerine" | "TangerineWhistle" | "EIP150" | "HomesteadToEIP150At5" | "HomesteadToDaoAt5" => {
                Fork::Tangerine
            }
            "SpuriousDragon" | "EIP158" => Fork::SpuriousDragon,
            "Byzantium" | "EIP158ToByzantiumAt5" => Fork::Byzantium,
            "Petersburg" | "ConstantinopleFix" | "ByzantiumToConstantinopleFixAt5" => Fork::Petersburg,
            "Istanbul" => Fork::Istanbul,
            "Berlin" => Fork::Berlin,
            "London" | "BerlinToLondonAt5" => Fork::London,
            "Merge" | "Paris" => Fork::Merge,
            "Shanghai" => Fork::Shanghai,
            "Cancun" => Fork::Cancun,
            "Prague" => Fork::Prague,
            "Osaka" => Fork::Osaka,
            _ => return None,
        })
    }
}

impl Fork {
    /// The name official fixtures (and revm's runner) use for this fork.
    pub fn fixture_name(self) -> &'static str {
        match self {
            Fork::Frontier => "Frontier",
            Fork::Homestead => "Homestead",
            Fork::Tangerine => "EIP150",
            Fork::SpuriousDragon => "EIP158",
            Fork::Byzantium => "Byzantium",
            Fork::Petersburg => "ConstantinopleFix",
            Fork::Istanbul => "Istanbul",
            Fork::Berlin => "Berlin",
            Fork::London => "London",
            Fork::Merge => "Paris",
            Fork::Shanghai => "Shanghai",
            Fork::Cancun => "Cancun",
            Fork::Prague => "Prague",
            Fork::Osaka => "Osaka",
        }
    }
}

impl fmt::Display for Fork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The block a transaction list runs in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockEnv {
    pub number: U256,
    pub timestamp: U256,
    /// The beneficiary (coinbase): receives priority fees (all fees before London).
    pub coinbase: Address,
    pub gas_limit: u64,
    /// Wei per gas; `None` before London.
    pub base_fee: Option<u64>,
    /// Before the Merge.
    pub difficulty: U256,
    /// From the Merge on.
    pub prevrandao: Option<B256>,
    /// From Cancun on; the blob gas price follows from it.
    pub excess_blob_gas: Option<u64>,
    /// Hashes of earlier blocks for BLOCKHASH. A number that is missing hashes to
    /// `keccak256(decimal string of the number)`, the convention of the official state tests.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub block_hashes: BTreeMap<u64, B256>,
}

impl BlockEnv {
    pub fn block_hash(&self, number: u64) -> B256 {
        self.block_hashes.get(&number).copied().unwrap_or_else(|| keccak256(number.to_string().as_bytes()))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TxType {
    #[default]
    Legacy,
    /// EIP-2930: access list.
    Eip2930,
    /// EIP-1559: fee market.
    Eip1559,
    /// EIP-4844: blobs.
    Eip4844,
    /// EIP-7702: set code.
    Eip7702,
}

impl TxType {
    pub fn id(self) -> u8 {
        match self {
            TxType::Legacy => 0,
            TxType::Eip2930 => 1,
            TxType::Eip1559 => 2,
            TxType::Eip4844 => 3,
            TxType::Eip7702 => 4,
        }
    }

    pub fn from_id(id: u8) -> Option<TxType> {
        Some(match id {
            0 => TxType::Legacy,
            1 => TxType::Eip2930,
            2 => TxType::Eip1559,
            3 => TxType::Eip4844,
            4 => TxType::Eip7702,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessListItem {
    pub address: Address,
    pub storage_keys: Vec<B256>,
}

/// A signed EIP-7702 authorization tuple; the executor recovers its authority.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorization {
    pub chain_id: U256,
    /// The code the authority delegates to (zero address: clear the delegation).
    pub address: Address,
    pub nonce: u64,
    pub y_parity: u8,
    pub r: U256,
    pub s: U256,
}

/// A transaction with its sender already known (signatures are not part of the model,
/// except the authorizations of EIP-7702, whose signers are part of execution).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tx {
    pub tx_type: TxType,
    pub sender: Address,
    /// `None` creates a contract.
    pub to: Option<Address>,
    pub value: U256,
    pub input: Bytes,
    pub gas_limit: u64,
    /// Legacy and EIP-2930: the gas price. From EIP-1559 on: the max fee per gas.
    pub gas_price: u128,
    /// From EIP-1559 on.
    pub max_priority_fee_per_gas: Option<u128>,
    pub nonce: u64,
    /// `None`: a pre-EIP-155 legacy transaction.
    pub chain_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_list: Vec<AccessListItem>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blob_hashes: Vec<B256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_per_blob_gas: Option<u128>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_list: Vec<Authorization>,
}

/// One account of a state. Zero-valued storage slots are absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub balance: U256,
    pub nonce: u64,
    #[serde(default, skip_serializing_if = "<[u8]>::is_empty")]
    pub code: Bytes,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage: BTreeMap<U256, U256>,
}

impl Account {
    /// EIP-161 emptiness: no code, zero nonce, zero balance.
    pub fn is_empty(&self) -> bool {
        self.code.is_empty() && self.nonce == 0 && self.balance.is_zero()
    }

    pub fn code_hash(&self) -> B256 {
        if self.code.is_empty() { crate::KECCAK_EMPTY } else { keccak256(&self.code) }
    }
}

/// A world state: every existing account by address.
pub type State = BTreeMap<Address, Account>;

/// Everything an executor needs to run one block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockInput {
    pub fork: Fork,
    pub chain_id: u64,
    pub env: BlockEnv,
    pub pre_state: State,
    pub txs: Vec<Tx>,
}

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
