//! Workloads as generated inputs: `arbitrary` for fuzzers, proptest strategies for tests.

use super::{Family, Generated, Workload};

/// A workload plus seed as fuzzer input: `arbitrary` decides the family and knobs.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct ArbitraryBlock {
    /// The workload family.
    pub family: Family,
    /// Transactions: `txs % 64 + 1` (1 to 64).
    pub txs: u8,
    /// Sender accounts: `accounts % 64 + 1` (1 to 64).
    pub accounts: u8,
    /// The hot ratio in percent: `hot_percent % 101` (0 to 100 %).
    pub hot_percent: u8,
    /// The block seed the workload generates from.
    pub seed: u64,
}

impl ArbitraryBlock {
    /// The workload these bytes decide.
    pub fn workload(&self) -> Workload {
        Workload::new(self.family, (self.txs as usize % 64) + 1)
            .with_accounts((self.accounts as usize % 64) + 1)
            .with_hot_ratio((self.hot_percent % 101) as f64 / 100.0)
    }

    /// The block of [`workload`](ArbitraryBlock::workload) generated from `seed`.
    pub fn generate(&self) -> Generated {
        self.workload().generate(self.seed)
    }
}

/// Every family as a proptest strategy: small blocks, any seed and contention.
pub fn strategy() -> impl proptest::strategy::Strategy<Value = (Workload, u64)> {
    use proptest::prelude::*;
    (0..Family::ALL.len(), 1usize..48, 1usize..48, 0u8..=100, any::<u64>()).prop_map(|(f, txs, accounts, hot, seed)| {
        (Workload::new(Family::ALL[f], txs).with_accounts(accounts).with_hot_ratio(hot as f64 / 100.0), seed)
    })
}
