//! lockstep's report model and its renderers. Reports are plain data so that the same run can
//! be written as JSON for machines and as text for people, byte-identical for the same input
//! (timings aside).

#![warn(missing_docs)]

pub mod table;

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// `s` with control characters (and the bidirectional-text controls, which reorder what a
/// terminal shows) written as `\u{..}` escapes. Names and messages from input files go
/// through it on their way into text, so that an escape sequence or a newline in a test's
/// name cannot redraw the terminal or forge a line of the report.
pub fn visible(s: &str) -> Cow<'_, str> {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

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

/// Input that could not be used, naming file and test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputError {
    /// The file's path.
    pub file: String,
    /// The test's name; `-` for an error about the whole file or path.
    pub test: String,
    /// What is wrong with it.
    pub message: String,
    /// The field it is about, as a JSON path (`.transaction.gasLimit[0]`): from the test, or
    /// from the file's root when `test` is `-`. `None` for an error about no field (a file
    /// that cannot be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The 1-based line of the field (or where reading stopped) in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The 1-based column, in bytes, on that line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
}

impl InputError {
    /// ` (at `FIELD`, line L, column C)`, or nothing without a field.
    fn location(&self) -> String {
        match (&self.field, self.line, self.column) {
            (Some(f), Some(l), Some(c)) => format!(" (at `{f}`, line {l}, column {c})"),
            (Some(f), _, _) => format!(" (at `{f}`)"),
            _ => String::new(),
        }
    }
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

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serializes")
    }

    /// A human summary: a table per executor, then the first `max_listed` failures,
    /// divergences and errors. Names and messages from the input are shown through
    /// [`visible`].
    pub fn to_text(&self, max_listed: usize) -> String {
        use std::fmt::Write;
        let v = visible;
        let mut s = String::new();
        for exec in &self.executors {
            let mut t = table::Table::new(["fork", "passed", "failed", "skipped", "errors"]);
            for (fork, c) in self.counts.get(exec).into_iter().flatten() {
                t.row([
                    v(fork).into_owned(),
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
            let _ = writeln!(s, "executor {}", v(exec));
            s.push_str(&t.render());
            s.push('\n');
        }
        if !self.measured.packed.is_empty() {
            let mut t = table::Table::new([
                "executor",
                "blocks",
                "txs",
                "executions",
                "aborts",
                "re-exec ratio",
                "parallel blocks",
            ]);
            for (e, p) in &self.measured.packed {
                t.row([
                    v(e).into_owned(),
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
                    v(&f.executor),
                    v(&f.file),
                    v(&f.test),
                    v(&f.fork),
                    v(&f.indexes),
                    v(&f.what)
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
                    v(&d.candidate),
                    v(&d.reference),
                    v(&d.file),
                    v(&d.test),
                    v(&d.fork),
                    v(&d.indexes),
                    v(&d.what)
                );
                if let Some(b) = &d.bundle {
                    let _ = writeln!(s, "      bundle: {}", v(b));
                }
            }
        }
        if !self.errors.is_empty() {
            let _ = writeln!(s, "{} input errors, first {}:", self.errors.len(), self.errors.len().min(max_listed));
            for e in self.errors.iter().take(max_listed) {
                let _ = writeln!(s, "  {} :: {}: {}{}", v(&e.file), v(&e.test), v(&e.message), v(&e.location()));
            }
        }
        if !self.unknown_fields.is_empty() {
            let _ = writeln!(
                s,
                "warning: unknown fixture fields (ignored): {}",
                self.unknown_fields.iter().map(|(k, n)| format!("{} ({n} files)", v(k))).collect::<Vec<_>>().join(", ")
            );
        }
        if self.checked() == 0 {
            let _ = writeln!(s, "nothing was checked: no case ran, so this is not a pass");
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

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn names_cannot_forge_lines_or_redraw_the_terminal() {
        let forged = "t\n\u{1b}[2Kall 999 passed\r\u{202e}";
        assert_eq!(visible(forged), "t\\u{a}\\u{1b}[2Kall 999 passed\\u{d}\\u{202e}");
        assert_eq!(visible("plain ü 🦀"), "plain ü 🦀");
        let mut r = ConformanceReport { executors: vec!["sequential".into()], ..Default::default() };
        r.counts
            .entry("sequential".into())
            .or_default()
            .insert(forged.into(), Counts { errors: 1, ..Counts::default() });
        r.errors.push(InputError {
            file: "a\n.json".into(),
            test: forged.into(),
            message: format!("unknown fork `{forged}`"),
            field: Some(format!(".post.{forged}")),
            line: Some(3),
            column: Some(5),
        });
        let text = r.to_text(10);
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
        assert!(text.lines().all(|l| !l.starts_with("all 999")), "{text}");
        assert!(text.contains("line 3, column 5"), "{text}");
    }

    #[test]
    fn a_run_that_checked_nothing_is_not_ok() {
        let mut r = ConformanceReport { executors: vec!["sequential".into()], ..Default::default() };
        r.counts
            .entry("sequential".into())
            .or_default()
            .insert("Cancun".into(), Counts { skipped: 4, ..Counts::default() });
        assert_eq!(r.checked(), 0);
        assert!(!r.ok());
        assert!(r.to_text(5).contains("nothing was checked"));
        r.counts.get_mut("sequential").unwrap().get_mut("Cancun").unwrap().passed = 1;
        assert!(r.ok());
    }
}
