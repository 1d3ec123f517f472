//! The pre-state's accounts as revm's view of them needs (balance, nonce, code hash), found by
//! address. A first load of an account looks here; a search of the block's ordered map would
//! cost more than a simple transaction's own work.

use super::super::indexed_list::{IndexedList, hash_of};
use super::Info;
use crate::model::State;
use alloy_primitives::Address;

/// Built before any worker starts, so its cost is serial: kept as an [`IndexedList`], it is
/// written front to back, where a map holding the entries would take a cache miss per account
/// (a millisecond on a pre-state of 20,000 accounts).
pub struct PreIndex(IndexedList<Address, Info>);

impl PreIndex {
    pub fn new(state: &State) -> PreIndex {
        let mut accounts = IndexedList::with_capacity(state.len());
        for (address, account) in state {
            let info = Info { balance: account.balance, nonce: account.nonce, code_hash: account.code_hash() };
            // New each time: the pre-state is a map.
            accounts.push_new(hash_of(address), *address, info);
        }
        PreIndex(accounts)
    }

    pub fn get(&self, address: &Address) -> Option<&Info> {
        self.0.get(hash_of(address), address)
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
