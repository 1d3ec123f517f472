//! Finding fixture files and loading them into cases. Bad input never stops a run: every
//! problem becomes an error that names the file, the test when there is one, and the field
//! with its line and column.
//!
//! The walk follows symlinks but not loops, takes each file once however many paths lead to
//! it (by device and inode), and never opens what is not a regular file (a FIFO would block
//! the read forever). A file is read only up to [`LoadOptions::max_file_bytes`].

use crate::case::{self, CaseError, CaseInput, Expanded, Skipped};
use crate::fixture;
use crate::json::{self, Location};
use lockstep_executors::Fork;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The default cap on a fixture file's size: 64 MiB, about 18 times the largest official
/// state test (3.5 MB, `transaction_validity_type_4.json` of pectra-devnet-5).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 << 20;

/// How files are loaded.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions {
    /// Only the post entries of this fork; `None`: every fork.
    pub fork: Option<Fork>,
    /// A larger file is an error and is not read. Default [`DEFAULT_MAX_FILE_BYTES`].
    pub max_file_bytes: u64,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions { fork: None, max_file_bytes: DEFAULT_MAX_FILE_BYTES }
    }
}

/// Everything one file gave.
#[derive(Debug, Default)]
pub struct LoadedFile {
    /// The file's path, as displayed.
    pub path: Arc<str>,
    /// Its cases, skipped cases and errors.
    pub expanded: Expanded,
    /// Fields we did not recognise (`test.env.someField`), once each.
    pub unknown_fields: Vec<String>,
    /// The same fields by their path within the test (`env.someField`), once each: what
    /// tests of any name have in common.
    pub unknown_field_paths: Vec<String>,
}

/// The regular files under the given paths, sorted, each once, and an error for each path
/// that gives none and for each thing found that cannot be used: a `*.json` that is not a
/// regular file, a symlink loop or a dangling symlink, an unreadable directory, a directory
/// on another file system than the path it was found under (not searched: pass it on its
/// own). A file named directly is taken whatever its name; in directories, `*.json` files.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<CaseError>) {
    let mut found: Vec<(PathBuf, FileId)> = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let meta = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let what = if p.symlink_metadata().is_ok() {
                    "a symlink to nothing (its target does not exist)"
                } else {
                    "no such file or directory"
                };
                errors.push(path_error(p, what));
                continue;
            }
            Err(e) => {
                errors.push(path_error(p, &format!("cannot read: {e}")));
                continue;
            }
        };
        if meta.is_file() {
            found.push((p.clone(), FileId::of(p, &meta)));
        } else if meta.is_dir() {
            let (before, errors_before) = (found.len(), errors.len());
            walk(p, &meta, &mut found, &mut errors);
            if found.len() == before && errors.len() == errors_before {
                errors.push(path_error(p, "no JSON fixture files in this directory"));
            }
        } else {
            errors.push(path_error(p, &format!("{}: not opened", not_regular(&meta.file_type()))));
        }
    }
    // The same file reached by several paths counts once, under its shortest path.
    found.sort_by(|(a, _), (b, _)| a.components().count().cmp(&b.components().count()).then_with(|| a.cmp(b)));
    let mut seen = std::collections::HashSet::new();
    found.retain(|(_, id)| seen.insert(id.clone()));
    let mut files: Vec<PathBuf> = found.into_iter().map(|(p, _)| p).collect();
    files.sort();
    (files, errors)
}

fn walk(root: &Path, root_meta: &std::fs::Metadata, found: &mut Vec<(PathBuf, FileId)>, errors: &mut Vec<CaseError>) {
    let root_device = device(root_meta);
    let mut entries = walkdir::WalkDir::new(root).follow_links(true).sort_by_file_name().into_iter();
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let at = e.path().unwrap_or(root).to_path_buf();
                let message = match (e.loop_ancestor(), e.io_error()) {
                    (Some(ancestor), _) => {
                        format!("a symlink loop (leads back to {}): not followed", ancestor.display())
                    }
                    (None, Some(io)) if at.symlink_metadata().is_ok_and(|m| m.is_symlink()) => {
                        format!("a symlink that cannot be followed: {io}")
                    }
                    (None, Some(io)) => format!("cannot read: {io}"),
                    (None, None) => e.to_string(),
                };
                errors.push(path_error(&at, &message));
                continue;
            }
        };
        let path = entry.path();
        let is_json = path.extension().is_some_and(|e| e == "json");
        let ft = entry.file_type();
        if ft.is_dir() {
            if entry.depth() > 0
                && let Ok(meta) = entry.metadata()
                && device(&meta) != root_device
            {
                let message = format!("on another file system than {}: not searched", root.display());
                errors.push(path_error(path, &message));
                entries.skip_current_dir();
            }
            continue;
        }
        if !is_json {
            continue;
        }
        if !ft.is_file() {
            errors.push(path_error(path, &format!("{}: not opened", not_regular(&ft))));
            continue;
        }
        match entry.metadata() {
            Ok(meta) => found.push((path.to_path_buf(), FileId::of(path, &meta))),
            Err(e) => errors.push(path_error(path, &format!("cannot read: {e}"))),
        }
    }
}

/// What identifies a file however it is reached: device and inode where there are such.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum FileId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

impl FileId {
    #[cfg(unix)]
    fn of(_: &Path, meta: &std::fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId::Inode(meta.dev(), meta.ino())
    }

    #[cfg(not(unix))]
    fn of(path: &Path, _: &std::fs::Metadata) -> FileId {
        FileId::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }
}

#[cfg(unix)]
fn device(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::dev(meta)
}

#[cfg(not(unix))]
fn device(_: &std::fs::Metadata) -> u64 {
    0
}

/// What a file that is neither a regular file nor a directory is, in words.
fn not_regular(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "not a regular file (a FIFO)";
        }
        if ft.is_socket() {
            return "not a regular file (a socket)";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "not a regular file (a device)";
        }
    }
    if ft.is_symlink() { "not a regular file (a symlink)" } else { "not a regular file" }
}

fn path_error(p: &Path, message: &str) -> CaseError {
    CaseError::file(&Arc::from(p.display().to_string()), message)
}

/// Reads a file that must be a regular file of at most `max` bytes, without blocking on
/// anything else (a FIFO, a device).
fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let too_large = |len: u64| {
        format!(
            "too large: {len} bytes, over the {max}-byte limit on a fixture file ({:.1} MiB; raise the limit to read it)",
            max as f64 / (1 << 20) as f64
        )
    };
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{}: not opened", not_regular(&meta.file_type())));
    }
    if meta.len() > max {
        return Err(too_large(meta.len()));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(|e| format!("cannot read: {e}"))?;
    // The path may have changed since it was looked at: check what was opened.
    let opened = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !opened.is_file() {
        return Err(format!("{}: not read", not_regular(&opened.file_type())));
    }
    let mut bytes = Vec::with_capacity(opened.len().min(max) as usize);
    file.take(max.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Why a blockchain test in a state-test run is skipped.
pub const BLOCKCHAIN_TEST_REASON: &str = "a blockchain test: run by `lockstep blocktest`";

/// A fixture file's text, at most `max` bytes of UTF-8; else the error, naming the file.
pub(crate) fn read_text(name: &Arc<str>, path: &Path, max: u64) -> Result<String, CaseError> {
    let bytes = read_capped(path, max).map_err(|message| CaseError::file(name, message))?;
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let valid = e.utf8_error().valid_up_to();
        let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let (line, column) = json::position(prefix, valid);
        let at = Location { path: json::JsonPath::root(), line, column };
        let message = format!("malformed JSON: not UTF-8 (byte {valid})");
        CaseError { at: Some(at), ..CaseError::file(name, message) }
    })
}

/// Loads one file and expands its tests, with the default [`LoadOptions`] but `fork`.
/// `keep(test_name)` selects tests.
pub fn load_file(path: &Path, fork: Option<Fork>, keep: &dyn Fn(&str) -> bool) -> LoadedFile {
    load_file_with(path, &LoadOptions { fork, ..LoadOptions::default() }, keep)
}

/// Loads one file and expands its tests. `keep(test_name)` selects tests. A file that yields
/// no case, no skipped case and no error when nothing was filtered out is an error too.
pub fn load_file_with(path: &Path, opts: &LoadOptions, keep: &dyn Fn(&str) -> bool) -> LoadedFile {
    let name: Arc<str> = Arc::from(path.display().to_string());
    match read_text(&name, path, opts.max_file_bytes) {
        Ok(text) => load_text(name, &text, opts, keep),
        Err(e) => {
            let mut out = LoadedFile { path: name, ..Default::default() };
            out.expanded.errors.push(e);
            out
        }
    }
}

/// [`load_file_with`] on a file's text, `name` standing for its path in what it reports
/// (`opts.max_file_bytes` is the reader's, not checked here).
pub fn load_text(name: Arc<str>, text: &str, opts: &LoadOptions, keep: &dyn Fn(&str) -> bool) -> LoadedFile {
    let mut out = LoadedFile { path: name.clone(), ..Default::default() };
    let skip_reason = crate::skip::file_reason(&name);
    let parsed = match (fixture::parse(text), skip_reason) {
        (Ok(p), _) => p,
        // A skipped file may be skipped precisely because it cannot be represented.
        (Err(_), Some(reason)) => return skipped_whole(out, reason),
        (Err(e), None) => {
            out.expanded.errors.push(CaseError { at: Some(e.at), ..CaseError::file(&name, e.message) });
            return out;
        }
    };
    // Errors about the file's content as a whole are at its root value.
    let root = || {
        let (line, column) = json::position(text, text.len() - text.trim_start().len());
        Some(Location { path: json::JsonPath::root(), line, column })
    };
    if parsed.tests.is_empty() {
        out.expanded.errors.push(CaseError { at: root(), ..CaseError::file(&name, "the file holds no tests") });
        return out;
    }
    if let Some(reason) = skip_reason
        && parsed.tests.iter().any(|t| t.test.is_err())
    {
        return skipped_whole(out, reason);
    }
    let mut unknown = Vec::new();
    let mut filtered = false;
    for t in &parsed.tests {
        if !keep(&t.name) {
            filtered = true;
            continue;
        }
        let test = match &t.test {
            Ok(test) => test,
            Err(_) if crate::blockchain::kind_of(t.raw) == crate::blockchain::TestKind::Blockchain => {
                let id = case::CaseId {
                    file: name.clone(),
                    test: Arc::from(t.name.as_str()),
                    fork: "-".into(),
                    indexes: Default::default(),
                };
                out.expanded.skipped.push(Skipped { id, reason: BLOCKCHAIN_TEST_REASON });
                continue;
            }
            Err(e) => {
                out.expanded.errors.push(CaseError {
                    file: name.clone(),
                    test: Arc::from(t.name.as_str()),
                    at: Some(e.at.clone()),
                    message: e.message.clone(),
                });
                continue;
            }
        };
        unknown.extend(t.unknown_fields.iter().map(|f| format!("{}.{f}", t.name)));
        out.unknown_field_paths.extend(t.unknown_fields.iter().cloned());
        let mut expanded = Expanded::default();
        case::expand(&name, &t.name, test, opts.fork, &mut expanded);
        // Place the errors and unbuildable cases in the file's text.
        let offset = json::offset_in(text, t.raw);
        let place = |at: &mut Location| {
            let (found, spelled) = json::locate(t.raw, &at.path);
            (at.line, at.column) = json::position(text, offset + found);
            at.path = spelled;
        };
        for e in &mut expanded.errors {
            if let Some(at) = e.at.as_mut().filter(|at| at.line == 0) {
                place(at);
            }
        }
        for c in &mut expanded.cases {
            if let CaseInput::Unbuildable { at, .. } = &mut c.input {
                place(at);
            }
        }
        if let Some(reason) = skip_reason {
            // Every case of a skip-listed file is skipped, and what could not be formed too.
            let cases = std::mem::take(&mut expanded.cases);
            expanded.skipped.splice(0..0, cases.into_iter().map(|c| Skipped { id: c.id, reason }));
            expanded.errors.clear();
        }
        out.expanded.cases.append(&mut expanded.cases);
        out.expanded.skipped.append(&mut expanded.skipped);
        out.expanded.errors.append(&mut expanded.errors);
    }
    unknown.sort();
    unknown.dedup();
    out.unknown_fields = unknown;
    out.unknown_field_paths.sort();
    out.unknown_field_paths.dedup();
    let e = &out.expanded;
    if !filtered && opts.fork.is_none() && e.cases.is_empty() && e.skipped.is_empty() && e.errors.is_empty() {
        let message = "the file yields no case: nothing to check";
        out.expanded.errors.push(CaseError { at: root(), ..CaseError::file(&name, message) });
    }
    out
}

fn skipped_whole(mut out: LoadedFile, reason: &'static str) -> LoadedFile {
    let id =
        case::CaseId { file: out.path.clone(), test: Arc::from("-"), fork: "-".into(), indexes: Default::default() };
    out.expanded.skipped.push(Skipped { id, reason });
    out
}
