//! MVMemory: for every location, the values written by each transaction index, with the
//! incarnation that wrote them, or an ESTIMATE marker where an aborted incarnation's write is
//! expected again. A read by transaction `j` sees the highest write below `j`.
//!
//! Locations are compared by full equality; the hash only picks a shard (a hashed identity
//! returns another location's value and still validates: known-bugs #1).

use super::indexed_list::{IndexedList, hash_of};
use super::planted::{Mutant, PlantedBug};
use super::sync::{AtomicU32, Mutex, Ordering, Padded, lock};
use super::{Incarnation, TxIndex, Version};
use smallvec::SmallVec;
use std::hash::Hash;

const SHARDS: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry<V> {
    Write { incarnation: Incarnation, value: V },
    Estimate,
}

/// The versions of one location, sorted by transaction index. Most locations have one writer:
/// it is kept inline, so a new location costs no allocation of its own (and no free from
/// another thread when the block is dropped).
type Versions<V> = SmallVec<[(TxIndex, Entry<V>); 1]>;

/// What a read saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MvRead<V> {
    /// Written by a lower transaction. `chained`: the write below that one is by the
    /// transaction just before it, the mark of a location that consecutive transactions update
    /// (a counter, a hot balance), which the transactions in between will likely write too.
    Value {
        /// The incarnation that wrote it.
        version: Version,
        /// What it wrote.
        value: V,
        /// The write below this one is by the transaction just before its writer.
        chained: bool,
    },
    /// No lower transaction wrote it: the value comes from the pre-state.
    Storage,
    /// The highest lower write is an ESTIMATE of this transaction: wait for it.
    Estimate {
        /// The transaction whose aborted incarnation left the ESTIMATE.
        blocking: TxIndex,
    },
}

/// Where a read's value came from, as recorded in a read set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadOrigin {
    /// The pre-state: no lower transaction had written the location.
    Storage,
    /// The write of this incarnation of a lower transaction.
    Version(Version),
}

/// One entry of a read set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read<K> {
    /// A read of one location.
    Point {
        /// The location read.
        key: K,
        /// Where its value came from.
        origin: ReadOrigin,
    },
    /// Every delta strictly between `after` and the reader (the beneficiary's fees).
    Deltas {
        /// The writer of the explicit value the deltas add to; `None`: the pre-state's.
        after: Option<TxIndex>,
        /// The incarnations whose deltas the reader saw, lowest transaction first.
        versions: Vec<Version>,
    },
}

/// What MVMemory keeps per transaction: the locations its last incarnation wrote, what it
/// read, and its delta, if any.
///
/// A delta is a write that commutes with the deltas of other transactions (a fee credited to
/// the beneficiary). It lives here, not under a shared location, so that transactions that
/// each add one never touch the same memory; a reader that needs the sum walks the records
/// of the transactions below it.
struct TxRecord<K, V> {
    written: Vec<K>,
    reads: Vec<Read<K>>,
    delta: Option<Entry<V>>,
}

impl<K, V> Default for TxRecord<K, V> {
    fn default() -> Self {
        TxRecord { written: Vec::new(), reads: Vec::new(), delta: None }
    }
}

/// One lock's worth of locations with their versions, in the order they were first written.
type Shard<K, V> = IndexedList<K, Versions<V>>;

/// Block-STM's multi-version memory (MVMemory, Gelashvili et al., arXiv 2203.06871) for one
/// block: per location `K`, each transaction's latest write of a `V` or its ESTIMATE; per
/// transaction, the read set and written locations of its last incarnation, and its delta.
/// Shared by every worker; locations are spread over lock-protected shards.
pub struct MvMemory<K, V> {
    /// Locations hashed into shards, each behind its own lock; the location itself is the
    /// key, compared in full.
    shards: Vec<Padded<Mutex<Shard<K, V>>>>,
    records: Vec<Padded<Mutex<TxRecord<K, V>>>>,
    /// Per transaction, odd while one of its incarnations executes. A timing hint only (see
    /// [`MvMemory::read_after_chain`]): it decides how long a read waits, never what it returns.
    progress: Vec<AtomicU32>,
    /// [`PlantedBug::NONE`] but in test builds.
    bug: PlantedBug,
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

/// The shard of a location with this hash. Not the hash's low bits: the shard's own table
/// starts probing at those, so every key of a shard would start at the same bucket. Nor its top
/// seven, the table's tag bits.
fn shard_of(hash: u64) -> usize {
    (hash >> 48) as usize % SHARDS
}

/// Index of the highest entry below `tx`, if any. The last entry first: a location that many
/// transactions write (a hot slot, thousands of versions) is mostly read by the transaction
/// just above its latest writer, and a search from the middle would touch a dozen cold lines.
fn below<V>(versions: &Versions<V>, tx: TxIndex) -> Option<usize> {
    match versions.last() {
        None => None,
        Some((last, _)) if *last < tx => Some(versions.len() - 1),
        Some(_) => versions.partition_point(|(i, _)| *i < tx).checked_sub(1),
    }
}

/// A [`MvMemory::read_after_chain`] wait for a real thread: spins for at most `bound` of wall
/// time.
pub fn spin_wait(bound: std::time::Duration) -> impl FnMut(TxIndex, u32) -> bool {
    // The clock is read only once a read really waits: most reads never call this at all.
    let mut start = None;
    move |_, round| {
        let start = *start.get_or_insert_with(std::time::Instant::now);
        if round % 64 == 63 && start.elapsed() >= bound {
            return false;
        }
        std::hint::spin_loop();
        true
    }
}

impl<K: Clone + Eq + Hash, V: Clone> MvMemory<K, V> {
    /// An empty MVMemory for a block of `txs` transactions.
    pub fn new(txs: usize) -> Self {
        MvMemory {
            // Room for four locations a transaction (an ERC-20 transfer writes three): a shard
            // that outgrows its table copies every entry into fresh memory, mid-block. A small
            // block's shards start empty: most are never written, and allocating them all
            // costs more than the block's execution.
            shards: (0..SHARDS).map(|_| Padded(Mutex::new(Shard::with_capacity(4 * txs / SHARDS)))).collect(),
            records: (0..txs).map(|_| Padded(Mutex::new(TxRecord::default()))).collect(),
            progress: (0..txs).map(|_| AtomicU32::new(0)).collect(),
            bug: PlantedBug::NONE,
        }
    }

    /// This MVMemory with `bug` planted.
    pub fn with_bug(mut self, bug: PlantedBug) -> Self {
        self.bug = bug;
        self
    }

    /// An incarnation of `tx` starts executing.
    pub fn begin(&self, tx: TxIndex) {
        self.progress[tx.0].fetch_add(1, Ordering::Release);
    }

    /// That incarnation stopped: recorded, or blocked.
    pub fn end(&self, tx: TxIndex) {
        self.progress[tx.0].fetch_add(1, Ordering::Release);
    }

    /// How far `tx` has got: odd while it executes; a new value once that execution stopped.
    /// Lets a reader wait a moment for the transaction just below it instead of reading a
    /// value that transaction is about to replace.
    pub fn progress(&self, tx: TxIndex) -> u32 {
        self.progress[tx.0].load(Ordering::Acquire)
    }

    /// The shard of `key`, and its hash.
    fn shard(&self, key: &K) -> (&Mutex<Shard<K, V>>, u64) {
        let hash = hash_of(key);
        (&self.shards[shard_of(hash)], hash)
    }

    /// The highest write to `key` below `tx`.
    pub fn read(&self, key: &K, tx: TxIndex) -> MvRead<V> {
        let (shard, hash) = self.shard(key);
        let shard = lock(shard);
        let Some(versions) = shard.get(hash, key) else {
            return MvRead::Storage;
        };
        let Some(i) = below(versions, tx) else {
            return MvRead::Storage;
        };
        match &versions[i] {
            (idx, Entry::Estimate) => MvRead::Estimate { blocking: *idx },
            (idx, Entry::Write { incarnation, value }) => MvRead::Value {
                version: Version { tx: *idx, incarnation: *incarnation },
                value: value.clone(),
                chained: i.checked_sub(1).is_some_and(|j| versions[j].0.0 + 1 == idx.0),
            },
        }
    }

    /// `read`, except on a chained location whose last write is older than `tx - 1` while
    /// `tx - 1` is executing: that transaction will most likely write it too, and reading now
    /// would only get `tx` aborted at validation. Waits up to `bound` for `tx - 1` to stop, then
    /// reads. Whatever the wait, the read is an ordinary one: the guess can cost time, never a
    /// result. A fully dependent chain so runs as a pipeline across workers (each transaction's
    /// work before the read overlaps the transaction below) instead of executing most of its
    /// transactions twice.
    ///
    /// How to wait is the caller's: `wait(tx - 1, round)` is called until `tx - 1` stops, and
    /// gives up by returning `false` (a real thread spins a few microseconds; under a schedule
    /// hook it reports [`SchedEvent::ChainWait`](crate::hook::SchedEvent::ChainWait) so the
    /// controller can run `tx - 1`'s worker, a bounded number of rounds).
    pub fn read_after_chain(&self, key: &K, tx: TxIndex, mut wait: impl FnMut(TxIndex, u32) -> bool) -> MvRead<V> {
        let read = self.read(key, tx);
        let MvRead::Value { version, chained: true, .. } = &read else {
            return read;
        };
        let Some(previous) = tx.0.checked_sub(1).map(TxIndex) else {
            return read;
        };
        if version.tx >= previous {
            return read;
        }
        let seen = self.progress(previous);
        if seen.is_multiple_of(2) {
            return read;
        }
        let mut round = 0u32;
        while self.progress(previous) == seen {
            if !wait(previous, round) {
                return read;
            }
            round += 1;
        }
        self.read(key, tx)
    }

    /// Where a read of `key` by `tx` would come from now, without cloning the value:
    /// validation only compares versions.
    fn origin(&self, key: &K, tx: TxIndex) -> Option<ReadOrigin> {
        let (shard, hash) = self.shard(key);
        let shard = lock(shard);
        let Some(versions) = shard.get(hash, key) else {
            return Some(ReadOrigin::Storage);
        };
        match below(versions, tx).map(|i| &versions[i]) {
            None => Some(ReadOrigin::Storage),
            Some((_, Entry::Estimate)) => None,
            Some((idx, Entry::Write { incarnation, .. })) => {
                Some(ReadOrigin::Version(Version { tx: *idx, incarnation: *incarnation }))
            }
        }
    }

    /// Every delta strictly between `after` and `tx`, in index order, or the first ESTIMATE.
    pub fn read_deltas(&self, after: Option<TxIndex>, tx: TxIndex) -> Result<Vec<(Version, V)>, TxIndex> {
        let mut out = Vec::new();
        for i in after.map_or(0, |a| a.0 + 1)..tx.0 {
            match &lock(&self.records[i]).delta {
                None => {}
                Some(Entry::Estimate) => return Err(TxIndex(i)),
                Some(Entry::Write { incarnation, value }) => {
                    out.push((Version { tx: TxIndex(i), incarnation: *incarnation }, value.clone()))
                }
            }
        }
        Ok(out)
    }

    fn put(&self, key: &K, tx: TxIndex, entry: Entry<V>) {
        let (shard, hash) = self.shard(key);
        let mut shard = lock(shard);
        let versions = match shard.get_mut(hash, key) {
            Some(versions) => versions,
            None => shard.push_new(hash, key.clone(), Versions::new()),
        };
        // Transactions mostly write in index order: the new entry goes last.
        if versions.last().is_none_or(|(last, _)| *last < tx) {
            versions.push((tx, entry));
            return;
        }
        match versions.binary_search_by_key(&tx, |(i, _)| *i) {
            Ok(i) => versions[i].1 = entry,
            Err(i) => versions.insert(i, (tx, entry)),
        }
    }

    fn remove(&self, key: &K, tx: TxIndex) {
        let (shard, hash) = self.shard(key);
        let mut shard = lock(shard);
        if let Some(versions) = shard.get_mut(hash, key)
            && let Ok(i) = versions.binary_search_by_key(&tx, |(i, _)| *i)
        {
            versions.remove(i);
        }
    }

    /// Records an incarnation's read set, write set and delta. Locations the previous
    /// incarnation wrote and this one did not are removed (known-bugs #10). Returns whether it
    /// wrote a location (or a delta) the previous incarnation did not: then higher
    /// transactions must be validated again.
    pub fn record(&self, version: Version, reads: Vec<Read<K>>, writes: Vec<(K, V)>, delta: Option<V>) -> bool {
        let tx = version.tx;
        // Nobody else changes this record while the transaction executes: only an abort of an
        // executed incarnation turns its writes into ESTIMATEs.
        let (previous, had_delta) = {
            let mut r = lock(&self.records[tx.0]);
            (std::mem::take(&mut r.written), r.delta.is_some())
        };
        let mut wrote_new = delta.is_some() && !had_delta;
        let mut keys = Vec::with_capacity(writes.len());
        for (key, value) in writes {
            self.put(&key, tx, Entry::Write { incarnation: version.incarnation, value });
            if !previous.contains(&key) {
                wrote_new = true;
            }
            keys.push(key);
        }
        for key in previous.iter().filter(|_| !self.bug.is(Mutant::StaleWriteSet)) {
            if !keys.contains(key) {
                self.remove(key, tx);
            }
        }
        let mut r = lock(&self.records[tx.0]);
        r.written = keys;
        r.reads = reads;
        r.delta = delta.map(|value| Entry::Write { incarnation: version.incarnation, value });
        wrote_new
    }

    /// Marks every write of `tx`'s last incarnation as an ESTIMATE (it was aborted).
    pub fn convert_writes_to_estimates(&self, tx: TxIndex) {
        let mut r = lock(&self.records[tx.0]);
        for key in r.written.iter() {
            self.put(key, tx, Entry::Estimate);
        }
        if r.delta.is_some() {
            r.delta = Some(Entry::Estimate);
        }
    }

    /// Whether every read of `tx`'s last incarnation would still see the same version.
    pub fn validate_read_set(&self, tx: TxIndex) -> bool {
        // The read set is checked under its record's lock rather than copied out: no other
        // core's reference count to touch. Locks are taken record before shard, and a higher
        // record before a lower one (the deltas), everywhere, so this cannot deadlock.
        let record = lock(&self.records[tx.0]);
        record.reads.iter().all(|r| match r {
            Read::Point { key, origin } => self.origin(key, tx).as_ref() == Some(origin),
            Read::Deltas { after, versions } => match self.read_deltas(*after, tx) {
                Ok(now) => now.len() == versions.len() && now.iter().zip(versions).all(|((v, _), w)| v == w),
                Err(_) => false,
            },
        })
    }

    /// How many locations the shards `part`, `part + parts`, ... hold (what `final_writes`
    /// will hand out), so the caller can size its buffer once.
    pub fn locations(&self, part: usize, parts: usize) -> usize {
        self.shards.iter().skip(part).step_by(parts.max(1)).map(|s| lock(s).entries().len()).sum()
    }

    /// Once the block is done: hands each location of the shards `part`, `part + parts`, ...
    /// with its writes to `f`, and returns the deltas of the transactions `part`,
    /// `part + parts`, ... Workers call it each with their own `part`, so the post-state is
    /// gathered in parallel. Nothing is freed here: the whole memory goes at once when the
    /// block's run is dropped, off the caller's path.
    pub fn final_writes(&self, part: usize, parts: usize, mut f: impl FnMut(&K, Written<'_, V>)) -> Vec<(TxIndex, V)> {
        for shard in self.shards.iter().skip(part).step_by(parts.max(1)) {
            for (key, versions) in lock(shard).entries() {
                f(key, Written(versions));
            }
        }
        let mut deltas = Vec::new();
        for tx in (part..self.records.len()).step_by(parts.max(1)) {
            match &lock(&self.records[tx]).delta {
                Some(Entry::Write { value, .. }) => deltas.push((TxIndex(tx), value.clone())),
                Some(Entry::Estimate) => debug_assert!(false, "an ESTIMATE of {tx} outlived the block"),
                None => {}
            }
        }
        deltas
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
        let mv = MvMemory::<u32, u64>::new(5);
        assert_eq!(mv.read(&7, TxIndex(3)), MvRead::Storage);
        mv.record(v(0, 0), vec![], vec![(7, 10)], None);
        mv.record(v(2, 0), vec![], vec![(7, 20)], None);
        assert_eq!(mv.read(&7, TxIndex(0)), MvRead::Storage);
        assert_eq!(mv.read(&7, TxIndex(1)), MvRead::Value { version: v(0, 0), value: 10, chained: false });
        assert_eq!(mv.read(&7, TxIndex(2)), MvRead::Value { version: v(0, 0), value: 10, chained: false });
        assert_eq!(mv.read(&7, TxIndex(3)), MvRead::Value { version: v(2, 0), value: 20, chained: false });
        // Two consecutive transactions wrote it: a chain.
        mv.record(v(3, 0), vec![], vec![(7, 30)], None);
        assert_eq!(mv.read(&7, TxIndex(4)), MvRead::Value { version: v(3, 0), value: 30, chained: true });
        // A lower transaction writes last: it goes between, not on top.
        mv.record(v(1, 0), vec![], vec![(7, 15)], None);
        assert_eq!(mv.read(&7, TxIndex(2)), MvRead::Value { version: v(1, 0), value: 15, chained: true });
        assert_eq!(mv.read(&7, TxIndex(3)), MvRead::Value { version: v(2, 0), value: 20, chained: true });
        assert_eq!(mv.read(&7, TxIndex(4)), MvRead::Value { version: v(3, 0), value: 30, chained: true });
        assert_eq!(mv.read(&7, TxIndex(1)), MvRead::Value { version: v(0, 0), value: 10, chained: false });
    }

    #[test]
    fn a_chained_read_waits_for_the_executing_transaction_below() {
        let mv = MvMemory::<u32, u64>::new(4);
        mv.record(v(0, 0), vec![], vec![(7, 10)], None);
        mv.record(v(1, 0), vec![], vec![(7, 11)], None);
        let long = std::time::Duration::from_secs(60);
        // tx 2 is not executing: tx 3 reads tx 1's write at once.
        assert_eq!(
            mv.read_after_chain(&7, TxIndex(3), spin_wait(long)),
            MvRead::Value { version: v(1, 0), value: 11, chained: true }
        );
        // tx 2 executes and writes: tx 3 waits for it and reads its write.
        mv.begin(TxIndex(2));
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(std::time::Duration::from_millis(20));
                mv.record(v(2, 0), vec![], vec![(7, 12)], None);
                mv.end(TxIndex(2));
            });
            let got = mv.read_after_chain(&7, TxIndex(3), spin_wait(long));
            assert_eq!(got, MvRead::Value { version: v(2, 0), value: 12, chained: true });
        });
        // A wait is bounded: tx 2 executes again and never stops in time.
        mv.begin(TxIndex(2));
        mv.record(v(2, 1), vec![], vec![], None);
        let short = std::time::Duration::from_millis(1);
        assert_eq!(
            mv.read_after_chain(&7, TxIndex(3), spin_wait(short)),
            MvRead::Value { version: v(1, 0), value: 11, chained: true }
        );
        // Only chained locations wait: key 8 has a single writer.
        mv.record(v(0, 1), vec![], vec![(7, 10), (8, 1)], None);
        let start = std::time::Instant::now();
        assert_eq!(
            mv.read_after_chain(&8, TxIndex(3), spin_wait(long)),
            MvRead::Value { version: v(0, 1), value: 1, chained: false }
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "read at once");
    }

    #[test]
    fn keys_of_one_shard_spread_over_its_table() {
        // The table probes from the hash's low bits: within a shard they must still vary.
        let mut low_bits = vec![std::collections::BTreeSet::new(); SHARDS];
        for key in 0..(64 * SHARDS as u32) {
            let hash = hash_of(&key);
            low_bits[shard_of(hash)].insert(hash & 0xff);
        }
        let narrowest = low_bits.iter().map(|b| b.len()).min().unwrap();
        assert!(narrowest > 16, "a shard's keys start probing at only {narrowest} buckets");
    }

    #[test]
    fn estimates_block_and_fail_validation() {
        let mv = MvMemory::<u32, u64>::new(3);
        mv.record(v(0, 0), vec![], vec![(1, 5)], None);
        mv.record(v(1, 0), vec![Read::Point { key: 1, origin: ReadOrigin::Version(v(0, 0)) }], vec![], None);
        assert!(mv.validate_read_set(TxIndex(1)));
        mv.convert_writes_to_estimates(TxIndex(0));
        assert_eq!(mv.read(&1, TxIndex(1)), MvRead::Estimate { blocking: TxIndex(0) });
        assert!(!mv.validate_read_set(TxIndex(1)));
        // The re-execution writes again: the old read saw incarnation 0, now it is 1.
        mv.record(v(0, 1), vec![], vec![(1, 5)], None);
        assert!(!mv.validate_read_set(TxIndex(1)));
    }

    #[test]
    fn a_new_incarnation_removes_stale_writes() {
        let mv = MvMemory::<u32, u64>::new(2);
        assert!(mv.record(v(0, 0), vec![], vec![(1, 1), (2, 2)], None));
        assert!(!mv.record(v(0, 1), vec![], vec![(2, 3)], None), "no new location");
        assert_eq!(mv.read(&1, TxIndex(1)), MvRead::Storage);
        assert_eq!(mv.read(&2, TxIndex(1)), MvRead::Value { version: v(0, 1), value: 3, chained: false });
        assert!(mv.record(v(0, 2), vec![], vec![(9, 9)], None), "a new location");
        let mut left = Vec::new();
        mv.final_writes(0, 1, |k, w| left.extend(w.iter().map(|(tx, v)| (*k, tx, *v))));
        left.sort();
        assert_eq!(left, vec![(9, TxIndex(0), 9)], "only the last incarnation's writes remain");
    }

    #[test]
    fn final_writes_in_parts_see_every_location_once() {
        let mv = MvMemory::<u32, u64>::new(3);
        for tx in 0..3 {
            mv.record(v(tx, 0), vec![], (0..100).map(|k| (k, (tx * 1000) as u64 + k as u64)).collect(), None);
        }
        let mut last = Vec::new();
        for part in 0..3 {
            mv.final_writes(part, 3, |k, w| last.push((*k, w.last().map(|(tx, v)| (tx, *v)))));
        }
        last.sort();
        let want: Vec<_> = (0..100).map(|k| (k, Some((TxIndex(2), 2000 + k as u64)))).collect();
        assert_eq!(last, want);
        let mut whole = Vec::new();
        mv.final_writes(0, 1, |k, w| whole.push((*k, w.last().map(|(tx, v)| (tx, *v)))));
        whole.sort();
        assert_eq!(whole, want, "one part is the whole");
    }

    #[test]
    fn storage_reads_validate_until_someone_writes_below() {
        let mv = MvMemory::<u32, u64>::new(3);
        mv.record(v(2, 0), vec![Read::Point { key: 4, origin: ReadOrigin::Storage }], vec![], None);
        assert!(mv.validate_read_set(TxIndex(2)));
        mv.record(v(1, 0), vec![], vec![(4, 1)], None);
        assert!(!mv.validate_read_set(TxIndex(2)));
    }

    #[test]
    fn delta_reads_collect_every_lower_delta_and_validate() {
        let mv = MvMemory::<u32, u64>::new(5);
        assert!(mv.record(v(0, 0), vec![], vec![], Some(1)), "a first delta is a new write");
        mv.record(v(1, 0), vec![], vec![], Some(2));
        mv.record(v(3, 0), vec![], vec![], Some(4));
        let got = mv.read_deltas(Some(TxIndex(0)), TxIndex(4)).unwrap();
        assert_eq!(got, vec![(v(1, 0), 2), (v(3, 0), 4)]);
        mv.record(
            v(4, 0),
            vec![Read::Deltas { after: Some(TxIndex(0)), versions: vec![v(1, 0), v(3, 0)] }],
            vec![],
            None,
        );
        assert!(mv.validate_read_set(TxIndex(4)));
        // A delta appears below the reader: its sum is stale.
        mv.record(v(2, 0), vec![], vec![], Some(3));
        assert!(!mv.validate_read_set(TxIndex(4)));
        mv.convert_writes_to_estimates(TxIndex(3));
        assert_eq!(mv.read_deltas(None, TxIndex(4)), Err(TxIndex(3)));
        // The re-execution pays no fee: the delta is gone, and that is no new write.
        assert!(!mv.record(v(3, 1), vec![], vec![], None));
        assert_eq!(mv.read_deltas(Some(TxIndex(1)), TxIndex(4)).unwrap(), vec![(v(2, 0), 3)]);
        let mut deltas: Vec<_> = (0..2).flat_map(|p| mv.final_writes(p, 2, |_, _| {})).collect();
        deltas.sort();
        assert_eq!(deltas, vec![(TxIndex(0), 1), (TxIndex(1), 2), (TxIndex(2), 3)]);
    }
}
