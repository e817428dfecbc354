//! The `refine` command line: its JSON interface, exit statuses and error messages.

use std::process::{Command, Output};

fn refine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_refine"))
        .args(args)
        .args(["--progress", "0"].iter().filter(|_| {
            !args.is_empty() && !["list", "simulate", "bench", "replay"].contains(&args[0])
        }))
        .output()
        .expect("refine runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn refines_prints_one_json_object_with_the_lower_counts() {
    let out = refine(&[
        "refines",
        "distlog",
        "log-abstract",
        "--servers",
        "3",
        "--values",
        "3",
        "--max-log-len",
        "3",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
    assert_eq!(v["generated"], 849_631);
    assert_eq!(v["distinct"], 64_000);
    assert_eq!(v["depth"], 10);
    assert!(v["seconds"].is_number());
    assert!(v["violation"].is_null());
}

#[test]
fn a_violation_exits_1_and_names_the_edge() {
    let out = refine(&[
        "refines",
        "distlog",
        "log-abstract",
        "--mutation",
        "remove-chosen",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["violation"]["property"], "distlog -> log-abstract");
    assert_eq!(v["violation"]["kind"], "refinement");
    assert_eq!(v["violation"]["trace_length"], 5);
}

#[test]
fn text_counterexample_and_itf_file() {
    let path = std::env::temp_dir().join(format!("refine-cli-{}.itf.json", std::process::id()));
    let out = refine(&[
        "refines",
        "distlog",
        "log-abstract",
        "--mutation",
        "first-server-chosen",
        "--trace-json",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("State 3: <RemoveEntry(n1)>  implements upper step: no upper step matches"),
        "{text}"
    );
    let itf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(itf["#meta"]["format"], "ITF");
    assert_eq!(itf["states"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_usage_exits_2_with_a_clear_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["check", "paxos"], "unknown layer paxos; the layers are: log-abstract, distlog"),
        (
            &["check", "distlog", "--max-term", "3"],
            "layer distlog has no bound --max-term; its bounds are: --servers --values --max-log-len",
        ),
        (&["check", "distlog", "--servers", "9"], "--servers 9 is out of range 1..=8"),
        (&["check", "log-abstract", "--symmetry"], "has no symmetry reduction"),
        (&["refines", "log-abstract", "distlog"], "there is no refinement edge log-abstract -> distlog"),
        (&["check", "distlog", "--mutation", "nope"], "unknown mutation nope for distlog"),
        (&["check", "distlog", "--threads", "0"], "--threads 0: a search takes 1 to 1024 threads"),
        // One state would have 34 billion successors: refused, not a machine out of memory.
        (
            &["check", "log-abstract", "--max-log-len", "32", "--values", "2", "--memory-limit", "2000"],
            "layer log-abstract: --max-log-len 32 is out of range 1..=19 (the chosen set is a 64-bit mask",
        ),
    ];
    for (args, message) in cases {
        let out = refine(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    let out = refine(&["check"]);
    assert_eq!(out.status.code(), Some(2), "clap usage errors exit 2");
}

#[test]
fn no_arguments_runs_the_chain_table() {
    let out = Command::new(env!("CARGO_BIN_EXE_refine")).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("distlog -> log-abstract"), "{text}");
    assert!(text.contains("check distlog"), "{text}");
    assert!(
        text.contains("Every layer's invariants and every refinement edge hold"),
        "{text}"
    );
    // The two rows that take most of the chain, at message-raft's defaults (one restart, one
    // duplicate, no symmetry): its invariants, and its edge to Log, on the same states.
    for row in ["check message-raft ", "message-raft -> log-abstract "] {
        let line = text.lines().find(|l| l.starts_with(row)).expect(row);
        let counts: Vec<&str> = line.split_whitespace().rev().skip(1).take(3).collect();
        assert_eq!(counts, ["50", "14,472,638", "199,895,881"], "{line}");
    }
}

#[test]
fn the_chain_reports_the_unsafe_weak_raft_as_an_expected_failure() {
    // Without message-raft's fault budgets, whose rows take most of the chain's time (the
    // table test above runs the chain at its defaults), and with symmetry, which cuts the
    // message-raft and async-reconfig rows by about 6 (12 s instead of 35 s on two idle cores;
    // the verdicts are the same).
    let out = refine(&[
        "chain",
        "--json",
        "--restarts",
        "0",
        "--duplicates",
        "0",
        "--symmetry",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        (&v["schema"], &v["command"], &v["verdict"]),
        (&"refine-json/1".into(), &"chain".into(), &"holds".into())
    );
    assert!(v["violation"].is_null());
    let expected = v["expected_failures"].as_array().unwrap();
    assert_eq!(expected.len(), 1);
    assert_eq!(expected[0]["target"], "check weak-raft");
    assert_eq!(expected[0]["violation"]["property"], "StateMachineSafety");
    assert_eq!(expected[0]["violation"]["trace_length"], 5);
    let rows = v["rows"].as_array().unwrap();
    assert!(rows
        .iter()
        .any(|r| r["target"] == "static-raft -> safe-weak-raft" && r["violation"].is_null()));
    assert!(rows
        .iter()
        .any(|r| r["target"] == "raft-reconfig -> logless-raft" && r["violation"].is_null()));
}

#[test]
fn simulate_is_reproducible_by_seed() {
    let args = [
        "simulate", "distlog", "--walks", "50", "--depth", "20", "--seed", "42", "--json",
    ];
    let a = stdout(&refine(&args));
    let b = stdout(&refine(&args));
    let (a, b): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(a.trim()).unwrap(),
        serde_json::from_str(b.trim()).unwrap(),
    );
    assert_eq!(a["steps"], b["steps"]);
    assert_eq!(a["generated"], b["generated"]);
    assert!(a["violation"].is_null());
}

#[test]
fn a_search_over_its_memory_limit_stops_with_exit_3_and_says_why() {
    let out = refine(&[
        "check",
        "static-raft",
        "--servers",
        "3",
        "--max-term",
        "5",
        "--max-log-len",
        "3",
        "--memory-limit",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("incomplete: stopped before running out of memory"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("The search did not finish"));
    assert!(stdout(&out)
        .contains("The search is incomplete: no error was found in the states it explored."));
    assert!(!stdout(&out).contains("Model checking completed"));
}

#[test]
fn an_incomplete_search_says_so_in_its_json() {
    let out = refine(&["check", "static-raft", "--stop-after-level", "3", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["verdict"], "incomplete");
    assert_eq!(v["stopped"], "stopped after level 3 (--stop-after-level)");
    let out = refine(&["check", "static-raft", "--json"]);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        (v["verdict"].as_str(), v["stopped"].is_null()),
        (Some("holds"), true)
    );
}

#[test]
fn a_trace_path_that_cannot_be_written_is_refused_before_the_search() {
    let dir = std::env::temp_dir();
    let out = refine(&["check", "weak-raft", "--trace-json", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot write there")
            && stderr(&out).contains("the search was not started"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn a_checkpointed_search_resumes_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("refine-cli-checkpoint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_arg = dir.to_str().unwrap();
    let model = [
        "check",
        "static-raft",
        "--servers",
        "3",
        "--max-term",
        "3",
        "--symmetry",
    ];
    let first = refine(
        &[
            &model[..],
            &["--checkpoint", dir_arg, "--stop-after-level", "4"],
        ]
        .concat(),
    );
    assert_eq!(first.status.code(), Some(3));
    assert!(
        stderr(&first).contains(&format!("continue it with --resume {dir_arg}")),
        "{}",
        stderr(&first)
    );
    let resumed = refine(&[&model[..], &["--resume", dir_arg, "--json"]].concat());
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let v: serde_json::Value = serde_json::from_str(stdout(&resumed).trim()).unwrap();
    assert_eq!(
        (
            v["generated"].clone(),
            v["distinct"].clone(),
            v["depth"].clone()
        ),
        (39_527.into(), 5_509.into(), 15.into())
    );
    let other = refine(&[
        "check",
        "static-raft",
        "--servers",
        "3",
        "--symmetry",
        "--resume",
        dir_arg,
    ]);
    assert_eq!(other.status.code(), Some(2));
    assert!(
        stderr(&other).contains("cannot resume"),
        "{}",
        stderr(&other)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--invariant` narrows the check to the named properties, as TLC's INVARIANT lines do: a
/// guard bug that breaks LeaderCompleteness in 6 states goes unnoticed by OnePrimaryPerTerm,
/// which then explores the mutant's whole state space; an unknown name is a usage error.
#[test]
fn invariant_selects_the_properties_checked() {
    let all = refine(&[
        "check",
        "static-raft",
        "--mutation",
        "vote-ignores-log",
        "--json",
    ]);
    assert_eq!(all.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(stdout(&all).trim()).unwrap();
    assert_eq!(v["violation"]["property"], "LeaderCompleteness");
    assert_eq!(v["violation"]["trace_length"], 6);

    let one = refine(&[
        "check",
        "static-raft",
        "--mutation",
        "vote-ignores-log",
        "--invariant",
        "OnePrimaryPerTerm",
        "--json",
    ]);
    assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
    let v: serde_json::Value = serde_json::from_str(stdout(&one).trim()).unwrap();
    assert!(v["violation"].is_null());
    assert_eq!(
        (&v["generated"], &v["distinct"], &v["depth"]),
        (&106_765.into(), &12_403.into(), &21.into())
    );

    let unknown = refine(&["check", "static-raft", "--invariant", "TypeOK"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains(
            "layer static-raft has no invariant or action property TypeOK; it has: \
             OnePrimaryPerTerm, LogMatching, LeaderCompleteness, StateMachineSafety, LeaderAppendOnly"
        ),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn bench_refuses_zero_repetitions() {
    let out = refine(&["bench", "--repeat", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--repeat must be at least 1"),
        "{}",
        stderr(&out)
    );
}

/// The quick benchmark runs static-raft's and MongoRaftReconfig's reference models once per
/// thread count: each row must carry the model's exact counts and, beside ours, TLC's rate from
/// REFERENCE.md (1 and 2 workers) and the ratio. Timings are printed, never asserted.
#[test]
fn quick_bench_prints_exact_counts_beside_tlc_rates() {
    let out = refine(&["bench", "--quick", "--repeat", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header.last(), Some(&"TLC"), "{}", lines[0]);
    assert!(lines[0].contains("TLC st/s"), "{}", lines[0]);
    // Per row: the model, threads, generated, distinct, and TLC's states per second.
    let expected = [
        (
            "static-raft 3 servers, MaxTerm 5, MaxLogLen 3",
            "1",
            "13,704,718",
            "1,762,360",
            "150,000",
        ),
        (
            "static-raft 3 servers, MaxTerm 5, MaxLogLen 3",
            "2",
            "13,704,718",
            "1,762,360",
            "250,000",
        ),
        (
            "raft-reconfig 3 servers, L2, T3, CV3, symmetry",
            "1",
            "18,230,009",
            "1,788,770",
            "66,000",
        ),
        (
            "raft-reconfig 3 servers, L2, T3, CV3, symmetry",
            "2",
            "18,230,009",
            "1,788,770",
            "120,000",
        ),
    ];
    assert_eq!(lines.len(), 1 + expected.len() + 3, "{text}");
    for (line, (model, threads, generated, distinct, tlc)) in lines[1..].iter().zip(expected) {
        let (name, figures) = line.split_at(62);
        assert_eq!(name.trim_end(), model, "{line}");
        let cells: Vec<&str> = figures.split_whitespace().collect();
        // threads generated distinct seconds best states/s speedup RSS "MiB" B/distinct TLC x
        assert_eq!(cells.len(), 12, "{line}");
        assert_eq!(&cells[..3], &[threads, generated, distinct], "{line}");
        assert_eq!(cells[10], tlc, "{line}");
        assert_eq!(
            cells[6] == "-",
            threads == "1",
            "a speedup only on 2 threads: {line}"
        );
        let ratio: f64 = cells[11].parse().expect("a ratio");
        let rate: f64 = cells[5]
            .replace(',', "")
            .parse()
            .expect("states per second");
        let tlc: f64 = tlc.replace(',', "").parse().unwrap();
        assert!((ratio - rate / tlc).abs() < 0.051, "{line}");
    }
    assert!(
        lines[5].starts_with("seconds: one run, each in a fresh process;"),
        "{text}"
    );
}

#[test]
fn a_specification_that_panics_ends_the_process_with_status_101_and_a_trace() {
    // The planted bug drops distlog's state constraint: one server's log grows until it no
    // longer fits the state encoding, and the successor function panics there. With one
    // thread and with two, the process ends (it used to hang, waiting for its monitor thread).
    for threads in ["1", "2"] {
        let out = refine(&[
            "check",
            "distlog",
            "--servers",
            "1",
            "--values",
            "1",
            "--mutation",
            "no-state-constraint",
            "--threads",
            threads,
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(101), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        assert_eq!(v["violation"]["kind"], "panic");
        assert_eq!(v["violation"]["trace_length"], 16);
        assert_eq!(
            v["violation"]["detail"],
            "the specification distlog panicked while computing the successors of this state: \
             \"sequence capacity 15 exceeded\" (panicked at spec-core/src/seq.rs:62:9)"
        );
        // The caught panic is reported once, in the report, not by Rust's panic hook.
        assert!(!stderr(&out).contains("panicked at"), "{}", stderr(&out));
    }
}

#[test]
fn thread_counts_past_the_limit_are_refused() {
    for threads in ["0", "50000"] {
        let out = refine(&["check", "log-abstract", "--threads", threads]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains(&format!(
                "error: --threads {threads}: a search takes 1 to 1024 threads"
            )),
            "{}",
            stderr(&out)
        );
    }
    let out = refine(&["check", "log-abstract", "--threads", "99999999999"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn an_action_never_enabled_is_reported() {
    // With one server, AppendEntry (copy from another server's log) can never be enabled.
    let out = refine(&["check", "distlog", "--servers", "1", "--values", "1"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).ends_with(
        "Warning: one action was never enabled in any reachable state, so no check covered it: \
         AppendEntry.\n"
    ));
    let out = refine(&[
        "check",
        "distlog",
        "--servers",
        "1",
        "--values",
        "1",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["never_enabled"], serde_json::json!(["AppendEntry"]));
    assert_eq!(v["vacuous"], false);
}

/// Every `--json` output opens with the same envelope (`schema`, `command`, `verdict`), an input
/// error included: then `verdict` is `error`, with the message, and the exit status 2.
#[test]
fn every_json_output_has_one_envelope() {
    let json = |args: &[&str]| -> (Option<i32>, serde_json::Value) {
        let out = refine(args);
        let v = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
        (out.status.code(), v)
    };
    let runs: [(&[&str], i32, &str, &str); 6] = [
        (&["check", "log-abstract", "--json"], 0, "check", "holds"),
        (
            &[
                "refines",
                "distlog",
                "log-abstract",
                "--mutation",
                "remove-chosen",
                "--json",
            ],
            1,
            "refines",
            "violation",
        ),
        (
            &["simulate", "distlog", "--walks", "3", "--json"],
            0,
            "simulate",
            "holds",
        ),
        (
            &[
                "check",
                "raft-reconfig",
                "--stop-after-level",
                "2",
                "--json",
            ],
            3,
            "check",
            "incomplete",
        ),
        (&["check", "no-such-layer", "--json"], 2, "check", "error"),
        (
            &["replay", "distlog", "/nonexistent/trace.json", "--json"],
            2,
            "replay",
            "error",
        ),
    ];
    for (args, code, command, verdict) in runs {
        let (status, v) = json(args);
        assert_eq!(status, Some(code), "{args:?}");
        assert_eq!(v["schema"], "refine-json/1", "{args:?}");
        assert_eq!(v["command"], command, "{args:?}");
        assert_eq!(v["verdict"], verdict, "{args:?}");
    }
    let (_, v) = json(&["check", "no-such-layer", "--json"]);
    assert!(v["error"]
        .as_str()
        .unwrap()
        .starts_with("unknown layer no-such-layer; the layers are: log-abstract, "));
}
