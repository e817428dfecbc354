//! A bounded multiset of small values, kept sorted by their packed bits: the messages in flight
//! of a message-passing layer (message-raft's and multi-paxos's `Network`).
//!
//! Each value packs into a `u64` ([`Packed64`]); the set holds at most `N` of them, copies
//! counted, sorted, with unused slots zero, so that two sets with the same values are equal,
//! hash alike and pack to the same bytes, whatever order the values were added in:
//!
//! ```
//! use spec_core::multiset::{Packed64, SortedMultiset};
//! #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
//! struct Ping(u8);
//! impl Packed64 for Ping {
//!     fn packed(self) -> u64 { self.0 as u64 + 1 }
//!     fn unpacked(bits: u64) -> Option<Ping> { (1..=256).contains(&bits).then(|| Ping(bits as u8 - 1)) }
//! }
//! let mut a: SortedMultiset<Ping, 4> = SortedMultiset::EMPTY;
//! a.insert(Ping(2));
//! a.insert(Ping(1));
//! a.insert(Ping(2));
//! let mut b = SortedMultiset::EMPTY;
//! for p in [Ping(2), Ping(2), Ping(1)] { b.insert(p); }
//! assert_eq!(a, b);
//! assert_eq!(a.count(Ping(2)), 2);
//! assert_eq!(a.distinct().collect::<Vec<_>>(), [Ping(1), Ping(2)]);
//! assert!(a.remove(Ping(2)) && !a.remove(Ping(3)));
//! assert_eq!(a.iter().collect::<Vec<_>>(), [Ping(1), Ping(2)]);
//! ```

use crate::pack::Pack;
use std::fmt;
use std::marker::PhantomData;

/// A value that packs into a `u64` and back: the order of the packed bits is the order of a
/// [`SortedMultiset`].
pub trait Packed64: Copy {
    /// The value's bits.
    fn packed(self) -> u64;
    /// The value of these bits, or `None` if they are not an encoding of one.
    fn unpacked(bits: u64) -> Option<Self>;
}

/// At most `N` values of `T`, copies counted, sorted by their packed bits, unused slots zero.
pub struct SortedMultiset<T, const N: usize> {
    len: u8,
    items: [u64; N],
    values: PhantomData<fn() -> T>,
}

impl<T, const N: usize> Clone for SortedMultiset<T, N> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, const N: usize> Copy for SortedMultiset<T, N> {}
impl<T, const N: usize> PartialEq for SortedMultiset<T, N> {
    fn eq(&self, other: &Self) -> bool {
        (self.len, self.items) == (other.len, other.items)
    }
}
impl<T, const N: usize> Eq for SortedMultiset<T, N> {}
impl<T, const N: usize> std::hash::Hash for SortedMultiset<T, N> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.len.hash(state);
        self.items.hash(state);
    }
}
impl<T, const N: usize> Default for SortedMultiset<T, N> {
    fn default() -> Self {
        Self::EMPTY
    }
}
impl<T: Packed64 + fmt::Debug, const N: usize> fmt::Debug for SortedMultiset<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T, const N: usize> SortedMultiset<T, N> {
    /// The empty multiset.
    pub const EMPTY: Self = SortedMultiset {
        len: 0,
        items: [0; N],
        values: PhantomData,
    };

    /// How many values it holds (copies counted).
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T: Packed64, const N: usize> SortedMultiset<T, N> {
    /// Every value, copies included, in order.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.items[..self.len()]
            .iter()
            .map(|&bits| T::unpacked(bits).expect("a multiset holds packed values"))
    }

    /// Every distinct value, once, in order.
    pub fn distinct(&self) -> impl Iterator<Item = T> + '_ {
        let items = &self.items[..self.len()];
        items
            .iter()
            .enumerate()
            .filter(|&(k, &bits)| k == 0 || items[k - 1] != bits)
            .map(|(_, &bits)| T::unpacked(bits).expect("a multiset holds packed values"))
    }

    /// How many copies of `value` it holds.
    pub fn count(&self, value: T) -> usize {
        let bits = value.packed();
        self.items[..self.len()]
            .iter()
            .filter(|&&b| b == bits)
            .count()
    }

    /// Adds one copy of `value`.
    ///
    /// # Panics
    ///
    /// Past the capacity `N`: a layer's bounds keep explored states below it.
    pub fn insert(&mut self, value: T) {
        assert!(self.len() < N, "multiset capacity {N} exceeded");
        let bits = value.packed();
        let mut k = self.len();
        while k > 0 && self.items[k - 1] > bits {
            self.items[k] = self.items[k - 1];
            k -= 1;
        }
        self.items[k] = bits;
        self.len += 1;
    }

    /// Removes one copy of `value`; false if it holds none.
    pub fn remove(&mut self, value: T) -> bool {
        let bits = value.packed();
        let n = self.len();
        let Some(k) = self.items[..n].iter().position(|&b| b == bits) else {
            return false;
        };
        self.items.copy_within(k + 1..n, k);
        self.items[n - 1] = 0;
        self.len -= 1;
        true
    }
}

/// The length as a byte, then each value's bits, 8 bytes little-endian; read back only if
/// every value reads and they are in order.
impl<T: Packed64, const N: usize> Pack for SortedMultiset<T, N> {
    const MAX_PACKED: usize = 1 + 8 * N;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        out[0] = self.len;
        let mut at = 1;
        for bits in &self.items[..self.len()] {
            out[at..at + 8].copy_from_slice(&bits.to_le_bytes());
            at += 8;
        }
        at
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        let len = u8::unpack(input)? as usize;
        if len > N {
            return None;
        }
        let mut set = Self::EMPTY;
        for _ in 0..len {
            let bits = u64::unpack(input)?;
            T::unpacked(bits)?;
            set.items[set.len()] = bits;
            set.len += 1;
        }
        set.items[..len]
            .windows(2)
            .all(|w| w[0] <= w[1])
            .then_some(set)
    }
}
