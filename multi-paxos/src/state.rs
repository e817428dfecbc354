//! The state of a Multi-Paxos cluster (every role's variables and the messages in flight) and
//! its invariants.
//!
//! # Names
//!
//! Acceptors are `a1, a2, ...`, leaders `l1, l2, ...`, replicas `r1, r2, ...` (replica `rk`
//! runs on the same node as leader `lk`, as in the paper's deployments, but the two share no
//! variable). Slots are `1, 2, ...`. Client commands are `c1, c2, ...`, and `noop` is the
//! command a replica proposes to fill a gap.
//!
//! # Accepted pvalues
//!
//! An acceptor's `accepted` is the set of every pvalue `(ballot, slot, command)` it ever
//! accepted, as in the paper (not only the greatest per slot). The state keeps those sets
//! together, as `votes[ballot][slot][command]` = the set of acceptors that accepted that pvalue,
//! so that "chosen" (accepted by a quorum of acceptors in one ballot) is read off directly.
//!
//! # The network
//!
//! The messages in flight are a *multiset* of [`Envelope`]s, each packed into one `u64` and
//! kept sorted (as message-raft's network): two networks holding the same messages are the same
//! bytes whatever the order of sending. The `MaxMessages` bound is a state constraint below the
//! capacity, so that a step that sends a whole broadcast always fits.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use spec_core::itf::{Map, Set, Tup};
use spec_core::multiset::{Packed64, SortedMultiset};
use spec_core::{Pack, ServerSet};

/// The most acceptors a model holds.
pub const MAX_ACCEPTORS: usize = 5;
/// The most leaders (and replicas) a model holds.
pub const MAX_LEADERS: usize = 3;
/// The largest ballot round.
pub const MAX_ROUND: usize = 3;
/// The most slots.
pub const MAX_SLOTS: usize = 3;
/// The most client commands.
pub const MAX_COMMANDS: usize = 3;
/// Client commands plus `noop`.
pub const MAX_VALUES: usize = MAX_COMMANDS + 1;
/// How many ballots `(round, leader)` with `round >= 1` the bounds allow.
pub const MAX_BALLOTS: usize = MAX_ROUND * MAX_LEADERS;
/// The largest `MaxMessages` bound.
pub const MAX_MESSAGES_BOUND: usize = 12;
/// The most messages a [`Network`] holds: the largest bound, one broadcast and one duplicate.
pub const NETWORK_CAPACITY: usize = MAX_MESSAGES_BOUND + MAX_ACCEPTORS + 1;

/// A ballot `(round, leader)`, ordered by round, then leader; `Ballot::NONE` (round 0) is below
/// every ballot. Stored as `round * 4 + leader`, so that comparing the numbers compares the
/// ballots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ballot(pub u8);

impl Ballot {
    /// No ballot: an acceptor that promised nothing, a leader that never ran phase 1.
    pub const NONE: Ballot = Ballot(0);

    /// The ballot of `leader` (0-based) in `round` (at least 1).
    pub fn new(round: usize, leader: usize) -> Ballot {
        debug_assert!(round <= MAX_ROUND && leader < 4);
        Ballot((round * 4 + leader) as u8)
    }
    /// Its round (0 for `NONE`).
    pub fn round(self) -> usize {
        (self.0 / 4) as usize
    }
    /// Its leader (0-based; meaningless for `NONE`).
    pub fn leader(self) -> usize {
        (self.0 % 4) as usize
    }
    /// Whether it is `NONE`.
    pub fn is_none(self) -> bool {
        self.0 == 0
    }
    /// Its position in per-ballot arrays (`round >= 1`).
    pub fn index(self) -> usize {
        (self.round() - 1) * MAX_LEADERS + self.leader()
    }
    /// The ballot at position `k` of per-ballot arrays.
    pub fn at_index(k: usize) -> Ballot {
        Ballot::new(k / MAX_LEADERS + 1, k % MAX_LEADERS)
    }
    /// Whether a model of `leaders` leaders and rounds `1..=max_round` has it.
    pub fn in_model(self, leaders: usize, max_round: usize) -> bool {
        (1..=max_round).contains(&self.round()) && self.leader() < leaders
    }
}

impl fmt::Display for Ballot {
    /// `round.leader`, such as `2.l1`; `NONE` is `0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            f.write_str("0")
        } else {
            write!(f, "{}.l{}", self.round(), self.leader() + 1)
        }
    }
}

impl Serialize for Ballot {
    /// `<<round, "l1">>`, and `<<0, "None">>` for no ballot.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let leader = if self.is_none() {
            "None".to_string()
        } else {
            leader_name(self.leader())
        };
        Tup(vec![
            serde_json::Value::from(self.round()),
            serde_json::Value::from(leader),
        ])
        .serialize(serializer)
    }
}

/// A command: `Value(0)` is no command, `1..=3` the client commands `c1..c3`, [`Value::NOOP`]
/// the no-op.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Value(pub u8);

impl Value {
    /// No command.
    pub const NONE: Value = Value(0);
    /// The no-op a replica proposes for a gap.
    pub const NOOP: Value = Value(MAX_VALUES as u8);

    /// Client command `c{k + 1}` (0-based `k`).
    pub fn command(k: usize) -> Value {
        Value(k as u8 + 1)
    }
    /// Whether it is no command.
    pub fn is_none(self) -> bool {
        self.0 == 0
    }
    /// Whether it is a client command (not none, not noop).
    pub fn is_command(self) -> bool {
        (1..=MAX_COMMANDS as u8).contains(&self.0)
    }
    /// Its position in per-value arrays (not for `NONE`).
    pub fn index(self) -> usize {
        self.0 as usize - 1
    }
    /// The bit of a client command in a set of commands.
    pub fn bit(self) -> u8 {
        1 << (self.0 - 1)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::NONE => f.write_str("none"),
            Value::NOOP => f.write_str("noop"),
            Value(c) => write!(f, "c{c}"),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

/// A ballot and a command: what an acceptor reports having accepted for one slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PValue {
    /// The ballot it was accepted in (`NONE`: nothing accepted).
    pub ballot: Ballot,
    /// The command.
    pub value: Value,
}

impl PValue {
    /// Nothing accepted.
    pub const NONE: PValue = PValue {
        ballot: Ballot::NONE,
        value: Value::NONE,
    };

    /// One byte: ballot in the high 5 bits, value in the low 3.
    fn byte(self) -> u8 {
        self.ballot.0 << 3 | self.value.0
    }
    fn from_byte(b: u8) -> PValue {
        PValue {
            ballot: Ballot(b >> 3),
            value: Value(b & 7),
        }
    }
}

impl fmt::Display for PValue {
    /// `2.l1 c1`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ballot.is_none() {
            f.write_str("none")
        } else {
            write!(f, "{} {}", self.ballot, self.value)
        }
    }
}

/// The greatest pvalue per slot of a set of pvalues: what the paper's `pmax` needs of them.
pub type Summary = [PValue; MAX_SLOTS];

/// A message of the protocol. Senders and receivers are in the [`Envelope`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Message {
    /// Replica to leader: `propose(slot, command)`.
    Propose {
        /// The slot.
        slot: u8,
        /// The command.
        value: Value,
    },
    /// Scout to acceptor: `p1a(ballot)`.
    P1a {
        /// The scout's ballot.
        ballot: Ballot,
    },
    /// Acceptor to scout: `p1b(ballot, accepted)`, with the acceptor's current ballot and, per
    /// slot, the greatest pvalue it accepted. It answers the scout of ballot `scout`: the paper
    /// sends it to that scout process, which the leader's current scout may no longer be.
    P1b {
        /// The ballot of the p1a it answers (which scout it goes to).
        scout: Ballot,
        /// The acceptor's ballot after handling the p1a.
        ballot: Ballot,
        /// The greatest pvalue accepted per slot.
        accepted: Summary,
    },
    /// Commander to acceptor: `p2a(ballot, slot, command)`.
    P2a {
        /// The commander's ballot.
        ballot: Ballot,
        /// The slot.
        slot: u8,
        /// The command.
        value: Value,
    },
    /// Acceptor to commander: `p2b(ballot)`, with the acceptor's current ballot. It answers
    /// the commander of ballot `commander` and `slot`, the p2a's.
    P2b {
        /// The ballot of the p2a it answers.
        commander: Ballot,
        /// The acceptor's ballot after handling the p2a.
        ballot: Ballot,
        /// The slot of the p2a it answers.
        slot: u8,
    },
    /// Commander to replica: `decision(slot, command)`.
    Decision {
        /// The slot.
        slot: u8,
        /// The command.
        value: Value,
    },
}

/// The message kinds, in the order of [`Message::kind`].
pub const MESSAGE_KINDS: [&str; 6] = ["Propose", "P1a", "P1b", "P2a", "P2b", "Decision"];

/// The role of a node: who sends and receives which message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleKind {
    /// `r1, r2, ...`
    Replica,
    /// `l1, l2, ...` (and their scouts and commanders)
    Leader,
    /// `a1, a2, ...`
    Acceptor,
}

impl RoleKind {
    /// The name of node `i` of this role.
    pub fn name(self, i: usize) -> String {
        match self {
            RoleKind::Replica => format!("r{}", i + 1),
            RoleKind::Leader => leader_name(i),
            RoleKind::Acceptor => format!("a{}", i + 1),
        }
    }
    /// The index of a node's name of this role (`l2` is 1), if it is one.
    pub fn index(self, name: &str) -> Option<usize> {
        let prefix = match self {
            RoleKind::Replica => 'r',
            RoleKind::Leader => 'l',
            RoleKind::Acceptor => 'a',
        };
        let digits = name.strip_prefix(prefix)?;
        let k: usize = digits.parse().ok()?;
        (k >= 1 && !digits.starts_with('0') && k <= 255).then(|| k - 1)
    }
}

/// Leader `i`'s name, `l{i + 1}`.
pub fn leader_name(i: usize) -> String {
    format!("l{}", i + 1)
}

impl Message {
    /// The kind's position in [`MESSAGE_KINDS`].
    pub fn kind(self) -> usize {
        match self {
            Message::Propose { .. } => 0,
            Message::P1a { .. } => 1,
            Message::P1b { .. } => 2,
            Message::P2a { .. } => 3,
            Message::P2b { .. } => 4,
            Message::Decision { .. } => 5,
        }
    }
    /// The roles of its sender and receiver.
    pub fn route(self) -> (RoleKind, RoleKind) {
        match self {
            Message::Propose { .. } => (RoleKind::Replica, RoleKind::Leader),
            Message::P1a { .. } | Message::P2a { .. } => (RoleKind::Leader, RoleKind::Acceptor),
            Message::P1b { .. } | Message::P2b { .. } => (RoleKind::Acceptor, RoleKind::Leader),
            Message::Decision { .. } => (RoleKind::Leader, RoleKind::Replica),
        }
    }
    /// The ballot it carries, if any.
    pub fn ballot(self) -> Option<Ballot> {
        match self {
            Message::P1a { ballot }
            | Message::P1b { ballot, .. }
            | Message::P2a { ballot, .. }
            | Message::P2b { ballot, .. } => Some(ballot),
            Message::Propose { .. } | Message::Decision { .. } => None,
        }
    }
    /// Its fields after the ballot, as bytes.
    fn fields(self) -> [u8; 4] {
        match self {
            Message::Propose { slot, value }
            | Message::P2a { slot, value, .. }
            | Message::Decision { slot, value } => [slot, value.0, 0, 0],
            Message::P1a { .. } => [0; 4],
            Message::P1b {
                scout, accepted, ..
            } => {
                let mut f = [0; 4];
                for (b, p) in f.iter_mut().zip(accepted) {
                    *b = p.byte();
                }
                f[3] = scout.0;
                f
            }
            Message::P2b {
                commander, slot, ..
            } => [slot, commander.0, 0, 0],
        }
    }
    /// The inverse of [`Message::kind`], [`Message::ballot`] and the fields.
    fn from_fields(kind: u8, ballot: Ballot, f: [u8; 4]) -> Option<Message> {
        let (slot, value) = (f[0], Value(f[1]));
        Some(match kind {
            0 => Message::Propose { slot, value },
            1 => Message::P1a { ballot },
            2 => Message::P1b {
                scout: Ballot(f[3]),
                ballot,
                accepted: std::array::from_fn(|s| PValue::from_byte(f[s])),
            },
            3 => Message::P2a {
                ballot,
                slot,
                value,
            },
            4 => Message::P2b {
                commander: Ballot(f[1]),
                ballot,
                slot,
            },
            5 => Message::Decision { slot, value },
            _ => return None,
        })
    }
}

impl fmt::Display for Message {
    /// `Propose(1, c1)`, `P1a(1.l1)`, `P1b(1.l1, 1.l2, [none, 1.l1 c1])` (the p1a's ballot,
    /// the acceptor's ballot, the greatest pvalue per slot up to the last one reported),
    /// `P2a(1.l1, 1, c1)`, `P2b(1.l1, 1.l1, 1)` (the p2a's ballot, the acceptor's ballot, the
    /// slot), `Decision(1, c1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Message::Propose { slot, value } => write!(f, "Propose({slot}, {value})"),
            Message::P1a { ballot } => write!(f, "P1a({ballot})"),
            Message::P1b {
                scout,
                ballot,
                accepted,
            } => {
                let last = accepted.iter().rposition(|p| !p.ballot.is_none());
                let items: Vec<String> = accepted[..last.map_or(0, |k| k + 1)]
                    .iter()
                    .map(|p| p.to_string())
                    .collect();
                write!(f, "P1b({scout}, {ballot}, [{}])", items.join(", "))
            }
            Message::P2a {
                ballot,
                slot,
                value,
            } => write!(f, "P2a({ballot}, {slot}, {value})"),
            Message::P2b {
                commander,
                ballot,
                slot,
            } => write!(f, "P2b({commander}, {ballot}, {slot})"),
            Message::Decision { slot, value } => write!(f, "Decision({slot}, {value})"),
        }
    }
}

/// A message with its sender and receiver (indexes within their roles, given by the kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Envelope {
    /// The sender.
    pub from: u8,
    /// The receiver.
    pub to: u8,
    /// The message.
    pub message: Message,
}

impl Envelope {
    /// The envelope as one number: kind, sender, receiver, ballot, then the message's fields,
    /// most significant byte first (so networks sort by kind, then by sender).
    pub fn packed(self) -> u64 {
        let f = self.message.fields();
        u64::from_be_bytes([
            self.message.kind() as u8,
            self.from,
            self.to,
            self.message.ballot().unwrap_or(Ballot::NONE).0,
            f[0],
            f[1],
            f[2],
            f[3],
        ])
    }

    /// The inverse of [`Envelope::packed`].
    pub fn unpacked(bits: u64) -> Option<Envelope> {
        let b = bits.to_be_bytes();
        Some(Envelope {
            from: b[1],
            to: b[2],
            message: Message::from_fields(b[0], Ballot(b[3]), [b[4], b[5], b[6], b[7]])?,
        })
    }
}

impl fmt::Display for Envelope {
    /// `r1 -> l2: Propose(1, c1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (from, to) = self.message.route();
        write!(
            f,
            "{} -> {}: {}",
            from.name(self.from as usize),
            to.name(self.to as usize),
            self.message
        )
    }
}

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

/// Where a leader is in its ballot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Phase {
    /// No scout and no commanders running: at the start, and after a preemption. The leader's
    /// `ballot` is then the greatest ballot it knows of, which its next ballot must exceed.
    #[default]
    Idle,
    /// Its scout runs phase 1 of `ballot`.
    Scouting,
    /// Its scout was adopted: commanders run phase 2 of `ballot` (the paper's `active`).
    Active,
}

/// A commander of the leader's current ballot for one slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Commander {
    /// Not spawned in this ballot.
    #[default]
    NotStarted,
    /// Spawned: its p2a went to every acceptor; `waitfor`'s complement, the acceptors that
    /// answered with the same ballot, is kept.
    Waiting(ServerSet),
    /// A quorum answered: the decision went to every replica.
    Done,
}

/// One leader, with its scout and its commanders (the paper's processes, kept as the leader's
/// variables: a leader runs one scout and one commander per slot, all for its current ballot).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Leader {
    /// The paper's `ballot_num` (see [`Phase::Idle`] for its meaning while idle).
    pub ballot: Ballot,
    /// Idle, scouting or active.
    pub phase: Phase,
    /// The paper's `proposals`: the command the leader proposes per slot.
    pub proposals: [Value; MAX_SLOTS],
    /// The scout's acceptors that promised `ballot` (while scouting).
    pub promised_by: ServerSet,
    /// The scout's `pvalues`, reduced to the greatest per slot (while scouting).
    pub pvalues: Summary,
    /// One commander per slot (while active).
    pub commanders: [Commander; MAX_SLOTS],
}

/// One replica.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Replica {
    /// The paper's `slot_in`: the next slot it proposes in.
    pub slot_in: u8,
    /// The paper's `slot_out`: the next slot it performs.
    pub slot_out: u8,
    /// The paper's `requests`: commands received and not yet proposed (bit `k` for `c{k+1}`).
    pub requests: u8,
    /// The paper's `proposals`: what it proposed per slot.
    pub proposals: [Value; MAX_SLOTS],
    /// The paper's `decisions`: what was decided per slot.
    pub decisions: [Value; MAX_SLOTS],
}

/// `votes[ballot][slot][value]`: the acceptors that accepted that pvalue.
pub type Votes = [[[ServerSet; MAX_VALUES]; MAX_SLOTS]; MAX_BALLOTS];

/// One state of the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// The number of acceptors; the same in every state of a model.
    pub acceptors: u8,
    /// The number of leaders, and of replicas.
    pub leaders: u8,
    /// The number of slots.
    pub slots: u8,
    /// Each acceptor's `ballot_num`: the greatest ballot it promised.
    pub promised: [Ballot; MAX_ACCEPTORS],
    /// Every acceptor's `accepted`, together (see the module docs).
    pub votes: Votes,
    /// The leaders.
    pub leader: [Leader; MAX_LEADERS],
    /// The replicas.
    pub replica: [Replica; MAX_LEADERS],
    /// The messages in flight.
    pub network: Network,
    /// How many more duplications the behaviour may contain.
    pub duplicates_left: u8,
}

impl Pack for Ballot {
    const MAX_PACKED: usize = 1;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        out[0] = self.0;
        1
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        Some(Ballot(u8::unpack(input)?))
    }
}

impl Pack for Value {
    const MAX_PACKED: usize = 1;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        out[0] = self.0;
        1
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        Some(Value(u8::unpack(input)?))
    }
}

impl Pack for PValue {
    const MAX_PACKED: usize = 2;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        out[0] = self.ballot.0;
        out[1] = self.value.0;
        2
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        Some(PValue {
            ballot: Ballot::unpack(input)?,
            value: Value::unpack(input)?,
        })
    }
}

impl Pack for Phase {
    const MAX_PACKED: usize = 1;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        out[0] = *self as u8;
        1
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        Some(match u8::unpack(input)? {
            0 => Phase::Idle,
            1 => Phase::Scouting,
            2 => Phase::Active,
            _ => return None,
        })
    }
}

impl Pack for Commander {
    const MAX_PACKED: usize = 3;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        let (tag, set) = match *self {
            Commander::NotStarted => (0, ServerSet::EMPTY),
            Commander::Waiting(set) => (1, set),
            Commander::Done => (2, ServerSet::EMPTY),
        };
        out[0] = tag;
        1 + set.pack_into(&mut out[1..])
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        let tag = u8::unpack(input)?;
        let set = ServerSet::unpack(input)?;
        match (tag, set) {
            (0, ServerSet::EMPTY) => Some(Commander::NotStarted),
            (1, set) => Some(Commander::Waiting(set)),
            (2, ServerSet::EMPTY) => Some(Commander::Done),
            _ => None,
        }
    }
}

spec_core::impl_pack!(Leader {
    ballot,
    phase,
    proposals,
    promised_by,
    pvalues,
    commanders
});

spec_core::impl_pack!(Replica {
    slot_in,
    slot_out,
    requests,
    proposals,
    decisions
});

spec_core::impl_pack!(State {
    acceptors,
    leaders,
    slots,
    promised,
    votes,
    leader,
    replica,
    network,
    duplicates_left
});

impl State {
    /// The initial state: the clients' `commands` commands already at the replicas, `ck` at
    /// replica `r((k - 1) mod leaders)`; nothing promised, accepted, proposed or decided;
    /// every leader idle; every replica at slot 1; nothing in flight.
    pub fn initial(
        acceptors: usize,
        leaders: usize,
        slots: usize,
        commands: usize,
        duplicates: u8,
    ) -> State {
        let mut replica = [Replica::default(); MAX_LEADERS];
        for r in &mut replica[..leaders] {
            r.slot_in = 1;
            r.slot_out = 1;
        }
        for k in 0..commands {
            replica[k % leaders].requests |= Value::command(k).bit();
        }
        State {
            acceptors: acceptors as u8,
            leaders: leaders as u8,
            slots: slots as u8,
            promised: [Ballot::NONE; MAX_ACCEPTORS],
            votes: [[[ServerSet::EMPTY; MAX_VALUES]; MAX_SLOTS]; MAX_BALLOTS],
            leader: [Leader::default(); MAX_LEADERS],
            replica,
            network: Network::EMPTY,
            duplicates_left: duplicates,
        }
    }

    /// The acceptor indexes.
    pub fn acceptor_ids(&self) -> std::ops::Range<usize> {
        0..self.acceptors as usize
    }
    /// The leader (and replica) indexes.
    pub fn leader_ids(&self) -> std::ops::Range<usize> {
        0..self.leaders as usize
    }
    /// The slots, 1-based.
    pub fn slot_numbers(&self) -> std::ops::RangeInclusive<u8> {
        1..=self.slots
    }

    /// Whether `set` is a quorum: a majority of the acceptors.
    pub fn is_quorum(&self, set: ServerSet) -> bool {
        2 * set.len() > self.acceptors as usize
    }

    /// The acceptors that accepted `(ballot, slot, value)`.
    pub fn voters(&self, ballot: Ballot, slot: u8, value: Value) -> ServerSet {
        self.votes[ballot.index()][slot as usize - 1][value.index()]
    }

    /// Every pvalue accepted by some acceptor, with its acceptors: `(ballot, slot, value,
    /// acceptors)`.
    pub fn accepted(&self) -> impl Iterator<Item = (Ballot, u8, Value, ServerSet)> + '_ {
        (0..MAX_BALLOTS).flat_map(move |b| {
            (0..MAX_SLOTS).flat_map(move |s| {
                (0..MAX_VALUES).filter_map(move |v| {
                    let set = self.votes[b][s][v];
                    (!set.is_empty())
                        .then(|| (Ballot::at_index(b), s as u8 + 1, Value(v as u8 + 1), set))
                })
            })
        })
    }

    /// The greatest pvalue acceptor `a` accepted in each slot: what its p1b carries.
    pub fn accepted_summary(&self, a: usize) -> Summary {
        let mut out = [PValue::NONE; MAX_SLOTS];
        for (ballot, slot, value, set) in self.accepted() {
            let best = &mut out[slot as usize - 1];
            if set.contains(a) && ballot > best.ballot {
                *best = PValue { ballot, value };
            }
        }
        out
    }

    /// Whether `value` is chosen in `slot` in `ballot`: a quorum of acceptors accepted it.
    pub fn chosen_in(&self, ballot: Ballot, slot: u8, value: Value) -> bool {
        self.is_quorum(self.voters(ballot, slot, value))
    }

    /// Whether `value` is chosen in `slot`: in some ballot, a quorum of acceptors accepted it.
    pub fn is_chosen(&self, slot: u8, value: Value) -> bool {
        (0..MAX_BALLOTS).any(|b| self.chosen_in(Ballot::at_index(b), slot, value))
    }

    /// The values chosen in `slot` (at most one, by OneValuePerSlot), as a bitmask by value
    /// index.
    pub fn chosen_values(&self, slot: u8) -> u8 {
        let mut mask = 0;
        for v in 0..MAX_VALUES {
            if self.is_chosen(slot, Value(v as u8 + 1)) {
                mask |= 1 << v;
            }
        }
        mask
    }
}

// ---------------------------------------------------------------------------------------------
// Serialization (ITF), one field per variable.
// ---------------------------------------------------------------------------------------------

impl Serialize for State {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde_json::{json, Value as J};
        let ballot = |b: Ballot| serde_json::to_value(b).expect("a ballot serializes");
        let slot_map = |values: &[Value]| -> Map<u8, Value> {
            Map(self
                .slot_numbers()
                .map(|s| (s, values[s as usize - 1]))
                .filter(|(_, v)| !v.is_none())
                .collect())
        };
        let commands = |mask: u8| -> Set<Value> {
            Set((0..MAX_COMMANDS)
                .filter(|k| mask & (1 << k) != 0)
                .map(Value::command)
                .collect())
        };
        let mut out = serializer.serialize_struct("State", 13)?;
        out.serialize_field(
            "ballotNum",
            &Map(self
                .acceptor_ids()
                .map(|a| (RoleKind::Acceptor.name(a), self.promised[a]))
                .collect()),
        )?;
        out.serialize_field(
            "accepted",
            &Map(self
                .acceptor_ids()
                .map(|a| {
                    let pvalues: Vec<J> = self
                        .accepted()
                        .filter(|(_, _, _, set)| set.contains(a))
                        .map(|(b, s, v, _)| json!({"#tup": [ballot(b), s, v.to_string()]}))
                        .collect();
                    (RoleKind::Acceptor.name(a), Set(pvalues))
                })
                .collect()),
        )?;
        let leaders = || self.leader_ids().map(|l| (leader_name(l), &self.leader[l]));
        out.serialize_field(
            "leaderBallot",
            &Map(leaders().map(|(n, l)| (n, l.ballot)).collect()),
        )?;
        out.serialize_field(
            "leaderPhase",
            &Map(leaders()
                .map(|(n, l)| (n, format!("{:?}", l.phase)))
                .collect()),
        )?;
        out.serialize_field(
            "leaderProposals",
            &Map(leaders()
                .map(|(n, l)| (n, slot_map(&l.proposals)))
                .collect()),
        )?;
        out.serialize_field(
            "scoutPromisedBy",
            &Map(leaders()
                .map(|(n, l)| {
                    let names: Vec<String> = l
                        .promised_by
                        .iter()
                        .map(|a| RoleKind::Acceptor.name(a))
                        .collect();
                    (n, Set(names))
                })
                .collect()),
        )?;
        out.serialize_field(
            "scoutPvalues",
            &Map(leaders()
                .map(|(n, l)| {
                    let pv: Vec<(u8, String)> = self
                        .slot_numbers()
                        .map(|s| (s, l.pvalues[s as usize - 1]))
                        .filter(|(_, p)| !p.ballot.is_none())
                        .map(|(s, p)| (s, p.to_string()))
                        .collect();
                    (n, Map(pv))
                })
                .collect()),
        )?;
        out.serialize_field(
            "commanders",
            &Map(leaders()
                .map(|(n, l)| {
                    let cs: Vec<(u8, String)> = self
                        .slot_numbers()
                        .map(|s| {
                            let c = match l.commanders[s as usize - 1] {
                                Commander::NotStarted => "NotStarted".to_string(),
                                Commander::Waiting(set) => {
                                    let names: Vec<String> =
                                        set.iter().map(|a| RoleKind::Acceptor.name(a)).collect();
                                    format!("Waiting({{{}}})", names.join(", "))
                                }
                                Commander::Done => "Done".to_string(),
                            };
                            (s, c)
                        })
                        .collect();
                    (n, Map(cs))
                })
                .collect()),
        )?;
        let replicas = || {
            self.leader_ids()
                .map(|r| (RoleKind::Replica.name(r), &self.replica[r]))
        };
        out.serialize_field(
            "slotIn",
            &Map(replicas().map(|(n, r)| (n, r.slot_in)).collect()),
        )?;
        out.serialize_field(
            "slotOut",
            &Map(replicas().map(|(n, r)| (n, r.slot_out)).collect()),
        )?;
        out.serialize_field(
            "requests",
            &Map(replicas().map(|(n, r)| (n, commands(r.requests))).collect()),
        )?;
        out.serialize_field(
            "replicaProposals",
            &Map(replicas()
                .map(|(n, r)| (n, slot_map(&r.proposals)))
                .collect()),
        )?;
        out.serialize_field(
            "decisions",
            &Map(replicas()
                .map(|(n, r)| (n, slot_map(&r.decisions)))
                .collect()),
        )?;
        out.serialize_field(
            "network",
            &Set(self.network.iter().map(|e| e.to_string()).collect()),
        )?;
        out.serialize_field("duplicatesLeft", &self.duplicates_left)?;
        out.end()
    }
}

// ---------------------------------------------------------------------------------------------
// Invariants.
// ---------------------------------------------------------------------------------------------

/// OneValuePerSlot (Paxos's consistency; Log's ChosenSafety one level down): at most one
/// command is chosen in each slot, over all ballots.
pub fn one_value_per_slot(s: &State) -> bool {
    s.slot_numbers()
        .all(|slot| s.chosen_values(slot).count_ones() <= 1)
}

/// DecisionsAreChosen: every decision a replica holds, and every decision message in flight,
/// is chosen (a commander announces only what a quorum accepted).
pub fn decisions_are_chosen(s: &State) -> bool {
    let replicas = s.leader_ids().all(|r| {
        s.slot_numbers().all(|slot| {
            let v = s.replica[r].decisions[slot as usize - 1];
            v.is_none() || s.is_chosen(slot, v)
        })
    });
    replicas
        && s.network.iter().all(|e| match e.message {
            Message::Decision { slot, value } => s.is_chosen(slot, value),
            _ => true,
        })
}

/// ReplicasAgree: two replicas that decided a slot decided the same command; so the commands
/// they performed (their decisions below `slot_out`) agree slot by slot.
pub fn replicas_agree(s: &State) -> bool {
    s.slot_numbers().all(|slot| {
        let mut seen = Value::NONE;
        s.leader_ids().all(|r| {
            let v = s.replica[r].decisions[slot as usize - 1];
            if v.is_none() {
                return true;
            }
            let same = seen.is_none() || seen == v;
            seen = v;
            same
        })
    })
}

/// AcceptedBelowPromised: an acceptor's accepted ballots are at most its `ballot_num`.
pub fn accepted_below_promised(s: &State) -> bool {
    s.accepted()
        .all(|(ballot, _, _, set)| set.iter().all(|a| ballot <= s.promised[a]))
}

/// Every pvalue proposed in phase 2: `(ballot, slot, value)` of each p2a in flight, each
/// accepted pvalue, and each started commander of an active leader.
fn proposed(s: &State) -> impl Iterator<Item = (Ballot, u8, Value)> + '_ {
    let in_flight = s.network.iter().filter_map(|e| match e.message {
        Message::P2a {
            ballot,
            slot,
            value,
        } => Some((ballot, slot, value)),
        _ => None,
    });
    let accepted = s.accepted().map(|(b, slot, v, _)| (b, slot, v));
    let commanders = s.leader_ids().flat_map(move |l| {
        let leader = &s.leader[l];
        s.slot_numbers().filter_map(move |slot| {
            let k = slot as usize - 1;
            (leader.phase == Phase::Active && leader.commanders[k] != Commander::NotStarted)
                .then_some((leader.ballot, slot, leader.proposals[k]))
        })
    });
    in_flight.chain(accepted).chain(commanders)
}

/// P2aUnique: one command per (ballot, slot) in phase 2: the p2a messages in flight, the
/// accepted pvalues and the running commanders never name two commands for one ballot and slot.
pub fn p2a_unique(s: &State) -> bool {
    let mut value_of = [[Value::NONE; MAX_SLOTS]; MAX_BALLOTS];
    proposed(s).all(|(b, slot, v)| {
        let seen = &mut value_of[b.index()][slot as usize - 1];
        let same = seen.is_none() || *seen == v;
        *seen = v;
        same
    })
}

/// ProposalsAreSafe (the heart of the argument): a command proposed in phase 2 of ballot `b`
/// for a slot is the only command that can have been chosen there in a ballot below `b`: no
/// other command is chosen in that slot in a lower ballot.
pub fn proposals_are_safe(s: &State) -> bool {
    proposed(s).all(|(b, slot, v)| {
        (0..b.index()).all(|lower| {
            let lower = Ballot::at_index(lower);
            lower >= b
                || (1..=MAX_VALUES as u8)
                    .map(Value)
                    .all(|w| w == v || !s.chosen_in(lower, slot, w))
        })
    })
}

/// ActiveLeadersAdopted: a leader in phase 2 of ballot `b` was adopted by a quorum: a majority
/// of acceptors have promised `b` or more.
pub fn active_leaders_adopted(s: &State) -> bool {
    s.leader_ids().all(|l| {
        let leader = &s.leader[l];
        leader.phase != Phase::Active || {
            let promised = s
                .acceptor_ids()
                .filter(|&a| s.promised[a] >= leader.ballot)
                .fold(ServerSet::EMPTY, ServerSet::with);
            s.is_quorum(promised)
        }
    })
}

/// PromisesAreTruthful: a p1b in flight carries a ballot its sender has reached, and reports
/// only pvalues its sender accepted, in ballots at most that ballot.
pub fn promises_are_truthful(s: &State) -> bool {
    s.network.iter().all(|e| match e.message {
        Message::P1b {
            ballot, accepted, ..
        } => {
            let a = e.from as usize;
            ballot <= s.promised[a]
                && s.slot_numbers().all(|slot| {
                    let p = accepted[slot as usize - 1];
                    p.ballot.is_none()
                        || (p.ballot <= ballot && s.voters(p.ballot, slot, p.value).contains(a))
                })
        }
        _ => true,
    })
}

/// PromisesOnlyGrow (an action property): an acceptor's `ballot_num` never decreases.
pub fn promises_only_grow(pre: &State, next: &State) -> bool {
    pre.acceptor_ids()
        .all(|a| pre.promised[a] <= next.promised[a])
}

/// DecisionsAreFinal (an action property): a replica never changes or forgets a decision,
/// and never moves `slot_out` back.
pub fn decisions_are_final(pre: &State, next: &State) -> bool {
    pre.leader_ids().all(|r| {
        let (a, b) = (&pre.replica[r], &next.replica[r]);
        a.slot_out <= b.slot_out
            && a.decisions
                .iter()
                .zip(&b.decisions)
                .all(|(x, y)| x.is_none() || x == y)
    })
}

/// The state constraint: at most `max_messages` messages in flight.
pub fn within_bounds(s: &State, max_messages: u8) -> bool {
    s.network.len() <= max_messages as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_order_by_round_then_leader() {
        assert!(Ballot::new(1, 2) < Ballot::new(2, 0));
        assert!(Ballot::new(2, 0) < Ballot::new(2, 1));
        assert!(Ballot::NONE < Ballot::new(1, 0));
        assert_eq!(Ballot::new(2, 1).to_string(), "2.l2");
        for k in 0..MAX_BALLOTS {
            assert_eq!(Ballot::at_index(k).index(), k);
        }
    }

    #[test]
    fn envelopes_round_trip() {
        let p1b = Envelope {
            from: 2,
            to: 1,
            message: Message::P1b {
                scout: Ballot::new(2, 1),
                ballot: Ballot::new(3, 2),
                accepted: [
                    PValue {
                        ballot: Ballot::new(3, 1),
                        value: Value::NOOP,
                    },
                    PValue::NONE,
                    PValue {
                        ballot: Ballot::new(1, 0),
                        value: Value::command(2),
                    },
                ],
            },
        };
        assert_eq!(Envelope::unpacked(p1b.packed()), Some(p1b));
        assert_eq!(
            p1b.to_string(),
            "a3 -> l2: P1b(2.l2, 3.l3, [3.l2 noop, none, 1.l1 c3])"
        );
        let mut n = Network::EMPTY;
        n.insert(p1b);
        n.insert(p1b);
        assert_eq!((n.len(), n.count(p1b), n.distinct().count()), (2, 2, 1));
        let mut bytes = Vec::new();
        n.pack(&mut bytes);
        assert_eq!(Network::unpack(&mut bytes.as_slice()), Some(n));
        assert!(n.remove(p1b));
        assert_eq!(n.len(), 1);
    }
}
