//! A list of keyed entries in the order they were added, with an index of their positions by
//! hash. The index holds 4-byte positions, small enough to stay in cache; an entry goes to the
//! end of the list, next to the last one added. A table holding the entries themselves would
//! scatter each new one to a cold cache line of its own. MVMemory's shards and the pre-state
//! index are both built this way.

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use std::hash::{BuildHasher, Hash};

/// The hash every caller passes with a key: the index rehashes entries with it when it grows.
pub fn hash_of<K: Hash>(key: &K) -> u64 {
    FxBuildHasher.hash_one(key)
}

pub struct IndexedList<K, T> {
    index: HashTable<u32>,
    entries: Vec<(K, T)>,
}

impl<K: Eq + Hash, T> IndexedList<K, T> {
    pub fn with_capacity(capacity: usize) -> Self {
        IndexedList { index: HashTable::with_capacity(capacity), entries: Vec::with_capacity(capacity) }
    }

    /// Where `key` is; `hash` is [`hash_of`] the key. Keys are compared in full: a hash names a
    /// bucket, never an entry (known-bugs #1).
    fn position(&self, hash: u64, key: &K) -> Option<usize> {
        let entries = &self.entries;
        self.index.find(hash, |&i| entries[i as usize].0 == *key).map(|&i| i as usize)
    }

    pub fn get(&self, hash: u64, key: &K) -> Option<&T> {
        self.position(hash, key).map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, hash: u64, key: &K) -> Option<&mut T> {
        self.position(hash, key).map(|i| &mut self.entries[i].1)
    }

    /// Adds `key`, which is not in the list yet, with `value`.
    pub fn push_new(&mut self, hash: u64, key: K, value: T) -> &mut T {
        let i = self.entries.len();
        let position = u32::try_from(i).expect("fewer than 2^32 entries a list");
        self.entries.push((key, value));
        let entries = &self.entries;
        self.index.insert_unique(hash, position, |&j| hash_of(&entries[j as usize].0));
        &mut self.entries[i].1
    }

    /// Every entry, in the order added.
    pub fn entries(&self) -> &[(K, T)] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_one_hash_stay_apart() {
        let mut list = IndexedList::<u32, u64>::with_capacity(4);
        list.push_new(5, 1, 10);
        list.push_new(5, 2, 20);
        assert_eq!((list.get(5, &1), list.get(5, &2), list.get(5, &3)), (Some(&10), Some(&20), None));
        *list.get_mut(5, &2).unwrap() += 1;
        assert_eq!(list.get(5, &2), Some(&21));
        assert!(list.get_mut(5, &9).is_none());
    }

    #[test]
    fn entries_are_found_again_after_the_index_grows() {
        let mut list = IndexedList::<u32, u32>::with_capacity(1);
        for key in 0..40u32 {
            list.push_new(hash_of(&key), key, key * 2);
        }
        assert_eq!(list.entries().len(), 40, "each entry once");
        assert!(list.entries().iter().enumerate().all(|(i, (k, _))| *k == i as u32), "in the order added");
        assert!((0..40u32).all(|k| list.get(hash_of(&k), &k) == Some(&(k * 2))));
    }
}
