//! Blocks of bytes kept in memory while they fit a budget, and in files on disk after that: the
//! search's queue of states to explore and its store of parent links.
//!
//! A breadth-first search writes each level once and reads it once, in any order, so neither
//! the queue nor the parent links need random access: both are lists of blocks of about
//! [`BLOCK_BYTES`]. A block that would take the resident memory of all blocks past the
//! [`Budget`] is appended to its list's file instead, as `[length: u32][bytes]`. Reading the file
//! back needs no index, so a file is also the form a checkpoint keeps.

use crate::checksum::Checksum;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// The size a writer fills a block to before handing it over.
pub(crate) const BLOCK_BYTES: usize = 64 * 1024;

/// The memory that blocks of all lists may hold together; past it, blocks go to disk.
pub(crate) struct Budget {
    limit: u64,
    used: AtomicU64,
}

impl Budget {
    pub(crate) fn new(limit: u64) -> Self {
        Budget {
            limit,
            used: AtomicU64::new(0),
        }
    }
    fn reserve(&self, bytes: u64) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                (used + bytes <= self.limit).then_some(used + bytes)
            })
            .is_ok()
    }
    fn release(&self, bytes: u64) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// Where spilled blocks go: a directory, and whether to remove it when the search ends.
pub(crate) struct SpillDir {
    path: PathBuf,
    remove_when_done: bool,
    next_file: AtomicUsize,
}

impl SpillDir {
    /// A new private directory under the system's temporary directory, removed when dropped.
    pub(crate) fn temporary() -> std::io::Result<Self> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "refine-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path)?;
        Ok(SpillDir {
            path,
            remove_when_done: true,
            next_file: AtomicUsize::new(0),
        })
    }

    /// A directory the caller owns (a checkpoint directory), kept when dropped.
    pub(crate) fn kept(path: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(path)?;
        Ok(SpillDir {
            path: path.to_path_buf(),
            remove_when_done: false,
            next_file: AtomicUsize::new(0),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn new_file_name(&self, stem: &str) -> PathBuf {
        let n = self.next_file.fetch_add(1, Ordering::Relaxed);
        self.path
            .join(format!("{stem}-{}-{n}.tmp", std::process::id()))
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        if self.remove_when_done {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// An on-disk part of a list: the file and where each block's bytes are in it.
struct Spilled {
    file: File,
    path: PathBuf,
    /// Offset and length of each block's bytes.
    blocks: Vec<(u64, u32)>,
    end: u64,
    /// Whether to delete the file when the list is dropped (false once a checkpoint owns it).
    temporary: bool,
    /// The checksum of the file's bytes, `end` of them (blocks are only ever appended).
    sum: Checksum,
}

impl Spilled {
    fn append(&mut self, block: &[u8]) -> std::io::Result<()> {
        let mut framed = Vec::with_capacity(block.len() + 4);
        framed.extend_from_slice(&(block.len() as u32).to_le_bytes());
        framed.extend_from_slice(block);
        self.file.write_all_at(&framed, self.end)?;
        self.sum.update(&framed);
        self.blocks.push((self.end + 4, block.len() as u32));
        self.end += framed.len() as u64;
        Ok(())
    }
}

/// A list of blocks, in memory up to the budget and on disk after that.
pub(crate) struct Blocks {
    stem: &'static str,
    in_memory: Vec<Vec<u8>>,
    memory_bytes: u64,
    spilled: Option<Spilled>,
    /// Total bytes of all blocks (not counting file headers).
    bytes: u64,
}

impl Blocks {
    /// An empty list whose spill file names start with `stem`.
    pub(crate) fn new(stem: &'static str) -> Self {
        Blocks {
            stem,
            in_memory: Vec::new(),
            memory_bytes: 0,
            spilled: None,
            bytes: 0,
        }
    }

    /// Adds a block: kept in memory if the budget allows, else appended to the list's file.
    pub(crate) fn push(
        &mut self,
        block: Vec<u8>,
        budget: &Budget,
        dir: &SpillDir,
    ) -> std::io::Result<()> {
        if block.is_empty() {
            return Ok(());
        }
        self.bytes += block.len() as u64;
        let size = block.capacity() as u64;
        if budget.reserve(size) {
            self.memory_bytes += size;
            self.in_memory.push(block);
            return Ok(());
        }
        self.append_to_file(&block, dir)
    }

    fn append_to_file(&mut self, block: &[u8], dir: &SpillDir) -> std::io::Result<()> {
        if self.spilled.is_none() {
            let path = dir.new_file_name(self.stem);
            let file = OpenOptions::new()
                .create_new(true)
                .read(true)
                .write(true)
                .open(&path)?;
            self.spilled = Some(Spilled {
                file,
                path,
                blocks: Vec::new(),
                end: 0,
                temporary: true,
                sum: Checksum::default(),
            });
        }
        self.spilled.as_mut().expect("just created").append(block)
    }

    /// Total bytes of all blocks (not counting file headers).
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The number of blocks.
    pub(crate) fn len(&self) -> usize {
        self.in_memory.len() + self.spilled.as_ref().map_or(0, |s| s.blocks.len())
    }

    /// Block `i` (in memory first, then on disk).
    pub(crate) fn get(&self, i: usize) -> std::io::Result<std::borrow::Cow<'_, [u8]>> {
        if let Some(block) = self.in_memory.get(i) {
            return Ok(std::borrow::Cow::Borrowed(block));
        }
        let spilled = self.spilled.as_ref().expect("block index in range");
        let (offset, len) = spilled.blocks[i - self.in_memory.len()];
        let mut bytes = vec![0; len as usize];
        spilled.file.read_exact_at(&mut bytes, offset)?;
        Ok(std::borrow::Cow::Owned(bytes))
    }

    /// Gives the memory of the in-memory blocks back to the budget and deletes the file.
    pub(crate) fn clear(&mut self, budget: &Budget) {
        budget.release(self.memory_bytes);
        self.memory_bytes = 0;
        self.in_memory.clear();
        if let Some(spilled) = self.spilled.take() {
            if spilled.temporary {
                let _ = std::fs::remove_file(&spilled.path);
            }
        }
        self.bytes = 0;
    }

    /// Writes every block to `path` in the file format (moving the spill file there if there
    /// is one), so that the list survives the process; the list then reads from that file.
    /// Returns the file's length and checksum, computed as its bytes were written.
    pub(crate) fn persist(&mut self, path: &Path, budget: &Budget) -> std::io::Result<Checksum> {
        let in_memory = std::mem::take(&mut self.in_memory);
        budget.release(self.memory_bytes);
        self.memory_bytes = 0;
        let mut spilled = match self.spilled.take() {
            Some(s) => s,
            None => Spilled {
                file: OpenOptions::new()
                    .create(true)
                    .truncate(true)
                    .read(true)
                    .write(true)
                    .open(path)?,
                path: path.to_path_buf(),
                blocks: Vec::new(),
                end: 0,
                temporary: false,
                sum: Checksum::default(),
            },
        };
        if spilled.path != path {
            std::fs::rename(&spilled.path, path)?;
            spilled.path = path.to_path_buf();
        }
        spilled.temporary = false;
        // Blocks in memory come first in the list; on disk they are appended after the
        // spilled ones. The order of blocks within a list carries no meaning.
        let written = in_memory.iter().try_for_each(|block| spilled.append(block));
        let synced = written.and_then(|()| spilled.file.sync_all());
        let sum = spilled.sum.clone();
        self.spilled = Some(spilled);
        synced.map(|()| sum)
    }

    /// Opens a list written by [`Blocks::persist`]; the file stays where it is.
    pub(crate) fn open(stem: &'static str, path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let mut reader = BufReader::new(file.try_clone()?);
        let (mut blocks, mut end, mut bytes) = (Vec::new(), 0u64, 0u64);
        let mut header = [0u8; 4];
        let (mut sum, mut payload) = (Checksum::default(), Vec::new());
        loop {
            match reader.read_exact(&mut header) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e),
            }
            let len = u32::from_le_bytes(header);
            sum.update(&header);
            payload.clear();
            (&mut reader).take(len as u64).read_to_end(&mut payload)?;
            if payload.len() != len as usize {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("{} ends inside a block", path.display()),
                ));
            }
            sum.update(&payload);
            blocks.push((end + 4, len));
            end += 4 + len as u64;
            bytes += len as u64;
        }
        Ok(Blocks {
            stem,
            in_memory: Vec::new(),
            memory_bytes: 0,
            spilled: Some(Spilled {
                file,
                path: path.to_path_buf(),
                blocks,
                end,
                temporary: false,
                sum,
            }),
            bytes,
        })
    }
}

impl Drop for Blocks {
    /// A list's spill file goes with it, on every path out of a search (a checkpoint's files
    /// are not temporary and stay).
    fn drop(&mut self) {
        if let Some(spilled) = self.spilled.take() {
            if spilled.temporary {
                let _ = std::fs::remove_file(&spilled.path);
            }
        }
    }
}

/// A shared writer: threads fill their own block and hand it over when full.
pub(crate) struct SharedBlocks<'a> {
    blocks: Mutex<(Blocks, Option<std::io::Error>)>,
    budget: &'a Budget,
    dir: &'a SpillDir,
}

impl<'a> SharedBlocks<'a> {
    pub(crate) fn new(stem: &'static str, budget: &'a Budget, dir: &'a SpillDir) -> Self {
        SharedBlocks {
            blocks: Mutex::new((Blocks::new(stem), None)),
            budget,
            dir,
        }
    }

    /// Hands over `block` (leaving an empty one of the same capacity in its place).
    pub(crate) fn hand_over(&self, block: &mut Vec<u8>) {
        if block.is_empty() {
            return;
        }
        let full = std::mem::replace(block, Vec::with_capacity(BLOCK_BYTES + 512));
        let mut guard = self.blocks.lock().expect("block list poisoned");
        let (blocks, error) = &mut *guard;
        if let Err(e) = blocks.push(full, self.budget, self.dir) {
            error.get_or_insert(e);
        }
    }

    pub(crate) fn finish(self) -> std::io::Result<Blocks> {
        let (blocks, error) = self.blocks.into_inner().expect("block list poisoned");
        match error {
            Some(e) => Err(e),
            None => Ok(blocks),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_past_the_budget_go_to_disk_and_come_back() {
        let dir = SpillDir::temporary().unwrap();
        let budget = Budget::new(100);
        let mut blocks = Blocks::new("test");
        for i in 0..5u8 {
            let mut block = Vec::with_capacity(60);
            block.extend(std::iter::repeat_n(i, 50));
            blocks.push(block, &budget, &dir).unwrap();
        }
        assert_eq!(
            blocks.in_memory.len(),
            1,
            "one 60-byte block fits in 100 bytes"
        );
        assert_eq!(blocks.len(), 5);
        for i in 0..5 {
            assert_eq!(&*blocks.get(i).unwrap(), &[i as u8; 50][..]);
        }
        let path = dir.path().join("kept.bin");
        let sum = blocks.persist(&path, &budget).unwrap();
        let on_disk = Checksum::of_file(&path).unwrap();
        assert_eq!((sum.len(), sum.hex()), (on_disk.len(), on_disk.hex()));
        assert_eq!(budget.used.load(Ordering::Relaxed), 0);
        let reopened = Blocks::open("test", &path).unwrap();
        let mut seen: Vec<u8> = (0..5).map(|i| reopened.get(i).unwrap()[0]).collect();
        seen.sort();
        assert_eq!(seen, vec![0, 1, 2, 3, 4]);
        let path_string = dir.path().to_path_buf();
        drop(dir);
        assert!(
            !path_string.exists(),
            "a temporary spill directory is removed"
        );
    }
}
