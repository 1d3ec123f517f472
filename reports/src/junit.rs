//! JUnit XML (the Jenkins / Surefire shape that GitHub, GitLab and Jenkins read): one test
//! suite per category, one test case per case and executor. A failure or divergence carries
//! its first difference as the message and its bundle in the text, so that a CI system shows
//! each one on its own.

use crate::model::{Report, Status};
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;

/// The report as JUnit XML. No timestamps and no times: the same run gives the same bytes.
pub fn render(report: &Report) -> String {
    let mut junit = quick_junit::Report::new(format!("lockstep {}", report.job.name()));
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    for c in &report.cases {
        let suite = suites.entry(&c.category).or_insert_with(|| TestSuite::new(c.category.clone()));
        let mut status = match c.status {
            Status::Passed => TestCaseStatus::success(),
            Status::Skipped => TestCaseStatus::skipped(),
            Status::Failed | Status::Diverged => TestCaseStatus::non_success(NonSuccessKind::Failure),
            Status::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
        };
        if c.status != Status::Passed {
            status.set_type(c.status.name());
            if let Some(m) = &c.message {
                status.set_message(first_line(m));
                let mut text = m.clone();
                if let Some(b) = &c.bundle {
                    text.push_str(&format!("\nbundle: {b}"));
                }
                status.set_description(text);
            }
        }
        let mut case = TestCase::new(format!("{} [{}]", c.id, c.executor), status);
        case.set_classname(format!("{}.{}", c.category, c.executor));
        suite.add_test_case(case);
    }
    // Input errors that belong to no case (a file that could not be read) get a case each.
    for e in report.errors.iter().filter(|e| e.test == "-") {
        let suite = suites.entry("input").or_insert_with(|| TestSuite::new("input"));
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_type("input error");
        status.set_message(format!("{}{}", e.message, e.location()));
        let mut case = TestCase::new(e.file.clone(), status);
        case.set_classname("input");
        suite.add_test_case(case);
    }
    junit.add_test_suites(suites.into_values());
    junit.to_string().expect("a JUnit report serializes")
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_is_a_test_case_with_its_failure() {
        let xml = render(&crate::sample::report());
        assert_eq!(xml.matches("<testcase ").count(), crate::sample::report().cases.len() + 1);
        assert!(xml.contains("bundle: out/divergences/000-add11"), "{xml}");
        assert!(xml.contains(r#"<failure message="state root differs" type="diverged">"#), "{xml}");
        assert!(xml.contains("<skipped"), "{xml}");
        assert_eq!(xml, render(&crate::sample::report()), "deterministic");
    }

    /// Validated against `reports/schema/junit.xsd` (the Jenkins/Surefire shape) with
    /// `xmllint` (Debian's libxml2-utils). Without xmllint the test is skipped, unless
    /// `LOCKSTEP_REQUIRE_XMLLINT` is set, as in CI.
    #[test]
    fn validates_against_the_junit_schema() {
        let dir = tempfile::tempdir().unwrap();
        let xml = dir.path().join("junit.xml");
        std::fs::write(&xml, render(&crate::sample::report())).unwrap();
        let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/junit.xsd");
        let out = match std::process::Command::new("xmllint").arg("--noout").arg("--schema").arg(xsd).arg(&xml).output()
        {
            Ok(o) => o,
            Err(_) if std::env::var_os("LOCKSTEP_REQUIRE_XMLLINT").is_none() => {
                eprintln!("skipped: xmllint is not installed (apt-get install libxml2-utils)");
                return;
            }
            Err(e) => panic!("xmllint: {e}"),
        };
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // The schema rejects what a CI system would choke on.
        std::fs::write(&xml, "<testsuites><testsuite><testcase/></testsuite></testsuites>").unwrap();
        let out =
            std::process::Command::new("xmllint").arg("--noout").arg("--schema").arg(xsd).arg(&xml).output().unwrap();
        assert!(!out.status.success());
    }
}
