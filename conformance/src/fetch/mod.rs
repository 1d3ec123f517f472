//! Fetching the pinned official fixtures into a directory, and checking a directory against
//! them.
//!
//! Each [`Source`] of a [`Manifest`] is downloaded into a staging directory inside the
//! destination, its kept files are unpacked there, their [`content_hash`] is compared with
//! the pinned one, and only then are they renamed into place. A source already present with
//! the right hash is not downloaded again. A lock file (`.lockstep-fetch.lock`) in the
//! destination serializes concurrent fetches into the same directory.

mod download;
mod error;
mod extract;
mod hash;
mod manifest;

pub use error::FetchError;
pub use hash::content_hash;
pub use manifest::{Archive, Download, Exclude, Files, Keep, Manifest, PINNED, Payload, Source};

use download::Location;
use error::IoContext;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Environment variable with a mirror for [`FetchOptions::mirror`].
pub const MIRROR_ENV: &str = "LOCKSTEP_FIXTURES_MIRROR";

/// Prefix of the staging directories a fetch creates inside the destination.
const STAGING_PREFIX: &str = ".lockstep-fetch-";

/// Name of the lock file a fetch holds inside the destination.
pub const LOCK_FILE: &str = ".lockstep-fetch.lock";

/// What [`fetch`] does.
#[derive(Clone, Debug)]
pub struct FetchOptions<'a> {
    /// Destination fixtures directory, created if missing (with its parents).
    pub dir: PathBuf,
    /// The sources to fetch; [`PINNED`] from [`FetchOptions::new`].
    pub manifest: Manifest<'a>,
    /// Fetch `<mirror>/<file name>` instead of each source URL (file names:
    /// [`Download::mirror_name`]). An `http://` or `https://` base URL, or else a local
    /// directory (a `file://` prefix is allowed). [`FetchOptions::new`] reads
    /// `LOCKSTEP_FIXTURES_MIRROR`.
    pub mirror: Option<String>,
    /// Longest wait for connecting, for the response headers and for each read of the body;
    /// a stalled download fails after this long. Default 60 s.
    pub timeout: Duration,
    /// Largest download accepted, in bytes (compressed size for archives). Default 4 GiB.
    pub max_download_bytes: u64,
    /// Largest total size of the files kept from one archive, in bytes. Default 4 GiB.
    pub max_unpacked_bytes: u64,
    /// A progress bar on stderr while downloading, drawn only if stderr is a terminal.
    /// Default true.
    pub progress: bool,
}

impl FetchOptions<'static> {
    /// The pinned manifest into `dir`, with the mirror from `LOCKSTEP_FIXTURES_MIRROR` (if
    /// set and non-empty) and the defaults above.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FetchOptions {
            dir: dir.into(),
            manifest: PINNED,
            mirror: std::env::var(MIRROR_ENV).ok().filter(|m| !m.is_empty()),
            timeout: Duration::from_secs(60),
            max_download_bytes: 4 << 30,
            max_unpacked_bytes: 4 << 30,
            progress: true,
        }
    }
}

/// What [`fetch`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchReport {
    /// The destination directory.
    pub dir: PathBuf,
    /// Names of the sources downloaded and installed, in manifest order.
    pub fetched: Vec<String>,
    /// Names of the sources already present with the right content hash (not downloaded).
    pub already_present: Vec<String>,
    /// Bytes downloaded in all.
    pub downloaded_bytes: u64,
}

/// How a source's installed files compare with its pinned content hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Present, and the content hash matches.
    Ok,
    /// At least one of [`Source::installs`] does not exist.
    Missing,
    /// Present, with this content hash instead of the pinned one.
    Mismatch { actual: String },
}

/// One source's [`Status`] in a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification<'a> {
    pub source: Source<'a>,
    pub status: Status,
}

/// Checks `dir` against the [`PINNED`] manifest; see [`verify_with`].
pub fn verify(dir: &Path) -> Result<Vec<Verification<'static>>, FetchError> {
    verify_with(&PINNED, dir)
}

/// Each source of `manifest` checked in `dir`, in manifest order. Reads only (works on a
/// read-only copy); about 0.3 s per 100 MB. Errors: an invalid manifest, or a file that
/// cannot be read.
pub fn verify_with<'a>(manifest: &Manifest<'a>, dir: &Path) -> Result<Vec<Verification<'a>>, FetchError> {
    manifest.validate()?;
    manifest.sources.iter().map(|s| Ok(Verification { source: *s, status: status(dir, s)? })).collect()
}

fn status(dir: &Path, source: &Source) -> Result<Status, FetchError> {
    let installs = source.installs();
    if !installs.iter().all(|p| dir.join(p).exists()) {
        return Ok(Status::Missing);
    }
    let actual = content_hash(dir, &installs)?;
    Ok(if actual == source.content_sha256 { Status::Ok } else { Status::Mismatch { actual } })
}

/// Installs every source of `opts.manifest` into `opts.dir` that is not already there with
/// the right content hash, in manifest order, stopping at the first error. A source that
/// fails leaves what was there before untouched (earlier sources stay installed). Errors:
/// [`FetchError`]; a mismatch names the source and both hashes.
pub fn fetch(opts: &FetchOptions) -> Result<FetchReport, FetchError> {
    opts.manifest.validate()?;
    let dir = &opts.dir;
    fs::create_dir_all(dir).ctx(|| format!("creating {}", dir.display()))?;
    let _lock = lock(dir)?;
    remove_stale_staging(dir)?;
    let agent = download::agent(opts);
    let mut report = FetchReport { dir: dir.clone(), ..FetchReport::default() };
    for source in opts.manifest.sources {
        if status(dir, source)? == Status::Ok {
            report.already_present.push(source.name.to_string());
            continue;
        }
        report.downloaded_bytes += fetch_source(&agent, opts, source)?;
        report.fetched.push(source.name.to_string());
    }
    Ok(report)
}

/// Downloads, unpacks, checks and installs one source; returns the bytes downloaded.
fn fetch_source(agent: &ureq::Agent, opts: &FetchOptions, source: &Source) -> Result<u64, FetchError> {
    let name = source.name;
    let dir = &opts.dir;
    // Inside the destination so that the final renames stay on one file system; removed on
    // every exit path when dropped.
    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(dir)
        .ctx(|| format!("{name}: creating a staging directory in {}", dir.display()))?;
    let new = staging.path().join("new");
    fs::create_dir(&new).ctx(|| format!("{name}: creating {}", new.display()))?;
    let mut bytes = 0;
    for d in source.downloads() {
        let from = Location::new(&d.url, opts.mirror.as_deref(), d.mirror_name);
        match (&source.payload, &d.install_path) {
            (Payload::Archive(a), _) => {
                let file = staging.path().join("download");
                let got = download::download(agent, &from, &file, name, opts)?;
                bytes += got.bytes;
                if let Some(expected) = a.sha256.filter(|e| *e != got.sha256) {
                    return Err(FetchError::ArchiveMismatch {
                        name: name.to_string(),
                        url: from.display(),
                        expected: expected.to_string(),
                        actual: got.sha256,
                    });
                }
                extract::extract(&file, a, &new, name, opts.max_unpacked_bytes)?;
                fs::remove_file(&file).ctx(|| format!("{name}: removing {}", file.display()))?;
            }
            (Payload::Files(_), Some(path)) => {
                let target = new.join(path);
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).ctx(|| format!("{name}: creating {}", parent.display()))?;
                }
                bytes += download::download(agent, &from, &target, name, opts)?.bytes;
            }
            (Payload::Files(_), None) => unreachable!("a file download always has an install path"),
        }
    }
    let installs = source.installs();
    let actual = content_hash(&new, &installs)?;
    if actual != source.content_sha256 {
        let expected = source.content_sha256.to_string();
        return Err(FetchError::ContentMismatch { name: name.to_string(), expected, actual });
    }
    install(&new, &staging.path().join("old"), dir, &installs, name)?;
    Ok(bytes)
}

/// Renames each verified root `new/<rel>` to `dir/<rel>`, first moving an existing
/// `dir/<rel>` aside into `old`. On failure, what was moved is moved back.
fn install(new: &Path, old: &Path, dir: &Path, installs: &[&str], name: &str) -> Result<(), FetchError> {
    fs::create_dir_all(old).ctx(|| format!("{name}: creating {}", old.display()))?;
    let mut aside: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut placed: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut step = || -> Result<(), FetchError> {
        for (i, rel) in installs.iter().enumerate() {
            let target = dir.join(rel);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).ctx(|| format!("{name}: creating {}", parent.display()))?;
            }
            if target.symlink_metadata().is_ok() {
                let parked = old.join(i.to_string());
                fs::rename(&target, &parked).ctx(|| format!("{name}: moving {} aside", target.display()))?;
                aside.push((target.clone(), parked));
            }
            let from = new.join(rel);
            fs::rename(&from, &target).ctx(|| format!("{name}: renaming into {}", target.display()))?;
            placed.push((from, target));
        }
        Ok(())
    };
    let result = step();
    if result.is_err() {
        for (from, target) in placed.iter().rev() {
            let _ = fs::rename(target, from);
        }
        for (target, parked) in aside.iter().rev() {
            let _ = fs::rename(parked, target);
        }
    }
    result
}

/// An exclusive lock on `dir/.lockstep-fetch.lock`, held while the returned file lives.
fn lock(dir: &Path) -> Result<fs::File, FetchError> {
    let path = dir.join(LOCK_FILE);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .ctx(|| format!("opening lock file {}", path.display()))?;
    file.lock().ctx(|| format!("locking {}", path.display()))?;
    Ok(file)
}

/// Staging directories left by a fetch that was killed; only called under the lock, so no
/// live fetch owns them.
fn remove_stale_staging(dir: &Path) -> Result<(), FetchError> {
    for entry in fs::read_dir(dir).ctx(|| format!("listing {}", dir.display()))? {
        let entry = entry.ctx(|| format!("listing {}", dir.display()))?;
        if entry.file_name().to_str().is_some_and(|n| n.starts_with(STAGING_PREFIX)) {
            let path = entry.path();
            fs::remove_dir_all(&path).ctx(|| format!("removing stale {}", path.display()))?;
        }
    }
    Ok(())
}

/// The default fixtures cache: `$LOCKSTEP_CACHE`, else `$XDG_CACHE_HOME/lockstep/fixtures`
/// (when absolute), else `~/.cache/lockstep/fixtures`. Empty variables count as unset.
/// `None` only when no home directory is known either.
pub fn default_cache_dir() -> Option<PathBuf> {
    let var = |k| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("LOCKSTEP_CACHE")
        .or_else(|| var("XDG_CACHE_HOME").filter(|p| p.is_absolute()).map(|p| p.join("lockstep/fixtures")))
        .or_else(|| std::env::home_dir().map(|h| h.join(".cache/lockstep/fixtures")))
}
