//! Authentication: SIM algorithms (XOR test USIM, Milenage, TUAK), AKA authentication
//! vectors and SQN management (TS 33.102), HTTP digest computations (RFC 2617/7616,
//! AKAv1 RFC 3310, AKAv2 RFC 4169) and IPsec key expansion (TS 33.203 Annex I).
//!
//! Everything here is sans-IO and deterministic: random numbers (RAND, cnonce) are
//! supplied by the caller, nothing reads a clock, and no function allocates except the
//! `String`-returning convenience encoders in [`digest`].

pub mod aka;
pub mod digest;
pub mod ipsec_keys;
pub mod milenage;
pub mod sim;
pub mod sqn;
pub mod tuak;
pub mod xor;

pub use aka::{
    generate_vector, make_auts, resync_from_auts, ue_authenticate, AuthVector, UeAuthOutcome,
};
pub use sim::{OpVariant, Sim, SimAlgo, TopVariant, TuakParams};
pub use sqn::{HeSqn, Sqn, SqnParams, UeSqnStore};

use core::fmt;

/// Errors of the authentication layer (configuration or malformed input; never a panic).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// K has a length the algorithm does not accept (16 bytes, or 16/32 for TUAK).
    BadKeyLength,
    /// A TUAK length parameter is not one of the values of TS 35.231.
    BadTuakLength,
    /// RES length out of range for the algorithm (TS 33.102 6.3.2: 4..16 bytes).
    BadResLength,
    /// SQN parameters out of range (IND bits above [`sqn::MAX_IND_BITS`]).
    BadSqnParams,
    /// A value does not fit in 48 bits or has the wrong length.
    BadSqn,
    /// AUTN/AUTS has a length inconsistent with the algorithm's MAC length.
    BadLength,
    /// MAC-S of an AUTS did not verify (TS 33.102 6.3.5).
    MacFailure,
    /// base64 text did not decode, or decoded to an unexpected length.
    BadEncoding,
    /// An output buffer is too small.
    BufferTooSmall,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            AuthError::BadKeyLength => "bad key length",
            AuthError::BadTuakLength => "bad TUAK length parameter",
            AuthError::BadResLength => "bad RES length",
            AuthError::BadSqnParams => "bad SQN parameters",
            AuthError::BadSqn => "bad SQN",
            AuthError::BadLength => "bad AUTN/AUTS length",
            AuthError::MacFailure => "MAC verification failed",
            AuthError::BadEncoding => "bad base64 encoding",
            AuthError::BufferTooSmall => "output buffer too small",
        };
        f.write_str(s)
    }
}

impl std::error::Error for AuthError {}

/// A byte string of at most `N` bytes stored inline (no allocation): RES, MAC, CK/IK, AUTN.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VarBytes<const N: usize> {
    buf: [u8; N],
    len: u8,
}

impl<const N: usize> VarBytes<N> {
    /// Copies `s`; `None` if it is longer than `N` (or than 255).
    pub fn from_slice(s: &[u8]) -> Option<Self> {
        if s.len() > N || s.len() > usize::from(u8::MAX) {
            return None;
        }
        let mut buf = [0u8; N];
        buf[..s.len()].copy_from_slice(s);
        Some(VarBytes {
            buf,
            len: s.len() as u8,
        })
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Default for VarBytes<N> {
    fn default() -> Self {
        VarBytes {
            buf: [0u8; N],
            len: 0,
        }
    }
}

impl<const N: usize> AsRef<[u8]> for VarBytes<N> {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl<const N: usize> fmt::Debug for VarBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.as_slice() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// RES / XRES: 4..=32 bytes (TUAK allows 256 bits).
pub type Res = VarBytes<32>;
/// MAC-A / MAC-S: 8 bytes (Milenage, XOR) or 8/16/32 bytes (TUAK).
pub type Mac = VarBytes<32>;
/// CK or IK: 16 bytes, or 32 bytes with TUAK.
pub type SessionKey = VarBytes<32>;
/// AUTN = SQN xor AK (6) || AMF (2) || MAC-A (8..=32).
pub type Autn = VarBytes<40>;
/// AUTS = SQN_MS xor AK* (6) || MAC-S (8..=32).
pub type Auts = VarBytes<38>;

/// XOR of two equal-length arrays.
pub(crate) fn xor_arr<const N: usize>(a: &[u8; N], b: &[u8; N]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, (x, y)) in out.iter_mut().zip(a.iter().zip(b.iter())) {
        *o = x ^ y;
    }
    out
}

/// Constant-time equality of two byte strings (the length is not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    // Fold through black_box so the compiler cannot turn the loop into an early exit.
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
pub(crate) mod test_util {
    /// Decodes a hex test vector; panics on bad test data only.
    pub fn hex(s: &str) -> Vec<u8> {
        let s: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
        assert_eq!(s.len() & 1, 0, "odd hex length in test vector");
        s.chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    /// Decodes a hex test vector into a fixed array.
    pub fn arr<const N: usize>(s: &str) -> [u8; N] {
        hex(s).try_into().expect("test vector length")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varbytes_bounds() {
        assert!(VarBytes::<4>::from_slice(&[1, 2, 3, 4, 5]).is_none());
        let v = VarBytes::<4>::from_slice(&[1, 2]).unwrap();
        assert_eq!(v.as_slice(), &[1, 2]);
        assert_eq!(format!("{v:?}"), "0102");
    }

    #[test]
    fn ct_eq_works() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
