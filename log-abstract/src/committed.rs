//! The mapping the MongoDB Raft layers share to Log: their history variable `committed` becomes
//! Log's `chosen`.
//!
//! An entry of a Raft log is identified by its `<<index, term>>` pair, so the mapping sends every
//! record `[entry |-> <<i, t>>, ...]` of `committed` ([`spec_core::raft::Committed`]) to the pair
//! `<<i, vT>>`, where Log's value `vT` stands for "the entry of term `T`". Records are never
//! removed, so the mapped set only grows: a step that commits no new entry is a stutter, a step
//! that commits one is Log's `Next` for the one-index block. A commit of an index where a
//! different entry was already committed has no Log counterpart: that is exactly a
//! StateMachineSafety violation, which such an edge therefore checks at the log level.
//!
//! The upper Log has values `1..=MaxTerm + 1` (terms) and indices `1..=MaxLogLen + 1`, so every
//! successor the checker generates, even just outside the state constraint, maps faithfully.
//! MongoSafeWeakRaft (`weak_raft::CommittedAreChosen`) and MongoRaftReconfig's oplog part
//! (`raft_reconfig::CommittedAreChosen`) are this mapping.

use crate::{Choose, Log, LogState};
use spec_core::raft::Committed;
use spec_core::{ParamsError, Refinement, Spec, StepMapping};

/// A Raft layer whose states carry the history variable `committed`, with its `MaxTerm` and
/// `MaxLogLen`.
pub trait CommitHistory: Spec {
    /// The `committed` records of a state.
    fn committed(state: &Self::State) -> Committed;
    /// The layer's `MaxTerm`.
    fn max_term(&self) -> usize;
    /// The layer's `MaxLogLen`.
    fn max_log_len(&self) -> usize;
}

/// A Raft layer -> Log by `chosen <- {<<c.entry[1], c.entry[2]>> : c \in committed}`.
#[derive(Clone, Debug)]
pub struct CommittedAreChosen<L> {
    lower: L,
    upper: Log,
}

impl<L: CommitHistory> CommittedAreChosen<L> {
    /// The mapping for this instance of the layer, or why its bounds do not fit Log's encoding.
    pub fn new(lower: L) -> Result<Self, ParamsError> {
        let upper = Log::new(lower.max_term() + 1, lower.max_log_len() + 1)?;
        Ok(CommittedAreChosen { lower, upper })
    }
}

impl<L: CommitHistory> Refinement for CommittedAreChosen<L> {
    type Lower = L;
    type Upper = Log;

    fn lower(&self) -> &L {
        &self.lower
    }

    fn upper(&self) -> &Log {
        &self.upper
    }

    fn map_state(&self, state: &L::State) -> LogState {
        let mut chosen = LogState::empty(self.upper.values());
        for c in L::committed(state).iter() {
            chosen.choose(c.index as usize, c.entry_term as usize - 1);
        }
        chosen
    }

    /// A step that commits a new entry chooses its index as a one-index block.
    fn map_step(&self, state: &L::State, _: &L::Action, next: &L::State) -> StepMapping<Choose> {
        Log::step_between(&self.map_state(state), &self.map_state(next))
    }
}
