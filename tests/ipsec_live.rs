//! IPsec against a running ringcore with an independent UE: tests/ipsec/ue.py (scapy's
//! ESP, its own Milenage and digest) registers with sec-agree over UDP-encapsulated ESP
//! (RFC 3948, mod=UDP-enc-tun) with aes-cbc + hmac-sha-1-96 and with null + hmac-md5-96,
//! decrypts ringcore's 200 OK, sends a flipped-bit, a replayed and an unknown-SPI packet
//! (dropped: no answer, and counted, read from the ipsec log layer), re-registers onto a
//! new SA set, de-registers (SAs removed), and gets 494 for unacceptable offers; the same
//! in transport mode over raw ESP sockets, over IPv4 and over IPv6 (core on ::1).

mod common;
use common::{free_port, test_file, Core};
use std::process::Command;

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";
const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const OP: &str = "cdc202d5123e20f62b6d676ac72cb318";

fn scapy_available() -> bool {
    Command::new("python3").args(["-c", "import scapy.layers.ipsec, cryptography"]).status().is_ok_and(|s| s.success())
}

fn imsi(i: usize) -> String {
    format!("0010199000000{i:02}")
}

fn start(name: &str, extra: &str) -> Core {
    Core::start(name, &start_body(extra))
}

/// The configuration of an IPsec test core (four UEs), with `extra` properties.
fn start_body(extra: &str) -> String {
    let mut db = String::from("ue_db: [\n");
    for i in 0..4 {
        let imsi = imsi(i);
        db.push_str(&format!(
            "{{ sim_algo: \"miln\", imsi: \"{imsi}\", K: \"{K}\", op: \"{OP}\", amf: 32769, impi: \"{imsi}@{DOMAIN}\", impu: [\"sip:{imsi}\"] }},\n"
        ));
    }
    db.push_str("],\n");
    format!(
        "{db}  log_options: \"all.level=error,ipsec.level=debug\",\n  log_sync: true,\n  engine: {{ workers: 2 }},\n  ipsec_port: {},\n  \
         ipsec_aalg_list: [\"hmac-sha-1-96\", \"hmac-md5-96\"],\n  ipsec_ealg_list: [\"aes-cbc\", \"null\", \"des-ede3-cbc\"],\n{extra}",
        free_port()
    )
}

fn ue(core: &Core, i: usize, extra: &[&str]) -> (bool, String) {
    ue_at(&core.sip.to_string(), i, extra)
}

/// [`ue`] towards the core's SIP address `core_addr`.
fn ue_at(core_addr: &str, i: usize, extra: &[&str]) -> (bool, String) {
    let script = test_file("ipsec/ue.py");
    let imsi = imsi(i);
    let impi = format!("{imsi}@{DOMAIN}");
    let impu = format!("sip:{imsi}@{DOMAIN}");
    let mut args = vec![
        script.to_str().unwrap_or_default(),
        "--core",
        core_addr,
        "--impi",
        &impi,
        "--impu",
        &impu,
        "--k",
        K,
        "--op",
        OP,
    ];
    args.extend_from_slice(extra);
    let out = Command::new("python3").args(&args).output().expect("python3 runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// The counters of the last ipsec log line (`name=value` pairs) once `ready` holds for
/// them (the log is written asynchronously), or the last ones after 15 s.
fn counters(core: &Core, ready: impl Fn(&[(String, u64)]) -> bool) -> Vec<(String, u64)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let log = std::fs::read_to_string(core.dir.join("ims.log")).unwrap_or_default();
        let c: Vec<(String, u64)> = log
            .lines()
            .rev()
            .find(|l| l.contains("bad_icv="))
            .map(|line| {
                line.split_whitespace()
                    .filter_map(|w| w.split_once('='))
                    .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
                    .collect()
            })
            .unwrap_or_default();
        if ready(&c) || std::time::Instant::now() > deadline {
            assert!(!c.is_empty(), "no ipsec counters in the log:\n{log}");
            return c;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn get(c: &[(String, u64)], name: &str) -> u64 {
    c.iter().find(|(k, _)| k == name).map_or_else(|| panic!("{name} in {c:?}"), |(_, v)| *v)
}

/// Register, tamper (flipped bit, replay, unknown SPI), re-register onto a new SA set,
/// de-register; checks what the UE saw and the core's counters.
fn full_scenario(core: &Core, mode: &str) {
    full_scenario_at(core, mode, &[]);
}

/// [`full_scenario`] with more UE arguments.
fn full_scenario_at(core: &Core, mode: &str, more: &[&str]) {
    let mut args = vec!["--alg", "hmac-sha-1-96", "--ealg", "aes-cbc", "--mode", mode, "--scenario", "full"];
    args.extend_from_slice(more);
    let (ok, out) = ue(core, 0, &args);
    assert!(ok, "{out}");
    let r: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or("")).expect("JSON result");
    assert_eq!(r["registered"], "SIP/2.0 200 OK", "{out}");
    assert_eq!(r["bad_verify"], "SIP/2.0 494 Security Agreement Required", "{out}");
    for k in ["flipped_bit_silent", "replay_silent", "unknown_spi_silent", "deregistered", "sas_removed_on_deregistration"] {
        assert_eq!(r[k], true, "{k}: {out}");
    }
    if r.get("old_set_removed").is_some() {
        assert_eq!(r["old_set_removed"], true, "{out}");
    }
    // The last line comes from the plain REGISTER sent after the probe over removed SAs.
    let c = counters(core, |c| c.iter().any(|(k, v)| k == "unknown_spi" && *v >= 3));
    eprintln!("UE: {r}\ncore counters: {c:?}");
    assert!(get(&c, "bad_icv") >= 1, "{c:?}");
    assert!(get(&c, "replay") >= 1, "{c:?}");
    // The unknown SPI, the old set after re-registration, the set removed at de-registration.
    assert!(get(&c, "unknown_spi") >= 3, "{c:?}");
    assert!(get(&c, "ok_in") >= 4 && get(&c, "ok_out") >= 4, "{c:?}");
    assert_eq!(get(&c, "sets"), 0, "de-registration removed every SA set: {c:?}");
    assert_eq!(get(&c, "install_failed"), 0, "{c:?}");
}

/// The authenticated REGISTER over TCP inside the SA, answered over the same connection
/// by the worker's userspace TCP.
fn tcp_scenario(core: &Core, mode: &str, mtu: &str) {
    tcp_scenario_at(core, mode, mtu, &[]);
}

/// [`tcp_scenario`] with more UE arguments.
fn tcp_scenario_at(core: &Core, mode: &str, mtu: &str, more: &[&str]) {
    let mut args = vec!["--mode", mode, "--scenario", "tcp", "--mtu", mtu];
    args.extend_from_slice(more);
    let (ok, out) = ue(core, 3, &args);
    assert!(ok, "{out}");
    eprintln!("TCP ({mode}): {out}");
    assert!(out.contains("\"registered_over_tcp\": \"SIP/2.0 200 OK\""), "{out}");
    let r: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or("")).expect("JSON result");
    let (segments, bytes) = (r["segments"].as_u64().unwrap_or(0), r["bytes"].as_u64().unwrap_or(0));
    let mss = mtu.parse::<u64>().unwrap_or(1400) - 40;
    assert!(segments >= bytes.div_ceil(mss), "segments within ipsec_mtu: {out}");
}

#[test]
fn sec_agree_and_udp_encapsulated_esp_against_scapy() {
    if !scapy_available() {
        eprintln!("SKIP: python3 with scapy and cryptography is needed (pip3 install scapy)");
        return;
    }
    let core = start("ipsec_live_udp", "");
    full_scenario(&core, "UDP-enc-tun");
    tcp_scenario(&core, "UDP-enc-tun", "1400");

    // null + hmac-md5-96.
    let (ok, out) = ue(&core, 1, &["--alg", "hmac-md5-96", "--ealg", "null", "--scenario", "basic"]);
    assert!(ok, "{out}");
    assert!(out.contains("alg=hmac-md5-96;ealg=null"), "{out}");
    // des-ede3-cbc + hmac-md5-96.
    let (ok, out) = ue(&core, 2, &["--alg", "hmac-md5-96", "--ealg", "des-ede3-cbc", "--scenario", "basic"]);
    assert!(ok, "{out}");

    // RFC 3329 2.3.1: nothing acceptable gets 494 with our Security-Server list.
    for extra in [["--alg", "hmac-sha-256"], ["--reject-mode", "tun"]] {
        let mut args = vec!["--scenario", "reject"];
        args.extend_from_slice(&extra);
        let (ok, out) = ue(&core, 3, &args);
        assert!(ok, "{extra:?}: {out}");
        assert!(out.contains("494 Security Agreement Required"), "{out}");
        assert!(out.contains("ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc"), "{out}");
    }
}

fn raw_esp_allowed() -> bool {
    raw_esp_allowed_in("AF_INET")
}

/// True when python3 may open a raw ESP socket of `family` (`AF_INET`, `AF_INET6`).
fn raw_esp_allowed_in(family: &str) -> bool {
    let probe = format!("import socket; socket.socket(socket.{family}, socket.SOCK_RAW, 50)");
    Command::new("python3").args(["-c", &probe]).status().is_ok_and(|s| s.success())
}

/// The host's first global IPv6 address: the UE's address when the core is on ::1 (raw
/// sockets of both on ::1 would see each other's packets).
fn global_ipv6() -> Option<std::net::Ipv6Addr> {
    let table = std::fs::read_to_string("/proc/net/if_inet6").ok()?;
    table.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let hex = f.first().filter(|_| f.get(3) == Some(&"00"))?;
        u128::from_str_radix(hex, 16).ok().map(std::net::Ipv6Addr::from)
    })
}

#[test]
fn transport_mode_over_raw_esp_against_scapy() {
    if !scapy_available() || !raw_esp_allowed() {
        eprintln!("SKIP: needs scapy and raw sockets (root or CAP_NET_RAW)");
        return;
    }
    // A small ipsec_mtu: the 200 OK over TCP comes in several segments within it.
    let core = start("ipsec_live_trans", "  ipsec_mtu: 300,");
    full_scenario(&core, "trans");
    tcp_scenario(&core, "trans", "300");
    let (ok, out) = ue(&core, 1, &["--alg", "hmac-md5-96", "--ealg", "null", "--mode", "trans", "--scenario", "basic"]);
    assert!(ok, "{out}");
    assert!(out.contains("mod=trans"), "{out}");
}

#[test]
fn transport_mode_over_ipv6_raw_esp_against_scapy() {
    if !scapy_available() || !raw_esp_allowed_in("AF_INET6") {
        eprintln!("SKIP: needs scapy and IPv6 raw sockets (root or CAP_NET_RAW)");
        return;
    }
    let Some(ue_ip) = global_ipv6() else {
        eprintln!("SKIP: the UE needs a global IPv6 address of this host besides ::1");
        return;
    };
    // The core listens on both families: each UE is protected over its own.
    let ips = [std::net::Ipv6Addr::LOCALHOST.into(), std::net::Ipv4Addr::LOCALHOST.into()];
    let core = Core::start_on("ipsec_live_trans6", &start_body("  ipsec_mtu: 300,"), &ips);
    let ue_ip = ue_ip.to_string();
    // Register, tamper, re-register, de-register over IPv6 ESP (inner UDP checksums over
    // the IPv6 pseudo-header, RFC 8200 8.1, both ways).
    full_scenario_at(&core, "trans", &["--ue-ip", &ue_ip]);
    let (ok, out) = ue(&core, 1, &["--alg", "hmac-md5-96", "--ealg", "null", "--mode", "trans", "--scenario", "basic", "--ue-ip", &ue_ip]);
    assert!(ok, "{out}");
    assert!(out.contains("mod=trans"), "{out}");
    // A request other than REGISTER over the SA, answered over it.
    let (ok, out) = ue(&core, 2, &["--mode", "trans", "--scenario", "options", "--ue-ip", &ue_ip]);
    assert!(ok, "{out}");
    assert!(out.contains("\"options_over_sa\": \"SIP/2.0 200 OK\""), "{out}");
    // The authenticated REGISTER over TCP inside the SA (the worker's userspace TCP over
    // IPv6), segments within a small ipsec_mtu; then the same in UDP-enc-tun mode.
    tcp_scenario_at(&core, "trans", "300", &["--ue-ip", &ue_ip]);
    tcp_scenario_at(&core, "UDP-enc-tun", "300", &[]);
    // UDP-encapsulated tunnel mode over IPv6 (inner IPv6 packets, Next Header 41).
    let (ok, out) = ue(&core, 2, &["--mode", "UDP-enc-tun", "--scenario", "options"]);
    assert!(ok, "{out}");
    assert!(out.contains("\"options_over_sa\": \"SIP/2.0 200 OK\""), "{out}");
    // An IPv4 UE of the same core, over the worker's IPv4 raw ESP socket.
    let v4 = format!("127.0.0.1:{}", core.sip.port());
    let (ok, out) = ue_at(&v4, 3, &["--mode", "trans", "--scenario", "options"]);
    assert!(ok, "{out}");
    assert!(out.contains("\"options_over_sa\": \"SIP/2.0 200 OK\""), "{out}");
}
