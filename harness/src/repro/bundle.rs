//! Repro bundles: one directory per divergence with everything needed to see and replay it.
//!
//! - `case.json`: the (minimized) block, both executors with versions, threads, seed or
//!   schedule, the senders' secret keys, and the first differing level with expected vs actual;
//! - `schedule.json` when the divergence needs a controlled schedule;
//! - `alloc.json`, `env.json`, `txs.json`: the block as `evm t8n` input ([`super::t8n`];
//!   transactions carry `secretKey`, which t8n signs with);
//! - `statetest.json` when one transaction suffices ([`super::state_test`]);
//! - `README.md`: what diverged, in words, and the command that replays it.

use super::{paths::sanitize, readme::readme, state_test, t8n};
use crate::check::Divergence;
use crate::error::{Error, Result};
use crate::schedule::Schedule;
use alloy_primitives::{Address, B256};
use lockstep_executors::{BlockInput, BlockOutput, Executor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An executor as a bundle names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutorId {
    /// Its [`Executor::name`], the one `--executor` takes.
    pub name: String,
    /// Its [`Executor::version`] (crate and revm versions), for the people reading the bundle.
    pub version: String,
}

impl ExecutorId {
    /// The name and version of `e`.
    pub fn of(e: &dyn Executor) -> ExecutorId {
        ExecutorId { name: e.name().into(), version: e.version() }
    }
}

/// `case.json`: a divergence and everything that reproduces it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    /// The block that diverges: pre-state, environment, transactions.
    pub block: BlockInput,
    /// The executor whose output is the expectation.
    pub reference: ExecutorId,
    /// The executor that diverged.
    pub candidate: ExecutorId,
    /// Candidate worker threads.
    pub threads: usize,
    /// The seed that generated the (unminimized) block, when it was generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Present when the divergence was found under a controlled schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// The first difference the candidate shows on `block`.
    pub divergence: Divergence,
    /// `Divergence::kind`: what replays and minimization keep constant.
    pub kind: String,
    /// Of the re-check runs after minimization, how many diverged: (diverged, runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub divergence_rate: Option<(usize, usize)>,
    /// For a divergence found on real threads: whether a controlled schedule was found for it
    /// and the rate it shows at on real threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<super::CaptureNote>,
    /// Secret keys of the senders that have one (generated blocks, fixtures with
    /// `secretKey`): what the exported t8n and state-test files sign with.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<Address, B256>,
}

impl Case {
    /// `divergence` between `reference` and `candidate` on `block`, found without a seed,
    /// a schedule or keys (set those after).
    pub fn new(
        block: BlockInput,
        reference: &dyn Executor,
        candidate: &dyn Executor,
        threads: usize,
        divergence: Divergence,
    ) -> Case {
        Case {
            block,
            reference: ExecutorId::of(reference),
            candidate: ExecutorId::of(candidate),
            threads,
            seed: None,
            schedule: None,
            kind: divergence.kind(),
            divergence,
            divergence_rate: None,
            capture: None,
            keys: BTreeMap::new(),
        }
    }

    /// Keeps the keys of this block's senders out of `keys`.
    pub fn with_keys(mut self, keys: &BTreeMap<Address, B256>) -> Case {
        self.keys = self.block.txs.iter().filter_map(|t| keys.get(&t.sender).map(|k| (t.sender, *k))).collect();
        self
    }
}

/// The directory of a bundle path (the directory itself, or the one holding its `case.json`).
pub fn dir_of(path: &Path) -> PathBuf {
    if path.is_dir() { path.to_path_buf() } else { path.parent().map(PathBuf::from).unwrap_or_default() }
}

/// Reads a bundle directory (or its `case.json`).
///
/// Errors: [`Error::Io`] when it cannot be read, [`Error::BadInput`] when it is not a case
/// (naming the field serde stopped at), or asks for more than lockstep's limits: threads and
/// schedule workers from 1 to [`MAX_THREADS`](crate::defaults::MAX_THREADS), at most
/// [`MAX_TXS`](crate::defaults::MAX_TXS) transactions.
pub fn read(path: &Path) -> Result<Case> {
    let file = if path.is_dir() { path.join("case.json") } else { path.to_path_buf() };
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
    parse(&file, &text)
}

/// A `case.json`'s text as a case, checked as [`read`] does; `file` names it in errors.
///
/// Errors: [`Error::BadInput`], as [`read`].
pub fn parse(file: &Path, text: &str) -> Result<Case> {
    let file = file.to_path_buf();
    let mut de = serde_json::Deserializer::from_str(text);
    let case: Case = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        Error::bad_input(&file, format!("not a lockstep case: at `{field}`: {}", e.inner()))
    })?;
    let limit = crate::defaults::MAX_THREADS;
    if case.threads == 0 || case.threads > limit {
        return Err(Error::bad_input(&file, format!("threads: {} is not between 1 and {limit}", case.threads)));
    }
    if let Some(s) = &case.schedule {
        if s.workers == 0 || s.workers > limit {
            return Err(Error::bad_input(
                &file,
                format!("schedule.workers: {} is not between 1 and {limit}", s.workers),
            ));
        }
    }
    if case.block.txs.len() > crate::defaults::MAX_TXS {
        let n = case.block.txs.len();
        return Err(Error::bad_input(
            &file,
            format!("block.txs: {n} transactions, more than {}", crate::defaults::MAX_TXS),
        ));
    }
    Ok(case)
}

/// Writes `value` as pretty JSON to `path`, through a temporary file renamed into place so a
/// reader never sees half a file.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::bad_input(path, e))? + "\n";
    write_text(path, &text)
}

/// Writes `text` to `path` atomically: a temporary file beside it, flushed to disk, then
/// renamed over it, so that a reader (or a run killed meanwhile) sees the previous file or the
/// whole new one, never part of one.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// Writes `case` as a bundle in `dir` (created if missing); `reference_output` is the
/// reference's output on the case's block, which the state-test export expects.
pub fn write(dir: &Path, case: &Case, reference_output: &BlockOutput) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    write_json(&dir.join("case.json"), case)?;
    match &case.schedule {
        Some(s) => write_json(&dir.join("schedule.json"), s)?,
        None => remove(&dir.join("schedule.json"))?,
    }
    let (alloc, env, txs) = t8n::files(&case.block, &case.keys);
    write_json(&dir.join("alloc.json"), &alloc)?;
    write_json(&dir.join("env.json"), &env)?;
    write_json(&dir.join("txs.json"), &txs)?;
    let name = sanitize(&format!("lockstep_{}_vs_{}", case.candidate.name, case.reference.name));
    let comment =
        format!("lockstep repro: {} diverges from {} ({})", case.candidate.name, case.reference.name, case.kind);
    match state_test::export(&case.block, reference_output, &case.keys, name, comment) {
        Some(test) => write_json(&dir.join("statetest.json"), &test)?,
        None => remove(&dir.join("statetest.json"))?,
    }
    write_text(&dir.join("README.md"), &readme(dir, case))?;
    Ok(dir.to_path_buf())
}

fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}
