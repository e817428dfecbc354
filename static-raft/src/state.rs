//! The state of MongoStaticRaft and its invariants.
//!
//! The five variables of the TLA+ module are the five public fields of [`State`] (plus the
//! number of servers, a constant). Per-server functions are fixed-capacity arrays indexed by
//! server `0..servers`; slots past `servers` stay zeroed so the derived `Eq`, `Hash` and `Ord`
//! only see the model's servers.
//!
//! The action functions in [`crate::actions`] do not read [`State`] directly: they read and write
//! through the [`OplogVars`] and [`OplogVarsMut`] traits, so that a composition whose state holds
//! more variables (MongoRaftReconfig adds `configVersion` and `configTerm`) can run the same
//! actions on its own state type.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use spec_core::itf::{self, server_name};
use spec_core::{Seq, ServerSet};
use std::fmt;

/// The most servers a [`State`] holds (its per-server arrays have this many slots). Symmetry
/// reduction tries all `servers!` permutations, at most 120.
pub const MAX_SERVERS: usize = 5;

/// The longest log a [`State`] holds. A state inside the `MaxLogLen` constraint has logs of at
/// most `MaxLogLen` entries, and its successors at most one more, so `MaxLogLen` can be at most
/// `LOG_CAPACITY - 1`.
pub const LOG_CAPACITY: usize = 6;

/// The largest term a committed record may carry, and the largest index it may name: the
/// [`Committed`] bitmask has one bit per (index, entry term, commit term) triple in
/// `1..=MAX_COMMITTED_INDEX × 1..=MAX_COMMITTED_TERM × 1..=MAX_COMMITTED_TERM` (125 of 128 bits).
/// Commits happen only in states inside the constraint, so `MaxTerm` and `MaxLogLen` are at
/// most these values.
pub const MAX_COMMITTED_TERM: u8 = 5;
/// See [`MAX_COMMITTED_TERM`].
pub const MAX_COMMITTED_INDEX: u8 = 5;

/// A log: the term of each entry, in order (MongoStaticRaft's logs hold terms only; an entry is
/// identified by its `<<index, term>>` pair).
pub type Log = Seq<LOG_CAPACITY>;

/// The role of a server (shared with every Raft-family layer).
pub use spec_core::Role;

/// One element of `committed`: the record `[entry |-> <<index, entry_term>>, term |-> term]`,
/// saying that the log entry `<<index, entry_term>>` was committed by a primary of `term`.
///
/// In MongoStaticRaft `entry_term = term` always (a primary only commits an entry of its own
/// term), but the record keeps both, as the spec does, so that weakened variants (see
/// [`crate::Mutation::CommitOlderTermEntry`]) can be expressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommittedEntry {
    /// The entry's index, `entry[1]`.
    pub index: u8,
    /// The entry's term, `entry[2]`.
    pub entry_term: u8,
    /// The term of the primary that committed it, `term`.
    pub term: u8,
}

impl CommittedEntry {
    fn bit(self) -> u32 {
        assert!(
            (1..=MAX_COMMITTED_INDEX).contains(&self.index)
                && (1..=MAX_COMMITTED_TERM).contains(&self.entry_term)
                && (1..=MAX_COMMITTED_TERM).contains(&self.term),
            "committed record {self:?} is outside the encoding's bounds"
        );
        let terms = MAX_COMMITTED_TERM as u32;
        ((self.index as u32 - 1) * terms + (self.entry_term as u32 - 1)) * terms
            + (self.term as u32 - 1)
    }

    fn from_bit(bit: u32) -> CommittedEntry {
        let terms = MAX_COMMITTED_TERM as u32;
        CommittedEntry {
            index: (bit / (terms * terms) + 1) as u8,
            entry_term: (bit / terms % terms + 1) as u8,
            term: (bit % terms + 1) as u8,
        }
    }
}

impl Serialize for CommittedEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut record = serializer.serialize_struct("CommittedEntry", 2)?;
        record.serialize_field("entry", &itf::Tup(vec![self.index, self.entry_term]))?;
        record.serialize_field("term", &self.term)?;
        record.end()
    }
}

/// The `committed` variable: a set of [`CommittedEntry`] records, as a bitmask (one bit per
/// possible record), so that set equality is integer equality and the set is unchanged by server
/// permutations.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Committed(pub u128);

impl Committed {
    /// The empty set.
    pub const EMPTY: Committed = Committed(0);

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The number of records.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }
    /// Whether `c` is a member.
    pub fn contains(self, c: CommittedEntry) -> bool {
        self.0 & (1 << c.bit()) != 0
    }
    /// The set with `c` added.
    pub fn with(self, c: CommittedEntry) -> Committed {
        Committed(self.0 | (1 << c.bit()))
    }
    /// Whether some record names the log entry `<<index, entry_term>>`, whatever its commit term.
    pub fn contains_entry(self, index: u8, entry_term: u8) -> bool {
        self.iter()
            .any(|c| c.index == index && c.entry_term == entry_term)
    }
    /// The records, ordered by index, then entry term, then commit term.
    pub fn iter(self) -> impl Iterator<Item = CommittedEntry> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let bit = bits.trailing_zeros();
                bits &= bits - 1;
                CommittedEntry::from_bit(bit)
            })
        })
    }
}

impl fmt::Debug for Committed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

spec_core::impl_pack!(Committed(u128));

impl Serialize for Committed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        itf::Set(self.iter().collect()).serialize(serializer)
    }
}

/// A state of MongoStaticRaft.
///
/// `Copy`, about 70 bytes, no heap: a successor is a copy of its parent with a few slots changed.
/// The derived order is an arbitrary total order; symmetry reduction takes the least permuted
/// copy under it.
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
    /// `config`: each server's config (constant in this spec, the same on every server).
    pub config: [ServerSet; MAX_SERVERS],
    /// `committed`: the entries committed so far, with the term of the primary that committed
    /// them (a history variable: no action reads it except CommitEntry, to commit once).
    pub committed: Committed,
}

impl State {
    /// The initial state with config `config` on every server: every term 0, every server
    /// Secondary, every log empty, nothing committed.
    pub fn initial(servers: usize, config: ServerSet) -> State {
        assert!(servers <= MAX_SERVERS, "at most {MAX_SERVERS} servers");
        let mut s = State {
            servers: servers as u8,
            current_term: [0; MAX_SERVERS],
            state: [Role::Secondary; MAX_SERVERS],
            log: [Log::new(); MAX_SERVERS],
            config: [ServerSet::EMPTY; MAX_SERVERS],
            committed: Committed::EMPTY,
        };
        s.config[..servers].fill(config);
        s
    }

    /// The servers `0..servers`.
    pub fn server_ids(&self) -> std::ops::Range<usize> {
        0..self.servers as usize
    }

    /// The state with servers renamed: server `s` becomes `perm[s]`, in every per-server
    /// function and inside every config. `committed` names no servers and is unchanged.
    pub fn permuted(&self, perm: &[u8]) -> State {
        let mut out = *self;
        for s in self.server_ids() {
            let t = perm[s] as usize;
            out.current_term[t] = self.current_term[s];
            out.state[t] = self.state[s];
            out.log[t] = self.log[s];
            out.config[t] = self.config[s].permute(perm);
        }
        out
    }
}

spec_core::impl_pack!(State {
    servers,
    current_term,
    state,
    log,
    config,
    committed
});

impl Serialize for State {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn per_server<T: Copy>(s: &State, f: impl Fn(usize) -> T) -> itf::Map<String, T> {
            itf::Map(s.server_ids().map(|i| (server_name(i), f(i))).collect())
        }
        let mut st = serializer.serialize_struct("State", 5)?;
        st.serialize_field("currentTerm", &per_server(self, |i| self.current_term[i]))?;
        st.serialize_field("state", &per_server(self, |i| self.state[i]))?;
        let logs = itf::Map(
            self.server_ids()
                .map(|i| (server_name(i), self.log[i].as_slice().to_vec()))
                .collect(),
        );
        st.serialize_field("log", &logs)?;
        st.serialize_field("config", &per_server(self, |i| self.config[i]))?;
        st.serialize_field("committed", &self.committed)?;
        st.end()
    }
}

/// Read access to the variables MongoStaticRaft's actions read: `currentTerm`, `state`, `log`,
/// `config` and `committed`. [`State`] implements it; so can any state that composes this spec
/// with others (see the crate docs).
pub trait OplogVars {
    /// `currentTerm[s]`.
    fn current_term(&self, s: usize) -> u8;
    /// `state[s]`.
    fn role(&self, s: usize) -> Role;
    /// `log[s]`.
    fn log(&self, s: usize) -> &Log;
    /// `config[s]`.
    fn config(&self, s: usize) -> ServerSet;
    /// `committed`.
    fn committed(&self) -> Committed;
}

/// Write access to the variables MongoStaticRaft's actions change (`config` is never written).
pub trait OplogVarsMut: OplogVars {
    /// Sets `currentTerm[s]`.
    fn set_current_term(&mut self, s: usize, term: u8);
    /// Sets `state[s]`.
    fn set_role(&mut self, s: usize, role: Role);
    /// `log[s]`, to change.
    fn log_mut(&mut self, s: usize) -> &mut Log;
    /// Sets `committed`.
    fn set_committed(&mut self, committed: Committed);
}

impl OplogVars for State {
    fn current_term(&self, s: usize) -> u8 {
        self.current_term[s]
    }
    fn role(&self, s: usize) -> Role {
        self.state[s]
    }
    fn log(&self, s: usize) -> &Log {
        &self.log[s]
    }
    fn config(&self, s: usize) -> ServerSet {
        self.config[s]
    }
    fn committed(&self) -> Committed {
        self.committed
    }
}

impl OplogVarsMut for State {
    fn set_current_term(&mut self, s: usize, term: u8) {
        self.current_term[s] = term;
    }
    fn set_role(&mut self, s: usize, role: Role) {
        self.state[s] = role;
    }
    fn log_mut(&mut self, s: usize) -> &mut Log {
        &mut self.log[s]
    }
    fn set_committed(&mut self, committed: Committed) {
        self.committed = committed;
    }
}

// ---------------------------------------------------------------------------------------------
// Helper operators of the spec, on logs.
// ---------------------------------------------------------------------------------------------

/// `LastTerm(xlog)`: the term of the last entry, or 0 for an empty log.
pub fn last_term(log: &Log) -> u8 {
    log.last().unwrap_or(0)
}

/// `InLog(<<index, term>>, i)`: whether the log has an entry of `term` at `index`.
pub fn in_log(index: u8, term: u8, log: &Log) -> bool {
    log.at(index as usize) == Some(term)
}

/// `IsPrefix(s, t)`: whether `s` is a prefix of `t`.
pub fn is_prefix(s: &Log, t: &Log) -> bool {
    t.as_slice().starts_with(s.as_slice())
}

// ---------------------------------------------------------------------------------------------
// Invariants and the action property, named as in the spec.
// ---------------------------------------------------------------------------------------------

/// OnePrimaryPerTerm: no two servers are Primary in the same term.
pub fn one_primary_per_term(s: &State) -> bool {
    let primary = |i: usize| s.state[i] == Role::Primary;
    s.server_ids().filter(|&a| primary(a)).all(|a| {
        (a + 1..s.servers as usize).all(|b| !primary(b) || s.current_term[a] != s.current_term[b])
    })
}

/// LogMatching: if two logs hold the same term at an index, they are equal up to that index
/// (an `<<index, term>>` pair identifies a whole log prefix).
pub fn log_matching(s: &State) -> bool {
    s.server_ids()
        .all(|a| (a + 1..s.servers as usize).all(|b| s.log[a].log_matches(&s.log[b])))
}

/// LeaderCompleteness: a primary holds every entry committed in a term before its own (strictly
/// earlier, as in MongoStaticRaft; MongoRaftReconfig's version uses `<=`).
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
    // Records are distinct, so two records at one index differ: count indexes seen.
    let mut indexes = 0u64;
    s.committed.iter().all(|c| {
        let bit = 1u64 << (c.index % 64);
        let fresh = indexes & bit == 0;
        indexes |= bit;
        fresh
    })
}

/// LeaderAppendOnly, the action property `[][...]_vars`: a step never shortens the log of a
/// server that was Primary before it.
pub fn leader_append_only(pre: &State, next: &State) -> bool {
    pre.server_ids()
        .all(|i| pre.state[i] != Role::Primary || next.log[i].len() >= pre.log[i].len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_bits_round_trip() {
        let mut c = Committed::EMPTY;
        let records = [
            CommittedEntry {
                index: 1,
                entry_term: 1,
                term: 1,
            },
            CommittedEntry {
                index: 2,
                entry_term: 3,
                term: 4,
            },
            CommittedEntry {
                index: 5,
                entry_term: 5,
                term: 5,
            },
        ];
        for r in records {
            c = c.with(r);
        }
        assert_eq!(c.iter().collect::<Vec<_>>(), records);
        assert!(c.contains_entry(2, 3));
        assert!(!c.contains_entry(2, 4));
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn permuting_renames_servers_and_configs() {
        let mut s = State::initial(3, ServerSet(0b011));
        s.current_term[0] = 2;
        s.log[0].push(1);
        let p = s.permuted(&[2, 0, 1]);
        assert_eq!(p.current_term[..3], [0, 0, 2]);
        assert_eq!(p.log[2].as_slice(), &[1]);
        assert_eq!(p.config[0], ServerSet(0b101));
    }
}
