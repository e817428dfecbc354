//! AsyncReconfig: MongoRaftReconfig with asynchronous elections and guards that read history.
//!
//! The level between `raft-reconfig` (synchronous: one step reads several servers' current
//! variables) and `message-raft` (nodes that only exchange messages). Every action is one
//! server's step. Where MongoRaftReconfig reads another server's current variables, this level
//! reads a *fact* that was true of that server at some earlier time, kept in history variables
//! ([`state::History`]): the information a message sent then would still carry when it
//! arrives. The elections are split as messages split them: StartElection (term + 1, a vote for
//! itself), GrantVote (a voter adopts the candidate's term and records its vote), BecomeLeader
//! (from votes recorded in the candidate's term).
//!
//! What it is for: the level message-raft refines step by step
//! (`message_raft::ToAsyncReconfig`), which raft-reconfig itself is not (message-raft's README
//! shows the seven obligations that break); raft-reconfig refines it too
//! ([`FromRaftReconfig`]: every synchronous step is one of its steps), so it is a
//! generalization of MongoRaftReconfig; and it reaches the abstract log on its own
//! ([`CommittedAreChosen`]), because its safety does not follow from raft-reconfig's. See the
//! README for the design and the counterexamples that forced it.
//!
//! What it is not: a protocol to implement (the history is a proof device; message-raft is the
//! implementation), or a checker (that is `refinement-tests`).

pub mod actions;
pub mod refinement;
pub mod state;
pub mod symmetry;

pub use actions::{Action, ACTION_NAMES};
pub use refinement::{CommittedAreChosen, FromRaftReconfig, WithHistory};
pub use state::{History, State};

use raft_reconfig::ServerSet;
use spec_core::{Bound, Invariant, Layer, Parameter, Params, ParamsError, Spec};

spec_core::mutations! {
    /// A planted bug: one guard weakened (or, for the last two, made too strong), for the
    /// tests to find.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Mutation {
        /// GrantVote without CanVoteForOplog's log check.
        GrantIgnoresLog = "async-grant-ignores-log" =>
            "GrantVote without the log check (CanVoteForOplog)",
        /// CommitEntry counts the servers that hold the entry now, in any term, instead of
        /// those that held it while in the primary's term (raft-reconfig's guard without its
        /// term conjunct: the "too weak" reading of a stale report).
        CommitCountsCurrentHolders = "async-commit-counts-current-holders" =>
            "CommitEntry counts servers holding the entry now, in any term, not those that \
                held it in the primary's term",
        /// Reconfig without OplogCommitment.
        ReconfigSkipsOplogCommitment = "async-reconfig-skips-oplog-commitment" =>
            "Reconfig without OplogCommitment",
        /// Too strong, as message-raft's node judges it: ConfigQuorumCheck and
        /// TermQuorumCheck only from acknowledgements (one quorum whose members held the
        /// config while in the term), without raft-reconfig's checks on the current state,
        /// each with its own quorum.
        AcknowledgementsOnly = "async-acknowledgements-only" =>
            "too strong: Reconfig's config and term checks only from acknowledgements, not \
                raft-reconfig's independent quorums",
        /// Too strong: OplogCommitment asks for an entry committed in the primary's term (or
        /// an empty log), where raft-reconfig also accepts a state in which nothing is
        /// committed.
        OplogCommitmentNeedsTermCommit = "async-oplog-commitment-needs-term-commit" =>
            "too strong: OplogCommitment without raft-reconfig's 'nothing committed' case",
    }
}

/// Which configs the cluster may start with, a bound of this layer's own (and message-raft's):
/// `--initial-configs 0`, every node in the config of all servers (a new replica set, the
/// default), or `1`, one initial state per nonempty config, as MongoRaftReconfig's `Init`. The
/// classic reconfiguration bugs need two reconfigs from a small config, four from all servers.
pub const INITIAL_CONFIGS: Bound = Bound::Named("--initial-configs");

/// The declaration of [`INITIAL_CONFIGS`], shared by the layers that take it.
pub const INITIAL_CONFIGS_PARAMETER: Parameter = Parameter::new(
    INITIAL_CONFIGS,
    0,
    (0, 1),
    "0: every node starts in the config of all servers; 1: one initial state per nonempty \
     config, as MongoRaftReconfig's Init",
);

/// Which configs the cluster may start with ([`INITIAL_CONFIGS`]), for this layer and for
/// message-raft, whose edge up starts async-reconfig from the same ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InitialConfigs {
    /// Every node starts with the config of all servers: a new replica set (the default).
    #[default]
    AllServers,
    /// One initial state per nonempty config shared by all nodes, as MongoRaftReconfig's
    /// `Init`: a cluster that starts small reaches the classic reconfiguration bugs with two
    /// reconfigs instead of four.
    EveryNonempty,
}

impl InitialConfigs {
    /// The configs at `servers` servers, one initial state each.
    pub fn configs(self, servers: usize) -> Vec<ServerSet> {
        let all = ServerSet::all(servers);
        match self {
            InitialConfigs::AllServers => vec![all],
            InitialConfigs::EveryNonempty => all.subsets().filter(|c| !c.is_empty()).collect(),
        }
    }

    /// From the value of `--initial-configs`, which [`Params::resolve`] has kept in `0..=1`.
    pub fn from_bound(value: usize) -> InitialConfigs {
        if value == 1 {
            InitialConfigs::EveryNonempty
        } else {
            InitialConfigs::AllServers
        }
    }

    /// Writes `--initial-configs` into `params`, only when it is not the default, so that the
    /// default model's bounds read (and its checkpoints compare) as they did before the bound
    /// existed.
    pub fn write(self, params: &mut Params) {
        if self == InitialConfigs::EveryNonempty {
            params.set(INITIAL_CONFIGS, 1);
        }
    }
}

/// AsyncReconfig at given bounds: `servers` servers and the state constraint `currentTerm <=
/// max_term`, `Len(log) <= max_log_len`, `configVersion <= max_config_version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsyncReconfig {
    servers: usize,
    max_log_len: u8,
    max_term: u8,
    max_config_version: u8,
    mutation: Option<Mutation>,
    initial_configs: InitialConfigs,
}

impl AsyncReconfig {
    /// The default number of servers.
    pub const DEFAULT_SERVERS: usize = 3;
    /// The default `MaxLogLen`.
    pub const DEFAULT_MAX_LOG_LEN: usize = 1;
    /// The default `MaxTerm`: two terms, the least that reaches RollbackEntries (at MaxTerm 1
    /// a chain row would be vacuous); 26,355,886 generated, 2,038,473 distinct, depth 21.
    pub const DEFAULT_MAX_TERM: usize = 2;
    /// The default `MaxConfigVersion` (1: with 2 as well, the row takes minutes).
    pub const DEFAULT_MAX_CONFIG_VERSION: usize = 1;

    /// The spec at these bounds; fails on bounds the history cannot hold.
    pub fn new(
        servers: usize,
        max_log_len: usize,
        max_term: usize,
        max_config_version: usize,
    ) -> Result<AsyncReconfig, ParamsError> {
        AsyncReconfig::from_params(&Params {
            servers: Some(servers),
            max_log_len: Some(max_log_len),
            max_term: Some(max_term),
            max_config_version: Some(max_config_version),
            ..Params::default()
        })
    }

    /// The same spec with `mutation` in force.
    #[must_use = "with_mutation returns the mutated spec; check that one"]
    pub fn with_mutation(mut self, mutation: Mutation) -> AsyncReconfig {
        self.mutation = Some(mutation);
        self
    }

    /// The same spec with other initial configs (the default is one initial state, every
    /// server in the config of all servers, as message-raft's).
    #[must_use = "with_initial_configs returns the spec; check that one"]
    pub fn with_initial_configs(mut self, initial_configs: InitialConfigs) -> AsyncReconfig {
        self.initial_configs = initial_configs;
        self
    }

    /// The configs the cluster may start with (`--initial-configs`).
    pub fn initial_configs(&self) -> InitialConfigs {
        self.initial_configs
    }

    /// The mutation in force, if any.
    pub fn mutation(&self) -> Option<Mutation> {
        self.mutation
    }

    /// The number of servers.
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

impl Spec for AsyncReconfig {
    type State = State;
    type Action = Action;

    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn params(&self) -> Params {
        let mut params = Params {
            servers: Some(self.servers),
            max_log_len: Some(self.max_log_len()),
            max_term: Some(self.max_term()),
            max_config_version: Some(self.max_config_version()),
            ..Params::default()
        };
        self.initial_configs.write(&mut params);
        params
    }

    fn action_names(&self) -> &'static [&'static str] {
        ACTION_NAMES
    }

    fn init_states(&self) -> Vec<State> {
        self.initial_configs
            .configs(self.servers)
            .into_iter()
            .map(|c| State::initial(self.servers, c))
            .collect()
    }

    fn next_states(&self, state: &State, out: &mut Vec<(Action, State)>) {
        actions::next(state, self.mutation, out);
    }

    fn step(&self, state: &State, action: &Action) -> Option<State> {
        actions::step(state, *action, self.mutation)
    }

    /// The four safety properties of the issue, then PrimaryConfigTermEqualToCurrentTerm and
    /// VotesAreUnique.
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
                name: "VotesAreUnique",
                holds: |_, s| state::votes_are_unique(s),
            },
        ]
    }

    fn within_constraint(&self, state: &State) -> bool {
        raft_reconfig::state_constraint(
            &state.core,
            self.max_term,
            self.max_log_len,
            self.max_config_version,
        )
    }

    /// Renaming servers is an exact symmetry (see [`symmetry`]).
    fn has_symmetry(&self) -> bool {
        true
    }

    fn canonical(&self, state: &State) -> State {
        symmetry::canonical(state)
    }
}

impl Layer for AsyncReconfig {
    const NAME: &'static str = "async-reconfig";
    const DESCRIPTION: &'static str =
        "MongoRaftReconfig with asynchronous elections and guards that read history";
    const PARAMETERS: &'static [Parameter] = &[
        Parameter::new(
            Bound::Servers,
            Self::DEFAULT_SERVERS,
            (1, state::MAX_SERVERS),
            "per-server arrays hold 5 servers",
        ),
        Parameter::new(
            Bound::MaxLogLen,
            Self::DEFAULT_MAX_LOG_LEN,
            (0, state::INDEXES - 2),
            "the history holds indexes 1..=6 and successors reach MaxLogLen + 1",
        ),
        Parameter::new(
            Bound::MaxTerm,
            Self::DEFAULT_MAX_TERM,
            (0, state::TERMS - 2),
            "the history holds terms 0..=6 and successors reach MaxTerm + 1",
        ),
        Parameter::new(
            Bound::MaxConfigVersion,
            Self::DEFAULT_MAX_CONFIG_VERSION,
            (1, state::VERSIONS - 2),
            "the history holds versions 1..=7 and successors reach MaxConfigVersion + 1",
        ),
        INITIAL_CONFIGS_PARAMETER,
    ];

    /// Defaults: 3 servers, `MaxLogLen` 1, `MaxTerm` 2, `MaxConfigVersion` 1, the one initial
    /// config of all servers.
    fn from_params(params: &Params) -> Result<Self, ParamsError> {
        let [servers, max_log_len, max_term, max_config_version, initial_configs] =
            params.resolve::<5>(Self::NAME, Self::PARAMETERS)?;
        Ok(AsyncReconfig {
            servers,
            max_log_len: max_log_len as u8,
            max_term: max_term as u8,
            max_config_version: max_config_version as u8,
            mutation: None,
            initial_configs: InitialConfigs::from_bound(initial_configs),
        })
    }
}
