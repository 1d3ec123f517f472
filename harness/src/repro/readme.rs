//! A bundle's `README.md`: what diverged, in words, and the one command that replays it.

use super::Case;
use std::path::Path;

pub fn readme(dir: &Path, case: &Case) -> String {
    let replay = if case.schedule.is_some() {
        format!("lockstep explore --replay {} --executor {}", dir.display(), case.candidate.name)
    } else {
        format!("lockstep replay {} --repeat 10", dir.display())
    };
    let rate = case
        .divergence_rate
        .map(|(h, n)| format!("\nIt diverged in {h} of {n} fresh runs after minimization.\n"))
        .unwrap_or_default();
    let st = if case.block.txs.len() == 1 {
        format!(
            "\nOne transaction suffices: `statetest.json` expects the reference's result\n(`lockstep statetest {} --executor {}`).\n",
            dir.join("statetest.json").display(),
            case.candidate.name
        )
    } else {
        String::new()
    };
    format!(
        "# {cand} diverges from {refn}\n\n{cand} ({cv}) gives a different result than {refn} ({rv}) on this {n}-transaction {fork} block at {threads} threads.\nFirst difference ({kind}):\n\n```\n{d}\n```\n{rate}{st}\nReplay:\n\n```\n{replay}\n```\n\nFiles: `case.json` (block, executors, divergence), `alloc.json`/`env.json`/`txs.json` (`evm t8n` input){sched}.\n",
        cand = case.candidate.name,
        refn = case.reference.name,
        cv = case.candidate.version,
        rv = case.reference.version,
        n = case.block.txs.len(),
        fork = case.block.fork,
        threads = case.threads,
        kind = case.kind,
        d = case.divergence,
        sched = if case.schedule.is_some() { ", `schedule.json` (the controlled schedule)" } else { "" },
    )
}
