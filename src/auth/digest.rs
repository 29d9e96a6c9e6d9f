//! HTTP Digest computations for SIP (RFC 2617 / RFC 7616 with MD5), the AKA variants
//! AKAv1-MD5 (RFC 3310) and AKAv2-MD5 (RFC 4169), and the AKA nonce / AUTS encodings.
//!
//! Hashes are computed incrementally into fixed arrays ([`HexDigest`] is 32 lowercase hex
//! digits on the stack); only the `*_string` convenience encoders allocate.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use hmac::{Hmac, Mac as _};
use md5::{Digest as _, Md5};

use super::{AuthError, Auts, VarBytes};

/// Standard base64 with padding on output, padding optional on input (UEs differ).
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An MD5 digest as 32 lowercase hex digits (RFC 2617 3.2.2.2 "LHEX").
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HexDigest(pub [u8; 32]);

impl HexDigest {
    fn from_md5(d: [u8; 16]) -> HexDigest {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 32];
        for (pair, b) in out.chunks_exact_mut(2).zip(d.iter()) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 0x0f)];
        }
        HexDigest(out)
    }

    /// The hex digits as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The hex digits as bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl core::fmt::Debug for HexDigest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// MD5 over `parts` joined with ':' (the KD/H building block of RFC 2617 3.2.2).
fn md5_joined(parts: &[&[u8]]) -> HexDigest {
    let mut h = Md5::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update(b":");
        }
        h.update(p);
    }
    HexDigest::from_md5(h.finalize().into())
}

/// HA1 = MD5(username ":" realm ":" password) (RFC 2617 3.2.2.2).
pub fn ha1(username: &[u8], realm: &[u8], password: &[u8]) -> HexDigest {
    md5_joined(&[username, realm, password])
}

/// HA1 for algorithm MD5-sess: MD5(HA1 ":" nonce ":" cnonce) (RFC 2617 3.2.2.2).
pub fn ha1_sess(ha1: &HexDigest, nonce: &[u8], cnonce: &[u8]) -> HexDigest {
    md5_joined(&[ha1.as_bytes(), nonce, cnonce])
}

/// HA2 = MD5(method ":" uri) for qop none or "auth" (RFC 2617 3.2.2.3).
pub fn ha2(method: &[u8], uri: &[u8]) -> HexDigest {
    md5_joined(&[method, uri])
}

/// HA2 = MD5(method ":" uri ":" MD5(body)) for qop "auth-int" (RFC 2617 3.2.2.3).
pub fn ha2_auth_int(method: &[u8], uri: &[u8], body: &[u8]) -> HexDigest {
    let body_hash = md5_joined(&[body]);
    md5_joined(&[method, uri, body_hash.as_bytes()])
}

/// The quality of protection of a digest exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Qop<'a> {
    /// No qop (RFC 2069 compatibility): response = MD5(HA1:nonce:HA2).
    None,
    /// qop=auth with the nonce count (8 hex digits, as sent) and client nonce.
    Auth {
        /// nc value as it appears on the wire.
        nc: &'a [u8],
        /// cnonce value.
        cnonce: &'a [u8],
    },
    /// qop=auth-int (HA2 covers the body).
    AuthInt {
        /// nc value as it appears on the wire.
        nc: &'a [u8],
        /// cnonce value.
        cnonce: &'a [u8],
    },
}

/// request-digest from HA1, nonce, qop and HA2 (RFC 2617 3.2.2.1).
pub fn response(ha1: &HexDigest, nonce: &[u8], qop: &Qop<'_>, ha2: &HexDigest) -> HexDigest {
    match *qop {
        Qop::None => md5_joined(&[ha1.as_bytes(), nonce, ha2.as_bytes()]),
        Qop::Auth { nc, cnonce } => {
            md5_joined(&[ha1.as_bytes(), nonce, nc, cnonce, b"auth", ha2.as_bytes()])
        }
        Qop::AuthInt { nc, cnonce } => md5_joined(&[
            ha1.as_bytes(),
            nonce,
            nc,
            cnonce,
            b"auth-int",
            ha2.as_bytes(),
        ]),
    }
}

/// Everything a digest response depends on (password already derived for AKA).
#[derive(Clone, Copy, Debug)]
pub struct DigestInput<'a> {
    /// username (the IMPI for IMS).
    pub username: &'a [u8],
    /// realm.
    pub realm: &'a [u8],
    /// Password: the plain password, RES (AKAv1) or the AKAv2 password.
    pub password: &'a [u8],
    /// Request method ("REGISTER").
    pub method: &'a [u8],
    /// digest-uri as sent in the uri parameter.
    pub uri: &'a [u8],
    /// Server nonce as sent (base64 text for AKA).
    pub nonce: &'a [u8],
    /// Quality of protection.
    pub qop: Qop<'a>,
    /// Message body (used only with qop auth-int).
    pub body: &'a [u8],
}

/// The request-digest for `input` (algorithm MD5, AKAv1-MD5 or AKAv2-MD5).
pub fn compute_response(input: &DigestInput<'_>) -> HexDigest {
    let h1 = ha1(input.username, input.realm, input.password);
    let h2 = match input.qop {
        Qop::AuthInt { .. } => ha2_auth_int(input.method, input.uri, input.body),
        _ => ha2(input.method, input.uri),
    };
    response(&h1, input.nonce, &input.qop, &h2)
}

/// Constant-time check of a received `response` parameter against the expected digest;
/// hex letters are compared case-insensitively.
pub fn verify_response(expected: &HexDigest, received: &[u8]) -> bool {
    if received.len() != expected.0.len() {
        return false;
    }
    let mut diff = 0u8;
    for (e, r) in expected.0.iter().zip(received.iter()) {
        // ASCII lower-casing without data-dependent branches: set bit 5 for 'A'..='Z'.
        let upper = u8::from(r.wrapping_sub(b'A') < 26);
        diff |= e ^ (r | (upper << 5));
    }
    core::hint::black_box(diff) == 0
}

/// Version of Digest AKA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AkaVersion {
    /// AKAv1-MD5 (RFC 3310).
    V1,
    /// AKAv2-MD5 (RFC 4169).
    V2,
}

/// The digest password of an AKA exchange: raw RES (v1) or 24 base64 characters (v2).
pub type AkaPassword = VarBytes<32>;

/// AKAv2 password = base64(PRF(RES || IK || CK, "http-digest-akav2-password")) with
/// PRF = HMAC-MD5 (RFC 4169 3).
pub fn akav2_password(res: &[u8], ik: &[u8], ck: &[u8]) -> [u8; 24] {
    let (key, n) = concat_key(res, ik, ck);
    // HMAC accepts keys of any length (RFC 2104 2), so this cannot fail.
    let mut mac =
        <Hmac<Md5> as hmac::Mac>::new_from_slice(&key[..n]).expect("HMAC takes any key length");
    mac.update(b"http-digest-akav2-password");
    let prf: [u8; 16] = mac.finalize().into_bytes().into();
    let mut out = [0u8; 24];
    // 16 bytes always encode to exactly 24 characters.
    let _ = B64.encode_slice(prf, &mut out);
    out
}

/// RES || IK || CK into a stack buffer (each part at most 32 bytes).
fn concat_key(res: &[u8], ik: &[u8], ck: &[u8]) -> ([u8; 96], usize) {
    let mut buf = [0u8; 96];
    let mut n = 0;
    for part in [res, ik, ck] {
        let take = part.len().min(32);
        buf[n..n + take].copy_from_slice(&part[..take]);
        n += take;
    }
    (buf, n)
}

/// The digest password for an AKA version (RFC 3310 3.3 / RFC 4169 3).
pub fn aka_password(version: AkaVersion, res: &[u8], ik: &[u8], ck: &[u8]) -> AkaPassword {
    match version {
        // RES is at most 32 bytes (TS 33.102: 4..16; TUAK 32).
        AkaVersion::V1 => VarBytes::from_slice(&res[..res.len().min(32)]).unwrap_or_default(),
        AkaVersion::V2 => VarBytes::from_slice(&akav2_password(res, ik, ck)).unwrap_or_default(),
    }
}

/// Longest server-specific data accepted in an AKA nonce.
pub const MAX_SERVER_DATA: usize = 48;
/// Longest decoded AKA nonce: RAND (16) || AUTN (16) || server data.
const MAX_NONCE_BYTES: usize = 32 + MAX_SERVER_DATA;
/// Longest base64 AKA nonce text.
pub const MAX_NONCE_CHARS: usize = MAX_NONCE_BYTES.div_ceil(3) * 4;
/// Longest base64 AUTS text (38-byte AUTS with a 256-bit MAC-S).
pub const MAX_AUTS_CHARS: usize = 52;

/// A decoded AKA nonce: RAND || AUTN || server data (RFC 3310 3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AkaNonce {
    /// RAND.
    pub rand: [u8; 16],
    /// AUTN (128 bits, TS 33.102 6.3.2 with a 64-bit MAC).
    pub autn: [u8; 16],
    /// Optional server-specific data.
    pub server_data: VarBytes<MAX_SERVER_DATA>,
}

/// Encodes nonce = base64(RAND || AUTN || server data) into `out`; returns the length.
pub fn encode_aka_nonce(
    rand: &[u8; 16],
    autn: &[u8; 16],
    server_data: &[u8],
    out: &mut [u8],
) -> Result<usize, AuthError> {
    if server_data.len() > MAX_SERVER_DATA {
        return Err(AuthError::BadLength);
    }
    let mut raw = [0u8; MAX_NONCE_BYTES];
    raw[..16].copy_from_slice(rand);
    raw[16..32].copy_from_slice(autn);
    raw[32..32 + server_data.len()].copy_from_slice(server_data);
    B64.encode_slice(&raw[..32 + server_data.len()], out)
        .map_err(|_| AuthError::BufferTooSmall)
}

/// [`encode_aka_nonce`] into a new `String`.
pub fn encode_aka_nonce_string(
    rand: &[u8; 16],
    autn: &[u8; 16],
    server_data: &[u8],
) -> Result<String, AuthError> {
    let mut buf = [0u8; MAX_NONCE_CHARS];
    let n = encode_aka_nonce(rand, autn, server_data, &mut buf)?;
    Ok(buf[..n].iter().map(|&b| char::from(b)).collect())
}

/// Decodes into a stack buffer, rejecting oversized text before decoding.
fn b64_decode<const N: usize>(
    text: &[u8],
    max_chars: usize,
) -> Result<([u8; N], usize), AuthError> {
    if text.len() > max_chars {
        return Err(AuthError::BadEncoding);
    }
    let mut buf = [0u8; N];
    let n = B64
        .decode_slice(text, &mut buf)
        .map_err(|_| AuthError::BadEncoding)?;
    Ok((buf, n))
}

/// Decodes an AKA nonce (the unquoted value of the nonce parameter).
pub fn decode_aka_nonce(nonce: &str) -> Result<AkaNonce, AuthError> {
    // Room for the decoder's conservative size estimate (3 bytes per 4 characters).
    let (buf, n) =
        b64_decode::<{ MAX_NONCE_CHARS / 4 * 3 + 3 }>(nonce.as_bytes(), MAX_NONCE_CHARS)?;
    let raw = buf.get(..n).ok_or(AuthError::BadEncoding)?;
    if raw.len() < 32 {
        return Err(AuthError::BadLength);
    }
    let (fixed, server) = raw.split_at(32);
    let server_data = VarBytes::from_slice(server).ok_or(AuthError::BadLength)?;
    let mut rand = [0u8; 16];
    let mut autn = [0u8; 16];
    rand.copy_from_slice(&fixed[..16]);
    autn.copy_from_slice(&fixed[16..]);
    Ok(AkaNonce {
        rand,
        autn,
        server_data,
    })
}

/// Encodes AUTS for the `auts` parameter (RFC 3310 3.4) into `out`; returns the length.
pub fn encode_auts(auts: &[u8], out: &mut [u8]) -> Result<usize, AuthError> {
    B64.encode_slice(auts, out)
        .map_err(|_| AuthError::BufferTooSmall)
}

/// Decodes the (unquoted) `auts` parameter: 14 bytes, or up to 38 with TUAK MACs.
pub fn decode_auts(text: &str) -> Result<Auts, AuthError> {
    let (buf, n) = b64_decode::<{ MAX_AUTS_CHARS / 4 * 3 + 3 }>(text.as_bytes(), MAX_AUTS_CHARS)?;
    let raw = buf.get(..n).ok_or(AuthError::BadEncoding)?;
    if raw.len() < 14 {
        return Err(AuthError::BadLength);
    }
    VarBytes::from_slice(raw).ok_or(AuthError::BadLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2617_section_3_5() {
        let input = DigestInput {
            username: b"Mufasa",
            realm: b"testrealm@host.com",
            password: b"Circle Of Life",
            method: b"GET",
            uri: b"/dir/index.html",
            nonce: b"dcd98b7102dd2f0e8b11d0f600bfb0c093",
            qop: Qop::Auth {
                nc: b"00000001",
                cnonce: b"0a4f113b",
            },
            body: b"",
        };
        let r = compute_response(&input);
        assert_eq!(r.as_str(), "6629fae49393a05397450978507c4ef1");
        assert!(verify_response(&r, b"6629fae49393a05397450978507c4ef1"));
        assert!(verify_response(&r, b"6629FAE49393A05397450978507C4EF1"));
        assert!(!verify_response(&r, b"6629fae49393a05397450978507c4ef0"));
        assert!(!verify_response(&r, b"6629fae4"));
        // Without qop the response changes (RFC 2069 form).
        let r2 = compute_response(&DigestInput {
            qop: Qop::None,
            ..input
        });
        assert_ne!(r2, r);
        assert_eq!(
            r2,
            md5_joined(&[
                ha1(b"Mufasa", b"testrealm@host.com", b"Circle Of Life").as_bytes(),
                input.nonce,
                ha2(b"GET", b"/dir/index.html").as_bytes()
            ])
        );
    }

    #[test]
    fn rfc_7616_section_3_9_1_md5() {
        let input = DigestInput {
            username: b"Mufasa",
            realm: b"http-auth@example.org",
            password: b"Circle of Life",
            method: b"GET",
            uri: b"/dir/index.html",
            nonce: b"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            qop: Qop::Auth {
                nc: b"00000001",
                cnonce: b"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            },
            body: b"",
        };
        assert_eq!(
            compute_response(&input).as_str(),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
    }

    #[test]
    fn md5_of_empty_string() {
        // RFC 1321 A.5: MD5("") = d41d8cd98f00b204e9800998ecf8427e; auth-int hashes the body.
        assert_eq!(
            md5_joined(&[b""]).as_str(),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        let h = ha2_auth_int(b"REGISTER", b"sip:x", b"");
        assert_eq!(
            h,
            md5_joined(&[b"REGISTER", b"sip:x", b"d41d8cd98f00b204e9800998ecf8427e"])
        );
    }

    #[test]
    fn akav1_password_is_raw_res() {
        let res = [0xa5u8, 0x42, 0x11, 0xd5, 0xe3, 0xba, 0x50, 0xbf];
        let p = aka_password(AkaVersion::V1, &res, &[1; 16], &[2; 16]);
        assert_eq!(p.as_slice(), &res);
    }

    #[test]
    fn akav2_password_construction() {
        // RFC 4169 3: key RES||IK||CK, message "http-digest-akav2-password", HMAC-MD5,
        // then base64. Cross-checked against an independent HMAC-MD5 (RFC 2104) built
        // from the md5 crate.
        let (res, ik, ck) = ([0x11u8; 8], [0x22u8; 16], [0x33u8; 16]);
        let key: Vec<u8> = [&res[..], &ik[..], &ck[..]].concat();
        let mut k = [0u8; 64];
        k[..key.len()].copy_from_slice(&key);
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let inner = Md5::new()
            .chain_update(&ipad)
            .chain_update(b"http-digest-akav2-password")
            .finalize();
        let outer: [u8; 16] = Md5::new()
            .chain_update(&opad)
            .chain_update(inner)
            .finalize()
            .into();
        let want = B64.encode(outer);
        let got = akav2_password(&res, &ik, &ck);
        assert_eq!(core::str::from_utf8(&got).unwrap(), want);
        assert_eq!(
            aka_password(AkaVersion::V2, &res, &ik, &ck).as_slice(),
            want.as_bytes()
        );
    }

    #[test]
    fn rfc_2202_hmac_md5_case_2() {
        // The PRF itself: RFC 2202 test case 2 (key "Jefe").
        let mut mac = <Hmac<Md5> as hmac::Mac>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let out: [u8; 16] = mac.finalize().into_bytes().into();
        assert_eq!(
            HexDigest::from_md5(out).as_str(),
            "750c783e6ab0b503eaa86e310a5db738"
        );
    }

    #[test]
    fn nonce_round_trip() {
        let rand = [0x23u8; 16];
        let autn = [0x55u8; 16];
        let s = encode_aka_nonce_string(&rand, &autn, b"srv").unwrap();
        let n = decode_aka_nonce(&s).unwrap();
        assert_eq!(
            (n.rand, n.autn, n.server_data.as_slice()),
            (rand, autn, &b"srv"[..])
        );
        let plain = encode_aka_nonce_string(&rand, &autn, &[]).unwrap();
        assert_eq!(plain.len(), 44);
        assert!(decode_aka_nonce(&plain).unwrap().server_data.is_empty());
        // Unpadded input is accepted too.
        assert_eq!(
            decode_aka_nonce(plain.trim_end_matches('=')).unwrap().rand,
            rand
        );
    }

    #[test]
    fn nonce_rejects_garbage() {
        assert_eq!(decode_aka_nonce("not base64!"), Err(AuthError::BadEncoding));
        assert_eq!(decode_aka_nonce("AAAA"), Err(AuthError::BadLength));
        assert_eq!(
            decode_aka_nonce(&"A".repeat(10_000)),
            Err(AuthError::BadEncoding)
        );
        assert_eq!(decode_aka_nonce(""), Err(AuthError::BadLength));
        let mut small = [0u8; 10];
        assert_eq!(
            encode_aka_nonce(&[0; 16], &[0; 16], &[], &mut small),
            Err(AuthError::BufferTooSmall)
        );
    }

    #[test]
    fn mutated_nonces_never_panic() {
        let good = encode_aka_nonce_string(&[7; 16], &[9; 16], b"xy").unwrap();
        for i in 0..good.len() {
            for c in ['A', '=', '/', '-', ' ', '\u{e9}'] {
                let mut m: Vec<char> = good.chars().collect();
                m[i] = c;
                let m: String = m.into_iter().collect();
                let _ = decode_aka_nonce(&m);
                let _ = decode_aka_nonce(&m[..i]);
                let _ = decode_auts(&m[..i.min(30)]);
            }
        }
    }

    #[test]
    fn auts_round_trip() {
        let auts = [0xa0u8; 14];
        let mut buf = [0u8; MAX_AUTS_CHARS];
        let n = encode_auts(&auts, &mut buf).unwrap();
        assert_eq!(n, 20);
        let text = core::str::from_utf8(&buf[..n]).unwrap();
        assert_eq!(decode_auts(text).unwrap().as_slice(), &auts);
        assert_eq!(decode_auts("AAAA"), Err(AuthError::BadLength));
        assert_eq!(decode_auts("%%%%"), Err(AuthError::BadEncoding));
    }
}
