//! Ethereum hard forks.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Ethereum hard forks from Frontier to Osaka, with the rules revm implements for each.
///
/// Constantinople (the first, withdrawn one with EIP-1283) is absent: no client runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Fork {
    /// The launch rules of 2015.
    Frontier,
    /// EIP-606: EIP-2 (creation cost, signature `s` bound), EIP-7 (DELEGATECALL), EIP-8.
    Homestead,
    /// EIP-150, "Tangerine Whistle".
    Tangerine,
    /// EIP-158/161, "Spurious Dragon": empty accounts are cleared.
    SpuriousDragon,
    /// EIP-609: REVERT, RETURNDATA, STATICCALL, the receipt status (EIP-658).
    Byzantium,
    /// Constantinople without EIP-1283 ("ConstantinopleFix").
    Petersburg,
    /// EIP-1679: CHAINID (EIP-1344), SSTORE net gas metering (EIP-2200), cheaper calldata
    /// (EIP-2028).
    Istanbul,
    /// EIP-2929 cold and warm access costs, EIP-2718 typed transactions, EIP-2930 access lists.
    Berlin,
    /// EIP-1559 base fee and fee market, smaller refunds (EIP-3529).
    London,
    /// Paris, the Merge: PREVRANDAO replaces DIFFICULTY.
    Merge,
    /// PUSH0 (EIP-3855), the init code limit (EIP-3860), a warm beneficiary (EIP-3651).
    Shanghai,
    /// EIP-4844 blob transactions, transient storage (EIP-1153), MCOPY (EIP-5656), SELFDESTRUCT
    /// limited to new contracts (EIP-6780).
    Cancun,
    /// EIP-7702 set-code transactions, the EIP-7623 calldata floor, BLS12-381 precompiles
    /// (EIP-2537), nine blobs a block (EIP-7691).
    Prague,
    /// The EIP-7825 per-transaction gas cap, six blobs a transaction (EIP-7594), CLZ (EIP-7939).
    Osaka,
}

impl Fork {
    /// Every fork, oldest first (the order of `Ord`, which [`Fork::at_least`] relies on).
    pub const ALL: [Fork; 14] = [
        Fork::Frontier,
        Fork::Homestead,
        Fork::Tangerine,
        Fork::SpuriousDragon,
        Fork::Byzantium,
        Fork::Petersburg,
        Fork::Istanbul,
        Fork::Berlin,
        Fork::London,
        Fork::Merge,
        Fork::Shanghai,
        Fork::Cancun,
        Fork::Prague,
        Fork::Osaka,
    ];

    /// Whether `self` includes the rules of `other`.
    pub fn at_least(self, other: Fork) -> bool {
        self >= other
    }

    /// Parses our names and the names official fixtures use (`EIP150`, `EIP158`,
    /// `ConstantinopleFix`, `Paris`, and the `XToYAt5` transition names, which state tests
    /// run at block 1 and so under the earlier fork's successor as revm does).
    pub fn from_name(name: &str) -> Option<Fork> {
        Some(match name {
            "Frontier" => Fork::Frontier,
            "Homestead" | "FrontierToHomesteadAt5" => Fork::Homestead,
            "Tangerine" | "TangerineWhistle" | "EIP150" | "HomesteadToEIP150At5" | "HomesteadToDaoAt5" => {
                Fork::Tangerine
            }
            "SpuriousDragon" | "EIP158" => Fork::SpuriousDragon,
            "Byzantium" | "EIP158ToByzantiumAt5" => Fork::Byzantium,
            "Petersburg" | "ConstantinopleFix" | "ByzantiumToConstantinopleFixAt5" => Fork::Petersburg,
            "Istanbul" => Fork::Istanbul,
            "Berlin" => Fork::Berlin,
            "London" | "BerlinToLondonAt5" => Fork::London,
            "Merge" | "Paris" => Fork::Merge,
            "Shanghai" => Fork::Shanghai,
            "Cancun" => Fork::Cancun,
            "Prague" => Fork::Prague,
            "Osaka" => Fork::Osaka,
            _ => return None,
        })
    }
}

impl Fork {
    /// The name official fixtures (and revm's runner) use for this fork.
    pub fn fixture_name(self) -> &'static str {
        match self {
            Fork::Frontier => "Frontier",
            Fork::Homestead => "Homestead",
            Fork::Tangerine => "EIP150",
            Fork::SpuriousDragon => "EIP158",
            Fork::Byzantium => "Byzantium",
            Fork::Petersburg => "ConstantinopleFix",
            Fork::Istanbul => "Istanbul",
            Fork::Berlin => "Berlin",
            Fork::London => "London",
            Fork::Merge => "Paris",
            Fork::Shanghai => "Shanghai",
            Fork::Cancun => "Cancun",
            Fork::Prague => "Prague",
            Fork::Osaka => "Osaka",
        }
    }
}

impl fmt::Display for Fork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
