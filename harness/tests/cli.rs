//! The `lockstep` binary's contract: exit 0 when all pass, 1 on a failure, 2 on bad usage;
//! errors name the file and test.

use std::path::PathBuf;
use std::process::Command;

fn lockstep() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
}

fn fixture(rel: &str) -> PathBuf {
    // LOCKSTEP_FIXTURES, else ../shared/fixtures, else the verified cache, else a fetch.
    lockstep_conformance::fixtures_for_tests().unwrap_or_else(|e| panic!("{e}")).join(rel)
}

#[test]
fn statetest_passes_a_real_folder_with_exit_0() {
    let out = lockstep()
        .args(["statetest", "--json"])
        .arg(std::env::temp_dir().join(format!("lockstep-cli-{}.json", std::process::id())))
        .arg(fixture("ethereum-tests/GeneralStateTests/stExample"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("executor sequential"), "{stdout}");
    assert!(stdout.contains("Cancun"), "{stdout}");
}

#[test]
fn a_failing_case_exits_1_and_names_file_test_and_fork() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("ethereum-tests/GeneralStateTests/stExample/add11.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["add11"]["post"]["Cancun"][0]["logs"] = serde_json::json!(format!("0x{}", "22".repeat(32)));
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, v.to_string()).unwrap();
    std::fs::write(dir.path().join("truncated.json"), &text[..100]).unwrap();
    let out = lockstep().arg("statetest").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("broken.json::add11::Cancun::d0g0v0"), "{stdout}");
    assert!(stdout.contains("logs hash"), "{stdout}");
    assert!(stdout.contains("truncated.json :: -: malformed JSON"), "{stdout}");
}

#[test]
fn bad_usage_exits_2() {
    let unknown_exec = lockstep().args(["statetest", "--executor", "nonesuch", "x.json"]).output().unwrap();
    assert_eq!(unknown_exec.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown_exec.stderr).contains("unknown executor `nonesuch`"));
    let unknown_fork = lockstep().args(["statetest", "--fork", "Atlantis", "x.json"]).output().unwrap();
    assert_eq!(unknown_fork.status.code(), Some(2));
    let bad_flag = lockstep().args(["statetest", "--no-such-flag"]).output().unwrap();
    assert_eq!(bad_flag.status.code(), Some(2));
}

#[test]
fn no_fixtures_anywhere_is_a_clear_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = lockstep()
        .arg("statetest")
        .current_dir(dir.path())
        .env_remove("LOCKSTEP_FIXTURES")
        .env("LOCKSTEP_CACHE", dir.path().join("empty-cache"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no fixtures found"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The address a secret key signs for.
fn address_of(secret: &str) -> alloy_primitives::Address {
    let bytes = alloy_primitives::hex::decode(secret).unwrap();
    let key = k256::ecdsa::SigningKey::from_slice(&bytes).unwrap();
    let point = key.verifying_key().to_encoded_point(false);
    alloy_primitives::Address::from_raw_public_key(&point.as_bytes()[1..])
}

#[test]
fn a_bundle_minimized_in_a_fresh_process_keeps_working_keys() {
    let out = tempfile::tempdir().unwrap();
    // One process finds a divergence and writes its bundle (under a controlled schedule, so
    // that it replays); another minimizes it.
    let found = lockstep()
        .args(["explore", "-e", "block-stm-no-estimates", "-w", "hot-key", "--blocks", "2"])
        .args(["--schedules", "50", "--no-minimize", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(found.status.code(), Some(1), "{}", String::from_utf8_lossy(&found.stdout));
    let bundle = std::fs::read_dir(out.path().join("divergences")).unwrap().next().unwrap().unwrap().path();
    let minimized = lockstep().arg("minimize").arg(&bundle).args(["--budget", "20"]).output().unwrap();
    assert_eq!(minimized.status.code(), Some(0), "{}", String::from_utf8_lossy(&minimized.stderr));
    assert!(bundle.join("original-case.json").is_file());
    // Every transaction of the rewritten t8n input carries its sender's key.
    let txs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("txs.json")).unwrap()).unwrap();
    let txs = txs.as_array().unwrap();
    assert!(!txs.is_empty());
    for tx in txs {
        let key = tx["secretKey"].as_str().unwrap_or_else(|| panic!("no secretKey: {tx}"));
        assert_eq!(address_of(key).to_string().to_lowercase(), tx["sender"].as_str().unwrap().to_lowercase());
    }
}

#[test]
fn an_exported_state_test_runs_in_lockstep_statetest_and_signs_for_its_sender() {
    let dir = tempfile::tempdir().unwrap();
    // A one-transaction bundle written by the library, read by a fresh process.
    let generated = lockstep_harness::workload::Workload::new(lockstep_harness::workload::Family::Erc20, 1).generate(5);
    let expected = lockstep_executors::Executor::execute(
        &lockstep_executors::Sequential,
        &generated.block,
        &lockstep_executors::RunControl::default(),
    )
    .unwrap();
    let case = lockstep_harness::repro::Case::new(
        generated.block.clone(),
        &lockstep_executors::Sequential,
        &lockstep_executors::BlockStm::default(),
        2,
        lockstep_harness::Divergence::Hang { after_ms: 1 },
    )
    .with_keys(&generated.keys);
    let bundle = lockstep_harness::repro::bundle::write(&dir.path().join("b"), &case, &expected).unwrap();
    let st: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("statetest.json")).unwrap()).unwrap();
    let (_, test) = st.as_object().unwrap().iter().next().unwrap();
    let key = test["transaction"]["secretKey"].as_str().unwrap();
    assert_eq!(
        address_of(key).to_string().to_lowercase(),
        test["transaction"]["sender"].as_str().unwrap().to_lowercase(),
        "the exported key signs for the sender"
    );
    let run = lockstep().arg("statetest").arg(bundle.join("statetest.json")).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("Cancun"), "{stdout}");
}

/// Sends `signal` to a running child after `after`, then waits for it (at most 60 s).
fn signal_after(child: &mut std::process::Child, signal: &str, after: std::time::Duration) -> Option<i32> {
    std::thread::sleep(after);
    let pid = child.id().to_string();
    assert!(Command::new("kill").args([signal, &pid]).status().unwrap().success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        assert!(std::time::Instant::now() < deadline, "no exit within 60 s of {signal}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn sigint_during_run_writes_the_report_of_what_ran_in_every_format_and_exits_130() {
    let out = tempfile::tempdir().unwrap();
    let reports = out.path().join("reports");
    let mut child = lockstep()
        .args(["run", "--duration", "120", "--seed", "1", "--no-minimize", "--out"])
        .arg(out.path())
        .arg("--report")
        .arg(&reports)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let code = signal_after(&mut child, "-INT", std::time::Duration::from_secs(2));
    assert_eq!(code, Some(130));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(summary["interrupted"], true);
    assert!(summary["workloads"][0]["blocks"].as_u64().unwrap() > 0, "{summary}");
    let read = |name: &str| std::fs::read_to_string(reports.join(name)).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&read("report.json")).unwrap(), summary);
    assert!(read("junit.xml").trim_end().ends_with("</testsuites>"));
    assert!(read("report.html").trim_end().ends_with("</html>"));
    assert!(read("summary.md").starts_with("## lockstep run"));
}

#[test]
fn sigint_during_statetest_writes_a_complete_json_report_and_sigkill_keeps_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let folder = fixture("ethereum-tests/GeneralStateTests");
    let start = |json: &std::path::Path| {
        lockstep()
            .args(["statetest", "--jobs", "1", "--json"])
            .arg(json)
            .arg(&folder)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut child = start(&json);
    let code = signal_after(&mut child, "-INT", std::time::Duration::from_secs(2));
    assert_eq!(code, Some(130));
    let text = std::fs::read_to_string(&json).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let files = report["files"].as_u64().unwrap();
    assert!(files > 0, "{files}");
    // A run killed outright leaves the previous report as it was.
    let mut child = start(&json);
    signal_after(&mut child, "-KILL", std::time::Duration::from_secs(1));
    assert_eq!(std::fs::read_to_string(&json).unwrap(), text, "SIGKILL changed the previous report");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(leftovers.len() <= 2, "{leftovers:?}");
}

/// `report.json` of a finished job, without its `measured` part and its command line (which
/// names the test's temporary directories).
fn deterministic_summary(dir: &std::path::Path) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert!(v.as_object_mut().unwrap().remove("measured").is_some(), "no measured part: {v}");
    assert!(v["meta"].as_object_mut().unwrap().remove("command").is_some(), "no command line: {v}");
    assert!(!v["cases"].as_array().unwrap().is_empty(), "no cases: {v}");
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn the_same_seed_gives_the_same_deterministic_report() {
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (run, explore) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            let r =
                lockstep().args(["run", "--blocks", "60", "--seed", "7", "--out"]).arg(run.path()).output().unwrap();
            assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stdout));
            let e = lockstep()
                .args(["explore", "-w", "hot-key", "-w", "eip7702", "--blocks", "2", "--schedules", "20", "--out"])
                .arg(explore.path())
                .output()
                .unwrap();
            assert_eq!(e.status.code(), Some(0), "{}", String::from_utf8_lossy(&e.stdout));
            (deterministic_summary(run.path()), deterministic_summary(explore.path()))
        })
        .collect();
    assert_eq!(runs[0].0, runs[1].0, "run");
    assert_eq!(runs[0].1, runs[1].1, "explore");
    let statetest: Vec<String> = (0..2)
        .map(|_| {
            let dir = tempfile::tempdir().unwrap();
            let json = dir.path().join("report.json");
            let folder = fixture("ethereum-tests/GeneralStateTests/stExample");
            let r = lockstep()
                .args(["statetest", "--packed", "-e", "sequential", "-e", "block-stm", "--threads", "2", "--json"])
                .arg(&json)
                .arg(folder)
                .output()
                .unwrap();
            assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stdout));
            deterministic_summary(dir.path())
        })
        .collect();
    assert_eq!(statetest[0], statetest[1], "statetest");
}

#[test]
fn an_unwritable_output_is_refused_before_the_run_starts() {
    for args in [
        &["run", "--blocks", "1", "--out", "/dev/null/x"][..],
        &["explore", "--blocks", "1", "--out", "/dev/null/x"],
        &["statetest", "--json", "/dev/null/x/report.json", "x.json"],
    ] {
        let start = std::time::Instant::now();
        let out = lockstep().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("/dev/null/x"), "{args:?}");
        assert!(start.elapsed() < std::time::Duration::from_secs(5), "{args:?} ran first");
    }
}

/// Worker processes still serving `executor`.
fn workers_of(executor: &str) -> usize {
    let out = Command::new("pgrep").args(["-f", &format!("__worker --executor {executor}")]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}

#[test]
fn an_isolated_executor_that_ignores_its_deadline_is_a_hang_and_its_threads_are_stopped() {
    let out = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let run = lockstep()
        .args(["run", "-e", "spin-forever", "--isolate", "--blocks", "3", "--txs", "4", "--threads", "2"])
        .args(["--timeout", "1", "--no-minimize", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&run.stderr));
    // Three blocks, each given up at its 1 s deadline, not one block forever.
    assert!(start.elapsed() < std::time::Duration::from_secs(30), "{:?}", start.elapsed());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap()).unwrap();
    let found = summary["divergences"].as_array().unwrap();
    assert_eq!(found.len(), 3, "{summary}");
    for f in found {
        assert_eq!(f["kind"], "hang", "{f}");
    }
    // The spinning threads died with their worker processes.
    assert_eq!(workers_of("spin-forever"), 0);
}

#[test]
fn a_case_that_loops_forever_is_a_hang_of_that_case_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let sender = "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b".to_string();
    let looping = serde_json::json!({ "endless": {
        "env": {
            "currentCoinbase": "0x2adc25665018aa1fe0e6bc666dac8fc2697ff9ba",
            "currentDifficulty": "0x0", "currentRandom": format!("0x{}", "00".repeat(32)),
            "currentGasLimit": "0x7fffffffffffffff", "currentNumber": "0x1",
            "currentTimestamp": "0x3e8", "currentBaseFee": "0x0", "currentExcessBlobGas": "0x0"
        },
        "pre": {
            sender: { "balance": "0xffffffffffffffffffff", "nonce": "0x0", "code": "0x", "storage": {} },
            // JUMPDEST PUSH1 0 JUMP: a loop that only gas could end.
            "0x00000000000000000000000000000000000000aa":
                { "balance": "0x0", "nonce": "0x1", "code": "0x5b600056", "storage": {} }
        },
        "transaction": {
            "data": ["0x"], "gasLimit": ["0x7ffffffffffffff0"], "value": ["0x0"], "gasPrice": "0x0",
            "nonce": "0x0", "to": "0x00000000000000000000000000000000000000aa",
            "secretKey": "0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8"
        },
        "post": { "Cancun": [{ "hash": format!("0x{}", "00".repeat(32)), "logs": format!("0x{}", "00".repeat(32)),
                               "indexes": { "data": 0, "gas": 0, "value": 0 }, "txbytes": "0x" }] }
    }});
    std::fs::write(dir.path().join("endless.json"), looping.to_string()).unwrap();
    std::fs::copy(fixture("ethereum-tests/GeneralStateTests/stExample/add11.json"), dir.path().join("add11.json"))
        .unwrap();
    let start = std::time::Instant::now();
    let out = lockstep().arg("statetest").arg(dir.path()).args(["--timeout", "1"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(start.elapsed() < std::time::Duration::from_secs(30), "{:?}", start.elapsed());
    assert!(stdout.contains("endless") && stdout.contains("hung"), "{stdout}");
    // add11 still ran and passed.
    let total = stdout.lines().find(|l| l.starts_with("total")).unwrap_or_default().to_string();
    assert!(total.split_whitespace().nth(1).is_some_and(|n| n.parse::<u64>().unwrap() >= 1), "{stdout}");
}
