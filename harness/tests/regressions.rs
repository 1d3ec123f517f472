//! The regression corpus: bundles of divergences that were found and fixed, in
//! conformance/regressions/. Every bundled executor must now agree with the reference on
//! each, at several thread counts, and under the recorded schedule when there is one.

use lockstep_executors::{Executor, RunControl, Sequential};
use lockstep_harness::check as diff;
use lockstep_harness::repro::bundle;
use std::path::PathBuf;
use std::time::Duration;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/regressions")
}

#[test]
fn every_regression_case_passes_on_every_bundled_executor() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("case.json").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 2, "the regression corpus is missing: {}", corpus().display());
    for dir in dirs {
        let case = bundle::read(&dir).unwrap_or_else(|e| panic!("{e}"));
        let expected = Sequential.execute(&case.block, &RunControl::default()).unwrap();
        for name in lockstep_executors::BUNDLED {
            let exec = lockstep_executors::bundled(name).unwrap();
            for threads in [1, 2, 4, 8] {
                for round in 0..3 {
                    let got = exec.execute(&case.block, &RunControl::with_threads(threads)).unwrap();
                    assert_eq!(
                        diff::compare(&expected, &got),
                        None,
                        "{}: {name} at {threads} threads, round {round}",
                        dir.display()
                    );
                }
            }
            if case.schedule.is_some() {
                let d =
                    lockstep_harness::repro::replay_bundle(&dir, &exec, &Sequential, 50_000, Duration::from_secs(20))
                        .unwrap()
                        .divergence;
                assert_eq!(d, None, "{}: {name} under the recorded schedule", dir.display());
            }
        }
    }
}

/// Writes the corpus' generated cases (run once with `--ignored`; the output is committed).
#[test]
#[ignore]
fn write_regression_bundles() {
    use lockstep_executors::{BlockStm, Fork, TxIndex};
    use lockstep_harness::check::Divergence;
    use lockstep_harness::repro::bundle::{Case, ExecutorId};
    use lockstep_harness::workload::{Family, Workload};
    let stm = BlockStm::default();
    // Transfers paying fees with two calls in between to a contract that stores and returns
    // BALANCE(coinbase): the shape that first exposed each bug.
    let with_readers = |fork: Fork, gas_price: Option<u128>, seed: u64| {
        let generated = Workload::new(Family::RawTransfers, 30).with_fork(fork).generate(seed);
        let (mut b, mut keys) = (generated.block, generated.keys);
        let reader = alloy_primitives::Address::repeat_byte(0xa0);
        let code = [0x41u8, 0x31, 0x80, 0x60, 0x00, 0x55, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3];
        b.pre_state.insert(reader, lockstep_executors::Account { code: code.to_vec().into(), ..Default::default() });
        for (k, at) in [(0u64, 20usize), (1, 31)] {
            let (from, key) = lockstep_harness::workload::user(9, k);
            keys.insert(from, key);
            b.pre_state.insert(
                from,
                lockstep_executors::Account {
                    balance: alloy_primitives::U256::from(10u128.pow(21)),
                    ..Default::default()
                },
            );
            let mut t = b.txs[0].clone();
            t.sender = from;
            t.nonce = 0;
            t.to = Some(reader);
            t.value = Default::default();
            t.gas_limit = 100_000;
            b.txs.insert(at.min(b.txs.len()), t);
        }
        if let Some(p) = gas_price {
            for t in &mut b.txs {
                t.gas_price = p;
                t.max_priority_fee_per_gas = t.max_priority_fee_per_gas.map(|_| 0);
            }
        }
        (b, keys)
    };
    let cases = [
        (
            "block-stm-parked-estimate-error",
            with_readers(Fork::Cancun, None, 30),
            Divergence::ExecError { message: "internal error: database error: read an ESTIMATE of tx 30".into() },
        ),
        (
            "block-stm-zero-fee-coinbase-before-spurious-dragon",
            with_readers(Fork::Frontier, Some(0), 31),
            Divergence::Account {
                address: lockstep_harness::workload::COINBASE,
                field: lockstep_harness::check::diff::AccountField::Existence,
                expected: "exists".into(),
                got: "absent".into(),
            },
        ),
    ];
    for (name, (block, keys), divergence) in cases {
        let expected = Sequential.execute(&block, &RunControl::default()).unwrap();
        let case = Case {
            block,
            reference: ExecutorId::of(&Sequential),
            candidate: ExecutorId::of(&stm),
            threads: 2,
            seed: None,
            schedule: None,
            kind: divergence.kind(),
            divergence,
            divergence_rate: None,
            capture: None,
            keys: Default::default(),
        }
        .with_keys(&keys);
        bundle::write(&corpus().join(name), &case, &expected).unwrap();
    }
    let _ = TxIndex(0);
}
