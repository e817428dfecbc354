//! `safe-weak-raft -> distlog`: does the Raft family refine DistLog, each server's log being
//! DistLog's log of that server? Not MongoSafeWeakRaft: its MergeEntries copies a whole log in
//! one step, and DistLog moves one entry per step. MongoStaticRaft, which never merges, does, so
//! `static-raft -> safe-weak-raft -> distlog -> log-abstract` is a path of the chain. See
//! `weak-raft/src/to_distlog.rs` for the mapping and the argument.

use distlog::copy::{CopyAction, CopyChosenMapping, DistLogWithCopy};
use refinement_tests::{explore, FailureKind, Options, RefinementCheck};
use spec_core::{Composed, Refinement, Spec, StepMapping};
use static_raft::{StaticRaft, WeakRaftMapping};
use std::collections::HashSet;
use weak_raft::to_distlog::MergesAsCopies;
use weak_raft::{LogsAsDistLog, SafeWeakRaft, Step, WeakRaft};

const COPIES_AT_3_3_3: (u64, u64) = (342_972, 31_428);

/// Checks `mapping` on every reachable transition of its lower level and expects it to hold,
/// with these (generated, distinct, depth).
fn assert_holds<R: Refinement>(
    mapping: &R,
    threads: usize,
    symmetry: bool,
    counts: (u64, u64, usize),
) {
    let out = explore(
        mapping.lower(),
        &RefinementCheck::new(mapping),
        &Options::quiet(threads, symmetry),
    )
    .unwrap();
    assert!(
        out.violation.is_none(),
        "{}: {:?}",
        mapping.name(),
        out.violation.map(|v| v.failure)
    );
    assert_eq!(
        (out.stats.generated, out.stats.distinct, out.stats.depth),
        counts,
        "{} with {threads} threads, symmetry {symmetry}",
        mapping.name()
    );
}

/// The shortest counterexample, at MongoSafeWeakRaft's default bounds (2 servers, MaxTerm 2,
/// MaxLogLen 2): n1 is elected alone (config {n1}) with a no-op, takes a write, and merges its
/// two entries into n2's empty log. The same with 1 and 2 threads.
#[test]
fn a_merge_of_two_entries_has_no_distlog_step() {
    let mapping = LogsAsDistLog::new(SafeWeakRaft::new(2, 2, 2).unwrap()).unwrap();
    assert_eq!(mapping.name(), "safe-weak-raft -> distlog");
    for threads in [1, 2] {
        let out = explore(
            mapping.lower(),
            &RefinementCheck::new(&mapping),
            &Options::quiet(threads, false),
        )
        .unwrap();
        let cex = out.violation.expect("the edge fails");
        assert_eq!(cex.failure.kind, FailureKind::Refinement);
        assert_eq!(cex.failure.property, "safe-weak-raft -> distlog");
        assert_eq!(cex.steps.len(), 4);
        assert_eq!(
            cex.actions(),
            [
                r"BecomeLeader(n1, {n1}, no-op) /\ ChangeConfig(n1, {n1, n2})",
                r"ClientRequest(n1) /\ ChangeConfig(n1, {n1})",
                r"MergeEntries(n1, n2) /\ ChangeConfig(n1, {n1})",
            ]
        );
        assert_eq!(
            cex.failure.detail,
            r"MergeEntries(n1, n2) /\ ChangeConfig(n1, {n1}) changes the mapped distlog state, and no distlog step leads from the mapped state to the mapped next state"
        );
        let last = &cex.steps[3].state;
        assert_eq!(
            mapping.map_state(last),
            mapping.upper().state_with(&[&[0, 0], &[0, 0]])
        );
    }
}

/// The merge is the only reason: on every reachable transition of MongoSafeWeakRaft at its
/// default bounds, the mapping holds, except exactly for the merges that change two or more
/// entries of the target log (a merge of one entry is an AppendEntry or a RemoveEntry). Of
/// 86,176 transitions (TLC's 86,179 generated, less the 3 initial states), 6,600 fail, each
/// such a merge, and 6,456 merges of one entry map to a DistLog step (the counts include the 21
/// config changes each protocol step comes with).
#[test]
fn only_merges_of_several_entries_fail() {
    let mapping = LogsAsDistLog::new(SafeWeakRaft::new(2, 2, 2).unwrap()).unwrap();
    let spec = mapping.lower();
    let mut seen: HashSet<_> = spec.init_states().into_iter().collect();
    let mut todo: Vec<_> = seen.iter().copied().collect();
    let (mut transitions, mut failing, mut single_entry_merges) = (0u64, 0u64, 0u64);
    let mut successors = Vec::new();
    while let Some(state) = todo.pop() {
        successors.clear();
        spec.next_states(&state, &mut successors);
        for (action, next) in &successors {
            transitions += 1;
            let holds = mapping.implements(&state, action, next).is_ok();
            let several = match action.step {
                Step::MergeEntries { j, .. } => {
                    let mapped = mapping.map_step(&state, action, next);
                    single_entry_merges += u64::from(matches!(mapped, StepMapping::Step(_)));
                    let j = usize::from(j);
                    let (before, after) = (state.log[j].as_slice(), next.log[j].as_slice());
                    let common = before.iter().zip(after).take_while(|(a, b)| a == b).count();
                    (before.len() - common) + (after.len() - common) >= 2
                }
                _ => false,
            };
            assert_eq!(holds, !several, "{action} from {state:?}");
            failing += u64::from(several);
            if spec.within_constraint(next) && seen.insert(*next) {
                todo.push(*next);
            }
        }
    }
    assert_eq!(
        seen.len(),
        3_813,
        "MongoSafeWeakRaft's distinct states at 2, 2, 2"
    );
    assert_eq!(
        (transitions, failing, single_entry_merges),
        (86_179 - 3, 6_600, 6_456)
    );
}

/// MongoStaticRaft maps through MongoSafeWeakRaft to DistLog at its default bounds (3 servers,
/// MaxTerm 2, MaxLogLen 2): every step of it implements a MongoSafeWeakRaft step, and that
/// step a DistLog step or a stutter. The counts are those of MongoStaticRaft with its
/// `elections` history variable, as for `static-raft -> safe-weak-raft`.
#[test]
fn static_raft_refines_distlog_through_safe_weak_raft() {
    let first = WeakRaftMapping::new(StaticRaft::new(3, 2, 2).unwrap()).unwrap();
    let second = LogsAsDistLog::new(first.upper().clone()).unwrap();
    let composed = Composed::new(first, second);
    assert_eq!(composed.name(), "static-raft -> safe-weak-raft -> distlog");
    for (threads, symmetry, counts) in [
        (1, false, (75_265, 10_381, 16)),
        (2, false, (75_265, 10_381, 16)),
        (2, true, (13_164, 1_836, 16)),
    ] {
        assert_holds(&composed, threads, symmetry, counts);
    }
}

/// The whole path `static-raft -> safe-weak-raft -> distlog -> log-abstract`, edge by edge on
/// every MongoStaticRaft step: Log's chosen set is here the entries every server holds, not the
/// committed ones (the other path, through `CommittedAreChosen`).
#[test]
fn static_raft_reaches_log_through_distlog() {
    let first = WeakRaftMapping::new(StaticRaft::new(3, 2, 2).unwrap()).unwrap();
    let second = LogsAsDistLog::new(first.upper().clone()).unwrap();
    let third = distlog::ChosenMapping::new(second.upper().clone());
    let composed = Composed::new(Composed::new(first, second), third);
    assert_eq!(
        composed.name(),
        "static-raft -> safe-weak-raft -> distlog -> log-abstract"
    );
    assert_holds(&composed, 2, false, (75_265, 10_381, 16));
}

// ---------------------------------------------------------------------------------------------
// DistLog widened with CopyLog (distlog::copy): the edge holds, for the unsafe spec too
// ---------------------------------------------------------------------------------------------

/// With DistLog widened by `CopyLog(s, t)`, each merge is one copy, and the edge holds on every
/// transition of MongoSafeWeakRaft (2 servers, MaxTerm 2, MaxLogLen 2; 3 servers, MaxTerm 1,
/// MaxLogLen 1 with symmetry) and of the unsafe MongoWeakRaft (2, 2, 2), whose counts are those
/// of the lower level (TLC's, pinned in weak_raft.rs). DistLog's chosen entries are unanimous
/// ones, and no step of either spec removes one: the level constrains the shape of logs, not
/// commits.
#[test]
fn with_copy_log_the_raft_family_refines_distlog() {
    let safe = MergesAsCopies::new(SafeWeakRaft::new(2, 2, 2).unwrap()).unwrap();
    assert_eq!(safe.name(), "safe-weak-raft -> distlog-with-copy");
    for threads in [1, 2] {
        assert_holds(&safe, threads, false, (86_179, 3_813, 9));
    }
    let safe3 = MergesAsCopies::new(SafeWeakRaft::new(3, 1, 1).unwrap()).unwrap();
    assert_holds(&safe3, 2, true, (535_511, 4_012, 6));
    let unsafe_spec = MergesAsCopies::new(WeakRaft::new(2, 2, 2).unwrap()).unwrap();
    assert_eq!(unsafe_spec.name(), "weak-raft -> distlog-with-copy");
    assert_holds(&unsafe_spec, 2, false, (780_657, 24_519, 13));
}

/// How far the widening goes, at DistLog's default bounds (3 servers, 3 values, MaxLogLen 3):
/// the widened spec reaches DistLog's 64,000 states and no more; a reachable CopyLog is a run
/// of enabled DistLog steps ending in the same state (342,972 of them), except where a chosen
/// entry lies past the prefix the two logs share (31,428), where that run would remove it; and
/// there the widened spec stops refining Log: the shortest counterexample, 8 states, chooses
/// two indices around a chosen one in one step.
#[test]
fn copy_log_is_a_run_of_distlog_steps_and_refines_log() {
    let base = distlog::DistLog::new(3, 3, 3).unwrap();
    let widened = DistLogWithCopy::new(base.clone());
    let mut seen: HashSet<_> = widened.init_states().into_iter().collect();
    let mut todo: Vec<_> = seen.iter().copied().collect();
    // (copies that are a run of DistLog steps, copies past a chosen entry)
    let mut copies = (0u64, 0u64);
    let mut successors = Vec::new();
    while let Some(state) = todo.pop() {
        successors.clear();
        widened.next_states(&state, &mut successors);
        for (action, next) in &successors {
            if let CopyAction::CopyLog { s, t } = *action {
                let (s, t) = (s as usize, t as usize);
                match widened.as_distlog_steps(&state, s, t) {
                    Some(run) => {
                        assert_eq!(run.last().map(|(_, last)| *last), Some(*next));
                        copies.0 += 1;
                    }
                    None => {
                        let (from, to) = (state.log[s].as_slice(), state.log[t].as_slice());
                        let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
                        assert!(
                            (common + 1..=from.len()).any(|k| base.some_chosen_at(&state, k)),
                            "{action} from {state:?}"
                        );
                        copies.1 += 1;
                    }
                }
            }
            if widened.within_constraint(next) && seen.insert(*next) {
                todo.push(*next);
            }
        }
    }
    assert_eq!(
        seen.len(),
        64_000,
        "DistLog's distinct states (TLC: 64,000)"
    );
    assert_eq!(copies, COPIES_AT_3_3_3);

    let mapping = CopyChosenMapping::new(widened).unwrap();
    let out = explore(
        mapping.lower(),
        &RefinementCheck::new(&mapping),
        &Options::quiet(2, false),
    )
    .unwrap();
    let cex = out
        .violation
        .expect("the widened DistLog does not refine Log");
    assert_eq!(
        cex.actions(),
        [
            "WriteNewEntry(n3, v1)",
            "WriteNewEntry(n3, v2)",
            "WriteNewEntry(n3, v2)",
            "WriteNewEntry(n2, v3)",
            "CopyLog(n1, n3)",
            "WriteNewEntry(n2, v2)",
            "CopyLog(n2, n1)",
        ]
    );
    // Before the last step index 2 is chosen (v2 everywhere) though n2's index 1 differs
    // (<<v3, v2>>): DistLog allows it, having no LogMatching. DistLog's own steps leave n2
    // stuck there (removing its v2 would remove a chosen entry); the copy makes 1 and 3 chosen
    // at once, around 2, and Log chooses only blocks of unchosen indices.
    let before = &cex.steps[6].state;
    assert_eq!(before.logs()[1].as_slice(), [2, 1]);
    assert_eq!(
        cex.failure.detail,
        r"CopyLog(n2, n1) is mapped to log-abstract step Next(1..3, [1 :> v1, 2 :> v2]), which is not enabled in the mapped state: false in its guard: DOMAIN f = 1..3 (f has 2 values); ~\E e \in chosen : e[1] = 2"
    );
}

/// Through the widened DistLog to Log, at 2 servers, MaxTerm 2, MaxLogLen 2: both
/// `safe-weak-raft -> distlog-with-copy -> log-abstract` and, for the unsafe spec, `weak-raft ->
/// distlog-with-copy -> log-abstract` hold. Log's chosen entries are here the unanimous ones,
/// which MongoWeakRaft never loses; the commits it does lose are what `CommittedAreChosen`
/// maps (`refine check weak-raft`: StateMachineSafety, 5 states).
#[test]
fn through_the_widened_distlog_to_log() {
    let first = MergesAsCopies::new(SafeWeakRaft::new(2, 2, 2).unwrap()).unwrap();
    let second = CopyChosenMapping::new(first.upper().clone()).unwrap();
    let composed = Composed::new(first, second);
    assert_holds(&composed, 2, false, (86_179, 3_813, 9));

    let first = MergesAsCopies::new(WeakRaft::new(2, 2, 2).unwrap()).unwrap();
    let second = CopyChosenMapping::new(first.upper().clone()).unwrap();
    let composed = Composed::new(first, second);
    assert_holds(&composed, 2, false, (780_657, 24_519, 13));
}
