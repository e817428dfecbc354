//! MongoDynamicRaft as an executable specification: Raft with log-based reconfiguration, where
//! every client write carries a config.
//!
//! This crate ports `specs/refinements/MongoDynamicRaft.tla` (github will62794/logless-reconfig,
//! commit c7dce8d) state for state: it enumerates the same successors as TLC, with the same
//! multiplicity, so the checker's counts of generated and distinct states and the search depth
//! agree with TLC's exactly (the original has no model file; see the tests in
//! `refine/tests/suite/dynamic_raft.rs` for the model used).
//!
//! # What the level models
//!
//! MongoDynamicRaft is the "log-based" way to change a Raft group's membership, the design the
//! logless protocol (`logless-raft`) is meant to implement without a log. It is MongoWeakRaft
//! (crate `weak-raft`), whose steps may change configs arbitrarily, restricted to four actions
//! that change configs only in disciplined ways:
//!
//! - [`ClientRequest(i, newConfig)`](Action::ClientRequest): a primary's write carries a new
//!   config, which the primary adopts at once. It appends an entry of its term to `log[i]` and
//!   `newConfig` to `configLog[i]`. Guards: the primary's last entry is committed
//!   (`LastIsCommitted`), the quorums of the old and new configs overlap (`QuorumsOverlap`), and
//!   the primary stays a member.
//! - [`MergeEntries(i, j)`](Action::MergeEntries): a server with a newer log (by last entry)
//!   copies its log, its config log and its config onto another server (replication and
//!   rollback in one step; the receiver may be a primary).
//! - [`BecomeLeader(i, voteQuorum)`](Action::BecomeLeader): an atomic election, as in
//!   MongoWeakRaft, with the no-op entry made mandatory (it carries the leader's current config):
//!   a new primary cannot reconfigure until an entry of its term is committed.
//! - [`CommitEntry(i, commitQuorum)`](Action::CommitEntry): as in MongoWeakRaft.
//!
//! There is no UpdateTerms, GetEntries or RollbackEntries. A server's config is the config of
//! its last log entry (or the initial config while its log is empty): the config travels with
//! the log.
//!
//! [`DynamicRaft::with_update_terms`] is a generalization with MongoWeakRaft's UpdateTerms as a
//! fifth action, which the mapping from the logless protocol needs (`logless-raft`'s
//! `refinement` module); it keeps the invariants and the edge to MongoSafeWeakRaft.
//!
//! # State
//!
//! [`State`] is MongoWeakRaft's state (`currentTerm`, `state`, `log`, `config`, and the history
//! variables `elections` and `committed`, in `weak-raft`'s encoding, field `raft`) plus
//! `configLog` ([`ConfigLog`] per server: a byte per entry). `Copy`, no heap.
//!
//! # Invariants
//!
//! ElectionSafety, LeaderCompleteness, LogMatching and StateMachineSafety (MongoWeakRaft's, on
//! the shared variables), and LogMatchingWithConfigs (LogMatching for logs and config logs
//! together). With 3 servers all five hold at every bound tried; with 4 servers LogMatching
//! and LogMatchingWithConfigs fail (a deposed primary that has not learned it is deposed
//! receives a newer log by MergeEntries and writes an entry of its old term after it; see the
//! README), while ElectionSafety, LeaderCompleteness and StateMachineSafety hold.
//!
//! # Up the refinement chain
//!
//! The spec's theorems say MongoDynamicRaft refines MongoWeakRaft and keeps the
//! WeakQuorumCondition on every step, that is, it refines MongoSafeWeakRaft:
//! [`refinement::SafeWeakRaftMapping`] checks that (`dynamic-raft -> safe-weak-raft`).
//!
//! It does not check anything itself: the model checker and the `refine` command live in
//! `refinement-tests`.

pub mod actions;
pub mod refinement;
mod state;

pub use actions::Action;
pub use refinement::SafeWeakRaftMapping;
pub use state::{
    election_safety, leader_completeness, log_matching, log_matching_with_configs,
    state_machine_safety, ConfigLog, State,
};
/// The `weak-raft` crate, whose state, types and actions this one reuses.
pub use weak_raft;

use spec_core::{Invariant, Layer, Parameter, Params, ParamsError, ServerSet, Spec};
use weak_raft::guard::Holds;
use weak_raft::RaftBounds;

/// MongoDynamicRaft at given bounds, as a [`Spec`].
#[derive(Clone, Debug)]
pub struct DynamicRaft {
    with_update_terms: bool,
    bounds: RaftBounds,
}

impl DynamicRaft {
    /// The default number of servers.
    pub const DEFAULT_SERVERS: usize = 3;
    /// The default `MaxTerm`.
    pub const DEFAULT_MAX_TERM: usize = RaftBounds::DEFAULT_MAX_TERM;
    /// The default `MaxLogLen`.
    pub const DEFAULT_MAX_LOG_LEN: usize = RaftBounds::DEFAULT_MAX_LOG_LEN;

    /// The spec with `servers` servers, bounded by `MaxTerm = max_term` and
    /// `MaxLogLen = max_log_len`; fails on bounds the state encoding cannot hold.
    pub fn new(servers: usize, max_term: usize, max_log_len: usize) -> Result<Self, ParamsError> {
        Self::from_params(&Params {
            servers: Some(servers),
            max_term: Some(max_term),
            max_log_len: Some(max_log_len),
            ..Params::default()
        })
    }

    /// The generalization with MongoWeakRaft's UpdateTerms as a fifth action (a server learns
    /// a newer term from another and steps down; logs and configs unchanged). MongoDynamicRaft
    /// has no action that changes terms alone; the logless protocol does, so the mapping
    /// `logless-raft -> dynamic-raft` needs this (see `logless-raft`'s `refinement` module). It
    /// is still a restriction of MongoWeakRaft, and still refines MongoSafeWeakRaft.
    #[must_use = "with_update_terms returns the generalized spec; check that one"]
    pub fn with_update_terms(mut self) -> Self {
        self.with_update_terms = true;
        self
    }

    /// Whether this is the generalization of [`DynamicRaft::with_update_terms`].
    pub fn has_update_terms(&self) -> bool {
        self.with_update_terms
    }

    /// The number of servers.
    pub fn servers(&self) -> usize {
        self.bounds.servers
    }
    /// `MaxTerm`.
    pub fn max_term(&self) -> usize {
        self.bounds.max_term as usize
    }
    /// `MaxLogLen`.
    pub fn max_log_len(&self) -> usize {
        self.bounds.max_log_len as usize
    }
}

impl Spec for DynamicRaft {
    type State = State;
    type Action = Action;

    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> Params {
        self.bounds.params()
    }

    fn action_names(&self) -> &'static [&'static str] {
        if self.with_update_terms {
            actions::ACTION_NAMES_WITH_UPDATE_TERMS
        } else {
            actions::ACTION_NAMES
        }
    }

    /// `Init`: one state per nonempty initial config (the same on every server), in increasing
    /// bitmask order, with empty logs and config logs.
    fn init_states(&self) -> Vec<State> {
        ServerSet::all(self.bounds.servers)
            .subsets()
            .filter(|c| !c.is_empty())
            .map(|c| State::initial(self.bounds.servers, c))
            .collect()
    }

    fn next_states(&self, state: &State, out: &mut Vec<(Action, State)>) {
        actions::next(state, self.with_update_terms, |action, next| {
            out.push((action, next))
        });
    }

    /// [`actions::next_guard`] and the action's function, after [`actions::in_model`].
    fn step(&self, state: &State, action: &Action) -> Option<State> {
        let enabled = actions::in_model(state, *action)
            && actions::next_guard(state, *action, self.with_update_terms, &mut Holds);
        enabled.then(|| actions::apply(state, *action)).flatten()
    }

    /// [`State::read_itf`] with this model's servers.
    fn read_state(
        &self,
        value: &spec_core::itf::Value,
    ) -> Result<State, spec_core::itf::ReadError> {
        State::read_itf(value, self.bounds.servers)
    }

    /// The false conjuncts of the action's guard ([`actions::next_guard`]).
    fn disabled_because(&self, state: &State, action: &Action) -> Vec<String> {
        weak_raft::guard::false_conjuncts(|g| {
            actions::next_guard(state, *action, self.with_update_terms, g)
        })
    }

    /// ElectionSafety, LeaderCompleteness, LogMatching, StateMachineSafety and
    /// LogMatchingWithConfigs.
    fn invariants(&self) -> Vec<Invariant<Self>> {
        vec![
            Invariant {
                name: "ElectionSafety",
                holds: |_, s| election_safety(s),
            },
            Invariant {
                name: "LeaderCompleteness",
                holds: |_, s| leader_completeness(s),
            },
            Invariant {
                name: "LogMatching",
                holds: |_, s| log_matching(s),
            },
            Invariant {
                name: "StateMachineSafety",
                holds: |_, s| state_machine_safety(s),
            },
            Invariant {
                name: "LogMatchingWithConfigs",
                holds: |_, s| log_matching_with_configs(s),
            },
        ]
    }

    /// `StateConstraint`: every term at most MaxTerm, every log at most MaxLogLen entries.
    fn within_constraint(&self, state: &State) -> bool {
        let r = &state.raft;
        r.server_ids().all(|s| {
            r.current_term[s] <= self.bounds.max_term
                && r.log[s].len() <= self.bounds.max_log_len as usize
        })
    }

    fn has_symmetry(&self) -> bool {
        true
    }

    /// The least of the state's `servers!` permuted copies under `State`'s derived order
    /// (servers renamed everywhere, configs and config logs included).
    fn canonical(&self, state: &State) -> State {
        self.bounds
            .permutations
            .iter()
            .skip(1)
            .map(|perm| state.permuted(perm))
            .fold(*state, std::cmp::min)
    }
}

impl Layer for DynamicRaft {
    const NAME: &'static str = "dynamic-raft";
    const DESCRIPTION: &'static str = "MongoDynamicRaft";
    /// `MaxConfigVersion` is declared by the spec but used by nothing: not a bound here.
    const PARAMETERS: &'static [Parameter] = &RaftBounds::parameters(Self::DEFAULT_SERVERS);

    fn from_params(params: &Params) -> Result<Self, ParamsError> {
        Ok(DynamicRaft {
            with_update_terms: false,
            bounds: RaftBounds::from_params(Self::NAME, params, Self::PARAMETERS)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weak_raft::{CommittedEntry, Role};

    #[test]
    fn bounds_are_validated() {
        assert!(DynamicRaft::new(6, 2, 2).is_err());
        assert!(DynamicRaft::new(3, 6, 2).is_err());
        assert!(DynamicRaft::new(3, 2, 6).is_err());
        let p = Params {
            max_config_version: Some(2),
            ..Params::default()
        };
        assert!(matches!(
            DynamicRaft::from_params(&p),
            Err(ParamsError::Unused { .. })
        ));
        let spec = DynamicRaft::from_params(&Params::default()).unwrap();
        assert_eq!(
            (spec.servers(), spec.max_term(), spec.max_log_len()),
            (3, 2, 2)
        );
        assert_eq!(spec.name(), "dynamic-raft");
    }

    /// A primary `n1` in term 1 with the committed no-op `<<1>>` and config `{n1, n2}`.
    fn primary_with_committed_noop() -> State {
        let mut s = State::initial(3, ServerSet(0b011));
        s.raft.current_term = [1, 1, 0, 0, 0];
        s.raft.state[0] = Role::Primary;
        s.raft.log[0].push(1);
        s.raft.log[1].push(1);
        s.config_log[0].push(ServerSet(0b011));
        s.config_log[1].push(ServerSet(0b011));
        s.raft.elections = s.raft.elections.with(0, 1);
        s.raft.committed = s.raft.committed.with(CommittedEntry {
            index: 1,
            entry_term: 1,
            term: 1,
        });
        s
    }

    #[test]
    fn canonical_form_is_the_same_for_every_permutation() {
        let spec = DynamicRaft::new(3, 3, 2).unwrap();
        let mut s = primary_with_committed_noop();
        s.raft.config[2] = ServerSet(0b100);
        let c = spec.canonical(&s);
        for perm in spec_core::permutations(3) {
            assert_eq!(spec.canonical(&s.permuted(&perm)), c);
        }
    }

    #[test]
    fn serializes_with_tla_variable_names() {
        let mut s = State::initial(2, ServerSet::all(2));
        s.raft.state[0] = Role::Primary;
        s.raft.current_term[0] = 1;
        s.raft.log[0].push(1);
        s.config_log[0].push(ServerSet(0b01));
        s.raft.elections = s.raft.elections.with(0, 1);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            concat!(
                r##"{"currentTerm":{"#map":[["n1",1],["n2",0]]},"##,
                r##""state":{"#map":[["n1","Primary"],["n2","Secondary"]]},"##,
                r##""log":{"#map":[["n1",[1]],["n2",[]]]},"##,
                r##""config":{"#map":[["n1",{"#set":["n1","n2"]}],["n2",{"#set":["n1","n2"]}]]},"##,
                r##""configLog":{"#map":[["n1",[{"#set":["n1"]}]],["n2",[]]]},"##,
                r##""elections":{"#set":[{"leader":"n1","term":1}]},"##,
                r##""committed":{"#set":[]}}"##
            )
        );
    }

    #[test]
    fn client_request_needs_overlap_membership_and_a_committed_last_entry() {
        let s = primary_with_committed_noop();
        let spec = DynamicRaft::new(3, 2, 2).unwrap();
        let mut next = Vec::new();
        spec.next_states(&s, &mut next);
        let reconfigs: Vec<ServerSet> = next
            .iter()
            .filter_map(|(a, _)| match *a {
                Action::ClientRequest { new_config, .. } => Some(new_config),
                _ => None,
            })
            .collect();
        // From {n1, n2} (quorum: both): every config holding n1 whose quorums meet {n1, n2}.
        // {n1} (quorum {n1}), {n1, n2}, {n1, n3} (quorum {n1, n3} meets {n1, n2}), and
        // {n1, n2, n3} (every majority meets {n1, n2}).
        assert_eq!(
            reconfigs,
            vec![
                ServerSet(0b001),
                ServerSet(0b011),
                ServerSet(0b101),
                ServerSet(0b111)
            ]
        );
        let (_, after) = next
            .iter()
            .find(|(a, _)| matches!(a, Action::ClientRequest { new_config, .. } if *new_config == ServerSet(0b111)))
            .unwrap();
        assert_eq!(after.raft.config[0], ServerSet(0b111));
        assert_eq!(after.raft.log[0].as_slice(), &[1, 1]);
        assert_eq!(after.config_log[0].last(), Some(ServerSet(0b111)));
        // The new entry is not committed: no further reconfig.
        let mut again = Vec::new();
        spec.next_states(after, &mut again);
        assert!(!again
            .iter()
            .any(|(a, _)| matches!(a, Action::ClientRequest { i: 0, .. })));
    }

    #[test]
    fn become_leader_always_appends_a_noop_with_the_config() {
        let spec = DynamicRaft::new(3, 2, 2).unwrap();
        let s = State::initial(3, ServerSet(0b111));
        let mut next = Vec::new();
        spec.next_states(&s, &mut next);
        // 3 candidates, each in 3 majorities holding itself: 9 elections, nothing else.
        assert_eq!(next.len(), 9);
        for (a, t) in &next {
            let Action::BecomeLeader { i, .. } = *a else {
                panic!("{a}")
            };
            let i = usize::from(i);
            assert_eq!(t.raft.log[i].as_slice(), &[1]);
            assert_eq!(t.config_log[i].last(), Some(ServerSet(0b111)));
        }
    }

    #[test]
    fn apply_agrees_with_the_enumeration() {
        let spec = DynamicRaft::new(3, 2, 2).unwrap();
        let s = primary_with_committed_noop();
        let mut next = Vec::new();
        spec.next_states(&s, &mut next);
        assert!(!next.is_empty());
        for (action, successor) in &next {
            assert_eq!(actions::apply(&s, *action), Some(*successor), "{action}");
        }
    }

    /// The reference check of `disabled_because`: in every state `spec` reaches (breadth first,
    /// within its constraint, at most `limit`), for every binding of the actions' parameters
    /// at 3 servers (quorums and configs ranging over every set of servers), it names no
    /// conjunct exactly when the action is one of `next_states`.
    fn explanations_agree_with_the_enumeration(spec: &DynamicRaft, limit: usize) {
        let all = ServerSet::all(3);
        let mut bindings = Vec::new();
        for i in 0..3 {
            for q in all.subsets() {
                bindings.push(Action::ClientRequest { i, new_config: q });
                bindings.push(Action::BecomeLeader { i, vote_quorum: q });
                bindings.push(Action::CommitEntry {
                    i,
                    commit_quorum: q,
                });
            }
            for j in 0..3 {
                bindings.push(Action::MergeEntries { i, j });
                bindings.push(Action::UpdateTerms { i, j });
            }
        }
        let mut seen: std::collections::HashSet<State> = spec.init_states().into_iter().collect();
        let mut states: Vec<State> = seen.iter().copied().collect();
        let mut k = 0;
        while k < states.len() {
            let s = states[k];
            let mut next = Vec::new();
            spec.next_states(&s, &mut next);
            let enabled: std::collections::HashSet<Action> = next.iter().map(|(a, _)| *a).collect();
            for a in &bindings {
                let why = spec.disabled_because(&s, a);
                assert_eq!(why.is_empty(), enabled.contains(a), "{a} in {s:?}: {why:?}");
            }
            for (_, t) in next {
                if states.len() < limit && spec.within_constraint(&t) && seen.insert(t) {
                    states.push(t);
                }
            }
            k += 1;
        }
        assert!(states.len() > 1000, "{}", states.len());
    }

    /// Every binding at `servers` servers, quorums and configs ranging over every set of them.
    fn every_binding(servers: usize) -> Vec<Action> {
        let all = ServerSet::all(servers);
        let mut bindings = Vec::new();
        for i in spec_core::servers::server_range(servers) {
            for q in all.subsets() {
                bindings.push(Action::ClientRequest { i, new_config: q });
                bindings.push(Action::BecomeLeader { i, vote_quorum: q });
                bindings.push(Action::CommitEntry {
                    i,
                    commit_quorum: q,
                });
            }
            for j in spec_core::servers::server_range(servers) {
                bindings.push(Action::MergeEntries { i, j });
                bindings.push(Action::UpdateTerms { i, j });
            }
        }
        bindings
    }

    /// `step`'s override is the successor `next_states` pairs with the action, or `None`, on
    /// every reachable state of a 2-server model, for every binding of 3 servers (one past the
    /// model's), with and without UpdateTerms.
    #[test]
    fn step_is_the_successor_next_states_pairs_with_the_action() {
        let bindings = every_binding(3);
        for spec in [
            DynamicRaft::new(2, 2, 2).unwrap(),
            DynamicRaft::new(2, 2, 2).unwrap().with_update_terms(),
        ] {
            let states = spec_core::reachable_states(&spec, usize::MAX);
            let mut unnamed = 0isize;
            for s in &states {
                let mut next = Vec::new();
                spec.next_states(s, &mut next);
                unnamed += next.len() as isize;
                for a in &bindings {
                    let expected = next.iter().find(|(b, _)| b == a).map(|(_, t)| *t);
                    assert_eq!(spec.step(s, a), expected, "{a} in {s:?}");
                    unnamed -= expected.is_some() as isize;
                }
            }
            assert_eq!(unnamed, 0, "every successor is one binding's");
            let expected = if spec.has_update_terms() { 471 } else { 265 };
            assert_eq!(states.len(), expected);
        }
    }

    #[test]
    fn actions_print_and_parse_back() {
        let spec = DynamicRaft::new(2, 2, 2).unwrap().with_update_terms();
        let names = spec_core::action_text::check_round_trips(&spec, usize::MAX)
            .unwrap()
            .names;
        assert_eq!(names.len(), 5, "{names:?}");
        for a in every_binding(4) {
            assert_eq!(a.to_string().parse(), Ok(a), "{a}");
        }
        assert_eq!(
            "MergeEntries(n1)"
                .parse::<Action>()
                .unwrap_err()
                .to_string(),
            "cannot read action `MergeEntries(n1)`: MergeEntries takes other arguments than the \
             1 given; the actions are: ClientRequest(i, newConfig), MergeEntries(i, j), \
             BecomeLeader(i, voteQuorum), CommitEntry(i, commitQuorum), UpdateTerms(i, j)"
        );
    }

    #[test]
    fn states_read_back_from_their_itf() {
        let spec = DynamicRaft::new(2, 2, 2).unwrap();
        let states = spec_core::reachable_states(&spec, usize::MAX);
        for s in &states {
            let json = serde_json::to_value(s).unwrap();
            assert_eq!(spec.read_state(&json), Ok(*s), "{json}");
            assert_eq!(serde_json::from_value::<State>(json).unwrap(), *s);
        }
        let mut json = serde_json::to_value(states[0]).unwrap();
        json["configLog"] = serde_json::json!({"#map": [["n1", [{"#set": ["n3"]}]], ["n2", []]]});
        assert_eq!(
            spec.read_state(&json).unwrap_err().to_string(),
            "variable configLog: at n1: item 1: n3 is not a server of this 2-server model"
        );
        json.as_object_mut().unwrap().remove("configLog");
        assert_eq!(
            spec.read_state(&json).unwrap_err().to_string(),
            "the variables are currentTerm, state, log, config, configLog, elections, committed; \
             missing: configLog"
        );
    }

    #[test]
    fn a_false_conjunct_is_named_exactly_when_an_action_is_not_enabled() {
        explanations_agree_with_the_enumeration(&DynamicRaft::new(3, 2, 2).unwrap(), 3000);
        let generalized = DynamicRaft::new(3, 2, 2).unwrap().with_update_terms();
        explanations_agree_with_the_enumeration(&generalized, 3000);
    }

    #[test]
    fn a_reconfig_before_the_last_entry_is_committed_names_last_is_committed() {
        let spec = DynamicRaft::new(3, 2, 2).unwrap();
        let mut s = primary_with_committed_noop();
        s.raft.log[0].push(1);
        s.config_log[0].push(ServerSet(0b011));
        let reconfig = Action::ClientRequest {
            i: 0,
            new_config: ServerSet(0b110),
        };
        assert_eq!(
            spec.disabled_because(&s, &reconfig),
            ["LastIsCommitted(n1)", r"n1 \in {n2, n3}"]
        );
        let update = Action::UpdateTerms { i: 0, j: 2 };
        assert_eq!(
            spec.disabled_because(&s, &update),
            ["UpdateTerms(n1, n3) is a disjunct of Next (MongoDynamicRaft has no UpdateTerms; its generalization with MongoWeakRaft's has)"]
        );
        assert!(spec
            .with_update_terms()
            .disabled_because(&s, &update)
            .is_empty());
    }

    #[test]
    fn action_display_names_servers() {
        let a = Action::ClientRequest {
            i: 0,
            new_config: ServerSet(0b101),
        };
        assert_eq!(a.to_string(), "ClientRequest(n1, {n1, n3})");
        assert_eq!(
            Action::MergeEntries { i: 1, j: 2 }.to_string(),
            "MergeEntries(n2, n3)"
        );
    }
}
