//! Tests of the checked step, the action text and the state read-back (`Spec::step`,
//! `FromStr for Action`, `Spec::read_state`).

use crate::{Action, LoglessRaft, Mutation, QuorumChecks, State};
use spec_core::{ServerSet, Spec};
use std::collections::HashSet;

/// Every binding for servers `0..servers` (one past a model's, when called with its servers
/// plus one), sets ranging over every set of them.
fn every_binding(servers: u8) -> Vec<Action> {
    let sets: Vec<ServerSet> = ServerSet::all(servers as usize).subsets().collect();
    let mut all = Vec::new();
    for i in 0..servers {
        for &q in &sets {
            all.push(Action::Reconfig { i, new_config: q });
            all.push(Action::BecomeLeader { i, vote_quorum: q });
        }
        for j in 0..servers {
            all.push(Action::SendConfig { i, j });
            all.push(Action::UpdateTerms { i, j });
        }
    }
    all
}

/// `step`'s override is the successor `next_states` pairs with the action, or `None`, on every
/// reachable state of a small model (3 servers, MaxTerm 1, MaxConfigVersion 2), for every
/// binding of 4 servers, for the spec and every mutant, with either quorum check.
#[test]
fn step_is_the_successor_next_states_pairs_with_the_action() {
    let bindings = every_binding(4);
    let mutants = std::iter::once(None).chain(Mutation::ALL.into_iter().map(Some));
    let variants = mutants
        .flat_map(|m| [QuorumChecks::Independent, QuorumChecks::Joint].map(|checks| (m, checks)));
    for (mutation, quorum_checks) in variants {
        let mut spec = LoglessRaft::new(3, 1, 2).unwrap();
        if let Some(m) = mutation {
            spec = spec.with_mutation(m);
        }
        if quorum_checks == QuorumChecks::Joint {
            spec = spec.with_joint_quorum_check();
        }
        let states = spec_core::reachable_states(&spec, usize::MAX);
        let mut next = Vec::new();
        for s in &states {
            next.clear();
            spec.next_states(s, &mut next);
            let named: HashSet<Action> = next.iter().map(|(a, _)| *a).collect();
            let mut stepped = 0;
            for a in &bindings {
                let expected = next.iter().find(|(b, _)| b == a).map(|(_, t)| *t);
                assert_eq!(
                    spec.step(s, a),
                    expected,
                    "{mutation:?} {quorum_checks:?}: {a} in {s:?}"
                );
                stepped += expected.is_some() as usize;
            }
            assert_eq!(
                stepped,
                named.len(),
                "every enabled binding is one of the 4-server bindings"
            );
        }
        if mutation.is_none() && quorum_checks == QuorumChecks::Independent {
            assert_eq!(states.len(), 2980);
        }
    }
}

#[test]
fn actions_print_and_parse_back() {
    let spec = LoglessRaft::new(3, 2, 2).unwrap();
    let names = spec_core::action_text::check_round_trips(&spec, usize::MAX)
        .unwrap()
        .names;
    assert_eq!(names.len(), 4, "{names:?}");
    for a in every_binding(5) {
        assert_eq!(a.to_string().parse(), Ok(a), "{a}");
    }
    assert_eq!(
        "SendConfig(n1, {n2})"
            .parse::<Action>()
            .unwrap_err()
            .to_string(),
        "cannot read action `SendConfig(n1, {n2})`: {n2} is not a server name n1, n2, ..."
    );
}

#[test]
fn states_read_back_from_their_itf() {
    let spec = LoglessRaft::new(3, 2, 2).unwrap();
    let states = spec_core::reachable_states(&spec, usize::MAX);
    for s in &states {
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(spec.read_state(&json), Ok(*s), "{json}");
        assert_eq!(serde_json::from_value::<State>(json).unwrap(), *s);
    }
    let mut json = serde_json::to_value(states[0]).unwrap();
    json["configVersion"] = serde_json::json!({"#map": [["n1", 1], ["n2", "one"], ["n3", 1]]});
    assert_eq!(
        spec.read_state(&json).unwrap_err().to_string(),
        r#"variable configVersion: at n2: expected an integer, found "one""#
    );
    json["configVersion"] = serde_json::json!({"#map": [["n1", 1], ["n2", 1], ["n3", 255]]});
    assert_eq!(
        spec.read_state(&json).unwrap_err().to_string(),
        "variable configVersion: at n3: 255 is outside 0..254, what the state encoding holds"
    );
    assert_eq!(
        State::read_itf(&serde_json::to_value(states[0]).unwrap(), 3),
        Ok(states[0])
    );
}

/// The history spec's actions (the logless ones and CommitConfig) print and parse back, on
/// every step of a small model.
#[test]
fn history_actions_print_and_parse_back() {
    use crate::refinement::{HistoryAction, LoglessWithHistory};
    let spec = LoglessWithHistory::new(LoglessRaft::new(3, 1, 2).unwrap()).unwrap();
    let mut names = std::collections::BTreeSet::new();
    for s in spec_core::reachable_states(&spec, 20_000) {
        let mut succ = Vec::new();
        spec.next_states(&s, &mut succ);
        for (a, _) in succ {
            assert_eq!(a.to_string().parse(), Ok(a), "{a}");
            names.insert(spec_core::Action::name(&a));
        }
    }
    assert_eq!(names.len(), 5, "{names:?}");
    assert_eq!(
        "CommitConfig(n1)".parse::<HistoryAction>().unwrap_err().to_string(),
        "cannot read action `CommitConfig(n1)`: CommitConfig takes two arguments, CommitConfig(i, Q)"
    );
}
