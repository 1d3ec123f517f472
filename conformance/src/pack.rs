//! Packed state tests: the vectors of one test and fork as one multi-transaction block, their
//! nonces chained, with independent transfers from other senders between them, so that a
//! parallel executor really runs them in parallel. Packed blocks have no fixture expectation:
//! they are for comparing executors with each other.

use crate::case::{Case, CaseInput};
use alloy_primitives::{Address, U256, keccak256};
use lockstep_executors::{Account, BlockInput, Fork, Tx, TxType};
use std::collections::HashMap;

/// Filler transfers after each vector.
const FILLERS_PER_VECTOR: usize = 2;

/// One block per (test, fork) of `cases`, in order. Cases must come from one file.
pub fn pack(cases: &[Case]) -> Vec<(String, BlockInput)> {
    let mut blocks: Vec<(String, BlockInput)> = Vec::new();
    let mut last: Option<(&str, &str)> = None;
    let mut nonces: HashMap<Address, u64> = HashMap::new();
    let mut filler = 0u64;
    for case in cases {
        let CaseInput::Block(block) = &case.input else {
            continue;
        };
        let key = (&*case.id.test, case.id.fork.as_str());
        if last != Some(key) {
            last = Some(key);
            nonces.clear();
            filler = 0;
            let mut b = (**block).clone();
            b.txs.clear();
            blocks.push((format!("{} :: {} [{}]", case.id.file, case.id.test, case.id.fork), b));
        }
        let (_, b) = blocks.last_mut().expect("a block was just pushed");
        let mut tx = block.txs[0].clone();
        let next = nonces.entry(tx.sender).or_insert(tx.nonce);
        tx.nonce = *next;
        // An invalid vector does not consume its nonce.
        if case.expect.exception.is_none() {
            *next += 1;
        }
        b.txs.push(tx);
        for _ in 0..FILLERS_PER_VECTOR {
            let tx = filler_tx(b, filler);
            filler += 1;
            b.txs.push(tx);
        }
    }
    blocks
}

/// A plain transfer from a fresh sender, priced to be valid in this block.
fn filler_tx(b: &mut BlockInput, n: u64) -> Tx {
    let seed = keccak256([b"lockstep-filler".as_slice(), &n.to_be_bytes()].concat());
    let sender = Address::from_slice(&seed[12..]);
    let to = Address::from_slice(&keccak256(seed)[12..]);
    b.pre_state.insert(sender, Account { balance: U256::from(10u128.pow(30)), ..Default::default() });
    let price = b.env.base_fee.unwrap_or(0) as u128 + 1;
    Tx {
        tx_type: if b.fork >= Fork::London { TxType::Eip1559 } else { TxType::Legacy },
        sender,
        to: Some(to),
        value: U256::from(n + 1),
        gas_limit: 21_000,
        gas_price: price,
        max_priority_fee_per_gas: (b.fork >= Fork::London).then_some(1),
        nonce: 0,
        chain_id: Some(b.chain_id),
        ..Default::default()
    }
}
