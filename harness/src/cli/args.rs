//! Flags several subcommands share, each with one name, one unit and one help text.

use crate::Result;
use clap::Args;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use lockstep_executors::{Executor, Fork};
use std::sync::Arc;
use std::time::Duration;

/// The reference executor.
#[derive(Args, Clone, Debug)]
pub struct Reference {
    /// The reference executor every result is compared with (`lockstep list executors`).
    #[arg(long, value_name = "NAME", default_value = "sequential")]
    pub reference: String,
}

impl Reference {
    pub fn executor(&self) -> Result<Arc<dyn Executor>> {
        crate::jobs::executor(&self.reference)
    }
}

/// Process isolation of the executors a job runs.
#[derive(Args, Clone, Debug, Default)]
pub struct Isolation {
    /// Run each executor in worker processes (`lockstep __worker`), killed at the deadline:
    /// for executors that may not honour it. Off by default: the bundled ones do.
    #[arg(long)]
    pub isolate: bool,
}

impl Isolation {
    /// The executor `name`, isolated when asked. An external one (a t8n tool) already runs in
    /// its own processes, killed at the deadline, so it is never wrapped again.
    pub fn executor(&self, name: &str) -> Result<Arc<dyn Executor>> {
        let e = crate::jobs::executor(name)?;
        if !self.isolate || crate::registry::external().iter().any(|x| x.name == name) {
            return Ok(e);
        }
        let isolated = crate::check::subprocess::Isolated::new(name, e.version())
            .map_err(|e| crate::Error::Resource(format!("cannot isolate {name}: {e}")))?;
        Ok(Arc::new(isolated))
    }

    /// [`Isolation::executor`] for each name.
    pub fn executors(&self, names: &[String]) -> Result<Vec<Arc<dyn Executor>>> {
        names.iter().map(|n| self.executor(n)).collect()
    }
}

/// Checks, before a job starts, that `dir` exists or can be created and takes files: a run
/// must not find out at its end that it cannot write what it found.
pub fn writable_dir(dir: &std::path::Path) -> Result<()> {
    use crate::Error;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let probe = dir.join(format!(".lockstep-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").and_then(|_| std::fs::remove_file(&probe)).map_err(|e| Error::io(dir, e))
}

/// Parses a duration given in seconds (fractions allowed): `10`, `0.5`.
pub fn seconds(s: &str) -> std::result::Result<Duration, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(v).map_err(|_| format!("`{s}`: seconds must be finite and not negative"))
}

/// A `--fork` value: lockstep's fork names, and the names official fixtures use as aliases
/// (`Paris`, `EIP150`, `EIP158`, `ConstantinopleFix`).
pub fn fork_parser() -> impl TypedValueParser<Value = Fork> {
    let values = Fork::ALL.iter().map(|f| {
        let name = f.to_string();
        let fixture = f.fixture_name();
        let value = PossibleValue::new(name.clone());
        if fixture != name { value.alias(fixture) } else { value }
    });
    PossibleValuesParser::new(values.collect::<Vec<_>>())
        .map(|s| Fork::from_name(&s).expect("every possible value is a fork name"))
}

/// [`crate::defaults::MAX_THREADS`] as a flag bound.
pub const MAX_THREADS: u64 = crate::defaults::MAX_THREADS as u64;

/// The end of every `--help`: its examples, then the exit codes (a literal, so `concat!` can
/// build each command's text at compile time).
macro_rules! after_help {
    ($examples:literal) => {
        concat!(
            "Examples:\n",
            $examples,
            "\n\nExit codes:\n  0    the job ran; everything agreed and passed\n  1    the job ran and found a divergence, a failing case, or bad input among its inputs\n  2    the job could not run as asked: bad usage, or an unreadable bundle, block or output path\n  130  stopped by SIGINT (Ctrl-C); the reports of what ran are written"
        )
    };
}
pub(crate) use after_help;

/// The flags of an imported block (a t8n input directory or a state-test case).
#[derive(clap::Args, Debug, Clone)]
pub struct ImportFlags {
    /// The fork of a t8n input directory or of the state-test case to run.
    #[arg(long, value_parser = fork_parser())]
    pub fork: Option<lockstep_executors::Fork>,
    /// The chain id of a t8n input directory (`--state.chainid`).
    #[arg(long, default_value_t = 1)]
    pub chain_id: u64,
    /// The test of a state-test file that holds several.
    #[arg(long, value_name = "NAME")]
    pub test: Option<String>,
    /// The state-test case's data, gas and value indexes.
    #[arg(long, value_name = "D,G,V", default_value = "0,0,0", value_parser = indexes)]
    pub indexes: [usize; 3],
}

impl ImportFlags {
    /// As the library takes them.
    pub fn spec(&self) -> crate::repro::import::ImportSpec {
        crate::repro::import::ImportSpec {
            fork: self.fork,
            chain_id: self.chain_id,
            test: self.test.clone(),
            indexes: self.indexes,
        }
    }
}

fn indexes(s: &str) -> std::result::Result<[usize; 3], String> {
    let parts: Vec<usize> = s
        .split(',')
        .map(|p| p.trim().parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| format!("`{s}`: {e}"))?;
    <[usize; 3]>::try_from(parts).map_err(|_| format!("`{s}`: three indexes, data,gas,value"))
}
