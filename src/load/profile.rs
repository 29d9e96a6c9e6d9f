//! Who the emulated UEs are: a range of subscribers (IMSI, K, OPc or OP, SIM algorithm,
//! or an MD5 password), defaulting to ringcore's own load-test range in
//! config/ue_db-ims.cfg (10,000 XOR test SIMs from IMSI 001011000000000, K
//! 00112233445566778899aabbccddeeff, RES 8 bytes).

use crate::auth::{self, OpVariant, Sim, SimAlgo};

/// The default first IMSI (config/ue_db-ims.cfg, `RC_LOAD_USERS`).
pub const DEFAULT_FIRST_IMSI: &str = "001011000000000";
/// The default K of that range.
pub const DEFAULT_K: &str = "00112233445566778899aabbccddeeff";
/// The default IMS domain.
pub const DEFAULT_DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";

/// How the UEs authenticate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// AKAv1-MD5 / AKAv2-MD5 (RFC 3310, RFC 4169) with a USIM algorithm and K.
    Aka {
        /// The algorithm (XOR or Milenage).
        algo: SimAlgo,
        /// K.
        k: [u8; 16],
    },
    /// MD5 digest with a password; `{i}` in the password is replaced by the UE index.
    Md5 {
        /// Password template.
        password: String,
    },
}

/// A range of subscribers: UE `i` has IMSI `first_imsi + i`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Population {
    /// First IMSI (15 digits).
    pub first_imsi: u64,
    /// IMSI digit count (leading zeros kept).
    pub imsi_digits: usize,
    /// Home domain: IMPI `imsi@domain`, IMPU `sip:imsi@domain`.
    pub domain: String,
    /// Credentials shared by the range.
    pub credentials: Credentials,
}

/// The identities of one UE (built once at start-up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The user part (the IMSI).
    pub user: String,
    /// IMPI (`imsi@domain`).
    pub impi: String,
    /// Public identity (`sip:imsi@domain`).
    pub impu: String,
    /// MD5 password (empty for AKA).
    pub password: String,
}

/// Decodes exactly 16 bytes of hex.
pub fn hex16(s: &str) -> Option<[u8; 16]> {
    let s = s.trim().trim_start_matches("0x");
    if s.len() != 32 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Population {
    /// ringcore's default load range (XOR SIMs).
    pub fn default_range() -> Population {
        // The constants are valid hex of 16 bytes and a 15-digit IMSI.
        Population {
            first_imsi: 1_011_000_000_000,
            imsi_digits: DEFAULT_FIRST_IMSI.len(),
            domain: DEFAULT_DOMAIN.into(),
            credentials: Credentials::Aka { algo: SimAlgo::Xor { res_len: 8 }, k: hex16(DEFAULT_K).unwrap_or([0; 16]) },
        }
    }

    /// Milenage credentials from K and OPc (or OP when `is_op`).
    pub fn milenage(k: [u8; 16], op: [u8; 16], is_op: bool) -> Credentials {
        let v = if is_op { OpVariant::Op(op) } else { OpVariant::Opc(op) };
        Credentials::Aka { algo: SimAlgo::milenage(v), k }
    }

    /// The identities of UE `i`.
    pub fn identity(&self, i: usize) -> Identity {
        let user = format!("{:0width$}", self.first_imsi + i as u64, width = self.imsi_digits);
        let password = match &self.credentials {
            Credentials::Md5 { password } => password.replace("{i}", &i.to_string()),
            Credentials::Aka { .. } => String::new(),
        };
        Identity { impi: format!("{user}@{}", self.domain), impu: format!("sip:{user}@{}", self.domain), user, password }
    }

    /// The USIM of the range (`None` for MD5); fails for a bad key.
    pub fn sim(&self) -> Result<Option<Sim>, auth::AuthError> {
        match &self.credentials {
            Credentials::Aka { algo, k } => Sim::new(k, algo).map(Some),
            Credentials::Md5 { .. } => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_range_matches_ringcore_load_users() {
        let p = Population::default_range();
        let id = p.identity(42);
        assert_eq!(id.user, "001011000000042");
        assert_eq!(id.impi, "001011000000042@ims.mnc001.mcc001.3gppnetwork.org");
        assert_eq!(id.impu, "sip:001011000000042@ims.mnc001.mcc001.3gppnetwork.org");
        assert!(p.sim().is_ok_and(|s| s.is_some_and(|s| s.is_xor())));
        assert_eq!(hex16("0x00112233445566778899aabbccddeeff").map(|k| k[15]), Some(0xff));
        assert_eq!(hex16("0011"), None);
        let md5 = Population { credentials: Credentials::Md5 { password: "pw{i}".into() }, ..p };
        assert_eq!(md5.identity(3).password, "pw3");
    }
}
