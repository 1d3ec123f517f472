//! Runs an executor so that its panic or hang becomes a reported divergence, never a crash
//! or a stuck lockstep.

use crate::diff::Divergence;
use lockstep_executors::{BlockInput, BlockOutput, Executor, RunControl};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs on the calling thread; a panic becomes `Divergence::Panic`.
pub fn run_caught(
    exec: &dyn Executor,
    block: &BlockInput,
    run: &RunControl,
) -> Result<BlockOutput, Divergence> {
    match catch_unwind(AssertUnwindSafe(|| exec.execute(block, run))) {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(e)) => Err(Divergence::ExecError {
            message: e.to_string(),
        }),
        Err(payload) => Err(Divergence::Panic {
            message: panic_message(payload.as_ref()),
        }),
    }
}

/// Runs on a helper thread and waits at most `timeout`. A hung executor's thread is left
/// behind (threads cannot be killed); the run goes on and the hang is reported.
pub fn run_with_timeout(
    exec: Arc<dyn Executor>,
    block: Arc<BlockInput>,
    mut run: RunControl,
    timeout: Duration,
) -> Result<BlockOutput, Divergence> {
    let start = Instant::now();
    run.deadline = Some(start + timeout);
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(format!("lockstep-{}", exec.name()))
        .spawn(move || {
            let _ = tx.send(run_caught(exec.as_ref(), &block, &run));
        });
    if let Err(e) = spawned {
        return Err(Divergence::ExecError {
            message: format!("cannot spawn executor thread: {e}"),
        });
    }
    match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(_) => Err(Divergence::Hang {
            after_ms: start.elapsed().as_millis() as u64,
        }),
    }
}

pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Keeps expected executor panics from flooding stderr: they are reported as divergences.
/// Panics on lockstep's own threads still print.
pub fn quiet_executor_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let on_executor_thread = std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with("lockstep-"));
        if !on_executor_thread {
            default(info);
        }
    }));
}
