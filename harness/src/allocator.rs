//! Process-wide tuning of glibc's allocator, which the binary uses (Rust's `System`).
//!
//! By default glibc raises its mmap threshold every time a mapped block is freed, up to 32 MiB,
//! and from then on serves blocks below it from its arenas, which keep their pages after
//! `free`. A state-test run frees megabyte EVM memories all the time, so without a fixed
//! threshold the arenas keep every worker's high-water mark.
//!
//! Measured over GeneralStateTests in one run (`/usr/bin/time -v`, peak resident): revm's own
//! runner 597 MB; glibc with this threshold 578 MB; glibc's default 655-690 MB; mimalloc
//! 1.1-1.4 GB; jemalloc 1.1 GB. mimalloc and jemalloc allocate anew and copy when an EVM memory
//! grows by `realloc`, where glibc remaps it in place, so the old and the new buffer both live
//! for a moment: on `static_Call1MB1024Calldepth` that doubled the peak and took 3-6 times as
//! long. mimalloc's per-thread heaps made Block-STM 10-15 % faster on the raw-transfer and
//! hot-chain benches at 2 threads (the same on ERC-20); routing small blocks to mimalloc and
//! large ones to glibc kept that but peaked at 600-620 MB, above revm's runner, so the binary
//! stays on glibc.

/// Blocks of this many bytes or more are mapped on their own and unmapped on `free`
/// (glibc's default starting threshold, kept from moving).
const MMAP_THRESHOLD: i32 = 128 * 1024;

/// Fixes glibc's mmap threshold at [`MMAP_THRESHOLD`]; does nothing on other C libraries.
/// Called first thing in `main`, before any thread exists.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets an allocator parameter; it is called before any other thread
    // is started, and a refused value returns 0 and leaves glibc's default in place.
    #[allow(unsafe_code)]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
