//! The refinement MongoRaftReconfig -> MongoLoglessDynamicRaft: the config state machine seen
//! on its own.
//!
//! `MCMongoRaftReconfig.tla` states it as `RefinesMLDR`: running MongoLoglessDynamicRaft in
//! composition with MongoStaticRaft only restricts its behaviours, never adds to them. The
//! mapping keeps the config machine's variables and the shared ones (`currentTerm`, `state`,
//! `configVersion`, `configTerm`, `config`) and forgets `log` and `committed`; an oplog step is
//! a stutter, and every other step is logless-raft's action with the same binding (a joint
//! step is its config half).

use logless_raft::LoglessRaft;
use spec_core::{Refinement, StepMapping};

use crate::{Action, RaftReconfig, State};

/// The mapping from [`RaftReconfig`] to [`LoglessRaft`] at the same bounds.
#[derive(Clone, Debug)]
pub struct ToLoglessRaft {
    lower: RaftReconfig,
    upper: LoglessRaft,
}

impl ToLoglessRaft {
    /// The mapping for this instance. The upper spec has the same servers, `MaxTerm` and
    /// `MaxConfigVersion` (its bounds only cut its own searches; steps are checked whatever
    /// they are).
    pub fn new(lower: RaftReconfig) -> ToLoglessRaft {
        let upper = LoglessRaft::new(
            lower.servers(),
            lower.max_term(),
            lower.max_config_version(),
        )
        .expect("raft-reconfig's bounds are within logless-raft's");
        ToLoglessRaft { lower, upper }
    }
}

impl Refinement for ToLoglessRaft {
    type Lower = RaftReconfig;
    type Upper = LoglessRaft;

    fn lower(&self) -> &RaftReconfig {
        &self.lower
    }

    fn upper(&self) -> &LoglessRaft {
        &self.upper
    }

    fn map_state(&self, state: &State) -> logless_raft::State {
        state.config_part()
    }

    /// An oplog step stutters; a config or joint step is logless-raft's action with the same
    /// binding.
    fn map_step(
        &self,
        _state: &State,
        action: &Action,
        _next: &State,
    ) -> StepMapping<logless_raft::Action> {
        match action.config_action() {
            Some(upper) => StepMapping::Step(upper),
            None => StepMapping::Stutter,
        }
    }
}
