//! The mapping MongoSafeWeakRaft -> DistLog (`safe-weak-raft -> distlog`): each server's log is
//! DistLog's log of that server, and an entry every server holds is chosen.
//!
//! # Why try it
//!
//! DistLog (crate `distlog`) is the level the workspace's order puts directly above the Raft
//! family: per-server logs and nothing else, with three one-entry steps (write a new entry,
//! copy the next entry of a longer log, remove a last entry that is not chosen) and *chosen*
//! meaning "the same value at that index on every server". If a Raft level refines it, the
//! Raft log's own shape (per-server logs that change one entry at a time and never lose a
//! unanimous entry) is checked separately from its commit rule, which the edge to
//! `log-abstract` checks (`CommittedAreChosen`).
//!
//! # The state mapping
//!
//! `log[s]` of MongoSafeWeakRaft becomes `log[s]` of DistLog, with the entry of term `T` written
//! as DistLog's value `vT` (value `T - 1`, 0-based, as `CommittedAreChosen` names entries in
//! Log). Every other variable (terms, roles, configs, `elections`, `committed`) is forgotten:
//! DistLog has no counterpart for them. The upper DistLog has values `v1..v(MaxTerm+1)` (a
//! no-op appended by an election just outside the constraint carries term `MaxTerm + 1`) and
//! `MaxLogLen + 1` as its own log bound, so that every successor the checker generates, even
//! just outside the constraint, maps faithfully.
//!
//! # The step mapping
//!
//! | MongoSafeWeakRaft step | DistLog step |
//! |---|---|
//! | `ClientRequest(i)` | `WriteNewEntry(i, v<currentTerm[i]>)` |
//! | `GetEntries(i, j)` | `AppendEntry(i, j)` |
//! | `RollbackEntries(i, j)` | `RemoveEntry(i)` |
//! | `BecomeLeader(i, Q)` with the no-op | `WriteNewEntry(i, v<newTerm>)` |
//! | `BecomeLeader(i, Q)` without it, `CommitEntry`, `UpdateTerms` | stutter |
//! | `MergeEntries(i, j)` | a stutter, `AppendEntry(j, i)` or `RemoveEntry(j)` when it changes `log[j]` by at most one entry; otherwise **none** |
//!
//! The guards DistLog adds hold on every Raft step, and not by luck: WriteNewEntry needs index
//! `Len(log[i]) + 1` unchosen, and it is, since `i` itself lacks it; RemoveEntry needs the last
//! entry of `log[i]` unchosen, and CanRollback(i, j) asks that `j` has a different entry at that
//! index or is shorter, so `j` is a server without it.
//!
//! # The verdict: the edge does not hold, because of MergeEntries
//!
//! MergeEntries replaces `log[j]` by a copy of `log[i]` in one step: replication and rollback
//! of any number of entries at once. DistLog moves one entry per step, so a merge that changes
//! two or more entries of `log[j]` has no DistLog counterpart, and the checker refutes the edge
//! in four states at two servers (an election with a no-op, a client write, then a merge that
//! copies both entries into an empty log; pinned in
//! `refine/tests/suite/weak_raft_to_distlog.rs`).
//!
//! Nothing unsafe happens in that step: a merge keeps every chosen entry (the source `i` holds
//! it, and the copy is `i`'s log). The failure is one of *atomicity*: MongoSafeWeakRaft is
//! coarser than DistLog, the mismatch the seed notes solved one level up by letting Log's
//! `Next` choose a whole block at once. The analogous widening of DistLog, a step `CopyLog(s,
//! t)` that replaces a log by another (`distlog::copy`), makes this edge hold (see below), but
//! then DistLog no longer refines Log: DistLog has no LogMatching, and a copy can make two
//! indices chosen around a third that already was, which no block step of Log does. So the
//! widening is not a fix, and the path to Log goes through a protocol that does not merge:
//!
//! MongoStaticRaft never merges (its replication is GetEntries and RollbackEntries, one entry at
//! a time). So `static-raft -> safe-weak-raft -> distlog`, the composite that checks this
//! mapping only on the MongoSafeWeakRaft steps that MongoStaticRaft's steps map to, holds, and
//! with `distlog -> log-abstract` it makes `static-raft -> safe-weak-raft -> distlog ->
//! log-abstract` a path of the chain (the `refine` edge `static-raft -> distlog`).
//!
//! # With the widening, the edge holds, even for the unsafe MongoWeakRaft
//!
//! [`MergesAsCopies`] maps to DistLog widened with `CopyLog(s, t)` (`distlog::copy`), a merge
//! being `CopyLog(j, i)` and every other step as above. At every bound tried it holds on
//! MongoSafeWeakRaft and on MongoWeakRaft alike (pinned in
//! `refine/tests/suite/weak_raft_to_distlog.rs`, with the composites on to Log at 2
//! servers), and that is the other lesson of this edge: DistLog's
//! "chosen" (an entry every server holds) is about the shape of logs only, which even the
//! unsafe protocol keeps (no Raft step removes an entry that every server holds). Commit
//! safety, which MongoWeakRaft breaks, is what the edge to `log-abstract` through `committed`
//! (`CommittedAreChosen`) checks.

use crate::{Action, SafeWeakRaft, State, Step};
use distlog::copy::{CopyAction, DistLogWithCopy};
use distlog::{DistLog, DistLogAction, DistLogState, ServerLog};
use log_abstract::Log;
use spec_core::{Layer, Params, ParamsError, Refinement, Spec, StepMapping};

/// MongoSafeWeakRaft -> DistLog by `log <- log`, each entry's term as DistLog's value; see the
/// module docs for why it fails on MergeEntries.
#[derive(Clone, Debug)]
pub struct LogsAsDistLog {
    lower: SafeWeakRaft,
    upper: DistLog,
    /// DistLog's initial state, the template every mapped state is written into (its server
    /// count is private to `distlog`).
    empty: DistLogState,
}

impl LogsAsDistLog {
    /// The mapping for this MongoSafeWeakRaft instance: DistLog with the same servers, values
    /// `v1..v(MaxTerm+1)` and `MaxLogLen + 1`, or why those bounds do not fit DistLog (or the
    /// Log that DistLog maps to).
    pub fn new(lower: SafeWeakRaft) -> Result<Self, ParamsError> {
        let upper = distlog_for(&lower.params())?;
        let empty = upper.init_states()[0];
        Ok(LogsAsDistLog {
            lower,
            upper,
            empty,
        })
    }
}

/// The DistLog a Raft model with these bounds maps to: the same servers, values
/// `v1..v(MaxTerm+1)` and `MaxLogLen + 1`, or why those bounds do not fit DistLog (or the Log
/// that DistLog maps to).
fn distlog_for(raft: &Params) -> Result<DistLog, ParamsError> {
    let (max_term, max_log_len) = (raft.max_term.unwrap_or(0), raft.max_log_len.unwrap_or(0));
    let params = Params {
        servers: raft.servers,
        values: Some(max_term + 1),
        max_log_len: Some(max_log_len + 1),
        ..Params::default()
    };
    let upper = DistLog::from_params(&params)?;
    // distlog's mappings build a Log with one index more; check it fits here, so that composing
    // this edge with them cannot fail on bounds.
    Log::new(upper.values(), upper.max_log_len() + 1)?;
    Ok(upper)
}

/// Each server's log, its entries' terms as DistLog values.
fn distlog_state(empty: &DistLogState, state: &State) -> DistLogState {
    let mut mapped = *empty;
    for s in state.server_ids() {
        let mut log = ServerLog::new();
        for &term in state.log[s].as_slice() {
            log.push(value_of(term));
        }
        mapped.log[s] = log;
    }
    mapped
}

/// DistLog's value for the entry of term `term` (terms start at 1, values at 0).
fn value_of(term: u8) -> u8 {
    debug_assert!(term >= 1, "a log entry has a term of at least 1");
    term - 1
}

impl Refinement for LogsAsDistLog {
    type Lower = SafeWeakRaft;
    type Upper = DistLog;

    fn lower(&self) -> &SafeWeakRaft {
        &self.lower
    }

    fn upper(&self) -> &DistLog {
        &self.upper
    }

    fn map_state(&self, state: &State) -> DistLogState {
        distlog_state(&self.empty, state)
    }

    /// See the table in the module docs.
    fn map_step(&self, state: &State, action: &Action, next: &State) -> StepMapping<DistLogAction> {
        match action.step {
            Step::ClientRequest { i } => StepMapping::Step(DistLogAction::WriteNewEntry {
                s: i,
                v: value_of(state.current_term[usize::from(i)]),
            }),
            Step::GetEntries { i, j } => {
                StepMapping::Step(DistLogAction::AppendEntry { s: i, t: j })
            }
            Step::RollbackEntries { i, .. } => {
                StepMapping::Step(DistLogAction::RemoveEntry { s: i })
            }
            Step::BecomeLeader { i, noop: true, .. } => {
                StepMapping::Step(DistLogAction::WriteNewEntry {
                    s: i,
                    v: value_of(next.current_term[usize::from(i)]),
                })
            }
            Step::BecomeLeader { noop: false, .. }
            | Step::CommitEntry { .. }
            | Step::UpdateTerms { .. } => StepMapping::Stutter,
            Step::MergeEntries { i, j } => {
                let merged = usize::from(j);
                let (before, after) = (state.log[merged].as_slice(), next.log[merged].as_slice());
                if before == after {
                    StepMapping::Stutter
                } else if after.len() == before.len() + 1 && after.starts_with(before) {
                    StepMapping::Step(DistLogAction::AppendEntry { s: j, t: i })
                } else if before.len() == after.len() + 1 && before.starts_with(after) {
                    StepMapping::Step(DistLogAction::RemoveEntry { s: j })
                } else {
                    // Two or more entries change at once: no DistLog step does that, and the
                    // checker's search for a witness says so.
                    StepMapping::Search
                }
            }
        }
    }
}

/// MongoSafeWeakRaft or MongoWeakRaft (`L`) -> DistLog widened with CopyLog: the mapping of
/// [`LogsAsDistLog`], each MergeEntries(i, j) being `CopyLog(j, i)` (or a stutter when it
/// changes nothing); see the module docs.
#[derive(Clone, Debug)]
pub struct MergesAsCopies<L> {
    lower: L,
    upper: DistLogWithCopy,
    narrow: LogsAsDistLog,
}

impl<L: Spec<State = State, Action = Action>> MergesAsCopies<L> {
    /// The mapping for this MongoWeakRaft or MongoSafeWeakRaft instance.
    pub fn new(lower: L) -> Result<Self, ParamsError> {
        let narrow = LogsAsDistLog::new(SafeWeakRaft::from_params(&lower.params())?)?;
        let upper = DistLogWithCopy::new(narrow.upper().clone());
        Ok(MergesAsCopies {
            lower,
            upper,
            narrow,
        })
    }
}

impl<L: Spec<State = State, Action = Action>> Refinement for MergesAsCopies<L> {
    type Lower = L;
    type Upper = DistLogWithCopy;

    fn lower(&self) -> &L {
        &self.lower
    }

    fn upper(&self) -> &DistLogWithCopy {
        &self.upper
    }

    fn map_state(&self, state: &State) -> DistLogState {
        self.narrow.map_state(state)
    }

    fn map_step(&self, state: &State, action: &Action, next: &State) -> StepMapping<CopyAction> {
        match action.step {
            Step::MergeEntries { i, j }
                if state.log[usize::from(j)] != next.log[usize::from(j)] =>
            {
                StepMapping::Step(CopyAction::CopyLog { s: j, t: i })
            }
            _ => match self.narrow.map_step(state, action, next) {
                StepMapping::Step(a) => StepMapping::Step(CopyAction::DistLog(a)),
                StepMapping::Stutter => StepMapping::Stutter,
                StepMapping::Search => StepMapping::Search,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ChangeConfig;
    use spec_core::{Role, ServerSet};

    fn keep_configs(state: &State, step: Step) -> Action {
        Action {
            step,
            change_config: ChangeConfig {
                i: 0,
                new_config: state.config[0],
            },
        }
    }

    #[test]
    fn logs_map_to_values_one_below_their_terms() {
        let mapping = LogsAsDistLog::new(SafeWeakRaft::new(2, 2, 2).unwrap()).unwrap();
        let mut s = State::initial(2, ServerSet::all(2));
        s.log[0] = crate::Log::from_slice(&[1, 2]);
        s.log[1] = crate::Log::from_slice(&[1]);
        assert_eq!(
            mapping.map_state(&s),
            mapping.upper().state_with(&[&[0, 1], &[0]])
        );
        assert_eq!(mapping.upper().values(), 3);
        assert_eq!(mapping.upper().max_log_len(), 3);
    }

    #[test]
    fn a_merge_of_one_entry_is_a_distlog_step_and_of_two_is_not() {
        let mapping = LogsAsDistLog::new(SafeWeakRaft::new(2, 2, 2).unwrap()).unwrap();
        let mut s = State::initial(2, ServerSet::all(2));
        s.current_term = [1, 1, 0, 0, 0];
        s.state[0] = Role::Primary;
        s.log[0] = crate::Log::from_slice(&[1]);
        let merge = keep_configs(&s, Step::MergeEntries { i: 0, j: 1 });
        let mut next = s;
        next.log[1] = s.log[0];
        assert_eq!(
            mapping.implements(&s, &merge, &next),
            Ok(Some(DistLogAction::AppendEntry { s: 1, t: 0 }))
        );
        s.log[0] = crate::Log::from_slice(&[1, 1]);
        next.log[1] = s.log[0];
        let why = mapping.implements(&s, &merge, &next).unwrap_err();
        assert!(why.contains("no distlog step leads"), "{why}");
    }

    #[test]
    fn the_largest_bounds_fit_both_encodings() {
        // MaxTerm 5 and MaxLogLen 5, the most MongoSafeWeakRaft takes, fit DistLog and the Log
        // above it, so every bound the lower level accepts builds this edge.
        assert!(LogsAsDistLog::new(SafeWeakRaft::new(5, 5, 5).unwrap()).is_ok());
    }
}
