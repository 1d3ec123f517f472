//! MVMemory: for every location, the values written by each transaction index, with the
//! incarnation that wrote them, or an ESTIMATE marker where an aborted incarnation's write is
//! expected again. A read by transaction `j` sees the highest write below `j`.
//!
//! Locations are compared by full equality; the hash only picks a shard (a hashed identity
//! returns another location's value and still validates: known-bugs #1).

use super::sync::{Mutex, Padded, lock};
use super::{Incarnation, TxIndex, Version};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc as StdArc;

const SHARDS: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry<V> {
    Write { incarnation: Incarnation, value: V },
    Estimate,
}

/// The versions of one location, sorted by transaction index. Most locations have one or two
/// writers, so a sorted vector beats a tree.
type Versions<V> = Vec<(TxIndex, Entry<V>)>;

/// What a read saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MvRead<V> {
    /// Written by a lower transaction.
    Value { version: Version, value: V },
    /// No lower transaction wrote it: the value comes from the pre-state.
    Storage,
    /// The highest lower write is an ESTIMATE of this transaction: wait for it.
    Estimate { blocking: TxIndex },
}

/// Where a read's value came from, as recorded in a read set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadOrigin {
    Storage,
    Version(Version),
}

/// One entry of a read set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read<K> {
    Point {
        key: K,
        origin: ReadOrigin,
    },
    /// Every write to `key` strictly between `after` and the reader (delta accumulations
    /// such as beneficiary fees).
    Range {
        key: K,
        after: Option<TxIndex>,
        versions: Vec<Version>,
    },
}

pub struct MvMemory<K, V> {
    /// Locations hashed into shards, each behind its own lock; the location itself is the
    /// key, compared in full.
    shards: Vec<Padded<Mutex<HashMap<K, Versions<V>, FxBuild>>>>,
    /// Per transaction: the locations its last incarnation wrote, and what it read.
    last_written: Vec<Padded<Mutex<Vec<K>>>>,
    last_reads: Vec<Padded<Mutex<StdArc<Vec<Read<K>>>>>>,
}

/// The writes to one location that the finished block left, in transaction order.
pub struct Written<'a, V>(&'a [(TxIndex, Entry<V>)]);

impl<'a, V> Written<'a, V> {
    /// Every write, lowest transaction first.
    pub fn iter(&self) -> impl Iterator<Item = (TxIndex, &'a V)> + 'a {
        self.0.iter().filter_map(|(tx, e)| match e {
            Entry::Write { value, .. } => Some((*tx, value)),
            Entry::Estimate => {
                debug_assert!(false, "an ESTIMATE of {tx} outlived the block");
                None
            }
        })
    }

    /// The final value: the highest transaction's write.
    pub fn last(&self) -> Option<(TxIndex, &'a V)> {
        self.iter().last()
    }
}

#[derive(Clone, Copy, Default)]
pub struct FxBuild;

impl BuildHasher for FxBuild {
    type Hasher = rustc_hash::FxHasher;
    fn build_hasher(&self) -> Self::Hasher {
        rustc_hash::FxHasher::default()
    }
}

/// Index of the highest entry below `tx`, if any.
fn below<V>(versions: &Versions<V>, tx: TxIndex) -> Option<usize> {
    versions.partition_point(|(i, _)| *i < tx).checked_sub(1)
}

impl<K: Clone + Eq + Hash, V: Clone> MvMemory<K, V> {
    pub fn new(txs: usize) -> Self {
        MvMemory {
            shards: (0..SHARDS)
                .map(|_| Padded(Mutex::new(HashMap::with_capacity_and_hasher(2 * txs / SHARDS + 4, FxBuild))))
                .collect(),
            last_written: (0..txs).map(|_| Padded(Mutex::new(Vec::new()))).collect(),
            last_reads: (0..txs).map(|_| Padded(Mutex::new(StdArc::new(Vec::new())))).collect(),
        }
    }

    fn shard(&self, key: &K) -> &Mutex<HashMap<K, Versions<V>, FxBuild>> {
        &self.shards[(FxBuild.hash_one(key) as usize) % SHARDS]
    }

    /// The highest write to `key` below `tx`.
    pub fn read(&self, key: &K, tx: TxIndex) -> MvRead<V> {
        let shard = lock(self.shard(key));
        let Some(versions) = shard.get(key) else {
            return MvRead::Storage;
        };
        match below(versions, tx).map(|i| &versions[i]) {
            None => MvRead::Storage,
            Some((idx, Entry::Estimate)) => MvRead::Estimate { blocking: *idx },
            Some((idx, Entry::Write { incarnation, value })) => {
                MvRead::Value { version: Version { tx: *idx, incarnation: *incarnation }, value: value.clone() }
            }
        }
    }

    /// Every write to `key` strictly between `after` and `tx`, in index order.
    pub fn read_range(&self, key: &K, after: Option<TxIndex>, tx: TxIndex) -> Result<Vec<(Version, V)>, TxIndex> {
        let shard = lock(self.shard(key));
        let Some(versions) = shard.get(key) else {
            return Ok(Vec::new());
        };
        let start = after.map_or(0, |a| versions.partition_point(|(i, _)| *i <= a));
        let end = versions.partition_point(|(i, _)| *i < tx);
        let mut out = Vec::with_capacity(end.saturating_sub(start));
        for (idx, e) in &versions[start..end.max(start)] {
            match e {
                Entry::Estimate => return Err(*idx),
                Entry::Write { incarnation, value } => {
                    out.push((Version { tx: *idx, incarnation: *incarnation }, value.clone()))
                }
            }
        }
        Ok(out)
    }

    fn put(&self, key: &K, tx: TxIndex, entry: Entry<V>) {
        let mut shard = lock(self.shard(key));
        let versions = shard.entry(key.clone()).or_insert_with(|| Vec::with_capacity(2));
        match versions.binary_search_by_key(&tx, |(i, _)| *i) {
            Ok(i) => versions[i].1 = entry,
            Err(i) => versions.insert(i, (tx, entry)),
        }
    }

    fn remove(&self, key: &K, tx: TxIndex) {
        let mut shard = lock(self.shard(key));
        if let Some(versions) = shard.get_mut(key) {
            if let Ok(i) = versions.binary_search_by_key(&tx, |(i, _)| *i) {
                versions.remove(i);
            }
        }
    }

    /// Records an incarnation's read and write sets. Locations the previous incarnation wrote
    /// and this one did not are removed (known-bugs #10). Returns whether it wrote a location
    /// the previous incarnation did not: then higher transactions must be validated again.
    pub fn record(&self, version: Version, reads: Vec<Read<K>>, writes: Vec<(K, V)>) -> bool {
        let tx = version.tx;
        // Nobody else looks at this slot while the transaction executes: only an abort of an
        // executed incarnation turns its writes into ESTIMATEs.
        let previous = std::mem::take(&mut *lock(&self.last_written[tx.0]));
        let mut wrote_new = false;
        let mut keys = Vec::with_capacity(writes.len());
        for (key, value) in writes {
            self.put(&key, tx, Entry::Write { incarnation: version.incarnation, value });
            if !previous.contains(&key) {
                wrote_new = true;
            }
            keys.push(key);
        }
        for key in &previous {
            if !keys.contains(key) {
                self.remove(key, tx);
            }
        }
        *lock(&self.last_written[tx.0]) = keys;
        *lock(&self.last_reads[tx.0]) = StdArc::new(reads);
        wrote_new
    }

    /// Marks every write of `tx`'s last incarnation as an ESTIMATE (it was aborted).
    pub fn convert_writes_to_estimates(&self, tx: TxIndex) {
        let written = lock(&self.last_written[tx.0]);
        for key in written.iter() {
            self.put(key, tx, Entry::Estimate);
        }
    }

    /// Whether every read of `tx`'s last incarnation would still see the same version.
    pub fn validate_read_set(&self, tx: TxIndex) -> bool {
        let reads = lock(&self.last_reads[tx.0]).clone();
        reads.iter().all(|r| match r {
            Read::Point { key, origin } => match (self.read(key, tx), origin) {
                (MvRead::Storage, ReadOrigin::Storage) => true,
                (MvRead::Value { version, .. }, ReadOrigin::Version(v)) => version == *v,
                _ => false,
            },
            Read::Range { key, after, versions } => match self.read_range(key, *after, tx) {
                Ok(now) => now.len() == versions.len() && now.iter().zip(versions).all(|((v, _), w)| v == w),
                Err(_) => false,
            },
        })
    }

    /// Once the block is done: hands each location of the shards `part`, `part + parts`, ...
    /// with its writes to `f`, then frees those shards and the read and write sets of the
    /// transactions `part`, `part + parts`, ... on the calling thread. Workers call it each
    /// with their own `part`, so the post-state is gathered and the memory freed in parallel.
    pub fn drain(&self, part: usize, parts: usize, mut f: impl FnMut(&K, Written<'_, V>)) {
        for shard in self.shards.iter().skip(part).step_by(parts.max(1)) {
            let map = std::mem::take(&mut *lock(shard));
            for (key, versions) in &map {
                f(key, Written(versions));
            }
        }
        for tx in (part..self.last_written.len()).step_by(parts.max(1)) {
            drop(std::mem::take(&mut *lock(&self.last_written[tx])));
            drop(std::mem::take(&mut *lock(&self.last_reads[tx])));
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn v(tx: usize, inc: u32) -> Version {
        Version { tx: TxIndex(tx), incarnation: Incarnation(inc) }
    }

    #[test]
    fn reads_see_the_highest_lower_write() {
        let mv = MvMemory::<u32, u64>::new(4);
        assert_eq!(mv.read(&7, TxIndex(3)), MvRead::Storage);
        mv.record(v(0, 0), vec![], vec![(7, 10)]);
        mv.record(v(2, 0), vec![], vec![(7, 20)]);
        assert_eq!(mv.read(&7, TxIndex(0)), MvRead::Storage);
        assert_eq!(mv.read(&7, TxIndex(1)), MvRead::Value { version: v(0, 0), value: 10 });
        assert_eq!(mv.read(&7, TxIndex(2)), MvRead::Value { version: v(0, 0), value: 10 });
        assert_eq!(mv.read(&7, TxIndex(3)), MvRead::Value { version: v(2, 0), value: 20 });
    }

    #[test]
    fn estimates_block_and_fail_validation() {
        let mv = MvMemory::<u32, u64>::new(3);
        mv.record(v(0, 0), vec![], vec![(1, 5)]);
        mv.record(v(1, 0), vec![Read::Point { key: 1, origin: ReadOrigin::Version(v(0, 0)) }], vec![]);
        assert!(mv.validate_read_set(TxIndex(1)));
        mv.convert_writes_to_estimates(TxIndex(0));
        assert_eq!(mv.read(&1, TxIndex(1)), MvRead::Estimate { blocking: TxIndex(0) });
        assert!(!mv.validate_read_set(TxIndex(1)));
        // The re-execution writes again: the old read saw incarnation 0, now it is 1.
        mv.record(v(0, 1), vec![], vec![(1, 5)]);
        assert!(!mv.validate_read_set(TxIndex(1)));
    }

    #[test]
    fn a_new_incarnation_removes_stale_writes() {
        let mv = MvMemory::<u32, u64>::new(2);
        assert!(mv.record(v(0, 0), vec![], vec![(1, 1), (2, 2)]));
        assert!(!mv.record(v(0, 1), vec![], vec![(2, 3)]), "no new location");
        assert_eq!(mv.read(&1, TxIndex(1)), MvRead::Storage);
        assert_eq!(mv.read(&2, TxIndex(1)), MvRead::Value { version: v(0, 1), value: 3 });
        assert!(mv.record(v(0, 2), vec![], vec![(9, 9)]), "a new location");
        let mut left = Vec::new();
        mv.drain(0, 1, |k, w| left.extend(w.iter().map(|(tx, v)| (*k, tx, *v))));
        left.sort();
        assert_eq!(left, vec![(9, TxIndex(0), 9)], "only the last incarnation's writes remain");
    }

    #[test]
    fn drain_in_parts_sees_every_location_once() {
        let mv = MvMemory::<u32, u64>::new(3);
        for tx in 0..3 {
            mv.record(v(tx, 0), vec![], (0..100).map(|k| (k, (tx * 1000) as u64 + k as u64)).collect());
        }
        let mut last = Vec::new();
        for part in 0..3 {
            mv.drain(part, 3, |k, w| last.push((*k, w.last().map(|(tx, v)| (tx, *v)))));
        }
        last.sort();
        let want: Vec<_> = (0..100).map(|k| (k, Some((TxIndex(2), 2000 + k as u64)))).collect();
        assert_eq!(last, want);
        let mut again = 0;
        mv.drain(0, 1, |_, _| again += 1);
        assert_eq!(again, 0, "drained shards are empty");
    }

    #[test]
    fn storage_reads_validate_until_someone_writes_below() {
        let mv = MvMemory::<u32, u64>::new(3);
        mv.record(v(2, 0), vec![Read::Point { key: 4, origin: ReadOrigin::Storage }], vec![]);
        assert!(mv.validate_read_set(TxIndex(2)));
        mv.record(v(1, 0), vec![], vec![(4, 1)]);
        assert!(!mv.validate_read_set(TxIndex(2)));
    }

    #[test]
    fn range_reads_collect_every_delta_and_validate() {
        let mv = MvMemory::<u32, u64>::new(5);
        mv.record(v(0, 0), vec![], vec![(0, 1)]);
        mv.record(v(1, 0), vec![], vec![(0, 2)]);
        mv.record(v(3, 0), vec![], vec![(0, 4)]);
        let got = mv.read_range(&0, Some(TxIndex(0)), TxIndex(4)).unwrap();
        assert_eq!(got, vec![(v(1, 0), 2), (v(3, 0), 4)]);
        mv.record(
            v(4, 0),
            vec![Read::Range { key: 0, after: Some(TxIndex(0)), versions: vec![v(1, 0), v(3, 0)] }],
            vec![],
        );
        assert!(mv.validate_read_set(TxIndex(4)));
        mv.record(v(2, 0), vec![], vec![(0, 3)]);
        assert!(!mv.validate_read_set(TxIndex(4)));
        mv.convert_writes_to_estimates(TxIndex(3));
        assert_eq!(mv.read_range(&0, None, TxIndex(4)), Err(TxIndex(3)));
    }
}
