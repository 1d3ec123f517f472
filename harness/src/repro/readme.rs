//! A bundle's `README.md`: what diverged, in words, and the one command that replays it.

use super::Case;
use lockstep_reports::visible;
use std::path::Path;

/// The README of the bundle in `dir`. Names and messages from the case are printed with
/// control characters escaped: a bundle read from elsewhere cannot forge lines in it.
pub fn readme(dir: &Path, case: &Case) -> String {
    let replay = if case.schedule.is_some() {
        format!(
            "{} explore --replay {} --executor {}",
            crate::registry::program(),
            dir.display(),
            visible(&case.candidate.name)
        )
    } else {
        format!("{} replay {} --repeat 10", crate::registry::program(), dir.display())
    };
    let mut rate = case
        .divergence_rate
        .map(|(h, n)| format!("\nIt diverged in {h} of {n} re-runs after minimization.\n"))
        .unwrap_or_default();
    if let Some(note) = &case.capture {
        rate.push_str(&format!("\n{}\n", note.describe()));
    }
    let st = if case.block.txs.len() == 1 {
        format!(
            "\nOne transaction suffices: `statetest.json` expects the reference's result\n(`lockstep statetest {} --executor {}`).\n",
            dir.join("statetest.json").display(),
            visible(&case.candidate.name)
        )
    } else {
        String::new()
    };
    format!(
        "# {cand} diverges from {refn}\n\n{cand} ({cv}) gives a different result than {refn} ({rv}) on this {n}-transaction {fork} block at {threads} threads.\nFirst difference ({kind}):\n\n```\n{d}\n```\n{rate}{st}\nReplay:\n\n```\n{replay}\n```\n\nFiles: `case.json` (block, executors, divergence), `alloc.json`/`env.json`/`txs.json` (`evm t8n` input){sched}.\n",
        cand = visible(&case.candidate.name),
        refn = visible(&case.reference.name),
        cv = visible(&case.candidate.version),
        rv = visible(&case.reference.version),
        n = case.block.txs.len(),
        fork = case.block.fork,
        threads = case.threads,
        kind = visible(&case.kind),
        d = visible(&case.divergence.to_string()),
        sched = if case.schedule.is_some() { ", `schedule.json` (the controlled schedule)" } else { "" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Divergence;
    use crate::workload::{Family, Workload};
    use lockstep_executors::Sequential;

    #[test]
    fn names_from_the_case_cannot_forge_lines() {
        let block = Workload::new(Family::RawTransfers, 2).generate(1).block;
        let mut case = Case::new(block, &Sequential, &Sequential, 2, Divergence::Hang { after_ms: 1 });
        case.candidate.name = "evil\u{1b}[2J\nall 999 passed".into();
        let text = readme(Path::new("b"), &case);
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(!text.lines().any(|l| l.starts_with("all 999 passed")), "{text}");
    }
}
