//! MongoRaftReconfig as an executable specification: MongoDB's replication protocol with
//! logless dynamic reconfiguration, built by composing two other layers.
//!
//! Source: `MongoRaftReconfig.tla` and `MCMongoRaftReconfig.tla` of github
//! will62794/logless-reconfig (master, 05178a7), whose invariants are checked here together with
//! the conjuncts of the inductive invariant of `proofs/MongoRaftReconfigIndInv.tla`. The
//! enumeration of successors follows TLC's, multiplicity included, so the checker's counts of
//! generated and distinct states and its search depth agree with TLC's.
//!
//! # What the level models
//!
//! The protocol is two state machines running side by side on the same servers:
//! - the *oplog state machine* (`OSM`), MongoStaticRaft ([`static_raft`]): logs of entry
//!   terms, pull-based replication, commits by a quorum of the primary's config;
//! - the *config state machine* (`CSM`), MongoLoglessDynamicRaft ([`logless_raft`]): configs
//!   versioned by (config term, config version), changed by a primary without writing them to
//!   the log, spread by gossip.
//!
//! They share `currentTerm`, `state` and `config`. The composition is asynchronous: an oplog
//! step (ClientRequest, GetEntries, RollbackEntries, CommitEntry) leaves the config state
//! machine's variables unchanged, a config step (Reconfig, SendConfig) leaves `log` and
//! `committed` unchanged. Elections (BecomeLeader) and term propagation (UpdateTerms) are joint
//! steps, conjunctions `OSM!A /\ CSM!A` as in the TLA+: both machines take the step at once,
//! over the same server and quorum; both guards must hold, and the two effects, each computed
//! on its own copy of the old state, must agree on the shared variables
//! ([`actions::conjoin`]). One more condition ties the two machines: a primary may reconfigure only when
//! [`OplogCommitment`](actions::oplog_commitment) holds, that is, it has committed an entry in
//! its term (or nothing is committed) and every entry it committed in its term is held by a
//! quorum of its current config in its term. Without it, entries committed under an old config
//! can be lost under the new one: see [`Mutation::ReconfigSkipsOplogCommitment`].
//!
//! | variable | Rust field | owner |
//! |---|---|---|
//! | `currentTerm` | [`State::current_term`] | shared |
//! | `state` | [`State::state`] | shared |
//! | `config` | [`State::config`] | shared (changed by the config machine only) |
//! | `log` | [`State::log`] | oplog machine |
//! | `committed` | [`State::committed`] | oplog machine |
//! | `configVersion` | [`State::config_version`] | config machine |
//! | `configTerm` | [`State::config_term`] | config machine |
//!
//! # How it is built from the two crates
//!
//! [`State`] implements static-raft's [`OplogVars`](static_raft::OplogVars) and
//! [`OplogVarsMut`](static_raft::OplogVarsMut) and logless-raft's
//! [`ConfigVars`](logless_raft::ConfigVars) and [`ConfigVarsMut`](logless_raft::ConfigVarsMut),
//! so both crates' guards (`*_enabled`) and effects (`*_effect`) run on it directly; this crate
//! adds only [`actions::oplog_commitment`], the conjunction of the joint steps
//! ([`actions::conjoin`]) and the enumeration of `Next` ([`actions::next`]). See [`actions`] for the table of which guard and effect each action
//! uses, and for the multiplicity of Reconfig in TLC's counts.
//!
//! ```
//! use raft_reconfig::{actions, RaftReconfig, State};
//! use spec_core::{Layer, Params, ServerSet, Spec};
//!
//! let spec = RaftReconfig::from_params(&Params::default()).unwrap();
//! assert_eq!(spec.init_states().len(), 7); // one per nonempty config of 3 servers
//! let init = State::initial(3, ServerSet::all(3));
//! // n1 is elected by {n1, n2} in both machines at once: the oplog half sets the terms and
//! // roles, the config half also stamps n1's config with the new term.
//! let next = actions::become_leader(&init, 0, ServerSet(0b011), None).unwrap();
//! assert_eq!(next.current_term[..3], [1, 1, 0]);
//! assert_eq!(next.config_term[..3], [1, 0, 0]);
//! // Its config, now of term 1, is held by no quorum yet: no reconfig.
//! assert!(actions::reconfig(&next, 0, ServerSet(0b011), None).is_none());
//! ```
//!
//! # Checking it
//!
//! [`RaftReconfig`] implements [`spec_core::Spec`] and [`spec_core::Layer`] (name
//! `raft-reconfig`, bounds `--servers`, `--max-log-len`, `--max-term`,
//! `--max-config-version`). Its state constraint is the model's `StateConstraint`, and
//! [`spec_core::Spec::canonical`] is an exact canonical form under server permutations (TLC's
//! `SYMMETRY Permutations(Server)`), see [`symmetry`].
//!
//! Invariants: OnePrimaryPerTerm, StateMachineSafety, LeaderCompleteness (with `<=`, where
//! MongoStaticRaft has `<`), then every conjunct of `Ind` in
//! `proofs/MongoRaftReconfigIndInv.tla` but TypeOK (which the encoding guarantees), named as
//! there. TLC's models check only the first three. Last comes JointStepsAgree
//! ([`actions::joint_steps_agree`]), a property of the composition rather than of the protocol:
//! wherever both machines' guards of a joint action hold, their effects agree, so no joint step
//! is silently lost.
//!
//! # Refinement
//!
//! [`ToLoglessRaft`] maps the composition to its config state machine alone (MongoLoglessDynamicRaft,
//! `MCMongoRaftReconfig`'s `RefinesMLDR`): oplog steps stutter, config and joint steps are
//! logless-raft's actions with the same binding.
//!
//! # Mutations: weakening one guard on purpose
//!
//! [`RaftReconfig::with_mutation`] builds the spec with one [`Mutation`] in force: one
//! conjunct of one guard is dropped, or one half of a joint step's effect is wrong, everything
//! else unchanged, so that the checker shows what breaks with a shortest counterexample.
//!
//! # What this crate is not
//!
//! It does not check anything: the model checker and the `refine` command live in
//! `refinement-tests`.

pub mod actions;
pub mod refinement;
mod state;
pub mod symmetry;
pub mod to_log;

pub use actions::{Action, ACTION_NAMES};
pub use refinement::ToLoglessRaft;
pub use spec_core::{Role, ServerSet};
pub use state::{
    active_config_set, active_configs_overlap, active_configs_overlap_with_committed_entry,
    active_configs_safe_at_terms, committed_entry_indexes_are_non_zero,
    committed_term_matches_entry, config_disabled, config_version_and_term_unique,
    configs_nonempty, current_term_at_least_as_large_as_log_terms_for_primary, leader_completeness,
    log_entry_in_term_implies_config_in_term, log_matching,
    logs_later_than_committed_must_have_committed,
    newer_configs_disable_primary_commits_in_older_terms, one_primary_per_term,
    primary_config_term_equal_to_current_term, primary_has_entries_it_created,
    primary_in_term_contains_newest_config_of_term, state_constraint, state_machine_safety,
    terms_of_entries_grow_monotonically, uniform_log_entries_in_term, State, MAX_SERVERS,
};
pub use to_log::CommittedAreChosen;

use spec_core::{Bound, Invariant, Layer, Parameter, Params, ParamsError, Spec};
use static_raft::{LOG_CAPACITY, MAX_COMMITTED_INDEX, MAX_COMMITTED_TERM};

spec_core::mutations! {
    /// One guard conjunct to drop, or one half of a joint step's effect to get wrong, making a
    /// mutant of the spec: a teaching and testing device (the spec has none in force unless
    /// [`RaftReconfig::with_mutation`] is called).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Mutation {
        /// Reconfig without `OplogCommitment(s)`: a primary may reconfigure before the entries it
        /// committed are held by a quorum of its current config. The classic bug of reconfiguration
        /// decoupled from the log: a config change can make a quorum that lacks a committed entry.
        ReconfigSkipsOplogCommitment = "reconfig-skips-oplog-commitment" =>
            "Reconfig skips OplogCommitment: breaks LeaderCompleteness",
        /// OplogCommitment without its first conjunct (`committed = {} \/ \E c \in committed :
        /// c.term = currentTerm[s]`): a new primary may reconfigure before committing an entry of
        /// its own term, so entries committed by older primaries need not be on a quorum of its
        /// config.
        OplogCommitmentSkipsTermCommit = "oplog-commitment-skips-term-commit" =>
            "a new primary reconfigures before committing in its term: breaks \
                LeaderCompleteness",
        /// Reconfig without logless-raft's `TermQuorumCheck(s)`: a deposed primary may still
        /// reconfigure.
        ReconfigSkipsTermQuorumCheck = "reconfig-skips-term-quorum-check" =>
            "a deposed primary may reconfigure (no TermQuorumCheck): breaks \
                OnePrimaryPerTerm",
        /// BecomeLeader without static-raft's log-up-to-date condition of `CanVoteForOplog`.
        VoteIgnoresLog = "vote-ignores-log" =>
            "voters skip the log-up-to-date check: breaks LeaderCompleteness",
        /// BecomeLeader without logless-raft's config condition of `CanVoteForConfig`: voters need
        /// not check the candidate's config is as new as theirs.
        VoteIgnoresConfig = "vote-ignores-config" =>
            "voters skip the config-up-to-date check: breaks OnePrimaryPerTerm",
        /// The oplog half of BecomeLeader gets the voters' terms wrong: static-raft's
        /// [`VotersKeepTheirTerm`](static_raft::Mutation::VotersKeepTheirTerm) (only the candidate
        /// moves to the new term). The config half writes the right terms, so the halves disagree
        /// on `currentTerm` for every election by more than one voter.
        OplogVotersKeepTheirTerm = "oplog-voters-keep-their-term" =>
            "the oplog half of BecomeLeader moves only the candidate to the new term: the \
                halves disagree, breaks JointStepsAgree",
        /// The config half of BecomeLeader gets the voters' terms wrong: logless-raft's
        /// [`VotersKeepTheirTerm`](logless_raft::Mutation::VotersKeepTheirTerm).
        ConfigVotersKeepTheirTerm = "config-voters-keep-their-term" =>
            "the config half of BecomeLeader moves only the candidate to the new term: the \
                halves disagree, breaks JointStepsAgree",
        /// The oplog half of UpdateTerms does not step a primary down: static-raft's
        /// [`UpdateTermsKeepsRole`](static_raft::Mutation::UpdateTermsKeepsRole). The halves
        /// disagree on `state` whenever a primary learns a newer term.
        OplogUpdateTermsKeepsRole = "oplog-update-terms-keeps-role" =>
            "the oplog half of UpdateTerms does not step a primary down: the halves \
                disagree, breaks JointStepsAgree",
        /// The config half of UpdateTerms does not step a primary down: logless-raft's
        /// [`UpdateTermsKeepsRole`](logless_raft::Mutation::UpdateTermsKeepsRole).
        ConfigUpdateTermsKeepsRole = "config-update-terms-keeps-role" =>
            "the config half of UpdateTerms does not step a primary down: the halves \
                disagree, breaks JointStepsAgree",
        /// The config half of BecomeLeader does not stamp the new primary's config with its term:
        /// logless-raft's [`BecomeLeaderKeepsConfigTerm`](logless_raft::Mutation::BecomeLeaderKeepsConfigTerm).
        BecomeLeaderKeepsConfigTerm = "become-leader-keeps-config-term" =>
            "BecomeLeader does not stamp the new primary's config with its term",
        /// CommitEntry counts a quorum of all servers instead of a quorum of the primary's config
        /// (`Quorums(config[i])`): after a reconfig to a smaller config, servers outside it make
        /// up the commit quorum.
        CommitQuorumOfAllServers = "commit-quorum-of-all-servers" =>
            "CommitEntry counts a quorum of all servers, not of the primary's config",
    }
}

impl Mutation {
    /// The static-raft mutation this one puts in force in the oplog state machine's guards.
    pub fn oplog(self) -> Option<static_raft::Mutation> {
        match self {
            Mutation::VoteIgnoresLog => Some(static_raft::Mutation::VoteIgnoresLog),
            Mutation::OplogVotersKeepTheirTerm => Some(static_raft::Mutation::VotersKeepTheirTerm),
            Mutation::OplogUpdateTermsKeepsRole => {
                Some(static_raft::Mutation::UpdateTermsKeepsRole)
            }
            _ => None,
        }
    }

    /// The logless-raft mutation this one puts in force in the config state machine's guards.
    pub fn config(self) -> Option<logless_raft::Mutation> {
        match self {
            Mutation::ReconfigSkipsTermQuorumCheck => {
                Some(logless_raft::Mutation::ReconfigSkipsTermQuorumCheck)
            }
            Mutation::VoteIgnoresConfig => Some(logless_raft::Mutation::VoteIgnoresConfig),
            Mutation::ConfigVotersKeepTheirTerm => {
                Some(logless_raft::Mutation::VotersKeepTheirTerm)
            }
            Mutation::ConfigUpdateTermsKeepsRole => {
                Some(logless_raft::Mutation::UpdateTermsKeepsRole)
            }
            Mutation::BecomeLeaderKeepsConfigTerm => {
                Some(logless_raft::Mutation::BecomeLeaderKeepsConfigTerm)
            }
            _ => None,
        }
    }
}

/// MongoRaftReconfig at given bounds, as a [`Spec`]: `servers` servers, and the state
/// constraint `currentTerm <= max_term`, `Len(log) <= max_log_len`, `configVersion <=
/// max_config_version` on every server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftReconfig {
    servers: usize,
    max_log_len: u8,
    max_term: u8,
    max_config_version: u8,
    mutation: Option<Mutation>,
}

impl RaftReconfig {
    /// The default number of servers.
    pub const DEFAULT_SERVERS: usize = 3;
    /// The default `MaxLogLen`.
    pub const DEFAULT_MAX_LOG_LEN: usize = 2;
    /// The default `MaxTerm`.
    pub const DEFAULT_MAX_TERM: usize = 2;
    /// The default `MaxConfigVersion`.
    pub const DEFAULT_MAX_CONFIG_VERSION: usize = 2;
    /// The largest `MaxConfigVersion`: successors go one past it and must fit in a `u8`.
    pub const MAX_CONFIG_VERSION: usize = 254;

    /// The spec with `servers` servers (1 to [`MAX_SERVERS`]), bounded by `MaxLogLen`,
    /// `MaxTerm` and `MaxConfigVersion`; fails on bounds the state encoding cannot hold.
    pub fn new(
        servers: usize,
        max_log_len: usize,
        max_term: usize,
        max_config_version: usize,
    ) -> Result<RaftReconfig, ParamsError> {
        RaftReconfig::from_params(&Params {
            servers: Some(servers),
            max_log_len: Some(max_log_len),
            max_term: Some(max_term),
            max_config_version: Some(max_config_version),
            ..Params::default()
        })
    }

    /// The same spec with `mutation` in force (one guard conjunct dropped, or one half of a
    /// joint step's effect wrong).
    #[must_use = "with_mutation returns the mutated spec; check that one"]
    pub fn with_mutation(mut self, mutation: Mutation) -> RaftReconfig {
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
    /// `MaxLogLen`.
    pub fn max_log_len(&self) -> usize {
        self.max_log_len as usize
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

impl Spec for RaftReconfig {
    type State = State;
    type Action = Action;

    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> Params {
        Params {
            servers: Some(self.servers),
            max_log_len: Some(self.max_log_len()),
            max_term: Some(self.max_term()),
            max_config_version: Some(self.max_config_version()),
            ..Params::default()
        }
    }

    fn action_names(&self) -> &'static [&'static str] {
        ACTION_NAMES
    }

    /// `Init`: one state per nonempty initial config shared by every server, in increasing
    /// bitmask order (both machines' `Init` quantify over the same `config`).
    fn init_states(&self) -> Vec<State> {
        ServerSet::all(self.servers)
            .subsets()
            .filter(|c| !c.is_empty())
            .map(|c| State::initial(self.servers, c))
            .collect()
    }

    fn next_states(&self, state: &State, out: &mut Vec<(Action, State)>) {
        actions::next(state, self.mutation, out);
    }

    /// Reconfig's witnesses ([`actions::multiplicity`]): TLC builds one successor per witness.
    fn copies(&self, state: &State, action: &Action) -> u64 {
        actions::multiplicity(state, *action, self.mutation) as u64
    }

    /// OnePrimaryPerTerm, StateMachineSafety, LeaderCompleteness, the conjuncts of `Ind`, then
    /// JointStepsAgree ([`actions::joint_steps_agree`], a property of the composition).
    fn invariants(&self) -> Vec<Invariant<Self>> {
        macro_rules! invariants {
            ($($name:literal => $f:path),* $(,)?) => {
                vec![$(Invariant { name: $name, holds: |_, s| $f(s) }),*]
            };
        }
        let mut all = invariants![
            "OnePrimaryPerTerm" => one_primary_per_term,
            "StateMachineSafety" => state_machine_safety,
            "LeaderCompleteness" => leader_completeness,
            "PrimaryConfigTermEqualToCurrentTerm" => primary_config_term_equal_to_current_term,
            "ConfigVersionAndTermUnique" => config_version_and_term_unique,
            "PrimaryInTermContainsNewestConfigOfTerm" =>
                primary_in_term_contains_newest_config_of_term,
            "ActiveConfigsOverlap" => active_configs_overlap,
            "ActiveConfigsSafeAtTerms" => active_configs_safe_at_terms,
            "LogMatching" => log_matching,
            "TermsOfEntriesGrowMonotonically" => terms_of_entries_grow_monotonically,
            "PrimaryHasEntriesItCreated" => primary_has_entries_it_created,
            "CurrentTermAtLeastAsLargeAsLogTermsForPrimary" =>
                current_term_at_least_as_large_as_log_terms_for_primary,
            "LogEntryInTermImpliesConfigInTerm" => log_entry_in_term_implies_config_in_term,
            "UniformLogEntriesInTerm" => uniform_log_entries_in_term,
            "CommittedEntryIndexesAreNonZero" => committed_entry_indexes_are_non_zero,
            "CommittedTermMatchesEntry" => committed_term_matches_entry,
            "LogsLaterThanCommittedMustHaveCommitted" =>
                logs_later_than_committed_must_have_committed,
            "ActiveConfigsOverlapWithCommittedEntry" =>
                active_configs_overlap_with_committed_entry,
            "NewerConfigsDisablePrimaryCommitsInOlderTerms" =>
                newer_configs_disable_primary_commits_in_older_terms,
            "ConfigsNonempty" => configs_nonempty,
        ];
        // Not the protocol's but the composition's: the two machines' joint actions agree
        // wherever both are enabled (see `actions::conjoin`).
        all.push(Invariant {
            name: "JointStepsAgree",
            holds: |spec: &RaftReconfig, s| actions::joint_steps_agree(s, spec.mutation),
        });
        all
    }

    /// `StateConstraint` of MCMongoRaftReconfig.
    fn within_constraint(&self, state: &State) -> bool {
        state_constraint(
            state,
            self.max_term,
            self.max_log_len,
            self.max_config_version,
        )
    }

    fn has_symmetry(&self) -> bool {
        true
    }

    fn canonical(&self, state: &State) -> State {
        symmetry::canonical(state)
    }

    /// [`actions::step`] (the guards, joint steps conjoined), after [`actions::in_model`].
    fn step(&self, state: &State, action: &Action) -> Option<State> {
        actions::in_model(state, *action, self.mutation)
            .then(|| actions::step(state, *action, self.mutation))
            .flatten()
    }

    /// [`State::read_itf`] with this model's servers.
    fn read_state(
        &self,
        value: &spec_core::itf::Value,
    ) -> Result<State, spec_core::itf::ReadError> {
        State::read_itf(value, self.servers)
    }
}

impl Layer for RaftReconfig {
    const NAME: &'static str = "raft-reconfig";
    const DESCRIPTION: &'static str = "MongoRaftReconfig";
    /// Defaults: 3 servers, `MaxLogLen` 2, `MaxTerm` 2, `MaxConfigVersion` 2.
    const PARAMETERS: &'static [Parameter] = &[
        Parameter::new(
            Bound::Servers,
            Self::DEFAULT_SERVERS,
            (1, MAX_SERVERS),
            "per-server arrays hold 5 servers",
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
        Parameter::new(
            Bound::MaxTerm,
            Self::DEFAULT_MAX_TERM,
            (0, MAX_COMMITTED_TERM as usize),
            "the committed bitmask holds terms 1..=5",
        ),
        Parameter::new(
            Bound::MaxConfigVersion,
            Self::DEFAULT_MAX_CONFIG_VERSION,
            (1, Self::MAX_CONFIG_VERSION),
            "config versions start at 1, are u8, and successors reach MaxConfigVersion + 1",
        ),
    ];

    fn from_params(params: &Params) -> Result<Self, ParamsError> {
        let [servers, max_log_len, max_term, max_config_version] =
            params.resolve::<4>(Self::NAME, Self::PARAMETERS)?;
        Ok(RaftReconfig {
            servers,
            max_log_len: max_log_len as u8,
            max_term: max_term as u8,
            max_config_version: max_config_version as u8,
            mutation: None,
        })
    }
}

#[cfg(test)]
mod step_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    /// `Next` straight from [`actions::step`] and [`actions::multiplicity`]: every binding of
    /// every action tried.
    fn next_by_definition(spec: &RaftReconfig, s: &State) -> Vec<(Action, State)> {
        let n = s.servers;
        let all = ServerSet::all(n as usize);
        let mut candidates = Vec::new();
        for i in 0..n {
            candidates.push(Action::ClientRequest { i });
            for j in 0..n {
                candidates.push(Action::GetEntries { i, j });
                candidates.push(Action::RollbackEntries { i, j });
                candidates.push(Action::SendConfig { i, j });
                candidates.push(Action::UpdateTerms { i, j });
            }
            for q in actions::commit_quorum_servers(s, i as usize, spec.mutation()).quorums() {
                candidates.push(Action::CommitEntry {
                    i,
                    commit_quorum: q,
                });
            }
            for q in s.config[i as usize].quorums() {
                candidates.push(Action::BecomeLeader { i, vote_quorum: q });
            }
            for new_config in all.subsets() {
                candidates.push(Action::Reconfig { i, new_config });
            }
        }
        let mut out = Vec::new();
        for action in candidates {
            if let Some(next) = actions::step(s, action, spec.mutation()) {
                for _ in 0..actions::multiplicity(s, action, spec.mutation()) {
                    out.push((action, next));
                }
            }
        }
        out
    }

    /// The states reachable within the bounds, one per symmetry class, by a plain search.
    fn reachable(spec: &RaftReconfig) -> Vec<State> {
        let mut seen: HashSet<State> = spec.init_states().iter().map(symmetry::canonical).collect();
        let mut frontier: Vec<State> = seen.iter().copied().collect();
        let mut succ = Vec::new();
        while let Some(s) = frontier.pop() {
            succ.clear();
            spec.next_states(&s, &mut succ);
            for (_, t) in &succ {
                let t = symmetry::canonical(t);
                if spec.within_constraint(&t) && seen.insert(t) {
                    frontier.push(t);
                }
            }
        }
        seen.into_iter().collect()
    }

    /// The successors as a multiset.
    fn counted(v: Vec<(Action, State)>) -> HashMap<(Action, State), usize> {
        let mut out = HashMap::new();
        for step in v {
            *out.entry(step).or_default() += 1;
        }
        out
    }

    #[test]
    fn next_enumerates_every_binding_with_its_multiplicity() {
        for spec in [
            RaftReconfig::new(3, 2, 2, 2).unwrap(),
            RaftReconfig::new(3, 1, 2, 2)
                .unwrap()
                .with_mutation(Mutation::ReconfigSkipsOplogCommitment),
            // Halves that disagree: the joint steps they lose are lost by both enumerations.
            RaftReconfig::new(3, 1, 2, 2)
                .unwrap()
                .with_mutation(Mutation::OplogVotersKeepTheirTerm),
            RaftReconfig::new(3, 1, 2, 2)
                .unwrap()
                .with_mutation(Mutation::ConfigUpdateTermsKeepsRole),
        ] {
            for s in reachable(&spec) {
                let mut fast = Vec::new();
                spec.next_states(&s, &mut fast);
                let distinct: HashSet<&(Action, State)> = fast.iter().collect();
                assert_eq!(distinct.len(), fast.len(), "each step once, at {s:?}");
                let mut repeated = Vec::new();
                for (action, next) in fast {
                    for _ in 0..spec.copies(&s, &action) {
                        repeated.push((action, next));
                    }
                }
                assert_eq!(
                    counted(repeated),
                    counted(next_by_definition(&spec, &s)),
                    "{s:?}"
                );
            }
        }
    }

    #[test]
    fn joint_steps_exist_only_where_both_halves_agree() {
        // n1, Primary of term 1, and n2, Primary of term 2: UpdateTerms(n2, n1) is enabled in
        // both machines.
        let mut s = State::initial(3, ServerSet::all(3));
        s.current_term[..3].copy_from_slice(&[1, 2, 2]);
        s.state[0] = Role::Primary;
        s.state[1] = Role::Primary;
        s.config_term[..3].copy_from_slice(&[1, 2, 0]);
        s.log[0].push(1);
        let step = Action::UpdateTerms { i: 1, j: 0 };
        let next = actions::step(&s, step, None).expect("the halves agree");
        assert_eq!((next.current_term[0], next.state[0]), (2, Role::Secondary));
        // The composed state keeps the oplog half's log and the config half's config terms.
        assert_eq!(next.log[0].as_slice(), &[1]);
        assert_eq!(next.config_term, s.config_term);
        assert!(actions::joint_steps_agree(&s, None));
        for m in [
            Mutation::OplogUpdateTermsKeepsRole,
            Mutation::ConfigUpdateTermsKeepsRole,
        ] {
            assert_eq!(actions::step(&s, step, Some(m)), None, "{m}");
            assert!(!actions::joint_steps_agree(&s, Some(m)), "{m}");
        }
        // conjoin itself: a disagreement on any shared variable, `config` included (which both
        // halves of a joint action leave unchanged), means no step.
        let mut oplog = next;
        oplog.log[2].push(2);
        let mut config = next;
        config.config_version[2] = 2;
        let both = actions::conjoin(oplog, &config).unwrap();
        assert_eq!((both.log[2].len(), both.config_version[2]), (1, 2));
        for change in [
            |t: &mut State| t.current_term[2] = 3,
            |t: &mut State| t.state[2] = Role::Primary,
            |t: &mut State| t.config[2] = ServerSet(0b011),
        ] {
            let mut other = config;
            change(&mut other);
            assert_eq!(actions::conjoin(oplog, &other), None);
            assert_eq!(actions::conjoin(other, &config), None);
        }
    }

    #[test]
    fn oplog_steps_and_config_steps_touch_only_their_variables() {
        let spec = RaftReconfig::new(3, 2, 2, 2).unwrap();
        let mut succ = Vec::new();
        for s in reachable(&spec) {
            succ.clear();
            spec.next_states(&s, &mut succ);
            for (a, t) in &succ {
                let oplog_same = s.log == t.log && s.committed == t.committed;
                let config_same = s.config == t.config
                    && s.config_version == t.config_version
                    && s.config_term == t.config_term;
                match (a.oplog_action(), a.config_action()) {
                    (Some(_), None) => assert!(config_same, "{a}"),
                    (None, Some(_)) => assert!(oplog_same, "{a}"),
                    _ => assert!(oplog_same && s.config == t.config, "{a}"),
                }
            }
        }
    }

    #[test]
    fn bounds_are_validated() {
        let spec = RaftReconfig::from_params(&Params::default()).unwrap();
        assert_eq!(spec, RaftReconfig::new(3, 2, 2, 2).unwrap());
        assert!(matches!(
            RaftReconfig::new(6, 2, 2, 2),
            Err(ParamsError::OutOfRange {
                bound: Bound::Servers,
                ..
            })
        ));
        assert!(matches!(
            RaftReconfig::new(3, 6, 2, 2),
            Err(ParamsError::OutOfRange {
                bound: Bound::MaxLogLen,
                ..
            })
        ));
        assert!(matches!(
            RaftReconfig::new(3, 2, 6, 2),
            Err(ParamsError::OutOfRange {
                bound: Bound::MaxTerm,
                ..
            })
        ));
        let unused = Params {
            values: Some(2),
            ..Params::default()
        };
        assert!(matches!(
            RaftReconfig::from_params(&unused),
            Err(ParamsError::Unused { .. })
        ));
    }

    #[test]
    fn oplog_commitment_multiplies_records_of_the_term_by_their_quorums() {
        // n1, Primary of term 2 in config {n1, n2, n3}, has committed two entries of term 2,
        // and every server holds both in term 2.
        let mut s = State::initial(3, ServerSet::all(3));
        for i in 0..3 {
            s.current_term[i] = 2;
            s.log[i] = static_raft::Log::from_slice(&[2, 2]);
        }
        s.state[0] = Role::Primary;
        s.config_term[0] = 2;
        for index in [1, 2] {
            s.committed = s.committed.with(static_raft::CommittedEntry {
                index,
                entry_term: 2,
                term: 2,
            });
        }
        // Two records of n1's term (the `\E c`), each committed by the 4 quorums of the config.
        assert_eq!(actions::oplog_commitment_witnesses(&s, 0, None), 2 * 4 * 4);
        // n3 leaves term 2: each record now has one quorum, {n1, n2}.
        s.current_term[2] = 3;
        assert_eq!(actions::oplog_commitment_witnesses(&s, 0, None), 2);
        // n2 too: no quorum holds the entries in term 2.
        s.current_term[1] = 3;
        assert!(!actions::oplog_commitment(&s, 0, None));
        // A primary of a term with no commit cannot reconfigure while others' commits exist.
        assert_eq!(actions::oplog_commitment_witnesses(&s, 1, None), 0);
        assert_eq!(
            actions::oplog_commitment_witnesses(
                &s,
                1,
                Some(Mutation::OplogCommitmentSkipsTermCommit)
            ),
            1
        );
    }

    /// The readable guards hold exactly when TLC finds a witness of them, on every reachable
    /// state, for the spec and the mutants that change them.
    #[test]
    fn oplog_commitment_holds_exactly_when_it_has_witnesses() {
        for mutation in [
            None,
            Some(Mutation::OplogCommitmentSkipsTermCommit),
            Some(Mutation::ReconfigSkipsOplogCommitment),
        ] {
            let mut spec = RaftReconfig::new(3, 2, 2, 2).unwrap();
            if let Some(m) = mutation {
                spec = spec.with_mutation(m);
            }
            let (mut holds, mut fails) = (0, 0);
            for s in reachable(&spec) {
                for i in 0..3 {
                    let witnesses = actions::oplog_commitment_witnesses(&s, i, mutation);
                    let guard = actions::oplog_commitment(&s, i, mutation);
                    assert_eq!(guard, witnesses > 0, "{mutation:?} n{} at {s:?}", i + 1);
                    if guard {
                        holds += 1
                    } else {
                        fails += 1
                    }
                    for index in 1..=s.log[i].len() as u8 {
                        assert_eq!(
                            actions::is_committed(&s, index, i),
                            actions::is_committed_witnesses(&s, index, i) > 0
                        );
                    }
                }
            }
            // Both outcomes occur (the mutant that drops the condition never fails it).
            assert!(holds > 0, "{mutation:?}");
            assert_eq!(
                fails == 0,
                mutation == Some(Mutation::ReconfigSkipsOplogCommitment)
            );
        }
    }

    /// At 5 servers one state can stand for hundreds of thousands of TLC successors: they are
    /// counted by `copies`, not built (building them took gigabytes for one state).
    #[test]
    fn witnesses_are_counted_not_built() {
        // n1, Primary of term 2 in config {n1..n5}, has committed two entries of term 2, and
        // every server holds both in term 2 with n1's config.
        let mut s = State::initial(5, ServerSet::all(5));
        for i in 0..5 {
            s.current_term[i] = 2;
            s.config_term[i] = 2;
            s.log[i] = static_raft::Log::from_slice(&[2, 2]);
        }
        s.state[0] = Role::Primary;
        for index in [1, 2] {
            s.committed = s.committed.with(static_raft::CommittedEntry {
                index,
                entry_term: 2,
                term: 2,
            });
        }
        let spec = RaftReconfig::new(5, 2, 3, 3).unwrap();
        let mut out = Vec::new();
        spec.next_states(&s, &mut out);
        let reconfigs: Vec<_> = out
            .iter()
            .filter(|(a, _)| matches!(a, Action::Reconfig { .. }))
            .collect();
        // The configs with n1 whose quorums all meet a majority of five: the four of four
        // servers and the five.
        assert_eq!(reconfigs.len(), 5);
        // 5 servers have C(5,3) + C(5,4) + C(5,5) = 16 majorities. OplogCommitment: 2 records
        // of the term, each committed by 16 quorums; ConfigQuorumCheck and TermQuorumCheck: 16
        // quorums each.
        for (action, _) in &reconfigs {
            assert_eq!(spec.copies(&s, action), 2 * 16 * 16 * 16 * 16, "{action}");
        }
        let others = out.len() - reconfigs.len();
        assert!(out
            .iter()
            .all(|(a, _)| matches!(a, Action::Reconfig { .. }) || spec.copies(&s, a) == 1));
        let generated: u64 = out.iter().map(|(a, _)| spec.copies(&s, a)).sum();
        assert_eq!(generated, 5 * 131_072 + others as u64);
    }

    #[test]
    fn state_is_compact() {
        assert_eq!(std::mem::size_of::<State>(), 96);
    }

    #[test]
    fn mutation_names_round_trip() {
        for m in Mutation::ALL {
            assert_eq!(Mutation::from_name(m.name()), Some(m));
            assert!(!m.what().is_empty());
        }
    }

    #[test]
    fn actions_print_like_tla() {
        let a = Action::Reconfig {
            i: 0,
            new_config: ServerSet(0b101),
        };
        assert_eq!(a.to_string(), "Reconfig(n1, {n1, n3})");
        assert_eq!(
            Action::GetEntries { i: 2, j: 1 }.to_string(),
            "GetEntries(n3, n2)"
        );
    }
}
