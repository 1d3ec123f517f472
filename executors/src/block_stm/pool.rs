//! Worker threads kept across blocks, so that small blocks (fuzzing, controlled schedules)
//! do not pay a thread spawn each. Plain threads and channels: a work-stealing pool would let
//! a waiting caller run other jobs on its own stack, nesting blocks without bound.
//! One more thread, the reaper, frees finished blocks' memory after their callers have moved on.

use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send + 'static>;

pub struct Pool {
    workers: Mutex<Vec<Sender<Job>>>,
    reaper: OnceLock<Option<Sender<Box<dyn Send>>>>,
}

/// revm's interpreter recurses per call frame; 1024-deep calls need more than the default.
const STACK: usize = 64 << 20;

impl Pool {
    pub const fn new() -> Pool {
        Pool { workers: Mutex::new(Vec::new()), reaper: OnceLock::new() }
    }

    /// Drops `garbage` on the pool's own reaper thread (inline if it cannot be started).
    pub fn drop_later(&self, garbage: Box<dyn Send>) {
        let reaper = self.reaper.get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Box<dyn Send>>();
            let started = std::thread::Builder::new()
                .name("lockstep-block-stm-reaper".into())
                .spawn(move || rx.into_iter().for_each(drop));
            started.ok().map(|_| tx)
        });
        if let Some(reaper) = reaper {
            // A send fails only when the reaper is gone; the garbage is then dropped here.
            let _ = reaper.send(garbage);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    struct Garbage(mpsc::Sender<Option<String>>);

    impl Drop for Garbage {
        fn drop(&mut self) {
            let _ = self.0.send(std::thread::current().name().map(String::from));
        }
    }

    #[test]
    fn garbage_is_dropped_on_the_reaper_thread() {
        let pool = Pool::new();
        let (tx, rx) = mpsc::channel();
        for _ in 0..3 {
            pool.drop_later(Box::new(Garbage(tx.clone())));
        }
        for _ in 0..3 {
            let dropped_on = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("garbage never dropped");
            assert_eq!(dropped_on.as_deref(), Some("lockstep-block-stm-reaper"));
        }
    }
}
