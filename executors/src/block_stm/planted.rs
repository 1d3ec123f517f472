//! Deliberate concurrency bugs that test builds can plant in Block-STM, so that the loom
//! models, controlled schedules, stress and fuzzing prove they catch each class.

/// Test builds can plant concurrency bugs, to prove the loom models and controlled
/// schedules catch them. Production builds cannot construct anything but `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlantedBug {
    /// No bug: the only value a production build can construct.
    #[default]
    None,
    /// Validation of this transaction always passes.
    #[cfg(any(test, loom, feature = "planted-bugs"))]
    SkipValidation(super::TxIndex),
    /// An aborted incarnation's writes are not turned into ESTIMATEs.
    #[cfg(any(test, loom, feature = "planted-bugs"))]
    NoEstimates,
    /// The termination check ignores active tasks.
    #[cfg(any(test, loom, feature = "planted-bugs"))]
    DoneIgnoresActiveTasks,
}
