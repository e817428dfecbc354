//! Checkpoints: a breadth-first search saved between two levels, so that a run of hours can be
//! stopped (or killed, or interrupted) and continued with the same final counts.
//!
//! Between levels, a search is exactly: the visited set, the queue of the next level's states,
//! the parent links of every level so far, and its counters. A checkpoint directory holds them
//! as files, and `checkpoint.json` says which files make up the latest checkpoint:
//!
//! - `visited-D.bin`: the visited set after level `D - 1` (D is the level to explore next);
//! - `frontier-D.bin`: the states of level `D`, packed ([`spec_core::Pack`]);
//! - `parents-L.bin`: the parent links of level `L` (written once, shared by later checkpoints);
//! - `checkpoint.json`: what was searched (the command, the layer or edge, the mutation, the
//!   properties checked, the bounds, symmetry, deadlock checking, the engine and format), the
//!   counters, and each file's length and checksum; and its own checksum.
//!
//! A checkpoint identifies and verifies itself: resuming it under anything that changes the
//! search is refused with a line naming what differs, and every file is checked (length,
//! checksum, and the counts it holds against the counters) before the search goes on; a
//! damaged or edited checkpoint is refused, naming the file, never resumed.
//!
//! Each checkpoint is a fresh generation: its files are new (named by the level, the shared
//! parent links excepted, which are never rewritten), `checkpoint.json` is replaced last, by a
//! rename, so a run killed while saving leaves the previous checkpoint intact; files that no
//! `checkpoint.json` refers to are removed once a newer checkpoint is complete, when a search
//! ends, and when a checkpoint is resumed.
//!
//! One search at a time uses a directory: it holds `lock` (the process id of the search) while
//! it runs, and a second search, or a `--force` that would discard the checkpoint, is refused
//! while that process lives. A lock left by a killed process is taken over.

use crate::checksum::{Checksum, Summing};
use crate::engine::{Options, Search, SearchError};
use crate::spill::{Blocks, Budget};
use crate::visited::{Visited, LINK_BYTES};
use serde::{Deserialize, Serialize};
use spec_core::Spec;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The format of the files; a checkpoint of another format is refused.
const FORMAT: &str = "refine-checkpoint-3";
/// The engine that wrote a checkpoint; a checkpoint of another engine is refused (its search
/// may count or store states differently).
const ENGINE: &str = concat!("refinement-tests ", env!("CARGO_PKG_VERSION"));
/// The file that makes a directory a checkpoint.
pub(crate) const META: &str = "checkpoint.json";

/// A file of a checkpoint: its name in the directory, length and checksum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileRecord {
    name: String,
    bytes: u64,
    checksum: String,
}

impl FileRecord {
    fn new(name: String, sum: &Checksum) -> Self {
        FileRecord {
            name,
            bytes: sum.len(),
            checksum: sum.hex(),
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Meta {
    format: String,
    engine: String,
    /// `check LAYER` or `refines LOWER UPPER` (or `explore LAYER` for a library search).
    command: String,
    mutation: Option<String>,
    /// The invariants and action properties checked.
    properties: Vec<String>,
    layer: String,
    params: String,
    symmetry: bool,
    deadlock: bool,
    actions: Vec<String>,
    depth: usize,
    frontier_states: u64,
    generated: u64,
    distinct: u64,
    coverage: Vec<(u64, u64)>,
    parent_levels: usize,
    milliseconds: u64,
    visited: FileRecord,
    frontier: FileRecord,
    parents: Vec<FileRecord>,
    /// The checksum of this file written with `checksum` empty.
    checksum: String,
}

impl Meta {
    fn own_checksum(&self) -> String {
        let mut unsigned = self.clone();
        unsigned.checksum.clear();
        let text = serde_json::to_string(&unsigned).expect("checkpoint metadata serializes");
        let mut sum = Checksum::default();
        sum.update(text.as_bytes());
        sum.hex()
    }
}

fn parents_file(level: usize) -> String {
    format!("parents-{level}.bin")
}

/// The command a search is made by, as a checkpoint records it.
fn command_of<M: Spec>(spec: &M, options: &Options) -> String {
    if options.identity.command.is_empty() {
        format!("explore {}", spec.name())
    } else {
        options.identity.command.clone()
    }
}

fn by(command: &str, mutation: Option<&str>) -> String {
    format!("`{command}` with mutation {}", mutation.unwrap_or("none"))
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "no invariant".into()
    } else {
        names.join(", ")
    }
}

/// Saves `search` (between levels) in `dir`; returns the files of this checkpoint that a later
/// checkpoint replaces.
pub(crate) fn save<M: Spec>(
    spec: &M,
    options: &Options,
    search: &mut Search,
    dir: &Path,
    budget: &Budget,
) -> std::io::Result<Vec<PathBuf>> {
    let depth = search.depth;
    let frontier = format!("frontier-{depth}.bin");
    let sum = search.frontier.persist(&dir.join(&frontier), budget)?;
    let frontier_record = FileRecord::new(frontier.clone(), &sum);
    for level in search.parent_files.len()..search.parents.len() {
        let name = parents_file(level + 1);
        let sum = search.parents[level].persist(&dir.join(&name), budget)?;
        search.parent_files.push(FileRecord::new(name, &sum));
    }
    let visited = format!("visited-{depth}.bin");
    let partial = dir.join(format!("{visited}.partial"));
    let sum = {
        let file = std::fs::File::create(&partial)?;
        let mut out = BufWriter::with_capacity(
            1 << 20,
            Summing {
                inner: file,
                sum: Checksum::default(),
            },
        );
        search.visited.save(&mut out)?;
        let summing = out.into_inner().map_err(|e| e.into_error())?;
        summing.inner.sync_all()?;
        summing.sum
    };
    std::fs::rename(&partial, dir.join(&visited))?;
    let mut meta = Meta {
        format: FORMAT.into(),
        engine: ENGINE.into(),
        command: command_of(spec, options),
        mutation: options.identity.mutation.clone(),
        properties: options.identity.properties.clone(),
        layer: spec.name().into(),
        params: spec.params().describe(),
        symmetry: options.symmetry,
        deadlock: options.deadlock,
        actions: spec.action_names().iter().map(|s| s.to_string()).collect(),
        depth,
        frontier_states: search.frontier_states,
        generated: search.generated,
        distinct: search.distinct,
        coverage: search.coverage.clone(),
        parent_levels: search.parents.len(),
        milliseconds: (search.seconds_before * 1000.0) as u64,
        visited: FileRecord::new(visited.clone(), &sum),
        frontier: frontier_record,
        parents: search.parent_files.clone(),
        checksum: String::new(),
    };
    meta.checksum = meta.own_checksum();
    let partial = dir.join(format!("{META}.partial"));
    let mut out = std::fs::File::create(&partial)?;
    out.write_all(serde_json::to_string_pretty(&meta)?.as_bytes())?;
    out.sync_all()?;
    std::fs::rename(&partial, dir.join(META))?;
    // The renames are durable once the directory is.
    std::fs::File::open(dir)?.sync_all()?;
    Ok(vec![dir.join(visited), dir.join(frontier)])
}

/// What `dir` holds, for a message: `` `check x` with mutation none, at level 16 `` (or that it
/// is unreadable).
pub(crate) fn describe(dir: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(dir.join(META)) else {
        return "an unreadable checkpoint".into();
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
        return "a damaged checkpoint".into();
    };
    match (value["command"].as_str(), value["depth"].as_u64()) {
        (Some(command), Some(depth)) => format!(
            "a checkpoint of {} at level {depth}",
            by(command, value["mutation"].as_str())
        ),
        _ => format!(
            "a checkpoint in format {}",
            value["format"].as_str().unwrap_or("unknown")
        ),
    }
}

/// Whether `name` is the name of a checkpoint's file or of a leftover of one.
fn checkpoint_file(name: &str) -> bool {
    let numbered = |prefix: &str| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(".bin"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    name.ends_with(".tmp")
        || name.ends_with(".partial")
        || numbered("visited-")
        || numbered("frontier-")
        || numbered("parents-")
}

/// Removes from `dir` every checkpoint file that `keep` does not name: leftovers of a process
/// that was stopped (its unfinished level's queue and links, a checkpoint half written) and the
/// files of older checkpoints.
fn remove_unreferenced(dir: &Path, keep: &[String]) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if checkpoint_file(&name) && !keep.contains(&name) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Reads `dir`'s `checkpoint.json` if it is a readable one of this format, whatever it is of.
fn read_meta(dir: &Path) -> Option<Meta> {
    let text = std::fs::read_to_string(dir.join(META)).ok()?;
    let meta: Meta = serde_json::from_str(&text).ok()?;
    (meta.format == FORMAT && meta.checksum == meta.own_checksum()).then_some(meta)
}

/// Leaves in `dir` only the files of the checkpoint that `checkpoint.json` describes (none if
/// there is no valid one): what a search does when it ends, on every path.
pub(crate) fn tidy(dir: &Path) {
    let keep = match read_meta(dir) {
        Some(meta) => std::iter::once(meta.visited.name)
            .chain(std::iter::once(meta.frontier.name))
            .chain(meta.parents.into_iter().map(|p| p.name))
            .collect(),
        None if dir.join(META).exists() => return,
        None => Vec::new(),
    };
    remove_unreferenced(dir, &keep);
}

/// Makes `dir` an empty place for a new checkpoint (`--force`): `checkpoint.json` goes first, so
/// that the old checkpoint is never seen half removed.
pub(crate) fn discard(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(dir.join(META)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    remove_unreferenced(dir, &[]);
    Ok(())
}

/// Checks a file's length and checksum against its record.
fn verify(record: &FileRecord, sum: &Checksum) -> Result<(), String> {
    if sum.len() != record.bytes {
        return Err(format!(
            "{} is {} bytes long, the checkpoint says {} (the file is damaged or was replaced)",
            record.name,
            sum.len(),
            record.bytes
        ));
    }
    if sum.hex() != record.checksum {
        return Err(format!(
            "{} does not match its checksum (the file is damaged or was replaced)",
            record.name
        ));
    }
    Ok(())
}

/// Checks that a file is there with the recorded length, before reading it.
fn present(dir: &Path, record: &FileRecord) -> Result<(), String> {
    let len = std::fs::metadata(dir.join(&record.name))
        .map_err(|e| format!("{} is missing ({e})", record.name))?
        .len();
    if len != record.bytes {
        return Err(format!(
            "{} is {len} bytes long, the checkpoint says {} (the file is damaged or was replaced)",
            record.name, record.bytes
        ));
    }
    Ok(())
}

/// The number of queue records in `frontier`, or `None` if a block does not hold whole records.
fn records(frontier: &Blocks) -> std::io::Result<Option<u64>> {
    let mut count = 0;
    for i in 0..frontier.len() {
        let block = frontier.get(i)?;
        let mut at = 0;
        while at < block.len() {
            let Some(len) = block.get(at..at + 2) else {
                return Ok(None);
            };
            at += 2 + u16::from_le_bytes([len[0], len[1]]) as usize;
            count += 1;
        }
        if at != block.len() {
            return Ok(None);
        }
    }
    Ok(Some(count))
}

/// Loads the search saved in `dir`, refusing a checkpoint made by another search (command,
/// layer or edge, mutation, properties, bounds, symmetry, deadlock checking, engine, format),
/// and a damaged one.
pub(crate) fn load<M: Spec>(
    spec: &M,
    options: &Options,
    dir: &Path,
) -> Result<Search, SearchError> {
    let fail = |what: String| SearchError(format!("cannot resume from {}: {what}", dir.display()));
    if !dir.is_dir() {
        return Err(fail("no such directory".into()));
    }
    let text = std::fs::read_to_string(dir.join(META)).map_err(|e| {
        fail(format!(
            "no {META} ({e}); it is not a checkpoint (--checkpoint DIR makes one)"
        ))
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| fail(format!("{META} is damaged: {e}")))?;
    match value["format"].as_str() {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(fail(format!(
                "it is in checkpoint format {other}, written by an older refine; this refine \
                 reads {FORMAT} only: start the search again"
            )))
        }
        None => return Err(fail(format!("{META} is damaged: it names no format"))),
    }
    let meta: Meta =
        serde_json::from_value(value).map_err(|e| fail(format!("{META} is damaged: {e}")))?;
    if meta.checksum != meta.own_checksum() {
        return Err(fail(format!(
            "{META} does not match its checksum (it was edited or damaged)"
        )));
    }
    if meta.engine != ENGINE {
        return Err(fail(format!(
            "it was made by {}; this is {ENGINE}: start the search again",
            meta.engine
        )));
    }
    let command = command_of(spec, options);
    let mutation = options.identity.mutation.as_deref();
    if meta.command != command || meta.mutation.as_deref() != mutation {
        return Err(fail(format!(
            "this checkpoint was made by {}; this run is {}",
            by(&meta.command, meta.mutation.as_deref()),
            by(&command, mutation)
        )));
    }
    if meta.properties != options.identity.properties {
        return Err(fail(format!(
            "this checkpoint checked {}; this run checks {}",
            list(&meta.properties),
            list(&options.identity.properties)
        )));
    }
    let params = spec.params().describe();
    let actions: Vec<String> = spec.action_names().iter().map(|s| s.to_string()).collect();
    if meta.layer != spec.name() || meta.params != params || meta.actions != actions {
        return Err(fail(format!(
            "it is a checkpoint of {} ({}), not of {} ({params})",
            meta.layer,
            meta.params,
            spec.name()
        )));
    }
    let with = |on: bool| if on { "with" } else { "without" };
    if meta.symmetry != options.symmetry {
        return Err(fail(format!(
            "it was made {} symmetry reduction; this run is {} (--symmetry)",
            with(meta.symmetry),
            with(options.symmetry)
        )));
    }
    if meta.deadlock != options.deadlock {
        return Err(fail(format!(
            "it was made {} deadlock checking; this run is {} (--deadlock)",
            with(meta.deadlock),
            with(options.deadlock)
        )));
    }
    // The counters must agree with one another before the files are read.
    let levels = meta.parent_levels;
    if meta.depth == 0
        || levels != meta.depth
        || meta.parents.len() != levels
        || meta.coverage.len() != actions.len()
        || meta.frontier_states == 0
        || meta.distinct < meta.frontier_states
        || meta.visited.name != format!("visited-{}.bin", meta.depth)
        || meta.frontier.name != format!("frontier-{}.bin", meta.depth)
        || (1..=levels).any(|l| meta.parents[l - 1].name != parents_file(l))
    {
        return Err(fail(format!(
            "{META} is inconsistent: level {}, {levels} levels of parent links ({} files), \
             {} queued of {} distinct states",
            meta.depth,
            meta.parents.len(),
            meta.frontier_states,
            meta.distinct
        )));
    }
    let damaged = |what: String| fail(what);
    let io = |file: &str, e: std::io::Error| fail(format!("{file}: {e}"));
    // The visited set: its length and checksum first (a damaged file must not be parsed), then
    // its contents.
    present(dir, &meta.visited).map_err(damaged)?;
    let visited_path = dir.join(&meta.visited.name);
    let sum = Checksum::of_file(&visited_path).map_err(|e| io(&meta.visited.name, e))?;
    verify(&meta.visited, &sum).map_err(damaged)?;
    let visited_file = std::fs::File::open(&visited_path).map_err(|e| io(&meta.visited.name, e))?;
    let visited = Visited::load(&mut BufReader::with_capacity(1 << 20, visited_file))
        .map_err(|e| io(&meta.visited.name, e))?;
    if visited.len() != meta.distinct {
        return Err(fail(format!(
            "{} holds {} states, the checkpoint says {}",
            meta.visited.name,
            visited.len(),
            meta.distinct
        )));
    }
    // Each list of blocks is verified before it is parsed.
    let open = |record: &FileRecord, stem: &'static str| -> Result<Blocks, SearchError> {
        present(dir, record).map_err(damaged)?;
        let path = dir.join(&record.name);
        let sum = Checksum::of_file(&path).map_err(|e| io(&record.name, e))?;
        verify(record, &sum).map_err(damaged)?;
        Blocks::open(stem, &path).map_err(|e| io(&record.name, e))
    };
    let frontier = open(&meta.frontier, "queue")?;
    let queued = records(&frontier).map_err(|e| io(&meta.frontier.name, e))?;
    if queued != Some(meta.frontier_states) {
        return Err(fail(format!(
            "{} holds {}, the checkpoint says {} states",
            meta.frontier.name,
            queued.map_or("no whole records".into(), |n| format!("{n} states")),
            meta.frontier_states
        )));
    }
    let parents = meta
        .parents
        .iter()
        .map(|record| open(record, "parents"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut linked = 0;
    for (record, links) in meta.parents.iter().zip(&parents) {
        if links.bytes() % LINK_BYTES as u64 != 0 {
            return Err(fail(format!("{} holds a partial parent link", record.name)));
        }
        linked += links.bytes() / LINK_BYTES as u64;
    }
    let last = parents.last().map_or(0, |p| p.bytes() / LINK_BYTES as u64);
    if linked != meta.distinct || last != meta.frontier_states {
        return Err(fail(format!(
            "the parent links hold {linked} states ({last} at level {}), the checkpoint says {} \
             ({} queued)",
            meta.depth, meta.distinct, meta.frontier_states
        )));
    }
    // Verified: what no checkpoint.json refers to is a leftover of the process that was
    // stopped, or of an older checkpoint.
    let mut keep: Vec<String> = meta.parents.iter().map(|p| p.name.clone()).collect();
    keep.push(meta.visited.name.clone());
    keep.push(meta.frontier.name.clone());
    remove_unreferenced(dir, &keep);
    Ok(Search {
        visited,
        frontier,
        frontier_states: meta.frontier_states,
        parent_files: meta.parents,
        parents,
        depth: meta.depth,
        generated: meta.generated,
        distinct: meta.distinct,
        coverage: meta.coverage,
        seconds_before: meta.milliseconds as f64 / 1000.0,
        checkpoint_files: vec![dir.join(&meta.visited.name), dir.join(&meta.frontier.name)],
    })
}

/// The file that says a search is using a directory: it holds the process id of that search.
pub(crate) const LOCK: &str = "lock";

/// A checkpoint directory held by this process; dropping it releases the directory.
#[derive(Debug)]
pub(crate) struct DirLock {
    path: PathBuf,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Only our own lock: a lock file that names another process is not ours to remove.
        if holder(&self.path) == Some(std::process::id()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The process id a lock file names, if it is readable and names one.
fn holder(lock: &Path) -> Option<u32> {
    std::fs::read_to_string(lock).ok()?.trim().parse().ok()
}

/// Whether process `pid` is running (on Linux, by `/proc`; elsewhere it cannot be told, and a
/// lock is taken to be held).
fn running(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Takes `dir` (creating it) for one search: refused while another running process holds it.
/// The lock file appears whole or not at all: it is written under a name of its own and then
/// linked to `lock`, which fails if `lock` exists.
pub(crate) fn lock(dir: &Path) -> Result<DirLock, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the directory {}: {e}", dir.display()))?;
    let pid = std::process::id();
    let path = dir.join(LOCK);
    let draft = dir.join(format!("{LOCK}-{pid}.new"));
    std::fs::write(&draft, format!("{pid}\n"))
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    // Two tries: the second after removing a lock its process left behind when it died.
    let mut result = Err(format!(
        "{} was locked again by another search as its old lock was removed",
        dir.display()
    ));
    for _ in 0..2 {
        result = match std::fs::hard_link(&draft, &path) {
            Ok(()) => Ok(DirLock { path: path.clone() }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match holder(&path) {
                Some(other) if other != pid && !running(other) => {
                    let _ = std::fs::remove_file(&path);
                    continue;
                }
                Some(other) => Err(format!(
                    "{} is in use by another search (process {other}, as {} says); wait for it \
                     to end or stop it{}",
                    dir.display(),
                    path.display(),
                    if cfg!(target_os = "linux") {
                        String::new()
                    } else {
                        format!(", or remove {} if no search runs", path.display())
                    }
                )),
                None => Err(format!(
                    "{} is locked by {}, which names no process; remove it if no search uses \
                     the directory",
                    dir.display(),
                    path.display()
                )),
            },
            Err(e) => Err(format!("cannot lock {}: {e}", dir.display())),
        };
        break;
    }
    let _ = std::fs::remove_file(&draft);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_files_are_recognized_by_name() {
        for name in [
            "visited-3.bin",
            "frontier-12.bin",
            "parents-1.bin",
            "queue-9-1.tmp",
            "x.partial",
        ] {
            assert!(checkpoint_file(name), "{name}");
        }
        for name in [
            "checkpoint.json",
            "notes.txt",
            "visited-.bin",
            "parents-a.bin",
        ] {
            assert!(!checkpoint_file(name), "{name}");
        }
    }
}
