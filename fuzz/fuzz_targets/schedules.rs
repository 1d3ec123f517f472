//! A generated block on the candidate under one controlled schedule (the input picks it)
//! against the reference. A divergence fails the input with the path of its minimized bundle,
//! schedule included.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockstep_harness::fuzz::{FuzzCase, Target};
use std::sync::LazyLock;

static TARGET: LazyLock<Target> = LazyLock::new(Target::from_env);

fuzz_target!(|case: FuzzCase| {
    if let Err(found) = TARGET.schedules(&case) {
        panic!("{found}");
    }
});
