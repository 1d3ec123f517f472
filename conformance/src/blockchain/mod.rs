//! Official blockchain tests: loading (lenient, like the state tests), blocks decoded from
//! their RLP with senders recovered, each block built into a `BlockInput` on its parent's
//! post-state, and the header checks. Running the chain on executors is the harness's.

pub mod chain;
pub mod decode;
pub mod fixture;
pub mod pack;

pub use chain::{BlockFailure, Parent, block_input, check_output, fork_at};
pub use decode::{DecodeError, DecodedBlock, decode};
pub use fixture::{BlockchainTest, TestKind, kind_of};
pub use pack::pack;

use crate::case::{CaseError, Skipped, state_of};
use crate::json::{self, JsonPath, Location};
use crate::load::{LoadOptions, read_text};
use alloy_primitives::B256;
use lockstep_executors::{Fork, State};
use std::path::Path;
use std::sync::Arc;

/// One blockchain test, ready to run.
#[derive(Clone, Debug)]
pub struct Chain {
    /// The file's path, as displayed.
    pub file: Arc<str>,
    pub test: Arc<str>,
    /// The fixture's `network`: a fork or a transition.
    pub network: String,
    pub chain_id: u64,
    /// The genesis block, as the first block's parent.
    pub genesis: Parent,
    pub blocks: Vec<ChainBlock>,
    /// The state after the last valid block: in full, or only its root.
    pub post: PostCheck,
    /// The hash of the head after every block.
    pub last_block_hash: B256,
}

/// What the final state must be.
#[derive(Clone, Debug)]
pub enum PostCheck {
    State(State),
    Root(B256),
}

/// One block of a chain.
#[derive(Clone, Debug)]
pub struct ChainBlock {
    /// Its position in the fixture's `blocks`.
    pub index: usize,
    /// The decoded block, or why its RLP gives none.
    pub decoded: Result<Arc<DecodedBlock>, DecodeError>,
    /// The exception the fixture expects the block rejected with.
    pub expect_exception: Option<String>,
}

impl ChainBlock {
    /// The fork the block runs under on `network`; `None` when it does not decode or the
    /// network is unknown.
    pub fn fork(&self, network: &str) -> Option<Fork> {
        let block = self.decoded.as_ref().ok()?;
        fork_at(network, block.header.number, block.header.timestamp)
    }
}

/// Everything one file gave.
#[derive(Debug, Default)]
pub struct LoadedChains {
    pub path: Arc<str>,
    pub chains: Vec<Chain>,
    /// State tests met in the file: the other command's, counted apart.
    pub other_kind: Vec<Skipped>,
    pub errors: Vec<CaseError>,
    /// Fields we did not recognise, by their path within the test, once each.
    pub unknown_field_paths: Vec<String>,
}

/// Why a state test in a blockchain-test run is skipped.
pub const STATE_TEST_REASON: &str = "a state test: run by `lockstep statetest`";

/// Loads one file of blockchain tests. `keep(test_name)` selects tests; a chain whose fork
/// is not `fork` (when given) is left out.
pub fn load_file(path: &Path, opts: &LoadOptions, keep: &dyn Fn(&str) -> bool) -> LoadedChains {
    let name: Arc<str> = Arc::from(path.display().to_string());
    match read_text(&name, path, opts.max_file_bytes) {
        Ok(text) => load_text(name, &text, opts, keep),
        Err(e) => LoadedChains { path: name, errors: vec![e], ..Default::default() },
    }
}

/// [`load_file`] on a file's text, `name` standing for its path in what it reports.
pub fn load_text(name: Arc<str>, text: &str, opts: &LoadOptions, keep: &dyn Fn(&str) -> bool) -> LoadedChains {
    let mut out = LoadedChains { path: name.clone(), ..Default::default() };
    let parsed = match crate::fixture::parse_as::<BlockchainTest>(text, "blockchain test") {
        Ok(p) => p,
        Err(e) => {
            out.errors.push(CaseError { at: Some(e.at), ..CaseError::file(&name, e.message) });
            return out;
        }
    };
    if parsed.tests.is_empty() {
        out.errors.push(CaseError::file(&name, "the file holds no tests"));
    }
    for t in &parsed.tests {
        if !keep(&t.name) {
            continue;
        }
        let test_name: Arc<str> = Arc::from(t.name.as_str());
        let err = |at: Location, message: String| CaseError {
            file: name.clone(),
            test: test_name.clone(),
            at: Some(at),
            message,
        };
        let test = match &t.test {
            Ok(test) => test,
            Err(_) if kind_of(t.raw) == TestKind::State => {
                let id = crate::case::CaseId {
                    file: name.clone(),
                    test: test_name.clone(),
                    fork: "-".into(),
                    indexes: Default::default(),
                };
                out.other_kind.push(Skipped { id, reason: STATE_TEST_REASON });
                continue;
            }
            Err(e) => {
                out.errors.push(err(e.at.clone(), e.message.clone()));
                continue;
            }
        };
        out.unknown_field_paths.extend(t.unknown_fields.iter().cloned());
        // Place a path of this test in the file's text.
        let offset = json::offset_in(&text, t.raw);
        let place = |path: JsonPath| {
            let (found, spelled) = json::locate(t.raw, &path);
            let (line, column) = json::position(&text, offset + found);
            Location { path: spelled, line, column }
        };
        match chain(&name, &test_name, test) {
            Ok(c) => {
                let fork = c.blocks.first().and_then(|b| b.fork(&c.network)).or(Fork::from_name(&c.network));
                if opts.fork.is_none() || fork == opts.fork {
                    out.chains.push(c);
                }
            }
            Err((path, message)) => out.errors.push(err(place(path), message)),
        }
    }
    out.unknown_field_paths.sort();
    out.unknown_field_paths.dedup();
    out
}

/// The chain of one parsed test; `Err` names the field that makes it unusable.
fn chain(file: &Arc<str>, test_name: &Arc<str>, test: &BlockchainTest) -> Result<Chain, (JsonPath, String)> {
    let root = JsonPath::root();
    let genesis_number = u64::try_from(test.genesis_block_header.number).unwrap_or(0);
    let genesis_fork =
        fork_at(&test.network, genesis_number, u64::try_from(test.genesis_block_header.timestamp).unwrap_or(0))
            .ok_or_else(|| (root.key("network"), format!("unknown network `{}`", test.network)))?;
    let pre = state_of(&test.pre, &root.key("pre"))?;
    let root_of_pre = lockstep_executors::trie::state_root(&pre);
    if root_of_pre != test.genesis_block_header.state_root {
        let message = format!(
            "the pre-state's root is {root_of_pre}, the genesis header says {}",
            test.genesis_block_header.state_root
        );
        return Err((root.key("genesisBlockHeader").key("stateRoot"), message));
    }
    let genesis = Parent::genesis(&test.genesis_block_header, genesis_fork, pre)
        .map_err(|m| (root.key("genesisBlockHeader"), m))?;
    let post = match (&test.post_state, test.post_state_hash) {
        (Some(s), _) => PostCheck::State(state_of(s, &root.key("postState"))?),
        (None, Some(h)) => PostCheck::Root(h),
        (None, None) => return Err((root.key("postState"), "neither `postState` nor `postStateHash`".into())),
    };
    let chain_id = match test.config.as_ref().and_then(|c| c.chainid) {
        Some(id) => {
            u64::try_from(id).map_err(|_| (root.key("config").key("chainid"), "chain id above 2^64-1".into()))?
        }
        None => 1,
    };
    let blocks = test
        .blocks
        .iter()
        .enumerate()
        .map(|(index, b)| {
            let decoded = match &b.rlp {
                Some(rlp) => decode(rlp).map(Arc::new),
                None => Err(DecodeError::Rlp("the block has no `rlp`".into())),
            };
            ChainBlock { index, decoded, expect_exception: b.expect_exception.clone() }
        })
        .collect::<Vec<_>>();
    // A block the fixture calls valid must decode and extend a block it has: else the test
    // itself is broken, whatever an executor does.
    let mut known = std::collections::HashSet::from([test.genesis_block_header.hash]);
    for b in &blocks {
        let at = root.key("blocks").index(b.index).key("rlp");
        match (&b.decoded, &b.expect_exception) {
            (Err(e), None) => return Err((at, format!("block {}: {e}", b.index))),
            (Ok(d), None) if !known.contains(&d.header.parent_hash) => {
                let message = format!("block {}: its parent {} is not in the test", b.index, d.header.parent_hash);
                return Err((at, message));
            }
            (Ok(d), _) => {
                known.insert(d.hash);
            }
            (Err(_), Some(_)) => {}
        }
    }
    Ok(Chain {
        file: file.clone(),
        test: test_name.clone(),
        network: test.network.clone(),
        chain_id,
        genesis,
        blocks,
        post,
        last_block_hash: test.lastblockhash,
    })
}
