//! Counterexamples rebuilt from fingerprints: the search keeps, per distinct state, only its
//! fingerprint and its parent's, so a violation's trace is found by following the parent links
//! back to an initial state, then replaying the specification forward along them. The trace
//! shows real states and actions, not the canonical representatives the search stored.

use super::{judge, view_of, Counterexample, Found, Observer, TraceStep};
use crate::fingerprint::Fingerprint;
use crate::spill::Blocks;
use crate::visited::{read_link, LINK_BYTES};
use spec_core::Spec;

/// The trace of the violation `found`, from an initial state to the failing step.
pub(super) fn rebuild<M: Spec, O: Observer<M>>(
    spec: &M,
    observer: &O,
    symmetry: bool,
    parents: &[Blocks],
    found: Found,
) -> std::io::Result<Counterexample<M>> {
    let chain = fingerprints_to(parents, &found)?;
    let inits = spec.init_states();
    let Some((&first, rest)) = chain.split_first() else {
        let init = inits
            .into_iter()
            .find(|s| {
                view_of(spec, symmetry, s) == found.target && observer.check_init(spec, s).is_err()
            })
            .expect("the failing initial state is an initial state");
        return Ok(Counterexample {
            failure: found.failure,
            steps: vec![TraceStep {
                action: None,
                state: init,
            }],
        });
    };
    let init = inits
        .into_iter()
        .find(|s| view_of(spec, symmetry, s) == first)
        .expect("the trace starts at an initial state");
    let mut steps = states_along(spec, symmetry, init, rest);
    if found.at_parent {
        return Ok(Counterexample {
            failure: found.failure,
            steps,
        });
    }
    let current = &steps.last().expect("trace is not empty").state;
    let (action, next, failure) = failing_step(spec, observer, symmetry, current, found.target);
    steps.push(TraceStep {
        action: Some(action),
        state: next,
    });
    Ok(Counterexample { failure, steps })
}

/// The fingerprints of the states from an initial state to `found`'s parent (empty when the
/// violation is at an initial state), by the parent links of each level.
fn fingerprints_to(parents: &[Blocks], found: &Found) -> std::io::Result<Vec<Fingerprint>> {
    let mut chain = Vec::new();
    let (mut fp, mut level) = (found.parent, found.level as usize);
    while fp != 0 {
        chain.push(fp);
        fp = parent_in(&parents[level - 1], fp)?.expect("every stored state has a parent link");
        level -= 1;
    }
    chain.reverse();
    Ok(chain)
}

/// The trace from `init` through the states of fingerprints `targets`, each reached by the
/// first successor (within the constraint) that has its fingerprint.
fn states_along<M: Spec>(
    spec: &M,
    symmetry: bool,
    init: M::State,
    targets: &[Fingerprint],
) -> Vec<TraceStep<M>> {
    let mut steps = vec![TraceStep {
        action: None,
        state: init,
    }];
    let mut successors = Vec::new();
    for &target in targets {
        let current = &steps.last().expect("trace is not empty").state;
        successors.clear();
        spec.next_states(current, &mut successors);
        let (action, next) = successors
            .drain(..)
            .find(|(_, next)| {
                spec.within_constraint(next) && view_of(spec, symmetry, next) == target
            })
            .expect("every recorded parent link is a transition");
        steps.push(TraceStep {
            action: Some(action),
            state: next,
        });
    }
    steps
}

/// The first step from `current` to a state of fingerprint `target` that fails a check.
fn failing_step<M: Spec, O: Observer<M>>(
    spec: &M,
    observer: &O,
    symmetry: bool,
    current: &M::State,
    target: Fingerprint,
) -> (M::Action, M::State, super::Failure) {
    let mut successors = Vec::new();
    spec.next_states(current, &mut successors);
    successors
        .into_iter()
        .find_map(|(action, next)| {
            if view_of(spec, symmetry, &next) != target {
                return None;
            }
            judge(spec, observer, current, &action, &next, true)
                .err()
                .map(|failure| (action, next, failure))
        })
        .expect("the failing transition is replayed")
}

/// The parent recorded for `fp` among the parent links of one level.
fn parent_in(links: &Blocks, fp: Fingerprint) -> std::io::Result<Option<Fingerprint>> {
    for i in 0..links.len() {
        let block = links.get(i)?;
        if let Some((_, parent)) = block
            .chunks_exact(LINK_BYTES)
            .map(read_link)
            .find(|&(f, _)| f == fp)
        {
            return Ok(Some(parent));
        }
    }
    Ok(None)
}
