//! The refinement MongoLoglessDynamicRaft -> MongoDynamicRaft (`logless-raft -> dynamic-raft`),
//! with history variables: the original authors' open TODO, checked.
//!
//! MongoLoglessDynamicRaft keeps only each server's latest config, versioned by (config term,
//! config version). MongoDynamicRaft (crate `dynamic-raft`) is the log-based protocol it is
//! meant to implement: every config change is a log entry, and a server's config is the config
//! of its last entry. The drafts of the originals (`MongoLoglessDynamicRaftRefinement.tla` at
//! commit c67ed4b, `MongoLoglessDynamicRaftAux.tla` at d4a45d7) add the log as a history
//! variable; this module completes that idea and checks it step by step.
//!
//! # The history variables
//!
//! [`LoglessWithHistory`] is MongoLoglessDynamicRaft plus four history variables, which record
//! the past and never constrain a logless step (but see "the one scheduling choice" below):
//!
//! - `log[s]`: the terms of the config changes behind `s`'s config. BecomeLeader appends the
//!   new term (the election's stamp of the config with its term is MongoDynamicRaft's mandatory
//!   no-op); Reconfig appends the primary's term; SendConfig copies the sender's log.
//! - `configLog[s]`: the config of each of those entries (BecomeLeader: the leader's config;
//!   Reconfig: the new config; SendConfig: the sender's).
//! - `elections`: BecomeLeader records `[leader |-> i, term |-> newTerm]`.
//! - `committed`: recorded by a step of its own, **CommitConfig(i, Q)**, which changes no
//!   logless variable (a stutter of the logless spec): primary `i` records its last entry
//!   `<<Len(log[i]), configTerm[i]>>`, in term `currentTerm[i]`, when every member of `Q`, a
//!   quorum of its config, has `i`'s config version, config term *and* current term (the
//!   drafts' `CommitConfigAux`).
//!
//! So a config `(version, term)` stands for a log entry `<<Len, term>>`, and the logless
//! comparisons are MongoDynamicRaft's log comparisons: `IsNewerConfig` is `NewerLog` (last
//! term, then length, since within a term each version is one entry longer), and
//! `CanVoteForConfig` is `CanVoteForOplog`. The invariant `HistoryMatchesConfig` checks that a
//! server's config term is its last log term and its config the last of its config log.
//!
//! # The mapping
//!
//! The state maps by projection (`configVersion`, `configTerm` dropped; the history variables
//! become `log`, `configLog`, `elections`, `committed`), and the steps one for one:
//!
//! | MongoLoglessDynamicRaft (+ history) | MongoDynamicRaft |
//! |---|---|
//! | `Reconfig(i, newConfig)` | `ClientRequest(i, newConfig)` |
//! | `SendConfig(i, j)` | `MergeEntries(i, j)` |
//! | `BecomeLeader(i, Q)` | `BecomeLeader(i, Q)` |
//! | `CommitConfig(i, Q)` (history step) | `CommitEntry(i, Q)` |
//! | `UpdateTerms(i, j)` | `UpdateTerms(i, j)`, only in the generalization (see below) |
//!
//! # The one scheduling choice
//!
//! ClientRequest needs `LastIsCommitted(i)`: a commit *recorded* before. Reconfig needs only
//! that the commit *has happened* (its quorum checks). So in [`LoglessWithHistory`] a Reconfig
//! is not taken while a CommitConfig for `i` is enabled: the commit is recorded first. This
//! removes no logless behaviour: a CommitConfig changes no logless variable and leaves the
//! Reconfig enabled, so the behaviour where it is inserted first projects onto the same logless
//! behaviour. When the commit *cannot* be recorded, the Reconfig stays enabled, and the check
//! finds whether MongoDynamicRaft can follow.
//!
//! # What holds and what does not
//!
//! As written, the mapping fails twice; each failure has a one-line fix, and with both it holds.
//! The traces quoted are the shortest ones found with symmetry reduction (as the tests pin them);
//! without it, `refine refines` may print another shortest trace of the same length, with other
//! servers.
//!
//! 1. **UpdateTerms has no counterpart.** The logless spec spreads terms (and steps primaries
//!    down) by UpdateTerms; MongoDynamicRaft changes terms and roles only by elections. The
//!    shortest counterexample is 3 states: `BecomeLeader(n1, {n1, n2})`, `UpdateTerms(n1,
//!    n3)`. Fix on the upper side: [`DynamicRaft::with_update_terms`] adds MongoWeakRaft's
//!    UpdateTerms (terms and roles only; logs and configs unchanged). It is still a
//!    restriction of MongoWeakRaft, its invariants still hold, and the edge `dynamic-raft ->
//!    safe-weak-raft` still holds for it (all checked, counts agreed with TLC), so nothing
//!    above breaks.
//! 2. **Reconfig's two quorum checks are independent.** MongoLoglessDynamicRaft's Reconfig
//!    asks for *a* quorum holding the primary's config (ConfigQuorumCheck) and *a* quorum in its
//!    term (TermQuorumCheck), possibly different ones. MongoDynamicRaft commits an entry only
//!    with *one* quorum whose members hold the entry *and* are in the leader's term
//!    (ImmediatelyCommitted), and a reconfig needs its last entry committed. When only split
//!    quorums exist, the config is never recorded as committed and the ClientRequest is not
//!    enabled. Shortest counterexample, 4 states with 3 servers: `BecomeLeader(n1, {n1, n2})`
//!    (n1 and n2 in term 1), `SendConfig(n1, n3)` (n3 gets the config of term 1, not the
//!    term), `Reconfig(n1, {n1, n2, n3})`: `{n1, n3}` holds the config, `{n1, n2}` the term.
//!    Fix on the lower side: [`DynamicRaftMapping::with_joint_quorum_check`] asks for one
//!    quorum that has both, the check MongoDynamicRaft's commit makes. It is written as the
//!    Reconfig guard of the generalized logless spec ([`LoglessRaft::with_joint_quorum_check`]:
//!    [`crate::joint_quorum_check`] *replaces* `ConfigQuorumCheck /\ TermQuorumCheck`), built
//!    from the same per-member tests ([`crate::has_config_of`], [`crate::has_term_of`]), so a
//!    bug in either test reaches the edge: `term-quorum-check-weakened` (`>=` for the term) is
//!    refuted through it. (Written as a filter beside the two checks, with its own copy of the
//!    tests, it hid that bug: the edge's counts did not change.) A fix on the upper side
//!    would be a CommitEntry with two quorums, which MongoSafeWeakRaft's CommitEntry (one
//!    quorum) does not have: the edge above would then need rework (not tried).
//!
//! With both fixes ([`DynamicRaftMapping::generalized`]) the mapping holds at every bound
//! tried: 3 servers with MaxTerm and MaxConfigVersion 2 (with and without symmetry) and 3, and
//! 4 servers with 2; composed with `dynamic-raft -> safe-weak-raft`, the logless protocol with
//! a joint quorum check reaches MongoSafeWeakRaft. That is: *the logless protocol, with a joint
//! quorum check, implements the log-based protocol extended with term updates*. With master's
//! independent checks it does not implement it under this history construction; whether it is
//! still safe is another question (the originals model-check it, and prove MongoRaftReconfig,
//! which composes it, safe).
//!
//! TLC agrees on all of it: a scratch TLA+ module with the same history variables, CommitConfig
//! and Reconfig restriction checks `MongoDynamicRaft!Init /\ [][Next]_vars` as a property, and
//! reports the same counterexample lengths and, where it holds, the same counts (pinned in
//! `refine/tests/suite/logless_to_dynamic.rs`).
//!
//! # Bounds
//!
//! The history lives in `dynamic-raft`'s encoding, so the servers are at most 5, and the logs
//! must fit: a log has at most one entry per term and one per reconfig, so inside the state
//! constraint at most `MaxTerm + MaxConfigVersion - 1` entries, which must be at most 5 (the
//! upper level is built with `MaxLogLen` equal to it).

use crate::{has_config_of, has_term_of, Action, LoglessRaft, QuorumChecks, Role, State};
use dynamic_raft::weak_raft::{self, Committed, CommittedEntry, Elections, Log};
use dynamic_raft::{ConfigLog, DynamicRaft};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use spec_core::itf::{self, server_name};
use spec_core::{
    permutations, Bound, Invariant, Params, ParamsError, Refinement, Server, ServerSet, Spec,
    StepMapping,
};
use std::fmt;

/// The most servers the history holds (`dynamic-raft`'s per-server arrays).
pub const HISTORY_SERVERS: usize = weak_raft::MAX_SERVERS;

/// A state of [`LoglessWithHistory`]: a MongoLoglessDynamicRaft state and the history variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateWithHistory {
    /// The MongoLoglessDynamicRaft variables.
    pub state: State,
    /// `log`: per server, the term of each config change behind its config.
    pub log: [Log; HISTORY_SERVERS],
    /// `configLog`: per server, the config of each of those changes.
    pub config_log: [ConfigLog; HISTORY_SERVERS],
    /// `elections`: every `[leader, term]` elected.
    pub elections: Elections,
    /// `committed`: every config entry recorded as committed by CommitConfig.
    pub committed: Committed,
}

spec_core::impl_pack!(StateWithHistory {
    state,
    log,
    config_log,
    elections,
    committed
});

impl StateWithHistory {
    /// `s` with an empty history.
    pub fn new(state: State) -> Self {
        StateWithHistory {
            state,
            log: [Log::new(); HISTORY_SERVERS],
            config_log: [ConfigLog::new(); HISTORY_SERVERS],
            elections: Elections::EMPTY,
            committed: Committed::EMPTY,
        }
    }

    /// The state with servers renamed (server `s` becomes `perm[s]`) everywhere.
    pub fn permuted(&self, perm: &[u8]) -> Self {
        let mut out = *self;
        out.state = crate::symmetry::permute(&self.state, perm);
        for s in self.state.server_ids() {
            let t = perm[s] as usize;
            out.log[t] = self.log[s];
            out.config_log[t] = self.config_log[s].permute(perm);
        }
        out.elections = self.elections.permute(perm);
        out
    }

    /// A total order key (the logless state has no `Ord`), for the canonical form.
    #[allow(clippy::type_complexity)]
    fn key(
        &self,
    ) -> (
        [u8; crate::MAX_SERVERS],
        [Role; crate::MAX_SERVERS],
        [u8; crate::MAX_SERVERS],
        [u8; crate::MAX_SERVERS],
        [ServerSet; crate::MAX_SERVERS],
        [Log; HISTORY_SERVERS],
        [ConfigLog; HISTORY_SERVERS],
        Elections,
        Committed,
    ) {
        let s = &self.state;
        (
            s.current_term,
            s.state,
            s.config_version,
            s.config_term,
            s.config,
            self.log,
            self.config_log,
            self.elections,
            self.committed,
        )
    }
}

/// The logless variables, then `log`, `configLog`, `elections`, `committed`.
impl Serialize for StateWithHistory {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let s = &self.state;
        fn per_server<T>(s: &State, f: impl Fn(usize) -> T) -> itf::Map<String, T> {
            itf::Map(s.server_ids().map(|i| (server_name(i), f(i))).collect())
        }
        let mut st = serializer.serialize_struct("State", 9)?;
        st.serialize_field("currentTerm", &per_server(s, |i| s.current_term[i]))?;
        st.serialize_field("state", &per_server(s, |i| s.state[i]))?;
        st.serialize_field("configVersion", &per_server(s, |i| s.config_version[i]))?;
        st.serialize_field("configTerm", &per_server(s, |i| s.config_term[i]))?;
        st.serialize_field("config", &per_server(s, |i| s.config[i]))?;
        st.serialize_field("log", &per_server(s, |i| self.log[i].as_slice().to_vec()))?;
        st.serialize_field("configLog", &per_server(s, |i| self.config_log[i]))?;
        st.serialize_field("elections", &self.elections)?;
        st.serialize_field("committed", &self.committed)?;
        st.end()
    }
}

/// A step of [`LoglessWithHistory`]: a logless step, or the history step CommitConfig.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HistoryAction {
    /// A MongoLoglessDynamicRaft step, with its history update.
    Logless(Action),
    /// `CommitConfig(i, Q)`: record primary `i`'s last entry as committed, `Q` (a quorum of its
    /// config) having its config and its term. No logless variable changes.
    CommitConfig {
        /// The primary.
        i: Server,
        /// The quorum.
        quorum: ServerSet,
    },
}

/// The action names: the logless spec's, then CommitConfig.
pub const HISTORY_ACTION_NAMES: &[&str] = &[
    "Reconfig",
    "SendConfig",
    "BecomeLeader",
    "UpdateTerms",
    "CommitConfig",
];

impl spec_core::Action for HistoryAction {
    fn name(&self) -> &'static str {
        match self {
            HistoryAction::Logless(a) => spec_core::Action::name(a),
            HistoryAction::CommitConfig { .. } => "CommitConfig",
        }
    }
}

impl fmt::Display for HistoryAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryAction::Logless(a) => a.fmt(f),
            HistoryAction::CommitConfig { i, quorum } => {
                write!(f, "CommitConfig({}, ", server_name(*i))?;
                crate::actions::write_set(f, *quorum)?;
                f.write_str(")")
            }
        }
    }
}

/// Reads the text `Display` writes: `CommitConfig(n1, {n1, n2})`, or a logless action.
impl std::str::FromStr for HistoryAction {
    type Err = spec_core::ParseActionError;

    fn from_str(text: &str) -> Result<HistoryAction, spec_core::ParseActionError> {
        use spec_core::action_text::{parse, server, server_set};
        match spec_core::action_text::call(text) {
            Ok(("CommitConfig", _)) => parse(text, |name, args| match args {
                [i, q] => Ok(HistoryAction::CommitConfig {
                    i: server(i)?,
                    quorum: server_set(q)?,
                }),
                _ => Err(format!("{name} takes two arguments, CommitConfig(i, Q)")),
            }),
            _ => text.parse().map(HistoryAction::Logless),
        }
    }
}

/// MongoLoglessDynamicRaft with the history variables of the module docs, and the history step
/// CommitConfig. The lower level of [`DynamicRaftMapping`].
#[derive(Clone, Debug)]
pub struct LoglessWithHistory {
    spec: LoglessRaft,
    permutations: Vec<Vec<u8>>,
}

impl LoglessWithHistory {
    /// `spec` (its bounds and mutation, if any) with the history variables; fails if the
    /// history does not fit `dynamic-raft`'s encoding (at most 5 servers, `MaxTerm +
    /// MaxConfigVersion - 1 <= 5`).
    pub fn new(spec: LoglessRaft) -> Result<Self, ParamsError> {
        let in_range = |bound, value: usize, (min, max), why| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(ParamsError::OutOfRange {
                    layer: "logless-raft -> dynamic-raft",
                    bound,
                    value,
                    min,
                    max,
                    why,
                })
            }
        };
        in_range(
            Bound::Servers,
            spec.servers(),
            (1, HISTORY_SERVERS),
            "the history uses dynamic-raft's per-server arrays of 5 servers",
        )?;
        in_range(
            Bound::MaxTerm,
            spec.max_term(),
            (0, weak_raft::MAX_TERM),
            "elections and committed records hold terms up to 5",
        )?;
        in_range(
            Bound::MaxConfigVersion,
            spec.max_config_version(),
            (1, weak_raft::LOG_CAPACITY - spec.max_term()),
            "a log holds MaxTerm + MaxConfigVersion - 1 <= 5 entries in the constraint",
        )?;
        Ok(LoglessWithHistory {
            permutations: permutations(spec.servers()),
            spec,
        })
    }

    /// The logless spec underneath.
    pub fn spec(&self) -> &LoglessRaft {
        &self.spec
    }

    /// The longest log inside the state constraint: `MaxTerm + MaxConfigVersion - 1`.
    pub fn max_log_len(&self) -> usize {
        self.spec.max_term() + self.spec.max_config_version() - 1
    }

    /// Whether Reconfig asks for one quorum with both the config and the term (the logless
    /// spec underneath is [`LoglessRaft::with_joint_quorum_check`]).
    pub fn has_joint_quorum_check(&self) -> bool {
        self.spec.quorum_checks() == QuorumChecks::Joint
    }
}

/// Every member of `q` has `i`'s config version, config term and current term: the tests of
/// ConfigQuorumCheck and TermQuorumCheck as the spec states them (no mutation: CommitConfig
/// records what MongoDynamicRaft's CommitEntry asks, whatever the logless guards do).
fn commit_quorum_ok(s: &State, i: usize, q: ServerSet) -> bool {
    q.iter()
        .all(|t| has_config_of(s, t, i) && has_term_of(s, t, i, None))
}

/// The guard of `CommitConfig(i, Q)`: `i` is Primary with a nonempty log, every member of `Q`
/// has its config version, config term and current term, and its last entry is not yet
/// recorded.
pub fn commit_config_enabled(h: &StateWithHistory, i: usize, q: ServerSet) -> bool {
    let s = &h.state;
    s.state[i] == Role::Primary
        && !h.log[i].is_empty()
        && commit_quorum_ok(s, i, q)
        && !h
            .committed
            .contains_entry(h.log[i].len() as u8, s.config_term[i])
}

/// `CommitConfig(i, Q)`: records `[entry |-> <<Len(log[i]), configTerm[i]>>, term |->
/// currentTerm[i]]` in `committed`. No logless variable changes.
pub fn commit_config(h: &StateWithHistory, i: usize, q: ServerSet) -> Option<StateWithHistory> {
    commit_config_enabled(h, i, q).then(|| {
        let mut next = *h;
        next.committed = h.committed.with(CommittedEntry {
            index: h.log[i].len() as u8,
            entry_term: h.state.config_term[i],
            term: h.state.current_term[i],
        });
        next
    })
}

/// HistoryMatchesConfig: every server's config term is the term of its last log entry (0 for an
/// empty log), and its config is the last of its config log (if any).
pub fn history_matches_config(h: &StateWithHistory) -> bool {
    h.state.server_ids().all(|s| {
        weak_raft::last_term(&h.log[s]) == h.state.config_term[s]
            && h.log[s].len() == h.config_log[s].len()
            && h.config_log[s]
                .last()
                .is_none_or(|c| c == h.state.config[s])
    })
}

impl Spec for LoglessWithHistory {
    type State = StateWithHistory;
    type Action = HistoryAction;

    /// `logless-raft`: the protocol is MongoLoglessDynamicRaft.
    fn name(&self) -> &'static str {
        "logless-raft"
    }

    fn params(&self) -> Params {
        self.spec.params()
    }

    fn action_names(&self) -> &'static [&'static str] {
        HISTORY_ACTION_NAMES
    }

    fn init_states(&self) -> Vec<StateWithHistory> {
        self.spec
            .init_states()
            .into_iter()
            .map(StateWithHistory::new)
            .collect()
    }

    /// The logless successors in their order, with the history updated; a
    /// Reconfig of `i` only when no CommitConfig of `i` is enabled (the joint quorum check, if
    /// any, is the logless spec's own Reconfig guard); then CommitConfig per server and quorum
    /// of its config.
    fn next_states(&self, h: &StateWithHistory, out: &mut Vec<(HistoryAction, StateWithHistory)>) {
        let s = &h.state;
        let mut logless = Vec::new();
        self.spec.next_states(s, &mut logless);
        for (action, state) in logless {
            let mut next = *h;
            next.state = state;
            match action {
                Action::Reconfig { i, new_config } => {
                    let i = i as usize;
                    let commit_first = s.config[i]
                        .quorums()
                        .any(|q| commit_config_enabled(h, i, q));
                    if commit_first {
                        continue;
                    }
                    next.log[i].push(s.current_term[i]);
                    next.config_log[i].push(new_config);
                }
                Action::SendConfig { i, j } => {
                    next.log[j as usize] = h.log[i as usize];
                    next.config_log[j as usize] = h.config_log[i as usize];
                }
                Action::BecomeLeader { i, .. } => {
                    let i = i as usize;
                    let new_term = s.current_term[i] + 1;
                    next.log[i].push(new_term);
                    next.config_log[i].push(s.config[i]);
                    next.elections = h.elections.with(i, new_term);
                }
                Action::UpdateTerms { .. } => {}
            }
            out.push((HistoryAction::Logless(action), next));
        }
        for i in s.server_ids() {
            for quorum in s.config[i].quorums() {
                if let Some(next) = commit_config(h, i, quorum) {
                    out.push((
                        HistoryAction::CommitConfig {
                            i: i as Server,
                            quorum,
                        },
                        next,
                    ));
                }
            }
        }
    }

    /// The logless step's copies (Reconfig's witnesses); one for CommitConfig.
    fn copies(&self, h: &StateWithHistory, action: &HistoryAction) -> u64 {
        match action {
            HistoryAction::Logless(a) => self.spec.copies(&h.state, a),
            HistoryAction::CommitConfig { .. } => 1,
        }
    }

    /// OnePrimaryPerTerm (the logless spec's) and HistoryMatchesConfig.
    fn invariants(&self) -> Vec<Invariant<Self>> {
        vec![
            Invariant {
                name: "OnePrimaryPerTerm",
                holds: |_, h| crate::one_primary_per_term(&h.state),
            },
            Invariant {
                name: "HistoryMatchesConfig",
                holds: |_, h| history_matches_config(h),
            },
        ]
    }

    fn within_constraint(&self, h: &StateWithHistory) -> bool {
        self.spec.within_constraint(&h.state)
    }

    fn has_symmetry(&self) -> bool {
        true
    }

    /// The least permuted copy (servers renamed in the logless state and the history).
    fn canonical(&self, h: &StateWithHistory) -> StateWithHistory {
        let mut best = *h;
        let mut best_key = h.key();
        for perm in self.permutations.iter().skip(1) {
            let p = h.permuted(perm);
            let key = p.key();
            if key < best_key {
                best = p;
                best_key = key;
            }
        }
        best
    }
}

/// The refinement mapping MongoLoglessDynamicRaft (with history) -> MongoDynamicRaft; see the
/// module docs.
#[derive(Clone, Debug)]
pub struct DynamicRaftMapping {
    lower: LoglessWithHistory,
    upper: DynamicRaft,
}

impl DynamicRaftMapping {
    /// The mapping from `spec` to MongoDynamicRaft as written, both sides as written: it fails
    /// (UpdateTerms first). See [`DynamicRaftMapping::generalized`] for the one that holds.
    pub fn new(spec: LoglessRaft) -> Result<Self, ParamsError> {
        let lower = LoglessWithHistory::new(spec)?;
        let upper = DynamicRaft::new(
            lower.spec.servers(),
            lower.spec.max_term(),
            lower.max_log_len(),
        )?;
        Ok(DynamicRaftMapping { lower, upper })
    }

    /// The mapping with both fixes of the module docs: the upper level takes UpdateTerms, the
    /// lower level's Reconfig asks for a joint quorum. It holds.
    pub fn generalized(spec: LoglessRaft) -> Result<Self, ParamsError> {
        Ok(Self::new(spec)?
            .with_update_terms()
            .with_joint_quorum_check())
    }

    /// The upper level generalized with UpdateTerms ([`DynamicRaft::with_update_terms`]).
    #[must_use = "with_update_terms returns the mapping; check that one"]
    pub fn with_update_terms(mut self) -> Self {
        self.upper = self.upper.with_update_terms();
        self
    }

    /// The lower level's Reconfig with one quorum for both its checks: its logless spec
    /// becomes [`LoglessRaft::with_joint_quorum_check`], whose Reconfig guard is
    /// [`crate::joint_quorum_check`] (built from the same per-member tests as ConfigQuorumCheck and
    /// TermQuorumCheck, so a mutation of either test reaches it).
    #[must_use = "with_joint_quorum_check returns the mapping; check that one"]
    pub fn with_joint_quorum_check(mut self) -> Self {
        self.lower.spec = self.lower.spec.with_joint_quorum_check();
        self
    }
}

impl Refinement for DynamicRaftMapping {
    type Lower = LoglessWithHistory;
    type Upper = DynamicRaft;

    fn lower(&self) -> &LoglessWithHistory {
        &self.lower
    }

    fn upper(&self) -> &DynamicRaft {
        &self.upper
    }

    /// `currentTerm`, `state`, `config` as they are; `log`, `configLog`, `elections`,
    /// `committed` from the history; `configVersion` and `configTerm` dropped.
    fn map_state(&self, h: &StateWithHistory) -> dynamic_raft::State {
        let s = &h.state;
        let n = s.servers as usize;
        let mut upper = dynamic_raft::State::initial(n, s.config[0]);
        for i in 0..n {
            upper.raft.current_term[i] = s.current_term[i];
            upper.raft.state[i] = s.state[i];
            upper.raft.log[i] = h.log[i];
            upper.raft.config[i] = s.config[i];
            upper.config_log[i] = h.config_log[i];
        }
        upper.raft.elections = h.elections;
        upper.raft.committed = h.committed;
        upper
    }

    /// Reconfig -> ClientRequest, SendConfig -> MergeEntries, BecomeLeader -> BecomeLeader,
    /// CommitConfig -> CommitEntry, UpdateTerms -> UpdateTerms (only the generalized upper
    /// level has it).
    fn map_step(
        &self,
        _: &StateWithHistory,
        action: &HistoryAction,
        _: &StateWithHistory,
    ) -> StepMapping<dynamic_raft::Action> {
        use dynamic_raft::Action as Upper;
        StepMapping::Step(match *action {
            HistoryAction::Logless(Action::Reconfig { i, new_config }) => {
                Upper::ClientRequest { i, new_config }
            }
            HistoryAction::Logless(Action::SendConfig { i, j }) => Upper::MergeEntries { i, j },
            HistoryAction::Logless(Action::BecomeLeader { i, vote_quorum }) => {
                Upper::BecomeLeader { i, vote_quorum }
            }
            HistoryAction::Logless(Action::UpdateTerms { i, j }) => Upper::UpdateTerms { i, j },
            HistoryAction::CommitConfig { i, quorum } => Upper::CommitEntry {
                i,
                commit_quorum: quorum,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spec_core::Layer;

    #[test]
    fn bounds_must_fit_the_history() {
        assert!(LoglessWithHistory::new(LoglessRaft::new(6, 2, 2).unwrap()).is_err());
        assert!(LoglessWithHistory::new(LoglessRaft::new(3, 3, 4).unwrap()).is_err());
        let h = LoglessWithHistory::new(LoglessRaft::new(3, 3, 3).unwrap()).unwrap();
        assert_eq!(h.max_log_len(), 5);
        let m =
            DynamicRaftMapping::new(LoglessRaft::from_params(&Params::default()).unwrap()).unwrap();
        assert_eq!(m.upper().max_log_len(), 3);
        assert!(!m.upper().has_update_terms());
    }

    #[test]
    fn canonical_form_is_the_same_for_every_permutation() {
        let spec = LoglessWithHistory::new(LoglessRaft::new(3, 2, 2).unwrap()).unwrap();
        let mut h = StateWithHistory::new(State::initial(3, ServerSet(0b011)));
        h.state.current_term[0] = 1;
        h.state.state[0] = Role::Primary;
        h.state.config_term[0] = 1;
        h.log[0].push(1);
        h.config_log[0].push(ServerSet(0b011));
        h.elections = h.elections.with(0, 1);
        let c = spec.canonical(&h);
        for perm in permutations(3) {
            assert_eq!(spec.canonical(&h.permuted(&perm)), c);
        }
    }

    #[test]
    fn commit_config_records_the_last_entry() {
        let spec = LoglessWithHistory::new(LoglessRaft::new(3, 2, 2).unwrap()).unwrap();
        let init = StateWithHistory::new(State::initial(3, ServerSet(0b001)));
        let mut next = Vec::new();
        spec.next_states(&init, &mut next);
        // n1, alone in its config, is elected by {n1}.
        let (_, elected) = next
            .iter()
            .find(|(a, _)| a.to_string() == "BecomeLeader(n1, {n1})")
            .unwrap();
        assert!(history_matches_config(elected));
        let mut after = Vec::new();
        spec.next_states(elected, &mut after);
        let names: Vec<String> = after.iter().map(|(a, _)| a.to_string()).collect();
        // The commit is recorded before any reconfig.
        assert!(names.contains(&"CommitConfig(n1, {n1})".to_string()));
        assert!(!names.iter().any(|n| n.starts_with("Reconfig")));
        let (_, committed) = after
            .iter()
            .find(|(a, _)| matches!(a, HistoryAction::CommitConfig { .. }))
            .unwrap();
        assert!(committed.committed.contains_entry(1, 1));
        let json = serde_json::to_value(committed).unwrap();
        assert_eq!(json["configLog"]["#map"][0][1][0]["#set"][0], "n1");
    }
}
