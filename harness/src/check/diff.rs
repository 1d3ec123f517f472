//! Comparison of two block outputs, first difference first: per-transaction outcome, then
//! cumulative gas, then the post-state account by account and slot by slot. Equal state with
//! different receipts is a divergence (known-bugs #18), which is why receipts come first.

use alloy_primitives::{Address, U256};
use lockstep_executors::{Account, BlockOutput, Capabilities, TxIndex, TxOutcome, TxStatus};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which part of a transaction's outcome differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OutcomeField {
    /// Executed on one side, rejected on the other.
    Inclusion,
    /// Rejected on both sides, for different reasons ([`RejectKind`](lockstep_executors::RejectKind)).
    RejectKind,
    /// Success, revert or halt.
    Status,
    /// Gas charged to the sender, as the receipt counts it.
    GasUsed,
    /// Number of receipt logs.
    LogCount,
    /// One log's address, topics or data (the first differing log).
    Log,
    /// Return data (RETURN or REVERT data, a creation's deployed code).
    Output,
    /// The address of the contract a creation deployed.
    CreatedAddress,
}

/// Which part of an account differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AccountField {
    /// The account exists in one post-state and is absent from the other.
    Existence,
    /// Balance, in wei.
    Balance,
    /// Nonce: transactions sent by an externally owned account, contracts created by a contract.
    Nonce,
    /// Runtime code (a delegation designator included).
    Code,
    /// The value of the storage slot with this key (an absent slot is zero).
    Storage(U256),
}

/// How a candidate's run differs from the reference's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "level", rename_all = "camelCase")]
pub enum Divergence {
    /// The candidate gave an error where the reference gave a block.
    ExecError {
        /// The candidate's `ExecError`, displayed.
        message: String,
    },
    /// The candidate said it does not implement something the block uses
    /// (`ExecError::Unsupported`): reported, never counted as a divergence.
    Unsupported {
        /// What it does not implement.
        message: String,
    },
    /// An executor in another process failed (`ExecError::Tool`): crashed, exited non-zero,
    /// replied with nothing or garbage, or answered for other transactions.
    Tool {
        /// The fault's short name (`crash`, `empty-reply`, `malformed`...).
        fault: String,
        /// What lockstep saw.
        message: String,
        /// The end of the tool's standard error.
        stderr: String,
    },
    /// The candidate panicked.
    Panic {
        /// The panic payload when it is a string; otherwise a placeholder.
        message: String,
    },
    /// The candidate was still running at its deadline.
    Hang {
        /// Milliseconds the candidate ran without a result before lockstep stopped waiting;
        /// the timeout itself for a controlled run past its step budget (a livelock).
        after_ms: u64,
    },
    /// The candidate returned a different number of transaction outcomes.
    TxCount {
        /// Outcomes the reference returned (one per input transaction).
        expected: usize,
        /// Outcomes the candidate returned.
        got: usize,
    },
    /// A transaction's outcome differs (the first differing field of the first differing
    /// transaction).
    Outcome {
        /// The transaction, by its index in the block.
        tx: TxIndex,
        /// Which part of the outcome differs.
        field: OutcomeField,
        /// The reference's value, as text.
        expected: String,
        /// The candidate's value, as text.
        got: String,
    },
    /// Every outcome matches but the receipts' cumulative gas used differs after a
    /// transaction.
    CumulativeGas {
        /// The first transaction after which the totals differ.
        tx: TxIndex,
        /// The reference's cumulative gas used, in gas.
        expected: u64,
        /// The candidate's cumulative gas used, in gas.
        got: u64,
    },
    /// The receipts match but the post-state differs (the first differing account in
    /// address order, its first differing field).
    Account {
        /// The account.
        address: Address,
        /// Which part of the account differs.
        field: AccountField,
        /// The reference's value, as text (`exists`/`absent`, decimal, hex).
        expected: String,
        /// The candidate's value, as text.
        got: String,
    },
    /// Receipts and post-state match but the block's EIP-7685 requests differ (a block with
    /// rules, Prague on); requests of a type without data do not count, as in the requests
    /// hash.
    Requests {
        /// The reference's requests, hex, in order.
        expected: Vec<String>,
        /// The candidate's.
        got: Vec<String>,
    },
}

impl Divergence {
    /// A short stable name for the kind of divergence, independent of values: what the
    /// minimizer keeps constant while it shrinks.
    pub fn kind(&self) -> String {
        match self {
            Divergence::ExecError { .. } => "exec-error".into(),
            Divergence::Unsupported { .. } => "unsupported".into(),
            Divergence::Tool { fault, .. } => format!("tool/{fault}"),
            Divergence::Panic { .. } => "panic".into(),
            Divergence::Hang { .. } => "hang".into(),
            Divergence::TxCount { .. } => "tx-count".into(),
            Divergence::Outcome { field, .. } => format!("outcome/{field:?}"),
            Divergence::CumulativeGas { .. } => "cumulative-gas".into(),
            Divergence::Account { field, .. } => match field {
                AccountField::Storage(_) => "state/storage".into(),
                f => format!("state/{f:?}"),
            },
            Divergence::Requests { .. } => "requests".into(),
        }
    }

    /// Whether this is the candidate declining the block (`ExecError::Unsupported`) rather
    /// than a finding.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Divergence::Unsupported { .. })
    }

    /// The transaction the divergence is pinned to, when there is one.
    pub fn tx(&self) -> Option<TxIndex> {
        match self {
            Divergence::Outcome { tx, .. } | Divergence::CumulativeGas { tx, .. } => Some(*tx),
            _ => None,
        }
    }
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Divergence::ExecError { message } => write!(f, "candidate failed: {message}"),
            Divergence::Unsupported { message } => write!(f, "candidate does not support the block: {message}"),
            Divergence::Tool { fault, message, stderr } => {
                write!(f, "candidate tool failed ({fault}): {message}")?;
                if !stderr.is_empty() {
                    let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
                    write!(f, "\n  stderr: {}", tail.into_iter().rev().collect::<Vec<_>>().join("\n          "))?;
                }
                Ok(())
            }
            Divergence::Panic { message } => write!(f, "candidate panicked: {message}"),
            Divergence::Hang { after_ms } => {
                write!(f, "candidate hung: no result after {after_ms} ms")
            }
            Divergence::TxCount { expected, got } => {
                write!(f, "{got} outcomes, expected {expected}")
            }
            Divergence::Outcome { tx, field, expected, got } => {
                write!(f, "{tx} {field:?}:\n  - expected {expected}\n  + got      {got}")
            }
            Divergence::CumulativeGas { tx, expected, got } => {
                write!(f, "cumulative gas after {tx}: expected {expected}, got {got}")
            }
            Divergence::Account { address, field, expected, got } => {
                let what = match field {
                    AccountField::Storage(slot) => format!("storage[{slot:#x}]"),
                    other => format!("{other:?}").to_lowercase(),
                };
                write!(f, "account {address} {what}:\n  - expected {expected}\n  + got      {got}")
            }
            Divergence::Requests { expected, got } => {
                write!(f, "requests:\n  - expected [{}]\n  + got      [{}]", expected.join(", "), got.join(", "))
            }
        }
    }
}

/// The first difference between a reference output and a candidate's, or `None`: every
/// field compared ([`Capabilities::FULL`]).
pub fn compare(expected: &BlockOutput, got: &BlockOutput) -> Option<Divergence> {
    compare_under(expected, got, Capabilities::FULL)
}

/// [`compare`] on the outcome fields `caps` says both sides report (see
/// [`Capabilities::common`]); the others are skipped, never a divergence.
pub fn compare_under(expected: &BlockOutput, got: &BlockOutput, caps: Capabilities) -> Option<Divergence> {
    if expected.outcomes.len() != got.outcomes.len() {
        return Some(Divergence::TxCount { expected: expected.outcomes.len(), got: got.outcomes.len() });
    }
    for (i, (e, g)) in expected.outcomes.iter().zip(&got.outcomes).enumerate() {
        if let Some(d) = compare_outcome(TxIndex(i), e, g, caps) {
            return Some(d);
        }
    }
    for (i, (e, g)) in expected.cumulative_gas().zip(got.cumulative_gas()).enumerate() {
        if e != g {
            return Some(Divergence::CumulativeGas { tx: TxIndex(i), expected: e, got: g });
        }
    }
    compare_states(&expected.post_state, &got.post_state).or_else(|| compare_requests(expected, got))
}

/// EIP-7685 leaves a request type without data out of the requests hash: so does this.
fn compare_requests(expected: &BlockOutput, got: &BlockOutput) -> Option<Divergence> {
    let listed =
        |o: &BlockOutput| -> Vec<String> { o.requests.iter().filter(|r| r.len() > 1).map(|r| r.to_string()).collect() };
    let (e, g) = (listed(expected), listed(got));
    (e != g).then_some(Divergence::Requests { expected: e, got: g })
}

fn compare_outcome(tx: TxIndex, e: &TxOutcome, g: &TxOutcome, caps: Capabilities) -> Option<Divergence> {
    let d = |field, expected: String, got: String| Some(Divergence::Outcome { tx, field, expected, got });
    match (e, g) {
        (TxOutcome::Rejected { kind: ek }, TxOutcome::Rejected { kind: gk }) => {
            (caps.reject_kind && ek != gk).then(|| Divergence::Outcome {
                tx,
                field: OutcomeField::RejectKind,
                expected: ek.to_string(),
                got: gk.to_string(),
            })
        }
        (TxOutcome::Rejected { kind }, TxOutcome::Executed { status, .. }) => {
            d(OutcomeField::Inclusion, format!("rejected ({kind})"), format!("executed ({status:?})"))
        }
        (TxOutcome::Executed { status, .. }, TxOutcome::Rejected { kind }) => {
            d(OutcomeField::Inclusion, format!("executed ({status:?})"), format!("rejected ({kind})"))
        }
        (
            TxOutcome::Executed { status: es, gas_used: eg, logs: el, output: eo, created_address: ec },
            TxOutcome::Executed { status: gs, gas_used: gg, logs: gl, output: go, created_address: gc },
        ) => {
            let failed = |s: &TxStatus| if *s == TxStatus::Success { "Success" } else { "failure (revert or halt)" };
            if caps.revert_vs_halt && es != gs {
                return d(OutcomeField::Status, format!("{es:?}"), format!("{gs:?}"));
            }
            if !caps.revert_vs_halt && failed(es) != failed(gs) {
                return d(OutcomeField::Status, failed(es).into(), failed(gs).into());
            }
            if eg != gg {
                return d(OutcomeField::GasUsed, eg.to_string(), gg.to_string());
            }
            if el.len() != gl.len() {
                return d(OutcomeField::LogCount, el.len().to_string(), gl.len().to_string());
            }
            if let Some((i, (a, b))) = el.iter().zip(gl).enumerate().find(|(_, (a, b))| a != b) {
                let show = |l: &alloy_primitives::Log| {
                    format!("log {i}: address {} topics {:?} data {}", l.address, l.data.topics(), l.data.data)
                };
                return d(OutcomeField::Log, show(a), show(b));
            }
            if caps.return_data && eo != go {
                return d(OutcomeField::Output, eo.to_string(), go.to_string());
            }
            if caps.created_address && ec != gc {
                return d(OutcomeField::CreatedAddress, format!("{ec:?}"), format!("{gc:?}"));
            }
            None
        }
    }
}

/// The first differing account (address order), field by field.
pub fn compare_states(expected: &lockstep_executors::State, got: &lockstep_executors::State) -> Option<Divergence> {
    let mut e_iter = expected.iter().peekable();
    let mut g_iter = got.iter().peekable();
    loop {
        match (e_iter.peek(), g_iter.peek()) {
            (None, None) => return None,
            (Some((a, _)), None) => return Some(existence(**a, true)),
            (None, Some((a, _))) => return Some(existence(**a, false)),
            (Some((ea, e)), Some((ga, g))) => {
                if ea < ga {
                    return Some(existence(**ea, true));
                }
                if ga < ea {
                    return Some(existence(**ga, false));
                }
                if let Some(d) = compare_account(**ea, e, g) {
                    return Some(d);
                }
                e_iter.next();
                g_iter.next();
            }
        }
    }
}

fn existence(address: Address, expected_exists: bool) -> Divergence {
    let say = |b: bool| {
        if b { "exists".to_string() } else { "absent".to_string() }
    };
    Divergence::Account {
        address,
        field: AccountField::Existence,
        expected: say(expected_exists),
        got: say(!expected_exists),
    }
}

fn compare_account(address: Address, e: &Account, g: &Account) -> Option<Divergence> {
    let d = |field, expected: String, got: String| Some(Divergence::Account { address, field, expected, got });
    if e.balance != g.balance {
        return d(AccountField::Balance, e.balance.to_string(), g.balance.to_string());
    }
    if e.nonce != g.nonce {
        return d(AccountField::Nonce, e.nonce.to_string(), g.nonce.to_string());
    }
    if e.code != g.code {
        return d(AccountField::Code, e.code.to_string(), g.code.to_string());
    }
    if e.storage != g.storage {
        let slots: std::collections::BTreeSet<_> = e.storage.keys().chain(g.storage.keys()).collect();
        for s in slots {
            let (ev, gv) =
                (e.storage.get(s).copied().unwrap_or_default(), g.storage.get(s).copied().unwrap_or_default());
            if ev != gv {
                return d(AccountField::Storage(*s), format!("{ev:#x}"), format!("{gv:#x}"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Bytes, address};
    use lockstep_executors::{ExecStats, RejectKind, State, TxStatus};

    fn executed(gas: u64) -> TxOutcome {
        TxOutcome::Executed {
            status: TxStatus::Success,
            gas_used: gas,
            logs: vec![],
            output: Bytes::new(),
            created_address: None,
        }
    }

    fn out(outcomes: Vec<TxOutcome>, post_state: State) -> BlockOutput {
        BlockOutput { outcomes, post_state, stats: ExecStats::default(), requests: vec![] }
    }

    #[test]
    fn fields_an_executor_does_not_report_are_not_compared() {
        let with = |status, output: &'static [u8]| TxOutcome::Executed {
            status,
            gas_used: 30_000,
            logs: vec![],
            output: Bytes::from_static(output),
            created_address: None,
        };
        let reference = out(vec![with(TxStatus::Revert, b"reason")], State::new());
        let t8n_like = out(vec![with(TxStatus::Halt, b"")], State::new());
        let caps = Capabilities { return_data: false, revert_vs_halt: false, ..Capabilities::FULL };
        assert_eq!(compare_under(&reference, &t8n_like, caps), None);
        // Everything compared: the same pair is a status divergence.
        assert_eq!(compare(&reference, &t8n_like).unwrap().kind(), "outcome/Status");
        // Success against failure stays a divergence without revert vs halt.
        let ok = out(vec![with(TxStatus::Success, b"")], State::new());
        assert_eq!(compare_under(&ok, &t8n_like, caps).unwrap().kind(), "outcome/Status");
        let caps = Capabilities { reject_kind: false, ..Capabilities::FULL };
        let r = |kind| out(vec![TxOutcome::Rejected { kind }], State::new());
        assert_eq!(compare_under(&r(RejectKind::NonceTooHigh), &r(RejectKind::Other("x".into())), caps), None);
    }

    #[test]
    fn receipts_are_compared_before_state() {
        let a = address!("0x00000000000000000000000000000000000000aa");
        let mut s1 = State::new();
        s1.insert(a, Account { balance: U256::from(1), ..Default::default() });
        let mut s2 = s1.clone();
        s2.get_mut(&a).unwrap().balance = U256::from(2);
        let d = compare(&out(vec![executed(21000)], s1.clone()), &out(vec![executed(21001)], s2)).unwrap();
        assert_eq!(
            d,
            Divergence::Outcome {
                tx: TxIndex(0),
                field: OutcomeField::GasUsed,
                expected: "21000".into(),
                got: "21001".into()
            }
        );
        assert_eq!(compare(&out(vec![executed(1)], s1.clone()), &out(vec![executed(1)], s1)), None);
    }

    #[test]
    fn requests_differ_only_where_a_type_has_data() {
        let with = |requests: &[&[u8]]| BlockOutput {
            requests: requests.iter().map(|r| Bytes::copy_from_slice(r)).collect(),
            ..out(vec![executed(1)], State::new())
        };
        assert_eq!(compare(&with(&[&[0], &[1, 7]]), &with(&[&[1, 7]])), None);
        let d = compare(&with(&[&[0], &[1, 7]]), &with(&[&[0], &[1, 8]])).unwrap();
        assert_eq!(d, Divergence::Requests { expected: vec!["0x0107".into()], got: vec!["0x0108".into()] });
        assert_eq!(d.kind(), "requests");
    }

    #[test]
    fn same_state_different_rejection_is_a_divergence() {
        let e = out(vec![TxOutcome::Rejected { kind: RejectKind::NonceTooLow }], State::new());
        let g = out(vec![TxOutcome::Rejected { kind: RejectKind::NonceTooHigh }], State::new());
        assert_eq!(compare(&e, &g).unwrap().kind(), "outcome/RejectKind");
    }

    #[test]
    fn names_the_first_differing_slot_and_missing_account() {
        let a = address!("0x00000000000000000000000000000000000000aa");
        let b = address!("0x00000000000000000000000000000000000000bb");
        let mut s1 = State::new();
        s1.insert(
            a,
            Account {
                storage: [(U256::from(1), U256::from(5)), (U256::from(2), U256::from(6))].into(),
                ..Default::default()
            },
        );
        let mut s2 = s1.clone();
        s2.get_mut(&a).unwrap().storage.insert(U256::from(2), U256::from(7));
        let d = compare_states(&s1, &s2).unwrap();
        assert_eq!(
            d,
            Divergence::Account {
                address: a,
                field: AccountField::Storage(U256::from(2)),
                expected: "0x6".into(),
                got: "0x7".into()
            }
        );
        s2 = s1.clone();
        s2.insert(b, Account::default());
        assert_eq!(
            compare_states(&s1, &s2).unwrap(),
            Divergence::Account {
                address: b,
                field: AccountField::Existence,
                expected: "absent".into(),
                got: "exists".into()
            }
        );
    }
}
