//! RFC 3261 13.3.1.4 against SIPp: a caller that never ACKs the 200 of its INVITE gets
//! that 200 again and again (from T1, doubling up to T2), and after 64*T1 the session is
//! ended with a BYE carrying `Reason: SIP;cause=408` (RFC 3326), for a call the echo
//! service answers and for a call relayed by the B2BUA (there on both legs), for the
//! 200 of an INVITE and of a re-INVITE (hold). T1 is 0.1 s and T2 0.4 s, so the BYE
//! comes 6.4 s after the 200. The SIPp scenarios check the Reason of each BYE; the tests
//! read SIPp's message logs for the counts and times.

mod common;
use common::{free_port, sipp, test_file, Core};
use std::path::Path;
use std::process::{Command, Stdio};

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";
/// The Reason header line of the BYE ending a session whose 2xx got no ACK.
const REASON: &str = "Reason: SIP;cause=408;text=\"no ACK for the 2xx\"";
/// 64*T1 with T1 = 0.1 s.
const GIVE_UP_S: f64 = 6.4;

fn body() -> String {
    let u = |name: &str, imsi: &str| {
        format!("{{ imsi: \"{imsi}\", impi: \"{name}@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:{name}\"] }},\n")
    };
    format!(
        "timer_t1: 0.1, timer_t2: 0.4,\n echo: [\"sip:echo\"],\n ue_db: [\n{}{}]\n",
        u("uac", "001010000000911"),
        u("uas", "001010000000912")
    )
}

/// One message of a SIPp `-message_file`: when (seconds of the day), whether SIPp sent
/// it, and its text.
struct Logged {
    at: f64,
    sent: bool,
    text: String,
}

/// The messages of SIPp's log `path` (entries open with a dashed line and a timestamp,
/// then "UDP message sent" or "UDP message received", then the message).
fn read_log(path: &Path) -> Vec<Logged> {
    let log = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("SIPp message log {}: {e}", path.display()));
    log.split("-----------------------------------------------")
        .filter_map(|entry| {
            let mut lines = entry.lines();
            let stamp = lines.next()?.trim();
            let time = stamp.split_whitespace().nth(1)?;
            let mut hms = time.split(':').map(|p| p.parse::<f64>().ok());
            let at = hms.next()?? * 3600.0 + hms.next()?? * 60.0 + hms.next()??;
            let sent = lines.next()?.starts_with("UDP message sent");
            let text: Vec<&str> = lines.map(str::trim).skip_while(|l| l.is_empty()).collect();
            Some(Logged { at, sent, text: text.join("\r\n") })
        })
        .collect()
}

/// A 200 the caller received whose CSeq line is `cseq` (e.g. "CSeq: 1 INVITE").
fn is_200_of(m: &Logged, cseq: &str) -> bool {
    !m.sent && m.text.starts_with("SIP/2.0 200") && m.text.lines().any(|l| l == cseq)
}

/// The caller's side: the 200 with CSeq line `cseq` came at least 4 times (3
/// retransmissions or more), each copy identical, the first T1 (0.1 s) after it, then
/// never more than T2 (0.4 s, plus slack for a loaded machine) apart; then the BYE with
/// the 408 Reason about 64*T1 after the first 200, which the caller answered. Returns
/// the BYE's arrival.
fn check_caller(log: &[Logged], cseq: &str) -> f64 {
    let oks: Vec<&Logged> = log.iter().filter(|m| is_200_of(m, cseq)).collect();
    assert!(oks.len() >= 4, "the 200 retransmitted at least 3 times, got {} copies", oks.len());
    // 0.1, 0.3, 0.7, then every 0.4 s until 6.3 s: at most 17 retransmissions.
    assert!(oks.len() <= 18, "at most 17 retransmissions in 64*T1 (doubling, T2 cap), got {}", oks.len() - 1);
    assert!(oks.iter().all(|m| m.text == oks[0].text), "retransmissions are the same 200");
    let gaps: Vec<f64> = oks.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!((0.08..0.6).contains(&gaps[0]), "first retransmission after T1: {gaps:?}");
    assert!(gaps.iter().all(|g| *g < 1.2), "intervals capped at T2: {gaps:?}");
    let bye = log.iter().position(|m| !m.sent && m.text.starts_with("BYE ")).expect("a BYE to the caller");
    let bye_msg = &log[bye];
    assert!(bye_msg.text.lines().any(|l| l == REASON), "BYE Reason: {}", bye_msg.text);
    let after = bye_msg.at - oks[0].at;
    assert!((GIVE_UP_S - 0.1..GIVE_UP_S + 2.0).contains(&after), "BYE {after:.2} s after the 200, not at 64*T1");
    assert!(oks.iter().all(|m| m.at < bye_msg.at), "no 200 after the BYE");
    assert!(log[bye..].iter().any(|m| m.sent && m.text.starts_with("SIP/2.0 200")), "the caller answered the BYE");
    bye_msg.at
}

/// Registers `user` (no authentication) with Contact 127.0.0.1:`port`.
fn register(core: &Core, user: &str, port: u16) {
    let reg = test_file("sipp/reg_ue.xml");
    let port = port.to_string();
    let args = ["-sf", reg.to_str().unwrap(), "-key", "user", user, "-key", "contact_port", &port, "-m", "1", "-i", "127.0.0.1", "-nostdin"];
    let target = core.sip.to_string();
    let (ok, out) = sipp(&[&args[..], &[target.as_str()]].concat(), &core.dir);
    assert!(ok, "registration of {user} failed:\n{out}");
}

/// Runs the registered caller on `port` with SIPp scenario `scenario` (which withholds an
/// ACK), calling `callee`; returns its message log.
fn call_without_ack(core: &Core, port: u16, scenario: &str, callee: &str) -> Vec<Logged> {
    let uac = test_file(scenario);
    let log = core.dir.join("uac_messages.log");
    let port = port.to_string();
    let target = core.sip.to_string();
    let args = [
        "-sf", uac.to_str().unwrap(), "-key", "callee", callee, "-p", &port, "-i", "127.0.0.1", "-m", "1", "-timeout", "14", "-nostdin",
        "-trace_msg", "-message_file", log.to_str().unwrap(), "-trace_err", &target,
    ];
    let (ok, out) = sipp(&args, &core.dir);
    assert!(ok, "the caller's scenario failed (no BYE with the 408 Reason?):\n{out}");
    read_log(&log)
}

/// (a) The echo service answers; the caller never ACKs.
#[test]
fn echo_retransmits_its_200_until_64_t1_then_byes_with_reason_408() {
    let core = Core::start("ack-echo", &body());
    let uac_port = free_port();
    register(&core, "uac", uac_port);
    let log = call_without_ack(&core, uac_port, "sipp/ack_withheld_uac.xml", "echo");
    check_caller(&log, "CSeq: 1 INVITE");
}

/// A call relayed between a SIPp caller (scenario `uac_sf`, withholding the ACK of the 200
/// whose CSeq line is `cseq`) and a SIPp callee (`uas_sf`, receiving `invites` INVITEs).
/// ringcore ACKs the callee's 200s itself, retransmits the 200 to the caller, and after
/// 64*T1 sends the BYE with the 408 Reason on both legs.
fn relayed_call_without_ack(name: &str, uac_sf: &str, uas_sf: &str, cseq: &str, invites: usize) {
    let core = Core::start(name, &body());
    let (uac_port, uas_port) = (free_port(), free_port());
    let uas_sf = test_file(uas_sf);
    let uas_log = core.dir.join("uas_messages.log");
    let mut uas = common::Proc(
        Command::new("timeout")
            .args(["30", "sipp", "-sf", uas_sf.to_str().unwrap(), "-i", "127.0.0.1", "-p", &uas_port.to_string(), "-m", "1", "-nostdin"])
            .args(["-trace_msg", "-message_file", uas_log.to_str().unwrap(), "-trace_err"])
            .current_dir(&core.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp uas"),
    );
    register(&core, "uas", uas_port);
    register(&core, "uac", uac_port);
    let caller = call_without_ack(&core, uac_port, uac_sf, "uas");
    let caller_bye = check_caller(&caller, cseq);
    let status = uas.0.wait().expect("uas exit");
    assert!(status.success(), "the callee's scenario failed (no ACK, or no BYE with the 408 Reason?)");

    let callee = read_log(&uas_log);
    let bye = callee.iter().position(|m| !m.sent && m.text.starts_with("BYE ")).expect("a BYE to the callee");
    let ok = callee[..bye].iter().rposition(|m| m.sent && m.text.starts_with("SIP/2.0 200")).expect("the callee answered");
    assert!(callee[ok..bye].iter().any(|m| !m.sent && m.text.starts_with("ACK ")), "ringcore ACKed the callee's 200");
    let bye = &callee[bye];
    assert!(bye.text.lines().any(|l| l == REASON), "callee's BYE Reason: {}", bye.text);
    let after = bye.at - callee[ok].at;
    assert!((GIVE_UP_S - 0.1..GIVE_UP_S + 2.0).contains(&after), "callee's BYE {after:.2} s after its 200");
    assert!((bye.at - caller_bye).abs() < 0.5, "both legs ended together");
    assert_eq!(callee.iter().filter(|m| !m.sent && m.text.starts_with("INVITE ")).count(), invites, "INVITEs on the callee's leg");
}

/// (b) A call relayed between a SIPp caller and a SIPp callee; the caller never ACKs.
#[test]
fn b2bua_retransmits_the_relayed_200_then_byes_both_legs_with_reason_408() {
    relayed_call_without_ack("ack-b2bua", "sipp/ack_withheld_uac.xml", "sipp/ack_withheld_uas.xml", "CSeq: 1 INVITE", 1);
}

/// (d) As (b) for the 200 of the caller's re-INVITE (hold), relayed from the callee.
#[test]
fn b2bua_retransmits_the_relayed_200_of_a_re_invite_then_byes_both_legs_with_reason_408() {
    let (uac, uas) = ("sipp/ack_withheld_reinvite_uac.xml", "sipp/ack_withheld_reinvite_uas.xml");
    relayed_call_without_ack("ack-b2bua-re", uac, uas, "CSeq: 2 INVITE", 2);
}

/// (c) The 200 of a re-INVITE (hold) the echo service answers: the caller ACKed the
/// first 200 but never this one (RFC 3261 13.3.1.4 holds for re-INVITEs too).
#[test]
fn echo_retransmits_the_200_of_a_re_invite_then_byes_with_reason_408() {
    let core = Core::start("ack-echo-re", &body());
    let uac_port = free_port();
    register(&core, "uac", uac_port);
    let log = call_without_ack(&core, uac_port, "sipp/ack_withheld_reinvite_uac.xml", "echo");
    check_caller(&log, "CSeq: 2 INVITE");
    let first = log.iter().filter(|m| is_200_of(m, "CSeq: 1 INVITE")).count();
    assert_eq!(first, 1, "the ACKed 200 of the INVITE is not retransmitted");
}
