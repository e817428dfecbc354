//! DistLog widened with one coarse step, `CopyLog(s, t)`: server `s`'s log becomes a copy of
//! server `t`'s, in one step.
//!
//! # Why widen DistLog
//!
//! DistLog moves one entry per step. MongoSafeWeakRaft's MergeEntries copies a whole log at
//! once, so `safe-weak-raft -> distlog` fails on the first merge of two or more entries (see
//! `weak_raft::to_distlog`). The seed notes met the same mismatch one level up and widened Log
//! so that one step may choose a whole block of indices; this module does the same for DistLog.
//!
//! # How much the widening changes, and why it is not a fix
//!
//! A copy is usually a run of DistLog steps taken at once: remove `s`'s entries past the
//! longest prefix it shares with `t`'s log, one at a time, then append `t`'s entries after it,
//! one at a time ([`DistLogWithCopy::as_distlog_steps`]). AppendEntry has no guard but a longer
//! source, and a removed entry is not chosen *unless* every server holds it although `s` and
//! `t` differ at an earlier index. DistLog allows such states: it has no LogMatching. There the
//! copy is a new transition (DistLog's own steps leave `s` stuck), and a safe one for DistLog
//! (it keeps every chosen entry, since `t` holds them all), but not for Log: the copy can make
//! indices 1 and 3 chosen at once around an index 2 chosen before, and Log's `Next` chooses
//! only a block of unchosen indices. So the widened spec keeps ChosenSafety and reaches
//! DistLog's states and no more, yet does not refine Log ([`CopyChosenMapping`] fails, in 8
//! states at DistLog's default bounds). Making it refine Log would take a wider Log still (any
//! set of unchosen indices at once) or a LogMatching guard on the copy: the Raft levels that
//! merge keep LogMatching only at small bounds (MongoSafeWeakRaft breaks it with 3 servers).
//! The tests in `refine/tests/suite/weak_raft_to_distlog.rs` pin all of this.
//!
//! The guard of CopyLog is written as DistLog writes RemoveEntry's: "no chosen entry is lost".
//! It always holds, since `t` is one of the servers that hold every chosen entry; it is stated so
//! that a reader sees what the step must not do.

use crate::{DistLog, DistLogAction, DistLogState, LOG_CAPACITY};
use log_abstract::{Choose, Log, LogState};
use spec_core::itf;
use spec_core::Server;
use spec_core::{Action, Invariant, Params, ParamsError, Refinement, Spec, StepMapping};
use std::fmt;

/// A step of [`DistLogWithCopy`]: a DistLog step, or a copy of a whole log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CopyAction {
    /// A step of DistLog.
    DistLog(DistLogAction),
    /// `CopyLog(s, t)`: `log[s] := log[t]`.
    CopyLog {
        /// The server whose log is replaced.
        s: Server,
        /// The server copied.
        t: Server,
    },
}

impl fmt::Display for CopyAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CopyAction::DistLog(a) => a.fmt(f),
            CopyAction::CopyLog { s, t } => write!(
                f,
                "CopyLog({}, {})",
                itf::server_name(s as usize),
                itf::server_name(t as usize)
            ),
        }
    }
}

impl std::str::FromStr for CopyAction {
    type Err = spec_core::action_text::ParseActionError;

    /// Reads back what `Display` writes: a DistLog action, or `CopyLog(s, t)`.
    fn from_str(text: &str) -> Result<CopyAction, Self::Err> {
        use spec_core::action_text::{parse, server};
        match parse(text, |name, args| match (name, args) {
            ("CopyLog", [s, t]) => Ok(CopyAction::CopyLog {
                s: server(s)?,
                t: server(t)?,
            }),
            _ => Err(String::new()),
        }) {
            Ok(action) => Ok(action),
            Err(_) => text.parse().map(CopyAction::DistLog),
        }
    }
}

impl Action for CopyAction {
    fn name(&self) -> &'static str {
        match self {
            CopyAction::DistLog(a) => a.name(),
            CopyAction::CopyLog { .. } => "CopyLog",
        }
    }
}

/// DistLog plus `CopyLog(s, t)`, at DistLog's bounds.
#[derive(Clone, Debug)]
pub struct DistLogWithCopy {
    base: DistLog,
}

impl DistLogWithCopy {
    /// The widened spec of `base` (its bounds; its mutation, if any, applies to its own steps).
    pub fn new(base: DistLog) -> Self {
        DistLogWithCopy { base }
    }

    /// The DistLog underneath.
    pub fn base(&self) -> &DistLog {
        &self.base
    }

    /// `CopyLog(s, t)`: guard, `s`'s log differs from `t`'s, and no chosen entry is lost (every
    /// index chosen now keeps its value in `log[t]`, which always holds: `t` is a server);
    /// effect, `log[s] := log[t]`.
    pub fn copy_log(&self, state: &DistLogState, s: usize, t: usize) -> Option<DistLogState> {
        let keeps_chosen = (1..=LOG_CAPACITY).all(|index| {
            !self.base.some_chosen_at(state, index)
                || state.log[t].at(index) == state.log[s].at(index)
        });
        if state.log[s] == state.log[t] || !keeps_chosen {
            return None;
        }
        let mut next = *state;
        next.log[s] = state.log[t];
        Some(next)
    }

    /// The run of DistLog steps that a copy stands for: RemoveEntry(s) down to the longest
    /// prefix `s` shares with `t`, then AppendEntry(s, t) up to `t`'s length. Each step is
    /// taken with DistLog's own guard; `None` if one is not enabled.
    pub fn as_distlog_steps(
        &self,
        state: &DistLogState,
        s: usize,
        t: usize,
    ) -> Option<Vec<(DistLogAction, DistLogState)>> {
        let (from, to) = (state.log[s].as_slice(), state.log[t].as_slice());
        let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
        let mut run = Vec::new();
        let mut current = *state;
        for _ in common..from.len() {
            current = self.base.remove_entry(&current, s)?;
            run.push((DistLogAction::RemoveEntry { s: s as u8 }, current));
        }
        for _ in common..to.len() {
            current = self.base.append_entry(&current, s, t)?;
            run.push((
                DistLogAction::AppendEntry {
                    s: s as u8,
                    t: t as u8,
                },
                current,
            ));
        }
        Some(run)
    }
}

impl Spec for DistLogWithCopy {
    type State = DistLogState;
    type Action = CopyAction;

    fn name(&self) -> &'static str {
        "distlog-with-copy"
    }

    fn params(&self) -> Params {
        self.base.params()
    }

    fn action_names(&self) -> &'static [&'static str] {
        &["WriteNewEntry", "AppendEntry", "RemoveEntry", "CopyLog"]
    }

    fn init_states(&self) -> Vec<DistLogState> {
        self.base.init_states()
    }

    /// DistLog's successors in its order, then every `CopyLog(s, t)`.
    fn next_states(&self, state: &DistLogState, out: &mut Vec<(CopyAction, DistLogState)>) {
        let mut base = Vec::new();
        self.base.next_states(state, &mut base);
        out.extend(base.into_iter().map(|(a, s)| (CopyAction::DistLog(a), s)));
        let n = self.base.servers();
        for s in 0..n {
            for t in 0..n {
                if let Some(next) = self.copy_log(state, s, t) {
                    let action = CopyAction::CopyLog {
                        s: s as u8,
                        t: t as u8,
                    };
                    out.push((action, next));
                }
            }
        }
    }

    fn invariants(&self) -> Vec<Invariant<Self>> {
        vec![Invariant {
            name: "ChosenSafety",
            holds: |m, s| crate::chosen_safety(&m.base, s),
        }]
    }

    fn within_constraint(&self, state: &DistLogState) -> bool {
        self.base.within_constraint(state)
    }

    fn has_symmetry(&self) -> bool {
        true
    }

    fn canonical(&self, state: &DistLogState) -> DistLogState {
        self.base.canonical(state)
    }
}

/// DistLog with CopyLog -> Log by `chosen <- AllChosen`, as [`crate::ChosenMapping`]; a step
/// that makes several indices chosen at once (a copy into the last server lacking them) is
/// Log's `Next` for the block from the first to the last of them, which fails when they are
/// not contiguous (see the module docs).
#[derive(Clone, Debug)]
pub struct CopyChosenMapping {
    lower: DistLogWithCopy,
    upper: Log,
}

impl CopyChosenMapping {
    /// The mapping for this instance; the upper Log has indices `1..=MaxLogLen + 1`.
    pub fn new(lower: DistLogWithCopy) -> Result<Self, ParamsError> {
        let base = lower.base();
        let upper = Log::new(base.values(), base.max_log_len() + 1)?;
        Ok(CopyChosenMapping { lower, upper })
    }
}

impl Refinement for CopyChosenMapping {
    type Lower = DistLogWithCopy;
    type Upper = Log;

    fn lower(&self) -> &DistLogWithCopy {
        &self.lower
    }

    fn upper(&self) -> &Log {
        &self.upper
    }

    fn map_state(&self, state: &DistLogState) -> LogState {
        self.lower.base().all_chosen(state, self.upper.max_index())
    }

    fn map_step(
        &self,
        state: &DistLogState,
        _: &CopyAction,
        next: &DistLogState,
    ) -> StepMapping<Choose> {
        Log::step_between(&self.map_state(state), &self.map_state(next))
    }
}

#[cfg(test)]
mod tests {
    /// Every action, DistLog's and CopyLog, prints and parses back.
    #[test]
    fn actions_parse_back() {
        let spec = DistLogWithCopy::new(crate::DistLog::new(2, 2, 2).unwrap());
        let checked = spec_core::action_text::check_round_trips(&spec, usize::MAX).unwrap();
        assert_eq!(checked.names.len(), 4, "{:?}", checked.names);
        assert_eq!(
            "CopyLog(n2, n1)".parse::<CopyAction>(),
            Ok(CopyAction::CopyLog { s: 1, t: 0 })
        );
    }

    use super::*;

    #[test]
    fn a_copy_is_a_run_of_distlog_steps() {
        let m = DistLogWithCopy::new(DistLog::new(2, 2, 3).unwrap());
        let s = m.base().state_with(&[&[0, 1, 1], &[0, 0]]);
        let next = m.copy_log(&s, 0, 1).unwrap();
        let run = m.as_distlog_steps(&s, 0, 1).unwrap();
        let names: Vec<String> = run.iter().map(|(a, _)| a.to_string()).collect();
        assert_eq!(
            names,
            ["RemoveEntry(n1)", "RemoveEntry(n1)", "AppendEntry(n1, n2)"]
        );
        assert_eq!(run.last().unwrap().1, next);
        assert!(m.copy_log(&next, 0, 1).is_none(), "nothing to copy");
    }
}
