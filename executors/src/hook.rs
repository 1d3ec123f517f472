//! Semantic points an executor reports to the harness, for controlled schedules and
//! delay injection. Implementations are called without any executor lock held.

use crate::model::TxIndex;

/// Which worker of a parallel executor reports the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkerId(pub usize);

/// Re-execution count of a transaction: 0 for its first execution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Incarnation(pub u32);

/// A semantic point of a parallel executor's run, as [`ScheduleHook::on_event`] is told it.
/// The execution and validation events follow Block-STM's tasks (Gelashvili et al., arXiv
/// 2203.06871); another executor reports the ones that fit it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SchedEvent {
    /// A worker starts; it may block until the controller lets it run.
    WorkerStart,
    /// A worker is done with the block.
    WorkerExit,
    /// An execution task was claimed.
    ExecuteClaimed {
        /// The transaction to execute.
        tx: TxIndex,
        /// The incarnation to run.
        incarnation: Incarnation,
    },
    /// A validation task was claimed.
    ValidateClaimed {
        /// The transaction whose read set is checked.
        tx: TxIndex,
        /// The incarnation that recorded it.
        incarnation: Incarnation,
    },
    /// A multi-version read (location described for humans).
    Read {
        /// The reading transaction.
        tx: TxIndex,
        /// The location read, for humans only (no stable format).
        location: String,
    },
    /// A write set was recorded.
    Recorded {
        /// The transaction that executed.
        tx: TxIndex,
        /// The incarnation whose writes these are.
        incarnation: Incarnation,
        /// Locations written, a fee delta counting as one.
        writes: usize,
    },
    /// Validation finished.
    Validated {
        /// The transaction validated.
        tx: TxIndex,
        /// The incarnation validated.
        incarnation: Incarnation,
        /// False when this validation aborted the incarnation. A failed check that aborts
        /// nothing (the incarnation was already aborted) reports true.
        valid: bool,
    },
    /// An execution of `tx` read an ESTIMATE of `blocked_on` and stopped: `tx` is suspended
    /// until `blocked_on` has executed again, or re-executed at once when it already has.
    Suspended {
        /// The transaction that stopped.
        tx: TxIndex,
        /// The transaction whose ESTIMATE it read.
        blocked_on: TxIndex,
    },
    /// A read of `tx` waits a moment for `waits_for` (the transaction just below, executing
    /// and likely to write the location) to finish; the worker looks again after this event.
    ChainWait {
        /// The reading transaction.
        tx: TxIndex,
        /// The transaction just below, `tx - 1`.
        waits_for: TxIndex,
    },
    /// Nothing to do right now; the worker will look again.
    Idle,
}

/// What a parallel executor calls at its semantic points, without any executor lock held:
/// a controlled scheduler may block the calling worker in `on_event` until it is its turn.
/// An executor must report waiting ([`SchedEvent::Idle`], [`SchedEvent::ChainWait`]) instead
/// of blocking, or a controller that runs one worker at a time would stall.
pub trait ScheduleHook: Send + Sync {
    /// `worker` reached `event`. May block the calling worker until the controller lets it go
    /// on; the executor holds none of its locks meanwhile.
    fn on_event(&self, worker: WorkerId, event: &SchedEvent);
}
