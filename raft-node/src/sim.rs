//! Deterministic simulation: the node tasks, the in-memory network with seeded faults and a
//! client, on a current-thread tokio runtime whose clock is paused (it jumps to the next timer
//! when every task waits), so that one seed reproduces one run exactly. Each node's storage is
//! its real write-ahead file (with `fsync`), in a fresh directory under the system's temporary
//! directory, removed after the run.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use spec_core::ServerSet;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::record::{Event, Recorder};
use crate::rng::Rng;
use crate::runtime::{run_node, NodeOptions, WriteReply, WriteRequest};
use crate::storage::{StorageError, Wal};
use crate::transport::{Faults, MemNetwork, NetworkStats};

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
}

impl Default for SimOptions {
    /// 3 nodes, 400 ms, some faults and partitions, a write every 15 ms (at most 25),
    /// elections after 60 to 120 ms, heartbeats every 20 ms, pulls every 10 ms.
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
    /// Steps per node.
    pub steps: Vec<u64>,
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
    let mut nodes = Vec::new();
    let mut clients = Vec::new();
    for (id, endpoint) in endpoints.into_iter().enumerate() {
        let (wal, recovered) = Wal::open(&dir.join(format!("n{}", id + 1)), id as u8, all)
            .map_err(SimError::Storage)?;
        let (tx, rx) = mpsc::channel(16);
        clients.push(tx);
        let node_opts = NodeOptions {
            election_timeout_us: (
                opts.election_timeout_ms.0 * 1000,
                opts.election_timeout_ms.1 * 1000,
            ),
            heartbeat_us: opts.heartbeat_ms * 1000,
            pull_us: opts.pull_ms * 1000,
            ..NodeOptions::new(id as u8, n, rng.next_u64())
        };
        nodes.push(tokio::spawn(run_node(
            node_opts,
            wal,
            recovered,
            endpoint,
            rx,
            recorder.clone(),
            until,
        )));
    }

    // The client: a write every `write_every_ms`, to the node it believes is primary.
    let write_every = Duration::from_millis(opts.write_every_ms);
    let max_writes = opts.max_writes;
    let mut client_rng = rng.fork();
    let client = tokio::spawn(async move {
        let mut committed = Vec::new();
        let mut target = 0usize;
        for k in 0..max_writes {
            tokio::time::sleep(write_every).await;
            if Instant::now() >= until {
                break;
            }
            let (reply, answer) = oneshot::channel();
            let payload = format!("w{k}").into_bytes();
            if clients[target]
                .send(WriteRequest { payload, reply })
                .await
                .is_err()
            {
                break;
            }
            match tokio::time::timeout(Duration::from_millis(50), answer).await {
                Ok(Ok(WriteReply::Committed { index, term })) => committed.push((index, term)),
                // Not primary, stepped down, or no answer in time: try another node.
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

    let mut steps = Vec::new();
    for node in nodes {
        let report = node
            .await
            .map_err(|e| SimError::Task(e.to_string()))?
            .map_err(SimError::Storage)?;
        steps.push(report.steps);
    }
    let committed_writes = client.await.map_err(|e| SimError::Task(e.to_string()))?;
    delivery.await.map_err(|e| SimError::Task(e.to_string()))?;
    Ok(SimRun {
        seed,
        events: recorder.events(),
        network: network.stats(),
        committed_writes,
        steps,
    })
}
