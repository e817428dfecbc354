//! An exact canonical form under server permutations, for AsyncReconfig's states and for the
//! states of a lower level run with the history ([`crate::WithHistory`]).
//!
//! # Why renaming servers is a symmetry here
//!
//! No guard or effect of AsyncReconfig names a particular server: every action is enumerated
//! for every server, quorums are majorities of a config, and the history's facts are stored
//! per server and per term. Renaming servers moves each server's variables to its new name and
//! renames every server a value names: `votedFor` and the votes the history recorded (the
//! candidate voted for), the configs (current, and every config the history recorded, as
//! member sets). Candidacies (`stood`), positions (`held`), acknowledgements (`acked`) and logs
//! (`entries`) name no server in their values; they move with the server they are indexed by,
//! or not at all. So the successors of a renamed state are the renamed successors, and the
//! invariants (and the mappings into this level, whose states are the lower servers' variables
//! plus the same history) do not depend on the names.
//!
//! One caveat, not a gap: [`History::record`] keeps the first value it records for a fact, and
//! within one state it visits servers in index order, so if two servers made one fact true
//! with different values in the same step, the recorded value would depend on the names. The
//! facts whose values could differ (a config per config term and version; an entry's
//! predecessor) are unique in every reachable state (a config is identified by its term and
//! version; LogMatching), so it never happens.
//!
//! # The representative
//!
//! The representative of a state is its renaming whose packed bytes are least. All `n!`
//! renamings are tried (6 for 3 servers). The encoding is self-delimiting (it decodes
//! exactly), so comparing the bytes of `(head, votedFor, history)` compares the head's bytes
//! first: the history is renamed only for the renamings that tie on the head (the server
//! variables, or the lower level's state), which past the first few levels is one. The result
//! is the same for every renaming of the input, so distinct-state counts never depend on the
//! order in which states are found.

use std::cmp::Ordering;

use spec_core::symmetry::{rename_set, Rename};
use spec_core::{Pack, ServerSet};

use crate::state::{History, State, MAX_SERVERS, TERMS, VERSIONS};

/// Every permutation of `0..n` as renamings (spec-core's table).
pub use spec_core::symmetry::renamings;

/// `votedFor` (plus one; 0 for none) with server `i` renamed `rename[i]`.
pub fn permute_voted_for(
    voted_for: &[u8; MAX_SERVERS],
    n: usize,
    rename: &Rename,
) -> [u8; MAX_SERVERS] {
    let mut out = [0; MAX_SERVERS];
    for i in 0..n {
        out[rename[i] as usize] = match voted_for[i] {
            0 => 0,
            v => rename[v as usize - 1] + 1,
        };
    }
    out
}

impl History {
    /// The history of the renamed behaviour: each server's facts under its new name, the
    /// candidates voted for and the configs' members renamed.
    pub fn permute(&self, n: usize, rename: &Rename) -> History {
        let mut out = *self;
        for t in 0..TERMS {
            for i in 0..n {
                let to = rename[i] as usize;
                out.stood[t][to] = self.stood[t][i];
                out.held[t][to] = self.held[t][i];
                out.acked[t][to] = self.acked[t][i];
                out.voted[t][to] = match self.voted[t][i] {
                    0 => 0,
                    v => rename[v as usize - 1] + 1,
                };
            }
            for v in 0..VERSIONS {
                out.configs[t][v] =
                    rename_set(ServerSet(self.configs[t][v] as u16), rename).0 as u8;
            }
        }
        out
    }
}

/// The renaming of `(head, votedFor, history)` whose packed bytes are least, where `head(r)` is
/// the head renamed by `r` (see the module docs).
pub fn least_renaming<H: Pack>(
    n: usize,
    head: impl Fn(&Rename) -> H,
    voted_for: &[u8; MAX_SERVERS],
    history: &History,
) -> (H, [u8; MAX_SERVERS], History) {
    thread_local! {
        // The best head's bytes and a candidate's, kept between calls: every successor the
        // search generates is canonicalized.
        static BUFFERS: std::cell::RefCell<(Vec<u8>, Vec<u8>)> = const {
            std::cell::RefCell::new((Vec::new(), Vec::new()))
        };
    }
    BUFFERS.with_borrow_mut(|(best_bytes, bytes)| {
        best_bytes.resize(H::MAX_PACKED, 0);
        bytes.resize(H::MAX_PACKED, 0);
        let mut best: Option<(H, usize)> = None;
        // The renamings that tie on the least head so far, as indexes (`n! <= 120`).
        let mut ties = [0u8; 120];
        let mut tied = 0;
        for (k, rename) in renamings(n).iter().enumerate() {
            let candidate = head(rename);
            let len = candidate.pack_into(bytes);
            let order = match &best {
                None => Ordering::Less,
                Some((_, best_len)) => bytes[..len].cmp(&best_bytes[..*best_len]),
            };
            if order == Ordering::Less {
                std::mem::swap(bytes, best_bytes);
                best = Some((candidate, len));
                tied = 0;
            }
            if order != Ordering::Greater {
                ties[tied] = k as u8;
                tied += 1;
            }
        }
        let (head, _) = best.expect("at least the identity renaming");
        let tail = |k: u8| {
            let rename = &renamings(n)[k as usize];
            (
                permute_voted_for(voted_for, n, rename),
                history.permute(n, rename),
            )
        };
        let mut best_tail = tail(ties[0]);
        if tied > 1 {
            let packed = |t: &([u8; MAX_SERVERS], History)| {
                let mut out = Vec::new();
                t.0.pack(&mut out);
                t.1.pack(&mut out);
                out
            };
            let mut best_packed = packed(&best_tail);
            for &k in &ties[1..tied] {
                let candidate = tail(k);
                let candidate_packed = packed(&candidate);
                if candidate_packed < best_packed {
                    best_packed = candidate_packed;
                    best_tail = candidate;
                }
            }
        }
        (head, best_tail.0, best_tail.1)
    })
}

/// `s` with server `i` renamed `rename[i]`.
pub fn permute(s: &State, rename: &Rename) -> State {
    let n = s.core.servers as usize;
    State {
        core: raft_reconfig::symmetry::permute(&s.core, &rename[..n]),
        voted_for: permute_voted_for(&s.voted_for, n, rename),
        history: s.history.permute(n, rename),
    }
}

/// The canonical representative of `s`: its renaming with the least packed bytes.
pub fn canonical(s: &State) -> State {
    let n = s.core.servers as usize;
    let (core, voted_for, history) = least_renaming(
        n,
        |rename| raft_reconfig::symmetry::permute(&s.core, &rename[..n]),
        &s.voted_for,
        &s.history,
    );
    State {
        core,
        voted_for,
        history,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AsyncReconfig;
    use spec_core::Spec;

    /// Reachable states (breadth first, the first `limit`), with every renaming of each: the
    /// canonical form is idempotent, the same for every renaming, and a renaming of the state.
    #[test]
    fn the_canonical_form_is_exact_on_reachable_states() {
        let spec = AsyncReconfig::new(3, 1, 2, 2).unwrap();
        let mut queue: std::collections::VecDeque<State> = spec.init_states().into();
        let mut seen = std::collections::HashSet::new();
        let mut succ = Vec::new();
        let mut states = Vec::new();
        while let Some(s) = queue.pop_front() {
            if states.len() >= 3000 {
                break;
            }
            if !seen.insert(s) {
                continue;
            }
            states.push(s);
            succ.clear();
            spec.next_states(&s, &mut succ);
            queue.extend(
                succ.iter()
                    .map(|(_, t)| *t)
                    .filter(|t| spec.within_constraint(t)),
            );
        }
        for s in &states {
            let c = canonical(s);
            assert_eq!(canonical(&c), c, "idempotent");
        }
        spec_core::symmetry::check_canonical_form(3, states, canonical, |s, p| {
            let mut rename: Rename = [0; spec_core::MAX_SERVERS];
            rename[..3].copy_from_slice(p);
            permute(s, &rename)
        });
    }

    /// Renaming commutes with the steps: the successors of a renamed state are the renamed
    /// successors (the symmetry is exact).
    #[test]
    fn renaming_commutes_with_the_steps() {
        let spec = AsyncReconfig::new(3, 1, 2, 2).unwrap();
        let mut frontier = spec.init_states();
        let mut succ = Vec::new();
        let mut checked = 0;
        for _ in 0..6 {
            let mut next_frontier = Vec::new();
            for s in frontier.iter().take(200) {
                succ.clear();
                spec.next_states(s, &mut succ);
                let mut after: Vec<State> = succ.iter().map(|(_, t)| canonical(t)).collect();
                after.sort_by_key(packed);
                for rename in renamings(3) {
                    let mut renamed = Vec::new();
                    spec.next_states(&permute(s, rename), &mut renamed);
                    let mut got: Vec<State> = renamed.iter().map(|(_, t)| canonical(t)).collect();
                    got.sort_by_key(packed);
                    assert_eq!(got, after, "{s:?} {rename:?}");
                    checked += 1;
                }
                next_frontier.extend(succ.iter().map(|(_, t)| *t));
            }
            frontier = next_frontier;
        }
        assert!(checked > 1000, "{checked}");
    }

    fn packed(s: &State) -> Vec<u8> {
        let mut out = Vec::new();
        s.pack(&mut out);
        out
    }
}
