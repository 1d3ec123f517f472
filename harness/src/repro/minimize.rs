//! Minimization of a diverging block: delta debugging (ddmin, Zeller and Hildebrandt 2002)
//! over the transaction list, then over pre-state accounts and storage slots, then shrinking
//! of each remaining transaction (calldata, gas limit, value, access list, authorization
//! list), and merging of senders. The predicate keeps the divergence's identity: the same kind
//! and first differing field on the same executor pair, and no transaction rejected by the
//! reference that it accepted in the original block (removing a transaction re-chains its
//! sender's nonces, so no gap opens). A time budget bounds the whole, each try included: a
//! try's deadline derives from the reference's time on the block, so a livelock costs little
//! per try. The result is re-checked the way `replay` runs it, to report how often it diverges
//! (a flaky case must not shrink into a false one).

use super::bundle;
use crate::check::{self, Divergence, isolate};
use crate::defaults::{CONTROLLED_TIMEOUT, STEP_BUDGET};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::schedule::{self, Schedule, Strategy};
use alloy_primitives::Address;
use lockstep_executors::{BlockInput, BlockOutput, Executor, RunControl, Tx};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A custom candidate run: the divergence run number `usize` shows on the block, if any,
/// within the given wall time.
pub type Runner = Box<dyn Fn(&Arc<BlockInput>, usize, Duration) -> Option<Divergence> + Send + Sync>;

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
    /// The transactions, by their index in the block minimization starts from, that the
    /// reference may reject; `None`: any. A smaller block in which the reference rejects
    /// another one is a different block, not a smaller repro.
    pub rejected: Option<Vec<usize>>,
}

impl Predicate {
    /// The divergence a candidate run shows on `block`, if any (reference failures: none).
    pub fn diverges(&self, block: &Arc<BlockInput>, run: usize) -> Option<Divergence> {
        let expected = check::reference_output(self.reference.as_ref(), block).ok()?;
        self.diverges_within(block, &expected, run, self.timeout)
    }

    /// Run `run` on `block` against the reference's `expected`, within `limit` (and the
    /// predicate's own timeout).
    fn diverges_within(
        &self,
        block: &Arc<BlockInput>,
        expected: &BlockOutput,
        run: usize,
        limit: Duration,
    ) -> Option<Divergence> {
        let timeout = self.timeout.min(limit).max(Duration::from_millis(1));
        if let Some(r) = &self.runner {
            return r(block, run, timeout);
        }
        let (got, _) = isolate::run_with_timeout(
            self.candidate.clone(),
            block.clone(),
            RunControl::with_threads(self.threads),
            timeout,
        );
        check::judge(expected, got, self.reference.capabilities().common(self.candidate.capabilities()))
    }

    /// Whether the reference runs `block` and one of `runs` candidate runs (at least one)
    /// diverges with the same [`kind`](Predicate::kind); the block's transactions are those
    /// of the original block at the same positions.
    pub fn holds(&self, block: &BlockInput) -> bool {
        let origin: Vec<usize> = (0..block.txs.len()).collect();
        self.holds_within(block, &origin, Duration::MAX)
    }

    /// [`holds`](Predicate::holds) for a block whose transaction `i` is the original block's
    /// `origin[i]`, each candidate run within `limit`.
    fn holds_within(&self, block: &BlockInput, origin: &[usize], limit: Duration) -> bool {
        // The reference must accept the block as a block (no executor error).
        let Ok(expected) = check::reference_output(self.reference.as_ref(), block) else {
            return false;
        };
        if let Some(allowed) = &self.rejected {
            let rejects_another = expected.outcomes.iter().enumerate().any(|(i, o)| {
                matches!(o, lockstep_executors::TxOutcome::Rejected { .. })
                    && origin.get(i).is_none_or(|o| !allowed.contains(o))
            });
            if rejects_another {
                return false;
            }
        }
        let block = Arc::new(block.clone());
        let start = Instant::now();
        (0..self.runs.max(1)).any(|r| {
            let left = limit.saturating_sub(start.elapsed());
            !left.is_zero() && self.diverges_within(&block, &expected, r, left).is_some_and(|d| d.kind() == self.kind)
        })
    }
}

/// The per-try deadline of a minimization: generous next to the reference's time on the
/// block (a parallel run may re-execute every transaction several times), short next to a
/// fixed timeout, so that a livelocking candidate costs a fraction of a second per try.
pub fn per_try_timeout(reference_time: Duration, run_timeout: Duration) -> Duration {
    (reference_time * 50 + Duration::from_millis(200)).min(run_timeout)
}

/// The indexes of the transactions the reference rejected.
fn rejected(expected: &BlockOutput) -> Vec<usize> {
    let rejected = |(i, o): (usize, &lockstep_executors::TxOutcome)| {
        matches!(o, lockstep_executors::TxOutcome::Rejected { .. }).then_some(i)
    };
    expected.outcomes.iter().enumerate().filter_map(rejected).collect()
}

/// The transactions of `base` at `keep` (ascending indexes), each sender's re-chained: its
/// `k`-th remaining transaction gets the nonce its `k`-th had, so that removing one opens no
/// nonce gap.
pub fn subset(base: &BlockInput, keep: &[usize]) -> BlockInput {
    let mut nonces: std::collections::HashMap<Address, Vec<u64>> = std::collections::HashMap::new();
    for t in &base.txs {
        nonces.entry(t.sender).or_default().push(t.nonce);
    }
    let mut used: std::collections::HashMap<Address, usize> = std::collections::HashMap::new();
    let txs = keep
        .iter()
        .map(|&i| {
            let mut t = base.txs[i].clone();
            let k = used.entry(t.sender).or_default();
            t.nonce = nonces[&t.sender][*k];
            *k += 1;
            t
        })
        .collect();
    BlockInput { txs, ..base.clone() }
}

/// `block` with every transaction of `from` sent and signed by `into` instead, `into`'s
/// transactions re-chained from its first nonce; `None` when `into` has no key to sign with
/// (a transaction that came with its signature only).
fn merge_sender(block: &BlockInput, from: Address, into: Address) -> Option<BlockInput> {
    let mut b = block.clone();
    let key = b.txs.iter().find(|t| t.sender == into).and_then(|t| t.secret_key)?;
    let first = b.txs.iter().filter(|t| t.sender == into).map(|t| t.nonce).min().unwrap_or(0);
    let mut next = first;
    for t in b.txs.iter_mut().filter(|t| t.sender == from || t.sender == into) {
        (t.sender, t.secret_key, t.signature, t.nonce) = (into, Some(key), None, next);
        next += 1;
    }
    Some(b)
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
    /// Runs of the re-check: 10, or fewer when the budget ran out; the minimized bundle's
    /// schedule replayed, or plain runs.
    pub recheck_runs: usize,
    /// The result never diverged in its re-check, so [`minimize_bundle`] left the bundle as
    /// it was.
    pub kept_original: bool,
}

struct Search<'p> {
    pred: &'p Predicate,
    /// Which original transaction each transaction of the blocks tested is.
    origin: Vec<usize>,
    deadline: Instant,
    evaluations: u64,
    exhausted: bool,
    progress: Progress,
}

impl Search<'_> {
    fn test(&mut self, block: &BlockInput) -> bool {
        let origin = self.origin.clone();
        self.test_as(block, &origin)
    }

    /// `test` of a block whose transactions are the original ones at `origin`.
    fn test_as(&mut self, block: &BlockInput, origin: &[usize]) -> bool {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            self.exhausted = true;
            return false;
        }
        self.evaluations += 1;
        self.progress.set_message(format!("{} evaluations, {} txs", self.evaluations, block.txs.len()));
        self.pred.holds_within(block, origin, left)
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
    // The last fifth of the budget is the re-check's.
    let mut m = search(block, pred, start + budget.mul_f64(0.8), progress);
    let b = Arc::new(m.block.clone());
    if let Ok(expected) = check::reference_output(pred.reference.as_ref(), &b) {
        m.recheck_hits = (0..m.recheck_runs)
            .filter(|r| {
                let limit = (start + budget).saturating_duration_since(Instant::now());
                pred.diverges_within(&b, &expected, *r, limit).is_some_and(|d| d.kind() == pred.kind)
            })
            .count();
    }
    m.elapsed = start.elapsed();
    m
}

/// The search of [`minimize`], until `deadline`; nothing re-checked yet.
fn search(block: &BlockInput, pred: &Predicate, deadline: Instant, progress: bool) -> Minimized {
    let start = Instant::now();
    let mut s = Search {
        pred,
        origin: (0..block.txs.len()).collect(),
        deadline,
        evaluations: 0,
        exhausted: false,
        progress: Progress::new(progress, 0, "evaluations"),
    };
    let mut best = block.clone();

    // 1. Transactions, each sender's re-chained.
    let base = best.clone();
    let keep = ddmin((0..base.txs.len()).collect(), |keep| s.test_as(&subset(&base, keep), keep));
    best = subset(&base, &keep);
    s.origin = keep;

    // 2. Senders: each later one's transactions sent by an earlier one instead.
    let mut senders: Vec<Address> = Vec::new();
    for t in &best.txs {
        if !senders.contains(&t.sender) {
            senders.push(t.sender);
        }
    }
    for (j, from) in senders.iter().enumerate().skip(1) {
        for into in &senders[..j] {
            if let Some(merged) = merge_sender(&best, *from, *into)
                && s.test(&merged)
            {
                best = merged;
                break;
            }
        }
    }

    // 3. Pre-state accounts, then each account's storage slots.
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

    // 4. Each transaction's fields.
    for i in 0..best.txs.len() {
        shrink_tx(&mut best, i, &mut s);
    }

    s.progress.finish();
    Minimized {
        block: best,
        original_txs: block.txs.len(),
        evaluations: s.evaluations,
        elapsed: start.elapsed(),
        budget_exhausted: s.exhausted,
        recheck_hits: 0,
        recheck_runs: 10,
        kept_original: false,
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
    fn a_subset_re_chains_each_senders_nonces() {
        use crate::workload::{Family, Workload};
        use alloy_primitives::Address;
        let (a, b) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let mut block = Workload::new(Family::RawTransfers, 5).generate(1).block;
        for (t, (sender, nonce)) in block.txs.iter_mut().zip([(a, 5), (b, 0), (a, 6), (a, 7), (b, 1)]) {
            (t.sender, t.nonce) = (sender, nonce);
        }
        let kept = super::subset(&block, &[2, 3, 4]);
        let got: Vec<(Address, u64)> = kept.txs.iter().map(|t| (t.sender, t.nonce)).collect();
        assert_eq!(got, vec![(a, 5), (a, 6), (b, 0)]);
        let merged = super::merge_sender(&block, b, a).expect("generated senders have keys");
        assert!(merged.txs.iter().all(|t| t.sender == a));
        assert_eq!(merged.txs.iter().map(|t| t.nonce).collect::<Vec<_>>(), vec![5, 6, 7, 8, 9]);
    }

    #[test]
    fn runs_and_deadlines_follow_what_was_measured() {
        use std::time::Duration;
        assert_eq!(super::runs_for(1.0), 1);
        assert_eq!(super::runs_for(0.5), 5);
        assert_eq!(super::runs_for(0.1), 29);
        assert_eq!(super::runs_for(0.01), 30);
        let cap = Duration::from_secs(20);
        assert_eq!(super::per_try_timeout(Duration::from_millis(2), cap), Duration::from_millis(300));
        assert_eq!(super::per_try_timeout(Duration::from_secs(1), cap), cap);
    }

    #[test]
    fn ddmin_keeps_a_single_needed_item() {
        assert_eq!(ddmin((0..50).collect::<Vec<u8>>(), |s| s.contains(&7)), vec![7]);
    }
}

/// The schedule of run `run` of a minimization step under controlled schedules: the recorded
/// choices first, then seeded high-first, PCT and random ones in turn (a smaller block takes
/// other steps).
fn schedule_for(run: usize, recorded: &[usize], txs: usize) -> Strategy {
    let seed = run as u64;
    match run % 3 {
        _ if run == 0 => Strategy::Replay { choices: recorded.to_vec() },
        1 => Strategy::HighFirst { seed },
        2 => schedule::StrategyKind::Pct.strategy(seed, txs),
        _ => Strategy::Random { seed },
    }
}

/// Minimizes the case of a bundle directory in place within `budget` (a hard limit, the
/// re-check included). Without a recorded schedule each step tries K plain runs, K chosen from
/// the rate measured on the original block so that a divergence still there shows with 95 %
/// odds (at least `runs`); with one, the recorded choices and then seeded schedules. Each try
/// is limited by [`per_try_timeout`]. The original case is kept as `original-case.json`, and
/// the bundle's files are rewritten for the minimized block (keys, seed and executors kept),
/// with the rate measured as `replay` runs it: under the bundle's schedule (re-found and shrunk
/// on the minimized block), else plain runs. A result that never diverges in that re-check is
/// not written: the bundle stays as it was, and the result says so.
///
/// Errors: the bundle's read and write errors; [`Error::NotReproduced`] when the recorded
/// divergence does not show on the original block; [`Error::Reference`] when the reference
/// cannot run the block.
pub fn minimize_bundle(
    dir: &Path,
    reference: Arc<dyn Executor>,
    candidate: Arc<dyn Executor>,
    budget: Duration,
    runs: usize,
    progress: bool,
) -> Result<Minimized> {
    let start = Instant::now();
    let original = bundle::read(dir)?;
    let (mut m, mut best) = minimize_round(dir, original.clone(), &reference, &candidate, budget, runs, progress)?;
    // A schedule found again on the smaller block often lets another round shrink it further.
    while let Some((case, _)) = &best
        && case.schedule.is_some()
        && start.elapsed() < budget.mul_f64(0.8)
    {
        let left = budget.saturating_sub(start.elapsed());
        let before = case.block.txs.len();
        match minimize_round(dir, case.clone(), &reference, &candidate, left, runs, progress) {
            Ok((next, Some(smaller))) if smaller.0.block.txs.len() < before => {
                m = Minimized { evaluations: m.evaluations + next.evaluations, original_txs: m.original_txs, ..next };
                best = Some(smaller);
            }
            _ => break,
        }
    }
    m.elapsed = start.elapsed();
    let Some((case, expected)) = best else { return Ok(m) };
    bundle::write_json(&dir.join("original-case.json"), &original)?;
    bundle::write(dir, &case, &expected)?;
    Ok(m)
}

/// One round of [`minimize_bundle`] on `case`: the minimized case and the reference's output
/// on its block, or `None` (with `kept_original` set) when the result never diverged in its
/// re-check.
fn minimize_round(
    dir: &Path,
    case: bundle::Case,
    reference: &Arc<dyn Executor>,
    candidate: &Arc<dyn Executor>,
    budget: Duration,
    runs: usize,
    progress: bool,
) -> Result<(Minimized, Option<(bundle::Case, BlockOutput)>)> {
    let (reference, candidate) = (reference.clone(), candidate.clone());
    let start = Instant::now();
    let deadline = start + budget;
    let original = Arc::new(case.block.clone());
    let t0 = Instant::now();
    let expected = check::reference_output(reference.as_ref(), &original)?;
    let per_try = per_try_timeout(t0.elapsed(), CONTROLLED_TIMEOUT);
    let mut pred = Predicate {
        reference: reference.clone(),
        candidate: candidate.clone(),
        threads: case.threads,
        kind: case.kind.clone(),
        runs,
        timeout: per_try,
        runner: None,
        rejected: Some(rejected(&expected)),
    };
    if let Some(schedule) = &case.schedule {
        let recorded = schedule.choices.clone();
        let workers = schedule.workers.max(1);
        let c = candidate.clone();
        let r = reference.clone();
        pred.runner = Some(Box::new(move |b: &Arc<BlockInput>, run: usize, timeout: Duration| {
            let expected = check::reference_output(r.as_ref(), b).ok()?;
            let strategy = schedule_for(run, &recorded, b.txs.len());
            schedule::diverges_under(&c, b, &expected, workers, strategy, STEP_BUDGET, timeout).0
        }));
        pred.runs = runs.max(20);
        let left = deadline.saturating_duration_since(Instant::now());
        if !pred.holds_within(&case.block, &(0..case.block.txs.len()).collect::<Vec<_>>(), left) {
            return Err(Error::NotReproduced { path: dir.to_path_buf(), kind: case.kind });
        }
    } else {
        // The measured hits already show the divergence on the original block.
        // The rate on the original block decides how many runs a step needs.
        let measure = 10;
        let hits = (0..measure)
            .take_while(|_| Instant::now() < deadline)
            .filter(|r| {
                let left = deadline.saturating_duration_since(Instant::now());
                pred.diverges_within(&original, &expected, *r, left).is_some_and(|d| d.kind() == case.kind)
            })
            .count();
        if hits == 0 {
            return Err(Error::NotReproduced { path: dir.to_path_buf(), kind: case.kind });
        }
        pred.runs = runs.max(runs_for(hits as f64 / measure as f64));
    }
    // The search gets 70 % of the budget; finding the schedule again and the re-check the rest.
    let mut m = search(&case.block, &pred, start + budget.mul_f64(0.7), progress);
    let block = Arc::new(m.block.clone());
    let expected = check::reference_output(reference.as_ref(), &block)?;
    let (divergence, schedule) = match &case.schedule {
        Some(recorded) => {
            let until = start + budget.mul_f64(0.85);
            match reschedule(&candidate, &block, &expected, recorded, pred.runs, &case.kind, until) {
                Some((d, s)) => (d, Some(s)),
                None => (case.divergence.clone(), case.schedule.clone()),
            }
        }
        None => {
            let until = start + budget.mul_f64(0.85);
            let d = (0..pred.runs.max(1))
                .take_while(|r| *r == 0 || Instant::now() < until)
                .find_map(|r| pred.diverges_within(&block, &expected, r, per_try).filter(|d| d.kind() == case.kind))
                .unwrap_or_else(|| case.divergence.clone());
            (d, None)
        }
    };
    // The rate as `replay` measures it, the schedule written or plain runs, within the budget
    // (at least one run).
    let mut runs = 0;
    m.recheck_hits = 0;
    while runs < m.recheck_runs && (runs == 0 || Instant::now() < deadline) {
        let limit = deadline.saturating_duration_since(Instant::now()).clamp(Duration::from_millis(50), per_try);
        let d = match &schedule {
            Some(s) => {
                let strategy = Strategy::Replay { choices: s.choices.clone() };
                schedule::diverges_under(&candidate, &block, &expected, s.workers.max(1), strategy, STEP_BUDGET, limit)
                    .0
            }
            None => pred.diverges_within(&block, &expected, runs, limit),
        };
        m.recheck_hits += usize::from(d.is_some_and(|d| d.kind() == case.kind));
        runs += 1;
    }
    m.recheck_runs = runs;
    m.elapsed = start.elapsed();
    if m.recheck_hits == 0 {
        m.kept_original = true;
        return Ok((m, None));
    }
    let min_case = bundle::Case {
        block: m.block.clone(),
        divergence,
        divergence_rate: Some((m.recheck_hits, m.recheck_runs)),
        schedule,
        ..case
    };
    Ok((m, Some((min_case, expected))))
}

/// Runs a step needs to see a divergence of rate `rate` with 95 % odds: the least `k` with
/// `(1 - rate)^k <= 0.05`, at most 30.
fn runs_for(rate: f64) -> usize {
    if rate >= 1.0 {
        return 1;
    }
    ((0.05f64.ln() / (1.0 - rate).ln()).ceil() as usize).clamp(1, 30)
}

/// A schedule under which `block` shows a divergence of `kind` (the recorded choices first,
/// then seeded ones), shrunk; each run stops at `until` at the latest.
fn reschedule(
    candidate: &Arc<dyn Executor>,
    block: &Arc<BlockInput>,
    expected: &BlockOutput,
    recorded: &Schedule,
    runs: usize,
    kind: &str,
    until: Instant,
) -> Option<(Divergence, Schedule)> {
    let workers = recorded.workers.max(1);
    let run = |strategy| {
        let left = until.saturating_duration_since(Instant::now()).min(CONTROLLED_TIMEOUT);
        if left.is_zero() {
            return (None, Schedule::default());
        }
        schedule::diverges_under(candidate, block, expected, workers, strategy, STEP_BUDGET, left)
    };
    let (d, sched) = (0..runs.max(1)).find_map(|r| {
        let (d, sched) = run(schedule_for(r, &recorded.choices, block.txs.len()));
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
