//! Writing reports: every format into a directory, or each into its own file, each written
//! atomically (a temporary file in the same directory, then a rename), so that a run
//! interrupted or killed while writing leaves the old file or the whole new one, never half.

use crate::model::Report;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// [`crate::json`]: `report.json`.
    Json,
    /// [`crate::junit`]: `junit.xml`.
    Junit,
    /// [`crate::markdown`]: `summary.md`.
    Markdown,
    /// [`crate::html`]: `report.html`.
    Html,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [Format::Json, Format::Junit, Format::Markdown, Format::Html];

    /// The file name it has in a report directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Json => "report.json",
            Format::Junit => "junit.xml",
            Format::Markdown => "summary.md",
            Format::Html => "report.html",
        }
    }

    /// The report in this format.
    pub fn render(self, report: &Report) -> String {
        match self {
            Format::Json => crate::json::render(report),
            Format::Junit => crate::junit::render(report),
            Format::Markdown => crate::markdown::render(report, MARKDOWN_LISTED),
            Format::Html => crate::html::render(report),
        }
    }
}

/// Problems of each kind a Markdown summary lists (GitHub caps a step summary at 1 MiB).
pub const MARKDOWN_LISTED: usize = 50;

/// Where a job's report goes: `dir` gets every format; each file flag one format.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    /// `--report DIR`.
    pub dir: Option<PathBuf>,
    /// `--json FILE`.
    pub json: Option<PathBuf>,
    /// `--junit FILE`.
    pub junit: Option<PathBuf>,
    /// `--markdown FILE`.
    pub markdown: Option<PathBuf>,
    /// `--html FILE`.
    pub html: Option<PathBuf>,
}

impl Targets {
    /// Every file to write, with its format.
    pub fn files(&self) -> Vec<(Format, PathBuf)> {
        let mut out = Vec::new();
        if let Some(d) = &self.dir {
            out.extend(Format::ALL.iter().map(|f| (*f, d.join(f.file_name()))));
        }
        for (f, p) in [
            (Format::Json, &self.json),
            (Format::Junit, &self.junit),
            (Format::Markdown, &self.markdown),
            (Format::Html, &self.html),
        ] {
            if let Some(p) = p {
                out.push((f, p.clone()));
            }
        }
        out
    }

    /// Writes every target; then, when `$GITHUB_STEP_SUMMARY` names a file, appends the
    /// Markdown summary to it. Returns the paths written.
    pub fn write(&self, report: &Report) -> std::io::Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for (format, path) in self.files() {
            write_atomic(&path, format.render(report).as_bytes())
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            written.push(path);
        }
        if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty()) {
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&summary)?;
            f.write_all(crate::markdown::render(report, MARKDOWN_LISTED).as_bytes())?;
        }
        Ok(written)
    }
}

/// Writes `bytes` to `path` through a temporary file beside it, synced, then renamed over it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".lockstep-report-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_gets_every_format_and_nothing_is_left_half_written() {
        let dir = tempfile::tempdir().unwrap();
        let report = crate::sample::report();
        let t =
            Targets { dir: Some(dir.path().join("r")), json: Some(dir.path().join("one.json")), ..Default::default() };
        let written = t.write(&report).unwrap();
        assert_eq!(written.len(), 5);
        for f in Format::ALL {
            let text = std::fs::read_to_string(dir.path().join("r").join(f.file_name())).unwrap();
            assert_eq!(text, f.render(&report));
        }
        assert_eq!(crate::json::parse(&std::fs::read_to_string(dir.path().join("one.json")).unwrap()).unwrap(), report);
        let left: Vec<_> = std::fs::read_dir(dir.path().join("r"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with(".lockstep-report-"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
