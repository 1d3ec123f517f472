//! The execution specification (EELS, `ethereum-execution` on PyPI) through the t8n adapter:
//! every workload family on every fork it generates gives the reference's outcomes (success or
//! failure, gas, logs, rejections), post-state and requests, so the state root and cumulative
//! gas agree; so do whole blocks before the Merge, whose block reward the adapter passes on.
//!
//! Needs `ethereum-spec-evm`: `$LOCKSTEP_EELS`, or `.lockstep/spec-venv/bin/ethereum-spec-evm`
//! as `just spec` installs it. Without it the tests say so and pass, unless
//! `LOCKSTEP_REQUIRE_EELS=1` (as `.ci/run` sets), where a missing tool fails them.

use alloy_primitives::Address;
use lockstep_executors::{
    BlockInput, BlockRules, Capabilities, ExecError, Executor, Fork, Ommer, RunControl, Sequential,
};
use lockstep_harness::check;
use lockstep_harness::workload::{Family, Workload};
use lockstep_t8n::daemon::DaemonPool;
use lockstep_t8n::{Preset, T8nExecutor};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn eels() -> Option<PathBuf> {
    let path = std::env::var_os("LOCKSTEP_EELS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.lockstep/spec-venv/bin/ethereum-spec-evm")
    });
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("LOCKSTEP_REQUIRE_EELS").is_none(),
        "LOCKSTEP_REQUIRE_EELS is set but {} is missing",
        path.display()
    );
    eprintln!("skipped: no execution spec at {} (`just spec` installs it)", path.display());
    None
}

/// The forks a family generates: every fork from its [`Family::min_fork`] on.
fn forks(family: Family) -> Vec<Fork> {
    Fork::ALL.into_iter().filter(|f| *f >= family.min_fork()).collect()
}

#[test]
fn every_family_on_every_fork_agrees_with_the_execution_spec() {
    let Some(tool) = eels() else { return };
    let pool = DaemonPool::new(tool, vec!["daemon".into()], 2);
    let eels = T8nExecutor::new("eels", Preset::Eels, Box::new(pool), None);
    let caps = Capabilities::FULL.common(eels.capabilities());
    let start = Instant::now();
    let (mut blocks, mut failures) = (0, Vec::new());
    let mut check = |what: String, block: &BlockInput| {
        let expected = Sequential.execute(block, &RunControl::default()).unwrap();
        let deadline = Some(Instant::now() + Duration::from_secs(60));
        blocks += 1;
        match eels.execute(block, &RunControl { deadline, ..Default::default() }) {
            Err(e) => failures.push(format!("{what}: {e:?}")),
            Ok(got) => {
                if let Some(d) = check::compare_under(&expected, &got, caps) {
                    failures.push(format!("{what}: {d}"));
                } else {
                    assert_eq!(got.state_root(), expected.state_root());
                    assert!(got.cumulative_gas().eq(expected.cumulative_gas()));
                }
            }
        }
    };
    for family in Family::ALL {
        for fork in forks(family) {
            let g = Workload::new(family, 8).with_hot_ratio(0.5).with_fork(fork).generate(11);
            check(format!("{family} {fork}"), &g.block);
        }
    }
    // Before the Merge a whole block pays the block reward (5, 3, then 2 ether).
    for fork in Fork::ALL.into_iter().filter(|f| *f < Fork::Merge) {
        let mut block = Workload::new(Family::RawTransfers, 8).with_fork(fork).generate(3).block;
        block.rules = Some(BlockRules::default());
        check(format!("a whole block at {fork}"), &block);
    }
    // A limit of the spec's t8n is declared, not a finding.
    let mut block = Workload::new(Family::RawTransfers, 2).with_fork(Fork::London).generate(3).block;
    block.rules =
        Some(BlockRules { ommers: vec![Ommer { coinbase: Address::repeat_byte(7), number: 0 }], ..Default::default() });
    assert!(matches!(eels.execute(&block, &RunControl::default()), Err(ExecError::Unsupported(_))));
    eels.shutdown();
    eprintln!("{blocks} blocks in {:?}", start.elapsed());
    assert!(failures.is_empty(), "{} of {blocks} blocks disagree:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn statetest_and_run_with_the_spec_as_second_reference() {
    let Some(tool) = eels() else { return };
    let dir = tempfile::tempdir().unwrap();
    // A path of its own, so that its daemons can be told from other tests'.
    let link = dir.path().join("spec-evm");
    std::os::unix::fs::symlink(&tool, &link).unwrap();
    let tool = link;
    let file = dir.path().join("executors.toml");
    let toml = format!(
        "[executors.eels]\nkind = \"t8n\"\npreset = \"eels\"\ncommand = [{:?}]\ntransport = \"daemon\"\npool = 2\n",
        tool.display().to_string()
    );
    std::fs::write(&file, toml).unwrap();
    let lockstep = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_lockstep"));
        c.arg("--executors").arg(&file).current_dir(dir.path());
        c
    };
    let fixtures = lockstep_conformance::fixtures_for_tests().unwrap();
    let st = lockstep()
        .arg("statetest")
        .args(["--spec", "eels"])
        .arg(fixtures.join("ethereum-tests/GeneralStateTests/stExample"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&st.stdout);
    assert_eq!(st.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&st.stderr));
    assert!(text.contains("spec eels: 0 cases where the reference disagrees with the spec"), "{text}");
    let run = lockstep()
        .args(["run", "--spec", "eels", "--blocks", "14", "--txs", "8", "--threads", "2", "--out", "out"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&run.stderr));
    assert!(text.contains("spec eels: 14 blocks compared, 0 declined, 0 where the reference disagrees"), "{text}");
    // Whole blocks of official blockchain tests (system calls, withdrawals, blob transactions,
    // signatures carried from the block's RLP): the spec passes them as the reference does.
    let valid = fixtures.join("ethereum-tests/BlockchainTests/ValidBlocks");
    let bt = lockstep()
        .arg("blocktest")
        .args(["bcEIP4844-blobtransactions", "bcEIP1559", "bcExample"].map(|d| valid.join(d)))
        .args(["-e", "sequential", "-e", "eels"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&bt.stdout);
    assert_eq!(bt.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&bt.stderr));
    let eels_total = text.split("executor eels").nth(1).and_then(|t| t.lines().find(|l| l.starts_with("total")));
    let columns: Vec<&str> = eels_total.unwrap_or_default().split_whitespace().collect();
    assert_eq!(columns, ["total", "14", "0", "0", "0", "0"], "{text}");
    let add11 = fixtures.join("ethereum-tests/GeneralStateTests/stExample/add11.json");
    let replay = lockstep()
        .arg("replay")
        .arg(&add11)
        .args(["--fork", "Cancun", "-e", "block-stm", "--spec", "eels"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(replay.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&replay.stderr));
    assert!(text.contains("spec eels: agrees with sequential"), "{text}");
    // No daemon outlives the run.
    let left =
        std::process::Command::new("pgrep").args(["-f", &format!("{} daemon", tool.display())]).output().unwrap();
    assert!(left.stdout.is_empty(), "daemons left: {}", String::from_utf8_lossy(&left.stdout));
}
