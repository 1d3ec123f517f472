//! `lockstep fuzz`: what the cargo-fuzz targets in `fuzz/` start from.

use super::args::after_help;
use crate::{Error, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(after_help = after_help!(
    "  lockstep fuzz corpus                  seeds, corpora and dictionary into ./fuzz\n  lockstep fuzz corpus --out my-fuzz --max-seeds 64"
))]
pub struct FuzzArgs {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Subcommand, Debug)]
pub enum Action {
    /// Build `seeds.json` (packed official state tests), `corpus/TARGET/` (seed inputs of every
    /// target) and `lockstep.dict` (a libFuzzer dictionary) from the fixtures and the workload
    /// families. Existing inputs are kept.
    Corpus {
        /// The fuzz package's directory, where the targets run.
        #[arg(long, value_name = "DIR", default_value = "fuzz")]
        out: PathBuf,
        /// Fixtures directory (else LOCKSTEP_FIXTURES, else ../shared/fixtures).
        #[arg(long, value_name = "DIR")]
        fixtures: Option<PathBuf>,
        /// At most this many seeds, taken evenly over the fixture files.
        #[arg(long, value_name = "N", default_value_t = 256)]
        max_seeds: usize,
    },
}

pub fn run(a: FuzzArgs) -> Result<ExitCode> {
    match a.action {
        Action::Corpus { out, fixtures, max_seeds } => {
            let fixtures = lockstep_conformance::fixtures_dir(fixtures)
                .ok_or_else(|| Error::Usage("no fixtures directory: give --fixtures DIR".into()))?;
            let built = crate::fuzz::corpus::build(&fixtures, &out, max_seeds)?;
            println!(
                "{}: {} seeds in seeds.json, {} dictionary entries in lockstep.dict",
                out.display(),
                built.seeds,
                built.dictionary
            );
            for (target, n) in &built.inputs {
                println!("  corpus/{target}: {n} inputs");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
