//! Multi-transaction blocks for every applicable class of ../shared/known-bugs.md, each run
//! on Block-STM at 1, 2, 4 and 8 threads, repeated, and compared with the sequential
//! reference: per-transaction outcome and full post-state must be identical.
//!
//! Needs the bundled executors (the `revm` feature, on by default).
#![cfg(feature = "revm")]

use alloy_primitives::{Address, B256, Bytes, U256, address, keccak256};
use k256::ecdsa::SigningKey;
use lockstep_executors::hook::{SchedEvent, ScheduleHook, WorkerId};
use lockstep_executors::{
    Account, Authorization, BEACON_ROOTS_ADDRESS, BlockEnv, BlockInput, BlockOutput, BlockRules, BlockStm, ExecError,
    Executor, Fork, Ommer, RejectKind, RunControl, Sequential, State, Tx, TxOutcome, TxType, Withdrawal,
};
use std::sync::Arc;

const ETH: u128 = 1_000_000_000_000_000_000;
const COINBASE: Address = address!("0x000000000000000000000000000000000c014ba5");
const BASE_FEE: u64 = 7;
const REPEAT: usize = 8;

fn key(i: u64) -> SigningKey {
    let mut bytes = [0u8; 32];
    bytes[24..].copy_from_slice(&(i + 1).to_be_bytes());
    SigningKey::from_slice(&bytes).unwrap()
}

fn addr_of(k: &SigningKey) -> Address {
    let point = k.verifying_key().to_encoded_point(false);
    Address::from_raw_public_key(&point.as_bytes()[1..])
}

fn user(i: u64) -> Address {
    addr_of(&key(i))
}

struct Block {
    fork: Fork,
    pre: State,
    txs: Vec<Tx>,
    rules: Option<BlockRules>,
}

impl Block {
    fn new(fork: Fork, users: u64) -> Block {
        let mut pre = State::new();
        for i in 0..users {
            pre.insert(user(i), Account { balance: U256::from(ETH), ..Default::default() });
        }
        Block { fork, pre, txs: Vec::new(), rules: None }
    }

    fn contract(&mut self, at: Address, code: &[u8]) -> &mut Self {
        self.pre.insert(at, Account { code: Bytes::copy_from_slice(code), ..Default::default() });
        self
    }

    fn tx(&mut self, from: Address, to: Option<Address>, value: u128, input: &[u8]) -> &mut Tx {
        let nonce =
            self.txs.iter().filter(|t| t.sender == from).count() as u64 + self.pre.get(&from).map_or(0, |a| a.nonce);
        self.txs.push(Tx {
            tx_type: if self.fork >= Fork::London { TxType::Eip1559 } else { TxType::Legacy },
            sender: from,
            to,
            value: U256::from(value),
            input: Bytes::copy_from_slice(input),
            gas_limit: 300_000,
            gas_price: if self.fork >= Fork::London { 20 } else { 10 },
            max_priority_fee_per_gas: (self.fork >= Fork::London).then_some(2),
            nonce,
            chain_id: Some(1),
            ..Default::default()
        });
        self.txs.last_mut().unwrap()
    }

    /// Independent transfers from fresh senders, so the parallel path really runs.
    fn fillers(&mut self, first_user: u64, n: u64) -> &mut Self {
        for i in first_user..first_user + n {
            self.tx(user(i), Some(address!("0x00000000000000000000000000000000000f111e")), 1, &[]);
        }
        self
    }

    fn input(&self) -> BlockInput {
        BlockInput {
            fork: self.fork,
            chain_id: 1,
            env: BlockEnv {
                number: U256::from(1),
                timestamp: U256::from(1_000),
                coinbase: COINBASE,
                gas_limit: 60_000_000,
                base_fee: (self.fork >= Fork::London).then_some(BASE_FEE),
                difficulty: U256::from(0x20000),
                prevrandao: (self.fork >= Fork::Merge).then_some(B256::ZERO),
                excess_blob_gas: (self.fork >= Fork::Cancun).then_some(0),
                block_hashes: BlockEnv::state_test_hashes(U256::from(1)),
            },
            pre_state: self.pre.clone(),
            txs: self.txs.clone(),
            rules: self.rules.clone(),
        }
    }
}

/// Block-STM equals sequential at 1, 2, 4 and 8 threads, every time.
fn assert_agrees(block: &BlockInput) -> BlockOutput {
    let expected = Sequential.execute(block, &RunControl::default()).unwrap();
    let stm = BlockStm::default();
    for threads in [1, 2, 4, 8] {
        for round in 0..REPEAT {
            let got = stm.execute(block, &RunControl::with_threads(threads)).unwrap();
            assert_eq!(got.outcomes, expected.outcomes, "outcomes differ at {threads} threads, round {round}");
            assert_eq!(got.post_state, expected.post_state, "post-state differs at {threads} threads, round {round}");
            assert_eq!(got.requests, expected.requests, "requests differ at {threads} threads, round {round}");
        }
    }
    expected
}

fn executed(o: &TxOutcome) -> bool {
    matches!(o, TxOutcome::Executed { .. })
}

/// Stores the beneficiary's balance at slot 0 and returns it.
const READ_COINBASE: &[u8] = &[0x41, 0x31, 0x80, 0x60, 0x00, 0x55, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3];

#[test]
fn beneficiary_balance_read_after_fee_paying_transfers() {
    let reader = address!("0x00000000000000000000000000000000000a0001");
    let mut b = Block::new(Fork::Cancun, 40);
    b.contract(reader, READ_COINBASE);
    b.fillers(1, 20);
    b.tx(user(0), Some(reader), 0, &[]);
    b.fillers(21, 10);
    b.tx(user(31), Some(reader), 0, &[]);
    let out = assert_agrees(&b.input());
    assert!(out.outcomes.iter().all(executed));
    // 20 transfers at a 2 wei tip, 21,000 gas each, are in the balance the reader stored.
    let stored = out.post_state[&reader].storage[&U256::ZERO];
    assert!(stored >= U256::from(20u64 * 21_000 * 2), "{stored}");
}

#[test]
fn beneficiary_sends_in_the_middle_of_the_block() {
    let mut b = Block::new(Fork::Cancun, 30);
    b.pre.insert(COINBASE, Account { balance: U256::from(ETH), ..Default::default() });
    b.fillers(0, 10);
    b.tx(COINBASE, Some(user(5)), 12345, &[]);
    b.fillers(10, 10);
    b.tx(COINBASE, Some(user(6)), 1, &[]);
    let out = assert_agrees(&b.input());
    assert_eq!(out.post_state[&COINBASE].nonce, 2);
}

#[test]
fn beneficiary_is_a_contract_that_writes_its_storage() {
    // Coinbase code: SSTORE(CALLVALUE, 1), i.e. records that it was paid.
    let mut b = Block::new(Fork::Cancun, 30);
    b.contract(COINBASE, &[0x60, 0x01, 0x34, 0x55, 0x00]);
    b.fillers(0, 10);
    b.tx(user(20), Some(COINBASE), 77, &[]);
    b.fillers(10, 5);
    b.tx(user(21), Some(COINBASE), 78, &[]);
    let out = assert_agrees(&b.input());
    assert_eq!(out.post_state[&COINBASE].storage.len(), 2);
}

#[test]
fn beneficiary_absent_with_zero_tip_and_before_spurious_dragon() {
    // London on: a max fee equal to the base fee pays no tip; the absent coinbase stays absent.
    let mut b = Block::new(Fork::Cancun, 20);
    b.fillers(0, 10);
    for t in &mut b.txs {
        t.gas_price = BASE_FEE as u128;
        t.max_priority_fee_per_gas = Some(0);
    }
    let out = assert_agrees(&b.input());
    assert!(!out.post_state.contains_key(&COINBASE));
    // Frontier: gas price 0, the touched empty coinbase comes into existence.
    let mut b = Block::new(Fork::Frontier, 20);
    let reader = address!("0x00000000000000000000000000000000000a0001");
    b.contract(reader, READ_COINBASE);
    b.fillers(0, 10);
    b.tx(user(15), Some(reader), 0, &[]);
    for t in &mut b.txs {
        t.gas_price = 0;
    }
    let out = assert_agrees(&b.input());
    assert_eq!(out.post_state.get(&COINBASE), Some(&Account::default()));
    // The same with no reader: only the deferred zero fees bring the coinbase into being.
    let mut b = Block::new(Fork::Frontier, 20);
    b.fillers(0, 10);
    for t in &mut b.txs {
        t.gas_price = 0;
    }
    let out = assert_agrees(&b.input());
    assert_eq!(out.post_state.get(&COINBASE), Some(&Account::default()));
    // An empty coinbase in the pre-state is cleared by a zero reward from Spurious Dragon on.
    let mut b = Block::new(Fork::Cancun, 20);
    b.pre.insert(COINBASE, Account::default());
    b.fillers(0, 6);
    for t in &mut b.txs {
        t.gas_price = BASE_FEE as u128;
        t.max_priority_fee_per_gas = Some(0);
    }
    let out = assert_agrees(&b.input());
    assert!(!out.post_state.contains_key(&COINBASE));
}

/// Runtime of X: with calldata, returns (slot 0, slot 1); without, self-destructs to the caller.
const X_RUNTIME: &[u8] = &[
    0x36, 0x60, 0x0c, 0x57, 0x33, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 0x00..0x0b
    0x5b, 0x60, 0x00, 0x54, 0x60, 0x00, 0x52, 0x60, 0x01, 0x54, 0x60, 0x20, 0x52, 0x60, 0x40, 0x60, 0x00, 0xf3,
];

/// Initcode of X: SSTORE(1, 7), then return X_RUNTIME.
fn x_initcode() -> Vec<u8> {
    let header_len = 5 + 12;
    let mut code = vec![0x60, 0x07, 0x60, 0x01, 0x55];
    let len = X_RUNTIME.len() as u8;
    code.extend_from_slice(&[0x60, len, 0x60, header_len as u8, 0x60, 0x00, 0x39, 0x60, len, 0x60, 0x00, 0xf3]);
    assert_eq!(code.len(), header_len);
    code.extend_from_slice(X_RUNTIME);
    code
}

/// Factory: CREATE2(0, calldata, salt 0), stores the result at slot 0.
const FACTORY: &[u8] =
    &[0x36, 0x60, 0x00, 0x60, 0x00, 0x37, 0x60, 0x00, 0x36, 0x60, 0x00, 0x60, 0x00, 0xf5, 0x60, 0x00, 0x55, 0x00];

fn destroy_redeploy_access(fork: Fork) -> BlockOutput {
    let factory = address!("0x00000000000000000000000000000000000fac70");
    let init = x_initcode();
    let x = factory.create2(B256::ZERO, keccak256(&init));
    let mut b = Block::new(fork, 40);
    b.contract(factory, FACTORY);
    b.pre.insert(
        x,
        Account {
            balance: U256::from(1000),
            nonce: 1,
            code: Bytes::copy_from_slice(X_RUNTIME),
            storage: [(U256::ZERO, U256::from(5)), (U256::from(1), U256::from(9))].into(),
        },
    );
    b.fillers(10, 8);
    b.tx(user(0), Some(x), 0, &[]);
    b.fillers(18, 4);
    b.tx(user(1), Some(factory), 0, &init);
    b.fillers(22, 4);
    b.tx(user(2), Some(x), 0, &[1]);
    assert_agrees(&b.input())
}

#[test]
fn self_destruct_then_create2_redeploy_then_access() {
    // Shanghai: destroyed, re-created from empty storage, then read: (0, 7).
    let out = destroy_redeploy_access(Fork::Shanghai);
    let TxOutcome::Executed { output, .. } = out.outcomes.last().unwrap() else { panic!() };
    assert_eq!(output[..32], B256::ZERO[..]);
    assert_eq!(U256::from_be_slice(&output[32..]), U256::from(7));
    // Cancun (EIP-6780): the old contract survives, the redeploy collides: (5, 9).
    let out = destroy_redeploy_access(Fork::Cancun);
    let TxOutcome::Executed { output, .. } = out.outcomes.last().unwrap() else { panic!() };
    assert_eq!(U256::from_be_slice(&output[..32]), U256::from(5));
    assert_eq!(U256::from_be_slice(&output[32..]), U256::from(9));
}

#[test]
fn nonce_only_create_by_a_factory() {
    // CREATE(0, 0, 0): an empty contract; only the factory's nonce changes.
    let factory = address!("0x00000000000000000000000000000000000fac71");
    let mut b = Block::new(Fork::Cancun, 40);
    b.contract(factory, &[0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0xf0, 0x00]);
    b.pre.get_mut(&factory).unwrap().nonce = 1;
    for i in 0..6 {
        b.fillers(10 + i * 3, 3);
        b.tx(user(i), Some(factory), 0, &[]);
    }
    let out = assert_agrees(&b.input());
    assert_eq!(out.post_state[&factory].nonce, 7);
    assert!(out.post_state.contains_key(&factory.create(6)));
}

#[test]
fn nonce_gap_terminates_and_rejects() {
    let mut b = Block::new(Fork::Cancun, 30);
    b.fillers(10, 5);
    b.tx(user(0), Some(user(1)), 1, &[]).nonce = 5; // too high, forever
    b.fillers(15, 5);
    b.tx(user(0), Some(user(1)), 1, &[]).nonce = 1; // too high now ...
    b.tx(user(0), Some(user(1)), 1, &[]).nonce = 0; // ... valid
    b.tx(user(0), Some(user(1)), 1, &[]).nonce = 1; // valid after the previous one
    b.tx(user(0), Some(user(1)), 1, &[]).nonce = 1; // too low
    let out = assert_agrees(&b.input());
    let kinds: Vec<_> = out
        .outcomes
        .iter()
        .filter_map(|o| match o {
            TxOutcome::Rejected { kind } => Some(kind.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, vec![RejectKind::NonceTooHigh, RejectKind::NonceTooHigh, RejectKind::NonceTooLow]);
}

#[test]
fn sender_funded_by_a_lower_transaction() {
    let poor = user(39);
    let mut b = Block::new(Fork::Cancun, 39);
    b.tx(poor, Some(user(2)), 1, &[]); // no funds yet: rejected
    b.fillers(10, 8);
    b.tx(user(0), Some(poor), ETH / 10, &[]);
    b.fillers(18, 8);
    b.tx(poor, Some(user(2)), 1, &[]).nonce = 0; // funded now
    let out = assert_agrees(&b.input());
    assert_eq!(out.outcomes[0], TxOutcome::Rejected { kind: RejectKind::InsufficientFunds });
    assert!(executed(out.outcomes.last().unwrap()));
}

#[test]
fn zero_value_transfers_to_empty_accounts_and_precompiles() {
    for fork in [Fork::Homestead, Fork::SpuriousDragon, Fork::Byzantium, Fork::Cancun] {
        let mut b = Block::new(fork, 30);
        b.pre.insert(address!("0x00000000000000000000000000000000000e0001"), Account::default());
        for i in 0..6u64 {
            b.tx(user(i), Some(Address::with_last_byte(0xe0 + i as u8)), 0, &[]);
            b.tx(user(i + 10), Some(address!("0x00000000000000000000000000000000000e0001")), 0, &[]);
            b.tx(user(i + 20), Some(Address::with_last_byte(4)), 0, &[1, 2, 3]); // identity precompile
        }
        assert_agrees(&b.input());
    }
}

/// Signs an EIP-7702 authorization with `k`.
fn authorize(k: &SigningKey, delegate: Address, nonce: u64) -> Authorization {
    let inner = revm_auth(delegate, nonce);
    let (sig, recid) = k.sign_prehash_recoverable(inner.as_slice()).unwrap();
    let (r, s) = (U256::from_be_slice(&sig.r().to_bytes()), U256::from_be_slice(&sig.s().to_bytes()));
    Authorization { chain_id: U256::from(1), address: delegate, nonce, y_parity: recid.to_byte(), r, s }
}

/// keccak256(0x05 || rlp([chain_id, address, nonce])), the EIP-7702 signing hash.
fn revm_auth(delegate: Address, nonce: u64) -> B256 {
    use alloy_rlp::Encodable;
    let mut payload = Vec::new();
    U256::from(1).encode(&mut payload);
    delegate.encode(&mut payload);
    nonce.encode(&mut payload);
    let mut out = vec![0x05];
    alloy_rlp::Header { list: true, payload_length: payload.len() }.encode(&mut out);
    out.extend_from_slice(&payload);
    keccak256(&out)
}

#[test]
fn eip7702_self_authorization_and_re_delegation() {
    let d1 = address!("0x00000000000000000000000000000000000de1e1");
    let d2 = address!("0x00000000000000000000000000000000000de1e2");
    let mut b = Block::new(Fork::Prague, 40);
    b.contract(d1, &[0x60, 0x01, 0x60, 0x00, 0x55, 0x00]); // SSTORE(0, 1)
    b.contract(d2, &[0x60, 0x02, 0x60, 0x01, 0x55, 0x00]); // SSTORE(1, 2)
    // Self-authorization: the sender's nonce is bumped by the transaction first, so it signs
    // nonce + 1 and ends two higher.
    let me = key(0);
    let t = b.tx(user(0), Some(user(1)), 0, &[]);
    t.tx_type = TxType::Eip7702;
    t.authorization_list = vec![authorize(&me, d1, 1)];
    b.fillers(20, 6);
    b.tx(user(2), Some(user(0)), 0, &[]); // runs d1 in user 0's storage
    // Re-delegation of user 3 by two other senders' transactions: first to d1, then to d2.
    let z = key(3);
    let t = b.tx(user(4), Some(user(5)), 0, &[]);
    t.tx_type = TxType::Eip7702;
    t.authorization_list = vec![authorize(&z, d1, 0)];
    b.fillers(26, 4);
    let t = b.tx(user(6), Some(user(5)), 0, &[]);
    t.tx_type = TxType::Eip7702;
    t.authorization_list = vec![authorize(&z, d2, 1)];
    b.tx(user(7), Some(user(3)), 0, &[]); // runs d2 in user 3's storage
    let out = assert_agrees(&b.input());
    assert!(out.outcomes.iter().all(executed), "{:?}", out.outcomes);
    assert_eq!(out.post_state[&user(0)].nonce, 2);
    assert_eq!(out.post_state[&user(0)].storage[&U256::ZERO], U256::from(1));
    assert_eq!(out.post_state[&user(3)].storage[&U256::from(1)], U256::from(2));
    assert_eq!(&out.post_state[&user(3)].code[..3], &[0xef, 0x01, 0x00]);
}

/// With calldata: SSTORE(0, 1). Without: if slot 0 is zero SSTORE(1, 1) else SSTORE(2, 1).
const BRANCH: &[u8] = &[
    0x36, 0x60, 0x17, 0x57, 0x60, 0x00, 0x54, 0x60, 0x10, 0x57, 0x60, 0x01, 0x60, 0x01, 0x55, 0x00, // ..0x0f
    0x5b, 0x60, 0x01, 0x60, 0x02, 0x55, 0x00, // 0x10..0x16
    0x5b, 0x60, 0x01, 0x60, 0x00, 0x55, 0x00, // 0x17..
];

#[test]
fn write_set_changes_between_incarnations() {
    let c = address!("0x00000000000000000000000000000000000b4a4c");
    let mut b = Block::new(Fork::Cancun, 40);
    b.contract(c, BRANCH);
    b.fillers(10, 10);
    b.tx(user(0), Some(c), 0, &[1]);
    b.tx(user(1), Some(c), 0, &[]);
    b.fillers(20, 10);
    let out = assert_agrees(&b.input());
    let storage = &out.post_state[&c].storage;
    assert_eq!(storage.get(&U256::from(1)), None, "the stale branch's write is gone");
    assert_eq!(storage[&U256::from(2)], U256::from(1));
}

#[test]
fn fully_dependent_chain_on_one_slot() {
    // SSTORE(0, SLOAD(0) + 1)
    let counter = address!("0x00000000000000000000000000000000000c0c0c");
    let mut b = Block::new(Fork::Cancun, 40);
    b.contract(counter, &[0x60, 0x00, 0x54, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00]);
    for i in 0..40 {
        b.tx(user(i), Some(counter), 0, &[]);
    }
    let out = assert_agrees(&b.input());
    assert_eq!(out.post_state[&counter].storage[&U256::ZERO], U256::from(40));
    let stats = BlockStm::default().execute(&b.input(), &RunControl::with_threads(4)).unwrap().stats;
    assert!(stats.parallel && stats.executions >= 40, "{stats:?}");
}

#[test]
fn post_state_built_by_workers_in_address_ranges() {
    // Workers each build one address range of the post-state: accounts spread over the whole
    // address space, a beneficiary at the top of it that only receives deferred fees, and a
    // contract whose slots are written by many transactions must all land exactly once.
    // Large enough that its memory goes to the reaper thread.
    let counter = address!("0x80000000000000000000000000000000000c0c0c");
    let mut b = Block::new(Fork::Cancun, LARGE);
    // SSTORE(CALLER, 1): one slot per caller.
    b.contract(counter, &[0x60, 0x01, 0x33, 0x55, 0x00]);
    for i in 0..LARGE {
        if i % 3 == 0 {
            b.tx(user(i), Some(counter), 0, &[]);
        } else {
            b.tx(user(i), Some(user((i * 7 + 1) % LARGE)), 5, &[]);
        }
    }
    let coinbase = address!("0xfffffffffffffffffffffffffffffffffffffffe");
    b.pre.insert(coinbase, Account { balance: U256::from(1), ..Default::default() });
    let mut input = b.input();
    input.env.coinbase = coinbase;
    let out = assert_agrees(&input);
    assert_eq!(out.post_state[&counter].storage.len(), LARGE.div_ceil(3) as usize);
    assert!(out.post_state[&coinbase].balance > U256::from(1));
}

/// A block this long hands its memory to Block-STM's reaper thread (from 512 transactions).
const LARGE: u64 = 600;

/// Records how many owners the caller's block has while the workers run.
struct Owners(std::sync::Weak<BlockInput>, std::sync::atomic::AtomicUsize);

impl ScheduleHook for Owners {
    fn on_event(&self, _: WorkerId, _: &SchedEvent) {
        self.1.fetch_max(self.0.strong_count(), std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn a_shared_block_is_kept_by_the_workers_not_copied() {
    let mut b = Block::new(Fork::Cancun, 40);
    b.fillers(0, 40);
    let block = Arc::new(b.input());
    let expected = Sequential.execute(&block, &RunControl::default()).unwrap();
    // The borrowed run first: a pool thread of the shared run may still be dropping its
    // handle on the run (and so on the block) when the caller already has its output.
    for shared in [false, true] {
        let owners = Arc::new(Owners(Arc::downgrade(&block), 0.into()));
        let run = RunControl { threads: 2, hook: Some(owners.clone()), deadline: None };
        let got = if shared {
            BlockStm::default().execute_shared(&block, &run)
        } else {
            BlockStm::default().execute(&block, &run)
        };
        assert_eq!(got.unwrap().post_state, expected.post_state);
        let most = owners.1.load(std::sync::atomic::Ordering::Relaxed);
        // Shared: the caller's Arc and the run's. Borrowed: the run works on its own copy.
        assert_eq!(most, if shared { 2 } else { 1 }, "shared: {shared}");
    }
}

#[test]
fn concurrent_callers_with_different_thread_counts_share_the_pool() {
    // Callers share Block-STM's worker threads, and the workers of one block wait for each
    // other before building the post-state: blocks of different widths queued on the same
    // threads must neither deadlock nor mix.
    let mut b = Block::new(Fork::Cancun, 120);
    b.fillers(0, 120);
    let block = b.input();
    let expected = Sequential.execute(&block, &RunControl::default()).unwrap();
    std::thread::scope(|s| {
        for threads in [2, 3, 4, 8] {
            let (block, expected) = (&block, &expected);
            s.spawn(move || {
                for round in 0..REPEAT {
                    let got = BlockStm::default().execute(block, &RunControl::with_threads(threads)).unwrap();
                    assert_eq!(got.post_state, expected.post_state, "{threads} threads, round {round}");
                }
            });
        }
    });
}

/// The balance the beneficiary ends with: every executed transaction's fee (tip per gas from
/// London on, the whole price before) and what `credits` adds.
fn fees(block: &BlockInput, out: &BlockOutput) -> U256 {
    let base = block.env.base_fee.unwrap_or(0) as u128;
    block
        .txs
        .iter()
        .zip(&out.outcomes)
        .map(|(tx, o)| {
            let per_gas = match tx.max_priority_fee_per_gas {
                Some(tip) => tip.min(tx.gas_price - base),
                None => tx.gas_price,
            };
            U256::from(per_gas) * U256::from(o.gas_used())
        })
        .sum()
}

const GWEI: u64 = 1_000_000_000;

#[test]
fn beneficiary_read_while_the_block_reward_credits_it() {
    // Before the Merge: transactions read the beneficiary (their fees as deltas) and the
    // block reward with an ommer's share credits it after the last one.
    let reader = address!("0x00000000000000000000000000000000000a0001");
    let mut b = Block::new(Fork::London, 40);
    b.contract(reader, READ_COINBASE);
    b.fillers(1, 10);
    b.tx(user(0), Some(reader), 0, &[]);
    b.fillers(11, 10);
    b.tx(user(31), Some(reader), 0, &[]);
    let ommer = address!("0x00000000000000000000000000000000000e0e0e");
    b.rules = Some(BlockRules { ommers: vec![Ommer { coinbase: ommer, number: 0 }], ..Default::default() });
    let block = b.input();
    let out = assert_agrees(&block);
    let reward = U256::from(2 * ETH);
    let expected = fees(&block, &out) + reward + reward / U256::from(32);
    assert_eq!(out.post_state[&COINBASE].balance, expected);
    assert_eq!(out.post_state[&ommer].balance, reward * U256::from(7) / U256::from(8));
}

#[test]
fn beneficiary_read_while_withdrawals_credit_it() {
    let reader = address!("0x00000000000000000000000000000000000a0001");
    let mut b = Block::new(Fork::Shanghai, 40);
    b.contract(reader, READ_COINBASE);
    b.fillers(1, 12);
    b.tx(user(0), Some(reader), 0, &[]);
    b.fillers(13, 12);
    let withdrawals = vec![
        Withdrawal { index: 0, validator_index: 1, address: COINBASE, amount: 5 },
        Withdrawal { index: 1, validator_index: 2, address: user(3), amount: 7 },
        // A zero withdrawal to an account that does not exist leaves none (EIP-161).
        Withdrawal {
            index: 2,
            validator_index: 3,
            address: address!("0x0000000000000000000000000000000000ee0000"),
            amount: 0,
        },
        Withdrawal { index: 3, validator_index: 1, address: COINBASE, amount: 6 },
    ];
    b.rules = Some(BlockRules { withdrawals, ..Default::default() });
    let block = b.input();
    let out = assert_agrees(&block);
    assert_eq!(out.post_state[&COINBASE].balance, fees(&block, &out) + U256::from(11 * GWEI));
    assert!(!out.post_state.contains_key(&address!("0x0000000000000000000000000000000000ee0000")));
    // The reader stored the beneficiary's balance before the withdrawals: fees only.
    let seen = out.post_state[&reader].storage[&U256::ZERO];
    assert!(seen < fees(&block, &out), "the reader saw {seen}");
}

#[test]
fn withdrawal_to_an_account_the_block_destroys_or_creates() {
    // Shanghai: SELFDESTRUCT still deletes. A withdrawal after the transactions brings the
    // destroyed account back with only its amount, and credits the contract just created.
    let doomed = address!("0x00000000000000000000000000000000000d00d0");
    let mut code = vec![0x73];
    code.extend_from_slice(user(39).as_slice());
    code.push(0xff);
    let mut b = Block::new(Fork::Shanghai, 40);
    b.contract(doomed, &code);
    b.pre.get_mut(&doomed).unwrap().storage.insert(U256::from(1), U256::from(2));
    b.fillers(1, 8);
    b.tx(user(0), Some(doomed), 0, &[]);
    // Init code returning one byte of code (STOP).
    b.tx(user(30), None, 0, &[0x60, 0x00, 0x60, 0x00, 0x53, 0x60, 0x01, 0x60, 0x00, 0xf3]);
    b.fillers(9, 8);
    let created = user(30).create(0);
    let withdrawals = vec![
        Withdrawal { index: 0, validator_index: 0, address: doomed, amount: 3 },
        Withdrawal { index: 1, validator_index: 0, address: created, amount: 4 },
    ];
    b.rules = Some(BlockRules { withdrawals, ..Default::default() });
    let out = assert_agrees(&b.input());
    let back = &out.post_state[&doomed];
    assert_eq!((back.balance, back.code.len(), back.storage.len()), (U256::from(3 * GWEI), 0, 0));
    let new = &out.post_state[&created];
    assert_eq!((new.balance, new.code.len()), (U256::from(4 * GWEI), 1));
}

/// EIP-4788's beacon-roots contract, as deployed on mainnet.
const BEACON_ROOTS_CODE: &str = "3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500";

#[test]
fn transaction_reads_the_beacon_root_the_system_call_wrote() {
    let root = B256::repeat_byte(0x42);
    let mut b = Block::new(Fork::Cancun, 40);
    b.contract(BEACON_ROOTS_ADDRESS, &alloy_primitives::hex::decode(BEACON_ROOTS_CODE).unwrap());
    b.fillers(1, 10);
    // The block's own timestamp (1000) as the key: the root stored for this block.
    b.tx(user(0), Some(BEACON_ROOTS_ADDRESS), 0, &U256::from(1_000).to_be_bytes::<32>());
    b.fillers(11, 10);
    b.rules = Some(BlockRules { parent_beacon_block_root: Some(root), ..Default::default() });
    let out = assert_agrees(&b.input());
    let TxOutcome::Executed { output, .. } = &out.outcomes[10] else { panic!("{:?}", out.outcomes[10]) };
    assert_eq!(output.as_ref(), root.as_slice());
    // Without the block rules, the same transaction finds no root and reverts.
    b.rules = None;
    let out = assert_agrees(&b.input());
    assert!(matches!(&out.outcomes[10], TxOutcome::Executed { output, .. } if output.is_empty()));
}

/// A stand-in for EIP-2935's history contract: called by the system address it stores the
/// calldata at slot `NUMBER - 1`; called by anyone else it returns that slot.
const HISTORY_STAND_IN: &[u8] = &[
    0x33, 0x73, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xfe, 0x14, 0x60, 0x27, 0x57, 0x60, 0x01, 0x43, 0x03, 0x54, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00,
    0xf3, 0x5b, 0x60, 0x00, 0x35, 0x60, 0x01, 0x43, 0x03, 0x55, 0x00,
];

#[test]
fn prague_system_calls_around_the_transactions_and_their_requests() {
    // The history call stores the parent hash before the first transaction, which reads it
    // back; the EIP-7002 stand-in returns two bytes of withdrawal requests after the last, the
    // EIP-7251 one none.
    use lockstep_executors::{CONSOLIDATION_REQUEST_ADDRESS, HISTORY_STORAGE_ADDRESS, WITHDRAWAL_REQUEST_ADDRESS};
    let parent = B256::repeat_byte(0x5a);
    let mut b = Block::new(Fork::Prague, 30);
    b.contract(HISTORY_STORAGE_ADDRESS, HISTORY_STAND_IN);
    b.contract(WITHDRAWAL_REQUEST_ADDRESS, &[0x61, 0xab, 0xcd, 0x60, 0x00, 0x52, 0x60, 0x02, 0x60, 0x1e, 0xf3]);
    b.contract(CONSOLIDATION_REQUEST_ADDRESS, &[0x00]);
    b.fillers(1, 12);
    b.tx(user(0), Some(HISTORY_STORAGE_ADDRESS), 0, &[]);
    b.fillers(13, 12);
    b.rules = Some(BlockRules { parent_hash: parent, ..Default::default() });
    let block = b.input();
    let out = assert_agrees(&block);
    let TxOutcome::Executed { output, .. } = &out.outcomes[12] else { panic!("{:?}", out.outcomes[12]) };
    assert_eq!(output.as_ref(), parent.as_slice());
    let requests: Vec<&[u8]> = out.requests.iter().map(|r| r.as_ref()).collect();
    assert_eq!(requests, [&[0u8][..], &[1, 0xab, 0xcd], &[2]]);
    assert!(out.results(&block).requests_hash.is_some());
}

#[test]
fn blob_gas_and_receipts_follow_the_outcomes() {
    let mut b = Block::new(Fork::Cancun, 8);
    b.fillers(1, 3);
    let block = b.input();
    let out = assert_agrees(&block);
    let results = out.results(&block);
    assert_eq!(results.gas_used, 3 * 21_000);
    assert_eq!(results.blob_gas_used, 0);
    // Three receipts: a root that is not the empty trie's.
    assert_ne!(results.receipts_root, Some(lockstep_executors::trie::state_root(&State::new())));
    assert!(results.requests_hash.is_none());
}

#[test]
fn a_checked_system_call_to_a_missing_contract_invalidates_the_block() {
    // Prague: the EIP-7002 and EIP-7251 contracts must have code.
    let mut b = Block::new(Fork::Prague, 4);
    b.fillers(1, 3);
    b.rules = Some(BlockRules::default());
    let block = b.input();
    for exec in [&Sequential as &dyn Executor, &BlockStm::default()] {
        let err = exec.execute(&block, &RunControl::with_threads(2)).unwrap_err();
        assert!(matches!(&err, ExecError::InvalidBlock(m) if m.contains("has no code")), "{}: {err}", exec.name());
    }
}
