//! `raft-node`: run the deterministic simulation over many seeds and validate each run,
//! validate a recorded run, run a node (`serve`) or a local cluster (`cluster`), and talk to
//! one (`put`, `get`, `delete`, `status`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use raft_node::bench;
use raft_node::client::Client;
use raft_node::cluster::LocalCluster;
use raft_node::record::{read_json_lines_lenient, to_json_lines};
use raft_node::runtime::Membership;
use raft_node::serve::{serve, ServeOptions};
use raft_node::sim::{check_service, simulate, SimOptions};
use raft_node::transport::Faults;

#[derive(Parser)]
#[command(
    name = "raft-node",
    about = "The message-raft node core on tokio; every run checked against the spec"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate seeds A..B (B excluded) and validate every run against message-raft and
    /// log-abstract.
    Simulate {
        /// Seeds, `A..B`, or one seed.
        #[arg(long, default_value = "0..100")]
        seeds: String,
        /// Nodes.
        #[arg(long, default_value_t = 3)]
        servers: usize,
        /// Simulated milliseconds per seed.
        #[arg(long, default_value_t = 400)]
        duration_ms: u64,
        /// Network faults: `none` (delays only) or `some` (5% loss, 3% duplication, delays).
        #[arg(long, default_value = "some")]
        faults: String,
        /// No partitions.
        #[arg(long)]
        no_partitions: bool,
        /// No crashes.
        #[arg(long)]
        no_crashes: bool,
        /// Write each run's events to DIR/seed-N.jsonl.
        #[arg(long)]
        record: Option<PathBuf>,
        /// Run the key-value service (the client writes puts and deletes), and check that
        /// the nodes' applied maps agree and hold every acknowledged write.
        #[arg(long)]
        kv: bool,
        /// Drive membership changes: now and then a node is asked to add or remove a node
        /// (the spec's `Reconfig`; a primary asked to remove itself steps down).
        #[arg(long)]
        reconfigs: bool,
        /// With --kv: a second client reads the keys through the log, and the two clients'
        /// history (puts, deletes, reads) is checked for linearizability.
        #[arg(long, requires = "kv")]
        reads: bool,
    },
    /// Validate a recorded run (JSON lines) of a cluster of `--servers` nodes; several files
    /// (records made apart, such as one per node) are merged by causality first. A torn last
    /// line (a node killed while writing it) is dropped.
    Validate {
        /// The run, or its parts.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Nodes.
        #[arg(long, default_value_t = 3)]
        servers: usize,
        /// The initial config's members, comma-separated ids from 1 (default: every node),
        /// as given to `serve --members`.
        #[arg(long, value_delimiter = ',')]
        members: Vec<usize>,
    },
    /// Run one node of a cluster (until Ctrl-C).
    Serve {
        /// This node's id, 1..=N (node n1 is `--id 1`).
        #[arg(long)]
        id: Option<usize>,
        /// Every node's address for the nodes' protocol, comma-separated, in id order (this
        /// node's included): N addresses make an N-node cluster.
        #[arg(long, value_delimiter = ',')]
        peers: Vec<SocketAddr>,
        /// The data directory (created if missing; refused if it belongs to another node).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Where clients connect.
        #[arg(long)]
        client_addr: Option<SocketAddr>,
        /// Every node's client address, comma-separated, in id order (for redirects to the
        /// primary).
        #[arg(long, value_delimiter = ',')]
        client_peers: Vec<String>,
        /// Append the node's steps (JSON lines) to FILE, for `raft-node validate`.
        #[arg(long)]
        record: Option<PathBuf>,
        /// Election timeout range, milliseconds, `A..B`.
        #[arg(long)]
        election_timeout_ms: Option<String>,
        /// Heartbeat interval, milliseconds.
        #[arg(long)]
        heartbeat_ms: Option<u64>,
        /// How long a write waits for its commit, milliseconds.
        #[arg(long)]
        commit_timeout_ms: Option<u64>,
        /// Stop when the parent process exits.
        #[arg(long)]
        exit_with_parent: bool,
        /// The first config's members, comma-separated ids from 1 (default: every peer): the
        /// other peers are spares, outside the config until `add-node` adds them. Used when
        /// the data directory is created; every node must be given the same.
        #[arg(long, value_delimiter = ',')]
        members: Vec<usize>,
        /// Let clients cut this node off from peers (a fault hook in the TCP transport, for
        /// fault tests; off by default).
        #[arg(long)]
        fault_hooks: bool,
        /// Compact the write-ahead file once this many bytes were appended since its last
        /// snapshot (and at least the snapshot's size); 0: never. Default 4 MiB.
        #[arg(long)]
        wal_compact_bytes: Option<u64>,
        /// A JSON file of these settings (`{"id": 1, "peers": ["127.0.0.1:7201", ...],
        /// "data": "...", "client_addr": "...", "election_timeout_ms": "150..300", ...}`,
        /// the flags' names with underscores); a flag given overrides the file.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Start a local cluster (one `raft-node serve` process per node, loopback ports), print
    /// how to talk to it, and stop every node on Ctrl-C.
    Cluster {
        /// Nodes.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// Where the nodes' data directories and records go (default: a new temporary
        /// directory, kept after the cluster stops).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Client ports are BASE+1..=BASE+N, protocol ports BASE+101..=BASE+100+N; 0 picks
        /// free ports.
        #[arg(long, default_value_t = 7100)]
        base_port: u16,
        /// Spare nodes: the peer table has NODES + SPARES entries, the first config holds
        /// n1..nNODES, and the spares are not started (`add-node` adds one to the config;
        /// the cluster prints the command that starts it).
        #[arg(long, default_value_t = 0)]
        spares: usize,
    },
    /// Add node ID (from 1, in the peer table) to the primary's config (retried while the
    /// core refuses it, until the timeout).
    AddNode {
        /// The node's id.
        id: usize,
        #[command(flatten)]
        to: Target,
    },
    /// Remove node ID from the primary's config; removing the primary makes it step down,
    /// and the next primary removes it.
    RemoveNode {
        /// The node's id.
        id: usize,
        #[command(flatten)]
        to: Target,
    },
    /// Set KEY to VALUE (answered once committed).
    Put {
        /// The key.
        key: String,
        /// The value.
        value: String,
        #[command(flatten)]
        to: Target,
    },
    /// Read KEY from the primary, through the log (or at once with `--stale`).
    Get {
        /// The key.
        key: String,
        /// Answer from the primary's map at once, possibly stale.
        #[arg(long)]
        stale: bool,
        #[command(flatten)]
        to: Target,
    },
    /// Remove KEY.
    Delete {
        /// The key.
        key: String,
        #[command(flatten)]
        to: Target,
    },
    /// Each node's role, term, commit index, log length and applied index.
    Status {
        #[command(flatten)]
        to: Target,
    },
    /// Acknowledged puts per second and latency of a 3-node cluster on loopback (fsync on),
    /// then of a 3-node etcd cluster under the same load, in one run.
    Bench {
        /// Concurrent clients (one connection and one put in flight each).
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// The measured window, seconds.
        #[arg(long, default_value_t = 10)]
        duration_secs: u64,
        /// The warm-up before it, seconds.
        #[arg(long, default_value_t = 2)]
        warmup_secs: u64,
        /// Bytes per value.
        #[arg(long, default_value_t = 64)]
        value_size: usize,
        /// Also bench etcd (the default).
        #[arg(long, overrides_with = "no_etcd")]
        etcd: bool,
        /// Bench raft-node alone.
        #[arg(long)]
        no_etcd: bool,
        /// The etcd program (default: `etcd` on PATH).
        #[arg(long)]
        etcd_bin: Option<PathBuf>,
        /// Rounds, each raft-node then etcd on fresh clusters (to alternate them).
        #[arg(long, default_value_t = 1)]
        rounds: usize,
        /// Where the clusters' data go (a new directory under it, removed at the end).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// Where a client command goes.
#[derive(clap::Args)]
struct Target {
    /// The nodes' client addresses, comma-separated (any one will do: a node that is not
    /// primary names the primary).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103"
    )]
    addr: Vec<SocketAddr>,
    /// Give up after this many milliseconds.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
}

fn seeds(text: &str) -> Result<std::ops::Range<u64>, String> {
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|e| format!("bad seed `{s}`: {e}"))
    };
    match text.split_once("..") {
        Some((a, b)) => Ok(parse(a)?..parse(b)?),
        None => {
            let a = parse(text)?;
            Ok(a..a + 1)
        }
    }
}

/// `serve --config FILE`: the settings a flag would give, each optional.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeFile {
    id: Option<usize>,
    peers: Option<Vec<SocketAddr>>,
    data: Option<PathBuf>,
    client_addr: Option<SocketAddr>,
    client_peers: Option<Vec<String>>,
    record: Option<PathBuf>,
    election_timeout_ms: Option<String>,
    heartbeat_ms: Option<u64>,
    commit_timeout_ms: Option<u64>,
    members: Option<Vec<usize>>,
    fault_hooks: Option<bool>,
    wal_compact_bytes: Option<u64>,
}

impl ServeFile {
    fn read(path: &std::path::Path) -> Result<ServeFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The config of `members` (ids from 1) among `servers` nodes; every node if empty.
fn members_set(members: &[usize], servers: usize) -> Result<spec_core::ServerSet, String> {
    if !(1..=raft_node::MAX_NODES).contains(&servers) {
        return Err(format!(
            "--servers {servers} is out of range 1..={}",
            raft_node::MAX_NODES
        ));
    }
    if members.is_empty() {
        return Ok(spec_core::ServerSet::all(servers));
    }
    let mut set = spec_core::ServerSet::EMPTY;
    for &m in members {
        if m == 0 || m > servers {
            return Err(format!("--members: {m} is not a node id in 1..={servers}"));
        }
        set = set.with(m - 1);
    }
    Ok(set)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn client_command(command: Command) -> ExitCode {
    let to = match &command {
        Command::Put { to, .. }
        | Command::Get { to, .. }
        | Command::Delete { to, .. }
        | Command::AddNode { to, .. }
        | Command::RemoveNode { to, .. }
        | Command::Status { to } => to,
        _ => unreachable!("a client command"),
    };
    let mut client = Client::new(to.addr.clone());
    client.timeout = std::time::Duration::from_millis(to.timeout_ms);
    runtime().block_on(async move {
        let result = match &command {
            Command::Put { key, value, .. } => client
                .put(key, value)
                .await
                .map(|(index, term)| format!("ok: committed at index {index}, term {term}")),
            Command::Delete { key, .. } => client
                .delete(key)
                .await
                .map(|(index, term)| format!("ok: committed at index {index}, term {term}")),
            Command::AddNode { id, .. } | Command::RemoveNode { id, .. } => {
                if *id == 0 || *id > raft_node::MAX_NODES {
                    eprintln!("raft-node: node ids are 1..={}", raft_node::MAX_NODES);
                    return ExitCode::from(2);
                }
                let k = (*id - 1) as u8;
                let change = match &command {
                    Command::AddNode { .. } => Membership::Add(k),
                    _ => Membership::Remove(k),
                };
                client.reconfig(change).await.map(|(members, version, term)| {
                    let members: Vec<String> = members.iter().map(|m| format!("n{m}")).collect();
                    format!(
                        "ok: the config is {{{}}}, version {version}, term {term}",
                        members.join(", ")
                    )
                })
            }
            Command::Get { key, stale, .. } => client.get(key, *stale).await.map(|(v, stale)| {
                let v = v.unwrap_or_else(|| "(not set)".into());
                if stale {
                    format!("{v}    (possibly stale: read from the primary's map without confirming it is primary)")
                } else {
                    v
                }
            }),
            _ => {
                let mut up = 0;
                for (addr, status) in client.status_all().await {
                    match status {
                        Ok(s) => {
                            up += 1;
                            println!("{addr}  {s}");
                        }
                        Err(e) => println!("{addr}  down: {e}"),
                    }
                }
                return if up > 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE };
            }
        };
        match result {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("raft-node: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

fn main() -> ExitCode {
    match Cli::parse().command {
        c @ (Command::Put { .. }
        | Command::Get { .. }
        | Command::Delete { .. }
        | Command::AddNode { .. }
        | Command::RemoveNode { .. }
        | Command::Status { .. }) => client_command(c),
        Command::Bench {
            clients,
            duration_secs,
            warmup_secs,
            value_size,
            etcd: _,
            no_etcd,
            etcd_bin,
            rounds,
            dir,
        } => {
            let etcd_bin = if no_etcd {
                None
            } else {
                match bench::find_etcd(etcd_bin.as_deref()) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        eprintln!("raft-node bench: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            };
            let raft_node_bin = match std::env::current_exe() {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("raft-node bench: where is this program? {e}");
                    return ExitCode::FAILURE;
                }
            };
            let opts = bench::BenchOptions {
                clients,
                warmup: std::time::Duration::from_secs(warmup_secs),
                duration: std::time::Duration::from_secs(duration_secs),
                value_size,
                raft_node_bin,
                etcd_bin,
                rounds: rounds.max(1),
                dir: dir.unwrap_or_else(std::env::temp_dir),
            };
            run_bench(&opts)
        }
        Command::Serve {
            id,
            peers,
            data,
            client_addr,
            client_peers,
            record,
            election_timeout_ms,
            heartbeat_ms,
            commit_timeout_ms,
            exit_with_parent,
            members,
            fault_hooks,
            wal_compact_bytes,
            config,
        } => {
            let file = match config.as_deref().map(ServeFile::read).transpose() {
                Ok(f) => f.unwrap_or_default(),
                Err(e) => {
                    eprintln!("raft-node serve: {e}");
                    return ExitCode::from(2);
                }
            };
            let or_file = |flag: Vec<usize>, file: Option<Vec<usize>>| {
                if flag.is_empty() {
                    file.unwrap_or_default()
                } else {
                    flag
                }
            };
            let members = or_file(members, file.members);
            let peers = if peers.is_empty() {
                file.peers.unwrap_or_default()
            } else {
                peers
            };
            let client_peers = if client_peers.is_empty() {
                file.client_peers.unwrap_or_default()
            } else {
                client_peers
            };
            let (Some(id), Some(data), Some(client_addr)) = (
                id.or(file.id),
                data.or(file.data),
                client_addr.or(file.client_addr),
            ) else {
                eprintln!("raft-node serve: --id, --data and --client-addr are required (as flags or in --config)");
                return ExitCode::from(2);
            };
            if peers.is_empty() {
                eprintln!("raft-node serve: --peers is required (as a flag or in --config)");
                return ExitCode::from(2);
            }
            let record = record.or(file.record);
            let election_timeout_ms = election_timeout_ms
                .or(file.election_timeout_ms)
                .unwrap_or_else(|| "150..300".into());
            let heartbeat_ms = heartbeat_ms.or(file.heartbeat_ms).unwrap_or(50);
            let commit_timeout_ms = commit_timeout_ms.or(file.commit_timeout_ms).unwrap_or(2000);
            let fault_hooks = fault_hooks || file.fault_hooks.unwrap_or(false);
            let members = if members.is_empty() {
                None
            } else {
                match members_set(&members, peers.len()) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        eprintln!("raft-node serve: {e}");
                        return ExitCode::from(2);
                    }
                }
            };
            let election = match seeds(&election_timeout_ms) {
                Ok(r) if r.start > 0 && r.end > r.start => (r.start, r.end),
                _ => {
                    eprintln!("raft-node serve: --election-timeout-ms is `A..B` with 0 < A < B");
                    return ExitCode::from(2);
                }
            };
            if id == 0 || id > peers.len() {
                eprintln!("raft-node serve: --id {id} is not in 1..={}", peers.len());
                return ExitCode::from(2);
            }
            let mut client_peers: Vec<Option<String>> =
                client_peers.into_iter().map(Some).collect();
            client_peers.resize(peers.len(), None);
            let opts = ServeOptions {
                id: (id - 1) as u8,
                peers,
                data,
                client_addr,
                client_peers,
                record,
                election_timeout_ms: election,
                heartbeat_ms,
                commit_timeout_ms,
                exit_with_parent,
                members,
                fault_hooks,
                wal_compact_bytes: wal_compact_bytes
                    .or(file.wal_compact_bytes)
                    .unwrap_or(raft_node::runtime::DEFAULT_WAL_COMPACT_BYTES),
            };
            match runtime().block_on(serve(opts)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("raft-node serve: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Cluster {
            nodes,
            dir,
            base_port,
            spares,
        } => run_cluster(nodes, spares, dir, base_port),
        Command::Simulate {
            seeds: range,
            servers,
            duration_ms,
            faults,
            no_partitions,
            no_crashes,
            record,
            kv,
            reconfigs,
            reads,
        } => {
            let range = match seeds(&range) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("raft-node simulate: {e}");
                    return ExitCode::from(2);
                }
            };
            let faults = match faults.as_str() {
                "none" => Faults::NONE,
                "some" => Faults::SOME,
                other => {
                    eprintln!("raft-node simulate: --faults is `none` or `some`, not `{other}`");
                    return ExitCode::from(2);
                }
            };
            if !(1..=raft_node::MAX_NODES).contains(&servers) {
                eprintln!(
                    "raft-node simulate: --servers {servers} is out of range 1..={}",
                    raft_node::MAX_NODES
                );
                return ExitCode::from(2);
            }
            let opts = SimOptions {
                servers,
                duration_ms,
                faults,
                partitions: !no_partitions,
                crash_per_mille: if no_crashes {
                    0
                } else {
                    SimOptions::default().crash_per_mille
                },
                kv,
                reconfigs,
                reads,
                ..SimOptions::default()
            };
            let (mut steps, mut commits, mut writes, mut changes) = (0usize, 0usize, 0usize, 0);
            let (mut operations, mut explored) = (0usize, 0usize);
            let start = std::time::Instant::now();
            for seed in range.clone() {
                let run = match simulate(seed, &opts) {
                    Ok(run) => run,
                    Err(e) => {
                        eprintln!("seed {seed}: the simulation failed: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                if let Some(dir) = &record {
                    let _ = std::fs::create_dir_all(dir);
                    let path = dir.join(format!("seed-{seed}.jsonl"));
                    if let Err(e) = std::fs::write(&path, to_json_lines(&run.events)) {
                        eprintln!("writing {}: {e}", path.display());
                        return ExitCode::FAILURE;
                    }
                }
                let checked = raft_node::validate(servers, &run.events)
                    .map_err(|e| e.to_string())
                    .and_then(|v| {
                        if kv {
                            check_service(&run)
                                .map_err(|why| format!("the key-value service: {why}"))?;
                        }
                        if reads {
                            let found = raft_node::linearize::check(&run.history).map_err(|e| {
                                format!("the client history is not linearizable: {e}")
                            })?;
                            operations += found.operations;
                            explored += found.explored;
                        }
                        Ok(v)
                    });
                match checked {
                    Ok(v) => {
                        steps += v.steps;
                        commits += v.commits;
                        writes += run.committed_writes.len();
                        changes += v.by_action.get("Reconfig").copied().unwrap_or(0);
                    }
                    Err(e) => {
                        eprintln!("seed {seed}: {e}");
                        eprintln!(
                            "replay: raft-node simulate --seeds {seed} --servers {servers} --duration-ms {duration_ms} --faults {}{}{}{}{}{} --record DIR",
                            if faults == Faults::NONE { "none" } else { "some" },
                            if no_partitions { " --no-partitions" } else { "" },
                            if no_crashes { " --no-crashes" } else { "" },
                            if kv { " --kv" } else { "" },
                            if reconfigs { " --reconfigs" } else { "" },
                            if reads { " --reads" } else { "" },
                        );
                        return ExitCode::FAILURE;
                    }
                }
            }
            let mut changes = if reconfigs {
                format!(", {changes} reconfigs")
            } else {
                String::new()
            };
            if reads {
                changes += &format!(
                    "; client histories linearizable: {operations} operations, {explored} configurations explored"
                );
            }
            println!(
                "{} seeds validated: {steps} node steps, {commits} commits, {writes} acknowledged writes{changes} ({:.1} s)",
                range.end.saturating_sub(range.start),
                start.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Command::Validate {
            files,
            servers,
            members,
        } => {
            let members = match members_set(&members, servers) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("raft-node validate: {e}");
                    return ExitCode::from(2);
                }
            };
            let mut parts = Vec::new();
            for file in &files {
                let text = match std::fs::read_to_string(file) {
                    Ok(t) => t,
                    Err(e) => {
                        eprintln!("reading {}: {e}", file.display());
                        return ExitCode::FAILURE;
                    }
                };
                match read_json_lines_lenient(&text) {
                    Ok(e) => parts.push(e),
                    Err(e) => {
                        eprintln!("{}: {e}", file.display());
                        return ExitCode::FAILURE;
                    }
                }
            }
            let events = if parts.len() == 1 {
                parts.pop().expect("one part")
            } else {
                raft_node::merge_by_causality(parts)
            };
            let name = files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(" + ");
            match raft_node::validate_from(servers, members, &events, None) {
                Ok(v) => {
                    println!(
                        "{name}: {} events, {} node steps, {} commits: a behaviour of message-raft, mapped to log-abstract",
                        events.len(),
                        v.steps,
                        v.commits
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{name}: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn run_cluster(nodes: usize, spares: usize, dir: Option<PathBuf>, base_port: u16) -> ExitCode {
    if nodes == 0 || nodes + spares > raft_node::MAX_NODES {
        eprintln!(
            "raft-node cluster: --nodes {nodes} --spares {spares}: at least one node, at most {} in all",
            raft_node::MAX_NODES
        );
        return ExitCode::from(2);
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("raft-node cluster: where is this program? {e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("raft-node-cluster-{}", std::process::id()))
    });
    let mut cluster =
        match LocalCluster::start_with_spares(&exe, nodes, spares, &dir, base_port, &[]) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("raft-node cluster: {e}");
                return ExitCode::FAILURE;
            }
        };
    print!("{}", cluster.describe());
    let stopped = runtime().block_on(async {
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return None,
                _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {
                    if let Some(gone) = cluster.reap() {
                        println!("{gone}");
                    }
                    if cluster.running() == 0 {
                        return Some("every node has exited");
                    }
                }
            }
        }
    });
    cluster.stop();
    println!(
        "cluster stopped ({}); data and records kept in {}",
        stopped.unwrap_or("Ctrl-C"),
        dir.display()
    );
    ExitCode::SUCCESS
}

fn run_bench(opts: &bench::BenchOptions) -> ExitCode {
    if let Err(e) = opts.check() {
        eprintln!("raft-node bench: {e}");
        return ExitCode::from(2);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("command: raft-node {}", args.join(" "));
    println!("machine: {}", bench::machine());
    println!(
        "load: 3 nodes per system on loopback; {} clients, one put in flight each, {}-byte values, distinct keys; {} s measured after {} s of warm-up",
        opts.clients,
        opts.value_size,
        opts.duration.as_secs(),
        opts.warmup.as_secs()
    );
    println!("fsync: raft-node fdatasync of each batch's WAL records (one group commit) before the batch's messages and acknowledgements leave a node; steps not recorded (no --record)");
    match &opts.etcd_bin {
        Some(bin) => println!(
            "fsync: etcd {} ({}), defaults: fdatasync of its WAL before acknowledging; clients send to the leader (JSON gateway, keep-alive HTTP/1.1)",
            bench::etcd_version(bin),
            bin.display()
        ),
        None => println!("etcd: not run (--no-etcd)"),
    }
    let results = runtime().block_on(bench::run(opts));
    match results {
        Ok(results) => {
            print!("{}", bench::table(&results));
            println!("after: {}", bench::load());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("raft-node bench: {e}");
            ExitCode::FAILURE
        }
    }
}
