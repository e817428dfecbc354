//! A worker of one level: it takes blocks of the level's queued states, expands each state, and
//! for each successor counts it (with its copies), checks the step and, when the successor is
//! new, the state, and queues it for the next level. Several workers share a level; they meet
//! only in the visited set, the next level's queue and the progress counters.

use super::monitor::Progress;
use super::{
    deadlock_failure, level_too_large, pack_view, panic_failure, push_record, read_record, view_of,
    ActionIndex, Found, Observer,
};
use crate::caught::catching;
use crate::fingerprint::{fingerprint_bytes, Fingerprint};
use crate::spill::{Blocks, SharedBlocks, BLOCK_BYTES};
use crate::visited::Visited;
use spec_core::Spec;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What one worker did in one level.
pub(super) struct WorkerResult {
    pub(super) generated: u64,
    /// Per action: (generated, distinct).
    pub(super) coverage: Vec<(u64, u64)>,
    pub(super) found: Option<Found>,
    pub(super) error: Option<String>,
}

/// One level being explored: what its workers read and write.
pub(super) struct Level<'a, M: Spec, O> {
    pub(super) spec: &'a M,
    pub(super) observer: &'a O,
    pub(super) symmetry: bool,
    /// Whether a state with no successor is a violation (`--deadlock`).
    pub(super) deadlock: bool,
    /// The level's number (initial states are level 1).
    pub(super) level: u32,
    pub(super) frontier: &'a Blocks,
    pub(super) visited: &'a Visited,
    pub(super) next_level: &'a SharedBlocks<'a>,
    pub(super) progress: &'a Progress,
    /// The next block of `frontier` to take.
    pub(super) cursor: AtomicUsize,
}

impl<M: Spec, O: Observer<M>> Level<'_, M, O> {
    /// One worker: takes blocks of the level until none is left or the search stops.
    pub(super) fn work(&self) -> WorkerResult {
        let mut worker = Worker::new(self);
        while !self.progress.stopping() {
            let i = self.cursor.fetch_add(1, Ordering::Relaxed);
            if i >= self.frontier.len() {
                break;
            }
            match self.frontier.get(i) {
                Ok(block) => worker.expand_block(&block),
                Err(e) => {
                    worker.fail(format!("cannot read the search queue: {e}"));
                    break;
                }
            }
        }
        self.next_level.hand_over(&mut worker.out);
        worker.result
    }
}

/// The counts of one block, added to the shared counters once per block.
#[derive(Default)]
struct BlockCounts {
    states: u64,
    generated: u64,
    new: u64,
}

/// A worker's result so far and its buffers, reused from state to state.
struct Worker<'l, 'a, M: Spec, O> {
    level: &'l Level<'a, M, O>,
    result: WorkerResult,
    action_index: ActionIndex<'a, M>,
    /// The next level's states found, packed, until a block is full.
    out: Vec<u8>,
    successors: Vec<(M::Action, M::State)>,
    /// The successors' encodings, one after another, and per successor its fingerprint and the
    /// end of its encoding (`None` outside the constraint).
    packed: Vec<u8>,
    views: Vec<Option<(Fingerprint, usize)>>,
}

impl<'l, 'a, M: Spec, O: Observer<M>> Worker<'l, 'a, M, O> {
    fn new(level: &'l Level<'a, M, O>) -> Self {
        Worker {
            level,
            result: WorkerResult {
                generated: 0,
                coverage: vec![(0, 0); level.spec.action_names().len()],
                found: None,
                error: None,
            },
            action_index: ActionIndex::new(level.spec),
            out: Vec::with_capacity(BLOCK_BYTES + 512),
            successors: Vec::new(),
            packed: Vec::new(),
            views: Vec::new(),
        }
    }

    /// Ends the search with an error (the other workers finish their blocks).
    fn fail(&mut self, error: String) {
        self.result.error = Some(error);
        self.level.progress.stop.store(true, Ordering::Relaxed);
    }

    fn expand_block(&mut self, block: &[u8]) {
        let mut input = block;
        let mut counts = BlockCounts::default();
        while !input.is_empty() {
            let Some((parent_packed, state)) = read_record::<M::State>(&mut input) else {
                self.fail("the search queue holds a corrupt record".into());
                break;
            };
            counts.states += 1;
            self.expand_state(fingerprint_bytes(parent_packed), &state, &mut counts);
        }
        self.result.generated += counts.generated;
        self.level
            .progress
            .add_block(counts.states, counts.generated, counts.new);
    }

    /// Expands one state; a panic of the specification is a violation at that state.
    fn expand_state(&mut self, parent: Fingerprint, state: &M::State, counts: &mut BlockCounts) {
        // The successor being handled when the specification panics, if any.
        let mut handling: Option<usize> = None;
        let expanded = catching(|| self.successors_of(parent, state, &mut handling, counts));
        if let Err(caught) = expanded {
            let while_doing = handling.and_then(|k| self.successors.get(k)).map_or(
                "computing the successors of this state".to_string(),
                |(action, _)| format!("handling its successor by {action}"),
            );
            let failure = panic_failure(self.level.spec, &while_doing, &caught);
            Found::keep_smaller(
                &mut self.result.found,
                Found::at(parent, self.level.level, failure),
            );
        }
    }

    fn successors_of(
        &mut self,
        parent: Fingerprint,
        state: &M::State,
        handling: &mut Option<usize>,
        counts: &mut BlockCounts,
    ) {
        let level = self.level;
        self.successors.clear();
        level.spec.next_states(state, &mut self.successors);
        if level.deadlock && self.successors.is_empty() {
            let found = Found::at(parent, level.level, deadlock_failure());
            Found::keep_smaller(&mut self.result.found, found);
        }
        self.fingerprint_successors(handling);
        let mut start = 0;
        for k in 0..self.successors.len() {
            *handling = Some(k);
            start = self.handle_successor(parent, state, k, start, counts);
        }
    }

    /// Fingerprints the whole batch first and prefetches the visited-set slots, so that the
    /// cache misses of the inserts overlap.
    #[inline]
    fn fingerprint_successors(&mut self, handling: &mut Option<usize>) {
        let level = self.level;
        self.packed.clear();
        self.views.clear();
        for (k, (_, next)) in self.successors.iter().enumerate() {
            *handling = Some(k);
            let view = level.spec.within_constraint(next).then(|| {
                let start = self.packed.len();
                pack_view(level.spec, level.symmetry, next, &mut self.packed);
                let target = fingerprint_bytes(&self.packed[start..]);
                level.visited.prefetch(target);
                (target, self.packed.len())
            });
            self.views.push(view);
        }
    }

    /// Counts, stores and checks successor `k`, whose encoding starts at `start` in `packed`;
    /// returns where the next one's starts.
    #[inline]
    fn handle_successor(
        &mut self,
        parent: Fingerprint,
        state: &M::State,
        k: usize,
        start: usize,
        counts: &mut BlockCounts,
    ) -> usize {
        let level = self.level;
        let (action, next) = &self.successors[k];
        let view = self.views[k];
        let a = self.action_index.of(action);
        // TLC generates a step once per witness; the copies are equal, so they are counted
        // here and checked once below.
        let copies = level.spec.copies(state, action);
        counts.generated = counts.generated.saturating_add(copies);
        let coverage = &mut self.result.coverage[a];
        coverage.0 = coverage.0.saturating_add(copies);
        let is_new = match view {
            Some((target, _)) => match level.visited.insert(target, parent, level.level + 1) {
                Ok(is_new) => is_new,
                Err(_) => {
                    self.result.error = Some(level_too_large(level.level + 1).0);
                    level.progress.stop.store(true, Ordering::Relaxed);
                    false
                }
            },
            None => false,
        };
        let found = &mut self.result.found;
        check(level, found, parent, state, (action, next), view, is_new);
        let Some((_, end)) = view else {
            return start;
        };
        if is_new {
            self.result.coverage[a].1 += 1;
            counts.new += 1;
            push_record(&mut self.out, &self.packed[start..end]);
            if self.out.len() >= BLOCK_BYTES {
                level.next_level.hand_over(&mut self.out);
            }
        }
        end
    }
}

/// Checks the step, and the next state when it is new or outside the constraint (TLC
/// checks such states but never stores them); keeps the smallest violation.
#[inline]
fn check<M: Spec, O: Observer<M>>(
    level: &Level<'_, M, O>,
    found_so_far: &mut Option<Found>,
    parent: Fingerprint,
    state: &M::State,
    (action, next): (&M::Action, &M::State),
    view: Option<(Fingerprint, usize)>,
    is_new: bool,
) {
    let (spec, observer) = (level.spec, level.observer);
    let verdict = observer
        .check_step(spec, state, action, next)
        .map_err(|failure| (failure, false))
        .and_then(|()| {
            if is_new || view.is_none() {
                observer
                    .check_state(spec, next)
                    .map_err(|failure| (failure, is_new))
            } else {
                Ok(())
            }
        });
    if let Err((failure, parent_from_visited)) = verdict {
        let target = match view {
            Some((target, _)) => target,
            None => view_of(spec, level.symmetry, next),
        };
        let found = Found {
            parent,
            level: level.level,
            target,
            failure,
            parent_from_visited,
            at_parent: false,
        };
        Found::keep_smaller(found_so_far, found);
    }
}
