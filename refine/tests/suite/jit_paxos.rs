//! Just-In-Time Paxos (crate `jit-paxos`): TLC's exact counts reproduced at several bounds, the
//! edge to `log-abstract`, and every mutation refuted by a pinned counterexample (its length,
//! its last action, the property that fails). The TLC figures come from the model in
//! `jit-paxos/tlc/` (TLC 2.20; see the crate README), the same with 1 and 2 threads here.

use jit_paxos::{Action as JitAction, CommitsAreChosen, JitPaxos, Mutation, State as JitState};
use refinement_tests::{
    explore, simulate, FailureKind, Invariants, Observer, Options, RefinementCheck, WalkOptions,
};
use spec_core::{Action as _, Refinement, Spec};

/// `(generated, distinct, depth)`.
type Counts = (u64, u64, usize);

/// `(replicas, values, N)`: 1 client, the constraint `messageCount <= N`.
type Bounds = (usize, usize, usize);

fn counts<M: Spec, O: Observer<M>>(spec: &M, observer: &O, threads: usize) -> Counts {
    let out = explore(spec, observer, &Options::quiet(threads, false)).unwrap();
    assert!(
        out.violation.is_none(),
        "{:?}: {:?}",
        spec.params(),
        out.violation.map(|v| v.failure)
    );
    (out.stats.generated, out.stats.distinct, out.stats.depth)
}

/// TLC's counts for `MCJustInTimePaxos` (1 client; `Replicas`, `Values` and
/// `MaxMessageCount` as given), every invariant holding:
///
/// | replicas, values, N | generated | distinct | depth |
/// |---|---|---|---|
/// | 3, 1, 4 | 287 | 36 | 4 |
/// | 3, 1, 8 | 18,943 | 1,765 | 7 |
/// | 3, 1, 10 | 153,027 | 13,035 | 9 |
/// | 3, 1, 12 | 1,122,165 | 85,326 | 11 |
/// | 2, 1, 10 | 133,171 | 12,901 | 9 |
/// | 3, 2, 8 | 49,491 | 4,089 | 7 |
///
/// and with two clients at 3 replicas, 1 value, N = 10: 524,922 / 38,680 / 9.
#[test]
fn jit_paxos_reproduces_tlcs_counts() {
    let table: [(Bounds, Counts, &[usize]); 6] = [
        ((3, 1, 4), (287, 36, 4), &[1, 2]),
        ((3, 1, 8), (18_943, 1_765, 7), &[1, 2]),
        ((3, 1, 10), (153_027, 13_035, 9), &[1, 2]),
        ((3, 1, 12), (1_122_165, 85_326, 11), &[1, 2]),
        ((2, 1, 10), (133_171, 12_901, 9), &[1, 2]),
        ((3, 2, 8), (49_491, 4_089, 7), &[1, 2]),
    ];
    for ((replicas, values, n), expected, threads) in table {
        let spec = JitPaxos::new(replicas, values, n).unwrap();
        for &t in threads {
            assert_eq!(
                counts(&spec, &Invariants::of(&spec), t),
                expected,
                "{replicas} replicas, {values} values, messageCount <= {n}, {t} threads"
            );
        }
    } // Two clients (`Clients = {c1, c2}`): 524,922 / 38,680 / 9 at 3 replicas, N = 10.
    let spec = JitPaxos::new(3, 1, 10).unwrap().with_clients(2);
    for t in [1, 2] {
        assert_eq!(
            counts(&spec, &Invariants::of(&spec), t),
            (524_922, 38_680, 9)
        );
    }
}

/// `jit-paxos -> log-abstract`: every commit chooses its checksum up to its index, and no step
/// chooses a second entry at a chosen index. The counts are those of the lower level.
#[test]
fn jit_paxos_refines_log() {
    for ((replicas, values, n), expected) in [
        ((3, 1, 12), (1_122_165, 85_326, 11)),
        ((2, 1, 10), (133_171, 12_901, 9)),
        ((3, 2, 8), (49_491, 4_089, 7)),
    ] {
        let mapping = CommitsAreChosen::new(JitPaxos::new(replicas, values, n).unwrap()).unwrap();
        for threads in [1, 2] {
            assert_eq!(
                counts(mapping.lower(), &RefinementCheck::new(&mapping), threads),
                expected,
                "{replicas}, {values}, {n}"
            );
        }
    }
}

/// Explores `spec` with all its invariants, expecting a violation: the counterexample.
fn violation(spec: &JitPaxos, threads: usize) -> refinement_tests::Counterexample<JitPaxos> {
    let out = explore(spec, &Invariants::of(spec), &Options::quiet(threads, false)).unwrap();
    out.violation.expect("a violation")
}

/// What one mutation's counterexample must look like.
struct Refuted {
    mutation: Mutation,
    /// `(replicas, N)`: the smallest bound the counterexample fits (its last state may be the
    /// first past the bound: the checker checks such states, as TLC's constraint does not).
    bounds: (usize, usize),
    /// The threads it is checked with (the largest search only with 2).
    threads: &'static [usize],
    /// The failed property.
    property: &'static str,
    /// States in the counterexample.
    length: usize,
    /// Its last action, up to its message.
    last: &'static str,
    /// The names of its actions.
    names: &'static [&'static str],
}

/// Every mutation is refuted by the shortest counterexample, the same with 1 and 2 threads:
/// a committed entry is missing from the log of a Normal replica of a later view's quorum.
#[test]
fn every_mutation_is_refuted_by_a_short_counterexample() {
    let table = [
        Refuted {
            mutation: Mutation::AcceptStaleView,
            bounds: (2, 12),
            threads: &[1, 2],
            property: "Inv",
            length: 11,
            last: "HandleClientReply(c1, r2, ",
            names: &[
                "ChangeView",
                "ClientRequest",
                "HandleViewChange",
                "HandleClientRequest",
                "HandleViewChangeReply",
                "HandleStartView",
                "HandleStartView",
                "HandleClientRequest",
                "HandleClientReply",
                "HandleClientReply",
            ],
        },
        Refuted {
            mutation: Mutation::StartViewFromLastReply,
            bounds: (3, 15),
            threads: &[2],
            property: "Inv",
            length: 12,
            last: "HandleClientReply(c1, r2, ",
            names: &[
                "ClientRequest",
                "HandleClientRequest",
                "HandleClientRequest",
                "ChangeView",
                "HandleViewChange",
                "HandleViewChangeReply",
                "HandleViewChange",
                "HandleViewChangeReply",
                "HandleStartView",
                "HandleClientReply",
                "HandleClientReply",
            ],
        },
        Refuted {
            mutation: Mutation::CommitIgnoresChecksums,
            bounds: (3, 8),
            threads: &[1, 2],
            property: "Inv",
            length: 8,
            last: "HandleClientReply(c1, r1, ",
            names: &[
                "ClientRequest",
                "ClientRequest",
                "HandleClientRequest",
                "HandleClientRequest",
                "HandleClientRequest",
                "HandleClientReply",
                "HandleClientReply",
            ],
        },
    ];
    assert_eq!(table.len(), Mutation::ALL.len());
    for r in table {
        let (replicas, n) = r.bounds;
        let spec = JitPaxos::new(replicas, 1, n)
            .unwrap()
            .with_mutation(r.mutation);
        for &threads in r.threads {
            let cex = violation(&spec, threads);
            let actions = cex.actions();
            assert_eq!(cex.failure.kind, FailureKind::Invariant, "{}", r.mutation);
            assert_eq!(cex.failure.property, r.property, "{}", r.mutation);
            assert_eq!(cex.steps.len(), r.length, "{}: {actions:?}", r.mutation);
            let last = actions.last().unwrap();
            assert!(last.starts_with(r.last), "{}: {last}", r.mutation);
            let names: Vec<&str> = cex.steps[1..]
                .iter()
                .map(|step| step.action.as_ref().unwrap().name())
                .collect();
            assert_eq!(names, r.names, "{}", r.mutation);
            // At the Log level the last step chose the committed entry: index 1 holds the
            // request of timestamp 1 (Log's value 0) in the first two, the prefix <<t1, t2>>
            // of the primary's checksum in the third, while a replica of the quorum lacks it.
            let mapping = CommitsAreChosen::new(spec.clone()).unwrap();
            let chosen = mapping.map_state(&cex.steps.last().unwrap().state).pairs();
            let expected: &[(usize, usize)] = match r.mutation {
                Mutation::CommitIgnoresChecksums => &[(1, 0), (2, 1)],
                _ => &[(1, 0)],
            };
            assert_eq!(chosen, expected, "{}", r.mutation);
        }
    }
}

/// TLC's counts at larger bounds, and the edge to `log-abstract` at the first (about a minute
/// here; run with `--ignored`):
///
/// | replicas, values, N | generated | distinct | depth |
/// |---|---|---|---|
/// | 3, 1, 14 | 8,662,623 | 595,653 | 13 |
/// | 2, 1, 14 | 7,256,551 | 565,875 | 13 |
/// | 3, 2, 10 | 514,456 | 37,726 | 9 |
///
/// The first is where TLC's order of values shows: with the spec's three `CHOOSE`s taking the
/// greatest element instead of the least in that order, the port finds 8,662,656 / 595,656 /
/// 13, not TLC's figures (at the smaller bounds the choice never changes a state).
#[test]
#[ignore]
fn jit_paxos_reproduces_tlcs_counts_at_larger_bounds() {
    let table: [(Bounds, Counts); 3] = [
        ((3, 1, 14), (8_662_623, 595_653, 13)),
        ((2, 1, 14), (7_256_551, 565_875, 13)),
        ((3, 2, 10), (514_456, 37_726, 9)),
    ];
    for ((replicas, values, n), expected) in table {
        let spec = JitPaxos::new(replicas, values, n).unwrap();
        assert_eq!(
            counts(&spec, &Invariants::of(&spec), 2),
            expected,
            "{replicas} replicas, {values} values, messageCount <= {n}"
        );
    }
    // The edge to log-abstract at the largest of them.
    let mapping = CommitsAreChosen::new(JitPaxos::new(3, 1, 14).unwrap()).unwrap();
    assert_eq!(
        counts(mapping.lower(), &RefinementCheck::new(&mapping), 2),
        table[0].1
    );
}

/// Random walks past the exhaustive bounds (`messageCount <= 40`, seeded): the spec holds its
/// invariants, and walks find two of the mutations' bugs too, in longer behaviours than the
/// shortest counterexamples above (accept-stale-view needs about 20,000 walks at this seed,
/// left out for time).
#[test]
fn random_walks_at_larger_bounds() {
    let options = WalkOptions {
        walks: 500,
        depth: 200,
        seed: 1,
    };
    for replicas in [2, 3] {
        let spec = JitPaxos::new(replicas, 1, 40).unwrap();
        let out = simulate(&spec, &Invariants::of(&spec), &options);
        assert!(out.violation.is_none(), "{replicas} replicas");
        assert_eq!(out.stats.walks, 500);
    }
    let spec = JitPaxos::new(3, 2, 40).unwrap();
    assert!(simulate(&spec, &Invariants::of(&spec), &options)
        .violation
        .is_none());
    let options = WalkOptions {
        walks: 3_000,
        ..options
    };
    for mutation in [
        Mutation::StartViewFromLastReply,
        Mutation::CommitIgnoresChecksums,
    ] {
        let spec = JitPaxos::new(3, 1, 40).unwrap().with_mutation(mutation);
        let cex = simulate(&spec, &Invariants::of(&spec), &options)
            .violation
            .unwrap_or_else(|| panic!("{mutation}: no violation"));
        assert_eq!(cex.failure.property, "Inv", "{mutation}");
    }
}

/// The one successor of `s` by the action `name` whose text contains every one of `parts`.
fn take(spec: &JitPaxos, s: &JitState, name: &str, parts: &[&str]) -> (JitAction, JitState) {
    let mut succ = Vec::new();
    spec.next_states(s, &mut succ);
    let mut found: Vec<(JitAction, JitState)> = succ
        .into_iter()
        .filter(|(a, _)| {
            let text = a.to_string();
            a.name() == name && parts.iter().all(|p| text.contains(p))
        })
        .collect();
    assert_eq!(found.len(), 1, "{name} {parts:?}: {found:?}");
    found.pop().unwrap()
}

/// A planted bug seen at the Log level: with `commit-ignores-checksums` and 2 replicas, the
/// client commits request 2 from r1's log `<<t1, t2>>` although r2's is `<<t2>>`, so Log
/// chooses `t1` at index 1 and `t2` at index 2. r2 then starts view 3 alone (one of two
/// replicas is a view-change quorum) with its own log, both replicas take `<<t2>>`, and a
/// commit of view 3 decides `<<t2, t4>>`: Log cannot choose a second entry at index 1, and the
/// edge names that step. (The exhaustive bounds stop short of this 22-step behaviour; it is
/// replayed here step by step, each step checked against the mapping.)
#[test]
fn a_commit_that_ignores_checksums_breaks_the_log() {
    let spec = JitPaxos::new(2, 1, 17)
        .unwrap()
        .with_mutation(Mutation::CommitIgnoresChecksums);
    let mapping = CommitsAreChosen::new(spec.clone()).unwrap();
    let script: &[(&str, &[&str])] = &[
        ("ClientRequest", &[]),
        ("ClientRequest", &[]),
        ("HandleClientRequest", &["(r1,", "timestamp |-> 1"]),
        ("HandleClientRequest", &["(r1,", "timestamp |-> 2"]),
        ("HandleClientRequest", &["(r2,", "timestamp |-> 2"]),
        ("HandleClientReply", &["(c1, r2,"]),
        ("HandleClientReply", &["(c1, r1,", "index |-> 2"]),
        ("ChangeView", &["r2"]),
        ("HandleViewChange", &["(r2,", "viewID |-> 2"]),
        ("ChangeView", &["r2"]),
        ("HandleViewChange", &["(r2,", "viewID |-> 3"]),
        ("HandleViewChangeReply", &["(r2, r2,", "viewID |-> 3"]),
        ("HandleStartView", &["(r2,", "viewID |-> 3"]),
        ("HandleStartView", &["(r1,", "viewID |-> 3"]),
        ("ClientRequest", &[]),
        ("HandleClientRequest", &["(r1,", "timestamp |-> 3"]),
        ("HandleClientReply", &["(c1, r1,", "viewID |-> 3]"]),
        ("ClientRequest", &[]),
        ("HandleClientRequest", &["(r1,", "timestamp |-> 4"]),
        ("HandleClientRequest", &["(r2,", "timestamp |-> 4"]),
        ("HandleClientReply", &["(c1, r1,", "timestamp |-> 4"]),
        ("HandleClientReply", &["(c1, r2,", "timestamp |-> 4"]),
    ];
    let mut s = spec.init_states().pop().unwrap();
    for (k, &(name, parts)) in script.iter().enumerate() {
        let (action, next) = take(&spec, &s, name, parts);
        let mapped = mapping.implements(&s, &action, &next);
        if k + 1 < script.len() {
            assert!(mapped.is_ok(), "step {}: {action}: {mapped:?}", k + 1);
        } else {
            let why = mapped.unwrap_err();
            assert!(
                why.contains("which is not enabled in the mapped state"),
                "{why}"
            );
        }
        if k + 1 == 7 {
            // Log after the bad commit: t1 at index 1, t2 at index 2 (values 0 and 1).
            assert_eq!(mapping.map_state(&next).pairs(), [(1, 0), (2, 1)]);
            assert!(!jit_paxos::state::inv(&next), "r2 lacks index 2");
        }
        s = next;
    }
    // The last commit decided <<t2, t4>>: CommittedPrefixesAgree fails at the protocol level.
    assert!(!jit_paxos::state::committed_prefixes_agree(&s));

    // Without the mutation, the seventh step commits nothing: the checksums differ, and the
    // client sends a reconcile request for the primary's index 2, to r1, whose reply it is
    // handling: the primary itself, not r2 (the spec's quirk, see the crate README).
    let spec = JitPaxos::new(2, 1, 17).unwrap();
    let mut s = spec.init_states().pop().unwrap();
    for &(name, parts) in &script[..7] {
        s = take(&spec, &s, name, parts).1;
    }
    assert!(s.c_commits[0].is_empty());
    assert!(s
        .messages
        .iter()
        .any(|m| m.to_string().contains("MReconcileRequest")));
}
