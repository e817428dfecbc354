//! Tests of the checked step, the action text and the state read-back (`Spec::step`,
//! `FromStr for Action`, `Spec::read_state`).

use crate::{Action, Mutation, RaftReconfig, State};
use spec_core::{ServerSet, Spec};
use std::collections::HashSet;

/// Every binding for servers `0..servers` (one past a model's, when called with its servers
/// plus one), sets ranging over every set of them.
fn every_binding(servers: u8) -> Vec<Action> {
    let sets: Vec<ServerSet> = ServerSet::all(servers as usize).subsets().collect();
    let mut all = Vec::new();
    for i in 0..servers {
        all.push(Action::ClientRequest { i });
        for &q in &sets {
            all.push(Action::CommitEntry {
                i,
                commit_quorum: q,
            });
            all.push(Action::Reconfig { i, new_config: q });
            all.push(Action::BecomeLeader { i, vote_quorum: q });
        }
        for j in 0..servers {
            all.push(Action::GetEntries { i, j });
            all.push(Action::RollbackEntries { i, j });
            all.push(Action::SendConfig { i, j });
            all.push(Action::UpdateTerms { i, j });
        }
    }
    all
}

/// `step`'s override is the successor `next_states` pairs with the action, or `None`, on every
/// reachable state of a small model (MaxLogLen 1, MaxTerm 1, MaxConfigVersion 2), for every
/// binding of one server more than the model has: the spec at 3 servers, every mutant at 2
/// (which keeps the test to seconds).
#[test]
fn step_is_the_successor_next_states_pairs_with_the_action() {
    for mutation in std::iter::once(None).chain(Mutation::ALL.into_iter().map(Some)) {
        let servers = if mutation.is_none() { 3 } else { 2 };
        let bindings = every_binding(servers as u8 + 1);
        let mut spec = RaftReconfig::new(servers, 1, 1, 2).unwrap();
        if let Some(m) = mutation {
            spec = spec.with_mutation(m);
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
                assert_eq!(spec.step(s, a), expected, "{mutation:?}: {a} in {s:?}");
                stepped += expected.is_some() as usize;
            }
            assert_eq!(
                stepped,
                named.len(),
                "every enabled binding is one of the 4-server bindings"
            );
        }
        if mutation.is_none() {
            assert_eq!(states.len(), 30043);
        }
    }
}

#[test]
fn actions_print_and_parse_back() {
    let spec = RaftReconfig::new(3, 1, 2, 2).unwrap();
    let names = spec_core::action_text::check_round_trips(&spec, usize::MAX)
        .unwrap()
        .names;
    assert_eq!(names.len(), 8, "{names:?}");
    for a in every_binding(5) {
        assert_eq!(a.to_string().parse(), Ok(a), "{a}");
    }
    assert_eq!(
        "Reconfig(n1, {n1, n2}"
            .parse::<Action>()
            .unwrap_err()
            .to_string(),
        "cannot read action `Reconfig(n1, {n1, n2}`: expected a closing parenthesis at the end"
    );
}

#[test]
fn states_read_back_from_their_itf() {
    let spec = RaftReconfig::new(3, 1, 2, 2).unwrap();
    let states = spec_core::reachable_states(&spec, usize::MAX);
    for s in &states {
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(spec.read_state(&json), Ok(*s), "{json}");
        assert_eq!(serde_json::from_value::<State>(json).unwrap(), *s);
    }
    let mut json = serde_json::to_value(states[0]).unwrap();
    json["log"] =
        serde_json::json!({"#map": [["n1", [1]], ["n2", [{"#bigint": "2"}]], ["n3", [true]]]});
    assert_eq!(
        spec.read_state(&json).unwrap_err().to_string(),
        "variable log: at n3: item 1: expected an integer, found true"
    );
    json["log"] =
        serde_json::json!({"#map": [["n1", [1]], ["n2", [{"#bigint": "2"}]], ["n3", []]]});
    let read = spec.read_state(&json).unwrap();
    assert_eq!(
        (read.log[0].as_slice(), read.log[1].as_slice()),
        (&[1][..], &[2][..])
    );
    assert_eq!(State::read_itf(&json, 3), Ok(read));
}

/// A state no model reaches but `read_state` accepts (the largest terms and versions, full logs
/// of large terms, every server Primary): `step` answers `None` or a state for every binding,
/// under the spec and every mutation, and never panics.
#[test]
fn step_never_panics_at_the_edges_of_the_encoding() {
    let mut edge = State::initial(3, ServerSet::all(3));
    edge.current_term[..3].copy_from_slice(&[254, 5, 5]);
    edge.config_version[..3].copy_from_slice(&[254, 254, 1]);
    edge.config_term[..3].copy_from_slice(&[254, 5, 0]);
    edge.state[..3].fill(spec_core::Role::Primary);
    edge.log[0] = static_raft::Log::from_slice(&[254; static_raft::LOG_CAPACITY]);
    edge.log[1] = static_raft::Log::from_slice(&[5; 5]);
    edge.log[2] = static_raft::Log::from_slice(&[6, 6]);
    let mut stepped = 0;
    for mutation in std::iter::once(None).chain(Mutation::ALL.into_iter().map(Some)) {
        let mut spec = RaftReconfig::new(3, 5, 5, 5).unwrap();
        if let Some(m) = mutation {
            spec = spec.with_mutation(m);
        }
        for a in every_binding(4) {
            stepped += spec.step(&edge, &a).is_some() as usize;
        }
    }
    assert_eq!(stepped, 76);
}
