//! The JSON shape of an official state test (ethereum/tests `GeneralStateTests`,
//! execution-spec-tests `state_tests`), read leniently: a field we do not know is reported
//! as a warning, never a failure.
//!
//! revm's `statetest-types` were the first choice, but they reject unknown fields
//! (`deny_unknown_fields`), map an unknown fork to a panic, and carry revm types; lockstep's
//! model must not. These types only describe the file; `case.rs` turns them into the model.

use alloy_primitives::{Address, B256, Bytes, U256};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One fixture file: test name -> test.
pub type StateTestFile = BTreeMap<String, StateTest>;

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct StateTest {
    #[serde(rename = "_info", default, skip_serializing)]
    pub info: Skip,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Config>,
    pub env: Env,
    pub pre: BTreeMap<Address, FixtureAccount>,
    pub transaction: TransactionParts,
    /// Fork name -> one entry per (data, gas, value) combination.
    pub post: BTreeMap<String, Vec<PostEntry>>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chainid: Option<U256>,
    #[serde(rename = "blobSchedule", default, skip_serializing)]
    pub blob_schedule: Skip,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Env {
    pub current_coinbase: Address,
    #[serde(default)]
    pub current_difficulty: U256,
    pub current_gas_limit: U256,
    pub current_number: U256,
    pub current_timestamp: U256,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_base_fee: Option<U256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_random: Option<B256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_excess_blob_gas: Option<U256>,
    #[serde(rename = "currentChainID", default, skip_serializing_if = "Option::is_none")]
    pub current_chain_id: Option<U256>,
    // Known, and not used by a state test's single transaction.
    #[serde(default, skip_serializing)]
    pub previous_hash: Skip,
    #[serde(default, skip_serializing)]
    pub current_beacon_root: Skip,
    #[serde(default, skip_serializing)]
    pub current_withdrawals_root: Skip,
    #[serde(default, skip_serializing)]
    pub slot_number: Skip,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct FixtureAccount {
    pub balance: U256,
    pub code: Bytes,
    pub nonce: U256,
    pub storage: BTreeMap<U256, U256>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionParts {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub tx_type: Option<U256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<U256>,
    pub data: Vec<Bytes>,
    pub gas_limit: Vec<U256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_price: Option<U256>,
    pub nonce: U256,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<B256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<Address>,
    /// Empty string: contract creation.
    #[serde(default, deserialize_with = "address_or_empty", serialize_with = "ser_address_or_empty")]
    pub to: Option<Address>,
    pub value: Vec<U256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_per_gas: Option<U256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_priority_fee_per_gas: Option<U256>,
    /// One access list per data index; `null` where that index has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_lists: Option<Vec<Option<Vec<FixtureAccessListItem>>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_list: Option<Vec<FixtureAuthorization>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_versioned_hashes: Option<Vec<B256>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_per_blob_gas: Option<U256>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FixtureAccessListItem {
    pub address: Address,
    pub storage_keys: Vec<B256>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FixtureAuthorization {
    pub chain_id: U256,
    pub address: Address,
    pub nonce: U256,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<U256>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y_parity: Option<U256>,
    pub r: U256,
    pub s: U256,
    /// The recovered authority, as the filler saw it; the executor recovers it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<Address>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostEntry {
    /// State root after the transaction.
    pub hash: B256,
    /// `keccak256(rlp(logs))`.
    pub logs: B256,
    pub indexes: Indexes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_exception: Option<String>,
    /// The full post-state, in newer fixtures; used to explain a root mismatch.
    #[serde(default, alias = "postState", skip_serializing_if = "Option::is_none")]
    pub state: Option<BTreeMap<Address, FixtureAccount>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txbytes: Option<Bytes>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
pub struct Indexes {
    pub data: usize,
    pub gas: usize,
    pub value: usize,
}

fn address_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Address>, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() { Ok(None) } else { s.parse().map(Some).map_err(de::Error::custom) }
}

fn ser_address_or_empty<S: serde::Serializer>(a: &Option<Address>, s: S) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => a.serialize(s),
        None => s.serialize_str(""),
    }
}

/// A value we accept and do not need. Unlike `serde::de::IgnoredAny`, consuming it does not
/// count as an unknown field for the warnings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

impl Serialize for Skip {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_none<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Skip, D::Error> {
        Skip::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

/// Parses a fixture file's text, collecting the paths of fields we do not know.
pub fn parse(text: &str) -> Result<(StateTestFile, Vec<String>), serde_json::Error> {
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let file: StateTestFile = serde_ignored::deserialize(&mut de, |path| unknown.push(path.to_string()))?;
    de.end()?;
    Ok((file, unknown))
}

/// Parses one test of a file on its own; used to find which test made a file unreadable.
pub fn parse_test(value: serde_json::Value) -> Result<StateTest, serde_json::Error> {
    serde_json::from_value(value)
}
