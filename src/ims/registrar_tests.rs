//! Registrar flows on a virtual clock with a real HSS: MD5 and AKA
//! challenges answered by a UE-side computation (the same code ringload
//! uses), failures, stale nonces, resynchronisation and de-registration.

use super::bindings::Flow;
use super::challenge::{DigestAlgo, Qop};
use super::hss::{Hss, PublicId, Subscriber};
use super::register_input::{ContactInput, ContactsInput, DigestCredentials, RegisterInput};
use super::registrar::{RegisterOutcome, Registrar, RegistrarConfig, MAX_AUTH_FAILURES};
use crate::auth::{self, digest, HeSqn, Sqn, SqnParams, UeAuthOutcome, UeSqnStore};
use crate::config::typed::AuthentType;
use std::time::{Duration, Instant};

const REALM: &str = "ims.mnc001.mcc001.3gppnetwork.org";
const IMPU: &str = "sip:001010123456789@ims.mnc001.mcc001.3gppnetwork.org";
const K: [u8; 16] = [0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc];
const OPC: [u8; 16] = [0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf];

fn milenage() -> auth::Sim {
    auth::Sim::new(&K, &auth::SimAlgo::milenage(auth::OpVariant::Opc(OPC))).unwrap()
}

fn subscriber(impi: &str, authent: AuthentType, pwd: Option<&str>) -> Subscriber {
    Subscriber {
        impi: impi.into(),
        imsi: Some("001010123456789".into()),
        impus: vec![
            PublicId { uri: IMPU.into(), authentication: true, associated: true, preferred: true, imei: None },
            PublicId { uri: "tel:+33612345678".into(), authentication: true, associated: true, preferred: false, imei: None },
        ],
        multi_sim: false,
        authent_type: authent,
        qop: Qop::Auth,
        pwd: pwd.map(str::to_owned),
        sim: Some(milenage()),
        amf: [0x80, 0x00],
        sqn: HeSqn::new(Sqn::new(0x20).unwrap(), SqnParams::DEFAULT).unwrap(),
    }
}

fn registrar(sub: Subscriber) -> Registrar {
    let mut hss = Hss::default();
    hss.insert(sub).unwrap();
    let cfg = RegistrarConfig {
        domain: REALM.into(),
        binding_expires: 3600,
        max_expires: 864000,
        path: Some("<sip:pcscf.ims;lr>".into()),
        service_route: "<sip:orig@scscf.ims;lr>".into(),
        max_records: 100,
    };
    Registrar::new(cfg, hss, 7)
}

fn flow() -> Flow {
    Flow { worker: 0, conn: None, peer: "127.0.0.1:5062".parse().unwrap(), tcp: false, sock: 0 }
}

fn register<'a>(cseq: u32, auth: Option<DigestCredentials<'a>>, expires: Option<u32>) -> RegisterInput<'a> {
    RegisterInput {
        impu: IMPU,
        method: "REGISTER",
        auth,
        contacts: ContactsInput::List(vec![ContactInput { uri: "sip:ue@127.0.0.1:5062", sms: true, ..Default::default() }]),
        expires,
        call_id: "reg-1",
        cseq,
        path: vec![],
        supports_path: true,
        emergency: false,
        flow: flow(),
    }
}

fn challenge_of(o: RegisterOutcome) -> super::challenge::Challenge {
    match o {
        RegisterOutcome::Challenge(c) => c,
        other => panic!("expected a 401 challenge, got {other:?}"),
    }
}

/// What a UE answers: the digest response over `password`.
fn answer(ch: &super::challenge::Challenge, impi: &str, password: &[u8]) -> String {
    digest::compute_response(&digest::DigestInput {
        username: impi.as_bytes(),
        realm: REALM.as_bytes(),
        password,
        method: b"REGISTER",
        uri: b"sip:ims.mnc001.mcc001.3gppnetwork.org",
        nonce: ch.nonce.as_bytes(),
        qop: digest::Qop::Auth { nc: b"00000001", cnonce: b"0a4f113b" },
        body: &[],
    })
    .as_str()
    .to_owned()
}

fn creds<'a>(impi: &'a str, nonce: &'a str, response: &'a str, algo: &'a str) -> DigestCredentials<'a> {
    DigestCredentials {
        username: impi,
        realm: REALM,
        nonce,
        uri: "sip:ims.mnc001.mcc001.3gppnetwork.org",
        response,
        algorithm: Some(algo),
        qop: Some("auth"),
        nc: Some("00000001"),
        cnonce: Some("0a4f113b"),
        auts: None,
    }
}

/// The UE side of AKA: verifies AUTN and returns the digest password.
fn ue_password(ch: &super::challenge::Challenge, store: &mut UeSqnStore, v2: bool) -> Result<Vec<u8>, Vec<u8>> {
    let n = digest::decode_aka_nonce(&ch.nonce).unwrap();
    match auth::ue_authenticate(&milenage(), store, &n.rand, &n.autn) {
        UeAuthOutcome::Success { res, ck, ik } if v2 => Ok(digest::akav2_password(res.as_slice(), ik.as_slice(), ck.as_slice()).to_vec()),
        UeAuthOutcome::Success { res, .. } => Ok(res.as_slice().to_vec()),
        UeAuthOutcome::SyncFailure { auts } => Err(auts.as_slice().to_vec()),
        UeAuthOutcome::MacFailure => panic!("MAC failure: the network used the wrong K"),
    }
}

#[test]
fn akav1_register_then_200_with_associated_uris_and_binding() {
    let impi = "001010123456789@ims.mnc001.mcc001.3gppnetwork.org";
    let mut r = registrar(subscriber(impi, AuthentType::AkaV1, None));
    let now = Instant::now();
    let ch = challenge_of(r.handle_register(now, &register(1, None, Some(600))));
    assert_eq!(ch.algo, DigestAlgo::AkaV1);
    assert!(ch.www_authenticate().contains("algorithm=AKAv1-MD5"));
    let mut store = UeSqnStore::new(Sqn::new(0).unwrap(), SqnParams::DEFAULT).unwrap();
    let pw = ue_password(&ch, &mut store, false).unwrap();
    let resp = answer(&ch, impi, &pw);
    match r.handle_register(now, &register(2, Some(creds(impi, &ch.nonce, &resp, "AKAv1-MD5")), Some(600))) {
        RegisterOutcome::Ok(ok) => {
            assert_eq!(ok.associated, vec![IMPU.to_string(), "tel:+33612345678".to_string()]);
            assert_eq!(ok.path.as_deref(), Some("<sip:pcscf.ims;lr>"));
            let rec = ok.record.unwrap();
            assert_eq!(rec.contacts.len(), 1);
            assert!(rec.contacts[0].sms);
            assert_eq!(rec.contacts[0].expires_at, now + Duration::from_secs(600));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.bindings.lookup("tel:+33612345678").count(), 1);
}

#[test]
fn akav2_and_md5_register() {
    let impi = "alice@ims";
    let mut r = registrar(subscriber(impi, AuthentType::AkaV1, Some("secret")));
    let now = Instant::now();
    let mut store = UeSqnStore::new(Sqn::new(0).unwrap(), SqnParams::DEFAULT).unwrap();
    let a = creds(impi, "", "", "AKAv2-MD5");
    let ch = challenge_of(r.handle_register(now, &register(1, Some(a), None)));
    assert_eq!(ch.algo, DigestAlgo::AkaV2);
    let pw = ue_password(&ch, &mut store, true).unwrap();
    let resp = answer(&ch, impi, &pw);
    assert!(matches!(r.handle_register(now, &register(2, Some(creds(impi, &ch.nonce, &resp, "AKAv2-MD5")), None)), RegisterOutcome::Ok(_)));

    // MD5 is below authent_type AKAv1: refused.
    let md5 = creds(impi, "", "", "MD5");
    assert!(matches!(r.handle_register(now, &register(3, Some(md5), None)), RegisterOutcome::Reject { code: 403, .. }));

    let mut r = registrar(subscriber(impi, AuthentType::Md5, Some("secret")));
    let ch = challenge_of(r.handle_register(now, &register(1, None, None)));
    assert_eq!(ch.algo, DigestAlgo::Md5);
    let resp = answer(&ch, impi, b"secret");
    assert!(matches!(r.handle_register(now, &register(2, Some(creds(impi, &ch.nonce, &resp, "MD5")), None)), RegisterOutcome::Ok(_)));
}

#[test]
fn wrong_response_rechallenges_then_403_and_changes_nothing() {
    let impi = "bob@ims";
    let mut r = registrar(subscriber(impi, AuthentType::Md5, Some("secret")));
    let now = Instant::now();
    let mut ch = challenge_of(r.handle_register(now, &register(1, None, None)));
    for attempt in 1..=MAX_AUTH_FAILURES {
        let bad = answer(&ch, impi, b"wrong");
        let out = r.handle_register(now, &register(1 + attempt, Some(creds(impi, &ch.nonce, &bad, "MD5")), None));
        if attempt < MAX_AUTH_FAILURES {
            let next = challenge_of(out);
            assert_ne!(next.nonce, ch.nonce, "a fresh nonce after a failure");
            ch = next;
        } else {
            assert!(matches!(out, RegisterOutcome::Reject { code: 403, .. }), "{out:?}");
        }
    }
    assert!(r.bindings.is_empty());
}

#[test]
fn unknown_nonce_is_stale_and_unknown_user_is_403() {
    let impi = "carol@ims";
    let mut r = registrar(subscriber(impi, AuthentType::Md5, Some("pw")));
    let now = Instant::now();
    let out = r.handle_register(now, &register(1, Some(creds(impi, "bm9uY2U=", "00112233445566778899aabbccddeeff", "MD5")), None));
    assert!(challenge_of(out).www_authenticate().contains("stale=TRUE"));
    let ghost = creds("ghost@ims", "", "", "MD5");
    assert!(matches!(r.handle_register(now, &register(1, Some(ghost), None)), RegisterOutcome::Reject { code: 403, .. }));
    // A nonce older than its lifetime is stale too.
    let ch = challenge_of(r.handle_register(now, &register(2, None, None)));
    let late = now + super::registrar::NONCE_LIFETIME + Duration::from_secs(1);
    let resp = answer(&ch, impi, b"pw");
    let out = r.handle_register(late, &register(3, Some(creds(impi, &ch.nonce, &resp, "MD5")), None));
    assert!(challenge_of(out).stale);
}

#[test]
fn sqn_out_of_range_recovers_through_auts() {
    let impi = "dave@ims";
    let mut r = registrar(subscriber(impi, AuthentType::AkaV1, None));
    let now = Instant::now();
    // The USIM has seen a much higher SQN than the HSS (e.g. another network used it).
    let mut store = UeSqnStore::new(Sqn::new(0x10_0000).unwrap(), SqnParams::DEFAULT).unwrap();
    let ch = challenge_of(r.handle_register(now, &register(1, None, None)));
    let auts_bytes = ue_password(&ch, &mut store, false).expect_err("the USIM must ask for resync");
    let mut buf = [0u8; 64];
    let n = digest::encode_auts(&auts_bytes, &mut buf).unwrap();
    let auts = std::str::from_utf8(&buf[..n]).unwrap().to_owned();
    let mut c = creds(impi, &ch.nonce, "", "AKAv1-MD5");
    c.response = "00000000000000000000000000000000";
    c.auts = Some(&auts);
    let ch2 = challenge_of(r.handle_register(now, &register(2, Some(c), None)));
    let pw = ue_password(&ch2, &mut store, false).expect("fresh SQN after resync");
    let resp = answer(&ch2, impi, &pw);
    assert!(matches!(r.handle_register(now, &register(3, Some(creds(impi, &ch2.nonce, &resp, "AKAv1-MD5")), None)), RegisterOutcome::Ok(_)));
}

#[test]
fn deregistration_with_expires_zero_and_star() {
    let impi = "erin@ims";
    let mut s = subscriber(impi, AuthentType::None, None);
    s.sim = None;
    let mut r = registrar(s);
    let now = Instant::now();
    assert!(matches!(r.handle_register(now, &register(1, None, Some(600))), RegisterOutcome::Ok(_)));
    assert_eq!(r.bindings.contact_count(), 1);
    match r.handle_register(now, &register(2, None, Some(0))) {
        RegisterOutcome::Ok(ok) => assert!(ok.record.is_none()),
        other => panic!("{other:?}"),
    }
    assert!(r.bindings.is_empty());
    assert!(matches!(r.handle_register(now, &register(3, None, Some(600))), RegisterOutcome::Ok(_)));
    let mut star = register(4, None, Some(0));
    star.contacts = ContactsInput::Star;
    assert!(matches!(r.handle_register(now, &star), RegisterOutcome::Ok(_)));
    assert!(r.bindings.is_empty());
    let mut bad_star = register(5, None, Some(60));
    bad_star.contacts = ContactsInput::Star;
    assert!(matches!(r.handle_register(now, &bad_star), RegisterOutcome::Reject { code: 400, .. }));
}

#[test]
fn binding_expires_on_the_virtual_clock() {
    let impi = "frank@ims";
    let mut s = subscriber(impi, AuthentType::None, None);
    s.sim = None;
    let mut r = registrar(s);
    let now = Instant::now();
    assert!(matches!(r.handle_register(now, &register(1, None, Some(30))), RegisterOutcome::Ok(_)));
    assert_eq!(r.poll_timeout(), Some(now + Duration::from_secs(30)));
    r.handle_timeout(now + Duration::from_secs(29));
    assert_eq!(r.bindings.contact_count(), 1);
    r.handle_timeout(now + Duration::from_secs(30));
    assert!(r.bindings.is_empty());
}
