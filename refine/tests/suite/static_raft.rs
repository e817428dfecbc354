//! MongoStaticRaft: exact counts cross-checked with TLC, and the counterexamples the checker
//! finds when one guard conjunct is dropped.
//!
//! Every TLC figure below was produced by TLC 2.15 (`-workers 1 -deadlock`) on
//! `MCMongoStaticRaft.tla` of will62794/logless-reconfig master 05178a7, with the model's cfg
//! (`CONSTRAINT StateConstraint`, `VIEW stateView`, `SYMMETRY ServerSymmetry` when marked) at the
//! bounds named, checking OnePrimaryPerTerm, LogMatching, LeaderCompleteness, StateMachineSafety
//! and the action property LeaderAppendOnly. TLC's "states generated" includes the initial states
//! (TLC prints e.g. "3 states generated" right after computing the 3 initial states of 2 servers,
//! and the final figure agrees with ours only when they are counted).

use refinement_tests::report::{trace_itf, trace_text};
use refinement_tests::{explore, FailureKind, Invariants, Options, Outcome};
use spec_core::Spec;
use static_raft::{Mutation, StaticRaft};

fn check(spec: &StaticRaft, threads: usize, symmetry: bool) -> Outcome<StaticRaft> {
    explore(
        spec,
        &Invariants::of(spec),
        &Options::quiet(threads, symmetry),
    )
    .unwrap()
}

/// Checks `(servers, MaxTerm, MaxLogLen)` with 1 and 2 threads, expecting no violation and TLC's
/// `(generated, distinct, depth)`.
fn assert_counts(bounds: (usize, usize, usize), symmetry: bool, tlc: (u64, u64, usize)) {
    let (servers, max_term, max_log_len) = bounds;
    let spec = StaticRaft::new(servers, max_term, max_log_len).unwrap();
    for threads in [1, 2] {
        let out = check(&spec, threads, symmetry);
        assert!(
            out.violation.is_none(),
            "{bounds:?} symmetry {symmetry}: {:?}",
            out.violation.map(|v| v.failure)
        );
        assert_eq!(
            (out.stats.generated, out.stats.distinct, out.stats.depth),
            tlc,
            "bounds {bounds:?}, symmetry {symmetry}, threads {threads}"
        );
    }
}

/// REFERENCE.md (and TLC, rerun): models/MCMongoStaticRaft.cfg, 3 servers, MaxTerm 3,
/// MaxLogLen 2, symmetry: 39,527 generated, 5,509 distinct, depth 15.
#[test]
fn reference_model_with_symmetry_matches_tlc() {
    assert_counts((3, 3, 2), true, (39_527, 5_509, 15));
}

/// REFERENCE.md (and TLC, rerun): the same model without symmetry: 225,610 generated, 31,084
/// distinct, depth 15.
#[test]
fn reference_model_without_symmetry_matches_tlc() {
    assert_counts((3, 3, 2), false, (225_610, 31_084, 15));
}

/// The smallest model, where the initial states are a visible share of the total. TLC, 2
/// servers, MaxTerm 2, MaxLogLen 1: with symmetry 164 generated, 50 distinct, depth 7 (TLC:
/// "Finished computing initial states: 3 states generated, with 2 of them distinct"); without
/// symmetry 323 generated, 99 distinct, depth 7. Both figures count the 3 initial states (one per
/// nonempty config).
#[test]
fn tlc_generated_counts_the_initial_states() {
    let spec = StaticRaft::new(2, 2, 1).unwrap();
    assert_eq!(spec.init_states().len(), 3);
    assert_counts((2, 2, 1), true, (164, 50, 7));
    assert_counts((2, 2, 1), false, (323, 99, 7));
}

/// More bounds, each run with TLC with and without `SYMMETRY ServerSymmetry`:
///
/// | servers | MaxTerm | MaxLogLen | symmetry: generated, distinct, depth | none: generated, distinct, depth |
/// |---|---|---|---|---|
/// | 3 | 2 | 1 | 1,584, 240, 9 | 8,548, 1,279, 9 |
/// | 3 | 2 | 2 | 9,902, 1,427, 13 | 55,465, 7,897, 13 |
/// | 2 | 3 | 3 | 9,407, 2,555, 14 | 18,809, 5,109, 14 |
/// | 4 | 2 | 1 | 10,711, 964, 12 | 204,403, 17,927, 12 |
///
/// (3, 2, 2) is the layer's default, what `refine check static-raft` runs with no bounds.
#[test]
fn other_bounds_match_tlc() {
    let table = [
        ((3, 2, 1), (1_584, 240, 9), (8_548, 1_279, 9)),
        ((3, 2, 2), (9_902, 1_427, 13), (55_465, 7_897, 13)),
        ((2, 3, 3), (9_407, 2_555, 14), (18_809, 5_109, 14)),
        ((4, 2, 1), (10_711, 964, 12), (204_403, 17_927, 12)),
    ];
    for (bounds, with_symmetry, without) in table {
        assert_counts(bounds, true, with_symmetry);
        assert_counts(bounds, false, without);
    }
}

/// Checks `mutation` at `(3, max_term, 2)` with 1 and 2 threads, with symmetry: the checker must
/// report `property` (of `kind`) with a counterexample of `states` states whose last step is an
/// instance of `last_action`, the same trace for both thread counts.
fn assert_mutation_caught(
    mutation: Mutation,
    max_term: usize,
    (kind, property): (FailureKind, &str),
    states: usize,
    last_action: &str,
) {
    let spec = StaticRaft::new(3, max_term, 2)
        .unwrap()
        .with_mutation(mutation);
    let mut traces = Vec::new();
    for threads in [1, 2] {
        let out = check(&spec, threads, true);
        let cex = out
            .violation
            .unwrap_or_else(|| panic!("{mutation} is caught"));
        assert_eq!(cex.failure.kind, kind, "{mutation}");
        assert_eq!(cex.failure.property, property, "{mutation}");
        assert_eq!(cex.steps.len(), states, "{mutation}");
        let actions = cex.actions();
        assert!(
            actions.last().unwrap().starts_with(last_action),
            "{mutation}: {actions:?}"
        );
        traces.push(actions);
    }
    assert_eq!(traces[0], traces[1], "{mutation}: 1 and 2 threads agree");
}

// Each mutation was also applied to a copy of MongoStaticRaft.tla and run with TLC at the same
// bounds (3 servers, MaxLogLen 2, symmetry): TLC reports the same property with a trace of the
// same length in every case.

/// Voters that ignore logs elect a leader missing a committed entry: elect n1, write, replicate
/// to a quorum, commit, then elect a server with an empty log. TLC: LeaderCompleteness, 6 states.
#[test]
fn voting_without_the_log_check_breaks_leader_completeness() {
    assert_mutation_caught(
        Mutation::VoteIgnoresLog,
        2,
        (FailureKind::Invariant, "LeaderCompleteness"),
        6,
        "BecomeLeader(",
    );
}

/// A voter of term 1 votes again in term 1 for another candidate still in term 0: two primaries
/// of term 1 after two elections. TLC: OnePrimaryPerTerm, 3 states.
#[test]
fn voting_without_the_term_check_breaks_one_primary_per_term() {
    assert_mutation_caught(
        Mutation::VoteIgnoresTerm,
        2,
        (FailureKind::Invariant, "OnePrimaryPerTerm"),
        3,
        "BecomeLeader(",
    );
}

/// Raft's Figure 8: a primary of term 3 commits an entry of term 1 held by a quorum in term 3;
/// a server whose last entry is of term 2 then wins term 4 without it. It takes a fourth term
/// (a successor outside `MaxTerm = 3`, checked but not explored): at MaxTerm 2 the weakened spec
/// still satisfies every property, and TLC agrees (12,271 generated, 1,749 distinct, depth 13, no
/// error). TLC at MaxTerm 3: LeaderCompleteness, 10 states.
#[test]
fn committing_an_older_terms_entry_breaks_leader_completeness() {
    let spec = StaticRaft::new(3, 2, 2)
        .unwrap()
        .with_mutation(Mutation::CommitOlderTermEntry);
    let out = check(&spec, 2, true);
    assert!(out.violation.is_none());
    assert_eq!(
        (out.stats.generated, out.stats.distinct, out.stats.depth),
        (12_271, 1_749, 13)
    );
    assert_mutation_caught(
        Mutation::CommitOlderTermEntry,
        3,
        (FailureKind::Invariant, "LeaderCompleteness"),
        10,
        "BecomeLeader(",
    );
}

/// A deposed primary counts a secondary that already voted in a newer term: n1 (term 1) commits
/// an entry the new primary of term 2 will never have. TLC: LeaderCompleteness, 6 states.
#[test]
fn committing_with_a_quorum_in_another_term_breaks_leader_completeness() {
    assert_mutation_caught(
        Mutation::CommitIgnoresQuorumTerm,
        2,
        (FailureKind::Invariant, "LeaderCompleteness"),
        6,
        "CommitEntry(",
    );
}

/// Without the consistency check a secondary appends an entry after a different prefix. TLC:
/// LogMatching, 8 states.
#[test]
fn pulling_without_the_log_check_breaks_log_matching() {
    assert_mutation_caught(
        Mutation::GetEntriesSkipsLogCheck,
        2,
        (FailureKind::Invariant, "LogMatching"),
        8,
        "GetEntries(",
    );
}

/// A stale primary rolls back its own entry. TLC: action property LeaderAppendOnly, 6 states.
#[test]
fn a_primary_rolling_back_breaks_leader_append_only() {
    assert_mutation_caught(
        Mutation::PrimaryRollsBack,
        2,
        (FailureKind::ActionProperty, "LeaderAppendOnly"),
        6,
        "RollbackEntries(",
    );
}

/// Two effects written wrong (not dropped guards; not run with TLC). BecomeLeader moving only
/// the candidate to the new term: n1 is elected by {n1, n2} in term 1, n2 stays in term 0 and
/// is elected in term 1 too, by {n2, n3} (3 states). UpdateTerms not stepping down: after the
/// same two elections (n2 now in term 2), `UpdateTerms(n2, n1)` leaves n1 Primary in term 2
/// beside n2 (4 states). For MongoRaftReconfig, where these effects are one half of a joint
/// step, see `raft_reconfig.rs`.
#[test]
fn wrong_effects_of_the_joint_actions_break_one_primary_per_term() {
    assert_mutation_caught(
        Mutation::VotersKeepTheirTerm,
        2,
        (FailureKind::Invariant, "OnePrimaryPerTerm"),
        3,
        "BecomeLeader(",
    );
    assert_mutation_caught(
        Mutation::UpdateTermsKeepsRole,
        2,
        (FailureKind::Invariant, "OnePrimaryPerTerm"),
        4,
        "UpdateTerms(",
    );
}

#[test]
fn counterexamples_print_with_tla_variable_names() {
    let spec = StaticRaft::new(3, 2, 2)
        .unwrap()
        .with_mutation(Mutation::VoteIgnoresTerm);
    let invariants = Invariants::of(&spec);
    let out = explore(&spec, &invariants, &Options::quiet(1, true)).unwrap();
    let cex = out.violation.expect("caught");
    let text = trace_text(&spec, &invariants, &cex);
    assert!(
        text.contains("invariant OnePrimaryPerTerm is violated"),
        "{text}"
    );
    assert!(text.contains("State 3: <BecomeLeader("), "{text}");
    assert!(text.contains("* currentTerm = "), "{text}");
    let itf = trace_itf(&spec, &invariants, &cex);
    // One ITF variable per TLA+ variable (in the JSON object's key order).
    assert_eq!(
        itf["vars"],
        serde_json::json!(["committed", "config", "currentTerm", "log", "state"])
    );
    assert_eq!(itf["states"].as_array().unwrap().len(), 3);
    assert_eq!(itf["states"][2]["state"]["#map"][0][0], "n1");
}
