//! The refinement MongoRaftReconfig -> Log: the oplog state machine's committed entries are
//! chosen.
//!
//! The config part of MongoRaftReconfig refines MongoLoglessDynamicRaft
//! ([`ToLoglessRaft`](crate::ToLoglessRaft)); this is the other half, the oplog part seen from
//! the top of the graph. The mapping is the one MongoSafeWeakRaft uses
//! (`weak_raft::CommittedAreChosen`): the history variable `committed` becomes Log's `chosen`,
//! each record `[entry |-> <<i, t>>, ...]` the pair `<<i, vT>>` (value `vT`: "the entry of term
//! `T`"). A step that commits no new entry (every config step, every other oplog step) is a
//! stutter; a commit is Log's `Next` for a one-index block, enabled only if no other entry was
//! chosen at that index. So this edge checks StateMachineSafety at the log level, while configs
//! change under the oplog: the property the whole reconfiguration protocol exists to keep.
//!
//! The mapping is log-abstract's ([`log_abstract::CommittedAreChosen`]). The upper Log has
//! values `1..=MaxTerm + 1` and indices `1..=MaxLogLen + 1`, so that successors just outside the
//! state constraint map faithfully too.

use crate::{RaftReconfig, State};
use log_abstract::CommitHistory;
use spec_core::raft::Committed;

/// MongoRaftReconfig -> Log by `chosen <- {<<c.entry[1], c.entry[2]>> : c \in committed}`.
pub type CommittedAreChosen = log_abstract::CommittedAreChosen<RaftReconfig>;

impl CommitHistory for RaftReconfig {
    fn committed(state: &State) -> Committed {
        state.committed
    }
    fn max_term(&self) -> usize {
        RaftReconfig::max_term(self)
    }
    fn max_log_len(&self) -> usize {
        RaftReconfig::max_log_len(self)
    }
}
