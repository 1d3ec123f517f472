//! Seeded generators of conflicting blocks. Every random choice comes from one seed: the same
//! `(Workload, seed)` gives the same `BlockInput`, byte for byte.
//!
//! Families: ordinary traffic (raw transfers, ERC-20 transfers, AMM swaps, NFT mints) and
//! *hazards*, one per applicable class of ../shared/known-bugs.md, each with contention knobs.

mod authorization;
pub mod contracts;
mod families;
mod inputs;
mod keys;

use alloy_primitives::{Address, B256, U256};
use lockstep_executors::{Account, BlockEnv, BlockInput, BlockRules, Fork, State, Tx, TxType};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

pub use authorization::authorize;
pub use inputs::{ArbitraryBlock, strategy};
pub use keys::{COINBASE, authority_key, coinbase_key, user};

/// A workload family.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    arbitrary::Arbitrary,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Plain ether transfers.
    RawTransfers,
    /// ERC-20 token transfers.
    Erc20,
    /// Constant-product AMM swaps (0.3 % fee).
    Amm,
    /// NFT mints through a shared counter.
    NftMint,
    /// Fees, BALANCE(coinbase), coinbase as sender and recipient, zero tips (known-bugs #2-#5).
    Beneficiary,
    /// SELFDESTRUCT, CREATE2 redeploy at the same address, then access (#6, #7).
    Phoenix,
    /// Factories whose CREATEs bump only a nonce (#8).
    NonceFactory,
    /// Same-sender chains with gaps, repeats and too-high nonces (#12).
    NonceGaps,
    /// Senders funded by a lower transaction of the block (#13).
    SpeculativeFunding,
    /// Zero-value transfers to empty accounts and precompiles (#14).
    EmptyAccounts,
    /// EIP-7702 self-authorization, re-delegation, calls into delegated accounts (#15-#17).
    Eip7702,
    /// Contracts whose read and write sets change between incarnations (#10, #21).
    Branchy,
    /// One counter every transaction increments: a fully dependent chain (#9, #19).
    HotKey,
    /// Storage slots of one contract equal in their low 64 bits, or in all bits but those:
    /// a location identified by a truncated key or hash collides (#1).
    SlotCollisions,
    /// What a real block does besides its transactions: reads of the beacon root its system
    /// call wrote, of the beneficiary that withdrawals (or, before the Merge, the block reward)
    /// credit after the last transaction, and withdrawals to accounts the block creates or
    /// destroys.
    BlockRules,
    /// All of the above but block rules, interleaved.
    Mix,
}

impl Family {
    /// The hazard families: one per class of known bugs that interleavings can expose.
    pub const HAZARDS: [Family; 11] = [
        Family::HotKey,
        Family::SlotCollisions,
        Family::Branchy,
        Family::Beneficiary,
        Family::Phoenix,
        Family::NonceFactory,
        Family::NonceGaps,
        Family::SpeculativeFunding,
        Family::EmptyAccounts,
        Family::Eip7702,
        Family::BlockRules,
    ];

    /// Every family, [`Family::Mix`] last.
    pub const ALL: [Family; 16] = [
        Family::RawTransfers,
        Family::Erc20,
        Family::Amm,
        Family::NftMint,
        Family::Beneficiary,
        Family::Phoenix,
        Family::NonceFactory,
        Family::NonceGaps,
        Family::SpeculativeFunding,
        Family::EmptyAccounts,
        Family::Eip7702,
        Family::Branchy,
        Family::HotKey,
        Family::SlotCollisions,
        Family::BlockRules,
        Family::Mix,
    ];

    /// The kebab-case name the command line and JSON use (`raw-transfers`, `nft-mint`).
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
    }

    /// The family of a kebab-case [`name`](Family::name); `None` for any other string.
    pub fn from_name(s: &str) -> Option<Family> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }

    /// The oldest fork the family's contracts and transaction types run on.
    pub fn min_fork(self) -> Fork {
        match self {
            Family::RawTransfers
            | Family::EmptyAccounts
            | Family::NonceGaps
            | Family::SpeculativeFunding
            | Family::SlotCollisions => Fork::Frontier,
            Family::Eip7702 | Family::Mix => Fork::Prague,
            // Contracts are compiled for Shanghai (PUSH0).
            _ => Fork::Shanghai,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A workload: a family and its contention knobs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    /// What kind of traffic the block holds.
    pub family: Family,
    /// Transactions a block; for [`Family::Mix`], `txs / 13` (at least 1) from each other
    /// family.
    pub txs: usize,
    /// Distinct senders; fewer than `txs` makes same-sender nonce chains.
    pub accounts: usize,
    /// Share of transactions that touch a hot account, key or pool (0.0 to 1.0).
    pub hot_ratio: f64,
    /// Zipf exponent over the hot set (0: uniform).
    pub zipf: f64,
    /// Size of the hot set (hot recipients, pools, collections).
    pub hot_set: usize,
    /// For hazards: how many transactions apart a hazard's steps are.
    pub dependency_distance: usize,
    /// The fork the block runs at; never older than the family's [`Family::min_fork`] when
    /// set with [`with_fork`](Workload::with_fork).
    pub fork: Fork,
}

impl Workload {
    /// Defaults for a family: independent traffic for ordinary families, the family's own
    /// contention for hazards.
    pub fn new(family: Family, txs: usize) -> Workload {
        Workload {
            family,
            txs,
            accounts: txs.max(1),
            hot_ratio: 0.0,
            zipf: 1.0,
            hot_set: 4,
            dependency_distance: 3,
            // Phoenix needs a SELFDESTRUCT that destroys (before EIP-6780); empty accounts
            // exist only before the Merge (EIP-7523).
            fork: match family {
                Family::Phoenix => Fork::Shanghai,
                Family::EmptyAccounts => Fork::London,
                _ => family.min_fork().max(Fork::Cancun),
            },
        }
    }

    /// Sets the hot ratio, clamped to 0.0-1.0.
    pub fn with_hot_ratio(mut self, r: f64) -> Workload {
        self.hot_ratio = r.clamp(0.0, 1.0);
        self
    }

    /// Sets the fork, raised to the family's [`Family::min_fork`] when older.
    pub fn with_fork(mut self, fork: Fork) -> Workload {
        self.fork = fork.max(self.family.min_fork());
        self
    }

    /// Sets the number of distinct senders (at least 1).
    pub fn with_accounts(mut self, accounts: usize) -> Workload {
        self.accounts = accounts.max(1);
        self
    }

    /// A short label: `erc20 n=100 hot=0.30`.
    pub fn label(&self) -> String {
        format!("{} n={} hot={:.2}", self.family, self.txs, self.hot_ratio)
    }

    /// The block of this workload for `seed`: the same seed gives the same block. Chain id 1,
    /// block number 1, gas limit 36,000,000, base fee [`BASE_FEE`] from London on; senders hold
    /// [`USER_BALANCE`].
    ///
    /// Panics when `hot_ratio` is above 1.0 (a field set directly, not through
    /// [`with_hot_ratio`](Workload::with_hot_ratio)).
    pub fn generate(&self, seed: u64) -> Generated {
        let mut g = Gen::new(self, seed);
        families::generate(&mut g);
        g.finish()
    }
}

/// A generated block and what the generator put in it on purpose.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    /// The block: pre-state, environment, transactions.
    pub block: BlockInput,
    /// Transactions the reference must reject (designed nonce gaps, unfunded senders).
    pub expected_rejections: usize,
    /// The secret key of every address the generator derived (senders, recipients,
    /// contracts, the coinbase), for exports that sign.
    pub keys: BTreeMap<Address, B256>,
}

/// The block under construction.
pub(crate) struct Gen<'w> {
    pub w: &'w Workload,
    pub rng: ChaCha8Rng,
    pub pre: State,
    pub txs: Vec<Tx>,
    /// Next nonce per sender as the generator plans it.
    nonces: std::collections::HashMap<Address, u64>,
    pub expected_rejections: usize,
    /// Address space offset, so that sub-workloads of a mix do not collide.
    pub space: u64,
    pub keys: BTreeMap<Address, B256>,
    /// The block's rules beyond its transactions; `None`: transactions only.
    pub rules: Option<lockstep_executors::BlockRules>,
}

/// The timestamp of generated blocks, in seconds since the Unix epoch.
pub const TIMESTAMP: u64 = 1_700_000_000;
/// Every generated block's number: its one predecessor is genesis.
pub const NUMBER: u64 = 1;
/// The base fee of generated blocks from London on, in wei per gas (EIP-1559).
pub const BASE_FEE: u64 = 7;
/// The pre-state balance of every generated sender, in wei (1,000 ether).
pub const USER_BALANCE: u128 = 1_000_000_000_000_000_000_000;

impl<'w> Gen<'w> {
    fn new(w: &'w Workload, seed: u64) -> Gen<'w> {
        Gen {
            w,
            rng: ChaCha8Rng::seed_from_u64(seed),
            pre: State::new(),
            txs: Vec::new(),
            nonces: Default::default(),
            expected_rejections: 0,
            space: 0,
            keys: BTreeMap::from([(COINBASE, coinbase_key())]),
            rules: None,
        }
    }

    /// The i-th sender, funded in the pre-state.
    pub fn sender(&mut self, i: usize) -> Address {
        let (a, key) = user(self.space, i as u64);
        self.keys.insert(a, key);
        self.pre.entry(a).or_insert_with(|| Account { balance: U256::from(USER_BALANCE), ..Default::default() });
        a
    }

    /// A sender for the i-th transaction: distinct while accounts last, then reused.
    pub fn sender_for(&mut self, i: usize) -> Address {
        self.sender(i % self.w.accounts.max(1))
    }

    /// An index into a hot set of `n`, Zipf-distributed.
    pub fn hot_index(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        if self.w.zipf <= 0.0 {
            return self.rng.random_range(0..n);
        }
        match rand_distr::Zipf::new(n as f64, self.w.zipf) {
            Ok(z) => (self.rng.sample(z) as usize).saturating_sub(1).min(n - 1),
            Err(_) => self.rng.random_range(0..n),
        }
    }

    pub fn is_hot(&mut self) -> bool {
        self.w.hot_ratio > 0.0 && self.rng.random_bool(self.w.hot_ratio)
    }

    /// A fresh address nobody else uses (a cold recipient).
    pub fn fresh(&mut self, tag: &str, i: usize) -> Address {
        self.derive(&format!("{tag}/{}/{i}", self.space))
    }

    /// A derived address, its key kept for the block's exports.
    pub fn derive(&mut self, tag: &str) -> Address {
        let (a, key) = keys::derive(tag);
        self.keys.insert(a, key);
        a
    }

    /// The i-th EIP-7702 authority of this space, its key kept for the block's exports.
    pub fn authority(&mut self, i: u64) -> k256::ecdsa::SigningKey {
        let k = authority_key(self.space, i);
        self.keys.insert(keys::address_of(&k), B256::from_slice(&k.to_bytes()));
        k
    }

    pub fn contract(&mut self, name: &str, tag: &str) -> Address {
        let a = self.derive(&format!("contract/{name}/{tag}/{}", self.space));
        self.pre.insert(a, Account { code: contracts::runtime(name), nonce: 1, ..Default::default() });
        a
    }

    /// A transaction from `from` with its next planned nonce.
    pub fn tx(
        &mut self,
        from: Address,
        to: Option<Address>,
        value: U256,
        input: alloy_primitives::Bytes,
        gas: u64,
    ) -> &mut Tx {
        let nonce = {
            let n = self.nonces.entry(from).or_insert_with(|| self.pre.get(&from).map_or(0, |a| a.nonce));
            let v = *n;
            *n += 1;
            v
        };
        let london = self.w.fork >= Fork::London;
        let tip = if london { self.rng.random_range(1..4u128) } else { 0 };
        self.txs.push(Tx {
            tx_type: if london { TxType::Eip1559 } else { TxType::Legacy },
            sender: from,
            to,
            value,
            input,
            gas_limit: gas,
            gas_price: if london { 2 * BASE_FEE as u128 + tip } else { 10 },
            max_priority_fee_per_gas: london.then_some(tip),
            nonce,
            chain_id: Some(1),
            ..Default::default()
        });
        self.txs.last_mut().expect("just pushed")
    }

    /// Makes the last transaction a designed rejection: its nonce is not consumed.
    pub fn unplanned(&mut self) {
        if let Some(t) = self.txs.last() {
            let from = t.sender;
            if let Some(n) = self.nonces.get_mut(&from) {
                *n -= 1;
            }
        }
        self.expected_rejections += 1;
    }

    pub fn set_next_nonce(&mut self, a: Address, nonce: u64) {
        self.nonces.insert(a, nonce);
    }

    pub fn next_nonce(&self, a: Address) -> u64 {
        self.nonces.get(&a).copied().unwrap_or_else(|| self.pre.get(&a).map_or(0, |x| x.nonce))
    }

    fn finish(self) -> Generated {
        let fork = self.w.fork;
        let block_hashes = BlockEnv::state_test_hashes(U256::from(NUMBER));
        // A real block's parent is the block BLOCKHASH(number - 1) names.
        let rules = self.rules.map(|r| BlockRules { parent_hash: block_hashes[&(NUMBER - 1)], ..r });
        Generated {
            block: BlockInput {
                fork,
                chain_id: 1,
                env: BlockEnv {
                    number: U256::from(NUMBER),
                    timestamp: U256::from(TIMESTAMP),
                    coinbase: COINBASE,
                    gas_limit: 36_000_000,
                    base_fee: (fork >= Fork::London).then_some(BASE_FEE),
                    difficulty: if fork >= Fork::Merge { U256::ZERO } else { U256::from(0x20000) },
                    prevrandao: (fork >= Fork::Merge).then_some(B256::repeat_byte(0x11)),
                    excess_blob_gas: (fork >= Fork::Cancun).then_some(0),
                    block_hashes,
                },
                pre_state: self.pre,
                txs: self.txs.into_iter().map(|t| Tx { secret_key: self.keys.get(&t.sender).copied(), ..t }).collect(),
                rules,
            },
            expected_rejections: self.expected_rejections,
            keys: self.keys,
        }
    }
}

/// splitmix64: the seed of block `n` of a run, so any block can be regenerated alone.
pub fn block_seed(run_seed: u64, n: u64) -> u64 {
    let mut z = run_seed.wrapping_add(0x9e37_79b9_7f4a_7c15u64.wrapping_mul(n + 1));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
