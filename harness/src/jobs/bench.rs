//! `lockstep bench`: executor throughput on generated workloads. Each block is first checked
//! (candidate output equals the reference's), then each executor runs it `rounds` times,
//! interleaved so that machine noise hits both alike; the median is reported.
//!
//! Beside each multi-threaded candidate the bench measures the machine's own ceiling for that
//! workload: `t` reference runs of the block at once, one per thread, against one alone. Their
//! throughput ratio is the most any `t`-thread executor can gain here with no coordination at
//! all (memory bandwidth, shared caches and a host that does not always give both cores are in
//! it); a speedup is best read against it.

use crate::check;
use crate::error::{Error, Result};
use crate::workload::{Family, Workload};
use lockstep_executors::{BlockInput, ExecStats, Executor, RunControl};
use lockstep_reports::table::Table;
use serde::Serialize;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// The benchmark's workloads: named, with their knobs.
pub fn default_suite(txs: usize) -> Vec<(String, Workload)> {
    vec![
        ("erc20-independent".into(), Workload::new(Family::Erc20, txs)),
        ("raw-independent".into(), Workload::new(Family::RawTransfers, txs)),
        ("hot-chain".into(), Workload::new(Family::HotKey, txs)),
        ("erc20-hot-30%".into(), Workload::new(Family::Erc20, txs).with_hot_ratio(0.3)),
        ("amm-hot".into(), Workload::new(Family::Amm, txs).with_hot_ratio(1.0)),
        ("mix".into(), Workload::new(Family::Mix, txs).with_hot_ratio(0.2)),
    ]
}

/// One executor at one thread count on one suite entry.
#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    /// The suite entry's name (`erc20-independent`, `hot-chain`).
    pub workload: String,
    /// The executor's name.
    pub executor: String,
    /// Worker threads it ran with; 1 on the reference's row.
    pub threads: usize,
    /// Transactions in the block.
    pub txs: usize,
    /// Gas the block uses (the reference's receipts).
    pub gas: u64,
    /// Median wall time of one execution, in milliseconds.
    pub median_ms: f64,
    /// Millions of gas per second at the median.
    pub mgas_per_s: f64,
    /// Transactions per second at the median.
    pub tx_per_s: f64,
    /// Executions beyond one per transaction, per transaction, in the last timed run (0.0 for
    /// an executor that never re-executes).
    pub reexecution_ratio: f64,
    /// Reference median / this median (1.0 on the reference's row).
    pub speedup: f64,
    /// `threads` reference runs at once against one alone, in throughput: the speedup of an
    /// executor with no overhead on this machine. Only on multi-threaded candidate rows.
    pub ceiling: Option<f64>,
}

/// What `lockstep bench` measures.
pub struct BenchOptions {
    /// Named workloads; each generates one block from `seed`.
    pub suite: Vec<(String, Workload)>,
    /// The executor every candidate's output is checked against and its speed compared
    /// with; timed on one thread.
    pub reference: Arc<dyn Executor>,
    /// The executors measured, each at every count of `threads`.
    pub candidates: Vec<Arc<dyn Executor>>,
    /// Candidate worker counts.
    pub threads: Vec<usize>,
    /// Timed runs of each configuration; the median is reported.
    pub rounds: usize,
    /// The seed every suite entry generates its block from.
    pub seed: u64,
}

fn time(exec: &dyn Executor, block: &Arc<BlockInput>, threads: usize) -> Result<(Duration, ExecStats)> {
    let start = Instant::now();
    let out = exec
        .execute_shared(block, &RunControl::with_threads(threads))
        .map_err(|e| Error::Diverged(format!("{} failed: {e}", exec.name())))?;
    Ok((start.elapsed(), out.stats))
}

/// Threads that run reference copies at once for the ceiling: started once for the whole bench
/// and reused, as an executor's pool is, so that no run pays for a new thread or a cold
/// allocator heap.
pub struct Together {
    pool: rayon::ThreadPool,
}

impl Together {
    /// Errors: [`Error::Resource`] when the threads cannot be started.
    pub fn new(threads: usize) -> Result<Together> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("lockstep-bench-ceiling-{i}"))
            .build()
            .map_err(|e| Error::Resource(format!("cannot start {threads} ceiling threads: {e}")))?;
        Ok(Together { pool })
    }

    /// One reference run of `block` on every thread at once; the time from their common start
    /// (a barrier) to the last one's end.
    pub fn time(&self, exec: &dyn Executor, block: &BlockInput) -> Result<Duration> {
        let barrier = Barrier::new(self.pool.current_num_threads());
        let runs = self.pool.broadcast(|_| {
            barrier.wait();
            let start = Instant::now();
            let out = exec
                .execute(block, &RunControl::with_threads(1))
                .map_err(|e| Error::Diverged(format!("{} failed: {e}", exec.name())));
            (start, Instant::now(), out.map(drop))
        });
        let mut span: Option<(Instant, Instant)> = None;
        for (start, end, out) in runs {
            out?;
            span = Some(span.map_or((start, end), |(s, e)| (s.min(start), e.max(end))));
        }
        Ok(span.map_or(Duration::ZERO, |(s, e)| e.duration_since(s)))
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Measures every configuration on every suite entry; rows in suite order, the reference's
/// row first in each.
///
/// Errors: [`Error::Reference`] when the reference cannot run a suite block;
/// [`Error::Diverged`] when an executor fails or its output differs from the
/// reference's (a wrong executor's speed means nothing); [`Error::Resource`] for threads.
pub fn run(opts: &BenchOptions) -> Result<Vec<BenchRow>> {
    let mut together: Vec<usize> = opts.threads.iter().copied().filter(|t| *t > 1).collect();
    together.sort_unstable();
    together.dedup();
    let pools = together.iter().map(|t| Together::new(*t)).collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::new();
    for (name, w) in &opts.suite {
        // Shared, as the engine's runs share theirs: an executor may keep it instead of copying.
        let block = Arc::new(w.generate(opts.seed).block);
        let expected = check::reference_output(opts.reference.as_ref(), &block)?;
        let gas: u64 = expected.outcomes.iter().map(|o| o.gas_used()).sum();
        let txs = block.txs.len();
        let mut configs: Vec<(Arc<dyn Executor>, usize)> = vec![(opts.reference.clone(), 1)];
        for c in &opts.candidates {
            for t in &opts.threads {
                let got = c
                    .execute_shared(&block, &RunControl::with_threads(*t))
                    .map_err(|e| Error::Diverged(format!("{} fails on {name} at {t} threads: {e}", c.name())))?;
                if let Some(d) = check::compare(&expected, &got) {
                    return Err(Error::Diverged(format!("{} diverges on {name} at {t} threads: {d}", c.name())));
                }
                configs.push((c.clone(), *t));
            }
        }
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); configs.len()];
        let mut together_times: Vec<Vec<Duration>> = vec![Vec::new(); pools.len()];
        let mut stats: Vec<ExecStats> = vec![ExecStats::default(); configs.len()];
        for _ in 0..opts.rounds {
            for (k, (e, t)) in configs.iter().enumerate() {
                let (d, s) = time(e.as_ref(), &block, *t)?;
                times[k].push(d);
                stats[k] = s;
            }
            for (k, pool) in pools.iter().enumerate() {
                together_times[k].push(pool.time(opts.reference.as_ref(), &block)?);
            }
        }
        let medians: Vec<Duration> = times.into_iter().map(median).collect();
        let ref_ms = medians[0].as_secs_f64() * 1e3;
        let ceilings: Vec<(usize, f64)> = together
            .iter()
            .zip(together_times)
            .map(|(t, d)| (*t, *t as f64 * ref_ms / (median(d).as_secs_f64() * 1e3)))
            .collect();
        for (k, (e, t)) in configs.iter().enumerate() {
            let ms = medians[k].as_secs_f64() * 1e3;
            let s = &stats[k];
            rows.push(BenchRow {
                workload: name.clone(),
                executor: e.name().to_string(),
                threads: *t,
                txs,
                gas,
                median_ms: ms,
                mgas_per_s: gas as f64 / 1e6 / (ms / 1e3),
                tx_per_s: txs as f64 / (ms / 1e3),
                reexecution_ratio: s.executions.saturating_sub(txs as u64) as f64 / txs.max(1) as f64,
                speedup: ref_ms / ms,
                // Ceilings exist for more than one thread only, so never on the reference's row.
                ceiling: ceilings.iter().find(|(c, _)| c == t).map(|(_, x)| *x),
            });
        }
    }
    Ok(rows)
}

/// The rows as a text table.
pub fn table(rows: &[BenchRow]) -> String {
    let mut t = Table::new([
        "workload",
        "executor",
        "threads",
        "txs",
        "median ms",
        "Mgas/s",
        "tx/s",
        "re-exec",
        "speedup",
        "ceiling",
    ]);
    for r in rows {
        t.row([
            r.workload.clone(),
            r.executor.clone(),
            r.threads.to_string(),
            r.txs.to_string(),
            format!("{:.2}", r.median_ms),
            format!("{:.1}", r.mgas_per_s),
            format!("{:.0}", r.tx_per_s),
            format!("{:.3}", r.reexecution_ratio),
            format!("{:.2}x", r.speedup),
            r.ceiling.map_or("-".into(), |c| format!("{c:.2}x")),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_executors::{BlockOutput, ExecError, ExecStats, Sequential};

    /// Takes the same wall time however many run at once, as a perfectly parallel machine would.
    struct Sleeper(Duration);

    impl Executor for Sleeper {
        fn name(&self) -> &str {
            "sleeper"
        }
        fn version(&self) -> String {
            "test".into()
        }
        fn execute(&self, _: &BlockInput, _: &RunControl) -> Result<BlockOutput, ExecError> {
            std::thread::sleep(self.0);
            Ok(BlockOutput {
                outcomes: vec![],
                post_state: Default::default(),
                stats: ExecStats::default(),
                requests: vec![],
            })
        }
    }

    fn empty_block() -> BlockInput {
        crate::workload::Workload::new(Family::RawTransfers, 1).generate(1).block
    }

    #[test]
    fn runs_together_overlap_instead_of_queueing() {
        let block = empty_block();
        let nap = Duration::from_millis(50);
        let took = Together::new(4).unwrap().time(&Sleeper(nap), &block).unwrap();
        // Four at once take one nap, not four: the ceiling of a machine that scales is ~4.
        assert!(took >= nap, "{took:?}");
        assert!(took < 3 * nap, "the four runs were serialized: {took:?}");
    }

    #[test]
    fn multi_threaded_rows_carry_the_ceiling() {
        let opts = BenchOptions {
            suite: vec![("raw".into(), Workload::new(Family::RawTransfers, 40))],
            reference: Arc::new(Sequential),
            candidates: vec![Arc::new(Sequential)],
            threads: vec![1, 2],
            rounds: 1,
            seed: 3,
        };
        let rows = run(&opts).unwrap();
        let ceilings: Vec<_> = rows.iter().map(|r| (r.threads, r.ceiling.is_some())).collect();
        assert_eq!(ceilings, vec![(1, false), (1, false), (2, true)], "only the 2-thread candidate");
        let c = rows[2].ceiling.unwrap();
        assert!(c.is_finite() && c > 0.0, "{c}");
        assert!(table(&rows).contains("ceiling"));
    }
}

/// The report of a bench: one passed case per row (every candidate's output matched the
/// reference's, or the bench stopped with an error), its figures under `measured`.
pub fn to_report(rows: &[BenchRow], meta: lockstep_reports::Meta) -> lockstep_reports::Report {
    use lockstep_reports::{CaseResult, Job, Report, Status, Throughput};
    let mut r = Report::new(Job::Bench, meta);
    for row in rows {
        r.cases.push(CaseResult {
            id: format!("{}::t{}", row.workload, row.threads),
            category: row.workload.clone(),
            fork: "-".into(),
            executor: row.executor.clone(),
            status: Status::Passed,
            message: None,
            bundle: None,
        });
        r.measured.throughput.push(Throughput {
            workload: row.workload.clone(),
            executor: row.executor.clone(),
            threads: row.threads as u64,
            speedup: row.speedup,
            reexecution_ratio: row.reexecution_ratio,
            median_ms: Some(row.median_ms),
            mgas_per_s: Some(row.mgas_per_s),
        });
    }
    r.canonicalize();
    r
}
