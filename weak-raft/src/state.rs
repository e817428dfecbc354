//! The state of MongoWeakRaft: the protocol variables, the two history variables (`elections`
//! and `committed`), the helper operators on logs, and the invariants of `MongoWeakRaft.tla`.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use spec_core::itf::{self, server_name};
use spec_core::ServerSet;
use std::fmt;

/// The most servers a [`State`] holds (its per-server arrays have this many slots). Symmetry
/// reduction tries all `servers!` permutations, at most 120.
pub const MAX_SERVERS: usize = 5;

/// The largest `MaxTerm` the encoding holds. Elections happen in states inside the constraint,
/// so an election record's term is at most `MaxTerm + 1`, and a committed record's term at most
/// `MaxTerm`.
pub const MAX_TERM: usize = 5;

/// The terms an election record may carry: `1..=MAX_TERM + 1`.
const ELECTION_TERMS: usize = MAX_TERM + 1;

/// The role of a server (shared with every Raft-family layer).
pub use spec_core::Role;

/// Logs, the `committed` history variable and the log operators, shared with MongoStaticRaft.
/// (MongoWeakRaft's logs may grow by one entry past `MaxLogLen`: ClientRequest and the no-op of
/// BecomeLeader append one entry, GetEntries one, and MergeEntries copies an existing log.)
pub use spec_core::raft::{
    in_log, last_term, Committed, CommittedEntry, Log, LOG_CAPACITY, MAX_COMMITTED_INDEX,
    MAX_COMMITTED_TERM,
};

// The committed records' terms are MaxTerm at most.
const _: () = assert!(MAX_TERM == MAX_COMMITTED_TERM as usize);

// ---------------------------------------------------------------------------------------------
// History variable `elections`
// ---------------------------------------------------------------------------------------------

/// One element of `elections`: the record `[leader |-> leader, term |-> term]`, saying that
/// `leader` won an election in `term`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ElectionRecord {
    /// The server elected (0-based).
    pub leader: usize,
    /// The term it was elected in.
    pub term: u8,
}

impl Serialize for ElectionRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut record = serializer.serialize_struct("ElectionRecord", 2)?;
        record.serialize_field("leader", &server_name(self.leader))?;
        record.serialize_field("term", &self.term)?;
        record.end()
    }
}

/// The history variable `elections`: the set of [`ElectionRecord`]s, stored as the set of
/// leaders elected in each term `1..=MAX_TERM + 1` (the unsafe spec may elect several leaders
/// in one term; ElectionSafety says the safe one never does).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Elections {
    leaders: [ServerSet; ELECTION_TERMS],
}

impl Elections {
    /// The empty set.
    pub const EMPTY: Elections = Elections {
        leaders: [ServerSet::EMPTY; ELECTION_TERMS],
    };

    /// Whether no election has happened.
    pub fn is_empty(&self) -> bool {
        self.leaders.iter().all(|l| l.is_empty())
    }
    /// The number of records.
    pub fn len(&self) -> usize {
        self.leaders.iter().map(|l| l.len()).sum()
    }
    /// The set with `[leader |-> leader, term |-> term]` added. Panics on a term outside
    /// `1..=MAX_TERM + 1`: callers validate bounds.
    pub fn with(mut self, leader: usize, term: u8) -> Elections {
        assert!(
            (1..=ELECTION_TERMS).contains(&(term as usize)),
            "election term {term} is outside the encoding's bounds"
        );
        let slot = &mut self.leaders[term as usize - 1];
        *slot = slot.with(leader);
        self
    }
    /// Whether the record is a member.
    pub fn contains(&self, leader: usize, term: u8) -> bool {
        self.leaders_in(term).contains(leader)
    }
    /// The leaders elected in `term`.
    pub fn leaders_in(&self, term: u8) -> ServerSet {
        match term as usize {
            t @ 1..=ELECTION_TERMS => self.leaders[t - 1],
            _ => ServerSet::EMPTY,
        }
    }
    /// The largest term of an election, or 0 if there was none.
    pub fn max_term(&self) -> u8 {
        self.leaders
            .iter()
            .rposition(|l| !l.is_empty())
            .map_or(0, |k| k as u8 + 1)
    }
    /// The records, ordered by term, then leader.
    pub fn iter(&self) -> impl Iterator<Item = ElectionRecord> + '_ {
        self.leaders.iter().enumerate().flat_map(|(k, l)| {
            l.iter().map(move |leader| ElectionRecord {
                leader,
                term: k as u8 + 1,
            })
        })
    }
    /// The set with servers renamed (`perm[s]` is the new name of server `s`).
    pub fn permute(&self, perm: &[u8]) -> Elections {
        let mut out = *self;
        for l in &mut out.leaders {
            *l = l.permute(perm);
        }
        out
    }
}

impl FromIterator<ElectionRecord> for Elections {
    fn from_iter<I: IntoIterator<Item = ElectionRecord>>(iter: I) -> Self {
        iter.into_iter()
            .fold(Elections::EMPTY, |e, r| e.with(r.leader, r.term))
    }
}

impl fmt::Debug for Elections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

spec_core::impl_pack!(Elections { leaders });

impl Serialize for Elections {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        itf::Set(self.iter().collect()).serialize(serializer)
    }
}

// ---------------------------------------------------------------------------------------------
// The state
// ---------------------------------------------------------------------------------------------

/// A state of MongoWeakRaft (and of MongoSafeWeakRaft, which has the same variables).
///
/// `Copy`, under 100 bytes, no heap: a successor is a copy of its parent with a few slots
/// changed. The derived order is an arbitrary total order; symmetry reduction takes the least
/// permuted copy under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct State {
    /// The number of servers, the size of the `Server` constant: the same in every state of a
    /// model, and not a TLA+ variable.
    pub servers: u8,
    /// `currentTerm`: each server's current term.
    pub current_term: [u8; MAX_SERVERS],
    /// `state`: each server's role.
    pub state: [Role; MAX_SERVERS],
    /// `log`: each server's log of entry terms.
    pub log: [Log; MAX_SERVERS],
    /// `config`: each server's config, which any step may change on one server.
    pub config: [ServerSet; MAX_SERVERS],
    /// `elections`: every election so far (a history variable: no action reads it; the weak
    /// quorum condition and the invariants do).
    pub elections: Elections,
    /// `committed`: every entry committed so far, with the term of the primary that committed
    /// it (a history variable: only CommitEntry reads it, to commit an entry once).
    pub committed: Committed,
}

impl State {
    /// The initial state with config `config` on every server: every term 0, every server
    /// Secondary, every log empty, no election and nothing committed.
    pub fn initial(servers: usize, config: ServerSet) -> State {
        assert!(servers <= MAX_SERVERS, "at most {MAX_SERVERS} servers");
        let mut s = State {
            servers: servers as u8,
            current_term: [0; MAX_SERVERS],
            state: [Role::Secondary; MAX_SERVERS],
            log: [Log::new(); MAX_SERVERS],
            config: [ServerSet::EMPTY; MAX_SERVERS],
            elections: Elections::EMPTY,
            committed: Committed::EMPTY,
        };
        s.config[..servers].fill(config);
        s
    }

    /// The servers `0..servers`.
    pub fn server_ids(&self) -> std::ops::Range<usize> {
        0..self.servers as usize
    }

    /// `Server`, as a set.
    pub fn all_servers(&self) -> ServerSet {
        ServerSet::all(self.servers as usize)
    }

    /// The state with servers renamed: server `s` becomes `perm[s]`, in every per-server
    /// function, inside every config and in every election record. `committed` names no
    /// servers and is unchanged.
    pub fn permuted(&self, perm: &[u8]) -> State {
        let mut out = *self;
        for s in self.server_ids() {
            let t = perm[s] as usize;
            out.current_term[t] = self.current_term[s];
            out.state[t] = self.state[s];
            out.log[t] = self.log[s];
            out.config[t] = self.config[s].permute(perm);
        }
        out.elections = self.elections.permute(perm);
        out
    }
}

spec_core::impl_pack!(State {
    servers,
    current_term,
    state,
    log,
    config,
    elections,
    committed
});

impl Serialize for State {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn per_server<T: Copy>(s: &State, f: impl Fn(usize) -> T) -> itf::Map<String, T> {
            itf::Map(s.server_ids().map(|i| (server_name(i), f(i))).collect())
        }
        let mut st = serializer.serialize_struct("State", 6)?;
        st.serialize_field("currentTerm", &per_server(self, |i| self.current_term[i]))?;
        st.serialize_field("state", &per_server(self, |i| self.state[i]))?;
        let logs = itf::Map(
            self.server_ids()
                .map(|i| (server_name(i), self.log[i].as_slice().to_vec()))
                .collect(),
        );
        st.serialize_field("log", &logs)?;
        st.serialize_field("config", &per_server(self, |i| self.config[i]))?;
        st.serialize_field("elections", &self.elections)?;
        st.serialize_field("committed", &self.committed)?;
        st.end()
    }
}

impl State {
    /// Reads a state of a `servers`-server model back from the ITF JSON `Serialize` writes: the
    /// six variables, per-server functions over exactly the model's servers, logs of at most
    /// [`LOG_CAPACITY`] entries, election and commit records the history variables hold.
    pub fn read_itf(value: &itf::Value, servers: usize) -> Result<State, itf::ReadError> {
        let vars = itf::Record::new(value, &Self::VARIABLES)?;
        Self::read_variables(&vars, servers)
    }

    /// The TLA+ variables, in the order `Serialize` writes them.
    pub const VARIABLES: [&'static str; 6] = [
        "currentTerm",
        "state",
        "log",
        "config",
        "elections",
        "committed",
    ];

    /// Reads [`State::VARIABLES`] from a state's record, which may hold more variables (a layer
    /// that adds some to these, such as MongoDynamicRaft's `configLog`, reads them itself).
    pub fn read_variables(vars: &itf::Record, servers: usize) -> Result<State, itf::ReadError> {
        use spec_core::raft::{read_committed, read_configs, read_logs, read_roles, read_terms};
        let n = servers;
        if n > MAX_SERVERS {
            return Err(itf::ReadError::state(format!(
                "{n} servers are more than the {MAX_SERVERS} the encoding holds"
            )));
        }
        let mut s = State::initial(n, ServerSet::EMPTY);
        s.current_term[..n].copy_from_slice(&vars.var("currentTerm", |v| read_terms(v, n))?);
        s.state[..n].copy_from_slice(&vars.var("state", |v| read_roles(v, n))?);
        s.log[..n].copy_from_slice(&vars.var("log", |v| read_logs(v, n))?);
        s.config[..n].copy_from_slice(&vars.var("config", |v| read_configs(v, n))?);
        s.elections = vars.var("elections", |v| {
            let records = itf::each(itf::set(v)?, |record| {
                let fields = itf::record(record, &["leader", "term"])?;
                let leader = itf::server(fields[0])?;
                let term = itf::int(fields[1])?;
                if leader >= n {
                    Err(format!(
                        "{} is not a server of this {n}-server model",
                        server_name(leader)
                    ))
                } else if !(1..=ELECTION_TERMS as i64).contains(&term) {
                    Err(format!(
                        "term {term} is outside the terms 1..{ELECTION_TERMS} the encoding holds"
                    ))
                } else {
                    Ok(ElectionRecord {
                        leader,
                        term: term as u8,
                    })
                }
            })?;
            Ok(records.into_iter().collect())
        })?;
        s.committed = vars.var("committed", read_committed)?;
        Ok(s)
    }
}

/// Reads what `Serialize` writes, the number of servers taken from `currentTerm`
/// ([`State::read_itf`]; `Spec::read_state` checks it against a model's).
impl<'de> serde::Deserialize<'de> for State {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<State, D::Error> {
        itf::deserialize_with(deserializer, |v| {
            State::read_itf(v, itf::servers_of(v, "currentTerm")?)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Helper operators of the spec, on logs.
// ---------------------------------------------------------------------------------------------

/// `GetTerm(xlog, index)`: the term at `index`, or 0 for index 0. Only called with an index
/// inside the log or 0.
pub fn get_term(log: &Log, index: usize) -> u8 {
    if index == 0 {
        0
    } else {
        log.at(index).expect("GetTerm: index inside the log")
    }
}

/// `NewerLog(i, j)`: whether log `a` is newer than log `b` by its last entry: `b` is empty and
/// `a` is not, or both are nonempty and `a`'s last `<<index, term>>` is newer (`NewerIndTerm`: a
/// higher term, or the same term and a higher index).
pub fn newer_log(a: &Log, b: &Log) -> bool {
    match (a.last(), b.last()) {
        (Some(_), None) => true,
        (Some(ta), Some(tb)) => (ta == tb && a.len() > b.len()) || ta > tb,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Invariants of MongoWeakRaft, named as in the spec.
// ---------------------------------------------------------------------------------------------

/// ElectionSafety: at most one leader was ever elected in each term.
pub fn election_safety(s: &State) -> bool {
    (1..=ELECTION_TERMS as u8).all(|t| s.elections.leaders_in(t).len() <= 1)
}

/// LogMatching: if two logs hold the same term at an index, they are equal up to that index
/// (an `<<index, term>>` pair identifies a whole log prefix).
pub fn log_matching(s: &State) -> bool {
    s.server_ids()
        .all(|a| (a + 1..s.servers as usize).all(|b| s.log[a].log_matches(&s.log[b])))
}

/// LeaderCompleteness: a primary holds every entry committed in a term strictly before its own.
pub fn leader_completeness(s: &State) -> bool {
    s.server_ids()
        .filter(|&i| s.state[i] == Role::Primary)
        .all(|i| {
            s.committed
                .iter()
                .all(|c| c.term >= s.current_term[i] || in_log(c.index, c.entry_term, &s.log[i]))
        })
}

/// StateMachineSafety: two committed records at the same index are the same record.
pub fn state_machine_safety(s: &State) -> bool {
    let records: Vec<CommittedEntry> = s.committed.iter().collect();
    records
        .iter()
        .enumerate()
        .all(|(k, a)| records[k + 1..].iter().all(|b| a.index != b.index))
}

/// ElectionDisablesOldTerms: once an election happened in term `T`, every primary of a term
/// below `T` is deactivated: each quorum of its config holds a server of a newer term than the
/// primary's, so it can never commit again.
pub fn election_disables_old_terms(s: &State) -> bool {
    let newest = s.elections.max_term();
    s.server_ids()
        .filter(|&p| s.state[p] == Role::Primary && s.current_term[p] < newest)
        .all(|p| {
            s.config[p]
                .quorums()
                .all(|q| q.iter().any(|v| s.current_term[v] > s.current_term[p]))
        })
}

/// The set of all log entries `<<index, term>>` held by some server (`LogEntriesAll`), without
/// repetition, ordered by index then term.
pub fn log_entries_all(s: &State) -> Vec<(u8, u8)> {
    let mut entries: Vec<(u8, u8)> = s
        .server_ids()
        .flat_map(|i| {
            s.log[i]
                .as_slice()
                .iter()
                .enumerate()
                .map(|(k, &t)| (k as u8 + 1, t))
        })
        .collect();
    entries.sort_unstable();
    entries.dedup();
    entries
}

/// `IsFutureCommitted(e)`: every server that is electable now (`Electable(s, Q)` for some
/// quorum `Q` of its config) holds the entry `<<index, term>>`.
pub fn is_future_committed(s: &State, (index, term): (u8, u8)) -> bool {
    s.server_ids()
        .filter(|&i| {
            s.config[i]
                .quorums()
                .any(|q| crate::actions::become_leader_enabled(s, i, q))
        })
        .all(|i| in_log(index, term, &s.log[i]))
}

/// FutureCommittedImpliesImmediatelyCommitted: every log entry that every electable server
/// holds has been committed. (Defined by the spec, not expected to hold: an entry can reach every
/// electable server before its primary commits it.)
pub fn future_committed_implies_immediately_committed(s: &State) -> bool {
    log_entries_all(s)
        .into_iter()
        .all(|e| !is_future_committed(s, e) || s.committed.contains_entry(e.0, e.1))
}

/// ImmediatelyCommittedImpliesFutureCommitted: every committed entry that some server holds is
/// held by every electable server.
pub fn immediately_committed_implies_future_committed(s: &State) -> bool {
    log_entries_all(s)
        .into_iter()
        .all(|e| !s.committed.contains_entry(e.0, e.1) || is_future_committed(s, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elections_record_leaders_per_term() {
        let e = Elections::EMPTY.with(0, 1).with(2, 1).with(1, 6);
        assert_eq!(e.len(), 3);
        assert_eq!(e.max_term(), 6);
        assert_eq!(e.leaders_in(1), ServerSet(0b101));
        assert_eq!(
            e.iter().map(|r| (r.leader, r.term)).collect::<Vec<_>>(),
            vec![(0, 1), (2, 1), (1, 6)]
        );
        assert_eq!(e.permute(&[1, 2, 0]).leaders_in(1), ServerSet(0b011));
        assert_eq!(Elections::EMPTY.max_term(), 0);
    }

    #[test]
    fn newer_log_compares_last_entries() {
        let l = |x: &[u8]| Log::from_slice(x);
        assert!(newer_log(&l(&[1]), &l(&[])));
        assert!(!newer_log(&l(&[]), &l(&[])));
        assert!(newer_log(&l(&[1, 1]), &l(&[1])));
        assert!(newer_log(&l(&[2]), &l(&[1, 1])));
        assert!(!newer_log(&l(&[1]), &l(&[1])));
        assert!(!newer_log(&l(&[1, 1]), &l(&[2])));
    }

    #[test]
    fn permuting_renames_servers_configs_and_leaders() {
        let mut s = State::initial(3, ServerSet(0b011));
        s.current_term[0] = 2;
        s.log[0].push(1);
        s.elections = s.elections.with(0, 2);
        let p = s.permuted(&[2, 0, 1]);
        assert_eq!(p.current_term[..3], [0, 0, 2]);
        assert_eq!(p.log[2].as_slice(), &[1]);
        assert_eq!(p.config[0], ServerSet(0b101));
        assert!(p.elections.contains(2, 2));
    }
}
