//! `lockstep hunt`: seeded Block-STM bugs are caught, minimized to small repros that replay,
//! and the unmutated build shows nothing under the same strategies.

use lockstep_executors::block_stm::{Mutant, PlantedBug};
use lockstep_executors::{BlockStm, Executor, Sequential};
use lockstep_harness::jobs::hunt::{self, HuntOptions, HuntRow, HuntStrategy};
use lockstep_harness::repro::{bundle, minimize_bundle};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Hunts run one at a time: Block-STM's worker pool is shared by the process, and a
/// livelocking bug holds its workers until its deadline, which would slow the others' runs.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn mutant(m: Mutant) -> Arc<dyn Executor> {
    Arc::new(BlockStm::with_planted_bug(PlantedBug::planted(m)))
}

fn options(candidates: Vec<Arc<dyn Executor>>, strategies: Vec<HuntStrategy>, budget: u64) -> HuntOptions {
    HuntOptions {
        candidates,
        reference: Arc::new(Sequential),
        strategies,
        seed: 1,
        budget: Duration::from_secs(budget),
        txs: 8,
        minimize_budget: Duration::from_secs(20),
        replays: 10,
        timeout: Duration::from_secs(5),
        out_dir: None,
    }
}

fn caught_within(row: &HuntRow, limit: f64) {
    let (strategy, seconds) = row.first().unwrap_or_else(|| panic!("{} was not caught", row.executor));
    assert!(seconds < limit, "{} caught by {strategy} only after {seconds:.2} s", row.executor);
}

/// The bugs every recent hunt caught on real threads within a few hundredths of a second:
/// a detection regression shows as a miss within one second.
#[test]
fn the_fastest_seeded_bugs_are_caught_within_a_second_and_minimize_to_replaying_repros() {
    let _serial = serial();
    let out = tempfile::tempdir().unwrap();
    let fast = [Mutant::TouchedEmptyKept, Mutant::CodeNotRecorded, Mutant::NonceOnlyWriteDropped];
    let mut opts = options(fast.iter().map(|m| mutant(*m)).collect(), vec![HuntStrategy::Threads], 3);
    opts.out_dir = Some(out.path().to_path_buf());
    let rows = hunt::run(&opts);
    for row in &rows {
        caught_within(row, 1.0);
        assert_eq!(row.class, Mutant::from_executor(&row.executor).map(Mutant::class));
        let (from, to) = row.txs.unwrap_or_else(|| panic!("{} not minimized: {:?}", row.executor, row.note));
        assert!(to <= 4 && to < from, "{}: {from} -> {to} transactions", row.executor);
        assert_eq!(row.replayed, Some((10, 10)), "{}", row.executor);
        // The bundle holds the schedule it was captured under, and its block is the minimized one.
        let case = bundle::read(row.bundle.as_ref().unwrap()).unwrap();
        assert_eq!(case.block.txs.len(), to);
        assert_eq!(case.schedule.is_some(), row.captured, "{}", row.executor);
    }
    let table = hunt::table(&rows);
    assert!(table.contains("block-stm-code-not-recorded") && table.contains("#17"), "{table}");
}

#[test]
fn concurrency_bugs_are_caught_by_controlled_schedules() {
    let _serial = serial();
    let bugs = [
        Mutant::SkipValidation,
        Mutant::NoEstimates,
        Mutant::StaleWriteSet,
        Mutant::NonceGapLivelock,
        Mutant::DoneIgnoresActiveTasks,
    ];
    let rows = hunt::run(&options(bugs.iter().map(|m| mutant(*m)).collect(), vec![HuntStrategy::Pct], 10));
    for row in &rows {
        caught_within(row, 5.0);
    }
}

#[test]
fn the_unmutated_executor_shows_no_divergence_under_every_strategy() {
    let _serial = serial();
    let rows = hunt::run(&options(vec![Arc::new(BlockStm::default())], HuntStrategy::ALL.to_vec(), 3));
    let row = &rows[0];
    assert_eq!(row.class, None);
    assert!(!row.caught(), "{:?}", row.attempts);
    assert!(row.ok());
    for a in &row.attempts {
        assert!(a.runs > 0, "{} ran nothing", a.strategy);
    }
    let report = hunt::to_report(&rows, lockstep_harness::report::meta(&[], Some(1), &[]));
    assert_eq!(report.cases.len(), 1);
    assert!(!report.cases[0].status.is_problem());
}

/// A livelocking bug's minimization stops at its budget: each try's deadline comes from the
/// reference's time on the block, not from the 20 s timeout of a hang.
#[test]
fn a_livelock_is_minimized_within_its_budget() {
    let _serial = serial();
    let out = tempfile::tempdir().unwrap();
    let bug = mutant(Mutant::NonceGapLivelock);
    let mut opts = options(vec![bug.clone()], vec![HuntStrategy::Threads], 20);
    opts.timeout = Duration::from_secs(2);
    opts.out_dir = Some(out.path().to_path_buf());
    opts.minimize_budget = Duration::from_secs(1);
    let rows = hunt::run(&opts);
    let row = &rows[0];
    caught_within(row, 20.0);
    assert_eq!(row.first_attempt().and_then(|a| a.kind.as_deref()), Some("hang"));
    let dir = row.bundle.clone().unwrap();
    let budget = Duration::from_secs(6);
    let start = Instant::now();
    let result = minimize_bundle(&dir, Arc::new(Sequential), bug, budget, 1, false);
    let took = start.elapsed();
    assert!(took < budget + Duration::from_secs(1), "minimizing a livelock took {took:?} of a {budget:?} budget");
    let m = result.unwrap();
    assert!(m.block.txs.len() <= 4, "{} transactions", m.block.txs.len());
}
