//! `lockstep statetest`: official state tests on every chosen executor. Each executor is
//! checked against the fixture's expectations; with several executors, each candidate's
//! `BlockOutput` is also compared with the first one's, which catches differences the
//! fixture's state root cannot see (stats aside, outputs must be identical).

use crate::check::{self, Divergence, isolate};
use crate::progress::Progress;
use crate::repro::{bundle, paths::new_bundle_dir};
use lockstep_conformance::{Case, CaseError, CaseInput, LoadOptions, Verdict, load_file_with};
use lockstep_executors::{BlockInput, BlockOutput, Executor, Fork, RunControl};
use lockstep_reports::{
    CaseDivergence, CaseFailure, CaseResult, ConformanceReport, Counts, InputError, PackedStats, Shard, Status,
};
use rayon::prelude::*;
use regex::Regex;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// What `lockstep statetest` runs.
pub struct Options {
    /// Fixture files, or directories searched for `*.json`.
    pub paths: Vec<PathBuf>,
    /// The first is the reference the others' outputs are compared with.
    pub executors: Vec<Arc<dyn Executor>>,
    /// Only the post entries of this fork; `None`: every fork the executors support.
    pub fork: Option<Fork>,
    /// Matched against `file::test`.
    pub filter: Option<Regex>,
    /// Threads given to each executor for one block (the files run in parallel already).
    pub exec_threads: usize,
    /// Show a progress bar when stderr is a terminal.
    pub progress: bool,
    /// Packed mode: each test's vectors as one block, executors compared with the first.
    pub packed: bool,
    /// Where a divergence between executors is written as a repro bundle
    /// (`DIR/divergences/...`); `None`: not written.
    pub out_dir: Option<PathBuf>,
    /// Wall-clock limit of one executor on one case (or packed block): past it the executor
    /// gives up ([`RunControl::deadline`]) and the case counts as a hang of that executor.
    pub timeout: std::time::Duration,
    /// A fixture file larger than this many bytes is an input error and is not read.
    /// [`lockstep_conformance::DEFAULT_MAX_FILE_BYTES`] (64 MiB) holds every official fixture.
    pub max_file_bytes: u64,
    /// Only this shard of the files (in their sorted order); `None`: every file.
    pub shard: Option<Shard>,
    /// Run the blockchain tests met among the files too (`lockstep conformance`), instead of
    /// counting them as skipped.
    pub both_kinds: bool,
}

/// Everything one file contributes to the report.
#[derive(Default)]
pub(crate) struct FileResult {
    pub(crate) counts: Vec<(String, String, Counts)>,
    pub(crate) failures: Vec<CaseFailure>,
    pub(crate) divergences: Vec<CaseDivergence>,
    pub(crate) errors: Vec<InputError>,
    pub(crate) unknown_fields: Vec<String>,
    pub(crate) kind_notes: u64,
    pub(crate) packed: Vec<(String, PackedStats)>,
    pub(crate) cases: Vec<CaseResult>,
}

/// The category a fixture file is shown under: the folder it is in.
pub(crate) fn category(file: &str) -> String {
    std::path::Path::new(file)
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "-".into())
}

/// `file::test::fork::d0g0v0`: a case's identity across runs and shards.
fn case_id(id: &lockstep_conformance::CaseId) -> String {
    let i = &id.indexes;
    format!("{}::{}::{}::d{}g{}v{}", id.file, id.test, id.fork, i.data, i.gas, i.value)
}

impl FileResult {
    /// Counts a case of `exec` and lists it.
    pub(crate) fn record(
        &mut self,
        exec: &str,
        id: String,
        file: &str,
        fork: &str,
        status: Status,
        message: Option<String>,
    ) {
        self.count(exec, fork, |c| match status {
            Status::Passed => c.passed += 1,
            Status::Failed | Status::Diverged => c.failed += 1,
            Status::Skipped => c.skipped += 1,
            Status::Error => c.errors += 1,
        });
        self.cases.push(CaseResult {
            id,
            category: category(file),
            fork: fork.to_string(),
            executor: exec.to_string(),
            status,
            message,
            bundle: None,
        });
    }

    fn count(&mut self, exec: &str, fork: &str, f: impl FnOnce(&mut Counts)) {
        if let Some((_, _, c)) = self.counts.iter_mut().find(|(e, k, _)| e == exec && k == fork) {
            f(c);
        } else {
            let mut c = Counts::default();
            f(&mut c);
            self.counts.push((exec.to_string(), fork.to_string(), c));
        }
    }
}

/// Runs every case of every file (files in parallel on rayon's pool); bad input is counted
/// in the report's errors, naming the file and test, and the run goes on.
pub fn run(opts: &Options) -> ConformanceReport {
    run_files(opts, run_file)
}

/// Runs `run_file` on every file of `opts` (files in parallel on rayon's pool, only the
/// shard's), and gathers the report.
pub(crate) fn run_files(opts: &Options, run_file: fn(&Options, &std::path::Path) -> FileResult) -> ConformanceReport {
    let start = Instant::now();
    let (mut files, discover_errors) = lockstep_conformance::discover(&opts.paths);
    if let Some(shard) = opts.shard {
        files = files
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i as u64 % shard.count == shard.index - 1)
            .map(|(_, f)| f)
            .collect();
    }
    let progress = Progress::new(opts.progress, files.len() as u64, "files");
    let results: Vec<FileResult> = files
        .par_iter()
        .map(|path| {
            // After SIGINT, files not yet started are skipped: the report covers those that ran.
            if crate::interrupt::requested() {
                return FileResult::default();
            }
            let r = run_file(opts, path);
            progress.inc(1);
            r
        })
        .collect();
    progress.finish();

    let executors = opts.executors.iter().map(|e| e.name().to_string()).collect();
    // Only the first shard reports discovery errors, so that merged shards count them once.
    let discover_errors = discover_errors.into_iter().filter(|_| opts.shard.is_none_or(|s| s.index == 1)).collect();
    let mut report = gather(executors, files.len() as u64, discover_errors, results);
    report.interrupted = crate::interrupt::requested();
    report.measured.wall_seconds = start.elapsed().as_secs_f64();
    report
}

/// The report of a run from what each file gave. A path that gives no file counts as an error
/// of every executor, as a file-level one does.
fn gather(
    executors: Vec<String>,
    files: u64,
    discover_errors: Vec<CaseError>,
    results: Vec<FileResult>,
) -> ConformanceReport {
    let mut report = ConformanceReport { executors, files, ..Default::default() };
    for e in &report.executors {
        report.counts.entry(e.clone()).or_default();
    }
    for e in discover_errors {
        report.errors.push(input_error(&e));
        for exec in &report.executors {
            report.counts.entry(exec.clone()).or_default().entry("-".into()).or_default().errors += 1;
            report.cases.push(CaseResult {
                id: e.file.to_string(),
                category: category(&e.file),
                fork: "-".into(),
                executor: exec.clone(),
                status: Status::Error,
                message: Some(e.message.clone()),
                bundle: None,
            });
        }
    }
    for r in results {
        for (exec, fork, c) in r.counts {
            report.counts.entry(exec).or_default().entry(fork).or_default().add(&c);
        }
        report.failures.extend(r.failures);
        report.divergences.extend(r.divergences);
        report.errors.extend(r.errors);
        for f in r.unknown_fields {
            *report.unknown_fields.entry(f).or_default() += 1;
        }
        report.kind_notes += r.kind_notes;
        report.cases.extend(r.cases);
        for (e, p) in r.packed {
            report.measured.packed.entry(e).or_default().add(&p);
        }
    }
    report
}

pub(crate) fn input_error(e: &CaseError) -> InputError {
    let known = |n: usize| (n > 0).then_some(n as u64);
    InputError {
        file: e.file.to_string(),
        test: e.test.to_string(),
        message: e.message.clone(),
        field: e.at.as_ref().map(|a| a.path.to_string()),
        line: e.at.as_ref().and_then(|a| known(a.line)),
        column: e.at.as_ref().and_then(|a| known(a.column)),
    }
}

pub(crate) fn run_file(opts: &Options, path: &std::path::Path) -> FileResult {
    let display = path.display().to_string();
    let keep = |test: &str| opts.filter.as_ref().is_none_or(|re| re.is_match(&format!("{display}::{test}")));
    let load = LoadOptions { fork: opts.fork, max_file_bytes: opts.max_file_bytes };
    let loaded = load_file_with(path, &load, &keep);
    let mut r = FileResult {
        // The same unknown field in every test counts once, whatever the tests' names.
        unknown_fields: loaded.unknown_field_paths.clone(),
        ..Default::default()
    };
    r.unknown_fields.sort();
    r.unknown_fields.dedup();
    for (n, e) in loaded.expanded.errors.iter().enumerate() {
        r.errors.push(input_error(e));
        for exec in &opts.executors {
            let id = format!("{}::{}::error{n}", e.file, e.test);
            r.record(exec.name(), id, &e.file, "-", Status::Error, Some(e.message.clone()));
        }
    }
    let mut blockchain_tests = false;
    for s in &loaded.expanded.skipped {
        if opts.both_kinds && s.reason == lockstep_conformance::load::BLOCKCHAIN_TEST_REASON {
            blockchain_tests = true;
            continue;
        }
        for exec in &opts.executors {
            r.record(exec.name(), case_id(&s.id), &s.id.file, &s.id.fork, Status::Skipped, Some(s.reason.to_string()));
        }
    }
    if blockchain_tests {
        super::blocktest::run_chains_of(opts, path, &mut r);
    }
    let control = RunControl::with_threads(opts.exec_threads);
    if opts.packed {
        for (name, block) in lockstep_conformance::pack::pack(&loaded.expanded.cases) {
            run_packed(opts, &name, &block, &control, &mut r);
        }
        return r;
    }
    for case in &loaded.expanded.cases {
        run_case(opts, case, &control, &mut r);
    }
    r
}

/// `control` with a deadline `timeout` from now.
pub(crate) fn with_deadline(control: &RunControl, timeout: std::time::Duration) -> RunControl {
    RunControl { deadline: Some(Instant::now() + timeout), ..control.clone() }
}

fn run_case(opts: &Options, case: &Case, control: &RunControl, r: &mut FileResult) {
    let fork = case.id.fork.as_str();
    let indexes = format!("d{} g{} v{}", case.id.indexes.data, case.id.indexes.gas, case.id.indexes.value);
    let id = case_id(&case.id);
    let file = &*case.id.file;
    let block = match &case.input {
        CaseInput::Block(b) => b,
        CaseInput::Unbuildable { why, at } => {
            // Nothing to execute: correct only if the fixture expects the transaction to fail.
            // Otherwise one input error, counted for every executor.
            for exec in &opts.executors {
                if case.expect.exception.is_some() {
                    r.record(exec.name(), id.clone(), file, fork, Status::Passed, None);
                } else {
                    r.record(exec.name(), id.clone(), file, fork, Status::Error, Some(why.to_string()));
                }
            }
            if case.expect.exception.is_none() {
                r.errors.push(input_error(&CaseError {
                    file: case.id.file.clone(),
                    test: case.id.test.clone(),
                    at: Some(at.clone()),
                    message: format!("{fork} {indexes}: {why}, and the post entry has no `expectException`"),
                }));
            }
            return;
        }
    };
    let mut reference: Option<(Arc<dyn Executor>, BlockOutput)> = None;
    for exec in &opts.executors {
        let failure = |what: String| CaseFailure {
            executor: exec.name().to_string(),
            file: case.id.file.to_string(),
            test: case.id.test.to_string(),
            fork: fork.to_string(),
            indexes: indexes.clone(),
            what,
        };
        let out = match isolate::run_caught(exec.as_ref(), block, &with_deadline(control, opts.timeout)) {
            Ok(out) => out,
            // A case the executor declines is skipped for it, not failed.
            Err(d) if d.is_unsupported() => {
                r.record(exec.name(), id.clone(), file, fork, Status::Skipped, Some(d.to_string()));
                continue;
            }
            Err(d) => {
                if d.kind() == "hang" {
                    crate::progress::note(format!("{} hung on {id}: {d}", exec.name()));
                }
                r.record(exec.name(), id.clone(), file, fork, Status::Failed, Some(d.to_string()));
                r.failures.push(failure(d.to_string()));
                if let Some((ref_exec, ref_out)) = &reference {
                    let (what, kind) = (d.to_string(), d.kind());
                    let bundle =
                        write_bundle(opts, block, ref_exec, exec, ref_out, d, &bundle_name(case), &case.id.to_string());
                    r.divergences.push(divergence(ref_exec, exec, case, &indexes, &kind, what, bundle, block));
                }
                continue;
            }
        };
        match lockstep_conformance::check(&case.expect, &out) {
            Verdict::Pass { kind_note } => {
                r.record(exec.name(), id.clone(), file, fork, Status::Passed, None);
                r.kind_notes += kind_note.is_some() as u64;
            }
            Verdict::Fail(f) => {
                r.record(exec.name(), id.clone(), file, fork, Status::Failed, Some(f.to_string()));
                r.failures.push(failure(f.to_string()));
            }
        }
        match &reference {
            None => reference = Some((exec.clone(), out)),
            Some((ref_exec, ref_out)) => {
                if let Some(d) =
                    check::compare_under(ref_out, &out, ref_exec.capabilities().common(exec.capabilities()))
                {
                    let (what, kind) = (d.to_string(), d.kind());
                    let bundle =
                        write_bundle(opts, block, ref_exec, exec, ref_out, d, &bundle_name(case), &case.id.to_string());
                    r.divergences.push(divergence(ref_exec, exec, case, &indexes, &kind, what, bundle, block));
                }
            }
        }
    }
}

fn bundle_name(case: &Case) -> String {
    let i = &case.id.indexes;
    format!("{}-{}-d{}g{}v{}", case.id.test, case.id.fork, i.data, i.gas, i.value)
}

fn divergence(
    reference: &Arc<dyn Executor>,
    candidate: &Arc<dyn Executor>,
    case: &Case,
    indexes: &str,
    kind: &str,
    what: String,
    bundle: Option<PathBuf>,
    block: &BlockInput,
) -> CaseDivergence {
    CaseDivergence {
        case: case_id(&case.id),
        kind: kind.to_string(),
        conflicts: check::conflicts::of(reference.as_ref(), block),
        reference: reference.name().to_string(),
        candidate: candidate.name().to_string(),
        file: case.id.file.to_string(),
        test: case.id.test.to_string(),
        fork: case.id.fork.to_string(),
        indexes: indexes.to_string(),
        what,
        bundle: bundle.map(|p| p.display().to_string()),
    }
}

/// Writes the block of a divergence between two executors as a repro bundle in a new
/// directory named after the case (`identity` tells it apart from every other); an unwritable
/// bundle is reported on stderr and the run goes on.
pub(crate) fn write_bundle(
    opts: &Options,
    block: &BlockInput,
    reference: &Arc<dyn Executor>,
    candidate: &Arc<dyn Executor>,
    expected: &BlockOutput,
    divergence: Divergence,
    name: &str,
    identity: &str,
) -> Option<PathBuf> {
    let dir = opts.out_dir.as_ref()?;
    let label = format!("{name}-{}-{}", candidate.name(), divergence.kind());
    let identity = format!("{identity} {} vs {} {}", candidate.name(), reference.name(), divergence.kind());
    let case =
        bundle::Case::new(block.clone(), reference.as_ref(), candidate.as_ref(), opts.exec_threads.max(1), divergence);
    match new_bundle_dir(dir, &label, &identity).and_then(|d| bundle::write(&d, &case, expected)) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("error: cannot write the bundle {name}: {e}");
            None
        }
    }
}

pub(crate) fn run_packed(opts: &Options, name: &str, block: &BlockInput, control: &RunControl, r: &mut FileResult) {
    let fork = block.fork.to_string();
    let (file, test) = name.split_once(" :: ").unwrap_or((name, ""));
    let id = format!("{file}::{test}::{fork}::packed");
    let mut reference: Option<(Arc<dyn Executor>, BlockOutput)> = None;
    for exec in &opts.executors {
        let result = isolate::run_caught(exec.as_ref(), block, &with_deadline(control, opts.timeout));
        if let Err(d) = &result
            && d.kind() == "hang"
        {
            crate::progress::note(format!("{} hung on {id}: {d}", exec.name()));
        }
        if let Err(d) = &result
            && d.is_unsupported()
        {
            r.record(exec.name(), id.clone(), file, &fork, Status::Skipped, Some(d.to_string()));
            continue;
        }
        let found = match (&result, &reference) {
            (Err(d), None) => Some(("failed", d.clone())),
            (Ok(_), None) => None,
            (Err(d), Some(_)) => Some(("diverged", d.clone())),
            (Ok(out), Some((ref_exec, ref_out))) => {
                check::compare_under(ref_out, out, ref_exec.capabilities().common(exec.capabilities()))
                    .map(|d| ("diverged", d))
            }
        };
        match found {
            None => r.record(exec.name(), id.clone(), file, &fork, Status::Passed, None),
            Some((kind, d)) => {
                let what = format!("{kind}: {d}");
                r.record(exec.name(), id.clone(), file, &fork, Status::Failed, Some(what.clone()));
                let divergence_kind = d.kind();
                let bundle = reference.as_ref().and_then(|(ref_exec, ref_out)| {
                    write_bundle(opts, block, ref_exec, exec, ref_out, d, &format!("{test}-{fork}-packed"), name)
                });
                let record = CaseDivergence {
                    reference: reference.as_ref().map(|(e, _)| e.name().to_string()).unwrap_or_default(),
                    candidate: exec.name().to_string(),
                    file: file.to_string(),
                    test: test.to_string(),
                    fork: fork.clone(),
                    indexes: format!("packed {} txs", block.txs.len()),
                    what,
                    bundle: bundle.map(|p| p.display().to_string()),
                    case: id.clone(),
                    kind: divergence_kind,
                    conflicts: reference.as_ref().and_then(|(e, _)| check::conflicts::of(e.as_ref(), block)),
                };
                r.divergences.push(record);
            }
        }
        if let Ok(out) = result {
            let s = &out.stats;
            r.packed.push((
                exec.name().to_string(),
                PackedStats {
                    blocks: 1,
                    txs: block.txs.len() as u64,
                    executions: s.executions,
                    aborts: s.aborts,
                    validations: s.validations,
                    parallel_blocks: s.parallel as u64,
                },
            ));
            if reference.is_none() {
                reference = Some((exec.clone(), out));
            }
        }
    }
}
