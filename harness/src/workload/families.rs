//! One generator per family. Each fills `Gen` with pre-state and transactions.

use super::authorization::authorize;
use super::contracts::{call, creation, mapping_slot, word};
use super::keys::address_of;
use super::{COINBASE, Family, Gen, USER_BALANCE};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use lockstep_executors::{Account, Fork, TxType};
use rand::Rng;

pub(crate) fn generate(g: &mut Gen) {
    match g.w.family {
        Family::RawTransfers => raw_transfers(g, g.w.txs),
        Family::Erc20 => erc20(g, g.w.txs),
        Family::Amm => amm(g, g.w.txs),
        Family::NftMint => nft(g, g.w.txs),
        Family::Beneficiary => beneficiary(g, g.w.txs),
        Family::Phoenix => phoenix(g, g.w.txs),
        Family::NonceFactory => nonce_factory(g, g.w.txs),
        Family::NonceGaps => nonce_gaps(g, g.w.txs),
        Family::SpeculativeFunding => speculative_funding(g, g.w.txs),
        Family::EmptyAccounts => empty_accounts(g, g.w.txs),
        Family::Eip7702 => eip7702(g, g.w.txs),
        Family::Branchy => branchy(g, g.w.txs),
        Family::HotKey => hot_key(g, g.w.txs),
        Family::SlotCollisions => slot_collisions(g, g.w.txs),
        Family::BlockRules => block_rules(g, g.w.txs),
        Family::Mix => mix(g),
    }
}

const TRANSFER_GAS: u64 = 21_000;
const CALL_GAS: u64 = 200_000;

/// A recipient: one of the hot set (Zipf) with probability `hot_ratio`, else a fresh one.
fn recipient(g: &mut Gen, i: usize) -> Address {
    if g.is_hot() {
        let h = g.hot_index(g.w.hot_set);
        g.fresh("hot", h)
    } else {
        g.fresh("cold", i)
    }
}

fn raw_transfers(g: &mut Gen, n: usize) {
    for i in 0..n {
        let from = g.sender_for(i);
        let to = recipient(g, i);
        let value = U256::from(g.rng.random_range(1..1_000_000u64));
        g.tx(from, Some(to), value, Bytes::new(), TRANSFER_GAS);
    }
}

/// Token balances live at `mapping_slot(holder, 0)`; total supply at slot 1.
pub const TOKEN_BALANCE: u128 = 1_000_000_000_000_000_000_000_000;

fn erc20(g: &mut Gen, n: usize) {
    let token = g.contract("Token", "erc20");
    let holders = g.w.accounts.min(n.max(1));
    for i in 0..holders {
        let h = g.sender(i);
        g.pre.get_mut(&token).expect("token").storage.insert(mapping_slot(word(h), 0), U256::from(TOKEN_BALANCE));
    }
    g.pre
        .get_mut(&token)
        .expect("token")
        .storage
        .insert(U256::from(1), U256::from(TOKEN_BALANCE) * U256::from(holders));
    for i in 0..n {
        let from = g.sender_for(i);
        let to = recipient(g, i);
        let amount = U256::from(g.rng.random_range(1..1_000_000_000u64));
        let data = call("Token", "transfer(address,uint256)", &[word(to), amount]);
        g.tx(from, Some(token), U256::ZERO, data, CALL_GAS);
    }
}

pub const POOL_RESERVE: u128 = 1_000_000_000_000_000_000_000_000;
pub const POOL_USER_BALANCE: u128 = 1_000_000_000_000_000_000_000;

/// Pools: slot 0, 1 reserves; slot 2, 3 user ledgers. Hot transactions share few pools.
fn amm(g: &mut Gen, n: usize) {
    let pools: Vec<Address> = (0..g.w.hot_set.max(1)).map(|p| g.contract("Pool", &format!("amm{p}"))).collect();
    // A cold transaction gets its own pool; hot ones crowd into the hot set.
    let mut cold_pools = Vec::new();
    for i in 0..n {
        let from = g.sender_for(i);
        let pool = if g.is_hot() || g.w.hot_ratio >= 1.0 {
            pools[g.hot_index(pools.len())]
        } else {
            let p = g.contract("Pool", &format!("cold{i}"));
            cold_pools.push(p);
            p
        };
        let s = &mut g.pre.get_mut(&pool).expect("pool").storage;
        s.entry(U256::ZERO).or_insert(U256::from(POOL_RESERVE));
        s.entry(U256::from(1)).or_insert(U256::from(POOL_RESERVE));
        s.insert(mapping_slot(word(from), 2), U256::from(POOL_USER_BALANCE));
        s.insert(mapping_slot(word(from), 3), U256::from(POOL_USER_BALANCE));
        let zero_for_one = g.rng.random_bool(0.5);
        let amount = U256::from(g.rng.random_range(1_000..1_000_000_000_000u64));
        let data = call("Pool", "swap(bool,uint256)", &[U256::from(zero_for_one as u8), amount]);
        g.tx(from, Some(pool), U256::ZERO, data, CALL_GAS);
    }
}

/// NFT collections: slot 0 the shared counter. All mints of one collection conflict.
fn nft(g: &mut Gen, n: usize) {
    let collections: Vec<Address> = (0..g.w.hot_set.max(1)).map(|c| g.contract("Nft", &format!("nft{c}"))).collect();
    for i in 0..n {
        let from = g.sender_for(i);
        let c = if g.is_hot() || g.w.hot_ratio >= 1.0 {
            collections[g.hot_index(collections.len())]
        } else {
            g.contract("Nft", &format!("cold{i}"))
        };
        let data = call("Nft", "mint()", &[]);
        g.tx(from, Some(c), U256::ZERO, data, CALL_GAS);
    }
}

fn beneficiary(g: &mut Gen, n: usize) {
    let reader = g.contract("CoinbaseReader", "beneficiary");
    // The beneficiary can send: fund it.
    g.pre.insert(COINBASE, Account { balance: U256::from(USER_BALANCE), ..Default::default() });
    // Rounds of a read of the beneficiary, an explicit write to it, `d` fee-paying transfers and
    // a transaction the beneficiary sends: the send and the next round's read come after fees
    // credited since the last explicit write.
    let d = g.w.dependency_distance.max(1);
    for i in 0..n {
        let from = g.sender_for(i);
        match i % (d + 3) {
            0 => {
                let data = call("CoinbaseReader", "read()", &[]);
                g.tx(from, Some(reader), U256::ZERO, data, CALL_GAS);
            }
            1 => {
                g.tx(from, Some(COINBASE), U256::from(i + 1), Bytes::new(), TRANSFER_GAS);
            }
            k if k == d + 2 => {
                let to = g.fresh("from-coinbase", i);
                g.tx(COINBASE, Some(to), U256::from(1000 + i), Bytes::new(), TRANSFER_GAS);
            }
            _ => {
                let to = recipient(g, i);
                let t = g.tx(from, Some(to), U256::from(1), Bytes::new(), TRANSFER_GAS);
                // Zero tip: the beneficiary is touched with a zero reward.
                if t.tx_type == TxType::Eip1559 && i % 2 == 0 {
                    t.gas_price = super::BASE_FEE as u128;
                    t.max_priority_fee_per_gas = Some(0);
                }
            }
        }
    }
}

/// Phoenix at its CREATE2 address of Factory: kill, rebirth, read, put, in rounds.
fn phoenix(g: &mut Gen, n: usize) {
    let factory = g.contract("Factory", "phoenix");
    let init = creation("Phoenix");
    let at = factory.create2(B256::ZERO, keccak256(&init));
    g.pre.insert(
        at,
        Account {
            balance: U256::from(1_000),
            nonce: 1,
            code: super::contracts::runtime("Phoenix"),
            storage: [(U256::ZERO, U256::from(7)), (U256::from(1), U256::from(99))].into(),
        },
    );
    // A round of put, kill, rebirth and read fits the block: the read after re-creation is
    // what exposes storage that survived it.
    let d = g.w.dependency_distance.max(1).min((n / 5).max(1));
    for i in 0..n {
        let from = g.sender_for(i);
        let (to, data, gas) = match (i / d) % 5 {
            0 => (at, call("Phoenix", "put(uint256)", &[U256::from(i + 1)]), CALL_GAS),
            1 => (at, call("Phoenix", "kill()", &[]), CALL_GAS),
            2 => (factory, call("Factory", "rebirth()", &[]), 600_000),
            3 => (at, call("Phoenix", "read()", &[]), CALL_GAS),
            _ => {
                let to = recipient(g, i);
                g.tx(from, Some(to), U256::from(1), Bytes::new(), TRANSFER_GAS);
                continue;
            }
        };
        g.tx(from, Some(to), U256::ZERO, data, gas);
    }
}

/// EIP-4788's beacon-roots contract, as deployed on mainnet: called with a timestamp, it
/// returns the root stored for it, or reverts.
const BEACON_ROOTS_CODE: &str = "3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500";

/// Transactions that read what the block's rules write around them, in rounds of
/// `dependency_distance + 3`: the beacon root of this block (written by the system call
/// before the first transaction, Cancun on), the beneficiary's balance (credited by the
/// withdrawals, or the block reward before the Merge, after the last), a contract created
/// and one destroyed (each then credited by a withdrawal), and transfers between.
fn block_rules(g: &mut Gen, n: usize) {
    use lockstep_executors::{BEACON_ROOTS_ADDRESS, BlockRules, Withdrawal};
    let reader = g.contract("CoinbaseReader", "block-rules");
    let code = alloy_primitives::hex::decode(BEACON_ROOTS_CODE).expect("constant hex");
    g.pre.insert(BEACON_ROOTS_ADDRESS, Account { code: code.into(), nonce: 1, ..Default::default() });
    let mut withdrawals = Vec::new();
    let mut withdraw = |g: &mut Gen, address: Address| {
        let amount = g.rng.random_range(1..1_000u64);
        let index = withdrawals.len() as u64;
        withdrawals.push(Withdrawal { index, validator_index: index % 7, address, amount });
    };
    withdraw(g, COINBASE);
    if g.w.fork >= Fork::Prague {
        // Stand-ins for the EIP-7002 and EIP-7251 contracts, which the block must call after its
        // transactions: the first answers with one 32-byte request (the word 42), the second
        // with none.
        let answers: [&'static [u8]; 2] = [&[0x60, 0x2a, 0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3], &[0x00]];
        let contracts =
            [lockstep_executors::WITHDRAWAL_REQUEST_ADDRESS, lockstep_executors::CONSOLIDATION_REQUEST_ADDRESS];
        for (a, code) in contracts.into_iter().zip(answers) {
            g.pre.insert(a, Account { code: Bytes::from_static(code), nonce: 1, ..Default::default() });
        }
    }
    let d = g.w.dependency_distance.max(1);
    for i in 0..n {
        let from = g.sender_for(i);
        match i % (d + 4) {
            0 => {
                let timestamp = Bytes::copy_from_slice(&U256::from(super::TIMESTAMP).to_be_bytes::<32>());
                g.tx(from, Some(BEACON_ROOTS_ADDRESS), U256::ZERO, timestamp, CALL_GAS);
            }
            1 => {
                g.tx(from, Some(reader), U256::ZERO, call("CoinbaseReader", "read()", &[]), CALL_GAS);
            }
            2 => {
                // Init code that deploys one STOP; the withdrawal finds the new contract.
                let nonce = g.next_nonce(from);
                let init = Bytes::from_static(&[0x60, 0x00, 0x60, 0x00, 0x53, 0x60, 0x01, 0x60, 0x00, 0xf3]);
                g.tx(from, None, U256::from(i), init, CALL_GAS);
                withdraw(g, from.create(nonce));
            }
            3 => {
                // SELFDESTRUCT to the beneficiary (it deletes before Cancun, EIP-6780); the
                // withdrawal then brings the account back.
                let doomed = g.fresh("doomed", i);
                let code = Bytes::from_static(&[0x41, 0xff]);
                g.pre.insert(doomed, Account { balance: U256::from(5), code, nonce: 1, ..Default::default() });
                g.tx(from, Some(doomed), U256::ZERO, Bytes::new(), CALL_GAS);
                withdraw(g, doomed);
            }
            _ => {
                let to = recipient(g, i);
                g.tx(from, Some(to), U256::from(1), Bytes::new(), TRANSFER_GAS);
            }
        }
    }
    withdraw(g, COINBASE);
    let root = B256::from(g.rng.random::<[u8; 32]>());
    // The parent hash is set with the block's hashes (`Gen::finish`).
    let parent_beacon_block_root = (g.w.fork >= Fork::Cancun).then_some(root);
    g.rules = Some(BlockRules { parent_beacon_block_root, withdrawals, ..Default::default() });
}

fn nonce_factory(g: &mut Gen, n: usize) {
    let factories: Vec<Address> = (0..g.w.hot_set.max(1)).map(|f| g.contract("Factory", &format!("f{f}"))).collect();
    for i in 0..n {
        let from = g.sender_for(i);
        let f = factories[g.hot_index(factories.len())];
        let data = call("Factory", "spawn()", &[]);
        g.tx(from, Some(f), U256::ZERO, data, CALL_GAS);
    }
}

/// Chains of a few senders with designed gaps: too-high nonces (never valid), repeats (too
/// low), and out-of-order pairs, mixed with independent senders.
fn nonce_gaps(g: &mut Gen, n: usize) {
    let chains = g.w.hot_set.max(1);
    for i in 0..n {
        if i % 2 == 1 {
            let from = g.sender(1_000 + i);
            let to = recipient(g, i);
            g.tx(from, Some(to), U256::from(1), Bytes::new(), TRANSFER_GAS);
            continue;
        }
        let chain = g.rng.random_range(0..chains);
        let from = g.sender(chain);
        let to = g.fresh("gap", i);
        let roll = g.rng.random_range(0..10u8);
        let next = g.next_nonce(from);
        let t = g.tx(from, Some(to), U256::from(1), Bytes::new(), TRANSFER_GAS);
        match roll {
            0 => {
                t.nonce = next + 1 + (i as u64 % 3); // a gap: too high
                g.unplanned();
            }
            1 if next > 0 => {
                t.nonce = next - 1; // a repeat: too low
                g.unplanned();
            }
            _ => {}
        }
    }
}

/// Poor accounts funded by lower transactions, then spending; some spend too early.
fn speculative_funding(g: &mut Gen, n: usize) {
    let d = g.w.dependency_distance.max(1);
    let mut i = 0;
    let mut k = 0;
    while i < n {
        let poor = g.fresh("poor", k);
        let funder = g.sender(k);
        let early = g.rng.random_range(0..4u8) == 0;
        if early && i + 1 < n {
            g.tx(poor, Some(funder), U256::from(1), Bytes::new(), TRANSFER_GAS);
            g.unplanned();
            i += 1;
        }
        g.tx(funder, Some(poor), U256::from(USER_BALANCE / 1_000), Bytes::new(), TRANSFER_GAS);
        i += 1;
        for j in 0..d.saturating_sub(1) {
            if i >= n {
                break;
            }
            let from = g.sender(10_000 + k * d + j);
            let to = recipient(g, i);
            g.tx(from, Some(to), U256::from(1), Bytes::new(), TRANSFER_GAS);
            i += 1;
        }
        if i < n {
            let to = g.fresh("poor-dest", k);
            g.tx(poor, Some(to), U256::from(12345), Bytes::new(), TRANSFER_GAS);
            i += 1;
        }
        k += 1;
    }
}

/// Zero-value transfers to empty accounts (existing and not) and precompiles.
fn empty_accounts(g: &mut Gen, n: usize) {
    let existing_empty: Vec<Address> = (0..g.w.hot_set.max(1)).map(|e| g.fresh("empty", e)).collect();
    // From the Merge on no empty account exists (EIP-7523: none was left on mainnet, and EIP-161
    // makes none new), so a pre-state with one is not a state a block can run on; the
    // touches then go to accounts that do not exist.
    if g.w.fork < Fork::Merge {
        for a in &existing_empty {
            g.pre.insert(*a, Account::default());
        }
    }
    for i in 0..n {
        let from = g.sender_for(i);
        let to = match i % 3 {
            0 => g.fresh("never", i),
            1 => existing_empty[g.hot_index(existing_empty.len())],
            _ => Address::with_last_byte(1 + (i % 9) as u8),
        };
        g.tx(from, Some(to), U256::ZERO, Bytes::from(vec![i as u8; i % 4]), 60_000);
    }
}

/// Authorities delegating to Counter or Branchy: self-authorizations (nonce + 1),
/// re-delegations by other senders, and calls into the delegated accounts.
fn eip7702(g: &mut Gen, n: usize) {
    let targets = [g.contract("Counter", "7702"), g.contract("Branchy", "7702")];
    let authorities: Vec<_> = (0..g.w.hot_set.max(1)).map(|i| g.authority(i as u64)).collect();
    for k in &authorities {
        g.pre.insert(address_of(k), Account { balance: U256::from(USER_BALANCE), ..Default::default() });
    }
    for i in 0..n {
        let which = g.hot_index(authorities.len());
        let key = authorities[which].clone();
        let authority = address_of(&key);
        let delegate = targets[g.rng.random_range(0..2)];
        match g.rng.random_range(0..4u8) {
            0 => {
                // Self-authorization: the transaction bumps the nonce before the list runs.
                let next = g.next_nonce(authority);
                let to = g.fresh("self-auth", i);
                let t = g.tx(authority, Some(to), U256::ZERO, Bytes::new(), 100_000);
                t.tx_type = TxType::Eip7702;
                t.max_priority_fee_per_gas.get_or_insert(1);
                t.authorization_list = vec![authorize(&key, delegate, next + 1)];
                // The authorization bumps the nonce once more.
                let n2 = g.next_nonce(authority);
                g_bump(g, authority, n2 + 1);
            }
            1 => {
                let from = g.sender_for(i);
                let next = g.next_nonce(authority);
                let to = g.fresh("redelegate", i);
                let t = g.tx(from, Some(to), U256::ZERO, Bytes::new(), 100_000);
                t.tx_type = TxType::Eip7702;
                t.max_priority_fee_per_gas.get_or_insert(1);
                t.authorization_list = vec![authorize(&key, delegate, next)];
                g_bump(g, authority, next + 1);
            }
            _ => {
                let from = g.sender_for(i);
                let data =
                    if g.rng.random_bool(0.5) { call("Counter", "inc()", &[]) } else { call("Branchy", "poke()", &[]) };
                g.tx(from, Some(authority), U256::ZERO, data, CALL_GAS);
            }
        }
    }
}

fn g_bump(g: &mut Gen, a: Address, to: u64) {
    g.set_next_nonce(a, to);
}

fn branchy(g: &mut Gen, n: usize) {
    let contracts: Vec<Address> = (0..g.w.hot_set.max(1)).map(|c| g.contract("Branchy", &format!("b{c}"))).collect();
    for i in 0..n {
        let from = g.sender_for(i);
        let c = contracts[g.hot_index(contracts.len())];
        let data = if g.rng.random_range(0..3u8) == 0 {
            call("Branchy", "set(uint256)", &[U256::from(g.rng.random_range(0..2u8))])
        } else {
            call("Branchy", "poke()", &[])
        };
        g.tx(from, Some(c), U256::ZERO, data, CALL_GAS);
    }
}

/// A share `hot_ratio` (all by default) of transactions increment one counter.
fn hot_key(g: &mut Gen, n: usize) {
    let counter = g.contract("Counter", "hot");
    let all = g.w.hot_ratio <= 0.0;
    for i in 0..n {
        let from = g.sender_for(i);
        if all || g.is_hot() {
            g.tx(from, Some(counter), U256::ZERO, call("Counter", "inc()", &[]), CALL_GAS);
        } else {
            let to = recipient(g, i);
            g.tx(from, Some(to), U256::from(1), Bytes::new(), TRANSFER_GAS);
        }
    }
}

/// `SSTORE(word 1, SLOAD(word 0) + 1)`, hand-assembled (any fork): PUSH1 0 CALLDATALOAD SLOAD
/// PUSH1 1 ADD PUSH1 32 CALLDATALOAD SSTORE STOP.
const COPY_INC: [u8; 12] = [0x60, 0x00, 0x35, 0x54, 0x60, 0x01, 0x01, 0x60, 0x20, 0x35, 0x55, 0x00];

/// Triples of slots of one contract: `a`; `b`, equal to `a` in its low 64 bits; `c`, equal to
/// `a` in all bits but its low 64. Each transaction reads one slot of a triple and writes
/// another, so a location keyed by a truncation of the slot (either half) reads or writes
/// the wrong one; the hot set is the number of triples.
fn slot_collisions(g: &mut Gen, n: usize) {
    let contract = g.derive(&format!("contract/copy-inc/{}", g.space));
    let mut account = Account { code: Bytes::from_static(&COPY_INC), nonce: 1, ..Default::default() };
    let triples: Vec<[U256; 3]> = (0..g.w.hot_set.max(2))
        .map(|_| {
            let a = U256::from(g.rng.random::<u128>()) << 128 | U256::from(g.rng.random::<u64>());
            let b = a ^ (U256::from(g.rng.random_range(1..u64::MAX)) << 64);
            let c = a ^ U256::from(g.rng.random_range(1..u64::MAX));
            [a, b, c]
        })
        .collect();
    for slot in triples.iter().flatten() {
        account.storage.insert(*slot, U256::from(g.rng.random_range(1..1_000u64)));
    }
    g.pre.insert(contract, account);
    for i in 0..n {
        let from = g.sender_for(i);
        let triple = triples[g.hot_index(triples.len())];
        let read = g.rng.random_range(0..3usize);
        let write = (read + g.rng.random_range(1..3usize)) % 3;
        let data = [triple[read].to_be_bytes::<32>(), triple[write].to_be_bytes::<32>()].concat();
        g.tx(from, Some(contract), U256::ZERO, Bytes::from(data), CALL_GAS);
    }
}

/// Every other family in its own address space, interleaved at random.
fn mix(g: &mut Gen) {
    // Block rules belong to the block, not to a stream of transactions: not mixed.
    let families: Vec<Family> =
        Family::ALL.iter().copied().filter(|f| !matches!(f, Family::Mix | Family::BlockRules)).collect();
    let per = (g.w.txs / families.len()).max(1);
    let mut streams = Vec::new();
    for (k, f) in families.iter().enumerate() {
        let mut w = g.w.clone();
        w.family = *f;
        w.txs = per;
        w.accounts = per.min(g.w.accounts);
        let seed = g.rng.random();
        let mut sub = Gen::new(&w, seed);
        sub.space = k as u64 + 1;
        generate(&mut sub);
        g.expected_rejections += sub.expected_rejections;
        g.keys.append(&mut sub.keys);
        for (a, acc) in std::mem::take(&mut sub.pre) {
            g.pre.entry(a).or_insert(acc);
        }
        streams.push(std::mem::take(&mut sub.txs).into_iter());
    }
    // Interleave: pick a random non-empty stream each time (keeps each stream's order).
    let mut live: Vec<_> = streams.into_iter().map(|s| s.peekable()).collect();
    loop {
        live.retain_mut(|s| s.peek().is_some());
        if live.is_empty() {
            break;
        }
        let k = g.rng.random_range(0..live.len());
        if let Some(t) = live[k].next() {
            g.txs.push(t);
        }
    }
}
