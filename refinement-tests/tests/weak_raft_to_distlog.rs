//! `safe-weak-raft -> distlog`: does the Raft family refine DistLog, each server's log being
//! DistLog's log of that server? Not MongoSafeWeakRaft: its MergeEntries copies a whole log in
//! one step, and DistLog moves one entry per step. MongoStaticRaft, which never merges, does, so
//! `static-raft -> safe-weak-raft -> distlog -> log-abstract` is a path of the chain. See
//! `weak-raft/src/to_distlog.rs` for the mapping and the argument.

use refinement_tests::{explore, FailureKind, Options, RefinementCheck};
use spec_core::{Composed, Refinement, Spec, StepMapping};
use static_raft::{StaticRaft, WeakRaftMapping};
use std::collections::HashSet;
use weak_raft::{LogsAsDistLog, SafeWeakRaft, Step};

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
        let out = explore(
            composed.lower(),
            &RefinementCheck::new(&composed),
            &Options::quiet(threads, symmetry),
        )
        .unwrap();
        assert!(
            out.violation.is_none(),
            "{:?}",
            out.violation.map(|v| v.failure)
        );
        assert_eq!(
            (out.stats.generated, out.stats.distinct, out.stats.depth),
            counts,
            "{threads} threads, symmetry {symmetry}"
        );
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
    let out = explore(
        composed.lower(),
        &RefinementCheck::new(&composed),
        &Options::quiet(2, false),
    )
    .unwrap();
    assert!(
        out.violation.is_none(),
        "{:?}",
        out.violation.map(|v| v.failure)
    );
    assert_eq!(
        (out.stats.generated, out.stats.distinct, out.stats.depth),
        (75_265, 10_381, 16)
    );
}
