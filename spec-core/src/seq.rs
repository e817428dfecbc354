//! A short sequence of small integers stored inline, for logs of values or terms.

use std::fmt;
use std::hash::{Hash, Hasher};

/// A sequence of at most `N` bytes, stored inline (no heap allocation per state).
///
/// Equality and hashing look only at the first `len` items, so two sequences with the same
/// contents are the same value whatever was stored past their end before.
#[derive(Clone, Copy)]
pub struct Seq<const N: usize> {
    len: u8,
    items: [u8; N],
}

impl<const N: usize> Seq<N> {
    /// The capacity.
    pub const CAPACITY: usize = N;

    /// The empty sequence.
    pub const fn new() -> Self {
        Seq {
            len: 0,
            items: [0; N],
        }
    }
    /// A sequence holding `items`. Panics if there are more than `N`: callers validate bounds.
    pub fn from_slice(items: &[u8]) -> Self {
        assert!(items.len() <= N, "sequence capacity {N} exceeded");
        let mut s = Self::new();
        s.items[..items.len()].copy_from_slice(items);
        s.len = items.len() as u8;
        s
    }
    /// The number of items (TLA+'s `Len`).
    pub fn len(&self) -> usize {
        self.len as usize
    }
    /// Whether the sequence is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The items.
    pub fn as_slice(&self) -> &[u8] {
        &self.items[..self.len as usize]
    }
    /// All `N` slots: the items, then zeros (a slot past the end is always zero).
    pub(crate) fn slots(&self) -> &[u8; N] {
        &self.items
    }
    /// The item at 1-based index `i`, as TLA+ indexes sequences, if there is one.
    pub fn at(&self, i: usize) -> Option<u8> {
        (i >= 1 && i <= self.len()).then(|| self.items[i - 1])
    }
    /// The last item.
    pub fn last(&self) -> Option<u8> {
        self.as_slice().last().copied()
    }
    /// Appends an item (TLA+'s `Append`). Panics past the capacity: a layer sizes `N` so that
    /// every successor of a state inside its bounds fits.
    pub fn push(&mut self, item: u8) {
        assert!(self.len() < N, "sequence capacity {N} exceeded");
        self.items[self.len as usize] = item;
        self.len += 1;
    }
    /// Removes the last item, if any.
    pub fn pop(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        let item = self.items[self.len as usize];
        self.items[self.len as usize] = 0;
        Some(item)
    }
    /// Raft's Log Matching property for two logs of entry terms: wherever they hold the same
    /// item at an index, they are equal up to that index. Checking the last index where they
    /// agree is enough, since equal prefixes there make every shorter prefix equal.
    pub fn log_matches(&self, other: &Self) -> bool {
        let (a, b) = (self.as_slice(), other.as_slice());
        let common = a.len().min(b.len());
        match (0..common).rev().find(|&k| a[k] == b[k]) {
            Some(last) => (0..last).all(|k| a[k] == b[k]),
            None => true,
        }
    }
    /// Keeps the first `len` items (TLA+'s `SubSeq(s, 1, len)`).
    pub fn truncate(&mut self, len: usize) {
        while self.len() > len {
            self.pop();
        }
    }
}

impl<const N: usize> Default for Seq<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> PartialEq for Seq<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}
impl<const N: usize> Eq for Seq<N> {}

impl<const N: usize> PartialOrd for Seq<N> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<const N: usize> Ord for Seq<N> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl<const N: usize> Hash for Seq<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl<const N: usize> fmt::Debug for Seq<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_matching_looks_at_every_agreeing_index() {
        let log = |items: &[u8]| Seq::<4>::from_slice(items);
        assert!(log(&[1, 1, 2]).log_matches(&log(&[1, 1, 2, 3])));
        assert!(log(&[1, 2]).log_matches(&log(&[2, 1])), "never agree");
        assert!(log(&[]).log_matches(&log(&[1])));
        assert!(
            !log(&[1, 2, 3]).log_matches(&log(&[2, 2, 3])),
            "agree at 2 and 3, not 1"
        );
        assert!(
            !log(&[1, 2, 4]).log_matches(&log(&[2, 2, 3])),
            "agree at 2 only"
        );
    }

    #[test]
    fn equality_ignores_stale_items() {
        let mut a = Seq::<4>::from_slice(&[1, 2, 3]);
        a.pop();
        assert_eq!(a, Seq::<4>::from_slice(&[1, 2]));
        assert_eq!(a.at(2), Some(2));
        assert_eq!(a.at(3), None);
    }
}
