//! Multi-Paxos (crate `multi-paxos`): exact counts of its exhaustive checks, with and without
//! acceptor symmetry, and of its edge to `log-abstract`; the symmetry's soundness (orbits
//! counted by hand); every planted bug refuted by a pinned counterexample (its length, its last
//! action, the property that fails), and shown at the log level where it reaches it; the block
//! step of the prefix mapping; seeded random walks at larger bounds with loss and duplication.
//!
//! There is no TLC model of this layer: the counts are pinned as this port computes them, the
//! same with 1 and 2 threads.
//!
//! Bounds are written `(acceptors, leaders, MaxRound, slots, commands, MaxMessages,
//! duplicates)`; the network never loses messages unless a test says so.

use log_abstract::Choose;
use multi_paxos::{Bounds, ChosenLog, MultiPaxos, Mutation, State};
use refinement_tests::{
    explore, simulate, Failure, FailureKind, Invariants, Observer, Options, RefinementCheck,
    WalkOptions,
};
use spec_core::{Refinement, Spec, StepMapping};

/// `(generated, distinct, depth)`.
type Counts = (u64, u64, usize);

fn bounds(b: (usize, usize, usize, usize, usize, usize, usize)) -> Bounds {
    Bounds {
        acceptors: b.0,
        leaders: b.1,
        max_round: b.2,
        slots: b.3,
        commands: b.4,
        max_messages: b.5,
        duplicates: b.6,
        lossy: false,
    }
}

fn spec(b: (usize, usize, usize, usize, usize, usize, usize)) -> MultiPaxos {
    MultiPaxos::new(bounds(b)).unwrap()
}

/// The defaults, `(3, 2, 2, 2, 3, 3, 0)`.
const DEFAULT: (usize, usize, usize, usize, usize, usize, usize) = (3, 2, 2, 2, 3, 3, 0);

fn counts<M: Spec, O: Observer<M>>(
    spec: &M,
    observer: &O,
    threads: usize,
    symmetry: bool,
) -> Counts {
    let out = explore(spec, observer, &Options::quiet(threads, symmetry)).unwrap();
    assert!(
        out.violation.is_none(),
        "{:?}: {:?}",
        spec.params(),
        out.violation.map(|v| (v.actions(), v.failure))
    );
    (out.stats.generated, out.stats.distinct, out.stats.depth)
}

#[test]
fn defaults_are_the_documented_ones() {
    use spec_core::{Layer, Params};
    assert_eq!(
        MultiPaxos::from_params(&Params::default()).unwrap(),
        spec(DEFAULT)
    );
}

/// Every invariant and action property holds:
///
/// | bounds | symmetry | generated | distinct | depth |
/// |---|---|---|---|---|
/// | (3, 2, 2, 2, 3, 3, 0), the defaults | yes | 197,715 | 54,185 | 83 |
/// | the defaults | no | 490,071 | 134,189 | 83 |
/// | (3, 2, 1, 2, 2, 3, 0) | yes | 9,131 | 2,849 | 57 |
/// | (3, 2, 2, 2, 3, 3, 1), one duplication | yes | 815,148 | 193,216 | 85 |
/// | (5, 2, 1, 1, 2, 5, 0), five acceptors | yes | 16,159 | 3,694 | 55 |
#[test]
fn multi_paxos_holds_its_invariants() {
    type Row = (
        (usize, usize, usize, usize, usize, usize, usize),
        bool,
        Counts,
    );
    let table: [Row; 5] = [
        (DEFAULT, true, (197_715, 54_185, 83)),
        (DEFAULT, false, (490_071, 134_189, 83)),
        ((3, 2, 1, 2, 2, 3, 0), true, (9_131, 2_849, 57)),
        ((3, 2, 2, 2, 3, 3, 1), true, (815_148, 193_216, 85)),
        ((5, 2, 1, 1, 2, 5, 0), true, (16_159, 3_694, 55)),
    ];
    for (b, symmetry, expected) in table {
        let spec = spec(b);
        for threads in [1, 2] {
            assert_eq!(
                counts(&spec, &Invariants::of(&spec), threads, symmetry),
                expected,
                "{b:?} symmetry {symmetry}, {threads} threads"
            );
        }
    }
}

/// The acceptor symmetry is exact: the number of distinct states with symmetry is the number
/// of orbits of the states reached without it (each state's canonical form counted once), and
/// every state of an orbit has the same invariant verdicts (checked in the crate).
#[test]
fn symmetry_counts_the_orbits() {
    let spec = spec(DEFAULT);
    let states: Vec<State> = spec_core::reachable_states(&spec, usize::MAX)
        .into_iter()
        .filter(|s| spec.within_constraint(s))
        .collect();
    assert_eq!(
        states.len(),
        134_189,
        "the checker's distinct, without symmetry"
    );
    let orbits: std::collections::HashSet<State> =
        states.iter().map(|s| spec.canonical(s)).collect();
    assert_eq!(
        orbits.len(),
        54_185,
        "the checker's distinct, with symmetry"
    );
}

/// `multi-paxos -> log-abstract`, both gap policies: every step that extends the chosen prefix
/// (or, keeping gaps, chooses any slot) is Log's `Next` for that block. Counts are the lower
/// level's.
#[test]
fn multi_paxos_refines_log() {
    for b in [DEFAULT, (3, 2, 1, 2, 2, 3, 0)] {
        let expected = if b == DEFAULT {
            (197_715, 54_185, 83)
        } else {
            (9_131, 2_849, 57)
        };
        for mapping in [
            ChosenLog::prefix(spec(b)).unwrap(),
            ChosenLog::every_slot(spec(b)).unwrap(),
        ] {
            for threads in [1, 2] {
                assert_eq!(
                    counts(
                        mapping.lower(),
                        &RefinementCheck::new(&mapping),
                        threads,
                        true
                    ),
                    expected,
                    "{b:?}, {threads} threads"
                );
            }
        }
    }
}

/// Fails at the first step the prefix mapping sends to a Log block of two or more slots: a
/// gap being chosen after a later slot.
struct FirstBlockOfTwo<'m>(&'m ChosenLog);

impl Observer<MultiPaxos> for FirstBlockOfTwo<'_> {
    fn check_init(&self, _: &MultiPaxos, _: &State) -> Result<(), Failure> {
        Ok(())
    }
    fn check_state(&self, _: &MultiPaxos, _: &State) -> Result<(), Failure> {
        Ok(())
    }
    fn check_step(
        &self,
        _: &MultiPaxos,
        s: &State,
        a: &multi_paxos::Action,
        t: &State,
    ) -> Result<(), Failure> {
        match self.0.map_step(s, a, t) {
            StepMapping::Step(Choose { first, last, .. }) if last > first => Err(Failure {
                kind: FailureKind::ActionProperty,
                property: "NoBlockOfTwo".into(),
                detail: format!("{a} chooses slots {first}..{last} at once"),
            }),
            _ => Ok(()),
        }
    }
}

/// Slots are chosen out of order, and the prefix mapping then chooses a block: the shortest
/// such behaviour at the defaults has 26 states, and ends with the acceptance that chooses
/// slot 1 after slot 2 was chosen: Log chooses slots 1..2 at once.
#[test]
fn a_gap_filled_is_a_block_of_log() {
    let mapping = ChosenLog::prefix(spec(DEFAULT)).unwrap();
    for threads in [1, 2] {
        let out = explore(
            mapping.lower(),
            &FirstBlockOfTwo(&mapping),
            &Options::quiet(threads, true),
        )
        .unwrap();
        let cex = out.violation.expect("a block of two slots");
        assert_eq!(
            (cex.steps.len(), cex.failure.detail.as_str()),
            (
                26,
                "Deliver(l1 -> a2: P2a(1.l1, 1, c3)) chooses slots 1..2 at once"
            ),
            "{:?}",
            cex.actions()
        );
    }
}

/// What one mutation's counterexample must look like.
struct Refuted {
    mutation: Mutation,
    /// The failed property (the first the search meets, all properties declared).
    property: &'static str,
    /// States in the counterexample.
    length: usize,
    /// Its last action.
    last: &'static str,
}

/// The defaults with room for one more message: a leader's p1a broadcast can be in flight
/// beside another's p2a, which every bug below needs.
const MUTATION_BOUNDS: (usize, usize, usize, usize, usize, usize, usize) = (3, 2, 2, 2, 3, 4, 0);

/// Explores `spec` with the properties `only` (all when empty), expecting a violation, with
/// 1 and 2 threads and symmetry; the two traces are the same.
fn refuted(spec: &MultiPaxos, only: &[&str]) -> (Failure, Vec<String>) {
    let observer = if only.is_empty() {
        Invariants::of(spec)
    } else {
        Invariants::only(spec, only)
    };
    let mut found: Vec<(Failure, Vec<String>)> = Vec::new();
    for threads in [1, 2] {
        let out = explore(spec, &observer, &Options::quiet(threads, true)).unwrap();
        let cex = out
            .violation
            .unwrap_or_else(|| panic!("{:?} is refuted", spec.mutation()));
        found.push((cex.failure.clone(), cex.actions()));
    }
    assert_eq!(
        found[0].1, found[1].1,
        "1 and 2 threads find the same trace"
    );
    found.pop().unwrap()
}

/// Every planted bug is refuted by the shortest counterexample, with all properties checked.
/// The two the issue names (an acceptor that accepts a lower ballot, a leader that ignores the
/// values in promises) are caught by ProposalsAreSafe at the step where the new leader's
/// commander proposes a command other than the one already chosen in that slot.
#[test]
fn every_mutation_is_refuted_by_a_short_counterexample() {
    let table = [
        Refuted {
            mutation: Mutation::AcceptLowerBallot,
            property: "ProposalsAreSafe",
            length: 23,
            last: "SpawnCommander(l2, 1)",
        },
        Refuted {
            mutation: Mutation::IgnorePromisedValues,
            property: "ProposalsAreSafe",
            length: 27,
            last: "SpawnCommander(l2, 1)",
        },
        Refuted {
            mutation: Mutation::CommanderCountsRejections,
            property: "DecisionsAreChosen",
            length: 21,
            last: "Deliver(a2 -> l1: P2b(1.l1, 1.l2, 1))",
        },
        Refuted {
            mutation: Mutation::RepliesToCurrentCommander,
            property: "DecisionsAreChosen",
            length: 35,
            last: "Deliver(a2 -> l1: P2b(2.l1, 2.l1, 1))",
        },
        Refuted {
            mutation: Mutation::AdoptWithoutMajority,
            property: "ActiveLeadersAdopted",
            length: 4,
            last: "Deliver(a1 -> l2: P1b(1.l2, 1.l2, []))",
        },
    ];
    assert_eq!(table.len(), Mutation::ALL.len());
    for r in table {
        let spec = spec(MUTATION_BOUNDS).with_mutation(r.mutation);
        let (failure, actions) = refuted(&spec, &[]);
        assert_eq!(
            (
                failure.property.as_str(),
                actions.len() + 1,
                actions.last().unwrap().as_str()
            ),
            (r.property, r.length, r.last),
            "{}: {actions:?}",
            r.mutation
        );
    }
}

/// The two bugs reach the log: with only OneValuePerSlot checked, each has two
/// commands chosen in slot 1, and the edge to log-abstract fails at that very step (Log
/// cannot choose a second value at an index), shown at both levels.
/// `(mutation, states, the acceptance that chooses the second command)`.
#[test]
fn the_planted_bugs_choose_two_commands_in_a_slot_and_break_the_edge() {
    let table = [
        (
            Mutation::AcceptLowerBallot,
            29,
            "Deliver(l2 -> a1: P2a(1.l2, 1, c3))",
        ),
        (
            Mutation::IgnorePromisedValues,
            31,
            "Deliver(l2 -> a3: P2a(1.l2, 1, c2))",
        ),
    ];
    for (mutation, length, last) in table {
        let spec = spec(MUTATION_BOUNDS).with_mutation(mutation);
        let (failure, actions) = refuted(&spec, &["OneValuePerSlot"]);
        assert_eq!(failure.property, "OneValuePerSlot");
        assert_eq!(
            (actions.len() + 1, actions.last().unwrap().as_str()),
            (length, last),
            "{mutation}: {actions:?}"
        );

        let mapping = ChosenLog::prefix(spec).unwrap();
        let out = explore(
            mapping.lower(),
            &RefinementCheck::new(&mapping),
            &Options::quiet(2, true),
        )
        .unwrap();
        let cex = out.violation.expect("the edge fails");
        assert_eq!(cex.failure.kind, FailureKind::Refinement);
        assert_eq!(
            (cex.steps.len(), cex.actions().last().unwrap().as_str()),
            (length, last),
            "{mutation}"
        );
        assert!(
            cex.failure.detail.ends_with(
                "which is not enabled in the mapped state: false in its guard: ~\\E e \\in chosen : e[1] = 1"
            ),
            "{}",
            cex.failure.detail
        );
    }
}

/// The "leader that ignores the values in promises", in full: l2 first hears r1's
/// proposal of c1 for slot 1; l1 has r2's c2 chosen in slot 1 by a1 and a3 (and decided); l2's
/// scout then hears a2 (nothing accepted) and a1, which reports `1.l1 c2`; adopted, l2 keeps its
/// own proposal c1 for slot 1 and spawns its commander for it.
#[test]
fn a_leader_that_ignores_promised_values_proposes_over_a_chosen_command() {
    let spec = spec(MUTATION_BOUNDS).with_mutation(Mutation::IgnorePromisedValues);
    let (failure, actions) = refuted(&spec, &[]);
    assert_eq!(failure.kind, FailureKind::Invariant);
    assert_eq!(actions.len(), 26, "{actions:?}");
    assert!(
        actions.contains(&"Deliver(a1 -> l2: P1b(1.l2, 1.l2, [1.l1 c2]))".to_string()),
        "{actions:?}"
    );
    assert_eq!(actions.last().unwrap(), "SpawnCommander(l2, 1)");
}

/// Seeded random walks at 5 acceptors, 3 leaders, 3 rounds, 3 slots, 3 commands, 10 messages,
/// with loss and 2 duplications: the same seed gives the same walks, and nothing is found.
#[test]
fn seeded_random_walks_with_loss_and_duplication() {
    let big = MultiPaxos::new(Bounds {
        acceptors: 5,
        leaders: 3,
        max_round: 3,
        slots: 3,
        commands: 3,
        max_messages: 10,
        duplicates: 2,
        lossy: true,
    })
    .unwrap();
    let walks = WalkOptions {
        walks: 2_000,
        depth: 200,
        seed: 1,
    };
    let first = simulate(&big, &Invariants::of(&big), &walks);
    let again = simulate(&big, &Invariants::of(&big), &walks);
    assert!(first.violation.is_none());
    let summary = |s: &refinement_tests::WalkStats| (s.walks, s.steps, s.generated, s.longest);
    assert_eq!(summary(&first.stats), summary(&again.stats));
    assert_eq!(summary(&first.stats), (2_000, 28_615, 437_509, 94));
}

/// A counterexample's ITF trace replays: under its mutation it is a behaviour up to the broken
/// invariant; the correct spec rejects the adoption step, and says why: with `pmax`, l2 would
/// have taken c2, which a1 reported accepted in 1.l1, instead of keeping its own c1.
#[test]
fn a_counterexample_replays_and_the_spec_rejects_the_adoption_without_pmax() {
    use refinement_tests::replay::{replay, ReplayVerdict};
    use refinement_tests::report::trace_itf;
    let mutant = spec(MUTATION_BOUNDS).with_mutation(Mutation::IgnorePromisedValues);
    let observer = Invariants::of(&mutant);
    let out = explore(&mutant, &observer, &Options::quiet(2, true)).unwrap();
    let cex = out.violation.expect("refuted");
    let trace = trace_itf(&mutant, &observer, &cex);

    let replayed = replay(&mutant, &trace).unwrap();
    assert_eq!(
        replayed.verdict,
        ReplayVerdict::Violation {
            state: 27,
            property: "invariant ProposalsAreSafe".into()
        }
    );
    let correct = replay(&spec(MUTATION_BOUNDS), &trace).unwrap();
    assert_eq!(
        correct.verdict,
        ReplayVerdict::NotABehavior {
            state: 26,
            why: "the trace names Deliver(a1 -> l2: P1b(1.l2, 1.l2, [1.l1 c2])), which is enabled \
                  in state 25 but leads to a different state; where they differ:\n    the \
                  trace's state 26 has leaderProposals = [l1 |-> (1 :> c2), l2 |-> (1 :> c1)]\n    \
                  Deliver(a1 -> l2: P1b(1.l2, 1.l2, [1.l1 c2])) leads to leaderProposals = \
                  [l1 |-> (1 :> c2), l2 |-> (1 :> c2)]"
                .into()
        }
    );
}

/// The replicas' view, `ChosenLog::decided` (the prefix of slots some replica decided, with
/// every command decided there), holds at the defaults with the lower level's counts; it is the
/// edge that sees a commander counting a rejection as an acceptance: a replica decides c2 in
/// slot 1 where a replica already decided another command, and Log cannot choose a second
/// value at index 1.
#[test]
fn the_decided_prefix_refines_log_and_sees_the_commander_bug() {
    let mapping = ChosenLog::decided(spec(DEFAULT)).unwrap();
    for threads in [1, 2] {
        assert_eq!(
            counts(
                mapping.lower(),
                &RefinementCheck::new(&mapping),
                threads,
                true
            ),
            (197_715, 54_185, 83)
        );
    }
    let buggy = spec(MUTATION_BOUNDS).with_mutation(Mutation::CommanderCountsRejections);
    let mapping = ChosenLog::decided(buggy).unwrap();
    for threads in [1, 2] {
        let out = explore(
            mapping.lower(),
            &RefinementCheck::new(&mapping),
            &Options::quiet(threads, true),
        )
        .unwrap();
        let cex = out.violation.expect("the decided edge fails");
        assert_eq!(cex.failure.kind, FailureKind::Refinement);
        assert_eq!(
            (cex.steps.len(), cex.actions().last().unwrap().as_str()),
            (34, "Deliver(l1 -> r2: Decision(1, c2))")
        );
        assert!(
            cex.failure.detail.contains(
                "is mapped to log-abstract step Next(1..1, [1 :> v2]), which is not enabled"
            ),
            "{}",
            cex.failure.detail
        );
    }
}
