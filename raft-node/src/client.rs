//! The client interface: requests and responses over TCP, a node's client server, and a small
//! client library.
//!
//! A connection carries frames `[u32 big-endian length][JSON body]` (as the nodes' own
//! transport, [`crate::tcp`]), at most [`MAX_FRAME`] bytes: the client sends a [`Request`]
//! (an id of its choosing and an [`Op`]), the node answers with a [`Response`] of the same
//! id. A node that is not primary answers [`Reply::NotPrimary`], naming the primary it knows
//! of (its id, and its client address if it was given its peers' client addresses); the
//! library follows that redirect. A malformed or oversized frame closes the connection.
//!
//! Writes and reads through the log wait for their entry to commit; a write whose node loses
//! its primacy before it commits is answered [`Reply::Error`] (its outcome is unknown: it may
//! still commit). The library retries such requests on the primary; puts and deletes are
//! idempotent, so a retried write that had committed after all changes nothing more.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::kv::Command;
use crate::runtime::{Membership, Service, WriteReply, WriteRequest};
use message_raft::NodeRole;

/// The largest frame accepted, in bytes.
pub const MAX_FRAME: u32 = 1 << 20;

/// A client's request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Chosen by the client; the response carries it back.
    pub id: u64,
    /// What to do.
    pub op: Op,
}

/// An operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Sets `key` to `value` (answered once committed).
    Put {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Removes `key` (answered once committed).
    Delete {
        /// The key.
        key: String,
    },
    /// Reads `key`: through the log (`stale: false`, answered once the read's entry
    /// commits), or from the primary's applied map at once (`stale: true`, possibly stale).
    Get {
        /// The key.
        key: String,
        /// Whether a possibly stale answer is enough.
        stale: bool,
    },
    /// The node's role, term, commit point, log length and applied index.
    Status,
    /// A membership change on the primary: its config with one node added or removed
    /// (answered once the new config is durable on the primary; refused with a reason while
    /// the node core's conditions do not hold; a primary asked to remove itself steps down).
    Reconfig(Membership),
    /// A fault for tests (refused unless the node runs with `serve --fault-hooks`): the node
    /// drops every message to and from these peers (ids from 0); empty heals.
    CutOff {
        /// The peers.
        peers: Vec<u8>,
    },
}

/// A node's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The request's id.
    pub id: u64,
    /// The answer.
    pub reply: Reply,
}

/// What a request came to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// A write committed at (index, term).
    Done {
        /// Its index.
        index: u64,
        /// Its term.
        term: u64,
    },
    /// A read's value.
    Value {
        /// The value, if the key is set.
        value: Option<String>,
        /// Whether it may be stale (read from the map without confirming primacy).
        stale: bool,
        /// The applied index it was read at.
        applied: u64,
    },
    /// A node's status.
    Status(NodeStatus),
    /// The node is not the primary.
    NotPrimary {
        /// The node that answered.
        node: u8,
        /// The primary it knows of.
        primary: Option<u8>,
        /// That primary's client address, if known.
        primary_addr: Option<String>,
    },
    /// A membership change is done: the config the primary holds now.
    Config {
        /// Members, n1 first (ids from 1).
        members: Vec<u8>,
        /// Its version.
        version: u64,
        /// Its term.
        term: u64,
    },
    /// A membership change refused for now, and why (retrying may succeed).
    Refused(String),
    /// The primary was asked to remove itself: it steps down; the change is to be retried at
    /// the next primary.
    SteppingDown {
        /// The node stepping down.
        node: u8,
    },
    /// The fault hook is set: the peers the node is cut off from (ids from 0).
    Cut {
        /// The peers.
        peers: Vec<u8>,
    },
    /// The request failed.
    Error(String),
}

/// A node's status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// The node.
    pub id: u8,
    /// Its role.
    pub role: NodeRole,
    /// Its term.
    pub term: u64,
    /// Its commit point (known to a primary only; 0 elsewhere).
    pub commit_index: u64,
    /// Its log's length.
    pub last_index: u64,
    /// The index of the last entry it applied.
    pub applied: u64,
    /// Keys in its applied map.
    pub keys: usize,
    /// The primary it knows of.
    pub primary: Option<u8>,
    /// The config it holds: members (ids from 1), version, term.
    #[serde(default)]
    pub config: (Vec<u8>, u64, u64),
}

/// The members of a config bitmask, as ids from 1.
pub fn members_of(config: u16) -> Vec<u8> {
    (0..16u8)
        .filter(|k| config & (1 << k) != 0)
        .map(|k| k + 1)
        .collect()
}

impl std::fmt::Display for NodeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "n{}: {} term {} commit {} log {} applied {} keys {} primary {} config {:?} v{} t{}",
            self.id + 1,
            self.role.name(),
            self.term,
            self.commit_index,
            self.last_index,
            self.applied,
            self.keys,
            self.primary
                .map(|p| format!("n{}", p + 1))
                .unwrap_or_else(|| "unknown".into()),
            self.config.0,
            self.config.1,
            self.config.2
        )
    }
}

/// Writes one frame.
pub async fn write_frame<W: AsyncWrite + Unpin, T: Serialize>(
    w: &mut W,
    value: &T,
) -> std::io::Result<()> {
    let body = serde_json::to_vec(value).expect("frames serialize");
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    w.write_all(&out).await
}

/// Reads one frame: `Ok(None)` at a clean end of the stream.
pub async fn read_frame<R: AsyncRead + Unpin, T: for<'de> Deserialize<'de>>(
    r: &mut R,
) -> Result<Option<T>, String> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(format!("read error: {e}")),
    }
    let len = u32::from_be_bytes(len);
    if len > MAX_FRAME {
        return Err(format!(
            "a frame of {len} bytes exceeds the maximum of {MAX_FRAME}"
        ));
    }
    let mut body = vec![0u8; len as usize];
    r.read_exact(&mut body)
        .await
        .map_err(|e| format!("the connection ended inside a frame: {e}"))?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| format!("a malformed frame: {e}"))
}

/// A node's client server: what it needs to answer requests.
#[derive(Clone, Debug)]
pub struct ClientServer {
    /// The node.
    pub id: u8,
    /// Its service state.
    pub service: Service,
    /// Its queue of writes to the node task.
    pub writes: mpsc::Sender<WriteRequest>,
    /// Each node's client address, if known (for redirects).
    pub client_addrs: Vec<Option<String>>,
    /// How long a write or a read through the log waits for its commit.
    pub commit_timeout: Duration,
}

impl ClientServer {
    /// Accepts connections on `listener` and serves each, until the task is dropped.
    pub async fn run(self, listener: TcpListener) {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(self.clone().connection(stream));
                }
                Err(e) => {
                    tracing::warn!(target: "raft_node::client", node = self.id, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }

    async fn connection(self, mut stream: TcpStream) {
        loop {
            let request: Request = match read_frame(&mut stream).await {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(reason) => {
                    tracing::warn!(target: "raft_node::client", node = self.id, %reason, "closing client connection");
                    return;
                }
            };
            let reply = self.handle(request.op).await;
            let response = Response {
                id: request.id,
                reply,
            };
            if write_frame(&mut stream, &response).await.is_err() {
                return;
            }
        }
    }

    fn not_primary(&self) -> Option<Reply> {
        // Under the lock, without copying the map (a snapshot would, per request).
        let (role, primary, stepping_down) = {
            let state = self.service.shared.lock().expect("service lock");
            (state.role, state.primary, state.stepping_down)
        };
        (role != NodeRole::Primary || stepping_down).then(|| Reply::NotPrimary {
            node: self.id,
            primary: primary.filter(|_| !stepping_down),
            primary_addr: primary
                .and_then(|p| self.client_addrs.get(p as usize).cloned().flatten()),
        })
    }

    /// `key`'s value in the applied map, and the applied index (without copying the map).
    fn read(&self, key: &str) -> (Option<String>, u64) {
        let state = self.service.shared.lock().expect("service lock");
        (state.kv.map.get(key).cloned(), state.kv.applied)
    }

    /// Answers one operation.
    pub async fn handle(&self, op: Op) -> Reply {
        let command = match op {
            Op::Status => {
                let s = self.service.snapshot();
                return Reply::Status(NodeStatus {
                    id: self.id,
                    role: s.role,
                    term: s.term,
                    commit_index: s.commit_index,
                    last_index: s.last_index,
                    applied: s.kv.applied,
                    keys: s.kv.map.len(),
                    primary: s.primary,
                    config: (members_of(s.config.0), s.config.1, s.config.2),
                });
            }
            Op::Reconfig(change) => return self.reconfig(change).await,
            Op::CutOff { peers } => {
                let Some(cut) = &self.service.cut else {
                    return Reply::Error("fault hooks are off (serve --fault-hooks)".into());
                };
                let mask = peers
                    .iter()
                    .filter(|&&p| p < 16)
                    .fold(0u16, |m, &p| m | 1 << p);
                cut.store(mask, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(target: "raft_node::fault", node = self.id, ?peers, "cut off from peers");
                return Reply::Cut { peers };
            }
            Op::Get { key, stale: true } => {
                if let Some(r) = self.not_primary() {
                    return r;
                }
                let (value, applied) = self.read(&key);
                return Reply::Value {
                    value,
                    stale: true,
                    applied,
                };
            }
            Op::Get { key, stale: false } => Command::Read { key },
            Op::Put { key, value } => Command::Put { key, value },
            Op::Delete { key } => Command::Delete { key },
        };
        if let Some(r) = self.not_primary() {
            return r;
        }
        let (reply, answer) = oneshot::channel();
        let request = WriteRequest::write(command.encode(), reply);
        if self.writes.send(request).await.is_err() {
            return Reply::Error("the node has stopped".into());
        }
        match tokio::time::timeout(self.commit_timeout, answer).await {
            Ok(Ok(WriteReply::Committed { index, term })) => match command {
                Command::Read { key } => {
                    let (value, applied) = self.read(&key);
                    Reply::Value {
                        value,
                        stale: false,
                        applied,
                    }
                }
                _ => Reply::Done { index, term },
            },
            Ok(Ok(WriteReply::NotPrimary)) => self
                .not_primary()
                .unwrap_or(Reply::Error("not taken".into())),
            Ok(Ok(other)) => Reply::Error(format!("unexpected answer to a write: {other:?}")),
            Ok(Err(_)) => Reply::Error(
                "the node lost its primacy before the entry committed: outcome unknown".into(),
            ),
            Err(_) => Reply::Error(format!(
                "no commit within {} ms: outcome unknown",
                self.commit_timeout.as_millis()
            )),
        }
    }
}

impl ClientServer {
    async fn reconfig(&self, change: Membership) -> Reply {
        if let Some(r) = self.not_primary() {
            return r;
        }
        let (reply, answer) = oneshot::channel();
        if self
            .writes
            .send(WriteRequest::reconfig(change, reply))
            .await
            .is_err()
        {
            return Reply::Error("the node has stopped".into());
        }
        match tokio::time::timeout(self.commit_timeout, answer).await {
            Ok(Ok(WriteReply::Reconfigured {
                config,
                version,
                term,
            })) => Reply::Config {
                members: members_of(config),
                version,
                term,
            },
            Ok(Ok(WriteReply::Refused(why))) => Reply::Refused(why),
            Ok(Ok(WriteReply::SteppingDown)) => Reply::SteppingDown { node: self.id },
            Ok(Ok(WriteReply::NotPrimary)) => self
                .not_primary()
                .unwrap_or(Reply::Error("not taken".into())),
            Ok(Ok(other)) => Reply::Error(format!("unexpected answer to a reconfig: {other:?}")),
            Ok(Err(_)) => Reply::Error("the node stopped before answering: outcome unknown".into()),
            Err(_) => Reply::Error(format!(
                "no answer within {} ms: outcome unknown",
                self.commit_timeout.as_millis()
            )),
        }
    }
}

/// Why a request failed at the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// No node answered with a result before the deadline; the last thing heard.
    Unavailable(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Unavailable(why) => write!(f, "no answer from a primary: {why}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// A client of a cluster: the nodes' client addresses it knows (redirects add more), and a
/// deadline per request.
#[derive(Debug)]
pub struct Client {
    addrs: Vec<SocketAddr>,
    preferred: usize,
    next_id: u64,
    /// Deadline of one request, redirects and retries included.
    pub timeout: Duration,
    /// Deadline of one attempt at one node.
    pub attempt_timeout: Duration,
}

impl Client {
    /// A client of the nodes at `addrs`.
    pub fn new(addrs: Vec<SocketAddr>) -> Client {
        Client {
            addrs,
            preferred: 0,
            next_id: 1,
            timeout: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(3),
        }
    }

    /// One request to the node at `addr`, with `attempt_timeout`.
    pub async fn ask(&mut self, addr: SocketAddr, op: Op) -> Result<Reply, String> {
        let id = self.next_id;
        self.next_id += 1;
        let attempt = async {
            let mut stream = TcpStream::connect(addr)
                .await
                .map_err(|e| format!("{addr}: {e}"))?;
            let _ = stream.set_nodelay(true);
            write_frame(&mut stream, &Request { id, op })
                .await
                .map_err(|e| format!("{addr}: {e}"))?;
            match read_frame::<_, Response>(&mut stream).await {
                Ok(Some(r)) if r.id == id => Ok(r.reply),
                Ok(Some(r)) => Err(format!("{addr}: answer to request {} for {id}", r.id)),
                Ok(None) => Err(format!("{addr}: closed")),
                Err(e) => Err(format!("{addr}: {e}")),
            }
        };
        tokio::time::timeout(self.attempt_timeout, attempt)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "{addr}: no answer within {:?}",
                    self.attempt_timeout
                ))
            })
    }

    /// Runs `op` on the primary: follows redirects, tries the other nodes when one does not
    /// answer or fails, until a result or the deadline.
    pub async fn request(&mut self, op: Op) -> Result<Reply, ClientError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut last = String::from("no node tried");
        let mut round = 0u32;
        while tokio::time::Instant::now() < deadline {
            let addr = self.addrs[self.preferred % self.addrs.len()];
            match self.ask(addr, op.clone()).await {
                Ok(Reply::NotPrimary {
                    primary_addr: Some(p),
                    ..
                }) if p.parse::<SocketAddr>().is_ok_and(|p| p != addr) => {
                    let p: SocketAddr = p.parse().expect("checked");
                    self.preferred = match self.addrs.iter().position(|&a| a == p) {
                        Some(k) => k,
                        None => {
                            self.addrs.push(p);
                            self.addrs.len() - 1
                        }
                    };
                    last = format!("{addr}: redirected to {p}");
                    continue;
                }
                Ok(r @ (Reply::NotPrimary { .. } | Reply::Error(_))) => {
                    last = format!("{addr}: {r:?}")
                }
                Ok(r @ (Reply::Refused(_) | Reply::SteppingDown { .. })) => {
                    // A membership change the core refuses for now (or whose primary steps
                    // down to be removed): retried, here or at the next primary.
                    last = format!("{addr}: {r:?}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if matches!(r, Reply::Refused(_)) {
                        continue;
                    }
                }
                Ok(r) => return Ok(r),
                Err(e) => last = e,
            }
            self.preferred = (self.preferred + 1) % self.addrs.len();
            round += 1;
            if round.is_multiple_of(self.addrs.len() as u32) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Err(ClientError::Unavailable(last))
    }

    /// Sets `key` to `value`; the (index, term) it committed at.
    pub async fn put(&mut self, key: &str, value: &str) -> Result<(u64, u64), ClientError> {
        match self
            .request(Op::Put {
                key: key.into(),
                value: value.into(),
            })
            .await?
        {
            Reply::Done { index, term } => Ok((index, term)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    /// Removes `key`.
    pub async fn delete(&mut self, key: &str) -> Result<(u64, u64), ClientError> {
        match self.request(Op::Delete { key: key.into() }).await? {
            Reply::Done { index, term } => Ok((index, term)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    /// Reads `key` (through the log unless `stale`); the value, and whether it may be stale.
    pub async fn get(
        &mut self,
        key: &str,
        stale: bool,
    ) -> Result<(Option<String>, bool), ClientError> {
        match self
            .request(Op::Get {
                key: key.into(),
                stale,
            })
            .await?
        {
            Reply::Value { value, stale, .. } => Ok((value, stale)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    /// Adds (`Membership::Add`) or removes a node: the config the primary holds afterwards
    /// (members from 1, version, term). Refusals (the core's conditions not yet met) are
    /// retried until the deadline; removing the primary makes it step down, and the change
    /// is retried at the next primary.
    pub async fn reconfig(
        &mut self,
        change: Membership,
    ) -> Result<(Vec<u8>, u64, u64), ClientError> {
        match self.request(Op::Reconfig(change)).await? {
            Reply::Config {
                members,
                version,
                term,
            } => Ok((members, version, term)),
            other => Err(ClientError::Unavailable(format!("unexpected {other:?}"))),
        }
    }

    /// Every known node's status (or why it did not answer), in address order.
    pub async fn status_all(&mut self) -> Vec<(SocketAddr, Result<NodeStatus, String>)> {
        let mut out = Vec::new();
        for addr in self.addrs.clone() {
            let status = match self.ask(addr, Op::Status).await {
                Ok(Reply::Status(s)) => Ok(s),
                Ok(other) => Err(format!("unexpected {other:?}")),
                Err(e) => Err(e),
            };
            out.push((addr, status));
        }
        out
    }
}
