//! Deterministic addresses and keys for generated blocks.

use alloy_primitives::{Address, keccak256};
use k256::ecdsa::SigningKey;

/// An address derived from a tag: unrelated to any key, so nobody can send from it.
pub fn derived(tag: &str) -> Address {
    Address::from_slice(&keccak256(format!("lockstep/{tag}"))[12..])
}

/// The i-th user of address space `space`.
pub fn user(space: u64, i: u64) -> Address {
    derived(&format!("user/{space}/{i}"))
}

/// The signing key of the i-th EIP-7702 authority of a space (their authorizations must be
/// signed for real: the executor recovers the signer).
pub fn authority_key(space: u64, i: u64) -> SigningKey {
    let mut seed = keccak256(format!("lockstep/authority/{space}/{i}"));
    loop {
        if let Ok(k) = SigningKey::from_slice(seed.as_slice()) {
            return k;
        }
        seed = keccak256(seed);
    }
}

pub fn address_of(k: &SigningKey) -> Address {
    let point = k.verifying_key().to_encoded_point(false);
    Address::from_raw_public_key(&point.as_bytes()[1..])
}
