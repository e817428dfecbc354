//! The write-ahead file: what it keeps, what it drops, what it refuses.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use message_raft::node::{self, Rules};
use message_raft::{NodeState, Timer};
use raft_node::storage::{Persisted, Record, StorageError, Wal};
use raft_node::NodeRepr;
use spec_core::ServerSet;

/// A fresh directory, removed when dropped.
struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str) -> TempDir {
    let d = std::env::temp_dir().join(format!("raft-node-storage-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    TempDir(d)
}

fn all() -> ServerSet {
    ServerSet::all(3)
}

/// A node 0 that stood for election, won alone (a one-node config), and wrote two entries;
/// its variables written through `Persisted`, one group commit per input.
fn write_some(d: &Path) -> NodeState<NodeRepr> {
    let (mut wal, rec) = Wal::open(d, 0, ServerSet::single(0)).unwrap();
    let mut persisted = Persisted::of(&rec.durable);
    let mut n: NodeState<NodeRepr> = NodeState::recovered(rec.durable);
    let rules = Rules {
        me: 0,
        servers: 1,
        mutation: None,
    };
    let out = node::on_timer(&mut n, &rules, Timer::Election);
    assert!(out.persist.term_and_vote);
    wal.write(&persisted.records_for(&mut n)).unwrap();
    for w in [b"a".to_vec(), b"b".to_vec()] {
        node::on_client_write(&mut n, &rules, w);
        wal.write(&persisted.records_for(&mut n)).unwrap();
    }
    assert_eq!(wal.syncs, 4, "the header, then one fsync per input");
    n
}

#[test]
fn recovery_gives_back_every_durable_variable() {
    let d = dir("recover");
    let n = write_some(&d);
    let (_, rec) = Wal::open(&d, 0, ServerSet::single(0)).unwrap();
    assert_eq!(rec.durable, n.durable());
    assert_eq!(rec.torn_bytes, 0);
    assert_eq!(rec.durable.log.entries().len(), 2);
}

#[test]
fn a_truncated_log_is_recovered_truncated() {
    let d = dir("truncate");
    let (mut wal, rec) = Wal::open(&d, 1, all()).unwrap();
    let mut persisted = Persisted::of(&rec.durable);
    let mut n: NodeState<NodeRepr> = NodeState::recovered(rec.durable);
    use message_raft::repr::EntryLog;
    n.log.push(1, b"x".to_vec());
    n.log.push(1, b"y".to_vec());
    wal.write(&persisted.records_for(&mut n)).unwrap();
    n.log.pop();
    n.log.push(2, b"z".to_vec());
    let records = persisted.records_for(&mut n);
    assert!(
        matches!(records[0], Record::Truncate { len: 1 }),
        "{records:?}"
    );
    wal.write(&records).unwrap();
    let (_, rec) = Wal::open(&d, 1, all()).unwrap();
    assert_eq!(
        rec.durable.log.entries(),
        &[(1, b"x".to_vec()), (2, b"z".to_vec())]
    );
}

fn append_bytes(d: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new().append(true).open(d.join("wal")).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn a_torn_last_record_is_dropped() {
    let d = dir("torn");
    let n = write_some(&d);
    let len = std::fs::metadata(d.join("wal")).unwrap().len();
    // A record whose length says 100 bytes, of which 3 reached the disk.
    append_bytes(&d, &[100, 0, 0, 0, 1, 2, 3, 4, b'{', b'"', b'T']);
    let (mut wal, rec) = Wal::open(&d, 0, ServerSet::single(0)).unwrap();
    assert_eq!(rec.torn_bytes, 11);
    assert_eq!(rec.durable, n.durable());
    assert_eq!(std::fs::metadata(d.join("wal")).unwrap().len(), len);
    // The file goes on after the cut.
    wal.write(&[Record::TermVote {
        term: 9,
        voted_for: 0,
    }])
    .unwrap();
    let (_, rec) = Wal::open(&d, 0, ServerSet::single(0)).unwrap();
    assert_eq!(rec.durable.term, 9);
}

#[test]
fn a_last_record_with_a_bad_checksum_is_torn_too() {
    let d = dir("torn-crc");
    let n = write_some(&d);
    let body = br#"{"TermVote":{"term":5,"voted_for":1}}"#;
    let mut bytes = (body.len() as u32).to_le_bytes().to_vec();
    bytes.extend_from_slice(&0xdead_beefu32.to_le_bytes());
    bytes.extend_from_slice(body);
    append_bytes(&d, &bytes);
    let (_, rec) = Wal::open(&d, 0, ServerSet::single(0)).unwrap();
    assert_eq!(rec.torn_bytes, bytes.len() as u64);
    assert_eq!(rec.durable, n.durable());
}

#[test]
fn a_bad_checksum_in_the_middle_is_refused() {
    let d = dir("corrupt");
    write_some(&d);
    let path = d.join("wal");
    let mut bytes = std::fs::read(&path).unwrap();
    // Flip a byte inside the second record's body (the first record is the header).
    let first = 8 + u32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize;
    bytes[first + 10] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let err = Wal::open(&d, 0, ServerSet::single(0)).unwrap_err();
    assert!(
        matches!(err, StorageError::Corrupt { offset, .. } if offset == first as u64),
        "{err}"
    );
    assert!(err.to_string().contains("corrupt at byte"), "{err}");
}

#[test]
fn a_directory_of_another_node_is_refused() {
    let d = dir("other");
    write_some(&d);
    let err = Wal::open(&d, 2, all()).unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::WrongNode {
                found: 0,
                expected: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("belongs to node 0, not to node 2"));
}
