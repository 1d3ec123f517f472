//! The block a transaction list runs in, and the world state.

use super::{Fork, Tx};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
