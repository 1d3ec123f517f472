//! `lockstep blocktest` on the official blockchain tests: the whole ValidBlocks folder on the
//! bundled executors (slow ones are named `fixtures_`), what the header checks catch, and
//! bad input, each a real fixture damaged one way beside an intact copy.

use lockstep_executors::{BlockInput, BlockOutput, ExecError, Executor, RunControl, Sequential, TxOutcome};
use lockstep_harness::jobs::{blocktest, statetest::Options};
use lockstep_reports::{ConformanceReport, Status};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn fixtures() -> PathBuf {
    lockstep_conformance::fixtures_for_tests().unwrap_or_else(|e| panic!("{e}"))
}

fn valid_blocks() -> PathBuf {
    fixtures().join("ethereum-tests/BlockchainTests/ValidBlocks")
}

fn options(paths: Vec<PathBuf>, executors: Vec<Arc<dyn Executor>>) -> Options {
    Options {
        paths,
        executors,
        fork: None,
        filter: None,
        exec_threads: 2,
        progress: false,
        packed: false,
        out_dir: None,
        max_file_bytes: lockstep_conformance::DEFAULT_MAX_FILE_BYTES,
        shard: None,
        both_kinds: false,
        timeout: lockstep_harness::defaults::CASE_TIMEOUT,
    }
}

fn bundled() -> Vec<Arc<dyn Executor>> {
    ["sequential", "block-stm"].iter().map(|n| lockstep_executors::bundled(n).unwrap()).collect()
}

#[test]
fn fixtures_blocktest_valid_blocks_on_every_bundled_executor() {
    let report = blocktest::run(&options(vec![valid_blocks()], bundled()));
    let text = report.to_text(20);
    assert!(report.ok(), "{text}");
    for exec in ["sequential", "block-stm"] {
        // revm's own runner passes 441 (it trusts the JSON `sender`, which
        // bcValidBlockTest/SimpleTx3LowS omits for two transactions; lockstep recovers them).
        assert_eq!(report.total(exec).passed, 442, "{exec}\n{text}");
    }
    assert!(report.divergences.is_empty(), "{text}");
}

#[test]
fn fixtures_blocktest_packed_block_stm_equals_sequential() {
    let report = blocktest::run(&Options { packed: true, ..options(vec![valid_blocks()], bundled()) });
    let text = report.to_text(20);
    assert!(report.ok(), "{text}");
    let stm = report.measured.packed["block-stm"];
    assert_eq!(stm.blocks, 442, "{text}");
    assert_eq!(stm.txs, 1_177, "{text}");
    assert!(stm.aborts > 0, "no re-execution at all: {text}");
}

#[test]
fn fixtures_conformance_runs_both_kinds_of_the_whole_folder() {
    let executors = vec![lockstep_executors::bundled("sequential").unwrap()];
    let report =
        lockstep_harness::jobs::statetest::run(&Options { both_kinds: true, ..options(vec![fixtures()], executors) });
    let text = report.to_text(20);
    assert!(report.ok(), "{text}");
    assert!(report.errors.is_empty(), "{text}");
    // 21,390 + 972 + 1,230 state tests, 1,200 legacy entries, 442 blockchain tests.
    assert_eq!(report.total("sequential").passed, 25_234, "{text}");
    assert!(!report.cases.iter().any(|c| c.message.as_deref().is_some_and(|m| m.contains("run by `lockstep"))));
}

/// An executor wrapped: `change` alters the input or output.
struct Altered {
    name: &'static str,
    change: fn(&BlockInput, Result<BlockOutput, ExecError>) -> Result<BlockOutput, ExecError>,
    strip_rules: bool,
}

impl Executor for Altered {
    fn name(&self) -> &str {
        self.name
    }
    fn version(&self) -> String {
        "test".into()
    }
    fn execute(&self, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError> {
        let input = if self.strip_rules { BlockInput { rules: None, ..block.clone() } } else { block.clone() };
        (self.change)(block, Sequential.execute(&input, run))
    }
}

fn run_on(paths: Vec<PathBuf>, candidate: Altered) -> ConformanceReport {
    blocktest::run(&options(paths, vec![Arc::new(Sequential), Arc::new(candidate)]))
}

#[test]
fn an_executor_without_the_block_rules_fails_the_header_checks() {
    // The beacon-root system call of every Cancun block writes the contract's storage.
    let report = run_on(
        vec![valid_blocks().join("bcExample")],
        Altered { name: "no-rules", change: |_, out| out, strip_rules: true },
    );
    let failed: Vec<_> = report.failures.iter().filter(|f| f.executor == "no-rules").collect();
    assert!(!failed.is_empty() && failed.iter().all(|f| f.what.contains("stateRoot")), "{}", report.to_text(5));
    assert_eq!(report.total("sequential").failed, 0);
    assert!(report.divergences.iter().all(|d| d.candidate == "no-rules"));
    assert!(!report.divergences.is_empty());
}

#[test]
fn wrong_gas_used_is_a_failure_and_a_divergence() {
    let report = run_on(
        vec![valid_blocks().join("bcExample")],
        Altered {
            name: "gas-plus-one",
            change: |_, out| {
                out.map(|mut o| {
                    if let Some(TxOutcome::Executed { gas_used, .. }) = o.outcomes.first_mut() {
                        *gas_used += 1;
                    }
                    o
                })
            },
            strip_rules: false,
        },
    );
    let text = report.to_text(5);
    assert!(report.failures.iter().any(|f| f.executor == "gas-plus-one" && f.what.contains("gasUsed")), "{text}");
    assert!(report.divergences.iter().any(|d| d.candidate == "gas-plus-one"), "{text}");
}

#[test]
fn an_executor_that_says_unsupported_is_skipped_not_failed() {
    let report = run_on(
        vec![valid_blocks().join("bcExample")],
        Altered {
            name: "no-block-rules",
            change: |block, out| {
                if block.rules.is_some() {
                    return Err(ExecError::Unsupported("block rules".into()));
                }
                out
            },
            strip_rules: false,
        },
    );
    let total = report.total("no-block-rules");
    assert!(total.skipped > 0 && total.failed == 0, "{}", report.to_text(5));
    assert!(report.divergences.is_empty());
}

/// The first test of `file`, as JSON.
fn fixture_test(file: &Path) -> Value {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let v: Value = serde_json::from_str(&text).unwrap();
    v.as_object().unwrap().values().next().unwrap().clone()
}

/// Writes `{"good": test, "bad": damaged test}` and runs it on the reference: the good test
/// passes, the bad one is one input error, whose message contains `expect`, naming the file,
/// the test and the field `field`.
fn damaged(file: &str, field: &str, expect: &str, damage: impl FnOnce(&mut Value)) {
    let good = fixture_test(&valid_blocks().join(file));
    let mut bad = good.clone();
    damage(&mut bad);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.json");
    std::fs::write(&path, serde_json::to_string_pretty(&serde_json::json!({ "good": good, "bad": bad })).unwrap())
        .unwrap();
    let report = blocktest::run(&options(vec![path.clone()], vec![Arc::new(Sequential)]));
    let text = report.to_text(5);
    assert_eq!(report.errors.len(), 1, "{text}");
    let e = &report.errors[0];
    assert_eq!((e.file.as_str(), e.test.as_str()), (path.display().to_string().as_str(), "bad"), "{text}");
    assert!(e.message.contains(expect), "{}", e.message);
    assert_eq!(e.field.as_deref(), Some(field), "{e:?}");
    let passed: Vec<_> = report.cases.iter().filter(|c| c.status == Status::Passed).collect();
    assert_eq!(passed.len(), 1, "{text}");
    assert!(passed[0].id.ends_with("::good"));
}

#[test]
fn malformed_block_rlp_is_an_input_error() {
    damaged("bcExample/basefeeExample.json", ".blocks[0].rlp", "malformed block RLP", |t| {
        let rlp = t["blocks"][0]["rlp"].as_str().unwrap().to_string();
        t["blocks"][0]["rlp"] = Value::from(&rlp[..rlp.len() - 10]);
    });
}

#[test]
fn a_header_field_of_the_wrong_type_is_an_input_error() {
    damaged("bcExample/basefeeExample.json", ".genesisBlockHeader.gasLimit", "not a blockchain test", |t| {
        t["genesisBlockHeader"]["gasLimit"] = serde_json::json!(["0x01"]);
    });
}

#[test]
fn a_missing_genesis_is_an_input_error() {
    damaged("bcExample/basefeeExample.json", ".genesisBlockHeader", "missing field `genesisBlockHeader`", |t| {
        t.as_object_mut().unwrap().remove("genesisBlockHeader");
    });
}

#[test]
fn a_block_whose_parent_is_unknown_is_an_input_error() {
    damaged("bcWalletTest/wallet2outOf3txs.json", ".blocks[0].rlp", "is not in the test", |t| {
        t["blocks"].as_array_mut().unwrap().remove(0);
    });
}

#[test]
fn a_signature_that_does_not_recover_is_an_input_error() {
    damaged("bcExample/basefeeExample.json", ".blocks[0].rlp", "does not recover", |t| {
        let r = t["blocks"][0]["transactions"][0]["r"].as_str().unwrap().trim_start_matches("0x").to_string();
        let rlp = t["blocks"][0]["rlp"].as_str().unwrap().to_string();
        // r at the curve order: no signature has it.
        let n = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
        assert!(rlp.contains(&r));
        t["blocks"][0]["rlp"] = Value::from(rlp.replace(&r, n));
    });
}
