//! MongoRaftReconfig: exact counts cross-checked with TLC, the multiplicity of Reconfig in TLC's
//! counts, and the counterexamples the checker finds when one guard conjunct is dropped.
//!
//! Every TLC figure below was produced by TLC 2.15 (`-deadlock`) on `MCMongoRaftReconfig.tla`
//! of will62794/logless-reconfig master 05178a7, with `INIT Init`, `NEXT Next`,
//! `CONSTRAINT StateConstraint`, the invariants OnePrimaryPerTerm, StateMachineSafety and
//! LeaderCompleteness, and `SYMMETRY ServerSymmetry` where marked, at the bounds named. TLC's
//! "states generated" includes the initial states (one per nonempty config), as ours does.
//!
//! Our checker also checks the conjuncts of the inductive invariant `Ind`
//! (`proofs/MongoRaftReconfigIndInv.tla`); they hold in every state and do not change counts.
//! TLC, given the same conjuncts (all but TypeOK and LogMatching, whose `\A j \in Nat` TLC
//! cannot enumerate), agrees on them as well: see the mutation tests below.

use raft_reconfig::{CommittedAreChosen, Mutation, RaftReconfig, ToLoglessRaft};
use refinement_tests::report::{trace_itf, trace_text};
use refinement_tests::{explore, FailureKind, Invariants, Options, Outcome, RefinementCheck};
use spec_core::{Layer, Params, Refinement, Spec};

fn check(spec: &RaftReconfig, threads: usize, symmetry: bool) -> Outcome<RaftReconfig> {
    explore(
        spec,
        &Invariants::of(spec),
        &Options::quiet(threads, symmetry),
    )
    .unwrap()
}

/// Checks `(servers, MaxLogLen, MaxTerm, MaxConfigVersion)` with 1 and 2 threads, expecting no
/// violation and TLC's `(generated, distinct, depth)`.
fn assert_counts(bounds: (usize, usize, usize, usize), symmetry: bool, tlc: (u64, u64, usize)) {
    let (servers, max_log_len, max_term, max_config_version) = bounds;
    let spec = RaftReconfig::new(servers, max_log_len, max_term, max_config_version).unwrap();
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

/// The layer's default bounds (what `refine check raft-reconfig` runs): 3 servers, MaxLogLen 2,
/// MaxTerm 2, MaxConfigVersion 2, symmetry. TLC: 841,937 generated, 79,129 distinct, depth 22.
///
/// The multiplicity of Reconfig matters here. TLC yields one successor per witness of every
/// existential it meets in a guard, and `OplogCommitment(s)` has two: the `\E c \in committed`
/// of its first conjunct and the `\E quorum` of `IsCommitted`, under its second conjunct's
/// `\A c \in committed : ... => ...`. Flattening them in a copy of the spec (TLC, same bounds):
/// `IsCommitted` as one boolean gives 812,201 generated; all of `OplogCommitment` as one
/// boolean gives 800,728. Distinct states and depth do not change.
#[test]
fn default_model_matches_tlc() {
    let spec = RaftReconfig::from_params(&Params::default()).unwrap();
    assert_eq!(spec, RaftReconfig::new(3, 2, 2, 2).unwrap());
    assert_counts((3, 2, 2, 2), true, (841_937, 79_129, 22));
}

/// 3 servers, MaxLogLen 1, MaxTerm 2, MaxConfigVersion 2. TLC with symmetry: 125,612
/// generated, 12,668 distinct, depth 16 (124,136 generated with `IsCommitted` or all of
/// `OplogCommitment` evaluated as one boolean: with one log entry at most one record is
/// committed, so only the quorums of `IsCommitted` multiply); without symmetry: 739,414
/// generated, 74,947 distinct, depth 16.
#[test]
fn three_servers_one_entry_match_tlc() {
    assert_counts((3, 1, 2, 2), true, (125_612, 12_668, 16));
    assert_counts((3, 1, 2, 2), false, (739_414, 74_947, 16));
}

/// 2 servers, MaxLogLen 1, MaxTerm 2, MaxConfigVersion 2, where the 3 initial states are a
/// visible share of the total. TLC with symmetry: 2,354 generated, 466 distinct, depth 9;
/// without: 4,703 generated, 931 distinct, depth 9.
#[test]
fn two_servers_match_tlc() {
    let spec = RaftReconfig::new(2, 1, 2, 2).unwrap();
    assert_eq!(spec.init_states().len(), 3);
    assert_counts((2, 1, 2, 2), true, (2_354, 466, 9));
    assert_counts((2, 1, 2, 2), false, (4_703, 931, 9));
}

/// 4 servers, MaxLogLen 1, MaxTerm 2, MaxConfigVersion 2, symmetry, where symmetry classes of
/// up to 24 renamings meet the canonical form. TLC: 5,911,856 generated, 330,258 distinct,
/// depth 20 ("15 states generated, with 4 of them distinct" initially).
#[test]
fn four_servers_match_tlc() {
    assert_counts((4, 1, 2, 2), true, (5_911_856, 330_258, 20));
}

/// The repository's `models/MCMongoRaftReconfig.cfg` and the done criterion: 3 servers,
/// MaxLogLen 2, MaxTerm 3, MaxConfigVersion 3, symmetry. TLC (2 workers, 14 min on this shared
/// machine; REFERENCE.md: 277 s on one free core): 18,230,009 generated, 1,788,770 distinct,
/// depth 27. Our checker in release mode: 6.4 s with 1 thread, 6.9 s with 2 (the machine's
/// other core busy); this test's two runs take about 18 s of CPU in the test profile. Run with
///
/// `cargo test --release -p refine --test suite raft_reconfig:: -- --ignored`
///
/// or `cargo run --release --bin refine -- check raft-reconfig --servers 3 --max-log-len 2
/// --max-term 3 --max-config-version 3 --symmetry`.
#[test]
#[ignore = "18 million successors, twice: about 18 s of CPU in the test profile"]
fn repository_model_matches_tlc() {
    assert_counts((3, 2, 3, 3), true, (18_230_009, 1_788_770, 27));
}

/// The actions of a counterexample, as printed.
/// The properties TLC's models check.
const SAFETY: &[&str] = &[
    "OnePrimaryPerTerm",
    "StateMachineSafety",
    "LeaderCompleteness",
];

/// Checks `mutation` at `bounds` with symmetry and 1 and 2 threads, against the invariants
/// named in `invariants` (all of them when empty): the checker must report `property` with a
/// counterexample of `states` states (the initial state included), the same trace for both
/// thread counts. Returns its actions.
fn assert_mutation_caught(
    mutation: Mutation,
    bounds: (usize, usize, usize, usize),
    invariants: &[&str],
    property: &str,
    states: usize,
) -> Vec<String> {
    let (servers, max_log_len, max_term, max_config_version) = bounds;
    let spec = RaftReconfig::new(servers, max_log_len, max_term, max_config_version)
        .unwrap()
        .with_mutation(mutation);
    let observer = if invariants.is_empty() {
        Invariants::of(&spec)
    } else {
        Invariants::only(&spec, invariants)
    };
    let mut traces = Vec::new();
    for threads in [1, 2] {
        let out = explore(&spec, &observer, &Options::quiet(threads, true)).unwrap();
        let cex = out
            .violation
            .unwrap_or_else(|| panic!("{mutation} at {bounds:?} is caught"));
        assert_eq!(cex.failure.kind, FailureKind::Invariant, "{mutation}");
        assert_eq!(cex.failure.property, property, "{mutation}");
        assert_eq!(cex.steps.len(), states, "{mutation}: {:?}", cex.actions());
        traces.push(cex.actions());
    }
    assert_eq!(traces[0], traces[1], "{mutation}: 1 and 2 threads agree");
    traces.pop().unwrap()
}

/// Checks that `mutation` at `bounds` violates none of the three safety properties, with TLC's
/// counts.
fn assert_mutation_survives(
    mutation: Mutation,
    bounds: (usize, usize, usize, usize),
    tlc: (u64, u64, usize),
) {
    let (servers, max_log_len, max_term, max_config_version) = bounds;
    let spec = RaftReconfig::new(servers, max_log_len, max_term, max_config_version)
        .unwrap()
        .with_mutation(mutation);
    let out = explore(
        &spec,
        &Invariants::only(&spec, SAFETY),
        &Options::quiet(2, true),
    )
    .unwrap();
    assert!(out.violation.is_none(), "{mutation} at {bounds:?}");
    assert_eq!(
        (out.stats.generated, out.stats.distinct, out.stats.depth),
        tlc,
        "{mutation} at {bounds:?}"
    );
}

// Each mutation was also applied to a copy of MongoRaftReconfig (a variant `Next` in a module
// extending MCMongoRaftReconfig) and run with TLC at the same bounds, with symmetry: TLC reports
// the same invariant with a trace of the same length in every case below, and the same counts
// where nothing breaks. The conjuncts of `Ind` (all but TypeOK and LogMatching) were checked the
// same way, one at a time, on four mutants at 3 servers, MaxLogLen 1, MaxTerm 2 with symmetry
// (reconfig-skips-oplog-commitment and reconfig-skips-term-quorum-check at MaxConfigVersion 3,
// vote-ignores-config and vote-ignores-log at 2): in all 76 runs TLC and our checker agree on
// whether the conjunct breaks, on the length of the trace when it does (14 of the 19 conjuncts
// break in some mutant) and on generated, distinct and depth when it does not.

/// The classic bug of reconfiguration decoupled from the log. n1, alone in config {n1}, is
/// elected, writes and commits an entry with quorum {n1}; it moves to {n1, n2}, then, without
/// first getting the entry onto a quorum of {n1, n2}, to {n1, n2, n3}; n2 and n3, neither holding
/// the entry, elect n2. It takes a third config version: at MaxConfigVersion 2 no safety property
/// breaks (TLC: 136,477 generated, 13,649 distinct, depth 16, no error). TLC at
/// MaxConfigVersion 3: LeaderCompleteness, 10 states. The inductive invariant sees the danger two
/// steps earlier, as soon as the second reconfig makes {n2, n3} a quorum of an active config
/// without the entry: ActiveConfigsOverlapWithCommittedEntry, 8 states (TLC agrees), already at
/// MaxConfigVersion 2.
#[test]
fn reconfig_without_oplog_commitment_breaks_leader_completeness() {
    let m = Mutation::ReconfigSkipsOplogCommitment;
    assert_mutation_survives(m, (3, 1, 2, 2), (136_477, 13_649, 16));
    let trace = assert_mutation_caught(m, (3, 1, 2, 3), SAFETY, "LeaderCompleteness", 10);
    assert_eq!(
        trace,
        [
            "BecomeLeader(n1, {n1})",
            "ClientRequest(n1)",
            "CommitEntry(n1, {n1})",
            "Reconfig(n1, {n1, n2})",
            "SendConfig(n1, n2)",
            "UpdateTerms(n1, n2)",
            "Reconfig(n1, {n1, n2, n3})",
            "SendConfig(n1, n2)",
            "BecomeLeader(n2, {n2, n3})",
        ]
    );
    assert_mutation_caught(
        m,
        (3, 1, 2, 2),
        &[],
        "ActiveConfigsOverlapWithCommittedEntry",
        8,
    );
}

/// A primary re-elected in term 2 reconfigures on the strength of its term-1 commit, which
/// OplogCommitment no longer checks once it must not have committed in its own term: the same
/// loss as above. TLC: at MaxConfigVersion 2 no error (137,733 generated, 13,649 distinct,
/// depth 16); at 3, LeaderCompleteness, 10 states; with `Ind`'s conjuncts,
/// ActiveConfigsOverlapWithCommittedEntry, 8 states.
#[test]
fn reconfig_before_committing_in_the_term_breaks_leader_completeness() {
    let m = Mutation::OplogCommitmentSkipsTermCommit;
    assert_mutation_survives(m, (3, 1, 2, 2), (137_733, 13_649, 16));
    let trace = assert_mutation_caught(m, (3, 1, 2, 3), SAFETY, "LeaderCompleteness", 10);
    assert_eq!(trace[4], "BecomeLeader(n1, {n1, n2})");
    assert_mutation_caught(
        m,
        (3, 1, 2, 2),
        &[],
        "ActiveConfigsOverlapWithCommittedEntry",
        8,
    );
}

/// A primary of term 1 reconfigures twice while n2 and n3 are still in term 0, then n3 wins
/// term 1 as well. TLC: at MaxConfigVersion 2 no error (120,729 generated, 12,668 distinct,
/// depth 16); at 3, OnePrimaryPerTerm, 7 states; with `Ind`'s conjuncts,
/// ActiveConfigsSafeAtTerms, 5 states.
#[test]
fn reconfig_without_term_quorum_check_breaks_one_primary_per_term() {
    let m = Mutation::ReconfigSkipsTermQuorumCheck;
    assert_mutation_survives(m, (3, 1, 2, 2), (120_729, 12_668, 16));
    assert_mutation_caught(m, (3, 1, 2, 3), SAFETY, "OnePrimaryPerTerm", 7);
    assert_mutation_caught(m, (3, 1, 2, 2), &[], "ActiveConfigsSafeAtTerms", 5);
}

/// Voters that ignore logs elect a leader missing a committed entry. TLC: LeaderCompleteness,
/// 6 states with 3 servers, and already with 2 servers (8 states: n1 commits alone in {n1},
/// moves to {n1, n2}, and n2 wins with n1's vote).
#[test]
fn voting_without_the_log_check_breaks_leader_completeness() {
    let m = Mutation::VoteIgnoresLog;
    let trace = assert_mutation_caught(m, (3, 1, 2, 2), SAFETY, "LeaderCompleteness", 6);
    assert_eq!(trace[4], "BecomeLeader(n3, {n2, n3})");
    assert_mutation_caught(m, (2, 1, 2, 2), SAFETY, "LeaderCompleteness", 8);
}

/// Voters that ignore configs let a server with a stale config win: with 3 servers and
/// MaxConfigVersion 3, two primaries of one term (TLC: OnePrimaryPerTerm, 8 states); at
/// MaxConfigVersion 2, LeaderCompleteness (12 states); 2 servers are safe (TLC: 2,447
/// generated, 478 distinct, depth 9). With `Ind`'s conjuncts: ActiveConfigsOverlap, 7 states.
#[test]
fn voting_without_the_config_check_breaks_one_primary_per_term() {
    let m = Mutation::VoteIgnoresConfig;
    assert_mutation_survives(m, (2, 1, 2, 2), (2_447, 478, 9));
    assert_mutation_caught(m, (3, 1, 2, 3), SAFETY, "OnePrimaryPerTerm", 8);
    assert_mutation_caught(m, (3, 1, 2, 2), SAFETY, "LeaderCompleteness", 12);
    assert_mutation_caught(m, (3, 1, 2, 3), &[], "ActiveConfigsOverlap", 7);
}

// The joint steps, BecomeLeader and UpdateTerms, are `OSM!A /\ CSM!A`: each machine's effect is
// computed on its own copy of the old state, and the step exists only where the two agree on
// `currentTerm`, `state` and `config` (`raft_reconfig::actions::conjoin`). A bug in one half's
// effect on a shared variable then removes steps, as in TLA+: the safety properties alone
// cannot see a missing step, but the counts change, and the composition's own property
// JointStepsAgree (both halves enabled => the joint step enabled) reports the first state
// where a step is lost. (Applied to one copy of the state, as before, the second effect
// overwrote the first, and every mutant below gave exactly the unmutated counts.) These counts
// are this checker's; they were not run with TLC.

/// The unmutated counts, `(generated, distinct, depth)`, with the safety properties only, at
/// 3 servers, MaxLogLen 1, MaxTerm 2, MaxConfigVersion 2, symmetry (TLC's, pinned above), and
/// at the layer's default bounds without symmetry (`refine check raft-reconfig`).
const UNMUTATED_3_1_2_2: (u64, u64, usize) = (125_612, 12_668, 16);
const UNMUTATED_3_2_2_2_NO_SYMMETRY: (u64, u64, usize) = (4_971_847, 470_098, 22);

/// Checks `mutation` with the safety properties only, at `bounds`: no violation (a lost step
/// breaks none of them), and the counts `counts`, which must differ from `unmutated`.
fn assert_steps_lost(
    mutation: Mutation,
    bounds: (usize, usize, usize, usize),
    symmetry: bool,
    counts: (u64, u64, usize),
    unmutated: (u64, u64, usize),
) {
    let (servers, max_log_len, max_term, max_config_version) = bounds;
    let spec = RaftReconfig::new(servers, max_log_len, max_term, max_config_version)
        .unwrap()
        .with_mutation(mutation);
    let out = explore(
        &spec,
        &Invariants::only(&spec, SAFETY),
        &Options::quiet(2, symmetry),
    )
    .unwrap();
    assert!(out.violation.is_none(), "{mutation} at {bounds:?}");
    let got = (out.stats.generated, out.stats.distinct, out.stats.depth);
    assert_eq!(got, counts, "{mutation} at {bounds:?}, symmetry {symmetry}");
    assert_ne!(
        got, unmutated,
        "{mutation}: the lost steps show in the counts"
    );
}

/// BecomeLeader with the voters' terms wrong in one half (only the candidate moves to the new
/// term; the mutation is static-raft's or logless-raft's `voters-keep-their-term`). Alone,
/// either crate breaks OnePrimaryPerTerm in 3 states (see `static_raft.rs`,
/// `logless_raft.rs`). Here the halves disagree on `currentTerm` for every election by more
/// than one voter, so already in the initial state (config {n1, n2, n3}, the canonical one)
/// `BecomeLeader(n1, {n1, n2})` is enabled in both machines but not jointly: JointStepsAgree
/// fails in 1 state. With the safety properties only, no violation: only one-voter elections
/// remain, 42,531 generated / 4,885 distinct / depth 12 (unmutated: 125,612 / 12,668 / 16),
/// and 1,786,693 / 190,627 / 16 at the default bounds without symmetry (unmutated 4,971,847 /
/// 470,098 / 22, the counts the old composition reported for this mutant).
#[test]
fn a_wrong_half_of_become_leader_is_caught() {
    for m in [
        Mutation::OplogVotersKeepTheirTerm,
        Mutation::ConfigVotersKeepTheirTerm,
    ] {
        let trace = assert_mutation_caught(m, (3, 1, 2, 2), &[], "JointStepsAgree", 1);
        assert!(trace.is_empty(), "{m}: {trace:?}");
        assert_steps_lost(
            m,
            (3, 1, 2, 2),
            true,
            (42_531, 4_885, 12),
            UNMUTATED_3_1_2_2,
        );
    }
    assert_steps_lost(
        Mutation::OplogVotersKeepTheirTerm,
        (3, 2, 2, 2),
        false,
        (1_786_693, 190_627, 16),
        UNMUTATED_3_2_2_2_NO_SYMMETRY,
    );
}

/// UpdateTerms that does not step a primary down in one half (static-raft's or logless-raft's
/// `update-terms-keeps-role`). Alone, either crate breaks OnePrimaryPerTerm in 4 states. Here
/// the halves disagree on `state` whenever a primary learns a newer term: n1 is elected by
/// the whole config in term 1, n2 by {n2, n3} in term 2, and `UpdateTerms(n2, n1)` is enabled
/// in both machines but not jointly: JointStepsAgree fails in 3 states. With the safety
/// properties only, no violation (primaries never learn newer terms, they are only voted
/// down): 112,384 / 11,654 / 13, and 4,396,786 / 428,290 / 17 at the default bounds without
/// symmetry.
#[test]
fn a_wrong_half_of_update_terms_is_caught() {
    for m in [
        Mutation::OplogUpdateTermsKeepsRole,
        Mutation::ConfigUpdateTermsKeepsRole,
    ] {
        let trace = assert_mutation_caught(m, (3, 1, 2, 2), &[], "JointStepsAgree", 3);
        assert_eq!(
            trace,
            [
                "BecomeLeader(n1, {n1, n2, n3})",
                "BecomeLeader(n2, {n2, n3})"
            ],
            "{m}"
        );
        assert_steps_lost(
            m,
            (3, 1, 2, 2),
            true,
            (112_384, 11_654, 13),
            UNMUTATED_3_1_2_2,
        );
    }
    assert_steps_lost(
        Mutation::ConfigUpdateTermsKeepsRole,
        (3, 2, 2, 2),
        false,
        (4_396_786, 428_290, 17),
        UNMUTATED_3_2_2_2_NO_SYMMETRY,
    );
}

/// The unmutated layer at its default bounds without symmetry, every invariant (JointStepsAgree
/// included): what `refine check raft-reconfig` reports.
#[test]
fn default_bounds_without_symmetry_hold() {
    assert_counts((3, 2, 2, 2), false, UNMUTATED_3_2_2_2_NO_SYMMETRY);
}

#[test]
fn counterexamples_print_with_tla_variable_names() {
    let spec = RaftReconfig::new(3, 1, 2, 2)
        .unwrap()
        .with_mutation(Mutation::ReconfigSkipsTermQuorumCheck);
    let invariants = Invariants::of(&spec);
    let out = explore(&spec, &invariants, &Options::quiet(1, true)).unwrap();
    let cex = out.violation.expect("caught");
    let text = trace_text(&spec, &invariants, &cex);
    assert!(
        text.contains("invariant ActiveConfigsSafeAtTerms is violated"),
        "{text}"
    );
    assert!(text.contains("<Reconfig("), "{text}");
    let itf = trace_itf(&spec, &invariants, &cex);
    // One ITF variable per TLA+ variable (in the JSON object's key order).
    assert_eq!(
        itf["vars"],
        serde_json::json!([
            "committed",
            "config",
            "configTerm",
            "configVersion",
            "currentTerm",
            "log",
            "state"
        ])
    );
    assert_eq!(itf["states"].as_array().unwrap().len(), 5);
}

/// `RefinesMLDR`: with the oplog forgotten, every step is a stutter or logless-raft's own
/// action. OplogCommitment only restricts the config machine, so dropping it keeps the
/// refinement; voters that ignore configs elect a leader logless-raft would not.
#[test]
fn the_config_machine_refines_logless_raft() {
    let spec = RaftReconfig::new(3, 1, 2, 2).unwrap();
    let mapping = ToLoglessRaft::new(spec);
    let out = explore(
        mapping.lower(),
        &RefinementCheck::new(&mapping),
        &Options::quiet(2, true),
    )
    .unwrap();
    assert!(out.violation.is_none());
    assert_eq!((out.stats.generated, out.stats.distinct), (125_612, 12_668));

    let mutant = RaftReconfig::new(3, 1, 2, 3)
        .unwrap()
        .with_mutation(Mutation::ReconfigSkipsOplogCommitment);
    let mapping = ToLoglessRaft::new(mutant);
    let out = explore(
        mapping.lower(),
        &RefinementCheck::new(&mapping),
        &Options::quiet(2, true),
    )
    .unwrap();
    assert!(out.violation.is_none());

    let mutant = RaftReconfig::new(3, 1, 2, 2)
        .unwrap()
        .with_mutation(Mutation::VoteIgnoresConfig);
    let mapping = ToLoglessRaft::new(mutant);
    let out = explore(
        mapping.lower(),
        &RefinementCheck::new(&mapping),
        &Options::quiet(2, true),
    )
    .unwrap();
    let cex = out.violation.expect("the refinement breaks");
    assert_eq!(cex.failure.kind, FailureKind::Refinement);
    assert!(
        cex.failure.detail.contains("not enabled"),
        "{}",
        cex.failure.detail
    );
    // n1 wins term 1 (stamping its config with term 1); n2, whose config is still of term 0,
    // wins term 2 with n1's vote.
    assert_eq!(
        cex.actions(),
        ["BecomeLeader(n1, {n1, n2})", "BecomeLeader(n2, {n1, n2})"]
    );
}

/// The oplog half seen from the top: committed entries are chosen in Log. It holds at the
/// default bounds (the lower counts are MongoRaftReconfig's own, as `refine check raft-reconfig
/// --symmetry` reports them); with reconfigs that skip the
/// oplog commitment check, the leader that lost a committed entry commits another at the same
/// index, which Log cannot choose.
#[test]
fn the_oplog_machine_refines_log_abstract() {
    let mapping = CommittedAreChosen::new(RaftReconfig::new(3, 2, 2, 2).unwrap()).unwrap();
    let out = explore(
        mapping.lower(),
        &RefinementCheck::new(&mapping),
        &Options::quiet(2, true),
    )
    .unwrap();
    assert!(out.violation.is_none());
    assert_eq!(
        (out.stats.generated, out.stats.distinct, out.stats.depth),
        (841_937, 79_129, 22),
        "MongoRaftReconfig's own counts at 3/L2/T2/CV2 with symmetry"
    );

    let mutant = RaftReconfig::new(3, 1, 2, 3)
        .unwrap()
        .with_mutation(Mutation::ReconfigSkipsOplogCommitment);
    let mapping = CommittedAreChosen::new(mutant).unwrap();
    let out = explore(
        mapping.lower(),
        &RefinementCheck::new(&mapping),
        &Options::quiet(2, true),
    )
    .unwrap();
    let cex = out.violation.expect("the refinement breaks");
    assert_eq!(cex.failure.kind, FailureKind::Refinement);
    assert_eq!(cex.failure.property, "raft-reconfig -> log-abstract");
    assert_eq!(
        cex.failure.detail,
        "CommitEntry(n2, {n2, n3}) is mapped to log-abstract step Next(1..1, [1 :> v2]), \
         which is not enabled in the mapped state: false in its guard: ~\\E e \\in chosen : e[1] = 1"
    );
    // The 10-state LeaderCompleteness trace above, then the new leader n2 writes and commits
    // its own entry at index 1, where term 1's entry is already chosen.
    assert_eq!(
        cex.actions(),
        [
            "BecomeLeader(n1, {n1})",
            "ClientRequest(n1)",
            "CommitEntry(n1, {n1})",
            "Reconfig(n1, {n1, n2})",
            "SendConfig(n1, n2)",
            "UpdateTerms(n1, n2)",
            "Reconfig(n1, {n1, n2, n3})",
            "SendConfig(n1, n2)",
            "BecomeLeader(n2, {n2, n3})",
            "ClientRequest(n2)",
            "GetEntries(n3, n2)",
            "CommitEntry(n2, {n2, n3})",
        ]
    );
}

/// A mapping failure names the upper guard's false conjunct: with voters that skip the config
/// check (`vote-ignores-config`), n3 wins term 2 with n1's vote although n1's config is newer;
/// MongoLoglessDynamicRaft's BecomeLeader is not enabled, and the report says which of its
/// conjuncts is false.
#[test]
fn a_vote_that_ignores_configs_is_refuted_by_the_config_edge_with_the_false_conjunct() {
    let spec = RaftReconfig::new(3, 2, 2, 2)
        .unwrap()
        .with_mutation(Mutation::VoteIgnoresConfig);
    let mapping = ToLoglessRaft::new(spec);
    let out = explore(
        mapping.lower(),
        &RefinementCheck::new(&mapping),
        &Options::quiet(2, false),
    )
    .unwrap();
    assert_eq!((out.stats.generated, out.stats.distinct), (196, 154));
    let cex = out.violation.expect("the refinement breaks");
    assert_eq!(
        cex.actions(),
        ["BecomeLeader(n1, {n1, n3})", "BecomeLeader(n3, {n1, n3})"]
    );
    assert_eq!(
        cex.failure.detail,
        "BecomeLeader(n3, {n1, n3}) is mapped to logless-raft step BecomeLeader(n3, {n1, n3}), \
         which is not enabled in the mapped state: false in its guard: \
         CanVoteForConfig(n1, n3, 2): IsNewerOrEqualConfig(n3, n1)"
    );
}
