//! Differential test against the rsip crate: on messages both parsers understand, the
//! method/status, Call-ID, CSeq, From/To URIs and tags, top Via branch, Content-Length and
//! body length must agree.

use ringcore::sip::fuzzing::CORPUS;
use ringcore::sip::Message;
use rsip::prelude::*;
use std::convert::TryFrom;
use std::path::PathBuf;

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn host(h: &[u8]) -> String {
    s(h.strip_prefix(b"[").and_then(|x| x.strip_suffix(b"]")).unwrap_or(h))
}

/// What is compared, as strings; URI parts are `None` where the oracle cannot say.
#[derive(Debug, PartialEq)]
struct Fields {
    start: String,
    call_id: String,
    cseq: (u32, String),
    from_uri: Option<(Option<String>, String)>,
    from_tag: Option<String>,
    to_uri: Option<(Option<String>, String)>,
    to_tag: Option<String>,
    branch: Option<Option<String>>,
    content_length: Option<u32>,
    body_len: usize,
}

/// rsip's view, or `None` if rsip does not understand the message (compact header
/// forms, which rsip 0.4 does not map, or a parse failure).
fn theirs(data: &[u8]) -> Option<Fields> {
    let m = rsip::SipMessage::try_from(data).ok()?;
    let start = match &m {
        rsip::SipMessage::Request(r) => r.method.to_string(),
        rsip::SipMessage::Response(r) => r.status_code.code().to_string(),
    };
    let cseq = m.cseq_header().ok()?.typed().ok()?;
    let (from, to) = (m.from_header().ok()?, m.to_header().ok()?);
    // rsip 0.4 mis-splits bare addr-specs (`From: sip:u@h;tag=x`) and cannot type an IPv6
    // Via sent-by: compare URIs only in name-addr form and the branch where it can.
    let uri = |v: &str, u: Result<rsip::Uri, rsip::Error>| {
        let u = u.ok().filter(|_| v.contains('<'))?;
        Some((u.user().map(str::to_owned), u.host_with_port.host.to_string()))
    };
    let cl = m.headers().iter().find_map(|h| match h {
        rsip::Header::ContentLength(cl) => cl.length().ok(),
        _ => None,
    });
    Some(Fields {
        start,
        call_id: m.call_id_header().ok()?.value().trim().to_owned(),
        cseq: (cseq.seq, cseq.method.to_string()),
        from_uri: uri(from.value(), from.uri()),
        from_tag: from.tag().ok()?.map(|t| t.to_string()),
        to_uri: uri(to.value(), to.uri()),
        to_tag: to.tag().ok()?.map(|t| t.to_string()),
        branch: m.via_header().ok()?.typed().ok().map(|v| v.branch().map(|b| b.to_string())),
        content_length: cl,
        body_len: m.body().len(),
    })
}

/// Our view, masked where the oracle could not say.
fn ours(data: &[u8], mask: &Fields) -> Fields {
    let m = Message::parse(data).expect("ours must parse what rsip parses");
    let start = match (m.method(), m.status()) {
        (Some(meth), _) => s(meth.as_bytes()),
        (None, code) => code.unwrap().to_string(),
    };
    let cseq = m.cseq().unwrap();
    let (from, to) = (m.from().unwrap(), m.to().unwrap());
    let uri = |u: &ringcore::sip::Uri| (u.user.map(s), host(u.host));
    Fields {
        start,
        call_id: s(m.call_id().unwrap()),
        cseq: (cseq.seq, s(cseq.method.as_bytes())),
        from_uri: mask.from_uri.as_ref().map(|_| uri(&from.uri)),
        from_tag: from.tag().map(s),
        to_uri: mask.to_uri.as_ref().map(|_| uri(&to.uri)),
        to_tag: to.tag().map(s),
        branch: mask.branch.as_ref().map(|_| m.via_top().unwrap().branch().map(s)),
        content_length: mask.content_length.and(m.content_length()),
        body_len: m.body().len(),
    }
}

fn compare(name: &str, data: &[u8]) -> bool {
    // rsip may panic on some torture inputs; those are outside the comparison.
    let Ok(Some(t)) = std::panic::catch_unwind(|| theirs(data)) else { return false };
    assert_eq!(ours(data, &t), t, "{name}");
    true
}

const SDP: &str = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 97\r\na=rtpmap:97 AMR/8000\r\n";

/// Long-form messages in the style rsip was written for.
fn plain() -> Vec<String> {
    let invite = format!(
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.example.com>\r\nFrom: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\nCSeq: 314159 INVITE\r\nContact: <sip:alice@pc33.atlanta.example.com>\r\n\
Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    );
    let ok = invite
        .replacen("INVITE sip:bob@biloxi.example.com SIP/2.0", "SIP/2.0 200 OK", 1)
        .replacen("Bob <sip:bob@biloxi.example.com>", "Bob <sip:bob@biloxi.example.com>;tag=a6c85cf", 1);
    let bye = "BYE sip:alice@pc33.atlanta.example.com SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKnashds10\r\n\
Max-Forwards: 70\r\nFrom: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\nTo: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\nCSeq: 231 BYE\r\nContent-Length: 0\r\n\r\n";
    let options = bye.replace("BYE sip:alice@pc33.atlanta.example.com", "OPTIONS sip:alice@pc33.atlanta.example.com").replace("231 BYE", "232 OPTIONS");
    vec![invite, ok, bye.to_owned(), options]
}

#[test]
fn agrees_with_rsip_on_ordinary_messages() {
    for (i, m) in plain().iter().enumerate() {
        assert!(compare(&format!("plain[{i}]"), m.as_bytes()), "rsip rejected plain[{i}]");
    }
    let compared: Vec<usize> = (0..CORPUS.len()).filter(|&i| compare(&format!("corpus[{i}]"), CORPUS[i])).collect();
    // The long-form corpus messages must be understood by both, or the test proves nothing.
    eprintln!("corpus compared with rsip: {compared:?}");
    assert!(compared.len() >= 4, "rsip understood only {compared:?}");
}

#[test]
fn agrees_with_rsip_on_valid_torture_messages() {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/data/rfc4475/valid"].iter().collect();
    let mut compared = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        let data = std::fs::read(&p).unwrap();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if compare(&name, &data) {
            compared.push(name);
        }
    }
    eprintln!("compared with rsip: {compared:?}");
    assert!(compared.len() >= 8, "only {compared:?} compared");
}
