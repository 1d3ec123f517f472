//! The `statetest_mutation` target's input: an official state test's vectors packed into one
//! block (a [`Seed`], built from the fixtures by `lockstep fuzz corpus`), a prefix of its
//! transactions, and mutations of their fields and of the pre-state. Mutations keep every
//! sender (so the block still replays and exports), and values stay small enough that the
//! block is mostly valid: a mutation that makes every transaction a rejection tells little.

use alloy_primitives::{Bytes, U256};
use lockstep_executors::BlockInput;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// At most this many mutations of an input are applied.
pub const MAX_MUTATIONS: usize = 32;
/// Splices are cut to this many bytes.
const MAX_SPLICE: usize = 64;

/// A packed official state test, the unit a mutation input starts from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seed {
    /// `file :: test [fork]`.
    pub name: String,
    /// The test's vectors as one block.
    pub block: BlockInput,
}

/// Reads the seeds file `lockstep fuzz corpus` writes (`seeds.json`).
///
/// Errors: the file cannot be read, or is not a list of seeds (serde's message).
pub fn read_seeds(path: &Path) -> Result<Vec<Seed>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not a lockstep seeds file: {e}", path.display()))
}

/// The seeds of a fuzzing process: the file `LOCKSTEP_FUZZ_SEEDS` names, else `fuzz/seeds.json`
/// or `seeds.json` in the working directory, else `seeds.json` beside the executable (where
/// an OSS-Fuzz build puts it).
///
/// Panics, before any input runs, when there is none or it does not read: `lockstep fuzz
/// corpus` writes it.
pub fn seeds_from_env() -> Vec<Seed> {
    let beside_exe = std::env::current_exe().ok().and_then(|e| Some(e.parent()?.join("seeds.json")));
    let path = std::env::var_os("LOCKSTEP_FUZZ_SEEDS").map(std::path::PathBuf::from).or_else(|| {
        ["fuzz/seeds.json", "seeds.json"]
            .into_iter()
            .map(std::path::PathBuf::from)
            .chain(beside_exe)
            .find(|p| p.is_file())
    });
    let Some(path) = path else {
        panic!("no seeds for statetest_mutation: run `lockstep fuzz corpus` or set LOCKSTEP_FUZZ_SEEDS")
    };
    read_seeds(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// One `statetest_mutation` input.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct MutationCase {
    /// The seed: `seed % seeds`.
    pub seed: u16,
    /// Transactions kept, the first ones: `take % txs + 1`.
    pub take: u8,
    /// Applied in order, the first [`MAX_MUTATIONS`].
    pub mutations: Vec<Mutation>,
    /// The candidate's worker threads: `threads % 8 + 1`.
    pub threads: u8,
}

/// One change to a seed block. `tx` and `account` index the block's transactions and its
/// pre-state's accounts (in address order), modulo their number.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
// Each variant's text names what its fields are.
#[allow(missing_docs)]
pub enum Mutation {
    /// The transaction's value, in wei.
    Value { tx: u8, wei: u32 },
    /// The transaction's gas limit.
    GasLimit { tx: u8, gas: u32 },
    /// The transaction's gas price (its fee cap from EIP-1559 on) raised by `wei` per gas.
    GasPrice { tx: u8, wei: u16 },
    /// The transaction's nonce moved by `delta`.
    Nonce { tx: u8, delta: i8 },
    /// One calldata byte overwritten.
    CalldataByte { tx: u8, at: u16, byte: u8 },
    /// Bytes put into the calldata at `at` (where the dictionary's words land).
    CalldataSplice { tx: u8, at: u16, bytes: Vec<u8> },
    /// The calldata cut to `len` bytes.
    CalldataTruncate { tx: u8, len: u16 },
    /// An account's balance set, in wei (`wei << shift`).
    Balance { account: u8, wei: u64, shift: u8 },
    /// An account's nonce set.
    AccountNonce { account: u8, nonce: u8 },
    /// A storage slot set (`value` zero clears it).
    Storage { account: u8, slot: u8, value: u64 },
    /// One code byte overwritten.
    CodeByte { account: u8, at: u16, byte: u8 },
    /// Bytes put into the code at `at`.
    CodeSplice { account: u8, at: u16, bytes: Vec<u8> },
}

fn pick(len: usize, i: u8) -> Option<usize> {
    (len > 0).then(|| i as usize % len)
}

fn splice(into: &Bytes, at: u16, bytes: &[u8]) -> Bytes {
    let mut v = into.to_vec();
    let at = (at as usize).min(v.len());
    let bytes = &bytes[..bytes.len().min(MAX_SPLICE)];
    v.splice(at..at, bytes.iter().copied());
    v.into()
}

fn overwrite(into: &Bytes, at: u16, byte: u8) -> Bytes {
    let mut v = into.to_vec();
    if !v.is_empty() {
        let at = at as usize % v.len();
        v[at] = byte;
    }
    v.into()
}

impl MutationCase {
    /// The seed block these bytes pick, cut and mutated; `None` without seeds or
    /// transactions.
    pub fn block(&self, seeds: &[Seed]) -> Option<BlockInput> {
        let seed = seeds.get(self.seed as usize % seeds.len().max(1))?;
        let mut block = seed.block.clone();
        if block.txs.is_empty() {
            return None;
        }
        block.txs.truncate(self.take as usize % block.txs.len() + 1);
        let accounts: Vec<_> = block.pre_state.keys().copied().collect();
        for m in self.mutations.iter().take(MAX_MUTATIONS) {
            let n = block.txs.len();
            let tx = |i: u8| pick(n, i);
            match *m {
                Mutation::Value { tx: i, wei } => block.txs[tx(i)?].value = U256::from(wei),
                Mutation::GasLimit { tx: i, gas } => block.txs[tx(i)?].gas_limit = u64::from(gas),
                Mutation::GasPrice { tx: i, wei } => {
                    let t = &mut block.txs[tx(i)?];
                    t.gas_price = t.gas_price.saturating_add(u128::from(wei));
                }
                Mutation::Nonce { tx: i, delta } => {
                    let t = &mut block.txs[tx(i)?];
                    t.nonce = t.nonce.saturating_add_signed(i64::from(delta));
                }
                Mutation::CalldataByte { tx: i, at, byte } => {
                    let t = &mut block.txs[tx(i)?];
                    t.input = overwrite(&t.input, at, byte);
                }
                Mutation::CalldataSplice { tx: i, at, ref bytes } => {
                    let t = &mut block.txs[tx(i)?];
                    t.input = splice(&t.input, at, bytes);
                }
                Mutation::CalldataTruncate { tx: i, len } => {
                    let t = &mut block.txs[tx(i)?];
                    t.input = t.input.slice(..t.input.len().min(len as usize));
                }
                Mutation::Balance { account, wei, shift } => {
                    let a = accounts[pick(accounts.len(), account)?];
                    let balance = U256::from(wei) << (shift % 96) as usize;
                    block.pre_state.get_mut(&a)?.balance = balance;
                }
                Mutation::AccountNonce { account, nonce } => {
                    let a = accounts[pick(accounts.len(), account)?];
                    block.pre_state.get_mut(&a)?.nonce = u64::from(nonce);
                }
                Mutation::Storage { account, slot, value } => {
                    let a = accounts[pick(accounts.len(), account)?];
                    let storage = &mut block.pre_state.get_mut(&a)?.storage;
                    if value == 0 {
                        storage.remove(&U256::from(slot));
                    } else {
                        storage.insert(U256::from(slot), U256::from(value));
                    }
                }
                Mutation::CodeByte { account, at, byte } => {
                    let a = accounts[pick(accounts.len(), account)?];
                    let acc = block.pre_state.get_mut(&a)?;
                    acc.code = overwrite(&acc.code, at, byte);
                }
                Mutation::CodeSplice { account, at, ref bytes } => {
                    let a = accounts[pick(accounts.len(), account)?];
                    let acc = block.pre_state.get_mut(&a)?;
                    acc.code = splice(&acc.code, at, bytes);
                }
            }
        }
        Some(block)
    }
}
