//! Seeded random walks: the engine's strategy for models too large to exhaust. A walk starts at
//! a random initial state and takes random steps, checking the observer on each, until it
//! reaches its depth, a state with no successor or a state outside the constraint. The same seed
//! gives the same walks, whatever the machine.

use super::{
    judge, panic_failure, ActionCoverage, ActionIndex, Counterexample, Observer, TraceStep,
};
use crate::caught::catching;
use spec_core::Spec;
use std::time::Instant;

/// How to run random walks.
#[derive(Clone, Debug)]
pub struct WalkOptions {
    /// Number of walks.
    pub walks: u64,
    /// Steps per walk at most (a walk also ends at a state with no successor or outside the
    /// state constraint).
    pub depth: usize,
    /// The seed: the same seed gives the same walks.
    pub seed: u64,
}

/// The summary of random walks.
#[derive(Clone, Debug, serde::Serialize)]
pub struct WalkStats {
    /// Walks completed (including the failing one).
    pub walks: u64,
    /// Steps taken over all walks.
    pub steps: u64,
    /// Successors generated over all walks.
    pub generated: u64,
    /// The longest walk, in states.
    pub longest: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Steps taken per action.
    pub coverage: Vec<ActionCoverage>,
}

/// The result of random walks.
#[derive(Clone, Debug)]
pub struct WalkOutcome<M: Spec> {
    /// What the walks did.
    pub stats: WalkStats,
    /// The walk that ended in a violation, if any.
    pub violation: Option<Counterexample<M>>,
}

/// SplitMix64: a small, fast, seedable generator; enough for choosing successors.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator with this seed.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
}

/// Runs seeded random walks from random initial states, checking the observer on every state
/// and step taken. Walk `i` uses its own generator derived from `seed` and `i`, so a failing
/// walk can be rerun alone.
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
/// use refinement_tests::{simulate, Invariants, WalkOptions};
/// // `Counter { max }` counts from 0 to `max`, with the invariant AtMostMax.
/// let spec = Counter { max: 5 };
/// let walks = WalkOptions { walks: 10, depth: 20, seed: 7 };
/// let outcome = simulate(&spec, &Invariants::of(&spec), &walks);
/// assert!(outcome.violation.is_none());
/// assert_eq!(outcome.stats.walks, 10);
/// assert_eq!(outcome.stats.longest, 6, "states 0 to 5: a walk ends where no action is enabled");
/// ```
pub fn simulate<M: Spec, O: Observer<M>>(
    spec: &M,
    observer: &O,
    options: &WalkOptions,
) -> WalkOutcome<M> {
    let start = Instant::now();
    let mut walker = Walker::new(spec, observer, options.depth);
    let inits = spec.init_states();
    let mut violation = None;
    for walk in (0..options.walks).take_while(|_| !inits.is_empty()) {
        walker.stats.walks += 1;
        let mut rng = SplitMix64::new(options.seed ^ walk.wrapping_mul(0xd6e8_feb8_6659_fd93));
        if let Err(failing) = walker.walk(&inits, &mut rng) {
            violation = Some(failing);
            break;
        }
    }
    let names = spec.action_names();
    walker.stats.seconds = start.elapsed().as_secs_f64();
    walker.stats.coverage = names
        .iter()
        .zip(walker.coverage)
        .map(|(action, steps)| ActionCoverage {
            action,
            generated: steps,
            distinct: 0,
        })
        .collect();
    WalkOutcome {
        stats: walker.stats,
        violation,
    }
}

/// One walker: the counters of every walk so far, and buffers reused from step to step.
struct Walker<'a, M: Spec, O> {
    spec: &'a M,
    observer: &'a O,
    depth: usize,
    stats: WalkStats,
    /// Steps taken per action, in the specification's action order.
    coverage: Vec<u64>,
    action_index: ActionIndex<'a, M>,
    successors: Vec<(M::Action, M::State)>,
}

impl<'a, M: Spec, O: Observer<M>> Walker<'a, M, O> {
    fn new(spec: &'a M, observer: &'a O, depth: usize) -> Self {
        Walker {
            spec,
            observer,
            depth,
            stats: WalkStats {
                walks: 0,
                steps: 0,
                generated: 0,
                longest: 0,
                seconds: 0.0,
                coverage: Vec::new(),
            },
            coverage: vec![0; spec.action_names().len()],
            action_index: ActionIndex::new(spec),
            successors: Vec::new(),
        }
    }

    /// One walk from a random initial state: `Err` with its trace if it ends in a violation.
    fn walk(&mut self, inits: &[M::State], rng: &mut SplitMix64) -> Result<(), Counterexample<M>> {
        let init = inits[rng.below(inits.len())].clone();
        self.stats.generated += 1;
        let mut trace = vec![TraceStep {
            action: None,
            state: init,
        }];
        let checked = self.observer.check_init(self.spec, &trace[0].state);
        let result = checked
            .map_err(|failure| (failure, true))
            .and_then(|()| self.steps(&mut trace, rng));
        match result {
            Ok(()) => {
                self.stats.longest = self.stats.longest.max(trace.len());
                Ok(())
            }
            Err((failure, counted)) => {
                if !counted {
                    self.stats.longest = self.stats.longest.max(trace.len());
                }
                Err(Counterexample {
                    failure,
                    steps: trace,
                })
            }
        }
    }

    /// Takes up to `depth` steps from the end of `trace`, appending them. A failure comes with
    /// whether it was found before any step was taken (then the walk's length is not counted).
    fn steps(
        &mut self,
        trace: &mut Vec<TraceStep<M>>,
        rng: &mut SplitMix64,
    ) -> Result<(), (super::Failure, bool)> {
        for _ in 0..self.depth {
            let current = &trace.last().expect("walk is not empty").state;
            if !self.spec.within_constraint(current) {
                break;
            }
            let Some(chosen) = self.draw(current, rng).map_err(|f| (f, true))? else {
                break;
            };
            let (action, next) = self.successors.swap_remove(chosen);
            self.stats.steps += 1;
            self.coverage[self.action_index.of(&action)] += 1;
            let (spec, observer) = (self.spec, self.observer);
            let result = catching(|| judge(spec, observer, current, &action, &next, true))
                .unwrap_or_else(|caught| {
                    let while_doing = format!("checking its step {action}");
                    Err(panic_failure(spec, &while_doing, &caught))
                });
            trace.push(TraceStep {
                action: Some(action),
                state: next,
            });
            result.map_err(|failure| (failure, false))?;
        }
        Ok(())
    }

    /// Computes the successors of `current` and draws one, each with the weight of its copies
    /// (as if TLC's list of successors, copies included, were drawn from): its position in
    /// `successors`, or `None` when there is none. A panic of the specification is a failure.
    fn draw(
        &mut self,
        current: &M::State,
        rng: &mut SplitMix64,
    ) -> Result<Option<usize>, super::Failure> {
        let (spec, successors) = (self.spec, &mut self.successors);
        successors.clear();
        let copies = catching(|| {
            spec.next_states(current, successors);
            successors
                .iter()
                .map(|(action, _)| spec.copies(current, action))
                .collect::<Vec<u64>>()
        })
        .map_err(|caught| panic_failure(spec, "computing the successors of this state", &caught))?;
        if successors.is_empty() {
            return Ok(None);
        }
        let generated = copies.iter().fold(0u64, |sum, &c| sum.saturating_add(c));
        self.stats.generated = self.stats.generated.saturating_add(generated);
        let mut draw = rng.below(generated as usize) as u64;
        for (k, &c) in copies.iter().enumerate() {
            if draw < c {
                return Ok(Some(k));
            }
            draw -= c;
        }
        Ok(Some(successors.len() - 1))
    }
}
