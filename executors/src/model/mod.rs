//! The block model every executor speaks: plain data on alloy-primitives types, serde-ready,
//! with no revm type in sight, so an executor built on another revm version (or none) plugs in.
//!
//! Units: balances, values and fee fields are wei; gas fields are gas units.

mod block;
mod fork;
mod output;
mod rules;
mod tx;

pub use block::{Account, BLOCKHASH_WINDOW, BlockEnv, BlockInput, State};
pub use fork::Fork;
pub use output::{BlockOutput, BlockResults, ExecStats, RejectKind, TxOutcome, TxStatus};
pub use rules::*;
pub use tx::{AccessListItem, Authorization, Tx, TxIndex, TxSignature, TxType};
