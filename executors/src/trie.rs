//! Commitments of the model: the Merkle-Patricia state root and the logs hash, via alloy-trie
//! and alloy-rlp, exactly as the official fixtures compute them.

use crate::model::{Account, State};
use crate::storage_trie::StorageTrie;
use alloy_primitives::{B256, Log, keccak256};
use alloy_trie::TrieAccount;
use alloy_trie::root::{state_root_unhashed, storage_root_unhashed};

/// `keccak256` of the empty string: the code hash of an account without code.
pub const KECCAK_EMPTY: B256 = alloy_trie::KECCAK_EMPTY;

/// The root of `account`'s storage trie: `keccak256(slot)` to `rlp(value)`, zero slots left
/// out; the empty trie's root for no storage.
pub fn storage_root(account: &Account) -> B256 {
    storage_root_unhashed(account.storage.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (B256::from(*k), *v)))
}

/// `account` as the state trie holds it: nonce, balance, storage root and code hash.
pub fn trie_account(account: &Account) -> TrieAccount {
    TrieAccount {
        nonce: account.nonce,
        balance: account.balance,
        storage_root: storage_root(account),
        code_hash: account.code_hash(),
    }
}

/// The state root: the Merkle-Patricia trie from `keccak256(address)` to
/// `rlp(trie_account)` over every account of `state`, empty ones included.
pub fn state_root(state: &State) -> B256 {
    state_root_unhashed(state.iter().map(|(a, acc)| (*a, trie_account(acc))))
}

/// The storage roots and code hashes of accounts met before, so that the state roots of a
/// chain's successive states hash only what changed: an account whose storage (or code) is
/// the one cached reuses its root (or hash). Comparing costs far less than hashing.
#[derive(Clone, Debug, Default)]
pub struct RootCache {
    accounts: std::collections::HashMap<alloy_primitives::Address, Cached>,
    /// `keccak256` of every storage key met: a slot's trie key, hashed once for the chain.
    hashed_keys: std::collections::HashMap<alloy_primitives::U256, B256>,
    /// The state trie of the last state, by `keccak256(address)`, and what each account was
    /// in it.
    state: StorageTrie,
    in_state: std::collections::HashMap<alloy_primitives::Address, (B256, TrieAccount)>,
}

#[derive(Clone, Debug)]
struct Cached {
    storage: std::collections::BTreeMap<alloy_primitives::U256, alloy_primitives::U256>,
    trie: StorageTrie,
    storage_root: B256,
    code: alloy_primitives::Bytes,
    code_hash: B256,
}

impl RootCache {
    /// [`state_root`] of `state`, through the cache (which it updates).
    pub fn state_root(&mut self, state: &State) -> B256 {
        for (a, acc) in state {
            let hashed_keys = &mut self.hashed_keys;
            let mut hashed =
                |k: &alloy_primitives::U256| *hashed_keys.entry(*k).or_insert_with(|| keccak256(B256::from(*k)));
            let cached = match self.accounts.get_mut(a) {
                Some(c) => c,
                None => {
                    let mut trie = StorageTrie::default();
                    for (k, v) in &acc.storage {
                        trie.set(hashed(k), *v);
                    }
                    self.accounts.entry(*a).or_insert(Cached {
                        storage_root: trie.root(),
                        trie,
                        storage: acc.storage.clone(),
                        code_hash: acc.code_hash(),
                        code: acc.code.clone(),
                    })
                }
            };
            if cached.storage != acc.storage {
                // Only the slots that changed are set again: the trie rehashes their paths.
                for (k, v) in &acc.storage {
                    if cached.storage.get(k) != Some(v) {
                        cached.trie.set(hashed(k), *v);
                    }
                }
                for k in cached.storage.keys().filter(|k| !acc.storage.contains_key(k)) {
                    cached.trie.set(hashed(k), alloy_primitives::U256::ZERO);
                }
                cached.storage_root = cached.trie.root();
                cached.storage = acc.storage.clone();
            }
            if cached.code != acc.code {
                cached.code_hash = acc.code_hash();
                cached.code = acc.code.clone();
            }
            let account = TrieAccount {
                nonce: acc.nonce,
                balance: acc.balance,
                storage_root: cached.storage_root,
                code_hash: cached.code_hash,
            };
            match self.in_state.get_mut(a) {
                Some((_, was)) if *was == account => {}
                Some((key, was)) => {
                    *was = account;
                    self.state.insert(*key, alloy_rlp::encode(account));
                }
                None => {
                    let key = keccak256(a);
                    self.in_state.insert(*a, (key, account));
                    self.state.insert(key, alloy_rlp::encode(account));
                }
            }
        }
        if self.in_state.len() > state.len() {
            let gone: Vec<_> = self.in_state.keys().filter(|a| !state.contains_key(*a)).copied().collect();
            for a in gone {
                if let Some((key, _)) = self.in_state.remove(&a) {
                    self.state.remove(&key);
                }
            }
        }
        self.state.root()
    }
}

/// `keccak256(rlp(logs))`, the `logs` field of a state test's post entry.
pub fn logs_hash(logs: &[Log]) -> B256 {
    let mut out = Vec::with_capacity(alloy_rlp::list_length(logs));
    alloy_rlp::encode_list(logs, &mut out);
    keccak256(&out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{U256, address, b256};

    #[test]
    fn empty_state_has_the_empty_trie_root() {
        assert_eq!(
            state_root(&State::new()),
            b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
        );
    }

    #[test]
    fn no_logs_hash_is_keccak_of_empty_list() {
        assert_eq!(logs_hash(&[]), b256!("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347"));
    }

    #[test]
    fn the_cache_gives_the_roots_it_would_compute() {
        let a = address!("0x1000000000000000000000000000000000000000");
        let mut s = State::new();
        let mut cache = RootCache::default();
        for i in 0..5u64 {
            let acc = s.entry(a).or_default();
            acc.storage.insert(U256::from(i), U256::from(i + 1));
            if i % 2 == 1 {
                acc.code = alloy_primitives::Bytes::from(vec![i as u8; 3]);
            }
            assert_eq!(cache.state_root(&s), state_root(&s), "step {i}");
            assert_eq!(cache.state_root(&s), state_root(&s), "step {i}, cached");
        }
    }

    #[test]
    fn zero_slots_do_not_change_the_root() {
        let a = address!("0x1000000000000000000000000000000000000000");
        let mut s = State::new();
        s.insert(a, Account { balance: U256::from(1), ..Default::default() });
        let before = state_root(&s);
        s.get_mut(&a).unwrap().storage.insert(U256::from(7), U256::ZERO);
        assert_eq!(before, state_root(&s));
        s.get_mut(&a).unwrap().storage.insert(U256::from(7), U256::from(1));
        assert_ne!(before, state_root(&s));
    }
}
