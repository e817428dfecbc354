//! A cluster of real `raft-node serve` processes on loopback: write through the client, kill
//! -9 the primary under write load, read the write back from the new primary (and every
//! acknowledged write of the load), restart the killed node; then
//! the nodes' records, merged by causality, validate against the spec. And `raft-node
//! cluster` itself: it starts, serves, and stops every node on Ctrl-C (SIGINT).
//!
//! Every wait is bounded; every process is killed when the test ends, failed or not.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use message_raft::NodeRole;
use raft_node::client::{Client, NodeStatus};
use raft_node::cluster::LocalCluster;
use raft_node::record::read_json_lines_lenient;

const EXE: &str = env!("CARGO_BIN_EXE_raft-node");

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raft-node-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The statuses of the nodes that answer.
async fn statuses(addrs: &[SocketAddr]) -> Vec<NodeStatus> {
    let mut client = Client::new(addrs.to_vec());
    client.attempt_timeout = Duration::from_secs(2);
    client
        .status_all()
        .await
        .into_iter()
        .filter_map(|(_, s)| s.ok())
        .collect()
}

/// Waits (at most 20 s) for a node that is primary in the highest term any node has.
async fn primary(addrs: &[SocketAddr]) -> NodeStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let all = statuses(addrs).await;
        let top = all.iter().map(|s| s.term).max().unwrap_or(0);
        if let Some(p) = all
            .iter()
            .find(|s| s.role == NodeRole::Primary && s.term == top)
        {
            return p.clone();
        }
        assert!(Instant::now() < deadline, "no primary within 20 s: {all:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn validate_records(records: &[PathBuf], servers: usize) -> raft_node::Validation {
    let parts: Vec<_> = records
        .iter()
        .map(|r| read_json_lines_lenient(&std::fs::read_to_string(r).unwrap()).unwrap())
        .collect();
    let events = raft_node::merge_by_causality(parts);
    raft_node::validate(servers, &events).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn kill_the_primary_and_read_the_write_back() {
    let dir = fresh_dir("kill-primary");
    let mut cluster = LocalCluster::start(Path::new(EXE), 3, &dir, 0, &[]).unwrap();
    let addrs = cluster.client_addrs();
    let rt = runtime();
    let mut client = Client::new(addrs.clone());
    client.timeout = Duration::from_secs(20);
    let (old, (index, _)) = rt.block_on(async {
        for k in 0..5 {
            client
                .put(&format!("k{k}"), &format!("v{k}"))
                .await
                .unwrap();
        }
        let written = client.put("answer", "42").await.unwrap();
        (primary(&addrs).await, written)
    });
    eprintln!("primary before: n{} (term {})", old.id + 1, old.term);
    // Write load across the kill: a writer puts w0, w1, ... (each with a short deadline,
    // so that a write stuck on the dead primary is given up and the next one goes on).
    let writer = {
        let addrs = addrs.clone();
        std::thread::spawn(move || {
            runtime().block_on(async {
                let mut client = Client::new(addrs);
                client.timeout = Duration::from_secs(2);
                client.attempt_timeout = Duration::from_millis(500);
                let mut acknowledged = Vec::new();
                for k in 0..60 {
                    if client.put(&format!("w{k}"), &format!("x{k}")).await.is_ok() {
                        acknowledged.push(k);
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                acknowledged
            })
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    cluster.kill(old.id as usize);
    let acknowledged = writer.join().unwrap();
    eprintln!(
        "{} of 60 writes under load acknowledged",
        acknowledged.len()
    );
    assert!(!acknowledged.is_empty());

    let new = rt.block_on(async {
        let (value, stale) = client.get("answer", false).await.unwrap();
        assert_eq!(
            value.as_deref(),
            Some("42"),
            "the write survives its primary"
        );
        assert!(!stale, "read through the log: confirmed by the new primary");
        let new = primary(&addrs).await;
        assert_ne!(new.id, old.id);
        assert!(new.term > old.term);
        assert!(new.applied >= index, "the new primary applied the write");
        for k in &acknowledged {
            assert_eq!(
                client.get(&format!("w{k}"), false).await.unwrap().0,
                Some(format!("x{k}")),
                "the acknowledged write w{k} is present"
            );
        }
        client.put("after", "failover").await.unwrap();
        new
    });
    eprintln!("primary after: n{} (term {})", new.id + 1, new.term);

    // The killed node restarts from its data directory and catches up.
    cluster.spawn(old.id as usize).unwrap();
    rt.block_on(async {
        let target = primary(&addrs).await.last_index;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let back = statuses(&addrs[old.id as usize..=old.id as usize]).await;
            if back.first().is_some_and(|s| s.last_index >= target) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "n{} did not catch up: {back:?}",
                old.id + 1
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            client.get("after", false).await.unwrap().0.as_deref(),
            Some("failover")
        );
    });

    cluster.stop();
    let v = validate_records(&cluster.records(), 3);
    eprintln!("{v:?}");
    assert!(
        v.commits >= 8 + acknowledged.len(),
        "every acknowledged write committed: {v:?}"
    );
    drop(cluster);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `raft-node cluster`, killed (SIGKILL) when the test ends in any way.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_cluster_command_serves_and_stops_on_ctrl_c() {
    let dir = fresh_dir("cluster-command");
    let mut child = Guard(
        Command::new(EXE)
            .args(["cluster", "--nodes", "3", "--base-port", "0", "--dir"])
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    // Its description, up to "Ctrl-C stops the cluster." (read on a thread, so that the
    // wait is bounded).
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut text = String::new();
    while !text.contains("Ctrl-C stops the cluster.") {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("no description within 20 s ({e}): {text}"));
        text += &line;
        text.push('\n');
    }
    let addrs: Vec<SocketAddr> = text
        .split_whitespace()
        .skip_while(|w| *w != "--addr")
        .nth(1)
        .unwrap()
        .split(',')
        .map(|a| a.parse().unwrap())
        .collect();
    assert_eq!(addrs.len(), 3);

    let status = Command::new(EXE)
        .args([
            "put",
            "--addr",
            &addrs
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(","),
        ])
        .args(["--timeout-ms", "20000", "greeting", "hello"])
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let got = Command::new(EXE)
        .args(["get", "--addr", &addrs[2].to_string(), "greeting"])
        .args(["--timeout-ms", "20000"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&got.stdout).trim(),
        "hello",
        "{got:?}"
    );

    // Ctrl-C: SIGINT to the cluster process; it stops every node and exits.
    let pid = child.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.0.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the cluster did not stop within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let rt = runtime();
    assert!(
        rt.block_on(statuses(&addrs)).is_empty(),
        "no node answers after the cluster stopped"
    );
    let records: Vec<PathBuf> = (1..=3).map(|k| dir.join(format!("n{k}.jsonl"))).collect();
    let v = validate_records(&records, 3);
    assert!(v.commits >= 1);
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The benchmark's machinery, raft-node alone for one second (`raft-node bench --no-etcd`):
/// it starts a 3-node cluster, measures, prints its table of one row, removes its data and
/// exits 0. And an etcd program that is not there is refused, with how to install it, before
/// anything starts. (No figure is checked: this is not the benchmark.)
#[test]
fn the_bench_command_measures_raft_node_alone() {
    let dir = fresh_dir("bench");
    let out = Command::new(EXE)
        .args(["bench", "--no-etcd", "--clients", "2", "--warmup-secs", "0"])
        .args(["--duration-secs", "1", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "command: raft-node bench --no-etcd --clients 2 --warmup-secs 0 --duration-secs 1 --dir {}",
            dir.display()
        )
    );
    let header = lines
        .iter()
        .position(|l| l.starts_with("system "))
        .expect("a table");
    let row: Vec<&str> = lines[header + 1].split_whitespace().collect();
    assert_eq!(
        (row[0], row[1], row.len()),
        ("raft-node", "1", 8),
        "{stdout}"
    );
    assert!(
        row[3].parse::<u64>().unwrap() > 0,
        "puts acknowledged: {stdout}"
    );
    assert!(
        lines[header + 2].starts_with("after: load average"),
        "{stdout}"
    );
    assert_eq!(lines.len(), header + 3, "{stdout}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "the bench's data directory is removed"
    );

    let missing = Command::new(EXE)
        .args(["bench", "--etcd-bin", "/nonexistent/etcd", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "raft-node bench: --etcd-bin /nonexistent/etcd: no such file; install it with `apt-get install -y etcd-server etcd-client` (Debian, Ubuntu), pass --etcd-bin PATH, or run raft-node alone with --no-etcd\n"
    );
    assert!(missing.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
