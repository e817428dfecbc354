//! Validation of a recorded run against the spec chain.
//!
//! [`validate`] replays a run's events, in their recorded order, through message-raft's step
//! function ([`message_raft::actions::step`], the function whose successors the model checker
//! explores), at the [`crate::NodeRepr`] representation: the same guards and effects, with
//! `u64` numbers, logs of payloads and a network with no caps, so that a run of any length
//! replays. For each event:
//!
//! - a node step is the spec action of its input (`Deliver` of the message, the timer's
//!   `ElectionTimeout`/`HeartbeatTimeout`/`PullTimeout`, `ClientWrite`); it must be enabled
//!   in the replayed state (a delivered message must be in flight: the order respects message
//!   causality), lead to the node's recorded variables, and put exactly the recorded messages in
//!   flight;
//! - a lost or duplicated message is the spec's `LoseMessage`/`DuplicateMessage`, enabled only
//!   if the message is in flight.
//!
//! The fault budgets of the replayed state are unbounded (`u64::MAX`), the one difference from
//! the model checker's instances, whose `--restarts` and `--duplicates` bound them; and no
//! state constraint applies (a constraint bounds a search, not a behaviour).
//!
//! Then the run is mapped up to log-abstract by message-raft's mapping (`committed` becomes
//! Log's `chosen`): every step that commits must be Log's `Next` for the block of indexes it
//! adds, checked with log-abstract's own step function on the mapped states when the run's
//! commits fit its 64-bit encoding (indexes times values at most 64), and otherwise with the
//! same guard (an index is chosen once) over a map.
//!
//! Every replayed state must satisfy message-raft's invariants
//! ([`message_raft::state::first_broken_invariant`], the plain form of the spec's, for any
//! representation), and, beyond the spec, an entry named by its (index, term) must carry one
//! payload on every node for the whole run.
//!
//! What is not checked here: the edge to raft-reconfig (refuted for message-raft, see its
//! README).

use std::collections::BTreeMap;

use log_abstract::Log;
use message_raft::actions::{self, Action};
use message_raft::repr::{History, NetworkOf};
use message_raft::state::{Envelope, State};
use spec_core::{ServerSet, Spec, StepMapping};

use message_raft::node::MAX_SENDS;
use message_raft::state::MAX_MESSAGES_BOUND;
use message_raft::{Compact, Message, MessageRaft, NodeState};
use spec_core::raft::{
    Committed, CommittedEntry, Log as TermLog, MAX_COMMITTED_INDEX, MAX_COMMITTED_TERM,
};

use crate::record::{Event, Input, LocalState, Routed};
use crate::NodeRepr;

fn byte(n: u64) -> Option<u8> {
    u8::try_from(n).ok()
}

/// A message at the `Compact` representation (payload dropped), if its numbers fit a byte.
pub fn compact_message(m: &Message<NodeRepr>) -> Option<Message<Compact>> {
    Some(match *m {
        Message::RequestVote {
            term,
            last_index,
            last_term,
            config_version,
            config_term,
        } => Message::RequestVote {
            term: byte(term)?,
            last_index: byte(last_index)?,
            last_term: byte(last_term)?,
            config_version: byte(config_version)?,
            config_term: byte(config_term)?,
        },
        Message::VoteGranted { term } => Message::VoteGranted { term: byte(term)? },
        Message::VoteDenied { term } => Message::VoteDenied { term: byte(term)? },
        Message::PullEntries {
            term,
            last_index,
            last_term,
        } => Message::PullEntries {
            term: byte(term)?,
            last_index: byte(last_index)?,
            last_term: byte(last_term)?,
        },
        Message::Entries {
            term,
            prev_index,
            prev_term,
            entry_term,
            ..
        } => Message::Entries {
            term: byte(term)?,
            prev_index: byte(prev_index)?,
            prev_term: byte(prev_term)?,
            entry_term: byte(entry_term)?,
            payload: (),
        },
        Message::Rollback {
            term,
            last_index,
            last_term,
        } => Message::Rollback {
            term: byte(term)?,
            last_index: byte(last_index)?,
            last_term: byte(last_term)?,
        },
        Message::Heartbeat {
            term,
            config,
            config_version,
            config_term,
        } => Message::Heartbeat {
            term: byte(term)?,
            config,
            config_version: byte(config_version)?,
            config_term: byte(config_term)?,
        },
        Message::HeartbeatReply {
            term,
            config_version,
            config_term,
        } => Message::HeartbeatReply {
            term: byte(term)?,
            config_version: byte(config_version)?,
            config_term: byte(config_term)?,
        },
    })
}

fn compact_envelope(e: &Envelope<NodeRepr>) -> Option<Envelope<Compact>> {
    Some(Envelope {
        from: e.from,
        to: e.to,
        message: compact_message(&e.message)?,
    })
}

/// An action at the `Compact` representation.
pub fn compact_action(a: &Action<NodeRepr>) -> Option<Action<Compact>> {
    Some(match a {
        Action::Deliver { message } => Action::Deliver {
            message: compact_envelope(message)?,
        },
        Action::Lose { message } => Action::Lose {
            message: compact_envelope(message)?,
        },
        Action::Duplicate { message } => Action::Duplicate {
            message: compact_envelope(message)?,
        },
        &Action::Fire { i, timer } => Action::Fire { i, timer },
        &Action::ClientWrite { i, .. } => Action::ClientWrite { i, payload: () },
        &Action::Reconfig { i, new_config } => Action::Reconfig { i, new_config },
        &Action::Restart { i } => Action::Restart { i },
    })
}

/// A cluster state at the model checker's `Compact` representation, if it holds it: at most 5
/// nodes, logs of at most 5 entries, numbers within a byte, committed indexes and terms within
/// `1..=5`, at most 12 messages in flight, and at most 255 restarts and duplications used.
/// Payloads are dropped (the protocol never reads them). The replay steps the Compact spec
/// only from states inside its largest instance's constraint (terms and logs at most 4), where
/// every successor fits too.
pub fn compact_state(s: &State<NodeRepr>) -> Option<State<Compact>> {
    let n = s.servers as usize;
    if n > message_raft::node::MAX_SERVERS
        || s.network.len() + MAX_SENDS + 1 > MAX_MESSAGES_BOUND + MAX_SENDS + 1
    {
        return None;
    }
    let used = |left: u64| byte(u64::MAX - left).and_then(|u| 255u8.checked_sub(u));
    let mut out: State<Compact> = State::initial(
        n,
        ServerSet::EMPTY,
        used(s.restarts_left)?,
        used(s.duplicates_left)?,
    );
    for i in 0..n {
        let w = s.node(i);
        if w.log.entries().len() >= TermLog::CAPACITY {
            return None;
        }
        let terms: Option<Vec<u8>> = w.log.entries().iter().map(|e| byte(e.0)).collect();
        let mut matched = [0u8; message_raft::node::MAX_SERVERS];
        for (k, &m) in w.matched.iter().enumerate() {
            match matched.get_mut(k) {
                Some(slot) => *slot = byte(m)?,
                None if m == 0 => {}
                None => return None,
            }
        }
        out.nodes[i] = NodeState {
            term: byte(w.term)?,
            voted_for: w.voted_for,
            log: TermLog::from_slice(&terms?),
            config: w.config,
            config_version: byte(w.config_version)?,
            config_term: byte(w.config_term)?,
            role: w.role,
            votes: w.votes,
            matched,
            acked: w.acked,
            commit_index: byte(w.commit_index)?,
            elected_config: w.elected_config,
        };
    }
    for e in s.network.all() {
        out.network.insert(compact_envelope(&e)?);
    }
    let mut committed = Committed::EMPTY;
    for (index, entry_term, term) in s.committed.records() {
        let fits = |t: u64| (1..=MAX_COMMITTED_TERM as u64).contains(&t);
        if !((1..=MAX_COMMITTED_INDEX as u64).contains(&index) && fits(entry_term) && fits(term)) {
            return None;
        }
        committed = committed.with(CommittedEntry {
            index: index as u8,
            entry_term: entry_term as u8,
            term: term as u8,
        });
    }
    out.committed = committed;
    Some(out)
}

/// A replayed run's counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validation {
    /// Node steps replayed.
    pub steps: usize,
    /// Steps by action name.
    pub by_action: BTreeMap<&'static str, usize>,
    /// Commits mapped to Log steps.
    pub commits: usize,
    /// Commits checked with log-abstract's own step function (the rest with its guard).
    pub commits_by_log_spec: usize,
    /// The highest term reached.
    pub max_term: u64,
    /// The longest log.
    pub max_log: usize,
    /// The most messages in flight at once.
    pub max_in_flight: usize,
    /// How many events, from the first, were also checked with message-raft's own
    /// `Spec::step` at the model checker's `Compact` representation (the events before the
    /// first whose states it cannot hold: see [`compact_state`]).
    pub compact_prefix: usize,
}

/// The first event of a run that is not a spec step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// The event's `seq`.
    pub seq: u64,
    /// The spec action it was replayed as.
    pub action: String,
    /// What is wrong.
    pub why: String,
    /// The level that refused it: `message-raft` or `log-abstract`.
    pub level: &'static str,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "event {} ({}) fails at {}: {}",
            self.seq, self.action, self.level, self.why
        )
    }
}

impl std::error::Error for Invalid {}

fn envelope(r: &Routed) -> Envelope<NodeRepr> {
    Envelope {
        from: r.from,
        to: r.to,
        message: r.message.clone(),
    }
}

/// Merges the records of separate parts of a run (each node's own steps, in its order, and
/// the network's faults) into one run ordered consistently with message causality, and
/// numbers it anew. The order is by logical clock (a Lamport clock: a step's is one more than
/// the larger of its node's previous step's and, for a delivery, the sending step's; a fault's
/// is its message's sending step's), so a message's send comes before its deliveries and
/// each node's steps keep their order; at one clock a node step comes before a duplication,
/// which comes before a loss (a fault follows the send of its message, and a copy is made
/// before the original can be lost); then by node. Events that share a clock and are not so
/// ordered are causally unrelated, and the spec's steps of unrelated events commute.
pub fn merge_by_causality(parts: Vec<Vec<Event>>) -> Vec<Event> {
    let mut all: Vec<(u64, u8, u8, usize, usize, Event)> = Vec::new();
    for (p, part) in parts.into_iter().enumerate() {
        for (k, e) in part.into_iter().enumerate() {
            let (rank, who) = match &e {
                Event::Step { node, .. } => (0, *node),
                Event::Duplicate { message, .. } => (1, message.from),
                Event::Lose { message, .. } => (2, message.from),
            };
            all.push((e.clock(), rank, who, p, k, e));
        }
    }
    all.sort_by_key(|a| (a.0, a.1, a.2, a.3, a.4));
    all.into_iter()
        .enumerate()
        .map(|(seq, (.., e))| e.with_seq(seq as u64))
        .collect()
}

/// The spec action an event replays as.
pub fn action_of(event: &Event) -> Action<NodeRepr> {
    match event {
        Event::Step { node, input, .. } => match input {
            Input::Message { from, message } => Action::Deliver {
                message: Envelope {
                    from: *from,
                    to: *node,
                    message: message.clone(),
                },
            },
            Input::Timer(timer) => Action::Fire {
                i: *node,
                timer: *timer,
            },
            Input::ClientWrite(payload) => Action::ClientWrite {
                i: *node,
                payload: payload.clone(),
            },
            Input::Reconfig { config } => Action::Reconfig {
                i: *node,
                new_config: ServerSet(*config),
            },
            Input::Restart => Action::Restart { i: *node },
        },
        Event::Lose { message, .. } => Action::Lose {
            message: envelope(message),
        },
        Event::Duplicate { message, .. } => Action::Duplicate {
            message: envelope(message),
        },
    }
}

/// The first field where two recorded states differ, named.
fn first_difference(recorded: &LocalState, spec: &LocalState) -> String {
    let fields: [(&str, String, String); 9] = [
        (
            "term",
            format!("{}", recorded.term),
            format!("{}", spec.term),
        ),
        (
            "voted_for",
            format!("{}", recorded.voted_for),
            format!("{}", spec.voted_for),
        ),
        (
            "role",
            format!("{:?}", recorded.role),
            format!("{:?}", spec.role),
        ),
        (
            "log",
            format!("{:?}", recorded.log),
            format!("{:?}", spec.log),
        ),
        (
            "config",
            format!("{:?}", recorded.config),
            format!("{:?}", spec.config),
        ),
        (
            "votes",
            format!("{:?}", ServerSet(recorded.votes)),
            format!("{:?}", ServerSet(spec.votes)),
        ),
        (
            "matched",
            format!("{:?}", recorded.matched),
            format!("{:?}", spec.matched),
        ),
        (
            "acked",
            format!("{:?}", ServerSet(recorded.acked)),
            format!("{:?}", ServerSet(spec.acked)),
        ),
        (
            "commit_index",
            format!("{}", recorded.commit_index),
            format!("{}", spec.commit_index),
        ),
    ];
    fields
        .iter()
        .find(|(_, a, b)| a != b)
        .map(|(name, a, b)| format!("the node's {name} is {a} in the run, {b} in the spec"))
        .unwrap_or_else(|| "no difference".into())
}

/// The messages `next` has in flight that `before` (less what the step consumed) had not.
fn sent_by_step(before: &State<NodeRepr>, next: &State<NodeRepr>) -> Vec<Routed> {
    let mut out = Vec::new();
    for e in next.network.distinct_envelopes() {
        let added = next
            .network
            .copies(&e)
            .saturating_sub(before.network.copies(&e));
        for _ in 0..added {
            out.push(Routed {
                from: e.from,
                to: e.to,
                message: e.message.clone(),
            });
        }
    }
    out.sort();
    out
}

/// Checks the run's new commits as a log-abstract step.
fn check_log_step(
    chosen: &mut BTreeMap<u64, u64>,
    before: &State<NodeRepr>,
    next: &State<NodeRepr>,
    v: &mut Validation,
) -> Result<(), String> {
    let old = before.committed.records();
    let new: Vec<(u64, u64, u64)> = next
        .committed
        .records()
        .into_iter()
        .filter(|r| !old.contains(r))
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    let mapped = |m: &BTreeMap<u64, u64>| -> Vec<(usize, usize)> {
        m.iter()
            .map(|(&i, &t)| (i as usize, t as usize - 1))
            .collect()
    };
    let mut after = chosen.clone();
    for &(index, entry_term, _) in &new {
        // Records of an entry already chosen at its index add no pair.
        after.entry(index).or_insert(entry_term);
        if after[&index] != entry_term {
            return Err(format!(
                "Next is not enabled: index {index} is chosen already (the entry of term {}), and this step commits the entry of term {entry_term} there",
                after[&index]
            ));
        }
    }
    v.commits += new.len();
    let max_index = after.keys().copied().max().unwrap_or(1) as usize;
    let values = after.values().copied().max().unwrap_or(1) as usize;
    if let Ok(log) = Log::new(values, max_index) {
        let (s, t) = (
            log.state_with(mapped(chosen)),
            log.state_with(mapped(&after)),
        );
        match Log::step_between(&s, &t) {
            StepMapping::Stutter => {}
            StepMapping::Step(choose) => {
                if log.step(&s, &choose) != Some(t) {
                    return Err(format!(
                        "log-abstract's {choose:?} does not lead from the mapped state to the next"
                    ));
                }
                v.commits_by_log_spec += new.len();
            }
            StepMapping::Search => return Err("no Log step maps this commit".into()),
        }
    }
    *chosen = after;
    Ok(())
}

/// Replays `events` (a run of a cluster of `servers` nodes, all starting in term 0 with the
/// config of all servers) through message-raft and up to log-abstract; the first event that is
/// not a spec step is the error.
pub fn validate(servers: usize, events: &[Event]) -> Result<Validation, Invalid> {
    validate_with(servers, events, None)
}

/// [`validate`] against message-raft with a planted bug in its node core (the spec of a buggy
/// implementation): a run of nodes with that bug then replays at the message level, and what
/// the bug breaks shows at log-abstract, or in message-raft's invariants.
pub fn validate_with(
    servers: usize,
    events: &[Event],
    mutation: Option<message_raft::Mutation>,
) -> Result<Validation, Invalid> {
    validate_from(servers, ServerSet::all(servers), events, mutation)
}

/// [`validate_with`], from the initial state whose nodes all hold the config `members` at
/// version 1, term 0 (MongoRaftReconfig's `Init` allows any nonempty config: a cluster whose
/// peer table has spare nodes outside the first config, `serve --members`).
pub fn validate_from(
    servers: usize,
    members: ServerSet,
    events: &[Event],
    mutation: Option<message_raft::Mutation>,
) -> Result<Validation, Invalid> {
    if members.is_empty() || !members.is_subset(ServerSet::all(servers)) {
        return Err(Invalid {
            seq: 0,
            action: "Init".into(),
            why: format!(
                "the initial config {members:?} is not a nonempty set of the {servers} servers"
            ),
            level: "message-raft",
        });
    }
    let mut state: State<NodeRepr> = State::initial(servers, members, u64::MAX, u64::MAX);
    let mut v = Validation::default();
    let mut chosen: BTreeMap<u64, u64> = BTreeMap::new();
    let mut last_seq = None;
    let mut last_clock = vec![0u64; servers];
    let mut payloads: BTreeMap<(u64, u64), (u8, crate::Payload)> = BTreeMap::new();
    // The model checker's largest instance: its state constraint is what guarantees that
    // every successor of a state fits the Compact encoding (Spec::step computes them all).
    let model = (1..=message_raft::node::MAX_SERVERS)
        .contains(&servers)
        .then(|| MessageRaft::new(servers, 4, 4, 254, MAX_MESSAGES_BOUND, 9, 9).ok())
        .flatten()
        .map(|m| match mutation {
            Some(bug) => m.with_mutation(bug),
            None => m,
        });
    let mut compact = model.is_some();
    for event in events {
        let action = action_of(event);
        let fail = |why: String, level: &'static str| Invalid {
            seq: event.seq(),
            action: action.to_string(),
            why,
            level,
        };
        if last_seq.is_some_and(|s| event.seq() <= s) {
            return Err(fail("events are out of order".into(), "message-raft"));
        }
        last_seq = Some(event.seq());
        let Some(next) = actions::step(&state, &action, mutation) else {
            let why = match &action {
                Action::Deliver { .. } | Action::Lose { .. } | Action::Duplicate { .. } => {
                    "the message is not in flight (never sent, or every copy already delivered or lost)".to_string()
                }
                _ => "its guard is false in the replayed state".to_string(),
            };
            return Err(fail(
                format!("{why}; node variables: {:?}", node_of(&state, event)),
                "message-raft",
            ));
        };
        if let Event::Step {
            node,
            clock,
            sends,
            state: recorded,
            ..
        } = event
        {
            if let Some(last) = last_clock.get_mut(*node as usize) {
                if *clock <= *last {
                    return Err(fail(
                        format!(
                            "the node's logical clock {clock} does not advance past its last step's {last}"
                        ),
                        "message-raft",
                    ));
                }
                *last = *clock;
            }
            let spec_node = LocalState::of(next.node(*node as usize), servers);
            if &spec_node != recorded {
                return Err(fail(first_difference(recorded, &spec_node), "message-raft"));
            }
            let mut before = state.clone();
            if let Action::Deliver { message } = &action {
                before.network.take(message);
            }
            let mut recorded_sends = sends.clone();
            recorded_sends.sort();
            let spec_sends = sent_by_step(&before, &next);
            if recorded_sends != spec_sends {
                return Err(fail(
                    format!("the run sent {recorded_sends:?}, the spec sends {spec_sends:?}"),
                    "message-raft",
                ));
            }
            v.steps += 1;
            v.max_term = v.max_term.max(recorded.term);
            v.max_log = v.max_log.max(recorded.log.len());
        }
        if compact {
            // The same step through message-raft's own Spec::step at the model checker's
            // representation, while the run's states fit it.
            let spec = model.as_ref().expect("a model");
            match (
                compact_state(&state),
                compact_action(&action),
                compact_state(&next),
            ) {
                (Some(cs), Some(ca), Some(cn)) if spec.within_constraint(&cs) => {
                    if spec.step(&cs, &ca) != Some(cn) {
                        return Err(fail(
                            "message-raft's Spec::step at the Compact representation disagrees with the replay (not a spec step)".into(),
                            "message-raft",
                        ));
                    }
                    if let Some(broken) =
                        spec.invariants().iter().find(|inv| !(inv.holds)(spec, &cn))
                    {
                        return Err(fail(
                            format!("it breaks message-raft's invariant {}", broken.name),
                            "message-raft",
                        ));
                    }
                    v.compact_prefix += 1;
                }
                _ => compact = false,
            }
        }
        if let Some(name) = message_raft::state::first_broken_invariant(&next) {
            return Err(fail(
                format!("it breaks message-raft's invariant {name}"),
                "message-raft",
            ));
        }
        if let Event::Step {
            node,
            state: recorded,
            ..
        } = event
        {
            // Beyond the spec (whose entries have no payload): an entry, named by its index
            // and term, carries one payload on every node and for the whole run.
            for (k, (term, payload)) in recorded.log.iter().enumerate() {
                let first = payloads
                    .entry((k as u64 + 1, *term))
                    .or_insert_with(|| (*node, payload.clone()));
                if &first.1 != payload {
                    return Err(fail(
                        format!(
                            "entry ({}, {term}) carries {:?} at n{}, {:?} at n{}",
                            k + 1,
                            payload,
                            node + 1,
                            first.1,
                            first.0 + 1
                        ),
                        "message-raft",
                    ));
                }
            }
        }
        *v.by_action.entry(action.kind_name()).or_insert(0) += 1;
        check_log_step(&mut chosen, &state, &next, &mut v)
            .map_err(|why| fail(why, "log-abstract"))?;
        v.max_in_flight = v.max_in_flight.max(next.network.len());
        state = next;
    }
    Ok(v)
}

fn node_of(state: &State<NodeRepr>, event: &Event) -> Option<LocalState> {
    match event {
        Event::Step { node, .. } => state
            .nodes
            .get(*node as usize)
            .map(|n| LocalState::of(n, state.servers as usize)),
        _ => None,
    }
}
