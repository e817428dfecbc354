//! Types shared by the Raft-family layers (MongoStaticRaft, MongoWeakRaft and the layers built
//! on them): logs of entry terms, the `committed` history variable, and the spec operators on
//! logs that every one of them uses. Each layer re-exports what it uses, so its state reads as
//! its own spec.

use crate::Seq;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use std::fmt;

/// The longest log a layer's state holds. A state inside the `MaxLogLen` constraint has logs of
/// at most `MaxLogLen` entries, and its successors at most one more, so `MaxLogLen` can be at
/// most `LOG_CAPACITY - 1`.
pub const LOG_CAPACITY: usize = 6;

/// The largest term a committed record may carry, and the largest index it may name: the
/// [`Committed`] bitmask has one bit per (index, entry term, commit term) triple in
/// `1..=MAX_COMMITTED_INDEX × 1..=MAX_COMMITTED_TERM × 1..=MAX_COMMITTED_TERM` (125 of 128
/// bits). Commits happen only in states inside the constraint, so `MaxTerm` and `MaxLogLen` are
/// at most these values.
pub const MAX_COMMITTED_TERM: u8 = 5;
/// See [`MAX_COMMITTED_TERM`].
pub const MAX_COMMITTED_INDEX: u8 = (LOG_CAPACITY - 1) as u8;

/// A log: the term of each entry, in order (the Mongo specs' logs hold terms only; an entry is
/// identified by its `<<index, term>>` pair).
pub type Log = Seq<LOG_CAPACITY>;

/// `OnePrimaryPerTerm`: no two distinct servers are Primary in the same term, given each
/// server's `(state, currentTerm)`. Every term a `u8` holds is told apart.
///
/// ```
/// use spec_core::{raft::one_primary_per_term, Role};
/// assert!(one_primary_per_term([(Role::Primary, 1), (Role::Primary, 65), (Role::Secondary, 1)]));
/// assert!(!one_primary_per_term([(Role::Primary, 2), (Role::Secondary, 3), (Role::Primary, 2)]));
/// ```
#[inline]
pub fn one_primary_per_term(servers: impl IntoIterator<Item = (crate::Role, u8)>) -> bool {
    let mut seen = [0u64; 4];
    for (role, term) in servers {
        if role == crate::Role::Primary {
            let (word, bit) = (term as usize >> 6, 1u64 << (term & 63));
            if seen[word] & bit != 0 {
                return false;
            }
            seen[word] |= bit;
        }
    }
    true
}

/// `LastTerm(xlog)`: the term of the last entry, or 0 for an empty log.
pub fn last_term(log: &Log) -> u8 {
    log.last().unwrap_or(0)
}

/// `InLog(<<index, term>>, i)`: whether the log has an entry of `term` at `index`.
pub fn in_log(index: u8, term: u8, log: &Log) -> bool {
    log.at(index as usize) == Some(term)
}

// ---------------------------------------------------------------------------------------------
// History variable `committed`
// ---------------------------------------------------------------------------------------------

/// One element of `committed`: the record `[entry |-> <<index, entry_term>>, term |-> term]`,
/// saying that the log entry `<<index, entry_term>>` was committed by a primary of `term`.
///
/// The specs' CommitEntry always records `entry_term = term` (a primary commits only an entry of
/// its own term), but the record keeps both fields, as the specs do, so that a lower level's
/// records map onto an upper level's one for one, and so that a weakened variant that commits an
/// older term's entry can be expressed.
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
        record.serialize_field("entry", &crate::itf::Tup(vec![self.index, self.entry_term]))?;
        record.serialize_field("term", &self.term)?;
        record.end()
    }
}

/// The history variable `committed`: a set of [`CommittedEntry`] records, as a bitmask (one bit
/// per possible record), so that set equality is integer equality and the set is unchanged by
/// server permutations.
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
    /// Whether some record names the log entry `<<index, entry_term>>`, whatever its commit term
    /// (`\E c \in committed : c.entry = <<index, entry_term>>`).
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

impl FromIterator<CommittedEntry> for Committed {
    fn from_iter<I: IntoIterator<Item = CommittedEntry>>(iter: I) -> Self {
        iter.into_iter().fold(Committed::EMPTY, Committed::with)
    }
}

impl fmt::Debug for Committed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

crate::impl_pack!(Committed(u128));

impl Serialize for Committed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::itf::Set(self.iter().collect()).serialize(serializer)
    }
}

/// Reads a log of entry terms, an ITF sequence of integers, of at most [`LOG_CAPACITY`]
/// entries.
pub fn read_log(v: &crate::itf::Value) -> crate::itf::Read<Log> {
    let terms = crate::itf::each(crate::itf::seq(v)?, |t| crate::itf::small(t, u8::MAX))?;
    if terms.len() > LOG_CAPACITY {
        return Err(format!(
            "a log of {} entries is longer than the {LOG_CAPACITY} the encoding holds",
            terms.len()
        ));
    }
    Ok(Log::from_slice(&terms))
}

/// Reads `committed`, a set of records `[entry |-> <<index, term>>, term |-> t]` whose indices
/// and terms the [`Committed`] bitmask holds.
pub fn read_committed(v: &crate::itf::Value) -> crate::itf::Read<Committed> {
    use crate::itf;
    let records = itf::each(itf::set(v)?, |record| {
        let fields = itf::record(record, &["entry", "term"])?;
        let entry = itf::tup_of(fields[0], 2)?;
        let c = CommittedEntry {
            index: itf::small(&entry[0], u8::MAX)?,
            entry_term: itf::small(&entry[1], u8::MAX)?,
            term: itf::small(fields[1], u8::MAX)?,
        };
        if committable(c.index, c.entry_term, c.term) {
            Ok(c)
        } else {
            Err(format!(
                "the record of entry <<{}, {}>> in term {} is outside what the encoding holds \
                 (indices 1..{MAX_COMMITTED_INDEX}, terms 1..{MAX_COMMITTED_TERM})",
                c.index, c.entry_term, c.term
            ))
        }
    })?;
    Ok(records.into_iter().collect())
}

/// Reads a function from the `servers` servers to terms (`currentTerm`, `configTerm`, ...).
pub fn read_terms(v: &crate::itf::Value, servers: usize) -> crate::itf::Read<Vec<u8>> {
    use crate::itf;
    itf::each_server(&itf::per_server(v, Some(servers))?, |t| {
        itf::small(t, u8::MAX - 1)
    })
}

/// Reads the `state` variable: a function from the `servers` servers to roles.
pub fn read_roles(v: &crate::itf::Value, servers: usize) -> crate::itf::Read<Vec<crate::Role>> {
    use crate::itf;
    itf::each_server(&itf::per_server(v, Some(servers))?, crate::Role::read)
}

/// Reads the `log` variable: a function from the `servers` servers to logs ([`read_log`]).
pub fn read_logs(v: &crate::itf::Value, servers: usize) -> crate::itf::Read<Vec<Log>> {
    use crate::itf;
    itf::each_server(&itf::per_server(v, Some(servers))?, read_log)
}

/// Reads the `config` variable: a function from the `servers` servers to sets of them.
pub fn read_configs(
    v: &crate::itf::Value,
    servers: usize,
) -> crate::itf::Read<Vec<crate::ServerSet>> {
    use crate::itf;
    itf::each_server(&itf::per_server(v, Some(servers))?, |c| {
        itf::server_set(c, servers)
    })
}

/// Whether the record `CommitEntry` would add fits the [`Committed`] bitmask: what a checked
/// step asks before it commits (a state outside the model's bounds may hold a longer log or a
/// larger term).
pub fn committable(index: u8, entry_term: u8, term: u8) -> bool {
    (1..=MAX_COMMITTED_INDEX).contains(&index)
        && (1..=MAX_COMMITTED_TERM).contains(&entry_term)
        && (1..=MAX_COMMITTED_TERM).contains(&term)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_bits_round_trip() {
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
        let c: Committed = records.into_iter().collect();
        assert_eq!(c.iter().collect::<Vec<_>>(), records);
        assert!(c.contains_entry(2, 3));
        assert!(!c.contains_entry(2, 4));
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn log_operators() {
        let log = Log::from_slice(&[1, 1, 3]);
        assert_eq!(last_term(&log), 3);
        assert_eq!(last_term(&Log::new()), 0);
        assert!(in_log(2, 1, &log) && !in_log(2, 3, &log) && !in_log(4, 3, &log));
    }
}
