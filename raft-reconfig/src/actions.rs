//! The actions of MongoRaftReconfig, each built from the actions of the two state machines it
//! composes, and the enumeration of `Next`.
//!
//! | action | kind | guard | effect |
//! |---|---|---|---|
//! | `ClientRequest(i)` | oplog step | static-raft's | static-raft's |
//! | `GetEntries(i, j)` | oplog step | static-raft's | static-raft's |
//! | `RollbackEntries(i, j)` | oplog step | static-raft's | static-raft's |
//! | `CommitEntry(i, Q)` | oplog step | static-raft's | static-raft's |
//! | `Reconfig(i, newConfig)` | config step | [`oplog_commitment`] and logless-raft's | logless-raft's |
//! | `SendConfig(i, j)` | config step | logless-raft's | logless-raft's |
//! | `BecomeLeader(i, Q)` | joint step | both machines' | both machines' |
//! | `UpdateTerms(i, j)` | joint step | both machines' | both machines' |
//!
//! An oplog step runs static-raft's guard and effect on the composed [`State`]; its effect
//! never writes `configVersion`, `configTerm` or `config` (the spec's `UNCHANGED csmVars`). A
//! config step runs logless-raft's and never writes `log` or `committed` (`UNCHANGED
//! osmVars`).
//!
//! # Joint steps are conjunctions
//!
//! A joint step is `OSM!A(args) /\ CSM!A(args)`, as in the TLA+: a step of both machines that
//! exists only when both guards hold on the same binding *and* both effects agree on the
//! variables they share. Each half computes its own next state from the old one, on its own
//! copy: the oplog half with static-raft's effect, the config half with logless-raft's.
//! [`conjoin`] then keeps the step only if the two copies hold the same `currentTerm`, `state`
//! and `config`, and builds the next state from the oplog half's `log` and `committed` and the
//! config half's `configVersion` and `configTerm`. A half that leaves a shared variable
//! unchanged (both halves of BecomeLeader and UpdateTerms leave `config` unchanged; every other
//! shared variable is written by both) keeps its old value on its copy, so the comparison also
//! asks the other half to keep it.
//!
//! With the two crates as written the halves always agree and the counts are TLC's. A bug in
//! one half's effect on a shared variable makes the halves disagree: the step disappears, as in
//! TLA+, and the property [`joint_steps_agree`] (`JointStepsAgree`: both halves enabled implies
//! the joint step enabled) reports the first state where that happens. Applying both effects
//! to one copy instead would let the second overwrite the first and hide the bug.
//!
//! # How many successors TLC generates
//!
//! TLC enumerates the existential quantifiers it meets while evaluating an action, including
//! those inside guards, and yields one successor per satisfying binding. Besides the quorums
//! `Next` itself ranges over (BecomeLeader, CommitEntry), a `Reconfig(s, newConfig)` step is
//! produced once per combination of witnesses of:
//! - logless-raft's two quorum checks, `ConfigQuorumCheck(s)` and `TermQuorumCheck(s)`
//!   ([`logless_raft::actions::reconfig_witnesses`]);
//! - `OplogCommitment(s)`: its first conjunct's `\E c \in committed : c.term = currentTerm[s]`
//!   (one witness per record committed in `s`'s term; one when nothing is committed), and, for
//!   every such record, the `\E quorum` of `IsCommitted` (one witness per quorum of `config[s]`
//!   holding the entry in `s`'s term), see [`oplog_commitment_witnesses`].
//!
//! TLC confirms each factor: evaluating `OplogCommitment(s)` as one boolean changes its
//! generated counts (see the README and `refine/tests/suite/raft_reconfig.rs`).
//!
//! [`next`] yields each Reconfig step once and [`multiplicity`] (the spec's `Spec::copies`)
//! counts its witnesses: building them would cost memory in proportion to their number, which
//! at 5 servers reaches millions for one state.

use std::fmt;

use logless_raft::actions as config_sm;
use logless_raft::quorums_within;
use spec_core::itf::server_name;
use spec_core::{Role, Server, ServerSet};
use static_raft::actions as oplog_sm;

use crate::state::{members, State};
use crate::Mutation;

/// One step of MongoRaftReconfig: an action and the values its quantifiers bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `OSM!ClientRequest(i)`: primary `i` appends an entry of its term.
    ClientRequest {
        /// The primary.
        i: Server,
    },
    /// `OSM!GetEntries(i, j)`: secondary `i` pulls the next entry from `j`.
    GetEntries {
        /// The secondary that appends an entry.
        i: Server,
        /// The server it copies the entry from.
        j: Server,
    },
    /// `OSM!RollbackEntries(i, j)`: secondary `i` drops its last entry, stale against `j`.
    RollbackEntries {
        /// The secondary that removes its last entry.
        i: Server,
        /// The server whose log shows that entry is stale.
        j: Server,
    },
    /// `OSM!CommitEntry(i, commitQuorum)`: primary `i` commits its last entry.
    CommitEntry {
        /// The primary.
        i: Server,
        /// The servers holding the entry in the primary's term, a quorum of its config.
        commit_quorum: ServerSet,
    },
    /// `OplogCommitment(i) /\ CSM!Reconfig(i, newConfig)`: primary `i` installs `new_config`.
    Reconfig {
        /// The primary.
        i: Server,
        /// The config it installs.
        new_config: ServerSet,
    },
    /// `CSM!SendConfig(i, j)`: secondary `j` adopts the newer config of `i`.
    SendConfig {
        /// The sender.
        i: Server,
        /// The receiver.
        j: Server,
    },
    /// `OSM!BecomeLeader(i, Q) /\ CSM!BecomeLeader(i, Q)`: `i` is elected by `vote_quorum`.
    BecomeLeader {
        /// The candidate.
        i: Server,
        /// The voters, a quorum of `config[i]`.
        vote_quorum: ServerSet,
    },
    /// `OSM!UpdateTerms(i, j) /\ CSM!UpdateTerms(i, j)`: `j` learns `i`'s newer term.
    UpdateTerms {
        /// The server with the newer term.
        i: Server,
        /// The server that adopts it.
        j: Server,
    },
}

/// The action names, in the order `Next` lists them (`OSMNext`, `CSMNext`, `JointNext`).
pub const ACTION_NAMES: &[&str] = &[
    "ClientRequest",
    "GetEntries",
    "RollbackEntries",
    "CommitEntry",
    "Reconfig",
    "SendConfig",
    "BecomeLeader",
    "UpdateTerms",
];

impl Action {
    /// The oplog state machine's part of this step, for oplog and joint steps: static-raft's
    /// action with the same binding.
    pub fn oplog_action(self) -> Option<oplog_sm::Action> {
        Some(match self {
            Action::ClientRequest { i } => oplog_sm::Action::ClientRequest { i },
            Action::GetEntries { i, j } => oplog_sm::Action::GetEntries { i, j },
            Action::RollbackEntries { i, j } => oplog_sm::Action::RollbackEntries { i, j },
            Action::CommitEntry { i, commit_quorum } => {
                oplog_sm::Action::CommitEntry { i, commit_quorum }
            }
            Action::BecomeLeader { i, vote_quorum } => {
                oplog_sm::Action::BecomeLeader { i, vote_quorum }
            }
            Action::UpdateTerms { i, j } => oplog_sm::Action::UpdateTerms { i, j },
            Action::Reconfig { .. } | Action::SendConfig { .. } => return None,
        })
    }

    /// The config state machine's part of this step, for config and joint steps: logless-raft's
    /// action with the same binding. (For a refinement to logless-raft, oplog steps stutter.)
    pub fn config_action(self) -> Option<config_sm::Action> {
        Some(match self {
            Action::Reconfig { i, new_config } => config_sm::Action::Reconfig { i, new_config },
            Action::SendConfig { i, j } => config_sm::Action::SendConfig { i, j },
            Action::BecomeLeader { i, vote_quorum } => {
                config_sm::Action::BecomeLeader { i, vote_quorum }
            }
            Action::UpdateTerms { i, j } => config_sm::Action::UpdateTerms { i, j },
            Action::ClientRequest { .. }
            | Action::GetEntries { .. }
            | Action::RollbackEntries { .. }
            | Action::CommitEntry { .. } => return None,
        })
    }
}

impl spec_core::Action for Action {
    fn name(&self) -> &'static str {
        match self {
            Action::ClientRequest { .. } => "ClientRequest",
            Action::GetEntries { .. } => "GetEntries",
            Action::RollbackEntries { .. } => "RollbackEntries",
            Action::CommitEntry { .. } => "CommitEntry",
            Action::Reconfig { .. } => "Reconfig",
            Action::SendConfig { .. } => "SendConfig",
            Action::BecomeLeader { .. } => "BecomeLeader",
            Action::UpdateTerms { .. } => "UpdateTerms",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = spec_core::Action::name(self);
        let server = |s: u8| server_name(s as usize);
        match *self {
            Action::ClientRequest { i } => write!(f, "{name}({})", server(i)),
            Action::GetEntries { i, j }
            | Action::RollbackEntries { i, j }
            | Action::SendConfig { i, j }
            | Action::UpdateTerms { i, j } => write!(f, "{name}({}, {})", server(i), server(j)),
            Action::CommitEntry {
                i,
                commit_quorum: q,
            }
            | Action::Reconfig { i, new_config: q }
            | Action::BecomeLeader { i, vote_quorum: q } => {
                let members: Vec<String> = q.iter().map(server_name).collect();
                write!(f, "{name}({}, {{{}}})", server(i), members.join(", "))
            }
        }
    }
}

/// Reads the text `Display` writes: `ClientRequest(n1)`, `CommitEntry(n1, {n1, n2})`,
/// `Reconfig(n1, {n1, n2})`, `BecomeLeader(n1, {n1, n2})`, `UpdateTerms(n2, n1)`, ... Any
/// server number below 256 is read; whether the model has it is `Spec::step`'s question.
impl std::str::FromStr for Action {
    type Err = spec_core::ParseActionError;

    fn from_str(text: &str) -> Result<Action, spec_core::ParseActionError> {
        use spec_core::action_text::{parse, server_set, unknown};
        let server = spec_core::action_text::server;
        parse(text, |name, args| {
            Ok(match (name, args) {
                ("ClientRequest", [i]) => Action::ClientRequest { i: server(i)? },
                ("GetEntries", [i, j]) => Action::GetEntries {
                    i: server(i)?,
                    j: server(j)?,
                },
                ("RollbackEntries", [i, j]) => Action::RollbackEntries {
                    i: server(i)?,
                    j: server(j)?,
                },
                ("CommitEntry", [i, q]) => Action::CommitEntry {
                    i: server(i)?,
                    commit_quorum: server_set(q)?,
                },
                ("Reconfig", [i, c]) => Action::Reconfig {
                    i: server(i)?,
                    new_config: server_set(c)?,
                },
                ("SendConfig", [i, j]) => Action::SendConfig {
                    i: server(i)?,
                    j: server(j)?,
                },
                ("BecomeLeader", [i, q]) => Action::BecomeLeader {
                    i: server(i)?,
                    vote_quorum: server_set(q)?,
                },
                ("UpdateTerms", [i, j]) => Action::UpdateTerms {
                    i: server(i)?,
                    j: server(j)?,
                },
                _ => {
                    return Err(unknown(
                        name,
                        args,
                        &[
                            "ClientRequest(i)",
                            "GetEntries(i, j)",
                            "RollbackEntries(i, j)",
                            "CommitEntry(i, commitQuorum)",
                            "Reconfig(i, newConfig)",
                            "SendConfig(i, j)",
                            "BecomeLeader(i, voteQuorum)",
                            "UpdateTerms(i, j)",
                        ],
                    ))
                }
            })
        })
    }
}

/// Whether `action` is a binding of `Next` in `s`'s model (the servers it names are among
/// `s`'s, CommitEntry's quorum is one of [`commit_quorum_servers`]'s, BecomeLeader's one of
/// `Quorums(config[i])`, Reconfig's `newConfig` in `SUBSET Server`) whose effect fits the state
/// encoding (a log with room for one more entry, a commit record the bitmask holds). A state
/// outside the model's constraint may fail the second; the model's own states never do. The
/// guards say the rest ([`step`]).
pub fn in_model(s: &State, action: Action, mutation: Option<Mutation>) -> bool {
    let servers = s.servers as usize;
    let server = |x: u8| (x as usize) < servers;
    let quorum_of =
        |q: ServerSet, config: ServerSet| q.is_subset(config) && q.len() * 2 > config.len();
    let room = |i: u8| s.log[i as usize].len() < static_raft::LOG_CAPACITY;
    match action {
        Action::ClientRequest { i } => server(i) && room(i),
        Action::GetEntries { i, j } => server(i) && server(j) && room(i),
        Action::RollbackEntries { i, j }
        | Action::SendConfig { i, j }
        | Action::UpdateTerms { i, j } => server(i) && server(j),
        Action::CommitEntry { i, commit_quorum } => {
            server(i)
                && quorum_of(
                    commit_quorum,
                    commit_quorum_servers(s, i as usize, mutation),
                )
                && {
                    let log = &s.log[i as usize];
                    let term = s.current_term[i as usize];
                    spec_core::raft::committable(log.len() as u8, static_raft::last_term(log), term)
                }
        }
        Action::Reconfig { i, new_config } => {
            server(i) && new_config.is_subset(ServerSet::all(servers))
        }
        Action::BecomeLeader { i, vote_quorum } => {
            server(i) && quorum_of(vote_quorum, s.config[i as usize])
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OplogCommitment: what a reconfig needs of the oplog.
// ---------------------------------------------------------------------------------------------

/// The number of quorums of `config[primary]` witnessing `IsCommitted(index, primary)`: zero
/// unless `primary`'s log has an entry of its current term at `index`, else the quorums whose
/// every member holds that entry at `index` and is in `primary`'s term.
pub fn is_committed_witnesses(s: &State, index: u8, primary: usize) -> usize {
    let term = s.current_term[primary];
    if s.log[primary].at(index as usize) != Some(term) {
        return 0;
    }
    let config = s.config[primary];
    let mut holders = ServerSet::EMPTY;
    for n in members(config) {
        if s.log[n].at(index as usize) == Some(term) && s.current_term[n] == term {
            holders = holders.with(n);
        }
    }
    quorums_within(holders, config)
}

/// `IsCommitted(index, primary)`: the entry at `index` of `primary`'s log is of its current term
/// and held, in that term, by a quorum of its config ("immediately committed" in the config).
///
/// ```text
/// IsCommitted(index, primary) ==
///     /\ Len(log[primary]) >= index
///     /\ LogTerm(primary, index) = currentTerm[primary]
///     /\ \E quorum \in Quorums(config[primary]) : \A s \in quorum :
///            /\ log[s][index] = log[primary][index]
///            /\ currentTerm[s] = currentTerm[primary]
/// ```
///
/// A quorum of such servers exists exactly when they are a majority of the config; TLC's count of
/// the quorums is [`is_committed_witnesses`].
pub fn is_committed(s: &State, index: u8, primary: usize) -> bool {
    let term = s.current_term[primary];
    let has_entry_in_term =
        |n: usize| s.log[n].at(index as usize) == Some(term) && s.current_term[n] == term;
    let config = s.config[primary];
    s.log[primary].at(index as usize) == Some(term)
        && logless_raft::is_majority(
            members(config).filter(|&n| has_entry_in_term(n)).count(),
            config,
        )
}

/// The number of ways TLC satisfies `OplogCommitment(i)` (zero when it is false):
/// - its first conjunct, "nothing is committed, or some record was committed in `i`'s term",
///   has one witness when `committed` is empty and otherwise one per record of `i`'s term
///   (the `\E c \in committed`; dropped by [`Mutation::OplogCommitmentSkipsTermCommit`]);
/// - its second conjunct, "every record of `i`'s term is committed in `i`'s current config",
///   multiplies by the [`is_committed_witnesses`] of each such record.
///
/// [`Mutation::ReconfigSkipsOplogCommitment`] drops the whole condition (one witness).
pub fn oplog_commitment_witnesses(s: &State, i: usize, mutation: Option<Mutation>) -> usize {
    if mutation == Some(Mutation::ReconfigSkipsOplogCommitment) {
        return 1;
    }
    let term = s.current_term[i];
    let of_term = || s.committed.iter().filter(|c| c.term == term);
    let mut witnesses =
        if s.committed.is_empty() || mutation == Some(Mutation::OplogCommitmentSkipsTermCommit) {
            1
        } else {
            of_term().count()
        };
    for c in of_term() {
        if witnesses == 0 {
            break;
        }
        // Saturating: at 5 servers, 15 committed records of one term would pass 2^64.
        witnesses = witnesses.saturating_mul(is_committed_witnesses(s, c.index, i));
    }
    witnesses
}

/// `OplogCommitment(i)`: the condition on committed oplog entries for primary `i` to
/// reconfigure. It has committed an entry in its term (or nothing is committed at all), and
/// every entry committed in its term is immediately committed in its current config, so that
/// the entries survive the move to a new config.
///
/// ```text
/// OplogCommitment(s) ==
///     /\ (committed = {}) \/ (\E c \in committed : c.term = currentTerm[s])
///     /\ \A c \in committed : (c.term = currentTerm[s]) => IsCommitted(c.entry[1], s)
/// ```
///
/// [`Mutation::OplogCommitmentSkipsTermCommit`] drops the first conjunct,
/// [`Mutation::ReconfigSkipsOplogCommitment`] the whole condition. TLC's count of its witnesses
/// is [`oplog_commitment_witnesses`] (a test checks that it is positive exactly when this holds).
pub fn oplog_commitment(s: &State, i: usize, mutation: Option<Mutation>) -> bool {
    if mutation == Some(Mutation::ReconfigSkipsOplogCommitment) {
        return true;
    }
    let term = s.current_term[i];
    let committed_in_term = s.committed.is_empty()
        || mutation == Some(Mutation::OplogCommitmentSkipsTermCommit)
        || s.committed.iter().any(|c| c.term == term);
    committed_in_term
        && s.committed
            .iter()
            .filter(|c| c.term == term)
            .all(|c| is_committed(s, c.index, i))
}

// ---------------------------------------------------------------------------------------------
// The actions, one function each: guard, then effect.
// ---------------------------------------------------------------------------------------------

/// Runs one oplog step (static-raft's guard, then its effect on a copy), or `None`.
#[inline]
fn oplog_step(s: &State, step: oplog_sm::Action, mutation: Option<Mutation>) -> Option<State> {
    let m = mutation.and_then(Mutation::oplog);
    oplog_sm::enabled(s, step, m).then(|| {
        let mut next = *s;
        oplog_sm::apply(s, &mut next, step, m);
        next
    })
}

/// Runs one config step (logless-raft's guard, then its effect on a copy), or `None`.
#[inline]
fn config_step(s: &State, step: config_sm::Action, mutation: Option<Mutation>) -> Option<State> {
    let m = mutation.and_then(Mutation::config);
    config_sm::enabled(s, step, m).then(|| {
        let mut next = *s;
        config_sm::apply(s, &mut next, step, m);
        next
    })
}

/// The joint step `OSM!A /\ CSM!A` made of its two halves, each computed from the same old
/// state on its own copy: `oplog` by static-raft's effect, `config` by logless-raft's (see the
/// module docs). `None` when the halves disagree on a shared variable (`currentTerm`, `state`,
/// `config`): no step satisfies both conjuncts. Otherwise the next state has those shared
/// values, the oplog half's `log` and `committed`, and the config half's `configVersion` and
/// `configTerm`.
///
/// The variable traits make each half write only its own machine's variables: static-raft's
/// effects cannot write `configVersion`, `configTerm` or `config`, logless-raft's cannot write
/// `log` or `committed`, so on its copy each half leaves the other machine's own variables at
/// their old values, as its `UNCHANGED` clause says of them when it is run alone.
#[inline]
pub fn conjoin(oplog: State, config: &State) -> Option<State> {
    let agree = oplog.current_term == config.current_term
        && oplog.state == config.state
        && oplog.config == config.config;
    agree.then(|| {
        // The oplog half's state already holds the shared values and the oplog variables.
        let mut next = oplog;
        next.config_version = config.config_version;
        next.config_term = config.config_term;
        next
    })
}

/// The two halves of joint `action` (BecomeLeader or UpdateTerms) in `s`, each its machine's
/// next state computed on its own copy of `s`, when both machines' guards hold on the binding.
#[inline]
fn joint_halves(s: &State, action: Action, mutation: Option<Mutation>) -> Option<(State, State)> {
    let oplog = action
        .oplog_action()
        .expect("a joint step has an oplog part");
    let config = action
        .config_action()
        .expect("a joint step has a config part");
    let (mo, mc) = (
        mutation.and_then(Mutation::oplog),
        mutation.and_then(Mutation::config),
    );
    if !(oplog_sm::enabled(s, oplog, mo) && config_sm::enabled(s, config, mc)) {
        return None;
    }
    let mut oplog_next = *s;
    oplog_sm::apply(s, &mut oplog_next, oplog, mo);
    let mut config_next = *s;
    config_sm::apply(s, &mut config_next, config, mc);
    Some((oplog_next, config_next))
}

/// Runs one joint step: both machines' guards on the same binding, each machine's effect on
/// its own copy, then [`conjoin`].
#[inline]
fn joint_step(s: &State, action: Action, mutation: Option<Mutation>) -> Option<State> {
    joint_halves(s, action, mutation).and_then(|(oplog, config)| conjoin(oplog, &config))
}

/// `JointStepsAgree`: for every binding of the joint actions (BecomeLeader over the quorums of
/// the candidate's config, UpdateTerms over pairs of servers) on which both machines' guards
/// hold, the two effects agree, so the joint step is enabled: `ENABLED OSM!A /\ ENABLED CSM!A
/// => ENABLED (OSM!A /\ CSM!A)`.
///
/// Not a property of the TLA+ spec but of the composition: it holds when the two crates'
/// effects write the same shared values, as their specs do. When they do not, the conjunction
/// silently drops the step (fewer states, no invariant of the protocol broken), and this
/// property names the first state where a step is lost.
pub fn joint_steps_agree(s: &State, mutation: Option<Mutation>) -> bool {
    let n = s.servers as usize;
    let (mo, mc) = (
        mutation.and_then(Mutation::oplog),
        mutation.and_then(Mutation::config),
    );
    for i in 0..n {
        for vote_quorum in s.config[i].quorums() {
            if oplog_sm::become_leader_enabled(s, i, vote_quorum, mo)
                && config_sm::become_leader_enabled(s, i, vote_quorum, mc)
            {
                let mut oplog_next = *s;
                oplog_sm::become_leader_effect(s, &mut oplog_next, i, vote_quorum, mo);
                let mut config_next = *s;
                config_sm::become_leader_effect(s, &mut config_next, i, vote_quorum, mc);
                if conjoin(oplog_next, &config_next).is_none() {
                    return false;
                }
            }
        }
        for j in 0..n {
            if oplog_sm::update_terms_enabled(s, i, j, mo)
                && config_sm::update_terms_enabled(s, i, j, mc)
            {
                let mut oplog_next = *s;
                oplog_sm::update_terms_effect(s, &mut oplog_next, i, j, mo);
                let mut config_next = *s;
                config_sm::update_terms_effect(s, &mut config_next, i, j, mc);
                if conjoin(oplog_next, &config_next).is_none() {
                    return false;
                }
            }
        }
    }
    true
}

/// The servers whose quorums `CommitEntry(i, commitQuorum)` ranges over: `config[i]`, the
/// primary's own config (all servers under [`Mutation::CommitQuorumOfAllServers`]).
pub fn commit_quorum_servers(s: &State, i: usize, mutation: Option<Mutation>) -> ServerSet {
    if mutation == Some(Mutation::CommitQuorumOfAllServers) {
        ServerSet::all(s.servers as usize)
    } else {
        s.config[i]
    }
}

/// `ClientRequest(i)` (oplog step): primary `i` takes a client write, appending an entry of its
/// current term to its log.
pub fn client_request(s: &State, i: Server, mutation: Option<Mutation>) -> Option<State> {
    oplog_step(s, oplog_sm::Action::ClientRequest { i }, mutation)
}

/// `GetEntries(i, j)` (oplog step): secondary `i` appends the entry of `j`'s longer log that
/// follows its own last entry, if its last entry matches `j`'s log.
pub fn get_entries(s: &State, i: Server, j: Server, mutation: Option<Mutation>) -> Option<State> {
    oplog_step(s, oplog_sm::Action::GetEntries { i, j }, mutation)
}

/// `RollbackEntries(i, j)` (oplog step): secondary `i` removes its last entry, which `j`'s log
/// shows cannot be committed.
pub fn rollback_entries(
    s: &State,
    i: Server,
    j: Server,
    mutation: Option<Mutation>,
) -> Option<State> {
    oplog_step(s, oplog_sm::Action::RollbackEntries { i, j }, mutation)
}

/// `CommitEntry(i, commitQuorum)` (oplog step): primary `i` records its last entry, of its own
/// term and held by `commit_quorum` in that term, as committed.
pub fn commit_entry(
    s: &State,
    i: Server,
    commit_quorum: ServerSet,
    mutation: Option<Mutation>,
) -> Option<State> {
    oplog_step(
        s,
        oplog_sm::Action::CommitEntry { i, commit_quorum },
        mutation,
    )
}

/// `Reconfig(i, newConfig)` (config step): `OplogCommitment(i)`, then logless-raft's Reconfig:
/// a primary whose config is committed and whose term a quorum of it knows installs a config
/// that overlaps the old one, containing itself, with the next version and its term.
pub fn reconfig(
    s: &State,
    i: usize,
    new_config: ServerSet,
    mutation: Option<Mutation>,
) -> Option<State> {
    let step = config_sm::Action::Reconfig {
        i: i as u8,
        new_config,
    };
    if !oplog_commitment(s, i, mutation) {
        return None;
    }
    config_step(s, step, mutation)
}

/// `SendConfig(i, j)` (config step): secondary `j` adopts `i`'s newer config.
pub fn send_config(s: &State, i: usize, j: usize, mutation: Option<Mutation>) -> Option<State> {
    let step = config_sm::Action::SendConfig {
        i: i as u8,
        j: j as u8,
    };
    config_step(s, step, mutation)
}

/// `BecomeLeader(i, voteQuorum)` (joint step): an atomic election, allowed by both machines:
/// every voter is in an older term, has a log no more up to date than `i`'s and a config no
/// newer than `i`'s, and `i` is in its own config. The voters move to the new term, `i`
/// becomes Primary (both halves, which must agree) and stamps its config with the new term
/// (the config half).
pub fn become_leader(
    s: &State,
    i: usize,
    vote_quorum: ServerSet,
    mutation: Option<Mutation>,
) -> Option<State> {
    let action = Action::BecomeLeader {
        i: i as u8,
        vote_quorum,
    };
    joint_step(s, action, mutation)
}

/// `UpdateTerms(i, j)` (joint step): `j` adopts `i`'s newer term and steps down to Secondary
/// (both halves, which must agree).
pub fn update_terms(s: &State, i: usize, j: usize, mutation: Option<Mutation>) -> Option<State> {
    let action = Action::UpdateTerms {
        i: i as u8,
        j: j as u8,
    };
    joint_step(s, action, mutation)
}

/// The successor of `s` by `action`, if its guard holds (one copy, whatever its multiplicity).
pub fn step(s: &State, action: Action, mutation: Option<Mutation>) -> Option<State> {
    let server = |x: u8| x as usize;
    match action {
        Action::ClientRequest { i } => client_request(s, i, mutation),
        Action::GetEntries { i, j } => get_entries(s, i, j, mutation),
        Action::RollbackEntries { i, j } => rollback_entries(s, i, j, mutation),
        Action::CommitEntry { i, commit_quorum } => commit_entry(s, i, commit_quorum, mutation),
        Action::Reconfig { i, new_config } => reconfig(s, server(i), new_config, mutation),
        Action::SendConfig { i, j } => send_config(s, server(i), server(j), mutation),
        Action::BecomeLeader { i, vote_quorum } => {
            become_leader(s, server(i), vote_quorum, mutation)
        }
        Action::UpdateTerms { i, j } => update_terms(s, server(i), server(j), mutation),
    }
}

/// How many successors TLC generates for `action` when its guard holds: the witnesses of
/// `OplogCommitment` times those of logless-raft's quorum checks for Reconfig, one otherwise.
pub fn multiplicity(s: &State, action: Action, mutation: Option<Mutation>) -> usize {
    match action {
        Action::Reconfig { i, .. } => {
            let i = i as usize;
            oplog_commitment_witnesses(s, i, mutation).saturating_mul(
                config_sm::reconfig_witnesses(s, i, mutation.and_then(Mutation::config)),
            )
        }
        _ => 1,
    }
}

/// Appends the successors of `s` in `Next`'s order, one per satisfying binding of the
/// existential quantifiers TLC enumerates (see the module docs): `OSMNext` (ClientRequest,
/// GetEntries, RollbackEntries, CommitEntry over `Quorums(config[i])`), `CSMNext` (Reconfig
/// over `SUBSET Server`; SendConfig) and `JointNext` (BecomeLeader over `Quorums(config[i])`,
/// UpdateTerms). Each labelled step appears once; the successors TLC generates for it, one per
/// witness of the quantifiers its label does not bind, are counted by [`multiplicity`]
/// (`Spec::copies`) instead of being built.
///
/// The result, each step repeated by its multiplicity, is what trying every binding with
/// [`step`] and [`multiplicity`] gives (a unit test checks it); this enumeration only skips
/// bindings that cannot be enabled.
pub fn next(s: &State, mutation: Option<Mutation>, out: &mut Vec<(Action, State)>) {
    let n = s.servers;
    let mo = mutation.and_then(Mutation::oplog);
    let mc = mutation.and_then(Mutation::config);
    let mut push = |action: Action, next: State| out.push((action, next));

    // OSMNext /\ UNCHANGED csmVars
    for i in 0..n {
        if let Some(next) = client_request(s, i, mutation) {
            push(Action::ClientRequest { i }, next);
        }
    }
    for i in 0..n {
        for j in 0..n {
            if let Some(next) = get_entries(s, i, j, mutation) {
                push(Action::GetEntries { i, j }, next);
            }
        }
    }
    for i in 0..n {
        for j in 0..n {
            if let Some(next) = rollback_entries(s, i, j, mutation) {
                push(Action::RollbackEntries { i, j }, next);
            }
        }
    }
    for i in 0..n {
        let iu = i as usize;
        if s.state[iu] != Role::Primary || s.log[iu].is_empty() {
            continue;
        }
        for commit_quorum in commit_quorum_servers(s, iu, mutation).quorums() {
            if oplog_sm::commit_entry_enabled(s, iu, commit_quorum, mo) {
                let mut next = *s;
                oplog_sm::commit_entry_effect(s, &mut next, iu, commit_quorum);
                push(Action::CommitEntry { i, commit_quorum }, next);
            }
        }
    }

    // CSMNext /\ UNCHANGED osmVars
    let all = ServerSet::all(n as usize);
    for i in 0..n {
        let iu = i as usize;
        let config_witnesses = config_sm::reconfig_witnesses(s, iu, mc);
        if config_witnesses == 0 {
            continue;
        }
        if !oplog_commitment(s, iu, mutation) {
            continue;
        }
        for new_config in all.subsets() {
            if config_sm::reconfig_new_config_ok(s, iu, new_config, mc) {
                let mut next = *s;
                config_sm::reconfig_effect(s, &mut next, iu, new_config);
                push(Action::Reconfig { i, new_config }, next);
            }
        }
    }
    for i in 0..n {
        for j in 0..n {
            if let Some(next) = send_config(s, i as usize, j as usize, mutation) {
                push(Action::SendConfig { i, j }, next);
            }
        }
    }

    // JointNext: each half on its own copy, then their conjunction.
    for i in 0..n {
        let iu = i as usize;
        for vote_quorum in s.config[iu].quorums() {
            if oplog_sm::become_leader_enabled(s, iu, vote_quorum, mo)
                && config_sm::become_leader_enabled(s, iu, vote_quorum, mc)
            {
                let mut oplog_next = *s;
                oplog_sm::become_leader_effect(s, &mut oplog_next, iu, vote_quorum, mo);
                let mut config_next = *s;
                config_sm::become_leader_effect(s, &mut config_next, iu, vote_quorum, mc);
                if let Some(next) = conjoin(oplog_next, &config_next) {
                    push(Action::BecomeLeader { i, vote_quorum }, next);
                }
            }
        }
    }
    for i in 0..n {
        for j in 0..n {
            let (iu, ju) = (i as usize, j as usize);
            if oplog_sm::update_terms_enabled(s, iu, ju, mo)
                && config_sm::update_terms_enabled(s, iu, ju, mc)
            {
                let mut oplog_next = *s;
                oplog_sm::update_terms_effect(s, &mut oplog_next, iu, ju, mo);
                let mut config_next = *s;
                config_sm::update_terms_effect(s, &mut config_next, iu, ju, mc);
                if let Some(next) = conjoin(oplog_next, &config_next) {
                    push(Action::UpdateTerms { i, j }, next);
                }
            }
        }
    }
}
