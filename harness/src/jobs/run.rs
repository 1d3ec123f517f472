//! `lockstep run`, the main job: generate blocks from a mix of workloads, run each on the
//! reference and on every candidate at several thread counts, compare, and report every
//! divergence with what replays it.

use crate::check::{self, check_block};
use crate::progress::Progress;
use crate::repro::{Found, write_found};
use crate::workload::{Family, Workload, block_seed};
use lockstep_executors::{Executor, RunControl};
use lockstep_reports::table::Table;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Hot ratios each family of a run is generated at: independent, some and heavy contention.
pub const HOT_RATIOS: [f64; 3] = [0.0, 0.3, 0.9];

/// The run's workloads: each family (every family when `families` is empty) at each of
/// [`HOT_RATIOS`], `txs` transactions a block from `txs * 3 / 4` senders.
pub fn mix(families: &[Family], txs: usize) -> Vec<Workload> {
    let families = if families.is_empty() { &Family::ALL[..] } else { families };
    let mut mix = Vec::new();
    for &f in families {
        for hot in HOT_RATIOS {
            mix.push(Workload::new(f, txs).with_accounts((txs * 3 / 4).max(1)).with_hot_ratio(hot));
        }
    }
    mix
}

/// How long a run goes: it stops at whichever limit comes first (none: it never stops).
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Blocks to generate and check.
    pub blocks: Option<u64>,
    /// Wall time after which no new block starts (the block in flight finishes).
    pub duration: Option<Duration>,
}

/// What `lockstep run` runs.
pub struct RunOptions {
    /// Workloads taken in turn: block `n` comes from workload `n mod len` (see [`mix`]).
    pub workloads: Vec<Workload>,
    /// The run seed: block `n` is generated from [`block_seed`]`(seed, n)`.
    pub seed: u64,
    /// When the run stops.
    pub budget: Budget,
    /// Candidate worker counts; every block runs on every candidate at each.
    pub threads: Vec<usize>,
    /// The executor every candidate is compared with; run once a block, on one thread.
    pub reference: Arc<dyn Executor>,
    /// The executors checked.
    pub candidates: Vec<Arc<dyn Executor>>,
    /// A second reference, the specification (`--spec eels`): every block also runs on it,
    /// and where the reference disagrees with it, that is a finding of its own
    /// ([`RunReport::spec_found`]), apart from candidate divergences.
    pub spec: Option<Arc<dyn Executor>>,
    /// Only valid transactions: every transaction the reference rejects is taken out of its
    /// block before the candidates run (counted in [`RunReport::excluded_txs`]), for an
    /// executor with a known gap on invalid transactions that would mask everything else.
    pub valid_only: bool,
    /// Per candidate execution; past it the run is a hang.
    pub timeout: Duration,
    /// Where divergences and the summary are written.
    pub out_dir: Option<PathBuf>,
    /// Draw a progress bar on stderr when it is a terminal.
    pub progress: bool,
}

/// One row of the per-workload table.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadRow {
    /// The workload's [`Workload::label`].
    pub workload: String,
    /// Blocks generated from it.
    pub blocks: u64,
    /// Transactions in those blocks.
    pub txs: u64,
    /// Candidate runs (one per candidate and thread count a block) that diverged.
    pub divergences: u64,
    /// Candidate runs the candidate declined (`ExecError::Unsupported`): not divergences.
    #[serde(default)]
    pub unsupported: u64,
    /// Candidate executions beyond one per transaction, per transaction, over the runs that
    /// returned an output. Measured (it depends on real threads): in `summary.json` it is under
    /// `measured`, with the row's workload.
    #[serde(skip)]
    pub reexecution_ratio: f64,
    /// Reference time / candidate time, each summed over every candidate run of the row's
    /// blocks (failed and hung runs included); 0.0 without candidate time. Measured, as
    /// `reexecution_ratio` is.
    #[serde(skip)]
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

/// What `lockstep run` found: the `summary.json` it writes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// The run seed.
    pub seed: u64,
    /// The reference executor's name.
    pub reference: String,
    /// The candidates' names, in order.
    pub candidates: Vec<String>,
    /// Candidate worker counts.
    pub threads: Vec<usize>,
    /// Blocks generated.
    pub blocks: u64,
    /// Transactions in those blocks.
    pub txs: u64,
    /// One row per workload that got a block, in the order of [`RunOptions::workloads`].
    pub rows: Vec<WorkloadRow>,
    /// Every divergence, in the order found, with what replays it.
    pub found: Vec<Found>,
    /// Blocks the reference itself could not run (a generator bug; never expected).
    pub reference_errors: Vec<String>,
    /// The specification's name, when the run has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    /// Transactions taken out of their blocks because the reference rejects them
    /// (`--valid-only`).
    #[serde(default)]
    pub excluded_txs: u64,
    /// Blocks the specification ran and was compared on.
    #[serde(default)]
    pub spec_blocks: u64,
    /// Blocks the specification declined (`ExecError::Unsupported`).
    #[serde(default)]
    pub spec_unsupported: u64,
    /// Where the reference disagrees with the specification ("reference disagrees with the
    /// spec"): `candidate` is the spec, the divergence is the spec's output against the
    /// reference's.
    #[serde(default)]
    pub spec_found: Vec<Found>,
    /// Stopped by SIGINT before its budget was spent: the report covers the blocks that ran.
    #[serde(default)]
    pub interrupted: bool,
    /// Bundles that could not be written (the divergence is still in `found`).
    #[serde(default)]
    pub write_errors: Vec<String>,
    /// What depends on timing and real threads, kept apart so that everything else is the
    /// same, byte for byte, for the same seed and inputs.
    pub measured: RunMeasured,
}

/// The measured part of a [`RunReport`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunMeasured {
    /// Wall time of the whole run, in seconds.
    pub wall_seconds: f64,
    /// Per workload row, in the order of [`RunReport::rows`].
    pub rows: Vec<RowMeasured>,
}

/// A workload row's measured values (see [`WorkloadRow`]).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RowMeasured {
    /// The row's workload label.
    pub workload: String,
    /// [`WorkloadRow::reexecution_ratio`].
    pub reexecution_ratio: f64,
    /// [`WorkloadRow::speedup`].
    pub speedup: f64,
}

impl RunReport {
    /// Nothing diverged and the reference ran every block.
    pub fn ok(&self) -> bool {
        self.found.is_empty() && self.reference_errors.is_empty() && self.spec_found.is_empty()
    }

    /// The report of this run under `meta`: one case per workload, candidate and thread
    /// count (diverged when any of its blocks did), and one per workload for the spec.
    pub fn to_report(&self, meta: lockstep_reports::Meta) -> lockstep_reports::Report {
        use lockstep_reports::{CaseResult, DivergenceRecord, Job, Report, Status, Throughput};
        let mut r = Report::new(Job::Run, meta);
        // The bundle's block, minimized when it has been.
        let conflicts = |f: &Found| {
            let case = crate::repro::bundle::read(f.bundle.as_ref()?).ok()?;
            crate::check::conflicts::of(crate::jobs::executor(&self.reference).ok()?.as_ref(), &case.block)
        };
        let record = |f: &Found, case: String| DivergenceRecord { conflicts: conflicts(f), ..f.record(case) };
        let case_of = |workload: &str, executor: &str, id: String, found: Option<&Found>| CaseResult {
            id,
            category: workload.to_string(),
            fork: "-".into(),
            executor: executor.to_string(),
            status: if found.is_some() { Status::Diverged } else { Status::Passed },
            message: found.map(Found::summary),
            bundle: found.and_then(|f| f.bundle.as_ref().map(|p| p.display().to_string())),
        };
        for row in self.rows.iter().filter(|row| row.blocks > 0) {
            for c in &self.candidates {
                for t in &self.threads {
                    let id = format!("{}::t{t}", row.workload);
                    let found = self
                        .found
                        .iter()
                        .find(|f| f.workload.label() == row.workload && &f.candidate == c && f.threads == *t);
                    r.cases.push(case_of(&row.workload, c, id, found));
                }
            }
            if let Some(spec) = &self.spec {
                let found = self.spec_found.iter().find(|f| f.workload.label() == row.workload);
                r.cases.push(case_of(&row.workload, spec, format!("{}::spec", row.workload), found));
            }
            r.workloads.push(lockstep_reports::WorkloadRow {
                workload: row.workload.clone(),
                threads: 0,
                blocks: row.blocks,
                txs: row.txs,
                divergences: row.divergences,
                unsupported: row.unsupported,
            });
            r.measured.throughput.push(Throughput {
                workload: row.workload.clone(),
                executor: self.candidates.join("+"),
                threads: 0,
                speedup: row.speedup,
                reexecution_ratio: row.reexecution_ratio,
                median_ms: None,
                mgas_per_s: None,
            });
        }
        for f in &self.found {
            r.divergences.push(record(f, format!("{}::t{}", f.workload.label(), f.threads)));
        }
        for f in &self.spec_found {
            r.divergences.push(record(f, format!("{}::spec", f.workload.label())));
        }
        for e in self.reference_errors.iter().chain(&self.write_errors) {
            r.errors.push(lockstep_reports::InputError {
                file: "-".into(),
                test: "-".into(),
                message: e.clone(),
                field: None,
                line: None,
                column: None,
            });
        }
        if self.excluded_txs > 0 {
            r.notes
                .push(format!("--valid-only: {} rejected transactions taken out of their blocks", self.excluded_txs));
        }
        r.interrupted = self.interrupted;
        r.measured.wall_seconds = self.measured.wall_seconds;
        r.canonicalize();
        r
    }

    /// The per-workload rows as a text table.
    pub fn table(&self) -> String {
        let mut t = Table::new(["workload", "blocks", "txs", "divergences", "unsupported", "re-exec", "speedup"]);
        for r in &self.rows {
            t.row([
                r.workload.clone(),
                r.blocks.to_string(),
                r.txs.to_string(),
                r.divergences.to_string(),
                r.unsupported.to_string(),
                format!("{:.3}", r.reexecution_ratio),
                format!("{:.2}x", r.speedup),
            ]);
        }
        t.render()
    }
}

/// Runs blocks until the budget is spent: block `n` comes from workload `n mod len` and
/// [`block_seed`]`(seed, n)`; each runs on the reference once and on every candidate at every
/// thread count. Divergences are written as bundles under `out_dir` when it is set.
pub fn run(opts: &RunOptions) -> RunReport {
    let start = Instant::now();
    let mut report = RunReport {
        seed: opts.seed,
        reference: opts.reference.name().to_string(),
        candidates: opts.candidates.iter().map(|c| c.name().to_string()).collect(),
        threads: opts.threads.clone(),
        spec: opts.spec.as_ref().map(|s| s.name().to_string()),
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
        if crate::interrupt::requested() {
            report.interrupted = true;
            break;
        }
        let wi = (n % opts.workloads.len() as u64) as usize;
        let w = &opts.workloads[wi];
        let seed = block_seed(opts.seed, n);
        let mut generated = w.generate(seed);
        if opts.valid_only {
            // A rejected transaction changes nothing, so the others stay as valid without it.
            if let Ok(out) = check::reference_output(opts.reference.as_ref(), &generated.block) {
                let before = generated.block.txs.len();
                let mut keep = out.outcomes.iter().map(|o| matches!(o, lockstep_executors::TxOutcome::Executed { .. }));
                generated.block.txs.retain(|_| keep.next().unwrap_or(true));
                generated.expected_rejections = 0;
                report.excluded_txs += (before - generated.block.txs.len()) as u64;
            }
        }
        let block = Arc::new(generated.block.clone());
        let row = rows.entry(wi).or_insert_with(|| WorkloadRow { workload: w.label(), ..Default::default() });
        row.blocks += 1;
        row.txs += block.txs.len() as u64;
        report.blocks += 1;
        report.txs += block.txs.len() as u64;
        let t0 = Instant::now();
        let expected = match check::reference_output(opts.reference.as_ref(), &block) {
            Ok(e) => e,
            Err(e) => {
                report.reference_errors.push(format!("{} seed {seed}: {e}", w.label()));
                n += 1;
                continue;
            }
        };
        let ref_time = t0.elapsed();
        if let Some(spec) = &opts.spec {
            let (got, _) = crate::check::isolate::run_with_timeout(
                spec.clone(),
                block.clone(),
                RunControl::with_threads(1),
                opts.timeout,
            );
            let caps = opts.reference.capabilities().common(spec.capabilities());
            match check::judge(&expected, got, caps) {
                Some(d) if d.is_unsupported() => report.spec_unsupported += 1,
                Some(d) => {
                    report.spec_blocks += 1;
                    let mut found = Found {
                        workload: w.clone(),
                        block_seed: seed,
                        block_number: n,
                        reference: opts.reference.name().to_string(),
                        candidate: spec.name().to_string(),
                        threads: 1,
                        divergence: d,
                        controlled: None,
                        bundle: None,
                    };
                    if let Some(dir) = &opts.out_dir {
                        let dir = dir.join("spec");
                        let k = report.spec_found.len();
                        match write_found(
                            &dir,
                            k,
                            &found,
                            &generated,
                            opts.reference.as_ref(),
                            spec.as_ref(),
                            &expected,
                        ) {
                            Ok(p) => found.bundle = Some(p),
                            Err(e) => report.write_errors.push(e.to_string()),
                        }
                    }
                    report.spec_found.push(found);
                }
                None => report.spec_blocks += 1,
            }
        }
        for c in &opts.candidates {
            for &threads in &opts.threads {
                let checked =
                    match check_block(&block, opts.reference.as_ref(), Some(&expected), c, threads, opts.timeout) {
                        Ok(c) => c,
                        Err(e) => {
                            report.reference_errors.push(e.to_string());
                            continue;
                        }
                    };
                row.reference_secs += ref_time.as_secs_f64();
                row.candidate_secs += checked.candidate_time.as_secs_f64();
                if let Some(out) = &checked.candidate {
                    row.executions += out.stats.executions;
                    row.candidate_txs += block.txs.len() as u64;
                }
                if checked.divergence.as_ref().is_some_and(check::Divergence::is_unsupported) {
                    row.unsupported += 1;
                    continue;
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
                        controlled: None,
                        bundle: None,
                    };
                    if let Some(dir) = &opts.out_dir {
                        let k = report.found.len();
                        match write_found(dir, k, &found, &generated, opts.reference.as_ref(), c.as_ref(), &expected) {
                            Ok(p) => found.bundle = Some(p),
                            Err(e) => report.write_errors.push(e.to_string()),
                        }
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
    report.measured.rows = report
        .rows
        .iter()
        .map(|r| RowMeasured {
            workload: r.workload.clone(),
            reexecution_ratio: r.reexecution_ratio,
            speedup: r.speedup,
        })
        .collect();
    report.measured.wall_seconds = start.elapsed().as_secs_f64();
    report
}
