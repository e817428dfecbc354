//! The steps of the cluster: one node handles one input, or the network misbehaves.
//!
//! Every node step calls the node core ([`crate::node`]) on that node's variables alone and
//! puts the messages it returns into the network: the spec runs the implementation's logic,
//! not a second copy of it. The fault steps touch only the network or one node: a message is
//! lost, a message is duplicated (within the duplication budget), a node restarts with only
//! its durable variables (within the restart budget).
//!
//! [`step`] is the definition: one action, its guard, its effect. [`next`] enumerates the
//! successors of a state; a test checks that it yields exactly what trying [`step`] on every
//! binding of every action yields.

use std::fmt;

use spec_core::itf::server_name;
use spec_core::{Server, ServerSet};

use crate::node::{self, Mutation, Output, Rules, Timer, MESSAGE_KINDS};
use crate::repr::{Compact, History, NetworkOf, Num, Repr};
use crate::state::{names, Envelope, State};

/// One step of the cluster. A client write carries its payload in a runtime's representation
/// (`()` in the spec's).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action<R: Repr = Compact> {
    /// The network delivers one copy of `message` to its receiver, which handles it.
    Deliver {
        /// The message.
        message: Envelope<R>,
    },
    /// A timer of node `i` fires.
    Fire {
        /// The node.
        i: Server,
        /// The timer.
        timer: Timer,
    },
    /// A client's write reaches node `i`.
    ClientWrite {
        /// The node.
        i: Server,
        /// The client's command (`()` in the spec).
        payload: R::Payload,
    },
    /// A reconfig request reaches node `i`.
    Reconfig {
        /// The node.
        i: Server,
        /// The config asked for.
        new_config: ServerSet,
    },
    /// The network loses one copy of `message`.
    Lose {
        /// The message.
        message: Envelope<R>,
    },
    /// The network duplicates `message`.
    Duplicate {
        /// The message.
        message: Envelope<R>,
    },
    /// Node `i` crashes and restarts with its durable variables.
    Restart {
        /// The node.
        i: Server,
    },
}

/// The action names: one per message handler, then the timers, the client requests and the
/// faults.
pub const ACTION_NAMES: &[&str] = &ALL_NAMES;

const ALL_NAMES: [&str; 16] = [
    "RequestVote",
    "VoteGranted",
    "VoteDenied",
    "PullEntries",
    "Entries",
    "Rollback",
    "Heartbeat",
    "HeartbeatReply",
    "ElectionTimeout",
    "HeartbeatTimeout",
    "PullTimeout",
    "ClientWrite",
    "Reconfig",
    "LoseMessage",
    "DuplicateMessage",
    "Restart",
];

/// [`ACTION_NAMES`] without the faults whose budget is zero (`Restart`, `DuplicateMessage`).
pub fn action_names(restarts: bool, duplicates: bool) -> &'static [&'static str] {
    const NO_RESTARTS: [&str; 15] = spec_core::action_names_without(&ALL_NAMES, &["Restart"]);
    const NO_DUPLICATES: [&str; 15] =
        spec_core::action_names_without(&ALL_NAMES, &["DuplicateMessage"]);
    const NO_FAULTS: [&str; 14] =
        spec_core::action_names_without(&ALL_NAMES, &["Restart", "DuplicateMessage"]);
    match (restarts, duplicates) {
        (true, true) => ACTION_NAMES,
        (false, true) => &NO_RESTARTS,
        (false, false) => &NO_FAULTS,
        (true, false) => &NO_DUPLICATES,
    }
}

impl Copy for Action<Compact> {}

impl spec_core::Action for Action {
    fn name(&self) -> &'static str {
        self.kind_name()
    }
}

impl<R: Repr> Action<R> {
    /// The action's name: a delivery is named by the message's kind (its handler), so that
    /// coverage shows which handlers ran.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Action::Deliver { message } => MESSAGE_KINDS[message.message.kind()],
            Action::Fire { timer, .. } => match timer {
                Timer::Election => "ElectionTimeout",
                Timer::Heartbeat { .. } => "HeartbeatTimeout",
                Timer::Pull { .. } => "PullTimeout",
            },
            Action::ClientWrite { .. } => "ClientWrite",
            Action::Reconfig { .. } => "Reconfig",
            Action::Lose { .. } => "LoseMessage",
            Action::Duplicate { .. } => "DuplicateMessage",
            Action::Restart { .. } => "Restart",
        }
    }
}

impl<R: Repr> fmt::Display for Action<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |i: u8| server_name(i as usize);
        match self {
            Action::Deliver { message } => write!(f, "Deliver({message})"),
            &Action::Fire { i, timer } => match timer {
                Timer::Election => write!(f, "ElectionTimeout({})", n(i)),
                Timer::Heartbeat { to } => {
                    write!(f, "HeartbeatTimeout({}, {})", n(i), server_name(to))
                }
                Timer::Pull { from } => write!(f, "PullTimeout({}, {})", n(i), server_name(from)),
            },
            &Action::ClientWrite { i, .. } => write!(f, "ClientWrite({})", n(i)),
            &Action::Reconfig { i, new_config } => {
                write!(f, "Reconfig({}, {})", n(i), names(new_config))
            }
            Action::Lose { message } => write!(f, "LoseMessage({message})"),
            Action::Duplicate { message } => write!(f, "DuplicateMessage({message})"),
            &Action::Restart { i } => write!(f, "Restart({})", n(i)),
        }
    }
}

impl std::str::FromStr for Action {
    type Err = spec_core::action_text::ParseActionError;

    /// Reads back what `Display` writes, such as `Deliver(n1 -> n2: VoteGranted(2))` or
    /// `HeartbeatTimeout(n1, n3)`.
    fn from_str(text: &str) -> Result<Action, Self::Err> {
        use spec_core::action_text::{parse, server, server_set, unknown};
        parse(text, |name, args| match (name, args) {
            ("Deliver", [m]) => Ok(Action::Deliver {
                message: envelope(m)?,
            }),
            ("LoseMessage", [m]) => Ok(Action::Lose {
                message: envelope(m)?,
            }),
            ("DuplicateMessage", [m]) => Ok(Action::Duplicate {
                message: envelope(m)?,
            }),
            ("ElectionTimeout", [i]) => Ok(Action::Fire {
                i: server(i)?,
                timer: Timer::Election,
            }),
            ("HeartbeatTimeout", [i, to]) => Ok(Action::Fire {
                i: server(i)?,
                timer: Timer::Heartbeat {
                    to: server(to)?.into(),
                },
            }),
            ("PullTimeout", [i, from]) => Ok(Action::Fire {
                i: server(i)?,
                timer: Timer::Pull {
                    from: server(from)?.into(),
                },
            }),
            ("ClientWrite", [i]) => Ok(Action::ClientWrite {
                i: server(i)?,
                payload: (),
            }),
            ("Reconfig", [i, c]) => Ok(Action::Reconfig {
                i: server(i)?,
                new_config: server_set(c)?,
            }),
            ("Restart", [i]) => Ok(Action::Restart { i: server(i)? }),
            _ => Err(unknown(
                name,
                args,
                &[
                    "Deliver(s -> t: MESSAGE)",
                    "LoseMessage(s -> t: MESSAGE)",
                    "DuplicateMessage(s -> t: MESSAGE)",
                    "ElectionTimeout(i)",
                    "HeartbeatTimeout(i, j)",
                    "PullTimeout(i, j)",
                    "ClientWrite(i)",
                    "Reconfig(i, {...})",
                    "Restart(i)",
                ],
            )),
        })
    }
}

/// Reads `s -> t: MESSAGE`, as an envelope prints.
fn envelope(text: &str) -> Result<Envelope, String> {
    use spec_core::action_text::server;
    let (route, message) = text
        .split_once(':')
        .ok_or_else(|| format!("expected `s -> t: MESSAGE`, not `{text}`"))?;
    let (from, to) = route
        .split_once("->")
        .ok_or_else(|| format!("expected `s -> t`, not `{route}`"))?;
    Ok(Envelope {
        from: server(from.trim())?,
        to: server(to.trim())?,
        message: message_of(message.trim())?,
    })
}

/// Reads a message as it prints: `Name(field, ...)`, or
/// `Heartbeat(term T, {n1, n2} vV tC)`.
fn message_of(text: &str) -> Result<node::Message, String> {
    use spec_core::action_text::{call, natural, server_set};
    let (name, args) = call(text)?;
    let kind = MESSAGE_KINDS
        .iter()
        .position(|k| *k == name)
        .ok_or_else(|| {
            format!(
                "no message {name}; the messages are: {}",
                MESSAGE_KINDS.join(", ")
            )
        })?;
    let byte =
        |a: &str| natural(a).and_then(|n| u8::try_from(n).map_err(|_| format!("{n} is past 255")));
    if name == "Heartbeat" {
        let [term, config] = args[..] else {
            return Err(format!(
                "expected `Heartbeat(term T, {{...}} vV tC)`, not `{text}`"
            ));
        };
        let term = byte(term.strip_prefix("term ").unwrap_or(term).trim())?;
        let (members, identity) = config
            .rsplit_once('}')
            .ok_or_else(|| format!("expected `{{...}} vV tC`, not `{config}`"))?;
        let mut identity = identity.split_whitespace();
        let mut tagged = |tag: char| {
            identity
                .next()
                .and_then(|w| w.strip_prefix(tag))
                .ok_or_else(|| {
                    format!("expected `v<version> t<term>` after the config in `{text}`")
                })
                .and_then(&byte)
        };
        let (config_version, config_term) = (tagged('v')?, tagged('t')?);
        return Ok(node::Message::Heartbeat {
            term,
            config: server_set(&format!("{members}}}"))?,
            config_version,
            config_term,
        });
    }
    let mut fields = [0u8; 5];
    if args.len() > fields.len() {
        return Err(format!("{name} has at most 5 fields, not {}", args.len()));
    }
    for (field, arg) in fields.iter_mut().zip(&args) {
        *field = byte(arg)?;
    }
    node::Message::from_fields(kind, fields).ok_or_else(|| format!("no message {name}"))
}

/// The node rules of node `i` in `s`.
pub fn rules<R: Repr>(s: &State<R>, i: usize, mutation: Option<Mutation>) -> Rules {
    Rules {
        me: i,
        servers: s.servers as usize,
        mutation,
    }
}

/// Puts node `i`'s output into the state: its messages into the network, its commit into the
/// history variable `committed` (recorded with the node's current term, as CommitEntry does).
fn apply_output<R: Repr>(next: &mut State<R>, i: usize, out: &Output<R>) {
    for (to, message) in out.sends() {
        next.network.add(Envelope {
            from: i as u8,
            to: to as u8,
            message: message.clone(),
        });
    }
    if let Some((index, entry_term)) = out.committed {
        let term = next.node(i).term;
        next.committed.record(index, entry_term, term);
    }
}

/// The successor of `s` by `action`, if it is enabled. The one definition of a step, for the
/// spec's representation and a runtime's alike.
pub fn step<R: Repr>(
    s: &State<R>,
    action: &Action<R>,
    mutation: Option<Mutation>,
) -> Option<State<R>> {
    let servers = s.servers as usize;
    match action {
        Action::Deliver { message } => {
            let mut next = s.clone();
            if !next.network.take(message) {
                return None;
            }
            let to = message.to as usize;
            let rules = rules(s, to, mutation);
            let out = node::on_message(
                next.node_mut(to),
                &rules,
                message.from as usize,
                &message.message,
            );
            apply_output(&mut next, to, &out);
            Some(next)
        }
        &Action::Fire { i, timer } => {
            let i = i as usize;
            let rules = rules(s, i, mutation);
            if i >= servers || !node::timer_enabled(s.node(i), &rules, timer) {
                return None;
            }
            let mut next = s.clone();
            let out = node::on_timer(next.node_mut(i), &rules, timer);
            apply_output(&mut next, i, &out);
            Some(next)
        }
        Action::ClientWrite { i, payload } => {
            let i = *i as usize;
            let rules = rules(s, i, mutation);
            if i >= servers || !node::client_write_enabled(s.node(i), &rules) {
                return None;
            }
            let mut next = s.clone();
            let out = node::on_client_write(next.node_mut(i), &rules, payload.clone());
            apply_output(&mut next, i, &out);
            Some(next)
        }
        &Action::Reconfig { i, new_config } => {
            let i = i as usize;
            let rules = rules(s, i, mutation);
            if i >= servers || !node::reconfig_enabled(s.node(i), &rules, new_config) {
                return None;
            }
            let mut next = s.clone();
            let out = node::on_reconfig(next.node_mut(i), &rules, new_config);
            apply_output(&mut next, i, &out);
            Some(next)
        }
        Action::Lose { message } => {
            let mut next = s.clone();
            next.network.take(message).then_some(next)
        }
        Action::Duplicate { message } => {
            if s.duplicates_left.index() == 0 || s.network.copies(message) == 0 {
                return None;
            }
            let mut next = s.clone();
            next.network.add(message.clone());
            next.duplicates_left = next.duplicates_left.pred();
            Some(next)
        }
        &Action::Restart { i } => {
            let i = i as usize;
            // A restart that would give back the node unchanged (a Secondary that had learned
            // nothing volatile) is only the budget going down: not a step.
            let node = s.nodes.as_ref().get(i)?;
            let restarted = node.restarted(&rules(s, i, mutation));
            if s.restarts_left.index() == 0 || i >= servers || restarted == *node {
                return None;
            }
            let mut next = s.clone();
            *next.node_mut(i) = restarted;
            next.restarts_left = next.restarts_left.pred();
            Some(next)
        }
    }
}

/// Every timer of node `i` that might fire, in order: the election, the heartbeat to each
/// server, the pull from each server.
fn timers(servers: usize) -> impl Iterator<Item = Timer> {
    std::iter::once(Timer::Election)
        .chain((0..servers).map(|to| Timer::Heartbeat { to }))
        .chain((0..servers).map(|from| Timer::Pull { from }))
}

/// Appends the successors of `s`: deliveries of each distinct message in flight, the timers,
/// client writes and reconfigs of each node, then the faults (losses and duplications of each
/// distinct message, restarts). Skips only bindings whose guard cannot hold (a reconfig at a
/// node that is not Primary, a fault beyond its budget).
pub fn next(s: &State, mutation: Option<Mutation>, out: &mut Vec<(Action, State)>) {
    let n = s.servers as usize;
    let mut push = |action: Action| {
        if let Some(t) = step(s, &action, mutation) {
            out.push((action, t));
        }
    };
    for message in s.network.distinct() {
        push(Action::Deliver { message });
    }
    for i in 0..n {
        for timer in timers(n) {
            push(Action::Fire { i: i as u8, timer });
        }
    }
    for i in 0..n {
        push(Action::ClientWrite {
            i: i as u8,
            payload: (),
        });
    }
    for i in 0..n {
        if s.nodes[i].role == node::NodeRole::Primary {
            for new_config in ServerSet::all(n).subsets() {
                push(Action::Reconfig {
                    i: i as u8,
                    new_config,
                });
            }
        }
    }
    for message in s.network.distinct() {
        push(Action::Lose { message });
    }
    if s.duplicates_left > 0 {
        for message in s.network.distinct() {
            push(Action::Duplicate { message });
        }
    }
    if s.restarts_left > 0 {
        for i in 0..n {
            push(Action::Restart { i: i as u8 });
        }
    }
}

/// Every binding of every action in `s`, enabled or not: for the definition's enumeration in
/// the tests (each message in flight once per copy, every server pair, every subset).
pub fn every_binding(s: &State) -> Vec<Action> {
    let n = s.servers as usize;
    let mut all = Vec::new();
    for message in s.network.iter() {
        all.push(Action::Deliver { message });
        all.push(Action::Lose { message });
        all.push(Action::Duplicate { message });
    }
    for i in 0..n as u8 {
        all.push(Action::Fire {
            i,
            timer: Timer::Election,
        });
        for j in 0..n {
            all.push(Action::Fire {
                i,
                timer: Timer::Heartbeat { to: j },
            });
            all.push(Action::Fire {
                i,
                timer: Timer::Pull { from: j },
            });
        }
        all.push(Action::ClientWrite { i, payload: () });
        for new_config in ServerSet::all(n).subsets() {
            all.push(Action::Reconfig { i, new_config });
        }
        all.push(Action::Restart { i });
    }
    all
}
