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
use spec_core::ServerSet;

/// The most servers a [`State`] holds (its per-server arrays have this many slots). Symmetry
/// reduction tries all `servers!` permutations, at most 120.
pub const MAX_SERVERS: usize = 5;

/// Logs, the `committed` variable and the log operators, shared with MongoWeakRaft.
pub use spec_core::raft::{
    in_log, last_term, Committed, CommittedEntry, Log, LOG_CAPACITY, MAX_COMMITTED_INDEX,
    MAX_COMMITTED_TERM,
};

/// The role of a server (shared with every Raft-family layer).
pub use spec_core::Role;

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

impl State {
    /// The TLA+ variables, in the order `Serialize` writes them.
    pub const VARIABLES: [&'static str; 5] = ["currentTerm", "state", "log", "config", "committed"];

    /// Reads a state of a `servers`-server model back from the ITF JSON `Serialize` writes:
    /// per-server functions over exactly the model's servers, logs of at most [`LOG_CAPACITY`]
    /// entries, committed records the bitmask holds.
    pub fn read_itf(value: &itf::Value, servers: usize) -> Result<State, itf::ReadError> {
        use spec_core::raft::{read_committed, read_configs, read_logs, read_roles, read_terms};
        let n = servers;
        if n > MAX_SERVERS {
            return Err(itf::ReadError::state(format!(
                "{n} servers are more than the {MAX_SERVERS} the encoding holds"
            )));
        }
        let vars = itf::Record::new(value, &Self::VARIABLES)?;
        let mut s = State::initial(n, ServerSet::EMPTY);
        s.current_term[..n].copy_from_slice(&vars.var("currentTerm", |v| read_terms(v, n))?);
        s.state[..n].copy_from_slice(&vars.var("state", |v| read_roles(v, n))?);
        s.log[..n].copy_from_slice(&vars.var("log", |v| read_logs(v, n))?);
        s.config[..n].copy_from_slice(&vars.var("config", |v| read_configs(v, n))?);
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

/// `IsPrefix(s, t)`: whether `s` is a prefix of `t`.
pub fn is_prefix(s: &Log, t: &Log) -> bool {
    t.as_slice().starts_with(s.as_slice())
}

// ---------------------------------------------------------------------------------------------
// Invariants and the action property, named as in the spec.
// ---------------------------------------------------------------------------------------------

/// OnePrimaryPerTerm: no two servers are Primary in the same term.
pub fn one_primary_per_term(s: &State) -> bool {
    spec_core::raft::one_primary_per_term(s.server_ids().map(|i| (s.state[i], s.current_term[i])))
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
