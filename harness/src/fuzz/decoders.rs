//! The `decoders` target's body: one input given to every reader of outside data lockstep
//! has, each of which must answer with a value or an error, never panic, hang or allocate
//! without bound: the state-test and blockchain-test loaders (UTF-8 text, lossily), a bundle's
//! `case.json` and `schedule.json`, a t8n input (`{"alloc", "env", "txs"}`, the daemon's
//! request shape) imported as a block, and the bytes as a block's RLP.

use crate::repro::{bundle, import, t8n};
use crate::schedule::Schedule;
use lockstep_conformance::{LoadOptions, blockchain};
use lockstep_executors::Fork;
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;

/// A t8n input as one JSON object.
#[derive(Deserialize)]
struct T8nInput {
    alloc: t8n::Alloc,
    env: t8n::Env,
    txs: Vec<t8n::T8nTx>,
}

/// How many readers took `bytes` as a value (the rest gave errors).
pub fn decoders(bytes: &[u8]) -> usize {
    let text = String::from_utf8_lossy(bytes);
    let name: Arc<str> = Arc::from("fuzz-input.json");
    let opts = LoadOptions::default();
    let mut accepted = 0;
    let state = lockstep_conformance::load_text(name.clone(), &text, &opts, &|_| true);
    accepted += usize::from(!state.expanded.cases.is_empty());
    let chains = blockchain::load_text(name, &text, &opts, &|_| true);
    accepted += usize::from(!chains.chains.is_empty());
    accepted += usize::from(bundle::parse(Path::new("case.json"), &text).is_ok());
    accepted += usize::from(serde_json::from_str::<Schedule>(&text).is_ok());
    if let Ok(input) = serde_json::from_str::<T8nInput>(&text) {
        let fork = Fork::ALL[bytes.first().map_or(0, |b| *b as usize) % Fork::ALL.len()];
        let block = import::t8n_block(Path::new("fuzz-input"), &input.alloc, &input.env, &input.txs, fork, 1);
        accepted += usize::from(block.is_ok());
    }
    accepted += usize::from(blockchain::decode(&alloy_primitives::hex::encode(bytes)).is_ok());
    accepted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reader_answers_for_garbage_and_takes_its_own_format() {
        for junk in [&b""[..], b"{", b"\xff\xfe", b"[1,2", b"{\"a\":{\"env\":1}}", b"\xc0", b"\xf9\xff\xff"] {
            assert_eq!(decoders(junk), 0, "{junk:?}");
        }
        let fixtures = lockstep_conformance::fixtures_for_tests().unwrap();
        let add11 = std::fs::read(fixtures.join("ethereum-tests/GeneralStateTests/stExample/add11.json")).unwrap();
        assert_eq!(decoders(&add11), 1);
        let g = crate::workload::Workload::new(crate::workload::Family::Erc20, 3).generate(1);
        let (alloc, env, txs) = t8n::files(&g.block, &g.keys);
        let input = serde_json::json!({ "alloc": alloc, "env": env, "txs": txs }).to_string();
        assert_eq!(decoders(input.as_bytes()), 1);
    }
}
