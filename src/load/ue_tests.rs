//! The UE state machine against a scripted core, on a virtual clock: AKA registration
//! with the digest checked against the network's own computation, retransmission and
//! timeout, an echo call with RTP round trips, and the callee side.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::{self, digest, Sim, SimAlgo, Sqn};
use crate::sip::{Builder, Message};

use super::metrics::{Action, Cause, Metric};
use super::profile::Population;
use super::rtp::is_rtp;
use super::ue::{Shared, Start, Ue, UeEvent, T1};

const CORE: &str = "127.0.0.1:5060";

fn core() -> SocketAddr {
    CORE.parse().unwrap_or_else(|_| unreachable!())
}

fn local() -> SocketAddr {
    "127.1.0.1:40000".parse().unwrap_or_else(|_| unreachable!())
}

fn shared(t0: Instant) -> Arc<Shared> {
    let p = Population::default_range();
    Arc::new(Shared {
        target: core(),
        registrar: format!("sip:{}", p.domain),
        sim: p.sim().unwrap_or_else(|e| panic!("{e}")),
        expires: 600,
        timeout: Duration::from_secs(4),
        hold: Duration::from_millis(100),
        answer_delay: Duration::from_millis(10),
        epoch: t0,
        run_id: 1,
    })
}

fn ue(t0: Instant) -> Ue {
    Ue::new(shared(t0), Population::default_range().identity(5), local(), None)
}

/// Everything the UE sends at `now`, as (destination, bytes).
fn drain(ue: &mut Ue, now: Instant) -> Vec<(SocketAddr, Vec<u8>)> {
    let mut buf = vec![0u8; 8192];
    let mut v = Vec::new();
    while let Some(t) = ue.poll_transmit(now, &mut buf) {
        v.push((t.dst, buf[..t.len].to_vec()));
    }
    v
}

fn events(ue: &mut Ue) -> Vec<UeEvent> {
    std::iter::from_fn(|| ue.poll_event()).collect()
}

/// A response to `req` with extra header lines and an optional body.
fn respond(req: &[u8], code: u16, extra: &[(&str, String)], body: &str) -> Vec<u8> {
    let m = Message::parse(req).unwrap_or_else(|e| panic!("{e:?}"));
    let mut buf = vec![0u8; 8192];
    let mut b = Builder::response_to(&mut buf, &m, code, b"X", b"srv").unwrap_or_else(|_| panic!("overflow"));
    for (n, v) in extra {
        b.header_raw(n.as_bytes(), v.as_bytes()).unwrap_or_else(|_| panic!("overflow"));
    }
    let n = b.finish(body.as_bytes()).unwrap_or_else(|_| panic!("overflow"));
    buf.truncate(n);
    buf
}

fn sim() -> Sim {
    let k = crate::load::profile::hex16(crate::load::profile::DEFAULT_K).unwrap_or([0; 16]);
    Sim::new(&k, &SimAlgo::Xor { res_len: 8 }).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn aka_registration_answers_the_challenge_with_res_and_measures_from_the_intended_time() {
    let t0 = Instant::now();
    let mut ue = ue(t0);
    let intended = t0;
    let now = t0 + Duration::from_millis(3); // the worker was 3 ms late
    assert!(ue.start(now, intended, Start::Register(Action::Register)).is_ok());
    let sent = drain(&mut ue, now);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, core());
    let reg1 = Message::parse(&sent[0].1).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(reg1.authorization().is_ok_and(|a| a.is_none()), "initial REGISTER carries no credentials");
    // The network: a vector for this RAND, the nonce of RFC 3310 3.1.
    let v = auth::generate_vector(&sim(), Sqn::new(33).unwrap_or_else(|| unreachable!()), [0x90, 0x01], [9u8; 16]);
    let mut autn = [0u8; 16];
    autn.copy_from_slice(v.autn.as_slice());
    let nonce = digest::encode_aka_nonce_string(&v.rand, &autn, &[]).unwrap_or_else(|e| panic!("{e}"));
    let realm = "ims.mnc001.mcc001.3gppnetwork.org";
    let www = format!("Digest realm=\"{realm}\",nonce=\"{nonce}\",algorithm=AKAv1-MD5,qop=\"auth\"");
    let t1 = now + Duration::from_millis(1);
    ue.handle_datagram(t1, core(), &respond(&sent[0].1, 401, &[("WWW-Authenticate", www)], ""));
    let sent = drain(&mut ue, t1);
    assert_eq!(sent.len(), 1);
    let reg2 = Message::parse(&sent[0].1).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(reg2.cseq().map(|c| c.seq).ok(), Some(2), "CSeq increments (RFC 3261 10.2.4)");
    assert_eq!(reg2.call_id().ok(), reg1.call_id().ok(), "same Call-ID");
    let a = reg2.authorization().ok().flatten().unwrap_or_else(|| panic!("Authorization"));
    let expect = digest::compute_response(&digest::DigestInput {
        username: b"001011000000005@ims.mnc001.mcc001.3gppnetwork.org",
        realm: realm.as_bytes(),
        password: v.xres.as_slice(),
        method: b"REGISTER",
        uri: format!("sip:{realm}").as_bytes(),
        nonce: nonce.as_bytes(),
        qop: digest::Qop::Auth { nc: b"00000001", cnonce: a.cnonce().unwrap_or(b"") },
        body: &[],
    });
    assert_eq!(a.response(), Some(expect.as_bytes().as_slice()));
    let t2 = t1 + Duration::from_millis(2);
    ue.handle_datagram(t2, core(), &respond(&sent[0].1, 200, &[], ""));
    assert_eq!(
        events(&mut ue),
        vec![UeEvent::Sample(Metric::InitialRegister, t2 - intended), UeEvent::Finished(Action::Register, Ok(()))]
    );
    assert!(ue.is_registered() && ue.is_idle());
    assert_eq!(ue.poll_timeout(), None, "nothing left to do");
}

#[test]
fn unanswered_register_is_retransmitted_then_times_out() {
    let t0 = Instant::now();
    let mut ue = ue(t0);
    assert!(ue.start(t0, t0, Start::Register(Action::Register)).is_ok());
    assert_eq!(drain(&mut ue, t0).len(), 1);
    let mut sends = vec![];
    let mut now = t0;
    while let Some(t) = ue.poll_timeout() {
        now = t;
        ue.handle_timeout(now);
        if !drain(&mut ue, now).is_empty() {
            sends.push(now - t0);
        }
    }
    // Timer E: 0.5, 1.5, 3.5 s (doubling to T2), then the 4 s transaction timeout.
    assert_eq!(sends, vec![T1, T1 * 3, T1 * 7]);
    assert_eq!(now - t0, Duration::from_secs(4));
    assert_eq!(events(&mut ue), vec![UeEvent::Finished(Action::Register, Err((Cause::Timeout, None)))]);
    // A busy UE refuses a second action.
    assert!(ue.start(now, now, Start::Register(Action::Register)).is_ok());
    assert_eq!(ue.start(now, now, Start::Register(Action::Reregister)), Err(Cause::Busy));
}

fn sdp(port: u16) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n")
}

#[test]
fn echo_call_sends_rtp_on_a_20ms_grid_measures_round_trips_and_hangs_up_after_the_hold() {
    let t0 = Instant::now();
    let mut ue = ue(t0);
    let echo = "sip:echo@ims.mnc001.mcc001.3gppnetwork.org";
    assert!(ue.start(t0, t0, Start::Call(Action::EchoCall, echo)).is_ok());
    let invite = drain(&mut ue, t0).remove(0).1;
    let m = Message::parse(&invite).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(m.request_uri_raw(), Some(echo.as_bytes()));
    let t180 = t0 + Duration::from_millis(4);
    ue.handle_datagram(t180, core(), &respond(&invite, 180, &[], ""));
    let t200 = t0 + Duration::from_millis(6);
    let contact = ("Contact", "<sip:echo@127.0.0.1:5060>".to_string());
    let ctype = ("Content-Type", "application/sdp".to_string());
    ue.handle_datagram(t200, core(), &respond(&invite, 200, &[contact, ctype], &sdp(10000)));
    let out = drain(&mut ue, t200);
    assert!(out[0].1.starts_with(b"ACK sip:echo@127.0.0.1:5060 "), "{}", String::from_utf8_lossy(&out[0].1));
    assert!(is_rtp(&out[1].1), "first RTP packet at answer time");
    let media: SocketAddr = "127.0.0.1:10000".parse().unwrap_or_else(|_| unreachable!());
    assert_eq!(out[1].0, media);
    // Echo every packet back 1 ms later, until the UE hangs up.
    let mut pending = vec![(t200 + Duration::from_millis(1), out[1].1.clone())];
    let mut bye = None;
    for _ in 0..100 {
        let next_echo = pending.first().map(|p| p.0);
        let next = [ue.poll_timeout(), next_echo].into_iter().flatten().min();
        let Some(t) = next else { break };
        let now = t;
        if next_echo == Some(t) {
            let (_, p) = pending.remove(0);
            ue.handle_datagram(now, media, &p);
        } else {
            ue.handle_timeout(now);
        }
        for (dst, bytes) in drain(&mut ue, now) {
            if is_rtp(&bytes) {
                pending.push((now + Duration::from_millis(1), bytes));
            } else {
                assert_eq!(dst, core());
                bye = Some((now, bytes));
            }
        }
        if bye.is_some() {
            break;
        }
    }
    let (tbye, bye) = bye.unwrap_or_else(|| panic!("no BYE"));
    assert_eq!(tbye, t200 + Duration::from_millis(100), "hold time");
    assert!(bye.starts_with(b"BYE sip:echo@127.0.0.1:5060 "));
    ue.handle_datagram(tbye + Duration::from_millis(2), core(), &respond(&bye, 200, &[], ""));
    let ev = events(&mut ue);
    let rtts: Vec<_> = ev.iter().filter(|e| matches!(e, UeEvent::Sample(Metric::RtpRoundTrip, _))).collect();
    assert_eq!(rtts.len(), 5, "packets at 0, 20, 40, 60, 80 ms, all echoed before the BYE: {ev:?}");
    assert!(rtts.iter().all(|e| **e == UeEvent::Sample(Metric::RtpRoundTrip, Duration::from_millis(1))));
    assert!(ev.contains(&UeEvent::Sample(Metric::InviteTo180, Duration::from_millis(4))));
    assert!(ev.contains(&UeEvent::Sample(Metric::InviteTo200, Duration::from_millis(6))));
    assert!(ev.contains(&UeEvent::Sample(Metric::ByeTo200, Duration::from_millis(2))));
    assert!(ev.contains(&UeEvent::Media { sent: 5, received: 5, jitter_us: 0 }));
    assert_eq!(ev.last(), Some(&UeEvent::Finished(Action::EchoCall, Ok(()))));
}

#[test]
fn callee_rings_answers_after_the_delay_reflects_rtp_and_accepts_bye() {
    let t0 = Instant::now();
    let mut ue = ue(t0);
    let invite = format!(
        "INVITE sip:001011000000005@127.1.0.1:40000 SIP/2.0\r\nVia: SIP/2.0/UDP {CORE};branch=z9hG4bKb1\r\nRecord-Route: <sip:{CORE};lr>\r\n\
         From: <sip:a@d>;tag=fa\r\nTo: <sip:001011000000005@d>\r\nCall-ID: mt-1\r\nCSeq: 1 INVITE\r\nContact: <sip:rc@{CORE}>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{}",
        sdp(10002).len(),
        sdp(10002)
    );
    ue.handle_datagram(t0, core(), invite.as_bytes());
    let out = drain(&mut ue, t0);
    assert!(out[0].1.starts_with(b"SIP/2.0 180 "));
    assert_eq!(ue.poll_timeout(), Some(t0 + Duration::from_millis(10)), "answer delay");
    let t1 = t0 + Duration::from_millis(10);
    ue.handle_timeout(t1);
    let ok = drain(&mut ue, t1).remove(0).1;
    let m = Message::parse(&ok).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(m.status(), Some(200));
    assert_eq!(m.record_routes().count(), 1, "Record-Route copied (RFC 3261 12.1.1)");
    assert_eq!(super::sipmsg::audio_dst(m.body()), Some(local()));
    // Not ACKed: the 2xx is retransmitted after T1.
    ue.handle_timeout(t1 + T1);
    assert_eq!(drain(&mut ue, t1 + T1).len(), 1);
    let ack = format!("ACK sip:x@127.1.0.1:40000 SIP/2.0\r\nVia: SIP/2.0/UDP {CORE};branch=z9hG4bKb2\r\nFrom: <sip:a@d>;tag=fa\r\nTo: <sip:b@d>;tag=x\r\nCall-ID: mt-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n");
    ue.handle_datagram(t1 + T1, core(), ack.as_bytes());
    let anchor: SocketAddr = "127.0.0.1:10002".parse().unwrap_or_else(|_| unreachable!());
    let rtp = [0x80u8, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4, 0xd5, 0xd5];
    ue.handle_datagram(t1 + T1, anchor, &rtp);
    assert_eq!(drain(&mut ue, t1 + T1), vec![(anchor, rtp.to_vec())], "reflected to its source");
    let bye = ack.replace("ACK ", "BYE ").replace("1 ACK", "2 BYE");
    ue.handle_datagram(t1 + T1, core(), bye.as_bytes());
    let out = drain(&mut ue, t1 + T1);
    assert!(out[0].1.starts_with(b"SIP/2.0 200 "), "{}", String::from_utf8_lossy(&out[0].1));
    assert!(ue.is_idle() && events(&mut ue).is_empty(), "the callee records nothing");
}

#[test]
fn md5_challenge_answered_once_then_a_second_401_is_a_rejection() {
    let t0 = Instant::now();
    let p = Population { credentials: crate::load::profile::Credentials::Md5 { password: "pw{i}".into() }, ..Population::default_range() };
    let sh = Arc::new(Shared { sim: None, ..Arc::unwrap_or_clone(shared(t0)) });
    let mut ue = Ue::new(sh, p.identity(2), local(), None);
    assert!(ue.start(t0, t0, Start::Register(Action::Register)).is_ok());
    let reg = drain(&mut ue, t0).remove(0).1;
    let www = ("WWW-Authenticate", "Digest realm=\"d\",nonce=\"n1\",algorithm=MD5".to_string());
    ue.handle_datagram(t0, core(), &respond(&reg, 401, std::slice::from_ref(&www), ""));
    let reg2 = drain(&mut ue, t0).remove(0).1;
    let m = Message::parse(&reg2).unwrap_or_else(|e| panic!("{e:?}"));
    let a = m.authorization().ok().flatten().unwrap_or_else(|| panic!("Authorization"));
    let expect = digest::compute_response(&digest::DigestInput {
        username: b"001011000000002@ims.mnc001.mcc001.3gppnetwork.org",
        realm: b"d",
        password: b"pw2",
        method: b"REGISTER",
        uri: b"sip:ims.mnc001.mcc001.3gppnetwork.org",
        nonce: b"n1",
        qop: digest::Qop::None,
        body: &[],
    });
    assert_eq!(a.response(), Some(expect.as_bytes().as_slice()));
    ue.handle_datagram(t0, core(), &respond(&reg2, 401, std::slice::from_ref(&www), ""));
    let reg3 = drain(&mut ue, t0).remove(0).1;
    ue.handle_datagram(t0, core(), &respond(&reg3, 401, &[www], ""));
    assert_eq!(events(&mut ue), vec![UeEvent::Finished(Action::Register, Err((Cause::AuthRejected, Some(401))))]);
    assert!(!ue.is_registered() && ue.is_idle());
}

#[test]
fn a_rejected_call_is_acked_on_the_invite_branch_and_reported_with_its_status() {
    let t0 = Instant::now();
    let mut ue = ue(t0);
    assert!(ue.start(t0, t0, Start::Call(Action::UeCall, "sip:other@d")).is_ok());
    let invite = drain(&mut ue, t0).remove(0).1;
    let inv = Message::parse(&invite).unwrap_or_else(|e| panic!("{e:?}"));
    ue.handle_datagram(t0, core(), &respond(&invite, 486, &[], ""));
    let out = drain(&mut ue, t0);
    assert_eq!(out.len(), 1);
    let ack = Message::parse(&out[0].1).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(ack.method(), Some(crate::sip::Method::Ack));
    assert_eq!(ack.via_top().ok().and_then(|v| v.branch()), inv.via_top().ok().and_then(|v| v.branch()), "RFC 3261 17.1.1.3");
    assert!(ack.to().is_ok_and(|t| t.tag() == Some(&b"srv"[..])), "the To tag of the response");
    assert_eq!(events(&mut ue), vec![UeEvent::Finished(Action::UeCall, Err((Cause::Status, Some(486))))]);
    assert_eq!(ue.poll_timeout(), None, "no retransmission after the final response");
}
