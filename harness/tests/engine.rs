//! The engine catches divergence: deliberately wrong executors, each wrapping the sequential
//! reference, and the exact divergence each must produce.

use alloy_primitives::{Address, U256};
use lockstep_executors::{BlockInput, BlockOutput, ExecError, Executor, RunControl, Sequential, TxIndex, TxOutcome};
use lockstep_harness::check::check_block;
use lockstep_harness::check::diff::{AccountField, Divergence, OutcomeField};
use lockstep_harness::jobs::run::{Budget, RunOptions};
use lockstep_harness::workload::{COINBASE, Family, Workload};
use std::sync::Arc;
use std::time::Duration;

mod common;
use common::GasOff;

/// Runs the reference, then lets `mutate` spoil its output.
struct Wrong<F: Fn(&BlockInput, &mut BlockOutput) + Send + Sync> {
    name: &'static str,
    mutate: F,
}

impl<F: Fn(&BlockInput, &mut BlockOutput) + Send + Sync> Executor for Wrong<F> {
    fn name(&self) -> &str {
        self.name
    }
    fn execute(&self, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError> {
        let mut out = Sequential.execute(block, run)?;
        (self.mutate)(block, &mut out);
        Ok(out)
    }
}

fn wrong(
    name: &'static str,
    mutate: impl Fn(&BlockInput, &mut BlockOutput) + Send + Sync + 'static,
) -> Arc<dyn Executor> {
    Arc::new(Wrong { name, mutate })
}

fn block(family: Family) -> Arc<BlockInput> {
    Arc::new(Workload::new(family, 24).generate(5).block)
}

fn divergence(block: &Arc<BlockInput>, candidate: Arc<dyn Executor>) -> Option<Divergence> {
    check_block(block, &Sequential, None, &candidate, 2, Duration::from_secs(5)).unwrap().divergence
}

#[test]
fn the_reference_against_itself_agrees() {
    for f in Family::ALL {
        let b = block(f);
        assert_eq!(divergence(&b, Arc::new(Sequential)), None, "{f}");
    }
}

#[test]
fn a_dropped_log_is_an_outcome_divergence_at_that_transaction() {
    let b = block(Family::Erc20);
    let d = divergence(
        &b,
        wrong("drops-log", |_, out| {
            if let TxOutcome::Executed { logs, .. } = &mut out.outcomes[3] {
                logs.pop();
            }
        }),
    );
    assert_eq!(
        d,
        Some(Divergence::Outcome {
            tx: TxIndex(3),
            field: OutcomeField::LogCount,
            expected: "1".into(),
            got: "0".into()
        })
    );
}

#[test]
fn a_mis_credited_beneficiary_is_a_balance_divergence() {
    let b = block(Family::RawTransfers);
    let d = divergence(
        &b,
        wrong("mis-credits", |_, out| {
            out.post_state.get_mut(&COINBASE).unwrap().balance += U256::from(1);
        }),
    )
    .unwrap();
    let Divergence::Account { address, field, expected, got } = d else { panic!("{d:?}") };
    assert_eq!((address, field), (COINBASE, AccountField::Balance));
    assert_eq!(got.parse::<U256>().unwrap(), expected.parse::<U256>().unwrap() + U256::from(1));
}

#[test]
fn two_reordered_transactions_are_caught_where_they_differ() {
    // Swapping two transactions of one sender: run first, the second's nonce is too high, so
    // it is rejected; the first's outcome is unchanged, and tx 1 is where they differ.
    let b = block(Family::RawTransfers);
    let reorder: Arc<dyn Executor> = Arc::new(Reorder);
    let d = divergence(&Arc::new(same_sender_pair(&b)), reorder).unwrap();
    assert_eq!(
        d,
        Divergence::Outcome {
            tx: TxIndex(1),
            field: OutcomeField::Inclusion,
            expected: "executed (Success)".into(),
            got: "rejected (NonceTooHigh)".into()
        }
    );
}

/// A block whose first two transactions come from one sender, nonces 0 then 1.
fn same_sender_pair(b: &BlockInput) -> BlockInput {
    let mut b = b.clone();
    let mut second = b.txs[0].clone();
    second.nonce += 1;
    second.to = Some(Address::repeat_byte(0x42));
    b.txs.insert(1, second);
    b
}

/// Executes transactions 0 and 1 in swapped order, then reports outcomes in block order.
struct Reorder;

impl Executor for Reorder {
    fn name(&self) -> &str {
        "reorders"
    }
    fn execute(&self, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError> {
        let mut swapped = block.clone();
        swapped.txs.swap(0, 1);
        let mut out = Sequential.execute(&swapped, run)?;
        out.outcomes.swap(0, 1);
        Ok(out)
    }
}

#[test]
fn a_panic_is_a_divergence_not_a_crash() {
    let b = block(Family::Amm);
    let d = divergence(&b, wrong("panics", |_, _| panic!("worker 3 lost its mind"))).unwrap();
    assert_eq!(d, Divergence::Panic { message: "worker 3 lost its mind".into() });
}

#[test]
fn sleeping_past_the_deadline_is_a_hang() {
    let b = block(Family::HotKey);
    let sleeper = wrong("sleeps", |_, _| std::thread::sleep(Duration::from_secs(3)));
    let checked = check_block(&b, &Sequential, None, &sleeper, 2, Duration::from_millis(200)).unwrap();
    let Some(Divergence::Hang { after_ms }) = checked.divergence else { panic!("{:?}", checked.divergence) };
    assert!((200..2_000).contains(&after_ms), "{after_ms}");
}

#[test]
fn an_error_is_a_divergence() {
    struct Refuses;
    impl Executor for Refuses {
        fn name(&self) -> &str {
            "refuses"
        }
        fn execute(&self, _: &BlockInput, _: &RunControl) -> Result<BlockOutput, ExecError> {
            Err(ExecError::Internal("out of threads".into()))
        }
    }
    let d = divergence(&block(Family::NftMint), Arc::new(Refuses)).unwrap();
    assert_eq!(d, Divergence::ExecError { message: "internal error: out of threads".into() });
}

#[test]
fn unsupported_input_is_said_so_and_not_a_finding() {
    struct NoBlobs;
    impl Executor for NoBlobs {
        fn name(&self) -> &str {
            "no-blobs"
        }
        fn execute(&self, _: &BlockInput, _: &RunControl) -> Result<BlockOutput, ExecError> {
            Err(ExecError::Unsupported("no blobs here".into()))
        }
    }
    let d = divergence(&block(Family::NftMint), Arc::new(NoBlobs)).unwrap();
    assert_eq!(d, Divergence::Unsupported { message: "no blobs here".into() });
    assert!(d.is_unsupported());
}

#[test]
fn same_state_root_different_receipt_is_a_divergence() {
    let b = block(Family::Erc20);
    let d = divergence(
        &b,
        wrong("gas-off-by-one", |_, out| {
            if let TxOutcome::Executed { gas_used, .. } = &mut out.outcomes[0] {
                *gas_used += 1;
            }
        }),
    )
    .unwrap();
    assert_eq!(d.kind(), "outcome/GasUsed");
}

#[test]
fn a_run_reports_each_divergence_with_its_seed_and_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let opts = |candidate: Arc<dyn Executor>, out: Option<std::path::PathBuf>| RunOptions {
        workloads: vec![Workload::new(Family::RawTransfers, 8), Workload::new(Family::Erc20, 8)],
        seed: 99,
        budget: Budget { blocks: Some(6), duration: None },
        threads: vec![2],
        reference: Arc::new(Sequential),
        candidates: vec![candidate],
        spec: None,
        valid_only: false,
        timeout: Duration::from_secs(5),
        out_dir: out,
        progress: false,
    };
    let good = lockstep_harness::jobs::run::run(&opts(Arc::new(lockstep_executors::BlockStm::default()), None));
    assert!(good.ok(), "{:?}", good.found);
    assert_eq!(good.blocks, 6);
    let bad = lockstep_harness::jobs::run::run(&opts(
        wrong("bumps-nonce", |b, out| {
            out.post_state.get_mut(&b.txs[0].sender).unwrap().nonce += 1;
        }),
        Some(dir.path().to_path_buf()),
    ));
    assert_eq!(bad.found.len(), 6);
    let f = &bad.found[0];
    assert_eq!(f.block_seed, lockstep_harness::workload::block_seed(99, 0));
    assert_eq!(f.divergence.kind(), "state/Nonce");
    // The bundle's block is the generated block: regenerating from the seed gives it again.
    let bundle = f.bundle.as_ref().unwrap();
    let saved = lockstep_harness::repro::bundle::read(bundle).unwrap();
    assert_eq!(saved.block, f.workload.generate(f.block_seed).block);
    assert_eq!(saved.kind, "state/Nonce");
    assert!(std::fs::read_to_string(bundle.join("README.md")).unwrap().contains("lockstep replay"));
}

#[test]
fn valid_only_keeps_a_known_gap_on_invalid_transactions_from_masking_the_rest() {
    // Aborts any block holding an invalid transaction, as some parallel EVMs do.
    struct AbortsOnInvalid;
    impl Executor for AbortsOnInvalid {
        fn name(&self) -> &str {
            "aborts-on-invalid"
        }
        fn execute(&self, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError> {
            let out = Sequential.execute(block, run)?;
            if out.outcomes.iter().any(|o| matches!(o, lockstep_executors::TxOutcome::Rejected { .. })) {
                return Err(ExecError::Internal("invalid transaction".into()));
            }
            Ok(out)
        }
    }
    let opts = |valid_only| RunOptions {
        workloads: vec![Workload::new(Family::NonceGaps, 12)],
        seed: 5,
        budget: Budget { blocks: Some(4), duration: None },
        threads: vec![2],
        reference: Arc::new(Sequential),
        candidates: vec![Arc::new(AbortsOnInvalid)],
        spec: None,
        valid_only,
        timeout: Duration::from_secs(5),
        out_dir: None,
        progress: false,
    };
    let masked = lockstep_harness::jobs::run::run(&opts(false));
    assert!(!masked.found.is_empty(), "nonce gaps make rejections");
    let valid = lockstep_harness::jobs::run::run(&opts(true));
    assert!(valid.ok(), "{:?}", valid.found);
    assert!(valid.excluded_txs >= masked.found.len() as u64, "{}", valid.excluded_txs);
}

#[test]
fn the_spec_is_a_second_reference_whose_disagreements_are_apart() {
    let opts = |spec: Arc<dyn Executor>| RunOptions {
        workloads: vec![Workload::new(Family::Erc20, 6)],
        seed: 8,
        budget: Budget { blocks: Some(3), duration: None },
        threads: vec![2],
        reference: Arc::new(Sequential),
        candidates: vec![Arc::new(lockstep_executors::BlockStm::default())],
        spec: Some(spec),
        valid_only: false,
        timeout: Duration::from_secs(5),
        out_dir: None,
        progress: false,
    };
    let agrees = lockstep_harness::jobs::run::run(&opts(Arc::new(Sequential)));
    assert!(agrees.ok() && agrees.spec_blocks == 3, "{:?}", agrees.spec_found);
    let off = lockstep_harness::jobs::run::run(&opts(Arc::new(GasOff)));
    assert_eq!(off.spec_found.len(), 3);
    assert!(off.found.is_empty(), "candidate divergences stay apart from the spec's");
    assert!(!off.ok());
}
