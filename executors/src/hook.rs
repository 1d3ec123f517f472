//! Semantic points an executor reports to the harness, for controlled schedules and
//! delay injection. Implementations are called without any executor lock held.

use crate::model::TxIndex;

/// Which worker of a parallel executor reports the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkerId(pub usize);

/// Re-execution count of a transaction: 0 for its first execution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Incarnation(pub u32);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SchedEvent {
    /// A worker starts; it may block until the controller lets it run.
    WorkerStart,
    /// A worker is done with the block.
    WorkerExit,
    /// An execution task was claimed.
    ExecuteClaimed { tx: TxIndex, incarnation: Incarnation },
    /// A validation task was claimed.
    ValidateClaimed { tx: TxIndex, incarnation: Incarnation },
    /// A multi-version read (location described for humans).
    Read { tx: TxIndex, location: String },
    /// A write set was recorded.
    Recorded { tx: TxIndex, incarnation: Incarnation, writes: usize },
    /// Validation finished.
    Validated { tx: TxIndex, incarnation: Incarnation, valid: bool },
    /// The worker waits on a dependency.
    Suspended { tx: TxIndex, blocked_on: TxIndex },
    /// A read of `tx` waits a moment for `waits_for` (the transaction just below, executing
    /// and likely to write the location) to finish; the worker looks again after this event.
    ChainWait { tx: TxIndex, waits_for: TxIndex },
    /// Nothing to do right now; the worker will look again.
    Idle,
}

/// What a parallel executor calls at its semantic points, without any executor lock held:
/// a controlled scheduler may block the calling worker in `on_event` until it is its turn.
/// An executor must report waiting ([`SchedEvent::Idle`], [`SchedEvent::ChainWait`]) instead
/// of blocking, or a controller that runs one worker at a time would stall.
pub trait ScheduleHook: Send + Sync {
    fn on_event(&self, worker: WorkerId, event: &SchedEvent);
}
