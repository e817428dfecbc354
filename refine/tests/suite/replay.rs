//! `refine replay`: traces read back and checked step by step. Counterexamples written by the
//! checker replay under their mutation (and break the invariant they were found for) and are
//! rejected by the spec at the step the mutation made possible; a hand-written trace in
//! Apalache's form replays; a trace of every layer replays; damaged input is an input error
//! with a message that says what is wrong.

use refine::layers::{check_layer, replay_file, replay_layer, RunError, REGISTRY};
use refinement_tests::replay::{Replay, ReplayVerdict};
use refinement_tests::Options;
use serde_json::{json, Value};
use spec_core::{Layer, Params, Spec};
use std::path::PathBuf;
use std::process::Command;

fn options() -> Options {
    Options {
        threads: 1,
        ..Options::default()
    }
}

/// The ITF trace of the counterexample `refine check LAYER --mutation M` finds.
fn counterexample(layer: &str, mutation: &str) -> Value {
    violation(layer, mutation).0
}

/// The counterexample `refine check LAYER --mutation M` finds: its ITF trace, the property it
/// breaks (`invariant NAME` or `action property NAME`) and its number of states.
fn violation(layer: &str, mutation: &str) -> (Value, String, usize) {
    let report = check_layer(layer, &Params::default(), Some(mutation), &[], &options()).unwrap();
    let v = report.violation.expect("the mutation breaks a property");
    let kind = match v.kind {
        refinement_tests::FailureKind::Invariant => "invariant",
        refinement_tests::FailureKind::ActionProperty => "action property",
        other => panic!("{other:?}"),
    };
    (v.itf, format!("{kind} {}", v.property), v.trace_length)
}

fn replay(layer: &str, mutation: Option<&str>, trace: &Value) -> Replay {
    replay_layer(layer, &Params::default(), mutation, trace).unwrap()
}

fn hand_written() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/traces/static_raft_apalache.itf.json")
}

fn actions(r: &Replay) -> Vec<String> {
    r.replayed.iter().map(|s| s.actions.join(" or ")).collect()
}

#[test]
fn a_counterexample_replays_under_its_mutation_and_the_spec_rejects_its_last_step() {
    let trace = counterexample("static-raft", "vote-ignores-log");
    let mutant = replay("static-raft", Some("vote-ignores-log"), &trace);
    assert_eq!(
        mutant.verdict,
        ReplayVerdict::Violation {
            state: 6,
            property: "invariant LeaderCompleteness".into()
        }
    );
    assert_eq!(
        actions(&mutant),
        [
            "",
            "BecomeLeader(n3, {n1, n2, n3})",
            "ClientRequest(n3)",
            "GetEntries(n2, n3)",
            "CommitEntry(n3, {n2, n3})",
            "BecomeLeader(n1, {n1, n3})"
        ]
    );
    let spec = replay("static-raft", None, &trace);
    assert_eq!(spec.replayed.len(), 5, "states 1 to 5 are the spec's");
    // The conjunct the mutation drops: n3, which holds the committed entry, does not vote for
    // n1, whose log is behind.
    assert_eq!(
        spec.verdict,
        ReplayVerdict::NotABehavior {
            state: 6,
            why: "the trace names BecomeLeader(n1, {n1, n3}), which is not enabled in state 5: \
                  false in its guard: CanVoteForOplog(n3, n1, 2): logOk"
                .into()
        }
    );
    assert!(spec
        .text()
        .contains("Error: step 5 (state 5 to state 6) is not a step of static-raft"));
}

#[test]
fn a_layer_that_names_its_guards_explains_the_rejected_step_with_them() {
    let mutation = "reconfig-skips-quorums-overlap";
    let trace = counterexample("logless-raft", mutation);
    let mutant = replay("logless-raft", Some(mutation), &trace);
    assert_eq!(
        mutant.verdict,
        ReplayVerdict::Violation {
            state: 5,
            property: "invariant OnePrimaryPerTerm".into()
        }
    );
    let spec = replay("logless-raft", None, &trace);
    assert_eq!(
        spec.verdict,
        ReplayVerdict::NotABehavior {
            state: 3,
            why: "the trace names Reconfig(n1, {n1, n2, n3}), which is not enabled in state 2: \
                  false in its guard: QuorumsOverlap(config[n1], {n1, n2, n3})"
                .into()
        }
    );
}

/// Under its mutation, the counterexample breaks what the check said, in its last state; the
/// spec rejects one of its steps (the one the mutation made possible, at or before the last).
#[test]
fn counterexamples_of_every_mutated_layer_replay_and_the_spec_rejects_them() {
    let cases = [
        ("raft-reconfig", "reconfig-skips-oplog-commitment", 8),
        ("raft-reconfig", "reconfig-skips-term-quorum-check", 5),
        ("static-raft", "get-entries-skips-log-check", 8),
        ("static-raft", "primary-rolls-back", 6),
        ("static-raft", "commit-ignores-quorum-term", 6),
        // A secondary's reconfig, the first step: the mutant's from the start.
        ("logless-raft", "reconfig-skips-primary-check", 2),
    ];
    let mut rejected = Vec::new();
    for (layer, mutation, _) in cases {
        let (trace, property, length) = violation(layer, mutation);
        let mutant = replay(layer, Some(mutation), &trace);
        assert_eq!(
            mutant.verdict,
            ReplayVerdict::Violation {
                state: length,
                property
            },
            "{layer} {mutation}"
        );
        assert_eq!(mutant.replayed.len(), length, "every step is the mutant's");
        let spec = replay(layer, None, &trace);
        let ReplayVerdict::NotABehavior { state, .. } = spec.verdict else {
            panic!("{layer} {mutation}: {:?}", spec.verdict)
        };
        rejected.push((layer, mutation, state));
    }
    assert_eq!(rejected, cases);
}

#[test]
fn a_hand_written_apalache_trace_of_static_raft_replays() {
    let r = replay_file("static-raft", &Params::default(), None, &hand_written()).unwrap();
    assert_eq!(r.verdict, ReplayVerdict::Behavior);
    assert_eq!(
        actions(&r),
        [
            "",
            "BecomeLeader(n1, {n1, n2})",
            "ClientRequest(n1)",
            "GetEntries(n2, n1)",
            "CommitEntry(n1, {n1, n2})",
            "UpdateTerms(n1, n3) or UpdateTerms(n2, n3)"
        ]
    );
    // The same trace with n2 pulling an entry of term 2 that no log holds: step 3 is not a
    // step of static-raft, and the explanation names the variable.
    let mut trace: Value =
        serde_json::from_str(&std::fs::read_to_string(hand_written()).unwrap()).unwrap();
    trace["states"][3]["log"]["#map"][1][1] = json!([{"#bigint": "2"}]);
    let r = replay("static-raft", None, &trace);
    assert_eq!(
        r.verdict,
        ReplayVerdict::NotABehavior {
            state: 4,
            why: "no action of static-raft leads from state 3 to state 4, which changes:\n    \
                  log = [n1 |-> <<1>>, n2 |-> <<>>, n3 |-> <<>>]  ->  [n1 |-> <<1>>, n2 |-> <<2>>, n3 |-> <<>>]\n  \
                  the nearest step, ClientRequest(n1), leads to a state that differs from state 4 in:\n    \
                  the trace's state 4 has log = [n1 |-> <<1>>, n2 |-> <<2>>, n3 |-> <<>>]\n    \
                  ClientRequest(n1) leads to log = [n1 |-> <<1, 1>>, n2 |-> <<>>, n3 |-> <<>>]"
                .into()
        }
    );
    // A first state that is not initial.
    let mut late = trace.clone();
    late["states"] = json!([trace["states"][1]]);
    let r = replay("static-raft", None, &late);
    assert_eq!(
        r.verdict,
        ReplayVerdict::NotABehavior {
            state: 1,
            why: "the nearest initial state differs in:\n    \
                  the trace's state 1 has currentTerm = [n1 |-> 1, n2 |-> 1, n3 |-> 0]\n    \
                  the initial state has currentTerm = [n1 |-> 0, n2 |-> 0, n3 |-> 0]\n    \
                  the trace's state 1 has state = [n1 |-> Primary, n2 |-> Secondary, n3 |-> Secondary]\n    \
                  the initial state has state = [n1 |-> Secondary, n2 |-> Secondary, n3 |-> Secondary]"
                .into()
        }
    );
    // Quint's model-based-testing variables are not the spec's, and are ignored.
    let mut quint: Value =
        serde_json::from_str(&std::fs::read_to_string(hand_written()).unwrap()).unwrap();
    quint["vars"]
        .as_array_mut()
        .unwrap()
        .push(json!("mbt::actionTaken"));
    for state in quint["states"].as_array_mut().unwrap() {
        state["mbt::actionTaken"] = json!("step");
    }
    assert_eq!(
        replay("static-raft", None, &quint).verdict,
        ReplayVerdict::Behavior
    );
    // A stutter is a step of every spec (`[Next]_vars`).
    let mut stutter = trace.clone();
    stutter["states"] = json!([trace["states"][0], trace["states"][0]]);
    let r = replay("static-raft", None, &stutter);
    assert_eq!(r.verdict, ReplayVerdict::Behavior);
    assert!(r.replayed[1].stutter);
}

#[test]
fn a_hand_written_trace_of_raft_reconfig_with_tlc_values_replays() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/traces/raft_reconfig_tlc_values.itf.json");
    let r = replay_file("raft-reconfig", &Params::default(), None, &path).unwrap();
    assert_eq!(r.verdict, ReplayVerdict::Behavior);
    assert_eq!(
        actions(&r),
        [
            "",
            "BecomeLeader(n1, {n1, n2})",
            "ClientRequest(n1)",
            "GetEntries(n2, n1)",
            "CommitEntry(n1, {n1, n2})",
            "SendConfig(n1, n2)",
            "Reconfig(n1, {n1, n2})"
        ]
    );
    // Without SendConfig, n2 does not hold n1's config (term 1): ConfigQuorumCheck fails, and
    // the reconfig is not a step.
    let mut trace: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let states = trace["states"].as_array_mut().unwrap();
    states.remove(5);
    states[5]["configTerm"]["#map"][1][1] = json!(0);
    let r = replay("raft-reconfig", None, &trace);
    assert_eq!(r.replayed.len(), 5);
    let ReplayVerdict::NotABehavior { state: 6, why } = &r.verdict else {
        panic!("{}", r.text())
    };
    assert_eq!(
        why.lines().take(3).collect::<Vec<_>>(),
        [
            "no action of raft-reconfig leads from state 5 to state 6, which changes:",
            "    config = [n1 |-> {n1, n2, n3}, n2 |-> {n1, n2, n3}, n3 |-> {n1, n2, n3}]  ->  \
             [n1 |-> {n1, n2}, n2 |-> {n1, n2, n3}, n3 |-> {n1, n2, n3}]",
            "    configVersion = [n1 |-> 1, n2 |-> 1, n3 |-> 1]  ->  [n1 |-> 2, n2 |-> 1, n3 |-> 1]",
        ]
    );
}

/// A trace of at most `steps` steps through `spec`, each to the last successor inside the state
/// constraint that is not a state already visited, in the form `--trace-json` writes (with
/// the action in each state's `#meta`).
fn walk<M: Spec>(spec: &M, steps: usize) -> Value {
    let mut state = spec.init_states().pop().unwrap();
    let mut visited = vec![state.clone()];
    let mut states = vec![json!({"#meta": {"index": 0, "action": "Init"}})];
    let mut values = vec![serde_json::to_value(&state).unwrap()];
    for k in 1..=steps {
        let mut next = Vec::new();
        spec.next_states(&state, &mut next);
        let fresh = next
            .into_iter()
            .rev()
            .find(|(_, t)| spec.within_constraint(t) && !visited.contains(t));
        let Some((action, after)) = fresh else {
            break;
        };
        visited.push(after.clone());
        states.push(json!({"#meta": {"index": k, "action": action.to_string()}}));
        values.push(serde_json::to_value(&after).unwrap());
        state = after;
    }
    for (s, v) in states.iter_mut().zip(values) {
        for (name, value) in v.as_object().unwrap() {
            s[name] = value.clone();
        }
    }
    json!({"#meta": {"format": "ITF", "source": spec.name()}, "states": states})
}

#[test]
fn a_walk_through_every_layer_replays() {
    fn check<L: Layer>(steps: usize) -> usize {
        let spec = L::from_params(&Params::default()).unwrap();
        let trace = walk(&spec, steps);
        let r = replay(L::NAME, None, &trace);
        assert_eq!(
            r.verdict,
            ReplayVerdict::Behavior,
            "{}: {}",
            L::NAME,
            r.text()
        );
        r.replayed.len()
    }
    let lengths = [
        check::<log_abstract::Log>(8),
        check::<distlog::DistLog>(8),
        check::<weak_raft::WeakRaft>(8),
        check::<weak_raft::SafeWeakRaft>(8),
        check::<static_raft::StaticRaft>(8),
        check::<dynamic_raft::DynamicRaft>(8),
        check::<logless_raft::LoglessRaft>(8),
        check::<raft_reconfig::RaftReconfig>(8),
        check::<traft::Traft>(8),
        check::<jit_paxos::JitPaxos>(8),
        check::<multi_paxos::MultiPaxos>(8),
    ];
    assert_eq!(lengths, [4, 9, 9, 9, 9, 6, 8, 9, 9, 9, 9]);
    // The newest layer does not read its states back yet: replaying one is refused with a
    // message that says so, never a wrong verdict.
    fn refused<L: Layer>() -> String {
        let spec = L::from_params(&Params::default()).unwrap();
        input_error(L::NAME, &Params::default(), &walk(&spec, 3))
    }
    let message = refused::<message_raft::MessageRaft>();
    assert!(
        message.ends_with("layer message-raft does not read states back"),
        "{message}"
    );
    let message = refused::<async_reconfig::AsyncReconfig>();
    assert!(
        message.ends_with("layer async-reconfig does not read states back"),
        "{message}"
    );
    assert_eq!(REGISTRY.layers().len(), 13, "a new layer gets a line above");
}

fn input_error(layer: &str, params: &Params, trace: &Value) -> String {
    match replay_layer(layer, params, None, trace) {
        Err(RunError(message)) => message,
        Ok(r) => panic!("replayed: {}", r.text()),
    }
}

#[test]
fn damaged_traces_are_input_errors_that_say_what_is_wrong() {
    let good: Value =
        serde_json::from_str(&std::fs::read_to_string(hand_written()).unwrap()).unwrap();
    let defaults = Params::default();
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut t = good.clone();
        edit(&mut t);
        t
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            json!([1, 2]),
            "not an ITF trace: the file holds no JSON object",
        ),
        (json!({"vars": []}), "not an ITF trace: it has no `states`"),
        (
            with(&|t| t["states"] = json!([])),
            "not an ITF trace: its `states` are empty",
        ),
        (
            with(&|t| t["vars"] = json!(["log", "currentTerm"])),
            "the trace's variables are currentTerm, log; layer static-raft's are committed, \
             config, currentTerm, log, state",
        ),
        (
            with(&|t| t["states"][2]["currentTerm"]["#map"][0][1] = json!("one")),
            "state 3 of the trace does not read as a state of static-raft at these bounds \
             (servers=3 max-log-len=2 max-term=2): variable currentTerm: at n1: expected an \
             integer, found \"one\"",
        ),
        (
            with(&|t| {
                t["states"][1].as_object_mut().unwrap().remove("committed");
            }),
            "state 2 of the trace does not read as a state of static-raft at these bounds \
             (servers=3 max-log-len=2 max-term=2): the variables are currentTerm, state, log, \
             config, committed; missing: committed",
        ),
        (
            with(&|t| t["#meta"]["source"] = json!("distlog")),
            "the trace was written by layer distlog, not static-raft",
        ),
    ];
    for (trace, message) in cases {
        assert_eq!(input_error("static-raft", &defaults, &trace), message);
    }
    let two_servers = Params {
        servers: Some(2),
        ..Params::default()
    };
    assert_eq!(
        input_error("static-raft", &two_servers, &good),
        "state 1 of the trace does not read as a state of static-raft at these bounds (servers=2 \
         max-log-len=2 max-term=2): variable currentTerm: expected one value per server n1..n2, \
         found 3"
    );
    let no_logs = Params {
        max_log_len: Some(0),
        ..Params::default()
    };
    assert_eq!(
        input_error("static-raft", &no_logs, &good),
        "state 3 of the trace is outside the state constraint of static-raft at these bounds \
         (servers=3 max-log-len=0 max-term=2), so the model has no step from it; replay with the \
         bounds the trace was made with"
    );
}

fn refine_replay(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_refine"))
        .arg("replay")
        .args(args)
        .output()
        .expect("refine runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_command_exits_0_1_or_2() {
    let dir = std::env::temp_dir().join(format!("refine-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cex = dir.join("cex.json");
    let out = Command::new(env!("CARGO_BIN_EXE_refine"))
        .args([
            "check",
            "static-raft",
            "--mutation",
            "primary-rolls-back",
            "--progress",
            "0",
        ])
        .arg("--trace-json")
        .arg(&cex)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let cex = cex.to_str().unwrap();

    let (code, stdout, _) =
        refine_replay(&["static-raft", cex, "--mutation", "primary-rolls-back"]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.ends_with(
            "State 6: <RollbackEntries(n1, n3)>\nError: action property LeaderAppendOnly is \
             violated by step 5 (state 5 to state 6).\n"
        ),
        "{stdout}"
    );

    // --json: the one envelope, the failure named by kind and state.
    let (code, stdout, _) = refine_replay(&[
        "static-raft",
        cex,
        "--mutation",
        "primary-rolls-back",
        "--json",
    ]);
    assert_eq!(code, Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(
        (&v["schema"], &v["command"], &v["verdict"], &v["target"]),
        (
            &json!("refine-json/1"),
            &json!("replay"),
            &json!("violation"),
            &json!("static-raft")
        )
    );
    assert_eq!(
        v["failure"],
        json!({"kind": "action-property", "state": 6, "detail": "LeaderAppendOnly"})
    );
    assert_eq!(v["states"], json!(6));
    assert_eq!(
        v["replayed"][5],
        json!({"actions": ["RollbackEntries(n1, n3)"], "stutter": false})
    );

    let (code, stdout, _) = refine_replay(&["static-raft", cex]);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("is not a step of static-raft"), "{stdout}");

    let (code, stdout, _) = refine_replay(&["static-raft", hand_written().to_str().unwrap()]);
    assert_eq!(
        (code, stdout.lines().last()),
        (
            Some(0),
            Some(
                "The trace (6 states) is a behavior of static-raft; its invariants hold in every \
                 state (OnePrimaryPerTerm, LogMatching, LeaderCompleteness, StateMachineSafety)."
            )
        )
    );

    let (code, stdout, _) =
        refine_replay(&["static-raft", hand_written().to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(
        (code, &v["verdict"], &v["failure"], &v["states"]),
        (Some(0), &json!("holds"), &json!(null), &json!(6))
    );

    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"states\": [").unwrap();
    let (code, stdout, stderr) = refine_replay(&["static-raft", bad.to_str().unwrap()]);
    assert_eq!((code, stdout.as_str()), (Some(2), ""));
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains("bad.json is not JSON: EOF while parsing"),
        "{stderr}"
    );

    let (code, _, stderr) = refine_replay(&["static-raft", "/nonexistent/trace.json"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("error: cannot read /nonexistent/trace.json: "),
        "{stderr}"
    );

    let (code, _, stderr) = refine_replay(&["no-such-layer", cex]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("error: unknown layer no-such-layer"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
