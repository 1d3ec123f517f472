//! lockstep's harness: the differential engine, the state-test runner, and the pieces the
//! `lockstep` binary is made of.

pub mod bench;
pub mod bundle;
pub mod diff;
pub mod engine;
pub mod explore;
pub mod fuzz;
pub mod guard;
pub mod minimize;
pub mod progress;
pub mod schedule;
pub mod statetest;
pub mod stress;
pub mod workload;

pub use diff::{Divergence, compare};
