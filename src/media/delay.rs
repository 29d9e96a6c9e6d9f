//! The media delay line (`media_delay`): packets held until a due time in a pool of
//! fixed-size buffers allocated at start-up, released in due-time order (arrival order
//! for equal due times) through a binary heap that never grows past the pool size.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::Instant;

/// Largest packet the delay line can hold.
pub const DELAY_MTU: usize = 1500;

/// Where and how a held packet goes once due.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Held {
    pub(crate) dst: SocketAddr,
    pub(crate) src_port: u16,
    /// Slot (and its generation) whose counters account the send.
    pub(crate) slot: u32,
    pub(crate) gen: u32,
    pub(crate) rtcp: bool,
    len: u16,
}

impl Held {
    pub(crate) fn new(dst: SocketAddr, src_port: u16, slot: u32, gen: u32, rtcp: bool) -> Held {
        Held { dst, src_port, slot, gen, rtcp, len: 0 }
    }
}

pub(crate) struct DelayPool {
    bufs: Box<[[u8; DELAY_MTU]]>,
    held: Vec<Option<Held>>,
    free: Vec<u32>,
    queue: BinaryHeap<Reverse<(Instant, u64, u32)>>,
    seq: u64,
}

impl DelayPool {
    pub(crate) fn new(capacity: usize) -> DelayPool {
        let capacity = capacity.min(u32::MAX as usize);
        DelayPool {
            bufs: vec![[0u8; DELAY_MTU]; capacity].into_boxed_slice(),
            held: vec![None; capacity],
            free: (0..capacity as u32).rev().collect(),
            queue: BinaryHeap::with_capacity(capacity),
            seq: 0,
        }
    }

    /// Holds `data` until `due`; false when the pool is full or `data` too large.
    pub(crate) fn push(&mut self, due: Instant, mut held: Held, data: &[u8]) -> bool {
        if data.len() > DELAY_MTU {
            return false;
        }
        let Some(idx) = self.free.pop() else { return false };
        let (Some(buf), Some(meta)) = (self.bufs.get_mut(idx as usize), self.held.get_mut(idx as usize)) else {
            return false;
        };
        if let Some(dst) = buf.get_mut(..data.len()) {
            dst.copy_from_slice(data);
        }
        held.len = data.len() as u16;
        *meta = Some(held);
        self.seq += 1;
        // Bounded: at most `capacity` entries, the heap's initial capacity.
        self.queue.push(Reverse((due, self.seq, idx)));
        true
    }

    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse((due, _, _))| *due)
    }

    /// The earliest packet whose due time has come, removed from the line; its bytes stay
    /// readable through [`Self::data`] until the next `push`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(Held, u32)> {
        if self.next_due()? > now {
            return None;
        }
        let Reverse((_, _, idx)) = self.queue.pop()?;
        self.free.push(idx);
        let held = self.held.get_mut(idx as usize)?.take()?;
        Some((held, idx))
    }

    /// The bytes of a packet returned by [`Self::pop_due`].
    pub(crate) fn data(&self, idx: u32, held: &Held) -> &[u8] {
        self.bufs.get(idx as usize).and_then(|b| b.get(..usize::from(held.len))).unwrap_or_default()
    }

    pub(crate) fn held_len(held: &Held) -> usize {
        usize::from(held.len)
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }
}
