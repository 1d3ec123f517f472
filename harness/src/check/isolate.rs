//! Runs an executor so that its panic or hang becomes a reported divergence, never a crash
//! or a stuck lockstep.

use crate::check::Divergence;
use lockstep_executors::{BlockInput, BlockOutput, Executor, RunControl};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs on the calling thread; a panic becomes `Divergence::Panic`.
pub fn run_caught(exec: &dyn Executor, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, Divergence> {
    caught(|| exec.execute(block, run))
}

/// `run_caught` for a block held in an `Arc`, which the executor may keep instead of copying.
pub fn run_caught_shared(
    exec: &dyn Executor,
    block: &Arc<BlockInput>,
    run: &RunControl,
) -> Result<BlockOutput, Divergence> {
    caught(|| exec.execute_shared(block, run))
}

/// [`run_caught`], with the executor's verdict that the block is invalid
/// (`ExecError::InvalidBlock`) kept apart as `Ok(Err(why))`: in a chain, rejecting a block is
/// an answer, not a failure.
pub fn run_judged(
    exec: &dyn Executor,
    block: &BlockInput,
    run: &RunControl,
) -> Result<Result<BlockOutput, String>, Divergence> {
    let mut invalid = None;
    let result = caught(|| match exec.execute(block, run) {
        Err(lockstep_executors::ExecError::InvalidBlock(why)) => {
            invalid = Some(why);
            Err(lockstep_executors::ExecError::Internal(String::new()))
        }
        other => other,
    });
    match invalid {
        Some(why) => Ok(Err(why)),
        None => result.map(Ok),
    }
}

fn caught(
    execute: impl FnOnce() -> Result<BlockOutput, lockstep_executors::ExecError>,
) -> Result<BlockOutput, Divergence> {
    let start = Instant::now();
    match catch_unwind(AssertUnwindSafe(execute)) {
        Ok(Ok(out)) => Ok(out),
        // An executor that gave up at its deadline ran past it: a hang, as one that never
        // returns is.
        Ok(Err(lockstep_executors::ExecError::Deadline)) => {
            Err(Divergence::Hang { after_ms: start.elapsed().as_millis() as u64 })
        }
        Ok(Err(lockstep_executors::ExecError::Unsupported(message))) => Err(Divergence::Unsupported { message }),
        Ok(Err(lockstep_executors::ExecError::Tool { fault, message, stderr })) => {
            Err(Divergence::Tool { fault, message, stderr })
        }
        Ok(Err(e)) => Err(Divergence::ExecError { message: e.to_string() }),
        Err(payload) => Err(Divergence::Panic { message: panic_message(payload.as_ref()) }),
    }
}

/// Runs on a helper thread and waits at most `timeout`. A hung executor's thread is left
/// behind (threads cannot be killed); the run goes on and the hang is reported. Also returns
/// how long `execute` itself took (the thread's start not counted).
///
/// Helper threads that came back in time are kept for the next run: spawning one (with the
/// deep stack revm needs) costs more than a small generated block's execution, and a fuzzing
/// campaign runs thousands of blocks a second.
pub fn run_with_timeout(
    exec: Arc<dyn Executor>,
    block: Arc<BlockInput>,
    mut run: RunControl,
    timeout: Duration,
) -> (Result<BlockOutput, Divergence>, Duration) {
    let start = Instant::now();
    run.deadline = Some(start + timeout);
    let (tx, rx) = mpsc::channel();
    let job: Job = Box::new(move || {
        let t = Instant::now();
        let r = run_caught_shared(exec.as_ref(), &block, &run);
        let _ = tx.send((r, t.elapsed()));
    });
    let helper = match Helper::idle_or_spawn().and_then(|h| h.start(job)) {
        Ok(h) => h,
        Err(e) => {
            let message = format!("cannot spawn executor thread: {e}");
            return (Err(Divergence::ExecError { message }), Duration::ZERO);
        }
    };
    match rx.recv_timeout(timeout) {
        Ok(r) => {
            helper.park();
            r
        }
        // Dropping the helper closes its queue: its thread ends if the executor ever returns.
        Err(_) => (Err(Divergence::Hang { after_ms: start.elapsed().as_millis() as u64 }), start.elapsed()),
    }
}

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A helper thread's job queue.
struct Helper(mpsc::Sender<Job>);

/// Helper threads waiting for a run.
static IDLE: std::sync::Mutex<Vec<Helper>> = std::sync::Mutex::new(Vec::new());

/// revm recurses per call frame: deep call stacks need more than the default stack.
const HELPER_STACK: usize = 64 << 20;

impl Helper {
    fn idle_or_spawn() -> std::io::Result<Helper> {
        match IDLE.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            Some(h) => Ok(h),
            None => Helper::spawn(),
        }
    }

    fn spawn() -> std::io::Result<Helper> {
        let (tx, rx) = mpsc::channel::<Job>();
        // The `lockstep-` prefix keeps an executor's caught panic quiet
        // (`quiet_executor_panics`).
        std::thread::Builder::new()
            .name("lockstep-executor".into())
            .stack_size(HELPER_STACK)
            .spawn(move || rx.into_iter().for_each(|job| job()))?;
        Ok(Helper(tx))
    }

    /// Hands `job` to the thread; one whose thread has ended is replaced.
    fn start(self, job: Job) -> std::io::Result<Helper> {
        match self.0.send(job) {
            Ok(()) => Ok(self),
            Err(mpsc::SendError(job)) => {
                let fresh = Helper::spawn()?;
                fresh.0.send(job).map_err(|_| std::io::Error::other("helper thread ended at start"))?;
                Ok(fresh)
            }
        }
    }

    fn park(self) {
        IDLE.lock().unwrap_or_else(|p| p.into_inner()).push(self);
    }
}

/// A panic payload as text: the `&str` or `String` it holds, or `non-string panic payload`.
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
        let on_executor_thread = std::thread::current().name().is_some_and(|n| n.starts_with("lockstep-"));
        if !on_executor_thread {
            default(info);
        }
    }));
}
