//! Reading results: TLC-style summaries, counterexamples in TLA+ notation, and ITF traces.
//!
//! A counterexample is printed as TLC prints one, state by state, with two additions: variables
//! that changed in a step are marked with `*`, and for a refinement check every state is followed
//! by its image at the upper level (also with changes marked) and every step by the upper step it
//! implements. The same trace is exported as ITF JSON, which the Apalache and Quint trace viewers
//! read; in it the upper image of each variable `x` is the field `upper.x`.

use crate::engine::{Counterexample, Observer, Stats, WalkStats};
use serde_json::{json, Map, Value};
pub use spec_core::itf::tla;
use spec_core::itf::{variables, Vars};
use spec_core::Spec;
use std::fmt::Write as _;

fn write_vars(
    out: &mut String,
    indent: &str,
    vars: &[(String, Value)],
    before: Option<&[(String, Value)]>,
) {
    for (name, value) in vars {
        let changed = before.is_some_and(|b| b.iter().any(|(n, v)| n == name && v != value));
        let mark = if changed { "*" } else { " " };
        let _ = writeln!(out, "{indent}{mark} {name} = {}", tla(value));
    }
}

/// The counterexample in TLA+ notation, changed variables marked with `*`.
pub fn trace_text<M: Spec, O: Observer<M>>(
    spec: &M,
    observer: &O,
    cex: &Counterexample<M>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Error: {}.", cex.failure.detail);
    let _ = writeln!(
        out,
        "The behavior up to this point is ({} state{}; * marks a variable that changed):",
        cex.steps.len(),
        if cex.steps.len() == 1 { "" } else { "s" }
    );
    let mut previous: Option<(Vars, Option<Vars>)> = None;
    for (i, step) in cex.steps.iter().enumerate() {
        let lower = variables(&serde_json::to_value(&step.state).unwrap_or(Value::Null));
        let upper = observer
            .upper_view(spec, &step.state)
            .map(|v| variables(&v));
        match &step.action {
            None => {
                let _ = writeln!(out, "State {}: <Initial predicate>", i + 1);
            }
            Some(action) => {
                let implements =
                    observer.upper_step(spec, &cex.steps[i - 1].state, action, &step.state);
                match implements {
                    Some(upper_step) => {
                        let _ = writeln!(
                            out,
                            "State {}: <{action}>  implements upper step: {upper_step}",
                            i + 1
                        );
                    }
                    None => {
                        let _ = writeln!(out, "State {}: <{action}>", i + 1);
                    }
                }
            }
        }
        write_vars(
            &mut out,
            "  ",
            &lower,
            previous.as_ref().map(|p| p.0.as_slice()),
        );
        if let Some(upper_vars) = &upper {
            let _ = writeln!(out, "  mapped to the upper level:");
            let before = previous.as_ref().and_then(|p| p.1.as_deref());
            write_vars(&mut out, "    ", upper_vars, before);
        }
        previous = Some((lower, upper));
    }
    out
}

/// The counterexample in the Informal Trace Format.
pub fn trace_itf<M: Spec, O: Observer<M>>(
    spec: &M,
    observer: &O,
    cex: &Counterexample<M>,
) -> Value {
    let mut vars: Vec<String> = Vec::new();
    let mut states = Vec::new();
    for (i, step) in cex.steps.iter().enumerate() {
        let mut object = Map::new();
        let mut meta = Map::new();
        meta.insert("index".into(), json!(i));
        meta.insert(
            "action".into(),
            json!(step
                .action
                .as_ref()
                .map_or("Init".to_string(), |a| a.to_string())),
        );
        if let (Some(action), true) = (&step.action, i > 0) {
            if let Some(upper) =
                observer.upper_step(spec, &cex.steps[i - 1].state, action, &step.state)
            {
                meta.insert("upper_step".into(), json!(upper));
            }
        }
        object.insert("#meta".into(), Value::Object(meta));
        for (name, value) in variables(&serde_json::to_value(&step.state).unwrap_or(Value::Null)) {
            if i == 0 {
                vars.push(name.clone());
            }
            object.insert(name, value);
        }
        if let Some(upper) = observer.upper_view(spec, &step.state) {
            for (name, value) in variables(&upper) {
                let name = format!("upper.{name}");
                if i == 0 {
                    vars.push(name.clone());
                }
                object.insert(name, value);
            }
        }
        states.push(Value::Object(object));
    }
    json!({
        "#meta": {
            "format": "ITF",
            "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
            "source": spec.name(),
            "description": cex.failure.detail,
            "violation": cex.failure.property,
        },
        "vars": vars,
        "states": states,
    })
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The summary TLC prints at the end of a run, plus rate and coverage.
pub fn summary_text(stats: &Stats) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} states generated, {} distinct states found, {} states left on queue.",
        thousands(stats.generated),
        thousands(stats.distinct),
        thousands(stats.queue_left)
    );
    if stats.queue_left == 0 {
        let _ = writeln!(
            out,
            "The depth of the complete state graph search is {}.",
            stats.depth
        );
    } else {
        let _ = writeln!(out, "The search stopped at depth {}.", stats.depth);
    }
    let _ = writeln!(
        out,
        "Finished in {:.2} s ({} states generated per second) with {} thread{}, symmetry {}.",
        stats.seconds,
        thousands((stats.generated as f64 / stats.seconds.max(1e-9)) as u64),
        stats.threads,
        if stats.threads == 1 { "" } else { "s" },
        if stats.symmetry { "on" } else { "off" }
    );
    let _ = writeln!(
        out,
        "Probability of a fingerprint collision (82 compared bits of 128-bit fingerprints): {:.1e}.",
        stats.collision_probability
    );
    if let Some(why) = &stats.stopped {
        let _ = writeln!(out, "The search did not finish: {why}.");
    }
    let _ = writeln!(
        out,
        "Coverage (successors generated / new distinct states):"
    );
    for c in &stats.coverage {
        let _ = writeln!(
            out,
            "  {:<24} {:>14} / {}",
            c.action,
            thousands(c.generated),
            thousands(c.distinct)
        );
    }
    out
}

/// Warnings that a pass covers less than it seems: no state past the initial ones, or actions
/// never enabled. Only a complete search that found no violation can say so (one that stopped
/// early has partial coverage); empty otherwise.
pub fn vacuity_text(stats: &Stats) -> String {
    let mut out = String::new();
    if stats.stopped.is_none() && stats.queue_left == 0 {
        if stats.vacuous() {
            let _ = writeln!(
                out,
                "Warning: no state beyond the initial states was reached: every check ran on \
                 the initial states only, and a pass says next to nothing."
            );
        }
        let never = stats.never_enabled();
        if !never.is_empty() {
            let _ = writeln!(
                out,
                "Warning: {} never enabled in any reachable state, so no check covered {}: {}.",
                if never.len() == 1 {
                    "one action was"
                } else {
                    "some actions were"
                },
                if never.len() == 1 { "it" } else { "them" },
                never.join(", ")
            );
        }
    }
    out
}

/// The summary of random walks.
pub fn walk_summary_text(stats: &WalkStats) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} walks, {} steps, {} successors generated, longest walk {} states, {:.2} s.",
        thousands(stats.walks),
        thousands(stats.steps),
        thousands(stats.generated),
        stats.longest,
        stats.seconds
    );
    let _ = writeln!(out, "Steps taken per action:");
    for c in &stats.coverage {
        let _ = writeln!(out, "  {:<24} {:>14}", c.action, thousands(c.generated));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
