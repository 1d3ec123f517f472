//! Schedule shrinking: fewer preemptions, then the shortest failing prefix.

use super::Schedule;
/// Shrinks a failing schedule: drop preemptions one at a time (the chosen worker becomes the
/// previous one), then cut the prefix to the shortest that still fails. `fails` runs a
/// replay of the given choices.
pub fn shrink(schedule: &Schedule, mut fails: impl FnMut(&[usize]) -> bool, max_tries: usize) -> (Vec<usize>, usize) {
    let mut best = schedule.choices.clone();
    let mut tries = 0;
    let mut i = 1;
    while i < best.len() && tries < max_tries {
        if best[i] != best[i - 1] {
            let mut cand = best.clone();
            cand[i] = best[i - 1];
            tries += 1;
            if fails(&cand) {
                best = cand;
                continue;
            }
        }
        i += 1;
    }
    // Shortest failing prefix, by halving steps.
    let (mut lo, mut hi) = (0usize, best.len());
    while lo < hi && tries < max_tries {
        let mid = (lo + hi) / 2;
        tries += 1;
        if fails(&best[..mid]) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    best.truncate(hi);
    (best, tries)
}
