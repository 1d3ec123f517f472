//! A pool of t8n servers: the execution spec's `ethereum-spec-evm daemon`, or any tool that
//! serves the same requests. Each daemon answers one request at a time over HTTP/1.0 on a Unix
//! socket in its own scratch directory: `POST /` with
//! `{"state": {"fork", "chainid", "reward"}, "input": {"alloc", "env", "txs"}}`, answered by
//! `{"alloc", "result", "body"}`, the connection closed after the body.
//!
//! The pool starts daemons as blocks need them, up to its size, and stops them with the
//! executor. A daemon that overruns the deadline, dies, or fails a request is killed and
//! replaced on the next request (a failed request is answered `200` with an empty body, and an
//! unknown fork makes the execution spec's daemon exit).

use crate::transport::{Answer, Request, Transport, fault, parse_answer};
use lockstep_executors::ExecError;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a new daemon may take to open its socket.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// One running daemon.
struct Daemon {
    child: Child,
    socket: PathBuf,
    stderr: PathBuf,
    /// Bytes of its standard error already reported, so that a fault shows only its own.
    stderr_seen: u64,
    _dir: tempfile::TempDir,
}

impl Daemon {
    fn start(program: &PathBuf, args: &[String]) -> Result<Daemon, ExecError> {
        let dir = tempfile::Builder::new()
            .prefix("lockstep-t8n-daemon-")
            .tempdir()
            .map_err(|e| ExecError::Internal(format!("daemon scratch directory: {e}")))?;
        let socket = dir.path().join("t8n.sock");
        let stderr = dir.path().join("stderr.txt");
        let err_file =
            std::fs::File::create(&stderr).map_err(|e| ExecError::Internal(format!("daemon stderr file: {e}")))?;
        let mut command = Command::new(program);
        command
            .args(args)
            .arg("--uds")
            .arg(&socket)
            .args(["--timeout", "0"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err_file);
        // In the run's process group, so that a Ctrl-C at the terminal stops the daemons too.
        let mut child =
            command.spawn().map_err(|e| fault("spawn", format!("cannot start {}: {e}", program.display()), ""))?;
        let start = Instant::now();
        while !socket.exists() {
            if let Ok(Some(status)) = child.try_wait() {
                let text = std::fs::read_to_string(&stderr).unwrap_or_default();
                return Err(fault("exit", format!("the daemon exited at start ({status})"), &text));
            }
            if start.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fault("start", format!("no socket after {START_TIMEOUT:?}"), ""));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(Daemon { child, socket, stderr, stderr_seen: 0, _dir: dir })
    }

    /// The standard error written since the last call.
    fn new_stderr(&mut self) -> String {
        let text = std::fs::read(&self.stderr).unwrap_or_default();
        let seen = (self.stderr_seen as usize).min(text.len());
        self.stderr_seen = text.len() as u64;
        String::from_utf8_lossy(&text[seen..]).into_owned()
    }

    fn post(&mut self, body: &[u8], deadline: Option<Instant>) -> Result<Vec<u8>, PostError> {
        let mut stream = UnixStream::connect(&self.socket).map_err(PostError::Io)?;
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)));
        stream.set_read_timeout(left).map_err(PostError::Io)?;
        stream.set_write_timeout(left).map_err(PostError::Io)?;
        let head = format!(
            "POST / HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body)).map_err(PostError::Io)?;
        let mut reply = Vec::new();
        match stream.read_to_end(&mut reply) {
            Ok(_) => Ok(reply),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                Err(PostError::Deadline)
            }
            Err(e) => Err(PostError::Io(e)),
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum PostError {
    Deadline,
    Io(std::io::Error),
}

/// Splits an HTTP response into its status code and body.
fn http_response(reply: &[u8]) -> Option<(u16, &[u8])> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(reply) {
        Ok(httparse::Status::Complete(len)) => Some((response.code?, &reply[len..])),
        _ => None,
    }
}

/// A pool of daemons of one tool.
pub struct DaemonPool {
    program: PathBuf,
    args: Vec<String>,
    size: usize,
    idle: Mutex<(Vec<Daemon>, usize)>,
    freed: Condvar,
}

impl DaemonPool {
    /// A pool of at most `size` daemons of `program args... --uds SOCKET --timeout 0`
    /// (started when first needed).
    pub fn new(program: PathBuf, args: Vec<String>, size: usize) -> DaemonPool {
        DaemonPool { program, args, size: size.max(1), idle: Mutex::new((Vec::new(), 0)), freed: Condvar::new() }
    }

    /// An idle daemon, a new one if fewer than `size` run, or the next one freed.
    fn take(&self) -> Result<Daemon, ExecError> {
        let mut guard = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(d) = guard.0.pop() {
                return Ok(d);
            }
            if guard.1 < self.size {
                guard.1 += 1;
                drop(guard);
                let started = Daemon::start(&self.program, &self.args);
                if started.is_err() {
                    self.forget();
                }
                return started;
            }
            guard = self.freed.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn give_back(&self, d: Daemon) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).0.push(d);
        self.freed.notify_one();
    }

    /// A daemon was dropped: room for a new one.
    fn forget(&self) {
        let mut guard = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        guard.1 = guard.1.saturating_sub(1);
        drop(guard);
        self.freed.notify_one();
    }
}

impl Transport for DaemonPool {
    fn shutdown(&self) {
        let idle = std::mem::take(&mut self.idle.lock().unwrap_or_else(|e| e.into_inner()).0);
        drop(idle);
    }

    fn run(&self, request: &Request, deadline: Option<Instant>) -> Result<Answer, ExecError> {
        let body = serde_json::to_vec(&serde_json::json!({
            "state": { "fork": request.fork, "chainid": request.chain_id, "reward": request.reward },
            "input": { "alloc": request.alloc, "env": request.env, "txs": request.txs },
        }))
        .map_err(|e| ExecError::Internal(e.to_string()))?;
        let mut daemon = self.take()?;
        let posted = daemon.post(&body, deadline);
        let alive = matches!(daemon.child.try_wait(), Ok(None));
        let stderr = daemon.new_stderr();
        let answer = match posted {
            Err(PostError::Deadline) => Err(ExecError::Deadline),
            Err(PostError::Io(e)) if alive => Err(fault("io", e.to_string(), &stderr)),
            Err(PostError::Io(e)) => Err(fault("crash", format!("the daemon died: {e}"), &stderr)),
            Ok(reply) => match http_response(&reply) {
                None => Err(fault("malformed", "not an HTTP response", &stderr)),
                Some((200, body)) => parse_answer(body, &stderr),
                Some((code, body)) => {
                    Err(fault("http", format!("status {code}: {}", String::from_utf8_lossy(body).trim()), &stderr))
                }
            },
        };
        // A daemon that failed a request is not trusted with the next one.
        if answer.is_ok() && alive {
            self.give_back(daemon);
        } else {
            drop(daemon);
            self.forget();
        }
        answer
    }
}
