//! The level loop of the breadth-first search: each level is explored by the workers, then
//! closed (its parent links kept, the next level's queue made the frontier), then checkpointed
//! when due; the loop ends at a violation, an empty level, a stop (memory, interrupt,
//! `--stop-after-level`) or an error.

use super::monitor::Progress;
use super::worker::{Level, WorkerResult};
use super::{disk_error, parent_blocks, Found, Observer, Options, Search, SearchError};
use crate::checkpoint;
use crate::spill::{Blocks, Budget, SharedBlocks, SpillDir};
use spec_core::Spec;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// A search's run through its levels, in one process.
pub(super) struct Run<'a, M: Spec, O> {
    pub(super) spec: &'a M,
    pub(super) observer: &'a O,
    pub(super) options: &'a Options,
    pub(super) budget: &'a Budget,
    pub(super) dir: &'a SpillDir,
    pub(super) progress: &'a Progress,
    pub(super) checkpoint_dir: Option<&'a PathBuf>,
    /// When this process began the search.
    pub(super) start: Instant,
    pub(super) last_checkpoint: Instant,
}

impl<M: Spec, O: Observer<M>> Run<'_, M, O> {
    /// Explores level after level until the search ends; a violation is left in `found`, the
    /// reason of an early stop in the progress's `stop_reason`.
    pub(super) fn levels(
        &mut self,
        search: &mut Search,
        found: &mut Option<Found>,
    ) -> Result<(), SearchError> {
        while found.is_none() && search.frontier_states > 0 {
            if self.past_last_level(search) {
                let last = search.depth - 1;
                let why = format!("stopped after level {last} (--stop-after-level)");
                self.progress.say_why(why);
                break;
            }
            let next = self.explore_level(search, found)?;
            if self.progress.stopping() {
                count_unfinished_level(search, self.progress);
                break;
            }
            self.close_level(search, next)?;
            if self.after_level(search, found)? {
                break;
            }
        }
        Ok(())
    }

    fn past_last_level(&self, search: &Search) -> bool {
        self.options
            .stop_after_level
            .is_some_and(|last| search.depth > last)
    }

    /// Explores the frontier with the workers and returns the next level's queue.
    fn explore_level(
        &self,
        search: &mut Search,
        found: &mut Option<Found>,
    ) -> Result<Blocks, SearchError> {
        self.progress
            .begin_level(search.depth, search.frontier_states);
        let next_level = SharedBlocks::new("queue", self.budget, self.dir);
        let level = Level {
            spec: self.spec,
            observer: self.observer,
            symmetry: self.options.symmetry,
            deadlock: self.options.deadlock,
            level: search.depth as u32,
            frontier: &search.frontier,
            visited: &search.visited,
            next_level: &next_level,
            progress: self.progress,
            cursor: AtomicUsize::new(0),
        };
        let (results, mut error) = run_workers(&level, self.options.threads);
        for result in results {
            merge(search, result, found, &mut error);
        }
        if let Some(e) = error {
            return Err(e);
        }
        let next = next_level.finish().map_err(disk_error(self.dir))?;
        if let Some(f) = found.as_mut().filter(|f| f.parent_from_visited) {
            f.parent = search
                .visited
                .fresh_parent(f.target)
                .expect("a stored failing state was first found in this level");
        }
        Ok(next)
    }

    /// Keeps the level's parent links and makes `next` the frontier.
    fn close_level(&self, search: &mut Search, next: Blocks) -> Result<(), SearchError> {
        let (links, fresh) =
            parent_blocks(&search.visited, self.budget, self.dir).map_err(disk_error(self.dir))?;
        search.distinct += fresh;
        search.parents.push(links);
        search.frontier.clear(self.budget);
        search.frontier = next;
        search.frontier_states = self.progress.next_len.load(Ordering::Relaxed);
        if search.frontier_states > 0 {
            search.depth += 1;
        }
        Ok(())
    }

    /// Saves a checkpoint when one is due (every `--checkpoint-every`, and before stopping), and
    /// says whether to stop: after an interrupt, between levels.
    fn after_level(
        &mut self,
        search: &mut Search,
        found: &Option<Found>,
    ) -> Result<bool, SearchError> {
        let interrupted = self
            .options
            .interrupt
            .as_ref()
            .is_some_and(|count| count.load(Ordering::Relaxed) > 0);
        let going_on = found.is_none() && search.frontier_states > 0;
        let stopping_next = interrupted || self.past_last_level(search);
        let due = stopping_next || self.last_checkpoint.elapsed() >= self.options.checkpoint_every;
        if let Some(path) = self.checkpoint_dir.filter(|_| going_on && due) {
            self.save(search, path)?;
        }
        if interrupted && going_on {
            let saved = match self.checkpoint_dir {
                Some(path) => format!(" (checkpoint saved in {})", path.display()),
                None => String::new(),
            };
            let last = search.depth - 1;
            self.progress
                .say_why(format!("interrupted after level {last}{saved}"));
            return Ok(true);
        }
        Ok(false)
    }

    /// Saves a checkpoint in `path`, then removes the files of the one it replaces.
    fn save(&mut self, search: &mut Search, path: &Path) -> Result<(), SearchError> {
        // The checkpoint records the time spent so far; this process keeps counting from
        // `start`.
        let so_far = self.start.elapsed().as_secs_f64();
        search.seconds_before += so_far;
        let saved = checkpoint::save(self.spec, self.options, search, path, self.budget);
        search.seconds_before -= so_far;
        let files = saved.map_err(disk_error(self.dir))?;
        for old in search.checkpoint_files.drain(..) {
            if !files.contains(&old) {
                let _ = std::fs::remove_file(old);
            }
        }
        search.checkpoint_files = files;
        self.last_checkpoint = Instant::now();
        Ok(())
    }
}

/// Runs the level's workers: this thread is one of them, and starts at once while the others
/// are being spawned. A worker that cannot be spawned (the system is out of threads) stops the
/// level with an error; the others finish their blocks.
fn run_workers<M: Spec, O: Observer<M>>(
    level: &Level<'_, M, O>,
    threads: usize,
) -> (Vec<WorkerResult>, Option<SearchError>) {
    std::thread::scope(|workers| {
        let mut handles = Vec::new();
        let mut error = None;
        for _ in 1..threads {
            match std::thread::Builder::new().spawn_scoped(workers, || level.work()) {
                Ok(handle) => handles.push(handle),
                Err(e) => {
                    level.progress.stop.store(true, Ordering::Relaxed);
                    let why = format!("cannot start a worker thread: {e}; try fewer --threads");
                    error = Some(SearchError(why));
                    break;
                }
            }
        }
        let mut results = vec![level.work()];
        // The specification's panics are caught in the worker; one that escapes is a bug of
        // the engine, and goes on unwinding here.
        results.extend(handles.into_iter().map(|h| {
            h.join()
                .unwrap_or_else(|payload| std::panic::resume_unwind(payload))
        }));
        (results, error)
    })
}

/// Adds a worker's counts to the search's, keeping the smallest violation and the first error.
fn merge(
    search: &mut Search,
    result: WorkerResult,
    found: &mut Option<Found>,
    error: &mut Option<SearchError>,
) {
    search.generated += result.generated;
    for (total, (g, d)) in search.coverage.iter_mut().zip(result.coverage) {
        total.0 += g;
        total.1 += d;
    }
    if let Some(f) = result.found {
        Found::keep_smaller(found, f);
    }
    if let Some(e) = result.error {
        error.get_or_insert(SearchError(e));
    }
}

/// A level left unfinished (the search stops in the middle): its new states stay counted and
/// queued with the states not yet expanded, but the search ends here.
fn count_unfinished_level(search: &mut Search, progress: &Progress) {
    let fresh = search.visited.fresh_len();
    search.distinct += fresh;
    let taken = progress.taken.load(Ordering::Relaxed);
    search.frontier_states -= taken.min(search.frontier_states);
    search.frontier_states += fresh;
}
