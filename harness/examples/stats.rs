use lockstep_executors::{BlockStm, Executor, RunControl};
use lockstep_harness::workload::{Family, Workload};
fn main() {
    let f = std::env::args().nth(1).map(|s| Family::from_name(&s).unwrap()).unwrap_or(Family::RawTransfers);
    let t: usize = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(2);
    let b = Workload::new(f, 10_000).generate(1).block;
    for _ in 0..20 {
        let s = BlockStm::default().execute(&b, &RunControl::with_threads(t)).unwrap().stats;
        std::hint::black_box(s);
    }
}
