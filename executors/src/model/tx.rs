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

/// The EIP-2718 transaction type: which of [`Tx`]'s fee, access-list, blob and authorization
/// fields apply, and from which fork on the transaction is valid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TxType {
    /// Type 0, the untyped transaction: one gas price, EIP-155 replay protection optional.
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
    /// The EIP-2718 type byte: 0 (legacy) to 4 (EIP-7702).
    pub fn id(self) -> u8 {
        match self {
            TxType::Legacy => 0,
            TxType::Eip2930 => 1,
            TxType::Eip1559 => 2,
            TxType::Eip4844 => 3,
            TxType::Eip7702 => 4,
        }
    }

    /// The type with EIP-2718 type byte `id`; `None` for a byte above 4.
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

/// One entry of an EIP-2930 access list: an address and storage keys that are warm (EIP-2929)
/// from the start of the transaction, paid for up front in its intrinsic gas (2400 gas an
/// address, 1900 a key).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessListItem {
    /// The account made warm.
    pub address: Address,
    /// Storage slots of `address` made warm.
    pub storage_keys: Vec<B256>,
}

/// A signed EIP-7702 authorization tuple; the executor recovers its authority.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorization {
    /// The chain the authorization is valid on; 0: every chain.
    pub chain_id: U256,
    /// The code the authority delegates to (zero address: clear the delegation).
    pub address: Address,
    /// The authority's nonce it is valid at; applying it bumps that nonce.
    pub nonce: u64,
    /// The signature's y parity (0 or 1). The authority signs
    /// `keccak256(0x05 || rlp([chain_id, address, nonce]))` with secp256k1.
    pub y_parity: u8,
    /// The signature's `r`.
    pub r: U256,
    /// The signature's `s` (at most secp256k1n / 2, as EIP-2 requires).
    pub s: U256,
}

/// A transaction with its sender already known. Executors read `sender` and never verify a
/// signature; `secret_key`, when the block's author knows it, lets a tool that takes signed
/// transactions (an `evm t8n`) run the block too. The authorizations of EIP-7702 are signed,
/// since their signers are part of execution.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tx {
    /// The EIP-2718 type, which decides the fields that apply.
    pub tx_type: TxType,
    /// The signer: pays for gas, and its nonce is the one checked and bumped.
    pub sender: Address,
    /// `None` creates a contract.
    pub to: Option<Address>,
    /// Wei sent to `to`, or the new contract's endowment.
    pub value: U256,
    /// Calldata, or the init code of a contract creation.
    pub input: Bytes,
    /// The most gas the transaction may use, intrinsic gas included.
    pub gas_limit: u64,
    /// Wei per gas. Legacy and EIP-2930: the gas price. From EIP-1559 on: the max fee per gas.
    pub gas_price: u128,
    /// EIP-1559 max priority fee (the tip cap), in wei per gas; `None` for legacy and
    /// EIP-2930 transactions.
    pub max_priority_fee_per_gas: Option<u128>,
    /// Must equal the sender's nonce (else `NonceTooLow` or `NonceTooHigh`); a creation's
    /// address follows from it.
    pub nonce: u64,
    /// The EIP-155 chain id signed over; `None`: a pre-EIP-155 legacy transaction.
    pub chain_id: Option<u64>,
    /// EIP-2930 access list (types 1 to 4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_list: Vec<AccessListItem>,
    /// EIP-4844 versioned hashes of the blobs (type 3), which BLOBHASH reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blob_hashes: Vec<B256>,
    /// EIP-4844 max fee per blob gas (type 3), in wei per blob gas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_per_blob_gas: Option<u128>,
    /// EIP-7702 signed authorizations (type 4), applied in order before execution; an invalid
    /// one is skipped, not the transaction rejected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_list: Vec<Authorization>,
    /// The sender's secp256k1 secret key, when known (generated workloads, official state
    /// tests' `secretKey`): what an exporter signs the transaction with. Ignored by execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<B256>,
    /// The signature the transaction came with (blockchain tests' blocks, imported t8n
    /// files), which an exporter passes on when it has no key. Ignored by execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<TxSignature>,
}

/// A transaction's secp256k1 signature over its signing hash (EIP-155 for a protected legacy
/// transaction, EIP-2718 for the typed ones); the `v` a legacy transaction carries follows
/// from `y_parity` and its chain id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxSignature {
    /// The y parity of the signature's point (0 or 1).
    pub y_parity: u8,
    /// `r`.
    pub r: U256,
    /// `s` (at most secp256k1n / 2 from Homestead on, EIP-2).
    pub s: U256,
}
