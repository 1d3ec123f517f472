//! Cases lockstep does not run, each with its reason. No wider than revm's own runner's list:
//! these are the cases revm 43 itself cannot or does not run.

/// A fork name whose cases are skipped.
pub fn fork_reason(fork: &str) -> Option<&'static str> {
    match fork {
        "Constantinople" | "ByzantiumToConstantinopleAt5" => {
            Some("Constantinople with EIP-1283 was withdrawn before mainnet; revm implements only Petersburg")
        }
        _ => None,
    }
}

/// A fixture file whose cases are skipped.
pub fn file_reason(path: &str) -> Option<&'static str> {
    const COLLISION: &str = "CREATE into an address with storage but no code or nonce (EIP-7610 collision): revm keeps no storage-emptiness check";
    const SLOW: &str = "correct but minutes slow; revm's runner skips it too";
    if path.contains("paris/eip7610_create_collision") {
        return Some(COLLISION);
    }
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    Some(match name {
        "RevertInCreateInInit_Paris.json"
        | "RevertInCreateInInit.json"
        | "dynamicAccountOverwriteEmpty.json"
        | "dynamicAccountOverwriteEmpty_Paris.json"
        | "RevertInCreateInInitCreate2Paris.json"
        | "create2collisionStorage.json"
        | "RevertInCreateInInitCreate2.json"
        | "create2collisionStorageParis.json"
        | "InitCollision.json"
        | "InitCollisionParis.json"
        | "test_init_collision_create_opcode.json" => COLLISION,
        "ValueOverflow.json" | "ValueOverflowParis.json" => {
            "the transaction's value does not fit 256 bits: the fixture itself is not representable"
        }
        "Call50000_sha256.json" | "static_Call50000_sha256.json" | "loopMul.json" | "CALLBlake2f_MaxRounds.json" => {
            SLOW
        }
        _ => return None,
    })
}
