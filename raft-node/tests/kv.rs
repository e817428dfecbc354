//! The key-value service in the simulation: every run validates against the spec, the applied
//! maps of all nodes agree on their common prefix, and every acknowledged write is applied.

use raft_node::kv::{Command, KvState};
use raft_node::sim::{simulate, SimOptions};

fn seeds() -> u64 {
    std::env::var("RAFT_NODE_KV_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

#[test]
fn applied_maps_agree_and_hold_every_acknowledged_write() {
    let opts = SimOptions {
        kv: true,
        ..SimOptions::default()
    };
    let (mut applied_total, mut acknowledged_total, mut runs_with_two_appliers) = (0, 0, 0);
    for seed in 0..seeds() {
        let run = simulate(seed, &opts).unwrap();
        let v = raft_node::validate(opts.servers, &run.events)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(v.steps > 0);
        // Agreement: any two applied histories (of any nodes, any of their runs) agree on
        // their common prefix, entry by entry: same index, term and payload.
        for (a, (na, ka)) in run.applied.iter().enumerate() {
            for (nb, kb) in &run.applied[a + 1..] {
                for (x, y) in ka.history.iter().zip(&kb.history) {
                    assert_eq!(
                        x,
                        y,
                        "seed {seed}: n{} and n{} applied differently",
                        na + 1,
                        nb + 1
                    );
                }
            }
            // The map is the history's commands applied in order.
            let mut again = KvState::default();
            for (_, _, payload) in &ka.history {
                again.apply_command(&Command::decode(payload).expect("a command"));
            }
            assert_eq!(again.map, ka.map, "seed {seed}: n{}'s map", na + 1);
            assert_eq!(ka.applied as usize, ka.history.len());
        }
        // Every acknowledged write is applied, as a put or delete, at its (index, term).
        let longest = run
            .applied
            .iter()
            .map(|(_, k)| k)
            .max_by_key(|k| k.applied)
            .cloned()
            .unwrap_or_default();
        for &(index, term) in &run.committed_writes {
            let entry = longest.history.get(index as usize - 1).unwrap_or_else(|| {
                panic!("seed {seed}: the acknowledged write ({index}, {term}) is not applied")
            });
            assert_eq!((entry.0, entry.1), (index, term), "seed {seed}");
            assert!(matches!(
                Command::decode(&entry.2),
                Some(Command::Put { .. } | Command::Delete { .. })
            ));
        }
        applied_total += longest.applied;
        acknowledged_total += run.committed_writes.len();
        if run.applied.iter().filter(|(_, k)| k.applied > 0).count() >= 2 {
            runs_with_two_appliers += 1;
        }
    }
    eprintln!(
        "{} seeds: {acknowledged_total} acknowledged writes, {applied_total} entries applied (longest map per run), {runs_with_two_appliers} runs where two node runs applied",
        seeds()
    );
    assert!(acknowledged_total > 0 && applied_total > 0);
    assert!(
        runs_with_two_appliers > 0,
        "some runs change primary: the agreement check is not vacuous"
    );
}
