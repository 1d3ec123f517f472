//! An official state test's vectors packed into one block and mutated (transaction fields,
//! calldata, balances, nonces, storage, code), on the candidate's real threads against the
//! reference. The seeds come from `lockstep fuzz corpus`. A divergence fails the input with
//! the path of its minimized bundle.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep_harness::fuzz::{MutationCase, Seed, Target, seeds_from_env};
use std::sync::LazyLock;

static TARGET: LazyLock<Target> = LazyLock::new(Target::from_env);
static SEEDS: LazyLock<Vec<Seed>> = LazyLock::new(seeds_from_env);

fuzz_target!(|case: MutationCase| {
    if let Err(found) = TARGET.statetest_mutation(&SEEDS, &case) {
        panic!("{found}");
    }
});
