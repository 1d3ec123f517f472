//! What Block-STM needs of a virtual machine: execute transaction `i` against a view of
//! MVMemory, and say what it read and wrote. revm in production (`revm/`), a toy VM in
//! tests and loom models.

use super::mv_memory::{MvMemory, Read};
use super::{TxIndex, Version};
use crate::hook::{ScheduleHook, WorkerId};
use std::hash::Hash;

/// The result of one incarnation.
pub enum Execution<K, V, O> {
    Done {
        reads: Vec<Read<K>>,
        writes: Vec<(K, V)>,
        /// A write that commutes with other transactions' deltas (a beneficiary fee).
        delta: Option<V>,
        output: O,
    },
    /// A read hit an ESTIMATE of `blocking`: wait for it.
    Blocked { blocking: TxIndex },
}

pub trait Vm: Sync {
    type Key: Clone + Eq + Hash + Send + Sync + std::fmt::Debug;
    type Value: Clone + Send + Sync;
    type Output: Send;
    /// Per-worker state (a reusable EVM, scratch buffers), made once per block.
    type Worker<'a>
    where
        Self: 'a;

    fn txs(&self) -> usize;

    fn worker<'a>(
        &'a self,
        mv: &'a MvMemory<Self::Key, Self::Value>,
        id: WorkerId,
        hook: Option<&'a dyn ScheduleHook>,
    ) -> Self::Worker<'a>;

    fn execute(
        &self,
        worker: &mut Self::Worker<'_>,
        version: Version,
    ) -> Execution<Self::Key, Self::Value, Self::Output>;
}
