//! The registry of the workspace's layers and refinement edges: one [`LayerDef`] per layer, one
//! [`EdgeDef`] per edge, each built from the layer crates' own constants (name, description,
//! bounds, builder, mutations). Adding a layer is one `.layer(...)` entry in [`registry`];
//! adding an edge, one `.edge(...)`.
//!
//! The functions below run a layer or an edge by name through [`registry`]; the machinery is
//! [`refinement_tests::registry`], which a crate of your own can use with its own layers.

use refinement_tests::registry::{DeepBounds, EdgeDef, LayerDef, Registry};
pub use refinement_tests::registry::{
    ExpectedFailure, LayerEntry, MutationInfo, Report, RunError, ViolationReport, WalkReport,
};
use refinement_tests::replay::Replay;
use refinement_tests::{Options, WalkOptions};
use spec_core::{Bound, Composed, Params, Refinement};
use std::sync::LazyLock;

use async_reconfig::AsyncReconfig;
use dynamic_raft::{DynamicRaft, SafeWeakRaftMapping};
use logless_raft::refinement::DynamicRaftMapping;
use logless_raft::LoglessRaft;
use message_raft::MessageRaft;
use raft_reconfig::RaftReconfig;
use static_raft::{MappingFlaw, StaticRaft, WeakRaftMapping};
use weak_raft::{CommittedAreChosen, LogsAsDistLog, SafeWeakRaft, WeakRaft};

/// The workspace's registry, built once.
pub static REGISTRY: LazyLock<Registry> = LazyLock::new(registry);

/// The layers (from the most abstract down) and the edges (from the most concrete up: the order
/// `refine chain` checks them in).
pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.layer(LayerDef::<log_abstract::Log>::new().deep(DeepBounds {
        bounds: &[(Bound::Values, 3), (Bound::MaxLogLen, 4)],
        edge_bounds: None,
        expected_failure: None,
    }))
    .layer(
        LayerDef::<distlog::DistLog>::new()
            .mutations(distlog::DistLog::with_mutation)
            .deep(DeepBounds {
                bounds: &[(Bound::Servers, 4), (Bound::Values, 2), (Bound::MaxLogLen, 3)],
                edge_bounds: None,
                expected_failure: None,
            }),
    )
    .layer(
        LayerDef::<WeakRaft>::new()
            .expected_failure(
                "StateMachineSafety",
                "MongoWeakRaft lets every step change a config with no quorum condition",
            )
            .deep(DeepBounds {
                bounds: &[(Bound::Servers, 3), (Bound::MaxTerm, 2), (Bound::MaxLogLen, 2)],
                edge_bounds: None,
                expected_failure: Some(ExpectedFailure {
                    property: "StateMachineSafety",
                    why: "MongoWeakRaft lets every step change a config with no quorum condition",
                }),
            }),
    )
    .layer(
        // A finding about the original (logless-reconfig c7dce8d), confirmed by TLC on its own
        // modules: from 3 servers a stale primary's log can be rewritten. See weak-raft's README.
        LayerDef::<SafeWeakRaft>::new()
            .expected_failure(
                "LeaderCompleteness",
                "as written, MongoSafeWeakRaft's MergeEntries and RollbackEntries have no role guard, so a stale primary's log can be rewritten (from 3 servers; TLC agrees)",
            )
            .deep(DeepBounds {
                bounds: &[(Bound::Servers, 3), (Bound::MaxTerm, 2), (Bound::MaxLogLen, 2)],
                edge_bounds: None,
                expected_failure: Some(ExpectedFailure {
                    property: "LeaderCompleteness",
                    why: "as written, MongoSafeWeakRaft's MergeEntries and RollbackEntries have no role guard, so a stale primary's log can be rewritten (TLC agrees)",
                }),
            }),
    )
    .layer(
        LayerDef::<StaticRaft>::new()
            .mutations(StaticRaft::with_mutation)
            .deep(DeepBounds {
                bounds: &[(Bound::Servers, 4), (Bound::MaxTerm, 3), (Bound::MaxLogLen, 2)],
                edge_bounds: None,
                expected_failure: None,
            }),
    )
    .layer(
        LayerDef::<traft::Traft>::new()
            .mutations(traft::Traft::with_mutation)
            .deep(DeepBounds {
                bounds: &[(Bound::Servers, 4), (Bound::MaxTerm, 2), (Bound::MaxLogLen, 2)],
                edge_bounds: None,
                expected_failure: None,
            }),
    )
    .layer(
        LayerDef::<jit_paxos::JitPaxos>::new()
            .mutations(jit_paxos::JitPaxos::with_mutation)
            .deep(DeepBounds {
                bounds: &[(Bound::Servers, 3), (jit_paxos::MESSAGE_COUNT, 14)],
                edge_bounds: None,
                expected_failure: None,
            }),
    )
    .layer(
        LayerDef::<multi_paxos::MultiPaxos>::new()
            .mutations(multi_paxos::MultiPaxos::with_mutation)
            .deep(DeepBounds {
                // The mutations' bounds: one leader's phase-1 broadcast can overlap another's
                // phase 2 (13,110,040 distinct states with symmetry).
                bounds: &[(Bound::MaxMessages, 4)],
                edge_bounds: None,
                expected_failure: None,
            }),
    )
    .layer(LayerDef::<DynamicRaft>::new().deep(DeepBounds {
        bounds: &[(Bound::Servers, 4), (Bound::MaxTerm, 3), (Bound::MaxLogLen, 2)],
        edge_bounds: None,
        expected_failure: Some(ExpectedFailure {
            property: "LogMatching",
            why: "as written, MongoDynamicRaft's MergeEntries has no role guard (from 4 servers; TLC agrees)",
        }),
    }))
    .layer(
        LayerDef::<LoglessRaft>::new()
            .mutations(LoglessRaft::with_mutation)
            .deep(DeepBounds {
                bounds: &[
                    (Bound::Servers, 4),
                    (Bound::MaxTerm, 4),
                    (Bound::MaxConfigVersion, 4),
                ],
                // The edge to dynamic-raft holds logs of MaxTerm + MaxConfigVersion - 1 <= 5
                // entries, and its history variables multiply the states.
                edge_bounds: Some(&[
                    (Bound::Servers, 3),
                    (Bound::MaxTerm, 3),
                    (Bound::MaxConfigVersion, 3),
                ]),
                expected_failure: None,
            }),
    )
    .layer(
        LayerDef::<RaftReconfig>::new()
            .mutations(RaftReconfig::with_mutation)
            .deep(DeepBounds {
                bounds: &[
                    (Bound::Servers, 3),
                    (Bound::MaxLogLen, 2),
                    (Bound::MaxTerm, 3),
                    (Bound::MaxConfigVersion, 3),
                ],
                edge_bounds: None,
                expected_failure: None,
            }),
    )
    .layer(
        LayerDef::<MessageRaft>::new()
            .mutations(MessageRaft::with_mutation)
            .deep(DeepBounds {
                // Reconfigs on, faults but loss off: the defaults' restart and duplicate traded
                // for a second config version (about 30 s per row with symmetry).
                bounds: &[
                    (Bound::Servers, 3),
                    (Bound::MaxLogLen, 1),
                    (Bound::MaxTerm, 2),
                    (Bound::MaxConfigVersion, 2),
                    (Bound::MaxMessages, 2),
                    (Bound::Restarts, 0),
                    (Bound::Duplicates, 0),
                ],
                edge_bounds: None,
                expected_failure: None,
            }),
    )
    .layer(
        LayerDef::<AsyncReconfig>::new()
            .mutations(AsyncReconfig::with_mutation)
            .deep(DeepBounds {
                bounds: &[
                    (Bound::Servers, 3),
                    (Bound::MaxLogLen, 1),
                    (Bound::MaxTerm, 2),
                    (Bound::MaxConfigVersion, 2),
                ],
                edge_bounds: None,
                expected_failure: None,
            }),
    );

    r.edge(EdgeDef::new(
        "async-reconfig",
        "log-abstract",
        "chosen <- the committed entries <<index, term>>",
        |run| run.check(&async_reconfig::CommittedAreChosen::new(run.lower()?)?),
    ))
    .edge(EdgeDef::new(
        "message-raft",
        "log-abstract",
        "chosen <- the entries primaries committed (history variable), under loss, duplication and restarts",
        |run| run.check(&message_raft::CommittedAreChosen::new(run.lower()?)?),
    ))
    .edge(EdgeDef::new(
        "raft-reconfig",
        "logless-raft",
        "the config state machine: oplog steps stutter (the original's RefinesMLDR)",
        |run| run.check(&raft_reconfig::ToLoglessRaft::new(run.lower()?)),
    ))
    .edge(EdgeDef::new(
        "raft-reconfig",
        "log-abstract",
        "the oplog state machine: chosen <- the committed entries <<index, term>>",
        |run| run.check(&raft_reconfig::CommittedAreChosen::new(run.lower()?)?),
    ))
    .edge(
        EdgeDef::new(
            "logless-raft",
            "dynamic-raft",
            "history variables (log, configLog, elections, committed) on logless-raft; the two fixes of the open TODO: UpdateTerms in dynamic-raft, one quorum for Reconfig's two checks",
            |run| {
                let spec: LoglessRaft = run.lower()?;
                run.check(&match run.mutation() {
                    Some("upper-without-update-terms") => DynamicRaftMapping::new(spec)?,
                    Some("independent-quorum-checks") => {
                        DynamicRaftMapping::new(spec)?.with_update_terms()
                    }
                    _ => DynamicRaftMapping::generalized(spec)?,
                })
            },
        )
        .mutation(
            "upper-without-update-terms",
            "MongoDynamicRaft as written, without UpdateTerms: logless-raft's UpdateTerms has no counterpart",
        )
        .mutation(
            "independent-quorum-checks",
            "logless-raft's Reconfig as written: its config and term checks may use different quorums",
        ),
    )
    .edge(EdgeDef::new(
        "logless-raft",
        "log-abstract",
        "composed: logless-raft -> dynamic-raft -> safe-weak-raft -> log-abstract",
        |run| {
            let first = DynamicRaftMapping::generalized(run.lower()?)?;
            let second = SafeWeakRaftMapping::new(first.upper().clone())?;
            let third = CommittedAreChosen::new(second.upper().clone())?;
            run.check(&Composed::new(Composed::new(first, second), third))
        },
    ))
    .edge(
        EdgeDef::new(
            "dynamic-raft",
            "safe-weak-raft",
            "configLog forgotten; each step is MongoWeakRaft's step with the config change it makes (the original's MDRRefinesMWR)",
            |run| {
                let mapping = SafeWeakRaftMapping::new(run.lower()?)?;
                if run.mutation() == Some("merge-keeps-config") {
                    run.check(&mapping.broken())
                } else {
                    run.check(&mapping)
                }
            },
        )
        .mutation(
            "merge-keeps-config",
            "the mapping sends MergeEntries to a step that keeps every config, as if only the log moved",
        ),
    )
    .edge(EdgeDef::new(
        "dynamic-raft",
        "log-abstract",
        "composed: dynamic-raft -> safe-weak-raft -> log-abstract",
        |run| {
            let first = SafeWeakRaftMapping::new(run.lower()?)?;
            let second = CommittedAreChosen::new(first.upper().clone())?;
            run.check(&Composed::new(first, second))
        },
    ))
    .edge(
        EdgeDef::new(
            "static-raft",
            "safe-weak-raft",
            "the same variables, with an elections history variable added to static-raft",
            |run| {
                let mapping = WeakRaftMapping::new(run.lower()?)?;
                match run.mutation() {
                    Some("elections-from-primaries") => {
                        run.check(&mapping.with_flaw(MappingFlaw::ElectionsFromPrimaries))
                    }
                    Some("writer-is-newest-leader") => {
                        run.check(&mapping.with_flaw(MappingFlaw::WriterIsNewestLeader))
                    }
                    _ => run.check(&mapping),
                }
            },
        )
        .mutation(
            "elections-from-primaries",
            "the mapping computes elections from the current primaries instead of a history variable",
        )
        .mutation(
            "writer-is-newest-leader",
            "the mapping attributes every client write to the primary of the newest term (one leader)",
        ),
    )
    .edge(EdgeDef::new(
        "static-raft",
        "log-abstract",
        "composed: static-raft -> safe-weak-raft -> log-abstract",
        |run| {
            let first = WeakRaftMapping::new(run.lower()?)?;
            let second = CommittedAreChosen::new(first.upper().clone())?;
            run.check(&Composed::new(first, second))
        },
    ))
    .edge(EdgeDef::new(
        "static-raft",
        "distlog",
        "composed: static-raft -> safe-weak-raft -> distlog (each server's log; safe-weak-raft -> distlog alone fails on MergeEntries: `refine refines safe-weak-raft distlog`)",
        |run| {
            let first = WeakRaftMapping::new(run.lower()?)?;
            let second = LogsAsDistLog::new(first.upper().clone())?;
            run.check(&Composed::new(first, second))
        },
    ))
    .edge(EdgeDef::new(
        "safe-weak-raft",
        "log-abstract",
        "chosen <- the committed entries <<index, term>>",
        |run| run.check(&CommittedAreChosen::new(run.lower()?)?),
    ))
    .edge(EdgeDef::new(
        "traft",
        "log-abstract",
        "chosen <- the committed entries <<index, author>> (an entry is safe once a quorum holds it with the leader as committer)",
        |run| run.check(&traft::CommittedAreChosen::new(run.lower()?)?),
    ))
    .edge(EdgeDef::new(
        "jit-paxos",
        "log-abstract",
        "chosen <- every client commit's checksum up to its index (entries named <<value, timestamp>>)",
        |run| run.check(&jit_paxos::CommitsAreChosen::new(run.lower()?)?),
    ))
    .edge(EdgeDef::new(
        "multi-paxos",
        "log-abstract",
        "chosen <- the longest prefix of chosen slots (a command accepted by a majority of acceptors in one ballot); a gap filled chooses a block",
        |run| run.check(&multi_paxos::ChosenLog::prefix(run.lower()?)?),
    ))
    .edge(
        EdgeDef::new(
            "distlog",
            "log-abstract",
            "chosen <- the entries every server holds (AllChosen)",
            |run| {
                let mapping = distlog::ChosenMapping::new(run.lower()?);
                if run.mutation() == Some("first-server-chosen") {
                    run.check(&mapping.broken())
                } else {
                    run.check(&mapping)
                }
            },
        )
        .mutation(
            "first-server-chosen",
            "the mapping calls chosen whatever the first server's log holds",
        ),
    )
    // Not chain rows: the checker refutes them, as documented. MergeEntries copies several
    // entries at once (see weak-raft's to_distlog module; MongoStaticRaft never merges, so its
    // composite holds); message-raft's step is not always one of raft-reconfig's (see
    // message-raft's README).
    .edge(
        EdgeDef::new(
            "safe-weak-raft",
            "distlog",
            "each server's log (fails on MergeEntries)",
            |run| run.check(&LogsAsDistLog::new(run.lower::<SafeWeakRaft>()?)?),
        )
        .refuted(),
    )
    .edge(
        EdgeDef::new(
            "message-raft",
            "raft-reconfig",
            "the node cores' variables (refuted: see message-raft's README)",
            |run| run.check(&message_raft::ToRaftReconfig::new(run.lower()?)?),
        )
        .refuted(),
    )
    // These two hold (async-reconfig's README: the bounds checked and their counts), but are not
    // chain rows: with the history variables, message-raft's defaults take 375 million
    // successors even with symmetry (6.6 minutes on two busy cores), far longer than a row may.
    .edge(
        EdgeDef::new(
            "message-raft",
            "async-reconfig",
            "holds, restarts and duplicates included (not a chain row: at message-raft's defaults, 26,980,591 distinct states with --symmetry): the nodes' variables and votedFor, the network forgotten; async-reconfig's history variables recorded along the behaviour",
            |run| run.check(&message_raft::refinement::to_async_reconfig(run.lower()?)?),
        )
        .beside_the_chain(),
    )
    .edge(
        EdgeDef::new(
            "raft-reconfig",
            "async-reconfig",
            "holds (not a chain row; at raft-reconfig's defaults 1,210,852 distinct states with --symmetry, about 30 s): the same variables, votedFor and the history recorded along the behaviour; every synchronous step is an async-reconfig step",
            |run| run.check(&async_reconfig::FromRaftReconfig::from_raft_reconfig(run.lower()?)?),
        )
        .beside_the_chain(),
    );
    r
}

/// Checks layer `name`'s invariants and action properties (all of them, or those named in
/// `only`), with an optional mutation.
pub fn check_layer(
    name: &str,
    params: &Params,
    mutation: Option<&str>,
    only: &[String],
    options: &Options,
) -> Result<Report, RunError> {
    REGISTRY.check(name, params, mutation, only, options)
}

/// Checks the edge `lower -> upper` at the lower level's bounds, with an optional mutation of
/// the lower layer or of the mapping.
pub fn check_edge(
    lower: &str,
    upper: &str,
    params: &Params,
    mutation: Option<&str>,
    options: &Options,
) -> Result<Report, RunError> {
    REGISTRY.refines(lower, upper, params, mutation, options)
}

/// Runs seeded random walks through layer `name`, checking its invariants.
pub fn simulate_layer(
    name: &str,
    params: &Params,
    mutation: Option<&str>,
    walks: &WalkOptions,
) -> Result<WalkReport, RunError> {
    REGISTRY.simulate(name, params, mutation, walks)
}

/// Replays the ITF trace `trace` against layer `name` (see [`refinement_tests::replay`]).
pub fn replay_layer(
    name: &str,
    params: &Params,
    mutation: Option<&str>,
    trace: &serde_json::Value,
) -> Result<Replay, RunError> {
    REGISTRY.replay(name, params, mutation, trace)
}

/// [`replay_layer`] on the trace in the file at `path`.
pub fn replay_file(
    name: &str,
    params: &Params,
    mutation: Option<&str>,
    path: &std::path::Path,
) -> Result<Replay, RunError> {
    REGISTRY.replay_file(name, params, mutation, path)
}

/// Runs the whole chain at `params` (each bound given to the layers that take it).
pub fn chain(params: &Params, options: &Options) -> Result<Vec<Report>, RunError> {
    REGISTRY.chain(params, options)
}

/// `refine chain --deep`: every layer and edge at its deep bounds.
pub fn chain_deep(options: &Options) -> Result<Vec<Report>, RunError> {
    REGISTRY.chain_deep(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every layer has deep bounds, and each is accepted by the layer (and its edges' bounds by
    /// the edges' lower layers), so `refine chain --deep` cannot fail on a typo.
    #[test]
    fn deep_bounds_are_valid_for_every_layer_and_edge() {
        for layer in REGISTRY.layers() {
            let deep = layer
                .deep()
                .unwrap_or_else(|| panic!("{} has no deep bounds", layer.name()));
            for bounds in [deep.bounds, deep.edge_bounds.unwrap_or(deep.bounds)] {
                let mut params = Params::default();
                for &(b, v) in bounds {
                    params.set(b, v);
                }
                REGISTRY
                    .params(layer.name(), &params)
                    .unwrap_or_else(|e| panic!("{}: {e}", layer.name()));
            }
        }
    }

    /// Every mutation name is unique within what it can be given to (a layer and its edges).
    #[test]
    fn every_layer_and_edge_is_registered_once_with_distinct_mutations() {
        let all = REGISTRY.mutations();
        for edge in REGISTRY.edges() {
            let edge_name = format!("{} -> {}", edge.lower(), edge.upper());
            let names: Vec<&str> = all
                .iter()
                .filter(|m| m.target == edge.lower() || m.target == edge_name)
                .map(|m| m.name)
                .collect();
            let mut unique = names.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(names.len(), unique.len(), "{edge_name}: {names:?}");
        }
    }
}
