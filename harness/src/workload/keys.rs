//! Deterministic keys and addresses for generated blocks. Every generated address belongs to
//! a secret key derived from a tag, and the generator hands the keys of a block's addresses
//! out with the block ([`super::Generated::keys`]), so a case can be exported as signed
//! transactions (`evm t8n`, state tests) and run by other tools, in any process.

use alloy_primitives::{Address, B256, keccak256};
use k256::ecdsa::SigningKey;
use lockstep_executors::memo::Memo;

/// The block beneficiary: the address of `keccak256("lockstep/coinbase")` as a secret key.
pub const COINBASE: Address = alloy_primitives::address!("0xd8486A391972CF326352a7F14Ab52Bf92F072969");

/// [`derive`]'s memo (tag to key and address): deriving a public key costs tens of
/// microseconds, and a run derives the same few hundred addresses for every block.
static DERIVED: Memo<String, (Address, B256)> = Memo::new(1 << 16);

/// [`authority_key`]'s memo: a signing key holds its public key, as costly to derive.
static AUTHORITIES: Memo<String, SigningKey> = Memo::new(1 << 12);

/// The secret key of a tag: keccak256 of it, re-hashed in the (negligible) case it is not a
/// valid scalar.
fn secret(tag: &str) -> (B256, SigningKey) {
    let mut seed = keccak256(tag);
    loop {
        if let Ok(k) = SigningKey::from_slice(seed.as_slice()) {
            return (seed, k);
        }
        seed = keccak256(seed);
    }
}

pub fn address_of(k: &SigningKey) -> Address {
    let point = k.verifying_key().to_encoded_point(false);
    Address::from_raw_public_key(&point.as_bytes()[1..])
}

/// The address and secret key of `lockstep/{tag}`.
pub fn derive(tag: &str) -> (Address, B256) {
    DERIVED.get_or_insert_with(format!("lockstep/{tag}"), |tag| {
        let (s, k) = secret(tag);
        (address_of(&k), s)
    })
}

/// The i-th user of address space `space`: its address and secret key.
pub fn user(space: u64, i: u64) -> (Address, B256) {
    derive(&format!("user/{space}/{i}"))
}

/// The signing key of the i-th EIP-7702 authority of a space.
pub fn authority_key(space: u64, i: u64) -> SigningKey {
    AUTHORITIES.get_or_insert_with(format!("lockstep/authority/{space}/{i}"), |tag| secret(tag).1)
}

/// The coinbase's secret key.
pub fn coinbase_key() -> B256 {
    keccak256("lockstep/coinbase")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coinbase_is_the_address_of_its_key() {
        let k = SigningKey::from_slice(coinbase_key().as_slice()).unwrap();
        assert_eq!(address_of(&k), COINBASE);
    }

    #[test]
    fn derived_addresses_have_their_keys() {
        let (a, s) = user(3, 7);
        let k = SigningKey::from_slice(s.as_slice()).unwrap();
        assert_eq!(address_of(&k), a);
        assert_eq!(user(3, 7), (a, s));
    }
}
