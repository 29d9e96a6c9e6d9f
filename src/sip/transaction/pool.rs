//! Preallocated pool of message buffers held by transactions for retransmission.
//!
//! Two classes of fixed-size buffers, each carved out of one contiguous allocation made at
//! start-up: many small ones (2 KiB by default) and a count-limited set of large ones for big
//! messages (a small request falls back to a large buffer when the small ones run out).
//! Free lists are preallocated stacks: alloc/release never allocate.

use super::build::Parts;
use super::Error;

/// A buffer handle (index; small buffers first, then large ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buf(u32);

/// Sizes and counts of the two buffer classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Number of small buffers.
    pub small_count: usize,
    /// Bytes per small buffer.
    pub small_size: usize,
    /// Number of large buffers.
    pub large_count: usize,
    /// Bytes per large buffer (the largest message the layer stores).
    pub large_size: usize,
}

impl PoolConfig {
    /// Default bytes per small buffer: nearly every SIP message of a lab fits; larger ones
    /// take a large buffer.
    pub const SMALL_BUFFER: usize = 2048;
    /// Bytes per large buffer: the largest UDP payload, and the largest message stored.
    pub const LARGE_BUFFER: usize = 65_535;

    /// One small buffer of `small_size` bytes per transaction, and one large buffer per 64
    /// transactions (at least one).
    pub fn for_transactions(transactions: usize, small_size: usize) -> PoolConfig {
        PoolConfig {
            small_count: transactions,
            small_size,
            large_count: (transactions / 64).max(1),
            large_size: Self::LARGE_BUFFER,
        }
    }

    /// Bytes of buffer memory this configuration preallocates.
    pub fn bytes(&self) -> usize {
        self.small_count
            .saturating_mul(self.small_size)
            .saturating_add(self.large_count.saturating_mul(self.large_size))
    }
}

/// The buffer pool.
pub struct Pool {
    small: Vec<u8>,
    large: Vec<u8>,
    cfg: PoolConfig,
    lens: Vec<u32>,
    free_small: Vec<u32>,
    free_large: Vec<u32>,
}

/// Which backing array and where a buffer lives.
#[derive(Clone, Copy)]
struct Loc {
    large: bool,
    offset: usize,
    cap: usize,
}

/// Borrows `src` immutably and `dst` mutably from one array; the ranges are disjoint because
/// they belong to different buffers.
fn split(v: &mut [u8], src: (usize, usize), dst: (usize, usize)) -> (&[u8], &mut [u8]) {
    let (s, d) = (src.0..src.0 + src.1, dst.0..dst.0 + dst.1);
    if s.start < d.start {
        let (lo, hi) = v.split_at_mut(d.start);
        (
            lo.get(s).unwrap_or_default(),
            hi.get_mut(..d.len()).unwrap_or_default(),
        )
    } else {
        let (lo, hi) = v.split_at_mut(s.start);
        (
            hi.get(..s.len()).unwrap_or_default(),
            lo.get_mut(d).unwrap_or_default(),
        )
    }
}

impl Pool {
    /// Allocates every buffer up front.
    pub fn new(cfg: PoolConfig) -> Self {
        let total = cfg.small_count + cfg.large_count;
        Pool {
            small: vec![0; cfg.small_count.saturating_mul(cfg.small_size)],
            large: vec![0; cfg.large_count.saturating_mul(cfg.large_size)],
            cfg,
            lens: vec![0; total],
            free_small: (0..cfg.small_count as u32).rev().collect(),
            free_large: (cfg.small_count as u32..total as u32).rev().collect(),
        }
    }

    fn loc(&self, b: Buf) -> Loc {
        let i = b.0 as usize;
        if i < self.cfg.small_count {
            Loc {
                large: false,
                offset: i * self.cfg.small_size,
                cap: self.cfg.small_size,
            }
        } else {
            let j = i - self.cfg.small_count;
            Loc {
                large: true,
                offset: j * self.cfg.large_size,
                cap: self.cfg.large_size,
            }
        }
    }

    fn len_of(&self, b: Buf) -> usize {
        self.lens.get(b.0 as usize).copied().unwrap_or(0) as usize
    }

    /// Draws a buffer able to hold `len` bytes.
    fn alloc(&mut self, len: usize) -> Result<Buf, Error> {
        if len > self.cfg.large_size.max(self.cfg.small_size) {
            return Err(Error::TooLarge);
        }
        let small = if len <= self.cfg.small_size {
            self.free_small.pop()
        } else {
            None
        };
        let large = || {
            if len <= self.cfg.large_size {
                self.free_large.pop()
            } else {
                None
            }
        };
        let b = Buf(small.or_else(large).ok_or(Error::Full)?);
        if let Some(l) = self.lens.get_mut(b.0 as usize) {
            *l = len as u32;
        }
        Ok(b)
    }

    /// Returns a buffer to its free list.
    pub fn release(&mut self, b: Buf) {
        if self.loc(b).large {
            self.free_large.push(b.0);
        } else {
            self.free_small.push(b.0);
        }
    }

    /// The bytes stored in `b`.
    pub fn bytes(&self, b: Buf) -> &[u8] {
        let loc = self.loc(b);
        let arr = if loc.large { &self.large } else { &self.small };
        arr.get(loc.offset..loc.offset + self.len_of(b))
            .unwrap_or_default()
    }

    /// Copies `bytes` into a new buffer.
    pub fn store(&mut self, bytes: &[u8]) -> Result<Buf, Error> {
        let b = self.alloc(bytes.len())?;
        let loc = self.loc(b);
        let arr = if loc.large {
            &mut self.large
        } else {
            &mut self.small
        };
        if let Some(d) = arr.get_mut(loc.offset..loc.offset + bytes.len()) {
            d.copy_from_slice(bytes);
        }
        Ok(b)
    }

    /// Writes `parts` (whose `Src` spans refer to buffer `src`) into a new buffer.
    pub fn emit(&mut self, src: Option<Buf>, parts: &Parts<'_>) -> Result<Buf, Error> {
        let src_bytes = src.map(|s| self.bytes(s)).unwrap_or_default();
        let len = parts.len(src_bytes).ok_or(Error::Malformed)?;
        let dst = self.alloc(len)?;
        let d = self.loc(dst);
        let (src_bytes, dst_bytes): (&[u8], &mut [u8]) = match src.map(|s| (self.loc(s), s)) {
            None => {
                let arr = if d.large {
                    &mut self.large
                } else {
                    &mut self.small
                };
                (
                    &[],
                    arr.get_mut(d.offset..d.offset + d.cap).unwrap_or_default(),
                )
            }
            Some((s, sb)) => {
                let sl = self.len_of(sb);
                match (s.large, d.large) {
                    (false, false) => split(&mut self.small, (s.offset, sl), (d.offset, d.cap)),
                    (true, true) => split(&mut self.large, (s.offset, sl), (d.offset, d.cap)),
                    (false, true) => (
                        self.small.get(s.offset..s.offset + sl).unwrap_or_default(),
                        self.large
                            .get_mut(d.offset..d.offset + d.cap)
                            .unwrap_or_default(),
                    ),
                    (true, false) => (
                        self.large.get(s.offset..s.offset + sl).unwrap_or_default(),
                        self.small
                            .get_mut(d.offset..d.offset + d.cap)
                            .unwrap_or_default(),
                    ),
                }
            }
        };
        parts.write(src_bytes, dst_bytes);
        Ok(dst)
    }

    /// Free buffers: (small, large).
    pub fn free(&self) -> (usize, usize) {
        (self.free_small.len(), self.free_large.len())
    }
}
