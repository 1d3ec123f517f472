//! `block-stm`: lockstep's bundled parallel executor, Block-STM (Gelashvili et al., arXiv
//! 2203.06871) on revm. The scheduler, MVMemory and worker loop are generic over a small
//! [`vm::Vm`] trait, so the same code runs revm here and a toy VM in loom models.

pub mod executor;
pub mod mv_memory;
#[cfg(feature = "revm")]
mod pool;
pub mod scheduler;
pub mod sync;
pub mod vm;

#[cfg(feature = "revm")]
mod revm_vm;

pub use crate::model::TxIndex;
pub use crate::schedule::Incarnation;
pub use scheduler::PlantedBug;

/// One execution of a transaction: its index and incarnation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub tx: TxIndex,
    pub incarnation: Incarnation,
}

#[cfg(feature = "revm")]
pub use executor_impl::BlockStm;

#[cfg(feature = "revm")]
mod executor_impl {
    use super::executor::BlockRun;
    use super::pool::Pool;
    use super::revm_vm::{FinalPart, RevmVm};
    use super::scheduler::PlantedBug;
    use super::sync::Ordering;
    use crate::model::{BlockInput, BlockOutput, ExecStats};
    use crate::plug::{ExecError, Executor, RunControl};
    use crate::schedule::WorkerId;
    use std::any::Any;
    use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
    use std::sync::{Arc, mpsc};

    /// Block-STM on revm. Its worker threads are shared by every instance and reused
    /// across blocks; the calling thread is worker 0.
    pub struct BlockStm {
        name: String,
        bug: PlantedBug,
    }

    static POOL: Pool = Pool::new();

    impl Default for BlockStm {
        fn default() -> Self {
            BlockStm { name: "block-stm".into(), bug: PlantedBug::None }
        }
    }

    impl BlockStm {
        /// A build with a deliberate concurrency bug, for proving that lockstep finds it.
        #[cfg(any(test, feature = "planted-bugs"))]
        pub fn with_planted_bug(bug: PlantedBug) -> Self {
            let name = match bug {
                PlantedBug::None => "block-stm",
                PlantedBug::SkipValidation(_) => "block-stm-skip-validation",
                PlantedBug::NoEstimates => "block-stm-no-estimates",
                PlantedBug::DoneIgnoresActiveTasks => "block-stm-done-early",
            };
            BlockStm { name: name.into(), bug }
        }
    }

    type PanicPayload = Box<dyn Any + Send>;
    type WorkerResult = Result<Option<FinalPart>, PanicPayload>;

    impl Executor for BlockStm {
        fn name(&self) -> &str {
            &self.name
        }

        fn version(&self) -> String {
            format!("lockstep-executors {} (Block-STM) on revm 43.0.3", env!("CARGO_PKG_VERSION"))
        }

        fn execute(&self, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError> {
            let threads = match run.threads {
                0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
                n => n,
            };
            let vm = RevmVm::new(block);
            let blk = Arc::new(BlockRun::new(vm, run.hook.clone(), run.deadline, self.bug));
            // Each worker runs the block, then gathers its share of the post-state and frees
            // its share of MVMemory. A panicking worker halts the others and is re-raised here,
            // so the caller sees the executor panic instead of a hang.
            let work = move |blk: &BlockRun<RevmVm>, id: usize| -> WorkerResult {
                catch_unwind(AssertUnwindSafe(|| {
                    blk.work(WorkerId(id));
                    (!blk.scheduler.halted()).then(|| blk.vm.collect(&blk.mv, id, threads))
                }))
                .inspect_err(|_| blk.scheduler.halt())
            };
            let (done_tx, done_rx) = mpsc::channel::<WorkerResult>();
            let jobs = (1..threads)
                .map(|id| {
                    let blk = blk.clone();
                    let done = done_tx.clone();
                    Box::new(move || {
                        let _ = done.send(work(&blk, id));
                    }) as Box<dyn FnOnce() + Send>
                })
                .collect();
            drop(done_tx);
            POOL.run(jobs).map_err(|e| ExecError::Internal(format!("cannot start {threads} workers: {e}")))?;
            let mut parts = Vec::with_capacity(threads);
            let mut panic = None;
            for result in std::iter::once(work(&blk, 0)).chain(done_rx.iter()) {
                match result {
                    Ok(part) => parts.extend(part),
                    Err(p) => panic = panic.or(Some(p)),
                }
            }
            if let Some(p) = panic {
                resume_unwind(p);
            }
            if blk.deadline_hit() {
                return Err(ExecError::Deadline);
            }
            let mut outcomes = Vec::with_capacity(block.txs.len());
            for (i, out) in blk.take_outputs().into_iter().enumerate() {
                match out {
                    Some(Ok(o)) => outcomes.push(o),
                    Some(Err(e)) => return Err(e),
                    None => return Err(ExecError::Internal(format!("tx {i} never executed"))),
                }
            }
            if parts.len() != threads {
                return Err(ExecError::Internal(format!("{} of {threads} workers returned", parts.len())));
            }
            let post_state = blk.vm.assemble(&block.pre_state, parts);
            let c = &blk.counters;
            let stats = ExecStats {
                threads,
                executions: c.executions.load(Ordering::Relaxed),
                aborts: c.aborts.load(Ordering::Relaxed),
                validations: c.validations.load(Ordering::Relaxed),
                parallel: threads > 1,
            };
            Ok(BlockOutput { outcomes, post_state, stats })
        }
    }
}
