//! The state of TRaft and its invariants.
//!
//! A server's variables are its vote (the greatest leader id it has voted for or accepted, its
//! `VotedFor`), its *committer* (the leader whose log its own log is a copy of), its role and its
//! log; the history variable `committed` records every entry a leader found safe. Leader ids
//! are [`Ballot`]s, one byte each; logs hold the ballot of each entry's author; so a state is
//! `Copy`, under 80 bytes, with no heap.

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use spec_core::itf::{self, server_name};
use spec_core::{Seq, ServerSet};
use std::fmt;

/// The most servers a [`State`] holds.
pub const MAX_SERVERS: usize = 5;

/// The longest log a state holds: `MaxLogLen + 1` entries, for successors just outside the
/// state constraint.
pub const LOG_CAPACITY: usize = 6;

/// The largest `MaxTerm`: a ballot's term is at most `MaxTerm + 1` (an election from a state
/// inside the constraint), and the [`Committed`] masks hold authors of terms `1..=MAX_TERM`.
pub const MAX_TERM: usize = 5;

/// The largest index a commit may name: commits happen in states inside the constraint, whose
/// logs hold at most `MaxLogLen <= LOG_CAPACITY - 1` entries.
pub const MAX_COMMITTED_INDEX: usize = LOG_CAPACITY - 1;

/// The role of a server (shared with the Raft-family layers).
pub use spec_core::Role;

/// A leader id `(term, id)` (TRaft's `LeaderId`): the term of an election and the server that
/// won it. Leader ids are compared lexicographically, the term first, and that order is the
/// derived one: the byte is `term * 8 + id`.
///
/// `Ballot::ZERO`, term 0, is the vote and committer of a server that has seen no leader; no
/// entry has it as author.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Ballot(pub u8);

impl Ballot {
    /// The leader id no server has voted for yet: term 0.
    pub const ZERO: Ballot = Ballot(0);

    /// The leader id `(term, id)`.
    pub fn new(term: u8, id: usize) -> Ballot {
        debug_assert!(id < 8 && term as usize <= MAX_TERM + 1);
        Ballot(term * 8 + id as u8)
    }
    /// Its term.
    pub fn term(self) -> u8 {
        self.0 / 8
    }
    /// The server it names (meaningless for [`Ballot::ZERO`]).
    pub fn id(self) -> usize {
        (self.0 % 8) as usize
    }
    /// Its number among the authors of entries, `(term - 1) * MAX_SERVERS + id`, for the
    /// [`Committed`] masks: authors have terms `1..=MAX_TERM`.
    fn author_bit(self) -> u32 {
        assert!(
            (1..=MAX_TERM as u8).contains(&self.term()),
            "author {self:?} is outside the committed encoding"
        );
        (self.term() as u32 - 1) * MAX_SERVERS as u32 + self.id() as u32
    }
    fn from_author_bit(bit: u32) -> Ballot {
        let servers = MAX_SERVERS as u32;
        Ballot::new((bit / servers + 1) as u8, (bit % servers) as usize)
    }
}

impl fmt::Debug for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Ballot::ZERO {
            f.write_str("(0)")
        } else {
            write!(f, "({}, {})", self.term(), server_name(self.id()))
        }
    }
}

impl fmt::Display for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

spec_core::impl_pack!(Ballot(u8));

/// Serialized as the tuple `<<term, server>>`, and `<<0, None>>` for [`Ballot::ZERO`].
impl Serialize for Ballot {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let id = if *self == Ballot::ZERO {
            "None".to_string()
        } else {
            server_name(self.id())
        };
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("#tup", &(self.term(), id))?;
        map.end()
    }
}

/// A log: the author (the leader id that wrote it) of each entry, in order. An entry is
/// identified by its `<<index, author>>` pair, as a Mongo entry is by `<<index, term>>`.
pub type Log = Seq<LOG_CAPACITY>;

/// The author of the entry at 1-based `index`, if the log has one.
pub fn author_at(log: &Log, index: usize) -> Option<Ballot> {
    log.at(index).map(Ballot)
}

// ---------------------------------------------------------------------------------------------
// History variable `committed`
// ---------------------------------------------------------------------------------------------

/// The history variables `committed` and `committedBy`: for each index
/// `1..=MAX_COMMITTED_INDEX`, the authors of the entries committed there (a bitmask: two of them
/// is a StateMachineSafety violation), and the least leader id that committed an entry there
/// (what LeaderCompleteness compares with). The least committer is kept per index, not per
/// entry: the two differ only once StateMachineSafety is already broken.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Committed {
    authors: [u32; MAX_COMMITTED_INDEX],
    by: [Ballot; MAX_COMMITTED_INDEX],
}

/// One committed entry `<<index, author>>`, with `committedBy[index]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CommittedEntry {
    /// Its index.
    pub index: usize,
    /// The leader id that wrote it.
    pub author: Ballot,
    /// The least leader id that committed an entry at this index.
    pub by: Ballot,
}

impl Committed {
    /// Nothing committed.
    pub const EMPTY: Committed = Committed {
        authors: [0; MAX_COMMITTED_INDEX],
        by: [Ballot::ZERO; MAX_COMMITTED_INDEX],
    };

    /// Whether the entry `<<index, author>>` is committed.
    pub fn contains(&self, index: usize, author: Ballot) -> bool {
        (1..=MAX_COMMITTED_INDEX).contains(&index)
            && self.authors[index - 1] & (1 << author.author_bit()) != 0
    }

    /// The set with `<<index, author>>` committed by leader `by`. Panics on an index or author
    /// outside the encoding: callers validate bounds.
    pub fn with(mut self, index: usize, author: Ballot, by: Ballot) -> Committed {
        assert!(
            (1..=MAX_COMMITTED_INDEX).contains(&index),
            "committed index {index} is outside the encoding"
        );
        let k = index - 1;
        if self.authors[k] == 0 || by < self.by[k] {
            self.by[k] = by;
        }
        self.authors[k] |= 1 << author.author_bit();
        self
    }

    /// The committed entries, by index, then author.
    pub fn iter(&self) -> impl Iterator<Item = CommittedEntry> + '_ {
        (0..MAX_COMMITTED_INDEX).flat_map(move |k| {
            let (mut bits, by) = (self.authors[k], self.by[k]);
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let bit = bits.trailing_zeros();
                    bits &= bits - 1;
                    CommittedEntry {
                        index: k + 1,
                        author: Ballot::from_author_bit(bit),
                        by,
                    }
                })
            })
        })
    }

    /// Whether nothing is committed.
    pub fn is_empty(&self) -> bool {
        self.authors.iter().all(|&a| a == 0)
    }
}

impl fmt::Debug for Committed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

spec_core::impl_pack!(Committed { authors, by });

/// The ITF tuple `<<index, author>>`.
struct TupOf(usize, Ballot);

impl Serialize for TupOf {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("#tup", &(self.0, self.1))?;
        map.end()
    }
}

/// `committed`: the set of entries `<<index, author>>`.
impl Serialize for Committed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        itf::Set(self.iter().map(|c| TupOf(c.index, c.author)).collect()).serialize(serializer)
    }
}

/// `committedBy`: the function from each committed index to the least leader id that committed
/// there.
struct CommittedBy<'a>(&'a Committed);

impl Serialize for CommittedBy<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let by: Vec<(usize, Ballot)> = (0..MAX_COMMITTED_INDEX)
            .filter(|&k| c.authors[k] != 0)
            .map(|k| (k + 1, c.by[k]))
            .collect();
        itf::Map(by).serialize(serializer)
    }
}

// ---------------------------------------------------------------------------------------------
// The state
// ---------------------------------------------------------------------------------------------

/// A state of TRaft.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct State {
    /// The number of servers (a constant of the model, not a variable).
    pub servers: u8,
    /// `votedFor`: the greatest leader id each server has voted for or accepted entries from.
    pub voted_for: [Ballot; MAX_SERVERS],
    /// `committer`: the leader id whose log each server's log is a copy of (a prefix of that
    /// leader's log); a leader sets its own to its id once it has merged.
    pub committer: [Ballot; MAX_SERVERS],
    /// `state`: each server's role.
    pub state: [Role; MAX_SERVERS],
    /// `log`: each server's log of entry authors.
    pub log: [Log; MAX_SERVERS],
    /// `committed` and `committedBy`: every entry a leader found held by a quorum, and who
    /// committed at each index (history variables: only CommitEntry reads them, to commit an
    /// entry once; serialized as two variables).
    pub committed: Committed,
}

impl State {
    /// The initial state: no vote, no committer, every server Secondary with an empty log.
    pub fn initial(servers: usize) -> State {
        assert!(servers <= MAX_SERVERS, "at most {MAX_SERVERS} servers");
        State {
            servers: servers as u8,
            voted_for: [Ballot::ZERO; MAX_SERVERS],
            committer: [Ballot::ZERO; MAX_SERVERS],
            state: [Role::Secondary; MAX_SERVERS],
            log: [Log::new(); MAX_SERVERS],
            committed: Committed::EMPTY,
        }
    }

    /// The servers `0..servers`.
    pub fn server_ids(&self) -> std::ops::Range<usize> {
        0..self.servers as usize
    }

    /// Every server.
    pub fn all_servers(&self) -> ServerSet {
        ServerSet::all(self.servers as usize)
    }

    /// The greatest committer among the servers of `q` (TRaft's `maxCommitter`).
    pub fn max_committer(&self, q: ServerSet) -> Ballot {
        q.iter()
            .map(|v| self.committer[v])
            .max()
            .unwrap_or(Ballot::ZERO)
    }

    /// The servers of `q` whose committer is the greatest in `q`: the only logs a leader
    /// elected by `q` reads.
    pub fn max_committer_replicas(&self, q: ServerSet) -> ServerSet {
        let max = self.max_committer(q);
        q.iter()
            .filter(|&v| self.committer[v] == max)
            .fold(ServerSet::EMPTY, ServerSet::with)
    }
}

spec_core::impl_pack!(State {
    servers,
    voted_for,
    committer,
    state,
    log,
    committed
});

impl Serialize for State {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn per_server<T>(s: &State, f: impl Fn(usize) -> T) -> itf::Map<String, T> {
            itf::Map(s.server_ids().map(|i| (server_name(i), f(i))).collect())
        }
        let mut st = serializer.serialize_struct("State", 6)?;
        st.serialize_field("votedFor", &per_server(self, |i| self.voted_for[i]))?;
        st.serialize_field("committer", &per_server(self, |i| self.committer[i]))?;
        st.serialize_field("state", &per_server(self, |i| self.state[i]))?;
        let logs = per_server(self, |i| {
            self.log[i]
                .as_slice()
                .iter()
                .map(|&b| Ballot(b))
                .collect::<Vec<_>>()
        });
        st.serialize_field("log", &logs)?;
        st.serialize_field("committed", &self.committed)?;
        st.serialize_field("committedBy", &CommittedBy(&self.committed))?;
        st.end()
    }
}

/// The variables a state serializes, in that order.
pub const VARIABLES: [&str; 6] = [
    "votedFor",
    "committer",
    "state",
    "log",
    "committed",
    "committedBy",
];

/// Reads a leader id `<<term, server>>` (`<<0, None>>` for [`Ballot::ZERO`]) of a model with
/// `servers` servers.
fn read_ballot(v: &itf::Value, servers: usize) -> itf::Read<Ballot> {
    let parts = itf::tup_of(v, 2)?;
    let term = itf::small(&parts[0], MAX_TERM as u8 + 1)?;
    if itf::string(&parts[1]) == Ok("None") {
        return if term == 0 {
            Ok(Ballot::ZERO)
        } else {
            Err(format!("leader id <<{term}, None>> names no server"))
        };
    }
    let id = itf::server(&parts[1])?;
    if id >= servers || term == 0 {
        return Err(format!(
            "leader id <<{term}, {}>> is not one of this {servers}-server model",
            server_name(id)
        ));
    }
    Ok(Ballot::new(term, id))
}

/// Reads the author of a committed entry: a leader id whose term the `committed` masks hold.
fn read_author(v: &itf::Value, servers: usize) -> itf::Read<Ballot> {
    let author = read_ballot(v, servers)?;
    if !(1..=MAX_TERM as u8).contains(&author.term()) {
        return Err(format!(
            "a committed entry's author has term {}, outside 1..{MAX_TERM}",
            author.term()
        ));
    }
    Ok(author)
}

impl State {
    /// Reads a state back from the ITF its `Serialize` writes, for a model of `servers` servers.
    pub fn read_itf(value: &itf::Value, servers: usize) -> Result<State, itf::ReadError> {
        let n = servers;
        if n > MAX_SERVERS {
            return Err(itf::ReadError::state(format!(
                "{n} servers are more than the {MAX_SERVERS} the encoding holds"
            )));
        }
        let vars = itf::Record::new(value, &VARIABLES)?;
        let ballots =
            |v: &itf::Value| itf::each_server(&itf::per_server(v, Some(n))?, |b| read_ballot(b, n));
        let mut s = State::initial(n);
        s.voted_for[..n].copy_from_slice(&vars.var("votedFor", ballots)?);
        s.committer[..n].copy_from_slice(&vars.var("committer", ballots)?);
        let roles = vars.var("state", |v| spec_core::raft::read_roles(v, n))?;
        s.state[..n].copy_from_slice(&roles);
        let logs = vars.var("log", |v| {
            itf::each_server(&itf::per_server(v, Some(n))?, |log| {
                let entries = itf::seq(log)?;
                if entries.len() > LOG_CAPACITY {
                    return Err(format!(
                        "a log of {} entries is longer than the {LOG_CAPACITY} the encoding holds",
                        entries.len()
                    ));
                }
                let authors = itf::each(entries, |e| read_author(e, n))?;
                Ok(Log::from_slice(
                    &authors.iter().map(|b| b.0).collect::<Vec<_>>(),
                ))
            })
        })?;
        s.log[..n].copy_from_slice(&logs);
        let by = vars.var("committedBy", |v| {
            let pairs = itf::map(v)?;
            pairs
                .into_iter()
                .map(|(index, by)| Ok((itf::int(index)?, read_ballot(by, n)?)))
                .collect::<itf::Read<Vec<(i64, Ballot)>>>()
        })?;
        s.committed = vars.var("committed", |v| {
            let mut committed = Committed::EMPTY;
            for entry in itf::set(v)? {
                let pair = itf::tup_of(entry, 2)?;
                let index = itf::int(&pair[0])?;
                if !(1..=MAX_COMMITTED_INDEX as i64).contains(&index) {
                    return Err(format!(
                        "committed index {index} is outside 1..{MAX_COMMITTED_INDEX}"
                    ));
                }
                let author = read_author(&pair[1], n)?;
                let least = by
                    .iter()
                    .find(|(i, _)| *i == index)
                    .map(|&(_, b)| b)
                    .ok_or_else(|| format!("committedBy has no index {index}"))?;
                committed = committed.with(index as usize, author, least);
            }
            Ok(committed)
        })?;
        Ok(s)
    }
}

// ---------------------------------------------------------------------------------------------
// Invariants, named as their counterparts in MongoStaticRaft where there is one.
// ---------------------------------------------------------------------------------------------

/// Whether `s` is a prefix of `t`.
pub fn is_prefix(s: &Log, t: &Log) -> bool {
    t.as_slice().starts_with(s.as_slice())
}

/// OnePrimaryPerTerm, in TRaft's terms: no two Primaries hold the same leader id. TRaft's term
/// *is* the leader id `(term, id)`: two leaders may share an integer term (a voter may vote for
/// a greater id in the same term), which is by design, and the README says so.
pub fn one_primary_per_term(s: &State) -> bool {
    let primaries = || s.server_ids().filter(|&i| s.state[i] == Role::Primary);
    primaries().all(|a| primaries().all(|b| a == b || s.voted_for[a] != s.voted_for[b]))
}

/// SameCommitterLogsAgree: two servers with the same committer hold logs one of which is a
/// prefix of the other (both are prefixes of that leader's log). This is what makes the merge
/// well defined: the logs a leader merges never disagree at an index (the original code
/// panics if they do).
pub fn same_committer_logs_agree(s: &State) -> bool {
    s.server_ids().all(|a| {
        (a + 1..s.servers as usize).all(|b| {
            s.committer[a] != s.committer[b]
                || is_prefix(&s.log[a], &s.log[b])
                || is_prefix(&s.log[b], &s.log[a])
        })
    })
}

/// OnlyMaxCommitterLogs, the note's lemma as an invariant: every safe entry (every committed
/// one) is held, in every quorum, by a server whose committer is the greatest in that quorum.
/// So a leader that reads only those servers' logs never misses a safe entry, whichever quorum
/// elects it.
pub fn only_max_committer_logs(s: &State) -> bool {
    s.committed.iter().all(|c| {
        s.all_servers().quorums().all(|q| {
            s.max_committer_replicas(q)
                .iter()
                .any(|v| author_at(&s.log[v], c.index) == Some(c.author))
        })
    })
}

/// LogMatching: two logs with the same author at an index are equal up to that index.
pub fn log_matching(s: &State) -> bool {
    s.server_ids()
        .all(|a| (a + 1..s.servers as usize).all(|b| s.log[a].log_matches(&s.log[b])))
}

/// LeaderCompleteness: a Primary holds every entry committed by a leader id less than its own.
pub fn leader_completeness(s: &State) -> bool {
    s.server_ids()
        .filter(|&i| s.state[i] == Role::Primary)
        .all(|i| {
            s.committed
                .iter()
                .all(|c| c.by >= s.voted_for[i] || author_at(&s.log[i], c.index) == Some(c.author))
        })
}

/// StateMachineSafety: no two different entries are committed at one index.
pub fn state_machine_safety(s: &State) -> bool {
    s.committed.authors.iter().all(|a| a.count_ones() <= 1)
}

/// LeaderAppendOnly, the action property: a server that is Primary with the same leader id
/// before and after a step keeps its log as a prefix of its new log. (A stale Primary that
/// accepts a newer leader's entries steps down in the same step and may lose entries.)
pub fn leader_append_only(pre: &State, next: &State) -> bool {
    pre.server_ids().all(|i| {
        pre.state[i] != Role::Primary
            || next.state[i] != Role::Primary
            || pre.voted_for[i] != next.voted_for[i]
            || is_prefix(&pre.log[i], &next.log[i])
    })
}

/// VotesOnlyGrow, the action property: no server's vote ever goes back to a smaller leader id
/// (the promise a vote makes, TRaft's counterpart of "currentTerm never decreases").
pub fn votes_only_grow(pre: &State, next: &State) -> bool {
    pre.server_ids()
        .all(|i| next.voted_for[i] >= pre.voted_for[i] && next.committer[i] >= pre.committer[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_order_by_term_then_id() {
        assert!(Ballot::new(1, 2) < Ballot::new(2, 0));
        assert!(Ballot::new(1, 0) < Ballot::new(1, 1));
        assert!(Ballot::ZERO < Ballot::new(1, 0));
        assert_eq!((Ballot::new(3, 4).term(), Ballot::new(3, 4).id()), (3, 4));
        assert_eq!(Ballot::new(2, 1).to_string(), "(2, n2)");
    }

    #[test]
    fn committed_records_authors_and_the_least_committer() {
        let (a, b) = (Ballot::new(1, 0), Ballot::new(2, 1));
        let c = Committed::EMPTY.with(2, a, b).with(2, a, a);
        assert!(c.contains(2, a) && !c.contains(2, b) && !c.contains(1, a));
        assert_eq!(
            c.iter().collect::<Vec<_>>(),
            [CommittedEntry {
                index: 2,
                author: a,
                by: a
            }]
        );
        let mut s = State::initial(2);
        s.committed = c.with(2, b, b);
        assert!(!state_machine_safety(&s));
    }
}
