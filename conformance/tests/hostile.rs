//! Hostile input to the fixture walk and the loader: symlink loops, a FIFO, an unreadable
//! file, a file over the size cap, duplicate keys, deep nesting, inputs that yield no case.
//! Each must end quickly with an error that names the file, the test when there is one, and
//! the field with its line and column. The base input is a real official fixture
//! (`stExample/add11.json`).

use lockstep_conformance::{CaseError, LoadOptions, LoadedFile, discover, load_file, load_file_with};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

fn add11_text() -> String {
    let dir = lockstep_conformance::fixtures_for_tests().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("ethereum-tests/GeneralStateTests/stExample/add11.json");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn add11() -> Value {
    serde_json::from_str(&add11_text()).unwrap()
}

/// Runs `f` on another thread and fails the test if it takes longer than `limit` (a blocked
/// open would otherwise hang the suite).
fn bounded<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).unwrap_or_else(|_| panic!("did not finish within {limit:?}"))
}

fn load(path: &Path) -> LoadedFile {
    let path = path.to_path_buf();
    bounded(Duration::from_secs(10), move || load_file(&path, None, &|_| true))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The single error of a load, which must name `file`.
fn only_error(loaded: &LoadedFile, file: &str) -> CaseError {
    assert_eq!(loaded.expanded.errors.len(), 1, "{:#?}", loaded.expanded.errors);
    let e = loaded.expanded.errors[0].clone();
    assert!(e.file.ends_with(file), "{e}");
    e
}

fn field(e: &CaseError) -> String {
    e.at.as_ref().unwrap_or_else(|| panic!("no field in {e}")).path.to_string()
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_not_followed_and_each_file_counts_once() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.json", &add11_text());
    std::fs::create_dir(root.join("sub")).unwrap();
    write(&root.join("sub"), "b.json", &add11_text());
    symlink(".", root.join("l1")).unwrap();
    symlink(".", root.join("l2")).unwrap();
    symlink("..", root.join("sub/up")).unwrap();
    symlink("self", root.join("self")).unwrap();
    symlink("a.json", root.join("alias.json")).unwrap();
    symlink("sub", root.join("sub-again")).unwrap();
    let root_buf = root.to_path_buf();
    let (files, errors) = bounded(Duration::from_secs(10), move || discover(&[root_buf]));
    assert_eq!(files, vec![root.join("a.json"), root.join("sub/b.json")], "{errors:#?}");
    let named = |name: &str| errors.iter().find(|e| e.file.ends_with(name)).unwrap_or_else(|| panic!("{errors:#?}"));
    // `sub/up` is reached twice (through `sub` and `sub-again`): a loop on both paths.
    for link in ["l1", "l2", "sub/up", "sub-again/up"] {
        assert!(named(link).message.contains("symlink loop"), "{}", named(link));
    }
    assert!(named("self").message.contains("symlink"), "{}", named("self"));
    assert_eq!(errors.len(), 5, "{errors:#?}");
    // The same file named twice on the command line, once through a link: still once.
    let (files, _) = discover(&[root.join("a.json"), root.join("alias.json"), root.join("a.json")]);
    assert_eq!(files, vec![root.join("a.json")]);
}

#[cfg(unix)]
#[test]
fn a_fifo_is_named_and_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.json");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available here: FIFO case not exercised");
        return;
    }
    write(dir.path(), "good.json", &add11_text());
    let root = dir.path().to_path_buf();
    let (files, errors) = bounded(Duration::from_secs(10), move || discover(&[root.clone(), root.join("pipe.json")]));
    assert_eq!(files, vec![dir.path().join("good.json")]);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    for e in &errors {
        assert!(e.file.ends_with("pipe.json") && e.message.contains("a FIFO"), "{e}");
    }
    // Loading it directly does not open it either.
    let e = only_error(&load(&fifo), "pipe.json");
    assert!(e.message.contains("not a regular file (a FIFO)"), "{e}");
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_an_error_naming_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "locked.json", &add11_text());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&path).is_err() {
        let e = only_error(&load(&path), "locked.json");
        assert!(e.message.contains("cannot read"), "{e}");
        return;
    }
    // Running as root: mode 000 does not stop reads, and the file loads. A file that fails
    // when read stands in for it where there is one: /proc/self/mem at offset 0.
    assert_eq!(load(&path).expanded.cases.len(), 1);
    let mem = Path::new("/proc/self/mem");
    if !mem.exists() {
        eprintln!("root and no /proc/self/mem: the read-error case is not exercised");
        return;
    }
    let link = dir.path().join("mem.json");
    std::os::unix::fs::symlink(mem, &link).unwrap();
    let e = only_error(&load(&link), "mem.json");
    assert!(e.message.contains("cannot read"), "{e}");
}

#[test]
fn a_file_over_the_size_cap_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    // 200 MB, sparse: nothing is written, and nothing must be read.
    std::fs::File::create(&big).unwrap().set_len(200 << 20).unwrap();
    let e = only_error(&load(&big), "big.json");
    assert!(e.message.contains("too large") && e.message.contains("209715200 bytes"), "{e}");
    // The cap is an option: a small one refuses a real fixture, the default takes it.
    let small = write(dir.path(), "add11.json", &add11_text());
    let tight = LoadOptions { max_file_bytes: 100, ..LoadOptions::default() };
    let e = only_error(&load_file_with(&small, &tight, &|_| true), "add11.json");
    assert!(e.message.contains("too large"), "{e}");
    assert_eq!(load(&small).expanded.cases.len(), 1);
}

#[test]
fn duplicate_keys_are_errors_with_their_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = add11_text();
    // Two tests of one name: neither runs.
    let body = &text[text.find('{').unwrap() + 1..text.rfind('}').unwrap()];
    let twice = write(dir.path(), "twice.json", &format!("{{{body},{body}}}"));
    let e = only_error(&load(&twice), "twice.json");
    assert_eq!(&*e.test, "add11");
    assert!(e.message.contains("2 tests of this name"), "{e}");
    // A key repeated inside a test, in every kind of place.
    for (needle, path) in [
        ("\"currentNumber\"", ".env.currentNumber"),
        ("\"nonce\" : \"0x00\"", ".pre.0x095e7baea6a6c7c4c2dfeb977efac326af552d87.nonce"),
        ("\"comment\"", "._info.comment"),
    ] {
        let at = text.find(needle).unwrap_or_else(|| panic!("{needle} not in add11.json"));
        let value_end = at + text[at..].find(',').unwrap() + 1;
        let doubled = format!("{}{}{}", &text[..value_end], &text[at..value_end], &text[value_end..]);
        let file = write(dir.path(), "dup.json", &doubled);
        let e = only_error(&load(&file), "dup.json");
        assert_eq!(&*e.test, "add11", "{e}");
        assert!(e.message.contains("duplicate key"), "{e}");
        assert_eq!(field(&e), path, "{e}");
        let line = doubled[..value_end].lines().count();
        assert_eq!(e.at.as_ref().unwrap().line, line, "{e}");
    }
}

#[test]
fn a_wrong_type_names_the_field_with_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = add11();
    v["add11"]["transaction"]["gasLimit"][0] = serde_json::json!({"not": "a number"});
    let text = serde_json::to_string_pretty(&v).unwrap();
    let file = write(dir.path(), "retyped.json", &text);
    let e = only_error(&load(&file), "retyped.json");
    assert_eq!(&*e.test, "add11");
    assert_eq!(field(&e), ".transaction.gasLimit[0]", "{e}");
    let at = e.at.clone().unwrap();
    let line = text.lines().position(|l| l.contains("\"not\"")).unwrap() + 1;
    assert!(at.line == line || at.line == line + 1, "line {} not near {line}: {e}", at.line);
    assert!(e.to_string().contains("retyped.json :: add11: not a state test"), "{e}");
    assert!(e.to_string().contains(&format!("line {}, column", at.line)), "{e}");
}

#[test]
fn errors_found_after_parsing_are_located_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = add11();
    v["add11"]["post"]["Cancun"][0]["indexes"]["data"] = serde_json::json!(7);
    v["add11"]["post"]["Cancoon"] = v["add11"]["post"]["Cancun"].clone();
    let text = serde_json::to_string_pretty(&v).unwrap();
    let file = write(dir.path(), "semantic.json", &text);
    let loaded = load(&file);
    let errors = &loaded.expanded.errors;
    assert_eq!(errors.len(), 2, "{errors:#?}");
    let fork = errors.iter().find(|e| e.message.contains("unknown fork")).unwrap();
    assert_eq!(field(fork), ".post.Cancoon");
    assert_eq!(fork.at.as_ref().unwrap().line, text.lines().position(|l| l.contains("\"Cancoon\"")).unwrap() + 1);
    let index = errors.iter().find(|e| e.message.contains("data index 7")).unwrap();
    assert_eq!(field(index), ".post.Cancun[0].indexes.data");
    let line = index.at.as_ref().unwrap().line;
    assert!(text.lines().nth(line - 1).unwrap().contains("\"data\": 7"), "{index}");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let whole = write(dir.path(), "deep.json", &deep(100_000));
    let e = only_error(&load(&whole), "deep.json");
    assert!(e.message.contains("not a fixture file"), "{e}");
    for place in ["_info", "novelField", "env"] {
        let mut v = add11();
        v["add11"][place] = Value::Null;
        let text = v.to_string().replace("null", &deep(100_000));
        let file = write(dir.path(), "deep-inside.json", &text);
        let loaded = load(&file);
        let e = only_error(&loaded, "deep-inside.json");
        assert_eq!(&*e.test, "add11", "{e}");
        assert!(field(&e).starts_with(&format!(".{place}")), "{e}");
    }
}

#[test]
fn inputs_that_yield_no_case_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = add11();
    v["add11"]["post"] = serde_json::json!({"Cancun": []});
    let e = only_error(&load(&write(dir.path(), "no-entries.json", &v.to_string())), "no-entries.json");
    assert_eq!((&*e.test, field(&e).as_str()), ("add11", ".post.Cancun"), "{e}");
    assert!(e.message.contains("nothing to check"), "{e}");
    for (name, text) in [("empty-object.json", "{}"), ("empty.json", ""), ("array.json", "[]"), ("null.json", "null")] {
        let e = only_error(&load(&write(dir.path(), name, text)), name);
        assert_eq!(&*e.test, "-");
    }
    let empty = tempfile::tempdir().unwrap();
    let (files, errors) = discover(&[empty.path().to_path_buf()]);
    assert!(files.is_empty() && errors.len() == 1, "{errors:#?}");
}

#[test]
fn a_truncated_file_names_where_it_broke() {
    let dir = tempfile::tempdir().unwrap();
    let text = add11_text();
    let cut = text.find("\"transaction\"").unwrap() + 40;
    let e = only_error(&load(&write(dir.path(), "cut.json", &text[..cut])), "cut.json");
    assert_eq!(&*e.test, "-");
    assert!(e.message.starts_with("malformed JSON"), "{e}");
    let at = e.at.clone().unwrap();
    assert!(at.path.to_string().starts_with(".add11.transaction"), "{e}");
    assert_eq!(at.line, text[..cut].lines().count(), "{e}");
}

#[test]
fn strange_test_names_are_kept_and_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = "\u{1b}[2J\nall 999 passed\u{202e}";
    let mut test = add11()["add11"].clone();
    test["post"]["Cancun"][0]["indexes"]["gas"] = serde_json::json!(9);
    let file = write(dir.path(), "names.json", &serde_json::json!({ name: test }).to_string());
    let e = only_error(&load(&file), "names.json");
    assert_eq!(&*e.test, name);
    let shown = e.to_string();
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(shown.contains("\\u{1b}[2J\\u{a}all 999 passed\\u{202e}"), "{shown}");
}

#[test]
fn unknown_fields_are_warnings_whatever_the_tests_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut test = add11()["add11"].clone();
    test["env"]["currentNovelty"] = serde_json::json!("0x01");
    let names = ["tests/a.py::test_x[fork_Cancun-state_test]", "\u{1b}[2J.weird\nname", "plain"];
    let file = serde_json::Value::Object(names.iter().map(|n| (n.to_string(), test.clone())).collect());
    let loaded = load(&write(dir.path(), "unknown.json", &file.to_string()));
    assert!(loaded.expanded.errors.is_empty(), "{:#?}", loaded.expanded.errors);
    assert_eq!(loaded.expanded.cases.len(), 3);
    assert_eq!(loaded.unknown_field_paths, vec!["env.currentNovelty".to_string()]);
    assert_eq!(loaded.unknown_fields.len(), 3);
}
