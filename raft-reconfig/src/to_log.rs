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
//! The upper Log has values `1..=MaxTerm + 1` and indices `1..=MaxLogLen + 1`, so that successors
//! just outside the state constraint map faithfully too.

use crate::{Action, RaftReconfig, State};
use log_abstract::{Choose, Log, LogState};
use spec_core::{ParamsError, Refinement, StepMapping};

/// MongoRaftReconfig -> Log by `chosen <- {<<c.entry[1], c.entry[2]>> : c \in committed}`.
#[derive(Clone, Debug)]
pub struct CommittedAreChosen {
    lower: RaftReconfig,
    upper: Log,
}

impl CommittedAreChosen {
    /// The mapping for this instance, or why its bounds do not fit Log's encoding.
    pub fn new(lower: RaftReconfig) -> Result<Self, ParamsError> {
        let upper = Log::new(lower.max_term() + 1, lower.max_log_len() + 1)?;
        Ok(CommittedAreChosen { lower, upper })
    }
}

impl Refinement for CommittedAreChosen {
    type Lower = RaftReconfig;
    type Upper = Log;

    fn lower(&self) -> &RaftReconfig {
        &self.lower
    }

    fn upper(&self) -> &Log {
        &self.upper
    }

    fn map_state(&self, state: &State) -> LogState {
        self.upper.state_with(
            state
                .committed
                .iter()
                .map(|c| (c.index as usize, c.entry_term as usize - 1)),
        )
    }

    /// A step that commits a new entry chooses its index as a one-index block.
    fn map_step(&self, state: &State, _: &Action, next: &State) -> StepMapping<Choose> {
        Log::step_between(&self.map_state(state), &self.map_state(next))
    }
}
