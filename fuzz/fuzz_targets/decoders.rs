//! Arbitrary bytes into every reader of outside data lockstep has: state and blockchain
//! tests, a bundle's `case.json` and `schedule.json`, a t8n input, block RLP. Each must answer
//! with a value or an error; a panic, a hang or an allocation past the fuzzer's limits fails.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    lockstep_harness::fuzz::decoders(bytes);
});
