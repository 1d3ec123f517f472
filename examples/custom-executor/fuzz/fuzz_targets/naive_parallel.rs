//! `NaiveParallel` under lockstep's `differential` body: `cargo fuzz run -s none
//! naive_parallel` from this folder finds its conflict bugs and leaves minimized bundles under
//! `artifacts/lockstep/`.
#![no_main]

use custom_executor::NaiveParallel;
use lockstep_executors::Sequential;
use lockstep_harness::fuzz::{FuzzCase, Target};
use std::sync::{Arc, LazyLock};

static TARGET: LazyLock<Target> =
    LazyLock::new(|| Target::new(Arc::new(Sequential), Arc::new(NaiveParallel), "artifacts/lockstep".into()));

libfuzzer_sys::fuzz_target!(|case: FuzzCase| {
    if let Err(found) = TARGET.differential(&case) {
        panic!("{found}");
    }
});
