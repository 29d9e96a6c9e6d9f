//! IVs for CBC transforms. RFC 3602 2.1 and RFC 4303 3.2: the IV of every ESP packet must be
//! unpredictable to an observer. [`IvGen`] encrypts a 128-bit counter under a secret AES-128
//! key (counter mode as a generator, NIST SP 800-90A's CTR_DRBG without reseeding): its output
//! cannot be predicted from earlier IVs without the key. No allocation; one block cipher call
//! per 16 IV bytes.

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes128;

use super::sa::IvSource;

/// An unpredictable IV stream (one per worker or per UE).
pub struct IvGen {
    cipher: Aes128,
    counter: u128,
}

impl IvGen {
    /// A generator keyed with `key` (secret random bytes), counting from `counter`.
    pub fn new(key: [u8; 16], counter: u128) -> IvGen {
        IvGen { cipher: Aes128::new(&GenericArray::from(key)), counter }
    }

    /// A generator keyed from the operating system's randomness (`/dev/urandom`), or from the
    /// process's randomly keyed hasher where that file cannot be read.
    pub fn from_os() -> IvGen {
        let mut key = [0u8; 16];
        let read = std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut key));
        if read.is_err() {
            let (a, b) = (hasher_word(1), hasher_word(2));
            key[..8].copy_from_slice(&a.to_le_bytes());
            key[8..].copy_from_slice(&b.to_le_bytes());
        }
        IvGen::new(key, u128::from(hasher_word(3)) << 64)
    }
}

/// 64 bits from the process's randomly keyed SipHash.
fn hasher_word(tag: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(tag);
    h.finish()
}

impl IvSource for IvGen {
    fn fill_iv(&mut self, iv: &mut [u8]) {
        for chunk in iv.chunks_mut(16) {
            let mut block = GenericArray::from(self.counter.to_be_bytes());
            self.counter = self.counter.wrapping_add(1);
            self.cipher.encrypt_block(&mut block);
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iv_is_the_aes_encryption_of_the_counter() {
        // FIPS-197 C.1: AES-128 with key 000102..0f encrypts 00112233..ff to 69c4e0d8..c55a.
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        let mut g = IvGen::new(key, 0x0011_2233_4455_6677_8899_aabb_ccdd_eeff);
        let mut iv = [0u8; 16];
        g.fill_iv(&mut iv);
        assert_eq!(iv, [0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a]);
        let mut next = [0u8; 16];
        g.fill_iv(&mut next);
        assert_ne!(iv, next, "the counter moves on");
    }

    #[test]
    fn short_ivs_and_os_keys_differ() {
        let (mut a, mut b) = (IvGen::from_os(), IvGen::from_os());
        let (mut x, mut y) = ([0u8; 8], [0u8; 8]);
        a.fill_iv(&mut x);
        b.fill_iv(&mut y);
        assert_ne!(x, y, "two generators keyed from the OS do not repeat each other");
    }
}
