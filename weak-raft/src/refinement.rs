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
//! The mapping is log-abstract's ([`log_abstract::CommittedAreChosen`]), which MongoRaftReconfig's
//! oplog part shares.

use crate::{SafeWeakRaft, State};
use log_abstract::CommitHistory;
use spec_core::raft::Committed;

/// MongoSafeWeakRaft -> Log by `chosen <- {<<c.entry[1], c.entry[2]>> : c \in committed}`.
pub type CommittedAreChosen = log_abstract::CommittedAreChosen<SafeWeakRaft>;

impl CommitHistory for SafeWeakRaft {
    fn committed(state: &State) -> Committed {
        state.committed
    }
    fn max_term(&self) -> usize {
        SafeWeakRaft::max_term(self)
    }
    fn max_log_len(&self) -> usize {
        SafeWeakRaft::max_log_len(self)
    }
}
