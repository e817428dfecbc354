//! The state: MongoRaftReconfig's variables, `votedFor`, and the history variables the guards
//! read.

use raft_reconfig::{Role, ServerSet};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use spec_core::itf::{server_name, Map};
use spec_core::raft::{last_term, Log};
use spec_core::Pack;

/// The most servers a state holds.
pub const MAX_SERVERS: usize = raft_reconfig::MAX_SERVERS;
/// Terms the history holds: `0..TERMS` (`MaxTerm <= 5`, successors reach 6).
pub const TERMS: usize = 7;
/// Config versions the history holds: `0..VERSIONS` (`MaxConfigVersion <= 6`).
pub const VERSIONS: usize = 8;
/// Log indexes the history holds: `1..INDEXES` (`MaxLogLen <= 4`, successors reach 5).
pub const INDEXES: usize = 7;

/// The history variables: facts that were true of some server at some time. Each is the union,
/// over every state of the behaviour so far, of a projection of that state
/// ([`History::record`]), so any level whose states map to this one's variables computes the
/// same history by recording its own mapped states. A fact, once true, is what a message
/// carrying it would tell its receiver at any later time: the guards read these instead of the
/// other servers' current variables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct History {
    /// `stood[t][i]`: `i` voted for itself in term `t`, and its log and config were then (last
    /// index, last term, config term, config version), packed as `1 << 20 | index << 16 | term
    /// << 12 | config term << 8 | version`; 0 if it never stood in `t`. What its vote requests
    /// carry.
    pub stood: [[u32; MAX_SERVERS]; TERMS],
    /// `voted[t][j]`: the server `j` voted for in term `t`, plus one; 0 if none. What a granted
    /// vote tells its candidate.
    pub voted: [[u8; MAX_SERVERS]; TERMS],
    /// `held[t][j]`: bit `k` set if `j` held an entry of term `t` at index `k` while in term
    /// `t`. What a position report tells a primary of term `t`.
    pub held: [[u8; MAX_SERVERS]; TERMS],
    /// `acked[t][j]`: bit `v` set if `j` held the config of version `v` and config term `t`
    /// while in term `t`. What a heartbeat reply tells a primary of term `t`.
    pub acked: [[u8; MAX_SERVERS]; TERMS],
    /// `entries[k][e]`: some log held an entry of term `e` at index `k`, preceded by an entry
    /// of term `entries[k][e] - 1` (0 before index 1); 0 if no log did. Every log ever held is
    /// a chain of these (logs match: the first predecessor recorded is the only one).
    pub entries: [[u8; TERMS]; INDEXES],
    /// `configs[t][v]`: the config some server held at config term `t` and version `v`, as a
    /// bitmask; 0 if none. What a heartbeat carries.
    pub configs: [[u8; VERSIONS]; TERMS],
}

/// The history's encoding is compact: most of its cells are empty (a behaviour within the
/// bounds touches a few terms, indexes and versions), so each table is written as the set of its
/// nonempty cells (a bitmask, as a variable-length number: low cells are the likely ones) and
/// then their values. A candidacy takes three bytes. About 60 bytes instead of 350, for every
/// state a search stores, queues and fingerprints.
impl Pack for History {
    const MAX_PACKED: usize =
        6 * MAX_VARINT + TERMS * MAX_SERVERS * (3 + 1 + 1 + 1) + INDEXES * TERMS + TERMS * VERSIONS;

    fn pack_into(&self, out: &mut [u8]) -> usize {
        let mut len = pack_cells(self.stood.as_flattened(), out, 3);
        for table in [&self.voted, &self.held, &self.acked] {
            len += pack_cells(table.as_flattened(), &mut out[len..], 1);
        }
        len += pack_cells(self.entries.as_flattened(), &mut out[len..], 1);
        len += pack_cells(self.configs.as_flattened(), &mut out[len..], 1);
        len
    }

    fn unpack(input: &mut &[u8]) -> Option<Self> {
        let mut h = History::default();
        unpack_cells(input, h.stood.as_flattened_mut(), 3)?;
        unpack_cells(input, h.voted.as_flattened_mut(), 1)?;
        unpack_cells(input, h.held.as_flattened_mut(), 1)?;
        unpack_cells(input, h.acked.as_flattened_mut(), 1)?;
        unpack_cells(input, h.entries.as_flattened_mut(), 1)?;
        unpack_cells(input, h.configs.as_flattened_mut(), 1)?;
        Some(h)
    }
}

/// The most bytes a 64-bit mask takes as a variable-length number (7 bits a byte).
const MAX_VARINT: usize = 10;

/// Writes which of `cells` (at most 64) are nonzero, then each nonzero one in `width` bytes
/// (little-endian); returns the length.
fn pack_cells<T: Copy + Into<u32>>(cells: &[T], out: &mut [u8], width: usize) -> usize {
    debug_assert!(cells.len() <= 64);
    let mut mask = 0u64;
    for (k, &c) in cells.iter().enumerate() {
        if c.into() != 0 {
            mask |= 1 << k;
        }
    }
    let mut len = 0;
    let mut rest = mask;
    loop {
        let byte = (rest & 0x7f) as u8;
        rest >>= 7;
        out[len] = byte | if rest != 0 { 0x80 } else { 0 };
        len += 1;
        if rest == 0 {
            break;
        }
    }
    while mask != 0 {
        let value: u32 = cells[mask.trailing_zeros() as usize].into();
        debug_assert!(width == 4 || value >> (8 * width) == 0);
        out[len..len + width].copy_from_slice(&value.to_le_bytes()[..width]);
        len += width;
        mask &= mask - 1;
    }
    len
}

/// The inverse of [`pack_cells`]; `None` on bytes it never writes (a mask naming cells past
/// the table, a value of 0 for a nonempty cell, a value too large for the cell).
fn unpack_cells<T: Copy + TryFrom<u32>>(
    input: &mut &[u8],
    cells: &mut [T],
    width: usize,
) -> Option<()> {
    let mut mask = 0u64;
    let mut shift = 0;
    loop {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        if shift >= 64 || (shift == 63 && byte > 1) {
            return None;
        }
        mask |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            // A final zero byte after others is not what `pack_cells` writes.
            if byte == 0 && shift > 7 {
                return None;
            }
            break;
        }
    }
    if cells.len() < 64 && mask >> cells.len() != 0 {
        return None;
    }
    while mask != 0 {
        if input.len() < width {
            return None;
        }
        let mut bytes = [0u8; 4];
        bytes[..width].copy_from_slice(&input[..width]);
        *input = &input[width..];
        let value = u32::from_le_bytes(bytes);
        if value == 0 {
            return None;
        }
        cells[mask.trailing_zeros() as usize] = T::try_from(value).ok()?;
        mask &= mask - 1;
    }
    Some(())
}

/// One state: MongoRaftReconfig's seven variables (`core`), `votedFor`, and the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// `currentTerm`, `state`, `config`, `configVersion`, `configTerm`, `log`, `committed`, as
    /// raft-reconfig holds them.
    pub core: raft_reconfig::State,
    /// `votedFor`: the server each voted for in its current term, plus one; 0 if none.
    pub voted_for: [u8; MAX_SERVERS],
    /// The history variables.
    pub history: History,
}

spec_core::impl_pack!(State {
    core,
    voted_for,
    history
});

/// `stood`'s packing of a candidate's log and config.
pub fn pack_candidacy(last_index: u8, last_term: u8, config_term: u8, version: u8) -> u32 {
    1 << 20
        | (last_index as u32) << 16
        | (last_term as u32) << 12
        | (config_term as u32) << 8
        | version as u32
}

/// The inverse of [`pack_candidacy`]: (last index, last term, config term, version).
pub fn unpack_candidacy(packed: u32) -> Option<(u8, u8, u8, u8)> {
    (packed != 0).then_some((
        (packed >> 16 & 0xf) as u8,
        (packed >> 12 & 0xf) as u8,
        (packed >> 8 & 0xf) as u8,
        (packed & 0xff) as u8,
    ))
}

impl History {
    /// Adds the facts `core` and `voted_for` make true now. Facts already recorded keep their
    /// first value (a candidacy is recorded when it starts).
    pub fn record(&mut self, core: &raft_reconfig::State, voted_for: &[u8; MAX_SERVERS]) {
        for j in core.server_ids() {
            let t = core.current_term[j] as usize;
            if t >= TERMS {
                continue;
            }
            let log = &core.log[j];
            if voted_for[j] != 0 && self.voted[t][j] == 0 {
                self.voted[t][j] = voted_for[j];
            }
            if voted_for[j] as usize == j + 1 && self.stood[t][j] == 0 {
                self.stood[t][j] = pack_candidacy(
                    log.len() as u8,
                    last_term(log),
                    core.config_term[j],
                    core.config_version[j],
                );
            }
            let mut prev = 0;
            for (k, &e) in log.as_slice().iter().enumerate() {
                let index = k + 1;
                if index < INDEXES && (e as usize) < TERMS {
                    if e as usize == t {
                        self.held[t][j] |= 1 << index;
                    }
                    if self.entries[index][e as usize] == 0 {
                        self.entries[index][e as usize] = prev + 1;
                    }
                }
                prev = e;
            }
            let (ct, v) = (
                core.config_term[j] as usize,
                core.config_version[j] as usize,
            );
            if ct < TERMS && v < VERSIONS {
                if ct == t {
                    self.acked[t][j] |= 1 << v;
                }
                if self.configs[ct][v] == 0 {
                    self.configs[ct][v] = core.config[j].0 as u8;
                }
            }
        }
    }

    /// Whether some log ever held an entry of term `e` at index `k` after an entry of term
    /// `prev` (0: `k` is 1).
    pub fn entry_after(&self, k: usize, e: u8, prev: u8) -> bool {
        k < INDEXES && (e as usize) < TERMS && self.entries[k][e as usize] == prev + 1
    }

    /// The log that ends with the entry of term `e` at index `k`, rebuilt from the
    /// predecessors recorded.
    pub fn chain(&self, k: usize, e: u8) -> Log {
        let mut terms = vec![e];
        let (mut index, mut term) = (k, e);
        while index > 1 {
            term = self.entries[index][term as usize] - 1;
            index -= 1;
            terms.push(term);
        }
        terms.reverse();
        Log::from_slice(&terms)
    }

    /// Every log some server ever held, but the empty one.
    pub fn logs(&self) -> impl Iterator<Item = Log> + '_ {
        (1..INDEXES).flat_map(move |k| {
            (1..TERMS as u8)
                .filter(move |&e| self.entries[k][e as usize] != 0)
                .map(move |e| self.chain(k, e))
        })
    }
}

impl State {
    /// The initial state in which every server has `config`, with its facts recorded.
    pub fn initial(servers: usize, config: ServerSet) -> State {
        let mut s = State {
            core: raft_reconfig::State::initial(servers, config),
            voted_for: [0; MAX_SERVERS],
            history: History::default(),
        };
        s.record();
        s
    }

    /// Records the facts of the current variables in the history.
    pub fn record(&mut self) {
        self.history.record(&self.core, &self.voted_for);
    }

    /// The server indexes.
    pub fn server_ids(&self) -> std::ops::Range<usize> {
        self.core.server_ids()
    }

    /// The largest current term: every term up to it was some server's.
    pub fn max_term(&self) -> u8 {
        self.server_ids()
            .map(|i| self.core.current_term[i])
            .max()
            .unwrap_or(0)
    }

    /// Whether server `i` is Primary.
    pub fn is_primary(&self, i: usize) -> bool {
        self.core.state[i] == Role::Primary
    }
}

/// The raft-reconfig variables, then `votedFor` and the history variables (as lists of facts).
impl Serialize for State {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let c = &self.core;
        fn per_server<T>(s: &raft_reconfig::State, f: impl Fn(usize) -> T) -> Map<String, T> {
            Map(s.server_ids().map(|i| (server_name(i), f(i))).collect())
        }
        let h = &self.history;
        let facts = |table: &[[u8; MAX_SERVERS]; TERMS]| -> Vec<(u8, String, u8)> {
            let mut out = Vec::new();
            for (t, row) in table.iter().enumerate() {
                for j in c.server_ids() {
                    for bit in 0..8 {
                        if row[j] & (1 << bit) != 0 {
                            out.push((t as u8, server_name(j), bit));
                        }
                    }
                }
            }
            out
        };
        let mut st = serializer.serialize_struct("State", 13)?;
        st.serialize_field("currentTerm", &per_server(c, |i| c.current_term[i]))?;
        st.serialize_field("state", &per_server(c, |i| c.state[i]))?;
        st.serialize_field("log", &per_server(c, |i| c.log[i].as_slice().to_vec()))?;
        st.serialize_field("config", &per_server(c, |i| c.config[i]))?;
        st.serialize_field("configVersion", &per_server(c, |i| c.config_version[i]))?;
        st.serialize_field("configTerm", &per_server(c, |i| c.config_term[i]))?;
        st.serialize_field("committed", &c.committed)?;
        st.serialize_field(
            "votedFor",
            &per_server(c, |i| match self.voted_for[i] {
                0 => String::new(),
                v => server_name(v as usize - 1),
            }),
        )?;
        let mut stood = Vec::new();
        let mut voted = Vec::new();
        for t in 0..TERMS {
            for j in c.server_ids() {
                if let Some(candidacy) = unpack_candidacy(h.stood[t][j]) {
                    stood.push((t as u8, server_name(j), candidacy));
                }
                if h.voted[t][j] != 0 {
                    voted.push((
                        t as u8,
                        server_name(j),
                        server_name(h.voted[t][j] as usize - 1),
                    ));
                }
            }
        }
        st.serialize_field("stood", &stood)?;
        st.serialize_field("voted", &voted)?;
        st.serialize_field("held", &facts(&h.held))?;
        st.serialize_field("acked", &facts(&h.acked))?;
        st.serialize_field(
            "logsHeld",
            &h.logs().map(|l| l.as_slice().to_vec()).collect::<Vec<_>>(),
        )?;
        let mut configs = Vec::new();
        for (t, row) in h.configs.iter().enumerate() {
            for (v, &members) in row.iter().enumerate() {
                if members != 0 {
                    configs.push((t as u8, v as u8, ServerSet(members as u16)));
                }
            }
        }
        st.serialize_field("configsHeld", &configs)?;
        st.end()
    }
}

// ---------------------------------------------------------------------------------------------
// Invariants: raft-reconfig's, on the core variables.
// ---------------------------------------------------------------------------------------------

/// OnePrimaryPerTerm.
pub fn one_primary_per_term(s: &State) -> bool {
    raft_reconfig::one_primary_per_term(&s.core)
}

/// LogMatching.
pub fn log_matching(s: &State) -> bool {
    raft_reconfig::log_matching(&s.core)
}

/// LeaderCompleteness.
pub fn leader_completeness(s: &State) -> bool {
    raft_reconfig::leader_completeness(&s.core)
}

/// StateMachineSafety.
pub fn state_machine_safety(s: &State) -> bool {
    raft_reconfig::state_machine_safety(&s.core)
}

/// PrimaryConfigTermEqualToCurrentTerm.
pub fn primary_config_term_equal_to_current_term(s: &State) -> bool {
    raft_reconfig::primary_config_term_equal_to_current_term(&s.core)
}

/// VotesAreUnique: a server votes for one candidate per term (its `votedFor` in its current
/// term is the vote the history recorded).
pub fn votes_are_unique(s: &State) -> bool {
    s.server_ids().all(|j| {
        let t = s.core.current_term[j] as usize;
        s.voted_for[j] == 0 || t >= TERMS || s.history.voted[t][j] == s.voted_for[j]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compact encoding decodes exactly, and refuses what it never writes.
    #[test]
    fn the_history_encoding_round_trips() {
        let mut rng = spec_core::symmetry::Lcg(5);
        for _ in 0..500 {
            let mut h = History::default();
            for _ in 0..rng.below(12) {
                let (t, j) = (rng.below(TERMS as u64) as usize, rng.below(5) as usize);
                h.stood[t][j] = pack_candidacy(
                    rng.below(7) as u8,
                    rng.below(7) as u8,
                    rng.below(7) as u8,
                    rng.below(8) as u8,
                );
                h.voted[t][j] = rng.below(6) as u8;
                h.held[t][j] = rng.below(256) as u8;
                h.acked[rng.below(TERMS as u64) as usize][j] = rng.below(256) as u8;
                h.entries[rng.below(INDEXES as u64) as usize][t] = rng.below(8) as u8;
                h.configs[t][rng.below(VERSIONS as u64) as usize] = rng.below(32) as u8;
            }
            let mut bytes = Vec::new();
            h.pack(&mut bytes);
            assert!(bytes.len() <= History::MAX_PACKED);
            let mut input = bytes.as_slice();
            assert_eq!(History::unpack(&mut input), Some(h));
            assert!(input.is_empty());
        }
        let mut empty = Vec::new();
        History::default().pack(&mut empty);
        assert_eq!(empty, [0; 6]);
        // A mask naming a cell past the 35 of `voted`, and a nonempty cell holding 0.
        assert_eq!(
            History::unpack(&mut &[0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 1][..]),
            None
        );
        assert_eq!(History::unpack(&mut &[0, 1, 0, 0, 0, 0, 0][..]), None);
    }
}
