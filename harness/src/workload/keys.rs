//! Deterministic keys and addresses for generated blocks. Every generated address belongs to
//! a secret key derived from a tag, so a minimized case can be exported as signed
//! transactions (`evm t8n`, state tests) and run by other tools.

use alloy_primitives::{Address, B256, keccak256};
use k256::ecdsa::SigningKey;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The block beneficiary: the address of `keccak256("lockstep/coinbase")` as a secret key.
pub const COINBASE: Address = alloy_primitives::address!("0xd8486A391972CF326352a7F14Ab52Bf92F072969");

fn registry() -> &'static Mutex<HashMap<Address, B256>> {
    static R: OnceLock<Mutex<HashMap<Address, B256>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(HashMap::new()))
}

fn tags() -> &'static Mutex<HashMap<String, Address>> {
    static T: OnceLock<Mutex<HashMap<String, Address>>> = OnceLock::new();
    T.get_or_init(|| Mutex::new(HashMap::new()))
}

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

/// The address of a tag's key (cached; the key is registered for export).
pub fn derived(tag: &str) -> Address {
    let tag = format!("lockstep/{tag}");
    if let Some(a) = tags().lock().unwrap_or_else(|p| p.into_inner()).get(&tag) {
        return *a;
    }
    let (s, k) = secret(&tag);
    let a = address_of(&k);
    registry().lock().unwrap_or_else(|p| p.into_inner()).insert(a, s);
    tags().lock().unwrap_or_else(|p| p.into_inner()).insert(tag, a);
    a
}

/// The i-th user of address space `space`.
pub fn user(space: u64, i: u64) -> Address {
    derived(&format!("user/{space}/{i}"))
}

/// The signing key of the i-th EIP-7702 authority of a space.
pub fn authority_key(space: u64, i: u64) -> SigningKey {
    let tag = format!("lockstep/authority/{space}/{i}");
    let (s, k) = secret(&tag);
    registry().lock().unwrap_or_else(|p| p.into_inner()).insert(address_of(&k), s);
    k
}

/// The secret key behind a generated address, if lockstep made it.
pub fn secret_of(a: &Address) -> Option<B256> {
    if *a == COINBASE {
        return Some(keccak256("lockstep/coinbase"));
    }
    registry().lock().unwrap_or_else(|p| p.into_inner()).get(a).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coinbase_is_the_address_of_its_key() {
        let k = SigningKey::from_slice(secret_of(&COINBASE).unwrap().as_slice()).unwrap();
        assert_eq!(address_of(&k), COINBASE);
    }

    #[test]
    fn derived_addresses_have_their_keys() {
        let a = user(3, 7);
        let k = SigningKey::from_slice(secret_of(&a).unwrap().as_slice()).unwrap();
        assert_eq!(address_of(&k), a);
        assert_eq!(user(3, 7), a);
    }
}
