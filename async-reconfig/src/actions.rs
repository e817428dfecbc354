//! The actions: MongoRaftReconfig's, each one server's step, with every guard on another server
//! read from the history.
//!
//! An action that receives a fact (a vote request, an entry, a config, a term) first adopts the
//! term it carries, if newer (UpdateTerms), as a message's receiver does: `term` is that term,
//! any term some server has held (so at most the largest current term).

use std::fmt;

use raft_reconfig::{Role, ServerSet};
use spec_core::action_text::{natural, parse, server, server_set};
use spec_core::itf::server_name;
use spec_core::raft::{last_term, CommittedEntry};
use spec_core::{ParseActionError, Server};

use crate::state::{unpack_candidacy, State, TERMS, VERSIONS};
use crate::Mutation;

/// One step of AsyncReconfig.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `StartElection(i)`: `i` moves to the next term and votes for itself (if `{i}` is a
    /// quorum of its config it wins at once, as BecomeLeader).
    StartElection {
        /// The candidate.
        i: Server,
    },
    /// `GrantVote(j, i, t)`: `j` receives `i`'s request of term `t` (as `i` stood), adopts `t`,
    /// and votes for `i` if it has not voted for another in `t` and `i`'s log and config were
    /// at least as up to date as its own are now (CanVoteForOplog, CanVoteForConfig).
    GrantVote {
        /// The voter.
        j: Server,
        /// The candidate.
        i: Server,
        /// The candidate's term.
        term: u8,
    },
    /// `BecomeLeader(i)`: `i`, which voted for itself in its term, holds votes of that term
    /// from a quorum of its config: Primary, its config stamped with its term.
    BecomeLeader {
        /// The candidate.
        i: Server,
    },
    /// `Elect(i, Q)`: raft-reconfig's atomic `BecomeLeader(i, Q)`, every voter voting at once.
    Elect {
        /// The candidate.
        i: Server,
        /// The voters, `i` among them.
        vote_quorum: ServerSet,
    },
    /// `UpdateTerms(i, t)`: `i` adopts a newer term some server has held, and steps down.
    UpdateTerms {
        /// The server.
        i: Server,
        /// The term.
        term: u8,
    },
    /// `ClientRequest(i, commit)`: primary `i` appends an entry of its term; with `commit`, it
    /// also commits it, alone a quorum of its config.
    ClientRequest {
        /// The primary.
        i: Server,
        /// Whether the entry is committed in the same step.
        commit: bool,
    },
    /// `GetEntries(i, t, e)`: after adopting term `t`, secondary `i` appends an entry of term
    /// `e` that some log held right after the entry its own log ends with.
    GetEntries {
        /// The secondary.
        i: Server,
        /// The term adopted first.
        term: u8,
        /// The appended entry's term.
        entry_term: u8,
    },
    /// `RollbackEntries(i, t)`: after adopting term `t`, secondary `i` drops its last entry,
    /// which some log held without it and with a newer last term.
    RollbackEntries {
        /// The secondary.
        i: Server,
        /// The term adopted first.
        term: u8,
    },
    /// `CommitEntry(i)`: primary `i` commits its last entry, of its term, which a quorum of
    /// its config held while in its term.
    CommitEntry {
        /// The primary.
        i: Server,
    },
    /// `Reconfig(i, C)`: as raft-reconfig's, with ConfigQuorumCheck, TermQuorumCheck and
    /// OplogCommitment read from the history.
    Reconfig {
        /// The primary.
        i: Server,
        /// The new config.
        new_config: ServerSet,
    },
    /// `SendConfig(i, t, ct, v)`: after adopting term `t`, non-primary `i` adopts the newer
    /// config some server held at config term `ct` and version `v`.
    SendConfig {
        /// The receiver.
        i: Server,
        /// The term adopted first.
        term: u8,
        /// The config's term.
        config_term: u8,
        /// The config's version.
        config_version: u8,
    },
    /// `StepDown(i)`: a primary becomes Secondary in its term (a restart).
    StepDown {
        /// The primary.
        i: Server,
    },
}

/// The action names, in enumeration order.
pub const ACTION_NAMES: &[&str] = &[
    "StartElection",
    "GrantVote",
    "BecomeLeader",
    "Elect",
    "UpdateTerms",
    "ClientRequest",
    "GetEntries",
    "RollbackEntries",
    "CommitEntry",
    "Reconfig",
    "SendConfig",
    "StepDown",
];

impl spec_core::Action for Action {
    fn name(&self) -> &'static str {
        match self {
            Action::StartElection { .. } => "StartElection",
            Action::GrantVote { .. } => "GrantVote",
            Action::BecomeLeader { .. } => "BecomeLeader",
            Action::Elect { .. } => "Elect",
            Action::UpdateTerms { .. } => "UpdateTerms",
            Action::ClientRequest { .. } => "ClientRequest",
            Action::GetEntries { .. } => "GetEntries",
            Action::RollbackEntries { .. } => "RollbackEntries",
            Action::CommitEntry { .. } => "CommitEntry",
            Action::Reconfig { .. } => "Reconfig",
            Action::SendConfig { .. } => "SendConfig",
            Action::StepDown { .. } => "StepDown",
        }
    }
}

fn write_set(f: &mut fmt::Formatter<'_>, set: ServerSet) -> fmt::Result {
    let names: Vec<String> = set.iter().map(server_name).collect();
    write!(f, "{{{}}}", names.join(", "))
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |i: u8| server_name(i as usize);
        match *self {
            Action::StartElection { i } => write!(f, "StartElection({})", n(i)),
            Action::GrantVote { j, i, term } => write!(f, "GrantVote({}, {}, {term})", n(j), n(i)),
            Action::BecomeLeader { i } => write!(f, "BecomeLeader({})", n(i)),
            Action::Elect { i, vote_quorum } => {
                write!(f, "Elect({}, ", n(i))?;
                write_set(f, vote_quorum)?;
                f.write_str(")")
            }
            Action::UpdateTerms { i, term } => write!(f, "UpdateTerms({}, {term})", n(i)),
            Action::ClientRequest { i, commit } => {
                write!(f, "ClientRequest({}, {commit})", n(i))
            }
            Action::GetEntries {
                i,
                term,
                entry_term,
            } => write!(f, "GetEntries({}, {term}, {entry_term})", n(i)),
            Action::RollbackEntries { i, term } => write!(f, "RollbackEntries({}, {term})", n(i)),
            Action::CommitEntry { i } => write!(f, "CommitEntry({})", n(i)),
            Action::Reconfig { i, new_config } => {
                write!(f, "Reconfig({}, ", n(i))?;
                write_set(f, new_config)?;
                f.write_str(")")
            }
            Action::SendConfig {
                i,
                term,
                config_term,
                config_version,
            } => write!(
                f,
                "SendConfig({}, {term}, {config_term}, {config_version})",
                n(i)
            ),
            Action::StepDown { i } => write!(f, "StepDown({})", n(i)),
        }
    }
}

/// Reads what `Display` writes.
impl std::str::FromStr for Action {
    type Err = ParseActionError;

    fn from_str(text: &str) -> Result<Action, ParseActionError> {
        parse(text, |name, args| {
            let s = server;
            let k = |a: &str| natural(a).map(|v| v as u8);
            let b = |a: &str| match a {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(format!("{a:?} is not true or false")),
            };
            match (name, args) {
                ("StartElection", [i]) => Ok(Action::StartElection { i: s(i)? }),
                ("GrantVote", [j, i, t]) => Ok(Action::GrantVote {
                    j: s(j)?,
                    i: s(i)?,
                    term: k(t)?,
                }),
                ("BecomeLeader", [i]) => Ok(Action::BecomeLeader { i: s(i)? }),
                ("Elect", [i, q]) => Ok(Action::Elect {
                    i: s(i)?,
                    vote_quorum: server_set(q)?,
                }),
                ("UpdateTerms", [i, t]) => Ok(Action::UpdateTerms {
                    i: s(i)?,
                    term: k(t)?,
                }),
                ("ClientRequest", [i, c]) => Ok(Action::ClientRequest {
                    i: s(i)?,
                    commit: b(c)?,
                }),
                ("GetEntries", [i, t, e]) => Ok(Action::GetEntries {
                    i: s(i)?,
                    term: k(t)?,
                    entry_term: k(e)?,
                }),
                ("RollbackEntries", [i, t]) => Ok(Action::RollbackEntries {
                    i: s(i)?,
                    term: k(t)?,
                }),
                ("CommitEntry", [i]) => Ok(Action::CommitEntry { i: s(i)? }),
                ("Reconfig", [i, c]) => Ok(Action::Reconfig {
                    i: s(i)?,
                    new_config: server_set(c)?,
                }),
                ("SendConfig", [i, t, ct, v]) => Ok(Action::SendConfig {
                    i: s(i)?,
                    term: k(t)?,
                    config_term: k(ct)?,
                    config_version: k(v)?,
                }),
                ("StepDown", [i]) => Ok(Action::StepDown { i: s(i)? }),
                _ => Err(format!(
                    "unknown action {name} with {} arguments; the actions are {}",
                    args.len(),
                    ACTION_NAMES.join(", ")
                )),
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Guards and effects
// ---------------------------------------------------------------------------------------------

/// Whether `votes` holds a majority of `config`.
pub fn is_quorum(votes: ServerSet, config: ServerSet) -> bool {
    ServerSet(votes.0 & config.0).len() * 2 > config.len()
}

/// `QuorumsOverlap(x, y)`.
pub fn quorums_overlap(x: ServerSet, y: ServerSet) -> bool {
    x.quorums().all(|qx| y.quorums().all(|qy| qx.0 & qy.0 != 0))
}

/// UpdateTerms at `i` from a fact of term `t`: a newer term is adopted, `i` steps down and has
/// no vote in it.
fn adopt(s: &mut State, i: usize, t: u8) {
    if t > s.core.current_term[i] {
        s.core.current_term[i] = t;
        s.core.state[i] = Role::Secondary;
        s.voted_for[i] = 0;
    }
}

/// Whether term `t` can be carried by a fact: some server has held it.
fn term_known(s: &State, t: u8) -> bool {
    t <= s.max_term()
}

/// The servers that voted for `i` in term `t` (the history), and `i` itself.
pub fn votes_for(s: &State, i: usize, t: u8) -> ServerSet {
    let mut set = ServerSet::single(i);
    if (t as usize) < TERMS {
        for j in s.server_ids() {
            if s.history.voted[t as usize][j] as usize == i + 1 {
                set = set.with(j);
            }
        }
    }
    set
}

/// The servers that held `i`'s entry of term `t` at index `k` while in term `t`, and `i`.
pub fn held_by(s: &State, i: usize, k: usize, t: u8, mutation: Option<Mutation>) -> ServerSet {
    let mut set = ServerSet::single(i);
    for j in s.server_ids() {
        let held = if mutation == Some(Mutation::CommitCountsCurrentHolders) {
            s.core.log[j].at(k) == Some(t)
        } else {
            (t as usize) < TERMS && k < 8 && s.history.held[t as usize][j] & (1 << k) != 0
        };
        if held {
            set = set.with(j);
        }
    }
    set
}

/// ConfigQuorumCheck and TermQuorumCheck: either one quorum of `i`'s config whose members
/// each held its config (version, config term `t`) while in its term `t` at some time (the
/// acknowledgements a primary gathers by messages), or raft-reconfig's checks on the current
/// state, each with its own quorum. (Each check alone over the history, with its own quorum, is
/// too weak: see the README.)
pub fn config_and_term_quorum_checks(s: &State, i: usize, mutation: Option<Mutation>) -> bool {
    let (t, v) = (
        s.core.current_term[i] as usize,
        s.core.config_version[i] as usize,
    );
    let c = &s.core;
    let config = c.config[i];
    let mut acked = ServerSet::single(i);
    let (mut same_config, mut same_term) = (ServerSet::EMPTY, ServerSet::EMPTY);
    for j in s.server_ids() {
        if t < TERMS && v < VERSIONS && s.history.acked[t][j] & (1 << v) != 0 {
            acked = acked.with(j);
        }
        if c.config_version[j] == c.config_version[i] && c.config_term[j] == c.config_term[i] {
            same_config = same_config.with(j);
        }
        if c.current_term[j] == c.current_term[i] {
            same_term = same_term.with(j);
        }
    }
    is_quorum(acked, config)
        || (mutation != Some(Mutation::AcknowledgementsOnly)
            && is_quorum(same_config, config)
            && is_quorum(same_term, config))
}

/// `OplogCommitment(i)` from the history: nothing is committed, or `i` committed an entry in
/// its term, or its log is empty (message-raft's reading: then, by LeaderCompleteness, nothing
/// of its term or older is committed); and each entry committed in its term, which it holds, a
/// quorum of its current config held while in its term (IsCommitted).
pub fn oplog_commitment(s: &State, i: usize, mutation: Option<Mutation>) -> bool {
    let t = s.core.current_term[i];
    let committed = s.core.committed;
    let nothing_committed =
        committed.is_empty() && mutation != Some(Mutation::OplogCommitmentNeedsTermCommit);
    (nothing_committed || s.core.log[i].is_empty() || committed.iter().any(|c| c.term == t))
        && committed.iter().filter(|c| c.term == t).all(|c| {
            s.core.log[i].at(c.index as usize) == Some(t)
                && is_quorum(
                    held_by(s, i, c.index as usize, t, mutation),
                    s.core.config[i],
                )
        })
}

/// The successor of `s` by `action`, if its guard holds and it changes the state.
pub fn step(s: &State, action: Action, mutation: Option<Mutation>) -> Option<State> {
    let mut n = *s;
    match action {
        Action::StartElection { i } => {
            let i = i as usize;
            if s.is_primary(i) || !s.core.config[i].contains(i) {
                return None;
            }
            n.core.current_term[i] += 1;
            n.voted_for[i] = i as u8 + 1;
            n.core.state[i] = Role::Secondary;
            if is_quorum(ServerSet::single(i), n.core.config[i]) {
                n.core.state[i] = Role::Primary;
                n.core.config_term[i] = n.core.current_term[i];
            }
        }
        Action::GrantVote { j, i, term } => {
            let (j, i) = (j as usize, i as usize);
            let (last_index, last_t, config_term, version) =
                unpack_candidacy(*s.history.stood.get(term as usize)?.get(i)?)?;
            if i == j {
                return None;
            }
            adopt(&mut n, j, term);
            let log = &n.core.log[j];
            let log_ok = last_t > last_term(log)
                || (last_t == last_term(log) && last_index as usize >= log.len())
                || mutation == Some(Mutation::GrantIgnoresLog);
            let config_ok =
                (config_term, version) >= (n.core.config_term[j], n.core.config_version[j]);
            if !(n.core.current_term[j] == term
                && n.core.state[j] == Role::Secondary
                && (n.voted_for[j] == 0 || n.voted_for[j] as usize == i + 1)
                && log_ok
                && config_ok)
            {
                return None;
            }
            n.voted_for[j] = i as u8 + 1;
        }
        Action::BecomeLeader { i } => {
            let i = i as usize;
            let t = s.core.current_term[i];
            if s.is_primary(i)
                || s.voted_for[i] as usize != i + 1
                || !is_quorum(votes_for(s, i, t), s.core.config[i])
            {
                return None;
            }
            n.core.state[i] = Role::Primary;
            n.core.config_term[i] = t;
        }
        Action::Elect { i, vote_quorum } => {
            // raft-reconfig's BecomeLeader, both machines' guards and effects; the voters'
            // votes are recorded.
            let after =
                raft_reconfig::actions::become_leader(&s.core, i as usize, vote_quorum, None)?;
            n.core = after;
            for v in vote_quorum.iter() {
                n.voted_for[v] = i + 1;
            }
        }
        Action::UpdateTerms { i, term } => {
            let i = i as usize;
            if term <= s.core.current_term[i] || !term_known(s, term) {
                return None;
            }
            adopt(&mut n, i, term);
        }
        Action::ClientRequest { i, commit } => {
            let i = i as usize;
            if !s.is_primary(i) || s.core.log[i].len() >= spec_core::raft::LOG_CAPACITY {
                return None;
            }
            n.core.log[i].push(s.core.current_term[i]);
            if commit {
                n.record();
                return step(&n, Action::CommitEntry { i: i as u8 }, mutation);
            }
        }
        Action::GetEntries {
            i,
            term,
            entry_term,
        } => {
            let i = i as usize;
            if !term_known(s, term) {
                return None;
            }
            adopt(&mut n, i, term);
            let log = n.core.log[i];
            if n.core.state[i] != Role::Secondary
                || log.len() >= spec_core::raft::LOG_CAPACITY
                || !s
                    .history
                    .entry_after(log.len() + 1, entry_term, last_term(&log))
            {
                return None;
            }
            n.core.log[i].push(entry_term);
        }
        Action::RollbackEntries { i, term } => {
            let i = i as usize;
            if !term_known(s, term) {
                return None;
            }
            adopt(&mut n, i, term);
            let log = n.core.log[i];
            let (k, p) = (log.len(), last_term(&log));
            let shown = s
                .history
                .logs()
                .any(|l| l.at(k) != Some(p) && last_term(&l) > p);
            if n.core.state[i] != Role::Secondary || k == 0 || !shown {
                return None;
            }
            n.core.log[i].pop();
        }
        Action::CommitEntry { i } => {
            let i = i as usize;
            let t = s.core.current_term[i];
            let k = s.core.log[i].len();
            if !s.is_primary(i)
                || k == 0
                || last_term(&s.core.log[i]) != t
                || !is_quorum(held_by(s, i, k, t, mutation), s.core.config[i])
            {
                return None;
            }
            n.core.committed = s.core.committed.with(CommittedEntry {
                index: k as u8,
                entry_term: t,
                term: t,
            });
        }
        Action::Reconfig { i, new_config } => {
            let i = i as usize;
            if !s.is_primary(i)
                || !new_config.contains(i)
                || !new_config.is_subset(ServerSet::all(s.core.servers as usize))
                || !quorums_overlap(s.core.config[i], new_config)
                || !config_and_term_quorum_checks(s, i, mutation)
                || !(mutation == Some(Mutation::ReconfigSkipsOplogCommitment)
                    || oplog_commitment(s, i, mutation))
            {
                return None;
            }
            n.core.config[i] = new_config;
            n.core.config_version[i] += 1;
            n.core.config_term[i] = s.core.current_term[i];
        }
        Action::SendConfig {
            i,
            term,
            config_term,
            config_version,
        } => {
            let i = i as usize;
            let members = *s
                .history
                .configs
                .get(config_term as usize)?
                .get(config_version as usize)?;
            if members == 0 || !term_known(s, term) {
                return None;
            }
            adopt(&mut n, i, term);
            if n.is_primary(i)
                || (config_term, config_version)
                    <= (n.core.config_term[i], n.core.config_version[i])
            {
                return None;
            }
            n.core.config[i] = ServerSet(members as u16);
            n.core.config_term[i] = config_term;
            n.core.config_version[i] = config_version;
        }
        Action::StepDown { i } => {
            let i = i as usize;
            if !s.is_primary(i) {
                return None;
            }
            n.core.state[i] = Role::Secondary;
        }
    }
    (n != *s).then(|| recorded(n))
}

fn recorded(mut n: State) -> State {
    n.record();
    n
}

/// Every step of `s`, in the order of [`ACTION_NAMES`], server by server.
pub fn next(s: &State, mutation: Option<Mutation>, out: &mut Vec<(Action, State)>) {
    let servers = s.core.servers;
    let max = s.max_term();
    let mut push = |a: Action| {
        if let Some(n) = step(s, a, mutation) {
            out.push((a, n));
        }
    };
    for i in 0..servers {
        push(Action::StartElection { i });
    }
    for j in 0..servers {
        for i in 0..servers {
            for term in 1..TERMS as u8 {
                if s.history.stood[term as usize][i as usize] != 0 {
                    push(Action::GrantVote { j, i, term });
                }
            }
        }
    }
    for i in 0..servers {
        push(Action::BecomeLeader { i });
    }
    for i in 0..servers {
        for vote_quorum in s.core.config[i as usize].quorums() {
            push(Action::Elect { i, vote_quorum });
        }
    }
    for i in 0..servers {
        for term in 0..=max {
            push(Action::UpdateTerms { i, term });
        }
    }
    for i in 0..servers {
        push(Action::ClientRequest { i, commit: false });
        push(Action::ClientRequest { i, commit: true });
    }
    for i in 0..servers {
        let own = s.core.current_term[i as usize];
        for term in own..=max {
            for entry_term in 1..TERMS as u8 {
                push(Action::GetEntries {
                    i,
                    term,
                    entry_term,
                });
            }
        }
    }
    for i in 0..servers {
        let own = s.core.current_term[i as usize];
        for term in own..=max {
            push(Action::RollbackEntries { i, term });
        }
    }
    for i in 0..servers {
        push(Action::CommitEntry { i });
    }
    for i in 0..servers {
        for new_config in ServerSet::all(servers as usize).subsets() {
            push(Action::Reconfig { i, new_config });
        }
    }
    for i in 0..servers {
        let own = s.core.current_term[i as usize];
        for term in own..=max {
            for config_term in 0..TERMS as u8 {
                for config_version in 0..VERSIONS as u8 {
                    if s.history.configs[config_term as usize][config_version as usize] != 0 {
                        push(Action::SendConfig {
                            i,
                            term,
                            config_term,
                            config_version,
                        });
                    }
                }
            }
        }
    }
    for i in 0..servers {
        push(Action::StepDown { i });
    }
}

/// The AsyncReconfig steps that could lead from `s` to `t`, guessed from what changed (the
/// servers whose variables differ, and how), each then checked with [`step`]: the first that
/// leads there. A refinement into this level uses it instead of trying every step.
pub fn witness(s: &State, t: &State, mutation: Option<Mutation>) -> Option<Action> {
    let changed: Vec<usize> = s
        .server_ids()
        .filter(|&j| {
            let (a, b) = (&s.core, &t.core);
            a.current_term[j] != b.current_term[j]
                || a.state[j] != b.state[j]
                || a.config[j] != b.config[j]
                || a.config_version[j] != b.config_version[j]
                || a.config_term[j] != b.config_term[j]
                || a.log[j] != b.log[j]
                || s.voted_for[j] != t.voted_for[j]
        })
        .collect();
    let mut candidates = Vec::new();
    match changed.as_slice() {
        [] => {
            for i in s.server_ids() {
                candidates.push(Action::CommitEntry { i: i as u8 });
            }
        }
        &[i] => {
            let u = i as u8;
            let term = t.core.current_term[i];
            let entry_term = t.core.log[i].last().unwrap_or(0);
            // The likeliest step first, from what changed (each candidate costs a step).
            let (a, b) = (&s.core, &t.core);
            let guess = if t.voted_for[i] != s.voted_for[i] && t.voted_for[i] == u + 1 {
                Action::StartElection { i: u }
            } else if t.voted_for[i] != s.voted_for[i] && t.voted_for[i] != 0 {
                Action::GrantVote {
                    j: u,
                    i: t.voted_for[i] - 1,
                    term,
                }
            } else if b.log[i].len() > a.log[i].len() && b.state[i] == Role::Primary {
                Action::ClientRequest {
                    i: u,
                    commit: a.committed != b.committed,
                }
            } else if b.log[i].len() > a.log[i].len() {
                Action::GetEntries {
                    i: u,
                    term,
                    entry_term,
                }
            } else if b.log[i].len() < a.log[i].len() {
                Action::RollbackEntries { i: u, term }
            } else if (a.config_version[i], a.config[i]) != (b.config_version[i], b.config[i])
                && b.state[i] == Role::Primary
            {
                Action::Reconfig {
                    i: u,
                    new_config: b.config[i],
                }
            } else if (a.config_version[i], a.config_term[i])
                != (b.config_version[i], b.config_term[i])
                && b.state[i] != Role::Primary
            {
                Action::SendConfig {
                    i: u,
                    term,
                    config_term: b.config_term[i],
                    config_version: b.config_version[i],
                }
            } else if b.state[i] == Role::Primary {
                Action::BecomeLeader { i: u }
            } else if a.current_term[i] == b.current_term[i] {
                Action::StepDown { i: u }
            } else {
                Action::UpdateTerms { i: u, term }
            };
            candidates.push(guess);
            candidates.extend([
                Action::StartElection { i: u },
                Action::UpdateTerms { i: u, term },
                Action::BecomeLeader { i: u },
                Action::StepDown { i: u },
                Action::ClientRequest {
                    i: u,
                    commit: s.core.committed != t.core.committed,
                },
                Action::GetEntries {
                    i: u,
                    term,
                    entry_term,
                },
                Action::RollbackEntries { i: u, term },
                Action::Reconfig {
                    i: u,
                    new_config: t.core.config[i],
                },
                Action::SendConfig {
                    i: u,
                    term,
                    config_term: t.core.config_term[i],
                    config_version: t.core.config_version[i],
                },
            ]);
            if t.voted_for[i] != 0 {
                candidates.push(Action::GrantVote {
                    j: u,
                    i: t.voted_for[i] - 1,
                    term,
                });
            }
        }
        _ => {}
    }
    let mut voters = ServerSet::EMPTY;
    for &j in &changed {
        voters = voters.with(j);
    }
    for i in changed.iter().copied() {
        candidates.push(Action::Elect {
            i: i as u8,
            vote_quorum: voters,
        });
    }
    candidates
        .into_iter()
        .find(|&a| step(s, a, mutation).as_ref() == Some(t))
}
