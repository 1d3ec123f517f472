//! Blocks made elsewhere, for `replay` and `minimize`: an `evm t8n` input directory
//! (`alloc.json`, `env.json`, `txs.json`, as execution-spec-tests or another fuzzer writes
//! them), or one case of an official state-test file. Senders come from `sender`, else the
//! `secretKey`, else the signature.

use super::t8n::{self, Alloc, Env, T8nTx};
use crate::{Error, Result};
use lockstep_conformance::{CaseInput, load_file};
use lockstep_executors::{BlockInput, Fork, TxType};
use std::path::Path;

/// What reading an imported block needs besides its files: the `--state.*` switches of a t8n
/// input, or which case of a state-test file.
#[derive(Clone, Debug, Default)]
pub struct ImportSpec {
    /// The fork (required for either kind).
    pub fork: Option<Fork>,
    /// A t8n input's chain id.
    pub chain_id: u64,
    /// The test of a state-test file that holds several.
    pub test: Option<String>,
    /// The state-test case's data, gas and value indexes.
    pub indexes: [usize; 3],
}

/// Whether `path` is an official state-test file rather than a `BlockInput` or a bundle's
/// `case.json`.
pub fn is_state_test(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else { return false };
    let Ok(serde_json::Value::Object(tests)) = serde_json::from_str::<serde_json::Value>(&text) else { return false };
    tests.values().next().is_some_and(|t| t.get("transaction").is_some() && t.get("post").is_some())
}

/// The block at `path` when it is a t8n input directory or a state-test file; `None` for
/// anything else (a bundle, a `block.json`).
///
/// Errors: [`Error::Usage`] without `spec.fork`; those of [`t8n_dir`] and [`state_test_case`].
pub fn imported(path: &Path, spec: &ImportSpec) -> Result<Option<BlockInput>> {
    let fork = |what: &str| {
        spec.fork.ok_or_else(|| Error::Usage(format!("{} is {what}: give its fork with --fork", path.display())))
    };
    if is_t8n_dir(path) {
        return t8n_dir(path, fork("a t8n input directory")?, spec.chain_id).map(Some);
    }
    if path.is_file() && is_state_test(path) {
        let fork = fork("a state-test file")?;
        return state_test_case(path, spec.test.as_deref(), fork, spec.indexes).map(Some);
    }
    Ok(None)
}

/// Whether `dir` is a t8n input directory (and not a bundle).
pub fn is_t8n_dir(dir: &Path) -> bool {
    dir.is_dir()
        && !dir.join("case.json").exists()
        && ["alloc.json", "env.json", "txs.json"].iter().all(|f| dir.join(f).is_file())
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let de = &mut serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e.path().to_string();
        Error::bad_input(path, format!("at `{at}`: {}", e.inner()))
    })
}

/// The block of a t8n input directory, run at `fork` with `chain_id` (the `--state.*` flags a
/// t8n tool would be given).
///
/// Errors: [`Error::Io`], or [`Error::BadInput`] naming the file, the field (a JSON path) and
/// the transaction, for what does not parse or a transaction whose sender cannot be known.
pub fn t8n_dir(dir: &Path, fork: Fork, chain_id: u64) -> Result<BlockInput> {
    let alloc: Alloc = read(&dir.join("alloc.json"))?;
    let env: Env = read(&dir.join("env.json"))?;
    let wire: Vec<T8nTx> = read(&dir.join("txs.json"))?;
    t8n_block(dir, &alloc, &env, &wire, fork, chain_id)
}

/// The block of t8n files already parsed, as [`t8n_dir`] makes it; `dir` names the files in
/// errors.
///
/// Errors: [`Error::BadInput`], as [`t8n_dir`].
pub fn t8n_block(
    dir: &Path,
    alloc: &Alloc,
    env: &Env,
    wire: &[T8nTx],
    fork: Fork,
    chain_id: u64,
) -> Result<BlockInput> {
    let txs_path = dir.join("txs.json");
    let mut txs = Vec::with_capacity(wire.len());
    for (i, w) in wire.iter().enumerate() {
        let mut tx = t8n::tx_of(i, w).map_err(|e| Error::bad_input(&txs_path, e))?;
        let v = w.v.to::<u64>();
        // The chain a legacy signature is for is in its `v` (EIP-155), not in a field.
        if tx.tx_type == TxType::Legacy && w.secret_key.is_none() {
            tx.chain_id = (v >= 35).then(|| (v - 35) / 2);
        }
        if w.secret_key.is_none() {
            tx.signature = lockstep_t8n::sign::signature_of(&tx, w);
        }
        if w.sender.is_none() {
            tx.sender = lockstep_t8n::sign::sender_of(&tx, w).ok_or_else(|| {
                Error::bad_input(&txs_path, format!("at `[{i}]`: no `sender`, `secretKey` or valid signature"))
            })?;
        }
        txs.push(tx);
    }
    let rules = t8n::rules_of(env);
    let env = t8n::env_of(env).map_err(|e| Error::bad_input(dir.join("env.json"), e))?;
    Ok(BlockInput { fork, chain_id, env, pre_state: t8n::state_of(alloc), txs, rules })
}

/// One case of a state-test file as a block: the test named `test` (or the file's only one),
/// its post entry for `fork` at `indexes` (data, gas, value).
///
/// Errors: [`Error::BadInput`] for a file that does not load, or no such case (naming the
/// cases there are).
pub fn state_test_case(file: &Path, test: Option<&str>, fork: Fork, indexes: [usize; 3]) -> Result<BlockInput> {
    let loaded = load_file(file, Some(fork), &|name| test.is_none_or(|t| name == t));
    if let Some(e) = loaded.expanded.errors.first() {
        return Err(Error::bad_input(file, e));
    }
    let tests: std::collections::BTreeSet<&str> = loaded.expanded.cases.iter().map(|c| &*c.id.test).collect();
    if test.is_none() && tests.len() > 1 {
        let names: Vec<&str> = tests.into_iter().take(5).collect();
        return Err(Error::bad_input(
            file,
            format!("holds several tests; name one with --test ({})", names.join(", ")),
        ));
    }
    let [d, g, v] = indexes;
    let case = loaded
        .expanded
        .cases
        .into_iter()
        .find(|c| (c.id.indexes.data, c.id.indexes.gas, c.id.indexes.value) == (d, g, v))
        .ok_or_else(|| Error::bad_input(file, format!("no {fork} case at d{d} g{g} v{v}")))?;
    match case.input {
        CaseInput::Block(b) => Ok(*b),
        CaseInput::Unbuildable { why, .. } => Err(Error::bad_input(file, format!("{}: {why}", case.id))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{Family, Workload};
    use lockstep_executors::TxSignature;

    /// Exported as a t8n tool gets it (signed, no keys, no senders) and imported again: the
    /// same block, keys aside, with its rules where it has them.
    #[test]
    fn every_family_exported_and_imported_is_the_same_block() {
        for family in Family::ALL {
            for fork in [family.min_fork(), Fork::Prague] {
                let g = Workload::new(family, 10).with_hot_ratio(0.5).with_fork(fork).generate(5);
                let block = &g.block;
                let dir = tempfile::tempdir().unwrap();
                let none = Default::default();
                let txs: Vec<T8nTx> = block
                    .txs
                    .iter()
                    .map(|t| {
                        let mut w = lockstep_t8n::sign::signed(t, block.fork, t8n::tx(t, &none)).unwrap();
                        w.sender = None;
                        w
                    })
                    .collect();
                let write =
                    |name: &str, v: serde_json::Value| std::fs::write(dir.path().join(name), v.to_string()).unwrap();
                write("alloc.json", serde_json::to_value(t8n::alloc(&block.pre_state)).unwrap());
                write("env.json", serde_json::to_value(t8n::env(block)).unwrap());
                write("txs.json", serde_json::to_value(&txs).unwrap());
                assert!(is_t8n_dir(dir.path()));
                let back = t8n_dir(dir.path(), block.fork, block.chain_id).unwrap();
                let mut expected = block.clone();
                for (t, w) in expected.txs.iter_mut().zip(&txs) {
                    t.secret_key = None;
                    // Before EIP-155 a legacy transaction is signed without a chain id.
                    if t.tx_type == TxType::Legacy && !block.fork.at_least(Fork::SpuriousDragon) {
                        t.chain_id = None;
                    }
                    let v = w.v.to::<u64>();
                    let y_parity = match v {
                        27 | 28 => v - 27,
                        35.. => (v - 35) % 2,
                        _ => v,
                    } as u8;
                    t.signature = Some(TxSignature { y_parity, r: w.r, s: w.s });
                }
                assert_eq!(back, expected, "{family} at {fork}");
            }
        }
    }

    #[test]
    fn a_state_test_case_is_its_block() {
        let file = lockstep_conformance::fixtures_for_tests()
            .unwrap()
            .join("ethereum-tests/GeneralStateTests/stExample/add11.json");
        let block = state_test_case(&file, None, Fork::Cancun, [0, 0, 0]).unwrap();
        assert_eq!(block.txs.len(), 1);
        assert!(block.txs[0].secret_key.is_some());
        let e = state_test_case(&file, None, Fork::Cancun, [9, 0, 0]).unwrap_err();
        assert!(e.to_string().contains("no Cancun case at d9 g0 v0"), "{e}");
    }
}
