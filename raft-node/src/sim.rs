//! Deterministic simulation: the node tasks, the in-memory network with seeded faults and a
//! client, on a current-thread tokio runtime whose clock is paused (it jumps to the next timer
//! when every task waits), so that one seed reproduces one run exactly. Each node's storage is
//! its real write-ahead file (with `fsync`), in a fresh directory under the system's temporary
//! directory, removed after the run.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use spec_core::ServerSet;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use message_raft::NodeState;

use crate::kv::{Command, KvState};
use crate::linearize::{Call, History, Operation, Outcome};
use crate::record::{Event, Input, LocalState, Recorder};
use crate::rng::Rng;
use crate::runtime::{run_service, Membership, NodeOptions, Service, WriteReply, WriteRequest};
use crate::storage::{StorageError, Wal};
use crate::transport::{Faults, MemNetwork, NetworkStats};
use crate::NodeRepr;

/// What a simulation runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimOptions {
    /// Nodes.
    pub servers: usize,
    /// Simulated time, milliseconds.
    pub duration_ms: u64,
    /// The network's faults.
    pub faults: Faults,
    /// Whether to cut a random node off now and then (and heal).
    pub partitions: bool,
    /// A client write every this many milliseconds.
    pub write_every_ms: u64,
    /// At most this many client writes.
    pub max_writes: usize,
    /// The nodes' election timeout range, milliseconds.
    pub election_timeout_ms: (u64, u64),
    /// The primary's heartbeat interval, milliseconds.
    pub heartbeat_ms: u64,
    /// A secondary's pull interval, milliseconds.
    pub pull_ms: u64,
    /// Chance, per thousand runs, that one node crashes once (and restarts from its
    /// write-ahead file, half the time with a torn record at its end).
    pub crash_per_mille: u32,
    /// A planted bug in every node's core, or `None`.
    pub mutation: Option<message_raft::Mutation>,
    /// Whether the nodes run the key-value service ([`crate::runtime::Service`], with a
    /// no-op on election) and the client writes key-value commands (puts and deletes of 5
    /// keys) instead of opaque payloads.
    pub kv: bool,
    /// Whether a seeded driver asks a node now and then to add or remove a node (every 20 to
    /// 60 ms, a random node toggled in the config last answered, sent to the node last found
    /// primary, or 1 ms later to another after a refusal of primacy: a primary hands it to the core's
    /// `on_reconfig`, recorded as the spec's `Reconfig(i, C)`; a primary asked to remove
    /// itself steps down).
    pub reconfigs: bool,
    /// With [`SimOptions::kv`]: whether a second client reads the keys through the log
    /// ([`Command::Read`], every 10 ms, from the node it last found primary, the value taken
    /// from that node's map once the read commits, as `raft-node get` does), and both clients'
    /// operations are recorded in [`SimRun::history`] for [`crate::linearize::check`].
    pub reads: bool,
}

impl Default for SimOptions {
    /// 3 nodes, 400 ms, some faults and partitions, a write every 15 ms (at most 25),
    /// elections after 60 to 120 ms, heartbeats every 20 ms, pulls every 10 ms, a crash in
    /// 40% of the runs.
    fn default() -> SimOptions {
        SimOptions {
            servers: 3,
            duration_ms: 400,
            faults: Faults::SOME,
            partitions: true,
            write_every_ms: 15,
            max_writes: 25,
            election_timeout_ms: (60, 120),
            heartbeat_ms: 20,
            pull_ms: 10,
            crash_per_mille: 400,
            mutation: None,
            kv: false,
            reconfigs: false,
            reads: false,
        }
    }
}

/// One simulated run.
#[derive(Clone, Debug)]
pub struct SimRun {
    /// The seed.
    pub seed: u64,
    /// Every event, in order.
    pub events: Vec<Event>,
    /// What the network did.
    pub network: NetworkStats,
    /// Client writes acknowledged as committed, with their (index, term).
    pub committed_writes: Vec<(u64, u64)>,
    /// Steps per node (a recorded restart counts as one).
    pub steps: Vec<u64>,
    /// The crash planned for this seed, if any: (node, at ms, down for ms, torn tail).
    pub crash: Option<(usize, u64, u64, bool)>,
    /// With [`SimOptions::kv`]: each node's applied map at the end of each of its runs (one
    /// per start: a restarted node's map starts empty), with its history: (node, state).
    pub applied: Vec<(usize, crate::kv::KvState)>,
    /// With [`SimOptions::reads`]: the clients' operations (the writer's puts and deletes,
    /// the reader's reads), on the simulated clock; empty otherwise.
    pub history: Vec<Operation>,
}

/// Why a simulation could not run.
#[derive(Debug)]
pub enum SimError {
    /// Storage failed.
    Storage(StorageError),
    /// A task panicked.
    Task(String),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::Storage(e) => write!(f, "storage: {e}"),
            SimError::Task(e) => write!(f, "a task failed: {e}"),
        }
    }
}

impl std::error::Error for SimError {}

static RUNS: AtomicU64 = AtomicU64::new(0);

fn fresh_dir(seed: u64) -> PathBuf {
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("raft-node-sim-{}-{seed}-{n}", std::process::id()))
}

/// Runs the simulation of `seed`.
pub fn simulate(seed: u64, opts: &SimOptions) -> Result<SimRun, SimError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map_err(|e| SimError::Task(e.to_string()))?;
    let dir = fresh_dir(seed);
    let result = runtime.block_on(run(seed, opts, &dir));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(seed: u64, opts: &SimOptions, dir: &std::path::Path) -> Result<SimRun, SimError> {
    let n = opts.servers;
    let mut rng = Rng::new(seed);
    let recorder = Recorder::new();
    let start = Instant::now();
    let until = start + Duration::from_millis(opts.duration_ms);
    let (network, endpoints) = MemNetwork::new(n, rng.next_u64(), opts.faults, recorder.clone());
    let delivery = tokio::spawn(network.clone().run(until));
    let all = ServerSet::all(n);
    let crash = rng.chance(opts.crash_per_mille).then(|| {
        let node = rng.between(0, n as u64 - 1) as usize;
        let at = rng.between(opts.duration_ms / 8, opts.duration_ms * 7 / 8);
        let down = rng.between(5, 50);
        let torn = rng.chance(500);
        (node, at, down, torn)
    });
    let mut nodes = Vec::new();
    let mut clients = Vec::new();
    // Each node's current service (replaced when it restarts), for the reader's answers.
    let services: Vec<Arc<Mutex<Option<Service>>>> = (0..n).map(|_| Arc::default()).collect();
    let history = History::new();
    for (id, mut endpoint) in endpoints.into_iter().enumerate() {
        let node_dir = dir.join(format!("n{}", id + 1));
        let (tx, mut rx) = mpsc::channel(16);
        clients.push(tx);
        let node_opts = NodeOptions {
            election_timeout_us: (
                opts.election_timeout_ms.0 * 1000,
                opts.election_timeout_ms.1 * 1000,
            ),
            heartbeat_us: opts.heartbeat_ms * 1000,
            pull_us: opts.pull_ms * 1000,
            mutation: opts.mutation,
            ..NodeOptions::new(id as u8, n, rng.next_u64())
        };
        let my_crash = crash.filter(|c| c.0 == id);
        let recorder = recorder.clone();
        let kv = opts.kv;
        let slot = services[id].clone();
        nodes.push(tokio::spawn(async move {
            let mut applied: Vec<KvState> = Vec::new();
            let mut steps = 0;
            let mut crashed: Option<NodeState<NodeRepr>> = None;
            let mut clock = 0u64;
            let mut crash_at = my_crash.map(|(_, at, _, _)| start + Duration::from_millis(at));
            loop {
                let (wal, recovered) = Wal::open(&node_dir, id as u8, all)?;
                if let Some(before) = crashed.take() {
                    // The spec's Restart: the node comes back with what its storage kept. A
                    // restart that changes nothing is no spec step, and is not recorded.
                    let after = NodeState::recovered(recovered.durable.clone());
                    if after != before {
                        clock += 1;
                        recorder.step(
                            id as u8,
                            clock,
                            Input::Restart,
                            Vec::new(),
                            LocalState::of(&after, n),
                        );
                        steps += 1;
                    }
                }
                let stop = crash_at.take().unwrap_or(until).min(until);
                let mut opts_now = node_opts.clone();
                opts_now.seed = node_opts.seed.wrapping_add(steps);
                opts_now.start_clock = clock;
                let service = kv.then(|| Service::new(true));
                *slot.lock().expect("service slot") = service.clone();
                let report = run_service(
                    opts_now,
                    wal,
                    recovered,
                    &mut endpoint,
                    &mut rx,
                    recorder.clone(),
                    stop,
                    service.clone(),
                )
                .await?;
                steps += report.steps;
                clock = report.clock;
                applied.extend(service.map(|s| s.snapshot().kv));
                if stop >= until {
                    return Ok::<(u64, Vec<KvState>), StorageError>((steps, applied));
                }
                // Crashed: maybe with half a record written, then down for a while.
                let (_, _, down, torn) = my_crash.expect("a planned crash");
                if torn {
                    use std::io::Write;
                    let mut f = std::fs::OpenOptions::new()
                        .append(true)
                        .open(node_dir.join("wal"))
                        .map_err(|e| StorageError::Io("tearing the tail".into(), e))?;
                    f.write_all(&[200, 0, 0, 0, 7, 7, 7, 7, b'{'])
                        .map_err(|e| StorageError::Io("tearing the tail".into(), e))?;
                }
                crashed = Some(report.state);
                tokio::time::sleep(Duration::from_millis(down)).await;
            }
        }));
    }

    let reconfig_clients = opts.reconfigs.then(|| clients.clone());
    let reader_clients = clients.clone();
    // The client: a write every `write_every_ms`, to the node it believes is primary.
    let write_every = Duration::from_millis(opts.write_every_ms);
    let max_writes = opts.max_writes;
    let kv = opts.kv;
    let mut client_rng = rng.fork();
    let writes = (opts.kv && opts.reads).then(|| history.clone());
    let client = tokio::spawn(async move {
        let mut committed = Vec::new();
        let mut target = 0usize;
        for k in 0..max_writes {
            tokio::time::sleep(write_every).await;
            if Instant::now() >= until {
                break;
            }
            let (reply, answer) = oneshot::channel();
            let key = format!("k{}", k % 5);
            let (payload, call) = if kv {
                let (command, call) = if k % 4 == 3 {
                    (Command::Delete { key: key.clone() }, Call::Delete)
                } else {
                    let value = format!("v{k}");
                    let call = Call::Put(value.clone());
                    (
                        Command::Put {
                            key: key.clone(),
                            value,
                        },
                        call,
                    )
                };
                (command.encode(), Some(call))
            } else {
                (format!("w{k}").into_bytes(), None)
            };
            let op = writes
                .as_ref()
                .zip(call)
                .map(|(h, call)| h.invoke(1, &key, call));
            if clients[target]
                .send(WriteRequest::write(payload, reply))
                .await
                .is_err()
            {
                break;
            }
            match tokio::time::timeout(Duration::from_millis(50), answer).await {
                Ok(Ok(WriteReply::Committed { index, term })) => {
                    committed.push((index, term));
                    if let (Some(h), Some(op)) = (&writes, op) {
                        h.complete(op, Outcome::Done);
                    }
                }
                // Not primary, stepped down, or no answer in time: try another node (the
                // write's outcome stays unknown: it may commit later, or never).
                _ => target = client_rng.between(0, clients.len() as u64 - 1) as usize,
            }
        }
        committed
    });

    // Partitions: now and then one node is cut off for a while, then healed.
    if opts.partitions {
        let network = network.clone();
        let mut prng = rng.fork();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(prng.between(50, 150))).await;
                if Instant::now() >= until {
                    break;
                }
                network.partition(ServerSet::single(prng.between(0, n as u64 - 1) as usize));
                tokio::time::sleep(Duration::from_millis(prng.between(30, 150))).await;
                network.heal();
            }
        });
    }

    // Membership changes: now and then a node is asked to add or remove one.
    if let Some(targets) = reconfig_clients {
        let mut crng = rng.fork();
        tokio::spawn(async move {
            let mut target = 0usize;
            // The config as last answered: each change toggles one node in it.
            let mut believed = ServerSet::all(n).0;
            let mut wait = true;
            loop {
                // A millisecond at least, so that the paused clock moves on.
                let pause = if wait { crng.between(20, 60) } else { 1 };
                tokio::time::sleep(Duration::from_millis(pause)).await;
                if Instant::now() >= until {
                    break;
                }
                let k = crng.between(0, n as u64 - 1) as u8;
                let change = if believed & (1 << k) != 0 {
                    Membership::Remove(k)
                } else {
                    Membership::Add(k)
                };
                let (reply, answer) = oneshot::channel();
                if targets[target]
                    .send(WriteRequest::reconfig(change, reply))
                    .await
                    .is_err()
                {
                    break;
                }
                wait = true;
                match tokio::time::timeout(Duration::from_millis(50), answer).await {
                    Ok(Ok(WriteReply::Reconfigured { config, .. })) => believed = config,
                    Ok(Ok(WriteReply::Refused(_))) => {}
                    // Not primary, stepping down, or no answer in time: another node, soon.
                    _ => {
                        target = crng.between(0, n as u64 - 1) as usize;
                        wait = false;
                    }
                }
            }
        });
    }

    // The reader: every 10 ms a read of the next key through the log, to the node it last
    // found primary. Its rng is forked last, so that runs without it are what they were.
    let reader = (opts.kv && opts.reads).then(|| {
        let mut rrng = rng.fork();
        let (targets, history) = (reader_clients, history.clone());
        tokio::spawn(async move {
            let mut target = 0usize;
            for j in 0.. {
                tokio::time::sleep(Duration::from_millis(10)).await;
                if Instant::now() >= until {
                    break;
                }
                let key = format!("k{}", j % 5);
                let (reply, answer) = oneshot::channel();
                let op = history.invoke(2, &key, Call::Get);
                let read = Command::Read { key: key.clone() }.encode();
                if targets[target]
                    .send(WriteRequest::write(read, reply))
                    .await
                    .is_err()
                {
                    break;
                }
                match tokio::time::timeout(Duration::from_millis(50), answer).await {
                    Ok(Ok(WriteReply::Committed { .. })) => {
                        // Applied before acknowledged: the node's map holds every entry up to
                        // the read's (and maybe later ones, all invoked before this answer).
                        let value = services[target]
                            .lock()
                            .expect("service slot")
                            .as_ref()
                            .and_then(|s| {
                                s.shared
                                    .lock()
                                    .expect("service lock")
                                    .kv
                                    .map
                                    .get(&key)
                                    .cloned()
                            });
                        history.complete(op, Outcome::Read(value));
                    }
                    _ => target = rrng.between(0, targets.len() as u64 - 1) as usize,
                }
            }
        })
    });

    let mut steps = Vec::new();
    let mut applied = Vec::new();
    for (id, node) in nodes.into_iter().enumerate() {
        let (node_steps, node_applied) = node
            .await
            .map_err(|e| SimError::Task(e.to_string()))?
            .map_err(SimError::Storage)?;
        steps.push(node_steps);
        applied.extend(node_applied.into_iter().map(|a| (id, a)));
    }
    let committed_writes = client.await.map_err(|e| SimError::Task(e.to_string()))?;
    delivery.await.map_err(|e| SimError::Task(e.to_string()))?;
    if let Some(reader) = reader {
        reader.await.map_err(|e| SimError::Task(e.to_string()))?;
    }
    Ok(SimRun {
        seed,
        events: recorder.events(),
        network: network.stats(),
        committed_writes,
        steps,
        crash,
        applied,
        history: if opts.kv && opts.reads {
            history.operations()
        } else {
            Vec::new()
        },
    })
}

/// What [`check_service`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceCheck {
    /// Entries applied by the node run that applied most.
    pub applied: u64,
    /// Node runs that applied something.
    pub appliers: usize,
}

/// Checks a run of the key-value service ([`SimOptions::kv`]): any two applied histories (of
/// any nodes, any of their runs) agree entry by entry (index, term, payload) on their common
/// prefix; each map is its history's commands applied in order; every acknowledged write is
/// applied, as a put or a delete, at its (index, term), by the node run that applied most.
pub fn check_service(run: &SimRun) -> Result<ServiceCheck, String> {
    for (a, (na, ka)) in run.applied.iter().enumerate() {
        for (nb, kb) in &run.applied[a + 1..] {
            if let Some((x, y)) = ka.history.iter().zip(&kb.history).find(|(x, y)| x != y) {
                return Err(format!(
                    "n{} applied {x:?} where n{} applied {y:?}",
                    na + 1,
                    nb + 1
                ));
            }
        }
        let mut again = KvState::default();
        for (index, _, payload) in &ka.history {
            match Command::decode(payload) {
                Some(c) => again.apply_command(&c),
                None => return Err(format!("n{} applied a non-command at {index}", na + 1)),
            }
        }
        if again.map != ka.map || ka.applied as usize != ka.history.len() {
            return Err(format!("n{}'s map is not its history applied", na + 1));
        }
    }
    let longest = run
        .applied
        .iter()
        .map(|(_, k)| k)
        .max_by_key(|k| k.applied)
        .cloned()
        .unwrap_or_default();
    for &(index, term) in &run.committed_writes {
        match longest.history.get((index as usize).wrapping_sub(1)) {
            Some((i, t, payload))
                if (*i, *t) == (index, term)
                    && Command::decode(payload).is_some_and(|c| c.writes()) => {}
            other => {
                return Err(format!(
                    "the acknowledged write ({index}, {term}) is not applied (there: {other:?})"
                ))
            }
        }
    }
    Ok(ServiceCheck {
        applied: longest.applied,
        appliers: run.applied.iter().filter(|(_, k)| k.applied > 0).count(),
    })
}
