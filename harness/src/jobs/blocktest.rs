//! `lockstep blocktest`: official blockchain tests on every chosen executor. Each executor
//! runs each chain on its own state, block by block: its output is checked against the
//! header (gas used, blob gas used, logs bloom, receipts root, requests hash, state root), an
//! invalid block must be rejected and leave the state as it was, and at the end the head
//! and the post-state are checked. Where a candidate ran a block on the same input as the
//! first executor, their outputs are compared as well, and a difference is a divergence
//! with a repro bundle of that one block.

use super::statetest::{FileResult, input_error, run_packed, with_deadline, write_bundle};
use crate::check::{self, Divergence, isolate};
use lockstep_conformance::LoadOptions;
use lockstep_conformance::blockchain::{self, Chain, ChainBlock, Parent, PostCheck};
use lockstep_executors::trie::RootCache;
use lockstep_executors::{BlockInput, BlockOutput, Executor, RunControl};
use lockstep_reports::{CaseDivergence, CaseFailure, ConformanceReport, Status};
use std::collections::HashMap;
use std::sync::Arc;

pub use super::statetest::Options;

/// Runs every chain of every file (files in parallel); bad input is counted and the run goes
/// on.
pub fn run(opts: &Options) -> ConformanceReport {
    super::statetest::run_files(opts, run_file)
}

fn run_file(opts: &Options, path: &std::path::Path) -> FileResult {
    if opts.both_kinds {
        // The state-test job runs the file, and its blockchain tests through `run_chains_of`.
        return super::statetest::run_file(opts, path);
    }
    let mut r = FileResult::default();
    run_chains_of(opts, path, &mut r);
    r
}

/// Runs the blockchain tests of the file at `path` into `r`. State tests met there count as
/// skipped, unless `opts.both_kinds` (then the state-test job runs them).
pub(crate) fn run_chains_of(opts: &Options, path: &std::path::Path, r: &mut FileResult) {
    let display = path.display().to_string();
    let keep = |test: &str| opts.filter.as_ref().is_none_or(|re| re.is_match(&format!("{display}::{test}")));
    let load = LoadOptions { fork: opts.fork, max_file_bytes: opts.max_file_bytes };
    let loaded = blockchain::load_file(path, &load, &keep);
    r.unknown_fields.extend(loaded.unknown_field_paths.iter().cloned());
    r.unknown_fields.sort();
    r.unknown_fields.dedup();
    for (n, e) in loaded.errors.iter().enumerate() {
        r.errors.push(input_error(e));
        for exec in &opts.executors {
            let id = format!("{}::{}::error{n}", e.file, e.test);
            r.record(exec.name(), id, &e.file, "-", Status::Error, Some(e.message.clone()));
        }
    }
    for s in loaded.other_kind.iter().filter(|_| !opts.both_kinds) {
        for exec in &opts.executors {
            let id = format!("{}::{}", s.id.file, s.id.test);
            r.record(exec.name(), id, &s.id.file, "-", Status::Skipped, Some(s.reason.to_string()));
        }
    }
    let control = RunControl::with_threads(opts.exec_threads);
    for chain in &loaded.chains {
        if opts.packed {
            match blockchain::pack(chain) {
                Ok(block) => run_packed(opts, &format!("{} :: {}", chain.file, chain.test), &block, &control, r),
                Err(why) => {
                    for exec in &opts.executors {
                        let id = format!("{}::{}::packed", chain.file, chain.test);
                        r.record(exec.name(), id, &chain.file, &chain.network, Status::Skipped, Some(why.clone()));
                    }
                }
            }
        } else {
            run_chain(opts, chain, &control, r);
        }
    }
}

/// One executor's answer for one block.
enum Verdict {
    /// Valid: the block is the new head, with this state.
    Accepted(Parent),
    /// Invalid, and why.
    Rejected(String),
    /// The executor failed (error, panic, hang): the chain stops for it.
    Failed(Divergence),
    /// The executor does not implement something the block uses.
    Unsupported(String),
}

/// What the reference did with a block: its input and output, for the candidates to be
/// compared with where their input is the same.
type ReferenceRun = Option<(Arc<BlockInput>, Result<BlockOutput, String>)>;

fn run_chain(opts: &Options, chain: &Chain, control: &RunControl, r: &mut FileResult) {
    let id = format!("{}::{}{}", chain.file, chain.test, if opts.packed { "::packed" } else { "" });
    let mut reference: Vec<ReferenceRun> = vec![None; chain.blocks.len()];
    let mut reference_exec: Option<&Arc<dyn Executor>> = None;
    for exec in &opts.executors {
        let is_reference = reference_exec.is_none();
        let mut parents: HashMap<_, Parent> = HashMap::from([(chain.genesis.hash, chain.genesis.clone())]);
        let mut head = chain.genesis.hash;
        let mut outcome: Result<(), String> = Ok(());
        let mut unsupported = None;
        let mut roots = RootCache::default();
        for block in &chain.blocks {
            let (verdict, ran) = run_block(opts, exec.as_ref(), chain, block, &parents, control, &mut roots);
            // The differential check: same input as the reference, same output.
            if let (Some(ref_exec), Some((input, out))) = (reference_exec, &ran)
                && let Some((ref_input, ref_out)) = &reference[block.index]
                && **ref_input == **input
                && let Some(d) = differ(ref_exec.as_ref(), exec.as_ref(), ref_out, out)
            {
                let (what, kind) = (d.to_string(), d.kind());
                let name = format!("{}-block{}", chain.test, block.index);
                let ref_output = ref_out.as_ref().ok();
                let bundle = ref_output.and_then(|o| write_bundle(opts, input, ref_exec, exec, o, d, &name, &id));
                r.divergences.push(CaseDivergence {
                    case: id.clone(),
                    kind,
                    conflicts: check::conflicts::of(ref_exec.as_ref(), input),
                    reference: ref_exec.name().to_string(),
                    candidate: exec.name().to_string(),
                    file: chain.file.to_string(),
                    test: chain.test.to_string(),
                    fork: chain.network.clone(),
                    indexes: format!("block {}", block.index),
                    what,
                    bundle: bundle.map(|p| p.display().to_string()),
                });
            }
            if is_reference {
                reference[block.index] = ran;
            }
            let expected = &block.expect_exception;
            match (verdict, expected) {
                (Verdict::Accepted(p), None) => {
                    head = p.hash;
                    parents.insert(p.hash, p);
                }
                (Verdict::Rejected(_), Some(_)) => {}
                (Verdict::Rejected(why), None) => {
                    outcome = Err(format!("block {}: rejected, fixture expects it valid: {why}", block.index));
                    break;
                }
                (Verdict::Accepted(_), Some(e)) => {
                    outcome = Err(format!("block {}: accepted, fixture expects exception {e}", block.index));
                    break;
                }
                (Verdict::Failed(d), _) => {
                    outcome = Err(format!("block {}: {d}", block.index));
                    break;
                }
                (Verdict::Unsupported(why), _) => {
                    unsupported = Some(why);
                    break;
                }
            }
        }
        if let Some(why) = unsupported {
            r.record(exec.name(), id.clone(), &chain.file, &chain.network, Status::Skipped, Some(why));
            continue;
        }
        let outcome = outcome.and_then(|()| final_check(chain, &parents, head, &mut roots));
        match outcome {
            Ok(()) => r.record(exec.name(), id.clone(), &chain.file, &chain.network, Status::Passed, None),
            Err(what) => {
                r.record(exec.name(), id.clone(), &chain.file, &chain.network, Status::Failed, Some(what.clone()));
                r.failures.push(CaseFailure {
                    executor: exec.name().to_string(),
                    file: chain.file.to_string(),
                    test: chain.test.to_string(),
                    fork: chain.network.clone(),
                    indexes: String::new(),
                    what,
                });
            }
        }
        reference_exec.get_or_insert(exec);
    }
}

/// A candidate's answer for a block against the reference's on the same input.
fn differ(
    reference: &dyn Executor,
    candidate: &dyn Executor,
    expected: &Result<BlockOutput, String>,
    got: &Result<BlockOutput, String>,
) -> Option<Divergence> {
    match (expected, got) {
        (Ok(e), Ok(g)) => check::compare_under(e, g, reference.capabilities().common(candidate.capabilities())),
        (Err(_), Err(_)) => None,
        (Ok(_), Err(why)) => Some(Divergence::ExecError { message: format!("invalid block: {why}") }),
        (Err(why), Ok(_)) => {
            Some(Divergence::ExecError { message: format!("ran a block the reference calls invalid ({why})") })
        }
    }
}

/// Runs `block` on `exec` on top of its parent: the verdict, and the input with the
/// executor's output (or the block-invalid verdict it gave) when it got that far.
fn run_block(
    opts: &Options,
    exec: &dyn Executor,
    chain: &Chain,
    block: &ChainBlock,
    parents: &HashMap<alloy_primitives::B256, Parent>,
    control: &RunControl,
    roots: &mut RootCache,
) -> (Verdict, Option<(Arc<BlockInput>, Result<BlockOutput, String>)>) {
    let decoded = match &block.decoded {
        Ok(d) => d,
        Err(e) => return (Verdict::Rejected(e.to_string()), None),
    };
    let Some(parent) = parents.get(&decoded.header.parent_hash) else {
        return (Verdict::Rejected(format!("unknown parent {}", decoded.header.parent_hash)), None);
    };
    let Some(fork) = block.fork(&chain.network) else {
        return (Verdict::Rejected(format!("no fork of `{}` at this block", chain.network)), None);
    };
    let input = match blockchain::block_input(parent, decoded, fork, chain.chain_id) {
        Ok(i) => Arc::new(i),
        Err(f) => return (Verdict::Rejected(f.to_string()), None),
    };
    let output = match isolate::run_judged(exec, &input, &with_deadline(control, opts.timeout)) {
        Ok(o) => o,
        Err(d) if d.is_unsupported() => return (Verdict::Unsupported(d.to_string()), None),
        Err(d) => return (Verdict::Failed(d), None),
    };
    let verdict = match &output {
        Err(why) => Verdict::Rejected(why.clone()),
        Ok(out) => match blockchain::check_output(decoded, &input, out, roots) {
            Ok(()) => Verdict::Accepted(parent.child(decoded, fork, out.post_state.clone())),
            Err(f) => Verdict::Rejected(f.to_string()),
        },
    };
    (verdict, Some((input, output)))
}

/// After the last block: the head is `lastblockhash`, and its state is the fixture's.
fn final_check(
    chain: &Chain,
    parents: &HashMap<alloy_primitives::B256, Parent>,
    head: alloy_primitives::B256,
    roots: &mut RootCache,
) -> Result<(), String> {
    if head != chain.last_block_hash {
        return Err(format!("head {head}, fixture's lastblockhash {}", chain.last_block_hash));
    }
    let state = &parents[&head].state;
    match &chain.post {
        PostCheck::State(expected) if **state != *expected => {
            let d = lockstep_conformance::check::first_state_difference(expected, state);
            Err(format!("post-state differs: {}", d.unwrap_or_default()))
        }
        PostCheck::Root(root) => {
            let got = roots.state_root(state);
            if got == *root { Ok(()) } else { Err(format!("post-state root {got}, fixture's {root}")) }
        }
        PostCheck::State(_) => Ok(()),
    }
}
