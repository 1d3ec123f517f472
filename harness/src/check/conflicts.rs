//! The conflict graph of a block, for reports: which transaction read a location that a lower
//! one wrote last, from the reference's read and write sets
//! ([`lockstep_executors::sequential::access_sets`]).

use lockstep_executors::sequential::{AccessLocation, TxAccess, access_sets};
use lockstep_executors::{BlockInput, Executor, RunControl};
use lockstep_reports::{ConflictEdge, ConflictGraph};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Edges past this many are left out: a graph is drawn to be read.
pub const MAX_EDGES: usize = 200;

/// How long computing the sets may take.
const DEADLINE: Duration = Duration::from_secs(10);

/// The conflict graph of `block`, when `reference` is the bundled sequential executor (the
/// only one whose read and write sets lockstep can see) and the block runs in time.
pub fn of(reference: &dyn Executor, block: &BlockInput) -> Option<ConflictGraph> {
    if reference.name() != "sequential" {
        return None;
    }
    let run = RunControl { deadline: Some(Instant::now() + DEADLINE), ..RunControl::with_threads(1) };
    access_sets(block, &run).ok().map(|sets| graph(&sets))
}

/// Read-after-write edges: each read goes to the highest lower transaction that wrote it.
pub fn graph(sets: &[TxAccess]) -> ConflictGraph {
    let mut last_writer: BTreeMap<&AccessLocation, u64> = BTreeMap::new();
    let mut edges = Vec::new();
    for (j, tx) in sets.iter().enumerate() {
        for loc in &tx.reads {
            if let Some(&i) = last_writer.get(loc) {
                edges.push(ConflictEdge { writer: i, reader: j as u64, location: label(loc) });
            }
        }
        for loc in &tx.writes {
            last_writer.insert(loc, j as u64);
        }
    }
    edges.sort();
    edges.truncate(MAX_EDGES);
    ConflictGraph { txs: sets.len() as u64, edges }
}

fn label(loc: &AccessLocation) -> String {
    match loc {
        AccessLocation::Account(a) => format!("{a}: account"),
        AccessLocation::Slot(a, k) => format!("{a}: slot {k:#x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{Family, Workload};

    #[test]
    fn a_hot_key_block_has_read_after_write_edges_and_independent_transfers_none() {
        let hot = Workload::new(Family::HotKey, 6).with_hot_ratio(1.0).generate(3).block;
        let g = of(&lockstep_executors::Sequential, &hot).expect("sequential sees its sets");
        assert_eq!(g.txs, 6);
        assert!(!g.edges.is_empty(), "{g:?}");
        assert!(g.edges.iter().all(|e| e.writer < e.reader));
        let sets = vec![TxAccess::default(); 3];
        assert!(graph(&sets).edges.is_empty());
    }

    #[test]
    fn each_read_points_at_the_last_writer() {
        let a = AccessLocation::Account(alloy_primitives::Address::repeat_byte(1));
        let w = |reads: Vec<AccessLocation>, writes: Vec<AccessLocation>| TxAccess {
            reads: reads.into_iter().collect(),
            writes: writes.into_iter().collect(),
        };
        let g = graph(&[w(vec![], vec![a.clone()]), w(vec![], vec![a.clone()]), w(vec![a.clone()], vec![])]);
        assert_eq!(g.edges.len(), 1);
        assert_eq!((g.edges[0].writer, g.edges[0].reader), (1, 2));
    }
}
