//! The one place Block-STM takes its synchronization primitives from: `std` normally, `loom`
//! when built with `RUSTFLAGS="--cfg loom"`, so the same scheduler and MVMemory run in loom
//! models.

#[cfg(loom)]
pub use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
#[cfg(loom)]
pub use loom::sync::{Arc, Mutex, MutexGuard, RwLock};
#[cfg(loom)]
pub use loom::thread::yield_now;

#[cfg(not(loom))]
pub use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub use std::sync::{Arc, Mutex, MutexGuard, RwLock};
#[cfg(not(loom))]
pub use std::thread::yield_now;

/// Locks, treating a poisoned lock as usable: a panicking worker is reported by the
/// executor as a whole, and the data behind these locks is never left half-written.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// Keeps a value on its own cache line: per-transaction slots and shared counters that
/// different workers touch must not share a line (false sharing serializes workers).
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Padded<T>(pub T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Backs off when a worker finds nothing to do: a few spins first (the next task is usually
/// microseconds away), then the OS. Under loom every back-off is a yield.
pub fn backoff(round: u32) {
    #[cfg(not(loom))]
    if round % 32 != 31 {
        std::hint::spin_loop();
        return;
    }
    let _ = round;
    yield_now();
}
