//! MongoWeakRaft and MongoSafeWeakRaft as executable specifications: Raft with no assumption
//! about the quorums servers use, and the same protocol restricted to the steps that keep the
//! *weak quorum condition*.
//!
//! This crate ports `specs/refinements/MongoWeakRaft.tla`, `MongoSafeWeakRaft.tla` and their
//! models `MCMongoWeakRaft.tla`, `MCMongoSafeWeakRaft.tla` (github will62794/logless-reconfig,
//! commit c7dce8d) state for state: it enumerates the same successors as TLC, with the same
//! multiplicity, so the checker's counts of generated and distinct states and the search depth
//! agree with TLC's exactly.
//!
//! # What the level models
//!
//! The level sits between the log-based abstractions (`distlog`, `log-abstract`) and the Mongo
//! protocols (`static-raft`, `dynamic-raft`): it says what a Raft-like protocol may do with its
//! logs, terms and elections, and leaves open which quorums it uses. The original authors
//! define *safety* for any Raft-like protocol as "refines MongoSafeWeakRaft".
//!
//! Servers have a term, a role (Primary or Secondary), a log of entry terms and a config (a set
//! of servers). The protocol steps ([`Step`]) are those of MongoStaticRaft, with two more
//! freedoms:
//! - [`MergeEntries`](Step::MergeEntries): a coarse replication step that copies a whole newer
//!   log (by last entry) over another server's log, replication and rollback in one;
//! - [`BecomeLeader`](Step::BecomeLeader) may append a no-op entry of the new term, or not;
//!
//! and RollbackEntries no longer asks the server to be Secondary. Above all, **every step may
//! also change one server's config** to any nonempty set of servers ([`ChangeConfig`]): `Next`
//! is `NextStatic /\ \E s \in Server : ChangeConfig(s)`. Quorums (majorities of a server's
//! current config) then need not overlap, and the protocol is unsafe: the spec's own theorem is
//! `~(Spec => []StateMachineSafety)`.
//!
//! Two history variables record what happened, for the conditions and invariants to read:
//! `elections` (every `[leader, term]` elected) and `committed` (every `[entry, term]`
//! committed). No protocol guard reads `elections`; CommitEntry reads `committed` only to commit
//! an entry once.
//!
//! # The two variants
//!
//! - [`WeakRaft`] (layer `weak-raft`, MongoWeakRaft): any step. It violates StateMachineSafety
//!   (two entries committed at one index, in 5 states at the default bounds); its only declared
//!   invariant is StateMachineSafety, so that checking it finds and prints that counterexample.
//!   [`WeakRaft::with_all_invariants`] declares every invariant listed below except
//!   FutureCommittedImpliesImmediatelyCommitted (with 3 servers, several then fail in 3 states,
//!   among them ElectionSafety: two leaders of term 1; the checker reports
//!   ImmediatelyCommittedImpliesFutureCommitted, the failing state with the smallest fingerprint).
//! - [`SafeWeakRaft`] (layer `safe-weak-raft`, MongoSafeWeakRaft): the same spec restricted to
//!   initial states and steps whose resulting state satisfies the WeakQuorumCondition
//!   ([`conditions::weak_quorum_condition`]): `Init == MWR!Init /\ WQC`, `Next == MWR!Next /\
//!   WQC'`. Quorums still need not overlap, but each quorum a server could use to win an
//!   election or commit meets the newest election's term and every committed entry.
//!
//! The StrictQuorumCondition (all quorums overlap and configs never change, an action
//! property) and the WeakQuorumCondition (a state predicate, with its parts QC_1, QC_2, QC_3)
//! are public in [`conditions`].
//!
//! # Invariants, and what this port found about MongoSafeWeakRaft
//!
//! | name | defined in | MongoSafeWeakRaft |
//! |---|---|---|
//! | StateMachineSafety | MongoWeakRaft | **violated**: 3 servers, MaxTerm 3, MaxLogLen 2 (a 15-state behaviour) |
//! | ElectionSafety | MongoWeakRaft | no violation found |
//! | LeaderCompleteness | MongoWeakRaft | **violated**: 3 servers, MaxTerm 2, MaxLogLen 2 (9 states, shortest) |
//! | TermSafetyCondition (TS1, TS2, TS3) | MongoSafeWeakRaft | violated with TS3 (= LeaderCompleteness) |
//! | CommittedEntryImpliesLesserSiblingTerms | MongoSafeWeakRaft | no violation found |
//! | LogMatching | MongoWeakRaft | **violated**: 3 servers, MaxTerm 2, MaxLogLen 2 (7 states, shortest) |
//! | ImmediatelyCommittedImpliesFutureCommitted | MongoWeakRaft | **violated**: same bounds (8 states, shortest) |
//! | ElectionDisablesOldTerms | MongoWeakRaft | **violated**: 3 servers, MaxTerm 1, MaxLogLen 1 (3 states) |
//! | FutureCommittedImpliesImmediatelyCommitted | MongoWeakRaft | violated (not meant to hold) |
//!
//! [`SafeWeakRaft`] declares the first five, the properties the spec claims (its theorem is
//! `Spec => []StateMachineSafety`; its model checks ElectionSafety, LeaderCompleteness,
//! StateMachineSafety and CommittedEntryImpliesLesserSiblingTerms). All hold at 2 servers
//! (the default bounds) and at 3 servers with MaxTerm 1, or MaxTerm 2 and MaxLogLen 1. The
//! violations above are real behaviours of the original spec: TLC replays each trace (a model
//! whose constraint keeps only the trace's states) and reports the same invariant violated.
//!
//! The cause is one freedom of MongoWeakRaft: MergeEntries and RollbackEntries have no role
//! guard, so a *primary's* log can be overwritten or cut. A stale primary (of term 1, say)
//! whose log was replaced by a newer one (`<<2>>`) then appends a client write of its old term:
//! `<<2, 1>>`. That log holds the entry committed in term 2, so a quorum containing it meets
//! QC_2, yet it looks *older* than a log `<<1, 1>>` that lacks the entry, and votes for its
//! owner: a leader without a committed entry (LeaderCompleteness), and from there a second
//! commit at the same index (StateMachineSafety). LogMatching and
//! ImmediatelyCommittedImpliesFutureCommitted fail on the same kind of log. MongoStaticRaft
//! forbids exactly this: its primaries never roll back or receive entries. With those two role
//! guards added (RollbackEntries by a Secondary only, MergeEntries into a Secondary only), an
//! experiment on a copy of this crate found no violation of the five declared invariants,
//! LogMatching or ImmediatelyCommittedImpliesFutureCommitted at 3 servers, MaxTerm 2 or 3,
//! MaxLogLen 2 (this port keeps the spec as written).
//!
//! # Bounds
//!
//! `servers` (1 to [`MAX_SERVERS`], default 2), `max-term` and `max-log-len` (the models'
//! `StateConstraint`: every term at most `MaxTerm`, every log at most `MaxLogLen` long; default
//! 2 each). The models declare `MaxConfigVersion` but never use it; this port has no such
//! bound. Symmetry: all server permutations (`MCMongoSafeWeakRaft.cfg` uses it;
//! `MCMongoWeakRaft.cfg` does not). The defaults are small because every step comes with
//! `servers x (2^servers - 1)` config changes: 3 servers are fine with `MaxTerm` 1 or
//! `MaxLogLen` 1, and take minutes beyond.
//!
//! ```
//! use spec_core::Spec;
//! use weak_raft::{SafeWeakRaft, WeakRaft};
//!
//! let weak = WeakRaft::new(3, 2, 2).unwrap();
//! assert_eq!(weak.init_states().len(), 7); // one per nonempty config of 3 servers
//! let mut next = Vec::new();
//! weak.next_states(&weak.init_states()[6], &mut next);
//! // From config {n1, n2, n3} everywhere: 3 candidates x 3 quorums containing each x (with or
//! // without the no-op) = 18 elections, each with any of 3 x 7 config changes.
//! assert_eq!(next.len(), 18 * 21);
//!
//! // The safe variant drops the steps after which some server could be elected, or commit,
//! // with a quorum that misses the newest election's term.
//! let safe = SafeWeakRaft::new(3, 2, 2).unwrap();
//! let mut safe_next = Vec::new();
//! safe.next_states(&safe.init_states()[6], &mut safe_next);
//! assert!(safe_next.len() < next.len());
//! ```
//!
//! # What this crate is not
//!
//! It does not check anything: the model checker and the `refine` command live in
//! `refinement-tests`. The refinement mappings *to* this level live in the lower crates
//! (`static-raft`'s `refinement` module maps MongoStaticRaft onto [`SafeWeakRaft`]).

pub mod actions;
pub mod conditions;
pub mod guard;
pub mod refinement;
mod state;
pub mod to_distlog;

pub use actions::{Action, ChangeConfig, Step};
pub use conditions::{strict_quorum_condition, weak_quorum_condition, QuorumContext};
pub use refinement::CommittedAreChosen;
pub use state::{
    election_disables_old_terms, election_safety, future_committed_implies_immediately_committed,
    get_term, immediately_committed_implies_future_committed, in_log, is_future_committed,
    last_term, leader_completeness, log_entries_all, log_matching, newer_log, state_machine_safety,
    Committed, CommittedEntry, ElectionRecord, Elections, Log, Role, State, LOG_CAPACITY,
    MAX_COMMITTED_INDEX, MAX_COMMITTED_TERM, MAX_SERVERS, MAX_TERM,
};
pub use to_distlog::LogsAsDistLog;

use spec_core::{
    permutations, Bound, Invariant, Layer, Parameter, Params, ParamsError, ServerSet, Spec,
};

/// The bounds of a layer on this crate's state encoding (both variants here, and
/// `dynamic-raft`), checked against what the encoding holds, and the server permutations that
/// symmetry reduction needs.
#[derive(Clone, Debug)]
pub struct RaftBounds {
    /// The number of servers.
    pub servers: usize,
    /// `MaxTerm`.
    pub max_term: u8,
    /// `MaxLogLen`.
    pub max_log_len: u8,
    /// Every permutation of the servers.
    pub permutations: Vec<Vec<u8>>,
}

impl RaftBounds {
    /// The default number of servers of both variants.
    pub const DEFAULT_SERVERS: usize = 2;
    /// The default `MaxTerm`.
    pub const DEFAULT_MAX_TERM: usize = 2;
    /// The default `MaxLogLen`.
    pub const DEFAULT_MAX_LOG_LEN: usize = 2;
    /// The bounds such a layer takes, `--servers` defaulting to `default_servers`: its
    /// `Layer::PARAMETERS`.
    pub const fn parameters(default_servers: usize) -> [Parameter; 3] {
        [
            Parameter::new(
                Bound::Servers,
                default_servers,
                (1, MAX_SERVERS),
                "per-server arrays hold 5 servers; symmetry tries all n! permutations",
            ),
            Parameter::new(
                Bound::MaxTerm,
                Self::DEFAULT_MAX_TERM,
                (0, MAX_TERM),
                "elections hold terms 1..=6 and the committed bitmask terms 1..=5",
            ),
            Parameter::new(
                Bound::MaxLogLen,
                Self::DEFAULT_MAX_LOG_LEN,
                (0, LOG_CAPACITY - 1),
                "logs hold MaxLogLen + 1 <= 6 entries; the committed bitmask holds indexes 1..=5",
            ),
        ]
    }

    /// The bounds of layer `layer` from `params`, as `declared` (its
    /// [`RaftBounds::parameters`]); fails on a bound the layer does not take or the encoding
    /// cannot hold.
    pub fn from_params(
        layer: &'static str,
        params: &Params,
        declared: &[Parameter],
    ) -> Result<RaftBounds, ParamsError> {
        let [servers, max_term, max_log_len] = params.resolve::<3>(layer, declared)?;
        Ok(RaftBounds {
            servers,
            max_term: max_term as u8,
            max_log_len: max_log_len as u8,
            permutations: permutations(servers),
        })
    }

    /// The bounds as `Params`.
    pub fn params(&self) -> Params {
        Params {
            servers: Some(self.servers),
            max_term: Some(self.max_term as usize),
            max_log_len: Some(self.max_log_len as usize),
            ..Params::default()
        }
    }

    /// `Init` of MongoWeakRaft: one state per nonempty config, in increasing bitmask order.
    fn init_states(&self) -> Vec<State> {
        ServerSet::all(self.servers)
            .subsets()
            .filter(|c| !c.is_empty())
            .map(|c| State::initial(self.servers, c))
            .collect()
    }

    /// `StateConstraint`: every term at most MaxTerm, every log at most MaxLogLen entries.
    fn within_constraint(&self, state: &State) -> bool {
        state.server_ids().all(|s| {
            state.current_term[s] <= self.max_term
                && state.log[s].len() <= self.max_log_len as usize
        })
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

/// The invariants MongoSafeWeakRaft satisfies, StateMachineSafety first.
fn safe_invariants<M: Spec<State = State>>() -> Vec<Invariant<M>> {
    vec![
        Invariant {
            name: "StateMachineSafety",
            holds: |_, s| state_machine_safety(s),
        },
        Invariant {
            name: "ElectionSafety",
            holds: |_, s| election_safety(s),
        },
        Invariant {
            name: "LeaderCompleteness",
            holds: |_, s| leader_completeness(s),
        },
        Invariant {
            name: "TermSafetyCondition",
            holds: |_, s| conditions::term_safety_condition(s),
        },
        Invariant {
            name: "CommittedEntryImpliesLesserSiblingTerms",
            holds: |_, s| conditions::committed_entry_implies_lesser_sibling_terms(s),
        },
    ]
}

/// MongoWeakRaft at given bounds, as a [`Spec`]: the unsafe variant.
#[derive(Clone, Debug)]
pub struct WeakRaft {
    bounds: RaftBounds,
    all_invariants: bool,
}

impl WeakRaft {
    /// The default number of servers.
    pub const DEFAULT_SERVERS: usize = RaftBounds::DEFAULT_SERVERS;
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

    /// The same spec, declaring every invariant of MongoWeakRaft and MongoSafeWeakRaft (most of
    /// which this unsafe variant violates) instead of StateMachineSafety alone.
    #[must_use = "with_all_invariants returns the spec; check that one"]
    pub fn with_all_invariants(mut self) -> Self {
        self.all_invariants = true;
        self
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

impl Spec for WeakRaft {
    type State = State;
    type Action = Action;

    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> Params {
        self.bounds.params()
    }

    fn action_names(&self) -> &'static [&'static str] {
        actions::ACTION_NAMES
    }

    fn init_states(&self) -> Vec<State> {
        self.bounds.init_states()
    }

    fn next_states(&self, state: &State, out: &mut Vec<(Action, State)>) {
        actions::next(state, |action, next| out.push((action, next)));
    }

    /// The false conjuncts of the step's guard ([`actions::next_guard`]): of the protocol
    /// action (and its quorum's binding) and of the ChangeConfig taken with it.
    fn disabled_because(&self, state: &State, action: &Action) -> Vec<String> {
        guard::false_conjuncts(|g| actions::next_guard(state, *action, g))
    }

    /// [`actions::apply`] (the guard, then the effect), after [`actions::in_model`].
    fn step(&self, state: &State, action: &Action) -> Option<State> {
        actions::in_model(state, *action)
            .then(|| actions::apply(state, *action))
            .flatten()
    }

    /// [`State::read_itf`] with this model's servers.
    fn read_state(
        &self,
        value: &spec_core::itf::Value,
    ) -> Result<State, spec_core::itf::ReadError> {
        State::read_itf(value, self.bounds.servers)
    }

    /// StateMachineSafety, which the spec's theorem says fails; with
    /// [`WeakRaft::with_all_invariants`], every invariant of the two specs.
    fn invariants(&self) -> Vec<Invariant<Self>> {
        let mut all = safe_invariants();
        if self.all_invariants {
            all.push(Invariant {
                name: "LogMatching",
                holds: |_, s| log_matching(s),
            });
            all.push(Invariant {
                name: "ImmediatelyCommittedImpliesFutureCommitted",
                holds: |_, s| immediately_committed_implies_future_committed(s),
            });
            all.push(Invariant {
                name: "ElectionDisablesOldTerms",
                holds: |_, s| election_disables_old_terms(s),
            });
        } else {
            all.truncate(1);
        }
        all
    }

    fn within_constraint(&self, state: &State) -> bool {
        self.bounds.within_constraint(state)
    }

    fn has_symmetry(&self) -> bool {
        true
    }

    fn canonical(&self, state: &State) -> State {
        self.bounds.canonical(state)
    }
}

impl Layer for WeakRaft {
    const NAME: &'static str = "weak-raft";
    const DESCRIPTION: &'static str = "MongoWeakRaft";
    const PARAMETERS: &'static [Parameter] = &RaftBounds::parameters(Self::DEFAULT_SERVERS);

    fn from_params(params: &Params) -> Result<Self, ParamsError> {
        Ok(WeakRaft {
            bounds: RaftBounds::from_params(Self::NAME, params, Self::PARAMETERS)?,
            all_invariants: false,
        })
    }
}

/// MongoSafeWeakRaft at given bounds, as a [`Spec`]: MongoWeakRaft restricted to initial states
/// and steps whose resulting state satisfies the WeakQuorumCondition.
#[derive(Clone, Debug)]
pub struct SafeWeakRaft {
    bounds: RaftBounds,
}

impl SafeWeakRaft {
    /// The default number of servers.
    pub const DEFAULT_SERVERS: usize = RaftBounds::DEFAULT_SERVERS;
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

impl Spec for SafeWeakRaft {
    type State = State;
    type Action = Action;

    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> Params {
        self.bounds.params()
    }

    fn action_names(&self) -> &'static [&'static str] {
        actions::ACTION_NAMES
    }

    /// `MWR!Init /\ WeakQuorumCondition` (every initial state satisfies it: nothing was elected
    /// or committed yet).
    fn init_states(&self) -> Vec<State> {
        let mut inits = self.bounds.init_states();
        inits.retain(weak_quorum_condition);
        inits
    }

    /// `MWR!Next /\ WeakQuorumCondition'`: the successors of MongoWeakRaft, in the same order
    /// and multiplicity, that satisfy the condition.
    fn next_states(&self, state: &State, out: &mut Vec<(Action, State)>) {
        actions::next_static(state, |step, base| {
            // `base` has the new protocol variables and the old configs; a config change sets
            // one server's config, so only that server's part of the condition is re-evaluated.
            let context = QuorumContext::new(&base);
            let mut holds = [true; MAX_SERVERS];
            for s in base.server_ids() {
                holds[s] = context.holds_for(s, base.config[s]);
            }
            let failing = base.server_ids().filter(|&s| !holds[s]).count();
            actions::config_changes(state, step, |change| {
                let i = usize::from(change.i);
                let others_hold = failing == 0 || (failing == 1 && !holds[i]);
                if others_hold && context.holds_for(i, change.new_config) {
                    let mut next = base;
                    next.config[i] = change.new_config;
                    out.push((
                        Action {
                            step,
                            change_config: change,
                        },
                        next,
                    ));
                }
            });
        });
    }

    /// MongoWeakRaft's step ([`WeakRaft`]'s `step`), if the state it leads to satisfies the
    /// WeakQuorumCondition.
    fn step(&self, state: &State, action: &Action) -> Option<State> {
        actions::in_model(state, *action)
            .then(|| actions::apply(state, *action))
            .flatten()
            .filter(weak_quorum_condition)
    }

    /// [`State::read_itf`] with this model's servers.
    fn read_state(
        &self,
        value: &spec_core::itf::Value,
    ) -> Result<State, spec_core::itf::ReadError> {
        State::read_itf(value, self.bounds.servers)
    }

    /// The false conjuncts of MongoWeakRaft's guard ([`WeakRaft::disabled_because`]) or, when
    /// the MongoWeakRaft step is enabled, the instances of QC_1, QC_2 and QC_3 that are false
    /// in the state it leads to (`WeakQuorumCondition'`).
    fn disabled_because(&self, state: &State, action: &Action) -> Vec<String> {
        let why = guard::false_conjuncts(|g| actions::next_guard(state, *action, g));
        match actions::apply(state, *action) {
            Some(next) if why.is_empty() => {
                guard::false_conjuncts(|g| conditions::weak_quorum_condition_guard(&next, g))
            }
            _ => why,
        }
    }

    /// StateMachineSafety, ElectionSafety, LeaderCompleteness, TermSafetyCondition,
    /// CommittedEntryImpliesLesserSiblingTerms and ImmediatelyCommittedImpliesFutureCommitted
    /// (not LogMatching nor ElectionDisablesOldTerms, which this spec violates: see the crate
    /// docs).
    fn invariants(&self) -> Vec<Invariant<Self>> {
        safe_invariants()
    }

    fn within_constraint(&self, state: &State) -> bool {
        self.bounds.within_constraint(state)
    }

    fn has_symmetry(&self) -> bool {
        true
    }

    fn canonical(&self, state: &State) -> State {
        self.bounds.canonical(state)
    }
}

impl Layer for SafeWeakRaft {
    const NAME: &'static str = "safe-weak-raft";
    const DESCRIPTION: &'static str = "MongoSafeWeakRaft";
    const PARAMETERS: &'static [Parameter] = &RaftBounds::parameters(Self::DEFAULT_SERVERS);

    fn from_params(params: &Params) -> Result<Self, ParamsError> {
        Ok(SafeWeakRaft {
            bounds: RaftBounds::from_params(Self::NAME, params, Self::PARAMETERS)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_validated() {
        assert!(WeakRaft::new(6, 2, 2).is_err());
        assert!(WeakRaft::new(3, 6, 2).is_err());
        assert!(SafeWeakRaft::new(3, 2, 6).is_err());
        let p = Params {
            values: Some(2),
            ..Params::default()
        };
        assert!(matches!(
            WeakRaft::from_params(&p),
            Err(ParamsError::Unused { .. })
        ));
        let spec = SafeWeakRaft::from_params(&Params::default()).unwrap();
        assert_eq!(
            (spec.servers(), spec.max_term(), spec.max_log_len()),
            (2, 2, 2)
        );
        assert_eq!(spec.name(), "safe-weak-raft");
    }

    #[test]
    fn canonical_form_is_the_same_for_every_permutation() {
        let spec = WeakRaft::new(3, 3, 2).unwrap();
        let mut s = State::initial(3, ServerSet(0b011));
        s.current_term = [2, 1, 0, 0, 0];
        s.state[0] = Role::Primary;
        s.log[0] = Log::from_slice(&[1, 2]);
        s.log[1] = Log::from_slice(&[1]);
        s.config[2] = ServerSet(0b100);
        s.elections = Elections::EMPTY.with(1, 1).with(0, 2);
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
        s.elections = s.elections.with(0, 1);
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
                r##""elections":{"#set":[{"leader":"n1","term":1}]},"##,
                r##""committed":{"#set":[{"entry":{"#tup":[1,1]},"term":1}]}}"##
            )
        );
    }

    #[test]
    fn action_display_names_the_step_and_the_config_change() {
        let a = Action {
            step: Step::BecomeLeader {
                i: 0,
                vote_quorum: ServerSet(0b101),
                noop: true,
            },
            change_config: ChangeConfig {
                i: 2,
                new_config: ServerSet(0b100),
            },
        };
        assert_eq!(
            a.to_string(),
            r"BecomeLeader(n1, {n1, n3}, no-op) /\ ChangeConfig(n3, {n3})"
        );
        assert_eq!(spec_core::Action::name(&a), "BecomeLeader");
    }

    #[test]
    fn update_terms_is_counted_once_and_other_steps_once_per_config_change() {
        let spec = WeakRaft::new(3, 2, 2).unwrap();
        let mut s = State::initial(3, ServerSet::all(3));
        s.current_term[0] = 1;
        let mut next = Vec::new();
        spec.next_states(&s, &mut next);
        let count = |name: &str| {
            next.iter()
                .filter(|(a, _)| spec_core::Action::name(a) == name)
                .count()
        };
        // n1 can raise n2 and n3: two bindings, one successor each.
        assert_eq!(count("UpdateTerms"), 2);
        // n1 can be elected by 3 quorums, n2 and n3 by 1 each (n1 is in term 1): with or
        // without the no-op, each with 21 config changes.
        assert_eq!(count("BecomeLeader"), (3 + 1 + 1) * 2 * 21);
    }

    /// The states `spec` reaches within its constraint, breadth first, at most `limit` of them.
    fn reachable<S: Spec>(spec: &S, limit: usize) -> Vec<S::State> {
        let mut seen: std::collections::HashSet<S::State> =
            spec.init_states().into_iter().collect();
        let mut states: Vec<S::State> = seen.iter().cloned().collect();
        let mut k = 0;
        while k < states.len() && states.len() < limit {
            let mut next = Vec::new();
            spec.next_states(&states[k], &mut next);
            for (_, t) in next {
                if spec.within_constraint(&t) && seen.insert(t.clone()) {
                    states.push(t);
                }
            }
            k += 1;
        }
        states
    }

    /// Every binding of `Next`'s parameters at 3 servers: each protocol step (quorums ranging
    /// over every set of servers, not only quorums) with each ChangeConfig (the empty set
    /// included).
    fn every_binding(servers: usize) -> Vec<Action> {
        let all = ServerSet::all(servers);
        let mut steps = Vec::new();
        for i in spec_core::servers::server_range(servers) {
            steps.push(Step::ClientRequest { i });
            for q in all.subsets() {
                for noop in [true, false] {
                    steps.push(Step::BecomeLeader {
                        i,
                        vote_quorum: q,
                        noop,
                    });
                }
                steps.push(Step::CommitEntry {
                    i,
                    commit_quorum: q,
                });
            }
            for j in spec_core::servers::server_range(servers) {
                steps.push(Step::GetEntries { i, j });
                steps.push(Step::RollbackEntries { i, j });
                steps.push(Step::MergeEntries { i, j });
                steps.push(Step::UpdateTerms { i, j });
            }
        }
        let mut actions = Vec::new();
        for step in steps {
            for i in spec_core::servers::server_range(servers) {
                for new_config in all.subsets() {
                    actions.push(Action {
                        step,
                        change_config: ChangeConfig { i, new_config },
                    });
                }
            }
        }
        actions
    }

    /// The reference check of `disabled_because`: in every reachable state of a small model,
    /// for every binding, it names no conjunct exactly when the step is one of `next_states`.
    /// Returns how many bindings were disabled for want of the WeakQuorumCondition alone.
    fn explanations_agree_with_the_enumeration<S: Spec<State = State, Action = Action>>(
        spec: &S,
        limit: usize,
    ) -> usize {
        let bindings = every_binding(3);
        let states = reachable(spec, limit);
        let mut by_quorum_condition = 0;
        for s in &states {
            let mut next = Vec::new();
            spec.next_states(s, &mut next);
            let enabled: std::collections::HashSet<Action> = next.iter().map(|(a, _)| *a).collect();
            for a in &bindings {
                let why = spec.disabled_because(s, a);
                assert_eq!(why.is_empty(), enabled.contains(a), "{a} in {s:?}: {why:?}");
                let qc = why.iter().filter(|c| c.starts_with("QC_")).count();
                assert!(qc == 0 || qc == why.len(), "{why:?}");
                by_quorum_condition += usize::from(qc > 0);
            }
        }
        assert!(states.len() > 1000, "{}", states.len());
        by_quorum_condition
    }

    #[test]
    fn a_disabled_step_names_its_false_conjuncts_with_its_values_bound() {
        // n1 was elected in term 1 by {n1, n2}; n3 is still in term 0.
        let mut s = State::initial(3, ServerSet::all(3));
        s.current_term = [1, 1, 0, 0, 0];
        s.state[0] = Role::Primary;
        s.elections = s.elections.with(0, 1);
        let (weak, safe) = (
            WeakRaft::new(3, 2, 2).unwrap(),
            SafeWeakRaft::new(3, 2, 2).unwrap(),
        );
        let step = |step, i, new_config| Action {
            step,
            change_config: ChangeConfig {
                i,
                new_config: ServerSet(new_config),
            },
        };
        let write = step(Step::ClientRequest { i: 1 }, 0, 0);
        assert_eq!(
            weak.disabled_because(&s, &write),
            ["state[n2] = Primary", "{} # {}"]
        );
        let commit = Step::CommitEntry {
            i: 0,
            commit_quorum: ServerSet(0b011),
        };
        assert_eq!(
            weak.disabled_because(&s, &step(commit, 0, 0b111)),
            [
                "Len(log[n1]) > 0",
                "ImmediatelyCommitted(<<Len(log[n1]), currentTerm[n1]>>, {n1, n2}): InLog(<<Len(log[n1]), currentTerm[n1]>>, n1)",
                "ImmediatelyCommitted(<<Len(log[n1]), currentTerm[n1]>>, {n1, n2}): InLog(<<Len(log[n1]), currentTerm[n1]>>, n2)",
            ]
        );
        let update = step(Step::UpdateTerms { i: 0, j: 2 }, 1, 0b001);
        assert_eq!(
            weak.disabled_because(&s, &update),
            [
                "{n1} = config[n2] (UpdateTerms keeps config UNCHANGED)",
                "n2 = n1 (with config UNCHANGED, TLC names the step once, with ChangeConfig(n1, config[n1]))",
            ]
        );
        // n1's write is a MongoWeakRaft step; with n3's config {n3}, n3 could then be elected
        // by itself, which has not reached term 1: the WeakQuorumCondition fails after it.
        let write = step(Step::ClientRequest { i: 0 }, 2, 0b100);
        assert!(weak.disabled_because(&s, &write).is_empty());
        assert_eq!(safe.disabled_because(&s, &write), ["QC_1(n3, {n3})'"]);
    }

    #[test]
    fn weak_raft_names_a_false_conjunct_exactly_when_a_step_is_not_enabled() {
        let spec = WeakRaft::new(3, 1, 1).unwrap();
        assert_eq!(explanations_agree_with_the_enumeration(&spec, 1200), 0);
    }

    #[test]
    fn safe_weak_raft_names_a_false_conjunct_exactly_when_a_step_is_not_enabled() {
        let spec = SafeWeakRaft::new(3, 1, 1).unwrap();
        assert!(explanations_agree_with_the_enumeration(&spec, 1200) > 0);
    }

    /// `step`'s override is the successor `next_states` pairs with the action, or `None`, on
    /// every reachable state of a 2-server model, for every binding of 3 servers (one past the
    /// model's), for both variants.
    fn step_agrees_with_the_enumeration<S: Spec<State = State, Action = Action>>(
        spec: &S,
    ) -> (usize, usize) {
        let bindings = every_binding(3);
        let states = spec_core::reachable_states(spec, usize::MAX);
        let mut enabled = 0;
        for s in &states {
            let mut next = Vec::new();
            spec.next_states(s, &mut next);
            enabled -= next.len() as isize;
            for a in &bindings {
                let expected = next.iter().find(|(b, _)| b == a).map(|(_, t)| *t);
                assert_eq!(spec.step(s, a), expected, "{a} in {s:?}");
                enabled += expected.is_some() as isize;
            }
        }
        // `enabled` is 0 when every successor is one binding's.
        (states.len(), enabled as usize)
    }

    #[test]
    fn weak_raft_step_is_the_successor_of_the_enumeration() {
        let spec = WeakRaft::new(2, 1, 1).unwrap();
        assert_eq!(step_agrees_with_the_enumeration(&spec), (1684, 0));
    }

    #[test]
    fn safe_weak_raft_step_is_the_successor_of_the_enumeration() {
        let spec = SafeWeakRaft::new(2, 1, 1).unwrap();
        assert_eq!(step_agrees_with_the_enumeration(&spec), (857, 0));
    }

    #[test]
    fn actions_print_and_parse_back() {
        let spec = WeakRaft::new(2, 2, 1).unwrap();
        let names = spec_core::action_text::check_round_trips(&spec, usize::MAX)
            .unwrap()
            .names;
        assert_eq!(names.len(), 7, "{names:?}");
        for a in every_binding(3) {
            assert_eq!(a.to_string().parse(), Ok(a), "{a}");
        }
        let err = |text: &str| text.parse::<Action>().unwrap_err().to_string();
        assert_eq!(
            err("ClientRequest(n1)"),
            "cannot read action `ClientRequest(n1)`: expected a protocol step /\\ ChangeConfig(i, newConfig)"
        );
        assert_eq!(
            err("BecomeLeader(n1, {n1}, noop) /\\ ChangeConfig(n1, {n1})"),
            "cannot read action `BecomeLeader(n1, {n1}, noop) /\\ ChangeConfig(n1, {n1})`: \
             BecomeLeader takes other arguments than the 3 given; the actions are: \
             ClientRequest(i), GetEntries(i, j), RollbackEntries(i, j), BecomeLeader(i, voteQuorum), \
             BecomeLeader(i, voteQuorum, no-op), CommitEntry(i, commitQuorum), MergeEntries(i, j), \
             UpdateTerms(i, j)"
        );
    }

    #[test]
    fn states_read_back_from_their_itf() {
        let spec = WeakRaft::new(2, 2, 1).unwrap();
        let states = spec_core::reachable_states(&spec, usize::MAX);
        for s in &states {
            let json = serde_json::to_value(s).unwrap();
            assert_eq!(spec.read_state(&json), Ok(*s), "{json}");
            assert_eq!(serde_json::from_value::<State>(json).unwrap(), *s);
        }
        let mut json = serde_json::to_value(states[0]).unwrap();
        json["elections"] = serde_json::json!({"#set": [{"leader": "n3", "term": 1}]});
        assert_eq!(
            spec.read_state(&json).unwrap_err().to_string(),
            "variable elections: item 1: n3 is not a server of this 2-server model"
        );
        json["elections"] = serde_json::json!({"#set": [{"leader": "n1", "term": 7}]});
        assert_eq!(
            spec.read_state(&json).unwrap_err().to_string(),
            "variable elections: item 1: term 7 is outside the terms 1..6 the encoding holds"
        );
        json["elections"] = serde_json::json!({"#set": [{"leader": "n1"}]});
        assert_eq!(
            spec.read_state(&json).unwrap_err().to_string(),
            r#"variable elections: item 1: expected a record [leader, term], found {"leader":"n1"}"#
        );
    }

    #[test]
    fn apply_agrees_with_the_enumeration() {
        let spec = WeakRaft::new(3, 2, 2).unwrap();
        let mut s = State::initial(3, ServerSet::all(3));
        s.current_term[0] = 1;
        s.state[0] = Role::Primary;
        s.log[0].push(1);
        let mut next = Vec::new();
        spec.next_states(&s, &mut next);
        for (action, successor) in &next {
            assert_eq!(actions::apply(&s, *action), Some(*successor), "{action}");
        }
    }
}
