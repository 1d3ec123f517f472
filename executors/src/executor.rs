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

    /// What this executor reports and honours. The comparison looks only at what both sides
    /// report, and reports say which fields were left out; the default is everything.
    fn capabilities(&self) -> Capabilities {
        Capabilities::FULL
    }
}

/// What an executor's output carries and which run controls it honours. A field an executor
/// does not report is filled with a neutral value (empty output, no created address, a
/// failure as [`TxStatus::Halt`](crate::TxStatus::Halt), a rejection as
/// [`RejectKind::Other`](crate::RejectKind::Other)) and never compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// `TxOutcome::Executed::output`: return data, deployed code, revert data.
    pub return_data: bool,
    /// `TxOutcome::Executed::created_address`.
    pub created_address: bool,
    /// Whether a failed transaction is told apart as `Revert` or `Halt` (otherwise only
    /// success or failure, as a post-Byzantium receipt's status is).
    pub revert_vs_halt: bool,
    /// Whether a rejection's [`RejectKind`](crate::RejectKind) is exact (otherwise only "rejected").
    pub reject_kind: bool,
    /// `ExecStats` are real (executions, aborts, validations).
    pub stats: bool,
    /// `RunControl::hook` is called at the executor's semantic points.
    pub schedule_hook: bool,
    /// `RunControl::deadline` is honoured in-process (otherwise an overrun can only be cut
    /// off by killing a process).
    pub deadline: bool,
}

impl Capabilities {
    /// Everything reported and honoured: the bundled executors.
    pub const FULL: Capabilities = Capabilities {
        return_data: true,
        created_address: true,
        revert_vs_halt: true,
        reject_kind: true,
        stats: true,
        schedule_hook: true,
        deadline: true,
    };

    /// What two executors can be compared on: each field both report.
    pub fn common(self, other: Capabilities) -> Capabilities {
        Capabilities {
            return_data: self.return_data && other.return_data,
            created_address: self.created_address && other.created_address,
            revert_vs_halt: self.revert_vs_halt && other.revert_vs_halt,
            reject_kind: self.reject_kind && other.reject_kind,
            stats: self.stats && other.stats,
            schedule_hook: self.schedule_hook && other.schedule_hook,
            deadline: self.deadline && other.deadline,
        }
    }

    /// The outcome fields left out of a comparison under these capabilities, by name.
    pub fn unreported(self) -> Vec<&'static str> {
        [
            (self.return_data, "return data"),
            (self.created_address, "created address"),
            (self.revert_vs_halt, "revert vs halt"),
            (self.reject_kind, "reject kind"),
        ]
        .into_iter()
        .filter_map(|(has, name)| (!has).then_some(name))
        .collect()
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
    /// An executor in another process (a t8n tool) failed: it crashed or exited non-zero,
    /// replied with nothing or with what is not its output format, or answered for other
    /// transactions than it was given.
    #[error("{fault}: {message}")]
    Tool {
        /// What went wrong, as a short stable name (`crash`, `exit`, `empty-reply`,
        /// `malformed`, `wrong-tx-count`, `state-root`...).
        fault: String,
        /// What lockstep saw.
        message: String,
        /// The end of the tool's standard error (at most a few KiB), for the bundle.
        stderr: String,
    },
}
