//! Digest challenges of the registrar and the check of their answers:
//! MD5 (RFC 2617 / RFC 7616), AKAv1-MD5 (RFC 3310) and AKAv2-MD5 (RFC 4169).
//!
//! A [`Challenge`] is what the registrar remembers between the 401 and the
//! next REGISTER: the nonce it sent and what the right answer is made of
//! (the password for MD5; XRES, or XRES‖IK‖CK for AKAv2, for AKA).

use super::register_input::DigestCredentials;
use crate::auth::digest;

/// The digest algorithms, from weakest to strongest (the order authent_type
/// uses as a minimum level, seed 000 5.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DigestAlgo {
    /// RFC 2617 MD5 with a password (fixed-line subscribers).
    Md5,
    /// RFC 3310 AKAv1-MD5: the password is RES.
    AkaV1,
    /// RFC 4169 AKAv2-MD5: the password is derived from RES, IK and CK.
    AkaV2,
}

impl DigestAlgo {
    /// The `algorithm` parameter value (RFC 3310 3.1, RFC 4169 3).
    pub fn as_param(self) -> &'static str {
        match self {
            DigestAlgo::Md5 => "MD5",
            DigestAlgo::AkaV1 => "AKAv1-MD5",
            DigestAlgo::AkaV2 => "AKAv2-MD5",
        }
    }

    /// Reads an `algorithm` parameter; anything unknown is treated as MD5,
    /// the RFC 2617 default.
    pub fn from_param(s: &str) -> DigestAlgo {
        let s = s.trim_matches('"');
        if s.eq_ignore_ascii_case("AKAv1-MD5") {
            DigestAlgo::AkaV1
        } else if s.eq_ignore_ascii_case("AKAv2-MD5") {
            DigestAlgo::AkaV2
        } else {
            DigestAlgo::Md5
        }
    }

    /// True for the AKA algorithms.
    pub fn is_aka(self) -> bool {
        !matches!(self, DigestAlgo::Md5)
    }
}

/// The qop the challenge asks for (authent_qop, seed 000 5.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Qop {
    /// No qop: the RFC 2069-compatible response.
    None,
    /// qop=auth (RFC 2617 3.2.1).
    Auth,
}

/// One outstanding challenge.
#[derive(Clone, Debug)]
pub struct Challenge {
    /// The algorithm asked for.
    pub algo: DigestAlgo,
    /// The realm.
    pub realm: String,
    /// The nonce as sent (for AKA: base64(RAND ‖ AUTN ‖ server data), RFC 3310 3.2).
    pub nonce: String,
    /// The qop asked for.
    pub qop: Qop,
    /// RAND (AKA), kept for resynchronisation.
    pub rand: [u8; 16],
    /// The expected digest password: XRES (AKAv1), the RFC 4169 password
    /// (AKAv2), empty for MD5 (the subscriber's password is used).
    pub password: Vec<u8>,
    /// CK of the vector (AKA), for IPsec.
    pub ck: [u8; 16],
    /// IK of the vector (AKA), for IPsec.
    pub ik: [u8; 16],
    /// Whether the 401 says stale=true.
    pub stale: bool,
}

impl Challenge {
    /// The WWW-Authenticate header value (RFC 2617 3.2.1, RFC 3310 3.2).
    pub fn www_authenticate(&self) -> String {
        let mut v = format!(
            "Digest realm=\"{}\",nonce=\"{}\",algorithm={}",
            self.realm,
            self.nonce,
            self.algo.as_param()
        );
        if self.qop == Qop::Auth {
            v.push_str(",qop=\"auth\"");
        }
        if self.stale {
            v.push_str(",stale=TRUE");
        }
        v
    }
}

/// Checks a digest response against `ch` (RFC 2617 3.2.2.1). `md5_password`
/// is the subscriber's password for MD5 challenges.
pub fn verify(ch: &Challenge, cred: &DigestCredentials<'_>, method: &str, md5_password: Option<&str>) -> Result<(), &'static str> {
    if !cred.realm.is_empty() && cred.realm != ch.realm {
        return Err("realm does not match the challenge");
    }
    let password: &[u8] = match ch.algo {
        DigestAlgo::Md5 => md5_password.ok_or("no password for MD5")?.as_bytes(),
        _ => &ch.password,
    };
    let qop = match (ch.qop, cred.qop) {
        (Qop::Auth, Some(q)) if q.trim_matches('"').eq_ignore_ascii_case("auth") => Some((
            cred.nc.ok_or("qop=auth without nc")?,
            cred.cnonce.ok_or("qop=auth without cnonce")?,
        )),
        (Qop::Auth, _) => return Err("qop=auth was required"),
        (Qop::None, Some(_)) => return Err("qop not offered"),
        (Qop::None, None) => None,
    };
    let qop = match qop {
        Some((nc, cnonce)) => digest::Qop::Auth { nc: nc.as_bytes(), cnonce: cnonce.as_bytes() },
        None => digest::Qop::None,
    };
    let expected = digest::compute_response(&digest::DigestInput {
        username: cred.username.as_bytes(),
        realm: ch.realm.as_bytes(),
        password,
        method: method.as_bytes(),
        uri: cred.uri.as_bytes(),
        nonce: ch.nonce.as_bytes(),
        qop,
        body: &[],
    });
    if digest::verify_response(&expected, cred.response.trim_matches('"').as_bytes()) {
        Ok(())
    } else {
        Err("wrong digest response")
    }
}

/// Decodes the base64 `auts` parameter (RFC 3310 3.4) into its 14 bytes.
pub fn decode_auts(s: &str) -> Result<crate::auth::Auts, String> {
    digest::decode_auts(s.trim_matches('"')).map_err(|e| format!("bad auts: {e:?}"))
}

/// The registrar's source of RAND values and MD5 nonces: a seeded
/// xoshiro256** generator. Seeded from the OS at start-up, from a fixed
/// value in tests. RAND only needs to be unpredictable to the UE, and a
/// lab core needs reproducible runs more than cryptographic strength, so a
/// fast non-cryptographic generator seeded with 64 random bits is used.
#[derive(Clone, Debug)]
pub struct Rng([u64; 4]);

impl Rng {
    /// A generator from a 64-bit seed (expanded with splitmix64).
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng([next(), next(), next(), next()])
    }

    /// The next 64 random bits (xoshiro256**).
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// 16 random bytes (a RAND).
    pub fn bytes16(&mut self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.next_u64().to_be_bytes());
        out[8..].copy_from_slice(&self.next_u64().to_be_bytes());
        out
    }
}
