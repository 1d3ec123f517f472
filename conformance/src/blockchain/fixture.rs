//! The JSON shape of an official blockchain test (ethereum/tests `BlockchainTests`,
//! execution-spec-tests `blockchain_tests`), read leniently like the state tests: a field we
//! do not know is a warning. Blocks are taken from their RLP; the JSON copies of headers and
//! transactions are known and not read.

use crate::fixture::{FixtureAccount, Skip};
use alloy_primitives::{Address, B256, U256};
use serde::Deserialize;
use std::collections::BTreeMap;

/// One blockchain test.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockchainTest {
    #[serde(rename = "_info", default)]
    pub info: Skip,
    /// The fork, or a transition (`ShanghaiToCancunAtTime15k`).
    pub network: String,
    pub genesis_block_header: GenesisHeader,
    #[serde(rename = "genesisRLP", default)]
    pub genesis_rlp: Skip,
    pub pre: BTreeMap<Address, FixtureAccount>,
    pub blocks: Vec<FixtureBlock>,
    /// The state after the last valid block (or, in large tests, only its root).
    #[serde(default)]
    pub post_state: Option<BTreeMap<Address, FixtureAccount>>,
    #[serde(default)]
    pub post_state_hash: Option<B256>,
    /// The hash of the chain's head after every block.
    pub lastblockhash: B256,
    #[serde(default)]
    pub seal_engine: Skip,
    #[serde(default)]
    pub config: Option<ChainConfig>,
}

/// execution-spec-tests' `config`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainConfig {
    #[serde(default)]
    pub chainid: Option<U256>,
    #[serde(default)]
    pub network: Skip,
    #[serde(default)]
    pub blob_schedule: Skip,
}

/// What lockstep reads of the genesis header: the rest comes from the blocks' RLP.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenesisHeader {
    pub hash: B256,
    pub state_root: B256,
    pub number: U256,
    pub timestamp: U256,
    pub gas_limit: U256,
    pub gas_used: U256,
    #[serde(default)]
    pub base_fee_per_gas: Option<U256>,
    #[serde(default)]
    pub excess_blob_gas: Option<U256>,
    #[serde(default)]
    pub blob_gas_used: Option<U256>,
    #[serde(default)]
    pub bloom: Skip,
    #[serde(default)]
    pub coinbase: Skip,
    #[serde(default)]
    pub difficulty: Skip,
    #[serde(default)]
    pub extra_data: Skip,
    #[serde(default)]
    pub mix_hash: Skip,
    #[serde(default)]
    pub nonce: Skip,
    #[serde(default)]
    pub parent_beacon_block_root: Skip,
    #[serde(default)]
    pub parent_hash: Skip,
    #[serde(default)]
    pub receipt_trie: Skip,
    #[serde(default)]
    pub transactions_trie: Skip,
    #[serde(default)]
    pub uncle_hash: Skip,
    #[serde(default)]
    pub withdrawals_root: Skip,
    #[serde(default)]
    pub requests_hash: Skip,
    #[serde(default)]
    pub slot_number: Skip,
    #[serde(default)]
    pub block_access_list_hash: Skip,
}

/// One block of the test, valid or marked invalid.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FixtureBlock {
    /// The block's RLP, hex; an invalid block's may not decode at all.
    #[serde(default)]
    pub rlp: Option<String>,
    /// The exception a client must reject the block with; `None`: a valid block.
    #[serde(default)]
    pub expect_exception: Option<String>,
    #[serde(default)]
    pub block_header: Skip,
    #[serde(default)]
    pub transactions: Skip,
    #[serde(default)]
    pub uncle_headers: Skip,
    #[serde(default)]
    pub withdrawals: Skip,
    #[serde(default)]
    pub blocknumber: Skip,
    #[serde(default)]
    pub chainname: Skip,
    #[serde(default)]
    pub chainnetwork: Skip,
    #[serde(default)]
    pub rlp_decoded: Skip,
    #[serde(default)]
    pub transaction_sequence: Skip,
    #[serde(default)]
    pub has_big_int: Skip,
    #[serde(default)]
    pub execution_witness: Skip,
}

/// Whether a test's top-level keys are a blockchain test's (`blocks`, `genesisBlockHeader`)
/// or a state test's (`transaction`, `post`): how each command tells the other kind apart
/// from bad input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestKind {
    State,
    Blockchain,
    Unknown,
}

/// The kind of the test whose JSON text is `raw`, by its keys alone.
pub fn kind_of(raw: &str) -> TestKind {
    let Ok(keys) = serde_json::from_str::<BTreeMap<String, serde::de::IgnoredAny>>(raw) else {
        return TestKind::Unknown;
    };
    if keys.contains_key("blocks") && keys.contains_key("genesisBlockHeader") {
        TestKind::Blockchain
    } else if keys.contains_key("transaction") && keys.contains_key("post") {
        TestKind::State
    } else {
        TestKind::Unknown
    }
}
