//! The refinement MongoDynamicRaft -> MongoSafeWeakRaft (`dynamic-raft -> safe-weak-raft`).
//!
//! `MongoDynamicRaft.tla` states two theorems: `MDRRefinesMWR` (every behaviour is a
//! MongoWeakRaft behaviour) and `MDRWeakQuorumCondition` (every reachable state satisfies
//! MongoSafeWeakRaft's WeakQuorumCondition). Together they say MongoDynamicRaft refines
//! MongoSafeWeakRaft, whose steps are MongoWeakRaft's steps into states that satisfy the
//! condition. [`SafeWeakRaftMapping`] checks that on every reachable transition.
//!
//! # The state mapping
//!
//! A projection: the MongoWeakRaft variables (`currentTerm`, `state`, `log`, `config`,
//! `elections`, `committed`) are kept as they are and `configLog` is dropped. No history
//! variable is needed: MongoDynamicRaft keeps `elections` and `committed` itself.
//!
//! # The step mapping
//!
//! A MongoWeakRaft step is a protocol step taken together with one `ChangeConfig(s,
//! newConfig)` (possibly to the config `s` already has). Each MongoDynamicRaft action is one:
//!
//! | MongoDynamicRaft | MongoWeakRaft protocol step | config change |
//! |---|---|---|
//! | `ClientRequest(i, newConfig)` | `ClientRequest(i)` | `ChangeConfig(i, newConfig)` |
//! | `MergeEntries(i, j)` | `MergeEntries(i, j)` | `ChangeConfig(j, config[i])` |
//! | `BecomeLeader(i, Q)` | `BecomeLeader(i, Q)` with the no-op | `ChangeConfig(i, config[i])` |
//! | `CommitEntry(i, Q)` | `CommitEntry(i, Q)` | `ChangeConfig(i, config[i])` |
//! | `UpdateTerms(i, j)` (generalization only) | `UpdateTerms(i, j)` | `ChangeConfig(n1, config[n1])` |
//!
//! No step is a stutter (each changes a log, a term or `committed`). The checker then checks
//! that the named step is enabled in the mapped state (which, for MongoSafeWeakRaft, includes
//! the WeakQuorumCondition in the next state) and leads to the mapped next state. TLC confirms
//! the theorem itself (`PROPERTY RefinesMongoSafeWeakRaft`: no violation at 3 and 4 servers,
//! MaxTerm 2, MaxLogLen 2).
//!
//! # A wrong mapping
//!
//! [`SafeWeakRaftMapping::broken`] forgets that MergeEntries moves the config with the log: it
//! maps MergeEntries to a pure log copy (`ChangeConfig(j, config[j])`). That is right as long as
//! every server has the same config, and wrong once a primary has reconfigured and its log
//! (with the new config) is merged into another server: the shortest counterexample elects a
//! leader, commits its no-op, reconfigures, and merges (5 states, initial config `{n1}`); the
//! checker reports that the named MongoSafeWeakRaft step leads to a different state.

use crate::{Action, DynamicRaft, State};
use spec_core::{Layer, ParamsError, Refinement, Server, Spec, StepMapping};
use weak_raft::{ChangeConfig, SafeWeakRaft, Step};

/// MongoDynamicRaft -> MongoSafeWeakRaft by dropping `configLog`; see the module docs.
#[derive(Clone, Debug)]
pub struct SafeWeakRaftMapping {
    lower: DynamicRaft,
    upper: SafeWeakRaft,
    broken: bool,
}

impl SafeWeakRaftMapping {
    /// The mapping from `lower` to MongoSafeWeakRaft at the same bounds.
    pub fn new(lower: DynamicRaft) -> Result<Self, ParamsError> {
        let upper = SafeWeakRaft::from_params(&lower.params())?;
        Ok(SafeWeakRaftMapping {
            lower,
            upper,
            broken: false,
        })
    }

    /// The same edge with a wrong step mapping, for learners and tests: MergeEntries is mapped
    /// to a step that keeps every config, as if only the log moved. The checker refutes it in 5
    /// states (see the module docs).
    #[must_use = "broken returns the mapping with the wrong step mapping; check that one"]
    pub fn broken(mut self) -> Self {
        self.broken = true;
        self
    }

    /// Whether this is the wrong mapping of [`SafeWeakRaftMapping::broken`].
    pub fn is_broken(&self) -> bool {
        self.broken
    }
}

impl Refinement for SafeWeakRaftMapping {
    type Lower = DynamicRaft;
    type Upper = SafeWeakRaft;

    fn lower(&self) -> &DynamicRaft {
        &self.lower
    }

    fn upper(&self) -> &SafeWeakRaft {
        &self.upper
    }

    /// The MongoWeakRaft variables, `configLog` dropped.
    fn map_state(&self, state: &State) -> weak_raft::State {
        state.raft
    }

    /// The MongoWeakRaft step of the same name (BecomeLeader with its no-op), with the config
    /// change the action makes (see the module docs).
    fn map_step(
        &self,
        state: &State,
        action: &Action,
        _next: &State,
    ) -> StepMapping<weak_raft::Action> {
        let config = &state.raft.config;
        let keep = |i: Server| ChangeConfig {
            i,
            new_config: config[usize::from(i)],
        };
        let (step, change_config) = match *action {
            Action::ClientRequest { i, new_config } => {
                (Step::ClientRequest { i }, ChangeConfig { i, new_config })
            }
            Action::MergeEntries { i, j } => (
                Step::MergeEntries { i, j },
                if self.broken {
                    keep(j)
                } else {
                    ChangeConfig {
                        i: j,
                        new_config: config[usize::from(i)],
                    }
                },
            ),
            Action::BecomeLeader { i, vote_quorum } => (
                Step::BecomeLeader {
                    i,
                    vote_quorum,
                    noop: true,
                },
                keep(i),
            ),
            Action::CommitEntry { i, commit_quorum } => {
                (Step::CommitEntry { i, commit_quorum }, keep(i))
            }
            // MongoWeakRaft's UpdateTerms keeps every config UNCHANGED, so its one binding of
            // ChangeConfig is `ChangeConfig(n1, config[n1])`.
            Action::UpdateTerms { i, j } => (Step::UpdateTerms { i, j }, keep(0)),
        };
        StepMapping::Step(weak_raft::Action {
            step,
            change_config,
        })
    }
}
