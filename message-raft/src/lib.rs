//! MongoRaftReconfig as nodes that only exchange messages.
//!
//! Every level above this one is synchronous: one step of MongoRaftReconfig reads several
//! servers at once (BecomeLeader checks a whole quorum's votes, GetEntries reads the sync
//! source's log in place, CommitEntry and Reconfig inspect a quorum's logs, terms and
//! configs). Real nodes cannot. This crate is the level below, in two parts that share one code
//! path:
//!
//! - [`node`], the *node core*: one node's logic as pure functions over its own variables
//!   (`on_message`, `on_timer`, `on_client_write`, `on_reconfig`), each returning the messages
//!   to send and the durable variables to write first. No IO, no clock, no async, no checker:
//!   a runtime drives it unchanged.
//! - [`MessageRaft`], the *spec*: a [`spec_core::Spec`] whose state is every node's variables,
//!   the messages in flight (a bounded multiset) and the history variable `committed`, and
//!   whose steps are single-node steps that call the node core: a node handles one delivered
//!   message, a timer fires, a client write or a reconfig reaches a node; and the faults: a
//!   message is lost, duplicated (bounded), a node restarts with its durable variables only
//!   (bounded).
//!
//! Both are generic over a [`repr::Repr`]: the spec runs on [`Compact`] (the small, packed
//! encoding the model checker explores), a runtime on [`Wide`] (`u64` numbers, logs of
//! payloads with no cap, up to 16 nodes), through the same handlers and the same
//! [`actions::step`].
//!
//! [`refinement`] maps it up: to log-abstract (committed entries are chosen), and the direct
//! mapping to raft-reconfig that the checker refutes (see the crate README for the
//! counterexamples and what they say about the path up).
//!
//! ```
//! use message_raft::MessageRaft;
//! use spec_core::Spec;
//!
//! let spec = MessageRaft::new(3, 1, 1, 1, 2, 0, 0).unwrap();
//! let init = spec.init_states();
//! let mut successors = Vec::new();
//! spec.next_states(&init[0], &mut successors);
//! // Each node may stand for election, or pull from either peer; nothing else is enabled.
//! assert_eq!(successors.len(), 3 * 3);
//! ```

pub mod actions;
pub mod node;
pub mod refinement;
pub mod repr;
pub mod state;
mod symmetry;

pub use actions::{Action, ACTION_NAMES};
pub use async_reconfig::InitialConfigs;
pub use node::{Durable, Message, Mutation, NodeRole, NodeState, Output, Rules, Timer};
pub use refinement::{CommittedAreChosen, ToRaftReconfig};
pub use repr::{Compact, Repr, Wide, WideLog};
pub use state::{Envelope, Network, State};

use spec_core::{Bound, Invariant, Layer, Parameter, Params, ParamsError, Spec};

use crate::node::MAX_SERVERS;
use crate::state::MAX_MESSAGES_BOUND;

/// The spec of a cluster of message-passing MongoRaftReconfig nodes, with its bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageRaft {
    servers: usize,
    max_log_len: u8,
    max_term: u8,
    max_config_version: u8,
    max_messages: u8,
    restarts: u8,
    duplicates: u8,
    initial_configs: InitialConfigs,
    mutation: Option<Mutation>,
}

impl MessageRaft {
    /// Default number of servers.
    pub const DEFAULT_SERVERS: usize = 3;
    /// Default `MaxLogLen`.
    pub const DEFAULT_MAX_LOG_LEN: usize = 1;
    /// Default `MaxTerm`.
    pub const DEFAULT_MAX_TERM: usize = 2;
    /// Default `MaxConfigVersion`.
    pub const DEFAULT_MAX_CONFIG_VERSION: usize = 1;
    /// Default `MaxMessages`.
    pub const DEFAULT_MAX_MESSAGES: usize = 2;
    /// Default restart budget.
    pub const DEFAULT_RESTARTS: usize = 1;
    /// Default duplication budget.
    pub const DEFAULT_DUPLICATES: usize = 1;

    /// The spec with these bounds, or why they are out of range.
    pub fn new(
        servers: usize,
        max_log_len: usize,
        max_term: usize,
        max_config_version: usize,
        max_messages: usize,
        restarts: usize,
        duplicates: usize,
    ) -> Result<MessageRaft, ParamsError> {
        MessageRaft::from_params(&Params {
            servers: Some(servers),
            max_log_len: Some(max_log_len),
            max_term: Some(max_term),
            max_config_version: Some(max_config_version),
            max_messages: Some(max_messages),
            restarts: Some(restarts),
            duplicates: Some(duplicates),
            ..Params::default()
        })
    }

    /// The same spec with a planted bug in the node core.
    #[must_use = "with_mutation returns the mutated spec; check it"]
    pub fn with_mutation(self, mutation: Mutation) -> MessageRaft {
        MessageRaft {
            mutation: Some(mutation),
            ..self
        }
    }

    /// The same spec with other initial configs.
    #[must_use = "with_initial_configs returns the changed spec; check it"]
    pub fn with_initial_configs(self, initial_configs: InitialConfigs) -> MessageRaft {
        MessageRaft {
            initial_configs,
            ..self
        }
    }

    /// The planted bug, if any.
    pub fn mutation(&self) -> Option<Mutation> {
        self.mutation
    }

    /// The configs the cluster may start with (`--initial-configs`).
    pub fn initial_configs(&self) -> InitialConfigs {
        self.initial_configs
    }

    /// Number of servers.
    pub fn servers(&self) -> usize {
        self.servers
    }
    /// `MaxLogLen`.
    pub fn max_log_len(&self) -> usize {
        self.max_log_len as usize
    }
    /// `MaxTerm`.
    pub fn max_term(&self) -> usize {
        self.max_term as usize
    }
    /// `MaxConfigVersion`.
    pub fn max_config_version(&self) -> usize {
        self.max_config_version as usize
    }
}

impl Spec for MessageRaft {
    type State = State;
    type Action = Action;

    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> Params {
        let mut params = Params {
            servers: Some(self.servers),
            max_log_len: Some(self.max_log_len as usize),
            max_term: Some(self.max_term as usize),
            max_config_version: Some(self.max_config_version as usize),
            max_messages: Some(self.max_messages as usize),
            restarts: Some(self.restarts as usize),
            duplicates: Some(self.duplicates as usize),
            ..Params::default()
        };
        self.initial_configs.write(&mut params);
        params
    }

    /// Every action, but a fault whose budget is zero: it is not part of the model then (a
    /// row that never restarts is not vacuous for never restarting).
    fn action_names(&self) -> &'static [&'static str] {
        actions::action_names(self.restarts > 0, self.duplicates > 0)
    }

    /// Every node in term 0, Secondary, with an empty log and the initial config (all servers,
    /// or one state per nonempty config: see [`InitialConfigs`]); nothing in flight; the whole
    /// fault budgets.
    fn init_states(&self) -> Vec<State> {
        self.initial_configs
            .configs(self.servers)
            .into_iter()
            .map(|config| State::initial(self.servers, config, self.restarts, self.duplicates))
            .collect()
    }

    fn next_states(&self, state: &State, out: &mut Vec<(Action, State)>) {
        actions::next(state, self.mutation, out);
    }

    /// MongoRaftReconfig's OnePrimaryPerTerm, LogMatching, LeaderCompleteness and
    /// StateMachineSafety; PrimaryConfigTermEqualToCurrentTerm; and the message-level facts
    /// (see [`state`]).
    fn invariants(&self) -> Vec<Invariant<Self>> {
        vec![
            Invariant {
                name: "OnePrimaryPerTerm",
                holds: |_, s| state::one_primary_per_term(s),
            },
            Invariant {
                name: "LogMatching",
                holds: |_, s| state::log_matching(s),
            },
            Invariant {
                name: "LeaderCompleteness",
                holds: |_, s| state::leader_completeness(s),
            },
            Invariant {
                name: "StateMachineSafety",
                holds: |_, s| state::state_machine_safety(s),
            },
            Invariant {
                name: "PrimaryConfigTermEqualToCurrentTerm",
                holds: |_, s| state::primary_config_term_equal_to_current_term(s),
            },
            Invariant {
                name: "MessageTermsNotAhead",
                holds: |_, s| state::message_terms_not_ahead(s),
            },
            Invariant {
                name: "MessagesWellAddressed",
                holds: |_, s| state::messages_well_addressed(s),
            },
            Invariant {
                name: "VotesAreRecorded",
                holds: |_, s| state::votes_are_recorded(s),
            },
        ]
    }

    fn within_constraint(&self, state: &State) -> bool {
        state::within_bounds(
            state,
            self.max_term,
            self.max_log_len,
            self.max_config_version,
            self.max_messages,
        )
    }

    fn has_symmetry(&self) -> bool {
        true
    }

    fn canonical(&self, state: &State) -> State {
        symmetry::canonical(state)
    }
}

/// The node core's mutations, as a registry of layers reads them (the node module declares
/// them by hand, since it is shared with the runtime: `spec_core::mutations!` would write the
/// same).
impl spec_core::MutationSet for Mutation {
    fn all() -> &'static [Mutation] {
        &Mutation::ALL
    }
    fn name(self) -> &'static str {
        Mutation::name(self)
    }
    fn what(self) -> &'static str {
        Mutation::what(self)
    }
}

impl Layer for MessageRaft {
    const NAME: &'static str = "message-raft";
    const DESCRIPTION: &'static str = "MongoRaftReconfig by messages (node core + network)";
    /// Defaults: 3 servers, `MaxLogLen` 1, `MaxTerm` 2, `MaxConfigVersion` 1 (no reconfig), 2
    /// messages in flight, one restart, one duplication.
    const PARAMETERS: &'static [Parameter] = &[
        Parameter::new(
            Bound::Servers,
            Self::DEFAULT_SERVERS,
            (1, MAX_SERVERS),
            "per-node arrays hold 5 servers",
        ),
        Parameter::new(
            Bound::MaxLogLen,
            Self::DEFAULT_MAX_LOG_LEN,
            (0, 4),
            "the committed bitmask holds indexes 1..=5, and a successor's log may hold MaxLogLen + 1 entries",
        ),
        Parameter::new(
            Bound::MaxTerm,
            Self::DEFAULT_MAX_TERM,
            (0, 4),
            "the committed bitmask holds terms 1..=5, and an election reaches MaxTerm + 1",
        ),
        Parameter::new(
            Bound::MaxConfigVersion,
            Self::DEFAULT_MAX_CONFIG_VERSION,
            (1, 254),
            "config versions start at 1, are u8, and a reconfig reaches MaxConfigVersion + 1",
        ),
        Parameter::new(
            Bound::MaxMessages,
            Self::DEFAULT_MAX_MESSAGES,
            (1, MAX_MESSAGES_BOUND),
            "the network holds MaxMessages plus one broadcast and one duplicate, 17 messages",
        ),
        Parameter::new(
            Bound::Restarts,
            Self::DEFAULT_RESTARTS,
            (0, 9),
            "a budget beyond 9 restarts only multiplies states",
        ),
        Parameter::new(
            Bound::Duplicates,
            Self::DEFAULT_DUPLICATES,
            (0, 9),
            "a budget beyond 9 duplications only multiplies states",
        ),
        async_reconfig::INITIAL_CONFIGS_PARAMETER,
    ];

    fn from_params(params: &Params) -> Result<Self, ParamsError> {
        let [servers, max_log_len, max_term, max_config_version, max_messages, restarts, duplicates, initial_configs] =
            params.resolve::<8>(Self::NAME, Self::PARAMETERS)?;
        Ok(MessageRaft {
            servers,
            max_log_len: max_log_len as u8,
            max_term: max_term as u8,
            max_config_version: max_config_version as u8,
            max_messages: max_messages as u8,
            restarts: restarts as u8,
            duplicates: duplicates as u8,
            initial_configs: InitialConfigs::from_bound(initial_configs),
            mutation: None,
        })
    }
}

#[cfg(test)]
mod tests {
    /// Every action of the default model (its first 20,000 states) prints and parses back.
    #[test]
    fn actions_parse_back() {
        let spec = MessageRaft::from_params(&spec_core::Params::default()).unwrap();
        let checked = spec_core::action_text::check_round_trips(&spec, 20_000)
            .unwrap()
            .actions;
        assert!(checked > 20_000, "{checked}");
        let bad = "Deliver(n1 -> n2: Vote(2))".parse::<Action>().unwrap_err();
        assert!(bad.to_string().contains("no message Vote"), "{bad}");
        // A server past what a byte holds is refused, not wrapped to another server.
        let far = "Restart(n300)".parse::<Action>().unwrap_err();
        assert!(
            far.to_string()
                .ends_with("n300 is past the 256 servers an action names"),
            "{far}"
        );
    }

    use super::*;
    use std::collections::HashSet;

    /// The states reachable within the bounds, one per symmetry class, by a plain search.
    fn reachable(spec: &MessageRaft, limit: usize) -> Vec<State> {
        let mut seen: HashSet<State> = spec
            .init_states()
            .iter()
            .map(|s| spec.canonical(s))
            .collect();
        let mut frontier: Vec<State> = seen.iter().copied().collect();
        let mut succ = Vec::new();
        while let Some(s) = frontier.pop() {
            if seen.len() >= limit {
                break;
            }
            succ.clear();
            spec.next_states(&s, &mut succ);
            for (_, t) in &succ {
                let t = spec.canonical(t);
                if spec.within_constraint(&t) && seen.insert(t) {
                    frontier.push(t);
                }
            }
        }
        seen.into_iter().collect()
    }

    /// `Next` by definition: every binding of every action tried with [`actions::step`], each
    /// enabled step once (a message in flight twice is one delivery, one loss, one
    /// duplication).
    fn next_by_definition(spec: &MessageRaft, s: &State) -> HashSet<(Action, State)> {
        actions::every_binding(s)
            .into_iter()
            .filter_map(|a| actions::step(s, &a, spec.mutation()).map(|t| (a, t)))
            .collect()
    }

    #[test]
    fn next_yields_exactly_the_enabled_steps() {
        let plain = MessageRaft::new(3, 1, 2, 2, 3, 1, 1).unwrap();
        // The model on its first 20,000 states (from one initial state and from every one),
        // each mutation on its first 2,000: a mutation changes one handler, and the test's
        // cost is the enumeration by definition.
        let mut specs = vec![
            (plain, 20_000),
            (
                plain.with_initial_configs(InitialConfigs::EveryNonempty),
                20_000,
            ),
        ];
        specs.extend(Mutation::ALL.map(|m| (plain.with_mutation(m), 2_000)));
        for (spec, limit) in specs {
            for s in reachable(&spec, limit) {
                let mut fast = Vec::new();
                spec.next_states(&s, &mut fast);
                let as_set: HashSet<(Action, State)> = fast.iter().copied().collect();
                assert_eq!(as_set.len(), fast.len(), "no step twice: {s:?}");
                assert_eq!(as_set, next_by_definition(&spec, &s), "{s:?}");
            }
        }
    }

    #[test]
    fn every_step_is_one_node_or_the_network() {
        let spec = MessageRaft::new(3, 1, 2, 2, 3, 1, 1).unwrap();
        let mut succ = Vec::new();
        for s in reachable(&spec, 20_000) {
            succ.clear();
            spec.next_states(&s, &mut succ);
            for (a, t) in &succ {
                let changed: Vec<usize> = s
                    .server_ids()
                    .filter(|&i| s.nodes[i] != t.nodes[i])
                    .collect();
                match a {
                    Action::Lose { .. } | Action::Duplicate { .. } => assert!(changed.is_empty()),
                    Action::Deliver { message } => {
                        assert!(changed.iter().all(|&i| i == message.to as usize), "{a}")
                    }
                    Action::Fire { i, .. }
                    | Action::ClientWrite { i, .. }
                    | Action::Reconfig { i, .. }
                    | Action::Restart { i } => {
                        assert!(changed.iter().all(|&j| j == *i as usize), "{a}")
                    }
                }
            }
        }
    }

    #[test]
    fn the_initial_state_enables_elections_and_pulls() {
        let spec = MessageRaft::new(3, 1, 1, 1, 2, 0, 0).unwrap();
        let mut succ = Vec::new();
        spec.next_states(&spec.init_states()[0], &mut succ);
        let names: Vec<String> = succ.iter().map(|(a, _)| a.to_string()).collect();
        assert_eq!(
            names,
            [
                "ElectionTimeout(n1)",
                "PullTimeout(n1, n2)",
                "PullTimeout(n1, n3)",
                "ElectionTimeout(n2)",
                "PullTimeout(n2, n1)",
                "PullTimeout(n2, n3)",
                "ElectionTimeout(n3)",
                "PullTimeout(n3, n1)",
                "PullTimeout(n3, n2)",
            ]
        );
    }
}
