//! The deterministic simulation, validated against the spec: many seeds, each run replayed
//! through message-raft and mapped to log-abstract; a corrupted run is refused at its first
//! bad event.

use raft_node::record::{read_json_lines, to_json_lines, Event, Input};
use raft_node::sim::{simulate, SimOptions};
use raft_node::transport::Faults;
use raft_node::validate;

/// Seeds the default test runs (`RAFT_NODE_SEEDS=N` runs more).
fn seeds() -> u64 {
    std::env::var("RAFT_NODE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300)
}

#[test]
fn every_seed_validates() {
    let opts = SimOptions::default();
    let (mut steps, mut commits, mut writes, mut lost, mut duplicated) = (0, 0, 0, 0, 0);
    let (mut max_term, mut restarts, mut compact) = (0, 0, 0);
    for seed in 0..seeds() {
        let run = simulate(seed, &opts).unwrap();
        let v = validate(opts.servers, &run.events).unwrap_or_else(|e| {
            panic!(
                "seed {seed}: {e}\nreplay: cargo run -p raft-node -- simulate --seeds {seed}..{}",
                seed + 1
            )
        });
        steps += v.steps;
        commits += v.commits;
        writes += run.committed_writes.len();
        lost += run.network.lost;
        duplicated += run.network.duplicated;
        max_term = max_term.max(v.max_term);
        restarts += v.by_action.get("Restart").copied().unwrap_or(0);
        compact += v.compact_prefix;
        // Every write the client saw acknowledged is a commit the spec replayed.
        assert!(
            v.commits >= run.committed_writes.len().min(1),
            "seed {seed}"
        );
    }
    eprintln!(
        "{} seeds: {steps} steps, {commits} commits, {writes} acknowledged writes, {lost} lost, {duplicated} duplicated, {restarts} restarts, max term {max_term}; {compact} events also through MessageRaft's Spec::step at the model's representation",
        seeds()
    );
    // The runs do what the test is for: writes commit, faults and restarts happen.
    assert!(writes > 0 && commits > 0 && lost > 0 && duplicated > 0 && restarts > 0);
    assert!(compact > 0);
}

#[test]
fn one_seed_is_one_run() {
    let opts = SimOptions::default();
    let a = simulate(42, &opts).unwrap();
    let b = simulate(42, &opts).unwrap();
    assert_eq!(a.events, b.events);
    assert_eq!(a.committed_writes, b.committed_writes);
    let c = simulate(43, &opts).unwrap();
    assert_ne!(a.events, c.events);
}

#[test]
fn a_run_round_trips_through_json_lines() {
    let run = simulate(5, &SimOptions::default()).unwrap();
    let text = to_json_lines(&run.events);
    assert_eq!(read_json_lines(&text).unwrap(), run.events);
    validate(3, &read_json_lines(&text).unwrap()).unwrap();
}

/// A run with writes, for the corruption tests.
fn run_with_commits() -> Vec<Event> {
    (0..50)
        .map(|seed| {
            simulate(
                seed,
                &SimOptions {
                    faults: Faults::NONE,
                    partitions: false,
                    ..SimOptions::default()
                },
            )
            .unwrap()
        })
        .find(|run| !run.committed_writes.is_empty())
        .expect("some seed commits a write")
        .events
}

#[test]
fn a_corrupted_state_is_refused_at_its_step() {
    let mut events = run_with_commits();
    // Bump the term a node records at its 10th step.
    let k = events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, Event::Step { .. }))
        .nth(10)
        .unwrap()
        .0;
    let Event::Step { seq, state, .. } = &mut events[k] else {
        unreachable!()
    };
    let seq = *seq;
    state.term += 1;
    let err = validate(3, &events).unwrap_err();
    assert_eq!(err.seq, seq);
    assert_eq!(err.level, "message-raft");
    assert!(err.why.starts_with("the node's term is"), "{err}");
}

#[test]
fn a_delivery_of_a_message_never_sent_is_refused() {
    let mut events = run_with_commits();
    // Change what the first delivered vote says: no such message was sent.
    let (k, seq) = events
        .iter()
        .enumerate()
        .find_map(|(k, e)| match e {
            Event::Step {
                seq,
                input: Input::Message { message, .. },
                ..
            } if message.name() == "VoteGranted" => Some((k, *seq)),
            _ => None,
        })
        .unwrap();
    if let Event::Step {
        input: Input::Message { message, .. },
        ..
    } = &mut events[k]
    {
        *message = message_raft::Message::VoteGranted { term: 7 };
    }
    let err = validate(3, &events).unwrap_err();
    assert_eq!(err.seq, seq);
    assert!(err.why.contains("not in flight"), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("event {seq} (Deliver(")),
        "{err}"
    );
}

#[test]
fn a_write_recorded_with_another_payload_is_refused_at_the_write() {
    let mut events = run_with_commits();
    // The recorded input says one payload, the recorded log holds another.
    let (k, seq) = events
        .iter()
        .enumerate()
        .find_map(|(k, e)| match e {
            Event::Step {
                seq,
                input: Input::ClientWrite(_),
                ..
            } => Some((k, *seq)),
            _ => None,
        })
        .unwrap();
    let Event::Step { input, .. } = &mut events[k] else {
        unreachable!()
    };
    *input = Input::ClientWrite(b"another".to_vec());
    let err = validate(3, &events).unwrap_err();
    assert_eq!(err.seq, seq, "{err}");
    assert!(err.why.starts_with("the node's log is"), "{err}");
}

#[test]
fn a_node_running_a_planted_bug_is_caught_at_its_first_buggy_step() {
    let opts = SimOptions {
        mutation: Some(message_raft::Mutation::ReplySkipsPositionCheck),
        ..SimOptions::default()
    };
    let (seed, err) = (0..100)
        .find_map(|seed| {
            let run = simulate(seed, &opts).unwrap();
            validate(3, &run.events).err().map(|e| (seed, e))
        })
        .expect("some seed applies a late or duplicated reply");
    eprintln!("seed {seed}: {err}");
    assert_eq!(err.level, "message-raft");
    assert!(
        err.action.contains(": Entries(") || err.action.contains(": Rollback("),
        "{err}"
    );
    assert!(err.why.starts_with("the node's log is"), "{err}");
}

#[test]
fn a_bug_that_loses_a_committed_entry_is_caught_above_the_message_level() {
    // Nodes that vote without the log check, replayed against the spec with the same bug:
    // every step is then a message-level step, and the loss shows at log-abstract (two
    // entries chosen at one index) or in message-raft's invariants.
    let bug = message_raft::Mutation::VoteIgnoresLog;
    let opts = SimOptions {
        mutation: Some(bug),
        ..SimOptions::default()
    };
    let (seed, err) = (0..300)
        .find_map(|seed| {
            let run = simulate(seed, &opts).unwrap();
            raft_node::validate_with(3, &run.events, Some(bug))
                .err()
                .map(|e| (seed, e))
        })
        .expect("some seed elects a primary that lacks a committed entry");
    eprintln!("seed {seed}: {err}");
    assert!(
        err.level == "log-abstract" || err.why.contains("invariant"),
        "{err}"
    );
}

#[test]
fn a_run_recorded_per_node_merges_by_causality_and_validates() {
    for seed in 0..20 {
        let run = simulate(seed, &SimOptions::default()).unwrap();
        // As separate processes would record it: each node its own steps, the network its
        // faults; the parts handed over in reverse.
        let mut parts: Vec<Vec<Event>> = vec![Vec::new(); 4];
        for e in &run.events {
            let part = match e {
                Event::Step { node, .. } => *node as usize,
                _ => 3,
            };
            parts[part].push(e.clone());
        }
        parts.reverse();
        let merged = raft_node::merge_by_causality(parts);
        assert_eq!(merged.len(), run.events.len());
        validate(3, &merged).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}

/// Seeds of the linearizability test (`RAFT_NODE_LIN_SEEDS=N` runs more; the long version is
/// `raft-node simulate --seeds 0..N --kv --reads`).
fn lin_seeds() -> u64 {
    std::env::var("RAFT_NODE_LIN_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}

/// The simulated key-value service with a reader (`simulate --kv --reads`): the writer's puts
/// and deletes and the reader's reads through the log, on the simulated clock, make a history
/// that must be linearizable (`linearize::check`), in every run, besides validating. And the
/// check bites on these histories: a stale read added after a key's later write is refused.
#[test]
fn the_simulated_clients_history_is_linearizable() {
    use raft_node::linearize::{self, Call, Operation, Outcome};
    let opts = SimOptions {
        kv: true,
        reads: true,
        ..SimOptions::default()
    };
    let (mut ops, mut reads, mut values_read, mut unknown, mut explored) = (0, 0, 0, 0, 0);
    let mut stale: Option<Vec<Operation>> = None;
    for seed in 0..lin_seeds() {
        let run = simulate(seed, &opts).unwrap();
        let replay = format!("replay: raft-node simulate --seeds {seed} --kv --reads");
        validate(opts.servers, &run.events)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{replay}"));
        raft_node::sim::check_service(&run)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{replay}"));
        let found = linearize::check(&run.history)
            .unwrap_or_else(|e| panic!("seed {seed}: not linearizable: {e}\n{replay}"));
        ops += found.operations;
        unknown += found.unknown;
        explored += found.explored;
        reads += run
            .history
            .iter()
            .filter(|o| o.call == Call::Get && o.response.is_some())
            .count();
        values_read += run
            .history
            .iter()
            .filter(|o| matches!(&o.outcome, Outcome::Read(Some(_))))
            .count();
        // A key's first acknowledged put, overwritten by a later acknowledged write: read
        // again after the end, its value is stale.
        if stale.is_none() {
            let h = &run.history;
            let end = h
                .iter()
                .filter_map(|o| o.response.or(Some(o.invoke)))
                .max()
                .unwrap_or(0);
            stale = h.iter().enumerate().find_map(|(k, first)| {
                let (Call::Put(v), Outcome::Done) = (&first.call, &first.outcome) else {
                    return None;
                };
                h[k + 1..]
                    .iter()
                    .any(|o| o.key == first.key && o.outcome == Outcome::Done)
                    .then(|| {
                        let mut bad = h.clone();
                        bad.push(Operation {
                            client: 3,
                            key: first.key.clone(),
                            call: Call::Get,
                            invoke: end + 1,
                            response: Some(end + 2),
                            outcome: Outcome::Read(Some(v.clone())),
                        });
                        bad
                    })
            });
        }
    }
    eprintln!(
        "{} seeds with a reader: {ops} operations checked ({reads} reads answered, {values_read} of a value; {unknown} writes of unknown outcome), {explored} configurations explored",
        lin_seeds()
    );
    if lin_seeds() == 20 {
        assert_eq!(
            (ops, reads, values_read, unknown, explored),
            (433, 103, 41, 242, 557),
            "pinned: the simulation is deterministic per seed"
        );
    }
    let err = linearize::check(&stale.expect("a key written twice")).unwrap_err();
    assert!(err.why.starts_with("no linearization"), "{err}");
}

/// `raft-node simulate --kv --reads`: the reader's history checked per seed, its figures in
/// the summary line; `--reads` without `--kv` is refused (exit 2).
#[test]
fn the_simulate_command_checks_the_clients_history() {
    let exe = env!("CARGO_BIN_EXE_raft-node");
    let out = std::process::Command::new(exe)
        .args(["simulate", "--seeds", "0..3", "--kv", "--reads"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = stdout.rsplit_once(" (").map(|(s, _)| s).unwrap_or(&stdout);
    assert_eq!(
        summary,
        "3 seeds validated: 922 node steps, 15 commits, 10 acknowledged writes; client histories linearizable: 59 operations, 65 configurations explored",
        "{stdout}"
    );
    let refused = std::process::Command::new(exe)
        .args(["simulate", "--seeds", "0..1", "--reads"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--kv"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

/// `raft-node validate` on a record whose line was lost: refused (exit 1), naming the file
/// and the line whose delta no longer fits; the intact record validates.
#[test]
fn the_validate_command_refuses_a_record_with_a_missing_line() {
    let exe = env!("CARGO_BIN_EXE_raft-node");
    let dir = std::env::temp_dir().join(format!("raft-node-missing-line-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = std::process::Command::new(exe)
        .args(["simulate", "--seeds", "7..8", "--record"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let path = dir.join("seed-7.jsonl");
    let validate = |path: &std::path::Path| {
        std::process::Command::new(exe)
            .args(["validate", "--servers", "3"])
            .arg(path)
            .output()
            .unwrap()
    };
    assert!(validate(&path).status.success());
    // Drop node n1's 5th step: its next step's delta refers to it.
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let drop = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(r#""node":0,"#))
        .nth(4)
        .unwrap()
        .0;
    let mut damaged = lines.clone();
    damaged.remove(drop);
    let bad = dir.join("damaged.jsonl");
    std::fs::write(&bad, damaged.join("\n")).unwrap();
    let out = validate(&bad);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!("{}: line ", bad.display()))
            && stderr.contains("n1's log is a delta from its step of clock")
            && stderr.contains("(a line missing or out of place)"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
