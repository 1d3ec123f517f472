//! Hostile input through the code `lockstep statetest` runs (`jobs::statetest::run`, the
//! `sequential` executor): thousands of inputs derived from real state tests, and a fixture
//! folder with symlink loops, a FIFO, an unreadable file and a file over the size cap. For
//! each: no panic, an end within a time bound, every input error naming the file, the test
//! when there is one, and the field with its line and column; error counts that agree with
//! the errors listed; text that no name can forge lines in. `fixtures_hostile_generated` is
//! the slow one.

#[path = "hostile/generate.rs"]
mod generate;

use generate::{FORGED, Input};
use lockstep_conformance::DEFAULT_MAX_FILE_BYTES;
use lockstep_conformance::json::Step;
use lockstep_executors::{Executor, Sequential};
use lockstep_harness::jobs::statetest::{Options, run};
use lockstep_reports::{ConformanceReport, InputError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

/// Small real state tests, one of each transaction type.
const BASES: &[&str] = &[
    "ethereum-tests/GeneralStateTests/stExample/add11.json",
    "ethereum-tests/GeneralStateTests/stEIP1559/typeTwoBerlin.json",
    "ethereum-tests/GeneralStateTests/Cancun/stEIP4844-blobtransactions/createBlobhashTx.json",
    "ethereum-tests/GeneralStateTests/Cancun/stEIP1153-transientStorage/17_tstoreGas.json",
    "eest/pectra-devnet-5/state_tests/prague/eip7702_set_code_tx/set_code_txs/tx_into_self_delegating_set_code.json",
];

/// How long one input may take; a real one takes milliseconds.
const LIMIT: Duration = Duration::from_secs(20);

fn fixtures() -> PathBuf {
    // LOCKSTEP_FIXTURES, else ../shared/fixtures, else the verified cache, else a fetch.
    lockstep_conformance::fixtures_for_tests().unwrap_or_else(|e| panic!("{e}"))
}

fn base(rel: &str) -> Value {
    let path = fixtures().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn options(paths: Vec<PathBuf>) -> Options {
    let executors: Vec<Arc<dyn Executor>> = vec![Arc::new(Sequential)];
    Options {
        paths,
        executors,
        fork: None,
        filter: None,
        exec_threads: 1,
        progress: false,
        packed: false,
        out_dir: None,
        max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        shard: None,
        both_kinds: false,
        timeout: lockstep_harness::defaults::CASE_TIMEOUT,
    }
}

/// What one run gave.
enum Outcome {
    Report(ConformanceReport),
    Panic(String),
    Hang,
}

/// Runs statetest on a worker thread, each run bounded: a run past the limit is left behind
/// (threads cannot be killed) and a new worker takes the next.
struct Runner {
    jobs: Sender<Options>,
    results: Receiver<Outcome>,
}

impl Runner {
    fn new() -> Runner {
        let (jobs, inbox) = channel::<Options>();
        let (outbox, results) = channel();
        std::thread::spawn(move || {
            for opts in inbox {
                let outcome = match catch_unwind(AssertUnwindSafe(|| run(&opts))) {
                    Ok(r) => Outcome::Report(r),
                    Err(p) => Outcome::Panic(
                        p.downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default(),
                    ),
                };
                if outbox.send(outcome).is_err() {
                    return;
                }
            }
        });
        Runner { jobs, results }
    }

    fn run(&mut self, opts: Options, limit: Duration) -> Outcome {
        self.jobs.send(opts).expect("the worker is alive");
        match self.results.recv_timeout(limit) {
            Ok(o) => o,
            Err(_) => {
                *self = Runner::new();
                Outcome::Hang
            }
        }
    }
}

/// `a` is `b`, an ancestor of it, or a descendant (paths as displayed).
fn related(a: &str, b: &str) -> bool {
    let within = |long: &str, short: &str| {
        short == "."
            || (long.starts_with(short) && matches!(long[short.len()..].chars().next(), None | Some('.' | '[')))
    };
    within(a, b) || within(b, a)
}

/// What is wrong with a report's text: a control character other than a newline, or a line
/// a name forged.
fn text_problems(report: &ConformanceReport) -> Vec<String> {
    let text = report.to_text(usize::MAX);
    let mut problems = Vec::new();
    if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\n') {
        problems.push(format!("raw control character {c:?} in the text"));
    }
    if text.lines().any(|l| l.trim_start().starts_with("all 999 passed")) {
        problems.push("a name forged a line".into());
    }
    problems
}

/// The problems with one input's report; empty when it is as it must be.
fn problems(input: &Input, path: &Path, report: &ConformanceReport) -> Vec<String> {
    let mut p = text_problems(report);
    let file = path.display().to_string();
    let total = report.total("sequential");
    if total.errors != report.errors.len() as u64 {
        p.push(format!("errors column {} but {} errors listed", total.errors, report.errors.len()));
    }
    if input.intact && total.passed == 0 {
        p.push("the intact test beside the damaged one did not pass".into());
    }
    if report.checked() == 0 && report.errors.is_empty() {
        p.push("nothing checked and no error: would look like a pass".into());
    }
    for f in &report.failures {
        if f.what.contains("panicked") {
            p.push(format!("executor panic: {}", f.what));
        }
    }
    for e in &report.errors {
        p.extend(error_problems(input, &file, e));
    }
    p
}

fn error_problems(input: &Input, file: &str, e: &InputError) -> Vec<String> {
    let mut p = Vec::new();
    let shown = || format!("{} :: {}: {} at {:?}", e.file, e.test, e.message, e.field);
    if e.file != file {
        p.push(format!("names file {:?}, not {file:?}", e.file));
    }
    let Some(field) = &e.field else {
        p.push(format!("names no field: {}", shown()));
        return p;
    };
    if e.line.is_none_or(|l| l == 0) || e.column.is_none() {
        p.push(format!("no line and column: {}", shown()));
    }
    if let Some(test) = &input.test
        && e.test != "-"
    {
        if &e.test != test && e.test != "intact" {
            p.push(format!("names test {:?}, not {test:?}: {}", e.test, shown()));
        }
        if e.test == "intact" {
            p.push(format!("an error in the intact test: {}", shown()));
        }
        if let Some(damaged) = &input.field {
            // The field named is the damaged one, or one whose meaning it changed: then the
            // message names the damaged one (`data index 0 out of range: transaction.data
            // has 0 entries`).
            let last_key = damaged.0.iter().rev().find_map(|s| match s {
                Step::Key(k) => Some(k.as_str()),
                Step::Index(_) => None,
            });
            let damaged = damaged.to_string();
            if !related(field, &damaged) && !last_key.is_some_and(|k| e.message.contains(k)) {
                p.push(format!("names field {field}, damage was at {damaged}: {}", shown()));
            }
        }
    }
    if input.intact && e.test == "-" {
        p.push(format!("a file-level error for damage inside one test: {}", shown()));
    }
    p
}

#[derive(Default)]
struct Tally {
    inputs: u64,
    with_errors: u64,
    errors: u64,
    passed: u64,
    failed: u64,
    /// The first error of this kind, as the report's text shows it.
    sample: Option<String>,
}

#[test]
fn fixtures_hostile_generated() {
    let seed = std::env::var("LOCKSTEP_HOSTILE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x1057_11e5);
    println!("hostile inputs: seed {seed} (LOCKSTEP_HOSTILE_SEED={seed} repeats this run)");
    let bases: Vec<(String, Value)> = BASES.iter().map(|b| (b.to_string(), base(b))).collect();
    let inputs = generate::generate(&bases, seed);
    assert!(inputs.len() >= 2_000, "only {} inputs", inputs.len());
    let dir = tempfile::tempdir().unwrap();
    let mut runner = Runner::new();
    let mut tally: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    let start = Instant::now();
    for input in &inputs {
        let path = dir.path().join(&input.file);
        std::fs::write(&path, &input.bytes).unwrap();
        let began = Instant::now();
        let outcome = runner.run(options(vec![path.clone()]), LIMIT);
        let took = began.elapsed();
        if took > slowest.0 {
            slowest = (took, input.file.clone());
        }
        let t = tally.entry(input.kind).or_default();
        t.inputs += 1;
        let report = match outcome {
            Outcome::Report(r) => r,
            Outcome::Panic(m) => {
                failures.push(format!("{}: panicked: {m}", input.file));
                continue;
            }
            Outcome::Hang => {
                failures.push(format!("{}: not done after {LIMIT:?}", input.file));
                continue;
            }
        };
        let total = report.total("sequential");
        t.with_errors += !report.errors.is_empty() as u64;
        t.errors += report.errors.len() as u64;
        t.passed += total.passed;
        t.failed += total.failed;
        if t.sample.is_none() && !report.errors.is_empty() {
            let text = report.to_text(1);
            t.sample = text.lines().skip_while(|l| !l.contains("input errors")).nth(1).map(str::to_string);
        }
        for problem in problems(input, &path, &report) {
            failures.push(format!("{} ({}): {problem}", input.file, input.kind));
        }
        std::fs::remove_file(&path).unwrap();
    }
    let mut all = Tally::default();
    println!("{:<10} {:>7} {:>12} {:>7} {:>7} {:>7}", "kind", "inputs", "with errors", "errors", "passed", "failed");
    for (kind, t) in &tally {
        println!("{kind:<10} {:>7} {:>12} {:>7} {:>7} {:>7}", t.inputs, t.with_errors, t.errors, t.passed, t.failed);
        all.inputs += t.inputs;
        all.with_errors += t.with_errors;
        all.errors += t.errors;
        all.passed += t.passed;
        all.failed += t.failed;
    }
    println!(
        "{:<10} {:>7} {:>12} {:>7} {:>7} {:>7}",
        "total", all.inputs, all.with_errors, all.errors, all.passed, all.failed
    );
    println!(
        "{} inputs in {:.1} s; slowest {} in {:?}",
        all.inputs,
        start.elapsed().as_secs_f64(),
        slowest.1,
        slowest.0
    );
    for (kind, t) in &tally {
        let sample: String = t.sample.as_deref().unwrap_or("-").chars().take(300).collect();
        println!("{kind}: {sample}");
    }
    assert!(
        failures.is_empty(),
        "{} problems (seed {seed}), first 40:\n{}",
        failures.len(),
        failures[..failures.len().min(40)].join("\n")
    );
}

fn add11_text() -> String {
    base(BASES[0]).to_string()
}

#[cfg(unix)]
#[test]
fn hostile_file_system_inputs_are_named_and_counted() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("add11.json"), add11_text()).unwrap();
    symlink(".", root.join("loop-a")).unwrap();
    symlink(".", root.join("loop-b")).unwrap();
    symlink("itself", root.join("itself")).unwrap();
    symlink("add11.json", root.join("alias.json")).unwrap();
    let fifo = std::process::Command::new("mkfifo").arg(root.join("pipe.json")).status().is_ok_and(|s| s.success());
    let locked = root.join("locked.json");
    std::fs::write(&locked, add11_text()).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let root_reads_anyway = std::fs::File::open(&locked).is_ok();
    std::fs::File::create(root.join("big.json")).unwrap().set_len(200 << 20).unwrap();
    let mut failing: Value = serde_json::from_str(&add11_text()).unwrap();
    failing["add11"]["post"]["Cancun"][0]["hash"] = Value::String(format!("0x{}", "22".repeat(32)));
    std::fs::write(root.join(format!("name\n{FORGED}.json")), failing.to_string()).unwrap();
    std::fs::create_dir(root.join("empty")).unwrap();
    let paths = vec![root.to_path_buf(), root.join("empty"), root.join("missing.json")];

    let outcome = Runner::new().run(options(paths), LIMIT);
    let Outcome::Report(report) = outcome else { panic!("panicked or hung") };
    let text = report.to_text(usize::MAX);
    println!("{text}");
    assert_eq!(text_problems(&report), Vec::<String>::new(), "{text}");
    // add11 once (not again through loop-a, loop-b or alias.json), locked.json when readable,
    // the strange name, big.json (found, refused when read).
    assert_eq!(report.files, 3 + root_reads_anyway as u64, "{text}");
    let total = report.total("sequential");
    assert_eq!(total.errors, report.errors.len() as u64, "{text}");
    assert_eq!((total.passed, total.failed), (1 + root_reads_anyway as u64, 1), "{text}");
    let error = |file: &str, what: &str| {
        let found = report.errors.iter().any(|e| e.file.ends_with(file) && e.message.contains(what));
        assert!(found, "no error for {file} saying {what:?}:\n{text}");
    };
    error("loop-a", "symlink loop");
    error("loop-b", "symlink loop");
    error("itself", "symlink");
    error("big.json", "too large");
    error("empty", "no JSON fixture files");
    error("missing.json", "no such file");
    if fifo {
        error("pipe.json", "a FIFO");
    }
    if !root_reads_anyway {
        error("locked.json", "cannot read");
    }
    let expected = 6 + fifo as usize + !root_reads_anyway as usize;
    assert_eq!(report.errors.len(), expected, "{text}");
    assert!(!report.ok());
}

#[test]
fn a_run_that_checks_nothing_is_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("add11.json");
    std::fs::write(&good, add11_text()).unwrap();
    let mut runner = Runner::new();
    let mut report = |opts: Options| match runner.run(opts, LIMIT) {
        Outcome::Report(r) => r,
        _ => panic!("panicked or hung"),
    };
    // A filter that matches nothing.
    let none =
        report(Options { filter: Some(regex::Regex::new("no-such-test").unwrap()), ..options(vec![good.clone()]) });
    assert_eq!(none.checked(), 0);
    assert!(!none.ok() && none.to_text(5).contains("nothing was checked"), "{}", none.to_text(5));
    // A fork with no post entries.
    let mut v: Value = serde_json::from_str(&add11_text()).unwrap();
    v["add11"]["post"] = serde_json::json!({"Cancun": []});
    let empty = dir.path().join("empty-post.json");
    std::fs::write(&empty, v.to_string()).unwrap();
    let r = report(options(vec![empty]));
    assert!(!r.ok() && r.errors.len() == 1 && r.total("sequential").errors == 1, "{}", r.to_text(5));
    assert_eq!(r.errors[0].field.as_deref(), Some(".post.Cancun"));
    // Only skipped cases (a file on the skip list).
    let skipped = dir.path().join("ValueOverflow.json");
    std::fs::write(&skipped, add11_text()).unwrap();
    let r = report(options(vec![skipped]));
    assert!(r.total("sequential").skipped > 0 && !r.ok(), "{}", r.to_text(5));
    // And the real fixture still passes.
    assert!(report(options(vec![good])).ok());
}

#[test]
fn error_counts_agree_with_the_errors_listed_for_every_executor() {
    let dir = tempfile::tempdir().unwrap();
    // A blob transaction without a recipient is not buildable: correct only if an exception is
    // expected, an input error otherwise (one error, counted for each executor).
    let mut v = base(BASES[2]);
    let test = v.as_object_mut().unwrap().values_mut().next().unwrap();
    test["post"]["Cancun"][0].as_object_mut().unwrap().remove("expectException");
    std::fs::write(dir.path().join("unbuildable.json"), v.to_string()).unwrap();
    std::fs::write(dir.path().join("truncated.json"), &add11_text()[..200]).unwrap();
    let executors: Vec<Arc<dyn Executor>> =
        ["sequential", "block-stm"].iter().map(|n| lockstep_executors::bundled(n).unwrap()).collect();
    let paths = vec![dir.path().to_path_buf(), dir.path().join("missing")];
    let Outcome::Report(report) = Runner::new().run(Options { executors, ..options(paths) }, LIMIT) else {
        panic!("panicked or hung")
    };
    let text = report.to_text(10);
    assert_eq!(report.errors.len(), 3, "{text}");
    for exec in ["sequential", "block-stm"] {
        assert_eq!(report.total(exec).errors, 3, "{exec}\n{text}");
    }
    let unbuildable = report.errors.iter().find(|e| e.file.ends_with("unbuildable.json")).expect("listed");
    assert_eq!(unbuildable.field.as_deref(), Some(".transaction.to"), "{text}");
    assert!(unbuildable.message.contains("no `expectException`"), "{text}");
}
