//! A TCP [`Transport`]: length-prefixed serde frames, a version handshake, a maximum frame
//! size, and reconnection with backoff.
//!
//! Each node listens on one address and opens one outgoing connection per peer, on first use.
//! A connection starts with the connecting side's [`Frame::Hello`] (protocol version, node
//! id); then each frame is one [`Frame::Message`]. A frame is `[length: u32 big-endian][JSON
//! body]`. The receiving side closes a connection, with a logged reason (a `tracing` warning,
//! target `raft_node::tcp`), when the hello has another version or names no peer, when a
//! length exceeds [`MAX_FRAME`], when a body does not parse, or when a second hello arrives;
//! nothing of such a connection reaches the node core, and the node goes on. A send on a
//! broken connection loses that message (the protocol tolerates loss) and reconnects on a
//! later send, after a backoff that doubles from 10 ms to 1 s.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use message_raft::Message;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::transport::{Received, Transport};
use crate::NodeRepr;

/// The protocol version a hello carries.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest frame body accepted, in bytes.
pub const MAX_FRAME: u32 = 1 << 20;

/// One frame on a connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// The first frame of a connection.
    Hello {
        /// [`PROTOCOL_VERSION`].
        version: u32,
        /// The connecting node.
        from: u8,
    },
    /// A message from the connecting node, with its sending step's logical clock.
    Message {
        /// The logical clock.
        clock: u64,
        /// The message.
        message: Message<NodeRepr>,
    },
}

/// Encodes a frame: big-endian length, then the JSON body.
pub fn encode(frame: &Frame) -> Vec<u8> {
    let body = serde_json::to_vec(frame).expect("frames serialize");
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

/// Reads one frame, or why the connection must close.
async fn read_frame(stream: &mut TcpStream) -> Result<Option<Frame>, String> {
    let mut len = [0u8; 4];
    match stream.read_exact(&mut len).await {
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
    stream
        .read_exact(&mut body)
        .await
        .map_err(|e| format!("the connection ended inside a frame: {e}"))?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| format!("a malformed frame: {e}"))
}

/// Serves one incoming connection: the hello, then messages into `inbox`.
async fn serve(
    mut stream: TcpStream,
    me: u8,
    peers: usize,
    inbox: mpsc::UnboundedSender<Received>,
) {
    let peer = stream.peer_addr().ok();
    let close = |reason: String| {
        tracing::warn!(target: "raft_node::tcp", node = me, ?peer, %reason, "closing connection");
    };
    let from = match tokio::time::timeout(Duration::from_secs(5), read_frame(&mut stream)).await {
        Ok(Ok(Some(Frame::Hello { version, from }))) => {
            if version != PROTOCOL_VERSION {
                return close(format!(
                    "protocol version {version}, this node speaks {PROTOCOL_VERSION}"
                ));
            }
            if from as usize >= peers || from == me {
                return close(format!("hello from node {from}, not a peer"));
            }
            from
        }
        Ok(Ok(Some(other))) => return close(format!("expected a hello, got {other:?}")),
        Ok(Ok(None)) => return,
        Ok(Err(reason)) => return close(reason),
        Err(_) => return close("no hello within 5 s".into()),
    };
    loop {
        match read_frame(&mut stream).await {
            Ok(Some(Frame::Message { clock, message })) => {
                if inbox
                    .send(Received {
                        from,
                        clock,
                        message,
                    })
                    .is_err()
                {
                    return;
                }
            }
            Ok(Some(Frame::Hello { .. })) => return close("a second hello".into()),
            Ok(None) => return,
            Err(reason) => return close(reason),
        }
    }
}

struct Peer {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    retry_at: Instant,
    backoff: Duration,
}

/// One node's TCP transport.
pub struct TcpTransport {
    id: u8,
    peers: Vec<Peer>,
    inbox: mpsc::UnboundedReceiver<Received>,
    accept: JoinHandle<()>,
    cut: Arc<AtomicU16>,
}

impl Drop for TcpTransport {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl TcpTransport {
    /// Node `id`'s transport: it accepts on `listener`; `addrs[k]` is node `k`'s address.
    pub fn new(id: u8, listener: TcpListener, addrs: Vec<SocketAddr>) -> TcpTransport {
        let (tx, inbox) = mpsc::unbounded_channel();
        let peers = addrs.len();
        let accept = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        tokio::spawn(serve(stream, id, peers, tx.clone()));
                    }
                    Err(e) => {
                        tracing::warn!(target: "raft_node::tcp", node = id, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        });
        TcpTransport {
            id,
            peers: addrs
                .into_iter()
                .map(|addr| Peer {
                    addr,
                    stream: None,
                    retry_at: Instant::now(),
                    backoff: Duration::from_millis(10),
                })
                .collect(),
            inbox,
            accept,
            cut: Arc::default(),
        }
    }

    /// The fault hook: the set (bitmask of node ids) of peers this node is cut off from.
    /// A message to one of them is dropped instead of sent, a message from one of them is
    /// dropped when received: lost in transit (to the spec, in flight and never delivered).
    /// Empty (no fault) unless someone sets it (`serve --fault-hooks`, for the fault tests).
    pub fn fault_hook(&self) -> Arc<AtomicU16> {
        self.cut.clone()
    }

    fn is_cut(&self, peer: u8) -> bool {
        peer < 16 && self.cut.load(Ordering::Relaxed) & (1 << peer) != 0
    }
}

#[async_trait]
impl Transport for TcpTransport {
    async fn send(&mut self, to: u8, clock: u64, message: Message<NodeRepr>) {
        let id = self.id;
        if self.is_cut(to) {
            return;
        }
        let Some(peer) = self.peers.get_mut(to as usize) else {
            return;
        };
        if peer.stream.is_none() {
            if Instant::now() < peer.retry_at {
                return;
            }
            let connected =
                tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(peer.addr))
                    .await;
            let hello = encode(&Frame::Hello {
                version: PROTOCOL_VERSION,
                from: id,
            });
            let mut stream = match connected {
                Ok(Ok(stream)) => Some(stream),
                _ => None,
            };
            let greeted = match stream.as_mut() {
                Some(s) => s.write_all(&hello).await.is_ok(),
                None => false,
            };
            match stream {
                Some(stream) if greeted => {
                    let _ = stream.set_nodelay(true);
                    peer.stream = Some(stream);
                    peer.backoff = Duration::from_millis(10);
                }
                _ => {
                    peer.retry_at = Instant::now() + peer.backoff;
                    peer.backoff = (peer.backoff * 2).min(Duration::from_secs(1));
                    return;
                }
            }
        }
        let frame = encode(&Frame::Message { clock, message });
        let stream = peer.stream.as_mut().expect("connected");
        if let Err(e) = stream.write_all(&frame).await {
            tracing::debug!(target: "raft_node::tcp", node = id, to, error = %e, "send failed; reconnecting later");
            peer.stream = None;
            peer.retry_at = Instant::now() + peer.backoff;
        }
    }

    async fn recv(&mut self) -> Option<Received> {
        loop {
            let m = self.inbox.recv().await?;
            if !self.is_cut(m.from) {
                return Some(m);
            }
        }
    }

    fn try_recv(&mut self) -> Option<Received> {
        loop {
            let m = self.inbox.try_recv().ok()?;
            if !self.is_cut(m.from) {
                return Some(m);
            }
        }
    }
}
