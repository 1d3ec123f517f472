//! Stress mode: real threads at several worker counts, with random delays injected at the
//! executor's hook points from a seed, repeated. The divergence *rate* per configuration is
//! the result: a failure is never retried to green.

use crate::diff;
use crate::engine::block_seed;
use crate::guard;
use crate::workload::Workload;
use lockstep_executors::schedule::{SchedEvent, ScheduleHook, WorkerId};
use lockstep_executors::{Executor, RunControl};
use lockstep_reports::table::Table;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Sleeps or spins a random short while at some hook points. One RNG per worker, seeded
/// from the run seed and the worker index, so the delay sequence each worker sees is fixed.
pub struct DelayHook {
    rngs: Vec<Mutex<ChaCha8Rng>>,
    /// Chance of a delay at a hook point.
    probability: f64,
}

impl DelayHook {
    pub fn new(seed: u64, workers: usize, probability: f64) -> DelayHook {
        DelayHook {
            rngs: (0..workers.max(1))
                .map(|w| Mutex::new(ChaCha8Rng::seed_from_u64(block_seed(seed, w as u64))))
                .collect(),
            probability,
        }
    }
}

impl ScheduleHook for DelayHook {
    fn on_event(&self, worker: WorkerId, event: &SchedEvent) {
        if matches!(event, SchedEvent::Idle | SchedEvent::WorkerExit) {
            return;
        }
        let Some(rng) = self.rngs.get(worker.0 % self.rngs.len()) else { return };
        let (delay, sleep) = {
            let mut r = rng.lock().unwrap_or_else(|p| p.into_inner());
            if !r.random_bool(self.probability) {
                return;
            }
            (r.random_range(1..200u64), r.random_bool(0.3))
        };
        if sleep {
            std::thread::sleep(Duration::from_micros(delay));
        } else {
            for _ in 0..delay * 50 {
                std::hint::spin_loop();
            }
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StressRow {
    pub workload: String,
    pub threads: usize,
    pub runs: u64,
    pub divergences: u64,
    pub rate: f64,
    /// The first divergence's block seed and run index, to replay it.
    pub first: Option<(u64, u64, String)>,
}

pub struct StressOptions {
    pub workloads: Vec<Workload>,
    pub seed: u64,
    pub threads: Vec<usize>,
    pub repeats: u64,
    pub probability: f64,
    pub reference: Arc<dyn Executor>,
    pub candidate: Arc<dyn Executor>,
    pub timeout: Duration,
}

pub fn stress(opts: &StressOptions) -> Vec<StressRow> {
    let mut rows = Vec::new();
    for (wi, w) in opts.workloads.iter().enumerate() {
        let bseed = block_seed(opts.seed, wi as u64);
        let block = Arc::new(w.generate(bseed).block);
        let Ok(expected) = guard::run_caught(opts.reference.as_ref(), &block, &RunControl::with_threads(1)) else {
            continue;
        };
        for &threads in &opts.threads {
            let mut row = StressRow { workload: w.label(), threads, ..Default::default() };
            for r in 0..opts.repeats {
                let hook = Arc::new(DelayHook::new(block_seed(bseed, r), threads, opts.probability));
                let run = RunControl { threads, hook: Some(hook), deadline: None };
                let (result, _) = guard::run_with_timeout(opts.candidate.clone(), block.clone(), run, opts.timeout);
                row.runs += 1;
                let d = match result {
                    Ok(out) => diff::compare(&expected, &out),
                    Err(d) => Some(d),
                };
                if let Some(d) = d {
                    row.divergences += 1;
                    row.first.get_or_insert((bseed, r, d.to_string()));
                }
            }
            row.rate = row.divergences as f64 / row.runs.max(1) as f64;
            rows.push(row);
        }
    }
    rows
}

pub fn table(rows: &[StressRow]) -> String {
    let mut t = Table::new(["workload", "threads", "runs", "divergences", "rate"]);
    for r in rows {
        t.row([
            r.workload.clone(),
            r.threads.to_string(),
            r.runs.to_string(),
            r.divergences.to_string(),
            format!("{:.4}", r.rate),
        ]);
    }
    t.render()
}
