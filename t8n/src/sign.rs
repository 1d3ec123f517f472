//! Signing a model transaction for a t8n tool: the tool recovers the sender from `v`, `r`,
//! `s`, so lockstep signs with the key the transaction carries. Tools differ in how they sign
//! from a `secretKey` themselves (the execution spec signs every transaction for chain 1), so
//! lockstep never leaves that to them.
//!
//! Signing hashes are alloy-consensus's (EIP-155 for legacy, EIP-2718 typed payloads for the
//! others); signatures are k256's, low-`s` as EIP-2 requires.

use crate::format::T8nTx;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEip4844, TxEip7702, TxLegacy};
use alloy_eips::eip2930::{AccessList, AccessListItem as AlloyItem};
use alloy_eips::eip7702::{Authorization as AlloyAuthorization, SignedAuthorization};
use alloy_primitives::{Address, B256, TxKind, U64, U256};
use lockstep_executors::{Fork, Tx, TxType};

/// Why a transaction cannot be signed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The transaction carries neither a secret key nor a signature.
    #[error("the sender's secret key is unknown and the transaction carries no signature")]
    NoKey,
    /// The key is not a valid secp256k1 secret key.
    #[error("the secret key is not a secp256k1 key")]
    BadKey,
    /// The key signs for another address than the transaction's sender.
    #[error("the secret key belongs to {key_address}, not to the sender {sender}")]
    WrongKey {
        /// The key's address.
        key_address: Address,
        /// The transaction's sender.
        sender: Address,
    },
    /// An EIP-4844 or EIP-7702 transaction without a recipient: the type has no encoding for
    /// a creation, so there is nothing to sign (the bundled executors reject it).
    #[error("a type-{0} transaction cannot be a creation")]
    CreationOfType(u8),
}

fn access_list(t: &Tx) -> AccessList {
    AccessList(
        t.access_list.iter().map(|i| AlloyItem { address: i.address, storage_keys: i.storage_keys.clone() }).collect(),
    )
}

/// The hash a sender signs for `t` (EIP-155 for a protected legacy transaction).
pub fn signing_hash(t: &Tx) -> Result<B256, SignError> {
    let to = t.to.map_or(TxKind::Create, TxKind::Call);
    let chain_id = t.chain_id.unwrap_or(1);
    let tip = t.max_priority_fee_per_gas.unwrap_or(0);
    let created = |ty: TxType| t.to.ok_or(SignError::CreationOfType(ty.id()));
    Ok(match t.tx_type {
        TxType::Legacy => TxLegacy {
            chain_id: t.chain_id,
            nonce: t.nonce,
            gas_price: t.gas_price,
            gas_limit: t.gas_limit,
            to,
            value: t.value,
            input: t.input.clone(),
        }
        .signature_hash(),
        TxType::Eip2930 => TxEip2930 {
            chain_id,
            nonce: t.nonce,
            gas_price: t.gas_price,
            gas_limit: t.gas_limit,
            to,
            value: t.value,
            access_list: access_list(t),
            input: t.input.clone(),
        }
        .signature_hash(),
        TxType::Eip1559 => TxEip1559 {
            chain_id,
            nonce: t.nonce,
            gas_limit: t.gas_limit,
            max_fee_per_gas: t.gas_price,
            max_priority_fee_per_gas: tip,
            to,
            value: t.value,
            access_list: access_list(t),
            input: t.input.clone(),
        }
        .signature_hash(),
        TxType::Eip4844 => TxEip4844 {
            chain_id,
            nonce: t.nonce,
            gas_limit: t.gas_limit,
            max_fee_per_gas: t.gas_price,
            max_priority_fee_per_gas: tip,
            to: created(TxType::Eip4844)?,
            value: t.value,
            access_list: access_list(t),
            blob_versioned_hashes: t.blob_hashes.clone(),
            max_fee_per_blob_gas: t.max_fee_per_blob_gas.unwrap_or(0),
            input: t.input.clone(),
        }
        .signature_hash(),
        TxType::Eip7702 => TxEip7702 {
            chain_id,
            nonce: t.nonce,
            gas_limit: t.gas_limit,
            max_fee_per_gas: t.gas_price,
            max_priority_fee_per_gas: tip,
            to: created(TxType::Eip7702)?,
            value: t.value,
            access_list: access_list(t),
            authorization_list: t
                .authorization_list
                .iter()
                .map(|a| {
                    SignedAuthorization::new_unchecked(
                        AlloyAuthorization { chain_id: a.chain_id, address: a.address, nonce: a.nonce },
                        a.y_parity,
                        a.r,
                        a.s,
                    )
                })
                .collect(),
            input: t.input.clone(),
        }
        .signature_hash(),
    })
}

/// The address of a secp256k1 public key (the last 20 bytes of its keccak256).
fn address_of(key: &k256::ecdsa::SigningKey) -> Address {
    let point = key.verifying_key().to_encoded_point(false);
    Address::from_raw_public_key(&point.as_bytes()[1..])
}

/// `t` as it is signed at `fork`: before Spurious Dragon there is no EIP-155, so a legacy
/// transaction is signed without a chain id whatever its `chain_id` says (the bundled
/// executors do not check it there either).
fn as_signed_at(t: &Tx, fork: Fork) -> std::borrow::Cow<'_, Tx> {
    if t.tx_type == TxType::Legacy && t.chain_id.is_some() && !fork.at_least(Fork::SpuriousDragon) {
        std::borrow::Cow::Owned(Tx { chain_id: None, ..t.clone() })
    } else {
        std::borrow::Cow::Borrowed(t)
    }
}

/// The `v` a transaction of `t`'s type and chain id carries for a signature of y parity
/// `parity`: 27/28 for an unprotected legacy transaction, `chain_id * 2 + 35/36` for a
/// protected one (EIP-155), the y parity for the typed ones.
fn v_of(t: &Tx, parity: u64) -> u64 {
    match (t.tx_type, t.chain_id) {
        (TxType::Legacy, Some(chain)) => chain * 2 + 35 + parity,
        (TxType::Legacy, None) => 27 + parity,
        _ => parity,
    }
}

/// `(v, r, s)` of `t` signed with its `secret_key` for a block at `fork` (a legacy transaction
/// before Spurious Dragon without a chain id, as there was no EIP-155), else the
/// `signature` it carries, as it was made.
pub fn sign(t: &Tx, fork: Fork) -> Result<(u64, U256, U256), SignError> {
    let t = &*as_signed_at(t, fork);
    let Some(key) = t.secret_key else {
        let carried = t.signature.ok_or(SignError::NoKey)?;
        return Ok((v_of(t, u64::from(carried.y_parity)), carried.r, carried.s));
    };
    let key = k256::ecdsa::SigningKey::from_slice(key.as_slice()).map_err(|_| SignError::BadKey)?;
    let key_address = address_of(&key);
    if key_address != t.sender {
        return Err(SignError::WrongKey { key_address, sender: t.sender });
    }
    let hash = signing_hash(t)?;
    let (sig, recid) = key.sign_prehash_recoverable(hash.as_slice()).map_err(|_| SignError::BadKey)?;
    let bytes = sig.to_bytes();
    let (r, s) = (U256::from_be_slice(&bytes[..32]), U256::from_be_slice(&bytes[32..]));
    Ok((v_of(t, u64::from(recid.is_y_odd())), r, s))
}

/// The signature `wire` carries (`v`, `r`, `s`) for the imported `t`; `None` for a `v` its type
/// cannot have, or none at all (zero `r` and `s`: a transaction for the tool to sign).
pub fn signature_of(t: &Tx, wire: &T8nTx) -> Option<lockstep_executors::TxSignature> {
    let v = wire.v.to::<u64>();
    let parity = match (t.tx_type, v) {
        (TxType::Legacy, 27 | 28) => v - 27,
        (TxType::Legacy, v) if v >= 35 => (v - 35) % 2,
        (_, 0 | 1) => v,
        _ => return None,
    };
    let signed = !(wire.r.is_zero() && wire.s.is_zero());
    signed.then_some(lockstep_executors::TxSignature { y_parity: parity as u8, r: wire.r, s: wire.s })
}

/// The sender of an imported transaction: the address of its secret key, else the address its
/// signature (`v`, `r`, `s` of `wire`) recovers to; `None` when it has neither.
pub fn sender_of(t: &Tx, wire: &T8nTx) -> Option<Address> {
    if let Some(key) = t.secret_key {
        return k256::ecdsa::SigningKey::from_slice(key.as_slice()).ok().map(|k| address_of(&k));
    }
    let signature = signature_of(t, wire)?;
    // A legacy `v` of 27/28 is unprotected whatever `chainId` says.
    let v = wire.v.to::<u64>();
    let unsigned = match (t.tx_type, v) {
        (TxType::Legacy, 27 | 28) => Tx { chain_id: None, ..t.clone() },
        (TxType::Legacy, v) => Tx { chain_id: Some((v - 35) / 2), ..t.clone() },
        _ => t.clone(),
    };
    let hash = signing_hash(&unsigned).ok()?;
    alloy_primitives::Signature::new(signature.r, signature.s, signature.y_parity == 1)
        .recover_address_from_prehash(&hash)
        .ok()
}

/// `wire` with `t`'s signature for `fork` in place and no `secretKey`, so that no tool signs on
/// its own.
pub fn signed(t: &Tx, fork: Fork, mut wire: T8nTx) -> Result<T8nTx, SignError> {
    let (v, r, s) = sign(t, fork)?;
    if t.tx_type == TxType::Legacy {
        wire.protected = Some(v >= 35);
    }
    wire.v = U64::from(v);
    wire.r = r;
    wire.s = s;
    wire.secret_key = None;
    Ok(wire)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Signature, address, b256};

    const KEY: B256 = b256!("0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8");
    const SENDER: Address = address!("0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b");

    fn tx(tx_type: TxType, chain_id: Option<u64>) -> Tx {
        Tx {
            tx_type,
            sender: SENDER,
            to: Some(address!("0x1000000000000000000000000000000000000001")),
            gas_limit: 21_000,
            gas_price: 10,
            max_priority_fee_per_gas: (tx_type != TxType::Legacy).then_some(1),
            chain_id,
            secret_key: Some(KEY),
            ..Default::default()
        }
    }

    #[test]
    fn every_type_recovers_to_its_sender() {
        for (ty, chain) in [
            (TxType::Legacy, None),
            (TxType::Legacy, Some(1)),
            (TxType::Legacy, Some(5)),
            (TxType::Eip2930, Some(1)),
            (TxType::Eip1559, Some(7)),
            (TxType::Eip4844, Some(1)),
            (TxType::Eip7702, Some(1)),
        ] {
            let t = tx(ty, chain);
            let (v, r, s) = sign(&t, Fork::Prague).unwrap();
            let parity = match (ty, chain) {
                (TxType::Legacy, Some(c)) => v - 35 - 2 * c,
                (TxType::Legacy, None) => v - 27,
                _ => v,
            };
            assert!(parity <= 1, "{ty:?}: v {v}");
            let sig = Signature::new(r, s, parity == 1);
            let recovered = sig.recover_address_from_prehash(&signing_hash(&t).unwrap()).unwrap();
            assert_eq!(recovered, SENDER, "{ty:?} {chain:?}");
        }
    }

    #[test]
    fn known_eip155_signature() {
        // The execution spec's own signature of this transfer for chain 1 (its `body` output):
        // v 0x26, r 0xd0ca...
        let t = Tx { value: U256::from(1), ..tx(TxType::Legacy, Some(1)) };
        let (v, r, _) = sign(&t, Fork::Prague).unwrap();
        assert_eq!(v, 0x26);
        assert!(format!("{r:#x}").starts_with("0xd0ca"), "{r:#x}");
    }

    #[test]
    fn a_carried_signature_is_passed_on_and_recovers_to_the_sender() {
        for (ty, chain) in [(TxType::Legacy, Some(1)), (TxType::Legacy, None), (TxType::Eip1559, Some(1))] {
            let keyed = tx(ty, chain);
            let (v, r, s) = sign(&keyed, Fork::Prague).unwrap();
            let mut wire = crate::format::tx(&keyed, &Default::default());
            (wire.v, wire.r, wire.s) = (U64::from(v), r, s);
            let carried = Tx { secret_key: None, signature: signature_of(&keyed, &wire), ..keyed.clone() };
            assert_eq!(sign(&carried, Fork::Prague), Ok((v, r, s)), "{ty:?} {chain:?}");
            assert_eq!(sender_of(&carried, &wire), Some(SENDER));
        }
    }

    #[test]
    fn a_key_of_another_account_is_refused() {
        let mut t = tx(TxType::Legacy, Some(1));
        t.sender = Address::ZERO;
        assert!(matches!(sign(&t, Fork::Prague), Err(SignError::WrongKey { .. })));
        t.secret_key = None;
        assert_eq!(sign(&t, Fork::Prague), Err(SignError::NoKey));
        // Before EIP-155 a protected transaction is signed without its chain id.
        let t = tx(TxType::Legacy, Some(1));
        assert!(matches!(sign(&t, Fork::Homestead), Ok((27 | 28, _, _))));
    }
}
