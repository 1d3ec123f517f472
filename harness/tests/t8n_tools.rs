//! External executors through the t8n contract: a fake tool (`tests/t8n/fake_t8n.py`) that
//! answers right, or crashes, exits non-zero, prints garbage, replies empty, hangs, reports a
//! wrong state root, drops a receipt or rejects a valid transaction. Each becomes the right
//! divergence; lockstep never crashes, and neither scratch directories nor tool processes are
//! left behind.

use alloy_primitives::U64;
use lockstep_executors::{BlockOutput, Capabilities, Executor, RunControl, Sequential, TxOutcome, TxStatus};
use lockstep_harness::check::{self, isolate};
use lockstep_harness::repro::t8n;
use lockstep_harness::workload::{Family, Workload};
use lockstep_t8n::process::ProcessTransport;
use lockstep_t8n::{Preset, T8nExecutor};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn fake_tool() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/t8n/fake_t8n.py")
}

/// The answer a correct tool gives for a block whose reference output is `out`.
fn answer(out: &BlockOutput) -> serde_json::Value {
    let mut receipts = Vec::new();
    for (o, cumulative) in out.outcomes.iter().zip(out.cumulative_gas()) {
        let TxOutcome::Executed { status, logs, .. } = o else { panic!("the test block has no rejections") };
        let logs: Vec<_> = logs
            .iter()
            .map(|l| serde_json::json!({ "address": l.address, "topics": l.data.topics(), "data": l.data.data }))
            .collect();
        receipts.push(serde_json::json!({
            "succeeded": *status == TxStatus::Success,
            "cumulativeGasUsed": U64::from(cumulative),
            "logs": logs,
        }));
    }
    serde_json::json!({
        "result": { "stateRoot": out.state_root(), "receipts": receipts, "rejected": [] },
        "alloc": t8n::alloc(&out.post_state),
    })
}

fn scratch_dirs() -> usize {
    std::fs::read_dir(std::env::temp_dir())
        .map(|d| d.flatten().filter(|e| e.file_name().to_string_lossy().starts_with("lockstep-t8n-block-")).count())
        .unwrap_or(0)
}

fn sleepers() -> usize {
    let out = std::process::Command::new("pgrep").args(["-f", "sleep 1000"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}

#[test]
fn every_fault_of_a_tool_is_its_own_divergence() {
    let g = Workload::new(Family::Erc20, 4).generate(1);
    let block = Arc::new(g.block);
    let expected = Sequential.execute(&block, &RunControl::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let answer_path = dir.path().join("answer.json");
    std::fs::write(&answer_path, answer(&expected).to_string()).unwrap();
    let (dirs_before, sleepers_before) = (scratch_dirs(), sleepers());

    let cases: [(&str, Option<&str>); 9] = [
        ("ok", None),
        ("crash", Some("tool/crash")),
        ("exit", Some("tool/exit")),
        ("garbage", Some("tool/malformed")),
        ("empty", Some("tool/empty-reply")),
        ("hang", Some("hang")),
        ("wrong-root", Some("tool/state-root")),
        ("drop-receipt", Some("tool/wrong-tx-count")),
        ("reject-valid", Some("outcome/Inclusion")),
    ];
    for (mode, kind) in cases {
        let transport =
            ProcessTransport { program: fake_tool(), args: vec![mode.to_string(), answer_path.display().to_string()] };
        let exec: Arc<dyn Executor> = Arc::new(T8nExecutor::new("fake", Preset::Eels, Box::new(transport), None));
        let timeout = if mode == "hang" { Duration::from_secs(2) } else { Duration::from_secs(60) };
        let start = Instant::now();
        let (got, _) = isolate::run_with_timeout(exec.clone(), block.clone(), RunControl::with_threads(1), timeout);
        let divergence = check::judge(&expected, got, Capabilities::FULL.common(exec.capabilities()));
        assert_eq!(divergence.as_ref().map(|d| d.kind()).as_deref(), kind, "{mode}: {divergence:?}");
        assert!(start.elapsed() < timeout + Duration::from_secs(5), "{mode} took {:?}", start.elapsed());
        if mode == "exit" {
            // The tool's standard error is kept with the finding.
            let text = serde_json::to_string(&divergence).unwrap();
            assert!(text.contains("KeyError: 'withdrawals'"), "{text}");
        }
    }
    // The hung tool and its child were killed with their process group, and every scratch
    // directory was removed.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(sleepers(), sleepers_before, "a tool process was left running");
    assert_eq!(scratch_dirs(), dirs_before, "a scratch directory was left");
}

#[test]
fn a_tool_without_return_data_gives_no_false_divergence() {
    // The reference's outcomes carry return data and created addresses; a t8n tool's never do.
    let g = Workload::new(Family::Amm, 6).generate(3);
    let block = Arc::new(g.block);
    let expected = Sequential.execute(&block, &RunControl::default()).unwrap();
    let mut stripped = expected.clone();
    for o in &mut stripped.outcomes {
        if let TxOutcome::Executed { output, created_address, status, .. } = o {
            *output = Default::default();
            *created_address = None;
            if *status == TxStatus::Revert {
                *status = TxStatus::Halt;
            }
        }
    }
    let caps = Capabilities::FULL.common(Preset::Eels.capabilities());
    assert_eq!(check::compare_under(&expected, &stripped, caps), None);
    assert!(check::compare(&expected, &stripped).is_some(), "the block must have return data to strip");
}
