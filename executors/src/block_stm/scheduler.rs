//! The collaborative scheduler of Block-STM (Gelashvili et al., arXiv 2203.06871, Algorithms
//! 4 and 5): two shared indices hand out execution and validation tasks in transaction
//! order; statuses with incarnations make every abort, dependency suspension and resumption
//! explicit; the termination check needs both indices past the block, no active task, and
//! no index decrease in between.

use super::planted::{Mutant, PlantedBug};
use super::sync::{AtomicBool, AtomicUsize, Mutex, Ordering, Padded, lock};
use super::{Incarnation, TxIndex, Version};

/// Where a transaction's current incarnation is (the paper's READY_TO_EXECUTE, EXECUTING,
/// EXECUTED, ABORTING), kept with the incarnation number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Waiting for a worker to claim its execution.
    ReadyToExecute,
    /// A worker is executing it.
    Executing,
    /// Executed, its writes in MVMemory; validations may still abort it.
    Executed,
    /// Aborted by a failed validation, or suspended on a dependency: the next incarnation is
    /// made ready once it may run.
    Aborting,
}

/// Work the scheduler hands a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// Execute this incarnation.
    Execute(Version),
    /// Validate this incarnation's read set.
    Validate(Version),
}

/// One transaction's status and the transactions suspended on it, on one cache line: they
/// are locked together (finishing an execution, adding a dependency), and a block's worth of
/// separately padded slots is memory every block touches anew.
struct TxState {
    status: Mutex<(Incarnation, Status)>,
    dependencies: Mutex<Vec<TxIndex>>,
}

impl Default for TxState {
    fn default() -> Self {
        TxState { status: Mutex::new((Incarnation(0), Status::ReadyToExecute)), dependencies: Mutex::new(Vec::new()) }
    }
}

/// Block-STM's collaborative scheduler for one block, shared by every worker: the execution
/// and validation indices, the count of active tasks, and each transaction's status and
/// dependents.
pub struct Scheduler {
    txs: usize,
    execution_idx: Padded<AtomicUsize>,
    validation_idx: Padded<AtomicUsize>,
    decrease_cnt: Padded<AtomicUsize>,
    num_active_tasks: Padded<AtomicUsize>,
    done_marker: Padded<AtomicBool>,
    halted: AtomicBool,
    txs_state: Vec<Padded<TxState>>,
    bug: PlantedBug,
}

impl Scheduler {
    /// A scheduler for a block of `txs` transactions, each ready to execute at incarnation 0
    /// (an empty block is done at once), with planted bug `bug` ([`PlantedBug::NONE`] in
    /// production).
    pub fn new(txs: usize, bug: PlantedBug) -> Scheduler {
        Scheduler {
            txs,
            execution_idx: Padded(AtomicUsize::new(0)),
            validation_idx: Padded(AtomicUsize::new(0)),
            decrease_cnt: Padded(AtomicUsize::new(0)),
            num_active_tasks: Padded(AtomicUsize::new(0)),
            done_marker: Padded(AtomicBool::new(txs == 0)),
            halted: AtomicBool::new(false),
            txs_state: (0..txs).map(|_| Padded(TxState::default())).collect(),
            bug,
        }
    }

    /// Whether the block is done: the termination check passed, or the run was halted.
    pub fn done(&self) -> bool {
        self.done_marker.load(Ordering::Acquire)
    }

    /// Stops every worker (a worker failed or the deadline passed).
    pub fn halt(&self) {
        self.halted.store(true, Ordering::Release);
        self.done_marker.store(true, Ordering::Release);
    }

    /// Whether the run was stopped instead of finishing the block.
    pub fn halted(&self) -> bool {
        self.halted.load(Ordering::Acquire)
    }

    /// `tx`'s current incarnation and its status.
    pub fn status(&self, tx: TxIndex) -> (Incarnation, Status) {
        *lock(&self.txs_state[tx.0].status)
    }

    fn decrease_execution_idx(&self, target: usize) {
        self.execution_idx.fetch_min(target, Ordering::AcqRel);
        self.decrease_cnt.fetch_add(1, Ordering::AcqRel);
    }

    fn decrease_validation_idx(&self, target: usize) {
        self.validation_idx.fetch_min(target, Ordering::AcqRel);
        self.decrease_cnt.fetch_add(1, Ordering::AcqRel);
    }

    fn check_done(&self) {
        let observed = self.decrease_cnt.load(Ordering::Acquire);
        let exec = self.execution_idx.load(Ordering::Acquire);
        let val = self.validation_idx.load(Ordering::Acquire);
        let active = self.num_active_tasks.load(Ordering::Acquire);
        let active = if self.bug.is(Mutant::DoneIgnoresActiveTasks) { 0 } else { active };
        if exec.min(val) >= self.txs && active == 0 && observed == self.decrease_cnt.load(Ordering::Acquire) {
            self.done_marker.store(true, Ordering::Release);
        }
    }

    fn try_incarnate(&self, idx: usize) -> Option<Version> {
        if idx < self.txs {
            let mut s = lock(&self.txs_state[idx].status);
            if s.1 == Status::ReadyToExecute {
                s.1 = Status::Executing;
                return Some(Version { tx: TxIndex(idx), incarnation: s.0 });
            }
        }
        self.num_active_tasks.fetch_sub(1, Ordering::AcqRel);
        None
    }

    fn next_version_to_execute(&self) -> Option<Version> {
        if self.execution_idx.load(Ordering::Acquire) >= self.txs {
            self.check_done();
            return None;
        }
        self.num_active_tasks.fetch_add(1, Ordering::AcqRel);
        let idx = self.execution_idx.fetch_add(1, Ordering::AcqRel);
        self.try_incarnate(idx)
    }

    fn next_version_to_validate(&self) -> Option<Version> {
        if self.validation_idx.load(Ordering::Acquire) >= self.txs {
            self.check_done();
            return None;
        }
        self.num_active_tasks.fetch_add(1, Ordering::AcqRel);
        let idx = self.validation_idx.fetch_add(1, Ordering::AcqRel);
        if idx < self.txs {
            let (incarnation, status) = *lock(&self.txs_state[idx].status);
            if status == Status::Executed {
                return Some(Version { tx: TxIndex(idx), incarnation });
            }
        }
        self.num_active_tasks.fetch_sub(1, Ordering::AcqRel);
        None
    }

    /// The next task, validation first when it lags behind execution.
    pub fn next_task(&self) -> Option<Task> {
        if self.validation_idx.load(Ordering::Acquire) < self.execution_idx.load(Ordering::Acquire) {
            self.next_version_to_validate().map(Task::Validate)
        } else {
            self.next_version_to_execute().map(Task::Execute)
        }
    }

    /// `tx` read an ESTIMATE of `blocking`. Returns false when `blocking` has executed in
    /// the meantime (re-execute at once); else `tx` waits, suspended, until it has.
    pub fn add_dependency(&self, tx: TxIndex, blocking: TxIndex) -> bool {
        let mut deps = lock(&self.txs_state[blocking.0].dependencies);
        if lock(&self.txs_state[blocking.0].status).1 == Status::Executed {
            return false;
        }
        lock(&self.txs_state[tx.0].status).1 = Status::Aborting;
        deps.push(tx);
        drop(deps);
        self.num_active_tasks.fetch_sub(1, Ordering::AcqRel);
        true
    }

    fn set_ready_status(&self, tx: TxIndex) {
        let mut s = lock(&self.txs_state[tx.0].status);
        *s = (Incarnation(s.0.0 + 1), Status::ReadyToExecute);
    }

    fn resume_dependencies(&self, deps: Vec<TxIndex>) {
        let Some(min) = deps.iter().min().copied() else {
            return;
        };
        for d in deps {
            self.set_ready_status(d);
        }
        self.decrease_execution_idx(min.0);
    }

    /// An execution finished. Returns the validation task of the same version when it can
    /// run right away.
    pub fn finish_execution(&self, version: Version, wrote_new_location: bool) -> Option<Task> {
        let tx = version.tx;
        {
            let mut s = lock(&self.txs_state[tx.0].status);
            debug_assert_eq!(*s, (version.incarnation, Status::Executing));
            s.1 = Status::Executed;
        }
        let deps = std::mem::take(&mut *lock(&self.txs_state[tx.0].dependencies));
        self.resume_dependencies(deps);
        if self.validation_idx.load(Ordering::Acquire) > tx.0 {
            if wrote_new_location {
                let from = if self.bug.is(Mutant::ValidationStartsAbove) { tx.0 + 1 } else { tx.0 };
                self.decrease_validation_idx(from);
            } else {
                return Some(Task::Validate(version));
            }
        }
        self.num_active_tasks.fetch_sub(1, Ordering::AcqRel);
        None
    }

    /// The first validation failure of an incarnation wins the right to abort it.
    pub fn try_validation_abort(&self, version: Version) -> bool {
        let mut s = lock(&self.txs_state[version.tx.0].status);
        if *s == (version.incarnation, Status::Executed) {
            s.1 = Status::Aborting;
            true
        } else {
            false
        }
    }

    /// A validation of `tx` finished; `aborted`: it won [`Scheduler::try_validation_abort`].
    /// After an abort the next incarnation is made ready and every higher transaction is to be
    /// validated again; the re-execution is returned to run at once when the execution index
    /// has already passed `tx`.
    pub fn finish_validation(&self, tx: TxIndex, aborted: bool) -> Option<Task> {
        if aborted {
            self.set_ready_status(tx);
            self.decrease_validation_idx(tx.0 + 1);
            if self.execution_idx.load(Ordering::Acquire) > tx.0 {
                if let Some(v) = self.try_incarnate(tx.0) {
                    return Some(Task::Execute(v));
                }
                // try_incarnate already gave up the task.
                return None;
            }
        }
        self.num_active_tasks.fetch_sub(1, Ordering::AcqRel);
        None
    }

    /// The bug planted in this run; [`PlantedBug::NONE`] in production.
    pub fn planted(&self) -> PlantedBug {
        self.bug
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn v(tx: usize, inc: u32) -> Version {
        Version { tx: TxIndex(tx), incarnation: Incarnation(inc) }
    }

    #[test]
    fn hands_out_executions_then_validations_and_terminates() {
        let s = Scheduler::new(2, PlantedBug::NONE);
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        assert_eq!(s.finish_execution(v(0, 0), true), None);
        assert_eq!(s.next_task(), Some(Task::Validate(v(0, 0))));
        assert_eq!(s.finish_validation(TxIndex(0), false), None);
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        assert_eq!(s.finish_execution(v(1, 0), true), None);
        assert_eq!(s.next_task(), Some(Task::Validate(v(1, 0))));
        assert!(!s.done());
        assert_eq!(s.finish_validation(TxIndex(1), false), None);
        assert_eq!(s.next_task(), None);
        assert!(s.done());
    }

    #[test]
    fn validation_of_an_unexecuted_transaction_is_skipped_not_lost() {
        let s = Scheduler::new(2, PlantedBug::NONE);
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        // Validation index passes tx 0 while it executes...
        assert_eq!(s.next_task(), None);
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        // ...so its execution hands back its own validation.
        assert_eq!(s.finish_execution(v(0, 0), false), Some(Task::Validate(v(0, 0))));
    }

    #[test]
    fn a_failed_validation_re_executes_with_the_next_incarnation() {
        let s = Scheduler::new(2, PlantedBug::NONE);
        s.next_task();
        s.finish_execution(v(0, 0), true);
        s.next_task();
        s.finish_validation(TxIndex(0), false);
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        s.finish_execution(v(1, 0), true);
        assert_eq!(s.next_task(), Some(Task::Validate(v(1, 0))));
        assert!(s.try_validation_abort(v(1, 0)));
        assert!(!s.try_validation_abort(v(1, 0)), "only one abort per incarnation");
        assert_eq!(s.finish_validation(TxIndex(1), true), Some(Task::Execute(v(1, 1))));
        assert_eq!(s.finish_execution(v(1, 1), false), Some(Task::Validate(v(1, 1))));
        assert_eq!(s.finish_validation(TxIndex(1), false), None);
        assert_eq!(s.next_task(), None);
        assert!(s.done());
    }

    #[test]
    fn a_dependency_suspends_and_resumes() {
        let s = Scheduler::new(2, PlantedBug::NONE);
        assert_eq!(s.next_task(), Some(Task::Execute(v(0, 0))));
        assert_eq!(s.next_task(), None);
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 0))));
        // tx 1 read an ESTIMATE of tx 0, which has not finished.
        assert!(s.add_dependency(TxIndex(1), TxIndex(0)));
        assert_eq!(s.status(TxIndex(1)).1, Status::Aborting);
        assert_eq!(s.finish_execution(v(0, 0), true), None);
        assert_eq!(s.status(TxIndex(1)), (Incarnation(1), Status::ReadyToExecute));
        assert_eq!(s.next_task(), Some(Task::Validate(v(0, 0))));
        s.finish_validation(TxIndex(0), false);
        // The execution index went back to 1.
        assert_eq!(s.next_task(), Some(Task::Execute(v(1, 1))));
        // Once tx 0 is executed, a dependency on it resolves at once.
        assert!(!s.add_dependency(TxIndex(1), TxIndex(0)));
    }
}
