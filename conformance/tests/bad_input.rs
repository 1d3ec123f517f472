//! Bad input never stops a run: each case gives an error naming the file and the test, the
//! error is counted, and the good tests beside it still run. The inputs are a real official
//! fixture (`stExample/add11.json` from ../shared/fixtures) damaged in one way each.

use lockstep_conformance::{CaseInput, Verdict, check, load_file};
use lockstep_executors::{Executor, RunControl, Sequential};
use serde_json::Value;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    // LOCKSTEP_FIXTURES, else ../shared/fixtures, else the verified cache, else a fetch.
    lockstep_conformance::fixtures_for_tests().unwrap_or_else(|e| panic!("{e}"))
}

fn add11() -> Value {
    let path = fixtures().join("ethereum-tests/GeneralStateTests/stExample/add11.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("official fixtures needed at {} ({e}); set LOCKSTEP_FIXTURES", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// A file with the intact test `good` and a damaged copy `bad`.
fn with_damaged_copy(damage: impl FnOnce(&mut Value)) -> (tempfile::TempDir, PathBuf) {
    let original = add11();
    let mut bad = original["add11"].clone();
    damage(&mut bad);
    let file = serde_json::json!({ "good": original["add11"].clone(), "bad": bad });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.json");
    std::fs::write(&path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
    (dir, path)
}

fn passes(case: &lockstep_conformance::Case) -> bool {
    let CaseInput::Block(block) = &case.input else {
        return false;
    };
    let out = Sequential.execute(block, &RunControl::default()).unwrap();
    matches!(check(&case.expect, &out), Verdict::Pass { .. })
}

#[test]
fn the_intact_fixture_passes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("add11.json");
    std::fs::write(&path, add11().to_string()).unwrap();
    let loaded = load_file(&path, None, &|_| true);
    assert!(loaded.expanded.errors.is_empty(), "{:?}", loaded.expanded.errors);
    assert_eq!(loaded.expanded.cases.len(), 1);
    assert!(passes(&loaded.expanded.cases[0]));
}

#[test]
fn truncated_json_is_a_file_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("truncated.json");
    let text = add11().to_string();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let loaded = load_file(&path, None, &|_| true);
    assert_eq!(loaded.expanded.errors.len(), 1);
    let e = &loaded.expanded.errors[0];
    assert!(e.file.ends_with("truncated.json"));
    assert!(e.message.contains("malformed JSON"), "{}", e.message);
    assert!(loaded.expanded.cases.is_empty());
}

#[test]
fn unknown_fork_names_the_test_and_the_fork() {
    let (_dir, path) = with_damaged_copy(|t| {
        let post = t["post"].as_object_mut().unwrap();
        let entries = post.remove("Cancun").unwrap();
        post.insert("Cancoon".into(), entries);
    });
    let loaded = load_file(&path, None, &|_| true);
    assert_eq!(loaded.expanded.errors.len(), 1);
    let e = &loaded.expanded.errors[0];
    assert_eq!(&*e.test, "bad");
    assert!(e.message.contains("unknown fork `Cancoon`"), "{}", e.message);
    assert!(e.to_string().contains("damaged.json :: bad"), "{e}");
    assert_eq!(loaded.expanded.cases.len(), 1, "the good test still runs");
    assert!(passes(&loaded.expanded.cases[0]));
}

#[test]
fn wrong_field_type_names_the_test() {
    let (_dir, path) = with_damaged_copy(|t| t["transaction"]["gasLimit"] = serde_json::json!("0x061a80"));
    let loaded = load_file(&path, None, &|_| true);
    assert_eq!(loaded.expanded.errors.len(), 1);
    let e = &loaded.expanded.errors[0];
    assert_eq!(&*e.test, "bad");
    assert!(e.message.contains("not a state test"), "{}", e.message);
    assert_eq!(loaded.expanded.cases.len(), 1);
    assert!(passes(&loaded.expanded.cases[0]));
}

#[test]
fn missing_post_section_names_the_test() {
    let (_dir, path) = with_damaged_copy(|t| {
        t.as_object_mut().unwrap().remove("post");
    });
    let loaded = load_file(&path, None, &|_| true);
    assert_eq!(loaded.expanded.errors.len(), 1);
    assert_eq!(&*loaded.expanded.errors[0].test, "bad");
    assert!(loaded.expanded.errors[0].message.contains("post"), "{}", loaded.expanded.errors[0].message);
    assert_eq!(loaded.expanded.cases.len(), 1);
}

#[test]
fn empty_post_section_is_an_error_too() {
    let (_dir, path) = with_damaged_copy(|t| t["post"] = serde_json::json!({}));
    let loaded = load_file(&path, None, &|_| true);
    assert_eq!(loaded.expanded.errors.len(), 1);
    assert!(loaded.expanded.errors[0].message.contains("no post entries"));
}

#[test]
fn unknown_fields_warn_and_the_test_still_runs() {
    let (_dir, path) = with_damaged_copy(|t| {
        t["env"]["currentSomethingNew"] = serde_json::json!("0x01");
        t["novelSection"] = serde_json::json!({"a": [1, 2]});
    });
    let loaded = load_file(&path, None, &|_| true);
    assert!(loaded.expanded.errors.is_empty(), "{:?}", loaded.expanded.errors);
    assert_eq!(loaded.unknown_fields, vec!["bad.env.currentSomethingNew".to_string(), "bad.novelSection".to_string()]);
    assert_eq!(loaded.expanded.cases.len(), 2);
    assert!(loaded.expanded.cases.iter().all(passes));
}

#[test]
fn empty_directory_and_missing_path_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let (files, errors) = lockstep_conformance::discover(&[dir.path().to_path_buf(), missing]);
    assert!(files.is_empty());
    assert_eq!(errors.len(), 2);
    assert!(errors[0].message.contains("no JSON fixture files"), "{}", errors[0].message);
    assert!(errors[1].message.contains("no such file"), "{}", errors[1].message);
}

#[test]
fn a_wrong_expectation_fails_with_the_state_root() {
    let (_dir, path) = with_damaged_copy(|t| {
        t["post"]["Cancun"][0]["hash"] = serde_json::json!(format!("0x{}", "11".repeat(32)));
    });
    let loaded = load_file(&path, None, &|_| true);
    let bad = loaded.expanded.cases.iter().find(|c| &*c.id.test == "bad").unwrap();
    let CaseInput::Block(block) = &bad.input else { panic!() };
    let out = Sequential.execute(block, &RunControl::default()).unwrap();
    match check(&bad.expect, &out) {
        Verdict::Fail(lockstep_conformance::Failure::StateRoot { expected, .. }) => {
            assert!(expected.starts_with("0x1111"))
        }
        other => panic!("{other:?}"),
    }
}
