//! A block as `evm t8n` input: `alloc.json`, `env.json` and `txs.json`, the file formats of
//! go-ethereum's `evm t8n` that execution-spec-tests drives every client's t8n tool with.
//! Numbers are `0x` hex quantities, storage keys and values 32-byte words. Each format is a
//! typed struct, converted both ways, so a written bundle reads back as the same block.
//!
//! `env.json` lists the block's hashes ([`BlockEnv::block_hashes`], the 256 before it) with
//! hex keys (geth reads hex or decimal, the execution spec hex only, and crashes on a
//! BLOCKHASH of an unlisted block in the window).
//!
//! A t8n tool always runs a whole block: the fork's system calls, then the transactions,
//! the block reward (`--state.reward`), withdrawals and requests. A lockstep block with
//! [`BlockRules`] is written as such, with its parent hash, beacon root, ommers and
//! withdrawals; one without (a state test's transactions) gets no reward (`-1`), no
//! withdrawals and a zero beacon root, which changes nothing where the pre-state has no
//! system contract. Reading back, an `env.json` with `parentHash` is a whole block (its
//! deposit contract mainnet's, as the tools assume), one without it a state test's.

use alloy_primitives::{Address, B256, Bytes, U64, U128, U256};
use lockstep_executors::{
    AccessListItem, Account, Authorization, BlockEnv, BlockInput, BlockRules, Fork, MAINNET_DEPOSIT_CONTRACT, Ommer,
    State, Tx, TxType, Withdrawal,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `alloc.json`: the pre-state, address to account.
pub type Alloc = BTreeMap<Address, AllocAccount>;

/// One account of `alloc.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllocAccount {
    /// Wei; absent is zero (tools leave zero fields out of their output alloc).
    #[serde(default)]
    pub balance: U256,
    /// The account's nonce; absent is zero.
    #[serde(default)]
    pub nonce: U64,
    /// Runtime code; empty (or absent) for an externally owned account.
    #[serde(default)]
    pub code: Bytes,
    /// Storage, slot key to value, both 32-byte words when written; read as quantities too
    /// (`0x1`, as the execution spec writes them). A zero value reads as an absent slot.
    #[serde(default, deserialize_with = "words")]
    pub storage: BTreeMap<B256, B256>,
}

/// `env.json`: the block the transactions run in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Env {
    /// The block's beneficiary (COINBASE): receives priority fees (all fees before London).
    pub current_coinbase: Address,
    /// Gas.
    pub current_gas_limit: U64,
    /// The block number.
    pub current_number: U256,
    /// Seconds since the Unix epoch.
    pub current_timestamp: U256,
    /// DIFFICULTY before the Merge; from the Merge on, `currentRandom` takes its place
    /// (absent: zero).
    #[serde(default)]
    pub current_difficulty: U256,
    /// PREVRANDAO, from the Merge on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_random: Option<B256>,
    /// Wei per gas, from London on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_base_fee: Option<U64>,
    /// Blob gas, from Cancun on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_excess_blob_gas: Option<U64>,
    /// Earlier blocks' hashes for BLOCKHASH, by block number: `0x` hex when written, hex or
    /// decimal when read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub block_hashes: BTreeMap<String, B256>,
    /// The block's withdrawals (EIP-4895), from Shanghai on; written (empty) for a block
    /// without rules too, since t8n tools require the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawals: Option<Vec<T8nWithdrawal>>,
    /// The parent beacon block root (EIP-4788), from Cancun on; zero for a block without
    /// rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_beacon_block_root: Option<B256>,
    /// The parent block's hash (EIP-2935's system call stores it), written for a block with
    /// rules only: its presence is what marks a whole block on reading back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_hash: Option<B256>,
    /// The ommers rewarded before the Merge, by distance below this block.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ommers: Vec<T8nOmmer>,
}

/// One withdrawal of `env.json`; `amount` in gwei.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct T8nWithdrawal {
    /// The consensus layer's withdrawal index.
    pub index: U64,
    /// The validator withdrawn from.
    pub validator_index: U64,
    /// The recipient.
    pub address: Address,
    /// Gwei.
    pub amount: U64,
}

/// One ommer of `env.json`: its beneficiary and how many blocks below this one it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct T8nOmmer {
    /// This block's number minus the ommer's (1 to 6).
    pub delta: u64,
    /// The ommer's beneficiary.
    pub address: Address,
}

/// One transaction of `txs.json`, unsigned: a t8n tool signs it with `secretKey` (`v`, `r`,
/// `s` are zero). `secretKey` is absent when lockstep does not know the sender's key (blocks
/// built from official fixtures whose sender is given as an address).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct T8nTx {
    /// The EIP-2718 type: 0 legacy, 1 EIP-2930, 2 EIP-1559, 3 EIP-4844, 4 EIP-7702.
    #[serde(rename = "type")]
    pub tx_type: U64,
    /// The EIP-155 chain id; 1 for an unprotected legacy transaction (`protected: false`).
    /// Absent in many t8n inputs (tools take it from `--state.chainid`): read as 1.
    #[serde(default = "chain_one")]
    pub chain_id: U64,
    /// The sender's nonce the transaction uses.
    pub nonce: U64,
    /// The gas limit.
    pub gas: U64,
    /// Wei.
    pub value: U256,
    /// Call data, or a creation's init code.
    pub input: Bytes,
    /// `null` creates a contract.
    pub to: Option<Address>,
    /// Signature `v`; zero when the tool signs with `secretKey`.
    #[serde(default)]
    pub v: U64,
    /// Signature `r`; zero when the tool signs.
    #[serde(default)]
    pub r: U256,
    /// Signature `s`; zero when the tool signs.
    #[serde(default)]
    pub s: U256,
    /// The sender's address, which the signature must recover to; lockstep writes it, tools
    /// ignore it, and an imported file without it gets the sender from `secretKey` or the
    /// signature ([`crate::sign::sender_of`]).
    #[serde(default)]
    pub sender: Option<Address>,
    /// The sender's secp256k1 secret key, when lockstep knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<B256>,
    /// Legacy and EIP-2930, wei per gas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_price: Option<U128>,
    /// Legacy: whether it is EIP-155 replay-protected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected: Option<bool>,
    /// EIP-1559 and later types: the fee cap, wei per gas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_per_gas: Option<U128>,
    /// EIP-1559 and later types: the tip cap, wei per gas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_priority_fee_per_gas: Option<U128>,
    /// Every type but legacy: the EIP-2930 access list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_list: Option<Vec<AccessListItem>>,
    /// EIP-4844: the blobs' versioned hashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_versioned_hashes: Option<Vec<B256>>,
    /// EIP-4844: the blob fee cap, wei per blob gas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_per_blob_gas: Option<U128>,
    /// EIP-7702: the authorization list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_list: Option<Vec<T8nAuthorization>>,
}

/// An EIP-7702 authorization tuple as t8n tools write it (`v` repeats `yParity`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct T8nAuthorization {
    /// The chain the authorization is valid on; 0 for any chain.
    pub chain_id: U256,
    /// The address whose code the authority delegates to.
    pub address: Address,
    /// The authority's nonce the authorization is valid at.
    pub nonce: U64,
    /// The signature's y parity (0 or 1).
    pub y_parity: U64,
    /// The same as `y_parity`.
    pub v: U64,
    /// Signature `r`.
    pub r: U256,
    /// Signature `s`.
    pub s: U256,
}

fn chain_one() -> U64 {
    U64::from(1)
}

/// A storage map whose keys and values are 32-byte words or shorter hex quantities.
fn words<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<B256, B256>, D::Error> {
    let quantities = BTreeMap::<U256, U256>::deserialize(d)?;
    Ok(quantities.into_iter().map(|(k, v)| (word(k), word(v))).collect())
}

fn word(v: U256) -> B256 {
    B256::from(v.to_be_bytes())
}

/// `state` as an `alloc.json`.
pub fn alloc(state: &State) -> Alloc {
    state
        .iter()
        .map(|(a, acc)| {
            let storage = acc.storage.iter().map(|(k, v)| (word(*k), word(*v))).collect();
            (*a, AllocAccount { balance: acc.balance, nonce: U64::from(acc.nonce), code: acc.code.clone(), storage })
        })
        .collect()
}

/// `block`'s environment as an `env.json`: the fork's required fields, the block's hashes
/// (hex keys) and its rules.
pub fn env(block: &BlockInput) -> Env {
    let e = &block.env;
    let block_hashes = e.block_hashes.iter().map(|(n, h)| (format!("{n:#x}"), *h)).collect();
    let rules = block.rules.as_ref();
    let number = e.number.saturating_to::<u64>();
    let withdrawals = rules.map(|r| r.withdrawals.iter().map(withdrawal).collect()).unwrap_or_default();
    Env {
        current_coinbase: e.coinbase,
        current_gas_limit: U64::from(e.gas_limit),
        current_number: e.number,
        current_timestamp: e.timestamp,
        current_difficulty: e.difficulty,
        current_random: e.prevrandao,
        current_base_fee: e.base_fee.map(U64::from),
        current_excess_blob_gas: e.excess_blob_gas.map(U64::from),
        block_hashes,
        withdrawals: block.fork.at_least(Fork::Shanghai).then_some(withdrawals),
        parent_beacon_block_root: block
            .fork
            .at_least(Fork::Cancun)
            .then(|| rules.and_then(|r| r.parent_beacon_block_root).unwrap_or_default()),
        parent_hash: rules.map(|r| r.parent_hash),
        ommers: rules
            .map(|r| {
                let ommer = |o: &Ommer| T8nOmmer { delta: number.saturating_sub(o.number), address: o.coinbase };
                r.ommers.iter().map(ommer).collect()
            })
            .unwrap_or_default(),
    }
}

fn withdrawal(w: &Withdrawal) -> T8nWithdrawal {
    T8nWithdrawal {
        index: U64::from(w.index),
        validator_index: U64::from(w.validator_index),
        address: w.address,
        amount: U64::from(w.amount),
    }
}

/// The rules of an `env.json`: `None` without `parentHash` (a state test's transactions).
pub fn rules_of(env: &Env) -> Option<BlockRules> {
    let number = env.current_number.saturating_to::<u64>();
    let parent_hash = env.parent_hash?;
    Some(BlockRules {
        parent_hash,
        parent_beacon_block_root: env.parent_beacon_block_root,
        ommers: env
            .ommers
            .iter()
            .map(|o| Ommer { coinbase: o.address, number: number.saturating_sub(o.delta) })
            .collect(),
        withdrawals: env
            .withdrawals
            .iter()
            .flatten()
            .map(|w| Withdrawal {
                index: u64_of(w.index),
                validator_index: u64_of(w.validator_index),
                address: w.address,
                amount: u64_of(w.amount),
            })
            .collect(),
        deposit_contract: MAINNET_DEPOSIT_CONTRACT,
    })
}

/// `t` as an unsigned t8n transaction, with the sender's secret key when the transaction
/// carries it or `keys` has it.
pub fn tx(t: &Tx, keys: &BTreeMap<Address, B256>) -> T8nTx {
    let legacy_priced = matches!(t.tx_type, TxType::Legacy | TxType::Eip2930);
    T8nTx {
        tx_type: U64::from(t.tx_type.id()),
        chain_id: U64::from(t.chain_id.unwrap_or(1)),
        nonce: U64::from(t.nonce),
        gas: U64::from(t.gas_limit),
        value: t.value,
        input: t.input.clone(),
        to: t.to,
        v: U64::ZERO,
        r: U256::ZERO,
        s: U256::ZERO,
        sender: Some(t.sender),
        secret_key: t.secret_key.or_else(|| keys.get(&t.sender).copied()),
        gas_price: legacy_priced.then(|| U128::from(t.gas_price)),
        protected: legacy_priced.then_some(t.chain_id.is_some()),
        max_fee_per_gas: (!legacy_priced).then(|| U128::from(t.gas_price)),
        max_priority_fee_per_gas: (!legacy_priced).then(|| U128::from(t.max_priority_fee_per_gas.unwrap_or(0))),
        access_list: (t.tx_type != TxType::Legacy).then(|| t.access_list.clone()),
        blob_versioned_hashes: (t.tx_type == TxType::Eip4844).then(|| t.blob_hashes.clone()),
        max_fee_per_blob_gas: (t.tx_type == TxType::Eip4844).then(|| U128::from(t.max_fee_per_blob_gas.unwrap_or(0))),
        authorization_list: (t.tx_type == TxType::Eip7702)
            .then(|| t.authorization_list.iter().map(authorization).collect()),
    }
}

/// `a` as a t8n authorization tuple.
pub fn authorization(a: &Authorization) -> T8nAuthorization {
    T8nAuthorization {
        chain_id: a.chain_id,
        address: a.address,
        nonce: U64::from(a.nonce),
        y_parity: U64::from(a.y_parity),
        v: U64::from(a.y_parity),
        r: a.r,
        s: a.s,
    }
}

/// Why a t8n file cannot be a lockstep block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// A transaction type lockstep does not model.
    #[error("transaction {index}: unknown type {tx_type}")]
    TxType {
        /// The transaction's position in `txs.json`.
        index: usize,
        /// The type as given.
        tx_type: u64,
    },
    /// A transaction field whose value does not fit the model (a `yParity` above 255).
    #[error("transaction {index}: field `{field}` out of range")]
    Range {
        /// The transaction's position in `txs.json`.
        index: usize,
        /// The field's JSON name.
        field: &'static str,
    },
    /// An `env.json` field that does not fit the model (a `blockHashes` key that is not a
    /// block number), by its JSON name.
    #[error("env: field `{0}` out of range")]
    Env(&'static str),
}

fn u64_of(v: U64) -> u64 {
    v.to::<u64>()
}

/// The pre-state of an `alloc.json`.
pub fn state_of(alloc: &Alloc) -> State {
    alloc
        .iter()
        .map(|(a, acc)| {
            let storage = acc
                .storage
                .iter()
                .map(|(k, v)| (U256::from_be_bytes(k.0), U256::from_be_bytes(v.0)))
                .filter(|(_, v)| !v.is_zero())
                .collect();
            (*a, Account { balance: acc.balance, nonce: u64_of(acc.nonce), code: acc.code.clone(), storage })
        })
        .collect()
}

/// The block environment of an `env.json`.
pub fn env_of(env: &Env) -> Result<BlockEnv, ImportError> {
    let mut block_env = BlockEnv {
        number: env.current_number,
        timestamp: env.current_timestamp,
        coinbase: env.current_coinbase,
        gas_limit: u64_of(env.current_gas_limit),
        base_fee: env.current_base_fee.map(u64_of),
        difficulty: env.current_difficulty,
        prevrandao: env.current_random,
        excess_blob_gas: env.current_excess_blob_gas.map(u64_of),
        block_hashes: BTreeMap::new(),
    };
    for (key, hash) in &env.block_hashes {
        let n = block_number(key).ok_or(ImportError::Env("blockHashes"))?;
        block_env.block_hashes.insert(n, *hash);
    }
    Ok(block_env)
}

/// A `blockHashes` key: `0x` hex or decimal.
fn block_number(key: &str) -> Option<u64> {
    match key.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => key.parse().ok(),
    }
}

/// The model transaction of a t8n transaction (`index` names it in errors).
pub fn tx_of(index: usize, t: &T8nTx) -> Result<Tx, ImportError> {
    let id = u64_of(t.tx_type);
    let tx_type = u8::try_from(id).ok().and_then(TxType::from_id).ok_or(ImportError::TxType { index, tx_type: id })?;
    let fee = |v: Option<U128>| v.map(|v| v.to::<u128>());
    let legacy = tx_type == TxType::Legacy;
    let authorization_list = t
        .authorization_list
        .iter()
        .flatten()
        .map(|a| {
            let y_parity =
                u8::try_from(u64_of(a.y_parity)).map_err(|_| ImportError::Range { index, field: "yParity" })?;
            Ok(Authorization {
                chain_id: a.chain_id,
                address: a.address,
                nonce: u64_of(a.nonce),
                y_parity,
                r: a.r,
                s: a.s,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Tx {
        tx_type,
        sender: t.sender.unwrap_or_default(),
        to: t.to,
        value: t.value,
        input: t.input.clone(),
        gas_limit: u64_of(t.gas),
        gas_price: fee(t.gas_price.or(t.max_fee_per_gas)).unwrap_or(0),
        max_priority_fee_per_gas: fee(t.max_priority_fee_per_gas),
        nonce: u64_of(t.nonce),
        chain_id: if legacy && t.protected == Some(false) { None } else { Some(u64_of(t.chain_id)) },
        access_list: t.access_list.clone().unwrap_or_default(),
        blob_hashes: t.blob_versioned_hashes.clone().unwrap_or_default(),
        max_fee_per_blob_gas: fee(t.max_fee_per_blob_gas),
        authorization_list,
        secret_key: t.secret_key,
        signature: None,
    })
}

/// The t8n files of `block` (transactions signed with `keys` where known).
pub fn files(block: &BlockInput, keys: &BTreeMap<Address, B256>) -> (Alloc, Env, Vec<T8nTx>) {
    (alloc(&block.pre_state), env(block), block.txs.iter().map(|t| tx(t, keys)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_executors::Fork;

    fn block(fork: Fork, rules: Option<BlockRules>) -> BlockInput {
        BlockInput {
            fork,
            chain_id: 1,
            env: BlockEnv {
                number: U256::from(10),
                block_hashes: BlockEnv::state_test_hashes(U256::from(10)),
                ..Default::default()
            },
            pre_state: State::new(),
            txs: Vec::new(),
            rules,
        }
    }

    #[test]
    fn a_whole_block_reads_back_with_its_rules() {
        let rules = BlockRules {
            parent_hash: B256::repeat_byte(1),
            parent_beacon_block_root: Some(B256::repeat_byte(2)),
            ommers: vec![Ommer { coinbase: Address::repeat_byte(3), number: 8 }],
            withdrawals: vec![Withdrawal { index: 4, validator_index: 5, address: Address::repeat_byte(6), amount: 7 }],
            ..Default::default()
        };
        let b = block(Fork::Prague, Some(rules.clone()));
        let json = serde_json::to_value(env(&b)).unwrap();
        assert_eq!(json["ommers"], serde_json::json!([{ "delta": 2, "address": Address::repeat_byte(3) }]));
        assert_eq!(json["withdrawals"][0]["amount"], "0x7");
        assert_eq!(json["blockHashes"].as_object().unwrap().len(), 10);
        let back: Env = serde_json::from_value(json).unwrap();
        assert_eq!(rules_of(&back), Some(rules));
        assert_eq!(env_of(&back).unwrap(), b.env);
        // Without rules: no parent hash (what marks a whole block), nothing to withdraw, a zero
        // beacon root because the tools require one from Cancun on.
        let plain = env(&block(Fork::Prague, None));
        assert_eq!(rules_of(&plain), None);
        assert_eq!(
            (plain.parent_hash, plain.withdrawals, plain.parent_beacon_block_root),
            (None, Some(vec![]), Some(B256::ZERO))
        );
    }
}
