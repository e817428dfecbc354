//! The benchmark behind `refine bench`: the reference models of `../shared/REFERENCE.md`, each
//! run in a fresh process (so its peak resident memory is its own) at 1 and 2 threads, beside
//! TLC's figures on a machine like this one.

pub use refinement_tests::cli::{peak_rss_bytes, BenchModel};

/// The invariants of the OPODIS artifact's `MCMongoStaticRaft.cfg` and `MCMongoRaftReconfig.cfg`,
/// the configurations behind TLC's figures.
const TLC_RAFT_INVARIANTS: &[&str] = &[
    "OnePrimaryPerTerm",
    "StateMachineSafety",
    "LeaderCompleteness",
];

/// The reference models.
pub const MODELS: &[BenchModel] = &[
    BenchModel {
        name: "static-raft 3 servers, MaxTerm 5, MaxLogLen 3",
        args: &[
            "check",
            "static-raft",
            "--servers",
            "3",
            "--max-term",
            "5",
            "--max-log-len",
            "3",
        ],
        tlc_rate: Some((150_000.0, 250_000.0)),
        invariants: TLC_RAFT_INVARIANTS,
        quick: true,
        flagship: false,
    },
    BenchModel {
        name: "raft-reconfig 3 servers, L2, T3, CV3, symmetry",
        args: &[
            "check",
            "raft-reconfig",
            "--servers",
            "3",
            "--max-log-len",
            "2",
            "--max-term",
            "3",
            "--max-config-version",
            "3",
            "--symmetry",
        ],
        tlc_rate: Some((66_000.0, 120_000.0)),
        invariants: TLC_RAFT_INVARIANTS,
        quick: true,
        flagship: false,
    },
    BenchModel {
        name: "logless-raft 4 servers, MaxTerm 4, MaxConfigVersion 4, symmetry",
        args: &[
            "check",
            "logless-raft",
            "--servers",
            "4",
            "--max-term",
            "4",
            "--max-config-version",
            "4",
            "--symmetry",
        ],
        tlc_rate: None,
        invariants: &[],
        quick: false,
        flagship: false,
    },
    BenchModel {
        name: "raft-reconfig 4 servers, L2, T3, CV3, symmetry (flagship)",
        args: &[
            "check",
            "raft-reconfig",
            "--servers",
            "4",
            "--max-log-len",
            "2",
            "--max-term",
            "3",
            "--max-config-version",
            "3",
            "--symmetry",
        ],
        tlc_rate: None,
        invariants: &[],
        quick: false,
        flagship: true,
    },
];
