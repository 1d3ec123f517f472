//! lockstep-t8n: any `evm t8n` tool as a lockstep [`Executor`](lockstep_executors::Executor).
//!
//! execution-spec-tests drives every client's state transition through the same contract:
//! `alloc.json`, `env.json` and `txs.json` in; `result` (state root, receipts, rejections) and
//! the post-`alloc` out ([`format`], [`output`]). This crate speaks it: it writes a lockstep
//! block as t8n input with every transaction signed ([`sign`]), runs the tool as a fresh
//! process ([`process`]) or through a pool of daemons ([`daemon`]) under the run's deadline,
//! and reads the answer back as a `BlockOutput`, the tool's differences handled by its
//! [`tool::Preset`]. A tool that crashes, hangs, answers garbage or for the wrong transactions
//! is an `ExecError::Tool` (or `Deadline`): a finding, never a crash of lockstep.
#![warn(missing_docs)]

pub mod daemon;
pub mod executor;
pub mod format;
pub mod output;
pub mod process;
pub mod sign;
pub mod tool;
pub mod transport;

pub use executor::T8nExecutor;
pub use tool::Preset;
