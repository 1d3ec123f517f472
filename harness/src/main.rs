//! The `lockstep` command line.

use clap::{Args, Parser, Subcommand};
use lockstep_executors::{Executor, Fork};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "lockstep",
    version,
    about = "Deterministic differential testing of parallel EVM executors"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run official state tests on each executor and check them against the fixtures.
    Statetest(StatetestArgs),
    /// Measure executors on generated workloads (median of interleaved rounds).
    Bench(BenchArgs),
}

#[derive(Args)]
struct BenchArgs {
    /// Transactions per block.
    #[arg(long, default_value_t = 10_000)]
    txs: usize,
    /// Rounds per executor (the median is reported).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Thread counts for the candidates.
    #[arg(long = "threads", default_values_t = [2])]
    threads: Vec<usize>,
    /// Candidate executors.
    #[arg(long = "executor", short = 'e', default_value = "block-stm")]
    executors: Vec<String>,
    #[arg(long, default_value = "sequential")]
    reference: String,
    /// Only these suite entries (e.g. erc20-independent).
    #[arg(long)]
    only: Vec<String>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write the rows as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Args)]
struct StatetestArgs {
    /// Fixture files or directories. Default: the pinned state-test folders under the
    /// fixtures directory.
    paths: Vec<PathBuf>,
    /// Executor to run (repeatable). The first is the reference for output comparison.
    #[arg(long = "executor", short = 'e', default_value = "sequential")]
    executors: Vec<String>,
    /// Fixture files processed at once (default: number of cores).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Worker threads per executor per block.
    #[arg(long, default_value_t = 1)]
    exec_threads: usize,
    /// Only this fork (fixture names such as Cancun, Paris, EIP158 are accepted).
    #[arg(long)]
    fork: Option<String>,
    /// Only tests whose `path::test name` matches this regular expression.
    #[arg(long)]
    filter: Option<String>,
    /// Write the full report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Fixtures directory (else LOCKSTEP_FIXTURES, else ../shared/fixtures).
    #[arg(long)]
    fixtures: Option<PathBuf>,
    /// Packed mode: each test's vectors as one multi-transaction block (nonces chained, filler
    /// transfers between them); every executor is compared with the first.
    #[arg(long)]
    packed: bool,
    /// How many failures, divergences and errors to list.
    #[arg(long, default_value_t = 20)]
    show: usize,
}

/// Exit codes: 0 all agree and pass, 1 divergence or failure, 2 bad usage or input.
const EXIT_FOUND: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Statetest(a)) => statetest(a),
        Some(Command::Bench(a)) => bench(a),
        // The main job with built-in defaults.
        None => match Cli::try_parse_from(["lockstep", "statetest"]) {
            Ok(Cli {
                command: Some(Command::Statetest(a)),
            }) => statetest(a),
            _ => unreachable!("the default command parses"),
        },
    }
}

fn usage_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_USAGE)
}

fn executors(names: &[String]) -> Result<Vec<Arc<dyn Executor>>, String> {
    names
        .iter()
        .map(|n| {
            lockstep_executors::bundled(n).ok_or_else(|| {
                format!(
                    "unknown executor `{n}`; bundled: {}",
                    lockstep_executors::BUNDLED.join(", ")
                )
            })
        })
        .collect()
}

fn statetest(a: StatetestArgs) -> ExitCode {
    let executors = match executors(&a.executors) {
        Ok(e) => e,
        Err(e) => return usage_error(e),
    };
    let fork = match a.fork.as_deref().map(|f| Fork::from_name(f).ok_or(f)) {
        None => None,
        Some(Ok(f)) => Some(f),
        Some(Err(f)) => return usage_error(format!("unknown fork `{f}`")),
    };
    let filter = match a.filter.as_deref().map(regex::Regex::new).transpose() {
        Ok(f) => f,
        Err(e) => return usage_error(format!("bad --filter: {e}")),
    };
    let paths = if a.paths.is_empty() {
        let Some(dir) = lockstep_conformance::fixtures_dir(a.fixtures.clone()) else {
            return usage_error(
                "no fixtures found: pass paths, --fixtures DIR, or set LOCKSTEP_FIXTURES (`just fixtures` downloads them)",
            );
        };
        lockstep_conformance::STATE_TEST_DIRS
            .iter()
            .map(|d| dir.join(d))
            .collect()
    } else {
        a.paths.clone()
    };
    if let Some(j) = a.jobs {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(j.max(1))
            .build_global()
        {
            return usage_error(format!("cannot set --jobs: {e}"));
        }
    }
    eprintln!(
        "lockstep statetest: {} on {}",
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        a.executors.join(", ")
    );
    let report = lockstep_harness::statetest::run(&lockstep_harness::statetest::Options {
        paths,
        executors,
        fork,
        filter,
        exec_threads: a.exec_threads,
        progress: true,
        packed: a.packed,
    });
    print!("{}", report.to_text(a.show));
    println!("{} files in {:.2} s", report.files, report.wall_seconds);
    if let Some(path) = &a.json {
        if let Err(e) = std::fs::write(path, report.to_json()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(EXIT_USAGE);
        }
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FOUND)
    }
}

fn bench(a: BenchArgs) -> ExitCode {
    let reference = match executors(std::slice::from_ref(&a.reference)) {
        Ok(mut e) => e.remove(0),
        Err(e) => return usage_error(e),
    };
    let candidates = match executors(&a.executors) {
        Ok(e) => e,
        Err(e) => return usage_error(e),
    };
    let mut suite = lockstep_harness::bench::default_suite(a.txs);
    if !a.only.is_empty() {
        suite.retain(|(n, _)| a.only.contains(n));
    }
    eprintln!(
        "lockstep bench: seed {}, {} txs per block, {} rounds",
        a.seed, a.txs, a.rounds
    );
    let rows = match lockstep_harness::bench::run(&lockstep_harness::bench::BenchOptions {
        suite,
        reference,
        candidates,
        threads: a.threads,
        rounds: a.rounds.max(1),
        seed: a.seed,
    }) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FOUND);
        }
    };
    print!("{}", lockstep_harness::bench::table(&rows));
    if let Some(p) = a.json {
        if let Err(e) = std::fs::write(&p, serde_json::to_string_pretty(&rows).unwrap_or_default())
        {
            eprintln!("error: cannot write {}: {e}", p.display());
            return ExitCode::from(EXIT_USAGE);
        }
    }
    ExitCode::SUCCESS
}
