//! TRaft (crate `traft`): exact counts of its exhaustive checks and of its edge to
//! `log-abstract`, every mutation refuted by a pinned counterexample (its length, its last
//! action, the property that fails), the planted bugs' consequences at the log level, and the
//! design choice that two leaders may share an integer term. There is no TLC model of this spec
//! to compare counts with: they are pinned as this port computes them, the same with 1 and 2
//! threads.

use refine::layers::{check_edge, check_layer};
use refinement_tests::{
    explore, Failure, FailureKind, Invariants, Observer, Options, RefinementCheck,
};
use spec_core::{Params, Refinement, Spec};
use traft::{CommittedAreChosen, Mutation, Role, State, Traft};

/// `(generated, distinct, depth)`.
type Counts = (u64, u64, usize);

/// `(servers, MaxTerm, MaxLogLen)`.
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

/// Every invariant and action property holds, at these bounds `(servers, MaxTerm, MaxLogLen)`:
///
/// | bounds | generated | distinct | depth |
/// |---|---|---|---|
/// | 3, 2, 2 (the default) | 293,679 | 25,796 | 14 |
/// | 2, 4, 3 | 44,211 | 11,761 | 15 |
/// | 3, 3, 2 | 2,607,077 | 237,534 | 17 |
/// | 4, 2, 2 | 7,025,069 | 371,833 | 17 |
///
/// (The README also gives 3, 3, 3: 18,118,314 / 1,626,543 / 21, about 5 s, not run here.)
#[test]
fn traft_holds_its_invariants() {
    let table: [(Bounds, Counts, &[usize]); 4] = [
        ((3, 2, 2), (293_679, 25_796, 14), &[1, 2]),
        ((2, 4, 3), (44_211, 11_761, 15), &[1, 2]),
        ((3, 3, 2), (2_607_077, 237_534, 17), &[1, 2]),
        ((4, 2, 2), (7_025_069, 371_833, 17), &[2]),
    ];
    for ((servers, max_term, max_log_len), expected, threads) in table {
        let spec = Traft::new(servers, max_term, max_log_len).unwrap();
        for &t in threads {
            assert_eq!(
                counts(&spec, &Invariants::of(&spec), t),
                expected,
                "{servers}, {max_term}, {max_log_len}, {t} threads"
            );
        }
    }
}

/// `traft -> log-abstract`: every commit chooses its entry in Log, and no step chooses a second
/// value at a chosen index. The counts are those of the lower level.
#[test]
fn traft_refines_log() {
    for ((servers, max_term, max_log_len), expected) in [
        ((3, 2, 2), (293_679, 25_796, 14)),
        ((2, 4, 3), (44_211, 11_761, 15)),
    ] {
        let mapping =
            CommittedAreChosen::new(Traft::new(servers, max_term, max_log_len).unwrap()).unwrap();
        for threads in [1, 2] {
            assert_eq!(
                counts(mapping.lower(), &RefinementCheck::new(&mapping), threads),
                expected,
                "{servers}, {max_term}, {max_log_len}"
            );
        }
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

/// Explores `spec` (with the `only` properties, or all), expecting a violation; returns it.
fn violation(spec: &Traft, only: &[&str], threads: usize) -> (Failure, Vec<String>) {
    let observer = if only.is_empty() {
        Invariants::of(spec)
    } else {
        Invariants::only(spec, only)
    };
    let out = explore(spec, &observer, &Options::quiet(threads, false)).unwrap();
    let cex = out.violation.expect("a violation");
    let actions = cex.actions();
    (cex.failure, actions)
}

/// Every mutation is refuted at the default bounds (3 servers, MaxTerm 2, MaxLogLen 2), by the
/// shortest counterexample, the same with 1 and 2 threads. The two that break the merge are
/// caught by the note's lemma (OnlyMaxCommitterLogs) in the state where the new leader takes a
/// log without the committed entry.
#[test]
fn every_mutation_is_refuted_by_a_short_counterexample() {
    let table = [
        Refuted {
            mutation: Mutation::MergeFromAnyReplica,
            property: "OnlyMaxCommitterLogs",
            length: 6,
            last: "BecomeLeader(n2, {n1, n2, n3}, from n3)",
        },
        Refuted {
            mutation: Mutation::MergeLongestLog,
            property: "OnlyMaxCommitterLogs",
            length: 8,
            last: "BecomeLeader(n3, {n1, n3}, from n1)",
        },
        Refuted {
            mutation: Mutation::CommitIgnoresCommitter,
            property: "OnlyMaxCommitterLogs",
            length: 6,
            last: "CommitEntry(n1, {n1, n2})",
        },
        Refuted {
            mutation: Mutation::VoteIgnoresBallot,
            property: "VotesOnlyGrow",
            length: 3,
            last: "BecomeLeader(n2, {n1, n2}, from n1)",
        },
        Refuted {
            mutation: Mutation::ForwardIgnoresVote,
            property: "VotesOnlyGrow",
            length: 4,
            last: "LogForward(n1, n2)",
        },
        Refuted {
            mutation: Mutation::ForwardOneEntry,
            property: "OnlyMaxCommitterLogs",
            length: 9,
            last: "LogForward(n3, n1)",
        },
    ];
    assert_eq!(table.len(), Mutation::ALL.len());
    for r in table {
        let spec = Traft::new(3, 2, 2).unwrap().with_mutation(r.mutation);
        for threads in [1, 2] {
            let (failure, actions) = violation(&spec, &[], threads);
            assert_eq!(failure.property, r.property, "{}", r.mutation);
            assert_eq!(actions.len() + 1, r.length, "{}: {actions:?}", r.mutation);
            assert_eq!(actions.last().unwrap(), r.last, "{}", r.mutation);
        }
    }
}

/// The required mutation in full: n1 is elected (1, n1), writes an entry, forwards it to n2 and
/// commits it with {n1, n2}; n2 is then elected (2, n2) by all three and merges from n3, whose
/// committer (none) is not the greatest: the new leader has lost the committed entry.
#[test]
fn a_leader_that_merges_from_a_stale_voter_loses_a_committed_entry() {
    let spec = Traft::new(3, 2, 2)
        .unwrap()
        .with_mutation(Mutation::MergeFromAnyReplica);
    let (failure, actions) = violation(&spec, &[], 2);
    assert_eq!(failure.kind, FailureKind::Invariant);
    assert_eq!(
        actions,
        [
            "BecomeLeader(n1, {n1, n3}, from n1)",
            "ClientRequest(n1)",
            "LogForward(n1, n2)",
            "CommitEntry(n1, {n1, n2})",
            "BecomeLeader(n2, {n1, n2, n3}, from n3)",
        ]
    );
    // The same last state breaks LeaderCompleteness: the lemma is what it rests on.
    let (failure, actions) = violation(&spec, &["LeaderCompleteness"], 2);
    assert_eq!(
        (failure.property.as_str(), actions.len() + 1),
        ("LeaderCompleteness", 6)
    );
}

/// The merge and commit mutations are not only caught by the lemma: with the lemma and
/// LeaderCompleteness left out, each commits two entries at one index (StateMachineSafety), and
/// the edge to log-abstract fails at that commit (Log cannot choose a second value at an
/// index). `(mutation, StateMachineSafety's length, the edge's length, the edge's last step)`.
#[test]
fn the_planted_bugs_reach_state_machine_safety_and_the_log() {
    let table = [
        (
            Mutation::MergeFromAnyReplica,
            9,
            9,
            "CommitEntry(n1, {n1, n2})",
        ),
        (
            Mutation::MergeLongestLog,
            10,
            10,
            "CommitEntry(n1, {n1, n2})",
        ),
        (
            Mutation::CommitIgnoresCommitter,
            10,
            10,
            "CommitEntry(n3, {n1, n3})",
        ),
        (
            Mutation::ForwardOneEntry,
            13,
            13,
            "CommitEntry(n3, {n1, n3})",
        ),
    ];
    for (mutation, sms_length, edge_length, edge_last) in table {
        let spec = Traft::new(3, 2, 2).unwrap().with_mutation(mutation);
        let (failure, actions) = violation(&spec, &["StateMachineSafety"], 2);
        assert_eq!(failure.property, "StateMachineSafety", "{mutation}");
        assert_eq!(actions.len() + 1, sms_length, "{mutation}: {actions:?}");

        let mapping = CommittedAreChosen::new(spec).unwrap();
        let out = explore(
            mapping.lower(),
            &RefinementCheck::new(&mapping),
            &Options::quiet(2, false),
        )
        .unwrap();
        let cex = out.violation.expect("the edge fails");
        assert_eq!(cex.failure.kind, FailureKind::Refinement, "{mutation}");
        assert_eq!(
            cex.steps.len(),
            edge_length,
            "{mutation}: {:?}",
            cex.actions()
        );
        assert_eq!(cex.actions().last().unwrap(), edge_last, "{mutation}");
        assert!(
            cex.failure
                .detail
                .contains("which is not enabled in the mapped state"),
            "{}",
            cex.failure.detail
        );
    }
}

/// Two Primaries with the same integer term, as an observer: TRaft allows it by design.
struct OnePrimaryPerIntegerTerm;

impl Observer<Traft> for OnePrimaryPerIntegerTerm {
    fn check_init(&self, spec: &Traft, state: &State) -> Result<(), Failure> {
        self.check_state(spec, state)
    }
    fn check_state(&self, _: &Traft, s: &State) -> Result<(), Failure> {
        let primaries: Vec<usize> = s
            .server_ids()
            .filter(|&i| s.state[i] == Role::Primary)
            .collect();
        let shared = primaries.iter().any(|&a| {
            primaries
                .iter()
                .any(|&b| a != b && s.voted_for[a].term() == s.voted_for[b].term())
        });
        if shared {
            return Err(Failure {
                kind: FailureKind::Invariant,
                property: "OnePrimaryPerIntegerTerm".into(),
                detail: "two Primaries share an integer term".into(),
            });
        }
        Ok(())
    }
    fn check_step(
        &self,
        _: &Traft,
        _: &State,
        _: &traft::Action,
        _: &State,
    ) -> Result<(), Failure> {
        Ok(())
    }
}

/// A voter may vote for a greater leader id in the same term, so two leaders of term 1 exist
/// after two elections: (1, n1) by {n1, n2}, then (1, n3) by {n2, n3} (n2 had voted for
/// (1, n1) < (1, n3)). This is why the layer's OnePrimaryPerTerm is per leader id.
#[test]
fn two_leaders_may_share_an_integer_term() {
    let spec = Traft::new(3, 2, 2).unwrap();
    let out = explore(&spec, &OnePrimaryPerIntegerTerm, &Options::quiet(2, false)).unwrap();
    let cex = out.violation.expect("two leaders of one term");
    assert_eq!(
        cex.actions(),
        [
            "BecomeLeader(n1, {n1, n2}, from n1)",
            "BecomeLeader(n3, {n2, n3}, from n2)"
        ]
    );
    let last = &cex.steps[2].state;
    assert_eq!((last.voted_for[0].term(), last.voted_for[2].term()), (1, 1));
}

/// The `refine` registry: the layer, its edge and its mutations by name; bounds the encoding
/// cannot hold are refused with the allowed range, never a panic.
#[test]
fn refine_runs_traft_by_name_and_refuses_bad_bounds() {
    let options = Options::quiet(2, false);
    let report = check_layer("traft", &Params::default(), None, &[], &options).unwrap();
    assert!(report.violation.is_none());
    assert_eq!(report.stats.distinct, 25_796);
    let report = check_edge(
        "traft",
        "log-abstract",
        &Params::default(),
        Some("merge-from-any-replica"),
        &options,
    )
    .unwrap();
    assert_eq!(report.violation.map(|v| v.trace_length), Some(9));

    let bounds = |servers, max_term| Params {
        servers: Some(servers),
        max_term: Some(max_term),
        ..Params::default()
    };
    let e = check_layer("traft", &bounds(6, 2), None, &[], &options).unwrap_err();
    assert_eq!(
        e.0,
        "layer traft: --servers 6 is out of range 1..=5 (per-server arrays hold 5 servers)"
    );
    let e = check_edge("traft", "log-abstract", &bounds(3, 3), None, &options).unwrap_err();
    assert!(
        e.0.contains("--max-term 3 is out of range 0..=2"),
        "{}",
        e.0
    );
    let e = check_layer(
        "traft",
        &Params::default(),
        Some("no-such-bug"),
        &[],
        &options,
    )
    .unwrap_err();
    assert!(
        e.0.starts_with("unknown mutation no-such-bug for traft"),
        "{}",
        e.0
    );
}
