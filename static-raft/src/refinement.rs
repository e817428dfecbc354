//! The refinement MongoStaticRaft -> MongoSafeWeakRaft (`static-raft -> safe-weak-raft`).
//!
//! MongoSafeWeakRaft (crate `weak-raft`) is the original authors' abstract definition of a safe
//! Raft-like protocol: Raft's steps with any quorums at all, as long as each step keeps the
//! *weak quorum condition* (every quorum a server could be elected or commit with meets the
//! newest election's term and every committed entry). MongoStaticRaft keeps it because its
//! quorums are majorities of one fixed config and so all overlap. This module checks that claim
//! step by step: [`WeakRaftMapping`] maps every MongoStaticRaft step to a MongoSafeWeakRaft step,
//! whose guard includes the weak quorum condition in the next state.
//!
//! # The state mapping
//!
//! `currentTerm`, `state`, `log`, `config` and `committed` map to the variables of the same
//! name, unchanged (the two specs encode them the same way). The upper level has one more
//! variable, the history variable `elections` (every `[leader, term]` elected so far), which
//! MongoStaticRaft does not keep.
//!
//! ## Why `elections` needs a history variable
//!
//! `elections` cannot be computed from a MongoStaticRaft state: which server won an old term is
//! forgotten once it steps down and its entries are overwritten (two runs that elected `n1` or
//! `n2` in term 1 can reach the same state). The natural guess, "the current primaries with
//! their terms", fails: a step that deposes a primary would *remove* an election record, which
//! no upper step does. [`MappingFlaw::ElectionsFromPrimaries`] is that guess, and the checker
//! refutes it in three states (two elections, the second deposing the first leader).
//!
//! So the lower side gets the history variable: [`StaticRaftWithElections`] is MongoStaticRaft
//! plus `elections`, which BecomeLeader extends with `[leader |-> i, term |-> newTerm]` and no
//! other step touches. A history variable only records the past: it never constrains a step, so
//! the augmented spec has exactly the behaviours of MongoStaticRaft, each with its record of
//! elections (Abadi and Lamport's classic condition for adding one). The mapping then copies it.
//!
//! The alternative, projecting `elections` out of the upper level, was rejected. It would also
//! hold (the upper guards read only the terms of elections, and those are `1..=max currentTerm`
//! in every reachable state), but only by that side argument, checked nowhere; and it would
//! change the upper level. With the history variable, every mapped state is a genuine
//! MongoSafeWeakRaft state and every step a genuine MongoSafeWeakRaft step, and ElectionSafety
//! (at most one leader per term, ever), which OnePrimaryPerTerm does not say since it looks at
//! the current state only, becomes checkable on MongoStaticRaft: [`StaticRaftWithElections`]
//! declares it next to MongoStaticRaft's invariants.
//!
//! The history variable is part of the state the checker compares and fingerprints: the
//! checker explores MongoStaticRaft's reachable states paired with each of their possible
//! election histories, so the counts of `refine refines static-raft ...` are larger than those of
//! `refine check static-raft` at the same bounds. Symmetry permutes the leaders in `elections`
//! with the other per-server data.
//!
//! # The step mapping
//!
//! Every MongoStaticRaft step is the MongoSafeWeakRaft step of the same name and arguments
//! (BecomeLeader without the optional no-op), taken together with the config "change"
//! `ChangeConfig(n1, config[n1])`, which keeps every config as it is: MongoWeakRaft's `Next`
//! always changes one server's config, and setting it to the config it has is how a step keeps
//! them all. No step is a stutter. The checker then checks that the named step is enabled in the
//! mapped state, which includes the weak quorum condition in the next state, and that it leads
//! to the mapped next state.
//!
//! The step mapping keeps the writer of a client write: there may be two primaries at once, a
//! deposed one that has not heard of the newer term yet and the newest one, and both may write.
//! [`MappingFlaw::WriterIsNewestLeader`] assumes a single leader and is refuted by the classic
//! stale-leader trace (two elections, then a write by the old leader).
//!
//! # What the edge does not say
//!
//! That MongoStaticRaft is safe. The edge shows that its steps are MongoSafeWeakRaft steps,
//! but MongoSafeWeakRaft as written is not safe with 3 servers: MergeEntries and
//! RollbackEntries may change a *primary's* log, and the weak quorum condition then admits a
//! leader that misses a committed entry (see the `weak-raft` docs). MongoStaticRaft never
//! takes such a step (its primaries never roll back or receive entries), and its own
//! invariants (`refine check static-raft`) hold.

use crate::state::{OplogVars, Role, State};
use crate::{Action, StaticRaft};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use spec_core::itf::{self, server_name};
use spec_core::{
    ActionProperty, Invariant, Layer, Params, ParamsError, Refinement, Server, Spec, StepMapping,
};
use weak_raft::{ChangeConfig, Elections, SafeWeakRaft, Step};

/// A state of [`StaticRaftWithElections`]: a MongoStaticRaft state and the history variable
/// `elections`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateWithElections {
    /// The MongoStaticRaft variables.
    pub state: State,
    /// The history variable `elections`: every `[leader |-> i, term |-> t]` elected so far.
    pub elections: Elections,
}

spec_core::impl_pack!(StateWithElections { state, elections });

/// Serialized as MongoStaticRaft's variables plus `elections`, with the TLA+ names.
impl Serialize for StateWithElections {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let s = &self.state;
        fn per_server<T>(s: &State, f: impl Fn(usize) -> T) -> itf::Map<String, T> {
            itf::Map(s.server_ids().map(|i| (server_name(i), f(i))).collect())
        }
        let mut st = serializer.serialize_struct("State", 6)?;
        st.serialize_field("currentTerm", &per_server(s, |i| s.current_term[i]))?;
        st.serialize_field("state", &per_server(s, |i| s.state[i]))?;
        st.serialize_field("log", &per_server(s, |i| s.log[i].as_slice().to_vec()))?;
        st.serialize_field("config", &per_server(s, |i| s.config[i]))?;
        st.serialize_field("committed", &s.committed)?;
        st.serialize_field("elections", &self.elections)?;
        st.end()
    }
}

/// MongoStaticRaft with the history variable `elections`: the same initial states and steps,
/// with BecomeLeader also recording `[leader |-> i, term |-> newTerm]`. It is the lower level of
/// [`WeakRaftMapping`] (see the module docs for why the variable is needed).
#[derive(Clone, Debug)]
pub struct StaticRaftWithElections {
    spec: StaticRaft,
}

impl StaticRaftWithElections {
    /// `spec` (with its bounds and mutation, if any) plus the history variable.
    pub fn new(spec: StaticRaft) -> Self {
        StaticRaftWithElections { spec }
    }

    /// The MongoStaticRaft spec underneath.
    pub fn spec(&self) -> &StaticRaft {
        &self.spec
    }
}

impl Spec for StaticRaftWithElections {
    type State = StateWithElections;
    type Action = Action;

    /// `static-raft`: the protocol is MongoStaticRaft; the history variable adds no behaviour.
    fn name(&self) -> &'static str {
        StaticRaft::NAME
    }

    fn params(&self) -> Params {
        self.spec.params()
    }

    fn action_names(&self) -> &'static [&'static str] {
        self.spec.action_names()
    }

    /// MongoStaticRaft's initial states, with no election recorded.
    fn init_states(&self) -> Vec<StateWithElections> {
        self.spec
            .init_states()
            .into_iter()
            .map(|state| StateWithElections {
                state,
                elections: Elections::EMPTY,
            })
            .collect()
    }

    /// MongoStaticRaft's successors, in its order; BecomeLeader(i, Q) also adds
    /// `[leader |-> i, term |-> currentTerm'[i]]` to `elections`.
    fn next_states(&self, state: &StateWithElections, out: &mut Vec<(Action, StateWithElections)>) {
        let mut successors = Vec::new();
        self.spec.next_states(&state.state, &mut successors);
        out.extend(successors.into_iter().map(|(action, next)| {
            let elections = match action {
                Action::BecomeLeader { i, .. } => {
                    state.elections.with(i.into(), next.current_term(i.into()))
                }
                _ => state.elections,
            };
            (
                action,
                StateWithElections {
                    state: next,
                    elections,
                },
            )
        }));
    }

    /// MongoStaticRaft's invariants, and ElectionSafety on the recorded history.
    fn invariants(&self) -> Vec<Invariant<Self>> {
        let mut all: Vec<Invariant<Self>> = vec![
            Invariant {
                name: "OnePrimaryPerTerm",
                holds: |_, s| crate::one_primary_per_term(&s.state),
            },
            Invariant {
                name: "LogMatching",
                holds: |_, s| crate::log_matching(&s.state),
            },
            Invariant {
                name: "LeaderCompleteness",
                holds: |_, s| crate::leader_completeness(&s.state),
            },
            Invariant {
                name: "StateMachineSafety",
                holds: |_, s| crate::state_machine_safety(&s.state),
            },
        ];
        all.push(Invariant {
            name: "ElectionSafety",
            holds: |_, s| {
                s.elections
                    .iter()
                    .all(|e| s.elections.leaders_in(e.term).len() == 1)
            },
        });
        all
    }

    fn action_properties(&self) -> Vec<ActionProperty<Self>> {
        vec![ActionProperty {
            name: "LeaderAppendOnly",
            holds: |_, pre, _, next| crate::leader_append_only(&pre.state, &next.state),
        }]
    }

    fn within_constraint(&self, state: &StateWithElections) -> bool {
        self.spec.within_constraint(&state.state)
    }

    fn has_symmetry(&self) -> bool {
        true
    }

    /// The least permuted copy, permuting the servers of both the state and the election
    /// records.
    fn canonical(&self, state: &StateWithElections) -> StateWithElections {
        self.spec
            .permutations
            .iter()
            .skip(1)
            .map(|perm| StateWithElections {
                state: state.state.permuted(perm),
                elections: state.elections.permute(perm),
            })
            .fold(*state, std::cmp::min)
    }
}

/// A deliberate mistake in [`WeakRaftMapping`], for learners and tests: each is a plausible
/// guess that the checker refutes with a short trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MappingFlaw {
    /// `elections` is computed from the current state, as the set of current primaries with
    /// their terms, instead of being recorded. Refuted in three states: after two elections,
    /// the second of which deposes the first leader, the mapped `elections` has lost a record.
    ElectionsFromPrimaries,
    /// A client write is mapped to a write by *the* leader, the primary of the newest term: the
    /// single-leader assumption. Refuted in four states: two elections whose quorums leave the
    /// first leader out, so that it is still primary in its old term, then a write by that
    /// stale leader, which the upper level takes (any primary may write) but the mapping
    /// attributes to the new leader.
    WriterIsNewestLeader,
}

/// The refinement mapping MongoStaticRaft (with the history variable `elections`) ->
/// MongoSafeWeakRaft; see the module docs.
#[derive(Clone, Debug)]
pub struct WeakRaftMapping {
    lower: StaticRaftWithElections,
    upper: SafeWeakRaft,
    flaw: Option<MappingFlaw>,
}

impl WeakRaftMapping {
    /// The mapping from `spec` (with its bounds and mutation, if any) to MongoSafeWeakRaft at the
    /// same bounds.
    pub fn new(spec: StaticRaft) -> Result<Self, ParamsError> {
        let upper = SafeWeakRaft::from_params(&spec.params())?;
        Ok(WeakRaftMapping {
            lower: StaticRaftWithElections::new(spec),
            upper,
            flaw: None,
        })
    }

    /// The same edge with a deliberate mistake in the mapping (see [`MappingFlaw`]).
    #[must_use = "with_flaw returns the flawed mapping; check that one"]
    pub fn with_flaw(mut self, flaw: MappingFlaw) -> Self {
        self.flaw = Some(flaw);
        self
    }

    /// The mistake in this mapping, if any.
    pub fn flaw(&self) -> Option<MappingFlaw> {
        self.flaw
    }
}

impl Refinement for WeakRaftMapping {
    type Lower = StaticRaftWithElections;
    type Upper = SafeWeakRaft;

    fn lower(&self) -> &StaticRaftWithElections {
        &self.lower
    }

    fn upper(&self) -> &SafeWeakRaft {
        &self.upper
    }

    /// Every variable copied; `elections` from the history variable (or, with the flaw
    /// [`MappingFlaw::ElectionsFromPrimaries`], from the current primaries).
    fn map_state(&self, s: &StateWithElections) -> weak_raft::State {
        let lower = &s.state;
        let mut upper = weak_raft::State::initial(lower.servers as usize, lower.config[0]);
        for i in lower.server_ids() {
            upper.current_term[i] = lower.current_term[i];
            upper.state[i] = lower.state[i];
            upper.log[i] = lower.log[i];
            upper.config[i] = lower.config[i];
        }
        upper.committed = lower
            .committed
            .iter()
            .map(|c| weak_raft::CommittedEntry {
                index: c.index,
                entry_term: c.entry_term,
                term: c.term,
            })
            .collect();
        upper.elections = if self.flaw == Some(MappingFlaw::ElectionsFromPrimaries) {
            lower
                .server_ids()
                .filter(|&i| lower.state[i] == Role::Primary)
                .map(|i| weak_raft::ElectionRecord {
                    leader: i,
                    term: lower.current_term[i],
                })
                .collect()
        } else {
            s.elections
        };
        upper
    }

    /// The upper step of the same name and arguments (BecomeLeader without the no-op), with the
    /// config change `ChangeConfig(n1, config[n1])` that keeps every config.
    fn map_step(
        &self,
        state: &StateWithElections,
        action: &Action,
        _next: &StateWithElections,
    ) -> StepMapping<weak_raft::Action> {
        let step = match *action {
            Action::ClientRequest { i } if self.flaw == Some(MappingFlaw::WriterIsNewestLeader) => {
                let s = &state.state;
                let newest = s
                    .server_ids()
                    .filter(|&p| s.state[p] == Role::Primary)
                    .max_by_key(|&p| (s.current_term[p], std::cmp::Reverse(p)))
                    .map_or(i, |p| p as Server);
                Step::ClientRequest { i: newest }
            }
            Action::ClientRequest { i } => Step::ClientRequest { i },
            Action::GetEntries { i, j } => Step::GetEntries { i, j },
            Action::RollbackEntries { i, j } => Step::RollbackEntries { i, j },
            Action::BecomeLeader { i, vote_quorum } => Step::BecomeLeader {
                i,
                vote_quorum,
                noop: false,
            },
            Action::CommitEntry { i, commit_quorum } => Step::CommitEntry { i, commit_quorum },
            Action::UpdateTerms { i, j } => Step::UpdateTerms { i, j },
        };
        StepMapping::Step(weak_raft::Action {
            step,
            change_config: ChangeConfig {
                i: 0,
                new_config: state.state.config[0],
            },
        })
    }
}
