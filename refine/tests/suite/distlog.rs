//! DistLog and Log: exact counts (cross-checked with TLC), the DistLog -> Log refinement, and
//! the counterexamples the checker prints when a guard or the mapping is broken.

use distlog::{ChosenMapping, DistLog, Mutation};
use log_abstract::Log;
use refinement_tests::report::{trace_itf, trace_text};
use refinement_tests::{
    explore, simulate, FailureKind, Invariants, Options, RefinementCheck, WalkOptions,
};

/// TLC on Log.cfg (Value = {v1, v2}, Nat = {1, 2, 3}): 168 generated, 27 distinct, depth 3.
#[test]
fn log_matches_tlc() {
    let log = Log::new(2, 3).unwrap();
    let out = explore(&log, &Invariants::of(&log), &Options::quiet(1, false)).unwrap();
    assert!(out.violation.is_none());
    assert_eq!(
        (out.stats.generated, out.stats.distinct, out.stats.depth),
        (168, 27, 3)
    );
}

/// TLC on DistLogMC.cfg (3 servers, 3 values, MaxLogLen 3, with the IsRefinement property):
/// 849,631 generated, 64,000 distinct, depth 10.
#[test]
fn distlog_refines_log_at_distlogmc_bounds_with_tlc_counts() {
    let mapping = ChosenMapping::new(DistLog::new(3, 3, 3).unwrap());
    for threads in [1, 2] {
        let out = explore(
            mapping.lower(),
            &RefinementCheck::new(&mapping),
            &Options::quiet(threads, false),
        )
        .unwrap();
        assert!(out.violation.is_none(), "threads {threads}");
        assert_eq!(
            (out.stats.generated, out.stats.distinct, out.stats.depth),
            (849_631, 64_000, 10),
            "threads {threads}"
        );
    }
}

/// TLC on DistLogMC.cfg plus `SYMMETRY Permutations(Server)`: 151,522 generated, 11,480
/// distinct, depth 10.
#[test]
fn distlog_symmetry_matches_tlc_and_agrees_on_the_verdict() {
    let mapping = ChosenMapping::new(DistLog::new(3, 3, 3).unwrap());
    for threads in [1, 2] {
        let out = explore(
            mapping.lower(),
            &RefinementCheck::new(&mapping),
            &Options::quiet(threads, true),
        )
        .unwrap();
        assert!(out.violation.is_none());
        assert_eq!(
            (out.stats.generated, out.stats.distinct, out.stats.depth),
            (151_522, 11_480, 10)
        );
    }
}

use spec_core::Refinement;

#[test]
fn removing_a_chosen_entry_breaks_the_refinement_with_a_shortest_trace() {
    let spec = DistLog::new(3, 3, 3)
        .unwrap()
        .with_mutation(Mutation::RemoveChosen);
    let mapping = ChosenMapping::new(spec);
    let mut traces = Vec::new();
    for (threads, symmetry) in [(1, false), (2, false), (1, true), (2, true)] {
        let check = RefinementCheck::new(&mapping);
        let out = explore(mapping.lower(), &check, &Options::quiet(threads, symmetry)).unwrap();
        let cex = out.violation.expect("the mutation is caught");
        assert_eq!(cex.failure.kind, FailureKind::Refinement);
        assert_eq!(cex.failure.property, "distlog -> log-abstract");
        let actions = cex.actions();
        // Three writes choose index 1, then one server removes it.
        assert_eq!(actions.len(), 4, "{actions:?}");
        assert!(actions[..3].iter().all(|a| a.starts_with("WriteNewEntry(")));
        assert!(actions[3].starts_with("RemoveEntry("));
        if !symmetry {
            // The reported trace is fixed by fingerprints, not by thread scheduling.
            assert_eq!(
                actions,
                [
                    "WriteNewEntry(n2, v1)",
                    "WriteNewEntry(n3, v1)",
                    "WriteNewEntry(n1, v1)",
                    "RemoveEntry(n1)"
                ]
            );
            traces.push(actions);
        }
        let text = trace_text(mapping.lower(), &check, &cex);
        assert!(
            text.contains("no log-abstract step leads from the mapped state"),
            "{text}"
        );
    }
    assert_eq!(
        traces[0], traces[1],
        "1 and 2 threads report the same trace"
    );
}

#[test]
fn a_broken_mapping_is_caught_at_three_states_and_printed_at_both_levels() {
    let mapping = ChosenMapping::new(DistLog::new(3, 3, 3).unwrap()).broken();
    let check = RefinementCheck::new(&mapping);
    let out = explore(mapping.lower(), &check, &Options::quiet(2, false)).unwrap();
    let cex = out.violation.expect("the broken mapping is caught");
    let actions = cex.actions();
    assert_eq!(actions, ["WriteNewEntry(n1, v3)", "RemoveEntry(n1)"]);
    let text = trace_text(mapping.lower(), &check, &cex);
    assert!(text.contains("State 1: <Initial predicate>"), "{text}");
    assert!(text.contains("mapped to the upper level:"), "{text}");
    assert!(
        text.contains("* chosen = "),
        "a changed upper variable is marked: {text}"
    );
    assert!(
        text.contains("* log = "),
        "a changed lower variable is marked: {text}"
    );
    let itf = trace_itf(mapping.lower(), &check, &cex);
    assert_eq!(itf["vars"], serde_json::json!(["log", "upper.chosen"]));
    assert_eq!(itf["states"].as_array().unwrap().len(), 3);
    assert_eq!(itf["states"][0]["log"]["#map"][0][0], "n1");
    assert_eq!(
        itf["states"][0]["upper.chosen"],
        serde_json::json!({"#set": []})
    );
}

#[test]
fn random_walks_find_the_mutation_and_are_reproducible() {
    let spec = DistLog::new(3, 2, 3)
        .unwrap()
        .with_mutation(Mutation::RemoveChosen);
    let mapping = ChosenMapping::new(spec);
    let walks = WalkOptions {
        walks: 2_000,
        depth: 40,
        seed: 7,
    };
    let first = simulate(mapping.lower(), &RefinementCheck::new(&mapping), &walks);
    let second = simulate(mapping.lower(), &RefinementCheck::new(&mapping), &walks);
    let a = first
        .violation
        .expect("random walks find the removal of a chosen entry");
    let b = second.violation.expect("the same seed finds it again");
    assert_eq!(a.steps.len(), b.steps.len());
    assert_eq!(first.stats.steps, second.stats.steps);
    assert!(a
        .steps
        .last()
        .unwrap()
        .action
        .unwrap()
        .to_string()
        .starts_with("RemoveEntry"));
}

#[test]
fn quickcheck_random_walks_through_the_refinement_check() {
    fn walk_refines(seed: u64) -> bool {
        let mapping = ChosenMapping::new(DistLog::new(3, 3, 3).unwrap());
        let walks = WalkOptions {
            walks: 3,
            depth: 30,
            seed,
        };
        simulate(mapping.lower(), &RefinementCheck::new(&mapping), &walks)
            .violation
            .is_none()
    }
    quickcheck::QuickCheck::new()
        .tests(200)
        .quickcheck(walk_refines as fn(u64) -> bool);
}

/// Log refines itself by the identity: the smallest second edge to compose with.
struct LogIdentity(Log);

impl Refinement for LogIdentity {
    type Lower = Log;
    type Upper = Log;
    fn lower(&self) -> &Log {
        &self.0
    }
    fn upper(&self) -> &Log {
        &self.0
    }
    fn map_state(&self, state: &log_abstract::LogState) -> log_abstract::LogState {
        *state
    }
    fn map_step(
        &self,
        _: &log_abstract::LogState,
        action: &log_abstract::Choose,
        _: &log_abstract::LogState,
    ) -> spec_core::StepMapping<log_abstract::Choose> {
        spec_core::StepMapping::Step(action.clone())
    }
}

#[test]
fn composed_mappings_check_like_their_parts_and_name_the_whole_path() {
    let spec = DistLog::new(3, 3, 3).unwrap();
    let mapping = ChosenMapping::new(spec.clone());
    let composed = spec_core::Composed::new(mapping.clone(), LogIdentity(mapping.upper().clone()));
    assert_eq!(composed.name(), "distlog -> log-abstract -> log-abstract");
    let out = explore(
        composed.lower(),
        &RefinementCheck::new(&composed),
        &Options::quiet(2, true),
    )
    .unwrap();
    assert!(out.violation.is_none());
    assert_eq!((out.stats.generated, out.stats.distinct), (151_522, 11_480));

    let broken = spec_core::Composed::new(mapping.broken(), LogIdentity(Log::new(3, 4).unwrap()));
    let cex = explore(
        broken.lower(),
        &RefinementCheck::new(&broken),
        &Options::quiet(2, false),
    )
    .unwrap()
    .violation
    .expect("the broken first edge breaks the composite");
    assert_eq!(
        cex.failure.property,
        "distlog -> log-abstract -> log-abstract"
    );
    assert_eq!(cex.steps.len(), 3);
}
