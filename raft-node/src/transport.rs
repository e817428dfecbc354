//! How nodes exchange messages: the [`Transport`] trait, and [`MemNetwork`], an in-memory
//! network that injects seeded faults (loss, delay, duplication, reordering, partitions).
//!
//! A transport carries [`message_raft::Message`]s between node ids. It promises nothing: a
//! message may be lost, delayed, duplicated or overtaken, which is exactly the network the
//! message-raft spec assumes (its messages in flight are a multiset; its faults are loss and
//! duplication). [`MemNetwork`] records each fault it injects, so that a run's record holds
//! every step the spec needs to replay it: a lost message is the spec's `LoseMessage`, a
//! duplicated one its `DuplicateMessage`; a delay or a reordering is only a later delivery.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use message_raft::Message;
use spec_core::ServerSet;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

use crate::record::{Recorder, Routed};
use crate::rng::Rng;
use crate::NodeRepr;

/// A message as a node receives it: its sender, the sender's logical (Lamport) clock at the
/// step that sent it, and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The sender.
    pub from: u8,
    /// The sending step's logical clock.
    pub clock: u64,
    /// The message.
    pub message: Message<NodeRepr>,
}

/// One node's end of a network. Each message travels with the logical clock of the step that
/// sent it, so that the record of separate nodes can be merged in an order consistent with
/// message causality ([`crate::validate::merge_by_causality`]).
#[async_trait]
pub trait Transport: Send {
    /// Sends `message`, sent by a step of logical clock `clock`, to node `to`. Never waits for
    /// the receiver; the network may lose it.
    async fn send(&mut self, to: u8, clock: u64, message: Message<NodeRepr>);
    /// The next message for this node; `None` once the network is gone.
    async fn recv(&mut self) -> Option<Received>;
    /// A message already waiting, if any, without waiting.
    fn try_recv(&mut self) -> Option<Received>;
}

/// The faults a [`MemNetwork`] injects, each drawn from its seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Faults {
    /// Chance, per thousand messages, that a message is lost.
    pub drop_per_mille: u32,
    /// Chance, per thousand messages, that a message is duplicated.
    pub duplicate_per_mille: u32,
    /// Delivery delay range, in microseconds (messages with different delays overtake each
    /// other: reordering).
    pub delay_us: (u64, u64),
}

impl Faults {
    /// No loss, no duplication, 0.5 to 2 ms of delay.
    pub const NONE: Faults = Faults {
        drop_per_mille: 0,
        duplicate_per_mille: 0,
        delay_us: (500, 2_000),
    };

    /// Some of everything: 5% loss, 3% duplication, 0.2 to 8 ms of delay.
    pub const SOME: Faults = Faults {
        drop_per_mille: 50,
        duplicate_per_mille: 30,
        delay_us: (200, 8_000),
    };
}

struct InFlight {
    due: Instant,
    seq: u64,
    clock: u64,
    message: Routed,
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for InFlight {}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

struct Inner {
    rng: Rng,
    faults: Faults,
    /// Nodes cut off from the others (a message between this set and its complement is lost).
    isolated: ServerSet,
    queue: BinaryHeap<Reverse<InFlight>>,
    next_seq: u64,
    inboxes: Vec<mpsc::UnboundedSender<Received>>,
    recorder: Recorder,
    sent: u64,
    lost: u64,
    duplicated: u64,
}

impl Inner {
    fn cut(&self, from: u8, to: u8) -> bool {
        self.isolated.contains(from as usize) != self.isolated.contains(to as usize)
    }

    fn enqueue(&mut self, clock: u64, message: Routed) {
        let (lo, hi) = self.faults.delay_us;
        let due = Instant::now() + Duration::from_micros(self.rng.between(lo, hi));
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Reverse(InFlight {
            due,
            seq,
            clock,
            message,
        }));
    }
}

/// An in-memory network with seeded faults. Cloning shares the network.
#[derive(Clone)]
pub struct MemNetwork {
    inner: Arc<Mutex<Inner>>,
    wake: Arc<Notify>,
}

/// Counts of what a [`MemNetwork`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkStats {
    /// Messages sent.
    pub sent: u64,
    /// Messages lost (faults and partitions).
    pub lost: u64,
    /// Messages duplicated.
    pub duplicated: u64,
}

impl MemNetwork {
    /// A network of `servers` nodes with these faults, drawing from `seed`, recording its
    /// faults in `recorder`; and each node's endpoint. Call [`MemNetwork::run`] (in a task) to
    /// deliver.
    pub fn new(
        servers: usize,
        seed: u64,
        faults: Faults,
        recorder: Recorder,
    ) -> (MemNetwork, Vec<MemEndpoint>) {
        let mut inboxes = Vec::new();
        let mut endpoints = Vec::new();
        let wake = Arc::new(Notify::new());
        let inner = Arc::new(Mutex::new(Inner {
            rng: Rng::new(seed),
            faults,
            isolated: ServerSet::EMPTY,
            queue: BinaryHeap::new(),
            next_seq: 0,
            inboxes: Vec::new(),
            recorder,
            sent: 0,
            lost: 0,
            duplicated: 0,
        }));
        for id in 0..servers {
            let (tx, rx) = mpsc::unbounded_channel();
            inboxes.push(tx);
            endpoints.push(MemEndpoint {
                id: id as u8,
                network: MemNetwork {
                    inner: inner.clone(),
                    wake: wake.clone(),
                },
                inbox: rx,
            });
        }
        inner.lock().expect("network lock").inboxes = inboxes;
        (MemNetwork { inner, wake }, endpoints)
    }

    /// Cuts `side` off from the other nodes (replacing any earlier partition).
    pub fn partition(&self, side: ServerSet) {
        self.inner.lock().expect("network lock").isolated = side;
    }

    /// Ends the partition.
    pub fn heal(&self) {
        self.partition(ServerSet::EMPTY);
    }

    /// What the network did so far.
    pub fn stats(&self) -> NetworkStats {
        let inner = self.inner.lock().expect("network lock");
        NetworkStats {
            sent: inner.sent,
            lost: inner.lost,
            duplicated: inner.duplicated,
        }
    }

    fn send(&self, clock: u64, message: Routed) {
        let mut inner = self.inner.lock().expect("network lock");
        inner.sent += 1;
        let lose = inner.cut(message.from, message.to) || {
            let p = inner.faults.drop_per_mille;
            inner.rng.chance(p)
        };
        if lose {
            inner.lost += 1;
            inner.recorder.lose(clock, message);
            return;
        }
        let p = inner.faults.duplicate_per_mille;
        if inner.rng.chance(p) {
            inner.duplicated += 1;
            inner.recorder.duplicate(clock, message.clone());
            inner.enqueue(clock, message.clone());
        }
        inner.enqueue(clock, message);
        drop(inner);
        self.wake.notify_one();
    }

    /// Delivers messages when they are due, until `until`. A message due to a node cut off by
    /// a partition at delivery time is lost then.
    pub async fn run(self, until: Instant) {
        loop {
            let next_due = {
                let mut inner = self.inner.lock().expect("network lock");
                let now = Instant::now();
                while inner.queue.peek().is_some_and(|Reverse(m)| m.due <= now) {
                    let Reverse(m) = inner.queue.pop().expect("peeked");
                    let routed = m.message;
                    if inner.cut(routed.from, routed.to) {
                        inner.lost += 1;
                        inner.recorder.lose(m.clock, routed);
                        continue;
                    }
                    let to = routed.to as usize;
                    // A node that has stopped leaves its messages in flight.
                    let _ = inner.inboxes[to].send(Received {
                        from: routed.from,
                        clock: m.clock,
                        message: routed.message,
                    });
                }
                inner.queue.peek().map(|Reverse(m)| m.due)
            };
            let wake_at = next_due.unwrap_or(until).min(until);
            if Instant::now() >= until {
                return;
            }
            tokio::select! {
                biased;
                _ = tokio::time::sleep_until(wake_at) => {}
                _ = self.wake.notified() => {}
            }
        }
    }
}

/// One node's end of a [`MemNetwork`].
pub struct MemEndpoint {
    id: u8,
    network: MemNetwork,
    inbox: mpsc::UnboundedReceiver<Received>,
}

#[async_trait]
impl Transport for MemEndpoint {
    async fn send(&mut self, to: u8, clock: u64, message: Message<NodeRepr>) {
        self.network.send(
            clock,
            Routed {
                from: self.id,
                to,
                message,
            },
        );
    }

    async fn recv(&mut self) -> Option<Received> {
        self.inbox.recv().await
    }

    fn try_recv(&mut self) -> Option<Received> {
        self.inbox.try_recv().ok()
    }
}
