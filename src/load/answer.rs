//! The UE's answer to a digest challenge (WWW-Authenticate in a 401): MD5 with the
//! password (RFC 2617 3.2.2), AKAv1-MD5 with RES as the password (RFC 3310 3.4),
//! AKAv2-MD5 with the RFC 4169 password, and AUTS on an SQN out of range (RFC 3310 3.5,
//! TS 33.102 6.3.3). qop=auth is answered with nc=00000001 and a per-UE cnonce.

use std::fmt::Write as _;

use crate::auth::digest::{self, AkaVersion, DigestInput, Qop};
use crate::auth::{self, Sim, Sqn, SqnParams, UeAuthOutcome, UeSqnStore};
use crate::sip::{Algorithm, Auth};

use super::metrics::Cause;
use super::profile::Identity;

/// The USIM side a UE answers AKA challenges with.
pub struct Usim<'a> {
    /// The SIM algorithm bound to K.
    pub sim: &'a Sim,
    /// The UE's SQN store (`None`: XOR test SIMs, which accept any SQN).
    pub store: Option<&'a mut UeSqnStore>,
}

/// Builds the Authorization value answering `ch` for a request `method` to `uri`;
/// `cnonce` is any per-UE token. Errors say why no answer could be made.
pub fn authorization(
    ch: &Auth<'_>,
    id: &Identity,
    usim: Option<Usim<'_>>,
    method: &str,
    uri: &str,
    cnonce: &str,
) -> Result<String, Cause> {
    let realm = ch.realm().unwrap_or(b"");
    let nonce = ch.nonce().ok_or(Cause::AuthFailed)?;
    let algo = ch.algorithm();
    let mut auts_text = String::new();
    let password: Vec<u8> = match algo {
        Algorithm::Md5 => id.password.as_bytes().to_vec(),
        Algorithm::AkaV1Md5 | Algorithm::AkaV2Md5 => {
            let usim = usim.ok_or(Cause::AuthFailed)?;
            let text = std::str::from_utf8(nonce).map_err(|_| Cause::AuthFailed)?;
            let n = digest::decode_aka_nonce(text).map_err(|_| Cause::AuthFailed)?;
            let mut scratch;
            let store = match usim.store {
                Some(s) => s,
                None => {
                    // XOR SIMs ignore the store; a fresh one keeps the call total.
                    scratch = UeSqnStore::new(Sqn::new(0).ok_or(Cause::AuthFailed)?, SqnParams::DEFAULT)
                        .map_err(|_| Cause::AuthFailed)?;
                    &mut scratch
                }
            };
            match auth::ue_authenticate(usim.sim, store, &n.rand, &n.autn) {
                UeAuthOutcome::Success { res, ck, ik } => {
                    let v = if algo == Algorithm::AkaV2Md5 { AkaVersion::V2 } else { AkaVersion::V1 };
                    digest::aka_password(v, res.as_slice(), ik.as_slice(), ck.as_slice()).as_slice().to_vec()
                }
                UeAuthOutcome::SyncFailure { auts } => {
                    // RFC 3310 3.5: answer with AUTS and an empty password.
                    let mut b = [0u8; digest::MAX_AUTS_CHARS];
                    let n = digest::encode_auts(auts.as_slice(), &mut b).map_err(|_| Cause::AuthFailed)?;
                    auts_text.push_str(std::str::from_utf8(b.get(..n).unwrap_or(&[])).unwrap_or(""));
                    Vec::new()
                }
                UeAuthOutcome::MacFailure => return Err(Cause::AuthFailed),
            }
        }
        Algorithm::Md5Sess | Algorithm::Other(_) => return Err(Cause::AuthFailed),
    };
    let qop_auth = ch.offers_qop(b"auth");
    let qop = if qop_auth { Qop::Auth { nc: b"00000001", cnonce: cnonce.as_bytes() } } else { Qop::None };
    let response = digest::compute_response(&DigestInput {
        username: id.impi.as_bytes(),
        realm,
        password: &password,
        method: method.as_bytes(),
        uri: uri.as_bytes(),
        nonce,
        qop,
        body: &[],
    });
    let algo_name = match algo {
        Algorithm::AkaV1Md5 => "AKAv1-MD5",
        Algorithm::AkaV2Md5 => "AKAv2-MD5",
        _ => "MD5",
    };
    let mut v = String::with_capacity(256);
    // Writing into a String cannot fail.
    let _ = write!(
        v,
        "Digest username=\"{}\",realm=\"{}\",nonce=\"{}\",uri=\"{uri}\",response=\"{}\",algorithm={algo_name}",
        id.impi,
        String::from_utf8_lossy(realm),
        String::from_utf8_lossy(nonce),
        response.as_str()
    );
    if qop_auth {
        let _ = write!(v, ",qop=auth,nc=00000001,cnonce=\"{cnonce}\"");
    }
    if let Some(o) = ch.opaque() {
        let _ = write!(v, ",opaque=\"{}\"", String::from_utf8_lossy(o));
    }
    if !auts_text.is_empty() {
        let _ = write!(v, ",auts=\"{auts_text}\"");
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::SimAlgo;
    use crate::load::profile::Population;

    fn identity() -> Identity {
        Population::default_range().identity(0)
    }

    #[test]
    fn md5_answer_matches_rfc2617_computation() {
        let mut id = identity();
        id.password = "secret".into();
        let ch = Auth::parse(b"Digest realm=\"d\",nonce=\"abc\",algorithm=MD5,qop=\"auth\"").unwrap_or_else(|e| panic!("{e:?}"));
        let v = authorization(&ch, &id, None, "REGISTER", "sip:d", "cn1").unwrap_or_else(|c| panic!("{c:?}"));
        let expect = digest::compute_response(&DigestInput {
            username: id.impi.as_bytes(),
            realm: b"d",
            password: b"secret",
            method: b"REGISTER",
            uri: b"sip:d",
            nonce: b"abc",
            qop: Qop::Auth { nc: b"00000001", cnonce: b"cn1" },
            body: &[],
        });
        assert!(v.contains(&format!("response=\"{}\"", expect.as_str())), "{v}");
        assert!(v.contains("qop=auth,nc=00000001,cnonce=\"cn1\""), "{v}");
    }

    #[test]
    fn akav1_answer_uses_res_and_a_forged_autn_fails() {
        let k = [7u8; 16];
        let sim = Sim::new(&k, &SimAlgo::Xor { res_len: 8 }).unwrap_or_else(|e| panic!("{e}"));
        let v = auth::generate_vector(&sim, Sqn::new(5).unwrap_or_else(|| unreachable!()), [0x80, 0], [3u8; 16]);
        let mut autn = [0u8; 16];
        autn.copy_from_slice(v.autn.as_slice());
        let nonce = digest::encode_aka_nonce_string(&v.rand, &autn, &[]).unwrap_or_else(|e| panic!("{e}"));
        let hdr = format!("Digest realm=\"d\",nonce=\"{nonce}\",algorithm=AKAv1-MD5");
        let ch = Auth::parse(hdr.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
        let id = identity();
        let ans = authorization(&ch, &id, Some(Usim { sim: &sim, store: None }), "REGISTER", "sip:d", "c")
            .unwrap_or_else(|c| panic!("{c:?}"));
        let expect = digest::compute_response(&DigestInput {
            username: id.impi.as_bytes(),
            realm: b"d",
            password: v.xres.as_slice(),
            method: b"REGISTER",
            uri: b"sip:d",
            nonce: nonce.as_bytes(),
            qop: Qop::None,
            body: &[],
        });
        assert!(ans.contains(expect.as_str()), "{ans}");
        let other = Sim::new(&[8u8; 16], &SimAlgo::Xor { res_len: 8 }).unwrap_or_else(|e| panic!("{e}"));
        let r = authorization(&ch, &id, Some(Usim { sim: &other, store: None }), "REGISTER", "sip:d", "c");
        assert_eq!(r, Err(Cause::AuthFailed), "MAC failure with another K");
    }
}
