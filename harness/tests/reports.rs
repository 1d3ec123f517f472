//! Reports on real runs: shards merged equal the unsharded run, a baseline fails only on what
//! is new, the same run gives the same bytes in every format, and the HTML report renders in
//! headless Chromium with every chart.

use std::path::{Path, PathBuf};
use std::process::Command;

fn lockstep() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
}

fn fixture(rel: &str) -> PathBuf {
    lockstep_conformance::fixtures_for_tests().unwrap_or_else(|e| panic!("{e}")).join(rel)
}

fn read(path: &Path) -> lockstep_reports::Report {
    lockstep_reports::json::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A report without what differs between two runs of the same job in other directories.
fn comparable(mut r: lockstep_reports::Report) -> lockstep_reports::Report {
    r.meta.command.clear();
    r.measured = Default::default();
    r
}

fn statetest(args: &[&str], paths: &[PathBuf], json: &Path) -> std::process::Output {
    lockstep().arg("statetest").args(args).arg("--json").arg(json).args(paths).output().unwrap()
}

#[test]
fn shards_merged_equal_the_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let gst = fixture("ethereum-tests/GeneralStateTests");
    let folders = [gst.join("stExample"), gst.join("stArgsZeroOneBalance")];
    let whole = dir.path().join("whole.json");
    let out = statetest(&["-e", "sequential", "-e", "block-stm"], &folders, &whole);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let mut shards = Vec::new();
    for i in 1..=3 {
        let json = dir.path().join(format!("shard-{i}.json"));
        let shard = format!("{i}/3");
        let out = statetest(&["-e", "sequential", "-e", "block-stm", "--shard", &shard], &folders, &json);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
        let part = read(&json);
        assert!(part.files > 0 && part.files < read(&whole).files, "shard {i}: {} files", part.files);
        shards.push(json);
    }
    let merged = dir.path().join("merged.json");
    let out = lockstep().args(["report", "merge"]).args(&shards).arg("--json").arg(&merged).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let (merged, whole) = (read(&merged), read(&whole));
    assert!(whole.cases.len() > 100, "{} cases", whole.cases.len());
    assert_eq!(comparable(merged), comparable(whole));
}

#[test]
fn a_baseline_passes_known_failures_and_fails_on_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures");
    std::fs::create_dir(&fixtures).unwrap();
    let text = std::fs::read_to_string(fixture("ethereum-tests/GeneralStateTests/stExample/add11.json")).unwrap();
    let break_logs = |name: &str| {
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["add11"]["post"]["Cancun"][0]["logs"] = serde_json::json!(format!("0x{}", "22".repeat(32)));
        std::fs::write(fixtures.join(name), v.to_string()).unwrap();
    };
    std::fs::write(fixtures.join("good.json"), &text).unwrap();
    break_logs("known.json");
    let baseline = dir.path().join("baseline.json");
    assert_eq!(statetest(&[], &[fixtures.clone()], &baseline).status.code(), Some(1), "a known failure");
    let with_baseline = |json: &Path| {
        lockstep()
            .args(["statetest", "--baseline"])
            .arg(&baseline)
            .arg("--json")
            .arg(json)
            .arg(&fixtures)
            .output()
            .unwrap()
    };
    let same = dir.path().join("same.json");
    let out = with_baseline(&same);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("1 known, 0 new"), "{stdout}");
    break_logs("new.json");
    let worse = dir.path().join("worse.json");
    let out = with_baseline(&worse);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("1 known, 1 new") && stdout.contains("NEW sequential") && stdout.contains("new.json"),
        "{stdout}"
    );
    // `report diff` names it as newly failing (it was not in the older run at all: added).
    let out = lockstep().args(["report", "diff"]).arg(&same).arg(&worse).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("added: 1") && stdout.contains("new.json"), "{stdout}");
}

#[test]
fn the_same_run_gives_the_same_bytes_in_every_format() {
    let folder = fixture("ethereum-tests/GeneralStateTests/stExample");
    let dir = tempfile::tempdir().unwrap();
    // Run from the same directory with the same arguments, so that the command lines agree.
    let run = || {
        let out = lockstep()
            .current_dir(dir.path())
            .args(["statetest", "--packed", "-e", "sequential", "-e", "block-stm", "--threads", "2", "--report", "r"])
            .arg(&folder)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
        lockstep_reports::write::Format::ALL
            .iter()
            .map(|f| {
                let mut text = std::fs::read_to_string(dir.path().join("r").join(f.file_name())).unwrap();
                // Timings aside: the JSON's `measured` part, the HTML's measured section.
                if let (Some(a), Some(b)) = (text.find("<section class=\"measured\">"), text.find("</section>")) {
                    text.replace_range(a..b, "");
                }
                if let Some(a) = text.find("\"measured\": {") {
                    text.truncate(a);
                }
                text
            })
            .collect::<Vec<_>>()
    };
    let (a, b) = (run(), run());
    for (i, f) in lockstep_reports::write::Format::ALL.iter().enumerate() {
        assert!(a[i] == b[i], "{} differs between two runs", f.file_name());
    }
}

/// A report with every chart, from a real run that finds a planted bug.
fn report_with_charts(dir: &Path) -> PathBuf {
    let out = lockstep()
        .args(["run", "-e", "block-stm-no-estimates", "-e", "block-stm", "-w", "hot-key", "--blocks", "30"])
        .args(["--seed", "3", "--txs", "16", "--out"])
        .arg(dir.join("run"))
        .args(["--report"])
        .arg(dir.join("report"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let json = dir.join("report").join("report.json");
    let mut report = read(&json);
    assert!(!report.divergences.is_empty(), "the planted bug was not found");
    assert!(report.divergences.iter().any(|d| d.conflicts.as_ref().is_some_and(|g| !g.edges.is_empty())));
    // A stress run adds the divergence-rate chart: merge its measured part in by rendering both.
    let stress = dir.join("stress.json");
    let out = lockstep()
        .args(["stress", "-e", "block-stm-no-estimates", "-w", "hot-key", "--threads", "2", "--repeat", "10", "--json"])
        .arg(&stress)
        .output()
        .unwrap();
    assert!(out.status.code().is_some(), "{}", String::from_utf8_lossy(&out.stderr));
    report.measured.detections = read(&stress).measured.detections;
    report.measured.detections.iter_mut().for_each(|d| d.seconds = Some(0.5));
    std::fs::write(&json, lockstep_reports::json::render(&report)).unwrap();
    let html = dir.join("report.html");
    let out = lockstep().args(["report", "render"]).arg(&json).arg("--html").arg(&html).output().unwrap();
    assert!(out.status.code().is_some(), "{}", String::from_utf8_lossy(&out.stderr));
    html
}

/// Chromium (Debian's `chromium`) loads the HTML report headless: the page's DOM holds every
/// chart's SVG and the console reports no error. Skipped without Chromium unless
/// `LOCKSTEP_REQUIRE_CHROMIUM` is set, as in CI. With `LOCKSTEP_SCREENSHOT=FILE` it also
/// saves a screenshot of the page.
#[test]
fn the_html_report_renders_in_headless_chromium() {
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
    else {
        assert!(std::env::var_os("LOCKSTEP_REQUIRE_CHROMIUM").is_none(), "Chromium is required but not installed");
        eprintln!("skipped: Chromium is not installed (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let html = report_with_charts(dir.path());
    let profile = dir.path().join("profile");
    let headless = |extra: &[&str]| {
        Command::new(chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
            .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
            .args(["--enable-logging=stderr", "--v=0"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(format!("file://{}", html.display()))
            .output()
            .unwrap()
    };
    let out = headless(&["--dump-dom"]);
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    for id in ["pass-rate", "speedup", "reexecution", "divergence-rate", "detection-time"] {
        assert!(dom.contains(&format!("id=\"{id}\"><svg")), "chart {id} is not in the rendered page");
    }
    assert!(dom.contains("class=\"chart conflicts\"><svg"), "no conflict graph");
    assert!(dom.matches("<rect").count() > 10, "the charts have no bars");
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE") || l.contains("Uncaught")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    if let Some(png) = std::env::var_os("LOCKSTEP_SCREENSHOT") {
        let out = headless(&[&format!("--screenshot={}", PathBuf::from(png).display()), "--window-size=1400,3200"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}
