//! The control thread's keyed hash: a multiply-rotate over 8-byte words (FxHash style)
//! from a random seed, finished with the MurmurHash3 64-bit avalanche. Its keys
//! (Call-IDs, branches) are chosen by remote peers, so the seed is drawn per map from
//! std's `RandomState` and the finish makes every output bit depend on every input bit
//! and on the seed.
//!
//! [`hash`] is the one-shot form (the dialog log's slab, which stores it per key);
//! [`FastState`] the same hash as a `BuildHasher` ([`FastMap`]): the B2BUA's call maps
//! (`control/calls.rs`, keyed by call number and Call-ID). `perf/benches/control_hash.rs`
//! finds it about as fast as std's SipHash-1-3 per Call-ID-length key in a timed loop;
//! under callgrind it takes half the instructions of SipHash per lookup in the call path
//! (`Calls::dialog_of` 5.6k -> 2.9k instructions per call).

use std::hash::{BuildHasher, Hasher};

/// Multiplier of the word step (the FxHash constant).
const K: u64 = 0x517c_c1b7_2722_0a95;

/// One word folded into state `h`.
#[inline]
fn step(h: u64, word: u64) -> u64 {
    (h.rotate_left(5) ^ word).wrapping_mul(K)
}

/// Folds `bytes` (its length, then its 8-byte little-endian words, the last one
/// zero-padded) into state `h`.
#[inline]
fn absorb(mut h: u64, bytes: &[u8]) -> u64 {
    h ^= bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.iter_mut().zip(w).for_each(|(d, s)| *d = *s);
        h = step(h, u64::from_le_bytes(b));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b.iter_mut().zip(rest).for_each(|(d, s)| *d = *s);
        h = step(h, u64::from_le_bytes(b));
    }
    h
}

/// MurmurHash3's 64-bit finaliser: a full avalanche of `h`.
#[inline]
fn avalanche(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The hash of `key` under `seed`.
pub fn hash(seed: u64, key: &[u8]) -> u64 {
    avalanche(absorb(seed, key))
}

/// A fresh random seed (std's per-instance random keys).
pub fn random_seed() -> u64 {
    std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64)
}

/// The `BuildHasher` of the control maps: a random seed per map.
#[derive(Clone, Copy, Debug)]
pub struct FastState {
    seed: u64,
}

impl FastState {
    /// A state with a fresh random seed.
    pub fn new() -> FastState {
        FastState { seed: random_seed() }
    }

    /// A state with the given seed (tests, benches).
    pub fn with_seed(seed: u64) -> FastState {
        FastState { seed }
    }
}

impl Default for FastState {
    fn default() -> FastState {
        FastState::new()
    }
}

impl BuildHasher for FastState {
    type Hasher = FastHasher;

    fn build_hasher(&self) -> FastHasher {
        FastHasher { h: self.seed }
    }
}

/// The streaming hasher of [`FastState`].
#[derive(Clone, Copy, Debug)]
pub struct FastHasher {
    h: u64,
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.h = absorb(self.h, bytes);
    }

    fn write_u8(&mut self, i: u8) {
        self.h = step(self.h, u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.h = step(self.h, u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.h = step(self.h, i);
    }

    fn write_usize(&mut self, i: usize) {
        self.h = step(self.h, i as u64);
    }

    fn finish(&self) -> u64 {
        avalanche(self.h)
    }
}

/// A `HashMap` under [`FastState`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, FastState>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_per_seed_and_seeds_differ() {
        let key = b"a84b4c76e66710@pc33.atlanta.example.com";
        assert_eq!(hash(7, key), hash(7, key));
        assert_ne!(hash(7, key), hash(8, key));
        let (a, b) = (FastState::with_seed(7), FastState::with_seed(8));
        assert_eq!(a.hash_one("z9hG4bK776asdhds"), a.hash_one("z9hG4bK776asdhds"));
        assert_ne!(a.hash_one("z9hG4bK776asdhds"), b.hash_one("z9hG4bK776asdhds"));
        assert_ne!(FastState::new().hash_one(1u64), FastState::new().hash_one(1u64));
    }

    #[test]
    fn every_byte_and_the_length_count() {
        let base = hash(1, b"call-0123456789@host");
        assert_ne!(base, hash(1, b"call-0123456789@hosu"));
        assert_ne!(base, hash(1, b"dall-0123456789@host"));
        // A trailing zero byte changes the length, not the padded last word.
        assert_ne!(hash(1, b"abc"), hash(1, b"abc\0"));
        // The avalanche: one input bit flips about half the output bits.
        let flipped = (base ^ hash(1, b"call-0123456789@hose")).count_ones();
        assert!((16..=48).contains(&flipped), "{flipped}");
    }

    #[test]
    fn works_as_a_map_hasher() {
        let mut m: FastMap<String, u32> = FastMap::default();
        for i in 0..2000 {
            m.insert(format!("{i:x}@10.0.0.1"), i);
        }
        for i in (0..2000).step_by(2) {
            assert_eq!(m.remove(&format!("{i:x}@10.0.0.1")), Some(i));
        }
        assert_eq!(m.len(), 1000);
        assert_eq!(m.get("1@10.0.0.1"), Some(&1));
        assert_eq!(m.get("2@10.0.0.1"), None);
        let mut ids: FastMap<u64, &str> = FastMap::default();
        ids.insert(u64::MAX, "max");
        assert_eq!(ids.get(&u64::MAX), Some(&"max"));
    }
}
