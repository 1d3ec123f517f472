//! Hostile bundles: every field of the real bundles in `conformance/regressions/` deleted,
//! retyped or set to an extreme, each read and (when it reads) replayed. lockstep must answer
//! each with a value or an error naming the file and the field; never a panic, never a hang.

use lockstep_executors::{Executor, Sequential};
use lockstep_harness::repro::{bundle, replay_bundle};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

fn corpus() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/regressions");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    dirs
}

/// Every path in `v` to a value, as JSON pointers.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| pointers(x, format!("{at}/{k}"), out)),
        // A few elements of each array: their fields repeat.
        Value::Array(a) => a.iter().take(2).enumerate().for_each(|(i, x)| pointers(x, format!("{at}/{i}"), out)),
        _ => {}
    }
    if !at.is_empty() {
        out.push(at);
    }
}

/// The damaged copies of `case`: each path deleted, and replaced by each hostile value.
fn variants(case: &Value) -> Vec<(String, Value)> {
    let hostile = [
        json!(null),
        json!("x"),
        json!(-1),
        json!(1e300),
        json!(u64::MAX),
        json!([]),
        json!({}),
        json!(format!("0x{}", "ff".repeat(40))),
        json!(100_000),
        json!(0),
    ];
    let mut paths = Vec::new();
    pointers(case, String::new(), &mut paths);
    let mut out = Vec::new();
    for p in &paths {
        let (parent, key) = p.rsplit_once('/').unwrap();
        let mut deleted = case.clone();
        match deleted.pointer_mut(parent) {
            Some(Value::Object(m)) => {
                m.remove(key);
            }
            Some(Value::Array(a)) => {
                a.remove(key.parse::<usize>().unwrap());
            }
            _ => {}
        }
        out.push((format!("delete {p}"), deleted));
        for h in &hostile {
            let mut v = case.clone();
            *v.pointer_mut(p).unwrap() = h.clone();
            out.push((format!("{p} = {h}"), v));
        }
    }
    out
}

#[test]
fn fixtures_hostile_bundles_are_answered_without_panics_or_hangs() {
    lockstep_harness::check::isolate::quiet_executor_panics();
    let dir = tempfile::tempdir().unwrap();
    let (mut inputs, mut errors, mut replayed) = (0, 0, 0);
    for bundle_dir in corpus() {
        let case: Value =
            serde_json::from_str(&std::fs::read_to_string(bundle_dir.join("case.json")).unwrap()).unwrap();
        for (what, damaged) in variants(&case) {
            inputs += 1;
            let file = dir.path().join("case.json");
            std::fs::write(&file, damaged.to_string()).unwrap();
            match bundle::read(dir.path()) {
                Err(e) => {
                    errors += 1;
                    let text = e.to_string();
                    assert!(text.contains("case.json"), "{what}: {text}");
                    assert!(e.exit_code() == 2, "{what}: {text}");
                    if text.contains("not a lockstep case") {
                        assert!(text.contains("at `"), "{what}: no field named: {text}");
                    }
                }
                Ok(_) => {
                    replayed += 1;
                    let (tx, rx) = std::sync::mpsc::channel();
                    let d = dir.path().to_path_buf();
                    std::thread::spawn(move || {
                        let candidate: Arc<dyn Executor> = Arc::new(lockstep_executors::BlockStm::default());
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            replay_bundle(&d, &candidate, &Sequential, 10_000, Duration::from_secs(2)).map(|_| ())
                        }));
                        let _ = tx.send(r.is_ok());
                    });
                    let finished = rx.recv_timeout(Duration::from_secs(20));
                    assert_eq!(finished, Ok(true), "{what}: replay panicked or hung");
                }
            }
        }
    }
    eprintln!("hostile bundles: {inputs} inputs, {errors} refused with a named error, {replayed} replayed");
    assert!(inputs >= 650, "{inputs}");
}
