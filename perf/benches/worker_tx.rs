//! The worker's per-call cost in the transaction path of a B2BUA call (what
//! `endpoint::Endpoint` does with each message, without sockets or the control queue):
//!
//! - `call/*`: one whole call through a [`TransactionLayer`] of 16,384 transactions, the
//!   clock advancing 0.5 ms per call (2,000 calls/s) so timers fire and lingering
//!   transactions are reclaimed as in production: INVITE from A (server transaction, 100
//!   Trying), the INVITE to B (`ToWorker::SendRequest`), 180 and 200 from B, 180 and 200 to A
//!   (`ToWorker::Respond`), the ACK from A (stray: ACK for 2xx), BYE from A, BYE to B, 200
//!   from B, 200 to A.
//! - `view/*`: only the parsing the worker does to feed the layer, per message.
//!
//! `*_full` is the path before the light views (`Message::parse` + `TxView::new` for every
//! command and message); `*_light` is what the endpoint does now.

use criterion::{black_box, criterion_group, Criterion};
use ringcore::sip::transaction::{Config, Inbound, TransactionLayer, TxId};
use ringcore::sip::{Message, TxView};
use std::time::{Duration, Instant};

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

/// Placeholder replaced by the call number in every message.
const N: &str = "NNNNNNNN";

fn with_body(head: &str, body: &str) -> String {
    let ct = if body.is_empty() { "" } else { "Content-Type: application/sdp\r\n" };
    format!("{head}{ct}Content-Length: {}\r\n\r\n{body}", body.len())
}

fn a_request(method: &str, branch: &str, cseq: u32, to_tag: &str, body: &str) -> String {
    with_body(
        &format!(
            "{method} sip:bob@10.0.0.2:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK-{N}-{branch};rport\r\n\
Max-Forwards: 70\r\nFrom: \"Alice\" <sip:alice@10.0.0.1:5061>;tag={N}a\r\nTo: <sip:bob@10.0.0.2:5060>{to_tag}\r\n\
Call-ID: {N}-a@10.0.0.1\r\nCSeq: {cseq} {method}\r\nContact: <sip:alice@10.0.0.1:5061>\r\n\
Subject: Performance Test\r\nUser-Agent: SIPp\r\n"
        ),
        body,
    )
}

/// What the control thread builds toward B (the B leg of the B2BUA).
fn b_request(method: &str, branch: &str, cseq: u32, to_tag: &str, body: &str) -> String {
    with_body(
        &format!(
            "{method} sip:bob@10.0.0.3:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK{N}{branch};rport\r\n\
Max-Forwards: 70\r\nFrom: <sip:alice@10.0.0.2>;tag={N}b\r\nTo: <sip:bob@10.0.0.3:5060>{to_tag}\r\n\
Call-ID: {N}-b@ringcore\r\nCSeq: {cseq} {method}\r\nContact: <sip:b2bua@10.0.0.2:5060>\r\n\
Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, PRACK\r\nSupported: timer, 100rel\r\n"
        ),
        body,
    )
}

/// A response to a B-leg request (from B) or to an A-leg request (built by control).
fn response(code: &str, via: &str, from: &str, to: &str, call_id: &str, cseq: &str, body: &str) -> String {
    with_body(
        &format!(
            "SIP/2.0 {code}\r\nVia: {via}\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq}\r\n\
Contact: <sip:peer@10.0.0.9:5060>\r\nServer: bench\r\n"
        ),
        body,
    )
}

/// One call's messages, with the offsets of the call number in each.
struct Msg {
    bytes: Vec<u8>,
    at: Vec<usize>,
}

impl Msg {
    fn new(text: String) -> Msg {
        let at = text.match_indices(N).map(|(i, _)| i).collect();
        Msg { bytes: text.into_bytes(), at }
    }

    /// Writes `call` as 8 decimal digits at every placeholder.
    fn set(&mut self, call: u64) {
        let mut digits = [b'0'; 8];
        let mut n = call;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        for &i in &self.at {
            self.bytes[i..i + 8].copy_from_slice(&digits);
        }
    }
}

struct Call {
    rx_invite: Msg,
    tx_invite: Msg,
    rx_180: Msg,
    tx_180: Msg,
    rx_200: Msg,
    tx_200: Msg,
    rx_ack: Msg,
    rx_bye: Msg,
    tx_bye: Msg,
    rx_bye_200: Msg,
    tx_bye_200: Msg,
}

impl Call {
    fn new() -> Call {
        let a_via = format!("SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK-{N}-inv;rport=5061;received=10.0.0.1");
        let a_bye_via = format!("SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK-{N}-bye;rport=5061;received=10.0.0.1");
        let b_via = format!("SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK{N}inv;rport=5060;received=10.0.0.2");
        let b_bye_via = format!("SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK{N}bye;rport=5060;received=10.0.0.2");
        let a_from = format!("\"Alice\" <sip:alice@10.0.0.1:5061>;tag={N}a");
        let a_to = format!("<sip:bob@10.0.0.2:5060>;tag={N}rc");
        let b_from = format!("<sip:alice@10.0.0.2>;tag={N}b");
        let b_to = format!("<sip:bob@10.0.0.3:5060>;tag={N}bt");
        let a_cid = format!("{N}-a@10.0.0.1");
        let b_cid = format!("{N}-b@ringcore");
        let a_tag = format!(";tag={N}rc");
        let b_tag = format!(";tag={N}bt");
        let m = Msg::new;
        Call {
            rx_invite: m(a_request("INVITE", "inv", 1, "", SDP)),
            tx_invite: m(b_request("INVITE", "inv", 1, "", SDP)),
            rx_180: m(response("180 Ringing", &b_via, &b_from, &b_to, &b_cid, "1 INVITE", "")),
            tx_180: m(response("180 Ringing", &a_via, &a_from, &a_to, &a_cid, "1 INVITE", "")),
            rx_200: m(response("200 OK", &b_via, &b_from, &b_to, &b_cid, "1 INVITE", SDP)),
            tx_200: m(response("200 OK", &a_via, &a_from, &a_to, &a_cid, "1 INVITE", SDP)),
            rx_ack: m(a_request("ACK", "ack", 1, &a_tag, "")),
            rx_bye: m(a_request("BYE", "bye", 2, &a_tag, "")),
            tx_bye: m(b_request("BYE", "bye", 2, &b_tag, "")),
            rx_bye_200: m(response("200 OK", &b_bye_via, &b_from, &b_to, &b_cid, "2 BYE", "")),
            tx_bye_200: m(response("200 OK", &a_bye_via, &a_from, &a_to, &a_cid, "2 BYE", "")),
        }
    }

    fn all(&mut self) -> [&mut Msg; 11] {
        [
            &mut self.rx_invite,
            &mut self.tx_invite,
            &mut self.rx_180,
            &mut self.tx_180,
            &mut self.rx_200,
            &mut self.tx_200,
            &mut self.rx_ack,
            &mut self.rx_bye,
            &mut self.tx_bye,
            &mut self.rx_bye_200,
            &mut self.tx_bye_200,
        ]
    }

    fn set(&mut self, call: u64) {
        for m in self.all() {
            m.set(call);
        }
    }
}

type Layer = TransactionLayer<u8>;

/// Sends and events are drained as the endpoint's `flush` does.
fn drain(t: &mut Layer) -> usize {
    let mut n = 0;
    while let Some(x) = t.poll_transmit() {
        n += x.bytes.len();
    }
    while t.poll_event().is_some() {
        n += 1;
    }
    n
}

/// How the worker turns bytes into what the layer reads. `Full`: parse + `TxView::new`
/// everywhere (before). `Light`: what the endpoint does now.
#[derive(Clone, Copy)]
enum Path {
    Full,
    Light,
}

/// A received request: parse, validate (400 decisions), then the view.
fn rx_request(path: Path, t: &mut Layer, now: Instant, raw: &[u8]) -> Option<Inbound> {
    let m = Message::parse(raw).ok()?;
    m.validate().ok()?;
    let r = match path {
        Path::Full => t.handle_request(now, &TxView::new(&m).ok()?, 0, false).ok(),
        Path::Light => t.handle_request(now, &TxView::validated(&m).ok()?, 0, false).ok(),
    };
    drain(t);
    r
}

fn rx_response(path: Path, t: &mut Layer, now: Instant, raw: &[u8]) -> Option<Inbound> {
    let m = Message::parse(raw).ok()?;
    let r = match path {
        // Received responses keep the full view (it is their only check).
        Path::Full | Path::Light => t.handle_response(now, &TxView::new(&m).ok()?),
    };
    drain(t);
    Some(r)
}

fn cmd_request(path: Path, t: &mut Layer, now: Instant, raw: &[u8]) -> Option<TxId> {
    let r = match path {
        Path::Full => {
            let m = Message::parse(raw).ok()?;
            t.send_request(now, &TxView::new(&m).ok()?, raw, 1, false).ok()
        }
        Path::Light => TxView::with_built(raw, |v| t.send_request(now, v, raw, 1, false).ok())?,
    };
    drain(t);
    r
}

fn cmd_respond(path: Path, t: &mut Layer, now: Instant, id: TxId, raw: &[u8]) -> Option<()> {
    match path {
        Path::Full => {
            let m = Message::parse(raw).ok()?;
            t.respond(now, id, &TxView::new(&m).ok()?, raw).ok()?;
        }
        Path::Light => TxView::with_built(raw, |v| t.respond(now, id, v, raw).ok())??,
    }
    drain(t);
    Some(())
}

fn new_id(i: Option<Inbound>) -> TxId {
    match i {
        Some(Inbound::New(id)) => id,
        other => panic!("expected a new server transaction, got {other:?}"),
    }
}

/// One call through the layer; panics if the layer does not behave as in a real call.
fn call(path: Path, t: &mut Layer, c: &Call, now: Instant) {
    let a = new_id(rx_request(path, t, now, &c.rx_invite.bytes));
    cmd_request(path, t, now, &c.tx_invite.bytes).expect("INVITE to B");
    assert!(matches!(rx_response(path, t, now, &c.rx_180.bytes), Some(Inbound::PassUp(_))));
    cmd_respond(path, t, now, a, &c.tx_180.bytes).expect("180 to A");
    assert!(matches!(rx_response(path, t, now, &c.rx_200.bytes), Some(Inbound::PassUp(_))));
    cmd_respond(path, t, now, a, &c.tx_200.bytes).expect("200 to A");
    assert!(matches!(rx_request(path, t, now, &c.rx_ack.bytes), Some(Inbound::Stray)));
    let bye = new_id(rx_request(path, t, now, &c.rx_bye.bytes));
    cmd_request(path, t, now, &c.tx_bye.bytes).expect("BYE to B");
    assert!(matches!(rx_response(path, t, now, &c.rx_bye_200.bytes), Some(Inbound::PassUp(_))));
    cmd_respond(path, t, now, bye, &c.tx_bye_200.bytes).expect("200 to A");
}

fn bench_calls(c: &mut Criterion, path: Path, name: &str) {
    let mut t: Layer = TransactionLayer::new(Config::with_capacity(16_384));
    let mut msgs = Call::new();
    let mut now = Instant::now();
    let mut n = 0u64;
    c.bench_function(&format!("call/{name}"), |b| {
        b.iter(|| {
            n += 1;
            msgs.set(n % 100_000_000);
            now += Duration::from_micros(500);
            t.handle_timeout(now);
            drain(&mut t);
            call(path, &mut t, black_box(&msgs), now);
        })
    });
}

/// Only the parsing, per message kind.
fn bench_views(c: &mut Criterion, path: Path, name: &str) {
    let mut msgs = Call::new();
    msgs.set(1);
    let cases: [(&str, &[u8], bool); 5] = [
        ("rx_invite", &msgs.rx_invite.bytes, true),
        ("rx_200", &msgs.rx_200.bytes, false),
        ("cmd_invite", &msgs.tx_invite.bytes, false),
        ("cmd_200", &msgs.tx_200.bytes, false),
        ("cmd_bye", &msgs.tx_bye.bytes, false),
    ];
    for (case, raw, validate) in cases {
        let rx = case.starts_with("rx");
        c.bench_function(&format!("view/{case}_{name}"), |b| {
            b.iter(|| view_len(path, black_box(raw), rx, validate))
        });
    }
}

fn view_len(path: Path, raw: &[u8], rx: bool, validate: bool) -> usize {
    use ringcore::sip::transaction::TxMessage;
    match path {
        Path::Full => {
            let m = Message::parse(raw).expect("parses");
            if validate {
                m.validate().expect("valid");
            }
            TxView::new(&m).expect("view").call_id().len()
        }
        Path::Light if !rx => TxView::with_built(raw, |v| v.call_id().len()).expect("view"),
        Path::Light => {
            let m = Message::parse(raw).expect("parses");
            if !validate {
                return TxView::new(&m).expect("view").call_id().len();
            }
            m.validate().expect("valid");
            TxView::validated(&m).expect("view").call_id().len()
        }
    }
}

fn bench(c: &mut Criterion) {
    bench_calls(c, Path::Full, "full");
    bench_calls(c, Path::Light, "light");
    bench_views(c, Path::Full, "full");
    bench_views(c, Path::Light, "light");
}

/// `WORKER_TX_CALLS=n [WORKER_TX_PATH=light]`: runs n calls and exits, for counting
/// instructions per call with `perf stat -e instructions:u` (steady under a loaded
/// machine, unlike times).
fn count_calls() -> bool {
    let Some(n) = std::env::var("WORKER_TX_CALLS").ok().and_then(|n| n.parse::<u64>().ok()) else {
        return false;
    };
    let path = match std::env::var("WORKER_TX_PATH").as_deref() {
        Ok("light") => Path::Light,
        _ => Path::Full,
    };
    let mut t: Layer = TransactionLayer::new(Config::with_capacity(16_384));
    let mut msgs = Call::new();
    let mut now = Instant::now();
    for i in 1..=n {
        msgs.set(i % 100_000_000);
        now += Duration::from_micros(500);
        t.handle_timeout(now);
        drain(&mut t);
        call(path, &mut t, black_box(&msgs), now);
    }
    true
}

criterion_group!(benches, bench);

fn main() {
    if !count_calls() {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
}
