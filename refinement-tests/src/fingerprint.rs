//! 128-bit state fingerprints.
//!
//! The visited set stores a fingerprint per distinct state instead of the state. Two distinct
//! states with the same fingerprint would make the checker skip one of them, so the fingerprint
//! is wide: with `n` distinct states and 128 random-looking bits, the probability of any
//! collision is about `n² / 2¹²⁹` (below 1e-20 at a billion states), against about `n² / 2⁶⁵`
//! for TLC's 64-bit fingerprints. The summary reports this estimate for every run.
//!
//! What is hashed is the state's [`Pack`] encoding, the bytes the search queue stores anyway:
//! the encoding is exact (`unpack(pack(s)) == s`, and equal states pack to equal bytes), so it
//! identifies the state, and hashing one byte string word by word is several times cheaper than
//! feeding a derived `Hash` field by field. A queued state's fingerprint is recomputed from its
//! bytes when it is expanded, so the queue does not store it.
//!
//! The hash is a fixed-key, two-lane multiply-fold hash (in the style of wyhash): each 64-bit
//! word is folded into both lanes through a full 64×64→128-bit multiplication, and the lanes are
//! cross-mixed at the end. It is deterministic across runs and machines, so counts and traces are
//! reproducible.

use spec_core::Pack;

/// A state fingerprint. Zero is never produced, so it can mark "no parent".
pub type Fingerprint = u128;

const K0: u64 = 0xa076_1d64_78bd_642f;
const K1: u64 = 0xe703_7ed1_a0b4_28db;
const K2: u64 = 0x8ebc_6af0_9c88_c6e3;
const K3: u64 = 0x5899_65cc_7537_4cc3;

#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let product = (a as u128).wrapping_mul(b as u128);
    (product as u64) ^ ((product >> 64) as u64)
}

/// The fingerprint of a byte string (never zero). The bytes are read as little-endian 64-bit
/// words, the last one padded with zeros, followed by the length, so that strings that differ
/// only in trailing zeros differ.
#[inline]
pub fn fingerprint_bytes(bytes: &[u8]) -> Fingerprint {
    let (mut lo, mut hi) = (K0, K1);
    let mut word = |w: u64| {
        lo = fold(lo ^ w, K2);
        hi = fold(hi ^ w.rotate_left(32), K3);
    };
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        word(u64::from_le_bytes(chunk.try_into().expect("8-byte chunk")));
    }
    let tail = chunks.remainder();
    let mut last = [0u8; 8];
    last[..tail.len()].copy_from_slice(tail);
    word(u64::from_le_bytes(last));
    word(bytes.len() as u64);
    let lo = fold(lo ^ K0, hi ^ K3);
    let hi = fold(hi ^ K1, lo ^ K2);
    match ((hi as u128) << 64) | lo as u128 {
        0 => 1,
        fp => fp,
    }
}

/// The fingerprint of a value: that of its [`Pack`] encoding.
pub fn fingerprint<T: Pack>(value: &T) -> Fingerprint {
    let mut bytes = Vec::with_capacity(128);
    value.pack(&mut bytes);
    fingerprint_bytes(&bytes)
}

/// The estimated probability that two of `distinct` states were taken for one, when `bits`
/// bits of their fingerprints are compared: `n(n-1)/2 / 2^bits` (the visited set compares 82 of
/// the 128 bits, so at 345 million states this is about one in a hundred million).
pub fn collision_probability(distinct: u64, bits: u32) -> f64 {
    let n = distinct as f64;
    n * (n - 1.0) / 2.0 / 2f64.powi(bits as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn small_structured_inputs_do_not_collide() {
        let mut seen = HashSet::new();
        for a in 0u8..40 {
            for b in 0u8..40 {
                for c in 0u8..40 {
                    assert!(seen.insert(fingerprint(&[a, b, c])));
                    assert!(seen.insert(fingerprint(&[a as u16, b as u16, c as u16])));
                }
            }
        }
    }

    #[test]
    fn trailing_zeros_and_word_boundaries_count() {
        let mut seen = HashSet::new();
        for len in 0..40 {
            assert!(
                seen.insert(fingerprint_bytes(&vec![0u8; len])),
                "{len} zeros"
            );
        }
        assert_eq!(fingerprint_bytes(&[1, 2, 3]), fingerprint_bytes(&[1, 2, 3]));
        assert_eq!(fingerprint(&[1u8, 2, 3]), fingerprint_bytes(&[1, 2, 3]));
    }
}
