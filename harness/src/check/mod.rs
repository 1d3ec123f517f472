//! Checking a candidate against the reference: [`isolate`] runs an executor so that its
//! panic, error or hang becomes a [`Divergence`]; [`diff`] compares two `BlockOutput`s first
//! difference first.

pub mod conflicts;
pub mod diff;
pub mod isolate;
pub mod subprocess;

pub use diff::{Divergence, compare, compare_under};

use crate::error::{Error, Result};
use lockstep_executors::{BlockInput, BlockOutput, Capabilities, Executor, RunControl};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One candidate run compared with the reference.
pub struct Checked {
    /// The first difference from the reference, or the candidate's failure; `None` when they
    /// agree.
    pub divergence: Option<Divergence>,
    /// Wall time of the reference's run; about zero when its output is given as `expected`.
    pub reference_time: Duration,
    /// The candidate's own execution time (its thread's start not counted).
    pub candidate_time: Duration,
    /// The candidate's output, when it returned one.
    pub candidate: Option<BlockOutput>,
}

/// The divergence a candidate's result shows against the reference's `expected` output:
/// a failed run is one, a returned output is compared on the fields `caps` says both sides
/// report.
pub fn judge(
    expected: &BlockOutput,
    result: std::result::Result<BlockOutput, Divergence>,
    caps: Capabilities,
) -> Option<Divergence> {
    match result {
        Ok(out) => compare_under(expected, &out, caps),
        Err(d) => Some(d),
    }
}

/// Workload `w`'s block at `seed`, shared, with the reference's output on it; `None` when the
/// reference cannot run it.
pub fn generated(
    w: &crate::workload::Workload,
    seed: u64,
    reference: &dyn Executor,
) -> Option<(crate::workload::Generated, Arc<BlockInput>, BlockOutput)> {
    let generated = w.generate(seed);
    let block = Arc::new(generated.block.clone());
    let expected = reference_output(reference, &block).ok()?;
    Some((generated, block, expected))
}

/// The reference's output for `block`, run on the calling thread with one worker and
/// [`REFERENCE_TIMEOUT`](crate::defaults::REFERENCE_TIMEOUT) as its deadline.
///
/// Errors: [`Error::Reference`] when the reference errors, panics or runs past the deadline.
pub fn reference_output(reference: &dyn Executor, block: &BlockInput) -> Result<BlockOutput> {
    let deadline = Some(Instant::now() + crate::defaults::REFERENCE_TIMEOUT);
    isolate::run_caught(reference, block, &RunControl { threads: 1, hook: None, deadline }).map_err(|divergence| {
        Error::Reference { executor: reference.name().to_string(), divergence: Box::new(divergence) }
    })
}

/// Runs `block` on the reference (unless its output is given as `expected`) and on one
/// candidate with `threads` workers, and compares them. The candidate runs on a helper thread
/// with `timeout`: a panic, an error or an overrun is a divergence.
///
/// Errors: [`Error::Reference`] when the reference cannot run the block.
pub fn check_block(
    block: &Arc<BlockInput>,
    reference: &dyn Executor,
    expected: Option<&BlockOutput>,
    candidate: &Arc<dyn Executor>,
    threads: usize,
    timeout: Duration,
) -> Result<Checked> {
    let t0 = Instant::now();
    let owned;
    let expected = match expected {
        Some(e) => e,
        None => {
            owned = reference_output(reference, block)?;
            &owned
        }
    };
    let reference_time = t0.elapsed();
    let (got, candidate_time) =
        isolate::run_with_timeout(candidate.clone(), block.clone(), RunControl::with_threads(threads), timeout);
    let caps = reference.capabilities().common(candidate.capabilities());
    Ok(match got {
        Ok(out) => Checked {
            divergence: compare_under(expected, &out, caps),
            reference_time,
            candidate_time,
            candidate: Some(out),
        },
        Err(d) => Checked { divergence: Some(d), reference_time, candidate_time, candidate: None },
    })
}
