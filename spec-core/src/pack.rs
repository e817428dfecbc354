//! A compact byte encoding of states, for search queues and checkpoints kept on disk.
//!
//! A large breadth-first search cannot keep its frontier in memory: the flagship
//! MongoRaftReconfig model has levels of tens of millions of states. The checker therefore
//! writes each state it has yet to explore as bytes, in blocks that go to disk once memory is
//! short, and reads them back when their level comes. [`Pack`] is that encoding. It is not a
//! serialization format for people (that is the ITF JSON of `Serialize`): it is the state's
//! fields one after another, integers little-endian, with no names and no version.
//!
//! A state type gets it by listing its fields with [`impl_pack!`](crate::impl_pack); the building blocks
//! (integers, `bool`, arrays, [`ServerSet`], [`Seq`], [`Role`]) implement it here. Decoding is
//! the exact inverse: `unpack(pack(s)) == s` for every state, which each layer's tests check
//! through the checker (every state of a search goes through the encoding).

use crate::{Role, Seq, ServerSet};

/// A value that can be written as bytes and read back exactly.
///
/// The encoding is also a state's identity for the checker, which fingerprints these bytes:
/// equal values must pack to equal bytes (a field that `Eq` ignores, such as the slots past a
/// [`Seq`]'s end, must not be written), and `unpack` must invert `pack`, so that unequal values
/// pack to unequal bytes.
///
/// Every type here has a bounded encoding, [`Pack::MAX_PACKED`] bytes at most, so a value is
/// written into a buffer of that size at fixed offsets ([`Pack::pack_into`]) rather than pushed
/// onto a vector field by field: the checker packs every successor it generates, and the
/// capacity checks of a push per field were most of that time.
pub trait Pack: Sized {
    /// The most bytes the encoding of a value takes.
    const MAX_PACKED: usize;
    /// Writes the encoding of `self` at the front of `out`, which holds at least
    /// [`Pack::MAX_PACKED`] bytes, and returns its length.
    fn pack_into(&self, out: &mut [u8]) -> usize;
    /// Appends the encoding of `self` to `out`.
    fn pack(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + Self::MAX_PACKED, 0);
        let len = self.pack_into(&mut out[start..]);
        out.truncate(start + len);
    }
    /// Reads a value from the front of `input` and advances it past the value; `None` if the
    /// bytes are too short or not an encoding of this type (a truncated or foreign file).
    fn unpack(input: &mut &[u8]) -> Option<Self>;
    /// Writes the encodings of `items`, one after another, as [`Pack::pack_into`] does. Arrays
    /// pack through this, so that a type can write a whole run at once (bytes do).
    fn pack_slice_into(items: &[Self], out: &mut [u8]) -> usize {
        let mut len = 0;
        for item in items {
            len += item.pack_into(&mut out[len..]);
        }
        len
    }
    /// Reads `N` values, as `pack_slice_into` wrote them. Arrays unpack through this, so that
    /// a type can read a whole run at once (bytes do).
    fn unpack_array<const N: usize>(input: &mut &[u8]) -> Option<[Self; N]> {
        // Built in place (no heap allocation: this runs for every state the search expands).
        let mut complete = true;
        let items: [Option<Self>; N] = std::array::from_fn(|_| {
            let item = if complete { Self::unpack(input) } else { None };
            complete &= item.is_some();
            item
        });
        complete.then(|| items.map(|item| item.expect("every item was read")))
    }
}

/// The [`Pack::MAX_PACKED`] of a field's type, named through a projection (for
/// [`impl_pack!`], which knows a struct's field names but not their types).
#[doc(hidden)]
pub const fn max_packed_of<S, T: Pack>(_field: fn(&S) -> &T) -> usize {
    T::MAX_PACKED
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if input.len() < n {
        return None;
    }
    let (head, tail) = input.split_at(n);
    *input = tail;
    Some(head)
}

macro_rules! pack_int {
    ($($t:ty),*) => {$(
        impl Pack for $t {
            const MAX_PACKED: usize = std::mem::size_of::<$t>();
            fn pack_into(&self, out: &mut [u8]) -> usize {
                out[..Self::MAX_PACKED].copy_from_slice(&self.to_le_bytes());
                Self::MAX_PACKED
            }
            fn unpack(input: &mut &[u8]) -> Option<Self> {
                let bytes = take(input, std::mem::size_of::<$t>())?;
                Some(<$t>::from_le_bytes(bytes.try_into().ok()?))
            }
        }
    )*};
}
pack_int!(u16, u32, u64, u128);

impl Pack for u8 {
    const MAX_PACKED: usize = 1;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        out[0] = *self;
        1
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        let (&first, rest) = input.split_first()?;
        *input = rest;
        Some(first)
    }
    fn pack_slice_into(items: &[u8], out: &mut [u8]) -> usize {
        out[..items.len()].copy_from_slice(items);
        items.len()
    }
    fn unpack_array<const N: usize>(input: &mut &[u8]) -> Option<[u8; N]> {
        let items = take(input, N)?;
        items.try_into().ok()
    }
}

/// `usize` fields (server indexes) are small: written as `u32`, so that files do not depend on
/// the machine's word size.
impl Pack for usize {
    const MAX_PACKED: usize = 4;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        u32::try_from(*self)
            .expect("a packed usize fits in 32 bits")
            .pack_into(out)
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        usize::try_from(u32::unpack(input)?).ok()
    }
}

impl Pack for bool {
    const MAX_PACKED: usize = 1;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        out[0] = u8::from(*self);
        1
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        match u8::unpack(input)? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

impl<T: Pack, const N: usize> Pack for [T; N] {
    const MAX_PACKED: usize = N * T::MAX_PACKED;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        T::pack_slice_into(self, out)
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        T::unpack_array(input)
    }
}

impl Pack for ServerSet {
    const MAX_PACKED: usize = 2;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        self.0.pack_into(out)
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        Some(ServerSet(u16::unpack(input)?))
    }
}

impl Pack for Role {
    const MAX_PACKED: usize = 1;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        out[0] = *self as u8;
        1
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        match u8::unpack(input)? {
            0 => Some(Role::Secondary),
            1 => Some(Role::Primary),
            _ => None,
        }
    }
    fn pack_slice_into(items: &[Role], out: &mut [u8]) -> usize {
        for (byte, &role) in out[..items.len()].iter_mut().zip(items) {
            *byte = role as u8;
        }
        items.len()
    }
    fn unpack_array<const N: usize>(input: &mut &[u8]) -> Option<[Role; N]> {
        let bytes = <[u8; N]>::unpack(input)?;
        bytes.iter().all(|&b| b <= 1).then(|| {
            bytes.map(|b| {
                if b == 1 {
                    Role::Primary
                } else {
                    Role::Secondary
                }
            })
        })
    }
}

/// The length, then only the items in use: the slots past the end are zero by construction.
impl<const N: usize> Pack for Seq<N> {
    const MAX_PACKED: usize = 1 + N;
    fn pack_into(&self, out: &mut [u8]) -> usize {
        // Every slot is copied (a fixed-size copy is cheaper than a variable-length one); the
        // caller's length cuts off the unused ones, so the bytes are the same.
        out[0] = self.len() as u8;
        out[1..1 + N].copy_from_slice(self.slots());
        1 + self.len()
    }
    fn unpack(input: &mut &[u8]) -> Option<Self> {
        let len = u8::unpack(input)? as usize;
        if len > N {
            return None;
        }
        Some(Seq::from_slice(take(input, len)?))
    }
}

/// Implements [`Pack`] for a struct by packing the listed fields in order: every field must be
/// listed (the struct literal in `unpack` does not compile otherwise). For a tuple struct with
/// one field, write `impl_pack!(Name(Inner))`.
///
/// ```
/// use spec_core::{impl_pack, Pack, ServerSet};
/// #[derive(Debug, PartialEq)]
/// struct S { term: [u8; 3], config: ServerSet }
/// impl_pack!(S { term, config });
/// let s = S { term: [1, 2, 3], config: ServerSet(5) };
/// let mut bytes = Vec::new();
/// s.pack(&mut bytes);
/// assert_eq!(bytes, [1, 2, 3, 5, 0]);
/// assert_eq!(S::unpack(&mut bytes.as_slice()), Some(s));
/// ```
#[macro_export]
macro_rules! impl_pack {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl $crate::Pack for $ty {
            const MAX_PACKED: usize =
                0 $( + $crate::pack::max_packed_of(|s: &$ty| &s.$field) )*;
            fn pack_into(&self, out: &mut [u8]) -> usize {
                let mut len = 0;
                $( len += $crate::Pack::pack_into(&self.$field, &mut out[len..]); )*
                len
            }
            fn unpack(input: &mut &[u8]) -> Option<Self> {
                Some($ty { $( $field: $crate::Pack::unpack(input)?, )* })
            }
        }
    };
    ($ty:ident ( $inner:ty )) => {
        impl $crate::Pack for $ty {
            const MAX_PACKED: usize = <$inner as $crate::Pack>::MAX_PACKED;
            fn pack_into(&self, out: &mut [u8]) -> usize {
                $crate::Pack::pack_into(&self.0, out)
            }
            fn unpack(input: &mut &[u8]) -> Option<Self> {
                Some($ty(<$inner as $crate::Pack>::unpack(input)?))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Pack + PartialEq + std::fmt::Debug>(value: T) {
        let mut bytes = vec![7u8];
        value.pack(&mut bytes);
        assert_eq!(bytes[0], 7, "pack appends");
        let bytes = &bytes[1..];
        assert!(bytes.len() <= T::MAX_PACKED, "within MAX_PACKED");
        let mut input = bytes;
        assert_eq!(T::unpack(&mut input).as_ref(), Some(&value));
        assert!(input.is_empty(), "unpack reads exactly what pack wrote");
    }

    #[test]
    fn building_blocks_round_trip() {
        round_trip(0xABu8);
        round_trip(0xBEEFu16);
        round_trip(u128::MAX - 7);
        round_trip(12usize);
        round_trip(true);
        round_trip([ServerSet(3), ServerSet(0), ServerSet(7)]);
        round_trip([Role::Primary, Role::Secondary]);
        round_trip(Seq::<4>::from_slice(&[1, 2, 2]));
        round_trip(Seq::<4>::new());
    }

    #[test]
    fn short_or_foreign_input_is_refused() {
        assert_eq!(u32::unpack(&mut [1u8, 2].as_slice()), None);
        assert_eq!(bool::unpack(&mut [2u8].as_slice()), None);
        assert_eq!(Role::unpack(&mut [9u8].as_slice()), None);
        assert_eq!(Seq::<2>::unpack(&mut [3u8, 1, 1, 1].as_slice()), None);
        assert_eq!(Seq::<4>::unpack(&mut [3u8, 1].as_slice()), None);
    }
}
