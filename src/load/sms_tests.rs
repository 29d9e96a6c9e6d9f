//! The SMS side of the UE on a virtual clock, against ringcore's own SMSC as the network
//! (it decodes our SMS-SUBMIT and builds the SMS-DELIVER the recipient gets): a message
//! from submit to RP-ACK and delivery, a refused one (RP-ERROR, SIP status), one without
//! answer, one never delivered, and a recipient facing retransmissions.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::typed::FilterAction;
use crate::sip::Message;
use crate::sms::{RpDirection, RpMessage};
use crate::smsc::{self, Recipient, Smsc, User};

use super::metrics::{Action, Cause, Metric};
use super::profile::Population;
use super::sms::{recipient, SmsConfig, SmsEvent, SmsOptions};
use super::ue::{Shared, Start, Ue, UeEvent};

const RUN: u32 = 0x5a;
const SMSC_URI: &str = "sip:smsc@ims.mnc001.mcc001.3gppnetwork.org";

fn core() -> SocketAddr {
    "127.0.0.1:5060".parse().unwrap_or_else(|_| unreachable!())
}

/// UE `i` of the default range with SMS on (transaction timeout 4 s, SMS limit 8 s).
fn ue(t0: Instant, i: usize) -> Ue {
    let p = Population::default_range();
    let shared = Arc::new(Shared {
        target: core(),
        registrar: format!("sip:{}", p.domain),
        sim: None,
        expires: 600,
        timeout: Duration::from_secs(4),
        hold: Duration::from_millis(100),
        answer_delay: Duration::ZERO,
        epoch: t0,
        run_id: RUN,
    });
    let o = SmsOptions { count: 1, text: "hello".into(), smsc: SMSC_URI.into() };
    let local = SocketAddr::from(([127, 1, 0, 1 + i as u8], 40000));
    Ue::new(shared.clone(), p.identity(i), local, None).with_sms(Arc::new(SmsConfig::new(&o, shared.timeout, RUN)), i)
}

fn drain(ue: &mut Ue, now: Instant) -> Vec<Vec<u8>> {
    let mut buf = vec![0u8; 8192];
    std::iter::from_fn(|| ue.poll_transmit(now, &mut buf).map(|t| buf[..t.len].to_vec())).collect()
}

fn events(ue: &mut Ue) -> Vec<UeEvent> {
    std::iter::from_fn(|| ue.poll_event()).collect()
}

fn parse(raw: &[u8]) -> Message<'_> {
    Message::parse(raw).unwrap_or_else(|e| panic!("{e:?}: {}", String::from_utf8_lossy(raw)))
}

/// The core's final response `code` to our request `req`.
fn answer(req: &[u8], code: u16) -> Vec<u8> {
    let m = parse(req);
    let mut buf = vec![0u8; 4096];
    let n = crate::sip::Builder::response_to(&mut buf, &m, code, b"X", b"core").and_then(|b| b.finish(b"")).unwrap_or_else(|_| panic!("overflow"));
    buf.truncate(n);
    buf
}

/// A MESSAGE from the SC to `ue_user` carrying the RP message `rp`.
fn mt_message(ue_user: &str, call_id: &str, rp: &RpMessage) -> Vec<u8> {
    let mut body = vec![0u8; rp.buffer_len()];
    let n = rp.emit(&mut body).unwrap_or_else(|e| panic!("{e:?}"));
    let mut m = format!(
        "MESSAGE sip:{ue_user}@127.1.0.1:40000 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK{call_id}\r\nFrom: <{SMSC_URI}>;tag=sc\r\n\
         To: <sip:{ue_user}@d>\r\nCall-ID: {call_id}\r\nCSeq: 1 MESSAGE\r\nContent-Type: application/vnd.3gpp.sms\r\nContent-Length: {n}\r\n\r\n"
    )
    .into_bytes();
    m.extend_from_slice(&body[..n]);
    m
}

fn smsc() -> Smsc {
    Smsc::new(smsc::Config {
        centre: crate::sms::RpAddress::international("+3310").unwrap_or_else(|e| panic!("{e:?}")),
        expires: Duration::from_secs(60),
        retry_delay: None,
        max_stored: 8,
        forced_rp_cause: 0,
        filter_rp_data: FilterAction::Treat,
        filter_rp_ack: FilterAction::Treat,
        ack_timeout: smsc::TR1M,
        hook_only: false,
    })
}

fn user_of(ue: &Ue) -> User {
    User { impi: ue.identity().impi.clone(), impu: ue.identity().impu.clone() }
}

#[test]
fn an_sms_goes_from_submit_through_the_smsc_to_delivery_and_rp_ack() {
    let t0 = Instant::now();
    let (mut a, mut b) = (ue(t0, 0), ue(t0, 1));
    // SMS on: the registration offers +g.3gpp.smsip (TS 24.341 5.3.1.2).
    assert!(a.start(t0, t0, Start::Register(Action::Register)).is_ok());
    let reg = drain(&mut a, t0);
    assert!(String::from_utf8_lossy(&reg[0]).contains(">;+g.3gpp.smsip\r\n"), "{}", String::from_utf8_lossy(&reg[0]));
    a.abort(t0);
    let _ = events(&mut a);
    // The sender's worker is 2 ms late: latencies count from the intended time.
    let (intended, now) = (t0 + Duration::from_secs(1), t0 + Duration::from_millis(1002));
    let to = b.identity().user.clone();
    assert!(a.start(now, intended, Start::Sms(&to)).is_ok());
    assert!(!a.is_idle());
    let sent = drain(&mut a, now);
    assert_eq!(sent.len(), 1);
    let mo = parse(&sent[0]);
    assert_eq!(mo.request_uri_raw(), Some(SMSC_URI.as_bytes()));
    // The network: ringcore's SMSC takes the RP-DATA and stores an SMS-DELIVER for B.
    let mut sc = smsc();
    let (bu, to_b) = (user_of(&b), to.clone());
    let resolve = move |da: &crate::sms::TpAddress| (da.digits().collect::<String>() == to_b).then(|| Recipient { user: bu.clone(), delay: Duration::ZERO });
    let rp_ack = sc.handle_mo(now, 1_800_000_000, &user_of(&a), mo.body(), &resolve);
    assert!(matches!(rp_ack, Some(RpMessage::Ack(_))), "{rp_ack:?}");
    a.handle_datagram(now, core(), &answer(&sent[0], 202));
    let t = sc.poll_transmit(now, &|_: &str| true).unwrap_or_else(|| panic!("an MT RP-DATA for B"));
    // B gets it 5 ms after the intended time: 200, RP-ACK, and the stamp for the shard.
    let t_b = intended + Duration::from_millis(5);
    b.handle_datagram(t_b, core(), &mt_message(&to, "mt1", &RpMessage::Data(t.rp)));
    let out = drain(&mut b, t_b);
    assert_eq!(out.len(), 2, "200 to the MESSAGE and a MESSAGE with RP-ACK");
    assert_eq!(parse(&out[0]).status(), Some(200));
    let ack = parse(&out[1]);
    let rp = RpMessage::parse(ack.body()).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(matches!(rp, RpMessage::Ack(x) if x.direction == RpDirection::MsToNetwork && x.reference == t.rp.reference));
    assert_eq!(sc.handle_mo(t_b, 1_800_000_000, &user_of(&b), ack.body(), &resolve), None);
    assert_eq!(sc.counters.delivered, 1, "the SMSC takes our RP-ACK");
    assert_eq!(events(&mut b), vec![UeEvent::Sms(SmsEvent::Received(Some((RUN, 0, 1))))], "run, sender index 0, token 1");
    assert!(b.is_idle(), "receiving does not keep a UE busy");
    // The shard hands the delivery to A; then the SC's RP-ACK reaches A.
    a.handle_sms_delivered(t_b, 1);
    let t_a = intended + Duration::from_millis(7);
    let reply = rp_ack.unwrap_or_else(|| unreachable!());
    a.handle_datagram(t_a, core(), &mt_message(&a.identity().user.clone(), "ack1", &reply));
    assert_eq!(drain(&mut a, t_a).len(), 1, "200 to the SC's MESSAGE");
    assert_eq!(
        events(&mut a),
        vec![
            UeEvent::Sample(Metric::SmsSubmitToDelivery, Duration::from_millis(5)),
            UeEvent::Sample(Metric::SmsSubmitToRpAck, Duration::from_millis(7)),
            UeEvent::Finished(Action::Sms, Ok(())),
        ]
    );
    assert!(a.is_idle());
    assert_eq!(a.poll_timeout(), None, "nothing left to do");
}

fn started(t0: Instant) -> (Ue, Vec<u8>) {
    let mut a = ue(t0, 0);
    assert!(a.start(t0, t0, Start::Sms("001011000000001")).is_ok());
    let sent = drain(&mut a, t0).pop().unwrap_or_default();
    (a, sent)
}

#[test]
fn refusals_are_counted_by_sip_status_and_rp_cause() {
    let t0 = Instant::now();
    let (mut a, sent) = started(t0);
    a.handle_datagram(t0, core(), &answer(&sent, 404));
    assert_eq!(events(&mut a), vec![UeEvent::Finished(Action::Sms, Err((Cause::Status, Some(404))))]);
    assert!(a.is_idle());
    let (mut a, sent) = started(t0);
    a.handle_datagram(t0, core(), &answer(&sent, 202));
    let reference = RpMessage::parse(parse(&sent).body()).map(|m| m.reference()).unwrap_or(0);
    // RP-ERROR #38 network out of order (TS 24.011 8.2.5.4); 5 bytes: MTI 5, ref, LV cause.
    let err = RpMessage::parse(&[5, reference, 1, 38]).unwrap_or_else(|e| panic!("{e:?}"));
    a.handle_datagram(t0, core(), &mt_message("001011000000000", "e1", &err));
    assert_eq!(events(&mut a), vec![UeEvent::Sms(SmsEvent::RpCause(38)), UeEvent::Finished(Action::Sms, Err((Cause::RpError, None)))]);
    // A second SMS while the first is in flight: busy, like a call.
    let (mut a, _) = started(t0);
    assert_eq!(a.start(t0, t0, Start::Sms("1")), Err(Cause::Busy));
}

#[test]
fn every_sms_ends_within_its_limit() {
    let t0 = Instant::now();
    // No answer at all: Timer E retransmissions, then Timer F at the 4 s timeout.
    let (mut a, _) = started(t0);
    let mut sends = 0;
    let mut now = t0;
    while let Some(t) = a.poll_timeout() {
        now = t;
        a.handle_timeout(now);
        sends += drain(&mut a, now).len();
    }
    assert_eq!(now - t0, Duration::from_secs(4));
    assert_eq!(sends, 3, "retransmitted at 0.5, 1.5, 3.5 s (RFC 3261 17.1.2.2)");
    assert_eq!(events(&mut a), vec![UeEvent::Finished(Action::Sms, Err((Cause::Timeout, None)))]);
    // 202 and RP-ACK, but the recipient never sees it: not delivered at the 8 s limit.
    let (mut a, sent) = started(t0);
    a.handle_datagram(t0, core(), &answer(&sent, 202));
    let reference = RpMessage::parse(parse(&sent).body()).map(|m| m.reference()).unwrap_or(0);
    let ack = RpMessage::parse(&[3, reference]).unwrap_or_else(|e| panic!("{e:?}"));
    a.handle_datagram(t0 + Duration::from_millis(1), core(), &mt_message("001011000000000", "k1", &ack));
    assert_eq!(a.poll_timeout(), Some(t0 + Duration::from_secs(8)));
    a.handle_timeout(t0 + Duration::from_secs(8));
    let ev = events(&mut a);
    assert_eq!(ev.last(), Some(&UeEvent::Finished(Action::Sms, Err((Cause::NotDelivered, None)))), "{ev:?}");
    // A delivery after the end changes nothing.
    a.handle_sms_delivered(t0 + Duration::from_secs(9), 1);
    assert_eq!(events(&mut a), vec![]);
    // The run's deadline ends a message in flight too.
    let (mut a, _) = started(t0);
    a.abort(t0);
    assert_eq!(events(&mut a), vec![UeEvent::Finished(Action::Sms, Err((Cause::Timeout, None)))]);
    assert_eq!(a.poll_timeout(), None);
}

#[test]
fn a_recipient_handles_retransmissions_once_and_retransmits_its_rp_ack() {
    let t0 = Instant::now();
    let mut b = ue(t0, 1);
    // An SMS-DELIVER without our stamp (someone else's message): delivered, not ours.
    let mut sc = smsc();
    let bu = user_of(&b);
    let resolve = move |_: &crate::sms::TpAddress| Some(Recipient { user: bu.clone(), delay: Duration::ZERO });
    let mut rp = [0u8; 256];
    let n = super::sms_wire::mo_rp_data(&mut rp, 1, crate::smsc::default_centre(), "1", "plain text").unwrap_or(0);
    let from = User { impi: "x@d".into(), impu: "tel:+1".into() };
    assert!(matches!(sc.handle_mo(t0, 1_800_000_000, &from, &rp[..n], &resolve), Some(RpMessage::Ack(_))));
    let t = sc.poll_transmit(t0, &|_: &str| true).unwrap_or_else(|| panic!("MT"));
    let mt = mt_message("001011000000001", "mt9", &RpMessage::Data(t.rp));
    b.handle_datagram(t0, core(), &mt);
    let first = drain(&mut b, t0);
    assert_eq!(first.len(), 2);
    b.handle_datagram(t0, core(), &mt); // our 200 was lost: the SC sends it again
    let again = drain(&mut b, t0);
    assert_eq!(again.len(), 1, "only the 200 again");
    assert_eq!(parse(&again[0]).status(), Some(200));
    assert_eq!(events(&mut b), vec![UeEvent::Sms(SmsEvent::Received(None))]);
    // The RP-ACK MESSAGE is retransmitted until its final response.
    let ack_at = b.poll_timeout().unwrap_or_else(|| panic!("Timer E"));
    assert_eq!(ack_at, t0 + Duration::from_millis(500));
    b.handle_timeout(ack_at);
    let retx = drain(&mut b, ack_at);
    assert_eq!(retx, vec![first[1].clone()]);
    b.handle_datagram(ack_at, core(), &answer(&first[1], 202));
    assert_eq!(b.poll_timeout(), None, "the transaction is over");
}

#[test]
fn senders_and_recipients_pair_up_on_one_worker() {
    for (ues, workers) in [(200, 1), (200, 3), (7, 2), (1000, 4), (4, 2)] {
        for actor in 0..ues / 2 {
            let r = recipient(actor, ues, workers);
            assert!(r < ues && r != actor, "{ues}/{workers}: {actor} → {r}");
            assert_eq!(r % workers, actor % workers, "{ues}/{workers}: {actor} → {r}");
        }
    }
    assert_eq!(recipient(3, 200, 1), 103, "UE i → UE i + ues/2");
}
