//! An exact canonical form of a state under server permutations (TLC's
//! `SYMMETRY Permutations(Server)`), computed without heap allocation.
//!
//! # The order that defines the representative
//!
//! Renaming servers moves each server's *local* values (its term, role, config term, config
//! version, the size of its config, and whether it belongs to its own config) together with it;
//! only the *members* of configs get renamed. Call those local values a server's signature. The
//! representative of a state is the least of its renamings under this order: first the
//! sequence of signatures (server 0's, then server 1's, ...), then the sequence of configs as
//! bitmasks.
//!
//! The least sequence of signatures is the sorted one, so only renamings that sort servers by
//! signature can be least: servers with distinct signatures have a forced position, and only
//! servers with equal signatures are tried in every order. For most states that leaves one
//! renaming or a handful instead of `n!`. Among them the least config sequence wins. Since the
//! signatures and configs together are the whole state, the result is the same for every
//! renaming of the input: a true canonical form, so distinct-state counts never depend on the
//! order states are found in.

use spec_core::symmetry::{canonical_order, rename_set, Rename};
#[cfg(test)]
use spec_core::ServerSet;

use crate::state::{State, MAX_SERVERS};

/// The permutation-invariant local values of server `i` (its signature), packed so that
/// comparing the numbers compares the values.
fn signature(s: &State, i: usize) -> u32 {
    let config = s.config[i];
    (s.current_term[i] as u32) << 21
        | (s.state[i] as u32) << 20
        | (s.config_term[i] as u32) << 12
        | (s.config_version[i] as u32) << 4
        | (config.len() as u32) << 1
        | config.contains(i) as u32
}

/// The canonical representative of `s` under every renaming of its servers.
pub fn canonical(s: &State) -> State {
    let n = s.servers as usize;
    let mut sig = [0u64; MAX_SERVERS];
    for (i, slot) in sig[..n].iter_mut().enumerate() {
        *slot = signature(s, i) as u64;
    }
    let (order, rename) = canonical_order(&sig[..n], &s.config[..n]);
    let mut out = State {
        servers: s.servers,
        ..State::default()
    };
    for (k, &from) in order[..n].iter().enumerate() {
        let from = from as usize;
        out.current_term[k] = s.current_term[from];
        out.state[k] = s.state[from];
        out.config_term[k] = s.config_term[from];
        out.config_version[k] = s.config_version[from];
        out.config[k] = rename_set(s.config[from], &rename);
    }
    out
}

/// `s` with its servers renamed: server `i` becomes `perm[i]`.
pub fn permute(s: &State, perm: &[u8]) -> State {
    let mut rename: Rename = [0; spec_core::MAX_SERVERS];
    rename[..perm.len()].copy_from_slice(perm);
    let mut out = *s;
    for i in s.server_ids() {
        let to = perm[i] as usize;
        out.current_term[to] = s.current_term[i];
        out.state[to] = s.state[i];
        out.config_term[to] = s.config_term[i];
        out.config_version[to] = s.config_version[i];
        out.config[to] = rename_set(s.config[i], &rename);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Role;
    use spec_core::symmetry::{check_canonical_form, Lcg};

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
        }
        s
    }

    #[test]
    fn every_renaming_has_the_same_representative() {
        let mut rng = Lcg(7);
        for n in 1..=5 {
            let states: Vec<State> = (0..300).map(|_| random_state(&mut rng, n)).collect();
            check_canonical_form(n, states, canonical, permute);
        }
    }

    #[test]
    fn states_in_different_classes_have_different_representatives() {
        let a = State::initial(3, ServerSet(0b011));
        let b = State::initial(3, ServerSet(0b111));
        assert_ne!(canonical(&a), canonical(&b));
        let a2 = State::initial(3, ServerSet(0b110));
        assert_eq!(canonical(&a), canonical(&a2));
    }
}
