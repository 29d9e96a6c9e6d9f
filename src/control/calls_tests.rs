//! Calls driven on a virtual clock: a caller and a registered callee, real
//! SIP text in, worker commands out. Covers PRACK/RAck mapping, session
//! timer negotiation and expiry (BYE on both legs), `dialog_timeout`, and
//! the set-up latencies.

use super::*;
use crate::control::test_out::{removes, stateless};
use crate::endpoint::ToWorker;
use crate::ims::bindings::{Contact, ContactUpdate, RecordKey};
use crate::sip::transaction::{Config as TxConfig, Inbound, TransactionLayer};
use crate::sip::TxView;
use std::net::SocketAddr;
use std::time::Duration;

const D: &str = "ims.mnc001.mcc001.3gppnetwork.org";
const SDP: &str = "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

struct World {
    calls: Calls,
    hss: Hss,
    bindings: Bindings,
    ports: MediaPorts,
    txl: TransactionLayer<u8>,
    lat: Latencies,
    t0: Instant,
}

fn callee_addr() -> SocketAddr {
    "10.0.0.2:5060".parse().expect("literal address")
}

fn world() -> World {
    world_with("", "")
}

/// `global`: top-level properties; `b_props`: more properties of the callee's IMPU.
fn world_with(global: &str, b_props: &str) -> World {
    let cfg = format!(
        "{{ domain: \"{D}\", {global} ue_db: [ {{ imsi: \"001010000000001\", impi: \"a@{D}\", authent_type: \"none\", impu: [\"sip:a\"] }},\n\
         {{ imsi: \"001010000000002\", impi: \"b@{D}\", authent_type: \"none\", impu: [ {{ impu: \"sip:b\" {b_props} }} ] }} ] }}"
    );
    let mut w = world_of(&cfg);
    register_b(&mut w, "", callee_addr());
    w
}

/// The calls of configuration `cfg`, nobody registered.
fn world_of(cfg: &str) -> World {
    let loaded = crate::config::load_str("test", cfg, std::path::Path::new(".")).expect("test config loads");
    let hss = Hss::from_config(&loaded.config).expect("test HSS");
    let mut calls = Calls::new("10.0.0.9:5060".into(), 4, 1);
    calls.set_policy(CallPolicy::from_config(&loaded.config));
    World {
        calls,
        hss,
        bindings: Bindings::new(16),
        ports: MediaPorts::new(20000, 20099, 1, "10.0.0.9".parse().expect("literal address")),
        txl: TransactionLayer::new(TxConfig::with_capacity(16)),
        lat: Latencies::new(),
        t0: Instant::now(),
    }
}

/// Registers callee `b` from `addr` for an hour, as the UE of `imei` (multi_sim; "": none).
fn register_b(w: &mut World, imei: &str, addr: SocketAddr) {
    let key = RecordKey { impi: format!("b@{D}"), imei: imei.into(), emergency: false };
    let contact = Contact::udp_for_test(&format!("sip:b@{addr}"), w.t0 + Duration::from_secs(3600), addr, &format!("reg-b{imei}"));
    let update = ContactUpdate { contact, remove: false };
    w.bindings.update(w.t0, &key, &[format!("sip:b@{D}")], vec![update]).expect("binding stored");
}

fn caller_peer() -> Peer {
    Peer { transport: crate::endpoint::Transport::Udp(SocketId(0)), addr: "10.0.0.1:5060".parse().expect("literal address") }
}

fn request(method: &str, cseq: u32, to_tag: &str, extra: &str, body: &str) -> String {
    let ctype = if body.is_empty() { "" } else { "Content-Type: application/sdp\r\n" };
    format!(
        "{method} sip:b@{D} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK{method}{cseq}\r\nMax-Forwards: 70\r\n\
         From: <sip:a@{D}>;tag=fa\r\nTo: <sip:b@{D}>{to_tag}\r\nCall-ID: call-1\r\nCSeq: {cseq} {method}\r\n\
         Contact: <sip:a@10.0.0.1:5060>\r\n{extra}{ctype}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The text of every SIP message in `out`.
fn texts(out: &[Out]) -> Vec<String> {
    out.iter()
        .filter_map(|(_, c)| match c {
            ToWorker::Respond { msg, .. } | ToWorker::SendRequest { msg, .. } | ToWorker::SendStateless { msg, .. } => Some(String::from_utf8_lossy(msg).into_owned()),
            _ => None,
        })
        .collect()
}

impl World {
    fn tx(&mut self, raw: &str) -> TxId {
        let msg = Message::parse(raw.as_bytes()).expect("test request parses");
        let view = TxView::new(&msg).expect("test request has transaction headers");
        match self.txl.handle_request(self.t0, &view, 1, false) {
            Ok(Inbound::New(id)) => id,
            other => panic!("expected a new transaction, got {other:?}"),
        }
    }

    /// The caller's INVITE; returns the INVITE sent on leg B.
    fn invite(&mut self, extra: &str) -> Vec<String> {
        texts(&self.invite_with(extra, SDP))
    }

    /// The caller's INVITE with `body` (empty: no offer); every command it yields.
    fn invite_with(&mut self, extra: &str, body: &str) -> Vec<Out> {
        let raw = request("INVITE", 7, "", extra, body);
        let tx = self.tx(&raw);
        let msg = Message::parse(raw.as_bytes()).expect("parses");
        self.calls.on_invite(Incoming { now: self.t0, worker: 0, tx, peer: caller_peer(), msg: &msg }, &self.hss, &self.bindings, &mut self.ports)
    }

    /// A call answered (200 with [`SDP`]) and acknowledged: the INVITE sent on leg B.
    fn answered(&mut self) -> Vec<String> {
        let b = self.invite("");
        self.respond(Duration::ZERO, &b[0], "200 OK", "", SDP);
        assert!(self.ack_from_caller().is_empty());
        b
    }

    /// The callee's 2xx to the INVITE `to_b` again, outside its transaction; what we send.
    fn stray_2xx(&mut self, to_b: &str) -> Vec<String> {
        let raw = format!("SIP/2.0 200 OK\r\n{}", to_b.split_once("\r\n").map_or("", |r| r.1));
        texts(&self.calls.on_stray_2xx(&Message::parse(raw.as_bytes()).expect("parses")))
    }

    /// The callee's response to the leg B request `req`.
    fn respond(&mut self, at: Duration, req: &str, status: &str, extra: &str, body: &str) -> Vec<String> {
        texts(&self.respond_out(at, req, status, extra, body))
    }

    /// [`World::respond`]: every command it yields.
    fn respond_out(&mut self, at: Duration, req: &str, status: &str, extra: &str, body: &str) -> Vec<Out> {
        let line = |name: &str| req.lines().find(|l| l.starts_with(name)).unwrap_or("").to_owned();
        let ctype = if body.is_empty() { "" } else { "Content-Type: application/sdp\r\n" };
        let raw = format!(
            "SIP/2.0 {status}\r\n{}\r\n{}\r\n{};tag=tb\r\n{}\r\n{}\r\nContact: <sip:b@{}>\r\n{extra}{ctype}Content-Length: {}\r\n\r\n{body}",
            line("Via:"),
            line("From:"),
            line("To:").split(";tag=").next().unwrap_or(""),
            line("Call-ID:"),
            line("CSeq:"),
            callee_addr(),
            body.len()
        );
        let msg = Message::parse(raw.as_bytes()).expect("test response parses");
        let branch = top_branch(&msg).expect("test response has a Via branch");
        self.calls.on_response(self.t0 + at, branch, &msg, &mut self.ports, &mut self.lat)
    }

    /// The caller's ACK for the 2xx (outside any transaction, RFC 3261 17.1.1.3).
    fn ack_from_caller(&mut self) -> Vec<String> {
        self.ack_from_caller_for(7)
    }

    /// The caller's ACK for the 2xx to its (re-)INVITE with CSeq number `cseq`.
    fn ack_from_caller_for(&mut self, cseq: u32) -> Vec<String> {
        texts(&self.ack_from_caller_with(cseq, ""))
    }

    /// The caller's ACK with `body` (an answer to an offer in the 2xx); every command.
    fn ack_from_caller_with(&mut self, cseq: u32, body: &str) -> Vec<Out> {
        let raw = request("ACK", cseq, ";tag=rca1", "", body);
        let msg = Message::parse(raw.as_bytes()).expect("parses");
        self.calls.on_in_dialog(0, None, &msg, &mut self.ports)
    }

    /// An in-dialog request from the caller.
    fn in_dialog_from_caller(&mut self, method: &str, cseq: u32, extra: &str) -> Vec<String> {
        let raw = request(method, cseq, ";tag=rca1", extra, "");
        let tx = self.tx(&raw);
        let msg = Message::parse(raw.as_bytes()).expect("parses");
        texts(&self.calls.on_in_dialog(0, Some(tx), &msg, &mut self.ports))
    }
}

fn header<'a>(m: &'a str, name: &str) -> &'a str {
    m.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in {m}"))
}

#[test]
fn reliable_180_and_prack_cross_the_b2bua_with_rack_mapped() {
    let mut w = world();
    let b = w.invite("Supported: 100rel\r\n");
    assert!(header(&b[0], "Supported:").contains("100rel"), "{}", b[0]);
    let to_a = w.respond(Duration::from_millis(50), &b[0], "180 Ringing", "Require: 100rel\r\nRSeq: 42\r\n", "");
    assert!(header(&to_a[0], "RSeq:").contains("42") && header(&to_a[0], "Require:").contains("100rel"), "{}", to_a[0]);
    let to_b = w.in_dialog_from_caller("PRACK", 8, "RAck: 42 7 INVITE\r\n");
    assert_eq!(header(&to_b[0], "RAck:"), "RAck: 42 1 INVITE", "{}", to_b[0]);
    assert!(to_b[0].starts_with(&format!("PRACK sip:b@{} SIP/2.0", callee_addr())), "{}", to_b[0]);
}

#[test]
fn session_expires_is_asked_on_leg_b_and_expiry_ends_both_legs() {
    let mut w = world();
    let b = w.invite("Supported: timer\r\nSession-Expires: 120;refresher=uac\r\n");
    assert_eq!(header(&b[0], "Session-Expires:"), "Session-Expires: 120;refresher=uac", "force: the configured refresher");
    assert_eq!(header(&b[0], "Min-SE:"), "Min-SE: 90");
    let answered = Duration::from_secs(1);
    let to_a = w.respond(answered, &b[0], "200 OK", "", SDP);
    assert_eq!(header(&to_a[0], "Session-Expires:"), "Session-Expires: 120;refresher=uac", "{}", to_a[0]);
    assert!(header(&to_a[0], "Require:").contains("timer"));
    assert!(w.ack_from_caller().is_empty());
    // RFC 4028 10: BYE at 120 s less min(32, 40) s.
    let due = w.t0 + answered + Duration::from_secs(88);
    // Deadlines are invalidated lazily: a stale earlier one only wakes us up.
    assert!(w.calls.poll_timeout().is_some_and(|t| t <= due));
    assert!(w.calls.handle_timeout(due - Duration::from_millis(1), &mut w.ports, &mut w.lat).is_empty());
    assert_eq!(w.calls.poll_timeout(), Some(due));
    let byes = texts(&w.calls.handle_timeout(due, &mut w.ports, &mut w.lat));
    let byes: Vec<&String> = byes.iter().filter(|m| m.starts_with("BYE ")).collect();
    assert_eq!(byes.len(), 2, "BYE on both legs: {byes:?}");
    assert!(byes.iter().any(|m| m.starts_with("BYE sip:a@10.0.0.1:5060")) && byes.iter().any(|m| m.starts_with(&format!("BYE sip:b@{}", callee_addr()))));
}

#[test]
fn too_small_session_expires_gets_422() {
    let mut w = world();
    let r = w.invite("Session-Expires: 60\r\n");
    assert!(r[0].starts_with("SIP/2.0 422") && r[0].contains("Min-SE: 90\r\n"), "{}", r[0]);
}

#[test]
fn unanswered_call_is_given_up_after_dialog_timeout() {
    let mut w = world();
    let b = w.invite("");
    w.respond(Duration::from_millis(10), &b[0], "180 Ringing", "", "");
    let due = w.t0 + Duration::from_secs(30);
    assert_eq!(w.calls.poll_timeout(), Some(due));
    let out = texts(&w.calls.handle_timeout(due, &mut w.ports, &mut w.lat));
    assert!(out.iter().any(|m| m.starts_with("SIP/2.0 408")), "{out:?}");
    assert!(out.iter().any(|m| m.starts_with("CANCEL ")), "{out:?}");
    assert!(w.calls.handle_timeout(due + Duration::from_secs(60), &mut w.ports, &mut w.lat).is_empty(), "given up once");
}

#[test]
fn set_up_latencies_are_recorded_once() {
    let mut w = world();
    let b = w.invite("");
    w.respond(Duration::from_millis(120), &b[0], "180 Ringing", "", "");
    w.respond(Duration::from_millis(150), &b[0], "180 Ringing", "", "");
    w.respond(Duration::from_millis(800), &b[0], "200 OK", "", SDP);
    let ring = w.lat.summary(LatencyKind::InviteToRinging);
    let answer = w.lat.summary(LatencyKind::InviteToAnswer);
    assert_eq!((ring.count, answer.count), (1, 1));
    assert!((119_000..=121_000).contains(&ring.max), "{ring:?}");
    assert!((799_000..=801_000).contains(&answer.max), "{answer:?}");
}

#[test]
fn finished_calls_leave_no_state_behind() {
    // A caller's BYE: answered, relayed as BYE on leg B, and the call is gone at once (the
    // 200 to that BYE needs no state); the same after session expiry (BYE on both legs).
    let mut w = world();
    let b = w.invite("");
    w.respond(Duration::from_millis(10), &b[0], "200 OK", "", SDP);
    assert_eq!(w.calls.len(), 1);
    let out = w.in_dialog_from_caller("BYE", 8, "");
    assert!(out.iter().any(|m| m.starts_with("SIP/2.0 200")) && out.iter().any(|m| m.starts_with("BYE ")), "{out:?}");
    assert!(w.calls.is_empty(), "the call is forgotten after BYE");
    assert_eq!(w.calls.outcomes.get(&200), Some(&1), "outcome counted once");
    let bye_b = out.iter().find(|m| m.starts_with("BYE ")).cloned().unwrap_or_default();
    assert!(w.respond(Duration::from_millis(20), &bye_b, "200 OK", "", "").is_empty(), "the BYE's 200 is absorbed");
    assert!(w.calls.is_empty());

    let mut w = world();
    let b = w.invite("Supported: timer\r\nSession-Expires: 120;refresher=uac\r\n");
    w.respond(Duration::from_secs(1), &b[0], "200 OK", "", SDP);
    let due = w.calls.poll_timeout().unwrap_or(w.t0) + Duration::from_secs(200);
    let _ = w.calls.handle_timeout(due, &mut w.ports, &mut w.lat);
    assert!(w.calls.is_empty(), "an expired session is forgotten");
}

#[test]
fn ringcore_re_invites_each_leg_and_acknowledges_the_2xx() {
    let mut w = world();
    let b = w.invite("");
    assert!(w.calls.reoffer("call-1", vec![("call-1".into(), SDP.into())]).is_some_and(|r| r.is_err()), "not answered yet");
    w.respond(Duration::from_secs(1), &b[0], "200 OK", "", SDP);
    let (a_leg, b_leg) = w.calls.legs("call-1").expect("a relayed call");
    assert_eq!(w.calls.legs(&b_leg), Some((a_leg.clone(), b_leg.clone())), "either Call-ID finds the call");
    let d = w.calls.dialog_of(w.t0 + Duration::from_secs(3), &b_leg).expect("known leg");
    assert_eq!((d.id, d.state, d.age, d.ue_leg), ("call-1", "start", Duration::from_secs(3), false));
    let out = w.calls.reoffer("call-1", vec![(a_leg.clone(), SDP.into()), (b_leg.clone(), SDP.into())]).expect("a call").expect("answered");
    let reinvites = texts(&out);
    assert_eq!(reinvites.len(), 2);
    assert!(reinvites[0].starts_with("INVITE sip:a@10.0.0.1:5060 ") && header(&reinvites[0], "CSeq:") == "CSeq: 1 INVITE", "{}", reinvites[0]);
    assert!(reinvites[1].starts_with(&format!("INVITE sip:b@{} ", callee_addr())) && header(&reinvites[1], "CSeq:") == "CSeq: 2 INVITE", "{}", reinvites[1]);
    assert!(reinvites.iter().all(|m| m.contains("Content-Type: application/sdp") && m.ends_with(SDP)));
    // RFC 3261 13.2.2.4: the 2xx of each leg is acknowledged on that leg, same CSeq number.
    let acks = w.respond(Duration::from_secs(4), &reinvites[0], "200 OK", "", SDP);
    assert!(acks.len() == 1 && acks[0].starts_with("ACK sip:a@10.0.0.1:5060 ") && header(&acks[0], "CSeq:") == "CSeq: 1 ACK", "{acks:?}");
    let acks = w.respond(Duration::from_secs(4), &reinvites[1], "200 OK", "", SDP);
    assert!(acks.len() == 1 && acks[0].starts_with("ACK ") && header(&acks[0], "CSeq:") == "CSeq: 2 ACK" && header(&acks[0], "Call-ID:").contains(&b_leg), "{acks:?}");
    // A provisional or an error needs nothing from the B2BUA.
    assert!(w.respond(Duration::from_secs(5), &reinvites[0], "180 Ringing", "", "").is_empty());
    assert!(w.respond(Duration::from_secs(5), &reinvites[0], "491 Request Pending", "", "").is_empty());
    assert!(w.calls.reoffer("nope", Vec::new()).is_none());
}

#[test]
fn a_transparent_modifier_without_code_decorates_the_relayed_180() {
    let rule = ", callflow_modifier: { method: \"INVITE.RINGING\", transparent: true, custom_headers: [ { name: \"X-Lab\", value: \"ringing\" } ] }";
    let mut w = world_with("", rule);
    let b = w.invite("");
    let to_a = w.respond(Duration::from_millis(10), &b[0], "180 Ringing", "", "");
    assert_eq!(to_a.len(), 1, "{to_a:?}");
    assert!(to_a[0].starts_with("SIP/2.0 180") && header(&to_a[0], "X-Lab:") == "X-Lab: ringing", "{}", to_a[0]);
}

#[test]
fn p_called_party_id_goes_on_leg_b_when_configured() {
    let mut w = world_with("p_called_party_id: true,", "");
    let b = w.invite("");
    assert_eq!(header(&b[0], "P-Called-Party-ID:"), format!("P-Called-Party-ID: <sip:b@{D}>"));
    let mut w = world();
    let b = w.invite("");
    assert!(!b[0].contains("P-Called-Party-ID"), "default false: {}", b[0]);
}

#[test]
fn dialog_set_stop_puts_the_reason_on_both_legs() {
    // seed 000 dialog_set stop with code/reason/reason_protocol: RFC 3326 Reason on each BYE.
    let reason = crate::control::dialogs::Reason::new(Some("Q.850"), Some(16), Some("operator")).expect("valid").expect("given");
    let mut w = world();
    let b = w.invite("");
    w.respond(Duration::from_millis(10), &b[0], "200 OK", "", SDP);
    let out = texts(&w.calls.stop("call-1", Some(&reason), &mut w.ports).expect("a relayed call"));
    let byes: Vec<_> = out.iter().filter(|m| m.starts_with("BYE ")).collect();
    assert_eq!(byes.len(), 2, "{out:?}");
    assert!(byes.iter().all(|m| header(m, "Reason:") == "Reason: Q.850;cause=16;text=\"operator\""), "{byes:?}");

    // Unanswered: the 408 to the caller and the CANCEL to the callee carry it.
    let reason = crate::control::dialogs::Reason::new(None, Some(480), None).expect("valid");
    let mut w = world();
    let b = w.invite("");
    w.respond(Duration::from_millis(10), &b[0], "180 Ringing", "", "");
    let out = texts(&w.calls.stop("call-1", reason.as_ref(), &mut w.ports).expect("a relayed call"));
    let cancel = out.iter().find(|m| m.starts_with("CANCEL ")).expect("CANCEL on leg B");
    let rejected = out.iter().find(|m| m.starts_with("SIP/2.0 408")).expect("408 to the caller");
    assert_eq!(header(cancel, "Reason:"), "Reason: SIP;cause=480");
    assert_eq!(header(rejected, "Reason:"), "Reason: SIP;cause=480");
    // Without a reason (dialog_timeout), no Reason header.
    let mut w = world();
    let b = w.invite("");
    w.respond(Duration::from_millis(10), &b[0], "200 OK", "", SDP);
    let out = texts(&w.calls.stop("call-1", None, &mut w.ports).expect("a relayed call"));
    assert!(out.iter().all(|m| !m.contains("\r\nReason:")), "{out:?}");
}


#[test]
fn rfc3261_13_3_1_4_the_relayed_2xx_is_retransmitted_until_the_ack() {
    let mut w = world_with("timer_t1: 0.5, timer_t2: 4,", "");
    let b = w.invite("");
    let to_a = w.respond(Duration::from_millis(10), &b[0], "200 OK", "", SDP);
    let ok = to_a.iter().find(|m| m.starts_with("SIP/2.0 200")).expect("2xx relayed").clone();
    let t1 = w.t0 + Duration::from_millis(510);
    // Not yet due, then due at T1: the same 2xx again, outside the transaction.
    assert!(stateless(&w.calls.handle_timeout(t1 - Duration::from_millis(1), &mut w.ports, &mut w.lat)).is_empty());
    assert_eq!(w.calls.poll_timeout(), Some(t1));
    assert_eq!(stateless(&w.calls.handle_timeout(t1, &mut w.ports, &mut w.lat)), std::slice::from_ref(&ok));
    // Doubled: the next one 1 s later.
    assert_eq!(w.calls.poll_timeout(), Some(t1 + Duration::from_secs(1)));
    assert!(w.ack_from_caller().is_empty());
    assert!(w.calls.handle_timeout(t1 + Duration::from_secs(1), &mut w.ports, &mut w.lat).is_empty(), "the ACK stopped them");
    assert_eq!(w.calls.len(), 1, "the call goes on");
}

#[test]
fn rfc3261_13_3_1_4_no_ack_for_64_t1_ends_the_session_with_bye() {
    let mut w = world_with("timer_t1: 0.5, timer_t2: 4,", "");
    let b = w.invite("");
    w.respond(Duration::ZERO, &b[0], "200 OK", "", SDP);
    let (mut resent, mut byes) = (0, Vec::new());
    while let Some(at) = w.calls.poll_timeout().filter(|t| *t <= w.t0 + Duration::from_secs(40)) {
        let out = texts(&w.calls.handle_timeout(at, &mut w.ports, &mut w.lat));
        resent += out.iter().filter(|m| m.starts_with("SIP/2.0 200")).count();
        byes.extend(out.into_iter().filter(|m| m.starts_with("BYE ")));
    }
    // 0.5, 1.5, 3.5, 7.5, then every 4 s (T2) until 31.5 s: 10 retransmissions.
    assert_eq!(resent, 10);
    assert_eq!(byes.len(), 2, "BYE on both legs: {byes:?}");
    assert!(byes.iter().all(|m| m.contains("Reason: SIP;cause=408;text=\"no ACK for the 2xx\"")), "{byes:?}");
    assert!(w.calls.is_empty());
}

#[test]
fn a_kept_row_is_refreshed_in_place_to_the_row_built_anew() {
    let mut w = world();
    let b = w.invite("");
    let mut kept = w.calls.dialog_row(w.t0, "call-1").expect("a relayed call");
    assert_eq!((kept.state, kept.age), ("init", Duration::ZERO));
    let (id_buf, from_buf, to_buf) = (kept.id.as_ptr(), kept.from.as_ptr(), kept.to.as_ptr());
    w.respond(Duration::from_secs(1), &b[0], "200 OK", "", SDP);
    let (_, b_leg) = w.calls.legs("call-1").expect("a relayed call");
    let at = w.t0 + Duration::from_secs(2);
    // Either leg's Call-ID finds the call; the row equals one built anew, its strings unmoved.
    assert!(w.calls.refresh_row(at, &b_leg, &mut kept));
    assert_eq!(Some(&kept), w.calls.dialog_row(at, "call-1").as_ref());
    assert_eq!((kept.state, kept.age), ("start", Duration::from_secs(2)));
    assert_eq!((kept.id.as_ptr(), kept.from.as_ptr(), kept.to.as_ptr()), (id_buf, from_buf, to_buf));
    assert!(!w.calls.refresh_row(at, "nope", &mut kept));
}

/// The peers the SendStateless commands of `out` go to.
fn stateless_peers(out: &[Out]) -> Vec<SocketAddr> {
    out.iter()
        .filter_map(|(_, c)| match c {
            ToWorker::SendStateless { peer, .. } => Some(peer.addr),
            _ => None,
        })
        .collect()
}

#[test]
fn rfc3261_13_3_1_4_the_2xx_of_a_relayed_re_invite_is_retransmitted_to_its_sender() {
    let mut w = world_with("timer_t1: 0.5, timer_t2: 4,", "");
    let b = w.answered();
    let at = |w: &World, ms: u64| w.t0 + Duration::from_millis(ms);

    // The caller's re-INVITE (CSeq 8): its 2xx goes to the caller until the ACK with CSeq 8.
    let to_b = w.in_dialog_from_caller("INVITE", 8, "");
    let out = w.respond(Duration::from_secs(1), &to_b[0], "200 OK", "", SDP);
    let ok = out.iter().find(|m| m.starts_with("SIP/2.0 200")).expect("the 2xx relayed to the caller").clone();
    assert_eq!(header(&ok, "CSeq:"), "CSeq: 8 INVITE");
    let due = w.calls.handle_timeout(at(&w, 1500), &mut w.ports, &mut w.lat);
    assert_eq!((stateless(&due), stateless_peers(&due)), (vec![ok.clone()], vec![caller_peer().addr]));
    assert!(w.ack_from_caller_for(7).is_empty(), "a late ACK of the INVITE");
    assert_eq!(stateless(&w.calls.handle_timeout(at(&w, 2500), &mut w.ports, &mut w.lat)), std::slice::from_ref(&ok), "still due, 1 s later");
    // The re-INVITE had no offer, so the 2xx's SDP was one: our ACK on leg B waited for
    // the caller's (RFC 3264 4), which has no answer here, and goes out as it came.
    let acks = w.ack_from_caller_for(8);
    assert!(acks.len() == 1 && acks[0].starts_with(&format!("ACK sip:b@{}", callee_addr())), "{acks:?}");
    assert!(stateless(&w.calls.handle_timeout(at(&w, 4500), &mut w.ports, &mut w.lat)).is_empty(), "the ACK stopped them");

    // The callee's re-INVITE on leg B, never ACKed: its 2xx goes to the callee, then BYEs.
    let (_, b_leg) = w.calls.legs("call-1").expect("a relayed call");
    let ours = header(&b[0], "From:").trim_start_matches("From:").trim().to_owned();
    let raw = format!(
        "INVITE sip:ringcore@10.0.0.9:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {}:5060;branch=z9hG4bKbre1\r\nMax-Forwards: 70\r\n\
         From: <sip:b@{D}>;tag=tb\r\nTo: {ours}\r\nCall-ID: {b_leg}\r\nCSeq: 2 INVITE\r\nContact: <sip:b@{}>\r\nContent-Length: 0\r\n\r\n",
        callee_addr().ip(),
        callee_addr()
    );
    let tx = w.tx(&raw);
    let msg = Message::parse(raw.as_bytes()).expect("parses");
    let to_a = texts(&w.calls.on_in_dialog(0, Some(tx), &msg, &mut w.ports));
    assert!(to_a[0].starts_with("INVITE sip:a@10.0.0.1:5060 "), "relayed to the caller: {}", to_a[0]);
    let out = w.respond(Duration::from_secs(10), &to_a[0], "200 OK", "", SDP);
    let ok = out.iter().find(|m| m.starts_with("SIP/2.0 200")).expect("the 2xx relayed to the callee").clone();
    assert_eq!(header(&ok, "CSeq:"), "CSeq: 2 INVITE");
    let (mut resent, mut peers, mut byes) = (0, Vec::new(), Vec::new());
    while let Some(t) = w.calls.poll_timeout().filter(|t| *t <= at(&w, 50_000)) {
        let out = w.calls.handle_timeout(t, &mut w.ports, &mut w.lat);
        resent += stateless(&out).iter().filter(|m| **m == ok).count();
        peers.extend(stateless_peers(&out));
        byes.extend(texts(&out).into_iter().filter(|m| m.starts_with("BYE ")));
    }
    assert_eq!(resent, 10, "0.5, 1.5, 3.5, 7.5, then every 4 s until 31.5 s");
    assert!(peers.iter().all(|p| *p == callee_addr()), "{peers:?}");
    assert_eq!(byes.len(), 2, "BYE on both legs: {byes:?}");
    assert!(byes.iter().all(|m| m.contains("Reason: SIP;cause=408;text=\"no ACK for the 2xx\"")), "{byes:?}");
    assert!(w.calls.is_empty());
}

#[test]
fn request_numbers_are_written_in_decimal() {
    let mut buf = itoa_buf();
    for (n, text) in [(0usize, "0"), (7, "7"), (10, "10"), (65535, "65535"), (usize::MAX, "18446744073709551615")] {
        assert_eq!(decimal(&mut buf, n), text);
    }
}

#[test]
fn top_branch_reads_what_via_top_parses() {
    let vias = [
        "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKrc1i2.0a0b0c0d",
        "SIP/2.0/UDP 127.0.0.1:5060;rport=5061;received=10.0.0.1;BRANCH=z9hG4bKx",
        "SIP/2.0/TCP [2001:db8::1]:5070 ;branch=z9hG4bKv6;rport",
        "SIP/2.0/UDP host;branch=z9hG4bKfirst, SIP/2.0/UDP other;branch=z9hG4bKsecond",
        "SIP/2.0/UDP host;rport",
        "SIP / 2.0 / UDP host ; branch = z9hG4bKspaced",
        "SIP/2.0/UDP host;x=\"a;branch=z9hG4bKquoted\";branch=z9hG4bKreal",
    ];
    for via in vias {
        let text = format!("SIP/2.0 200 OK\r\nVia: {via}\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
        let msg = Message::parse(text.as_bytes()).expect("response");
        let parsed = msg.via_top().ok().and_then(|v| v.branch());
        assert!(msg.via_top().is_ok(), "{via}");
        assert_eq!(top_branch(&msg), parsed, "{via}");
    }
}

/// The relay commands of `out`: (port, install or update, remote RTP address).
fn relays(out: &[Out]) -> Vec<(u16, &'static str, Option<SocketAddr>)> {
    out.iter()
        .filter_map(|(_, c)| match c {
            ToWorker::MediaInstall { port, spec } => Some((*port, "install", spec.remote_rtp)),
            ToWorker::MediaUpdate { port, spec } => Some((*port, "update", spec.remote_rtp)),
            _ => None,
        })
        .collect()
}

/// The port of the `m=<kind>` line of message `m`'s SDP.
fn m_port(m: &str, kind: &str) -> u16 {
    header(m, &format!("m={kind} ")).split(' ').nth(1).and_then(|p| p.parse().ok()).expect("a port")
}

/// The callee's voice and video from 10.0.0.2: its answer to a video upgrade, or its
/// offer in a 2xx.
const B_AV: &str = "v=0\r\no=b 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n\
                    m=video 5002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n";

#[test]
fn video_added_by_a_re_invite_is_anchored_on_a_new_relay_pair() {
    // RFC 3264 8.1: the caller adds a video stream to the voice call; the callee
    // sees it on our ports, and the caller our answer's ports.
    let mut w = world();
    let b = w.answered();
    let audio_b = m_port(&b[0], "audio");
    let av = format!("{SDP}m=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n");
    let raw = request("INVITE", 8, ";tag=rca1", "", &av);
    let tx = w.tx(&raw);
    let msg = Message::parse(raw.as_bytes()).expect("parses");
    let out = w.calls.on_in_dialog(0, Some(tx), &msg, &mut w.ports);
    let to_b = texts(&out).remove(0);
    let video_b = m_port(&to_b, "video");
    assert_eq!(m_port(&to_b, "audio"), audio_b, "the audio keeps its relay");
    assert!(video_b != 0 && video_b != audio_b, "{to_b}");
    let installed = relays(&out);
    assert_eq!(installed.len(), 2, "{installed:?}");
    let video_a = installed.iter().map(|r| r.0).find(|p| *p != video_b).expect("the caller-facing port");
    assert!(installed.contains(&(video_a, "install", Some("10.0.0.1:4002".parse().expect("literal")))));
    assert!(installed.contains(&(video_b, "install", None)), "the callee's address is not known yet");
    // The callee's answer: the caller sees our caller-facing port, and the callee-facing
    // relay learns the callee's video address.
    let out = w.respond_out(Duration::from_secs(1), &to_b, "200 OK", "", B_AV);
    let ok = texts(&out).into_iter().find(|m| m.starts_with("SIP/2.0 200")).expect("the 2xx relayed to the caller");
    assert_eq!(m_port(&ok, "video"), video_a, "{ok}");
    assert_eq!(relays(&out), [(video_b, "update", Some("10.0.0.2:5002".parse().expect("literal")))]);
    let row = w.calls.dialog_row(w.t0, "call-1").expect("a relayed call");
    assert_eq!(row.media.iter().map(|m| m.section).collect::<Vec<_>>(), [0, 1], "dialog_get lists both streams");
    // The BYE removes all four relays and frees both pairs.
    assert!(w.ack_from_caller_for(8).is_empty());
    let raw = request("BYE", 9, ";tag=rca1", "", "");
    let tx = w.tx(&raw);
    let msg = Message::parse(raw.as_bytes()).expect("parses");
    let out = w.calls.on_in_dialog(0, Some(tx), &msg, &mut w.ports);
    let removed = out.iter().filter(|(_, c)| matches!(c, ToWorker::MediaRemove { .. })).count();
    assert_eq!(removed, 4);
    assert_eq!(w.ports.available_on(0), 50, "every pair of the range is free again");
}

/// An answered call, then the caller's re-INVITE adding video: the world, the relayed
/// re-INVITE and the two ports its video relay took (in ascending order).
fn call_upgraded_to_video() -> (World, String, [u16; 2]) {
    let mut w = world();
    w.answered();
    let av = format!("{SDP}m=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n");
    let raw = request("INVITE", 8, ";tag=rca1", "", &av);
    let tx = w.tx(&raw);
    let msg = Message::parse(raw.as_bytes()).expect("parses");
    let out = w.calls.on_in_dialog(0, Some(tx), &msg, &mut w.ports);
    let installed: Vec<u16> = relays(&out).iter().map(|r| r.0).collect();
    let to_b = texts(&out).remove(0);
    let mut video = [installed[0], installed[1]];
    video.sort_unstable();
    (w, to_b, video)
}

#[test]
fn a_refused_video_upgrade_gives_its_relay_back() {
    // RFC 3261 14.1: the failed re-INVITE leaves the session as it was (voice only).
    let (mut w, to_b, video) = call_upgraded_to_video();
    let before = w.ports.available_on(0);
    let out = w.respond_out(Duration::from_secs(1), &to_b, "488 Not Acceptable Here", "", "");
    assert!(texts(&out).iter().any(|m| m.starts_with("SIP/2.0 488")), "{:?}", texts(&out));
    assert_eq!(removes(&out), video);
    assert_eq!(w.ports.available_on(0), before + 2, "both ports back in the pool");
    let row = w.calls.dialog_row(w.t0, "call-1").expect("a relayed call");
    assert_eq!(row.media.len(), 1, "the voice relay stays");
}

#[test]
fn a_video_upgrade_answered_at_port_0_gives_its_relay_back() {
    // RFC 3264 6: the callee declines the added stream; the caller sees port 0 too.
    let (mut w, to_b, video) = call_upgraded_to_video();
    let answer = "v=0\r\no=b 1 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n\
                  m=video 0 RTP/AVP 96\r\n";
    let out = w.respond_out(Duration::from_secs(1), &to_b, "200 OK", "", answer);
    let ok = texts(&out).into_iter().find(|m| m.starts_with("SIP/2.0 200")).expect("relayed");
    assert_eq!(m_port(&ok, "video"), 0, "{ok}");
    assert_eq!(removes(&out), video);
    // A later offer may enable it again, on a new pair.
    assert!(w.ack_from_caller_for(8).is_empty());
    let av = format!("{SDP}m=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n");
    let raw = request("INVITE", 9, ";tag=rca1", "", &av);
    let tx = w.tx(&raw);
    let msg = Message::parse(raw.as_bytes()).expect("parses");
    let out = w.calls.on_in_dialog(0, Some(tx), &msg, &mut w.ports);
    assert_eq!(relays(&out).len(), 2, "relays again");
    assert_ne!(m_port(&texts(&out)[0], "video"), 0);
}

/// The caller's answer to [`B_AV`] from 10.0.0.1, accepting both streams.
const A_ANSWER: &str = "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n\
                        m=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n";

/// The ACK requests (RFC 3261 17.1.1.3: sent without a transaction) in `out`.
fn acks(out: &[Out]) -> Vec<String> {
    texts(out).into_iter().filter(|m| m.starts_with("ACK ")).collect()
}

#[test]
fn a_late_offer_in_the_callees_2xx_is_answered_by_the_callers_ack() {
    // RFC 3264 4, RFC 3261 13.2.1: the INVITE has no offer, the callee's 2xx carries it
    // and the caller's ACK the answer. Our ACK on leg B waits for that answer and carries
    // it; both sides see our ports, and the relays learn both sides' addresses.
    let mut w = world();
    let out = w.invite_with("", "");
    let to_b = texts(&out).remove(0);
    assert!(to_b.starts_with("INVITE ") && to_b.ends_with("\r\n\r\n"), "no offer onwards: {to_b}");
    let before = w.ports.available_on(0);
    let out = w.respond_out(Duration::from_secs(1), &to_b, "200 OK", "", B_AV);
    assert!(acks(&out).is_empty(), "no ACK before the caller's answer");
    let ok = texts(&out).into_iter().find(|m| m.starts_with("SIP/2.0 200")).expect("the 2xx relayed to the caller");
    assert!(ok.contains("c=IN IP4 10.0.0.9\r\n") && !ok.contains("c=IN IP4 10.0.0.2"), "the offer points at us: {ok}");
    let (audio_a, video_a) = (m_port(&ok, "audio"), m_port(&ok, "video"));
    assert!(audio_a != 0 && video_a != 0 && audio_a != video_a, "{ok}");
    assert_eq!(w.ports.available_on(0), before - 4, "two relay pairs");
    // A retransmitted 2xx meanwhile is not acknowledged without the answer.
    assert!(w.stray_2xx(&to_b).is_empty());

    let out = w.ack_from_caller_with(7, A_ANSWER);
    let ack = acks(&out);
    assert_eq!(ack.len(), 1, "{:?}", texts(&out));
    assert!(ack[0].starts_with(&format!("ACK sip:b@{}", callee_addr())) && ack[0].contains("Content-Type: application/sdp\r\n"), "{}", ack[0]);
    assert!(ack[0].contains("c=IN IP4 10.0.0.9\r\n") && !ack[0].contains("c=IN IP4 10.0.0.1"), "the answer points at us: {}", ack[0]);
    let (audio_b, video_b) = (m_port(&ack[0], "audio"), m_port(&ack[0], "video"));
    let installed = relays(&out);
    assert_eq!(installed.len(), 4, "{installed:?}");
    let sent_to = |port: u16| installed.iter().find(|r| r.0 == port).and_then(|r| r.2);
    assert_eq!(sent_to(audio_a), Some("10.0.0.1:4000".parse().expect("literal")), "the caller-facing relay sends to the caller");
    assert_eq!(sent_to(video_b), Some("10.0.0.2:5002".parse().expect("literal")), "the callee-facing relay sends to the callee");
    assert!(audio_b != 0 && installed.iter().all(|r| r.1 == "install"));
    // The ACK again for a 2xx retransmitted after it: the same answer.
    assert_eq!(w.stray_2xx(&to_b), ack);
}

#[test]
fn a_late_offer_in_a_re_invites_2xx_may_add_video() {
    // A re-INVITE without an offer: the callee's 2xx offers voice and video; the new
    // video gets a relay pair, and the caller's answer travels in our ACK on leg B.
    let mut w = world();
    w.answered();
    let to_b = w.in_dialog_from_caller("INVITE", 8, "").remove(0);
    let out = w.respond_out(Duration::from_secs(1), &to_b, "200 OK", "", B_AV);
    assert!(acks(&out).is_empty(), "no ACK before the caller's answer");
    let ok = texts(&out).into_iter().find(|m| m.starts_with("SIP/2.0 200")).expect("the 2xx relayed to the caller");
    let video_a = m_port(&ok, "video");
    assert_ne!(video_a, 0, "the added stream is relayed: {ok}");
    assert_eq!(relays(&out).len(), 2, "one new pair");
    let out = w.ack_from_caller_with(8, A_ANSWER);
    let ack = acks(&out);
    assert_eq!(ack.len(), 1, "{:?}", texts(&out));
    assert_eq!(header(&ack[0], "CSeq:"), "CSeq: 2 ACK", "{}", ack[0]);
    let video_b = m_port(&ack[0], "video");
    assert!(video_b != 0 && video_b != video_a, "{}", ack[0]);
    let row = w.calls.dialog_row(w.t0, "call-1").expect("a relayed call");
    assert_eq!(row.media.len(), 2, "dialog_get lists both streams");
}

#[test]
fn a_downgrade_by_ringcore_frees_the_video_relay_once_answered() {
    // dialog_set downgrade: ringcore's re-INVITEs offer the video at port 0 on each leg
    // (RFC 3264 8.2); the first 2xx answering it so removes the video relay and frees its
    // pair, the second finds nothing more to remove.
    let (mut w, to_b, video) = call_upgraded_to_video();
    w.respond(Duration::from_secs(1), &to_b, "200 OK", "", B_AV);
    assert!(w.ack_from_caller_for(8).is_empty());
    let before = w.ports.available_on(0);
    let voice_only = format!("{SDP}m=video 0 RTP/AVP 96\r\n");
    let (a_leg, b_leg) = w.calls.legs("call-1").expect("a relayed call");
    let out = w.calls.reoffer("call-1", vec![(a_leg, voice_only.clone().into()), (b_leg, voice_only.clone().into())]).expect("a call").expect("answered");
    let reinvites = texts(&out);
    let out = w.respond_out(Duration::from_secs(2), &reinvites[0], "200 OK", "", &voice_only);
    assert_eq!(removes(&out), video);
    assert_eq!(w.ports.available_on(0), before + 2, "both ports back in the pool");
    let out = w.respond_out(Duration::from_secs(2), &reinvites[1], "200 OK", "", &voice_only);
    assert!(removes(&out).is_empty() && acks(&out).len() == 1, "{:?}", texts(&out));
    let row = w.calls.dialog_row(w.t0, "call-1").expect("a relayed call");
    assert_eq!(row.media.len(), 1, "the voice relay stays");
}

#[path = "calls_callee_tests.rs"]
mod callee;
