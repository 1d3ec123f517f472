//! `lockstep list`: what can be named on the command line.

use super::args::after_help;
use crate::Result;
use crate::schedule::StrategyKind;
use crate::workload::Family;
use clap::{Args, ValueEnum};
use lockstep_executors::Fork;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(after_help = after_help!("  lockstep list executors\n  lockstep list workloads"))]
pub struct ListArgs {
    /// What to list.
    #[arg(value_enum)]
    pub what: What,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum What {
    /// Executors (`--executor`, `--reference`): the bundled ones and those of the executors file.
    Executors,
    /// Workload families (`--workload`).
    Workloads,
    /// Schedule strategies (`explore --strategy`).
    Strategies,
    /// Forks (`statetest --fork`), with the fixture name of each.
    Forks,
}

/// One line per name: the name, then what it is.
fn lines<T: ValueEnum>() -> Vec<(String, String)> {
    T::value_variants()
        .iter()
        .filter_map(|v| v.to_possible_value())
        .map(|p| (p.get_name().to_string(), p.get_help().map(|h| h.to_string()).unwrap_or_default()))
        .collect()
}

pub fn run(a: ListArgs) -> Result<ExitCode> {
    let rows: Vec<(String, String)> = match a.what {
        What::Executors => lockstep_executors::bundled_list()
            .into_iter()
            .map(|(n, d)| (n.to_string(), d.to_string()))
            .chain(
                crate::registry::linked().iter().map(|e| (e.name().to_string(), format!("linked in: {}", e.version()))),
            )
            .chain(crate::registry::external().iter().map(|e| (e.name.clone(), e.description.clone())))
            .collect(),
        What::Workloads => lines::<Family>(),
        What::Strategies => lines::<StrategyKind>(),
        What::Forks => Fork::ALL.iter().map(|f| (f.to_string(), format!("fixtures: {}", f.fixture_name()))).collect(),
    };
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, what) in rows {
        println!("{name:width$}  {what}");
    }
    Ok(ExitCode::SUCCESS)
}
