//! Open-addressing index from transaction key to slot number.
//!
//! Linear probing over a power-of-two bucket array at least twice the table capacity (load
//! factor <= 1/2), with backward-shift deletion so that no tombstones accumulate. Keys live in
//! the transaction slots; the index stores slot numbers only and asks its caller to compare.
//! Preallocated at construction; never allocates afterwards.

const EMPTY: u32 = u32::MAX;

/// The key index.
pub struct Index {
    buckets: Vec<u32>,
    mask: usize,
}

impl Index {
    /// An index for up to `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        let size = capacity.saturating_mul(2).next_power_of_two().max(2);
        Index {
            buckets: vec![EMPTY; size],
            mask: size - 1,
        }
    }

    fn home(&self, digest: u64) -> usize {
        digest as usize & self.mask
    }

    /// Bucket position of the first entry for which `is_match` holds, probing from `digest`.
    fn position(&self, digest: u64, is_match: impl Fn(u32) -> bool) -> Option<usize> {
        let mut i = self.home(digest);
        // The load factor is at most 1/2, so an empty bucket ends every probe sequence.
        for _ in 0..=self.mask {
            let e = *self.buckets.get(i)?;
            if e == EMPTY {
                return None;
            }
            if is_match(e) {
                return Some(i);
            }
            i = (i + 1) & self.mask;
        }
        None
    }

    /// The slot whose key has `digest` and satisfies `is_match`.
    pub fn find(&self, digest: u64, is_match: impl Fn(u32) -> bool) -> Option<u32> {
        let pos = self.position(digest, is_match)?;
        self.buckets.get(pos).copied()
    }

    /// Adds `slot` under `digest`. The caller guarantees fewer than `capacity` entries.
    pub fn insert(&mut self, digest: u64, slot: u32) {
        let mut i = self.home(digest);
        for _ in 0..=self.mask {
            match self.buckets.get_mut(i) {
                Some(b) if *b == EMPTY => {
                    *b = slot;
                    return;
                }
                _ => i = (i + 1) & self.mask,
            }
        }
    }

    /// Removes `slot` (stored under `digest`); `digest_of` gives the digest of other slots.
    pub fn remove(&mut self, digest: u64, slot: u32, digest_of: impl Fn(u32) -> u64) {
        let Some(mut hole) = self.position(digest, |e| e == slot) else {
            return;
        };
        let mut j = hole;
        loop {
            j = (j + 1) & self.mask;
            let e = self.buckets.get(j).copied().unwrap_or(EMPTY);
            if e == EMPTY {
                break;
            }
            let h = self.home(digest_of(e));
            // Move `e` back into the hole unless its home lies cyclically in (hole, j].
            if (j.wrapping_sub(h) & self.mask) >= (j.wrapping_sub(hole) & self.mask) {
                if let Some(b) = self.buckets.get_mut(hole) {
                    *b = e;
                }
                hole = j;
            }
        }
        if let Some(b) = self.buckets.get_mut(hole) {
            *b = EMPTY;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Index;

    #[test]
    fn colliding_entries_survive_removal() {
        // Digests chosen so that all entries share home bucket 1 in an 8-bucket index.
        let digests = [1u64, 9, 17];
        let mut ix = Index::new(4);
        for (slot, d) in digests.iter().enumerate() {
            ix.insert(*d, slot as u32);
        }
        ix.remove(1, 0, |s| digests[s as usize]);
        assert_eq!(ix.find(9, |s| s == 1), Some(1));
        assert_eq!(ix.find(17, |s| s == 2), Some(2));
        assert_eq!(ix.find(1, |s| s == 0), None);
    }
}
