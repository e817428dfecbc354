//! Durable state: a write-ahead file of a node's term, vote, config and log entries.
//!
//! # Format
//!
//! A data directory holds one file, `wal`. It is a sequence of records, each
//! `[length: u32 LE][crc32 of the body: u32 LE][body: length bytes]`, the body a JSON
//! [`Record`]. The first record is always [`Record::Header`]: the node id the directory belongs
//! to and the format version. The node's durable variables are the fold of the records after
//! it: the last [`Record::TermVote`], the last [`Record::Config`], and the log built by
//! [`Record::Append`] and [`Record::Truncate`].
//!
//! # Durability
//!
//! [`Wal::write`] appends a batch of records and makes them durable with one `fsync` (group
//! commit: the runtime hands it everything a batch of inputs changed, then sends the batch's
//! messages). A vote or an acknowledgement leaves the node only after the write returns.
//!
//! # Recovery
//!
//! [`Wal::open`] reads the records back. A torn last record (the file ends inside it, or its
//! checksum fails and nothing follows it) is what a crash during a write leaves: it is dropped
//! and the file truncated to the last complete record. A record whose checksum fails with more
//! data after it is corruption, not a torn write: the directory is refused
//! ([`StorageError::Corrupt`]), as is a directory whose header names another node
//! ([`StorageError::WrongNode`]).
//!
//! Not done: snapshots and compaction (the file grows with the log). The lock against two
//! processes on one directory is `serve`'s ([`crate::serve::DirLock`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use message_raft::Durable;
use serde::{Deserialize, Serialize};
use spec_core::ServerSet;

use crate::{NodeRepr, Payload};

/// The format version written in the header.
pub const FORMAT_VERSION: u32 = 1;

/// The largest record body accepted on reading (a larger length is a torn or corrupt header).
pub const MAX_RECORD: u32 = 64 << 20;

/// One record of the write-ahead file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// Whose directory this is.
    Header {
        /// The node id.
        node: u8,
        /// [`FORMAT_VERSION`].
        version: u32,
    },
    /// `currentTerm` and `votedFor` (255: nobody).
    TermVote {
        /// The term.
        term: u64,
        /// The vote.
        voted_for: u8,
    },
    /// The config: members (bitmask), version, term.
    Config {
        /// Members as a bitmask.
        members: u16,
        /// Version.
        version: u64,
        /// Term.
        term: u64,
    },
    /// The log keeps its first `len` entries.
    Truncate {
        /// The length kept.
        len: u64,
    },
    /// An entry at `index` (the log's length + 1 when it is applied).
    Append {
        /// Its index.
        index: u64,
        /// Its term.
        term: u64,
        /// Its payload.
        payload: Payload,
    },
}

/// Why a data directory was refused or a write failed.
#[derive(Debug)]
pub enum StorageError {
    /// An IO error, with what was being done.
    Io(String, io::Error),
    /// The directory belongs to another node.
    WrongNode {
        /// The directory.
        dir: PathBuf,
        /// The node its header names.
        found: u8,
        /// The node that opened it.
        expected: u8,
    },
    /// A record in the middle of the file fails its checksum or does not parse.
    Corrupt {
        /// The file.
        file: PathBuf,
        /// The record's byte offset.
        offset: u64,
        /// What is wrong with it.
        why: String,
    },
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageError::Io(what, e) => write!(f, "{what}: {e}"),
            StorageError::WrongNode {
                dir,
                found,
                expected,
            } => write!(
                f,
                "data directory {} belongs to node {found}, not to node {expected}: refusing to use it",
                dir.display()
            ),
            StorageError::Corrupt { file, offset, why } => write!(
                f,
                "write-ahead file {} is corrupt at byte {offset} ({why}), with records after it: refusing to use it",
                file.display()
            ),
        }
    }
}

impl std::error::Error for StorageError {}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> StorageError {
    let what = what.into();
    move |e| StorageError::Io(what, e)
}

/// What [`Wal::open`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovered {
    /// The durable variables (the initial ones for a new directory).
    pub durable: Durable<NodeRepr>,
    /// Complete records read (the header included).
    pub records: usize,
    /// Bytes of a torn last record that were dropped.
    pub torn_bytes: u64,
}

/// A node's write-ahead file.
#[derive(Debug)]
pub struct Wal {
    file: File,
    path: PathBuf,
    /// Records written (for tests and metrics).
    pub records: usize,
    /// `fsync`s done.
    pub syncs: usize,
}

fn encode(record: &Record, out: &mut Vec<u8>) {
    let body = serde_json::to_vec(record).expect("records serialize");
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
}

impl Wal {
    /// Opens (or creates) the data directory `dir` for node `node`, whose initial config is
    /// `initial_config` (version 1, term 0), and recovers its durable variables.
    pub fn open(
        dir: &Path,
        node: u8,
        initial_config: ServerSet,
    ) -> Result<(Wal, Recovered), StorageError> {
        fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let path = dir.join("wal");
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_err(format!("opening {}", path.display())))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(io_err(format!("reading {}", path.display())))?;

        let (durable, records, torn_bytes, at) = parse(&bytes, dir, &path, node, initial_config)?;
        if torn_bytes > 0 {
            file.set_len(at as u64)
                .and_then(|()| file.sync_all())
                .map_err(io_err(format!(
                    "truncating the torn tail of {}",
                    path.display()
                )))?;
            file.seek(SeekFrom::End(0))
                .map_err(io_err(format!("seeking {}", path.display())))?;
        }
        let mut wal = Wal {
            file,
            path,
            records,
            syncs: 0,
        };
        if records == 0 {
            wal.write(&[Record::Header {
                node,
                version: FORMAT_VERSION,
            }])?;
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok((
            wal,
            Recovered {
                durable,
                records,
                torn_bytes,
            },
        ))
    }

    /// Appends `records` and makes them durable with one `fsync` (nothing for an empty batch).
    pub fn write(&mut self, records: &[Record]) -> Result<(), StorageError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::new();
        for r in records {
            encode(r, &mut buf);
        }
        self.file
            .write_all(&buf)
            .and_then(|()| self.file.sync_data())
            .map_err(io_err(format!("writing {}", self.path.display())))?;
        self.records += records.len();
        self.syncs += 1;
        Ok(())
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads a data directory's durable variables without changing anything (no truncation of a
/// torn tail, no header written): what a node would recover from it now.
pub fn read(dir: &Path, node: u8, initial_config: ServerSet) -> Result<Recovered, StorageError> {
    let path = dir.join("wal");
    let bytes = fs::read(&path).map_err(io_err(format!("reading {}", path.display())))?;
    let (durable, records, torn_bytes, _) = parse(&bytes, dir, &path, node, initial_config)?;
    Ok(Recovered {
        durable,
        records,
        torn_bytes,
    })
}

/// The durable variables the records of `bytes` hold, the complete records read, the bytes of
/// a torn tail, and where the complete records end.
fn parse(
    bytes: &[u8],
    dir: &Path,
    path: &Path,
    node: u8,
    initial_config: ServerSet,
) -> Result<(Durable<NodeRepr>, usize, u64, usize), StorageError> {
    let mut durable = Durable {
        term: 0,
        voted_for: message_raft::node::NOBODY,
        log: message_raft::WideLog::default(),
        config: (initial_config, 1, 0),
    };
    let mut entries: Vec<(u64, Payload)> = Vec::new();
    let mut at = 0usize;
    let mut records = 0usize;
    let mut torn_bytes = 0u64;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let complete_header = rest.len() >= 8;
        let len = if complete_header {
            u32::from_le_bytes(rest[0..4].try_into().unwrap())
        } else {
            0
        };
        if !complete_header || len > MAX_RECORD || 8 + len as usize > rest.len() {
            // The file ends inside this record: a torn write.
            torn_bytes = rest.len() as u64;
            break;
        }
        let crc = u32::from_le_bytes(rest[4..8].try_into().unwrap());
        let body = &rest[8..8 + len as usize];
        let end = at + 8 + len as usize;
        let parsed = if crc32fast::hash(body) != crc {
            Err("checksum mismatch".to_string())
        } else {
            serde_json::from_slice::<Record>(body).map_err(|e| format!("unreadable: {e}"))
        };
        let record = match parsed {
            Ok(record) => record,
            Err(_) if end == bytes.len() => {
                // The last record, complete in length but not in content: torn.
                torn_bytes = rest.len() as u64;
                break;
            }
            Err(why) => {
                return Err(StorageError::Corrupt {
                    file: path.to_path_buf(),
                    offset: at as u64,
                    why,
                })
            }
        };
        match (records, record) {
            (0, Record::Header { node: found, .. }) if found != node => {
                return Err(StorageError::WrongNode {
                    dir: dir.to_path_buf(),
                    found,
                    expected: node,
                })
            }
            (0, Record::Header { .. }) => {}
            (0, other) => {
                return Err(StorageError::Corrupt {
                    file: path.to_path_buf(),
                    offset: 0,
                    why: format!("the first record is {other:?}, not the header"),
                })
            }
            (_, Record::Header { .. }) => {
                return Err(StorageError::Corrupt {
                    file: path.to_path_buf(),
                    offset: at as u64,
                    why: "a second header".into(),
                })
            }
            (_, Record::TermVote { term, voted_for }) => {
                durable.term = term;
                durable.voted_for = voted_for;
            }
            (
                _,
                Record::Config {
                    members,
                    version,
                    term,
                },
            ) => durable.config = (ServerSet(members), version, term),
            (_, Record::Truncate { len }) => entries.truncate(len as usize),
            (
                _,
                Record::Append {
                    index,
                    term,
                    payload,
                },
            ) => {
                if index != entries.len() as u64 + 1 {
                    return Err(StorageError::Corrupt {
                        file: path.to_path_buf(),
                        offset: at as u64,
                        why: format!(
                            "an entry at index {index} appended to a log of {}",
                            entries.len()
                        ),
                    });
                }
                entries.push((term, payload));
            }
        }
        records += 1;
        at = end;
    }
    durable.log = message_raft::WideLog::from_entries(entries);
    Ok((durable, records, torn_bytes, at))
}

/// What was last made durable, to turn a node's changed variables into records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Persisted {
    term: u64,
    voted_for: u8,
    config: (u16, u64, u64),
    log_len: usize,
}

impl Persisted {
    /// What `durable` holds on disk.
    pub fn of(durable: &Durable<NodeRepr>) -> Persisted {
        Persisted {
            term: durable.term,
            voted_for: durable.voted_for,
            config: (durable.config.0 .0, durable.config.1, durable.config.2),
            log_len: durable.log.entries().len(),
        }
    }

    /// The records that bring the disk from what it holds to `node`'s durable variables (and
    /// marks the log written).
    pub fn records_for(&mut self, node: &mut message_raft::NodeState<NodeRepr>) -> Vec<Record> {
        let mut out = Vec::new();
        if (node.term, node.voted_for) != (self.term, self.voted_for) {
            out.push(Record::TermVote {
                term: node.term,
                voted_for: node.voted_for,
            });
            self.term = node.term;
            self.voted_for = node.voted_for;
        }
        let config = (node.config.0, node.config_version, node.config_term);
        if config != self.config {
            out.push(Record::Config {
                members: config.0,
                version: config.1,
                term: config.2,
            });
            self.config = config;
        }
        let low = node.log.low_water();
        if low < self.log_len {
            out.push(Record::Truncate { len: low as u64 });
        }
        for (k, (term, payload)) in node.log.entries()[low..].iter().enumerate() {
            out.push(Record::Append {
                index: (low + k + 1) as u64,
                term: *term,
                payload: payload.clone(),
            });
        }
        node.log.mark_written();
        self.log_len = node.log.entries().len();
        out
    }
}
