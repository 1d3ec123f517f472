//! A block from its RLP (alloy's consensus types): header, transactions with their senders
//! recovered from the signatures, ommers and withdrawals, in lockstep's model.

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Block, Header, Transaction, TxEnvelope};
use alloy_eips::Typed2718;
use alloy_primitives::{B256, TxKind};
use lockstep_executors::{AccessListItem, Authorization, Ommer, Tx, TxSignature, TxType, Withdrawal};

/// A block as decoded from its RLP.
#[derive(Clone, Debug)]
pub struct DecodedBlock {
    pub header: Header,
    /// `keccak256` of the header's RLP.
    pub hash: B256,
    /// In block order, senders recovered.
    pub txs: Vec<Tx>,
    pub ommers: Vec<Ommer>,
    /// `None` before Shanghai (the body has no withdrawals list).
    pub withdrawals: Option<Vec<Withdrawal>>,
    /// The roots of the body as the block carries it, computed here, for the header checks.
    pub transactions_root: B256,
    pub ommers_hash: B256,
    pub withdrawals_root: Option<B256>,
}

/// Why a block's RLP gives no block.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not hex: {0}")]
    Hex(String),
    #[error("malformed block RLP: {0}")]
    Rlp(String),
    #[error("{0} bytes after the block's RLP")]
    Trailing(usize),
    #[error("transaction {index}: the signature does not recover a sender ({why})")]
    Signature { index: usize, why: String },
}

/// Decodes the block whose RLP is the hex string `rlp` (`0x` optional).
pub fn decode(rlp: &str) -> Result<DecodedBlock, DecodeError> {
    let bytes = alloy_primitives::hex::decode(rlp).map_err(|e| DecodeError::Hex(e.to_string()))?;
    let mut buf = bytes.as_slice();
    let block =
        <Block<TxEnvelope> as alloy_rlp::Decodable>::decode(&mut buf).map_err(|e| DecodeError::Rlp(e.to_string()))?;
    if !buf.is_empty() {
        return Err(DecodeError::Trailing(buf.len()));
    }
    let body = &block.body;
    let txs = body
        .transactions
        .iter()
        .enumerate()
        .map(|(index, t)| {
            let sender = t.recover_signer().map_err(|e| DecodeError::Signature { index, why: e.to_string() })?;
            Ok(model_tx(t, sender))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let withdrawals = body.withdrawals.as_ref().map(|ws| {
        ws.iter()
            .map(|w| Withdrawal {
                index: w.index,
                validator_index: w.validator_index,
                address: w.address,
                amount: w.amount,
            })
            .collect()
    });
    Ok(DecodedBlock {
        hash: block.header.hash_slow(),
        transactions_root: alloy_consensus::proofs::calculate_transaction_root(&body.transactions),
        ommers_hash: alloy_consensus::proofs::calculate_ommers_root(&body.ommers),
        withdrawals_root: body.withdrawals.as_ref().map(|w| alloy_consensus::proofs::calculate_withdrawals_root(w)),
        ommers: body.ommers.iter().map(|o| Ommer { coinbase: o.beneficiary, number: o.number }).collect(),
        txs,
        withdrawals,
        header: block.header,
    })
}

/// The model transaction of a signed one whose signer is `sender`.
fn model_tx(t: &TxEnvelope, sender: alloy_primitives::Address) -> Tx {
    let signature = t.signature();
    let tx_type = TxType::from_id(t.ty()).unwrap_or_default();
    let access_list = t
        .access_list()
        .map(|l| {
            l.iter().map(|i| AccessListItem { address: i.address, storage_keys: i.storage_keys.clone() }).collect()
        })
        .unwrap_or_default();
    let authorization_list = t
        .authorization_list()
        .map(|l| {
            l.iter()
                .map(|a| Authorization {
                    chain_id: a.chain_id,
                    address: a.address,
                    nonce: a.nonce,
                    y_parity: a.y_parity(),
                    r: a.r(),
                    s: a.s(),
                })
                .collect()
        })
        .unwrap_or_default();
    Tx {
        tx_type,
        sender,
        to: match t.kind() {
            TxKind::Call(to) => Some(to),
            TxKind::Create => None,
        },
        value: t.value(),
        input: t.input().clone(),
        gas_limit: t.gas_limit(),
        gas_price: t.max_fee_per_gas(),
        max_priority_fee_per_gas: t.max_priority_fee_per_gas(),
        nonce: t.nonce(),
        chain_id: t.chain_id(),
        access_list,
        blob_hashes: t.blob_versioned_hashes().map(<[B256]>::to_vec).unwrap_or_default(),
        max_fee_per_blob_gas: t.max_fee_per_blob_gas(),
        authorization_list,
        secret_key: None,
        signature: Some(TxSignature { y_parity: u8::from(signature.v()), r: signature.r(), s: signature.s() }),
    }
}
