//! The light views give the full parse's fields: on plain messages (compact forms, Via
//! lists, IPv6, tags in odd places), on every single-byte mutation of them, and through
//! the fallback on what the light scans do not take.

use super::*;

/// Every field the transaction layer reads, with the header lines it copies.
fn fields(v: &TxView<'_, '_>) -> String {
    let mut s = format!(
        "req={} method={:?} status={} ruri={:?} cseq={:?} via={:?} branch={:?} sent_by={:?} call_id={:?} from={:?} to={:?}",
        v.is_request(),
        String::from_utf8_lossy(v.method()),
        v.status(),
        String::from_utf8_lossy(v.request_uri()),
        (v.cseq().0, String::from_utf8_lossy(v.cseq().1)),
        String::from_utf8_lossy(v.top_via()),
        v.top_via_branch().map(String::from_utf8_lossy),
        String::from_utf8_lossy(v.top_via_sent_by()),
        String::from_utf8_lossy(v.call_id()),
        v.from_tag().map(String::from_utf8_lossy),
        v.to_tag().map(String::from_utf8_lossy),
    );
    let kinds = [TxHeader::Via, TxHeader::From, TxHeader::To, TxHeader::CallId, TxHeader::CSeq, TxHeader::Route, TxHeader::Timestamp];
    for kind in kinds {
        for i in 0..4 {
            if let Some(line) = v.header_line(kind, i) {
                s += &format!("\n{kind:?}[{i}]={:?}", String::from_utf8_lossy(line));
            }
        }
    }
    s
}

/// The full path's fields, or None when it refuses the message.
fn full(raw: &[u8]) -> Option<String> {
    let m = Message::parse(raw).ok()?;
    Some(fields(&TxView::new(&m).ok()?))
}

/// The built-message path's fields, and whether the light scan (not the fallback) gave them.
fn built(raw: &[u8]) -> Option<(String, bool)> {
    TxView::with_built(raw, |v| (fields(v), v.message().is_none()))
}

const PLAIN: &[&str] = &[
    // Compact forms, a Via list in one field, Route and Timestamp.
    "INVITE sip:bob@b.example SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1;rport, SIP/2.0/TCP p.example;branch=z9hG4bK0\r\n\
Max-Forwards: 70\r\nf: \"Alice, A.\" <sip:a@a.example;tag=uri>;tag=f1\r\nt: <sip:b@b.example>\r\ni: c1@h\r\nCSeq: 7 INVITE\r\n\
Route: <sip:p1.example;lr>\r\nRoute: <sip:p2.example;lr>\r\nTimestamp: 54\r\nl: 0\r\n\r\n",
    // Several Via fields, IPv6 sent-by, addr-spec From/To with the tag after the URI.
    "BYE sip:b@[2001:db8::2]:5060 SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::1]:5062;received=2001:db8::1;branch=z9hG4bKx\r\n\
Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKy\r\nMax-Forwards: 69\r\nFrom: sip:a@a.example;tag=ft\r\nTo: sip:b@b.example ; TAG = tt \r\n\
Call-ID: x\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
    // RFC 2543 branch (no magic cookie) and none at all; lower-case names.
    "OPTIONS sip:b@b.example SIP/2.0\r\nvia: SIP/2.0/UDP h.example:5070;branch=1234\r\nmax-forwards: 1\r\n\
from: Alice <sip:a@a.example>;x=\"q;tag=no\";tag=real\r\nto: <sip:b@b.example>;foo;tag=t2\r\ncall-id: y\r\ncseq: 9 OPTIONS\r\n\r\n",
    "ACK sip:b@b.example SIP/2.0\r\nVia: SIP/2.0/UDP h.example\r\nMax-Forwards: 70\r\nFrom: <sip:a@a.example>;tag=1\r\n\
To: <sip:b@b.example>;tag=2\r\nCall-ID: z\r\nCSeq: 3 ACK\r\n\r\n",
    // Responses, with a body and a display name holding '<'.
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1;received=10.0.0.1;rport=5062\r\n\
From: \"x<y\" <sip:a@a.example>;tag=f1\r\nTo: <sip:b@b.example>;tag=t9\r\nCall-ID: c1@h\r\nCSeq: 7 INVITE\r\n\
Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n",
    "SIP/2.0 180 \r\nv: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1\r\nf: <sip:a@a.example>;tag=f1\r\nt: <sip:b@b.example>;tag=t9\r\n\
i: c1@h\r\nCSeq: 7 INVITE\r\n\r\n",
];

#[test]
fn fields_and_lines_borrow_from_the_message() {
    let raw = b"INVITE sip:bob@b.example SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1, SIP/2.0/UDP p:5060;branch=z9hG4bK0\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@a>;tag=f1\r\nTo: <sip:b@b>\r\nCall-ID: c1\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n";
    let m = Message::parse(raw).unwrap();
    for v in [TxView::new(&m).unwrap(), TxView::validated(&m).unwrap()] {
        assert_eq!(v.top_via_sent_by(), b"10.0.0.1:5062");
        assert_eq!(v.top_via_branch(), Some(&b"z9hG4bK1"[..]));
        assert_eq!(v.cseq(), (7, &b"INVITE"[..]));
        assert_eq!(v.from_tag(), Some(&b"f1"[..]));
        assert_eq!(v.to_tag(), None);
        assert_eq!(v.header_line(TxHeader::CSeq, 0), Some(&b"CSeq: 7 INVITE"[..]));
        assert!(v.header_line(TxHeader::Via, 0).unwrap().starts_with(b"v: SIP/2.0/UDP 10.0.0.1:5062"));
        assert_eq!(v.header_line(TxHeader::Route, 0), None);
    }
    let light = TxView::with_built(raw, |v| {
        assert!(v.message().is_none(), "plain message: light scan");
        assert_eq!(v.top_via_sent_by(), b"10.0.0.1:5062");
        assert_eq!(v.header_line(TxHeader::CSeq, 0), Some(&b"CSeq: 7 INVITE"[..]));
        // Slices borrow from the raw bytes (the layer records their offsets).
        offset_in(raw, v.top_via()).is_some() && offset_in(raw, v.header_line(TxHeader::From, 0).unwrap()).is_some()
    });
    assert_eq!(light, Some(true));
}

#[test]
fn light_views_give_the_full_fields_on_plain_messages() {
    for text in PLAIN {
        let raw = text.as_bytes();
        let want = full(raw).unwrap_or_else(|| panic!("full view of {text}"));
        assert_eq!(built(raw), Some((want.clone(), true)), "built view of {text}");
        let m = Message::parse(raw).unwrap();
        assert_eq!(m.validate(), Ok(()), "{text}");
        let v = TxView::validated(&m).unwrap();
        assert_eq!(fields(&v), want, "validated view of {text}");
    }
    // A response's status and To tag without the view; none for a request.
    assert_eq!(TxView::built_status(PLAIN[4].as_bytes()), Some(200));
    assert_eq!(TxView::built_to_tag(PLAIN[4].as_bytes()), Some(&b"t9"[..]));
    assert_eq!(TxView::built_status(PLAIN[5].as_bytes()), Some(180));
    assert_eq!(TxView::built_to_tag(PLAIN[5].as_bytes()), Some(&b"t9"[..]));
    assert_eq!(TxView::built_status(PLAIN[0].as_bytes()), None);
    // Spot checks of what the equality above covers.
    let v = built(PLAIN[1].as_bytes()).unwrap().0;
    assert!(v.contains("sent_by=\"[2001:db8::1]:5062\"") && v.contains("to=Some(\"tt\")"), "{v}");
    let v = built(PLAIN[2].as_bytes()).unwrap().0;
    assert!(v.contains("from=Some(\"real\")") && v.contains("to=Some(\"t2\")"), "{v}");
    let v = built(PLAIN[0].as_bytes()).unwrap().0;
    assert!(v.contains("from=Some(\"f1\")") && v.contains("Route[1]=\"Route: <sip:p2.example;lr>\""), "{v}");
}

#[test]
fn odd_messages_fall_back_to_the_full_parse() {
    let odd: &[&str] = &[
        // Folded line, LWS inside sent-protocol and around the port colon, leading CRLF.
        "INVITE sip:b@b.example SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5062\r\n ;branch=z9hG4bK1\r\nFrom: <sip:a@a>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
        "INVITE sip:b@b.example SIP/2.0\r\nVia: SIP / 2.0 / UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@a>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
        "INVITE sip:b@b.example SIP/2.0\r\nVia: SIP/2.0/UDP h.example : 5060;branch=z9hG4bK1\r\nFrom: <sip:a@a>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
        "\r\nINVITE sip:b@b.example SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@a>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
        // Lower-case version, empty first Via field.
        "SIP/2.0 200 OK\r\nVia:\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@a>;tag=1\r\nTo: <sip:b@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
        "INVITE sip:b@b.example sip/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@a>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
    ];
    for text in odd {
        let raw = text.as_bytes();
        let want = full(raw).unwrap_or_else(|| panic!("full view of {text}"));
        assert_eq!(built(raw), Some((want, false)), "fallback for {text}");
    }
    // What the full path refuses, the built path refuses too.
    let refused: &[&str] = &[
        "INVITE sip:b@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@a>;tag=1\r\nTo: <sip:b@b>\r\nCSeq: 1 INVITE\r\n\r\n",
        "INVITE sip:b@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@a>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: c\r\nCSeq: x INVITE\r\n\r\n",
        "INVITE sip:b@b SIP/2.0\r\nFrom: <sip:a@a>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
        "SIP/2.0 2000 OK\r\n\r\n",
        "",
        "\u{0}\u{ff}garbage",
    ];
    for text in refused {
        assert_eq!(full(text.as_bytes()), None, "{text}");
        assert_eq!(built(text.as_bytes()), None, "{text}");
    }
}

/// Every single-byte mutation of the plain messages: a request that still parses and
/// validates gets the same fields from `validated` and `from_validated` as from `new`; a
/// response gets the view's status and To tag from `built_response`; no scan panics.
#[test]
fn validated_equals_new_under_mutation() {
    let specials = b";,<>\":= \t\r\n[]@/x0";
    let mut compared = 0;
    let mut responses = 0;
    for text in PLAIN {
        let mut buf = text.as_bytes().to_vec();
        for i in 0..buf.len() {
            let orig = buf[i];
            for &b in specials {
                buf[i] = b;
                let view = TxView::with_built(&buf, |v| (v.status(), v.to_tag().map(<[u8]>::to_vec)));
                if let Some(status) = TxView::built_status(&buf) {
                    // A response's status and To tag are the view's whenever there is one.
                    if let Some(view) = view {
                        let tag = TxView::built_to_tag(&buf).map(<[u8]>::to_vec);
                        assert_eq!(view, (status, tag), "mutated {:?}", String::from_utf8_lossy(&buf));
                        responses += 1;
                    }
                }
                if let Ok(m) = Message::parse(&buf) {
                    if let Ok(checked) = m.validated() {
                        let a = TxView::new(&m).map(|v| fields(&v));
                        let b = TxView::validated(&m).map(|v| fields(&v));
                        assert_eq!(a, b, "mutated {:?}", String::from_utf8_lossy(&buf));
                        // What the validation parsed gives the same view (`None`: no Via
                        // value, which the full view refuses).
                        let c = checked.map(|c| fields(&TxView::from_validated(&m, &c)));
                        assert_eq!(a.ok(), c, "mutated {:?}", String::from_utf8_lossy(&buf));
                        compared += 1;
                    }
                }
            }
            buf[i] = orig;
        }
    }
    assert!(compared > 1000, "only {compared} mutations validated");
    assert!(responses > 1000, "only {responses} mutated responses compared");
}

/// A client INVITE started from the light view of the built request: the layer's ACK for
/// a non-2xx (RFC 3261 17.1.1.3) and its 408 (Timer B, 17.1.1.2) are byte for byte those
/// of the full view, so the recorded line spans are the same.
#[test]
fn client_transaction_builds_the_same_ack_and_408() {
    use crate::sip::transaction::{Config, Event, TransactionLayer};
    use std::time::{Duration, Instant};
    let invite = "INVITE sip:b@b.example SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKc1;rport\r\n\
Route: <sip:p1.example;lr>\r\nRoute: <sip:p2.example;lr>\r\nMax-Forwards: 70\r\nFrom: <sip:a@a.example>;tag=f1\r\n\
To: <sip:b@b.example>\r\nCall-ID: k1@h\r\nCSeq: 4 INVITE\r\nContent-Length: 0\r\n\r\n";
    let busy = "SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKc1;rport=5060\r\n\
From: <sip:a@a.example>;tag=f1\r\nTo: <sip:b@b.example>;tag=t7\r\nCall-ID: k1@h\r\nCSeq: 4 INVITE\r\nContent-Length: 0\r\n\r\n";
    let now = Instant::now();
    let run = |light: bool, answer: bool| -> Vec<String> {
        let mut t: TransactionLayer<u8> = TransactionLayer::new(Config::with_capacity(4));
        let raw = invite.as_bytes();
        let id = if light {
            TxView::with_built(raw, |v| {
                assert!(v.message().is_none());
                t.send_request(now, v, raw, 0, false)
            })
            .unwrap()
        } else {
            let m = Message::parse(raw).unwrap();
            t.send_request(now, &TxView::new(&m).unwrap(), raw, 0, false)
        }
        .unwrap();
        let mut sent = Vec::new();
        if answer {
            let m = Message::parse(busy.as_bytes()).unwrap();
            t.handle_response(now, &TxView::new(&m).unwrap());
        } else {
            t.handle_timeout(now + Duration::from_secs(64));
        }
        while let Some(x) = t.poll_transmit() {
            sent.push(String::from_utf8_lossy(x.bytes).into_owned());
        }
        while let Some(ev) = t.poll_event() {
            if let Event::Timeout { id: got, response: Some(r), .. } = ev {
                assert_eq!(got, id);
                sent.push(String::from_utf8_lossy(r).into_owned());
            }
        }
        sent
    };
    let ack = run(true, true);
    assert_eq!(ack, run(false, true));
    let ack = ack.last().unwrap();
    assert!(ack.starts_with("ACK sip:b@b.example SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKc1;rport\r\n"), "{ack}");
    assert!(ack.contains("Route: <sip:p2.example;lr>\r\n") && ack.contains("To: <sip:b@b.example>;tag=t7\r\n"), "{ack}");
    assert!(ack.contains("CSeq: 4 ACK\r\n"), "{ack}");
    let timeout = run(true, false);
    assert_eq!(timeout, run(false, false));
    assert!(timeout.last().unwrap().starts_with("SIP/2.0 408 Request Timeout\r\n"), "{timeout:?}");
}
