//! A divergence a job found on a generated block, and its bundle.

use super::{bundle, paths::new_bundle_dir};
use crate::check::Divergence;
use crate::error::Result;
use crate::schedule::{Schedule, Strategy};
use crate::workload::{Generated, Workload};
use lockstep_executors::{BlockOutput, Executor};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A divergence found by `run`, `explore` or a fuzz target on a generated block, with what
/// reproduces it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Found {
    /// The workload that generated the block, with its knobs.
    pub workload: Workload,
    /// The seed of this block (derived from the run seed and the block number).
    pub block_seed: u64,
    /// The block's position in its job.
    pub block_number: u64,
    /// The reference executor's name.
    pub reference: String,
    /// The diverging candidate's name.
    pub candidate: String,
    /// Candidate worker threads.
    pub threads: usize,
    /// The first difference from the reference.
    pub divergence: Divergence,
    /// Present when the divergence was found under a controlled schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controlled: Option<Controlled>,
    /// Where the block and the divergence were written; `None` without an output directory, or
    /// when the bundle cannot be written.
    pub bundle: Option<PathBuf>,
}

/// The controlled schedule a divergence showed under.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Controlled {
    /// The seeded strategy the failing schedule came from.
    pub strategy: Strategy,
    /// The failing schedule as it happened, trace included.
    pub schedule: Schedule,
    /// The shrunk choices (replayed with `Strategy::Replay`), when shrinking ran.
    pub shrunk: Option<Vec<usize>>,
}

impl Found {
    /// `block seed N: the divergence`, as reports show it.
    pub fn summary(&self) -> String {
        format!("block seed {}: {}", self.block_seed, self.divergence)
    }

    /// This divergence in the report model, found on the case `case`; no conflict graph.
    pub fn record(&self, case: String) -> lockstep_reports::DivergenceRecord {
        lockstep_reports::DivergenceRecord {
            case,
            reference: self.reference.clone(),
            candidate: self.candidate.clone(),
            threads: Some(self.threads as u64),
            kind: self.divergence.kind(),
            what: self.summary(),
            bundle: self.bundle.as_ref().map(|p| p.display().to_string()),
            conflicts: None,
        }
    }

    /// The choices that replay it: the shrunk ones when there are.
    pub fn choices(&self) -> Option<Vec<usize>> {
        self.controlled.as_ref().map(|c| c.shrunk.clone().unwrap_or_else(|| c.schedule.choices.clone()))
    }
}

/// Writes the `k`-th divergence of a job as an unminimized bundle in a new directory under
/// `out/divergences/` ([`new_bundle_dir`]); returns the directory. `expected` is the reference's output on the block.
pub fn write_found(
    out: &Path,
    k: usize,
    found: &Found,
    generated: &Generated,
    reference: &dyn Executor,
    candidate: &dyn Executor,
    expected: &BlockOutput,
) -> Result<PathBuf> {
    let label =
        format!("{k:03}-{}-{}-t{}-{}", found.workload.family, found.candidate, found.threads, found.divergence.kind());
    let identity = format!(
        "{label} {} seed {} block {} {} vs {}",
        found.workload.label(),
        found.block_seed,
        found.block_number,
        found.candidate,
        found.reference
    );
    let mut case =
        bundle::Case::new(generated.block.clone(), reference, candidate, found.threads, found.divergence.clone())
            .with_keys(&generated.keys);
    case.seed = Some(found.block_seed);
    case.schedule = found.choices().map(|choices| Schedule { workers: found.threads, choices, trace: Vec::new() });
    bundle::write(&new_bundle_dir(out, &label, &identity)?, &case, expected)
}
