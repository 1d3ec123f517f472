//! The reference executor: revm, one transaction after another, on one thread.

use crate::executor::{ExecError, Executor, RunControl};
use crate::model::{BlockInput, BlockOutput, ExecStats, SYSTEM_ADDRESS, State, SystemCall};
use crate::{revm_env, watchdog};
use alloy_primitives::{Address, B256, Bytes, U256};
use revm::ExecuteCommitEvm;
use revm::context::JournalTr;
use revm::database_interface::{Database, DatabaseCommit};
use revm::primitives::{AddressMap, KECCAK_EMPTY};
use revm::state::{AccountInfo, Bytecode};
use std::collections::HashMap;
use std::convert::Infallible;

/// Runs a block the plain way. Every other executor is compared with this one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sequential;

impl Executor for Sequential {
    fn name(&self) -> &str {
        "sequential"
    }

    fn version(&self) -> String {
        format!("lockstep-executors {} on revm 43.0.3", env!("CARGO_PKG_VERSION"))
    }

    fn execute(&self, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError> {
        let cfg = revm_env::cfg_env(block);
        let block_env = revm_env::block_env(block, &cfg)?;
        let mut db = WorkingState::new(block);
        let mut outcomes = Vec::with_capacity(block.txs.len());
        let mut requests = Vec::new();
        {
            let mut evm = watchdog::evm(cfg, block_env, &mut db, run.deadline);
            let rules = block.rules.as_ref();
            for call in rules.map(|r| r.system_calls_before(block.fork)).unwrap_or_default() {
                system_call(&mut evm, &call, run)?;
            }
            for tx in &block.txs {
                if run.past_deadline() {
                    return Err(ExecError::Deadline);
                }
                let result = evm.transact_commit(revm_env::tx_env(tx));
                // A transaction the watchdog halted left an error and committed nothing.
                if evm.ctx.chain.expired() {
                    return Err(ExecError::Deadline);
                }
                outcomes.push(revm_env::outcome(result)?);
            }
            if let Some(rules) = rules {
                let number = block.env.number.saturating_to::<u64>();
                for (address, amount) in rules.credits(block.fork, number, block.env.coinbase) {
                    let Ok(()) = JournalTr::balance_incr(&mut evm.ctx.journaled_state, address, amount);
                }
                evm.commit_inner();
                let after = rules.system_calls_after(block.fork);
                if !after.is_empty() {
                    let logs = outcomes.iter().flat_map(|o| o.logs());
                    let deposits = crate::model::deposit_requests(logs, rules.deposit_contract);
                    let mut outputs = Vec::with_capacity(after.len());
                    for call in &after {
                        outputs.push(system_call(&mut evm, call, run)?);
                    }
                    requests = crate::model::requests(deposits, outputs);
                }
            }
        }
        let executions = outcomes.len() as u64;
        Ok(BlockOutput {
            outcomes,
            post_state: db.state,
            stats: ExecStats { threads: 1, executions, aborts: 0, validations: 0, parallel: false },
            requests,
        })
    }
}

/// Runs and commits one system call; its return data. A checked call to a contract without
/// code, or one that fails, makes the block invalid.
fn system_call(
    evm: &mut watchdog::GuardedEvm<&mut WorkingState<'_>>,
    call: &SystemCall,
    run: &RunControl,
) -> Result<Bytes, ExecError> {
    use revm::SystemCallCommitEvm;
    if run.past_deadline() {
        return Err(ExecError::Deadline);
    }
    let has_code = evm.ctx.journaled_state.database.state.get(&call.contract).is_some_and(|a| !a.code.is_empty());
    if call.checked && !has_code {
        return Err(ExecError::InvalidBlock(format!("system contract {} has no code", call.contract)));
    }
    let result = evm.system_call_with_caller_commit(SYSTEM_ADDRESS, call.contract, call.input.clone());
    if evm.ctx.chain.expired() {
        return Err(ExecError::Deadline);
    }
    let result = result.map_err(|e| ExecError::Internal(format!("system call to {}: {e:?}", call.contract)))?;
    if call.checked && !result.is_success() {
        return Err(ExecError::InvalidBlock(format!("system call to {} failed: {result:?}", call.contract)));
    }
    Ok(result.into_output().unwrap_or_default())
}

/// A location of the state, as the reference's read and write sets name it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessLocation {
    /// An account's balance, nonce and code.
    Account(Address),
    /// One storage slot.
    Slot(Address, U256),
}

/// What one transaction read and wrote, on the reference.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxAccess {
    /// Every location the transaction loaded.
    pub reads: std::collections::BTreeSet<AccessLocation>,
    /// Every location it changed (an account touched, a slot whose value changed).
    pub writes: std::collections::BTreeSet<AccessLocation>,
}

/// The read and write set of each transaction of `block`, run one after another as
/// [`Sequential`] runs it, at the granularity of accounts and slots. The beneficiary is left
/// out: every transaction credits it a fee, which a parallel executor keeps as a delta, and
/// its edges would hide every other conflict.
pub fn access_sets(block: &BlockInput, run: &RunControl) -> Result<Vec<TxAccess>, ExecError> {
    use revm::ExecuteEvm;
    let cfg = revm_env::cfg_env(block);
    let block_env = revm_env::block_env(block, &cfg)?;
    let mut db = WorkingState::new(block);
    let mut sets = Vec::with_capacity(block.txs.len());
    let mut evm = watchdog::evm(cfg, block_env, &mut db, run.deadline);
    for tx in &block.txs {
        let mut access = TxAccess::default();
        match evm.transact(revm_env::tx_env(tx)) {
            Ok(r) => {
                for (addr, account) in &r.state {
                    if *addr == block.env.coinbase {
                        continue;
                    }
                    access.reads.insert(AccessLocation::Account(*addr));
                    if account.is_touched() {
                        access.writes.insert(AccessLocation::Account(*addr));
                    }
                    for (key, slot) in &account.storage {
                        access.reads.insert(AccessLocation::Slot(*addr, *key));
                        if slot.is_changed() {
                            access.writes.insert(AccessLocation::Slot(*addr, *key));
                        }
                    }
                }
                evm.commit(r.state);
            }
            // A rejected transaction reads what rejected it and writes nothing.
            Err(_) if evm.ctx.chain.expired() => return Err(ExecError::Deadline),
            Err(_) => {
                access.reads.insert(AccessLocation::Account(tx.sender));
            }
        }
        sets.push(access);
    }
    Ok(sets)
}

/// The state as of the last committed transaction, as a revm database.
struct WorkingState<'a> {
    block: &'a BlockInput,
    state: State,
    /// Code by hash, filled as accounts are loaded: revm asks for code by hash.
    code: HashMap<B256, Bytecode>,
    /// The code hash of every contract loaded so far, kept current at each commit: hashing a
    /// contract's code at every load would cost more than many transactions themselves.
    code_hashes: HashMap<Address, B256>,
}

impl<'a> WorkingState<'a> {
    fn new(block: &'a BlockInput) -> Self {
        WorkingState { block, state: block.pre_state.clone(), code: HashMap::new(), code_hashes: HashMap::new() }
    }
}

impl Database for WorkingState<'_> {
    type Error = Infallible;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Infallible> {
        let Some(account) = self.state.get(&address) else {
            return Ok(None);
        };
        let code_hash = if account.code.is_empty() {
            KECCAK_EMPTY
        } else {
            *self.code_hashes.entry(address).or_insert_with(|| account.code_hash())
        };
        let code = self.code.entry(code_hash).or_insert_with(|| revm_env::bytecode(&account.code)).clone();
        Ok(Some(AccountInfo::new(account.balance, account.nonce, code_hash, code)))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Infallible> {
        Ok(self.code.get(&code_hash).cloned().unwrap_or_default())
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, Infallible> {
        Ok(self.state.get(&address).and_then(|a| a.storage.get(&index)).copied().unwrap_or_default())
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Infallible> {
        Ok(self.block.env.block_hash(number))
    }
}

impl DatabaseCommit for WorkingState<'_> {
    fn commit(&mut self, changes: AddressMap<revm::state::Account>) {
        // revm keeps each account's code hash in step with its code (creation, EIP-7702
        // delegation). Only contracts' are kept: `basic` never asks for a code-less account's.
        for (address, account) in &changes {
            if account.is_touched() && account.info.code_hash != KECCAK_EMPTY {
                self.code_hashes.insert(*address, account.info.code_hash);
            }
        }
        revm_env::apply_diff(&mut self.state, changes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Account, BlockEnv, Fork, RejectKind, Tx, TxOutcome, TxStatus, TxType};
    use alloy_primitives::{Bytes, address};

    const ALICE: Address = address!("0x00000000000000000000000000000000000a11ce");
    const BOB: Address = address!("0x0000000000000000000000000000000000000b0b");
    const COINBASE: Address = address!("0x00000000000000000000000000000000c014ba5e");
    const CONTRACT: Address = address!("0x00000000000000000000000000000000000c0de0");
    const ETH: u64 = 1_000_000_000_000_000_000;

    fn block(fork: Fork, txs: Vec<Tx>) -> BlockInput {
        let mut pre = State::new();
        pre.insert(ALICE, Account { balance: U256::from(ETH), ..Default::default() });
        // SSTORE 42 at slot 0, LOG0 of nothing, stop.
        let code = Bytes::from_static(&[0x60, 0x2a, 0x60, 0x00, 0x55, 0x60, 0x00, 0x60, 0x00, 0xa0, 0x00]);
        pre.insert(CONTRACT, Account { code, ..Default::default() });
        BlockInput {
            fork,
            chain_id: 1,
            env: BlockEnv {
                number: U256::from(1),
                timestamp: U256::from(1000),
                coinbase: COINBASE,
                gas_limit: 30_000_000,
                base_fee: fork.at_least(Fork::London).then_some(7),
                prevrandao: fork.at_least(Fork::Merge).then_some(B256::ZERO),
                excess_blob_gas: fork.at_least(Fork::Cancun).then_some(0),
                ..Default::default()
            },
            pre_state: pre,
            txs,
            rules: None,
        }
    }

    fn call(to: Address, value: u64, nonce: u64) -> Tx {
        Tx {
            tx_type: TxType::Legacy,
            sender: ALICE,
            to: Some(to),
            value: U256::from(value),
            gas_limit: 100_000,
            gas_price: 10,
            nonce,
            chain_id: Some(1),
            ..Default::default()
        }
    }

    fn run(b: &BlockInput) -> BlockOutput {
        Sequential.execute(b, &RunControl::default()).unwrap()
    }

    #[test]
    fn invalid_transaction_changes_nothing_and_the_block_goes_on() {
        let b = block(Fork::Cancun, vec![call(BOB, 5, 0), call(BOB, 5, 7), call(BOB, 6, 1)]);
        let out = run(&b);
        assert_eq!(out.outcomes[1], TxOutcome::Rejected { kind: RejectKind::NonceTooHigh });
        assert!(matches!(out.outcomes[2], TxOutcome::Executed { status: TxStatus::Success, gas_used: 21_000, .. }));
        let alice = &out.post_state[&ALICE];
        assert_eq!(alice.nonce, 2);
        assert_eq!(alice.balance, U256::from(ETH - 11 - 2 * 21_000 * 10));
        assert_eq!(out.post_state[&BOB].balance, U256::from(11));
        // London on: the base fee (7) is burnt, the tip (3) goes to the beneficiary.
        assert_eq!(out.post_state[&COINBASE].balance, U256::from(2 * 21_000 * 3));
        assert_eq!(out.cumulative_gas().collect::<Vec<_>>(), vec![21_000, 21_000, 42_000]);
    }

    #[test]
    fn contract_storage_and_logs_are_in_the_output() {
        let out = run(&block(Fork::Cancun, vec![call(CONTRACT, 0, 0)]));
        let TxOutcome::Executed { status, logs, .. } = &out.outcomes[0] else { panic!() };
        assert_eq!(*status, TxStatus::Success);
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].address, CONTRACT);
        assert_eq!(out.post_state[&CONTRACT].storage[&U256::ZERO], U256::from(42));
    }

    #[test]
    fn insufficient_funds_is_rejected() {
        let mut tx = call(BOB, 0, 0);
        tx.value = U256::from(ETH);
        let b = block(Fork::Cancun, vec![tx]);
        let out = run(&b);
        assert_eq!(out.outcomes[0], TxOutcome::Rejected { kind: RejectKind::InsufficientFunds });
        assert_eq!(out.post_state, b.pre_state);
    }

    #[test]
    fn zero_value_transfer_to_an_empty_account_follows_eip_161() {
        // Before Spurious Dragon the touched empty recipient comes into existence...
        let out = run(&block(Fork::Homestead, vec![call(BOB, 0, 0)]));
        assert_eq!(out.post_state.get(&BOB), Some(&Account::default()));
        // ...from it on, it is cleared (and a zero-reward beneficiary is never created).
        let out = run(&block(Fork::SpuriousDragon, vec![call(BOB, 0, 0)]));
        assert_eq!(out.post_state.get(&BOB), None);
        let mut zero_tip = call(BOB, 0, 0);
        zero_tip.gas_price = 7;
        let out = run(&block(Fork::Cancun, vec![zero_tip]));
        assert_eq!(out.post_state.get(&COINBASE), None);
        assert_eq!(out.post_state.get(&BOB), None);
    }

    #[test]
    fn state_root_of_the_output_changes_with_state() {
        let b = block(Fork::Cancun, vec![call(BOB, 1, 0)]);
        let out = run(&b);
        assert_ne!(out.state_root(), crate::trie::state_root(&b.pre_state));
    }

    #[test]
    fn model_round_trips_through_json() {
        let b = block(Fork::Prague, vec![call(BOB, 1, 0), call(CONTRACT, 0, 1)]);
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<BlockInput>(&json).unwrap(), b);
        let out = run(&b);
        let json = serde_json::to_string(&out).unwrap();
        assert_eq!(serde_json::from_str::<BlockOutput>(&json).unwrap(), out);
    }
}
