//! The `lockstep` binary: parses the command line and hands it to [`cli`]; the jobs live in
//! the `lockstep_harness` library.

mod allocator;
mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    allocator::tune();
    let cli = cli::Cli::parse();
    let loaded = lockstep_harness::registry::load(cli.executors_file.as_deref());
    let result = loaded.and_then(|()| cli::dispatch(cli.command));
    lockstep_harness::registry::shutdown();
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
