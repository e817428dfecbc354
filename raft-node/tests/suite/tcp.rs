//! The TCP transport on loopback: messages both ways, connections with bad frames closed
//! without reaching the node, and a 3-node cluster over TCP whose run validates.

use std::net::SocketAddr;
use std::time::Duration;

use message_raft::Message;
use raft_node::record::Recorder;
use raft_node::runtime::{run_node, NodeOptions, WriteReply, WriteRequest};
use raft_node::storage::Wal;
use raft_node::tcp::{encode, Frame, TcpTransport, MAX_FRAME, PROTOCOL_VERSION};
use raft_node::transport::Transport;
use spec_core::ServerSet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

async fn cluster(n: usize) -> Vec<TcpTransport> {
    let mut listeners = Vec::new();
    for _ in 0..n {
        listeners.push(TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    let addrs: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
    listeners
        .into_iter()
        .enumerate()
        .map(|(id, l)| TcpTransport::new(id as u8, l, addrs.clone()))
        .collect()
}

async fn recv(t: &mut TcpTransport) -> (u8, Message<raft_node::NodeRepr>) {
    let r = tokio::time::timeout(Duration::from_secs(10), t.recv())
        .await
        .expect("a message within 10 s")
        .expect("the transport is open");
    assert_eq!(
        r.clock, 7,
        "the sending step's clock travels with the message"
    );
    (r.from, r.message)
}

#[tokio::test]
async fn messages_go_both_ways() {
    let mut t = cluster(2).await;
    let m = Message::VoteGranted { term: 3 };
    t[0].send(1, 7, m.clone()).await;
    assert_eq!(recv(&mut t[1]).await, (0, m.clone()));
    t[1].send(0, 7, Message::VoteDenied { term: 4 }).await;
    assert_eq!(recv(&mut t[0]).await, (1, Message::VoteDenied { term: 4 }));
}

/// Connects to node 1 of a 2-node cluster by hand, sends `bytes`, and expects the node to
/// close the connection; then node 1 still takes node 0's messages, and only those.
async fn closes_on(bytes: Vec<u8>) {
    let mut listeners = Vec::new();
    for _ in 0..2 {
        listeners.push(TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    let addrs: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
    let mut ts: Vec<TcpTransport> = listeners
        .into_iter()
        .enumerate()
        .map(|(id, l)| TcpTransport::new(id as u8, l, addrs.clone()))
        .collect();
    let mut raw = TcpStream::connect(addrs[1]).await.unwrap();
    raw.write_all(&bytes).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(10), raw.read(&mut buf))
        .await
        .expect("the node answers within 10 s");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the connection is closed: {read:?}"
    );
    ts[0].send(1, 7, Message::VoteGranted { term: 1 }).await;
    assert_eq!(
        recv(&mut ts[1]).await,
        (0, Message::VoteGranted { term: 1 })
    );
    assert!(
        ts[1].try_recv().is_none(),
        "nothing of the bad connection reached the node"
    );
}

fn hello(version: u32) -> Vec<u8> {
    encode(&Frame::Hello { version, from: 0 })
}

#[tokio::test]
async fn a_malformed_frame_closes_the_connection() {
    let mut bytes = hello(PROTOCOL_VERSION);
    bytes.extend_from_slice(&5u32.to_be_bytes());
    bytes.extend_from_slice(b"{oops");
    closes_on(bytes).await;
}

#[tokio::test]
async fn an_oversized_frame_closes_the_connection() {
    let mut bytes = hello(PROTOCOL_VERSION);
    bytes.extend_from_slice(&(MAX_FRAME + 1).to_be_bytes());
    closes_on(bytes).await;
}

#[tokio::test]
async fn another_protocol_version_is_refused() {
    closes_on(hello(PROTOCOL_VERSION + 1)).await;
}

#[tokio::test]
async fn a_message_before_the_hello_is_refused() {
    closes_on(encode(&Frame::Message {
        clock: 1,
        message: Message::VoteGranted { term: 9 },
    }))
    .await;
}

/// Three nodes over TCP on loopback for a bounded time, a client writing, each node with its
/// own recorder (as separate processes would have): the records, merged by causality, are a
/// behaviour of message-raft.
#[tokio::test]
async fn a_cluster_over_tcp_records_a_valid_run() {
    let n = 3;
    let transports = cluster(n).await;
    let recorders: Vec<Recorder> = (0..n).map(|_| Recorder::new()).collect();
    let until = tokio::time::Instant::now() + Duration::from_millis(1500);
    let base = std::env::temp_dir().join(format!("raft-node-tcp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let mut clients = Vec::new();
    let mut nodes = Vec::new();
    for (id, mut transport) in transports.into_iter().enumerate() {
        let (wal, recovered) =
            Wal::open(&base.join(format!("n{id}")), id as u8, ServerSet::all(n)).unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        clients.push(tx);
        let recorder = recorders[id].clone();
        nodes.push(tokio::spawn(async move {
            run_node(
                NodeOptions::new(id as u8, n, 1000 + id as u64),
                wal,
                recovered,
                &mut transport,
                &mut rx,
                recorder,
                until,
            )
            .await
            .unwrap()
        }));
    }
    let mut target = 0;
    let mut acknowledged = 0;
    for k in 0..40 {
        tokio::time::sleep(Duration::from_millis(30)).await;
        let (reply, answer) = oneshot::channel();
        if clients[target]
            .send(WriteRequest::write(format!("w{k}").into_bytes(), reply))
            .await
            .is_err()
        {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(100), answer).await {
            Ok(Ok(WriteReply::Committed { .. })) => acknowledged += 1,
            _ => target = (target + 1) % n,
        }
    }
    for node in nodes {
        node.await.unwrap();
    }
    let _ = std::fs::remove_dir_all(&base);
    let events = raft_node::merge_by_causality(recorders.iter().map(|r| r.events()).collect());
    let v = raft_node::validate(n, &events).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{acknowledged} acknowledged writes; {v:?}");
    assert!(v.steps > 0);
    assert!(v.commits >= acknowledged.min(1));
}
