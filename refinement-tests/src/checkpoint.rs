//! Checkpoints: a breadth-first search saved between two levels, so that a run of hours can be
//! stopped (or killed) and continued with the same final counts.
//!
//! Between levels, a search is exactly: the visited set, the queue of the next level's states,
//! the parent links of every level so far, and its counters. A checkpoint directory holds them
//! as files, and `checkpoint.json` says which files make up the latest checkpoint:
//!
//! - `visited-D.bin`: the visited set after level `D - 1` (D is the level to explore next);
//! - `frontier-D.bin`: the states of level `D`, packed ([`spec_core::Pack`]);
//! - `parents-L.bin`: the parent links of level `L` (written once, shared by later checkpoints);
//! - `checkpoint.json`: the layer, its bounds, symmetry, counters and coverage.
//!
//! `checkpoint.json` is replaced last, by a rename, so a run killed while saving leaves the
//! previous checkpoint intact; files of older checkpoints are deleted once a newer one is
//! complete. A checkpoint can only be resumed by the same layer with the same bounds and
//! symmetry setting; the number of threads may differ (the counts do not depend on it).

use crate::engine::{Search, SearchError};
use crate::spill::{Blocks, Budget};
use crate::visited::Visited;
use serde::{Deserialize, Serialize};
use spec_core::Spec;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

const FORMAT: &str = "refine-checkpoint-2";

#[derive(Serialize, Deserialize)]
struct Meta {
    format: String,
    layer: String,
    params: String,
    symmetry: bool,
    actions: Vec<String>,
    depth: usize,
    frontier_states: u64,
    generated: u64,
    distinct: u64,
    coverage: Vec<(u64, u64)>,
    parent_levels: usize,
    seconds: f64,
    visited: String,
    frontier: String,
}

fn parents_file(level: usize) -> String {
    format!("parents-{level}.bin")
}

/// Saves `search` (between levels) in `dir`; returns the files of this checkpoint that a later
/// checkpoint replaces.
pub(crate) fn save<M: Spec>(
    spec: &M,
    symmetry: bool,
    search: &mut Search,
    dir: &Path,
    budget: &Budget,
) -> std::io::Result<Vec<PathBuf>> {
    let depth = search.depth;
    let frontier = format!("frontier-{depth}.bin");
    search.frontier.persist(&dir.join(&frontier), budget)?;
    for level in search.parents_saved..search.parents.len() {
        search.parents[level].persist(&dir.join(parents_file(level + 1)), budget)?;
    }
    search.parents_saved = search.parents.len();
    let visited = format!("visited-{depth}.bin");
    let partial = dir.join(format!("{visited}.partial"));
    {
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&partial)?);
        search.visited.save(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    std::fs::rename(&partial, dir.join(&visited))?;
    let meta = Meta {
        format: FORMAT.into(),
        layer: spec.name().into(),
        params: spec.params().describe(),
        symmetry,
        actions: spec.action_names().iter().map(|s| s.to_string()).collect(),
        depth,
        frontier_states: search.frontier_states,
        generated: search.generated,
        distinct: search.distinct,
        coverage: search.coverage.clone(),
        parent_levels: search.parents.len(),
        seconds: search.seconds_before,
        visited: visited.clone(),
        frontier: frontier.clone(),
    };
    let partial = dir.join("checkpoint.json.partial");
    let mut out = std::fs::File::create(&partial)?;
    out.write_all(serde_json::to_string_pretty(&meta)?.as_bytes())?;
    out.sync_all()?;
    std::fs::rename(&partial, dir.join("checkpoint.json"))?;
    Ok(vec![dir.join(visited), dir.join(frontier)])
}

/// Loads the search saved in `dir`, refusing a checkpoint of another layer, other bounds or
/// another symmetry setting.
pub(crate) fn load<M: Spec>(spec: &M, symmetry: bool, dir: &Path) -> Result<Search, SearchError> {
    let fail = |what: String| SearchError(format!("cannot resume from {}: {what}", dir.display()));
    let text = std::fs::read_to_string(dir.join("checkpoint.json"))
        .map_err(|e| fail(format!("no checkpoint.json ({e})")))?;
    let meta: Meta = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
    if meta.format != FORMAT {
        return Err(fail(format!("unknown checkpoint format {}", meta.format)));
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
    if meta.symmetry != symmetry {
        return Err(fail(format!(
            "it was made {} symmetry reduction",
            if meta.symmetry { "with" } else { "without" }
        )));
    }
    // Leftovers of the process that was stopped: its unfinished level's queue and links.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".tmp") || name.ends_with(".partial") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let io = |file: &str, e: std::io::Error| fail(format!("{file}: {e}"));
    let visited_file =
        std::fs::File::open(dir.join(&meta.visited)).map_err(|e| io(&meta.visited, e))?;
    let visited = Visited::load(&mut BufReader::with_capacity(1 << 20, visited_file))
        .map_err(|e| io(&meta.visited, e))?;
    if visited.len() != meta.distinct {
        return Err(fail(format!(
            "{} holds {} states, the checkpoint says {}",
            meta.visited,
            visited.len(),
            meta.distinct
        )));
    }
    let frontier =
        Blocks::open("queue", &dir.join(&meta.frontier)).map_err(|e| io(&meta.frontier, e))?;
    let parents = (1..=meta.parent_levels)
        .map(|level| {
            let file = parents_file(level);
            Blocks::open("parents", &dir.join(&file)).map_err(|e| io(&file, e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Search {
        visited,
        frontier,
        frontier_states: meta.frontier_states,
        parents_saved: parents.len(),
        parents,
        depth: meta.depth,
        generated: meta.generated,
        distinct: meta.distinct,
        coverage: meta.coverage,
        seconds_before: meta.seconds,
        checkpoint_files: vec![dir.join(meta.visited), dir.join(meta.frontier)],
    })
}
