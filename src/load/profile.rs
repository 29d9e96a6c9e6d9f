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

/// One subscriber of a `--users-csv` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscriber {
    /// Identities (and MD5 password).
    pub identity: Identity,
    /// The USIM (`None`: MD5).
    pub sim: Option<Sim>,
    /// True when the SIM checks SQN freshness (Milenage): the UE needs an SQN store.
    pub sqn_store: bool,
}

/// A range of subscribers: UE `i` has IMSI `first_imsi + i`, or the `i`-th of `list`.
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
    /// Subscribers read from a CSV file (they replace the range).
    pub list: Option<std::sync::Arc<Vec<Subscriber>>>,
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
            list: None,
        }
    }

    /// Milenage credentials from K and OPc (or OP when `is_op`).
    pub fn milenage(k: [u8; 16], op: [u8; 16], is_op: bool) -> Credentials {
        let v = if is_op { OpVariant::Op(op) } else { OpVariant::Opc(op) };
        Credentials::Aka { algo: SimAlgo::milenage(v), k }
    }

    /// The identities of UE `i`.
    pub fn identity(&self, i: usize) -> Identity {
        if let Some(s) = self.list.as_ref().and_then(|l| l.get(i)) {
            return s.identity.clone();
        }
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

/// Reads a subscriber list: one `imsi,algo,k,opc_or_password` line per UE, with `algo`
/// one of `xor` (K), `milenage` (K and OPc), `milenage-op` (K and OP) or `md5` (password in
/// the last column, K empty). Empty lines and lines starting with `#` are skipped.
pub fn read_csv(text: &str, domain: &str) -> Result<Vec<Subscriber>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let (Some(imsi), Some(algo)) = (f.first(), f.get(1)) else {
            return Err(format!("line {n}: expected imsi,algo,k,opc_or_password"));
        };
        if imsi.is_empty() || imsi.len() > 15 || !imsi.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("line {n}: '{imsi}' is not an IMSI of 1 to 15 digits"));
        }
        let key = |i: usize, what: &str| f.get(i).and_then(|v| hex16(v)).ok_or_else(|| format!("line {n}: {what} must be 32 hex digits"));
        let (sim, sqn_store, password) = match algo.to_ascii_lowercase().as_str() {
            "xor" => (Some(Sim::new(&key(2, "K")?, &SimAlgo::Xor { res_len: 8 })), false, String::new()),
            "milenage" | "milenage-op" => {
                let v = if algo.eq_ignore_ascii_case("milenage-op") { OpVariant::Op(key(3, "OP")?) } else { OpVariant::Opc(key(3, "OPc")?) };
                (Some(Sim::new(&key(2, "K")?, &SimAlgo::milenage(v))), true, String::new())
            }
            "md5" => (None, false, f.get(3).map(|p| p.to_string()).ok_or_else(|| format!("line {n}: md5 needs a password"))?),
            other => return Err(format!("line {n}: algorithm '{other}' is not xor, milenage, milenage-op or md5")),
        };
        let sim = sim.transpose().map_err(|e| format!("line {n}: {e}"))?;
        let identity = Identity { impi: format!("{imsi}@{domain}"), impu: format!("sip:{imsi}@{domain}"), user: imsi.to_string(), password };
        out.push(Subscriber { identity, sim, sqn_store });
    }
    if out.is_empty() {
        return Err("no subscriber in the list".into());
    }
    Ok(out)
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

    #[test]
    fn csv_lists_mix_algorithms_and_report_bad_lines() {
        let text = "# imsi,algo,k,opc_or_password\n001010000000001,milenage,465b5ce8b199b49faa5f0a2ee238a6bc,cd63cb71954a9f4e48a5994e37a02baf\n\
                    001010000000005,xor,00112233445566778899aabbccddeeff\n001010000000003,md5,,secret\n";
        let l = read_csv(text, "d").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(l.len(), 3);
        assert!(l[0].sqn_store && l[0].sim.is_some_and(|s| !s.is_xor()));
        assert!(l[1].sim.is_some_and(|s| s.is_xor()) && !l[1].sqn_store);
        assert_eq!((l[2].sim, l[2].identity.password.as_str(), l[2].identity.impi.as_str()), (None, "secret", "001010000000003@d"));
        let p = Population { list: Some(std::sync::Arc::new(l)), ..Population::default_range() };
        assert_eq!(p.identity(1).user, "001010000000005");
        for (bad, why) in [("1x,xor,00", "IMSI"), ("1,xor,0011", "K must be"), ("1,tuak,00", "not xor"), ("1,md5,", "password"), ("", "no subscriber")] {
            assert!(read_csv(bad, "d").is_err_and(|e| e.contains(why)), "{bad}");
        }
    }
}
