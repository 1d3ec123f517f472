//! The `lockstep` binary: parses the command line and hands it to [`cli`]; the jobs live in
//! the `lockstep_harness` library.

mod cli;

use clap::Parser;
use std::process::ExitCode;

// Block-STM allocates and frees across worker threads; mimalloc's per-thread heaps keep that
// from serializing the workers, where glibc's arenas serialize them. The reference runs on it
// too, so both are timed on the same allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
