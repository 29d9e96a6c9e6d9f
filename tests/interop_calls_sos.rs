//! Emergency calls (TS 24.229 5.2.10, RFC 5031 service URNs) and the SIP
//! trunk of seed 000, through a running ringcore, with scripted UEs over UDP:
//! an emergency-registered UE reaches the echo service at urn:service:sos and
//! is refused (403) anything else; the `emergency_target` IMPU receives
//! urn:service:sos.* calls; an anonymous caller is accepted only where ue_db
//! allows it; calls to unknown users go to the trunk and the trunk's calls
//! reach registered UEs without authentication; ue_db callflow_modifier
//! rules answer an INVITE with their code or turn the callee's 180 into a
//! failure (the callee is cancelled).

mod common;
use common::{header_line, recv_sip, respond, Core};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";
const OFFER: &str = "v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

fn ue_db() -> String {
    format!(
        "ue_db: [ {{ imsi: \"001010000000901\", impi: \"ue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:ue\"] }},\n\
         {{ imsi: \"001010000000902\", impi: \"psap@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:psap\"] }},\n\
         {{ imsi: \"001010000000903\", impi: \"anon@{DOMAIN}\", authent_type: \"none\", impu: [{{ impu: \"sip:anon\", anonymous: ANON }}] }} ],\n"
    )
}

fn socket(ip: &str) -> UdpSocket {
    let s = UdpSocket::bind(format!("{ip}:0")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Registers `user` from `s` (an emergency registration when `sos`, TS 24.229 5.1.6.2).
fn register(s: &UdpSocket, core: SocketAddr, user: &str, sos: bool) {
    let m = register_answer(s, core, user, sos);
    assert!(m.starts_with("SIP/2.0 200"), "{m}");
}

/// Sends a REGISTER for `user` and returns the answer.
fn register_answer(s: &UdpSocket, core: SocketAddr, user: &str, sos: bool) -> String {
    let l = s.local_addr().unwrap();
    let param = if sos { ";sos" } else { "" };
    let reg = format!(
        "REGISTER sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKreg{user}{sos}\r\nMax-Forwards: 70\r\nFrom: <sip:{user}@{DOMAIN}>;tag=r\r\n\
         To: <sip:{user}@{DOMAIN}>\r\nCall-ID: reg-{user}\r\nCSeq: 1 REGISTER\r\nContact: <sip:{user}@{l}>{param}\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"
    );
    s.send_to(reg.as_bytes(), core).unwrap();
    recv_sip(s).0
}

/// Sends an INVITE from `from` (a full URI) to `ruri`.
fn invite(s: &UdpSocket, core: SocketAddr, from: &str, ruri: &str, call_id: &str) {
    let l = s.local_addr().unwrap();
    let m = format!(
        "INVITE {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bK{call_id}\r\nMax-Forwards: 70\r\nFrom: <{from}>;tag=c1\r\n\
         To: <{ruri}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:c@{l}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{OFFER}",
        OFFER.len()
    );
    s.send_to(m.as_bytes(), core).unwrap();
}

/// The first final response on `s` (provisional ones and requests skipped).
fn final_response(s: &UdpSocket) -> String {
    loop {
        let (m, _) = recv_sip(s);
        if m.starts_with("SIP/2.0 1") || !m.starts_with("SIP/2.0") {
            continue;
        }
        return m;
    }
}

/// ACK for the 2xx `ok` then BYE, and its 200.
fn ack_and_bye(s: &UdpSocket, core: SocketAddr, ok: &str, ruri: &str) {
    let l = s.local_addr().unwrap();
    let (from, to, cid) = (header_line(ok, "From:"), header_line(ok, "To:"), header_line(ok, "Call-ID:"));
    for (method, cseq) in [("ACK", 1), ("BYE", 2)] {
        let m = format!(
            "{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bK{method}x\r\nMax-Forwards: 70\r\n{from}\r\n{to}\r\n{cid}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
        );
        s.send_to(m.as_bytes(), core).unwrap();
    }
    let r = final_response(s);
    assert!(r.starts_with("SIP/2.0 200") && header_line(&r, "CSeq:").contains("BYE"), "{r}");
}

/// An emergency-registered UE: urn:service:sos answered by the echo service;
/// an ordinary call over the same registration refused with 403 (TS 24.229
/// 5.2.10.3); an anonymous caller refused without ue_db `anonymous`.
#[test]
fn emergency_registration_reaches_echo_and_nothing_else() {
    let core = Core::start("sos-echo", &ue_db().replace("ANON", "false"));
    let ue = socket("127.0.0.1");
    register(&ue, core.sip, "ue", true);
    let from = format!("sip:ue@{DOMAIN}");
    invite(&ue, core.sip, &from, "urn:service:sos", "sos-1");
    let ok = final_response(&ue);
    assert!(ok.starts_with("SIP/2.0 200"), "echo answers the emergency call: {ok}");
    assert!(ok.contains("m=audio"), "with an SDP answer: {ok}");
    ack_and_bye(&ue, core.sip, &ok, "urn:service:sos");
    invite(&ue, core.sip, &from, &format!("sip:psap@{DOMAIN}"), "sos-2");
    let r = final_response(&ue);
    assert!(r.starts_with("SIP/2.0 403"), "non-emergency call over an emergency registration: {r}");
    let stranger = socket("127.0.0.1");
    invite(&stranger, core.sip, "sip:anonymous@anonymous.invalid", "urn:service:sos", "sos-3");
    let r = final_response(&stranger);
    assert!(r.starts_with("SIP/2.0 403"), "anonymous emergency call not allowed by ue_db: {r}");
}

/// `emergency_target`: urn:service:sos.* calls ring the registered target;
/// an anonymous caller is accepted where ue_db sets `anonymous`.
#[test]
fn emergency_target_receives_sos_calls_also_from_anonymous_callers() {
    let body = format!("emergency_target: \"sip:psap@{DOMAIN}\",\n{}", ue_db().replace("ANON", "true"));
    let core = Core::start("sos-target", &body);
    let psap = socket("127.0.0.1");
    register(&psap, core.sip, "psap", false);
    let caller = socket("127.0.0.1");
    invite(&caller, core.sip, "sip:anonymous@anonymous.invalid", "urn:service:sos.police", "sos-t1");
    let (inv, from) = loop {
        let (m, from) = recv_sip(&psap);
        if m.starts_with("INVITE") {
            break (m, from);
        }
    };
    assert!(inv.starts_with(&format!("INVITE sip:psap@{}", psap.local_addr().unwrap())), "{inv}");
    assert!(header_line(&inv, "To:").contains(&format!("sip:psap@{DOMAIN}")), "{inv}");
    psap.send_to(respond(&inv, "200 OK", Some("p1"), &format!("Contact: <sip:psap@{}>\r\n", psap.local_addr().unwrap()), OFFER).as_bytes(), from).unwrap();
    let ok = final_response(&caller);
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    let (ack, _) = recv_sip(&psap);
    assert!(ack.starts_with("ACK"), "{ack}");
}

/// seed 000 trunk: a call to an unknown user goes to the trunk (as
/// user@trunk domain); the trunk's own call, unauthenticated and from an
/// identity unknown to the HSS, reaches a registered UE.
#[test]
fn trunk_gets_unknown_callees_and_its_calls_reach_registered_ues() {
    let trunk = socket("127.0.0.2");
    let taddr = trunk.local_addr().unwrap();
    let body = format!("trunk: {{ addr: \"{taddr}\", name: \"lab\", domain: \"pstn.example\" }},\n{}", ue_db().replace("ANON", "false"));
    let core = Core::start("sos-trunk", &body);
    let ue = socket("127.0.0.1");
    register(&ue, core.sip, "ue", false);
    invite(&ue, core.sip, &format!("sip:ue@{DOMAIN}"), "tel:+15551234", "tr-1");
    let (inv, from) = loop {
        let (m, from) = recv_sip(&trunk);
        if m.starts_with("INVITE") {
            break (m, from);
        }
    };
    assert!(inv.starts_with("INVITE sip:+15551234@pstn.example;user=phone SIP/2.0"), "{inv}");
    assert!(header_line(&inv, "To:").contains("sip:+15551234@pstn.example"), "{inv}");
    trunk.send_to(respond(&inv, "486 Busy Here", Some("t1"), "", "").as_bytes(), from).unwrap();
    let r = final_response(&ue);
    assert!(r.starts_with("SIP/2.0 486"), "the trunk's answer relayed: {r}");
    // Inbound from the trunk: the caller is a PSTN number the HSS does not know.
    invite(&trunk, core.sip, "sip:+15559999@pstn.example", &format!("sip:ue@{DOMAIN}"), "tr-2");
    let (inv, from) = loop {
        let (m, from) = recv_sip(&ue);
        if m.starts_with("INVITE") {
            break (m, from);
        }
    };
    assert!(header_line(&inv, "From:").contains("+15559999"), "{inv}");
    ue.send_to(respond(&inv, "603 Decline", Some("u9"), "", "").as_bytes(), from).unwrap();
    let r = final_response(&trunk);
    assert!(r.starts_with("SIP/2.0 603"), "{r}");
}

/// callflow_modifier (seed 000 5.2.1, the callee's rules on MO dialogs):
/// method INVITE answers at once with its code and custom headers;
/// INVITE.RINGING with code 486 (stop) turns the callee's 180 into 486 for
/// the caller and cancels the callee; a counterpart (`impu`) mismatch leaves
/// the call alone.
#[test]
fn callflow_modifier_answers_invite_and_replaces_ringing() {
    let body = format!(
        "ue_db: [ {{ imsi: \"001010000000901\", impi: \"ue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:ue\"] }},\n\
         {{ imsi: \"001010000000902\", impi: \"b@{DOMAIN}\", authent_type: \"none\", impu: [{{ impu: \"sip:b\", callflow_modifier: [\n\
           {{ method: \"INVITE\", code: 603, impu: \"sip:nobody\" }},\n\
           {{ method: \"INVITE.RINGING\", code: 486, ttl: 1, custom_headers: [{{ name: \"X-Modified\", value: \"ringing\" }}] }} ] }}] }},\n\
         {{ imsi: \"001010000000903\", impi: \"c@{DOMAIN}\", authent_type: \"none\", impu: [{{ impu: \"sip:c\", callflow_modifier: {{ method: \"INVITE\", code: 603, custom_headers: [{{ name: \"X-Modified\", value: \"invite\" }}] }} }}] }} ],\n"
    );
    let core = Core::start("callflow-mod", &body);
    let (ue, b) = (socket("127.0.0.1"), socket("127.0.0.1"));
    register(&ue, core.sip, "ue", false);
    register(&b, core.sip, "b", false);
    let from = format!("sip:ue@{DOMAIN}");
    // c is not even registered: its INVITE modifier answers.
    invite(&ue, core.sip, &from, &format!("sip:c@{DOMAIN}"), "cf-1");
    let r = final_response(&ue);
    assert!(r.starts_with("SIP/2.0 603"), "{r}");
    assert!(header_line(&r, "X-Modified:").contains("invite"), "{r}");
    // b's INVITE rule names another counterpart: the INVITE goes through.
    invite(&ue, core.sip, &from, &format!("sip:b@{DOMAIN}"), "cf-2");
    let (inv, from_core) = loop {
        let (m, f) = recv_sip(&b);
        if m.starts_with("INVITE") {
            break (m, f);
        }
    };
    b.send_to(respond(&inv, "180 Ringing", Some("b1"), "", "").as_bytes(), from_core).unwrap();
    let r = final_response(&ue);
    assert!(r.starts_with("SIP/2.0 486"), "the 180 became 486: {r}");
    assert!(header_line(&r, "X-Modified:").contains("ringing"), "{r}");
    let (cancel, _) = recv_sip(&b);
    assert!(cancel.starts_with("CANCEL"), "the callee is cancelled: {cancel}");
    b.send_to(respond(&cancel, "200 OK", Some("b1"), "", "").as_bytes(), from_core).unwrap();
    b.send_to(respond(&inv, "487 Request Terminated", Some("b1"), "", "").as_bytes(), from_core).unwrap();
    // ttl 1: the next call rings normally.
    invite(&ue, core.sip, &from, &format!("sip:b@{DOMAIN}"), "cf-3");
    let inv = loop {
        let (m, _) = recv_sip(&b);
        if m.starts_with("INVITE") {
            break m;
        }
    };
    b.send_to(respond(&inv, "180 Ringing", Some("b2"), "", "").as_bytes(), from_core).unwrap();
    let (m, _) = recv_sip(&ue);
    let m = if m.starts_with("SIP/2.0 100") { recv_sip(&ue).0 } else { m };
    assert!(m.starts_with("SIP/2.0 180"), "relayed once the ttl is used up: {m}");
}

/// callflow_modifier REGISTER.SOS: an emergency REGISTER of the IMPU gets
/// the modifier's code; its normal registration is not affected.
#[test]
fn register_sos_modifier_answers_emergency_registrations() {
    let body = format!(
        "ue_db: [ {{ imsi: \"001010000000901\", impi: \"ue@{DOMAIN}\", authent_type: \"none\", impu: [{{ impu: \"sip:ue\", callflow_modifier: {{ method: \"REGISTER.SOS\", code: 503, custom_headers: [{{ name: \"Retry-After\", value: \"30\" }}] }} }}] }} ],\n"
    );
    let core = Core::start("register-sos-mod", &body);
    let ue = socket("127.0.0.1");
    let r = register_answer(&ue, core.sip, "ue", true);
    assert!(r.starts_with("SIP/2.0 503"), "{r}");
    assert!(header_line(&r, "Retry-After:").contains("30"), "{r}");
    register(&ue, core.sip, "ue", false);
}
