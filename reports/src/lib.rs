//! lockstep's report model and its renderers. Every job fills one [`Report`]; the renderers
//! write it as JSON (with a published schema), JUnit XML, Markdown, one HTML page, or text,
//! the same bytes for the same run in every format, timings aside.
//!
//! [`ConformanceReport`] is what the fixture jobs gather while they run; it becomes a
//! [`Report`] with [`ConformanceReport::to_report`].

#![warn(missing_docs)]

pub mod compare;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
#[cfg(test)]
mod sample;
pub mod table;
pub mod text;
pub mod write;

pub use model::*;
pub use text::visible;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Counts of one executor on one fork.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Cases whose result matched the fixture's expectation (an unbuildable transaction
    /// included, when the fixture expects an exception).
    pub passed: u64,
    /// Cases whose result did not match, or on which the executor errored or panicked; in
    /// packed mode, blocks that failed or diverged from the first executor.
    pub failed: u64,
    /// Cases not run: a fork or file lockstep skips, with its reason.
    pub skipped: u64,
    /// Cases or files that could not be used (bad input); a file-level error counts under
    /// fork `-`.
    pub errors: u64,
}

impl Counts {
    /// Adds `other`'s counts to these, field by field.
    pub fn add(&mut self, other: &Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.errors += other.errors;
    }
}

/// One failed case of one executor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFailure {
    /// The executor's name.
    pub executor: String,
    /// The fixture file's path.
    pub file: String,
    /// The test's name in the file.
    pub test: String,
    /// The fork, as fixtures spell it (`Cancun`).
    pub fork: String,
    /// `d{data} g{gas} v{value}`: the post entry's indexes into the transaction's vectors.
    pub indexes: String,
    /// What went wrong: the mismatch with the fixture, or the executor's error or panic.
    pub what: String,
}

/// Two executors gave different outputs for the same case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDivergence {
    /// The executor compared with: the first one that produced an output; empty in packed
    /// mode when none had yet.
    pub reference: String,
    /// The executor that differed from it, or failed.
    pub candidate: String,
    /// The fixture file's path.
    pub file: String,
    /// The test's name in the file.
    pub test: String,
    /// The fork, as fixtures spell it.
    pub fork: String,
    /// `d{data} g{gas} v{value}`, or `packed N txs` for a packed block.
    pub indexes: String,
    /// The first difference (or the failure), displayed.
    pub what: String,
    /// The repro bundle written for it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
    /// The [`CaseResult::id`] of the case.
    pub case: String,
    /// The divergence's kind (`state`, `hang`, ...).
    pub kind: String,
    /// The block's conflicts, from the reference's read and write sets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<ConflictGraph>,
}

/// What an executor did over packed blocks (from its `ExecStats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackedStats {
    /// Packed blocks the executor returned an output for.
    pub blocks: u64,
    /// Transactions in those blocks.
    pub txs: u64,
    /// Transaction executions, first incarnations and re-executions together.
    pub executions: u64,
    /// Incarnations aborted (failed validation or read an ESTIMATE).
    pub aborts: u64,
    /// Read-set validations run.
    pub validations: u64,
    /// Blocks that ran on more than one thread.
    pub parallel_blocks: u64,
}

impl PackedStats {
    /// Adds `o`'s counts to these, field by field.
    pub fn add(&mut self, o: &PackedStats) {
        self.blocks += o.blocks;
        self.txs += o.txs;
        self.executions += o.executions;
        self.aborts += o.aborts;
        self.validations += o.validations;
        self.parallel_blocks += o.parallel_blocks;
    }

    /// Executions beyond the first of each transaction, per transaction.
    pub fn reexecution_ratio(&self) -> f64 {
        if self.txs == 0 { 0.0 } else { self.executions.saturating_sub(self.txs) as f64 / self.txs as f64 }
    }
}

/// The result of `lockstep statetest`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConformanceReport {
    /// The executors' names, the reference (the one compared with) first.
    pub executors: Vec<String>,
    /// Fixture files found.
    pub files: u64,
    /// executor -> fork -> counts.
    pub counts: BTreeMap<String, BTreeMap<String, Counts>>,
    /// Every case an executor failed against the fixture.
    pub failures: Vec<CaseFailure>,
    /// Every case on which an executor's output differed from the reference's.
    pub divergences: Vec<CaseDivergence>,
    /// Every file or test that could not be used.
    pub errors: Vec<InputError>,
    /// Every case on every executor, as the report lists it.
    #[serde(default)]
    pub cases: Vec<CaseResult>,
    /// Unknown fixture fields: field path -> number of files with it.
    pub unknown_fields: BTreeMap<String, u64>,
    /// Rejections whose kind differs from the fixture's exception name (not failures).
    pub kind_notes: u64,
    /// Stopped by SIGINT: files not started by then were skipped.
    #[serde(default)]
    pub interrupted: bool,
    /// What depends on timing and real threads, kept apart so that everything else is the
    /// same, byte for byte, for the same inputs.
    #[serde(default)]
    pub measured: ConformanceMeasured,
}

/// The measured part of a [`ConformanceReport`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConformanceMeasured {
    /// Wall time of the whole run, in seconds.
    pub wall_seconds: f64,
    /// Packed mode: executor -> what it did (executions, aborts and validations depend on
    /// the interleaving).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub packed: BTreeMap<String, PackedStats>,
}

impl ConformanceReport {
    /// `executor`'s counts summed over every fork; zero for an executor not in the report.
    pub fn total(&self, executor: &str) -> Counts {
        let mut c = Counts::default();
        for f in self.counts.get(executor).into_iter().flat_map(|m| m.values()) {
            c.add(f);
        }
        c
    }

    /// Cases (blocks, in packed mode) some executor passed or failed: what was checked.
    pub fn checked(&self) -> u64 {
        self.counts.values().flat_map(|m| m.values()).map(|c| c.passed + c.failed).sum()
    }

    /// Something was checked, and there was no failure, divergence or input error. A run that
    /// checked nothing (everything skipped, filtered out, or no input) is not a pass.
    pub fn ok(&self) -> bool {
        self.checked() > 0 && self.failures.is_empty() && self.errors.is_empty() && self.divergences.is_empty()
    }

    /// The report of the job: its cases, divergences (a case that diverged shows as
    /// diverged whatever its fixture verdict), errors and notes, under `meta`.
    pub fn to_report(&self, job: Job, meta: Meta) -> Report {
        let mut r = Report::new(job, meta);
        r.files = self.files;
        r.cases = self.cases.clone();
        r.errors = self.errors.clone();
        r.interrupted = self.interrupted;
        r.measured.wall_seconds = self.measured.wall_seconds;
        for d in &self.divergences {
            let (id, kind) = (d.case.clone(), d.kind.clone());
            r.divergences.push(DivergenceRecord {
                case: id.clone(),
                reference: d.reference.clone(),
                candidate: d.candidate.clone(),
                threads: None,
                kind,
                what: d.what.clone(),
                bundle: d.bundle.clone(),
                conflicts: d.conflicts.clone(),
            });
            if let Some(c) = r.cases.iter_mut().find(|c| c.id == id && c.executor == d.candidate) {
                c.status = Status::Diverged;
                c.message = Some(d.what.clone());
                c.bundle = d.bundle.clone();
            }
        }
        for (e, p) in &self.measured.packed {
            r.measured.throughput.push(Throughput {
                workload: "packed".into(),
                executor: e.clone(),
                threads: 0,
                speedup: 0.0,
                reexecution_ratio: p.reexecution_ratio(),
                median_ms: None,
                mgas_per_s: None,
            });
        }
        if !self.unknown_fields.is_empty() {
            r.notes.push(format!(
                "unknown fixture fields (ignored): {}",
                self.unknown_fields.iter().map(|(k, n)| format!("{k} ({n} files)")).collect::<Vec<_>>().join(", ")
            ));
        }
        if self.kind_notes > 0 {
            r.notes.push(format!("{} rejections had another kind than the fixture's exception name", self.kind_notes));
        }
        r.canonicalize();
        r
    }

    /// A human summary, rendered by [`text::render`] from the report of this run.
    pub fn to_text(&self, max_listed: usize) -> String {
        let meta = Meta {
            lockstep_version: String::new(),
            git_revision: None,
            command: Vec::new(),
            seed: None,
            executors: Vec::new(),
            fixtures: Vec::new(),
            machine: Machine::this(),
            shard: None,
        };
        let mut s = text::render(&self.to_report(Job::Statetest, meta), max_listed);
        if !self.measured.packed.is_empty() {
            let rows: Vec<Vec<String>> = self
                .measured
                .packed
                .iter()
                .map(|(e, p)| {
                    vec![
                        e.clone(),
                        p.blocks.to_string(),
                        p.txs.to_string(),
                        p.executions.to_string(),
                        p.aborts.to_string(),
                        format!("{:.3}", p.reexecution_ratio()),
                        p.parallel_blocks.to_string(),
                    ]
                })
                .collect();
            s.push_str("packed blocks\n");
            s.push_str(&text::table(
                ["executor", "blocks", "txs", "executions", "aborts", "re-exec ratio", "parallel blocks"],
                &rows,
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diverged_case_shows_as_diverged_with_its_bundle() {
        let mut r = ConformanceReport { executors: vec!["a".into(), "b".into()], files: 1, ..Default::default() };
        for e in ["a", "b"] {
            r.cases.push(CaseResult {
                id: "f.json::t::Cancun::d0g0v0".into(),
                category: "st".into(),
                fork: "Cancun".into(),
                executor: e.into(),
                status: Status::Passed,
                message: None,
                bundle: None,
            });
        }
        r.divergences.push(CaseDivergence {
            reference: "a".into(),
            candidate: "b".into(),
            file: "f.json".into(),
            test: "t".into(),
            fork: "Cancun".into(),
            indexes: "d0 g0 v0".into(),
            what: "state root differs".into(),
            bundle: Some("out/x".into()),
            case: "f.json::t::Cancun::d0g0v0".into(),
            kind: "state".into(),
            conflicts: None,
        });
        let report = r.to_report(Job::Statetest, crate::sample::report().meta);
        assert_eq!(report.cases[0].status, Status::Passed);
        assert_eq!(report.cases[1].status, Status::Diverged);
        assert_eq!(report.cases[1].bundle.as_deref(), Some("out/x"));
        assert!(!report.ok());
        assert!(r.to_text(5).contains("bundle: out/x"));
    }
}
