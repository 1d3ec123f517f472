//! lockstep's whole command line with this crate's executors registered beside the bundled
//! ones (see the library's documentation).

use custom_executor::{NaiveParallel, NoReturnData};
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    lockstep_harness::cli::main_with(vec![Arc::new(NaiveParallel), Arc::new(NoReturnData)])
}
