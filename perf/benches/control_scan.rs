//! The control thread's per-message bookkeeping outside the real handling, over
//! the messages of one B2BUA call (100 Trying, INVITE, 180, 200 with SDP, ACK,
//! BYE, 200): `count/` is `SipMethodCounters::count` (RFC 3261 7.1/7.2 start
//! line and the 20.16 CSeq method), `rewrite/` is `Rewriter::apply_cmd` with the
//! default settings (no custom_headers, force_user_agent on) on the messages as
//! ringcore's builders write them (relayed requests carry no User-Agent,
//! responses carry `Server: ringcore`), and `rewrite_ours/` on messages that
//! already carry exactly our User-Agent/Server once (nothing to change).

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use ringcore::control::custom_headers::Rewriter;
use ringcore::endpoint::{Peer, ToWorker, Transport};
use ringcore::engine::SocketId;
use ringcore::stats::sip_methods::{Direction, SipMethodCounters};

/// Our User-Agent (the `user_agent` default names the crate version).
const UA: &str = concat!("ringcore-", env!("CARGO_PKG_VERSION"));

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

const DIALOG: &str = "From: <sip:+15551234567@ims.mnc001.mcc001.3gppnetwork.org>;tag=1234SIPpTag001\r\n\
To: <sip:+15557654321@ims.mnc001.mcc001.3gppnetwork.org>;tag=rc00f1e2d3c4b5a697\r\n\
Call-ID: 1-4242@10.0.0.1\r\n";

/// The call's messages: (name, bytes as the builders write them).
fn call_flow() -> Vec<(&'static str, String)> {
    let via = "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-4242-1-0;received=10.0.0.1;rport=5060\r\n";
    let our_via = "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKrc2ar1.77\r\n";
    let contact = "Contact: <sip:10.0.0.2:5060>\r\n";
    let req = |method: &str, cseq: u32, extra: &str, body: &str| {
        format!(
            "{method} sip:+15557654321@10.0.0.3:5062 SIP/2.0\r\n{our_via}Max-Forwards: 70\r\n{DIALOG}CSeq: {cseq} {method}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let resp = |status: &str, method: &str, extra: &str, body: &str| {
        format!("SIP/2.0 {status}\r\n{via}{DIALOG}CSeq: 1 {method}\r\n{extra}Server: ringcore\r\nContent-Length: {}\r\n\r\n{body}", body.len())
    };
    let sdp_extra = format!("{contact}Content-Type: application/sdp\r\n");
    vec![
        ("100", resp("100 Trying", "INVITE", "", "")),
        ("invite", req("INVITE", 1, &format!("{contact}Supported: timer\r\nContent-Type: application/sdp\r\n"), SDP)),
        ("180", resp("180 Ringing", "INVITE", contact, "")),
        ("200_invite", resp("200 OK", "INVITE", &sdp_extra, SDP)),
        ("ack", req("ACK", 1, "", "")),
        ("bye", req("BYE", 2, "", "")),
        ("200_bye", resp("200 OK", "BYE", "", "")),
    ]
}

/// The same message with exactly our User-Agent (requests) or Server (responses) once.
fn ours(msg: &str) -> String {
    if msg.starts_with("SIP/2.0 ") {
        return msg.replace("Server: ringcore\r\n", &format!("Server: {UA}\r\n"));
    }
    msg.replacen("Content-Length:", &format!("User-Agent: {UA}\r\nContent-Length:"), 1)
}

fn peer() -> Peer {
    Peer { transport: Transport::Udp(SocketId(0)), addr: "10.0.0.3:5062".parse().expect("literal address") }
}

fn bench(c: &mut Criterion) {
    let flow = call_flow();
    let mut g = c.benchmark_group("count");
    let mut counters = SipMethodCounters::default();
    for (name, msg) in &flow {
        g.bench_function(*name, |b| b.iter(|| counters.count(Direction::Out, black_box(msg.as_bytes()))));
    }
    g.finish();
    let rewriter = Rewriter::new(Vec::new(), UA, true);
    for (group, ours_only) in [("rewrite", false), ("rewrite_ours", true)] {
        let mut g = c.benchmark_group(group);
        for (name, msg) in &flow {
            let bytes = if ours_only { ours(msg).into_bytes() } else { msg.clone().into_bytes() };
            g.bench_function(*name, |b| {
                b.iter_batched(
                    || ToWorker::SendStateless { peer: peer(), msg: bytes.clone() },
                    |mut cmd| {
                        rewriter.apply_cmd(&mut cmd);
                        cmd
                    },
                    BatchSize::SmallInput,
                )
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
