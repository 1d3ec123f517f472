//! The one report every job fills: run metadata, one result per case, divergences with their
//! bundles, input errors, and the measured values (timings, speedups) kept apart, so that the
//! same run renders the same bytes in every format, timings aside.
//!
//! The JSON form is versioned by [`SCHEMA_VERSION`]; its schema is generated from these types
//! ([`crate::json::schema`]) and published as `reports/schema/report.schema.json`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The version of the JSON form. A change that renames or removes a field, or changes its
/// meaning, raises it; a new optional field does not.
pub const SCHEMA_VERSION: u32 = 1;

/// The job that made a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Job {
    /// `lockstep run`: generated blocks, candidates against the reference.
    Run,
    /// `lockstep statetest`: official state tests.
    Statetest,
    /// `lockstep blocktest`: official blockchain tests.
    Blocktest,
    /// `lockstep conformance`: a folder of state tests and blockchain tests.
    Conformance,
    /// `lockstep explore`: controlled schedules.
    Explore,
    /// `lockstep stress`: real threads with random delays.
    Stress,
    /// `lockstep bench`: throughput.
    Bench,
    /// `lockstep replay`: a saved block again.
    Replay,
    /// `lockstep minimize`: a bundle made smaller.
    Minimize,
    /// `lockstep hunt`: seeded bugs against every search strategy.
    Hunt,
}

impl Job {
    /// The subcommand's name.
    pub fn name(self) -> &'static str {
        match self {
            Job::Run => "run",
            Job::Statetest => "statetest",
            Job::Blocktest => "blocktest",
            Job::Conformance => "conformance",
            Job::Explore => "explore",
            Job::Stress => "stress",
            Job::Bench => "bench",
            Job::Replay => "replay",
            Job::Minimize => "minimize",
            Job::Hunt => "hunt",
        }
    }
}

/// What one case came to on one executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The result matched the fixture (or, for generated blocks, the reference).
    Passed,
    /// The result did not match the fixture, or the executor errored, panicked or hung.
    Failed,
    /// The executor's output differed from the reference executor's.
    Diverged,
    /// Not run: a fork lockstep skips, or a case the executor declines; `message` says why.
    Skipped,
    /// The input could not be used.
    Error,
}

impl Status {
    /// Failed, diverged or an input error: what a CI gate fails on.
    pub fn is_problem(self) -> bool {
        matches!(self, Status::Failed | Status::Diverged | Status::Error)
    }

    /// The lowercase name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Diverged => "diverged",
            Status::Skipped => "skipped",
            Status::Error => "error",
        }
    }
}

/// One case on one executor: a fixture case (file, test, fork, indexes), a packed block, or a
/// generated block family at one thread count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaseResult {
    /// Stable identity across runs and shards: `file::test::fork::d0g0v0` for a state-test
    /// case, `workload::threads` for a generated family. With `executor`, the key that merge,
    /// baseline and diff match on.
    pub id: String,
    /// The group the case is shown under (a JUnit test suite, a Markdown row): the fixture
    /// category (the folder above the file) or the workload.
    pub category: String,
    /// The fork, as fixtures spell it (`Cancun`); `-` for a case of no fork.
    pub fork: String,
    /// The executor the result is of.
    pub executor: String,
    /// What it came to.
    pub status: Status,
    /// The first difference, the error, or the reason for a skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The repro bundle of a divergence, relative to where the report was written or absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
}

impl CaseResult {
    /// `executor` and `id`: the key of a case across reports.
    pub fn key(&self) -> (String, String) {
        (self.executor.clone(), self.id.clone())
    }
}

/// A candidate's output that differed from the reference's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DivergenceRecord {
    /// The [`CaseResult::id`] it was found on.
    pub case: String,
    /// The executor compared with.
    pub reference: String,
    /// The executor that differed.
    pub candidate: String,
    /// Candidate worker threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
    /// The divergence's kind (`state`, `outcome`, `hang`, `panic`, `tool/crash`, ...).
    pub kind: String,
    /// The first difference, displayed.
    pub what: String,
    /// Its repro bundle directory, if one was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
    /// Which transaction of the block read what another wrote, from the reference's read and
    /// write sets, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<ConflictGraph>,
}

/// The conflicts of one block: transactions and the locations one read after another wrote
/// them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConflictGraph {
    /// Transactions in the block.
    pub txs: u64,
    /// Read-after-write edges, lower writer first.
    pub edges: Vec<ConflictEdge>,
}

/// Transaction `reader` read a location that the lower transaction `writer` wrote.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConflictEdge {
    /// The writing transaction's index in the block.
    pub writer: u64,
    /// The reading transaction's index.
    pub reader: u64,
    /// The location (`0xabc..: balance`, `0xabc..: slot 0x01`).
    pub location: String,
}

/// Input that could not be used, naming file, test and field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InputError {
    /// The file's path.
    pub file: String,
    /// The test's name; `-` for an error about the whole file or path.
    pub test: String,
    /// What is wrong with it.
    pub message: String,
    /// The field it is about, as a JSON path (`.transaction.gasLimit[0]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The 1-based line of the field in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The 1-based column, in bytes, on that line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
}

impl InputError {
    /// ` (at `FIELD`, line L, column C)`, or nothing without a field.
    pub fn location(&self) -> String {
        match (&self.field, self.line, self.column) {
            (Some(f), Some(l), Some(c)) => format!(" (at `{f}`, line {l}, column {c})"),
            (Some(f), _, _) => format!(" (at `{f}`)"),
            _ => String::new(),
        }
    }
}

/// An executor that took part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutorInfo {
    /// The name it is chosen by (`-e NAME`).
    pub name: String,
    /// What it says of its version.
    pub version: String,
    /// `reference`, `candidate` or `spec`.
    pub role: String,
}

/// Fixtures a run read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FixtureSource {
    /// The path given on the command line.
    pub path: String,
    /// The pinned set it belongs to and its release tag or commit, when lockstep knows it
    /// (`ethereum/tests@v17.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
}

/// The machine a run ran on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    /// Logical cores available to the process.
    pub cores: u64,
    /// `linux`, `macos`, ...
    pub os: String,
    /// `x86_64`, `aarch64`, ...
    pub arch: String,
}

impl Machine {
    /// This machine.
    pub fn this() -> Machine {
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
        }
    }
}

/// One shard of a fixture run: the files whose position in the sorted list is `index - 1`
/// modulo `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Shard {
    /// 1-based.
    pub index: u64,
    /// Shards in all.
    pub count: u64,
}

/// Who made the report, with what, on what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// lockstep's version.
    pub lockstep_version: String,
    /// The git revision lockstep was built from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_revision: Option<String>,
    /// The command line, program name first.
    pub command: Vec<String>,
    /// The run seed, for jobs that draw random choices (the same seed gives the same run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The executors, the reference first.
    pub executors: Vec<ExecutorInfo>,
    /// Fixture paths read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixtures: Vec<FixtureSource>,
    /// The machine.
    pub machine: Machine,
    /// The shard this report covers, if it is one; a merged report has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
}

/// Known problems from a baseline report, and what is new against it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BaselineOutcome {
    /// The baseline report's path.
    pub path: String,
    /// Problem cases (`executor id`) the baseline has too: listed, not failed on.
    pub known: Vec<String>,
    /// Problem cases the baseline does not have: what the gate fails on.
    pub new: Vec<String>,
    /// Problems of the baseline that are gone.
    pub fixed: Vec<String>,
}

/// One row of a generated-workload table (`run`, `stress`, `explore`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadRow {
    /// The workload's label.
    pub workload: String,
    /// Candidate worker threads; 0 when the row covers several.
    pub threads: u64,
    /// Blocks (or runs, for stress) of it.
    pub blocks: u64,
    /// Transactions in them.
    pub txs: u64,
    /// Of those, runs that diverged.
    pub divergences: u64,
    /// Runs the candidate declined.
    pub unsupported: u64,
}

/// Measured values of one workload on one executor at one thread count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Throughput {
    /// The workload's label.
    pub workload: String,
    /// The executor.
    pub executor: String,
    /// Worker threads (0: several, summed).
    pub threads: u64,
    /// Reference time over this executor's time; 0.0 when not measured.
    pub speedup: f64,
    /// Executions beyond the first of each transaction, per transaction.
    pub reexecution_ratio: f64,
    /// Median block time in milliseconds (bench), when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_ms: Option<f64>,
    /// Million gas a second (bench), when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mgas_per_s: Option<f64>,
}

/// What depends on timing and real threads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Measured {
    /// Wall time of the whole run, in seconds.
    pub wall_seconds: f64,
    /// Speedup and re-execution per workload, executor and thread count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub throughput: Vec<Throughput>,
    /// Divergences found a second, per stress configuration, and each detection's time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detections: Vec<Detection>,
}

/// The time to a first divergence (stress rows, hunt reports).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Detection {
    /// What was hunted (a workload at a thread count, a seeded bug).
    pub target: String,
    /// Seconds to the first divergence; `None` when none was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Runs that diverged over runs made.
    pub rate: f64,
}

/// A job's report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// The job.
    pub job: Job,
    /// Run metadata.
    pub meta: Meta,
    /// Fixture files read (fixture jobs).
    #[serde(default)]
    pub files: u64,
    /// Every case on every executor, sorted by id, then executor.
    pub cases: Vec<CaseResult>,
    /// Every divergence, in the order of their cases.
    pub divergences: Vec<DivergenceRecord>,
    /// Input that could not be used.
    pub errors: Vec<InputError>,
    /// Workload tables (generated jobs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<WorkloadRow>,
    /// Warnings and facts worth a line (unknown fixture fields, rejections of another kind).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Stopped by SIGINT: the report covers what ran.
    #[serde(default)]
    pub interrupted: bool,
    /// Set by `--baseline`: what is known and what is new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineOutcome>,
    /// What depends on timing; everything else is the same for the same run.
    #[serde(default)]
    pub measured: Measured,
}

impl Report {
    /// An empty report of `job`.
    pub fn new(job: Job, meta: Meta) -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            job,
            meta,
            files: 0,
            cases: Vec::new(),
            divergences: Vec::new(),
            errors: Vec::new(),
            workloads: Vec::new(),
            notes: Vec::new(),
            interrupted: false,
            baseline: None,
            measured: Measured::default(),
        }
    }

    /// Sorts cases and divergences into their canonical order, so that the same results give
    /// the same bytes however they were gathered (threads, shards).
    pub fn canonicalize(&mut self) {
        self.cases.sort_by(|a, b| (&a.id, &a.executor).cmp(&(&b.id, &b.executor)));
        self.divergences.sort_by(|a, b| {
            (&a.case, &a.candidate, a.threads, &a.kind).cmp(&(&b.case, &b.candidate, b.threads, &b.kind))
        });
        self.errors.sort_by(|a, b| (&a.file, &a.test, &a.message).cmp(&(&b.file, &b.test, &b.message)));
    }

    /// Cases with a problem (failed, diverged, error), as `executor id`.
    pub fn problems(&self) -> Vec<String> {
        self.cases.iter().filter(|c| c.status.is_problem()).map(|c| format!("{} {}", c.executor, c.id)).collect()
    }

    /// Cases that passed or failed: what was checked.
    pub fn checked(&self) -> u64 {
        self.cases.iter().filter(|c| !matches!(c.status, Status::Skipped | Status::Error)).count() as u64
    }

    /// The run passes: something was checked, and nothing new failed, diverged or was bad
    /// input (with a baseline, only problems the baseline lacks count).
    pub fn ok(&self) -> bool {
        let problems = match &self.baseline {
            Some(b) => !b.new.is_empty(),
            None => {
                self.cases.iter().any(|c| c.status.is_problem())
                    || !self.divergences.is_empty()
                    || !self.errors.is_empty()
            }
        };
        (self.checked() > 0 || self.job == Job::Minimize) && !problems
    }

    /// Counts per executor and (fork, category): passed, failed, diverged, skipped, error.
    pub fn counts(&self) -> Vec<CountRow> {
        let mut rows: std::collections::BTreeMap<(String, String, String), [u64; 5]> = Default::default();
        for c in &self.cases {
            let e = rows.entry((c.executor.clone(), c.fork.clone(), c.category.clone())).or_default();
            e[c.status as usize] += 1;
        }
        rows.into_iter()
            .map(|((executor, fork, category), n)| CountRow {
                executor,
                fork,
                category,
                passed: n[0],
                failed: n[1],
                diverged: n[2],
                skipped: n[3],
                errors: n[4],
            })
            .collect()
    }
}

/// Counts of one executor on one fork and category.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CountRow {
    /// The executor.
    pub executor: String,
    /// The fork.
    pub fork: String,
    /// The category.
    pub category: String,
    /// Cases passed.
    pub passed: u64,
    /// Cases failed.
    pub failed: u64,
    /// Cases diverged.
    pub diverged: u64,
    /// Cases skipped.
    pub skipped: u64,
    /// Input errors.
    pub errors: u64,
}

impl CountRow {
    /// Adds `o`'s counts.
    pub fn add(&mut self, o: &CountRow) {
        self.passed += o.passed;
        self.failed += o.failed;
        self.diverged += o.diverged;
        self.skipped += o.skipped;
        self.errors += o.errors;
    }

    /// Passed over passed and failed and diverged; 1.0 for none run.
    pub fn pass_rate(&self) -> f64 {
        let run = self.passed + self.failed + self.diverged;
        if run == 0 { 1.0 } else { self.passed as f64 / run as f64 }
    }
}
