//! The example's own `lockstep` binary: its executors are named like bundled ones, and the
//! bundles it writes replay with it.

use std::process::Command;

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_custom-executor"))
}

#[test]
fn its_executors_are_listed_and_its_bundles_replay_with_it() {
    let list = binary().args(["list", "executors"]).output().unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("naive-parallel") && text.contains("no-return-data"), "{text}");

    let out = tempfile::tempdir().unwrap();
    let run = binary()
        .args(["run", "-e", "naive-parallel", "-w", "hot-key", "--blocks", "2", "--threads", "2", "--no-minimize"])
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    let bundle = std::fs::read_dir(out.path().join("divergences")).unwrap().flatten().next().unwrap().path();
    let readme = std::fs::read_to_string(bundle.join("README.md")).unwrap();
    assert!(readme.contains("custom-executor replay"), "{readme}");
    let replay = binary().arg("replay").arg(&bundle).output().unwrap();
    assert_eq!(replay.status.code(), Some(1), "{}", String::from_utf8_lossy(&replay.stdout));

    // The bundle's t8n files alone, as another tool would leave them: imported, replayed and
    // minimized.
    let t8n = out.path().join("t8n-input");
    std::fs::create_dir_all(&t8n).unwrap();
    for f in ["alloc.json", "env.json", "txs.json"] {
        std::fs::copy(bundle.join(f), t8n.join(f)).unwrap();
    }
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("case.json")).unwrap()).unwrap();
    let fork = case["block"]["fork"].as_str().unwrap().to_string();
    let replay = binary().arg("replay").arg(&t8n).args(["--fork", &fork, "-e", "naive-parallel"]).output().unwrap();
    assert_eq!(
        replay.status.code(),
        Some(1),
        "{}{}",
        String::from_utf8_lossy(&replay.stdout),
        String::from_utf8_lossy(&replay.stderr)
    );
    let minimized = binary()
        .arg("minimize")
        .arg(&t8n)
        .args(["--fork", &fork, "-e", "naive-parallel", "--budget", "20"])
        .arg("--out")
        .arg(out.path().join("imported"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&minimized.stdout);
    assert_eq!(minimized.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&minimized.stderr));
    assert!(text.contains("imported as") && text.contains("minimized"), "{text}");

    let clean = binary()
        .args(["run", "-e", "no-return-data", "--blocks", "30", "--no-minimize"])
        .arg("--out")
        .arg(out.path().join("clean"))
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0), "{}", String::from_utf8_lossy(&clean.stdout));
}
