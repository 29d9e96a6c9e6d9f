//! Forking through ringcore (RFC 3261 16.6): a callee registered from two SIPp UASes
//! (two contacts of one IMPU) is called by a SIPp UAC. Both UASes get the INVITE; one
//! answers, and the other, ringing, gets a CANCEL and ends its INVITE with 487 (its
//! scenario fails without that CANCEL). The caller sees one call set up.
//!
//! Serial search (16.6 step 1): a UAS registered with q=1.0 answers 486 Busy Here; the
//! UAS registered with q=0.5 is called next and answers, and the caller's call is set up.
//!
//! Early UPDATE (RFC 3311 5.1): both UASes send a 183 with SDP; the caller's UPDATE must
//! reach both; one answers with a 2xx without SDP, the other gets a CANCEL.
//!
//! A stale binding: the callee's second contact is a socket that never answers (the
//! address a UE had before it came back on a new one). The live UAS answers 486 Busy
//! Here, and the caller must hear that 486 once the silent fork is given up (2 T1), not
//! when `dialog_timeout` ends the call.

mod common;
use common::{free_port, sipp, spawn_sipp, test_file, Core};
use std::net::UdpSocket;
use std::process::Child;

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";

fn users() -> String {
    let u = |name: &str, imsi: &str| format!("{{ imsi: \"{imsi}\", impi: \"{name}@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:{name}\"] }},\n");
    format!("ue_db: [\n{}{}]\n", u("uac", "001010000000711"), u("uas", "001010000000712"))
}

/// A SIPp UAS running scenario `sf` for one call on a free port, registered as `uas`,
/// its contact with q value `q` when given.
fn uas_q(core: &Core, sf: &str, q: Option<&str>) -> Child {
    let port = free_port();
    let sf = test_file(sf);
    let child = spawn_sipp(60, &["-sf", sf.to_str().unwrap(), "-i", "127.0.0.1", "-p", &port.to_string(), "-t", "u1", "-m", "1", "-nostdin", "-trace_err"], &core.dir);
    register_uas(core, port, q);
    child
}

/// Registers `uas` with the contact 127.0.0.1:`port`, its q value `q` when given.
fn register_uas(core: &Core, port: u16, q: Option<&str>) {
    let reg = test_file(if q.is_some() { "sipp/reg_uas_q.xml" } else { "sipp/reg_uas.xml" });
    let target = core.sip.to_string();
    let port = port.to_string();
    let mut args = vec!["-sf", reg.to_str().unwrap(), "-key", "uas_port", &port, "-m", "1", "-i", "127.0.0.1", "-nostdin", &target];
    if let Some(q) = q {
        args.extend(["-key", "q", q]);
    }
    let (ok, out) = sipp(&args, &core.dir);
    assert!(ok, "UAS registration failed (contact port {port}):\n{out}");
}

/// One UAS of a test: its scenario, the q of its registration (None: none given) and what
/// its failure means.
type Uas<'a> = (&'a str, Option<&'a str>, &'a str);

/// A core named `name` with two SIPp UASes registered as `uas` (in this order), then one
/// call of the SIPp UAC scenario `uac` to `uas`, which must succeed (`why` adds to its
/// failure message), and each UAS must complete its scenario.
fn call_two(name: &str, uases: [Uas<'_>; 2], uac: &str, why: &str) {
    let core = Core::start(name, &users());
    let children: Vec<(Child, &str)> = uases.iter().map(|(sf, q, fails)| (uas_q(&core, sf, *q), *fails)).collect();
    let sf = test_file(uac);
    let target = core.sip.to_string();
    let (ok, out) = sipp(&["-sf", sf.to_str().unwrap(), "-m", "1", "-i", "127.0.0.1", "-timeout", "30", "-recv_timeout", "20000", "-nostdin", "-trace_err", &target], &core.dir);
    assert!(ok, "the call through ringcore failed{why}:\n{out}");
    for (mut child, fails) in children {
        assert!(child.wait().expect("uas exit").success(), "{fails}");
    }
}

#[test]
fn a_callee_with_two_contacts_rings_both_and_the_other_is_cancelled_when_one_answers() {
    let ringing = ("sipp/cancel_uas.xml", None, "the other UAS got no CANCEL (or no ACK for its 487)");
    let answering = ("sipp/call_uas.xml", None, "the answering UAS did not complete its call");
    call_two("fork", [ringing, answering], "sipp/fork_uac.xml", "");
}

#[test]
fn when_the_callee_ue_of_best_q_is_busy_the_one_of_lower_q_is_called() {
    let busy = ("sipp/busy_uas.xml", Some("1.0"), "the busy UAS got no INVITE or no ACK for its 486");
    let answering = ("sipp/call_uas.xml", Some("0.5"), "the UAS of lower q did not complete its call");
    call_two("serial", [busy, answering], "sipp/call_uac.xml", " (a 486 relayed instead of the next UE called?)");
}

#[test]
fn the_callers_early_update_reaches_both_ringing_uas() {
    // RFC 3311 5.1: both UASes send a 183 (an early dialog each); the caller's UPDATE must
    // reach both (the other UAS's scenario fails without it), and the call is set up by the
    // one that answers with a 2xx without SDP.
    let ringing = ("sipp/update_cancel_uas.xml", None, "the other UAS got no UPDATE, or no CANCEL");
    let answering = ("sipp/update_uas.xml", None, "the answering UAS did not complete its call");
    call_two("fork_update", [ringing, answering], "sipp/fork_update_uac.xml", " (UPDATE or the SDP-less 2xx)");
}

#[test]
fn a_stale_binding_does_not_hold_the_callers_486_until_dialog_timeout() {
    let core = Core::start("fork_stale", &users());
    // The stale contact: bound (no ICMP error comes back), never read.
    let stale = UdpSocket::bind("127.0.0.1:0").expect("bind the stale contact");
    register_uas(&core, stale.local_addr().expect("local address").port(), None);
    let mut busy = uas_q(&core, "sipp/busy_uas.xml", None);
    let sf = test_file("sipp/busy_uac.xml");
    let target = core.sip.to_string();
    let (ok, out) = sipp(&["-sf", sf.to_str().unwrap(), "-m", "1", "-i", "127.0.0.1", "-timeout", "30", "-nostdin", "-trace_err", &target], &core.dir);
    assert!(ok, "the caller got no 486 within 15 s (held by the stale fork?):\n{out}");
    assert!(busy.wait().expect("uas exit").success(), "the busy UAS got no INVITE or no ACK for its 486");
    // The stale contact got our INVITE (and its retransmissions): it was called.
    let mut buf = [0u8; 4096];
    stale.set_nonblocking(true).expect("nonblocking");
    let n = stale.recv(&mut buf).expect("the stale contact was sent an INVITE");
    assert!(buf[..n].starts_with(b"INVITE "), "{}", String::from_utf8_lossy(&buf[..n]));
}
