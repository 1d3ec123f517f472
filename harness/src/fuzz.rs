//! The bodies of the cargo-fuzz targets in `fuzz/`, here so that they build and are tested on
//! stable without libFuzzer. A fuzzer's input decides a generated block (family, size,
//! contention, seed), the candidate's thread count and, for the schedule target, a controlled
//! schedule. A divergence is written as a repro bundle, minimized, and returned; the target
//! then fails with the bundle's path, so a campaign's crash comes out like every other
//! divergence lockstep finds.
//!
//! Environment (read once per fuzzing process): `LOCKSTEP_FUZZ_EXECUTOR` names the candidate
//! (default `block-stm`; planted-bug executors need the `planted-bugs` feature),
//! `LOCKSTEP_FUZZ_OUT` the bundle directory (default `artifacts/lockstep`).

use crate::check::{self, Divergence, check_block};
use crate::defaults::{EXEC_TIMEOUT, MINIMIZE_BUDGET, MINIMIZE_RUNS, STEP_BUDGET};
use crate::repro::{bundle, minimize_bundle, paths::new_bundle_dir};
use crate::schedule::{Schedule, StrategyKind, diverges_under};
use crate::workload::{ArbitraryBlock, Generated};
use lockstep_executors::{BlockInput, BlockOutput, Executor, Sequential};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// One fuzzer input.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct FuzzCase {
    /// The generated block: family, knobs and seed.
    pub block: ArbitraryBlock,
    /// The candidate's worker threads: `threads % 8 + 1` (1 to 8), or `threads % 3 + 2` (2 to
    /// 4) under a controlled schedule.
    pub threads: u8,
    /// The controlled schedule's seed (schedule target only).
    pub schedule_seed: u64,
    /// PCT priorities (Burckhardt et al., ASPLOS 2010) instead of uniform choices (schedule
    /// target only).
    pub pct: bool,
}

/// What a target found: the input fails with it.
#[derive(Debug)]
pub struct Failure {
    /// How the candidate differed from the reference (before minimization).
    pub divergence: Box<Divergence>,
    /// The minimized bundle, when it could be written.
    pub bundle: Option<PathBuf>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "divergence: {}", self.divergence)?;
        match &self.bundle {
            Some(b) => write!(f, "\nbundle: {} (lockstep replay {})", b.display(), b.display()),
            None => write!(f, "\nno bundle written"),
        }
    }
}

/// A fuzz target's fixed configuration: the executor pair, where bundles go, the limits.
pub struct Target {
    /// The executor the candidate is compared with (`sequential` in [`Target::from_env`]).
    pub reference: Arc<dyn Executor>,
    /// The executor fuzzed.
    pub candidate: Arc<dyn Executor>,
    /// Where bundles are written, one directory per divergence
    /// (`fuzz-FAMILY-sSEED-threadsN-KIND`, `...-schedN-...` under a schedule).
    pub out_dir: PathBuf,
    /// Time given to minimizing each divergence.
    pub minimize_budget: Duration,
    /// Wall-clock limit of one candidate execution; past it the run is a hang.
    pub timeout: Duration,
}

impl Target {
    /// The target as the environment configures it; an unknown executor name panics at
    /// start-up, before any input runs.
    pub fn from_env() -> Target {
        let name = std::env::var("LOCKSTEP_FUZZ_EXECUTOR").unwrap_or_else(|_| "block-stm".into());
        let candidate = lockstep_executors::bundled(&name).unwrap_or_else(|| {
            panic!("LOCKSTEP_FUZZ_EXECUTOR={name}: not a bundled executor ({})", lockstep_executors::BUNDLED.join(", "))
        });
        let out_dir =
            std::env::var_os("LOCKSTEP_FUZZ_OUT").map_or_else(|| PathBuf::from("artifacts/lockstep"), PathBuf::from);
        Target {
            reference: Arc::new(Sequential),
            candidate,
            out_dir,
            minimize_budget: MINIMIZE_BUDGET,
            timeout: EXEC_TIMEOUT,
        }
    }

    fn block(case: &FuzzCase) -> Option<(Generated, Arc<BlockInput>, BlockOutput)> {
        let generated = case.block.generate();
        let block = Arc::new(generated.block.clone());
        // A block the reference cannot run says nothing about the candidate.
        let expected = check::reference_output(&Sequential, &block).ok()?;
        Some((generated, block, expected))
    }

    /// The candidate on real threads against the reference.
    pub fn differential(&self, case: &FuzzCase) -> Result<(), Failure> {
        let Some((generated, block, expected)) = Self::block(case) else { return Ok(()) };
        let threads = (case.threads % 8) as usize + 1;
        let checked =
            check_block(&block, self.reference.as_ref(), Some(&expected), &self.candidate, threads, self.timeout);
        match checked.ok().and_then(|c| c.divergence) {
            None => Ok(()),
            Some(d) => Err(self.found(case, &generated, &expected, threads, None, d)),
        }
    }

    /// The candidate under one controlled schedule against the reference.
    pub fn schedules(&self, case: &FuzzCase) -> Result<(), Failure> {
        let Some((generated, block, expected)) = Self::block(case) else { return Ok(()) };
        let threads = (case.threads % 3) as usize + 2;
        let kind = if case.pct { StrategyKind::Pct } else { StrategyKind::Random };
        let strategy = kind.strategy(case.schedule_seed, block.txs.len());
        let (divergence, schedule) =
            diverges_under(&self.candidate, &block, &expected, threads, strategy, STEP_BUDGET, self.timeout);
        match divergence {
            None => Ok(()),
            Some(d) => {
                let recorded = Schedule { workers: threads, choices: schedule.choices, trace: Vec::new() };
                Err(self.found(case, &generated, &expected, threads, Some(recorded), d))
            }
        }
    }

    fn found(
        &self,
        case: &FuzzCase,
        generated: &Generated,
        expected: &BlockOutput,
        threads: usize,
        schedule: Option<Schedule>,
        divergence: Divergence,
    ) -> Failure {
        let kind = divergence.kind();
        let how = if schedule.is_some() { "sched" } else { "threads" };
        let label = format!("fuzz-{}-s{}-{how}{threads}-{kind}", case.block.family, case.block.seed);
        let identity = format!("{label} {case:?} {} vs {}", self.candidate.name(), self.reference.name());
        let mut bundle_case = bundle::Case::new(
            generated.block.clone(),
            self.reference.as_ref(),
            self.candidate.as_ref(),
            threads,
            divergence.clone(),
        )
        .with_keys(&generated.keys);
        bundle_case.seed = Some(case.block.seed);
        bundle_case.schedule = schedule;
        let written =
            new_bundle_dir(&self.out_dir, &label, &identity).and_then(|d| bundle::write(&d, &bundle_case, expected));
        let bundle = match written {
            Ok(dir) => {
                // A flaky case may not reproduce; the unminimized bundle still stands.
                let _ = minimize_bundle(
                    &dir,
                    self.reference.clone(),
                    self.candidate.clone(),
                    self.minimize_budget,
                    MINIMIZE_RUNS,
                    false,
                );
                Some(dir)
            }
            Err(e) => {
                eprintln!("lockstep fuzz: cannot write a bundle under {}: {e}", self.out_dir.display());
                None
            }
        };
        Failure { divergence: Box::new(divergence), bundle }
    }
}
