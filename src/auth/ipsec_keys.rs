//! Expansion of the AKA session keys IK/CK into ESP keys for the P-CSCF/UE security
//! associations (TS 33.203 Annex I): IK_ESP for the integrity algorithm and CK_ESP for
//! the encryption algorithm negotiated with sec-agree (RFC 3329 `alg` / `ealg`).

use super::VarBytes;

/// An ESP key: at most 24 bytes (3DES), stored inline.
pub type EspKey = VarBytes<24>;

/// ESP integrity algorithms of TS 33.203 (Security-Client `alg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegAlg {
    /// hmac-md5-96 (RFC 2403): 128-bit key.
    HmacMd5_96,
    /// hmac-sha-1-96 (RFC 2404): 160-bit key.
    HmacSha1_96,
}

/// ESP encryption algorithms of TS 33.203 (Security-Client `ealg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncrAlg {
    /// null encryption (RFC 2410): no key.
    Null,
    /// des-ede3-cbc (RFC 2451): 192-bit key.
    DesEde3Cbc,
    /// aes-cbc (RFC 3602) with a 128-bit key.
    AesCbc,
}

impl IntegAlg {
    /// Parses the sec-agree token (case-insensitive).
    pub fn from_name(name: &[u8]) -> Option<IntegAlg> {
        if name.eq_ignore_ascii_case(b"hmac-md5-96") {
            Some(IntegAlg::HmacMd5_96)
        } else if name.eq_ignore_ascii_case(b"hmac-sha-1-96") {
            Some(IntegAlg::HmacSha1_96)
        } else {
            None
        }
    }

    /// The sec-agree token.
    pub fn name(self) -> &'static str {
        match self {
            IntegAlg::HmacMd5_96 => "hmac-md5-96",
            IntegAlg::HmacSha1_96 => "hmac-sha-1-96",
        }
    }
}

impl EncrAlg {
    /// Parses the sec-agree token (case-insensitive).
    pub fn from_name(name: &[u8]) -> Option<EncrAlg> {
        if name.eq_ignore_ascii_case(b"null") {
            Some(EncrAlg::Null)
        } else if name.eq_ignore_ascii_case(b"des-ede3-cbc") {
            Some(EncrAlg::DesEde3Cbc)
        } else if name.eq_ignore_ascii_case(b"aes-cbc") {
            Some(EncrAlg::AesCbc)
        } else {
            None
        }
    }

    /// The sec-agree token.
    pub fn name(self) -> &'static str {
        match self {
            EncrAlg::Null => "null",
            EncrAlg::DesEde3Cbc => "des-ede3-cbc",
            EncrAlg::AesCbc => "aes-cbc",
        }
    }
}

/// Copies `parts` end to end into an [`EspKey`] (total at most 24 bytes by construction).
fn key_of(parts: &[&[u8]]) -> EspKey {
    let mut buf = [0u8; 24];
    let mut n = 0;
    for p in parts {
        buf[n..n + p.len()].copy_from_slice(p);
        n += p.len();
    }
    VarBytes::from_slice(&buf[..n]).unwrap_or_default()
}

/// IK_ESP from IK_IM (TS 33.203 Annex I.1).
pub fn ik_esp(alg: IntegAlg, ik: &[u8; 16]) -> EspKey {
    match alg {
        // hmac-md5-96: IK_ESP = IK_IM (128 bits).
        IntegAlg::HmacMd5_96 => key_of(&[ik]),
        // hmac-sha-1-96: IK_ESP = IK_IM || 0^32 (160 bits).
        IntegAlg::HmacSha1_96 => key_of(&[ik, &[0u8; 4]]),
    }
}

/// CK_ESP from CK_IM (TS 33.203 Annex I.2).
pub fn ck_esp(alg: EncrAlg, ck: &[u8; 16]) -> EspKey {
    match alg {
        EncrAlg::Null => EspKey::default(),
        // des-ede3-cbc: CK_IM = CK_IM1 || CK_IM2 (64 bits each) and
        // CK_ESP = CK_IM1 || CK_IM2 || CK_IM1 (two-key 3DES; the DES parity bits are left
        // as they are, DES implementations ignore them).
        EncrAlg::DesEde3Cbc => key_of(&[ck, &ck[..8]]),
        // aes-cbc: CK_ESP = CK_IM (128 bits).
        EncrAlg::AesCbc => key_of(&[ck]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::test_util::arr;

    const IK: &str = "f769bcd751044604127672711c6d3441";
    const CK: &str = "b40ba9a3c58b2a05bbf0d987b21bf8cb";

    #[test]
    fn integrity_keys() {
        let ik: [u8; 16] = arr(IK);
        assert_eq!(ik_esp(IntegAlg::HmacMd5_96, &ik).as_slice(), &ik);
        let sha = ik_esp(IntegAlg::HmacSha1_96, &ik);
        assert_eq!(sha.len(), 20);
        assert_eq!(
            sha.as_slice(),
            &arr::<20>("f769bcd751044604127672711c6d344100000000")
        );
    }

    #[test]
    fn encryption_keys() {
        let ck: [u8; 16] = arr(CK);
        assert!(ck_esp(EncrAlg::Null, &ck).is_empty());
        assert_eq!(ck_esp(EncrAlg::AesCbc, &ck).as_slice(), &ck);
        assert_eq!(
            ck_esp(EncrAlg::DesEde3Cbc, &ck).as_slice(),
            &arr::<24>("b40ba9a3c58b2a05bbf0d987b21bf8cbb40ba9a3c58b2a05")
        );
    }

    #[test]
    fn names_round_trip() {
        for a in [IntegAlg::HmacMd5_96, IntegAlg::HmacSha1_96] {
            assert_eq!(IntegAlg::from_name(a.name().as_bytes()), Some(a));
        }
        for e in [EncrAlg::Null, EncrAlg::DesEde3Cbc, EncrAlg::AesCbc] {
            assert_eq!(
                EncrAlg::from_name(e.name().to_uppercase().as_bytes()),
                Some(e)
            );
        }
        assert_eq!(IntegAlg::from_name(b"hmac-sha-256"), None);
    }
}
