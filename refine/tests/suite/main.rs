//! The cross-layer test suites of the workspace, one module per suite, in one test binary: each
//! integration-test file would be a binary of its own, linked (with thin LTO) against every layer,
//! and linking them was most of the continuous-integration run. Run one suite with
//! `cargo test --release -p refine --test suite message_raft::`.

mod checkpoint_faults;
mod cli;
mod distlog;
mod dynamic_raft;
mod five_servers;
mod jit_paxos;
mod logless_raft;
mod logless_to_dynamic;
mod long_runs;
mod message_obligations;
mod message_raft;
mod multi_paxos;
mod raft_reconfig;
mod replay;
mod static_raft;
mod to_log;
mod traft;
mod weak_raft;
mod weak_raft_to_distlog;
