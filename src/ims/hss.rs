//! The built-in HSS: the subscriber database built from the configuration's
//! `ue_db`, the identity look-ups of the Cx procedures (TS 29.228 6.1: which
//! private identity owns a public one, which identities form the implicit
//! registration set) and the authentication data of the MAR/MAA exchange
//! (TS 33.203 6.1.1: AKA vectors; the password for MD5).
//!
//! It keeps each subscriber's SEQ_HE (TS 33.102 Annex C) and advances it for
//! every vector, so it is the state that `ue_db_filename` persists.

use super::challenge::{Challenge, DigestAlgo, Qop};
use crate::auth::{self, digest, HeSqn, Sqn, SqnParams};
use crate::config::typed::{AuthentQop, AuthentType, Config, MilenageOp, Sim as SimCfg, TuakKey, TuakOp, UeEntry};
use std::collections::HashMap;
pub use super::impu::normalize_impu;
use super::impu::telephone_number;

/// One public identity of a subscriber.
#[derive(Clone, Debug)]
pub struct PublicId {
    /// Normalised URI (see [`normalize_impu`]).
    pub uri: String,
    /// Authentication required for this identity (ue_db impu.authentication).
    pub authentication: bool,
    /// Listed in P-Associated-URI (impu.associated).
    pub associated: bool,
    /// The preferred identity (impu.preferred).
    pub preferred: bool,
    /// seed 000 `ue_db.impu.imei`: the one UE (of a multi_sim subscriber) that calls and
    /// SMS to this identity reach.
    pub imei: Option<String>,
}

/// One subscriber.
pub struct Subscriber {
    /// Private identity.
    pub impi: String,
    /// IMSI, when configured.
    pub imsi: Option<String>,
    /// Public identities in configuration order.
    pub impus: Vec<PublicId>,
    /// Several UEs may share the IMSI (told apart by IMEI).
    pub multi_sim: bool,
    /// Minimum authentication level.
    pub authent_type: AuthentType,
    /// qop of challenges.
    pub qop: Qop,
    /// MD5 password.
    pub pwd: Option<String>,
    /// The USIM's algorithm and keys, when AKA is possible.
    pub sim: Option<auth::Sim>,
    /// AMF of the vectors.
    pub amf: [u8; 2],
    /// SEQ_HE.
    pub sqn: HeSqn,
}

impl Subscriber {
    /// True if `impu` (normalised) is one of this subscriber's identities.
    pub fn has_impu(&self, impu: &str) -> bool {
        self.impus.iter().any(|p| p.uri == impu) || self.is_temporary_impu(impu)
    }

    /// TS 23.003 13.4B: the temporary public identity derived from the IMSI
    /// (`sip:<IMSI>@ims.mnc<MNC>.mcc<MCC>.3gppnetwork.org`).
    fn is_temporary_impu(&self, impu: &str) -> bool {
        let user = impu.strip_prefix("sip:").and_then(|s| s.split('@').next());
        matches!((user, &self.imsi), (Some(u), Some(imsi)) if u == imsi)
    }

    /// Whether registering `impu` needs authentication (authent_type none or
    /// the IMPU's `authentication: false` disable it).
    pub fn needs_authentication(&self, impu: &str) -> bool {
        if self.authent_type == AuthentType::None {
            return false;
        }
        self.impus.iter().find(|p| p.uri == impu).map(|p| p.authentication).unwrap_or(true)
    }

    /// The algorithm to challenge with: the client's when it is at least
    /// authent_type (seed 000 5.2.1 authent_type), else authent_type itself.
    pub fn choose_algorithm(&self, offered: Option<DigestAlgo>) -> Result<DigestAlgo, String> {
        let minimum = match self.authent_type {
            AuthentType::None | AuthentType::Md5 => DigestAlgo::Md5,
            AuthentType::AkaV1 => DigestAlgo::AkaV1,
            AuthentType::AkaV2 => DigestAlgo::AkaV2,
        };
        let algo = match offered {
            Some(a) if a < minimum => {
                return Err(format!("{} is below the minimum {} of {}", a.as_param(), minimum.as_param(), self.impi))
            }
            Some(a) => a,
            None => minimum,
        };
        match algo {
            DigestAlgo::Md5 if self.pwd.is_none() => Err(format!("{} has no pwd for MD5", self.impi)),
            a if a.is_aka() && self.sim.is_none() => Err(format!("{} has no K for {}", self.impi, a.as_param())),
            a => Ok(a),
        }
    }

    /// The implicit registration set registered with `impu`: every identity
    /// of the subscriber (TS 23.228 4.3.3.4), `impu` first.
    pub fn registration_set(&self, impu: &str) -> Vec<String> {
        let mut set = vec![impu.to_owned()];
        set.extend(self.impus.iter().map(|p| p.uri.clone()).filter(|u| u != impu));
        set
    }

    /// P-Associated-URI values (TS 24.229 5.4.1.2.2 f): the registered
    /// identity first, then the others marked `associated`.
    pub fn associated_uris(&self, impu: &str) -> Vec<String> {
        let mut out = vec![impu.to_owned()];
        out.extend(self.impus.iter().filter(|p| p.associated && p.uri != impu).map(|p| p.uri.clone()));
        out
    }
}

/// Why a subscriber entry could not be used.
#[derive(Debug)]
pub struct HssError(pub String);

/// The subscriber database.
#[derive(Default)]
pub struct Hss {
    subs: HashMap<String, Subscriber>,
    by_impu: HashMap<String, String>,
    by_imsi: HashMap<String, String>,
    /// Global number (`+` and digits) → the identity (as configured) that names it:
    /// `tel:+N`, or `sip:+N@domain` ([`Hss::canonical_impu`]).
    by_number: HashMap<String, String>,
}

impl Hss {
    /// Builds the database from the configuration.
    pub fn from_config(cfg: &Config) -> Result<Hss, HssError> {
        let domain = cfg.sip.domain.as_deref().unwrap_or("");
        let mut hss = Hss::default();
        for e in cfg.ue_db() {
            hss.insert(subscriber_of(e, e.domain.as_deref().unwrap_or(domain))?)?;
        }
        Ok(hss)
    }

    /// Adds a subscriber (also used by the remote API's users_add).
    pub fn insert(&mut self, sub: Subscriber) -> Result<(), HssError> {
        if self.subs.contains_key(&sub.impi) {
            return Err(HssError(format!("duplicate impi {}", sub.impi)));
        }
        for p in &sub.impus {
            self.by_impu.insert(p.uri.clone(), sub.impi.clone());
            self.index_number(&p.uri);
        }
        if let Some(imsi) = &sub.imsi {
            self.by_imsi.entry(imsi.clone()).or_insert_with(|| sub.impi.clone());
        }
        self.subs.insert(sub.impi.clone(), sub);
        Ok(())
    }

    /// Number of subscribers.
    pub fn len(&self) -> usize {
        self.subs.len()
    }

    /// True when there is no subscriber.
    pub fn is_empty(&self) -> bool {
        self.subs.is_empty()
    }

    /// A subscriber by private identity, or by the IMSI-derived private
    /// identity `<IMSI>@ims.mnc<MNC>.mcc<MCC>.3gppnetwork.org` (TS 23.003 13.3).
    pub fn subscriber(&self, impi: &str) -> Option<&Subscriber> {
        self.subs.get(impi).or_else(|| self.subs.get(self.by_imsi.get(imsi_of_identity(impi)?)?))
    }

    fn subscriber_mut(&mut self, impi: &str) -> Option<&mut Subscriber> {
        let key = if self.subs.contains_key(impi) {
            impi.to_owned()
        } else {
            self.by_imsi.get(imsi_of_identity(impi)?)?.clone()
        };
        self.subs.get_mut(&key)
    }

    /// All subscribers.
    pub fn subscribers(&self) -> impl Iterator<Item = &Subscriber> {
        self.subs.values()
    }

    /// The private identity owning the public identity `impu` (normalised), also for
    /// IMSI-derived temporary identities (TS 23.003 13.4B) and for another form of the
    /// same telephone number ([`Hss::canonical_impu`]).
    pub fn impi_of_impu(&self, impu: &str) -> Option<&str> {
        if let Some(i) = self.by_impu.get(impu) {
            return Some(i);
        }
        if let Some(i) = self.by_number(impu).and_then(|uri| self.by_impu.get(uri)) {
            return Some(i);
        }
        let imsi = imsi_of_identity(impu.strip_prefix("sip:")?)?;
        self.by_imsi.get(imsi).map(String::as_str)
    }

    /// The identity `impu` (normalised) as the subscriber's configuration writes it, the
    /// key of its settings and registrations: itself when configured, else the one naming
    /// the same global number (E.164: `tel:+N` dialled for a user configured as
    /// `sip:+N`, or the reverse). None for an unknown identity.
    pub fn canonical_impu<'a>(&'a self, impu: &'a str) -> Option<&'a str> {
        match self.by_impu.get_key_value(impu) {
            Some((k, _)) => Some(k),
            None => self.by_number(impu),
        }
    }

    /// [`Hss::canonical_impu`] of `impu` (normalised), owned; `impu` itself when it is
    /// configured as it is, or unknown.
    pub fn canonical(&self, impu: String) -> String {
        match self.canonical_impu(&impu) {
            Some(c) if c != impu => c.to_owned(),
            _ => impu,
        }
    }

    fn by_number(&self, impu: &str) -> Option<&str> {
        self.by_number.get(&telephone_number(impu)?).map(String::as_str)
    }

    /// Indexes `uri` by the global number it names (the first identity of a number wins).
    fn index_number(&mut self, uri: &str) {
        if let Some(n) = telephone_number(uri) {
            self.by_number.entry(n).or_insert_with(|| uri.to_owned());
        }
    }

    /// The IMEI that terminating calls and SMS to `impu` (normalised) are filtered by
    /// ([`super::terminating`]): its `ue_db.impu.imei`, which seed 000 makes relevant only
    /// for a multi_sim subscriber.
    pub fn imei_filter(&self, impu: &str) -> Option<&str> {
        let sub = self.subscriber(self.by_impu.get(impu)?)?;
        let id = sub.impus.iter().find(|p| p.uri == impu)?;
        id.imei.as_deref().filter(|_| sub.multi_sim)
    }

    /// The MD5 password of `impi`.
    pub fn password(&self, impi: &str) -> Option<&str> {
        self.subscriber(impi)?.pwd.as_deref()
    }

    /// A new challenge for `impi` (TS 29.228 6.3 MAR/MAA): for AKA a fresh
    /// vector with the next SQN (TS 33.102 6.3.2), for MD5 a random nonce.
    pub fn make_challenge(&mut self, impi: &str, algo: DigestAlgo, rand: [u8; 16], realm: &str) -> Option<Challenge> {
        let sub = self.subscriber_mut(impi)?;
        let base = Challenge {
            algo,
            realm: realm.to_owned(),
            nonce: String::new(),
            qop: sub.qop,
            rand,
            password: Vec::new(),
            ck: [0; 16],
            ik: [0; 16],
            stale: false,
        };
        if algo == DigestAlgo::Md5 {
            let nonce = rand.iter().map(|b| format!("{b:02x}")).collect();
            return Some(Challenge { nonce, ..base });
        }
        let sim = sub.sim.as_ref()?;
        let sqn = sub.sqn.next_sqn();
        let v = auth::generate_vector(sim, sqn, sub.amf, rand);
        // RFC 3310 3.2: the nonce is base64(RAND || AUTN); AUTN is 16 bytes
        // for every algorithm whose MAC is 64 bits.
        let autn: &[u8; 16] = v.autn.as_slice().try_into().ok()?;
        let nonce = digest::encode_aka_nonce_string(&v.rand, autn, &[]).ok()?;
        let password = match algo {
            DigestAlgo::AkaV2 => digest::akav2_password(v.xres.as_slice(), v.ik.as_slice(), v.ck.as_slice()).to_vec(),
            _ => v.xres.as_slice().to_vec(),
        };
        let mut ck = [0u8; 16];
        let mut ik = [0u8; 16];
        ck.copy_from_slice(v.ck.as_slice().get(..16)?);
        ik.copy_from_slice(v.ik.as_slice().get(..16)?);
        Some(Challenge { nonce, password, ck, ik, ..base })
    }

    /// TS 33.102 6.3.5: recovers SQN_MS from an AUTS for the RAND it answers
    /// and moves SEQ_HE past it.
    pub fn resync(&mut self, impi: &str, rand: &[u8; 16], auts: &[u8]) -> Result<(), String> {
        let sub = self.subscriber_mut(impi).ok_or("unknown subscriber")?;
        let sim = sub.sim.as_ref().ok_or("no SIM keys")?;
        let sqn_ms = auth::resync_from_auts(sim, rand, auts).map_err(|e| e.to_string())?;
        sub.sqn.resync(sqn_ms);
        Ok(())
    }

    /// The current SEQ_HE of `impi` (for persistence).
    pub fn sqn(&self, impi: &str) -> Option<Sqn> {
        Some(self.subscriber(impi)?.sqn.current())
    }

    /// Restores a persisted SEQ_HE.
    pub fn restore_sqn(&mut self, impi: &str, sqn: Sqn) {
        if let Some(sub) = self.subscriber_mut(impi) {
            if sqn.value() > sub.sqn.current().value() {
                sub.sqn.resync(sqn);
            }
        }
    }
}

/// `<IMSI>@...` or `<IMSI>` → the IMSI, when the user part is 6 to 15 digits.
fn imsi_of_identity(id: &str) -> Option<&str> {
    let user = id.split('@').next()?;
    (user.len() >= 6 && user.len() <= 15 && user.bytes().all(|b| b.is_ascii_digit())).then_some(user)
}

fn subscriber_of(e: &UeEntry, domain: &str) -> Result<Subscriber, HssError> {
    let sim = match &e.sim {
        Some(s) => Some(sim_of(s, e.res_len).map_err(|err| HssError(format!("{}: {err}", e.impi)))?),
        None => None,
    };
    let impus = e
        .impu
        .iter()
        .map(|i| PublicId {
            uri: normalize_impu(&i.public_identity(domain)),
            authentication: i.authentication,
            associated: i.associated,
            preferred: i.preferred,
            imei: i.imei.clone(),
        })
        .collect();
    let sqn = HeSqn::new(Sqn::from_bytes(e.sqn.0), SqnParams::DEFAULT).map_err(|err| HssError(format!("{}: sqn: {err}", e.impi)))?;
    Ok(Subscriber {
        impi: e.impi.clone(),
        imsi: e.imsi.clone(),
        impus,
        multi_sim: e.multi_sim,
        authent_type: e.authent_type,
        qop: if e.authent_qop == AuthentQop::Auth { Qop::Auth } else { Qop::None },
        pwd: e.pwd.clone(),
        sim,
        amf: e.amf.to_be_bytes(),
        sqn,
    })
}

fn sim_of(s: &SimCfg, res_len: u8) -> Result<auth::Sim, auth::AuthError> {
    match s {
        SimCfg::Xor { k } => auth::Sim::new(&k.0, &auth::SimAlgo::Xor { res_len }),
        SimCfg::Milenage { k, op, r, c } => {
            let op_or_opc = match op {
                MilenageOp::Op(x) => auth::OpVariant::Op(x.0),
                MilenageOp::Opc(x) => auth::OpVariant::Opc(x.0),
            };
            let c = [c[0].0, c[1].0, c[2].0, c[3].0, c[4].0];
            auth::Sim::new(&k.0, &auth::SimAlgo::Milenage { op_or_opc, r: *r, c })
        }
        SimCfg::Tuak { k, op, keccak_iter } => {
            let top_or_topc = match op {
                TuakOp::Top(x) => auth::TopVariant::Top(x.0),
                TuakOp::Topc(x) => auth::TopVariant::Topc(x.0),
            };
            // RFC 3310 nonces carry a 16-byte AUTN, so the MAC is 64 bits;
            // CK and IK are 128 bits as IMS AKA uses them.
            let params = auth::TuakParams { top_or_topc, keccak_iter: *keccak_iter, res_len, mac_len: 8, ck_len: 16, ik_len: 16 };
            let key: &[u8] = match k {
                TuakKey::K128(x) => &x.0,
                TuakKey::K256(x) => &x.0,
            };
            auth::Sim::new(key, &auth::SimAlgo::Tuak(params))
        }
    }
}

/// Run-time changes made by the remote API (seed 000 6.6 users_add, impu_add, impu_del).
impl Hss {
    /// users_add: moves every subscriber of `other` in; an IMPI already known
    /// is refused (and nothing of `other` is added).
    pub fn merge(&mut self, other: Hss) -> Result<usize, HssError> {
        if let Some(dup) = other.subs.keys().find(|k| self.subs.contains_key(*k)) {
            return Err(HssError(format!("duplicate impi {dup}")));
        }
        let n = other.subs.len();
        for (_, sub) in other.subs {
            self.insert(sub)?;
        }
        Ok(n)
    }

    /// impu_add: gives `impi` the public identity `id` (normalised by the caller).
    pub fn add_impu(&mut self, impi: &str, id: PublicId) -> Result<(), HssError> {
        if let Some(owner) = self.by_impu.get(&id.uri) {
            return Err(HssError(format!("{} already belongs to {owner}", id.uri)));
        }
        let sub = self.subscriber_mut(impi).ok_or_else(|| HssError(format!("Unknown impi: {impi}")))?;
        let (owner, uri) = (sub.impi.clone(), id.uri.clone());
        sub.impus.push(id);
        self.index_number(&uri);
        self.by_impu.insert(uri, owner);
        Ok(())
    }

    /// impu_del: removes the public identity `uri` (normalised) from `impi`.
    pub fn remove_impu(&mut self, impi: &str, uri: &str) -> Result<(), HssError> {
        let sub = self.subscriber_mut(impi).ok_or_else(|| HssError(format!("Unknown impi: {impi}")))?;
        let before = sub.impus.len();
        sub.impus.retain(|p| p.uri != uri);
        if sub.impus.len() == before {
            return Err(HssError(format!("{uri} is not an IMPU of {impi}")));
        }
        self.by_impu.remove(uri);
        if let Some(n) = telephone_number(uri).filter(|n| self.by_number.get(n).is_some_and(|u| u == uri)) {
            // Another identity naming the same number takes its place (the least, so the
            // choice does not depend on the map's order); none: the number is unknown.
            let next = self.by_impu.keys().filter(|k| telephone_number(k).as_ref() == Some(&n)).min().cloned();
            match next {
                Some(other) => self.by_number.insert(n, other),
                None => self.by_number.remove(&n),
            };
        }
        Ok(())
    }

    /// impu_set: changes the flags of the public identity `uri` (normalised).
    pub fn public_id_mut(&mut self, uri: &str) -> Option<&mut PublicId> {
        let impi = self.by_impu.get(uri)?.clone();
        self.subs.get_mut(&impi)?.impus.iter_mut().find(|p| p.uri == uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_form_of_a_configured_number_is_that_identity() {
        let cfg = "{ domain: \"ims.test\", ue_db: [ { impi: \"a@ims.test\", imsi: \"001010000000001\", authent_type: \"none\", impu: [\"sip:a\", \"tel:+1-555-0100\"] },\n\
                   { impi: \"b@ims.test\", imsi: \"001010000000002\", authent_type: \"none\", impu: [\"sip:+15550199\"] } ] }";
        let loaded = crate::config::load_str("test", cfg, std::path::Path::new(".")).expect("test config loads");
        let hss = Hss::from_config(&loaded.config).expect("test HSS");
        let canonical = |dialled: &str| hss.canonical_impu(&normalize_impu(dialled)).map(str::to_owned);
        // RFC 3261 19.1.6: a SIP URI with user=phone names the tel URI's number.
        assert_eq!(canonical("<sip:+15550100@ims.test;user=phone>").as_deref(), Some("tel:+15550100"));
        assert_eq!(canonical("tel:+1 555 0199").as_deref(), Some("sip:+15550199@ims.test"));
        assert_eq!(canonical("sip:a@IMS.test").as_deref(), Some("sip:a@ims.test"), "configured as dialled");
        assert_eq!(canonical("tel:+15550101"), None);
        assert_eq!(hss.impi_of_impu("sip:+15550100@elsewhere"), Some("a@ims.test"));
    }

    #[test]
    fn a_number_named_twice_stays_known_when_one_identity_goes() {
        // Two identities of one subscriber name +15550100; impu_del of the one indexed
        // leaves the number to the other, and deleting both makes it unknown.
        let cfg = "{ domain: \"ims.test\", ue_db: [ { impi: \"a@ims.test\", imsi: \"001010000000001\", authent_type: \"none\", impu: [\"tel:+15550100\", \"sip:+15550100\"] } ] }";
        let loaded = crate::config::load_str("test", cfg, std::path::Path::new(".")).expect("test config loads");
        let mut hss = Hss::from_config(&loaded.config).expect("test HSS");
        let dialled = normalize_impu("sip:+1-555-0100@ims.test;user=phone");
        let first = hss.canonical_impu(&dialled).map(str::to_owned).expect("the number is known");
        hss.remove_impu("a@ims.test", &first).expect("impu_del");
        let other = if first == "tel:+15550100" { "sip:+15550100@ims.test" } else { "tel:+15550100" };
        assert_eq!(hss.canonical_impu(&dialled), Some(other));
        assert_eq!(hss.impi_of_impu("tel:+15550100"), Some("a@ims.test"));
        hss.remove_impu("a@ims.test", other).expect("impu_del");
        assert_eq!(hss.canonical_impu(&dialled), None);
        assert_eq!(hss.impi_of_impu("tel:+15550100"), None);
    }

    #[test]
    fn imsi_identities() {
        assert_eq!(imsi_of_identity("001010123456789@ims.mnc001.mcc001.3gppnetwork.org"), Some("001010123456789"));
        assert_eq!(imsi_of_identity("alice@ims"), None);
    }
}

