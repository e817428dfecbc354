//! Durable state: a write-ahead file of a node's term, vote, config and log entries, compacted
//! into a snapshot when it grows.
//!
//! # Format
//!
//! A data directory holds one file, `wal`. It is a sequence of records, each
//! `[length: u32 LE][crc32 of the body: u32 LE][body: length bytes]`, the body a JSON
//! [`Record`]. The first record is always [`Record::Header`]: the node id the directory belongs
//! to, the format version, and whether a snapshot follows. The node's durable variables are the
//! fold of the records after it: the last [`Record::TermVote`], the last [`Record::Config`], and
//! the log built by [`Record::Append`] and [`Record::Truncate`].
//!
//! A compacted file starts with a *snapshot*: a header with `snapshot: true`, then the node's
//! whole durable state as the shortest records that build it (one `TermVote`, one `Config`,
//! one `Append` per log entry), then, with the key-value service, the applied map
//! ([`Record::Applied`] and [`Record::AppliedKeys`] chunks), and last [`Record::SnapshotEnd`]
//! (the log's length, checked). Records written after the compaction follow as before. The
//! snapshot is made of ordinary bounded records, so no record grows with the log.
//!
//! # Durability
//!
//! [`Wal::write`] appends a batch of records and makes them durable with one `fsync` (group
//! commit: the runtime hands it everything a batch of inputs changed, then sends the batch's
//! messages). A vote or an acknowledgement leaves the node only after the write returns.
//!
//! # Compaction
//!
//! Every record stays in the file until a compaction drops what later records superseded (old
//! terms and votes, old configs, entries rolled back). [`Wal::compact`] writes the snapshot of
//! the state the file already holds to `wal.tmp`, `fsync`s it, renames it over `wal` (atomic),
//! and `fsync`s the directory; appends go on in the new file. The runtime compacts when the
//! bytes appended since the last snapshot reach both a setting
//! ([`crate::runtime::NodeOptions::wal_compact_bytes`]) and the snapshot's own size (so a
//! compaction rewrites at most as much as was appended since the last: amortized, each
//! appended byte is rewritten at most once). A compaction changes nothing the node holds
//! durable, so it can run at any time between two group commits; the runtime runs it after a
//! batch's messages have left.
//!
//! Crash points, and what recovery finds: before the rename, `wal` is whole and `wal.tmp` is
//! whatever part of the snapshot reached the disk: [`Wal::open`] removes `wal.tmp` and reads
//! `wal`. After the rename (before or after the directory's `fsync`), `wal` is either the old
//! file or the complete, synced snapshot: both hold the same state. A snapshot that fails a
//! checksum, or a file that ends inside its snapshot, is not something a crash leaves (the
//! snapshot was synced before it got its name): refused as corrupt.
//!
//! # Recovery
//!
//! [`Wal::open`] reads the records back. A torn last record (the file ends inside it, or its
//! checksum fails and nothing follows it) is what a crash during a write leaves: it is dropped
//! and the file truncated to the last complete record. A record whose checksum fails with more
//! data after it is corruption, not a torn write: the directory is refused
//! ([`StorageError::Corrupt`]), as is a directory whose header names another node
//! ([`StorageError::WrongNode`]) or a newer format version.
//!
//! Not done: dropping a prefix of the log. The node core keeps its whole log in memory (the
//! spec's variables are the whole log), so a snapshot holds every entry. The lock against two
//! processes on one directory is `serve`'s ([`crate::serve::DirLock`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use message_raft::{Durable, NodeState};
use serde::{Deserialize, Serialize};
use spec_core::ServerSet;

use crate::kv::KvState;
use crate::{NodeRepr, Payload};

/// The format version written in the header (2: snapshots; a file of version 1 has none and
/// reads the same).
pub const FORMAT_VERSION: u32 = 2;

/// The largest record body accepted on reading (a larger length is a torn or corrupt header).
pub const MAX_RECORD: u32 = 64 << 20;

/// The most bytes of key-value pairs in one [`Record::AppliedKeys`] (a snapshot's map is
/// written in chunks, so no record grows with the map).
pub const APPLIED_CHUNK: usize = 1 << 20;

/// The file name of the write-ahead file in its data directory.
pub const WAL_FILE: &str = "wal";

/// The file name a compaction writes its snapshot to before renaming it over [`WAL_FILE`].
pub const TEMP_FILE: &str = "wal.tmp";

/// One record of the write-ahead file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// Whose directory this is.
    Header {
        /// The node id.
        node: u8,
        /// [`FORMAT_VERSION`].
        version: u32,
        /// Whether a snapshot follows (up to its [`Record::SnapshotEnd`]).
        #[serde(default)]
        snapshot: bool,
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
    /// In a snapshot: the key-value map applied up to the entry (`index`, `term`); its pairs
    /// follow in [`Record::AppliedKeys`] records.
    Applied {
        /// The last applied entry's index.
        index: u64,
        /// Its term.
        term: u64,
    },
    /// In a snapshot: pairs of the applied map (in key order, chunk after chunk).
    AppliedKeys {
        /// The pairs.
        pairs: Vec<(String, String)>,
    },
    /// The end of a snapshot: its log has `log_len` entries, its applied map `keys` keys.
    SnapshotEnd {
        /// The log's length.
        log_len: u64,
        /// The applied map's size (0 without one).
        keys: u64,
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
    /// A record in the middle of the file (or anywhere in its snapshot) fails its checksum or
    /// does not parse, or the records make no sense.
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
                "write-ahead file {} is corrupt at byte {offset} ({why}): refusing to use it",
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
    /// The applied key-value map the snapshot holds, if the file starts with a snapshot that
    /// has one (the map of entries `1..=applied`; a restarted service applies only the rest).
    pub applied: Option<KvState>,
    /// Whether the file starts with a snapshot.
    pub from_snapshot: bool,
    /// Whether a compaction's leftover temporary file was found (and, by [`Wal::open`],
    /// removed).
    pub removed_temp: bool,
}

/// What [`Wal::compact`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compacted {
    /// The file's size before.
    pub bytes_before: u64,
    /// Its size after (the snapshot's).
    pub bytes_after: u64,
    /// Records before (the header included).
    pub records_before: usize,
    /// Records after.
    pub records_after: usize,
}

/// Where a compaction stops, to test what recovery makes of each crash point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashPoint {
    /// `wal.tmp` written, not yet synced (a crash may leave any prefix of it).
    BeforeSync,
    /// `wal.tmp` synced, not yet renamed over `wal`: both files complete.
    BeforeRename,
}

/// A node's write-ahead file.
#[derive(Debug)]
pub struct Wal {
    file: File,
    path: PathBuf,
    dir: PathBuf,
    node: u8,
    /// The file's size.
    bytes: u64,
    /// Its size when the last compaction ended (or, never compacted, after its header): what
    /// was appended since is `bytes - base`.
    base: u64,
    /// Records written (for tests and metrics).
    pub records: usize,
    /// `fsync`s done (group commits; a compaction's are not counted).
    pub syncs: usize,
    /// Compactions done.
    pub compactions: usize,
}

fn encode(record: &Record, out: &mut Vec<u8>) {
    let body = serde_json::to_vec(record).expect("records serialize");
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(format!("syncing the directory {}", dir.display())))
}

/// The records of a snapshot of `node`'s durable variables and, if given, an applied map: a
/// header, a `TermVote`, a `Config`, one `Append` per entry, the map in chunks, and the end.
pub fn snapshot_records(
    id: u8,
    node: &NodeState<NodeRepr>,
    applied: Option<&KvState>,
) -> Vec<Record> {
    let mut out = vec![
        Record::Header {
            node: id,
            version: FORMAT_VERSION,
            snapshot: true,
        },
        Record::TermVote {
            term: node.term,
            voted_for: node.voted_for,
        },
        Record::Config {
            members: node.config.0,
            version: node.config_version,
            term: node.config_term,
        },
    ];
    for (k, (term, payload)) in node.log.entries().iter().enumerate() {
        out.push(Record::Append {
            index: k as u64 + 1,
            term: *term,
            payload: payload.clone(),
        });
    }
    let mut keys = 0;
    if let Some(kv) = applied.filter(|kv| kv.applied > 0) {
        out.push(Record::Applied {
            index: kv.applied,
            term: kv.applied_term,
        });
        let mut pairs = Vec::new();
        let mut size = 0;
        for (k, v) in &kv.map {
            size += k.len() + v.len() + 8;
            pairs.push((k.clone(), v.clone()));
            if size >= APPLIED_CHUNK {
                out.push(Record::AppliedKeys {
                    pairs: std::mem::take(&mut pairs),
                });
                size = 0;
            }
        }
        if !pairs.is_empty() {
            out.push(Record::AppliedKeys { pairs });
        }
        keys = kv.map.len() as u64;
    }
    out.push(Record::SnapshotEnd {
        log_len: node.log.entries().len() as u64,
        keys,
    });
    out
}

impl Wal {
    /// Opens (or creates) the data directory `dir` for node `node`, whose initial config is
    /// `initial_config` (version 1, term 0), and recovers its durable variables. A
    /// compaction's leftover `wal.tmp` is removed (`wal` holds the whole state until the
    /// rename).
    pub fn open(
        dir: &Path,
        node: u8,
        initial_config: ServerSet,
    ) -> Result<(Wal, Recovered), StorageError> {
        fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let path = dir.join(WAL_FILE);
        let temp = dir.join(TEMP_FILE);
        let removed_temp = temp.exists();
        if removed_temp {
            fs::remove_file(&temp).map_err(io_err(format!(
                "removing {} (left by a compaction that did not finish)",
                temp.display()
            )))?;
            sync_dir(dir)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_err(format!("opening {}", path.display())))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(io_err(format!("reading {}", path.display())))?;

        let parsed = parse(&bytes, dir, &path, node, initial_config)?;
        if parsed.torn_bytes > 0 {
            file.set_len(parsed.end as u64)
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
            dir: dir.to_path_buf(),
            node,
            bytes: parsed.end as u64,
            base: parsed.base as u64,
            records: parsed.records,
            syncs: 0,
            compactions: 0,
        };
        if parsed.records == 0 {
            wal.write(&[Record::Header {
                node,
                version: FORMAT_VERSION,
                snapshot: false,
            }])?;
            wal.base = wal.bytes;
            sync_dir(dir)?;
        }
        Ok((
            wal,
            Recovered {
                durable: parsed.durable,
                records: parsed.records,
                torn_bytes: parsed.torn_bytes,
                applied: parsed.applied,
                from_snapshot: parsed.snapshot,
                removed_temp,
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
        self.bytes += buf.len() as u64;
        self.syncs += 1;
        Ok(())
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's size in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Bytes appended since the last snapshot (or since the header).
    pub fn bytes_since_snapshot(&self) -> u64 {
        self.bytes - self.base
    }

    /// Whether the file is due for compaction with the setting `min_bytes` (0: never): the
    /// bytes appended since the last snapshot reach both `min_bytes` and the snapshot's size.
    pub fn due(&self, min_bytes: u64) -> bool {
        min_bytes > 0 && self.bytes_since_snapshot() >= min_bytes.max(self.base)
    }

    /// Replaces the file by a snapshot of `node`'s durable variables (and of `applied`, the
    /// key-value map applied from `node`'s log, if given): written to `wal.tmp`, synced,
    /// renamed over `wal`, the directory synced. `node`'s durable variables must be what the
    /// file holds (every change written): a compaction changes nothing durable.
    pub fn compact(
        &mut self,
        node: &NodeState<NodeRepr>,
        applied: Option<&KvState>,
    ) -> Result<Compacted, StorageError> {
        self.compact_until(node, applied, None)
            .map(|c| c.expect("not stopped"))
    }

    /// [`Wal::compact`], stopped at `crash` (for tests of recovery at each crash point: the
    /// files are left as a crash there leaves them, and this `Wal` must not be used again).
    pub fn compact_until(
        &mut self,
        node: &NodeState<NodeRepr>,
        applied: Option<&KvState>,
        crash: Option<CrashPoint>,
    ) -> Result<Option<Compacted>, StorageError> {
        // Every change of the log is written (the runtime compacts between group commits).
        debug_assert_eq!(node.log.low_water(), node.log.entries().len());
        let records = snapshot_records(self.node, node, applied);
        let mut buf = Vec::new();
        for r in &records {
            encode(r, &mut buf);
        }
        let temp = self.dir.join(TEMP_FILE);
        let what = || format!("writing the snapshot {}", temp.display());
        let _ = fs::remove_file(&temp);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&temp)
            .map_err(io_err(what()))?;
        file.write_all(&buf).map_err(io_err(what()))?;
        if crash == Some(CrashPoint::BeforeSync) {
            return Ok(None);
        }
        file.sync_all().map_err(io_err(what()))?;
        if crash == Some(CrashPoint::BeforeRename) {
            return Ok(None);
        }
        fs::rename(&temp, &self.path).map_err(io_err(format!(
            "renaming {} over {}",
            temp.display(),
            self.path.display()
        )))?;
        sync_dir(&self.dir)?;
        let done = Compacted {
            bytes_before: self.bytes,
            bytes_after: buf.len() as u64,
            records_before: self.records,
            records_after: records.len(),
        };
        self.file = file;
        self.bytes = buf.len() as u64;
        self.base = self.bytes;
        self.records = records.len();
        self.compactions += 1;
        Ok(Some(done))
    }
}

/// Reads a data directory's durable variables without changing anything (no truncation of a
/// torn tail, no header written, a compaction's `wal.tmp` ignored): what a node would recover
/// from it now.
pub fn read(dir: &Path, node: u8, initial_config: ServerSet) -> Result<Recovered, StorageError> {
    let path = dir.join(WAL_FILE);
    let bytes = fs::read(&path).map_err(io_err(format!("reading {}", path.display())))?;
    let parsed = parse(&bytes, dir, &path, node, initial_config)?;
    Ok(Recovered {
        durable: parsed.durable,
        records: parsed.records,
        torn_bytes: parsed.torn_bytes,
        applied: parsed.applied,
        from_snapshot: parsed.snapshot,
        removed_temp: false,
    })
}

/// What the records of a file hold.
struct Parsed {
    durable: Durable<NodeRepr>,
    applied: Option<KvState>,
    /// Complete records read.
    records: usize,
    /// Bytes of a torn tail.
    torn_bytes: u64,
    /// Where the complete records end.
    end: usize,
    /// Where the snapshot ends (or the header, without one).
    base: usize,
    /// Whether the file starts with a snapshot.
    snapshot: bool,
}

/// Where a file's records are, in reading order.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the header.
    Header,
    /// Inside a snapshot (up to its end record).
    Snapshot,
    /// Records appended to the file.
    Log,
}

fn parse(
    bytes: &[u8],
    dir: &Path,
    path: &Path,
    node: u8,
    initial_config: ServerSet,
) -> Result<Parsed, StorageError> {
    let mut durable = Durable {
        term: 0,
        voted_for: message_raft::node::NOBODY,
        log: message_raft::WideLog::default(),
        config: (initial_config, 1, 0),
    };
    let corrupt = |offset: usize, why: String| StorageError::Corrupt {
        file: path.to_path_buf(),
        offset: offset as u64,
        why,
    };
    let mut entries: Vec<(u64, Payload)> = Vec::new();
    let mut applied: Option<KvState> = None;
    let mut phase = Phase::Header;
    let mut snapshot = false;
    let mut base = 0usize;
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
            if phase == Phase::Snapshot {
                return Err(corrupt(
                    at,
                    "the snapshot is cut short (it was synced before it replaced the file: not a torn write)".into(),
                ));
            }
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
            Err(_) if end == bytes.len() && phase != Phase::Snapshot => {
                // The last record, complete in length but not in content: torn.
                torn_bytes = rest.len() as u64;
                break;
            }
            Err(why) if phase == Phase::Snapshot => {
                return Err(corrupt(at, format!("{why} inside the snapshot")))
            }
            Err(why) => return Err(corrupt(at, format!("{why}, with records after it"))),
        };
        match (phase, record) {
            (
                Phase::Header,
                Record::Header {
                    node: found,
                    version,
                    snapshot: with_snapshot,
                },
            ) => {
                if found != node {
                    return Err(StorageError::WrongNode {
                        dir: dir.to_path_buf(),
                        found,
                        expected: node,
                    });
                }
                if version > FORMAT_VERSION {
                    return Err(corrupt(
                        0,
                        format!(
                            "format version {version}, newer than this program's {FORMAT_VERSION}"
                        ),
                    ));
                }
                snapshot = with_snapshot;
                phase = if with_snapshot {
                    Phase::Snapshot
                } else {
                    Phase::Log
                };
            }
            (Phase::Header, other) => {
                return Err(corrupt(
                    0,
                    format!("the first record is {other:?}, not the header"),
                ))
            }
            (_, Record::Header { .. }) => return Err(corrupt(at, "a second header".into())),
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
                    return Err(corrupt(
                        at,
                        format!(
                            "an entry at index {index} appended to a log of {}",
                            entries.len()
                        ),
                    ));
                }
                entries.push((term, payload));
            }
            (Phase::Snapshot, Record::Applied { index, term }) if applied.is_none() => {
                applied = Some(KvState {
                    applied: index,
                    applied_term: term,
                    ..KvState::default()
                });
            }
            (Phase::Snapshot, Record::AppliedKeys { pairs }) if applied.is_some() => {
                applied.as_mut().expect("checked").map.extend(pairs);
            }
            (Phase::Snapshot, Record::SnapshotEnd { log_len, keys }) => {
                let found = (
                    entries.len() as u64,
                    applied.as_ref().map_or(0, |kv| kv.map.len() as u64),
                );
                if (log_len, keys) != found {
                    return Err(corrupt(
                        at,
                        format!(
                            "the snapshot ends with a log of {log_len} entries and {keys} applied keys; its records hold {} and {}",
                            found.0, found.1
                        ),
                    ));
                }
                if let Some(kv) = &applied {
                    let at_index = entries.get((kv.applied as usize).wrapping_sub(1));
                    if at_index.map(|e| e.0) != Some(kv.applied_term) {
                        return Err(corrupt(
                            at,
                            format!(
                                "the snapshot's map is applied up to ({}, {}), which its log does not hold",
                                kv.applied, kv.applied_term
                            ),
                        ));
                    }
                }
                phase = Phase::Log;
                base = end;
            }
            (_, other) => {
                return Err(corrupt(
                    at,
                    format!("{other:?} outside a snapshot's place for it"),
                ))
            }
        }
        if records == 0 && !snapshot {
            base = end;
        }
        records += 1;
        at = end;
    }
    if phase == Phase::Snapshot {
        return Err(corrupt(
            at,
            "the file ends inside its snapshot (it was synced before it replaced the file: not a torn write)".into(),
        ));
    }
    durable.log = message_raft::WideLog::from_entries(entries);
    Ok(Parsed {
        durable,
        applied,
        records,
        torn_bytes,
        end: at,
        base,
        snapshot,
    })
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
