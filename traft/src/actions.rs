//! The actions of TRaft, one guard and one effect per action, and the enumeration of the
//! next-state relation.
//!
//! Each action is a pair: `<action>_enabled(state, args..., mutation)`, the guard, named
//! conjuncts first; `<action>_effect(state, args..., mutation) -> State`, the effect, which
//! writes only the variables the action changes. [`next`] tries every binding of
//! [`candidate_steps`] in order, so the successors come one per satisfying binding, as TLC
//! enumerates an existentially quantified `Next`.

use crate::state::{author_at, Ballot, Log, Role, State};
use crate::Mutation;
use spec_core::itf::server_name;
use spec_core::{Server, ServerSet};
use std::fmt;

/// One step of TRaft: an action and the values of its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `ClientRequest(i)`: leader `i` appends an entry it authors.
    ClientRequest {
        /// The leader.
        i: Server,
    },
    /// `LogForward(i, j)`: leader `i` sends `j` its log, and `j` accepts `i` as committer.
    LogForward {
        /// The leader.
        i: Server,
        /// The server that accepts.
        j: Server,
    },
    /// `BecomeLeader(i, voteQuorum, mergeFrom)`: an atomic election, then the merge.
    BecomeLeader {
        /// The candidate.
        i: Server,
        /// The voters, a majority containing the candidate.
        vote_quorum: ServerSet,
        /// The voter whose log the new leader takes: in the spec, the longest log among the
        /// voters with the greatest committer (all of which agree).
        merge_from: Server,
    },
    /// `CommitEntry(i, commitQuorum)`: leader `i` finds an entry held by a quorum that
    /// accepted it from `i`.
    CommitEntry {
        /// The leader.
        i: Server,
        /// The servers that hold the entry with `i` as their committer.
        commit_quorum: ServerSet,
    },
}

/// The action names, in `Next`'s order.
pub const ACTION_NAMES: &[&str] = &["ClientRequest", "LogForward", "BecomeLeader", "CommitEntry"];

impl spec_core::Action for Action {
    fn name(&self) -> &'static str {
        match self {
            Action::ClientRequest { .. } => "ClientRequest",
            Action::LogForward { .. } => "LogForward",
            Action::BecomeLeader { .. } => "BecomeLeader",
            Action::CommitEntry { .. } => "CommitEntry",
        }
    }
}

/// Prints a set of servers as `{n1, n2}`.
pub fn set_name(q: ServerSet) -> String {
    let names: Vec<String> = q.iter().map(server_name).collect();
    format!("{{{}}}", names.join(", "))
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use spec_core::Action as _;
        let args = match *self {
            Action::ClientRequest { i } => server_name(i),
            Action::LogForward { i, j } => format!("{}, {}", server_name(i), server_name(j)),
            Action::BecomeLeader {
                i,
                vote_quorum,
                merge_from,
            } => format!(
                "{}, {}, from {}",
                server_name(i),
                set_name(vote_quorum),
                server_name(merge_from)
            ),
            Action::CommitEntry { i, commit_quorum } => {
                format!("{}, {}", server_name(i), set_name(commit_quorum))
            }
        };
        write!(f, "{}({args})", self.name())
    }
}

impl std::str::FromStr for Action {
    type Err = spec_core::action_text::ParseActionError;

    /// Reads back what `Display` writes, such as `BecomeLeader(n1, {n1, n2}, from n2)`.
    fn from_str(text: &str) -> Result<Action, Self::Err> {
        use spec_core::action_text::{parse, server, server_set, unknown};
        parse(text, |name, args| match (name, args) {
            ("ClientRequest", [i]) => Ok(Action::ClientRequest { i: server(i)? }),
            ("LogForward", [i, j]) => Ok(Action::LogForward {
                i: server(i)?,
                j: server(j)?,
            }),
            ("BecomeLeader", [i, q, from]) => {
                let from = from
                    .strip_prefix("from ")
                    .ok_or_else(|| format!("expected `from SERVER`, not `{from}`"))?;
                Ok(Action::BecomeLeader {
                    i: server(i)?,
                    vote_quorum: server_set(q)?,
                    merge_from: server(from.trim())?,
                })
            }
            ("CommitEntry", [i, q]) => Ok(Action::CommitEntry {
                i: server(i)?,
                commit_quorum: server_set(q)?,
            }),
            _ => Err(unknown(
                name,
                args,
                &[
                    "ClientRequest(i)",
                    "LogForward(i, j)",
                    "BecomeLeader(i, Q, from j)",
                    "CommitEntry(i, Q)",
                ],
            )),
        })
    }
}

/// A guard conjunct that `dropped_by` removes: true when `holds`, or when that mutation is in
/// force.
fn conjunct(mutation: Option<Mutation>, dropped_by: Mutation, holds: bool) -> bool {
    holds || mutation == Some(dropped_by)
}

// ---------------------------------------------------------------------------------------------
// ClientRequest
// ---------------------------------------------------------------------------------------------

/// Guard of `ClientRequest(i)`: `i` is Primary.
pub fn client_request_enabled(s: &State, i: usize) -> bool {
    s.state[i] == Role::Primary
}

/// Effect of `ClientRequest(i)`: the leader appends an entry whose author is its leader id.
/// Unchanged: votedFor, committer, state, committed.
pub fn client_request_effect(s: &State, i: usize) -> State {
    let mut next = *s;
    next.log[i].push(s.voted_for[i].0);
    next
}

// ---------------------------------------------------------------------------------------------
// LogForward
// ---------------------------------------------------------------------------------------------

/// What `j`'s log becomes when leader `i` forwards to it: a copy of `i`'s log, every entry `j`
/// lacks sent at once (TRaft's follower overwrites its log with what the leader sends).
///
/// Under [`Mutation::ForwardOneEntry`], one entry per step instead, as MongoStaticRaft's
/// GetEntries moves them: `j` keeps the longest prefix it shares with `i`'s log and takes `i`'s
/// next entry after it.
pub fn forwarded_log(s: &State, i: usize, j: usize, mutation: Option<Mutation>) -> Log {
    if mutation != Some(Mutation::ForwardOneEntry) {
        return s.log[i];
    }
    let (leader, follower) = (s.log[i].as_slice(), s.log[j].as_slice());
    let common = leader
        .iter()
        .zip(follower)
        .take_while(|(a, b)| a == b)
        .count();
    Log::from_slice(&leader[..leader.len().min(common + 1)])
}

/// Guard of `LogForward(i, j)`: `i` is Primary, `j` another server that has not voted for a
/// greater leader id than `i`'s (dropped by [`Mutation::ForwardIgnoresVote`]), and the step
/// changes something at `j` (its log, its committer, its vote or its role).
pub fn log_forward_enabled(s: &State, i: usize, j: usize, mutation: Option<Mutation>) -> bool {
    let leader = s.voted_for[i];
    s.state[i] == Role::Primary
        && i != j
        && conjunct(
            mutation,
            Mutation::ForwardIgnoresVote,
            s.voted_for[j] <= leader,
        )
        && (forwarded_log(s, i, j, mutation) != s.log[j]
            || s.committer[j] != leader
            || s.voted_for[j] != leader
            || s.state[j] != Role::Secondary)
}

/// Effect of `LogForward(i, j)`: `j` accepts: its log becomes `i`'s ([`forwarded_log`]), and
/// its committer and vote become `i`'s leader id; a stale leader steps down. So a server whose
/// committer is `L` holds all of `L`'s log as it was at some point of `L`'s leadership, which
/// includes everything `L` merged. Unchanged: committed, and every other server.
pub fn log_forward_effect(s: &State, i: usize, j: usize, mutation: Option<Mutation>) -> State {
    let mut next = *s;
    next.log[j] = forwarded_log(s, i, j, mutation);
    next.committer[j] = s.voted_for[i];
    next.voted_for[j] = s.voted_for[i];
    next.state[j] = Role::Secondary;
    next
}

// ---------------------------------------------------------------------------------------------
// BecomeLeader
// ---------------------------------------------------------------------------------------------

/// The leader id candidate `i` runs with: the term after that of its vote, and its own id
/// (TRaft increments `VotedFor.Term` and sets `VotedFor.Id` to itself).
pub fn candidate_ballot(s: &State, i: usize) -> Ballot {
    Ballot::new(s.voted_for[i].term() + 1, i)
}

/// The voter whose log the merge takes: the longest log among the voters whose committer is
/// the greatest in the quorum (the least server among equals; SameCommitterLogsAgree makes
/// them equal logs). Under [`Mutation::MergeLongestLog`], the longest log of the quorum,
/// whatever its committer.
pub fn merge_source(s: &State, vote_quorum: ServerSet, mutation: Option<Mutation>) -> usize {
    let candidates = if mutation == Some(Mutation::MergeLongestLog) {
        vote_quorum
    } else {
        s.max_committer_replicas(vote_quorum)
    };
    // The least server wins ties: Reverse(v) makes it the greatest key among equal lengths.
    candidates
        .iter()
        .max_by_key(|&v| (s.log[v].len(), std::cmp::Reverse(v)))
        .expect("a quorum is not empty")
}

/// The log a leader elected by `vote_quorum` takes, by the definition of a merge: index by
/// index, the entry any max-committer voter holds there. The reference for [`merge_source`]: a
/// test checks that the two agree on every reachable state and quorum.
pub fn merged_log(s: &State, vote_quorum: ServerSet) -> Log {
    let sources = s.max_committer_replicas(vote_quorum);
    let mut merged = Log::new();
    for index in 1.. {
        match sources.iter().find_map(|v| author_at(&s.log[v], index)) {
            Some(author) => merged.push(author.0),
            None => return merged,
        }
    }
    unreachable!()
}

/// Guard of `BecomeLeader(i, voteQuorum, mergeFrom)`: the candidate votes for itself, every
/// voter has voted for a smaller leader id than the candidate's (TRaft: a voter may vote again
/// for a *greater* leader; dropped by [`Mutation::VoteIgnoresBallot`]), and `mergeFrom` is the
/// voter the merge reads ([`merge_source`]; any voter under
/// [`Mutation::MergeFromAnyReplica`]). Unlike MongoStaticRaft, voters do not compare logs: the
/// merge brings the candidate's log up to date.
pub fn become_leader_enabled(
    s: &State,
    i: usize,
    vote_quorum: ServerSet,
    merge_from: usize,
    mutation: Option<Mutation>,
) -> bool {
    let ballot = candidate_ballot(s, i);
    let source_ok = if mutation == Some(Mutation::MergeFromAnyReplica) {
        vote_quorum.contains(merge_from)
    } else {
        merge_from == merge_source(s, vote_quorum, mutation)
    };
    vote_quorum.contains(i)
        && vote_quorum.iter().all(|v| {
            conjunct(
                mutation,
                Mutation::VoteIgnoresBallot,
                s.voted_for[v] < ballot,
            )
        })
        && source_ok
}

/// Effect of `BecomeLeader(i, voteQuorum, mergeFrom)`: every voter votes for the candidate's
/// leader id and is Secondary, the candidate Primary; the candidate's log becomes `mergeFrom`'s
/// (the merge) and its committer its own leader id (it accepts every log it has seen). Other
/// voters keep their logs and committers. Unchanged: committed.
pub fn become_leader_effect(
    s: &State,
    i: usize,
    vote_quorum: ServerSet,
    merge_from: usize,
) -> State {
    let ballot = candidate_ballot(s, i);
    let mut next = *s;
    for v in vote_quorum.iter() {
        next.voted_for[v] = ballot;
        next.state[v] = Role::Secondary;
    }
    next.state[i] = Role::Primary;
    next.log[i] = s.log[merge_from];
    next.committer[i] = ballot;
    next
}

// ---------------------------------------------------------------------------------------------
// CommitEntry
// ---------------------------------------------------------------------------------------------

/// The index `CommitEntry(i, commitQuorum)` commits: the greatest index of `i`'s log at which
/// every member of the quorum holds `i`'s entry (0 if none). With the committer check, the
/// members' logs are prefixes of `i`'s, and this is the shortest of them.
pub fn commit_index(s: &State, i: usize, commit_quorum: ServerSet) -> usize {
    (1..=s.log[i].len())
        .rev()
        .find(|&k| {
            commit_quorum
                .iter()
                .all(|v| s.log[v].at(k) == s.log[i].at(k))
        })
        .unwrap_or(0)
}

/// `AcceptedFromMe(i, commitQuorum)`: every member of the quorum has `i`'s leader id as its
/// committer, that is, its log is a copy of (a prefix of) `i`'s log as leader. This is the
/// step's "a quorum has it", and the note's *safe*: replicated to a quorum, by one leader.
pub fn accepted_from(s: &State, i: usize, commit_quorum: ServerSet) -> bool {
    commit_quorum
        .iter()
        .all(|v| s.committer[v] == s.voted_for[i])
}

/// Guard of `CommitEntry(i, commitQuorum)`: `i` is Primary, the quorum accepted from it
/// ([`accepted_from`]; dropped by [`Mutation::CommitIgnoresCommitter`]), they all hold an entry
/// of `i`'s log ([`commit_index`] is at least 1), and that entry is not committed yet. There is
/// no "entry of my own term" conjunct, as MongoStaticRaft has: the committer check plays its
/// part, so a leader may commit an entry it merged from an older leader.
pub fn commit_entry_enabled(
    s: &State,
    i: usize,
    commit_quorum: ServerSet,
    mutation: Option<Mutation>,
) -> bool {
    let k = commit_index(s, i, commit_quorum);
    s.state[i] == Role::Primary
        && conjunct(
            mutation,
            Mutation::CommitIgnoresCommitter,
            accepted_from(s, i, commit_quorum),
        )
        && k >= 1
        && !s
            .committed
            .contains(k, author_at(&s.log[i], k).expect("k <= Len(log[i])"))
}

/// Effect of `CommitEntry(i, commitQuorum)`: records `<<k, author>>` as committed by `i`'s leader
/// id. Unchanged: every protocol variable.
pub fn commit_entry_effect(s: &State, i: usize, commit_quorum: ServerSet) -> State {
    let k = commit_index(s, i, commit_quorum);
    let author = author_at(&s.log[i], k).expect("guard: k >= 1");
    let mut next = *s;
    next.committed = s.committed.with(k, author, s.voted_for[i]);
    next
}

// ---------------------------------------------------------------------------------------------
// The next-state relation
// ---------------------------------------------------------------------------------------------

/// Whether `action` is enabled in `s`.
pub fn enabled(s: &State, action: Action, mutation: Option<Mutation>) -> bool {
    match action {
        Action::ClientRequest { i } => client_request_enabled(s, i.into()),
        Action::LogForward { i, j } => log_forward_enabled(s, i.into(), j.into(), mutation),
        Action::BecomeLeader {
            i,
            vote_quorum,
            merge_from,
        } => become_leader_enabled(s, i.into(), vote_quorum, merge_from.into(), mutation),
        Action::CommitEntry { i, commit_quorum } => {
            commit_entry_enabled(s, i.into(), commit_quorum, mutation)
        }
    }
}

/// The successor of `s` by `action`, whose guard holds, with `mutation` in force.
pub fn apply(s: &State, action: Action, mutation: Option<Mutation>) -> State {
    match action {
        Action::ClientRequest { i } => client_request_effect(s, i.into()),
        Action::LogForward { i, j } => log_forward_effect(s, i.into(), j.into(), mutation),
        Action::BecomeLeader {
            i,
            vote_quorum,
            merge_from,
        } => become_leader_effect(s, i.into(), vote_quorum, merge_from.into()),
        Action::CommitEntry { i, commit_quorum } => commit_entry_effect(s, i.into(), commit_quorum),
    }
}

/// Every binding of `Next`'s parameters, enabled or not, in `Next`'s order: quorums range over
/// the majorities of all servers, and BecomeLeader's `mergeFrom` over the quorum's members.
pub fn candidate_steps(s: &State, mut visit: impl FnMut(Action)) {
    let servers = 0..s.server_ids().end as Server;
    for i in servers.clone() {
        visit(Action::ClientRequest { i });
    }
    for i in servers.clone() {
        for j in servers.clone() {
            visit(Action::LogForward { i, j });
        }
    }
    for i in servers.clone() {
        for vote_quorum in s.all_servers().quorums() {
            for merge_from in vote_quorum.iter().map(|m| m as Server) {
                visit(Action::BecomeLeader {
                    i,
                    vote_quorum,
                    merge_from,
                });
            }
        }
    }
    for i in servers {
        for commit_quorum in s.all_servers().quorums() {
            visit(Action::CommitEntry { i, commit_quorum });
        }
    }
}

/// Every enabled step of `Next` from `s`, with its successor, in [`candidate_steps`]' order.
pub fn next(s: &State, mutation: Option<Mutation>, out: &mut Vec<(Action, State)>) {
    candidate_steps(s, |action| {
        if enabled(s, action, mutation) {
            out.push((action, apply(s, action, mutation)));
        }
    });
}
