//! Packed blockchain tests: the transactions of every valid block of a chain as one block
//! on the genesis state, so that a parallel executor gets one long block where the fixture
//! has several short ones. The fixture's headers no longer apply; the executors are compared
//! with each other.

use super::Chain;
use super::chain::{Parent, block_input};
use lockstep_executors::{BlockInput, BlockRules};

/// The packed block of `chain`: the first valid block's header fields with the lowest base
/// fee and excess blob gas of the chain (every transaction's fee cap still holds) and the gas
/// limits added up; the transactions and withdrawals of the valid blocks, in order; the first
/// block's system calls. `Err` says why a chain cannot be packed (no valid block, or one that
/// does not build on its parent).
pub fn pack(chain: &Chain) -> Result<BlockInput, String> {
    let valid: Vec<_> = chain
        .blocks
        .iter()
        .filter(|b| b.expect_exception.is_none())
        .filter_map(|b| b.decoded.as_ref().ok().map(|d| (b, d)))
        .collect();
    let Some(((first, first_decoded), rest)) = valid.split_first() else {
        return Err("no valid block to pack".into());
    };
    let fork = first.fork(&chain.network).ok_or_else(|| format!("no fork of `{}`", chain.network))?;
    let genesis: &Parent = &chain.genesis;
    let mut block = block_input(genesis, first_decoded, fork, chain.chain_id).map_err(|e| format!("block 0: {e}"))?;
    let rules = block.rules.get_or_insert_with(BlockRules::default);
    for (_, d) in rest {
        let h = &d.header;
        block.txs.extend(d.txs.iter().cloned());
        rules.withdrawals.extend(d.withdrawals.iter().flatten().cloned());
        block.env.gas_limit = block.env.gas_limit.saturating_add(h.gas_limit);
        block.env.base_fee = match (block.env.base_fee, h.base_fee_per_gas) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        block.env.excess_blob_gas = match (block.env.excess_blob_gas, h.excess_blob_gas) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    Ok(block)
}
