//! Official Ethereum state tests as lockstep cases: loading (lenient, with warnings for
//! unknown fields), expansion into one-transaction `BlockInput`s, checking an executor's
//! output against the fixture's expectations, and the skip list.

pub mod case;
pub mod check;
pub mod fixture;
pub mod load;
pub mod pack;
pub mod skip;

pub use case::{Case, CaseError, CaseId, CaseInput, Expectation};
pub use check::{Failure, Verdict, check};
pub use load::{LoadedFile, discover, load_file};

use std::path::PathBuf;

/// Where official fixtures are: `--fixtures DIR`, else `LOCKSTEP_FIXTURES`, else
/// `../shared/fixtures` when it exists. `None` when none is found.
pub fn fixtures_dir(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit.or_else(|| std::env::var_os("LOCKSTEP_FIXTURES").map(PathBuf::from)).or_else(|| {
        let shared = PathBuf::from("../shared/fixtures");
        shared.is_dir().then_some(shared)
    })
}

/// The fixture folders of the pinned official sets, relative to the fixtures directory.
pub const STATE_TEST_DIRS: &[&str] =
    &["ethereum-tests/GeneralStateTests", "eest/pectra-devnet-5/state_tests", "eest/fusaka-devnet-5/state_tests"];
