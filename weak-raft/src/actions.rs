//! The actions of MongoWeakRaft, one function per action (guard, then effect), and the
//! enumeration of the next-state relation.
//!
//! `Next` is `NextStatic /\ \E s \in Server : ChangeConfig(s)`: every step is one protocol step
//! of `NextStatic` ([`Step`]) taken together with a [`ChangeConfig`] that sets one server's
//! config to any nonempty set of servers (its current config included). The protocol actions
//! leave `config` to ChangeConfig, except UpdateTerms, which keeps `config` UNCHANGED: a step
//! with UpdateTerms can only "change" a server's config to the config it has, and TLC counts it
//! once (see [`config_changes`]).
//!
//! Each protocol action is a function `action(state, args...) -> Option<State>`: `None` when the
//! guard is false, otherwise the successor with the protocol variables changed and `config` as
//! it was. [`next`] then applies every ChangeConfig binding to it. Each guard is written once,
//! as named conjuncts (`action_guard(state, args..., sink)`, see [`crate::guard`]): the
//! successor function evaluates it as a boolean, and [`next_guard`] with
//! [`FalseConjuncts`](crate::guard::FalseConjuncts) names the conjuncts that are false, which
//! is how the two layers explain a step that is not enabled.

use crate::guard::{Conjuncts, Holds};
use crate::state::{
    get_term, in_log, last_term, newer_log, CommittedEntry, Role, State, MAX_SERVERS,
};
use spec_core::itf::server_name;
use spec_core::{Server, ServerSet};
use std::fmt;

/// One protocol step of `NextStatic`: an action and the values of its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// `ClientRequest(i)`.
    ClientRequest {
        /// The primary that takes the write.
        i: Server,
    },
    /// `GetEntries(i, j)`.
    GetEntries {
        /// The secondary that appends an entry.
        i: Server,
        /// The server it copies the entry from.
        j: Server,
    },
    /// `RollbackEntries(i, j)`.
    RollbackEntries {
        /// The server that removes its last entry.
        i: Server,
        /// The server whose log shows that entry is stale.
        j: Server,
    },
    /// `BecomeLeader(i, voteQuorum)`, with or without the optional no-op entry (the two
    /// disjuncts of its `log'` conjunct).
    BecomeLeader {
        /// The candidate.
        i: Server,
        /// The voters, a quorum of the candidate's config.
        vote_quorum: ServerSet,
        /// Whether the new leader appends a no-op entry of its new term.
        noop: bool,
    },
    /// `CommitEntry(i, commitQuorum)`.
    CommitEntry {
        /// The primary.
        i: Server,
        /// The servers that hold the entry in the primary's term, a quorum of its config.
        commit_quorum: ServerSet,
    },
    /// `MergeEntries(i, j)`.
    MergeEntries {
        /// The server with the newer log.
        i: Server,
        /// The server whose log is replaced by `i`'s.
        j: Server,
    },
    /// `UpdateTerms(i, j)`.
    UpdateTerms {
        /// The server with the newer term.
        i: Server,
        /// The server that learns it.
        j: Server,
    },
}

/// `ChangeConfig(i)` with its bound `newConfig`: server `i`'s config becomes `new_config` (a
/// nonempty set of servers, possibly the config it already has).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChangeConfig {
    /// The server whose config is set.
    pub i: Server,
    /// Its new config.
    pub new_config: ServerSet,
}

/// One step of MongoWeakRaft's `Next`: a protocol step and the config change taken with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Action {
    /// The protocol step (a disjunct of `NextStatic`).
    pub step: Step,
    /// The config change taken in the same step.
    pub change_config: ChangeConfig,
}

/// The action names, in the order `NextStatic` lists them. Every step is also a ChangeConfig;
/// coverage is counted by protocol step.
pub const ACTION_NAMES: &[&str] = &[
    "ClientRequest",
    "GetEntries",
    "RollbackEntries",
    "BecomeLeader",
    "CommitEntry",
    "MergeEntries",
    "UpdateTerms",
];

impl Step {
    /// The TLA+ action's name.
    pub fn name(&self) -> &'static str {
        match self {
            Step::ClientRequest { .. } => "ClientRequest",
            Step::GetEntries { .. } => "GetEntries",
            Step::RollbackEntries { .. } => "RollbackEntries",
            Step::BecomeLeader { .. } => "BecomeLeader",
            Step::CommitEntry { .. } => "CommitEntry",
            Step::MergeEntries { .. } => "MergeEntries",
            Step::UpdateTerms { .. } => "UpdateTerms",
        }
    }

    /// Whether the action keeps `config` UNCHANGED itself (only UpdateTerms does), so that the
    /// ChangeConfig taken with it must set a server's config to the config it has.
    pub fn keeps_config(&self) -> bool {
        matches!(self, Step::UpdateTerms { .. })
    }
}

impl spec_core::Action for Action {
    fn name(&self) -> &'static str {
        self.step.name()
    }
}

/// Prints a set of servers as `{n1, n2}`.
pub fn set_name(q: ServerSet) -> String {
    let names: Vec<String> = q.iter().map(server_name).collect();
    format!("{{{}}}", names.join(", "))
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args = match *self {
            Step::ClientRequest { i } => server_name(i),
            Step::GetEntries { i, j }
            | Step::RollbackEntries { i, j }
            | Step::MergeEntries { i, j }
            | Step::UpdateTerms { i, j } => format!("{}, {}", server_name(i), server_name(j)),
            Step::BecomeLeader {
                i,
                vote_quorum,
                noop,
            } => format!(
                "{}, {}{}",
                server_name(i),
                set_name(vote_quorum),
                if noop { ", no-op" } else { "" }
            ),
            Step::CommitEntry { i, commit_quorum } => {
                format!("{}, {}", server_name(i), set_name(commit_quorum))
            }
        };
        write!(f, "{}({args})", self.name())
    }
}

impl fmt::Display for ChangeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ChangeConfig({}, {})",
            server_name(self.i),
            set_name(self.new_config)
        )
    }
}

/// Prints like `BecomeLeader(n1, {n1, n2}, no-op) /\ ChangeConfig(n3, {n3})`.
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} /\\ {}", self.step, self.change_config)
    }
}

/// The forms of the actions, for error messages.
const FORMS: &[&str] = &[
    "ClientRequest(i)",
    "GetEntries(i, j)",
    "RollbackEntries(i, j)",
    "BecomeLeader(i, voteQuorum)",
    "BecomeLeader(i, voteQuorum, no-op)",
    "CommitEntry(i, commitQuorum)",
    "MergeEntries(i, j)",
    "UpdateTerms(i, j)",
];

/// Reads the text `Display` writes: `ClientRequest(n1)`, `BecomeLeader(n1, {n1, n2}, no-op)`,
/// ... Any server number is read; whether the model has it is `Spec::step`'s question.
impl std::str::FromStr for Step {
    type Err = spec_core::ParseActionError;

    fn from_str(text: &str) -> Result<Step, spec_core::ParseActionError> {
        use spec_core::action_text::{parse, server, server_set, unknown};
        parse(text, |name, args| {
            let pair = |i: &str, j: &str| -> Result<(Server, Server), String> {
                Ok((server(i)?, server(j)?))
            };
            Ok(match (name, args) {
                ("ClientRequest", [i]) => Step::ClientRequest { i: server(i)? },
                ("GetEntries", [i, j]) => {
                    let (i, j) = pair(i, j)?;
                    Step::GetEntries { i, j }
                }
                ("RollbackEntries", [i, j]) => {
                    let (i, j) = pair(i, j)?;
                    Step::RollbackEntries { i, j }
                }
                ("MergeEntries", [i, j]) => {
                    let (i, j) = pair(i, j)?;
                    Step::MergeEntries { i, j }
                }
                ("UpdateTerms", [i, j]) => {
                    let (i, j) = pair(i, j)?;
                    Step::UpdateTerms { i, j }
                }
                ("BecomeLeader", [i, q]) => Step::BecomeLeader {
                    i: server(i)?,
                    vote_quorum: server_set(q)?,
                    noop: false,
                },
                ("BecomeLeader", [i, q, noop]) if *noop == "no-op" => Step::BecomeLeader {
                    i: server(i)?,
                    vote_quorum: server_set(q)?,
                    noop: true,
                },
                ("CommitEntry", [i, q]) => Step::CommitEntry {
                    i: server(i)?,
                    commit_quorum: server_set(q)?,
                },
                _ => return Err(unknown(name, args, FORMS)),
            })
        })
    }
}

/// Reads `ChangeConfig(n3, {n3})`.
impl std::str::FromStr for ChangeConfig {
    type Err = spec_core::ParseActionError;

    fn from_str(text: &str) -> Result<ChangeConfig, spec_core::ParseActionError> {
        use spec_core::action_text::{parse, server, server_set, unknown};
        parse(text, |name, args| match (name, args) {
            ("ChangeConfig", [i, c]) => Ok(ChangeConfig {
                i: server(i)?,
                new_config: server_set(c)?,
            }),
            _ => Err(unknown(name, args, &["ChangeConfig(i, newConfig)"])),
        })
    }
}

/// Reads the text `Display` writes: a protocol step and its config change, joined by `/\`,
/// such as `UpdateTerms(n1, n2) /\ ChangeConfig(n1, {n1, n2})`.
impl std::str::FromStr for Action {
    type Err = spec_core::ParseActionError;

    fn from_str(text: &str) -> Result<Action, spec_core::ParseActionError> {
        let whole = |e: spec_core::ParseActionError| spec_core::ParseActionError {
            input: text.to_string(),
            problem: e.problem,
        };
        let (step, change) = text
            .split_once("/\\")
            .ok_or_else(|| spec_core::ParseActionError {
                input: text.to_string(),
                problem: "expected a protocol step /\\ ChangeConfig(i, newConfig)".into(),
            })?;
        Ok(Action {
            step: step.parse().map_err(whole)?,
            change_config: change.parse().map_err(whole)?,
        })
    }
}

/// Whether `action` is a binding of `Next` in `s`'s model (every server it names is one of
/// `s`'s) whose effect fits the state encoding: a log with room for the entry it appends, an
/// election term and a commit record the history variables hold. A state outside the model's
/// constraint may fail the second; the model's own states never do. Quorums and configs are
/// [`next_guard`]'s business.
pub fn in_model(s: &State, action: Action) -> bool {
    let servers = s.servers as usize;
    let server = |i: Server| usize::from(i) < servers;
    let room = |i: Server| s.log[usize::from(i)].len() < crate::state::LOG_CAPACITY;
    let protocol = match action.step {
        Step::ClientRequest { i } => server(i) && room(i),
        Step::GetEntries { i, j } => server(i) && server(j) && room(i),
        Step::RollbackEntries { i, j }
        | Step::MergeEntries { i, j }
        | Step::UpdateTerms { i, j } => server(i) && server(j),
        Step::BecomeLeader { i, noop, .. } => {
            server(i)
                && (s.current_term[usize::from(i)] as usize) < crate::state::MAX_TERM + 1
                && (!noop || room(i))
        }
        Step::CommitEntry { i, .. } => {
            server(i) && {
                let term = s.current_term[usize::from(i)];
                spec_core::raft::committable(s.log[usize::from(i)].len() as u8, term, term)
            }
        }
    };
    protocol && server(action.change_config.i)
}

// ---------------------------------------------------------------------------------------------
// The protocol actions (NextStatic)
//
// Each guard is a chain of named conjuncts over a `Conjuncts` sink (see `crate::guard`): with
// `Holds` it is the boolean guard the successor function uses, with `FalseConjuncts` it
// describes each false conjunct in TLA+ notation, with the action's values bound.
// ---------------------------------------------------------------------------------------------

/// A server's name in a description: `n1`, `n2`, ...
fn n(i: usize) -> String {
    server_name(i)
}

/// The guard of `UpdateTerms(i, j)` (`UpdateTermsExpr`): `currentTerm[i] > currentTerm[j]`.
pub fn update_terms_guard(s: &State, i: usize, j: usize, g: &mut impl Conjuncts) -> bool {
    g.conjunct(s.current_term[i] > s.current_term[j], || {
        format!("currentTerm[{}] > currentTerm[{}]", n(i), n(j))
    })
}

/// `UpdateTerms(i, j)`: a server learns a newer term from another and steps down.
/// Guard: [`update_terms_guard`]. Effect (`UpdateTermsExpr`): `j` adopts `i`'s term and becomes
/// Secondary. Unchanged: log, config, elections, committed.
pub fn update_terms(s: &State, i: usize, j: usize) -> Option<State> {
    if !update_terms_guard(s, i, j, &mut Holds) {
        return None;
    }
    let mut next = *s;
    next.current_term[j] = s.current_term[i];
    next.state[j] = Role::Secondary;
    Some(next)
}

/// `CanRollback(i, j)`, as its three conjuncts: `i`'s log is nonempty, its last term is older
/// than `j`'s, and either it is longer than `j`'s or its last entry differs from `j`'s entry at
/// the same index.
pub fn can_rollback(s: &State, i: usize, j: usize, g: &mut impl Conjuncts) -> bool {
    let (log_i, log_j) = (&s.log[i], &s.log[j]);
    let pred = || format!("CanRollback({}, {})", n(i), n(j));
    g.conjunct(!log_i.is_empty(), || {
        format!("{}: Len(log[{}]) > 0", pred(), n(i))
    }) && g.conjunct(last_term(log_i) < last_term(log_j), || {
        format!("{}: LastTerm(log[{}]) < LastTerm(log[{}])", pred(), n(i), n(j))
    })
        && g.conjunct(
            log_i.len() > log_j.len() || last_term(log_i) != get_term(log_j, log_i.len()),
            || {
                let (p, i, j) = (pred(), n(i), n(j));
                format!(
                    "{p}: Len(log[{i}]) > Len(log[{j}]) \\/ LastTerm(log[{i}]) /= LogTerm({j}, Len(log[{i}]))"
                )
            },
        )
}

/// `RollbackEntries(i, j)`: server `i` removes its last entry, which `j`'s log shows to be
/// stale. Guard: [`can_rollback`] (in this spec a primary may roll back too). Unchanged:
/// elections, committed, currentTerm, state.
pub fn rollback_entries(s: &State, i: usize, j: usize) -> Option<State> {
    if !can_rollback(s, i, j, &mut Holds) {
        return None;
    }
    let mut next = *s;
    next.log[i].pop();
    Some(next)
}

/// The guard of `GetEntries(i, j)`: `i` is Secondary, `j`'s log is longer, and `i`'s last
/// entry is also at that index in `j`'s log (`logOk`, the log consistency check, trivially true
/// for an empty log; not evaluated where `j`'s log is too short to have that index, since the
/// length conjunct is then false).
pub fn get_entries_guard(s: &State, i: usize, j: usize, g: &mut impl Conjuncts) -> bool {
    let (log_i, log_j) = (&s.log[i], &s.log[j]);
    g.conjunct(s.state[i] == Role::Secondary, || {
        format!("state[{}] = Secondary", n(i))
    }) && g.conjunct(log_j.len() > log_i.len(), || {
        format!("Len(log[{}]) > Len(log[{}])", n(j), n(i))
    }) && g.conjunct(
        log_i.is_empty() || log_j.len() < log_i.len() || log_j.at(log_i.len()) == log_i.last(),
        || {
            let (i, j) = (n(i), n(j));
            format!("log[{j}][Len(log[{i}])] = log[{i}][Len(log[{i}])]")
        },
    )
}

/// `GetEntries(i, j)`: secondary `i` pulls one entry from `j`. Guard: [`get_entries_guard`].
/// Effect: append `j`'s entry at the next index. Unchanged: elections, committed, currentTerm,
/// state.
pub fn get_entries(s: &State, i: usize, j: usize) -> Option<State> {
    if !get_entries_guard(s, i, j, &mut Holds) {
        return None;
    }
    let new_entry = s.log[j]
        .at(s.log[i].len() + 1)
        .expect("guard: log[j] is longer");
    let mut next = *s;
    next.log[i].push(new_entry);
    Some(next)
}

/// The guard of `MergeEntries(i, j)`: `NewerLog(i, j)`.
pub fn merge_entries_guard(s: &State, i: usize, j: usize, g: &mut impl Conjuncts) -> bool {
    g.conjunct(newer_log(&s.log[i], &s.log[j]), || {
        format!("NewerLog({}, {})", n(i), n(j))
    })
}

/// `MergeEntries(i, j)`: replication and rollback in one coarse step: if `i`'s log is newer
/// than `j`'s (`NewerLog(i, j)`), `j`'s log becomes a copy of `i`'s. Any server may receive it,
/// a primary included. Unchanged: elections, committed, currentTerm, state.
pub fn merge_entries(s: &State, i: usize, j: usize) -> Option<State> {
    if !merge_entries_guard(s, i, j, &mut Holds) {
        return None;
    }
    let mut next = *s;
    next.log[j] = s.log[i];
    Some(next)
}

/// The guard of `ClientRequest(i)`: `state[i] = Primary`.
pub fn client_request_guard(s: &State, i: usize, g: &mut impl Conjuncts) -> bool {
    g.conjunct(s.state[i] == Role::Primary, || {
        format!("state[{}] = Primary", n(i))
    })
}

/// `ClientRequest(i)`: primary `i` takes a client write and appends an entry of its current
/// term. Guard: [`client_request_guard`]. Unchanged: currentTerm, state, elections, committed.
pub fn client_request(s: &State, i: usize) -> Option<State> {
    if !client_request_guard(s, i, &mut Holds) {
        return None;
    }
    let mut next = *s;
    next.log[i].push(s.current_term[i]);
    Some(next)
}

/// `CanVoteForOplog(i, j, currentTerm[j] + 1)`, as its two conjuncts: voter `i` may vote for
/// candidate `j` in the term after `j`'s current one (the `newTerm` of BecomeLeader): `i`'s
/// term is older, and `j`'s log is at least as up to date as `i`'s (`logOk`: a newer last
/// term, or the same last term and at least as long).
pub fn can_vote_for_oplog(s: &State, i: usize, j: usize, g: &mut impl Conjuncts) -> bool {
    let (log_i, log_j) = (&s.log[i], &s.log[j]);
    let log_ok = last_term(log_j) > last_term(log_i)
        || (last_term(log_j) == last_term(log_i) && log_j.len() >= log_i.len());
    let pred = || {
        format!(
            "CanVoteForOplog({}, {}, currentTerm[{}] + 1)",
            n(i),
            n(j),
            n(j)
        )
    };
    g.conjunct(s.current_term[i] < s.current_term[j] + 1, || {
        format!("{}: currentTerm[{}] < currentTerm[{}] + 1", pred(), n(i), n(j))
    }) && g.conjunct(log_ok, || {
        let (p, i, j) = (pred(), n(i), n(j));
        format!(
            "{p}: LastTerm(log[{j}]) > LastTerm(log[{i}]) \\/ (LastTerm(log[{j}]) = LastTerm(log[{i}]) /\\ Len(log[{j}]) >= Len(log[{i}]))"
        )
    })
}

/// The guard of `BecomeLeader(i, voteQuorum)`: the candidate votes for itself and every voter
/// can vote for it in the term after the candidate's current one (`\A v \in voteQuorum :
/// CanVoteForOplog(v, i, newTerm)`, one instance per voter). The quorum ranges over
/// `QuorumsAt(i)` in `Next`; this guard does not look at configs.
pub fn become_leader_guard(
    s: &State,
    i: usize,
    vote_quorum: ServerSet,
    g: &mut impl Conjuncts,
) -> bool {
    g.conjunct(vote_quorum.contains(i), || {
        format!("{} \\in {}", n(i), set_name(vote_quorum))
    }) && vote_quorum.iter().all(|v| can_vote_for_oplog(s, v, i, g))
}

/// Whether [`become_leader_guard`] holds, which is also `Electable(i, voteQuorum)` (`ENABLED
/// BecomeLeader(i, voteQuorum)`).
pub fn become_leader_enabled(s: &State, i: usize, vote_quorum: ServerSet) -> bool {
    become_leader_guard(s, i, vote_quorum, &mut Holds)
}

/// `BecomeLeader(i, voteQuorum)`: an atomic election. Every voter moves to the new term (the
/// candidate's term plus one); the candidate becomes Primary and the other voters Secondary;
/// `[leader |-> i, term |-> newTerm]` is added to `elections`; and, if `noop`, the new leader
/// appends an entry of its new term (the optional no-op on step-up). Unchanged: committed.
pub fn become_leader(s: &State, i: usize, vote_quorum: ServerSet, noop: bool) -> Option<State> {
    if !become_leader_enabled(s, i, vote_quorum) {
        return None;
    }
    let new_term = s.current_term[i] + 1;
    let mut next = *s;
    for v in vote_quorum.iter() {
        next.current_term[v] = new_term;
        next.state[v] = if v == i {
            Role::Primary
        } else {
            Role::Secondary
        };
    }
    next.elections = s.elections.with(i, new_term);
    if noop {
        next.log[i].push(new_term);
    }
    Some(next)
}

/// The guard of `CommitEntry(i, commitQuorum)`: `i` is a Primary with a nonempty log whose last
/// entry is of `i`'s term, that entry is immediately committed by the quorum
/// (`ImmediatelyCommitted(<<ind, currentTerm[i]>>, commitQuorum)`: every member holds it and is
/// in its term, two conjuncts per member), and no record names it yet. The quorum ranges over
/// `QuorumsAt(i)` in `Next`; this guard does not look at configs.
pub fn commit_entry_guard(
    s: &State,
    i: usize,
    commit_quorum: ServerSet,
    g: &mut impl Conjuncts,
) -> bool {
    let ind = s.log[i].len() as u8;
    let term = s.current_term[i];
    g.conjunct(ind > 0, || format!("Len(log[{}]) > 0", n(i)))
        && g.conjunct(s.state[i] == Role::Primary, || {
            format!("state[{}] = Primary", n(i))
        })
        // log[i][ind] is only defined for a nonempty log.
        && g.conjunct(ind == 0 || s.log[i].last() == Some(term), || {
            let i = n(i);
            format!("log[{i}][Len(log[{i}])] = currentTerm[{i}]")
        })
        && commit_quorum.iter().all(|t| {
            let pred = || {
                let i = n(i);
                format!(
                    "ImmediatelyCommitted(<<Len(log[{i}]), currentTerm[{i}]>>, {})",
                    set_name(commit_quorum)
                )
            };
            g.conjunct(in_log(ind, term, &s.log[t]), || {
                let (p, i, t) = (pred(), n(i), n(t));
                format!("{p}: InLog(<<Len(log[{i}]), currentTerm[{i}]>>, {t})")
            }) && g.conjunct(s.current_term[t] == term, || {
                format!("{}: currentTerm[{}] = currentTerm[{}]", pred(), n(t), n(i))
            })
        })
        && g.conjunct(!s.committed.contains_entry(ind, term), || {
            let i = n(i);
            format!("~\\E c \\in committed : c.entry = <<Len(log[{i}]), currentTerm[{i}]>>")
        })
}

/// Whether [`commit_entry_guard`] holds (what `ENABLED CommitEntry(i, Q)` means).
pub fn commit_entry_enabled(s: &State, i: usize, commit_quorum: ServerSet) -> bool {
    commit_entry_guard(s, i, commit_quorum, &mut Holds)
}

/// `CommitEntry(i, commitQuorum)`: primary `i` records its last entry `<<Len(log[i]),
/// currentTerm[i]>>` as committed in its term. Unchanged: currentTerm, state, log, elections.
pub fn commit_entry(s: &State, i: usize, commit_quorum: ServerSet) -> Option<State> {
    if !commit_entry_enabled(s, i, commit_quorum) {
        return None;
    }
    let term = s.current_term[i];
    let mut next = *s;
    next.committed = s.committed.with(CommittedEntry {
        index: s.log[i].len() as u8,
        entry_term: term,
        term,
    });
    Some(next)
}

/// The guard of `ChangeConfig(i)` with `newConfig = new_config`: `newConfig # {}`.
pub fn change_config_guard(new_config: ServerSet, g: &mut impl Conjuncts) -> bool {
    g.conjunct(!new_config.is_empty(), || {
        format!("{} # {{}}", set_name(new_config))
    })
}

/// `ChangeConfig(i)` with `newConfig = new_config`: server `i`'s config becomes `new_config`.
/// Guard: [`change_config_guard`]. Nothing else is constrained: it is taken together with a
/// protocol step, which says what the other variables do.
pub fn change_config(s: &State, i: usize, new_config: ServerSet) -> Option<State> {
    if !change_config_guard(new_config, &mut Holds) {
        return None;
    }
    let mut next = *s;
    next.config[i] = new_config;
    Some(next)
}

// ---------------------------------------------------------------------------------------------
// The next-state relation
// ---------------------------------------------------------------------------------------------

/// The guard of the protocol step `step` (its action's guard, without the binding of its
/// quorum: see [`next_guard`]).
pub fn step_guard(s: &State, step: Step, g: &mut impl Conjuncts) -> bool {
    match step {
        Step::ClientRequest { i } => client_request_guard(s, i.into(), g),
        Step::GetEntries { i, j } => get_entries_guard(s, i.into(), j.into(), g),
        Step::RollbackEntries { i, j } => can_rollback(s, i.into(), j.into(), g),
        Step::BecomeLeader { i, vote_quorum, .. } => {
            become_leader_guard(s, i.into(), vote_quorum, g)
        }
        Step::CommitEntry { i, commit_quorum } => commit_entry_guard(s, i.into(), commit_quorum, g),
        Step::MergeEntries { i, j } => merge_entries_guard(s, i.into(), j.into(), g),
        Step::UpdateTerms { i, j } => update_terms_guard(s, i.into(), j.into(), g),
    }
}

/// The protocol step `step` from `s`, if its guard holds: the successor with `config` as in `s`.
pub fn apply_step(s: &State, step: Step) -> Option<State> {
    match step {
        Step::ClientRequest { i } => client_request(s, i.into()),
        Step::GetEntries { i, j } => get_entries(s, i.into(), j.into()),
        Step::RollbackEntries { i, j } => rollback_entries(s, i.into(), j.into()),
        Step::BecomeLeader {
            i,
            vote_quorum,
            noop,
        } => become_leader(s, i.into(), vote_quorum, noop),
        Step::CommitEntry { i, commit_quorum } => commit_entry(s, i.into(), commit_quorum),
        Step::MergeEntries { i, j } => merge_entries(s, i.into(), j.into()),
        Step::UpdateTerms { i, j } => update_terms(s, i.into(), j.into()),
    }
}

/// `Q \in QuorumsAt(i)`: the binding of BecomeLeader's and CommitEntry's quorum in `Next`.
pub fn quorum_at_guard(s: &State, i: usize, q: ServerSet, g: &mut impl Conjuncts) -> bool {
    g.conjunct(s.config[i].quorums().any(|c| c == q), || {
        format!("{} \\in QuorumsAt({})", set_name(q), n(i))
    })
}

/// Whether `action` is a step of `Next` from `s`, as the conjuncts of `NextStatic`'s disjunct
/// (the quorum of BecomeLeader or CommitEntry in `QuorumsAt(i)`, then the action's guard) and of
/// `\E s \in Server : ChangeConfig(s)` (`newConfig \in SUBSET Server`, `newConfig # {}`). For
/// UpdateTerms, which keeps `config` UNCHANGED, the new config must be the server's config, and
/// the step is named once, by `ChangeConfig(n1, config[n1])` (see [`config_changes`]).
pub fn next_guard(s: &State, action: Action, g: &mut impl Conjuncts) -> bool {
    let protocol = match action.step {
        Step::BecomeLeader {
            i, vote_quorum: q, ..
        }
        | Step::CommitEntry {
            i,
            commit_quorum: q,
        } => quorum_at_guard(s, i.into(), q, g) && step_guard(s, action.step, g),
        step => step_guard(s, step, g),
    };
    let ChangeConfig { i, new_config } = action.change_config;
    protocol
        && g.conjunct(new_config.is_subset(s.all_servers()), || {
            format!("{} \\in SUBSET Server", set_name(new_config))
        })
        && change_config_guard(new_config, g)
        && (!action.step.keeps_config()
            || g.conjunct(new_config == s.config[usize::from(i)], || {
                format!(
                    "{} = config[{}] (UpdateTerms keeps config UNCHANGED)",
                    set_name(new_config),
                    n(i.into())
                )
            }) && g.conjunct(i == 0, || {
                format!(
                    "{} = n1 (with config UNCHANGED, TLC names the step once, with ChangeConfig(n1, config[n1]))",
                    n(i.into())
                )
            }))
}

/// The step `action` from `s`, if it is a step of `Next` ([`next_guard`]).
pub fn apply(s: &State, action: Action) -> Option<State> {
    if !next_guard(s, action, &mut Holds) {
        return None;
    }
    let next = apply_step(s, action.step)?;
    change_config(
        &next,
        action.change_config.i.into(),
        action.change_config.new_config,
    )
}

/// Every satisfying binding of `NextStatic` from `s`, in `NextStatic`'s order, each with its
/// successor (config unchanged): one per server or pair of servers (pairs include `i = j`, as
/// TLC binds them; no guard holds there), one per quorum of the server's config for BecomeLeader
/// (twice: with the no-op, then without) and CommitEntry.
pub fn next_static(s: &State, mut visit: impl FnMut(Step, State)) {
    let servers = 0..s.servers;
    let mut try_step = |step: Step| {
        if let Some(next) = apply_step(s, step) {
            visit(step, next);
        }
    };
    for i in servers.clone() {
        try_step(Step::ClientRequest { i });
    }
    for i in servers.clone() {
        for j in servers.clone() {
            try_step(Step::GetEntries { i, j });
        }
    }
    for i in servers.clone() {
        for j in servers.clone() {
            try_step(Step::RollbackEntries { i, j });
        }
    }
    for i in servers.clone() {
        for vote_quorum in s.config[usize::from(i)].quorums() {
            for noop in [true, false] {
                try_step(Step::BecomeLeader {
                    i,
                    vote_quorum,
                    noop,
                });
            }
        }
    }
    for i in servers.clone() {
        for commit_quorum in s.config[usize::from(i)].quorums() {
            try_step(Step::CommitEntry { i, commit_quorum });
        }
    }
    for i in servers.clone() {
        for j in servers.clone() {
            try_step(Step::MergeEntries { i, j });
        }
    }
    for i in servers.clone() {
        for j in servers.clone() {
            try_step(Step::UpdateTerms { i, j });
        }
    }
}

/// The ChangeConfig bindings that can accompany `step` from `s` (whose successor keeps `s`'s
/// config): every server `i` with every nonempty subset of `Server` (in increasing bitmask
/// order); for UpdateTerms, only `ChangeConfig(n1, config[n1])`.
///
/// UpdateTerms keeps `config` UNCHANGED, so by the time TLC reaches `\E s \in Server :
/// ChangeConfig(s)` every primed variable is determined. TLC then evaluates the rest of the
/// action as a condition instead of enumerating its bindings, and the condition holds (a server
/// may "change" its config to the one it has): one successor, not one per server. The binding
/// named is the first witness.
pub fn config_changes(s: &State, step: Step, mut visit: impl FnMut(ChangeConfig)) {
    if step.keeps_config() {
        visit(ChangeConfig {
            i: 0,
            new_config: s.config[0],
        });
        return;
    }
    for i in 0..s.servers {
        for new_config in s
            .all_servers()
            .subsets()
            .filter(|&c| change_config_guard(c, &mut Holds))
        {
            visit(ChangeConfig { i, new_config });
        }
    }
}

/// Every successor of `s` under `Next`, one per satisfying binding, as TLC enumerates them:
/// each protocol step of [`next_static`] combined with each of its [`config_changes`].
pub fn next(s: &State, mut visit: impl FnMut(Action, State)) {
    next_static(s, |step, base| {
        config_changes(s, step, |change_config| {
            let mut next = base;
            next.config[usize::from(change_config.i)] = change_config.new_config;
            visit(
                Action {
                    step,
                    change_config,
                },
                next,
            );
        });
    });
}

const _: () = assert!(MAX_SERVERS <= spec_core::MAX_SERVERS);
