//! SIGINT (Ctrl-C) as a request to stop: the jobs finish the block, schedule or file at hand,
//! skip the rest and return the report of what ran, which the command line writes before it
//! exits with [`EXIT_INTERRUPTED`]. A second SIGINT exits at once.

use std::sync::atomic::{AtomicBool, Ordering};

/// The exit code of a run stopped by SIGINT (128 + the signal's number, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once per process; later calls do nothing). Without it, SIGINT
/// ends the process at once, as by default.
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let installed = ctrlc::set_handler(|| {
            if REQUESTED.swap(true, Ordering::SeqCst) {
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
            eprintln!("lockstep: interrupted; finishing what runs and writing the report (Ctrl-C again to quit now)");
        });
        if let Err(e) = installed {
            eprintln!("lockstep: cannot catch SIGINT ({e}); Ctrl-C will end the run without a report");
        }
    });
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// Requests a stop, as SIGINT does (for tests and embedding callers).
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}
