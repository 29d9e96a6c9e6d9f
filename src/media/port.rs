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

/// Allocates the RTP ports of one worker's share of a [`PortRange`].
#[derive(Debug, Clone)]
pub struct PortAllocator {
    range: PortRange,
    worker: usize,
    /// One bit per pair of this worker (bit j: pair `worker + j * n_workers`).
    used: Vec<u64>,
    count: usize,
    in_use: usize,
    cursor: usize,
}

impl PortAllocator {
    /// The allocator of `worker` (0-based, below `n_workers`) over `[port_min, port_max]`.
    pub fn new(port_min: u16, port_max: u16, worker: usize, n_workers: usize) -> PortAllocator {
        let range = PortRange::new(port_min, port_max, n_workers);
        let n = range.n_workers;
        let count = if worker < n { range.pairs.saturating_sub(worker).div_ceil(n) } else { 0 };
        PortAllocator { range, worker, used: vec![0; count.div_ceil(64)], count, in_use: 0, cursor: 0 }
    }

    /// The range geometry (for `owner`).
    pub fn range(&self) -> PortRange {
        self.range
    }

    /// Pairs left.
    pub fn available(&self) -> usize {
        self.count - self.in_use
    }

    /// Takes a free RTP port (even; its RTCP port is the next one). Allocation rotates
    /// through the share so a freed port is not reused at once (late packets of the old
    /// call).
    pub fn alloc(&mut self) -> Option<u16> {
        if self.in_use >= self.count {
            return None;
        }
        for step in 0..self.count {
            let j = (self.cursor + step) % self.count;
            let (word, bit) = (j / 64, 1u64 << (j % 64));
            let w = self.used.get_mut(word)?;
            if *w & bit == 0 {
                *w |= bit;
                self.in_use += 1;
                self.cursor = (j + 1) % self.count;
                return self.range.rtp_port(self.worker + j * self.range.n_workers);
            }
        }
        None
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
        true
    }
}
