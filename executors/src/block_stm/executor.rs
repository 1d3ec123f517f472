//! [`BlockStm`], the `Executor`: a block's run on the calling thread and pooled workers,
//! then the post-state built by every worker from MVMemory's final writes.

use super::LARGE_BLOCK;
use super::planted::PlantedBug;
use super::pool::Pool;
use super::revm::{FinalPart, Range, RevmVm, post_state};
use super::sync::{AtomicUsize, Ordering, backoff};
use super::worker::BlockRun;
use crate::executor::{ExecError, Executor, RunControl};
use crate::hook::WorkerId;
use crate::model::{BlockInput, BlockOutput, ExecStats};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::OnceLock;
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
        BlockStm { name: "block-stm".into(), bug: PlantedBug::NONE }
    }
}

impl BlockStm {
    /// A build with a deliberate concurrency bug, for proving that lockstep finds it.
    #[cfg(any(test, feature = "planted-bugs"))]
    pub fn with_planted_bug(bug: PlantedBug) -> Self {
        let name = bug.mutant().map_or("block-stm", |m| m.executor());
        BlockStm { name: name.into(), bug }
    }
}

type PanicPayload = Box<dyn Any + Send>;
type WorkerResult = Result<Option<Range>, PanicPayload>;
type Run = BlockRun<RevmVm>;

/// What the workers hand each other after the block: each its share of MVMemory's final
/// writes, and the count of shares published (a barrier: every worker builds its address
/// range of the post-state from all of them).
struct Gather {
    parts: Vec<OnceLock<FinalPart>>,
    published: AtomicUsize,
}

impl Gather {
    fn new(threads: usize) -> Gather {
        Gather { parts: (0..threads).map(|_| OnceLock::new()).collect(), published: 0.into() }
    }

    /// Publishes `part` and waits for every other worker's. `None` when the run was
    /// halted meanwhile (a worker panicked, or the deadline passed while a worker's pool
    /// thread was still busy with another caller's block).
    fn exchange(&self, blk: &Run, id: usize, part: FinalPart) -> Option<Vec<&FinalPart>> {
        let _ = self.parts[id].set(part);
        self.published.fetch_add(1, Ordering::AcqRel);
        let mut round = 0;
        while self.published.load(Ordering::Acquire) < self.parts.len() {
            if blk.scheduler.halted() || (round % 64 == 63 && blk.past_deadline()) {
                return None;
            }
            round += 1;
            backoff(round);
        }
        self.parts.iter().map(|p| p.get()).collect()
    }
}

/// One worker's whole share: the block, then its part of the final writes, then its
/// address range of the post-state.
fn worker(blk: &Run, gather: &Gather, id: usize) -> Option<Range> {
    blk.work(WorkerId(id));
    if blk.scheduler.halted() {
        return None;
    }
    let threads = gather.parts.len();
    let parts = gather.exchange(blk, id, blk.vm.collect(&blk.mv, id, threads))?;
    let splits = parts[0].splits(threads);
    let from = id.checked_sub(1).map(|i| splits[i]);
    Some(blk.vm.build_range(&parts, from, splits.get(id).copied()))
}

/// A worker, with its panic caught: it halts the others and is re-raised by the caller,
/// so the caller sees the executor panic instead of a hang.
fn work(blk: &Run, gather: &Gather, id: usize) -> WorkerResult {
    catch_unwind(AssertUnwindSafe(|| worker(blk, gather, id))).inspect_err(|_| blk.scheduler.halt())
}

/// Runs the block on the calling thread and `threads - 1` pool threads, which share it.
fn run_pooled(blk: &Arc<Run>, gather: &Arc<Gather>, threads: usize) -> Result<Vec<WorkerResult>, ExecError> {
    let (done_tx, done_rx) = mpsc::channel::<(usize, WorkerResult)>();
    let jobs = (1..threads)
        .map(|id| {
            let (blk, gather) = (blk.clone(), gather.clone());
            let done = done_tx.clone();
            Box::new(move || {
                let _ = done.send((id, work(&blk, &gather, id)));
            }) as Box<dyn FnOnce() + Send>
        })
        .collect();
    drop(done_tx);
    POOL.run(jobs).map_err(|e| ExecError::Internal(format!("cannot start {threads} workers: {e}")))?;
    let mut results: Vec<WorkerResult> = (0..threads).map(|_| Ok(None)).collect();
    for (id, result) in std::iter::once((0, work(blk, gather, 0))).chain(done_rx.iter()) {
        results[id] = result;
    }
    Ok(results)
}

/// The block's output from its finished run and every worker's range of the post-state.
fn output(blk: &Run, threads: usize, results: Vec<WorkerResult>) -> Result<BlockOutput, ExecError> {
    let mut ranges = Vec::with_capacity(threads);
    let mut panic = None;
    for result in results {
        match result {
            Ok(range) => ranges.push(range),
            Err(p) => panic = panic.or(Some(p)),
        }
    }
    if let Some(p) = panic {
        resume_unwind(p);
    }
    if blk.deadline_hit() {
        return Err(ExecError::Deadline);
    }
    let (outcomes, requests) = blk.vm.assemble(blk.take_outputs())?;
    let Some(ranges) = ranges.into_iter().collect::<Option<Vec<Range>>>() else {
        return Err(ExecError::Internal("a worker stopped before the post-state".into()));
    };
    let post_state = post_state(ranges);
    let c = &blk.counters;
    let stats = ExecStats {
        threads,
        executions: c.executions.load(Ordering::Relaxed),
        aborts: c.aborts.load(Ordering::Relaxed),
        validations: c.validations.load(Ordering::Relaxed),
        parallel: threads > 1,
    };
    Ok(BlockOutput { outcomes, post_state, stats, requests })
}

impl Executor for BlockStm {
    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> String {
        format!("lockstep-executors {} (Block-STM) on revm 43.0.3", env!("CARGO_PKG_VERSION"))
    }

    fn execute(&self, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError> {
        // The pool's threads outlive the borrow: they get a copy.
        self.execute_shared(&Arc::new(block.clone()), run)
    }

    fn execute_shared(&self, block: &Arc<BlockInput>, run: &RunControl) -> Result<BlockOutput, ExecError> {
        let threads = match run.threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let vm = RevmVm::new(block.clone(), run.deadline, self.bug)?;
        let blk = Arc::new(BlockRun::new(vm, run.hook.clone(), run.deadline, self.bug));
        let gather = Arc::new(Gather::new(threads));
        let results = run_pooled(&blk, &gather, threads)?;
        let out = output(&blk, threads, results);
        // MVMemory, the read sets and the per-transaction arrays are tens of thousands of
        // allocations on a large block: freed by the pool's reaper thread, after the caller
        // has its output. A small block frees faster than the reaper wakes.
        if block.txs.len() >= LARGE_BLOCK {
            POOL.drop_later(Box::new((blk, gather)));
        }
        out
    }
}
