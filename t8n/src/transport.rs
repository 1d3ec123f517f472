//! How a request reaches a t8n tool and its answer comes back: a fresh process per block
//! ([`crate::process`]) or a pool of long-lived servers ([`crate::daemon`]). Both run under
//! the run's deadline, kill what overruns it, and turn every way a tool can fail into an
//! [`ExecError::Tool`] naming the fault, with the tool's standard error.

use crate::format::{Alloc, Env, T8nTx};
use crate::output::T8nResult;
use lockstep_executors::ExecError;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// One block for a tool: its three inputs and the `--state.*` switches.
#[derive(Clone, Debug, Serialize)]
pub struct Request {
    /// `alloc.json`.
    pub alloc: Alloc,
    /// `env.json`.
    pub env: Env,
    /// `txs.json`, signed.
    pub txs: Vec<T8nTx>,
    /// The tool's name for the fork (`--state.fork`).
    pub fork: String,
    /// `--state.chainid`, decimal.
    pub chain_id: u64,
    /// `--state.reward`: `-1` pays none.
    pub reward: i64,
}

/// What a tool answered: its `result` and post-`alloc`.
#[derive(Clone, Debug, Deserialize)]
pub struct Answer {
    /// The `result` object.
    pub result: T8nResult,
    /// The post-state.
    pub alloc: Alloc,
}

/// A way to run a [`Request`] on a tool.
pub trait Transport: Send + Sync {
    /// Runs `request`, giving up at `deadline` ([`ExecError::Deadline`]) with the tool
    /// stopped.
    ///
    /// # Errors
    ///
    /// [`ExecError::Deadline`] past the deadline, [`ExecError::Tool`] for a tool that fails.
    fn run(&self, request: &Request, deadline: Option<Instant>) -> Result<Answer, ExecError>;

    /// Stops whatever the transport keeps running (a daemon pool's servers). The default has
    /// nothing to stop.
    fn shutdown(&self) {}
}

/// At most this many bytes of a tool's standard error are kept.
pub const STDERR_TAIL: usize = 4096;

/// The last [`STDERR_TAIL`] bytes of `text`, cut at a character boundary.
pub fn tail(text: &str) -> String {
    let mut start = text.len().saturating_sub(STDERR_TAIL);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_string()
}

/// An [`ExecError::Tool`].
pub fn fault(fault: &str, message: impl Into<String>, stderr: &str) -> ExecError {
    ExecError::Tool { fault: fault.to_string(), message: message.into(), stderr: tail(stderr) }
}

/// `bytes` as an [`Answer`]: empty is `empty-reply`, anything else unreadable `malformed`.
pub fn parse_answer(bytes: &[u8], stderr: &str) -> Result<Answer, ExecError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(fault("empty-reply", "the tool answered with nothing", stderr));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let start = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
        fault("malformed", format!("not a t8n answer ({e}); it begins {start:?}"), stderr)
    })
}
