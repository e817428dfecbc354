//! An exact canonical form of a cluster state under server permutations.
//!
//! Renaming servers moves each node's variables to its new name and renames every server the
//! state mentions: votes cast and collected, configs (the nodes' and those carried by
//! heartbeats), the per-server positions a primary recorded, and every message's sender and
//! receiver. The representative of a state is the renaming whose packed bytes are least. All
//! `n!` renamings are tried (6 for 3 servers): messages name servers in too many places for the
//! signature sort of the synchronous layers to stay simple, and the search spends most of its
//! time elsewhere. The result is the same for every renaming of the input, so distinct-state
//! counts never depend on the order states are found in.

use spec_core::symmetry::{rename_set, Rename};
use spec_core::Pack;

use crate::node::{Message, NodeState, NOBODY};
use crate::state::{Envelope, Network, State};

use spec_core::symmetry::renamings;

fn rename_message(m: Message, rename: &Rename) -> Message {
    match m {
        Message::Heartbeat {
            term,
            config,
            config_version,
            config_term,
        } => Message::Heartbeat {
            term,
            config: rename_set(config, rename),
            config_version,
            config_term,
        },
        other => other,
    }
}

/// `s` with server `i` renamed `rename[i]`.
pub fn permute(s: &State, rename: &Rename) -> State {
    let n = s.servers as usize;
    let mut out = *s;
    for i in 0..n {
        let from = &s.nodes[i];
        let mut node: NodeState = *from;
        if from.voted_for != NOBODY {
            node.voted_for = rename[from.voted_for as usize];
        }
        node.config = rename_set(from.config, rename);
        node.votes = rename_set(from.votes, rename);
        node.acked = rename_set(from.acked, rename);
        node.elected_config = rename_set(from.elected_config, rename);
        for (j, &to) in rename[..n].iter().enumerate() {
            node.matched[to as usize] = from.matched[j];
        }
        out.nodes[rename[i] as usize] = node;
    }
    let mut network = Network::EMPTY;
    for e in s.network.iter() {
        network.insert(Envelope {
            from: rename[e.from as usize],
            to: rename[e.to as usize],
            message: rename_message(e.message, rename),
        });
    }
    out.network = network;
    out
}

/// The canonical representative of `s`: its renaming with the least packed bytes.
pub fn canonical(s: &State) -> State {
    let n = s.servers as usize;
    let mut best: Option<(Vec<u8>, State)> = None;
    let mut bytes = Vec::with_capacity(State::MAX_PACKED);
    for rename in renamings(n) {
        let candidate = permute(s, rename);
        bytes.clear();
        candidate.pack(&mut bytes);
        if best.as_ref().is_none_or(|(b, _)| bytes < *b) {
            best = Some((bytes.clone(), candidate));
        }
    }
    best.map_or(*s, |(_, state)| state)
}

/// Whether `set` names only servers `0..n` (used by tests).
#[cfg(test)]
fn within(set: spec_core::ServerSet, n: usize) -> bool {
    set.is_subset(spec_core::ServerSet::all(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MessageRaft;
    use spec_core::Spec;

    #[test]
    fn every_renaming_of_a_reachable_state_has_the_same_representative() {
        let spec = MessageRaft::new(3, 1, 1, 2, 2, 1, 1).unwrap();
        let mut frontier = spec.init_states();
        let mut seen = std::collections::HashSet::new();
        let mut succ = Vec::new();
        while let Some(s) = frontier.pop() {
            if seen.len() > 3000 {
                break;
            }
            if !seen.insert(s) {
                continue;
            }
            let c = canonical(&s);
            for rename in renamings(3) {
                let p = permute(&s, rename);
                assert!(p.server_ids().all(|i| within(p.nodes[i].config, 3)));
                assert_eq!(canonical(&p), c, "{s:?}");
            }
            succ.clear();
            spec.next_states(&s, &mut succ);
            frontier.extend(
                succ.iter()
                    .map(|(_, t)| *t)
                    .filter(|t| spec.within_constraint(t)),
            );
        }
    }

    /// The states the edge to async-reconfig explores (message-raft with the history): on
    /// reachable states with a restart and a duplicate, breadth first, the canonical form is
    /// idempotent, the same for every renaming of the state (the nodes, the network, `votedFor`
    /// and the history renamed together), and itself a renaming of the state; and the mapping
    /// commutes with renaming (the mapped state of a renamed state is the renamed mapped state).
    #[test]
    fn the_history_is_renamed_with_the_nodes() {
        use async_reconfig::refinement::{Recordable, Recorded};
        use spec_core::Refinement;
        let spec = MessageRaft::new(3, 1, 2, 2, 2, 1, 1).unwrap();
        let mapping = crate::refinement::to_async_reconfig(spec).unwrap();
        let lower = mapping.lower();
        assert!(lower.has_symmetry());
        let rename_all = |s: &Recorded<State>, rename: &Rename| Recorded {
            lower: spec.permute(&s.lower, rename),
            voted_for: async_reconfig::symmetry::permute_voted_for(&s.voted_for, 3, rename),
            history: s.history.permute(3, rename),
        };
        let mut queue: std::collections::VecDeque<_> = lower.init_states().into();
        let mut seen = std::collections::HashSet::new();
        let mut succ = Vec::new();
        let mut states = Vec::new();
        while let Some(s) = queue.pop_front() {
            if states.len() >= 4000 {
                break;
            }
            if seen.insert(s) {
                states.push(s);
                succ.clear();
                lower.next_states(&s, &mut succ);
                queue.extend(succ.iter().map(|(_, t)| *t));
            }
        }
        let mut nontrivial = 0;
        for s in &states {
            let c = lower.canonical(s);
            assert_eq!(lower.canonical(&c), c, "idempotent: {s:?}");
            nontrivial += usize::from(c != *s);
            assert!(renamings(3).iter().any(|r| rename_all(s, r) == c));
            for rename in renamings(3) {
                let p = rename_all(s, rename);
                assert_eq!(lower.canonical(&p), c, "{s:?} {rename:?}");
                let mapped = async_reconfig::symmetry::permute(&mapping.map_state(s), rename);
                assert_eq!(mapping.map_state(&p), mapped, "{s:?} {rename:?}");
            }
        }
        assert!(
            nontrivial > 1000,
            "{nontrivial} states were not their own representative"
        );
    }
}
