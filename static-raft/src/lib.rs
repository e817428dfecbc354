//! MongoStaticRaft as an executable specification: MongoDB's version of Raft with a fixed
//! config.
//!
//! This crate ports `MongoStaticRaft.tla` (github will62794/logless-reconfig, master 05178a7)
//! and its model `MCMongoStaticRaft.tla` state for state: it enumerates the same successors as
//! TLC, with the same multiplicity, so the checker's counts of generated and distinct states and
//! the search depth agree with TLC's exactly.
//!
//! # What the level models
//!
//! A set of servers, each with a term, a role (Primary or Secondary), a log of entry terms and a
//! config (a set of servers, fixed for the whole run and the same on every server). It differs
//! from textbook Raft the way MongoDB's replication does:
//! - replication is *pulled*: a secondary appends the next entry of any longer log that agrees
//!   with its own last entry ([`GetEntries`](Action::GetEntries)), and removes its last entry
//!   when another log shows it is stale ([`RollbackEntries`](Action::RollbackEntries));
//! - an election is one atomic step over a quorum of voters of the candidate's config
//!   ([`BecomeLeader`](Action::BecomeLeader));
//! - a primary commits its last entry, of its own term, once a quorum holds it in that term
//!   ([`CommitEntry`](Action::CommitEntry)); `committed` records every commit as
//!   `[entry |-> <<index, term>>, term |-> t]`;
//! - terms spread by a separate step between any two servers
//!   ([`UpdateTerms`](Action::UpdateTerms)), so a primary learns of a newer term and steps down.
//!
//! Initial states: every term 0, every server Secondary, every log empty, nothing committed, and
//! one initial state per nonempty config `C ⊆ Server` with `config[s] = C` for every server `s`
//! (`Init` quantifies over configs, so a model of 3 servers has 7 initial states, 3 up to
//! symmetry).
//!
//! Invariants: OnePrimaryPerTerm, LogMatching, LeaderCompleteness (with a strict `<`, as in this
//! spec) and StateMachineSafety; action property LeaderAppendOnly. Bounds: `servers` (1 to
//! [`MAX_SERVERS`]), `max-term` and `max-log-len` (the model's `StateConstraint`: every term at
//! most `MaxTerm` and every log at most `MaxLogLen` long). Symmetry: all server permutations.
//!
//! ```
//! use spec_core::{Layer, Params, Spec};
//! use static_raft::StaticRaft;
//!
//! let spec = StaticRaft::from_params(&Params::default()).unwrap();
//! assert_eq!(spec.init_states().len(), 7); // one per nonempty config of 3 servers
//! let mut next = Vec::new();
//! spec.next_states(&spec.init_states()[6], &mut next);
//! // From the initial state with config {n1, n2, n3}, each server can be elected by each of the
//! // 4 quorums that contain it (3 of the 4 majorities contain a given server).
//! assert_eq!(next.len(), 9);
//! ```
//!
//! # Stepping by action, and replaying a trace
//!
//! Without the checker: [`Spec::step`](spec_core::Spec::step) takes one named step and answers
//! `None` for a step that is disabled or outside the model (never a panic); actions parse from
//! the text they print, and states read back from the ITF JSON they serialize to, so a trace
//! written elsewhere (by TLC, by an implementation's log) replays step by step:
//!
//! ```
//! use spec_core::{Layer, Params, Spec};
//! use static_raft::{Action, StaticRaft};
//!
//! let spec = StaticRaft::from_params(&Params::default()).unwrap();
//! let init = spec.init_states()[6]; // every server in config {n1, n2, n3}
//! let trace = ["BecomeLeader(n1, {n1, n2})", "ClientRequest(n1)", "GetEntries(n2, n1)"];
//! let mut state = init;
//! for (k, text) in trace.iter().enumerate() {
//!     let action: Action = text.parse().unwrap();
//!     state = spec.step(&state, &action).unwrap_or_else(|| panic!("step {k} is not a step"));
//! }
//! assert_eq!(state.log[1].as_slice(), &[1]);
//! let disabled: Action = "ClientRequest(n2)".parse().unwrap(); // n2 is not a primary
//! let outside: Action = "ClientRequest(n4)".parse().unwrap(); // no n4 in a 3-server model
//! assert_eq!(spec.step(&state, &disabled), None);
//! assert_eq!(spec.step(&state, &outside), None);
//! // The state as ITF JSON (TLA+'s variable names), read back.
//! let json = serde_json::to_value(state).unwrap();
//! assert_eq!(spec.read_state(&json), Ok(state));
//! ```
//!
//! # Reusing the actions in a composition
//!
//! MongoRaftReconfig runs this spec as its *oplog state machine* next to MongoLoglessDynamicRaft
//! (the *config state machine*). The two share `currentTerm`, `state` and `config`; the oplog
//! machine alone owns `log` and `committed`, the config machine `configVersion` and
//! `configTerm`. ClientRequest, GetEntries, RollbackEntries and CommitEntry are oplog-only steps;
//! BecomeLeader and UpdateTerms are joint steps, taken by both machines at once.
//!
//! The actions are therefore public as guard/effect pairs over the [`OplogVars`] and
//! [`OplogVarsMut`] traits, so a composed state type can run them directly:
//!
//! 1. implement [`OplogVars`] and [`OplogVarsMut`] for the composed state (five getters, four
//!    setters, all field accesses);
//! 2. enumerate bindings as `Next` does: for an oplog-only step, call its `*_enabled` guard and,
//!    if it holds, copy the state and call its `*_effect(&pre, &mut next, ...)`;
//! 3. for a joint step (`OSM!A /\ CSM!A`), both guards must hold on the same binding; each
//!    machine's effect runs on its own copy of `pre`, and the step exists only if the two copies
//!    agree on the shared variables (a variable one half leaves unchanged must keep its old
//!    value in the other); the next state takes the shared variables and this machine's own from
//!    the oplog copy, the config machine's own from the other (`raft_reconfig::actions::conjoin`):
//!
//! ```
//! use spec_core::ServerSet;
//! use static_raft::actions::{become_leader_effect, become_leader_enabled};
//! use static_raft::{Committed, Log, OplogVars, OplogVarsMut, Role};
//!
//! /// A composed state: the oplog machine's variables plus the config machine's own.
//! #[derive(Clone, Copy)]
//! struct Composed {
//!     current_term: [u8; 3],
//!     state: [Role; 3],
//!     log: [Log; 3],
//!     config: [ServerSet; 3],
//!     committed: Committed,
//!     config_term: [u8; 3],
//! }
//! impl OplogVars for Composed {
//!     fn current_term(&self, s: usize) -> u8 { self.current_term[s] }
//!     fn role(&self, s: usize) -> Role { self.state[s] }
//!     fn log(&self, s: usize) -> &Log { &self.log[s] }
//!     fn config(&self, s: usize) -> ServerSet { self.config[s] }
//!     fn committed(&self) -> Committed { self.committed }
//! }
//! impl OplogVarsMut for Composed {
//!     fn set_current_term(&mut self, s: usize, t: u8) { self.current_term[s] = t }
//!     fn set_role(&mut self, s: usize, r: Role) { self.state[s] = r }
//!     fn log_mut(&mut self, s: usize) -> &mut Log { &mut self.log[s] }
//!     fn set_committed(&mut self, c: Committed) { self.committed = c }
//! }
//!
//! let pre = Composed {
//!     current_term: [0; 3],
//!     state: [Role::Secondary; 3],
//!     log: [Log::new(); 3],
//!     config: [ServerSet::all(3); 3],
//!     committed: Committed::EMPTY,
//!     config_term: [0; 3],
//! };
//! let (i, q) = (0, ServerSet(0b011));
//! // The joint BecomeLeader: the oplog guard (and, in MongoRaftReconfig, the config machine's).
//! assert!(become_leader_enabled(&pre, i, q, None));
//! let mut oplog_next = pre;
//! become_leader_effect(&pre, &mut oplog_next, i, q, None); // oplog half: currentTerm, state
//! // The config half, on its own copy of `pre`: the same terms and roles, plus its config term.
//! let mut config_next = pre;
//! for v in q.iter() {
//!     config_next.current_term[v] = pre.current_term[i] + 1;
//!     config_next.state[v] = if v == i { Role::Primary } else { Role::Secondary };
//! }
//! config_next.config_term[i] = pre.current_term[i] + 1;
//! // The halves agree on the shared variables, so the joint step exists.
//! assert_eq!(oplog_next.current_term, config_next.current_term);
//! assert_eq!(oplog_next.state, config_next.state);
//! let next = Composed { config_term: config_next.config_term, ..oplog_next };
//! assert_eq!(next.current_term, [1, 1, 0]);
//! assert_eq!((next.state[0], next.config_term[0]), (Role::Primary, 1));
//! ```
//!
//! On the shared variables both machines' effects of BecomeLeader and UpdateTerms write the same
//! values, so the joint steps of the two specs as written always exist. Computing each half on
//! its own copy, rather than both on one, is what lets a bug in one of them show: applied to one
//! copy, the second effect would overwrite the first. Effects read only `pre`. Pass `None` as
//! the mutation for the real protocol.
//!
//! The composed state need not store the variables as above: if it keeps `logless-raft`'s state
//! (shared and config variables) with `log` and `committed` beside it, its [`OplogVars`]
//! getters read `currentTerm`, `state` and `config` from there (both crates use `spec_core::Role`) and
//! its setters write them back. The oplog actions never write `config`. The invariants here
//! take a [`State`]; a composition states its own (MongoRaftReconfig's LeaderCompleteness uses
//! `<=`, not `<`), reusing [`in_log`] and [`last_term`].
//!
//! # Mutations: weakening one guard on purpose
//!
//! [`StaticRaft::with_mutation`] builds the spec with one [`Mutation`] in force: one conjunct of
//! one guard is dropped (or, for two of them, one assignment of BecomeLeader's or UpdateTerms'
//! effect is wrong), everything else is unchanged. It is a teaching and testing device: the
//! checker then reports the invariant that conjunct protects, with a shortest counterexample.
//!
//! # What this crate is not
//!
//! It does not check anything: the model checker and the `refine` command live in
//! `refinement-tests`. It has no reconfiguration (that is `logless-raft` and `raft-reconfig`).

pub mod actions;
pub mod refinement;
mod state;

pub use actions::Action;
pub use refinement::{MappingFlaw, StateWithElections, StaticRaftWithElections, WeakRaftMapping};
pub use state::{
    in_log, is_prefix, last_term, leader_append_only, leader_completeness, log_matching,
    one_primary_per_term, state_machine_safety, Committed, CommittedEntry, Log, OplogVars,
    OplogVarsMut, Role, State, LOG_CAPACITY, MAX_COMMITTED_INDEX, MAX_COMMITTED_TERM, MAX_SERVERS,
};

use spec_core::itf::ReadError;
use spec_core::{
    permutations, ActionProperty, Bound, Invariant, Layer, Parameter, Params, ParamsError,
    ServerSet, Spec,
};

spec_core::mutations! {
    /// One guard conjunct to drop, or one assignment of an effect to get wrong, to see what breaks
    /// (a teaching and testing device; the spec has none in force unless
    /// [`StaticRaft::with_mutation`] is called).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Mutation {
        /// BecomeLeader: voters do not compare logs (CanVoteForOplog's log-up-to-date condition).
        /// A candidate missing a committed entry can win: breaks LeaderCompleteness.
        VoteIgnoresLog = "vote-ignores-log" =>
            "voters skip the log-up-to-date check: breaks LeaderCompleteness",
        /// BecomeLeader: voters do not require the new term to be newer than their own
        /// (CanVoteForOplog's `currentTerm[i] < term`). A server can vote twice in one term: breaks
        /// OnePrimaryPerTerm.
        VoteIgnoresTerm = "vote-ignores-term" =>
            "voters skip the newer-term check: breaks OnePrimaryPerTerm",
        /// CommitEntry: a primary may commit its last entry even when an older term wrote it (the
        /// "written by this leader" conjunct), once a quorum in the primary's term holds it: the
        /// commit rule of Raft's Figure 8. Breaks LeaderCompleteness.
        CommitOlderTermEntry = "commit-older-term-entry" =>
            "a primary commits an older term's entry (Raft's Figure 8): breaks \
                LeaderCompleteness from MaxTerm 3",
        /// CommitEntry: the quorum's members need not be in the primary's term
        /// (ImmediatelyCommitted's term condition). A deposed primary can count a voter of a newer
        /// leader: breaks LeaderCompleteness.
        CommitIgnoresQuorumTerm = "commit-ignores-quorum-term" =>
            "the commit quorum need not be in the primary's term: breaks LeaderCompleteness",
        /// GetEntries: no log consistency check; a secondary appends an entry that does not extend
        /// its log in the source log. Breaks LogMatching.
        GetEntriesSkipsLogCheck = "get-entries-skips-log-check" =>
            "GetEntries skips the log consistency check: breaks LogMatching",
        /// RollbackEntries: a primary may roll back too (the `state[i] = Secondary` conjunct).
        /// Breaks the action property LeaderAppendOnly.
        PrimaryRollsBack = "primary-rolls-back" =>
            "a primary may roll back its log: breaks LeaderAppendOnly",
        /// BecomeLeader's effect moves only the candidate to the new term; the other voters keep
        /// their older terms (a wrong `currentTerm'`), so they can vote again in the same term:
        /// breaks OnePrimaryPerTerm. In MongoRaftReconfig, the config machine's half of the joint
        /// step writes the right terms, and the halves disagree.
        VotersKeepTheirTerm = "voters-keep-their-term" =>
            "BecomeLeader moves only the candidate to the new term (effect): breaks \
                OnePrimaryPerTerm",
        /// UpdateTerms' effect adopts the newer term without stepping down (no `state'`
        /// assignment): a primary that learns a newer term stays Primary in it, beside that term's
        /// own primary: breaks OnePrimaryPerTerm. In MongoRaftReconfig the halves then disagree on
        /// `state`.
        UpdateTermsKeepsRole = "update-terms-keeps-role" =>
            "UpdateTerms does not step a primary down (effect): breaks OnePrimaryPerTerm",
    }
}

/// MongoStaticRaft at given bounds, as a [`Spec`].
#[derive(Clone, Debug)]
pub struct StaticRaft {
    servers: usize,
    max_term: u8,
    max_log_len: u8,
    mutation: Option<Mutation>,
    permutations: Vec<Vec<u8>>,
}

impl StaticRaft {
    /// The default number of servers.
    pub const DEFAULT_SERVERS: usize = 3;
    /// The default `MaxTerm`.
    pub const DEFAULT_MAX_TERM: usize = 2;
    /// The default `MaxLogLen`.
    pub const DEFAULT_MAX_LOG_LEN: usize = 2;

    /// The spec with `servers` servers, bounded by `MaxTerm = max_term` and
    /// `MaxLogLen = max_log_len`; fails on bounds the state encoding cannot hold.
    pub fn new(servers: usize, max_term: usize, max_log_len: usize) -> Result<Self, ParamsError> {
        let params = Params {
            servers: Some(servers),
            max_term: Some(max_term),
            max_log_len: Some(max_log_len),
            ..Params::default()
        };
        Self::from_params(&params)
    }

    /// The same spec with `mutation` in force (one guard conjunct dropped, or one effect wrong).
    #[must_use = "with_mutation returns the mutated spec; check that one"]
    pub fn with_mutation(mut self, mutation: Mutation) -> Self {
        self.mutation = Some(mutation);
        self
    }

    /// The mutation in force, if any.
    pub fn mutation(&self) -> Option<Mutation> {
        self.mutation
    }
    /// The number of servers.
    pub fn servers(&self) -> usize {
        self.servers
    }
    /// `MaxTerm`.
    pub fn max_term(&self) -> usize {
        self.max_term as usize
    }
    /// `MaxLogLen`.
    pub fn max_log_len(&self) -> usize {
        self.max_log_len as usize
    }
}

impl Spec for StaticRaft {
    type State = State;
    type Action = Action;

    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> Params {
        Params {
            servers: Some(self.servers),
            max_term: Some(self.max_term as usize),
            max_log_len: Some(self.max_log_len as usize),
            ..Params::default()
        }
    }

    fn action_names(&self) -> &'static [&'static str] {
        actions::ACTION_NAMES
    }

    /// `Init`: one state per nonempty config, in increasing bitmask order.
    fn init_states(&self) -> Vec<State> {
        ServerSet::all(self.servers)
            .subsets()
            .filter(|c| !c.is_empty())
            .map(|c| State::initial(self.servers, c))
            .collect()
    }

    fn next_states(&self, state: &State, out: &mut Vec<(Action, State)>) {
        actions::next(state, self.servers, self.mutation, out);
    }

    /// The binding's guard ([`actions::enabled`]) and effect ([`actions::apply`]), after
    /// [`actions::in_model`]: a server past the model's, or a quorum not of `config[i]`, is
    /// `None`.
    fn step(&self, state: &State, action: &Action) -> Option<State> {
        let enabled = actions::in_model(state, self.servers, *action)
            && actions::enabled(state, *action, self.mutation);
        enabled.then(|| {
            let mut next = *state;
            actions::apply(state, &mut next, *action, self.mutation);
            next
        })
    }

    /// [`State::read_itf`] with this model's servers.
    fn read_state(&self, value: &spec_core::itf::Value) -> Result<State, ReadError> {
        State::read_itf(value, self.servers)
    }

    /// [`actions::false_conjuncts`]: the binding's and the guard's false conjuncts.
    fn disabled_because(&self, state: &State, action: &Action) -> Vec<String> {
        actions::false_conjuncts(state, self.servers, *action, self.mutation)
    }

    fn invariants(&self) -> Vec<Invariant<Self>> {
        vec![
            Invariant {
                name: "OnePrimaryPerTerm",
                holds: |_, s| one_primary_per_term(s),
            },
            Invariant {
                name: "LogMatching",
                holds: |_, s| log_matching(s),
            },
            Invariant {
                name: "LeaderCompleteness",
                holds: |_, s| leader_completeness(s),
            },
            Invariant {
                name: "StateMachineSafety",
                holds: |_, s| state_machine_safety(s),
            },
        ]
    }

    fn action_properties(&self) -> Vec<ActionProperty<Self>> {
        vec![ActionProperty {
            name: "LeaderAppendOnly",
            holds: |_, pre, _, next| leader_append_only(pre, next),
        }]
    }

    /// `StateConstraint` of MCMongoStaticRaft: every term at most MaxTerm, every log at most
    /// MaxLogLen entries.
    fn within_constraint(&self, state: &State) -> bool {
        state.server_ids().all(|s| {
            state.current_term[s] <= self.max_term
                && state.log[s].len() <= self.max_log_len as usize
        })
    }

    fn has_symmetry(&self) -> bool {
        true
    }

    /// The least of the state's `servers!` permuted copies under `State`'s derived order.
    fn canonical(&self, state: &State) -> State {
        self.permutations
            .iter()
            .skip(1)
            .map(|perm| state.permuted(perm))
            .fold(*state, std::cmp::min)
    }
}

impl Layer for StaticRaft {
    const NAME: &'static str = "static-raft";
    const DESCRIPTION: &'static str = "MongoStaticRaft";
    const PARAMETERS: &'static [Parameter] = &[
        Parameter::new(
            Bound::Servers,
            Self::DEFAULT_SERVERS,
            (1, MAX_SERVERS),
            "per-server arrays hold 5 servers; symmetry tries all n! permutations",
        ),
        Parameter::new(
            Bound::MaxTerm,
            Self::DEFAULT_MAX_TERM,
            (0, MAX_COMMITTED_TERM as usize),
            "the committed bitmask holds terms 1..=5",
        ),
        Parameter::new(
            Bound::MaxLogLen,
            Self::DEFAULT_MAX_LOG_LEN,
            (
                0,
                if (MAX_COMMITTED_INDEX as usize) < LOG_CAPACITY - 1 {
                    MAX_COMMITTED_INDEX as usize
                } else {
                    LOG_CAPACITY - 1
                },
            ),
            "logs hold MaxLogLen + 1 <= 6 entries; the committed bitmask holds indexes 1..=5",
        ),
    ];

    fn from_params(params: &Params) -> Result<Self, ParamsError> {
        let [servers, max_term, max_log_len] = params.resolve::<3>(Self::NAME, Self::PARAMETERS)?;
        Ok(StaticRaft {
            servers,
            max_term: max_term as u8,
            max_log_len: max_log_len as u8,
            mutation: None,
            permutations: permutations(servers),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_validated() {
        assert!(StaticRaft::new(6, 2, 2).is_err());
        assert!(StaticRaft::new(3, 6, 2).is_err());
        assert!(StaticRaft::new(3, 2, 6).is_err());
        let p = Params {
            values: Some(2),
            ..Params::default()
        };
        assert!(matches!(
            StaticRaft::from_params(&p),
            Err(ParamsError::Unused { .. })
        ));
        let spec = StaticRaft::from_params(&Params::default()).unwrap();
        assert_eq!(
            (spec.servers(), spec.max_term(), spec.max_log_len()),
            (3, 2, 2)
        );
    }

    /// `actions::next` is `Next` written out for speed: on every reachable state of a model,
    /// under the spec and under every mutation, it yields the same steps in the same order as
    /// trying every binding of `candidate_steps` with `enabled` and `apply`.
    #[test]
    fn the_enumeration_is_every_enabled_binding_in_order() {
        for mutation in std::iter::once(None).chain(Mutation::ALL.map(Some)) {
            let mut spec = StaticRaft::new(3, 3, 2).unwrap();
            spec.mutation = mutation;
            let mut seen: std::collections::HashSet<State> =
                spec.init_states().into_iter().collect();
            let mut todo: Vec<State> = seen.iter().copied().collect();
            let (mut fast, mut reference) = (Vec::new(), Vec::new());
            while let Some(state) = todo.pop() {
                fast.clear();
                spec.next_states(&state, &mut fast);
                reference.clear();
                actions::candidate_steps(&state, spec.servers, |action| {
                    if actions::enabled(&state, action, mutation) {
                        let mut next = state;
                        actions::apply(&state, &mut next, action, mutation);
                        reference.push((action, next));
                    }
                });
                assert_eq!(fast, reference, "{mutation:?} in {state:?}");
                for (_, next) in &fast {
                    if spec.within_constraint(next) && seen.insert(*next) {
                        todo.push(*next);
                    }
                }
            }
            assert!(seen.len() > 1000, "{mutation:?}: {} states", seen.len());
        }
    }

    /// Every binding of every action for servers `0..=servers` (one past the model's), with
    /// every set of them as a quorum.
    pub(crate) fn candidate_actions(servers: usize) -> Vec<Action> {
        let sets: Vec<ServerSet> = ServerSet::all(servers + 1).subsets().collect();
        let mut all = Vec::new();
        for i in 0..=servers as spec_core::Server {
            all.push(Action::ClientRequest { i });
            for j in 0..=servers as spec_core::Server {
                all.push(Action::GetEntries { i, j });
                all.push(Action::RollbackEntries { i, j });
                all.push(Action::UpdateTerms { i, j });
            }
            for &q in &sets {
                all.push(Action::BecomeLeader { i, vote_quorum: q });
                all.push(Action::CommitEntry {
                    i,
                    commit_quorum: q,
                });
            }
        }
        all
    }

    /// `step`'s override is the successor `next_states` pairs with the action, or `None`, on
    /// every reachable state of a small model (those just past the constraint included), for
    /// every binding in the model and past it, under the spec and every mutation.
    #[test]
    fn step_is_the_successor_next_states_pairs_with_the_action() {
        let actions = candidate_actions(3);
        assert_eq!(actions.len(), 4 * (1 + 3 * 4 + 2 * 16));
        for mutation in std::iter::once(None).chain(Mutation::ALL.map(Some)) {
            let mut spec = StaticRaft::new(3, 2, 1).unwrap();
            spec.mutation = mutation;
            let states = spec_core::reachable_states(&spec, usize::MAX);
            let (mut enabled, mut generated, mut succ) = (0, 0, Vec::new());
            for s in &states {
                succ.clear();
                spec.next_states(s, &mut succ);
                generated += succ.len();
                for a in &actions {
                    let expected = succ.iter().find(|(b, _)| b == a).map(|(_, t)| *t);
                    assert_eq!(spec.step(s, a), expected, "{mutation:?}: {a} in {s:?}");
                    enabled += expected.is_some() as usize;
                }
            }
            assert_eq!(
                enabled, generated,
                "{mutation:?}: one binding per successor"
            );
            if mutation.is_none() {
                assert_eq!(states.len(), 3730);
            }
        }
        // Past the encoding: a full log takes no more entries.
        let spec = StaticRaft::new(1, 2, 1).unwrap();
        let mut s = State::initial(1, ServerSet(1));
        s.state[0] = Role::Primary;
        s.log[0] = Log::from_slice(&[0; LOG_CAPACITY]);
        assert_eq!(spec.step(&s, &Action::ClientRequest { i: 0 }), None);
        assert_eq!(spec.step(&s, &Action::ClientRequest { i: 3 }), None);
    }

    /// The reference check of `disabled_because`: on every reachable state of a small model,
    /// for every binding in and past it, under the spec and every mutation, it names no conjunct
    /// exactly when `step` takes the action.
    #[test]
    fn a_false_conjunct_is_named_exactly_when_a_step_is_not_taken() {
        let actions = candidate_actions(3);
        for mutation in std::iter::once(None).chain(Mutation::ALL.map(Some)) {
            let mut spec = StaticRaft::new(3, 2, 1).unwrap();
            spec.mutation = mutation;
            for s in spec_core::reachable_states(&spec, usize::MAX) {
                for a in &actions {
                    let why = spec.disabled_because(&s, a);
                    assert_eq!(
                        why.is_empty(),
                        spec.step(&s, a).is_some(),
                        "{mutation:?}: {a} in {s:?}: {why:?}"
                    );
                }
            }
        }
        let spec = StaticRaft::new(3, 2, 2).unwrap();
        let mut s = State::initial(3, ServerSet::all(3));
        s.current_term[..3].copy_from_slice(&[1, 1, 2]);
        s.state[0] = Role::Primary;
        s.log[0] = Log::from_slice(&[1]);
        let why = |a: &str| spec.disabled_because(&s, &a.parse().unwrap());
        assert_eq!(
            why("CommitEntry(n1, {n1, n3})"),
            [
                "ImmediatelyCommitted(<<1, 1>>, {n1, n3}): InLog(<<1, 1>>, n3)",
                "ImmediatelyCommitted(<<1, 1>>, {n1, n3}): currentTerm[n3] = 1"
            ]
        );
        assert_eq!(
            why("BecomeLeader(n2, {n2, n3})"),
            ["CanVoteForOplog(n3, n2, 2): currentTerm[n3] < 2"]
        );
        assert_eq!(
            why("BecomeLeader(n2, {n1, n2})"),
            ["CanVoteForOplog(n1, n2, 2): logOk"]
        );
        assert_eq!(
            why("CommitEntry(n1, {n1})"),
            [r"{n1} \in Quorums(config[n1])"]
        );
        assert_eq!(why("UpdateTerms(n4, n1)"), [r"n4 \in Server"]);
        assert!(why("UpdateTerms(n3, n1)").is_empty());
    }

    /// States no model reaches but `read_state` accepts (the largest terms, full logs of large
    /// terms, every server Primary, records at the encoding's edge): `step` answers `None` or a
    /// state for every binding, under the spec and every mutation, and never panics.
    #[test]
    fn step_never_panics_at_the_edges_of_the_encoding() {
        let mut edge = State::initial(3, ServerSet::all(3));
        edge.current_term[..3].copy_from_slice(&[254, 5, 5]);
        edge.state[..3].fill(Role::Primary);
        edge.log[0] = Log::from_slice(&[254; LOG_CAPACITY]);
        edge.log[1] = Log::from_slice(&[5; MAX_COMMITTED_INDEX as usize]);
        edge.log[2] = Log::from_slice(&[6, 6]);
        let mut stepped = 0;
        for mutation in std::iter::once(None).chain(Mutation::ALL.map(Some)) {
            let mut spec = StaticRaft::new(3, 5, 5).unwrap();
            spec.mutation = mutation;
            for a in candidate_actions(3) {
                stepped += spec.step(&edge, &a).is_some() as usize;
            }
        }
        assert_eq!(stepped, 76);
    }

    #[test]
    fn actions_print_and_parse_back() {
        let spec = StaticRaft::new(3, 2, 1).unwrap();
        let names = spec_core::action_text::check_round_trips(&spec, usize::MAX)
            .unwrap()
            .names;
        assert_eq!(names.len(), 6, "every action was read back: {names:?}");
        for a in candidate_actions(4) {
            assert_eq!(a.to_string().parse(), Ok(a), "{a}");
        }
        let err = |text: &str| text.parse::<Action>().unwrap_err().to_string();
        assert_eq!(
            err("BecomeLeader(n1, n2)"),
            "cannot read action `BecomeLeader(n1, n2)`: n2 is not a set {...}"
        );
        assert_eq!(
            err("Elect(n1)"),
            "cannot read action `Elect(n1)`: no action Elect; the actions are: ClientRequest(i), \
             GetEntries(i, j), RollbackEntries(i, j), BecomeLeader(i, voteQuorum), \
             CommitEntry(i, commitQuorum), UpdateTerms(i, j)"
        );
    }

    #[test]
    fn states_read_back_from_their_itf() {
        let spec = StaticRaft::new(3, 2, 1).unwrap();
        for s in spec_core::reachable_states(&spec, usize::MAX) {
            let json = serde_json::to_value(s).unwrap();
            assert_eq!(spec.read_state(&json), Ok(s), "{json}");
            assert_eq!(serde_json::from_value::<State>(json).unwrap(), s);
        }
        let initial = serde_json::to_value(spec.init_states()[6]).unwrap();
        let read_with = |var: &str, value: serde_json::Value| {
            let mut json = initial.clone();
            json[var] = value;
            spec.read_state(&json).map_err(|e| e.to_string())
        };
        use serde_json::json;
        assert_eq!(
            read_with(
                "currentTerm",
                json!({"#map": [["n1", 0], ["n2", 0], ["n4", 0]]})
            ),
            Err("variable currentTerm: n4 is not a server of this 3-server model".into())
        );
        assert_eq!(
            read_with(
                "state",
                json!({"#map": [["n1", "Leader"], ["n2", "Secondary"], ["n3", "Secondary"]]})
            ),
            Err(r#"variable state: at n1: "Leader" is not a role, Primary or Secondary"#.into())
        );
        assert_eq!(
            read_with(
                "log",
                json!({"#map": [["n1", [1, 1, 1, 1, 1, 1, 1]], ["n2", []], ["n3", []]]})
            ),
            Err(
                "variable log: at n1: a log of 7 entries is longer than the 6 the encoding holds"
                    .into()
            )
        );
        assert_eq!(
            read_with(
                "committed",
                json!({"#set": [{"entry": {"#tup": [1, 9]}, "term": 9}]})
            ),
            Err(
                "variable committed: item 1: the record of entry <<1, 9>> in term 9 is outside \
                 what the encoding holds (indices 1..5, terms 1..5)"
                    .into()
            )
        );
        assert_eq!(
            read_with(
                "config",
                json!({"#map": [["n1", {"#set": ["n1"]}], ["n2", ["n1"]], ["n3", {"#set": []}]]})
            ),
            Err(r##"variable config: at n2: expected a set {"#set": [...]}, found ["n1"]"##.into())
        );
        assert_eq!(
            read_with(
                "currentTerm",
                json!({"#map": [["n1", -1], ["n2", 0], ["n3", 0]]})
            ),
            Err(
                "variable currentTerm: at n1: -1 is outside 0..254, what the state encoding holds"
                    .into()
            )
        );
        let text = r##"{"currentTerm": {"#map": [["n1", 0]]}, "state": {"#map": [["n1", "Primary"]]},
            "log": {"#map": [["n1", [1, 2]]]}, "config": {"#map": [["n1", {"#set": ["n2"]}]]},
            "committed": {"#set": []}}"##;
        assert_eq!(
            serde_json::from_str::<State>(text).unwrap_err().to_string(),
            "variable config: at n1: n2 is not a server of this 1-server model"
        );
        let mut missing = initial.clone();
        missing.as_object_mut().unwrap().remove("committed");
        assert_eq!(
            spec.read_state(&missing).unwrap_err().to_string(),
            "the variables are currentTerm, state, log, config, committed; missing: committed"
        );
    }

    #[test]
    fn canonical_form_is_the_same_for_every_permutation() {
        let spec = StaticRaft::new(3, 3, 2).unwrap();
        let mut s = State::initial(3, ServerSet(0b011));
        s.current_term = [2, 1, 0, 0, 0];
        s.state[0] = Role::Primary;
        s.log[0] = Log::from_slice(&[1, 2]);
        s.log[1] = Log::from_slice(&[1]);
        let c = spec.canonical(&s);
        for perm in permutations(3) {
            assert_eq!(spec.canonical(&s.permuted(&perm)), c);
        }
    }

    #[test]
    fn serializes_with_tla_variable_names() {
        let mut s = State::initial(2, ServerSet::all(2));
        s.state[0] = Role::Primary;
        s.current_term[0] = 1;
        s.log[0].push(1);
        s.committed = s.committed.with(CommittedEntry {
            index: 1,
            entry_term: 1,
            term: 1,
        });
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            concat!(
                r##"{"currentTerm":{"#map":[["n1",1],["n2",0]]},"##,
                r##""state":{"#map":[["n1","Primary"],["n2","Secondary"]]},"##,
                r##""log":{"#map":[["n1",[1]],["n2",[]]]},"##,
                r##""config":{"#map":[["n1",{"#set":["n1","n2"]}],["n2",{"#set":["n1","n2"]}]]},"##,
                r##""committed":{"#set":[{"entry":{"#tup":[1,1]},"term":1}]}}"##
            )
        );
    }

    #[test]
    fn mutation_names_round_trip() {
        for m in Mutation::ALL {
            assert_eq!(Mutation::from_name(m.name()), Some(m));
        }
        assert_eq!(Mutation::from_name("none"), None);
    }

    #[test]
    fn action_display_uses_server_names() {
        let a = Action::BecomeLeader {
            i: 0,
            vote_quorum: ServerSet(0b101),
        };
        assert_eq!(a.to_string(), "BecomeLeader(n1, {n1, n3})");
        assert_eq!(
            Action::GetEntries { i: 1, j: 0 }.to_string(),
            "GetEntries(n2, n1)"
        );
    }
}
