//! Transaction layer tests on a virtual clock with real SIP text (RFC 3261 17, RFC 6026).

use std::time::{Duration, Instant};

use super::testmsg::TestMsg;
use super::*;

pub(super) type Peer = u8;
pub(super) const PEER: Peer = 7;

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(super) fn layer(capacity: usize) -> TransactionLayer<Peer> {
    TransactionLayer::new(Config::with_capacity(capacity))
}

pub(super) const VIA_A: &str = "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds";

/// An RFC 3261 style request (Route set, From tag, no To tag).
pub(super) fn request(
    method: &str,
    via: &str,
    call_id: &str,
    to_tag: &str,
    cseq_method: &str,
) -> String {
    format!(
        "{method} sip:bob@biloxi.com SIP/2.0\r\n{via}\r\nMax-Forwards: 70\r\n\
         Route: <sip:p1.example.com;lr>\r\nRoute: <sip:p2.example.com;lr>\r\n\
         To: Bob <sip:bob@biloxi.com>{to_tag}\r\nFrom: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n\
         Call-ID: {call_id}\r\nCSeq: 314159 {cseq_method}\r\nContact: <sip:alice@pc33.atlanta.com>\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

pub(super) fn invite() -> String {
    request(
        "INVITE",
        VIA_A,
        "a84b4c76e66710@pc33.atlanta.com",
        "",
        "INVITE",
    )
}

pub(super) fn req(method: &str) -> String {
    request(method, VIA_A, "a84b4c76e66710@pc33.atlanta.com", "", method)
}

pub(super) fn response(status: u16, via: &str, to_tag: &str, cseq_method: &str) -> String {
    format!(
        "SIP/2.0 {status} Reason\r\n{via}\r\nTo: Bob <sip:bob@biloxi.com>{to_tag}\r\n\
         From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710@pc33.atlanta.com\r\n\
         CSeq: 314159 {cseq_method}\r\nContent-Length: 0\r\n\r\n"
    )
}

/// Drives the layer like a worker: fire timers until `end`, recording each transmit and
/// event with its time since `base`.
pub(super) struct Driver {
    pub(super) l: TransactionLayer<Peer>,
    pub(super) base: Instant,
    now: Instant,
    pub(super) sent: Vec<(Duration, Vec<u8>)>,
    pub(super) events: Vec<(Duration, String, Option<Vec<u8>>)>,
    /// The transaction of each event in `events`.
    pub(super) event_ids: Vec<TxId>,
}

impl Driver {
    pub(super) fn new(capacity: usize) -> Driver {
        let base = Instant::now();
        Driver {
            l: layer(capacity),
            base,
            now: base,
            sent: vec![],
            events: vec![],
            event_ids: vec![],
        }
    }

    pub(super) fn at(&mut self, t: Duration) -> Instant {
        self.now = self.base + t;
        self.now
    }

    pub(super) fn drain(&mut self) {
        let t = self.now - self.base;
        while let Some(x) = self.l.poll_transmit() {
            assert_eq!(x.peer, PEER);
            self.sent.push((t, x.bytes.to_vec()));
        }
        while let Some(e) = self.l.poll_event() {
            let (id, name, bytes) = match e {
                Event::Timeout {
                    id,
                    timer,
                    response,
                } => (
                    id,
                    format!("Timeout({timer:?})"),
                    response.map(|b| b.to_vec()),
                ),
                Event::TransportError(id) => (id, "TransportError".into(), None),
                Event::Terminated(id) => (id, "Terminated".into(), None),
            };
            self.events.push((t, name, bytes));
            self.event_ids.push(id);
        }
    }

    pub(super) fn run_until(&mut self, end: Duration) {
        self.drain();
        while let Some(t) = self.l.poll_timeout() {
            if t > self.base + end {
                break;
            }
            self.now = t;
            self.l.handle_timeout(t);
            self.drain();
        }
        self.now = self.base + end;
    }

    pub(super) fn send(&mut self, t: Duration, raw: &str, reliable: bool) -> Result<TxId, Error> {
        let now = self.at(t);
        let r = self.l.send_request(
            now,
            &TestMsg::parse(raw.as_bytes()),
            raw.as_bytes(),
            PEER,
            reliable,
        );
        self.drain();
        r
    }

    pub(super) fn recv_req(
        &mut self,
        t: Duration,
        raw: &str,
        reliable: bool,
    ) -> Result<Inbound, Error> {
        let now = self.at(t);
        let r = self
            .l
            .handle_request(now, &TestMsg::parse(raw.as_bytes()), PEER, reliable);
        self.drain();
        r
    }

    pub(super) fn recv_resp(&mut self, t: Duration, raw: &str) -> Inbound {
        let now = self.at(t);
        let r = self.l.handle_response(now, &TestMsg::parse(raw.as_bytes()));
        self.drain();
        r
    }

    pub(super) fn respond(&mut self, t: Duration, id: TxId, raw: &str) -> Result<(), Error> {
        let now = self.at(t);
        let r = self
            .l
            .respond(now, id, &TestMsg::parse(raw.as_bytes()), raw.as_bytes());
        self.drain();
        r
    }

    pub(super) fn times(&self) -> Vec<u64> {
        self.sent
            .iter()
            .map(|(t, _)| t.as_millis() as u64)
            .collect()
    }

    pub(super) fn event_names(&self) -> Vec<(u64, String)> {
        self.events
            .iter()
            .map(|(t, n, _)| (t.as_millis() as u64, n.clone()))
            .collect()
    }
}

pub(super) fn new_id(r: Result<Inbound, Error>) -> TxId {
    match r {
        Ok(Inbound::New(id)) => id,
        other => panic!("expected New, got {other:?}"),
    }
}

#[test]
fn invite_client_udp_timer_a_doubles_until_timer_b() {
    let mut d = Driver::new(8);
    let inv = invite();
    d.send(ms(0), &inv, false).unwrap();
    d.run_until(ms(40_000));
    // RFC 3261 17.1.1.2: A = 0.5, 1, 2, 4, 8, 16 s (no T2 cap), B = 64*T1 = 32 s.
    assert_eq!(d.times(), [0, 500, 1500, 3500, 7500, 15_500, 31_500]);
    assert!(d.sent.iter().all(|(_, b)| b == inv.as_bytes()));
    assert_eq!(d.event_names(), [(32_000, "Timeout(B)".to_string())]);
    let r408 = d.events[0].2.clone().unwrap();
    let expected = "SIP/2.0 408 Request Timeout\r\n".to_string()
        + VIA_A
        + "\r\nFrom: Alice <sip:alice@atlanta.com>;tag=1928301774\r\nTo: Bob <sip:bob@biloxi.com>\r\n\
           Call-ID: a84b4c76e66710@pc33.atlanta.com\r\nCSeq: 314159 INVITE\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(String::from_utf8(r408).unwrap(), expected);
    assert!(d.l.is_empty());
    assert_eq!(d.l.free_buffers(), (8, 1));
}

#[test]
fn non_invite_client_timer_e_capped_at_t2_until_timer_f() {
    let mut d = Driver::new(8);
    d.send(ms(0), &req("OPTIONS"), false).unwrap();
    d.run_until(ms(40_000));
    // RFC 3261 17.1.2.2: E = 0.5, 1, 2, 4, then T2 = 4 s; F = 32 s.
    let expected = [
        0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500,
    ];
    assert_eq!(d.times(), expected);
    assert_eq!(d.event_names(), [(32_000, "Timeout(F)".to_string())]);
    assert!(d.events[0].2.as_ref().unwrap().starts_with(b"SIP/2.0 408 "));
}

#[test]
fn non_invite_client_proceeding_uses_t2_then_timer_k() {
    let mut d = Driver::new(8);
    let id = d.send(ms(0), &req("MESSAGE"), false).unwrap();
    assert_eq!(
        d.recv_resp(ms(200), &response(100, VIA_A, "", "MESSAGE")),
        Inbound::PassUp(id)
    );
    assert_eq!(d.l.state(id), Some(State::Proceeding));
    d.run_until(ms(9000));
    // The running E (0.5 s) fires in Proceeding, then RFC 3261 17.1.2.2: E = T2.
    assert_eq!(d.times(), [0, 500, 4500, 8500]);
    assert_eq!(
        d.recv_resp(ms(9000), &response(200, VIA_A, ";tag=x", "MESSAGE")),
        Inbound::PassUp(id)
    );
    assert_eq!(d.l.state(id), Some(State::Completed));
    // A retransmitted final response is absorbed in Completed.
    assert_eq!(
        d.recv_resp(ms(10_000), &response(200, VIA_A, ";tag=x", "MESSAGE")),
        Inbound::Absorbed
    );
    d.run_until(ms(60_000));
    assert_eq!(d.times(), [0, 500, 4500, 8500]);
    // Timer K = T4 = 5 s.
    assert_eq!(d.event_names(), [(14_000, "Terminated".to_string())]);
    assert!(d.l.is_empty());
}

#[test]
fn invite_client_non_2xx_is_acked_with_exact_headers() {
    let mut d = Driver::new(8);
    let id = d.send(ms(0), &invite(), false).unwrap();
    assert_eq!(
        d.recv_resp(ms(100), &response(180, VIA_A, ";tag=a6c85cf", "INVITE")),
        Inbound::PassUp(id)
    );
    d.run_until(ms(5000));
    assert_eq!(d.times(), [0], "no retransmission in Proceeding");
    assert_eq!(
        d.recv_resp(ms(5000), &response(486, VIA_A, ";tag=a6c85cf", "INVITE")),
        Inbound::PassUp(id)
    );
    let expected = "ACK sip:bob@biloxi.com SIP/2.0\r\n".to_string()
        + VIA_A
        + "\r\nRoute: <sip:p1.example.com;lr>\r\nRoute: <sip:p2.example.com;lr>\r\nMax-Forwards: 70\r\n\
           From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\nTo: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\n\
           Call-ID: a84b4c76e66710@pc33.atlanta.com\r\nCSeq: 314159 ACK\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(String::from_utf8(d.sent[1].1.clone()).unwrap(), expected);
    // RFC 3261 17.1.1.2: a retransmitted 486 is absorbed and ACKed again.
    assert_eq!(
        d.recv_resp(ms(6000), &response(486, VIA_A, ";tag=a6c85cf", "INVITE")),
        Inbound::Absorbed
    );
    assert_eq!(d.sent[2].1, expected.as_bytes());
    d.run_until(ms(60_000));
    // Timer D = 32 s after the 486.
    assert_eq!(d.event_names(), [(37_000, "Terminated".to_string())]);
    assert_eq!(d.l.free_buffers(), (8, 1));
}

#[test]
fn invite_client_2xx_retransmissions_pass_up_in_accepted() {
    let mut d = Driver::new(8);
    let id = d.send(ms(0), &invite(), false).unwrap();
    let ok = response(200, VIA_A, ";tag=a6c85cf", "INVITE");
    assert_eq!(d.recv_resp(ms(300), &ok), Inbound::PassUp(id));
    assert_eq!(d.l.state(id), Some(State::Accepted));
    // RFC 6026 7.2: 2xx retransmissions go to the TU, which ACKs them; the layer sends nothing.
    assert_eq!(d.recv_resp(ms(800), &ok), Inbound::PassUp(id));
    assert_eq!(
        d.recv_resp(ms(900), &response(180, VIA_A, ";tag=a6c85cf", "INVITE")),
        Inbound::Absorbed
    );
    d.run_until(ms(60_000));
    assert_eq!(d.times(), [0]);
    // Timer M = 64*T1 after entering Accepted.
    assert_eq!(d.event_names(), [(32_300, "Terminated".to_string())]);
    assert_eq!(d.recv_resp(ms(60_000), &ok), Inbound::Stray);
}

#[test]
fn reliable_transport_has_no_retransmission_timers() {
    let mut d = Driver::new(8);
    let id = d.send(ms(0), &invite(), true).unwrap();
    // Only Timer B is armed.
    assert_eq!(d.l.poll_timeout(), Some(d.base + ms(32_000)));
    assert_eq!(
        d.recv_resp(ms(1000), &response(486, VIA_A, ";tag=t", "INVITE")),
        Inbound::PassUp(id)
    );
    // The ACK goes out and Timer D = 0 ends the transaction at once.
    assert_eq!(d.times(), [0, 1000]);
    assert!(d.sent[1].1.starts_with(b"ACK "));
    assert_eq!(d.event_names(), [(1000, "Terminated".to_string())]);
    assert_eq!(d.l.state(id), None);

    let nid = d.send(ms(2000), &req("OPTIONS"), true).unwrap();
    d.run_until(ms(31_000));
    assert_eq!(d.times(), [0, 1000, 2000]);
    assert_eq!(
        d.recv_resp(ms(31_000), &response(200, VIA_A, ";tag=t", "OPTIONS")),
        Inbound::PassUp(nid)
    );
    assert_eq!(d.l.state(nid), None, "Timer K = 0 on reliable transports");

    // Server side: a final response is sent, then Timer J = 0 ends the transaction.
    let sid = new_id(d.recv_req(ms(32_000), &req("OPTIONS"), true));
    d.respond(ms(32_000), sid, &response(200, VIA_A, ";tag=s", "OPTIONS"))
        .unwrap();
    assert_eq!(
        d.sent.last().unwrap().1,
        response(200, VIA_A, ";tag=s", "OPTIONS").as_bytes()
    );
    assert_eq!(d.l.state(sid), None);
    assert!(d.l.is_empty());
}

#[test]
fn invite_server_trying_retransmissions_ack_and_timer_i() {
    let mut d = Driver::new(8);
    let inv = invite();
    let id = new_id(d.recv_req(ms(0), &inv, false));
    // RFC 3261 17.2.1 / 8.2.6: 100 Trying copies Via, From, To, Call-ID, CSeq.
    let trying = "SIP/2.0 100 Trying\r\n".to_string()
        + VIA_A
        + "\r\nFrom: Alice <sip:alice@atlanta.com>;tag=1928301774\r\nTo: Bob <sip:bob@biloxi.com>\r\n\
           Call-ID: a84b4c76e66710@pc33.atlanta.com\r\nCSeq: 314159 INVITE\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(String::from_utf8(d.sent[0].1.clone()).unwrap(), trying);
    // A retransmitted INVITE is absorbed; the 100 is resent.
    assert_eq!(d.recv_req(ms(500), &inv, false), Ok(Inbound::Absorbed));
    assert_eq!(d.sent[1].1, trying.as_bytes());
    let ringing = response(180, VIA_A, ";tag=b1", "INVITE");
    d.respond(ms(600), id, &ringing).unwrap();
    assert_eq!(d.recv_req(ms(1500), &inv, false), Ok(Inbound::Absorbed));
    assert_eq!(
        d.sent[3].1,
        ringing.as_bytes(),
        "last provisional is resent"
    );
    let busy = response(486, VIA_A, ";tag=b1", "INVITE");
    d.respond(ms(2000), id, &busy).unwrap();
    assert_eq!(d.l.state(id), Some(State::Completed));
    d.run_until(ms(12_000));
    // RFC 3261 17.2.1: G = 0.5, 1, 2, 4, 4 s after the 486 at 2 s.
    assert_eq!(&d.times()[4..], [2000, 2500, 3500, 5500, 9500]);
    assert_eq!(d.recv_req(ms(12_000), &inv, false), Ok(Inbound::Absorbed));
    assert_eq!(d.sent.last().unwrap().1, busy.as_bytes());
    let ack = request(
        "ACK",
        VIA_A,
        "a84b4c76e66710@pc33.atlanta.com",
        ";tag=b1",
        "ACK",
    );
    assert_eq!(d.recv_req(ms(12_100), &ack, false), Ok(Inbound::Absorbed));
    assert_eq!(d.l.state(id), Some(State::Confirmed));
    assert_eq!(d.recv_req(ms(12_200), &ack, false), Ok(Inbound::Absorbed));
    let n = d.sent.len();
    d.run_until(ms(60_000));
    assert_eq!(d.sent.len(), n, "G stops in Confirmed");
    // Timer I = T4 = 5 s after the ACK.
    assert_eq!(d.event_names(), [(17_100, "Terminated".to_string())]);
    assert!(d.l.is_empty());
}

#[test]
fn invite_server_timer_h_reports_missing_ack() {
    let mut d = Driver::new(8);
    let id = new_id(d.recv_req(ms(0), &invite(), false));
    d.respond(ms(0), id, &response(500, VIA_A, ";tag=b1", "INVITE"))
        .unwrap();
    d.run_until(ms(40_000));
    assert_eq!(
        d.times(),
        [0, 0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
    );
    assert_eq!(d.event_names(), [(32_000, "Timeout(H)".to_string())]);
    assert_eq!(d.events[0].2, None);
    assert_eq!(
        d.respond(ms(40_000), id, &response(500, VIA_A, ";tag=b1", "INVITE")),
        Err(Error::UnknownTransaction)
    );
}

#[test]
fn invite_server_accepted_absorbs_invite_and_passes_ack_up() {
    let mut d = Driver::new(8);
    let inv = invite();
    let id = new_id(d.recv_req(ms(0), &inv, false));
    let ok = response(200, VIA_A, ";tag=b1", "INVITE");
    d.respond(ms(100), id, &ok).unwrap();
    assert_eq!(d.l.state(id), Some(State::Accepted));
    // RFC 6026 7.1: INVITE retransmissions are absorbed, nothing is resent by the layer.
    assert_eq!(d.recv_req(ms(600), &inv, false), Ok(Inbound::Absorbed));
    assert_eq!(d.times(), [0, 100]);
    // The TU retransmits its 2xx through the transaction.
    d.respond(ms(600), id, &ok).unwrap();
    assert_eq!(d.times(), [0, 100, 600]);
    assert_eq!(
        d.respond(ms(700), id, &response(486, VIA_A, ";tag=b1", "INVITE")),
        Err(Error::InvalidState)
    );
    // The ACK for a 2xx has its own branch: no transaction matches it.
    let ack_via = "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8";
    let ack = request(
        "ACK",
        ack_via,
        "a84b4c76e66710@pc33.atlanta.com",
        ";tag=b1",
        "ACK",
    );
    assert_eq!(d.recv_req(ms(800), &ack, false), Ok(Inbound::Stray));
    // An ACK matching the transaction in Accepted goes to the TU.
    let ack_same = request(
        "ACK",
        VIA_A,
        "a84b4c76e66710@pc33.atlanta.com",
        ";tag=b1",
        "ACK",
    );
    assert_eq!(
        d.recv_req(ms(900), &ack_same, false),
        Ok(Inbound::PassUp(id))
    );
    d.run_until(ms(60_000));
    // Timer L = 64*T1.
    assert_eq!(d.event_names(), [(32_100, "Terminated".to_string())]);
}

#[test]
fn non_invite_server_absorbs_and_timer_j() {
    let mut d = Driver::new(8);
    let reg = req("REGISTER");
    let id = new_id(d.recv_req(ms(0), &reg, false));
    // RFC 3261 17.2.2: a retransmission in Trying is discarded.
    assert_eq!(d.recv_req(ms(500), &reg, false), Ok(Inbound::Absorbed));
    assert!(d.sent.is_empty());
    let ok = response(200, VIA_A, ";tag=r", "REGISTER");
    d.respond(ms(1000), id, &ok).unwrap();
    assert_eq!(d.recv_req(ms(1500), &reg, false), Ok(Inbound::Absorbed));
    assert_eq!(d.times(), [1000, 1500]);
    assert!(d.sent.iter().all(|(_, b)| b == ok.as_bytes()));
    assert_eq!(d.respond(ms(1600), id, &ok), Err(Error::InvalidState));
    d.run_until(ms(60_000));
    assert_eq!(
        d.times(),
        [1000, 1500],
        "no retransmission timer on the non-INVITE server"
    );
    assert_eq!(d.event_names(), [(33_000, "Terminated".to_string())]);
}

#[test]
fn rfc2543_fallback_matching() {
    let mut d = Driver::new(8);
    let old_via = "Via: SIP/2.0/UDP oldphone.example.com:5060";
    let inv = request("INVITE", old_via, "2543@oldphone", "", "INVITE");
    let id = new_id(d.recv_req(ms(0), &inv, false));
    assert_eq!(d.recv_req(ms(500), &inv, false), Ok(Inbound::Absorbed));
    // Another Call-ID is another transaction.
    let other = request("INVITE", old_via, "other@oldphone", "", "INVITE");
    assert!(matches!(d.recv_req(ms(600), &other, false), Ok(Inbound::New(o)) if o != id));
    d.respond(ms(700), id, &response(404, old_via, ";tag=xyz", "INVITE"))
        .unwrap();
    // The ACK must carry the To tag of the response sent.
    let bad_ack = request("ACK", old_via, "2543@oldphone", ";tag=wrong", "ACK");
    assert_eq!(d.recv_req(ms(800), &bad_ack, false), Ok(Inbound::Stray));
    assert_eq!(d.l.state(id), Some(State::Completed));
    let ack = request("ACK", old_via, "2543@oldphone", ";tag=xyz", "ACK");
    assert_eq!(d.recv_req(ms(900), &ack, false), Ok(Inbound::Absorbed));
    assert_eq!(d.l.state(id), Some(State::Confirmed));
    // A branch without the magic cookie also falls back.
    let via_1234 = "Via: SIP/2.0/UDP oldphone.example.com:5060;branch=1234";
    let opt = request("OPTIONS", via_1234, "opt@oldphone", "", "OPTIONS");
    let oid = new_id(d.recv_req(ms(1000), &opt, false));
    assert_eq!(d.recv_req(ms(1100), &opt, false), Ok(Inbound::Absorbed));
    assert_eq!(d.l.state(oid), Some(State::Trying));
}

#[test]
fn matching_requires_same_sent_by_and_method() {
    let mut d = Driver::new(8);
    let id = new_id(d.recv_req(ms(0), &invite(), false));
    let via_b = "Via: SIP/2.0/UDP other.atlanta.com;branch=z9hG4bK776asdhds";
    let inv_b = request(
        "INVITE",
        via_b,
        "a84b4c76e66710@pc33.atlanta.com",
        "",
        "INVITE",
    );
    assert!(matches!(d.recv_req(ms(10), &inv_b, false), Ok(Inbound::New(o)) if o != id));
    assert!(matches!(d.recv_req(ms(20), &req("OPTIONS"), false), Ok(Inbound::New(o)) if o != id));
}

#[test]
fn cancel_is_its_own_transaction_and_finds_its_invite() {
    let mut d = Driver::new(8);
    let inv_id = new_id(d.recv_req(ms(0), &invite(), false));
    let cancel = req("CANCEL");
    let cid = match d.recv_req(ms(100), &cancel, false) {
        Ok(Inbound::Cancel { id, target }) => {
            assert_eq!(target, Some(inv_id));
            assert_ne!(id, inv_id);
            id
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(d.recv_req(ms(200), &cancel, false), Ok(Inbound::Absorbed));
    d.respond(ms(300), cid, &response(200, VIA_A, ";tag=b1", "CANCEL"))
        .unwrap();
    assert_eq!(d.l.state(inv_id), Some(State::Proceeding));
    d.respond(ms(300), inv_id, &response(487, VIA_A, ";tag=b1", "INVITE"))
        .unwrap();
    assert_eq!(d.l.state(inv_id), Some(State::Completed));

    // Client side: the CANCEL shares the INVITE's branch; CSeq method tells them apart.
    let mut c = Driver::new(8);
    let inv = c.send(ms(0), &invite(), false).unwrap();
    let can = c.send(ms(100), &req("CANCEL"), false).unwrap();
    assert_eq!(
        c.send(ms(100), &req("CANCEL"), false),
        Err(Error::Duplicate)
    );
    assert_eq!(
        c.recv_resp(ms(200), &response(200, VIA_A, ";tag=b1", "CANCEL")),
        Inbound::PassUp(can)
    );
    assert_eq!(c.l.state(inv), Some(State::Calling));
    assert_eq!(
        c.recv_resp(ms(300), &response(487, VIA_A, ";tag=b1", "INVITE")),
        Inbound::PassUp(inv)
    );
    assert_eq!(c.l.state(inv), Some(State::Completed));
}

#[test]
fn stray_responses_and_transport_errors() {
    let mut d = Driver::new(8);
    assert_eq!(
        d.recv_resp(ms(0), &response(200, VIA_A, "", "OPTIONS")),
        Inbound::Stray
    );
    let id = d.send(ms(0), &req("OPTIONS"), false).unwrap();
    assert_eq!(
        d.recv_resp(ms(1), &response(200, VIA_A, "", "INFO")),
        Inbound::Stray
    );
    let now = d.at(ms(2));
    d.l.handle_transport_error(now, id);
    d.drain();
    assert_eq!(d.event_names(), [(2, "TransportError".to_string())]);
    assert!(d.l.is_empty());
    assert_eq!(d.l.poll_timeout(), None);
}

#[test]
fn capacity_exhaustion_gives_full_and_slots_are_reused() {
    let mut d = Driver::new(2);
    let a = new_id(d.recv_req(ms(0), &req("OPTIONS"), true));
    let _b = new_id(d.recv_req(ms(0), &invite(), true));
    let via_c = "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKccc";
    let c = request("OPTIONS", via_c, "c@x", "", "OPTIONS");
    assert_eq!(d.recv_req(ms(0), &c, true), Err(Error::Full));
    assert_eq!(d.send(ms(0), &c, true), Err(Error::Full));
    // A retransmission of a known request is still absorbed when full.
    assert_eq!(d.recv_req(ms(1), &invite(), true), Ok(Inbound::Absorbed));
    d.respond(ms(2), a, &response(200, VIA_A, ";tag=r", "OPTIONS"))
        .unwrap();
    let cid = new_id(d.recv_req(ms(3), &c, true));
    assert_ne!(cid, a, "a reused slot gets a new generation");
    assert_eq!(d.l.state(a), None);
}

#[test]
fn pool_exhaustion_gives_full() {
    let mut cfg = Config::with_capacity(4);
    cfg.pool = PoolConfig {
        small_count: 1,
        small_size: 4096,
        large_count: 0,
        large_size: 0,
    };
    let mut l: TransactionLayer<Peer> = TransactionLayer::new(cfg);
    let now = Instant::now();
    let inv = invite();
    assert!(matches!(
        l.handle_request(now, &TestMsg::parse(inv.as_bytes()), PEER, false),
        Ok(Inbound::New(_))
    ));
    let o = req("OPTIONS");
    assert_eq!(
        l.send_request(
            now,
            &TestMsg::parse(o.as_bytes()),
            o.as_bytes(),
            PEER,
            false
        ),
        Err(Error::Full)
    );
    let big = format!("{}{}", o, "x".repeat(5000));
    assert_eq!(
        l.send_request(
            now,
            &TestMsg::parse(big.as_bytes()),
            big.as_bytes(),
            PEER,
            false
        ),
        Err(Error::TooLarge)
    );
    assert_eq!(l.len(), 1);
}

#[test]
fn send_request_rejects_what_it_cannot_handle() {
    let mut l = layer(4);
    let now = Instant::now();
    let ack = req("ACK");
    assert_eq!(
        l.send_request(
            now,
            &TestMsg::parse(ack.as_bytes()),
            ack.as_bytes(),
            PEER,
            false
        ),
        Err(Error::Malformed)
    );
    let no_branch = request(
        "OPTIONS",
        "Via: SIP/2.0/UDP a.example.com",
        "x",
        "",
        "OPTIONS",
    );
    assert_eq!(
        l.send_request(
            now,
            &TestMsg::parse(no_branch.as_bytes()),
            no_branch.as_bytes(),
            PEER,
            false
        ),
        Err(Error::Malformed)
    );
    // The view must borrow from `raw`.
    let o = req("OPTIONS");
    let copy = o.clone();
    assert_eq!(
        l.send_request(
            now,
            &TestMsg::parse(copy.as_bytes()),
            o.as_bytes(),
            PEER,
            false
        ),
        Err(Error::Malformed)
    );
    assert!(l.is_empty());
}

#[test]
fn custom_t1_scales_timers() {
    let mut cfg = Config::with_capacity(4);
    cfg.timers = TimerConfig {
        t1: ms(1000),
        t2: ms(2000),
        t4: ms(3000),
    };
    let mut d = Driver::new(4);
    d.l = TransactionLayer::new(cfg);
    d.send(ms(0), &req("OPTIONS"), false).unwrap();
    d.run_until(ms(70_000));
    assert_eq!(&d.times()[..5], [0, 1000, 3000, 5000, 7000]);
    assert_eq!(d.event_names(), [(64_000, "Timeout(F)".to_string())]);
}

#[test]
fn tu_can_terminate_a_transaction() {
    let mut d = Driver::new(4);
    let id = new_id(d.recv_req(ms(0), &req("OPTIONS"), false));
    let now = d.at(ms(10));
    d.l.terminate(now, id);
    d.drain();
    assert_eq!(d.event_names(), [(10, "Terminated".to_string())]);
    assert!(d.l.is_empty());
    assert_eq!(d.l.state(id), None);
}
