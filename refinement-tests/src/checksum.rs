//! The checksum of checkpoint files: 64 bits, computed as a file is written and verified before
//! a file is read back.
//!
//! It reads 8 bytes at a time: `h = xorshift((h ^ word) * P)`, with FNV-1a's 64-bit prime `P`,
//! then the length. Each step is a bijection of `h` for a given word, so a file that differs from
//! the one written in one word (any damage confined to 8 aligned bytes) always has another
//! checksum, and other damage has another checksum but with a chance of 2^-64. It detects
//! accidents (a truncated copy, a bad disk block, a file of another checkpoint), not forgeries.

use std::io::{Read, Write};
use std::path::Path;

const PRIME: u64 = 0x0000_0100_0000_01b3;
const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// A running checksum of a stream of bytes, and its length.
#[derive(Clone, Debug)]
pub(crate) struct Checksum {
    state: u64,
    pending: [u8; 8],
    pending_len: usize,
    len: u64,
}

impl Default for Checksum {
    fn default() -> Self {
        Checksum {
            state: OFFSET,
            pending: [0; 8],
            pending_len: 0,
            len: 0,
        }
    }
}

#[inline]
fn mix(state: u64, word: u64) -> u64 {
    let h = (state ^ word).wrapping_mul(PRIME);
    h ^ (h >> 29)
}

impl Checksum {
    /// Adds `bytes` to the stream.
    pub(crate) fn update(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if self.pending_len > 0 {
            let take = (8 - self.pending_len).min(bytes.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&bytes[..take]);
            self.pending_len += take;
            bytes = &bytes[take..];
            if self.pending_len < 8 {
                return;
            }
            self.state = mix(self.state, u64::from_le_bytes(self.pending));
            self.pending_len = 0;
        }
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.state = mix(
                self.state,
                u64::from_le_bytes(word.try_into().expect("8 bytes")),
            );
        }
        let rest = words.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// The number of bytes added.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The checksum of the bytes added so far, as 16 hexadecimal digits.
    pub(crate) fn hex(&self) -> String {
        let mut state = self.state;
        if self.pending_len > 0 {
            let mut last = [0u8; 8];
            last[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
            state = mix(state, u64::from_le_bytes(last));
        }
        format!("{:016x}", mix(state, self.len))
    }

    /// The length and checksum of the file at `path`.
    pub(crate) fn of_file(path: &Path) -> std::io::Result<Checksum> {
        let mut file = std::fs::File::open(path)?;
        let mut sum = Checksum::default();
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                return Ok(sum);
            }
            sum.update(&buffer[..n]);
        }
    }
}

/// A writer that passes bytes on and adds them to a checksum.
pub(crate) struct Summing<W> {
    pub(crate) inner: W,
    pub(crate) sum: Checksum,
}

impl<W: Write> Write for Summing<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(bytes)?;
        self.sum.update(&bytes[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_does_not_depend_on_how_the_bytes_are_cut() {
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut whole = Checksum::default();
        whole.update(&bytes);
        for cut in [1, 3, 7, 8, 9, 64, 999] {
            let mut pieces = Checksum::default();
            for chunk in bytes.chunks(cut) {
                pieces.update(chunk);
            }
            assert_eq!(pieces.hex(), whole.hex(), "pieces of {cut}");
            assert_eq!(pieces.len(), 1000);
        }
    }

    #[test]
    fn one_changed_byte_or_a_shorter_stream_changes_it() {
        let bytes = vec![0u8; 100];
        let mut reference = Checksum::default();
        reference.update(&bytes);
        for i in 0..100 {
            let mut changed = bytes.clone();
            changed[i] = 1;
            let mut sum = Checksum::default();
            sum.update(&changed);
            assert_ne!(sum.hex(), reference.hex(), "byte {i}");
        }
        let mut shorter = Checksum::default();
        shorter.update(&bytes[..99]);
        assert_ne!(shorter.hex(), reference.hex());
    }
}
