//! [`Slab`]: the storage of the dialog log's entries, keyed by Call-ID, built so that
//! recording a message allocates nothing and never moves the entries once the
//! high-water mark is reached.
//!
//! Values live in a `Vec` of slots that grows (amortised doubling) up to the
//! high-water mark and never shrinks; a removed slot goes on a free list and its value
//! is handed back, with the capacity of its buffers, to the next insert. The index from
//! key to slot is an open-addressing table of `u32` slot numbers (linear probing,
//! removal by backward shift, so no tombstones and no rehash in steady state), at most
//! half full, over a keyed hash computed once per key and stored with the slot. Keys
//! are attacker-chosen Call-IDs: the hash is seeded per process (from std's
//! `RandomState`) and finished with a full avalanche ([`super::super::fast_hash`]) so that the
//! table position depends on every byte and on the seed.

use super::super::fast_hash::{hash, random_seed};
use std::cell::Cell;

/// Empty position of the index.
const EMPTY: u32 = u32::MAX;
/// Index positions at start (grown by doubling while more slots are in use).
const MIN_INDEX: usize = 1024;

struct Slot<T> {
    key: String,
    hash: u64,
    used: bool,
    value: T,
}

/// Values of type `T` keyed by string, at stable slot numbers.
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    /// Slots not in use, most recently freed last.
    free: Vec<u32>,
    /// Slot numbers by hash position ([`EMPTY`] when free); length a power of two.
    index: Vec<u32>,
    used: usize,
    max: usize,
    seed: u64,
    /// The slot last found or inserted (a hint checked against the key): recording a
    /// message looks its dialog up several times in a row, the hash is computed once.
    last: Cell<u32>,
}

impl<T> std::fmt::Debug for Slab<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slab").field("used", &self.used).field("slots", &self.slots.len()).field("max", &self.max).finish()
    }
}

impl<T> Slab<T> {
    /// Holds at most `max` values (bounded by `u32` slot numbers).
    pub fn new(max: usize) -> Slab<T> {
        let max = max.clamp(1, EMPTY as usize - 1);
        let index_len = (2 * max).next_power_of_two().min(MIN_INDEX);
        Slab {
            slots: Vec::with_capacity(max.min(MIN_INDEX / 2)),
            free: Vec::new(),
            index: vec![EMPTY; index_len],
            used: 0,
            max,
            seed: random_seed(),
            last: Cell::new(EMPTY),
        }
    }

    /// Values held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.used
    }

    /// The slot of `key`.
    pub fn find(&self, key: &str) -> Option<u32> {
        let last = self.last.get();
        if self.slots.get(last as usize).is_some_and(|s| s.used && s.key == key) {
            return Some(last);
        }
        let hash = hash(self.seed, key.as_bytes());
        let mask = self.index.len() - 1;
        let mut pos = hash as usize & mask;
        // At most half the positions are taken: the probe ends at an empty one.
        loop {
            let slot = *self.index.get(pos)?;
            if slot == EMPTY {
                return None;
            }
            let s = self.slots.get(slot as usize)?;
            if s.hash == hash && s.key == key {
                self.last.set(slot);
                return Some(slot);
            }
            pos = (pos + 1) & mask;
        }
    }

    /// Adds `key` (not present) and returns its slot: a freed slot whose old value is
    /// kept for the caller to reset (buffers keep their capacity), else a new one
    /// holding `fresh()`. None when `max` values are held.
    pub fn insert(&mut self, key: &str, fresh: impl FnOnce() -> T) -> Option<u32> {
        if self.used >= self.max {
            return None;
        }
        if 2 * (self.used + 1) > self.index.len() {
            self.grow_index();
        }
        let hash = hash(self.seed, key.as_bytes());
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(Slot { key: String::new(), hash: 0, used: false, value: fresh() });
                // The length is at most `max` < u32::MAX.
                (self.slots.len() - 1) as u32
            }
        };
        let s = self.slots.get_mut(slot as usize)?;
        s.key.clear();
        s.key.push_str(key);
        s.hash = hash;
        s.used = true;
        self.used += 1;
        self.place(slot, hash);
        self.last.set(slot);
        Some(slot)
    }

    /// Removes the value at `slot` from the index; the slot is reused by a later insert.
    pub fn remove(&mut self, slot: u32) {
        let Some(s) = self.slots.get_mut(slot as usize).filter(|s| s.used) else { return };
        s.used = false;
        let mask = self.index.len() - 1;
        let mut hole = s.hash as usize & mask;
        while self.index.get(hole).is_some_and(|&p| p != slot && p != EMPTY) {
            hole = (hole + 1) & mask;
        }
        self.used -= 1;
        self.free.push(slot);
        if self.index.get(hole) != Some(&slot) {
            return;
        }
        // Backward-shift deletion: move up every later entry of the run whose home
        // position is not between the hole and itself, so that probes never need a
        // tombstone.
        let mut next = (hole + 1) & mask;
        while let Some(&p) = self.index.get(next).filter(|&&p| p != EMPTY) {
            let home = self.slots.get(p as usize).map_or(next, |s| s.hash as usize & mask);
            if (next.wrapping_sub(home) & mask) >= (next.wrapping_sub(hole) & mask) {
                if let Some(h) = self.index.get_mut(hole) {
                    *h = p;
                }
                hole = next;
            }
            next = (next + 1) & mask;
        }
        if let Some(h) = self.index.get_mut(hole) {
            *h = EMPTY;
        }
    }

    /// The key at `slot` ("" when not in use).
    pub fn key(&self, slot: u32) -> &str {
        self.slots.get(slot as usize).filter(|s| s.used).map_or("", |s| s.key.as_str())
    }

    /// The value at `slot`, if in use.
    pub fn get(&self, slot: u32) -> Option<&T> {
        self.slots.get(slot as usize).filter(|s| s.used).map(|s| &s.value)
    }

    /// The value at `slot`, if in use.
    pub fn get_mut(&mut self, slot: u32) -> Option<&mut T> {
        self.slots.get_mut(slot as usize).filter(|s| s.used).map(|s| &mut s.value)
    }

    fn place(&mut self, slot: u32, hash: u64) {
        let mask = self.index.len() - 1;
        let mut pos = hash as usize & mask;
        while self.index.get(pos).is_some_and(|&p| p != EMPTY) {
            pos = (pos + 1) & mask;
        }
        if let Some(p) = self.index.get_mut(pos) {
            *p = slot;
        }
    }

    /// Doubles the index (only while the high-water mark rises: never in steady state).
    fn grow_index(&mut self) {
        let len = self.index.len() * 2;
        self.index.clear();
        self.index.resize(len, EMPTY);
        for slot in 0..self.slots.len() {
            let Some(s) = self.slots.get(slot).filter(|s| s.used) else { continue };
            let hash = s.hash;
            self.place(slot as u32, hash);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_keeps_every_other_key_findable_and_slots_are_reused() {
        let mut s: Slab<u32> = Slab::new(3000);
        // Long probe runs: 1500 keys, the index grown from 1024 positions to 4096.
        let keys: Vec<String> = (0..1500).map(|i| format!("call-{i}@host")).collect();
        for (i, k) in keys.iter().enumerate() {
            let slot = s.insert(k, || 0).expect("room");
            *s.get_mut(slot).expect("in use") = i as u32;
        }
        for (i, k) in keys.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
            let slot = s.find(k).expect("present");
            assert_eq!(s.get(slot), Some(&(i as u32)));
            s.remove(slot);
            assert_eq!(s.get(slot), None);
        }
        for (i, k) in keys.iter().enumerate() {
            let found = s.find(k);
            assert_eq!(found.is_some(), i % 3 != 0, "{k}");
            if let Some(slot) = found {
                assert_eq!((s.key(slot), s.get(slot)), (k.as_str(), Some(&(i as u32))));
            }
        }
        let high_water = s.slots.len();
        for i in 0..500 {
            // The freed slot's old value is handed back for reuse.
            let slot = s.insert(&format!("new-{i}"), || u32::MAX).expect("room");
            assert_ne!(s.get(slot), Some(&u32::MAX));
        }
        assert_eq!((s.slots.len(), s.len()), (high_water, 1500));
    }

    #[test]
    fn the_last_slot_found_is_a_hint_checked_against_the_key() {
        let mut s: Slab<u8> = Slab::new(4);
        let a = s.insert("a", || 1).expect("room");
        let b = s.insert("b", || 2).expect("room");
        assert_eq!((s.find("a"), s.find("a"), s.find("b")), (Some(a), Some(a), Some(b)));
        s.remove(b);
        assert_eq!(s.find("b"), None, "the hinted slot was removed");
        let c = s.insert("c", || 3).expect("room");
        assert_eq!(c, b, "the freed slot is reused");
        assert_eq!((s.find("b"), s.find("c"), s.find("a")), (None, Some(c), Some(a)));
        assert_eq!(s.find(""), None);
    }

    #[test]
    fn the_number_of_values_is_bounded() {
        let mut s: Slab<()> = Slab::new(2);
        assert!(s.insert("a", || ()).is_some() && s.insert("b", || ()).is_some());
        assert_eq!(s.insert("c", || ()), None);
        let a = s.find("a").expect("present");
        s.remove(a);
        s.remove(a);
        assert_eq!(s.len(), 1);
        assert!(s.insert("c", || ()).is_some());
        assert_eq!(s.find("a"), None);
    }
}
