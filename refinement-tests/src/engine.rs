//! The one exploration engine behind every check: exhaustive breadth-first search and seeded
//! random walks.
//!
//! # What is checked
//!
//! The engine enumerates states and transitions of a [`Spec`]; *what* it checks on them is an
//! [`Observer`]. Invariant checking ([`crate::Invariants`]) and refinement checking
//! ([`crate::RefinementCheck`]) are both observers, so both share the same search, the same
//! statistics, the same counterexample reconstruction and the same random walks.
//!
//! # Breadth-first search, as TLC does it
//!
//! The search is level-synchronous: all states at depth `d` are expanded (in parallel, by
//! `threads` workers taking chunks of the level) before any state at depth `d + 1`. So the first
//! violation found is at the smallest depth, and its counterexample is a shortest one.
//!
//! Counting follows TLC:
//! - *generated* counts every initial state and every successor the specification enumerates,
//!   duplicates and stuttering steps included;
//! - a successor outside the state constraint is generated and checked but neither stored nor
//!   explored, and is not counted as distinct;
//! - *distinct* counts the states stored in the visited set (after symmetry reduction, if
//!   enabled);
//! - *depth* is the number of BFS levels, the initial states being depth 1.
//!
//! The visited set stores a 128-bit [fingerprint](crate::fingerprint) per distinct state and the
//! fingerprint of the state it was first reached from. With symmetry, the fingerprint is that of
//! the state's canonical form, which is exact (the same for every permutation), so the distinct
//! count does not depend on the order in which states are found nor on the number of threads.
//!
//! # Deterministic counterexamples
//!
//! Parent links and the reported violation are chosen by a rule that does not depend on thread
//! scheduling: among the parents at the previous level that reach a new state, the one with the
//! smallest fingerprint is kept; when a level contains violations, the whole level is finished and
//! the violation with the smallest (state, parent) fingerprints is reported. The trace is then
//! rebuilt by replaying the specification from an initial state along the recorded fingerprints,
//! so it shows real states and real actions, not canonical representatives.

use crate::fingerprint::{collision_probability, fingerprint, Fingerprint};
use crate::visited::Visited;
use spec_core::{Action as _, Spec};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How to run a search.
#[derive(Clone, Debug)]
pub struct Options {
    /// Worker threads for the breadth-first search.
    pub threads: usize,
    /// Reduce by server symmetry (the specification must support it).
    pub symmetry: bool,
    /// Print a progress line on standard error at this interval (`None`: silent).
    pub progress: Option<Duration>,
}

impl Options {
    /// `threads` workers, symmetry reduction on or off, no progress lines: what tests use.
    pub fn quiet(threads: usize, symmetry: bool) -> Self {
        Options {
            threads,
            symmetry,
            progress: None,
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            symmetry: false,
            progress: None,
        }
    }
}

/// What kind of property failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// A state invariant.
    Invariant,
    /// An action property over a step.
    ActionProperty,
    /// A refinement mapping: an initial state or a step has no counterpart at the upper level.
    Refinement,
}

/// A failed check: which property, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What kind of property failed.
    pub kind: FailureKind,
    /// The property's name (an invariant's name, or a refinement edge).
    pub property: String,
    /// An explanation of the failure, for people.
    pub detail: String,
}

/// What a search checks on the states and transitions it enumerates.
pub trait Observer<M: Spec>: Sync {
    /// Checks an initial state.
    fn check_init(&self, spec: &M, state: &M::State) -> Result<(), Failure>;
    /// Checks a state reached for the first time (or a state outside the constraint).
    fn check_state(&self, spec: &M, state: &M::State) -> Result<(), Failure>;
    /// Checks a transition; called on every transition, including those into known states.
    fn check_step(
        &self,
        spec: &M,
        state: &M::State,
        action: &M::Action,
        next: &M::State,
    ) -> Result<(), Failure>;
    /// A second view of a state for traces: the mapped upper state, for refinement checks.
    fn upper_view(&self, _spec: &M, _state: &M::State) -> Option<serde_json::Value> {
        None
    }
    /// What a step implements at the upper level, for traces.
    fn upper_step(
        &self,
        _spec: &M,
        _state: &M::State,
        _action: &M::Action,
        _next: &M::State,
    ) -> Option<String> {
        None
    }
}

/// How often one action was taken.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ActionCoverage {
    /// The action's name.
    pub action: &'static str,
    /// Successors it generated.
    pub generated: u64,
    /// Distinct states it reached first.
    pub distinct: u64,
}

/// The summary of a breadth-first search, as TLC reports it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Stats {
    /// Initial states and successors generated.
    pub generated: u64,
    /// Distinct states stored.
    pub distinct: u64,
    /// BFS levels (initial states are depth 1).
    pub depth: usize,
    /// States still waiting to be explored when the search stopped.
    pub queue_left: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Per-action coverage, in the specification's action order.
    pub coverage: Vec<ActionCoverage>,
    /// The estimated probability that two distinct states shared a fingerprint.
    pub collision_probability: f64,
    /// Worker threads used.
    pub threads: usize,
    /// Whether symmetry reduction was on.
    pub symmetry: bool,
}

/// One state of a trace and the action that led to it (`None` for the initial state).
#[derive(Clone, Debug)]
pub struct TraceStep<M: Spec> {
    /// The action taken into this state.
    pub action: Option<M::Action>,
    /// The state.
    pub state: M::State,
}

/// A behaviour that ends in a failed check.
#[derive(Clone, Debug)]
pub struct Counterexample<M: Spec> {
    /// What failed on the last step (or the only state).
    pub failure: Failure,
    /// The states, from an initial state to the failing one.
    pub steps: Vec<TraceStep<M>>,
}

impl<M: Spec> Counterexample<M> {
    /// The actions taken, in order, printed as in the trace (the first state is initial).
    pub fn actions(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| s.action.as_ref().map(|a| a.to_string()))
            .collect()
    }
}

/// The result of a search.
#[derive(Clone, Debug)]
pub struct Outcome<M: Spec> {
    /// What the search did.
    pub stats: Stats,
    /// The violation found, if any.
    pub violation: Option<Counterexample<M>>,
}

/// Why a search could not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A violation found during a level, identified by fingerprints so it can be replayed.
#[derive(Clone, Debug)]
struct Found {
    parent: Fingerprint,
    target: Fingerprint,
    failure: Failure,
    /// A failed state check on a stored state: only the thread that stored it checked it, so
    /// `parent` is whichever parent got there first; the level's final (smallest) parent is
    /// read from the visited set once the level is done.
    parent_from_visited: bool,
}

impl Found {
    /// The order in which violations are preferred: by the failing state, then by parent. Both
    /// are the same whatever the thread scheduling.
    fn key(&self) -> (Fingerprint, Fingerprint) {
        let parent = if self.parent_from_visited {
            0
        } else {
            self.parent
        };
        (self.target, parent)
    }
    fn keep_smaller(best: &mut Option<Found>, candidate: Found) {
        if best.as_ref().is_none_or(|b| candidate.key() < b.key()) {
            *best = Some(candidate);
        }
    }
}

fn view_of<M: Spec>(spec: &M, symmetry: bool, state: &M::State) -> Fingerprint {
    if symmetry {
        fingerprint(&spec.canonical(state))
    } else {
        fingerprint(state)
    }
}

/// Checks a transition: the step always, the next state when it is new or outside the
/// constraint (TLC checks such states but never stores them).
fn judge<M: Spec, O: Observer<M>>(
    spec: &M,
    observer: &O,
    state: &M::State,
    action: &M::Action,
    next: &M::State,
    check_next_state: bool,
) -> Result<(), Failure> {
    observer.check_step(spec, state, action, next)?;
    if check_next_state {
        observer.check_state(spec, next)?;
    }
    Ok(())
}

struct WorkerResult<S> {
    next: Vec<(Fingerprint, S)>,
    generated: u64,
    coverage: Vec<(u64, u64)>,
    found: Option<Found>,
}

/// Explores every reachable state breadth-first and checks the observer on every initial
/// state, state and transition. Stops after the first level that contains a violation.
pub fn explore<M: Spec, O: Observer<M>>(
    spec: &M,
    observer: &O,
    options: &Options,
) -> Result<Outcome<M>, UsageError> {
    if options.symmetry && !spec.has_symmetry() {
        return Err(UsageError(format!(
            "layer {} has no symmetry reduction; run it without --symmetry",
            spec.name()
        )));
    }
    if options.threads == 0 {
        return Err(UsageError("--threads must be at least 1".into()));
    }
    let start = Instant::now();
    let symmetry = options.symmetry;
    let names = spec.action_names();
    // Action names are compared by address first: each action's name is one static string, so
    // this avoids a string comparison per successor.
    let action_index = |a: &M::Action| {
        let name = a.name();
        names
            .iter()
            .position(|n| std::ptr::eq(n.as_ptr(), name.as_ptr()) && n.len() == name.len())
            .or_else(|| names.iter().position(|n| *n == name))
            .unwrap_or_else(|| {
                panic!(
                    "action {} is not in {}'s action names",
                    a.name(),
                    spec.name()
                )
            })
    };
    let visited = Visited::new();
    let mut coverage = vec![(0u64, 0u64); names.len()];
    let mut generated = 0u64;
    let mut distinct = 0u64;

    // Level 1: the initial states.
    let mut frontier: Vec<(Fingerprint, M::State)> = Vec::new();
    let mut found: Option<Found> = None;
    for init in spec.init_states() {
        generated += 1;
        let target = view_of(spec, symmetry, &init);
        if let Err(failure) = observer.check_init(spec, &init) {
            Found::keep_smaller(
                &mut found,
                Found {
                    parent: 0,
                    target,
                    failure,
                    parent_from_visited: false,
                },
            );
            continue;
        }
        if !spec.within_constraint(&init) {
            continue;
        }
        if visited.insert(target, 0, 1) {
            distinct += 1;
            let stored = if symmetry {
                spec.canonical(&init)
            } else {
                init
            };
            frontier.push((target, stored));
        }
    }
    let mut depth = usize::from(!frontier.is_empty());
    let progress_generated = AtomicU64::new(generated);
    let progress_distinct = AtomicU64::new(distinct);
    let taken = AtomicUsize::new(0);
    let next_len = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let level_len = AtomicU64::new(0);
    let current_level = AtomicUsize::new(depth);

    std::thread::scope(|scope| {
        if let Some(every) = options.progress {
            let (g, d, t, n, level_len, level, done) = (
                &progress_generated,
                &progress_distinct,
                &taken,
                &next_len,
                &level_len,
                &current_level,
                &done,
            );
            scope.spawn(move || {
                let mut last = Instant::now();
                let mut last_generated = g.load(Ordering::Relaxed);
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                    if last.elapsed() >= every {
                        let generated = g.load(Ordering::Relaxed);
                        let rate =
                            (generated - last_generated) as f64 / last.elapsed().as_secs_f64();
                        let left_in_level = level_len
                            .load(Ordering::Relaxed)
                            .saturating_sub(t.load(Ordering::Relaxed) as u64);
                        eprintln!(
                            "Progress({}): {} states generated ({}/s), {} distinct states found, {} states left on queue.",
                            level.load(Ordering::Relaxed),
                            crate::report::thousands(generated),
                            crate::report::thousands(rate as u64),
                            crate::report::thousands(d.load(Ordering::Relaxed)),
                            crate::report::thousands(left_in_level + n.load(Ordering::Relaxed)),
                        );
                        last = Instant::now();
                        last_generated = generated;
                    }
                }
            });
        }

        while found.is_none() && !frontier.is_empty() {
            let level = depth as u32;
            taken.store(0, Ordering::Relaxed);
            next_len.store(0, Ordering::Relaxed);
            level_len.store(frontier.len() as u64, Ordering::Relaxed);
            current_level.store(depth, Ordering::Relaxed);
            let chunk = 256usize;
            let frontier_ref = &frontier;
            let visited_ref = &visited;
            let work = || -> WorkerResult<M::State> {
                let mut result = WorkerResult {
                    next: Vec::new(),
                    generated: 0,
                    coverage: vec![(0, 0); names.len()],
                    found: None,
                };
                let mut successors = Vec::new();
                let mut views: Vec<Option<(Fingerprint, Option<M::State>)>> = Vec::new();
                loop {
                    let begin = taken.fetch_add(chunk, Ordering::Relaxed);
                    if begin >= frontier_ref.len() {
                        break;
                    }
                    let end = (begin + chunk).min(frontier_ref.len());
                    let mut chunk_generated = 0u64;
                    let mut chunk_new = 0u64;
                    for (parent, state) in &frontier_ref[begin..end] {
                        successors.clear();
                        spec.next_states(state, &mut successors);
                        chunk_generated += successors.len() as u64;
                        // Fingerprint the whole batch first and prefetch the visited-set slots,
                        // so the cache misses of the inserts below overlap.
                        views.clear();
                        for (_, next) in &successors {
                            let view = spec.within_constraint(next).then(|| {
                                let (target, canonical) = if symmetry {
                                    let canonical = spec.canonical(next);
                                    (fingerprint(&canonical), Some(canonical))
                                } else {
                                    (fingerprint(next), None)
                                };
                                visited_ref.prefetch(target);
                                (target, canonical)
                            });
                            views.push(view);
                        }
                        for ((action, next), view) in successors.drain(..).zip(views.drain(..)) {
                            let a = action_index(&action);
                            result.coverage[a].0 += 1;
                            let inside = view.is_some();
                            let is_new = view.as_ref().is_some_and(|(target, _)| {
                                visited_ref.insert(*target, *parent, level + 1)
                            });
                            let verdict = observer
                                .check_step(spec, state, &action, &next)
                                .map_err(|failure| (failure, false))
                                .and_then(|()| {
                                    if is_new || !inside {
                                        observer
                                            .check_state(spec, &next)
                                            .map_err(|failure| (failure, is_new))
                                    } else {
                                        Ok(())
                                    }
                                });
                            if let Err((failure, parent_from_visited)) = verdict {
                                let target = match &view {
                                    Some((target, _)) => *target,
                                    None => view_of(spec, symmetry, &next),
                                };
                                Found::keep_smaller(
                                    &mut result.found,
                                    Found {
                                        parent: *parent,
                                        target,
                                        failure,
                                        parent_from_visited,
                                    },
                                );
                            }
                            if let (true, Some((target, canonical))) = (is_new, view) {
                                result.coverage[a].1 += 1;
                                chunk_new += 1;
                                result.next.push((target, canonical.unwrap_or(next)));
                            }
                        }
                    }
                    result.generated += chunk_generated;
                    progress_generated.fetch_add(chunk_generated, Ordering::Relaxed);
                    progress_distinct.fetch_add(chunk_new, Ordering::Relaxed);
                    next_len.fetch_add(chunk_new, Ordering::Relaxed);
                }
                result
            };
            let results: Vec<WorkerResult<M::State>> = if options.threads == 1 {
                vec![work()]
            } else {
                std::thread::scope(|workers| {
                    let handles: Vec<_> =
                        (0..options.threads).map(|_| workers.spawn(work)).collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().expect("worker panicked"))
                        .collect()
                })
            };
            let mut next_frontier = Vec::new();
            for r in results {
                let states = r.next;
                generated += r.generated;
                for (i, (g, d)) in r.coverage.iter().enumerate() {
                    coverage[i].0 += g;
                    coverage[i].1 += d;
                }
                distinct += states.len() as u64;
                next_frontier.extend(states);
                if let Some(f) = r.found {
                    Found::keep_smaller(&mut found, f);
                }
            }
            if let Some(f) = found.as_mut().filter(|f| f.parent_from_visited) {
                f.parent = visited
                    .parent(f.target)
                    .expect("a stored failing state is in the visited set");
            }
            frontier = next_frontier;
            if !frontier.is_empty() {
                depth += 1;
            }
        }
        done.store(true, Ordering::Relaxed);
    });

    let violation = found.map(|f| replay(spec, observer, symmetry, &visited, f));
    let coverage = names
        .iter()
        .zip(coverage)
        .map(|(action, (generated, distinct))| ActionCoverage {
            action,
            generated,
            distinct,
        })
        .collect();
    Ok(Outcome {
        stats: Stats {
            generated,
            distinct,
            depth,
            queue_left: frontier.len() as u64,
            seconds: start.elapsed().as_secs_f64(),
            coverage,
            collision_probability: collision_probability(distinct),
            threads: options.threads,
            symmetry,
        },
        violation,
    })
}

/// Rebuilds the trace of a violation by replaying the specification along the recorded
/// fingerprints, from an initial state to the failing step.
fn replay<M: Spec, O: Observer<M>>(
    spec: &M,
    observer: &O,
    symmetry: bool,
    visited: &Visited,
    found: Found,
) -> Counterexample<M> {
    let mut chain = Vec::new();
    let mut fp = found.parent;
    while fp != 0 {
        chain.push(fp);
        fp = visited
            .parent(fp)
            .expect("every stored state has a recorded parent");
    }
    chain.reverse();
    let inits = spec.init_states();
    if chain.is_empty() {
        let init = inits
            .into_iter()
            .find(|s| {
                view_of(spec, symmetry, s) == found.target && observer.check_init(spec, s).is_err()
            })
            .expect("the failing initial state is an initial state");
        return Counterexample {
            failure: found.failure,
            steps: vec![TraceStep {
                action: None,
                state: init,
            }],
        };
    }
    let first = inits
        .into_iter()
        .find(|s| view_of(spec, symmetry, s) == chain[0])
        .expect("the trace starts at an initial state");
    let mut steps: Vec<TraceStep<M>> = vec![TraceStep {
        action: None,
        state: first,
    }];
    let mut successors = Vec::new();
    for &target in &chain[1..] {
        let current = &steps.last().expect("trace is not empty").state;
        successors.clear();
        spec.next_states(current, &mut successors);
        let (action, next) = successors
            .drain(..)
            .find(|(_, next)| {
                spec.within_constraint(next) && view_of(spec, symmetry, next) == target
            })
            .expect("every recorded parent link is a transition");
        steps.push(TraceStep {
            action: Some(action),
            state: next,
        });
    }
    let current: M::State = steps.last().expect("trace is not empty").state.clone();
    successors.clear();
    spec.next_states(&current, &mut successors);
    let (action, next, failure) = successors
        .drain(..)
        .find_map(|(action, next)| {
            if view_of(spec, symmetry, &next) != found.target {
                return None;
            }
            judge(spec, observer, &current, &action, &next, true)
                .err()
                .map(|failure| (action, next, failure))
        })
        .expect("the failing transition is replayed");
    steps.push(TraceStep {
        action: Some(action),
        state: next,
    });
    Counterexample { failure, steps }
}

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
pub fn simulate<M: Spec, O: Observer<M>>(
    spec: &M,
    observer: &O,
    options: &WalkOptions,
) -> WalkOutcome<M> {
    let start = Instant::now();
    let names = spec.action_names();
    let mut coverage = vec![0u64; names.len()];
    let mut stats = WalkStats {
        walks: 0,
        steps: 0,
        generated: 0,
        longest: 0,
        seconds: 0.0,
        coverage: Vec::new(),
    };
    let inits = spec.init_states();
    let mut violation = None;
    let mut successors = Vec::new();
    'walks: for walk in 0..options.walks {
        if inits.is_empty() {
            break;
        }
        stats.walks += 1;
        let mut rng = SplitMix64::new(options.seed ^ walk.wrapping_mul(0xd6e8_feb8_6659_fd93));
        let init = inits[rng.below(inits.len())].clone();
        stats.generated += 1;
        let mut trace = vec![TraceStep {
            action: None,
            state: init,
        }];
        if let Err(failure) = observer.check_init(spec, &trace[0].state) {
            violation = Some(Counterexample {
                failure,
                steps: trace,
            });
            break;
        }
        for _ in 0..options.depth {
            let current = &trace.last().expect("walk is not empty").state;
            if !spec.within_constraint(current) {
                break;
            }
            successors.clear();
            spec.next_states(current, &mut successors);
            stats.generated += successors.len() as u64;
            if successors.is_empty() {
                break;
            }
            let (action, next) = successors.swap_remove(rng.below(successors.len()));
            stats.steps += 1;
            if let Some(i) = names.iter().position(|n| *n == action.name()) {
                coverage[i] += 1;
            }
            let result = judge(spec, observer, current, &action, &next, true);
            trace.push(TraceStep {
                action: Some(action),
                state: next,
            });
            if let Err(failure) = result {
                stats.longest = stats.longest.max(trace.len());
                violation = Some(Counterexample {
                    failure,
                    steps: trace,
                });
                break 'walks;
            }
        }
        stats.longest = stats.longest.max(trace.len());
    }
    stats.seconds = start.elapsed().as_secs_f64();
    stats.coverage = names
        .iter()
        .zip(coverage)
        .map(|(action, steps)| ActionCoverage {
            action,
            generated: steps,
            distinct: 0,
        })
        .collect();
    WalkOutcome { stats, violation }
}
