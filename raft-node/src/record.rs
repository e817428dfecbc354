//! What a run records: one event per node step (its input, the messages it sent, and the
//! node's variables after it, the fields the message-raft spec has), and one per fault the
//! network injected. Each event is also a `tracing` event (target `raft_node::step`), and a
//! run's events are written and read as JSON lines.

use std::sync::{Arc, Mutex};

use message_raft::{Message, NodeRole, NodeState, Timer};
use serde::{Deserialize, Serialize};

use crate::{NodeRepr, Payload};

/// What a node handled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// A message from a peer.
    Message {
        /// The sender.
        from: u8,
        /// The message.
        message: Message<NodeRepr>,
    },
    /// A timer.
    Timer(Timer),
    /// A client's write, with its payload.
    ClientWrite(Payload),
    /// A membership change: the new config's members (bitmask), the spec's `Reconfig(i, C)`.
    Reconfig {
        /// The new config's members.
        config: u16,
    },
    /// The node restarted from its storage.
    Restart,
}

/// A message with its route, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Routed {
    /// The sender.
    pub from: u8,
    /// The receiver.
    pub to: u8,
    /// The message.
    pub message: Message<NodeRepr>,
}

/// A node's variables, as the spec has them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalState {
    /// `currentTerm`.
    pub term: u64,
    /// `votedFor` (255: nobody).
    pub voted_for: u8,
    /// The role.
    pub role: NodeRole,
    /// The log: (term, payload) per entry.
    pub log: Vec<(u64, Payload)>,
    /// Config members (bitmask), version, term.
    pub config: (u16, u64, u64),
    /// A candidate's votes (bitmask).
    pub votes: u16,
    /// A primary's recorded positions, one per server.
    pub matched: Vec<u64>,
    /// A primary's acknowledgements (bitmask).
    pub acked: u16,
    /// A primary's commit point.
    pub commit_index: u64,
}

impl LocalState {
    /// The recorded fields of `node` in a cluster of `servers`.
    pub fn of(node: &NodeState<NodeRepr>, servers: usize) -> LocalState {
        LocalState {
            term: node.term,
            voted_for: node.voted_for,
            role: node.role,
            log: node.log.entries().to_vec(),
            config: (node.config.0, node.config_version, node.config_term),
            votes: node.votes.0,
            matched: node.matched[..servers].to_vec(),
            acked: node.acked.0,
            commit_index: node.commit_index,
        }
    }
}

/// One event of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// A node step.
    Step {
        /// The event's place in the run.
        seq: u64,
        /// When (microseconds of the run's clock).
        at_us: u64,
        /// The node.
        node: u8,
        /// The step's logical (Lamport) clock: one more than the larger of the node's last
        /// step's and, for a message, the sending step's.
        clock: u64,
        /// Its input.
        input: Input,
        /// The messages it sent.
        sends: Vec<Routed>,
        /// Its variables after the step.
        state: LocalState,
    },
    /// The network lost a message in flight.
    Lose {
        /// The event's place in the run.
        seq: u64,
        /// When.
        at_us: u64,
        /// The sending step's logical clock.
        clock: u64,
        /// The message.
        message: Routed,
    },
    /// The network duplicated a message in flight.
    Duplicate {
        /// The event's place in the run.
        seq: u64,
        /// When.
        at_us: u64,
        /// The sending step's logical clock.
        clock: u64,
        /// The message.
        message: Routed,
    },
}

impl Event {
    /// The event's place in the run.
    pub fn seq(&self) -> u64 {
        match self {
            Event::Step { seq, .. } | Event::Lose { seq, .. } | Event::Duplicate { seq, .. } => {
                *seq
            }
        }
    }

    /// The event's logical clock (a network fault has its message's sending step's).
    pub fn clock(&self) -> u64 {
        match self {
            Event::Step { clock, .. }
            | Event::Lose { clock, .. }
            | Event::Duplicate { clock, .. } => *clock,
        }
    }

    /// The event with another `seq`.
    pub fn with_seq(mut self, new: u64) -> Event {
        match &mut self {
            Event::Step { seq, .. } | Event::Lose { seq, .. } | Event::Duplicate { seq, .. } => {
                *seq = new
            }
        }
        self
    }

    /// The event as one JSON line.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("events serialize")
    }
}

/// Reads a run written as JSON lines (empty lines are skipped).
pub fn read_json_lines(text: &str) -> Result<Vec<Event>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(k, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", k + 1)))
        .collect()
}

/// Reads a run written as JSON lines by a process that may have been killed while writing:
/// as [`read_json_lines`], except that a last line that does not parse is dropped.
pub fn read_json_lines_lenient(text: &str) -> Result<Vec<Event>, String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut events = Vec::new();
    for (k, l) in lines.iter().enumerate() {
        match serde_json::from_str(l) {
            Ok(e) => events.push(e),
            Err(_) if k + 1 == lines.len() => break,
            Err(e) => return Err(format!("line {}: {e}", k + 1)),
        }
    }
    Ok(events)
}

/// Writes a run as JSON lines.
pub fn to_json_lines(events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        out.push_str(&e.to_json_line());
        out.push('\n');
    }
    out
}

/// The shared recorder of a run: events get their `seq` in the order they are recorded.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    events: Arc<Mutex<Vec<Event>>>,
    start: Option<tokio::time::Instant>,
    sink: Option<Arc<Mutex<Sink>>>,
    discard: bool,
}

/// A file each event is written to, as one JSON line, when it is recorded.
#[derive(Debug)]
struct Sink {
    file: std::fs::File,
    count: u64,
}

impl Recorder {
    /// A recorder whose clock starts now.
    pub fn new() -> Recorder {
        Recorder {
            events: Arc::default(),
            start: Some(tokio::time::Instant::now()),
            sink: None,
            discard: false,
        }
    }

    /// A recorder that keeps nothing (a node process run without a record file).
    pub fn discarding() -> Recorder {
        Recorder {
            discard: true,
            ..Recorder::default()
        }
    }

    /// Whether it keeps or writes what it is given (not [`Recorder::discarding`]).
    pub fn is_recording(&self) -> bool {
        !self.discard
    }

    /// A recorder that keeps no events in memory but appends each, as one JSON line written
    /// by one `write` call when it is recorded (before the step's messages are sent), to
    /// `path`; its `seq` numbers continue after `first_seq`. A process killed at any moment
    /// leaves every step whose messages left it in the file (a torn last line at most: see
    /// [`read_json_lines_lenient`]).
    pub fn to_file(path: &std::path::Path, first_seq: u64) -> std::io::Result<Recorder> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Recorder {
            events: Arc::default(),
            start: Some(tokio::time::Instant::now()),
            sink: Some(Arc::new(Mutex::new(Sink {
                file,
                count: first_seq,
            }))),
            discard: false,
        })
    }

    fn now_us(&self) -> u64 {
        self.start
            .map(|s| s.elapsed().as_micros() as u64)
            .unwrap_or(0)
    }

    fn push(&self, make: impl FnOnce(u64, u64) -> Event) {
        if self.discard {
            return;
        }
        let at_us = self.now_us();
        if let Some(sink) = &self.sink {
            use std::io::Write;
            let mut sink = sink.lock().expect("recorder lock");
            let event = make(sink.count, at_us);
            sink.count += 1;
            let mut line = event.to_json_line();
            tracing::debug!(target: "raft_node::step", event = %line);
            line.push('\n');
            if let Err(e) = sink.file.write_all(line.as_bytes()) {
                tracing::error!(target: "raft_node::step", error = %e, "writing the record");
            }
            return;
        }
        let mut events = self.events.lock().expect("recorder lock");
        let event = make(events.len() as u64, at_us);
        tracing::debug!(target: "raft_node::step", event = %event.to_json_line());
        events.push(event);
    }

    /// Records a node step.
    pub fn step(&self, node: u8, clock: u64, input: Input, sends: Vec<Routed>, state: LocalState) {
        self.push(|seq, at_us| Event::Step {
            seq,
            at_us,
            node,
            clock,
            input,
            sends,
            state,
        });
    }

    /// Records a lost message, sent by a step of logical clock `clock`.
    pub fn lose(&self, clock: u64, message: Routed) {
        self.push(|seq, at_us| Event::Lose {
            seq,
            at_us,
            clock,
            message,
        });
    }

    /// Records a duplicated message, sent by a step of logical clock `clock`.
    pub fn duplicate(&self, clock: u64, message: Routed) {
        self.push(|seq, at_us| Event::Duplicate {
            seq,
            at_us,
            clock,
            message,
        });
    }

    /// The events so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().expect("recorder lock").clone()
    }
}
