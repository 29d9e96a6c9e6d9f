//! RTP port allocation (RFC 3550 11: RTP on an even port p, RTCP on p + 1) split between
//! workers so that the owner of a port is derivable from the port alone: pair k of the
//! range (RTP port `first_even + 2k`) belongs to worker `k % n_workers`.

/// The shared geometry of a port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    first: u16,
    pairs: usize,
    n_workers: usize,
}

impl PortRange {
    /// The pairs (p, p + 1) with p even inside `[port_min, port_max]`, split between
    /// `n_workers` (at least 1).
    pub fn new(port_min: u16, port_max: u16, n_workers: usize) -> PortRange {
        let first = port_min.saturating_add(port_min & 1);
        let span = usize::from(port_max).saturating_sub(usize::from(first)) + 1;
        let pairs = if port_max < first { 0 } else { span / 2 };
        PortRange { first, pairs, n_workers: n_workers.max(1) }
    }

    /// Number of port pairs in the range.
    pub fn pairs(&self) -> usize {
        self.pairs
    }

    /// Index of the pair holding `port` (RTP or RTCP port).
    pub fn pair_index(&self, port: u16) -> Option<usize> {
        let off = usize::from(port.checked_sub(self.first)?) / 2;
        (off < self.pairs).then_some(off)
    }

    /// The worker owning `port` (RTP or RTCP port), `None` outside the range.
    pub fn owner(&self, port: u16) -> Option<usize> {
        self.pair_index(port).map(|k| k % self.n_workers)
    }

    /// RTP port of pair `k`.
    pub fn rtp_port(&self, k: usize) -> Option<u16> {
        (k < self.pairs).then(|| u16::try_from(usize::from(self.first) + 2 * k).ok()).flatten()
    }
}

/// Freed pairs wait this many later frees before they are handed out again (unless the
/// share runs dry): late RTP of an ended call then meets no session, or a session whose
/// latching it cannot steal (RFC 4961) because the new peer spoke first.
pub const REUSE_DISTANCE: usize = 128;

/// Allocates the RTP ports of one worker's share of a [`PortRange`].
///
/// Recently used pairs are preferred (a free stack, most recent on top), after a quarantine
/// of [`REUSE_DISTANCE`] frees: so the pairs in use stay a small working set (the worker
/// keeps their sockets open between calls, see `endpoint::media_plane`) instead of
/// rotating through the whole range.
#[derive(Debug, Clone)]
pub struct PortAllocator {
    range: PortRange,
    worker: usize,
    /// One bit per pair of this worker (bit j: pair `worker + j * n_workers`).
    used: Vec<u64>,
    count: usize,
    in_use: usize,
    /// Free pair indices ready for reuse, the next one last (capacity `count`).
    stack: Vec<u32>,
    /// Freed pair indices in quarantine, oldest first (capacity `REUSE_DISTANCE + 1`).
    quarantine: std::collections::VecDeque<u32>,
}

impl PortAllocator {
    /// The allocator of `worker` (0-based, below `n_workers`) over `[port_min, port_max]`.
    pub fn new(port_min: u16, port_max: u16, worker: usize, n_workers: usize) -> PortAllocator {
        let range = PortRange::new(port_min, port_max, n_workers);
        let n = range.n_workers;
        let count = if worker < n { range.pairs.saturating_sub(worker).div_ceil(n) } else { 0 };
        // Lowest port on top; every index fits u32 (a share has at most 32,768 pairs).
        let mut stack = Vec::with_capacity(count);
        stack.extend((0..count as u32).rev());
        let quarantine = std::collections::VecDeque::with_capacity(REUSE_DISTANCE + 1);
        PortAllocator { range, worker, used: vec![0; count.div_ceil(64)], count, in_use: 0, stack, quarantine }
    }

    /// The range geometry (for `owner`).
    pub fn range(&self) -> PortRange {
        self.range
    }

    /// Pairs left.
    pub fn available(&self) -> usize {
        self.count - self.in_use
    }

    /// Takes a free RTP port (even; its RTCP port is the next one): the most recently
    /// released one past the quarantine, else a quarantined one (oldest first) rather
    /// than none.
    pub fn alloc(&mut self) -> Option<u16> {
        let j = self.stack.pop().or_else(|| self.quarantine.pop_front())? as usize;
        let w = self.used.get_mut(j / 64)?;
        *w |= 1u64 << (j % 64);
        self.in_use += 1;
        self.range.rtp_port(self.worker + j * self.range.n_workers)
    }

    /// Returns an RTP port; false when it is not an allocated port of this worker.
    pub fn free(&mut self, rtp_port: u16) -> bool {
        let Some(k) = self.range.pair_index(rtp_port) else { return false };
        if rtp_port & 1 != self.range.first & 1 || k % self.range.n_workers != self.worker {
            return false;
        }
        let j = k / self.range.n_workers;
        let Some(w) = self.used.get_mut(j / 64) else { return false };
        let bit = 1u64 << (j % 64);
        if *w & bit == 0 {
            return false;
        }
        *w &= !bit;
        self.in_use -= 1;
        // Both never exceed their capacities: `j` was in use, so it is in neither list.
        self.quarantine.push_back(j as u32);
        if self.quarantine.len() > REUSE_DISTANCE {
            if let Some(old) = self.quarantine.pop_front() {
                self.stack.push(old);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_pairs_come_back_after_the_quarantine_most_recent_first() {
        // 300 pairs for one worker: 10000, 10002, ... 10598.
        let mut a = PortAllocator::new(10000, 10599, 0, 1);
        let first: Vec<u16> = (0..REUSE_DISTANCE + 2).filter_map(|_| a.alloc()).collect();
        assert_eq!(first.first(), Some(&10000), "lowest port first");
        for &p in &first {
            assert!(a.free(p));
        }
        // Two frees have left the quarantine (the first two ports), the newest on top.
        assert_eq!(a.alloc(), Some(first[1]));
        assert_eq!(a.alloc(), Some(first[0]));
        // Then never-used pairs: the quarantined ones wait.
        assert_eq!(a.alloc(), Some(10000 + 2 * (REUSE_DISTANCE as u16 + 2)));
        assert!(!a.free(first[5]), "still in quarantine: not allocated, so not freed twice");
    }

    #[test]
    fn a_dry_share_reuses_quarantined_pairs_and_counts_right() {
        let mut a = PortAllocator::new(20000, 20007, 0, 1); // 4 pairs
        let all: Vec<u16> = std::iter::from_fn(|| a.alloc()).collect();
        assert_eq!(all, [20000, 20002, 20004, 20006]);
        assert_eq!(a.available(), 0);
        assert!(a.free(20004) && a.free(20000));
        assert_eq!(a.available(), 2);
        assert_eq!(a.alloc(), Some(20004), "oldest quarantined first");
        assert_eq!(a.alloc(), Some(20000));
        assert_eq!(a.alloc(), None);
    }
}
