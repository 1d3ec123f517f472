//! The one place Block-STM takes its synchronization primitives from: `std` normally, `loom`
//! when built with `RUSTFLAGS="--cfg loom"`, so the same scheduler and MVMemory run in loom
//! models.

#[cfg(loom)]
pub use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
#[cfg(loom)]
pub use loom::sync::{Arc, Mutex, MutexGuard, RwLock};
#[cfg(loom)]
pub use loom::thread::yield_now;

#[cfg(not(loom))]
pub use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
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
