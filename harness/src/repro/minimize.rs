//! Minimization of a diverging block: delta debugging (ddmin, Zeller and Hildebrandt 2002)
//! over the transaction list, then over pre-state accounts and storage slots, then shrinking
//! of each remaining transaction (calldata, gas limit, value, access list, authorization
//! list). The predicate is "the same kind of divergence still occurs" on the same executor
//! pair; a time budget bounds the whole, and the result is re-checked several times to report
//! how often it diverges (a flaky case must not shrink into a false one).

use super::bundle;
use crate::check::{self, Divergence, isolate};
use crate::defaults::{CONTROLLED_TIMEOUT, STEP_BUDGET};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::schedule::{self, Schedule, Strategy};
use lockstep_executors::{BlockInput, BlockOutput, Executor, RunControl, Tx};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A custom candidate run: the divergence run number `usize` shows on the block, if any.
pub type Runner = Box<dyn Fn(&Arc<BlockInput>, usize) -> Option<Divergence> + Send + Sync>;

/// "Does this block still diverge the same way?"
pub struct Predicate {
    /// The executor whose output is the expectation; a block it cannot run does not hold.
    pub reference: Arc<dyn Executor>,
    /// The executor that diverged.
    pub candidate: Arc<dyn Executor>,
    /// Candidate worker threads of a plain run.
    pub threads: usize,
    /// The divergence kind to keep (`Divergence::kind`).
    pub kind: String,
    /// Candidate runs per evaluation; any one diverging the same way counts.
    pub runs: usize,
    /// Wall-clock limit of one plain candidate run; past it the run is a hang.
    pub timeout: Duration,
    /// Custom candidate runner (controlled schedules); `None`: plain runs with `threads`.
    pub runner: Option<Runner>,
}

impl Predicate {
    /// The divergence a candidate run shows on `block`, if any (reference failures: none).
    pub fn diverges(&self, block: &Arc<BlockInput>, run: usize) -> Option<Divergence> {
        if let Some(r) = &self.runner {
            return r(block, run);
        }
        let expected = check::reference_output(self.reference.as_ref(), block).ok()?;
        let (got, _) = isolate::run_with_timeout(
            self.candidate.clone(),
            block.clone(),
            RunControl::with_threads(self.threads),
            self.timeout,
        );
        check::judge(&expected, got, self.reference.capabilities().common(self.candidate.capabilities()))
    }

    /// Whether the reference runs `block` and one of `runs` candidate runs (at least one)
    /// diverges with the same [`kind`](Predicate::kind).
    pub fn holds(&self, block: &BlockInput) -> bool {
        // The reference must accept the block as a block (no executor error).
        if check::reference_output(self.reference.as_ref(), block).is_err() {
            return false;
        }
        let block = Arc::new(block.clone());
        (0..self.runs.max(1)).any(|r| self.diverges(&block, r).is_some_and(|d| d.kind() == self.kind))
    }
}

/// What minimization did.
#[derive(Clone, Debug)]
pub struct Minimized {
    /// The smallest block found that still diverges the same way.
    pub block: BlockInput,
    /// Transactions before minimization.
    pub original_txs: usize,
    /// Predicate evaluations run (each up to `runs` candidate runs).
    pub evaluations: u64,
    /// Wall time of the minimization, the re-check included.
    pub elapsed: Duration,
    /// Whether the time budget ran out before every step finished.
    pub budget_exhausted: bool,
    /// Of `recheck_runs` fresh runs of the result, how many diverged the same way.
    pub recheck_hits: usize,
    /// Runs of the re-check (10); under controlled schedules run 0 replays the recorded
    /// choices and run `r` is seeded random with seed `r`.
    pub recheck_runs: usize,
}

struct Search<'p> {
    pred: &'p Predicate,
    deadline: Instant,
    evaluations: u64,
    exhausted: bool,
    progress: Progress,
}

impl Search<'_> {
    fn test(&mut self, block: &BlockInput) -> bool {
        if Instant::now() >= self.deadline {
            self.exhausted = true;
            return false;
        }
        self.evaluations += 1;
        self.progress.set_message(format!("{} evaluations, {} txs", self.evaluations, block.txs.len()));
        self.pred.holds(block)
    }
}

/// ddmin: a 1-minimal subset of `items` for which `test` holds (`test(items)` must hold).
pub fn ddmin<T: Clone>(items: Vec<T>, mut test: impl FnMut(&[T]) -> bool) -> Vec<T> {
    let mut items = items;
    let mut n = 2usize;
    while items.len() >= 2 {
        let chunk = items.len().div_ceil(n);
        let chunks: Vec<Vec<T>> = items.chunks(chunk).map(|c| c.to_vec()).collect();
        let mut reduced = false;
        for c in &chunks {
            if test(c) {
                items = c.clone();
                n = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && chunks.len() > 2 {
            for i in 0..chunks.len() {
                let complement: Vec<T> =
                    chunks.iter().enumerate().filter(|(j, _)| *j != i).flat_map(|(_, c)| c.iter().cloned()).collect();
                if test(&complement) {
                    items = complement;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n >= items.len() {
                break;
            }
            n = (2 * n).min(items.len());
        }
    }
    items
}

/// Minimizes `block`, for which `pred` holds, within `budget` of wall time: ddmin over the
/// transactions, the pre-state accounts and each account's storage slots, then each
/// remaining transaction's calldata, value, access list, authorization list (ddmin) and gas
/// limit (halved, down to 21000); then re-checks the result 10 times. `progress` draws a bar
/// on a terminal. Past the budget every further test counts as failing, so the steps left
/// keep what they have.
pub fn minimize(block: &BlockInput, pred: &Predicate, budget: Duration, progress: bool) -> Minimized {
    let start = Instant::now();
    let mut s = Search {
        pred,
        deadline: start + budget,
        evaluations: 0,
        exhausted: false,
        progress: Progress::new(progress, 0, "evaluations"),
    };
    let mut best = block.clone();

    // 1. Transactions.
    let txs = best.txs.clone();
    let base = best.clone();
    best.txs = ddmin(txs, |subset| s.test(&BlockInput { txs: subset.to_vec(), ..base.clone() }));

    // 2. Pre-state accounts, then each account's storage slots.
    let accounts: Vec<_> = best.pre_state.keys().copied().collect();
    let base = best.clone();
    let keep = ddmin(accounts, |subset| {
        let mut b = base.clone();
        b.pre_state.retain(|a, _| subset.contains(a));
        s.test(&b)
    });
    best.pre_state.retain(|a, _| keep.contains(a));
    let with_storage: Vec<_> = best.pre_state.iter().filter(|(_, a)| !a.storage.is_empty()).map(|(k, _)| *k).collect();
    for a in with_storage {
        let slots: Vec<_> = best.pre_state[&a].storage.keys().copied().collect();
        let base = best.clone();
        let keep = ddmin(slots, |subset| {
            let mut b = base.clone();
            if let Some(acc) = b.pre_state.get_mut(&a) {
                acc.storage.retain(|k, _| subset.contains(k));
            }
            s.test(&b)
        });
        if let Some(acc) = best.pre_state.get_mut(&a) {
            acc.storage.retain(|k, _| keep.contains(k));
        }
    }

    // 3. Each transaction's fields.
    for i in 0..best.txs.len() {
        shrink_tx(&mut best, i, &mut s);
    }

    s.progress.finish();
    let recheck_runs = 10;
    let b = Arc::new(best.clone());
    let recheck_hits =
        (0..recheck_runs).filter(|r| pred.diverges(&b, *r).is_some_and(|d| d.kind() == pred.kind)).count();
    Minimized {
        block: best,
        original_txs: block.txs.len(),
        evaluations: s.evaluations,
        elapsed: start.elapsed(),
        budget_exhausted: s.exhausted,
        recheck_hits,
        recheck_runs,
    }
}

/// Applies `change` to transaction `i` and keeps it if the block still fails.
fn attempt(best: &mut BlockInput, i: usize, s: &mut Search, change: &dyn Fn(&mut Tx)) -> bool {
    let mut b = best.clone();
    change(&mut b.txs[i]);
    if b.txs[i] != best.txs[i] && s.test(&b) {
        *best = b;
        true
    } else {
        false
    }
}

/// Tries smaller versions of one field of transaction `i`, keeping each that still fails.
fn shrink_tx(best: &mut BlockInput, i: usize, s: &mut Search) {
    // Calldata: drop it, else halve it from the end.
    if !attempt(best, i, s, &|t| t.input = Default::default()) {
        while best.txs[i].input.len() > 4 {
            let half = (best.txs[i].input.len() / 2).max(4);
            if !attempt(best, i, s, &|t| t.input = t.input.slice(..half)) {
                break;
            }
        }
    }
    attempt(best, i, s, &|t| t.value = Default::default());
    attempt(best, i, s, &|t| t.access_list.clear());
    if !best.txs[i].authorization_list.is_empty() {
        let list = best.txs[i].authorization_list.clone();
        let base = best.clone();
        let keep = ddmin(list, |subset| {
            let mut b = base.clone();
            b.txs[i].authorization_list = subset.to_vec();
            s.test(&b)
        });
        best.txs[i].authorization_list = keep;
    }
    // Gas limit: halve while it still fails.
    while best.txs[i].gas_limit > 21_000 {
        let g = (best.txs[i].gas_limit / 2).max(21_000);
        if !attempt(best, i, s, &|t| t.gas_limit = g) {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ddmin;

    #[test]
    fn ddmin_finds_the_two_needed_items() {
        let items: Vec<u32> = (0..1000).collect();
        let mut tests = 0;
        let got = ddmin(items, |s| {
            tests += 1;
            s.contains(&137) && s.contains(&862)
        });
        assert_eq!(got, vec![137, 862]);
        assert!(tests < 200, "{tests} tests");
    }

    #[test]
    fn ddmin_keeps_a_single_needed_item() {
        assert_eq!(ddmin((0..50).collect::<Vec<u8>>(), |s| s.contains(&7)), vec![7]);
    }
}

/// The schedule of run `run` of a minimization step under controlled schedules: the recorded
/// choices first, then seeded random ones (a smaller block takes other steps).
fn schedule_for(run: usize, recorded: &[usize]) -> Strategy {
    if run == 0 { Strategy::Replay { choices: recorded.to_vec() } } else { Strategy::Random { seed: run as u64 } }
}

/// Minimizes the case of a bundle directory in place within `budget`, each step trying
/// `runs` candidate runs: the original case is kept as `original-case.json`, and the bundle's
/// files are rewritten for the minimized block (keys, seed and executors kept). A scheduled
/// case gets a recorded schedule that shows the divergence on the minimized block, shrunk.
///
/// Errors: the bundle's read and write errors; [`Error::NotReproduced`] when the recorded
/// divergence does not show in `runs` tries; [`Error::Reference`] when the reference cannot
/// run the minimized block.
pub fn minimize_bundle(
    dir: &Path,
    reference: Arc<dyn Executor>,
    candidate: Arc<dyn Executor>,
    budget: Duration,
    runs: usize,
    progress: bool,
) -> Result<Minimized> {
    let case = bundle::read(dir)?;
    let mut pred = Predicate {
        reference: reference.clone(),
        candidate: candidate.clone(),
        threads: case.threads,
        kind: case.kind.clone(),
        runs,
        timeout: CONTROLLED_TIMEOUT,
        runner: None,
    };
    if let Some(schedule) = &case.schedule {
        let recorded = schedule.choices.clone();
        let workers = schedule.workers.max(1);
        let (r, c) = (reference.clone(), candidate.clone());
        pred.runner = Some(Box::new(move |b: &Arc<BlockInput>, run: usize| {
            let expected = check::reference_output(r.as_ref(), b).ok()?;
            let strategy = schedule_for(run, &recorded);
            schedule::diverges_under(&c, b, &expected, workers, strategy, STEP_BUDGET, CONTROLLED_TIMEOUT).0
        }));
        pred.runs = runs.max(20);
    }
    if !pred.holds(&case.block) {
        return Err(Error::NotReproduced { path: dir.to_path_buf(), kind: case.kind });
    }
    let m = minimize(&case.block, &pred, budget, progress);
    let block = Arc::new(m.block.clone());
    let expected = check::reference_output(reference.as_ref(), &block)?;
    let (divergence, schedule) = match &case.schedule {
        Some(recorded) => match reschedule(&candidate, &block, &expected, recorded, pred.runs, &case.kind) {
            Some((d, s)) => (d, Some(s)),
            None => (case.divergence.clone(), case.schedule.clone()),
        },
        None => {
            let d = (0..pred.runs.max(1))
                .find_map(|r| pred.diverges(&block, r).filter(|d| d.kind() == case.kind))
                .unwrap_or_else(|| case.divergence.clone());
            (d, None)
        }
    };
    bundle::write_json(&dir.join("original-case.json"), &case)?;
    let min_case = bundle::Case {
        block: m.block.clone(),
        divergence,
        divergence_rate: Some((m.recheck_hits, m.recheck_runs)),
        schedule,
        ..case
    };
    bundle::write(dir, &min_case, &expected)?;
    Ok(m)
}

/// A schedule under which `block` shows a divergence of `kind` (the recorded choices first,
/// then seeded ones), shrunk.
fn reschedule(
    candidate: &Arc<dyn Executor>,
    block: &Arc<BlockInput>,
    expected: &BlockOutput,
    recorded: &Schedule,
    runs: usize,
    kind: &str,
) -> Option<(Divergence, Schedule)> {
    let workers = recorded.workers.max(1);
    let run = |strategy| {
        schedule::diverges_under(candidate, block, expected, workers, strategy, STEP_BUDGET, CONTROLLED_TIMEOUT)
    };
    let (d, sched) = (0..runs.max(1)).find_map(|r| {
        let (d, sched) = run(schedule_for(r, &recorded.choices));
        d.filter(|d| d.kind() == kind).map(|d| (d, sched))
    })?;
    let fails =
        |choices: &[usize]| run(Strategy::Replay { choices: choices.to_vec() }).0.is_some_and(|d| d.kind() == kind);
    let (choices, _) = schedule::shrink(&sched, fails, 200);
    Some((d, Schedule { workers, choices, trace: Vec::new() }))
}

/// Minimizes each bundle of `bundles` with the bundled executors its case names
/// ([`crate::defaults::MINIMIZE_BUDGET`] and [`crate::defaults::MINIMIZE_RUNS`]), in order; one
/// result per bundle. A bundle naming an executor lockstep does not bundle is an
/// [`Error::Unknown`].
pub fn minimize_each(bundles: &[PathBuf]) -> Vec<(PathBuf, Result<Minimized>)> {
    bundles
        .iter()
        .map(|dir| {
            let result = bundle::read(dir).and_then(|case| {
                let reference = crate::jobs::executor(&case.reference.name)?;
                let candidate = crate::jobs::executor(&case.candidate.name)?;
                minimize_bundle(
                    dir,
                    reference,
                    candidate,
                    crate::defaults::MINIMIZE_BUDGET,
                    crate::defaults::MINIMIZE_RUNS,
                    true,
                )
            });
            (dir.clone(), result)
        })
        .collect()
}
