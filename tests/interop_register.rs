//! Registration against a running ringcore with independent peers:
//! SIPp registers 1,000 AKAv1-MD5 users (keys from a CSV) and 1,000 MD5
//! users, re-registers and de-registers them, and sends a wrong password
//! (four 401s, then 403). A reg event SUBSCRIBE gets NOTIFYs whose reginfo XML
//! tshark's dissectors decode. SQN resynchronisation is driven by our own
//! UE code (SIPp never sends AUTS), over the wire.

mod common;
use common::{sipp, test_file, Core};
use ringcore::auth::{self, digest, Sqn, SqnParams, UeAuthOutcome, UeSqnStore};
use std::fmt::Write as _;
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";
/// SIPp's keyword parser breaks on key bytes such as '[' ']' or NUL, so the
/// test keys avoid them.
const K: &str = "112233445566778899aabbccddeeff11";
const OP: &str = "a1a2a3a4a5a6a7a8a9aaabacadaeafb1";
const N: usize = 1000;

fn aka_imsi(i: usize) -> String {
    format!("00101900{:07}", i)
}

fn user_db() -> String {
    let mut s = String::from("ue_db: [\n");
    for i in 0..N {
        let imsi = aka_imsi(i);
        let _ = writeln!(
            s,
            "{{ sim_algo: \"miln\", imsi: \"{imsi}\", K: \"{K}\", op: \"{OP}\", amf: 32769, impi: \"{imsi}@{DOMAIN}\", impu: [\"sip:{imsi}\"] }},"
        );
    }
    for i in 0..N {
        let _ = writeln!(s, "{{ imsi: \"00101910{i:07}\", pwd: \"pw{i}\", impi: \"md5u{i}@{DOMAIN}\", impu: [\"sip:md5u{i}\"] }},");
    }
    s.push_str("]\n");
    s
}

fn csv(dir: &Path, name: &str, rows: impl Iterator<Item = String>) -> String {
    let mut s = String::from("SEQUENTIAL\n");
    for r in rows {
        s.push_str(&r);
        s.push('\n');
    }
    let p = dir.join(name);
    std::fs::write(&p, s).unwrap();
    p.to_string_lossy().into_owned()
}

fn run_sipp(core: &Core, scenario: &str, inf: &str, count: usize, expires: &str, port: u16) -> (bool, String) {
    let sf = test_file(&format!("sipp/{scenario}"));
    let target = core.sip.to_string();
    let (m, p) = (count.to_string(), port.to_string());
    sipp(
        &[
            "-sf", sf.to_str().unwrap(), "-inf", inf, "-m", &m, "-r", "400", "-l", "200", "-t", "u1",
            "-i", "127.0.0.1", "-p", &p, "-key", "expires", expires, "-timeout", "90", "-recv_timeout", "10000",
            "-nostdin", "-trace_err", "-default_behaviors", "all,-bye", &target,
        ],
        &core.dir,
    )
}

#[test]
fn sipp_registers_aka_and_md5_users_reregisters_deregisters_and_wrong_password_gets_403() {
    let core = Core::start("register", &user_db());
    let aka = csv(&core.dir, "aka.csv", (0..N).map(|i| {
        let imsi = aka_imsi(i);
        format!("{imsi};{imsi}@{DOMAIN};[authentication username={imsi}@{DOMAIN} aka_K=0x{K} aka_OP=0x{OP} aka_AMF=0x8001]")
    }));
    let md5 = csv(&core.dir, "md5.csv", (0..N).map(|i| format!("md5u{i};md5u{i}@{DOMAIN};[authentication username=md5u{i}@{DOMAIN} password=pw{i}]")));
    for (what, scenario, inf) in [("AKAv1-MD5", "reg_aka.xml", &aka), ("MD5", "reg_md5.xml", &md5)] {
        let (ok, out) = run_sipp(&core, scenario, inf, N, "600", 0);
        assert!(ok, "{what}: SIPp registration of {N} users failed:\n{out}");
        // Re-registration: a fresh challenge, the same bindings refreshed.
        let (ok, out) = run_sipp(&core, scenario, inf, 50, "600", 0);
        assert!(ok, "{what}: re-registration failed:\n{out}");
    }
    // De-registration with Expires: 0 (authenticated, RFC 3261 10.2.2).
    let (ok, out) = run_sipp(&core, "reg_md5.xml", &md5, 20, "0", 0);
    assert!(ok, "de-registration failed:\n{out}");
    let wrong = csv(&core.dir, "wrong.csv", (0..5).map(|i| format!("md5u{i};md5u{i}@{DOMAIN};[authentication username=md5u{i}@{DOMAIN} password=nope]")));
    let (ok, out) = run_sipp(&core, "reg_md5_wrong.xml", &wrong, 5, "600", 0);
    assert!(ok, "a wrong password must end in 403 after four 401s:\n{out}");
}

/// Minimal UDP UE: sends a request, returns the first message received.
struct Ue {
    sock: UdpSocket,
    local: String,
}

impl Ue {
    fn new() -> Ue {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let local = sock.local_addr().unwrap().to_string();
        Ue { sock, local }
    }
    fn recv(&self) -> String {
        let mut buf = vec![0u8; 65536];
        let (n, _) = self.sock.recv_from(&mut buf).expect("an answer from ringcore");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
    fn register(&self, core: &Core, user: &str, cseq: u32, auth: &str) -> String {
        let msg = format!(
            "REGISTER sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKr{cseq}x{user}\r\nMax-Forwards: 70\r\n\
             From: <sip:{user}@{DOMAIN}>;tag=ue1\r\nTo: <sip:{user}@{DOMAIN}>\r\nCall-ID: reg-{user}@ue\r\nCSeq: {cseq} REGISTER\r\n\
             Contact: <sip:{user}@{l}>;+g.3gpp.smsip\r\nExpires: 600\r\n{auth}Content-Length: 0\r\n\r\n",
            l = self.local
        );
        self.sock.send_to(msg.as_bytes(), core.sip).unwrap();
        self.recv()
    }
}

fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.split("\r\n").find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')).map(str::trim))
}

fn param<'a>(h: &'a str, name: &str) -> Option<&'a str> {
    h.split([',', ' ']).find_map(|p| p.trim().strip_prefix(name).and_then(|r| r.strip_prefix('='))).map(|v| v.trim_matches('"'))
}

fn hex16(s: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

fn aka_auth(user: &str, nonce: &str, password: &[u8], auts: Option<&str>) -> String {
    let impi = format!("{user}@{DOMAIN}");
    let uri = format!("sip:{DOMAIN}");
    let response = digest::compute_response(&digest::DigestInput {
        username: impi.as_bytes(),
        realm: DOMAIN.as_bytes(),
        password,
        method: b"REGISTER",
        uri: uri.as_bytes(),
        nonce: nonce.as_bytes(),
        qop: digest::Qop::None,
        body: &[],
    });
    let auts = auts.map(|a| format!(",auts=\"{a}\"")).unwrap_or_default();
    format!(
        "Authorization: Digest username=\"{impi}\",realm=\"{DOMAIN}\",nonce=\"{nonce}\",uri=\"{uri}\",response=\"{}\",algorithm=AKAv1-MD5{auts}\r\n",
        response.as_str()
    )
}

#[test]
fn sqn_out_of_range_is_recovered_through_auts_and_a_wrong_res_is_rejected() {
    let core = Core::start("resync", &user_db());
    let sim = auth::Sim::new(&hex16(K), &auth::SimAlgo::milenage(auth::OpVariant::Op(hex16(OP)))).unwrap();
    let user = aka_imsi(7);
    let ue = Ue::new();
    // The USIM has seen SQNs far ahead of the HSS (e.g. used in another network).
    let mut store = UeSqnStore::new(Sqn::new(0x40_0000).unwrap(), SqnParams::DEFAULT).unwrap();
    let r1 = ue.register(&core, &user, 1, "");
    assert!(r1.starts_with("SIP/2.0 401"), "{r1}");
    let nonce = param(header(&r1, "WWW-Authenticate").unwrap(), "nonce").unwrap().to_owned();
    let n = digest::decode_aka_nonce(&nonce).unwrap();
    let UeAuthOutcome::SyncFailure { auts } = auth::ue_authenticate(&sim, &mut store, &n.rand, &n.autn) else {
        panic!("the USIM must reject the HSS's low SQN")
    };
    let mut b = [0u8; 64];
    let len = digest::encode_auts(auts.as_slice(), &mut b).unwrap();
    let auts = std::str::from_utf8(&b[..len]).unwrap();
    let r2 = ue.register(&core, &user, 2, &aka_auth(&user, &nonce, b"", Some(auts)));
    assert!(r2.starts_with("SIP/2.0 401"), "resync must give a new challenge: {r2}");
    let nonce2 = param(header(&r2, "WWW-Authenticate").unwrap(), "nonce").unwrap().to_owned();
    let n2 = digest::decode_aka_nonce(&nonce2).unwrap();
    let UeAuthOutcome::Success { res, .. } = auth::ue_authenticate(&sim, &mut store, &n2.rand, &n2.autn) else {
        panic!("after resynchronisation the SQN must be fresh")
    };
    // A wrong RES first: a fresh challenge, nothing registered.
    let r3 = ue.register(&core, &user, 3, &aka_auth(&user, &nonce2, b"wrong-res", None));
    assert!(r3.starts_with("SIP/2.0 401"), "{r3}");
    let nonce3 = param(header(&r3, "WWW-Authenticate").unwrap(), "nonce").unwrap().to_owned();
    let n3 = digest::decode_aka_nonce(&nonce3).unwrap();
    let UeAuthOutcome::Success { res: res3, .. } = auth::ue_authenticate(&sim, &mut store, &n3.rand, &n3.autn) else { panic!() };
    let _ = res;
    let r4 = ue.register(&core, &user, 4, &aka_auth(&user, &nonce3, res3.as_slice(), None));
    assert!(r4.starts_with("SIP/2.0 200"), "{r4}");
    assert!(header(&r4, "P-Associated-URI").unwrap().contains(&user));
    assert!(header(&r4, "Service-Route").is_some());
}

fn tshark_available() -> bool {
    Command::new("tshark").arg("-v").stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

#[test]
fn reginfo_notifies_are_decoded_by_tshark() {
    assert!(tshark_available(), "tshark is needed (apt-get install tshark)");
    let core = Core::start("reginfo", &user_db());
    let pcap = core.dir.join("reginfo.pcap");
    let port = core.sip.port();
    let mut cap = Command::new("tshark")
        .args(["-i", "lo", "-f", &format!("udp port {port}"), "-w", pcap.to_str().unwrap(), "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tshark");
    std::thread::sleep(Duration::from_secs(2));
    let watcher = Ue::new();
    let target = "md5u3";
    let sub = format!(
        "SUBSCRIBE sip:{target}@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKsub1\r\nMax-Forwards: 70\r\n\
         From: <sip:{target}@{DOMAIN}>;tag=w1\r\nTo: <sip:{target}@{DOMAIN}>\r\nCall-ID: sub-1@watcher\r\nCSeq: 1 SUBSCRIBE\r\n\
         Contact: <sip:watcher@{l}>\r\nEvent: reg\r\nExpires: 600\r\nAccept: application/reginfo+xml\r\nContent-Length: 0\r\n\r\n",
        l = watcher.local
    );
    watcher.sock.send_to(sub.as_bytes(), core.sip).unwrap();
    let mut notifies = Vec::new();
    let mut got_200 = false;
    let answer = |n: &str| {
        watcher.sock.send_to(common::respond(n, "200 OK", None, "", "").as_bytes(), core.sip).unwrap();
    };
    while !got_200 || notifies.is_empty() {
        let m = watcher.recv();
        if m.starts_with("SIP/2.0 200") {
            got_200 = true;
        } else if m.starts_with("NOTIFY ") {
            answer(&m);
            notifies.push(m);
        }
    }
    assert!(notifies[0].contains("state=\"init\"") || notifies[0].contains("state=\"terminated\""), "{}", notifies[0]);
    // The watched user registers: a NOTIFY with the active contact follows.
    let md5 = csv(&core.dir, "one.csv", std::iter::once(format!("{target};{target}@{DOMAIN};[authentication username={target}@{DOMAIN} password=pw3]")));
    let (ok, out) = run_sipp(&core, "reg_md5.xml", &md5, 1, "600", 0);
    assert!(ok, "{out}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !notifies.last().unwrap().contains("event=\"registered\"") {
        let m = watcher.recv();
        if m.starts_with("NOTIFY ") {
            answer(&m);
            notifies.push(m);
        }
    }
    let last = notifies.last().unwrap();
    assert!(last.contains("<registration aor=\"sip:md5u3@ims.mnc001.mcc001.3gppnetwork.org\""), "{last}");
    assert!(last.contains("state=\"active\" event=\"registered\""), "{last}");
    std::thread::sleep(Duration::from_secs(1));
    let _ = Command::new("kill").args(["-INT", &cap.id().to_string()]).status();
    let _ = cap.wait();
    let out = Command::new("tshark")
        .args(["-r", pcap.to_str().unwrap(), "-Y", "sip.Method == \"NOTIFY\"", "-V"])
        .output()
        .expect("tshark -r");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.matches("Request-Line: NOTIFY").count() >= 2, "tshark saw no NOTIFYs:\n{text}");
    assert!(text.contains("eXtensible Markup Language"), "reginfo body not decoded as XML:\n{text}");
    assert!(text.contains("<reginfo") && text.contains("<contact"), "reginfo elements missing:\n{text}");
    assert!(!text.contains("Malformed"), "tshark reports a malformed packet:\n{text}");
}

#[test]
fn bad_register_input_gets_400_and_unknown_identities_403() {
    let core = Core::start("regbad", &user_db());
    let ue = Ue::new();
    let broken = "Authorization: Digest username=\"md5u1@ims.mnc001.mcc001.3gppnetwork.org,realm=x\r\n";
    let r = ue.register(&core, "md5u1", 1, broken);
    assert!(r.starts_with("SIP/2.0 400"), "malformed Authorization: {r}");
    assert!(header(&r, "Warning").is_some_and(|w| w.starts_with("399 ")), "{r}");
    let r = ue.register(&core, "nobody", 2, "");
    assert!(r.starts_with("SIP/2.0 403"), "unknown IMPU: {r}");
    let r = ue.register(&core, "md5u2", 3, &format!("Authorization: Digest username=\"ghost@{DOMAIN}\",realm=\"{DOMAIN}\",nonce=\"\",uri=\"sip:{DOMAIN}\",response=\"\"\r\n"));
    assert!(r.starts_with("SIP/2.0 403"), "unknown IMPI: {r}");
    // No state was changed by the failures: the user still gets a normal challenge.
    let r = ue.register(&core, "md5u1", 4, "");
    assert!(r.starts_with("SIP/2.0 401"), "{r}");
    assert!(!header(&r, "WWW-Authenticate").unwrap().contains("stale"), "{r}");
}
