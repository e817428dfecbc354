//! MongoLoglessDynamicRaft as an executable specification: the *config state machine* of
//! MongoDB's replication protocol, which changes the replica set's membership without writing
//! configs to the oplog.
//!
//! Source: `MongoLoglessDynamicRaft.tla`, `MCMongoLoglessDynamicRaft.tla` and `Defs.tla` of
//! github will62794/logless-reconfig (master, 05178a7). This crate follows that spec action for
//! action, so that its state counts agree with TLC's.
//!
//! # What the level models
//!
//! Each server has a term and a role (Primary or Secondary), and a config: a set of servers,
//! versioned by the pair (config term, config version), compared term first. There is no log.
//! A primary changes the config by `Reconfig`, only when its current config is *committed*
//! (a quorum of it holds the same config version and term) *and* a quorum of it is in the
//! primary's term. These are two independent quorum checks: the second one, missing from early
//! versions of the protocol, stops a deposed primary from reconfiguring. The new config's
//! quorums must overlap the old one's. Configs spread by `SendConfig` (a secondary adopts a
//! newer config), elections are atomic (`BecomeLeader` over a quorum of the candidate's config,
//! every voter in an older term and with a config no newer than the candidate's), and
//! `UpdateTerms` spreads terms. The safety property is [`OnePrimaryPerTerm`](one_primary_per_term).
//!
//! | variable | Rust field | per server |
//! |---|---|---|
//! | `currentTerm` | [`State::current_term`] | `u8` |
//! | `state` | [`State::state`] | [`Role`] |
//! | `configVersion` | [`State::config_version`] | `u8` |
//! | `configTerm` | [`State::config_term`] | `u8` |
//! | `config` | [`State::config`] | [`ServerSet`] |
//!
//! # Checking it
//!
//! [`LoglessRaft`] implements [`spec_core::Spec`] and [`spec_core::Layer`] (name
//! `logless-raft`, bounds `--servers`, `--max-term`, `--max-config-version`). Its state
//! constraint is the model's `StateConstraint`, and [`spec_core::Spec::canonical`] is an exact
//! canonical form under server permutations (TLC's `SYMMETRY Permutations(Server)`), see
//! [`symmetry`].
//!
//! # Mutations: weakening one guard on purpose
//!
//! [`LoglessRaft::with_mutation`] builds the spec with one [`Mutation`] in force: one conjunct
//! of one action's guard is dropped (or weakened, or one effect written wrong), everything else
//! unchanged, so that the checker can show which conditions `OnePrimaryPerTerm` rests on, with
//! a shortest counterexample.
//!
//! # The generalized Reconfig
//!
//! [`LoglessRaft::with_joint_quorum_check`] is the spec with Reconfig's two independent quorum
//! checks replaced by one, [`joint_quorum_check`] ([`QuorumChecks::Joint`]): the refinement to
//! MongoDynamicRaft ([`refinement`]) holds for it and not for the spec as written.
//!
//! # Reusing the actions in a composition (MongoRaftReconfig)
//!
//! MongoRaftReconfig runs this spec as its *config state machine* (`CSM`) next to
//! MongoStaticRaft, the *oplog state machine*. The two share `currentTerm`, `state` and
//! `config`; `configVersion` and `configTerm` belong to this machine alone, `log` and
//! `committed` to the oplog machine. Reconfig and SendConfig are config-only steps (the oplog
//! unchanged); BecomeLeader and UpdateTerms are joint steps, taken by both machines at once.
//!
//! So every action is public in [`actions`] as a guard/effect pair over the [`ConfigVars`] and
//! [`ConfigVarsMut`] traits, the same shape as static-raft's `OplogVars`/`OplogVarsMut`:
//!
//! | action | guard | effect |
//! |---|---|---|
//! | `Reconfig(i, newConfig)` | [`actions::reconfig_enabled`] | [`actions::reconfig_effect`] |
//! | `SendConfig(i, j)` | [`actions::send_config_enabled`] | [`actions::send_config_effect`] |
//! | `BecomeLeader(i, Q)` | [`actions::become_leader_enabled`] | [`actions::become_leader_effect`] |
//! | `UpdateTerms(i, j)` | [`actions::update_terms_enabled`] | [`actions::update_terms_effect`] |
//!
//! Every guard takes the [`Mutation`] in force (`None` for the real protocol); every effect
//! reads only `pre` and writes into `next` only the variables the TLA+ action assigns.
//! [`actions::enabled`] and [`actions::apply`] dispatch on an [`Action`]. A composition:
//!
//! 1. implements [`ConfigVars`] and [`ConfigVarsMut`] for its state (five getters, five
//!    setters; [`Role`] is the shared `spec_core::Role`, the same type static-raft uses);
//! 2. config steps (`CSMNext`): for every `s` and every `new_config` in
//!    `ServerSet::all(n).subsets()`, `OplogCommitment(s) && reconfig_enabled(..)`, then
//!    `reconfig_effect`; for every `s, t`, `send_config_enabled` then `send_config_effect`;
//! 3. joint steps (`JointNext`, `OSM!A /\ CSM!A`): for every `i` and every `q` in
//!    `config[i].quorums()`, both machines' BecomeLeader guards on the same binding, then each
//!    machine's effect on its own copy of the state; the step exists only where the two copies
//!    agree on the shared `currentTerm`, `state` and `config` (they do for the specs as
//!    written), and takes `configTerm` (this one stamps `configTerm[i]`) and `configVersion`
//!    from this machine's copy; UpdateTerms likewise;
//! 4. for TLC's generated counts: Reconfig yields [`actions::reconfig_witnesses`] successors
//!    per enabled binding (one per witness of each of its two existential quorum checks),
//!    times the composition's own witnesses (of `OplogCommitment`).
//!
//! ```
//! use logless_raft::actions::{become_leader_effect, become_leader_enabled, reconfig_enabled};
//! use logless_raft::{ConfigVars, ConfigVarsMut, Role};
//! use spec_core::ServerSet;
//!
//! /// A composed state: the config machine's variables plus the oplog machine's own.
//! #[derive(Clone, Copy)]
//! struct Composed {
//!     current_term: [u8; 3],
//!     state: [Role; 3],
//!     config: [ServerSet; 3],
//!     config_version: [u8; 3],
//!     config_term: [u8; 3],
//!     log_len: [u8; 3], // stands for the oplog variables
//! }
//! impl ConfigVars for Composed {
//!     fn current_term(&self, s: usize) -> u8 { self.current_term[s] }
//!     fn role(&self, s: usize) -> Role { self.state[s] }
//!     fn config(&self, s: usize) -> ServerSet { self.config[s] }
//!     fn config_version(&self, s: usize) -> u8 { self.config_version[s] }
//!     fn config_term(&self, s: usize) -> u8 { self.config_term[s] }
//! }
//! impl ConfigVarsMut for Composed {
//!     fn set_current_term(&mut self, s: usize, t: u8) { self.current_term[s] = t }
//!     fn set_role(&mut self, s: usize, r: Role) { self.state[s] = r }
//!     fn set_config(&mut self, s: usize, c: ServerSet) { self.config[s] = c }
//!     fn set_config_version(&mut self, s: usize, v: u8) { self.config_version[s] = v }
//!     fn set_config_term(&mut self, s: usize, t: u8) { self.config_term[s] = t }
//! }
//!
//! let pre = Composed {
//!     current_term: [0; 3],
//!     state: [Role::Secondary; 3],
//!     config: [ServerSet::all(3); 3],
//!     config_version: [1; 3],
//!     config_term: [0; 3],
//!     log_len: [0; 3],
//! };
//! let (i, q) = (0, ServerSet(0b011)); // n1, elected by {n1, n2}
//! assert!(become_leader_enabled(&pre, i, q, None)); // && the oplog machine's guard
//! let mut next = pre;
//! become_leader_effect(&pre, &mut next, i, q, None); // the oplog machine's half: another copy
//! assert_eq!((next.current_term, next.config_term), ([1, 1, 0], [1, 0, 0]));
//! assert_eq!(next.state[0], Role::Primary);
//! // n1's config, now stamped with term 1, is held by no other server: not yet committed.
//! assert!(!reconfig_enabled(&next, i, ServerSet(0b011), None));
//! ```
//!
//! The predicates the guards use are public too: [`config_quorum_check`],
//! [`term_quorum_check`] (and their per-member tests [`has_config_of`], [`has_term_of`], from
//! which the generalization [`joint_quorum_check`] is built), [`is_newer_config`],
//! [`is_newer_or_equal_config`],
//! [`actions::can_vote_for_config`], [`quorums_overlap`]. For [`State`] itself,
//! [`LoglessRaft::reconfig`], [`LoglessRaft::send_config`], [`LoglessRaft::become_leader`] and
//! [`LoglessRaft::update_terms`] are the actions as one call each (guard, then effect).
//!
//! # What this crate is not
//!
//! It does not check anything: the model checker and the `refine` command live in
//! `refinement-tests`. It has no log (that is `static-raft`, and the composition
//! `raft-reconfig`).

pub mod actions;
pub mod refinement;
mod state;
pub mod symmetry;

pub use actions::{Action, Mutation, QuorumChecks, ACTION_NAMES};
pub use spec_core::ServerSet;
pub use state::{
    config_id, config_quorum_check, config_quorum_witnesses, has_config_of, has_term_of,
    in_same_term, is_majority, is_newer_config, is_newer_or_equal_config, joint_quorum_check,
    one_primary_per_term, quorums_overlap, quorums_within, state_constraint, term_quorum_check,
    term_quorum_witnesses, with_same_config, ConfigVars, ConfigVarsMut, Role, State, MAX_SERVERS,
};

use spec_core::{Bound, Invariant, Layer, Parameter, Params, ParamsError, Spec};

/// MongoLoglessDynamicRaft at given bounds: `servers` servers, and the state constraint
/// `currentTerm <= max_term`, `configVersion <= max_config_version` on every server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoglessRaft {
    servers: usize,
    max_term: u8,
    max_config_version: u8,
    /// The guard conjunct this instance drops, making it a mutant of the spec; `None` (the
    /// default) is the spec itself. Set it with [`LoglessRaft::with_mutation`].
    mutation: Option<Mutation>,
    /// Reconfig's quorum checks: the spec's (the default), or one joint quorum
    /// ([`LoglessRaft::with_joint_quorum_check`]).
    quorum_checks: QuorumChecks,
}

impl LoglessRaft {
    /// The default number of servers.
    pub const DEFAULT_SERVERS: usize = 3;
    /// The default `MaxTerm`.
    pub const DEFAULT_MAX_TERM: usize = 2;
    /// The default `MaxConfigVersion`.
    pub const DEFAULT_MAX_CONFIG_VERSION: usize = 2;
    /// The largest `MaxTerm` and `MaxConfigVersion`: successors go one past them and must fit
    /// in a `u8`.
    pub const MAX_BOUND: usize = 254;

    /// The spec with `servers` servers (1 to [`MAX_SERVERS`]), bounded by `MaxTerm = max_term`
    /// and `MaxConfigVersion = max_config_version` (at most [`LoglessRaft::MAX_BOUND`]).
    pub fn new(
        servers: usize,
        max_term: usize,
        max_config_version: usize,
    ) -> Result<LoglessRaft, ParamsError> {
        LoglessRaft::from_params(&Params {
            servers: Some(servers),
            max_term: Some(max_term),
            max_config_version: Some(max_config_version),
            ..Params::default()
        })
    }

    /// The same spec with `mutation` in force (one guard conjunct dropped).
    #[must_use = "with_mutation returns the mutated spec; check that one"]
    pub fn with_mutation(mut self, mutation: Mutation) -> LoglessRaft {
        self.mutation = Some(mutation);
        self
    }

    /// The mutation in force, if any.
    pub fn mutation(&self) -> Option<Mutation> {
        self.mutation
    }

    /// The generalized spec the edge `logless-raft -> dynamic-raft` checks: Reconfig's guard
    /// asks [`joint_quorum_check`] (one quorum with `i`'s config and term) in place of
    /// `ConfigQuorumCheck(i) /\ TermQuorumCheck(i)`. See [`QuorumChecks::Joint`].
    #[must_use = "with_joint_quorum_check returns the generalized spec; check that one"]
    pub fn with_joint_quorum_check(mut self) -> LoglessRaft {
        self.quorum_checks = QuorumChecks::Joint;
        self
    }

    /// Reconfig's quorum checks.
    pub fn quorum_checks(&self) -> QuorumChecks {
        self.quorum_checks
    }
    /// The number of servers.
    pub fn servers(&self) -> usize {
        self.servers
    }
    /// `MaxTerm`.
    pub fn max_term(&self) -> usize {
        self.max_term as usize
    }
    /// `MaxConfigVersion`.
    pub fn max_config_version(&self) -> usize {
        self.max_config_version as usize
    }
}

impl Spec for LoglessRaft {
    type State = State;
    type Action = Action;

    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> Params {
        Params {
            servers: Some(self.servers),
            max_term: Some(self.max_term()),
            max_config_version: Some(self.max_config_version()),
            ..Params::default()
        }
    }

    fn action_names(&self) -> &'static [&'static str] {
        ACTION_NAMES
    }

    /// TLA+'s `Init`: one state per nonempty initial config, shared by every server.
    fn init_states(&self) -> Vec<State> {
        ServerSet::all(self.servers)
            .subsets()
            .filter(|c| !c.is_empty())
            .map(|c| State::initial(self.servers, c))
            .collect()
    }

    fn next_states(&self, state: &State, out: &mut Vec<(Action, State)>) {
        self.next(state, out);
    }

    /// Reconfig's witnesses ([`actions::reconfig_witnesses_with`] its quorum checks): TLC builds one
    /// successor per witness.
    fn copies(&self, state: &State, action: &Action) -> u64 {
        match *action {
            Action::Reconfig { i, .. } => actions::reconfig_witnesses_with(
                state,
                i as usize,
                self.quorum_checks,
                self.mutation,
            ) as u64,
            _ => 1,
        }
    }

    fn invariants(&self) -> Vec<Invariant<Self>> {
        vec![Invariant {
            name: "OnePrimaryPerTerm",
            holds: |_, s| one_primary_per_term(s),
        }]
    }

    fn within_constraint(&self, state: &State) -> bool {
        state_constraint(state, self.max_term, self.max_config_version)
    }

    fn has_symmetry(&self) -> bool {
        true
    }

    fn disabled_because(&self, state: &State, action: &Action) -> Vec<String> {
        actions::false_conjuncts(state, *action, self.quorum_checks, self.mutation)
    }

    fn canonical(&self, state: &State) -> State {
        symmetry::canonical(state)
    }

    /// The action's method ([`LoglessRaft::reconfig`], ...: guard, then effect), after
    /// [`actions::in_model`].
    fn step(&self, state: &State, action: &Action) -> Option<State> {
        if !actions::in_model(state, self.servers, *action) {
            return None;
        }
        match *action {
            Action::Reconfig { i, new_config } => self.reconfig(state, i as usize, new_config),
            Action::SendConfig { i, j } => self.send_config(state, i as usize, j as usize),
            Action::BecomeLeader { i, vote_quorum } => {
                self.become_leader(state, i as usize, vote_quorum)
            }
            Action::UpdateTerms { i, j } => self.update_terms(state, i as usize, j as usize),
        }
    }

    /// [`State::read_itf`] with this model's servers.
    fn read_state(
        &self,
        value: &spec_core::itf::Value,
    ) -> Result<State, spec_core::itf::ReadError> {
        State::read_itf(value, self.servers)
    }
}

impl Layer for LoglessRaft {
    const NAME: &'static str = "logless-raft";
    const DESCRIPTION: &'static str = "MongoLoglessDynamicRaft";
    /// Defaults: 3 servers, `MaxTerm` 2, `MaxConfigVersion` 2 (947 distinct states with
    /// symmetry).
    const PARAMETERS: &'static [Parameter] = &[
        Parameter::new(
            Bound::Servers,
            Self::DEFAULT_SERVERS,
            (1, MAX_SERVERS),
            "per-server arrays hold at most 7 servers",
        ),
        Parameter::new(
            Bound::MaxTerm,
            Self::DEFAULT_MAX_TERM,
            (0, Self::MAX_BOUND),
            "terms are u8 and successors reach MaxTerm + 1",
        ),
        Parameter::new(
            Bound::MaxConfigVersion,
            Self::DEFAULT_MAX_CONFIG_VERSION,
            (1, Self::MAX_BOUND),
            "config versions start at 1, are u8, and successors reach MaxConfigVersion + 1",
        ),
    ];

    fn from_params(params: &Params) -> Result<Self, ParamsError> {
        let [servers, max_term, max_config_version] =
            params.resolve::<3>(Self::NAME, Self::PARAMETERS)?;
        Ok(LoglessRaft {
            servers,
            max_term: max_term as u8,
            max_config_version: max_config_version as u8,
            mutation: None,
            quorum_checks: QuorumChecks::Independent,
        })
    }
}

#[cfg(test)]
mod step_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// `Next` written straight from [`actions::enabled`] and [`actions::apply`], every
    /// binding tried, Reconfig repeated once per witness pair.
    fn next_by_definition(spec: &LoglessRaft, s: &State) -> Vec<(Action, State)> {
        let mut candidates = Vec::new();
        let all = s.server_set();
        for i in s.server_ids().map(|i| i as u8) {
            for new_config in all.subsets() {
                candidates.push(Action::Reconfig { i, new_config });
            }
        }
        for i in s.server_ids().map(|i| i as u8) {
            for j in s.server_ids().map(|j| j as u8) {
                candidates.push(Action::SendConfig { i, j });
            }
        }
        for i in s.server_ids() {
            for vote_quorum in s.config[i].quorums() {
                let i = i as u8;
                candidates.push(Action::BecomeLeader { i, vote_quorum });
            }
        }
        for i in s.server_ids().map(|i| i as u8) {
            for j in s.server_ids().map(|j| j as u8) {
                candidates.push(Action::UpdateTerms { i, j });
            }
        }
        let mut out = Vec::new();
        let (checks, mutation) = (spec.quorum_checks(), spec.mutation());
        for action in candidates {
            let enabled = match action {
                Action::Reconfig { i, new_config } => {
                    actions::reconfig_enabled_with(s, i as usize, new_config, checks, mutation)
                }
                _ => actions::enabled(s, action, mutation),
            };
            if enabled {
                let mut next = *s;
                actions::apply(s, &mut next, action, mutation);
                let copies = match action {
                    Action::Reconfig { i, .. } => {
                        actions::reconfig_witnesses_with(s, i as usize, checks, mutation)
                    }
                    _ => 1,
                };
                for _ in 0..copies {
                    out.push((action, next));
                }
            }
        }
        out
    }

    /// The fast enumeration agrees with the definition on every reachable state, for the spec
    /// and for every mutant, with the spec's quorum checks and with the joint one.
    #[test]
    fn next_matches_the_public_guards_and_effects() {
        let mutants = std::iter::once(None).chain(Mutation::ALL.into_iter().map(Some));
        let variants = mutants.flat_map(|m| {
            [QuorumChecks::Independent, QuorumChecks::Joint].map(|checks| (m, checks))
        });
        for (mutation, quorum_checks) in variants {
            let spec = LoglessRaft {
                mutation,
                quorum_checks,
                ..LoglessRaft::new(3, 2, 2).unwrap()
            };
            let mut out = Vec::new();
            for s in reachable(&spec) {
                out.clear();
                spec.next_states(&s, &mut out);
                let by_definition = next_by_definition(&spec, &s);
                let repeated: Vec<(Action, State)> = out
                    .iter()
                    .flat_map(|&step| std::iter::repeat_n(step, spec.copies(&s, &step.0) as usize))
                    .collect();
                assert_eq!(
                    repeated, by_definition,
                    "{mutation:?} {quorum_checks:?} at {s:?}"
                );
                for &(action, next) in &out {
                    let by_method = match action {
                        Action::Reconfig { i, new_config } => {
                            spec.reconfig(&s, i as usize, new_config)
                        }
                        Action::SendConfig { i, j } => spec.send_config(&s, i as usize, j as usize),
                        Action::BecomeLeader { i, vote_quorum } => {
                            spec.become_leader(&s, i as usize, vote_quorum)
                        }
                        Action::UpdateTerms { i, j } => {
                            spec.update_terms(&s, i as usize, j as usize)
                        }
                    };
                    assert_eq!(by_method, Some(next), "{action}");
                }
            }
        }
    }

    /// Every state reachable within the constraint, by a plain search.
    fn reachable(spec: &LoglessRaft) -> Vec<State> {
        let mut seen: HashSet<State> = spec.init_states().into_iter().collect();
        let mut frontier: Vec<State> = seen.iter().copied().collect();
        let mut all = frontier.clone();
        let mut out = Vec::new();
        while let Some(s) = frontier.pop() {
            out.clear();
            spec.next_states(&s, &mut out);
            for (_, t) in &out {
                if spec.within_constraint(t) && seen.insert(*t) {
                    frontier.push(*t);
                    all.push(*t);
                }
            }
        }
        all
    }

    /// The explanation of a disabled step names a false conjunct exactly for the bindings the
    /// successor function does not yield, on every reachable state, for the spec and every
    /// mutant, with either quorum check; vote quorums range over every set of servers. (The
    /// mutants at MaxTerm 1, which keeps the test to seconds.)
    #[test]
    fn disabled_because_is_empty_exactly_for_enabled_bindings() {
        let mutants = std::iter::once(None).chain(Mutation::ALL.into_iter().map(Some));
        let variants = mutants.flat_map(|m| {
            [QuorumChecks::Independent, QuorumChecks::Joint].map(|checks| (m, checks))
        });
        for (mutation, quorum_checks) in variants {
            let max_term = if mutation.is_none() { 2 } else { 1 };
            let spec = LoglessRaft {
                mutation,
                quorum_checks,
                ..LoglessRaft::new(3, max_term, 2).unwrap()
            };
            let mut out = Vec::new();
            for s in reachable(&spec) {
                out.clear();
                spec.next_states(&s, &mut out);
                let all = s.server_set();
                for i in s.server_ids().map(|i| i as u8) {
                    let mut bindings = Vec::new();
                    for q in all.subsets() {
                        bindings.push(Action::Reconfig { i, new_config: q });
                        bindings.push(Action::BecomeLeader { i, vote_quorum: q });
                    }
                    for j in s.server_ids().map(|j| j as u8) {
                        bindings.push(Action::SendConfig { i, j });
                        bindings.push(Action::UpdateTerms { i, j });
                    }
                    for action in bindings {
                        let enabled = out.iter().any(|(a, _)| *a == action);
                        let why = spec.disabled_because(&s, &action);
                        assert_eq!(
                            why.is_empty(),
                            enabled,
                            "{mutation:?} {quorum_checks:?} {action} at {s:?}: {why:?}"
                        );
                    }
                }
            }
        }
        let spec = LoglessRaft::new(3, 2, 2).unwrap();
        let s = State::initial(3, ServerSet::all(3));
        let action = Action::Reconfig {
            i: 0,
            new_config: ServerSet::EMPTY.with(1),
        };
        assert_eq!(
            spec.disabled_because(&s, &action),
            [
                "state[n1] = Primary",
                "QuorumsOverlap(config[n1], {n2})",
                "n1 \\in {n2}"
            ]
        );
    }

    #[test]
    fn init_has_one_state_per_nonempty_config() {
        let spec = LoglessRaft::new(4, 1, 1).unwrap();
        assert_eq!(spec.init_states().len(), 15);
    }

    #[test]
    fn from_params_fills_defaults_and_rejects_bad_bounds() {
        let spec = LoglessRaft::from_params(&Params::default()).unwrap();
        assert_eq!(spec, LoglessRaft::new(3, 2, 2).unwrap());
        let too_many = Params {
            servers: Some(8),
            ..Params::default()
        };
        assert!(matches!(
            LoglessRaft::from_params(&too_many),
            Err(ParamsError::OutOfRange {
                bound: Bound::Servers,
                ..
            })
        ));
        let unused = Params {
            max_log_len: Some(2),
            ..Params::default()
        };
        assert!(matches!(
            LoglessRaft::from_params(&unused),
            Err(ParamsError::Unused { .. })
        ));
    }

    #[test]
    fn actions_print_like_tla() {
        let a = Action::Reconfig {
            i: 0,
            new_config: ServerSet(0b101),
        };
        assert_eq!(a.to_string(), "Reconfig(n1, {n1, n3})");
        assert_eq!(
            Action::UpdateTerms { i: 2, j: 1 }.to_string(),
            "UpdateTerms(n3, n2)"
        );
    }
}
