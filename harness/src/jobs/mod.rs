//! The jobs the command line runs. Each takes an `Options`-like struct of resolved inputs
//! (executors, workloads, limits) and returns a report; none prints its results (a progress
//! bar on a terminal aside) or exits.

pub mod bench;
pub mod blocktest;
pub mod explore;
pub mod hunt;
pub mod run;
pub mod statetest;
pub mod stress;

use crate::error::{Error, Result};
use lockstep_executors::Executor;
use std::sync::Arc;

/// An executor by name, bundled or named in the executors file (`lockstep list executors`
/// prints them; [`crate::registry`]).
///
/// Errors: [`Error::Unknown`] naming the known ones.
pub fn executor(name: &str) -> Result<Arc<dyn Executor>> {
    crate::registry::find(name).ok_or_else(|| Error::Unknown {
        what: "executor",
        name: name.to_string(),
        known: crate::registry::names().join(", "),
    })
}

/// [`executor`] for each name, in order.
pub fn executors(names: &[String]) -> Result<Vec<Arc<dyn Executor>>> {
    names.iter().map(|n| executor(n)).collect()
}
