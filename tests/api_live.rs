//! The remote API and the metrics endpoint of a running ringcore, driven by
//! independent clients: Python's `websockets` (PyPI) through
//! tests/api/live_check.py, SIPp for registrations, plain HTTP and
//! `promtool check metrics` (Debian package prometheus) when installed.

mod common;
use common::{free_port, options_ping, sipp, test_file, Core};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";

fn users() -> String {
    format!(
        "ue_db: [ {{ impi: \"alice@{DOMAIN}\", imsi: \"001010000000001\", pwd: \"pw\", impu: [\"sip:alice\"] }}, \
         {{ imsi: \"001019100000000\", pwd: \"pw0\", impi: \"md5u0@{DOMAIN}\", impu: [\"sip:md5u0\"] }} ],\n\
         echo: [\"sip:echo\"],\n"
    )
}

/// Starts a core with the API on a free port (and metrics on another).
fn start(name: &str, extra: &str) -> (Core, String, String) {
    let (api, metrics) = (free_port(), free_port());
    let body = format!(
        "{users}com_addr: \"127.0.0.1:{api}\", com_name: \"ApiLive\", metrics_addr: \"127.0.0.1:{metrics}\",\n\
         log_options: \"all.level=debug\",\n{extra}",
        users = users()
    );
    let core = Core::start(name, &body);
    (core, format!("127.0.0.1:{api}"), format!("127.0.0.1:{metrics}"))
}

fn websockets_available() -> bool {
    Command::new("python3").args(["-c", "import websockets.sync.client"]).status().is_ok_and(|s| s.success())
}

fn run_check(args: &[&str]) {
    let script = test_file("api/live_check.py");
    let out = Command::new("python3").arg(script).args(args).output().expect("run python3");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("OK"), "live_check {args:?}:\n{text}");
}

macro_rules! need_websockets {
    () => {
        if !websockets_available() {
            eprintln!("skipped: python3 websockets missing (pip3 install websockets)");
            return;
        }
    };
}

#[test]
fn every_message_answers_from_the_live_core_and_quit_stops_it() {
    need_websockets!();
    let (mut core, api, _) = start("api-messages", "");
    run_check(&["messages", &api]);
    // quit: the process ends on its own.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while core.alive() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!core.alive(), "ringcore still runs after quit");
}

#[test]
fn bad_input_gets_error_answers_and_oversized_frames_a_close() {
    need_websockets!();
    let (_core, api, _) = start("api-errors", "");
    run_check(&["errors", &api]);
}

#[test]
fn authentication_failure_then_success_and_logs_lock() {
    need_websockets!();
    let (_core, api, _) = start("api-auth", "com_auth: { password: \"s3cret\" }, com_logs_lock: true,\n");
    run_check(&["auth", &api, "s3cret"]);
}

fn cli(args: &[&str]) -> (bool, Vec<serde_json::Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_ringcore")).arg("api").args(args).output().expect("run ringcore api");
    let lines = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    (out.status.success(), lines)
}

#[test]
fn command_line_client_authenticates_and_prints_json_lines() {
    let (_core, api, _) = start("api-cli", "com_auth: { password: \"s3cret\" },\n");
    let (ok, lines) = cli(&[&api, r#"{"message": "help", "message_id": 7}"#, r#"[{"message": "config_get"}, {"message": "ipsec"}]"#, "--password", "s3cret"]);
    assert!(ok, "{lines:?}");
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(lines[0]["message"], "authenticate");
    assert_eq!(lines[1]["ready"], true);
    assert_eq!(lines[2]["message_id"], 7);
    assert_eq!(lines[3]["message"], "config_get");
    assert_eq!(lines[4]["SAs"], serde_json::json!([]));
    let (ok, lines) = cli(&[&api, r#"{"message": "bar"}"#, "--password", "s3cret"]);
    assert!(!ok, "an error answer must give exit status 1");
    assert_eq!(lines.last().unwrap()["error"], "Unknown message: bar");
    let (ok, _) = cli(&[&api, r#"{"message": "help"}"#, "--password", "wrong"]);
    assert!(!ok, "a wrong password must fail");
}

#[test]
fn log_get_waits_for_min_timeout_and_allow_empty() {
    need_websockets!();
    let (_core, api, _) = start("api-logget", "");
    run_check(&["log_get", &api]);
}

fn sipp_register_args(core: &Core) -> String {
    let csv = core.dir.join("md5.csv");
    std::fs::write(&csv, format!("SEQUENTIAL\nmd5u0;md5u0@{DOMAIN};[authentication username=md5u0@{DOMAIN} password=pw0]\n")).unwrap();
    let sf = test_file("sipp/reg_md5.xml");
    let args = [
        "sipp", "-sf", sf.to_str().unwrap(), "-inf", csv.to_str().unwrap(), "-m", "1", "-t", "u1", "-i", "127.0.0.1", "-p", "0",
        "-key", "expires", "600", "-timeout", "30", "-nostdin", "-default_behaviors", "all,-bye", &core.sip.to_string(),
    ];
    serde_json::to_string(&args).unwrap()
}

#[test]
fn users_update_event_on_sipp_registration_and_unregister() {
    need_websockets!();
    if sipp(&["-v"], &std::env::temp_dir()).1.is_empty() {
        eprintln!("skipped: sipp missing");
        return;
    }
    let (core, api, _) = start("api-events", "");
    let args = sipp_register_args(&core);
    run_check(&["events", &api, &args]);
}

#[test]
fn mt_call_dialog_get_dialog_set_stop_and_dialog_events() {
    need_websockets!();
    let extra = format!("ue_db: [ {{ imsi: \"001010000000951\", impi: \"ue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:ue\"] }} ],\n");
    let (core, api, _) = start("api-dialog", &extra);
    run_check(&["dialog", &api, &core.sip.to_string()]);
}

/// seed 000 dialog_get medias and event_list, users_get dialogs and dialog_set
/// media / reinvite / stop on an echo call where SIPp streams RTP (rtp_stream).
#[test]
fn echo_call_media_counters_event_list_media_switch_and_reinvite() {
    need_websockets!();
    if sipp(&["-v"], &std::env::temp_dir()).1.is_empty() {
        eprintln!("skipped: sipp missing");
        return;
    }
    let extra = format!("ue_db: [ {{ imsi: \"001010000000953\", impi: \"ue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:ue\"] }} ],\n");
    let (core, api, _) = start("api-echo-media", &extra);
    // One second of PCMU (0xd5: silence), looped by SIPp's rtp_stream.
    std::fs::write(core.dir.join("pcmu.raw"), vec![0xd5u8; 8000]).unwrap();
    let sf = test_file("sipp/echo_media_uac.xml");
    let mp = (free_port() & !1).to_string();
    let args = [
        "sipp", "-sf", sf.to_str().unwrap(), "-m", "1", "-t", "u1", "-i", "127.0.0.1", "-p", "0", "-mi", "127.0.0.1", "-mp", &mp,
        "-timeout", "25", "-nostdin", &core.sip.to_string(),
    ];
    let args = serde_json::to_string(&args).unwrap();
    run_check(&["echo_media", &api, &args, core.dir.to_str().unwrap()]);
}

#[test]
fn sms_message_reaches_a_plain_text_ue_and_the_sms_event_fires() {
    need_websockets!();
    let extra = format!("ue_db: [ {{ imsi: \"001010000000952\", impi: \"ue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:ue\"] }} ],\n");
    let (core, api, _) = start("api-sms", &extra);
    run_check(&["sms", &api, &core.sip.to_string()]);
}

fn openssl(args: &[&str], dir: &std::path::Path) -> bool {
    Command::new("openssl").args(args).current_dir(dir).output().is_ok_and(|o| o.status.success())
}

/// A self-signed server certificate (cert.pem, key.pem), a CA (ca.pem) and a
/// client certificate it signed (client.pem, client.key) in `dir`.
fn make_certs(dir: &std::path::Path) -> bool {
    let self_signed = |cn: &str, key: &str, out: &str| {
        openssl(&["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", cn, "-keyout", key, "-out", out], dir)
    };
    std::fs::write(dir.join("ext"), "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n").unwrap();
    self_signed("/CN=localhost", "key.pem", "cert.pem")
        && self_signed("/CN=test-ca", "ca.key", "ca.pem")
        && openssl(&["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=client", "-keyout", "client.key", "-out", "client.csr"], dir)
        && openssl(&["x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile", "ext", "-out", "client.pem"], dir)
}

#[test]
fn tls_with_com_ssl_certificate_no_plaintext_and_peer_verification() {
    need_websockets!();
    let dir = common::scratch_dir("api-tls-cert");
    if !make_certs(&dir) {
        eprintln!("skipped: openssl missing");
        return;
    }
    let f = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let extra = format!("com_ssl_certificate: \"{}\", com_ssl_key: \"{}\",\n", f("cert.pem"), f("key.pem"));
    let (_core, api, _) = start("api-tls", &extra);
    run_check(&["tls", &api, &f("cert.pem")]);
    let extra = format!("{extra}com_ssl_peer_verify: true, com_ssl_ca: \"{}\",\n", f("ca.pem"));
    let (_core2, api2, _) = start("api-tls-peer", &extra);
    run_check(&["tls_peer", &api2, &f("cert.pem"), &f("client.pem"), &f("client.key")]);
}

fn scrape(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect metrics");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default()
}

/// The value of the sample line starting with `prefix` (name and labels).
fn sample(body: &str, prefix: &str) -> Option<f64> {
    body.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok())
}

#[test]
fn metrics_endpoint_serves_valid_text_and_counters_move() {
    let (core, _, metrics) = start("api-metrics", "");
    let before = scrape(&metrics);
    for name in ["ringcore_sip_rx_requests_total", "ringcore_command_queue_depth", "ringcore_bindings", "ringcore_latency_register_seconds_bucket", "ringcore_dialogs"] {
        assert!(before.contains(name), "{name} missing:\n{before}");
    }
    let opts = |b: &str| sample(b, "ringcore_sip_options_answered_total{worker=\"0\"}").unwrap_or(-1.0);
    for _ in 0..3 {
        assert!(options_ping(core.sip, Duration::from_secs(2)).is_some());
    }
    // RTP through an echo call moves the media counters (perf/echo_call.py sets the call up).
    let media = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    media.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mport = media.local_addr().unwrap().port().to_string();
    let call = Command::new("python3").arg("perf/echo_call.py").arg(core.sip.to_string()).arg(&mport).output().expect("python3");
    assert!(call.status.success(), "echo call: {}", String::from_utf8_lossy(&call.stderr));
    let echo_at = String::from_utf8_lossy(&call.stdout).trim().to_owned();
    let mut rtp = vec![0x80u8, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4];
    rtp.resize(172, 0xd5);
    // Sent every 100 ms until 5 echoes came back (a loaded machine may still be installing
    // the echo's media session when the first packet arrives).
    media.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut echoed = 0;
    for _ in 0..100 {
        media.send_to(&rtp, &echo_at).unwrap();
        let mut buf = [0u8; 256];
        echoed += usize::from(media.recv_from(&mut buf).is_ok());
        if echoed == 5 {
            break;
        }
    }
    assert_eq!(echoed, 5, "RTP echoed");
    let after = scrape(&metrics);
    assert!(opts(&after) >= opts(&before) + 3.0, "OPTIONS counter did not move:\n{after}");
    let rtp_rx = |b: &str| b.lines().filter(|l| l.starts_with("ringcore_rtp_rx_packets_total{")).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum::<f64>();
    assert!(rtp_rx(&after) >= 5.0, "RTP counter did not move:\n{after}");
    assert!(after.contains("ringcore_esp_dropped_packets_total{reason=\"bad_icv\"}"), "ESP counters missing:\n{after}");
    // Other paths and methods are refused.
    let mut s = TcpStream::connect(&metrics).unwrap();
    write!(s, "GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 404"), "{out}");
    if Command::new("promtool").arg("--version").output().is_ok() {
        let path = core.dir.join("metrics.txt");
        std::fs::write(&path, &after).unwrap();
        let out = Command::new("sh").arg("-c").arg(format!("promtool check metrics < {}", path.display())).output().unwrap();
        assert!(out.status.success(), "promtool: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    } else {
        eprintln!("promtool missing: format check skipped");
    }
}
