//! The write-ahead file: what it keeps, what it drops, what it refuses.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use message_raft::node::{self, Rules};
use message_raft::repr::EntryLog;
use message_raft::{NodeState, Timer};
use raft_node::kv::{Command, KvState};
use raft_node::rng::Rng;
use raft_node::storage::{self, CrashPoint, Persisted, Record, StorageError, Wal};
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
    assert!(err.to_string().contains("with records after it"), "{err}");
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

// Compaction.

fn put(k: u64) -> Vec<u8> {
    Command::Put {
        key: format!("k{}", k % 7),
        value: format!("v{k}"),
    }
    .encode()
}

/// A node 1 of 3 whose file holds term and vote changes, config changes, 12 entries and
/// rollbacks: much that a snapshot drops. The variables written, one group commit per change.
fn write_history(d: &Path) -> (Wal, NodeState<NodeRepr>) {
    let (mut wal, rec) = Wal::open(d, 1, all()).unwrap();
    let mut persisted = Persisted::of(&rec.durable);
    let mut n: NodeState<NodeRepr> = NodeState::recovered(rec.durable);
    for k in 0..12u64 {
        n.term = k / 3 + 1;
        n.voted_for = (k % 3) as u8;
        wal.write(&persisted.records_for(&mut n)).unwrap();
        n.log.push(n.term, put(k));
        n.log.push(n.term, put(k + 100));
        wal.write(&persisted.records_for(&mut n)).unwrap();
        n.log.pop();
        n.config_version = k + 2;
        wal.write(&persisted.records_for(&mut n)).unwrap();
    }
    (wal, n)
}

fn applied_upto(n: &NodeState<NodeRepr>, upto: u64) -> KvState {
    let mut kv = KvState::default();
    kv.apply_committed(n.log.entries(), upto).unwrap();
    kv
}

fn same_applied(a: &KvState, b: &KvState) -> bool {
    (&a.map, a.applied, a.applied_term) == (&b.map, b.applied, b.applied_term)
}

#[test]
fn a_compacted_file_recovers_the_same_state_and_the_applied_map() {
    let d = dir("compact");
    let (mut wal, mut n) = write_history(&d);
    assert_eq!((wal.records, wal.bytes()), (61, 5_646));
    let kv = applied_upto(&n, 9);
    let done = wal.compact(&n, Some(&kv)).unwrap();
    assert_eq!(
        (done.records_before, done.records_after),
        (61, 18),
        "header, term and vote, config, 12 entries, the map's index and pairs, the end"
    );
    assert_eq!((done.bytes_before, done.bytes_after), (5_646, 2_351));
    assert_eq!(std::fs::metadata(d.join("wal")).unwrap().len(), 2_351);
    assert!(!d.join("wal.tmp").exists());
    let rec = storage::read(&d, 1, all()).unwrap();
    assert_eq!(rec.durable, n.durable());
    assert!(rec.from_snapshot);
    assert!(same_applied(rec.applied.as_ref().unwrap(), &kv));
    assert_eq!(rec.applied.as_ref().unwrap().map.len(), 7);

    // Appends go on after the snapshot; recovery is the snapshot and the records after it.
    let mut persisted = Persisted::of(&n.durable());
    n.log.pop();
    n.log.push(9, put(7));
    n.term = 9;
    wal.write(&persisted.records_for(&mut n)).unwrap();
    assert_eq!(wal.bytes_since_snapshot(), 242);
    drop(wal);
    let (_, rec) = Wal::open(&d, 1, all()).unwrap();
    assert_eq!(rec.durable, n.durable());
    assert_eq!(rec.records, 18 + 3);
    assert!(same_applied(rec.applied.as_ref().unwrap(), &kv));
}

#[test]
fn compaction_is_due_past_the_setting_and_the_snapshots_size() {
    let d = dir("due");
    let (mut wal, n) = write_history(&d);
    assert!(!wal.due(0), "0: never");
    assert!(wal.due(5_000));
    assert!(!wal.due(6_000));
    wal.compact(&n, None).unwrap();
    assert_eq!(wal.bytes(), 2_192);
    assert_eq!(wal.bytes_since_snapshot(), 0);
    assert!(!wal.due(1));
    let mut persisted = Persisted::of(&n.durable());
    let mut n = n;
    let mut k = 0;
    while !wal.due(100) {
        n.term += 1;
        wal.write(&persisted.records_for(&mut n)).unwrap();
        k += 1;
    }
    // Not after 100 bytes: only once as much as the snapshot was appended.
    assert_eq!((k, wal.bytes_since_snapshot()), (48, 2_203));
}

/// A file whose compaction stopped at `crash`: `wal` whole, `wal.tmp` as the crash left it.
fn crashed_compaction(name: &str, crash: CrashPoint) -> (TempDir, NodeState<NodeRepr>) {
    let d = dir(name);
    let (mut wal, n) = write_history(&d);
    let kv = applied_upto(&n, 4);
    assert_eq!(wal.compact_until(&n, Some(&kv), Some(crash)).unwrap(), None);
    assert_eq!(std::fs::metadata(d.join("wal")).unwrap().len(), 5_646);
    assert_eq!(std::fs::metadata(d.join("wal.tmp")).unwrap().len(), 2_315);
    (d, n)
}

#[test]
fn a_crash_before_the_snapshot_is_synced_recovers_from_the_old_file() {
    for cut in [0u64, 1, 9, 1_000, 2_314, 2_315] {
        let (d, n) = crashed_compaction(&format!("crash-sync-{cut}"), CrashPoint::BeforeSync);
        // Any prefix of the unsynced snapshot may be what reached the disk.
        let tmp = OpenOptions::new()
            .write(true)
            .open(d.join("wal.tmp"))
            .unwrap();
        tmp.set_len(cut).unwrap();
        drop(tmp);
        assert_eq!(storage::read(&d, 1, all()).unwrap().durable, n.durable());
        let (_, rec) = Wal::open(&d, 1, all()).unwrap();
        assert_eq!(rec.durable, n.durable(), "cut at {cut}");
        assert!(rec.removed_temp && !rec.from_snapshot && rec.applied.is_none());
        assert!(!d.join("wal.tmp").exists());
    }
}

#[test]
fn a_crash_before_the_rename_recovers_from_the_old_file_and_removes_the_new() {
    let (d, n) = crashed_compaction("crash-rename", CrashPoint::BeforeRename);
    let (mut wal, rec) = Wal::open(&d, 1, all()).unwrap();
    assert_eq!(rec.durable, n.durable());
    assert_eq!((rec.records, rec.removed_temp), (61, true));
    assert!(!d.join("wal.tmp").exists());
    // And the next compaction goes through.
    wal.compact(&n, None).unwrap();
    assert_eq!(storage::read(&d, 1, all()).unwrap().durable, n.durable());
}

#[test]
fn a_crash_after_the_rename_recovers_from_the_snapshot() {
    // After the rename the name points at the synced snapshot (or, if the directory's fsync
    // did not happen before a power loss, at the old file: the first test above).
    let (d, n) = crashed_compaction("crash-after", CrashPoint::BeforeRename);
    std::fs::rename(d.join("wal.tmp"), d.join("wal")).unwrap();
    let (_, rec) = Wal::open(&d, 1, all()).unwrap();
    assert_eq!(rec.durable, n.durable());
    assert!(rec.from_snapshot && !rec.removed_temp);
    assert!(same_applied(&rec.applied.unwrap(), &applied_upto(&n, 4)));
}

/// The offsets of a file's records.
fn record_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < bytes.len() {
        out.push(at);
        at += 8 + u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    }
    out
}

#[test]
fn a_torn_or_corrupt_snapshot_is_refused() {
    let (d, _) = crashed_compaction("torn-snapshot", CrashPoint::BeforeRename);
    let snapshot = std::fs::read(d.join("wal.tmp")).unwrap();
    let offsets = record_offsets(&snapshot);
    assert_eq!(offsets.len(), 18);
    let path = d.join("wal");
    // Cut short (at a record boundary, and inside a record), with nothing after: a torn tail
    // elsewhere, but a snapshot was synced before it got its name, so not here.
    for (cut, why) in [
        (offsets[9], "the file ends inside its snapshot"),
        (offsets[9] + 5, "the snapshot is cut short"),
        (offsets[17] + 12, "the snapshot is cut short"),
    ] {
        std::fs::write(&path, &snapshot[..cut]).unwrap();
        let err = Wal::open(&d, 1, all()).unwrap_err();
        assert!(
            matches!(&err, StorageError::Corrupt { why: w, .. } if w.starts_with(why)),
            "{err}"
        );
    }
    // A byte flipped in its middle, or in its last record (nothing after it).
    for at in [offsets[5] + 12, offsets[17] + 12] {
        let mut bad = snapshot.clone();
        bad[at] ^= 0x01;
        std::fs::write(&path, &bad).unwrap();
        let err = Wal::open(&d, 1, all()).unwrap_err();
        let offset = *offsets.iter().rev().find(|&&o| o <= at).unwrap() as u64;
        assert!(
            matches!(&err, StorageError::Corrupt { offset: o, why, .. } if *o == offset && why == "checksum mismatch inside the snapshot"),
            "{err}"
        );
        assert!(
            err.to_string().contains(&format!(
                "is corrupt at byte {offset} (checksum mismatch inside the snapshot)"
            )),
            "{err}"
        );
    }
    // The whole snapshot with a torn record after it: the torn record dropped, as anywhere.
    let mut torn = snapshot.clone();
    torn.extend_from_slice(&[100, 0, 0, 0, 1, 2, 3]);
    std::fs::write(&path, &torn).unwrap();
    let (_, rec) = Wal::open(&d, 1, all()).unwrap();
    assert_eq!((rec.torn_bytes, rec.records), (7, 18));
}

/// What a generated history does next.
fn random_change(rng: &mut Rng, n: &mut NodeState<NodeRepr>, k: u64) {
    match rng.between(0, 9) {
        0 => {
            n.term += 1;
            n.voted_for = rng.between(0, 3) as u8;
        }
        1 => n.voted_for = rng.between(0, 2) as u8,
        2 => {
            n.config = ServerSet(rng.between(1, 7) as u16);
            n.config_version += 1;
            n.config_term = n.term;
        }
        3 | 4 => {
            for _ in 0..rng.between(1, 3) {
                n.log.pop();
            }
        }
        _ => {
            for j in 0..rng.between(1, 4) {
                n.log.push(n.term, put(k * 10 + j));
            }
        }
    }
}

/// Generated histories of durable changes (terms, votes, configs, appends, rollbacks), each
/// written through `Persisted` with one group commit, with compactions (finished, or stopped at
/// a crash point), restarts and torn tails at seeded points: after every operation, what a
/// restart would recover is the node's durable state, and a snapshot's applied map is the one
/// it was given. 12 seeds of 60 operations by default (each operation an `fsync` or more);
/// more with `RAFT_NODE_WAL_SEEDS=400 cargo test --release -p raft-node --test suite
/// storage::generated` (the counts are pinned for the default only).
#[test]
fn generated_histories_recover_the_same_state_across_compactions_and_crashes() {
    let seeds: u64 = std::env::var("RAFT_NODE_WAL_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let mut counts = [0usize; 6];
    for seed in 0..seeds {
        let d = dir(&format!("gen-{seed}"));
        let mut rng = Rng::new(seed);
        let (mut wal, rec) = Wal::open(&d, 2, all()).unwrap();
        let mut persisted = Persisted::of(&rec.durable);
        let mut n: NodeState<NodeRepr> = NodeState::recovered(rec.durable);
        let mut applied: Option<KvState> = None;
        for k in 0..60u64 {
            random_change(&mut rng, &mut n, k);
            wal.write(&persisted.records_for(&mut n)).unwrap();
            counts[0] += 1;
            match rng.between(0, 19) {
                0..=2 => {
                    let upto = rng.between(0, n.log.entries().len() as u64);
                    let kv = applied_upto(&n, upto);
                    wal.compact(&n, Some(&kv)).unwrap();
                    applied = (upto > 0).then_some(kv);
                    counts[1] += 1;
                }
                3 => {
                    wal.compact(&n, None).unwrap();
                    applied = None;
                    counts[1] += 1;
                }
                4 | 5 => {
                    let crash = if rng.chance(500) {
                        CrashPoint::BeforeSync
                    } else {
                        CrashPoint::BeforeRename
                    };
                    let kv = applied_upto(&n, n.log.entries().len() as u64);
                    wal.compact_until(&n, Some(&kv), Some(crash)).unwrap();
                    if crash == CrashPoint::BeforeSync {
                        let len = std::fs::metadata(d.join("wal.tmp")).unwrap().len();
                        let tmp = OpenOptions::new()
                            .write(true)
                            .open(d.join("wal.tmp"))
                            .unwrap();
                        tmp.set_len(rng.between(0, len)).unwrap();
                    }
                    let (w, rec) = Wal::open(&d, 2, all()).unwrap();
                    assert_eq!(rec.durable, n.durable(), "seed {seed}, op {k}");
                    assert!(rec.removed_temp);
                    wal = w;
                    counts[2] += 1;
                }
                6 | 7 => {
                    if rng.chance(500) {
                        // A crash in the middle of the next write: a torn tail.
                        append_bytes(&d, &[200, 0, 0, 0, 9, 9]);
                        counts[3] += 1;
                    }
                    drop(wal);
                    let (w, rec) = Wal::open(&d, 2, all()).unwrap();
                    assert_eq!(rec.durable, n.durable(), "seed {seed}, op {k}");
                    wal = w;
                    counts[4] += 1;
                }
                _ => {}
            }
            let rec = storage::read(&d, 2, all()).unwrap();
            assert_eq!(rec.durable, n.durable(), "seed {seed}, op {k}");
            assert_eq!(rec.torn_bytes, 0);
            match (&rec.applied, &applied) {
                (None, None) => {}
                (Some(a), Some(b)) => assert!(same_applied(a, b), "seed {seed}, op {k}"),
                other => panic!("seed {seed}, op {k}: {other:?}"),
            }
            counts[5] += rec.records;
        }
    }
    // Operations, compactions, stopped compactions, torn tails, restarts, records read.
    if seeds == 12 {
        assert_eq!(counts, [720, 166, 56, 36, 75, 25_958]);
    }
    assert!(counts[1..5].iter().all(|&c| c > 0), "{counts:?}");
}

fn raw_record(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

#[test]
fn a_version_1_file_reads_and_a_newer_version_is_refused() {
    let d = dir("v1");
    std::fs::create_dir_all(&*d).unwrap();
    let mut bytes = raw_record(br#"{"Header":{"node":1,"version":1}}"#);
    bytes.extend(raw_record(br#"{"TermVote":{"term":3,"voted_for":0}}"#));
    bytes.extend(raw_record(
        br#"{"Append":{"index":1,"term":3,"payload":[119,49]}}"#,
    ));
    std::fs::write(d.join("wal"), &bytes).unwrap();
    let (_, rec) = Wal::open(&d, 1, all()).unwrap();
    assert_eq!((rec.durable.term, rec.durable.voted_for), (3, 0));
    assert_eq!(rec.durable.log.entries(), &[(3, b"w1".to_vec())]);
    assert!(!rec.from_snapshot);

    std::fs::write(
        d.join("wal"),
        raw_record(br#"{"Header":{"node":1,"version":3,"snapshot":false}}"#),
    )
    .unwrap();
    let err = Wal::open(&d, 1, all()).unwrap_err();
    assert!(
        err.to_string()
            .contains("(format version 3, newer than this program's 2)"),
        "{err}"
    );
}
