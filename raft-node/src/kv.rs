//! The replicated key-value map: commands carried as log payloads, applied in log order from
//! committed entries.
//!
//! A payload is one [`Command`] as JSON. A node applies its log's entries `1..=k` to its
//! [`KvState`] once it knows they are committed. The node core tells only a primary what is
//! committed (its commit point, [`message_raft::NodeState::commit_index`]; no message carries a
//! commit point to a secondary), so a node applies while it is primary, up to its commit
//! point, and keeps what it applied when it steps down (a committed prefix stays committed).
//! A node elected primary first appends a [`Command::Noop`] of its term
//! ([`crate::runtime::Service::noop_on_election`]): once that commits, so does every
//! entry before it, and the new primary catches up.
//!
//! Reads. A [`Command::Read`] goes through the log like a write: when it commits, the node
//! that answers was primary in that entry's term and its map holds every write committed
//! before (it applied up to the entry first), so the answer is up to date (a linearizable
//! read). A read served from the primary's map without going through the log is marked
//! possibly stale ([`crate::client::Reply::Value`]'s `stale`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Payload;

/// A client's command, as a log entry's payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Sets `key` to `value`.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Removes `key`.
    Delete {
        /// The key.
        key: String,
    },
    /// A read of `key` through the log (changes nothing).
    Read {
        /// The key.
        key: String,
    },
    /// A new primary's first entry (changes nothing).
    Noop,
    /// Several clients' commands in one entry, applied in order (the writes a primary found
    /// queued together: [`Command::batch`]).
    Batch(Vec<Command>),
}

impl Command {
    /// The command as a payload.
    pub fn encode(&self) -> Payload {
        serde_json::to_vec(self).expect("commands serialize")
    }

    /// The payloads of several commands as one: the payload itself if there is one, else a
    /// [`Command::Batch`] of the commands (a payload that is no command is left out of it: it
    /// would apply as nothing).
    pub fn batch(mut payloads: Vec<Payload>) -> Payload {
        if payloads.len() == 1 {
            return payloads.pop().expect("one payload");
        }
        Command::Batch(payloads.iter().filter_map(|p| Command::decode(p)).collect()).encode()
    }

    /// Whether it is a write (a put or a delete, or a batch holding one).
    pub fn writes(&self) -> bool {
        match self {
            Command::Put { .. } | Command::Delete { .. } => true,
            Command::Batch(commands) => commands.iter().any(Command::writes),
            Command::Read { .. } | Command::Noop => false,
        }
    }

    /// The command a payload carries, if any.
    pub fn decode(payload: &[u8]) -> Option<Command> {
        serde_json::from_slice(payload).ok()
    }
}

/// A node's applied map.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvState {
    /// The map.
    pub map: BTreeMap<String, String>,
    /// The index of the last applied entry (0: none).
    pub applied: u64,
    /// Its term.
    pub applied_term: u64,
    /// Every applied entry, (index, term, payload), if `keep_history` (for tests).
    pub history: Vec<(u64, u64, Payload)>,
    /// Whether to keep `history`.
    pub keep_history: bool,
    /// Payloads that were no command (applied as nothing).
    pub undecodable: u64,
}

/// Why entries cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyError {
    /// The log no longer holds the last applied entry: a committed entry was rolled back.
    LostApplied {
        /// The applied index.
        index: u64,
        /// Its term.
        term: u64,
        /// What the log holds there now.
        now: Option<u64>,
    },
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyError::LostApplied { index, term, now } => write!(
                f,
                "the applied entry ({index}, {term}) is no longer in the log (term there: {now:?})"
            ),
        }
    }
}

impl std::error::Error for ApplyError {}

impl KvState {
    /// An empty map that keeps its history.
    pub fn with_history() -> KvState {
        KvState {
            keep_history: true,
            ..KvState::default()
        }
    }

    /// Applies one command.
    pub fn apply_command(&mut self, command: &Command) {
        match command {
            Command::Put { key, value } => {
                self.map.insert(key.clone(), value.clone());
            }
            Command::Delete { key } => {
                self.map.remove(key);
            }
            Command::Read { .. } | Command::Noop => {}
            Command::Batch(commands) => {
                for c in commands {
                    self.apply_command(c);
                }
            }
        }
    }

    /// Applies the entries of `log` (its (term, payload) entries, index 1 first) after the
    /// applied one up to index `upto`, which the caller knows committed. Refuses if the log
    /// no longer holds the applied entry.
    pub fn apply_committed(
        &mut self,
        log: &[(u64, Payload)],
        upto: u64,
    ) -> Result<usize, ApplyError> {
        if self.applied > 0 {
            let now = log.get(self.applied as usize - 1).map(|e| e.0);
            if now != Some(self.applied_term) {
                return Err(ApplyError::LostApplied {
                    index: self.applied,
                    term: self.applied_term,
                    now,
                });
            }
        }
        let upto = upto.min(log.len() as u64);
        let mut n = 0;
        while self.applied < upto {
            let index = self.applied + 1;
            let (term, payload) = &log[index as usize - 1];
            match Command::decode(payload) {
                Some(c) => self.apply_command(&c),
                None => self.undecodable += 1,
            }
            if self.keep_history {
                self.history.push((index, *term, payload.clone()));
            }
            self.applied = index;
            self.applied_term = *term;
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(k: &str, v: &str) -> Payload {
        Command::Put {
            key: k.into(),
            value: v.into(),
        }
        .encode()
    }

    #[test]
    fn commands_round_trip() {
        for c in [
            Command::Put {
                key: "a".into(),
                value: "1".into(),
            },
            Command::Delete { key: "a".into() },
            Command::Read { key: "a".into() },
            Command::Noop,
        ] {
            assert_eq!(Command::decode(&c.encode()), Some(c));
        }
        assert_eq!(Command::decode(b"w7"), None);
    }

    #[test]
    fn applies_in_log_order_up_to_the_commit_point() {
        let log = vec![
            (1, put("a", "1")),
            (1, put("b", "2")),
            (2, Command::Delete { key: "a".into() }.encode()),
            (2, put("b", "3")),
        ];
        let mut kv = KvState::with_history();
        assert_eq!(kv.apply_committed(&log, 2), Ok(2));
        assert_eq!(kv.map.get("a").map(String::as_str), Some("1"));
        assert_eq!(kv.apply_committed(&log, 2), Ok(0), "applied once");
        assert_eq!(
            kv.apply_committed(&log, 9),
            Ok(2),
            "no further than the log"
        );
        assert_eq!(kv.map.get("a"), None);
        assert_eq!(kv.map.get("b").map(String::as_str), Some("3"));
        assert_eq!((kv.applied, kv.applied_term), (4, 2));
        assert_eq!(kv.history.len(), 4);
    }

    #[test]
    fn a_batch_is_one_entry_applied_in_order() {
        let one = Command::batch(vec![put("a", "1")]);
        assert_eq!(one, put("a", "1"), "one payload stays itself");
        let batch = Command::batch(vec![
            put("a", "1"),
            b"w0".to_vec(),
            Command::Delete { key: "a".into() }.encode(),
            put("b", "2"),
        ]);
        assert_eq!(
            Command::decode(&batch),
            Some(Command::Batch(vec![
                Command::Put {
                    key: "a".into(),
                    value: "1".into()
                },
                Command::Delete { key: "a".into() },
                Command::Put {
                    key: "b".into(),
                    value: "2".into()
                },
            ]))
        );
        assert!(Command::decode(&batch).unwrap().writes());
        assert!(!Command::Batch(vec![Command::Noop]).writes());
        let mut kv = KvState::default();
        assert_eq!(kv.apply_committed(&[(1, batch)], 1), Ok(1));
        assert_eq!(kv.map.len(), 1);
        assert_eq!(kv.map.get("b").map(String::as_str), Some("2"));
        assert_eq!((kv.applied, kv.undecodable), (1, 0));
    }

    #[test]
    fn a_lost_applied_entry_is_refused() {
        let mut kv = KvState::default();
        kv.apply_committed(&[(1, put("a", "1"))], 1).unwrap();
        assert_eq!(
            kv.apply_committed(&[(2, put("a", "2"))], 1),
            Err(ApplyError::LostApplied {
                index: 1,
                term: 1,
                now: Some(2)
            })
        );
    }

    #[test]
    fn other_payloads_apply_as_nothing() {
        let mut kv = KvState::default();
        kv.apply_committed(&[(1, b"w0".to_vec()), (1, put("k", "v"))], 2)
            .unwrap();
        assert_eq!(kv.undecodable, 1);
        assert_eq!(kv.map.len(), 1);
    }
}
