//! The two things the engine checks: a specification's own properties, and a refinement
//! mapping to the level above.
//!
//! # Checking a refinement mapping
//!
//! A lower specification `L` refines an upper specification `U` under a mapping `f` from
//! `L`'s states to `U`'s states when every behaviour of `L`, mapped state by state through `f`,
//! is a behaviour of `U` (allowing stuttering). For safety that comes down to two checks, made
//! on every reachable state and transition of `L`:
//!
//! 1. for every initial state `s` of `L`, `f(s)` is an initial state of `U`;
//! 2. for every transition `s --a--> s'` of `L`, either `f(s') = f(s)` (a stutter: the upper
//!    level sees nothing happen), or `U` has a transition `f(s) --b--> f(s')`.
//!
//! The mapping may name `b` ([`StepMapping::Step`]), and then exactly that action must be
//! enabled in `f(s)` and lead to `f(s')`; or name a stutter; or leave it to the checker, which
//! then searches all of `U`'s successors of `f(s)` for a witness. Naming the step gives sharper
//! counterexamples ("the upper action `Choose` is not enabled") and documents the design.
//!
//! Upper-level invariants need no separate check: a refinement that holds carries them down.

use crate::engine::{Failure, FailureKind, Observer};
use spec_core::{ActionProperty, Invariant, Refinement, Spec, StepMapping};

/// Checks a specification's own invariants (on every distinct state) and action properties (on
/// every transition).
pub struct Invariants<M: Spec> {
    invariants: Vec<Invariant<M>>,
    properties: Vec<ActionProperty<M>>,
}

impl<M: Spec> Invariants<M> {
    /// The invariants and action properties `spec` declares.
    pub fn of(spec: &M) -> Self {
        Invariants {
            invariants: spec.invariants(),
            properties: spec.action_properties(),
        }
    }

    /// Only the invariants and action properties whose names are listed (for focused checks).
    pub fn only(spec: &M, names: &[&str]) -> Self {
        let mut all = Self::of(spec);
        all.invariants.retain(|i| names.contains(&i.name));
        all.properties.retain(|p| names.contains(&p.name));
        all
    }

    /// The names of the properties checked.
    pub fn names(&self) -> Vec<&'static str> {
        self.invariants
            .iter()
            .map(|i| i.name)
            .chain(self.properties.iter().map(|p| p.name))
            .collect()
    }
}

impl<M: Spec> Observer<M> for Invariants<M> {
    fn check_init(&self, spec: &M, state: &M::State) -> Result<(), Failure> {
        self.check_state(spec, state)
    }

    fn check_state(&self, spec: &M, state: &M::State) -> Result<(), Failure> {
        for invariant in &self.invariants {
            if !(invariant.holds)(spec, state) {
                return Err(Failure {
                    kind: FailureKind::Invariant,
                    property: invariant.name.to_string(),
                    detail: format!("invariant {} is violated", invariant.name),
                });
            }
        }
        Ok(())
    }

    fn check_step(
        &self,
        spec: &M,
        state: &M::State,
        action: &M::Action,
        next: &M::State,
    ) -> Result<(), Failure> {
        for property in &self.properties {
            if !(property.holds)(spec, state, action, next) {
                return Err(Failure {
                    kind: FailureKind::ActionProperty,
                    property: property.name.to_string(),
                    detail: format!("action property {} is violated by {action}", property.name),
                });
            }
        }
        Ok(())
    }
}

/// Checks a refinement mapping on every initial state and transition of the lower level.
///
/// ```
/// # use spec_core::action_text::{self, ParseActionError};
/// # use spec_core::{Action, Invariant, Params, Spec};
/// # #[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// # pub struct Tick;
/// # impl std::fmt::Display for Tick {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { f.write_str("Tick()") }
/// # }
/// # impl std::str::FromStr for Tick {
/// #     type Err = ParseActionError;
/// #     fn from_str(text: &str) -> Result<Self, ParseActionError> {
/// #         action_text::parse(text, |name, args| match (name, args) {
/// #             ("Tick", []) => Ok(Tick),
/// #             _ => Err(action_text::unknown(name, args, &["Tick()"])),
/// #         })
/// #     }
/// # }
/// # impl Action for Tick { fn name(&self) -> &'static str { "Tick" } }
/// # /// A counter from 0 up to `max`, one `Tick()` at a time.
/// # pub struct Counter { pub max: u8 }
/// # impl Spec for Counter {
/// #     type State = u8;
/// #     type Action = Tick;
/// #     fn name(&self) -> &'static str { "counter" }
/// #     fn params(&self) -> Params { Params::default() }
/// #     fn action_names(&self) -> &'static [&'static str] { &["Tick"] }
/// #     fn init_states(&self) -> Vec<u8> { vec![0] }
/// #     fn next_states(&self, s: &u8, out: &mut Vec<(Tick, u8)>) {
/// #         if *s < self.max { out.push((Tick, s + 1)); }
/// #     }
/// #     fn invariants(&self) -> Vec<Invariant<Self>> {
/// #         vec![Invariant { name: "AtMostMax", holds: |m, s| *s <= m.max }]
/// #     }
/// # }
/// use refinement_tests::{explore, Options, RefinementCheck};
/// use spec_core::{Refinement, StepMapping};
/// // `Counter { max }` counts from 0 to `max`. Seen at half speed, it is a counter to max / 2.
/// struct Half { lower: Counter, upper: Counter }
/// impl Refinement for Half {
///     type Lower = Counter;
///     type Upper = Counter;
///     fn lower(&self) -> &Counter { &self.lower }
///     fn upper(&self) -> &Counter { &self.upper }
///     fn map_state(&self, s: &u8) -> u8 { s / 2 }
///     fn map_step(&self, s: &u8, _: &Tick, next: &u8) -> StepMapping<Tick> {
///         if s / 2 == next / 2 { StepMapping::Stutter } else { StepMapping::Step(Tick) }
///     }
/// }
/// let half = Half { lower: Counter { max: 6 }, upper: Counter { max: 3 } };
/// let outcome = explore(half.lower(), &RefinementCheck::new(&half), &Options::quiet(1, false)).unwrap();
/// assert!(outcome.violation.is_none());
///
/// // An upper counter too small: the step from 5 to 6 maps to a Tick past its max.
/// let cramped = Half { lower: Counter { max: 6 }, upper: Counter { max: 2 } };
/// let outcome = explore(cramped.lower(), &RefinementCheck::new(&cramped), &Options::quiet(1, false)).unwrap();
/// let counterexample = outcome.violation.expect("the mapping breaks");
/// assert_eq!(counterexample.steps.len(), 7);
/// ```
pub struct RefinementCheck<'r, R: Refinement> {
    refinement: &'r R,
    upper_inits: Vec<<R::Upper as Spec>::State>,
    name: String,
}

impl<'r, R: Refinement> RefinementCheck<'r, R> {
    /// A check of `refinement`.
    pub fn new(refinement: &'r R) -> Self {
        RefinementCheck {
            refinement,
            upper_inits: refinement.upper().init_states(),
            name: refinement.name(),
        }
    }

    /// The refinement checked.
    pub fn refinement(&self) -> &R {
        self.refinement
    }

    fn failure(&self, detail: String) -> Failure {
        Failure {
            kind: FailureKind::Refinement,
            property: self.name.clone(),
            detail,
        }
    }
}

impl<R: Refinement> Observer<R::Lower> for RefinementCheck<'_, R> {
    fn check_init(
        &self,
        _spec: &R::Lower,
        state: &<R::Lower as Spec>::State,
    ) -> Result<(), Failure> {
        let mapped = self.refinement.map_state(state);
        if self.upper_inits.contains(&mapped) {
            Ok(())
        } else {
            Err(self.failure(format!(
                "the mapped initial state is not an initial state of {}",
                self.refinement.upper().name()
            )))
        }
    }

    fn check_state(
        &self,
        _spec: &R::Lower,
        _state: &<R::Lower as Spec>::State,
    ) -> Result<(), Failure> {
        Ok(())
    }

    fn check_step(
        &self,
        _spec: &R::Lower,
        state: &<R::Lower as Spec>::State,
        action: &<R::Lower as Spec>::Action,
        next: &<R::Lower as Spec>::State,
    ) -> Result<(), Failure> {
        self.refinement
            .implements(state, action, next)
            .map(|_| ())
            .map_err(|detail| self.failure(detail))
    }

    fn upper_view(
        &self,
        _spec: &R::Lower,
        state: &<R::Lower as Spec>::State,
    ) -> Option<serde_json::Value> {
        serde_json::to_value(self.refinement.map_state(state)).ok()
    }

    fn upper_step(
        &self,
        _spec: &R::Lower,
        state: &<R::Lower as Spec>::State,
        action: &<R::Lower as Spec>::Action,
        next: &<R::Lower as Spec>::State,
    ) -> Option<String> {
        Some(match self.refinement.implements(state, action, next) {
            Ok(None) => "stutter".to_string(),
            Ok(Some(upper)) => upper.to_string(),
            Err(_) => match self.refinement.map_step(state, action, next) {
                StepMapping::Stutter => "stutter (expected; the mapped state changed)".to_string(),
                StepMapping::Step(expected) => format!("{expected} (expected; no such step)"),
                StepMapping::Search => "no upper step matches".to_string(),
            },
        })
    }
}
