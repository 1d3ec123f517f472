//! The JSON shape of an official state test (ethereum/tests `GeneralStateTests`,
//! execution-spec-tests `state_tests`), read leniently: a field we do not know is reported
//! as a warning, never a failure.
//!
//! revm's `statetest-types` were the first choice, but they reject unknown fields
//! (`deny_unknown_fields`), map an unknown fork to a panic, and carry revm types; lockstep's
//! model must not. These types only describe the file; `case.rs` turns them into the model.

use crate::json::{self, JsonPath, Location, Members};
use alloy_primitives::{Address, B256, Bytes, U256};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
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

/// A fixture file's tests, each parsed on its own: a broken test does not hide the others.
#[derive(Debug)]
pub struct ParsedFile<'a, T = StateTest> {
    /// In name order; a name the file repeats appears once, with an error.
    pub tests: Vec<ParsedTest<'a, T>>,
}

/// One test of a file.
#[derive(Debug)]
pub struct ParsedTest<'a, T = StateTest> {
    /// The test's name (its key in the file).
    pub name: String,
    /// The test's JSON text, a slice of the file's text.
    pub raw: &'a str,
    /// The test, or the first problem found in it, located in the file.
    pub test: Result<T, FieldError>,
    /// Paths (from the test) of fields we do not know: `env.someField`.
    pub unknown_fields: Vec<String>,
}

/// A problem at a place in a fixture file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// What is wrong, without the position.
    pub message: String,
    /// Where: the path from the test (from the file's root for an error about the whole file)
    /// and the line and column in the file.
    pub at: Location,
}

/// Parses a fixture file's text into its tests. `Err`: the file as a whole is unusable (not
/// JSON, or not an object of tests), with the path from the file's root where it broke.
pub fn parse(text: &str) -> Result<ParsedFile<'_>, FieldError> {
    parse_as(text, "state test")
}

/// [`parse`] for tests of another shape `T`, `kind` naming it in errors ("blockchain test").
pub fn parse_as<'a, T: serde::de::DeserializeOwned>(
    text: &'a str,
    kind: &str,
) -> Result<ParsedFile<'a, T>, FieldError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let members = serde_path_to_error::deserialize::<_, Members>(&mut de)
        .map_err(|e| (JsonPath::from_tracked(e.path()), e.into_inner()))
        .and_then(|m| de.end().map(|()| m).map_err(|e| (JsonPath::root(), e)));
    let members = match members {
        Ok(m) => m.0,
        Err((mut path, inner)) => {
            let inner = &inner;
            // A syntax error deep in a test: walk again to find the field it broke in.
            if (inner.is_syntax() || inner.is_eof())
                && let Err((deeper, again)) = json::check_duplicates(text)
                && (again.line(), again.column()) == (inner.line(), inner.column())
            {
                path = deeper;
            }
            let what = if inner.is_data() { "not a fixture file" } else { "malformed JSON" };
            let (line, column) = json::error_position(inner);
            let message = format!("{what}: {}", json::message(inner));
            return Err(FieldError { message, at: Location { path, line, column } });
        }
    };
    let mut by_name: BTreeMap<String, Vec<&RawValue>> = BTreeMap::new();
    for (name, raw) in members {
        by_name.entry(name).or_default().push(raw);
    }
    let tests = by_name
        .into_iter()
        .map(|(name, copies)| {
            let raw = copies[0].get();
            if copies.len() > 1 {
                let lines: Vec<String> =
                    copies.iter().map(|c| json::position(text, json::offset_in(text, c.get())).0.to_string()).collect();
                let (line, column) = json::position(text, json::offset_in(text, raw));
                let message = format!(
                    "the file holds {} tests of this name (lines {}): ambiguous, none is run",
                    copies.len(),
                    lines.join(", ")
                );
                let at = Location { path: JsonPath::root(), line, column };
                return ParsedTest { name, raw, test: Err(FieldError { message, at }), unknown_fields: Vec::new() };
            }
            let (test, unknown_fields) = parse_test(text, raw, kind);
            ParsedTest { name, raw, test, unknown_fields }
        })
        .collect();
    Ok(ParsedFile { tests })
}

/// Parses one test, `raw` being its text inside the file's `text`: first a pass that rejects
/// duplicate keys, then the typed read, collecting unknown fields.
fn parse_test<T: serde::de::DeserializeOwned>(
    text: &str,
    raw: &str,
    kind: &str,
) -> (Result<T, FieldError>, Vec<String>) {
    let offset = json::offset_in(text, raw);
    let located = |path: JsonPath, e: &serde_json::Error| {
        let (line, column) = json::shift(text, offset, json::error_position(e));
        Location { path, line, column }
    };
    if let Err((path, e)) = json::check_duplicates(raw) {
        let at = located(path, &e);
        return (Err(FieldError { message: format!("not a {kind}: {}", json::message(&e)), at }), Vec::new());
    }
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_str(raw);
    let mut note = |p: serde_ignored::Path| unknown.push(p.to_string());
    let result = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(&mut de, &mut note));
    match result {
        Ok(test) => (Ok(test), unknown),
        Err(e) => {
            let mut path = JsonPath::from_tracked(e.path());
            let message = json::message(e.inner());
            // serde names a missing field in words and stops at its parent; name it in the path.
            if let Some(field) = message.strip_prefix("missing field `").and_then(|m| m.strip_suffix('`')) {
                path = path.key(field);
            }
            let at = located(path, e.inner());
            (Err(FieldError { message: format!("not a {kind}: {message}"), at }), unknown)
        }
    }
}
