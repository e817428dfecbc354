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
//!
//! # Parts
//!
//! [`explore`] prepares a search (options, checkpoint directory, the first level) and hands it
//! to the level loop (`levels`), whose workers (`worker`) expand a level's states in
//! parallel while a monitor thread (`monitor`) reports progress and watches memory and
//! interrupts; a violation's trace is rebuilt afterwards (`trace`). Random walks
//! ([`simulate`], `walk`) share the observer, the failures and the traces.

mod levels;
mod monitor;
mod trace;
mod walk;
mod worker;

pub use walk::{simulate, SplitMix64, WalkOptions, WalkOutcome, WalkStats};

use crate::caught::Caught;
use crate::checkpoint;
use crate::fingerprint::{collision_probability, fingerprint_bytes, Fingerprint};
use crate::spill::{Blocks, Budget, SpillDir};
use crate::visited::{Visited, COMPARED_BITS};
use levels::Run;
use monitor::Progress;
use spec_core::{Action as _, Pack, Spec};
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
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
    /// Stop the search, with a message, when the process's resident memory passes this many
    /// bytes (`None`: no limit). See [`default_memory_limit`].
    pub memory_limit: Option<u64>,
    /// Bytes of states waiting in the queue (and of parent links) kept in memory; the rest goes
    /// to files in a temporary directory, or in the checkpoint directory.
    pub queue_memory: u64,
    /// Save the search in this directory at the end of a level, every `checkpoint_every`.
    pub checkpoint: Option<PathBuf>,
    /// The least time between two checkpoints.
    pub checkpoint_every: Duration,
    /// Continue the search saved in this directory (and keep checkpointing there).
    pub resume: Option<PathBuf>,
    /// Stop once this many levels are explored (with a checkpoint, if checkpointing).
    pub stop_after_level: Option<usize>,
    /// Report a reachable state with no successor as a violation (TLC's deadlock check). A
    /// state outside the state constraint is never expanded, so it is never a deadlock.
    pub deadlock: bool,
    /// What is searched, beyond the specification and these options: recorded in a checkpoint
    /// and compared when it is resumed.
    pub identity: SearchIdentity,
    /// Let `checkpoint` replace a checkpoint already in its directory (without it, such a
    /// directory is refused, unless it is also `resume`'s).
    pub force: bool,
    /// The number of interrupts (Ctrl-C, SIGTERM) received, counted by the caller's signal
    /// handler; the engine installs none. At the first, a checkpointing search finishes its
    /// level, saves a checkpoint and stops; one that is not checkpointing, or at a second
    /// interrupt, stops at once (within a block of states). Either way it ends normally, its
    /// `stopped` reason starting with "interrupted", and its temporary files removed.
    pub interrupt: Option<Arc<AtomicUsize>>,
}

/// What a search checks, as a checkpoint records it: a checkpoint is resumed only by the same.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchIdentity {
    /// `check LAYER` or `refines LOWER UPPER` (empty: `explore LAYER`, for library callers).
    pub command: String,
    /// The mutation planted, if any.
    pub mutation: Option<String>,
    /// The invariants and action properties checked (none for a refinement).
    pub properties: Vec<String>,
}

impl Options {
    /// `threads` workers, symmetry reduction on or off, no progress lines: what tests use.
    pub fn quiet(threads: usize, symmetry: bool) -> Self {
        Options {
            threads,
            symmetry,
            ..Options::default()
        }
    }
}

/// The memory limit used by the `refine` command: nine tenths of the memory that was available
/// when the process started (plus what the process already held), so that a search stops with
/// a message before the operating system kills it.
pub fn default_memory_limit() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let available_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemAvailable:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((available_kb * 1024 + resident_bytes().unwrap_or(0)) / 10 * 9)
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            symmetry: false,
            progress: None,
            memory_limit: None,
            queue_memory: 1 << 30,
            checkpoint: None,
            checkpoint_every: Duration::from_secs(600),
            resume: None,
            stop_after_level: None,
            deadlock: false,
            identity: SearchIdentity::default(),
            force: false,
            interrupt: None,
        }
    }
}

/// The most worker threads a search takes: far more than any machine it runs on has cores, and
/// few enough that spawning them cannot exhaust the process's threads or address space.
pub const MAX_THREADS: usize = 1024;

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
    /// A reachable state has no successor, and the search was asked to report deadlocks.
    Deadlock,
    /// The specification (its successor function, an invariant, a mapping) panicked: the trace
    /// ends at the state whose expansion panicked, and the detail gives the panic's message.
    Panic,
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
    /// Why the search stopped before exploring every state, if it did (a memory limit, a
    /// level limit); a violation is reported separately.
    pub stopped: Option<String>,
}

impl Stats {
    /// The actions that no explored state enabled (none generated a successor), in the
    /// specification's order. After a complete search, each is dead at these bounds: a guard
    /// that can never hold here, or bounds too small to reach it. Either way every check that
    /// passed says nothing about that action.
    pub fn never_enabled(&self) -> Vec<&'static str> {
        self.coverage
            .iter()
            .filter(|c| c.generated == 0)
            .map(|c| c.action)
            .collect()
    }

    /// Whether a complete search reached no state beyond the initial ones: every invariant was
    /// checked on the initial states only, so a pass means next to nothing.
    pub fn vacuous(&self) -> bool {
        self.depth <= 1 && self.queue_left == 0 && self.stopped.is_none()
    }
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

/// Why a search could not run or could not go on (bad options, a disk error, a checkpoint that
/// does not match).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchError(pub String);

impl std::fmt::Display for SearchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SearchError {}

/// A violation found during a level, identified by fingerprints so it can be replayed.
#[derive(Clone, Debug)]
struct Found {
    parent: Fingerprint,
    /// The level the parent is at (0 for an initial state, which has none).
    level: u32,
    target: Fingerprint,
    failure: Failure,
    /// A failed state check on a stored state: only the thread that stored it checked it, so
    /// `parent` is whichever parent got there first; the level's final (smallest) parent is
    /// read from the visited set once the level is done.
    parent_from_visited: bool,
    /// The failure is at the parent itself (a deadlock, a panic while expanding it): the trace
    /// ends there, and `target` is the parent.
    at_parent: bool,
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
    /// A failure of the state being expanded (fingerprint `parent`, at `level`) itself.
    fn at(parent: Fingerprint, level: u32, failure: Failure) -> Found {
        Found {
            parent,
            level,
            target: parent,
            failure,
            parent_from_visited: false,
            at_parent: true,
        }
    }
    fn keep_smaller(best: &mut Option<Found>, candidate: Found) {
        if best.as_ref().is_none_or(|b| candidate.key() < b.key()) {
            *best = Some(candidate);
        }
    }
}

/// Appends the encoding of the state the search stores for `state`: its canonical form under
/// symmetry, else itself. Its fingerprint identifies the state in the visited set.
fn pack_view<M: Spec>(spec: &M, symmetry: bool, state: &M::State, out: &mut Vec<u8>) {
    if symmetry {
        spec.canonical(state).pack(out);
    } else {
        state.pack(out);
    }
}

/// The fingerprint of [`pack_view`]'s encoding.
fn view_of<M: Spec>(spec: &M, symmetry: bool, state: &M::State) -> Fingerprint {
    let mut packed = Vec::with_capacity(128);
    pack_view(spec, symmetry, state, &mut packed);
    fingerprint_bytes(&packed)
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

/// The position of each action in the specification's action names, for per-action coverage.
///
/// An action's name is a `&'static str`, and each distinct address seen is looked up by
/// string once and then remembered, so the lookup per successor compares a few pointers
/// instead of strings (the same name may live at several addresses).
struct ActionIndex<'s, M: Spec> {
    spec: &'s M,
    names: &'static [&'static str],
    seen: Vec<((*const u8, usize), usize)>,
}

impl<'s, M: Spec> ActionIndex<'s, M> {
    fn new(spec: &'s M) -> Self {
        ActionIndex {
            spec,
            names: spec.action_names(),
            seen: Vec::new(),
        }
    }

    #[inline]
    fn of(&mut self, action: &M::Action) -> usize {
        let name = action.name();
        let address = (name.as_ptr(), name.len());
        if let Some(&(_, i)) = self.seen.iter().find(|(a, _)| *a == address) {
            return i;
        }
        let i = self
            .names
            .iter()
            .position(|n| *n == name)
            .unwrap_or_else(|| {
                panic!(
                    "action {name} is not in {}'s action names",
                    self.spec.name()
                )
            });
        self.seen.push((address, i));
        i
    }
}

/// Appends a queue record: the length of the state's encoding, and the encoding. The state's
/// fingerprint (the parent of its successors) is not stored: it is that of the encoding.
fn push_record(out: &mut Vec<u8>, packed: &[u8]) {
    let len = u16::try_from(packed.len()).expect("a packed state is under 64 KiB");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(packed);
}

/// Reads the next queue record from `input`: the state's encoding and the state.
fn read_record<'a, S: Pack>(input: &mut &'a [u8]) -> Option<(&'a [u8], S)> {
    let len = u16::from_le_bytes(input.get(..2)?.try_into().ok()?) as usize;
    let packed = input.get(2..2 + len)?;
    let mut rest = packed;
    let state = S::unpack(&mut rest).filter(|_| rest.is_empty())?;
    *input = &input[2 + len..];
    Some((packed, state))
}

/// The parent links of the level just built, moved from the visited set's fresh lists into a
/// list of blocks; and how many states the level has.
fn parent_blocks(
    visited: &Visited,
    budget: &Budget,
    dir: &SpillDir,
) -> std::io::Result<(Blocks, u64)> {
    let mut blocks = Blocks::new("parents");
    let count = visited.drain_fresh(|links| blocks.push(links, budget, dir))?;
    Ok((blocks, count))
}

/// The resident memory of this process, in bytes (Linux; `None` elsewhere).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A search between levels: everything a checkpoint saves.
pub(crate) struct Search {
    /// The visited set.
    pub(crate) visited: Visited,
    /// The states of level `depth`, still to be explored.
    pub(crate) frontier: Blocks,
    /// How many states `frontier` holds.
    pub(crate) frontier_states: u64,
    /// `parents[l - 1]`: the parent links of the states first found at level `l`.
    pub(crate) parents: Vec<Blocks>,
    /// The checkpoint files of the levels whose parent links are already saved.
    pub(crate) parent_files: Vec<checkpoint::FileRecord>,
    /// Levels explored or being explored (initial states are level 1).
    pub(crate) depth: usize,
    pub(crate) generated: u64,
    pub(crate) distinct: u64,
    /// Per action: (generated, distinct).
    pub(crate) coverage: Vec<(u64, u64)>,
    /// Seconds spent before this process took over (on resume).
    pub(crate) seconds_before: f64,
    /// The files of the latest checkpoint that the next one replaces.
    pub(crate) checkpoint_files: Vec<PathBuf>,
}

fn disk_error(dir: &SpillDir) -> impl Fn(std::io::Error) -> SearchError + '_ {
    move |e| {
        SearchError(format!(
            "cannot use the search's directory {}: {e}",
            dir.path().display()
        ))
    }
}

/// Removes a checkpoint directory's leftovers when dropped (see [`checkpoint::tidy`]).
struct Tidy(PathBuf);

impl Drop for Tidy {
    fn drop(&mut self) {
        checkpoint::tidy(&self.0);
    }
}

fn same_dir(a: &std::path::Path, b: &std::path::Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Refuses a checkpoint directory the search must not write to: one that holds a checkpoint
/// (unless `force`, which discards it, or it is the one resumed), or another than the one
/// resumed.
fn claim_checkpoint_dir(options: &Options) -> Result<(), SearchError> {
    match (&options.resume, &options.checkpoint) {
        (Some(from), Some(to)) if !same_dir(from, to) => Err(SearchError(format!(
            "--resume {} --checkpoint {}: a resumed search keeps checkpointing where it resumes \
             from; leave out --checkpoint (to keep {} as it is, copy it and resume the copy)",
            from.display(),
            to.display(),
            from.display()
        ))),
        (None, Some(to)) if to.join(checkpoint::META).exists() => {
            if options.force {
                checkpoint::discard(to).map_err(|e| {
                    SearchError(format!(
                        "--force: cannot remove the checkpoint in {}: {e}",
                        to.display()
                    ))
                })
            } else {
                Err(SearchError(format!(
                    "--checkpoint {}: it already holds {}; continue it with --resume {}, or \
                     pass --force to replace it",
                    to.display(),
                    checkpoint::describe(to),
                    to.display()
                )))
            }
        }
        _ => Ok(()),
    }
}

/// Explores every reachable state breadth-first and checks the observer on every initial
/// state, state and transition. Stops after the first level that contains a violation, or
/// when [`Options`] say to stop (memory, a level limit).
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
/// use refinement_tests::{explore, FailureKind, Invariants, Options};
/// // `Counter { max }` counts from 0 to `max`, with the invariant AtMostMax.
/// let spec = Counter { max: 3 };
/// let outcome = explore(&spec, &Invariants::of(&spec), &Options::quiet(1, false)).unwrap();
/// assert!(outcome.violation.is_none());
/// assert_eq!((outcome.stats.distinct, outcome.stats.depth), (4, 4));
///
/// // A spec whose invariant breaks: the shortest counterexample, action by action.
/// struct Overflowing(Counter);
/// impl Spec for Overflowing {
///     type State = u8;
///     type Action = Tick;
///     fn name(&self) -> &'static str { "overflowing" }
///     fn params(&self) -> Params { Params::default() }
///     fn action_names(&self) -> &'static [&'static str] { &["Tick"] }
///     fn init_states(&self) -> Vec<u8> { vec![0] }
///     fn next_states(&self, s: &u8, out: &mut Vec<(Tick, u8)>) {
///         if *s <= self.0.max { out.push((Tick, s + 1)); } // one tick too many
///     }
///     fn invariants(&self) -> Vec<Invariant<Self>> {
///         vec![Invariant { name: "AtMostMax", holds: |m, s| *s <= m.0.max }]
///     }
/// }
/// let spec = Overflowing(Counter { max: 2 });
/// let outcome = explore(&spec, &Invariants::of(&spec), &Options::quiet(1, false)).unwrap();
/// let counterexample = outcome.violation.expect("AtMostMax breaks");
/// assert_eq!(counterexample.failure.kind, FailureKind::Invariant);
/// assert_eq!(counterexample.failure.property, "AtMostMax");
/// assert_eq!(counterexample.actions(), ["Tick()", "Tick()", "Tick()"]);
/// ```
pub fn explore<M: Spec, O: Observer<M>>(
    spec: &M,
    observer: &O,
    options: &Options,
) -> Result<Outcome<M>, SearchError> {
    check_options(spec, options)?;
    let start = Instant::now();
    // The directory is held before anything in it is judged or changed, and released last (a
    // resumed directory that does not exist is left to `load` to refuse).
    let checkpoint_dir = options.resume.as_ref().or(options.checkpoint.as_ref());
    let _lock = match checkpoint_dir {
        Some(path) if options.resume.is_none() || path.is_dir() => {
            Some(checkpoint::lock(path).map_err(SearchError)?)
        }
        _ => None,
    };
    claim_checkpoint_dir(options)?;
    // A checkpoint is loaded (and verified) before anything is created: a directory that is
    // not a checkpoint is refused as it is.
    let loaded = match &options.resume {
        Some(path) => Some(checkpoint::load(spec, options, path)?),
        None => None,
    };
    let dir = match checkpoint_dir {
        Some(path) => SpillDir::kept(path),
        None => SpillDir::temporary(),
    }
    .map_err(|e| SearchError(format!("cannot create the search's directory: {e}")))?;
    // On every way out of the search, the checkpoint directory keeps only its checkpoint's
    // files (the spill files of lists go with them when they are dropped, before this guard).
    let _tidy = checkpoint_dir.map(|path| Tidy(path.clone()));
    let budget = Budget::new(options.queue_memory);
    let mut found: Option<Found> = None;
    let mut search = match loaded {
        Some(search) => search,
        None => first_level(spec, observer, options.symmetry, &budget, &dir, &mut found)?,
    };
    let progress = Progress::new(&search);
    std::thread::scope(|scope| {
        // Dropped when the levels end, or while unwinding from a panic: either way the monitor
        // stops, and the scope does not wait for it forever.
        let _end_of_search = monitor::start(scope, &progress, options, checkpoint_dir.is_some());
        let mut run = Run {
            spec,
            observer,
            options,
            budget: &budget,
            dir: &dir,
            progress: &progress,
            checkpoint_dir,
            start,
            last_checkpoint: Instant::now(),
        };
        run.levels(&mut search, &mut found)
    })?;
    let violation = found
        .map(|f| trace::rebuild(spec, observer, options.symmetry, &search.parents, f))
        .transpose()
        .map_err(disk_error(&dir))?;
    let stopped = progress.stop_reason.into_inner().expect("stop reason");
    Ok(Outcome {
        stats: search_stats(spec, options, &search, stopped, start),
        violation,
    })
}

/// Refuses options the search cannot run with.
fn check_options<M: Spec>(spec: &M, options: &Options) -> Result<(), SearchError> {
    if options.symmetry && !spec.has_symmetry() {
        return Err(SearchError(format!(
            "layer {} has no symmetry reduction; run it without --symmetry",
            spec.name()
        )));
    }
    if !(1..=MAX_THREADS).contains(&options.threads) {
        return Err(SearchError(format!(
            "--threads {}: a search takes 1 to {MAX_THREADS} threads (this machine has {} cores)",
            options.threads,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        )));
    }
    Ok(())
}

/// Level 1: the initial states, checked, and those within the constraint stored and queued.
fn first_level<M: Spec, O: Observer<M>>(
    spec: &M,
    observer: &O,
    symmetry: bool,
    budget: &Budget,
    dir: &SpillDir,
    found: &mut Option<Found>,
) -> Result<Search, SearchError> {
    let visited = Visited::new();
    let mut generated = 0u64;
    let mut block = Vec::new();
    let mut packed = Vec::new();
    for init in spec.init_states() {
        generated += 1;
        packed.clear();
        pack_view(spec, symmetry, &init, &mut packed);
        let target = fingerprint_bytes(&packed);
        if let Err(failure) = observer.check_init(spec, &init) {
            let violation = Found {
                parent: 0,
                level: 0,
                target,
                failure,
                parent_from_visited: false,
                at_parent: false,
            };
            Found::keep_smaller(found, violation);
        } else if spec.within_constraint(&init)
            && visited
                .insert(target, 0, 1)
                .map_err(|_| level_too_large(1))?
        {
            push_record(&mut block, &packed);
        }
    }
    let (links, fresh) = parent_blocks(&visited, budget, dir).map_err(disk_error(dir))?;
    let mut frontier = Blocks::new("queue");
    frontier.push(block, budget, dir).map_err(disk_error(dir))?;
    Ok(Search {
        visited,
        frontier,
        frontier_states: fresh,
        parents: vec![links],
        parent_files: Vec::new(),
        depth: usize::from(fresh > 0),
        generated,
        distinct: fresh,
        coverage: vec![(0, 0); spec.action_names().len()],
        seconds_before: 0.0,
        checkpoint_files: Vec::new(),
    })
}

/// The statistics of a search that ended (`stopped` says why, if it ended early).
fn search_stats<M: Spec>(
    spec: &M,
    options: &Options,
    search: &Search,
    stopped: Option<String>,
    start: Instant,
) -> Stats {
    let coverage = spec
        .action_names()
        .iter()
        .zip(&search.coverage)
        .map(|(action, &(generated, distinct))| ActionCoverage {
            action,
            generated,
            distinct,
        })
        .collect();
    Stats {
        generated: search.generated,
        distinct: search.distinct,
        depth: search.depth,
        queue_left: search.frontier_states,
        seconds: search.seconds_before + start.elapsed().as_secs_f64(),
        coverage,
        collision_probability: collision_probability(search.distinct, COMPARED_BITS),
        threads: options.threads,
        symmetry: options.symmetry,
        stopped,
    }
}

/// The failure of a state with no successor (`--deadlock`).
fn deadlock_failure() -> Failure {
    Failure {
        kind: FailureKind::Deadlock,
        property: "Deadlock".into(),
        detail: "deadlock reached: no action is enabled in this state (a state with no \
                 successor, reported because deadlock checking is on)"
            .into(),
    }
}

/// The failure of a specification that panicked `while_doing` something with a state.
fn panic_failure<M: Spec>(spec: &M, while_doing: &str, caught: &Caught) -> Failure {
    Failure {
        kind: FailureKind::Panic,
        property: "panic".into(),
        detail: format!(
            "the specification {} panicked while {while_doing}: {caught}",
            spec.name()
        ),
    }
}

fn level_too_large(level: u32) -> SearchError {
    SearchError(format!(
        "level {level} holds more new states than the visited set can index (about a billion \
         per level)"
    ))
}
