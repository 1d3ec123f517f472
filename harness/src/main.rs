//! The `lockstep` command line.

use clap::{Args, Parser, Subcommand};
use lockstep_executors::{Executor, Fork};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "lockstep", version, about = "Deterministic differential testing of parallel EVM executors")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// The main job: generated conflicting blocks on every executor, compared with the reference.
    Run(RunArgs),
    /// Run official state tests on each executor and check them against the fixtures.
    Statetest(StatetestArgs),
    /// Run a saved block (block.json, or a divergence directory) on the reference and a candidate.
    Replay(ReplayArgs),
    /// Explore interleavings: the candidate under controlled schedules, one worker at a time.
    Explore(ExploreArgs),
    /// Minimize a divergence bundle in place (ddmin over transactions and pre-state, then fields).
    Minimize(MinimizeArgs),
    /// Stress: real threads with seeded random delays at hook points; divergence rate per thread count.
    Stress(StressArgs),
    /// Measure executors on generated workloads (median of interleaved rounds).
    Bench(BenchArgs),
}

#[derive(Args)]
struct RunArgs {
    /// Workload families (repeatable; default: the built-in mix of every family at three
    /// contention levels). Names: raw-transfers, erc20, amm, nft-mint, beneficiary, phoenix,
    /// nonce-factory, nonce-gaps, speculative-funding, empty-accounts, eip7702, branchy,
    /// hot-key, mix.
    #[arg(long = "workload", short = 'w')]
    workloads: Vec<String>,
    /// Run seed (default: from the clock, printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Stop after this many blocks.
    #[arg(long)]
    blocks: Option<u64>,
    /// Stop after this many seconds (default 30 when --blocks is not given).
    #[arg(long)]
    duration: Option<f64>,
    /// Transactions per generated block.
    #[arg(long, default_value_t = 32)]
    txs: usize,
    /// Candidate thread counts (repeatable).
    #[arg(long = "threads", default_values_t = [2, 4])]
    threads: Vec<usize>,
    /// Candidate executors (repeatable; default: every bundled executor but the reference).
    #[arg(long = "executor", short = 'e')]
    executors: Vec<String>,
    #[arg(long, default_value = "sequential")]
    reference: String,
    /// Where the summary and divergences go (default lockstep-out/run-SEED).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Per-execution limit in milliseconds; a candidate past it has hung.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Do not minimize divergences (by default the first few are, 20 s each).
    #[arg(long)]
    no_minimize: bool,
}

#[derive(Args)]
struct ExploreArgs {
    /// Workload families (repeatable; default: every hazard family).
    #[arg(long = "workload", short = 'w')]
    workloads: Vec<String>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Blocks per workload.
    #[arg(long, default_value_t = 4)]
    blocks: u64,
    /// Controlled schedules per block.
    #[arg(long, default_value_t = 50)]
    schedules: u64,
    /// random or pct.
    #[arg(long, default_value = "random")]
    strategy: String,
    #[arg(long, default_value_t = 8)]
    txs: usize,
    #[arg(long, default_value_t = 2)]
    threads: usize,
    #[arg(long = "executor", short = 'e', default_value = "block-stm")]
    executor: String,
    #[arg(long, default_value = "sequential")]
    reference: String,
    /// Steps before a controlled run counts as a livelock.
    #[arg(long, default_value_t = 50_000)]
    step_budget: u64,
    #[arg(long, default_value_t = 20_000)]
    timeout_ms: u64,
    /// Skip shrinking failing schedules.
    #[arg(long)]
    no_shrink: bool,
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replay a bundle (block.json + schedule.json) exactly, instead of exploring.
    #[arg(long)]
    replay: Option<PathBuf>,
    /// With --replay: how many times.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
}

#[derive(Args)]
struct StressArgs {
    #[arg(long = "workload", short = 'w')]
    workloads: Vec<String>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long = "threads", default_values_t = [1, 2, 4, 8, 16])]
    threads: Vec<usize>,
    /// Runs per workload and thread count.
    #[arg(long, default_value_t = 20)]
    repeats: u64,
    /// Chance of a delay at each hook point.
    #[arg(long, default_value_t = 0.05)]
    probability: f64,
    #[arg(long, default_value_t = 32)]
    txs: usize,
    #[arg(long = "executor", short = 'e', default_value = "block-stm")]
    executor: String,
    #[arg(long, default_value = "sequential")]
    reference: String,
    #[arg(long, default_value_t = 20_000)]
    timeout_ms: u64,
}

#[derive(Args)]
struct MinimizeArgs {
    /// A bundle directory (with case.json).
    bundle: PathBuf,
    /// Time budget in seconds.
    #[arg(long, default_value_t = 60.0)]
    budget: f64,
    /// Candidate runs per evaluation (any one diverging counts).
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

#[derive(Args)]
struct ReplayArgs {
    /// A bundle directory (case.json), or a block.json.
    path: PathBuf,
    /// Candidate (default: the bundle's, or block-stm for a bare block).
    #[arg(long = "executor", short = 'e')]
    executor: Option<String>,
    #[arg(long, default_value = "sequential")]
    reference: String,
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Run it this many times (a schedule-dependent divergence may not show every time).
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
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
    /// Where divergences between executors go as repro bundles (default lockstep-out/statetest).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do not minimize divergences (by default the first few are, 20 s each).
    #[arg(long)]
    no_minimize: bool,
}

// Block-STM allocates and frees across worker threads; mimalloc's per-thread heaps keep that
// from serializing the workers (glibc's arenas did). The reference runs on it too.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes: 0 all agree and pass, 1 divergence or failure, 2 bad usage or input.
const EXIT_FOUND: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Statetest(a)) => statetest(a),
        Some(Command::Run(a)) => run(a),
        Some(Command::Replay(a)) => replay(a),
        Some(Command::Explore(a)) => explore(a),
        Some(Command::Minimize(a)) => minimize(a),
        Some(Command::Stress(a)) => stress(a),
        Some(Command::Bench(a)) => bench(a),
        // The main job with built-in defaults.
        None => run(default_run()),
    }
}

/// What `lockstep` with no arguments does: `lockstep run` with every default.
fn default_run() -> RunArgs {
    match Cli::try_parse_from(["lockstep", "run"]) {
        Ok(Cli { command: Some(Command::Run(a)) }) => a,
        _ => unreachable!("`lockstep run` parses"),
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
            lockstep_executors::bundled(n)
                .ok_or_else(|| format!("unknown executor `{n}`; bundled: {}", lockstep_executors::BUNDLED.join(", ")))
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
        lockstep_conformance::STATE_TEST_DIRS.iter().map(|d| dir.join(d)).collect()
    } else {
        a.paths.clone()
    };
    if let Some(j) = a.jobs {
        if let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(j.max(1)).build_global() {
            return usage_error(format!("cannot set --jobs: {e}"));
        }
    }
    eprintln!(
        "lockstep statetest: {} on {}",
        paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
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
        out_dir: Some(a.out.clone().unwrap_or_else(|| PathBuf::from("lockstep-out/statetest"))),
    });
    if !a.no_minimize {
        minimize_found(
            report.divergences.iter().filter_map(|d| d.bundle.as_ref().map(PathBuf::from)).take(3).collect(),
        );
    }
    print!("{}", report.to_text(a.show));
    println!("{} files in {:.2} s", report.files, report.wall_seconds);
    if let Some(path) = &a.json {
        if let Err(e) = std::fs::write(path, report.to_json()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(EXIT_USAGE);
        }
    }
    if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FOUND) }
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
    eprintln!("lockstep bench: seed {}, {} txs per block, {} rounds", a.seed, a.txs, a.rounds);
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
        if let Err(e) = std::fs::write(&p, serde_json::to_string_pretty(&rows).unwrap_or_default()) {
            eprintln!("error: cannot write {}: {e}", p.display());
            return ExitCode::from(EXIT_USAGE);
        }
    }
    ExitCode::SUCCESS
}

fn run(a: RunArgs) -> ExitCode {
    use lockstep_harness::engine;
    use lockstep_harness::workload::{Family, Workload};
    let reference = match executors(std::slice::from_ref(&a.reference)) {
        Ok(mut e) => e.remove(0),
        Err(e) => return usage_error(e),
    };
    let names: Vec<String> = if a.executors.is_empty() {
        lockstep_executors::BUNDLED.iter().filter(|n| **n != a.reference).map(|n| n.to_string()).collect()
    } else {
        a.executors.clone()
    };
    let candidates = match executors(&names) {
        Ok(e) => e,
        Err(e) => return usage_error(e),
    };
    let workloads = if a.workloads.is_empty() {
        engine::default_mix(a.txs)
    } else {
        let mut w = Vec::new();
        for name in &a.workloads {
            let Some(f) = Family::from_name(name) else {
                return usage_error(format!("unknown workload `{name}`"));
            };
            for hot in [0.0, 0.3, 0.9] {
                w.push(Workload::new(f, a.txs).with_accounts((a.txs * 3 / 4).max(1)).with_hot_ratio(hot));
            }
        }
        w
    };
    let seed = a.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
    });
    let duration = match (a.blocks, a.duration) {
        (_, Some(d)) => Some(std::time::Duration::from_secs_f64(d.max(0.0))),
        (None, None) => Some(std::time::Duration::from_secs(30)),
        (Some(_), None) => None,
    };
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from(format!("lockstep-out/run-{seed}")));
    println!(
        "lockstep run: seed {seed} (replay with --seed {seed}); reference {}; candidates {} at {:?} threads; {} workloads",
        reference.name(),
        names.join(", "),
        a.threads,
        workloads.len()
    );
    lockstep_harness::guard::quiet_executor_panics();
    let report = engine::run(&engine::RunOptions {
        workloads,
        seed,
        budget: engine::Budget { blocks: a.blocks, duration },
        threads: a.threads.clone(),
        reference,
        candidates,
        timeout: std::time::Duration::from_millis(a.timeout_ms),
        out_dir: Some(out.clone()),
        progress: true,
    });
    print!("{}", report.table());
    if !a.no_minimize {
        minimize_found(report.found.iter().filter_map(|f| f.bundle.clone()).take(3).collect());
    }
    for f in report.found.iter().take(10) {
        println!(
            "DIVERGENCE {} ({} threads) on {} block seed {}: {}\n  bundle: {}",
            f.candidate,
            f.threads,
            f.workload.label(),
            f.block_seed,
            f.divergence,
            f.bundle.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "-".into())
        );
    }
    for e in report.reference_errors.iter().take(10) {
        println!("REFERENCE ERROR {e}");
    }
    println!(
        "{} blocks, {} txs, {} divergences in {:.1} s ({:.0} blocks/s); seed {seed}",
        report.blocks,
        report.txs,
        report.found.len(),
        report.wall_seconds,
        report.blocks as f64 / report.wall_seconds.max(1e-9)
    );
    let summary = out.join("summary.json");
    if let Err(e) = std::fs::create_dir_all(&out)
        .and_then(|_| std::fs::write(&summary, serde_json::to_string_pretty(&report).unwrap_or_default()))
    {
        eprintln!("error: cannot write {}: {e}", summary.display());
        return ExitCode::from(EXIT_USAGE);
    }
    println!("summary: {}", summary.display());
    if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FOUND) }
}

fn replay(a: ReplayArgs) -> ExitCode {
    let timeout = std::time::Duration::from_millis(a.timeout_ms);
    let reference = match executors(std::slice::from_ref(&a.reference)) {
        Ok(mut e) => e.remove(0),
        Err(e) => return usage_error(e),
    };
    lockstep_harness::guard::quiet_executor_panics();
    let is_bundle = a.path.join("case.json").is_file() || a.path.file_name().is_some_and(|n| n == "case.json");
    if is_bundle {
        let case = match lockstep_harness::bundle::read(&a.path) {
            Ok(c) => c,
            Err(e) => return usage_error(format!("bad bundle: {e}")),
        };
        let name = a.executor.clone().unwrap_or(case.candidate.name.clone());
        let candidate = match executors(std::slice::from_ref(&name)) {
            Ok(mut e) => e.remove(0),
            Err(e) => return usage_error(e),
        };
        let dir = if a.path.is_dir() { a.path.clone() } else { a.path.parent().map(PathBuf::from).unwrap_or_default() };
        let mut diverged = 0;
        for i in 0..a.repeat.max(1) {
            match lockstep_harness::explore::replay_bundle(&dir, &candidate, reference.as_ref(), 50_000, timeout) {
                Err(e) => return usage_error(e),
                Ok((Some(d), _)) => {
                    diverged += 1;
                    if diverged == 1 {
                        println!("run {i}: {} diverges from {}:\n{d}", candidate.name(), reference.name());
                    }
                }
                Ok((None, _)) => {}
            }
        }
        println!("{diverged} of {} runs diverged (recorded: {})", a.repeat.max(1), case.kind);
        return if diverged > 0 { ExitCode::from(EXIT_FOUND) } else { ExitCode::SUCCESS };
    }
    let path = if a.path.is_dir() { a.path.join("block.json") } else { a.path.clone() };
    let block: lockstep_executors::BlockInput = match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(b) => b,
        Err(e) => return usage_error(format!("{}: not a block: {e}", path.display())),
    };
    let name = a.executor.clone().unwrap_or_else(|| "block-stm".into());
    let candidate = match executors(std::slice::from_ref(&name)) {
        Ok(mut e) => e.remove(0),
        Err(e) => return usage_error(e),
    };
    let block = Arc::new(block);
    let mut diverged = 0;
    for i in 0..a.repeat.max(1) {
        match lockstep_harness::engine::check_block(&block, reference.as_ref(), None, &candidate, a.threads, timeout) {
            Err(e) => return usage_error(e),
            Ok(c) => {
                if let Some(d) = c.divergence {
                    diverged += 1;
                    if diverged == 1 {
                        println!("run {i}: {} diverges from {}:\n{d}", candidate.name(), reference.name());
                    }
                }
            }
        }
    }
    println!("{diverged} of {} runs diverged", a.repeat.max(1));
    if diverged > 0 { ExitCode::from(EXIT_FOUND) } else { ExitCode::SUCCESS }
}

fn minimize(a: MinimizeArgs) -> ExitCode {
    let case = match lockstep_harness::bundle::read(&a.bundle) {
        Ok(c) => c,
        Err(e) => return usage_error(format!("bad bundle: {e}")),
    };
    let reference = match executors(std::slice::from_ref(&case.reference.name)) {
        Ok(mut e) => e.remove(0),
        Err(e) => return usage_error(e),
    };
    let candidate = match executors(std::slice::from_ref(&case.candidate.name)) {
        Ok(mut e) => e.remove(0),
        Err(e) => return usage_error(e),
    };
    lockstep_harness::guard::quiet_executor_panics();
    let dir =
        if a.bundle.is_dir() { a.bundle.clone() } else { a.bundle.parent().map(PathBuf::from).unwrap_or_default() };
    let before = case.block.txs.len();
    match lockstep_harness::minimize::minimize_bundle(
        &dir,
        reference,
        candidate,
        std::time::Duration::from_secs_f64(a.budget),
        a.runs,
        true,
    ) {
        Ok(m) => {
            println!(
                "minimized {before} -> {} transactions, {} accounts, in {:.1} s ({} evaluations{}); diverges in {} of {} re-runs",
                m.block.txs.len(),
                m.block.pre_state.len(),
                m.elapsed.as_secs_f64(),
                m.evaluations,
                if m.budget_exhausted { ", budget exhausted" } else { "" },
                m.recheck_hits,
                m.recheck_runs
            );
            println!("bundle: {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FOUND)
        }
    }
}

fn explore(a: ExploreArgs) -> ExitCode {
    use lockstep_harness::explore::{self as ex, StrategyKind};
    use lockstep_harness::workload::{Family, Workload};
    let reference = match executors(std::slice::from_ref(&a.reference)) {
        Ok(mut e) => e.remove(0),
        Err(e) => return usage_error(e),
    };
    let candidate = match executors(std::slice::from_ref(&a.executor)) {
        Ok(mut e) => e.remove(0),
        Err(e) => return usage_error(e),
    };
    let timeout = std::time::Duration::from_millis(a.timeout_ms);
    lockstep_harness::guard::quiet_executor_panics();
    if let Some(dir) = &a.replay {
        let mut diverged = 0;
        for i in 0..a.repeat.max(1) {
            match ex::replay_bundle(dir, &candidate, reference.as_ref(), a.step_budget, timeout) {
                Err(e) => return usage_error(format!("bad bundle {}: {e}", dir.display())),
                Ok((d, schedule)) => {
                    if let Some(d) = d {
                        diverged += 1;
                        if diverged == 1 {
                            println!("replay {i}: {} steps, {} diverges:\n{d}", schedule.trace.len(), candidate.name());
                        }
                    }
                }
            }
        }
        println!("{diverged} of {} replays diverged", a.repeat.max(1));
        return if diverged > 0 { ExitCode::from(EXIT_FOUND) } else { ExitCode::SUCCESS };
    }
    let strategy = match a.strategy.as_str() {
        "random" => StrategyKind::Random,
        "pct" => StrategyKind::Pct,
        other => return usage_error(format!("unknown strategy `{other}` (random, pct)")),
    };
    let families: Vec<Family> = if a.workloads.is_empty() {
        vec![
            Family::HotKey,
            Family::Branchy,
            Family::Beneficiary,
            Family::Phoenix,
            Family::NonceFactory,
            Family::NonceGaps,
            Family::SpeculativeFunding,
            Family::EmptyAccounts,
            Family::Eip7702,
        ]
    } else {
        let mut f = Vec::new();
        for n in &a.workloads {
            match Family::from_name(n) {
                Some(x) => f.push(x),
                None => return usage_error(format!("unknown workload `{n}`")),
            }
        }
        f
    };
    let workloads = families.into_iter().map(|f| Workload::new(f, a.txs).with_accounts((a.txs / 2).max(1))).collect();
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from(format!("lockstep-out/explore-{}", a.seed)));
    println!(
        "lockstep explore: seed {}; {} on {} workers, {} {} schedules per block",
        a.seed,
        candidate.name(),
        a.threads,
        a.schedules,
        a.strategy
    );
    let report = ex::explore(&ex::ExploreOptions {
        workloads,
        seed: a.seed,
        blocks: a.blocks,
        schedules: a.schedules,
        strategy,
        threads: a.threads,
        reference,
        candidate,
        step_budget: a.step_budget,
        timeout,
        out_dir: Some(out.clone()),
        shrink: !a.no_shrink,
    });
    if !a.no_shrink {
        minimize_found(report.found.iter().filter_map(|f| f.bundle.clone()).take(3).collect());
    }
    for f in &report.found {
        println!(
            "DIVERGENCE on {} block seed {}: {}\n  schedule {} choices, shrunk to {}\n  bundle: {}",
            f.workload.label(),
            f.block_seed,
            f.divergence,
            f.schedule.choices.len(),
            f.shrunk.as_ref().map(|s| s.len().to_string()).unwrap_or_else(|| "-".into()),
            f.bundle.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "-".into())
        );
    }
    println!(
        "{} blocks, {} schedules, {} divergences in {:.1} s ({:.0} schedules/s); seed {}",
        report.blocks,
        report.schedules,
        report.found.len(),
        report.wall_seconds,
        report.schedules_per_second(),
        a.seed
    );
    let _ = std::fs::create_dir_all(&out).and_then(|_| {
        std::fs::write(out.join("summary.json"), serde_json::to_string_pretty(&report).unwrap_or_default())
    });
    if report.found.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FOUND) }
}

fn stress(a: StressArgs) -> ExitCode {
    use lockstep_harness::workload::{Family, Workload};
    let reference = match executors(std::slice::from_ref(&a.reference)) {
        Ok(mut e) => e.remove(0),
        Err(e) => return usage_error(e),
    };
    let candidate = match executors(std::slice::from_ref(&a.executor)) {
        Ok(mut e) => e.remove(0),
        Err(e) => return usage_error(e),
    };
    let families: Vec<Family> = if a.workloads.is_empty() {
        vec![Family::HotKey, Family::Branchy, Family::Beneficiary, Family::Mix]
    } else {
        let mut f = Vec::new();
        for n in &a.workloads {
            match Family::from_name(n) {
                Some(x) => f.push(x),
                None => return usage_error(format!("unknown workload `{n}`")),
            }
        }
        f
    };
    println!(
        "lockstep stress: seed {}; {} at {:?} threads, {} runs each",
        a.seed,
        candidate.name(),
        a.threads,
        a.repeats
    );
    lockstep_harness::guard::quiet_executor_panics();
    let rows = lockstep_harness::stress::stress(&lockstep_harness::stress::StressOptions {
        workloads: families.into_iter().map(|f| Workload::new(f, a.txs).with_hot_ratio(0.5)).collect(),
        seed: a.seed,
        threads: a.threads,
        repeats: a.repeats,
        probability: a.probability,
        reference,
        candidate,
        timeout: std::time::Duration::from_millis(a.timeout_ms),
    });
    print!("{}", lockstep_harness::stress::table(&rows));
    for r in rows.iter().filter(|r| r.first.is_some()) {
        if let Some((seed, run, d)) = &r.first {
            println!("{} at {} threads: first divergence block seed {seed} run {run}: {d}", r.workload, r.threads);
        }
    }
    if rows.iter().any(|r| r.divergences > 0) { ExitCode::from(EXIT_FOUND) } else { ExitCode::SUCCESS }
}

/// Minimizes bundles just written by run, explore or statetest (20 s each), printing each result.
fn minimize_found(bundles: Vec<PathBuf>) {
    for dir in bundles {
        let Ok(case) = lockstep_harness::bundle::read(&dir) else { continue };
        let (Some(r), Some(c)) =
            (lockstep_executors::bundled(&case.reference.name), lockstep_executors::bundled(&case.candidate.name))
        else {
            println!("not minimized: {} or {} is not a bundled executor", case.reference.name, case.candidate.name);
            continue;
        };
        match lockstep_harness::minimize::minimize_bundle(&dir, r, c, std::time::Duration::from_secs(20), 3, true) {
            Ok(m) => println!(
                "minimized {} -> {} transactions ({} evaluations, {:.1} s): {}",
                case.block.txs.len(),
                m.block.txs.len(),
                m.evaluations,
                m.elapsed.as_secs_f64(),
                dir.display()
            ),
            Err(e) => println!("not minimized: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_arguments_is_the_main_job_with_its_defaults() {
        assert!(Cli::try_parse_from(["lockstep"]).is_ok_and(|c| c.command.is_none()));
        let a = default_run();
        assert!(a.workloads.is_empty(), "the built-in mix");
        assert_eq!((a.seed, a.blocks, a.duration), (None, None, None), "clock seed, 30 s");
        assert_eq!(a.threads, vec![2, 4]);
        assert_eq!(a.reference, "sequential");
        assert!(a.executors.is_empty(), "every other bundled executor");
    }
}
