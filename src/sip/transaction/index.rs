//! Open-addressing index from transaction key to slot number.
//!
//! Linear probing over a power-of-two bucket array at least twice the table capacity (load
//! factor <= 1/2), with backward-shift deletion so that no tombstones accumulate. Keys live in
//! the transaction slots; a bucket holds the slot number and the low 32 bits of the key's
//! digest, so that probing past other keys and shifting on removal never read a slot (a cache
//! miss each); the caller compares keys only on a digest match. At most 2^31 entries (the
//! home bucket comes from the stored 32 bits). Preallocated at construction; never allocates
//! afterwards.

/// Most entries an index holds: 2^32 buckets, whose home fits the stored 32 digest bits.
pub const MAX_ENTRIES: usize = 1 << 31;

const EMPTY: u64 = u64::MAX;

/// A bucket: digest bits high, slot low (slot `u32::MAX` is never used: see `MAX_ENTRIES`).
fn pack(digest: u64, slot: u32) -> u64 {
    (digest << 32) | u64::from(slot)
}

fn slot_of(bucket: u64) -> u32 {
    bucket as u32
}

fn digest_bits(bucket: u64) -> u64 {
    bucket >> 32
}

/// The key index.
pub struct Index {
    buckets: Vec<u64>,
    mask: usize,
}

impl Index {
    /// An index for up to `capacity` entries (at most `MAX_ENTRIES`).
    pub fn new(capacity: usize) -> Self {
        let size = capacity
            .min(MAX_ENTRIES)
            .saturating_mul(2)
            .next_power_of_two()
            .max(2);
        Index {
            buckets: vec![EMPTY; size],
            mask: size - 1,
        }
    }

    /// The home bucket; uses the low 32 bits only (the mask is below 2^32).
    fn home(&self, digest: u64) -> usize {
        (digest & u64::from(u32::MAX)) as usize & self.mask
    }

    /// Bucket position of the first entry with `digest` for which `is_match` holds.
    fn position(&self, digest: u64, is_match: impl Fn(u32) -> bool) -> Option<usize> {
        let bits = digest & u64::from(u32::MAX);
        let mut i = self.home(digest);
        // The load factor is at most 1/2, so an empty bucket ends every probe sequence.
        for _ in 0..=self.mask {
            let e = *self.buckets.get(i)?;
            if e == EMPTY {
                return None;
            }
            if digest_bits(e) == bits && is_match(slot_of(e)) {
                return Some(i);
            }
            i = (i + 1) & self.mask;
        }
        None
    }

    /// The slot whose key has `digest` and satisfies `is_match` (asked only of slots whose
    /// digest matches in its low 32 bits).
    pub fn find(&self, digest: u64, is_match: impl Fn(u32) -> bool) -> Option<u32> {
        let pos = self.position(digest, is_match)?;
        self.buckets.get(pos).copied().map(slot_of)
    }

    /// Adds `slot` under `digest`. The caller guarantees fewer than `capacity` entries.
    pub fn insert(&mut self, digest: u64, slot: u32) {
        let mut i = self.home(digest);
        for _ in 0..=self.mask {
            match self.buckets.get_mut(i) {
                Some(b) if *b == EMPTY => {
                    *b = pack(digest, slot);
                    return;
                }
                _ => i = (i + 1) & self.mask,
            }
        }
    }

    /// Removes `slot` (stored under `digest`).
    pub fn remove(&mut self, digest: u64, slot: u32) {
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
            let h = self.home(digest_bits(e));
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
        ix.remove(1, 0);
        assert_eq!(ix.find(9, |s| s == 1), Some(1));
        assert_eq!(ix.find(17, |s| s == 2), Some(2));
        assert_eq!(ix.find(1, |s| s == 0), None);
        // A digest differing only above the low 32 bits shares the bucket bits: the caller's
        // comparison decides.
        assert_eq!(ix.find(9 | 1 << 40, |s| s == 1), Some(1));
        assert_eq!(ix.find(9 | 1 << 40, |_| false), None);
        // Probing skips entries whose low digest bits differ without asking the caller.
        assert_eq!(ix.find(17, |s| { assert_ne!(s, 1, "slot 1 has digest 9"); s == 2 }), Some(2));
    }
}
