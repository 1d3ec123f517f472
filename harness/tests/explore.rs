//! Controlled schedules: exact replay, teeth against planted concurrency bugs, shrinking.

use lockstep_executors::block_stm::{Mutant, PlantedBug};
use lockstep_executors::{BlockStm, Executor, Sequential};
use lockstep_harness::check as diff;
use lockstep_harness::jobs::explore::{ExploreOptions, run as explore};
use lockstep_harness::repro::replay_bundle;
use lockstep_harness::schedule::{Strategy, StrategyKind, run_controlled};
use lockstep_harness::workload::{Family, Workload};
use std::sync::Arc;
use std::time::Duration;

const BUDGET: u64 = 20_000;
const TIMEOUT: Duration = Duration::from_secs(20);

fn options(candidate: Arc<dyn Executor>, workloads: Vec<Workload>, schedules: u64) -> ExploreOptions {
    ExploreOptions {
        workloads,
        seed: 5,
        blocks: 2,
        schedules,
        strategy: StrategyKind::Random,
        threads: 2,
        reference: Arc::new(Sequential),
        candidate,
        step_budget: BUDGET,
        timeout: TIMEOUT,
        out_dir: None,
        shrink: false,
    }
}

#[test]
fn replay_gives_the_same_trace_and_result() {
    let block = Arc::new(Workload::new(Family::HotKey, 8).generate(1).block);
    let stm: Arc<dyn Executor> = Arc::new(BlockStm::default());
    for seed in 0..5 {
        let (first, schedule) = run_controlled(&stm, &block, 2, Strategy::Random { seed }, BUDGET, TIMEOUT);
        let first = first.unwrap();
        assert!(schedule.choices.len() > 10, "{schedule:?}");
        for _ in 0..3 {
            let (again, replayed) = run_controlled(
                &stm,
                &block,
                2,
                Strategy::Replay { choices: schedule.choices.clone() },
                BUDGET,
                TIMEOUT,
            );
            assert_eq!(replayed.trace, schedule.trace, "seed {seed}: the event trace differs on replay");
            assert_eq!(again.unwrap(), first, "seed {seed}: the output (stats too) differs on replay");
        }
    }
}

#[test]
fn different_seeds_explore_different_interleavings() {
    let block = Arc::new(Workload::new(Family::HotKey, 8).generate(1).block);
    let stm: Arc<dyn Executor> = Arc::new(BlockStm::default());
    let traces: std::collections::BTreeSet<_> = (0..8)
        .map(|seed| run_controlled(&stm, &block, 2, Strategy::Random { seed }, BUDGET, TIMEOUT).1.choices)
        .collect();
    assert!(traces.len() > 4, "{} distinct schedules of 8", traces.len());
}

#[test]
fn unmodified_block_stm_passes_every_schedule_on_hazards() {
    let workloads = vec![
        Workload::new(Family::HotKey, 8),
        Workload::new(Family::Branchy, 8),
        Workload::new(Family::Beneficiary, 8),
        Workload::new(Family::Phoenix, 8),
        Workload::new(Family::NonceGaps, 8),
    ];
    let r = explore(&options(Arc::new(BlockStm::default()), workloads, 12));
    assert!(r.found.is_empty(), "{:?}", r.found.first().map(|f| f.divergence.to_string()));
    assert_eq!(r.schedules, 5 * 2 * 12);
}

#[test]
fn explore_catches_planted_bugs_and_shrinks_the_schedule() {
    let dir = tempfile::tempdir().unwrap();
    for bug in [PlantedBug::planted(Mutant::SkipValidation), PlantedBug::planted(Mutant::NoEstimates)] {
        let buggy: Arc<dyn Executor> = Arc::new(BlockStm::with_planted_bug(bug));
        let mut opts = options(buggy.clone(), vec![Workload::new(Family::HotKey, 8)], 40);
        opts.shrink = true;
        opts.out_dir = Some(dir.path().join(format!("{bug:?}")));
        let r = explore(&opts);
        assert!(!r.found.is_empty(), "{bug:?} survived {} schedules", r.schedules);
        let f = &r.found[0];
        let c = f.controlled.as_ref().unwrap();
        let shrunk = c.shrunk.as_ref().unwrap();
        assert!(shrunk.len() <= c.schedule.choices.len());
        // The bundle replays: the same divergence, every time.
        let bundle = f.bundle.as_ref().unwrap();
        for _ in 0..5 {
            let d = replay_bundle(bundle, &buggy, &Sequential, BUDGET, TIMEOUT).unwrap().divergence;
            assert_eq!(d.map(|d| d.kind()), Some(f.divergence.kind()), "{bug:?}");
        }
        // And the unmodified executor passes the same block and schedule.
        let fixed: Arc<dyn Executor> = Arc::new(BlockStm::default());
        let d = replay_bundle(bundle, &fixed, &Sequential, BUDGET, TIMEOUT).unwrap().divergence;
        assert_eq!(d, None, "{bug:?}");
    }
}

#[test]
fn pct_schedules_run_and_agree() {
    let block = Arc::new(Workload::new(Family::Branchy, 8).generate(2).block);
    let expected = Sequential.execute(&block, &Default::default()).unwrap();
    let stm: Arc<dyn Executor> = Arc::new(BlockStm::default());
    for seed in 0..10 {
        let strategy = Strategy::Pct { seed, depth: 3, expected_steps: 200 };
        let (out, _) = run_controlled(&stm, &block, 3, strategy, BUDGET, TIMEOUT);
        assert_eq!(diff::compare(&expected, &out.unwrap()), None);
    }
}

/// High-first schedules let a high transaction read before the lowest has recorded its
/// writes, which neither random nor PCT schedules do on small blocks; the same seed gives the
/// same schedule.
#[test]
fn high_first_schedules_run_readers_before_the_lowest_transaction_finishes() {
    let block = Arc::new(Workload::new(Family::HotKey, 8).generate(1).block);
    let stm: Arc<dyn Executor> = Arc::new(BlockStm::default());
    let mut early = 0;
    for seed in 0..5 {
        let (out, schedule) = run_controlled(&stm, &block, 3, Strategy::HighFirst { seed }, BUDGET, TIMEOUT);
        out.expect("the unmutated executor is correct under any schedule");
        let events: Vec<&str> = schedule.trace.iter().map(|s| s.event.as_str()).collect();
        let recorded = events.iter().position(|e| e.starts_with("tx 0/0 recorded")).expect("tx 0 records");
        let read_above = events.iter().position(|e| e.contains(" reads ") && !e.starts_with("tx 0 "));
        early += usize::from(read_above.is_some_and(|r| r < recorded));
        let (_, again) = run_controlled(&stm, &block, 3, Strategy::HighFirst { seed }, BUDGET, TIMEOUT);
        assert_eq!(again.choices, schedule.choices, "seed {seed}");
    }
    assert!(early >= 4, "a higher transaction read first in {early} of 5 schedules");
}
