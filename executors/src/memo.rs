//! A bounded memo of a pure function, shared by threads: for the costly steps that generated
//! blocks repeat across runs with the same arguments (deriving public keys, signing and
//! recovering EIP-7702 authorizations). It holds only what its key determines, so a hit
//! changes no result; past its capacity it starts over rather than grow without bound under
//! a days-long fuzzing campaign. Keys are hashed with FxHash: they are generated or decoded
//! data, hashed often, and a collision costs only time.

use rustc_hash::FxHashMap as HashMap;
use std::hash::Hash;
use std::sync::{Mutex, OnceLock};

/// A memo of at most `capacity` entries.
pub struct Memo<K, V> {
    map: OnceLock<Mutex<HashMap<K, V>>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    /// An empty memo (usable as a `static`).
    pub const fn new(capacity: usize) -> Memo<K, V> {
        Memo { map: OnceLock::new(), capacity }
    }

    /// The value of `key`, computed by `f` (outside the lock) when it is not held.
    pub fn get_or_insert_with(&self, key: K, f: impl FnOnce(&K) -> V) -> V {
        let map = self.map.get_or_init(|| Mutex::new(HashMap::default()));
        if let Some(v) = map.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return v.clone();
        }
        let v = f(&key);
        let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(key, v.clone());
        v
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.get().map_or(0, |m| m.lock().unwrap_or_else(|p| p.into_inner()).len())
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn computes_once_per_key_and_stays_within_capacity() {
        static M: Memo<u32, u32> = Memo::new(3);
        let calls = AtomicUsize::new(0);
        let square = |k: &u32| {
            calls.fetch_add(1, Ordering::Relaxed);
            k * k
        };
        assert_eq!(M.get_or_insert_with(2, square), 4);
        assert_eq!(M.get_or_insert_with(2, square), 4);
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        for k in 0..10 {
            assert_eq!(M.get_or_insert_with(k, square), k * k);
            assert!(M.len() <= 3);
        }
    }
}
