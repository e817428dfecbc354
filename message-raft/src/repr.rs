//! How a node's variables are represented: the model checker's compact encoding, or a
//! runtime's wide one. The node core ([`crate::node`]) and the spec's steps
//! ([`crate::actions::step`]) are written once, generic over a [`Repr`]; the model checker runs
//! them on [`Compact`], a runtime (and the validation of its runs) on [`Wide`].
//!
//! | | [`Compact`] (the spec's) | [`Wide`] (a runtime's) |
//! |---|---|---|
//! | terms, indexes, config versions | `u8` | `u64` |
//! | log | [`spec_core::raft::Log`]: at most 6 entry terms inline, no payload | a `Vec` of (term, payload) with no cap |
//! | servers | at most 5 (per-node arrays of 5) | at most 16 (a [`spec_core::ServerSet`] is 16 bits) |
//! | network (spec state) | a sorted array of packed `u64`s, at most 17 messages | a sorted map envelope -> copies, no cap |
//! | `committed` (spec state) | a 128-bit set, indexes and terms `1..=5` | a set of records, no cap |
//!
//! What the spec explores is unchanged by this split: [`Compact`] is the encoding the model
//! checker always used (same bytes packed, same states, same counts), and its bounds are still
//! checked by the spec's own state constraint. A runtime gets the same handlers without the
//! caps.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;
use spec_core::raft::{CommittedEntry, Log};

use crate::node::{Message, NodeState};
use crate::state::{Envelope, Network};

/// A term, an index or a config version.
pub trait Num:
    Copy + Ord + Hash + Debug + Display + Default + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The number `n`. Panics if the representation cannot hold it.
    fn from_usize(n: usize) -> Self;
    /// The number as an index.
    fn index(self) -> usize;
    /// The number as a `u64`.
    fn as_u64(self) -> u64 {
        self.index() as u64
    }
    /// `self + 1`. Panics on overflow (the spec's constraint keeps its states far below).
    fn succ(self) -> Self {
        Self::from_usize(self.index() + 1)
    }
    /// `self - 1`. Panics below zero.
    fn pred(self) -> Self {
        Self::from_usize(self.index().checked_sub(1).expect("a number below zero"))
    }
}

impl Num for u8 {
    fn from_usize(n: usize) -> u8 {
        u8::try_from(n).expect("a number past what u8 holds")
    }
    fn index(self) -> usize {
        self as usize
    }
}

impl Num for u64 {
    fn from_usize(n: usize) -> u64 {
        n as u64
    }
    fn index(self) -> usize {
        usize::try_from(self).expect("an index past usize")
    }
}

/// What a log entry carries besides its term: the client's command, opaque to the protocol.
pub trait Payload:
    Clone + Ord + Hash + Debug + Default + Serialize + DeserializeOwned + Send + Sync + 'static
{
}
impl<
        T: Clone + Ord + Hash + Debug + Default + Serialize + DeserializeOwned + Send + Sync + 'static,
    > Payload for T
{
}

/// A log: entries with a term and a payload, indexed from 1 as in TLA+.
pub trait EntryLog<N: Num, P: Payload>:
    Clone + PartialEq + Eq + Hash + Debug + Default + Send + Sync
{
    /// A cheap token that changes whenever the log changes (so that a handler's caller can tell
    /// whether the log needs writing without copying it).
    type Mark: Eq + Copy + Debug;
    /// `Len(log)`.
    fn len(&self) -> usize;
    /// Whether the log is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The term of the entry at `index` (1-based), if there is one.
    fn term_at(&self, index: usize) -> Option<N>;
    /// The payload of the entry at `index` (1-based), if there is one.
    fn payload_at(&self, index: usize) -> Option<P>;
    /// `LastTerm(log)`: the last entry's term, 0 for an empty log.
    fn last_term(&self) -> N {
        self.term_at(self.len()).unwrap_or_default()
    }
    /// Appends an entry.
    fn push(&mut self, term: N, payload: P);
    /// Drops the last entry, if any.
    fn pop(&mut self);
    /// Whether the representation holds no more entries ([`Compact`]'s cap; a runtime's log
    /// is never full).
    fn is_full(&self) -> bool;
    /// The current [`EntryLog::Mark`].
    fn mark(&self) -> Self::Mark;
}

impl EntryLog<u8, ()> for Log {
    type Mark = Log;
    fn len(&self) -> usize {
        Log::len(self)
    }
    fn term_at(&self, index: usize) -> Option<u8> {
        self.at(index)
    }
    fn payload_at(&self, index: usize) -> Option<()> {
        self.at(index).map(|_| ())
    }
    fn push(&mut self, term: u8, _: ()) {
        Log::push(self, term);
    }
    fn pop(&mut self) {
        Log::pop(self);
    }
    fn is_full(&self) -> bool {
        Log::len(self) >= Log::CAPACITY
    }
    fn mark(&self) -> Log {
        *self
    }
}

/// A runtime's log: every entry's term and payload, with no cap. Equality and hashing see the
/// entries only; [`WideLog::changes`] counts mutations, for [`EntryLog::mark`], and
/// [`WideLog::low_water`] says from which index on the log changed since the runtime last
/// wrote it (what a write-ahead log must truncate to and append from).
#[derive(Clone, Debug, Default)]
pub struct WideLog<P> {
    entries: Vec<(u64, P)>,
    changes: u64,
    low_water: usize,
}

impl<P: Payload> WideLog<P> {
    /// A log holding `entries`, as written (its low-water mark at its length).
    pub fn from_entries(entries: Vec<(u64, P)>) -> WideLog<P> {
        let low_water = entries.len();
        WideLog {
            entries,
            changes: 0,
            low_water,
        }
    }
    /// The entries.
    pub fn entries(&self) -> &[(u64, P)] {
        &self.entries
    }
    /// The number of mutations so far.
    pub fn changes(&self) -> u64 {
        self.changes
    }
    /// The shortest length the log had since [`WideLog::mark_written`]: entries past it are
    /// new (or replaced) and must be written.
    pub fn low_water(&self) -> usize {
        self.low_water
    }
    /// The runtime wrote the log as it is.
    pub fn mark_written(&mut self) {
        self.low_water = self.entries.len();
    }
}

impl<P: PartialEq> PartialEq for WideLog<P> {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}
impl<P: Eq> Eq for WideLog<P> {}
impl<P: Hash> Hash for WideLog<P> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.entries.hash(state)
    }
}

impl<P: Payload> EntryLog<u64, P> for WideLog<P> {
    type Mark = (usize, u64);
    fn len(&self) -> usize {
        self.entries.len()
    }
    fn term_at(&self, index: usize) -> Option<u64> {
        index
            .checked_sub(1)
            .and_then(|k| self.entries.get(k))
            .map(|e| e.0)
    }
    fn payload_at(&self, index: usize) -> Option<P> {
        index
            .checked_sub(1)
            .and_then(|k| self.entries.get(k))
            .map(|e| e.1.clone())
    }
    fn push(&mut self, term: u64, payload: P) {
        self.entries.push((term, payload));
        self.changes += 1;
    }
    fn pop(&mut self) {
        if self.entries.pop().is_some() {
            self.changes += 1;
            self.low_water = self.low_water.min(self.entries.len());
        }
    }
    fn is_full(&self) -> bool {
        false
    }
    fn mark(&self) -> (usize, u64) {
        (self.entries.len(), self.changes)
    }
}

/// The messages in flight: a multiset of envelopes.
pub trait NetworkOf<R: Repr>:
    Clone + PartialEq + Eq + Hash + Debug + Default + Send + Sync
{
    /// How many messages are in flight (copies counted).
    fn len(&self) -> usize;
    /// Whether nothing is in flight.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Every message in flight, copies included, in order.
    fn all(&self) -> Vec<Envelope<R>>;
    /// Every distinct message in flight, once, in order.
    fn distinct_envelopes(&self) -> Vec<Envelope<R>>;
    /// How many copies of `e` are in flight.
    fn copies(&self, e: &Envelope<R>) -> usize;
    /// Adds one copy of `e`.
    fn add(&mut self, e: Envelope<R>);
    /// Removes one copy of `e`; false if none is in flight.
    fn take(&mut self, e: &Envelope<R>) -> bool;
}

impl NetworkOf<Compact> for Network {
    fn len(&self) -> usize {
        Network::len(self)
    }
    fn all(&self) -> Vec<Envelope> {
        self.iter().collect()
    }
    fn distinct_envelopes(&self) -> Vec<Envelope> {
        self.distinct().collect()
    }
    fn copies(&self, e: &Envelope) -> usize {
        self.count(*e)
    }
    fn add(&mut self, e: Envelope) {
        self.insert(e)
    }
    fn take(&mut self, e: &Envelope) -> bool {
        self.remove(*e)
    }
}

/// A runtime's network: envelope -> copies in flight, no cap.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WideNetwork<P: Payload> {
    copies: BTreeMap<Envelope<Wide<P>>, usize>,
    len: usize,
}

impl<P: Payload> NetworkOf<Wide<P>> for WideNetwork<P> {
    fn len(&self) -> usize {
        self.len
    }
    fn all(&self) -> Vec<Envelope<Wide<P>>> {
        self.copies
            .iter()
            .flat_map(|(e, &n)| std::iter::repeat_n(e.clone(), n))
            .collect()
    }
    fn distinct_envelopes(&self) -> Vec<Envelope<Wide<P>>> {
        self.copies.keys().cloned().collect()
    }
    fn copies(&self, e: &Envelope<Wide<P>>) -> usize {
        self.copies.get(e).copied().unwrap_or(0)
    }
    fn add(&mut self, e: Envelope<Wide<P>>) {
        *self.copies.entry(e).or_insert(0) += 1;
        self.len += 1;
    }
    fn take(&mut self, e: &Envelope<Wide<P>>) -> bool {
        match self.copies.get_mut(e) {
            None => false,
            Some(n) => {
                *n -= 1;
                if *n == 0 {
                    self.copies.remove(e);
                }
                self.len -= 1;
                true
            }
        }
    }
}

/// The history variable `committed`: (index, entry term, committing primary's term) records.
pub trait History<N: Num>: Clone + PartialEq + Eq + Hash + Debug + Default + Send + Sync {
    /// Adds a record.
    fn record(&mut self, index: N, entry_term: N, term: N);
    /// The records, ordered by index, then entry term, then commit term.
    fn records(&self) -> Vec<(N, N, N)>;
}

impl History<u8> for spec_core::raft::Committed {
    fn record(&mut self, index: u8, entry_term: u8, term: u8) {
        *self = self.with(CommittedEntry {
            index,
            entry_term,
            term,
        });
    }
    fn records(&self) -> Vec<(u8, u8, u8)> {
        self.iter()
            .map(|c| (c.index, c.entry_term, c.term))
            .collect()
    }
}

impl History<u64> for BTreeSet<(u64, u64, u64)> {
    fn record(&mut self, index: u64, entry_term: u64, term: u64) {
        self.insert((index, entry_term, term));
    }
    fn records(&self) -> Vec<(u64, u64, u64)> {
        self.iter().copied().collect()
    }
}

/// A representation of a node's and a cluster's variables (see the module docs).
pub trait Repr:
    Clone + Copy + Debug + PartialEq + Eq + Hash + Default + Send + Sync + 'static
{
    /// Terms, indexes, config versions, fault budgets.
    type Num: Num;
    /// What an entry carries.
    type Payload: Payload;
    /// A node's log.
    type Log: EntryLog<Self::Num, Self::Payload>;
    /// One number per server (a primary's `matched`).
    type PerServer: AsRef<[Self::Num]>
        + AsMut<[Self::Num]>
        + Clone
        + PartialEq
        + Eq
        + Hash
        + Debug
        + Default
        + Send
        + Sync;
    /// The messages one input sends, with their destinations (slots past the count empty).
    type Sends: AsRef<[Option<(u8, Message<Self>)>]>
        + AsMut<[Option<(u8, Message<Self>)>]>
        + Clone
        + PartialEq
        + Eq
        + Debug
        + Default;
    /// The nodes of a cluster state.
    type Nodes: AsRef<[NodeState<Self>]>
        + AsMut<[NodeState<Self>]>
        + Clone
        + PartialEq
        + Eq
        + Hash
        + Debug
        + Send
        + Sync;
    /// The messages in flight of a cluster state.
    type Network: NetworkOf<Self>;
    /// The history variable `committed` of a cluster state.
    type Committed: History<Self::Num> + Serialize;
    /// The most servers a cluster has.
    const MAX_SERVERS: usize;
    /// `servers` copies of `node` (and, where the representation has fixed slots, default
    /// nodes past them).
    fn nodes(servers: usize, node: NodeState<Self>) -> Self::Nodes;
}

/// The spec's representation: the compact encoding the model checker explores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Compact;

impl Repr for Compact {
    type Num = u8;
    type Payload = ();
    type Log = Log;
    type PerServer = [u8; crate::node::MAX_SERVERS];
    type Sends = [Option<(u8, Message<Compact>)>; crate::node::MAX_SENDS];
    type Nodes = [NodeState<Compact>; crate::node::MAX_SERVERS];
    type Network = Network;
    type Committed = spec_core::raft::Committed;
    const MAX_SERVERS: usize = crate::node::MAX_SERVERS;
    fn nodes(servers: usize, node: NodeState<Compact>) -> Self::Nodes {
        let mut nodes = [NodeState::default(); crate::node::MAX_SERVERS];
        nodes[..servers].fill(node);
        nodes
    }
}

/// The most servers a [`Wide`] cluster has: a [`spec_core::ServerSet`] holds 16.
pub const WIDE_MAX_SERVERS: usize = spec_core::MAX_SERVERS;

/// A runtime's representation: `u64` numbers, uncapped logs whose entries carry a `P`, up to
/// 16 servers.
#[derive(Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Wide<P>(PhantomData<fn() -> P>);

impl<P> Clone for Wide<P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P> Copy for Wide<P> {}

impl<P: Payload> Repr for Wide<P> {
    type Num = u64;
    type Payload = P;
    type Log = WideLog<P>;
    type PerServer = [u64; WIDE_MAX_SERVERS];
    type Sends = [Option<(u8, Message<Wide<P>>)>; WIDE_MAX_SERVERS - 1];
    type Nodes = Vec<NodeState<Wide<P>>>;
    type Network = WideNetwork<P>;
    type Committed = BTreeSet<(u64, u64, u64)>;
    const MAX_SERVERS: usize = WIDE_MAX_SERVERS;
    fn nodes(servers: usize, node: NodeState<Wide<P>>) -> Vec<NodeState<Wide<P>>> {
        vec![node; servers]
    }
}

#[cfg(test)]
mod tests {
    //! The two representations run the same code: from every state of a sample of reachable
    //! `Compact` states, every binding of every action gives the same successor, or none, in
    //! both.

    use super::*;
    use crate::actions::{every_binding, step, Action};
    use crate::node::Mutation;
    use crate::state::State;
    use crate::{InitialConfigs, MessageRaft};
    use spec_core::Spec;

    type W = Wide<()>;

    fn widen_message(m: &Message) -> Message<W> {
        match *m {
            Message::RequestVote {
                term,
                last_index,
                last_term,
                config_version,
                config_term,
            } => Message::RequestVote {
                term: term.into(),
                last_index: last_index.into(),
                last_term: last_term.into(),
                config_version: config_version.into(),
                config_term: config_term.into(),
            },
            Message::VoteGranted { term } => Message::VoteGranted { term: term.into() },
            Message::VoteDenied { term } => Message::VoteDenied { term: term.into() },
            Message::PullEntries {
                term,
                last_index,
                last_term,
            } => Message::PullEntries {
                term: term.into(),
                last_index: last_index.into(),
                last_term: last_term.into(),
            },
            Message::Entries {
                term,
                prev_index,
                prev_term,
                entry_term,
                ..
            } => Message::Entries {
                term: term.into(),
                prev_index: prev_index.into(),
                prev_term: prev_term.into(),
                entry_term: entry_term.into(),
                payload: (),
            },
            Message::Rollback {
                term,
                last_index,
                last_term,
            } => Message::Rollback {
                term: term.into(),
                last_index: last_index.into(),
                last_term: last_term.into(),
            },
            Message::Heartbeat {
                term,
                config,
                config_version,
                config_term,
            } => Message::Heartbeat {
                term: term.into(),
                config,
                config_version: config_version.into(),
                config_term: config_term.into(),
            },
            Message::HeartbeatReply {
                term,
                config_version,
                config_term,
            } => Message::HeartbeatReply {
                term: term.into(),
                config_version: config_version.into(),
                config_term: config_term.into(),
            },
        }
    }

    fn widen_envelope(e: &Envelope) -> Envelope<W> {
        Envelope {
            from: e.from,
            to: e.to,
            message: widen_message(&e.message),
        }
    }

    fn widen_action(a: &Action) -> Action<W> {
        match a {
            Action::Deliver { message } => Action::Deliver {
                message: widen_envelope(message),
            },
            Action::Lose { message } => Action::Lose {
                message: widen_envelope(message),
            },
            Action::Duplicate { message } => Action::Duplicate {
                message: widen_envelope(message),
            },
            &Action::Fire { i, timer } => Action::Fire { i, timer },
            &Action::ClientWrite { i, .. } => Action::ClientWrite { i, payload: () },
            &Action::Reconfig { i, new_config } => Action::Reconfig { i, new_config },
            &Action::Restart { i } => Action::Restart { i },
        }
    }

    fn widen(s: &State) -> State<W> {
        let n = s.servers as usize;
        let mut out: State<W> = State::initial(
            n,
            spec_core::ServerSet::EMPTY,
            s.restarts_left.into(),
            s.duplicates_left.into(),
        );
        for i in 0..n {
            let c = &s.nodes[i];
            let mut matched = [0u64; WIDE_MAX_SERVERS];
            for (k, &m) in c.matched.iter().enumerate() {
                matched[k] = m.into();
            }
            *out.node_mut(i) = NodeState {
                term: c.term.into(),
                voted_for: c.voted_for,
                log: WideLog::from_entries(
                    c.log.as_slice().iter().map(|&t| (t.into(), ())).collect(),
                ),
                config: c.config,
                config_version: c.config_version.into(),
                config_term: c.config_term.into(),
                role: c.role,
                votes: c.votes,
                matched,
                acked: c.acked,
                commit_index: c.commit_index.into(),
                elected_config: c.elected_config,
            };
        }
        for e in s.network.iter() {
            out.network.add(widen_envelope(&e));
        }
        for c in s.committed.iter() {
            out.committed
                .record(c.index.into(), c.entry_term.into(), c.term.into());
        }
        out
    }

    #[test]
    fn compact_and_wide_agree_on_every_step() {
        let plain = MessageRaft::new(3, 1, 2, 2, 3, 1, 1).unwrap();
        let mut specs = vec![
            plain,
            plain.with_initial_configs(InitialConfigs::EveryNonempty),
        ];
        specs.extend(Mutation::ALL.map(|m| plain.with_mutation(m)));
        let mut compared = 0;
        for spec in specs {
            let mut frontier = spec.init_states();
            let mut seen = std::collections::HashSet::new();
            while let Some(s) = frontier.pop() {
                if seen.len() >= 3_000 || !seen.insert(s) {
                    continue;
                }
                let w = widen(&s);
                for a in every_binding(&s) {
                    let compact = step(&s, &a, spec.mutation());
                    let wide = step(&w, &widen_action(&a), spec.mutation());
                    assert_eq!(compact.as_ref().map(widen), wide, "{a} from {s:?}");
                    if let Some(t) = compact {
                        if spec.within_constraint(&t) {
                            frontier.push(t);
                        }
                    }
                    compared += 1;
                }
            }
        }
        assert!(compared > 100_000, "{compared}");
    }
}

#[cfg(test)]
mod invariant_tests {
    use crate::state::{first_broken_invariant, State};
    use crate::{InitialConfigs, MessageRaft, Mutation};
    use spec_core::Spec;

    /// The plain invariants agree with the spec's fast ones on reachable states, correct and
    /// mutated (where they break).
    #[test]
    fn plain_invariants_agree_with_the_specs() {
        let plain = MessageRaft::new(3, 1, 2, 2, 3, 1, 1).unwrap();
        let mut specs = vec![plain.with_initial_configs(InitialConfigs::EveryNonempty)];
        specs.extend(Mutation::ALL.map(|m| {
            plain
                .with_initial_configs(InitialConfigs::EveryNonempty)
                .with_mutation(m)
        }));
        let mut broken = 0;
        for spec in specs {
            let invariants = spec.invariants();
            let mut frontier: Vec<State> = spec.init_states();
            let mut seen = std::collections::HashSet::new();
            let mut succ = Vec::new();
            while let Some(s) = frontier.pop() {
                if seen.len() >= 4_000 || !seen.insert(s) {
                    continue;
                }
                let fast = invariants
                    .iter()
                    .find(|inv| !(inv.holds)(&spec, &s))
                    .map(|inv| inv.name);
                assert_eq!(first_broken_invariant(&s), fast, "{s:?}");
                broken += fast.is_some() as usize;
                succ.clear();
                spec.next_states(&s, &mut succ);
                frontier.extend(
                    succ.iter()
                        .map(|(_, t)| *t)
                        .filter(|t| spec.within_constraint(t)),
                );
            }
        }
        assert!(broken > 0, "some mutated state breaks an invariant");
    }
}
