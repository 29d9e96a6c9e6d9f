//! SIP codec benchmarks: parse (+ validate + the accessors a proxy touches) and serialize
//! (rebuild an equivalent message with the builder) for (a) a REGISTER with an AKA
//! Authorization, (b) a 200 OK to REGISTER with Service-Route/P-Associated-URI/Path/Contact,
//! (c) an INVITE with SDP; plus the 200 OK built from the request (RFC 3261 8.2.6) and
//! rsip's parse of (c) for comparison. `worker/` and `control/` repeat what the two
//! threads do with every REGISTER: parse + validate + the transaction view, and parse +
//! the digest credentials the registrar reads.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ringcore::sip::fuzzing::{INVITE_SDP, OK_REGISTER, REGISTER_AKA};
use ringcore::sip::{Builder, HeaderName, Message, StartLine, TxView};
use std::convert::TryFrom;

/// Parse, validate and read the fields a proxy needs.
fn parse(data: &[u8]) -> usize {
    let m = Message::parse(data).expect("bench message parses");
    m.validate().expect("bench message validates");
    let via = m.via_top().expect("via");
    let cseq = m.cseq().expect("cseq");
    via.branch().map_or(0, <[u8]>::len) + cseq.seq as usize + m.call_id().map_or(0, <[u8]>::len) + m.body().len()
}

/// The worker's share of a request: parse, validate and the transaction-layer view.
fn worker(data: &[u8]) -> usize {
    let m = Message::parse(data).expect("bench message parses");
    m.validate().expect("bench message validates");
    let tx = TxView::new(&m).expect("transaction fields");
    tx.message().map_or(0, Message::header_count)
}

/// The control thread's share of a REGISTER: parse again and read every digest field the
/// registrar uses (as control/register.rs does).
fn control(data: &[u8]) -> usize {
    let m = Message::parse(data).expect("bench message parses");
    let a = m.authorization().expect("authorization parses").expect("present");
    let names: [&[u8]; 10] =
        [b"username", b"realm", b"nonce", b"uri", b"response", b"algorithm", b"qop", b"nc", b"cnonce", b"auts"];
    names.iter().map(|n| a.get(n).map_or(0, <[u8]>::len)).sum()
}

/// Rebuild `m` with the builder: start line, every header copied raw, Content-Length, body.
fn serialize(m: &Message<'_>, out: &mut [u8]) -> usize {
    let mut b = match m.start_line() {
        StartLine::Request { method, uri, .. } => Builder::request(out, method, uri),
        StartLine::Response { code, reason, .. } => Builder::response(out, code, reason),
    }
    .expect("fits");
    for h in m.headers().filter(|h| h.name != HeaderName::ContentLength) {
        b.header_raw(h.raw_name, h.value).expect("fits");
    }
    b.finish(m.body()).expect("fits")
}

/// 200 OK to the REGISTER per RFC 3261 8.2.6 plus the IMS registration headers.
fn respond_register(req: &Message<'_>, out: &mut [u8]) -> usize {
    let mut b = Builder::response_to(out, req, 200, b"OK", b"srv1").expect("fits");
    b.header(HeaderName::Path, b"<sip:term@pcscf.ims.mnc001.mcc001.3gppnetwork.org:5060;lr>").expect("fits");
    b.header(HeaderName::ServiceRoute, b"<sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>").expect("fits");
    b.header(HeaderName::PAssociatedUri, b"<sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>, <tel:+15551234567>").expect("fits");
    b.header(HeaderName::Contact, b"<sip:001010000000001@[2001:db8:1::10]:5062>;expires=600000").expect("fits");
    b.finish(b"").expect("fits")
}

fn bench(c: &mut Criterion) {
    let cases: [(&str, &[u8]); 3] = [("register_aka", REGISTER_AKA), ("ok_register", OK_REGISTER), ("invite_sdp", INVITE_SDP)];
    let mut g = c.benchmark_group("sip");
    for (name, data) in cases {
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(format!("parse/{name}"), |b| b.iter(|| parse(black_box(data))));
        g.bench_function(format!("index_only/{name}"), |b| b.iter(|| Message::parse(black_box(data)).map(|m| m.header_count())));
        let m = Message::parse(data).expect("parses");
        let mut out = [0u8; 4096];
        g.bench_function(format!("serialize/{name}"), |b| b.iter(|| serialize(black_box(&m), &mut out)));
    }
    g.throughput(Throughput::Bytes(REGISTER_AKA.len() as u64));
    g.bench_function("worker/register_aka", |b| b.iter(|| worker(black_box(REGISTER_AKA))));
    g.bench_function("control/register_aka", |b| b.iter(|| control(black_box(REGISTER_AKA))));
    let req = Message::parse(REGISTER_AKA).expect("parses");
    let mut out = [0u8; 2048];
    g.bench_function("respond/200_ok_register", |b| b.iter(|| respond_register(black_box(&req), &mut out)));
    g.bench_function("respond/100_trying_invite", |b| {
        let inv = Message::parse(INVITE_SDP).expect("parses");
        b.iter(|| Builder::response_to(&mut out, black_box(&inv), 100, b"Trying", b"").and_then(|b| b.finish(b"")))
    });
    // rsip 0.4 rejects the tel: Request-URI of (c); compare on the same INVITE with a sip:
    // Request-URI and To.
    let sip_invite = String::from_utf8_lossy(INVITE_SDP)
        .replace("tel:+15557654321;phone-context=ims.mnc001.mcc001.3gppnetwork.org", "sip:+15557654321@ims.mnc001.mcc001.3gppnetwork.org");
    let rsip_ok = rsip::SipMessage::try_from(sip_invite.as_bytes()).is_ok();
    g.bench_function("parse/invite_sdp_sip_uri", |b| b.iter(|| parse(black_box(sip_invite.as_bytes()))));
    if rsip_ok {
        g.bench_function("rsip_parse/invite_sdp_sip_uri", |b| {
            b.iter(|| rsip::SipMessage::try_from(black_box(sip_invite.as_bytes())).is_ok())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
