//! Reaching log-abstract from the Raft layers: MongoSafeWeakRaft's committed entries are Log's
//! chosen entries, and MongoStaticRaft gets there by composing its edge to MongoSafeWeakRaft.

use refinement_tests::{explore, FailureKind, Options, RefinementCheck};
use spec_core::{Composed, Refinement};
use static_raft::{Mutation, StaticRaft, WeakRaftMapping};
use weak_raft::{CommittedAreChosen, SafeWeakRaft};

#[test]
fn safe_weak_raft_commits_refine_log_at_two_servers() {
    for (max_term, counts) in [(2, (86_179, 3_813, 9)), (3, (428_295, 18_815, 11))] {
        let mapping = CommittedAreChosen::new(SafeWeakRaft::new(2, max_term, 2).unwrap()).unwrap();
        for threads in [1, 2] {
            let out = explore(
                mapping.lower(),
                &RefinementCheck::new(&mapping),
                &Options::quiet(threads, false),
            )
            .unwrap();
            assert!(out.violation.is_none(), "MaxTerm {max_term}");
            assert_eq!(
                (out.stats.generated, out.stats.distinct, out.stats.depth),
                counts,
                "MaxTerm {max_term}, {threads} threads"
            );
        }
    }
}

#[test]
fn static_raft_reaches_log_by_composition() {
    let first = WeakRaftMapping::new(StaticRaft::new(3, 2, 2).unwrap()).unwrap();
    let second = CommittedAreChosen::new(first.upper().clone()).unwrap();
    let composed = Composed::new(first, second);
    assert_eq!(
        composed.name(),
        "static-raft -> safe-weak-raft -> log-abstract"
    );
    let out = explore(
        composed.lower(),
        &RefinementCheck::new(&composed),
        &Options::quiet(2, false),
    )
    .unwrap();
    assert!(out.violation.is_none());
    assert_eq!(
        (out.stats.generated, out.stats.distinct, out.stats.depth),
        (75_265, 10_381, 16)
    );
}

/// The composite checks both edges on every static-raft step and names the one that breaks: a
/// vote that ignores logs is refuted at the first edge in 4 states (the second election is not
/// a MongoSafeWeakRaft step), long before two entries would be chosen at one index in Log.
#[test]
fn a_broken_vote_is_refuted_at_the_first_edge_of_the_composite() {
    let spec = StaticRaft::new(3, 2, 2)
        .unwrap()
        .with_mutation(Mutation::VoteIgnoresLog);
    let first = WeakRaftMapping::new(spec).unwrap();
    let second = CommittedAreChosen::new(first.upper().clone()).unwrap();
    let composed = Composed::new(first, second);
    let cex = explore(
        composed.lower(),
        &RefinementCheck::new(&composed),
        &Options::quiet(2, false),
    )
    .unwrap()
    .violation
    .expect("the composite breaks");
    assert_eq!(cex.failure.kind, FailureKind::Refinement);
    assert_eq!(
        cex.failure.property,
        "static-raft -> safe-weak-raft -> log-abstract"
    );
    assert_eq!(
        cex.actions(),
        [
            "BecomeLeader(n3, {n2, n3})",
            "ClientRequest(n3)",
            "BecomeLeader(n2, {n2, n3})"
        ]
    );
    // n3 holds its own entry of term 1 and n2's log is empty: n3 cannot vote for n2.
    assert_eq!(
        cex.failure.detail,
        "edge static-raft -> safe-weak-raft: BecomeLeader(n2, {n2, n3}) is mapped to safe-weak-raft step \
         BecomeLeader(n2, {n2, n3}) /\\ ChangeConfig(n1, {n2, n3}), which is not enabled in the mapped state: \
         false in its guard: CanVoteForOplog(n3, n2, currentTerm[n2] + 1): \
         LastTerm(log[n2]) > LastTerm(log[n3]) \\/ (LastTerm(log[n2]) = LastTerm(log[n3]) /\\ Len(log[n2]) >= Len(log[n3]))"
    );
}
