//! SMS over IP end to end against a running ringcore (TS 24.341): UEs registered over UDP
//! exchange RP messages in SIP MESSAGE bodies; a plain SIP client exchanges text/plain; a
//! capture of the traffic is decoded by tshark's gsm_sms dissector as an independent oracle.

mod common;
use common::{respond, Core};
use ringcore::sms::{
    Dcs, EnhancedVp, RpAck, RpAddress, RpData, RpDirection, RpMessage, Submit, TpAddress, Tpdu, UserData, ValidityPeriod,
};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";
const A_NUM: &str = "+33600000001";
const B_NUM: &str = "+33600000002";
const C_NUM: &str = "+33600000003";

fn users() -> String {
    let ue = |imsi: &str, name: &str, num: &str| {
        format!("{{ imsi: \"{imsi}\", impi: \"{name}@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:{name}\", \"tel:{num}\"] }}")
    };
    format!(
        "ue_db: [ {}, {}, {} ],\n sms_centre_address: {{ type_of_number: \"international\", number: \"+33699999999\" }}",
        ue("001010000000001", "alice", A_NUM),
        ue("001010000000002", "bob", B_NUM),
        ue("001010000000003", "carol", C_NUM)
    )
}

/// One SIP message: start line and headers, and the raw body.
struct Sip {
    head: String,
    body: Vec<u8>,
}

impl Sip {
    fn parse(raw: &[u8]) -> Sip {
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").map_or(raw.len(), |p| p + 4);
        Sip { head: String::from_utf8_lossy(&raw[..split]).into_owned(), body: raw[split..].to_vec() }
    }

    fn is_request(&self, method: &str) -> bool {
        self.head.starts_with(&format!("{method} "))
    }

    fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.head.split("\r\n").find(|l| l.to_ascii_lowercase().starts_with(&prefix)).map(|l| l[prefix.len()..].trim())
    }
}

/// A UE on its own UDP socket.
struct Ue {
    sock: UdpSocket,
    local: SocketAddr,
    name: &'static str,
    core: SocketAddr,
    seq: u32,
}

impl Ue {
    fn new(name: &'static str, core: SocketAddr) -> Ue {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let local = sock.local_addr().unwrap();
        Ue { sock, local, name, core, seq: 0 }
    }

    /// REGISTERs (with `+g.3gpp.smsip` when `sms`) and waits for the 200.
    fn register(&mut self, sms: bool) {
        let feature = if sms { ";+g.3gpp.smsip" } else { "" };
        self.seq += 1;
        let (n, l, s) = (self.name, self.local, self.seq);
        let reg = format!(
            "REGISTER sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKr{n}{s}\r\nMax-Forwards: 70\r\nFrom: <sip:{n}@{DOMAIN}>;tag=r{n}\r\n\
             To: <sip:{n}@{DOMAIN}>\r\nCall-ID: reg-{n}-{l}\r\nCSeq: {s} REGISTER\r\nContact: <sip:{n}@{l}>{feature}\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"
        );
        self.sock.send_to(reg.as_bytes(), self.core).unwrap();
        self.expect(|m| m.head.starts_with("SIP/2.0 200") && m.head.contains("REGISTER"), "200 to REGISTER");
    }

    /// Sends a MESSAGE to `ruri`; returns its Call-ID.
    fn message(&mut self, ruri: &str, ctype: &str, body: &[u8]) -> String {
        self.seq += 1;
        let (n, l, s) = (self.name, self.local, self.seq);
        let call_id = format!("msg-{n}-{s}-{l}");
        let head = format!(
            "MESSAGE {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKm{n}{s}\r\nMax-Forwards: 70\r\nFrom: <sip:{n}@{DOMAIN}>;tag=m{n}{s}\r\n\
             To: <{ruri}>\r\nCall-ID: {call_id}\r\nCSeq: {s} MESSAGE\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut raw = head.into_bytes();
        raw.extend_from_slice(body);
        self.sock.send_to(&raw, self.core).unwrap();
        call_id
    }

    /// Sends an RP message to the SMSC.
    fn send_rp(&mut self, rp: &RpMessage) -> String {
        let mut buf = vec![0u8; rp.buffer_len()];
        let n = rp.emit(&mut buf).unwrap();
        self.message("sip:+33699999999@ims.mnc001.mcc001.3gppnetwork.org", "application/vnd.3gpp.sms", &buf[..n])
    }

    /// The next message matching `want`, answering every MESSAGE request with 200 on the way.
    fn expect(&mut self, want: impl Fn(&Sip) -> bool, what: &str) -> Sip {
        self.try_expect(want, Duration::from_secs(10)).unwrap_or_else(|| panic!("{}: no {what}", self.name))
    }

    fn try_expect(&mut self, want: impl Fn(&Sip) -> bool, wait: Duration) -> Option<Sip> {
        let deadline = Instant::now() + wait;
        let mut buf = vec![0u8; 65536];
        while Instant::now() < deadline {
            let Ok((n, _)) = self.sock.recv_from(&mut buf) else { continue };
            let m = Sip::parse(&buf[..n]);
            if m.is_request("MESSAGE") {
                self.sock.send_to(respond(&m.head, "200 OK", Some("ue"), "", "").as_bytes(), self.core).unwrap();
            }
            if want(&m) {
                return Some(m);
            }
        }
        None
    }

    /// The next MESSAGE with an RP body, decoded.
    fn expect_rp(&mut self, what: &str) -> RpMessage {
        let m = self.expect(|m| m.is_request("MESSAGE") && m.header("Content-Type") == Some("application/vnd.3gpp.sms"), what);
        RpMessage::parse(&m.body).unwrap_or_else(|e| panic!("{what}: undecodable RP {e}: {:02x?}", m.body))
    }

    /// Receives an MT RP-DATA, acknowledges it with RP-ACK, returns its TPDU.
    fn receive_sms(&mut self) -> Tpdu {
        let RpMessage::Data(d) = self.expect_rp("MT RP-DATA") else { panic!("{}: expected RP-DATA", self.name) };
        assert_eq!(d.direction, RpDirection::NetworkToMs);
        self.send_rp(&RpMessage::Ack(RpAck { direction: RpDirection::MsToNetwork, reference: d.reference, user_data: None }));
        self.expect(|m| m.head.starts_with("SIP/2.0 202"), "202 to the RP-ACK");
        d.tpdu().expect("decodable MT TPDU")
    }
}

fn submit(mr: u8, to: &str, dcs: Dcs, user_data: UserData, srr: bool, validity: Option<ValidityPeriod>) -> RpMessage {
    let s = Submit {
        reject_duplicates: false,
        status_report_request: srr,
        reply_path: false,
        message_reference: mr,
        destination: TpAddress::international(to).unwrap(),
        pid: 0,
        dcs,
        validity,
        user_data,
    };
    RpMessage::Data(RpData::mo(mr, RpAddress::international("+33699999999").unwrap(), &Tpdu::Submit(s)).unwrap())
}

fn text_submit(mr: u8, to: &str, text: &str, srr: bool) -> RpMessage {
    let (ud, alphabet) = UserData::from_text(text, None).unwrap();
    submit(mr, to, Dcs::general(alphabet, None), ud, srr, None)
}

/// Sends an SMS and checks the 202 and the SMSC's RP-ACK with the same reference.
fn send_acked(ue: &mut Ue, rp: &RpMessage) {
    ue.send_rp(rp);
    ue.expect(|m| m.head.starts_with("SIP/2.0 202"), "202 Accepted");
    match ue.expect_rp("RP-ACK from the SMSC") {
        RpMessage::Ack(a) => assert_eq!((a.reference, a.direction), (rp.reference(), RpDirection::NetworkToMs)),
        other => panic!("expected RP-ACK, got {other:?}"),
    }
}

fn deliver_text(t: &Tpdu) -> (String, String) {
    let Tpdu::Deliver(d) = t else { panic!("expected SMS-DELIVER, got {t:?}") };
    (ringcore::smsc::address_text(&d.originator), d.user_data.text(d.dcs).unwrap_or_default())
}

#[test]
fn mo_to_mt_between_two_registered_ues_with_rp_acks_and_a_status_report() {
    let core = Core::start("sms-mo-mt", &users());
    let (mut a, mut b) = (Ue::new("alice", core.sip), Ue::new("bob", core.sip));
    a.register(true);
    b.register(true);
    send_acked(&mut a, &text_submit(7, B_NUM, "hello bob", true));
    let t = b.receive_sms();
    assert_eq!(deliver_text(&t), (A_NUM.to_string(), "hello bob".to_string()));
    let Tpdu::Deliver(d) = t else { unreachable!() };
    assert!(d.status_report_indication);
    // TP-SRR: the originator learns of the delivery (TS 23.040 9.2.2.3).
    let Tpdu::StatusReport(sr) = a.receive_sms() else { panic!("expected SMS-STATUS-REPORT") };
    assert_eq!((sr.message_reference, sr.status), (7, 0));
    assert_eq!(ringcore::smsc::address_text(&sr.recipient), B_NUM);
    // Bad input: a reserved RP message type gets RP-ERROR #97.
    a.message("sip:+33699999999@ims.mnc001.mcc001.3gppnetwork.org", "application/vnd.3gpp.sms", &[0x07, 0x21]);
    match a.expect_rp("RP-ERROR") {
        RpMessage::Error(e) => assert_eq!((e.reference, e.cause.to_u8()), (0x21, 97)),
        other => panic!("expected RP-ERROR, got {other:?}"),
    }
    // An unknown destination: RP-ERROR #1.
    a.send_rp(&text_submit(8, "+1999", "nobody", false));
    match a.expect_rp("RP-ERROR") {
        RpMessage::Error(e) => assert_eq!((e.reference, e.cause.to_u8()), (8, 1)),
        other => panic!("expected RP-ERROR, got {other:?}"),
    }
}

#[test]
fn offline_recipient_gets_the_sms_when_it_registers_and_validity_expires() {
    let core = Core::start("sms-offline", &users());
    let (mut a, mut b) = (Ue::new("alice", core.sip), Ue::new("bob", core.sip));
    a.register(true);
    send_acked(&mut a, &text_submit(1, B_NUM, "while you were out", false));
    // Valid for 2 s only (enhanced TP-VP in seconds, TS 23.040 9.2.3.12.3), with TP-SRR.
    let (ud, _) = UserData::from_text("short lived", None).unwrap();
    let vp = ValidityPeriod::Enhanced(EnhancedVp::Seconds { single_shot: false, value: 2 });
    send_acked(&mut a, &submit(2, C_NUM, Dcs::GSM7, ud, true, Some(vp)));
    let Tpdu::StatusReport(sr) = a.receive_sms() else { panic!("expected the expiry report") };
    assert_eq!((sr.message_reference, sr.status), (2, 0x46), "TP-ST: validity period expired");
    std::thread::sleep(Duration::from_millis(500));
    b.register(true);
    assert_eq!(deliver_text(&b.receive_sms()).1, "while you were out");
}

#[test]
fn pending_sms_survives_a_restart() {
    let state = std::env::temp_dir().join(format!("ringcore-sms-state-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&state);
    let cfg = format!("ue_db_filename: \"{}\",\n{}", state.display(), users());
    {
        let core = Core::start("sms-restart1", &cfg);
        let mut a = Ue::new("alice", core.sip);
        a.register(true);
        send_acked(&mut a, &text_submit(3, B_NUM, "after the restart", false));
        std::thread::sleep(Duration::from_millis(1500)); // the state file is written within 1 s
    } // SIGKILL
    let saved = std::fs::read_to_string(&state).expect("state file");
    assert!(saved.contains("\"sms\":[{"), "pending SMS not saved: {saved}");
    let core = Core::start("sms-restart2", &cfg);
    let mut b = Ue::new("bob", core.sip);
    b.register(true);
    assert_eq!(deliver_text(&b.receive_sms()), (A_NUM.to_string(), "after the restart".to_string()));
    let _ = std::fs::remove_file(&state);
}

#[test]
fn plain_text_clients_interwork_both_ways() {
    let core = Core::start("sms-text", &users());
    let (mut a, mut c) = (Ue::new("alice", core.sip), Ue::new("carol", core.sip));
    a.register(true);
    c.register(false);
    // SMS to a client without +g.3gpp.smsip: text/plain, reassembled from 3 parts.
    let long: String = (0..400).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let seg = ringcore::sms::segment_text(&long, 0x42).unwrap();
    assert_eq!(seg.parts.len(), 3);
    for (i, part) in seg.parts.iter().enumerate() {
        send_acked(&mut a, &submit(10 + i as u8, C_NUM, Dcs::GSM7, *part, false, None));
    }
    let m = c.expect(|m| m.is_request("MESSAGE"), "text/plain MESSAGE");
    assert!(m.header("Content-Type").is_some_and(|t| t.starts_with("text/plain")), "{}", m.head);
    assert!(m.header("From").is_some_and(|f| f.contains(A_NUM)), "{}", m.head);
    assert_eq!(String::from_utf8_lossy(&m.body), long);
    // Text from the plain client: segmented into concatenated SMS for the 3GPP UE.
    let reply: String = "é".repeat(10) + &"z".repeat(190);
    c.message(&format!("tel:{A_NUM}"), "text/plain", reply.as_bytes());
    c.expect(|m| m.head.starts_with("SIP/2.0 202"), "202 to the text");
    let mut got = String::new();
    for _ in 0..2 {
        let t = a.receive_sms();
        let Tpdu::Deliver(d) = t else { panic!() };
        assert!(d.user_data.header().and_then(|h| h.concat()).is_some(), "a concatenated part");
        assert_eq!(ringcore::smsc::address_text(&d.originator), C_NUM);
        got.push_str(&d.user_data.text(d.dcs).unwrap());
    }
    assert_eq!(got, reply);
}

fn tshark_fields(pcap: &std::path::Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut args = vec!["-r".to_string(), pcap.display().to_string(), "-Y".into(), filter.into(), "-T".into(), "fields".into(), "-E".into(), "separator=/t".into()];
    for f in fields {
        args.push("-e".into());
        args.push((*f).into());
    }
    let out = Command::new("tshark").args(&args).output().expect("tshark -r");
    String::from_utf8_lossy(&out.stdout).lines().map(|l| l.split('\t').map(str::to_owned).collect()).collect()
}

/// tshark's gsm_sms dissector, an independent decoder, reads the same originator,
/// destination, DCS and text from the capture as the test put in.
#[test]
fn tshark_decodes_the_sms_traffic_as_sent() {
    let core = Core::start("sms-tshark", &users());
    let pcap = core.dir.join("sms.pcap");
    let mut cap = Command::new("tshark")
        .args(["-i", "lo", "-f", &format!("udp port {}", core.sip.port()), "-w", pcap.to_str().unwrap(), "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tshark (apt-get install tshark)");
    std::thread::sleep(Duration::from_secs(2));
    let (mut a, mut b) = (Ue::new("alice", core.sip), Ue::new("bob", core.sip));
    a.register(true);
    b.register(true);
    let gsm7 = "Price 5€ {a} [b] ~^|\\";
    let ucs2 = "Grüße 😀 ok";
    send_acked(&mut a, &text_submit(1, B_NUM, gsm7, false));
    send_acked(&mut a, &text_submit(2, B_NUM, ucs2, false));
    let (flash_ud, _) = UserData::from_text("FLASH", None).unwrap();
    send_acked(&mut a, &submit(3, B_NUM, Dcs::flash(), flash_ud, false, None));
    let long: String = (0..350).map(|i| char::from(b'A' + (i % 26) as u8)).collect();
    let seg = ringcore::sms::segment_text(&long, 0x99).unwrap();
    for (i, part) in seg.parts.iter().enumerate() {
        send_acked(&mut a, &submit(4 + i as u8, B_NUM, Dcs::GSM7, *part, false, None));
    }
    let mut texts = Vec::new();
    for _ in 0..6 {
        texts.push(deliver_text(&b.receive_sms()).1);
    }
    assert_eq!(texts[..3], [gsm7.to_string(), ucs2.to_string(), "FLASH".to_string()]);
    std::thread::sleep(Duration::from_millis(500));
    let _ = Command::new("kill").args(["-INT", &cap.id().to_string()]).status();
    let _ = cap.wait();

    // TP-MTI 1 = SMS-SUBMIT (MO), TP-MTI 0 = SMS-DELIVER (MT).
    let fields = ["gsm_sms.tp-mti", "gsm_sms.tp-da", "gsm_sms.tp-oa", "gsm_sms.tp-dcs", "gsm_sms.sms_text"];
    let rows = tshark_fields(&pcap, "gsm_sms", &fields);
    let submits: Vec<_> = rows.iter().filter(|r| r[0] == "1").collect();
    let delivers: Vec<_> = rows.iter().filter(|r| r[0] == "0" && !r[2].is_empty()).collect();
    assert_eq!((submits.len(), delivers.len()), (6, 6), "tshark rows: {rows:?}");
    let expect_dcs = ["0", "8", "16", "0", "0", "0"];
    for (i, (s, d)) in submits.iter().zip(&delivers).enumerate() {
        assert_eq!(s[1], B_NUM.trim_start_matches('+'), "TP-DA of submit {i}");
        assert_eq!(d[2], A_NUM.trim_start_matches('+'), "TP-OA of deliver {i}");
        assert_eq!((s[3].as_str(), d[3].as_str()), (expect_dcs[i], expect_dcs[i]), "TP-DCS of message {i}");
        assert_eq!(s[4], d[4], "the same text in and out ({i})");
    }
    assert_eq!(delivers[0][4], gsm7);
    assert_eq!(delivers[1][4], ucs2);
    assert_eq!(delivers[2][4], "FLASH");
    // tshark reassembles the parts: the last one shows every part's text (comma-separated).
    assert_eq!(delivers[3][4].len(), 153, "part 1 is 153 septets");
    assert_eq!(delivers[5][4].replace(',', ""), long, "the 3 parts reassemble into the long text");
    let class = tshark_fields(&pcap, "gsm_sms.tp-mti == 0 && gsm_sms.dcs.message_class_defined == 1", &["gsm_sms.dcs.message_class"]);
    assert_eq!(class.len(), 1, "one Flash SMS delivered: {class:?}");
    assert_eq!(class[0][0], "0x00", "message class 0");
    let udh = tshark_fields(&pcap, "gsm_sms.tp-mti == 0 && gsm_sms.udh.mm.msg_parts", &["gsm_sms.udh.mm.msg_id", "gsm_sms.udh.mm.msg_parts", "gsm_sms.udh.mm.msg_part"]);
    let parts: Vec<_> = udh.iter().map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str())).collect();
    assert_eq!(parts, [("153", "3", "1"), ("153", "3", "2"), ("153", "3", "3")]);
}

/// The monitor's `sms impi|impu text` goes through the same path as the remote API's `sms`.
#[test]
fn monitor_sms_command_sends_to_a_registered_ue() {
    let dir = common::scratch_dir("sms-monitor");
    let sip: SocketAddr = format!("127.0.0.1:{}", common::free_port()).parse().unwrap();
    let cfg = dir.join("ims.cfg");
    let body = format!(
        "{{ sip_addr: \"{sip}\", domain: \"{DOMAIN}\", log_filename: \"{}\", engine: {{ backend: \"{}\", workers: 1 }},\n{} }}\n",
        dir.join("ims.log").display(),
        common::backend(),
        users()
    );
    std::fs::write(&cfg, body).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ringcore"))
        .arg(&cfg)
        .arg("--monitor")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ringcore");
    let deadline = Instant::now() + Duration::from_secs(20);
    while common::options_ping(sip, Duration::from_millis(200)).is_none() {
        assert!(Instant::now() < deadline, "ringcore did not start");
    }
    let mut b = Ue::new("bob", sip);
    b.register(true);
    let stdin = child.stdin.as_mut().unwrap();
    std::io::Write::write_all(stdin, format!("sms bob@{DOMAIN} hello from the monitor\n").as_bytes()).unwrap();
    let got = deliver_text(&b.receive_sms());
    std::io::Write::write_all(stdin, format!("sms tel:{B_NUM} second\n").as_bytes()).unwrap();
    let second = deliver_text(&b.receive_sms());
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(got, ("ringcore".to_string(), "hello from the monitor".to_string()));
    assert_eq!(second.1, "second");
}

/// Reads one HTTP request (head and Content-Length body) from `s`.
fn read_http(s: &mut std::net::TcpStream) -> (String, String) {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(h) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4) {
            let head = String::from_utf8_lossy(&buf[..h]).into_owned();
            let len: usize = head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())).unwrap_or(0);
            if buf.len() >= h + len {
                return (head, String::from_utf8_lossy(&buf[h..h + len]).into_owned());
            }
        }
        let n = s.read(&mut chunk).expect("read HTTP");
        assert!(n > 0, "connection closed early");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// HTTP interworking: `POST /sms` submits to a served user; SMS to a number the core does not
/// serve go to the webhook, retried after sms_retry_delay until it answers 2xx.
#[test]
fn http_submission_and_webhook_with_retry() {
    use std::io::Write;
    let http_port = common::free_port();
    let hook = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook_addr = hook.local_addr().unwrap();
    let cfg = format!("sms_http_bind_addr: \"127.0.0.1:{http_port}\", sms_http_webhook: \"http://{hook_addr}/hook\", sms_retry_delay: 1,\n{}", users());
    let core = Core::start("sms-http", &cfg);
    let (mut a, mut b) = (Ue::new("alice", core.sip), Ue::new("bob", core.sip));
    a.register(true);
    b.register(true);
    // Inbound: JSON POST /sms to bob's number.
    let body = format!(r#"{{"from":"+4940123","to":"{B_NUM}","text":"via HTTP"}}"#);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", http_port)).expect("the HTTP endpoint listens");
    write!(s, "POST /sms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut s, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    assert_eq!(deliver_text(&b.receive_sms()), ("+4940123".to_string(), "via HTTP".to_string()));
    // Unknown recipient over HTTP: 404.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", http_port)).unwrap();
    let body = r#"{"from":"x","to":"+1999","text":"t"}"#;
    write!(s, "POST /sms HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut s, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");

    // Outbound: alice texts a number nobody serves, with TP-SRR.
    send_acked(&mut a, &text_submit(9, "+4940999", "to the outside", true));
    hook.set_nonblocking(false).unwrap();
    let (mut first, _) = hook.accept().expect("the webhook is called");
    let (head, body) = read_http(&mut first);
    assert!(head.starts_with("POST /hook HTTP/1.1"), "{head}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((v["from"].as_str(), v["to"].as_str(), v["text"].as_str()), (Some(A_NUM), Some("+4940999"), Some("to the outside")));
    first.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n").unwrap();
    drop(first);
    let t0 = Instant::now();
    let (mut second, _) = hook.accept().expect("the webhook is retried");
    assert!(t0.elapsed() >= Duration::from_millis(700), "retried after sms_retry_delay");
    let (_, body2) = read_http(&mut second);
    assert_eq!(body2, body);
    second.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap();
    drop(second);
    let Tpdu::StatusReport(sr) = a.receive_sms() else { panic!("expected the delivery report") };
    assert_eq!((sr.message_reference, sr.status), (9, 0));
}
