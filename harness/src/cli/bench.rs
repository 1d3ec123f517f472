//! `lockstep bench`: executor throughput.

use super::args::{MAX_THREADS, Reference, after_help};
use crate::jobs::bench::{self as job, BenchOptions};
use crate::{Error, Result, jobs};
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(after_help = after_help!(
    "  lockstep bench --threads 1 --threads 2 --repeat 9\n  lockstep bench --only erc20-independent --only hot-chain --json bench.json   (median ms, Mgas/s, speedup per row in `measured.throughput`)"
))]
pub struct BenchArgs {
    /// Transactions per block.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub txs: u64,
    /// Timed runs per configuration (interleaved; the median is reported).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub repeat: u64,
    /// Candidate worker threads (repeatable).
    #[arg(long = "threads", default_values_t = [2], value_parser = clap::value_parser!(u64).range(1..=MAX_THREADS))]
    pub threads: Vec<u64>,
    /// Candidate executors (repeatable).
    #[arg(long = "executor", short = 'e', value_name = "NAME", default_value = "block-stm")]
    pub executors: Vec<String>,
    #[command(flatten)]
    pub reference: Reference,
    /// Only these suite entries (repeatable): erc20-independent, raw-independent, hot-chain,
    /// erc20-hot-30%, amm-hot, mix.
    #[arg(long, value_name = "ENTRY")]
    pub only: Vec<String>,
    /// Seed of every suite block.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub report: crate::report::ReportFlags,
}

pub fn run(a: BenchArgs) -> Result<ExitCode> {
    let reference = a.reference.executor()?;
    let candidates = jobs::executors(&a.executors)?;
    let mut suite = job::default_suite(a.txs as usize);
    if let Some(unknown) = a.only.iter().find(|o| !suite.iter().any(|(n, _)| n == *o)) {
        let known = suite.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ");
        return Err(Error::Unknown { what: "bench entry", name: unknown.clone(), known });
    }
    if !a.only.is_empty() {
        suite.retain(|(n, _)| a.only.contains(n));
    }
    let baseline = a.report.load_baseline()?;
    let mut roles = vec![(&reference, "reference")];
    roles.extend(candidates.iter().map(|c| (c, "candidate")));
    let meta = crate::report::meta(&roles, Some(a.seed), &[]);
    eprintln!("lockstep bench: seed {}, {} txs per block, {} rounds", a.seed, a.txs, a.repeat);
    let rows = job::run(&BenchOptions {
        suite,
        reference,
        candidates,
        threads: a.threads.iter().map(|t| *t as usize).collect(),
        rounds: a.repeat as usize,
        seed: a.seed,
    })?;
    print!("{}", job::table(&rows));
    let mut report = job::to_report(&rows, meta);
    a.report.finish(&mut report, baseline.as_ref())?;
    Ok(ExitCode::SUCCESS)
}
