//! Signed EIP-7702 authorization tuples for generated blocks.

use alloy_primitives::{Address, B256, U256, keccak256};
use lockstep_executors::Authorization;
use lockstep_executors::memo::Memo;

/// The EIP-7702 signing hash: keccak256(0x05 || rlp([chain_id, address, nonce])).
fn authorization_hash(chain_id: u64, delegate: Address, nonce: u64) -> B256 {
    use alloy_rlp::Encodable;
    let mut payload = Vec::new();
    U256::from(chain_id).encode(&mut payload);
    delegate.encode(&mut payload);
    nonce.encode(&mut payload);
    let mut out = vec![0x05];
    alloy_rlp::Header { list: true, payload_length: payload.len() }.encode(&mut out);
    out.extend_from_slice(&payload);
    keccak256(&out)
}

/// An authorization by `key` (chain id 1) delegating to `delegate` at the authority's `nonce`, signed as
/// EIP-7702 specifies.
///
/// Memoized: RFC 6979 signatures are deterministic, and the family signs the same few
/// (authority, delegate, nonce) triples in block after block.
pub fn authorize(key: &k256::ecdsa::SigningKey, delegate: Address, nonce: u64) -> Authorization {
    static SIGNED: Memo<(B256, Address, u64), Authorization> = Memo::new(1 << 16);
    SIGNED.get_or_insert_with((B256::from_slice(&key.to_bytes()), delegate, nonce), |_| sign(key, delegate, nonce))
}

fn sign(key: &k256::ecdsa::SigningKey, delegate: Address, nonce: u64) -> Authorization {
    let hash = authorization_hash(1, delegate, nonce);
    let (sig, recid) = key.sign_prehash_recoverable(hash.as_slice()).expect("signing a 32-byte hash");
    Authorization {
        chain_id: U256::from(1),
        address: delegate,
        nonce,
        y_parity: recid.to_byte(),
        r: U256::from_be_slice(&sig.r().to_bytes()),
        s: U256::from_be_slice(&sig.s().to_bytes()),
    }
}
