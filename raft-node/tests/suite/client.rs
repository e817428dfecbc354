//! The client interface on loopback, against client servers whose node task is played by the
//! test: redirects to the primary, reads through the log and stale reads, outcomes unknown,
//! and bad frames closing the connection.

use std::net::SocketAddr;
use std::time::Duration;

use message_raft::NodeRole;
use raft_node::client::{
    read_frame, write_frame, Client, ClientServer, Op, Reply, Request, Response, MAX_FRAME,
};
use raft_node::kv::Command;
use raft_node::runtime::{Service, WriteReply, WriteRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// A client server for node `id` on a free port, whose writes go to the returned queue.
async fn server(
    id: u8,
    service: Service,
    client_addrs: Vec<Option<String>>,
    listener: TcpListener,
) -> mpsc::Receiver<WriteRequest> {
    let (writes, queue) = mpsc::channel(16);
    let server = ClientServer {
        id,
        service,
        writes,
        client_addrs,
        commit_timeout: Duration::from_millis(300),
    };
    tokio::spawn(server.run(listener));
    queue
}

/// Plays a primary's node task: commits each write at the next index, applying it first.
fn commit_everything(service: Service, mut queue: mpsc::Receiver<WriteRequest>) {
    tokio::spawn(async move {
        while let Some(WriteRequest { payload, reply, .. }) = queue.recv().await {
            let index = {
                let mut s = service.shared.lock().unwrap();
                s.kv.apply_command(&Command::decode(&payload).unwrap());
                s.kv.applied += 1;
                s.kv.applied
            };
            let _ = reply.send(WriteReply::Committed { index, term: 3 });
        }
    });
}

async fn two_nodes() -> (
    Vec<SocketAddr>,
    Service,
    Service,
    mpsc::Receiver<WriteRequest>,
) {
    let l0 = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let l1 = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addrs = vec![l0.local_addr().unwrap(), l1.local_addr().unwrap()];
    let names: Vec<Option<String>> = addrs.iter().map(|a| Some(a.to_string())).collect();
    let secondary = Service::new(false);
    secondary.shared.lock().unwrap().primary = Some(1);
    let primary = Service::new(false);
    {
        let mut p = primary.shared.lock().unwrap();
        p.role = NodeRole::Primary;
        p.primary = Some(1);
    }
    let _q0 = server(0, secondary.clone(), names.clone(), l0).await;
    let q1 = server(1, primary.clone(), names, l1).await;
    // The secondary's queue is dropped: a write reaching it would fail loudly.
    (addrs, secondary, primary, q1)
}

#[tokio::test]
async fn a_secondary_redirects_to_the_primary() {
    let (addrs, _, primary, queue) = two_nodes().await;
    commit_everything(primary.clone(), queue);
    let mut client = Client::new(vec![addrs[0]]);
    client.timeout = Duration::from_secs(10);
    match client
        .ask(
            addrs[0],
            Op::Get {
                key: "a".into(),
                stale: true,
            },
        )
        .await
        .unwrap()
    {
        Reply::NotPrimary {
            node: 0,
            primary: Some(1),
            primary_addr: Some(a),
        } => {
            assert_eq!(a, addrs[1].to_string())
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        client.put("a", "1").await.unwrap(),
        (1, 3),
        "followed the redirect"
    );
    assert_eq!(
        client.get("a", false).await.unwrap(),
        (Some("1".into()), false)
    );
    assert_eq!(
        client.get("a", true).await.unwrap(),
        (Some("1".into()), true)
    );
    client.delete("a").await.unwrap();
    assert_eq!(client.get("a", false).await.unwrap(), (None, false));
    let statuses = client.status_all().await;
    assert_eq!(statuses.len(), 2, "the redirect target is now known");
    assert!(statuses.iter().all(|(_, s)| s.is_ok()));
}

#[tokio::test]
async fn a_write_that_does_not_commit_is_an_unknown_outcome() {
    let (addrs, _, _, mut queue) = two_nodes().await;
    // The node task takes the write and never answers (it lost its primacy), then drops it.
    tokio::spawn(async move {
        let first = queue.recv().await;
        let second = queue.recv().await;
        drop(second);
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(first);
    });
    let mut client = Client::new(vec![addrs[1]]);
    let put = |v: &str| Op::Put {
        key: "a".into(),
        value: v.into(),
    };
    match client.ask(addrs[1], put("1")).await.unwrap() {
        Reply::Error(why) => assert!(why.contains("outcome unknown"), "{why}"),
        other => panic!("{other:?}"),
    }
    match client.ask(addrs[1], put("2")).await.unwrap() {
        Reply::Error(why) => assert!(why.contains("outcome unknown"), "{why}"),
        other => panic!("{other:?}"),
    }
}

async fn closes_on(bytes: Vec<u8>) {
    let (addrs, _, _, _queue) = two_nodes().await;
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
    // The server goes on.
    let mut stream = TcpStream::connect(addrs[1]).await.unwrap();
    write_frame(
        &mut stream,
        &Request {
            id: 9,
            op: Op::Status,
        },
    )
    .await
    .unwrap();
    let r: Response = read_frame(&mut stream).await.unwrap().unwrap();
    assert_eq!(r.id, 9);
    assert!(matches!(r.reply, Reply::Status(_)));
}

#[tokio::test]
async fn a_malformed_frame_closes_the_connection() {
    let mut bytes = 5u32.to_be_bytes().to_vec();
    bytes.extend_from_slice(b"{oops");
    closes_on(bytes).await;
}

#[tokio::test]
async fn an_oversized_frame_closes_the_connection() {
    closes_on((MAX_FRAME + 1).to_be_bytes().to_vec()).await;
}
