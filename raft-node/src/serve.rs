//! One node as a process: its write-ahead file, its TCP transport to its peers, the node task
//! with the key-value service, a client server, and a record of its steps.
//!
//! The record (JSON lines, one per step, written as each step is recorded, before its
//! messages leave) survives a `kill -9` but for a torn last line. A node restarted on the same
//! data directory and record file continues the record: the torn line is dropped, and so are
//! its last recorded steps whose durable variables its storage does not hold (recorded, then
//! killed before the batch's group commit, so before any of their sends), the
//! restart is recorded as the spec's `Restart` (if the recovered variables differ from the
//! last recorded ones), and its logical clock continues past the last recorded step's. The
//! records of a cluster's nodes, merged by causality, validate with [`crate::validate()`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use message_raft::NodeState;
use spec_core::ServerSet;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::client::ClientServer;
use crate::record::{read_json_lines_lenient, to_json_lines, Event, Input, LocalState, Recorder};
use crate::runtime::{run_service, NodeOptions, Service};
use crate::storage::Wal;
use crate::tcp::TcpTransport;

/// What `raft-node serve` runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// This node's id, `0..peers.len()`.
    pub id: u8,
    /// Every node's address for the nodes' protocol, in id order (this node's included).
    pub peers: Vec<SocketAddr>,
    /// The data directory.
    pub data: PathBuf,
    /// Where clients connect.
    pub client_addr: SocketAddr,
    /// Every node's client address, in id order, if known (for redirects).
    pub client_peers: Vec<Option<String>>,
    /// The record file, if any.
    pub record: Option<PathBuf>,
    /// Election timeout range, milliseconds.
    pub election_timeout_ms: (u64, u64),
    /// Heartbeat interval, milliseconds.
    pub heartbeat_ms: u64,
    /// How long a write waits for its commit, milliseconds.
    pub commit_timeout_ms: u64,
    /// Stop when the parent process goes away (for nodes a `cluster` started).
    pub exit_with_parent: bool,
    /// The config of a new cluster (members, as node ids from 0); `None`: every peer. A
    /// node's data directory keeps its config once created, so this matters on first start
    /// only; every node of a cluster must be given the same.
    pub members: Option<ServerSet>,
    /// Let clients set the transport's fault hook (`Op::CutOff`): for fault tests only.
    pub fault_hooks: bool,
    /// Compact the write-ahead file once this many bytes were appended since its last
    /// snapshot ([`NodeOptions::wal_compact_bytes`]; 0: never).
    pub wal_compact_bytes: u64,
}

/// Whether two recorded states have the same durable variables.
fn same_durable(a: &LocalState, b: &LocalState) -> bool {
    (a.term, a.voted_for, &a.log, a.config) == (b.term, b.voted_for, &b.log, b.config)
}

/// Continues the record at `path` for node `id`, whose storage recovered `durable`: drops a
/// torn last line, and the node's last steps if their durable variables are not on disk (the
/// process was killed after recording a batch and before its group commit: those steps had
/// no effect outside the node, whose sends and acknowledgements follow the commit); returns
/// the number of events kept and the node's last recorded clock and variables.
fn continue_record(
    path: &std::path::Path,
    id: u8,
    durable: &LocalState,
) -> Result<(u64, u64, Option<LocalState>), String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0, None)),
        Err(e) => return Err(format!("reading {}: {e}", path.display())),
    };
    let mut events =
        read_json_lines_lenient(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    while let Some(Event::Step { node, state, .. }) = events.last() {
        if *node != id || same_durable(state, durable) {
            break;
        }
        events.pop();
    }
    if to_json_lines(&events) != text {
        // A torn last line (or blank lines): keep the complete events only.
        std::fs::write(path, to_json_lines(&events))
            .map_err(|e| format!("rewriting {}: {e}", path.display()))?;
    }
    let last = events.iter().rev().find_map(|e| match e {
        Event::Step {
            node, clock, state, ..
        } if *node == id => Some((*clock, state.clone())),
        _ => None,
    });
    Ok((
        events.len() as u64,
        last.as_ref().map_or(0, |l| l.0),
        last.map(|l| l.1),
    ))
}

/// The lock of a data directory: the file `lock` in it holds the owning process's id. A lock
/// whose process is gone (killed by `kill -9`, say) is taken over; one whose process runs
/// (`/proc/PID` exists) refuses the directory. Removed when the node stops.
#[derive(Debug)]
pub struct DirLock(PathBuf);

impl DirLock {
    /// Takes the lock of `dir` (created if missing), or says which process holds it.
    pub fn take(dir: &std::path::Path) -> Result<DirLock, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let path = dir.join("lock");
        let me = std::process::id();
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(me.to_string().as_bytes())
                        .map_err(|e| format!("writing {}: {e}", path.display()))?;
                    return Ok(DirLock(path));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let owner = std::fs::read_to_string(&path).unwrap_or_default();
                    let owner = owner.trim();
                    let alive = !owner.is_empty() && owner != me.to_string() && process_runs(owner);
                    if alive {
                        return Err(format!(
                            "the data directory {} is in use by process {owner} (its lock file {}); one process per data directory",
                            dir.display(),
                            path.display()
                        ));
                    }
                    // A stale lock (its process is gone): taken over.
                    let _ = std::fs::remove_file(&path);
                }
                Err(e) => return Err(format!("creating {}: {e}", path.display())),
            }
        }
        Err(format!("cannot take the lock {}", path.display()))
    }
}

/// Whether process `pid` runs: `/proc/PID` exists and is no zombie (a process killed with
/// `kill -9` keeps its `/proc/PID`, state `Z`, until its parent reaps it; it holds nothing).
fn process_runs(pid: &str) -> bool {
    match std::fs::read_to_string(std::path::Path::new("/proc").join(pid).join("stat")) {
        // `PID (COMMAND) STATE ...`; the command may hold spaces and parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'Z'),
        Err(_) => std::path::Path::new("/proc").join(pid).exists(),
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs the node until Ctrl-C (or its parent's exit, with `exit_with_parent`).
pub async fn serve(opts: ServeOptions) -> Result<(), String> {
    let n = opts.peers.len();
    let me = opts.id as usize;
    if me >= n || n > crate::MAX_NODES {
        return Err(format!(
            "node {} of {n}: ids are 1..={n}, at most {} nodes",
            me + 1,
            crate::MAX_NODES
        ));
    }
    let _lock = DirLock::take(&opts.data)?;
    let members = opts.members.unwrap_or(ServerSet::all(n));
    if members.is_empty() || !members.is_subset(ServerSet::all(n)) {
        return Err(format!(
            "the initial config {members:?} is not a nonempty set of the {n} peers"
        ));
    }
    let (wal, recovered) = Wal::open(&opts.data, opts.id, members).map_err(|e| e.to_string())?;
    let mut start_clock = 0;
    let recorder = match &opts.record {
        Some(path) => {
            let now = LocalState::of(&NodeState::recovered(recovered.durable.clone()), n);
            let (count, clock, last) = continue_record(path, opts.id, &now)?;
            start_clock = clock;
            let recorder = Recorder::to_file(path, count)
                .map_err(|e| format!("opening {}: {e}", path.display()))?;
            if last.is_some_and(|last| last != now) {
                start_clock += 1;
                recorder.step(opts.id, start_clock, Input::Restart, Vec::new(), now);
            }
            recorder
        }
        None => Recorder::discarding(),
    };
    let listener = TcpListener::bind(opts.peers[me])
        .await
        .map_err(|e| format!("listening on {}: {e}", opts.peers[me]))?;
    let client_listener = TcpListener::bind(opts.client_addr)
        .await
        .map_err(|e| format!("listening for clients on {}: {e}", opts.client_addr))?;
    let mut transport = TcpTransport::new(opts.id, listener, opts.peers.clone());
    let mut service = Service::new(false);
    if opts.fault_hooks {
        service.cut = Some(transport.fault_hook());
    }
    let (writes, mut queue) = mpsc::channel(256);
    let server = ClientServer {
        id: opts.id,
        service: service.clone(),
        writes,
        client_addrs: opts.client_peers.clone(),
        commit_timeout: Duration::from_millis(opts.commit_timeout_ms),
    };
    let clients = tokio::spawn(server.run(client_listener));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ (u64::from(std::process::id()) << 16)
        ^ me as u64;
    let node_opts = NodeOptions {
        election_timeout_us: (
            opts.election_timeout_ms.0 * 1000,
            opts.election_timeout_ms.1 * 1000,
        ),
        heartbeat_us: opts.heartbeat_ms * 1000,
        start_clock,
        heartbeat_on_write: true,
        wal_compact_bytes: opts.wal_compact_bytes,
        ..NodeOptions::new(opts.id, n, seed)
    };
    let until = tokio::time::Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600);
    let node = run_service(
        node_opts,
        wal,
        recovered,
        &mut transport,
        &mut queue,
        recorder,
        until,
        Some(service),
    );
    let parent = std::os::unix::process::parent_id();
    let orphaned = async {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if opts.exit_with_parent && std::os::unix::process::parent_id() != parent {
                return;
            }
        }
    };
    let result = tokio::select! {
        r = node => r.map(|_| ()).map_err(|e| e.to_string()),
        _ = tokio::signal::ctrl_c() => Ok(()),
        _ = orphaned => Ok(()),
    };
    clients.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lock held by a running process refuses the directory; one held by a zombie (a
    /// process that exited and that its parent has not reaped, as a killed node is until its
    /// parent `wait`s) is taken over.
    #[test]
    fn a_zombies_lock_is_taken_over_a_running_ones_is_not() {
        let dir = std::env::temp_dir().join(format!("raft-node-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut running = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        std::fs::write(dir.join("lock"), running.id().to_string()).unwrap();
        let err = DirLock::take(&dir).unwrap_err();
        assert!(
            err.contains(&format!("in use by process {}", running.id())),
            "{err}"
        );
        running.kill().unwrap();
        // Killed, not yet reaped: a zombie (waited for up to 5 s).
        let pid = running.id().to_string();
        let mut zombie = false;
        for _ in 0..500 {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
            if stat
                .rsplit_once(')')
                .unwrap()
                .1
                .trim_start()
                .starts_with('Z')
            {
                zombie = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(zombie);
        assert!(!process_runs(&pid));
        let lock = DirLock::take(&dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("lock")).unwrap(),
            std::process::id().to_string()
        );
        drop(lock);
        running.wait().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
