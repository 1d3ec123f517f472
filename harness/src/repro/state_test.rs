//! A one-transaction block as an ethereum/tests state test (`GeneralStateTests` format)
//! whose expectation is the reference's result: the post-state root, the logs hash, and
//! `expectException` when the reference rejected the transaction. `lockstep statetest` and
//! revm's `revme statetest` run it; the candidate that diverged fails it.

use super::t8n::{self, Alloc};
use alloy_primitives::{Address, B256, Bytes, U64, U128, U256};
use lockstep_executors::{AccessListItem, BlockInput, BlockOutput, TxOutcome, trie};
use serde::Serialize;
use std::collections::BTreeMap;

/// A state-test file: test name to test.
pub type StateTestFile = BTreeMap<String, StateTest>;

/// One state test: a pre-state, an environment, one transaction and the expected result per
/// fork.
#[derive(Clone, Debug, Serialize)]
pub struct StateTest {
    /// `_info`: where the test comes from.
    #[serde(rename = "_info")]
    pub info: Info,
    /// The block environment.
    pub env: Env,
    /// The pre-state, in the `alloc.json` account format.
    pub pre: Alloc,
    /// The transaction, with its `data`, `gasLimit` and `value` vectors.
    pub transaction: Transaction,
    /// Fork name (as fixtures spell it) to expectations.
    pub post: BTreeMap<String, Vec<Post>>,
}

/// A state test's `_info`.
#[derive(Clone, Debug, Serialize)]
pub struct Info {
    /// What the test is for (which candidate diverged from which reference, and how).
    pub comment: String,
}

/// The state-test environment: the t8n one without block hashes (state tests derive them),
/// with the chain id.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Env {
    /// The `env.json` fields, flattened.
    #[serde(flatten)]
    pub block: t8n::Env,
    /// The chain id transactions are checked against (EIP-155).
    #[serde(rename = "currentChainID")]
    pub current_chain_id: U256,
}

/// One transaction with one-element `data`, `gasLimit` and `value` vectors. No `type`: as in
/// the official fixtures, the type follows from the fields present.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    /// Call data or init code, one element.
    pub data: Vec<Bytes>,
    /// The gas limit, one element.
    pub gas_limit: Vec<U64>,
    /// Wei transferred, one element.
    pub value: Vec<U256>,
    /// The sender's nonce the transaction uses.
    pub nonce: U64,
    /// The recipient's address; empty for a contract creation.
    pub to: String,
    /// The sender's address.
    pub sender: Address,
    /// Zero when lockstep does not know the sender's key; runners that trust `sender` still
    /// run it.
    pub secret_key: B256,
    /// The EIP-155 chain id (1 for an unprotected legacy transaction).
    pub chain_id: U64,
    /// Legacy and EIP-2930: wei per gas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gas_price: Option<U128>,
    /// EIP-1559 and later types: the fee cap, wei per gas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fee_per_gas: Option<U128>,
    /// EIP-1559 and later types: the tip cap, wei per gas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_priority_fee_per_gas: Option<U128>,
    /// Every type but legacy: the EIP-2930 access list, one element (one per `data` entry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_lists: Option<Vec<Vec<AccessListItem>>>,
    /// EIP-4844: the blobs' versioned hashes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob_versioned_hashes: Option<Vec<B256>>,
    /// EIP-4844: the blob fee cap, wei per blob gas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fee_per_blob_gas: Option<U128>,
    /// EIP-7702: the authorization list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_list: Option<Vec<t8n::T8nAuthorization>>,
}

/// One expected result of a fork: what running the transaction's indexed vectors gives.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Post {
    /// The post-state root.
    pub hash: B256,
    /// keccak256 of the RLP of the logs.
    pub logs: B256,
    /// Which element of `data`, `gasLimit` and `value` this result is for; all 0.
    pub indexes: Indexes,
    /// The signed transaction's bytes; empty (lockstep does not sign).
    pub txbytes: Bytes,
    /// `lockstep.` and the reference's [`RejectKind`](lockstep_executors::RejectKind) when it
    /// rejected the transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_exception: Option<String>,
}

/// A post entry's indexes into the transaction's vectors.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Indexes {
    /// Into `data`.
    pub data: usize,
    /// Into `gasLimit`.
    pub gas: usize,
    /// Into `value`.
    pub value: usize,
}

/// The state test of a one-transaction `block` expecting `reference`'s output; `None` for
/// another number of transactions, or a block a state test cannot carry (block rules, or
/// block hashes other than the state tests' convention). `name` is the test's name, `comment` its `_info.comment`.
pub fn export(
    block: &BlockInput,
    reference: &BlockOutput,
    keys: &BTreeMap<Address, B256>,
    name: String,
    comment: String,
) -> Option<StateTestFile> {
    let [t] = block.txs.as_slice() else { return None };
    if block.rules.is_some() || !block.env.has_state_test_hashes() {
        return None;
    }
    let w = t8n::tx(t, keys);
    let transaction = Transaction {
        data: vec![t.input.clone()],
        gas_limit: vec![w.gas],
        value: vec![t.value],
        nonce: w.nonce,
        to: t.to.map(|a| a.to_string()).unwrap_or_default(),
        sender: t.sender,
        secret_key: w.secret_key.unwrap_or(B256::ZERO),
        chain_id: w.chain_id,
        gas_price: w.gas_price,
        max_fee_per_gas: w.max_fee_per_gas,
        max_priority_fee_per_gas: w.max_priority_fee_per_gas,
        access_lists: w.access_list.map(|l| vec![l]),
        blob_versioned_hashes: w.blob_versioned_hashes,
        max_fee_per_blob_gas: w.max_fee_per_blob_gas,
        authorization_list: w.authorization_list,
    };
    let expect_exception = match reference.outcomes.first() {
        Some(TxOutcome::Rejected { kind }) => Some(format!("lockstep.{kind}")),
        _ => None,
    };
    let post = Post {
        hash: reference.state_root(),
        logs: trie::logs_hash(reference.outcomes.first().map(|o| o.logs()).unwrap_or_default()),
        indexes: Indexes { data: 0, gas: 0, value: 0 },
        txbytes: Bytes::new(),
        expect_exception,
    };
    // A state test's env has none of the t8n extras: its runner derives the hashes.
    let mut env = t8n::env(block);
    env.block_hashes.clear();
    env.withdrawals = None;
    env.parent_beacon_block_root = None;
    let test = StateTest {
        info: Info { comment },
        env: Env { block: env, current_chain_id: U256::from(block.chain_id) },
        pre: t8n::alloc(&block.pre_state),
        transaction,
        post: BTreeMap::from([(block.fork.fixture_name().to_string(), vec![post])]),
    };
    Some(BTreeMap::from([(name, test)]))
}
