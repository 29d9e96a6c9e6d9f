//! The UE's sec-agree and ESP layer against a P-CSCF built from the core's own pieces
//! (`negotiate`, `Agreement::sa_specs`, `Sa`, `parse_inner`): the Security-Client offer,
//! the SA set made from the 401, the protected REGISTER with Security-Verify, responses
//! and requests on the right ports, tampering and replay, de-registration, and the INVITE
//! handed to TCP inside the SA.

use super::*;
use crate::auth::SimAlgo;
use crate::ipsec::{negotiate, verify_security_verify, LocalSecParams, SecAgreePolicy};
use base64::Engine as _;

const K: [u8; 16] = [0x11; 16];
const RAND: [u8; 16] = [0x5a; 16];

fn at(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn target() -> SocketAddr {
    at("127.0.0.1:5060")
}

fn sim() -> Sim {
    Sim::new(&K, &SimAlgo::Xor { res_len: 8 }).unwrap()
}

fn ue(choice: &str) -> UeIpsec {
    UeIpsec::new(IpsecChoice::parse(choice).unwrap(), target(), "127.1.0.1".parse().unwrap(), 40000, 40001, Some(sim()), 7)
}

fn register(cseq: u32, expires: u32) -> Vec<u8> {
    format!(
        "REGISTER sip:ims.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.1.0.1:40001;branch=z9hG4bK{cseq};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:001@ims.test>;tag=a\r\nTo: <sip:001@ims.test>\r\nCall-ID: reg1\r\n\
         CSeq: {cseq} REGISTER\r\nContact: <sip:001@127.1.0.1:40001>\r\nExpires: {expires}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn response(code: u16, cseq: u32, extra: &str) -> Vec<u8> {
    format!(
        "SIP/2.0 {code} X\r\nVia: SIP/2.0/UDP 127.1.0.1:40001;branch=z9hG4bK{cseq}\r\nFrom: <sip:001@ims.test>;tag=a\r\n\
         To: <sip:001@ims.test>;tag=b\r\nCall-ID: reg1\r\nCSeq: {cseq} REGISTER\r\n{extra}Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The P-CSCF's half, from the core's code.
struct Pcscf {
    server: IpsecMechanism,
    rand: [u8; 16],
    /// in (port-s), out (to UE port-c), in (port-c), out (to UE port-s).
    sas: [Sa; 4],
}

impl Pcscf {
    /// Negotiates with the Security-Client of `reg`, our SPIs from `spi`, and keys the SAs
    /// from `rand`.
    fn from_register(reg: &[u8], spi: u32, rand: [u8; 16]) -> Pcscf {
        let msg = Message::parse(reg).unwrap();
        let offered: Vec<IpsecMechanism> = msg.security_client().map(|m| RawMechanism::from(&m.unwrap()).resolve()).collect();
        let policy = SecAgreePolicy::from_lists(&["hmac-sha-1-96", "hmac-md5-96"], &["aes-cbc", "null", "des-ede3-cbc"]).with_modes(false, true);
        let local = LocalSecParams { spi_c: spi, spi_s: spi + 1, port_c: 6100, port_s: 6101 };
        let a = negotiate(&policy, &offered, local).unwrap();
        let keys = sim().f2345(&rand);
        let specs = a.sa_specs(keys.ik.as_slice().try_into().unwrap(), keys.ck.as_slice().try_into().unwrap());
        Pcscf { server: a.server, rand, sas: specs.map(|s| Sa::new(&s.params(64)).unwrap()) }
    }

    fn challenge(&self, cseq: u32) -> Vec<u8> {
        let mut raw = self.rand.to_vec();
        raw.extend_from_slice(&[0x33; 16]);
        let nonce = base64::engine::general_purpose::STANDARD.encode(raw);
        let extra = format!("WWW-Authenticate: Digest realm=\"ims.test\",nonce=\"{nonce}\",algorithm=AKAv1-MD5\r\nSecurity-Server: {}\r\n", self.server);
        response(401, cseq, &extra)
    }

    /// Decapsulates with inbound SA `i`: the inner datagram's ports and payload.
    fn open(&mut self, i: usize, esp: &[u8]) -> Result<(u16, u16, Vec<u8>), EspError> {
        let mut pkt = esp.to_vec();
        let inner = self.sas[i].decap(&mut pkt)?;
        let u = parse_inner(inner.next_header, &pkt[inner.payload.clone()], "127.1.0.1".parse().unwrap(), target().ip()).unwrap();
        Ok((u.src.port(), u.dst.port(), pkt[inner.payload][u.data].to_vec()))
    }

    /// Encapsulates `sip` with outbound SA `i` from our port to the UE's.
    fn seal(&mut self, i: usize, from: u16, to: u16, sip: &[u8]) -> Vec<u8> {
        let mut inner = [0u8; 2048];
        let (n, nh) = emit_inner(true, SocketAddr::new(target().ip(), from), at(&format!("127.1.0.1:{to}")), sip, &mut inner).unwrap();
        let mut out = [0u8; 2048];
        let len = self.sas[i].encap(&inner[..n], nh, &mut |iv: &mut [u8]| iv.fill(3), &mut out).unwrap();
        out[..len].to_vec()
    }
}

use crate::ipsec::EspError;

fn send(u: &mut UeIpsec, sip: &[u8], dst: SocketAddr) -> (Datagram, Vec<u8>) {
    let mut out = [0u8; MAX_ESP];
    match u.send(Instant::now(), sip, dst, &mut out) {
        Sent::Datagram(d) => (d, out[..d.len].to_vec()),
        other => panic!("{other:?}"),
    }
}

fn recv(u: &mut UeIpsec, port: Port, src: SocketAddr, data: &[u8]) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    u.receive(Instant::now(), port, src, data, &mut |d| got.push(d.to_vec()));
    got
}

/// Registers `u` through `core`; returns the P-CSCF state.
fn registered(u: &mut UeIpsec) -> Pcscf {
    let (d, plain) = send(u, &register(1, 600), target());
    assert_eq!((d.port, d.dst), (Port::Server, target()), "the first REGISTER is unprotected");
    let mut core = Pcscf::from_register(&plain, 0x50_0000, RAND);
    assert_eq!(recv(u, Port::Server, target(), &core.challenge(1)).len(), 1);
    let (d, esp) = send(u, &register(2, 600), target());
    // The same 401 again (retransmitted) changes nothing: a rebuilt set would restart at
    // sequence number 1, which the P-CSCF's window drops as a replay (see the BYE below).
    assert_eq!(recv(u, Port::Server, target(), &core.challenge(1)).len(), 1);
    assert_eq!(u.stats().sets, 1);
    assert_eq!((d.port, d.dst), (Port::Client, at("127.0.0.1:6101")), "port-c to the P-CSCF's port-s");
    let (sport, dport, sip) = core.open(0, &esp).unwrap();
    assert_eq!((sport, dport), (40000, 6101));
    let msg = Message::parse(&sip).unwrap();
    let verify: Vec<IpsecMechanism> = msg.security_verify().map(|m| RawMechanism::from(&m.unwrap()).resolve()).collect();
    assert_eq!(verify_security_verify(&[core.server], &verify), Ok(()), "{}", String::from_utf8_lossy(&sip));
    let ok = core.seal(1, 6101, 40000, &response(200, 2, ""));
    assert_eq!(recv(u, Port::Client, at("127.0.0.1:6101"), &ok), [response(200, 2, "")]);
    assert!(u.is_protected());
    // ... and so does a late copy once the set is in use.
    assert_eq!(recv(u, Port::Server, target(), &core.challenge(1)).len(), 1);
    assert_eq!(u.stats().sets, 1);
    core
}

#[test]
fn choice_parses_ealg_slash_alg() {
    let c = IpsecChoice::parse("aes-cbc/hmac-sha-1-96").unwrap();
    assert_eq!((c.ealg, c.aalg), (EncrAlg::AesCbc, Aalg::Hmac(crate::auth::ipsec_keys::IntegAlg::HmacSha1_96)));
    assert_eq!(IpsecChoice::parse("des-ede3-cbc/hmac-md5-96").unwrap().ealg, EncrAlg::DesEde3Cbc);
    for bad in ["aes-cbc", "aes-gcm/hmac-md5-96", "null/null", "null/hmac-sha-256"] {
        assert!(IpsecChoice::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn first_register_offers_one_udp_encapsulated_mechanism() {
    let mut u = ue("null/hmac-md5-96");
    let (_, plain) = send(&mut u, &register(1, 600), target());
    let text = String::from_utf8(plain).unwrap();
    assert!(text.starts_with("REGISTER sip:ims.test SIP/2.0\r\nSecurity-Client: ipsec-3gpp;alg=hmac-md5-96;ealg=null;spi-c=4096;spi-s=4097;port-c=40000;port-s=40001;prot=esp;mod=UDP-enc-tun\r\n"), "{text}");
    assert!(text.contains("\r\nRequire: sec-agree\r\nProxy-Require: sec-agree\r\n") && !text.contains("Security-Verify"), "{text}");
    assert!(Message::parse(text.as_bytes()).is_ok());
}

#[test]
fn registers_over_the_sa_set_derived_like_the_core() {
    for choice in ["aes-cbc/hmac-sha-1-96", "null/hmac-md5-96", "des-ede3-cbc/hmac-sha-1-96"] {
        let mut u = ue(choice);
        let mut core = registered(&mut u);
        // An MT request on the UE's port-s; the answer leaves port-s for the P-CSCF's port-c.
        let req = b"OPTIONS sip:001@127.1.0.1:40001 SIP/2.0\r\nContent-Length: 0\r\n\r\n";
        let esp = core.seal(3, 6100, 40001, req);
        assert_eq!(recv(&mut u, Port::Server, at("127.0.0.1:6100"), &esp), [req.to_vec()], "{choice}");
        let (d, esp) = send(&mut u, b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", target());
        assert_eq!((d.port, d.dst), (Port::Server, at("127.0.0.1:6100")));
        assert_eq!(core.open(2, &esp).unwrap().2, b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        // Any other request goes port-c to port-s.
        let (d, esp) = send(&mut u, b"BYE sip:x SIP/2.0\r\n\r\n", target());
        assert_eq!(d.port, Port::Client);
        assert_eq!(core.open(0, &esp).unwrap().2, b"BYE sip:x SIP/2.0\r\n\r\n");
        // RTP stays plain.
        let (d, rtp) = send(&mut u, &[0x80, 0, 0, 1], at("127.0.0.1:10000"));
        assert_eq!((d.port, rtp), (Port::Server, vec![0x80, 0, 0, 1]));
    }
}

#[test]
fn tampered_replayed_and_foreign_packets_are_dropped() {
    let mut u = ue("aes-cbc/hmac-sha-1-96");
    let mut core = registered(&mut u);
    let from = at("127.0.0.1:6101");
    let esp = core.seal(1, 6101, 40000, b"SIP/2.0 100 Trying\r\n\r\n");
    let mut flipped = esp.clone();
    flipped[30] ^= 1;
    assert!(recv(&mut u, Port::Client, from, &flipped).is_empty(), "bad ICV");
    assert_eq!(recv(&mut u, Port::Client, from, &esp).len(), 1);
    assert!(recv(&mut u, Port::Client, from, &esp).is_empty(), "replay");
    // The right SA on the wrong port (port-s) is no SA at all.
    let esp = core.seal(1, 6101, 40000, b"SIP/2.0 100 Trying\r\n\r\n");
    assert!(recv(&mut u, Port::Server, at("127.0.0.1:6100"), &esp).is_empty());
    assert!(recv(&mut u, Port::Client, from, &esp[..10]).is_empty(), "truncated");
    assert_eq!(u.stats().bad_in, 4);
}

#[test]
fn reregistration_moves_to_a_new_set_and_deregistration_drops_them() {
    let mut u = ue("aes-cbc/hmac-sha-1-96");
    let mut old = registered(&mut u);
    // Refresh over the set in use, offering new SPIs.
    let (d, esp) = send(&mut u, &register(3, 600), target());
    assert_eq!(d.port, Port::Client);
    let refresh = old.open(0, &esp).unwrap().2;
    let text = String::from_utf8_lossy(&refresh).into_owned();
    assert!(text.contains("spi-c=4098;spi-s=4099") && text.contains("Security-Verify: ipsec-3gpp"), "{text}");
    // The P-CSCF challenges over the old set; the UE answers over the new one.
    let mut new = Pcscf::from_register(&refresh, 0x60_0000, [0x77; 16]);
    let ch = old.seal(1, 6101, 40000, &new.challenge(3));
    assert_eq!(recv(&mut u, Port::Client, at("127.0.0.1:6101"), &ch).len(), 1);
    let (_, esp) = send(&mut u, &register(4, 0), target());
    assert!(old.open(0, &esp).is_err(), "not over the old set");
    let sip = new.open(0, &esp).unwrap().2;
    assert!(String::from_utf8_lossy(&sip).contains("spi-c=4098"), "the new set's client entry is repeated");
    // The 200 to the de-registration (over the old set, which the P-CSCF still holds).
    let ok = old.seal(1, 6101, 40000, &response(200, 4, ""));
    assert_eq!(recv(&mut u, Port::Client, at("127.0.0.1:6101"), &ok).len(), 1);
    assert!(!u.is_protected(), "de-registered: no SA left");
    let (d, _) = send(&mut u, &register(5, 600), target());
    assert_eq!(d.port, Port::Server, "a new registration starts unprotected");
}

#[test]
fn invites_go_to_tcp_inside_the_sa() {
    let now = Instant::now();
    let tcp = TcpClient::new("127.1.0.1".parse().unwrap(), 40000, 9, now).unwrap();
    let mut u = ue("aes-cbc/hmac-sha-1-96").with_tcp(tcp);
    let mut core = registered(&mut u);
    let invite = b"INVITE sip:echo@ims.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.1.0.1:40001;branch=z9hG4bK9\r\nContent-Length: 0\r\n\r\n";
    let mut out = [0u8; MAX_ESP];
    assert_eq!(u.send(now, invite, target(), &mut out), Sent::Stream);
    // A retransmission by the UE's Timer A is absorbed.
    assert_eq!(u.send(now, invite, target(), &mut out), Sent::Stream);
    assert_eq!(u.stats().tcp_messages, 1);
    let d = u.poll_transmit(now, &mut out).expect("a SYN");
    assert_eq!((d.port, d.dst), (Port::Client, at("127.0.0.1:6101")));
    let mut pkt = out[..d.len].to_vec();
    let inner = core.sas[0].decap(&mut pkt).unwrap();
    assert_eq!(inner.next_header, NH_IPV4);
    let ip = &pkt[inner.payload];
    assert_eq!(ip[9], 6, "TCP");
    let tcp = &ip[20..];
    assert_eq!((u16::from_be_bytes([tcp[0], tcp[1]]), u16::from_be_bytes([tcp[2], tcp[3]])), (40000, 6101));
    assert_eq!(tcp[13] & 0x02, 0x02, "SYN");
    assert!(u.poll_timeout().is_some(), "the SYN is retransmitted if unanswered");
}
