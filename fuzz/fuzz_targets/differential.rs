//! A generated block on the candidate (real threads) against the reference. A divergence
//! fails the input with the path of its minimized bundle.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep_harness::fuzz::{FuzzCase, Target};
use std::sync::LazyLock;

static TARGET: LazyLock<Target> = LazyLock::new(Target::from_env);

fuzz_target!(|case: FuzzCase| {
    if let Err(found) = TARGET.differential(&case) {
        panic!("{found}");
    }
});
