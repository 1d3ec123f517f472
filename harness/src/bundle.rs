//! Repro bundles: one directory per divergence with everything needed to see and replay it.
//!
//! - `case.json`: the (minimized) block, both executors with versions, threads, seed or
//!   schedule, and the first differing level with expected vs actual;
//! - `schedule.json` when the divergence needs a controlled schedule;
//! - `alloc.json`, `env.json`, `txs.json`: the block as `evm t8n` input (transactions carry
//!   `secretKey`, which t8n signs with);
//! - `statetest.json` when one transaction suffices (ethereum/tests format; its expectation
//!   is the reference's result, so the candidate fails it);
//! - `README.md`: what diverged, in words, and the command that replays it.

use crate::diff::Divergence;
use crate::schedule::Schedule;
use crate::workload::secret_of;
use alloy_primitives::{B256, U256};
use lockstep_executors::{BlockInput, BlockOutput, Executor, State, Tx, TxOutcome, TxType, trie};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutorId {
    pub name: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub block: BlockInput,
    pub reference: ExecutorId,
    pub candidate: ExecutorId,
    pub threads: usize,
    /// The seed that generated the (unminimized) block, when it was generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Present when the divergence was found under a controlled schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    pub divergence: Divergence,
    /// `Divergence::kind`: what replays and minimization keep constant.
    pub kind: String,
    /// Of the re-check runs after minimization, how many diverged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub divergence_rate: Option<(usize, usize)>,
}

impl ExecutorId {
    pub fn of(e: &dyn Executor) -> ExecutorId {
        ExecutorId { name: e.name().into(), version: e.version() }
    }
}

impl Case {
    /// `divergence` between `reference` and `candidate` on `block`, found without a seed or
    /// a schedule (set those after).
    pub fn new(
        block: BlockInput,
        reference: &dyn Executor,
        candidate: &dyn Executor,
        threads: usize,
        divergence: Divergence,
    ) -> Case {
        Case {
            block,
            reference: ExecutorId::of(reference),
            candidate: ExecutorId::of(candidate),
            threads,
            seed: None,
            schedule: None,
            kind: divergence.kind(),
            divergence,
            divergence_rate: None,
        }
    }
}

/// Reads a bundle directory (or its `case.json`), with a clear error for a corrupt or partial one.
pub fn read(path: &Path) -> Result<Case, String> {
    let file = if path.is_dir() { path.join("case.json") } else { path.to_path_buf() };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("{}: cannot read the bundle's case: {e}", file.display()))?;
    let case: Case =
        serde_json::from_str(&text).map_err(|e| format!("{}: not a lockstep case: {e}", file.display()))?;
    if case.threads == 0 {
        return Err(format!("{}: threads must be at least 1", file.display()));
    }
    Ok(case)
}

pub fn write(dir: &Path, case: &Case, reference_output: &BlockOutput) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let pretty = |v: &dyn erased::Ser| v.to_pretty();
    std::fs::write(dir.join("case.json"), pretty(case))?;
    if let Some(s) = &case.schedule {
        std::fs::write(dir.join("schedule.json"), pretty(s))?;
    }
    std::fs::write(dir.join("alloc.json"), pretty(&alloc(&case.block.pre_state)))?;
    std::fs::write(dir.join("env.json"), pretty(&env(&case.block)))?;
    std::fs::write(dir.join("txs.json"), pretty(&Value::Array(case.block.txs.iter().map(t8n_tx).collect())))?;
    if case.block.txs.len() == 1 {
        std::fs::write(dir.join("statetest.json"), pretty(&state_test(case, reference_output)))?;
    } else {
        let _ = std::fs::remove_file(dir.join("statetest.json"));
    }
    std::fs::write(dir.join("README.md"), readme(dir, case))?;
    Ok(dir.to_path_buf())
}

mod erased {
    pub trait Ser {
        fn to_pretty(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_pretty(&self) -> String {
            serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
        }
    }
}

fn hex_u(v: impl std::fmt::LowerHex) -> String {
    format!("{v:#x}")
}

fn alloc(state: &State) -> Value {
    let mut m = serde_json::Map::new();
    for (a, acc) in state {
        let storage: serde_json::Map<String, Value> =
            acc.storage.iter().map(|(k, v)| (format!("{:#066x}", k), Value::String(format!("{:#066x}", v)))).collect();
        m.insert(
            a.to_string(),
            json!({ "balance": hex_u(acc.balance), "nonce": hex_u(acc.nonce), "code": acc.code.to_string(), "storage": storage }),
        );
    }
    Value::Object(m)
}

fn env(b: &BlockInput) -> Value {
    let e = &b.env;
    let mut v = json!({
        "currentCoinbase": e.coinbase.to_string(),
        "currentGasLimit": hex_u(e.gas_limit),
        "currentNumber": hex_u(e.number),
        "currentTimestamp": hex_u(e.timestamp),
        "currentDifficulty": hex_u(e.difficulty),
    });
    if let Some(r) = e.prevrandao {
        v["currentRandom"] = json!(r.to_string());
    }
    if let Some(f) = e.base_fee {
        v["currentBaseFee"] = json!(hex_u(f));
    }
    if let Some(x) = e.excess_blob_gas {
        v["currentExcessBlobGas"] = json!(hex_u(x));
    }
    if !e.block_hashes.is_empty() {
        v["blockHashes"] = json!(
            e.block_hashes
                .iter()
                .map(|(n, h)| (n.to_string(), Value::String(h.to_string())))
                .collect::<serde_json::Map<_, _>>()
        );
    }
    v
}

fn access_list(t: &Tx) -> Value {
    json!(
        t.access_list
            .iter()
            .map(|i| json!({"address": i.address.to_string(), "storageKeys": i.storage_keys}))
            .collect::<Vec<_>>()
    )
}

fn authorizations(t: &Tx) -> Value {
    json!(
        t.authorization_list
            .iter()
            .map(|a| json!({
                "chainId": hex_u(a.chain_id), "address": a.address.to_string(), "nonce": hex_u(a.nonce),
                "yParity": hex_u(a.y_parity), "v": hex_u(a.y_parity), "r": hex_u(a.r), "s": hex_u(a.s)
            }))
            .collect::<Vec<_>>()
    )
}

fn t8n_tx(t: &Tx) -> Value {
    let mut v = json!({
        "type": hex_u(t.tx_type.id()),
        "chainId": hex_u(t.chain_id.unwrap_or(1)),
        "nonce": hex_u(t.nonce),
        "gas": hex_u(t.gas_limit),
        "value": hex_u(t.value),
        "input": t.input.to_string(),
        "to": t.to.map(|a| Value::String(a.to_string())).unwrap_or(Value::Null),
        "v": "0x0", "r": "0x0", "s": "0x0",
        "sender": t.sender.to_string(),
        "secretKey": secret_of(&t.sender).map(|k| k.to_string()).unwrap_or_default(),
    });
    match t.tx_type {
        TxType::Legacy | TxType::Eip2930 => {
            v["gasPrice"] = json!(hex_u(t.gas_price));
            v["protected"] = json!(t.chain_id.is_some());
        }
        _ => {
            v["maxFeePerGas"] = json!(hex_u(t.gas_price));
            v["maxPriorityFeePerGas"] = json!(hex_u(t.max_priority_fee_per_gas.unwrap_or(0)));
        }
    }
    if t.tx_type != TxType::Legacy {
        v["accessList"] = access_list(t);
    }
    if t.tx_type == TxType::Eip4844 {
        v["blobVersionedHashes"] = json!(t.blob_hashes);
        v["maxFeePerBlobGas"] = json!(hex_u(t.max_fee_per_blob_gas.unwrap_or(0)));
    }
    if t.tx_type == TxType::Eip7702 {
        v["authorizationList"] = authorizations(t);
    }
    v
}

/// A one-transaction state test whose expectation is the reference's result.
fn state_test(case: &Case, reference: &BlockOutput) -> Value {
    let b = &case.block;
    let t = &b.txs[0];
    let mut tx = json!({
        "data": [t.input.to_string()],
        "gasLimit": [hex_u(t.gas_limit)],
        "value": [hex_u(t.value)],
        "nonce": hex_u(t.nonce),
        "to": t.to.map(|a| a.to_string()).unwrap_or_default(),
        "sender": t.sender.to_string(),
        "secretKey": secret_of(&t.sender).unwrap_or(B256::ZERO).to_string(),
        "chainId": hex_u(t.chain_id.unwrap_or(1)),
    });
    // No "type": like the official fixtures, the type follows from the fields present.
    match t.tx_type {
        TxType::Legacy | TxType::Eip2930 => tx["gasPrice"] = json!(hex_u(t.gas_price)),
        _ => {
            tx["maxFeePerGas"] = json!(hex_u(t.gas_price));
            tx["maxPriorityFeePerGas"] = json!(hex_u(t.max_priority_fee_per_gas.unwrap_or(0)));
        }
    }
    if t.tx_type != TxType::Legacy {
        tx["accessLists"] = json!([access_list(t)]);
    }
    if t.tx_type == TxType::Eip4844 {
        tx["blobVersionedHashes"] = json!(t.blob_hashes);
        tx["maxFeePerBlobGas"] = json!(hex_u(t.max_fee_per_blob_gas.unwrap_or(0)));
    }
    if t.tx_type == TxType::Eip7702 {
        tx["authorizationList"] = authorizations(t);
    }
    let mut post = json!({
        "hash": reference.state_root().to_string(),
        "logs": trie::logs_hash(reference.outcomes.first().map(|o| o.logs()).unwrap_or_default()).to_string(),
        "indexes": {"data": 0, "gas": 0, "value": 0},
        "txbytes": "0x",
    });
    if let Some(TxOutcome::Rejected { kind }) = reference.outcomes.first() {
        post["expectException"] = json!(format!("lockstep.{kind}"));
    }
    let mut env = env(b);
    env.as_object_mut().map(|m| m.remove("blockHashes"));
    if let Some(m) = env.as_object_mut() {
        m.insert("currentChainID".into(), json!(hex_u(U256::from(b.chain_id))));
    }
    let name = crate::engine::sanitize(&format!("lockstep_{}_vs_{}", case.candidate.name, case.reference.name));
    json!({ name: {
        "_info": {"comment": format!("lockstep repro: {} diverges from {} ({})", case.candidate.name, case.reference.name, case.kind)},
        "env": env,
        "pre": alloc(&b.pre_state),
        "transaction": tx,
        "post": { b.fork.fixture_name(): [post] },
    }})
}

fn readme(dir: &Path, case: &Case) -> String {
    let replay = if case.schedule.is_some() {
        format!("lockstep explore --replay {} --executor {}", dir.display(), case.candidate.name)
    } else {
        format!("lockstep replay {} --repeat 10", dir.display())
    };
    let rate = case
        .divergence_rate
        .map(|(h, n)| format!("\nIt diverged in {h} of {n} fresh runs after minimization.\n"))
        .unwrap_or_default();
    let st = if case.block.txs.len() == 1 {
        format!(
            "\nOne transaction suffices: `statetest.json` expects the reference's result\n(`lockstep statetest {} --executor {}`).\n",
            dir.join("statetest.json").display(),
            case.candidate.name
        )
    } else {
        String::new()
    };
    format!(
        "# {cand} diverges from {refn}\n\n{cand} ({cv}) gives a different result than {refn} ({rv}) on this {n}-transaction {fork} block at {threads} threads.\nFirst difference ({kind}):\n\n```\n{d}\n```\n{rate}{st}\nReplay:\n\n```\n{replay}\n```\n\nFiles: `case.json` (block, executors, divergence), `alloc.json`/`env.json`/`txs.json` (`evm t8n` input){sched}.\n",
        cand = case.candidate.name,
        refn = case.reference.name,
        cv = case.candidate.version,
        rv = case.reference.version,
        n = case.block.txs.len(),
        fork = case.block.fork,
        threads = case.threads,
        kind = case.kind,
        d = case.divergence,
        sched = if case.schedule.is_some() { ", `schedule.json` (the controlled schedule)" } else { "" },
    )
}
