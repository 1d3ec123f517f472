//! The pre-state's accounts as revm's view of them needs (balance, nonce, code hash), found by
//! address. A first load of an account looks here; a search of the block's ordered map would
//! cost more than a simple transaction's own work.

use super::revm_vm::Info;
use crate::model::State;
use alloy_primitives::Address;
use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use std::hash::BuildHasher;

/// The accounts in one list, in the pre-state's order, and an index of their positions by hash.
/// Built before any worker starts, so its cost is serial: the list is written front to back and
/// the index of 4-byte positions stays in cache, where a map holding the entries would take a
/// cache miss per account (a millisecond on a pre-state of 20,000 accounts).
pub struct PreIndex {
    index: HashTable<u32>,
    accounts: Vec<(Address, Info)>,
}

impl PreIndex {
    pub fn new(state: &State) -> PreIndex {
        let mut index = HashTable::with_capacity(state.len());
        let mut accounts = Vec::with_capacity(state.len());
        for (address, account) in state {
            let position = u32::try_from(accounts.len()).expect("fewer than 2^32 pre-state accounts");
            let info = Info { balance: account.balance, nonce: account.nonce, code_hash: account.code_hash() };
            accounts.push((*address, info));
            // Unique: the pre-state is a map.
            index.insert_unique(FxBuildHasher.hash_one(address), position, |&i| {
                FxBuildHasher.hash_one(accounts[i as usize].0)
            });
        }
        PreIndex { index, accounts }
    }

    pub fn get(&self, address: &Address) -> Option<&Info> {
        let accounts = &self.accounts;
        let found = self.index.find(FxBuildHasher.hash_one(address), |&i| accounts[i as usize].0 == *address)?;
        Some(&accounts[*found as usize].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Account;
    use alloy_primitives::{Bytes, U256};
    use revm::primitives::{KECCAK_EMPTY, keccak256};

    #[test]
    fn finds_every_pre_state_account_and_nothing_else() {
        let mut state = State::new();
        for i in 0..1000u64 {
            let code = if i % 7 == 0 { Bytes::from(i.to_be_bytes().to_vec()) } else { Bytes::new() };
            let account = Account { balance: U256::from(i), nonce: i, code, ..Default::default() };
            state.insert(Address::left_padding_from(&(i * 3).to_be_bytes()), account);
        }
        let index = PreIndex::new(&state);
        for (address, account) in &state {
            let info = index.get(address).expect("a pre-state account");
            assert_eq!((info.balance, info.nonce), (account.balance, account.nonce));
            let want = if account.code.is_empty() { KECCAK_EMPTY } else { keccak256(&account.code) };
            assert_eq!(info.code_hash, want);
        }
        assert!(index.get(&Address::left_padding_from(&1u64.to_be_bytes())).is_none());
        assert!(PreIndex::new(&State::new()).get(&Address::ZERO).is_none());
    }
}
