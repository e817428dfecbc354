//! The variables of MongoRaftReconfig, and its invariants.
//!
//! A [`State`] holds the seven variables of the composition: the ones MongoStaticRaft and
//! MongoLoglessDynamicRaft share (`currentTerm`, `state`, `config`), the oplog state machine's
//! own (`log`, `committed`) and the config state machine's own (`configVersion`, `configTerm`).
//! It implements both crates' variable traits ([`OplogVars`]/[`OplogVarsMut`] and
//! [`ConfigVars`]/[`ConfigVarsMut`]), so the actions of both run on it unchanged.
//!
//! The invariants are the three safety properties of `MongoRaftReconfig.tla` and the conjuncts
//! of the inductive invariant `Ind` of `proofs/MongoRaftReconfigIndInv.tla`, each named as
//! there.

use std::hash::{Hash, Hasher};

use logless_raft::{is_majority, quorums_overlap, ConfigVars, ConfigVarsMut};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use spec_core::itf::{server_name, Map};
use spec_core::{Role, ServerSet};
use static_raft::{in_log, Committed, Log, OplogVars, OplogVarsMut, LOG_CAPACITY};

/// The most servers a [`State`] holds (its per-server arrays have this many slots). Slots past
/// [`State::servers`] stay zeroed, so the derived `Eq` and the `Hash` below are exact.
pub const MAX_SERVERS: usize = 5;

/// One state of MongoRaftReconfig: the seven variables, one slot per server `0..servers`.
///
/// `Copy`, 96 bytes, no heap: a successor is a copy of its parent with a few slots changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    /// The number of servers (TLC's `Server` constant); the same in every state of a model.
    pub servers: u8,
    /// `currentTerm` (shared by both state machines).
    pub current_term: [u8; MAX_SERVERS],
    /// `state`: each server's role (shared by both state machines).
    pub state: [Role; MAX_SERVERS],
    /// `config`: each server's config (shared; only the config state machine changes it).
    pub config: [ServerSet; MAX_SERVERS],
    /// `configVersion` (config state machine).
    pub config_version: [u8; MAX_SERVERS],
    /// `configTerm` (config state machine).
    pub config_term: [u8; MAX_SERVERS],
    /// `log`: each server's log of entry terms (oplog state machine).
    pub log: [Log; MAX_SERVERS],
    /// `committed`: the set of `[entry |-> <<index, term>>, term |-> t]` records (oplog state
    /// machine), as static-raft's bitmask.
    pub committed: Committed,
}

impl State {
    /// The initial state of `Init` (`CSM!Init /\ OSM!Init`) in which every server has config
    /// `init_config`: term 0, Secondary, empty log, config version 1, config term 0, nothing
    /// committed.
    pub fn initial(servers: usize, init_config: ServerSet) -> State {
        assert!(servers <= MAX_SERVERS, "at most {MAX_SERVERS} servers");
        let mut s = State {
            servers: servers as u8,
            current_term: [0; MAX_SERVERS],
            state: [Role::Secondary; MAX_SERVERS],
            config: [ServerSet::EMPTY; MAX_SERVERS],
            config_version: [0; MAX_SERVERS],
            config_term: [0; MAX_SERVERS],
            log: [Log::new(); MAX_SERVERS],
            committed: Committed::EMPTY,
        };
        s.config[..servers].fill(init_config);
        s.config_version[..servers].fill(1);
        s
    }

    /// The server indexes `0..servers`.
    pub fn server_ids(&self) -> std::ops::Range<usize> {
        0..self.servers as usize
    }

    /// The config state machine's view of this state: logless-raft's [`logless_raft::State`]
    /// (what `MCMongoRaftReconfig`'s `MLDR` instance sees).
    pub fn config_part(&self) -> logless_raft::State {
        let mut out = logless_raft::State {
            servers: self.servers,
            ..logless_raft::State::default()
        };
        for i in self.server_ids() {
            out.current_term[i] = self.current_term[i];
            out.state[i] = self.state[i];
            out.config_version[i] = self.config_version[i];
            out.config_term[i] = self.config_term[i];
            out.config[i] = self.config[i];
        }
        out
    }

    /// The oplog state machine's view of this state: static-raft's [`static_raft::State`].
    pub fn oplog_part(&self) -> static_raft::State {
        let mut out = static_raft::State::initial(self.servers as usize, ServerSet::EMPTY);
        for i in self.server_ids() {
            out.current_term[i] = self.current_term[i];
            out.state[i] = self.state[i];
            out.log[i] = self.log[i];
            out.config[i] = self.config[i];
        }
        out.committed = self.committed;
        out
    }
}

impl Hash for State {
    /// Hashes every variable as one byte string (one call to the hasher instead of one per
    /// field). Equal states have equal bytes: a log is written as its length and its entries,
    /// zero-padded.
    fn hash<H: Hasher>(&self, hasher: &mut H) {
        const N: usize = MAX_SERVERS;
        const LOG: usize = 1 + LOG_CAPACITY;
        let mut bytes = [0u8; 1 + 4 * N + 2 * N + LOG * N + 16];
        bytes[0] = self.servers;
        let mut at = 1;
        for i in 0..N {
            bytes[at] = self.current_term[i];
            bytes[at + 1] = self.state[i] as u8;
            bytes[at + 2] = self.config_version[i];
            bytes[at + 3] = self.config_term[i];
            bytes[at + 4..at + 6].copy_from_slice(&self.config[i].0.to_le_bytes());
            let log = self.log[i].as_slice();
            bytes[at + 6] = log.len() as u8;
            bytes[at + 7..at + 7 + log.len()].copy_from_slice(log);
            at += 6 + LOG;
        }
        bytes[at..].copy_from_slice(&self.committed.0.to_le_bytes());
        hasher.write(&bytes);
    }
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

impl ConfigVars for State {
    fn current_term(&self, s: usize) -> u8 {
        self.current_term[s]
    }
    fn role(&self, s: usize) -> Role {
        self.state[s]
    }
    fn config(&self, s: usize) -> ServerSet {
        self.config[s]
    }
    fn config_version(&self, s: usize) -> u8 {
        self.config_version[s]
    }
    fn config_term(&self, s: usize) -> u8 {
        self.config_term[s]
    }
}

impl ConfigVarsMut for State {
    fn set_current_term(&mut self, s: usize, term: u8) {
        self.current_term[s] = term;
    }
    fn set_role(&mut self, s: usize, role: Role) {
        self.state[s] = role;
    }
    fn set_config(&mut self, s: usize, config: ServerSet) {
        self.config[s] = config;
    }
    fn set_config_version(&mut self, s: usize, version: u8) {
        self.config_version[s] = version;
    }
    fn set_config_term(&mut self, s: usize, term: u8) {
        self.config_term[s] = term;
    }
}

spec_core::impl_pack!(State {
    servers,
    current_term,
    state,
    config,
    config_version,
    config_term,
    log,
    committed
});

impl Serialize for State {
    /// One field per TLA+ variable, per-server ones as functions from server name to value.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn per_server<T, F: Fn(usize) -> T>(s: &State, f: F) -> Map<String, T> {
            Map(s.server_ids().map(|i| (server_name(i), f(i))).collect())
        }
        let mut out = serializer.serialize_struct("State", 7)?;
        out.serialize_field("currentTerm", &per_server(self, |i| self.current_term[i]))?;
        out.serialize_field("state", &per_server(self, |i| self.state[i]))?;
        out.serialize_field(
            "log",
            &per_server(self, |i| self.log[i].as_slice().to_vec()),
        )?;
        out.serialize_field("config", &per_server(self, |i| self.config[i]))?;
        out.serialize_field(
            "configVersion",
            &per_server(self, |i| self.config_version[i]),
        )?;
        out.serialize_field("configTerm", &per_server(self, |i| self.config_term[i]))?;
        out.serialize_field("committed", &self.committed)?;
        out.end()
    }
}

impl State {
    /// The TLA+ variables, in the order `Serialize` writes them.
    pub const VARIABLES: [&'static str; 7] = [
        "currentTerm",
        "state",
        "log",
        "config",
        "configVersion",
        "configTerm",
        "committed",
    ];

    /// Reads a state of a `servers`-server model back from the ITF JSON `Serialize` writes:
    /// the config state machine's variables as logless-raft reads them
    /// ([`logless_raft::State::read_variables`]), `log` and `committed` as static-raft does.
    pub fn read_itf(
        value: &spec_core::itf::Value,
        servers: usize,
    ) -> Result<State, spec_core::itf::ReadError> {
        use spec_core::raft::{read_committed, read_logs};
        let vars = spec_core::itf::Record::new(value, &Self::VARIABLES)?;
        if servers > MAX_SERVERS {
            return Err(spec_core::itf::ReadError::state(format!(
                "{servers} servers are more than the {MAX_SERVERS} the encoding holds"
            )));
        }
        let config = logless_raft::State::read_variables(&vars, servers)?;
        let mut s = State::initial(servers, ServerSet::EMPTY);
        for i in 0..servers {
            s.current_term[i] = config.current_term[i];
            s.state[i] = config.state[i];
            s.config[i] = config.config[i];
            s.config_version[i] = config.config_version[i];
            s.config_term[i] = config.config_term[i];
        }
        s.log[..servers].copy_from_slice(&vars.var("log", |v| read_logs(v, servers))?);
        s.committed = vars.var("committed", read_committed)?;
        Ok(s)
    }
}

/// Reads what `Serialize` writes, the number of servers taken from `currentTerm`
/// ([`State::read_itf`]; `Spec::read_state` checks it against a model's).
impl<'de> serde::Deserialize<'de> for State {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<State, D::Error> {
        spec_core::itf::deserialize_with(deserializer, |v| {
            State::read_itf(v, spec_core::itf::servers_of(v, "currentTerm")?)
        })
    }
}

/// The `StateConstraint` of MCMongoRaftReconfig: every term at most `max_term`, every log at
/// most `max_log_len` entries, every config version at most `max_config_version`.
pub fn state_constraint(s: &State, max_term: u8, max_log_len: u8, max_config_version: u8) -> bool {
    s.server_ids().all(|i| {
        s.current_term[i] <= max_term
            && s.log[i].len() <= max_log_len as usize
            && s.config_version[i] <= max_config_version
    })
}

// ---------------------------------------------------------------------------------------------
// Helpers of the inductive invariant.
// ---------------------------------------------------------------------------------------------

/// The servers `0..servers` whose role is Primary.
fn primaries(s: &State) -> impl Iterator<Item = usize> + '_ {
    s.server_ids().filter(|&i| s.state[i] == Role::Primary)
}

/// The members of `set` in increasing order, by bit scanning (`ServerSet::iter` tests all 16
/// possible members).
pub(crate) fn members(set: ServerSet) -> impl Iterator<Item = usize> {
    let mut bits = set.0;
    std::iter::from_fn(move || {
        (bits != 0).then(|| {
            let s = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            s
        })
    })
}

/// Whether every quorum of `config` has a member satisfying `pred` (`\A Q \in Quorums(config)
/// : \E n \in Q : pred(n)`): the members failing it are not a majority (a quorum made only of
/// them would be a majority subset of them). Vacuously true for the empty config, which has no
/// quorum.
fn every_quorum_has(config: ServerSet, pred: impl Fn(usize) -> bool) -> bool {
    let failing = members(config).filter(|&n| !pred(n)).count();
    !is_majority(failing, config)
}

/// The config of server `i` in the spec's order (`CV(i)` compared by `NewerConfig`): config term
/// first, then config version.
fn cv(s: &State, i: usize) -> (u8, u8) {
    (s.config_term[i], s.config_version[i])
}

/// `ConfigDisabled(i)`: every quorum of `config[i]` has a member with a newer config.
pub fn config_disabled(s: &State, i: usize) -> bool {
    every_quorum_has(s.config[i], |n| cv(s, n) > cv(s, i))
}

/// `ActiveConfigSet`: the servers whose config is not disabled, that is, whose config has a
/// quorum of members with a config no newer than theirs ([`config_disabled`], computed for all
/// servers at once).
pub fn active_config_set(s: &State) -> ServerSet {
    let mut packed = [0u16; MAX_SERVERS];
    for i in s.server_ids() {
        packed[i] = u16::from_be_bytes([s.config_term[i], s.config_version[i]]);
    }
    let mut active = ServerSet::EMPTY;
    for i in s.server_ids() {
        let config = s.config[i];
        let not_newer = members(config).filter(|&n| packed[n] <= packed[i]).count();
        if is_majority(not_newer, config) {
            active = active.with(i);
        }
    }
    active
}

// ---------------------------------------------------------------------------------------------
// The safety properties of MongoRaftReconfig.
// ---------------------------------------------------------------------------------------------

/// OnePrimaryPerTerm: no two distinct servers are Primary in the same term.
pub fn one_primary_per_term(s: &State) -> bool {
    spec_core::raft::one_primary_per_term(
        (0..s.servers as usize).map(|i| (s.state[i], s.current_term[i])),
    )
}

/// LeaderCompleteness: a primary holds every entry committed in a term up to and including its
/// own (`c.term <= currentTerm[s]`, where MongoStaticRaft has `<`).
pub fn leader_completeness(s: &State) -> bool {
    primaries(s).all(|i| {
        s.committed
            .iter()
            .all(|c| c.term > s.current_term[i] || in_log(c.index, c.entry_term, &s.log[i]))
    })
}

/// StateMachineSafety: two records committed at the same index are the same record.
pub fn state_machine_safety(s: &State) -> bool {
    let mut indexes = 0u32;
    for c in s.committed.iter() {
        let bit = 1u32 << c.index;
        if indexes & bit != 0 {
            return false;
        }
        indexes |= bit;
    }
    true
}

// ---------------------------------------------------------------------------------------------
// The conjuncts of the inductive invariant Ind (proofs/MongoRaftReconfigIndInv.tla).
// ---------------------------------------------------------------------------------------------

/// PrimaryConfigTermEqualToCurrentTerm: a primary's config term is its current term.
pub fn primary_config_term_equal_to_current_term(s: &State) -> bool {
    primaries(s).all(|i| s.config_term[i] == s.current_term[i])
}

/// ConfigVersionAndTermUnique: two servers with the same config version and term have the
/// same config.
pub fn config_version_and_term_unique(s: &State) -> bool {
    s.server_ids().all(|i| {
        s.server_ids()
            .all(|j| cv(s, i) != cv(s, j) || s.config[i] == s.config[j])
    })
}

/// PrimaryInTermContainsNewestConfigOfTerm: a primary's config version is the highest among
/// configs of its config term.
pub fn primary_in_term_contains_newest_config_of_term(s: &State) -> bool {
    primaries(s).all(|p| {
        s.server_ids().all(|j| {
            s.config_term[j] != s.config_term[p] || s.config_version[p] >= s.config_version[j]
        })
    })
}

/// ActiveConfigsOverlap: the quorums of any two active configs overlap.
pub fn active_configs_overlap(s: &State) -> bool {
    let active = active_config_set(s);
    members(active).all(|i| members(active).all(|j| quorums_overlap(s.config[i], s.config[j])))
}

/// ActiveConfigsSafeAtTerms: every quorum of an active config has a member whose term is at
/// least any server's config term.
pub fn active_configs_safe_at_terms(s: &State) -> bool {
    let active = active_config_set(s);
    s.server_ids().all(|i| {
        members(active)
            .all(|t| every_quorum_has(s.config[t], |n| s.current_term[n] >= s.config_term[i]))
    })
}

/// LogMatching: if two logs hold the same term at an index, they are equal up to that index.
pub fn log_matching(s: &State) -> bool {
    s.server_ids().all(|a| {
        s.server_ids().all(|b| {
            let (la, lb) = (s.log[a].as_slice(), s.log[b].as_slice());
            (0..la.len().min(lb.len())).all(|k| la[k] != lb[k] || la[..k] == lb[..k])
        })
    })
}

/// TermsOfEntriesGrowMonotonically: the terms in each log never decrease.
pub fn terms_of_entries_grow_monotonically(s: &State) -> bool {
    s.server_ids()
        .all(|i| s.log[i].as_slice().windows(2).all(|w| w[0] <= w[1]))
}

/// PrimaryHasEntriesItCreated: every entry of a primary's term, in any log, is in the
/// primary's log at the same index.
pub fn primary_has_entries_it_created(s: &State) -> bool {
    primaries(s).all(|i| {
        let term = s.current_term[i];
        s.server_ids().all(|j| {
            s.log[j]
                .as_slice()
                .iter()
                .enumerate()
                .all(|(k, &t)| t != term || in_log(k as u8 + 1, t, &s.log[i]))
        })
    })
}

/// CurrentTermAtLeastAsLargeAsLogTermsForPrimary: a primary's log has no entry of a term above
/// its current term.
pub fn current_term_at_least_as_large_as_log_terms_for_primary(s: &State) -> bool {
    primaries(s).all(|i| s.log[i].as_slice().iter().all(|&t| t <= s.current_term[i]))
}

/// LogEntryInTermImpliesConfigInTerm: for every log entry, some server's config term is at
/// least the entry's term.
pub fn log_entry_in_term_implies_config_in_term(s: &State) -> bool {
    let newest_config_term = s.server_ids().map(|t| s.config_term[t]).max().unwrap_or(0);
    s.server_ids()
        .all(|i| s.log[i].as_slice().iter().all(|&t| t <= newest_config_term))
}

/// UniformLogEntriesInTerm: if the first entry of term `T` in some log is at index `i`, no log
/// has an entry of term `T` before `i`.
pub fn uniform_log_entries_in_term(s: &State) -> bool {
    s.server_ids().all(|a| {
        let la = s.log[a].as_slice();
        (0..la.len()).all(|i| {
            let first_of_its_term = la[..i].iter().all(|&t| t != la[i]);
            !first_of_its_term
                || s.server_ids()
                    .all(|b| s.log[b].as_slice().iter().take(i).all(|&t| t != la[i]))
        })
    })
}

/// CommittedEntryIndexesAreNonZero: no record commits index 0.
pub fn committed_entry_indexes_are_non_zero(s: &State) -> bool {
    s.committed.iter().all(|c| c.index != 0)
}

/// CommittedTermMatchesEntry: every record's commit term is its entry's term.
pub fn committed_term_matches_entry(s: &State) -> bool {
    s.committed.iter().all(|c| c.term == c.entry_term)
}

/// LogsLaterThanCommittedMustHaveCommitted: a log with an entry newer than a committed record's
/// term holds every record committed in that term or before.
pub fn logs_later_than_committed_must_have_committed(s: &State) -> bool {
    s.server_ids().all(|i| {
        let log = &s.log[i];
        let newest = log.as_slice().iter().copied().max();
        s.committed.iter().all(|c| {
            newest.is_none_or(|t| t <= c.term)
                || s.committed
                    .iter()
                    .all(|d| d.term > c.term || log.at(d.index as usize) == Some(d.term))
        })
    })
}

/// ActiveConfigsOverlapWithCommittedEntry: every quorum of an active config has a member
/// holding each committed entry.
pub fn active_configs_overlap_with_committed_entry(s: &State) -> bool {
    let active = active_config_set(s);
    s.committed.iter().all(|c| {
        members(active)
            .all(|t| every_quorum_has(s.config[t], |n| in_log(c.index, c.entry_term, &s.log[n])))
    })
}

/// NewerConfigsDisablePrimaryCommitsInOlderTerms: if some config was written in a term newer
/// than a primary's, every quorum of the primary's config has a member in a newer term than
/// the primary.
pub fn newer_configs_disable_primary_commits_in_older_terms(s: &State) -> bool {
    let newest_config_term = s.server_ids().map(|t| s.config_term[t]).max().unwrap_or(0);
    primaries(s).all(|t| {
        s.current_term[t] >= newest_config_term
            || every_quorum_has(s.config[t], |n| s.current_term[n] > s.current_term[t])
    })
}

/// ConfigsNonempty: no server's config is empty.
pub fn configs_nonempty(s: &State) -> bool {
    s.server_ids().all(|i| !s.config[i].is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_state_satisfies_every_invariant() {
        let s = State::initial(3, ServerSet(0b011));
        assert!(one_primary_per_term(&s) && leader_completeness(&s));
        assert!(active_configs_overlap(&s) && configs_nonempty(&s));
        assert_eq!(active_config_set(&s), ServerSet::all(3));
    }

    /// The conjuncts that no mutant in the tests breaks, each on a state made to break it.
    #[test]
    fn simple_conjuncts_can_fail() {
        let init = State::initial(3, ServerSet::all(3));
        let mut s = init;
        s.state[0] = Role::Primary;
        s.current_term[0] = 1;
        assert!(!primary_config_term_equal_to_current_term(&s));
        let mut s = init;
        s.log[0].push(1);
        assert!(!log_entry_in_term_implies_config_in_term(&s));
        s.config_term[2] = 1;
        assert!(log_entry_in_term_implies_config_in_term(&s));
        let mut s = init;
        s.committed = s.committed.with(static_raft::CommittedEntry {
            index: 1,
            entry_term: 1,
            term: 2,
        });
        assert!(!committed_term_matches_entry(&s));
        assert!(committed_entry_indexes_are_non_zero(&s));
        let mut s = init;
        s.config[1] = ServerSet::EMPTY;
        assert!(!configs_nonempty(&s));
        let mut s = init;
        s.log[0] = Log::from_slice(&[1, 2]);
        s.log[1] = Log::from_slice(&[2, 2]);
        assert!(!log_matching(&s));
        s.log[1] = Log::from_slice(&[1, 3]);
        assert!(log_matching(&s));
    }

    #[test]
    fn active_configs_are_those_not_disabled() {
        let mut s = State::initial(4, ServerSet(0b0111));
        s.config[3] = ServerSet(0b1100);
        s.config_version[1] = 2;
        s.config_version[2] = 2;
        s.config_version[3] = 2;
        for i in 0..4 {
            let by_definition = s.config[i]
                .quorums()
                .all(|q| q.iter().any(|n| cv(&s, n) > cv(&s, i)));
            assert_eq!(config_disabled(&s, i), by_definition, "server {i}");
        }
        // n1's config {n1, n2, n3} has newer configs on n2 and n3, a majority: disabled.
        assert!(config_disabled(&s, 0));
        assert_eq!(active_config_set(&s), ServerSet(0b1110));
    }

    #[test]
    fn serializes_with_tla_variable_names() {
        let mut s = State::initial(2, ServerSet(0b01));
        s.log[1].push(1);
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(
            json["config"],
            serde_json::json!({"#map": [["n1", {"#set": ["n1"]}], ["n2", {"#set": ["n1"]}]]})
        );
        assert_eq!(json["log"]["#map"][1][1], serde_json::json!([1]));
        assert_eq!(json["configVersion"]["#map"][1][1], 1);
        assert_eq!(json["committed"], serde_json::json!({"#set": []}));
    }

    #[test]
    fn views_of_the_two_machines_keep_their_variables() {
        let mut s = State::initial(3, ServerSet(0b111));
        s.current_term[1] = 2;
        s.log[1].push(2);
        s.config_version[2] = 3;
        assert_eq!(s.config_part().config_version[2], 3);
        assert_eq!(s.config_part().current_term[1], 2);
        assert_eq!(s.oplog_part().log[1].as_slice(), &[2]);
        assert_eq!(s.oplog_part().config[0], ServerSet(0b111));
    }
}
