//! From a state test to cases: one per (fork, post entry), each a one-transaction
//! `BlockInput` plus what the fixture expects of it.

use crate::fixture::{FixtureAccount, Indexes, PostEntry, StateTest};
use crate::json::{JsonPath, Location};
use crate::skip;
use alloy_primitives::{Address, B256, U256};
use lockstep_executors::{
    AccessListItem, Account, Authorization, BlockEnv, BlockInput, Fork, RejectKind, State, Tx, TxType,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Names one case: file, test, fork and the post entry's indexes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CaseId {
    pub file: Arc<str>,
    pub test: Arc<str>,
    pub fork: String,
    pub indexes: Indexes,
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} :: {} [{} d{} g{} v{}]",
            visible(&self.file),
            visible(&self.test),
            visible(&self.fork),
            self.indexes.data,
            self.indexes.gas,
            self.indexes.value
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    pub state_root: B256,
    pub logs_hash: B256,
    /// The fixture's exception names, `|`-separated alternatives.
    pub exception: Option<String>,
    pub post_state: Option<State>,
    /// The beneficiary, on a fork without EIP-161 clearing (before Spurious Dragon). The
    /// fillers (geth's state-test runner, and retesteth through it) credit the beneficiary a
    /// zero mining reward after the transaction, whether it ran or was rejected; with no
    /// clearing, a beneficiary that did not exist is left as an empty account, and the
    /// expected root holds it. From Spurious Dragon on the touched empty account is cleared
    /// and leaves no trace. The check applies it, not the executors: a rejected transaction in
    /// a block still changes nothing.
    pub zero_reward_to: Option<Address>,
}

impl Expectation {
    /// The reject kinds the expected exception allows; empty when the name is not one we map
    /// (then any rejection satisfies it, as in revm's runner).
    pub fn allowed_kinds(&self) -> Vec<RejectKind> {
        self.exception.as_deref().map(exception_kinds).unwrap_or_default()
    }
}

/// What a case became.
#[derive(Clone, Debug)]
pub enum CaseInput {
    Block(Box<BlockInput>),
    /// The fixture's transaction cannot be expressed at all (a nonce above 2^64-1, a blob or
    /// set-code transaction without a recipient). Such cases always expect an exception.
    Unbuildable {
        /// Why, in words.
        why: String,
        /// The field that makes it so.
        at: Location,
    },
}

#[derive(Clone, Debug)]
pub struct Case {
    pub id: CaseId,
    pub fork: Fork,
    pub input: CaseInput,
    pub expect: Expectation,
}

/// Input that could not be used: names the file, the test (`-` for the file as a whole) and,
/// when there is one, the field with its line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseError {
    /// The file's path, as displayed.
    pub file: Arc<str>,
    /// The test's name; `-` when the error is about the file or a path.
    pub test: Arc<str>,
    /// The field: its path from the test (from the file's root when `test` is `-`), line and
    /// column.
    pub at: Option<Location>,
    /// What is wrong.
    pub message: String,
}

impl CaseError {
    /// An error about a whole file or path, at no field.
    pub fn file(file: &Arc<str>, message: impl Into<String>) -> CaseError {
        CaseError { file: file.clone(), test: Arc::from("-"), at: None, message: message.into() }
    }
}

/// `file :: test: message (at `field`, line L, column C)`, control characters escaped.
impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} :: {}: {}", visible(&self.file), visible(&self.test), visible(&self.message))?;
        if let Some(at) = &self.at {
            write!(f, " (at {})", visible(&at.to_string()))?;
        }
        Ok(())
    }
}

impl std::error::Error for CaseError {}

/// `s` with control characters (and the bidirectional-text controls, which reorder what a
/// terminal shows) written as `\u{..}` escapes, so that a name from a fixture prints as one
/// inert piece of text.
pub fn visible(s: &str) -> Cow<'_, str> {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A case the skip list holds back, with its reason.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub id: CaseId,
    pub reason: &'static str,
}

#[derive(Default, Debug)]
pub struct Expanded {
    pub cases: Vec<Case>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<CaseError>,
}

/// Expands one test. `fork_filter` keeps only the named fork. Errors name the field they are
/// about; their line and column are 0 (the text is not known here: [`crate::load_file`] fills
/// them in).
pub fn expand(file: &Arc<str>, name: &str, test: &StateTest, fork_filter: Option<Fork>, out: &mut Expanded) {
    let test_name: Arc<str> = Arc::from(name);
    let err = |path: JsonPath, message: String| CaseError {
        file: file.clone(),
        test: test_name.clone(),
        at: Some(Location::at(path)),
        message,
    };
    let root = JsonPath::root();
    if test.post.is_empty() {
        out.errors.push(err(root.key("post"), "no post entries: nothing to check".into()));
        return;
    }
    let pre = match state_of(&test.pre, &root.key("pre")) {
        Ok(p) => p,
        Err((path, m)) => return out.errors.push(err(path, m)),
    };
    let sender = match sender(test) {
        Ok(s) => s,
        Err((path, m)) => return out.errors.push(err(path, m)),
    };
    for (fork_name, entries) in &test.post {
        let at_fork = root.key("post").key(fork_name.as_str());
        let id = |e: &PostEntry| CaseId {
            file: file.clone(),
            test: test_name.clone(),
            fork: fork_name.clone(),
            indexes: e.indexes,
        };
        if entries.is_empty() {
            out.errors.push(err(at_fork, format!("no post entries for `{fork_name}`: nothing to check")));
            continue;
        }
        if let Some(reason) = skip::fork_reason(fork_name) {
            out.skipped.extend(entries.iter().map(|e| Skipped { id: id(e), reason }));
            continue;
        }
        let Some(fork) = Fork::from_name(fork_name) else {
            out.errors.push(err(at_fork, format!("unknown fork `{fork_name}` ({} post entries)", entries.len())));
            continue;
        };
        if fork_filter.is_some_and(|f| f != fork) {
            continue;
        }
        for (i, entry) in entries.iter().enumerate() {
            let at_entry = at_fork.index(i);
            match build(test, &pre, sender, fork, entry, &at_entry) {
                Ok(input) => out.cases.push(Case {
                    id: id(entry),
                    fork,
                    input,
                    expect: Expectation {
                        state_root: entry.hash,
                        logs_hash: entry.logs,
                        exception: entry.expect_exception.clone(),
                        post_state: entry.state.as_ref().and_then(|s| state_of(s, &root).ok()),
                        zero_reward_to: (!fork.at_least(Fork::SpuriousDragon)).then_some(test.env.current_coinbase),
                    },
                }),
                Err((path, m)) => {
                    let Indexes { data, gas, value } = entry.indexes;
                    out.errors.push(err(path, format!("{fork_name} d{data} g{gas} v{value}: {m}")))
                }
            }
        }
    }
}

/// An error in words, at the field it is about.
type FieldErr = (JsonPath, String);

/// The model state of a fixture's accounts (`pre`, `postState`), which stand at `at`; zero
/// slots left out.
pub(crate) fn state_of(
    accounts: &std::collections::BTreeMap<Address, FixtureAccount>,
    at: &JsonPath,
) -> Result<State, FieldErr> {
    accounts
        .iter()
        .map(|(a, acc)| {
            let nonce = u64::try_from(acc.nonce)
                .map_err(|_| (at.key(a.to_string()).key("nonce"), format!("account {a}: nonce above 2^64-1")))?;
            let storage = acc.storage.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (*k, *v)).collect();
            Ok((*a, Account { balance: acc.balance, nonce, code: acc.code.clone(), storage }))
        })
        .collect()
}

fn sender(test: &StateTest) -> Result<Address, FieldErr> {
    if let Some(s) = test.transaction.sender {
        return Ok(s);
    }
    let at = JsonPath::root().key("transaction").key("secretKey");
    let key =
        test.transaction.secret_key.ok_or((at.clone(), "transaction has neither `sender` nor `secretKey`".into()))?;
    let key = k256::ecdsa::SigningKey::from_slice(key.as_slice()).map_err(|e| (at, format!("bad secretKey: {e}")))?;
    let point = key.verifying_key().to_encoded_point(false);
    Ok(Address::from_raw_public_key(&point.as_bytes()[1..]))
}

fn u128_sat(v: U256) -> u128 {
    v.try_into().unwrap_or(u128::MAX)
}

fn build(
    test: &StateTest,
    pre: &State,
    sender: Address,
    fork: Fork,
    entry: &PostEntry,
    at_entry: &JsonPath,
) -> Result<CaseInput, FieldErr> {
    let t = &test.transaction;
    let ix = entry.indexes;
    let tx = JsonPath::root().key("transaction");
    let out_of_range = |what: &str, index: usize, vector: &str, len: usize| {
        let entries = if len == 1 { "entry" } else { "entries" };
        let message = format!("{what} index {index} out of range: `transaction.{vector}` has {len} {entries}");
        (at_entry.key("indexes").key(what), message)
    };
    let input = t.data.get(ix.data).ok_or_else(|| out_of_range("data", ix.data, "data", t.data.len()))?;
    let gas_limit =
        t.gas_limit.get(ix.gas).ok_or_else(|| out_of_range("gas", ix.gas, "gasLimit", t.gas_limit.len()))?;
    let value = t.value.get(ix.value).ok_or_else(|| out_of_range("value", ix.value, "value", t.value.len()))?;
    let access_list = t.access_lists.as_ref().and_then(|l| l.get(ix.data).cloned().flatten());

    // The type is explicit in newer fixtures and implied by the fields present in older ones.
    let tx_type = match t.tx_type {
        Some(ty) => u8::try_from(ty)
            .ok()
            .and_then(TxType::from_id)
            .ok_or_else(|| (tx.key("type"), format!("unknown transaction type {ty}")))?,
        None if t.authorization_list.is_some() => TxType::Eip7702,
        None if t.max_fee_per_blob_gas.is_some() => TxType::Eip4844,
        None if t.max_fee_per_gas.is_some() => TxType::Eip1559,
        None if access_list.is_some() => TxType::Eip2930,
        None => TxType::Legacy,
    };
    if matches!(tx_type, TxType::Eip4844 | TxType::Eip7702) && t.to.is_none() {
        let why = format!("{tx_type:?} transaction without a recipient");
        return Ok(CaseInput::Unbuildable { why, at: Location::at(tx.key("to")) });
    }
    let Ok(nonce) = u64::try_from(t.nonce) else {
        let why = "transaction nonce above 2^64-1".into();
        return Ok(CaseInput::Unbuildable { why, at: Location::at(tx.key("nonce")) });
    };
    let env = &test.env;
    let chain_id = test
        .env
        .current_chain_id
        .or(test.config.as_ref().and_then(|c| c.chainid))
        .map(|c| c.try_into().unwrap_or(u64::MAX))
        .unwrap_or(1);
    let authorization_list = t
        .authorization_list
        .iter()
        .flatten()
        .map(|a| {
            Ok(Authorization {
                chain_id: a.chain_id,
                address: a.address,
                nonce: a.nonce.try_into().unwrap_or(u64::MAX),
                y_parity: a.y_parity.or(a.v).map(|v| v.try_into().unwrap_or(u8::MAX)).unwrap_or_default(),
                r: a.r,
                s: a.s,
            })
        })
        .collect::<Result<Vec<_>, FieldErr>>()?;
    let tx = Tx {
        tx_type,
        sender,
        to: t.to,
        value: *value,
        input: input.clone(),
        gas_limit: gas_limit.saturating_to(),
        gas_price: u128_sat(t.gas_price.or(t.max_fee_per_gas).unwrap_or_default()),
        max_priority_fee_per_gas: t.max_priority_fee_per_gas.map(u128_sat),
        nonce,
        chain_id: Some(t.chain_id.map(|c| c.try_into().unwrap_or(u64::MAX)).unwrap_or(chain_id)),
        access_list: access_list
            .unwrap_or_default()
            .into_iter()
            .map(|i| AccessListItem { address: i.address, storage_keys: i.storage_keys })
            .collect(),
        blob_hashes: t.blob_versioned_hashes.clone().unwrap_or_default(),
        max_fee_per_blob_gas: t.max_fee_per_blob_gas.map(u128_sat),
        authorization_list,
        secret_key: t.secret_key,
        signature: None,
    };
    let block_env = BlockEnv {
        number: env.current_number,
        timestamp: env.current_timestamp,
        coinbase: env.current_coinbase,
        gas_limit: env.current_gas_limit.saturating_to(),
        base_fee: env.current_base_fee.map(|b| b.saturating_to()),
        difficulty: env.current_difficulty,
        // Post-merge fixtures without a random value run with zero, as revm's runner does.
        prevrandao: env.current_random.or((fork >= Fork::Merge).then_some(B256::ZERO)),
        excess_blob_gas: env.current_excess_blob_gas.map(|e| e.saturating_to()),
        block_hashes: BlockEnv::state_test_hashes(env.current_number),
    };
    Ok(CaseInput::Block(Box::new(BlockInput {
        fork,
        chain_id,
        env: block_env,
        pre_state: pre.clone(),
        txs: vec![tx],
        rules: None,
    })))
}

/// The reject kinds an official exception name stands for. Names we do not know map to
/// nothing (any rejection is accepted for them).
pub fn exception_kinds(names: &str) -> Vec<RejectKind> {
    let mut kinds = Vec::new();
    for name in names.split('|') {
        let name = name.trim().trim_start_matches("TransactionException.");
        let k: &[RejectKind] = match name {
            "INTRINSIC_GAS_TOO_LOW" | "INTRINSIC_GAS_BELOW_FLOOR_GAS_COST" => &[RejectKind::IntrinsicGas],
            "INSUFFICIENT_ACCOUNT_FUNDS" => &[RejectKind::InsufficientFunds],
            "GASLIMIT_PRICE_PRODUCT_OVERFLOW" => &[RejectKind::Overflow, RejectKind::InsufficientFunds],
            "SENDER_NOT_EOA" => &[RejectKind::SenderHasCode],
            "GAS_LIMIT_EXCEEDS_MAXIMUM" => &[RejectKind::GasLimitAboveCap],
            "GAS_ALLOWANCE_EXCEEDED" => &[RejectKind::GasLimitAboveBlock],
            "INITCODE_SIZE_EXCEEDED" => &[RejectKind::InitCodeTooLarge],
            "INSUFFICIENT_MAX_FEE_PER_GAS" => &[RejectKind::FeeCapBelowBaseFee],
            "PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS" => &[RejectKind::PriorityFeeAboveFeeCap],
            "NONCE_IS_MAX" => &[RejectKind::NonceOverflow],
            "NONCE_MISMATCH_TOO_LOW" => &[RejectKind::NonceTooLow],
            "NONCE_MISMATCH_TOO_HIGH" => &[RejectKind::NonceTooHigh],
            "TYPE_3_TX_PRE_FORK" | "TYPE_4_TX_PRE_FORK" => &[RejectKind::TypeNotSupported],
            "INSUFFICIENT_MAX_FEE_PER_BLOB_GAS"
            | "TYPE_3_TX_ZERO_BLOBS"
            | "TYPE_3_TX_BLOB_COUNT_EXCEEDED"
            | "TYPE_3_TX_INVALID_BLOB_VERSIONED_HASH"
            | "TYPE_3_TX_MAX_BLOB_GAS_ALLOWANCE_EXCEEDED"
            | "TYPE_3_TX_CONTRACT_CREATION" => &[RejectKind::Blob],
            "TYPE_4_EMPTY_AUTHORIZATION_LIST" | "TYPE_4_TX_CONTRACT_CREATION" => &[RejectKind::Authorization],
            _ => return Vec::new(),
        };
        kinds.extend_from_slice(k);
    }
    kinds
}
