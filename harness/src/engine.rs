//! The differential engine and `lockstep run`, the main job: generate blocks from a mix of
//! workloads, run each on the reference and on every candidate at several thread counts,
//! compare, and report every divergence with what replays it.

use crate::diff::{self, Divergence};
use crate::guard;
use crate::progress::Progress;
use crate::workload::{Family, Workload};
use lockstep_executors::{BlockInput, BlockOutput, Executor, RunControl};
use lockstep_reports::table::Table;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One candidate run compared with the reference.
pub struct Checked {
    pub divergence: Option<Divergence>,
    pub reference_time: Duration,
    pub candidate_time: Duration,
    pub candidate: Option<BlockOutput>,
}

/// Runs `block` on the reference and one candidate and compares them. The candidate runs on
/// a helper thread with `timeout`: a panic, an error or an overrun is a divergence.
pub fn check_block(
    block: &Arc<BlockInput>,
    reference: &dyn Executor,
    expected: Option<&BlockOutput>,
    candidate: &Arc<dyn Executor>,
    threads: usize,
    timeout: Duration,
) -> Result<Checked, String> {
    let t0 = Instant::now();
    let owned;
    let expected = match expected {
        Some(e) => e,
        None => {
            owned = guard::run_caught(reference, block, &RunControl::with_threads(1))
                .map_err(|d| format!("the reference {} cannot run this block: {d}", reference.name()))?;
            &owned
        }
    };
    let reference_time = t0.elapsed();
    let (got, candidate_time) =
        guard::run_with_timeout(candidate.clone(), block.clone(), RunControl::with_threads(threads), timeout);
    Ok(match got {
        Ok(out) => {
            Checked { divergence: diff::compare(expected, &out), reference_time, candidate_time, candidate: Some(out) }
        }
        Err(d) => Checked { divergence: Some(d), reference_time, candidate_time, candidate: None },
    })
}

/// The built-in mix: every family at low, medium and full contention.
pub fn default_mix(txs: usize) -> Vec<Workload> {
    let mut mix = Vec::new();
    for f in Family::ALL {
        for hot in [0.0, 0.3, 0.9] {
            mix.push(Workload::new(f, txs).with_accounts((txs * 3 / 4).max(1)).with_hot_ratio(hot));
        }
    }
    mix
}

/// How long a run goes.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub blocks: Option<u64>,
    pub duration: Option<Duration>,
}

pub struct RunOptions {
    pub workloads: Vec<Workload>,
    pub seed: u64,
    pub budget: Budget,
    pub threads: Vec<usize>,
    pub reference: Arc<dyn Executor>,
    pub candidates: Vec<Arc<dyn Executor>>,
    /// Per candidate execution; past it the run is a hang.
    pub timeout: Duration,
    /// Where divergences and the summary are written.
    pub out_dir: Option<PathBuf>,
    pub progress: bool,
}

/// One row of the per-workload table.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadRow {
    pub workload: String,
    pub blocks: u64,
    pub txs: u64,
    pub divergences: u64,
    /// Candidate executions beyond one per transaction, per transaction.
    pub reexecution_ratio: f64,
    /// Reference time / candidate time, summed over the row's blocks.
    pub speedup: f64,
    #[serde(skip)]
    executions: u64,
    #[serde(skip)]
    candidate_txs: u64,
    #[serde(skip)]
    reference_secs: f64,
    #[serde(skip)]
    candidate_secs: f64,
}

/// A divergence found by `lockstep run`, with what reproduces it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Found {
    pub workload: Workload,
    /// The seed of this block (derived from the run seed and the block number).
    pub block_seed: u64,
    pub block_number: u64,
    pub reference: String,
    pub candidate: String,
    pub threads: usize,
    pub divergence: Divergence,
    /// Where the block and the divergence were written.
    pub bundle: Option<PathBuf>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    pub seed: u64,
    pub reference: String,
    pub candidates: Vec<String>,
    pub threads: Vec<usize>,
    pub blocks: u64,
    pub txs: u64,
    pub rows: Vec<WorkloadRow>,
    pub found: Vec<Found>,
    /// Blocks the reference itself could not run (a generator bug; never expected).
    pub reference_errors: Vec<String>,
    pub wall_seconds: f64,
}

impl RunReport {
    pub fn ok(&self) -> bool {
        self.found.is_empty() && self.reference_errors.is_empty()
    }

    pub fn table(&self) -> String {
        let mut t = Table::new(["workload", "blocks", "txs", "divergences", "re-exec", "speedup"]);
        for r in &self.rows {
            t.row([
                r.workload.clone(),
                r.blocks.to_string(),
                r.txs.to_string(),
                r.divergences.to_string(),
                format!("{:.3}", r.reexecution_ratio),
                format!("{:.2}x", r.speedup),
            ]);
        }
        t.render()
    }
}

/// splitmix64: the seed of block `n` of a run, so any block can be regenerated alone.
pub fn block_seed(run_seed: u64, n: u64) -> u64 {
    let mut z = run_seed.wrapping_add(0x9e37_79b9_7f4a_7c15u64.wrapping_mul(n + 1));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub fn run(opts: &RunOptions) -> RunReport {
    let start = Instant::now();
    let mut report = RunReport {
        seed: opts.seed,
        reference: opts.reference.name().to_string(),
        candidates: opts.candidates.iter().map(|c| c.name().to_string()).collect(),
        threads: opts.threads.clone(),
        ..Default::default()
    };
    let mut rows: BTreeMap<usize, WorkloadRow> = BTreeMap::new();
    let total = opts.budget.blocks.unwrap_or(0);
    let progress = Progress::new(opts.progress, total, "blocks");
    let mut n = 0u64;
    while !opts.workloads.is_empty() {
        if opts.budget.blocks.is_some_and(|b| n >= b) || opts.budget.duration.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
        let wi = (n % opts.workloads.len() as u64) as usize;
        let w = &opts.workloads[wi];
        let seed = block_seed(opts.seed, n);
        let block = Arc::new(w.generate(seed).block);
        let row = rows.entry(wi).or_insert_with(|| WorkloadRow { workload: w.label(), ..Default::default() });
        row.blocks += 1;
        row.txs += block.txs.len() as u64;
        report.blocks += 1;
        report.txs += block.txs.len() as u64;
        let t0 = Instant::now();
        let expected = match guard::run_caught(opts.reference.as_ref(), &block, &RunControl::with_threads(1)) {
            Ok(e) => e,
            Err(d) => {
                report.reference_errors.push(format!("{} seed {seed}: {d}", w.label()));
                n += 1;
                continue;
            }
        };
        let ref_time = t0.elapsed();
        for c in &opts.candidates {
            for &threads in &opts.threads {
                let checked =
                    match check_block(&block, opts.reference.as_ref(), Some(&expected), c, threads, opts.timeout) {
                        Ok(c) => c,
                        Err(e) => {
                            report.reference_errors.push(e);
                            continue;
                        }
                    };
                row.reference_secs += ref_time.as_secs_f64();
                row.candidate_secs += checked.candidate_time.as_secs_f64();
                if let Some(out) = &checked.candidate {
                    row.executions += out.stats.executions;
                    row.candidate_txs += block.txs.len() as u64;
                }
                if let Some(d) = checked.divergence {
                    row.divergences += 1;
                    let mut found = Found {
                        workload: w.clone(),
                        block_seed: seed,
                        block_number: n,
                        reference: opts.reference.name().to_string(),
                        candidate: c.name().to_string(),
                        threads,
                        divergence: d,
                        bundle: None,
                    };
                    if let Some(dir) = &opts.out_dir {
                        found.bundle = write_found(
                            dir,
                            report.found.len(),
                            &found,
                            &block,
                            opts.reference.as_ref(),
                            c.as_ref(),
                            &expected,
                        )
                        .ok();
                    }
                    progress.set_message(format!("{} divergences", report.found.len() + 1));
                    report.found.push(found);
                }
            }
        }
        progress.inc(1);
        n += 1;
    }
    progress.finish();
    for (_, mut r) in rows {
        r.reexecution_ratio = if r.candidate_txs == 0 {
            0.0
        } else {
            r.executions.saturating_sub(r.candidate_txs) as f64 / r.candidate_txs as f64
        };
        r.speedup = if r.candidate_secs > 0.0 {
            // Compare one candidate run with one reference run.
            r.reference_secs / r.candidate_secs
        } else {
            0.0
        };
        report.rows.push(r);
    }
    report.wall_seconds = start.elapsed().as_secs_f64();
    report
}

/// Makes a string safe as one path component.
pub fn sanitize(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' })
        .collect();
    out.trim_matches('.').chars().take(80).collect()
}

/// Writes a divergence as a repro bundle (unminimized); returns the directory.
fn write_found(
    dir: &Path,
    k: usize,
    f: &Found,
    block: &BlockInput,
    reference: &dyn Executor,
    candidate: &dyn Executor,
    expected: &BlockOutput,
) -> std::io::Result<PathBuf> {
    let name =
        sanitize(&format!("{k:03}-{}-{}-t{}-{}", f.workload.family, f.candidate, f.threads, f.divergence.kind()));
    let mut case = crate::bundle::Case::new(block.clone(), reference, candidate, f.threads, f.divergence.clone());
    case.seed = Some(f.block_seed);
    crate::bundle::write(&dir.join("divergences").join(name), &case, expected)
}
