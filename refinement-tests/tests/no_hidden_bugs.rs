//! A checker that cannot hide a bug: a specification that panics ends the search with the trace
//! to the state it was expanding (never a hang), a state with no successor is reported when
//! deadlocks are checked, and a pass that covers nothing says so.
//!
//! The specifications here are small ones a user could write: a counter with a bug planted in
//! one place at a time.

use refinement_tests::{explore, simulate, FailureKind, Invariants, Options, Outcome, WalkOptions};
use spec_core::{Action, Invariant, Params, Spec};
use std::sync::mpsc;
use std::time::Duration;

/// Where the counter's bug is planted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bug {
    None,
    /// `next_states` panics on the value `at`.
    PanicInNext {
        at: u8,
    },
    /// The invariant panics on the value `at`.
    PanicInInvariant {
        at: u8,
    },
    /// `Decrement`'s guard can never hold.
    DeadDecrement,
    /// No action is ever enabled.
    NothingEnabled,
}

/// Two counters that may be incremented up to `max`, and decremented while positive.
struct Counters {
    max: u8,
    bug: Bug,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Step {
    Increment(u8),
    Decrement(u8),
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Increment(i) => write!(f, "Increment({i})"),
            Step::Decrement(i) => write!(f, "Decrement({i})"),
        }
    }
}

impl std::str::FromStr for Step {
    type Err = spec_core::ParseActionError;

    fn from_str(text: &str) -> Result<Step, spec_core::ParseActionError> {
        use spec_core::action_text::{natural, parse, unknown};
        let counter = |k: &str| natural(k).map(|k| k.min(255) as u8);
        parse(text, |name, args| match (name, args) {
            ("Increment", [k]) => Ok(Step::Increment(counter(k)?)),
            ("Decrement", [k]) => Ok(Step::Decrement(counter(k)?)),
            _ => Err(unknown(name, args, &["Increment(k)", "Decrement(k)"])),
        })
    }
}

impl Action for Step {
    fn name(&self) -> &'static str {
        match self {
            Step::Increment(_) => "Increment",
            Step::Decrement(_) => "Decrement",
        }
    }
}

type State = [u8; 2];

impl Spec for Counters {
    type State = State;
    type Action = Step;
    fn name(&self) -> &'static str {
        "counters"
    }
    fn params(&self) -> Params {
        Params::default()
    }
    fn action_names(&self) -> &'static [&'static str] {
        &["Increment", "Decrement"]
    }
    fn init_states(&self) -> Vec<State> {
        vec![[0, 0]]
    }
    fn next_states(&self, s: &State, out: &mut Vec<(Step, State)>) {
        if let Bug::PanicInNext { at } = self.bug {
            assert!(s[0] != at, "counter 0 reached {at}");
        }
        if self.bug == Bug::NothingEnabled {
            return;
        }
        for i in 0..2u8 {
            let mut next = *s;
            if s[i as usize] < self.max {
                next[i as usize] += 1;
                out.push((Step::Increment(i), next));
            }
        }
        for i in 0..2u8 {
            let mut next = *s;
            let guard = if self.bug == Bug::DeadDecrement {
                s[i as usize] > self.max
            } else {
                s[i as usize] > 0
            };
            if guard {
                next[i as usize] -= 1;
                out.push((Step::Decrement(i), next));
            }
        }
    }
    fn invariants(&self) -> Vec<Invariant<Self>> {
        vec![Invariant {
            name: "Bounded",
            holds: |m, s| {
                if let Bug::PanicInInvariant { at } = m.bug {
                    assert!(s[1] != at, "counter 1 reached {at}");
                }
                s.iter().all(|c| *c <= m.max)
            },
        }]
    }
}

/// Explores on another thread and fails the test if the search has not ended within a minute
/// (the hang this suite guards against), with the monitor thread running (memory limit and
/// progress both set), as the `refine` command runs it.
fn explore_within_a_minute(spec: Counters, threads: usize, deadlock: bool) -> Outcome<Counters> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let options = Options {
            memory_limit: Some(u64::MAX),
            progress: Some(Duration::from_secs(3600)),
            deadlock,
            ..Options::quiet(threads, false)
        };
        let outcome = explore(&spec, &Invariants::of(&spec), &options).expect("search runs");
        let _ = tx.send(outcome);
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the search ends (within a minute) instead of hanging")
}

fn values(outcome: &Outcome<Counters>) -> Vec<State> {
    let cex = outcome.violation.as_ref().expect("a violation");
    cex.steps.iter().map(|s| s.state).collect()
}

#[test]
fn a_panicking_successor_function_ends_the_search_with_the_trace_to_its_state() {
    for threads in [1, 2] {
        let spec = Counters {
            max: 4,
            bug: Bug::PanicInNext { at: 2 },
        };
        let outcome = explore_within_a_minute(spec, threads, false);
        let cex = outcome.violation.as_ref().expect("the panic is reported");
        assert_eq!(cex.failure.kind, FailureKind::Panic);
        assert_eq!(cex.failure.property, "panic");
        assert!(
            cex.failure.detail.starts_with(
                "the specification counters panicked while computing the successors of this \
                 state: \"counter 0 reached 2\" (panicked at refinement-tests/tests/no_hidden_bugs.rs:"
            ),
            "{}",
            cex.failure.detail
        );
        // The shortest trace to a state with counter 0 at 2, the smallest by fingerprint among
        // them, whatever the number of threads.
        assert_eq!(cex.actions(), ["Increment(0)", "Increment(0)"], "{threads}");
        assert_eq!(values(&outcome), [[0, 0], [1, 0], [2, 0]]);
        // The level of the panicking state is finished, as for any violation.
        assert_eq!(outcome.stats.depth, 4, "{threads}");
    }
}

#[test]
fn a_panicking_invariant_names_the_step_it_was_checking() {
    for threads in [1, 2] {
        let spec = Counters {
            max: 4,
            bug: Bug::PanicInInvariant { at: 3 },
        };
        let outcome = explore_within_a_minute(spec, threads, false);
        let cex = outcome.violation.as_ref().expect("the panic is reported");
        assert_eq!(cex.failure.kind, FailureKind::Panic);
        assert!(
            cex.failure.detail.starts_with(
                "the specification counters panicked while handling its successor by \
                 Increment(1): \"counter 1 reached 3\""
            ),
            "{}",
            cex.failure.detail
        );
        // The trace ends at the state whose successor was being checked.
        assert_eq!(cex.steps.len(), 3, "{threads}");
        assert_eq!(cex.steps.last().unwrap().state[1], 2);
    }
}

#[test]
fn random_walks_report_a_panic_with_the_walk_so_far() {
    let spec = Counters {
        max: 4,
        bug: Bug::PanicInNext { at: 1 },
    };
    let options = WalkOptions {
        walks: 50,
        depth: 20,
        seed: 7,
    };
    let outcome = simulate(&spec, &Invariants::of(&spec), &options);
    let cex = outcome.violation.expect("the panic is reported");
    assert_eq!(cex.failure.kind, FailureKind::Panic);
    assert_eq!(cex.steps.last().unwrap().state[0], 1);
}

#[test]
fn deadlocks_are_reported_when_asked_for() {
    // Without decrements, both counters at the maximum is a state with no successor.
    let spec = Counters {
        max: 2,
        bug: Bug::DeadDecrement,
    };
    let outcome = explore_within_a_minute(spec, 2, false);
    assert!(outcome.violation.is_none(), "off by default");
    assert_eq!(outcome.stats.distinct, 9);
    assert_eq!(outcome.stats.never_enabled(), ["Decrement"]);
    assert!(!outcome.stats.vacuous());

    let spec = Counters {
        max: 2,
        bug: Bug::DeadDecrement,
    };
    let outcome = explore_within_a_minute(spec, 2, true);
    let cex = outcome
        .violation
        .as_ref()
        .expect("the deadlock is reported");
    assert_eq!(cex.failure.kind, FailureKind::Deadlock);
    assert_eq!(cex.failure.property, "Deadlock");
    assert_eq!(cex.steps.len(), 5);
    assert_eq!(cex.steps.last().unwrap().state, [2, 2]);

    // The counters as written never deadlock: a decrement is always possible at the maximum.
    let spec = Counters {
        max: 2,
        bug: Bug::None,
    };
    let outcome = explore_within_a_minute(spec, 2, true);
    assert!(outcome.violation.is_none());
    assert_eq!(outcome.stats.never_enabled(), Vec::<&str>::new());
}

#[test]
fn a_model_that_never_leaves_its_initial_states_is_reported_vacuous() {
    let spec = Counters {
        max: 2,
        bug: Bug::NothingEnabled,
    };
    let outcome = explore_within_a_minute(spec, 1, false);
    assert!(outcome.violation.is_none());
    assert!(outcome.stats.vacuous());
    assert_eq!(outcome.stats.never_enabled(), ["Increment", "Decrement"]);
    let text = refinement_tests::report::vacuity_text(&outcome.stats);
    assert_eq!(
        text,
        "Warning: no state beyond the initial states was reached: every check ran on the \
         initial states only, and a pass says next to nothing.\n\
         Warning: some actions were never enabled in any reachable state, so no check covered \
         them: Increment, Decrement.\n"
    );
}
