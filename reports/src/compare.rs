//! Reports against reports: shards merged into one, a run judged against a baseline, and what
//! changed between runs.

use crate::model::{BaselineOutcome, Report, Status};
use std::collections::{BTreeMap, BTreeSet};

/// Joins the reports of the shards of one run into the report the unsharded run gives: cases,
/// divergences, errors and files summed, in canonical order. Every part must be of the same
/// job, executors and shard count, each shard once.
pub fn merge(parts: Vec<Report>) -> Result<Report, String> {
    let mut parts = parts.into_iter();
    let mut out = parts.next().ok_or("nothing to merge")?;
    let names = |r: &Report| r.meta.executors.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
    let mut seen = BTreeSet::new();
    if let Some(s) = out.meta.shard {
        seen.insert(s.index);
    }
    let count = out.meta.shard.map(|s| s.count);
    for p in parts {
        if p.job != out.job {
            return Err(format!("a {} report cannot merge with a {} report", p.job.name(), out.job.name()));
        }
        if names(&p) != names(&out) {
            return Err(format!("executors differ: {:?} and {:?}", names(&out), names(&p)));
        }
        if p.meta.shard.map(|s| s.count) != count {
            return Err("the reports are not shards of one run (shard counts differ)".into());
        }
        if let Some(s) = p.meta.shard {
            if !seen.insert(s.index) {
                return Err(format!("shard {}/{} is given twice", s.index, s.count));
            }
        }
        out.files += p.files;
        out.cases.extend(p.cases);
        out.divergences.extend(p.divergences);
        out.errors.extend(p.errors);
        out.notes.extend(p.notes);
        out.interrupted |= p.interrupted;
        out.measured.wall_seconds = out.measured.wall_seconds.max(p.measured.wall_seconds);
        out.measured.throughput.extend(p.measured.throughput);
        out.measured.detections.extend(p.measured.detections);
    }
    if let Some(n) = count {
        let missing: Vec<u64> = (1..=n).filter(|i| !seen.contains(i)).collect();
        if !missing.is_empty() {
            out.notes.push(format!("merged without shards {missing:?} of {n}"));
        }
    }
    out.notes.sort();
    out.notes.dedup();
    out.meta.shard = None;
    out.canonicalize();
    Ok(out)
}

/// Judges `report` against `baseline`: its problem cases that the baseline has too are known,
/// the others new; the baseline's that are gone are fixed. [`Report::ok`] then fails only on
/// new ones.
pub fn apply_baseline(report: &mut Report, baseline: &Report, path: &str) {
    let before: BTreeSet<String> = baseline.problems().into_iter().collect();
    let now: BTreeSet<String> = report.problems().into_iter().collect();
    // A file-level input error is a problem too, keyed by its file and message.
    let errors = |r: &Report| -> BTreeSet<String> {
        r.errors.iter().filter(|e| e.test == "-").map(|e| format!("input {}: {}", e.file, e.message)).collect()
    };
    let (before_e, now_e) = (errors(baseline), errors(report));
    let all_now: BTreeSet<String> = now.union(&now_e).cloned().collect();
    let all_before: BTreeSet<String> = before.union(&before_e).cloned().collect();
    report.baseline = Some(BaselineOutcome {
        path: path.to_string(),
        known: all_now.intersection(&all_before).cloned().collect(),
        new: all_now.difference(&all_before).cloned().collect(),
        fixed: all_before.difference(&all_now).cloned().collect(),
    });
}

/// What changed over a series of runs, oldest first.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Passed in the first run, a problem in the last.
    pub newly_failing: Vec<String>,
    /// A problem in the first run, passed in the last.
    pub newly_passing: Vec<String>,
    /// Changed between passing and a problem more than once over the runs, or diverged
    /// in some runs of the same case and not in others with equal first and last status.
    pub flaky: Vec<String>,
    /// In the last run only.
    pub added: Vec<String>,
    /// In the first run only.
    pub removed: Vec<String>,
}

/// Compares runs of the same cases, like hive's result views: newly failing, newly passing
/// and flaky (a case whose status went back and forth).
pub fn diff(runs: &[Report]) -> Changes {
    let mut history: BTreeMap<(String, String), Vec<Option<Status>>> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        for c in &r.cases {
            let h = history.entry(c.key()).or_insert_with(|| vec![None; runs.len()]);
            h[i] = Some(c.status);
        }
    }
    let mut out = Changes::default();
    let bad = |s: &Status| s.is_problem();
    for ((exec, id), h) in history {
        let name = format!("{exec} {id}");
        let seen: Vec<&Status> = h.iter().flatten().filter(|s| **s != Status::Skipped).collect();
        let flips = seen.windows(2).filter(|w| bad(w[0]) != bad(w[1])).count();
        match (h.first().copied().flatten(), h.last().copied().flatten()) {
            (None, Some(_)) => out.added.push(name),
            (Some(_), None) => out.removed.push(name),
            _ if flips > 1 => out.flaky.push(name),
            (Some(a), Some(b)) if !bad(&a) && bad(&b) => out.newly_failing.push(name),
            (Some(a), Some(b)) if bad(&a) && !bad(&b) => out.newly_passing.push(name),
            _ => {}
        }
    }
    out
}

impl Changes {
    /// The changes as text, one list each.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for (title, list) in [
            ("newly failing", &self.newly_failing),
            ("newly passing", &self.newly_passing),
            ("flaky", &self.flaky),
            ("added", &self.added),
            ("removed", &self.removed),
        ] {
            s.push_str(&format!("{title}: {}\n", list.len()));
            for c in list {
                s.push_str(&format!("  {}\n", crate::text::visible(c)));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Shard;

    fn shards() -> (Report, Vec<Report>) {
        let whole = crate::sample::report();
        let parts = (1..=2)
            .map(|i| {
                let mut p = whole.clone();
                p.meta.shard = Some(Shard { index: i, count: 2 });
                p.cases.retain(|c| (c.id.len() % 2) as u64 == i - 1);
                p.divergences.retain(|d| (d.case.len() % 2) as u64 == i - 1);
                p.errors.retain(|_| i == 1);
                p.files = i;
                p
            })
            .collect();
        (whole, parts)
    }

    #[test]
    fn merged_shards_equal_the_whole_run() {
        let (mut whole, mut parts) = shards();
        parts.reverse();
        let mut merged = merge(parts).unwrap();
        whole.files = 3;
        merged.measured = whole.measured.clone();
        assert_eq!(merged, whole);
    }

    #[test]
    fn shards_of_other_runs_do_not_merge() {
        let (_, parts) = shards();
        assert!(merge(vec![parts[0].clone(), parts[0].clone()]).unwrap_err().contains("twice"));
        let mut other = parts[1].clone();
        other.meta.executors.pop();
        assert!(merge(vec![parts[0].clone(), other]).unwrap_err().contains("executors differ"));
    }

    #[test]
    fn a_baseline_fails_only_on_what_is_new() {
        let baseline = crate::sample::report();
        let mut same = baseline.clone();
        assert!(!same.ok(), "the sample has a divergence");
        apply_baseline(&mut same, &baseline, "base.json");
        assert!(same.ok(), "{:?}", same.baseline);
        assert_eq!(same.baseline.as_ref().unwrap().known.len(), 2);
        let mut worse = baseline.clone();
        let passed = worse.cases.iter().position(|c| c.status == Status::Passed).unwrap();
        worse.cases[passed].status = Status::Failed;
        apply_baseline(&mut worse, &baseline, "base.json");
        assert!(!worse.ok());
        assert_eq!(worse.baseline.as_ref().unwrap().new.len(), 1);
    }

    #[test]
    fn diff_finds_newly_failing_passing_and_flaky() {
        let a = crate::sample::report();
        let mut b = a.clone();
        let passed = b.cases.iter().position(|c| c.status == Status::Passed).unwrap();
        let diverged = b.cases.iter().position(|c| c.status == Status::Diverged).unwrap();
        b.cases[passed].status = Status::Failed;
        b.cases[diverged].status = Status::Passed;
        let d = diff(&[a.clone(), b.clone()]);
        assert_eq!(d.newly_failing.len(), 1);
        assert_eq!(d.newly_passing.len(), 1);
        assert!(d.flaky.is_empty());
        let d = diff(&[a.clone(), b, a]);
        assert_eq!(d.flaky.len(), 2, "{d:?}");
        assert!(d.newly_failing.is_empty());
    }
}
