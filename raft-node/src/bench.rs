//! `raft-node bench`: acknowledged writes per second and latency percentiles of a 3-node
//! raft-node cluster on loopback, side by side with a 3-node etcd cluster on the same machine
//! under the same load, in one run.
//!
//! The load is closed-loop, as etcd's own `benchmark put`: a fixed number of clients, each
//! with one connection to the primary (the leader, for etcd), each sending one put, waiting
//! for its acknowledgement, and sending the next. Writes acknowledged during a warm-up are not
//! counted; then every put acknowledged within the measured window counts, with its latency
//! (from sending the request to reading the acknowledgement).
//!
//! Both systems make a write durable before acknowledging it: a raft-node node `fdatasync`s
//! each batch's records (one group commit) before sending that batch's messages or
//! acknowledgements; etcd `fdatasync`s its write-ahead log before it acknowledges (its
//! default). Both run as 3 processes on loopback with their data in a temporary directory;
//! the benchmark starts them, and kills every process it started when it ends, on an error
//! too, and on Ctrl-C or SIGTERM.
//!
//! The etcd side speaks etcd's v3 API as JSON over HTTP (its gRPC gateway: `POST
//! /v3/kv/put` with base64 key and value), through a small keep-alive HTTP/1.1 client: no
//! gRPC dependency.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::client::{read_frame, write_frame, Client, Op, Reply, Request, Response};
use crate::cluster::LocalCluster;

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Concurrent clients (one connection each, one request in flight each).
    pub clients: usize,
    /// Warm-up before the measured window.
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
    /// Bytes per value.
    pub value_size: usize,
    /// The `raft-node` program to run the nodes with.
    pub raft_node_bin: PathBuf,
    /// The `etcd` program, or `None` to bench raft-node alone.
    pub etcd_bin: Option<PathBuf>,
    /// Rounds: each runs raft-node, then etcd, on fresh clusters.
    pub rounds: usize,
    /// Where the clusters' data directories go (a new directory under it, removed at the end).
    pub dir: PathBuf,
}

/// The largest `--value-size`: a put's frame (the value, and its key and envelope, in JSON)
/// stays under the client protocol's 1 MiB, and under etcd's 1.5 MiB request limit.
pub const MAX_VALUE: usize = 512 * 1024;

/// One system's figures in one round.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchResult {
    /// `raft-node` or `etcd`.
    pub system: String,
    /// The round (from 1).
    pub round: usize,
    /// Puts acknowledged in the measured window.
    pub acked: u64,
    /// Puts answered with an error (or not answered) in the measured window.
    pub errors: u64,
    /// The window's length, seconds.
    pub seconds: f64,
    /// Latency percentiles of the acknowledged puts, microseconds: p50, p99, max.
    pub p50_us: u64,
    /// p99.
    pub p99_us: u64,
    /// Max.
    pub max_us: u64,
}

impl BenchResult {
    /// Acknowledged writes per second.
    pub fn rate(&self) -> f64 {
        self.acked as f64 / self.seconds
    }
}

/// Where the `etcd` program is: `explicit`, or `etcd` on `PATH`; an error that says how to
/// install it if neither.
pub fn find_etcd(explicit: Option<&Path>) -> Result<PathBuf, String> {
    const HOW: &str = "install it with `apt-get install -y etcd-server etcd-client` (Debian, Ubuntu), pass --etcd-bin PATH, or run raft-node alone with --no-etcd";
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(format!("--etcd-bin {}: no such file; {HOW}", p.display()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("etcd"))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("etcd is not on PATH; {HOW}"))
}

/// The version line of an `etcd` program (`etcd --version`), or `?`.
pub fn etcd_version(bin: &Path) -> String {
    Command::new(bin)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("etcd Version: ").map(str::to_string))
        })
        .unwrap_or_else(|| "?".into())
}

/// Runs the benchmark: for each round, raft-node then etcd (if given), each on a fresh
/// cluster that is stopped before the next starts. Stops at the first failure, or at Ctrl-C
/// or SIGTERM (every process it started is killed, and the data removed, in every case).
pub async fn run(opts: &BenchOptions) -> Result<Vec<BenchResult>, String> {
    let interrupted = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| format!("installing a SIGTERM handler: {e}"))?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        Err::<Vec<BenchResult>, String>("interrupted".into())
    };
    tokio::select! {
        r = run_rounds(opts) => r,
        r = interrupted => r,
    }
}

impl BenchOptions {
    /// Refuses options the benchmark cannot run with.
    pub fn check(&self) -> Result<(), String> {
        if self.clients == 0 || self.duration.is_zero() {
            return Err("--clients and --duration-secs must be at least 1".into());
        }
        if self.value_size > MAX_VALUE {
            return Err(format!(
                "--value-size {} is over {MAX_VALUE} bytes (a raft-node frame holds at most 1 MiB)",
                self.value_size
            ));
        }
        Ok(())
    }
}

async fn run_rounds(opts: &BenchOptions) -> Result<Vec<BenchResult>, String> {
    opts.check()?;
    let dir = TempDir::new(&opts.dir)?;
    let mut results = Vec::new();
    for round in 1..=opts.rounds {
        let raft_dir = dir.0.join(format!("raft-node-{round}"));
        results.push(bench_raft_node(opts, &raft_dir, round).await?);
        if let Some(etcd) = &opts.etcd_bin {
            let etcd_dir = dir.0.join(format!("etcd-{round}"));
            results.push(bench_etcd(opts, etcd, &etcd_dir, round).await?);
        }
    }
    Ok(results)
}

/// A directory removed (with everything in it) when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(parent: &Path) -> Result<TempDir, String> {
        let dir = parent.join(format!("raft-node-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One client's connection to a system.
enum Conn {
    RaftNode {
        addrs: Vec<SocketAddr>,
        at: usize,
        stream: Option<TcpStream>,
        next_id: u64,
    },
    Etcd(HttpConn),
}

impl Conn {
    /// One put; `Err` if it was not acknowledged (the connection is then re-established on
    /// the next put, at the primary the node named if it named one).
    async fn put(&mut self, key: &str, value: &str) -> Result<(), String> {
        match self {
            Conn::RaftNode {
                addrs,
                at,
                stream,
                next_id,
            } => {
                if stream.is_none() {
                    let s = TcpStream::connect(addrs[*at])
                        .await
                        .map_err(|e| format!("{}: {e}", addrs[*at]))?;
                    let _ = s.set_nodelay(true);
                    *stream = Some(s);
                }
                let s = stream.as_mut().expect("connected");
                *next_id += 1;
                let id = *next_id;
                let op = Op::Put {
                    key: key.into(),
                    value: value.into(),
                };
                let answer = async {
                    write_frame(s, &Request { id, op })
                        .await
                        .map_err(|e| e.to_string())?;
                    match read_frame::<_, Response>(s).await? {
                        Some(r) if r.id == id => Ok(r.reply),
                        Some(r) => Err(format!("answer to request {} for {id}", r.id)),
                        None => Err("closed".into()),
                    }
                };
                let reply = match answer.await {
                    Ok(r) => r,
                    Err(e) => {
                        *stream = None;
                        *at = (*at + 1) % addrs.len();
                        return Err(e);
                    }
                };
                match reply {
                    Reply::Done { .. } => Ok(()),
                    Reply::NotPrimary { primary_addr, .. } => {
                        *stream = None;
                        *at = primary_addr
                            .and_then(|p| p.parse().ok())
                            .and_then(|p| addrs.iter().position(|&a| a == p))
                            .unwrap_or((*at + 1) % addrs.len());
                        Err("not primary".into())
                    }
                    other => Err(format!("{other:?}")),
                }
            }
            Conn::Etcd(http) => {
                let body = format!(
                    "{{\"key\":\"{}\",\"value\":\"{}\"}}",
                    base64(key.as_bytes()),
                    base64(value.as_bytes())
                );
                let (status, reply) = http.post("/v3/kv/put", body.as_bytes()).await?;
                if status == 200 {
                    Ok(())
                } else {
                    Err(format!(
                        "HTTP {status}: {}",
                        String::from_utf8_lossy(&reply).trim()
                    ))
                }
            }
        }
    }
}

/// The closed-loop load: `opts.clients` clients made by `connect`, each putting its own keys
/// (`c{client}-{n}`) one after another.
async fn drive(
    opts: &BenchOptions,
    system: &str,
    round: usize,
    connect: impl Fn(usize) -> Conn,
) -> BenchResult {
    let start = Instant::now();
    let measured = start + opts.warmup;
    let end = measured + opts.duration;
    let value: String = "x".repeat(opts.value_size);
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..opts.clients {
        let mut conn = connect(c);
        let value = value.clone();
        tasks.spawn(async move {
            let mut latencies: Vec<u32> = Vec::new();
            let mut errors = 0u64;
            let mut n = 0u64;
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                n += 1;
                let key = format!("c{c}-{n}");
                let outcome = tokio::time::timeout_at(end + Duration::from_secs(5), async {
                    conn.put(&key, &value).await
                })
                .await;
                let done = Instant::now();
                let counted = sent >= measured && done <= end;
                match outcome {
                    Ok(Ok(())) if counted => {
                        latencies.push((done - sent).as_micros().min(u32::MAX as u128) as u32)
                    }
                    Ok(Ok(())) => {}
                    Ok(Err(_)) | Err(_) => {
                        if counted || sent >= measured {
                            errors += 1;
                        }
                        // Not a busy loop against a node that refuses or is electing.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
            (latencies, errors)
        });
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    while let Some(joined) = tasks.join_next().await {
        let (l, e) = joined.expect("a client task does not panic");
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_unstable();
    let pct = |p: f64| -> u64 {
        if latencies.is_empty() {
            return 0;
        }
        let k = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len());
        u64::from(latencies[k - 1])
    };
    BenchResult {
        system: system.into(),
        round,
        acked: latencies.len() as u64,
        errors,
        seconds: opts.duration.as_secs_f64(),
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        max_us: latencies.last().map_or(0, |&l| u64::from(l)),
    }
}

async fn bench_raft_node(
    opts: &BenchOptions,
    dir: &Path,
    round: usize,
) -> Result<BenchResult, String> {
    let cluster = LocalCluster::start_unrecorded(&opts.raft_node_bin, 3, dir, 0, &[])?;
    let addrs = cluster.client_addrs();
    // Ready when a put commits (a primary is elected and its no-op committed).
    let mut client = Client::new(addrs.clone());
    client.timeout = Duration::from_secs(20);
    client
        .put("bench-ready", "1")
        .await
        .map_err(|e| format!("the raft-node cluster did not become ready: {e}"))?;
    let primary = match client.ask(addrs[0], Op::Status).await {
        Ok(Reply::Status(s)) => s.primary.map_or(0, usize::from),
        _ => 0,
    };
    let result = drive(opts, "raft-node", round, |_| Conn::RaftNode {
        addrs: addrs.clone(),
        at: primary,
        stream: None,
        next_id: 0,
    })
    .await;
    drop(cluster);
    Ok(result)
}

/// A cluster of etcd processes on loopback, killed when dropped.
struct EtcdCluster {
    children: Vec<Child>,
    client_addrs: Vec<SocketAddr>,
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_ports(count: usize) -> Result<Vec<u16>, String> {
    let listeners: Vec<StdListener> = (0..count)
        .map(|_| StdListener::bind("127.0.0.1:0").map_err(|e| format!("finding a free port: {e}")))
        .collect::<Result<_, _>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()).map_err(|e| e.to_string()))
        .collect()
}

impl EtcdCluster {
    fn start(bin: &Path, n: usize, dir: &Path) -> Result<EtcdCluster, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let ports = free_ports(2 * n)?;
        let url = |p: u16| format!("http://127.0.0.1:{p}");
        let initial = (0..n)
            .map(|k| format!("e{}={}", k + 1, url(ports[n + k])))
            .collect::<Vec<_>>()
            .join(",");
        let mut cluster = EtcdCluster {
            children: Vec::new(),
            client_addrs: ports[..n]
                .iter()
                .map(|&p| SocketAddr::from(([127, 0, 0, 1], p)))
                .collect(),
        };
        for k in 0..n {
            let log_path = dir.join(format!("e{}.log", k + 1));
            let log = std::fs::File::create(&log_path)
                .map_err(|e| format!("creating {}: {e}", log_path.display()))?;
            let log2 = log.try_clone().map_err(|e| e.to_string())?;
            let child = Command::new(bin)
                .args(["--name", &format!("e{}", k + 1)])
                .arg("--data-dir")
                .arg(dir.join(format!("e{}", k + 1)))
                .args(["--listen-client-urls", &url(ports[k])])
                .args(["--advertise-client-urls", &url(ports[k])])
                .args(["--listen-peer-urls", &url(ports[n + k])])
                .args(["--initial-advertise-peer-urls", &url(ports[n + k])])
                .args(["--initial-cluster", &initial])
                .args(["--initial-cluster-state", "new"])
                .args([
                    "--initial-cluster-token",
                    &format!("raft-node-bench-{}", std::process::id()),
                ])
                .args(["--logger", "zap", "--log-level", "error"])
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log2)
                .spawn()
                .map_err(|e| format!("starting {}: {e}", bin.display()))?;
            cluster.children.push(child);
        }
        Ok(cluster)
    }

    /// The leader's client address, once every member answers and they agree on a leader.
    async fn leader(&mut self, within: Duration) -> Result<SocketAddr, String> {
        let deadline = Instant::now() + within;
        let mut last = String::from("no member answered");
        while Instant::now() < deadline {
            for (k, c) in self.children.iter_mut().enumerate() {
                if let Ok(Some(status)) = c.try_wait() {
                    return Err(format!("etcd member e{} exited ({status})", k + 1));
                }
            }
            let mut found = None;
            for &addr in &self.client_addrs {
                match member_status(addr).await {
                    Ok((member, leader)) if leader != 0 && member == leader => found = Some(addr),
                    Ok(_) => {}
                    Err(e) => last = e,
                }
            }
            if let Some(addr) = found {
                return Ok(addr);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("the etcd cluster has no leader: {last}"))
    }
}

/// An etcd member's id and the leader it knows of (`POST /v3/maintenance/status`).
async fn member_status(addr: SocketAddr) -> Result<(u64, u64), String> {
    let mut http = HttpConn::new(addr);
    let (status, body) = tokio::time::timeout(
        Duration::from_secs(1),
        http.post("/v3/maintenance/status", b"{}"),
    )
    .await
    .map_err(|_| format!("{addr}: no answer"))??;
    if status != 200 {
        return Err(format!("{addr}: HTTP {status}"));
    }
    let json: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("{addr}: {e}"))?;
    let num = |v: &serde_json::Value| -> u64 {
        v.as_str()
            .and_then(|s| s.parse().ok())
            .or(v.as_u64())
            .unwrap_or(0)
    };
    Ok((num(&json["header"]["member_id"]), num(&json["leader"])))
}

async fn bench_etcd(
    opts: &BenchOptions,
    bin: &Path,
    dir: &Path,
    round: usize,
) -> Result<BenchResult, String> {
    let mut cluster = EtcdCluster::start(bin, 3, dir)?;
    let leader = cluster.leader(Duration::from_secs(20)).await?;
    let mut conn = Conn::Etcd(HttpConn::new(leader));
    conn.put("bench-ready", "1")
        .await
        .map_err(|e| format!("etcd did not take a put: {e}"))?;
    let result = drive(opts, "etcd", round, |_| Conn::Etcd(HttpConn::new(leader))).await;
    drop(cluster);
    Ok(result)
}

/// A keep-alive HTTP/1.1 connection for small JSON requests (reconnects when the server
/// closes it).
struct HttpConn {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

/// The largest response body read.
const MAX_BODY: usize = 1 << 20;

impl HttpConn {
    fn new(addr: SocketAddr) -> HttpConn {
        HttpConn { addr, stream: None }
    }

    /// `POST path` with a JSON body: the status and the response body.
    async fn post(&mut self, path: &str, body: &[u8]) -> Result<(u16, Vec<u8>), String> {
        let result = self.exchange(path, body).await;
        if result.is_err() {
            self.stream = None;
        }
        result.map_err(|e| format!("{}: {e}", self.addr))
    }

    async fn exchange(&mut self, path: &str, body: &[u8]) -> Result<(u16, Vec<u8>), String> {
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr)
                .await
                .map_err(|e| e.to_string())?;
            let _ = s.set_nodelay(true);
            self.stream = Some(BufReader::new(s));
        }
        let s = self.stream.as_mut().expect("connected");
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        s.get_mut()
            .write_all(&request)
            .await
            .map_err(|e| e.to_string())?;

        let mut line = String::new();
        read_line(s, &mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("a bad status line {line:?}"))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        for _ in 0..100 {
            read_line(s, &mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                let body = if chunked {
                    read_chunked(s).await?
                } else {
                    let len = length.ok_or("a response with no length")?;
                    if len > MAX_BODY {
                        return Err(format!("a response body of {len} bytes"));
                    }
                    let mut body = vec![0; len];
                    s.read_exact(&mut body).await.map_err(|e| e.to_string())?;
                    body
                };
                if close {
                    self.stream = None;
                }
                return Ok((status, body));
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().ok(),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        Err("more than 100 header lines".into())
    }
}

async fn read_line(s: &mut BufReader<TcpStream>, line: &mut String) -> Result<(), String> {
    line.clear();
    let n = s.read_line(line).await.map_err(|e| e.to_string())?;
    if n == 0 {
        return Err("closed".into());
    }
    Ok(())
}

async fn read_chunked(s: &mut BufReader<TcpStream>) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        read_line(s, &mut line).await?;
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|_| format!("a bad chunk size {line:?}"))?;
        if body.len() + size > MAX_BODY {
            return Err("a response body over 1 MiB".into());
        }
        if size == 0 {
            // Trailers, up to the blank line.
            for _ in 0..100 {
                read_line(s, &mut line).await?;
                if line.trim_end().is_empty() {
                    return Ok(body);
                }
            }
            return Err("more than 100 trailer lines".into());
        }
        let at = body.len();
        body.resize(at + size, 0);
        s.read_exact(&mut body[at..])
            .await
            .map_err(|e| e.to_string())?;
        read_line(s, &mut line).await?;
    }
}

/// Standard base64 with padding (what etcd's JSON gateway takes for bytes).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The machine facts printed with the table: logical cores, and the load average now.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "?".into());
    format!("{cores} cores available ({model}), {}", load())
}

/// The load average (`/proc/loadavg`: 1, 5, 15 minutes).
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().take(3).collect();
            format!("load average {}", f.join(" "))
        })
        .unwrap_or_else(|_| "load average ?".into())
}

/// The results as one table.
pub fn table(results: &[BenchResult]) -> String {
    let mut out = format!(
        "{:<10} {:>5} {:>10} {:>9} {:>8} {:>8} {:>8} {:>7}\n",
        "system", "round", "writes/s", "acked", "p50 ms", "p99 ms", "max ms", "errors"
    );
    for r in results {
        out += &format!(
            "{:<10} {:>5} {:>10.0} {:>9} {:>8.2} {:>8.2} {:>8.2} {:>7}\n",
            r.system,
            r.round,
            r.rate(),
            r.acked,
            r.p50_us as f64 / 1000.0,
            r.p99_us as f64 / 1000.0,
            r.max_us as f64 / 1000.0,
            r.errors
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc_4648_examples() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
    }
}
