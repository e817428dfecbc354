//! # The checking harness
//!
//! One exploration [engine] serves every mode: exhaustive breadth-first model checking of a
//! layer's invariants ([`Invariants`]), refinement checking of a mapping between two layers on
//! every reachable lower transition ([`RefinementCheck`]), and seeded random walks
//! ([`simulate`]) for models too large to exhaust. [`report`] turns results into TLC-style
//! summaries, counterexamples in TLA+ notation with changed variables marked, and traces in the
//! Informal Trace Format, and [`replay`] reads such a trace back and checks it step by step.
//! [`registry`] runs layers and refinement edges by name, for a command line such as `refine`
//! (in the `refine` crate, which registers the workspace's layers).
//!
//! This crate depends on `spec-core` only: checking a layer of your own pulls in no other layer.
//!
//! ```
//! # use spec_core::action_text::{self, ParseActionError};
//! # use spec_core::{Action, Bound, Invariant, Layer, Parameter, Params, ParamsError, Spec};
//! # /// Counts up to `max`.
//! # struct Counter { max: usize }
//! # #[derive(Clone, Copy, Debug, PartialEq, Eq)]
//! # struct Tick;
//! # impl std::fmt::Display for Tick {
//! #     fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { f.write_str("Tick()") }
//! # }
//! # impl std::str::FromStr for Tick {
//! #     type Err = ParseActionError;
//! #     fn from_str(text: &str) -> Result<Self, ParseActionError> {
//! #         action_text::parse(text, |name, args| match (name, args) {
//! #             ("Tick", []) => Ok(Tick),
//! #             _ => Err(action_text::unknown(name, args, &["Tick()"])),
//! #         })
//! #     }
//! # }
//! # impl Action for Tick { fn name(&self) -> &'static str { "Tick" } }
//! # impl Spec for Counter {
//! #     type State = u8;
//! #     type Action = Tick;
//! #     fn name(&self) -> &'static str { "counter" }
//! #     fn params(&self) -> Params { Params { max_term: Some(self.max), ..Params::default() } }
//! #     fn action_names(&self) -> &'static [&'static str] { &["Tick"] }
//! #     fn init_states(&self) -> Vec<u8> { vec![0] }
//! #     fn next_states(&self, s: &u8, out: &mut Vec<(Tick, u8)>) {
//! #         if (*s as usize) < self.max { out.push((Tick, s + 1)); }
//! #     }
//! #     fn invariants(&self) -> Vec<Invariant<Self>> {
//! #         vec![Invariant { name: "Bounded", holds: |m, s| (*s as usize) <= m.max }]
//! #     }
//! # }
//! # impl Layer for Counter {
//! #     const NAME: &'static str = "counter";
//! #     const PARAMETERS: &'static [Parameter] =
//! #         &[Parameter::new(Bound::MaxTerm, 3, (0, 200), "a byte")];
//! #     fn from_params(p: &Params) -> Result<Self, ParamsError> {
//! #         let [max] = p.resolve::<1>(Self::NAME, Self::PARAMETERS)?;
//! #         Ok(Counter { max })
//! #     }
//! # }
//! use refinement_tests::{explore, Invariants, Options};
//! // `Counter` counts from 0 up to `max`: any `spec_core::Spec`, such as a layer of your own.
//! let spec = Counter { max: 3 };
//! let options = Options { threads: 1, progress: None, ..Options::default() };
//! let outcome = explore(&spec, &Invariants::of(&spec), &options).unwrap();
//! assert!(outcome.violation.is_none());
//! assert_eq!(outcome.stats.distinct, 4); // 0, 1, 2, 3
//! ```

pub mod caught;
mod checkpoint;
pub mod checks;
mod checksum;
#[cfg(feature = "cli")]
pub mod cli;
pub mod engine;
pub mod fingerprint;
pub mod registry;
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
pub use registry::{Registry, RunError};
