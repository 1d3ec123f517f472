//! A blockchain test as lockstep runs it: the genesis, then each block built into a
//! `BlockInput` on its parent's post-state, and the header rules that hold before and after
//! execution (Yellow Paper section 4.3.4, EIP-1559, EIP-4844, EIP-7691, EIP-7918).

use super::decode::DecodedBlock;
use alloy_primitives::{B256, U256};
use lockstep_executors::trie::RootCache;
use lockstep_executors::{BlockEnv, BlockInput, BlockOutput, BlockRules, Fork, State, TxOutcome};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How many ancestors BLOCKHASH can see.
const BLOCKHASH_WINDOW: u64 = 256;

/// A block the chain has accepted, as its children need it.
#[derive(Clone, Debug)]
pub struct Parent {
    pub hash: B256,
    pub number: u64,
    pub timestamp: u64,
    pub gas_limit: u64,
    pub gas_used: u64,
    pub base_fee: Option<u64>,
    pub excess_blob_gas: Option<u64>,
    pub blob_gas_used: Option<u64>,
    pub fork: Fork,
    /// The state after the block.
    pub state: Arc<State>,
    /// The hashes of this block and its ancestors within the BLOCKHASH window, by number.
    pub hashes: Arc<BTreeMap<u64, B256>>,
}

impl Parent {
    /// The genesis block as a parent.
    pub fn genesis(g: &super::fixture::GenesisHeader, fork: Fork, state: State) -> Result<Parent, String> {
        let u64_of =
            |v: U256, field: &str| u64::try_from(v).map_err(|_| format!("genesisBlockHeader.{field} above 2^64-1"));
        let opt = |v: Option<U256>, field: &str| v.map(|v| u64_of(v, field)).transpose();
        let number = u64_of(g.number, "number")?;
        Ok(Parent {
            hash: g.hash,
            number,
            timestamp: u64_of(g.timestamp, "timestamp")?,
            gas_limit: u64_of(g.gas_limit, "gasLimit")?,
            gas_used: u64_of(g.gas_used, "gasUsed")?,
            base_fee: opt(g.base_fee_per_gas, "baseFeePerGas")?,
            excess_blob_gas: opt(g.excess_blob_gas, "excessBlobGas")?,
            blob_gas_used: opt(g.blob_gas_used, "blobGasUsed")?,
            fork,
            state: Arc::new(state),
            hashes: Arc::new(BTreeMap::from([(number, g.hash)])),
        })
    }

    /// `block` as a parent, with the state it left.
    pub fn child(&self, block: &DecodedBlock, fork: Fork, state: State) -> Parent {
        let h = &block.header;
        let mut hashes = (*self.hashes).clone();
        hashes.insert(h.number, block.hash);
        while hashes.len() as u64 > BLOCKHASH_WINDOW + 1 {
            hashes.pop_first();
        }
        Parent {
            hash: block.hash,
            number: h.number,
            timestamp: h.timestamp,
            gas_limit: h.gas_limit,
            gas_used: h.gas_used,
            base_fee: h.base_fee_per_gas,
            excess_blob_gas: h.excess_blob_gas,
            blob_gas_used: h.blob_gas_used,
            fork,
            state: Arc::new(state),
            hashes: Arc::new(hashes),
        }
    }
}

/// The fork of a block at `number` and `timestamp` on `network`: a fork name, or a transition
/// such as `ShanghaiToCancunAtTime15k` (by timestamp, `k` thousands) or `BerlinToLondonAt5`
/// (by block number). `None` for a name lockstep does not know.
pub fn fork_at(network: &str, number: u64, timestamp: u64) -> Option<Fork> {
    let Some((from, rest)) = network.split_once("To") else {
        return Fork::from_name(network);
    };
    let (to, at) = rest.split_once("At")?;
    let (by_time, at) = match at.strip_prefix("Time") {
        Some(t) => (true, t),
        None => (false, at),
    };
    let at = match at.strip_suffix('k') {
        Some(k) => k.parse::<u64>().ok()?.checked_mul(1000)?,
        None => at.parse().ok()?,
    };
    let reached = if by_time { timestamp >= at } else { number >= at };
    Fork::from_name(if reached { to } else { from })
}

/// A header rule broken, or a result the header commits to that the executor's output does
/// not give: the block is invalid on that executor.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlockFailure {
    #[error("header {field} is {got}, expected {expected} from the parent and body")]
    Header { field: &'static str, expected: String, got: String },
    #[error("tx {index} rejected: {kind}")]
    Rejected { index: usize, kind: String },
    #[error("{field}: executor gives {got}, header says {expected}")]
    Result { field: &'static str, expected: String, got: String },
}

fn header_mismatch<T: PartialEq + std::fmt::Debug>(
    field: &'static str,
    expected: T,
    got: T,
) -> Result<(), BlockFailure> {
    if expected == got {
        return Ok(());
    }
    Err(BlockFailure::Header { field, expected: format!("{expected:?}"), got: format!("{got:?}") })
}

/// `block` as an executor's input on `parent`'s state, after the header rules that need no
/// execution: number, timestamp, gas limit, base fee, excess blob gas, body roots.
pub fn block_input(
    parent: &Parent,
    block: &DecodedBlock,
    fork: Fork,
    chain_id: u64,
) -> Result<BlockInput, BlockFailure> {
    let h = &block.header;
    header_mismatch("number", parent.number + 1, h.number)?;
    if h.timestamp <= parent.timestamp {
        return Err(BlockFailure::Header {
            field: "timestamp",
            expected: format!("above {}", parent.timestamp),
            got: h.timestamp.to_string(),
        });
    }
    // Yellow Paper 4.3.4: within 1/1024 of the parent's limit, at least 5000.
    let bound = parent.gas_limit / 1024;
    let change = h.gas_limit.abs_diff(parent.gas_limit);
    if h.gas_limit < 5000 || (change > 0 && change >= bound) {
        return Err(BlockFailure::Header {
            field: "gasLimit",
            expected: format!("within {bound} of {}", parent.gas_limit),
            got: h.gas_limit.to_string(),
        });
    }
    header_mismatch("baseFeePerGas", expected_base_fee(parent, fork), h.base_fee_per_gas)?;
    header_mismatch("excessBlobGas", expected_excess_blob_gas(parent, fork), h.excess_blob_gas)?;
    header_mismatch("transactionsRoot", block.transactions_root, h.transactions_root)?;
    header_mismatch("ommersHash", block.ommers_hash, h.ommers_hash)?;
    header_mismatch("withdrawalsRoot", block.withdrawals_root, h.withdrawals_root)?;
    if let Some(max) = max_blob_gas(fork) {
        let used: u64 = block.txs.iter().map(|t| 131_072 * t.blob_hashes.len() as u64).sum();
        if used > max {
            return Err(BlockFailure::Header {
                field: "blobGasUsed",
                expected: format!("at most {max}"),
                got: used.to_string(),
            });
        }
    }
    if fork.at_least(Fork::Merge) && !block.ommers.is_empty() {
        return Err(BlockFailure::Header {
            field: "ommers",
            expected: "none".into(),
            got: block.ommers.len().to_string(),
        });
    }
    let env = BlockEnv {
        number: U256::from(h.number),
        timestamp: U256::from(h.timestamp),
        coinbase: h.beneficiary,
        gas_limit: h.gas_limit,
        base_fee: h.base_fee_per_gas,
        difficulty: h.difficulty,
        prevrandao: fork.at_least(Fork::Merge).then_some(h.mix_hash),
        excess_blob_gas: h.excess_blob_gas,
        block_hashes: (*parent.hashes).clone(),
    };
    Ok(BlockInput {
        fork,
        chain_id,
        env,
        pre_state: (*parent.state).clone(),
        txs: block.txs.clone(),
        rules: Some(BlockRules {
            parent_hash: h.parent_hash,
            parent_beacon_block_root: h.parent_beacon_block_root,
            ommers: block.ommers.clone(),
            withdrawals: block.withdrawals.clone().unwrap_or_default(),
            ..Default::default()
        }),
    })
}

/// EIP-1559's base fee of a child of `parent` at `fork`: 1 gwei at the first London block.
fn expected_base_fee(parent: &Parent, fork: Fork) -> Option<u64> {
    use alloy_eips::eip1559::{BaseFeeParams, INITIAL_BASE_FEE, calc_next_block_base_fee};
    if !fork.at_least(Fork::London) {
        return None;
    }
    Some(match parent.base_fee {
        Some(fee) if parent.fork.at_least(Fork::London) => {
            calc_next_block_base_fee(parent.gas_used, parent.gas_limit, fee, BaseFeeParams::ethereum())
        }
        _ => INITIAL_BASE_FEE,
    })
}

/// The most blob gas a block may use at `fork`: 6 blobs (EIP-4844), 9 from Prague (EIP-7691);
/// `None` before Cancun.
fn max_blob_gas(fork: Fork) -> Option<u64> {
    use alloy_eips::eip7840::BlobParams;
    let params = if fork.at_least(Fork::Osaka) {
        BlobParams::osaka()
    } else if fork.at_least(Fork::Prague) {
        BlobParams::prague()
    } else if fork.at_least(Fork::Cancun) {
        BlobParams::cancun()
    } else {
        return None;
    };
    Some(params.max_blob_count * 131_072)
}

/// EIP-4844's excess blob gas of a child of `parent` at `fork` (targets of EIP-7691 from
/// Prague, EIP-7918's reserve price from Osaka); 0 at the first Cancun block.
fn expected_excess_blob_gas(parent: &Parent, fork: Fork) -> Option<u64> {
    use alloy_eips::eip7840::BlobParams;
    if !fork.at_least(Fork::Cancun) {
        return None;
    }
    let (Some(excess), Some(used)) = (parent.excess_blob_gas, parent.blob_gas_used) else {
        return Some(0);
    };
    if !parent.fork.at_least(Fork::Cancun) {
        return Some(0);
    }
    Some(if fork.at_least(Fork::Osaka) {
        BlobParams::osaka().next_block_excess_blob_gas_osaka(excess, used, parent.base_fee.unwrap_or_default())
    } else {
        let params = if fork.at_least(Fork::Prague) { BlobParams::prague() } else { BlobParams::cancun() };
        (excess + used).saturating_sub(params.target_blob_gas_per_block())
    })
}

/// Checks an executor's output for `input` against what the header of `block` commits to:
/// no rejected transaction, then gas used, blob gas used, logs bloom, receipts root,
/// requests hash and state root, in that order.
/// `roots` keeps the storage roots of the chain's earlier states (the state root is the
/// costly check).
pub fn check_output(
    block: &DecodedBlock,
    input: &BlockInput,
    out: &BlockOutput,
    roots: &mut RootCache,
) -> Result<(), BlockFailure> {
    if let Some((index, kind)) = out.outcomes.iter().enumerate().find_map(|(i, o)| match o {
        TxOutcome::Rejected { kind } => Some((i, kind)),
        TxOutcome::Executed { .. } => None,
    }) {
        return Err(BlockFailure::Rejected { index, kind: kind.to_string() });
    }
    let h = &block.header;
    let results = out.results(input);
    let result = |field: &'static str, expected: String, got: String| {
        if expected == got { Ok(()) } else { Err(BlockFailure::Result { field, expected, got }) }
    };
    result("gasUsed", h.gas_used.to_string(), results.gas_used.to_string())?;
    if let Some(expected) = h.blob_gas_used {
        result("blobGasUsed", expected.to_string(), results.blob_gas_used.to_string())?;
    }
    result("logsBloom", h.logs_bloom.to_string(), results.logs_bloom.to_string())?;
    if let Some(root) = results.receipts_root {
        result("receiptsRoot", h.receipts_root.to_string(), root.to_string())?;
    }
    if let Some(expected) = h.requests_hash {
        let got = results.requests_hash.map_or_else(|| "none".to_string(), |h| h.to_string());
        result("requestsHash", expected.to_string(), got)?;
    }
    result("stateRoot", h.state_root.to_string(), roots.state_root(&out.post_state).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_switch_at_their_block() {
        assert_eq!(fork_at("Cancun", 1, 1), Some(Fork::Cancun));
        assert_eq!(fork_at("ShanghaiToCancunAtTime15k", 1, 14_999), Some(Fork::Shanghai));
        assert_eq!(fork_at("ShanghaiToCancunAtTime15k", 2, 15_000), Some(Fork::Cancun));
        assert_eq!(fork_at("BerlinToLondonAt5", 4, 0), Some(Fork::Berlin));
        assert_eq!(fork_at("BerlinToLondonAt5", 5, 0), Some(Fork::London));
        assert_eq!(fork_at("Nowhere", 1, 1), None);
    }
}
