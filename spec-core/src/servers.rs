//! Sets of servers as bitmasks, and server permutations for symmetry reduction.

use serde::{Serialize, Serializer};

/// A server, by its index `0..n` (written `n1`, `n2`, ... in action text, as in TLA+): the one
/// type every layer's actions name servers by, so that a mapping between layers passes a server
/// on without a conversion. A set of servers is a [`ServerSet`], whose methods take and yield
/// indices as `usize` (`usize::from(server)`), the type that indexes a state's arrays.
pub type Server = u8;

/// Servers `0..n`, the range a successor function binds a server parameter over.
pub fn server_range(n: usize) -> std::ops::Range<Server> {
    debug_assert!(n <= MAX_SERVERS);
    0..n as Server
}

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
    pub fn iter(self) -> Members {
        Members(self.0)
    }
    /// Every subset of `self`, the empty set included, in increasing bitmask order.
    pub fn subsets(self) -> Subsets {
        Subsets {
            full: self.0,
            next: Some(0),
        }
    }
    /// Every quorum of `self` as a config: the subsets holding more than half of its members,
    /// in increasing bitmask order.
    pub fn quorums(self) -> Quorums {
        match SMALL_QUORUMS.get(self.0 as usize) {
            Some(&mask) => Quorums::Small(mask),
            None => Quorums::Large {
                subsets: self.subsets(),
                members: self.len(),
            },
        }
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

/// The members of a [`ServerSet`], in increasing order (a bit scan per member: the search
/// iterates over quorums and voters in every state it expands).
#[derive(Clone, Debug)]
pub struct Members(u16);

impl Iterator for Members {
    type Item = usize;
    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let s = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(s)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.count_ones() as usize;
        (n, Some(n))
    }
}

/// The subsets of a [`ServerSet`], in increasing bitmask order, visiting only subsets (the
/// next one is `((m | !full) + 1) & full`).
#[derive(Clone, Debug)]
pub struct Subsets {
    full: u16,
    next: Option<u16>,
}

impl Iterator for Subsets {
    type Item = ServerSet;
    #[inline]
    fn next(&mut self) -> Option<ServerSet> {
        let m = self.next?;
        self.next = (m != self.full).then(|| (m | !self.full).wrapping_add(1) & self.full);
        Some(ServerSet(m))
    }
}

/// For each config among servers `0..5`, its quorums as a bitmask over subsets: bit `m` is
/// set when `ServerSet(m)` is a quorum. Every state the search expands enumerates quorums of
/// its configs, and the models have at most five servers.
const SMALL_QUORUMS: [u32; 32] = {
    let mut table = [0u32; 32];
    let mut config = 0;
    while config < 32 {
        let mut m = 0;
        while m < 32 {
            if m & !config == 0 && (m as u32).count_ones() * 2 > (config as u32).count_ones() {
                table[config] |= 1 << m;
            }
            m += 1;
        }
        config += 1;
    }
    table
};

/// The quorums of a config (see [`ServerSet::quorums`]).
#[derive(Clone, Debug)]
pub enum Quorums {
    /// A config among servers `0..5`: the quorums left, from a table.
    Small(u32),
    /// A larger config: its subsets, filtered.
    Large {
        /// The subsets left to look at.
        subsets: Subsets,
        /// The config's size.
        members: usize,
    },
}

impl Iterator for Quorums {
    type Item = ServerSet;
    #[inline]
    fn next(&mut self) -> Option<ServerSet> {
        match self {
            Quorums::Small(left) => {
                if *left == 0 {
                    return None;
                }
                let m = left.trailing_zeros();
                *left &= *left - 1;
                Some(ServerSet(m as u16))
            }
            Quorums::Large { subsets, members } => subsets.find(|q| q.len() * 2 > *members),
        }
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

/// Defs' `QuorumsOverlap(x, y)`: every majority quorum of `x` meets every majority quorum of `y`
/// (MongoWeakRaft's, MongoDynamicRaft's and MongoLoglessDynamicRaft's reconfiguration guard).
///
/// Computed without enumerating quorums: two disjoint quorums exist exactly when the smallest
/// quorums, each taking first the servers the other config lacks, fit into the common servers
/// side by side. A config with no quorum (the empty set) overlaps everything vacuously. A test
/// checks it against the definition on every pair of configs of 6 servers.
pub fn quorums_overlap(x: ServerSet, y: ServerSet) -> bool {
    if x.is_empty() || y.is_empty() {
        return true;
    }
    let only_x = ServerSet(x.0 & !y.0).len();
    let only_y = ServerSet(y.0 & !x.0).len();
    let common = ServerSet(x.0 & y.0).len();
    let from_common_x = (x.len() / 2 + 1).saturating_sub(only_x);
    let from_common_y = (y.len() / 2 + 1).saturating_sub(only_y);
    from_common_x + from_common_y > common
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
    fn members_and_subsets_in_increasing_order() {
        let set = ServerSet(0b1010_0110);
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![1, 2, 5, 7]);
        assert_eq!(ServerSet::EMPTY.iter().count(), 0);
        assert_eq!(ServerSet(0x8001).iter().collect::<Vec<_>>(), vec![0, 15]);
        let subsets: Vec<u16> = ServerSet(0b1010).subsets().map(|s| s.0).collect();
        assert_eq!(subsets, vec![0b0000, 0b0010, 0b1000, 0b1010]);
        assert_eq!(ServerSet::EMPTY.subsets().count(), 1);
        assert_eq!(ServerSet(0xFFFF).subsets().count(), 1 << 16);
        let odd: Vec<u16> = ServerSet(0b11001).quorums().map(|s| s.0).collect();
        assert_eq!(odd, vec![0b01001, 0b10001, 0b11000, 0b11001]);
    }

    #[test]
    fn the_quorum_table_agrees_with_the_definition() {
        for config in (0..1u32 << 7).map(|c| ServerSet(c as u16)) {
            let by_definition: Vec<ServerSet> = config
                .subsets()
                .filter(|q| q.len() * 2 > config.len())
                .collect();
            assert_eq!(
                config.quorums().collect::<Vec<_>>(),
                by_definition,
                "{config:?}"
            );
        }
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

    /// `QuorumsOverlap` straight from its definition.
    fn quorums_overlap_by_definition(x: ServerSet, y: ServerSet) -> bool {
        x.quorums().all(|qx| y.quorums().all(|qy| qx.0 & qy.0 != 0))
    }

    #[test]
    fn quorums_overlap_matches_its_definition() {
        let all = ServerSet::all(6);
        for x in all.subsets() {
            for y in all.subsets() {
                assert_eq!(
                    quorums_overlap(x, y),
                    quorums_overlap_by_definition(x, y),
                    "x={x:?} y={y:?}"
                );
            }
        }
    }
}
