//! The control thread's SDP work per anchored B2BUA call (RFC 3264 offer and
//! answer through ringcore's relay ports): `offer/` is `anchor_offer` on the
//! caller's INVITE body (port pairs allocated and freed each round), `answer/`
//! is `anchor_answer` on the callee's 200 body. Two bodies: a VoLTE audio offer
//! (AMR-WB, AMR, telephone-event, ptime/maxptime, RFC 3312 preconditions) and
//! SIPp's plain PCMU offer of its uac scenario.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ringcore::control::anchor::{anchor_answer, anchor_offer, release, MediaPorts};
use std::net::IpAddr;

/// A VoLTE UE's audio offer (TS 26.114 codecs, TS 24.229 preconditions).
const VOLTE: &str = "v=0\r\n\
o=- 1604040404 1604040404 IN IP4 10.45.0.2\r\n\
s=-\r\n\
c=IN IP4 10.45.0.2\r\n\
b=AS:49\r\n\
b=RS:0\r\n\
b=RR:2500\r\n\
t=0 0\r\n\
m=audio 31000 RTP/AVP 116 107 118 96 111 110\r\n\
b=AS:49\r\n\
b=RS:0\r\n\
b=RR:2500\r\n\
a=rtpmap:116 AMR-WB/16000/1\r\n\
a=fmtp:116 mode-change-capability=2;max-red=0\r\n\
a=rtpmap:107 AMR-WB/16000/1\r\n\
a=fmtp:107 octet-align=1;mode-change-capability=2;max-red=0\r\n\
a=rtpmap:118 AMR/8000/1\r\n\
a=fmtp:118 mode-change-capability=2;max-red=0\r\n\
a=rtpmap:96 AMR/8000/1\r\n\
a=fmtp:96 octet-align=1;mode-change-capability=2;max-red=0\r\n\
a=rtpmap:111 telephone-event/16000\r\n\
a=fmtp:111 0-15\r\n\
a=rtpmap:110 telephone-event/8000\r\n\
a=fmtp:110 0-15\r\n\
a=ptime:20\r\n\
a=maxptime:240\r\n\
a=sendrecv\r\n\
a=curr:qos local none\r\n\
a=curr:qos remote none\r\n\
a=des:qos mandatory local sendrecv\r\n\
a=des:qos optional remote sendrecv\r\n";

/// SIPp's uac scenario offer.
const SIPP: &str = "v=0\r\n\
o=user1 53655765 2353687637 IN IP4 10.0.0.1\r\n\
s=-\r\n\
c=IN IP4 10.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n";

fn ports() -> MediaPorts {
    MediaPorts::new(40000, 40999, 2, IpAddr::from([10, 0, 0, 2]))
}

fn bench(c: &mut Criterion) {
    for (name, sdp) in [("volte", VOLTE), ("sipp_pcmu", SIPP)] {
        let mut p = ports();
        c.bench_function(&format!("offer/{name}"), |b| {
            b.iter(|| {
                let (anchors, bytes, _) = anchor_offer(&mut p, black_box(sdp.as_bytes())).expect("valid offer");
                black_box(bytes);
                release(&mut p, &anchors);
            })
        });
        let (mut anchors, _, _) = anchor_offer(&mut p, sdp.as_bytes()).expect("valid offer");
        c.bench_function(&format!("answer/{name}"), |b| {
            b.iter(|| black_box(anchor_answer(&mut p, &mut anchors, black_box(sdp.as_bytes()))))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
