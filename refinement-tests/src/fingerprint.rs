//! 128-bit state fingerprints.
//!
//! The visited set stores a fingerprint per distinct state instead of the state. Two distinct
//! states with the same fingerprint would make the checker skip one of them, so the fingerprint
//! is wide: with `n` distinct states and 128 random-looking bits, the probability of any
//! collision is about `n² / 2¹²⁹` (below 1e-20 at a billion states), against about `n² / 2⁶⁵`
//! for TLC's 64-bit fingerprints. The summary reports this estimate for every run.
//!
//! The hash is a fixed-key, two-lane multiply-fold hash (in the style of wyhash): each 64-bit
//! word is folded into both lanes through a full 64×64→128-bit multiplication, and the lanes are
//! cross-mixed at the end. It is deterministic across runs and machines, so counts and traces are
//! reproducible.

use std::hash::{Hash, Hasher};

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

/// A [`Hasher`] that accumulates a 128-bit fingerprint.
#[derive(Clone)]
pub struct Fingerprinter {
    lo: u64,
    hi: u64,
    pending: u64,
    pending_bytes: u32,
}

impl Default for Fingerprinter {
    fn default() -> Self {
        Fingerprinter {
            lo: K0,
            hi: K1,
            pending: 0,
            pending_bytes: 0,
        }
    }
}

impl Fingerprinter {
    #[inline(always)]
    fn word(&mut self, w: u64) {
        self.lo = fold(self.lo ^ w, K2);
        self.hi = fold(self.hi ^ w.rotate_left(32), K3);
    }

    #[inline(always)]
    fn flush(&mut self) {
        if self.pending_bytes > 0 {
            let w = self.pending ^ ((self.pending_bytes as u64) << 59);
            self.word(w);
            self.pending = 0;
            self.pending_bytes = 0;
        }
    }

    /// The 128-bit fingerprint of everything written so far (never zero).
    pub fn finish128(mut self) -> Fingerprint {
        self.flush();
        let lo = fold(self.lo ^ K0, self.hi ^ K3);
        let hi = fold(self.hi ^ K1, lo ^ K2);
        let fp = ((hi as u128) << 64) | lo as u128;
        if fp == 0 {
            1
        } else {
            fp
        }
    }
}

impl Hasher for Fingerprinter {
    fn finish(&self) -> u64 {
        self.clone().finish128() as u64
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.flush();
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.word(u64::from_le_bytes(chunk.try_into().expect("8-byte chunk")));
        }
        // The tail (at most 7 bytes) goes to the pending word in one step: the same result
        // as one `write_u8` per byte (pending is empty after the flush above), without the
        // per-byte loop.
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut word = [0u8; 8];
            word[..tail.len()].copy_from_slice(tail);
            self.pending = u64::from_le_bytes(word);
            self.pending_bytes = tail.len() as u32;
            if self.pending_bytes == 7 {
                self.flush();
            }
        }
        // Mark the end of the slice so that ([1], [2]) and ([1, 2], []) differ.
        self.word(bytes.len() as u64 | (0xff << 56));
    }

    #[inline(always)]
    fn write_u8(&mut self, b: u8) {
        self.pending |= (b as u64) << (8 * self.pending_bytes);
        self.pending_bytes += 1;
        if self.pending_bytes == 7 {
            self.flush();
        }
    }

    #[inline(always)]
    fn write_u16(&mut self, v: u16) {
        self.flush();
        self.word(v as u64 | (2 << 56));
    }

    #[inline(always)]
    fn write_u32(&mut self, v: u32) {
        self.flush();
        self.word(v as u64 | (4 << 56));
    }

    #[inline(always)]
    fn write_u64(&mut self, v: u64) {
        self.flush();
        self.word(v);
        self.word(8);
    }

    #[inline(always)]
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
}

/// The fingerprint of a value.
pub fn fingerprint<T: Hash + ?Sized>(value: &T) -> Fingerprint {
    let mut h = Fingerprinter::default();
    value.hash(&mut h);
    h.finish128()
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

    /// `write` takes its tail in one step; fingerprints (and so the counterexamples chosen by
    /// smallest fingerprint) must be those of the byte-by-byte definition.
    #[test]
    fn write_equals_its_byte_by_byte_definition() {
        for len in 0..40usize {
            let bytes: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37) ^ 0x5a).collect();
            for prefix in 0..3u8 {
                let mut fast = Fingerprinter::default();
                let mut slow = Fingerprinter::default();
                for p in 0..prefix {
                    fast.write_u8(p);
                    slow.write_u8(p);
                }
                fast.write(&bytes);
                slow.flush();
                let mut chunks = bytes.chunks_exact(8);
                for chunk in &mut chunks {
                    slow.word(u64::from_le_bytes(chunk.try_into().unwrap()));
                }
                for &b in chunks.remainder() {
                    slow.write_u8(b);
                }
                slow.word(bytes.len() as u64 | (0xff << 56));
                fast.write_u8(9);
                slow.write_u8(9);
                assert_eq!(fast.finish128(), slow.finish128(), "length {len}");
            }
        }
    }

    #[test]
    fn small_structured_inputs_do_not_collide() {
        let mut seen = HashSet::new();
        for a in 0u8..40 {
            for b in 0u8..40 {
                for c in 0u8..40 {
                    assert!(seen.insert(fingerprint(&[a, b, c])));
                    assert!(seen.insert(fingerprint(&(a, b, c as u16))));
                }
            }
        }
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(fingerprint(&[1u8, 2, 3]), fingerprint(&[1u8, 2, 3]));
        assert_ne!(fingerprint(&[1u8, 2]), fingerprint(&[1u8, 2, 0]));
    }
}
