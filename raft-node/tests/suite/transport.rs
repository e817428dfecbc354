//! The in-memory network's faults, each seen at the receiver and in the record.

use std::time::Duration;

use message_raft::Message;
use raft_node::record::{Event, Recorder};
use raft_node::transport::{Faults, MemEndpoint, MemNetwork, Transport};
use spec_core::ServerSet;
use tokio::time::Instant;

fn paused() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

/// Sends terms `1..=count` from node 0 to node 1, lets the network run, and returns what
/// node 1 received (terms, in order) and the record.
async fn exchange(
    faults: Faults,
    count: u64,
    cut: Option<ServerSet>,
) -> (Vec<u64>, Vec<Event>, MemNetwork) {
    let recorder = Recorder::new();
    let (network, mut ends) = MemNetwork::new(2, 7, faults, recorder.clone());
    let until = Instant::now() + Duration::from_millis(100);
    let delivery = tokio::spawn(network.clone().run(until));
    if let Some(side) = cut {
        network.partition(side);
    }
    let mut one: MemEndpoint = ends.pop().unwrap();
    let mut zero: MemEndpoint = ends.pop().unwrap();
    for term in 1..=count {
        zero.send(1, term, Message::VoteGranted { term }).await;
    }
    delivery.await.unwrap();
    let mut got = Vec::new();
    while let Some(r) = one.try_recv() {
        assert_eq!((r.from, r.clock), (0, r.message.term()));
        got.push(r.message.term());
    }
    (got, recorder.events(), network)
}

#[test]
fn delays_reorder_but_lose_nothing() {
    paused().block_on(async {
        let (got, events, _) = exchange(Faults::NONE, 50, None).await;
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(sorted, (1..=50).collect::<Vec<_>>());
        assert_ne!(got, sorted, "some message overtook another");
        assert!(events.is_empty());
    });
}

#[test]
fn loss_and_duplication_are_recorded() {
    paused().block_on(async {
        let all_lost = Faults {
            drop_per_mille: 1000,
            ..Faults::NONE
        };
        let (got, events, network) = exchange(all_lost, 10, None).await;
        assert!(got.is_empty());
        assert_eq!(events.len(), 10);
        assert!(events.iter().all(|e| matches!(e, Event::Lose { .. })));
        assert_eq!(network.stats().lost, 10);

        let all_twice = Faults {
            duplicate_per_mille: 1000,
            ..Faults::NONE
        };
        let (got, events, _) = exchange(all_twice, 10, None).await;
        assert_eq!(got.len(), 20);
        assert!(events.iter().all(|e| matches!(e, Event::Duplicate { .. })));
    });
}

#[test]
fn a_partition_loses_what_crosses_it_until_healed() {
    paused().block_on(async {
        let (got, events, network) = exchange(Faults::NONE, 5, Some(ServerSet::single(1))).await;
        assert!(got.is_empty());
        assert_eq!(events.len(), 5);
        network.heal();
        // The same side on both ends of a link is no cut.
        let (got, _, _) = exchange(Faults::NONE, 5, Some(ServerSet::all(2))).await;
        assert_eq!(got.len(), 5);
    });
}

#[test]
fn one_seed_one_delivery_order() {
    let run = || paused().block_on(exchange(Faults::SOME, 200, None)).0;
    assert_eq!(run(), run());
}
