//! Hostile input: endless EVM execution under a gas limit near 2^64 and gas price 0 ends at
//! the run's deadline with `ExecError::Deadline` on every bundled executor, and an excess blob
//! gas whose blob fee pricing would take forever is refused at once with
//! `ExecError::InvalidBlock`; memory past `MAX_MEMORY_BYTES` halts the transaction instead
//! of allocating it.
//!
//! Needs the bundled executors (the `revm` feature, on by default).
#![cfg(feature = "revm")]

use alloy_primitives::{Address, B256, Bytes, U256, address};
use lockstep_executors::{
    Account, BlockEnv, BlockInput, BlockStm, ExecError, Executor, Fork, MAX_BLOB_FEE_EXPONENT, RunControl, Sequential,
    State, Tx, TxOutcome, TxStatus, TxType,
};
use std::time::{Duration, Instant};

const ALICE: Address = address!("0x00000000000000000000000000000000000a11ce");
const BOB: Address = address!("0x0000000000000000000000000000000000000b0b");
const CAROL: Address = address!("0x00000000000000000000000000000000000ca201");
const DAVE: Address = address!("0x000000000000000000000000000000000000da7e");
const COINBASE: Address = address!("0x00000000000000000000000000000000c014ba5e");
const LOOP: Address = address!("0x00000000000000000000000000000000000100f0");
const CALL_TREE: Address = address!("0x00000000000000000000000000000000000ca11e");
const COUNTDOWN: Address = address!("0x0000000000000000000000000000000000c0de00");
const FAR_STORE: Address = address!("0x00000000000000000000000000000000000f5700");
const NEAR_STORE: Address = address!("0x00000000000000000000000000000000000e5700");

/// `PUSH1 0 PUSH5 2^36 MSTORE STOP`: one store 64 GiB into memory, affordable under 2^64 gas.
const FAR_STORE_CODE: &[u8] = &[0x60, 0x00, 0x64, 0x10, 0x00, 0x00, 0x00, 0x00, 0x52, 0x00];
/// `PUSH1 0 PUSH4 2^24 MSTORE STOP`: a store 16 MiB in, well under the memory limit.
const NEAR_STORE_CODE: &[u8] = &[0x60, 0x00, 0x63, 0x01, 0x00, 0x00, 0x00, 0x52, 0x00];

/// `JUMPDEST PUSH1 0 JUMP`: loops forever, 12 gas a round.
const ENDLESS_LOOP: &[u8] = &[0x5b, 0x60, 0x00, 0x56];

/// The run's deadline in these tests, and how long past it an executor may take to stop.
const DEADLINE: Duration = Duration::from_millis(200);
const LIMIT: Duration = Duration::from_secs(2);

/// The EIP-4844 blob base fee update fractions (Cancun; Prague on).
const FRACTION_CANCUN: u64 = 3_338_477;
const FRACTION_PRAGUE: u64 = 5_007_716;

/// Calls itself twice with all the gas it may forward, then stops: a call tree 1024 frames
/// deep and 2^1024 frames in all, with no jump anywhere.
fn call_tree_code() -> Vec<u8> {
    // retSize retOffset argsSize argsOffset value (all 0), ADDRESS, GAS, CALL, POP.
    let call = [0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x30, 0x5a, 0xf1, 0x50];
    let mut code = [call, call].concat();
    code.push(0x00);
    code
}

/// Counts 100,000 down to 0 in a loop (26 gas a round, 2.6 million in all), then stops.
const COUNTDOWN_CODE: &[u8] = &[
    0x62, 0x01, 0x86, 0xa0, // PUSH3 100000
    0x5b, // 4: JUMPDEST
    0x60, 0x01, 0x90, 0x03, // PUSH1 1, SWAP1, SUB
    0x80, 0x60, 0x04, 0x57, // DUP1, PUSH1 4, JUMPI
    0x00, // STOP
];

fn block(fork: Fork, txs: Vec<Tx>) -> BlockInput {
    let mut pre = State::new();
    for who in [ALICE, BOB, CAROL, DAVE] {
        pre.insert(who, Account { balance: U256::from(10u64.pow(18)), ..Default::default() });
    }
    pre.insert(LOOP, Account { code: Bytes::from_static(ENDLESS_LOOP), ..Default::default() });
    pre.insert(CALL_TREE, Account { code: call_tree_code().into(), ..Default::default() });
    pre.insert(COUNTDOWN, Account { code: Bytes::from_static(COUNTDOWN_CODE), ..Default::default() });
    pre.insert(FAR_STORE, Account { code: Bytes::from_static(FAR_STORE_CODE), ..Default::default() });
    pre.insert(NEAR_STORE, Account { code: Bytes::from_static(NEAR_STORE_CODE), ..Default::default() });
    BlockInput {
        fork,
        chain_id: 1,
        env: BlockEnv {
            number: U256::from(1),
            timestamp: U256::from(1_000),
            coinbase: COINBASE,
            // As high as revm allows, so that a transaction can take almost 2^64 gas.
            gas_limit: u64::MAX,
            base_fee: fork.at_least(Fork::London).then_some(0),
            difficulty: U256::from(0x20000),
            prevrandao: fork.at_least(Fork::Merge).then_some(B256::ZERO),
            excess_blob_gas: fork.at_least(Fork::Cancun).then_some(0),
            block_hashes: BlockEnv::state_test_hashes(U256::from(1)),
        },
        pre_state: pre,
        txs,
        rules: None,
    }
}

/// A free call from `sender` to `to` with `gas_limit`: gas price 0 (the base fee is 0 from
/// London on).
fn call(fork: Fork, sender: Address, to: Address, gas_limit: u64) -> Tx {
    let london = fork.at_least(Fork::London);
    Tx {
        tx_type: if london { TxType::Eip1559 } else { TxType::Legacy },
        sender,
        to: Some(to),
        gas_limit,
        gas_price: 0,
        max_priority_fee_per_gas: london.then_some(0),
        chain_id: Some(1),
        ..Default::default()
    }
}

/// Runs `block` on every bundled executor (Block-STM at 1 and 2 threads) with a deadline
/// [`DEADLINE`] away: each returns `ExecError::Deadline` within [`LIMIT`].
fn assert_every_executor_stops_at_the_deadline(block: &BlockInput) {
    let stm = BlockStm::default();
    let runs: [(&str, &dyn Executor, usize); 3] =
        [("sequential", &Sequential, 1), ("block-stm", &stm, 1), ("block-stm", &stm, 2)];
    for (name, executor, threads) in runs {
        let start = Instant::now();
        let run = RunControl { threads, deadline: Some(start + DEADLINE), ..Default::default() };
        let result = executor.execute(block, &run);
        let took = start.elapsed();
        assert_eq!(result.err(), Some(ExecError::Deadline), "{name} at {threads} threads, {:?}", block.fork);
        assert!(took < LIMIT, "{name} at {threads} threads took {took:?} on {:?}", block.fork);
        assert!(took >= DEADLINE, "{name} at {threads} threads gave up early, after {took:?}");
    }
}

#[test]
fn endless_loop_under_a_huge_gas_limit_stops_at_the_deadline() {
    for fork in [Fork::Istanbul, Fork::Cancun, Fork::Prague] {
        let b = block(fork, vec![call(fork, ALICE, LOOP, u64::MAX)]);
        assert_every_executor_stops_at_the_deadline(&b);
    }
}

#[test]
fn endless_loops_among_other_transactions_stop_every_worker() {
    for fork in [Fork::Berlin, Fork::Cancun] {
        let b = block(
            fork,
            vec![
                call(fork, ALICE, BOB, 21_000),
                call(fork, BOB, LOOP, u64::MAX - 1),
                call(fork, CAROL, COUNTDOWN, 5_000_000),
                call(fork, DAVE, LOOP, u64::MAX / 2),
            ],
        );
        assert_every_executor_stops_at_the_deadline(&b);
    }
}

#[test]
fn endless_call_tree_without_jumps_stops_at_the_deadline() {
    for fork in [Fork::Istanbul, Fork::Cancun] {
        let b = block(fork, vec![call(fork, ALICE, CALL_TREE, u64::MAX)]);
        assert_every_executor_stops_at_the_deadline(&b);
    }
}

/// Under a deadline far away, the checkpoints read the clock (2.6 million gas of loop is
/// several budgets) and change nothing: the outcomes are those of a run without a deadline.
#[test]
fn a_far_deadline_changes_no_outcome() {
    let fork = Fork::Cancun;
    let b = block(fork, vec![call(fork, ALICE, COUNTDOWN, 5_000_000), call(fork, BOB, CALL_TREE, 1_000_000)]);
    let expected = Sequential.execute(&b, &RunControl::default()).unwrap();
    assert!(matches!(
        expected.outcomes[0],
        TxOutcome::Executed { status: TxStatus::Success, gas_used, .. } if gas_used > 2_600_000
    ));
    let stm = BlockStm::default();
    let far = Some(Instant::now() + Duration::from_secs(3600));
    for (executor, threads) in [(&Sequential as &dyn Executor, 1), (&stm, 1), (&stm, 2)] {
        let got = executor.execute(&b, &RunControl { threads, deadline: far, ..Default::default() }).unwrap();
        assert_eq!(got.outcomes, expected.outcomes);
        assert_eq!(got.post_state, expected.post_state);
    }
}

#[test]
fn memory_past_the_limit_halts_the_transaction_at_once() {
    let stm = BlockStm::default();
    // Not Osaka: EIP-7825 caps a transaction at 2^24 gas there, which bounds memory by itself.
    for fork in [Fork::Istanbul, Fork::Cancun, Fork::Prague] {
        let b = block(fork, vec![call(fork, ALICE, FAR_STORE, u64::MAX), call(fork, BOB, NEAR_STORE, u64::MAX)]);
        let expected = Sequential.execute(&b, &RunControl::default()).unwrap();
        let status = |o: &TxOutcome| match o {
            TxOutcome::Executed { status, .. } => Some(*status),
            _ => None,
        };
        // 64 GiB is refused as an out-of-gas halt; 16 MiB is an ordinary store.
        assert_eq!(status(&expected.outcomes[0]), Some(TxStatus::Halt), "{fork:?}");
        assert_eq!(status(&expected.outcomes[1]), Some(TxStatus::Success), "{fork:?}");
        for threads in [1, 2] {
            let start = Instant::now();
            let got = stm.execute(&b, &RunControl::with_threads(threads)).unwrap();
            assert_eq!(got.outcomes, expected.outcomes, "{fork:?} at {threads} threads");
            assert!(start.elapsed() < LIMIT, "{:?}", start.elapsed());
        }
    }
}

fn with_excess_blob_gas(fork: Fork, excess: u64) -> BlockInput {
    let mut b = block(fork, vec![call(fork, ALICE, BOB, 21_000)]);
    b.env.excess_blob_gas = Some(excess);
    b
}

#[test]
fn huge_excess_blob_gas_is_an_invalid_block_at_once() {
    let stm = BlockStm::default();
    for fork in [Fork::Cancun, Fork::Prague, Fork::Osaka] {
        for excess in [u64::MAX, 1 << 48, 1 << 32] {
            let b = with_excess_blob_gas(fork, excess);
            for (executor, threads) in [(&Sequential as &dyn Executor, 1), (&stm, 2)] {
                let start = Instant::now();
                let result = executor.execute(&b, &RunControl::with_threads(threads));
                let took = start.elapsed();
                let Err(ExecError::InvalidBlock(message)) = result else {
                    panic!("{} on {fork:?}, excess {excess}: {result:?}", executor.name());
                };
                assert!(message.contains("excess blob gas"), "{message}");
                assert!(took < Duration::from_secs(1), "{} took {took:?}", executor.name());
            }
        }
    }
}

#[test]
fn excess_blob_gas_up_to_the_maximum_runs() {
    let stm = BlockStm::default();
    for (fork, fraction) in [(Fork::Cancun, FRACTION_CANCUN), (Fork::Prague, FRACTION_PRAGUE)] {
        let max = MAX_BLOB_FEE_EXPONENT * fraction;
        let at_max = with_excess_blob_gas(fork, max);
        let expected = Sequential.execute(&at_max, &RunControl::default()).unwrap();
        assert!(matches!(expected.outcomes[0], TxOutcome::Executed { status: TxStatus::Success, .. }));
        assert_eq!(stm.execute(&at_max, &RunControl::with_threads(2)).unwrap().outcomes, expected.outcomes);
        let above = with_excess_blob_gas(fork, max + 1);
        for executor in [&Sequential as &dyn Executor, &stm] {
            let result = executor.execute(&above, &RunControl::with_threads(2));
            assert!(matches!(result, Err(ExecError::InvalidBlock(_))), "{} on {fork:?}: {result:?}", executor.name());
        }
    }
}
