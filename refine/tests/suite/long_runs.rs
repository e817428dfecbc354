//! What keeps a long run alive: the queue and parent links spilled to disk, checkpoints that a
//! later process resumes with the same final counts and counterexamples, and the memory limit
//! that stops a search with a message before the operating system kills it.
//!
//! The model is MongoStaticRaft at 3 servers, MaxTerm 3, MaxLogLen 2 with symmetry, whose TLC
//! counts (39,527 generated, 5,509 distinct, depth 15) `static_raft.rs` pins.

use refinement_tests::{explore, Invariants, Options, Outcome};
use static_raft::{Mutation, StaticRaft};
use std::path::PathBuf;

const TLC: (u64, u64, usize) = (39_527, 5_509, 15);

fn spec() -> StaticRaft {
    StaticRaft::new(3, 3, 2).unwrap()
}

fn run(spec: &StaticRaft, options: &Options) -> Outcome<StaticRaft> {
    explore(spec, &Invariants::of(spec), options).unwrap()
}

fn counts(out: &Outcome<StaticRaft>) -> (u64, u64, usize) {
    (out.stats.generated, out.stats.distinct, out.stats.depth)
}

/// A fresh directory for one test's checkpoints, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("refine-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_search_whose_queue_is_all_on_disk_has_the_same_counts_and_counterexample() {
    let on_disk = Options {
        queue_memory: 0,
        ..Options::quiet(2, true)
    };
    assert_eq!(counts(&run(&spec(), &on_disk)), TLC);
    let mutant = spec().with_mutation(Mutation::CommitOlderTermEntry);
    let in_memory = run(&mutant, &Options::quiet(2, true)).violation.unwrap();
    let spilled = run(&mutant, &on_disk).violation.unwrap();
    assert_eq!(spilled.actions(), in_memory.actions());
    assert_eq!(spilled.failure, in_memory.failure);
}

#[test]
fn a_search_stopped_twice_and_resumed_ends_with_tlcs_counts() {
    let dir = TempDir::new("resume");
    let first = run(
        &spec(),
        &Options {
            checkpoint: Some(dir.0.clone()),
            stop_after_level: Some(5),
            ..Options::quiet(1, true)
        },
    );
    let why = first.stats.stopped.expect("stopped after level 5");
    assert!(why.contains("after level 5"), "{why}");
    assert_eq!(first.stats.depth, 6, "level 6 is found, not explored");
    assert!(first.stats.queue_left > 0);
    assert!(first.stats.distinct < TLC.1);
    // A second process resumes, explores up to level 10, and checkpoints again.
    let second = run(
        &spec(),
        &Options {
            resume: Some(dir.0.clone()),
            stop_after_level: Some(10),
            ..Options::quiet(2, true)
        },
    );
    assert!(second.stats.stopped.is_some());
    assert_eq!(second.stats.depth, 11);
    let visited_files = std::fs::read_dir(&dir.0)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("visited-")
        })
        .count();
    assert_eq!(visited_files, 1, "an older checkpoint's files are removed");
    // A third finishes, with the counts of a run that never stopped.
    let last = run(
        &spec(),
        &Options {
            resume: Some(dir.0.clone()),
            ..Options::quiet(2, true)
        },
    );
    assert_eq!(last.stats.stopped, None);
    assert_eq!(counts(&last), TLC);
    assert_eq!(last.stats.queue_left, 0);
    let uninterrupted = run(&spec(), &Options::quiet(1, true));
    // Per-action successor counts agree too (which action found a state first depends on the
    // order threads get there, so the per-action distinct counts may differ, as in TLC).
    let generated = |out: &Outcome<StaticRaft>| -> Vec<u64> {
        out.stats.coverage.iter().map(|c| c.generated).collect()
    };
    assert_eq!(generated(&last), generated(&uninterrupted));
}

#[test]
fn a_resumed_search_finds_the_same_shortest_counterexample() {
    let dir = TempDir::new("resume-violation");
    let mutant = spec().with_mutation(Mutation::CommitOlderTermEntry);
    let straight = run(&mutant, &Options::quiet(2, true)).violation.unwrap();
    let stopped = run(
        &mutant,
        &Options {
            checkpoint: Some(dir.0.clone()),
            stop_after_level: Some(3),
            queue_memory: 0,
            ..Options::quiet(2, true)
        },
    );
    assert!(stopped.violation.is_none() && stopped.stats.stopped.is_some());
    let resumed = run(
        &mutant,
        &Options {
            resume: Some(dir.0.clone()),
            ..Options::quiet(1, true)
        },
    )
    .violation
    .expect("the resumed search finds the violation");
    assert!(straight.steps.len() > 4, "the trace crosses the checkpoint");
    assert_eq!(resumed.actions(), straight.actions());
    assert_eq!(resumed.failure, straight.failure);
}

#[test]
fn a_checkpoint_of_other_bounds_or_symmetry_is_refused() {
    let dir = TempDir::new("refuse");
    run(
        &spec(),
        &Options {
            checkpoint: Some(dir.0.clone()),
            stop_after_level: Some(2),
            ..Options::quiet(1, true)
        },
    );
    let other_bounds = StaticRaft::new(3, 2, 2).unwrap();
    let resume = Options {
        resume: Some(dir.0.clone()),
        ..Options::quiet(1, true)
    };
    let err = explore(&other_bounds, &Invariants::of(&other_bounds), &resume).expect_err("refused");
    assert!(err.0.contains("not of static-raft"), "{err}");
    let no_symmetry = Options {
        symmetry: false,
        ..resume
    };
    let err = explore(&spec(), &Invariants::of(&spec()), &no_symmetry).expect_err("refused");
    assert!(err.0.contains("made with symmetry"), "{err}");
    let missing = Options {
        resume: Some(dir.0.join("nowhere")),
        ..Options::quiet(1, true)
    };
    let err = explore(&spec(), &Invariants::of(&spec()), &missing).expect_err("refused");
    assert!(err.0.ends_with(": no such directory"), "{err}");
    assert!(
        !dir.0.join("nowhere").exists(),
        "--resume does not create it"
    );
}

#[test]
fn an_interrupt_saves_a_checkpoint_at_the_end_of_the_level_and_stops() {
    let dir = TempDir::new("interrupt");
    let interrupt = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(1));
    let first = run(
        &spec(),
        &Options {
            checkpoint: Some(dir.0.clone()),
            interrupt: Some(interrupt),
            ..Options::quiet(2, true)
        },
    );
    assert_eq!(
        first.stats.stopped,
        Some(format!(
            "interrupted after level 1 (checkpoint saved in {})",
            dir.0.display()
        ))
    );
    let last = run(
        &spec(),
        &Options {
            resume: Some(dir.0.clone()),
            ..Options::quiet(2, true)
        },
    );
    assert_eq!(counts(&last), TLC);
    // Without a checkpoint, an interrupt stops the search within its level.
    let interrupt = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(1));
    let stopped = run(
        &spec(),
        &Options {
            interrupt: Some(interrupt),
            ..Options::quiet(1, true)
        },
    );
    let why = stopped.stats.stopped.expect("interrupted");
    assert!(why.starts_with("interrupted "), "{why}");
}

#[test]
fn the_memory_limit_stops_the_search_with_a_message() {
    // A model of 13.7 million generated states: several seconds, far longer than the guard's
    // first look at resident memory.
    let big = StaticRaft::new(3, 5, 3).unwrap();
    let out = run(
        &big,
        &Options {
            memory_limit: Some(1 << 20),
            ..Options::quiet(2, false)
        },
    );
    let why = out.stats.stopped.expect("stopped by the memory limit");
    assert!(why.contains("before running out of memory"), "{why}");
    assert!(out.stats.distinct < 1_762_360);
    assert!(out.violation.is_none());
}
