//! Minimized, replayable divergence reports.

use alloy_primitives::{Address, U256};
use lockstep_executors::block_stm::{Mutant, PlantedBug};
use lockstep_executors::{BlockInput, BlockOutput, BlockStm, ExecError, Executor, RunControl, Sequential, TxOutcome};
mod common;

use common::GasOff;
use lockstep_harness::check as diff;
use lockstep_harness::jobs::explore::{ExploreOptions, run as explore};
use lockstep_harness::repro::bundle::{self, Case, ExecutorId};
use lockstep_harness::repro::minimize::{Predicate, minimize, minimize_bundle};
use lockstep_harness::schedule::{Strategy, StrategyKind, run_controlled};
use lockstep_harness::workload::{Family, Workload};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Wrong only when a transaction from `a` and a later one from `b` both execute: then it
/// credits `b` one wei too many.
struct NeedsTwo {
    a: Address,
    b: Address,
}

impl Executor for NeedsTwo {
    fn name(&self) -> &str {
        "needs-two"
    }
    fn execute(&self, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError> {
        let mut out = Sequential.execute(block, run)?;
        let ran = |who: Address| {
            block
                .txs
                .iter()
                .zip(&out.outcomes)
                .position(|(t, o)| t.sender == who && matches!(o, TxOutcome::Executed { .. }))
        };
        if let (Some(i), Some(j)) = (ran(self.a), ran(self.b)) {
            if i < j {
                if let Some(acc) = out.post_state.get_mut(&self.b) {
                    acc.balance += U256::from(1);
                }
            }
        }
        Ok(out)
    }
}

fn predicate(candidate: Arc<dyn Executor>, kind: &str) -> Predicate {
    Predicate {
        reference: Arc::new(Sequential),
        candidate,
        threads: 2,
        kind: kind.to_string(),
        runs: 1,
        timeout: Duration::from_secs(10),
        runner: None,
        rejected: None,
    }
}

#[test]
fn two_needed_transactions_out_of_a_thousand() {
    let block = Workload::new(Family::Mix, 1_000).generate(21).block;
    // Two first-of-their-sender transactions far apart.
    let first_of_sender = |i: usize| {
        let t = &block.txs[i];
        block.txs[..i].iter().all(|u| u.sender != t.sender)
            && block.pre_state.get(&t.sender).is_some_and(|a| a.nonce == t.nonce)
    };
    let i = (100..400).find(|i| first_of_sender(*i)).unwrap();
    let j = (700..990).find(|j| first_of_sender(*j) && block.txs[*j].sender != block.txs[i].sender).unwrap();
    let (a, b) = (block.txs[i].sender, block.txs[j].sender);
    let wrong: Arc<dyn Executor> = Arc::new(NeedsTwo { a, b });
    let pred = predicate(wrong, "state/Balance");
    assert!(pred.holds(&block), "the planted divergence shows on the full block");
    let start = Instant::now();
    let m = minimize(&block, &pred, Duration::from_secs(60), false);
    let took = start.elapsed();
    eprintln!("minimized 1,000 txs to {} in {:?} with {} evaluations", m.block.txs.len(), took, m.evaluations);
    let kept: Vec<(Address, u64)> = m.block.txs.iter().map(|t| (t.sender, t.nonce)).collect();
    assert_eq!(kept, vec![(a, block.txs[i].nonce), (b, block.txs[j].nonce)]);
    let accounts: Vec<Address> = m.block.pre_state.keys().copied().collect();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(accounts, want, "exactly the pre-state the two need");
    assert_eq!((m.recheck_hits, m.recheck_runs), (10, 10));
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn a_schedule_dependent_divergence_minimizes_under_controlled_schedules() {
    let buggy: Arc<dyn Executor> = Arc::new(BlockStm::with_planted_bug(PlantedBug::planted(Mutant::NoEstimates)));
    let r = explore(&ExploreOptions {
        workloads: vec![Workload::new(Family::HotKey, 12)],
        seed: 5,
        blocks: 2,
        schedules: 60,
        strategy: StrategyKind::Random,
        threads: 2,
        reference: Arc::new(Sequential),
        candidate: buggy.clone(),
        step_budget: 20_000,
        timeout: Duration::from_secs(20),
        out_dir: None,
        shrink: false,
    });
    let found = r.found.first().expect("explore finds the planted bug");
    let block = found.workload.generate(found.block_seed).block;
    let kind = found.divergence.kind();
    let expected = Sequential.execute(&block, &RunControl::default()).unwrap();
    let _ = expected;
    let c = buggy.clone();
    let runner = move |b: &Arc<BlockInput>, run: usize, _: Duration| -> Option<diff::Divergence> {
        let expected = Sequential.execute(b, &RunControl::default()).ok()?;
        // 40 seeded schedules per evaluation: the bug needs a particular interleaving.
        (0..40u64).find_map(|s| {
            let strategy = Strategy::Random { seed: s * 7919 + run as u64 };
            let (out, _) = run_controlled(&c, b, 2, strategy, 20_000, Duration::from_secs(20));
            match out {
                Ok(o) => diff::compare(&expected, &o),
                Err(d) => Some(d),
            }
        })
    };
    let mut pred = predicate(buggy, &kind);
    pred.runner = Some(Box::new(runner));
    assert!(pred.holds(&block));
    let m = minimize(&block, &pred, Duration::from_secs(60), false);
    assert!(m.block.txs.len() < block.txs.len(), "{} of {}", m.block.txs.len(), block.txs.len());
    assert!(m.block.txs.len() >= 2, "a dependency needs two transactions");
    assert!(pred.holds(&m.block));
    assert!(m.recheck_hits > 0);
}

#[test]
fn a_one_transaction_bundle_exports_a_state_test_that_shows_the_difference() {
    let generated = Workload::new(Family::Erc20, 30).generate(4);
    let block = generated.block.clone();
    let wrong: Arc<dyn Executor> = Arc::new(GasOff);
    let pred = predicate(wrong.clone(), "outcome/GasUsed");
    let m = minimize(&block, &pred, Duration::from_secs(30), false);
    assert_eq!(m.block.txs.len(), 1);
    let reference_out = Sequential.execute(&m.block, &RunControl::default()).unwrap();
    let got = wrong.execute(&m.block, &RunControl::default()).unwrap();
    let divergence = diff::compare(&reference_out, &got).unwrap();
    let case = Case {
        block: m.block.clone(),
        reference: ExecutorId { name: "sequential".into(), version: Sequential.version() },
        candidate: ExecutorId { name: "gas-off".into(), version: "test".into() },
        threads: 2,
        seed: Some(4),
        schedule: None,
        kind: divergence.kind(),
        divergence,
        divergence_rate: Some((m.recheck_hits, m.recheck_runs)),
        capture: None,
        keys: Default::default(),
    }
    .with_keys(&generated.keys);
    let dir = tempfile::tempdir().unwrap();
    let path = bundle::write(&dir.path().join("case"), &case, &reference_out).unwrap();
    for f in ["case.json", "alloc.json", "env.json", "txs.json", "statetest.json", "README.md"] {
        assert!(path.join(f).is_file(), "{f}");
    }
    assert_eq!(bundle::read(&path).unwrap(), case, "the bundle reads back");
    // The exported state test passes on the reference and fails on the candidate.
    let out = tempfile::tempdir().unwrap();
    let run = |executors: Vec<Arc<dyn Executor>>| {
        lockstep_harness::jobs::statetest::run(&lockstep_harness::jobs::statetest::Options {
            paths: vec![path.join("statetest.json")],
            executors,
            fork: None,
            filter: None,
            exec_threads: 1,
            progress: false,
            packed: false,
            out_dir: Some(out.path().to_path_buf()),
            max_file_bytes: lockstep_conformance::DEFAULT_MAX_FILE_BYTES,
            shard: None,
            both_kinds: false,
            timeout: lockstep_harness::defaults::CASE_TIMEOUT,
        })
    };
    let on_ref = run(vec![Arc::new(Sequential)]);
    assert!(on_ref.ok() && on_ref.total("sequential").passed == 1, "{}", on_ref.to_text(5));
    let on_wrong = run(vec![wrong.clone()]);
    assert_eq!(on_wrong.total("gas-off").failed, 1, "{}", on_wrong.to_text(5));
    // Run side by side, statetest writes the divergence as a bundle of its own, which
    // reproduces and minimizes.
    let pair = run(vec![Arc::new(Sequential), wrong.clone()]);
    assert_eq!(pair.divergences.len(), 1, "{}", pair.to_text(5));
    let found = std::path::PathBuf::from(pair.divergences[0].bundle.clone().expect("a bundle is written"));
    assert!(found.starts_with(out.path().join("divergences")), "{}", found.display());
    let again = bundle::read(&found).unwrap();
    assert_eq!((again.kind.as_str(), again.candidate.name.as_str()), ("outcome/GasUsed", "gas-off"));
    let m2 = minimize_bundle(&found, Arc::new(Sequential), wrong, Duration::from_secs(10), 3, false).unwrap();
    assert_eq!(m2.block.txs.len(), 1);
    // t8n input: every transaction carries the key t8n signs it with.
    let txs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path.join("txs.json")).unwrap()).unwrap();
    assert!(txs[0]["secretKey"].as_str().unwrap().len() == 66);
}

#[test]
fn corrupt_or_partial_bundles_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = bundle::read(dir.path()).unwrap_err();
    let e = e.to_string();
    assert!(e.contains("case.json") && e.contains("No such file"), "{e}");
    std::fs::write(dir.path().join("case.json"), "{\"block\": {\"fork\": \"Cancun\"").unwrap();
    let e = bundle::read(dir.path()).unwrap_err();
    assert!(e.to_string().contains("not a lockstep case"), "{e}");
    std::fs::write(dir.path().join("case.json"), "{\"threads\": 2}").unwrap();
    let e = bundle::read(dir.path()).unwrap_err();
    assert!(e.to_string().contains("missing field"), "{e}");
}
