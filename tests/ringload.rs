//! ringload end to end against a ringcore started by the harness: 2,000 AKA (XOR USIM)
//! UEs register, then 200 calls with RTP go to the echo IMPU and 200 calls go from UE to
//! UE, with zero failures; the JSON report, the HdrHistogram log and the SVG (and PNG) plots are
//! read back and checked. The shared-socket mode with two workers, calls to a SIPp UAS
//! (any SIP server), an unreachable target (bounded, timeouts, non-zero exit) and bad
//! arguments (exit 2 with the reason) are covered too.

mod common;
use common::load::{self, ringload, text};
use common::{free_port, scratch_dir, Core};
use std::process::Command;
use std::time::{Duration, Instant};





#[test]
fn registers_2000_aka_ues_then_200_echo_calls_and_200_ue_calls_with_rtp_without_failure() {
    let core = Core::start("ringload", &load::users(2000, true));
    let dir = scratch_dir("ringload-out");
    let (json, plot, hdr) = (dir.join("report.json"), dir.join("plot.svg"), dir.join("latency.hlog"));
    let target = core.sip.to_string();
    let out = ringload(&[
        "--target", &target, "--ues", "2000", "--reg-rate", "1000", "--calls", "200", "--ue-calls", "200", "--rate", "100",
        "--hold", "1", "--timeout", "8", "--max-time", "120", "--quiet", "--report-json", json.to_str().unwrap(),
        "--plot", plot.to_str().unwrap(), "--hdr-log", hdr.to_str().unwrap(),
    ]);
    let report = text(&out);
    assert!(out.status.success(), "ringload failed ({:?}):\n{report}", out.status);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for (action, n) in [("register", 2000), ("echo_call", 200), ("ue_call", 200), ("deregister", 2000)] {
        let a = &v["actions"][action];
        assert_eq!((a["attempted"].as_u64(), a["succeeded"].as_u64(), a["failed"].as_u64()), (Some(n), Some(n), Some(0)), "{action}: {report}");
    }
    assert_eq!(v["failures"]["total"], 0, "{report}");
    let h = &v["histograms"];
    assert_eq!(h["initial_register"]["count"], 2000);
    assert_eq!(h["invite_to_200"]["count"], 400);
    assert_eq!(h["bye_to_200"]["count"], 400);
    assert!(h["invite_to_180"]["count"].as_u64() >= Some(200), "every UE-to-UE call rings: {report}");
    let p50 = h["initial_register"]["p50_us"].as_u64().unwrap();
    let p99 = h["initial_register"]["p99_us"].as_u64().unwrap();
    assert!(p50 > 0 && p50 <= p99 && p99 <= h["initial_register"]["max_us"].as_u64().unwrap());
    // 400 calls x 1 s hold at 20 ms: about 50 packets each, nearly all echoed.
    let rtp = &v["rtp"];
    assert_eq!(rtp["calls"], 400);
    let sent = rtp["sent"].as_u64().unwrap();
    assert!(sent >= 400 * 45, "RTP every 20 ms for the hold time: {rtp}");
    assert!(rtp["loss_ratio"].as_f64().unwrap() < 0.02, "{rtp}");
    assert!(h["rtp_round_trip"]["count"].as_u64() == rtp["received"].as_u64());
    assert!(v["cpu_s"].as_f64().unwrap() > 0.0 && v["calls_per_cpu_second"].as_f64().unwrap() > 0.0);
    // The plot: a well-formed SVG with one curve per histogram.
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
    assert_eq!(svg.matches("<polyline").count(), 5, "five non-empty histograms (no re-registration)");
    // The HdrHistogram log decodes, one tagged interval per histogram.
    let tags = load::hdr_log_tags(&hdr);
    assert_eq!(tags, ["initial_register", "invite_to_180", "invite_to_200", "bye_to_200", "rtp_round_trip"]);
    assert!(report.contains("initial_register") && report.contains("no failures"), "{report}");
}

#[test]
fn an_unreachable_target_ends_in_timeouts_and_a_nonzero_exit() {
    let port = free_port().to_string();
    let dir = scratch_dir("ringload-unreachable");
    let json = dir.join("r.json");
    let t0 = Instant::now();
    let out = ringload(&["--target", &format!("127.0.0.1:{port}"), "--ues", "20", "--calls", "5", "--timeout", "1", "--quiet", "--report-json", json.to_str().unwrap()]);
    assert!(t0.elapsed() < Duration::from_secs(20), "bounded: {:?}", t0.elapsed());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("no answer from 127.0.0.1"), "a clear message: {}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["failures"]["by_cause"]["timeout"], 45, "20 registrations, 5 calls and 20 de-registrations time out: {v}");
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    for (args, needle) in [
        (&["--ues", "3"][..], "missing --target"),
        (&["--target", "127.0.0.1:5060", "--rate", "fast"], "not a valid number"),
        (&["--target", "127.0.0.1:5060", "--plot", "x.gif"], ".svg or .png"),
    ] {
        let out = ringload(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out).contains(needle), "{args:?}: {}", text(&out));
    }
}

#[test]
fn shared_socket_mode_routes_every_ue_and_two_workers_share_the_ues() {
    // Also the io_uring backend (ringload's default is epoll; RINGCORE_FORCE_EPOLL overrides).
    let core = Core::start("ringload-shared", &load::users(200, true));
    let dir = scratch_dir("ringload-shared-out");
    let (json, png) = (dir.join("r.json"), dir.join("plot.png"));
    let target = core.sip.to_string();
    let out = ringload(&[
        "--target", &target, "--ues", "200", "--reg-rate", "500", "--calls", "20", "--ue-calls", "20", "--rate", "40",
        "--hold", "0.5", "--shared-socket", "--workers", "2", "--io-uring", "--quiet", "--report-json", json.to_str().unwrap(),
        "--plot", png.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["failures"]["total"], 0);
    assert_eq!(v["actions"]["register"]["succeeded"], 200);
    assert_eq!(v["histograms"]["invite_to_200"]["count"], 40);
    assert!(v["rtp"]["received"].as_u64() > Some(0), "echoes and UE reflections reach their caller: {}", v["rtp"]);
    // The PNG plot: an image of the SVG chart's size (900 x 540), from the PNG's IHDR chunk.
    let png = std::fs::read(&png).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
    assert_eq!((be(16), be(20)), (900, 540));
}

/// Any SIP server works as a target: SIPp's built-in UAS answers the calls and echoes RTP.
#[test]
fn calls_a_sipp_uas_directly_with_rtp_echoed() {
    let port = free_port().to_string();
    let dir = scratch_dir("ringload-sipp-uas");
    let mut uas = Command::new("timeout")
        .args(["60", "sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", &port, "-rtp_echo", "-nostdin", "-m", "10"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sipp (apt-get install sip-tester)");
    std::thread::sleep(Duration::from_millis(500));
    let target = format!("127.0.0.1:{port}");
    let echo = format!("sip:service@{target}");
    let json = dir.join("r.json");
    let out = ringload(&[
        "--target", &target, "--ues", "10", "--no-register", "--no-dereg", "--calls", "10", "--rate", "10", "--hold", "0.5",
        "--echo", &echo, "--quiet", "--report-json", json.to_str().unwrap(),
    ]);
    let _ = uas.wait();
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["actions"]["echo_call"]["succeeded"], 10);
    assert_eq!(v["histograms"]["invite_to_180"]["count"], 10, "SIPp's UAS rings");
    assert!(v["rtp"]["received"].as_u64() >= Some(200), "SIPp echoes the RTP: {}", v["rtp"]);
}
