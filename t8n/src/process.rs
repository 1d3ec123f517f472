//! One process per block: the three inputs as files in a scratch directory, the tool run
//! there with `--output.*` files, its standard output and error captured to files (so a
//! chatty tool cannot block on a full pipe). Each run gets its own process group, killed whole
//! at the deadline, so a wrapper script's children die with it. The scratch directory is
//! removed whatever happens.

use crate::transport::{Answer, Request, Transport, fault, parse_answer};
use lockstep_executors::ExecError;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;
use wait_timeout::ChildExt;

/// Runs a fresh tool process for every block.
pub struct ProcessTransport {
    /// The program.
    pub program: PathBuf,
    /// Arguments before the t8n flags (the rest of the configured command line and the
    /// preset's subcommand).
    pub args: Vec<String>,
}

/// Kills `child`'s whole process group and reaps it.
pub(crate) fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn io(what: &str, e: std::io::Error) -> ExecError {
    ExecError::Internal(format!("t8n scratch directory: {what}: {e}"))
}

impl Transport for ProcessTransport {
    fn run(&self, request: &Request, deadline: Option<Instant>) -> Result<Answer, ExecError> {
        let dir = tempfile::Builder::new().prefix("lockstep-t8n-block-").tempdir().map_err(|e| io("create", e))?;
        let write = |name: &str, json: Vec<u8>| std::fs::write(dir.path().join(name), json).map_err(|e| io(name, e));
        write("alloc.json", serde_json::to_vec(&request.alloc).map_err(|e| io("alloc.json", e.into()))?)?;
        write("env.json", serde_json::to_vec(&request.env).map_err(|e| io("env.json", e.into()))?)?;
        write("txs.json", serde_json::to_vec(&request.txs).map_err(|e| io("txs.json", e.into()))?)?;
        let stdout = std::fs::File::create(dir.path().join("stdout.txt")).map_err(|e| io("stdout", e))?;
        let stderr = std::fs::File::create(dir.path().join("stderr.txt")).map_err(|e| io("stderr", e))?;
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .args(["--input.alloc", "alloc.json", "--input.env", "env.json", "--input.txs", "txs.json"])
            .args(["--output.basedir", "."])
            .args(["--output.result", "result.json", "--output.alloc", "post-alloc.json"])
            .args(["--state.fork", &request.fork])
            .args(["--state.chainid", &request.chain_id.to_string()])
            .args(["--state.reward", &request.reward.to_string()])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child =
            command.spawn().map_err(|e| fault("spawn", format!("cannot start {}: {e}", self.program.display()), ""))?;
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let waited = match left {
            Some(left) => child.wait_timeout(left),
            None => child.wait().map(Some),
        };
        let status = match waited {
            Ok(Some(status)) => status,
            Ok(None) => {
                kill_group(&mut child);
                return Err(ExecError::Deadline);
            }
            Err(e) => {
                kill_group(&mut child);
                return Err(fault("wait", e.to_string(), ""));
            }
        };
        let stderr = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap_or_default();
        if !status.success() {
            use std::os::unix::process::ExitStatusExt;
            return Err(match status.signal() {
                Some(sig) => fault("crash", format!("killed by signal {sig}"), &stderr),
                None => fault("exit", format!("exit status {}", status.code().unwrap_or(-1)), &stderr),
            });
        }
        let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap_or_default();
        let (result, alloc) = (read("result.json"), read("post-alloc.json"));
        if result.is_empty() && alloc.is_empty() {
            return Err(fault("empty-reply", "the tool wrote no result and no alloc", &stderr));
        }
        // Both files as one answer, so that both are checked the same way.
        let mut joined = Vec::with_capacity(result.len() + alloc.len() + 32);
        joined.extend_from_slice(b"{\"result\":");
        joined.extend_from_slice(if result.is_empty() { b"null" } else { &result });
        joined.extend_from_slice(b",\"alloc\":");
        joined.extend_from_slice(if alloc.is_empty() { b"null" } else { &alloc });
        joined.push(b'}');
        parse_answer(&joined, &stderr)
    }
}
