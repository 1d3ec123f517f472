//! `lockstep fuzz corpus`: the seeds, seed corpora and dictionary of the fuzz targets, built
//! from the shared fixtures and the workload families so that none of it is committed:
//!
//! - `seeds.json`: official state tests, each test's vectors packed into one block
//!   ([`lockstep_conformance::pack`]), at the newest fork the test has, that the reference
//!   runs; what `statetest_mutation` inputs pick from;
//! - `corpus/TARGET/`: inputs that decode to each seed (`statetest_mutation`), to each
//!   workload family (`differential`, `schedules`, from seeded random bytes), and small files
//!   of every format the readers take (`decoders`);
//! - `lockstep.dict`: a libFuzzer dictionary of EVM opcodes, the workload contracts'
//!   selectors, precompile and system-contract addresses and hot storage keys.
//!
//! Every input is named by the SHA-256 of its bytes, so building again over an existing
//! corpus adds nothing twice.

use super::{FuzzCase, MutationCase, Seed};
use crate::repro::{bundle, t8n};
use crate::workload::{Family, Workload, contracts};
use crate::{Error, Result};
use alloy_primitives::{Address, U256};
use arbitrary::{Arbitrary, Unstructured};
use lockstep_executors::Sequential;
use rand::{RngCore, SeedableRng};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What [`build`] wrote.
#[derive(Debug, Default)]
pub struct Built {
    /// Seeds in `seeds.json`.
    pub seeds: usize,
    /// Inputs written, by target.
    pub inputs: Vec<(&'static str, usize)>,
    /// Entries of `lockstep.dict`.
    pub dictionary: usize,
}

/// The official state-test folders seeds come from, with the fork each is packed at when a
/// test has several (its newest).
const SEED_DIRS: &[&str] =
    &["ethereum-tests/GeneralStateTests", "eest/pectra-devnet-5/state_tests", "eest/fusaka-devnet-5/state_tests"];

/// Builds everything under `out` (the fuzz package's directory) from the fixtures at
/// `fixtures`, with at most `max_seeds` seeds spread evenly over the fixture files.
///
/// Errors: [`Error::Io`] for what cannot be written; [`Error::Usage`] when the fixtures give
/// no seed.
pub fn build(fixtures: &Path, out: &Path, max_seeds: usize) -> Result<Built> {
    let seeds = seeds(fixtures, max_seeds);
    if seeds.is_empty() {
        return Err(Error::Usage(format!("no state test under {} made a seed", fixtures.display())));
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    bundle::write_json(&out.join("seeds.json"), &seeds)?;
    let mut built = Built { seeds: seeds.len(), ..Default::default() };
    let corpus = out.join("corpus");
    built.inputs.push(("statetest_mutation", write_all(&corpus.join("statetest_mutation"), mutation_inputs(&seeds))?));
    let families = family_inputs();
    built.inputs.push(("differential", write_all(&corpus.join("differential"), families.clone())?));
    built.inputs.push(("schedules", write_all(&corpus.join("schedules"), families)?));
    built.inputs.push(("decoders", write_all(&corpus.join("decoders"), decoder_inputs(fixtures))?));
    let dict = dictionary();
    built.dictionary = dict.len();
    bundle::write_text(&out.join("lockstep.dict"), &(dict.join("\n") + "\n"))?;
    Ok(built)
}

/// Writes each input to `dir` under its SHA-256 (as libFuzzer names corpus files); returns how
/// many distinct inputs there are.
pub fn write_all(dir: &Path, inputs: Vec<Vec<u8>>) -> Result<usize> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut names = BTreeSet::new();
    for input in inputs {
        let name = sha256(&input);
        let path = dir.join(&name);
        std::fs::write(&path, &input).map_err(|e| Error::io(&path, e))?;
        names.insert(name);
    }
    Ok(names.len())
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    alloy_primitives::hex::encode(sha2::Sha256::digest(bytes))
}

/// Packed official state tests, `max` at most, taken evenly from the sorted files.
pub fn seeds(fixtures: &Path, max: usize) -> Vec<Seed> {
    let dirs: Vec<PathBuf> = SEED_DIRS.iter().map(|d| fixtures.join(d)).filter(|d| d.is_dir()).collect();
    let (files, _) = lockstep_conformance::discover(&dirs);
    let step = files.len().div_ceil(max.max(1)).max(1);
    let mut seeds = Vec::new();
    for file in files.iter().step_by(step) {
        let loaded = lockstep_conformance::load_file(file, None, &|_| true);
        // The newest fork of each test: a block per (test, fork) comes out in fork order.
        let mut packed = lockstep_conformance::pack::pack(&loaded.expanded.cases);
        packed.sort_by_key(|(_, b)| std::cmp::Reverse(b.fork));
        let Some((name, block)) = packed.into_iter().next() else { continue };
        if block.txs.is_empty() || crate::check::reference_output(&Sequential, &block.clone().into()).is_err() {
            continue;
        }
        seeds.push(Seed { name, block });
        if seeds.len() == max {
            break;
        }
    }
    seeds
}

/// Seeded random bytes, `len` of them, the `n`-th draw of `seed`.
fn random_bytes(seed: u64, n: u64, len: usize) -> Vec<u8> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut bytes = vec![0u8; len];
    rng.fill_bytes(&mut bytes);
    bytes
}

/// For each seed, an input that picks it, unmutated, and one with mutations.
fn mutation_inputs(seeds: &[Seed]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for want in 0..seeds.len() {
        let mut found = 0;
        for n in 0..10_000u64 {
            let mut bytes = random_bytes(want as u64, n, 96);
            bytes[..2].copy_from_slice(&(want as u16).to_le_bytes());
            let Ok(case) = MutationCase::arbitrary_take_rest(Unstructured::new(&bytes)) else { continue };
            if case.seed as usize % seeds.len() != want || (found == 0) != case.mutations.is_empty() {
                continue;
            }
            out.push(bytes);
            found += 1;
            if found == 2 {
                break;
            }
        }
    }
    out
}

/// Two inputs for each workload family.
fn family_inputs() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for family in Family::ALL {
        let mut found = 0;
        for n in 0..100_000u64 {
            let bytes = random_bytes(0x5eed, n, 64);
            let Ok(case) = FuzzCase::arbitrary_take_rest(Unstructured::new(&bytes)) else { continue };
            if case.block.family == family {
                out.push(bytes);
                found += 1;
                if found == 2 {
                    break;
                }
            }
        }
    }
    out
}

/// Small inputs of every format the readers take.
fn decoder_inputs(fixtures: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for file in [
        "ethereum-tests/GeneralStateTests/stExample/add11.json",
        "ethereum-tests/GeneralStateTests/stExample/accessListExample.json",
        "ethereum-tests/BlockchainTests/ValidBlocks/bcExample/basefeeExample.json",
    ] {
        if let Ok(bytes) = std::fs::read(fixtures.join(file)) {
            // A blockchain test's first block RLP, as raw bytes, for the RLP decoder.
            if let Ok(serde_json::Value::Object(tests)) = serde_json::from_slice(&bytes) {
                let rlp = tests.values().next().and_then(|t| t["blocks"][0]["rlp"].as_str().map(str::to_string));
                if let Some(raw) = rlp.and_then(|r| alloy_primitives::hex::decode(r).ok()) {
                    out.push(raw);
                }
            }
            out.push(bytes);
        }
    }
    let g = Workload::new(Family::Erc20, 4).generate(1);
    let (alloc, env, txs) = t8n::files(&g.block, &g.keys);
    out.push(serde_json::json!({ "alloc": alloc, "env": env, "txs": txs }).to_string().into_bytes());
    let case =
        bundle::Case::new(g.block.clone(), &Sequential, &Sequential, 2, crate::check::Divergence::Hang { after_ms: 1 });
    out.push(serde_json::to_vec(&case).expect("a case serializes"));
    let schedule = crate::schedule::Schedule { workers: 2, choices: vec![0, 1, 1, 0], trace: Vec::new() };
    out.push(serde_json::to_vec(&schedule).expect("a schedule serializes"));
    out
}

fn quoted(name: &str, bytes: &[u8]) -> String {
    let escaped: String = bytes.iter().map(|b| format!("\\x{b:02x}")).collect();
    format!("{name}=\"{escaped}\"")
}

/// The dictionary's lines, in libFuzzer's `name="\xNN..."` form.
pub fn dictionary() -> Vec<String> {
    let mut lines = Vec::new();
    // Opcodes whose order and values matter most to parallel execution: storage, balance,
    // calls, creation, logs, block context, and the pushes that feed them.
    let opcodes: &[(&str, u8)] = &[
        ("balance", 0x31),
        ("selfbalance", 0x47),
        ("coinbase", 0x41),
        ("number", 0x43),
        ("blockhash", 0x40),
        ("sload", 0x54),
        ("sstore", 0x55),
        ("tload", 0x5c),
        ("tstore", 0x5d),
        ("extcodehash", 0x3f),
        ("extcodesize", 0x3b),
        ("call", 0xf1),
        ("callcode", 0xf2),
        ("delegatecall", 0xf4),
        ("staticcall", 0xfa),
        ("create", 0xf0),
        ("create2", 0xf5),
        ("selfdestruct", 0xff),
        ("revert", 0xfd),
        ("return", 0xf3),
        ("log0", 0xa0),
        ("log1", 0xa1),
        ("push0", 0x5f),
        ("push1", 0x60),
        ("push20", 0x73),
        ("push32", 0x7f),
        ("gas", 0x5a),
        ("jumpdest", 0x5b),
        ("invalid", 0xfe),
    ];
    for (name, op) in opcodes {
        lines.push(quoted(&format!("op_{name}"), &[*op]));
    }
    for (contract, compiled) in &contracts::built().contracts {
        for (signature, selector) in &compiled.methods {
            let Ok(bytes) = alloy_primitives::hex::decode(selector) else { continue };
            let method = signature.split('(').next().unwrap_or(signature);
            lines.push(quoted(&format!("sel_{contract}_{method}"), &bytes));
        }
    }
    for n in 1u8..=0x11 {
        lines.push(quoted(&format!("precompile_{n:02x}"), Address::with_last_byte(n).as_slice()));
    }
    for (name, a) in [
        ("beacon_roots", lockstep_executors::BEACON_ROOTS_ADDRESS),
        ("history", lockstep_executors::HISTORY_STORAGE_ADDRESS),
        ("withdrawal_requests", lockstep_executors::WITHDRAWAL_REQUEST_ADDRESS),
        ("consolidation_requests", lockstep_executors::CONSOLIDATION_REQUEST_ADDRESS),
        ("coinbase_addr", crate::workload::COINBASE),
    ] {
        lines.push(quoted(name, a.as_slice()));
    }
    // Hot slots: the first few, as the workload contracts lay out their state, and the
    // balance-mapping slot of the workloads' first senders.
    for slot in 0u64..4 {
        lines.push(quoted(&format!("slot_{slot}"), &U256::from(slot).to_be_bytes::<32>()));
    }
    for i in 0..2 {
        let key = contracts::mapping_slot(contracts::word(crate::workload::user(0, i).0), 0);
        lines.push(quoted(&format!("slot_balance_of_user{i}"), &key.to_be_bytes::<32>()));
    }
    lines
}
