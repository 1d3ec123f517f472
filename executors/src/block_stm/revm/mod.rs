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

mod fees;
mod post_state;
mod pre_index;
mod view;

use fees::LazyFeeHandler;
pub use post_state::{FinalPart, Range, post_state};
pub use view::{Blocked, View};

use super::mv_memory::{MvMemory, MvRead, Read, ReadOrigin};
use super::planted::{Mutant, PlantedBug};
use super::sync::lock;
use super::vm::{Execution, Vm};
use super::{TxIndex, Version};
use crate::executor::ExecError;
use crate::hook::{SchedEvent, ScheduleHook, WorkerId};
use crate::model::{Account, BlockInput, SYSTEM_ADDRESS, State, SystemCall, TxOutcome};
use crate::revm_env;
use crate::watchdog::{self, GuardedEvm};
use alloy_primitives::{Address, B256, Bytes, U256};
use itertools::{EitherOrBoth, Itertools};
use pre_index::PreIndex;
use revm::ExecuteEvm;
use revm::context::result::{EVMError, HaltReason, InvalidTransaction};
use revm::context::{BlockEnv, CfgEnv, ContextSetters, ContextTr, JournalTr};
use revm::context_interface::{Block as _, Cfg as _, Transaction as _};
use revm::database_interface::{DBErrorMarker, Database};
use revm::handler::{EvmTr, EvmTrError, FrameResult, FrameTr, Handler, post_execution};
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
use std::time::{Duration, Instant};

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

pub type TxOutput = Result<TxOutcome, ExecError>;

/// One unit of Block-STM's work: the block's system calls, transactions and credits are all
/// executed as incarnations against MVMemory, validated and re-executed like any transaction,
/// at the position in the block where the spec applies them.
#[derive(Clone, Debug)]
pub enum Item {
    /// A system call before the first transaction.
    SystemBefore(SystemCall),
    /// A system call after the credits, whose return data are requests.
    SystemAfter(SystemCall),
    /// The block's transaction at this position of `BlockInput::txs`.
    Tx(usize),
    /// The rewards and withdrawals, in order, in wei: one item, since they read and write
    /// only balances and nothing in the block runs between them.
    Credits(Vec<(Address, U256)>),
}

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
    /// Each worker's EVM halts an execution still running past it ([`watchdog`]).
    deadline: Option<Instant>,
    /// What each index of the run executes: the block's transactions between its system calls
    /// and credits.
    items: Vec<Item>,
    /// [`PlantedBug::NONE`] but in test builds.
    bug: PlantedBug,
    /// Under [`Mutant::HashedLocation`], the full slot last written under each truncated one.
    slot_names: Mutex<FxHashMap<(Address, U256), U256>>,
    /// Under [`Mutant::SpeculativeLogs`], every incarnation's logs so far, per transaction.
    spec_logs: Mutex<FxHashMap<TxIndex, Vec<alloy_primitives::Log>>>,
}

impl RevmVm {
    /// `block` prepared for revm, its executions halted past `deadline`.
    ///
    /// # Errors
    ///
    /// [`ExecError::InvalidBlock`] for a block environment revm cannot take
    /// ([`revm_env::block_env`]).
    pub fn new(block: Arc<BlockInput>, deadline: Option<Instant>, bug: PlantedBug) -> Result<Self, ExecError> {
        let cfg = revm_env::cfg_env(&block);
        let block_env = revm_env::block_env(&block, &cfg)?;
        let pre_index = PreIndex::new(&block.pre_state);
        let items = items(&block);
        Ok(RevmVm {
            items,
            clears_empty: cfg.spec.is_enabled_in(SpecId::SPURIOUS_DRAGON),
            cfg,
            block_env,
            pre_index,
            deployed: Mutex::new(FxHashMap::default()),
            block,
            deadline,
            bug,
            slot_names: Mutex::new(FxHashMap::default()),
            spec_logs: Mutex::new(FxHashMap::default()),
        })
    }

    /// The MVMemory location of `address`'s `slot`: the slot itself, but truncated to its low
    /// 64 bits under [`Mutant::HashedLocation`].
    fn slot_location(&self, address: Address, slot: U256) -> Location {
        if self.bug.is(Mutant::HashedLocation) {
            return Location::Storage(address, U256::from(slot.as_limbs()[0]));
        }
        Location::Storage(address, slot)
    }

    /// The slot a location written by [`RevmVm::slot_location`] stands for in the post-state.
    fn slot_name(&self, address: Address, slot: U256) -> U256 {
        if self.bug.is(Mutant::HashedLocation) {
            return lock(&self.slot_names).get(&(address, slot)).copied().unwrap_or(slot);
        }
        slot
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
}

type Evm<'a> = GuardedEvm<View<'a>>;

impl Vm for RevmVm {
    type Key = Location;
    type Value = Value;
    type Output = TxOutput;
    type Worker<'w>
        = Evm<'w>
    where
        Self: 'w;

    fn txs(&self) -> usize {
        self.items.len()
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
        watchdog::evm(self.cfg.clone(), self.block_env.clone(), view, self.deadline)
    }

    fn execute(&self, evm: &mut Evm<'_>, version: Version) -> Execution<Location, Value, TxOutput> {
        let tx = version.tx;
        evm.ctx.journaled_state.database.reset(tx);
        // revm parks a database error raised inside an opcode in the context and does not
        // always take it on the error path: a stale ESTIMATE error must not leak into the
        // next execution.
        evm.ctx.error = Ok(());
        let result = match &self.items[tx.0] {
            Item::Tx(i) => {
                evm.ctx.set_tx(revm_env::tx_env(&self.block.txs[*i]));
                LazyFeeHandler::<_, EVMError<Blocked, InvalidTransaction>, _>(PhantomData).run(evm)
            }
            Item::SystemBefore(call) | Item::SystemAfter(call) => {
                use revm::handler::SystemCallTx;
                let env =
                    revm::context::TxEnv::new_system_tx_with_caller(SYSTEM_ADDRESS, call.contract, call.input.clone());
                evm.ctx.set_tx(env);
                LazyFeeHandler::<_, EVMError<Blocked, InvalidTransaction>, _>(PhantomData).run_system_call(evm)
            }
            Item::Credits(credits) => {
                for (address, amount) in credits {
                    if JournalTr::balance_incr(&mut evm.ctx.journaled_state, *address, *amount).is_err() {
                        break;
                    }
                }
                Ok(revm::context::result::ExecutionResult::Success {
                    reason: revm::context::result::SuccessReason::Stop,
                    gas: Default::default(),
                    logs: Vec::new(),
                    output: revm::context::result::Output::Call(Bytes::new()),
                })
            }
        };
        let diff = evm.finalize();
        if evm.ctx.chain.expired() {
            return Execution::Halted;
        }
        let view = &mut evm.ctx.journaled_state.database;
        if let Some(blocking) = view.blocked {
            return Execution::Blocked { blocking };
        }
        let reads = std::mem::take(&mut view.reads);
        let outcome = match &self.items[tx.0] {
            Item::SystemBefore(call) | Item::SystemAfter(call) => system_outcome(call, view, result),
            _ => revm_env::outcome(result),
        };
        let mut outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                return Execution::Done { reads, writes: Vec::new(), delta: None, output: Err(e) };
            }
        };
        let reads = self.planted_outcome(version, &mut outcome, reads);
        if self.bug.is(Mutant::NonceGapLivelock)
            && tx.0 > 0
            && matches!(outcome, TxOutcome::Rejected { kind: crate::model::RejectKind::NonceTooHigh })
        {
            return Execution::Blocked { blocking: TxIndex(tx.0 - 1) };
        }
        let mut writes = Vec::new();
        let mut delta = None;
        if matches!(outcome, TxOutcome::Executed { .. }) {
            self.write_set(view, tx, diff, &mut writes);
            delta = view.lazy_fee.map(Value::Fee);
        }
        Execution::Done { reads, writes, delta, output: Ok(outcome) }
    }
}

/// What each index of a Block-STM run of `block` executes.
fn items(block: &BlockInput) -> Vec<Item> {
    let mut items = Vec::with_capacity(block.txs.len());
    let rules = block.rules.as_ref();
    items.extend(
        rules.map(|r| r.system_calls_before(block.fork)).unwrap_or_default().into_iter().map(Item::SystemBefore),
    );
    items.extend((0..block.txs.len()).map(Item::Tx));
    if let Some(rules) = rules {
        let credits = rules.credits(block.fork, block.env.number.saturating_to(), block.env.coinbase);
        if !credits.is_empty() {
            items.push(Item::Credits(credits));
        }
        items.extend(rules.system_calls_after(block.fork).into_iter().map(Item::SystemAfter));
    }
    items
}

/// A system call's result as an outcome: its return data in `output`. A checked call to a
/// contract without code, or that failed, makes the block invalid.
fn system_outcome(
    call: &SystemCall,
    view: &View<'_>,
    result: Result<revm::context::result::ExecutionResult, EVMError<Blocked, InvalidTransaction>>,
) -> TxOutput {
    let result = result.map_err(|e| ExecError::Internal(format!("system call to {}: {e:?}", call.contract)))?;
    if call.checked {
        let has_code =
            view.accounts.get(&call.contract).and_then(|a| a.info).is_some_and(|i| i.code_hash != KECCAK_EMPTY);
        if !has_code {
            return Err(ExecError::InvalidBlock(format!("system contract {} has no code", call.contract)));
        }
        if !result.is_success() {
            return Err(ExecError::InvalidBlock(format!("system call to {} failed: {result:?}", call.contract)));
        }
    }
    revm_env::outcome::<EVMError<Blocked, InvalidTransaction>>(Ok(result))
}

impl RevmVm {
    /// The block's transaction outcomes and EIP-7685 requests from the outputs of every item.
    pub fn assemble(&self, outputs: Vec<Option<TxOutput>>) -> Result<(Vec<TxOutcome>, Vec<Bytes>), ExecError> {
        let mut outcomes = Vec::with_capacity(self.block.txs.len());
        let mut after_calls = Vec::new();
        for (i, (item, out)) in self.items.iter().zip(outputs).enumerate() {
            let outcome = match out {
                Some(Ok(o)) => o,
                Some(Err(e)) => return Err(e),
                None => return Err(ExecError::Internal(format!("item {i} ({item:?}) never executed"))),
            };
            match item {
                Item::Tx(_) => outcomes.push(outcome),
                Item::SystemAfter(_) => {
                    if let TxOutcome::Executed { output, .. } = outcome {
                        after_calls.push(output);
                    }
                }
                Item::SystemBefore(_) | Item::Credits(_) => {}
            }
        }
        let mut requests = Vec::new();
        if let Some(rules) = &self.block.rules
            && !after_calls.is_empty()
        {
            let deposits =
                crate::model::deposit_requests(outcomes.iter().flat_map(|o| o.logs()), rules.deposit_contract);
            requests = crate::model::requests(deposits, after_calls);
        }
        Ok((outcomes, requests))
    }
}

impl RevmVm {
    /// What the planted bugs that act on an outcome make of it; the read set to record.
    fn planted_outcome(
        &self,
        version: Version,
        outcome: &mut TxOutcome,
        reads: Vec<Read<Location>>,
    ) -> Vec<Read<Location>> {
        if self.bug.is(Mutant::RejectionNotValidated)
            && matches!(outcome, TxOutcome::Rejected { kind: crate::model::RejectKind::InsufficientFunds })
        {
            return Vec::new();
        }
        if self.bug.is(Mutant::SpeculativeLogs)
            && let TxOutcome::Executed { logs, .. } = outcome
        {
            let mut seen = lock(&self.spec_logs);
            let kept = seen.entry(version.tx).or_default();
            kept.extend(logs.iter().cloned());
            *logs = kept.clone();
        }
        reads
    }

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
            let cleared = !created && account.is_empty() && !self.bug.is(Mutant::TouchedEmptyKept);
            let new = if account.is_selfdestructed() || cleared {
                if read.info.is_none() {
                    continue;
                }
                AccountValue { info: None, storage_reset: Some(tx) }
            } else {
                let reset = if created { Some(tx) } else { read.storage_reset };
                for (slot, v) in &account.storage {
                    if (created && !v.present_value.is_zero()) || (!created && v.is_changed()) {
                        let location = self.slot_location(address, *slot);
                        if let Location::Storage(_, short) = location
                            && short != *slot
                        {
                            lock(&self.slot_names).insert((address, short), *slot);
                        }
                        slots.push((location, Value::Storage(v.present_value)));
                    }
                }
                let info = &account.info;
                if info.code_hash != KECCAK_EMPTY
                    && read.info.is_none_or(|r| r.code_hash != info.code_hash)
                    && !self.bug.is(Mutant::CodeNotRecorded)
                {
                    let code = info.code.as_ref().map(|c| c.original_bytes()).unwrap_or_default();
                    lock(&self.deployed).entry(info.code_hash).or_insert(code);
                }
                let info = Info { balance: info.balance, nonce: info.nonce, code_hash: info.code_hash };
                AccountValue { info: Some(info), storage_reset: reset }
            };
            let nonce_only = || {
                new.info
                    .zip(read.info)
                    .is_some_and(|(n, r)| n.nonce != r.nonce && n.balance == r.balance && n.code_hash == r.code_hash)
                    && new.storage_reset == read.storage_reset
            };
            if self.bug.is(Mutant::NonceOnlyWriteDropped) && nonce_only() {
                continue;
            }
            if new != *read {
                writes.push((Location::Account(address), Value::Account(new)));
            }
        }
        // Account writes come first: the post-state clears storage before slot writes.
        writes.append(&mut slots);
    }
}
