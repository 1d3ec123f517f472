//! The block a transaction list runs in, and the world state.

use super::{BlockRules, Fork, Tx};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The block a transaction list runs in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockEnv {
    /// The block's number (NUMBER).
    pub number: U256,
    /// Seconds since the Unix epoch (TIMESTAMP).
    pub timestamp: U256,
    /// The beneficiary (coinbase): receives priority fees (all fees before London).
    pub coinbase: Address,
    /// The block gas limit, in gas (GASLIMIT). A transaction whose own gas limit is above it
    /// is rejected ([`RejectKind::GasLimitAboveBlock`](crate::RejectKind::GasLimitAboveBlock)).
    pub gas_limit: u64,
    /// EIP-1559 base fee (BASEFEE), in wei per gas; `None` before London (the bundled
    /// executors read a missing one as 0).
    pub base_fee: Option<u64>,
    /// DIFFICULTY before the Merge; from the Merge on, `prevrandao` takes its place.
    pub difficulty: U256,
    /// PREVRANDAO (EIP-4399), from the Merge on. The bundled executors fail a block with
    /// transactions without it ([`ExecError::InvalidBlock`](crate::ExecError::InvalidBlock)).
    pub prevrandao: Option<B256>,
    /// EIP-4844 excess blob gas (in blob gas), from Cancun on; the blob base fee (BLOBBASEFEE)
    /// follows from it. The bundled executors fail a block with transactions without it from
    /// Cancun on ([`ExecError::InvalidBlock`](crate::ExecError::InvalidBlock)), and any block
    /// whose excess is above `MAX_BLOB_FEE_EXPONENT` (50) times the fork's blob base fee update
    /// fraction: a fee no account could pay, and one whose computation grows with the excess.
    pub excess_blob_gas: Option<u64>,
    /// Hashes of earlier blocks for BLOCKHASH, by number, listed: there is no rule for a
    /// missing one. A block's builder lists the 256 before it (fewer near genesis), for a state
    /// test those of [`BlockEnv::state_test_hashes`]; an unlisted number reads as zero, the
    /// answer BLOCKHASH gives outside its window.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub block_hashes: BTreeMap<u64, B256>,
}

/// How many predecessors BLOCKHASH can reach (Yellow Paper, 9.4.5 / EIP-2935's
/// `BLOCKHASH_SERVE_WINDOW`).
pub const BLOCKHASH_WINDOW: u64 = 256;

impl BlockEnv {
    /// The hash BLOCKHASH returns for block `number`: its entry in `block_hashes`, else zero.
    /// The 256-block window is the EVM's to check; this answers for any number.
    pub fn block_hash(&self, number: u64) -> B256 {
        self.block_hashes.get(&number).copied().unwrap_or(B256::ZERO)
    }

    /// The numbers BLOCKHASH can reach from a block numbered `number`.
    pub fn window(number: U256) -> std::ops::Range<u64> {
        let number = number.saturating_to::<u64>();
        number.saturating_sub(BLOCKHASH_WINDOW)..number
    }

    /// The hashes the official state tests give the block numbered `number`: each
    /// predecessor's is `keccak256` of its number as a decimal string (the convention of
    /// geth's and revm's state-test runners, which fill no `blockHashes`).
    pub fn state_test_hashes(number: U256) -> BTreeMap<u64, B256> {
        Self::window(number).map(|n| (n, keccak256(n.to_string().as_bytes()))).collect()
    }

    /// Whether the listed hashes are exactly the state-test convention's for this block, so
    /// that a state-test file (which has no hashes) can carry it.
    pub fn has_state_test_hashes(&self) -> bool {
        self.block_hashes == Self::state_test_hashes(self.number)
    }
}

/// One account of a state. Zero-valued storage slots are absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// In wei.
    pub balance: U256,
    /// Transactions sent; for a contract, contracts it created (a new contract starts at 1
    /// from EIP-161 on).
    pub nonce: u64,
    /// Runtime code; empty for an account without code. An EIP-7702 delegation is
    /// `0xef0100 || address`.
    #[serde(default, skip_serializing_if = "<[u8]>::is_empty")]
    pub code: Bytes,
    /// Storage slot to value; a slot holding zero is absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage: BTreeMap<U256, U256>,
}

impl Account {
    /// EIP-161 emptiness: no code, zero nonce, zero balance.
    pub fn is_empty(&self) -> bool {
        self.code.is_empty() && self.nonce == 0 && self.balance.is_zero()
    }

    /// `keccak256(code)`; [`KECCAK_EMPTY`](crate::KECCAK_EMPTY) for an account without code.
    pub fn code_hash(&self) -> B256 {
        // Memoized: every executor hashes every pre-state contract once a block, and a
        // fuzzing campaign runs thousands of blocks a second over the same few contracts.
        static HASHES: crate::memo::Memo<Bytes, B256> = crate::memo::Memo::new(1 << 12);
        if self.code.is_empty() {
            crate::KECCAK_EMPTY
        } else if self.code.len() < 256 {
            keccak256(&self.code)
        } else {
            HASHES.get_or_insert_with(self.code.clone(), |code| keccak256(code))
        }
    }
}

/// A world state: every existing account by address.
pub type State = BTreeMap<Address, Account>;

/// Everything an executor needs to run one block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockInput {
    /// The rules the block runs under.
    pub fork: Fork,
    /// The EIP-155 chain id (CHAINID); a transaction signed for another chain is rejected
    /// ([`RejectKind::ChainIdMismatch`](crate::RejectKind::ChainIdMismatch)).
    pub chain_id: u64,
    /// The block's header fields.
    pub env: BlockEnv,
    /// The state before the first transaction.
    pub pre_state: State,
    /// The transactions in block order: a [`TxIndex`](crate::TxIndex) is a position here.
    pub txs: Vec<Tx>,
    /// What the block does beyond its transactions (system calls, rewards, withdrawals,
    /// requests); `None` for a state test's block, which runs its transactions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<BlockRules>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_hashes_are_listed_not_derived() {
        let hashes = BlockEnv::state_test_hashes(U256::from(300));
        assert_eq!((hashes.len(), hashes.keys().next()), (256, Some(&44)));
        assert_eq!(hashes[&299], keccak256(b"299"));
        let mut env = BlockEnv { number: U256::from(300), block_hashes: hashes, ..Default::default() };
        assert!(env.has_state_test_hashes());
        assert_eq!(env.block_hash(10), B256::ZERO);
        env.block_hashes.insert(299, B256::repeat_byte(9));
        assert!(!env.has_state_test_hashes());
        assert_eq!(env.block_hash(299), B256::repeat_byte(9));
        assert!(BlockEnv::state_test_hashes(U256::ZERO).is_empty());
    }
}
