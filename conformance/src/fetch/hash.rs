//! The content hash: what a source's installed files must hash to, independent of how they
//! were packed (GitHub's generated archives differ byte for byte between downloads).

use super::FetchError;
use super::error::IoContext;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Read;
use std::path::{Component, Path};

/// The content hash of the files under `subtrees` (each a `/`-separated path relative to
/// `root`: a directory, or a single file), as 64 lowercase hex digits.
///
/// It is the sha256 of the lines `"<sha256 of the file's bytes, hex>  <path>\n"`, one per
/// regular file, where `<path>` is relative to `root` with `/` separators and the lines are
/// sorted by path bytewise: exactly what
/// `find SUBTREES -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum`
/// prints when run in `root`. Directories and empty directories add nothing; symbolic links
/// are followed. Errors: a subtree that does not exist (`Io` with `NotFound`), an unreadable
/// file, or a path that is not UTF-8 or holds a newline or backslash (which `sha256sum`
/// would escape).
pub fn content_hash(root: &Path, subtrees: &[&str]) -> Result<String, FetchError> {
    let mut files: Vec<(String, std::path::PathBuf)> = Vec::new();
    for sub in subtrees {
        let top = root.join(sub);
        std::fs::metadata(&top).ctx(|| format!("reading {}", top.display()))?;
        for entry in walkdir::WalkDir::new(&top).follow_links(true) {
            let entry = entry.map_err(|e| {
                let what = format!("walking {}", top.display());
                FetchError::Io { what, error: e.into() }
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = slash_path(entry.path().strip_prefix(root).unwrap_or(entry.path())).ok_or_else(|| {
                let what = format!("hashing {}", entry.path().display());
                FetchError::Io {
                    what,
                    error: std::io::Error::other("path not hashable (not UTF-8, newline or backslash)"),
                }
            })?;
            files.push((rel, entry.into_path()));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files.dedup_by(|a, b| a.0 == b.0);
    let mut listing = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    for (rel, path) in &files {
        let mut file = File::open(path).ctx(|| format!("opening {}", path.display()))?;
        let mut h = Sha256::new();
        loop {
            let n = file.read(&mut buf).ctx(|| format!("reading {}", path.display()))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        listing.update(hex(&h.finalize()).as_bytes());
        listing.update(b"  ");
        listing.update(rel.as_bytes());
        listing.update(b"\n");
    }
    Ok(hex(&listing.finalize()))
}

/// `path` (relative, plain components) as a `/`-separated string.
fn slash_path(path: &Path) -> Option<String> {
    let mut out = String::new();
    for c in path.components() {
        let Component::Normal(c) = c else { return None };
        let c = c.to_str()?;
        if c.contains(['\n', '\\']) {
            return None;
        }
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(c);
    }
    Some(out)
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
