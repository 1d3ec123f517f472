//! `lockstep hunt`: the proof of power. Every seeded Block-STM bug runs against every search
//! strategy, each within the same time budget, on blocks of the hazard families taken in
//! turn; the unmutated build runs under the same budget as the control. For each bug: which
//! strategies caught it and how fast, the minimized repro's size and how often `replay`
//! reproduces it.

use crate::check::{self, Divergence, isolate};
use crate::defaults::STEP_BUDGET;
use crate::jobs::run::HOT_RATIOS;
use crate::repro::{Controlled, Found, bundle, capture_bundle, minimize_bundle, replay::replay_block, write_found};
use crate::schedule::{DelayHook, Strategy, StrategyKind, diverges_under};
use crate::workload::{Family, Generated, Workload, block_seed};
use lockstep_executors::hook::ScheduleHook;
use lockstep_executors::{BlockOutput, Executor, RunControl};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a hunt looks for a divergence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum HuntStrategy {
    /// Real threads, 2, 4 and 8 workers.
    Threads,
    /// Real threads with seeded random delays at the executor's hook points (`stress`).
    Delays,
    /// Controlled PCT schedules (`explore --strategy pct`), 2 and 3 workers.
    Pct,
    /// Controlled schedules that start the highest transactions first and hold the lowest
    /// back, so that readers run before their writers finish.
    HighFirst,
}

impl HuntStrategy {
    /// Every strategy, in the order a hunt runs them.
    pub const ALL: [HuntStrategy; 4] =
        [HuntStrategy::Threads, HuntStrategy::Delays, HuntStrategy::Pct, HuntStrategy::HighFirst];

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            HuntStrategy::Threads => "threads",
            HuntStrategy::Delays => "delays",
            HuntStrategy::Pct => "pct",
            HuntStrategy::HighFirst => "high-first",
        }
    }
}

/// What `lockstep hunt` runs.
pub struct HuntOptions {
    /// The executors hunted: seeded-bug builds, and the unmutated one as the control.
    pub candidates: Vec<Arc<dyn Executor>>,
    /// The executor every result is compared with.
    pub reference: Arc<dyn Executor>,
    /// Strategies run against each candidate, each with the whole `budget`.
    pub strategies: Vec<HuntStrategy>,
    /// Block `n` of every search comes from [`block_seed`]`(seed, n)`.
    pub seed: u64,
    /// Wall time each strategy has to find a divergence in one candidate.
    pub budget: Duration,
    /// Transactions a block.
    pub txs: usize,
    /// Wall time to minimize each bug's first divergence (a hard limit).
    pub minimize_budget: Duration,
    /// Replays of each minimized bundle that measure its rate.
    pub replays: usize,
    /// Per candidate run; past it the run is a hang.
    pub timeout: Duration,
    /// Where bundles go (`DIR/EXECUTOR/...`); `None`: nothing is written or minimized.
    pub out_dir: Option<PathBuf>,
}

/// One strategy against one candidate.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// The strategy's name.
    pub strategy: String,
    /// Blocks tried.
    pub blocks: u64,
    /// Candidate runs (or controlled schedules) tried.
    pub runs: u64,
    /// Seconds to the first divergence; `None` when the budget ran out first.
    pub seconds: Option<f64>,
    /// The first divergence, displayed.
    pub divergence: Option<String>,
    /// Its kind (`state`, `outcome`, `hang`, ...).
    pub kind: Option<String>,
}

/// What a hunt found for one candidate.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HuntRow {
    /// The candidate's name.
    pub executor: String,
    /// The `known-bugs.md` class its seeded bug re-creates; `None` for the control.
    pub class: Option<u8>,
    /// One attempt per strategy, in the order run.
    pub attempts: Vec<Attempt>,
    /// The strategy whose find was kept and minimized: the fastest.
    pub kept: Option<String>,
    /// The bundle of the kept divergence, minimized in place.
    pub bundle: Option<PathBuf>,
    /// Transactions before and after minimization.
    pub txs: Option<(usize, usize)>,
    /// Whether the divergence was found on real threads and then captured under a controlled
    /// schedule (which the bundle holds).
    pub captured: bool,
    /// For a divergence found on real threads: of plain real-thread runs of its block, how
    /// many diverged (what replaying it without a captured schedule would give).
    pub real_thread_rate: Option<(usize, usize)>,
    /// Of `replays` replays of the minimized bundle, how many diverged the same way.
    pub replayed: Option<(usize, usize)>,
    /// Why the kept divergence could not be minimized or replayed.
    pub note: Option<String>,
}

impl HuntRow {
    /// Whether any strategy caught a divergence.
    pub fn caught(&self) -> bool {
        self.attempts.iter().any(|a| a.seconds.is_some())
    }

    /// The fastest catch: strategy and seconds.
    pub fn first(&self) -> Option<(&str, f64)> {
        self.attempts
            .iter()
            .filter_map(|a| a.seconds.map(|s| (a.strategy.as_str(), s)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// The workloads a search takes in turn: every hazard family at one hot ratio, then at the
/// next, so that no family waits for the others' whole budget.
pub fn workloads(txs: usize) -> Vec<Workload> {
    let mut families = Family::HAZARDS.to_vec();
    families.push(Family::Mix);
    HOT_RATIOS
        .iter()
        .flat_map(|&hot| {
            families.iter().map(move |&f| Workload::new(f, txs).with_accounts((txs * 3 / 4).max(1)).with_hot_ratio(hot))
        })
        .collect()
}

/// A divergence a search found, with the block it was found on.
struct Hit {
    found: Found,
    generated: Generated,
    expected: BlockOutput,
}

/// Runs the hunt: every strategy against every candidate; then each caught bug's kept
/// divergence is written, captured under a schedule when found on real threads, minimized and
/// replayed.
pub fn run(opts: &HuntOptions) -> Vec<HuntRow> {
    let mut rows = Vec::new();
    for candidate in &opts.candidates {
        let mut row = HuntRow {
            executor: candidate.name().to_string(),
            class: lockstep_executors::block_stm::Mutant::from_executor(candidate.name()).map(|m| m.class()),
            ..Default::default()
        };
        let mut hits = Vec::new();
        for &strategy in &opts.strategies {
            if crate::interrupt::requested() {
                break;
            }
            let (attempt, hit) = search(opts, candidate, strategy);
            row.attempts.push(attempt);
            if let Some(hit) = hit {
                hits.push((strategy, hit));
            }
        }
        // The fastest find; one on real threads is captured under a schedule before it is kept.
        let seconds = |a: &Attempt| a.seconds.unwrap_or(f64::MAX);
        let kept = hits.iter().enumerate().min_by(|(_, (a, _)), (_, (b, _))| {
            let at = |s: &HuntStrategy| row.attempts.iter().find(|x| x.strategy == s.name()).map_or(f64::MAX, seconds);
            at(a).total_cmp(&at(b))
        });
        if let (Some((k, _)), Some(dir)) = (kept, &opts.out_dir) {
            let (strategy, hit) = hits.swap_remove(k);
            row.kept = Some(strategy.name().to_string());
            keep(opts, candidate, hit, &dir.join(candidate.name()), &mut row);
        }
        rows.push(row);
    }
    rows
}

/// One strategy against `candidate` until its first divergence or the budget.
fn search(opts: &HuntOptions, candidate: &Arc<dyn Executor>, strategy: HuntStrategy) -> (Attempt, Option<Hit>) {
    let start = Instant::now();
    let workloads = workloads(opts.txs);
    let mut attempt = Attempt { strategy: strategy.name().to_string(), ..Default::default() };
    let caps = opts.reference.capabilities().common(candidate.capabilities());
    let mut n = 0u64;
    while start.elapsed() < opts.budget && !crate::interrupt::requested() {
        let w = &workloads[(n % workloads.len() as u64) as usize];
        let bseed = block_seed(opts.seed, n);
        n += 1;
        let Some((generated, block, expected)) = check::generated(w, bseed, opts.reference.as_ref()) else {
            continue;
        };
        attempt.blocks += 1;
        let tries: Vec<(usize, u64)> = match strategy {
            HuntStrategy::Threads => vec![(2, 0), (4, 0), (8, 0)],
            HuntStrategy::Delays => vec![(2, 0), (4, 1), (2, 2)],
            HuntStrategy::Pct | HuntStrategy::HighFirst => vec![(2, 0), (3, 1), (2, 2), (3, 3)],
        };
        for (threads, r) in tries {
            attempt.runs += 1;
            let rseed = block_seed(bseed, r);
            let (divergence, controlled) = match strategy {
                HuntStrategy::Threads | HuntStrategy::Delays => {
                    let hook = (strategy == HuntStrategy::Delays)
                        .then(|| Arc::new(DelayHook::new(rseed, threads, 0.2)) as Arc<dyn ScheduleHook>);
                    let run = RunControl { threads, hook, deadline: None };
                    let (got, _) = isolate::run_with_timeout(candidate.clone(), block.clone(), run, opts.timeout);
                    (check::judge(&expected, got, caps), None)
                }
                HuntStrategy::Pct | HuntStrategy::HighFirst => {
                    let s = match strategy {
                        HuntStrategy::Pct => StrategyKind::Pct.strategy(rseed, block.txs.len()),
                        _ => Strategy::HighFirst { seed: rseed },
                    };
                    let (d, schedule) =
                        diverges_under(candidate, &block, &expected, threads, s.clone(), STEP_BUDGET, opts.timeout);
                    (d, Some(Controlled { strategy: s, schedule, shrunk: None }))
                }
            };
            let Some(divergence) = divergence.filter(|d| !d.is_unsupported()) else {
                continue;
            };
            attempt.seconds = Some(start.elapsed().as_secs_f64());
            attempt.divergence = Some(divergence.to_string());
            attempt.kind = Some(divergence.kind());
            let found = Found {
                workload: w.clone(),
                block_seed: bseed,
                block_number: n - 1,
                reference: opts.reference.name().to_string(),
                candidate: candidate.name().to_string(),
                threads,
                divergence,
                controlled,
                bundle: None,
            };
            return (attempt, Some(Hit { found, generated, expected }));
        }
    }
    (attempt, None)
}

/// Writes the kept divergence's bundle, captures it under a schedule when it was found on real
/// threads (half the minimization budget), minimizes it within the budget and measures its
/// replay rate as `lockstep replay --repeat` does.
fn keep(opts: &HuntOptions, candidate: &Arc<dyn Executor>, hit: Hit, dir: &std::path::Path, row: &mut HuntRow) {
    let _ = std::fs::remove_dir_all(dir);
    let (r, c) = (opts.reference.as_ref(), candidate.as_ref());
    let bundle = match write_found(dir, 0, &hit.found, &hit.generated, r, c, &hit.expected) {
        Ok(p) => p,
        Err(e) => {
            row.note = Some(format!("bundle not written: {e}"));
            return;
        }
    };
    row.bundle = Some(bundle.clone());
    match capture_bundle(&bundle, opts.reference.as_ref(), candidate, opts.minimize_budget / 2, opts.timeout) {
        Ok(Some(note)) => {
            row.captured = note.captured;
            row.real_thread_rate = Some(note.real_thread_rate);
        }
        Ok(None) => {}
        Err(e) => row.note = Some(format!("not captured: {e}")),
    }
    let runs = if hit.found.controlled.is_some() || row.captured { 1 } else { 5 };
    match minimize_bundle(&bundle, opts.reference.clone(), candidate.clone(), opts.minimize_budget, runs, false) {
        Ok(m) => row.txs = Some((m.original_txs, m.block.txs.len())),
        Err(e) => row.note = Some(format!("not minimized: {e}")),
    }
    // As `lockstep replay --repeat N` runs it.
    let case = match bundle::read(&bundle) {
        Ok(c) => c,
        Err(e) => {
            row.note = Some(format!("bundle unreadable: {e}"));
            return;
        }
    };
    let block = Arc::new(case.block);
    let mut hits = 0;
    for run in 0..opts.replays {
        let (s, at) = (case.schedule.clone(), (case.threads, run as u64));
        match replay_block(block.clone(), s, at, candidate, opts.reference.as_ref(), STEP_BUDGET, opts.timeout) {
            Ok(replayed) => hits += usize::from(replayed.divergence.is_some_and(|d: Divergence| d.kind() == case.kind)),
            Err(e) => {
                row.note = Some(format!("replay failed: {e}"));
                break;
            }
        }
    }
    row.replayed = Some((hits, opts.replays));
}

/// One cell of a strategy column: seconds to the first divergence, `-` when not caught, `n/a`
/// when the strategy did not run.
fn cell(a: Option<&Attempt>) -> String {
    match a {
        None => "n/a".into(),
        Some(a) => a.seconds.map_or("-".into(), |s| format!("{s:.2} s")),
    }
}

/// The hunt as a text table: one row per candidate, a column per strategy.
pub fn table(rows: &[HuntRow]) -> String {
    use lockstep_reports::table::Table;
    let mut t = Table::new([
        "executor",
        "class",
        "threads",
        "delays",
        "pct",
        "high-first",
        "kept",
        "kind",
        "txs",
        "real threads",
        "replay",
    ]);
    for r in rows {
        let mut cells = vec![r.executor.clone(), r.class.map_or("control".into(), |c| format!("#{c}"))];
        cells.extend(HuntStrategy::ALL.iter().map(|s| cell(r.attempts.iter().find(|a| a.strategy == s.name()))));
        let kept = r.kept.as_ref().map(|k| if r.captured { format!("{k}, captured") } else { k.clone() });
        cells.push(kept.unwrap_or_else(|| "-".into()));
        cells.push(r.first_attempt().and_then(|a| a.kind.clone()).unwrap_or_else(|| "-".into()));
        cells.push(r.txs.map_or("-".into(), |(from, to)| format!("{from} -> {to}")));
        cells.push(r.real_thread_rate.map_or("-".into(), |(h, n)| format!("{h}/{n}")));
        cells.push(r.replayed.map_or("-".into(), |(h, n)| format!("{h}/{n}")));
        t.row(cells);
    }
    t.render()
}

impl HuntRow {
    /// The attempt that caught a divergence fastest.
    pub fn first_attempt(&self) -> Option<&Attempt> {
        let (strategy, _) = self.first()?;
        self.attempts.iter().find(|a| a.strategy == strategy)
    }

    /// The first divergence any strategy found, displayed.
    pub fn first_divergence(&self) -> Option<&str> {
        self.first_attempt()?.divergence.as_deref()
    }

    /// Whether the row is what a hunt expects: a seeded bug caught, the control clean.
    pub fn ok(&self) -> bool {
        self.caught() == self.class.is_some()
    }
}

/// The report of a hunt: one case per candidate (passed: a seeded bug caught or the control
/// clean; failed: a bug that escaped every strategy; diverged: the control diverged), and the
/// time each strategy took to its first divergence.
pub fn to_report(rows: &[HuntRow], meta: lockstep_reports::Meta) -> lockstep_reports::Report {
    use lockstep_reports::{CaseResult, Detection, Job, Report, Status};
    let reference = meta.executors.first().map(|e| e.name.clone()).unwrap_or_default();
    let mut r = Report::new(Job::Hunt, meta);
    for row in rows {
        let status = match (row.class.is_some(), row.caught()) {
            (true, true) | (false, false) => Status::Passed,
            (true, false) => Status::Failed,
            (false, true) => Status::Diverged,
        };
        let message = match row.first() {
            Some((strategy, s)) => {
                let replay = row.replayed.map(|(h, n)| format!(", replays {h}/{n}")).unwrap_or_default();
                let txs = row.txs.map(|(_, to)| format!(", minimized to {to} txs")).unwrap_or_default();
                format!("caught by {strategy} in {s:.2} s{txs}{replay}: {}", row.first_divergence().unwrap_or("-"))
            }
            None => "no divergence within the budget".into(),
        };
        let category = row.class.map_or("control".into(), |c| format!("known-bugs #{c}"));
        r.cases.push(CaseResult {
            id: row.executor.clone(),
            category,
            fork: "-".into(),
            executor: row.executor.clone(),
            status,
            message: Some(message),
            bundle: row.bundle.as_ref().map(|p| p.display().to_string()),
        });
        // A seeded bug's divergence is the expected outcome; the control's is a finding.
        if let Some(first) = row.first_attempt().filter(|_| row.class.is_none())
            && let Some(what) = &first.divergence
        {
            r.divergences.push(lockstep_reports::DivergenceRecord {
                case: row.executor.clone(),
                reference: reference.clone(),
                candidate: row.executor.clone(),
                threads: None,
                kind: first.kind.clone().unwrap_or_default(),
                what: what.clone(),
                bundle: row.bundle.as_ref().map(|p| p.display().to_string()),
                conflicts: None,
            });
        }
        for a in &row.attempts {
            r.measured.detections.push(Detection {
                target: format!("{} {}", row.executor, a.strategy),
                seconds: a.seconds,
                rate: if a.seconds.is_some() { 1.0 / a.runs.max(1) as f64 } else { 0.0 },
            });
        }
    }
    r.canonicalize();
    r
}
