//! An exact canonical form of a state under server permutations (TLC's
//! `SYMMETRY Permutations(Server)`), computed without heap allocation. The method is
//! logless-raft's (see `logless_raft::symmetry`), with the log added to each server's signature.
//!
//! # The order that defines the representative
//!
//! Renaming servers moves each server's *local* values with it: its term, role, config term,
//! config version, log, the size of its config and whether it belongs to its own config. Call
//! those a server's signature. Only the *members* of configs get renamed; `committed` names no
//! server and never changes. The representative of a state is the least of its renamings under
//! this order: first the sequence of signatures (server 0's, then server 1's, ...), then the
//! sequence of configs as bitmasks.
//!
//! The least sequence of signatures is the sorted one, so only renamings that sort servers by
//! signature can be least: a server with a signature of its own has a forced position, and only
//! servers with equal signatures are tried in every order, keeping the least config sequence.
//! Signatures, configs and `committed` together are the whole state, so the result is the same
//! for every renaming of the input: a true canonical form, and distinct-state counts never
//! depend on the order states are found in.

use spec_core::symmetry::{canonical_order, rename_set, Rename};
#[cfg(test)]
use spec_core::ServerSet;

use crate::state::{State, MAX_SERVERS};

/// The permutation-invariant local values of server `i` (its signature), packed so that
/// comparing the numbers compares the values. Terms in logs are at most 7 (3 bits each): the
/// layer's bounds keep every term at most `MaxTerm + 1 <= 6`.
fn signature(s: &State, i: usize) -> u64 {
    let config = s.config[i];
    let log = s.log[i].as_slice();
    let mut packed_log = log.len() as u64;
    for &t in log {
        debug_assert!(t < 8, "log terms fit in 3 bits");
        packed_log = packed_log << 3 | t as u64;
    }
    packed_log <<= 3 * (6 - log.len());
    (s.current_term[i] as u64) << 42
        | (s.state[i] as u64) << 41
        | (s.config_term[i] as u64) << 33
        | (s.config_version[i] as u64) << 25
        | (config.len() as u64) << 22
        | (config.contains(i) as u64) << 21
        | packed_log
}

/// The canonical representative of `s` under every renaming of its servers.
pub fn canonical(s: &State) -> State {
    let n = s.servers as usize;
    let mut sig = [0u64; MAX_SERVERS];
    for (i, slot) in sig[..n].iter_mut().enumerate() {
        *slot = signature(s, i);
    }
    let (order, _) = canonical_order(&sig[..n], &s.config[..n]);
    reorder(s, &order[..n])
}

/// `s` with the server at position `k` of `order` renamed to `k`.
fn reorder(s: &State, order: &[u8]) -> State {
    let mut rename: Rename = [0; spec_core::MAX_SERVERS];
    for (k, &from) in order.iter().enumerate() {
        rename[from as usize] = k as u8;
    }
    let mut out = *s;
    for (k, &from) in order.iter().enumerate() {
        let from = from as usize;
        out.current_term[k] = s.current_term[from];
        out.state[k] = s.state[from];
        out.config_term[k] = s.config_term[from];
        out.config_version[k] = s.config_version[from];
        out.log[k] = s.log[from];
        out.config[k] = rename_set(s.config[from], &rename);
    }
    out
}

/// `s` with its servers renamed: server `i` becomes `perm[i]`.
pub fn permute(s: &State, perm: &[u8]) -> State {
    let mut order = [0u8; MAX_SERVERS];
    for (i, &to) in perm.iter().enumerate() {
        order[to as usize] = i as u8;
    }
    reorder(s, &order[..perm.len()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use spec_core::symmetry::{check_canonical_form, Lcg};
    use spec_core::Role;
    use static_raft::{Committed, CommittedEntry};

    /// States with few distinct values, so that many servers tie on their signatures.
    fn random_state(rng: &mut Lcg, n: usize) -> State {
        let mut s = State::initial(n, ServerSet::all(n));
        for i in 0..n {
            s.current_term[i] = rng.below(2) as u8;
            s.state[i] = if rng.below(4) == 0 {
                Role::Primary
            } else {
                Role::Secondary
            };
            s.config_term[i] = rng.below(2) as u8;
            s.config_version[i] = 1 + rng.below(2) as u8;
            s.config[i] = ServerSet(rng.below(1 << n) as u16);
            for _ in 0..rng.below(3) {
                s.log[i].push(1 + rng.below(2) as u8);
            }
        }
        if rng.below(2) == 0 {
            s.committed = Committed::EMPTY.with(CommittedEntry {
                index: 1,
                entry_term: 1,
                term: 1,
            });
        }
        s
    }

    #[test]
    fn every_renaming_has_the_same_representative() {
        let mut rng = Lcg(11);
        for n in 1..=5 {
            let states: Vec<State> = (0..200).map(|_| random_state(&mut rng, n)).collect();
            check_canonical_form(n, states, canonical, permute);
        }
    }

    #[test]
    fn logs_tell_servers_apart() {
        let mut a = State::initial(3, ServerSet::all(3));
        a.log[0].push(1);
        let mut b = State::initial(3, ServerSet::all(3));
        b.log[1].push(1);
        let mut c = State::initial(3, ServerSet::all(3));
        c.log[1].push(2);
        assert_eq!(canonical(&a), canonical(&b));
        assert_ne!(canonical(&a), canonical(&c));
    }
}
