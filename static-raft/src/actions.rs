//! The actions of MongoStaticRaft, one guard and one effect per action, plus the enumeration of
//! the next-state relation.
//!
//! Every action comes in two halves, so that a composition can run it jointly with another spec's
//! action (see the crate docs):
//! - `<action>_enabled(vars, args..., mutation)`: the guard, evaluated on the current state;
//! - `<action>_effect(pre, next, args...)`: the effect. It reads only `pre` (the unprimed
//!   variables) and writes only the variables the action changes in `next` (the primed ones),
//!   which starts as a copy of `pre`. The variables it does not write are the action's
//!   `UNCHANGED` list.
//!
//! The `mutation` argument of every guard, and of the effects of BecomeLeader and UpdateTerms, is
//! `None` for the spec itself. Most [`Mutation`]s drop one conjunct of one guard, to show which
//! invariant that conjunct protects; two get one assignment of an effect wrong
//! ([`Mutation::VotersKeepTheirTerm`], [`Mutation::UpdateTermsKeepsRole`]), to show that a
//! composition running these effects as one half of a joint step sees the bug.

use crate::state::{in_log, is_prefix, last_term, CommittedEntry, OplogVars, OplogVarsMut, Role};
use crate::Mutation;
use spec_core::itf::server_name;
use spec_core::servers::server_range;
use spec_core::{Server, ServerSet};
use std::fmt;

/// One step of MongoStaticRaft: an action and the values of its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
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
        /// The secondary that removes its last entry.
        i: Server,
        /// The server whose log shows that entry is stale.
        j: Server,
    },
    /// `BecomeLeader(i, voteQuorum)`.
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
    /// `UpdateTerms(i, j)`.
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
    "GetEntries",
    "RollbackEntries",
    "BecomeLeader",
    "CommitEntry",
    "UpdateTerms",
];

impl spec_core::Action for Action {
    fn name(&self) -> &'static str {
        match self {
            Action::ClientRequest { .. } => "ClientRequest",
            Action::GetEntries { .. } => "GetEntries",
            Action::RollbackEntries { .. } => "RollbackEntries",
            Action::BecomeLeader { .. } => "BecomeLeader",
            Action::CommitEntry { .. } => "CommitEntry",
            Action::UpdateTerms { .. } => "UpdateTerms",
        }
    }
}

fn set_name(q: ServerSet) -> String {
    let names: Vec<String> = q.iter().map(server_name).collect();
    format!("{{{}}}", names.join(", "))
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use spec_core::Action as _;
        let args = match *self {
            Action::ClientRequest { i } => server_name(i),
            Action::GetEntries { i, j }
            | Action::RollbackEntries { i, j }
            | Action::UpdateTerms { i, j } => format!("{}, {}", server_name(i), server_name(j)),
            Action::BecomeLeader { i, vote_quorum: q }
            | Action::CommitEntry {
                i,
                commit_quorum: q,
            } => {
                format!("{}, {}", server_name(i), set_name(q))
            }
        };
        write!(f, "{}({args})", self.name())
    }
}

/// Reads the text `Display` writes: `ClientRequest(n1)`, `GetEntries(n2, n1)`,
/// `BecomeLeader(n1, {n1, n3})`, ...: TLA+'s action names with servers `n1, n2, ...`. Any
/// server number is read; whether the model has it is [`spec_core::Spec::step`]'s question.
impl std::str::FromStr for Action {
    type Err = spec_core::ParseActionError;

    fn from_str(text: &str) -> Result<Action, spec_core::ParseActionError> {
        use spec_core::action_text::{parse, server, server_set, unknown};
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
                _ => return Err(unknown(name, args, FORMS)),
            })
        })
    }
}

/// The forms of the actions, for error messages.
const FORMS: &[&str] = &[
    "ClientRequest(i)",
    "GetEntries(i, j)",
    "RollbackEntries(i, j)",
    "BecomeLeader(i, voteQuorum)",
    "CommitEntry(i, commitQuorum)",
    "UpdateTerms(i, j)",
];

/// Whether `action` is a binding of `Next` in a state with `servers` servers (every server it
/// names is one of them, and a quorum is one of `Quorums(config[i])`), and its effect fits the
/// state encoding (a log with room for one more entry, a commit record the bitmask holds). A
/// state outside the model's constraint may fail the second; the model's own states never do.
pub fn in_model<V: OplogVars + ?Sized>(v: &V, servers: usize, action: Action) -> bool {
    let server = |s: Server| usize::from(s) < servers;
    let quorum = |i: Server, q: ServerSet| {
        let config = v.config(i.into());
        q.is_subset(config) && q.len() * 2 > config.len()
    };
    let room = |i: Server| v.log(i.into()).len() < crate::state::LOG_CAPACITY;
    match action {
        Action::ClientRequest { i } => server(i) && room(i),
        Action::GetEntries { i, j } => server(i) && server(j) && room(i),
        Action::RollbackEntries { i, j } | Action::UpdateTerms { i, j } => server(i) && server(j),
        Action::BecomeLeader { i, vote_quorum } => server(i) && quorum(i, vote_quorum),
        Action::CommitEntry { i, commit_quorum } => {
            // Read before `server(i)` is known to hold: clamped into the model.
            let clamped = usize::from(i).min(servers.saturating_sub(1));
            let (index, entry_term) = entry_to_commit(v, clamped);
            server(i)
                && quorum(i, commit_quorum)
                && spec_core::raft::committable(index, entry_term, v.current_term(i.into()))
        }
    }
}

/// The conjuncts of `action`'s binding and guard that are false in `v` (a state with `servers`
/// servers), in TLA+ notation with the binding's values: what `Spec::disabled_because` says of
/// a step a refinement check or a replayed trace names. Empty exactly when the action is a step
/// of the model ([`in_model`] and [`enabled`]; a unit test checks it on every reachable state of
/// a model, under every mutation). A conjunct `mutation` drops is not listed. When the binding
/// itself is outside the model (a server past the model's, a quorum not of the config, an
/// effect the encoding cannot hold), only that is said.
pub fn false_conjuncts<V: OplogVars + ?Sized>(
    v: &V,
    servers: usize,
    action: Action,
    mutation: Option<Mutation>,
) -> Vec<String> {
    let mut why = Vec::new();
    fn say(why: &mut Vec<String>, holds: bool, what: impl FnOnce() -> String) {
        if !holds {
            why.push(what());
        }
    }
    let n = server_name;
    let (i, others) = match action {
        Action::ClientRequest { i } => (i, None),
        Action::GetEntries { i, j }
        | Action::RollbackEntries { i, j }
        | Action::UpdateTerms { i, j } => (i, Some(j)),
        Action::BecomeLeader { i, .. } | Action::CommitEntry { i, .. } => (i, None),
    };
    let (i, others) = (usize::from(i), others.map(usize::from));
    for s in std::iter::once(i).chain(others) {
        say(&mut why, s < servers, || format!("{} \\in Server", n(s)));
    }
    if !why.is_empty() {
        return why;
    }
    match action {
        Action::BecomeLeader { vote_quorum: q, .. }
        | Action::CommitEntry {
            commit_quorum: q, ..
        } => {
            let config = v.config(i);
            say(
                &mut why,
                q.is_subset(config) && q.len() * 2 > config.len(),
                || format!("{} \\in Quorums(config[{}])", set_name(q), n(i)),
            );
        }
        _ => {}
    }
    if in_model(v, servers, action) && enabled(v, action, mutation) {
        return why;
    }
    if why.is_empty() && !in_model(v, servers, action) {
        why.push(format!(
            "{action}'s effect fits the state encoding (a log of at most {} entries, commit \
             records of indices 1..{} and terms 1..{})",
            crate::state::LOG_CAPACITY,
            crate::state::MAX_COMMITTED_INDEX,
            crate::state::MAX_COMMITTED_TERM
        ));
        return why;
    }
    let dropped = |m: Mutation| mutation == Some(m);
    match action {
        Action::ClientRequest { i } => {
            let i = usize::from(i);
            say(&mut why, v.role(i) == Role::Primary, || {
                format!("state[{}] = Primary", n(i))
            });
        }
        Action::GetEntries { i, j } => {
            let (i, j) = (usize::from(i), usize::from(j));
            let (log_i, log_j) = (v.log(i), v.log(j));
            say(&mut why, v.role(i) == Role::Secondary, || {
                format!("state[{}] = Secondary", n(i))
            });
            say(&mut why, log_j.len() > log_i.len(), || {
                format!("Len(log[{}]) > Len(log[{}])", n(j), n(i))
            });
            let log_ok = log_i.is_empty() || log_j.at(log_i.len()) == log_i.last();
            say(
                &mut why,
                log_ok || dropped(Mutation::GetEntriesSkipsLogCheck),
                || {
                    let (i, j) = (n(i), n(j));
                    format!("logOk: Len(log[{i}]) = 0 \\/ log[{j}][Len(log[{i}])] = log[{i}][Len(log[{i}])]")
                },
            );
        }
        Action::RollbackEntries { i, j } => {
            let (i, j) = (usize::from(i), usize::from(j));
            let (log_i, log_j) = (v.log(i), v.log(j));
            say(
                &mut why,
                v.role(i) == Role::Secondary || dropped(Mutation::PrimaryRollsBack),
                || format!("state[{}] = Secondary", n(i)),
            );
            say(&mut why, last_term(log_i) < last_term(log_j), || {
                format!(
                    "CanRollback({0}, {1}): LastTerm(log[{0}]) < LastTerm(log[{1}])",
                    n(i),
                    n(j)
                )
            });
            say(&mut why, !is_prefix(log_i, log_j), || {
                format!(
                    "CanRollback({0}, {1}): ~IsPrefix(log[{0}], log[{1}])",
                    n(i),
                    n(j)
                )
            });
        }
        Action::BecomeLeader { i, vote_quorum } => {
            let i = usize::from(i);
            say(&mut why, vote_quorum.contains(i), || {
                format!("{} \\in {}", n(i), set_name(vote_quorum))
            });
            let term = v.current_term(i) + 1;
            for voter in vote_quorum.iter() {
                let (log_v, log_i) = (v.log(voter), v.log(i));
                let pred = || format!("CanVoteForOplog({}, {}, {term})", n(voter), n(i));
                say(
                    &mut why,
                    v.current_term(voter) < term || dropped(Mutation::VoteIgnoresTerm),
                    || format!("{}: currentTerm[{}] < {term}", pred(), n(voter)),
                );
                let log_ok = last_term(log_i) > last_term(log_v)
                    || (last_term(log_i) == last_term(log_v) && log_i.len() >= log_v.len());
                say(
                    &mut why,
                    log_ok || dropped(Mutation::VoteIgnoresLog),
                    || format!("{}: logOk", pred()),
                );
            }
        }
        Action::CommitEntry { i, commit_quorum } => {
            let i = usize::from(i);
            let (ind, entry_term) = entry_to_commit(v, i);
            let term = v.current_term(i);
            say(&mut why, ind > 0, || format!("Len(log[{}]) > 0", n(i)));
            say(&mut why, v.role(i) == Role::Primary, || {
                format!("state[{}] = Primary", n(i))
            });
            say(
                &mut why,
                ind == 0 || entry_term == term || dropped(Mutation::CommitOlderTermEntry),
                || format!("log[{0}][Len(log[{0}])] = currentTerm[{0}]", n(i)),
            );
            if ind > 0 {
                for s in commit_quorum.iter() {
                    let pred = || {
                        format!(
                            "ImmediatelyCommitted(<<{ind}, {entry_term}>>, {})",
                            set_name(commit_quorum)
                        )
                    };
                    say(&mut why, in_log(ind, entry_term, v.log(s)), || {
                        format!("{}: InLog(<<{ind}, {entry_term}>>, {})", pred(), n(s))
                    });
                    say(
                        &mut why,
                        v.current_term(s) == term || dropped(Mutation::CommitIgnoresQuorumTerm),
                        || format!("{}: currentTerm[{}] = {term}", pred(), n(s)),
                    );
                }
                say(
                    &mut why,
                    !v.committed().contains_entry(ind, entry_term),
                    || format!("~\\E c \\in committed : c.entry = <<{ind}, {entry_term}>>"),
                );
            }
        }
        Action::UpdateTerms { i, j } => {
            let (i, j) = (usize::from(i), usize::from(j));
            say(&mut why, v.current_term(i) > v.current_term(j), || {
                format!("currentTerm[{}] > currentTerm[{}]", n(i), n(j))
            });
        }
    }
    why
}

/// A conjunct of a guard that `dropped_by` removes: true when `holds`, or when that mutation is
/// in force.
fn conjunct(mutation: Option<Mutation>, dropped_by: Mutation, holds: bool) -> bool {
    holds || mutation == Some(dropped_by)
}

// ---------------------------------------------------------------------------------------------
// ClientRequest
// ---------------------------------------------------------------------------------------------

/// Guard of `ClientRequest(i)`: `i` is Primary.
pub fn client_request_enabled<V: OplogVars + ?Sized>(
    v: &V,
    i: usize,
    _mutation: Option<Mutation>,
) -> bool {
    v.role(i) == Role::Primary
}

/// Effect of `ClientRequest(i)`: primary `i` takes a client write and appends an entry of its
/// current term to its log. Unchanged: currentTerm, state, committed, config.
pub fn client_request_effect<P, N>(pre: &P, next: &mut N, i: usize)
where
    P: OplogVars + ?Sized,
    N: OplogVarsMut + ?Sized,
{
    next.log_mut(i).push(pre.current_term(i));
}

// ---------------------------------------------------------------------------------------------
// GetEntries
// ---------------------------------------------------------------------------------------------

/// Guard of `GetEntries(i, j)`: `i` is Secondary, `j`'s log is longer, and `i`'s last entry is
/// also at the same index in `j`'s log (the log consistency check, trivially true for an empty
/// log; dropped by [`Mutation::GetEntriesSkipsLogCheck`]).
pub fn get_entries_enabled<V: OplogVars + ?Sized>(
    v: &V,
    i: usize,
    j: usize,
    mutation: Option<Mutation>,
) -> bool {
    let (log_i, log_j) = (v.log(i), v.log(j));
    let log_ok = log_i.is_empty() || log_j.at(log_i.len()) == log_i.last();
    v.role(i) == Role::Secondary
        && log_j.len() > log_i.len()
        && conjunct(mutation, Mutation::GetEntriesSkipsLogCheck, log_ok)
}

/// Effect of `GetEntries(i, j)`: secondary `i` pulls from `j` the entry that follows its own
/// last one and appends it. Unchanged: committed, currentTerm, state, config.
pub fn get_entries_effect<P, N>(pre: &P, next: &mut N, i: usize, j: usize)
where
    P: OplogVars + ?Sized,
    N: OplogVarsMut + ?Sized,
{
    let new_entry_index = pre.log(i).len() + 1;
    let new_entry = pre
        .log(j)
        .at(new_entry_index)
        .expect("guard: log[j] is longer");
    next.log_mut(i).push(new_entry);
}

// ---------------------------------------------------------------------------------------------
// RollbackEntries
// ---------------------------------------------------------------------------------------------

/// Guard of `RollbackEntries(i, j)`: `i` is Secondary (dropped by
/// [`Mutation::PrimaryRollsBack`]) and `CanRollback(i, j)`: `i`'s last term is older than `j`'s
/// and `i`'s log is not a prefix of `j`'s.
pub fn rollback_entries_enabled<V: OplogVars + ?Sized>(
    v: &V,
    i: usize,
    j: usize,
    mutation: Option<Mutation>,
) -> bool {
    let (log_i, log_j) = (v.log(i), v.log(j));
    let can_rollback = last_term(log_i) < last_term(log_j) && !is_prefix(log_i, log_j);
    conjunct(
        mutation,
        Mutation::PrimaryRollsBack,
        v.role(i) == Role::Secondary,
    ) && can_rollback
}

/// Effect of `RollbackEntries(i, j)`: secondary `i` removes its last entry, which `j`'s log
/// shows cannot be committed. Unchanged: committed, currentTerm, state, config.
pub fn rollback_entries_effect<P, N>(_pre: &P, next: &mut N, i: usize, _j: usize)
where
    P: OplogVars + ?Sized,
    N: OplogVarsMut + ?Sized,
{
    next.log_mut(i).pop();
}

// ---------------------------------------------------------------------------------------------
// BecomeLeader
// ---------------------------------------------------------------------------------------------

/// `CanVoteForOplog(i, j, term)`: voter `i` may vote for candidate `j` in `term`: `i`'s term is
/// older (dropped by [`Mutation::VoteIgnoresTerm`]) and `j`'s log is at least as up to date as
/// `i`'s: a newer last term, or the same last term and at least as long (dropped by
/// [`Mutation::VoteIgnoresLog`]).
pub fn can_vote_for_oplog<V: OplogVars + ?Sized>(
    v: &V,
    i: usize,
    j: usize,
    term: u8,
    mutation: Option<Mutation>,
) -> bool {
    let (log_i, log_j) = (v.log(i), v.log(j));
    let log_ok = last_term(log_j) > last_term(log_i)
        || (last_term(log_j) == last_term(log_i) && log_j.len() >= log_i.len());
    conjunct(
        mutation,
        Mutation::VoteIgnoresTerm,
        v.current_term(i) < term,
    ) && conjunct(mutation, Mutation::VoteIgnoresLog, log_ok)
}

/// Guard of `BecomeLeader(i, voteQuorum)`: the candidate is in the quorum (votes for itself) and
/// every member can vote for it in the term after the candidate's current one. The quorum ranges
/// over `Quorums(config[i])` in the caller.
pub fn become_leader_enabled<V: OplogVars + ?Sized>(
    v: &V,
    i: usize,
    vote_quorum: ServerSet,
    mutation: Option<Mutation>,
) -> bool {
    let new_term = v.current_term(i) + 1;
    vote_quorum.contains(i)
        && vote_quorum
            .iter()
            .all(|voter| can_vote_for_oplog(v, voter, i, new_term, mutation))
}

/// The servers among the first `servers` that can vote for candidate `i` in the term after
/// its current one: `become_leader_enabled(v, i, q, m)` is exactly `q.contains(i) &&
/// q.is_subset(voters_for(v, i, servers, m))`, which lets the enumeration ask each voter once
/// per candidate instead of once per quorum.
pub fn voters_for<V: OplogVars + ?Sized>(
    v: &V,
    i: usize,
    servers: usize,
    mutation: Option<Mutation>,
) -> ServerSet {
    let new_term = v.current_term(i) + 1;
    let mut voters = ServerSet::EMPTY;
    for voter in 0..servers {
        if can_vote_for_oplog(v, voter, i, new_term, mutation) {
            voters = voters.with(voter);
        }
    }
    voters
}

/// Effect of `BecomeLeader(i, voteQuorum)`: an atomic election. Every voter moves to the new term
/// (the candidate's term plus one; [`Mutation::VotersKeepTheirTerm`] moves the candidate only);
/// the candidate becomes Primary and the other voters Secondary. Unchanged: log, config,
/// committed.
pub fn become_leader_effect<P, N>(
    pre: &P,
    next: &mut N,
    i: usize,
    vote_quorum: ServerSet,
    mutation: Option<Mutation>,
) where
    P: OplogVars + ?Sized,
    N: OplogVarsMut + ?Sized,
{
    let new_term = pre.current_term(i) + 1;
    for voter in vote_quorum.iter() {
        if voter == i || mutation != Some(Mutation::VotersKeepTheirTerm) {
            next.set_current_term(voter, new_term);
        }
        next.set_role(
            voter,
            if voter == i {
                Role::Primary
            } else {
                Role::Secondary
            },
        );
    }
}

// ---------------------------------------------------------------------------------------------
// CommitEntry
// ---------------------------------------------------------------------------------------------

/// The log entry `CommitEntry(i, _)` commits: `<<Len(log[i]), LastTerm(log[i])>>`.
///
/// The spec writes it `<<ind, currentTerm[i]>>`; the two are equal whenever the guard's
/// "written by this leader" conjunct holds. Naming the entry by the log's own last term is what
/// lets [`Mutation::CommitOlderTermEntry`] drop that conjunct and commit an older term's entry.
pub fn entry_to_commit<V: OplogVars + ?Sized>(v: &V, i: usize) -> (u8, u8) {
    let log = v.log(i);
    (log.len() as u8, last_term(log))
}

/// `ImmediatelyCommitted(<<index, term>>, Q)` as CommitEntry uses it: every member of `Q` holds
/// the entry and is in the committing primary's term `primary_term` (the spec compares with the
/// entry's term, equal to the primary's; dropped by [`Mutation::CommitIgnoresQuorumTerm`]).
pub fn immediately_committed<V: OplogVars + ?Sized>(
    v: &V,
    (index, term): (u8, u8),
    primary_term: u8,
    q: ServerSet,
    mutation: Option<Mutation>,
) -> bool {
    q.iter().all(|s| {
        in_log(index, term, v.log(s))
            && conjunct(
                mutation,
                Mutation::CommitIgnoresQuorumTerm,
                v.current_term(s) == primary_term,
            )
    })
}

/// Guard of `CommitEntry(i, commitQuorum)`: `i` is a Primary with a nonempty log whose last
/// entry it wrote itself (its term is `i`'s current term; dropped by
/// [`Mutation::CommitOlderTermEntry`]), the entry is immediately committed by the quorum, and no
/// record names that entry yet. The quorum ranges over `Quorums(config[i])` in the caller.
pub fn commit_entry_enabled<V: OplogVars + ?Sized>(
    v: &V,
    i: usize,
    commit_quorum: ServerSet,
    mutation: Option<Mutation>,
) -> bool {
    let (ind, entry_term) = entry_to_commit(v, i);
    let term = v.current_term(i);
    ind > 0
        && v.role(i) == Role::Primary
        && conjunct(mutation, Mutation::CommitOlderTermEntry, entry_term == term)
        && immediately_committed(v, (ind, entry_term), term, commit_quorum, mutation)
        && !v.committed().contains_entry(ind, entry_term)
}

/// Effect of `CommitEntry(i, commitQuorum)`: primary `i` records its last entry as committed in
/// its current term. Unchanged: currentTerm, state, log, config.
pub fn commit_entry_effect<P, N>(pre: &P, next: &mut N, i: usize, _commit_quorum: ServerSet)
where
    P: OplogVars + ?Sized,
    N: OplogVarsMut + ?Sized,
{
    let (index, entry_term) = entry_to_commit(pre, i);
    let record = CommittedEntry {
        index,
        entry_term,
        term: pre.current_term(i),
    };
    next.set_committed(pre.committed().with(record));
}

// ---------------------------------------------------------------------------------------------
// UpdateTerms
// ---------------------------------------------------------------------------------------------

/// Guard of `UpdateTerms(i, j)`: `i`'s term is newer than `j`'s.
pub fn update_terms_enabled<V: OplogVars + ?Sized>(
    v: &V,
    i: usize,
    j: usize,
    _mutation: Option<Mutation>,
) -> bool {
    v.current_term(i) > v.current_term(j)
}

/// Effect of `UpdateTerms(i, j)` (`UpdateTermsExpr`): `j` adopts `i`'s term and steps down to
/// Secondary (its role is left as it was under [`Mutation::UpdateTermsKeepsRole`]). Unchanged:
/// log, config, committed.
pub fn update_terms_effect<P, N>(
    pre: &P,
    next: &mut N,
    i: usize,
    j: usize,
    mutation: Option<Mutation>,
) where
    P: OplogVars + ?Sized,
    N: OplogVarsMut + ?Sized,
{
    next.set_current_term(j, pre.current_term(i));
    if mutation != Some(Mutation::UpdateTermsKeepsRole) {
        next.set_role(j, Role::Secondary);
    }
}

// ---------------------------------------------------------------------------------------------
// The next-state relation
// ---------------------------------------------------------------------------------------------

/// Whether `action` is enabled in `v`.
#[inline]
pub fn enabled<V: OplogVars + ?Sized>(v: &V, action: Action, mutation: Option<Mutation>) -> bool {
    match action {
        Action::ClientRequest { i } => client_request_enabled(v, i.into(), mutation),
        Action::GetEntries { i, j } => get_entries_enabled(v, i.into(), j.into(), mutation),
        Action::RollbackEntries { i, j } => {
            rollback_entries_enabled(v, i.into(), j.into(), mutation)
        }
        Action::BecomeLeader { i, vote_quorum } => {
            become_leader_enabled(v, i.into(), vote_quorum, mutation)
        }
        Action::CommitEntry { i, commit_quorum } => {
            commit_entry_enabled(v, i.into(), commit_quorum, mutation)
        }
        Action::UpdateTerms { i, j } => update_terms_enabled(v, i.into(), j.into(), mutation),
    }
}

/// Applies the effect of `action` (whose guard holds in `pre`) to `next`, with `mutation` in
/// force (`None` for the spec; only the effect mutations change an effect).
#[inline]
pub fn apply<P, N>(pre: &P, next: &mut N, action: Action, mutation: Option<Mutation>)
where
    P: OplogVars + ?Sized,
    N: OplogVarsMut + ?Sized,
{
    match action {
        Action::ClientRequest { i } => client_request_effect(pre, next, i.into()),
        Action::GetEntries { i, j } => get_entries_effect(pre, next, i.into(), j.into()),
        Action::RollbackEntries { i, j } => rollback_entries_effect(pre, next, i.into(), j.into()),
        Action::BecomeLeader { i, vote_quorum } => {
            become_leader_effect(pre, next, i.into(), vote_quorum, mutation)
        }
        Action::CommitEntry { i, commit_quorum } => {
            commit_entry_effect(pre, next, i.into(), commit_quorum)
        }
        Action::UpdateTerms { i, j } => {
            update_terms_effect(pre, next, i.into(), j.into(), mutation)
        }
    }
}

/// Every candidate step of `Next` in a state with `servers` servers, enabled or not, in `Next`'s
/// order: one per binding of each disjunct's existential quantifiers, quorums ranging over
/// `Quorums(config[s])` of the state. `GetEntries`, `RollbackEntries` and `UpdateTerms` bind
/// `s = t` too, as TLC does; their guards are false there.
pub fn candidate_steps<V: OplogVars + ?Sized>(
    v: &V,
    servers: usize,
    mut visit: impl FnMut(Action),
) {
    for i in server_range(servers) {
        visit(Action::ClientRequest { i });
    }
    for i in server_range(servers) {
        for j in server_range(servers) {
            visit(Action::GetEntries { i, j });
        }
    }
    for i in server_range(servers) {
        for j in server_range(servers) {
            visit(Action::RollbackEntries { i, j });
        }
    }
    for i in server_range(servers) {
        for vote_quorum in v.config(i.into()).quorums() {
            visit(Action::BecomeLeader { i, vote_quorum });
        }
    }
    for i in server_range(servers) {
        for commit_quorum in v.config(i.into()).quorums() {
            visit(Action::CommitEntry { i, commit_quorum });
        }
    }
    for i in server_range(servers) {
        for j in server_range(servers) {
            visit(Action::UpdateTerms { i, j });
        }
    }
}

/// Every enabled step of `Next` in `v` (a state with `servers` servers), with its successor, in
/// `Next`'s order: exactly what trying every binding of [`candidate_steps`] with [`enabled`] and
/// [`apply`] gives (a unit test checks it on every reachable state of a model, under every
/// mutation). It is written out per action so that each guard is called directly, and skips
/// bindings whose guard cannot hold: CommitEntry for a server that is not a Primary with a
/// nonempty log (conjuncts no mutation drops), and BecomeLeader asks each voter once per
/// candidate ([`voters_for`]) instead of once per quorum.
pub fn next<S>(v: &S, servers: usize, mutation: Option<Mutation>, out: &mut Vec<(Action, S)>)
where
    S: OplogVarsMut + Copy,
{
    let mut push = |action: Action| {
        let mut next = *v;
        apply(v, &mut next, action, mutation);
        out.push((action, next));
    };
    for i in server_range(servers) {
        if client_request_enabled(v, i.into(), mutation) {
            push(Action::ClientRequest { i });
        }
    }
    for i in server_range(servers) {
        for j in server_range(servers) {
            if get_entries_enabled(v, i.into(), j.into(), mutation) {
                push(Action::GetEntries { i, j });
            }
        }
    }
    for i in server_range(servers) {
        for j in server_range(servers) {
            if rollback_entries_enabled(v, i.into(), j.into(), mutation) {
                push(Action::RollbackEntries { i, j });
            }
        }
    }
    for i in server_range(servers) {
        let voters = voters_for(v, i.into(), servers, mutation);
        for vote_quorum in v.config(i.into()).quorums() {
            if vote_quorum.contains(i.into()) && vote_quorum.is_subset(voters) {
                push(Action::BecomeLeader { i, vote_quorum });
            }
        }
    }
    for i in server_range(servers) {
        if v.role(i.into()) != Role::Primary || v.log(i.into()).is_empty() {
            continue;
        }
        for commit_quorum in v.config(i.into()).quorums() {
            if commit_entry_enabled(v, i.into(), commit_quorum, mutation) {
                push(Action::CommitEntry { i, commit_quorum });
            }
        }
    }
    for i in server_range(servers) {
        for j in server_range(servers) {
            if update_terms_enabled(v, i.into(), j.into(), mutation) {
                push(Action::UpdateTerms { i, j });
            }
        }
    }
}
