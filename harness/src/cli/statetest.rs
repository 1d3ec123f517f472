//! `lockstep statetest`: official state tests; with the same options, `lockstep blocktest`
//! (blockchain tests) and `lockstep conformance` (a folder of both kinds).

use super::args::{self, Isolation, MAX_THREADS, after_help, fork_parser};
use crate::jobs::statetest::{self as job, Options};
use crate::{Error, Result};
use clap::Args;
use lockstep_executors::Fork;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(after_help = after_help!(
    "  lockstep statetest                          the pinned fixture folders on the reference\n  lockstep statetest -e sequential -e block-stm --threads 2\n  lockstep statetest --packed -e sequential -e block-stm\n  lockstep statetest ../shared/fixtures/eest --fork Prague --filter 7702 --report lockstep-out/report\n  lockstep statetest --shard 2/4 --json shard-2.json       then `lockstep report merge shard-*.json`"
))]
pub struct StatetestArgs {
    /// Fixture files or directories. Default: the pinned state-test folders under the
    /// fixtures directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Executor to run (repeatable). The first is the reference the others' outputs are
    /// compared with.
    #[arg(long = "executor", short = 'e', value_name = "NAME", default_value = "sequential")]
    pub executors: Vec<String>,
    /// The specification (an external executor such as `eels`), run after the others: where
    /// the reference disagrees with it is counted apart from candidate divergences.
    #[arg(long, value_name = "NAME")]
    pub spec: Option<String>,
    /// Fixture files processed at once (default: the number of cores).
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u64).range(1..=MAX_THREADS))]
    pub jobs: Option<u64>,
    /// Worker threads each executor gets for one block.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=MAX_THREADS))]
    pub threads: u64,
    /// Only this fork; the names official fixtures use (Paris, EIP150, EIP158,
    /// ConstantinopleFix) are accepted too.
    #[arg(long, value_parser = fork_parser())]
    pub fork: Option<Fork>,
    /// Only tests whose `path::test name` matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub filter: Option<String>,
    #[command(flatten)]
    pub report: crate::report::ReportFlags,
    /// Only shard I of N of the fixture files (in sorted order), for a CI matrix; `lockstep
    /// report merge` joins the shards' JSON reports into the unsharded run's.
    #[arg(long, value_name = "I/N", value_parser = crate::report::parse_shard)]
    pub shard: Option<lockstep_reports::Shard>,
    /// Fixtures directory (else LOCKSTEP_FIXTURES, else ../shared/fixtures).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// Packed mode: each state test's vectors (nonces chained, filler transfers between them),
    /// or each blockchain test's valid blocks, as one multi-transaction block; every executor
    /// is compared with the first.
    #[arg(long)]
    pub packed: bool,
    /// How many failures, divergences and errors to list.
    #[arg(long, default_value_t = 20)]
    pub show: usize,
    /// Where divergences between executors go as repro bundles (default
    /// lockstep-out/COMMAND).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Do not minimize divergences (by default the first 3 are, 20 s each).
    #[arg(long)]
    pub no_minimize: bool,
    /// Largest fixture file read, in MiB; a larger one is an input error.
    #[arg(long, value_name = "MIB", default_value_t = lockstep_conformance::DEFAULT_MAX_FILE_BYTES >> 20,
          value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    pub max_file_mb: u64,
    /// Seconds one executor may take on one case; past it the case is a hang of that executor
    /// and the run goes on.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = args::seconds)]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub isolation: Isolation,
}

/// Which fixtures a run takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// State tests; blockchain tests met are counted as skipped.
    State,
    /// Blockchain tests; state tests met are counted as skipped.
    Blockchain,
    /// Both, each test run by its kind.
    Both,
}

impl Kind {
    fn command(self) -> &'static str {
        match self {
            Kind::State => "statetest",
            Kind::Blockchain => "blocktest",
            Kind::Both => "conformance",
        }
    }
}

pub fn run(a: StatetestArgs) -> Result<ExitCode> {
    run_kind(a, Kind::State)
}

/// Runs the fixtures of `kind` with `a`.
pub fn run_kind(a: StatetestArgs, kind: Kind) -> Result<ExitCode> {
    let mut executors = a.isolation.executors(&a.executors)?;
    if let Some(spec) = &a.spec {
        executors.push(crate::jobs::executor(spec)?);
    }
    let filter = a
        .filter
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| Error::Usage(format!("bad --filter: {e}")))?;
    let paths = if a.paths.is_empty() {
        let dir = lockstep_conformance::fixtures_dir(a.fixtures.clone()).ok_or_else(|| {
            Error::Usage(
                "no fixtures found: pass paths, --fixtures DIR, or set LOCKSTEP_FIXTURES (`lockstep fixtures fetch` downloads them)"
                    .into(),
            )
        })?;
        match kind {
            Kind::State => lockstep_conformance::STATE_TEST_DIRS.iter().map(|d| dir.join(d)).collect(),
            Kind::Blockchain => lockstep_conformance::BLOCKCHAIN_TEST_DIRS.iter().map(|d| dir.join(d)).collect(),
            Kind::Both => vec![dir],
        }
    } else {
        a.paths.clone()
    };
    let baseline = a.report.load_baseline()?;
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("lockstep-out").join(kind.command()));
    super::args::writable_dir(&out)?;
    if let Some(j) = a.jobs {
        rayon::ThreadPoolBuilder::new()
            .num_threads(j as usize)
            .build_global()
            .map_err(|e| Error::Resource(format!("cannot start {j} jobs: {e}")))?;
    }
    eprintln!(
        "lockstep {}: {} on {}",
        kind.command(),
        paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        a.executors.join(", ")
    );
    let roles: Vec<_> = executors
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let role = if i == 0 {
                "reference"
            } else if a.spec.is_some() && i == executors.len() - 1 {
                "spec"
            } else {
                "candidate"
            };
            (e, role)
        })
        .collect();
    let mut meta = crate::report::meta(&roles, None, &paths);
    meta.shard = a.shard;
    let options = Options {
        paths,
        executors: executors.clone(),
        fork: a.fork,
        filter,
        exec_threads: a.threads as usize,
        progress: true,
        packed: a.packed,
        out_dir: Some(out),
        max_file_bytes: a.max_file_mb.saturating_mul(1 << 20),
        timeout: a.timeout,
        shard: a.shard,
        both_kinds: kind == Kind::Both,
    };
    let report = match kind {
        Kind::State | Kind::Both => job::run(&options),
        Kind::Blockchain => crate::jobs::blocktest::run(&options),
    };
    if !a.no_minimize {
        super::minimize_first(report.divergences.iter().filter_map(|d| d.bundle.as_ref().map(PathBuf::from)));
    }
    print!("{}", report.to_text(a.show));
    if let Some(spec) = &a.spec {
        let against: Vec<_> = report.divergences.iter().filter(|d| &d.candidate == spec).collect();
        println!("spec {spec}: {} cases where the reference disagrees with the spec", against.len());
        for d in against.iter().take(10) {
            let v = lockstep_conformance::visible;
            println!(
                "REFERENCE DISAGREES WITH THE SPEC {} :: {} [{} {}]",
                v(&d.file),
                v(&d.test),
                v(&d.fork),
                d.indexes
            );
        }
    }
    println!("{} files in {:.2} s", report.files, report.measured.wall_seconds);
    let job = match kind {
        Kind::State => lockstep_reports::Job::Statetest,
        Kind::Blockchain => lockstep_reports::Job::Blocktest,
        Kind::Both => lockstep_reports::Job::Conformance,
    };
    let mut full = report.to_report(job, meta);
    let ok = a.report.finish(&mut full, baseline.as_ref())?;
    Ok(super::found(!ok))
}

/// `lockstep blocktest`: the options of `statetest`, for blockchain tests.
#[derive(Args, Debug)]
#[command(after_help = after_help!(
    "  lockstep blocktest                          the pinned blockchain-test folders on the reference\n  lockstep blocktest -e sequential -e block-stm --threads 2\n  lockstep blocktest --packed -e sequential -e block-stm\n  lockstep blocktest ../shared/fixtures/ethereum-tests/BlockchainTests --filter bcEIP4844 --report lockstep-out/report"
))]
pub struct BlocktestArgs {
    #[command(flatten)]
    pub args: StatetestArgs,
}

/// `lockstep conformance`: the options of `statetest`, for a folder of both kinds.
#[derive(Args, Debug)]
#[command(after_help = after_help!(
    "  lockstep conformance                        every fixture under the fixtures directory, both kinds\n  lockstep conformance ../shared/fixtures -e sequential -e block-stm --report lockstep-out/report"
))]
pub struct ConformanceArgs {
    #[command(flatten)]
    pub args: StatetestArgs,
}
