//! Transactions, every type up to EIP-7702.

use alloy_primitives::{Address, B256, Bytes, U256};
use serde::{Deserialize, Serialize};
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
