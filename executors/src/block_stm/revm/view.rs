//! What revm sees as its database while executing one transaction: MVMemory through a
//! view that records every read.

use super::*;
use crate::block_stm::mv_memory::spin_wait;

/// How long a read waits for the executing transaction just below (see [`View::read`]):
/// about as long as a short transaction takes.
const CHAIN_WAIT: Duration = Duration::from_micros(5);

/// Under a schedule hook, how many times a read reports [`SchedEvent::ChainWait`] before it
/// reads anyway: each report lets the controller run the transaction below.
const CHAIN_ROUNDS: u32 = 2;

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

/// What revm sees as its database while executing transaction `tx`.
pub struct View<'a> {
    pub(super) vm: &'a RevmVm,
    pub(super) mv: &'a MvMemory<Location, Value>,
    pub(super) tx: TxIndex,
    pub(super) reads: Vec<Read<Location>>,
    /// Accounts as this incarnation read them: storage resets and write-set diffing.
    pub(super) accounts: FxHashMap<Address, AccountValue>,
    /// This worker's own copy of every code it met, by hash. Code is reference-counted: if
    /// workers shared one copy, every load of a popular contract would bump one counter from
    /// every core.
    pub(super) codes: FxHashMap<B256, Bytecode>,
    /// See [`View::pre_account`].
    pub(super) pre_accounts: FxHashMap<Address, Option<&'a Account>>,
    /// This worker's own empty code. revm's `Bytecode::default()` is one process-wide
    /// reference count, touched by every clone and drop of every code-less account.
    pub(super) empty_code: Bytecode,
    pub(super) blocked: Option<TxIndex>,
    pub(super) beneficiary_loaded: bool,
    pub(super) lazy_fee: Option<U256>,
    pub(super) worker: WorkerId,
    pub(super) hook: Option<&'a dyn ScheduleHook>,
}

impl<'a> View<'a> {
    pub(super) fn reset(&mut self, tx: TxIndex) {
        if tx != self.tx || !self.vm.bug.is(Mutant::AccountCacheLeak) {
            self.accounts.clear();
        }
        self.tx = tx;
        self.reads.clear();
        self.blocked = None;
        self.beneficiary_loaded = false;
        self.lazy_fee = None;
    }

    /// MVMemory's value of `key` for this transaction, after a moment's wait when the
    /// transaction just below is likely to write it ([`MvMemory::read_after_chain`]). Under a
    /// schedule hook the wait is a few [`SchedEvent::ChainWait`] reports, so a controlled
    /// schedule decides whether the transaction below runs meanwhile.
    pub(super) fn read(&self, key: &Location) -> MvRead<Value> {
        match self.hook {
            None => self.mv.read_after_chain(key, self.tx, spin_wait(CHAIN_WAIT)),
            Some(hook) => self.mv.read_after_chain(key, self.tx, |waits_for, round| {
                if round >= CHAIN_ROUNDS {
                    return false;
                }
                hook.on_event(self.worker, &SchedEvent::ChainWait { tx: self.tx, waits_for });
                true
            }),
        }
    }

    pub(super) fn block_on(&mut self, blocking: TxIndex) -> Blocked {
        self.blocked = Some(blocking);
        Blocked(blocking)
    }

    pub(super) fn announce(&self, location: &Location) {
        if let Some(h) = self.hook {
            h.on_event(self.worker, &SchedEvent::Read { tx: self.tx, location: format!("{location:?}") });
        }
    }

    /// `info` as revm sees it, with this worker's own copy of its code.
    pub(super) fn revm_info(&mut self, address: Address, info: Info) -> AccountInfo {
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
    pub(super) fn pre_account(&mut self, address: Address) -> Option<&'a Account> {
        let vm: &'a RevmVm = self.vm;
        *self.pre_accounts.entry(address).or_insert_with(|| vm.block.pre_state.get(&address))
    }

    /// Where `address`'s storage was last reset, loading the account if need be.
    pub(super) fn storage_reset(&mut self, address: Address) -> Result<Option<TxIndex>, Blocked> {
        if let Some(a) = self.accounts.get(&address) {
            return Ok(a.storage_reset);
        }
        Ok(self.account(address)?.storage_reset)
    }

    pub(super) fn account(&mut self, address: Address) -> Result<AccountValue, Blocked> {
        if let Some(a) = self.accounts.get(&address) {
            return Ok(*a);
        }
        let key = Location::Account(address);
        self.announce(&key);
        let (mut value, after) = match self.read(&key) {
            MvRead::Value { version, value: Value::Account(a), .. } => {
                self.reads.push(Read::Point { key, origin: ReadOrigin::Version(version) });
                if a.info.is_none() && self.vm.bug.is(Mutant::DestroyedReadsPreState) {
                    (AccountValue { info: self.vm.pre_index.get(&address).copied(), storage_reset: None }, None)
                } else {
                    (a, Some(version.tx))
                }
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
            if !self.vm.bug.is(Mutant::UnrecordedFeeRead) {
                self.reads.push(Read::Deltas { after, versions: deltas.iter().map(|(v, _)| *v).collect() });
            }
            let sends = || matches!(&self.vm.items[self.tx.0], Item::Tx(i) if self.vm.block.txs[*i].sender == address);
            let misses_fees = self.vm.bug.is(Mutant::BeneficiarySenderMissesFees) && sends();
            for (version, fee) in deltas.into_iter().filter(|_| !misses_fees) {
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
        let reset = self.storage_reset(address)?.filter(|_| !self.vm.bug.is(Mutant::StorageKeptOnRecreation));
        let key = self.vm.slot_location(address, slot);
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
