//! ringload's SMS scenario end to end against a ringcore started by the harness: 200 AKA
//! (XOR USIM) UEs register with `+g.3gpp.smsip`, UE i sends 100 SMS over IP to UE i + 100
//! through the core's SMSC with zero failures (also with two workers on shared sockets); the JSON report, the HdrHistogram log and
//! the plot carry the two SMS histograms, and the core's log shows every delivery. A core
//! that refuses every RP-DATA shows up as failures by RP cause.

mod common;
use common::load::{self, ringload, text};
use common::{scratch_dir, Core};
use std::time::{Duration, Instant};





fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("report")).expect("JSON report")
}

#[test]
fn registers_200_aka_ues_then_100_sms_ue_to_ue_all_delivered() {
    let cfg = format!("{}log_options: \"all.level=error,sms.level=info\",\nlog_sync: true,\n", load::users(200, false));
    let core = Core::start("ringload-sms", &cfg);
    let dir = scratch_dir("ringload-sms-out");
    let (report_path, plot, hdr) = (dir.join("report.json"), dir.join("plot.svg"), dir.join("latency.hlog"));
    let target = core.sip.to_string();
    let t0 = Instant::now();
    let out = ringload(&[
        "--target", &target, "--ues", "200", "--reg-rate", "1000", "--sms", "100", "--rate", "100", "--sms-text", "load test €",
        "--timeout", "4", "--max-time", "60", "--quiet", "--report-json", report_path.to_str().unwrap(), "--plot",
        plot.to_str().unwrap(), "--hdr-log", hdr.to_str().unwrap(),
    ]);
    let report = text(&out);
    assert!(out.status.success(), "ringload failed ({:?}):\n{report}", out.status);
    assert!(t0.elapsed() < Duration::from_secs(30), "fast: {:?}", t0.elapsed());
    let v = json(&report_path);
    for (action, n) in [("register", 200), ("sms", 100), ("deregister", 200)] {
        let a = &v["actions"][action];
        assert_eq!((a["attempted"].as_u64(), a["succeeded"].as_u64(), a["failed"].as_u64()), (Some(n), Some(n), Some(0)), "{action}: {report}");
    }
    assert_eq!(v["failures"]["total"], 0, "{report}");
    let h = &v["histograms"];
    for name in ["sms_submit_to_delivery", "sms_submit_to_rp_ack"] {
        assert_eq!(h[name]["count"], 100, "{name}: {report}");
        let (p50, p99, max) = (h[name]["p50_us"].as_u64().unwrap(), h[name]["p99_us"].as_u64().unwrap(), h[name]["max_us"].as_u64().unwrap());
        assert!(p50 > 0 && p50 <= p99 && p99 <= max && max < 8_000_000, "{name}: {}", h[name]);
    }
    assert_eq!((v["sms"]["received"].as_u64(), v["sms"]["stray"].as_u64()), (Some(100), Some(0)), "{}", v["sms"]);
    assert_eq!(v["failures"]["by_rp_cause"], serde_json::json!({}));
    assert!(report.contains("sms_submit_to_delivery") && report.contains("no failures"), "{report}");
    let tags = load::hdr_log_tags(&hdr);
    assert_eq!(tags, ["initial_register", "sms_submit_to_rp_ack", "sms_submit_to_delivery"]);
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert_eq!(svg.matches("<polyline").count(), 3, "one curve per non-empty histogram");
    // The core's side: 100 SMS received by its SMSC and 100 acknowledged by their recipients.
    let core_log = std::fs::read_to_string(core.dir.join("ims.log")).unwrap_or_default();
    let (received, delivered) = (core_log.matches(" received").count(), core_log.matches(" delivered").count());
    assert!(received >= 100 && delivered == 100, "core log: {received} received, {delivered} delivered");
}

/// Two workers on shared sockets: senders and recipients pair up on each worker, and
/// MESSAGEs find their UE by Request-URI user part and Via branch.
#[test]
fn two_workers_with_shared_sockets_deliver_every_sms() {
    let core = Core::start("ringload-sms-shared", &load::users(100, false));
    let dir = scratch_dir("ringload-sms-shared-out");
    let report_path = dir.join("report.json");
    let target = core.sip.to_string();
    let out = ringload(&[
        "--target", &target, "--ues", "100", "--reg-rate", "500", "--sms", "60", "--rate", "60", "--workers", "2", "--shared-socket",
        "--timeout", "4", "--quiet", "--report-json", report_path.to_str().unwrap(),
    ]);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    let v = json(&report_path);
    assert_eq!(v["actions"]["sms"]["succeeded"], 60, "{report}");
    assert_eq!(v["histograms"]["sms_submit_to_delivery"]["count"], 60, "{report}");
}

#[test]
fn a_core_refusing_every_rp_data_shows_failures_by_rp_cause() {
    let cfg = format!("{}sms_message_filter: {{ rp_data: \"reject\" }},\n", load::users(20, false));
    let core = Core::start("ringload-sms-refused", &cfg);
    let dir = scratch_dir("ringload-sms-refused-out");
    let report_path = dir.join("report.json");
    let target = core.sip.to_string();
    let out = ringload(&["--target", &target, "--ues", "20", "--sms", "10", "--rate", "50", "--timeout", "2", "--quiet", "--report-json", report_path.to_str().unwrap()]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let v = json(&report_path);
    assert_eq!(v["actions"]["sms"]["failed"], 10, "{report}");
    assert_eq!(v["failures"]["by_cause"]["rp_error"], 10, "{report}");
    // TS 24.011 8.2.5.4: #21 short message transfer rejected.
    assert_eq!(v["failures"]["by_rp_cause"], serde_json::json!({"21": 10}), "{report}");
    assert_eq!(v["histograms"]["sms_submit_to_delivery"]["count"], 0);
    assert!(report.contains("RP cause 21"), "{report}");
}
