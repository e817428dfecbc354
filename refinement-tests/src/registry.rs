//! Layers and refinement edges by name: what the `refine` command is built on, and what a
//! command of your own can be built on.
//!
//! A [`Registry`] holds layers (each one [`LayerDef`]: a type that implements
//! [`spec_core::Layer`], its mutations, what it is known to violate, its deeper bounds) and
//! refinement edges (each one [`EdgeDef`]: how to build the mapping from the lower layer). Once
//! registered, a layer can be checked, walked, replayed and put in the chain by name, with
//! bounds and a mutation given as text, which is what a command line needs:
//!
//! ```
//! # use spec_core::action_text::{self, ParseActionError};
//! # use spec_core::{Action, Bound, Invariant, Layer, Parameter, Params, ParamsError, Spec};
//! # /// Counts up to `max`.
//! # struct Counter { max: usize }
//! # #[derive(Clone, Copy, Debug, PartialEq, Eq)]
//! # struct Tick;
//! # impl std::fmt::Display for Tick {
//! #     fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { f.write_str("Tick()") }
//! # }
//! # impl std::str::FromStr for Tick {
//! #     type Err = ParseActionError;
//! #     fn from_str(text: &str) -> Result<Self, ParseActionError> {
//! #         action_text::parse(text, |name, args| match (name, args) {
//! #             ("Tick", []) => Ok(Tick),
//! #             _ => Err(action_text::unknown(name, args, &["Tick()"])),
//! #         })
//! #     }
//! # }
//! # impl Action for Tick { fn name(&self) -> &'static str { "Tick" } }
//! # impl Spec for Counter {
//! #     type State = u8;
//! #     type Action = Tick;
//! #     fn name(&self) -> &'static str { "counter" }
//! #     fn params(&self) -> Params { Params { max_term: Some(self.max), ..Params::default() } }
//! #     fn action_names(&self) -> &'static [&'static str] { &["Tick"] }
//! #     fn init_states(&self) -> Vec<u8> { vec![0] }
//! #     fn next_states(&self, s: &u8, out: &mut Vec<(Tick, u8)>) {
//! #         if (*s as usize) < self.max { out.push((Tick, s + 1)); }
//! #     }
//! #     fn invariants(&self) -> Vec<Invariant<Self>> {
//! #         vec![Invariant { name: "Bounded", holds: |m, s| (*s as usize) <= m.max }]
//! #     }
//! # }
//! # impl Layer for Counter {
//! #     const NAME: &'static str = "counter";
//! #     const PARAMETERS: &'static [Parameter] =
//! #         &[Parameter::new(Bound::MaxTerm, 3, (0, 200), "a byte")];
//! #     fn from_params(p: &Params) -> Result<Self, ParamsError> {
//! #         let [max] = p.resolve::<1>(Self::NAME, Self::PARAMETERS)?;
//! #         Ok(Counter { max })
//! #     }
//! # }
//! use refinement_tests::registry::{LayerDef, Registry};
//! use refinement_tests::Options;
//! // `Counter` is a layer (`spec_core::Layer`) named "counter", counting up to --max-term.
//! let mut registry = Registry::new();
//! registry.layer(LayerDef::<Counter>::new());
//! let options = Options { threads: 1, progress: None, ..Options::default() };
//! let params = Params { max_term: Some(5), ..Params::default() };
//! let report = registry.check("counter", &params, None, &[], &options).unwrap();
//! assert!(report.violation.is_none());
//! assert_eq!(report.stats.distinct, 6);
//! let bad = Params { servers: Some(3), ..Params::default() };
//! let error = registry.check("counter", &bad, None, &[], &options).unwrap_err();
//! assert_eq!(error.to_string(), "layer counter has no bound --servers; its bounds are: --max-term");
//! ```
//!
//! An edge is one [`EdgeDef`]: its two layers, what the mapping is, and how to build it from
//! the lower layer (`EdgeDef::new("distlog", "log-abstract", "...", |run|
//! run.check(&ChosenMapping::new(run.lower()?)))`); a layer's mutations are one
//! [`LayerDef::mutations`] call with the layer crate's own constants. The `refine` crate's
//! `layers.rs` registers the workspace's layers and edges this way, and
//! `examples/user_layer.rs` a layer of a user's own with its mapping to `log-abstract`.

use crate::checkpoint;
use crate::checks::{Invariants, RefinementCheck};
use crate::engine::{
    explore, simulate, Counterexample, FailureKind, Observer, Options, SearchError, SearchIdentity,
    Stats, WalkOptions, WalkStats,
};
use crate::replay::Replay;
use crate::report::{trace_itf, trace_text};
use spec_core::{Bound, Layer, MutationSet, Parameter, Params, ParamsError, Refinement, Spec};
use std::any::Any;
use std::sync::Arc;

/// Why a run could not start: bad usage or input, reported by `refine` with exit status 2.
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

/// A violation that is part of what a layer teaches, not a bug of the port.
#[derive(Clone, Copy, Debug)]
pub struct ExpectedFailure {
    /// The property expected to fail.
    pub property: &'static str,
    /// Why it fails.
    pub why: &'static str,
}

/// A deliberate bug that `--mutation NAME` plants in a layer or a mapping, for learners and for
/// tests that the checker catches it.
#[derive(Clone, Debug)]
pub struct MutationInfo {
    /// The layer it mutates, or the edge `lower -> upper` whose mapping it breaks.
    pub target: String,
    /// Its name on the command line.
    pub name: &'static str,
    /// What it breaks.
    pub what: &'static str,
}

/// A layer's bounds in `refine chain --deep`, and the failure documented there.
#[derive(Clone, Copy, Debug)]
pub struct DeepBounds {
    /// The layer's bounds.
    pub bounds: &'static [(Bound, usize)],
    /// The bounds of the edges from it, when smaller (a mapping with history variables
    /// multiplies the states, and its encoding may hold less).
    pub edge_bounds: Option<&'static [(Bound, usize)]>,
    /// The invariant it is known to violate at these bounds, if any.
    pub expected_failure: Option<ExpectedFailure>,
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

fn violation_report<M: Spec, O: Observer<M>>(
    spec: &M,
    observer: &O,
    cex: &Counterexample<M>,
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
/// be one the layer declares), and renders the result.
pub fn check_spec<M: Spec>(
    spec: &M,
    only: &[String],
    options: &Options,
) -> Result<Report, RunError> {
    let all = Invariants::of(spec);
    let observer = if only.is_empty() {
        all
    } else {
        let declared = all.names();
        if let Some(unknown) = only.iter().find(|n| !declared.contains(&n.as_str())) {
            return Err(RunError(format!(
                "layer {} has no invariant or action property {unknown}; it has: {}",
                spec.name(),
                declared.join(", ")
            )));
        }
        let names: Vec<&str> = only.iter().map(String::as_str).collect();
        Invariants::only(spec, &names)
    };
    let mut options = options.clone();
    options.identity.properties = observer.names().iter().map(|n| n.to_string()).collect();
    let outcome = explore(spec, &observer, &options)?;
    Ok(Report {
        target: format!("check {}", spec.name()),
        params: spec.params(),
        violation: outcome
            .violation
            .as_ref()
            .map(|c| violation_report(spec, &observer, c)),
        stats: outcome.stats,
        expected_failure: None,
    })
}

/// Checks a refinement on every reachable transition of its lower level, and renders the result.
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

/// Runs seeded random walks through `spec`, checking its invariants, and renders the result.
pub fn simulate_spec<M: Spec>(spec: &M, walks: &WalkOptions) -> WalkReport {
    let observer = Invariants::of(spec);
    let outcome = simulate(spec, &observer, walks);
    WalkReport {
        target: format!("simulate {}", spec.name()),
        params: spec.params(),
        violation: outcome
            .violation
            .as_ref()
            .map(|c| violation_report(spec, &observer, c)),
        stats: outcome.stats,
    }
}

/// How a mutation is planted in a layer `L`: by name, leaving `L` as it is for a name that is
/// not one of its own (an edge's mutation).
type Mutate<L> = Arc<dyn Fn(L, &str) -> L + Send + Sync>;

/// One layer to register: a type that implements [`Layer`] (its name, bounds and builder), and
/// what the registry cannot learn from the type: its mutations, the failure it is documented to
/// have, its bounds in `refine chain --deep`.
#[must_use = "a LayerDef does nothing until it is given to Registry::layer"]
pub struct LayerDef<L> {
    spec: &'static str,
    mutations: Vec<(&'static str, &'static str)>,
    mutate: Option<Mutate<L>>,
    expected_failure: Option<ExpectedFailure>,
    deep: Option<DeepBounds>,
}

impl<L: Layer + 'static> Default for LayerDef<L> {
    fn default() -> Self {
        Self::new()
    }
}

impl<L: Layer + 'static> LayerDef<L> {
    /// The layer `L`, described by [`Layer::DESCRIPTION`], without mutations.
    pub fn new() -> Self {
        LayerDef {
            spec: L::DESCRIPTION,
            mutations: Vec::new(),
            mutate: None,
            expected_failure: None,
            deep: None,
        }
    }

    /// The layer's mutations, from its own declaration (a [`MutationSet`], as
    /// `spec_core::mutations!` writes one: every mutation, its name and what it breaks), and how
    /// to plant one (the layer's `with_mutation`).
    pub fn mutations<M: MutationSet>(mut self, with_mutation: fn(L, M) -> L) -> Self {
        self.mutations = M::all().iter().map(|&m| (m.name(), m.what())).collect();
        self.mutate = Some(Arc::new(move |spec, wanted| {
            match M::all().iter().find(|&&m| m.name() == wanted) {
                Some(&m) => with_mutation(spec, m),
                None => spec,
            }
        }));
        self
    }

    /// The invariant the layer is known to violate at its default bounds, and why: `refine
    /// chain` reports it as an expected failure instead of failing.
    pub fn expected_failure(mut self, property: &'static str, why: &'static str) -> Self {
        self.expected_failure = Some(ExpectedFailure { property, why });
        self
    }

    /// The layer's bounds in `refine chain --deep`.
    pub fn deep(mut self, deep: DeepBounds) -> Self {
        self.deep = Some(deep);
        self
    }

    fn build(&self, params: &Params, mutation: Option<&str>) -> Result<L, RunError> {
        let spec = L::from_params(params)?;
        Ok(match (mutation, &self.mutate) {
            (Some(name), Some(mutate)) => mutate(spec, name),
            _ => spec,
        })
    }
}

/// What the registry does with a layer whose type it no longer knows.
trait Erased: Send + Sync {
    fn check(
        &self,
        params: &Params,
        mutation: Option<&str>,
        only: &[String],
        options: &Options,
    ) -> Result<Report, RunError>;
    fn simulate(
        &self,
        params: &Params,
        mutation: Option<&str>,
        walks: &WalkOptions,
    ) -> Result<WalkReport, RunError>;
    fn replay(
        &self,
        params: &Params,
        mutation: Option<&str>,
        trace: &serde_json::Value,
        other_layers: &[&str],
    ) -> Result<Replay, RunError>;
    fn has_symmetry(&self) -> bool;
    fn params(&self, params: &Params) -> Result<Params, RunError>;
}

impl<L: Layer + 'static> Erased for LayerDef<L> {
    fn check(
        &self,
        params: &Params,
        mutation: Option<&str>,
        only: &[String],
        options: &Options,
    ) -> Result<Report, RunError> {
        check_spec(&self.build(params, mutation)?, only, options)
    }

    fn simulate(
        &self,
        params: &Params,
        mutation: Option<&str>,
        walks: &WalkOptions,
    ) -> Result<WalkReport, RunError> {
        Ok(simulate_spec(&self.build(params, mutation)?, walks))
    }

    fn replay(
        &self,
        params: &Params,
        mutation: Option<&str>,
        trace: &serde_json::Value,
        other_layers: &[&str],
    ) -> Result<Replay, RunError> {
        crate::replay::replay_among(&self.build(params, mutation)?, trace, other_layers)
    }

    fn has_symmetry(&self) -> bool {
        L::from_params(&Params::default()).is_ok_and(|spec| spec.has_symmetry())
    }

    fn params(&self, params: &Params) -> Result<Params, RunError> {
        Ok(self.build(params, None)?.params())
    }
}

/// A registered layer.
pub struct LayerEntry {
    name: &'static str,
    spec: &'static str,
    parameters: &'static [Parameter],
    mutations: Vec<(&'static str, &'static str)>,
    expected_failure: Option<ExpectedFailure>,
    deep: Option<DeepBounds>,
    erased: Arc<dyn Erased>,
    typed: Arc<dyn Any + Send + Sync>,
}

impl LayerEntry {
    /// Its name on the command line ([`Layer::NAME`]).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The specification it ports ([`Layer::DESCRIPTION`]).
    pub fn spec(&self) -> &'static str {
        self.spec
    }

    /// Its bounds, in the order it declares them.
    pub fn bounds(&self) -> impl Iterator<Item = Bound> + '_ {
        self.parameters.iter().map(|p| p.bound)
    }

    /// Its bounds as it declares them ([`Layer::PARAMETERS`]: flag, default, range, help).
    pub fn parameters(&self) -> &'static [Parameter] {
        self.parameters
    }

    /// The failure it is documented to have at its default bounds.
    pub fn expected_failure(&self) -> Option<ExpectedFailure> {
        self.expected_failure
    }

    /// Its bounds in `refine chain --deep`.
    pub fn deep(&self) -> Option<DeepBounds> {
        self.deep
    }

    /// Whether it supports symmetry reduction.
    pub fn has_symmetry(&self) -> bool {
        self.erased.has_symmetry()
    }
}

/// What an edge's check is given: the bounds and mutation it runs with, and the registry's
/// builder of the lower layer.
pub struct EdgeRun<'a> {
    registry: &'a Registry,
    params: &'a Params,
    mutation: Option<&'a str>,
    options: &'a Options,
}

impl EdgeRun<'_> {
    /// The lower layer at the run's bounds, with the run's mutation if it is one of the layer's
    /// (a layer that is not registered is built without mutations).
    pub fn lower<L: Layer + 'static>(&self) -> Result<L, RunError> {
        let def = self
            .registry
            .find(L::NAME)
            .and_then(|entry| entry.typed.downcast_ref::<LayerDef<L>>());
        match def {
            Some(def) => def.build(self.params, self.mutation),
            None => Ok(L::from_params(self.params)?),
        }
    }

    /// The mutation asked for, if any (one of the lower layer's or one of the edge's).
    pub fn mutation(&self) -> Option<&str> {
        self.mutation
    }

    /// Checks `refinement` on every reachable transition of its lower layer.
    pub fn check<R: Refinement>(&self, refinement: &R) -> Result<Report, RunError> {
        check_refinement(refinement, self.options)
    }
}

/// How an edge is checked.
type EdgeCheck = Arc<dyn Fn(&EdgeRun) -> Result<Report, RunError> + Send + Sync>;

/// One refinement edge to register: its two layers, what the mapping is, and how to check it
/// (build the mapping from [`EdgeRun::lower`] and give it to [`EdgeRun::check`]).
#[must_use = "an EdgeDef does nothing until it is given to Registry::edge"]
pub struct EdgeDef {
    lower: &'static str,
    upper: &'static str,
    mapping: &'static str,
    mutations: Vec<(&'static str, &'static str)>,
    in_chain: bool,
    check: EdgeCheck,
}

impl EdgeDef {
    /// The edge `lower -> upper`, checked by `check`.
    pub fn new(
        lower: &'static str,
        upper: &'static str,
        mapping: &'static str,
        check: impl Fn(&EdgeRun) -> Result<Report, RunError> + Send + Sync + 'static,
    ) -> Self {
        EdgeDef {
            lower,
            upper,
            mapping,
            mutations: Vec::new(),
            in_chain: true,
            check: Arc::new(check),
        }
    }

    /// A deliberate flaw of the mapping, planted when `--mutation NAME` is given (the check
    /// reads [`EdgeRun::mutation`]).
    pub fn mutation(mut self, name: &'static str, what: &'static str) -> Self {
        self.mutations.push((name, what));
        self
    }

    /// An edge that can be checked by name but is not a row of the chain, nor listed: one the
    /// checker refutes, kept to show why.
    pub fn refuted(mut self) -> Self {
        self.in_chain = false;
        self
    }

    /// An edge that can be checked by name but is not a row of the chain, nor listed: one that
    /// holds at the bounds its layers' documentation gives, but whose check at the lower
    /// layer's default bounds takes far longer than a chain row may.
    pub fn beside_the_chain(mut self) -> Self {
        self.in_chain = false;
        self
    }

    /// The implementing layer.
    pub fn lower(&self) -> &'static str {
        self.lower
    }

    /// The implemented layer.
    pub fn upper(&self) -> &'static str {
        self.upper
    }

    /// What the mapping is.
    pub fn mapping(&self) -> &'static str {
        self.mapping
    }

    /// Whether it is a row of the chain (and listed).
    pub fn in_chain(&self) -> bool {
        self.in_chain
    }
}

/// Layers and refinement edges, by name.
#[derive(Default)]
pub struct Registry {
    layers: Vec<LayerEntry>,
    edges: Vec<EdgeDef>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a layer (layers are listed in the order registered: the most abstract first).
    ///
    /// # Panics
    ///
    /// If a layer of the same name is registered already, or if the layer declares a bound
    /// twice in its [`Layer::PARAMETERS`]: programming errors.
    pub fn layer<L: Layer + 'static>(&mut self, def: LayerDef<L>) -> &mut Self {
        assert!(
            self.find(L::NAME).is_none(),
            "layer {} is registered twice",
            L::NAME
        );
        for (k, p) in L::PARAMETERS.iter().enumerate() {
            assert!(
                !L::PARAMETERS[..k].iter().any(|q| q.bound == p.bound),
                "layer {}: its PARAMETERS declare {} twice",
                L::NAME,
                p.bound
            );
        }
        let def = Arc::new(def);
        self.layers.push(LayerEntry {
            name: L::NAME,
            spec: def.spec,
            parameters: L::PARAMETERS,
            mutations: def.mutations.clone(),
            expected_failure: def.expected_failure,
            deep: def.deep,
            erased: def.clone(),
            typed: def,
        });
        self
    }

    /// Registers a refinement edge (chain edges are checked in the order registered: the most
    /// concrete first).
    ///
    /// # Panics
    ///
    /// If the same edge is registered already: a programming error.
    pub fn edge(&mut self, def: EdgeDef) -> &mut Self {
        assert!(
            self.find_edge(def.lower, def.upper).is_none(),
            "edge {} -> {} is registered twice",
            def.lower,
            def.upper
        );
        self.edges.push(def);
        self
    }

    /// Every layer, in the order registered.
    pub fn layers(&self) -> &[LayerEntry] {
        &self.layers
    }

    /// Every edge of the chain, in the order registered (refuted edges are left out).
    pub fn edges(&self) -> impl Iterator<Item = &EdgeDef> {
        self.edges.iter().filter(|e| e.in_chain)
    }

    /// The layer named `name`, if registered.
    pub fn find(&self, name: &str) -> Option<&LayerEntry> {
        self.layers.iter().find(|l| l.name == name)
    }

    fn find_edge(&self, lower: &str, upper: &str) -> Option<&EdgeDef> {
        self.edges
            .iter()
            .find(|e| e.lower == lower && e.upper == upper)
    }

    /// The bound whose flag is `flag` (such as `--servers`): one of [`Bound::ALL`], or a
    /// [`Bound::Named`] one that a registered layer takes.
    pub fn bound(&self, flag: &str) -> Option<Bound> {
        Bound::ALL
            .into_iter()
            .chain(self.named_bounds())
            .find(|b| b.flag() == flag)
    }

    /// The [`Bound::Named`] bounds the registered layers take, each once, with the declaration
    /// of the first layer that declares it (for a command line's flags and their help).
    pub fn named_bounds(&self) -> Vec<Bound> {
        let mut named: Vec<Bound> = Vec::new();
        for layer in &self.layers {
            for bound in layer.bounds() {
                if matches!(bound, Bound::Named(_)) && !named.contains(&bound) {
                    named.push(bound);
                }
            }
        }
        named
    }

    /// The declaration of `bound` by the first registered layer that declares it.
    pub fn parameter(&self, bound: Bound) -> Option<Parameter> {
        self.layers
            .iter()
            .flat_map(|l| l.parameters)
            .find(|p| p.bound == bound)
            .copied()
    }

    /// The names of the layers.
    pub fn names(&self) -> Vec<&'static str> {
        self.layers.iter().map(|l| l.name).collect()
    }

    fn layer_named(&self, name: &str) -> Result<&LayerEntry, RunError> {
        self.find(name).ok_or_else(|| {
            RunError(format!(
                "unknown layer {name}; the layers are: {}",
                self.names().join(", ")
            ))
        })
    }

    /// Every mutation of every layer and edge: the layers', then the edges'.
    pub fn mutations(&self) -> Vec<MutationInfo> {
        let layers = self.layers.iter().flat_map(|l| {
            l.mutations.iter().map(|&(name, what)| MutationInfo {
                target: l.name.to_string(),
                name,
                what,
            })
        });
        let edges = self.edges.iter().flat_map(|e| {
            e.mutations.iter().map(move |&(name, what)| MutationInfo {
                target: format!("{} -> {}", e.lower, e.upper),
                name,
                what,
            })
        });
        layers.chain(edges).collect()
    }

    /// Checks that `mutation`, if given, is one of those of `targets` (layers or edges).
    fn check_mutation(&self, targets: &[&str], mutation: Option<&str>) -> Result<(), RunError> {
        let Some(name) = mutation else { return Ok(()) };
        let all = self.mutations();
        let known: Vec<&str> = all
            .iter()
            .filter(|m| targets.contains(&m.target.as_str()))
            .map(|m| m.name)
            .collect();
        if known.contains(&name) {
            return Ok(());
        }
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

    /// Checks layer `name`'s invariants and action properties (all of them, or those named in
    /// `only`), with an optional mutation.
    pub fn check(
        &self,
        name: &str,
        params: &Params,
        mutation: Option<&str>,
        only: &[String],
        options: &Options,
    ) -> Result<Report, RunError> {
        let layer = self.layer_named(name)?;
        self.check_mutation(&[name], mutation)?;
        let options = Options {
            identity: SearchIdentity {
                command: format!("check {name}"),
                mutation: mutation.map(String::from),
                properties: Vec::new(),
            },
            ..options.clone()
        };
        layer.erased.check(params, mutation, only, &options)
    }

    /// Runs seeded random walks through layer `name`, checking its invariants.
    pub fn simulate(
        &self,
        name: &str,
        params: &Params,
        mutation: Option<&str>,
        walks: &WalkOptions,
    ) -> Result<WalkReport, RunError> {
        let layer = self.layer_named(name)?;
        self.check_mutation(&[name], mutation)?;
        layer.erased.simulate(params, mutation, walks)
    }

    /// Replays the ITF trace `trace` against layer `name` at `params`, with an optional mutation
    /// (see [`crate::replay`]). `Err` for input it cannot use: an unknown layer or mutation,
    /// bounds the layer refuses, a file that is not an ITF trace of this layer at these bounds.
    pub fn replay(
        &self,
        name: &str,
        params: &Params,
        mutation: Option<&str>,
        trace: &serde_json::Value,
    ) -> Result<Replay, RunError> {
        let layer = self.layer_named(name)?;
        self.check_mutation(&[name], mutation)?;
        layer.erased.replay(params, mutation, trace, &self.names())
    }

    /// [`Registry::replay`] on the trace in the file at `path`.
    pub fn replay_file(
        &self,
        name: &str,
        params: &Params,
        mutation: Option<&str>,
        path: &std::path::Path,
    ) -> Result<Replay, RunError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| RunError(format!("cannot read {}: {e}", path.display())))?;
        let trace: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| RunError(format!("{} is not JSON: {e}", path.display())))?;
        self.replay(name, params, mutation, &trace)
    }

    /// The bounds layer `name` resolves `params` to (its defaults filled in), or why it refuses
    /// them.
    pub fn params(&self, name: &str, params: &Params) -> Result<Params, RunError> {
        self.layer_named(name)?.erased.params(params)
    }

    /// Whether layer `name` supports symmetry reduction.
    pub fn has_symmetry(&self, name: &str) -> bool {
        self.find(name).is_some_and(LayerEntry::has_symmetry)
    }

    /// The bounds of `params` that layer `name` takes (for the chain, which shares one set of
    /// flags among layers with different bounds).
    pub fn params_for(&self, name: &str, params: &Params) -> Params {
        let mut own = Params::default();
        if let Some(layer) = self.find(name) {
            for bound in layer.bounds() {
                if let Some(v) = params.get(bound) {
                    own.set(bound, v);
                }
            }
        }
        own
    }

    /// Checks the edge `lower -> upper` at the lower level's bounds, with an optional mutation
    /// of the lower layer or of the mapping.
    pub fn refines(
        &self,
        lower: &str,
        upper: &str,
        params: &Params,
        mutation: Option<&str>,
        options: &Options,
    ) -> Result<Report, RunError> {
        self.layer_named(lower)?;
        self.layer_named(upper)?;
        let Some(edge) = self.find_edge(lower, upper) else {
            let edges: Vec<String> = self
                .edges()
                .map(|e| format!("{} {}", e.lower, e.upper))
                .collect();
            return Err(RunError(format!(
                "there is no refinement edge {lower} -> {upper}; the edges are: {}",
                edges.join(", ")
            )));
        };
        let name = format!("{lower} -> {upper}");
        self.check_mutation(&[lower, &name], mutation)?;
        let options = Options {
            identity: SearchIdentity {
                command: format!("refines {lower} {upper}"),
                mutation: mutation.map(String::from),
                properties: Vec::new(),
            },
            ..options.clone()
        };
        (edge.check)(&EdgeRun {
            registry: self,
            params,
            mutation,
            options: &options,
        })
    }

    /// Runs the whole chain: every layer's own checks, then every edge, from the most concrete
    /// level up. Symmetry is used where a layer supports it and `options.symmetry` is set.
    pub fn chain(&self, params: &Params, options: &Options) -> Result<Vec<Report>, RunError> {
        // A bound no layer takes is a usage error, even in the chain.
        for (bound, _) in params.given() {
            if !self.layers.iter().any(|l| l.bounds().any(|b| b == bound)) {
                return Err(RunError(format!(
                    "no implemented layer takes {bound}; the implemented layers are: {}",
                    self.names().join(", ")
                )));
            }
        }
        self.chain_with(
            |layer| self.params_for(layer, params),
            |layer| self.params_for(layer, params),
            |layer| self.find(layer)?.expected_failure,
            options,
        )
    }

    /// `refine chain --deep`: every layer and edge at its [`DeepBounds`] (a layer without them
    /// at its defaults).
    pub fn chain_deep(&self, options: &Options) -> Result<Vec<Report>, RunError> {
        let deep = |layer: &str| self.find(layer).and_then(|l| l.deep);
        let params = |bounds: &[(Bound, usize)]| {
            let mut params = Params::default();
            for &(bound, value) in bounds {
                params.set(bound, value);
            }
            params
        };
        self.chain_with(
            |layer| params(deep(layer).map_or(&[], |d| d.bounds)),
            |layer| params(deep(layer).map_or(&[], |d| d.edge_bounds.unwrap_or(d.bounds))),
            |layer| deep(layer)?.expected_failure,
            options,
        )
    }

    /// The names of the chain's rows, as their checkpoint subdirectories are named.
    fn rows(&self) -> Vec<String> {
        self.layers
            .iter()
            .map(|l| format!("check-{}", l.name))
            .chain(
                self.edges()
                    .map(|e| format!("refines-{}-{}", e.lower, e.upper)),
            )
            .collect()
    }

    /// The chain's rows: every layer at `params_of(layer)`, then every edge at its lower layer's
    /// bounds, a layer's violation of `expected_of(layer)` being documented, not a failure.
    fn chain_with(
        &self,
        params_of: impl Fn(&str) -> Params,
        edge_params_of: impl Fn(&str) -> Params,
        expected_of: impl Fn(&str) -> Option<ExpectedFailure>,
        options: &Options,
    ) -> Result<Vec<Report>, RunError> {
        claim_chain_dirs(options, &self.rows())?;
        let interrupted = || {
            options
                .interrupt
                .as_ref()
                .is_some_and(|n| n.load(std::sync::atomic::Ordering::Relaxed) > 0)
        };
        let mut reports = Vec::new();
        for layer in self.layers.iter().rev() {
            if interrupted() {
                reports.push(not_run(
                    format!("check {}", layer.name),
                    params_of(layer.name),
                ));
                return Ok(reports);
            }
            let row = format!("check-{}", layer.name);
            let options = row_options(options, &row, layer.has_symmetry());
            let mut report = self.check(layer.name, &params_of(layer.name), None, &[], &options)?;
            report.expected_failure = expected_of(layer.name);
            reports.push(report);
        }
        for edge in self.edges() {
            if interrupted() {
                let target = format!("{} -> {}", edge.lower, edge.upper);
                reports.push(not_run(target, edge_params_of(edge.lower)));
                return Ok(reports);
            }
            let row = format!("refines-{}-{}", edge.lower, edge.upper);
            let options = row_options(options, &row, self.has_symmetry(edge.lower));
            reports.push(self.refines(
                edge.lower,
                edge.upper,
                &edge_params_of(edge.lower),
                None,
                &options,
            )?);
        }
        Ok(reports)
    }
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
        let resumable = options.resume.is_some() && dir.join(checkpoint::META).exists();
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
fn claim_chain_dirs(options: &Options, rows: &[String]) -> Result<(), RunError> {
    let meta = checkpoint::META;
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
                checkpoint::describe(from)
            )));
        }
        if !rows.iter().any(|row| from.join(row).join(meta).exists()) {
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
            let _in_use = checkpoint::lock(to).map_err(RunError)?;
            checkpoint::discard(to).map_err(|e| {
                RunError(format!(
                    "--force: cannot remove the checkpoint in {}: {e}",
                    to.display()
                ))
            })?;
        }
    } else if let Some(to) = &options.checkpoint {
        if let Some(held) = std::iter::once(to.clone())
            .chain(rows.iter().map(|row| to.join(row)))
            .find(|dir| dir.join(meta).exists())
        {
            return Err(RunError(format!(
                "--checkpoint {}: {} already holds {}; continue the chain with --resume {}, or \
                 pass --force to replace it",
                to.display(),
                held.display(),
                checkpoint::describe(&held),
                to.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
