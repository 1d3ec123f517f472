//! The jobs the command line runs. Each takes an `Options`-like struct of resolved inputs
//! (executors, workloads, limits) and returns a report; none prints its results (a progress
//! bar on a terminal aside) or exits.

pub mod bench;
pub mod explore;
pub mod run;
pub mod statetest;
pub mod stress;

use crate::error::{Error, Result};
use lockstep_executors::Executor;
use std::sync::Arc;

/// A bundled executor by name (`lockstep list executors` prints them).
///
/// Errors: [`Error::Unknown`] naming the bundled ones.
pub fn executor(name: &str) -> Result<Arc<dyn Executor>> {
    lockstep_executors::bundled(name).ok_or_else(|| Error::Unknown {
        what: "executor",
        name: name.to_string(),
        known: lockstep_executors::bundled_names().join(", "),
    })
}

/// [`executor`] for each name, in order.
pub fn executors(names: &[String]) -> Result<Vec<Arc<dyn Executor>>> {
    names.iter().map(|n| executor(n)).collect()
}
