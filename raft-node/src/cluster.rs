//! A local cluster: one `raft-node serve` process per node on loopback ports, each with its
//! own data directory, record and log file under one directory. Used by `raft-node cluster`
//! and by the process tests; every node process is killed when the [`LocalCluster`] is
//! dropped (and each exits by itself if its parent goes away: `serve --exit-with-parent`).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// One node of a [`LocalCluster`].
#[derive(Debug)]
pub struct LocalNode {
    /// Its address for the nodes' protocol.
    pub raft_addr: SocketAddr,
    /// Its client address.
    pub client_addr: SocketAddr,
    /// Its data directory.
    pub data: PathBuf,
    /// Its record (JSON lines).
    pub record: PathBuf,
    /// Its process's stdout and stderr.
    pub log: PathBuf,
    child: Option<Child>,
}

/// A cluster of node processes.
#[derive(Debug)]
pub struct LocalCluster {
    exe: PathBuf,
    /// Where the nodes' files are.
    pub dir: PathBuf,
    /// The nodes, n1 first.
    pub nodes: Vec<LocalNode>,
    extra: Vec<String>,
    /// Whether the nodes record their steps (`serve --record`; not when started with
    /// [`LocalCluster::start_unrecorded`]).
    record: bool,
    /// Nodes in the first config (n1..): the rest of the peer table are spares.
    members: usize,
}

fn free_ports(count: usize) -> Result<Vec<u16>, String> {
    // Bound together, so that they differ; released just before the nodes bind them.
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").map_err(|e| format!("finding a free port: {e}")))
        .collect::<Result<_, _>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()).map_err(|e| e.to_string()))
        .collect()
}

impl LocalCluster {
    /// Starts `n` nodes of the program `exe` (a `raft-node` binary) with their files under
    /// `dir`: client ports `base_port + 1..`, protocol ports `base_port + 101..`, or free
    /// ports if `base_port` is 0. `extra` is passed to every `serve`.
    pub fn start(
        exe: &Path,
        n: usize,
        dir: &Path,
        base_port: u16,
        extra: &[&str],
    ) -> Result<LocalCluster, String> {
        Self::start_with(exe, n, 0, dir, base_port, extra, true)
    }

    /// [`LocalCluster::start`], with nodes that record nothing (for the benchmark: each
    /// recorded step carries the node's whole log).
    pub fn start_unrecorded(
        exe: &Path,
        n: usize,
        dir: &Path,
        base_port: u16,
        extra: &[&str],
    ) -> Result<LocalCluster, String> {
        Self::start_with(exe, n, 0, dir, base_port, extra, false)
    }

    /// [`LocalCluster::start`] with a peer table of `n + spares` nodes whose first config is
    /// n1..=n (`serve --members`): the `spares` are not started (see [`LocalCluster::spawn`]).
    pub fn start_with_spares(
        exe: &Path,
        members: usize,
        spares: usize,
        dir: &Path,
        base_port: u16,
        extra: &[&str],
    ) -> Result<LocalCluster, String> {
        Self::start_with(exe, members, spares, dir, base_port, extra, true)
    }

    fn start_with(
        exe: &Path,
        members: usize,
        spares: usize,
        dir: &Path,
        base_port: u16,
        extra: &[&str],
        record: bool,
    ) -> Result<LocalCluster, String> {
        let n = members + spares;
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let (client_ports, raft_ports): (Vec<u16>, Vec<u16>) = if base_port == 0 {
            let ports = free_ports(2 * n)?;
            (ports[..n].to_vec(), ports[n..].to_vec())
        } else {
            let port = |k: usize| {
                base_port
                    .checked_add(k as u16)
                    .ok_or_else(|| format!("--base-port {base_port} is too high"))
            };
            (
                (1..=n).map(port).collect::<Result<_, _>>()?,
                (101..=100 + n).map(port).collect::<Result<_, _>>()?,
            )
        };
        let loopback = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        let nodes = (0..n)
            .map(|k| LocalNode {
                raft_addr: loopback(raft_ports[k]),
                client_addr: loopback(client_ports[k]),
                data: dir.join(format!("n{}", k + 1)),
                record: dir.join(format!("n{}.jsonl", k + 1)),
                log: dir.join(format!("n{}.log", k + 1)),
                child: None,
            })
            .collect();
        let mut cluster = LocalCluster {
            exe: exe.to_path_buf(),
            dir: dir.to_path_buf(),
            nodes,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            record,
            members,
        };
        for k in 0..members {
            cluster.spawn(k)?;
        }
        Ok(cluster)
    }

    /// Starts (or restarts, on its data directory and record) node `k` (n1 is 0).
    pub fn spawn(&mut self, k: usize) -> Result<(), String> {
        let join = |addrs: Vec<SocketAddr>| {
            addrs
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let peers = join(self.nodes.iter().map(|n| n.raft_addr).collect());
        let clients = join(self.client_addrs());
        let members_args: Vec<String> = self
            .members_flag()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let node = &mut self.nodes[k];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log)
            .map_err(|e| format!("opening {}: {e}", node.log.display()))?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(&self.exe);
        command
            .arg("serve")
            .args(["--id", &(k + 1).to_string()])
            .args(["--peers", &peers])
            .arg("--data")
            .arg(&node.data)
            .args(["--client-addr", &node.client_addr.to_string()])
            .args(["--client-peers", &clients]);
        if self.record {
            command.arg("--record").arg(&node.record);
        }
        let child = command
            .arg("--exit-with-parent")
            .args(members_args)
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", self.exe.display()))?;
        node.child = Some(child);
        Ok(())
    }

    fn members_flag(&self) -> String {
        if self.members < self.nodes.len() {
            format!(
                " --members {}",
                (1..=self.members)
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        } else {
            String::new()
        }
    }

    /// The `serve` command line that starts node `k` (as [`LocalCluster::spawn`] does, but
    /// for `--exit-with-parent`).
    pub fn serve_command(&self, k: usize) -> String {
        let join = |addrs: Vec<SocketAddr>| {
            addrs
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let node = &self.nodes[k];
        format!(
            "{} serve --id {} --peers {} --data {} --client-addr {} --client-peers {} --record {}{} {}",
            self.exe.display(),
            k + 1,
            join(self.nodes.iter().map(|n| n.raft_addr).collect()),
            node.data.display(),
            node.client_addr,
            join(self.client_addrs()),
            node.record.display(),
            self.members_flag(),
            self.extra.join(" ")
        )
        .trim_end()
        .to_string()
    }

    /// Kills node `k` with SIGKILL (`kill -9`) and waits for it.
    pub fn kill(&mut self, k: usize) {
        if let Some(mut child) = self.nodes[k].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The process id of node `k`, if it runs.
    pub fn pid(&self, k: usize) -> Option<u32> {
        self.nodes[k].child.as_ref().map(|c| c.id())
    }

    /// Notes a node that exited by itself: a line saying so, if one did.
    pub fn reap(&mut self) -> Option<String> {
        for (k, node) in self.nodes.iter_mut().enumerate() {
            if let Some(child) = node.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    node.child = None;
                    return Some(format!(
                        "n{} exited ({status}); its log: {}",
                        k + 1,
                        node.log.display()
                    ));
                }
            }
        }
        None
    }

    /// How many nodes run.
    pub fn running(&self) -> usize {
        self.nodes.iter().filter(|n| n.child.is_some()).count()
    }

    /// Kills every node.
    pub fn stop(&mut self) {
        for k in 0..self.nodes.len() {
            self.kill(k);
        }
    }

    /// The nodes' client addresses.
    pub fn client_addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(|n| n.client_addr).collect()
    }

    /// The nodes' records.
    pub fn records(&self) -> Vec<PathBuf> {
        self.nodes.iter().map(|n| n.record.clone()).collect()
    }

    /// How to talk to the cluster.
    pub fn describe(&self) -> String {
        let addrs = self
            .client_addrs()
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let mut out = format!(
            "{} nodes running; data, records and logs in {}\n",
            self.running(),
            self.dir.display()
        );
        for (k, n) in self.nodes.iter().enumerate() {
            out += &format!(
                "  n{}: clients {}  peers {}  pid {}\n",
                k + 1,
                n.client_addr,
                n.raft_addr,
                self.pid(k).map_or("-".into(), |p| p.to_string())
            );
        }
        let records = self
            .records()
            .iter()
            .map(|r| r.display().to_string())
            .collect::<Vec<_>>()
            .join(" ");
        out += &format!(
            "talk to it:\n  raft-node put --addr {addrs} KEY VALUE\n  raft-node get --addr {addrs} KEY\n  raft-node status --addr {addrs}\n  raft-node remove-node --addr {addrs} ID    (the primary too: it steps down first)\n  raft-node add-node --addr {addrs} ID\nafterwards, check the run against the spec:\n  raft-node validate --servers {}{} {records}\nCtrl-C stops the cluster.\n",
            self.nodes.len(),
            self.members_flag()
        );
        for k in self.members..self.nodes.len() {
            out += &format!(
                "spare n{} (outside the config, not started): `raft-node add-node --addr {addrs} {}`, then start it with:\n  {}\n",
                k + 1,
                k + 1,
                self.serve_command(k)
            );
        }
        out
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.stop();
    }
}
