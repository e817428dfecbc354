//! The refinement MongoSafeWeakRaft -> Log: committed entries are chosen.
//!
//! An entry of a Raft log is identified by its `<<index, term>>` pair, so the mapping sends the
//! history variable `committed` to Log's `chosen`: every record `[entry |-> <<i, t>>, ...]`
//! becomes the pair `<<i, vT>>`, where Log's value `vT` stands for "the entry of term `T`".
//! Records are never removed, so the mapped set only grows: a step that commits no new entry is a
//! stutter, a step that commits one is Log's `Next` for the one-index block. A commit of an index
//! where a different entry was already committed has no Log counterpart: that is exactly a
//! StateMachineSafety violation, which this edge therefore checks at the log level.
//!
//! The upper Log has values `1..=MaxTerm + 1` (terms) and indices `1..=MaxLogLen + 1`, so every
//! successor the checker generates, even just outside the state constraint, maps faithfully.

use crate::{Action, SafeWeakRaft, State};
use log_abstract::{Choose, Log, LogState};
use spec_core::{ParamsError, Refinement, StepMapping};

/// MongoSafeWeakRaft -> Log by `chosen <- {<<c.entry[1], c.entry[2]>> : c \in committed}`.
#[derive(Clone, Debug)]
pub struct CommittedAreChosen {
    lower: SafeWeakRaft,
    upper: Log,
}

impl CommittedAreChosen {
    /// The mapping for this MongoSafeWeakRaft instance, or why its bounds do not fit Log's
    /// encoding.
    pub fn new(lower: SafeWeakRaft) -> Result<Self, ParamsError> {
        let upper = Log::new(lower.max_term() + 1, lower.max_log_len() + 1)?;
        Ok(CommittedAreChosen { lower, upper })
    }
}

impl Refinement for CommittedAreChosen {
    type Lower = SafeWeakRaft;
    type Upper = Log;

    fn lower(&self) -> &SafeWeakRaft {
        &self.lower
    }

    fn upper(&self) -> &Log {
        &self.upper
    }

    fn map_state(&self, state: &State) -> LogState {
        let mut chosen = LogState::empty(self.upper.values());
        for c in state.committed.iter() {
            chosen.choose(c.index as usize, c.entry_term as usize - 1);
        }
        chosen
    }

    /// A step that commits a new entry chooses its index as a one-index block.
    fn map_step(&self, state: &State, _: &Action, next: &State) -> StepMapping<Choose> {
        Log::step_between(&self.map_state(state), &self.map_state(next))
    }
}
