//! What differs between t8n tools: how they are invoked, their fork names, their block
//! reward switch, their rejection messages, and what their output carries.
//!
//! The presets follow each tool's own t8n front end: go-ethereum `evm t8n`, Besu
//! `evmtool t8n`, evmone `evmone-t8n`, nimbus `t8n`, `ethereumjs-t8ntool`, and the execution
//! spec's `ethereum-spec-evm t8n` (EELS). Only EELS (`ethereum-execution` 2.20.0 on PyPI) is
//! run by lockstep's tests; the others are written from their documented interfaces.

use lockstep_executors::{BlockInput, Capabilities, Fork, MAINNET_DEPOSIT_CONTRACT, RejectKind, block_reward};
use serde::{Deserialize, Serialize};

/// A known t8n tool family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// The execution specification, `ethereum-spec-evm t8n` (and its `daemon`).
    Eels,
    /// go-ethereum's `evm t8n`.
    Geth,
    /// Besu's `evmtool t8n`.
    Besu,
    /// evmone's `evmone-t8n`.
    Evmone,
    /// nimbus-eth1's `t8n`.
    Nimbus,
    /// `ethereumjs-t8ntool`.
    Ethereumjs,
}

impl Preset {
    /// Every preset, for listings.
    pub const ALL: [Preset; 6] =
        [Preset::Eels, Preset::Geth, Preset::Besu, Preset::Evmone, Preset::Nimbus, Preset::Ethereumjs];

    /// The arguments before the t8n flags (`t8n` for tools with subcommands).
    pub fn subcommand(self) -> &'static [&'static str] {
        match self {
            Preset::Eels | Preset::Geth | Preset::Besu => &["t8n"],
            Preset::Evmone | Preset::Nimbus | Preset::Ethereumjs => &[],
        }
    }

    /// The tool's name for `fork` (`--state.fork`).
    pub fn fork_name(self, fork: Fork) -> &'static str {
        match (self, fork) {
            (_, Fork::Frontier) => "Frontier",
            (_, Fork::Homestead) => "Homestead",
            (_, Fork::Tangerine) => "EIP150",
            (_, Fork::SpuriousDragon) => "EIP158",
            (_, Fork::Byzantium) => "Byzantium",
            (Preset::Eels | Preset::Geth | Preset::Evmone, Fork::Petersburg) => "ConstantinopleFix",
            (_, Fork::Petersburg) => "Petersburg",
            (_, Fork::Istanbul) => "Istanbul",
            (_, Fork::Berlin) => "Berlin",
            (_, Fork::London) => "London",
            (Preset::Eels | Preset::Geth, Fork::Merge) => "Merge",
            (_, Fork::Merge) => "Paris",
            (_, Fork::Shanghai) => "Shanghai",
            (_, Fork::Cancun) => "Cancun",
            (_, Fork::Prague) => "Prague",
            (_, Fork::Osaka) => "Osaka",
        }
    }

    /// `--state.reward` for `block`, in wei: the fork's block reward for a block with rules
    /// before the Merge, otherwise `-1`, none (`0` would still touch the beneficiary, which
    /// is a different state before EIP-161). The same for every tool: geth's default is 0,
    /// the execution spec's the fork's reward, so lockstep always says which.
    pub fn reward(self, block: &BlockInput) -> i64 {
        match (&block.rules, block_reward(block.fork)) {
            (Some(_), Some(wei)) => i64::try_from(wei).unwrap_or(i64::MAX),
            _ => -1,
        }
    }

    /// Why the tool cannot take `block`, when it is a limit of the tool or of the t8n files
    /// rather than a fault:
    /// - the files name no deposit contract: every tool assumes mainnet's (EIP-6110);
    /// - the execution spec takes EIP-2935's parent hash from `blockHashes`, not `parentHash`;
    /// - the execution spec refuses a pre-state with an empty account from the Merge on
    ///   (EIP-7523 says none exists there; its t8n raises `StateWithEmptyAccount`);
    /// - the execution spec's t8n (2.20.0) fails on ommers: its reward reads an ommer's
    ///   `number`, which its `env.json` reader does not keep (it keeps `delta`).
    pub fn declines(self, block: &BlockInput) -> Option<String> {
        let prague = block.fork.at_least(Fork::Prague);
        if let Some(rules) = &block.rules {
            if prague && rules.deposit_contract != MAINNET_DEPOSIT_CONTRACT {
                return Some(format!("t8n tools assume mainnet's deposit contract, not {}", rules.deposit_contract));
            }
            let number = block.env.number.saturating_to::<u64>();
            let listed = number.checked_sub(1).map(|n| block.env.block_hash(n));
            if self == Preset::Eels && prague && listed != Some(rules.parent_hash) {
                return Some("the execution spec takes the parent hash from blockHashes, which differs".into());
            }
            if self == Preset::Eels && !rules.ommers.is_empty() && block_reward(block.fork).is_some() {
                return Some(
                    "the execution spec's t8n fails on ommers (it reads an ommer number it does not keep)".into(),
                );
            }
        }
        if self != Preset::Eels || !block.fork.at_least(Fork::Merge) {
            return None;
        }
        let (address, _) = block.pre_state.iter().find(|(_, a)| a.is_empty())?;
        Some(format!(
            "the execution spec refuses an empty account in a pre-state from the Merge on (EIP-7523): {address}"
        ))
    }

    /// What the tool's output carries. No t8n receipt has return data or a created address,
    /// and a post-Byzantium receipt's status tells success from failure only.
    pub fn capabilities(self) -> Capabilities {
        Capabilities {
            return_data: false,
            created_address: false,
            revert_vs_halt: false,
            reject_kind: true,
            stats: false,
            schedule_hook: false,
            deadline: false,
        }
    }

    /// The rejection kind for the tool's error text; text it cannot map is kept as
    /// [`RejectKind::Other`].
    pub fn reject_kind(self, text: &str) -> RejectKind {
        let t = text.to_ascii_lowercase();
        let has = |needle: &str| t.contains(needle);
        // Most specific first: "gas limit too high" must not read as intrinsic gas.
        if has("nonce too high") {
            RejectKind::NonceTooHigh
        } else if has("nonce too low") {
            RejectKind::NonceTooLow
        } else if has("nonce has max value") || has("nonce overflow") {
            RejectKind::NonceOverflow
        } else if has("gas limit too high") || has("transactiongaslimitexceeded") || has("exceeds maximum allowed gas")
        {
            RejectKind::GasLimitAboveCap
        } else if has("gas used exceeds limit") || has("gas limit reached") || has("exceeds block gas limit") {
            RejectKind::GasLimitAboveBlock
        } else if has("insufficient gas") || has("intrinsic gas too low") || has("floor data gas") {
            RejectKind::IntrinsicGas
        } else if has("insufficient sender balance") || has("insufficient funds") {
            RejectKind::InsufficientFunds
        } else if has("max fee per gas") && (has("insufficient") || has("less than block base fee")) {
            RejectKind::FeeCapBelowBaseFee
        } else if has("priority fee greater than max fee") || has("tip higher than fee cap") {
            RejectKind::PriorityFeeAboveFeeCap
        } else if has("not eoa") || has("sender not an eoa") {
            RejectKind::SenderHasCode
        } else if has("initcode") || has("init code") {
            RejectKind::InitCodeTooLarge
        } else if has("unknown transaction type") || (has("failed to parse transaction") && has("has no attribute")) {
            // The execution spec has no class for a type its fork does not know.
            RejectKind::TypeNotSupported
        } else if has("blob") {
            RejectKind::Blob
        } else if has("authorization") {
            RejectKind::Authorization
        } else if self == Preset::Eels && t.ends_with("invalidblock()") {
            // EELS raises a bare `InvalidBlock()` for a legacy gas price below the base fee.
            RejectKind::FeeCapBelowBaseFee
        } else {
            RejectKind::Other(text.to_string())
        }
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Preset::Eels => "eels",
            Preset::Geth => "geth",
            Preset::Besu => "besu",
            Preset::Evmone => "evmone",
            Preset::Nimbus => "nimbus",
            Preset::Ethereumjs => "ethereumjs",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eels_rejection_texts_map_to_kinds() {
        let cases = [
            ("Failed transaction: NonceMismatchError('nonce too high')", RejectKind::NonceTooHigh),
            ("Failed transaction: NonceMismatchError('nonce too low')", RejectKind::NonceTooLow),
            ("Failed transaction: InsufficientTransactionGasError('Insufficient gas')", RejectKind::IntrinsicGas),
            (
                "Failed transaction: InsufficientBalanceError('insufficient sender balance')",
                RejectKind::InsufficientFunds,
            ),
            ("Failed transaction: GasUsedExceedsLimitError('gas used exceeds limit')", RejectKind::GasLimitAboveBlock),
            (
                "Failed transaction: TransactionGasLimitExceededError('Gas limit too high')",
                RejectKind::GasLimitAboveCap,
            ),
            (
                "Failed transaction: InsufficientMaxFeePerGasError('Insufficient max fee per gas (5 < 7)')",
                RejectKind::FeeCapBelowBaseFee,
            ),
            (
                "Failed transaction: PriorityFeeGreaterThanMaxFeeError('priority fee greater than max fee')",
                RejectKind::PriorityFeeAboveFeeCap,
            ),
            ("Failed transaction: NoBlobDataError('no blob data in transaction')", RejectKind::Blob),
            ("Failed transaction: EmptyAuthorizationListError('empty authorization list')", RejectKind::Authorization),
            ("Failed transaction: InvalidSenderError('not EOA')", RejectKind::SenderHasCode),
            ("Failed transaction: InvalidBlock()", RejectKind::FeeCapBelowBaseFee),
            (
                "Failed to parse transaction 0: module 'ethereum.forks.frontier.transactions' has no attribute 'FeeMarketTransaction'",
                RejectKind::TypeNotSupported,
            ),
        ];
        for (text, kind) in cases {
            assert_eq!(Preset::Eels.reject_kind(text), kind, "{text}");
        }
        let odd = "Failed transaction: SomethingNew('x')";
        assert_eq!(Preset::Eels.reject_kind(odd), RejectKind::Other(odd.into()));
    }

    #[test]
    fn the_block_reward_is_passed_for_whole_blocks_before_the_merge_only() {
        let at = |fork, rules: Option<lockstep_executors::BlockRules>| {
            let block = BlockInput {
                fork,
                chain_id: 1,
                env: Default::default(),
                pre_state: Default::default(),
                txs: vec![],
                rules,
            };
            Preset::Geth.reward(&block)
        };
        let whole = || Some(Default::default());
        assert_eq!(at(Fork::Frontier, whole()), 5_000_000_000_000_000_000);
        assert_eq!(at(Fork::Byzantium, whole()), 3_000_000_000_000_000_000);
        assert_eq!(at(Fork::London, whole()), 2_000_000_000_000_000_000);
        assert_eq!(at(Fork::Merge, whole()), -1);
        assert_eq!(at(Fork::Frontier, None), -1);
    }

    #[test]
    fn fork_names_are_the_tools_own() {
        assert_eq!(Preset::Eels.fork_name(Fork::Tangerine), "EIP150");
        assert_eq!(Preset::Eels.fork_name(Fork::Petersburg), "ConstantinopleFix");
        assert_eq!(Preset::Eels.fork_name(Fork::Merge), "Merge");
        assert_eq!(Preset::Besu.fork_name(Fork::Merge), "Paris");
    }
}
