//! MongoLoglessDynamicRaft: exact counts cross-checked with TLC, and the counterexamples the
//! checker finds when one guard conjunct is dropped.
//!
//! Every TLC figure below was produced by TLC 2.15 (`-workers 1 -deadlock`) on
//! `MCMongoLoglessDynamicRaft.tla` of will62794/logless-reconfig master 05178a7, with
//! `INIT Init`, `NEXT Next`, `CONSTRAINT StateConstraint`, `INVARIANT OnePrimaryPerTerm`, and
//! `SYMMETRY ServerSymmetry` where marked, at the bounds named.
//!
//! TLC's "states generated" includes the initial states: with 2 servers TLC prints "3 states
//! generated" after computing the 3 initial states (one per nonempty config), and its final
//! figure (240) is the 237 successors our enumeration produces plus those 3. Every other pair of
//! figures below differs the same way (7,186 successors + 7 initial states = 7,193, ...).
//!
//! TLC's generated count also depends on a detail of Reconfig: its two quorum checks are
//! existential guards (`\E Q \in Quorums(config[i]) : ...`), and TLC yields one successor per
//! witness quorum of each. Reconfig therefore produces (config-quorum witnesses) x (term-quorum
//! witnesses) copies of each successor; counting one per new config instead gives 6,734 for
//! the first model below, not TLC's 7,193.

use logless_raft::{LoglessRaft, Mutation};
use refinement_tests::report::{trace_itf, trace_text};
use refinement_tests::{explore, FailureKind, Invariants, Options, Outcome};
use spec_core::{Layer, Params, Spec};

fn check(spec: &LoglessRaft, threads: usize, symmetry: bool) -> Outcome<LoglessRaft> {
    explore(
        spec,
        &Invariants::of(spec),
        &Options::quiet(threads, symmetry),
    )
    .unwrap()
}

/// Checks `(servers, MaxTerm, MaxConfigVersion)` with 1 and 2 threads, expecting no violation
/// and TLC's `(generated, distinct, depth)`.
fn assert_counts(bounds: (usize, usize, usize), symmetry: bool, tlc: (u64, u64, usize)) {
    let (servers, max_term, max_config_version) = bounds;
    let spec = LoglessRaft::new(servers, max_term, max_config_version).unwrap();
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

/// The layer's default bounds (what `refine check logless-raft` runs): 3 servers, MaxTerm 2,
/// MaxConfigVersion 2. TLC with symmetry: 7,193 generated, 947 distinct, depth 10; without:
/// 41,518 generated, 5,530 distinct, depth 10.
#[test]
fn default_model_matches_tlc() {
    let spec = LoglessRaft::from_params(&Params::default()).unwrap();
    assert_eq!(spec, LoglessRaft::new(3, 2, 2).unwrap());
    assert_counts((3, 2, 2), true, (7_193, 947, 10));
    assert_counts((3, 2, 2), false, (41_518, 5_530, 10));
}

/// The bounds of the repository's `models/MCMongoLoglessDynamicRaft.cfg`: 3 servers, MaxTerm 3,
/// MaxConfigVersion 3, symmetry. TLC: 82,007 generated, 11,141 distinct, depth 14.
#[test]
fn repository_cfg_bounds_match_tlc() {
    assert_counts((3, 3, 3), true, (82_007, 11_141, 14));
}

/// 4 servers, MaxTerm 2, MaxConfigVersion 2. TLC with symmetry: 155,244 generated, 11,328
/// distinct, depth 13 ("15 states generated, with 4 of them distinct" initially); without:
/// 3,454,383 generated, 255,791 distinct, depth 13.
#[test]
fn four_servers_match_tlc() {
    assert_counts((4, 2, 2), true, (155_244, 11_328, 13));
    assert_counts((4, 2, 2), false, (3_454_383, 255_791, 13));
}

/// 2 servers, MaxTerm 2, MaxConfigVersion 2, where the 3 initial states are a visible share of
/// the total. TLC with symmetry: 240 generated, 67 distinct, depth 6; without: 475 generated,
/// 133 distinct, depth 6. Our enumeration yields 237 and 472 successors: TLC counts the initial
/// states as generated.
#[test]
fn tlc_generated_counts_the_initial_states() {
    let spec = LoglessRaft::new(2, 2, 2).unwrap();
    assert_eq!(spec.init_states().len(), 3);
    assert_counts((2, 2, 2), true, (240, 67, 6));
    assert_counts((2, 2, 2), false, (475, 133, 6));
}

/// The reference model (REFERENCE.md; the artifact's
/// `MCMongoLoglessDynamicRaft-4Servers-T4-CV4.cfg`): 4 servers, MaxTerm 4, MaxConfigVersion 4,
/// symmetry. TLC: 88,150,563 generated, 6,788,633 distinct, depth 25 (2 min 26 s with 20
/// workers on the authors' 48-core machine; here about 17 s with 2 threads). Run with
///
/// `cargo test --release -p refine --test suite logless_raft:: -- --ignored --nocapture`
///
/// or `cargo run --release --bin refine -- check logless-raft --servers 4 --max-term 4
/// --max-config-version 4 --symmetry --threads 2`.
#[test]
#[ignore = "the reference model: 88 million successors, about a minute in release mode"]
fn reference_model_matches_tlc() {
    let spec = LoglessRaft::new(4, 4, 4).unwrap();
    let out = check(&spec, 2, true);
    eprintln!(
        "logless-raft 4 servers, MaxTerm 4, MaxConfigVersion 4, symmetry, 2 threads: {} generated, {} distinct, depth {}, {:.1} s",
        out.stats.generated, out.stats.distinct, out.stats.depth, out.stats.seconds
    );
    assert!(out.violation.is_none());
    assert_eq!(
        (out.stats.generated, out.stats.distinct, out.stats.depth),
        (88_150_563, 6_788_633, 25)
    );
}

/// The actions of a counterexample, as printed.
/// Checks `mutation` at `bounds` with symmetry, with 1 and 2 threads: the checker must report
/// OnePrimaryPerTerm with a counterexample of `states` states (the initial state included)
/// ending in a BecomeLeader step, the same trace for both thread counts.
fn assert_breaks_one_primary_per_term(
    mutation: Mutation,
    bounds: (usize, usize, usize),
    states: usize,
) {
    let (servers, max_term, max_config_version) = bounds;
    let spec = LoglessRaft::new(servers, max_term, max_config_version)
        .unwrap()
        .with_mutation(mutation);
    let mut traces = Vec::new();
    for threads in [1, 2] {
        let out = check(&spec, threads, true);
        let cex = out
            .violation
            .unwrap_or_else(|| panic!("{mutation} is caught"));
        assert_eq!(cex.failure.kind, FailureKind::Invariant, "{mutation}");
        assert_eq!(cex.failure.property, "OnePrimaryPerTerm", "{mutation}");
        let trace = cex.actions();
        assert_eq!(cex.steps.len(), states, "{mutation}: {trace:?}");
        assert!(
            trace.last().unwrap().starts_with("BecomeLeader("),
            "{mutation}: {trace:?}"
        );
        traces.push(trace);
    }
    assert_eq!(traces[0], traces[1], "{mutation}: 1 and 2 threads agree");
}

// The four mutations below were also applied to a copy of MongoLoglessDynamicRaft.tla (the
// conjunct replaced by TRUE) and run with TLC at 3 servers, MaxTerm 3, MaxConfigVersion 3,
// symmetry: TLC reports OnePrimaryPerTerm with a trace of the same length (6, 7, 3 and 8
// states) and the same sequence of action kinds.

/// Without ConfigQuorumCheck a primary reconfigures before its config has spread: n1, elected
/// by {n1, n2} in term 1 (which stamps its config with term 1, held by nobody else), installs
/// {n1, n2} and at once {n1}; n2, still in the initial config {n1, n2, n3}, is elected by
/// {n2, n3} in term 2, and n1 elects itself in term 2 with its one-server config. TLC: 6
/// states.
#[test]
fn reconfig_without_the_config_quorum_check_breaks_one_primary_per_term() {
    assert_breaks_one_primary_per_term(Mutation::ReconfigSkipsConfigQuorumCheck, (3, 3, 3), 6);
    // The trace, without symmetry (fixed by fingerprints, not by thread scheduling).
    let spec = LoglessRaft::new(3, 3, 3)
        .unwrap()
        .with_mutation(Mutation::ReconfigSkipsConfigQuorumCheck);
    let out = check(&spec, 2, false);
    let trace = out.violation.unwrap().actions();
    assert_eq!(trace.len(), 5);
    assert!(trace[1].starts_with("Reconfig(") && trace[2].starts_with("Reconfig("));
}

/// Without TermQuorumCheck (the condition two quorum checks make independent) a primary whose
/// config is committed but whose term is not yet known to a quorum of it reconfigures: n1, elected
/// alone in {n1}, grows the config to {n1, n2}, sends it to n2 (still in term 0), grows it to
/// {n1, n2, n3} and sends it to n3; n3 is then elected in term 1 by {n2, n3}, next to n1.
/// TLC: 7 states. At 3 servers, MaxTerm 2, MaxConfigVersion 2 the mutant is still safe (it
/// needs a third config version).
#[test]
fn reconfig_without_the_term_quorum_check_breaks_one_primary_per_term() {
    assert_breaks_one_primary_per_term(Mutation::ReconfigSkipsTermQuorumCheck, (3, 3, 3), 7);
    let small = LoglessRaft::new(3, 2, 2)
        .unwrap()
        .with_mutation(Mutation::ReconfigSkipsTermQuorumCheck);
    let out = check(&small, 2, true);
    assert!(out.violation.is_none());
    assert_eq!(out.stats.distinct, 947);
}

/// Without the term half of CanVoteForConfig a server votes twice in one term: n2 votes for n1
/// and then for n3, both in term 1. TLC: 3 states.
#[test]
fn voting_without_the_term_check_breaks_one_primary_per_term() {
    assert_breaks_one_primary_per_term(Mutation::VoteIgnoresTerm, (3, 3, 3), 3);
    let spec = LoglessRaft::new(3, 3, 3)
        .unwrap()
        .with_mutation(Mutation::VoteIgnoresTerm);
    let out = check(&spec, 1, false);
    let trace = out.violation.unwrap().actions();
    assert_eq!(trace.len(), 2);
    assert!(trace.iter().all(|a| a.starts_with("BecomeLeader(")));
}

/// Without the config half of CanVoteForConfig, a voter with a newer config elects a candidate
/// with a stale one, whose config has quorums disjoint from the current config's. TLC: 8 states.
#[test]
fn voting_without_the_config_check_breaks_one_primary_per_term() {
    assert_breaks_one_primary_per_term(Mutation::VoteIgnoresConfig, (3, 3, 3), 8);
}

/// The other guards that OnePrimaryPerTerm rests on at 3 servers, MaxTerm 3,
/// MaxConfigVersion 3: Reconfig's primary check and quorum overlap, SendConfig's newer-config
/// check, and UpdateTerms' newer-term check.
#[test]
fn other_dropped_guards_break_one_primary_per_term() {
    assert_breaks_one_primary_per_term(Mutation::ReconfigSkipsPrimaryCheck, (3, 3, 3), 5);
    assert_breaks_one_primary_per_term(Mutation::ReconfigSkipsQuorumsOverlap, (3, 3, 3), 5);
    assert_breaks_one_primary_per_term(Mutation::SendConfigSkipsNewerCheck, (3, 3, 3), 9);
    assert_breaks_one_primary_per_term(Mutation::UpdateTermsSkipsNewerCheck, (3, 3, 3), 4);
}

/// A TermQuorumCheck that accepts a quorum member in a term `>=` the primary's (not `=`) lets a
/// deposed primary reconfigure: n1, elected by {n1, n2} in term 1, gives n2 its config,
/// reconfigures to {n1, n3}; n2 is elected in term 2 by {n2, n3}; n1 sends n3 its config and,
/// with {n1, n3} (terms 1 and 2, `>=` 1) for a quorum, reconfigures to {n1} and elects itself
/// in term 2: 8 states at 3 servers, MaxTerm 2, MaxConfigVersion 3. It needs the third config
/// version: at MaxConfigVersion 2 no violation, with MaxTerm 2 (7,233 generated, 947 distinct:
/// the spec's distinct count, with 40 more Reconfig steps) or 3 (3,314 distinct). Not run with
/// TLC. Through the edge to dynamic-raft it is refuted sooner, see `logless_to_dynamic.rs`.
#[test]
fn a_weakened_term_quorum_check_breaks_one_primary_per_term() {
    let m = Mutation::TermQuorumCheckWeakened;
    assert_breaks_one_primary_per_term(m, (3, 2, 3), 8);
    for (bounds, counts) in [
        ((3, 2, 2), (7_233, 947, 10)),
        ((3, 3, 2), (25_233, 3_314, 12)),
    ] {
        let (servers, max_term, max_config_version) = bounds;
        let spec = LoglessRaft::new(servers, max_term, max_config_version)
            .unwrap()
            .with_mutation(m);
        let out = check(&spec, 2, true);
        assert!(out.violation.is_none(), "{bounds:?}");
        assert_eq!(
            (out.stats.generated, out.stats.distinct, out.stats.depth),
            counts,
            "{bounds:?}"
        );
    }
}

/// A candidate outside its own vote quorum needs 4 servers to do harm: with 3 it stays safe
/// at these bounds, with 4 it is caught in 8 states.
#[test]
fn a_leader_outside_its_quorum_needs_four_servers() {
    let three = LoglessRaft::new(3, 3, 3)
        .unwrap()
        .with_mutation(Mutation::LeaderOutsideQuorum);
    assert!(check(&three, 2, true).violation.is_none());
    assert_breaks_one_primary_per_term(Mutation::LeaderOutsideQuorum, (4, 2, 2), 8);
}

/// Three conjuncts are not needed for OnePrimaryPerTerm at 3 servers, MaxTerm 3,
/// MaxConfigVersion 3. `i \in config[i]` in BecomeLeader is implied by `i \in voteQuorum` and
/// `voteQuorum \in Quorums(config[i])`: dropping it changes nothing, not even the count.
/// A primary that adopts another's config, or that reconfigures itself out of its config, does
/// not create a second primary in a term here.
#[test]
fn some_dropped_guards_keep_one_primary_per_term() {
    for (mutation, distinct) in [
        (Mutation::LeaderOutsideConfig, 11_141),
        (Mutation::SendConfigToPrimary, 11_942),
        (Mutation::ReconfigMayRemoveSelf, 20_869),
    ] {
        let spec = LoglessRaft::new(3, 3, 3).unwrap().with_mutation(mutation);
        let out = check(&spec, 2, true);
        assert!(out.violation.is_none(), "{mutation}");
        assert_eq!(out.stats.distinct, distinct, "{mutation}");
    }
}

/// Two effects written wrong (not dropped guards; not run with TLC), at 3 servers, MaxTerm 2,
/// MaxConfigVersion 2. BecomeLeader moving only the candidate to the new term: n2, a voter of
/// n1 in term 1 left in term 0, is elected in term 1 too (3 states). UpdateTerms not stepping
/// down: n1 elected by all in term 1, n2 by {n2, n3} in term 2, then `UpdateTerms(n2, n1)`
/// leaves n1 Primary in term 2 (4 states). For MongoRaftReconfig, where these effects are one
/// half of a joint step, see `raft_reconfig.rs`.
#[test]
fn wrong_effects_of_the_joint_actions_break_one_primary_per_term() {
    for (mutation, expected) in [
        (
            Mutation::VotersKeepTheirTerm,
            &["BecomeLeader(n1, {n1, n2})", "BecomeLeader(n2, {n2, n3})"][..],
        ),
        (
            Mutation::UpdateTermsKeepsRole,
            &[
                "BecomeLeader(n1, {n1, n2, n3})",
                "BecomeLeader(n2, {n2, n3})",
                "UpdateTerms(n2, n1)",
            ][..],
        ),
    ] {
        let spec = LoglessRaft::new(3, 2, 2).unwrap().with_mutation(mutation);
        for threads in [1, 2] {
            let cex = check(&spec, threads, true)
                .violation
                .unwrap_or_else(|| panic!("{mutation} is caught"));
            assert_eq!(cex.failure.property, "OnePrimaryPerTerm", "{mutation}");
            assert_eq!(cex.actions(), expected, "{mutation}, {threads} threads");
        }
    }
}

/// Every mutation has a command-line name that maps back to it.
#[test]
fn mutation_names_round_trip() {
    for mutation in Mutation::ALL {
        assert_eq!(Mutation::from_name(mutation.name()), Some(mutation));
    }
}

/// The counterexample prints in TLA+ notation with the spec's variable names, and exports to
/// the Informal Trace Format.
#[test]
fn counterexamples_print_with_tla_variable_names() {
    let spec = LoglessRaft::new(3, 2, 2)
        .unwrap()
        .with_mutation(Mutation::VoteIgnoresTerm);
    let observer = Invariants::of(&spec);
    let out = explore(&spec, &observer, &Options::quiet(1, false)).unwrap();
    let cex = out.violation.unwrap();
    let text = trace_text(&spec, &observer, &cex);
    for name in [
        "OnePrimaryPerTerm",
        "currentTerm",
        "state",
        "configVersion",
        "configTerm",
        "config",
        "Primary",
        "BecomeLeader(",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    let itf = trace_itf(&spec, &observer, &cex);
    let states = itf["states"].as_array().unwrap();
    assert_eq!(states.len(), 3);
    assert!(states[0]["configTerm"]["#map"].is_array(), "{itf}");
}
