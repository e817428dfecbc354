//! `raft-node`: run the deterministic simulation over many seeds and validate each run, or
//! validate a recorded run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use raft_node::record::{read_json_lines, to_json_lines};
use raft_node::sim::{simulate, SimOptions};
use raft_node::transport::Faults;

#[derive(Parser)]
#[command(
    name = "raft-node",
    about = "The message-raft node core on tokio; every run checked against the spec"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate seeds A..B (B excluded) and validate every run against message-raft and
    /// log-abstract.
    Simulate {
        /// Seeds, `A..B`, or one seed.
        #[arg(long, default_value = "0..100")]
        seeds: String,
        /// Nodes.
        #[arg(long, default_value_t = 3)]
        servers: usize,
        /// Simulated milliseconds per seed.
        #[arg(long, default_value_t = 400)]
        duration_ms: u64,
        /// Network faults: `none` (delays only) or `some` (5% loss, 3% duplication, delays).
        #[arg(long, default_value = "some")]
        faults: String,
        /// No partitions.
        #[arg(long)]
        no_partitions: bool,
        /// No crashes.
        #[arg(long)]
        no_crashes: bool,
        /// Write each run's events to DIR/seed-N.jsonl.
        #[arg(long)]
        record: Option<PathBuf>,
    },
    /// Validate a recorded run (JSON lines) of a cluster of `--servers` nodes; several files
    /// (records made apart, such as one per node) are merged by causality first.
    Validate {
        /// The run, or its parts.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Nodes.
        #[arg(long, default_value_t = 3)]
        servers: usize,
    },
}

fn seeds(text: &str) -> Result<std::ops::Range<u64>, String> {
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|e| format!("bad seed `{s}`: {e}"))
    };
    match text.split_once("..") {
        Some((a, b)) => Ok(parse(a)?..parse(b)?),
        None => {
            let a = parse(text)?;
            Ok(a..a + 1)
        }
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Simulate {
            seeds: range,
            servers,
            duration_ms,
            faults,
            no_partitions,
            no_crashes,
            record,
        } => {
            let range = match seeds(&range) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("raft-node simulate: {e}");
                    return ExitCode::from(2);
                }
            };
            let faults = match faults.as_str() {
                "none" => Faults::NONE,
                "some" => Faults::SOME,
                other => {
                    eprintln!("raft-node simulate: --faults is `none` or `some`, not `{other}`");
                    return ExitCode::from(2);
                }
            };
            if !(1..=raft_node::MAX_NODES).contains(&servers) {
                eprintln!(
                    "raft-node simulate: --servers {servers} is out of range 1..={}",
                    raft_node::MAX_NODES
                );
                return ExitCode::from(2);
            }
            let opts = SimOptions {
                servers,
                duration_ms,
                faults,
                partitions: !no_partitions,
                crash_per_mille: if no_crashes {
                    0
                } else {
                    SimOptions::default().crash_per_mille
                },
                ..SimOptions::default()
            };
            let (mut steps, mut commits, mut writes) = (0usize, 0usize, 0usize);
            let start = std::time::Instant::now();
            for seed in range.clone() {
                let run = match simulate(seed, &opts) {
                    Ok(run) => run,
                    Err(e) => {
                        eprintln!("seed {seed}: the simulation failed: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                if let Some(dir) = &record {
                    let _ = std::fs::create_dir_all(dir);
                    let path = dir.join(format!("seed-{seed}.jsonl"));
                    if let Err(e) = std::fs::write(&path, to_json_lines(&run.events)) {
                        eprintln!("writing {}: {e}", path.display());
                        return ExitCode::FAILURE;
                    }
                }
                match raft_node::validate(servers, &run.events) {
                    Ok(v) => {
                        steps += v.steps;
                        commits += v.commits;
                        writes += run.committed_writes.len();
                    }
                    Err(e) => {
                        eprintln!("seed {seed}: {e}");
                        eprintln!(
                            "replay: raft-node simulate --seeds {seed} --servers {servers} --duration-ms {duration_ms} --faults {}{}{} --record DIR",
                            if faults == Faults::NONE { "none" } else { "some" },
                            if no_partitions { " --no-partitions" } else { "" },
                            if no_crashes { " --no-crashes" } else { "" },
                        );
                        return ExitCode::FAILURE;
                    }
                }
            }
            println!(
                "{} seeds validated: {steps} node steps, {commits} commits, {writes} acknowledged writes ({:.1} s)",
                range.end.saturating_sub(range.start),
                start.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Command::Validate { files, servers } => {
            let mut parts = Vec::new();
            for file in &files {
                let text = match std::fs::read_to_string(file) {
                    Ok(t) => t,
                    Err(e) => {
                        eprintln!("reading {}: {e}", file.display());
                        return ExitCode::FAILURE;
                    }
                };
                match read_json_lines(&text) {
                    Ok(e) => parts.push(e),
                    Err(e) => {
                        eprintln!("{}: {e}", file.display());
                        return ExitCode::FAILURE;
                    }
                }
            }
            let events = if parts.len() == 1 {
                parts.pop().expect("one part")
            } else {
                raft_node::merge_by_causality(parts)
            };
            let name = files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(" + ");
            match raft_node::validate(servers, &events) {
                Ok(v) => {
                    println!(
                        "{name}: {} events, {} node steps, {} commits: a behaviour of message-raft, mapped to log-abstract",
                        events.len(),
                        v.steps,
                        v.commits
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{name}: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
