//! Seeded random walks at five servers: bounds no exhaustive check in the test suite reaches
//! (the chain's defaults are two or three servers, `refine chain --deep` four), where bugs that
//! need more servers show up. A walk is reproducible from its seed, so the counts are pinned.

use refine::layers::simulate_layer;
use refinement_tests::WalkOptions;
use spec_core::{Bound, Params};

fn params(bounds: &[(Bound, usize)]) -> Params {
    let mut p = Params::default();
    for &(b, v) in bounds {
        p.set(b, v);
    }
    p
}

/// Bounds, by flag.
type Bounds = &'static [(Bound, usize)];
/// (walks, steps, generated).
type WalkCounts = (u64, u64, u64);

const RAFT_RECONFIG: Bounds = &[
    (Bound::Servers, 5),
    (Bound::MaxLogLen, 3),
    (Bound::MaxTerm, 4),
    (Bound::MaxConfigVersion, 4),
];

fn walks(n: u64) -> WalkOptions {
    WalkOptions {
        walks: n,
        depth: 60,
        seed: 1,
    }
}

/// (walks, steps, generated) of 2,000 walks with seed 1, and no violation.
#[test]
fn the_protocols_hold_on_walks_at_five_servers() {
    let cases: [(&str, Bounds, WalkCounts); 3] = [
        ("raft-reconfig", RAFT_RECONFIG, (2_000, 46_750, 900_818)),
        (
            "logless-raft",
            &[
                (Bound::Servers, 5),
                (Bound::MaxTerm, 5),
                (Bound::MaxConfigVersion, 5),
            ],
            (2_000, 46_766, 772_579),
        ),
        (
            "static-raft",
            &[
                (Bound::Servers, 5),
                (Bound::MaxTerm, 4),
                (Bound::MaxLogLen, 3),
            ],
            (2_000, 29_015, 348_876),
        ),
    ];
    for (layer, bounds, expected) in cases {
        let report = simulate_layer(layer, &params(bounds), None, &walks(2_000)).unwrap();
        assert!(
            report.violation.is_none(),
            "{layer}: {:?}",
            report.violation.map(|v| v.text)
        );
        let s = &report.stats;
        assert_eq!((s.walks, s.steps, s.generated), expected, "{layer}");
        // Every action was taken on some walk: the walks reach the whole protocol.
        let idle: Vec<&str> = s
            .coverage
            .iter()
            .filter(|c| c.generated == 0)
            .map(|c| c.action)
            .collect();
        assert!(idle.is_empty(), "{layer}: never taken: {idle:?}");
    }
}

/// Each of MongoRaftReconfig's planted protocol bugs is found by walks at five servers: the property it
/// breaks and the length of the walk that shows it, for seed 1.
#[test]
fn walks_at_five_servers_find_every_raft_reconfig_mutation() {
    let expected = [
        (
            "reconfig-skips-oplog-commitment",
            191,
            "ActiveConfigsOverlapWithCommittedEntry",
            10,
        ),
        (
            "oplog-commitment-skips-term-commit",
            191,
            "ActiveConfigsOverlapWithCommittedEntry",
            10,
        ),
        (
            "reconfig-skips-term-quorum-check",
            30,
            "ActiveConfigsSafeAtTerms",
            8,
        ),
        ("vote-ignores-log", 777, "LeaderCompleteness", 19),
        ("vote-ignores-config", 363, "ActiveConfigsOverlap", 30),
        // No exhaustive check up to 4 servers (MaxTerm 3, MaxConfigVersion 2: 728 million
        // states) finds this one: a 3-of-5 commit quorum can miss every member of a 2-of-3
        // config quorum, which needs five servers.
        (
            "commit-quorum-of-all-servers",
            193,
            "LeaderCompleteness",
            23,
        ),
        (
            "become-leader-keeps-config-term",
            1,
            "PrimaryConfigTermEqualToCurrentTerm",
            2,
        ),
    ];
    for (mutation, walks_taken, property, length) in expected {
        let report = simulate_layer(
            "raft-reconfig",
            &params(RAFT_RECONFIG),
            Some(mutation),
            &walks(20_000),
        )
        .unwrap();
        let v = report.violation.expect(mutation);
        assert_eq!(
            (report.stats.walks, v.property.as_str(), v.trace_length),
            (walks_taken, property, length),
            "{mutation}"
        );
    }
}
