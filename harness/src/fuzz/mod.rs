//! The bodies of the cargo-fuzz targets in `fuzz/`, here so that they build and are tested on
//! stable without libFuzzer, and so that a crate outside lockstep fuzzes its own executor
//! with a three-line target ([`Target::new`]). The targets:
//! - `differential`: a generated block (family, size, contention, seed) on the candidate's
//!   real threads against the reference;
//! - `schedules`: the same under one controlled schedule (seed, PCT or uniform, PCT depth and
//!   worker count from the input);
//! - `statetest_mutation`: an official state test's vectors packed into one block, mutated
//!   ([`mutation`]);
//! - `decoders`: one input through every reader of outside data ([`decoders`]).
//!
//! A divergence is written as a repro bundle, minimized, and returned; the target then fails
//! with the bundle's path, so a campaign's crash comes out like every other divergence
//! lockstep finds.
//!
//! Environment (read once per fuzzing process): `LOCKSTEP_FUZZ_EXECUTOR` names the candidate
//! (default `block-stm`; planted-bug executors need the `planted-bugs` feature),
//! `LOCKSTEP_FUZZ_OUT` the bundle directory (default `artifacts/lockstep`),
//! `LOCKSTEP_FUZZ_SEEDS` the seeds file of `statetest_mutation` (default `seeds.json`, which
//! `lockstep fuzz corpus` writes).

pub mod corpus;
pub mod decoders;
pub mod mutation;
pub mod throughput;

pub use decoders::decoders;
pub use mutation::{MutationCase, Seed, read_seeds, seeds_from_env};
pub use throughput::Phases;

use crate::check::{self, Divergence, check_block};
use crate::defaults::{EXEC_TIMEOUT, MINIMIZE_BUDGET, MINIMIZE_RUNS, STEP_BUDGET};
use crate::repro::{bundle, capture_bundle, minimize_bundle, paths::new_bundle_dir};
use crate::schedule::{Schedule, Strategy, diverges_under};
use crate::workload::ArbitraryBlock;
use lockstep_executors::{BlockInput, BlockOutput, Executor, Sequential};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One fuzzer input.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct FuzzCase {
    /// The generated block: family, knobs and seed.
    pub block: ArbitraryBlock,
    /// The candidate's worker threads: `threads % 8 + 1` (1 to 8), or `threads % 7 + 2` (2 to
    /// 8) workers under a controlled schedule.
    pub threads: u8,
    /// The controlled schedule's seed (schedule target only).
    pub schedule_seed: u64,
    /// PCT priorities (Burckhardt et al., ASPLOS 2010) instead of uniform choices (schedule
    /// target only).
    pub pct: bool,
    /// PCT's depth, the bug depth it aims at: `pct_depth % 6 + 1` (1 to 6) priority change
    /// points less one (schedule target only).
    pub pct_depth: u8,
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

/// Senders' secret keys, by address.
type Keys = std::collections::BTreeMap<alloy_primitives::Address, alloy_primitives::B256>;

/// What a found divergence's bundle is made of.
struct Found<'a> {
    /// The bundle directory's name: `fuzz-WHAT-...-KIND` is added.
    label: String,
    /// The input, for the identity that keeps two inputs' bundles apart.
    input: String,
    block: &'a BlockInput,
    keys: &'a Keys,
    seed: Option<u64>,
    threads: usize,
    schedule: Option<Schedule>,
}

impl<'a> Found<'a> {
    /// The bundle of a generated block's input, run `how` (`threads`, `sched`) on `threads`.
    fn of(case: &FuzzCase, how: &str, block: &'a BlockInput, keys: &'a Keys, threads: usize) -> Found<'a> {
        Found {
            label: format!("fuzz-{}-s{}-{how}{threads}", case.block.family, case.block.seed),
            input: format!("{case:?}"),
            block,
            keys,
            seed: Some(case.block.seed),
            threads,
            schedule: None,
        }
    }
}

impl Target {
    /// `candidate` fuzzed against `reference`, bundles under `out_dir`: what a crate
    /// outside lockstep calls in its own fuzz target, with its own executor.
    ///
    /// It restores Rust's default panic hook: libfuzzer-sys's aborts on every panic, also one
    /// that an executor's worker raises and lockstep catches and reports as a `panic`
    /// divergence, which then would have no bundle. A panic that leaves the target's closure
    /// still aborts the fuzzer (it cannot unwind out of libFuzzer's callback).
    pub fn new(reference: Arc<dyn Executor>, candidate: Arc<dyn Executor>, out_dir: PathBuf) -> Target {
        drop(std::panic::take_hook());
        Target { reference, candidate, out_dir, minimize_budget: MINIMIZE_BUDGET, timeout: EXEC_TIMEOUT }
    }

    /// The target as the environment configures it; an unknown executor name panics at
    /// start-up, before any input runs.
    pub fn from_env() -> Target {
        let name = std::env::var("LOCKSTEP_FUZZ_EXECUTOR").unwrap_or_else(|_| "block-stm".into());
        let candidate = lockstep_executors::bundled(&name).unwrap_or_else(|| {
            panic!("LOCKSTEP_FUZZ_EXECUTOR={name}: not a bundled executor ({})", lockstep_executors::BUNDLED.join(", "))
        });
        let out_dir =
            std::env::var_os("LOCKSTEP_FUZZ_OUT").map_or_else(|| PathBuf::from("artifacts/lockstep"), PathBuf::from);
        Target::new(Arc::new(Sequential), candidate, out_dir)
    }

    /// The reference's output for `block`; `None` when it fails, since such a block says
    /// nothing about the candidate.
    fn expected(&self, block: &Arc<BlockInput>) -> Option<BlockOutput> {
        check::reference_output(self.reference.as_ref(), block).ok()
    }

    fn on_threads(&self, block: &Arc<BlockInput>, expected: &BlockOutput, threads: usize) -> Option<Divergence> {
        let checked =
            check_block(block, self.reference.as_ref(), Some(expected), &self.candidate, threads, self.timeout);
        checked.ok().and_then(|c| c.divergence)
    }

    /// The candidate on real threads against the reference.
    pub fn differential(&self, case: &FuzzCase) -> Result<(), Failure> {
        self.differential_timed(case, &mut Phases::default())
    }

    /// [`differential`](Target::differential), adding the time of each step to `phases`.
    pub fn differential_timed(&self, case: &FuzzCase, phases: &mut Phases) -> Result<(), Failure> {
        let t = Instant::now();
        let generated = case.block.generate();
        let block = Arc::new(generated.block);
        phases.generate += t.elapsed();
        let t = Instant::now();
        let expected = self.expected(&block);
        phases.reference += t.elapsed();
        let Some(expected) = expected else { return Ok(()) };
        let threads = (case.threads % 8) as usize + 1;
        let t = Instant::now();
        let checked =
            check_block(&block, self.reference.as_ref(), Some(&expected), &self.candidate, threads, self.timeout);
        phases.candidate += checked.as_ref().map_or(t.elapsed(), |c| c.candidate_time);
        phases.check += t.elapsed().saturating_sub(checked.as_ref().map_or(Duration::ZERO, |c| c.candidate_time));
        match checked.ok().and_then(|c| c.divergence) {
            None => Ok(()),
            Some(d) => Err(self.found(Found::of(case, "threads", &block, &generated.keys, threads), &expected, d)),
        }
    }

    /// The candidate under one controlled schedule against the reference.
    pub fn schedules(&self, case: &FuzzCase) -> Result<(), Failure> {
        let generated = case.block.generate();
        let block = Arc::new(generated.block);
        let Some(expected) = self.expected(&block) else { return Ok(()) };
        let workers = (case.threads % 7) as usize + 2;
        let strategy = if case.pct {
            let depth = usize::from(case.pct_depth % 6) + 1;
            Strategy::Pct { seed: case.schedule_seed, depth, expected_steps: 20 * block.txs.len() as u64 + 10 }
        } else {
            Strategy::Random { seed: case.schedule_seed }
        };
        let (divergence, schedule) =
            diverges_under(&self.candidate, &block, &expected, workers, strategy, STEP_BUDGET, self.timeout);
        match divergence {
            None => Ok(()),
            Some(d) => {
                let found = Found {
                    schedule: Some(Schedule { workers, choices: schedule.choices, trace: Vec::new() }),
                    ..Found::of(case, "sched", &block, &generated.keys, workers)
                };
                Err(self.found(found, &expected, d))
            }
        }
    }

    /// A mutated official state test ([`MutationCase`]) on real threads against the
    /// reference. Without seeds there is nothing to mutate.
    pub fn statetest_mutation(&self, seeds: &[Seed], case: &MutationCase) -> Result<(), Failure> {
        let Some(block) = case.block(seeds) else { return Ok(()) };
        let block = Arc::new(block);
        let Some(expected) = self.expected(&block) else { return Ok(()) };
        let threads = (case.threads % 8) as usize + 1;
        match self.on_threads(&block, &expected, threads) {
            None => Ok(()),
            Some(d) => Err(self.found(
                Found {
                    label: format!("fuzz-statetest-{}-threads{threads}", case.seed as usize % seeds.len()),
                    input: format!("{case:?}"),
                    block: &block,
                    keys: &Default::default(),
                    seed: None,
                    threads,
                    schedule: None,
                },
                &expected,
                d,
            )),
        }
    }

    fn found(&self, found: Found<'_>, expected: &BlockOutput, divergence: Divergence) -> Failure {
        let label = format!("{}-{}", found.label, divergence.kind());
        let identity = format!("{label} {} {} vs {}", found.input, self.candidate.name(), self.reference.name());
        let mut bundle_case = bundle::Case::new(
            found.block.clone(),
            self.reference.as_ref(),
            self.candidate.as_ref(),
            found.threads,
            divergence.clone(),
        )
        .with_keys(found.keys);
        bundle_case.seed = found.seed;
        bundle_case.schedule = found.schedule;
        let written =
            new_bundle_dir(&self.out_dir, &label, &identity).and_then(|d| bundle::write(&d, &bundle_case, expected));
        let bundle = match written {
            Ok(dir) => {
                // Found on real threads: captured under a schedule first when one reproduces it.
                // A flaky case may not reproduce; the unminimized bundle still stands.
                if bundle_case.schedule.is_none() {
                    let timeout = crate::defaults::CONTROLLED_TIMEOUT;
                    let _ =
                        capture_bundle(&dir, self.reference.as_ref(), &self.candidate, self.minimize_budget, timeout);
                }
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
