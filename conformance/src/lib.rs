//! Official Ethereum state tests as lockstep cases: loading (lenient, with warnings for
//! unknown fields), expansion into one-transaction `BlockInput`s, checking an executor's
//! output against the fixture's expectations, and the skip list.

pub mod blockchain;
pub mod case;
pub mod check;
pub mod fetch;
pub mod fixture;
pub mod json;
pub mod load;
pub mod pack;
pub mod skip;

pub use case::{Case, CaseError, CaseId, CaseInput, Expectation, visible};
pub use check::{Failure, Verdict, check};
pub use json::{JsonPath, Location};
pub use load::{DEFAULT_MAX_FILE_BYTES, LoadOptions, LoadedFile, discover, load_file, load_file_with, load_text};

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where official fixtures are: `--fixtures DIR`, else `LOCKSTEP_FIXTURES`, else
/// `../shared/fixtures` (relative to the current directory) when it exists, else the
/// [fetch cache](fetch::default_cache_dir) when every pinned source's directories exist
/// there (existence only; [`fetch::verify`] checks contents). `None` when none is found.
pub fn fixtures_dir(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit
        .or_else(|| std::env::var_os("LOCKSTEP_FIXTURES").map(PathBuf::from))
        .or_else(|| {
            let shared = PathBuf::from("../shared/fixtures");
            shared.is_dir().then_some(shared)
        })
        .or_else(|| {
            let cache = fetch::default_cache_dir()?;
            let complete = fetch::PINNED.sources.iter().flat_map(|s| s.installs()).all(|p| cache.join(p).is_dir());
            complete.then_some(cache)
        })
}

/// The fixtures directory for test code, found without the network whenever possible:
/// `LOCKSTEP_FIXTURES` if set (it must be a directory); else `../shared/fixtures` beside the
/// workspace root, if it exists; else the [fetch cache](fetch::default_cache_dir) if it
/// verifies against [`fetch::PINNED`]; else the pinned fixtures are [fetched](fetch::fetch)
/// into the cache (about 80 MB installed; needs internet or `LOCKSTEP_FIXTURES_MIRROR`).
/// The cache check and fetch run once per process. `Err` is a message saying what to do.
pub fn fixtures_for_tests() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("LOCKSTEP_FIXTURES").filter(|d| !d.is_empty()).map(PathBuf::from) {
        return if dir.is_dir() {
            Ok(dir)
        } else {
            Err(format!("LOCKSTEP_FIXTURES={} is not a directory", dir.display()))
        };
    }
    // The workspace root is this crate's parent; the shared copy sits beside the root.
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures");
    if shared.is_dir() {
        return Ok(shared);
    }
    static CACHED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    CACHED.get_or_init(cached_or_fetched).clone()
}

fn cached_or_fetched() -> Result<PathBuf, String> {
    const HOW: &str = "set LOCKSTEP_FIXTURES=DIR to a copy of the official fixtures, or fetch them with \
                       `just fixtures` (needs internet, or LOCKSTEP_FIXTURES_MIRROR=URL-or-DIR)";
    let Some(cache) = fetch::default_cache_dir() else {
        return Err(format!("no official fixtures found and no cache directory (no HOME or LOCKSTEP_CACHE): {HOW}"));
    };
    let verified = |dir: &Path| fetch::verify(dir).is_ok_and(|all| all.iter().all(|v| v.status == fetch::Status::Ok));
    if verified(&cache) {
        return Ok(cache);
    }
    eprintln!("lockstep: fetching the official fixtures into {}", cache.display());
    match fetch::fetch(&fetch::FetchOptions { progress: false, ..fetch::FetchOptions::new(&cache) }) {
        Ok(_) => Ok(cache),
        Err(e) => {
            Err(format!("no official fixtures found, and fetching them into {} failed: {e}; {HOW}", cache.display()))
        }
    }
}

/// The blockchain-test folders of the pinned official sets, relative to the fixtures directory.
pub const BLOCKCHAIN_TEST_DIRS: &[&str] = &["ethereum-tests/BlockchainTests"];

/// The fixture folders of the pinned official sets, relative to the fixtures directory.
pub const STATE_TEST_DIRS: &[&str] =
    &["ethereum-tests/GeneralStateTests", "eest/pectra-devnet-5/state_tests", "eest/fusaka-devnet-5/state_tests"];
