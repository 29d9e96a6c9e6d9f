//! Deterministic randomness for the seeded mutation tests every decoder has
//! (the stable-Rust complement of the cargo-fuzz targets).

/// xorshift64 (Marsaglia 2003): a fast deterministic generator without
/// dependencies, so a failing mutation test reproduces from its seed.
#[derive(Clone, Debug)]
pub struct XorShift(pub u64);

impl XorShift {
    /// A generator from a non-zero seed (0 is replaced, xorshift would stay at 0).
    pub fn new(seed: u64) -> Self {
        XorShift(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// The next 64 random bits (an endless generator, so not an `Iterator`).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
