//! A progress bar on a terminal, nothing elsewhere (CI logs stay clean).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A progress bar drawn on stderr when enabled and stderr is a terminal, hidden otherwise
/// (every method then does nothing visible).
pub struct Progress(ProgressBar);

impl Progress {
    /// A bar of `len` steps counted in `unit` (`blocks`, `files`); `len` 0 when the total is
    /// not known in advance.
    pub fn new(enabled: bool, len: u64, unit: &str) -> Progress {
        let bar = ProgressBar::new(len);
        if enabled && std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            let style = format!("{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {unit} {{msg}}");
            if let Ok(s) = ProgressStyle::with_template(&style) {
                bar.set_style(s.progress_chars("=> "));
            }
        } else {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        Progress(bar)
    }

    /// Advances the bar by `n` steps.
    pub fn inc(&self, n: u64) {
        self.0.inc(n);
    }

    /// Sets the text shown after the count (a running tally of divergences).
    pub fn set_message(&self, msg: String) {
        self.0.set_message(msg);
    }

    /// Clears the bar from the terminal.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A line on stderr for what a long job must not keep to its summary, a hang above all: the
/// job goes on, and whoever watches the log learns of it as it happens.
pub fn note(line: impl std::fmt::Display) {
    eprintln!("lockstep: {line}");
}
