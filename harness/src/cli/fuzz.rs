//! `lockstep fuzz`: what the cargo-fuzz targets in `fuzz/` start from.

use super::args::after_help;
use crate::fuzz::{Target, throughput};
use crate::{Error, Result};
use clap::{Args, Subcommand};
use lockstep_executors::Sequential;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args, Debug)]
#[command(after_help = after_help!(
    "  lockstep fuzz corpus                  seeds, corpora and dictionary into ./fuzz\n  lockstep fuzz corpus --out my-fuzz --max-seeds 64\n  lockstep fuzz bench --txs 16 --inputs 2000   inputs/s of the differential target's body"
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
    /// The `differential` target's body on generated blocks of one size, without libFuzzer:
    /// inputs a second and where an input's time goes (generation, reference, candidate,
    /// check). The inputs come from `--seed`, so two builds compare on the same ones.
    Bench {
        /// Transactions per block.
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u8).range(1..=64))]
        txs: u8,
        /// Inputs to run.
        #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
        inputs: u64,
        /// Seed of the inputs.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The candidate (a bundled executor).
        #[arg(long, short = 'e', value_name = "NAME", default_value = "block-stm")]
        executor: String,
        /// Where a divergence's bundle goes.
        #[arg(long, value_name = "DIR", default_value = "lockstep-out/fuzz-bench")]
        out: PathBuf,
        /// Also write the inputs into DIR, one file each, as a libFuzzer corpus.
        #[arg(long, value_name = "DIR")]
        corpus: Option<PathBuf>,
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
        Action::Bench { txs, inputs, seed, executor, out, corpus } => {
            let candidate = crate::jobs::executor(&executor)?;
            let target = Target::new(Arc::new(Sequential), candidate, out);
            let bytes = throughput::inputs(seed, txs, inputs as usize);
            if let Some(dir) = &corpus {
                crate::fuzz::corpus::write_all(dir, bytes.clone())?;
            }
            let cases = throughput::cases(&bytes);
            eprintln!("lockstep fuzz bench: seed {seed}, {inputs} inputs of {txs} txs, differential on {executor}");
            let got = throughput::measure(&target, &cases);
            print!("{}", got.table());
            println!(
                "{} inputs in {:.2} s: {:.0} inputs/s, {} divergences",
                got.inputs,
                got.wall.as_secs_f64(),
                got.per_second(),
                got.divergences
            );
            Ok(if got.divergences == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}
