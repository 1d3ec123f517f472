//! `lockstep run`, the main job.

use super::args::{self, Isolation, MAX_THREADS, Reference, after_help};
use crate::jobs::run::{self as job, Budget, RunOptions};
use crate::workload::Family;
use crate::{Result, check::isolate};
use clap::{Args, Parser};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
#[command(after_help = after_help!(
    "  lockstep run                                 every family, 30 s, a clock seed\n  lockstep run --seed 7 --blocks 1000\n  lockstep run -w erc20 -w hot-key --threads 8 --duration 600"
))]
pub struct RunArgs {
    /// Workload families (repeatable; default: every family). Each runs at hot ratios 0, 0.3
    /// and 0.9.
    #[arg(long = "workload", short = 'w', value_name = "FAMILY")]
    pub workloads: Vec<Family>,
    /// Run seed: block n is generated from splitmix64(seed, n) (default: from the clock,
    /// printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop after this many blocks.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub blocks: Option<u64>,
    /// Stop after this many seconds (default 30 when --blocks is not given).
    #[arg(long, value_name = "SECS", value_parser = args::seconds)]
    pub duration: Option<Duration>,
    /// Transactions per generated block.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub txs: u64,
    /// Candidate worker threads (repeatable): every block runs at each.
    #[arg(long = "threads", default_values_t = [2, 4], value_parser = clap::value_parser!(u64).range(1..=MAX_THREADS))]
    pub threads: Vec<u64>,
    /// Candidate executors (repeatable; default: every bundled executor but the reference).
    #[arg(long = "executor", short = 'e', value_name = "NAME")]
    pub executors: Vec<String>,
    #[command(flatten)]
    pub reference: Reference,
    /// A second reference, the specification (an external executor such as `eels`): every
    /// block also runs on it, and where the reference disagrees with it is reported apart.
    #[arg(long, value_name = "NAME")]
    pub spec: Option<String>,
    /// Where the report (report.json) and divergence bundles go (default lockstep-out/run-SEED).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seconds one candidate execution may take; past it the candidate has hung.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = args::seconds)]
    pub timeout: Duration,
    /// Only valid transactions: those the reference rejects are taken out of each block first
    /// (the summary counts them), for an executor whose known gap on invalid transactions would
    /// mask everything else.
    #[arg(long)]
    pub valid_only: bool,
    /// Do not minimize divergences (by default the first 3 are, 20 s each).
    #[arg(long)]
    pub no_minimize: bool,
    #[command(flatten)]
    pub isolation: Isolation,
    #[command(flatten)]
    pub report: crate::report::ReportFlags,
}

impl RunArgs {
    /// `lockstep run` with every default: what `lockstep` with no arguments does.
    pub fn defaults() -> RunArgs {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            run: RunArgs,
        }
        Only::parse_from(["lockstep"]).run
    }
}

pub fn run(a: RunArgs) -> Result<ExitCode> {
    let reference = a.isolation.executor(&a.reference.reference)?;
    let names: Vec<String> = if a.executors.is_empty() {
        lockstep_executors::BUNDLED.iter().filter(|n| **n != a.reference.reference).map(|n| n.to_string()).collect()
    } else {
        a.executors.clone()
    };
    let candidates = a.isolation.executors(&names)?;
    let spec = a.spec.as_deref().map(crate::jobs::executor).transpose()?;
    let workloads = job::mix(&a.workloads, a.txs as usize);
    let seed = a.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
    });
    let duration = match (a.blocks, a.duration) {
        (_, Some(d)) => Some(d),
        (None, None) => Some(Duration::from_secs(30)),
        (Some(_), None) => None,
    };
    let threads: Vec<usize> = a.threads.iter().map(|t| *t as usize).collect();
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from(format!("lockstep-out/run-{seed}")));
    args::writable_dir(&out)?;
    let baseline = a.report.load_baseline()?;
    let mut roles = vec![(&reference, "reference")];
    roles.extend(candidates.iter().map(|c| (c, "candidate")));
    roles.extend(spec.iter().map(|s| (s, "spec")));
    let meta = crate::report::meta(&roles, Some(seed), &[]);
    println!(
        "lockstep run: seed {seed} (replay with --seed {seed}); reference {}; candidates {} at {threads:?} threads; {} workloads",
        reference.name(),
        names.join(", "),
        workloads.len()
    );
    isolate::quiet_executor_panics();
    let report = job::run(&RunOptions {
        workloads,
        seed,
        budget: Budget { blocks: a.blocks, duration },
        threads,
        reference,
        candidates,
        spec,
        valid_only: a.valid_only,
        timeout: a.timeout,
        out_dir: Some(out.clone()),
        progress: true,
    });
    print!("{}", report.table());
    if !a.no_minimize {
        super::minimize_first(report.found.iter().filter_map(|f| f.bundle.clone()));
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
    if a.valid_only {
        println!("--valid-only: {} rejected transactions taken out of their blocks", report.excluded_txs);
    }
    if let Some(spec) = &report.spec {
        println!(
            "spec {spec}: {} blocks compared, {} declined, {} where the reference disagrees with the spec",
            report.spec_blocks,
            report.spec_unsupported,
            report.spec_found.len()
        );
        for f in report.spec_found.iter().take(10) {
            println!(
                "REFERENCE DISAGREES WITH THE SPEC on {} block seed {}: {}\n  bundle: {}",
                f.workload.label(),
                f.block_seed,
                f.divergence,
                f.bundle.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "-".into())
            );
        }
    }
    for e in &report.write_errors {
        eprintln!("error: {e}");
    }
    println!(
        "{} blocks, {} txs, {} divergences in {:.1} s ({:.0} blocks/s); seed {seed}",
        report.blocks,
        report.txs,
        report.found.len(),
        report.measured.wall_seconds,
        report.blocks as f64 / report.measured.wall_seconds.max(1e-9)
    );
    let mut full = report.to_report(meta);
    // The run's directory always holds its JSON report, beside the bundles.
    let mut flags = a.report.clone();
    flags.json.get_or_insert_with(|| out.join("report.json"));
    let ok = flags.finish(&mut full, baseline.as_ref())?;
    Ok(super::found(!ok))
}
