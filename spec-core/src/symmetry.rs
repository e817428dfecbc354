//! Exact canonical forms under server permutations, without trying all `n!` renamings.
//!
//! Renaming servers moves each server's *local* values (its term, role, log, ...) with it, and
//! renames the *members* of every server set it holds (its config). Pack a server's local
//! values into a number, its *signature*, so that comparing numbers compares values. Order the
//! renamings of a state first by the sequence of signatures (server 0's, server 1's, ...), then
//! by the sequence of renamed configs as bitmasks: the least renaming is the representative.
//!
//! The least signature sequence is the sorted one, so only renamings that sort servers by
//! signature can be least: a server with a signature of its own has a forced position, and only
//! servers with equal signatures are tried in every order, keeping the least config sequence.
//! For most states that is one renaming or a handful. If the signatures, the configs and the
//! variables that name no server make up the whole state, the result is the same for every
//! renaming of the input: a true canonical form, so distinct-state counts never depend on the
//! order in which states are found.

use crate::servers::{ServerSet, MAX_SERVERS};

/// A renaming of servers: server `s` becomes `rename[s]`; one slot per bit of a [`ServerSet`].
pub type Rename = [u8; MAX_SERVERS];

/// Every permutation of servers `0..n` as a [`Rename`] (the identity first, as
/// [`crate::permutations`] orders them), computed once per `n` and kept for the process: the
/// renamings a canonical form tries on every state it is asked for.
pub fn renamings(n: usize) -> &'static [Rename] {
    use std::sync::OnceLock;
    static TABLES: [OnceLock<Vec<Rename>>; MAX_SERVERS + 1] =
        [const { OnceLock::new() }; MAX_SERVERS + 1];
    TABLES[n].get_or_init(|| {
        crate::permutations(n)
            .into_iter()
            .map(|p| {
                let mut rename: Rename = [0; MAX_SERVERS];
                rename[..n].copy_from_slice(&p);
                rename
            })
            .collect()
    })
}

/// Renames the members of `set`.
pub fn rename_set(set: ServerSet, rename: &Rename) -> ServerSet {
    let mut bits = set.0;
    let mut out = 0u16;
    while bits != 0 {
        let s = bits.trailing_zeros() as usize;
        out |= 1 << rename[s];
        bits &= bits - 1;
    }
    ServerSet(out)
}

/// The canonical order of servers `0..n` (`n = signatures.len() = configs.len()`): the server
/// to put at each position, and the renaming it amounts to (`rename[order[k]] == k`).
pub fn canonical_order(signatures: &[u64], configs: &[ServerSet]) -> ([u8; MAX_SERVERS], Rename) {
    let n = signatures.len();
    debug_assert_eq!(n, configs.len());
    let mut order = [0u8; MAX_SERVERS];
    let mut sorted = [0u64; MAX_SERVERS];
    let mut ties = false;
    // Insertion sort by signature: n is small.
    for (i, &sig) in signatures.iter().enumerate() {
        let mut k = i;
        while k > 0 && sorted[k - 1] > sig {
            sorted[k] = sorted[k - 1];
            order[k] = order[k - 1];
            k -= 1;
        }
        ties |= k > 0 && sorted[k - 1] == sig;
        sorted[k] = sig;
        order[k] = i as u8;
    }
    if ties {
        let mut search = TieSearch {
            signatures,
            configs,
            sorted,
            order: [0; MAX_SERVERS],
            used: 0,
            best_configs: [0; MAX_SERVERS],
            best_order: order,
            found: false,
        };
        search.place(0);
        order = search.best_order;
    }
    (order, renaming(&order[..n]))
}

/// The renaming that puts server `order[k]` at `k`.
fn renaming(order: &[u8]) -> Rename {
    let mut rename = [0u8; MAX_SERVERS];
    for (k, &from) in order.iter().enumerate() {
        rename[from as usize] = k as u8;
    }
    rename
}

/// The search over the renamings that keep signatures sorted.
struct TieSearch<'a> {
    signatures: &'a [u64],
    configs: &'a [ServerSet],
    sorted: [u64; MAX_SERVERS],
    order: [u8; MAX_SERVERS],
    used: u32,
    best_configs: [u16; MAX_SERVERS],
    best_order: [u8; MAX_SERVERS],
    found: bool,
}

impl TieSearch<'_> {
    /// Places a server at position `k` and every later one, in every way that keeps the
    /// signatures sorted.
    fn place(&mut self, k: usize) {
        let n = self.signatures.len();
        if k == n {
            self.evaluate();
            return;
        }
        for s in 0..n {
            if self.used & (1 << s) == 0 && self.signatures[s] == self.sorted[k] {
                self.used |= 1 << s;
                self.order[k] = s as u8;
                self.place(k + 1);
                self.used &= !(1 << s);
            }
        }
    }

    /// Compares the configs under the complete renaming `order` with the best so far.
    fn evaluate(&mut self) {
        let n = self.signatures.len();
        let rename = renaming(&self.order[..n]);
        let mut configs = [0u16; MAX_SERVERS];
        for (k, config) in configs[..n].iter_mut().enumerate() {
            *config = rename_set(self.configs[self.order[k] as usize], &rename).0;
        }
        if !self.found || configs < self.best_configs {
            self.found = true;
            self.best_configs = configs;
            self.best_order = self.order;
        }
    }
}

/// A small deterministic generator of numbers (a linear congruential one), so that a layer's
/// tests of its canonical form draw random states with no dependency.
#[derive(Clone, Debug)]
pub struct Lcg(pub u64);

impl Lcg {
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Checks a canonical form on `states` of `servers` servers, for a layer's tests: every renaming
/// of a state (`permute(state, perm)`: server `i` becomes `perm[i]`) has the state's
/// representative, and the representative is itself a renaming of the state. Panics, naming the
/// state and the renaming, where it is not so.
pub fn check_canonical_form<S: PartialEq + std::fmt::Debug>(
    servers: usize,
    states: impl IntoIterator<Item = S>,
    canonical: impl Fn(&S) -> S,
    permute: impl Fn(&S, &[u8]) -> S,
) {
    let perms = crate::permutations(servers);
    for s in states {
        let c = canonical(&s);
        for p in &perms {
            assert_eq!(canonical(&permute(&s, p)), c, "state {s:?} perm {p:?}");
        }
        assert!(
            perms.iter().any(|p| permute(&s, p) == c),
            "the representative of {s:?} is no renaming of it"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permutations;

    #[test]
    fn the_order_is_the_same_for_every_renaming() {
        // Three servers with equal signatures, told apart only by their configs.
        let sigs = [5u64, 5, 5, 1];
        let configs = [
            ServerSet(0b0011),
            ServerSet(0b0110),
            ServerSet(0b1111),
            ServerSet(0b0001),
        ];
        let canonical = |sigs: &[u64], configs: &[ServerSet]| {
            let (order, rename) = canonical_order(sigs, configs);
            let renamed: Vec<(u64, u16)> = order[..sigs.len()]
                .iter()
                .map(|&s| (sigs[s as usize], rename_set(configs[s as usize], &rename).0))
                .collect();
            renamed
        };
        let expected = canonical(&sigs, &configs);
        for perm in permutations(4) {
            let mut rename = [0u8; MAX_SERVERS];
            rename[..4].copy_from_slice(&perm);
            let mut psigs = [0u64; 4];
            let mut pconfigs = [ServerSet::EMPTY; 4];
            for i in 0..4 {
                psigs[perm[i] as usize] = sigs[i];
                pconfigs[perm[i] as usize] = rename_set(configs[i], &rename);
            }
            assert_eq!(canonical(&psigs, &pconfigs), expected, "{perm:?}");
        }
    }
}
