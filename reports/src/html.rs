//! A self-contained HTML report: one file, no script, no network. Charts are inline SVG drawn
//! with plotters: pass rate per fork and category, speedup and re-execution ratio per workload
//! and thread count, divergence rate and detection time per stress configuration or hunted
//! bug, and for each divergence the conflict graph of its block.

use crate::model::{ConflictGraph, Report, Status};
use plotters::prelude::*;
use std::fmt::Write;

/// `s` escaped for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // Line breaks are kept (a message is shown in <pre>); other controls are made visible.
    let text = s.split('\n').map(|l| crate::text::visible(l).into_owned()).collect::<Vec<_>>().join("\n");
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// One bar of a chart: its label, its value, and whether it stands for a problem.
struct Bar {
    label: String,
    value: f64,
    bad: bool,
}

/// A horizontal bar chart as an SVG element: one row a bar, its label on the left (labels
/// are long: executor, workload, thread count).
fn bar_chart(title: &str, x_desc: &str, bars: &[Bar], x_max: f64) -> String {
    let mut svg = String::new();
    let longest = bars.iter().map(|b| b.label.chars().count()).max().unwrap_or(1) as u32;
    let label_width = (longest * 7 + 16).clamp(60, 420);
    let height = 90 + 26 * bars.len().max(1) as u32;
    {
        let root = SVGBackend::with_string(&mut svg, (label_width + 520, height)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let right = if x_max > 0.0 { x_max * 1.05 } else { 1.0 };
        let n = bars.len().max(1) as f64;
        let chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0f64..right, 0f64..n);
        let Ok(mut chart) = chart else { return String::new() };
        let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
        let _ = chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(bars.len().max(1) * 2 + 1)
            .y_label_formatter(&|y| {
                // Bar i spans [n-1-i, n-i): the first bar on top.
                let k = y.floor() as usize;
                let centred = (y - k as f64 - 0.5).abs() < 1e-6;
                let i = (n as usize).checked_sub(k + 1);
                match i {
                    Some(i) if centred => labels.get(i).cloned().unwrap_or_default(),
                    _ => String::new(),
                }
            })
            .y_label_style(("sans-serif", 12))
            .x_desc(x_desc)
            .draw();
        let _ = chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
            let color = if b.bad { RGBColor(0xc0, 0x39, 0x2b) } else { RGBColor(0x2e, 0x86, 0xc1) };
            let top = n - i as f64;
            Rectangle::new([(0.0, top - 0.85), (b.value, top - 0.15)], color.filled())
        }));
        let _ = root.present();
    }
    svg
}

/// The conflict graph as an SVG element: transactions in a row, an arc from each writer to
/// each reader of what it wrote.
fn conflict_svg(g: &ConflictGraph) -> String {
    let mut svg = String::new();
    let n = g.txs.max(1) as i32;
    let step = 60;
    let width = (step * n + 40) as u32;
    {
        let root = SVGBackend::with_string(&mut svg, (width, 180)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let x = |i: u64| 20 + step / 2 + step * i as i32;
        let y = 140;
        for e in &g.edges {
            let (a, b) = (x(e.writer), x(e.reader));
            let h = ((b - a).abs() / 2).clamp(15, 110);
            let points: Vec<(i32, i32)> = (0..=20)
                .map(|k| {
                    let t = k as f64 / 20.0;
                    let px = a as f64 + (b - a) as f64 * t;
                    let py = y as f64 - 4.0 * h as f64 * t * (1.0 - t);
                    (px as i32, py as i32)
                })
                .collect();
            let _ = root.draw(&PathElement::new(points, RGBColor(0xc0, 0x39, 0x2b).stroke_width(2)));
        }
        for i in 0..g.txs {
            let _ = root.draw(&Circle::new((x(i), y), 14, RGBColor(0x2e, 0x86, 0xc1).filled()));
            let _ =
                root.draw(&Text::new(format!("{i}"), (x(i) - 4, y - 6), ("sans-serif", 13).into_font().color(&WHITE)));
        }
        let _ = root.present();
    }
    svg
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}\
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}td.n{text-align:right}\
.bad{color:#c0392b;font-weight:bold}.ok{color:#1e8449;font-weight:bold}figure{margin:1em 0}";

/// The report as one HTML page.
pub fn render(report: &Report) -> String {
    let mut s = String::new();
    let verdict = if report.ok() { "<span class=\"ok\">passed</span>" } else { "<span class=\"bad\">FAILED</span>" };
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lockstep {job} report</title>\
         <style>{STYLE}</style></head><body>\n<h1>lockstep {job}: {verdict}</h1>\n",
        job = report.job.name()
    );
    let m = &report.meta;
    let _ = writeln!(
        s,
        "<p>lockstep {}{} &middot; <code>{}</code>{} &middot; {} cores, {} {}</p>",
        escape(&m.lockstep_version),
        m.git_revision.as_ref().map(|r| format!(" ({})", escape(r))).unwrap_or_default(),
        escape(&m.command.join(" ")),
        m.seed.map(|x| format!(" &middot; seed {x}")).unwrap_or_default(),
        m.machine.cores,
        escape(&m.machine.os),
        escape(&m.machine.arch)
    );
    s.push_str("<table><tr><th>executor</th><th>role</th><th>version</th></tr>\n");
    for e in &m.executors {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&e.name),
            escape(&e.role),
            escape(&e.version)
        );
    }
    s.push_str("</table>\n");
    for f in &m.fixtures {
        let _ = writeln!(s, "<p>fixtures {} {}</p>", escape(&f.path), escape(f.pinned.as_deref().unwrap_or("")));
    }

    let counts = report.counts();
    if !counts.is_empty() {
        s.push_str("<h2>Pass rate per fork and category</h2>\n");
        let mut bars = Vec::new();
        for (exec, forks) in crate::text::fork_totals(report) {
            for f in forks {
                let rate = f.pass_rate() * 100.0;
                bars.push(Bar { label: format!("{exec} {}", f.fork), value: rate, bad: rate < 100.0 });
            }
        }
        let _ = writeln!(
            s,
            "<figure class=\"chart\" id=\"pass-rate\">{}</figure>",
            bar_chart("pass rate per fork", "% passed", &bars, 100.0)
        );
        s.push_str("<table><tr><th>executor</th><th>fork</th><th>category</th><th>passed</th><th>failed</th><th>diverged</th><th>skipped</th><th>errors</th><th>pass rate</th></tr>\n");
        for r in &counts {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{:.1}%</td></tr>",
                escape(&r.executor),
                escape(&r.fork),
                escape(&r.category),
                r.passed,
                r.failed,
                r.diverged,
                r.skipped,
                r.errors,
                r.pass_rate() * 100.0
            );
        }
        s.push_str("</table>\n");
    }

    // What depends on timing and real threads, in one section that a comparison can drop.
    s.push_str("<section class=\"measured\">\n");
    let tp = &report.measured.throughput;
    if !tp.is_empty() {
        s.push_str("<h2>Speedup and re-execution per workload and thread count</h2>\n");
        let label = |t: &crate::model::Throughput| format!("{} {} t{}", t.workload, t.executor, t.threads);
        let speed: Vec<Bar> =
            tp.iter().map(|t| Bar { label: label(t), value: t.speedup, bad: t.speedup < 1.0 }).collect();
        let max = speed.iter().map(|b| b.value).fold(1.0, f64::max);
        let _ = writeln!(
            s,
            "<figure class=\"chart\" id=\"speedup\">{}</figure>",
            bar_chart("speedup over the reference", "x", &speed, max)
        );
        let reexec: Vec<Bar> =
            tp.iter().map(|t| Bar { label: label(t), value: t.reexecution_ratio, bad: false }).collect();
        let max = reexec.iter().map(|b| b.value).fold(0.1, f64::max);
        let _ = writeln!(
            s,
            "<figure class=\"chart\" id=\"reexecution\">{}</figure>",
            bar_chart("re-executions per transaction", "ratio", &reexec, max)
        );
    }

    let det = &report.measured.detections;
    if !det.is_empty() {
        s.push_str("<h2>Divergence rate and detection time</h2>\n");
        let rate: Vec<Bar> =
            det.iter().map(|d| Bar { label: d.target.clone(), value: d.rate * 100.0, bad: d.rate > 0.0 }).collect();
        let max = rate.iter().map(|b| b.value).fold(1.0, f64::max);
        let _ = writeln!(
            s,
            "<figure class=\"chart\" id=\"divergence-rate\">{}</figure>",
            bar_chart("divergence rate", "% of runs", &rate, max)
        );
        let found: Vec<Bar> =
            det.iter().filter_map(|d| Some(Bar { label: d.target.clone(), value: d.seconds?, bad: false })).collect();
        if !found.is_empty() {
            let max = found.iter().map(|b| b.value).fold(0.01, f64::max);
            let _ = writeln!(
                s,
                "<figure class=\"chart\" id=\"detection-time\">{}</figure>",
                bar_chart("time to first divergence", "s", &found, max)
            );
        }
    }

    let _ = writeln!(s, "<p>wall time {:.1} s</p>\n</section>", report.measured.wall_seconds);
    if !report.workloads.is_empty() {
        s.push_str("<h2>Workloads</h2>\n<table><tr><th>workload</th><th>threads</th><th>blocks</th><th>txs</th><th>divergences</th><th>unsupported</th></tr>\n");
        for w in &report.workloads {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
                escape(&w.workload),
                w.threads,
                w.blocks,
                w.txs,
                w.divergences,
                w.unsupported
            );
        }
        s.push_str("</table>\n");
    }

    if !report.divergences.is_empty() {
        let _ = writeln!(s, "<h2>{} divergences</h2>", report.divergences.len());
        for (i, d) in report.divergences.iter().enumerate() {
            let _ = writeln!(
                s,
                "<h3 id=\"divergence-{i}\">{} vs {} on {}</h3>\n<pre>{}</pre>",
                escape(&d.candidate),
                escape(&d.reference),
                escape(&d.case),
                escape(&d.what)
            );
            if let Some(b) = &d.bundle {
                let _ = writeln!(s, "<p>bundle: <a href=\"{0}\">{0}</a></p>", escape(b));
            }
            if let Some(g) = &d.conflicts {
                let _ = writeln!(s, "<figure class=\"chart conflicts\">{}</figure>", conflict_svg(g));
                s.push_str("<table><tr><th>writer</th><th>reader</th><th>location</th></tr>\n");
                for e in &g.edges {
                    let _ = writeln!(
                        s,
                        "<tr><td class=n>{}</td><td class=n>{}</td><td>{}</td></tr>",
                        e.writer,
                        e.reader,
                        escape(&e.location)
                    );
                }
                s.push_str("</table>\n");
            }
        }
    }
    let failures: Vec<_> = report.cases.iter().filter(|c| c.status == Status::Failed).collect();
    if !failures.is_empty() {
        let _ = writeln!(
            s,
            "<h2>{} failures</h2>\n<table><tr><th>executor</th><th>case</th><th>what</th></tr>",
            failures.len()
        );
        for c in failures {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&c.executor),
                escape(&c.id),
                escape(c.message.as_deref().unwrap_or(""))
            );
        }
        s.push_str("</table>\n");
    }
    if !report.errors.is_empty() {
        let _ = writeln!(
            s,
            "<h2>{} input errors</h2>\n<table><tr><th>file</th><th>test</th><th>error</th></tr>",
            report.errors.len()
        );
        for e in &report.errors {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                escape(&e.file),
                escape(&e.test),
                escape(&e.message),
                escape(&e.location())
            );
        }
        s.push_str("</table>\n");
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_page_with_every_chart_and_no_script() {
        let html = render(&crate::sample::report());
        for id in ["pass-rate", "speedup", "reexecution", "divergence-rate", "detection-time"] {
            assert!(html.contains(&format!("id=\"{id}\"><svg")), "{id} missing");
        }
        assert!(html.contains("class=\"chart conflicts\"><svg"));
        assert!(!html.contains("<script"), "no script");
        assert!(!html.contains("src=") && !html.contains("href=\"http"), "nothing from the network");
        assert!(html.contains("c &lt;&amp;&gt;"), "names are escaped");
        assert_eq!(html, render(&crate::sample::report()), "deterministic");
    }
}
