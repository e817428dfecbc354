//! The steps of the cluster: one role handles one input, or the network misbehaves.
//!
//! Each step is one process of the paper acting alone on its own variables and sending
//! messages: a replica proposes a request, or a no-op for
//! a gap; a leader starts a ballot (spawns its scout) or spawns a commander; one message in
//! flight is delivered to its receiver, which handles it as the paper's pseudocode does. The
//! network may also lose a message, or duplicate one within a budget.
//!
//! [`step`] is the definition: one action, its guard, its effect. [`next`] enumerates the
//! successors of a state by trying [`step`] on every binding, in a fixed order.

use std::fmt;

use spec_core::{Server, ServerSet};

use crate::state::{
    Ballot, Commander, Envelope, Message, PValue, Phase, RoleKind, State, Summary, Value,
    MAX_SLOTS, MESSAGE_KINDS,
};
use crate::{Bounds, Mutation};

/// One step of the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Replica `r` proposes its request `c` in its next free slot, to every leader.
    Propose {
        /// The replica.
        r: Server,
        /// The command.
        c: Value,
    },
    /// Replica `r` proposes `noop` for the slot it must perform next, which is a gap: nobody
    /// proposed there through it, nothing is decided there, and a later slot is decided.
    ProposeNoop {
        /// The replica.
        r: Server,
    },
    /// Leader `l`, idle, starts the next ballot: it spawns a scout, which sends p1a to every
    /// acceptor.
    StartBallot {
        /// The leader.
        l: Server,
    },
    /// Leader `l`, active, spawns the commander of `slot` for its proposal there, which sends
    /// p2a to every acceptor.
    SpawnCommander {
        /// The leader.
        l: Server,
        /// The slot.
        slot: u8,
    },
    /// The network delivers one copy of `message` to its receiver, which handles it.
    Deliver {
        /// The message.
        message: Envelope,
    },
    /// The network loses one copy of `message`.
    Lose {
        /// The message.
        message: Envelope,
    },
    /// The network duplicates `message` (within the duplication budget).
    Duplicate {
        /// The message.
        message: Envelope,
    },
}

/// The action names: the process steps, one handler per message kind, then the faults.
pub const ACTION_NAMES: &[&str] = &ALL_NAMES;

const ALL_NAMES: [&str; 12] = [
    "Propose",
    "ProposeNoop",
    "StartBallot",
    "SpawnCommander",
    "OnPropose",
    "OnP1a",
    "OnP1b",
    "OnP2a",
    "OnP2b",
    "OnDecision",
    "LoseMessage",
    "DuplicateMessage",
];

/// The actions of a model: [`ACTION_NAMES`] without the faults it has no budget for (a model
/// without loss has no `LoseMessage`, one with no duplications no `DuplicateMessage`), so that
/// a checker's coverage does not call a fault the model excludes an action never enabled.
pub fn action_names(lossy: bool, duplicates: bool) -> &'static [&'static str] {
    const NO_DUPLICATES: [&str; 11] =
        spec_core::action_names_without(&ALL_NAMES, &["DuplicateMessage"]);
    const NO_LOSS: [&str; 11] = spec_core::action_names_without(&ALL_NAMES, &["LoseMessage"]);
    const NO_FAULTS: [&str; 10] =
        spec_core::action_names_without(&ALL_NAMES, &["LoseMessage", "DuplicateMessage"]);
    match (lossy, duplicates) {
        (true, true) => ACTION_NAMES,
        (true, false) => &NO_DUPLICATES,
        (false, false) => &NO_FAULTS,
        (false, true) => &NO_LOSS,
    }
}

/// The handler name of each message kind, in the order of [`MESSAGE_KINDS`].
const HANDLERS: [&str; 6] = [
    "OnPropose",
    "OnP1a",
    "OnP1b",
    "OnP2a",
    "OnP2b",
    "OnDecision",
];

impl spec_core::Action for Action {
    /// A delivery is named by its handler, so that coverage shows which handlers ran.
    fn name(&self) -> &'static str {
        match self {
            Action::Propose { .. } => "Propose",
            Action::ProposeNoop { .. } => "ProposeNoop",
            Action::StartBallot { .. } => "StartBallot",
            Action::SpawnCommander { .. } => "SpawnCommander",
            Action::Deliver { message } => HANDLERS[message.message.kind()],
            Action::Lose { .. } => "LoseMessage",
            Action::Duplicate { .. } => "DuplicateMessage",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = |i: u8| RoleKind::Replica.name(i as usize);
        let l = |i: u8| RoleKind::Leader.name(i as usize);
        match *self {
            Action::Propose { r: i, c } => write!(f, "Propose({}, {c})", r(i)),
            Action::ProposeNoop { r: i } => write!(f, "ProposeNoop({})", r(i)),
            Action::StartBallot { l: i } => write!(f, "StartBallot({})", l(i)),
            Action::SpawnCommander { l: i, slot } => {
                write!(f, "SpawnCommander({}, {slot})", l(i))
            }
            Action::Deliver { message } => write!(f, "Deliver({message})"),
            Action::Lose { message } => write!(f, "LoseMessage({message})"),
            Action::Duplicate { message } => write!(f, "DuplicateMessage({message})"),
        }
    }
}

/// A node of `role` by name, as the byte an action stores.
fn node(role: RoleKind, arg: &str) -> Result<u8, String> {
    role.index(arg).map(|i| i as u8).ok_or_else(|| {
        format!(
            "{arg} is not a name {}",
            role.name(0).replace('1', "1, ...")
        )
    })
}

/// A byte-sized natural number.
fn byte(arg: &str) -> Result<u8, String> {
    let n = spec_core::action_text::natural(arg)?;
    u8::try_from(n).map_err(|_| format!("{n} is past 255"))
}

/// A command as it prints: `c1`, `noop` or `none`.
pub(crate) fn value_of(arg: &str) -> Result<Value, String> {
    match arg {
        "noop" => Ok(Value::NOOP),
        "none" => Ok(Value::NONE),
        _ => {
            let k = arg
                .strip_prefix('c')
                .and_then(|d| d.parse::<usize>().ok())
                .filter(|&k| (1..=crate::state::MAX_COMMANDS).contains(&k))
                .ok_or_else(|| format!("{arg} is not a command c1, c2, c3 or noop"))?;
            Ok(Value::command(k - 1))
        }
    }
}

/// A ballot as it prints: `2.l1`, or `0` for none.
pub(crate) fn ballot_of(arg: &str) -> Result<Ballot, String> {
    if arg == "0" {
        return Ok(Ballot::NONE);
    }
    let (round, leader) = arg
        .split_once('.')
        .ok_or_else(|| format!("{arg} is not a ballot round.leader such as 1.l2"))?;
    let round = spec_core::action_text::natural(round)?;
    let leader = RoleKind::Leader
        .index(leader)
        .ok_or_else(|| format!("{leader} is not a leader name l1, l2, ..."))?;
    if !(1..=crate::state::MAX_ROUND).contains(&round) || leader >= crate::state::MAX_LEADERS {
        return Err(format!("{arg} is past the ballots a model holds"));
    }
    Ok(Ballot::new(round, leader))
}

/// A pvalue as it prints: `2.l1 c1`, or `none`.
pub(crate) fn pvalue_of(arg: &str) -> Result<PValue, String> {
    if arg == "none" {
        return Ok(PValue::NONE);
    }
    let (ballot, value) = arg
        .split_once(' ')
        .ok_or_else(|| format!("{arg} is not a pvalue `ballot command` or none"))?;
    Ok(PValue {
        ballot: ballot_of(ballot.trim())?,
        value: value_of(value.trim())?,
    })
}

/// Reads a message as it prints.
fn message_of(text: &str) -> Result<Message, String> {
    use spec_core::action_text::{call, split_top_level};
    let (name, args) = call(text)?;
    Ok(match (name, &args[..]) {
        ("Propose", [slot, value]) => Message::Propose {
            slot: byte(slot)?,
            value: value_of(value)?,
        },
        ("P1a", [ballot]) => Message::P1a {
            ballot: ballot_of(ballot)?,
        },
        ("P1b", [scout, ballot, accepted]) => {
            let body = accepted
                .strip_prefix('[')
                .and_then(|a| a.strip_suffix(']'))
                .ok_or_else(|| format!("{accepted} is not a list [pvalue, ...]"))?;
            let items = split_top_level(body)?;
            if items.len() > MAX_SLOTS {
                return Err(format!("{accepted} lists more than {MAX_SLOTS} slots"));
            }
            let mut summary: Summary = [PValue::NONE; MAX_SLOTS];
            for (p, item) in summary.iter_mut().zip(items) {
                *p = pvalue_of(item)?;
            }
            Message::P1b {
                scout: ballot_of(scout)?,
                ballot: ballot_of(ballot)?,
                accepted: summary,
            }
        }
        ("P2a", [ballot, slot, value]) => Message::P2a {
            ballot: ballot_of(ballot)?,
            slot: byte(slot)?,
            value: value_of(value)?,
        },
        ("P2b", [commander, ballot, slot]) => Message::P2b {
            commander: ballot_of(commander)?,
            ballot: ballot_of(ballot)?,
            slot: byte(slot)?,
        },
        ("Decision", [slot, value]) => Message::Decision {
            slot: byte(slot)?,
            value: value_of(value)?,
        },
        _ => {
            return Err(format!(
                "no message {name} with {} fields; the messages are: {}",
                args.len(),
                MESSAGE_KINDS.join(", ")
            ))
        }
    })
}

/// Reads `s -> t: MESSAGE`, as an envelope prints; the names must be of the message's roles.
pub(crate) fn envelope(text: &str) -> Result<Envelope, String> {
    let (route, message) = text
        .split_once(':')
        .ok_or_else(|| format!("expected `s -> t: MESSAGE`, not `{text}`"))?;
    let (from, to) = route
        .split_once("->")
        .ok_or_else(|| format!("expected `s -> t`, not `{route}`"))?;
    let message = message_of(message.trim())?;
    let (sender, receiver) = message.route();
    Ok(Envelope {
        from: node(sender, from.trim())?,
        to: node(receiver, to.trim())?,
        message,
    })
}

impl std::str::FromStr for Action {
    type Err = spec_core::action_text::ParseActionError;

    /// Reads back what `Display` writes, such as `Propose(r1, c2)` or
    /// `Deliver(a2 -> l1: P1b(1.l1, [none, 1.l2 c1]))`.
    fn from_str(text: &str) -> Result<Action, Self::Err> {
        use spec_core::action_text::{parse, unknown};
        parse(text, |name, args| match (name, args) {
            ("Propose", [r, c]) => Ok(Action::Propose {
                r: node(RoleKind::Replica, r)?,
                c: value_of(c)?,
            }),
            ("ProposeNoop", [r]) => Ok(Action::ProposeNoop {
                r: node(RoleKind::Replica, r)?,
            }),
            ("StartBallot", [l]) => Ok(Action::StartBallot {
                l: node(RoleKind::Leader, l)?,
            }),
            ("SpawnCommander", [l, slot]) => Ok(Action::SpawnCommander {
                l: node(RoleKind::Leader, l)?,
                slot: byte(slot)?,
            }),
            ("Deliver", [m]) => Ok(Action::Deliver {
                message: envelope(m)?,
            }),
            ("LoseMessage", [m]) => Ok(Action::Lose {
                message: envelope(m)?,
            }),
            ("DuplicateMessage", [m]) => Ok(Action::Duplicate {
                message: envelope(m)?,
            }),
            _ => Err(unknown(
                name,
                args,
                &[
                    "Propose(r, c)",
                    "ProposeNoop(r)",
                    "StartBallot(l)",
                    "SpawnCommander(l, slot)",
                    "Deliver(s -> t: MESSAGE)",
                    "LoseMessage(s -> t: MESSAGE)",
                    "DuplicateMessage(s -> t: MESSAGE)",
                ],
            )),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Sending.
// ---------------------------------------------------------------------------------------------

fn send(next: &mut State, from: usize, to: usize, message: Message) {
    next.network.insert(Envelope {
        from: from as u8,
        to: to as u8,
        message,
    });
}

fn to_every_leader(next: &mut State, replica: usize, message: Message) {
    for l in next.leader_ids() {
        send(next, replica, l, message);
    }
}

fn to_every_acceptor(next: &mut State, leader: usize, message: Message) {
    for a in next.acceptor_ids() {
        send(next, leader, a, message);
    }
}

fn to_every_replica(next: &mut State, leader: usize, message: Message) {
    for r in next.leader_ids() {
        send(next, leader, r, message);
    }
}

// ---------------------------------------------------------------------------------------------
// Replica.
// ---------------------------------------------------------------------------------------------

/// The paper's `propose()` for one request: skip slots already decided, then propose `c` in
/// `slot_in` to every leader and move `slot_in` on.
fn propose(s: &State, r: usize, c: Value) -> Option<State> {
    if r >= s.leaders as usize || !c.is_command() || s.replica[r].requests & c.bit() == 0 {
        return None;
    }
    let replica = &s.replica[r];
    let mut slot = replica.slot_in;
    while slot <= s.slots && !replica.decisions[slot as usize - 1].is_none() {
        slot += 1;
    }
    if slot > s.slots {
        return None;
    }
    let mut next = *s;
    let replica = &mut next.replica[r];
    replica.requests &= !c.bit();
    replica.proposals[slot as usize - 1] = c;
    replica.slot_in = slot + 1;
    to_every_leader(&mut next, r, Message::Propose { slot, value: c });
    Some(next)
}

/// No-op filling: the slot replica `r` must perform next is a gap (nothing decided or proposed
/// there by `r`, and a later slot is decided), so `r` proposes `noop` there.
fn propose_noop(s: &State, r: usize) -> Option<State> {
    if r >= s.leaders as usize {
        return None;
    }
    let replica = &s.replica[r];
    let out = replica.slot_out;
    if out > s.slots {
        return None;
    }
    let k = out as usize - 1;
    let later_decided = (out + 1..=s.slots).any(|t| !replica.decisions[t as usize - 1].is_none());
    if !replica.decisions[k].is_none() || !replica.proposals[k].is_none() || !later_decided {
        return None;
    }
    let mut next = *s;
    let replica = &mut next.replica[r];
    replica.proposals[k] = Value::NOOP;
    replica.slot_in = replica.slot_in.max(out + 1);
    to_every_leader(
        &mut next,
        r,
        Message::Propose {
            slot: out,
            value: Value::NOOP,
        },
    );
    Some(next)
}

/// A replica receives `decision(slot, value)`: it records it, then performs every decided slot
/// from `slot_out` on, in order; a proposal of its own that lost its slot goes back to its
/// requests (a no-op that lost is dropped).
fn on_decision(next: &mut State, r: usize, slot: u8, value: Value) {
    let slots = next.slots;
    let replica = &mut next.replica[r];
    replica.decisions[slot as usize - 1] = value;
    while replica.slot_out <= slots {
        let k = replica.slot_out as usize - 1;
        let decided = replica.decisions[k];
        if decided.is_none() {
            break;
        }
        let mine = replica.proposals[k];
        replica.proposals[k] = Value::NONE;
        if mine.is_command() && mine != decided {
            replica.requests |= mine.bit();
        }
        // perform(decided): the state machine applies it; its log is the decisions below
        // slot_out.
        replica.slot_out += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Leader, scout, commander.
// ---------------------------------------------------------------------------------------------

/// Scout: leader `l`, idle, takes the ballot after the greatest it knows and sends p1a.
fn start_ballot(s: &State, b: &Bounds, l: usize) -> Option<State> {
    if l >= s.leaders as usize || s.leader[l].phase != Phase::Idle {
        return None;
    }
    let round = s.leader[l].ballot.round() + 1;
    if round > b.max_round {
        return None;
    }
    let ballot = Ballot::new(round, l);
    let mut next = *s;
    let leader = &mut next.leader[l];
    leader.ballot = ballot;
    leader.phase = Phase::Scouting;
    leader.promised_by = ServerSet::EMPTY;
    leader.pvalues = [PValue::NONE; MAX_SLOTS];
    leader.commanders = [Commander::NotStarted; MAX_SLOTS];
    to_every_acceptor(&mut next, l, Message::P1a { ballot });
    Some(next)
}

/// Commander: leader `l`, active, spawns the commander of `slot` for its proposal there.
fn spawn_commander(s: &State, l: usize, slot: u8) -> Option<State> {
    if l >= s.leaders as usize || !(1..=s.slots).contains(&slot) {
        return None;
    }
    let leader = &s.leader[l];
    let k = slot as usize - 1;
    let value = leader.proposals[k];
    if leader.phase != Phase::Active
        || value.is_none()
        || leader.commanders[k] != Commander::NotStarted
    {
        return None;
    }
    let mut next = *s;
    next.leader[l].commanders[k] = Commander::Waiting(ServerSet::EMPTY);
    let ballot = leader.ballot;
    to_every_acceptor(
        &mut next,
        l,
        Message::P2a {
            ballot,
            slot,
            value,
        },
    );
    Some(next)
}

/// A leader receives `propose(slot, value)`: it keeps it unless it already has a proposal for
/// that slot. (An active leader's commander for it is [`Action::SpawnCommander`].)
fn on_propose(next: &mut State, l: usize, slot: u8, value: Value) {
    let p = &mut next.leader[l].proposals[slot as usize - 1];
    if p.is_none() {
        *p = value;
    }
}

/// `preempted(ballot)`: a scout or commander of `l` heard of a greater ballot; `l` stops them
/// and becomes idle, remembering the ballot to exceed.
fn preempt(next: &mut State, l: usize, ballot: Ballot) {
    let leader = &mut next.leader[l];
    leader.ballot = ballot;
    leader.phase = Phase::Idle;
    leader.promised_by = ServerSet::EMPTY;
    leader.pvalues = [PValue::NONE; MAX_SLOTS];
    leader.commanders = [Commander::NotStarted; MAX_SLOTS];
}

/// The scout of `l` for ballot `scout` receives `p1b(ballot, accepted)` from acceptor `a`. A
/// greater ballot preempts the leader (the paper's scout sends `preempted` to its leader, which
/// acts on it only if the ballot exceeds its own); the same ballot is a promise, counted if that
/// scout is still the leader's. A majority of promises adopts the leader.
fn on_p1b(
    next: &mut State,
    l: usize,
    a: usize,
    (scout, ballot): (Ballot, Ballot),
    accepted: Summary,
    mutation: Option<Mutation>,
) {
    let current = next.leader[l].ballot;
    if ballot > current {
        preempt(next, l, ballot);
        return;
    }
    if ballot != scout || scout != current || next.leader[l].phase != Phase::Scouting {
        return;
    }
    let leader = &mut next.leader[l];
    leader.promised_by = leader.promised_by.with(a);
    for (best, p) in leader.pvalues.iter_mut().zip(accepted) {
        if p.ballot > best.ballot {
            *best = p;
        }
    }
    let promised_by = leader.promised_by;
    let adopted = if mutation == Some(Mutation::AdoptWithoutMajority) {
        2 * (promised_by.len() + 1) > next.acceptors as usize
    } else {
        next.is_quorum(promised_by)
    };
    if !adopted {
        return;
    }
    // adopted(ballot, pvalues): proposals := proposals <| pmax(pvalues).
    let leader = &mut next.leader[l];
    if mutation != Some(Mutation::IgnorePromisedValues) {
        for (proposal, p) in leader.proposals.iter_mut().zip(leader.pvalues) {
            if !p.ballot.is_none() {
                *proposal = p.value;
            }
        }
    }
    leader.phase = Phase::Active;
    leader.promised_by = ServerSet::EMPTY;
    leader.pvalues = [PValue::NONE; MAX_SLOTS];
    leader.commanders = [Commander::NotStarted; MAX_SLOTS];
}

/// The commander of `l` for ballot `commander` and `slot` receives `p2b(ballot)` from acceptor
/// `a`. A greater ballot preempts the leader; the same ballot is an acceptance, counted if that
/// commander is still the leader's. A majority of acceptances decides: the commander sends the
/// decision to every replica.
fn on_p2b(
    next: &mut State,
    l: usize,
    a: usize,
    (commander, ballot): (Ballot, Ballot),
    slot: u8,
    mutation: Option<Mutation>,
) {
    let current = next.leader[l].ballot;
    let counts_rejections = mutation == Some(Mutation::CommanderCountsRejections);
    if ballot > current && !counts_rejections {
        preempt(next, l, ballot);
        return;
    }
    // Whose acceptance this is: the p2a's commander (the mutations: the leader's current one,
    // or a rejection counted as an acceptance).
    let commander = if mutation == Some(Mutation::RepliesToCurrentCommander) {
        current
    } else {
        commander
    };
    let accepted = ballot == commander || (counts_rejections && ballot > commander);
    let k = slot as usize - 1;
    let leader = &next.leader[l];
    let Commander::Waiting(waiting) = leader.commanders[k] else {
        return;
    };
    if !accepted || commander != current || leader.phase != Phase::Active {
        return;
    }
    let heard = waiting.with(a);
    if next.is_quorum(heard) {
        next.leader[l].commanders[k] = Commander::Done;
        let value = next.leader[l].proposals[k];
        to_every_replica(next, l, Message::Decision { slot, value });
    } else {
        next.leader[l].commanders[k] = Commander::Waiting(heard);
    }
}

// ---------------------------------------------------------------------------------------------
// Acceptor.
// ---------------------------------------------------------------------------------------------

/// Acceptor `a` receives `p1a(ballot)` from leader `l`: it promises a greater ballot, and
/// answers with its ballot and what it accepted.
fn on_p1a(next: &mut State, a: usize, l: usize, ballot: Ballot) {
    if ballot > next.promised[a] {
        next.promised[a] = ballot;
    }
    let reply = Message::P1b {
        scout: ballot,
        ballot: next.promised[a],
        accepted: next.accepted_summary(a),
    };
    send(next, a, l, reply);
}

/// Acceptor `a` receives `p2a(ballot, slot, value)` from leader `l`: unless it promised a
/// greater ballot, it accepts the pvalue; it answers with its ballot.
fn on_p2a(
    next: &mut State,
    mutation: Option<Mutation>,
    a: usize,
    l: usize,
    ballot: Ballot,
    slot: u8,
    value: Value,
) {
    if ballot >= next.promised[a] || mutation == Some(Mutation::AcceptLowerBallot) {
        next.promised[a] = next.promised[a].max(ballot);
        let voters = &mut next.votes[ballot.index()][slot as usize - 1][value.index()];
        *voters = voters.with(a);
    }
    let reply = Message::P2b {
        commander: ballot,
        ballot: next.promised[a],
        slot,
    };
    send(next, a, l, reply);
}

// ---------------------------------------------------------------------------------------------
// The network.
// ---------------------------------------------------------------------------------------------

/// Whether `e` could be in flight in `s`: sender and receiver exist, its ballot, slot and
/// command are the model's. A delivery of anything else is not a step.
pub(crate) fn well_formed(s: &State, b: &Bounds, e: Envelope) -> bool {
    let (from, to) = e.message.route();
    let count = |role| match role {
        RoleKind::Acceptor => s.acceptors as usize,
        RoleKind::Leader | RoleKind::Replica => s.leaders as usize,
    };
    let slot_ok = |slot: u8| (1..=s.slots).contains(&slot);
    let value_ok = |v: Value| v == Value::NOOP || (v.is_command() && v.index() < b.commands);
    let ballot_ok = |ballot: Ballot| ballot.in_model(s.leaders as usize, b.max_round);
    (e.from as usize) < count(from)
        && (e.to as usize) < count(to)
        && match e.message {
            Message::Propose { slot, value } | Message::Decision { slot, value } => {
                slot_ok(slot) && value_ok(value)
            }
            Message::P1a { ballot } => ballot_ok(ballot) && ballot.leader() == e.from as usize,
            Message::P1b {
                scout,
                ballot,
                accepted,
            } => {
                ballot_ok(scout)
                    && scout.leader() == e.to as usize
                    && ballot_ok(ballot)
                    && accepted.iter().enumerate().all(|(k, p)| {
                        (p.ballot.is_none() && p.value.is_none())
                            || (k < s.slots as usize && ballot_ok(p.ballot) && value_ok(p.value))
                    })
            }
            Message::P2a {
                ballot,
                slot,
                value,
            } => ballot_ok(ballot) && slot_ok(slot) && value_ok(value),
            Message::P2b {
                commander,
                ballot,
                slot,
            } => {
                ballot_ok(commander)
                    && commander.leader() == e.to as usize
                    && ballot_ok(ballot)
                    && slot_ok(slot)
            }
        }
}

/// Delivers `e` (in flight in `s`) to its receiver.
fn deliver(s: &State, mutation: Option<Mutation>, e: Envelope) -> Option<State> {
    let mut next = *s;
    if !next.network.remove(e) {
        return None;
    }
    let (from, to) = (e.from as usize, e.to as usize);
    match e.message {
        Message::Propose { slot, value } => on_propose(&mut next, to, slot, value),
        Message::P1a { ballot } => on_p1a(&mut next, to, from, ballot),
        Message::P1b {
            scout,
            ballot,
            accepted,
        } => on_p1b(&mut next, to, from, (scout, ballot), accepted, mutation),
        Message::P2a {
            ballot,
            slot,
            value,
        } => on_p2a(&mut next, mutation, to, from, ballot, slot, value),
        Message::P2b {
            commander,
            ballot,
            slot,
        } => on_p2b(&mut next, to, from, (commander, ballot), slot, mutation),
        Message::Decision { slot, value } => on_decision(&mut next, to, slot, value),
    }
    Some(next)
}

/// The successor of `s` by `action`, if it is enabled.
pub fn step(s: &State, b: &Bounds, mutation: Option<Mutation>, action: Action) -> Option<State> {
    match action {
        Action::Propose { r, c } => propose(s, r as usize, c),
        Action::ProposeNoop { r } => propose_noop(s, r as usize),
        Action::StartBallot { l } => start_ballot(s, b, l as usize),
        Action::SpawnCommander { l, slot } => spawn_commander(s, l as usize, slot),
        Action::Deliver { message } => {
            if !well_formed(s, b, message) {
                return None;
            }
            deliver(s, mutation, message)
        }
        Action::Lose { message } => {
            if !b.lossy {
                return None;
            }
            let mut next = *s;
            next.network.remove(message).then_some(next)
        }
        Action::Duplicate { message } => {
            if s.duplicates_left == 0 || s.network.count(message) == 0 {
                return None;
            }
            let mut next = *s;
            next.network.insert(message);
            next.duplicates_left -= 1;
            Some(next)
        }
    }
}

/// Appends the successors of `s`, trying each binding in order: proposals and
/// no-ops of each replica, ballots and commanders of each leader, then the delivery, loss and
/// duplication of each distinct message in flight.
pub fn next(s: &State, b: &Bounds, mutation: Option<Mutation>, out: &mut Vec<(Action, State)>) {
    let mut push = |action: Action| {
        if let Some(t) = step(s, b, mutation, action) {
            out.push((action, t));
        }
    };
    let commands = (0..b.commands).map(Value::command);
    for r in s.leader_ids().map(|r| r as u8) {
        for c in commands.clone() {
            push(Action::Propose { r, c });
        }
        push(Action::ProposeNoop { r });
    }
    for l in s.leader_ids().map(|l| l as u8) {
        push(Action::StartBallot { l });
        for slot in s.slot_numbers() {
            push(Action::SpawnCommander { l, slot });
        }
    }
    for message in s.network.distinct() {
        push(Action::Deliver { message });
    }
    if b.lossy {
        for message in s.network.distinct() {
            push(Action::Lose { message });
        }
    }
    if s.duplicates_left > 0 {
        for message in s.network.distinct() {
            push(Action::Duplicate { message });
        }
    }
}

/// Every binding of every action in `s`, enabled or not, and some outside the model (a fourth
/// command, a slot past the last): for the tests' enumeration by definition.
pub fn every_binding(s: &State, b: &Bounds) -> Vec<Action> {
    let mut all = Vec::new();
    for r in 0..s.leaders + 1 {
        for c in (0..b.commands + 1).map(Value::command).chain([Value::NOOP]) {
            all.push(Action::Propose { r, c });
        }
        all.push(Action::ProposeNoop { r });
        all.push(Action::StartBallot { l: r });
        for slot in 0..=s.slots + 1 {
            all.push(Action::SpawnCommander { l: r, slot });
        }
    }
    for message in s.network.iter() {
        all.push(Action::Deliver { message });
        all.push(Action::Lose { message });
        all.push(Action::Duplicate { message });
    }
    all
}
