//! The bodies of the cargo-fuzz targets (`lockstep_harness::fuzz`): quiet on the bundled
//! executor, and each finds a planted divergence and leaves a minimized bundle that replays.

use arbitrary::{Arbitrary, Unstructured};
use lockstep_executors::block_stm::PlantedBug;
use lockstep_executors::{BlockStm, Executor, Sequential};
mod common;

use common::GasOff;
use lockstep_harness::fuzz::{FuzzCase, Target};
use lockstep_harness::repro::{bundle, replay_bundle};
use lockstep_harness::workload::Family;
use rand::{RngCore, SeedableRng};
use std::sync::Arc;
use std::time::Duration;

/// `n` fuzzer inputs decoded from seeded random bytes, as libFuzzer would hand them over.
fn cases(n: usize, seed: u64) -> Vec<FuzzCase> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut bytes = vec![0u8; 64];
            rng.fill_bytes(&mut bytes);
            FuzzCase::arbitrary(&mut Unstructured::new(&bytes)).expect("64 bytes make an input")
        })
        .collect()
}

fn target(candidate: Arc<dyn Executor>, out: &std::path::Path) -> Target {
    Target {
        reference: Arc::new(Sequential),
        candidate,
        out_dir: out.to_path_buf(),
        minimize_budget: Duration::from_secs(10),
        timeout: Duration::from_secs(10),
    }
}

#[test]
fn the_bundled_block_stm_passes_both_targets() {
    let out = tempfile::tempdir().unwrap();
    let t = target(Arc::new(BlockStm::default()), out.path());
    for case in cases(40, 1) {
        if let Err(f) = t.differential(&case) {
            panic!("{case:?}: {f}");
        }
        if let Err(f) = t.schedules(&case) {
            panic!("{case:?}: {f}");
        }
    }
    assert!(std::fs::read_dir(out.path()).unwrap().next().is_none(), "no bundle for a passing executor");
}

#[test]
fn the_differential_target_leaves_a_minimized_bundle() {
    let out = tempfile::tempdir().unwrap();
    let wrong: Arc<dyn Executor> = Arc::new(GasOff);
    let t = target(wrong.clone(), out.path());
    let found = cases(20, 2).iter().find_map(|c| t.differential(c).err()).expect("a gas divergence");
    assert_eq!(found.divergence.kind(), "outcome/GasUsed");
    let dir = found.bundle.expect("a bundle");
    assert!(dir.join("original-case.json").is_file(), "minimized in place");
    let case = bundle::read(&dir).unwrap();
    assert_eq!(case.block.txs.len(), 1, "one transaction shows a gas difference");
    let again = replay_bundle(&dir, &wrong, &Sequential, 50_000, Duration::from_secs(10)).unwrap().divergence;
    assert_eq!(again.map(|d| d.kind()), Some("outcome/GasUsed".into()));
}

#[test]
fn the_schedule_target_finds_a_planted_concurrency_bug_and_its_bundle_replays() {
    let out = tempfile::tempdir().unwrap();
    let buggy: Arc<dyn Executor> = Arc::new(BlockStm::with_planted_bug(PlantedBug::NoEstimates));
    let t = target(buggy.clone(), out.path());
    let found = cases(300, 3)
        .into_iter()
        .map(|mut c| {
            // Contended blocks: where a missing ESTIMATE shows.
            c.block.family = Family::HotKey;
            c.block.txs = 7;
            c
        })
        .find_map(|c| t.schedules(&c).err())
        .expect("a controlled schedule exposes the missing ESTIMATEs");
    let dir = found.bundle.expect("a bundle");
    assert!(dir.join("schedule.json").is_file());
    for _ in 0..5 {
        let again = replay_bundle(&dir, &buggy, &Sequential, 50_000, Duration::from_secs(10)).unwrap().divergence;
        assert!(again.is_some(), "the recorded schedule reproduces the divergence");
    }
}
