//! Which MongoRaftReconfig actions the node core implements one step at a time, found with the
//! checker: the evidence for the path from message-raft up to raft-reconfig.
//!
//! The direct edge (`ToRaftReconfig`: each node's variables are raft-reconfig's at that
//! server) fails at its first election, and a refinement check stops at the first failure. To
//! see every obstacle, this file checks each *proof obligation* of a step-by-step mapping
//! separately, as an action property of message-raft: for each kind of lower step that changes
//! the mapped state, the raft-reconfig action it would have to be is enabled in the mapped
//! state before the step and leads to the mapped state after it. The checker gives the
//! shortest behaviour that breaks each obligation, or the counts of a search that finds none.
//!
//! The elections' obligation is weakened on purpose: it ignores terms (an election in
//! messages cannot move all voters to the new term at once, which is the first obstacle
//! already pinned), and asks only that the candidate's log and config still dominate each
//! voter's when it wins, which is what BecomeLeader's voters must satisfy at the instant of an
//! atomic election.

use message_raft::node::NodeRole;
use message_raft::{Action, Message, MessageRaft, State, Timer, ToRaftReconfig};
use raft_reconfig::actions as upper;
use refinement_tests::{explore, FailureKind, Invariants, Options};
use spec_core::raft::last_term;
use spec_core::{ActionProperty, Params, Refinement, Server, Spec};

/// message-raft with the obligations as action properties (same states, same steps).
struct Obligations {
    spec: MessageRaft,
    mapping: ToRaftReconfig,
}

impl Obligations {
    fn new(bounds: (usize, usize, usize, usize, usize, usize, usize)) -> Obligations {
        let (a, b, c, d, e, f, g) = bounds;
        let spec = MessageRaft::new(a, b, c, d, e, f, g).unwrap();
        Obligations {
            spec,
            mapping: ToRaftReconfig::new(spec).unwrap(),
        }
    }

    fn map(&self, s: &State) -> raft_reconfig::State {
        self.mapping.map_state(s)
    }
}

/// The receiver of a delivered message, if the step is a delivery.
fn receiver(a: &Action) -> Option<(usize, usize, Message)> {
    match a {
        Action::Deliver { message } => {
            Some((message.to as usize, message.from as usize, message.message))
        }
        _ => None,
    }
}

/// A candidate that wins: its log is at least as up to date as each voter's, and its config
/// at least as new, at the instant it wins (CanVoteForOplog and CanVoteForConfig without the
/// term conjunct).
fn election_voters_still_qualify(_: &Obligations, s: &State, a: &Action, t: &State) -> bool {
    let Some((i, voter, _)) = receiver(a) else {
        return true;
    };
    let (before, after) = (&s.nodes[i], &t.nodes[i]);
    if !(before.role == NodeRole::Candidate && after.role == NodeRole::Primary) {
        return true;
    }
    let quorum = before.votes.with(voter);
    quorum.iter().all(|v| {
        let v = &s.nodes[v];
        let log_ok = last_term(&before.log) > last_term(&v.log)
            || (last_term(&before.log) == last_term(&v.log) && before.log.len() >= v.log.len());
        log_ok && before.config_id() >= v.config_id()
    })
}

/// A commit is CommitEntry(i, Q) for some quorum Q of the primary's config.
fn commit_is_commit_entry(o: &Obligations, s: &State, a: &Action, t: &State) -> bool {
    if s.committed == t.committed {
        return true;
    }
    let i = match a {
        Action::Deliver { message } => message.to as usize,
        Action::ClientWrite { i, .. } => *i as usize,
        _ => return false,
    };
    let (from, to) = (o.map(s), o.map(t));
    s.nodes[i]
        .config
        .quorums()
        .any(|q| upper::commit_entry(&from, i as Server, q, None) == Some(to))
}

/// A reconfig is raft-reconfig's Reconfig(i, newConfig).
fn reconfig_is_reconfig(o: &Obligations, s: &State, a: &Action, t: &State) -> bool {
    let Action::Reconfig { i, new_config } = *a else {
        return true;
    };
    upper::reconfig(&o.map(s), i as usize, new_config, None) == Some(o.map(t))
}

/// An appended entry is GetEntries(i, j) for some j; a dropped one RollbackEntries(i, j).
fn log_change_is_get_or_rollback(o: &Obligations, s: &State, a: &Action, t: &State) -> bool {
    let Some((i, _, message)) = receiver(a) else {
        return true;
    };
    if s.nodes[i].log == t.nodes[i].log {
        return true;
    }
    let (from, to) = (o.map(s), o.map(t));
    // The step may also have changed i's term (a newer term in the reply): judge the log part
    // on the state after the term change.
    let mut mid = from;
    mid.current_term[i] = to.current_term[i];
    mid.state[i] = to.state[i];
    s.server_ids().any(|j| match message {
        Message::Entries { .. } => {
            upper::get_entries(&mid, i as Server, j as Server, None) == Some(to)
        }
        _ => upper::rollback_entries(&mid, i as Server, j as Server, None) == Some(to),
    })
}

/// A term learned from a message is UpdateTerms(j, i) for some j.
fn term_adoption_is_update_terms(o: &Obligations, s: &State, a: &Action, t: &State) -> bool {
    let Some((i, _, _)) = receiver(a) else {
        return true;
    };
    if s.nodes[i].term == t.nodes[i].term {
        return true;
    }
    let (from, to) = (o.map(s), o.map(t));
    s.server_ids().any(|j| {
        upper::update_terms(&from, j, i, None)
            .is_some_and(|u| u.current_term == to.current_term && u.state == to.state)
    })
}

/// A config adopted from a heartbeat is SendConfig(j, i) for some j.
fn config_adoption_is_send_config(o: &Obligations, s: &State, a: &Action, t: &State) -> bool {
    let Some((i, _, Message::Heartbeat { .. })) = receiver(a) else {
        return true;
    };
    if s.nodes[i].config_id() == t.nodes[i].config_id() {
        return true;
    }
    let (from, to) = (o.map(s), o.map(t));
    let mut mid = from;
    mid.current_term[i] = to.current_term[i];
    mid.state[i] = to.state[i];
    s.server_ids()
        .any(|j| upper::send_config(&mid, j, i, None) == Some(to))
}

/// Standing for election changes no mapped variable but the candidate's term: a step raft-
/// reconfig has no action for.
fn standing_is_a_step(_: &Obligations, s: &State, a: &Action, _: &State) -> bool {
    !matches!(
        a,
        Action::Fire {
            timer: Timer::Election,
            ..
        }
    ) || s.servers == 0
}

impl Spec for Obligations {
    type State = State;
    type Action = Action;
    fn name(&self) -> &'static str {
        "message-raft-obligations"
    }
    fn params(&self) -> Params {
        self.spec.params()
    }
    fn action_names(&self) -> &'static [&'static str] {
        self.spec.action_names()
    }
    fn init_states(&self) -> Vec<State> {
        self.spec.init_states()
    }
    fn next_states(&self, state: &State, out: &mut Vec<(Action, State)>) {
        self.spec.next_states(state, out)
    }
    fn action_properties(&self) -> Vec<ActionProperty<Self>> {
        vec![
            ActionProperty {
                name: "StandingIsAStep",
                holds: standing_is_a_step,
            },
            ActionProperty {
                name: "ElectionVotersStillQualify",
                holds: election_voters_still_qualify,
            },
            ActionProperty {
                name: "CommitIsCommitEntry",
                holds: commit_is_commit_entry,
            },
            ActionProperty {
                name: "ReconfigIsReconfig",
                holds: reconfig_is_reconfig,
            },
            ActionProperty {
                name: "LogChangeIsGetOrRollback",
                holds: log_change_is_get_or_rollback,
            },
            ActionProperty {
                name: "TermAdoptionIsUpdateTerms",
                holds: term_adoption_is_update_terms,
            },
            ActionProperty {
                name: "ConfigAdoptionIsSendConfig",
                holds: config_adoption_is_send_config,
            },
        ]
    }
    fn within_constraint(&self, state: &State) -> bool {
        self.spec.within_constraint(state)
    }
    fn has_symmetry(&self) -> bool {
        true
    }
    fn canonical(&self, state: &State) -> State {
        self.spec.canonical(state)
    }
}

/// What checking obligation `name` alone finds: the counterexample's length and actions, or
/// the search's counts.
enum Found {
    Broken(usize, Vec<String>),
    Holds(u64, u64, usize),
}

fn check(o: &Obligations, name: &str) -> Found {
    let out = explore(o, &Invariants::only(o, &[name]), &Options::quiet(2, true)).unwrap();
    match out.violation {
        Some(cex) => {
            assert_eq!(cex.failure.kind, FailureKind::ActionProperty);
            assert_eq!(cex.failure.property, name);
            Found::Broken(cex.steps.len(), cex.actions())
        }
        None => Found::Holds(out.stats.generated, out.stats.distinct, out.stats.depth),
    }
}

fn assert_broken(o: &Obligations, name: &str, states: usize, last: &str) -> Vec<String> {
    match check(o, name) {
        Found::Broken(len, actions) => {
            assert_eq!(
                (len, actions.last().map(String::as_str)),
                (states, Some(last)),
                "{name}: {actions:?}"
            );
            actions
        }
        Found::Holds(g, d, depth) => panic!("{name} holds: {g} / {d} / {depth}"),
    }
}

#[test]
fn standing_for_election_has_no_counterpart() {
    let o = Obligations::new((3, 0, 1, 1, 2, 0, 0));
    assert_broken(&o, "StandingIsAStep", 2, "ElectionTimeout(n1)");
}

/// n1 is elected in term 1 (its config stamped with term 1); n3 stands in term 2 and n2 votes
/// for it (n2's config, term 0, is no newer than n3's); n2 then adopts n1's config of term 1
/// from a heartbeat; n3 wins with n2's vote. At that instant n2's config is newer than n3's:
/// raft-reconfig's BecomeLeader(n3, {n2, n3}) is not enabled, whatever happens to terms.
#[test]
fn a_voter_moves_past_its_candidate_after_voting() {
    let o = Obligations::new((3, 1, 2, 1, 2, 0, 0));
    assert_broken(
        &o,
        "ElectionVotersStillQualify",
        11,
        "Deliver(n2 -> n3: VoteGranted(2))",
    );
}

/// n1, primary of term 1, writes; n2 pulls the entry and asks again (reporting it); n2 moves
/// to term 2 (n3's vote request); the report, sent in term 1, arrives: n1 commits on {n1, n2},
/// but n2 is no longer in term 1, so CommitEntry(n1, Q) is enabled for no quorum Q.
#[test]
fn a_commit_counts_a_report_its_sender_has_moved_past() {
    let o = Obligations::new((3, 1, 2, 1, 2, 0, 0));
    assert_broken(
        &o,
        "CommitIsCommitEntry",
        14,
        "Deliver(n2 -> n1: PullEntries(1, 1, 1))",
    );
}

/// n1's entry of term 1 is sent to n2 as a reply; meanwhile n1 rolls it back (n3, primary of
/// term 2, tells it to); the reply arrives and n2 appends an entry no log holds any more: no
/// GetEntries(n2, j) leads there.
#[test]
fn an_entry_arrives_after_its_source_dropped_it() {
    let o = Obligations::new((3, 1, 2, 1, 2, 0, 0));
    assert_broken(
        &o,
        "LogChangeIsGetOrRollback",
        17,
        "Deliver(n1 -> n2: Entries(2, 0, 0, 1))",
    );
}

/// n2 reaches term 1 by voting, sends a pull in term 1, then moves to term 2; the pull makes
/// n3 adopt term 1, which no server holds any more: no UpdateTerms(j, n3) leads there.
#[test]
fn a_term_arrives_after_its_sender_moved_on() {
    let o = Obligations::new((3, 1, 2, 1, 2, 0, 0));
    assert_broken(
        &o,
        "TermAdoptionIsUpdateTerms",
        10,
        "Deliver(n2 -> n3: PullEntries(1, 0, 0))",
    );
}

/// n1, primary of term 1, holds n2's acknowledgement of its config in term 1; n2 stands for
/// term 2; n1 reconfigures on the acknowledgement, but TermQuorumCheck in the state fails (n2
/// is in term 2).
#[test]
fn a_reconfig_counts_an_acknowledgement_its_sender_has_moved_past() {
    let o = Obligations::new((3, 1, 2, 2, 2, 0, 0));
    assert_broken(&o, "ReconfigIsReconfig", 10, "Reconfig(n1, {n1, n3})");
}

/// n1 heartbeats its config (version 1) to n3, reconfigures to version 2 and gets it to n2;
/// the old heartbeat arrives and n3 adopts version 1 of term 1, which no server holds any
/// more: no SendConfig(j, n3) leads there.
#[test]
fn a_config_arrives_after_its_sender_replaced_it() {
    let o = Obligations::new((3, 1, 2, 2, 2, 0, 0));
    assert_broken(
        &o,
        "ConfigAdoptionIsSendConfig",
        13,
        "Deliver(n1 -> n3: Heartbeat(term 1, {n1, n2, n3} v1 t1))",
    );
}

// ---------------------------------------------------------------------------------------------
// The answer: async-reconfig, the level message-raft refines (see message-raft's README, "The
// decision", and async-reconfig's README).
// ---------------------------------------------------------------------------------------------

use async_reconfig::refinement::HistoryMapping;
use async_reconfig::{AsyncReconfig, FromRaftReconfig, InitialConfigs};
use message_raft::refinement::to_async_reconfig;
use refinement_tests::RefinementCheck;

/// Generated, distinct, depth of a refinement search that holds (2 threads, no symmetry),
/// stopping after `levels` levels if given.
fn holds<R: Refinement>(mapping: &R, levels: Option<usize>) -> (u64, u64, usize) {
    holds_with(mapping, levels, false)
}

/// [`holds`], with symmetry reduction or without.
fn holds_with<R: Refinement>(
    mapping: &R,
    levels: Option<usize>,
    symmetry: bool,
) -> (u64, u64, usize) {
    let options = Options {
        stop_after_level: levels,
        ..Options::quiet(2, symmetry)
    };
    let out = explore(mapping.lower(), &RefinementCheck::new(mapping), &options).unwrap();
    if let Some(cex) = out.violation {
        panic!("{}: {:?} {:?}", mapping.name(), cex.failure, cex.actions());
    }
    (out.stats.generated, out.stats.distinct, out.stats.depth)
}

/// The length and actions of the shortest counterexample of a refinement search.
fn refuted<R: Refinement>(mapping: &R) -> (usize, Vec<String>) {
    refuted_with(mapping, false)
}

/// [`refuted`], with symmetry reduction or without.
fn refuted_with<R: Refinement>(mapping: &R, symmetry: bool) -> (usize, Vec<String>) {
    let out = explore(
        mapping.lower(),
        &RefinementCheck::new(mapping),
        &Options::quiet(2, symmetry),
    )
    .unwrap();
    let cex = out.violation.expect("refuted");
    assert_eq!(cex.failure.kind, FailureKind::Refinement);
    (cex.steps.len(), cex.actions())
}

/// message-raft -> async-reconfig holds, exhaustively with one election term.
#[test]
fn message_raft_refines_async_reconfig() {
    let spec = MessageRaft::new(3, 1, 1, 1, 2, 0, 0).unwrap();
    let mapping = to_async_reconfig(spec).unwrap();
    assert_eq!(holds(&mapping, None), ASYNC_MSG_T1);
}

/// With two terms (where all seven obligations above break, the longest in 17 states), every
/// behaviour of up to 18 states implements async-reconfig; the same with a reconfig (the two
/// obligations that need one break in 10 and 13 states). About 30 s on two cores: ignored by
/// default (`cargo test --release -p refine --test suite message_obligations:: -- --ignored
/// --skip at_message_raft_defaults --skip with_reconfigs` runs every ignored test here but the
/// two long ones).
#[test]
#[ignore]
fn message_raft_refines_async_reconfig_through_every_broken_obligation() {
    let spec = MessageRaft::new(3, 1, 2, 1, 2, 0, 0).unwrap();
    assert_eq!(
        holds(&to_async_reconfig(spec).unwrap(), Some(18)),
        ASYNC_MSG_T2
    );
    let spec = MessageRaft::new(3, 1, 2, 2, 2, 0, 0).unwrap();
    assert_eq!(
        holds(&to_async_reconfig(spec).unwrap(), Some(14)),
        ASYNC_MSG_T2_RECONFIG
    );
}

/// raft-reconfig -> async-reconfig holds: every synchronous step is an async-reconfig step.
#[test]
fn raft_reconfig_refines_async_reconfig() {
    let lower = raft_reconfig::RaftReconfig::new(3, 1, 2, 1).unwrap();
    let mapping = FromRaftReconfig::from_raft_reconfig(lower).unwrap();
    assert_eq!(holds(&mapping, None), ASYNC_FROM_SYNC);
}

/// The two guards first written as message-raft's node judges them are too strong for
/// raft-reconfig: each is refuted by the edge from raft-reconfig in 4 states.
#[test]
fn async_guards_as_the_node_judges_them_are_too_strong_for_raft_reconfig() {
    let lower = raft_reconfig::RaftReconfig::new(3, 1, 2, 1).unwrap();
    for (mutation, last) in [
        (
            async_reconfig::Mutation::AcknowledgementsOnly,
            ASYNC_ACKS_ONLY_LAST,
        ),
        (
            async_reconfig::Mutation::OplogCommitmentNeedsTermCommit,
            ASYNC_TERM_COMMIT_LAST,
        ),
    ] {
        let upper = AsyncReconfig::new(3, 1, 2, 1)
            .unwrap()
            .with_initial_configs(InitialConfigs::EveryNonempty)
            .with_mutation(mutation);
        let (len, actions) = refuted(&HistoryMapping::new(lower.clone(), upper));
        assert_eq!(
            (len, actions.last().unwrap().as_str()),
            (4, last),
            "{actions:?}"
        );
    }
}

/// async-reconfig's invariants hold, and its committed entries are chosen (it reaches
/// log-abstract on its own).
#[test]
fn async_reconfig_is_safe_and_reaches_the_log() {
    let spec = AsyncReconfig::new(3, 1, 1, 2).unwrap();
    let out = explore(&spec, &Invariants::of(&spec), &Options::quiet(2, false)).unwrap();
    assert!(out.violation.is_none());
    assert_eq!(
        (out.stats.generated, out.stats.distinct, out.stats.depth),
        ASYNC_CHECK
    );
    let mapping = async_reconfig::CommittedAreChosen::new(spec).unwrap();
    assert_eq!(holds(&mapping, None), ASYNC_CHECK);
}

/// Mutations of async-reconfig, each found with a short counterexample.
#[test]
fn async_reconfig_mutations_are_caught() {
    for (mutation, property, states, last) in ASYNC_MUTATIONS {
        let spec = AsyncReconfig::new(3, 1, 2, 1)
            .unwrap()
            .with_mutation(*mutation);
        let out = explore(&spec, &Invariants::of(&spec), &Options::quiet(2, false)).unwrap();
        let cex = out.violation.expect("caught");
        assert_eq!(
            (
                cex.failure.property.as_str(),
                cex.steps.len(),
                cex.actions().last().unwrap().as_str()
            ),
            (*property, *states, *last),
            "{:?}",
            cex.actions()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Symmetry: renaming servers is exact for async-reconfig and for message-raft run with the
// history (async_reconfig::symmetry). A reduced search stores one state per orbit, and an orbit
// of 3 servers has at most 6 states: so reduced < unreduced <= 6 * reduced, the verdict is the
// same, and a shortest counterexample keeps its length.
// ---------------------------------------------------------------------------------------------

/// The distinct counts of a reduced and an unreduced search of the same bounds are those of
/// one state space cut into orbits of at most `3!` states.
fn orbits_of_three_servers(reduced: u64, unreduced: u64) {
    assert!(
        reduced < unreduced && unreduced <= 6 * reduced,
        "{reduced} reduced, {unreduced} unreduced"
    );
}

/// Generated, distinct, depth of message-raft -> async-reconfig at `bounds` (message-raft's
/// seven, as [`MessageRaft::new`] takes them), exhaustively with symmetry; it must hold.
fn edge_with_symmetry(
    bounds: (usize, usize, usize, usize, usize, usize, usize),
) -> (u64, u64, usize) {
    let (a, b, c, d, e, f, g) = bounds;
    let spec = MessageRaft::new(a, b, c, d, e, f, g).unwrap();
    holds_with(&to_async_reconfig(spec).unwrap(), None, true)
}

/// message-raft -> async-reconfig with symmetry, at the bounds of
/// [`message_raft_refines_async_reconfig`]: holds, with about a sixth of the states.
#[test]
fn message_raft_refines_async_reconfig_with_symmetry() {
    let reduced = edge_with_symmetry((3, 1, 1, 1, 2, 0, 0));
    assert_eq!(reduced, ASYNC_MSG_T1_SYMMETRY);
    orbits_of_three_servers(reduced.1, ASYNC_MSG_T1.1);
}

/// The edge with a restart and a duplicate (message-raft's fault budgets), one election term,
/// with symmetry: holds. A restart of a primary is async-reconfig's StepDown; of anyone else, a
/// stutter (only volatile variables, which the mapping forgets, are lost); a duplicate is a
/// stutter, and a duplicated message, delivered late, carries facts the history still holds.
#[test]
fn message_raft_refines_async_reconfig_under_faults() {
    let reduced = edge_with_symmetry((3, 1, 1, 1, 2, 1, 1));
    assert_eq!(reduced, ASYNC_MSG_T1_FAULTS_SYMMETRY);
    orbits_of_three_servers(reduced.1, ASYNC_MSG_T1_FAULTS.1);
}

/// The same without symmetry (about 25 s on two cores; `cargo test --release -p refine --test
/// suite message_obligations::message_raft_refines_async_reconfig_under_faults_unreduced --
/// --ignored`).
#[test]
#[ignore]
fn message_raft_refines_async_reconfig_under_faults_unreduced() {
    let spec = MessageRaft::new(3, 1, 1, 1, 2, 1, 1).unwrap();
    assert_eq!(
        holds_with(&to_async_reconfig(spec).unwrap(), None, false),
        ASYNC_MSG_T1_FAULTS
    );
}

/// The edge exhaustively with two election terms, no faults, with symmetry: holds. This is
/// where every one of the seven obligations above breaks. `refine refines message-raft
/// async-reconfig --restarts 0 --duplicates 0 --symmetry` (the same counts) took 225 s on two
/// busy cores, 380 MB, before the history's encoding was made compact; this test, about 90 s
/// after. Ignored by default (see [`message_raft_refines_async_reconfig_under_faults_unreduced`]
/// for the command).
#[test]
#[ignore]
fn message_raft_refines_async_reconfig_with_two_terms() {
    assert_eq!(
        edge_with_symmetry((3, 1, 2, 1, 2, 0, 0)),
        ASYNC_MSG_T2_SYMMETRY
    );
}

/// The edge exhaustively at message-raft's defaults (the issue's bounds, but logs of 1 as
/// message-raft's README explains: 3 servers, MaxLogLen 1, MaxTerm 2, no reconfig, 2 messages
/// in flight, one restart, one duplicate), with symmetry: holds. `refine refines message-raft
/// async-reconfig --symmetry` (the same counts) takes 6.6 minutes (384 s of CPU time: the run
/// got one of two busy cores), 1.66 GB peak; 34 minutes (565 s of CPU) before the history's
/// encoding was made compact, on a busier machine. Ignored by default (`cargo test --release
/// -p refine --test suite
/// message_obligations::message_raft_refines_async_reconfig_at_message_raft_defaults --
/// --ignored`).
#[test]
#[ignore]
fn message_raft_refines_async_reconfig_at_message_raft_defaults() {
    assert_eq!(
        edge_with_symmetry((3, 1, 2, 1, 2, 1, 1)),
        ASYNC_MSG_DEFAULTS_SYMMETRY
    );
}

/// The edge exhaustively with reconfigs (MaxConfigVersion 2: every obligation above breaks
/// here, the two of Reconfig and SendConfig included), two terms, no faults, with symmetry:
/// holds. `refine refines message-raft async-reconfig --restarts 0 --duplicates 0
/// --max-config-version 2 --symmetry` (the same counts; these were pinned from that run) takes
/// 12.4 minutes on two busy cores (1,060 s of CPU time), 2.9 GB peak; ignored by default
/// (`cargo test --release -p refine --test suite
/// message_obligations::message_raft_refines_async_reconfig_with_reconfigs -- --ignored`).
#[test]
#[ignore]
fn message_raft_refines_async_reconfig_with_reconfigs() {
    assert_eq!(
        edge_with_symmetry((3, 1, 2, 2, 2, 0, 0)),
        ASYNC_MSG_T2_RECONFIG_SYMMETRY
    );
}

/// The edge exhaustively at the issue's log length of 2 without faults (3 servers, MaxLogLen 2,
/// MaxTerm 2, no reconfig, 2 messages in flight), with symmetry: holds. Rollbacks happen here
/// (256,856 states first reached by one), which logs of 1 cannot show. `refine refines
/// message-raft async-reconfig --max-log-len 2 --restarts 0 --duplicates 0 --symmetry` (the same
/// counts; pinned from that run) took 12.6 minutes on two cores shared with a build, 2.0 GB
/// peak; ignored by default (`cargo test --release -p refine --test suite
/// message_obligations::message_raft_refines_async_reconfig_with_logs_of_two -- --ignored`).
#[test]
#[ignore]
fn message_raft_refines_async_reconfig_with_logs_of_two() {
    assert_eq!(
        edge_with_symmetry((3, 2, 2, 1, 2, 0, 0)),
        ASYNC_MSG_LOGS_OF_TWO_SYMMETRY
    );
}

/// The edge exhaustively at the issue's bounds (3 servers, logs of 2, MaxTerm 2, no reconfig, 2
/// messages in flight, one restart, one duplicate), with symmetry: holds. `refine refines
/// message-raft async-reconfig --max-log-len 2 --symmetry --checkpoint DIR` (the same counts;
/// pinned from that run) took 80 minutes on two otherwise idle cores (7,218 s of CPU time),
/// 8.2 GB peak and 17 GB of checkpoint on disk; ignored by default (`cargo test --release -p
/// refine --test suite message_obligations::message_raft_refines_async_reconfig_at_the_issues_bounds
/// -- --ignored`).
#[test]
#[ignore]
fn message_raft_refines_async_reconfig_at_the_issues_bounds() {
    assert_eq!(
        edge_with_symmetry((3, 2, 2, 1, 2, 1, 1)),
        ASYNC_MSG_ISSUE_BOUNDS_SYMMETRY
    );
}

/// The edge exhaustively with reconfigs and faults together (3 servers, empty logs, MaxTerm 2,
/// MaxConfigVersion 2, 2 messages in flight, one restart, one duplicate), with symmetry: holds.
/// A config travels by heartbeats that may be lost, duplicated and delivered late, to nodes that
/// may restart; 667,429 states are first reached by a Reconfig, 3,642,049 by a Restart and
/// 942,734 by a duplication. `refine refines message-raft async-reconfig --max-log-len 0
/// --max-config-version 2 --symmetry --threads 1` (the same counts; pinned from that run) took
/// 9.5 minutes on one core, 1.5 GB peak; ignored by default (`cargo test --release -p refine
/// --test suite message_obligations::message_raft_refines_async_reconfig_with_reconfigs_and_faults
/// -- --ignored`).
#[test]
#[ignore]
fn message_raft_refines_async_reconfig_with_reconfigs_and_faults() {
    assert_eq!(
        edge_with_symmetry((3, 0, 2, 2, 2, 1, 1)),
        ASYNC_MSG_RECONFIG_FAULTS_SYMMETRY
    );
}

/// raft-reconfig -> async-reconfig and async-reconfig's own check, with symmetry: the same
/// verdicts (holds; refuted by the too-strong guard in the same 4 states; the mutations caught
/// by the same invariant in as many states) with about a sixth of the states.
#[test]
fn async_reconfig_symmetry_keeps_the_verdicts() {
    let lower = raft_reconfig::RaftReconfig::new(3, 1, 2, 1).unwrap();
    let mapping = FromRaftReconfig::from_raft_reconfig(lower.clone()).unwrap();
    let reduced = holds_with(&mapping, None, true);
    assert_eq!(reduced, ASYNC_FROM_SYNC_SYMMETRY);
    orbits_of_three_servers(reduced.1, ASYNC_FROM_SYNC.1);
    let upper = AsyncReconfig::new(3, 1, 2, 1)
        .unwrap()
        .with_initial_configs(InitialConfigs::EveryNonempty)
        .with_mutation(async_reconfig::Mutation::AcknowledgementsOnly);
    let (len, actions) = refuted_with(&HistoryMapping::new(lower, upper), true);
    assert_eq!((len, action_name(actions.last().unwrap())), (4, "Reconfig"));

    let spec = AsyncReconfig::new(3, 1, 1, 2).unwrap();
    let out = explore(&spec, &Invariants::of(&spec), &Options::quiet(2, true)).unwrap();
    assert!(out.violation.is_none());
    let reduced = (out.stats.generated, out.stats.distinct, out.stats.depth);
    assert_eq!(reduced, ASYNC_CHECK_SYMMETRY);
    orbits_of_three_servers(reduced.1, ASYNC_CHECK.1);
    // Another counterexample of the same length may be reported (the one kept among a level's
    // is the least by fingerprint, and the fingerprints are the representatives').
    for (mutation, property, states, _) in ASYNC_MUTATIONS {
        let spec = AsyncReconfig::new(3, 1, 2, 1)
            .unwrap()
            .with_mutation(*mutation);
        let out = explore(&spec, &Invariants::of(&spec), &Options::quiet(2, true)).unwrap();
        let cex = out.violation.expect("caught");
        assert_eq!(
            (cex.failure.property.as_str(), cex.steps.len()),
            (*property, *states),
            "{:?}",
            cex.actions()
        );
    }
}

/// An action's name without its arguments (which a reduced search may rename).
fn action_name(action: &str) -> &str {
    action.split('(').next().unwrap_or(action)
}

const ASYNC_MSG_T1: (u64, u64, usize) = (1_780_696, 133_853, 27);
const ASYNC_MSG_T1_SYMMETRY: (u64, u64, usize) = (297_238, 22_347, 27);
const ASYNC_MSG_T1_FAULTS: (u64, u64, usize) = (8_795_239, 608_260, 30);
const ASYNC_MSG_T1_FAULTS_SYMMETRY: (u64, u64, usize) = (1_467_730, 101_516, 30);
const ASYNC_MSG_T2_SYMMETRY: (u64, u64, usize) = (44_303_767, 3_391_850, 56);
const ASYNC_MSG_DEFAULTS_SYMMETRY: (u64, u64, usize) = (375_280_184, 26_980_591, 59);
const ASYNC_MSG_T2_RECONFIG_SYMMETRY: (u64, u64, usize) = (902_524_256, 71_051_731, 63);
const ASYNC_MSG_ISSUE_BOUNDS_SYMMETRY: (u64, u64, usize) = (5_075_467_216, 357_085_836, 84);
const ASYNC_MSG_LOGS_OF_TWO_SYMMETRY: (u64, u64, usize) = (644_368_111, 48_258_377, 81);
const ASYNC_MSG_RECONFIG_FAULTS_SYMMETRY: (u64, u64, usize) = (256_577_107, 18_519_982, 41);
const ASYNC_FROM_SYNC_SYMMETRY: (u64, u64, usize) = (159_625, 9_287, 15);
const ASYNC_CHECK_SYMMETRY: (u64, u64, usize) = (67_473, 6_651, 15);
const ASYNC_MSG_T2: (u64, u64, usize) = (12_652_303, 1_482_093, 19);
const ASYNC_MSG_T2_RECONFIG: (u64, u64, usize) = (3_132_214, 505_835, 15);
const ASYNC_FROM_SYNC: (u64, u64, usize) = (949_501, 55_183, 15);
const ASYNC_CHECK: (u64, u64, usize) = (402_046, 39_689, 15);
// Where a level holds several shortest counterexamples, the one reported is the least by
// fingerprint, so it changes with the encoding: before the history's encoding was made compact
// these four ended `Reconfig(n2, {n1, n2})`, `Reconfig(n3, {n2, n3})` (4 states each),
// `BecomeLeader(n3)` (8 states) and `CommitEntry(n2)` (6 states).
const ASYNC_ACKS_ONLY_LAST: &str = "Reconfig(n2, {n2, n3})";
const ASYNC_TERM_COMMIT_LAST: &str = "Reconfig(n3, {n1, n3})";
const ASYNC_MUTATIONS: &[(async_reconfig::Mutation, &str, usize, &str)] = &[
    (
        async_reconfig::Mutation::GrantIgnoresLog,
        "LeaderCompleteness",
        8,
        "CommitEntry(n2)",
    ),
    (
        async_reconfig::Mutation::CommitCountsCurrentHolders,
        "LeaderCompleteness",
        6,
        "CommitEntry(n3)",
    ),
];

/// Reconfig without OplogCommitment is caught at async-reconfig's level once the initial
/// config may be a single server and two reconfigs may follow: a primary alone in `{n1}`
/// commits an entry by itself, grows its config twice without the entry reaching anyone, and a
/// quorum of the last config that lacks the entry elects a new primary. message-raft's
/// `msg-reconfig-skips-oplog-commitment` is the same bug one level down (14 states at the same
/// bounds, in `message_raft.rs`). With one initial config of all servers, or a single reconfig,
/// it is not found within reach (async-reconfig's README).
#[test]
fn async_reconfig_without_oplog_commitment_loses_a_committed_entry() {
    let spec = AsyncReconfig::new(3, 1, 2, 3)
        .unwrap()
        .with_initial_configs(InitialConfigs::EveryNonempty)
        .with_mutation(async_reconfig::Mutation::ReconfigSkipsOplogCommitment);
    let out = explore(&spec, &Invariants::of(&spec), &Options::quiet(2, true)).unwrap();
    let cex = out.violation.expect("caught");
    assert_eq!(cex.failure.property, "LeaderCompleteness");
    assert_eq!(
        cex.actions(),
        [
            "StartElection(n1)",
            "ClientRequest(n1, true)",
            "Reconfig(n1, {n1, n2})",
            "SendConfig(n2, 1, 1, 2)",
            "Reconfig(n1, {n1, n2, n3})",
            "SendConfig(n2, 1, 1, 3)",
            "Elect(n2, {n2, n3})",
        ]
    );
    assert_eq!(cex.steps.len(), 8);
}
