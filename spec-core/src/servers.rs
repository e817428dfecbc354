//! Sets of servers as bitmasks, and server permutations for symmetry reduction.

use serde::{Serialize, Serializer};

/// The most servers a [`ServerSet`] can hold.
pub const MAX_SERVERS: usize = 16;

/// A set of servers `0..n`, one bit per server. Quorums and configs are sets of servers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerSet(pub u16);

impl ServerSet {
    /// The empty set.
    pub const EMPTY: ServerSet = ServerSet(0);

    /// All servers `0..n`.
    pub fn all(n: usize) -> ServerSet {
        debug_assert!(n <= MAX_SERVERS);
        ServerSet(((1u32 << n) - 1) as u16)
    }
    /// The set `{s}`.
    pub fn single(s: usize) -> ServerSet {
        ServerSet(1 << s)
    }
    /// Whether `s` is a member.
    pub fn contains(self, s: usize) -> bool {
        self.0 & (1 << s) != 0
    }
    /// The set with `s` added.
    pub fn with(self, s: usize) -> ServerSet {
        ServerSet(self.0 | (1 << s))
    }
    /// The number of members.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }
    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Whether every member of `self` is in `other`.
    pub fn is_subset(self, other: ServerSet) -> bool {
        self.0 & !other.0 == 0
    }
    /// The members in increasing order.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        (0..MAX_SERVERS).filter(move |&s| self.contains(s))
    }
    /// Every subset of `self`, the empty set included, in increasing bitmask order.
    pub fn subsets(self) -> impl Iterator<Item = ServerSet> {
        let full = self.0 as u32;
        (0..=full)
            .filter(move |m| m & !full == 0)
            .map(|m| ServerSet(m as u16))
    }
    /// Every quorum of `self` as a config: the subsets holding more than half of its members.
    pub fn quorums(self) -> impl Iterator<Item = ServerSet> {
        let n = self.len();
        self.subsets().filter(move |q| q.len() * 2 > n)
    }
    /// The image of the set under a permutation (`perm[s]` is the new name of server `s`).
    pub fn permute(self, perm: &[u8]) -> ServerSet {
        let mut out = 0u16;
        for s in self.iter() {
            out |= 1 << perm[s];
        }
        ServerSet(out)
    }
}

impl Serialize for ServerSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let names: Vec<String> = self.iter().map(crate::itf::server_name).collect();
        crate::itf::Set(names).serialize(serializer)
    }
}

/// Every permutation of `0..n`, the identity first.
pub fn permutations(n: usize) -> Vec<Vec<u8>> {
    fn extend(prefix: &mut Vec<u8>, n: usize, out: &mut Vec<Vec<u8>>) {
        if prefix.len() == n {
            out.push(prefix.clone());
            return;
        }
        for s in 0..n as u8 {
            if !prefix.contains(&s) {
                prefix.push(s);
                extend(prefix, n, out);
                prefix.pop();
            }
        }
    }
    let mut out = Vec::new();
    extend(&mut Vec::with_capacity(n), n, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorums_of_three_are_the_four_majorities() {
        let q: Vec<u16> = ServerSet::all(3).quorums().map(|s| s.0).collect();
        assert_eq!(q, vec![0b011, 0b101, 0b110, 0b111]);
    }

    #[test]
    fn permutations_count_and_identity_first() {
        let p = permutations(4);
        assert_eq!(p.len(), 24);
        assert_eq!(p[0], vec![0, 1, 2, 3]);
    }

    #[test]
    fn permute_renames_members() {
        assert_eq!(ServerSet(0b011).permute(&[2, 0, 1]), ServerSet(0b101));
    }
}
