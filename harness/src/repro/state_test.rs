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

#[derive(Clone, Debug, Serialize)]
pub struct StateTest {
    #[serde(rename = "_info")]
    pub info: Info,
    pub env: Env,
    pub pre: Alloc,
    pub transaction: Transaction,
    /// Fork name (as fixtures spell it) to expectations.
    pub post: BTreeMap<String, Vec<Post>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Info {
    pub comment: String,
}

/// The state-test environment: the t8n one without block hashes (state tests derive them),
/// with the chain id.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Env {
    #[serde(flatten)]
    pub block: t8n::Env,
    #[serde(rename = "currentChainID")]
    pub current_chain_id: U256,
}

/// One transaction with one-element `data`, `gasLimit` and `value` vectors. No `type`: as in
/// the official fixtures, the type follows from the fields present.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub data: Vec<Bytes>,
    pub gas_limit: Vec<U64>,
    pub value: Vec<U256>,
    pub nonce: U64,
    /// Empty for a contract creation.
    pub to: String,
    pub sender: Address,
    /// Zero when lockstep does not know the sender's key; runners that trust `sender` still
    /// run it.
    pub secret_key: B256,
    pub chain_id: U64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gas_price: Option<U128>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fee_per_gas: Option<U128>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_priority_fee_per_gas: Option<U128>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_lists: Option<Vec<Vec<AccessListItem>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob_versioned_hashes: Option<Vec<B256>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fee_per_blob_gas: Option<U128>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_list: Option<Vec<t8n::T8nAuthorization>>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Post {
    /// The post-state root.
    pub hash: B256,
    /// keccak256 of the RLP of the logs.
    pub logs: B256,
    pub indexes: Indexes,
    pub txbytes: Bytes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_exception: Option<String>,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Indexes {
    pub data: usize,
    pub gas: usize,
    pub value: usize,
}

/// The state test of a one-transaction `block` expecting `reference`'s output; `None` for
/// another number of transactions. `name` is the test's name, `comment` its `_info.comment`.
pub fn export(
    block: &BlockInput,
    reference: &BlockOutput,
    keys: &BTreeMap<Address, B256>,
    name: String,
    comment: String,
) -> Option<StateTestFile> {
    let [t] = block.txs.as_slice() else { return None };
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
    let mut env = t8n::env(&block.env);
    env.block_hashes.clear();
    let test = StateTest {
        info: Info { comment },
        env: Env { block: env, current_chain_id: U256::from(block.chain_id) },
        pre: t8n::alloc(&block.pre_state),
        transaction,
        post: BTreeMap::from([(block.fork.fixture_name().to_string(), vec![post])]),
    };
    Some(BTreeMap::from([(name, test)]))
}
