//! Limits the jobs share, each named once.

use std::time::Duration;

/// Steps of a controlled schedule after which the run counts as a livelock.
pub const STEP_BUDGET: u64 = 50_000;

/// Wall-clock limit of one candidate execution on real threads; past it the run is a hang.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(10);

/// Wall-clock limit of one execution under a controlled schedule, which runs one worker at a
/// time and so takes longer than a free run.
pub const CONTROLLED_TIMEOUT: Duration = Duration::from_secs(20);

/// Wall-clock limit of one reference execution outside `statetest` (which has `--timeout`):
/// a block it cannot finish in this long is unusable, not a reason to wait forever.
pub const REFERENCE_TIMEOUT: Duration = Duration::from_secs(60);

/// Default wall-clock limit of one executor on one state-test case.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// Time given to minimizing one divergence found by a job.
pub const MINIMIZE_BUDGET: Duration = Duration::from_secs(20);

/// Time given to finding a controlled schedule for a divergence found on real threads, the
/// measurement of its real-thread rate included.
pub const CAPTURE_BUDGET: Duration = Duration::from_secs(10);

/// How many of a job's divergences are minimized before the job reports (the rest keep their
/// unminimized bundles).
pub const MINIMIZE_FIRST: usize = 3;

/// Candidate runs per minimization step; any one diverging the same way counts.
pub const MINIMIZE_RUNS: usize = 3;

/// PCT's bug depth (Burckhardt et al., ASPLOS 2010): `depth - 1` priority change points.
pub const PCT_DEPTH: usize = 3;

/// The most worker threads lockstep starts for one executor: more is a typo, not a test (the
/// process would abort trying to start them).
pub const MAX_THREADS: usize = 1024;

/// The most transactions lockstep generates or reads in one block.
pub const MAX_TXS: usize = 1_000_000;
