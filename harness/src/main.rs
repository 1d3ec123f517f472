//! The `lockstep` binary: [`lockstep_harness::cli::main`] with the process-wide allocator
//! tuning; everything else lives in the `lockstep_harness` library.

mod allocator;

use std::process::ExitCode;

fn main() -> ExitCode {
    allocator::tune();
    lockstep_harness::cli::main()
}
