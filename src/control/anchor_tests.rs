//! Tests of media anchoring: the patched SDP equals what the former
//! parse + rewrite + emit path wrote (kept here as the oracle), and bodies the
//! parser refuses are refused with the same error.

use super::*;
use crate::sdp::{Attribute, Connection, SessionDescription};

/// The former rewrite on the full representation (the oracle).
fn oracle_rewrite(sd: &mut SessionDescription, ip: IpAddr, ports: &[Option<u16>]) {
    sd.connection = Some(Connection { addr: ip, ttl: None, count: None });
    for (m, p) in sd.media.iter_mut().zip(ports) {
        m.connection = None;
        m.port = p.unwrap_or(0);
        m.attributes.retain(|a| !matches!(a, Attribute::Rtcp(_)));
    }
}

/// The former `anchor_offer` output for the ports `anchor_offer` chose.
fn oracle_offer(ip: IpAddr, body: &[u8], anchors: &[Anchor]) -> Vec<u8> {
    let mut sd = SessionDescription::parse(body).expect("oracle parses what anchor_offer accepted");
    let mut next = anchors.iter();
    // Each section has its place in `anchors`; one offered with port 0 stays 0.
    let ports: Vec<Option<u16>> = sd
        .media
        .iter()
        .map(|m| {
            let addr = m.connection.or(sd.connection).filter(|_| m.port != 0);
            next.next().filter(|_| addr.is_some()).map(|a| a.port_b)
        })
        .collect();
    oracle_rewrite(&mut sd, ip, &ports);
    sd.to_string().into_bytes()
}

/// The former `anchor_answer` output (`anchors` already hold the callee's addresses).
fn oracle_answer(ip: IpAddr, body: &[u8], anchors: &[Anchor]) -> Vec<u8> {
    let mut sd = SessionDescription::parse(body).expect("oracle parses what anchor_answer accepted");
    let mut ports: Vec<Option<u16>> = anchors.iter().map(|a| a.remote_b.map(|_| a.port_a)).collect();
    ports.resize(sd.media.len(), None);
    oracle_rewrite(&mut sd, ip, &ports);
    sd.to_string().into_bytes()
}

const VOLTE: &str = "v=0\r\no=- 1604040404 1604040404 IN IP4 10.45.0.2\r\ns=-\r\nc=IN IP4 10.45.0.2\r\n\
b=AS:49\r\nb=RS:0\r\nb=RR:2500\r\nt=0 0\r\nm=audio 31000 RTP/AVP 116 107 118 96 111 110\r\nb=AS:49\r\n\
a=rtpmap:116 AMR-WB/16000/1\r\na=fmtp:116 mode-change-capability=2;max-red=0\r\na=rtpmap:107 AMR-WB/16000/1\r\n\
a=fmtp:107 octet-align=1\r\na=rtpmap:118 AMR/8000/1\r\na=fmtp:118 mode-change-capability=2;max-red=0\r\n\
a=rtpmap:111 telephone-event/16000\r\na=fmtp:111 0-15\r\na=ptime:20\r\na=maxptime:240\r\na=sendrecv\r\n\
a=curr:qos local none\r\na=curr:qos remote none\r\na=des:qos mandatory local sendrecv\r\na=des:qos optional remote sendrecv\r\n";

const SIPP: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// Media-level c= only, a=rtcp, two sections, session i= u= e=, r=, k=, session attributes.
const TWO_MEDIA: &str = "v=0\r\no=alice 2890844526 2890844527 IN IP4 host.example.com\r\ns=call\r\ni=about\r\n\
u=http://example.com/s\r\ne=a@example.com\r\nb=CT:128\r\nt=2873397496 2873404696\r\nr=604800 3600 0 90000\r\n\
a=recvonly\r\na=tool:x\r\nm=audio 49170 RTP/AVP 0 8 101\r\ni=voice\r\nc=IN IP4 192.0.2.10\r\nb=AS:64\r\n\
a=rtpmap:101 telephone-event/8000\r\na=rtcp:53020 IN IP4 192.0.2.11\r\na=mid:1\r\n\
m=video 51372/2 RTP/AVPF 99\r\nc=IN IP4 192.0.2.12\r\nk=prompt\r\na=rtpmap:99 H264/90000\r\na=rtcp:51400\r\na=rtcp-mux\r\n";

/// IPv6, a rejected second section, LF line ends and a trailing empty line.
const V6_REJECTED: &str = "v=0\no=- 1 2 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::1\nt=0 0\n\
m=audio 4000 RTP/AVP 0\na=rtcp:4001\nm=video 0 RTP/AVP 31\n\n";

/// Line ends mixed: CRLF runs broken by LF-only lines, the last line without an end.
const MIXED_ENDS: &str = "v=0\r\no=- 1 2 IN IP4 10.0.0.1\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\n\
m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\na=ptime:20\r\na=sendrecv";

/// Our bodies and the real offers and answers of the SDP tests (as stored and with CRLF).
fn bodies() -> Vec<String> {
    use crate::sdp::tests::{crlf, IPHONE_V6, MGW_ANSWER, MGW_OFFER, SAMSUNG, VILTE};
    let mut v: Vec<String> = [VOLTE, SIPP, TWO_MEDIA, V6_REJECTED, MIXED_ENDS].iter().map(|s| s.to_string()).collect();
    for real in [SAMSUNG, IPHONE_V6, VILTE, MGW_OFFER, MGW_ANSWER] {
        v.push(real.to_string());
        v.push(crlf(real));
    }
    v
}

fn ports(ip: IpAddr) -> MediaPorts {
    MediaPorts::new(40000, 40999, 2, ip)
}

/// The callee's answer to `offer`: the same sections from other addresses.
fn answer_of(offer: &str) -> String {
    offer.replace("10.45.0.2", "10.45.0.9").replace("10.0.0.1", "10.0.0.9").replace("192.0.2.1", "198.51.100.1")
}

#[test]
fn offer_and_answer_equal_the_parse_emit_output() {
    for ip in [IpAddr::from([10, 0, 0, 2]), "2001:db8::2".parse().expect("literal")] {
        for body in bodies() {
            let body = body.as_str();
            let mut p = ports(ip);
            let (mut anchors, offer, _) = anchor_offer(&mut p, body.as_bytes()).expect("valid offer");
            assert_eq!(String::from_utf8_lossy(&offer), String::from_utf8_lossy(&oracle_offer(ip, body.as_bytes(), &anchors)));
            let answer = answer_of(body);
            assert_ne!(offer, body.as_bytes(), "ports and addresses change");
            let (out, _) = anchor_answer(&mut p, &mut anchors, answer.as_bytes()).expect("valid answer");
            assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&oracle_answer(ip, answer.as_bytes(), &anchors)));
            for towards_b in [true, false] {
                let ports: Vec<Option<u16>> = SessionDescription::parse(body.as_bytes())
                    .expect("valid")
                    .media
                    .iter()
                    .enumerate()
                    .map(|(i, m)| anchors.get(i).filter(|a| m.port != 0 && a.relayed()).map(|a| if towards_b { a.port_b } else { a.port_a }))
                    .collect();
                let mut sd = SessionDescription::parse(body.as_bytes()).expect("valid");
                oracle_rewrite(&mut sd, ip, &ports);
                let got = rewrite_for(ip, &anchors, towards_b, body.as_bytes()).expect("valid");
                assert_eq!(String::from_utf8_lossy(&got), sd.to_string());
            }
        }
    }
}

#[test]
fn patched_offer_points_every_live_section_at_our_ports() {
    let ip = IpAddr::from([10, 0, 0, 2]);
    let mut p = ports(ip);
    let (anchors, offer, sections) = anchor_offer(&mut p, TWO_MEDIA.as_bytes()).expect("valid offer");
    let sd = SessionDescription::parse(&offer).expect("the patched offer is valid SDP");
    assert_eq!(sd.connection.map(|c| c.addr), Some(ip));
    assert_eq!(sd.media.iter().map(|m| m.port).collect::<Vec<_>>(), anchors.iter().map(|a| a.port_b).collect::<Vec<_>>());
    assert!(sd.media.iter().all(|m| m.connection.is_none() && !m.attributes.iter().any(|a| matches!(a, Attribute::Rtcp(_)))));
    assert_eq!(sd.media[1].port_count, Some(2));
    assert_eq!(anchors[0].remote_a, Some("192.0.2.10:49170".parse().expect("literal")));
    assert_eq!(sections.get(1).map(|s| s.remote), Some(Some("192.0.2.12:51372".parse().expect("literal"))));
}

#[test]
fn a_section_offered_with_port_0_stays_disabled_and_takes_no_ports() {
    // RFC 3264 5.1, 6: the stream is offered disabled; the callee sees port 0, the
    // caller's answer keeps 0, and no relay is opened for it.
    let ip = IpAddr::from([10, 0, 0, 2]);
    let mut p = ports(ip);
    let (mut anchors, offer, _) = anchor_offer(&mut p, V6_REJECTED.as_bytes()).expect("valid offer");
    let sd = SessionDescription::parse(&offer).expect("the patched offer is valid SDP");
    assert_eq!(anchors.len(), 2, "one place per section");
    assert!(anchors[0].relayed() && !anchors[1].relayed());
    assert_eq!(sd.media.iter().map(|m| m.port).collect::<Vec<_>>(), [anchors[0].port_b, 0]);
    let (answer, cmds) = anchor_answer(&mut p, &mut anchors, answer_of(V6_REJECTED).as_bytes()).expect("valid answer");
    let sd = SessionDescription::parse(&answer).expect("the patched answer is valid SDP");
    assert_eq!(sd.media.iter().map(|m| m.port).collect::<Vec<_>>(), [anchors[0].port_a, 0]);
    assert_eq!(installs(&cmds), [anchors[0].port_a, anchors[0].port_b]);
    // Only the relayed pair goes back: two allocations and two frees.
    let cmds = release(&mut p, &anchors);
    assert_eq!(cmds.len(), 2);
    let again = anchor_offer(&mut p, V6_REJECTED.as_bytes()).expect("valid offer").0;
    assert!(again[0].relayed() && !again[1].relayed());
}

#[test]
fn sections_read_kind_port_and_qos_des() {
    let (_, s) = SdpView::new_valid(VOLTE.as_bytes()).expect("valid");
    assert_eq!(s.len(), 1);
    let m = s.get(0).expect("one section");
    assert_eq!((m.kind, m.port, m.qos_des), (crate::sdp::MediaKind::Audio, 31000, true));
    let (_, s) = SdpView::new_valid(SIPP.as_bytes()).expect("valid");
    assert!(!s.get(0).expect("one section").qos_des);
}

/// Non-canonical text (extra spaces, a duplicate session c= order): the patched
/// body keeps the text, so it is compared by meaning.
#[test]
fn non_canonical_bodies_keep_their_meaning() {
    let body = "v=0\r\no=- 01 02 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 10.0.0.1\r\nm=audio 6000 RTP/AVP 0 96\r\n\
a=rtpmap:96  AMR/8000\r\na=fmtp:96 octet-align=1  \r\na=ptime: 20\r\n";
    let ip = IpAddr::from([10, 0, 0, 2]);
    let mut p = ports(ip);
    let (anchors, offer, _) = anchor_offer(&mut p, body.as_bytes()).expect("valid offer");
    let old = oracle_offer(ip, body.as_bytes(), &anchors);
    assert_ne!(offer, old);
    assert_eq!(SessionDescription::parse(&offer).expect("valid"), SessionDescription::parse(&old).expect("valid"));
}

fn malformed() -> Vec<String> {
    let head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";
    let m = "m=audio 6000 RTP/AVP 0\r\n";
    let mut v: Vec<String> = [
        "",
        "v=1\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n",
        "v=0\r\ns=-\r\nt=0 0\r\n",
        "v=0\r\no=- x 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=\r\nt=0 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 999.0.0.1\r\nt=0 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nm=audio 6000 RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\nm=audio 0 RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nx=1\r\n",
        "v=0\r\n\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n",
        // A line syntax error is reported before an earlier field error (the view is checked first).
        "v=1\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nBAD\r\n",
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio x RTP/AVP 0\r\n\r\na=x\r\n",
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n",
        "v=0\r\n",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for line in ["m=audio abc RTP/AVP 0", "m=audio 6000 RTP/AVP", "m=audio 6000 RTP/AVP 0  8", "a=rtpmap:200 PCMU/8000", "a=des:qos mandatory sideways sendrecv", "a=ptime:x", "a=rtcp:1 IN IP9 x", "c=IN IP4 10.0.0.1/x", "b=AS:x"] {
        v.push(format!("{head}{m}{line}\r\n"));
    }
    v.push(format!("{head}{}", m.repeat(crate::sdp::MAX_MEDIA + 1)));
    v.push(format!("{head}{m}{}", "a=x\r\n".repeat(crate::sdp::MAX_ATTRIBUTES + 1)));
    v.push(format!("{head}{m}{}", "b=AS:1\r\n".repeat(crate::sdp::MAX_BANDWIDTHS + 1)));
    v
}

#[test]
fn malformed_bodies_are_refused_as_the_parser_refuses_them() {
    let ip = IpAddr::from([10, 0, 0, 2]);
    let mut bodies: Vec<Vec<u8>> = malformed().into_iter().map(String::into_bytes).collect();
    bodies.push(b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=\xff\r\nt=0 0\r\n".to_vec());
    for body in &bodies {
        let want = SessionDescription::parse(body).expect_err("malformed").to_string();
        let mut p = ports(ip);
        match anchor_offer(&mut p, body) {
            Err(AnchorError::Sdp(e)) => assert_eq!(e, want, "{}", String::from_utf8_lossy(body)),
            other => panic!("{} not refused: {:?}", String::from_utf8_lossy(body), other.map(|r| r.1)),
        }
        assert!(anchor_answer(&mut p, &mut [], body).is_none());
        assert!(rewrite_for(ip, &[], true, body).is_none());
    }
}

#[test]
fn seeded_mutations_of_real_offers_keep_the_anchoring_invariants() {
    // The `sdp_anchor` fuzz target's checks on bodies near real ones: bytes flipped,
    // inserted (SDP punctuation and digits), removed, or the body cut short.
    let mut rng = crate::testkit::XorShift::new(0x5eed_a11c);
    let seeds = bodies();
    let mut buf = Vec::new();
    for i in 0..4000 {
        let seed = seeds[i % seeds.len()].as_bytes();
        buf.clear();
        buf.extend_from_slice(seed);
        for _ in 0..=rng.next() % 4 {
            let at = (rng.next() as usize) % (buf.len() + 1);
            match rng.next() % 5 {
                0 if at < buf.len() => buf[at] = rng.next() as u8,
                1 if at < buf.len() => buf[at] ^= 1 << (rng.next() % 8),
                2 => buf.insert(at, b"\n=:/ 0123456789mc\r"[(rng.next() % 18) as usize]),
                3 if at < buf.len() => {
                    buf.remove(at);
                }
                _ => buf.truncate(at),
            }
        }
        fuzzing::exercise(&buf);
    }
    for body in seeds {
        fuzzing::exercise(body.as_bytes());
    }
}

/// The worker's free ports (the tests' `ports` has two workers; a call uses one).
fn free(p: &MediaPorts) -> usize {
    p.available_on(0) + p.available_on(1)
}

/// The ports of the MediaInstall commands in `cmds`, in order.
fn installs(cmds: &Commands) -> Vec<u16> {
    cmds.iter()
        .filter_map(|(_, c)| match c {
            ToWorker::MediaInstall { port, .. } => Some(*port),
            _ => None,
        })
        .collect()
}

#[test]
fn an_answer_rejecting_a_relayed_section_frees_its_relay() {
    // RFC 3264 6: the callee answers the video with port 0. The caller sees 0, no relay
    // is installed for it and its two ports go back at once, not at the call's end.
    let ip = IpAddr::from([10, 0, 0, 2]);
    let mut p = ports(ip);
    let before = free(&p);
    let (mut anchors, _, _) = anchor_offer(&mut p, TWO_MEDIA.as_bytes()).expect("valid offer");
    assert!(anchors.iter().all(Anchor::relayed));
    assert_eq!(free(&p), before - 4);
    let answer = answer_of(TWO_MEDIA).replace("m=video 51372/2", "m=video 0");
    let (out, cmds) = anchor_answer(&mut p, &mut anchors, answer.as_bytes()).expect("valid answer");
    let sd = SessionDescription::parse(&out).expect("the patched answer is valid SDP");
    assert_eq!(sd.media.iter().map(|m| m.port).collect::<Vec<_>>(), [anchors[0].port_a, 0]);
    assert_eq!(installs(&cmds), [anchors[0].port_a, anchors[0].port_b]);
    assert!(!anchors[1].relayed(), "the rejected section keeps its place, unrelayed");
    assert_eq!(free(&p), before - 2);
    assert_eq!(release(&mut p, &anchors).len(), 2);
    assert_eq!(free(&p), before);
}

#[test]
fn a_late_offer_from_the_callee_is_anchored_the_other_way_round() {
    // RFC 3264 4: the INVITE had no offer; the callee's 2xx has it and the caller's ACK
    // the answer. The caller sees our leg-A ports, the callee our leg-B ports, and each
    // relay sends to the address of the leg it faces.
    let ip = IpAddr::from([10, 0, 0, 2]);
    let mut p = ports(ip);
    let (mut anchors, offer, _) = anchor_offer_from(&mut p, false, TWO_MEDIA.as_bytes()).expect("valid offer");
    let sd = SessionDescription::parse(&offer).expect("the patched offer is valid SDP");
    assert_eq!(sd.media.iter().map(|m| m.port).collect::<Vec<_>>(), anchors.iter().map(|a| a.port_a).collect::<Vec<_>>());
    assert_eq!(anchors[0].remote_b, Some("192.0.2.10:49170".parse().expect("literal")));
    assert_eq!(anchors[0].remote_a, None);
    let answer = answer_of(TWO_MEDIA);
    let (out, cmds) = anchor_answer_from(&mut p, &mut anchors, true, answer.as_bytes()).expect("valid answer");
    let sd = SessionDescription::parse(&out).expect("the patched answer is valid SDP");
    assert_eq!(sd.media.iter().map(|m| m.port).collect::<Vec<_>>(), anchors.iter().map(|a| a.port_b).collect::<Vec<_>>());
    assert_eq!(anchors[0].remote_a, Some("198.51.100.10:49170".parse().expect("literal")));
    let to_caller = cmds.iter().find_map(|(_, c)| match c {
        ToWorker::MediaInstall { port, spec } if *port == anchors[0].port_a => Some(spec.remote_rtp),
        _ => None,
    });
    assert_eq!(to_caller, Some(anchors[0].remote_a), "leg A's relay sends to the caller");
    assert_eq!(installs(&cmds).len(), 4);
}
