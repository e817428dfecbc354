//! Long runs that never lie: a checkpoint that is damaged, edited, swapped or made by another
//! search is refused with a message naming what is wrong (exit 2), never resumed into a false
//! pass; a directory that holds a checkpoint is not overwritten by accident; an interrupted
//! `refine` (SIGINT, SIGTERM) saves a checkpoint that resumes to the exact final counts, and
//! leaves no temporary file.
//!
//! Every case runs the `refine` command at small bounds (MongoStaticRaft, 3 servers, MaxTerm 3,
//! MaxLogLen 2, symmetry: 39,527 generated, 5,509 distinct, depth 15, checkpointed after level
//! 5), except the interrupt, which needs a search of a few seconds. Each process is killed if
//! it runs past a generous timeout.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const MODEL: &[&str] = &[
    "check",
    "static-raft",
    "--servers",
    "3",
    "--max-term",
    "3",
    "--max-log-len",
    "2",
    "--symmetry",
    "--threads",
    "1",
    "--progress",
    "0",
];
const TLC: (u64, u64, u64) = (39_527, 5_509, 15);

/// A process that runs past this is killed, and the test fails.
const TIMEOUT: Duration = Duration::from_secs(300);

fn command(args: &[&str], tmp: Option<&Path>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_refine"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(tmp) = tmp {
        command.env("TMPDIR", tmp);
    }
    command
}

/// Waits for `child`, killing it past [`TIMEOUT`].
fn finish(mut child: Child) -> Output {
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let reading = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        out.read_to_end(&mut bytes).map(|_| bytes)
    });
    let reading_err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        err.read_to_end(&mut bytes).map(|_| bytes)
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("refine runs") {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("refine ran past {TIMEOUT:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: reading.join().unwrap().unwrap(),
        stderr: reading_err.join().unwrap().unwrap(),
    }
}

fn refine(args: &[&str]) -> Output {
    finish(command(args, None).spawn().expect("refine starts"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn with(extra: &[&str]) -> Vec<String> {
    MODEL.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn run(args: &[String]) -> Output {
    refine(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A fresh directory for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("refine-faults-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn arg(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

/// Checkpoints the model after level 5 in `dir` (level 6 is next: `visited-6.bin`,
/// `frontier-6.bin`, `parents-1.bin` to `parents-6.bin`).
fn checkpoint(dir: &Path, extra: &[&str]) {
    let mut args = with(&["--checkpoint", &arg(dir), "--stop-after-level", "5"]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = run(&args);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

/// Resumes `dir` and expects the refusal `cannot resume from DIR: {why}`, exit 2.
fn refused(dir: &Path, extra: &[&str], why: &str) {
    let mut args = with(&["--resume", &arg(dir)]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = run(&args);
    assert_eq!(
        stderr(&out),
        format!("error: cannot resume from {}: {why}\n", dir.display())
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing is reported as a result");
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn counts(v: &serde_json::Value) -> (u64, u64, u64) {
    (
        v["generated"].as_u64().unwrap(),
        v["distinct"].as_u64().unwrap(),
        v["depth"].as_u64().unwrap(),
    )
}

/// Resumes `dir` to the end and expects the counts of an uninterrupted run.
fn resumes_to_the_end(dir: &Path) {
    let out = run(&with(&["--resume", &arg(dir), "--json"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(counts(&json(&out)), TLC);
}

/// The length a checkpoint records for `file`.
fn recorded_len(dir: &Path, file: &str) -> u64 {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("checkpoint.json")).unwrap())
            .unwrap();
    let records = std::iter::once(&meta["visited"])
        .chain(std::iter::once(&meta["frontier"]))
        .chain(meta["parents"].as_array().unwrap());
    records
        .into_iter()
        .find(|r| r["name"] == file)
        .and_then(|r| r["bytes"].as_u64())
        .unwrap_or_else(|| panic!("{file} is recorded"))
}

fn damaged(file: &str) -> String {
    format!("{file} does not match its checksum (the file is damaged or was replaced)")
}

fn too_short(dir: &Path, file: &str, len: u64) -> String {
    format!(
        "{file} is {len} bytes long, the checkpoint says {} (the file is damaged or was replaced)",
        recorded_len(dir, file)
    )
}

/// Overwrites 8 bytes in the middle of `path` with their complement.
fn flip_middle(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 8] {
        *b = !*b;
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_truncated_file_of_each_kind_is_refused() {
    for (file, len) in [
        ("frontier-6.bin", 0),
        ("visited-6.bin", 1000),
        ("parents-3.bin", 0),
        ("parents-6.bin", 32),
    ] {
        let dir = TempDir::new("truncated");
        checkpoint(&dir.0, &[]);
        let expected = too_short(&dir.0, file, len);
        std::fs::File::options()
            .write(true)
            .open(dir.join(file))
            .unwrap()
            .set_len(len)
            .unwrap();
        refused(&dir.0, &[], &expected);
    }
}

#[test]
fn flipped_bytes_in_the_middle_of_each_kind_of_file_are_refused() {
    for file in [
        "visited-6.bin",
        "frontier-6.bin",
        "parents-2.bin",
        "parents-6.bin",
    ] {
        let dir = TempDir::new("flipped");
        checkpoint(&dir.0, &[]);
        flip_middle(&dir.join(file));
        refused(&dir.0, &[], &damaged(file));
    }
}

#[test]
fn a_missing_or_swapped_or_foreign_file_is_refused() {
    let dir = TempDir::new("missing");
    checkpoint(&dir.0, &[]);
    std::fs::remove_file(dir.join("parents-2.bin")).unwrap();
    refused(
        &dir.0,
        &[],
        "parents-2.bin is missing (No such file or directory (os error 2))",
    );

    let dir = TempDir::new("swapped");
    checkpoint(&dir.0, &[]);
    let expected = too_short(
        &dir.0,
        "parents-4.bin",
        recorded_len(&dir.0, "parents-5.bin"),
    );
    std::fs::rename(dir.join("parents-4.bin"), dir.join("swap")).unwrap();
    std::fs::rename(dir.join("parents-5.bin"), dir.join("parents-4.bin")).unwrap();
    std::fs::rename(dir.join("swap"), dir.join("parents-5.bin")).unwrap();
    refused(&dir.0, &[], &expected);

    // The same file of another search at the same level: the same length, other contents.
    let dir = TempDir::new("foreign");
    let other = TempDir::new("foreign-other");
    checkpoint(&dir.0, &[]);
    checkpoint(&other.0, &["--mutation", "commit-older-term-entry"]);
    std::fs::copy(other.join("visited-6.bin"), dir.join("visited-6.bin")).unwrap();
    refused(&dir.0, &[], &damaged("visited-6.bin"));
}

#[test]
fn an_edited_or_damaged_checkpoint_json_is_refused() {
    let edited = "checkpoint.json does not match its checksum (it was edited or damaged)";
    for (from, to) in [
        ("\"depth\": 6", "\"depth\": 5"),
        ("\"distinct\": 420", "\"distinct\": 419"),
        ("\"generated\": 1182", "\"generated\": 2000"),
        ("\"frontier_states\": 258", "\"frontier_states\": 200"),
    ] {
        let dir = TempDir::new("edited");
        checkpoint(&dir.0, &[]);
        let path = dir.join("checkpoint.json");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{from} in {text}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
        refused(&dir.0, &[], edited);
    }
    let dir = TempDir::new("emptied-json");
    checkpoint(&dir.0, &[]);
    std::fs::write(dir.join("checkpoint.json"), "").unwrap();
    refused(
        &dir.0,
        &[],
        "checkpoint.json is damaged: EOF while parsing a value at line 1 column 0",
    );
    let dir = TempDir::new("old-format");
    checkpoint(&dir.0, &[]);
    let path = dir.join("checkpoint.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("refine-checkpoint-3", "refine-checkpoint-2"),
    )
    .unwrap();
    refused(
        &dir.0,
        &[],
        "it is in checkpoint format refine-checkpoint-2, written by an older refine; this refine \
         reads refine-checkpoint-3 only: start the search again",
    );
}

#[test]
fn a_checkpoint_is_resumed_only_by_the_search_that_made_it() {
    let dir = TempDir::new("identity");
    checkpoint(&dir.0, &[]);
    let d = arg(&dir.0);
    refused(
        &dir.0,
        &["--mutation", "commit-older-term-entry"],
        "this checkpoint was made by `check static-raft` with mutation none; this run is \
         `check static-raft` with mutation commit-older-term-entry",
    );
    refused(
        &dir.0,
        &["--invariant", "LogMatching"],
        "this checkpoint checked OnePrimaryPerTerm, LogMatching, LeaderCompleteness, \
         StateMachineSafety, LeaderAppendOnly; this run checks LogMatching",
    );
    refused(
        &dir.0,
        &["--deadlock"],
        "it was made without deadlock checking; this run is with (--deadlock)",
    );
    // Another command, other bounds, no symmetry: the model's flags differ, so spell them out.
    let out = refine(&[
        "refines",
        "static-raft",
        "safe-weak-raft",
        "--servers",
        "3",
        "--max-term",
        "3",
        "--max-log-len",
        "2",
        "--symmetry",
        "--progress",
        "0",
        "--resume",
        &d,
    ]);
    assert_eq!(
        stderr(&out),
        format!(
            "error: cannot resume from {d}: this checkpoint was made by `check static-raft` with \
             mutation none; this run is `refines static-raft safe-weak-raft` with mutation none\n"
        )
    );
    assert_eq!(out.status.code(), Some(2));
    let bounds = |max_term: &str, symmetry: bool| {
        let mut args = vec![
            "check",
            "static-raft",
            "--servers",
            "3",
            "--max-term",
            max_term,
            "--max-log-len",
            "2",
            "--progress",
            "0",
            "--resume",
            &d,
        ];
        if symmetry {
            args.push("--symmetry");
        }
        refine(&args)
    };
    let out = bounds("2", true);
    assert_eq!(
        stderr(&out),
        format!(
            "error: cannot resume from {d}: it is a checkpoint of static-raft (servers=3 \
             max-log-len=2 max-term=3), not of static-raft (servers=3 max-log-len=2 max-term=2)\n"
        )
    );
    assert_eq!(out.status.code(), Some(2));
    let out = bounds("3", false);
    assert_eq!(
        stderr(&out),
        format!(
            "error: cannot resume from {d}: it was made with symmetry reduction; this run is \
             without (--symmetry)\n"
        )
    );
    assert_eq!(out.status.code(), Some(2));
    // A `check` checkpoint of a layer is not one of an edge from it.
    let out = refine(&[
        "refines",
        "raft-reconfig",
        "logless-raft",
        "--servers",
        "3",
        "--progress",
        "0",
        "--resume",
        &d,
    ]);
    assert_eq!(
        stderr(&out),
        format!(
            "error: cannot resume from {d}: this checkpoint was made by `check static-raft` with \
             mutation none; this run is `refines raft-reconfig logless-raft` with mutation none\n"
        )
    );
    // None of the refusals touched it: it resumes to the exact counts.
    resumes_to_the_end(&dir.0);
}

#[test]
fn a_checkpoint_is_not_overwritten_without_force() {
    let dir = TempDir::new("overwrite");
    checkpoint(&dir.0, &[]);
    let d = arg(&dir.0);
    let out = run(&with(&["--checkpoint", &d]));
    assert_eq!(
        stderr(&out),
        format!(
            "error: --checkpoint {d}: it already holds a checkpoint of `check static-raft` with \
             mutation none at level 6; continue it with --resume {d}, or pass --force to replace \
             it\n"
        )
    );
    assert_eq!(out.status.code(), Some(2));
    // --resume A --checkpoint B is refused, and leaves A resumable.
    let other = TempDir::new("overwrite-other");
    let b = arg(&other.join("b"));
    let out = run(&with(&["--resume", &d, "--checkpoint", &b]));
    assert_eq!(
        stderr(&out),
        format!(
            "error: --resume {d} --checkpoint {b}: a resumed search keeps checkpointing where it \
             resumes from; leave out --checkpoint (to keep {d} as it is, copy it and resume the \
             copy)\n"
        )
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!other.join("b").exists());
    // --checkpoint D with --resume D is a resume.
    let out = run(&with(&[
        "--resume",
        &d,
        "--checkpoint",
        &d,
        "--stop-after-level",
        "8",
    ]));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // --force replaces it with a new search's.
    let out = run(&with(&[
        "--checkpoint",
        &d,
        "--force",
        "--stop-after-level",
        "3",
    ]));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let meta = std::fs::read_to_string(dir.join("checkpoint.json")).unwrap();
    assert!(meta.contains("\"depth\": 4"), "{meta}");
    resumes_to_the_end(&dir.0);
}

#[test]
fn resuming_a_missing_directory_or_one_without_a_checkpoint_is_refused() {
    let dir = TempDir::new("missing-dir");
    let nowhere = dir.join("nowhere");
    refused(&nowhere, &[], "no such directory");
    assert!(!nowhere.exists(), "--resume does not create the directory");
    refused(
        &dir.0,
        &[],
        "no checkpoint.json (No such file or directory (os error 2)); it is not a checkpoint \
         (--checkpoint DIR makes one)",
    );
}

/// The names of the files in `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_finished_run_leaves_only_its_last_checkpoint() {
    let dir = TempDir::new("tidy");
    let tmp = TempDir::new("tidy-tmp");
    let d = arg(&dir.0);
    // Everything spilled to disk: the queue and parent links go through files.
    let mut args = with(&[
        "--checkpoint",
        &d,
        "--stop-after-level",
        "5",
        "--queue-memory",
        "0",
    ]);
    let out = finish(
        command(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            Some(&tmp.0),
        )
        .spawn()
        .unwrap(),
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // Leftovers of a killed process, and a stale file of an older checkpoint.
    std::fs::write(dir.join("queue-1-0.tmp"), b"x").unwrap();
    std::fs::write(dir.join("frontier-3.bin"), b"x").unwrap();
    args = with(&["--resume", &d, "--queue-memory", "0", "--json"]);
    let out = finish(
        command(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            Some(&tmp.0),
        )
        .spawn()
        .unwrap(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(counts(&json(&out)), TLC);
    let mut expected: Vec<String> = ["checkpoint.json", "frontier-6.bin", "visited-6.bin"]
        .map(String::from)
        .to_vec();
    expected.extend((1..=6).map(|l| format!("parents-{l}.bin")));
    expected.sort();
    assert_eq!(files(&dir.0), expected);
    assert_eq!(files(&tmp.0), Vec::<String>::new());
}

/// The model the interrupt tests search: a few seconds on one thread (18,230,009 generated
/// states), then resumed.
const INTERRUPTED_MODEL: [&str; 15] = [
    "check",
    "raft-reconfig",
    "--servers",
    "3",
    "--max-log-len",
    "2",
    "--max-term",
    "3",
    "--max-config-version",
    "3",
    "--symmetry",
    "--progress",
    "0",
    "--json",
    "--threads",
];

/// Starts a search of [`INTERRUPTED_MODEL`] on one thread, sends it `signal` after about a
/// second, and returns its output.
fn interrupted(signal: &str, extra: &[&str], tmp: &Path) -> Output {
    let mut args = INTERRUPTED_MODEL.to_vec();
    args.extend(["1", "--queue-memory", "0"]);
    args.extend(extra);
    let child = command(&args, Some(tmp)).spawn().expect("refine starts");
    std::thread::sleep(Duration::from_secs(1));
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    finish(child)
}

const REFERENCE: (u64, u64, u64) = (18_230_009, 1_788_770, 27);

#[test]
fn an_interrupted_search_saves_a_checkpoint_that_resumes_to_the_exact_counts() {
    let dir = TempDir::new("sigint");
    let tmp = TempDir::new("sigint-tmp");
    let d = arg(&dir.join("ckpt"));
    let out = interrupted("-INT", &["--checkpoint", &d], &tmp.0);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["verdict"], "incomplete");
    let why = v["stopped"].as_str().unwrap();
    assert!(
        why.starts_with("interrupted after level ")
            && why.ends_with(&format!(" (checkpoint saved in {d})")),
        "{why}"
    );
    assert!(stderr(&out).contains(&format!("(continue it with --resume {d})")));
    assert_eq!(
        files(&tmp.0),
        Vec::<String>::new(),
        "no spill directory is left"
    );
    assert!(
        files(&dir.join("ckpt"))
            .iter()
            .all(|f| !f.ends_with(".tmp")),
        "{:?}",
        files(&dir.join("ckpt"))
    );
    let resumed = finish(
        command(
            &[&INTERRUPTED_MODEL[..], &["2", "--resume", &d]].concat(),
            Some(&tmp.0),
        )
        .spawn()
        .unwrap(),
    );
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert_eq!(counts(&json(&resumed)), REFERENCE);
    assert_eq!(files(&tmp.0), Vec::<String>::new());
}

#[test]
fn a_terminated_search_without_checkpoint_stops_and_removes_its_spill_directory() {
    let tmp = TempDir::new("sigterm-nockpt");
    let out = interrupted("-TERM", &[], &tmp.0);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["verdict"], "incomplete");
    let why = v["stopped"].as_str().unwrap();
    // Stopped at once, or at the end of the level the interrupt came in.
    assert!(
        why.starts_with("interrupted during level ")
            && why.ends_with("; the counts are those of an unfinished level")
            || why.starts_with("interrupted after level ") && !why.contains("checkpoint"),
        "{why}"
    );
    assert!(counts(&v).0 < REFERENCE.0);
    assert_eq!(
        files(&tmp.0),
        Vec::<String>::new(),
        "no spill directory is left"
    );
}

#[test]
fn a_chain_checkpoints_each_row_in_its_own_directory_and_resumes_them() {
    let dir = TempDir::new("chain");
    let d = arg(&dir.join("chain"));
    let bounds = [
        "chain",
        "--servers",
        "2",
        "--max-term",
        "2",
        "--max-log-len",
        "2",
        "--values",
        "2",
        "--max-config-version",
        "2",
        // jit-paxos's and message-raft's own bounds, small: at their defaults those rows take
        // most of the chain's time, and this test is about checkpoints.
        "--max-message-count",
        "8",
        "--restarts",
        "0",
        "--threads",
        "1",
        "--progress",
        "0",
        "--json",
    ];
    let rows = |out: &Output| -> Vec<(String, u64, u64, u64)> {
        json(out)["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let (g, d, l) = counts(r);
                (r["target"].as_str().unwrap().to_string(), g, d, l)
            })
            .collect()
    };
    let straight = refine(&bounds);
    let stopped = refine(
        &[
            &bounds[..],
            &["--checkpoint", &d, "--stop-after-level", "3"],
        ]
        .concat(),
    );
    assert_eq!(stopped.status.code(), Some(3), "{}", stderr(&stopped));
    let subdirs = files(&dir.join("chain"));
    assert_eq!(subdirs.len(), rows(&straight).len(), "{subdirs:?}");
    assert!(subdirs.contains(&"check-raft-reconfig".to_string()));
    assert!(subdirs.contains(&"refines-raft-reconfig-logless-raft".to_string()));
    let again = refine(&[&bounds[..], &["--checkpoint", &d]].concat());
    assert_eq!(
        stderr(&again),
        format!(
            "error: --checkpoint {d}: {d}/check-distlog already holds a checkpoint of `check \
             distlog` with mutation none at level 4; continue the chain with --resume {d}, or \
             pass --force to replace it\n"
        )
    );
    let resumed = refine(&[&bounds[..], &["--resume", &d]].concat());
    assert_eq!(
        resumed.status.code(),
        straight.status.code(),
        "{}",
        stderr(&resumed)
    );
    assert_eq!(rows(&resumed), rows(&straight));
    let single = TempDir::new("chain-single");
    checkpoint(&single.0, &[]);
    let out = refine(&[&bounds[..], &["--resume", &arg(&single.0)]].concat());
    assert_eq!(
        stderr(&out),
        format!(
            "error: cannot resume from {}: it holds a checkpoint of `check static-raft` with \
             mutation none at level 6, not a chain's checkpoints (one subdirectory per row); \
             resume it with refine check or refine refines\n",
            single.0.display()
        )
    );
    assert_eq!(out.status.code(), Some(2));
}

/// One search at a time in a directory: a lock naming a running process (this test's) refuses
/// a new checkpoint, a resume and a `--force`; a lock left by a process that has died is taken
/// over; a lock that names no process is refused; a run leaves no lock behind.
#[test]
fn a_directory_in_use_by_another_search_is_refused() {
    let dir = TempDir::new("lock");
    let d = arg(&dir.0);
    checkpoint(&dir.0, &[]);
    let lock = dir.join("lock");
    assert!(!lock.exists(), "a finished run releases its directory");
    std::fs::write(&lock, format!("{}\n", std::process::id())).unwrap();
    let in_use = format!(
        "error: {d} is in use by another search (process {}, as {} says); wait for it to end \
         or stop it\n",
        std::process::id(),
        lock.display()
    );
    for extra in [
        &["--resume", &d][..],
        &["--checkpoint", &d, "--force"],
        &["--checkpoint", &d],
    ] {
        let out = run(&with(extra));
        assert_eq!((stderr(&out), out.status.code()), (in_use.clone(), Some(2)));
        assert!(out.stdout.is_empty());
    }
    std::fs::write(&lock, "not a process\n").unwrap();
    let out = run(&with(&["--resume", &d]));
    assert_eq!(
        stderr(&out),
        format!(
            "error: {d} is locked by {}, which names no process; remove it if no search uses the \
             directory\n",
            lock.display()
        )
    );
    // A process that has ended: its lock is stale.
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    std::fs::write(&lock, format!("{dead}\n")).unwrap();
    resumes_to_the_end(&dir.0);
    assert!(!lock.exists());
}
