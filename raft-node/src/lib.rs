//! The message-raft node core, run for real: one tokio task per node, a write-ahead log, a
//! transport, and a deterministic simulation whose every run is validated against the spec.
//!
//! This crate is the runtime level under `message-raft` in the workspace's chain. It adds
//! only IO, time and durability around the node core's handlers
//! ([`message_raft::node`]), which it calls unchanged, in the runtime's representation
//! [`NodeRepr`] (`u64` terms and indexes, logs of byte payloads with no cap, up to 16 nodes).
//! Every run it makes records one event per node step; [`validate()`] replays the record
//! through message-raft's step function and maps it up to log-abstract.
//!
//! - [`storage`]: the write-ahead file (term, vote, config, log entries; a checksum per
//!   record; one `fsync` per batch; recovery that drops a torn tail; refusal of a directory of
//!   another node or with corruption in the middle).
//! - [`transport`]: the async [`transport::Transport`] trait and [`transport::MemNetwork`],
//!   an in-memory network with seeded loss, delay, duplication, reordering and partitions.
//! - [`runtime`]: the node task.
//! - [`sim`]: the deterministic simulation (paused tokio clock, one seed, one run).
//! - [`record`] and [`validate`](mod@validate): the run's events, and their replay.
//! - [`kv`]: the replicated key-value map, applied from committed entries
//!   ([`runtime::run_service`]).
//! - [`client`]: the client protocol, a node's client server, and the client library.
//! - [`serve`] and [`cluster`]: a node as a process, and a local cluster of them.
//! - [`bench`]: `raft-node bench`, side by side with etcd.
//!
//! ```
//! let run = raft_node::sim::simulate(7, &raft_node::sim::SimOptions::default()).unwrap();
//! let checked = raft_node::validate(3, &run.events).unwrap();
//! assert_eq!(checked.steps as u64, run.steps.iter().sum::<u64>());
//! ```

pub mod bench;
pub mod client;
pub mod cluster;
pub mod kv;
pub mod linearize;
pub mod record;
pub mod rng;
pub mod runtime;
pub mod serve;
pub mod sim;
pub mod storage;
pub mod tcp;
pub mod transport;
pub mod validate;

pub use validate::{
    merge_by_causality, validate, validate_from, validate_with, Invalid, Validation,
};

/// A client's command: opaque bytes.
pub type Payload = Vec<u8>;

/// The most nodes a cluster has (a config is a 16-bit set).
pub const MAX_NODES: usize = message_raft::repr::WIDE_MAX_SERVERS;

/// The runtime's representation of a node's variables.
pub type NodeRepr = message_raft::Wide<Payload>;
