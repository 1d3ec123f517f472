//! A small report with one of everything, for the renderers' tests.

use crate::model::*;

pub fn report() -> Report {
    let meta = Meta {
        lockstep_version: "0.1.0".into(),
        git_revision: Some("abc123".into()),
        command: vec!["lockstep".into(), "statetest".into(), "fixtures".into()],
        seed: None,
        executors: vec![
            ExecutorInfo { name: "sequential".into(), version: "revm 43".into(), role: "reference".into() },
            ExecutorInfo { name: "block-stm".into(), version: "revm 43".into(), role: "candidate".into() },
        ],
        fixtures: vec![FixtureSource { path: "fixtures".into(), pinned: Some("ethereum/tests@v17.1".into()) }],
        machine: Machine { cores: 2, os: "linux".into(), arch: "x86_64".into() },
        shard: None,
    };
    let mut r = Report::new(Job::Statetest, meta);
    r.files = 2;
    let case =
        |id: &str, cat: &str, fork: &str, exec: &str, status, message: Option<&str>, bundle: Option<&str>| CaseResult {
            id: id.into(),
            category: cat.into(),
            fork: fork.into(),
            executor: exec.into(),
            status,
            message: message.map(Into::into),
            bundle: bundle.map(Into::into),
        };
    for exec in ["sequential", "block-stm"] {
        r.cases.push(case(
            "stExample/add11.json::add11::Cancun::d0g0v0",
            "stExample",
            "Cancun",
            exec,
            Status::Passed,
            None,
            None,
        ));
        r.cases.push(case(
            "stExample/add11.json::add11::Frontier::d0g0v0",
            "stExample",
            "Frontier",
            exec,
            Status::Skipped,
            Some("fork not supported"),
            None,
        ));
    }
    r.cases.push(case(
        "stCall/c.json::c <&>::Prague::d1g0v0",
        "stCall",
        "Prague",
        "sequential",
        Status::Passed,
        None,
        None,
    ));
    r.cases.push(case(
        "stCall/c.json::c <&>::Prague::d1g0v0",
        "stCall",
        "Prague",
        "block-stm",
        Status::Diverged,
        Some("state root differs\n  expected 0x01\n  got 0x02"),
        Some("out/divergences/000-add11"),
    ));
    r.divergences.push(DivergenceRecord {
        case: "stCall/c.json::c <&>::Prague::d1g0v0".into(),
        reference: "sequential".into(),
        candidate: "block-stm".into(),
        threads: Some(2),
        kind: "state".into(),
        what: "state root differs".into(),
        bundle: Some("out/divergences/000-add11".into()),
        conflicts: Some(ConflictGraph {
            txs: 3,
            edges: vec![
                ConflictEdge { writer: 0, reader: 1, location: "0x00..01: balance".into() },
                ConflictEdge { writer: 1, reader: 2, location: "0x00..02: slot 0x00".into() },
            ],
        }),
    });
    r.errors.push(InputError {
        file: "broken.json".into(),
        test: "-".into(),
        message: "not JSON".into(),
        field: None,
        line: Some(1),
        column: Some(1),
    });
    r.workloads.push(WorkloadRow {
        workload: "hot-key".into(),
        threads: 2,
        blocks: 10,
        txs: 80,
        divergences: 0,
        unsupported: 0,
    });
    r.measured = Measured {
        wall_seconds: 1.5,
        throughput: vec![
            Throughput {
                workload: "hot-key".into(),
                executor: "block-stm".into(),
                threads: 2,
                speedup: 1.4,
                reexecution_ratio: 0.3,
                median_ms: None,
                mgas_per_s: None,
            },
            Throughput {
                workload: "hot-key".into(),
                executor: "block-stm".into(),
                threads: 4,
                speedup: 1.9,
                reexecution_ratio: 0.5,
                median_ms: None,
                mgas_per_s: None,
            },
        ],
        detections: vec![Detection { target: "hot-key t2".into(), seconds: Some(0.4), rate: 0.25 }],
    };
    r.canonicalize();
    r
}
