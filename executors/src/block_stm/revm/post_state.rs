//! The post-state from MVMemory's final writes: each worker collects its shards' final
//! writes, the ranges are split by building cost, and each worker builds its address range.

use super::*;

impl RevmVm {
    /// A worker's share of the post-state, once the block is done: the final write to every
    /// location of its MVMemory shards, sorted by address (account first, then slots), and
    /// every deferred fee.
    pub fn collect(&self, mv: &MvMemory<Location, Value>, part: usize, parts: usize) -> FinalPart {
        let mut out = FinalPart { writes: Vec::with_capacity(mv.locations(part, parts)), fees: Vec::new() };
        let deltas = mv.final_writes(part, parts, |location, written| match location {
            Location::BeneficiaryFee => unreachable!("fees are deltas, not locations"),
            Location::Account(address) => {
                if let Some((tx, Value::Account(v))) = written.last() {
                    let value = FinalValue::Account(*v);
                    out.writes.push(FinalWrite { address: *address, slot: None, tx, value });
                }
            }
            Location::Storage(address, slot) => {
                if let Some((tx, Value::Storage(v))) = written.last() {
                    let value = FinalValue::Slot(*v);
                    let slot = self.slot_name(*address, *slot);
                    out.writes.push(FinalWrite { address: *address, slot: Some(slot), tx, value });
                }
            }
        });
        out.fees = deltas
            .into_iter()
            .map(|(tx, fee)| match fee {
                Value::Fee(fee) => (tx, fee),
                _ => unreachable!("deltas are fees"),
            })
            .collect();
        sort_by_location(&mut out.writes);
        out
    }

    /// The post-state's accounts of the addresses in `from..to` (unbounded where `None`): those
    /// the block wrote and that still exist, built from every worker's part, and the untouched
    /// ones of the pre-state. Each worker builds its own range.
    pub fn build_range(&self, parts: &[&FinalPart], from: Option<Address>, to: Option<Address>) -> Range {
        let coinbase = self.coinbase();
        let in_range = |a: Address| from.is_none_or(|f| a >= f) && to.is_none_or(|t| a < t);
        let mut fees: Vec<(TxIndex, U256)> = Vec::new();
        if in_range(coinbase) {
            fees = parts.iter().flat_map(|p| p.fees.iter().copied()).collect();
            fees.sort_unstable_by_key(|(tx, _)| *tx);
        }
        let in_parts: Vec<&[FinalWrite]> = parts
            .iter()
            .map(|p| {
                let lo = from.map_or(0, |f| p.writes.partition_point(|w| w.address < f));
                let hi = to.map_or(p.writes.len(), |t| p.writes.partition_point(|w| w.address < t));
                &p.writes[lo..hi]
            })
            .collect();
        // At most one account per write, the beneficiary, and this range's share of the
        // untouched pre-state: sized once, since a growing buffer of accounts is copied and
        // faulted in again at every doubling. The first range has room for the whole
        // post-state, so that the others are appended to it without moving it (memory not
        // written is never touched).
        let written: usize = in_parts.iter().map(|w| w.len()).sum();
        let room = match from {
            None => parts.iter().map(|p| p.writes.len()).sum::<usize>() + self.block.pre_state.len() + 1,
            Some(_) => written + self.block.pre_state.len() / parts.len().max(1) + 1,
        };
        let mut out = Vec::with_capacity(room);
        // The pre-state is walked alongside the writes (both in address order), not looked up
        // per account: a lookup in a map of this size costs more than building the account.
        let bounds = (from.map_or(Bound::Unbounded, Bound::Included), to.map_or(Bound::Unbounded, Bound::Excluded));
        let mut pre = self.block.pre_state.range(bounds).peekable();
        let mut writes = in_parts
            .into_iter()
            .map(|w| w.iter())
            .kmerge_by(|a, b| (a.address, a.slot) < (b.address, b.slot))
            .peekable();
        let mut coinbase_done = fees.is_empty();
        let mut slots: Vec<(U256, TxIndex, U256)> = Vec::new();
        loop {
            // The beneficiary may have deferred fees and no write of its own.
            let next = match writes.peek().map(|w| w.address) {
                Some(a) if coinbase_done || a <= coinbase => Some(a),
                _ if !coinbase_done => Some(coinbase),
                other => other,
            };
            // Accounts the block left alone, up to the next written one, stay as they were.
            while let Some((a, acc)) = pre.next_if(|(a, _)| next.is_none_or(|n| **a < n)) {
                out.push((*a, acc.clone()));
            }
            let Some(address) = next else {
                break;
            };
            let before = pre.next_if(|(a, _)| **a == address).map(|(_, acc)| acc);
            coinbase_done |= address == coinbase;
            let mut account = None;
            slots.clear();
            while let Some(w) = writes.next_if(|w| w.address == address) {
                match (w.slot, &w.value) {
                    (None, FinalValue::Account(v)) => account = Some((w.tx, v)),
                    (Some(slot), FinalValue::Slot(v)) => slots.push((slot, w.tx, *v)),
                    _ => unreachable!("accounts hold account values, slots slot values"),
                }
            }
            let fees = if address == coinbase { &fees[..] } else { &[] };
            if let Some(account) = self.final_account(address, before, account, &slots, fees) {
                out.push((address, account));
            }
        }
        out
    }

    /// One account of the post-state from its pre-state, its final written value, its final
    /// slots, and (for the beneficiary) the fees deferred after that write.
    fn final_account(
        &self,
        address: Address,
        pre: Option<&Account>,
        written: Option<(TxIndex, &AccountValue)>,
        slots: &[(U256, TxIndex, U256)],
        fees: &[(TxIndex, U256)],
    ) -> Option<Account> {
        let written = written.filter(|_| fees.is_empty() || !self.bug.is(Mutant::BeneficiaryWriteLost));
        let last = written.map(|(tx, _)| tx);
        let fees = &fees[fees.partition_point(|(tx, _)| last.is_some_and(|l| *tx <= l))..];
        let mut value = match written {
            Some((_, v)) => *v,
            None => AccountValue { info: pre.and_then(|_| self.pre_index.get(&address).copied()), storage_reset: None },
        };
        for (tx, fee) in fees {
            self.credit_fee(&mut value, *fee, *tx);
        }
        let info = value.info?;
        let code =
            if info.code_hash == KECCAK_EMPTY { Bytes::new() } else { self.code_bytes(address, pre, info.code_hash) };
        // Storage written before the last destruction or re-creation is gone, with the
        // pre-state's; later writes stand.
        let reset = value.storage_reset;
        let kept = slots.iter().filter(|(_, tx, _)| reset.is_none_or(|r| *tx >= r)).map(|(slot, _, v)| (*slot, *v));
        let base = pre.filter(|_| reset.is_none()).map(|p| &p.storage);
        // Gathered in a buffer of the final size first: the map is built from a sorted vector
        // anyway, and a growing one would copy a large contract's storage a dozen times.
        let mut sorted = Vec::with_capacity(base.map_or(0, |b| b.len()) + slots.len());
        sorted.extend(base.into_iter().flatten().merge_join_by(kept, |(a, _), (b, _)| (*a).cmp(b)).filter_map(|e| {
            match e {
                EitherOrBoth::Left((slot, v)) => Some((*slot, *v)),
                EitherOrBoth::Right((slot, v)) | EitherOrBoth::Both(_, (slot, v)) => {
                    (!v.is_zero()).then_some((slot, v))
                }
            }
        }));
        let storage = BTreeMap::from_iter(sorted);
        Some(Account { balance: info.balance, nonce: info.nonce, code, storage })
    }
}

/// What building a written account costs next to building one written slot: looking up its
/// pre-state, settling its code and fees. Measured on blocks of ERC-20 transfers (one token,
/// 20,000 slots: 2.2 ms) and raw transfers (10,000 accounts a worker: 2 ms).
const ACCOUNT_COST: u64 = 2;

/// A worker's share of the post-state; see [`RevmVm::collect`].
#[derive(Default)]
pub struct FinalPart {
    writes: Vec<FinalWrite>,
    fees: Vec<(TxIndex, U256)>,
}

impl FinalPart {
    /// Where the workers split the address space to build the post-state: at quantiles of the
    /// building cost of one worker's writes (locations are spread over workers by hash, so any
    /// one is a fair sample). An account is never split, so a contract with most of the block's
    /// slots (an ERC-20 token) goes whole to one side of a split: the side where the two halves
    /// come out closer.
    pub fn splits(&self, ranges: usize) -> Vec<Address> {
        let costs = || {
            self.writes
                .chunk_by(|a, b| a.address == b.address)
                .map(|g| (g[0].address, g.iter().map(|w| if w.slot.is_none() { ACCOUNT_COST } else { 1 }).sum::<u64>()))
        };
        let total: u64 = costs().map(|(_, c)| c).sum();
        let mut costs = costs();
        let mut head = costs.next();
        let mut below = 0;
        (1..ranges as u64)
            .map(|r| {
                // In u128: `total * r` may not fit in u64 at many ranges.
                let target = (total as u128 * r as u128 / ranges as u128) as u64;
                while let Some((_, c)) = head.filter(|(_, c)| below + c <= target) {
                    below += c;
                    head = costs.next();
                }
                // `head` straddles the target: cut after it when that lands closer and another
                // account follows. An earlier cut after a large account may already lie past
                // this target; then cutting before `head` is the closer (no distance below).
                if let Some((_, c)) =
                    head.filter(|(_, c)| (below + c).saturating_sub(target) < target.saturating_sub(below))
                    && let Some(next) = costs.next()
                {
                    below += c;
                    head = Some(next);
                }
                head.map_or(Address::ZERO, |(a, _)| a)
            })
            .collect()
    }
}

/// One worker's share of the post-state: its accounts, in address order.
pub type Range = Vec<(Address, Account)>;

/// The post-state: the built ranges (disjoint, in address order) joined into one tree, built
/// once from all of them (joining a tree per worker with `append` would build every account's
/// place twice, the second time on the caller alone). The first range has room for the rest,
/// and a tree built from one sorted vector takes it as it is.
pub fn post_state(ranges: Vec<Range>) -> State {
    let mut ranges = ranges.into_iter();
    let mut all = ranges.next().unwrap_or_default();
    for range in ranges {
        all.extend(range);
    }
    State::from_iter(all)
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct FinalWrite {
    address: Address,
    /// `None`: the account itself.
    slot: Option<U256>,
    tx: TxIndex,
    value: FinalValue,
}

impl FinalWrite {
    /// The order of the post-state: by address, the account before its slots, slots ascending.
    fn location_cmp(&self, other: &FinalWrite) -> std::cmp::Ordering {
        self.address.cmp(&other.address).then_with(|| self.slot.cmp(&other.slot))
    }

    /// A key whose order agrees with [`FinalWrite::location_cmp`] wherever two keys differ: the
    /// address, then the account (0) or the slot's top bits (1 on).
    fn sort_key(&self) -> (Address, u64) {
        (self.address, self.slot.map_or(0, |s| (s.as_limbs()[3] >> 1) + 1))
    }
}

/// Puts `writes` in location order. Sorting the writes themselves would move each (over 150
/// bytes) a dozen times, most of what gathering the post-state costs: the sort moves 32-byte
/// keys instead (compared in full only where two keys tie), then each write moves once, along
/// the cycles of the permutation, within the memory it is already in.
fn sort_by_location(writes: &mut [FinalWrite]) {
    let mut order: Vec<((Address, u64), u32)> = writes
        .iter()
        .enumerate()
        .map(|(i, w)| (w.sort_key(), u32::try_from(i).expect("fewer than 2^32 writes a worker")))
        .collect();
    order.sort_unstable_by(|(ka, a), (kb, b)| {
        ka.cmp(kb).then_with(|| writes[*a as usize].location_cmp(&writes[*b as usize]))
    });
    // `from[k]`: the write that belongs at `k`; `MOVED` once position `k` holds it.
    const MOVED: u32 = u32::MAX;
    let mut from: Vec<u32> = order.into_iter().map(|(_, i)| i).collect();
    for start in 0..writes.len() {
        if from[start] == MOVED {
            continue;
        }
        let first = writes[start];
        let mut k = start;
        loop {
            let source = from[k] as usize;
            from[k] = MOVED;
            if source == start {
                writes[k] = first;
                break;
            }
            writes[k] = writes[source];
            k = source;
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum FinalValue {
    Account(AccountValue),
    Slot(U256),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(accounts: &[(u8, usize)]) -> FinalPart {
        let mut writes = Vec::new();
        for &(a, slots) in accounts {
            let address = Address::with_last_byte(a);
            let value = FinalValue::Account(AccountValue { info: None, storage_reset: None });
            writes.push(FinalWrite { address, slot: None, tx: TxIndex(0), value });
            for s in 0..slots {
                writes.push(FinalWrite {
                    address,
                    slot: Some(U256::from(s)),
                    tx: TxIndex(0),
                    value: FinalValue::Slot(U256::ONE),
                });
            }
        }
        FinalPart { writes, fees: Vec::new() }
    }

    #[test]
    fn writes_sort_in_location_order_even_where_their_keys_tie() {
        // Addresses and slots that agree in the bits the sort key keeps, and differ after them.
        let address = |first: u8, last: u8| {
            let mut a = Address::with_last_byte(last);
            a.0[0] = first;
            a
        };
        let slot = |top: u64, low: u64| U256::from_limbs([low, 0, 0, top]);
        let account = FinalValue::Account(AccountValue { info: None, storage_reset: None });
        let mut writes = Vec::new();
        for (n, (a, s)) in [
            (address(9, 2), Some(slot(6, 1))),
            (address(9, 1), Some(slot(7, 0))),
            (address(9, 2), None),
            (address(9, 1), Some(slot(6, 5))),
            (address(9, 2), Some(slot(6, 0))),
            (address(1, 7), Some(slot(u64::MAX, 3))),
            (address(9, 1), None),
            (address(9, 1), Some(slot(7, 1))),
            (address(1, 7), Some(U256::ZERO)),
            (address(9, 1), Some(slot(6, 4))),
        ]
        .into_iter()
        .enumerate()
        {
            let value = if s.is_none() { account } else { FinalValue::Slot(U256::from(n)) };
            writes.push(FinalWrite { address: a, slot: s, tx: TxIndex(n), value });
        }
        let mut want = writes.clone();
        want.sort_by(|a, b| a.location_cmp(b));
        sort_by_location(&mut writes);
        assert_eq!(writes, want);
    }

    #[test]
    fn splits_balance_building_cost_and_keep_a_large_contract_whole() {
        // Even accounts: even thirds.
        let even = part(&(1..=9).map(|a| (a, 0)).collect::<Vec<_>>());
        assert_eq!(even.splits(3), vec![Address::with_last_byte(4), Address::with_last_byte(7)]);
        // A token with most of the slots in the middle: cutting after it (110 | 10) beats
        // cutting before it (8 | 112); a plain quantile of the writes would cut at the token.
        let token = part(&[(1, 0), (2, 0), (3, 0), (4, 0), (5, 100), (6, 0), (7, 0), (8, 0), (9, 0), (10, 0)]);
        assert_eq!(token.splits(2), vec![Address::with_last_byte(6)]);
        // Nothing written: every range but the last is empty, never out of order.
        assert_eq!(FinalPart::default().splits(3), vec![Address::ZERO, Address::ZERO]);
    }

    /// Every step of the split, at every worker count from 1 to 1,024, on shapes that put a
    /// cut past the next target (one account with most of the cost, as an ERC-20 block at
    /// 126 threads did), fewer accounts than workers, and even ones: no overflow (tests run
    /// with overflow checks), one split per boundary, splits in address order.
    #[test]
    fn splits_hold_for_every_worker_count_up_to_1024() {
        let token_block = part(&(1..=240).map(|a| (a as u8, if a == 7 { 240 } else { 0 })).collect::<Vec<_>>());
        let few = part(&[(1, 3), (2, 0), (3, 50)]);
        let even = part(&(1..=200).map(|a| (a as u8, 1)).collect::<Vec<_>>());
        let heavy_last = part(&(1..=30).map(|a| (a as u8, if a == 30 { 5_000 } else { 0 })).collect::<Vec<_>>());
        for shape in [&token_block, &few, &even, &heavy_last] {
            for ranges in 1..=1024 {
                let s = shape.splits(ranges);
                assert_eq!(s.len(), ranges - 1);
                assert!(s.windows(2).all(|w| w[0] <= w[1]), "{ranges} ranges: out of order");
            }
        }
    }
}
