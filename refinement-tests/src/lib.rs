//! # The checking harness
//!
//! One exploration [engine] serves every mode: exhaustive breadth-first model checking of a
//! layer's invariants ([`Invariants`]), refinement checking of a mapping between two layers on
//! every reachable lower transition ([`RefinementCheck`]), and seeded random walks
//! ([`simulate`]) for models too large to exhaust. [`report`] turns results into TLC-style
//! summaries, counterexamples in TLA+ notation with changed variables marked, and traces in the
//! Informal Trace Format, and [`replay`] reads such a trace back and checks it step by step.
//! [`layers`] names every layer and edge for the `refine` command line.
//!
//! ```
//! use refinement_tests::{explore, Invariants, Options};
//! let spec = distlog::DistLog::new(2, 2, 2).unwrap();
//! let outcome = explore(&spec, &Invariants::of(&spec), &Options { threads: 1, ..Options::default() }).unwrap();
//! assert!(outcome.violation.is_none());
//! assert_eq!(outcome.stats.distinct, 49); // 7 possible logs per server, all reachable
//! ```

pub mod bench;
pub mod caught;
mod checkpoint;
pub mod checks;
mod checksum;
pub mod engine;
pub mod fingerprint;
pub mod layers;
pub mod replay;
pub mod report;
mod spill;
mod visited;

pub use checks::{Invariants, RefinementCheck};
pub use engine::{
    default_memory_limit, explore, resident_bytes, simulate, Counterexample, Failure, FailureKind,
    Observer, Options, Outcome, SearchError, SearchIdentity, Stats, TraceStep, WalkOptions,
    WalkOutcome, WalkStats,
};
