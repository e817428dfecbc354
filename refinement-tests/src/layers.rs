//! The registry of layers and refinement edges, and type-erased runs of them by name: what the
//! `refine` command line is built on.

use crate::checks::{Invariants, RefinementCheck};
use crate::engine::{
    explore, simulate, FailureKind, Observer, Options, SearchError, SearchIdentity, Stats,
    WalkOptions, WalkStats,
};
use crate::report::{trace_itf, trace_text};
use spec_core::{Bound, Layer, Params, ParamsError, Refinement, Spec};

/// A layer of the refinement graph.
#[derive(Clone, Copy, Debug)]
pub struct LayerInfo {
    /// Its name on the command line.
    pub name: &'static str,
    /// The TLA+ specification it ports.
    pub spec: &'static str,
    /// Its bounds (empty when not yet implemented).
    pub bounds: &'static [Bound],
    /// Whether it can be checked yet.
    pub implemented: bool,
    /// An invariant the layer is known to violate, and why: `refine chain` reports it as an
    /// expected failure instead of failing.
    pub expected_failure: Option<ExpectedFailure>,
}

/// A violation that is part of what a layer teaches, not a bug of the port.
#[derive(Clone, Copy, Debug)]
pub struct ExpectedFailure {
    /// The property expected to fail.
    pub property: &'static str,
    /// Why it fails.
    pub why: &'static str,
}

/// Every layer, from the most abstract down.
pub const LAYERS: &[LayerInfo] = &[
    LayerInfo {
        name: "log-abstract",
        spec: "Log",
        bounds: <log_abstract::Log as Layer>::BOUNDS,
        implemented: true,
        expected_failure: None,
    },
    LayerInfo {
        name: "distlog",
        spec: "DistLog",
        bounds: <distlog::DistLog as Layer>::BOUNDS,
        implemented: true,
        expected_failure: None,
    },
    LayerInfo {
        name: "weak-raft",
        spec: "MongoWeakRaft",
        bounds: <weak_raft::WeakRaft as Layer>::BOUNDS,
        implemented: true,
        expected_failure: Some(ExpectedFailure {
            property: "StateMachineSafety",
            why: "MongoWeakRaft lets every step change a config with no quorum condition",
        }),
    },
    LayerInfo {
        name: "safe-weak-raft",
        spec: "MongoSafeWeakRaft",
        bounds: <weak_raft::SafeWeakRaft as Layer>::BOUNDS,
        implemented: true,
        // A finding about the original (logless-reconfig c7dce8d), confirmed by TLC on its own
        // modules: from 3 servers a stale primary's log can be rewritten. See weak-raft's README.
        expected_failure: Some(ExpectedFailure {
            property: "LeaderCompleteness",
            why: "as written, MongoSafeWeakRaft's MergeEntries and RollbackEntries have no role guard, so a stale primary's log can be rewritten (from 3 servers; TLC agrees)",
        }),
    },
    LayerInfo {
        name: "static-raft",
        spec: "MongoStaticRaft",
        bounds: <static_raft::StaticRaft as Layer>::BOUNDS,
        implemented: true,
        expected_failure: None,
    },
    LayerInfo {
        name: "traft",
        spec: "TRaft (merge-log)",
        bounds: <traft::Traft as Layer>::BOUNDS,
        implemented: true,
        expected_failure: None,
    },
    LayerInfo {
        name: "dynamic-raft",
        spec: "MongoDynamicRaft",
        bounds: <dynamic_raft::DynamicRaft as Layer>::BOUNDS,
        implemented: true,
        expected_failure: None,
    },
    LayerInfo {
        name: "logless-raft",
        spec: "MongoLoglessDynamicRaft",
        bounds: <logless_raft::LoglessRaft as Layer>::BOUNDS,
        implemented: true,
        expected_failure: None,
    },
    LayerInfo {
        name: "raft-reconfig",
        spec: "MongoRaftReconfig",
        bounds: <raft_reconfig::RaftReconfig as Layer>::BOUNDS,
        implemented: true,
        expected_failure: None,
    },
    LayerInfo {
        name: "message-raft",
        spec: "MongoRaftReconfig by messages (node core + network)",
        bounds: <message_raft::MessageRaft as Layer>::BOUNDS,
        implemented: true,
        expected_failure: None,
    },
];

/// A deliberate bug that `--mutation NAME` plants in a layer or a mapping, for learners and for
/// tests that the checker catches it.
#[derive(Clone, Copy, Debug)]
pub struct MutationInfo {
    /// The layer it mutates, or the edge `lower -> upper` whose mapping it breaks.
    pub target: &'static str,
    /// Its name on the command line.
    pub name: &'static str,
    /// What it breaks.
    pub what: &'static str,
}

/// Every mutation of every layer and edge.
pub fn mutations() -> Vec<MutationInfo> {
    let mut all = vec![
        MutationInfo {
            target: "distlog",
            name: "remove-chosen",
            what: "RemoveEntry drops its guard, so a chosen entry can be removed",
        },
        MutationInfo {
            target: "distlog",
            name: "no-state-constraint",
            what: "the MaxLogLen constraint is dropped: logs outgrow the state encoding and the successor function panics",
        },
        MutationInfo {
            target: "distlog -> log-abstract",
            name: "first-server-chosen",
            what: "the mapping calls chosen whatever the first server's log holds",
        },
    ];
    all.push(MutationInfo {
        target: "static-raft -> safe-weak-raft",
        name: "elections-from-primaries",
        what: "the mapping computes elections from the current primaries instead of a history variable",
    });
    all.push(MutationInfo {
        target: "dynamic-raft -> safe-weak-raft",
        name: "merge-keeps-config",
        what: "the mapping sends MergeEntries to a step that keeps every config, as if only the log moved",
    });
    all.push(MutationInfo {
        target: "logless-raft -> dynamic-raft",
        name: "upper-without-update-terms",
        what: "MongoDynamicRaft as written, without UpdateTerms: logless-raft's UpdateTerms has no counterpart",
    });
    all.push(MutationInfo {
        target: "logless-raft -> dynamic-raft",
        name: "independent-quorum-checks",
        what: "logless-raft's Reconfig as written: its config and term checks may use different quorums",
    });
    all.push(MutationInfo {
        target: "static-raft -> safe-weak-raft",
        name: "writer-is-newest-leader",
        what: "the mapping attributes every client write to the primary of the newest term (one leader)",
    });
    all.extend(static_raft::Mutation::ALL.iter().map(|m| MutationInfo {
        target: "static-raft",
        name: m.name(),
        what: m.what(),
    }));
    all.extend(traft::Mutation::ALL.iter().map(|m| MutationInfo {
        target: "traft",
        name: m.name(),
        what: m.what(),
    }));
    all.extend(logless_raft::Mutation::ALL.iter().map(|m| MutationInfo {
        target: "logless-raft",
        name: m.name(),
        what: m.what(),
    }));
    all.extend(raft_reconfig::Mutation::ALL.iter().map(|m| MutationInfo {
        target: "raft-reconfig",
        name: m.name(),
        what: m.what(),
    }));
    all.extend(message_raft::Mutation::ALL.iter().map(|m| MutationInfo {
        target: "message-raft",
        name: m.name(),
        what: m.what(),
    }));
    all
}

/// Checks that `mutation`, if given, is one of those of `targets` (layers or edges).
fn check_mutation(targets: &[&str], mutation: Option<&str>) -> Result<(), RunError> {
    let Some(name) = mutation else { return Ok(()) };
    let all = mutations();
    if all
        .iter()
        .any(|m| m.name == name && targets.contains(&m.target))
    {
        return Ok(());
    }
    let known: Vec<&str> = all
        .iter()
        .filter(|m| targets.contains(&m.target))
        .map(|m| m.name)
        .collect();
    Err(RunError(format!(
        "unknown mutation {name} for {}; the mutations are: {}",
        targets.join(" and "),
        if known.is_empty() {
            "(none)".to_string()
        } else {
            known.join(", ")
        }
    )))
}

/// A refinement edge `lower -> upper` that exists.
#[derive(Clone, Copy, Debug)]
pub struct EdgeInfo {
    /// The implementing layer.
    pub lower: &'static str,
    /// The implemented layer.
    pub upper: &'static str,
    /// What the mapping is.
    pub mapping: &'static str,
}

/// Every edge that exists, from the most concrete up (the order `refine chain` checks them in).
pub const EDGES: &[EdgeInfo] = &[
    EdgeInfo {
        lower: "message-raft",
        upper: "log-abstract",
        mapping: "chosen <- the entries primaries committed (history variable), under loss, duplication and restarts",
    },
    EdgeInfo {
        lower: "raft-reconfig",
        upper: "logless-raft",
        mapping: "the config state machine: oplog steps stutter (the original's RefinesMLDR)",
    },
    EdgeInfo {
        lower: "raft-reconfig",
        upper: "log-abstract",
        mapping: "the oplog state machine: chosen <- the committed entries <<index, term>>",
    },
    EdgeInfo {
        lower: "logless-raft",
        upper: "dynamic-raft",
        mapping: "history variables (log, configLog, elections, committed) on logless-raft; the two fixes of the open TODO: UpdateTerms in dynamic-raft, one quorum for Reconfig's two checks",
    },
    EdgeInfo {
        lower: "logless-raft",
        upper: "log-abstract",
        mapping: "composed: logless-raft -> dynamic-raft -> safe-weak-raft -> log-abstract",
    },
    EdgeInfo {
        lower: "dynamic-raft",
        upper: "safe-weak-raft",
        mapping: "configLog forgotten; each step is MongoWeakRaft's step with the config change it makes (the original's MDRRefinesMWR)",
    },
    EdgeInfo {
        lower: "dynamic-raft",
        upper: "log-abstract",
        mapping: "composed: dynamic-raft -> safe-weak-raft -> log-abstract",
    },
    EdgeInfo {
        lower: "static-raft",
        upper: "safe-weak-raft",
        mapping: "the same variables, with an elections history variable added to static-raft",
    },
    EdgeInfo {
        lower: "static-raft",
        upper: "log-abstract",
        mapping: "composed: static-raft -> safe-weak-raft -> log-abstract",
    },
    EdgeInfo {
        lower: "static-raft",
        upper: "distlog",
        mapping: "composed: static-raft -> safe-weak-raft -> distlog (each server's log; safe-weak-raft -> distlog alone fails on MergeEntries: `refine refines safe-weak-raft distlog`)",
    },
    EdgeInfo {
        lower: "safe-weak-raft",
        upper: "log-abstract",
        mapping: "chosen <- the committed entries <<index, term>>",
    },
    EdgeInfo {
        lower: "traft",
        upper: "log-abstract",
        mapping: "chosen <- the committed entries <<index, author>> (an entry is safe once a quorum holds it with the leader as committer)",
    },
    EdgeInfo {
        lower: "distlog",
        upper: "log-abstract",
        mapping: "chosen <- the entries every server holds (AllChosen)",
    },
];

/// Why a run could not start: bad usage, reported with exit status 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunError(pub String);

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RunError {}

impl From<ParamsError> for RunError {
    fn from(e: ParamsError) -> Self {
        RunError(e.to_string())
    }
}

impl From<SearchError> for RunError {
    fn from(e: SearchError) -> Self {
        RunError(e.0)
    }
}

/// A violation, rendered.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ViolationReport {
    /// Invariant, action property or refinement.
    pub kind: FailureKind,
    /// The property or edge that failed.
    pub property: String,
    /// Why.
    pub detail: String,
    /// States in the counterexample.
    pub trace_length: usize,
    /// The actions of the counterexample, in order (the first state is initial).
    pub actions: Vec<String>,
    /// The counterexample in TLA+ notation.
    #[serde(skip)]
    pub text: String,
    /// The counterexample in ITF.
    #[serde(skip)]
    pub itf: serde_json::Value,
}

/// The result of one exhaustive check, by name.
#[derive(Clone, Debug)]
pub struct Report {
    /// `check LAYER` or `LOWER -> UPPER`.
    pub target: String,
    /// The bounds of the explored (lower) level.
    pub params: Params,
    /// What the search did.
    pub stats: Stats,
    /// The violation found, if any.
    pub violation: Option<ViolationReport>,
    /// Set when the violation is one the layer is documented to have.
    pub expected_failure: Option<ExpectedFailure>,
}

impl Report {
    /// Why a pass would say little, if it would: a complete search that reached no state past
    /// the initial ones, or actions that no explored state enabled (`None` when a violation was
    /// found: the search stopped early, and its coverage is partial).
    pub fn vacuity(&self) -> Option<String> {
        if self.violation.is_some() || self.stats.queue_left > 0 || self.stats.stopped.is_some() {
            return None;
        }
        if self.stats.vacuous() {
            return Some("no state beyond the initial states was reached".into());
        }
        let never = self.stats.never_enabled();
        (!never.is_empty()).then(|| format!("never enabled: {}", never.join(", ")))
    }

    /// Whether the check passed, or failed only as documented.
    pub fn as_expected(&self) -> bool {
        match (&self.violation, &self.expected_failure) {
            (None, _) => true,
            (Some(v), Some(e)) => v.property == e.property,
            (Some(_), None) => false,
        }
    }
}

/// The result of random walks, by name.
#[derive(Clone, Debug)]
pub struct WalkReport {
    /// The layer.
    pub target: String,
    /// Its bounds.
    pub params: Params,
    /// What the walks did.
    pub stats: WalkStats,
    /// The violation found, if any.
    pub violation: Option<ViolationReport>,
}

fn layer_info(name: &str) -> Result<&'static LayerInfo, RunError> {
    let info = LAYERS.iter().find(|l| l.name == name).ok_or_else(|| {
        let names: Vec<&str> = LAYERS.iter().map(|l| l.name).collect();
        RunError(format!(
            "unknown layer {name}; the layers are: {}",
            names.join(", ")
        ))
    })?;
    if !info.implemented {
        return Err(RunError(format!(
            "layer {name} ({}) is not implemented yet; the implemented layers are: {}",
            info.spec,
            implemented_layers().join(", ")
        )));
    }
    Ok(info)
}

/// The names of the layers that can be checked.
pub fn implemented_layers() -> Vec<&'static str> {
    LAYERS
        .iter()
        .filter(|l| l.implemented)
        .map(|l| l.name)
        .collect()
}

/// The bounds of `params` that layer `name` takes (for the chain, which shares one set of flags
/// among layers with different bounds).
pub fn params_for(name: &str, params: &Params) -> Params {
    let mut own = Params::default();
    if let Some(info) = LAYERS.iter().find(|l| l.name == name) {
        for bound in info.bounds {
            if let Some(v) = params.get(*bound) {
                own.set(*bound, v);
            }
        }
    }
    own
}

fn violation_report<M: Spec, O: Observer<M>>(
    spec: &M,
    observer: &O,
    cex: &crate::engine::Counterexample<M>,
) -> ViolationReport {
    ViolationReport {
        kind: cex.failure.kind,
        property: cex.failure.property.clone(),
        detail: cex.failure.detail.clone(),
        trace_length: cex.steps.len(),
        actions: cex.actions(),
        text: trace_text(spec, observer, cex),
        itf: trace_itf(spec, observer, cex),
    }
}

/// Checks `spec`'s invariants and action properties, or only those named in `only` (each must
/// be one the layer declares).
fn check_spec<L: Layer>(spec: L, only: &[String], options: &Options) -> Result<Report, RunError> {
    let all = Invariants::of(&spec);
    let observer = if only.is_empty() {
        all
    } else {
        let declared = all.names();
        if let Some(unknown) = only.iter().find(|n| !declared.contains(&n.as_str())) {
            return Err(RunError(format!(
                "layer {} has no invariant or action property {unknown}; it has: {}",
                L::NAME,
                declared.join(", ")
            )));
        }
        let names: Vec<&str> = only.iter().map(String::as_str).collect();
        Invariants::only(&spec, &names)
    };
    let mut options = options.clone();
    options.identity.properties = observer.names().iter().map(|n| n.to_string()).collect();
    let outcome = explore(&spec, &observer, &options)?;
    Ok(Report {
        target: format!("check {}", L::NAME),
        params: spec.params(),
        violation: outcome
            .violation
            .as_ref()
            .map(|c| violation_report(&spec, &observer, c)),
        stats: outcome.stats,
        expected_failure: None,
    })
}

/// Checks a refinement on every reachable transition of its lower level.
pub fn check_refinement<R: Refinement>(
    refinement: &R,
    options: &Options,
) -> Result<Report, RunError> {
    let observer = RefinementCheck::new(refinement);
    let spec = refinement.lower();
    let outcome = explore(spec, &observer, options)?;
    Ok(Report {
        target: refinement.name(),
        params: spec.params(),
        violation: outcome
            .violation
            .as_ref()
            .map(|c| violation_report(spec, &observer, c)),
        stats: outcome.stats,
        expected_failure: None,
    })
}

fn simulate_spec<L: Layer>(spec: L, walks: &WalkOptions) -> Result<WalkReport, RunError> {
    let observer = Invariants::of(&spec);
    let outcome = simulate(&spec, &observer, walks);
    Ok(WalkReport {
        target: format!("simulate {}", L::NAME),
        params: spec.params(),
        violation: outcome
            .violation
            .as_ref()
            .map(|c| violation_report(&spec, &observer, c)),
        stats: outcome.stats,
    })
}

/// Builds layer `L` from its bounds, with the mutation named `mutation` if it has one of that
/// name (names were checked against [`mutations`] before).
fn build<L: Layer, M>(
    params: &Params,
    mutation: Option<&str>,
    from_name: fn(&str) -> Option<M>,
    with_mutation: fn(L, M) -> L,
) -> Result<L, RunError> {
    let spec = L::from_params(params)?;
    Ok(match mutation.and_then(from_name) {
        Some(m) => with_mutation(spec, m),
        None => spec,
    })
}

/// For layers without mutations.
fn no_mutation(_: &str) -> Option<std::convert::Infallible> {
    None
}

fn unmutated<L>(_: L, never: std::convert::Infallible) -> L {
    match never {}
}

fn build_log(params: &Params, mutation: Option<&str>) -> Result<log_abstract::Log, RunError> {
    build(params, mutation, no_mutation, unmutated)
}

fn build_distlog(params: &Params, mutation: Option<&str>) -> Result<distlog::DistLog, RunError> {
    let from_name = |name: &str| match name {
        "remove-chosen" => Some(distlog::Mutation::RemoveChosen),
        "no-state-constraint" => Some(distlog::Mutation::NoStateConstraint),
        _ => None,
    };
    build(params, mutation, from_name, distlog::DistLog::with_mutation)
}

fn build_static_raft(
    params: &Params,
    mutation: Option<&str>,
) -> Result<static_raft::StaticRaft, RunError> {
    let (from_name, with) = (
        static_raft::Mutation::from_name,
        static_raft::StaticRaft::with_mutation,
    );
    build(params, mutation, from_name, with)
}

fn build_logless_raft(
    params: &Params,
    mutation: Option<&str>,
) -> Result<logless_raft::LoglessRaft, RunError> {
    let (from_name, with) = (
        logless_raft::Mutation::from_name,
        logless_raft::LoglessRaft::with_mutation,
    );
    build(params, mutation, from_name, with)
}

fn build_raft_reconfig(
    params: &Params,
    mutation: Option<&str>,
) -> Result<raft_reconfig::RaftReconfig, RunError> {
    let (from_name, with) = (
        raft_reconfig::Mutation::from_name,
        raft_reconfig::RaftReconfig::with_mutation,
    );
    build(params, mutation, from_name, with)
}

fn build_traft(params: &Params, mutation: Option<&str>) -> Result<traft::Traft, RunError> {
    build(
        params,
        mutation,
        traft::Mutation::from_name,
        traft::Traft::with_mutation,
    )
}

fn build_message_raft(
    params: &Params,
    mutation: Option<&str>,
) -> Result<message_raft::MessageRaft, RunError> {
    let (from_name, with) = (
        message_raft::Mutation::from_name,
        message_raft::MessageRaft::with_mutation,
    );
    build(params, mutation, from_name, with)
}

fn build_dynamic_raft(
    params: &Params,
    mutation: Option<&str>,
) -> Result<dynamic_raft::DynamicRaft, RunError> {
    build(params, mutation, no_mutation, unmutated)
}

fn build_weak_raft(
    params: &Params,
    mutation: Option<&str>,
) -> Result<weak_raft::WeakRaft, RunError> {
    build(params, mutation, no_mutation, unmutated)
}

fn build_safe_weak_raft(
    params: &Params,
    mutation: Option<&str>,
) -> Result<weak_raft::SafeWeakRaft, RunError> {
    build(params, mutation, no_mutation, unmutated)
}

/// Builds layer `$name` (checked to be implemented) with its bounds and mutation, binds it to
/// `$spec` and evaluates `$body`: the one place that maps layer names to types.
macro_rules! with_layer {
    ($name:expr, $params:expr, $mutation:expr, |$spec:ident| $body:expr) => {{
        let name = layer_info($name)?.name;
        check_mutation(&[name], $mutation)?;
        match name {
            "log-abstract" => {
                let $spec = build_log($params, $mutation)?;
                $body
            }
            "distlog" => {
                let $spec = build_distlog($params, $mutation)?;
                $body
            }
            "weak-raft" => {
                let $spec = build_weak_raft($params, $mutation)?;
                $body
            }
            "safe-weak-raft" => {
                let $spec = build_safe_weak_raft($params, $mutation)?;
                $body
            }
            "static-raft" => {
                let $spec = build_static_raft($params, $mutation)?;
                $body
            }
            "traft" => {
                let $spec = build_traft($params, $mutation)?;
                $body
            }
            "dynamic-raft" => {
                let $spec = build_dynamic_raft($params, $mutation)?;
                $body
            }
            "logless-raft" => {
                let $spec = build_logless_raft($params, $mutation)?;
                $body
            }
            "raft-reconfig" => {
                let $spec = build_raft_reconfig($params, $mutation)?;
                $body
            }
            "message-raft" => {
                let $spec = build_message_raft($params, $mutation)?;
                $body
            }
            other => unreachable!("layer {other} is marked implemented but has no builder"),
        }
    }};
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
    let options = Options {
        identity: SearchIdentity {
            command: format!("check {name}"),
            mutation: mutation.map(String::from),
            properties: Vec::new(),
        },
        ..options.clone()
    };
    with_layer!(name, params, mutation, |spec| check_spec(
        spec, only, &options
    ))
}

/// Runs seeded random walks through layer `name`, checking its invariants.
pub fn simulate_layer(
    name: &str,
    params: &Params,
    mutation: Option<&str>,
    walks: &WalkOptions,
) -> Result<WalkReport, RunError> {
    with_layer!(name, params, mutation, |spec| simulate_spec(spec, walks))
}

/// Replays the ITF trace `trace` against layer `name` at `params`, with an optional mutation
/// (see [`crate::replay`]). `Err` for input it cannot use: an unknown layer or mutation, bounds
/// the layer refuses, a file that is not an ITF trace of this layer at these bounds.
pub fn replay_layer(
    name: &str,
    params: &Params,
    mutation: Option<&str>,
    trace: &serde_json::Value,
) -> Result<crate::replay::Replay, RunError> {
    with_layer!(name, params, mutation, |spec| crate::replay::replay(
        &spec, trace
    ))
}

/// [`replay_layer`] on the trace in the file at `path`.
pub fn replay_file(
    name: &str,
    params: &Params,
    mutation: Option<&str>,
    path: &std::path::Path,
) -> Result<crate::replay::Replay, RunError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| RunError(format!("cannot read {}: {e}", path.display())))?;
    let trace: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| RunError(format!("{} is not JSON: {e}", path.display())))?;
    replay_layer(name, params, mutation, &trace)
}

/// Whether layer `name` supports symmetry reduction.
pub fn has_symmetry(name: &str) -> bool {
    let check = || -> Result<bool, RunError> {
        with_layer!(name, &Params::default(), None, |spec| Ok(
            spec.has_symmetry()
        ))
    };
    check().unwrap_or(false)
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
    layer_info(lower)?;
    layer_info(upper)?;
    let edge = format!("{lower} -> {upper}");
    check_mutation(&[lower, &edge], mutation)?;
    let options = &Options {
        identity: SearchIdentity {
            command: format!("refines {lower} {upper}"),
            mutation: mutation.map(String::from),
            properties: Vec::new(),
        },
        ..options.clone()
    };
    match (lower, upper) {
        ("static-raft", "safe-weak-raft") => {
            let mapping = static_raft::WeakRaftMapping::new(build_static_raft(params, mutation)?)?;
            match mutation {
                Some("elections-from-primaries") => check_refinement(
                    &mapping.with_flaw(static_raft::MappingFlaw::ElectionsFromPrimaries),
                    options,
                ),
                Some("writer-is-newest-leader") => check_refinement(
                    &mapping.with_flaw(static_raft::MappingFlaw::WriterIsNewestLeader),
                    options,
                ),
                _ => check_refinement(&mapping, options),
            }
        }
        ("safe-weak-raft", "log-abstract") => {
            let mapping =
                weak_raft::CommittedAreChosen::new(build_safe_weak_raft(params, mutation)?)?;
            check_refinement(&mapping, options)
        }
        ("static-raft", "log-abstract") => {
            let first = static_raft::WeakRaftMapping::new(build_static_raft(params, mutation)?)?;
            let second = weak_raft::CommittedAreChosen::new(first.upper().clone())?;
            check_refinement(&spec_core::Composed::new(first, second), options)
        }
        // Not a chain row: it fails, as documented (MergeEntries copies several entries at once;
        // see weak-raft's to_distlog module). MongoStaticRaft never merges, so its composite holds.
        ("safe-weak-raft", "distlog") => {
            let mapping = weak_raft::LogsAsDistLog::new(build_safe_weak_raft(params, mutation)?)?;
            check_refinement(&mapping, options)
        }
        ("static-raft", "distlog") => {
            let first = static_raft::WeakRaftMapping::new(build_static_raft(params, mutation)?)?;
            let second = weak_raft::LogsAsDistLog::new(first.upper().clone())?;
            check_refinement(&spec_core::Composed::new(first, second), options)
        }
        ("raft-reconfig", "logless-raft") => {
            let mapping = raft_reconfig::ToLoglessRaft::new(build_raft_reconfig(params, mutation)?);
            check_refinement(&mapping, options)
        }
        ("logless-raft", "dynamic-raft") => {
            let spec = build_logless_raft(params, mutation)?;
            let mapping = match mutation {
                Some("upper-without-update-terms") => {
                    logless_raft::refinement::DynamicRaftMapping::new(spec)?
                }
                Some("independent-quorum-checks") => {
                    logless_raft::refinement::DynamicRaftMapping::new(spec)?.with_update_terms()
                }
                _ => logless_raft::refinement::DynamicRaftMapping::generalized(spec)?,
            };
            check_refinement(&mapping, options)
        }
        ("logless-raft", "log-abstract") => {
            let first = logless_raft::refinement::DynamicRaftMapping::generalized(
                build_logless_raft(params, mutation)?,
            )?;
            let second = dynamic_raft::SafeWeakRaftMapping::new(first.upper().clone())?;
            let third = weak_raft::CommittedAreChosen::new(second.upper().clone())?;
            let composed = spec_core::Composed::new(spec_core::Composed::new(first, second), third);
            check_refinement(&composed, options)
        }
        ("dynamic-raft", "safe-weak-raft") => {
            let mapping =
                dynamic_raft::SafeWeakRaftMapping::new(build_dynamic_raft(params, mutation)?)?;
            if mutation == Some("merge-keeps-config") {
                check_refinement(&mapping.broken(), options)
            } else {
                check_refinement(&mapping, options)
            }
        }
        ("dynamic-raft", "log-abstract") => {
            let first =
                dynamic_raft::SafeWeakRaftMapping::new(build_dynamic_raft(params, mutation)?)?;
            let second = weak_raft::CommittedAreChosen::new(first.upper().clone())?;
            check_refinement(&spec_core::Composed::new(first, second), options)
        }
        ("traft", "log-abstract") => {
            let mapping = traft::CommittedAreChosen::new(build_traft(params, mutation)?)?;
            check_refinement(&mapping, options)
        }
        ("raft-reconfig", "log-abstract") => {
            let mapping =
                raft_reconfig::CommittedAreChosen::new(build_raft_reconfig(params, mutation)?)?;
            check_refinement(&mapping, options)
        }
        ("message-raft", "log-abstract") => {
            let mapping =
                message_raft::CommittedAreChosen::new(build_message_raft(params, mutation)?)?;
            check_refinement(&mapping, options)
        }
        // Not in EDGES: the checker refutes it (see message-raft's README).
        ("message-raft", "raft-reconfig") => {
            let mapping = message_raft::ToRaftReconfig::new(build_message_raft(params, mutation)?)?;
            check_refinement(&mapping, options)
        }
        ("distlog", "log-abstract") => {
            let mapping = distlog::ChosenMapping::new(build_distlog(params, mutation)?);
            if mutation == Some("first-server-chosen") {
                check_refinement(&mapping.broken(), options)
            } else {
                check_refinement(&mapping, options)
            }
        }
        _ => {
            let edges: Vec<String> = EDGES
                .iter()
                .map(|e| format!("{} {}", e.lower, e.upper))
                .collect();
            Err(RunError(format!(
                "there is no refinement edge {lower} -> {upper}; the edges are: {}",
                edges.join(", ")
            )))
        }
    }
}

/// Runs the whole chain: every implemented layer's own checks, then every edge, from the most
/// concrete level up. Symmetry is used where a layer supports it and `options.symmetry` is set.
pub fn chain(params: &Params, options: &Options) -> Result<Vec<Report>, RunError> {
    // A bound no implemented layer takes is a usage error, even in the chain.
    for bound in Bound::ALL {
        if params.get(bound).is_some()
            && !LAYERS
                .iter()
                .any(|l| l.implemented && l.bounds.contains(&bound))
        {
            return Err(RunError(format!(
                "no implemented layer takes {bound}; the implemented layers are: {}",
                implemented_layers().join(", ")
            )));
        }
    }
    chain_with(
        |layer| params_for(layer, params),
        |layer| params_for(layer, params),
        |layer| LAYERS.iter().find(|l| l.name == layer)?.expected_failure,
        options,
    )
}

/// The options of the chain's row `row`: checkpointed in (and resumed from) its own subdirectory
/// of the chain's `--checkpoint` or `--resume` directory; a row with no checkpoint there (it
/// had not begun, or finished before its first checkpoint) starts afresh, checkpointing there.
fn row_options(options: &Options, row: &str, symmetry: bool) -> Options {
    let mut own = Options {
        symmetry: options.symmetry && symmetry,
        ..options.clone()
    };
    if let Some(dir) = options.resume.as_ref().or(options.checkpoint.as_ref()) {
        let dir = dir.join(row);
        let resumable = options.resume.is_some() && dir.join(crate::checkpoint::META).exists();
        own.resume = resumable.then(|| dir.clone());
        own.checkpoint = Some(dir);
    }
    own
}

/// The row of a chain interrupted before it ran: incomplete, like the chain.
fn not_run(target: String, params: Params) -> Report {
    Report {
        target,
        params,
        stats: Stats {
            generated: 0,
            distinct: 0,
            depth: 0,
            queue_left: 0,
            seconds: 0.0,
            coverage: Vec::new(),
            collision_probability: 0.0,
            threads: 0,
            symmetry: false,
            stopped: Some("interrupted before this row and the rows after it ran".into()),
        },
        violation: None,
        expected_failure: None,
    }
}

/// Refuses chain checkpoint directories that cannot be used, before any row runs.
fn claim_chain_dirs(options: &Options) -> Result<(), RunError> {
    let rows = || {
        LAYERS
            .iter()
            .filter(|l| l.implemented)
            .map(|l| format!("check-{}", l.name))
            .chain(
                EDGES
                    .iter()
                    .map(|e| format!("refines-{}-{}", e.lower, e.upper)),
            )
    };
    let meta = crate::checkpoint::META;
    if let Some(from) = &options.resume {
        if let Some(to) = options.checkpoint.as_ref().filter(|to| *to != from) {
            return Err(RunError(format!(
                "--resume {} --checkpoint {}: a resumed chain keeps checkpointing where it \
                 resumes from; leave out --checkpoint",
                from.display(),
                to.display()
            )));
        }
        if !from.is_dir() {
            return Err(RunError(format!(
                "cannot resume from {}: no such directory",
                from.display()
            )));
        }
        if from.join(meta).exists() {
            return Err(RunError(format!(
                "cannot resume from {}: it holds {}, not a chain's checkpoints (one \
                 subdirectory per row); resume it with refine check or refine refines",
                from.display(),
                crate::checkpoint::describe(from)
            )));
        }
        if !rows().any(|row| from.join(row).join(meta).exists()) {
            return Err(RunError(format!(
                "cannot resume from {}: no row of the chain has a checkpoint there (refine \
                 chain --checkpoint DIR makes one per row, in DIR/check-LAYER and \
                 DIR/refines-LOWER-UPPER)",
                from.display()
            )));
        }
    } else if let Some(to) = options.checkpoint.as_ref().filter(|_| options.force) {
        // The rows' checkpoints are replaced row by row; one of a single search in DIR itself
        // goes now (a chain's DIR holds subdirectories only).
        if to.join(meta).exists() {
            let _in_use = crate::checkpoint::lock(to).map_err(RunError)?;
            crate::checkpoint::discard(to).map_err(|e| {
                RunError(format!(
                    "--force: cannot remove the checkpoint in {}: {e}",
                    to.display()
                ))
            })?;
        }
    } else if let Some(to) = &options.checkpoint {
        if let Some(held) = std::iter::once(to.clone())
            .chain(rows().map(|row| to.join(row)))
            .find(|dir| dir.join(meta).exists())
        {
            return Err(RunError(format!(
                "--checkpoint {}: {} already holds {}; continue the chain with --resume {}, or \
                 pass --force to replace it",
                to.display(),
                held.display(),
                crate::checkpoint::describe(&held),
                to.display()
            )));
        }
    }
    Ok(())
}

/// The chain's rows: every layer at `params_of(layer)`, then every edge at its lower layer's
/// bounds, a layer's violation of `expected_of(layer)` being documented, not a failure.
fn chain_with(
    params_of: impl Fn(&str) -> Params,
    edge_params_of: impl Fn(&str) -> Params,
    expected_of: impl Fn(&str) -> Option<ExpectedFailure>,
    options: &Options,
) -> Result<Vec<Report>, RunError> {
    claim_chain_dirs(options)?;
    let interrupted = || {
        options
            .interrupt
            .as_ref()
            .is_some_and(|n| n.load(std::sync::atomic::Ordering::Relaxed) > 0)
    };
    let mut reports = Vec::new();
    for layer in LAYERS.iter().rev().filter(|l| l.implemented) {
        if interrupted() {
            reports.push(not_run(
                format!("check {}", layer.name),
                params_of(layer.name),
            ));
            return Ok(reports);
        }
        let row = format!("check-{}", layer.name);
        let options = row_options(options, &row, has_symmetry(layer.name));
        let mut report = check_layer(layer.name, &params_of(layer.name), None, &[], &options)?;
        report.expected_failure = expected_of(layer.name);
        reports.push(report);
    }
    for edge in EDGES {
        if interrupted() {
            let target = format!("{} -> {}", edge.lower, edge.upper);
            reports.push(not_run(target, edge_params_of(edge.lower)));
            return Ok(reports);
        }
        let row = format!("refines-{}-{}", edge.lower, edge.upper);
        let options = row_options(options, &row, has_symmetry(edge.lower));
        reports.push(check_edge(
            edge.lower,
            edge.upper,
            &edge_params_of(edge.lower),
            None,
            &options,
        )?);
    }
    Ok(reports)
}

/// A layer's bounds in `refine chain --deep`, and the failure documented there.
#[derive(Clone, Copy, Debug)]
pub struct DeepBounds {
    /// The layer.
    pub layer: &'static str,
    /// Its bounds.
    pub bounds: &'static [(Bound, usize)],
    /// The bounds of the edges from it, when smaller (a mapping with history variables
    /// multiplies the states, and its encoding may hold less).
    pub edge_bounds: Option<&'static [(Bound, usize)]>,
    /// The invariant it is known to violate at these bounds, if any.
    pub expected_failure: Option<ExpectedFailure>,
}

/// The bounds of `refine chain --deep`: past the chain's defaults (four servers, or one more
/// term or config version), where bugs that the small bounds miss show up, and still minutes on
/// two cores with symmetry. Every edge is checked at its lower layer's bounds.
pub const DEEP: &[DeepBounds] = &[
    DeepBounds {
        layer: "log-abstract",
        bounds: &[(Bound::Values, 3), (Bound::MaxLogLen, 4)],
        edge_bounds: None,
        expected_failure: None,
    },
    DeepBounds {
        layer: "distlog",
        bounds: &[(Bound::Servers, 4), (Bound::Values, 2), (Bound::MaxLogLen, 3)],
        edge_bounds: None,
        expected_failure: None,
    },
    DeepBounds {
        layer: "weak-raft",
        bounds: &[(Bound::Servers, 3), (Bound::MaxTerm, 2), (Bound::MaxLogLen, 2)],
        edge_bounds: None,
        expected_failure: Some(ExpectedFailure {
            property: "StateMachineSafety",
            why: "MongoWeakRaft lets every step change a config with no quorum condition",
        }),
    },
    DeepBounds {
        layer: "safe-weak-raft",
        bounds: &[(Bound::Servers, 3), (Bound::MaxTerm, 2), (Bound::MaxLogLen, 2)],
        edge_bounds: None,
        expected_failure: Some(ExpectedFailure {
            property: "LeaderCompleteness",
            why: "as written, MongoSafeWeakRaft's MergeEntries and RollbackEntries have no role guard, so a stale primary's log can be rewritten (TLC agrees)",
        }),
    },
    DeepBounds {
        layer: "static-raft",
        bounds: &[(Bound::Servers, 4), (Bound::MaxTerm, 3), (Bound::MaxLogLen, 2)],
        edge_bounds: None,
        expected_failure: None,
    },
    DeepBounds {
        layer: "traft",
        bounds: &[(Bound::Servers, 4), (Bound::MaxTerm, 2), (Bound::MaxLogLen, 2)],
        edge_bounds: None,
        expected_failure: None,
    },
    DeepBounds {
        layer: "dynamic-raft",
        bounds: &[(Bound::Servers, 4), (Bound::MaxTerm, 3), (Bound::MaxLogLen, 2)],
        edge_bounds: None,
        expected_failure: Some(ExpectedFailure {
            property: "LogMatching",
            why: "as written, MongoDynamicRaft's MergeEntries has no role guard (from 4 servers; TLC agrees)",
        }),
    },
    DeepBounds {
        layer: "logless-raft",
        bounds: &[
            (Bound::Servers, 4),
            (Bound::MaxTerm, 4),
            (Bound::MaxConfigVersion, 4),
        ],
        // The edge to dynamic-raft holds logs of MaxTerm + MaxConfigVersion - 1 <= 5 entries,
        // and its history variables multiply the states.
        edge_bounds: Some(&[
            (Bound::Servers, 3),
            (Bound::MaxTerm, 3),
            (Bound::MaxConfigVersion, 3),
        ]),
        expected_failure: None,
    },
    DeepBounds {
        layer: "raft-reconfig",
        bounds: &[
            (Bound::Servers, 3),
            (Bound::MaxLogLen, 2),
            (Bound::MaxTerm, 3),
            (Bound::MaxConfigVersion, 3),
        ],
        edge_bounds: None,
        expected_failure: None,
    },
    DeepBounds {
        layer: "message-raft",
        // Reconfigs on, faults but loss off: the defaults' restart and duplicate traded for a
        // second config version (about 30 s per row with symmetry).
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
    },
];

/// `refine chain --deep`: every layer and edge at [`DEEP`]'s bounds.
pub fn chain_deep(options: &Options) -> Result<Vec<Report>, RunError> {
    let deep = |layer: &str| DEEP.iter().find(|d| d.layer == layer);
    let params = |bounds: &[(Bound, usize)]| {
        let mut params = Params::default();
        for &(bound, value) in bounds {
            params.set(bound, value);
        }
        params
    };
    chain_with(
        |layer| params(deep(layer).map_or(&[], |d| d.bounds)),
        |layer| params(deep(layer).map_or(&[], |d| d.edge_bounds.unwrap_or(d.bounds))),
        |layer| deep(layer)?.expected_failure,
        options,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every layer has deep bounds, and each is accepted by the layer (and its edges' bounds by
    /// the edges' lower layers), so `refine chain --deep` cannot fail on a typo.
    #[test]
    fn deep_bounds_are_valid_for_every_layer_and_edge() {
        for layer in LAYERS.iter().filter(|l| l.implemented) {
            let deep = DEEP
                .iter()
                .find(|d| d.layer == layer.name)
                .unwrap_or_else(|| panic!("{} has no deep bounds", layer.name));
            for bounds in [deep.bounds, deep.edge_bounds.unwrap_or(deep.bounds)] {
                let mut params = Params::default();
                for &(b, v) in bounds {
                    params.set(b, v);
                }
                let build = || -> Result<Params, RunError> {
                    with_layer!(layer.name, &params, None, |spec| Ok(spec.params()))
                };
                build().unwrap_or_else(|e| panic!("{}: {e}", layer.name));
            }
        }
    }

    /// A complete search that found nothing says why its pass is weak: no state past the
    /// initial ones, or the actions never enabled; one that stopped early or found a violation
    /// says nothing (its coverage is partial).
    #[test]
    fn vacuity_is_reported_only_for_complete_passes() {
        let stats = |depth, generated: [u64; 2], stopped: Option<&str>| Stats {
            generated: 1,
            distinct: 1,
            depth,
            queue_left: 0,
            seconds: 0.0,
            coverage: ["A", "B"]
                .iter()
                .zip(generated)
                .map(|(action, generated)| crate::engine::ActionCoverage {
                    action,
                    generated,
                    distinct: 0,
                })
                .collect(),
            collision_probability: 0.0,
            threads: 1,
            symmetry: false,
            stopped: stopped.map(String::from),
        };
        let report = |stats| Report {
            target: "check x".into(),
            params: Params::default(),
            stats,
            violation: None,
            expected_failure: None,
        };
        assert_eq!(report(stats(5, [3, 4], None)).vacuity(), None);
        assert_eq!(
            report(stats(5, [3, 0], None)).vacuity().as_deref(),
            Some("never enabled: B")
        );
        assert_eq!(
            report(stats(1, [0, 0], None)).vacuity().as_deref(),
            Some("no state beyond the initial states was reached")
        );
        assert_eq!(report(stats(5, [3, 0], Some("memory"))).vacuity(), None);
    }
}
