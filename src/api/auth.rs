//! Remote API authentication (seed 000 6.2, 5.2 com_auth):
//! `res = HMAC-SHA256("<type>:<password>:<name>", "<challenge>")`, i.e. the
//! key is "<type>:<password>:<name>" and the data is the challenge; `res` is
//! sent as a hexadecimal string. Challenges come from a seeded generator so
//! the core stays deterministic; the caller seeds it from the OS.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Startup `type` of this server (seed 000 6.2).
pub const SERVER_TYPE: &str = "IMS";

/// com_auth, resolved (the control thread reads com_auth.passfile).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthConfig {
    /// The password.
    pub password: String,
    /// com_auth.unsecure: also accept the password in clear (`password` member).
    pub unsecure: bool,
}

/// Generator of unpredictable challenges: HMAC-SHA256(seed, counter).
#[derive(Clone)]
pub struct ChallengeSource {
    mac: HmacSha256,
    counter: u64,
}

impl ChallengeSource {
    /// Seeded with 32 random bytes (from the OS in production, fixed in tests).
    pub fn new(seed: [u8; 32]) -> ChallengeSource {
        // HMAC accepts keys of any length, so this cannot fail.
        let mac = <HmacSha256 as Mac>::new_from_slice(&seed).unwrap_or_else(|_| unreachable!());
        ChallengeSource { mac, counter: 0 }
    }

    /// Next challenge: 32 lowercase hexadecimal digits.
    pub fn next_challenge(&mut self) -> String {
        self.counter += 1;
        let mut m = self.mac.clone();
        m.update(&self.counter.to_be_bytes());
        hex(m.finalize().into_bytes().get(..16).unwrap_or_default())
    }
}

/// The HMAC keyed with "<type>:<password>:<name>" over the challenge.
fn res_mac(password: &str, name: &str, challenge: &str) -> HmacSha256 {
    let key = format!("{SERVER_TYPE}:{password}:{name}");
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key.as_bytes()).unwrap_or_else(|_| unreachable!());
    m.update(challenge.as_bytes());
    m
}

/// The expected `res` (lowercase hexadecimal).
pub fn compute_res(password: &str, name: &str, challenge: &str) -> String {
    hex(&res_mac(password, name, challenge).finalize().into_bytes())
}

/// Checks a client's `res` (hex, any case) in constant time.
pub fn verify_res(password: &str, name: &str, challenge: &str, res: &str) -> bool {
    match decode_hex32(res) {
        Some(bytes) => res_mac(password, name, challenge).verify_slice(&bytes).is_ok(),
        None => false,
    }
}

/// Constant-time comparison of a clear password (com_auth.unsecure).
pub fn verify_password(expected: &str, got: &str) -> bool {
    let (a, b) = (expected.as_bytes(), got.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(s.chunks(2)) {
        let hi = (*pair.first()? as char).to_digit(16)?;
        let lo = (*pair.get(1)? as char).to_digit(16)?;
        *o = (hi << 4 | lo) as u8;
    }
    Some(out)
}
