//! The mappings from the message level up.
//!
//! - [`CommittedAreChosen`]: message-raft -> Log. The history variable `committed` (a record
//!   per entry a primary committed, in the primary's term) becomes Log's `chosen`, as
//!   raft-reconfig's own edge to Log maps it. A step that commits nothing stutters; a commit is
//!   Log's step for a one-index block, enabled only if no other entry was chosen at that index.
//!   So this edge checks StateMachineSafety at the top of the chain, for the implementation's
//!   logic under message loss, duplication and restarts.
//! - [`ToRaftReconfig`]: message-raft -> raft-reconfig, the mapping a reader expects first:
//!   each node's variables are MongoRaftReconfig's at that server (a Candidate is a Secondary),
//!   the messages in flight are forgotten, and every step is a stutter or some raft-reconfig
//!   step (the checker searches for it). The checker refutes it; the crate README shows the
//!   counterexamples and what they say about the path up.
//! - [`ToAsyncReconfig`]: message-raft -> async-reconfig, the path up that holds: the same
//!   per-server variables (and `votedFor`), the network forgotten, and async-reconfig's history
//!   variables recorded along the behaviour (message-raft run with the history,
//!   `async_reconfig::WithHistory`). The facts a message carries were true of its sender when
//!   it was sent, so they are in the history when it arrives.

use async_reconfig::refinement::{HistoryMapping, Recordable};
use async_reconfig::AsyncReconfig;
use log_abstract::{Choose, Log, LogState};
use raft_reconfig::RaftReconfig;
use spec_core::{ParamsError, Refinement, Role, StepMapping};

use crate::node::{NodeRole, NOBODY};
use crate::{Action, MessageRaft, State};

/// message-raft -> Log by `chosen <- {<<c.entry[1], c.entry[2]>> : c \in committed}`.
#[derive(Clone, Debug)]
pub struct CommittedAreChosen {
    lower: MessageRaft,
    upper: Log,
}

impl CommittedAreChosen {
    /// The mapping for this instance. Log has values `1..=MaxTerm + 1` (value `t` is "the
    /// entry of term `t`") and indices `1..=MaxLogLen + 1`, so that successors just outside
    /// the state constraint map faithfully too.
    pub fn new(lower: MessageRaft) -> Result<Self, ParamsError> {
        let upper = Log::new(lower.max_term() + 1, lower.max_log_len() + 1)?;
        Ok(CommittedAreChosen { lower, upper })
    }
}

impl Refinement for CommittedAreChosen {
    type Lower = MessageRaft;
    type Upper = Log;

    fn lower(&self) -> &MessageRaft {
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

/// message-raft -> raft-reconfig by the nodes' own variables (see the module docs).
#[derive(Clone, Debug)]
pub struct ToRaftReconfig {
    lower: MessageRaft,
    upper: RaftReconfig,
}

impl ToRaftReconfig {
    /// The mapping for this instance; raft-reconfig at the same bounds plus one (its bounds
    /// only cut its own searches; steps are checked whatever they are).
    pub fn new(lower: MessageRaft) -> Result<Self, ParamsError> {
        let upper = RaftReconfig::new(
            lower.servers(),
            lower.max_log_len() + 1,
            lower.max_term() + 1,
            lower.max_config_version() + 1,
        )?;
        Ok(ToRaftReconfig { lower, upper })
    }
}

impl Refinement for ToRaftReconfig {
    type Lower = MessageRaft;
    type Upper = RaftReconfig;

    fn lower(&self) -> &MessageRaft {
        &self.lower
    }

    fn upper(&self) -> &RaftReconfig {
        &self.upper
    }

    fn map_state(&self, state: &State) -> raft_reconfig::State {
        reconfig_variables(state)
    }
}

/// Each node's MongoRaftReconfig variables at that server (a Candidate is a Secondary), and
/// `committed`.
pub fn reconfig_variables(state: &State) -> raft_reconfig::State {
    let n = state.servers as usize;
    let mut out = raft_reconfig::State::initial(n, spec_core::ServerSet::all(n));
    for i in state.server_ids() {
        let node = &state.nodes[i];
        out.current_term[i] = node.term;
        out.state[i] = if node.role == NodeRole::Primary {
            Role::Primary
        } else {
            Role::Secondary
        };
        out.config[i] = node.config;
        out.config_version[i] = node.config_version;
        out.config_term[i] = node.config_term;
        out.log[i] = node.log;
    }
    out.committed = state.committed;
    out
}

/// Each node's `votedFor`, plus one (0: none).
fn voted_for(state: &State) -> [u8; async_reconfig::state::MAX_SERVERS] {
    let mut out = [0; async_reconfig::state::MAX_SERVERS];
    for i in state.server_ids() {
        let v = state.nodes[i].voted_for;
        out[i] = if v == NOBODY { 0 } else { v + 1 };
    }
    out
}

/// The nodes' variables are MongoRaftReconfig's, and their `votedFor` is async-reconfig's.
impl Recordable for MessageRaft {
    fn core(&self, state: &State) -> raft_reconfig::State {
        reconfig_variables(state)
    }

    fn voted_for(
        &self,
        _: &State,
        _: [u8; async_reconfig::state::MAX_SERVERS],
        _: &Action,
        next: &State,
    ) -> [u8; async_reconfig::state::MAX_SERVERS] {
        voted_for(next)
    }

    fn initial_voted_for(&self, state: &State) -> [u8; async_reconfig::state::MAX_SERVERS] {
        voted_for(state)
    }

    /// Renames the nodes, the servers their variables name and the messages' ends (the
    /// renaming message-raft's own symmetry reduction uses).
    fn permute(&self, state: &State, rename: &spec_core::symmetry::Rename) -> State {
        crate::symmetry::permute(state, rename)
    }
}

/// message-raft -> async-reconfig (see the module docs).
pub type ToAsyncReconfig = HistoryMapping<MessageRaft>;

/// The mapping for `lower`: async-reconfig at its bounds plus one (its bounds only cut its own
/// searches) and from the same initial configs, or why they do not fit async-reconfig's
/// history.
pub fn to_async_reconfig(lower: MessageRaft) -> Result<ToAsyncReconfig, ParamsError> {
    let upper = AsyncReconfig::new(
        lower.servers(),
        lower.max_log_len() + 1,
        lower.max_term() + 1,
        lower.max_config_version() + 1,
    )?
    .with_initial_configs(lower.initial_configs());
    Ok(HistoryMapping::new(lower, upper))
}
