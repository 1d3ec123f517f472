//! What Block-STM needs of a virtual machine: execute transaction `i` against a view of
//! MVMemory, and say what it read and wrote. revm in production (`revm/`), a toy VM in
//! tests and loom models.

use super::mv_memory::{MvMemory, Read};
use super::{TxIndex, Version};
use crate::hook::{ScheduleHook, WorkerId};
use std::hash::Hash;

/// The result of one incarnation.
pub enum Execution<K, V, O> {
    /// The incarnation ran to the end.
    Done {
        /// The read set: every location read, with the version it saw.
        reads: Vec<Read<K>>,
        /// The write set: every location written, with its new value.
        writes: Vec<(K, V)>,
        /// A write that commutes with other transactions' deltas (a beneficiary fee).
        delta: Option<V>,
        /// The transaction's result, kept if this incarnation turns out the last.
        output: O,
    },
    /// A read hit an ESTIMATE of `blocking`: wait for it.
    Blocked {
        /// The transaction whose ESTIMATE was read.
        blocking: TxIndex,
    },
    /// The VM stopped the incarnation because the run's deadline passed: the run stops and
    /// fails with [`ExecError::Deadline`](crate::ExecError::Deadline).
    Halted,
}

/// A VM Block-STM can run a block on: executes one incarnation at a time against MVMemory,
/// from any worker, and reports its read set and write set without writing to MVMemory itself
/// (the worker loop records them).
pub trait Vm: Sync {
    /// A location: MVMemory's key, compared in full.
    type Key: Clone + Eq + Hash + Send + Sync + std::fmt::Debug;
    /// What a location holds; cloned out by every read.
    type Value: Clone + Send + Sync;
    /// A transaction's result.
    type Output: Send;
    /// Per-worker state (a reusable EVM, scratch buffers), made once per block.
    type Worker<'a>
    where
        Self: 'a;

    /// How many transactions the block has.
    fn txs(&self) -> usize;

    /// The state of worker `id` for this block, reading through `mv` and reporting to `hook`;
    /// made once per worker.
    fn worker<'a>(
        &'a self,
        mv: &'a MvMemory<Self::Key, Self::Value>,
        id: WorkerId,
        hook: Option<&'a dyn ScheduleHook>,
    ) -> Self::Worker<'a>;

    /// Executes incarnation `version` of its transaction on `worker`. A read that meets an
    /// ESTIMATE ends the execution with [`Execution::Blocked`].
    fn execute(
        &self,
        worker: &mut Self::Worker<'_>,
        version: Version,
    ) -> Execution<Self::Key, Self::Value, Self::Output>;
}
