//! `lockstep stress`: real threads with seeded delays.

use super::args::{self, MAX_THREADS, Reference, after_help};
use crate::check::isolate;
use crate::jobs::stress::{self as job, StressOptions};
use crate::workload::{Family, Workload};
use crate::{Result, jobs};
use clap::Args;
use std::process::ExitCode;
use std::time::Duration;

/// The families stress runs by default: the ones whose conflicts need a tight interleaving.
const DEFAULT_FAMILIES: [Family; 4] = [Family::HotKey, Family::Branchy, Family::Beneficiary, Family::Mix];

#[derive(Args, Debug)]
#[command(after_help = after_help!(
    "  lockstep stress                                    hot-key, branchy, beneficiary, mix at 1-16 threads\n  lockstep stress -w hot-key --threads 8 --repeat 200 --probability 0.2"
))]
pub struct StressArgs {
    /// Workload families (repeatable; default: hot-key, branchy, beneficiary, mix).
    #[arg(long = "workload", short = 'w', value_name = "FAMILY")]
    pub workloads: Vec<Family>,
    /// Run seed: each workload's block and each run's delays derive from it.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Candidate worker threads (repeatable): a row each.
    #[arg(long = "threads", default_values_t = [1, 2, 4, 8, 16], value_parser = clap::value_parser!(u64).range(1..=MAX_THREADS))]
    pub threads: Vec<u64>,
    /// Runs per workload and thread count.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub repeat: u64,
    /// Chance of a delay at each hook point (0 to 1).
    #[arg(long, default_value_t = 0.05, value_parser = probability)]
    pub probability: f64,
    /// Transactions per generated block.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub txs: u64,
    /// The candidate executor.
    #[arg(long = "executor", short = 'e', value_name = "NAME", default_value = "block-stm")]
    pub executor: String,
    #[command(flatten)]
    pub reference: Reference,
    /// Seconds one candidate execution may take; past it the candidate has hung.
    #[arg(long, value_name = "SECS", default_value = "20", value_parser = args::seconds)]
    pub timeout: Duration,
    #[command(flatten)]
    pub report: crate::report::ReportFlags,
}

fn probability(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("`{s}` is not a probability between 0 and 1")),
    }
}

pub fn run(a: StressArgs) -> Result<ExitCode> {
    let reference = a.reference.executor()?;
    let candidate = jobs::executor(&a.executor)?;
    let baseline = a.report.load_baseline()?;
    let meta = crate::report::meta(&[(&reference, "reference"), (&candidate, "candidate")], Some(a.seed), &[]);
    let candidate_name = candidate.name().to_string();
    let families = if a.workloads.is_empty() { DEFAULT_FAMILIES.to_vec() } else { a.workloads.clone() };
    let threads: Vec<usize> = a.threads.iter().map(|t| *t as usize).collect();
    println!("lockstep stress: seed {}; {} at {threads:?} threads, {} runs each", a.seed, candidate.name(), a.repeat);
    isolate::quiet_executor_panics();
    let rows = job::run(&StressOptions {
        workloads: families.into_iter().map(|f| Workload::new(f, a.txs as usize).with_hot_ratio(0.5)).collect(),
        seed: a.seed,
        threads,
        repeats: a.repeat,
        probability: a.probability,
        reference,
        candidate,
        timeout: a.timeout,
    });
    print!("{}", job::table(&rows));
    for r in &rows {
        if let Some((seed, run, d)) = &r.first {
            println!("{} at {} threads: first divergence block seed {seed} run {run}: {d}", r.workload, r.threads);
        }
    }
    let mut report = job::to_report(&rows, &candidate_name, meta);
    let ok = a.report.finish(&mut report, baseline.as_ref())?;
    Ok(super::found(!ok))
}
