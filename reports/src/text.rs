//! The terminal form: tables through comfy-table, then the first problems. Names and messages
//! from input files go through [`visible`], so that an escape sequence or a newline in a
//! test's name cannot redraw the terminal or forge a line of the report.

use crate::model::{CountRow, Report};
use comfy_table::{CellAlignment, ColumnConstraint, ContentArrangement, Table, presets};
use std::borrow::Cow;
use std::fmt::Write;

/// `s` with control characters (and the bidirectional-text controls, which reorder what a
/// terminal shows) written as `\u{..}` escapes.
pub fn visible(s: &str) -> Cow<'_, str> {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A plain table: a header, a rule of dashes, columns two spaces apart, numeric columns
/// (every cell digits and `.x%-`) aligned right.
pub fn table<const N: usize>(header: [&str; N], rows: &[Vec<String>]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().map(|h| h.to_string()));
    for r in rows {
        t.add_row(r.iter().map(|c| visible(c).into_owned()));
    }
    let numeric = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || ".x%-".contains(c));
    for i in 1..N {
        if !rows.is_empty() && rows.iter().all(|r| r.get(i).is_some_and(|c| numeric(c))) {
            if let Some(col) = t.column_mut(i) {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
    }
    for col in t.column_iter_mut() {
        col.set_padding((0, 2));
        col.set_constraint(ColumnConstraint::ContentWidth);
    }
    // The rule under the header, as wide as each column's widest cell.
    let widths: Vec<usize> = t.column_max_content_widths().iter().map(|w| *w as usize).collect();
    let mut lines = t.lines();
    let mut s = String::new();
    if let Some(h) = lines.next() {
        s.push_str(h.trim_end());
        s.push('\n');
    }
    s.push_str(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
    s.push('\n');
    for l in lines {
        s.push_str(l.trim_end());
        s.push('\n');
    }
    s
}

fn count_cells(label: String, c: &CountRow) -> Vec<String> {
    vec![
        label,
        c.passed.to_string(),
        c.failed.to_string(),
        c.diverged.to_string(),
        c.skipped.to_string(),
        c.errors.to_string(),
    ]
}

/// Per-executor totals per fork, summed over categories.
pub fn fork_totals(report: &Report) -> Vec<(String, Vec<CountRow>)> {
    let mut out: Vec<(String, Vec<CountRow>)> = Vec::new();
    for row in report.counts() {
        let forks = match out.iter_mut().find(|(e, _)| *e == row.executor) {
            Some((_, f)) => f,
            None => {
                out.push((row.executor.clone(), Vec::new()));
                &mut out.last_mut().unwrap().1
            }
        };
        match forks.iter_mut().find(|f| f.fork == row.fork) {
            Some(f) => f.add(&row),
            None => forks.push(CountRow { category: String::new(), ..row }),
        }
    }
    out
}

/// The report as text, listing at most `max_listed` of each kind of problem.
pub fn render(report: &Report, max_listed: usize) -> String {
    let v = visible;
    let mut s = String::new();
    if !report.workloads.is_empty() {
        let rows: Vec<Vec<String>> = report
            .workloads
            .iter()
            .map(|w| {
                let m = report
                    .measured
                    .throughput
                    .iter()
                    .filter(|t| t.workload == w.workload && (w.threads == 0 || t.threads == w.threads))
                    .collect::<Vec<_>>();
                let mean = |f: fn(&crate::model::Throughput) -> f64| {
                    if m.is_empty() { 0.0 } else { m.iter().map(|t| f(t)).sum::<f64>() / m.len() as f64 }
                };
                vec![
                    w.workload.clone(),
                    if w.threads == 0 { "-".into() } else { w.threads.to_string() },
                    w.blocks.to_string(),
                    w.txs.to_string(),
                    w.divergences.to_string(),
                    w.unsupported.to_string(),
                    format!("{:.3}", mean(|t| t.reexecution_ratio)),
                    format!("{:.2}x", mean(|t| t.speedup)),
                ]
            })
            .collect();
        s.push_str(&table(
            ["workload", "threads", "blocks", "txs", "divergences", "unsupported", "re-exec", "speedup"],
            &rows,
        ));
    }
    if !report.cases.is_empty()
        && matches!(report.job, crate::Job::Statetest | crate::Job::Blocktest | crate::Job::Conformance)
    {
        for (exec, forks) in fork_totals(report) {
            let mut total = CountRow::default();
            let mut rows: Vec<Vec<String>> = forks
                .iter()
                .map(|f| {
                    total.add(f);
                    count_cells(f.fork.clone(), f)
                })
                .collect();
            rows.push(count_cells("total".into(), &total));
            let _ = writeln!(s, "executor {}", v(&exec));
            s.push_str(&table(["fork", "passed", "failed", "diverged", "skipped", "errors"], &rows));
            s.push('\n');
        }
    }
    let failures: Vec<_> = report.cases.iter().filter(|c| c.status == crate::Status::Failed).collect();
    if !failures.is_empty() {
        let _ = writeln!(s, "{} failures, first {}:", failures.len(), failures.len().min(max_listed));
        for c in failures.iter().take(max_listed) {
            let _ =
                writeln!(s, "  [{}] {}\n      {}", v(&c.executor), v(&c.id), v(c.message.as_deref().unwrap_or("-")));
        }
    }
    if !report.divergences.is_empty() {
        let n = report.divergences.len();
        let _ = writeln!(s, "{n} divergences, first {}:", n.min(max_listed));
        for d in report.divergences.iter().take(max_listed) {
            let threads = d.threads.map(|t| format!(" ({t} threads)")).unwrap_or_default();
            let _ = writeln!(
                s,
                "  {} vs {}{threads}: {}\n      {}",
                v(&d.candidate),
                v(&d.reference),
                v(&d.case),
                v(&d.what)
            );
            if let Some(b) = &d.bundle {
                let _ = writeln!(s, "      bundle: {}", v(b));
            }
        }
    }
    if !report.errors.is_empty() {
        let n = report.errors.len();
        let _ = writeln!(s, "{n} input errors, first {}:", n.min(max_listed));
        for e in report.errors.iter().take(max_listed) {
            let _ = writeln!(s, "  {} :: {}: {}{}", v(&e.file), v(&e.test), v(&e.message), v(&e.location()));
        }
    }
    for n in &report.notes {
        let _ = writeln!(s, "note: {}", v(n));
    }
    if let Some(b) = &report.baseline {
        let _ = writeln!(
            s,
            "baseline {}: {} known, {} new, {} fixed",
            v(&b.path),
            b.known.len(),
            b.new.len(),
            b.fixed.len()
        );
        for n in b.new.iter().take(max_listed) {
            let _ = writeln!(s, "  NEW {}", v(n));
        }
    }
    if report.checked() == 0 && report.job != crate::Job::Minimize {
        let _ = writeln!(s, "nothing was checked: no case ran, so this is not a pass");
    }
    if report.interrupted {
        let _ = writeln!(s, "interrupted: the report covers what ran before SIGINT");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_numbers_right() {
        let t = table(["name", "n"], &[vec!["a".into(), "5".into()], vec!["bbb".into(), "123".into()]]);
        assert_eq!(t, "name    n\n----  ---\na       5\nbbb   123\n");
    }

    #[test]
    fn names_cannot_forge_lines_or_redraw_the_terminal() {
        let forged = "t\n\u{1b}[2Kall 999 passed\r\u{202e}";
        assert_eq!(visible(forged), "t\\u{a}\\u{1b}[2Kall 999 passed\\u{d}\\u{202e}");
        assert_eq!(visible("plain ü 🦀"), "plain ü 🦀");
        let mut r = crate::sample::report();
        r.cases[0].fork = forged.into();
        r.cases[0].status = crate::Status::Failed;
        r.cases[0].message = Some(forged.into());
        r.errors[0].test = forged.into();
        let text = render(&r, 10);
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
        assert!(text.lines().all(|l| !l.starts_with("all 999")), "{text}");
    }

    #[test]
    fn totals_and_problems_are_listed() {
        let text = render(&crate::sample::report(), 10);
        assert!(text.contains("executor block-stm"), "{text}");
        assert!(text.contains("bundle: out/divergences/000-add11"), "{text}");
        assert!(text.contains("broken.json :: -: not JSON"), "{text}");
    }
}
