//! The visited set of the breadth-first search: one 12-byte slot per distinct state.
//!
//! Memory is what limits an exhaustive search, so a slot holds only what identifies a state:
//! 72 bits of its 128-bit fingerprint (the shard it lives in implies 10 more, so 82 bits are
//! compared) and 24 bits of bookkeeping for the level being built. Parent links, which traces
//! need, do not stay here: a state's parent only matters until its level is finished (to keep
//! the smallest one, so that traces do not depend on thread scheduling), so each shard keeps a
//! *fresh* list of `(fingerprint, parent)` links for the states it first saw in the current
//! level, already in the trace store's byte format ([`LINK_BYTES`] per link), and the engine
//! moves those lists, without copying them, to the trace store (and to disk) when the level
//! ends.
//!
//! A slot's bookkeeping is the index of its state in its shard's fresh list and a 4-bit tag of
//! the level it was found at. A state reached again looks at its fresh entry only when the tag
//! is the current level's, and trusts it only when the entry's full fingerprint is its own, so
//! a stale index from an older level with the same tag is recognized and ignored.
//!
//! Each shard is an open-addressing table with linear probing behind its own lock; the shard is
//! chosen by the fingerprint's top bits and the slot by its low bits, so a lookup is usually one
//! cache miss. A table doubles when it is three-quarters full; since there are many shards, a
//! doubling copies a small fraction of the set.

use crate::fingerprint::Fingerprint;
use std::cell::UnsafeCell;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

const SHARD_BITS: u32 = 10;
const SHARDS: usize = 1 << SHARD_BITS;
const INITIAL_SLOTS: usize = 256;
const INDEX_BITS: u32 = 20;
const TAG_BITS: u32 = 4;

/// How many bits of a fingerprint tell two states apart in the visited set.
pub(crate) const COMPARED_BITS: u32 = 64 + 8 + SHARD_BITS;

/// The most states one shard can first see in one level; with [`SHARDS`] shards, a level can
/// hold about a billion new states.
const MAX_FRESH: usize = 1 << INDEX_BITS;

/// The size of a parent link, `[fingerprint: u128 LE][parent: u128 LE]`, in the fresh lists and
/// in the trace store.
pub(crate) const LINK_BYTES: usize = 32;

/// Reads a parent link: `(fingerprint, parent)`.
pub(crate) fn read_link(link: &[u8]) -> (Fingerprint, Fingerprint) {
    let half = |range: std::ops::Range<usize>| {
        Fingerprint::from_le_bytes(link[range].try_into().expect("a link is 32 bytes"))
    };
    (half(0..16), half(16..32))
}

/// A slot: `key` is the fingerprint's low 64 bits (never zero: zero marks an empty slot);
/// `extra` is 8 more fingerprint bits, the level tag and the fresh index.
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Slot {
    key: [u32; 2],
    extra: u32,
}

impl Slot {
    fn key(fp: Fingerprint) -> u64 {
        (fp as u64).max(1)
    }
    fn high_byte(fp: Fingerprint) -> u32 {
        (fp >> 64) as u8 as u32
    }
    fn key64(&self) -> u64 {
        self.key[0] as u64 | (self.key[1] as u64) << 32
    }
    fn is_empty(&self) -> bool {
        self.key == [0, 0]
    }
    fn matches(&self, key: u64, high: u32) -> bool {
        self.key64() == key && self.extra >> 24 == high
    }
    fn tag(&self) -> u32 {
        (self.extra >> INDEX_BITS) & ((1 << TAG_BITS) - 1)
    }
    fn index(&self) -> usize {
        (self.extra & ((1 << INDEX_BITS) - 1)) as usize
    }
    fn new(key: u64, high: u32, tag: u32, index: usize) -> Slot {
        Slot {
            key: [key as u32, (key >> 32) as u32],
            extra: high << 24 | tag << INDEX_BITS | index as u32,
        }
    }
}

struct Shard {
    slots: Vec<Slot>,
    len: usize,
    /// The parent links of the states first seen in the current level, in the order seen.
    fresh: Vec<u8>,
    /// How many links the current level is expected to bring: `fresh` is allocated with room
    /// for them at its first link (see [`Visited::drain_fresh`]).
    expected_links: usize,
}

impl Shard {
    fn with_slots(slots: usize) -> Self {
        Shard {
            slots: vec![Slot::default(); slots],
            len: 0,
            fresh: Vec::new(),
            expected_links: 8,
        }
    }

    fn position(&self, key: u64, high: u32) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = key as usize & mask;
        while !self.slots[i].is_empty() && !self.slots[i].matches(key, high) {
            i = (i + 1) & mask;
        }
        i
    }

    fn grow(&mut self) {
        let doubled = vec![Slot::default(); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        let mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|s| !s.is_empty()) {
            let mut i = slot.key64() as usize & mask;
            while !self.slots[i].is_empty() {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
    }
}

/// Where a shard's slots are, published for [`Visited::prefetch`]: a hint only, read without
/// the lock, never dereferenced.
struct SlotsHint {
    base: AtomicPtr<Slot>,
    mask: AtomicUsize,
}

/// A level too large for the fresh lists' indexes.
#[derive(Debug)]
pub(crate) struct LevelTooLarge;

/// A shard behind a spin lock, on a cache line of its own so that threads working on
/// neighbouring shards do not take the line from each other.
///
/// Every generated state takes one shard's lock for a few nanoseconds, and with a thousand
/// shards two threads rarely meet, so the lock is built for the uncontended case: taking it is
/// one compare-and-swap and releasing it one plain store, where `std::sync::Mutex` also swaps on
/// release (to wake sleepers) and that swap was a fifth of the insert's time. A thread that
/// finds the lock taken spins, and yields to the scheduler if the holder is slow (a table being
/// doubled).
#[repr(align(128))]
struct ShardLock {
    locked: AtomicBool,
    shard: UnsafeCell<Shard>,
}

// SAFETY: the `Shard` inside is only reached through a `ShardGuard`, and at most one guard
// exists at a time (see `lock`), so sharing a `ShardLock` between threads shares no unguarded
// access; `Shard` owns plain data and is `Send`.
unsafe impl Sync for ShardLock {}

struct ShardGuard<'a>(&'a ShardLock);

impl ShardLock {
    fn new(shard: Shard) -> Self {
        ShardLock {
            locked: AtomicBool::new(false),
            shard: UnsafeCell::new(shard),
        }
    }

    #[inline]
    fn lock(&self) -> ShardGuard<'_> {
        let mut spins = 0u32;
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            while self.locked.load(Ordering::Relaxed) {
                spins += 1;
                if spins < 1 << 10 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
        ShardGuard(self)
    }
}

impl std::ops::Deref for ShardGuard<'_> {
    type Target = Shard;
    fn deref(&self) -> &Shard {
        // SAFETY: this guard's successful false-to-true swap of `locked` (Acquire) makes it
        // the only guard until its drop stores false (Release); no other access to the shard
        // exists, and the Acquire/Release pair orders this access after the previous holder's.
        unsafe { &*self.0.shard.get() }
    }
}

impl std::ops::DerefMut for ShardGuard<'_> {
    fn deref_mut(&mut self) -> &mut Shard {
        // SAFETY: as for `deref`; `&mut self` makes this the only reference through the guard.
        unsafe { &mut *self.0.shard.get() }
    }
}

impl Drop for ShardGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.locked.store(false, Ordering::Release);
    }
}

/// The visited set, shared by all worker threads.
pub(crate) struct Visited {
    shards: Vec<ShardLock>,
    hints: Vec<SlotsHint>,
    /// How many states the last level drained had (to size the next level's fresh lists).
    links_of_last_level: AtomicU64,
}

impl Visited {
    pub(crate) fn new() -> Self {
        Self::from_shards(
            (0..SHARDS)
                .map(|_| Shard::with_slots(INITIAL_SLOTS))
                .collect(),
        )
    }

    fn from_shards(shards: Vec<Shard>) -> Self {
        let shards: Vec<ShardLock> = shards.into_iter().map(ShardLock::new).collect();
        let hints = shards
            .iter()
            .map(|shard| {
                let mut shard = shard.lock();
                SlotsHint {
                    base: AtomicPtr::new(shard.slots.as_mut_ptr()),
                    mask: AtomicUsize::new(shard.slots.len() - 1),
                }
            })
            .collect();
        Visited {
            shards,
            hints,
            links_of_last_level: AtomicU64::new(0),
        }
    }

    fn shard_index(fp: Fingerprint) -> usize {
        (fp >> (128 - SHARD_BITS)) as usize
    }

    /// Asks the processor to start loading the slot where `fp` would be, and to take its
    /// shard's lock line for writing, so that a batch of inserts overlaps its cache misses
    /// instead of paying them one after another. With several threads the lock line was last
    /// written by another core half of the time; fetching it early (PREFETCHW) cut the
    /// two-thread run's time by 7-10%.
    #[inline]
    pub(crate) fn prefetch(&self, fp: Fingerprint) {
        let index = Self::shard_index(fp);
        let hint = &self.hints[index];
        let base = hint.base.load(Ordering::Relaxed);
        let slot = base.wrapping_add(Slot::key(fp) as usize & hint.mask.load(Ordering::Relaxed));
        let lock: *const ShardLock = &self.shards[index];
        #[cfg(target_arch = "x86_64")]
        // SAFETY: PREFETCHT0 and PREFETCHW are only hints: they never fault, change no
        // register, flag or memory contents, whatever the address, so a stale or torn base/mask
        // pair (the table may have grown and been freed meanwhile) is harmless. `wrapping_add`
        // keeps the address computation free of undefined behaviour; neither pointer is
        // dereferenced. (A processor without PREFETCHW runs it as a no-op.)
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                slot as *const i8,
            );
            std::arch::asm!(
                "prefetchw [{lock}]",
                lock = in(reg) lock,
                options(nostack, readonly, preserves_flags)
            );
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (slot, lock);
    }

    /// Records `fp` as reached at `level` from `parent`; true if it is new. A state reached
    /// again in the level it was first found at keeps the smallest parent, so that traces do
    /// not depend on scheduling.
    pub(crate) fn insert(
        &self,
        fp: Fingerprint,
        parent: Fingerprint,
        level: u32,
    ) -> Result<bool, LevelTooLarge> {
        let index = Self::shard_index(fp);
        let mut shard = self.shards[index].lock();
        let (key, high, tag) = (Slot::key(fp), Slot::high_byte(fp), level % (1 << TAG_BITS));
        let i = shard.position(key, high);
        let slot = shard.slots[i];
        if !slot.is_empty() {
            if slot.tag() == tag {
                let at = slot.index() * LINK_BYTES;
                if let Some(link) = shard.fresh.get_mut(at..at + LINK_BYTES) {
                    let (seen, seen_parent) = read_link(link);
                    if seen == fp && parent < seen_parent {
                        link[16..].copy_from_slice(&parent.to_le_bytes());
                    }
                }
            }
            return Ok(false);
        }
        let fresh = shard.fresh.len() / LINK_BYTES;
        if fresh >= MAX_FRESH {
            return Err(LevelTooLarge);
        }
        if shard.fresh.capacity() == 0 {
            let room = shard.expected_links * LINK_BYTES;
            shard.fresh.reserve_exact(room);
        }
        shard.fresh.extend_from_slice(&fp.to_le_bytes());
        shard.fresh.extend_from_slice(&parent.to_le_bytes());
        shard.slots[i] = Slot::new(key, high, tag, fresh);
        shard.len += 1;
        if shard.len * 4 > shard.slots.len() * 3 {
            shard.grow();
            let hint = &self.hints[index];
            hint.base.store(shard.slots.as_mut_ptr(), Ordering::Relaxed);
            hint.mask.store(shard.slots.len() - 1, Ordering::Relaxed);
        }
        Ok(true)
    }

    /// Hands the parent links of the states first found in the level just finished to
    /// `links`, one shard's nonempty list at a time (moved, not copied), and gives each shard
    /// an empty list for the next level. Returns how many links there were.
    ///
    /// A new list is allocated, at its first link, with room for the links the next level is
    /// expected to bring (the shard's links of this level, times this level's growth over the
    /// one before, plus a quarter): a list that grows by doubling during a level reallocates
    /// in the workers, and with two threads those reallocations wait on each other's allocator
    /// locks (thousands of futex waits on static-raft's model). Allocating it here instead
    /// would make the end of each level, which one thread runs, longer.
    pub(crate) fn drain_fresh<E>(
        &self,
        mut links: impl FnMut(Vec<u8>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let count = self.fresh_len();
        let before = self.links_of_last_level.swap(count, Ordering::Relaxed);
        let growth = if before == 0 {
            2.0
        } else {
            (count as f64 / before as f64).clamp(0.5, 4.0)
        };
        for shard in &self.shards {
            let mut shard = shard.lock();
            let expected = (shard.fresh.len() / LINK_BYTES) as f64 * growth * 1.25;
            shard.expected_links = expected as usize + 8;
            let fresh = std::mem::take(&mut shard.fresh);
            drop(shard);
            if !fresh.is_empty() {
                links(fresh)?;
            }
        }
        Ok(count)
    }

    /// How many states were first found in the current level so far.
    pub(crate) fn fresh_len(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| (s.lock().fresh.len() / LINK_BYTES) as u64)
            .sum()
    }

    /// The parent recorded for `fp` if it was first found in the current level.
    pub(crate) fn fresh_parent(&self, fp: Fingerprint) -> Option<Fingerprint> {
        let shard = self.shards[Self::shard_index(fp)].lock();
        shard
            .fresh
            .chunks_exact(LINK_BYTES)
            .map(read_link)
            .find(|&(f, _)| f == fp)
            .map(|(_, parent)| parent)
    }

    #[cfg(test)]
    fn take_fresh(&self) -> Vec<(Fingerprint, Fingerprint)> {
        let mut all = Vec::new();
        let _ = self.drain_fresh(|links| -> Result<(), ()> {
            all.extend(links.chunks_exact(LINK_BYTES).map(read_link));
            Ok(())
        });
        all
    }

    /// The distinct states stored.
    pub(crate) fn len(&self) -> u64 {
        self.shards.iter().map(|s| s.lock().len as u64).sum()
    }

    /// Writes the set (between levels, when the fresh lists are empty) for a checkpoint.
    pub(crate) fn save(&self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(&(SHARDS as u64).to_le_bytes())?;
        let mut bytes = Vec::new();
        for shard in &self.shards {
            let shard = shard.lock();
            debug_assert!(shard.fresh.is_empty(), "saved between levels");
            out.write_all(&(shard.len as u64).to_le_bytes())?;
            out.write_all(&(shard.slots.len() as u64).to_le_bytes())?;
            bytes.clear();
            for slot in &shard.slots {
                for word in [slot.key[0], slot.key[1], slot.extra] {
                    bytes.extend_from_slice(&word.to_le_bytes());
                }
            }
            out.write_all(&bytes)?;
        }
        Ok(())
    }

    /// Reads a set written by [`Visited::save`].
    pub(crate) fn load(input: &mut impl Read) -> std::io::Result<Self> {
        let bad = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string());
        let mut word = [0u8; 8];
        let mut read_u64 = |input: &mut dyn Read| -> std::io::Result<u64> {
            input.read_exact(&mut word)?;
            Ok(u64::from_le_bytes(word))
        };
        if read_u64(input)? != SHARDS as u64 {
            return Err(bad("the visited set was saved with another shard count"));
        }
        let mut shards = Vec::with_capacity(SHARDS);
        let mut bytes = Vec::new();
        for _ in 0..SHARDS {
            let len = read_u64(input)? as usize;
            let slots = read_u64(input)? as usize;
            if !slots.is_power_of_two() || len * 4 > slots * 3 {
                return Err(bad("a visited-set shard has an impossible size"));
            }
            bytes.resize(slots * 12, 0);
            input.read_exact(&mut bytes)?;
            let mut shard = Shard::with_slots(0);
            shard.len = len;
            shard.slots = bytes
                .chunks_exact(12)
                .map(|c| {
                    let w = |k: usize| u32::from_le_bytes(c[4 * k..4 * k + 4].try_into().unwrap());
                    Slot {
                        key: [w(0), w(1)],
                        extra: w(2),
                    }
                })
                .collect();
            shards.push(shard);
        }
        Ok(Self::from_shards(shards))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::fingerprint;

    #[test]
    fn inserts_grow_and_keep_the_smallest_parent_of_a_level() {
        let visited = Visited::new();
        for i in 0..100_000u64 {
            assert!(visited.insert(fingerprint(&i), 7, 2).unwrap());
        }
        for i in 0..100_000u64 {
            assert!(!visited.insert(fingerprint(&i), 9, 2).unwrap());
            assert_eq!(visited.fresh_parent(fingerprint(&i)), Some(7));
        }
        let fp = fingerprint(&5u64);
        assert!(!visited.insert(fp, 3, 2).unwrap());
        assert_eq!(visited.fresh_parent(fp), Some(3), "a smaller parent wins");
        assert_eq!(visited.len(), 100_000);
        assert_eq!(visited.take_fresh().len(), 100_000);
        // The next level: old states are found again (even under an equal tag, 16 levels on,
        // their stale fresh index is not trusted) and their parents are no longer kept.
        assert!(visited.insert(fingerprint(&100_000u64), 1, 18).unwrap());
        assert!(!visited.insert(fp, 1, 18).unwrap());
        assert!(!visited.insert(fingerprint(&0u64), 1, 18).unwrap());
        assert_eq!(visited.take_fresh(), vec![(fingerprint(&100_000u64), 1)]);
    }

    #[test]
    fn a_saved_set_loads_with_the_same_members() {
        let visited = Visited::new();
        for i in 0..5_000u64 {
            visited.insert(fingerprint(&i), 0, 1).unwrap();
        }
        visited.take_fresh();
        let mut bytes = Vec::new();
        visited.save(&mut bytes).unwrap();
        let loaded = Visited::load(&mut bytes.as_slice()).unwrap();
        assert_eq!(loaded.len(), 5_000);
        for i in 0..5_000u64 {
            assert!(!loaded.insert(fingerprint(&i), 0, 2).unwrap());
        }
        assert!(loaded.insert(fingerprint(&5_000u64), 0, 2).unwrap());
        assert!(Visited::load(&mut &bytes[..100]).is_err());
    }
}
