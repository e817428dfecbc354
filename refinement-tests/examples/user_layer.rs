//! A layer of your own, checked with the harness from your own code, and run by name with
//! `refine`'s command line over a registry of your own (`refinement_tests::cli`, feature `cli`). Its dependencies: `spec-core`, `refinement-tests`, and
//! `log-abstract` for the level it refines; no layer of the MongoDB chain.
//!
//! ```sh
//! cargo run --release -p refinement-tests --features cli --example user_layer            # checks in code
//! cargo run --release -p refinement-tests --features cli --example user_layer -- list
//! cargo run --release -p refinement-tests --features cli --example user_layer -- check append-log --max-log-len 4
//! cargo run --release -p refinement-tests --features cli --example user_layer -- refines append-log log-abstract --mutation overwrite
//! cargo run --release -p refinement-tests --features cli --example user_layer -- chain
//! ```

use refinement_tests::cli::CommandLine;
use refinement_tests::registry::{EdgeDef, LayerDef, Registry};
use refinement_tests::{explore, Invariants, Options, RefinementCheck, RunError};
use spec_core::action_text::{self, ParseActionError};
use spec_core::{Action, Bound, Invariant, Layer, Params, ParamsError, Refinement, Spec};
use spec_core::{Parameter, StepMapping};
use std::process::ExitCode;

/// AppendLog: one writer appends values to a log of at most `max_len` entries, up to `batch`
/// copies of a value at once; an entry, once written, is decided. (With the mutation
/// `overwrite`, the writer may also rewrite the last entry.)
#[derive(Clone, Debug)]
struct AppendLog {
    values: usize,
    max_len: usize,
    batch: usize,
    overwrite: bool,
}

/// A bound of AppendLog's own: no layer of the workspace has it.
const BATCH: Bound = Bound::Named("--batch");

/// Its state: the log (slots past `len` stay 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct State {
    len: u8,
    log: [u8; 4],
}

spec_core::impl_pack!(State { len, log });

impl serde::Serialize for State {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut record = s.serialize_struct("State", 1)?;
        record.serialize_field("log", &self.log[..self.len as usize])?;
        record.end()
    }
}

/// Its actions: append `k` copies of value `v`, or (mutation) overwrite the last entry with `v`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Append(u8, u8),
    Overwrite(u8),
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Append(v, k) => write!(f, "Append({v}, {k})"),
            Step::Overwrite(v) => write!(f, "Overwrite({v})"),
        }
    }
}

impl std::str::FromStr for Step {
    type Err = ParseActionError;
    fn from_str(text: &str) -> Result<Self, ParseActionError> {
        action_text::parse(text, |name, args| match (name, args) {
            ("Append", [v, k]) => Ok(Step::Append(
                action_text::natural(v)?.min(255) as u8,
                action_text::natural(k)?.min(255) as u8,
            )),
            ("Overwrite", [v]) => Ok(Step::Overwrite(action_text::natural(v)?.min(255) as u8)),
            _ => Err(action_text::unknown(
                name,
                args,
                &["Append(v, k)", "Overwrite(v)"],
            )),
        })
    }
}

impl Action for Step {
    fn name(&self) -> &'static str {
        match self {
            Step::Append(..) => "Append",
            Step::Overwrite(_) => "Overwrite",
        }
    }
}

impl Spec for AppendLog {
    type State = State;
    type Action = Step;
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn params(&self) -> Params {
        let mut params = Params {
            values: Some(self.values),
            max_log_len: Some(self.max_len),
            ..Params::default()
        };
        params.set(BATCH, self.batch);
        params
    }
    fn action_names(&self) -> &'static [&'static str] {
        if self.overwrite {
            &["Append", "Overwrite"]
        } else {
            &["Append"]
        }
    }
    fn init_states(&self) -> Vec<State> {
        vec![State::default()]
    }
    fn next_states(&self, s: &State, out: &mut Vec<(Step, State)>) {
        for v in 0..self.values as u8 {
            let room = self.max_len - s.len as usize;
            for k in 1..=self.batch.min(room) as u8 {
                let mut next = *s;
                for _ in 0..k {
                    next.log[next.len as usize] = v;
                    next.len += 1;
                }
                out.push((Step::Append(v, k), next));
            }
            if self.overwrite && s.len > 0 && s.log[s.len as usize - 1] != v {
                let mut next = *s;
                next.log[s.len as usize - 1] = v;
                out.push((Step::Overwrite(v), next));
            }
        }
    }
    fn invariants(&self) -> Vec<Invariant<Self>> {
        vec![Invariant {
            name: "LogWithinBounds",
            holds: |m, s| (s.len as usize) <= m.max_len,
        }]
    }
}

impl Layer for AppendLog {
    const NAME: &'static str = "append-log";
    const DESCRIPTION: &'static str = "one writer appending to a log (a user's layer)";
    const PARAMETERS: &'static [Parameter] = &[
        Parameter::new(Bound::Values, 2, (1, 3), "values a writer may append"),
        Parameter::new(
            Bound::MaxLogLen,
            3,
            (1, 4),
            "the longest log; the state holds 4 entries",
        ),
        Parameter::new(BATCH, 1, (1, 4), "entries one Append writes"),
    ];
    fn from_params(params: &Params) -> Result<Self, ParamsError> {
        let [values, max_len, batch] = params.resolve::<3>(Self::NAME, Self::PARAMETERS)?;
        Ok(AppendLog {
            values,
            max_len,
            batch,
            overwrite: false,
        })
    }
}

/// The mapping to Log: the chosen entries are the log's entries.
struct ToLog {
    lower: AppendLog,
    upper: log_abstract::Log,
}

impl ToLog {
    fn new(lower: AppendLog) -> Result<Self, ParamsError> {
        let upper = log_abstract::Log::new(lower.values, lower.max_len)?;
        Ok(ToLog { lower, upper })
    }
}

impl Refinement for ToLog {
    type Lower = AppendLog;
    type Upper = log_abstract::Log;
    fn lower(&self) -> &AppendLog {
        &self.lower
    }
    fn upper(&self) -> &log_abstract::Log {
        &self.upper
    }
    fn map_state(&self, s: &State) -> log_abstract::LogState {
        let entries = s.log[..s.len as usize].iter().enumerate();
        self.upper
            .state_with(entries.map(|(i, &v)| (i + 1, v as usize)))
    }
    fn map_step(&self, s: &State, _: &Step, next: &State) -> StepMapping<log_abstract::Choose> {
        log_abstract::Log::step_between(&self.map_state(s), &self.map_state(next))
    }
}

spec_core::mutations! {
    /// The mutations of AppendLog, as a layer crate declares them.
    #[derive(Clone, Copy, Debug)]
    enum Mutation {
        /// Append may also rewrite the last entry.
        Overwrite = "overwrite" => "the writer may rewrite the last entry, which Log had chosen",
    }
}

fn with_mutation(mut spec: AppendLog, Mutation::Overwrite: Mutation) -> AppendLog {
    spec.overwrite = true;
    spec
}

/// A registry with the user's layer, Log, and the edge between them: one entry each.
fn registry() -> Registry {
    let mut registry = Registry::new();
    registry
        .layer(LayerDef::<log_abstract::Log>::new())
        .layer(LayerDef::<AppendLog>::new().mutations(with_mutation))
        .edge(EdgeDef::new(
            "append-log",
            "log-abstract",
            "chosen <- the log's entries",
            |run| run.check(&ToLog::new(run.lower()?)?),
        ));
    registry
}

/// The checks of the layer and its mapping, from code: about ten lines.
fn check_in_code() -> Result<(), RunError> {
    let spec = AppendLog::from_params(&Params::default())?;
    let options = Options {
        threads: 1,
        progress: None,
        ..Options::default()
    };
    let own = explore(&spec, &Invariants::of(&spec), &options)?;
    let mapping = ToLog::new(spec)?;
    let edge = explore(mapping.lower(), &RefinementCheck::new(&mapping), &options)?;
    assert!(own.violation.is_none() && edge.violation.is_none());
    println!(
        "append-log: {} distinct states, its invariant and its refinement of log-abstract hold",
        own.stats.distinct
    );
    Ok(())
}

/// The `refine` command line over the registry: `list`, `check LAYER`, `refines LOWER UPPER`,
/// `chain`, `simulate`, `replay`, with the bounds the layers declare as flags (`--batch N` is
/// AppendLog's own), `--mutation NAME`, `--json`, and `refine`'s exit statuses.
fn command_line(registry: &Registry) -> CommandLine<'_> {
    CommandLine::new(
        "user_layer",
        "Check AppendLog, a user's layer, and its mapping to Log.",
        registry,
    )
}

fn main() -> ExitCode {
    if std::env::args_os().len() > 1 {
        return command_line(&registry()).main();
    }
    match check_in_code() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use refinement_tests::cli::Verdict;

    fn run(args: &[&str]) -> Result<Verdict, RunError> {
        let registry = registry();
        command_line(&registry).run_from(["user_layer"].iter().chain(args))
    }

    #[test]
    fn the_user_layer_is_checked_from_code_and_by_name() {
        check_in_code().unwrap();
        assert_eq!(run(&["chain"]), Ok(Verdict::Holds));
        assert_eq!(run(&["list"]), Ok(Verdict::Holds));
        assert_eq!(
            run(&["check", "append-log", "--max-log-len", "4"]),
            Ok(Verdict::Holds)
        );
        assert_eq!(
            run(&["refines", "append-log", "log-abstract", "--batch", "3"]),
            Ok(Verdict::Holds)
        );
        // The mutation breaks the edge, not the layer's own invariant.
        assert_eq!(
            run(&["check", "append-log", "--mutation", "overwrite"]),
            Ok(Verdict::Holds)
        );
        assert_eq!(
            run(&[
                "refines",
                "append-log",
                "log-abstract",
                "--mutation",
                "overwrite"
            ]),
            Ok(Verdict::Violation)
        );
    }

    #[test]
    fn bad_input_is_an_error_from_the_declared_parameters() {
        let e = run(&["check", "append-log", "--max-log-len", "9"]).unwrap_err();
        assert_eq!(
            e.0,
            "layer append-log: --max-log-len 9 is out of range 1..=4 (the longest log; the state holds 4 entries)"
        );
        let e = run(&["check", "append-log", "--servers", "3"]).unwrap_err();
        assert!(
            e.0.starts_with("layer append-log has no bound --servers"),
            "{e}"
        );
        let e = run(&["check", "log-abstract", "--batch", "2"]).unwrap_err();
        assert!(
            e.0.starts_with("layer log-abstract has no bound --batch"),
            "{e}"
        );
        let e = run(&["check", "append-log", "--fanout", "2"]).unwrap_err();
        assert!(e.0.contains("unexpected argument '--fanout'"), "{e}");
        let e = run(&["check", "paxos"]).unwrap_err();
        assert_eq!(
            e.0,
            "unknown layer paxos; the layers are: log-abstract, append-log"
        );
    }
}
