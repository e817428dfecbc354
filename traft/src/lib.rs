//! TRaft's election and merge-log as an executable specification, in the style of
//! MongoStaticRaft (`static-raft`): a fixed set of servers, atomic elections over a majority,
//! replication by the leader, and a commit step that records what a quorum holds.
//!
//! TRaft (openacid/traft, 2021) changes two things in Raft's election:
//!
//! - **Leader ids, not terms.** A leader is named by its *leader id* `(term, id)`, ordered by
//!   term, then server id ([`Ballot`]). A voter votes for any candidate whose leader id is
//!   greater than the one it last voted for, even in the same term: two leaders may share a
//!   term, never a leader id. Voters do not compare logs.
//! - **Merge, with committers.** Every server records its *committer*: the leader id whose log
//!   its own log is a copy of (git's author vs committer). A new leader reads the logs of its
//!   voters, keeps only those whose committer is the greatest among them, and takes their
//!   merge; then it is its own committer. The note's lemma, "only max-committer logs", says
//!   that no safe entry is lost that way: an entry is *safe* once a quorum holds it, and a safe
//!   entry is in some max-committer log of every quorum.
//!
//! # The level
//!
//! | action | guard | effect |
//! |---|---|---|
//! | [`ClientRequest(i)`](Action::ClientRequest) | `i` Primary | append an entry authored by `i`'s leader id |
//! | [`LogForward(i, j)`](Action::LogForward) | `i` Primary, `votedFor[j] <= votedFor[i]`, something changes | `log[j] := log[i]`; `committer[j]`, `votedFor[j] := votedFor[i]`; `j` Secondary |
//! | [`BecomeLeader(i, Q, m)`](Action::BecomeLeader) | `i ∈ Q`, a majority; every voter's vote `< (term(votedFor[i]) + 1, i)`; `m` is the longest max-committer log of `Q` | voters vote for the new leader id, Secondary; `i` Primary, `log[i] := log[m]`, `committer[i] :=` its leader id |
//! | [`CommitEntry(i, Q)`](Action::CommitEntry) | `i` Primary; every member of `Q` has committer `votedFor[i]` and holds `log[i]`'s entry at index `k` | record `<<k, author>>` committed by `votedFor[i]` |
//!
//! Invariants ([`Traft::invariants`]): OnePrimaryPerTerm (per leader id), SameCommitterLogsAgree,
//! OnlyMaxCommitterLogs (the lemma), LogMatching, LeaderCompleteness, StateMachineSafety;
//! action properties LeaderAppendOnly and VotesOnlyGrow. Bounds: `--servers` (1 to 5),
//! `--max-term` (the constraint on every vote's term), `--max-log-len`. No symmetry: the order of
//! leader ids compares server ids, so renaming servers changes which candidate wins a tie, and
//! a reduction by server permutations would not be exact.
//!
//! The mapping to `log-abstract` is [`CommittedAreChosen`]: the committed entries are chosen.
//!
//! ```
//! use spec_core::{Layer, Params, Spec};
//! use traft::Traft;
//!
//! let spec = Traft::from_params(&Params::default()).unwrap();
//! let init = spec.init_states();
//! let mut next = Vec::new();
//! spec.next_states(&init[0], &mut next);
//! // From the initial state each of 3 servers can be elected by each of the 3 majorities that
//! // contain it; every log is empty, and the merge names the least voter.
//! assert_eq!(next.len(), 9);
//! ```

pub mod actions;
pub mod refinement;
mod state;

pub use actions::Action;
pub use refinement::CommittedAreChosen;
pub use state::{
    author_at, is_prefix, leader_append_only, leader_completeness, log_matching,
    one_primary_per_term, only_max_committer_logs, same_committer_logs_agree, state_machine_safety,
    votes_only_grow, Ballot, Committed, CommittedEntry, Log, Role, State, LOG_CAPACITY,
    MAX_COMMITTED_INDEX, MAX_SERVERS, MAX_TERM,
};

use spec_core::{ActionProperty, Bound, Invariant, Layer, Parameter, Params, ParamsError, Spec};

spec_core::mutations! {
    /// A bug planted on purpose, to see which property catches it (a teaching and testing device;
    /// none is in force unless [`Traft::with_mutation`] is called).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Mutation {
        /// BecomeLeader may take the log of any voter, not only one with the greatest committer:
        /// the note's lemma dropped. A leader takes a stale log and misses a committed entry.
        MergeFromAnyReplica = "merge-from-any-replica" =>
            "a new leader may merge from a voter without the greatest committer: breaks \
                OnlyMaxCommitterLogs",
        /// BecomeLeader takes the longest log of its voters, whatever their committers (Raft's
        /// "most entries" without Raft's vote check): a long stale log beats a short newer one.
        MergeLongestLog = "merge-longest-log" =>
            "a new leader takes the longest log of its voters, whatever their committers: \
                breaks OnlyMaxCommitterLogs",
        /// CommitEntry counts any quorum that holds the entry at that index, whatever its members'
        /// committers: the note's "safe once on a quorum" read literally.
        CommitIgnoresCommitter = "commit-ignores-committer" =>
            "an entry counts as safe once a quorum holds it, whatever their committers \
                (the note read literally): breaks OnlyMaxCommitterLogs",
        /// BecomeLeader: a voter votes for a candidate even after voting for a greater leader id.
        VoteIgnoresBallot = "vote-ignores-ballot" =>
            "a voter votes for a smaller leader id than its vote: breaks VotesOnlyGrow",
        /// LogForward: a server accepts entries from a leader smaller than the one it voted for.
        ForwardIgnoresVote = "forward-ignores-vote" =>
            "a server accepts entries from a leader smaller than its vote: breaks \
                VotesOnlyGrow",
        /// LogForward moves one entry per step (as MongoStaticRaft's GetEntries does), and the
        /// follower takes the leader as its committer at the first one: a server then has the
        /// greatest committer while missing entries its leader merged, and a quorum's max-committer
        /// logs miss a committed entry.
        ForwardOneEntry = "forward-one-entry" =>
            "a follower takes the leader as committer after one forwarded entry: breaks \
                OnlyMaxCommitterLogs",
    }
}

/// TRaft at given bounds, as a [`Spec`].
#[derive(Clone, Debug)]
pub struct Traft {
    servers: usize,
    max_term: u8,
    max_log_len: u8,
    mutation: Option<Mutation>,
}

impl Traft {
    /// The default number of servers.
    pub const DEFAULT_SERVERS: usize = 3;
    /// The default `MaxTerm`.
    pub const DEFAULT_MAX_TERM: usize = 2;
    /// The default `MaxLogLen`.
    pub const DEFAULT_MAX_LOG_LEN: usize = 2;

    /// The spec with `servers` servers, every vote's term at most `max_term` and every log at
    /// most `max_log_len` long; fails on bounds the state encoding cannot hold.
    pub fn new(servers: usize, max_term: usize, max_log_len: usize) -> Result<Self, ParamsError> {
        Self::from_params(&Params {
            servers: Some(servers),
            max_term: Some(max_term),
            max_log_len: Some(max_log_len),
            ..Params::default()
        })
    }

    /// The same spec with `mutation` in force.
    #[must_use = "with_mutation returns the mutated spec; check that one"]
    pub fn with_mutation(mut self, mutation: Mutation) -> Self {
        self.mutation = Some(mutation);
        self
    }

    /// The mutation in force, if any.
    pub fn mutation(&self) -> Option<Mutation> {
        self.mutation
    }
    /// The number of servers.
    pub fn servers(&self) -> usize {
        self.servers
    }
    /// `MaxTerm`.
    pub fn max_term(&self) -> usize {
        self.max_term as usize
    }
    /// `MaxLogLen`.
    pub fn max_log_len(&self) -> usize {
        self.max_log_len as usize
    }
}

impl Spec for Traft {
    type State = State;
    type Action = Action;

    /// [`State::read_itf`] at this model's number of servers.
    fn read_state(
        &self,
        value: &spec_core::itf::Value,
    ) -> Result<State, spec_core::itf::ReadError> {
        State::read_itf(value, self.servers)
    }

    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> Params {
        Params {
            servers: Some(self.servers),
            max_term: Some(self.max_term as usize),
            max_log_len: Some(self.max_log_len as usize),
            ..Params::default()
        }
    }

    fn action_names(&self) -> &'static [&'static str] {
        actions::ACTION_NAMES
    }

    /// One initial state: no votes, no committers, every server Secondary with an empty log.
    fn init_states(&self) -> Vec<State> {
        vec![State::initial(self.servers)]
    }

    fn next_states(&self, state: &State, out: &mut Vec<(Action, State)>) {
        actions::next(state, self.mutation, out);
    }

    fn invariants(&self) -> Vec<Invariant<Self>> {
        vec![
            Invariant {
                name: "OnePrimaryPerTerm",
                holds: |_, s| one_primary_per_term(s),
            },
            Invariant {
                name: "SameCommitterLogsAgree",
                holds: |_, s| same_committer_logs_agree(s),
            },
            Invariant {
                name: "OnlyMaxCommitterLogs",
                holds: |_, s| only_max_committer_logs(s),
            },
            Invariant {
                name: "LogMatching",
                holds: |_, s| log_matching(s),
            },
            Invariant {
                name: "LeaderCompleteness",
                holds: |_, s| leader_completeness(s),
            },
            Invariant {
                name: "StateMachineSafety",
                holds: |_, s| state_machine_safety(s),
            },
        ]
    }

    fn action_properties(&self) -> Vec<ActionProperty<Self>> {
        vec![
            ActionProperty {
                name: "LeaderAppendOnly",
                holds: |_, pre, _, next| leader_append_only(pre, next),
            },
            ActionProperty {
                name: "VotesOnlyGrow",
                holds: |_, pre, _, next| votes_only_grow(pre, next),
            },
        ]
    }

    /// Every vote's term at most MaxTerm, every log at most MaxLogLen entries.
    fn within_constraint(&self, state: &State) -> bool {
        state.server_ids().all(|s| {
            state.voted_for[s].term() <= self.max_term
                && state.log[s].len() <= self.max_log_len as usize
        })
    }
}

impl Layer for Traft {
    const NAME: &'static str = "traft";
    const DESCRIPTION: &'static str = "TRaft (merge-log)";
    const PARAMETERS: &'static [Parameter] = &[
        Parameter::new(
            Bound::Servers,
            Self::DEFAULT_SERVERS,
            (1, MAX_SERVERS),
            "per-server arrays hold 5 servers",
        ),
        Parameter::new(
            Bound::MaxTerm,
            Self::DEFAULT_MAX_TERM,
            (0, MAX_TERM),
            "the committed masks hold authors of terms 1..=5",
        ),
        Parameter::new(
            Bound::MaxLogLen,
            Self::DEFAULT_MAX_LOG_LEN,
            (0, MAX_COMMITTED_INDEX),
            "logs hold MaxLogLen + 1 <= 6 entries",
        ),
    ];

    fn from_params(params: &Params) -> Result<Self, ParamsError> {
        let [servers, max_term, max_log_len] = params.resolve::<3>(Self::NAME, Self::PARAMETERS)?;
        Ok(Traft {
            servers,
            max_term: max_term as u8,
            max_log_len: max_log_len as u8,
            mutation: None,
        })
    }
}

#[cfg(test)]
mod tests {
    /// Every reachable state of the default model reads back from the ITF it writes; bad
    /// values are errors that name the variable.
    #[test]
    fn states_read_back_from_their_itf() {
        let spec = Traft::new(3, 2, 2).unwrap();
        let states = spec_core::reachable_states(&spec, usize::MAX);
        // The checker's 25,796 distinct states, and the successors just outside the constraint.
        let inside = states.iter().filter(|s| spec.within_constraint(s)).count();
        assert_eq!((inside, states.len()), (25_796, 120_927));
        for s in &states {
            let value = serde_json::to_value(s).unwrap();
            assert_eq!(spec.read_state(&value).as_ref(), Ok(s), "{value}");
        }
        let mut bad = serde_json::to_value(states[0]).unwrap();
        bad["votedFor"]["#map"][0][1] = serde_json::json!({"#tup": [1, "None"]});
        assert_eq!(
            spec.read_state(&bad).unwrap_err().to_string(),
            "variable votedFor: at n1: leader id <<1, None>> names no server"
        );
    }

    /// Every action of the default model prints and parses back: one per successor generated
    /// (TLC's 293,679 counts the one initial state too).
    #[test]
    fn actions_parse_back() {
        let spec = Traft::new(3, 2, 2).unwrap();
        let checked = spec_core::action_text::check_round_trips(&spec, usize::MAX)
            .unwrap()
            .actions;
        assert_eq!(checked, 293_679 - 1);
    }

    use super::*;
    use spec_core::ServerSet;
    use std::collections::HashSet;

    #[test]
    fn bounds_are_validated() {
        assert!(Traft::new(6, 2, 2).is_err());
        assert!(Traft::new(3, 6, 2).is_err());
        assert!(Traft::new(3, 2, 6).is_err());
        let e = Traft::from_params(&Params {
            values: Some(2),
            ..Params::default()
        })
        .unwrap_err();
        assert!(matches!(e, ParamsError::Unused { .. }), "{e}");
        let spec = Traft::from_params(&Params::default()).unwrap();
        assert_eq!(
            (spec.servers(), spec.max_term(), spec.max_log_len()),
            (3, 2, 2)
        );
    }

    /// The states of `spec` within its constraint.
    fn reachable(spec: &Traft) -> Vec<State> {
        let mut seen: HashSet<State> = spec.init_states().into_iter().collect();
        let mut states: Vec<State> = seen.iter().copied().collect();
        let mut k = 0;
        let mut next = Vec::new();
        while k < states.len() {
            next.clear();
            spec.next_states(&states[k], &mut next);
            for (_, t) in &next {
                if spec.within_constraint(t) && seen.insert(*t) {
                    states.push(*t);
                }
            }
            k += 1;
        }
        states
    }

    /// The merge takes one voter's log ([`actions::merge_source`]): on every reachable state
    /// and quorum, that log is the merge by definition, index by index over every voter with
    /// the greatest committer ([`actions::merged_log`]).
    #[test]
    fn the_merge_source_holds_the_merge_by_definition() {
        let spec = Traft::new(3, 2, 2).unwrap();
        let states = reachable(&spec);
        for s in &states {
            for q in ServerSet::all(3).quorums() {
                let from = actions::merge_source(s, q, None);
                assert_eq!(s.log[from], actions::merged_log(s, q), "{q:?} in {s:?}");
            }
        }
        assert!(states.len() > 10_000, "{}", states.len());
    }

    #[test]
    fn serializes_with_tla_variable_names() {
        let mut s = State::initial(2);
        s.voted_for = [Ballot::new(1, 0); MAX_SERVERS];
        s.committer[0] = Ballot::new(1, 0);
        s.state[0] = Role::Primary;
        s.log[0].push(Ballot::new(1, 0).0);
        s.committed = s.committed.with(1, Ballot::new(1, 0), Ballot::new(1, 0));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            concat!(
                r##"{"votedFor":{"#map":[["n1",{"#tup":[1,"n1"]}],["n2",{"#tup":[1,"n1"]}]]},"##,
                r##""committer":{"#map":[["n1",{"#tup":[1,"n1"]}],["n2",{"#tup":[0,"None"]}]]},"##,
                r##""state":{"#map":[["n1","Primary"],["n2","Secondary"]]},"##,
                r##""log":{"#map":[["n1",[{"#tup":[1,"n1"]}]],["n2",[]]]},"##,
                r##""committed":{"#set":[{"#tup":[1,{"#tup":[1,"n1"]}]}]},"##,
                r##""committedBy":{"#map":[[1,{"#tup":[1,"n1"]}]]}}"##
            )
        );
    }

    #[test]
    fn mutation_names_round_trip() {
        for m in Mutation::ALL {
            assert_eq!(Mutation::from_name(m.name()), Some(m));
        }
        assert_eq!(Mutation::from_name("none"), None);
    }

    #[test]
    fn action_display_names_the_merge_source() {
        let a = Action::BecomeLeader {
            i: 0,
            vote_quorum: ServerSet(0b101),
            merge_from: 2,
        };
        assert_eq!(a.to_string(), "BecomeLeader(n1, {n1, n3}, from n3)");
        assert_eq!(
            Action::LogForward { i: 1, j: 0 }.to_string(),
            "LogForward(n2, n1)"
        );
    }
}
