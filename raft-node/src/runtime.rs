//! The runtime: one tokio task per node, driving the message-raft node core.
//!
//! The task owns the node's variables ([`NodeState`] in the [`crate::NodeRepr`]
//! representation: `u64` terms and indexes, a log of payloads with no cap), its write-ahead
//! file and its end of the transport. Its loop waits for the first input (a message, a timer,
//! a client's write), takes every further message already waiting (up to a batch size), and
//! hands each to the node core's handler in order. Then it records each step, writes what the
//! batch changed in one group commit (one `fsync`), and only then sends the batch's
//! messages and acknowledges the writes it committed: no vote, position or acknowledgement
//! leaves the node before what it depends on is durable.
//!
//! Timers: the election timeout is drawn from the node's seeded generator in
//! `election_timeout_us` and restarts when the node stands, grants a vote, or hears a
//! heartbeat of its term; a primary heartbeats every peer each `heartbeat_us`; a secondary
//! pulls each `pull_us` from its sync source (the sender of the last heartbeat of its term, or
//! else the next peer in turn), and at once again after an entry arrives.
//!
//! Membership changes ([`Membership`], on the client queue): a primary judges one by the
//! core's conditions and hands it to [`node::on_reconfig`] (answered once a quorum of the new
//! config acknowledged it); asked to remove itself, which the core refuses, it steps down:
//! for one maximum election timeout no heartbeats, writes, reconfigs or candidacy.
//!
//! A membership change found queued behind a batch of client writes waits for that batch's
//! group commit and runs as the next batch (in queue order): it is not refused for being
//! behind writes, so a change is not starved by sustained load.
//!
//! Compaction: after a batch's messages have left, a node whose write-ahead file grew past
//! [`NodeOptions::wal_compact_bytes`] since its last snapshot replaces it with a snapshot of
//! what it holds ([`Wal::compact`]; with the service, the applied map too). A compaction
//! changes nothing durable and takes no step: it happens between two batches.
//!
//! A timer or a client write is handed to the core only when the core says it does something
//! ([`node::timer_enabled`], [`node::client_write_enabled`]): every recorded step is a step of
//! the spec.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use message_raft::node::{self, Rules};
use message_raft::{NodeRole, NodeState, Output, Timer};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, Instant};

use crate::kv::{Command, KvState};
use crate::record::{Input, LocalState, Recorder, Routed};
use crate::rng::Rng;
use crate::storage::{Persisted, Recovered, StorageError, Wal};
use crate::transport::{Received, Transport};
use crate::{NodeRepr, Payload};

/// A node's timing and identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeOptions {
    /// This node's id, `0..servers`.
    pub id: u8,
    /// The cluster's size.
    pub servers: usize,
    /// Election timeout range, microseconds.
    pub election_timeout_us: (u64, u64),
    /// Heartbeat interval, microseconds.
    pub heartbeat_us: u64,
    /// Pull interval, microseconds.
    pub pull_us: u64,
    /// Most messages handled in one batch (one group commit).
    pub max_batch: usize,
    /// Seed of the node's timers.
    pub seed: u64,
    /// A planted bug in the node core (for tests that the validation catches it), or `None`.
    pub mutation: Option<message_raft::Mutation>,
    /// The logical clock the node starts from (after a restart: past its last step's).
    pub start_clock: u64,
    /// A primary heartbeats its peers as soon as it appends a client's write, and a
    /// secondary pulls as soon as it hears a heartbeat of its term: a new entry reaches the
    /// secondaries without waiting for their pull timers (which find nothing to pull when
    /// they fire just before a write). Off in [`NodeOptions::new`] (the simulation runs on
    /// its timers alone); `serve` turns it on. Either way every step is a spec step: the
    /// runtime only chooses when the timers fire.
    pub heartbeat_on_write: bool,
    /// Compact the write-ahead file ([`Wal::compact`]) once the bytes appended since its last
    /// snapshot reach this many and the snapshot's own size (0: never). Default
    /// [`DEFAULT_WAL_COMPACT_BYTES`].
    pub wal_compact_bytes: u64,
}

/// The default of [`NodeOptions::wal_compact_bytes`]: 4 MiB appended since the last snapshot
/// (and at least the snapshot's size, so a compaction rewrites no more than was appended).
pub const DEFAULT_WAL_COMPACT_BYTES: u64 = 4 << 20;

impl NodeOptions {
    /// Defaults for node `id` of `servers`: elections after 150 to 300 ms, heartbeats every
    /// 50 ms, pulls every 20 ms, batches of 64.
    pub fn new(id: u8, servers: usize, seed: u64) -> NodeOptions {
        NodeOptions {
            id,
            servers,
            election_timeout_us: (150_000, 300_000),
            heartbeat_us: 50_000,
            pull_us: 20_000,
            max_batch: 64,
            seed,
            mutation: None,
            start_clock: 0,
            heartbeat_on_write: false,
            wal_compact_bytes: DEFAULT_WAL_COMPACT_BYTES,
        }
    }
}

/// A membership change: the new config is the primary's config with one node added or
/// removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Membership {
    /// Add node `id` (`0..servers`) to the config.
    Add(u8),
    /// Remove node `id` from the config.
    Remove(u8),
}

/// What a client's write came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteReply {
    /// Committed at this (index, term).
    Committed {
        /// Its index.
        index: u64,
        /// Its term.
        term: u64,
    },
    /// This node is not the primary (or is stepping down).
    NotPrimary,
    /// A membership change: the config the node holds now (members, version, term),
    /// installed and acknowledged by a quorum of it in the primary's term (or already so).
    Reconfigured {
        /// Members (bitmask).
        config: u16,
        /// Its version.
        version: u64,
        /// Its term.
        term: u64,
    },
    /// A membership change the node core refuses now, and why (the client may retry).
    Refused(String),
    /// The change removes the primary itself, which the core refuses (a config must contain
    /// the primary that installs it): the primary steps down instead (no heartbeats, no
    /// writes, no candidacy for a while), so that another node is elected and can remove it.
    SteppingDown,
}

/// A client's write request, or a membership change.
#[derive(Debug)]
pub struct WriteRequest {
    /// The command (ignored for a membership change).
    pub payload: Payload,
    /// Where the answer goes (dropped unanswered if the node loses its primacy first: the
    /// outcome is then unknown to the client).
    pub reply: oneshot::Sender<WriteReply>,
    /// A membership change instead of a write, if set.
    pub reconfig: Option<Membership>,
}

impl WriteRequest {
    /// A write of `payload`.
    pub fn write(payload: Payload, reply: oneshot::Sender<WriteReply>) -> WriteRequest {
        WriteRequest {
            payload,
            reply,
            reconfig: None,
        }
    }

    /// A membership change.
    pub fn reconfig(change: Membership, reply: oneshot::Sender<WriteReply>) -> WriteRequest {
        WriteRequest {
            payload: Payload::new(),
            reply,
            reconfig: Some(change),
        }
    }
}

/// What a primary does with a membership change request, judged by the node core's
/// conditions ([`node::reconfig_enabled`]) before it is handed to the core.
fn judge_reconfig(
    node: &NodeState<NodeRepr>,
    rules: &Rules,
    change: Membership,
) -> Result<spec_core::ServerSet, WriteReply> {
    if node.role != NodeRole::Primary {
        return Err(WriteReply::NotPrimary);
    }
    let (id, new) = match change {
        Membership::Add(id) => (id, node.config.with(id as usize)),
        Membership::Remove(id) => (
            id,
            spec_core::ServerSet(node.config.0 & !(1u16 << (id as u32 % 16))),
        ),
    };
    if id as usize >= rules.servers {
        return Err(WriteReply::Refused(format!(
            "n{} is not in the peer table (nodes n1..n{})",
            id as usize + 1,
            rules.servers
        )));
    }
    if new == node.config && !node::config_and_term_quorum_check(node, rules) {
        return Err(WriteReply::Refused(format!(
            "the config (version {}) is installed, not yet acknowledged by a quorum of it: retry",
            node.config_version
        )));
    }
    if new == node.config {
        return Err(WriteReply::Reconfigured {
            config: node.config.0,
            version: node.config_version,
            term: node.config_term,
        });
    }
    if !new.contains(rules.me) {
        return Err(WriteReply::SteppingDown);
    }
    if !node::config_and_term_quorum_check(node, rules) {
        return Err(WriteReply::Refused(format!(
            "the primary's config (version {}, term {}) is not yet acknowledged by a quorum of it in this term (ConfigQuorumCheck, TermQuorumCheck): retry",
            node.config_version, node.config_term
        )));
    }
    if !node::oplog_commitment(node, rules) {
        return Err(WriteReply::Refused(
            "no entry of the primary's term is known committed on a quorum of its config yet (OplogCommitment): retry".into(),
        ));
    }
    if !node::reconfig_enabled(node, rules, new) {
        return Err(WriteReply::Refused(format!(
            "the node core refuses the config {new:?} (its quorums must overlap the current config's)"
        )));
    }
    Ok(new)
}

/// How a node task ended.
#[derive(Debug)]
pub struct NodeReport {
    /// The node's variables at the end.
    pub state: NodeState<NodeRepr>,
    /// Steps taken.
    pub steps: u64,
    /// Group commits (`fsync`s) done.
    pub syncs: usize,
    /// Compactions of the write-ahead file done.
    pub compactions: usize,
    /// The logical clock of the last step.
    pub clock: u64,
}

/// What a node running the key-value service shows the layer above it (its client server).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceState {
    /// The applied map.
    pub kv: KvState,
    /// The node's role.
    pub role: NodeRole,
    /// Its term.
    pub term: u64,
    /// Its commit point (a primary's; 0 elsewhere).
    pub commit_index: u64,
    /// Its log's length.
    pub last_index: u64,
    /// The primary of its term, as far as it knows (the sender of the last heartbeat of its
    /// term, or itself).
    pub primary: Option<u8>,
    /// Why applying stopped, if it did.
    pub error: Option<String>,
    /// The config the node holds: members (bitmask), version, term.
    pub config: (u16, u64, u64),
    /// Whether the node is stepping down (asked to remove itself while primary).
    pub stepping_down: bool,
}

/// The key-value service around a node: its shared state, updated by the node task after
/// each batch's group commit and before the batch's writes are acknowledged.
#[derive(Clone, Debug, Default)]
pub struct Service {
    /// The state.
    pub shared: Arc<Mutex<ServiceState>>,
    /// Whether a node elected primary appends a [`Command::Noop`] at once (so that it commits
    /// an entry of its term, and with it every entry before, without waiting for a client).
    pub noop_on_election: bool,
    /// The transport's fault hook ([`crate::tcp::TcpTransport::fault_hook`]), if the client
    /// interface may set it (`serve --fault-hooks`: for fault tests only).
    pub cut: Option<Arc<std::sync::atomic::AtomicU16>>,
}

impl Service {
    /// A service whose map keeps its history (`history`) or not, with no-ops on election.
    pub fn new(keep_history: bool) -> Service {
        Service {
            shared: Arc::new(Mutex::new(ServiceState {
                kv: KvState {
                    keep_history,
                    ..KvState::default()
                },
                ..ServiceState::default()
            })),
            noop_on_election: true,
            cut: None,
        }
    }

    /// A copy of the state.
    pub fn snapshot(&self) -> ServiceState {
        self.shared.lock().expect("service lock").clone()
    }
}

/// Runs node `opts.id` until `until`: recovers from `recovered`, then drives the node core.
///
/// The transport and the client queue are borrowed: a node that stops at `until` (a crash, in
/// the simulation) leaves its undelivered messages and requests in them for its next run.
pub async fn run_node<T: Transport>(
    opts: NodeOptions,
    wal: Wal,
    recovered: Recovered,
    transport: &mut T,
    clients: &mut mpsc::Receiver<WriteRequest>,
    recorder: Recorder,
    until: Instant,
) -> Result<NodeReport, StorageError> {
    run_service(
        opts, wal, recovered, transport, clients, recorder, until, None,
    )
    .await
}

/// [`run_node`], with the key-value service: a node applies its log up to what it committed
/// (its commit point while primary, or what a step of the batch committed before a later step
/// of the batch deposed it) to `service`'s map (after the group commit, before acknowledging), and, with
/// [`Service::noop_on_election`], appends a [`Command::Noop`] when it becomes primary.
#[allow(clippy::too_many_arguments)]
pub async fn run_service<T: Transport>(
    opts: NodeOptions,
    mut wal: Wal,
    recovered: Recovered,
    transport: &mut T,
    clients: &mut mpsc::Receiver<WriteRequest>,
    recorder: Recorder,
    until: Instant,
    service: Option<Service>,
) -> Result<NodeReport, StorageError> {
    let rules = Rules {
        me: opts.id as usize,
        servers: opts.servers,
        mutation: opts.mutation,
    };
    let mut rng = Rng::new(opts.seed);
    let mut persisted = Persisted::of(&recovered.durable);
    if let (Some(service), Some(kv)) = (&service, recovered.applied) {
        // The snapshot's applied map: the service applies only the entries after it.
        let mut shared = service.shared.lock().expect("service lock");
        if kv.applied > shared.kv.applied {
            shared.kv.map = kv.map;
            shared.kv.applied = kv.applied;
            shared.kv.applied_term = kv.applied_term;
        }
    }
    let mut node: NodeState<NodeRepr> = NodeState::recovered(recovered.durable);
    let mut election_at = Instant::now() + election_timeout(&mut rng, &opts);
    let mut heartbeat_at = Instant::now();
    let mut pull_at = Instant::now() + Duration::from_micros(opts.pull_us);
    let mut sync_source: Option<u8> = None;
    let mut next_source = (opts.id as usize + 1) % opts.servers.max(1);
    let mut pending: Vec<(u64, u64, oneshot::Sender<WriteReply>)> = Vec::new();
    let mut steps = 0u64;
    let mut clients_open = true;
    let mut clock = opts.start_clock;
    // Set while the node steps down (asked to remove itself as primary): no heartbeats, no
    // writes, and no candidacy until then.
    let mut step_down_until: Option<Instant> = None;
    let mut reconfig_reply: Option<oneshot::Sender<WriteReply>> = None;
    // An installed config, (version, term), whose answer waits until a quorum of it has
    // acknowledged it (MongoDB's reconfig waits for its config to be majority-committed).
    let mut installed: Option<(u64, u64, oneshot::Sender<WriteReply>)> = None;
    // A membership change found queued behind a batch of writes: it runs once that batch is
    // durable, as the next batch.
    let mut deferred: Option<WriteRequest> = None;

    loop {
        if step_down_until.is_some_and(|t| Instant::now() >= t) {
            step_down_until = None;
        }
        let stepping_down = step_down_until.is_some();
        let primary = node.role == NodeRole::Primary;
        let secondary = node.role == NodeRole::Secondary;
        let mut batch: Vec<Input> = Vec::new();
        // The sending clock of each message of the batch, in order.
        let mut clocks: Vec<u64> = Vec::new();
        let mut write_replies: Vec<oneshot::Sender<WriteReply>> = Vec::new();
        let noop = service.as_ref().is_some_and(|s| s.noop_on_election)
            && primary
            && node.log.entries().last().map(|e| e.0) != Some(node.term)
            && node::client_write_enabled(&node, &rules);
        let mut request: Option<WriteRequest> = None;
        if noop {
            batch.push(Input::ClientWrite(Command::Noop.encode()));
        } else if deferred.is_some() {
            if Instant::now() >= until {
                break;
            }
            request = deferred.take();
        } else {
            tokio::select! {
                biased;
                _ = sleep_until(until) => break,
                m = transport.recv() => match m {
                    Some(Received { from, clock, message }) => {
                        batch.push(Input::Message { from, message });
                        clocks.push(clock);
                    }
                    None => break,
                },
                _ = sleep_until(election_at), if !primary && !stepping_down => {
                    batch.push(Input::Timer(Timer::Election));
                }
                _ = sleep_until(step_down_until.unwrap_or(until)), if stepping_down => {
                    step_down_until = None;
                    continue;
                }
                _ = sleep_until(heartbeat_at), if primary && !stepping_down => {
                    for to in (0..opts.servers).filter(|&p| p != rules.me) {
                        batch.push(Input::Timer(Timer::Heartbeat { to }));
                    }
                    heartbeat_at = Instant::now() + Duration::from_micros(opts.heartbeat_us);
                }
                _ = sleep_until(pull_at), if secondary => {
                    let from = match sync_source {
                        Some(s) => s as usize,
                        None => {
                            let s = next_source;
                            next_source = (next_source + 1) % opts.servers;
                            if next_source == rules.me {
                                next_source = (next_source + 1) % opts.servers;
                            }
                            s
                        }
                    };
                    batch.push(Input::Timer(Timer::Pull { from }));
                    pull_at = Instant::now() + Duration::from_micros(opts.pull_us);
                }
                req = clients.recv(), if clients_open => match req {
                    Some(req) => request = Some(req),
                    None => clients_open = false,
                },
            }
        }
        if let Some(req) = request {
            match req {
                WriteRequest {
                    reply,
                    reconfig: Some(change),
                    ..
                } => {
                    let judged = if stepping_down {
                        Err(WriteReply::NotPrimary)
                    } else {
                        judge_reconfig(&node, &rules, change)
                    };
                    match judged {
                        Ok(new) => {
                            batch.push(Input::Reconfig { config: new.0 });
                            reconfig_reply = Some(reply);
                        }
                        Err(WriteReply::SteppingDown) => {
                            let (_, hi) = opts.election_timeout_us;
                            step_down_until = Some(Instant::now() + Duration::from_micros(hi));
                            tracing::info!(target: "raft_node::reconfig", node = opts.id, "stepping down: asked to remove itself");
                            let _ = reply.send(WriteReply::SteppingDown);
                        }
                        Err(answer) => {
                            let _ = reply.send(answer);
                        }
                    }
                }
                WriteRequest { payload, reply, .. } => {
                    if node::client_write_enabled(&node, &rules) && !stepping_down {
                        // With the service, the writes already queued behind this one
                        // go into the same entry ([`Command::batch`]): one entry, one
                        // group commit, one pull per secondary for all of them.
                        let mut payloads = vec![payload];
                        write_replies.push(reply);
                        while service.is_some() && payloads.len() < opts.max_batch {
                            match clients.try_recv() {
                                Ok(WriteRequest {
                                    payload,
                                    reply,
                                    reconfig: None,
                                }) => {
                                    payloads.push(payload);
                                    write_replies.push(reply);
                                }
                                // A membership change is a step of its own: it waits
                                // for this batch's group commit and runs next.
                                Ok(change) => {
                                    deferred = Some(change);
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                        batch.push(Input::ClientWrite(Command::batch(payloads)));
                    } else {
                        let _ = reply.send(WriteReply::NotPrimary);
                    }
                }
            }
        }
        while batch.len() < opts.max_batch {
            match transport.try_recv() {
                Some(Received {
                    from,
                    clock,
                    message,
                }) => {
                    batch.push(Input::Message { from, message });
                    clocks.push(clock);
                }
                None => break,
            }
        }

        // Each input through the node core, in order.
        let mut done: Vec<(Input, Output<NodeRepr>, Option<LocalState>, u64)> = Vec::new();
        let mut message_clocks = clocks.into_iter();
        // With `heartbeat_on_write`, the steps a batch calls for at once (a primary's
        // heartbeats after it appends a write; a secondary's pull after an entry or a
        // heartbeat of its term) join the batch after its other inputs, and leave with its
        // messages after its group commit (no timer tick, no extra commit).
        let mut queue: std::collections::VecDeque<Input> = batch.into();
        let (mut heartbeat_now, mut pull_now) = (false, None::<usize>);
        loop {
            let input = match queue.pop_front() {
                Some(input) => input,
                None => {
                    if std::mem::take(&mut heartbeat_now) && node.role == NodeRole::Primary {
                        for to in (0..opts.servers).filter(|&p| p != rules.me) {
                            queue.push_back(Input::Timer(Timer::Heartbeat { to }));
                        }
                        heartbeat_at = Instant::now() + Duration::from_micros(opts.heartbeat_us);
                    }
                    if let Some(from) = pull_now.take() {
                        if node.role == NodeRole::Secondary {
                            queue.push_back(Input::Timer(Timer::Pull { from }));
                            pull_at = Instant::now() + Duration::from_micros(opts.pull_us);
                        }
                    }
                    if queue.is_empty() {
                        break;
                    }
                    continue;
                }
            };
            let sent_at = match &input {
                Input::Message { .. } => message_clocks.next().expect("a clock per message"),
                _ => 0,
            };
            let out = match &input {
                Input::Message { from, message } => {
                    let out = node::on_message(&mut node, &rules, *from as usize, message);
                    // A heartbeat of its term defers a secondary's election; not a
                    // candidate's: the core keeps a candidate a candidate until a newer term,
                    // and a candidate whose timer the primary's heartbeats kept deferring
                    // would never stand again, nor pull (found by the process test: a
                    // restarted node stuck as a candidate of the primary's term).
                    if matches!(message, message_raft::Message::Heartbeat { .. })
                        && message.term() == node.term
                        && node.role == NodeRole::Secondary
                    {
                        sync_source = Some(*from);
                        election_at = Instant::now() + election_timeout(&mut rng, &opts);
                        if opts.heartbeat_on_write {
                            pull_now = Some(*from as usize);
                        }
                    }
                    if matches!(message, message_raft::Message::Entries { .. }) {
                        if opts.heartbeat_on_write {
                            pull_now = Some(sync_source.map_or(*from as usize, usize::from));
                        } else {
                            pull_at = Instant::now();
                        }
                    }
                    out
                }
                Input::Timer(timer) => {
                    if !node::timer_enabled(&node, &rules, *timer) {
                        if *timer == Timer::Election {
                            // A node outside its config does not stand (the core says so):
                            // its timer restarts (without reconfigs, never reached).
                            election_at = Instant::now() + election_timeout(&mut rng, &opts);
                        }
                        continue;
                    }
                    if *timer == Timer::Election {
                        election_at = Instant::now() + election_timeout(&mut rng, &opts);
                        sync_source = None;
                        heartbeat_at = Instant::now();
                    }
                    node::on_timer(&mut node, &rules, *timer)
                }
                Input::ClientWrite(payload) => {
                    if !node::client_write_enabled(&node, &rules) {
                        continue;
                    }
                    let out = node::on_client_write(&mut node, &rules, payload.clone());
                    heartbeat_now = opts.heartbeat_on_write;
                    for reply in write_replies.drain(..) {
                        pending.push((node.log.entries().len() as u64, node.term, reply));
                    }
                    out
                }
                Input::Reconfig { config } => {
                    let new = spec_core::ServerSet(*config);
                    if !node::reconfig_enabled(&node, &rules, new) {
                        if let Some(reply) = reconfig_reply.take() {
                            let _ = reply.send(WriteReply::Refused(
                                "the node core refused the change".into(),
                            ));
                        }
                        continue;
                    }
                    node::on_reconfig(&mut node, &rules, new)
                }
                Input::Restart => continue,
            };
            if out
                .sends()
                .any(|(_, m)| matches!(m, message_raft::Message::VoteGranted { .. }))
            {
                election_at = Instant::now() + election_timeout(&mut rng, &opts);
            }
            if node.role != NodeRole::Secondary {
                sync_source = None;
            }
            // The recorded variables hold the whole log: not copied for a recorder that
            // keeps nothing.
            let state = recorder
                .is_recording()
                .then(|| LocalState::of(&node, opts.servers));
            clock = clock.max(sent_at) + 1;
            done.push((input, out, state, clock));
        }
        for reply in write_replies {
            let _ = reply.send(WriteReply::NotPrimary);
        }
        if done.is_empty() {
            continue;
        }

        // Record the batch's steps, then one group commit, then the steps take effect outside
        // the node: send, acknowledge. A process killed before the group commit leaves
        // recorded steps that never took effect outside it, which its restart drops from the
        // record ([`crate::serve`]); killed after it, every durable step is recorded.
        let mut outgoing = Vec::with_capacity(done.len());
        for (input, out, state, step_clock) in done {
            steps += 1;
            let sends: Vec<Routed> = out
                .sends()
                .map(|(to, m)| Routed {
                    from: opts.id,
                    to: to as u8,
                    message: m.clone(),
                })
                .collect();
            if let Some(state) = state {
                recorder.step(opts.id, step_clock, input, sends.clone(), state);
            }
            outgoing.push((step_clock, sends, out.committed));
        }
        let records = persisted.records_for(&mut node);
        wal.write(&records)?;
        if let Some(reply) = reconfig_reply.take() {
            // The new config is durable here: answered once a quorum of it acknowledges it.
            installed = Some((node.config_version, node.term, reply));
        }
        if let Some((version, term, _)) = &installed {
            let same = node.role == NodeRole::Primary
                && node.term == *term
                && node.config_version == *version;
            if !same {
                // Deposed (or reconfigured again) first: dropped unanswered, the outcome is
                // unknown to the client (the config may still be adopted, or be replaced).
                installed = None;
            } else if node::config_and_term_quorum_check(&node, &rules) {
                let (_, _, reply) = installed.take().expect("checked");
                let _ = reply.send(WriteReply::Reconfigured {
                    config: node.config.0,
                    version: node.config_version,
                    term: node.config_term,
                });
            }
        }
        if let Some(service) = &service {
            // What the batch committed: the node's commit point if it is still primary, and
            // what its steps committed (it may have stepped down later in the batch; a
            // committed entry stays in its log).
            let committed = outgoing
                .iter()
                .filter_map(|(_, _, committed)| committed.map(|(index, _)| index))
                .chain((node.role == NodeRole::Primary).then_some(node.commit_index))
                .max()
                .unwrap_or(0);
            let mut shared = service.shared.lock().expect("service lock");
            if committed > shared.kv.applied {
                if let Err(e) = shared.kv.apply_committed(node.log.entries(), committed) {
                    tracing::error!(target: "raft_node::kv", node = opts.id, error = %e, "cannot apply");
                    shared.error = Some(e.to_string());
                }
            }
            shared.role = node.role;
            shared.term = node.term;
            shared.commit_index = node.commit_index;
            shared.last_index = node.log.entries().len() as u64;
            shared.primary = match node.role {
                NodeRole::Primary => Some(opts.id),
                _ => sync_source,
            };
            shared.config = (node.config.0, node.config_version, node.config_term);
            shared.stepping_down = step_down_until.is_some();
        }
        for (step_clock, sends, committed) in outgoing {
            for s in sends {
                transport.send(s.to, step_clock, s.message).await;
            }
            if let Some((index, term)) = committed {
                let (acked, rest): (Vec<_>, Vec<_>) = pending
                    .drain(..)
                    .partition(|(i, t, _)| *i <= index && *t == term);
                pending = rest;
                for (i, t, reply) in acked {
                    let _ = reply.send(WriteReply::Committed { index: i, term: t });
                }
            }
        }
        if node.role != NodeRole::Primary {
            pending.clear();
        }
        if wal.due(opts.wal_compact_bytes) {
            // Between two batches, after this one's messages left: nothing waits on it.
            let applied = service.as_ref().map(|s| {
                let shared = s.shared.lock().expect("service lock");
                KvState {
                    map: shared.kv.map.clone(),
                    applied: shared.kv.applied,
                    applied_term: shared.kv.applied_term,
                    ..KvState::default()
                }
            });
            let done = wal.compact(&node, applied.as_ref())?;
            tracing::info!(
                target: "raft_node::storage",
                node = opts.id,
                bytes_before = done.bytes_before,
                bytes_after = done.bytes_after,
                records_before = done.records_before,
                records_after = done.records_after,
                "compacted the write-ahead file"
            );
        }
    }
    Ok(NodeReport {
        state: node,
        steps,
        syncs: wal.syncs,
        compactions: wal.compactions,
        clock,
    })
}

fn election_timeout(rng: &mut Rng, opts: &NodeOptions) -> Duration {
    let (lo, hi) = opts.election_timeout_us;
    Duration::from_micros(rng.between(lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Event;
    use crate::transport::{Faults, MemNetwork};
    use spec_core::ServerSet;

    fn put(k: usize) -> Payload {
        Command::Put {
            key: format!("k{k}"),
            value: format!("v{k}"),
        }
        .encode()
    }

    /// A membership change queued behind writes (so met while the primary batches them) waits
    /// for their group commit and runs next, in queue order: it is installed with no retry. The
    /// nodes compact their files every KiB; the primary's file, reopened, starts with a
    /// snapshot whose applied map is its service's map at an earlier index, and a service
    /// restarted on it starts from that map. The run validates against the spec.
    #[test]
    fn a_reconfig_queued_behind_a_batch_of_writes_runs_after_its_group_commit() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let base =
            std::env::temp_dir().join(format!("raft-node-reconfig-batch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let n = 3;
        let recorder = Recorder::new();
        let (primary, answers, compactions, services) = runtime.block_on(async {
            let until = Instant::now() + Duration::from_millis(1500);
            let (network, ends) = MemNetwork::new(n, 3, Faults::NONE, recorder.clone());
            tokio::spawn(network.run(until));
            let mut queues = Vec::new();
            let mut services = Vec::new();
            let mut tasks = Vec::new();
            for (id, mut end) in ends.into_iter().enumerate() {
                let (wal, recovered) =
                    Wal::open(&base.join(format!("n{id}")), id as u8, ServerSet::all(n)).unwrap();
                let (tx, mut rx) = mpsc::channel(64);
                queues.push(tx);
                let service = Service::new(false);
                services.push(service.clone());
                let opts = NodeOptions {
                    election_timeout_us: (60_000, 120_000),
                    heartbeat_us: 20_000,
                    pull_us: 10_000,
                    wal_compact_bytes: 1024,
                    ..NodeOptions::new(id as u8, n, 11 + id as u64)
                };
                let recorder = recorder.clone();
                tasks.push(tokio::spawn(async move {
                    run_service(
                        opts,
                        wal,
                        recovered,
                        &mut end,
                        &mut rx,
                        recorder,
                        until,
                        Some(service),
                    )
                    .await
                    .unwrap()
                    .compactions
                }));
            }
            // Some writes first (so that the files compact), through whichever node is
            // primary; then wait until the primary's config is acknowledged in its term (a
            // change to the config it holds answers `Reconfigured` at once then).
            let mut primary = None;
            let mut k = 0;
            for _ in 0..100 {
                tokio::time::sleep(Duration::from_millis(10)).await;
                let Some(p) = services
                    .iter()
                    .position(|s| s.snapshot().role == NodeRole::Primary)
                else {
                    continue;
                };
                let (reply, answer) = oneshot::channel();
                let _ = queues[p].send(WriteRequest::write(put(k), reply)).await;
                let _ = answer.await;
                k += 1;
                if k < 20 {
                    continue;
                }
                let (reply, answer) = oneshot::channel();
                let _ = queues[p]
                    .send(WriteRequest::reconfig(Membership::Add(p as u8), reply))
                    .await;
                if matches!(answer.await, Ok(WriteReply::Reconfigured { .. })) {
                    primary = Some(p);
                    break;
                }
            }
            let p = primary.expect("a primary within a second");
            let removed = (p + 1) % n;
            // Queued at once, with no await between: the primary takes the first write and
            // batches the others behind it, and meets the change on the way.
            let mut answers = Vec::new();
            for r in 0..9 {
                let (reply, answer) = oneshot::channel();
                let request = if r == 5 {
                    WriteRequest::reconfig(Membership::Remove(removed as u8), reply)
                } else {
                    WriteRequest::write(put(100 + r), reply)
                };
                queues[p].try_send(request).unwrap();
                answers.push(answer);
            }
            let mut got = Vec::new();
            for a in answers {
                got.push(a.await.expect("answered"));
            }
            let mut compactions = 0;
            for t in tasks {
                compactions += t.await.unwrap();
            }
            (p, got, compactions, services)
        });
        let removed = (primary + 1) % n;
        for (r, answer) in answers.iter().enumerate() {
            if r == 5 {
                assert!(
                    matches!(answer, WriteReply::Reconfigured { config, .. } if *config == ServerSet::all(n).0 & !(1 << removed)),
                    "{answer:?}"
                );
            } else {
                assert!(matches!(answer, WriteReply::Committed { .. }), "{answer:?}");
            }
        }
        // On the primary: one entry for the five writes, then the change, then one entry for
        // the three writes after it.
        let events = recorder.events();
        let steps: Vec<&Input> = events
            .iter()
            .filter_map(|e| match e {
                Event::Step { node, input, .. } if *node as usize == primary => Some(input),
                _ => None,
            })
            .filter(|i| matches!(i, Input::ClientWrite(_) | Input::Reconfig { .. }))
            .collect();
        let writes_of = |i: &Input| match i {
            Input::ClientWrite(p) => match Command::decode(p) {
                Some(Command::Batch(c)) => c.len(),
                Some(_) => 1,
                None => 0,
            },
            _ => 0,
        };
        let last = &steps[steps.len() - 3..];
        assert_eq!(writes_of(last[0]), 5, "{last:?}");
        assert!(matches!(last[1], Input::Reconfig { .. }), "{last:?}");
        assert_eq!(writes_of(last[2]), 3, "{last:?}");
        let checked = crate::validate(n, &events).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(checked.by_action.get("Reconfig").copied(), Some(1));
        assert_eq!(
            (compactions, checked.steps, checked.commits),
            (6, 1_177, 21)
        );

        // The primary's file starts with a snapshot; its map and the entries after it give
        // the service's map.
        let dir = base.join(format!("n{primary}"));
        let (wal, recovered) = Wal::open(&dir, primary as u8, ServerSet::all(n)).unwrap();
        assert!(recovered.from_snapshot);
        let kv = services[primary].snapshot().kv;
        let mut from_snapshot = recovered.applied.clone().expect("an applied map");
        assert!(from_snapshot.applied > 0 && from_snapshot.applied <= kv.applied);
        from_snapshot
            .apply_committed(recovered.durable.log.entries(), kv.applied)
            .unwrap();
        assert_eq!(
            (&from_snapshot.map, from_snapshot.applied),
            (&kv.map, kv.applied)
        );
        // A service restarted on it starts from the snapshot's map.
        let restarted = Service::new(false);
        let snapshot_applied = recovered.applied.as_ref().unwrap().applied;
        runtime.block_on(async {
            let (_, mut ends) = MemNetwork::new(n, 0, Faults::NONE, Recorder::discarding());
            let (_tx, mut rx) = mpsc::channel(1);
            run_service(
                NodeOptions::new(primary as u8, n, 0),
                wal,
                recovered,
                &mut ends[primary],
                &mut rx,
                Recorder::discarding(),
                Instant::now(),
                Some(restarted.clone()),
            )
            .await
            .unwrap();
        });
        assert_eq!(restarted.snapshot().kv.applied, snapshot_applied);
        let _ = std::fs::remove_dir_all(&base);
    }
}
