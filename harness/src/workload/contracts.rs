//! The compiled workload contracts (`harness/contracts/Workloads.sol`, built by
//! `just contracts` with a pinned solc-js) and what generators need to seed their state.

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The Solidity source of every workload contract.
pub const SOURCE: &str = include_str!("../../contracts/Workloads.sol");
const BUILT: &str = include_str!("../../contracts/workloads.json");

/// `harness/contracts/workloads.json`: the compiler's output for [`SOURCE`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Built {
    /// The solc version that compiled it (`0.8.30+commit...`).
    pub compiler: String,
    /// keccak256 of the compiled source; a test checks it against [`SOURCE`].
    pub source_keccak: B256,
    /// Contract name to its bytecode and selectors.
    pub contracts: BTreeMap<String, Compiled>,
}

/// One compiled contract.
#[derive(Deserialize)]
pub struct Compiled {
    /// Init code: deploys `runtime`.
    pub creation: Bytes,
    /// The deployed code generators put in the pre-state.
    pub runtime: Bytes,
    /// ABI signature (`transfer(address,uint256)`) to its 4-byte selector, as hex without `0x`.
    pub methods: BTreeMap<String, String>,
}

/// The committed build, parsed once.
///
/// Panics when `workloads.json` does not parse (a test checks it does).
pub fn built() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| serde_json::from_str(BUILT).expect("workloads.json is valid (a test checks it)"))
}

fn contract(name: &str) -> &'static Compiled {
    built().contracts.get(name).unwrap_or_else(|| panic!("contract {name} is compiled"))
}

/// The deployed code of contract `name`.
///
/// Panics when no contract of that name is compiled.
pub fn runtime(name: &str) -> Bytes {
    contract(name).runtime.clone()
}

/// The init code of contract `name`.
///
/// Panics when no contract of that name is compiled.
pub fn creation(name: &str) -> Bytes {
    contract(name).creation.clone()
}

/// Calldata: the 4-byte selector of `signature` followed by 32-byte words (the ABI encoding
/// of static arguments).
///
/// Panics when contract `name` or its method `signature` is not compiled.
pub fn call(name: &str, signature: &str, words: &[U256]) -> Bytes {
    let sel = contract(name).methods.get(signature).unwrap_or_else(|| panic!("{name}.{signature} exists"));
    let mut out = alloy_primitives::hex::decode(sel).expect("selector is hex");
    for w in words {
        out.extend_from_slice(&w.to_be_bytes::<32>());
    }
    out.into()
}

/// `a` as an ABI word: left-padded with zeros to 32 bytes.
pub fn word(a: Address) -> U256 {
    U256::from_be_slice(a.as_slice())
}

/// The storage slot of `mapping[key]` for a mapping declared at `slot`: Solidity's layout,
/// `keccak256(key . slot)` of the two 32-byte words.
pub fn mapping_slot(key: U256, slot: u64) -> U256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(&key.to_be_bytes::<32>());
    buf[32..].copy_from_slice(&U256::from(slot).to_be_bytes::<32>());
    U256::from_be_bytes(keccak256(buf).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_bytecode_matches_its_source() {
        assert_eq!(
            keccak256(SOURCE.as_bytes()),
            built().source_keccak,
            "Workloads.sol changed since workloads.json was built: run `just contracts`"
        );
        assert!(built().compiler.starts_with("0.8.30"), "{}", built().compiler);
        for name in ["Token", "Pool", "Nft", "Counter", "CoinbaseReader", "Branchy", "Phoenix", "Factory"] {
            assert!(!runtime(name).is_empty(), "{name}");
        }
    }

    #[test]
    fn selectors_are_the_keccak_of_the_signature() {
        let data = call("Token", "transfer(address,uint256)", &[]);
        assert_eq!(&data[..], &keccak256("transfer(address,uint256)")[..4]);
    }
}
