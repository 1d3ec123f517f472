//! Checks one executor's output for a case against what the fixture expects.

use crate::case::Expectation;
use lockstep_executors::{Account, BlockOutput, RejectKind, State, TxOutcome, trie};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a case failed, first difference first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Failure {
    /// The fixture expects the transaction to be invalid; the executor ran it.
    ExpectedRejection {
        expected: String,
    },
    /// The executor rejected a transaction the fixture expects to run.
    UnexpectedRejection {
        got: RejectKind,
    },
    LogsHash {
        expected: String,
        got: String,
    },
    StateRoot {
        expected: String,
        got: String,
        first_difference: Option<String>,
    },
    /// The executor could not run the block.
    ExecError {
        message: String,
    },
    /// The executor panicked.
    Panic {
        message: String,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::ExpectedRejection { expected } => {
                write!(f, "expected exception {expected}, transaction executed")
            }
            Failure::UnexpectedRejection { got } => {
                write!(f, "transaction rejected ({got}), fixture expects it to execute")
            }
            Failure::LogsHash { expected, got } => {
                write!(f, "logs hash {got}, expected {expected}")
            }
            Failure::StateRoot { expected, got, first_difference } => {
                write!(f, "state root {got}, expected {expected}")?;
                if let Some(d) = first_difference {
                    write!(f, "; {d}")?;
                }
                Ok(())
            }
            Failure::ExecError { message } => write!(f, "executor error: {message}"),
            Failure::Panic { message } => write!(f, "executor panicked: {message}"),
        }
    }
}

/// A passing case may still carry a note: the rejection kind differs from the fixture's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass { kind_note: Option<String> },
    Fail(Failure),
}

pub fn check(expect: &Expectation, out: &BlockOutput) -> Verdict {
    let outcome = out.outcomes.first();
    let mut kind_note = None;
    match (&expect.exception, outcome) {
        (Some(expected), Some(TxOutcome::Executed { .. })) | (Some(expected), None) => {
            return Verdict::Fail(Failure::ExpectedRejection { expected: expected.clone() });
        }
        (Some(expected), Some(TxOutcome::Rejected { kind })) => {
            let allowed = expect.allowed_kinds();
            if !allowed.is_empty() && !allowed.contains(kind) {
                kind_note = Some(format!("rejected as {kind}, fixture names {expected}"));
            }
        }
        (None, Some(TxOutcome::Rejected { kind })) => {
            return Verdict::Fail(Failure::UnexpectedRejection { got: kind.clone() });
        }
        (None, _) => {
            let logs = trie::logs_hash(outcome.map(|o| o.logs()).unwrap_or_default());
            if logs != expect.logs_hash {
                return Verdict::Fail(Failure::LogsHash {
                    expected: expect.logs_hash.to_string(),
                    got: logs.to_string(),
                });
            }
        }
    }
    let rewarded;
    let post = match expect.zero_reward_to {
        Some(beneficiary) if !out.post_state.contains_key(&beneficiary) => {
            let mut state = out.post_state.clone();
            state.insert(beneficiary, Account::default());
            rewarded = state;
            &rewarded
        }
        _ => &out.post_state,
    };
    let root = trie::state_root(post);
    if root != expect.state_root {
        return Verdict::Fail(Failure::StateRoot {
            expected: expect.state_root.to_string(),
            got: root.to_string(),
            first_difference: expect.post_state.as_ref().and_then(|s| first_state_difference(s, post)),
        });
    }
    Verdict::Pass { kind_note }
}

/// The first account (in address order) where two states differ, in words.
pub fn first_state_difference(expected: &State, got: &State) -> Option<String> {
    let addresses: std::collections::BTreeSet<_> = expected.keys().chain(got.keys()).collect();
    for a in addresses {
        match (expected.get(a), got.get(a)) {
            (Some(_), None) => return Some(format!("account {a} missing")),
            (None, Some(_)) => return Some(format!("account {a} should not exist")),
            (Some(e), Some(g)) if e != g => {
                if e.balance != g.balance {
                    return Some(format!("account {a} balance {} expected {}", g.balance, e.balance));
                }
                if e.nonce != g.nonce {
                    return Some(format!("account {a} nonce {} expected {}", g.nonce, e.nonce));
                }
                if e.code != g.code {
                    return Some(format!("account {a} code differs"));
                }
                let slots: std::collections::BTreeSet<_> = e.storage.keys().chain(g.storage.keys()).collect();
                for s in slots {
                    let (ev, gv) =
                        (e.storage.get(s).copied().unwrap_or_default(), g.storage.get(s).copied().unwrap_or_default());
                    if ev != gv {
                        return Some(format!("account {a} slot {s:#x} = {gv:#x}, expected {ev:#x}"));
                    }
                }
            }
            _ => {}
        }
    }
    None
}
