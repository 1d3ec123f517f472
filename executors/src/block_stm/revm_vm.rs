//! Block-STM's VM on revm: a `Database` view over MVMemory for transaction `i` that records
//! every read, a write set taken from revm's state diff, and beneficiary fees as deltas.
//!
//! Locations: an account's info (existence, balance, nonce, code) is one location because
//! revm loads the three fields together in one `basic` call, so separate locations would
//! triple the reads without removing a dependency. The location holds the code's hash; the code
//! itself is content-addressed (the pre-state's, or one a transaction deployed), so a value is a
//! few plain words that every read copies. Storage slots are locations of their own.
//! Destroying or re-creating an account records the transaction index in the account value
//! (`storage_reset`): slot writes below it read as zero (known-bugs #6, #7).
//!
//! Fees: a transaction that never loads the beneficiary does not credit it; it writes its
//! fee as a delta of its own instead (kept per transaction by MVMemory), so fee-paying
//! transactions do not conflict.
//! A transaction that does load the beneficiary (BALANCE, a call, sending from it) sees the
//! last explicit value plus every lower fee delta, read as a range and validated like any
//! other read, and credits its own fee the ordinary way (known-bugs #2-#5).

use super::mv_memory::{MvMemory, MvRead, Read, ReadOrigin};
use super::pre_index::PreIndex;
use super::sync::lock;
use super::vm::{Execution, Vm};
use super::{TxIndex, Version};
use crate::model::{Account, BlockInput, State, TxOutcome};
use crate::plug::ExecError;
use crate::revm_env;
use crate::schedule::{SchedEvent, ScheduleHook, WorkerId};
use alloy_primitives::{Address, B256, Bytes, U256};
use itertools::{EitherOrBoth, Itertools};
use revm::ExecuteEvm;
use revm::context::result::{EVMError, HaltReason, InvalidTransaction};
use revm::context::{BlockEnv, CfgEnv, Context, ContextSetters, ContextTr, JournalTr};
use revm::context_interface::{Block as _, Cfg as _, Transaction as _};
use revm::database_interface::{DBErrorMarker, Database};
use revm::handler::{
    EvmTr, EvmTrError, FrameResult, FrameTr, Handler, MainBuilder, MainContext, MainnetContext, MainnetEvm,
    post_execution,
};
use revm::interpreter::interpreter_action::FrameInit;
use revm::primitives::KECCAK_EMPTY;
use revm::primitives::hardfork::SpecId;
use revm::state::{AccountInfo, Bytecode, EvmState};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Bound;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Location {
    Account(Address),
    Storage(Address, U256),
    /// The fee deltas of lower transactions. Never an MVMemory key (deltas live with their
    /// transaction): the name of what a beneficiary read announces to a schedule hook.
    BeneficiaryFee,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountValue {
    /// `None`: the account does not exist.
    pub info: Option<Info>,
    /// Storage written below this transaction index is gone (destruction or re-creation).
    pub storage_reset: Option<TxIndex>,
}

/// An existing account's fields; its code is known by `code_hash`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    pub balance: U256,
    pub nonce: u64,
    pub code_hash: B256,
}

impl Info {
    /// EIP-161 emptiness, as revm's `AccountInfo::is_empty` decides it.
    fn is_empty(&self) -> bool {
        (self.code_hash == KECCAK_EMPTY || self.code_hash.is_zero()) && self.balance.is_zero() && self.nonce == 0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Inline: a write allocates nothing, and a read or the post-state copies it from MVMemory's
    /// own memory rather than following a pointer to wherever the writer's core put it.
    Account(AccountValue),
    Storage(U256),
    Fee(U256),
}

/// How long a read waits for the executing transaction just below (see [`View::read`]):
/// about as long as a short transaction takes.
const CHAIN_WAIT: Duration = Duration::from_micros(5);

/// The error a view gives revm to stop an execution that read an ESTIMATE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocked(pub TxIndex);

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "read an ESTIMATE of {}", self.0)
    }
}
impl std::error::Error for Blocked {}
impl DBErrorMarker for Blocked {}

pub type TxOutput = Result<TxOutcome, ExecError>;

/// One block prepared for revm. It shares the caller's block (the pool's workers outlive the
/// caller's borrow) and copies nothing of it: reads go to the block's own maps.
pub struct RevmVm {
    block: Arc<BlockInput>,
    cfg: CfgEnv,
    block_env: BlockEnv,
    /// revm's view of every pre-state account. Code and storage stay in the block.
    pre_index: PreIndex,
    /// Code that transactions deployed (creation, EIP-7702 delegation), by hash. Content-addressed,
    /// so an aborted incarnation's entry is harmless; only a worker that meets a hash it has no
    /// copy of looks here.
    deployed: Mutex<FxHashMap<B256, Bytes>>,
    /// EIP-161 empty-account clearing applies.
    clears_empty: bool,
}

impl RevmVm {
    pub fn new(block: Arc<BlockInput>) -> Self {
        let cfg = revm_env::cfg_env(&block);
        let block_env = revm_env::block_env(&block, &cfg);
        let pre_index = PreIndex::new(&block.pre_state);
        RevmVm {
            clears_empty: cfg.spec.is_enabled_in(SpecId::SPURIOUS_DRAGON),
            cfg,
            block_env,
            pre_index,
            deployed: Mutex::new(FxHashMap::default()),
            block,
        }
    }

    /// The code with hash `code_hash` that `address` has: its pre-state code if that is the one,
    /// else one deployed in the block.
    fn code_bytes(&self, address: Address, pre: Option<&Account>, code_hash: B256) -> Bytes {
        match pre {
            Some(p) if self.code_hash(&address) == code_hash => p.code.clone(),
            _ => lock(&self.deployed).get(&code_hash).cloned().unwrap_or_default(),
        }
    }

    fn code_hash(&self, address: &Address) -> B256 {
        self.pre_index.get(address).map_or(KECCAK_EMPTY, |p| p.code_hash)
    }

    fn coinbase(&self) -> Address {
        self.block.env.coinbase
    }

    /// The beneficiary after a lazily credited fee: balance up, touched, and so cleared when
    /// empty (from Spurious Dragon) or brought into existence (before it), as revm's own
    /// crediting does.
    fn credit_fee(&self, account: &mut AccountValue, fee: U256, tx: TxIndex) {
        match &mut account.info {
            Some(info) => {
                info.balance = info.balance.saturating_add(fee);
                if self.clears_empty && info.is_empty() {
                    account.info = None;
                    account.storage_reset = Some(tx);
                }
            }
            None => {
                if !fee.is_zero() || !self.clears_empty {
                    account.info = Some(Info { balance: fee, nonce: 0, code_hash: KECCAK_EMPTY });
                    account.storage_reset = Some(tx);
                }
            }
        }
    }

    /// A worker's share of the post-state, once the block is done: the final write to every
    /// location of its MVMemory shards, sorted by address (account first, then slots), and
    /// every deferred fee.
    pub fn collect(&self, mv: &MvMemory<Location, Value>, part: usize, parts: usize) -> FinalPart {
        let mut out = FinalPart { writes: Vec::with_capacity(mv.locations(part, parts)), fees: Vec::new() };
        let deltas = mv.final_writes(part, parts, |location, written| match location {
            Location::BeneficiaryFee => unreachable!("fees are deltas, not locations"),
            Location::Account(address) => {
                if let Some((tx, Value::Account(v))) = written.last() {
                    let value = FinalValue::Account(*v);
                    out.writes.push(FinalWrite { address: *address, slot: None, tx, value });
                }
            }
            Location::Storage(address, slot) => {
                if let Some((tx, Value::Storage(v))) = written.last() {
                    let value = FinalValue::Slot(*v);
                    out.writes.push(FinalWrite { address: *address, slot: Some(*slot), tx, value });
                }
            }
        });
        out.fees = deltas
            .into_iter()
            .map(|(tx, fee)| match fee {
                Value::Fee(fee) => (tx, fee),
                _ => unreachable!("deltas are fees"),
            })
            .collect();
        sort_by_location(&mut out.writes);
        out
    }

    /// The post-state's accounts of the addresses in `from..to` (unbounded where `None`): those
    /// the block wrote and that still exist, built from every worker's part, and the untouched
    /// ones of the pre-state. Each worker builds its own range.
    pub fn build_range(&self, parts: &[&FinalPart], from: Option<Address>, to: Option<Address>) -> Range {
        let coinbase = self.coinbase();
        let in_range = |a: Address| from.is_none_or(|f| a >= f) && to.is_none_or(|t| a < t);
        let mut fees: Vec<(TxIndex, U256)> = Vec::new();
        if in_range(coinbase) {
            fees = parts.iter().flat_map(|p| p.fees.iter().copied()).collect();
            fees.sort_unstable_by_key(|(tx, _)| *tx);
        }
        let in_parts: Vec<&[FinalWrite]> = parts
            .iter()
            .map(|p| {
                let lo = from.map_or(0, |f| p.writes.partition_point(|w| w.address < f));
                let hi = to.map_or(p.writes.len(), |t| p.writes.partition_point(|w| w.address < t));
                &p.writes[lo..hi]
            })
            .collect();
        // At most one account per write, the beneficiary, and this range's share of the
        // untouched pre-state: sized once, since a growing buffer of accounts is copied and
        // faulted in again at every doubling. The first range has room for the whole
        // post-state, so that the others are appended to it without moving it (memory not
        // written is never touched).
        let written: usize = in_parts.iter().map(|w| w.len()).sum();
        let room = match from {
            None => parts.iter().map(|p| p.writes.len()).sum::<usize>() + self.block.pre_state.len() + 1,
            Some(_) => written + self.block.pre_state.len() / parts.len().max(1) + 1,
        };
        let mut out = Vec::with_capacity(room);
        // The pre-state is walked alongside the writes (both in address order), not looked up
        // per account: a lookup in a map of this size costs more than building the account.
        let bounds = (from.map_or(Bound::Unbounded, Bound::Included), to.map_or(Bound::Unbounded, Bound::Excluded));
        let mut pre = self.block.pre_state.range(bounds).peekable();
        let mut writes = in_parts
            .into_iter()
            .map(|w| w.iter())
            .kmerge_by(|a, b| (a.address, a.slot) < (b.address, b.slot))
            .peekable();
        let mut coinbase_done = fees.is_empty();
        let mut slots: Vec<(U256, TxIndex, U256)> = Vec::new();
        loop {
            // The beneficiary may have deferred fees and no write of its own.
            let next = match writes.peek().map(|w| w.address) {
                Some(a) if coinbase_done || a <= coinbase => Some(a),
                _ if !coinbase_done => Some(coinbase),
                other => other,
            };
            // Accounts the block left alone, up to the next written one, stay as they were.
            while let Some((a, acc)) = pre.next_if(|(a, _)| next.is_none_or(|n| **a < n)) {
                out.push((*a, acc.clone()));
            }
            let Some(address) = next else {
                break;
            };
            let before = pre.next_if(|(a, _)| **a == address).map(|(_, acc)| acc);
            coinbase_done |= address == coinbase;
            let mut account = None;
            slots.clear();
            while let Some(w) = writes.next_if(|w| w.address == address) {
                match (w.slot, &w.value) {
                    (None, FinalValue::Account(v)) => account = Some((w.tx, v)),
                    (Some(slot), FinalValue::Slot(v)) => slots.push((slot, w.tx, *v)),
                    _ => unreachable!("accounts hold account values, slots slot values"),
                }
            }
            let fees = if address == coinbase { &fees[..] } else { &[] };
            if let Some(account) = self.final_account(address, before, account, &slots, fees) {
                out.push((address, account));
            }
        }
        out
    }

    /// One account of the post-state from its pre-state, its final written value, its final
    /// slots, and (for the beneficiary) the fees deferred after that write.
    fn final_account(
        &self,
        address: Address,
        pre: Option<&Account>,
        written: Option<(TxIndex, &AccountValue)>,
        slots: &[(U256, TxIndex, U256)],
        fees: &[(TxIndex, U256)],
    ) -> Option<Account> {
        let last = written.map(|(tx, _)| tx);
        let fees = &fees[fees.partition_point(|(tx, _)| last.is_some_and(|l| *tx <= l))..];
        let mut value = match written {
            Some((_, v)) => *v,
            None => AccountValue { info: pre.and_then(|_| self.pre_index.get(&address).copied()), storage_reset: None },
        };
        for (tx, fee) in fees {
            self.credit_fee(&mut value, *fee, *tx);
        }
        let info = value.info?;
        let code =
            if info.code_hash == KECCAK_EMPTY { Bytes::new() } else { self.code_bytes(address, pre, info.code_hash) };
        // Storage written before the last destruction or re-creation is gone, with the
        // pre-state's; later writes stand.
        let reset = value.storage_reset;
        let kept = slots.iter().filter(|(_, tx, _)| reset.is_none_or(|r| *tx >= r)).map(|(slot, _, v)| (*slot, *v));
        let base = pre.filter(|_| reset.is_none()).map(|p| &p.storage);
        // Gathered in a buffer of the final size first: the map is built from a sorted vector
        // anyway, and a growing one would copy a large contract's storage a dozen times.
        let mut sorted = Vec::with_capacity(base.map_or(0, |b| b.len()) + slots.len());
        sorted.extend(base.into_iter().flatten().merge_join_by(kept, |(a, _), (b, _)| (*a).cmp(b)).filter_map(|e| {
            match e {
                EitherOrBoth::Left((slot, v)) => Some((*slot, *v)),
                EitherOrBoth::Right((slot, v)) | EitherOrBoth::Both(_, (slot, v)) => {
                    (!v.is_zero()).then_some((slot, v))
                }
            }
        }));
        let storage = BTreeMap::from_iter(sorted);
        Some(Account { balance: info.balance, nonce: info.nonce, code, storage })
    }
}

/// What building a written account costs next to building one written slot: looking up its
/// pre-state, settling its code and fees. Measured on blocks of ERC-20 transfers (one token,
/// 20,000 slots: 2.2 ms) and raw transfers (10,000 accounts a worker: 2 ms).
const ACCOUNT_COST: u64 = 2;

/// A worker's share of the post-state; see [`RevmVm::collect`].
#[derive(Default)]
pub struct FinalPart {
    writes: Vec<FinalWrite>,
    fees: Vec<(TxIndex, U256)>,
}

impl FinalPart {
    /// Where the workers split the address space to build the post-state: at quantiles of the
    /// building cost of one worker's writes (locations are spread over workers by hash, so any
    /// one is a fair sample). An account is never split, so a contract with most of the block's
    /// slots (an ERC-20 token) goes whole to one side of a split: the side where the two halves
    /// come out closer.
    pub fn splits(&self, ranges: usize) -> Vec<Address> {
        let costs = || {
            self.writes
                .chunk_by(|a, b| a.address == b.address)
                .map(|g| (g[0].address, g.iter().map(|w| if w.slot.is_none() { ACCOUNT_COST } else { 1 }).sum::<u64>()))
        };
        let total: u64 = costs().map(|(_, c)| c).sum();
        let mut costs = costs();
        let mut head = costs.next();
        let mut below = 0;
        (1..ranges as u64)
            .map(|r| {
                let target = total * r / ranges as u64;
                while let Some((_, c)) = head.filter(|(_, c)| below + c <= target) {
                    below += c;
                    head = costs.next();
                }
                // `head` straddles the target: cut after it when that lands closer and another
                // account follows.
                if let Some((_, c)) = head.filter(|(_, c)| below + c - target < target - below)
                    && let Some(next) = costs.next()
                {
                    below += c;
                    head = Some(next);
                }
                head.map_or(Address::ZERO, |(a, _)| a)
            })
            .collect()
    }
}

/// One worker's share of the post-state: its accounts, in address order.
pub type Range = Vec<(Address, Account)>;

/// The post-state: the built ranges (disjoint, in address order) joined. One tree built once
/// from all of them: a tree per worker joined by `append` built every account's place twice,
/// the second time on the caller alone. The first range has room for the rest, and a tree
/// built from one vector takes it as it is.
pub fn post_state(ranges: Vec<Range>) -> State {
    let mut ranges = ranges.into_iter();
    let mut all = ranges.next().unwrap_or_default();
    for range in ranges {
        all.extend(range);
    }
    State::from_iter(all)
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct FinalWrite {
    address: Address,
    /// `None`: the account itself.
    slot: Option<U256>,
    tx: TxIndex,
    value: FinalValue,
}

impl FinalWrite {
    /// The order of the post-state: by address, the account before its slots, slots ascending.
    fn location_cmp(&self, other: &FinalWrite) -> std::cmp::Ordering {
        self.address.cmp(&other.address).then_with(|| self.slot.cmp(&other.slot))
    }

    /// A key whose order agrees with [`FinalWrite::location_cmp`] wherever two keys differ: the
    /// address, then the account (0) or the slot's top bits (1 on).
    fn sort_key(&self) -> (Address, u64) {
        (self.address, self.slot.map_or(0, |s| (s.as_limbs()[3] >> 1) + 1))
    }
}

/// Puts `writes` in location order. Sorting the writes themselves moved each over 150 bytes a
/// dozen times, most of what gathering the post-state cost: the sort moves 32-byte keys instead
/// (compared in full only where two keys tie), then each write moves once, along the cycles of
/// the permutation, within the memory it is already in.
fn sort_by_location(writes: &mut [FinalWrite]) {
    let mut order: Vec<((Address, u64), u32)> = writes
        .iter()
        .enumerate()
        .map(|(i, w)| (w.sort_key(), u32::try_from(i).expect("fewer than 2^32 writes a worker")))
        .collect();
    order.sort_unstable_by(|(ka, a), (kb, b)| {
        ka.cmp(kb).then_with(|| writes[*a as usize].location_cmp(&writes[*b as usize]))
    });
    // `from[k]`: the write that belongs at `k`; `MOVED` once position `k` holds it.
    const MOVED: u32 = u32::MAX;
    let mut from: Vec<u32> = order.into_iter().map(|(_, i)| i).collect();
    for start in 0..writes.len() {
        if from[start] == MOVED {
            continue;
        }
        let first = writes[start];
        let mut k = start;
        loop {
            let source = from[k] as usize;
            from[k] = MOVED;
            if source == start {
                writes[k] = first;
                break;
            }
            writes[k] = writes[source];
            k = source;
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum FinalValue {
    Account(AccountValue),
    Slot(U256),
}

/// What revm sees as its database while executing transaction `tx`.
pub struct View<'a> {
    vm: &'a RevmVm,
    mv: &'a MvMemory<Location, Value>,
    tx: TxIndex,
    reads: Vec<Read<Location>>,
    /// Accounts as this incarnation read them: storage resets and write-set diffing.
    accounts: FxHashMap<Address, AccountValue>,
    /// This worker's own copy of every code it met, by hash. Code is reference-counted: if
    /// workers shared one copy, every load of a popular contract would bump one counter from
    /// every core.
    codes: FxHashMap<B256, Bytecode>,
    /// See [`View::pre_account`].
    pre_accounts: FxHashMap<Address, Option<&'a Account>>,
    /// This worker's own empty code. revm's `Bytecode::default()` is one process-wide
    /// reference count, touched by every clone and drop of every code-less account.
    empty_code: Bytecode,
    blocked: Option<TxIndex>,
    beneficiary_loaded: bool,
    lazy_fee: Option<U256>,
    worker: WorkerId,
    hook: Option<&'a dyn ScheduleHook>,
}

impl<'a> View<'a> {
    fn reset(&mut self, tx: TxIndex) {
        self.tx = tx;
        self.reads.clear();
        self.accounts.clear();
        self.blocked = None;
        self.beneficiary_loaded = false;
        self.lazy_fee = None;
    }

    /// MVMemory's value of `key` for this transaction, after a moment's wait when the
    /// transaction just below is likely to write it ([`MvMemory::read_after_chain`]). Under a
    /// controlled schedule the other worker cannot run meanwhile, so it reads at once.
    fn read(&self, key: &Location) -> MvRead<Value> {
        match self.hook {
            Some(_) => self.mv.read(key, self.tx),
            None => self.mv.read_after_chain(key, self.tx, CHAIN_WAIT),
        }
    }

    fn block_on(&mut self, blocking: TxIndex) -> Blocked {
        self.blocked = Some(blocking);
        Blocked(blocking)
    }

    fn announce(&self, location: &Location) {
        if let Some(h) = self.hook {
            h.on_event(self.worker, &SchedEvent::Read { tx: self.tx, location: format!("{location:?}") });
        }
    }

    /// `info` as revm sees it, with this worker's own copy of its code.
    fn revm_info(&mut self, address: Address, info: Info) -> AccountInfo {
        let code = if info.code_hash == KECCAK_EMPTY {
            self.empty_code.clone()
        } else if let Some(code) = self.codes.get(&info.code_hash) {
            code.clone()
        } else {
            let pre = self.pre_account(address);
            let code = revm_env::bytecode(&Bytes::copy_from_slice(&self.vm.code_bytes(address, pre, info.code_hash)));
            self.codes.insert(info.code_hash, code.clone());
            code
        };
        AccountInfo::new(info.balance, info.nonce, info.code_hash, code)
    }

    /// The block's own pre-state account, remembered by this worker: contracts are read again
    /// and again, each time a search of the block's ordered map.
    fn pre_account(&mut self, address: Address) -> Option<&'a Account> {
        let vm: &'a RevmVm = self.vm;
        *self.pre_accounts.entry(address).or_insert_with(|| vm.block.pre_state.get(&address))
    }

    /// Where `address`'s storage was last reset, loading the account if need be.
    fn storage_reset(&mut self, address: Address) -> Result<Option<TxIndex>, Blocked> {
        if let Some(a) = self.accounts.get(&address) {
            return Ok(a.storage_reset);
        }
        Ok(self.account(address)?.storage_reset)
    }

    fn account(&mut self, address: Address) -> Result<AccountValue, Blocked> {
        if let Some(a) = self.accounts.get(&address) {
            return Ok(*a);
        }
        let key = Location::Account(address);
        self.announce(&key);
        let (mut value, after) = match self.read(&key) {
            MvRead::Value { version, value: Value::Account(a), .. } => {
                self.reads.push(Read::Point { key, origin: ReadOrigin::Version(version) });
                (a, Some(version.tx))
            }
            MvRead::Storage => {
                self.reads.push(Read::Point { key, origin: ReadOrigin::Storage });
                (AccountValue { info: self.vm.pre_index.get(&address).copied(), storage_reset: None }, None)
            }
            MvRead::Estimate { blocking } => return Err(self.block_on(blocking)),
            MvRead::Value { .. } => unreachable!("account location holds an account value"),
        };
        if address == self.vm.coinbase() {
            self.beneficiary_loaded = true;
            self.announce(&Location::BeneficiaryFee);
            let deltas = match self.mv.read_deltas(after, self.tx) {
                Ok(d) => d,
                Err(blocking) => return Err(self.block_on(blocking)),
            };
            self.reads.push(Read::Deltas { after, versions: deltas.iter().map(|(v, _)| *v).collect() });
            for (version, fee) in deltas {
                let Value::Fee(fee) = fee else { unreachable!("deltas are fees") };
                self.vm.credit_fee(&mut value, fee, version.tx);
            }
        }
        self.accounts.insert(address, value);
        Ok(value)
    }
}

impl Database for View<'_> {
    type Error = Blocked;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Blocked> {
        Ok(self.account(address)?.info.map(|info| self.revm_info(address, info)))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Blocked> {
        // `basic` always hands out the code with the account, so revm asks only for code this
        // worker already has.
        Ok(self.codes.get(&code_hash).cloned().unwrap_or_default())
    }

    fn storage(&mut self, address: Address, slot: U256) -> Result<U256, Blocked> {
        let reset = self.storage_reset(address)?;
        let key = Location::Storage(address, slot);
        self.announce(&key);
        match self.read(&key) {
            MvRead::Value { version, value: Value::Storage(v), .. } => {
                self.reads.push(Read::Point { key, origin: ReadOrigin::Version(version) });
                Ok(if reset.is_some_and(|r| version.tx < r) { U256::ZERO } else { v })
            }
            MvRead::Storage => {
                self.reads.push(Read::Point { key, origin: ReadOrigin::Storage });
                Ok(if reset.is_some() {
                    U256::ZERO
                } else {
                    self.pre_account(address).and_then(|p| p.storage.get(&slot)).copied().unwrap_or_default()
                })
            }
            MvRead::Estimate { blocking } => Err(self.block_on(blocking)),
            MvRead::Value { .. } => unreachable!("storage location holds a storage value"),
        }
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Blocked> {
        Ok(self.vm.block.env.block_hash(number))
    }
}

/// revm's mainnet handler, except that the beneficiary's fee is deferred when the
/// transaction never loaded the beneficiary.
struct LazyFeeHandler<EVM, ERROR, FRAME>(PhantomData<(EVM, ERROR, FRAME)>);

/// What the lazy-fee handler needs of the database.
trait FeeSink {
    fn beneficiary_loaded(&self) -> bool;
    fn defer_fee(&mut self, fee: U256);
}

impl FeeSink for View<'_> {
    fn beneficiary_loaded(&self) -> bool {
        self.beneficiary_loaded
    }
    fn defer_fee(&mut self, fee: U256) {
        self.lazy_fee = Some(fee);
    }
}

impl<EVM, ERROR, FRAME> Handler for LazyFeeHandler<EVM, ERROR, FRAME>
where
    EVM: EvmTr<Context: ContextTr<Journal: JournalTr<State = EvmState>, Db: FeeSink>, Frame = FRAME>,
    ERROR: EvmTrError<EVM>,
    FRAME: FrameTr<FrameResult = FrameResult, FrameInit = FrameInit>,
{
    type Evm = EVM;
    type Error = ERROR;
    type HaltReason = HaltReason;

    fn reward_beneficiary(&self, evm: &mut EVM, exec_result: &mut FrameResult) -> Result<(), ERROR> {
        let ctx = evm.ctx();
        if ctx.db_ref().beneficiary_loaded() {
            return post_execution::reward_beneficiary(ctx, exec_result.gas()).map_err(From::from);
        }
        // The same amount revm's own crediting computes: the tip per gas from London on, the
        // whole price before, times the gas the sender finally pays for.
        let basefee = ctx.block().basefee() as u128;
        let price = ctx.tx().effective_gas_price(basefee);
        let london = ctx.cfg().spec().into().is_enabled_in(SpecId::LONDON);
        let per_gas = if london { price.saturating_sub(basefee) } else { price };
        let gas = exec_result.gas();
        let used = gas.used().saturating_sub(gas.reservoir());
        ctx.db_mut().defer_fee(U256::from(per_gas) * U256::from(used));
        Ok(())
    }
}

type Evm<'a> = MainnetEvm<MainnetContext<View<'a>>>;

impl Vm for RevmVm {
    type Key = Location;
    type Value = Value;
    type Output = TxOutput;
    type Worker<'w>
        = Evm<'w>
    where
        Self: 'w;

    fn txs(&self) -> usize {
        self.block.txs.len()
    }

    fn worker<'w>(
        &'w self,
        mv: &'w MvMemory<Location, Value>,
        worker: WorkerId,
        hook: Option<&'w dyn ScheduleHook>,
    ) -> Evm<'w> {
        let view = View {
            vm: self,
            mv,
            tx: TxIndex(0),
            reads: Vec::new(),
            accounts: FxHashMap::default(),
            codes: FxHashMap::default(),
            pre_accounts: FxHashMap::default(),
            empty_code: Bytecode::new_legacy(Bytes::new()),
            blocked: None,
            beneficiary_loaded: false,
            lazy_fee: None,
            worker,
            hook,
        };
        Context::mainnet().with_cfg(self.cfg.clone()).with_block(self.block_env.clone()).with_db(view).build_mainnet()
    }

    fn execute(&self, evm: &mut Evm<'_>, version: Version) -> Execution<Location, Value, TxOutput> {
        let tx = version.tx;
        evm.ctx.journaled_state.database.reset(tx);
        // revm parks a database error raised inside an opcode in the context and does not
        // always take it on the error path: a stale ESTIMATE error must not leak into the
        // next execution.
        evm.ctx.error = Ok(());
        evm.ctx.set_tx(revm_env::tx_env(&self.block.txs[tx.0]));
        let result = LazyFeeHandler::<_, EVMError<Blocked, InvalidTransaction>, _>(PhantomData).run(evm);
        let diff = evm.finalize();
        let view = &mut evm.ctx.journaled_state.database;
        if let Some(blocking) = view.blocked {
            return Execution::Blocked { blocking };
        }
        let reads = std::mem::take(&mut view.reads);
        let outcome = match revm_env::outcome(result) {
            Ok(o) => o,
            Err(e) => {
                return Execution::Done { reads, writes: Vec::new(), delta: None, output: Err(e) };
            }
        };
        let mut writes = Vec::new();
        let mut delta = None;
        if matches!(outcome, TxOutcome::Executed { .. }) {
            self.write_set(view, tx, diff, &mut writes);
            delta = view.lazy_fee.map(Value::Fee);
        }
        Execution::Done { reads, writes, delta, output: Ok(outcome) }
    }
}

impl RevmVm {
    /// Every changed field of every touched account (a nonce-only change included, known-bugs
    /// #8), code on creation and delegation, storage, destruction.
    fn write_set(&self, view: &View<'_>, tx: TxIndex, diff: EvmState, writes: &mut Vec<(Location, Value)>) {
        let mut slots = Vec::new();
        for (address, account) in diff {
            if !account.is_touched() {
                continue;
            }
            let Some(read) = view.accounts.get(&address) else {
                debug_assert!(false, "revm changed {address} without loading it");
                continue;
            };
            let created = account.is_created();
            let new = if account.is_selfdestructed() || (!created && account.is_empty()) {
                if read.info.is_none() {
                    continue;
                }
                AccountValue { info: None, storage_reset: Some(tx) }
            } else {
                let reset = if created { Some(tx) } else { read.storage_reset };
                for (slot, v) in &account.storage {
                    if created {
                        if !v.present_value.is_zero() {
                            slots.push((Location::Storage(address, *slot), Value::Storage(v.present_value)));
                        }
                    } else if v.is_changed() {
                        slots.push((Location::Storage(address, *slot), Value::Storage(v.present_value)));
                    }
                }
                let info = &account.info;
                if info.code_hash != KECCAK_EMPTY && read.info.is_none_or(|r| r.code_hash != info.code_hash) {
                    let code = info.code.as_ref().map(|c| c.original_bytes()).unwrap_or_default();
                    lock(&self.deployed).entry(info.code_hash).or_insert(code);
                }
                let info = Info { balance: info.balance, nonce: info.nonce, code_hash: info.code_hash };
                AccountValue { info: Some(info), storage_reset: reset }
            };
            if new != *read {
                writes.push((Location::Account(address), Value::Account(new)));
            }
        }
        // Account writes come first: the post-state clears storage before slot writes.
        writes.append(&mut slots);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(accounts: &[(u8, usize)]) -> FinalPart {
        let mut writes = Vec::new();
        for &(a, slots) in accounts {
            let address = Address::with_last_byte(a);
            let value = FinalValue::Account(AccountValue { info: None, storage_reset: None });
            writes.push(FinalWrite { address, slot: None, tx: TxIndex(0), value });
            for s in 0..slots {
                writes.push(FinalWrite {
                    address,
                    slot: Some(U256::from(s)),
                    tx: TxIndex(0),
                    value: FinalValue::Slot(U256::ONE),
                });
            }
        }
        FinalPart { writes, fees: Vec::new() }
    }

    #[test]
    fn writes_sort_in_location_order_even_where_their_keys_tie() {
        // Addresses and slots that agree in the bits the sort key keeps, and differ after them.
        let address = |first: u8, last: u8| {
            let mut a = Address::with_last_byte(last);
            a.0[0] = first;
            a
        };
        let slot = |top: u64, low: u64| U256::from_limbs([low, 0, 0, top]);
        let account = FinalValue::Account(AccountValue { info: None, storage_reset: None });
        let mut writes = Vec::new();
        for (n, (a, s)) in [
            (address(9, 2), Some(slot(6, 1))),
            (address(9, 1), Some(slot(7, 0))),
            (address(9, 2), None),
            (address(9, 1), Some(slot(6, 5))),
            (address(9, 2), Some(slot(6, 0))),
            (address(1, 7), Some(slot(u64::MAX, 3))),
            (address(9, 1), None),
            (address(9, 1), Some(slot(7, 1))),
            (address(1, 7), Some(U256::ZERO)),
            (address(9, 1), Some(slot(6, 4))),
        ]
        .into_iter()
        .enumerate()
        {
            let value = if s.is_none() { account } else { FinalValue::Slot(U256::from(n)) };
            writes.push(FinalWrite { address: a, slot: s, tx: TxIndex(n), value });
        }
        let mut want = writes.clone();
        want.sort_by(|a, b| a.location_cmp(b));
        sort_by_location(&mut writes);
        assert_eq!(writes, want);
    }

    #[test]
    fn splits_balance_building_cost_and_keep_a_large_contract_whole() {
        // Even accounts: even thirds.
        let even = part(&(1..=9).map(|a| (a, 0)).collect::<Vec<_>>());
        assert_eq!(even.splits(3), vec![Address::with_last_byte(4), Address::with_last_byte(7)]);
        // A token with most of the slots in the middle: cutting after it (110 | 10) beats
        // cutting before it (8 | 112); a plain quantile of the writes would cut at the token.
        let token = part(&[(1, 0), (2, 0), (3, 0), (4, 0), (5, 100), (6, 0), (7, 0), (8, 0), (9, 0), (10, 0)]);
        assert_eq!(token.splits(2), vec![Address::with_last_byte(6)]);
        // Nothing written: every range but the last is empty, never out of order.
        assert_eq!(FinalPart::default().splits(3), vec![Address::ZERO, Address::ZERO]);
    }
}
