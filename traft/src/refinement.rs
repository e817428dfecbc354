//! The refinement TRaft -> Log (`traft -> log-abstract`): committed entries are chosen.
//!
//! An entry of a TRaft log is identified by its `<<index, author>>` pair, the author being the
//! leader id that wrote it, so the mapping sends the history variable `committed` to Log's
//! `chosen`: `<<k, (t, n)>>` becomes `<<k, v>>` with Log's value `v` numbering the author,
//! `(t - 1) * servers + n` (0-based; printed `v1` for `(1, n1)`). Records are never removed, so
//! a step commits nothing new (a stutter) or one entry (Log's `Next` for a one-index block); a
//! second entry committed at a chosen index has no Log step, so the edge checks
//! StateMachineSafety at the log level.
//!
//! Log has values `1..=servers * MaxTerm` (the authors of entries written in states inside the
//! constraint) and indices `1..=MaxLogLen` (commits happen in such states too). Log names at
//! most 8 values, so the edge takes `servers * MaxTerm <= 8` (3 servers with MaxTerm 2, 2 with
//! MaxTerm 4, 4 with MaxTerm 2): other bounds are refused with a [`ParamsError`].

use crate::{Action, Ballot, State, Traft};
use log_abstract::{Choose, Log, LogState};
use spec_core::{Bound, ParamsError, Refinement, StepMapping};

/// TRaft -> Log by `chosen <- {<<k, author>> : committed}`.
#[derive(Clone, Debug)]
pub struct CommittedAreChosen {
    lower: Traft,
    upper: Log,
}

impl CommittedAreChosen {
    /// The mapping for this TRaft instance, or why its bounds do not fit Log's encoding.
    pub fn new(lower: Traft) -> Result<Self, ParamsError> {
        let values = lower.servers() * lower.max_term().max(1);
        if values > 8 {
            return Err(ParamsError::OutOfRange {
                layer: "traft -> log-abstract",
                bound: Bound::MaxTerm,
                value: lower.max_term(),
                min: 0,
                max: 8 / lower.servers(),
                why: "Log's values name the entries' authors, servers * MaxTerm of them, and Log \
                      names at most 8 values",
            });
        }
        let upper = Log::new(values, lower.max_log_len().max(1))?;
        Ok(CommittedAreChosen { lower, upper })
    }

    /// Log's value for the entry authored by `author`.
    pub fn value_of(&self, author: Ballot) -> usize {
        (author.term() as usize - 1) * self.lower.servers() + author.id()
    }
}

impl Refinement for CommittedAreChosen {
    type Lower = Traft;
    type Upper = Log;

    fn lower(&self) -> &Traft {
        &self.lower
    }

    fn upper(&self) -> &Log {
        &self.upper
    }

    fn map_state(&self, state: &State) -> LogState {
        let mut chosen = LogState::empty(self.upper.values());
        for c in state.committed.iter() {
            chosen.choose(c.index, self.value_of(c.author));
        }
        chosen
    }

    /// A step that commits a new entry chooses its index as a one-index block.
    fn map_step(&self, state: &State, _: &Action, next: &State) -> StepMapping<Choose> {
        Log::step_between(&self.map_state(state), &self.map_state(next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_whose_authors_do_not_fit_log_are_refused() {
        let e = CommittedAreChosen::new(Traft::new(3, 3, 2).unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "layer traft -> log-abstract: --max-term 3 is out of range 0..=2 (Log's values name \
             the entries' authors, servers * MaxTerm of them, and Log names at most 8 values)"
        );
        let m = CommittedAreChosen::new(Traft::new(3, 2, 2).unwrap()).unwrap();
        assert_eq!((m.upper().values(), m.upper().max_index()), (6, 2));
        assert_eq!(m.value_of(Ballot::new(2, 1)), 4);
    }
}
