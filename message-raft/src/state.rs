//! The state of a cluster: every node's variables, the messages in flight, the history
//! variable `committed`, and what is left of the fault budgets; and its invariants.
//!
//! # The network
//!
//! The messages in flight are a *multiset* (a message may be in flight twice: it was
//! duplicated, or sent twice) of [`Envelope`]s, each packed into one `u64` and kept sorted, so
//! that two networks holding the same messages are the same bytes: equality, hashing and the
//! checker's fingerprint see the multiset, not the order of sending. A network holds at most
//! [`NETWORK_CAPACITY`] messages; the spec's `MaxMessages` bound is a state constraint well
//! below that (a state with more messages is generated and checked but not explored), so that
//! a step that sends a whole broadcast always fits.
//!
//! # Invariants
//!
//! The four of MongoRaftReconfig (OnePrimaryPerTerm, LogMatching, LeaderCompleteness,
//! StateMachineSafety), named as there, over the nodes' logs and the history variable
//! `committed`; and the message-level facts the protocol relies on: a message never carries a
//! term its sender has not reached (terms are durable), and a vote, in flight or counted by a
//! candidate, is the voter's recorded vote as long as the voter is in that term (votes are
//! durable and given once).

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use spec_core::itf::{server_name, Map, Set};
use spec_core::raft::{in_log, Log};

use spec_core::multiset::{Packed64, SortedMultiset};
use spec_core::{Pack, Server, ServerSet};

use crate::node::{Message, NodeRole, NodeState, MAX_SENDS, NOBODY};
use crate::repr::{Compact, EntryLog, NetworkOf, Repr};

/// A message with its sender and receiver.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Envelope<R: Repr = Compact> {
    /// The sender.
    pub from: Server,
    /// The receiver.
    pub to: Server,
    /// The message.
    pub message: Message<R>,
}

impl Copy for Envelope<Compact> {}

impl Envelope<Compact> {
    /// The envelope as one number: kind, sender, receiver, then the message's fields, most
    /// significant byte first (so networks sort by kind, then by sender).
    pub fn packed(self) -> u64 {
        let f = self.message.fields();
        u64::from_be_bytes([
            self.message.kind() as u8,
            self.from,
            self.to,
            f[0],
            f[1],
            f[2],
            f[3],
            f[4],
        ])
    }

    /// The inverse of [`Envelope::packed`].
    pub fn unpacked(bits: u64) -> Option<Envelope> {
        let b = bits.to_be_bytes();
        Some(Envelope {
            from: b[1],
            to: b[2],
            message: Message::from_fields(b[0] as usize, [b[3], b[4], b[5], b[6], b[7]])?,
        })
    }
}

impl<R: Repr> fmt::Display for Envelope<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {}: {}",
            server_name(self.from as usize),
            server_name(self.to as usize),
            self.message
        )
    }
}

/// The most messages a [`Network`] holds: the largest `MaxMessages` bound, plus one broadcast.
pub const NETWORK_CAPACITY: usize = MAX_MESSAGES_BOUND + MAX_SENDS + 1;

/// The largest `MaxMessages` bound.
pub const MAX_MESSAGES_BOUND: usize = 12;

/// The messages in flight: a multiset of envelopes, sorted by their packed bits (spec-core's
/// [`SortedMultiset`]).
pub type Network = SortedMultiset<Envelope, NETWORK_CAPACITY>;

impl Packed64 for Envelope {
    fn packed(self) -> u64 {
        Envelope::packed(self)
    }
    fn unpacked(bits: u64) -> Option<Envelope> {
        Envelope::unpacked(bits)
    }
}

impl Pack for NodeRole {
    const MAX_PACKED: usize = 1;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        out[0] = *self as u8;
        1
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        Some(match u8::unpack(input)? {
            0 => NodeRole::Secondary,
            1 => NodeRole::Candidate,
            2 => NodeRole::Primary,
            _ => return None,
        })
    }
}

spec_core::impl_pack!(NodeState {
    term,
    voted_for,
    log,
    config,
    config_version,
    config_term,
    role,
    votes,
    matched,
    acked,
    commit_index,
    elected_config
});

/// One state of the cluster, in representation `R` ([`Compact`] for the model checker; a
/// [`crate::repr::Wide`] one to replay a runtime's runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct State<R: Repr = Compact> {
    /// The number of servers; the same in every state of a model.
    pub servers: u8,
    /// Each node's variables; slots past `servers` stay at their default.
    pub nodes: R::Nodes,
    /// The messages in flight.
    pub network: R::Network,
    /// History variable: the entries primaries committed, as MongoRaftReconfig's `committed`
    /// (one record per commit: the entry and the committing primary's term).
    pub committed: R::Committed,
    /// How many more restarts the behaviour may contain.
    pub restarts_left: R::Num,
    /// How many more duplications the behaviour may contain.
    pub duplicates_left: R::Num,
}

spec_core::impl_pack!(State {
    servers,
    nodes,
    network,
    committed,
    restarts_left,
    duplicates_left
});

impl<R: Repr> State<R> {
    /// A new cluster of `servers` nodes, all with `config`, nothing in flight, and the given
    /// fault budgets.
    pub fn initial(
        servers: usize,
        config: ServerSet,
        restarts: R::Num,
        duplicates: R::Num,
    ) -> Self {
        State {
            servers: servers as u8,
            nodes: R::nodes(servers, NodeState::initial(config)),
            network: R::Network::default(),
            committed: R::Committed::default(),
            restarts_left: restarts,
            duplicates_left: duplicates,
        }
    }

    /// The server indexes `0..servers`.
    pub fn server_ids(&self) -> std::ops::Range<usize> {
        0..self.servers as usize
    }

    /// Node `i`'s variables.
    pub fn node(&self, i: usize) -> &NodeState<R> {
        &self.nodes.as_ref()[i]
    }

    /// Node `i`'s variables, to change.
    pub fn node_mut(&mut self, i: usize) -> &mut NodeState<R> {
        &mut self.nodes.as_mut()[i]
    }
}

impl<R: Repr> Serialize for State<R> {
    /// One field per variable, per-node ones as functions from server name to value; the
    /// network as a set of records (a copy of a message appears once per copy).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn per_node<R: Repr, T, F: Fn(&NodeState<R>) -> T>(s: &State<R>, f: F) -> Map<String, T> {
            Map(s
                .server_ids()
                .map(|i| (server_name(i), f(s.node(i))))
                .collect())
        }
        let mut out = serializer.serialize_struct("State", 15)?;
        out.serialize_field("currentTerm", &per_node(self, |n| n.term))?;
        out.serialize_field(
            "votedFor",
            &per_node(self, |n| {
                if n.voted_for == NOBODY {
                    "Nil".to_string()
                } else {
                    server_name(n.voted_for as usize)
                }
            }),
        )?;
        out.serialize_field("state", &per_node(self, |n| n.role.name()))?;
        out.serialize_field(
            "log",
            &per_node(self, |n| {
                (1..=n.log.len())
                    .map(|k| n.log.term_at(k).expect("within the log"))
                    .collect::<Vec<_>>()
            }),
        )?;
        out.serialize_field("config", &per_node(self, |n| n.config))?;
        out.serialize_field("configVersion", &per_node(self, |n| n.config_version))?;
        out.serialize_field("configTerm", &per_node(self, |n| n.config_term))?;
        out.serialize_field("votes", &per_node(self, |n| n.votes))?;
        out.serialize_field(
            "matched",
            &per_node(self, |n| {
                n.matched.as_ref()[..self.servers as usize].to_vec()
            }),
        )?;
        out.serialize_field("acked", &per_node(self, |n| n.acked))?;
        out.serialize_field("commitIndex", &per_node(self, |n| n.commit_index))?;
        out.serialize_field(
            "network",
            &Set(self.network.all().iter().map(|e| e.to_string()).collect()),
        )?;
        out.serialize_field("committed", &self.committed)?;
        out.serialize_field("restartsLeft", &self.restarts_left)?;
        out.serialize_field("duplicatesLeft", &self.duplicates_left)?;
        out.end()
    }
}

// ---------------------------------------------------------------------------------------------
// The safety properties of MongoRaftReconfig, over the nodes.
// ---------------------------------------------------------------------------------------------

fn primaries(s: &State) -> impl Iterator<Item = usize> + '_ {
    s.server_ids()
        .filter(|&i| s.nodes[i].role == NodeRole::Primary)
}

/// OnePrimaryPerTerm: no two nodes are Primary in the same term.
pub fn one_primary_per_term(s: &State) -> bool {
    let mut seen = 0u64;
    for i in primaries(s) {
        let bit = 1u64 << (s.nodes[i].term & 63);
        if seen & bit != 0 {
            return false;
        }
        seen |= bit;
    }
    true
}

/// LogMatching: two logs holding the same term at an index are equal up to it.
pub fn log_matching(s: &State) -> bool {
    s.server_ids().all(|a| {
        s.server_ids()
            .all(|b| a >= b || s.nodes[a].log.log_matches(&s.nodes[b].log))
    })
}

/// LeaderCompleteness: a primary holds every entry committed in a term up to its own.
pub fn leader_completeness(s: &State) -> bool {
    primaries(s).all(|i| {
        let node = &s.nodes[i];
        s.committed
            .iter()
            .all(|c| c.term > node.term || in_log(c.index, c.entry_term, &node.log))
    })
}

/// StateMachineSafety: two records committed at one index are the same entry.
pub fn state_machine_safety(s: &State) -> bool {
    let mut entry_at = [0u8; Log::CAPACITY + 1];
    s.committed.iter().all(|c| {
        let slot = &mut entry_at[c.index as usize];
        let same = *slot == 0 || *slot == c.entry_term;
        *slot = c.entry_term;
        same
    })
}

/// PrimaryConfigTermEqualToCurrentTerm (of MongoRaftReconfig's inductive invariant): a
/// primary's config carries its term.
pub fn primary_config_term_equal_to_current_term(s: &State) -> bool {
    primaries(s).all(|i| s.nodes[i].config_term == s.nodes[i].term)
}

// ---------------------------------------------------------------------------------------------
// Network and message sanity.
// ---------------------------------------------------------------------------------------------

/// MessageTermsNotAhead: every message's term is at most its sender's current term (terms
/// are durable and only grow).
pub fn message_terms_not_ahead(s: &State) -> bool {
    s.network
        .iter()
        .all(|e| e.message.term() <= s.nodes[e.from as usize].term)
}

/// MessagesWellAddressed: every message goes between two distinct servers of the cluster.
pub fn messages_well_addressed(s: &State) -> bool {
    s.network
        .iter()
        .all(|e| e.from != e.to && e.from < s.servers && e.to < s.servers)
}

/// VotesAreRecorded: a granted vote (in flight, or counted by a candidate) from a voter still
/// in the vote's term is the vote the voter recorded: no voter backs two candidates in a term.
pub fn votes_are_recorded(s: &State) -> bool {
    let recorded = |voter: usize, term: u8, candidate: usize| {
        let v = &s.nodes[voter];
        v.term != term || v.voted_for == candidate as u8
    };
    let in_flight = s.network.iter().all(|e| match e.message {
        Message::VoteGranted { term } => recorded(e.from as usize, term, e.to as usize),
        _ => true,
    });
    in_flight
        && s.server_ids().all(|c| {
            let node = &s.nodes[c];
            node.role != NodeRole::Candidate
                || node
                    .votes
                    .iter()
                    .all(|v| v == c || recorded(v, node.term, c))
        })
}

/// The state constraint: terms, logs, config versions and messages in flight within bounds.
pub fn within_bounds(
    s: &State,
    max_term: u8,
    max_log_len: u8,
    max_config_version: u8,
    max_messages: u8,
) -> bool {
    s.network.len() <= max_messages as usize
        && s.server_ids().all(|i| {
            let n = &s.nodes[i];
            n.term <= max_term
                && n.log.len() <= max_log_len as usize
                && n.config_version <= max_config_version
        })
}

/// The members of `set`, for printing.
pub fn names(set: ServerSet) -> String {
    let names: Vec<String> = set.iter().map(server_name).collect();
    format!("{{{}}}", names.join(", "))
}

// ---------------------------------------------------------------------------------------------
// The same invariants, written plainly for any representation.
// ---------------------------------------------------------------------------------------------

/// The invariants' names, in the order of [`MessageRaft`](crate::MessageRaft)'s `invariants`.
pub const INVARIANT_NAMES: [&str; 8] = [
    "OnePrimaryPerTerm",
    "LogMatching",
    "LeaderCompleteness",
    "StateMachineSafety",
    "PrimaryConfigTermEqualToCurrentTerm",
    "MessageTermsNotAhead",
    "MessagesWellAddressed",
    "VotesAreRecorded",
];

/// The first invariant (in [`INVARIANT_NAMES`] order) that `s` breaks, evaluated plainly from
/// the definitions for any representation (a runtime's states included); `None` if all hold.
/// A test checks it agrees with the fast `Compact` functions above on reachable states,
/// correct and mutated.
pub fn first_broken_invariant<R: Repr>(s: &State<R>) -> Option<&'static str> {
    use crate::repr::{History, Num};
    let ids = s.server_ids();
    let node = |i: usize| s.node(i);
    let terms = move |i: usize| -> Vec<R::Num> {
        (1..=node(i).log.len())
            .map(|k| node(i).log.term_at(k).expect("within the log"))
            .collect()
    };
    let primaries: Vec<usize> = ids
        .clone()
        .filter(|&i| node(i).role == NodeRole::Primary)
        .collect();
    let committed = s.committed.records();
    let in_flight = s.network.all();
    let one_primary_per_term = primaries.iter().all(|&a| {
        primaries
            .iter()
            .all(|&b| a == b || node(a).term != node(b).term)
    });
    if !one_primary_per_term {
        return Some(INVARIANT_NAMES[0]);
    }
    let log_matching = ids.clone().all(|a| {
        ids.clone().all(|b| {
            let (x, y) = (terms(a), terms(b));
            let common = x.len().min(y.len());
            (0..common).all(|k| x[k] != y[k] || x[..=k] == y[..=k])
        })
    });
    if !log_matching {
        return Some(INVARIANT_NAMES[1]);
    }
    let leader_completeness = primaries.iter().all(|&p| {
        committed.iter().all(|&(index, entry_term, term)| {
            term > node(p).term || node(p).log.term_at(index.index()) == Some(entry_term)
        })
    });
    if !leader_completeness {
        return Some(INVARIANT_NAMES[2]);
    }
    let state_machine_safety = committed
        .iter()
        .all(|&(i, t, _)| committed.iter().all(|&(j, u, _)| i != j || t == u));
    if !state_machine_safety {
        return Some(INVARIANT_NAMES[3]);
    }
    if !primaries
        .iter()
        .all(|&p| node(p).config_term == node(p).term)
    {
        return Some(INVARIANT_NAMES[4]);
    }
    if !in_flight
        .iter()
        .all(|e| e.message.term() <= node(e.from as usize).term)
    {
        return Some(INVARIANT_NAMES[5]);
    }
    if !in_flight
        .iter()
        .all(|e| e.from != e.to && e.from < s.servers && e.to < s.servers)
    {
        return Some(INVARIANT_NAMES[6]);
    }
    let recorded = |voter: usize, term: R::Num, candidate: usize| {
        node(voter).term != term || node(voter).voted_for == candidate as u8
    };
    let votes_are_recorded = in_flight.iter().all(|e| match e.message {
        Message::VoteGranted { term } => recorded(e.from as usize, term, e.to as usize),
        _ => true,
    }) && ids.clone().all(|c| {
        node(c).role != NodeRole::Candidate
            || node(c)
                .votes
                .iter()
                .all(|v| v == c || recorded(v, node(c).term, c))
    });
    if !votes_are_recorded {
        return Some(INVARIANT_NAMES[7]);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(from: u8, to: u8, term: u8) -> Envelope {
        Envelope {
            from,
            to,
            message: Message::VoteGranted { term },
        }
    }

    #[test]
    fn the_network_is_a_sorted_multiset() {
        let mut a = Network::EMPTY;
        a.insert(envelope(1, 0, 1));
        a.insert(envelope(0, 1, 1));
        a.insert(envelope(1, 0, 1));
        let mut b = Network::EMPTY;
        b.insert(envelope(1, 0, 1));
        b.insert(envelope(1, 0, 1));
        b.insert(envelope(0, 1, 1));
        assert_eq!(a, b);
        assert_eq!(a.len(), 3);
        assert_eq!(a.distinct().count(), 2);
        assert_eq!(a.count(envelope(1, 0, 1)), 2);
        assert!(a.remove(envelope(1, 0, 1)));
        assert_eq!(a.count(envelope(1, 0, 1)), 1);
        assert!(!a.remove(envelope(2, 0, 1)));
        let mut bytes = Vec::new();
        a.pack(&mut bytes);
        assert_eq!(Network::unpack(&mut bytes.as_slice()), Some(a));
    }

    #[test]
    fn envelopes_round_trip() {
        let e = Envelope {
            from: 2,
            to: 0,
            message: Message::Heartbeat {
                term: 2,
                config: ServerSet(0b011),
                config_version: 2,
                config_term: 1,
            },
        };
        assert_eq!(Envelope::unpacked(e.packed()), Some(e));
        assert_eq!(e.to_string(), "n3 -> n1: Heartbeat(term 2, {n1, n2} v2 t1)");
    }
}
