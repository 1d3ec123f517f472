//! The harness's errors, and the one rule that maps them to exit codes.
//!
//! Exit codes (the binary's, documented in `--help` and the README):
//! - `0`: the job ran and everything agreed and passed;
//! - `1`: the job ran and found something: a divergence, a failing case, or bad input among
//!   its inputs (each counted and named, the run went on);
//! - `2`: the job could not run as asked: a bad command line, or an input or output it was
//!   pointed at directly (a bundle, a block file, a report path) that cannot be read or written.

use crate::check::Divergence;
use std::path::PathBuf;

/// A `Result` whose error is the harness's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a harness function failed; [`Error::exit_code`] maps each to the binary's exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A name on the command line or in a bundle that lockstep does not know.
    #[error("unknown {what} `{name}`; known: {known}")]
    Unknown {
        /// What kind of name it is (`executor`, `bench entry`).
        what: &'static str,
        /// The name as given.
        name: String,
        /// The names lockstep knows of that kind, comma-separated.
        known: String,
    },
    /// A flag value out of its range, or flags that do not go together.
    #[error("{0}")]
    Usage(String),
    /// A file lockstep was pointed at is not what it should be (a corrupt bundle, a block file
    /// that does not parse).
    #[error("{path}: {message}")]
    BadInput {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (a parse error, a missing field).
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The reference executor failed on a block: the block itself is unusable.
    #[error("the reference {executor} cannot run this block: {divergence}")]
    Reference {
        /// The reference executor's name.
        executor: String,
        /// How it failed: a [`Divergence::ExecError`] or a [`Divergence::Panic`] (boxed, to
        /// keep `Error` small).
        divergence: Box<Divergence>,
    },
    /// A recorded divergence did not show again.
    #[error("{path}: the divergence ({kind}) does not reproduce; nothing to minimize")]
    NotReproduced {
        /// The bundle directory.
        path: PathBuf,
        /// The recorded divergence's [`Divergence::kind`].
        kind: String,
    },
    /// The machine refused a resource a job needs (a thread).
    #[error("{0}")]
    Resource(String),
    /// An executor failed or diverged where a job needs it to agree (a bench measures only
    /// executors that agree with the reference).
    #[error("{0}")]
    Diverged(String),
}

impl Error {
    /// An [`Error::Io`] on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), source }
    }

    /// An [`Error::BadInput`] on `path`, `message` displayed.
    pub fn bad_input(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Error {
        Error::BadInput { path: path.into(), message: message.to_string() }
    }

    /// The process exit code this error ends a command with (see the module docs).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Unknown { .. } | Error::Usage(_) | Error::BadInput { .. } | Error::Io { .. } => EXIT_USAGE,
            Error::Reference { .. } | Error::NotReproduced { .. } | Error::Resource(_) | Error::Diverged(_) => {
                EXIT_FOUND
            }
        }
    }
}

/// The job ran and found a divergence, a failure or bad input.
pub const EXIT_FOUND: u8 = 1;
/// The job could not run as asked.
pub const EXIT_USAGE: u8 = 2;
