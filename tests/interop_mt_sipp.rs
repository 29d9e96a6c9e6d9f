//! A network-initiated (MT) call to a real SIPp UAS: SIPp registers the UE, then runs its
//! built-in `uas` scenario (INVITE → 180 → 200, ACK, BYE → 200); the remote API's
//! `mt_call` with a duration makes ringcore place the call and end it with the BYE. SIPp
//! fails the run if any message is missing or out of order.

mod common;

use common::{api, free_port, sipp, spawn_sipp, test_file, Core};
use serde_json::json;
use std::time::Duration;

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";

#[test]
fn mt_call_to_a_registered_sipp_uas_is_answered_and_ended_by_the_core() {
    let api_port = free_port();
    let cfg = format!(
        "com_addr: \"127.0.0.1:{api_port}\",\n\
         ue_db: [ {{ imsi: \"001010000000971\", impi: \"mue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:mue\"] }} ],\n"
    );
    let core = Core::start("mt-sipp", &cfg);
    let target = core.sip.to_string();
    let uas_port = free_port().to_string();
    let reg = test_file("sipp/reg_ue.xml");
    let args = ["-sf", reg.to_str().unwrap(), "-key", "user", "mue", "-key", "contact_port", &uas_port, "-m", "1", "-i", "127.0.0.1", "-nostdin", "-trace_err", &target];
    let (ok, out) = sipp(&args, &core.dir);
    assert!(ok, "registration failed:\n{out}");

    let log = core.dir.join("uas_messages.log");
    let args = ["-sn", "uas", "-i", "127.0.0.1", "-p", &uas_port, "-m", "1", "-timeout", "20", "-nostdin", "-trace_msg", "-message_file", log.to_str().unwrap()];
    let mut uas = spawn_sipp(30, &args, &core.dir);
    std::thread::sleep(Duration::from_millis(500));
    let r = api(&format!("127.0.0.1:{api_port}"), json!({"message": "mt_call", "impu": "sip:mue", "duration": 1}));
    assert!(r["session_id"].is_string(), "mt_call: {r}");
    let status = uas.wait().expect("sipp ends");
    let messages = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "SIPp uas did not complete the call (exit {status}):\n{messages}");
    // What ringcore sent: the INVITE with an SDP offer, the ACK and the BYE.
    let received: Vec<&str> = messages.lines().filter(|l| l.starts_with("INVITE ") || l.starts_with("ACK ") || l.starts_with("BYE ")).collect();
    assert_eq!(received.iter().map(|l| l.split(' ').next().unwrap_or("")).collect::<Vec<_>>(), ["INVITE", "ACK", "BYE"], "{messages}");
    assert!(messages.contains("m=audio "), "the INVITE carries an SDP offer:\n{messages}");
}
