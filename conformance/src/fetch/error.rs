use std::io;

/// Why a fetch or a verification failed. Every variant that concerns one source names it
/// (`name`); none leaves partial files in the fixtures directory.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server answered with a status other than 2xx (after redirects).
    #[error("{name}: GET {url}: HTTP status {status}")]
    HttpStatus { name: String, url: String, status: u16 },
    /// The request failed before a status came back: DNS, connect, TLS, timeout, protocol.
    #[error("{name}: GET {url}: {error}")]
    Http {
        name: String,
        url: String,
        #[source]
        error: Box<ureq::Error>,
    },
    /// A download or the files kept from an archive exceeded the configured cap.
    #[error("{name}: {what} exceeds the limit of {limit} bytes")]
    TooLarge { name: String, what: String, limit: u64 },
    /// The downloaded archive's sha256 is not the pinned one.
    #[error("{name}: sha256 of {url} is {actual}, expected {expected}")]
    ArchiveMismatch { name: String, url: String, expected: String, actual: String },
    /// The installed files' content hash is not the pinned one.
    #[error("{name}: content hash of the fetched files is {actual}, expected {expected}")]
    ContentMismatch { name: String, expected: String, actual: String },
    /// An archive entry that could escape the destination or is not a plain file or
    /// directory: `..`, an absolute path, a link, a device. The whole source is refused.
    #[error("{name}: refused archive entry {entry:?}: {reason}")]
    UnsafeEntry { name: String, entry: String, reason: &'static str },
    /// A kept path of the manifest matched no entry of the archive.
    #[error("{name}: archive {url} has no {from:?}")]
    MissingInArchive { name: String, url: String, from: String },
    /// The manifest breaks a rule of [`Manifest::validate`](super::Manifest::validate).
    #[error("invalid fixtures manifest: {0}")]
    Manifest(String),
    /// A file-system or stream error; `what` says what was being done, to which path.
    #[error("{what}: {error}")]
    Io {
        what: String,
        #[source]
        error: io::Error,
    },
}

/// Attaches a description to an `io::Error`.
pub(crate) trait IoContext<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, FetchError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, FetchError> {
        self.map_err(|error| FetchError::Io { what: what(), error })
    }
}
