//! Replaying a trace: is a sequence of states, read from an ITF file, a behavior of a layer?
//!
//! A trace in the Informal Trace Format is a JSON object with the state variables' names
//! (`vars`), the states in order (`states`, each a record of those variables, with an optional
//! `#meta`), and an optional `#meta`. `refine check ... --trace-json` writes one for every
//! counterexample; Apalache and Quint write the same format, and a TLC trace written with the
//! spec's variable names can be put in it by hand (see the README). [`replay`] reads every state
//! back with [`Spec::read_state`] and checks, in order:
//!
//! 1. the first state is one of the layer's initial states;
//! 2. each state after it follows from the one before by a step of the layer: some action the
//!    layer's `next_states` pairs with exactly that state (all such actions are named), or a
//!    stutter (TLA+'s `[Next]_vars` allows a step that changes nothing);
//! 3. every invariant holds in every state, and every action property on every step.
//!
//! The first failure ends the replay and is explained at the level of variables. For a step
//! that is not a step of the layer, the explanation is the one a refinement check gives
//! ([`spec_core::Refinement::implements`]): when the trace names the action it took (the
//! `action` of the next state's `#meta`, as `--trace-json` writes it), either that action is
//! enabled and leads elsewhere (the variables where the two states differ), or it is not enabled
//! (the false conjuncts of its guard, [`Spec::disabled_because`]); when it names none, the
//! variables the step changes, and where the nearest successor differs from the trace's state.
//!
//! A trace can only be replayed at the bounds it was made with: a state whose per-server
//! functions name another number of servers is an input error, and so is a step from a state
//! outside the model's state constraint (the checker never explores past one), which asks for
//! larger bounds.

use crate::caught::catching;
use crate::registry::RunError;
use serde_json::Value;
use spec_core::itf::{self, variables};
use spec_core::Spec;
use std::fmt::Write as _;

/// How a replay ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayVerdict {
    /// Every state follows from the one before, the first is initial, and every invariant and
    /// action property holds.
    Behavior,
    /// The first state is not initial, or a step is not a step of the layer.
    NotABehavior {
        /// The 1-based number of the state that does not follow (1: not an initial state).
        state: usize,
        /// Why, at the level of variables.
        why: String,
    },
    /// An invariant is false in a state, or an action property on the step into it.
    Violation {
        /// The 1-based number of the state (for an action property, the step's last state).
        state: usize,
        /// `invariant NAME` or `action property NAME`.
        property: String,
    },
    /// The specification panicked while replaying the step into this state.
    Panic {
        /// The 1-based number of the state.
        state: usize,
        /// The panic's message and location.
        message: String,
    },
}

/// One state of a replayed trace and how it was reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayedState {
    /// The actions of the layer that lead to this state from the one before (all of them, in
    /// `next_states` order); empty for the first state and for a stutter.
    pub actions: Vec<String>,
    /// Whether the step into this state changes nothing.
    pub stutter: bool,
}

/// The result of a replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replay {
    /// The layer.
    pub layer: String,
    /// The states in the trace.
    pub states: usize,
    /// The states replayed, in order: up to the first failure, which is included when it is a
    /// broken invariant or action property (the step itself is one of the layer's).
    pub replayed: Vec<ReplayedState>,
    /// How it ended.
    pub verdict: ReplayVerdict,
    /// The invariants checked in every state.
    pub invariants: Vec<String>,
}

impl Replay {
    /// The replay in words: one line per state, then the verdict.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (k, state) in self.replayed.iter().enumerate() {
            let how = if k == 0 {
                "<Initial predicate>".to_string()
            } else if state.stutter {
                "<stutter>".to_string()
            } else {
                format!("<{}>", state.actions.join("> or <"))
            };
            let _ = writeln!(out, "State {}: {how}", k + 1);
        }
        match &self.verdict {
            ReplayVerdict::Behavior => {
                let _ = writeln!(
                    out,
                    "The trace ({} states) is a behavior of {}; its invariants hold in every state{}.",
                    self.states,
                    self.layer,
                    if self.invariants.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", self.invariants.join(", "))
                    }
                );
            }
            ReplayVerdict::NotABehavior { state: 1, why } => {
                let _ = writeln!(
                    out,
                    "Error: state 1 is not an initial state of {}: {why}",
                    self.layer
                );
            }
            ReplayVerdict::NotABehavior { state, why } => {
                let _ = writeln!(
                    out,
                    "Error: step {} (state {} to state {state}) is not a step of {}: {why}",
                    state - 1,
                    state - 1,
                    self.layer
                );
            }
            ReplayVerdict::Violation { state, property } if property.starts_with("action") => {
                let _ = writeln!(
                    out,
                    "Error: {property} is violated by step {} (state {} to state {state}).",
                    state - 1,
                    state - 1
                );
            }
            ReplayVerdict::Violation { state, property } => {
                let _ = writeln!(out, "Error: {property} is violated in state {state}.");
            }
            ReplayVerdict::Panic { state, message } => {
                let _ = writeln!(
                    out,
                    "Error: the specification {} panicked while replaying the step into state {state}: {message}",
                    self.layer
                );
            }
        }
        out
    }
}

impl Replay {
    /// The replay as JSON (what `refine replay --json` prints inside its envelope): `target`
    /// (the layer), `states` (in the trace), `replayed` (each state replayed: the `actions`
    /// leading to it and whether it is a `stutter`), `invariants` (those checked), and
    /// `failure`: null for a behavior, else an object with the `kind` (`not-a-behavior`,
    /// `invariant`, `action-property`, `panic`), the 1-based `state`, and `detail` (why, the
    /// property, or the panic's message).
    pub fn json(&self) -> Value {
        let failure = match &self.verdict {
            ReplayVerdict::Behavior => Value::Null,
            ReplayVerdict::NotABehavior { state, why } => {
                serde_json::json!({"kind": "not-a-behavior", "state": state, "detail": why})
            }
            ReplayVerdict::Violation { state, property } => {
                let (kind, name) = match property.strip_prefix("action property ") {
                    Some(name) => ("action-property", name),
                    None => (
                        "invariant",
                        property.strip_prefix("invariant ").unwrap_or(property),
                    ),
                };
                serde_json::json!({"kind": kind, "state": state, "detail": name})
            }
            ReplayVerdict::Panic { state, message } => {
                serde_json::json!({"kind": "panic", "state": state, "detail": message})
            }
        };
        serde_json::json!({
            "target": self.layer,
            "states": self.states,
            "replayed": self
                .replayed
                .iter()
                .map(|r| serde_json::json!({"actions": r.actions, "stutter": r.stutter}))
                .collect::<Vec<_>>(),
            "invariants": self.invariants,
            "failure": failure,
        })
    }
}

/// The states of an ITF trace, checked for shape: an object with a nonempty `states` array
/// and, if it has `vars`, exactly the layer's variables (refinement traces' upper images
/// `upper.x` and Quint's `mbt::` variables aside: [`itf::ignored_variable`]).
fn trace_states<'a, M: Spec>(
    spec: &M,
    trace: &'a Value,
    other_layers: &[&str],
) -> Result<&'a [Value], RunError> {
    let bad = |why: String| Err(RunError(format!("not an ITF trace: {why}")));
    let Value::Object(fields) = trace else {
        return bad("the file holds no JSON object".into());
    };
    let states = match fields.get("states") {
        Some(Value::Array(states)) if !states.is_empty() => states,
        Some(Value::Array(_)) => return bad("its `states` are empty".into()),
        Some(_) => return bad("its `states` is not an array".into()),
        None => return bad("it has no `states`".into()),
    };
    let source = fields
        .get("#meta")
        .and_then(|m| m.get("source"))
        .and_then(Value::as_str);
    if let Some(source) = source {
        if source != spec.name() && other_layers.contains(&source) {
            return Err(RunError(format!(
                "the trace was written by layer {source}, not {}",
                spec.name()
            )));
        }
    }
    if let Some(vars) = fields.get("vars") {
        let names: Option<Vec<&str>> = vars
            .as_array()
            .and_then(|v| v.iter().map(Value::as_str).collect());
        let Some(mut names) = names else {
            return bad("its `vars` is not an array of names".into());
        };
        names.retain(|n| !itf::ignored_variable(n));
        let mut own: Vec<String> = spec
            .init_states()
            .first()
            .map(|s| variables(&serde_json::to_value(s).unwrap_or(Value::Null)))
            .unwrap_or_default()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        let mut given: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        own.sort();
        given.sort();
        if own != given {
            return Err(RunError(format!(
                "the trace's variables are {}; layer {}'s are {}",
                given.join(", "),
                spec.name(),
                own.join(", ")
            )));
        }
    }
    Ok(states)
}

/// The action a state's `#meta` says led to it, if any (`Init` names none).
fn named_action(state: &Value) -> Option<&str> {
    state
        .get("#meta")
        .and_then(|m| m.get("action"))
        .and_then(Value::as_str)
        .filter(|a| *a != "Init")
}

/// The variables in which `a` and `b` differ, one line each, `a`'s value then `b`'s, each
/// after its label (such as "the trace's state 3 has").
fn differences_text<S: serde::Serialize>(a: &S, b: &S, a_has: &str, b_has: &str) -> String {
    let mut out = String::new();
    for (name, va, vb) in itf::differences(a, b) {
        let _ = write!(
            out,
            "\n    {a_has} {name} = {va}\n    {b_has} {name} = {vb}"
        );
    }
    out
}

/// Why no step of `spec` leads from state `k` (`pre`) to state `k + 1` (`post`).
fn explain_step<M: Spec>(
    spec: &M,
    k: usize,
    pre: &M::State,
    post: &M::State,
    named: Option<&str>,
) -> String {
    let (this, next) = (format!("state {k}"), format!("state {}", k + 1));
    let mut why = String::new();
    if let Some(text) = named {
        match text.parse::<M::Action>() {
            Ok(action) => match spec.step(pre, &action) {
                Some(reached) => {
                    return format!(
                        "the trace names {action}, which is enabled in {this} but leads to a \
                         different state; where they differ:{}",
                        differences_text(
                            post,
                            &reached,
                            &format!("the trace's {next} has"),
                            &format!("{action} leads to")
                        )
                    );
                }
                None => {
                    let false_conjuncts = spec.disabled_because(pre, &action);
                    if !false_conjuncts.is_empty() {
                        return format!(
                            "the trace names {action}, which is not enabled in {this}: false in \
                             its guard: {}",
                            false_conjuncts.join("; ")
                        );
                    }
                    let _ = write!(
                        why,
                        "the trace names {action}, which is not enabled in {this} ({} does not \
                         name its guard's conjuncts); ",
                        spec.name()
                    );
                }
            },
            Err(e) => {
                let _ = write!(
                    why,
                    "the trace names the action `{text}`, which is not an action of {}: {}; ",
                    spec.name(),
                    e.problem
                );
            }
        }
    }
    let _ = write!(
        why,
        "no action of {} leads from {this} to {next}, which changes:",
        spec.name()
    );
    for (name, before, after) in itf::differences(pre, post) {
        let _ = write!(why, "\n    {name} = {before}  ->  {after}");
    }
    let mut successors = Vec::new();
    spec.next_states(pre, &mut successors);
    let nearest = successors
        .iter()
        .min_by_key(|(_, s)| itf::differences(post, s).len());
    match nearest {
        Some((action, reached)) => {
            let _ = write!(
                why,
                "\n  the nearest step, {action}, leads to a state that differs from {next} in:{}",
                differences_text(
                    post,
                    reached,
                    &format!("the trace's {next} has"),
                    &format!("{action} leads to")
                )
            );
        }
        None => {
            let _ = write!(why, "\n  {this} has no successor");
        }
    }
    why
}

/// The initial state nearest to `first` and how they differ.
fn explain_init<M: Spec>(spec: &M, first: &M::State) -> String {
    let inits = spec.init_states();
    match inits
        .iter()
        .min_by_key(|s| itf::differences(first, *s).len())
    {
        Some(nearest) => format!(
            "the nearest initial state differs in:{}",
            differences_text(
                first,
                nearest,
                "the trace's state 1 has",
                "the initial state has"
            )
        ),
        None => format!("{} has no initial state", spec.name()),
    }
}

/// Replays an ITF trace against `spec` (see the module docs). `Err` for input the replay
/// cannot use (exit status 2): a file that is not an ITF trace, a state that does not read
/// back, other variables or bounds than the layer's.
pub fn replay<M: Spec>(spec: &M, trace: &Value) -> Result<Replay, RunError> {
    replay_among(spec, trace, &[])
}

/// [`replay`], refusing a trace whose `#meta.source` names one of `other_layers` (the names of
/// a [`crate::registry::Registry`]'s layers) instead of `spec`.
pub fn replay_among<M: Spec>(
    spec: &M,
    trace: &Value,
    other_layers: &[&str],
) -> Result<Replay, RunError> {
    let values = trace_states(spec, trace, other_layers)?;
    let mut states = Vec::with_capacity(values.len());
    for (k, value) in values.iter().enumerate() {
        let state = spec.read_state(value).map_err(|e| {
            RunError(format!(
                "state {} of the trace does not read as a state of {} at these bounds ({}): {e}",
                k + 1,
                spec.name(),
                spec.params().describe()
            ))
        })?;
        states.push(state);
    }
    let invariants = spec.invariants();
    let properties = spec.action_properties();
    let mut replay = Replay {
        layer: spec.name().to_string(),
        states: states.len(),
        replayed: Vec::new(),
        verdict: ReplayVerdict::Behavior,
        invariants: invariants.iter().map(|i| i.name.to_string()).collect(),
    };
    let broken_invariant = |state: &M::State| {
        invariants
            .iter()
            .find(|inv| !(inv.holds)(spec, state))
            .map(|inv| format!("invariant {}", inv.name))
    };
    if !spec.init_states().contains(&states[0]) {
        replay.verdict = ReplayVerdict::NotABehavior {
            state: 1,
            why: explain_init(spec, &states[0]),
        };
        return Ok(replay);
    }
    replay.replayed.push(ReplayedState {
        actions: Vec::new(),
        stutter: false,
    });
    match catching(|| broken_invariant(&states[0])) {
        Ok(Some(property)) => {
            replay.verdict = ReplayVerdict::Violation { state: 1, property };
            return Ok(replay);
        }
        Ok(None) => {}
        Err(caught) => {
            replay.verdict = ReplayVerdict::Panic {
                state: 1,
                message: caught.to_string(),
            };
            return Ok(replay);
        }
    }
    for k in 1..states.len() {
        let (pre, post) = (&states[k - 1], &states[k]);
        if !spec.within_constraint(pre) {
            return Err(RunError(format!(
                "state {k} of the trace is outside the state constraint of {} at these bounds \
                 ({}), so the model has no step from it; replay with the bounds the trace was \
                 made with",
                spec.name(),
                spec.params().describe()
            )));
        }
        let judged = catching(|| {
            let mut successors = Vec::new();
            spec.next_states(pre, &mut successors);
            let mut actions: Vec<M::Action> = Vec::new();
            for (action, next) in successors {
                if next == *post && !actions.contains(&action) {
                    actions.push(action);
                }
            }
            let stutter = actions.is_empty() && pre == post;
            if actions.is_empty() && !stutter {
                let why = explain_step(spec, k, pre, post, named_action(&values[k]));
                return Err(ReplayVerdict::NotABehavior { state: k + 1, why });
            }
            let step = ReplayedState {
                actions: actions.iter().map(ToString::to_string).collect(),
                stutter,
            };
            let by_action = actions.first().and_then(|action| {
                properties
                    .iter()
                    .find(|p| !(p.holds)(spec, pre, action, post))
                    .map(|p| format!("action property {}", p.name))
            });
            let broken = by_action
                .or_else(|| broken_invariant(post))
                .map(|property| ReplayVerdict::Violation {
                    state: k + 1,
                    property,
                });
            Ok((step, broken))
        });
        match judged {
            Ok(Ok((step, None))) => replay.replayed.push(step),
            Ok(Ok((step, Some(verdict)))) => {
                replay.replayed.push(step);
                replay.verdict = verdict;
                return Ok(replay);
            }
            Ok(Err(verdict)) => {
                replay.verdict = verdict;
                return Ok(replay);
            }
            Err(caught) => {
                replay.verdict = ReplayVerdict::Panic {
                    state: k + 1,
                    message: caught.to_string(),
                };
                return Ok(replay);
            }
        }
    }
    Ok(replay)
}
