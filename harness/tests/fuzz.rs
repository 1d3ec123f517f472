//! The bodies of the cargo-fuzz targets (`lockstep_harness::fuzz`): quiet on the bundled
//! executor, and each finds a planted divergence and leaves a minimized bundle that replays;
//! the seed corpora `lockstep fuzz corpus` builds, and the crash inputs stored under
//! `fuzz/regressions/TARGET/`, go through the bodies as libFuzzer hands them over.

use arbitrary::{Arbitrary, Unstructured};
use lockstep_executors::block_stm::{Mutant, PlantedBug};
use lockstep_executors::{BlockStm, Executor, Sequential};
mod common;

use common::GasOff;
use lockstep_harness::fuzz::{FuzzCase, MutationCase, Target, corpus, decoders};
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
    let buggy: Arc<dyn Executor> = Arc::new(BlockStm::with_planted_bug(PlantedBug::planted(Mutant::NoEstimates)));
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

fn mutation_cases(n: usize, seed: u64) -> Vec<MutationCase> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut bytes = vec![0u8; 128];
            rng.fill_bytes(&mut bytes);
            MutationCase::arbitrary_take_rest(Unstructured::new(&bytes)).expect("bytes make an input")
        })
        .collect()
}

#[test]
fn the_statetest_mutation_target_is_quiet_on_block_stm_and_finds_a_gas_bug() {
    let fixtures = lockstep_conformance::fixtures_for_tests().unwrap();
    let seeds = corpus::seeds(&fixtures, 24);
    assert!(seeds.len() >= 20, "{} seeds", seeds.len());
    let out = tempfile::tempdir().unwrap();
    let t = target(Arc::new(BlockStm::default()), out.path());
    let cases = mutation_cases(60, 4);
    assert!(cases.iter().any(|c| !c.mutations.is_empty()));
    for case in &cases {
        if let Err(f) = t.statetest_mutation(&seeds, case) {
            panic!("{case:?}: {f}");
        }
    }
    assert!(std::fs::read_dir(out.path()).unwrap().next().is_none(), "no bundle for a passing executor");
    let wrong = target(Arc::new(GasOff), out.path());
    let found = cases.iter().find_map(|c| wrong.statetest_mutation(&seeds, c).err()).expect("a gas divergence");
    assert_eq!(found.divergence.kind(), "outcome/GasUsed");
    assert!(found.bundle.is_some_and(|b| b.join("case.json").is_file()));
}

/// Every input of `dir` through `target`'s body, as libFuzzer decodes it; the count run.
fn replay_dir(dir: &std::path::Path, name: &str, t: &Target, seeds: &[lockstep_harness::fuzz::Seed]) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut n = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let u = Unstructured::new(&bytes);
        let result = match name {
            "differential" => FuzzCase::arbitrary_take_rest(u).map(|c| t.differential(&c)),
            "schedules" => FuzzCase::arbitrary_take_rest(u).map(|c| t.schedules(&c)),
            "statetest_mutation" => MutationCase::arbitrary_take_rest(u).map(|c| t.statetest_mutation(seeds, &c)),
            "decoders" => {
                decoders(&bytes);
                Ok(Ok(()))
            }
            other => panic!("unknown target {other}"),
        };
        // An input that does not decode is one libFuzzer skips too.
        if let Ok(Err(found)) = result {
            panic!("{}: {found}", path.display());
        }
        n += 1;
    }
    n
}

#[test]
fn every_seed_corpus_and_stored_crash_input_replays_through_the_bodies() {
    let fixtures = lockstep_conformance::fixtures_for_tests().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    // A directory that does not exist yet, as on a fresh checkout.
    let built = scratch.path().join("fuzz");
    let summary = corpus::build(&fixtures, &built, 256).unwrap();
    assert!(summary.seeds >= 200, "{summary:?}");
    assert!(summary.dictionary >= 60, "{summary:?}");
    let dict = std::fs::read_to_string(built.join("lockstep.dict")).unwrap();
    assert!(dict.lines().all(|l| l.contains("=\"\\x") && l.ends_with('"')), "libFuzzer's dictionary syntax");
    let seeds = lockstep_harness::fuzz::read_seeds(&built.join("seeds.json")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let t = target(Arc::new(BlockStm::default()), out.path());
    let stored = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    for (name, written) in &summary.inputs {
        let replayed = replay_dir(&built.join("corpus").join(name), name, &t, &seeds);
        assert_eq!(replayed, *written, "{name}");
        assert!(replayed > 0, "{name} has a seed corpus");
        replay_dir(&stored.join(name), name, &t, &seeds);
    }
    // Each decoder input is one of the formats, and is taken as one.
    for entry in std::fs::read_dir(built.join("corpus/decoders")).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        assert!(decoders(&bytes) >= 1, "{}", entry.path().display());
    }
    // Building again adds nothing: inputs are named by their content.
    corpus::build(&fixtures, &built, 256).unwrap();
    for (name, written) in &summary.inputs {
        let files = std::fs::read_dir(built.join("corpus").join(name)).unwrap().count();
        assert_eq!(files, *written, "{name}");
    }
}
