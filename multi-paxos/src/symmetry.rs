//! An exact canonical form of a cluster state under renamings of the acceptors.
//!
//! Acceptors are interchangeable: nothing in the protocol compares or orders them, only counts
//! them (a quorum is any majority). Renaming them moves each acceptor's `ballot_num` to its new
//! name and renames every set of acceptors the state holds (the acceptors that accepted each
//! pvalue, a scout's promisers, a commander's acceptors) and every message's acceptor end. The
//! representative of a state is the renaming whose packed bytes are least; all `n!` renamings
//! are tried (6 for 3 acceptors, 120 for 5), so the result is the same for every renaming of
//! the input, and distinct-state counts never depend on the order states are found in.
//!
//! Leaders are not interchangeable (a ballot's order compares leader ids), so they keep their
//! names, and so do replicas in this reduction.

use spec_core::symmetry::{rename_set, Rename};
use spec_core::Pack;

use crate::state::{Commander, Envelope, Network, RoleKind, State};

use spec_core::symmetry::renamings;

/// `s` with acceptor `a` renamed `rename[a]`.
pub fn permute(s: &State, rename: &Rename) -> State {
    let mut out = *s;
    for a in s.acceptor_ids() {
        out.promised[rename[a] as usize] = s.promised[a];
    }
    for per_slot in out.votes.iter_mut() {
        for per_value in per_slot.iter_mut() {
            for set in per_value.iter_mut() {
                *set = rename_set(*set, rename);
            }
        }
    }
    for l in s.leader_ids() {
        let leader = &mut out.leader[l];
        leader.promised_by = rename_set(leader.promised_by, rename);
        for c in leader.commanders.iter_mut() {
            if let Commander::Waiting(set) = c {
                *set = rename_set(*set, rename);
            }
        }
    }
    let mut network = Network::EMPTY;
    for e in s.network.iter() {
        let (from, to) = e.message.route();
        let acceptor = |role, i: u8| {
            if role == RoleKind::Acceptor {
                rename[i as usize]
            } else {
                i
            }
        };
        network.insert(Envelope {
            from: acceptor(from, e.from),
            to: acceptor(to, e.to),
            message: e.message,
        });
    }
    out.network = network;
    out
}

/// The canonical representative of `s`: its renaming with the least packed bytes.
pub fn canonical(s: &State) -> State {
    let mut best: Option<(Vec<u8>, State)> = None;
    let mut bytes = Vec::with_capacity(State::MAX_PACKED);
    for rename in renamings(s.acceptors as usize) {
        let candidate = permute(s, rename);
        bytes.clear();
        candidate.pack(&mut bytes);
        if best.as_ref().is_none_or(|(b, _)| bytes < *b) {
            best = Some((bytes.clone(), candidate));
        }
    }
    best.map_or(*s, |(_, state)| state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Bounds, MultiPaxos};
    use spec_core::Spec;

    /// Every renaming of a reachable state has the same representative, and renaming keeps
    /// every invariant's verdict.
    #[test]
    fn every_renaming_of_a_reachable_state_has_the_same_representative() {
        let spec = MultiPaxos::new(Bounds {
            max_round: 2,
            ..Bounds::default()
        })
        .unwrap();
        let invariants = spec.invariants();
        for s in spec_core::reachable_states(&spec, 5_000) {
            let c = canonical(&s);
            for rename in renamings(3) {
                let p = permute(&s, rename);
                assert_eq!(canonical(&p), c, "{s:?}");
                for inv in &invariants {
                    assert_eq!(
                        (inv.holds)(&spec, &p),
                        (inv.holds)(&spec, &s),
                        "{}",
                        inv.name
                    );
                }
            }
        }
    }
}
