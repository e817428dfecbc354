//! The kernel of the workspace: what an executable specification is, and what it means for one
//! specification to refine another.
//!
//! A TLA+ specification is a set of variables, an initial-state predicate, a next-state relation
//! made of named actions, and properties that every reachable state (invariants) or every step
//! (action properties) must satisfy. [`Spec`] is that shape in Rust: a state type, its initial
//! states, a function that enumerates the successors of a state (each labelled with the action
//! that produced it), and named invariants. Model-checking bounds live in [`Params`], and an
//! optional *state constraint* cuts the explored state space the way TLC's `CONSTRAINT` does.
//!
//! A spec is also usable one step at a time, which is what a library user or a trace checker
//! needs: [`Spec::step`] takes a state and an action and gives the successor, or `None` when the
//! action is disabled or outside the model (never a panic); actions print as `Name(args)` and
//! parse back ([`Action`] requires `FromStr`, helped by [`action_text`]); and
//! [`Spec::read_state`] reads a state back from the ITF JSON its `Serialize` writes (helped by
//! the readers of [`itf`]), so a trace written by the checker, by Apalache or by hand can be
//! replayed.
//!
//! A [`Refinement`] relates a lower specification to an upper one. It maps every lower state to
//! an upper state (the *refinement mapping*), and every lower step either to a *stutter* (the
//! mapped state does not change) or to an upper action that must be enabled in the mapped state
//! and must lead to the mapped next state. When the mapping cannot name the upper action, it says
//! [`StepMapping::Search`] and the checker looks for a witness among the upper successors.
//!
//! This crate only describes specifications; it does not check them. The checker lives in
//! `refinement-tests`, so a layer crate can be used as a library without pulling it in.
//!
//! ```
//! use spec_core::action_text::{self, ParseActionError};
//! use spec_core::{Action, Invariant, Params, Spec};
//!
//! /// A counter that may be incremented up to a bound.
//! struct Counter { max: u8 }
//!
//! #[derive(Clone, Copy, Debug, PartialEq, Eq)]
//! struct Increment;
//! impl std::fmt::Display for Increment {
//!     fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { f.write_str("Increment()") }
//! }
//! impl std::str::FromStr for Increment {
//!     type Err = ParseActionError;
//!     fn from_str(text: &str) -> Result<Self, ParseActionError> {
//!         action_text::parse(text, |name, args| match (name, args) {
//!             ("Increment", []) => Ok(Increment),
//!             _ => Err(action_text::unknown(name, args, &["Increment()"])),
//!         })
//!     }
//! }
//! impl Action for Increment { fn name(&self) -> &'static str { "Increment" } }
//!
//! impl Spec for Counter {
//!     type State = u8;
//!     type Action = Increment;
//!     fn name(&self) -> &'static str { "counter" }
//!     fn params(&self) -> Params { Params::default() }
//!     fn action_names(&self) -> &'static [&'static str] { &["Increment"] }
//!     fn init_states(&self) -> Vec<u8> { vec![0] }
//!     fn next_states(&self, s: &u8, out: &mut Vec<(Increment, u8)>) {
//!         if *s < self.max { out.push((Increment, s + 1)); }
//!     }
//!     fn invariants(&self) -> Vec<Invariant<Self>> {
//!         vec![Invariant { name: "Bounded", holds: |m, s| *s <= m.max }]
//!     }
//! }
//! let counter = Counter { max: 2 };
//! let mut succ = Vec::new();
//! counter.next_states(&1, &mut succ);
//! assert_eq!(succ, vec![(Increment, 2)]);
//! // One action at a time: `step` is `None` where the action is disabled.
//! assert_eq!(counter.step(&1, &"Increment()".parse().unwrap()), Some(2));
//! assert_eq!(counter.step(&2, &Increment), None);
//! ```

pub mod action_text;
pub mod itf;
pub mod multiset;
pub mod mutation;
pub mod pack;
mod params;
pub mod raft;
mod role;
mod seq;
pub mod servers;
pub mod symmetry;

pub use action_text::ParseActionError;
pub use mutation::MutationSet;
pub use pack::Pack;
pub use params::{Bound, NamedBounds, Parameter, Params, ParamsError, MAX_NAMED_BOUNDS};
pub use role::Role;
pub use seq::Seq;
pub use servers::{permutations, Members, Quorums, Server, ServerSet, Subsets, MAX_SERVERS};

use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::str::FromStr;

/// One labelled step of a specification: an action name plus its parameters (the values bound by
/// the existential quantifiers of the TLA+ action), printable as `Name(arg, ...)` and read back
/// from that text (`FromStr`, with the helpers of [`action_text`]), so that a trace's actions
/// can be named and replayed.
pub trait Action:
    Clone + Eq + Debug + Display + FromStr<Err = ParseActionError> + Send + Sync
{
    /// The name of the TLA+ action this step is an instance of, such as `"WriteNewEntry"`. It is
    /// the key of per-action coverage and must be one of [`Spec::action_names`].
    fn name(&self) -> &'static str;
}

/// `names` without the names in `left_out`, in the same order, computed at compile time, for a
/// model whose [`Spec::action_names`] leaves out the faults it has no budget for (so that
/// coverage does not report a fault the model excludes as an action never enabled). `M`, the
/// length of the result, must be `N` minus the number of names left out, and every name left
/// out must be in `names`: otherwise the constant that calls this fails to compile.
///
/// ```
/// const ALL: [&str; 4] = ["Send", "Receive", "Lose", "Duplicate"];
/// const NO_LOSS: [&str; 3] = spec_core::action_names_without(&ALL, &["Lose"]);
/// assert_eq!(NO_LOSS, ["Send", "Receive", "Duplicate"]);
/// ```
pub const fn action_names_without<const N: usize, const M: usize>(
    names: &[&'static str; N],
    left_out: &[&str],
) -> [&'static str; M] {
    const fn same(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut k = 0;
        while k < a.len() {
            if a[k] != b[k] {
                return false;
            }
            k += 1;
        }
        true
    }
    const fn is_left_out(name: &str, left_out: &[&str]) -> bool {
        let mut k = 0;
        while k < left_out.len() {
            if same(name, left_out[k]) {
                return true;
            }
            k += 1;
        }
        false
    }
    let mut k = 0;
    while k < left_out.len() {
        let mut found = false;
        let mut j = 0;
        while j < N {
            found |= same(names[j], left_out[k]);
            j += 1;
        }
        assert!(found, "a name left out is not an action name");
        k += 1;
    }
    let mut out = [""; M];
    let (mut i, mut o) = (0, 0);
    while i < N {
        if !is_left_out(names[i], left_out) {
            assert!(o < M, "more names remain than the result holds");
            out[o] = names[i];
            o += 1;
        }
        i += 1;
    }
    assert!(o == M, "fewer names remain than the result holds");
    out
}

/// A named predicate that must hold in every reachable state.
pub struct Invariant<M: Spec + ?Sized> {
    /// The name of the invariant in the original specification, such as `"ChosenSafety"`.
    pub name: &'static str,
    /// Whether the state satisfies the invariant.
    pub holds: fn(&M, &M::State) -> bool,
}

/// A named predicate that must hold on every step `(state, action, next)`: TLA+'s
/// `[][P]_vars` properties, such as LeaderAppendOnly.
pub struct ActionProperty<M: Spec + ?Sized> {
    /// The name of the property in the original specification.
    pub name: &'static str,
    /// Whether the step satisfies the property.
    pub holds: fn(&M, &M::State, &M::Action, &M::State) -> bool,
}

/// An executable specification: a state machine with named actions and invariants.
///
/// The enumeration order and multiplicity of [`Spec::next_states`] matter: the checker counts
/// every successor it is given as *generated*, [`Spec::copies`] times, exactly as TLC counts
/// every successor its enumeration of the next-state relation produces (duplicates and
/// stuttering steps included). A port that agrees with TLC state for state enumerates the same
/// way its TLA+ original does.
pub trait Spec: Send + Sync {
    /// A state: the values of all the specification's variables. Its `Serialize` form is an
    /// object with one field per variable, written with the [`itf`] helpers so that traces can be
    /// exported in the Informal Trace Format and printed in TLA+ notation.
    type State: Clone + Eq + Hash + Debug + serde::Serialize + Pack + Send + Sync;
    /// A labelled step.
    type Action: Action;

    /// The layer's name, as used on the command line (for example `"distlog"`).
    fn name(&self) -> &'static str;
    /// The bounds this instance was built with.
    fn params(&self) -> Params;
    /// The names of all actions, in the order the specification lists them.
    fn action_names(&self) -> &'static [&'static str];
    /// The initial states.
    fn init_states(&self) -> Vec<Self::State>;
    /// Appends every successor of `state` to `out`, each with the action that produced it.
    fn next_states(&self, state: &Self::State, out: &mut Vec<(Self::Action, Self::State)>);
    /// The state `action` leads to from `state`, or `None` when the action is not enabled
    /// there, or lies outside the model (a server past the model's servers, a quorum that is
    /// not one of the config's). It never panics on a state [`Spec::next_states`] accepts.
    ///
    /// In every layer of this workspace an action's parameters determine its successor, so
    /// this is the one successor `next_states` pairs with `action`. The default computes all
    /// successors and picks that one ([`step_by_successors`]); a layer overrides it with its
    /// guard and effect, and tests that the two agree on every action of a small model.
    ///
    /// ```
    /// use spec_core::action_text::{self, ParseActionError};
    /// use spec_core::{Action, Params, Spec};
    ///
    /// /// `lamps` lamps, each on or off (bit `k` of the state); `Switch(k)` turns lamp `k` on.
    /// struct Lamps { lamps: u8 }
    /// #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    /// struct Switch(u8);
    /// impl std::fmt::Display for Switch {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { write!(f, "Switch({})", self.0) }
    /// }
    /// impl std::str::FromStr for Switch {
    ///     type Err = ParseActionError;
    ///     fn from_str(text: &str) -> Result<Self, ParseActionError> {
    ///         action_text::parse(text, |name, args| match (name, args) {
    ///             ("Switch", [k]) => Ok(Switch(action_text::natural(k)?.min(255) as u8)),
    ///             _ => Err(action_text::unknown(name, args, &["Switch(k)"])),
    ///         })
    ///     }
    /// }
    /// impl Action for Switch { fn name(&self) -> &'static str { "Switch" } }
    /// impl Spec for Lamps {
    ///     type State = u8;
    ///     type Action = Switch;
    ///     fn name(&self) -> &'static str { "lamps" }
    ///     fn params(&self) -> Params { Params::default() }
    ///     fn action_names(&self) -> &'static [&'static str] { &["Switch"] }
    ///     fn init_states(&self) -> Vec<u8> { vec![0] }
    ///     fn next_states(&self, s: &u8, out: &mut Vec<(Switch, u8)>) {
    ///         for k in (0..self.lamps).filter(|k| s & 1 << k == 0) {
    ///             out.push((Switch(k), s | 1 << k));
    ///         }
    ///     }
    /// }
    ///
    /// let lamps = Lamps { lamps: 3 };
    /// let switch = |text: &str| text.parse::<Switch>().unwrap();
    /// assert_eq!(lamps.step(&0b000, &switch("Switch(1)")), Some(0b010));
    /// assert_eq!(lamps.step(&0b010, &switch("Switch(1)")), None, "already on: disabled");
    /// assert_eq!(lamps.step(&0b000, &switch("Switch(7)")), None, "no lamp 7 in this model");
    /// ```
    fn step(&self, state: &Self::State, action: &Self::Action) -> Option<Self::State> {
        step_by_successors(self, state, action)
    }
    /// Reads a state back from the ITF JSON its `Serialize` writes (one field per variable;
    /// keys starting with `#`, such as `#meta`, are ignored), checked against this model's
    /// constants: a server past the model's servers, or a value the state encoding cannot hold,
    /// is an error naming the variable ([`itf::ReadError`]), never a panic. Values past the
    /// state constraint (a longer log, a larger term) are read: whether the state is inside the
    /// model's bounds is [`Spec::within_constraint`]'s question. Every layer of this workspace
    /// implements it with the readers of [`itf`]; the default says it cannot.
    fn read_state(&self, value: &serde_json::Value) -> Result<Self::State, itf::ReadError> {
        let _ = value;
        Err(itf::ReadError::state(format!(
            "layer {} does not read states back",
            self.name()
        )))
    }

    /// The state invariants, named as in the original specification.
    fn invariants(&self) -> Vec<Invariant<Self>> {
        Vec::new()
    }
    /// The action properties, named as in the original specification.
    fn action_properties(&self) -> Vec<ActionProperty<Self>> {
        Vec::new()
    }
    /// TLC's state constraint: a state outside it is generated and checked, but neither stored
    /// nor explored further.
    fn within_constraint(&self, _state: &Self::State) -> bool {
        true
    }
    /// Whether [`Spec::canonical`] implements a symmetry reduction.
    fn has_symmetry(&self) -> bool {
        false
    }
    /// Why `action` is not enabled in `state`: the conjuncts of its guard that are false there,
    /// written as in the original specification with the action's values bound (for example
    /// `"state[n1] = Primary"`). A refinement check that names this action as the upper step of
    /// a lower one, and finds it disabled, prints them. The default names none; an empty list
    /// for an enabled action.
    fn disabled_because(&self, _state: &Self::State, _action: &Self::Action) -> Vec<String> {
        Vec::new()
    }
    /// How many times TLC generates the successor of `state` by `action`: once per binding of
    /// the action's existentially quantified variables that do not appear in its label (a
    /// witness), when equal successors of one labelled step differ only by such a witness.
    ///
    /// `next_states` yields each labelled step once and this method says how many successors it
    /// stands for, so that a step with millions of witnesses costs one successor in memory and
    /// in time while the *generated* count stays TLC's. The checker calls it once per successor
    /// `next_states` yields; the default, one, is right for a spec whose labels bind every
    /// quantified variable.
    fn copies(&self, _state: &Self::State, _action: &Self::Action) -> u64 {
        1
    }
    /// The canonical representative of the state's symmetry class: the same state for every
    /// permutation of the servers, so that the number of distinct states does not depend on the
    /// order in which they are found. The default has no symmetry.
    fn canonical(&self, state: &Self::State) -> Self::State {
        state.clone()
    }
}

/// [`Spec::step`] computed from [`Spec::next_states`]: the successor paired with `action`, if
/// any (the first, if a spec paired one action with several). It is `Spec::step`'s default, and
/// the reference a layer's faster `step` is tested against.
pub fn step_by_successors<M: Spec + ?Sized>(
    spec: &M,
    state: &M::State,
    action: &M::Action,
) -> Option<M::State> {
    let mut successors = Vec::new();
    spec.next_states(state, &mut successors);
    successors
        .into_iter()
        .find(|(a, _)| a == action)
        .map(|(_, next)| next)
}

/// Every state of a small model, for tests of a layer (the checker lives elsewhere): the
/// initial states and every state reached from them by [`Spec::next_states`], in breadth-first
/// order; states outside [`Spec::within_constraint`] are included but not expanded, as the
/// checker does. No symmetry reduction; it stops after `limit` states.
pub fn reachable_states<M: Spec + ?Sized>(spec: &M, limit: usize) -> Vec<M::State> {
    let mut seen: std::collections::HashSet<M::State> = std::collections::HashSet::new();
    let mut states = Vec::new();
    for s in spec.init_states() {
        if seen.insert(s.clone()) {
            states.push(s);
        }
    }
    let mut successors = Vec::new();
    let mut k = 0;
    while k < states.len() && states.len() < limit {
        if spec.within_constraint(&states[k]) {
            successors.clear();
            spec.next_states(&states[k], &mut successors);
            for (_, next) in successors.drain(..) {
                if states.len() < limit && seen.insert(next.clone()) {
                    states.push(next);
                }
            }
        }
        k += 1;
    }
    states
}

/// A specification that can be built from command-line bounds: what the `refine` tool needs to
/// offer a layer by name.
pub trait Layer: Spec + Sized {
    /// The layer's name on the command line, such as `"distlog"`.
    const NAME: &'static str;
    /// What the layer is, in a few words, such as the TLA+ specification it ports (`refine
    /// list` shows it beside the name).
    const DESCRIPTION: &'static str = "";
    /// The bounds this layer takes, declared with their flags, defaults, ranges and help
    /// ([`Parameter`]); any other bound given is an error. `from_params` reads them with
    /// [`Params::resolve`], and a command line offers and lists them: a bound of the layer's
    /// own is a [`Bound::Named`].
    const PARAMETERS: &'static [Parameter];
    /// Builds the layer, filling in defaults for bounds not given and rejecting bounds the
    /// state encoding cannot hold.
    fn from_params(params: &Params) -> Result<Self, ParamsError>;
}

/// What a lower step implements at the upper level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepMapping<A> {
    /// The mapped state must not change.
    Stutter,
    /// This upper action must be enabled in the mapped state and lead to the mapped next state.
    Step(A),
    /// The mapping does not say: the mapped step must be a stutter or some upper step.
    Search,
}

/// A refinement mapping from a lower specification to an upper one.
///
/// The checker (`refinement_tests::RefinementCheck`) asks [`Refinement::implements`] of every
/// reachable lower step; here, by hand, of each step of a small counter:
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
/// /// A counter from 0 up to `max`, one `Tick()` at a time.
/// pub struct Counter { pub max: u8 }
/// impl Spec for Counter {
///     type State = u8;
///     type Action = Tick;
///     fn name(&self) -> &'static str { "counter" }
///     fn params(&self) -> Params { Params::default() }
///     fn action_names(&self) -> &'static [&'static str] { &["Tick"] }
///     fn init_states(&self) -> Vec<u8> { vec![0] }
///     fn next_states(&self, s: &u8, out: &mut Vec<(Tick, u8)>) {
///         if *s < self.max { out.push((Tick, s + 1)); }
///     }
///     fn invariants(&self) -> Vec<Invariant<Self>> {
///         vec![Invariant { name: "AtMostMax", holds: |m, s| *s <= m.max }]
///     }
/// }
/// use spec_core::{Refinement, StepMapping};
///
/// /// A counter seen at half speed: the upper counter ticks when the lower one reaches an even
/// /// number (`s / 2`).
/// struct Half { lower: Counter, upper: Counter }
/// impl Half {
///     fn new(lower: Counter) -> Half { let upper = Counter { max: lower.max / 2 }; Half { lower, upper } }
/// }
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
///
/// let half = Half::new(Counter { max: 6 });
/// assert_eq!(half.name(), "counter -> counter");
/// assert_eq!(half.implements(&2, &Tick, &3), Ok(None), "3 / 2 = 2 / 2: a stutter");
/// assert_eq!(half.implements(&3, &Tick, &4), Ok(Some(Tick)), "the upper counter ticks");
/// // A lower step that jumps two is not one upper step from 1 / 2 = 0 to 5 / 2 = 2.
/// assert!(half.implements(&1, &Tick, &5).unwrap_err().contains("leads to a different state"));
/// ```
pub trait Refinement: Send + Sync {
    /// The implementation.
    type Lower: Spec;
    /// The specification it implements.
    type Upper: Spec;

    /// The edge's name, such as `"distlog -> log-abstract"`.
    fn name(&self) -> String {
        format!("{} -> {}", self.lower().name(), self.upper().name())
    }
    /// The lower specification instance.
    fn lower(&self) -> &Self::Lower;
    /// The upper specification instance, with bounds large enough for every mapped state.
    fn upper(&self) -> &Self::Upper;
    /// The refinement mapping of states.
    fn map_state(&self, state: &<Self::Lower as Spec>::State) -> <Self::Upper as Spec>::State;
    /// The step correspondence. The default asks the checker to search for a witness.
    fn map_step(
        &self,
        _state: &<Self::Lower as Spec>::State,
        _action: &<Self::Lower as Spec>::Action,
        _next: &<Self::Lower as Spec>::State,
    ) -> StepMapping<<Self::Upper as Spec>::Action> {
        StepMapping::Search
    }
    /// Whether the lower step `state -[action]-> next` implements an upper step: `Ok(None)` for
    /// a stutter, `Ok(Some(a))` for the upper action `a` that leads from the mapped state to the
    /// mapped next state, `Err` with the reason otherwise. The default follows [`map_step`]
    /// (see [`StepMapping`]); a composite checks its edges one after the other, so that a
    /// failure names the edge that broke.
    ///
    /// [`map_step`]: Refinement::map_step
    fn implements(
        &self,
        state: &<Self::Lower as Spec>::State,
        action: &<Self::Lower as Spec>::Action,
        next: &<Self::Lower as Spec>::State,
    ) -> Result<Option<<Self::Upper as Spec>::Action>, String> {
        let upper = self.upper();
        let from = self.map_state(state);
        let to = self.map_state(next);
        match self.map_step(state, action, next) {
            StepMapping::Stutter if from == to => Ok(None),
            StepMapping::Stutter => Err(format!(
                "{action} is mapped to a stutter, but the mapped {} state changes",
                upper.name()
            )),
            // The named step alone is taken (`Spec::step`), not every upper successor: an
            // upper level such as Log, whose Next chooses whole blocks of indices, may have
            // millions of successors in one state.
            StepMapping::Step(expected) => match upper.step(&from, &expected) {
                Some(reached) if reached == to => Ok(Some(expected)),
                Some(actual) => {
                    let mut why = format!(
                        "{action} is mapped to {} step {expected}, which is enabled in the mapped state but leads to a different state; where they differ:",
                        upper.name()
                    );
                    for (name, mapped, reached) in itf::differences(&to, &actual) {
                        why.push_str(&format!(
                            "\n    the mapped next state has {name} = {mapped}\n    {expected} leads to {name} = {reached}"
                        ));
                    }
                    Err(why)
                }
                None => {
                    let false_conjuncts = upper.disabled_because(&from, &expected);
                    let guard = if false_conjuncts.is_empty() {
                        format!("({} does not name its guard's conjuncts)", upper.name())
                    } else {
                        format!("false in its guard: {}", false_conjuncts.join("; "))
                    };
                    Err(format!(
                        "{action} is mapped to {} step {expected}, which is not enabled in the mapped state: {guard}",
                        upper.name()
                    ))
                }
            },
            StepMapping::Search if from == to => Ok(None),
            StepMapping::Search => {
                let mut successors = Vec::new();
                upper.next_states(&from, &mut successors);
                successors
                    .into_iter()
                    .find(|(_, s)| *s == to)
                    .map(|(a, _)| Some(a))
                    .ok_or_else(|| {
                        format!(
                            "{action} changes the mapped {} state, and no {} step leads from the mapped state to the mapped next state",
                            upper.name(),
                            upper.name()
                        )
                    })
            }
        }
    }
}

/// The composition of two refinement mappings `lower -> middle -> upper`: how a layer reaches a
/// level two or more steps above it. States map through both mappings; a step maps to a stutter
/// when the first mapping says so, to the second mapping's image of the middle step when the
/// first names one, and is left to the checker's search otherwise.
///
/// A composite step is checked edge by edge ([`Refinement::implements`]): the lower step must
/// implement a middle step (or stutter), and that middle step an upper one. So a composite holds
/// only if every edge holds along the lower level's behaviours, and a failure says which edge
/// broke (`edge static-raft -> safe-weak-raft: ...`), even when the composite's two ends alone
/// would not show it.
///
/// The middle specification instance of `first` (its upper) and of `second` (its lower) should
/// be built with the same bounds; [`Composed::new`] does not check that, the refinement check
/// does (a middle state the second mapping was not built for fails to map).
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
/// /// A counter from 0 up to `max`, one `Tick()` at a time.
/// pub struct Counter { pub max: u8 }
/// impl Spec for Counter {
///     type State = u8;
///     type Action = Tick;
///     fn name(&self) -> &'static str { "counter" }
///     fn params(&self) -> Params { Params::default() }
///     fn action_names(&self) -> &'static [&'static str] { &["Tick"] }
///     fn init_states(&self) -> Vec<u8> { vec![0] }
///     fn next_states(&self, s: &u8, out: &mut Vec<(Tick, u8)>) {
///         if *s < self.max { out.push((Tick, s + 1)); }
///     }
///     fn invariants(&self) -> Vec<Invariant<Self>> {
///         vec![Invariant { name: "AtMostMax", holds: |m, s| *s <= m.max }]
///     }
/// }
/// use spec_core::{Refinement, StepMapping};
///
/// /// A counter seen at half speed: the upper counter ticks when the lower one reaches an even
/// /// number (`s / 2`).
/// struct Half { lower: Counter, upper: Counter }
/// impl Half {
///     fn new(lower: Counter) -> Half { let upper = Counter { max: lower.max / 2 }; Half { lower, upper } }
/// }
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
/// use spec_core::Composed;
///
/// // A counter to 8, seen at a quarter of its speed through two halvings.
/// let first = Half::new(Counter { max: 8 });
/// let second = Half::new(Counter { max: 4 });
/// let quarter = Composed::new(first, second);
/// assert_eq!(quarter.upper().max, 2);
/// assert_eq!(quarter.map_state(&7), 1);
/// assert_eq!(quarter.implements(&6, &Tick, &7), Ok(None));
/// assert_eq!(quarter.implements(&7, &Tick, &8), Ok(Some(Tick)));
/// ```
pub struct Composed<R1, R2> {
    first: R1,
    second: R2,
}

impl<R1, R2> Composed<R1, R2>
where
    R1: Refinement,
    R2: Refinement<Lower = R1::Upper>,
{
    /// `second ∘ first`.
    pub fn new(first: R1, second: R2) -> Self {
        Composed { first, second }
    }

    /// The first (lower) edge.
    pub fn first(&self) -> &R1 {
        &self.first
    }

    /// The second (upper) edge.
    pub fn second(&self) -> &R2 {
        &self.second
    }
}

impl<R1, R2> Refinement for Composed<R1, R2>
where
    R1: Refinement,
    R2: Refinement<Lower = R1::Upper>,
{
    type Lower = R1::Lower;
    type Upper = R2::Upper;

    fn name(&self) -> String {
        format!("{} -> {}", self.first.name(), self.second.upper().name())
    }

    fn lower(&self) -> &Self::Lower {
        self.first.lower()
    }

    fn upper(&self) -> &Self::Upper {
        self.second.upper()
    }

    fn map_state(&self, state: &<Self::Lower as Spec>::State) -> <Self::Upper as Spec>::State {
        self.second.map_state(&self.first.map_state(state))
    }

    fn map_step(
        &self,
        state: &<Self::Lower as Spec>::State,
        action: &<Self::Lower as Spec>::Action,
        next: &<Self::Lower as Spec>::State,
    ) -> StepMapping<<Self::Upper as Spec>::Action> {
        match self.first.map_step(state, action, next) {
            StepMapping::Stutter => StepMapping::Stutter,
            StepMapping::Step(middle) => self.second.map_step(
                &self.first.map_state(state),
                &middle,
                &self.first.map_state(next),
            ),
            StepMapping::Search => StepMapping::Search,
        }
    }

    fn implements(
        &self,
        state: &<Self::Lower as Spec>::State,
        action: &<Self::Lower as Spec>::Action,
        next: &<Self::Lower as Spec>::State,
    ) -> Result<Option<<Self::Upper as Spec>::Action>, String> {
        let at_edge = |edge: String| {
            move |why: String| {
                if why.starts_with("edge ") {
                    why
                } else {
                    format!("edge {edge}: {why}")
                }
            }
        };
        let middle_step = self
            .first
            .implements(state, action, next)
            .map_err(at_edge(self.first.name()))?;
        let (from, to) = (self.first.map_state(state), self.first.map_state(next));
        match middle_step {
            Some(middle) => self
                .second
                .implements(&from, &middle, &to)
                .map_err(at_edge(self.second.name())),
            None if self.second.map_state(&from) == self.second.map_state(&to) => Ok(None),
            None => Err(at_edge(self.second.name())(format!(
                "{action} is a stutter at {}, but the mapped {} state changes",
                self.second.lower().name(),
                self.second.upper().name()
            ))),
        }
    }
}
