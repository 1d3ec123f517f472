//! Unpacking the kept subtrees of a `.tar.gz`, refusing anything that could write outside
//! the staging directory.

use super::FetchError;
use super::error::IoContext;
use super::manifest::{Archive, Exclude, nests};
use flate2::read::GzDecoder;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Component, Path};
use tar::EntryType;

/// Extracts the regular files of `archive_file` under `archive.keep`, less `archive.exclude`,
/// into `out` (at their installed paths), writing at most `max_bytes` bytes of file content.
///
/// Every entry's path is checked, kept or not: one with `..`, a root or a drive prefix
/// refuses the whole archive, as does a link or special file in a kept subtree. Only
/// regular files and their parent directories are created (no links, modes or times), so
/// nothing can land outside `out`. Errors name `name`.
pub(crate) fn extract(
    archive_file: &Path,
    archive: &Archive,
    out: &Path,
    name: &str,
    max_bytes: u64,
) -> Result<(), FetchError> {
    let file = File::open(archive_file).ctx(|| format!("{name}: opening {}", archive_file.display()))?;
    let mut tar = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    let unpack_err = |e| FetchError::Io { what: format!("{name}: unpacking {}", archive.url), error: e };
    let refuse =
        |entry: &str, reason| FetchError::UnsafeEntry { name: name.to_string(), entry: entry.to_string(), reason };
    let mut found = vec![false; archive.keep.len()];
    let mut written = 0u64;
    for entry in tar.entries().map_err(unpack_err)? {
        let mut entry = entry.map_err(unpack_err)?;
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            // GitHub's archives start with one (the commit id); it names no file.
            continue;
        }
        let raw = entry.path().map_err(unpack_err)?.into_owned();
        let shown = raw.to_string_lossy().into_owned();
        let rel = plain_path(&raw).map_err(|reason| refuse(&shown, reason))?;
        let Some((i, dest)) = kept(archive, &rel) else { continue };
        found[i] = true;
        match kind {
            EntryType::Regular | EntryType::Continuous => {}
            EntryType::Directory => continue,
            EntryType::Symlink | EntryType::Link => return Err(refuse(&shown, "a link in a kept subtree")),
            _ => return Err(refuse(&shown, "not a regular file or directory")),
        }
        if excluded(archive.exclude, &dest) {
            continue;
        }
        let target = out.join(&dest);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).ctx(|| format!("{name}: creating {}", parent.display()))?;
        }
        let mut file = File::create(&target).ctx(|| format!("{name}: creating {}", target.display()))?;
        let room = max_bytes.saturating_sub(written);
        let n = std::io::copy(&mut (&mut entry).take(room.saturating_add(1)), &mut file)
            .ctx(|| format!("{name}: unpacking {shown} to {}", target.display()))?;
        written += n;
        if written > max_bytes {
            let what = format!("the files kept from {}", archive.url);
            return Err(FetchError::TooLarge { name: name.to_string(), what, limit: max_bytes });
        }
    }
    if let Some(i) = found.iter().position(|f| !f) {
        let from = archive.keep[i].from.to_string();
        return Err(FetchError::MissingInArchive { name: name.to_string(), url: archive.url.to_string(), from });
    }
    Ok(())
}

/// The entry path as `/`-joined plain components (`.` dropped), or why it is refused.
fn plain_path(path: &Path) -> Result<String, &'static str> {
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(c) => parts.push(c.to_str().ok_or("path is not UTF-8")?),
            Component::CurDir => {}
            Component::ParentDir => return Err("path contains `..`"),
            Component::RootDir | Component::Prefix(_) => return Err("absolute path"),
        }
    }
    if parts.iter().any(|p| p.contains('\\')) {
        return Err("path contains a backslash");
    }
    Ok(parts.join("/"))
}

/// The index of the keep that covers archive path `rel`, and the installed path.
fn kept(archive: &Archive, rel: &str) -> Option<(usize, String)> {
    archive.keep.iter().enumerate().find_map(|(i, k)| {
        if !nests(k.from, rel) {
            return None;
        }
        let tail = &rel[k.from.len()..];
        Some((i, format!("{}{tail}", k.to)))
    })
}

fn excluded(exclude: &[Exclude], dest: &str) -> bool {
    exclude.iter().any(|x| match *x {
        Exclude::File(p) => p == dest,
        Exclude::DirNameContains { under, text } => dest
            .strip_prefix(under)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|rest| rest.rsplit_once('/'))
            .is_some_and(|(dirs, _file)| dirs.split('/').any(|d| d.contains(text))),
    })
}
