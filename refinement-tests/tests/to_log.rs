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

/// The composite checks static-raft against Log only, which is weaker than checking both edges:
/// a vote that ignores logs breaks the first edge in 4 states, but Log notices only when it
/// lets two different entries be committed at index 1 — 10 states, ending in the second commit.
#[test]
fn a_broken_vote_shows_at_the_log_level_as_two_entries_chosen_at_one_index() {
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
    assert_eq!(cex.steps.len(), 10);
    assert_eq!(
        cex.failure.detail,
        "CommitEntry(n3, {n2, n3}) is mapped to log-abstract step Next(1..1, [1 :> v2]), which is not enabled in the mapped state"
    );
}
