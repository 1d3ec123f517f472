//! Translation between the model and revm 43: fork rules, block and transaction
//! environments, invalid-transaction kinds, execution results. Shared by every bundled
//! executor so that they cannot disagree on the translation itself.

use crate::executor::ExecError;
use crate::memo::Memo;
use crate::model::{self, BlockInput, Fork, RejectKind, Tx, TxOutcome, TxStatus};
use alloy_primitives::{Bytes, TxKind};
use revm::context::either::Either;
use revm::context::result::{EVMError, ExecutionResult, InvalidTransaction, Output};
use revm::context::{BlockEnv, CfgEnv, TxEnv};
use revm::context_interface::transaction::{
    AccessList, AccessListItem, Authorization, RecoveredAuthorization, SignedAuthorization,
};
use revm::primitives::hardfork::SpecId;
use revm::state::Bytecode;

pub fn spec_id(fork: Fork) -> SpecId {
    match fork {
        Fork::Frontier => SpecId::FRONTIER,
        Fork::Homestead => SpecId::HOMESTEAD,
        Fork::Tangerine => SpecId::TANGERINE,
        Fork::SpuriousDragon => SpecId::SPURIOUS_DRAGON,
        Fork::Byzantium => SpecId::BYZANTIUM,
        Fork::Petersburg => SpecId::PETERSBURG,
        Fork::Istanbul => SpecId::ISTANBUL,
        Fork::Berlin => SpecId::BERLIN,
        Fork::London => SpecId::LONDON,
        Fork::Merge => SpecId::MERGE,
        Fork::Shanghai => SpecId::SHANGHAI,
        Fork::Cancun => SpecId::CANCUN,
        Fork::Prague => SpecId::PRAGUE,
        Fork::Osaka => SpecId::OSAKA,
    }
}

pub fn cfg_env(block: &BlockInput) -> CfgEnv {
    let mut cfg = CfgEnv::default();
    cfg.chain_id = block.chain_id;
    cfg.set_spec_and_mainnet_gas_params(spec_id(block.fork));
    // EIP-7691 raised the per-block blob count in Prague and EIP-7594 capped a transaction at
    // six again in Osaka; revm's default cap does not follow the fork by itself.
    cfg.set_max_blobs_per_tx(if block.fork == Fork::Prague { 9 } else { 6 });
    cfg.memory_limit = MAX_MEMORY_BYTES;
    cfg
}

/// The most EVM memory, in bytes, one transaction may hold across all its call frames
/// (revm's shared memory buffer); an expansion past it halts the frame out of gas, as if the
/// gas had run out.
///
/// Gas alone bounds memory only loosely: under a gas limit of 2^63 an `MSTORE` at offset 2^36
/// is affordable and asks for 64 GiB at once, which a single opcode cannot be interrupted in.
/// Memory costs at least 3 gas a 32-byte word (Yellow Paper, `C_mem`), so a block under 2^25
/// gas cannot pass about 360 MiB in all its frames together, and the densest official fixture
/// (`static_Call1MB1024Calldepth`) stays near 0.5 GiB: 4 GiB changes no result a real block
/// can reach.
pub const MAX_MEMORY_BYTES: u64 = (1 << 32) - 1;

/// The largest excess blob gas the bundled executors accept, in units of the fork's
/// `BLOB_BASE_FEE_UPDATE_FRACTION` (EIP-4844; 3,338,477 in Cancun, 5,007,716 from Prague on).
///
/// The blob base fee is about `e^(excess / fraction)` wei per blob gas, and EIP-4844's
/// `fake_exponential` computes it by a Taylor series with as many terms as the exponent is
/// large: an excess of 2^48 takes seconds, 2^64 ages. At 50 the fee is about 5·10^21 wei per blob
/// gas: a single blob (2^17 blob gas) would cost more ether than exists, many orders of
/// magnitude above any fee a real chain has charged. revm's `u128` arithmetic stays exact up to
/// about 56.
pub const MAX_BLOB_FEE_EXPONENT: u64 = 50;

/// revm's block environment for `block` under `cfg`.
///
/// # Errors
///
/// [`ExecError::InvalidBlock`] for an excess blob gas above [`MAX_BLOB_FEE_EXPONENT`] times the
/// fork's update fraction.
pub fn block_env(block: &BlockInput, cfg: &CfgEnv) -> Result<BlockEnv, ExecError> {
    let env = &block.env;
    let mut out = BlockEnv {
        number: env.number,
        beneficiary: env.coinbase,
        timestamp: env.timestamp,
        gas_limit: env.gas_limit,
        basefee: env.base_fee.unwrap_or_default(),
        difficulty: env.difficulty,
        prevrandao: env.prevrandao,
        ..Default::default()
    };
    if let Some(excess) = env.excess_blob_gas {
        let fraction = cfg.blob_base_fee_update_fraction();
        let max = MAX_BLOB_FEE_EXPONENT.saturating_mul(fraction);
        if excess > max {
            return Err(ExecError::InvalidBlock(format!(
                "excess blob gas {excess} is above the maximum {max} ({MAX_BLOB_FEE_EXPONENT} times the \
                 blob base fee update fraction {fraction}: a blob base fee of e^{MAX_BLOB_FEE_EXPONENT} wei per blob gas)"
            )));
        }
        out.set_blob_excess_gas_and_price(excess, fraction);
    }
    Ok(out)
}

/// An authorization with its authority recovered as revm would (alloy's recovery, which
/// also rejects a high `s`), memoized: Block-STM builds a transaction's environment for every
/// incarnation, and an ECDSA recovery costs more than most generated transactions' execution.
fn recovered(a: &crate::Authorization) -> RecoveredAuthorization {
    static MEMO: Memo<crate::Authorization, RecoveredAuthorization> = Memo::new(1 << 16);
    MEMO.get_or_insert_with(a.clone(), |a| {
        SignedAuthorization::new_unchecked(
            Authorization { chain_id: a.chain_id, address: a.address, nonce: a.nonce },
            a.y_parity,
            a.r,
            a.s,
        )
        .into_recovered()
    })
}

pub fn tx_env(tx: &Tx) -> TxEnv {
    TxEnv {
        tx_type: tx.tx_type.id(),
        caller: tx.sender,
        gas_limit: tx.gas_limit,
        gas_price: tx.gas_price,
        kind: match tx.to {
            Some(to) => TxKind::Call(to),
            None => TxKind::Create,
        },
        value: tx.value,
        data: tx.input.clone(),
        nonce: tx.nonce,
        chain_id: tx.chain_id,
        access_list: AccessList(
            tx.access_list
                .iter()
                .map(|i| AccessListItem { address: i.address, storage_keys: i.storage_keys.clone() })
                .collect(),
        ),
        gas_priority_fee: tx.max_priority_fee_per_gas,
        blob_hashes: tx.blob_hashes.clone(),
        max_fee_per_blob_gas: tx.max_fee_per_blob_gas.unwrap_or_default(),
        authorization_list: tx.authorization_list.iter().map(|a| Either::Right(recovered(a))).collect(),
    }
}

/// revm's bytecode for code as stored in the state (legacy, or an EIP-7702 delegation).
pub fn bytecode(code: &Bytes) -> Bytecode {
    if code.is_empty() {
        return Bytecode::default();
    }
    Bytecode::new_raw_checked(code.clone()).unwrap_or_else(|_| Bytecode::new_legacy(code.clone()))
}

pub fn reject_kind(e: &InvalidTransaction) -> RejectKind {
    use InvalidTransaction as I;
    match e {
        I::NonceTooLow { .. } => RejectKind::NonceTooLow,
        I::NonceTooHigh { .. } => RejectKind::NonceTooHigh,
        I::NonceOverflowInTransaction => RejectKind::NonceOverflow,
        I::LackOfFundForMaxFee { .. } => RejectKind::InsufficientFunds,
        I::CallGasCostMoreThanGasLimit { .. } | I::GasFloorMoreThanGasLimit { .. } => RejectKind::IntrinsicGas,
        I::CallerGasLimitMoreThanBlock => RejectKind::GasLimitAboveBlock,
        I::TxGasLimitGreaterThanCap { .. } => RejectKind::GasLimitAboveCap,
        I::GasPriceLessThanBasefee => RejectKind::FeeCapBelowBaseFee,
        I::PriorityFeeGreaterThanMaxFee => RejectKind::PriorityFeeAboveFeeCap,
        I::RejectCallerWithCode => RejectKind::SenderHasCode,
        I::CreateInitCodeSizeLimit => RejectKind::InitCodeTooLarge,
        I::InvalidChainId | I::MissingChainId => RejectKind::ChainIdMismatch,
        I::OverflowPaymentInTransaction => RejectKind::Overflow,
        I::AccessListNotSupported
        | I::MaxFeePerBlobGasNotSupported
        | I::BlobVersionedHashesNotSupported
        | I::AuthorizationListNotSupported
        | I::Eip2930NotSupported
        | I::Eip1559NotSupported
        | I::Eip4844NotSupported
        | I::Eip7702NotSupported
        | I::Eip7873NotSupported
        | I::Eip7873MissingTarget => RejectKind::TypeNotSupported,
        I::BlobGasPriceGreaterThanMax { .. }
        | I::EmptyBlobs
        | I::BlobCreateTransaction
        | I::TooManyBlobs { .. }
        | I::BlobVersionNotSupported => RejectKind::Blob,
        I::AuthorizationListInvalidFields | I::EmptyAuthorizationList => RejectKind::Authorization,
        I::Str(s) => RejectKind::Other(s.to_string()),
    }
}

/// The outcome of one transaction, or the block-level error that stops the block.
pub fn outcome<E: std::fmt::Display>(
    result: Result<ExecutionResult, EVMError<E, InvalidTransaction>>,
) -> Result<TxOutcome, ExecError> {
    match result {
        Ok(r) => Ok(executed(r)),
        Err(EVMError::Transaction(e)) => Ok(TxOutcome::Rejected { kind: reject_kind(&e) }),
        Err(EVMError::Header(e)) => Err(ExecError::InvalidBlock(e.to_string())),
        Err(e) => Err(ExecError::Internal(e.to_string())),
    }
}

fn executed(r: ExecutionResult) -> TxOutcome {
    let gas_used = r.tx_gas_used();
    match r {
        ExecutionResult::Success { logs, output, .. } => {
            let (output, created_address) = match output {
                Output::Call(b) => (b, None),
                Output::Create(b, addr) => (b, addr),
            };
            TxOutcome::Executed { status: TxStatus::Success, gas_used, logs, output, created_address }
        }
        ExecutionResult::Revert { logs, output, .. } => {
            TxOutcome::Executed { status: TxStatus::Revert, gas_used, logs, output, created_address: None }
        }
        ExecutionResult::Halt { logs, .. } => {
            TxOutcome::Executed { status: TxStatus::Halt, gas_used, logs, output: Bytes::new(), created_address: None }
        }
    }
}

/// Applies one transaction's revm state diff to a model state, the way a client commits it:
/// untouched accounts are unchanged; self-destructed ones vanish with their storage; created
/// ones start from empty storage; touched empty ones are cleared (EIP-161; revm's journal
/// already spares them before Spurious Dragon).
pub fn apply_diff(
    state: &mut model::State,
    diff: impl IntoIterator<Item = (alloy_primitives::Address, revm::state::Account)>,
) {
    for (address, account) in diff {
        if !account.is_touched() {
            continue;
        }
        if account.is_selfdestructed() {
            state.remove(&address);
            continue;
        }
        let created = account.is_created();
        if !created && account.is_empty() {
            state.remove(&address);
            continue;
        }
        let entry = state.entry(address).or_default();
        if created {
            entry.storage.clear();
        }
        entry.balance = account.info.balance;
        entry.nonce = account.info.nonce;
        if let Some(code) = &account.info.code {
            entry.code = code.original_bytes();
        }
        for (slot, value) in account.storage {
            if !created && !value.is_changed() {
                continue;
            }
            if value.present_value.is_zero() {
                entry.storage.remove(&slot);
            } else {
                entry.storage.insert(slot, value.present_value);
            }
        }
    }
}
