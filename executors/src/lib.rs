//! lockstep's plug: the block model ([`model`]), the [`Executor`] trait ([`executor`]), the
//! schedule hook an executor reports its semantic points to ([`hook`]), and, behind the
//! `revm` feature, the bundled executors: [`sequential`] (the reference) and [`block_stm`].
//!
//! A third-party executor depends on this crate with `default-features = false` and gets
//! the model, the trait and the hook without our revm.

#![warn(missing_docs)]

pub mod block_stm;
pub mod executor;
pub mod hook;
pub mod memo;
pub mod model;
mod storage_trie;
pub mod trie;

pub use executor::{Capabilities, ExecError, Executor, RunControl};
pub use model::*;
pub use trie::KECCAK_EMPTY;

#[cfg(feature = "revm")]
mod revm_env;
#[cfg(feature = "revm")]
pub mod sequential;
#[cfg(all(feature = "revm", feature = "planted-bugs"))]
pub mod spinner;
#[cfg(feature = "revm")]
mod watchdog;

#[cfg(feature = "revm")]
pub use revm_env::{MAX_BLOB_FEE_EXPONENT, MAX_MEMORY_BYTES};

#[cfg(feature = "revm")]
pub use block_stm::BlockStm;
#[cfg(feature = "revm")]
pub use sequential::Sequential;

/// The bundled executors: name and one line on what it is. The first is the reference.
/// Builds with the `planted-bugs` feature add Block-STM builds with deliberate bugs.
#[cfg(feature = "revm")]
pub fn bundled_list() -> Vec<(&'static str, &'static str)> {
    #[allow(unused_mut)]
    let mut list = vec![
        ("sequential", "the reference: revm, one transaction after another"),
        ("block-stm", "Block-STM (Gelashvili et al. 2022) on revm, lockstep's bundled parallel executor"),
    ];
    #[cfg(feature = "planted-bugs")]
    {
        list.extend(block_stm::Mutant::ALL.iter().map(|m| (m.executor(), m.description())));
        list.push(("spin-forever", "planted bug: worker threads that spin forever and ignore the deadline"));
    }
    list
}

/// The names of [`bundled_list`].
#[cfg(feature = "revm")]
pub fn bundled_names() -> Vec<&'static str> {
    bundled_list().into_iter().map(|(n, _)| n).collect()
}

/// A bundled executor by name (see [`bundled_list`]); `None` for another name.
#[cfg(feature = "revm")]
pub fn bundled(name: &str) -> Option<std::sync::Arc<dyn Executor>> {
    match name {
        "sequential" => Some(std::sync::Arc::new(Sequential)),
        "block-stm" => Some(std::sync::Arc::new(BlockStm::default())),
        #[cfg(feature = "planted-bugs")]
        "spin-forever" => Some(std::sync::Arc::new(spinner::Spinner)),
        #[cfg(feature = "planted-bugs")]
        other => block_stm::Mutant::from_executor(other)
            .map(|m| std::sync::Arc::new(BlockStm::with_planted_bug(block_stm::PlantedBug::planted(m))) as _),
        #[cfg(not(feature = "planted-bugs"))]
        _ => None,
    }
}

/// The bundled executors' names without planted bugs; the first is the reference.
#[cfg(feature = "revm")]
pub const BUNDLED: &[&str] = &["sequential", "block-stm"];
