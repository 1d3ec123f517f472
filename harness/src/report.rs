//! Filling the report model: the run's metadata (lockstep's version and revision, the
//! executors and their versions, the fixture sources with their pins, the command line, the
//! machine), and the report flags every job shares. The renderers live in `lockstep-reports`.

use lockstep_executors::Executor;
use lockstep_reports::{ExecutorInfo, FixtureSource, Machine, Meta, Report, Shard, compare, json, write::Targets};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The git revision lockstep was built from, when the build could read it.
pub const GIT_REVISION: Option<&str> = option_env!("LOCKSTEP_GIT_REVISION");

/// The metadata of this run: `executors` with their roles, the reference first.
pub fn meta(executors: &[(&Arc<dyn Executor>, &str)], seed: Option<u64>, fixtures: &[PathBuf]) -> Meta {
    Meta {
        lockstep_version: env!("CARGO_PKG_VERSION").into(),
        git_revision: GIT_REVISION.filter(|r| !r.is_empty()).map(Into::into),
        command: std::env::args().collect(),
        seed,
        executors: executors
            .iter()
            .map(|(e, role)| ExecutorInfo { name: e.name().into(), version: e.version(), role: (*role).into() })
            .collect(),
        fixtures: fixtures.iter().map(|p| fixture_source(p)).collect(),
        machine: Machine::this(),
        shard: None,
    }
}

/// A fixture path with the pinned set it lies in, when it lies in one.
fn fixture_source(path: &Path) -> FixtureSource {
    let full = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let pinned = lockstep_conformance::fetch::PINNED.sources.iter().find_map(|s| {
        let inside = s.installs().iter().any(|i| {
            let i = Path::new(i);
            full.ancestors().any(|a| a.ends_with(i))
        });
        inside.then(|| {
            let from = match s.payload {
                lockstep_conformance::fetch::Payload::Archive(a) => a.url.to_string(),
                lockstep_conformance::fetch::Payload::Files(f) => f.base_url.to_string(),
            };
            format!("{} {from} (content sha256 {})", s.name, s.content_sha256)
        })
    });
    FixtureSource { path: path.display().to_string(), pinned }
}

/// `I/N`: shard I (1-based) of N.
pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let (i, n) = s.split_once('/').ok_or("expected I/N, e.g. 1/4")?;
    let index: u64 = i.trim().parse().map_err(|_| format!("`{i}` is not a shard number"))?;
    let count: u64 = n.trim().parse().map_err(|_| format!("`{n}` is not a shard count"))?;
    if count == 0 || index == 0 || index > count {
        return Err(format!("shard {index}/{count}: I must be between 1 and N"));
    }
    Ok(Shard { index, count })
}

/// Reads a report written by `--json` or `--report`.
pub fn read(path: &Path) -> crate::Result<Report> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::io(path, e))?;
    json::parse(&text).map_err(|e| crate::Error::bad_input(path, format!("not a lockstep report: {e}")))
}

/// The report flags, the same on every job.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ReportFlags {
    /// Write the report in every format into DIR (report.json, junit.xml, summary.md,
    /// report.html); each file is written whole or not at all.
    #[arg(long = "report", value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Write the JSON report (schema: reports/schema/report.schema.json) to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write JUnit XML (one test case per case and executor) to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a Markdown summary to FILE (it is also appended to $GITHUB_STEP_SUMMARY when set).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Fail only on problems this earlier JSON report lacks; the ones it has are listed as known.
    #[arg(long, value_name = "REPORT")]
    pub baseline: Option<PathBuf>,
}

impl ReportFlags {
    fn targets(&self) -> Targets {
        Targets {
            dir: self.dir.clone(),
            json: self.json.clone(),
            junit: self.junit.clone(),
            markdown: self.markdown.clone(),
            html: self.html.clone(),
        }
    }

    /// Before the job runs, so that a run does not find out at its end that it cannot write
    /// its report: checks that every target's directory takes files, and reads the baseline.
    pub fn load_baseline(&self) -> crate::Result<Option<Report>> {
        for (_, path) in self.targets().files() {
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir).map_err(|e| crate::Error::io(dir, e))?;
            tempfile::tempfile_in(dir).map_err(|e| crate::Error::io(dir, e))?;
        }
        self.baseline.as_deref().map(read).transpose()
    }

    /// Judges `report` against the baseline, writes every target, and prints where. Returns
    /// whether the run passes ([`Report::ok`]).
    pub fn finish(&self, report: &mut Report, baseline: Option<&Report>) -> crate::Result<bool> {
        if let (Some(b), Some(path)) = (baseline, &self.baseline) {
            compare::apply_baseline(report, b, &path.display().to_string());
            let o = report.baseline.as_ref().expect("just set");
            println!(
                "baseline {}: {} known, {} new, {} fixed",
                path.display(),
                o.known.len(),
                o.new.len(),
                o.fixed.len()
            );
            for n in o.new.iter().take(20) {
                println!("  NEW {}", lockstep_reports::visible(n));
            }
        }
        let written = self.targets().write(report).map_err(|e| crate::Error::Resource(format!("report: {e}")))?;
        for p in written {
            println!("report: {}", p.display());
        }
        Ok(report.ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_bad_ones_are_named() {
        assert_eq!(parse_shard("2/4").unwrap(), Shard { index: 2, count: 4 });
        assert!(parse_shard("0/4").is_err());
        assert!(parse_shard("5/4").is_err());
        assert!(parse_shard("x/4").unwrap_err().contains("`x`"));
        assert!(parse_shard("4").is_err());
    }

    #[test]
    fn a_fixture_path_inside_a_pinned_set_names_its_pin() {
        let s = fixture_source(Path::new("/somewhere/ethereum-tests/GeneralStateTests/stExample"));
        assert!(s.pinned.as_deref().is_some_and(|p| p.starts_with("ethereum-tests https://")), "{s:?}");
        assert_eq!(fixture_source(Path::new("/tmp/mine")).pinned, None);
    }
}
