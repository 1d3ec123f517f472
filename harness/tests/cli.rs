//! The `lockstep` binary's contract: exit 0 when all pass, 1 on a failure, 2 on bad usage;
//! errors name the file and test.

use std::path::PathBuf;
use std::process::Command;

fn lockstep() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
}

fn fixture(rel: &str) -> PathBuf {
    std::env::var_os("LOCKSTEP_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"))
        .join(rel)
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
    assert!(stdout.contains("broken.json :: add11 [Cancun d0 g0 v0]"), "{stdout}");
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
    let out = lockstep().arg("statetest").current_dir(dir.path()).env_remove("LOCKSTEP_FIXTURES").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no fixtures found"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
