//! Finding fixture files and loading them into cases. Bad input never stops a run: every
//! problem becomes an error that names the file (and the test when there is one).

use crate::case::{self, CaseError, Expanded, Skipped};
use crate::fixture;
use lockstep_executors::Fork;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything one file gave.
#[derive(Debug, Default)]
pub struct LoadedFile {
    pub path: Arc<str>,
    pub expanded: Expanded,
    /// Fields we did not recognise (`test.env.someField`), once each.
    pub unknown_fields: Vec<String>,
}

/// JSON files under the given paths, sorted, and an error for each path that gives none.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<CaseError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let before = files.len();
        if p.is_file() {
            files.push(p.clone());
        } else if p.is_dir() {
            walk(p, &mut files, &mut errors);
            if files.len() == before {
                errors.push(path_error(p, "no JSON fixture files in this directory"));
            }
        } else {
            errors.push(path_error(p, "no such file or directory"));
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<CaseError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return errors.push(path_error(dir, &format!("cannot read directory: {e}"))),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files, errors);
        } else if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
}

fn path_error(p: &Path, message: &str) -> CaseError {
    CaseError { file: Arc::from(p.display().to_string()), test: Arc::from("-"), message: message.to_string() }
}

/// Loads one file and expands its tests. `keep(test_name)` selects tests.
pub fn load_file(path: &Path, fork: Option<Fork>, keep: &dyn Fn(&str) -> bool) -> LoadedFile {
    let name: Arc<str> = Arc::from(path.display().to_string());
    let mut out = LoadedFile { path: name.clone(), ..Default::default() };
    let file_error = |message: String| CaseError { file: name.clone(), test: Arc::from("-"), message };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            out.expanded.errors.push(file_error(format!("cannot read: {e}")));
            return out;
        }
    };
    let tests = match fixture::parse(&text) {
        Ok((tests, mut unknown)) => {
            unknown.sort();
            unknown.dedup();
            out.unknown_fields = unknown;
            tests
        }
        // Find which tests are broken, so the rest still run.
        // A skipped file may be skipped precisely because it cannot be represented.
        Err(_) if crate::skip::file_reason(&name).is_some() => {
            let reason = crate::skip::file_reason(&name).unwrap_or_default();
            out.expanded.skipped.push(Skipped {
                id: case::CaseId {
                    file: name.clone(),
                    test: Arc::from("-"),
                    fork: "-".into(),
                    indexes: Default::default(),
                },
                reason,
            });
            return out;
        }
        Err(whole) => match serde_json::from_str::<std::collections::BTreeMap<String, serde_json::Value>>(&text) {
            Err(_) => {
                out.expanded.errors.push(file_error(format!("malformed JSON: {whole}")));
                return out;
            }
            Ok(values) => {
                let mut tests = fixture::StateTestFile::new();
                for (test, value) in values {
                    match fixture::parse_test(value) {
                        Ok(t) => {
                            tests.insert(test, t);
                        }
                        Err(e) => out.expanded.errors.push(CaseError {
                            file: name.clone(),
                            test: Arc::from(test.as_str()),
                            message: format!("not a state test: {e}"),
                        }),
                    }
                }
                tests
            }
        },
    };
    if tests.is_empty() && out.expanded.errors.is_empty() {
        out.expanded.errors.push(file_error("the file holds no tests".into()));
    }
    let skip_reason = crate::skip::file_reason(&name);
    for (test_name, test) in &tests {
        if !keep(test_name) {
            continue;
        }
        if let Some(reason) = skip_reason {
            let mut expanded = Expanded::default();
            case::expand(&name, test_name, test, fork, &mut expanded);
            out.expanded
                .skipped
                .extend(expanded.cases.into_iter().map(|c| Skipped { id: c.id, reason }).chain(expanded.skipped));
            continue;
        }
        case::expand(&name, test_name, test, fork, &mut out.expanded);
    }
    out
}
