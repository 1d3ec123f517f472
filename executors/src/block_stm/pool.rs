//! Worker threads kept across blocks, so that small blocks (fuzzing, controlled schedules)
//! do not pay a thread spawn each. Plain threads and channels: a work-stealing pool would let
//! a waiting caller run other jobs on its own stack, nesting blocks without bound.

use std::sync::Mutex;
use std::sync::mpsc::{self, Sender};

type Job = Box<dyn FnOnce() + Send + 'static>;

pub struct Pool {
    workers: Mutex<Vec<Sender<Job>>>,
}

/// revm's interpreter recurses per call frame; 1024-deep calls need more than the default.
const STACK: usize = 64 << 20;

impl Pool {
    pub const fn new() -> Pool {
        Pool { workers: Mutex::new(Vec::new()) }
    }

    /// Runs each job on its own pool thread, starting threads as needed.
    pub fn run(&self, jobs: Vec<Job>) -> std::io::Result<()> {
        let mut workers = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        while workers.len() < jobs.len() {
            let (tx, rx) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name(format!("lockstep-block-stm-{}", workers.len() + 1))
                .stack_size(STACK)
                .spawn(move || {
                    while let Ok(job) = rx.recv() {
                        job();
                    }
                })?;
            workers.push(tx);
        }
        for (job, worker) in jobs.into_iter().zip(workers.iter()) {
            if let Err(mpsc::SendError(job)) = worker.send(job) {
                // The thread is gone (it cannot be, jobs catch their panics); run inline.
                job();
            }
        }
        Ok(())
    }
}
