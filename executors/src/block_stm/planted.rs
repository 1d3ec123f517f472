//! Deliberate bugs that test builds can plant in Block-STM: each a small, realistic mistake
//! re-creating one class of bug that parallel EVMs shipped (`shared/known-bugs.md`), so that
//! the loom models, controlled schedules, stress, fuzzing and `lockstep hunt` prove they
//! catch it.

/// The bug planted in one Block-STM build. Production builds can construct only
/// [`PlantedBug::NONE`]: the constructor of any other exists only with the `planted-bugs`
/// feature (and in tests and loom models).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlantedBug(Option<Mutant>);

impl PlantedBug {
    /// No bug.
    pub const NONE: PlantedBug = PlantedBug(None);

    /// A build with `mutant` planted.
    #[cfg(any(test, loom, feature = "planted-bugs"))]
    pub const fn planted(mutant: Mutant) -> PlantedBug {
        PlantedBug(Some(mutant))
    }

    /// Whether this build carries `mutant`.
    #[inline]
    pub fn is(self, mutant: Mutant) -> bool {
        self.0 == Some(mutant)
    }

    /// The planted mutant, if any.
    pub fn mutant(self) -> Option<Mutant> {
        self.0
    }
}

/// One seeded bug; [`Mutant::executor`] names the Block-STM build that carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mutant {
    /// MVMemory identifies a storage slot by its low 64 bits: two slots equal there share
    /// versions, and the post-state keeps the last writer's slot only.
    HashedLocation,
    /// A read of the beneficiary sums the lower fee deltas but does not record that read:
    /// validation misses a fee that lands below it later.
    UnrecordedFeeRead,
    /// A transaction the beneficiary sends loads its account without the lower fee deltas.
    BeneficiarySenderMissesFees,
    /// The beneficiary's post-state is built from its pre-state and every fee: an explicit
    /// write to it (a call into it, a transfer to it) is lost.
    BeneficiaryWriteLost,
    /// A read of an account that a lower transaction destroyed sees its pre-state account.
    DestroyedReadsPreState,
    /// A destroyed or re-created account's old storage stays visible to reads.
    StorageKeptOnRecreation,
    /// An account write that changes only the nonce is dropped (a zero-value CREATE).
    NonceOnlyWriteDropped,
    /// Validation of transaction 1 always passes.
    SkipValidation,
    /// After a re-execution that wrote a new location, validation restarts above the
    /// transaction instead of at it, so its new incarnation is never validated.
    ValidationStartsAbove,
    /// A new incarnation's write set does not remove the locations only the old one wrote.
    StaleWriteSet,
    /// A re-execution on the same worker starts from the accounts its previous incarnation
    /// read, which are not in its read set.
    AccountCacheLeak,
    /// A transaction whose nonce is too high waits for the one below, and retries forever.
    NonceGapLivelock,
    /// A transaction rejected for insufficient funds keeps no read set: the balance it was
    /// judged on is never validated.
    RejectionNotValidated,
    /// A touched empty account is kept instead of cleared (EIP-161).
    TouchedEmptyKept,
    /// Code deployed or delegated in the block is not recorded with its code hash: later
    /// transactions and the post-state find no code.
    CodeNotRecorded,
    /// The termination check ignores active tasks.
    DoneIgnoresActiveTasks,
    /// An aborted incarnation's writes are not turned into ESTIMATEs.
    NoEstimates,
    /// A re-executed transaction's receipt keeps the logs of its aborted incarnations.
    SpeculativeLogs,
}

impl Mutant {
    /// Every seeded bug, in the order of the classes they re-create.
    pub const ALL: [Mutant; 18] = [
        Mutant::HashedLocation,
        Mutant::UnrecordedFeeRead,
        Mutant::BeneficiarySenderMissesFees,
        Mutant::BeneficiaryWriteLost,
        Mutant::DestroyedReadsPreState,
        Mutant::StorageKeptOnRecreation,
        Mutant::NonceOnlyWriteDropped,
        Mutant::SkipValidation,
        Mutant::ValidationStartsAbove,
        Mutant::NoEstimates,
        Mutant::StaleWriteSet,
        Mutant::AccountCacheLeak,
        Mutant::NonceGapLivelock,
        Mutant::RejectionNotValidated,
        Mutant::TouchedEmptyKept,
        Mutant::CodeNotRecorded,
        Mutant::DoneIgnoresActiveTasks,
        Mutant::SpeculativeLogs,
    ];

    /// The executor name of the Block-STM build that carries it.
    pub fn executor(self) -> &'static str {
        match self {
            Mutant::HashedLocation => "block-stm-hashed-location",
            Mutant::UnrecordedFeeRead => "block-stm-unrecorded-fee-read",
            Mutant::BeneficiarySenderMissesFees => "block-stm-beneficiary-sender",
            Mutant::BeneficiaryWriteLost => "block-stm-beneficiary-write-lost",
            Mutant::DestroyedReadsPreState => "block-stm-destroyed-reads-pre-state",
            Mutant::StorageKeptOnRecreation => "block-stm-storage-kept",
            Mutant::NonceOnlyWriteDropped => "block-stm-nonce-only-dropped",
            Mutant::SkipValidation => "block-stm-skip-validation",
            Mutant::ValidationStartsAbove => "block-stm-validation-above",
            Mutant::NoEstimates => "block-stm-no-estimates",
            Mutant::StaleWriteSet => "block-stm-stale-write-set",
            Mutant::AccountCacheLeak => "block-stm-account-cache-leak",
            Mutant::NonceGapLivelock => "block-stm-nonce-gap-livelock",
            Mutant::RejectionNotValidated => "block-stm-rejection-not-validated",
            Mutant::TouchedEmptyKept => "block-stm-touched-empty-kept",
            Mutant::CodeNotRecorded => "block-stm-code-not-recorded",
            Mutant::DoneIgnoresActiveTasks => "block-stm-done-early",
            Mutant::SpeculativeLogs => "block-stm-speculative-logs",
        }
    }

    /// The row of `shared/known-bugs.md` whose class it re-creates.
    pub fn class(self) -> u8 {
        match self {
            Mutant::HashedLocation => 1,
            Mutant::UnrecordedFeeRead => 2,
            Mutant::BeneficiarySenderMissesFees => 3,
            Mutant::BeneficiaryWriteLost => 4,
            Mutant::DestroyedReadsPreState => 6,
            Mutant::StorageKeptOnRecreation => 7,
            Mutant::NonceOnlyWriteDropped => 8,
            Mutant::SkipValidation | Mutant::ValidationStartsAbove | Mutant::NoEstimates => 9,
            Mutant::StaleWriteSet => 10,
            Mutant::AccountCacheLeak => 11,
            Mutant::NonceGapLivelock => 12,
            Mutant::RejectionNotValidated => 13,
            Mutant::TouchedEmptyKept => 14,
            Mutant::CodeNotRecorded => 17,
            Mutant::DoneIgnoresActiveTasks => 19,
            Mutant::SpeculativeLogs => 21,
        }
    }

    /// What the mistake is, in a line.
    pub fn description(self) -> &'static str {
        match self {
            Mutant::HashedLocation => "MVMemory identifies a storage slot by its low 64 bits",
            Mutant::UnrecordedFeeRead => "a beneficiary read does not record the fee deltas it summed",
            Mutant::BeneficiarySenderMissesFees => "the beneficiary as sender does not see lower fees",
            Mutant::BeneficiaryWriteLost => "the beneficiary's post-state is pre-state plus fees",
            Mutant::DestroyedReadsPreState => "a destroyed account reads as its pre-state",
            Mutant::StorageKeptOnRecreation => "storage survives destruction and re-creation",
            Mutant::NonceOnlyWriteDropped => "a nonce-only account change is not written",
            Mutant::SkipValidation => "validation of tx 1 always passes",
            Mutant::ValidationStartsAbove => "validation restarts above a re-executed tx",
            Mutant::NoEstimates => "an aborted incarnation leaves no ESTIMATEs",
            Mutant::StaleWriteSet => "an old incarnation's extra writes stay",
            Mutant::AccountCacheLeak => "a re-execution reuses the accounts its last incarnation read",
            Mutant::NonceGapLivelock => "a too-high nonce waits for the tx below forever",
            Mutant::RejectionNotValidated => "an insufficient-funds rejection is never validated",
            Mutant::TouchedEmptyKept => "touched empty accounts are not cleared (EIP-161)",
            Mutant::CodeNotRecorded => "new code is not recorded with its code hash",
            Mutant::DoneIgnoresActiveTasks => "the termination check ignores active tasks",
            Mutant::SpeculativeLogs => "a receipt keeps an aborted incarnation's logs",
        }
    }

    /// The mutant whose executor is `name`.
    pub fn from_executor(name: &str) -> Option<Mutant> {
        Mutant::ALL.into_iter().find(|m| m.executor() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mutant_is_listed_once_with_its_own_name() {
        let mut names: Vec<_> = Mutant::ALL.iter().map(|m| m.executor()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Mutant::ALL.len());
        for m in Mutant::ALL {
            assert_eq!(Mutant::from_executor(m.executor()), Some(m));
        }
        let mut classes: Vec<u8> = Mutant::ALL.iter().map(|m| m.class()).collect();
        classes.dedup();
        for class in [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 17, 19, 21] {
            assert!(classes.contains(&class), "no mutant of class {class}");
        }
    }
}
