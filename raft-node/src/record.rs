//! What a run records: one event per node step (its input, the messages it sent, and the
//! node's variables after it, the fields the message-raft spec has), and one per fault the
//! network injected. Each event is also a `tracing` event (target `raft_node::step`), and a
//! run's events are written and read as JSON lines.
//!
//! # The record's format (version 2)
//!
//! A node's log is most of its variables, and a step changes little of it: it appends an
//! entry, or truncates a few and appends one, or leaves it alone. A record that wrote the
//! whole log with every step would grow with the square of the log's length, so a written
//! step carries its log as a *delta* ([`LogDelta`]) from the log of the same node's previous
//! step in the same stretch of the file: `keep` entries kept (the common prefix), then the
//! entries of `append`; `len` (the length after) and `after` (the previous step's logical
//! clock) make each delta check itself. Every other variable is written whole. The first
//! step of a node in a stretch carries its whole log (`after` is null, `keep` 0).
//!
//! A stretch begins with a header line, `{"Header":{"format":"raft-node-record","version":2}}`;
//! the file's first line is one, and a process that appends to an existing record (a node
//! restarted on its record file, [`Recorder::to_file`]) writes another first, so its first
//! step after recovery carries the whole log again and no delta refers to a line written by
//! another process (a killed process's torn last line never becomes a base).
//!
//! Reading rebuilds every step's full variables ([`Event`] in memory is always whole), and
//! refuses, naming the line, a file without a header (format 1, where each step carried the
//! whole log, is no longer read), a version it does not know, and a delta that does not fit:
//! one relative to a step that is not the node's previous one in its stretch (a line
//! missing or moved), one that keeps more entries than that step's log has, or one whose
//! `len` is not what it keeps and appends.

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

/// The record format's name, in its header.
pub const RECORD_FORMAT: &str = "raft-node-record";

/// The record format's version, in its header: 2, each step's log as a [`LogDelta`].
pub const RECORD_VERSION: u32 = 2;

/// A step's log, as written: its change from the log of the same node's previous step in the
/// same stretch of the record (see the module's documentation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogDelta {
    /// The logical clock of the node's previous step, whose log this one changes; `None`:
    /// the whole log is here (`keep` is 0).
    pub after: Option<u64>,
    /// Entries kept from the front of that log (the rest of it is truncated).
    pub keep: u64,
    /// Entries appended after them: (term, payload).
    pub append: Vec<(u64, Payload)>,
    /// The log's length after the step: `keep` plus the entries appended.
    pub len: u64,
}

/// A node's variables, as written: [`LocalState`] with its log as a [`LogDelta`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct StateLine {
    term: u64,
    voted_for: u8,
    role: NodeRole,
    log: LogDelta,
    config: (u16, u64, u64),
    votes: u16,
    matched: Vec<u64>,
    acked: u16,
    commit_index: u64,
}

/// One line of a record (format 2): a header, or an event. Network faults are written as
/// [`Event`] writes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Line {
    Header {
        format: String,
        version: u32,
    },
    Step {
        seq: u64,
        at_us: u64,
        node: u8,
        clock: u64,
        input: Input,
        sends: Vec<Routed>,
        state: StateLine,
    },
    Lose {
        seq: u64,
        at_us: u64,
        clock: u64,
        message: Routed,
    },
    Duplicate {
        seq: u64,
        at_us: u64,
        clock: u64,
        message: Routed,
    },
}

/// The header line that begins every stretch of a record.
pub fn header_line() -> String {
    serde_json::to_string(&Line::Header {
        format: RECORD_FORMAT.into(),
        version: RECORD_VERSION,
    })
    .expect("headers serialize")
}

/// A log as recorded: (term, payload) per entry.
type EntryLog = Vec<(u64, Payload)>;

/// Writes events as lines of one stretch of a record: remembers each node's last written
/// step (its clock and log), so that the next one is written as a delta from it.
#[derive(Debug, Default)]
pub struct Encoder {
    last: std::collections::BTreeMap<u8, (u64, EntryLog)>,
}

impl Encoder {
    /// An encoder at the start of a stretch (after its header): every node's next step is
    /// written with its whole log.
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// The event as one line (no newline).
    pub fn line(&mut self, event: &Event) -> String {
        let line = match event {
            Event::Step {
                seq,
                at_us,
                node,
                clock,
                input,
                sends,
                state,
            } => {
                let log = match self.last.get_mut(node) {
                    Some((last_clock, last_log)) => {
                        let keep = last_log
                            .iter()
                            .zip(&state.log)
                            .take_while(|(a, b)| a == b)
                            .count();
                        let append = state.log[keep..].to_vec();
                        let delta = LogDelta {
                            after: Some(*last_clock),
                            keep: keep as u64,
                            len: state.log.len() as u64,
                            append: append.clone(),
                        };
                        last_log.truncate(keep);
                        last_log.extend(append);
                        *last_clock = *clock;
                        delta
                    }
                    None => {
                        self.last.insert(*node, (*clock, state.log.clone()));
                        LogDelta {
                            after: None,
                            keep: 0,
                            len: state.log.len() as u64,
                            append: state.log.clone(),
                        }
                    }
                };
                Line::Step {
                    seq: *seq,
                    at_us: *at_us,
                    node: *node,
                    clock: *clock,
                    input: input.clone(),
                    sends: sends.clone(),
                    state: StateLine {
                        term: state.term,
                        voted_for: state.voted_for,
                        role: state.role,
                        log,
                        config: state.config,
                        votes: state.votes,
                        matched: state.matched.clone(),
                        acked: state.acked,
                        commit_index: state.commit_index,
                    },
                }
            }
            // Faults carry no state: written as the event itself.
            Event::Lose { .. } | Event::Duplicate { .. } => return event.to_json_line(),
        };
        serde_json::to_string(&line).expect("events serialize")
    }
}

/// Reads the lines of a record, rebuilding each step's whole variables from its delta.
#[derive(Debug, Default)]
struct Decoder {
    /// Whether a header was read.
    headed: bool,
    /// Each node's last step in the current stretch: its clock, its line, its log.
    last: std::collections::BTreeMap<u8, (u64, usize, EntryLog)>,
}

impl Decoder {
    /// The event of line `number` (from 1), or `None` for a header.
    fn read(&mut self, number: usize, line: Line) -> Result<Option<Event>, String> {
        let at = |why: String| format!("line {number}: {why}");
        let (seq, at_us, node, clock, input, sends, state) = match line {
            Line::Header { format, version } => {
                if format != RECORD_FORMAT {
                    return Err(at(format!(
                        "a header of the format `{format}`, not `{RECORD_FORMAT}`"
                    )));
                }
                if version != RECORD_VERSION {
                    return Err(at(format!(
                        "a record of format version {version}; this raft-node reads version {RECORD_VERSION}"
                    )));
                }
                self.headed = true;
                self.last.clear();
                return Ok(None);
            }
            _ if !self.headed => {
                return Err(at(format!(
                    "no header before the first event: not a record of format version {RECORD_VERSION} (whose first line is {})",
                    header_line()
                )))
            }
            Line::Lose {
                seq,
                at_us,
                clock,
                message,
            } => {
                return Ok(Some(Event::Lose {
                    seq,
                    at_us,
                    clock,
                    message,
                }))
            }
            Line::Duplicate {
                seq,
                at_us,
                clock,
                message,
            } => {
                return Ok(Some(Event::Duplicate {
                    seq,
                    at_us,
                    clock,
                    message,
                }))
            }
            Line::Step {
                seq,
                at_us,
                node,
                clock,
                input,
                sends,
                state,
            } => (seq, at_us, node, clock, input, sends, state),
        };
        let delta = &state.log;
        let name = format!("n{}", u32::from(node) + 1);
        let appended = delta.append.len() as u64;
        if delta.keep.checked_add(appended) != Some(delta.len) {
            return Err(at(format!(
                "{name}'s log delta keeps {} entries and appends {appended}, but says the log's length is {}",
                delta.keep, delta.len
            )));
        }
        let log = match (delta.after, self.last.get_mut(&node)) {
            (None, _) => {
                if delta.keep != 0 {
                    return Err(at(format!(
                        "{name}'s whole log (a delta after no step) keeps {} entries of nothing",
                        delta.keep
                    )));
                }
                self.last
                    .insert(node, (clock, number, delta.append.clone()));
                delta.append.clone()
            }
            (Some(after), None) => {
                return Err(at(format!(
                    "{name}'s log is a delta from its step of clock {after}, but no step of {name} precedes it in this stretch of the record (a line missing?)"
                )))
            }
            (Some(after), Some((last_clock, last_line, last_log))) => {
                if after != *last_clock {
                    return Err(at(format!(
                        "{name}'s log is a delta from its step of clock {after}, but its previous step (line {last_line}) has clock {last_clock} (a line missing or out of place)"
                    )));
                }
                if delta.keep > last_log.len() as u64 {
                    return Err(at(format!(
                        "{name}'s log delta keeps {} entries of a log of {} (line {last_line}): a truncation beyond the log's length",
                        delta.keep,
                        last_log.len()
                    )));
                }
                last_log.truncate(delta.keep as usize);
                last_log.extend(delta.append.iter().cloned());
                *last_clock = clock;
                *last_line = number;
                last_log.clone()
            }
        };
        Ok(Some(Event::Step {
            seq,
            at_us,
            node,
            clock,
            input,
            sends,
            state: LocalState {
                term: state.term,
                voted_for: state.voted_for,
                role: state.role,
                log,
                config: state.config,
                votes: state.votes,
                matched: state.matched,
                acked: state.acked,
                commit_index: state.commit_index,
            },
        }))
    }
}

/// Parses one line, saying what it is if it is not a line of this format.
fn parse_line(number: usize, text: &str) -> Result<Line, String> {
    serde_json::from_str(text).map_err(|e| {
        if number == 1 && serde_json::from_str::<Event>(text).is_ok() {
            format!(
                "line 1: a record of format version 1 (no header; each step carries the node's whole log); this raft-node reads version {RECORD_VERSION}: record the run again"
            )
        } else {
            format!("line {number}: {e}")
        }
    })
}

/// Reads a record written as JSON lines (empty lines are skipped): the events, each step
/// with its whole variables.
pub fn read_json_lines(text: &str) -> Result<Vec<Event>, String> {
    let mut decoder = Decoder::default();
    let mut events = Vec::new();
    for (k, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let line = parse_line(k + 1, l)?;
        events.extend(decoder.read(k + 1, line)?);
    }
    Ok(events)
}

/// Reads a record written by a process that may have been killed while writing: as
/// [`read_json_lines`], except that a last line that does not parse (a torn line) is
/// dropped. A line that parses but does not fit (a bad delta) is refused all the same.
pub fn read_json_lines_lenient(text: &str) -> Result<Vec<Event>, String> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let mut decoder = Decoder::default();
    let mut events = Vec::new();
    for (k, &(number, l)) in lines.iter().enumerate() {
        match parse_line(number + 1, l) {
            Ok(line) => events.extend(decoder.read(number + 1, line)?),
            // A torn line (not a whole line of either format) is dropped.
            Err(_) if k + 1 == lines.len() && serde_json::from_str::<Event>(l).is_err() => break,
            Err(e) => return Err(e),
        }
    }
    Ok(events)
}

/// Writes a run as a record: its header, then one JSON line per event.
pub fn to_json_lines(events: &[Event]) -> String {
    let mut out = header_line();
    out.push('\n');
    let mut encoder = Encoder::new();
    for e in events {
        out.push_str(&encoder.line(e));
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
    encoder: Encoder,
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
    /// [`read_json_lines_lenient`]). It first appends a header line, which begins a new
    /// stretch of the record: each node's first step after it carries its whole log, so an
    /// appended record never depends on what an earlier process wrote.
    pub fn to_file(path: &std::path::Path, first_seq: u64) -> std::io::Result<Recorder> {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        file.write_all(format!("{}\n", header_line()).as_bytes())?;
        Ok(Recorder {
            events: Arc::default(),
            start: Some(tokio::time::Instant::now()),
            sink: Some(Arc::new(Mutex::new(Sink {
                file,
                count: first_seq,
                encoder: Encoder::new(),
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
            let mut line = sink.encoder.line(&event);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A step of node `node` at `clock` whose log is `log` (terms; payload `[term]`).
    fn step(seq: u64, node: u8, clock: u64, log: &[u64]) -> Event {
        Event::Step {
            seq,
            at_us: 0,
            node,
            clock,
            input: Input::Timer(Timer::Election),
            sends: Vec::new(),
            state: LocalState {
                term: 1,
                voted_for: 255,
                role: NodeRole::Secondary,
                log: log.iter().map(|&t| (t, vec![t as u8])).collect(),
                config: (7, 1, 0),
                votes: 0,
                matched: vec![0; 3],
                acked: 0,
                commit_index: 0,
            },
        }
    }

    fn run() -> Vec<Event> {
        vec![
            step(0, 0, 1, &[1]),
            step(1, 1, 1, &[]),
            step(2, 0, 2, &[1, 1]),
            step(3, 1, 3, &[1, 2, 2]),
            // n2 truncates to one entry and appends another.
            step(4, 1, 4, &[1, 3]),
        ]
    }

    #[test]
    fn a_step_is_written_as_its_log_delta_and_read_back_whole() {
        let text = to_json_lines(&run());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"Header":{"format":"raft-node-record","version":2}}"#
        );
        assert!(
            lines[5].contains(r#""log":{"after":3,"keep":1,"append":[[3,[3]]],"len":2}"#),
            "{}",
            lines[5]
        );
        assert!(
            lines[1].contains(r#""log":{"after":null,"keep":0,"append":[[1,[1]]],"len":1}"#),
            "{}",
            lines[1]
        );
        assert_eq!(read_json_lines(&text).unwrap(), run());
    }

    /// Replaces `from` by `to` in line `k` (from 0) of the record of [`run`].
    fn damaged(k: usize, from: &str, to: &str) -> String {
        let text = to_json_lines(&run());
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        assert!(lines[k].contains(from), "{}", lines[k]);
        lines[k] = lines[k].replace(from, to);
        lines.join("\n")
    }

    #[test]
    fn a_damaged_delta_is_refused_naming_its_line() {
        // A truncation beyond the length: n2's log had 3 entries.
        assert_eq!(
            read_json_lines(&damaged(5, r#""keep":1,"append":[[3,[3]]],"len":2"#, r#""keep":4,"append":[],"len":4"#)),
            Err("line 6: n2's log delta keeps 4 entries of a log of 3 (line 5): a truncation beyond the log's length".into())
        );
        // A length that is not what it keeps and appends.
        assert_eq!(
            read_json_lines(&damaged(5, r#""len":2"#, r#""len":3"#)),
            Err("line 6: n2's log delta keeps 1 entries and appends 1, but says the log's length is 3".into())
        );
        // A line missing: n2's delta refers to a step the record does not have.
        let mut lines: Vec<&str> = Vec::new();
        let text = to_json_lines(&run());
        lines.extend(text.lines());
        lines.remove(4);
        assert_eq!(
            read_json_lines(&lines.join("\n")),
            Err("line 5: n2's log is a delta from its step of clock 3, but its previous step (line 3) has clock 1 (a line missing or out of place)".into())
        );
        // A delta from nothing.
        lines.remove(2);
        assert_eq!(
            read_json_lines(&lines.join("\n")),
            Err("line 4: n2's log is a delta from its step of clock 3, but no step of n2 precedes it in this stretch of the record (a line missing?)".into())
        );
        // A whole log that keeps something.
        assert_eq!(
            read_json_lines(&damaged(
                1,
                r#""after":null,"keep":0,"append":[[1,[1]]]"#,
                r#""after":null,"keep":1,"append":[]"#
            )),
            Err("line 2: n1's whole log (a delta after no step) keeps 1 entries of nothing".into())
        );
    }

    #[test]
    fn records_of_other_formats_are_refused() {
        let header = header_line();
        let v3 = to_json_lines(&run()).replacen(r#""version":2"#, r#""version":3"#, 1);
        assert_eq!(
            read_json_lines(&v3),
            Err("line 1: a record of format version 3; this raft-node reads version 2".into())
        );
        // Format 1: no header, each step its whole log (the event's own serialization).
        let v1: String = run().iter().map(|e| e.to_json_line() + "\n").collect();
        let why = "line 1: a record of format version 1 (no header; each step carries the node's whole log); this raft-node reads version 2: record the run again";
        assert_eq!(read_json_lines(&v1), Err(why.into()));
        assert_eq!(read_json_lines_lenient(&v1), Err(why.into()));
        // A format-2 record whose header is gone.
        let headless = to_json_lines(&run()).replacen(&format!("{header}\n"), "", 1);
        assert_eq!(
            read_json_lines(&headless),
            Err(format!("line 1: no header before the first event: not a record of format version 2 (whose first line is {header})"))
        );
        assert_eq!(read_json_lines(""), Ok(Vec::new()));
    }

    #[test]
    fn an_appended_stretch_starts_whole_and_a_torn_last_line_is_dropped() {
        let dir = std::env::temp_dir().join(format!("raft-node-record-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("n2.jsonl");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let record = |first_seq: u64, steps: &[Event]| {
            rt.block_on(async {
                let recorder = Recorder::to_file(&path, first_seq).unwrap();
                for e in steps {
                    if let Event::Step {
                        node,
                        clock,
                        input,
                        sends,
                        state,
                        ..
                    } = e.clone()
                    {
                        recorder.step(node, clock, input, sends, state);
                    }
                }
            })
        };
        let steps = run();
        record(0, &steps[1..2]);
        record(1, &steps[3..5]);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[2], header_line());
        // The second process's first step carries the whole log, its second a delta.
        assert!(lines[3].contains(r#""after":null"#), "{}", lines[3]);
        assert!(lines[4].contains(r#""after":3"#), "{}", lines[4]);
        let read: Vec<LocalState> = read_json_lines(&text)
            .unwrap()
            .into_iter()
            .filter_map(|e| match e {
                Event::Step { state, .. } => Some(state),
                _ => None,
            })
            .collect();
        let want: Vec<LocalState> = [&steps[1], &steps[3], &steps[4]]
            .iter()
            .filter_map(|e| match e {
                Event::Step { state, .. } => Some(state.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(read, want);
        // A torn last line: dropped by the lenient reader, refused by the strict one.
        let torn = format!("{text}{}", &lines[4][..40]);
        assert_eq!(read_json_lines_lenient(&torn).unwrap().len(), 3);
        assert!(read_json_lines(&torn).unwrap_err().starts_with("line 6: "));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
