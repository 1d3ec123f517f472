//! The plug: what an executor implements and what it is given to run.

use crate::hook::ScheduleHook;
use crate::model::{BlockInput, BlockOutput};
use std::sync::Arc;
use std::time::Instant;

/// A block executor under test, or the reference.
///
/// `execute` must be deterministic in its output (not its stats): the same `BlockInput`
/// gives the same `BlockOutput::outcomes` and `post_state` whatever the thread count or
/// interleaving. That promise is what lockstep checks.
pub trait Executor: Send + Sync {
    /// A short stable name, used on the command line and in reports.
    fn name(&self) -> &str;

    /// A version string for repro bundles (crate version, revm version...).
    fn version(&self) -> String {
        String::from("unknown")
    }

    /// Runs `block` under `run`: one outcome per transaction (an invalid one is a
    /// [`TxOutcome::Rejected`](crate::TxOutcome::Rejected), and the block goes on), the
    /// post-state and the stats.
    ///
    /// # Errors
    ///
    /// [`ExecError::Unsupported`] for input this executor cannot run,
    /// [`ExecError::InvalidBlock`] for a block environment its fork does not allow,
    /// [`ExecError::Deadline`] when it gives up past `run.deadline`, and
    /// [`ExecError::Internal`] for a failure of its own.
    fn execute(&self, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError>;

    /// `execute` for a caller that holds the block in an `Arc`: an executor whose threads
    /// outlive the call can keep the block instead of copying it. Same output as `execute`.
    fn execute_shared(&self, block: &Arc<BlockInput>, run: &RunControl) -> Result<BlockOutput, ExecError> {
        self.execute(block, run)
    }
}

/// How to run one block.
#[derive(Clone, Default)]
pub struct RunControl {
    /// Worker threads; 0 means the executor's default.
    pub threads: usize,
    /// Called at the executor's semantic points (controlled schedules, delay injection).
    pub hook: Option<Arc<dyn ScheduleHook>>,
    /// An executor still running past this point may give up with `ExecError::Deadline`;
    /// the harness reports an overrun as a hang either way. The bundled executors check it
    /// between transactions and, during EVM execution, at loop back-edges and call frames
    /// once per million gas or so, so an endless loop under a huge gas limit ends too.
    pub deadline: Option<Instant>,
}

impl RunControl {
    /// `threads` worker threads (0: the executor's default), no hook, no deadline.
    pub fn with_threads(threads: usize) -> Self {
        RunControl { threads, ..Default::default() }
    }

    /// Whether a deadline is set and has passed.
    pub fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

impl std::fmt::Debug for RunControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunControl")
            .field("threads", &self.threads)
            .field("hook", &self.hook.is_some())
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// A block the executor could not run at all (as opposed to an invalid transaction, which
/// is a `TxOutcome::Rejected` and part of a normal output).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The input uses something this executor does not implement (a fork, a transaction
    /// type, a field).
    #[error("unsupported input: {0}")]
    Unsupported(String),
    /// The block environment is invalid for its fork (for the bundled executors: no
    /// `prevrandao` from the Merge on, no `excess_blob_gas` from Cancun on, an
    /// `excess_blob_gas` above the bundled executors' maximum, `MAX_BLOB_FEE_EXPONENT` times
    /// the fork's update fraction).
    #[error("invalid block environment: {0}")]
    InvalidBlock(String),
    /// The executor gave up past [`RunControl::deadline`].
    #[error("deadline passed")]
    Deadline,
    /// The executor failed on its own (threads that cannot start, a broken invariant): a
    /// fault of the executor, not of the block.
    #[error("internal error: {0}")]
    Internal(String),
}
