//! How fast the `differential` target's body runs, and where an input's time goes: what
//! `lockstep fuzz bench` measures. The inputs are generated blocks of a fixed size drawn from
//! one seed, so that two builds compare on the same inputs; without libFuzzer's
//! instrumentation, so the figure is the body's ceiling (a campaign adds coverage tracing and
//! mutation on top).

use super::{FuzzCase, Target};
use arbitrary::{Arbitrary, Unstructured};
use lockstep_reports::table::Table;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

/// Time spent in each step of one or more inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Phases {
    /// Generating the block from the input (pre-state, transactions, senders' keys).
    pub generate: Duration,
    /// The reference's run.
    pub reference: Duration,
    /// The candidate's run on real threads, with its deadline.
    pub candidate: Duration,
    /// The rest of the check: the helper thread that holds the candidate's deadline, and
    /// comparing the two outputs.
    pub check: Duration,
}

impl Phases {
    /// The sum of the steps.
    pub fn total(&self) -> Duration {
        self.generate + self.reference + self.candidate + self.check
    }

    fn add(&mut self, other: &Phases) {
        self.generate += other.generate;
        self.reference += other.reference;
        self.candidate += other.candidate;
        self.check += other.check;
    }
}

/// `count` fuzzer inputs (the bytes libFuzzer would pass) of `txs` transactions each (1 to
/// 64), drawn from `seed`: every family, contention, sender count and worker count (1 to 8)
/// as the bytes decide. Written to a directory, they are a corpus on which a libFuzzer build
/// of the target runs the same inputs (`-runs=0` reports its rate on them).
pub fn inputs(seed: u64, txs: u8, count: usize) -> Vec<Vec<u8>> {
    let want = txs.clamp(1, 64) - 1;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let mut bytes = vec![0u8; 48];
        rng.fill_bytes(&mut bytes);
        let Ok(case) = FuzzCase::arbitrary_take_rest(Unstructured::new(&bytes)) else { continue };
        if case.block.txs % 64 == want {
            out.push(bytes);
        }
    }
    out
}

/// The inputs as the target decodes them.
pub fn cases(inputs: &[Vec<u8>]) -> Vec<FuzzCase> {
    inputs.iter().filter_map(|b| FuzzCase::arbitrary_take_rest(Unstructured::new(b)).ok()).collect()
}

/// What a measurement found.
#[derive(Clone, Debug)]
pub struct Throughput {
    /// Inputs run.
    pub inputs: usize,
    /// Wall time of all of them.
    pub wall: Duration,
    /// Their steps, summed.
    pub phases: Phases,
    /// Inputs on which the candidate diverged.
    pub divergences: usize,
}

impl Throughput {
    /// Inputs a second over the wall time.
    pub fn per_second(&self) -> f64 {
        self.inputs as f64 / self.wall.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// The phase breakdown as a text table: milliseconds per input and share of the total.
    pub fn table(&self) -> String {
        let p = &self.phases;
        let total = p.total().as_secs_f64().max(f64::MIN_POSITIVE);
        let per_input = |d: Duration| d.as_secs_f64() * 1e3 / self.inputs.max(1) as f64;
        let mut t = Table::new(["phase", "ms per input", "share"]);
        for (name, d) in
            [("generate", p.generate), ("reference", p.reference), ("candidate", p.candidate), ("check", p.check)]
        {
            t.row([
                name.to_string(),
                format!("{:.3}", per_input(d)),
                format!("{:.1} %", 100.0 * d.as_secs_f64() / total),
            ]);
        }
        t.row(["total".into(), format!("{:.3}", per_input(p.total())), "100.0 %".into()]);
        t.render()
    }
}

/// Runs every input through [`Target::differential`]'s steps, timing each.
pub fn measure(target: &Target, cases: &[FuzzCase]) -> Throughput {
    let mut phases = Phases::default();
    let mut divergences = 0;
    let start = Instant::now();
    for case in cases {
        let mut one = Phases::default();
        if target.differential_timed(case, &mut one).is_err() {
            divergences += 1;
        }
        phases.add(&one);
    }
    Throughput { inputs: cases.len(), wall: start.elapsed(), phases, divergences }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_executors::{BlockStm, Sequential};
    use std::sync::Arc;

    #[test]
    fn cases_are_deterministic_and_sized() {
        assert_eq!(inputs(7, 16, 20), inputs(7, 16, 20));
        assert_ne!(inputs(7, 16, 20), inputs(8, 16, 20));
        let a = cases(&inputs(7, 16, 20));
        assert_eq!(a.len(), 20);
        for c in &a {
            assert_eq!(c.block.generate().block.txs.len(), 16, "{c:?}");
        }
    }

    #[test]
    fn measure_times_every_step_and_finds_no_divergence_in_block_stm() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target::new(Arc::new(Sequential), Arc::new(BlockStm::default()), dir.path().into());
        let got = measure(&target, &cases(&inputs(1, 16, 12)));
        assert_eq!((got.inputs, got.divergences), (12, 0));
        let p = got.phases;
        assert!(p.generate > Duration::ZERO && p.reference > Duration::ZERO && p.candidate > Duration::ZERO, "{p:?}");
        assert!(p.total() <= got.wall, "{p:?} {:?}", got.wall);
        assert!(got.table().contains("candidate"));
    }
}
