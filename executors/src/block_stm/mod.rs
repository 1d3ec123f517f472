//! `block-stm`: lockstep's bundled parallel executor, Block-STM (Gelashvili et al., arXiv
//! 2203.06871) on revm. The scheduler, MVMemory and worker loop are generic over a small
//! [`vm::Vm`] trait, so the same code runs revm here and a toy VM in loom models.

#[cfg(feature = "revm")]
mod executor;
mod indexed_list;
pub mod mv_memory;
mod planted;
#[cfg(feature = "revm")]
mod pool;
#[cfg(feature = "revm")]
mod revm;
pub mod scheduler;
pub mod sync;
pub mod vm;
pub mod worker;

pub use crate::hook::Incarnation;
pub use crate::model::TxIndex;
#[cfg(feature = "revm")]
pub use executor::BlockStm;
pub use planted::{Mutant, PlantedBug};

/// From this many transactions on, a block's memory is worth handing to the reaper thread;
/// below it, freeing inline is faster than waking another thread.
#[cfg(feature = "revm")]
const LARGE_BLOCK: usize = 512;

/// One execution of a transaction: its index and incarnation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// The transaction executed.
    pub tx: TxIndex,
    /// Which execution of it: 0 first, one more after each abort.
    pub incarnation: Incarnation,
}
