//! The `lockstep` binary: parses the command line and hands it to [`cli`]; the jobs live in
//! the `lockstep_harness` library.

mod allocator;
mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    allocator::tune();
    let cli = cli::Cli::parse();
    match cli::dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
