//! The actions of MongoDynamicRaft, one function per action (guard, then effect), and the
//! enumeration of the next-state relation.
//!
//! Each action is MongoWeakRaft's action of the same name (from `weak-raft`, on the shared
//! variables) conjoined with what MongoDynamicRaft says of `config` and `configLog`. Each
//! function returns `None` when the guard is false, otherwise the successor. The guards are
//! MongoWeakRaft's named conjuncts (`weak_raft::guard`), plus ClientRequest's own
//! ([`client_request_guard`]); [`next_guard`] names the false ones for
//! `Spec::disabled_because`.

use crate::state::State;
use spec_core::itf::server_name;
use spec_core::{Server, ServerSet};
use std::fmt;
use weak_raft::actions as weak;
use weak_raft::conditions::quorums_overlap;
use weak_raft::guard::{Conjuncts, Holds};

/// One step of MongoDynamicRaft's `Next`: an action and the values of its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `ClientRequest(i, newConfig)`: a write that also reconfigures.
    ClientRequest {
        /// The primary that takes the write.
        i: Server,
        /// The config the write carries, which becomes `i`'s config.
        new_config: ServerSet,
    },
    /// `MergeEntries(i, j)`.
    MergeEntries {
        /// The server with the newer log.
        i: Server,
        /// The server whose log, config log and config are replaced by `i`'s.
        j: Server,
    },
    /// `BecomeLeader(i, voteQuorum)`, with its mandatory no-op.
    BecomeLeader {
        /// The candidate.
        i: Server,
        /// The voters, a quorum of the candidate's config.
        vote_quorum: ServerSet,
    },
    /// `CommitEntry(i, commitQuorum)`.
    CommitEntry {
        /// The primary.
        i: Server,
        /// The servers that hold the entry in the primary's term, a quorum of its config.
        commit_quorum: ServerSet,
    },
    /// `UpdateTerms(i, j)`: MongoWeakRaft's action, which MongoDynamicRaft does not have; only
    /// the generalization [`DynamicRaft::with_update_terms`](crate::DynamicRaft::with_update_terms)
    /// takes it.
    UpdateTerms {
        /// The server with the newer term.
        i: Server,
        /// The server that learns it.
        j: Server,
    },
}

/// The action names, in the order `Next` lists them.
pub const ACTION_NAMES: &[&str] = &[
    "ClientRequest",
    "MergeEntries",
    "BecomeLeader",
    "CommitEntry",
];

/// The action names of the generalization with UpdateTerms.
pub const ACTION_NAMES_WITH_UPDATE_TERMS: &[&str] = &[
    "ClientRequest",
    "MergeEntries",
    "BecomeLeader",
    "CommitEntry",
    "UpdateTerms",
];

impl spec_core::Action for Action {
    fn name(&self) -> &'static str {
        match self {
            Action::ClientRequest { .. } => "ClientRequest",
            Action::MergeEntries { .. } => "MergeEntries",
            Action::BecomeLeader { .. } => "BecomeLeader",
            Action::CommitEntry { .. } => "CommitEntry",
            Action::UpdateTerms { .. } => "UpdateTerms",
        }
    }
}

/// Prints like `ClientRequest(n1, {n1, n2})` or `MergeEntries(n1, n2)`.
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = spec_core::Action::name(self);
        let (i, rest) = match *self {
            Action::ClientRequest { i, new_config: q }
            | Action::BecomeLeader { i, vote_quorum: q }
            | Action::CommitEntry {
                i,
                commit_quorum: q,
            } => (i, weak::set_name(q)),
            Action::MergeEntries { i, j } | Action::UpdateTerms { i, j } => (i, server_name(j)),
        };
        write!(f, "{name}({}, {rest})", server_name(i))
    }
}

/// Reads the text `Display` writes: `ClientRequest(n1, {n1, n2})`, `MergeEntries(n1, n2)`,
/// `BecomeLeader(n1, {n1, n2})`, `CommitEntry(n1, {n1, n2})`, `UpdateTerms(n2, n1)`.
impl std::str::FromStr for Action {
    type Err = spec_core::ParseActionError;

    fn from_str(text: &str) -> Result<Action, spec_core::ParseActionError> {
        use spec_core::action_text::{parse, server, server_set, unknown};
        parse(text, |name, args| {
            Ok(match (name, args) {
                ("ClientRequest", [i, c]) => Action::ClientRequest {
                    i: server(i)?,
                    new_config: server_set(c)?,
                },
                ("MergeEntries", [i, j]) => Action::MergeEntries {
                    i: server(i)?,
                    j: server(j)?,
                },
                ("BecomeLeader", [i, q]) => Action::BecomeLeader {
                    i: server(i)?,
                    vote_quorum: server_set(q)?,
                },
                ("CommitEntry", [i, q]) => Action::CommitEntry {
                    i: server(i)?,
                    commit_quorum: server_set(q)?,
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
                            "ClientRequest(i, newConfig)",
                            "MergeEntries(i, j)",
                            "BecomeLeader(i, voteQuorum)",
                            "CommitEntry(i, commitQuorum)",
                            "UpdateTerms(i, j)",
                        ],
                    ))
                }
            })
        })
    }
}

/// Whether `action` names only servers of `s`'s model and its effect fits the state encoding
/// (MongoWeakRaft's [`weak::in_model`] for the MongoWeakRaft action it conjoins; the config
/// log has the log's capacity). Quorums and configs are [`next_guard`]'s business.
pub fn in_model(s: &State, action: Action) -> bool {
    let step = match action {
        Action::ClientRequest { i, .. } => weak::Step::ClientRequest { i },
        Action::MergeEntries { i, j } => weak::Step::MergeEntries { i, j },
        Action::BecomeLeader { i, vote_quorum } => weak::Step::BecomeLeader {
            i,
            vote_quorum,
            noop: true,
        },
        Action::CommitEntry { i, commit_quorum } => weak::Step::CommitEntry { i, commit_quorum },
        Action::UpdateTerms { i, j } => weak::Step::UpdateTerms { i, j },
    };
    let change_config = weak::ChangeConfig {
        i: 0,
        new_config: ServerSet::EMPTY,
    };
    weak::in_model(
        &s.raft,
        weak::Action {
            step,
            change_config,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// The actions
// ---------------------------------------------------------------------------------------------

/// `LastIsCommitted(i)`: `i`'s log is empty, or some committed record names its last entry
/// `<<Len(log[i]), LastTerm(log[i])>>`.
pub fn last_is_committed(s: &State, i: usize) -> bool {
    let log = &s.raft.log[i];
    match log.last() {
        None => true,
        Some(term) => s.raft.committed.contains_entry(log.len() as u8, term),
    }
}

/// The guard of `ClientRequest(i, newConfig)`: `i`'s last entry is committed
/// (`LastIsCommitted(i)`), every quorum of `newConfig` meets every quorum of its current config
/// (`QuorumsOverlap(config[i], newConfig)`), `i` is a member of `newConfig`, and
/// `MWR!ClientRequest(i)`'s guard (`state[i] = Primary`).
pub fn client_request_guard(
    s: &State,
    i: usize,
    new_config: ServerSet,
    g: &mut impl Conjuncts,
) -> bool {
    g.conjunct(last_is_committed(s, i), || {
        format!("LastIsCommitted({})", server_name(i))
    }) && g.conjunct(quorums_overlap(s.raft.config[i], new_config), || {
        format!(
            "QuorumsOverlap(config[{}], {})",
            server_name(i),
            weak::set_name(new_config)
        )
    }) && g.conjunct(new_config.contains(i), || {
        format!("{} \\in {}", server_name(i), weak::set_name(new_config))
    }) && weak::client_request_guard(&s.raft, i, g)
}

/// `ClientRequest(i, newConfig)`: primary `i` takes a client write that carries a new config:
/// it appends an entry of its term to its log, `newConfig` to its config log, and adopts
/// `newConfig` as its config. Guard: [`client_request_guard`]. Unchanged: currentTerm, state,
/// elections, committed.
pub fn client_request(s: &State, i: usize, new_config: ServerSet) -> Option<State> {
    if !client_request_guard(s, i, new_config, &mut Holds) {
        return None;
    }
    let mut next = State {
        raft: weak::client_request(&s.raft, i)?,
        config_log: s.config_log,
    };
    next.raft.config[i] = new_config;
    next.config_log[i].push(new_config);
    Some(next)
}

/// `MergeEntries(i, j)`: if `i`'s log is newer than `j`'s (by last entry), `j` takes `i`'s
/// log, config log and config (MongoWeakRaft's MergeEntries, with the configs that go with the
/// entries). Any server may receive it, a primary included. Unchanged: currentTerm, state,
/// elections, committed.
pub fn merge_entries(s: &State, i: usize, j: usize) -> Option<State> {
    let mut next = State {
        raft: weak::merge_entries(&s.raft, i, j)?,
        config_log: s.config_log,
    };
    next.config_log[j] = s.config_log[i];
    next.raft.config[j] = s.raft.config[i];
    Some(next)
}

/// `BecomeLeader(i, voteQuorum)`: MongoWeakRaft's atomic election (voters take the new term,
/// `i` becomes Primary, the election is recorded), with its no-op made mandatory: the new leader
/// appends an entry of its new term, and its current config to its config log, so that a
/// reconfig must wait until an entry of the new term is committed. Of MongoWeakRaft's two
/// disjuncts for `log'` only the one that appends agrees with this action's `log'`, so there is
/// one successor per quorum. Unchanged: config, committed.
pub fn become_leader(s: &State, i: usize, vote_quorum: ServerSet) -> Option<State> {
    let mut next = State {
        raft: weak::become_leader(&s.raft, i, vote_quorum, true)?,
        config_log: s.config_log,
    };
    next.config_log[i].push(s.raft.config[i]);
    Some(next)
}

/// `CommitEntry(i, commitQuorum)`: MongoWeakRaft's CommitEntry: primary `i` records its last
/// entry, of its own term and held by the quorum in that term, as committed. Unchanged: config,
/// configLog (and currentTerm, state, log, elections).
pub fn commit_entry(s: &State, i: usize, commit_quorum: ServerSet) -> Option<State> {
    Some(State {
        raft: weak::commit_entry(&s.raft, i, commit_quorum)?,
        config_log: s.config_log,
    })
}

/// `UpdateTerms(i, j)` (MongoWeakRaft's, not an action of MongoDynamicRaft): `j` learns `i`'s
/// newer term and steps down. Guard: `currentTerm[i] > currentTerm[j]`. Unchanged: log,
/// configLog, config, elections, committed.
pub fn update_terms(s: &State, i: usize, j: usize) -> Option<State> {
    Some(State {
        raft: weak::update_terms(&s.raft, i, j)?,
        config_log: s.config_log,
    })
}

// ---------------------------------------------------------------------------------------------
// The next-state relation
// ---------------------------------------------------------------------------------------------

/// Whether `action` is a step of `Next` from `s` (or of the generalization's UpdateTerms), as
/// the conjuncts of its disjunct: `newConfig \in SUBSET Server` for ClientRequest, the quorum
/// of BecomeLeader and CommitEntry in `QuorumsAt(i)`, then the action's guard (each
/// MongoWeakRaft action's guard, which MongoDynamicRaft's actions conjoin, and ClientRequest's
/// own: [`client_request_guard`]). UpdateTerms is a step only of the generalization.
pub fn next_guard(
    s: &State,
    action: Action,
    with_update_terms: bool,
    g: &mut impl Conjuncts,
) -> bool {
    match action {
        Action::ClientRequest { i, new_config } => {
            g.conjunct(new_config.is_subset(s.raft.all_servers()), || {
                format!("{} \\in SUBSET Server", weak::set_name(new_config))
            }) && client_request_guard(s, i.into(), new_config, g)
        }
        Action::MergeEntries { i, j } => weak::merge_entries_guard(&s.raft, i.into(), j.into(), g),
        Action::BecomeLeader { i, vote_quorum } => {
            weak::quorum_at_guard(&s.raft, i.into(), vote_quorum, g)
                && weak::become_leader_guard(&s.raft, i.into(), vote_quorum, g)
        }
        Action::CommitEntry { i, commit_quorum } => {
            weak::quorum_at_guard(&s.raft, i.into(), commit_quorum, g)
                && weak::commit_entry_guard(&s.raft, i.into(), commit_quorum, g)
        }
        Action::UpdateTerms { i, j } => {
            g.conjunct(with_update_terms, || {
                format!(
                    "{action} is a disjunct of Next (MongoDynamicRaft has no UpdateTerms; its generalization with MongoWeakRaft's has)"
                )
            }) && weak::update_terms_guard(&s.raft, i.into(), j.into(), g)
        }
    }
}

/// The step `action` from `s`, if it is a step of `Next`, or of the generalization's
/// UpdateTerms ([`next_guard`] with UpdateTerms).
pub fn apply(s: &State, action: Action) -> Option<State> {
    if !next_guard(s, action, true, &mut Holds) {
        return None;
    }
    match action {
        Action::ClientRequest { i, new_config } => client_request(s, i.into(), new_config),
        Action::MergeEntries { i, j } => merge_entries(s, i.into(), j.into()),
        Action::BecomeLeader { i, vote_quorum } => become_leader(s, i.into(), vote_quorum),
        Action::CommitEntry { i, commit_quorum } => commit_entry(s, i.into(), commit_quorum),
        Action::UpdateTerms { i, j } => update_terms(s, i.into(), j.into()),
    }
}

/// Every successor of `s` under `Next`, one per satisfying binding, in `Next`'s order:
/// ClientRequest per server and subset of `Server` (in increasing bitmask order), MergeEntries
/// per pair of servers (pairs include `i = j`, where the guard never holds), BecomeLeader and
/// CommitEntry per server and quorum of its config; then, if `with_update_terms`,
/// UpdateTerms per pair of servers.
pub fn next(s: &State, with_update_terms: bool, mut visit: impl FnMut(Action, State)) {
    let servers = spec_core::servers::server_range(s.server_ids().len());
    let mut try_action = |action: Action, next: Option<State>| {
        if let Some(next) = next {
            visit(action, next);
        }
    };
    for i in servers.clone() {
        for new_config in s.raft.all_servers().subsets() {
            try_action(
                Action::ClientRequest { i, new_config },
                client_request(s, i.into(), new_config),
            );
        }
    }
    for i in servers.clone() {
        for j in servers.clone() {
            try_action(
                Action::MergeEntries { i, j },
                merge_entries(s, i.into(), j.into()),
            );
        }
    }
    for i in servers.clone() {
        for vote_quorum in s.raft.config[usize::from(i)].quorums() {
            try_action(
                Action::BecomeLeader { i, vote_quorum },
                become_leader(s, i.into(), vote_quorum),
            );
        }
    }
    for i in servers.clone() {
        for commit_quorum in s.raft.config[usize::from(i)].quorums() {
            try_action(
                Action::CommitEntry { i, commit_quorum },
                commit_entry(s, i.into(), commit_quorum),
            );
        }
    }
    if with_update_terms {
        for i in servers.clone() {
            for j in servers.clone() {
                try_action(
                    Action::UpdateTerms { i, j },
                    update_terms(s, i.into(), j.into()),
                );
            }
        }
    }
}
