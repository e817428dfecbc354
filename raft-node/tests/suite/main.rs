//! raft-node's integration tests, one module per area, in one test binary (one link instead of
//! eight). Run one area with `cargo test --release -p raft-node --test suite storage::`.

mod client;
mod cluster;
mod durability;
mod kv;
mod simulation;
mod storage;
mod tcp;
mod transport;
