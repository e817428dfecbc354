//! The node core: MongoRaftReconfig as one node sees it.
//!
//! A node knows only its own variables and the messages it receives. Everything the
//! synchronous spec reads across servers in one step (a quorum's votes, a sync source's log, a
//! quorum's terms and configs) it learns here from messages, one at a time, and may have learned
//! it some time ago. The functions of this module are that node's logic as pure functions: each
//! takes the node's state and one input (a message from a peer, a timer firing, a client write,
//! a reconfig request), changes the state, and returns an [`Output`]: the messages to send, and
//! which durable variables changed and must reach stable storage before any of them is sent.
//! There is no IO, no clock and no thread here: a runtime drives these functions over a real
//! network and disk, and the spec of this crate drives them over a model of one, unchanged.
//!
//! # The inputs, beside the MongoRaftReconfig actions they implement
//!
//! | input | handler | MongoRaftReconfig |
//! |---|---|---|
//! | any message with a newer term | [`observe_term`] | `UpdateTerms(sender, me)` |
//! | [`Timer::Election`] | the node stands: term + 1, votes for itself, asks its config | (part of) `BecomeLeader` |
//! | [`Message::RequestVote`] | the voter's half of `CanVoteForOplog` and `CanVoteForConfig`, once per term | (part of) `BecomeLeader` |
//! | [`Message::VoteGranted`] | the candidate collects votes; a quorum of its config makes it Primary, its config stamped with its term | `BecomeLeader(me, votes)` |
//! | [`Timer::Pull`] | a secondary asks a sync source for what follows its last entry, reporting its position | — |
//! | [`Message::PullEntries`] | the sync source answers with the next entry or a rollback; a primary records the position | — |
//! | [`Message::Entries`] | the secondary appends the entry if its log still ends where it asked from | `GetEntries(me, source)` |
//! | [`Message::Rollback`] | the secondary drops its last entry if its log still ends there | `RollbackEntries(me, source)` |
//! | (a recorded position completes a quorum) | the primary advances its commit point to its last entry | `CommitEntry(me, Q)` |
//! | [`Timer::Heartbeat`] | a primary sends its term and config to a peer | — |
//! | [`Message::Heartbeat`] | a non-primary adopts a newer config; the reply acknowledges the config held | `SendConfig(sender, me)` |
//! | [`Message::HeartbeatReply`] | the primary counts who holds its config in its term | — |
//! | [`on_client_write`] | the primary appends an entry of its term | `ClientRequest(me)` |
//! | [`on_reconfig`] | `OplogCommitment`, `ConfigQuorumCheck`, `TermQuorumCheck` judged from the acknowledgements received, then the new config | `Reconfig(me, new)` |
//!
//! # Durable and volatile
//!
//! `term`, `voted_for`, `log` and the config (members, version, term) are durable: a restarted
//! node has them back. The role, the votes collected, the positions and acknowledgements a
//! primary recorded, and its commit point are volatile: a restarted node is a Secondary that
//! knows nothing of its peers. [`Output::persist`] names the durable variables an input changed;
//! a runtime writes them before it sends the messages (a vote sent before it is on disk can be
//! granted twice after a crash).
//!
//! Log entries are identified by their (index, term), as in the Mongo specs; a runtime attaches
//! the client's payload to the entry it appends, which the protocol never looks at.

use std::fmt;

use serde::{Deserialize, Serialize};
use spec_core::ServerSet;

use crate::repr::{Compact, EntryLog, Num, Repr};

/// The most servers a cluster has (the per-node arrays have this many slots).
pub const MAX_SERVERS: usize = 5;

/// `voted_for` when the node has not voted in its current term.
pub const NOBODY: u8 = u8::MAX;

/// The role of a node. A Candidate is a Secondary to MongoRaftReconfig: a node between standing
/// for election and winning or giving up.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[repr(u8)]
pub enum NodeRole {
    /// Replicates from others; may vote.
    #[default]
    Secondary = 0,
    /// Has stood for election in its term and collects votes.
    Candidate = 1,
    /// Won the election of its term: takes writes and reconfigs.
    Primary = 2,
}

impl NodeRole {
    /// The name, as the state prints it.
    pub fn name(self) -> &'static str {
        match self {
            NodeRole::Secondary => "Secondary",
            NodeRole::Candidate => "Candidate",
            NodeRole::Primary => "Primary",
        }
    }
}

/// A deliberate bug in the node logic, for checking that the spec's invariants and mappings
/// catch it. Each drops one check a reviewer would ask about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutation {
    /// A voter grants its vote without comparing logs (CanVoteForOplog's log check).
    VoteIgnoresLog,
    /// A voter grants a second vote in a term it already voted in.
    SecondVoteInTerm,
    /// A candidate counts a vote granted in an older term of its own.
    StaleVoteAccepted,
    /// A primary counts a commit on a quorum of the config it was elected in, not of its
    /// current config.
    CommitOnOlderConfig,
    /// A primary reconfigures without the oplog commitment condition.
    ReconfigSkipsOplogCommitment,
    /// A secondary applies an Entries or Rollback reply without checking that its log still
    /// ends where it asked from: a duplicated or late reply is applied twice.
    ReplySkipsPositionCheck,
    /// A restart loses the vote of the current term (it was not made durable).
    RestartForgetsVote,
    /// A restart loses the current term (and so the vote).
    RestartForgetsTerm,
}

impl Mutation {
    /// Every mutation.
    pub const ALL: [Mutation; 8] = [
        Mutation::VoteIgnoresLog,
        Mutation::SecondVoteInTerm,
        Mutation::StaleVoteAccepted,
        Mutation::CommitOnOlderConfig,
        Mutation::ReconfigSkipsOplogCommitment,
        Mutation::ReplySkipsPositionCheck,
        Mutation::RestartForgetsVote,
        Mutation::RestartForgetsTerm,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Mutation::VoteIgnoresLog => "msg-vote-ignores-log",
            Mutation::SecondVoteInTerm => "msg-second-vote-in-term",
            Mutation::StaleVoteAccepted => "msg-stale-vote-accepted",
            Mutation::CommitOnOlderConfig => "msg-commit-on-older-config",
            Mutation::ReconfigSkipsOplogCommitment => "msg-reconfig-skips-oplog-commitment",
            Mutation::ReplySkipsPositionCheck => "msg-reply-skips-position-check",
            Mutation::RestartForgetsVote => "msg-restart-forgets-vote",
            Mutation::RestartForgetsTerm => "msg-restart-forgets-term",
        }
    }

    /// The mutation of that name.
    pub fn from_name(name: &str) -> Option<Mutation> {
        Mutation::ALL.into_iter().find(|m| m.name() == name)
    }

    /// What it breaks.
    pub fn what(self) -> &'static str {
        match self {
            Mutation::VoteIgnoresLog => "a voter grants its vote without the log check",
            Mutation::SecondVoteInTerm => "a voter grants a second vote in one term",
            Mutation::StaleVoteAccepted => {
                "a candidate counts a vote granted in one of its older terms"
            }
            Mutation::CommitOnOlderConfig => {
                "a primary commits on a quorum of the config it was elected in, not of its current one"
            }
            Mutation::ReconfigSkipsOplogCommitment => {
                "a primary reconfigures without the oplog commitment condition"
            }
            Mutation::ReplySkipsPositionCheck => {
                "a secondary applies an entries or rollback reply without checking that its log still ends where it asked from (a duplicate is applied twice)"
            }
            Mutation::RestartForgetsVote => "a restart loses the vote of the current term",
            Mutation::RestartForgetsTerm => "a restart loses the current term and the vote",
        }
    }
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a node needs to know besides its state: who it is, the cluster's size, and the bug it
/// runs with, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// This node's id, `0..servers`.
    pub me: usize,
    /// The number of servers.
    pub servers: usize,
    /// A planted bug, or `None`.
    pub mutation: Option<Mutation>,
}

impl Rules {
    fn buggy(&self, m: Mutation) -> bool {
        self.mutation == Some(m)
    }
}

/// One node's variables, in representation `R` ([`Compact`] for the spec, a
/// [`crate::repr::Wide`] one for a runtime).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodeState<R: Repr = Compact> {
    /// `currentTerm` (durable).
    pub term: R::Num,
    /// The node it voted for in `term`, or [`NOBODY`] (durable).
    pub voted_for: u8,
    /// `log`: each entry's term (and, in a runtime, its payload) (durable).
    pub log: R::Log,
    /// `config` (durable).
    pub config: ServerSet,
    /// `configVersion` (durable).
    pub config_version: R::Num,
    /// `configTerm` (durable).
    pub config_term: R::Num,
    /// `state`, with Candidate between standing and winning (volatile).
    pub role: NodeRole,
    /// A candidate's votes in `term`, itself included (volatile).
    pub votes: ServerSet,
    /// A primary's record, per server, of the longest prefix of its own log that server
    /// reported holding while in the primary's term (volatile).
    pub matched: R::PerServer,
    /// A primary's record of the servers that acknowledged, in its term, the config it holds
    /// (its version and term): who passes ConfigQuorumCheck and TermQuorumCheck (volatile).
    pub acked: ServerSet,
    /// A primary's commit point: the index of the last entry it committed in its term, 0 if
    /// none (volatile).
    pub commit_index: R::Num,
    /// The config a primary was elected in, kept only under [`Mutation::CommitOnOlderConfig`]
    /// (empty otherwise, so that it adds no state to the correct protocol) (volatile).
    pub elected_config: ServerSet,
}

impl<R: Repr> NodeState<R> {
    /// A node of a new cluster: term 0, no vote, empty log, Secondary, the initial config at
    /// version 1 and config term 0.
    pub fn initial(config: ServerSet) -> NodeState<R> {
        NodeState {
            term: R::Num::default(),
            voted_for: NOBODY,
            log: R::Log::default(),
            config,
            config_version: R::Num::from_usize(1),
            config_term: R::Num::default(),
            role: NodeRole::Secondary,
            votes: ServerSet::EMPTY,
            matched: R::PerServer::default(),
            acked: ServerSet::EMPTY,
            commit_index: R::Num::default(),
            elected_config: ServerSet::EMPTY,
        }
    }

    /// The config's identity, ordered as `NewerConfig` orders configs: term, then version.
    pub fn config_id(&self) -> (R::Num, R::Num) {
        (self.config_term, self.config_version)
    }

    /// `(Len(log), LastTerm(log))`.
    pub fn last_position(&self) -> (R::Num, R::Num) {
        (R::Num::from_usize(self.log.len()), self.log.last_term())
    }

    /// Whether the log holds an entry of `term` at `index` (index 0: the empty prefix).
    pub fn holds(&self, index: R::Num, term: R::Num) -> bool {
        index.index() == 0 || self.log.term_at(index.index()) == Some(term)
    }

    /// The durable variables only: what a restart gives back.
    pub fn durable(&self) -> Durable<R> {
        Durable {
            term: self.term,
            voted_for: self.voted_for,
            log: self.log.clone(),
            config: (self.config, self.config_version, self.config_term),
        }
    }

    /// A cheap token of the durable variables: equal before and after an input exactly when
    /// (for [`Compact`]) or at least when (for a runtime's log, whose token counts changes)
    /// they are unchanged.
    fn durable_mark(&self) -> DurableMark<R> {
        DurableMark {
            term: self.term,
            voted_for: self.voted_for,
            log: self.log.mark(),
            config: (self.config, self.config_version, self.config_term),
        }
    }

    /// The node after a crash and restart: its durable variables, and a Secondary that knows
    /// nothing of its peers. The two restart mutations lose a durable variable.
    pub fn restarted(&self, rules: &Rules) -> NodeState<R> {
        let mut node = NodeState::initial(self.config);
        node.term = self.term;
        node.voted_for = self.voted_for;
        node.log = self.log.clone();
        node.config_version = self.config_version;
        node.config_term = self.config_term;
        if rules.buggy(Mutation::RestartForgetsVote) {
            node.voted_for = NOBODY;
        }
        if rules.buggy(Mutation::RestartForgetsTerm) {
            node.term = R::Num::default();
            node.voted_for = NOBODY;
        }
        node
    }

    /// A node restarted from what a runtime recovered from its storage: these durable
    /// variables, and a Secondary that knows nothing of its peers.
    pub fn recovered(durable: Durable<R>) -> NodeState<R> {
        let (config, config_version, config_term) = durable.config;
        let mut node = NodeState::initial(config);
        node.term = durable.term;
        node.voted_for = durable.voted_for;
        node.log = durable.log;
        node.config_version = config_version;
        node.config_term = config_term;
        node
    }
}

#[derive(PartialEq, Eq)]
struct DurableMark<R: Repr> {
    term: R::Num,
    voted_for: u8,
    log: <R::Log as EntryLog<R::Num, R::Payload>>::Mark,
    config: (ServerSet, R::Num, R::Num),
}

/// The durable variables of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Durable<R: Repr = Compact> {
    /// `term`.
    pub term: R::Num,
    /// `voted_for`.
    pub voted_for: u8,
    /// `log`.
    pub log: R::Log,
    /// members, version, term.
    pub config: (ServerSet, R::Num, R::Num),
}

/// A message between two nodes. Every message carries its sender's term at sending time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Message<R: Repr = Compact> {
    /// A candidate asks for a vote in `term`, with its last entry and its config's identity:
    /// what the voter needs for CanVoteForOplog and CanVoteForConfig.
    RequestVote {
        /// The candidate's (new) term.
        term: R::Num,
        /// `Len(log)` of the candidate.
        last_index: R::Num,
        /// `LastTerm(log)` of the candidate.
        last_term: R::Num,
        /// The candidate's config version.
        config_version: R::Num,
        /// The candidate's config term.
        config_term: R::Num,
    },
    /// The voter's vote for the receiver in `term`.
    VoteGranted {
        /// The term of the vote.
        term: R::Num,
    },
    /// A refusal that carries news: the voter's term is newer than the candidate's.
    VoteDenied {
        /// The voter's term.
        term: R::Num,
    },
    /// A secondary asks its sync source for the entry after its last one, reporting where its
    /// log ends (MongoDB's oplog query, with the position report piggybacked).
    PullEntries {
        /// The secondary's term.
        term: R::Num,
        /// `Len(log)`.
        last_index: R::Num,
        /// `LastTerm(log)`.
        last_term: R::Num,
    },
    /// The sync source's entry after `prev_index`, where its log holds `prev_term`.
    Entries {
        /// The sync source's term.
        term: R::Num,
        /// The requester's `Len(log)` when it asked.
        prev_index: R::Num,
        /// The requester's `LastTerm(log)` when it asked.
        prev_term: R::Num,
        /// The term of the sync source's entry at `prev_index + 1`.
        entry_term: R::Num,
        /// Its payload (`()` in the spec).
        payload: R::Payload,
    },
    /// The sync source's log does not hold the requester's last entry and ends in a newer
    /// term: the requester must drop that entry.
    Rollback {
        /// The sync source's term.
        term: R::Num,
        /// The requester's `Len(log)` when it asked.
        last_index: R::Num,
        /// The requester's `LastTerm(log)` when it asked.
        last_term: R::Num,
    },
    /// The sender's term and config (MongoDB's heartbeat, which carries configs).
    Heartbeat {
        /// The sender's term.
        term: R::Num,
        /// The sender's config (on the wire: its bitmask).
        #[serde(with = "members_as_bits")]
        config: ServerSet,
        /// Its version.
        config_version: R::Num,
        /// Its term.
        config_term: R::Num,
    },
    /// The reply to a heartbeat: the replier's term and the identity of the config it holds.
    HeartbeatReply {
        /// The replier's term.
        term: R::Num,
        /// Its config version.
        config_version: R::Num,
        /// Its config term.
        config_term: R::Num,
    },
}

/// A config as its bitmask, for serde (a [`ServerSet`] serializes as an ITF set, and does not
/// deserialize).
mod members_as_bits {
    use serde::{Deserialize, Deserializer, Serializer};
    use spec_core::ServerSet;

    pub fn serialize<S: Serializer>(set: &ServerSet, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(set.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ServerSet, D::Error> {
        u16::deserialize(d).map(ServerSet)
    }
}

/// The message kinds' names, in the order of [`Message::kind`].
pub const MESSAGE_KINDS: [&str; 8] = [
    "RequestVote",
    "VoteGranted",
    "VoteDenied",
    "PullEntries",
    "Entries",
    "Rollback",
    "Heartbeat",
    "HeartbeatReply",
];

impl<R: Repr> Message<R> {
    /// The sender's term.
    pub fn term(&self) -> R::Num {
        match *self {
            Message::RequestVote { term, .. }
            | Message::VoteGranted { term }
            | Message::VoteDenied { term }
            | Message::PullEntries { term, .. }
            | Message::Entries { term, .. }
            | Message::Rollback { term, .. }
            | Message::Heartbeat { term, .. }
            | Message::HeartbeatReply { term, .. } => term,
        }
    }

    /// The kind's index in [`MESSAGE_KINDS`].
    pub fn kind(&self) -> usize {
        match self {
            Message::RequestVote { .. } => 0,
            Message::VoteGranted { .. } => 1,
            Message::VoteDenied { .. } => 2,
            Message::PullEntries { .. } => 3,
            Message::Entries { .. } => 4,
            Message::Rollback { .. } => 5,
            Message::Heartbeat { .. } => 6,
            Message::HeartbeatReply { .. } => 7,
        }
    }

    /// The kind's name.
    pub fn name(&self) -> &'static str {
        MESSAGE_KINDS[self.kind()]
    }

    /// The numbers the message carries after its kind, in declaration order (a heartbeat's
    /// config is printed apart), as its text shows them.
    fn numbers(&self) -> Vec<R::Num> {
        match *self {
            Message::RequestVote {
                term,
                last_index,
                last_term,
                config_version,
                config_term,
            } => vec![term, last_index, last_term, config_version, config_term],
            Message::VoteGranted { term } | Message::VoteDenied { term } => vec![term],
            Message::PullEntries {
                term,
                last_index,
                last_term,
            }
            | Message::Rollback {
                term,
                last_index,
                last_term,
            } => vec![term, last_index, last_term],
            Message::Entries {
                term,
                prev_index,
                prev_term,
                entry_term,
                ..
            } => vec![term, prev_index, prev_term, entry_term],
            Message::Heartbeat {
                term,
                config_version,
                config_term,
                ..
            } => vec![term, config_version, config_term],
            Message::HeartbeatReply {
                term,
                config_version,
                config_term,
            } => vec![term, config_version, config_term],
        }
    }
}

impl Message<Compact> {
    /// The message as 5 bytes after its kind: the fields in declaration order, zero-padded (a
    /// config takes the byte of its bitmask: clusters have at most 5 servers).
    pub fn fields(self) -> [u8; 5] {
        match self {
            Message::RequestVote {
                term,
                last_index,
                last_term,
                config_version,
                config_term,
            } => [term, last_index, last_term, config_version, config_term],
            Message::VoteGranted { term } | Message::VoteDenied { term } => [term, 0, 0, 0, 0],
            Message::PullEntries {
                term,
                last_index,
                last_term,
            }
            | Message::Rollback {
                term,
                last_index,
                last_term,
            } => [term, last_index, last_term, 0, 0],
            Message::Entries {
                term,
                prev_index,
                prev_term,
                entry_term,
                payload: (),
            } => [term, prev_index, prev_term, entry_term, 0],
            Message::Heartbeat {
                term,
                config,
                config_version,
                config_term,
            } => [term, config.0 as u8, config_version, config_term, 0],
            Message::HeartbeatReply {
                term,
                config_version,
                config_term,
            } => [term, config_version, config_term, 0, 0],
        }
    }

    /// The inverse of ([`Message::kind`], [`Message::fields`]).
    pub fn from_fields(kind: usize, f: [u8; 5]) -> Option<Message> {
        Some(match kind {
            0 => Message::RequestVote {
                term: f[0],
                last_index: f[1],
                last_term: f[2],
                config_version: f[3],
                config_term: f[4],
            },
            1 => Message::VoteGranted { term: f[0] },
            2 => Message::VoteDenied { term: f[0] },
            3 => Message::PullEntries {
                term: f[0],
                last_index: f[1],
                last_term: f[2],
            },
            4 => Message::Entries {
                term: f[0],
                prev_index: f[1],
                prev_term: f[2],
                entry_term: f[3],
                payload: (),
            },
            5 => Message::Rollback {
                term: f[0],
                last_index: f[1],
                last_term: f[2],
            },
            6 => Message::Heartbeat {
                term: f[0],
                config: ServerSet(f[1] as u16),
                config_version: f[2],
                config_term: f[3],
            },
            7 => Message::HeartbeatReply {
                term: f[0],
                config_version: f[1],
                config_term: f[2],
            },
            _ => return None,
        })
    }
}

impl<R: Repr> fmt::Display for Message<R> {
    /// `Name(n, ...)`, or `Heartbeat(term T, {members} vV tC)`; a payload is not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Message::Heartbeat {
                term,
                config,
                config_version,
                config_term,
            } => {
                let members: Vec<String> = config.iter().map(spec_core::itf::server_name).collect();
                write!(
                    f,
                    "Heartbeat(term {term}, {{{}}} v{config_version} t{config_term})",
                    members.join(", ")
                )
            }
            ref m => {
                let shown: Vec<String> = m.numbers().iter().map(|n| n.to_string()).collect();
                write!(f, "{}({})", m.name(), shown.join(", "))
            }
        }
    }
}

/// Which durable variables an input changed: they must be on stable storage before the
/// input's messages are sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Persist {
    /// `term` or `voted_for` changed.
    pub term_and_vote: bool,
    /// `log` changed.
    pub log: bool,
    /// The config changed.
    pub config: bool,
}

impl Persist {
    /// What changed between two versions of a node's durable variables.
    pub fn between<R: Repr>(before: &Durable<R>, after: &Durable<R>) -> Persist {
        Persist {
            term_and_vote: before.term != after.term || before.voted_for != after.voted_for,
            log: before.log != after.log,
            config: before.config != after.config,
        }
    }

    fn between_marks<R: Repr>(before: &DurableMark<R>, after: &DurableMark<R>) -> Persist {
        Persist {
            term_and_vote: before.term != after.term || before.voted_for != after.voted_for,
            log: before.log != after.log,
            config: before.config != after.config,
        }
    }

    /// Whether nothing needs writing.
    pub fn is_empty(&self) -> bool {
        !(self.term_and_vote || self.log || self.config)
    }
}

/// The most messages one input sends (a candidate asks every other member of its config).
pub const MAX_SENDS: usize = MAX_SERVERS - 1;

/// What an input produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output<R: Repr = Compact> {
    sends: R::Sends,
    count: u8,
    /// The durable variables to write before sending.
    pub persist: Persist,
    /// The entry (index, term) the node, a primary, has just committed, if any: a runtime
    /// acknowledges the client's write; the spec records it in its history variable
    /// `committed`.
    pub committed: Option<(R::Num, R::Num)>,
}

impl<R: Repr> Output<R> {
    fn send(&mut self, to: usize, message: Message<R>) {
        self.sends.as_mut()[self.count as usize] = Some((to as u8, message));
        self.count += 1;
    }

    /// The messages to send, each with its destination.
    pub fn sends(&self) -> impl Iterator<Item = (usize, &Message<R>)> + '_ {
        self.sends.as_ref()[..self.count as usize]
            .iter()
            .map(|slot| {
                let (to, m) = slot.as_ref().expect("a counted send has a message");
                (*to as usize, m)
            })
    }
}

/// Runs `input` on `node`, filling in [`Output::persist`] from what changed.
fn with_output<R: Repr>(
    node: &mut NodeState<R>,
    input: impl FnOnce(&mut NodeState<R>, &mut Output<R>),
) -> Output<R> {
    let before = node.durable_mark();
    let mut out = Output::default();
    input(node, &mut out);
    out.persist = Persist::between_marks(&before, &node.durable_mark());
    out
}

/// Whether `votes` holds a majority of `config`.
pub fn is_quorum(votes: ServerSet, config: ServerSet) -> bool {
    ServerSet(votes.0 & config.0).len() * 2 > config.len()
}

/// `QuorumsOverlap(x, y)`: every majority of `x` meets every majority of `y`.
pub fn quorums_overlap(x: ServerSet, y: ServerSet) -> bool {
    x.quorums().all(|qx| y.quorums().all(|qy| qx.0 & qy.0 != 0))
}

// ---------------------------------------------------------------------------------------------
// Terms
// ---------------------------------------------------------------------------------------------

/// Every message first: a newer term is adopted, and the node steps down to Secondary with no
/// vote in the new term (UpdateTerms).
pub fn observe_term<R: Repr>(node: &mut NodeState<R>, term: R::Num) {
    if term > node.term {
        node.term = term;
        node.voted_for = NOBODY;
        node.role = NodeRole::Secondary;
        node.votes = ServerSet::EMPTY;
        node.matched = R::PerServer::default();
        node.acked = ServerSet::EMPTY;
        node.commit_index = R::Num::default();
        node.elected_config = ServerSet::EMPTY;
    }
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// The node handles `message` from `from`.
pub fn on_message<R: Repr>(
    node: &mut NodeState<R>,
    rules: &Rules,
    from: usize,
    message: &Message<R>,
) -> Output<R> {
    with_output(node, |node, out| {
        observe_term(node, message.term());
        match *message {
            Message::RequestVote {
                term,
                last_index,
                last_term,
                config_version,
                config_term,
            } => on_request_vote(
                node,
                rules,
                out,
                from,
                term,
                (last_index, last_term),
                (config_term, config_version),
            ),
            Message::VoteGranted { term } => on_vote_granted(node, rules, from, term),
            Message::VoteDenied { .. } => {}
            Message::PullEntries {
                term,
                last_index,
                last_term,
            } => on_pull_entries(node, rules, out, from, term, (last_index, last_term)),
            Message::Entries {
                prev_index,
                prev_term,
                entry_term,
                ref payload,
                ..
            } => {
                let still_there =
                    node.log.len() == prev_index.index() && node.log.last_term() == prev_term;
                if node.role == NodeRole::Secondary
                    && (still_there || rules.buggy(Mutation::ReplySkipsPositionCheck))
                    && !node.log.is_full()
                {
                    node.log.push(entry_term, payload.clone());
                }
            }
            Message::Rollback {
                last_index,
                last_term: asked_term,
                ..
            } => {
                let still_there =
                    node.log.len() == last_index.index() && node.log.last_term() == asked_term;
                if node.role == NodeRole::Secondary
                    && (still_there || rules.buggy(Mutation::ReplySkipsPositionCheck))
                {
                    node.log.pop();
                }
            }
            Message::Heartbeat {
                config,
                config_version,
                config_term,
                ..
            } => {
                // SendConfig: a node that is not Primary adopts a newer config.
                if node.role != NodeRole::Primary
                    && (config_term, config_version) > node.config_id()
                {
                    node.config = config;
                    node.config_version = config_version;
                    node.config_term = config_term;
                }
                out.send(
                    from,
                    Message::HeartbeatReply {
                        term: node.term,
                        config_version: node.config_version,
                        config_term: node.config_term,
                    },
                );
            }
            Message::HeartbeatReply {
                term,
                config_version,
                config_term,
            } => {
                if node.role == NodeRole::Primary
                    && term == node.term
                    && (config_term, config_version) == node.config_id()
                {
                    node.acked = node.acked.with(from);
                }
            }
        }
    })
}

/// The voter's half of BecomeLeader: one vote per term, for a candidate whose log is at least as
/// up to date (CanVoteForOplog) and whose config is at least as new (CanVoteForConfig).
fn on_request_vote<R: Repr>(
    node: &mut NodeState<R>,
    rules: &Rules,
    out: &mut Output<R>,
    candidate: usize,
    term: R::Num,
    (last_index, last_term_of_candidate): (R::Num, R::Num),
    candidate_config: (R::Num, R::Num),
) {
    let (my_index, my_last_term) = node.last_position();
    let log_ok = last_term_of_candidate > my_last_term
        || (last_term_of_candidate == my_last_term && last_index >= my_index);
    let config_ok = candidate_config >= node.config_id();
    let not_voted = node.voted_for == NOBODY
        || node.voted_for == candidate as u8
        || rules.buggy(Mutation::SecondVoteInTerm);
    if term == node.term
        && node.role == NodeRole::Secondary
        && not_voted
        && (log_ok || rules.buggy(Mutation::VoteIgnoresLog))
        && config_ok
    {
        node.voted_for = candidate as u8;
        out.send(candidate, Message::VoteGranted { term });
    } else if node.term > term {
        out.send(candidate, Message::VoteDenied { term: node.term });
    }
}

/// The candidate's half of BecomeLeader: it collects the vote, and wins with a quorum of its
/// config.
fn on_vote_granted<R: Repr>(node: &mut NodeState<R>, rules: &Rules, voter: usize, term: R::Num) {
    let current =
        term == node.term || (rules.buggy(Mutation::StaleVoteAccepted) && term < node.term);
    if node.role == NodeRole::Candidate && current {
        node.votes = node.votes.with(voter);
        if is_quorum(node.votes, node.config) {
            become_primary(node, rules);
        }
    }
}

/// The candidate wins: it becomes Primary and stamps its config with its term (BecomeLeader's
/// `configTerm[i] = newTerm`, a durable change); what it learned as a candidate is forgotten.
fn become_primary<R: Repr>(node: &mut NodeState<R>, rules: &Rules) {
    node.role = NodeRole::Primary;
    node.config_term = node.term;
    node.votes = ServerSet::EMPTY;
    node.matched = R::PerServer::default();
    node.acked = ServerSet::single(rules.me);
    node.commit_index = R::Num::default();
    if rules.buggy(Mutation::CommitOnOlderConfig) {
        node.elected_config = node.config;
    }
}

/// The sync source's side of GetEntries and RollbackEntries; a primary also records the
/// requester's position, which may complete a commit quorum.
fn on_pull_entries<R: Repr>(
    node: &mut NodeState<R>,
    rules: &Rules,
    out: &mut Output<R>,
    from: usize,
    term: R::Num,
    (last_index, asked_term): (R::Num, R::Num),
) {
    let holds_theirs = node.holds(last_index, asked_term);
    if node.role == NodeRole::Primary && term == node.term && holds_theirs {
        let slot = &mut node.matched.as_mut()[from];
        *slot = (*slot).max(last_index);
        out.committed = try_commit(node, rules);
    }
    if holds_theirs && node.log.len() > last_index.index() {
        let next = last_index.index() + 1;
        let entry_term = node.log.term_at(next).expect("the log is longer");
        let payload = node.log.payload_at(next).expect("the log is longer");
        out.send(
            from,
            Message::Entries {
                term: node.term,
                prev_index: last_index,
                prev_term: asked_term,
                entry_term,
                payload,
            },
        );
    } else if !holds_theirs && node.log.last_term() > asked_term {
        out.send(
            from,
            Message::Rollback {
                term: node.term,
                last_index,
                last_term: asked_term,
            },
        );
    }
}

/// The servers a primary counts commits on: its config (the one it was elected in, under
/// [`Mutation::CommitOnOlderConfig`]).
fn commit_config<R: Repr>(node: &NodeState<R>, rules: &Rules) -> ServerSet {
    if rules.buggy(Mutation::CommitOnOlderConfig) {
        node.elected_config
    } else {
        node.config
    }
}

/// The servers known to hold the primary's log up to `index` in its term: those whose
/// recorded position reaches it, and the primary itself.
fn holders<R: Repr>(node: &NodeState<R>, rules: &Rules, index: R::Num) -> ServerSet {
    let mut set = ServerSet::single(rules.me);
    for (s, &matched) in node.matched.as_ref()[..rules.servers].iter().enumerate() {
        if matched >= index {
            set = set.with(s);
        }
    }
    set
}

/// CommitEntry: a primary whose last entry is of its term, and known to be held by a quorum of
/// its config, commits it (once).
fn try_commit<R: Repr>(node: &mut NodeState<R>, rules: &Rules) -> Option<(R::Num, R::Num)> {
    let (last_index, last) = node.last_position();
    let config = commit_config(node, rules);
    let ready = node.role == NodeRole::Primary
        && last_index > node.commit_index
        && last == node.term
        && is_quorum(holders(node, rules, last_index), config);
    ready.then(|| {
        node.commit_index = last_index;
        (last_index, last)
    })
}

// ---------------------------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------------------------

/// A timer of a node, with the peer it concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Timer {
    /// The election timeout: the node stands for election.
    Election,
    /// The heartbeat to one peer.
    Heartbeat {
        /// The peer.
        to: usize,
    },
    /// A secondary's oplog fetch from its chosen sync source.
    Pull {
        /// The sync source.
        from: usize,
    },
}

/// Whether `timer` does anything at `node` (a timer that does nothing is not a step).
pub fn timer_enabled<R: Repr>(node: &NodeState<R>, rules: &Rules, timer: Timer) -> bool {
    match timer {
        Timer::Election => node.role != NodeRole::Primary && node.config.contains(rules.me),
        // Only a primary heartbeats: it is the node that needs acknowledgements, and the one
        // whose config is newest among its voters. (MongoDB's nodes all heartbeat each other;
        // the spec keeps the primary's, which carry every config change and every term a
        // primary reached, and leaves term news to the other messages: a smaller state space
        // for the same safety questions.)
        Timer::Heartbeat { to } => {
            node.role == NodeRole::Primary && to != rules.me && to < rules.servers
        }
        Timer::Pull { from } => {
            from != rules.me && from < rules.servers && node.role == NodeRole::Secondary
        }
    }
}

/// The node's `timer` fires. Nothing happens if it is not enabled ([`timer_enabled`]).
pub fn on_timer<R: Repr>(node: &mut NodeState<R>, rules: &Rules, timer: Timer) -> Output<R> {
    with_output(node, |node, out| {
        if !timer_enabled(node, rules, timer) {
            return;
        }
        match timer {
            Timer::Election => {
                // Stand in the next term: a durable vote for itself, then ask the config.
                node.term = node.term.succ();
                node.voted_for = rules.me as u8;
                node.role = NodeRole::Candidate;
                node.votes = ServerSet::single(rules.me);
                node.matched = R::PerServer::default();
                node.acked = ServerSet::EMPTY;
                node.commit_index = R::Num::default();
                if is_quorum(node.votes, node.config) {
                    become_primary(node, rules);
                    return;
                }
                let (last_index, last_term) = node.last_position();
                for peer in node.config.iter().filter(|&p| p != rules.me) {
                    out.send(
                        peer,
                        Message::RequestVote {
                            term: node.term,
                            last_index,
                            last_term,
                            config_version: node.config_version,
                            config_term: node.config_term,
                        },
                    );
                }
            }
            Timer::Heartbeat { to } => out.send(
                to,
                Message::Heartbeat {
                    term: node.term,
                    config: node.config,
                    config_version: node.config_version,
                    config_term: node.config_term,
                },
            ),
            Timer::Pull { from } => {
                let (last_index, last_term) = node.last_position();
                out.send(
                    from,
                    Message::PullEntries {
                        term: node.term,
                        last_index,
                        last_term,
                    },
                );
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Client requests
// ---------------------------------------------------------------------------------------------

/// Whether a client write is taken (the node is Primary, and the representation holds one more
/// entry: always, in a runtime's).
pub fn client_write_enabled<R: Repr>(node: &NodeState<R>, _rules: &Rules) -> bool {
    node.role == NodeRole::Primary && !node.log.is_full()
}

/// ClientRequest: a primary appends an entry of its term, carrying `payload` (a one-node
/// config commits it at once). Refused (no change) elsewhere.
pub fn on_client_write<R: Repr>(
    node: &mut NodeState<R>,
    rules: &Rules,
    payload: R::Payload,
) -> Output<R> {
    with_output(node, |node, out| {
        if client_write_enabled(node, rules) {
            node.log.push(node.term, payload);
            out.committed = try_commit(node, rules);
        }
    })
}

/// `OplogCommitment`, judged from what the primary learned: it has committed an entry of its
/// term (or its log is empty, so that by LeaderCompleteness nothing is committed anywhere), and
/// a quorum of its current config is known to hold its log up to that entry in its term.
pub fn oplog_commitment<R: Repr>(node: &NodeState<R>, rules: &Rules) -> bool {
    if rules.buggy(Mutation::ReconfigSkipsOplogCommitment) {
        return true;
    }
    let committed_in_term = node.commit_index.index() > 0
        && node.log.term_at(node.commit_index.index()) == Some(node.term);
    (node.log.is_empty() || committed_in_term)
        && is_quorum(holders(node, rules, node.commit_index), node.config)
}

/// `ConfigQuorumCheck /\ TermQuorumCheck`, judged from what the primary learned: a quorum of its
/// config acknowledged, in its term, the config it holds.
pub fn config_and_term_quorum_check<R: Repr>(node: &NodeState<R>, _rules: &Rules) -> bool {
    is_quorum(node.acked, node.config)
}

/// Whether `on_reconfig(new_config)` is accepted.
pub fn reconfig_enabled<R: Repr>(
    node: &NodeState<R>,
    rules: &Rules,
    new_config: ServerSet,
) -> bool {
    node.role == NodeRole::Primary
        && new_config.contains(rules.me)
        && new_config.is_subset(ServerSet::all(rules.servers))
        && quorums_overlap(node.config, new_config)
        && config_and_term_quorum_check(node, rules)
        && oplog_commitment(node, rules)
}

/// Reconfig: a primary installs `new_config` at the next version, in its term. Refused (no
/// change) unless [`reconfig_enabled`].
pub fn on_reconfig<R: Repr>(
    node: &mut NodeState<R>,
    rules: &Rules,
    new_config: ServerSet,
) -> Output<R> {
    with_output(node, |node, _| {
        if reconfig_enabled(node, rules, new_config) {
            node.config = new_config;
            node.config_version = node.config_version.succ();
            node.config_term = node.term;
            node.acked = ServerSet::single(rules.me);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(me: usize) -> Rules {
        Rules {
            me,
            servers: 3,
            mutation: None,
        }
    }

    #[test]
    fn an_election_by_messages() {
        let all = ServerSet::all(3);
        let (mut n1, mut n2): (NodeState, NodeState) =
            (NodeState::initial(all), NodeState::initial(all));
        let out = on_timer(&mut n1, &rules(0), Timer::Election);
        assert!(out.persist.term_and_vote && !out.persist.log);
        let requests: Vec<_> = out.sends().map(|(to, m)| (to, *m)).collect();
        assert_eq!(requests.len(), 2);
        let (to, request) = requests[0];
        assert_eq!(to, 1);
        let reply = on_message(&mut n2, &rules(1), 0, &request);
        assert!(
            reply.persist.term_and_vote,
            "the vote is durable before it is sent"
        );
        let (_, &granted) = reply.sends().next().unwrap();
        assert_eq!(granted, Message::VoteGranted { term: 1 });
        on_message(&mut n1, &rules(0), 1, &granted);
        assert_eq!(n1.role, NodeRole::Primary);
        assert_eq!(n1.config_term, 1);
        // A second request in the same term from another candidate is refused.
        let again = on_message(
            &mut n2,
            &rules(1),
            2,
            &Message::RequestVote {
                term: 1,
                last_index: 0,
                last_term: 0,
                config_version: 1,
                config_term: 0,
            },
        );
        assert_eq!(again.sends().count(), 0);
    }

    #[test]
    fn messages_round_trip_through_their_fields() {
        let messages = [
            Message::RequestVote {
                term: 2,
                last_index: 1,
                last_term: 1,
                config_version: 3,
                config_term: 2,
            },
            Message::VoteGranted { term: 1 },
            Message::VoteDenied { term: 3 },
            Message::PullEntries {
                term: 1,
                last_index: 2,
                last_term: 1,
            },
            Message::Entries {
                term: 1,
                prev_index: 1,
                prev_term: 1,
                entry_term: 2,
                payload: (),
            },
            Message::Rollback {
                term: 2,
                last_index: 1,
                last_term: 1,
            },
            Message::Heartbeat {
                term: 1,
                config: ServerSet(0b101),
                config_version: 2,
                config_term: 1,
            },
            Message::HeartbeatReply {
                term: 1,
                config_version: 2,
                config_term: 1,
            },
        ];
        for m in messages {
            assert_eq!(Message::from_fields(m.kind(), m.fields()), Some(m));
        }
    }

    #[test]
    fn restart_keeps_only_durable_variables() {
        let mut node: NodeState = NodeState::initial(ServerSet::all(3));
        node.term = 2;
        node.voted_for = 1;
        node.role = NodeRole::Primary;
        node.log.push(2);
        node.acked = ServerSet(0b11);
        let after = node.restarted(&rules(0));
        assert_eq!(after.durable(), node.durable());
        assert_eq!(
            (after.role, after.acked),
            (NodeRole::Secondary, ServerSet::EMPTY)
        );
        let forgetful = Rules {
            mutation: Some(Mutation::RestartForgetsVote),
            ..rules(0)
        };
        assert_eq!(node.restarted(&forgetful).voted_for, NOBODY);
    }

    #[test]
    fn mutation_names_round_trip() {
        for m in Mutation::ALL {
            assert_eq!(Mutation::from_name(m.name()), Some(m));
        }
    }
}
