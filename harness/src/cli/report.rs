//! `lockstep report`: reports of earlier runs joined, compared, or re-rendered.

use super::args::after_help;
use crate::Result;
use crate::report::{ReportFlags, read};
use clap::{Args, Subcommand};
use lockstep_reports::compare;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(after_help = after_help!(
    "  lockstep report merge shard-1.json shard-2.json --report lockstep-out/report\n  lockstep report diff yesterday.json today.json\n  lockstep report render report.json --html report.html\n  lockstep report schema > report.schema.json"
))]
pub struct ReportArgs {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Subcommand, Debug)]
pub enum Action {
    /// Join the JSON reports of the shards of one run (`--shard I/N`) into the report the
    /// unsharded run gives, and write it (exit 1 when it has problems, as the run would).
    Merge {
        /// The shards' JSON reports.
        #[arg(value_name = "REPORT", required = true, num_args = 1..)]
        reports: Vec<PathBuf>,
        #[command(flatten)]
        report: ReportFlags,
    },
    /// What changed between runs, oldest first: newly failing, newly passing, and flaky
    /// (a case whose status went back and forth); exit 1 when something newly fails.
    Diff {
        /// Two or more JSON reports, oldest first.
        #[arg(value_name = "REPORT", required = true, num_args = 2..)]
        reports: Vec<PathBuf>,
    },
    /// Render a JSON report again, in other formats.
    Render {
        /// The JSON report.
        #[arg(value_name = "REPORT")]
        input: PathBuf,
        #[command(flatten)]
        report: ReportFlags,
    },
    /// Print the JSON Schema of reports.
    Schema,
}

pub fn run(a: ReportArgs) -> Result<ExitCode> {
    match a.action {
        Action::Merge { reports, report } => {
            let parts = reports.iter().map(|p| read(p)).collect::<Result<Vec<_>>>()?;
            let mut merged = compare::merge(parts).map_err(crate::Error::Usage)?;
            print!("{}", lockstep_reports::text::render(&merged, 20));
            let baseline = report.load_baseline()?;
            let ok = report.finish(&mut merged, baseline.as_ref())?;
            Ok(super::found(!ok))
        }
        Action::Diff { reports } => {
            let runs = reports.iter().map(|p| read(p)).collect::<Result<Vec<_>>>()?;
            let changes = compare::diff(&runs);
            print!("{}", changes.render());
            Ok(super::found(!changes.newly_failing.is_empty()))
        }
        Action::Render { input, report } => {
            let mut r = read(&input)?;
            print!("{}", lockstep_reports::text::render(&r, 20));
            let baseline = report.load_baseline()?;
            let ok = report.finish(&mut r, baseline.as_ref())?;
            Ok(super::found(!ok))
        }
        Action::Schema => {
            print!("{}", lockstep_reports::json::schema());
            Ok(ExitCode::SUCCESS)
        }
    }
}
