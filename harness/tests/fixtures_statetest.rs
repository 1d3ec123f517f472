//! Every shared official state-test fixture through the reference executor, one test per
//! fixture folder. Slow: select with `cargo test fixtures_`. Official fixtures are required;
//! a missing folder fails (never a silent pass).

use lockstep_executors::Executor;
use lockstep_harness::jobs::statetest::{Options, run};
use std::path::PathBuf;
use std::sync::Arc;

fn fixtures() -> PathBuf {
    // LOCKSTEP_FIXTURES, else ../shared/fixtures, else the verified cache, else a fetch.
    lockstep_conformance::fixtures_for_tests().unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a folder and asserts: no failure, no divergence, no error, at least `min_passed`.
fn folder(rel: &str, min_passed: u64) {
    let path = fixtures().join(rel);
    assert!(
        path.is_dir(),
        "official fixtures needed at {} (set LOCKSTEP_FIXTURES or run `just fixtures`)",
        path.display()
    );
    let executors: Vec<Arc<dyn Executor>> =
        lockstep_executors::BUNDLED.iter().map(|n| lockstep_executors::bundled(n).unwrap()).collect();
    let report = run(&Options {
        paths: vec![path],
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
    });
    let text = report.to_text(20);
    assert!(report.ok(), "{text}");
    for exec in &report.executors {
        let total = report.total(exec);
        assert!(total.passed >= min_passed, "{exec}: {} passed, expected at least {min_passed}\n{text}", total.passed);
    }
}

#[test]
fn fixtures_general_state_tests() {
    // revm's own runner passes 21,389 of these.
    folder("ethereum-tests/GeneralStateTests", 21_389);
}

#[test]
fn fixtures_legacy_multi_fork_sample() {
    // Frontier..Cancun: 1,200 entries run (the 100 of the withdrawn Constantinople are skipped),
    // the pre-Spurious-Dragon rejections among them checked against their roots.
    folder("legacytests-sample", 1_200);
}

#[test]
fn fixtures_prague_pectra_devnet_5() {
    folder("eest/pectra-devnet-5/state_tests", 971);
}

#[test]
fn fixtures_osaka_fusaka_devnet_5() {
    folder("eest/fusaka-devnet-5/state_tests", 1_230);
}

/// Every shared fixture packed into multi-transaction blocks: Block-STM must equal the
/// sequential reference on each, really in parallel and with re-executions.
#[test]
fn fixtures_packed_block_stm_equals_sequential() {
    let executors: Vec<Arc<dyn Executor>> =
        lockstep_executors::BUNDLED.iter().map(|n| lockstep_executors::bundled(n).unwrap()).collect();
    let paths = lockstep_conformance::STATE_TEST_DIRS.iter().map(|d| fixtures().join(d)).collect();
    let report = run(&Options {
        paths,
        executors,
        fork: None,
        filter: None,
        exec_threads: 2,
        progress: false,
        packed: true,
        out_dir: None,
        max_file_bytes: lockstep_conformance::DEFAULT_MAX_FILE_BYTES,
        shard: None,
        both_kinds: false,
        timeout: lockstep_harness::defaults::CASE_TIMEOUT,
    });
    let text = report.to_text(20);
    assert!(report.ok(), "{text}");
    let stm = report.measured.packed["block-stm"];
    assert!(stm.blocks > 6_000, "{text}");
    assert_eq!(stm.parallel_blocks, stm.blocks, "{text}");
    assert!(stm.executions > stm.txs && stm.aborts > 0, "no re-execution at all: {text}");
}
