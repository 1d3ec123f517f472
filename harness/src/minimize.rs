//! Minimization of a diverging block: delta debugging (ddmin, Zeller and Hildebrandt 2002)
//! over the transaction list, then over pre-state accounts and storage slots, then shrinking
//! of each remaining transaction (calldata, gas limit, value, access list, authorization
//! list). The predicate is "the same kind of divergence still occurs" on the same executor
//! pair; a time budget bounds the whole, and the result is re-checked several times to report
//! how often it diverges (a flaky case must not shrink into a false one).

use crate::diff::{self, Divergence};
use crate::guard;
use crate::progress::Progress;
use lockstep_executors::{BlockInput, Executor, RunControl, Tx};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// "Does this block still diverge the same way?"
pub struct Predicate {
    pub reference: Arc<dyn Executor>,
    pub candidate: Arc<dyn Executor>,
    pub threads: usize,
    /// The divergence kind to keep (`Divergence::kind`).
    pub kind: String,
    /// Candidate runs per evaluation; any one diverging the same way counts.
    pub runs: usize,
    pub timeout: Duration,
    /// Custom candidate runner (controlled schedules); `None`: plain runs with `threads`.
    pub runner: Option<Box<dyn Fn(&Arc<BlockInput>, usize) -> Option<Divergence> + Send + Sync>>,
}

impl Predicate {
    /// The divergence a candidate run shows on `block`, if any (reference failures: none).
    pub fn diverges(&self, block: &Arc<BlockInput>, run: usize) -> Option<Divergence> {
        if let Some(r) = &self.runner {
            return r(block, run);
        }
        let expected = guard::run_caught(self.reference.as_ref(), block, &RunControl::with_threads(1)).ok()?;
        let (got, _) = guard::run_with_timeout(
            self.candidate.clone(),
            block.clone(),
            RunControl::with_threads(self.threads),
            self.timeout,
        );
        match got {
            Ok(out) => diff::compare(&expected, &out),
            Err(d) => Some(d),
        }
    }

    pub fn holds(&self, block: &BlockInput) -> bool {
        // The reference must accept the block as a block (no executor error).
        if guard::run_caught(self.reference.as_ref(), block, &RunControl::with_threads(1)).is_err() {
            return false;
        }
        let block = Arc::new(block.clone());
        (0..self.runs.max(1)).any(|r| self.diverges(&block, r).is_some_and(|d| d.kind() == self.kind))
    }
}

/// What minimization did.
#[derive(Clone, Debug)]
pub struct Minimized {
    pub block: BlockInput,
    pub evaluations: u64,
    pub elapsed: Duration,
    /// Whether the time budget ran out before every step finished.
    pub budget_exhausted: bool,
    /// Of `recheck_runs` fresh runs of the result, how many diverged the same way.
    pub recheck_hits: usize,
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

/// Minimizes the case of a bundle directory in place: the original case is kept as
/// `original-case.json`, the bundle's files are rewritten for the minimized block.
pub fn minimize_bundle(
    dir: &std::path::Path,
    reference: Arc<dyn Executor>,
    candidate: Arc<dyn Executor>,
    budget: Duration,
    runs: usize,
    progress: bool,
) -> Result<Minimized, String> {
    let case = crate::bundle::read(dir)?;
    let mut pred = Predicate {
        reference: reference.clone(),
        candidate: candidate.clone(),
        threads: case.threads,
        kind: case.kind.clone(),
        runs,
        timeout: Duration::from_secs(20),
        runner: None,
    };
    if let Some(schedule) = &case.schedule {
        // The recorded schedule first, then seeded ones: a smaller block has other steps.
        let recorded = schedule.choices.clone();
        let workers = schedule.workers.max(1);
        let (r, c) = (reference.clone(), candidate.clone());
        pred.runner = Some(Box::new(move |b: &Arc<BlockInput>, run: usize| {
            let expected = guard::run_caught(r.as_ref(), b, &RunControl::with_threads(1)).ok()?;
            let strategy = if run == 0 {
                crate::schedule::Strategy::Replay { choices: recorded.clone() }
            } else {
                crate::schedule::Strategy::Random { seed: run as u64 }
            };
            let (out, _) = crate::explore::run_controlled(&c, b, workers, strategy, 50_000, Duration::from_secs(20));
            match out {
                Ok(o) => diff::compare(&expected, &o),
                Err(d) => Some(d),
            }
        }));
        pred.runs = runs.max(20);
    }
    if !pred.holds(&case.block) {
        return Err(format!(
            "{}: the divergence ({}) does not reproduce; nothing to minimize",
            dir.display(),
            case.kind
        ));
    }
    let m = minimize(&case.block, &pred, budget, progress);
    let block = Arc::new(m.block.clone());
    let expected =
        guard::run_caught(reference.as_ref(), &block, &RunControl::with_threads(1)).map_err(|d| d.to_string())?;
    let mut schedule = case.schedule.clone();
    let divergence = match &case.schedule {
        // Record the schedule that shows it on the minimized block, then shrink that.
        Some(recorded) => {
            let workers = recorded.workers.max(1);
            let found = (0..pred.runs.max(1)).find_map(|run| {
                let strategy = if run == 0 {
                    crate::schedule::Strategy::Replay { choices: recorded.choices.clone() }
                } else {
                    crate::schedule::Strategy::Random { seed: run as u64 }
                };
                let (out, sched) = crate::explore::run_controlled(
                    &candidate,
                    &block,
                    workers,
                    strategy,
                    50_000,
                    Duration::from_secs(20),
                );
                let d = match out {
                    Ok(o) => diff::compare(&expected, &o),
                    Err(d) => Some(d),
                };
                d.filter(|d| d.kind() == case.kind).map(|d| (d, sched))
            });
            match found {
                Some((d, sched)) => {
                    let fails = |choices: &[usize]| {
                        let strategy = crate::schedule::Strategy::Replay { choices: choices.to_vec() };
                        let (out, _) = crate::explore::run_controlled(
                            &candidate,
                            &block,
                            workers,
                            strategy,
                            50_000,
                            Duration::from_secs(20),
                        );
                        let d = match out {
                            Ok(o) => diff::compare(&expected, &o),
                            Err(d) => Some(d),
                        };
                        d.is_some_and(|d| d.kind() == case.kind)
                    };
                    let (choices, _) = crate::schedule::shrink(&sched, fails, 200);
                    schedule = Some(crate::schedule::Schedule { workers, choices, trace: Vec::new() });
                    d
                }
                None => case.divergence.clone(),
            }
        }
        None => (0..pred.runs.max(1))
            .find_map(|r| pred.diverges(&block, r).filter(|d| d.kind() == case.kind))
            .unwrap_or_else(|| case.divergence.clone()),
    };
    let original = serde_json::to_string_pretty(&case).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("original-case.json"), original).map_err(|e| e.to_string())?;
    let min_case = crate::bundle::Case {
        block: m.block.clone(),
        divergence,
        divergence_rate: Some((m.recheck_hits, m.recheck_runs)),
        schedule,
        ..case
    };
    crate::bundle::write(dir, &min_case, &expected).map_err(|e| e.to_string())?;
    Ok(m)
}
