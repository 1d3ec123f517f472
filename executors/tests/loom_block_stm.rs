//! loom models of Block-STM's scheduler and MVMemory with a toy VM: two workers, two or three
//! transactions with conflicting read and write sets, every interleaving of their atomics and
//! locks up to loom's preemption bound. Each model checks that the final MVMemory state and
//! every transaction's output equal the sequential result, and that every transaction was
//! executed and validated.
//!
//! Run with `just loom` (RUSTFLAGS="--cfg loom", its own target dir, no revm).
#![cfg(loom)]

use lockstep_executors::block_stm::mv_memory::{MvMemory, MvRead, Read, ReadOrigin};
use lockstep_executors::block_stm::scheduler::Status;
use lockstep_executors::block_stm::vm::{Execution, Vm};
use lockstep_executors::block_stm::worker::BlockRun;
use lockstep_executors::block_stm::{Mutant, PlantedBug, TxIndex, Version};
use lockstep_executors::hook::{Incarnation, ScheduleHook, WorkerId};
use std::collections::BTreeMap;

/// A toy transaction: read some keys, then write `sum(read values) + add` to some keys.
#[derive(Clone, Debug)]
struct ToyTx {
    reads: Vec<u8>,
    writes: Vec<u8>,
    add: u64,
}

struct ToyVm {
    txs: Vec<ToyTx>,
}

impl Vm for ToyVm {
    type Key = u8;
    type Value = u64;
    type Output = u64;
    type Worker<'a> = &'a MvMemory<u8, u64>;

    fn txs(&self) -> usize {
        self.txs.len()
    }

    fn worker<'a>(
        &'a self,
        mv: &'a MvMemory<u8, u64>,
        _: WorkerId,
        _: Option<&'a dyn ScheduleHook>,
    ) -> Self::Worker<'a> {
        mv
    }

    fn execute(&self, mv: &mut &MvMemory<u8, u64>, version: Version) -> Execution<u8, u64, u64> {
        let tx = &self.txs[version.tx.0];
        let mut reads = Vec::new();
        let mut sum = 0;
        for k in &tx.reads {
            // The production read path: a chained location waits (one yield) for the
            // transaction below.
            let wait = |_: TxIndex, round: u32| {
                round < 1 && {
                    loom::thread::yield_now();
                    true
                }
            };
            match mv.read_after_chain(k, version.tx, wait) {
                MvRead::Storage => reads.push(Read::Point { key: *k, origin: ReadOrigin::Storage }),
                MvRead::Value { version: v, value, .. } => {
                    sum += value;
                    reads.push(Read::Point { key: *k, origin: ReadOrigin::Version(v) });
                }
                MvRead::Estimate { blocking } => return Execution::Blocked { blocking },
            }
        }
        let value = sum + tx.add;
        Execution::Done { reads, writes: tx.writes.iter().map(|k| (*k, value)).collect(), delta: None, output: value }
    }
}

/// The sequential result: final key values and each transaction's output.
fn sequential(txs: &[ToyTx]) -> (BTreeMap<u8, u64>, Vec<u64>) {
    let mut state = BTreeMap::new();
    let mut outputs = Vec::new();
    for tx in txs {
        let v = tx.reads.iter().map(|k| state.get(k).copied().unwrap_or(0)).sum::<u64>() + tx.add;
        for k in &tx.writes {
            state.insert(*k, v);
        }
        outputs.push(v);
    }
    (state, outputs)
}

/// Runs `txs` on two loom workers under every interleaving and checks the result.
fn model(txs: Vec<ToyTx>, bug: PlantedBug) {
    let (expected_state, expected_outputs) = sequential(&txs);
    loom::model(move || {
        let run = loom::sync::Arc::new(BlockRun::new(ToyVm { txs: txs.clone() }, None, None, bug));
        let other = run.clone();
        let worker = loom::thread::spawn(move || other.work(WorkerId(1)));
        run.work(WorkerId(0));
        worker.join().unwrap();

        let n = txs.len();
        for i in 0..n {
            assert_eq!(run.scheduler.status(TxIndex(i)).1, Status::Executed, "tx {i} not executed at the end");
        }
        let mut state = BTreeMap::new();
        let deltas = run.mv.final_writes(0, 1, |k, written| {
            if let Some((_, v)) = written.last() {
                state.insert(*k, *v);
            }
        });
        assert!(deltas.is_empty());
        let outputs: Vec<u64> = run.take_outputs().into_iter().map(|o| o.expect("every tx has an output")).collect();
        assert_eq!(outputs, expected_outputs, "outputs differ from sequential");
        assert_eq!(state, expected_state, "final MVMemory state differs from sequential");
        let c = &run.counters;
        assert!(
            c.validations.load(std::sync::atomic::Ordering::Relaxed) >= n as u64,
            "a transaction was never validated"
        );
    });
}

fn tx(reads: &[u8], writes: &[u8], add: u64) -> ToyTx {
    ToyTx { reads: reads.to_vec(), writes: writes.to_vec(), add }
}

#[test]
fn loom_read_after_write() {
    // tx1 reads what tx0 writes.
    model(vec![tx(&[], &[0], 5), tx(&[0], &[1], 1)], PlantedBug::NONE);
}

#[test]
fn loom_write_write() {
    model(vec![tx(&[], &[0], 1), tx(&[], &[0], 2)], PlantedBug::NONE);
}

#[test]
fn loom_chain_with_abort_and_estimate() {
    // A chain: each reads the previous one's key; re-executions and ESTIMATE waits happen.
    model(vec![tx(&[0], &[0], 1), tx(&[0], &[0], 1), tx(&[0], &[1], 1)], PlantedBug::NONE);
}

#[test]
fn loom_write_set_shrinks_on_reexecution() {
    // tx1 writes key 1 in every case and reads key 0, which tx0 writes.
    model(vec![tx(&[], &[0, 2], 3), tx(&[0], &[1], 0), tx(&[1, 2], &[3], 0)], PlantedBug::NONE);
}

#[test]
fn loom_chained_read_sees_the_write_it_waited_for() {
    // Key 7 written by tx 0 and tx 1 (a chain); tx 2 executes and will write it. A read by
    // tx 3 that waited until tx 2 stopped must see tx 2's write; one that gave up, or read
    // after tx 2 recorded, is an ordinary read (tx 1's or tx 2's write).
    let v = |tx, inc| Version { tx: TxIndex(tx), incarnation: Incarnation(inc) };
    loom::model(move || {
        let mv = loom::sync::Arc::new(MvMemory::<u8, u64>::new(4));
        mv.record(v(0, 0), vec![], vec![(7, 10)], None);
        mv.record(v(1, 0), vec![], vec![(7, 11)], None);
        mv.begin(TxIndex(2));
        let writer = {
            let mv = mv.clone();
            loom::thread::spawn(move || {
                mv.record(v(2, 0), vec![], vec![(7, 12)], None);
                mv.end(TxIndex(2));
            })
        };
        let (mut waited, mut gave_up) = (false, false);
        let got = mv.read_after_chain(&7, TxIndex(3), |_, round| {
            waited = true;
            if round >= 2 {
                gave_up = true;
                return false;
            }
            loom::thread::yield_now();
            true
        });
        writer.join().unwrap();
        let MvRead::Value { version, .. } = got else { panic!("key 7 has writes below tx 3") };
        assert!(version == v(1, 0) || version == v(2, 0), "{version:?}");
        if waited && !gave_up {
            assert_eq!(version, v(2, 0), "waited for tx 2 to stop, then missed its write");
        }
    });
}

/// A planted bug must make some interleaving fail: the models have teeth.
fn must_fail(txs: Vec<ToyTx>, bug: PlantedBug) {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| model(txs, bug)));
    assert!(r.is_err(), "loom found no interleaving exposing {bug:?}");
}

#[test]
fn loom_catches_skipped_validation() {
    must_fail(vec![tx(&[], &[0], 5), tx(&[0], &[1], 1)], PlantedBug::planted(Mutant::SkipValidation));
}

#[test]
fn loom_catches_missing_estimates() {
    must_fail(vec![tx(&[0], &[0], 1), tx(&[0], &[0], 1), tx(&[0], &[1], 1)], PlantedBug::planted(Mutant::NoEstimates));
}

#[test]
fn loom_catches_termination_without_active_tasks() {
    must_fail(vec![tx(&[], &[0], 5), tx(&[0], &[1], 1)], PlantedBug::planted(Mutant::DoneIgnoresActiveTasks));
}
