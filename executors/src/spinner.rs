//! `spin-forever` (planted-bugs builds only): an executor whose worker threads spin forever and
//! ignore [`RunControl::deadline`](crate::RunControl), as a runaway third-party executor does.
//! It proves that lockstep's process isolation ends such a run at its deadline and gets the
//! machine's CPU back.

use crate::{BlockInput, BlockOutput, ExecError, Executor, RunControl};

/// Spins on `run.threads` threads (at least one) and never returns.
pub struct Spinner;

impl Executor for Spinner {
    fn name(&self) -> &str {
        "spin-forever"
    }

    fn execute(&self, _: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError> {
        for _ in 1..run.threads.max(1) {
            std::thread::spawn(|| {
                loop {
                    std::hint::spin_loop();
                }
            });
        }
        loop {
            std::hint::spin_loop();
        }
    }
}
