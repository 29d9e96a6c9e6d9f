//! RFC 4475 torture tests: every valid message parses and validates with the expected
//! fields; every invalid message is rejected by parse or validate.

use ringcore::sip::{Contact, Error, HeaderName, Message, Method, Scheme};
use std::path::PathBuf;

fn load(kind: &str, name: &str) -> Vec<u8> {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/data/rfc4475", kind, &format!("{name}.sip")]
        .iter()
        .collect();
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn names(kind: &str) -> Vec<String> {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/data/rfc4475", kind].iter().collect();
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sip"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// (name, method text or status code, Call-ID, CSeq number, CSeq method)
const VALID: &[(&str, &str, &str, u32, &str)] = &[
    ("badbranch", "OPTIONS", "badbranch.sadonfo23i420jv0as0derf3j3n", 8, "OPTIONS"),
    ("bcast", "200", "bcast.0384840201234ksdfak3j2erwedfsASdf", 35, "INVITE"),
    ("bext01", "OPTIONS", "bext01.0ha0isndaksdj", 8, "OPTIONS"),
    ("cparam01", "REGISTER", "cparam01.70710@saturn.example.com", 2, "REGISTER"),
    ("cparam02", "REGISTER", "cparam02.70710@saturn.example.com", 3, "REGISTER"),
    ("dblreq", "REGISTER", "dblreq.0ha0isndaksdj99sdfafnl3lk233412", 8, "REGISTER"),
    ("esc01", "INVITE", "esc01.239409asdfakjkn23onasd0-3234", 234234, "INVITE"),
    ("esc02", "RE%47IST%45R", "esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf", 29344, "RE%47IST%45R"),
    ("escnull", "REGISTER", "escnull.39203ndfvkjdasfkq3w4otrq0adsf0", 3923239, "REGISTER"),
    ("intmeth", "!interesting-Method0123456789_*+`.%indeed'~", "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{", 139122385, "!interesting-Method0123456789_*+`.%indeed'~"),
    ("inv2543", "INVITE", "97284620@192.0.2.15", 1, "INVITE"),
    ("invut", "INVITE", "invut.0ha0isndaksdjadsfij34n23d", 235448, "INVITE"),
    ("longreq", "INVITE", "longreq.onereallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallylongcallid", 3882340, "INVITE"),
    ("lwsdisp", "OPTIONS", "lwsdisp.1234abcd@funky.example.com", 60, "OPTIONS"),
    ("mpart01", "MESSAGE", "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..", 1, "MESSAGE"),
    ("noreason", "100", "noreason.asndj203insdf99223ndf", 35, "INVITE"),
    ("novelsc", "OPTIONS", "novelsc.asdfasser0q239nwsdfasdkl34", 3923423, "OPTIONS"),
    ("regaut01", "REGISTER", "regaut01.0ha0isndaksdj", 9338, "REGISTER"),
    ("regescrt", "REGISTER", "regescrt.k345asrl3fdbv@192.0.2.1", 14398234, "REGISTER"),
    ("sdp01", "INVITE", "sdp01.ndaksdj9342dasdd", 8, "INVITE"),
    ("semiuri", "OPTIONS", "semiuri.0ha0isndaksdj", 8, "OPTIONS"),
    ("transports", "OPTIONS", "transports.kijh4akdnaqjkwendsasfdj", 60, "OPTIONS"),
    ("unkscm", "OPTIONS", "unkscm.nasdfasser0q239nwsdfasdkl34", 3923423, "OPTIONS"),
    ("unksm2", "REGISTER", "unksm2.daksdj@hyphenated-host.example.com", 234902, "REGISTER"),
    ("unreason", "200", "unreason.1234ksdfak3j2erwedfsASdf", 35, "INVITE"),
    ("wsinv", "INVITE", "wsinv.ndaksdj@192.0.2.1", 9, "INVITE"),
    ("zeromf", "OPTIONS", "zeromf.jfasdlfnm2o2l43r5u0asdfas", 39234321, "OPTIONS"),
];

#[test]
fn every_file_is_classified() {
    let listed: Vec<String> = VALID.iter().map(|v| v.0.to_string()).collect();
    assert_eq!(names("valid"), listed);
    assert_eq!(names("invalid").len(), INVALID.len());
}

#[test]
fn valid_messages_parse_with_expected_fields() {
    for &(name, start, call_id, seq, cseq_method) in VALID {
        let data = load("valid", name);
        let m = Message::parse(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
        if name == "inv2543" {
            assert_eq!(m.validate(), Err(Error::Missing(HeaderName::MaxForwards)), "{name}");
        } else {
            m.validate().unwrap_or_else(|e| panic!("{name}: validate: {e}"));
        }
        match m.status() {
            Some(code) => assert_eq!(code.to_string(), start, "{name}"),
            None => assert_eq!(m.method().unwrap().as_bytes(), start.as_bytes(), "{name}"),
        }
        assert_eq!(m.call_id().unwrap(), call_id.as_bytes(), "{name}");
        let cseq = m.cseq().unwrap();
        assert_eq!((cseq.seq, cseq.method.as_bytes()), (seq, cseq_method.as_bytes()), "{name}");
        assert!(m.via_top().is_ok(), "{name}");
        assert_eq!(m.body().len(), m.content_length().unwrap() as usize, "{name}");
    }
}

#[test]
fn wsinv_details() {
    let data = load("valid", "wsinv");
    let m = Message::parse(&data).unwrap();
    assert_eq!(m.to().unwrap().tag(), Some(&b"1918181833n"[..]));
    let from = m.from().unwrap();
    assert_eq!(from.display_name(), Some(&br#"J Rosenberg \\\""#[..]));
    assert_eq!(from.tag(), Some(&b"98asjd8"[..]));
    assert_eq!(m.max_forwards(), Ok(68));
    let vias: Vec<_> = m.vias().map(|v| v.unwrap()).collect();
    assert_eq!(vias.len(), 3);
    assert_eq!((vias[0].transport, vias[0].host), (&b"UDP"[..], &b"192.0.2.2"[..]));
    assert_eq!(vias[1].branch(), Some(&b"z9hG4bK9ikj8"[..]));
    assert_eq!((vias[2].host, vias[2].branch()), (&b"192.168.255.111"[..], Some(&b"z9hG4bK30239"[..])));
    assert_eq!(m.header(HeaderName::Subject), Some(&b""[..]));
    assert_eq!(m.headers_named(b"newfangledheader").next(), Some(&b"newfangled value\r\n continued newfangled value"[..]));
    assert_eq!(m.headers_named(b"UnknownHeaderWithUnusualValue").next(), Some(&b";;,,;;,;"[..]));
    let Contact::Addr(c) = m.contacts().next().unwrap().unwrap() else { panic!() };
    assert_eq!(c.display_name(), Some(&br#"Quoted string \"\""#[..]));
    assert_eq!(c.param(b"newparam"), Some(Some(&b"newvalue"[..])));
    assert_eq!(c.param(b"secondparam"), Some(None));
    assert_eq!(c.q(), Some(330));
    let r = m.routes().next().unwrap().unwrap();
    assert!(r.uri.lr());
    assert_eq!(r.uri.param(b"unknown-no-value"), Some(None));
    assert_eq!(m.request_uri().unwrap().param(b"unknownparam"), Some(None));
    assert_eq!(m.content_type().unwrap().value, b"application/sdp");
}

#[test]
fn intmeth_esc_and_uri_details() {
    let data = load("valid", "intmeth");
    let m = Message::parse(&data).unwrap();
    assert!(matches!(m.method(), Some(Method::Other(_))));
    let u = m.request_uri().unwrap();
    assert_eq!(u.user, Some(&b"1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"[..]));
    assert_eq!(u.password, Some(&b"&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"[..]));
    assert_eq!(m.via_top().unwrap().branch(), Some(&b"z9hG4bK-.!%66*_+`'~"[..]));
    assert_eq!(m.to().unwrap().display_name(), Some(&b"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f"[..]));
    let from = m.from().unwrap();
    assert_eq!(from.display, Some(&b"token1~` token2'+_ token3*%!.-"[..]));
    assert_eq!(from.tag(), Some(&b"_token~1'+`*%!-."[..]));

    let data = load("valid", "esc01");
    let m = Message::parse(&data).unwrap();
    assert_eq!(m.request_uri().unwrap().user, Some(&b"sips%3Auser%40example.com"[..]));
    let Contact::Addr(c) = m.contacts().next().unwrap().unwrap() else { panic!() };
    assert_eq!(c.uri.param(b"n%61me"), Some(Some(&b"v%61lue%25%31"[..])));

    let data = load("valid", "semiuri");
    let m = Message::parse(&data).unwrap();
    assert_eq!(m.request_uri().unwrap().user, Some(&b"user;par=u%40example.net"[..]));
    assert_eq!(m.header_values(HeaderName::Accept).count(), 6);

    let data = load("valid", "transports");
    let m = Message::parse(&data).unwrap();
    let t: Vec<_> = m.vias().map(|v| v.unwrap().transport).collect();
    assert_eq!(t, vec![&b"UDP"[..], b"SCTP", b"TLS", b"UNKNOWN", b"TCP"]);

    let data = load("valid", "unkscm");
    let m = Message::parse(&data).unwrap();
    assert_eq!(m.request_uri().unwrap().scheme, Scheme::Other(b"nobodyKnowsThisScheme"));
    let data = load("valid", "regaut01");
    let a = Message::parse(&data).unwrap().authorization().unwrap().unwrap();
    assert!(!a.is_digest());
    let data = load("valid", "badbranch");
    assert!(!Message::parse(&data).unwrap().via_top().unwrap().is_rfc3261_branch());
    let data = load("valid", "escnull");
    assert_eq!(Message::parse(&data).unwrap().contacts().count(), 2);
    let data = load("valid", "noreason");
    assert_eq!(Message::parse(&data).unwrap().reason(), Some(&b""[..]));
    let data = load("valid", "dblreq");
    let m = Message::parse(&data).unwrap();
    assert!(m.len() < data.len() && m.body().is_empty());
}

/// (name, expected error)
const INVALID: &[(&str, Error)] = &[
    ("badaspec", Error::Bad(HeaderName::To)),
    ("baddate", Error::Bad(HeaderName::Date)),
    ("baddn", Error::Bad(HeaderName::From)),
    ("badinv01", Error::Bad(HeaderName::Via)),
    ("badvers", Error::BadVersion),
    ("bigcode", Error::BadStatusCode),
    ("clerr", Error::ContentLengthTooLarge),
    ("escruri", Error::BadRequestUri),
    ("insuf", Error::Missing(HeaderName::From)),
    ("ltgtruri", Error::BadRequestUri),
    ("lwsruri", Error::BadRequestUri),
    ("lwsstart", Error::BadStartLine),
    ("mcl01", Error::Duplicate(HeaderName::ContentLength)),
    ("mismatch01", Error::CSeqMethodMismatch),
    ("mismatch02", Error::CSeqMethodMismatch),
    ("multi01", Error::Duplicate(HeaderName::From)),
    ("ncl", Error::BadContentLength),
    ("quotbal", Error::Bad(HeaderName::To)),
    ("regbadct", Error::Bad(HeaderName::Contact)),
    ("scalar02", Error::Bad(HeaderName::CSeq)),
    ("scalarlg", Error::Bad(HeaderName::CSeq)),
    ("trws", Error::BadRequestUri),
];

#[test]
fn invalid_messages_are_rejected() {
    for &(name, want) in INVALID {
        let data = load("invalid", name);
        let got = Message::parse(&data).and_then(|m| m.validate());
        assert_eq!(got, Err(want), "{name}");
    }
}
