//! Markdown for a CI step summary (GitHub's `$GITHUB_STEP_SUMMARY`, GitLab's and Gitea's
//! Markdown reports): counts per executor, fork and category, then the divergences with
//! links to their bundles, failures and input errors.

use crate::model::{Report, Status};
use std::fmt::Write;

/// Text for a Markdown table cell: no line breaks, pipes and markup characters escaped.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in crate::text::visible(s).chars() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The report as Markdown, listing at most `max_listed` of each kind of problem.
pub fn render(report: &Report, max_listed: usize) -> String {
    let mut s = String::new();
    let verdict = if report.ok() { "passed" } else { "FAILED" };
    let _ = writeln!(s, "## lockstep {}: {verdict}\n", report.job.name());
    let execs: Vec<String> =
        report.meta.executors.iter().map(|e| format!("`{}` ({})", cell(&e.name), e.role)).collect();
    let _ = writeln!(
        s,
        "lockstep {}{}, executors {}{}{}\n",
        report.meta.lockstep_version,
        report.meta.git_revision.as_ref().map(|r| format!(" ({r})")).unwrap_or_default(),
        execs.join(", "),
        report.meta.seed.map(|x| format!(", seed {x}")).unwrap_or_default(),
        report.meta.shard.map(|x| format!(", shard {}/{}", x.index, x.count)).unwrap_or_default(),
    );
    if !report.cases.is_empty() {
        s.push_str("| executor | fork | category | passed | failed | diverged | skipped | errors |\n");
        s.push_str("|---|---|---|--:|--:|--:|--:|--:|\n");
        for r in report.counts() {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&r.executor),
                cell(&r.fork),
                cell(&r.category),
                r.passed,
                r.failed,
                r.diverged,
                r.skipped,
                r.errors
            );
        }
        s.push('\n');
        let skipped = report.cases.iter().filter(|c| c.status == Status::Skipped);
        let mut reasons: std::collections::BTreeMap<&str, u64> = Default::default();
        for c in skipped {
            *reasons.entry(c.message.as_deref().unwrap_or("no reason given")).or_default() += 1;
        }
        if !reasons.is_empty() {
            s.push_str("Skipped, by reason:\n\n");
            for (why, n) in reasons {
                let _ = writeln!(s, "- {n}: {}", cell(why));
            }
            s.push('\n');
        }
    }
    if !report.workloads.is_empty() {
        s.push_str("| workload | threads | blocks | txs | divergences | unsupported |\n|---|--:|--:|--:|--:|--:|\n");
        for w in &report.workloads {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&w.workload),
                w.threads,
                w.blocks,
                w.txs,
                w.divergences,
                w.unsupported
            );
        }
        s.push('\n');
    }
    if !report.divergences.is_empty() {
        let _ = writeln!(s, "### {} divergences\n", report.divergences.len());
        for d in report.divergences.iter().take(max_listed) {
            let bundle =
                d.bundle.as_ref().map(|b| format!(" ([bundle]({}))", b.replace(' ', "%20"))).unwrap_or_default();
            let _ = writeln!(
                s,
                "- **{}** vs {} on {}: {}{bundle}",
                cell(&d.candidate),
                cell(&d.reference),
                cell(&d.case),
                cell(d.what.lines().next().unwrap_or(""))
            );
        }
        s.push('\n');
    }
    let failures: Vec<_> = report.cases.iter().filter(|c| c.status == Status::Failed).collect();
    if !failures.is_empty() {
        let _ = writeln!(s, "### {} failures\n", failures.len());
        for c in failures.iter().take(max_listed) {
            let first = c.message.as_deref().and_then(|m| m.lines().next()).unwrap_or("-");
            let _ = writeln!(s, "- `{}` {}: {}", cell(&c.executor), cell(&c.id), cell(first));
        }
        s.push('\n');
    }
    if !report.errors.is_empty() {
        let _ = writeln!(s, "### {} input errors\n", report.errors.len());
        for e in report.errors.iter().take(max_listed) {
            let _ =
                writeln!(s, "- {} :: {}: {}{}", cell(&e.file), cell(&e.test), cell(&e.message), cell(&e.location()));
        }
        s.push('\n');
    }
    if let Some(b) = &report.baseline {
        let _ = writeln!(
            s,
            "Baseline `{}`: {} known, **{} new**, {} fixed.\n",
            cell(&b.path),
            b.known.len(),
            b.new.len(),
            b.fixed.len()
        );
        for n in b.new.iter().take(max_listed) {
            let _ = writeln!(s, "- new: {}", cell(n));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_fork_and_category_and_bundle_links() {
        let md = render(&crate::sample::report(), 10);
        assert!(md.contains("| block-stm | Prague | stCall | 0 | 0 | 1 | 0 | 0 |"), "{md}");
        assert!(md.contains("([bundle](out/divergences/000-add11))"), "{md}");
        assert!(md.contains("- 2: fork not supported"), "{md}");
        assert!(md.contains("c \\<&\\>"), "markup in names is escaped: {md}");
        assert_eq!(md, render(&crate::sample::report(), 10), "deterministic");
    }
}
