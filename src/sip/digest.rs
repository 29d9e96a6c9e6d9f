//! HTTP Digest credentials and challenges as carried in Authorization,
//! Proxy-Authorization, WWW-Authenticate and Proxy-Authenticate (RFC 3261 20.7, 20.27,
//! 20.28, 20.44; RFC 2617 3.2; AKA RFC 3310 / RFC 4169; 3GPP TS 24.229 7.2A.1
//! integrity-protected).

use super::error::Error;
use super::scan::{auth_params, eq_ic, is_lws, is_token_str, trim, unquote, Split};

/// Digest `algorithm` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm<'a> {
    /// `MD5` (the default when absent, RFC 2617 3.2.1).
    Md5,
    /// `MD5-sess`
    Md5Sess,
    /// `AKAv1-MD5` (RFC 3310)
    AkaV1Md5,
    /// `AKAv2-MD5` (RFC 4169)
    AkaV2Md5,
    /// Anything else.
    Other(&'a [u8]),
}

impl<'a> Algorithm<'a> {
    /// Classifies an algorithm token (case-insensitive).
    pub fn from_bytes(s: &'a [u8]) -> Algorithm<'a> {
        if eq_ic(s, b"MD5") {
            Algorithm::Md5
        } else if eq_ic(s, b"MD5-sess") {
            Algorithm::Md5Sess
        } else if eq_ic(s, b"AKAv1-MD5") {
            Algorithm::AkaV1Md5
        } else if eq_ic(s, b"AKAv2-MD5") {
            Algorithm::AkaV2Md5
        } else {
            Algorithm::Other(s)
        }
    }
}

/// The auth-params that digest users read, found once by [`Auth::parse`] (RFC 2617 3.2.1,
/// 3.2.2; RFC 3310 3.4 `auts`; TS 24.229 7.2A.1 `integrity-protected`).
const KNOWN: [&[u8]; 13] = [
    b"username",
    b"realm",
    b"nonce",
    b"uri",
    b"response",
    b"algorithm",
    b"qop",
    b"nc",
    b"cnonce",
    b"opaque",
    b"stale",
    b"auts",
    b"integrity-protected",
];

const USERNAME: usize = 0;
const REALM: usize = 1;
const NONCE: usize = 2;
const URI: usize = 3;
const RESPONSE: usize = 4;
const ALGORITHM: usize = 5;
const QOP: usize = 6;
const NC: usize = 7;
const CNONCE: usize = 8;
const OPAQUE: usize = 9;
const STALE: usize = 10;
const AUTS: usize = 11;
const INTEGRITY: usize = 12;

/// Index in [`KNOWN`] of an auth-param name (case-insensitive): a switch on length and
/// first letter, then one comparison.
fn known_index(name: &[u8]) -> Option<usize> {
    let i = match (name.len(), name.first()? | 0x20) {
        (2, b'n') => NC,
        (3, b'u') => URI,
        (3, b'q') => QOP,
        (4, b'a') => AUTS,
        (5, b'r') => REALM,
        (5, b'n') => NONCE,
        (5, b's') => STALE,
        (6, b'c') => CNONCE,
        (6, b'o') => OPAQUE,
        (8, b'u') => USERNAME,
        (8, b'r') => RESPONSE,
        (9, b'a') => ALGORITHM,
        (19, b'i') => INTEGRITY,
        _ => return None,
    };
    KNOWN.get(i).is_some_and(|k| eq_ic(k, name)).then_some(i)
}

/// `scheme auth-param *(COMMA auth-param)`: a credentials or challenge value. Parameter
/// accessors return values with the quotes removed (escapes kept). [`Auth::parse`]
/// splits the auth-params once and records the first occurrence of every well-known
/// parameter, so the accessors do not re-scan the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Auth<'a> {
    /// Scheme (`Digest`, or another scheme for RFC 4475 regaut01).
    pub scheme: &'a [u8],
    /// Raw comma-separated auth-params.
    pub params: &'a [u8],
    /// First value of each [`KNOWN`] parameter in `params`.
    known: [Option<&'a [u8]>; KNOWN.len()],
}

impl<'a> Auth<'a> {
    /// Parses a credentials/challenge value and indexes its well-known auth-params in one
    /// pass.
    pub fn parse(v: &'a [u8]) -> Result<Auth<'a>, Error> {
        let v = trim(v);
        let sp = v.iter().position(|&b| is_lws(b)).unwrap_or(v.len());
        let scheme = v.get(..sp).unwrap_or(&[]);
        let params = trim(v.get(sp..).unwrap_or(&[]));
        if !is_token_str(scheme) {
            return Err(Error::Bad(super::HeaderName::Authorization));
        }
        let mut known = [None; KNOWN.len()];
        for (n, v) in auth_params(params) {
            if let Some(slot) = known_index(n).and_then(|i| known.get_mut(i)) {
                // RFC 2617 3.2.2: each directive appears once; the first one wins.
                slot.get_or_insert(v.map_or(&[][..], unquote));
            }
        }
        Ok(Auth { scheme, params, known })
    }

    /// True for the `Digest` scheme.
    pub fn is_digest(&self) -> bool {
        eq_ic(self.scheme, b"Digest")
    }

    /// Iterator over `(name, value)` auth-params (value unquoted).
    pub fn iter(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
        auth_params(self.params).map(|(n, v)| (n, v.map_or(&[][..], unquote)))
    }

    /// Looks up an auth-param by case-insensitive name (well-known names without a scan).
    pub fn get(&self, name: &[u8]) -> Option<&'a [u8]> {
        match known_index(name) {
            Some(i) => self.field(i),
            None => self.iter().find(|(n, _)| eq_ic(n, name)).map(|(_, v)| v),
        }
    }

    fn field(&self, i: usize) -> Option<&'a [u8]> {
        self.known.get(i).copied().flatten()
    }

    /// `username`
    pub fn username(&self) -> Option<&'a [u8]> {
        self.field(USERNAME)
    }
    /// `realm`
    pub fn realm(&self) -> Option<&'a [u8]> {
        self.field(REALM)
    }
    /// `nonce` (for AKA: base64 of RAND || AUTN || server data, RFC 3310 3.2)
    pub fn nonce(&self) -> Option<&'a [u8]> {
        self.field(NONCE)
    }
    /// `uri` (digest-uri)
    pub fn uri(&self) -> Option<&'a [u8]> {
        self.field(URI)
    }
    /// `response`
    pub fn response(&self) -> Option<&'a [u8]> {
        self.field(RESPONSE)
    }
    /// `algorithm` (MD5 when absent, RFC 2617 3.2.1)
    pub fn algorithm(&self) -> Algorithm<'a> {
        self.field(ALGORITHM).map_or(Algorithm::Md5, Algorithm::from_bytes)
    }
    /// `qop`: the chosen qop in credentials, the qop-options list in a challenge.
    pub fn qop(&self) -> Option<&'a [u8]> {
        self.field(QOP)
    }
    /// True if the challenge's qop-options list offers `option` (e.g. `auth`).
    pub fn offers_qop(&self, option: &[u8]) -> bool {
        self.qop().is_some_and(|q| Split::new(q, b',').any(|o| eq_ic(o, option)))
    }
    /// `nc` (nonce-count, 8 hex digits)
    pub fn nc(&self) -> Option<u32> {
        let nc = self.field(NC)?;
        if nc.len() != 8 {
            return None;
        }
        core::str::from_utf8(nc).ok().and_then(|s| u32::from_str_radix(s, 16).ok())
    }
    /// `cnonce`
    pub fn cnonce(&self) -> Option<&'a [u8]> {
        self.field(CNONCE)
    }
    /// `opaque`
    pub fn opaque(&self) -> Option<&'a [u8]> {
        self.field(OPAQUE)
    }
    /// `stale=true` in a challenge.
    pub fn stale(&self) -> bool {
        self.field(STALE).is_some_and(|s| eq_ic(s, b"true"))
    }
    /// `auts` (AKA resynchronisation, RFC 3310 3.4)
    pub fn auts(&self) -> Option<&'a [u8]> {
        self.field(AUTS)
    }
    /// `integrity-protected` (3GPP TS 24.229 7.2A.1: yes / no / tls-pending / tls-yes /
    /// ip-assoc-pending / ip-assoc-yes)
    pub fn integrity_protected(&self) -> Option<&'a [u8]> {
        self.field(INTEGRITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aka_authorization_with_auts() {
        let a = Auth::parse(br#"Digest username="001010000000001@ims.mnc001.mcc001.3gppnetwork.org", realm="ims.mnc001.mcc001.3gppnetwork.org", uri="sip:ims.mnc001.mcc001.3gppnetwork.org", nonce="3qs5LMqXR4pKSqCpA1U5yA==", response="", algorithm=AKAv1-MD5, auts="CjkyMzRmMTIzNDU2", integrity-protected="yes", qop=auth, nc=0000000a, cnonce="0a4f113b""#).unwrap();
        assert!(a.is_digest());
        assert_eq!(a.username(), Some(&b"001010000000001@ims.mnc001.mcc001.3gppnetwork.org"[..]));
        assert_eq!(a.realm(), Some(&b"ims.mnc001.mcc001.3gppnetwork.org"[..]));
        assert_eq!(a.nonce(), Some(&b"3qs5LMqXR4pKSqCpA1U5yA=="[..]));
        assert_eq!(a.response(), Some(&b""[..]));
        assert_eq!(a.algorithm(), Algorithm::AkaV1Md5);
        assert_eq!(a.auts(), Some(&b"CjkyMzRmMTIzNDU2"[..]));
        assert_eq!(a.integrity_protected(), Some(&b"yes"[..]));
        assert_eq!(a.nc(), Some(10));
        assert_eq!(a.cnonce(), Some(&b"0a4f113b"[..]));
        assert_eq!(a.uri(), Some(&b"sip:ims.mnc001.mcc001.3gppnetwork.org"[..]));
    }

    #[test]
    fn challenge_with_qop_options() {
        let c = Auth::parse(br#"Digest realm="r", nonce="n,1", qop="auth,auth-int", algorithm=AKAv2-MD5, opaque="o", stale=TRUE"#).unwrap();
        assert_eq!(c.nonce(), Some(&b"n,1"[..]));
        assert!(c.offers_qop(b"auth-int"));
        assert!(!c.offers_qop(b"auth-conf"));
        assert_eq!(c.algorithm(), Algorithm::AkaV2Md5);
        assert!(c.stale());
        assert_eq!(c.opaque(), Some(&b"o"[..]));
        let o = Auth::parse(b"NoOneKnowsThisScheme opaque-data=here").unwrap();
        assert!(!o.is_digest());
        assert_eq!(o.get(b"opaque-data"), Some(&b"here"[..]));
        assert_eq!(Auth::parse(b"Digest realm=x").unwrap().algorithm(), Algorithm::Md5);
    }

    #[test]
    fn known_params_match_a_full_scan() {
        let a = Auth::parse(br#"Digest USERNAME="u1", username="u2", Realm=r, nonce, , uri="sip:x", X-Extra="e", nc=0000000A, integrity-protected=yes, Auts="""#).unwrap();
        for name in KNOWN.iter().copied().chain([&b"x-extra"[..], b"NONE", b"", b"usernamE", b"Nc"]) {
            let scanned = a.iter().find(|(n, _)| eq_ic(n, name)).map(|(_, v)| v);
            assert_eq!(a.get(name), scanned, "{}", String::from_utf8_lossy(name));
        }
        assert_eq!(a.username(), Some(&b"u1"[..]));
        assert_eq!(a.realm(), Some(&b"r"[..]));
        assert_eq!(a.nonce(), Some(&b""[..]));
        assert_eq!(a.auts(), Some(&b""[..]));
        assert_eq!(a.nc(), Some(10));
        assert_eq!(a.get(b"x-extra"), Some(&b"e"[..]));
        assert_eq!(a.response(), None);
        assert_eq!(a.iter().count(), 9);
    }
}
