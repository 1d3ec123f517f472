//! lockstep's plug: the block model ([`model`]), the [`Executor`] trait, and, behind the
//! `revm` feature, the bundled executors: [`sequential`] (the reference) and Block-STM.
//!
//! A third-party executor depends on this crate with `default-features = false` and gets
//! the model and the trait without our revm.

pub mod block_stm;
pub mod model;
mod plug;
pub mod schedule;
pub mod trie;

pub use model::*;
pub use plug::{ExecError, Executor, RunControl};
pub use trie::KECCAK_EMPTY;

#[cfg(feature = "revm")]
mod revm_env;
#[cfg(feature = "revm")]
pub mod sequential;

#[cfg(feature = "revm")]
pub use block_stm::BlockStm;
#[cfg(feature = "revm")]
pub use sequential::Sequential;

/// The bundled executors by name.
#[cfg(feature = "revm")]
pub fn bundled(name: &str) -> Option<std::sync::Arc<dyn Executor>> {
    match name {
        "sequential" => Some(std::sync::Arc::new(Sequential)),
        "block-stm" => Some(std::sync::Arc::new(BlockStm::default())),
        #[cfg(feature = "planted-bugs")]
        "block-stm-skip-validation" => {
            Some(std::sync::Arc::new(BlockStm::with_planted_bug(block_stm::PlantedBug::SkipValidation(TxIndex(1)))))
        }
        #[cfg(feature = "planted-bugs")]
        "block-stm-no-estimates" => {
            Some(std::sync::Arc::new(BlockStm::with_planted_bug(block_stm::PlantedBug::NoEstimates)))
        }
        #[cfg(feature = "planted-bugs")]
        "block-stm-done-early" => {
            Some(std::sync::Arc::new(BlockStm::with_planted_bug(block_stm::PlantedBug::DoneIgnoresActiveTasks)))
        }
        _ => None,
    }
}

/// The bundled executors' names; the first is the reference.
#[cfg(feature = "revm")]
pub const BUNDLED: &[&str] = &["sequential", "block-stm"];
