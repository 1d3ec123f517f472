//! The worker loop of Block-STM (paper Algorithm 1 and 2), generic over the VM: claim a task,
//! execute or validate it, repeat until the scheduler says the block is done.

use super::mv_memory::MvMemory;
use super::planted::{Mutant, PlantedBug};
use super::scheduler::{Scheduler, Task};
use super::sync::{AtomicU64, Mutex, Ordering, Padded, backoff, lock};
use super::vm::{Execution, Vm};
use super::{TxIndex, Version};
use crate::hook::{SchedEvent, ScheduleHook, WorkerId};
use std::sync::Arc;
use std::time::Instant;

/// Shared state of one block's run.
pub struct BlockRun<V: Vm> {
    /// The VM the block runs on.
    pub vm: V,
    /// The block's MVMemory.
    pub mv: MvMemory<V::Key, V::Value>,
    /// The block's scheduler.
    pub scheduler: Scheduler,
    outputs: Vec<Padded<Mutex<Option<V::Output>>>>,
    /// Where the workers report their semantic points
    /// ([`RunControl::hook`](crate::RunControl::hook)).
    pub hook: Option<Arc<dyn ScheduleHook>>,
    deadline: Option<Instant>,
    deadline_hit: super::sync::AtomicBool,
    /// The block's totals, the source of [`ExecStats`](crate::ExecStats).
    pub counters: Counters,
}

/// Totals of the block, added to once per worker when it stops: a shared counter bumped per
/// task would bounce its cache line between workers on every transaction.
#[derive(Default)]
pub struct Counters {
    /// VM executions, blocked ones included.
    pub executions: Padded<AtomicU64>,
    /// Executions that met an ESTIMATE, and validations that aborted an incarnation.
    pub aborts: Padded<AtomicU64>,
    /// Validation tasks run.
    pub validations: Padded<AtomicU64>,
}

/// One worker's counts, kept on its own stack.
#[derive(Default)]
struct Tally {
    executions: u64,
    aborts: u64,
    validations: u64,
}

impl<V: Vm> BlockRun<V> {
    /// A run of `vm`'s block, reporting to `hook`, halted by the first worker that finds
    /// `deadline` passed, with planted bug `bug` ([`PlantedBug::NONE`] in production).
    pub fn new(vm: V, hook: Option<Arc<dyn ScheduleHook>>, deadline: Option<Instant>, bug: PlantedBug) -> Self {
        let n = vm.txs();
        BlockRun {
            mv: MvMemory::new(n).with_bug(bug),
            vm,
            scheduler: Scheduler::new(n, bug),
            outputs: (0..n).map(|_| Padded(Mutex::new(None))).collect(),
            hook,
            deadline,
            deadline_hit: super::sync::AtomicBool::new(false),
            counters: Counters::default(),
        }
    }

    fn event(&self, worker: WorkerId, event: SchedEvent) {
        if let Some(h) = &self.hook {
            h.on_event(worker, &event);
        }
    }

    /// One worker's share of the block. Returns when the scheduler is done.
    pub fn work(&self, worker: WorkerId) {
        self.event(worker, SchedEvent::WorkerStart);
        let mut vm_worker = self.vm.worker(&self.mv, worker, self.hook.as_deref());
        let mut task: Option<Task> = None;
        let mut idle_rounds = 0u32;
        let mut tally = Tally::default();
        while !self.scheduler.done() {
            task = match task {
                Some(Task::Execute(v)) => self.try_execute(worker, &mut vm_worker, v, &mut tally),
                Some(Task::Validate(v)) => self.needs_reexecution(worker, v, &mut tally),
                None => {
                    let t = self.scheduler.next_task();
                    if t.is_none() {
                        self.event(worker, SchedEvent::Idle);
                        idle_rounds += 1;
                        if idle_rounds.is_multiple_of(64) && self.past_deadline() {
                            break;
                        }
                        backoff(idle_rounds);
                    } else {
                        idle_rounds = 0;
                    }
                    t
                }
            };
        }
        self.counters.executions.fetch_add(tally.executions, Ordering::Relaxed);
        self.counters.aborts.fetch_add(tally.aborts, Ordering::Relaxed);
        self.counters.validations.fetch_add(tally.validations, Ordering::Relaxed);
        self.event(worker, SchedEvent::WorkerExit);
    }

    /// Whether the run's deadline has passed; if so, halts it.
    pub fn past_deadline(&self) -> bool {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.halt_at_deadline();
            return true;
        }
        false
    }

    /// Halts the run as past its deadline: every worker stops at its next task.
    fn halt_at_deadline(&self) {
        self.deadline_hit.store(true, Ordering::Release);
        self.scheduler.halt();
    }

    /// Whether a worker found the deadline passed and halted the run.
    pub fn deadline_hit(&self) -> bool {
        self.deadline_hit.load(Ordering::Acquire)
    }

    fn try_execute(
        &self,
        worker: WorkerId,
        vm_worker: &mut V::Worker<'_>,
        version: Version,
        tally: &mut Tally,
    ) -> Option<Task> {
        self.event(worker, SchedEvent::ExecuteClaimed { tx: version.tx, incarnation: version.incarnation });
        loop {
            tally.executions += 1;
            self.mv.begin(version.tx);
            let execution = self.vm.execute(vm_worker, version);
            match execution {
                Execution::Blocked { blocking } => {
                    self.mv.end(version.tx);
                    tally.aborts += 1;
                    self.event(worker, SchedEvent::Suspended { tx: version.tx, blocked_on: blocking });
                    if self.scheduler.add_dependency(version.tx, blocking) {
                        return None;
                    }
                    // The blocking transaction finished meanwhile: run again at once.
                    if self.past_deadline() {
                        return None;
                    }
                }
                Execution::Halted => {
                    self.mv.end(version.tx);
                    self.halt_at_deadline();
                    return None;
                }
                Execution::Done { reads, writes, delta, output } => {
                    let n = writes.len() + usize::from(delta.is_some());
                    let wrote_new = self.mv.record(version, reads, writes, delta);
                    self.mv.end(version.tx);
                    *lock(&self.outputs[version.tx.0]) = Some(output);
                    self.event(
                        worker,
                        SchedEvent::Recorded { tx: version.tx, incarnation: version.incarnation, writes: n },
                    );
                    return self.scheduler.finish_execution(version, wrote_new);
                }
            }
        }
    }

    fn needs_reexecution(&self, worker: WorkerId, version: Version, tally: &mut Tally) -> Option<Task> {
        self.event(worker, SchedEvent::ValidateClaimed { tx: version.tx, incarnation: version.incarnation });
        tally.validations += 1;
        let skipped = self.scheduler.planted().is(Mutant::SkipValidation) && version.tx == TxIndex(1);
        let valid = skipped || self.mv.validate_read_set(version.tx);
        let aborted = !valid && self.scheduler.try_validation_abort(version);
        if aborted {
            tally.aborts += 1;
            if !self.scheduler.planted().is(Mutant::NoEstimates) {
                self.mv.convert_writes_to_estimates(version.tx);
            }
        }
        self.event(worker, SchedEvent::Validated { tx: version.tx, incarnation: version.incarnation, valid: !aborted });
        self.scheduler.finish_validation(version.tx, aborted)
    }

    /// The outputs of every transaction's last incarnation, once the block is done.
    pub fn take_outputs(&self) -> Vec<Option<V::Output>> {
        self.outputs.iter().map(|o| lock(o).take()).collect()
    }
}
