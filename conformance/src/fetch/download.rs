//! Streaming a URL (or a file of a local mirror) into a file, with a size cap, a sha256 of
//! the bytes and a progress bar on a terminal.

use super::error::IoContext;
use super::hash::hex;
use super::{FetchError, FetchOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

/// Where one download's bytes come from.
pub(crate) enum Location {
    Url(String),
    Local(PathBuf),
}

impl Location {
    /// `url` itself, or with a mirror `<mirror>/<mirror_name>`; a mirror that is not an
    /// `http(s)://` URL is a local directory (`file://` prefix optional).
    pub(crate) fn new(url: &str, mirror: Option<&str>, mirror_name: &str) -> Location {
        match mirror {
            None => Location::Url(url.to_string()),
            Some(m) if m.starts_with("http://") || m.starts_with("https://") => {
                Location::Url(format!("{}/{mirror_name}", m.trim_end_matches('/')))
            }
            Some(m) => Location::Local(Path::new(m.strip_prefix("file://").unwrap_or(m)).join(mirror_name)),
        }
    }

    pub(crate) fn display(&self) -> String {
        match self {
            Location::Url(u) => u.clone(),
            Location::Local(p) => p.display().to_string(),
        }
    }
}

/// What a download wrote.
pub(crate) struct Downloaded {
    pub bytes: u64,
    pub sha256: String,
}

/// The HTTP client shared by one fetch: `timeout` bounds connecting, waiting for the
/// response headers and each read, so a stalled transfer fails instead of hanging.
pub(crate) fn agent(opts: &FetchOptions) -> ureq::Agent {
    let t = Some(opts.timeout);
    ureq::Agent::config_builder()
        .timeout_resolve(t)
        .timeout_connect(t)
        .timeout_send_request(t)
        .timeout_recv_response(t)
        .timeout_per_read(t)
        .user_agent(concat!("lockstep-fixtures/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Streams `from` into a new file `to`, at most `opts.max_download_bytes` bytes.
pub(crate) fn download(
    agent: &ureq::Agent,
    from: &Location,
    to: &Path,
    name: &str,
    opts: &FetchOptions,
) -> Result<Downloaded, FetchError> {
    let what = from.display();
    let limit = opts.max_download_bytes;
    let too_large = || FetchError::TooLarge { name: name.to_string(), what: what.clone(), limit };
    let (mut reader, len): (Box<dyn Read>, Option<u64>) = match from {
        Location::Url(url) => {
            let response = agent.get(url).call().map_err(|e| match e {
                ureq::Error::StatusCode(status) => {
                    FetchError::HttpStatus { name: name.to_string(), url: url.clone(), status }
                }
                e => FetchError::Http { name: name.to_string(), url: url.clone(), error: Box::new(e) },
            })?;
            let len = response.body().content_length();
            (Box::new(response.into_body().into_reader()), len)
        }
        Location::Local(path) => {
            let file = File::open(path).ctx(|| format!("{name}: opening mirror file {}", path.display()))?;
            let len = file.metadata().ok().map(|m| m.len());
            (Box::new(file), len)
        }
    };
    if len.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let bar = progress(opts.progress, len, name);
    let mut out = File::create(to).ctx(|| format!("{name}: creating {}", to.display()))?;
    let mut sha = Sha256::new();
    let mut total = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(FetchError::Io { what: format!("{name}: downloading {what}"), error: e }),
        };
        total += n as u64;
        if total > limit {
            return Err(too_large());
        }
        sha.update(&buf[..n]);
        out.write_all(&buf[..n]).ctx(|| format!("{name}: writing {}", to.display()))?;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    Ok(Downloaded { bytes: total, sha256: hex(&sha.finalize()) })
}

/// A byte-count bar on stderr when `enabled` and stderr is a terminal; hidden otherwise so
/// CI logs stay clean.
fn progress(enabled: bool, len: Option<u64>, name: &str) -> ProgressBar {
    if !enabled || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match len {
        Some(n) => (ProgressBar::new(n), "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}"),
        None => (ProgressBar::no_length(), "{spinner} {msg} {bytes} {bytes_per_sec}"),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(name.to_string());
    bar
}
