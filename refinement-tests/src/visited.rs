//! The visited set of the breadth-first search: for every distinct state, its fingerprint, the
//! fingerprint of the state it was first reached from, and the level it was reached at.
//!
//! It is a set of open-addressing hash tables with linear probing, one per shard, each behind
//! its own lock; the shard is chosen by the fingerprint's top bits and the slot by its low bits,
//! so a lookup is usually one cache miss. Fingerprints are already uniformly distributed, so no
//! further hashing is needed. A table doubles when it is three-quarters full.

use crate::fingerprint::Fingerprint;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::Mutex;

const SHARDS: usize = 256;
const INITIAL_SLOTS: usize = 1024;

#[derive(Clone, Copy, Default)]
struct Slot {
    /// Zero marks an empty slot (no fingerprint is zero).
    fp: Fingerprint,
    parent: Fingerprint,
    level: u32,
}

struct Table {
    slots: Vec<Slot>,
    len: usize,
}

impl Table {
    fn new() -> Self {
        Table {
            slots: vec![Slot::default(); INITIAL_SLOTS],
            len: 0,
        }
    }

    fn position(&self, fp: Fingerprint) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = fp as usize & mask;
        while self.slots[i].fp != 0 && self.slots[i].fp != fp {
            i = (i + 1) & mask;
        }
        i
    }

    fn grow(&mut self) {
        let doubled = vec![Slot::default(); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        for slot in old.into_iter().filter(|s| s.fp != 0) {
            let i = self.position(slot.fp);
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

/// The visited set, shared by all worker threads.
pub(crate) struct Visited {
    shards: Vec<Mutex<Table>>,
    hints: Vec<SlotsHint>,
}

impl Visited {
    pub(crate) fn new() -> Self {
        let shards: Vec<Mutex<Table>> = (0..SHARDS).map(|_| Mutex::new(Table::new())).collect();
        let hints = shards
            .iter()
            .map(|shard| {
                let mut table = shard.lock().expect("fresh lock");
                SlotsHint {
                    base: AtomicPtr::new(table.slots.as_mut_ptr()),
                    mask: AtomicUsize::new(table.slots.len() - 1),
                }
            })
            .collect();
        Visited { shards, hints }
    }

    fn shard_index(fp: Fingerprint) -> usize {
        (fp >> 120) as usize % SHARDS
    }

    fn shard(&self, fp: Fingerprint) -> &Mutex<Table> {
        &self.shards[Self::shard_index(fp)]
    }

    /// Asks the processor to start loading the slot where `fp` would be, so that a batch of
    /// inserts overlaps its cache misses instead of paying them one after another.
    #[inline]
    pub(crate) fn prefetch(&self, fp: Fingerprint) {
        let hint = &self.hints[Self::shard_index(fp)];
        let base = hint.base.load(Ordering::Relaxed);
        let slot = base.wrapping_add(fp as usize & hint.mask.load(Ordering::Relaxed));
        #[cfg(target_arch = "x86_64")]
        // SAFETY: PREFETCHT0 is only a hint: it never faults and has no architectural effect,
        // whatever the address, so a stale or torn base/mask pair (the table may have grown and
        // been freed meanwhile) is harmless. `wrapping_add` keeps the address computation free
        // of undefined behaviour; the pointer is never dereferenced.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                slot as *const i8,
            );
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    /// Records `fp` as reached at `level` from `parent`; true if it is new. A state reached again
    /// at the same level keeps the smallest parent, so traces do not depend on scheduling.
    pub(crate) fn insert(&self, fp: Fingerprint, parent: Fingerprint, level: u32) -> bool {
        let mut table = self.shard(fp).lock().expect("visited shard poisoned");
        let i = table.position(fp);
        let slot = &mut table.slots[i];
        if slot.fp == fp {
            if slot.level == level && parent < slot.parent {
                slot.parent = parent;
            }
            return false;
        }
        *slot = Slot { fp, parent, level };
        table.len += 1;
        if table.len * 4 > table.slots.len() * 3 {
            table.grow();
            let hint = &self.hints[Self::shard_index(fp)];
            hint.base.store(table.slots.as_mut_ptr(), Ordering::Relaxed);
            hint.mask.store(table.slots.len() - 1, Ordering::Relaxed);
        }
        true
    }

    /// The parent recorded for `fp` (zero for an initial state), if `fp` was visited.
    pub(crate) fn parent(&self, fp: Fingerprint) -> Option<Fingerprint> {
        let table = self.shard(fp).lock().expect("visited shard poisoned");
        let slot = table.slots[table.position(fp)];
        (slot.fp == fp).then_some(slot.parent)
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
            assert!(visited.insert(fingerprint(&i), 7, 2));
        }
        for i in 0..100_000u64 {
            assert!(!visited.insert(fingerprint(&i), 9, 2));
            assert_eq!(visited.parent(fingerprint(&i)), Some(7));
        }
        let fp = fingerprint(&5u64);
        assert!(!visited.insert(fp, 3, 2));
        assert_eq!(
            visited.parent(fp),
            Some(3),
            "a smaller parent at the same level wins"
        );
        assert!(!visited.insert(fp, 1, 3));
        assert_eq!(
            visited.parent(fp),
            Some(3),
            "a later level never changes the parent"
        );
        assert_eq!(visited.parent(fingerprint(&u64::MAX)), None);
    }
}
