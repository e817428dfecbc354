//! The `refine` command line over any [`Registry`]: `check`, `refines`, `chain`, `simulate`,
//! `replay`, `list` and `bench`, with the bounds the registry's layers declare as flags, the one
//! `--json` envelope, checkpoints and exit statuses. The `refine` binary is this over the
//! workspace's registry; a crate of your own gets the same command over its own layers with
//! [`CommandLine::main`] (feature `cli`):
//!
//! ```no_run
//! # use refinement_tests::registry::Registry;
//! use refinement_tests::cli::CommandLine;
//! fn main() -> std::process::ExitCode {
//!     let registry = Registry::new(); // .layer(...) and .edge(...) for your layers
//!     CommandLine::new("my-check", "Check my layers.", &registry).main()
//! }
//! ```
//!
//! Exit status: 0 when everything checked holds, 1 when a violation was found (or a chain row is
//! vacuous), 2 for bad usage or input (a checkpoint that is damaged or of another search), 3 when
//! the search is incomplete (a level limit, the memory guard, Ctrl-C or SIGTERM), 101 when the
//! specification panicked.

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

/// Writes to standard output; if the reader has gone away (`refine ... | head`), exits quietly
/// with status 141, as a process killed by SIGPIPE would, instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if write!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(141);
        }
    }};
}

/// [`out!`] with a newline.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(141);
        }
    }};
}
use crate::registry::{Registry, Report, RunError, ViolationReport};
use crate::replay::ReplayVerdict;
use crate::report::{summary_text, thousands, vacuity_text, walk_summary_text};
use crate::{default_memory_limit, FailureKind, Options, WalkOptions};
use serde_json::json;
use spec_core::Params;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// What `--help` says after the command's own description.
const LONG_ABOUT: &str = "With no command, runs the whole chain at small default bounds and prints a table.\nExit status: 0 when everything holds, 1 when a violation was found (or a chain row is vacuous), 2 for bad usage or input (a checkpoint that is damaged or of another search), 3 when the search is incomplete (--stop-after-level, the memory guard, Ctrl-C or SIGTERM), 101 when the specification panicked.";

#[derive(Parser)]
#[command(name = "refine", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Check one layer's invariants and action properties exhaustively.
    Check {
        /// The layer (see `refine list`).
        layer: String,
        /// Check only this invariant or action property (repeatable, like TLC's INVARIANT
        /// lines; default: all the layer declares).
        #[arg(long = "invariant", value_name = "NAME")]
        invariants: Vec<String>,
        #[command(flatten)]
        bounds: BoundsArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Check one refinement edge on every reachable transition of the lower layer.
    Refines {
        /// The implementing (lower) layer.
        lower: String,
        /// The implemented (upper) layer.
        upper: String,
        /// Bounds of the lower layer; the upper layer's follow from them.
        #[command(flatten)]
        bounds: BoundsArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Check every layer and every edge that exists, from the most concrete up, as a table.
    Chain {
        /// Bounds, each given to the layers that take it.
        #[command(flatten)]
        bounds: BoundsArgs,
        /// Check at deeper bounds, each layer's own (four servers, or one more term or config
        /// version: see `refine list`), with symmetry; minutes on two cores.
        #[arg(long, conflicts_with_all = ["servers", "values", "max_log_len", "max_term", "max_config_version", "max_messages", "restarts", "duplicates"])]
        deep: bool,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Run seeded random walks through a layer, checking its invariants on every step.
    Simulate {
        /// The layer.
        layer: String,
        #[command(flatten)]
        bounds: BoundsArgs,
        /// Number of walks.
        #[arg(long, default_value_t = 1000)]
        walks: u64,
        /// Steps per walk at most.
        #[arg(long, default_value_t = 100)]
        depth: usize,
        /// Seed: the same seed gives the same walks.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Print one JSON object on standard output instead of text.
        #[arg(long)]
        json: bool,
        /// Write a counterexample, if one is found, to FILE in the Informal Trace Format.
        #[arg(long, value_name = "FILE")]
        trace_json: Option<PathBuf>,
        /// Plant a deliberate bug in the layer (see `refine list`).
        #[arg(long, value_name = "NAME")]
        mutation: Option<String>,
    },
    /// Replay an ITF trace (as --trace-json writes, or Apalache, Quint, or a TLC trace in the
    /// spec's variable names): check that its first state is initial, that each state follows
    /// from the one before by a step of the layer (naming the actions), and that the invariants
    /// hold in every state. Exit 0 when it is a behavior and the invariants hold, 1 when it is
    /// not or one is broken (the step or state is named), 2 for unusable input.
    Replay {
        /// The layer.
        layer: String,
        /// The trace file (ITF JSON).
        file: PathBuf,
        /// The bounds the trace was made with.
        #[command(flatten)]
        bounds: BoundsArgs,
        /// Replay against the layer with this deliberate bug (see `refine list`).
        #[arg(long, value_name = "NAME")]
        mutation: Option<String>,
        /// Print one JSON object on standard output instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the layers, their bounds, and the refinement edges.
    List,
    /// Run the reference models at 1 and 2 threads, each in a fresh process, and compare with
    /// TLC's speed.
    Bench {
        /// Only the models that finish in seconds.
        #[arg(long)]
        quick: bool,
        /// Also the flagship 4-server MongoRaftReconfig model (2 threads only; about 20
        /// minutes, 9 GiB of memory, 12 GB of temporary disk).
        #[arg(long, conflicts_with = "quick")]
        flagship: bool,
        /// Runs per model and thread count; the table shows the median (and the fastest).
        #[arg(long, value_name = "N", default_value_t = 3)]
        repeat: usize,
    },
}

#[derive(Args, Clone, Copy, Default)]
struct BoundsArgs {
    /// Number of servers.
    #[arg(long, value_name = "N")]
    servers: Option<usize>,
    /// Number of client values.
    #[arg(long, value_name = "N")]
    values: Option<usize>,
    /// Maximum log length (state constraint; for log-abstract, the index range).
    #[arg(long, value_name = "N")]
    max_log_len: Option<usize>,
    /// Maximum term (state constraint).
    #[arg(long, value_name = "N")]
    max_term: Option<usize>,
    /// Maximum config version (state constraint).
    #[arg(long, value_name = "N")]
    max_config_version: Option<usize>,
    /// Maximum messages in flight (state constraint of message-passing layers).
    #[arg(long, value_name = "N")]
    max_messages: Option<usize>,
    /// Node restarts a behaviour may contain (fault budget).
    #[arg(long, value_name = "N")]
    restarts: Option<usize>,
    /// Message duplications a behaviour may contain (fault budget).
    #[arg(long, value_name = "N")]
    duplicates: Option<usize>,
    /// The bounds of a layer's own (`Bound::Named`), whose flags come from the registry.
    #[arg(skip)]
    named: Params,
}

impl BoundsArgs {
    fn params(self) -> Params {
        let mut params = self.named;
        params.servers = self.servers;
        params.values = self.values;
        params.max_log_len = self.max_log_len;
        params.max_term = self.max_term;
        params.max_config_version = self.max_config_version;
        params.max_messages = self.max_messages;
        params.restarts = self.restarts;
        params.duplicates = self.duplicates;
        params
    }
}

/// The subcommands that take bounds.
const WITH_BOUNDS: [&str; 5] = ["check", "refines", "chain", "simulate", "replay"];

/// A command line over a registry: its name and description, the registry's layers and edges,
/// and the models `bench` runs.
#[derive(Clone, Copy)]
pub struct CommandLine<'a> {
    name: &'static str,
    about: &'static str,
    registry: &'a Registry,
    bench: &'a [BenchModel],
}

/// How a command ended: [`CommandLine::main`] exits with its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Everything checked holds (exit 0).
    Holds,
    /// A violation was found, or a chain row is vacuous (exit 1).
    Violation,
    /// The search stopped before exploring every state (a level limit, the memory guard) and
    /// found no violation in what it explored (exit 3).
    Incomplete,
    /// The specification panicked: reported with the trace to the state it was expanding
    /// (exit 101, Rust's status for a panic).
    Panic,
}

impl<'a> CommandLine<'a> {
    /// The command `name` (as `--help` and usage errors name it), described by `about`, over
    /// the layers and edges of `registry`, with no benchmark models.
    pub fn new(name: &'static str, about: &'static str, registry: &'a Registry) -> Self {
        CommandLine {
            name,
            about,
            registry,
            bench: &[],
        }
    }

    /// The same command line, whose `bench` runs `models`.
    #[must_use = "bench returns the command line with its models; call main or run_from on it"]
    pub fn bench(self, models: &'a [BenchModel]) -> Self {
        CommandLine {
            bench: models,
            ..self
        }
    }

    /// Runs the command of this process's arguments, printing to standard output (and errors
    /// to standard error), and returns the exit status: 0 holds, 1 violation, 2 bad usage or
    /// input, 3 incomplete, 101 panic.
    pub fn main(&self) -> ExitCode {
        let command = match self.parse(std::env::args_os()) {
            Ok(command) => command,
            Err(e) => e.exit(),
        };
        let (name, json) = command.name_and_json();
        match self.run(command) {
            Ok(verdict) => ExitCode::from(verdict.status()),
            Err(e) => {
                if json {
                    outln!(
                        "{}",
                        envelope(name, "error", json!({ "error": e.to_string() }))
                    );
                }
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        }
    }

    /// Runs the command of `args` (the first is the program's name), printing to standard
    /// output; a usage error or unusable input is an error, with the message `main` prints.
    pub fn run_from<I, T>(&self, args: I) -> Result<Verdict, RunError>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let command = self.parse(args).map_err(|e| RunError(e.to_string()))?;
        self.run(command)
    }

    /// The command line: the flags of [`BoundsArgs`], and one flag for each bound of a layer's
    /// own that a registered layer declares (its help from the declaration). No command: the
    /// chain at every layer's defaults.
    fn parse<I, T>(&self, args: I) -> Result<Command, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let named = self.registry.named_bounds();
        let mut command = Cli::command()
            .name(self.name)
            .bin_name(self.name)
            .about(self.about)
            .long_about(format!("{}\n\n{LONG_ABOUT}", self.about));
        for sub in WITH_BOUNDS {
            command = command.mut_subcommand(sub, |mut c| {
                for &bound in &named {
                    let help = self.registry.parameter(bound).map_or(String::new(), |p| {
                        format!("{} (default {}, {}..={})", p.help, p.default, p.min, p.max)
                    });
                    let mut arg = clap::Arg::new(bound.name())
                        .long(bound.name())
                        .value_name("N")
                        .value_parser(clap::value_parser!(usize))
                        .help(help);
                    if sub == "chain" {
                        arg = arg.conflicts_with("deep");
                    }
                    c = c.arg(arg);
                }
                c
            });
        }
        let matches = command.try_get_matches_from(args)?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        if let (Some((_, sub)), Some(bounds)) = (
            matches.subcommand(),
            cli.command.as_mut().and_then(Command::bounds_mut),
        ) {
            for &bound in &named {
                if let Some(&value) = sub.get_one::<usize>(bound.name()) {
                    bounds.named.set(bound, value);
                }
            }
        }
        Ok(cli.command.unwrap_or(Command::Chain {
            bounds: BoundsArgs::default(),
            deep: false,
            run: RunArgs {
                symmetry: false,
                threads: None,
                json: false,
                trace_json: None,
                mutation: None,
                progress: 5,
                memory_limit: None,
                queue_memory: 1024,
                checkpoint: None,
                checkpoint_every: 600,
                resume: None,
                stop_after_level: None,
                deadlock: false,
                force: false,
            },
        }))
    }
}

#[derive(Args, Clone)]
struct RunArgs {
    /// Reduce by server symmetry (an exact canonical form, like TLC's SYMMETRY Permutations).
    #[arg(long)]
    symmetry: bool,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Print one JSON object on standard output instead of text.
    #[arg(long)]
    json: bool,
    /// Write a counterexample, if one is found, to FILE in the Informal Trace Format.
    #[arg(long, value_name = "FILE")]
    trace_json: Option<PathBuf>,
    /// Plant a deliberate bug in the layer or the mapping (see `refine list`).
    #[arg(long, value_name = "NAME")]
    mutation: Option<String>,
    /// Seconds between progress lines on standard error (0: none).
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    progress: u64,
    /// Stop with a message when resident memory passes this many MiB (default: nine tenths of
    /// the memory available at start; 0: no limit).
    #[arg(long, value_name = "MIB")]
    memory_limit: Option<u64>,
    /// MiB of queued states and parent links kept in memory; the rest is spilled to disk.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    queue_memory: u64,
    /// Save the search in DIR at the end of a level, every --checkpoint-every seconds, and when
    /// interrupted (Ctrl-C, SIGTERM). A DIR that already holds a checkpoint is refused (unless
    /// --force, or it is --resume's DIR).
    #[arg(long, value_name = "DIR")]
    checkpoint: Option<PathBuf>,
    /// Let --checkpoint DIR replace the checkpoint DIR holds.
    #[arg(long, requires = "checkpoint")]
    force: bool,
    /// Seconds between two checkpoints.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    checkpoint_every: u64,
    /// Continue the search saved in DIR by --checkpoint (the same command, layer or edge,
    /// mutation, invariants, bounds, --symmetry and --deadlock; anything else is refused), and
    /// keep checkpointing there.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// Stop after exploring this many levels (with a checkpoint, if checkpointing).
    #[arg(long, value_name = "N")]
    stop_after_level: Option<usize>,
    /// Report a reachable state with no successor as a violation (TLC's deadlock check; off by
    /// default, as in the TLC configurations of these models).
    #[arg(long)]
    deadlock: bool,
}

impl RunArgs {
    fn options(&self) -> Options {
        let defaults = Options::default();
        Options {
            threads: self.threads.unwrap_or(defaults.threads),
            symmetry: self.symmetry,
            progress: (self.progress > 0).then(|| Duration::from_secs(self.progress)),
            memory_limit: match self.memory_limit {
                Some(0) => None,
                Some(mib) => Some(mib << 20),
                None => default_memory_limit(),
            },
            queue_memory: self.queue_memory << 20,
            checkpoint: self.checkpoint.clone(),
            checkpoint_every: Duration::from_secs(self.checkpoint_every),
            resume: self.resume.clone(),
            stop_after_level: self.stop_after_level,
            deadlock: self.deadlock,
            force: self.force,
            interrupt: Some(interrupts()),
            ..defaults
        }
    }
}

/// The number of interrupts (SIGINT, SIGTERM) received: the first time it is asked for, the
/// handlers are installed (a thread that counts the signals and says what happens next).
fn interrupts() -> Arc<AtomicUsize> {
    static COUNT: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    COUNT
        .get_or_init(|| {
            let count = Arc::new(AtomicUsize::new(0));
            let counted = Arc::clone(&count);
            match signal_hook::iterator::Signals::new([
                signal_hook::consts::SIGINT,
                signal_hook::consts::SIGTERM,
            ]) {
                Ok(mut signals) => {
                    std::thread::spawn(move || {
                        for _ in signals.forever() {
                            if counted.fetch_add(1, Ordering::Relaxed) == 0 {
                                eprintln!(
                                    "interrupted: stopping (a checkpointing search first finishes \
                                     its level and saves a checkpoint; interrupt again to stop at \
                                     once)"
                                );
                            } else {
                                eprintln!("interrupted again: stopping at once");
                            }
                        }
                    });
                }
                Err(e) => eprintln!("warning: cannot handle Ctrl-C ({e}); it will kill the search"),
            }
            count
        })
        .clone()
}

impl Command {
    /// The bounds the command was given, if it takes bounds.
    fn bounds_mut(&mut self) -> Option<&mut BoundsArgs> {
        match self {
            Command::Check { bounds, .. }
            | Command::Refines { bounds, .. }
            | Command::Chain { bounds, .. }
            | Command::Simulate { bounds, .. }
            | Command::Replay { bounds, .. } => Some(bounds),
            Command::List | Command::Bench { .. } => None,
        }
    }

    /// The command's name in `--json`'s envelope, and whether `--json` was asked for.
    fn name_and_json(&self) -> (&'static str, bool) {
        match self {
            Command::Check { run, .. } => ("check", run.json),
            Command::Refines { run, .. } => ("refines", run.json),
            Command::Chain { run, .. } => ("chain", run.json),
            Command::Simulate { json, .. } => ("simulate", *json),
            Command::Replay { json, .. } => ("replay", *json),
            Command::Bench { .. } => ("bench", false),
            Command::List => ("list", false),
        }
    }
}

/// The version of the `--json` envelope: adding a field keeps it; renaming or removing one, or
/// changing a field's meaning, changes it.
const SCHEMA: &str = "refine-json/1";

/// The envelope every `--json` output shares: `schema`, `command`, `verdict` (`holds`,
/// `violation`, `incomplete`, `panic`, or `error` for bad usage or input, with `error`), then the
/// command's own fields.
fn envelope(command: &str, verdict: &str, fields: serde_json::Value) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    object.insert("schema".into(), SCHEMA.into());
    object.insert("command".into(), command.into());
    object.insert("verdict".into(), verdict.into());
    if let serde_json::Value::Object(rest) = fields {
        for (key, value) in rest {
            object.entry(key).or_insert(value);
        }
    }
    serde_json::Value::Object(object)
}

impl Verdict {
    /// The exit status: 0, 1, 3 or 101.
    pub fn status(self) -> u8 {
        match self {
            Verdict::Holds => 0,
            Verdict::Violation => 1,
            Verdict::Incomplete => 3,
            Verdict::Panic => 101,
        }
    }

    fn of(violation: Option<&ViolationReport>) -> Verdict {
        match violation {
            None => Verdict::Holds,
            Some(v) if v.kind == FailureKind::Panic => Verdict::Panic,
            Some(_) => Verdict::Violation,
        }
    }

    /// The verdict of one search: its violation, else whether it explored everything.
    fn of_report(report: &Report) -> Verdict {
        match (
            Verdict::of(report.violation.as_ref()),
            &report.stats.stopped,
        ) {
            (Verdict::Holds, Some(_)) => Verdict::Incomplete,
            (verdict, _) => verdict,
        }
    }

    /// The word for it in `--json` (`verdict`).
    fn word(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violation => "violation",
            Verdict::Incomplete => "incomplete",
            Verdict::Panic => "panic",
        }
    }
}

impl CommandLine<'_> {
    /// Runs a command.
    fn run(&self, command: Command) -> Result<Verdict, RunError> {
        if let Command::Check { run, .. }
        | Command::Refines { run, .. }
        | Command::Chain { run, .. } = &command
        {
            check_trace_path(run.trace_json.as_ref())?;
        }
        if let Command::Simulate { trace_json, .. } = &command {
            check_trace_path(trace_json.as_ref())?;
        }
        match command {
            Command::Check {
                layer,
                invariants,
                bounds,
                run,
            } => {
                let report = self.registry.check(
                    &layer,
                    &bounds.params(),
                    run.mutation.as_deref(),
                    &invariants,
                    &run.options(),
                )?;
                print_report(&report, &run)
            }
            Command::Refines {
                lower,
                upper,
                bounds,
                run,
            } => {
                let report = self.registry.refines(
                    &lower,
                    &upper,
                    &bounds.params(),
                    run.mutation.as_deref(),
                    &run.options(),
                )?;
                print_report(&report, &run)
            }
            Command::Replay {
                layer,
                file,
                bounds,
                mutation,
                json,
            } => {
                let replay = self.registry.replay_file(
                    &layer,
                    &bounds.params(),
                    mutation.as_deref(),
                    &file,
                )?;
                let verdict = match replay.verdict {
                    ReplayVerdict::Behavior => Verdict::Holds,
                    ReplayVerdict::Panic { .. } => Verdict::Panic,
                    _ => Verdict::Violation,
                };
                if json {
                    outln!("{}", envelope("replay", verdict.word(), replay.json()));
                } else {
                    out!("{}", replay.text());
                }
                Ok(verdict)
            }
            Command::Chain { bounds, deep, run } => {
                if run.mutation.is_some() {
                    return Err(RunError(
                        "--mutation applies to check, refines and simulate, not to chain".into(),
                    ));
                }
                let reports = if deep {
                    let options = Options {
                        symmetry: true,
                        ..run.options()
                    };
                    self.registry.chain_deep(&options)?
                } else {
                    self.registry.chain(&bounds.params(), &run.options())?
                };
                print_chain(&reports, &run)
            }
            Command::Simulate {
                layer,
                bounds,
                walks,
                depth,
                seed,
                json,
                trace_json,
                mutation,
            } => {
                let report = self.registry.simulate(
                    &layer,
                    &bounds.params(),
                    mutation.as_deref(),
                    &WalkOptions { walks, depth, seed },
                )?;
                if json {
                    let verdict = Verdict::of(report.violation.as_ref()).word();
                    let value = envelope(
                        "simulate",
                        verdict,
                        json!({
                            "target": report.target,
                            "bounds": report.params,
                            "seed": seed,
                            "walks": report.stats.walks,
                            "steps": report.stats.steps,
                            "generated": report.stats.generated,
                            "longest": report.stats.longest,
                            "seconds": report.stats.seconds,
                            "coverage": report.stats.coverage,
                            "violation": report.violation,
                        }),
                    );
                    outln!("{value}");
                } else {
                    outln!(
                        "{} ({}), seed {seed}",
                        report.target,
                        report.params.describe()
                    );
                    if let Some(v) = &report.violation {
                        out!("{}", v.text);
                    } else {
                        outln!("No error has been found.");
                    }
                    out!("{}", walk_summary_text(&report.stats));
                }
                write_trace(report.violation.as_ref(), trace_json.as_ref())?;
                Ok(Verdict::of(report.violation.as_ref()))
            }
            Command::Bench {
                quick,
                flagship,
                repeat,
            } => self.run_bench(quick, flagship, repeat),
            Command::List => {
                outln!("Layers (most abstract first):");
                for l in self.registry.layers() {
                    let flags: Vec<&str> = l.bounds().map(|b| b.flag()).collect();
                    outln!("  {:<14} {:<26} {}", l.name(), l.spec(), flags.join(" "));
                }
                outln!("Bounds each layer declares (flag, default, range: why):");
                for l in self.registry.layers() {
                    outln!("  {}", l.name());
                    for p in l.parameters() {
                        outln!("    {p}");
                    }
                }
                outln!("Bounds of `refine chain --deep` (with symmetry):");
                let flags = |bounds: &[(spec_core::Bound, usize)]| {
                    let flags: Vec<String> = bounds
                        .iter()
                        .map(|(b, v)| format!("{} {v}", b.flag()))
                        .collect();
                    flags.join(" ")
                };
                for l in self.registry.layers() {
                    let Some(d) = l.deep() else { continue };
                    match d.edge_bounds {
                        Some(edges) => outln!(
                            "  {:<14} {} (its edges: {})",
                            l.name(),
                            flags(d.bounds),
                            flags(edges)
                        ),
                        None => outln!("  {:<14} {}", l.name(), flags(d.bounds)),
                    }
                }
                outln!("Refinement edges:");
                for e in self.registry.edges() {
                    outln!("  {} -> {}: {}", e.lower(), e.upper(), e.mapping());
                }
                outln!("Mutations (--mutation NAME):");
                for m in self.registry.mutations() {
                    outln!("  {:<22} in {}: {}", m.name, m.target, m.what);
                }
                Ok(Verdict::Holds)
            }
        }
    }
}

fn write_trace(
    violation: Option<&ViolationReport>,
    path: Option<&PathBuf>,
) -> Result<(), RunError> {
    if let (Some(v), Some(path)) = (violation, path) {
        let text = serde_json::to_string_pretty(&v.itf).expect("ITF values serialize");
        std::fs::write(path, text + "\n")
            .map_err(|e| RunError(format!("cannot write {}: {e}", path.display())))?;
        eprintln!("counterexample written to {} (ITF)", path.display());
    }
    Ok(())
}

fn report_json(report: &Report) -> serde_json::Value {
    json!({
        "verdict": Verdict::of_report(report).word(),
        "command": if report.target.contains(" -> ") { "refines" } else { "check" },
        "stopped": report.stats.stopped,
        "target": report.target,
        "bounds": report.params,
        "generated": report.stats.generated,
        "distinct": report.stats.distinct,
        "depth": report.stats.depth,
        "seconds": report.stats.seconds,
        "queue_left": report.stats.queue_left,
        "threads": report.stats.threads,
        "symmetry": report.stats.symmetry,
        "collision_probability": report.stats.collision_probability,
        "coverage": report.stats.coverage,
        "never_enabled": report.stats.never_enabled(),
        "vacuous": report.stats.vacuous(),
        "peak_rss_bytes": peak_rss_bytes(),
        "violation": report.violation,
    })
}

/// Prints a search's report, the counterexample first of all, then writes the ITF trace.
fn print_report(report: &Report, run: &RunArgs) -> Result<Verdict, RunError> {
    let verdict = Verdict::of_report(report);
    if run.json {
        let command = if report.target.contains(" -> ") {
            "refines"
        } else {
            "check"
        };
        outln!("{}", envelope(command, verdict.word(), report_json(report)));
    } else {
        outln!("{} ({})", report.target, report.params.describe());
        match (&report.violation, &report.stats.stopped) {
            (Some(v), _) => out!("{}", v.text),
            (None, Some(_)) => {
                outln!("The search is incomplete: no error was found in the states it explored.")
            }
            (None, None) => outln!("Model checking completed. No error has been found."),
        }
        out!("{}", summary_text(&report.stats));
        if report.violation.is_none() {
            out!("{}", vacuity_text(&report.stats));
        }
    }
    if let (Verdict::Incomplete, Some(why)) = (verdict, &report.stats.stopped) {
        eprintln!(
            "incomplete: {why}{}",
            match run.resume.as_ref().or(run.checkpoint.as_ref()) {
                Some(dir) if dir.join("checkpoint.json").exists() =>
                    format!(" (continue it with --resume {})", dir.display()),
                _ => String::new(),
            }
        );
    }
    write_trace(report.violation.as_ref(), run.trace_json.as_ref())?;
    Ok(verdict)
}

/// Refuses, before any search, a `--trace-json` path that cannot be written: a search of hours
/// must not end in a counterexample that cannot be saved. The file is created empty, and
/// filled only if a counterexample is found.
fn check_trace_path(path: Option<&PathBuf>) -> Result<(), RunError> {
    let Some(path) = path else { return Ok(()) };
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map(drop)
        .map_err(|e| {
            RunError(format!(
                "--trace-json {}: cannot write there ({e}); the search was not started",
                path.display()
            ))
        })
}

/// The edge a composite's failure names (`edge A -> B: ...`), if any.
fn failing_edge(detail: &str) -> Option<&str> {
    detail
        .strip_prefix("edge ")?
        .split_once(": ")
        .map(|(edge, _)| edge)
}

fn print_chain(reports: &[Report], run: &RunArgs) -> Result<Verdict, RunError> {
    let first_failure = reports.iter().find(|r| !r.as_expected());
    let vacuous: Vec<&Report> = reports.iter().filter(|r| r.vacuity().is_some()).collect();
    let incomplete = reports
        .iter()
        .any(|r| Verdict::of_report(r) == Verdict::Incomplete);
    let verdict = match first_failure {
        Some(r) => Verdict::of(r.violation.as_ref()),
        None if incomplete => Verdict::Incomplete,
        None if vacuous.is_empty() => Verdict::Holds,
        None => Verdict::Violation,
    };
    let trace = || {
        write_trace(
            first_failure.and_then(|r| r.violation.as_ref()),
            run.trace_json.as_ref(),
        )
    };
    if run.json {
        let rows: Vec<serde_json::Value> = reports.iter().map(report_json).collect();
        let value = envelope(
            "chain",
            verdict.word(),
            json!({
                "stopped": reports.iter().find_map(|r| r.stats.stopped.clone()),
                "generated": reports.iter().map(|r| r.stats.generated).sum::<u64>(),
                "distinct": reports.iter().map(|r| r.stats.distinct).sum::<u64>(),
                "depth": reports.iter().map(|r| r.stats.depth).max().unwrap_or(0),
                "seconds": reports.iter().map(|r| r.stats.seconds).sum::<f64>(),
                "violation": first_failure.map(|r| json!({"target": r.target, "violation": r.violation})),
                "expected_failures": reports
                    .iter()
                    .filter(|r| r.violation.is_some() && r.as_expected())
                    .map(|r| json!({"target": r.target, "violation": r.violation}))
                    .collect::<Vec<_>>(),
                "vacuous": vacuous
                    .iter()
                    .map(|r| json!({"target": r.target, "why": r.vacuity()}))
                    .collect::<Vec<_>>(),
                "rows": rows,
            }),
        );
        outln!("{value}");
        trace()?;
        return Ok(verdict);
    }
    let rows: Vec<[String; 7]> = reports
        .iter()
        .map(|r| {
            [
                r.target.clone(),
                r.params.describe(),
                match (&r.violation, r.as_expected()) {
                    (None, _) => match (&r.stats.stopped, r.vacuity()) {
                        (Some(why), _) => format!("INCOMPLETE: {why}"),
                        (None, Some(why)) => format!("VACUOUS: {why}"),
                        (None, None) => "holds".to_string(),
                    },
                    (Some(v), true) => format!("fails as expected: {}", v.property),
                    (Some(v), false) => match failing_edge(&v.detail) {
                        Some(edge) => format!("FAILS at edge {edge}"),
                        None => format!("FAILS: {}", v.property),
                    },
                },
                thousands(r.stats.generated),
                thousands(r.stats.distinct),
                r.stats.depth.to_string(),
                format!("{:.2}", r.stats.seconds),
            ]
        })
        .collect();
    let header = [
        "check",
        "bounds",
        "verdict",
        "generated",
        "distinct",
        "depth",
        "seconds",
    ]
    .map(String::from);
    let mut widths = [0usize; 7];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i < 3 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        outln!("{}", cells.join("  ").trim_end());
    }
    if let Some(r) = first_failure {
        let v = r.violation.as_ref().expect("a failing row has a violation");
        outln!("\nFirst failure, in {}:", r.target);
        out!("{}", v.text);
    } else if incomplete {
        outln!("\nNo violation was found, but some rows did not finish their search (see the verdicts): the chain is incomplete.");
        if let Some(dir) = run.resume.as_ref().or(run.checkpoint.as_ref()) {
            eprintln!(
                "incomplete: continue the chain with --resume {}",
                dir.display()
            );
        }
    } else if !vacuous.is_empty() {
        outln!("\nNo violation was found, but these rows are vacuous: their pass covers less of the model than it seems (a guard that can never hold, or bounds too small to reach it):");
        for r in &vacuous {
            outln!(
                "  {}: {}",
                r.target,
                r.vacuity().expect("a vacuous row says why")
            );
        }
    } else {
        outln!("\nEvery layer's invariants and every refinement edge hold at these bounds, except the documented expected failures:");
        for r in reports.iter().filter(|r| r.violation.is_some()) {
            if let (Some(v), Some(e)) = (&r.violation, &r.expected_failure) {
                let mut flags: Vec<String> = r
                    .params
                    .given()
                    .map(|(b, n)| format!(" {} {n}", b.flag()))
                    .collect();
                if r.stats.symmetry {
                    flags.push(" --symmetry".into());
                }
                outln!(
                    "  {}: {} ({}); a {}-state counterexample, printed by `refine {}{}`.",
                    r.target,
                    v.property,
                    e.why,
                    v.trace_length,
                    r.target,
                    flags.concat()
                );
            }
        }
    }
    trace()?;
    Ok(verdict)
}

/// One run of a benchmark model in a fresh process.
struct BenchRun {
    generated: u64,
    distinct: u64,
    seconds: f64,
    peak_rss: Option<u64>,
}

fn bench_run(
    exe: &std::path::Path,
    model: &BenchModel,
    threads: usize,
) -> Result<BenchRun, RunError> {
    let out = std::process::Command::new(exe)
        .args(model.args)
        .args(model.invariants.iter().flat_map(|i| ["--invariant", i]))
        .args([
            "--threads",
            &threads.to_string(),
            "--json",
            "--progress",
            "0",
        ])
        .output()
        .map_err(|e| RunError(format!("cannot run {}: {e}", exe.display())))?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        RunError(format!(
            "{} did not print a JSON report ({e}): {}",
            model.name,
            String::from_utf8_lossy(&out.stderr)
        ))
    })?;
    Ok(BenchRun {
        generated: v["generated"].as_u64().unwrap_or(0),
        distinct: v["distinct"].as_u64().unwrap_or(0),
        seconds: v["seconds"].as_f64().unwrap_or(0.0),
        peak_rss: v["peak_rss_bytes"].as_u64(),
    })
}

impl CommandLine<'_> {
    fn run_bench(&self, quick: bool, flagship: bool, repeat: usize) -> Result<Verdict, RunError> {
        if self.bench.is_empty() {
            return Err(RunError(format!("{} has no benchmark models", self.name)));
        }
        if repeat == 0 {
            return Err(RunError("--repeat must be at least 1".into()));
        }
        let exe = std::env::current_exe()
            .map_err(|e| RunError(format!("cannot find the refine executable: {e}")))?;
        outln!(
            "{:<62} {:>7} {:>14} {:>12} {:>8} {:>8} {:>12} {:>8} {:>10} {:>9} {:>10} {:>7}",
            "model",
            "threads",
            "generated",
            "distinct",
            "seconds",
            "best",
            "states/s",
            "speedup",
            "peak RSS",
            "B/distinct",
            "TLC st/s",
            "x TLC"
        );
        let models = self
            .bench
            .iter()
            .filter(|m| (m.quick || !quick) && (!m.flagship || flagship));
        for model in models {
            let threads: &[usize] = if model.flagship { &[2] } else { &[1, 2] };
            let repeat = if model.flagship { 1 } else { repeat };
            // Rounds interleave the thread counts, so that a slow stretch of the machine falls on
            // both alike.
            let mut runs: Vec<Vec<BenchRun>> = threads.iter().map(|_| Vec::new()).collect();
            for _ in 0..repeat {
                for (k, &t) in threads.iter().enumerate() {
                    runs[k].push(bench_run(&exe, model, t)?);
                }
            }
            let mut one_thread_median = None;
            for (k, &t) in threads.iter().enumerate() {
                let runs = &mut runs[k];
                if runs
                    .iter()
                    .any(|r| (r.generated, r.distinct) != (runs[0].generated, runs[0].distinct))
                {
                    return Err(RunError(format!(
                        "{}: runs with {t} threads disagree on the counts",
                        model.name
                    )));
                }
                runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
                let (generated, distinct) = (runs[0].generated, runs[0].distinct);
                let median = runs[runs.len() / 2].seconds;
                let best = runs[0].seconds;
                let rate = generated as f64 / median.max(1e-9);
                if t == 1 {
                    one_thread_median = Some(median);
                }
                let speedup = match one_thread_median {
                    Some(one) if t > 1 => format!("{:.2}", one / median.max(1e-9)),
                    _ => "-".into(),
                };
                let rss = runs.iter().filter_map(|r| r.peak_rss).max();
                let tlc_rate = model
                    .tlc_rate
                    .map(|(one, two)| if t == 1 { one } else { two });
                let (tlc, ratio) = match tlc_rate {
                    Some(tlc) => (thousands(tlc as u64), format!("{:.1}", rate / tlc)),
                    None => ("-".into(), "-".into()),
                };
                outln!(
                "{:<62} {:>7} {:>14} {:>12} {:>8.2} {:>8.2} {:>12} {:>8} {:>10} {:>9} {:>10} {:>7}",
                model.name,
                t,
                thousands(generated),
                thousands(distinct),
                median,
                best,
                thousands(rate as u64),
                speedup,
                rss.map_or("-".into(), |b| format!("{} MiB", b >> 20)),
                rss.map_or("-".into(), |b| (b / distinct.max(1)).to_string()),
                tlc,
                ratio
            );
            }
        }
        let runs = if repeat == 1 {
            "one run".to_string()
        } else {
            format!("the median of {repeat} runs (best: the fastest)")
        };
        outln!(
        "seconds: {runs}, each in a fresh process{}; states/s, speedup and x TLC from the median.",
        if flagship && repeat > 1 {
            " (the flagship: one run)"
        } else {
            ""
        }
    );
        outln!("TLC st/s: TLC's states generated per second on this machine, same model and invariants, as many workers (../shared/REFERENCE.md); x TLC: ours over TLC's.");
        outln!("Models with a TLC figure check the invariants of TLC's configuration (OnePrimaryPerTerm, StateMachineSafety, LeaderCompleteness); the others, all the layer's.");
        Ok(Verdict::Holds)
    }
}

/// A benchmark model of `bench`: a `check` command line and, where known, TLC's speed on it.
#[derive(Clone, Copy, Debug)]
pub struct BenchModel {
    /// A short description.
    pub name: &'static str,
    /// The arguments that run it (without `--threads` and `--json`).
    pub args: &'static [&'static str],
    /// TLC's states generated per second with 1 and 2 workers, where known.
    pub tlc_rate: Option<(f64, f64)>,
    /// The invariants TLC's configuration of the model checks (its `INVARIANT` lines); the
    /// benchmark checks the same ones, so both do the same work. Empty: all the layer declares.
    pub invariants: &'static [&'static str],
    /// Whether `--quick` runs it.
    pub quick: bool,
    /// A model of many minutes: run only with `--flagship`, and only with 2 threads.
    pub flagship: bool,
}

/// The peak resident memory of this process, in bytes (Linux; `None` elsewhere).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
