//! Generated workloads are deterministic and do on the reference what they are designed to.

use alloy_primitives::{Address, U256};
use lockstep_executors::{BlockOutput, Executor, RunControl, Sequential, TxOutcome, TxStatus};
use lockstep_harness::workload::{ArbitraryBlock, COINBASE, Family, Generated, Workload, contracts};
use proptest::prelude::*;

fn run(g: &Generated) -> BlockOutput {
    Sequential.execute(&g.block, &RunControl::default()).expect("the reference runs every generated block")
}

fn rejected(out: &BlockOutput) -> usize {
    out.outcomes.iter().filter(|o| matches!(o, TxOutcome::Rejected { .. })).count()
}

fn successes(out: &BlockOutput) -> usize {
    out.outcomes.iter().filter(|o| matches!(o, TxOutcome::Executed { status: TxStatus::Success, .. })).count()
}

fn to_count(g: &Generated, to: Address) -> usize {
    g.block.txs.iter().filter(|t| t.to == Some(to)).count()
}

#[test]
fn same_seed_same_block_byte_for_byte() {
    for f in Family::ALL {
        let w = Workload::new(f, 40).with_hot_ratio(0.3);
        let a = serde_json::to_vec(&w.generate(7).block).unwrap();
        let b = serde_json::to_vec(&w.generate(7).block).unwrap();
        assert_eq!(a, b, "{f}");
        let c = serde_json::to_vec(&w.generate(8).block).unwrap();
        assert_ne!(a, c, "{f}: the seed must matter");
    }
}

#[test]
fn every_family_runs_with_exactly_its_designed_rejections() {
    for f in Family::ALL {
        for hot in [0.0, 0.5, 1.0] {
            let g = Workload::new(f, 60).with_accounts(30).with_hot_ratio(hot).generate(11);
            let out = run(&g);
            assert_eq!(rejected(&out), g.expected_rejections, "{f} hot={hot}: {:?}", out.outcomes);
        }
    }
}

#[test]
fn raw_transfers_conserve_ether_minus_burnt_base_fee() {
    let g = Workload::new(Family::RawTransfers, 200).with_hot_ratio(0.3).generate(1);
    let out = run(&g);
    assert_eq!(successes(&out), 200);
    let sum = |s: &lockstep_executors::State| s.values().fold(U256::ZERO, |a, acc| a + acc.balance);
    let gas: u64 = out.outcomes.iter().map(|o| o.gas_used()).sum();
    let burnt = U256::from(gas) * U256::from(lockstep_harness::workload::BASE_FEE);
    assert_eq!(sum(&g.block.pre_state), sum(&out.post_state) + burnt);
}

#[test]
fn erc20_balances_add_up_to_the_supply() {
    let g = Workload::new(Family::Erc20, 150).with_accounts(50).with_hot_ratio(0.3).generate(2);
    let out = run(&g);
    assert_eq!(successes(&out), 150);
    let token = g.block.txs[0].to.unwrap();
    let storage = &out.post_state[&token].storage;
    let supply = storage[&U256::from(1)];
    let total = storage.iter().filter(|(k, _)| **k != U256::from(1)).fold(U256::ZERO, |a, (_, v)| a + *v);
    assert_eq!(total, supply);
    // Every transfer logged one Transfer event.
    assert_eq!(out.outcomes.iter().map(|o| o.logs().len()).sum::<usize>(), 150);
}

#[test]
fn amm_reserves_follow_constant_product_minus_fee() {
    let g = Workload::new(Family::Amm, 120).with_hot_ratio(0.7).generate(3);
    let out = run(&g);
    assert_eq!(successes(&out), 120);
    let reserves = |s: &lockstep_executors::State, p: &Address| {
        let st = &s[p].storage;
        (st[&U256::ZERO], st[&U256::from(1)])
    };
    let mut pools: Vec<Address> = g.block.txs.iter().filter_map(|t| t.to).collect();
    pools.sort();
    pools.dedup();
    for p in pools {
        let (x0, y0) = reserves(&g.block.pre_state, &p);
        let (x1, y1) = reserves(&out.post_state, &p);
        // The 0.3% fee stays in the pool: k never falls, and rises whenever a swap happened.
        assert!(x1 * y1 > x0 * y0, "pool {p}: {x0}*{y0} -> {x1}*{y1}");
    }
}

#[test]
fn nft_counter_counts_the_mints() {
    let g = Workload::new(Family::NftMint, 90).with_hot_ratio(1.0).generate(4);
    let out = run(&g);
    assert_eq!(successes(&out), 90);
    let mut total = 0;
    for (a, acc) in &out.post_state {
        if acc.code == contracts::runtime("Nft") {
            let minted = acc.storage.get(&U256::ZERO).copied().unwrap_or_default();
            assert_eq!(minted, U256::from(to_count(&g, *a)));
            total += to_count(&g, *a);
        }
    }
    assert_eq!(total, 90);
}

#[test]
fn beneficiary_block_contains_its_hazards() {
    let g = Workload::new(Family::Beneficiary, 60).generate(5);
    let out = run(&g);
    let txs = &g.block.txs;
    assert!(txs.iter().any(|t| t.sender == COINBASE), "coinbase sends");
    assert!(txs.iter().any(|t| t.to == Some(COINBASE)), "coinbase receives");
    assert!(txs.iter().any(|t| t.max_priority_fee_per_gas == Some(0)), "a zero tip");
    let reader = txs[0].to.unwrap();
    assert!(to_count(&g, reader) >= 5, "BALANCE(coinbase) readers");
    assert_eq!(successes(&out), 60);
    let seen = out.post_state[&reader].storage[&U256::ZERO];
    assert!(seen > U256::ZERO);
}

#[test]
fn phoenix_is_destroyed_and_reborn() {
    let g = Workload::new(Family::Phoenix, 50).generate(6);
    assert_eq!(g.block.fork, lockstep_executors::Fork::Shanghai);
    let out = run(&g);
    let rebirths = out
        .outcomes
        .iter()
        .filter(|o| matches!(o, TxOutcome::Executed { status: TxStatus::Success, output, .. } if output.len() == 32 && output[12..] != [0u8; 20]))
        .count();
    assert!(rebirths >= 1, "{:?}", out.outcomes);
}

#[test]
fn nonce_factory_bumps_only_nonces() {
    let g = Workload::new(Family::NonceFactory, 40).generate(7);
    let out = run(&g);
    assert_eq!(successes(&out), 40);
    for t in &g.block.txs {
        let f = t.to.unwrap();
        assert_eq!(out.post_state[&f].nonce, 1 + to_count(&g, f) as u64);
        assert_eq!(out.post_state[&f].balance, U256::ZERO);
    }
}

#[test]
fn nonce_gaps_and_speculative_funding_reject_by_design() {
    let g = Workload::new(Family::NonceGaps, 200).generate(8);
    assert!(g.expected_rejections >= 5, "{}", g.expected_rejections);
    assert_eq!(rejected(&run(&g)), g.expected_rejections);
    let g = Workload::new(Family::SpeculativeFunding, 200).generate(9);
    assert!(g.expected_rejections >= 3, "{}", g.expected_rejections);
    let out = run(&g);
    assert_eq!(rejected(&out), g.expected_rejections);
    assert_eq!(g.block.txs.len(), 200);
}

#[test]
fn empty_accounts_are_cleared() {
    let g = Workload::new(Family::EmptyAccounts, 60).generate(10);
    assert!(g.block.pre_state.values().any(|a| a.is_empty()));
    let out = run(&g);
    assert!(out.post_state.values().all(|a| !a.is_empty()), "EIP-161 cleared every touched empty account");
}

#[test]
fn eip7702_delegates_and_runs_delegated_code() {
    let g = Workload::new(Family::Eip7702, 80).generate(11);
    let out = run(&g);
    assert_eq!(rejected(&out), 0);
    let delegated = out.post_state.values().filter(|a| a.code.starts_with(&[0xef, 0x01, 0x00])).count();
    assert!(delegated >= 1);
    assert!(
        g.block.txs.iter().any(|t| !t.authorization_list.is_empty() && t.authorization_list[0].nonce == t.nonce + 1),
        "a self-authorization"
    );
}

#[test]
fn hot_key_counter_counts_every_increment() {
    let g = Workload::new(Family::HotKey, 70).generate(12);
    let out = run(&g);
    let counter = g.block.txs[0].to.unwrap();
    assert_eq!(out.post_state[&counter].storage[&U256::ZERO], U256::from(70));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_generated_block_runs_on_the_reference((w, seed) in lockstep_harness::workload::strategy()) {
        let g = w.generate(seed);
        let out = run(&g);
        prop_assert_eq!(rejected(&out), g.expected_rejections);
    }
}

#[test]
fn slot_collisions_pair_slots_equal_in_one_half() {
    let g = Workload::new(Family::SlotCollisions, 40).generate(3);
    let contract = g.block.txs[0].to.unwrap();
    let slots: Vec<U256> = g.block.pre_state[&contract].storage.keys().copied().collect();
    let low = |s: &U256| s.as_limbs()[0];
    let high = |s: &U256| *s >> 64;
    let collide_low = slots.iter().any(|a| slots.iter().any(|b| a != b && low(a) == low(b)));
    let collide_high = slots.iter().any(|a| slots.iter().any(|b| a != b && high(a) == high(b)));
    assert!(collide_low && collide_high, "{slots:?}");
    // Each transaction reads one slot of a triple and writes another: every one succeeds, and
    // a written slot holds what was read plus one.
    let out = run(&g);
    assert_eq!(successes(&out), 40);
    let t = &g.block.txs[0];
    let (read, write) = (U256::from_be_slice(&t.input[..32]), U256::from_be_slice(&t.input[32..64]));
    assert_ne!(read, write);
    assert!(low(&read) == low(&write) || high(&read) == high(&write));
}

#[test]
fn phoenix_reads_after_the_rebirth_even_in_a_small_block() {
    let g = Workload::new(Family::Phoenix, 8).generate(2);
    let at = g.block.txs[0].to.unwrap();
    let read = contracts::call("Phoenix", "read()", &[]);
    let reborn =
        g.block.txs.iter().position(|t| t.input.starts_with(&contracts::call("Factory", "rebirth()", &[])[..4]));
    let last_read = g.block.txs.iter().rposition(|t| t.to == Some(at) && t.input == read);
    assert!(reborn.is_some_and(|r| last_read.is_some_and(|l| l > r)), "{reborn:?} {last_read:?}");
}

#[test]
fn the_beneficiary_sends_after_fees_credited_since_its_last_explicit_write() {
    let g = Workload::new(Family::Beneficiary, 8).generate(4);
    let txs = &g.block.txs;
    let send = txs.iter().position(|t| t.sender == COINBASE).expect("the beneficiary sends");
    let last_write = txs[..send].iter().rposition(|t| t.to == Some(COINBASE)).expect("an explicit write before");
    let reader = txs[0].to.unwrap();
    assert!(txs[last_write + 1..send].iter().all(|t| t.to != Some(reader) && t.to != Some(COINBASE)));
    assert!(send - last_write >= 2, "fee-paying transfers between");
}

#[test]
fn arbitrary_bytes_make_valid_blocks() {
    use arbitrary::{Arbitrary, Unstructured};
    for i in 0..40u8 {
        let bytes: Vec<u8> = (0..64u8).map(|j| i.wrapping_mul(31).wrapping_add(j.wrapping_mul(7))).collect();
        let a = ArbitraryBlock::arbitrary(&mut Unstructured::new(&bytes)).unwrap();
        let g = a.generate();
        assert_eq!(rejected(&run(&g)), g.expected_rejections, "{a:?}");
    }
}
