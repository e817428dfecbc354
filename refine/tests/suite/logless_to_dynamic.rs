//! The edge `logless-raft -> dynamic-raft`, with history variables (the originals' open TODO):
//! what fails as written, the two fixes, and the mapping that holds with both (see
//! `logless-raft/src/refinement.rs` for the construction and the argument).
//!
//! TLC cross-check: a scratch module (not in the project) extends `MCMongoLoglessDynamicRaft`
//! (logless-reconfig master 05178a7) with the same history variables, the history step
//! CommitConfig, the same Reconfig restriction (no Reconfig while a CommitConfig of the same
//! primary is enabled; with `JointCheck`, also one quorum with the config and the term), and
//! checks `PROPERTY MDR!Init /\ [][Next]_vars` where `MDR` instantiates MongoDynamicRaft
//! (c7dce8d, plus `MWR!UpdateTerms /\ UNCHANGED configLog` as a disjunct of `Next` when the upper
//! level is generalized), `CONSTRAINT StateConstraint`, `SYMMETRY ServerSymmetry` unless marked,
//! `-workers 1 -deadlock`. The counts and counterexample lengths below are TLC's and this
//! checker's alike.

use logless_raft::refinement::{DynamicRaftMapping, LoglessWithHistory};
use logless_raft::LoglessRaft;
use refinement_tests::report::trace_text;
use refinement_tests::{explore, Invariants, Observer, Options, RefinementCheck};
use spec_core::{Refinement, Spec};

/// `(generated, distinct, depth)`.
type Counts = (u64, u64, usize);

/// Explores with 1 and 2 threads, expecting no violation and the same `counts` both times.
fn assert_counts<M: Spec, O: Observer<M>>(spec: &M, observer: &O, symmetry: bool, counts: Counts) {
    for threads in [1, 2] {
        let out = explore(spec, observer, &Options::quiet(threads, symmetry)).unwrap();
        assert!(
            out.violation.is_none(),
            "{:?} symmetry {symmetry}: {:?}",
            spec.params(),
            out.violation.map(|v| v.failure)
        );
        assert_eq!(
            (out.stats.generated, out.stats.distinct, out.stats.depth),
            counts,
            "{:?}, symmetry {symmetry}, threads {threads}",
            spec.params()
        );
    }
}

/// The mapping's shortest counterexample (one thread, symmetry): its failure detail and actions.
fn counterexample(mapping: &DynamicRaftMapping) -> (String, Vec<String>, String) {
    let check = RefinementCheck::new(mapping);
    let out = explore(mapping.lower(), &check, &Options::quiet(1, true)).unwrap();
    let cex = out.violation.expect("the mapping fails");
    assert_eq!(cex.failure.property, "logless-raft -> dynamic-raft");
    let text = trace_text(mapping.lower(), &check, &cex);
    (cex.failure.detail.clone(), cex.actions(), text)
}

fn logless(servers: usize, max_term: usize, max_config_version: usize) -> LoglessRaft {
    LoglessRaft::new(servers, max_term, max_config_version).unwrap()
}

/// As written, the mapping fails in 3 states (TLC: the property fails at depth 3): after an
/// election, UpdateTerms gives the new term to a server outside the vote quorum, and
/// MongoDynamicRaft has no step that changes a term alone.
#[test]
fn as_written_update_terms_has_no_counterpart() {
    let mapping = DynamicRaftMapping::new(logless(3, 2, 2)).unwrap();
    let (detail, actions, text) = counterexample(&mapping);
    assert_eq!(
        actions,
        ["BecomeLeader(n1, {n1, n2})", "UpdateTerms(n1, n3)"],
        "{text}"
    );
    assert_eq!(
        detail,
        "UpdateTerms(n1, n3) is mapped to dynamic-raft step UpdateTerms(n1, n3), which is not enabled in the mapped state: \
         false in its guard: UpdateTerms(n1, n3) is a disjunct of Next \
         (MongoDynamicRaft has no UpdateTerms; its generalization with MongoWeakRaft's has)",
        "{text}"
    );
}

/// With UpdateTerms added to MongoDynamicRaft, the mapping fails in 4 states (TLC: depth 4, the
/// same actions): n1 is elected by `{n1, n2}` (both in term 1), SendConfig gives n3 the config
/// of term 1 (but not the term), and n1 reconfigures: `{n1, n3}` holds its config and
/// `{n1, n2}` its term, as Reconfig's two independent checks ask, but no quorum holds both, so
/// MongoDynamicRaft cannot commit the config entry and its ClientRequest is not enabled: the
/// leader's last entry is not committed (`LastIsCommitted(n1)` is false).
#[test]
fn with_update_terms_a_split_quorum_reconfig_has_no_counterpart() {
    let mapping = DynamicRaftMapping::new(logless(3, 2, 2))
        .unwrap()
        .with_update_terms();
    let (detail, actions, text) = counterexample(&mapping);
    assert_eq!(
        actions,
        [
            "BecomeLeader(n1, {n1, n2})",
            "SendConfig(n1, n3)",
            "Reconfig(n1, {n1, n2, n3})"
        ],
        "{text}"
    );
    assert_eq!(
        detail,
        "Reconfig(n1, {n1, n2, n3}) is mapped to dynamic-raft step ClientRequest(n1, {n1, n2, n3}), \
         which is not enabled in the mapped state: false in its guard: LastIsCommitted(n1)",
        "{text}"
    );
}

/// The joint quorum check alone does not help: UpdateTerms still fails first.
#[test]
fn the_joint_quorum_check_alone_still_fails_on_update_terms() {
    let mapping = DynamicRaftMapping::new(logless(3, 2, 2))
        .unwrap()
        .with_joint_quorum_check();
    let (_, actions, _) = counterexample(&mapping);
    assert_eq!(actions.last().unwrap(), "UpdateTerms(n1, n3)");
}

/// With both fixes the mapping holds, `(servers, MaxTerm, MaxConfigVersion)`:
///
/// | bounds | symmetry | generated | distinct | depth |
/// |---|---|---|---|---|
/// | 3, 2, 2 | yes | 31,804 | 4,058 | 13 |
/// | 3, 2, 2 | no | 186,241 | 23,803 | 13 |
/// | 4, 2, 2 | yes | 613,650 | 43,433 | 16 |
/// | 3, 3, 3 | yes | 2,376,950 | 297,199 | 21 (ignored test below) |
#[test]
fn generalized_mapping_holds() {
    let mapping = DynamicRaftMapping::generalized(logless(3, 2, 2)).unwrap();
    let check = RefinementCheck::new(&mapping);
    assert_counts(mapping.lower(), &check, true, (31_804, 4_058, 13));
    assert_counts(mapping.lower(), &check, false, (186_241, 23_803, 13));
    let mapping = DynamicRaftMapping::generalized(logless(4, 2, 2)).unwrap();
    let check = RefinementCheck::new(&mapping);
    assert_counts(mapping.lower(), &check, true, (613_650, 43_433, 16));
}

/// The same at 3 servers, MaxTerm 3, MaxConfigVersion 3 (2.4 million successors; TLC: the same
/// counts, the property holds, 7.5 minutes).
#[test]
#[ignore = "2.4 million successors; run with --ignored"]
fn generalized_mapping_holds_at_max_term_3() {
    let mapping = DynamicRaftMapping::generalized(logless(3, 3, 3)).unwrap();
    let check = RefinementCheck::new(&mapping);
    assert_counts(mapping.lower(), &check, true, (2_376_950, 297_199, 21));
}

/// The joint quorum check is the generalized Reconfig's guard itself, built from the per-member
/// tests of ConfigQuorumCheck and TermQuorumCheck (`logless_raft::has_config_of`,
/// `has_term_of`), so a bug in one of them reaches the edge. `term-quorum-check-weakened` lets a
/// member pass TermQuorumCheck with a term `>=` the primary's: n1 is elected by {n1, n2} in
/// term 1, n2 by {n2, n3} in term 2, n3 (a Secondary) adopts n1's config of term 1, and the
/// deposed n1 reconfigures with {n1, n3} (both with its config, terms 1 and 2 `>=` 1). The
/// commit of n1's config is never recorded (no quorum *in* term 1 holds it), so
/// MongoDynamicRaft's ClientRequest is not enabled: 5 states. It is found from 3 servers,
/// MaxTerm 2, MaxConfigVersion 1 (the reconfig's successor, of version 2, is checked though
/// outside the constraint) and at the default bounds; with MaxTerm 1 (one term: `>=` is `=`)
/// or 2 servers (MaxTerm 3, MaxConfigVersion 3) the mutant's counts are the spec's and the edge
/// holds. (This checker's counts; not run with TLC.)
#[test]
fn a_weakened_term_quorum_check_is_refuted_through_the_edge() {
    let m = logless_raft::Mutation::TermQuorumCheckWeakened;
    for (bounds, counts) in [((3, 2, 1), (493, 157)), ((3, 2, 2), (504, 186))] {
        let (servers, max_term, max_config_version) = bounds;
        let spec = logless(servers, max_term, max_config_version).with_mutation(m);
        let mapping = DynamicRaftMapping::generalized(spec).unwrap();
        assert!(mapping.lower().has_joint_quorum_check());
        let (detail, actions, text) = counterexample(&mapping);
        assert_eq!(
            actions,
            [
                "BecomeLeader(n1, {n1, n2})",
                "BecomeLeader(n2, {n2, n3})",
                "SendConfig(n1, n3)",
                "Reconfig(n1, {n1, n3})",
            ],
            "{bounds:?}: {text}"
        );
        assert!(
            detail.contains("ClientRequest(n1, {n1, n3}), which is not enabled"),
            "{detail}"
        );
        let check = RefinementCheck::new(&mapping);
        for threads in [1, 2] {
            let out = explore(mapping.lower(), &check, &Options::quiet(threads, true)).unwrap();
            assert_eq!(
                out.violation.unwrap().actions(),
                actions,
                "{threads} threads"
            );
            assert_eq!(
                (out.stats.generated, out.stats.distinct),
                counts,
                "{bounds:?}, {threads} threads"
            );
        }
    }
    // Where the weakened test cannot differ, the mutant is the spec, counts included.
    for (bounds, counts) in [
        ((3, 1, 2), (1_841, 248, 9)),
        ((2, 3, 3), (21_431, 6_114, 16)),
    ] {
        let (servers, max_term, max_config_version) = bounds;
        for spec in [
            logless(servers, max_term, max_config_version),
            logless(servers, max_term, max_config_version).with_mutation(m),
        ] {
            let mapping = DynamicRaftMapping::generalized(spec).unwrap();
            let check = RefinementCheck::new(&mapping);
            assert_counts(mapping.lower(), &check, true, counts);
        }
    }
}

/// The lower level's own invariants hold: OnePrimaryPerTerm, and HistoryMatchesConfig (a
/// config term is the last log term, a config the last of the config log), which is what makes
/// IsNewerConfig and CanVoteForConfig the log comparisons of MongoDynamicRaft. (This is the
/// lower level without the joint quorum check; TLC, with OnePrimaryPerTerm: the same counts.)
#[test]
fn the_history_matches_the_configs() {
    let spec = LoglessWithHistory::new(logless(3, 2, 2)).unwrap();
    assert_counts(&spec, &Invariants::of(&spec), true, (38_694, 4_822, 13));
}

/// Composed with `dynamic-raft -> safe-weak-raft` (on the generalized MongoDynamicRaft), the
/// logless protocol with the joint quorum check reaches MongoSafeWeakRaft: every step keeps the
/// weak quorum condition. The counts are the lower level's, as above.
#[test]
fn generalized_mapping_composes_up_to_safe_weak_raft() {
    let first = DynamicRaftMapping::generalized(logless(3, 2, 2)).unwrap();
    let second = dynamic_raft::SafeWeakRaftMapping::new(first.upper().clone()).unwrap();
    let chain = spec_core::Composed::new(first, second);
    assert_eq!(
        chain.name(),
        "logless-raft -> dynamic-raft -> safe-weak-raft"
    );
    assert_counts(
        chain.lower(),
        &RefinementCheck::new(&chain),
        true,
        (31_804, 4_058, 13),
    );
}
