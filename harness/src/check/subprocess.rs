//! Process isolation: an executor that runs in a child process, so that one which ignores its
//! deadline (its threads spinning on, as a runaway third-party executor's do) is killed at the
//! deadline and the run goes on with its CPU back. In-process, a thread cannot be stopped.
//!
//! The child is a worker program (by default this very binary, `lockstep __worker`) serving
//! one bundled executor over its stdin and stdout, one JSON line a block each way: a
//! [`Request`] in, a [`Reply`] out. Workers are kept and reused across blocks (a pool, one per
//! concurrent caller); a worker that overran is killed and replaced by a new one next time.
//! Schedule hooks cannot cross processes, so an isolated executor runs only plain blocks.

use crate::check::isolate::panic_message;
use lockstep_executors::{BlockInput, BlockOutput, ExecError, Executor, RunControl};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One block for a worker.
#[derive(Serialize, Deserialize)]
pub struct Request {
    /// The block.
    pub block: BlockInput,
    /// Worker threads for the executor (0: its default).
    pub threads: usize,
    /// Milliseconds the executor has for it, passed on as its own deadline.
    pub deadline_ms: Option<u64>,
}

/// A worker's answer for one block.
#[derive(Serialize, Deserialize)]
pub enum Reply {
    /// The executor's output.
    Output(BlockOutput),
    /// The executor's error.
    Error {
        /// Its `Display` text.
        message: String,
        /// Whether it was [`ExecError::Deadline`].
        deadline: bool,
    },
    /// The executor panicked, with this message.
    Panic(String),
}

/// A running worker: its process, the pipe to it, and the lines it writes.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<std::io::Result<String>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bundled executor, run in worker processes.
pub struct Isolated {
    name: String,
    version: String,
    program: PathBuf,
    args: Vec<String>,
    idle: Mutex<Vec<Worker>>,
}

impl Isolated {
    /// `executor` (a bundled executor's name) served by `lockstep __worker` from the running
    /// binary. `version` is reported as the executor's, with "(isolated)".
    ///
    /// Errors: the path of the running binary cannot be found.
    pub fn new(executor: &str, version: String) -> std::io::Result<Isolated> {
        let program = std::env::current_exe()?;
        let args = vec!["__worker".into(), "--executor".into(), executor.into()];
        Ok(Isolated::with_command(executor, version, program, args))
    }

    /// An executor named `name` served by `program args...`, which must speak the worker
    /// protocol of this module (see [`serve`]).
    pub fn with_command(name: &str, version: String, program: PathBuf, args: Vec<String>) -> Isolated {
        Isolated {
            name: name.into(),
            version: format!("{version} (isolated)"),
            program,
            args,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn spawn(&self) -> Result<Worker, ExecError> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| ExecError::Internal(format!("cannot start {}: {e}", self.program.display())))?;
        let stdin = child.stdin.take().ok_or_else(|| ExecError::Internal("worker without stdin".into()))?;
        let stdout = child.stdout.take().ok_or_else(|| ExecError::Internal("worker without stdout".into()))?;
        let (tx, lines) = channel();
        std::thread::Builder::new()
            .name("lockstep-worker-reader".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| ExecError::Internal(format!("cannot start a reader thread: {e}")))?;
        Ok(Worker { child, stdin, lines })
    }
}

impl Executor for Isolated {
    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> String {
        self.version.clone()
    }

    fn execute(&self, block: &BlockInput, run: &RunControl) -> Result<BlockOutput, ExecError> {
        if run.hook.is_some() {
            return Err(ExecError::Unsupported("an isolated executor cannot run under a schedule hook".into()));
        }
        let worker = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut worker = match worker {
            Some(w) => w,
            None => self.spawn()?,
        };
        let deadline_ms = run.deadline.map(|d| d.saturating_duration_since(Instant::now()).as_millis() as u64);
        let request = Request { block: block.clone(), threads: run.threads, deadline_ms };
        let mut line = serde_json::to_string(&request).map_err(|e| ExecError::Internal(e.to_string()))?;
        line.push('\n');
        // A dead worker's pipe breaks; its missing reply below says why.
        let _ = worker.stdin.write_all(line.as_bytes()).and_then(|_| worker.stdin.flush());
        let wait = run.deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(Instant::now()));
        let reply = match worker.lines.recv_timeout(wait) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => return Err(ExecError::Internal(format!("reading the worker: {e}"))),
            // Past the deadline: the worker is killed as it drops, threads and all.
            Err(RecvTimeoutError::Timeout) => return Err(ExecError::Deadline),
            Err(RecvTimeoutError::Disconnected) => {
                let status = worker.child.wait().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                return Err(ExecError::Internal(format!("the worker died ({status})")));
            }
        };
        let reply: Reply = serde_json::from_str(&reply)
            .map_err(|e| ExecError::Internal(format!("the worker's reply is not one: {e}")))?;
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(worker);
        match reply {
            Reply::Output(out) => Ok(out),
            Reply::Error { deadline: true, .. } => Err(ExecError::Deadline),
            Reply::Error { message, .. } => Err(ExecError::Internal(message)),
            Reply::Panic(message) => panic!("{message}"),
        }
    }
}

/// The worker's side: serves `executor` on stdin and stdout until stdin closes. Each panic
/// is caught and answered as [`Reply::Panic`].
pub fn serve(executor: Arc<dyn Executor>) -> std::io::Result<()> {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        let reply = match serde_json::from_str::<Request>(&line) {
            Err(e) => Reply::Error { message: format!("not a worker request: {e}"), deadline: false },
            Ok(req) => {
                let run = RunControl {
                    threads: req.threads,
                    hook: None,
                    deadline: req.deadline_ms.map(|ms| Instant::now() + Duration::from_millis(ms)),
                };
                let result =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| executor.execute(&req.block, &run)));
                match result {
                    Ok(Ok(out)) => Reply::Output(out),
                    Ok(Err(e)) => Reply::Error { deadline: e == ExecError::Deadline, message: e.to_string() },
                    Err(payload) => Reply::Panic(panic_message(payload.as_ref())),
                }
            }
        };
        let text = serde_json::to_string(&reply).map_err(std::io::Error::other)?;
        writeln!(stdout, "{text}")?;
        stdout.flush()?;
    }
    Ok(())
}
