//! `lockstep bench`: executor throughput on generated workloads. Each block is first checked
//! (candidate output equals the reference's), then each executor runs it `rounds` times,
//! interleaved so that machine noise hits both alike; the median is reported.

use crate::diff;
use crate::workload::{Family, Workload};
use lockstep_executors::{BlockInput, ExecStats, Executor, RunControl};
use lockstep_reports::table::Table;
use serde::Serialize;
use std::sync::Arc;
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

#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    pub workload: String,
    pub executor: String,
    pub threads: usize,
    pub txs: usize,
    pub gas: u64,
    pub median_ms: f64,
    pub mgas_per_s: f64,
    pub tx_per_s: f64,
    /// Executions beyond one per transaction, per transaction.
    pub reexecution_ratio: f64,
    /// Reference median / this median.
    pub speedup: f64,
}

pub struct BenchOptions {
    pub suite: Vec<(String, Workload)>,
    pub reference: Arc<dyn Executor>,
    pub candidates: Vec<Arc<dyn Executor>>,
    pub threads: Vec<usize>,
    pub rounds: usize,
    pub seed: u64,
}

fn time(exec: &dyn Executor, block: &Arc<BlockInput>, threads: usize) -> Result<(Duration, ExecStats), String> {
    let start = Instant::now();
    let out = exec.execute_shared(block, &RunControl::with_threads(threads)).map_err(|e| e.to_string())?;
    Ok((start.elapsed(), out.stats))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn run(opts: &BenchOptions) -> Result<Vec<BenchRow>, String> {
    let mut rows = Vec::new();
    for (name, w) in &opts.suite {
        // Shared, as the engine's runs share theirs: an executor may keep it instead of copying.
        let block = Arc::new(w.generate(opts.seed).block);
        let expected = opts.reference.execute(&block, &RunControl::with_threads(1)).map_err(|e| e.to_string())?;
        let gas: u64 = expected.outcomes.iter().map(|o| o.gas_used()).sum();
        let txs = block.txs.len();
        let mut configs: Vec<(Arc<dyn Executor>, usize)> = vec![(opts.reference.clone(), 1)];
        for c in &opts.candidates {
            for t in &opts.threads {
                let got = c.execute_shared(&block, &RunControl::with_threads(*t)).map_err(|e| e.to_string())?;
                if let Some(d) = diff::compare(&expected, &got) {
                    return Err(format!("{} diverges on {name} at {t} threads: {d}", c.name()));
                }
                configs.push((c.clone(), *t));
            }
        }
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); configs.len()];
        let mut stats: Vec<ExecStats> = vec![ExecStats::default(); configs.len()];
        for _ in 0..opts.rounds {
            for (k, (e, t)) in configs.iter().enumerate() {
                let (d, s) = time(e.as_ref(), &block, *t)?;
                times[k].push(d);
                stats[k] = s;
            }
        }
        let medians: Vec<Duration> = times.into_iter().map(median).collect();
        let ref_ms = medians[0].as_secs_f64() * 1e3;
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
            });
        }
    }
    Ok(rows)
}

pub fn table(rows: &[BenchRow]) -> String {
    let mut t =
        Table::new(["workload", "executor", "threads", "txs", "median ms", "Mgas/s", "tx/s", "re-exec", "speedup"]);
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
        ]);
    }
    t.render()
}
