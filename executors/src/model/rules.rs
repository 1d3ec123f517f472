//! What a block does beyond its transactions: system calls before them (EIP-4788, EIP-2935),
//! rewards and withdrawals after them, and the execution-layer requests of Prague (EIP-6110,
//! EIP-7002, EIP-7251). Which of them apply follows from the fork.

use super::Fork;
use alloy_primitives::{Address, B256, Bytes, U256, address};
use serde::{Deserialize, Serialize};

/// EIP-4788's beacon-roots contract: the system call before the first transaction stores the
/// parent beacon block root there (Cancun on).
pub const BEACON_ROOTS_ADDRESS: Address = address!("0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02");
/// EIP-2935's history contract: the system call before the first transaction stores the parent
/// block's hash there (Prague on).
pub const HISTORY_STORAGE_ADDRESS: Address = address!("0x0000F90827F1C53a10cb7A02335B175320002935");
/// EIP-7002's withdrawal-request contract, called after the last transaction (Prague on).
pub const WITHDRAWAL_REQUEST_ADDRESS: Address = address!("0x00000961Ef480Eb55e80D19ad83579A64c007002");
/// EIP-7251's consolidation-request contract, called after the last transaction (Prague on).
pub const CONSOLIDATION_REQUEST_ADDRESS: Address = address!("0x0000BBdDc7CE488642fb579F8B00f3a590007251");
/// The mainnet deposit contract, whose `DepositEvent` logs are EIP-6110's deposit requests.
pub const MAINNET_DEPOSIT_CONTRACT: Address = address!("0x00000000219ab540356cBB839Cbe05303d7705Fa");
/// The caller of every system call (EIP-4788's `SYSTEM_ADDRESS`).
pub const SYSTEM_ADDRESS: Address = address!("0xfffffffffffffffffffffffffffffffffffffffe");

/// One EIP-4895 withdrawal: `amount` gwei credited to `address` after the transactions, with
/// no EVM execution and no gas.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Withdrawal {
    /// The withdrawal's index, counted by the consensus layer.
    pub index: u64,
    /// The validator withdrawn from.
    pub validator_index: u64,
    /// The recipient.
    pub address: Address,
    /// In gwei (10^9 wei).
    pub amount: u64,
}

impl Withdrawal {
    /// The amount in wei.
    pub fn amount_wei(&self) -> U256 {
        U256::from(self.amount) * U256::from(1_000_000_000u64)
    }
}

/// An ommer (uncle) header of a block before the Merge: its miner earns an ommer reward.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ommer {
    /// The ommer's beneficiary.
    pub coinbase: Address,
    /// The ommer's block number (at most 6 below the including block's).
    pub number: u64,
}

/// What a real block does beyond its transactions. A block without it (`BlockInput::rules`
/// `None`) is a state test's: its transactions only.
///
/// The order is the spec's (the execution specs' `apply_body`): the system calls of
/// [`BlockRules::system_calls_before`], the transactions, then the block reward and ommer rewards
/// (before the Merge), the withdrawals (Shanghai on), the deposit requests read from the
/// receipts and the system calls of [`BlockRules::system_calls_after`] (Prague on).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockRules {
    /// The parent block's hash, which EIP-2935's system call stores (Prague on).
    pub parent_hash: B256,
    /// The header's parent beacon block root, which EIP-4788's system call stores (Cancun on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_beacon_block_root: Option<B256>,
    /// The block's ommers, rewarded before the Merge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ommers: Vec<Ommer>,
    /// EIP-4895 withdrawals, applied after the transactions (Shanghai on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdrawals: Vec<Withdrawal>,
    /// The contract whose `DepositEvent` logs are EIP-6110 deposit requests (Prague on).
    #[serde(default = "mainnet_deposit_contract")]
    pub deposit_contract: Address,
}

fn mainnet_deposit_contract() -> Address {
    MAINNET_DEPOSIT_CONTRACT
}

/// No parent hash, beacon root, ommers or withdrawals; mainnet's deposit contract.
impl Default for BlockRules {
    fn default() -> BlockRules {
        BlockRules {
            parent_hash: B256::ZERO,
            parent_beacon_block_root: None,
            ommers: Vec::new(),
            withdrawals: Vec::new(),
            deposit_contract: MAINNET_DEPOSIT_CONTRACT,
        }
    }
}

/// A call from [`SYSTEM_ADDRESS`] outside any transaction: no gas charged, no nonce, no fee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemCall {
    /// The system contract called.
    pub contract: Address,
    /// Its calldata.
    pub input: Bytes,
    /// A checked call (EIP-7002, EIP-7251): the block is invalid when the contract has no
    /// code or the call fails. An unchecked one (EIP-4788, EIP-2935) that fails changes nothing.
    pub checked: bool,
}

impl BlockRules {
    /// The system calls before the first transaction, in order, at `fork`.
    pub fn system_calls_before(&self, fork: Fork) -> Vec<SystemCall> {
        let mut calls = Vec::new();
        if fork.at_least(Fork::Cancun)
            && let Some(root) = self.parent_beacon_block_root
        {
            calls.push(SystemCall { contract: BEACON_ROOTS_ADDRESS, input: root.0.into(), checked: false });
        }
        if fork.at_least(Fork::Prague) {
            calls.push(SystemCall {
                contract: HISTORY_STORAGE_ADDRESS,
                input: self.parent_hash.0.into(),
                checked: false,
            });
        }
        calls
    }

    /// The system calls after the rewards and withdrawals, in order, at `fork`: their
    /// return data are the EIP-7002 and EIP-7251 requests.
    pub fn system_calls_after(&self, fork: Fork) -> Vec<SystemCall> {
        if !fork.at_least(Fork::Prague) {
            return Vec::new();
        }
        [WITHDRAWAL_REQUEST_ADDRESS, CONSOLIDATION_REQUEST_ADDRESS]
            .into_iter()
            .map(|contract| SystemCall { contract, input: Bytes::new(), checked: true })
            .collect()
    }

    /// The balance credits after the transactions at `fork`, in order, in wei: the block and
    /// ommer rewards (before the Merge), then the withdrawals (Shanghai on).
    pub fn credits(&self, fork: Fork, number: u64, coinbase: Address) -> Vec<(Address, U256)> {
        let mut credits = Vec::new();
        if let Some(reward) = block_reward(fork) {
            let ommers = U256::from(self.ommers.len());
            credits.push((coinbase, reward + (reward >> 5) * ommers));
            for ommer in &self.ommers {
                let distance = number.saturating_sub(ommer.number);
                let share = U256::from(8u64.saturating_sub(distance));
                credits.push((ommer.coinbase, reward * share / U256::from(8)));
            }
        }
        if fork.at_least(Fork::Shanghai) {
            credits.extend(self.withdrawals.iter().map(|w| (w.address, w.amount_wei())));
        }
        credits
    }
}

/// The block reward before the Merge, in wei: 5 ether to Byzantium (EIP-649: 3), from
/// Constantinople (EIP-1234) 2; `None` from the Merge on.
pub fn block_reward(fork: Fork) -> Option<U256> {
    const ETHER: u64 = 1_000_000_000_000_000_000;
    let ether = if fork.at_least(Fork::Merge) {
        return None;
    } else if fork.at_least(Fork::Petersburg) {
        2
    } else if fork.at_least(Fork::Byzantium) {
        3
    } else {
        5
    };
    Some(U256::from(ether) * U256::from(ETHER))
}

/// The EIP-6110 deposit requests in `logs` of `contract`: each `DepositEvent`'s
/// `pubkey || withdrawal_credentials || amount || signature || index` (192 bytes), in log
/// order. A log of the contract that is not a well-formed `DepositEvent` is skipped (the
/// block is then invalid by the spec; lockstep compares executors, which read it the same).
pub fn deposit_requests<'a>(logs: impl IntoIterator<Item = &'a alloy_primitives::Log>, contract: Address) -> Bytes {
    // keccak256("DepositEvent(bytes,bytes,bytes,bytes,bytes)")
    const TOPIC: B256 = alloy_primitives::b256!("0x649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5");
    // ABI layout: five offsets, then each field as length + padded bytes, at fixed places.
    const FIELDS: [(usize, usize); 5] = [(192, 48), (288, 32), (352, 8), (416, 96), (544, 8)];
    let mut out = Vec::new();
    for log in logs {
        if log.address != contract || log.topics().first() != Some(&TOPIC) || log.data.data.len() != 576 {
            continue;
        }
        let data = &log.data.data;
        for (at, len) in FIELDS {
            out.extend_from_slice(&data[at..at + len]);
        }
    }
    out.into()
}

/// The EIP-7685 request list from its parts in type order: deposits (type 0), the EIP-7002
/// system call's return data (1) and EIP-7251's (2), each behind its type byte.
pub fn requests(deposits: Bytes, after_calls: impl IntoIterator<Item = Bytes>) -> Vec<Bytes> {
    std::iter::once(deposits)
        .chain(after_calls)
        .enumerate()
        .map(|(ty, data)| {
            let mut typed = Vec::with_capacity(1 + data.len());
            typed.push(ty as u8);
            typed.extend_from_slice(&data);
            typed.into()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewards_follow_the_fork() {
        let rules = BlockRules { ommers: vec![Ommer { coinbase: Address::ZERO, number: 9 }], ..Default::default() };
        let credits = rules.credits(Fork::Byzantium, 10, Address::repeat_byte(1));
        let eth = U256::from(1_000_000_000_000_000_000u64);
        // 3 ether and 1/32 of it for the ommer; the ommer one block back gets 7/8.
        assert_eq!(credits[0].1, eth * U256::from(3) + eth * U256::from(3) / U256::from(32));
        assert_eq!(credits[1].1, eth * U256::from(3) * U256::from(7) / U256::from(8));
        assert!(rules.credits(Fork::Merge, 10, Address::ZERO).is_empty());
    }

    #[test]
    fn deposit_requests_are_the_event_fields_in_order() {
        use alloy_primitives::{Log, LogData};
        let mut data = vec![0u8; 576];
        for (at, len, byte) in [(192, 48, 1u8), (288, 32, 2), (352, 8, 3), (416, 96, 4), (544, 8, 5)] {
            data[at..at + len].fill(byte);
        }
        let topic = alloy_primitives::keccak256("DepositEvent(bytes,bytes,bytes,bytes,bytes)");
        let log = |address, data: Vec<u8>| Log { address, data: LogData::new_unchecked(vec![topic], data.into()) };
        let logs = [
            log(MAINNET_DEPOSIT_CONTRACT, data.clone()),
            log(Address::ZERO, data.clone()),
            log(MAINNET_DEPOSIT_CONTRACT, data[..575].to_vec()),
        ];
        let out = deposit_requests(&logs, MAINNET_DEPOSIT_CONTRACT);
        let expected: Vec<u8> = [(48, 1u8), (32, 2), (8, 3), (96, 4), (8, 5)]
            .into_iter()
            .flat_map(|(len, byte)| std::iter::repeat_n(byte, len))
            .collect();
        assert_eq!(out.as_ref(), expected.as_slice());
        let typed = requests(out, [Bytes::from_static(&[9]), Bytes::new()]);
        assert_eq!((typed[0][0], typed[1].as_ref(), typed[2].as_ref()), (0, &[1u8, 9][..], &[2u8][..]));
    }

    #[test]
    fn system_calls_follow_the_fork() {
        let rules = BlockRules { parent_beacon_block_root: Some(B256::repeat_byte(7)), ..Default::default() };
        assert!(rules.system_calls_before(Fork::Shanghai).is_empty());
        assert_eq!(rules.system_calls_before(Fork::Cancun).len(), 1);
        assert_eq!(rules.system_calls_before(Fork::Prague).len(), 2);
        assert!(rules.system_calls_after(Fork::Cancun).is_empty());
        assert!(rules.system_calls_after(Fork::Prague).iter().all(|c| c.checked));
    }
}
