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

mod common;
use common::{free_port, sipp, spawn_sipp, test_file, Core};
use std::process::Child;

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";

fn users() -> String {
    let u = |name: &str, imsi: &str| format!("{{ imsi: \"{imsi}\", impi: \"{name}@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:{name}\"] }},\n");
    format!("ue_db: [\n{}{}]\n", u("uac", "001010000000711"), u("uas", "001010000000712"))
}

/// A SIPp UAS running scenario `sf` for one call on a free port, registered as `uas`.
fn uas(core: &Core, sf: &str) -> Child {
    uas_q(core, sf, None)
}

/// [`uas`] with its contact registered with q value `q` when given.
fn uas_q(core: &Core, sf: &str, q: Option<&str>) -> Child {
    let port = free_port();
    let sf = test_file(sf);
    let child = spawn_sipp(60, &["-sf", sf.to_str().unwrap(), "-i", "127.0.0.1", "-p", &port.to_string(), "-t", "u1", "-m", "1", "-nostdin", "-trace_err"], &core.dir);
    let reg = test_file(if q.is_some() { "sipp/reg_uas_q.xml" } else { "sipp/reg_uas.xml" });
    let target = core.sip.to_string();
    let port = port.to_string();
    let mut args = vec!["-sf", reg.to_str().unwrap(), "-key", "uas_port", &port, "-m", "1", "-i", "127.0.0.1", "-nostdin", &target];
    if let Some(q) = q {
        args.extend(["-key", "q", q]);
    }
    let (ok, out) = sipp(&args, &core.dir);
    assert!(ok, "UAS registration failed:\n{out}");
    child
}

/// One call of the SIPp UAC scenario `sf` to `uas` through the core, which must succeed
/// (`why` adds to the failure message).
fn call(core: &Core, sf: &str, why: &str) {
    let uac = test_file(sf);
    let target = core.sip.to_string();
    let (ok, out) = sipp(&["-sf", uac.to_str().unwrap(), "-m", "1", "-i", "127.0.0.1", "-timeout", "30", "-recv_timeout", "20000", "-nostdin", "-trace_err", &target], &core.dir);
    assert!(ok, "the call through ringcore failed{why}:\n{out}");
}

#[test]
fn a_callee_with_two_contacts_rings_both_and_the_other_is_cancelled_when_one_answers() {
    let core = Core::start("fork", &users());
    let mut ringing = uas(&core, "sipp/cancel_uas.xml");
    let mut answering = uas(&core, "sipp/call_uas.xml");
    call(&core, "sipp/fork_uac.xml", "");
    assert!(answering.wait().expect("uas exit").success(), "the answering UAS did not complete its call");
    assert!(ringing.wait().expect("uas exit").success(), "the other UAS got no CANCEL (or no ACK for its 487)");
}

#[test]
fn when_the_callee_ue_of_best_q_is_busy_the_one_of_lower_q_is_called() {
    let core = Core::start("serial", &users());
    let mut busy = uas_q(&core, "sipp/busy_uas.xml", Some("1.0"));
    let mut answering = uas_q(&core, "sipp/call_uas.xml", Some("0.5"));
    call(&core, "sipp/call_uac.xml", " (a 486 relayed instead of the next UE called?)");
    assert!(busy.wait().expect("uas exit").success(), "the busy UAS got no INVITE or no ACK for its 486");
    assert!(answering.wait().expect("uas exit").success(), "the UAS of lower q did not complete its call");
}

#[test]
fn the_callers_early_update_reaches_both_ringing_uas() {
    // RFC 3311 5.1: both UASes send a 183 (an early dialog each); the caller's UPDATE must
    // reach both (the other UAS's scenario fails without it), and the call set up by the
    // one that answers with a 2xx without SDP.
    let core = Core::start("fork_update", &users());
    let mut ringing = uas(&core, "sipp/update_cancel_uas.xml");
    let mut answering = uas(&core, "sipp/update_uas.xml");
    call(&core, "sipp/fork_update_uac.xml", " (UPDATE or the SDP-less 2xx)");
    assert!(answering.wait().expect("uas exit").success(), "the answering UAS did not complete its call");
    assert!(ringing.wait().expect("uas exit").success(), "the other UAS got no UPDATE, or no CANCEL");
}
