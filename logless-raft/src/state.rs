//! The variables of MongoLoglessDynamicRaft, the helper predicates its actions share, and its
//! invariant.

use std::hash::{Hash, Hasher};

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use spec_core::itf::{server_name, Map};
use spec_core::ServerSet;

use crate::Mutation;

/// The most servers a [`State`] holds. Its per-server arrays have this many slots; slots past
/// [`State::servers`] stay zeroed so that the derived `Eq` and `Hash` are exact.
pub const MAX_SERVERS: usize = 7;

/// The role of a server (shared with every Raft-family layer).
pub use spec_core::Role;

/// One state of MongoLoglessDynamicRaft: the five variables, one slot per server `0..servers`.
///
/// Field names are the TLA+ variable names in snake case. In the composition MongoRaftReconfig,
/// `current_term`, `state` and `config` are shared with the oplog state machine (MongoStaticRaft)
/// while `config_version` and `config_term` belong to this config state machine alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// The number of servers (TLC's `Server` constant); the same in every state of a model.
    pub servers: u8,
    /// `currentTerm`: the latest term each server knows.
    pub current_term: [u8; MAX_SERVERS],
    /// `state`: each server's role.
    pub state: [Role; MAX_SERVERS],
    /// `configVersion`: the version of each server's config, increased by every reconfig.
    pub config_version: [u8; MAX_SERVERS],
    /// `configTerm`: the term in which each server's config was written (or the server was
    /// last elected: BecomeLeader stamps the leader's config with its new term).
    pub config_term: [u8; MAX_SERVERS],
    /// `config`: each server's current config, a set of servers.
    pub config: [ServerSet; MAX_SERVERS],
}

impl State {
    /// The initial state of TLA+'s `Init` in which every server has config `init_config`:
    /// term 0, Secondary, config version 1, config term 0.
    pub fn initial(servers: usize, init_config: ServerSet) -> State {
        let mut s = State {
            servers: servers as u8,
            ..State::default()
        };
        for i in 0..servers {
            s.config_version[i] = 1;
            s.config[i] = init_config;
        }
        s
    }

    /// The servers `0..servers`, TLC's `Server`.
    pub fn server_set(&self) -> ServerSet {
        ServerSet::all(self.servers as usize)
    }

    /// The server indexes `0..servers`.
    pub fn server_ids(&self) -> std::ops::Range<usize> {
        0..self.servers as usize
    }
}

/// Read access to the variables MongoLoglessDynamicRaft's guards read, so that its actions run on
/// any state type holding them: [`State`], or a composed state such as MongoRaftReconfig's.
pub trait ConfigVars {
    /// `currentTerm[s]` (shared with the oplog state machine).
    fn current_term(&self, s: usize) -> u8;
    /// `state[s]` (shared with the oplog state machine).
    fn role(&self, s: usize) -> Role;
    /// `config[s]` (shared with the oplog state machine).
    fn config(&self, s: usize) -> ServerSet;
    /// `configVersion[s]`.
    fn config_version(&self, s: usize) -> u8;
    /// `configTerm[s]`.
    fn config_term(&self, s: usize) -> u8;
}

/// Write access to the variables MongoLoglessDynamicRaft's actions change (all five).
pub trait ConfigVarsMut: ConfigVars {
    /// Sets `currentTerm[s]`.
    fn set_current_term(&mut self, s: usize, term: u8);
    /// Sets `state[s]`.
    fn set_role(&mut self, s: usize, role: Role);
    /// Sets `config[s]`.
    fn set_config(&mut self, s: usize, config: ServerSet);
    /// Sets `configVersion[s]`.
    fn set_config_version(&mut self, s: usize, version: u8);
    /// Sets `configTerm[s]`.
    fn set_config_term(&mut self, s: usize, term: u8);
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

/// The config of server `i` as the spec compares configs: `(configTerm[i], configVersion[i])`,
/// term first, so that the tuple order is the spec's "newer" order.
pub fn config_id<V: ConfigVars + ?Sized>(v: &V, i: usize) -> (u8, u8) {
    (v.config_term(i), v.config_version(i))
}

/// `IsNewerConfig(i, j)`: the config of `i` has a greater term than that of `j`, or the same
/// term and a greater version. It is the condition for `j` to accept `i`'s config.
pub fn is_newer_config<V: ConfigVars + ?Sized>(v: &V, i: usize, j: usize) -> bool {
    config_id(v, i) > config_id(v, j)
}

/// `IsNewerOrEqualConfig(i, j)`: [`is_newer_config`], or the same term and version.
pub fn is_newer_or_equal_config<V: ConfigVars + ?Sized>(v: &V, i: usize, j: usize) -> bool {
    config_id(v, i) >= config_id(v, j)
}

/// ConfigQuorumCheck's condition on one member `t` of a quorum of `config[i]`: `t` has `i`'s
/// config version and config term.
pub fn has_config_of<V: ConfigVars + ?Sized>(v: &V, t: usize, i: usize) -> bool {
    config_id(v, t) == config_id(v, i)
}

/// TermQuorumCheck's condition on one member `t` of a quorum of `config[i]`: `currentTerm[t] =
/// currentTerm[i]` (`>=` under [`Mutation::TermQuorumCheckWeakened`]).
pub fn has_term_of<V: ConfigVars + ?Sized>(
    v: &V,
    t: usize,
    i: usize,
    mutation: Option<Mutation>,
) -> bool {
    if mutation == Some(Mutation::TermQuorumCheckWeakened) {
        v.current_term(t) >= v.current_term(i)
    } else {
        v.current_term(t) == v.current_term(i)
    }
}

/// The members `t` of `config[i]` for which `member(t)` holds: a quorum of `config[i]` whose
/// every member satisfies it exists exactly when they are a majority of `config[i]`.
fn members_where<V: ConfigVars + ?Sized>(
    v: &V,
    i: usize,
    member: impl Fn(usize) -> bool,
) -> ServerSet {
    let mut out = ServerSet::EMPTY;
    for t in v.config(i).iter() {
        if member(t) {
            out = out.with(t);
        }
    }
    out
}

/// The members of `config[i]` that are in `i`'s term ([`has_term_of`]).
pub fn in_same_term<V: ConfigVars + ?Sized>(
    v: &V,
    i: usize,
    mutation: Option<Mutation>,
) -> ServerSet {
    members_where(v, i, |t| has_term_of(v, t, i, mutation))
}

/// The members of `config[i]` that have `i`'s config, version and term ([`has_config_of`]).
pub fn with_same_config<V: ConfigVars + ?Sized>(v: &V, i: usize) -> ServerSet {
    members_where(v, i, |t| has_config_of(v, t, i))
}

/// `ConfigQuorumCheck(i)`: some quorum of `config[i]` has `i`'s config version and term.
///
/// ```text
/// ConfigQuorumCheck(self) == \E Q \in Quorums(config[self]) : \A t \in Q :
///     /\ configVersion[t] = configVersion[self]
///     /\ configTerm[t] = configTerm[self]
/// ```
///
/// Such a quorum exists exactly when the members that agree ([`has_config_of`]) are a majority
/// of the config; TLC's count of the quorums is [`config_quorum_witnesses`].
pub fn config_quorum_check<V: ConfigVars + ?Sized>(v: &V, i: usize) -> bool {
    is_majority(with_same_config(v, i).len(), v.config(i))
}

/// The number of quorums `Q` of `config[i]` that witness `ConfigQuorumCheck(i)`. TLC enumerates
/// the `\E Q` of a guard, producing one successor per witness.
pub fn config_quorum_witnesses<V: ConfigVars + ?Sized>(v: &V, i: usize) -> usize {
    quorums_within(with_same_config(v, i), v.config(i))
}

/// `TermQuorumCheck(i)`: some quorum of `config[i]` is in `i`'s term.
///
/// ```text
/// TermQuorumCheck(self) == \E Q \in Quorums(config[self]) : \A t \in Q :
///     currentTerm[t] = currentTerm[self]
/// ```
///
/// Such a quorum exists exactly when the members in the term ([`has_term_of`]) are a majority
/// of the config; TLC's count of the quorums is [`term_quorum_witnesses`].
pub fn term_quorum_check<V: ConfigVars + ?Sized>(
    v: &V,
    i: usize,
    mutation: Option<Mutation>,
) -> bool {
    is_majority(in_same_term(v, i, mutation).len(), v.config(i))
}

/// The number of quorums `Q` of `config[i]` that witness `TermQuorumCheck(i)`.
pub fn term_quorum_witnesses<V: ConfigVars + ?Sized>(
    v: &V,
    i: usize,
    mutation: Option<Mutation>,
) -> usize {
    quorums_within(in_same_term(v, i, mutation), v.config(i))
}

/// `JointQuorumCheck(i)`, the generalization the edge `logless-raft -> dynamic-raft` needs (see
/// [`crate::refinement`]): *one* quorum of `config[i]` whose every member has both `i`'s config
/// ([`has_config_of`], ConfigQuorumCheck's test) and `i`'s term ([`has_term_of`],
/// TermQuorumCheck's test), where the spec lets the two checks use different quorums. It implies
/// both. A mutation of either test changes it too; [`Mutation::ReconfigSkipsConfigQuorumCheck`]
/// and [`Mutation::ReconfigSkipsTermQuorumCheck`] drop their test from it.
pub fn joint_quorum_check<V: ConfigVars + ?Sized>(
    v: &V,
    i: usize,
    mutation: Option<Mutation>,
) -> bool {
    let config_test = mutation != Some(Mutation::ReconfigSkipsConfigQuorumCheck);
    let term_test = mutation != Some(Mutation::ReconfigSkipsTermQuorumCheck);
    let both = members_where(v, i, |t| {
        (!config_test || has_config_of(v, t, i)) && (!term_test || has_term_of(v, t, i, mutation))
    });
    quorums_within(both, v.config(i)) > 0
}

/// The number of quorums of `config` (majority subsets) made only of members of `within`:
/// the subsets of `within & config` with more than half of `config`'s members.
pub fn quorums_within(within: ServerSet, config: ServerSet) -> usize {
    let available = ServerSet(within.0 & config.0).len();
    let smallest = config.len() / 2 + 1;
    (smallest..=available).map(|k| binomial(available, k)).sum()
}

/// `n` choose `k`, for the small `n` of server sets.
fn binomial(n: usize, k: usize) -> usize {
    (0..k).fold(1, |acc, m| acc * (n - m) / (m + 1))
}

impl Hash for State {
    /// Hashes every field as one byte string (one call to the hasher instead of one per
    /// field): equal states have equal bytes, so this agrees with the derived `Eq`.
    fn hash<H: Hasher>(&self, hasher: &mut H) {
        const N: usize = MAX_SERVERS;
        let mut bytes = [0u8; 1 + 6 * N];
        bytes[0] = self.servers;
        bytes[1..1 + N].copy_from_slice(&self.current_term);
        for (b, role) in bytes[1 + N..1 + 2 * N].iter_mut().zip(self.state) {
            *b = role as u8;
        }
        bytes[1 + 2 * N..1 + 3 * N].copy_from_slice(&self.config_version);
        bytes[1 + 3 * N..1 + 4 * N].copy_from_slice(&self.config_term);
        for (pair, config) in bytes[1 + 4 * N..].chunks_exact_mut(2).zip(self.config) {
            pair.copy_from_slice(&config.0.to_le_bytes());
        }
        hasher.write(&bytes);
    }
}

/// Whether `count` members are more than half of `config` (`Cardinality(Q) * 2 >
/// Cardinality(config)`, the size condition of Defs' `Quorums`).
pub fn is_majority(count: usize, config: ServerSet) -> bool {
    count * 2 > config.len()
}

pub use spec_core::servers::quorums_overlap;

/// `OnePrimaryPerTerm` (MCMongoLoglessDynamicRaft): no two distinct servers are Primary in the
/// same term.
pub fn one_primary_per_term(s: &State) -> bool {
    spec_core::raft::one_primary_per_term(s.server_ids().map(|i| (s.state[i], s.current_term[i])))
}

/// The `StateConstraint` of MCMongoLoglessDynamicRaft: every term is at most `max_term` and
/// every config version at most `max_config_version`.
pub fn state_constraint(s: &State, max_term: u8, max_config_version: u8) -> bool {
    s.server_ids()
        .all(|i| s.current_term[i] <= max_term && s.config_version[i] <= max_config_version)
}

spec_core::impl_pack!(State {
    servers,
    current_term,
    state,
    config_version,
    config_term,
    config
});

impl Serialize for State {
    /// One field per TLA+ variable, each a function from server name to value.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn per_server<T, F: Fn(usize) -> T>(s: &State, f: F) -> Map<String, T> {
            Map(s.server_ids().map(|i| (server_name(i), f(i))).collect())
        }
        let mut out = serializer.serialize_struct("State", 5)?;
        out.serialize_field("currentTerm", &per_server(self, |i| self.current_term[i]))?;
        out.serialize_field("state", &per_server(self, |i| self.state[i].name()))?;
        out.serialize_field(
            "configVersion",
            &per_server(self, |i| self.config_version[i]),
        )?;
        out.serialize_field("configTerm", &per_server(self, |i| self.config_term[i]))?;
        out.serialize_field("config", &per_server(self, |i| self.config[i]))?;
        out.end()
    }
}

impl State {
    /// The TLA+ variables, in the order `Serialize` writes them.
    pub const VARIABLES: [&'static str; 5] = [
        "currentTerm",
        "state",
        "configVersion",
        "configTerm",
        "config",
    ];

    /// Reads a state of a `servers`-server model back from the ITF JSON `Serialize` writes.
    pub fn read_itf(
        value: &spec_core::itf::Value,
        servers: usize,
    ) -> Result<State, spec_core::itf::ReadError> {
        let vars = spec_core::itf::Record::new(value, &Self::VARIABLES)?;
        Self::read_variables(&vars, servers)
    }

    /// Reads [`State::VARIABLES`] from a state's record, which may hold more (a composition
    /// such as MongoRaftReconfig reads its own): per-server functions over exactly the model's
    /// servers, terms and versions below 255 (so that a successor's term or version fits).
    pub fn read_variables(
        vars: &spec_core::itf::Record,
        servers: usize,
    ) -> Result<State, spec_core::itf::ReadError> {
        use spec_core::raft::{read_configs, read_roles, read_terms};
        let n = servers;
        if n > MAX_SERVERS {
            return Err(spec_core::itf::ReadError::state(format!(
                "{n} servers are more than the {MAX_SERVERS} the encoding holds"
            )));
        }
        let mut s = State::initial(n, ServerSet::EMPTY);
        s.current_term[..n].copy_from_slice(&vars.var("currentTerm", |v| read_terms(v, n))?);
        s.state[..n].copy_from_slice(&vars.var("state", |v| read_roles(v, n))?);
        s.config_version[..n].copy_from_slice(&vars.var("configVersion", |v| read_terms(v, n))?);
        s.config_term[..n].copy_from_slice(&vars.var("configTerm", |v| read_terms(v, n))?);
        s.config[..n].copy_from_slice(&vars.var("config", |v| read_configs(v, n))?);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_checks_match_their_definitions() {
        // Every assignment of terms 0..2 to 4 servers, with configs drawn from a few sets.
        let configs = [ServerSet(0b1111), ServerSet(0b0111), ServerSet(0b1001)];
        for code in 0..3u32.pow(4) {
            let mut s = State::initial(4, ServerSet(0b1111));
            for i in 0..4 {
                let digit = (code / 3u32.pow(i as u32) % 3) as u8;
                s.current_term[i] = digit;
                s.config_term[i] = digit / 2;
                s.config_version[i] = 1 + digit % 2;
                s.config[i] = configs[i % 3];
            }
            for i in 0..4 {
                let by_def_term = s.config[i]
                    .quorums()
                    .any(|q| q.iter().all(|t| s.current_term[t] == s.current_term[i]));
                let by_def_config = s.config[i].quorums().any(|q| {
                    q.iter().all(|t| {
                        s.config_version[t] == s.config_version[i]
                            && s.config_term[t] == s.config_term[i]
                    })
                });
                assert_eq!(term_quorum_check(&s, i, None), by_def_term);
                assert_eq!(config_quorum_check(&s, i), by_def_config);
                let count_term = s.config[i]
                    .quorums()
                    .filter(|q| q.iter().all(|t| s.current_term[t] == s.current_term[i]))
                    .count();
                assert_eq!(term_quorum_witnesses(&s, i, None), count_term);
                // One quorum for both; with the weakened term test, `>=`.
                for (mutation, term_ok) in [
                    (None, (|a, b| a == b) as fn(u8, u8) -> bool),
                    (Some(Mutation::TermQuorumCheckWeakened), |a, b| a >= b),
                ] {
                    let by_def_joint = s.config[i].quorums().any(|q| {
                        q.iter().all(|t| {
                            config_id(&s, t) == config_id(&s, i)
                                && term_ok(s.current_term[t], s.current_term[i])
                        })
                    });
                    assert_eq!(joint_quorum_check(&s, i, mutation), by_def_joint);
                    let by_def_term = s.config[i].quorums().any(|q| {
                        q.iter()
                            .all(|t| term_ok(s.current_term[t], s.current_term[i]))
                    });
                    assert_eq!(term_quorum_check(&s, i, mutation), by_def_term);
                }
                let count_config = s.config[i]
                    .quorums()
                    .filter(|q| q.iter().all(|t| config_id(&s, t) == config_id(&s, i)))
                    .count();
                assert_eq!(config_quorum_witnesses(&s, i), count_config);
            }
        }
    }

    #[test]
    fn serializes_with_tla_variable_names() {
        let s = State::initial(2, ServerSet(0b01));
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(
            json["config"],
            serde_json::json!({"#map": [["n1", {"#set": ["n1"]}], ["n2", {"#set": ["n1"]}]]})
        );
        assert_eq!(json["state"]["#map"][0][1], "Secondary");
        assert_eq!(json["configVersion"]["#map"][1][1], 1);
    }
}
