//! lockstep's harness, the library the `lockstep` binary is a thin layer over. Data flows one
//! way, one folder a stage:
//!
//! - [`workload`]: seeded generators of conflicting blocks (`BlockInput`s);
//! - [`check`]: running an executor in isolation (panics, errors and hangs become
//!   [`Divergence`]s) and comparing its `BlockOutput` with the reference's;
//! - [`schedule`]: controlled interleavings (the [`ScheduleHook`](lockstep_executors::hook::ScheduleHook)
//!   controller, delay injection, schedule shrinking);
//! - [`repro`]: divergences as replayable bundles, their exports (`evm t8n` files, state
//!   tests), replay and minimization;
//! - [`jobs`]: the jobs the command line runs (`run`, `statetest`, `explore`, `stress`,
//!   `bench`), each an `Options` in and a report out;
//! - [`fuzz`]: the bodies of the cargo-fuzz targets.

#![warn(missing_docs)]

pub mod check;
pub mod cli;
pub mod defaults;
pub mod error;
pub mod fuzz;
pub mod interrupt;
pub mod jobs;
pub mod progress;
pub mod registry;
pub mod report;
pub mod repro;
pub mod schedule;
pub mod workload;

pub use check::{Divergence, compare};
pub use error::{Error, Result};
