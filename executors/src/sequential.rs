//! The reference executor: revm, one transaction after another, on one thread.

use crate::model::{BlockInput, BlockOutput, ExecStats, State};
use crate::plug::{ExecError, Executor, RunControl};
use crate::revm_env;
use alloy_primitives::{Address, B256, U256};
use revm::context::Context;
use revm::database_interface::{Database, DatabaseCommit};
use revm::primitives::AddressMap;
use revm::state::{AccountInfo, Bytecode};
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};
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
        let block_env = revm_env::block_env(block, &cfg);
        let mut db = WorkingState::new(block);
        let mut outcomes = Vec::with_capacity(block.txs.len());
        {
            let mut evm = Context::mainnet()
                .with_cfg(cfg)
                .with_block(block_env)
                .with_db(&mut db)
                .build_mainnet();
            for tx in &block.txs {
                if run.past_deadline() {
                    return Err(ExecError::Deadline);
                }
                outcomes.push(revm_env::outcome(evm.transact_commit(revm_env::tx_env(tx)))?);
            }
        }
        let executions = outcomes.len() as u64;
        Ok(BlockOutput {
            outcomes,
            post_state: db.state,
            stats: ExecStats { threads: 1, executions, aborts: 0, validations: 0, parallel: false },
        })
    }
}

/// The state as of the last committed transaction, as a revm database.
struct WorkingState<'a> {
    block: &'a BlockInput,
    state: State,
    /// Code by hash, filled as accounts are loaded: revm asks for code by hash.
    code: HashMap<B256, Bytecode>,
}

impl<'a> WorkingState<'a> {
    fn new(block: &'a BlockInput) -> Self {
        WorkingState { block, state: block.pre_state.clone(), code: HashMap::new() }
    }

}

impl Database for WorkingState<'_> {
    type Error = Infallible;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Infallible> {
        let Some(account) = self.state.get(&address) else { return Ok(None) };
        let code_hash = account.code_hash();
        let code = self
            .code
            .entry(code_hash)
            .or_insert_with(|| revm_env::bytecode(&account.code))
            .clone();
        Ok(Some(AccountInfo::new(account.balance, account.nonce, code_hash, code)))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Infallible> {
        Ok(self.code.get(&code_hash).cloned().unwrap_or_default())
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, Infallible> {
        Ok(self
            .state
            .get(&address)
            .and_then(|a| a.storage.get(&index))
            .copied()
            .unwrap_or_default())
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Infallible> {
        Ok(self.block.env.block_hash(number))
    }
}

impl DatabaseCommit for WorkingState<'_> {
    fn commit(&mut self, changes: AddressMap<revm::state::Account>) {
        revm_env::apply_diff(&mut self.state, changes);
    }
}
