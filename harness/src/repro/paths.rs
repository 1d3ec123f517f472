//! Names that become paths.

use crate::error::{Error, Result};
use alloy_primitives::keccak256;
use std::path::{Path, PathBuf};

/// Longest readable part of a bundle directory's name, in characters, before its hash.
const LABEL_CHARS: usize = 60;

/// Makes `s` safe as one path component: ASCII letters, digits, `-`, `_` and `.` are kept,
/// anything else becomes `_`; leading and trailing dots are dropped (no `.` or `..`), and the
/// result is at most 80 characters.
pub fn sanitize(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' })
        .collect();
    out.trim_matches('.').chars().take(80).collect()
}

/// Creates a new, empty bundle directory under `root/divergences/` and returns it. Its name is
/// `label` sanitized, then shortened, then `-` and 8 hex digits of keccak256 of `identity`
/// (everything that tells this divergence apart: file, test, fork, indexes, executors,
/// seed...), so that names which sanitize or shorten alike stay apart. A directory that
/// already exists is never reused: `-2`, `-3`, ... follow, and each is claimed with one
/// `create_dir`, so two writers never share one.
///
/// Errors: [`Error::Io`] when `root/divergences` cannot be created or nothing can be claimed.
pub fn new_bundle_dir(root: &Path, label: &str, identity: &str) -> Result<PathBuf> {
    let parent = root.join("divergences");
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let short: String = sanitize(label).chars().take(LABEL_CHARS).collect();
    let hash = keccak256(identity.as_bytes());
    let base = format!("{short}-{}", alloy_primitives::hex::encode(&hash[..4]));
    for n in 1..=10_000u32 {
        let name = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        let dir = parent.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&dir, e)),
        }
    }
    Err(Error::io(&parent, std::io::Error::other(format!("10,000 bundles named {base} already exist"))))
}

#[cfg(test)]
mod tests {
    use super::{new_bundle_dir, sanitize};

    #[test]
    fn colliding_names_leave_one_bundle_each() {
        let root = tempfile::tempdir().unwrap();
        // Names that sanitize alike, share a long prefix, or repeat in two files.
        let long = "x".repeat(100);
        let mut labels: Vec<(String, String)> =
            ["", ".", "..", "a/b", "a_b", "a b"].iter().map(|l| (l.to_string(), format!("file1::{l}"))).collect();
        for i in 0..8 {
            labels.push((format!("{long}{i}"), format!("file1::{long}{i}")));
        }
        for f in 0..5 {
            labels.push(("same_test".into(), format!("file{f}::same_test")));
        }
        assert_eq!(labels.len(), 19);
        let dirs: Vec<_> = labels.iter().map(|(l, id)| new_bundle_dir(root.path(), l, id).unwrap()).collect();
        let on_disk = std::fs::read_dir(root.path().join("divergences")).unwrap().count();
        assert_eq!(on_disk, 19, "{dirs:?}");
        // The same identity twice still gets a second directory, never the first one again.
        let again = new_bundle_dir(root.path(), "same_test", "file0::same_test").unwrap();
        assert!(!dirs.contains(&again) && again.to_string_lossy().ends_with("-2"), "{}", again.display());
    }

    #[test]
    fn sanitized_names_stay_one_component() {
        assert_eq!(sanitize("../a/b c"), "_a_b_c");
        assert_eq!(sanitize(".."), "");
        assert_eq!(sanitize(&"x".repeat(100)).len(), 80);
    }
}
