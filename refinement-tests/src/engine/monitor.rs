//! The search's shared counters and the thread that watches them: it prints progress, stops
//! the search before it runs out of memory, and turns an interrupt (Ctrl-C, SIGTERM) into a
//! stop at the right place. The workers only add to counters and read one flag.

use super::{resident_bytes, Options, Search};
use crate::report::thousands;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread::{Scope, Thread};
use std::time::{Duration, Instant};

/// What the workers, the level loop and the monitor share.
pub(super) struct Progress {
    /// States generated so far, over all levels.
    pub(super) generated: AtomicU64,
    /// Distinct states found so far.
    pub(super) distinct: AtomicU64,
    /// States of the current level taken by a worker.
    pub(super) taken: AtomicU64,
    /// States in the current level.
    pub(super) level_len: AtomicU64,
    /// New states found for the next level.
    pub(super) next_len: AtomicU64,
    /// The level being explored.
    pub(super) level: AtomicUsize,
    /// Set when the workers must stop (memory, interrupt, an error); the reason is in
    /// `stop_reason` unless it is an error.
    pub(super) stop: AtomicBool,
    pub(super) stop_reason: Mutex<Option<String>>,
    /// Set when the search is over: the monitor ends.
    done: AtomicBool,
}

impl Progress {
    pub(super) fn new(search: &Search) -> Self {
        Progress {
            generated: AtomicU64::new(search.generated),
            distinct: AtomicU64::new(search.distinct),
            taken: AtomicU64::new(0),
            level_len: AtomicU64::new(0),
            next_len: AtomicU64::new(0),
            level: AtomicUsize::new(search.depth),
            stop: AtomicBool::new(false),
            stop_reason: Mutex::new(None),
            done: AtomicBool::new(false),
        }
    }

    /// Whether the workers have been told to stop.
    #[inline]
    pub(super) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Tells the workers to stop, for `reason`, unless they already were.
    pub(super) fn stop_because(&self, reason: impl FnOnce() -> String) {
        if !self.stop.swap(true, Ordering::Relaxed) {
            self.say_why(reason());
        }
    }

    /// Records why the search ends early.
    pub(super) fn say_why(&self, reason: String) {
        *self.stop_reason.lock().expect("stop reason") = Some(reason);
    }

    /// Starts the counters of level `depth` with `states` states.
    pub(super) fn begin_level(&self, depth: usize, states: u64) {
        self.taken.store(0, Ordering::Relaxed);
        self.next_len.store(0, Ordering::Relaxed);
        self.level_len.store(states, Ordering::Relaxed);
        self.level.store(depth, Ordering::Relaxed);
    }

    /// Counts a block a worker has expanded.
    #[inline]
    pub(super) fn add_block(&self, states: u64, generated: u64, new: u64) {
        self.taken.fetch_add(states, Ordering::Relaxed);
        self.generated.fetch_add(generated, Ordering::Relaxed);
        self.distinct.fetch_add(new, Ordering::Relaxed);
        self.next_len.fetch_add(new, Ordering::Relaxed);
    }
}

/// Tells the monitor thread that the search is over, when dropped: at the end of the search, and
/// also when a panic unwinds out of it, so that the scope that joins the monitor never waits for
/// a thread that waits for a flag nobody will set.
pub(super) struct EndOfSearch<'a> {
    done: &'a AtomicBool,
    monitor: Option<Thread>,
}

impl Drop for EndOfSearch<'_> {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Release);
        if let Some(monitor) = &self.monitor {
            monitor.unpark();
        }
    }
}

/// Starts the monitor in `scope` if there is anything to watch (progress, a memory limit,
/// interrupts). Keep the returned guard until the search ends.
pub(super) fn start<'scope>(
    scope: &'scope Scope<'scope, '_>,
    progress: &'scope Progress,
    options: &'scope Options,
    checkpointing: bool,
) -> EndOfSearch<'scope> {
    let watching =
        options.progress.is_some() || options.memory_limit.is_some() || options.interrupt.is_some();
    let monitor = watching.then(|| {
        scope
            .spawn(move || watch(progress, options, checkpointing))
            .thread()
            .clone()
    });
    EndOfSearch {
        done: &progress.done,
        monitor,
    }
}

/// The monitor's loop: every 50 ms (or when woken at the end), interrupts, memory, progress.
fn watch(progress: &Progress, options: &Options, checkpointing: bool) {
    let mut report = Report {
        last: Instant::now(),
        last_generated: progress.generated.load(Ordering::Relaxed),
    };
    loop {
        // Woken early when the search ends, so that it never waits for this thread.
        std::thread::park_timeout(Duration::from_millis(50));
        if progress.done.load(Ordering::Acquire) {
            break;
        }
        check_interrupts(progress, options, checkpointing);
        check_memory(progress, options);
        if let Some(every) = options.progress {
            report.every(every, progress);
        }
    }
}

/// An interrupt: a checkpointing search finishes its level (the level loop saves and stops);
/// otherwise, or at a second interrupt, the workers stop at once.
fn check_interrupts(progress: &Progress, options: &Options, checkpointing: bool) {
    let interrupts = options
        .interrupt
        .as_ref()
        .map_or(0, |count| count.load(Ordering::Relaxed));
    if interrupts >= 2 || (interrupts == 1 && !checkpointing) {
        progress.stop_because(|| {
            format!(
                "interrupted during level {}; the counts are those of an unfinished level{}",
                progress.level.load(Ordering::Relaxed),
                if checkpointing {
                    " (the last checkpoint saved, if any, is where --resume goes on)"
                } else {
                    ""
                }
            )
        });
    }
}

/// Stops the workers when the process's resident memory passes `--memory-limit`.
fn check_memory(progress: &Progress, options: &Options) {
    if let (Some(limit), Some(rss)) = (options.memory_limit, resident_bytes()) {
        if rss > limit {
            progress.stop_because(|| {
                format!(
                    "stopped before running out of memory: {} MiB resident, over the limit of \
                     {} MiB (--memory-limit); the counts are those of an unfinished level",
                    rss >> 20,
                    limit >> 20
                )
            });
        }
    }
}

/// Progress lines on standard error, in TLC's words.
struct Report {
    last: Instant,
    last_generated: u64,
}

impl Report {
    fn every(&mut self, every: Duration, progress: &Progress) {
        if self.last.elapsed() < every {
            return;
        }
        let generated = progress.generated.load(Ordering::Relaxed);
        let rate = (generated - self.last_generated) as f64 / self.last.elapsed().as_secs_f64();
        let left_in_level = progress
            .level_len
            .load(Ordering::Relaxed)
            .saturating_sub(progress.taken.load(Ordering::Relaxed));
        eprintln!(
            "Progress({}): {} states generated ({}/s), {} distinct states found, {} states left on queue.",
            progress.level.load(Ordering::Relaxed),
            thousands(generated),
            thousands(rate as u64),
            thousands(progress.distinct.load(Ordering::Relaxed)),
            thousands(left_in_level + progress.next_len.load(Ordering::Relaxed)),
        );
        self.last = Instant::now();
        self.last_generated = generated;
    }
}
