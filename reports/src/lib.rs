//! lockstep's report model and its renderers. Reports are plain data so that the same run can
//! be written as JSON for machines and as text for people, byte-identical for the same input
//! (timings aside).

pub mod table;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Counts of one executor on one fork.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub errors: u64,
}

impl Counts {
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
    pub executor: String,
    pub file: String,
    pub test: String,
    pub fork: String,
    /// `d{data} g{gas} v{value}`.
    pub indexes: String,
    pub what: String,
}

/// Input that could not be used, naming file and test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputError {
    pub file: String,
    pub test: String,
    pub message: String,
}

/// Two executors gave different outputs for the same case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDivergence {
    pub reference: String,
    pub candidate: String,
    pub file: String,
    pub test: String,
    pub fork: String,
    pub indexes: String,
    pub what: String,
    /// The repro bundle written for it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
}

/// What an executor did over packed blocks (from its `ExecStats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackedStats {
    pub blocks: u64,
    pub txs: u64,
    pub executions: u64,
    pub aborts: u64,
    pub validations: u64,
    /// Blocks that ran on more than one thread.
    pub parallel_blocks: u64,
}

impl PackedStats {
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
    pub executors: Vec<String>,
    pub files: u64,
    /// executor -> fork -> counts.
    pub counts: BTreeMap<String, BTreeMap<String, Counts>>,
    pub failures: Vec<CaseFailure>,
    pub divergences: Vec<CaseDivergence>,
    pub errors: Vec<InputError>,
    /// Unknown fixture fields: field path -> number of files with it.
    pub unknown_fields: BTreeMap<String, u64>,
    /// Rejections whose kind differs from the fixture's exception name (not failures).
    pub kind_notes: u64,
    /// Packed mode: executor -> what it did.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub packed: BTreeMap<String, PackedStats>,
    /// Wall time in seconds; the one field that varies between identical runs.
    pub wall_seconds: f64,
}

impl ConformanceReport {
    pub fn total(&self, executor: &str) -> Counts {
        let mut c = Counts::default();
        for f in self.counts.get(executor).into_iter().flat_map(|m| m.values()) {
            c.add(f);
        }
        c
    }

    pub fn ok(&self) -> bool {
        self.failures.is_empty() && self.errors.is_empty() && self.divergences.is_empty()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serializes")
    }

    /// A human summary: a table per executor, then the first failures, divergences and errors.
    pub fn to_text(&self, max_listed: usize) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        for exec in &self.executors {
            let mut t = table::Table::new(["fork", "passed", "failed", "skipped", "errors"]);
            for (fork, c) in self.counts.get(exec).into_iter().flatten() {
                t.row([
                    fork.clone(),
                    c.passed.to_string(),
                    c.failed.to_string(),
                    c.skipped.to_string(),
                    c.errors.to_string(),
                ]);
            }
            let c = self.total(exec);
            t.row([
                "total".into(),
                c.passed.to_string(),
                c.failed.to_string(),
                c.skipped.to_string(),
                c.errors.to_string(),
            ]);
            let _ = writeln!(s, "executor {exec}");
            s.push_str(&t.render());
            s.push('\n');
        }
        if !self.packed.is_empty() {
            let mut t = table::Table::new([
                "executor",
                "blocks",
                "txs",
                "executions",
                "aborts",
                "re-exec ratio",
                "parallel blocks",
            ]);
            for (e, p) in &self.packed {
                t.row([
                    e.clone(),
                    p.blocks.to_string(),
                    p.txs.to_string(),
                    p.executions.to_string(),
                    p.aborts.to_string(),
                    format!("{:.3}", p.reexecution_ratio()),
                    p.parallel_blocks.to_string(),
                ]);
            }
            let _ = writeln!(s, "packed blocks");
            s.push_str(&t.render());
            s.push('\n');
        }
        if !self.failures.is_empty() {
            let _ = writeln!(s, "{} failures, first {}:", self.failures.len(), self.failures.len().min(max_listed));
            for f in self.failures.iter().take(max_listed) {
                let _ = writeln!(
                    s,
                    "  [{}] {} :: {} [{} {}]\n      {}",
                    f.executor, f.file, f.test, f.fork, f.indexes, f.what
                );
            }
        }
        if !self.divergences.is_empty() {
            let _ = writeln!(
                s,
                "{} divergences, first {}:",
                self.divergences.len(),
                self.divergences.len().min(max_listed)
            );
            for d in self.divergences.iter().take(max_listed) {
                let _ = writeln!(
                    s,
                    "  {} vs {}: {} :: {} [{} {}]\n      {}",
                    d.candidate, d.reference, d.file, d.test, d.fork, d.indexes, d.what
                );
                if let Some(b) = &d.bundle {
                    let _ = writeln!(s, "      bundle: {b}");
                }
            }
        }
        if !self.errors.is_empty() {
            let _ = writeln!(s, "{} input errors, first {}:", self.errors.len(), self.errors.len().min(max_listed));
            for e in self.errors.iter().take(max_listed) {
                let _ = writeln!(s, "  {} :: {}: {}", e.file, e.test, e.message);
            }
        }
        if !self.unknown_fields.is_empty() {
            let _ = writeln!(
                s,
                "warning: unknown fixture fields (ignored): {}",
                self.unknown_fields.iter().map(|(k, n)| format!("{k} ({n} files)")).collect::<Vec<_>>().join(", ")
            );
        }
        if self.kind_notes > 0 {
            let _ =
                writeln!(s, "note: {} rejections had another kind than the fixture's exception name", self.kind_notes);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_up_and_text_lists_failures() {
        let mut r = ConformanceReport { executors: vec!["sequential".into()], ..Default::default() };
        let forks = r.counts.entry("sequential".into()).or_default();
        forks.insert("Cancun".into(), Counts { passed: 3, failed: 1, skipped: 2, errors: 0 });
        forks.insert("Prague".into(), Counts { passed: 4, failed: 0, skipped: 0, errors: 1 });
        r.failures.push(CaseFailure {
            executor: "sequential".into(),
            file: "a.json".into(),
            test: "t".into(),
            fork: "Cancun".into(),
            indexes: "d0 g0 v0".into(),
            what: "state root".into(),
        });
        assert_eq!(r.total("sequential"), Counts { passed: 7, failed: 1, skipped: 2, errors: 1 });
        assert!(!r.ok());
        let text = r.to_text(10);
        assert!(text.contains("total"), "{text}");
        assert!(text.contains("a.json :: t [Cancun d0 g0 v0]"), "{text}");
    }
}
