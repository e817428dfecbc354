//! The state of MongoDynamicRaft: MongoWeakRaft's variables plus the config log, and the
//! invariants of `MongoDynamicRaft.tla`.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use spec_core::itf::{self, server_name};
use spec_core::{Seq, ServerSet};
use std::fmt;
use weak_raft::{LOG_CAPACITY, MAX_SERVERS};

/// A server's config log: the config written with each of its log entries, one per entry
/// (`configLog[s][k]` is the config that entry `k` of `log[s]` carries).
///
/// Stored inline as a sequence of bitmasks, one byte each (servers are at most
/// [`MAX_SERVERS`] = 5, so a config fits in a byte). Equality, order and hashing look only at
/// the entries in use.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConfigLog(Seq<LOG_CAPACITY>);

const _: () = assert!(
    MAX_SERVERS <= 8,
    "a config must fit in one byte of a ConfigLog"
);

impl ConfigLog {
    /// The empty config log.
    pub const fn new() -> Self {
        ConfigLog(Seq::new())
    }
    /// A config log holding `configs`.
    pub fn from_configs(configs: &[ServerSet]) -> Self {
        let mut log = ConfigLog::new();
        for &c in configs {
            log.push(c);
        }
        log
    }
    /// `Len(configLog[s])`.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The config at 1-based index `i`, if there is one.
    pub fn at(&self, i: usize) -> Option<ServerSet> {
        self.0.at(i).map(|c| ServerSet(c as u16))
    }
    /// The last config.
    pub fn last(&self) -> Option<ServerSet> {
        self.0.last().map(|c| ServerSet(c as u16))
    }
    /// `Append(configLog[s], config)`.
    pub fn push(&mut self, config: ServerSet) {
        let byte = u8::try_from(config.0).expect("a config of at most 8 servers");
        self.0.push(byte);
    }
    /// The configs, in order.
    pub fn iter(&self) -> impl Iterator<Item = ServerSet> + '_ {
        self.0.as_slice().iter().map(|&c| ServerSet(c as u16))
    }
    /// Whether the first `len` configs of both logs are equal (`SubSeq(a, 1, len) = SubSeq(b,
    /// 1, len)`, both logs being at least that long).
    pub fn prefix_eq(&self, other: &ConfigLog, len: usize) -> bool {
        self.0.as_slice()[..len] == other.0.as_slice()[..len]
    }
    /// The same log with servers renamed inside every config.
    pub fn permute(&self, perm: &[u8]) -> ConfigLog {
        let mut out = ConfigLog::new();
        for c in self.iter() {
            out.push(c.permute(perm));
        }
        out
    }
}

impl fmt::Debug for ConfigLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

spec_core::impl_pack!(ConfigLog(Seq<LOG_CAPACITY>));

impl Serialize for ConfigLog {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// A state of MongoDynamicRaft.
///
/// `raft` holds the variables MongoDynamicRaft shares with MongoWeakRaft (currentTerm, state,
/// log, config, elections, committed) in `weak-raft`'s encoding, so that the refinement mapping
/// to MongoSafeWeakRaft is a projection; `config_log` is the one variable MongoDynamicRaft adds.
/// `Copy`, no heap; unused slots stay zeroed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct State {
    /// `currentTerm`, `state`, `log`, `config`, `elections` and `committed`, as in MongoWeakRaft.
    pub raft: weak_raft::State,
    /// `configLog`: each server's config log, as long as its log.
    pub config_log: [ConfigLog; MAX_SERVERS],
}

impl State {
    /// The initial state with config `config` on every server (`Init`): every term 0, every
    /// server Secondary, every log and config log empty, no election and nothing committed.
    pub fn initial(servers: usize, config: ServerSet) -> State {
        State {
            raft: weak_raft::State::initial(servers, config),
            config_log: [ConfigLog::new(); MAX_SERVERS],
        }
    }

    /// The servers `0..servers`.
    pub fn server_ids(&self) -> std::ops::Range<usize> {
        self.raft.server_ids()
    }

    /// The state with servers renamed (server `s` becomes `perm[s]`), in the MongoWeakRaft
    /// variables and in the config logs (both their owners and the configs they hold).
    pub fn permuted(&self, perm: &[u8]) -> State {
        let mut out = State {
            raft: self.raft.permuted(perm),
            config_log: self.config_log,
        };
        for s in self.server_ids() {
            out.config_log[perm[s] as usize] = self.config_log[s].permute(perm);
        }
        out
    }
}

spec_core::impl_pack!(State { raft, config_log });

/// An object with the TLA+ variables: MongoWeakRaft's, then `configLog` (a map from server to a
/// sequence of sets of servers).
impl Serialize for State {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = &self.raft;
        fn per_server<T>(s: &State, f: impl Fn(usize) -> T) -> itf::Map<String, T> {
            itf::Map(s.server_ids().map(|i| (server_name(i), f(i))).collect())
        }
        let mut st = serializer.serialize_struct("State", 7)?;
        st.serialize_field("currentTerm", &per_server(self, |i| r.current_term[i]))?;
        st.serialize_field("state", &per_server(self, |i| r.state[i]))?;
        st.serialize_field("log", &per_server(self, |i| r.log[i].as_slice().to_vec()))?;
        st.serialize_field("config", &per_server(self, |i| r.config[i]))?;
        st.serialize_field("configLog", &per_server(self, |i| self.config_log[i]))?;
        st.serialize_field("elections", &r.elections)?;
        st.serialize_field("committed", &r.committed)?;
        st.end()
    }
}

impl State {
    /// The TLA+ variables, in the order `Serialize` writes them.
    pub const VARIABLES: [&'static str; 7] = [
        "currentTerm",
        "state",
        "log",
        "config",
        "configLog",
        "elections",
        "committed",
    ];

    /// Reads a state of a `servers`-server model back from the ITF JSON `Serialize` writes:
    /// MongoWeakRaft's variables ([`weak_raft::State::read_variables`]) and `configLog`, one
    /// sequence of configs per server, at most [`LOG_CAPACITY`] long.
    pub fn read_itf(value: &itf::Value, servers: usize) -> Result<State, itf::ReadError> {
        let vars = itf::Record::new(value, &Self::VARIABLES)?;
        let raft = weak_raft::State::read_variables(&vars, servers)?;
        let mut s = State::initial(servers, ServerSet::EMPTY);
        s.raft = raft;
        let logs = vars.var("configLog", |v| {
            itf::each_server(&itf::per_server(v, Some(servers))?, |log| {
                let configs = itf::each(itf::seq(log)?, |c| itf::server_set(c, servers))?;
                if configs.len() > LOG_CAPACITY {
                    return Err(format!(
                        "a config log of {} entries is longer than the {LOG_CAPACITY} the encoding holds",
                        configs.len()
                    ));
                }
                Ok(ConfigLog::from_configs(&configs))
            })
        })?;
        s.config_log[..servers].copy_from_slice(&logs);
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
// Invariants of MongoDynamicRaft, named as in the spec. ElectionSafety, LeaderCompleteness,
// LogMatching and StateMachineSafety are MongoWeakRaft's, on the shared variables.
// ---------------------------------------------------------------------------------------------

/// ElectionSafety: at most one leader was ever elected in each term.
pub fn election_safety(s: &State) -> bool {
    weak_raft::election_safety(&s.raft)
}

/// LeaderCompleteness: a primary holds every entry committed in a term before its own.
pub fn leader_completeness(s: &State) -> bool {
    weak_raft::leader_completeness(&s.raft)
}

/// LogMatching: two logs with the same term at an index are equal up to that index.
pub fn log_matching(s: &State) -> bool {
    weak_raft::log_matching(&s.raft)
}

/// StateMachineSafety: two committed records at the same index are the same record.
pub fn state_machine_safety(s: &State) -> bool {
    weak_raft::state_machine_safety(&s.raft)
}

/// LogMatchingWithConfigs: LogMatching extended to the config log: if two logs hold the same
/// term at an index, both their logs and their config logs are equal up to that index (an
/// `<<index, term>>` pair identifies the whole history of entries *and* configs before it).
pub fn log_matching_with_configs(s: &State) -> bool {
    s.server_ids().all(|a| {
        s.server_ids().all(|b| {
            let (la, lb) = (s.raft.log[a].as_slice(), s.raft.log[b].as_slice());
            (0..la.len().min(lb.len())).all(|k| {
                la[k] != lb[k]
                    || (la[..=k] == lb[..=k] && s.config_log[a].prefix_eq(&s.config_log[b], k + 1))
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_log_round_trips_configs() {
        let configs = [ServerSet(0b011), ServerSet(0b111), ServerSet(0b110)];
        let log = ConfigLog::from_configs(&configs);
        assert_eq!(log.len(), 3);
        assert_eq!(log.at(2), Some(ServerSet(0b111)));
        assert_eq!(log.last(), Some(ServerSet(0b110)));
        assert_eq!(log.iter().collect::<Vec<_>>(), configs);
        let p = log.permute(&[1, 2, 0]);
        assert_eq!(p.at(1), Some(ServerSet(0b110)));
        assert_eq!(p.at(3), Some(ServerSet(0b101)));
    }

    #[test]
    fn permuting_moves_and_renames_config_logs() {
        let mut s = State::initial(3, ServerSet(0b011));
        s.raft.log[0].push(1);
        s.config_log[0].push(ServerSet(0b001));
        let p = s.permuted(&[2, 0, 1]);
        assert_eq!(p.raft.log[2].as_slice(), &[1]);
        assert_eq!(p.config_log[2].at(1), Some(ServerSet(0b100)));
        assert!(p.config_log[0].is_empty());
    }

    #[test]
    fn log_matching_with_configs_compares_config_prefixes() {
        let mut s = State::initial(2, ServerSet(0b11));
        for i in 0..2 {
            s.raft.log[i].push(1);
        }
        s.config_log[0].push(ServerSet(0b11));
        s.config_log[1].push(ServerSet(0b11));
        assert!(log_matching_with_configs(&s));
        s.config_log[1] = ConfigLog::from_configs(&[ServerSet(0b01)]);
        assert!(log_matching(&s));
        assert!(!log_matching_with_configs(&s));
    }
}
