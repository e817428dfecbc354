//! No vote, term or position report leaves a node before it is on disk: a transport that,
//! at every send, reads the sender's write-ahead file as a restart would, and checks that
//! what the message claims is already there. The nodes compact their files often (every
//! 256 bytes appended), so compactions happen between sends throughout the runs.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use message_raft::node::NOBODY;
use message_raft::Message;
use raft_node::record::Recorder;
use raft_node::runtime::{run_node, NodeOptions, WriteRequest};
use raft_node::storage::{self, Wal};
use raft_node::transport::{Faults, MemEndpoint, MemNetwork, Received, Transport};
use raft_node::NodeRepr;
use spec_core::ServerSet;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

struct DurableFirst {
    inner: MemEndpoint,
    id: u8,
    dir: PathBuf,
    servers: usize,
    findings: Arc<Mutex<(usize, Vec<String>)>>,
}

fn note(findings: &Mutex<(usize, Vec<String>)>, finding: Option<String>) {
    let mut findings = findings.lock().unwrap();
    findings.0 += 1;
    findings.1.extend(finding);
}

#[async_trait]
impl Transport for DurableFirst {
    async fn send(&mut self, to: u8, clock: u64, message: Message<NodeRepr>) {
        let disk = storage::read(&self.dir, self.id, ServerSet::all(self.servers))
            .unwrap()
            .durable;
        let holds = |index: u64, term: u64| {
            index == 0 || disk.log.entries().get(index as usize - 1).map(|e| e.0) == Some(term)
        };
        let ok = disk.term >= message.term()
            && match message {
                Message::VoteGranted { term } => disk.term == term && disk.voted_for == to,
                Message::RequestVote { term, .. } => {
                    disk.term == term && disk.voted_for == self.id && disk.voted_for != NOBODY
                }
                Message::PullEntries {
                    last_index,
                    last_term,
                    ..
                } => holds(last_index, last_term),
                _ => true,
            };
        let finding = (!ok).then(|| {
            format!(
                "n{} sent {message} to n{} before writing it: disk {disk:?}",
                self.id + 1,
                to + 1
            )
        });
        note(&self.findings, finding);
        self.inner.send(to, clock, message).await;
    }

    async fn recv(&mut self) -> Option<Received> {
        self.inner.recv().await
    }

    fn try_recv(&mut self) -> Option<Received> {
        self.inner.try_recv()
    }
}

#[test]
fn every_message_is_durable_before_it_leaves() {
    let findings = Arc::new(Mutex::new((0usize, Vec::new())));
    let mut compactions = 0;
    for seed in 0..10u64 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let base =
            std::env::temp_dir().join(format!("raft-node-durable-{}-{seed}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let n = 3;
        let findings = findings.clone();
        let events = runtime.block_on(async {
            let recorder = Recorder::new();
            let until = Instant::now() + Duration::from_millis(400);
            let (network, ends) = MemNetwork::new(n, seed, Faults::SOME, recorder.clone());
            tokio::spawn(network.run(until));
            let mut clients = Vec::new();
            let mut nodes = Vec::new();
            for (id, inner) in ends.into_iter().enumerate() {
                let dir = base.join(format!("n{id}"));
                let (wal, recovered) = Wal::open(&dir, id as u8, ServerSet::all(n)).unwrap();
                let mut transport = DurableFirst {
                    inner,
                    id: id as u8,
                    dir,
                    servers: n,
                    findings: findings.clone(),
                };
                let (tx, mut rx) = mpsc::channel(16);
                clients.push(tx);
                let opts = NodeOptions {
                    election_timeout_us: (60_000, 120_000),
                    heartbeat_us: 20_000,
                    pull_us: 10_000,
                    wal_compact_bytes: 256,
                    ..NodeOptions::new(id as u8, n, seed * 10 + id as u64)
                };
                let recorder = recorder.clone();
                nodes.push(tokio::spawn(async move {
                    run_node(
                        opts,
                        wal,
                        recovered,
                        &mut transport,
                        &mut rx,
                        recorder,
                        until,
                    )
                    .await
                    .unwrap()
                    .compactions
                }));
            }
            for k in 0..20usize {
                tokio::time::sleep(Duration::from_millis(15)).await;
                let (reply, _answer) = oneshot::channel();
                let _ = clients[k % n]
                    .send(WriteRequest::write(vec![k as u8], reply))
                    .await;
            }
            for node in nodes {
                compactions += node.await.unwrap();
            }
            recorder.events()
        });
        let _ = std::fs::remove_dir_all(&base);
        raft_node::validate(n, &events).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
    let (checked, bad) = &*findings.lock().unwrap();
    assert!(bad.is_empty(), "{bad:#?}");
    assert!(*checked > 1000, "{checked}");
    assert_eq!(compactions, 31, "compactions over the 30 node runs");
}
