//! Delay injection for stress runs: a [`ScheduleHook`] that sleeps or spins a seeded random
//! short while at some of the executor's semantic points, on real threads.

use crate::workload::block_seed;
use lockstep_executors::hook::{SchedEvent, ScheduleHook, WorkerId};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Mutex;
use std::time::Duration;

/// Sleeps or spins a random short while at some hook points. One RNG per worker, seeded
/// from the run seed and the worker index, so the delay sequence each worker sees is fixed.
pub struct DelayHook {
    rngs: Vec<Mutex<ChaCha8Rng>>,
    /// Chance of a delay at a hook point.
    probability: f64,
}

impl DelayHook {
    /// A hook for `workers` workers (at least one RNG; a higher worker index wraps around)
    /// that delays at a hook point with chance `probability` (0.0 to 1.0): a sleep of 1-199 µs
    /// (30 %) or a spin of 50-9950 spin-loop hints. Idle, chain-wait and exit events are never
    /// delayed.
    ///
    /// Panics at a hook point when `probability` is outside 0.0-1.0 (`random_bool`).
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
        if matches!(event, SchedEvent::Idle | SchedEvent::WorkerExit | SchedEvent::ChainWait { .. }) {
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
