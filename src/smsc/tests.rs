//! SMSC behaviour on a virtual clock.

use super::mt::status;
use super::*;
use crate::sms::{
    Alphabet, Dcs, RpData, RpDirection, RpError, RpMessage, RpSmma, Submit, TypeOfAddress,
    UserData, ValidityPeriod,
};
use std::time::{Duration, Instant};

const UNIX: u64 = 1_795_471_509;

fn user(n: &str) -> User {
    User {
        impi: format!("{n}@ims"),
        impu: format!("tel:+{n}"),
    }
}

fn cfg() -> Config {
    Config {
        centre: crate::sms::RpAddress::international("+3310").unwrap(),
        expires: Duration::from_secs(3600),
        retry_delay: Some(Duration::from_secs(30)),
        max_stored: 4,
        forced_rp_cause: 0,
        filter_rp_data: FilterAction::Treat,
        filter_rp_ack: FilterAction::Treat,
        ack_timeout: TR1M,
        hook_only: false,
    }
}

fn resolve(da: &TpAddress) -> Option<Recipient> {
    let n: String = da.digits().collect();
    (n == "222" || n == "111").then(|| Recipient {
        user: user(&n),
        delay: Duration::ZERO,
    })
}

fn submit(mr: u8, to: &str, text: &str, srr: bool, vp: Option<ValidityPeriod>) -> Vec<u8> {
    let (ud, alphabet) = UserData::from_text(text, None).unwrap();
    let s = Submit {
        reject_duplicates: false,
        status_report_request: srr,
        reply_path: false,
        message_reference: mr,
        destination: TpAddress::international(to).unwrap(),
        pid: 0,
        dcs: Dcs::general(alphabet, None),
        validity: vp,
        user_data: ud,
    };
    encode(&RpMessage::Data(
        RpData::mo(
            mr,
            crate::sms::RpAddress::international("+3310").unwrap(),
            &Tpdu::Submit(s),
        )
        .unwrap(),
    ))
}

/// User 111 submits `text` to +222 (reference 1, no status report, no validity period).
fn mo_111_to_222(s: &mut Smsc, t: Instant, text: &str) -> Option<RpMessage> {
    s.handle_mo(t, UNIX, &user("111"), &submit(1, "+222", text, false, None), &resolve)
}

fn encode(m: &RpMessage) -> Vec<u8> {
    let mut buf = vec![0u8; m.buffer_len()];
    let n = m.emit(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn ack_from(rp_ref: u8) -> Vec<u8> {
    encode(&RpMessage::Ack(crate::sms::RpAck {
        direction: RpDirection::MsToNetwork,
        reference: rp_ref,
        user_data: None,
    }))
}

fn error_from(rp_ref: u8, cause: u8) -> Vec<u8> {
    let e = RpError {
        direction: RpDirection::MsToNetwork,
        reference: rp_ref,
        cause: RpCause::from_u8(cause),
        diagnostic: None,
        user_data: None,
    };
    encode(&RpMessage::Error(e))
}

fn cause_of(m: Option<RpMessage>) -> Option<u8> {
    match m {
        Some(RpMessage::Error(e)) => Some(e.cause.to_u8()),
        _ => None,
    }
}

fn everyone(_: &str) -> bool {
    true
}

#[test]
fn submit_is_acknowledged_stored_and_delivered_as_sms_deliver() {
    let (t0, mut s) = (Instant::now(), Smsc::new(cfg()));
    let a = user("111");
    let answer = s.handle_mo(
        t0,
        UNIX,
        &a,
        &submit(7, "+222", "hello €[]{}", false, None),
        &resolve,
    );
    assert!(
        matches!(answer, Some(RpMessage::Ack(k)) if k.reference == 7 && k.direction == RpDirection::NetworkToMs)
    );
    assert_eq!(s.pending_for("222@ims"), 1);
    assert!(
        matches!(s.poll_event(), Some(Event::Received { sender, destination, .. }) if sender == "tel:+111" && destination == "tel:+222")
    );

    let t = s.poll_transmit(t0, &everyone).expect("due now");
    assert_eq!(
        (t.to.impi.as_str(), t.rp.direction, t.rp.originator),
        ("222@ims", RpDirection::NetworkToMs, Some(cfg().centre))
    );
    let Tpdu::Deliver(d) = t.rp.tpdu().unwrap() else {
        panic!("not a DELIVER")
    };
    assert_eq!(super::party::address_text(&d.originator), "+111");
    assert_eq!(d.user_data.text(d.dcs).as_deref(), Some("hello €[]{}"));
    assert_eq!(d.scts, timestamp_of_unix(UNIX));
    assert!(
        s.poll_transmit(t0, &everyone).is_none(),
        "one in flight per recipient"
    );

    assert!(s
        .handle_mo(t0, UNIX, &user("222"), &ack_from(t.rp.reference), &resolve)
        .is_none());
    assert!(s.is_empty());
    assert_eq!(s.counters.delivered, 1);
}

#[test]
fn undecodable_messages_get_the_clause_9_causes() {
    let (t0, mut s) = (Instant::now(), Smsc::new(cfg()));
    let a = user("111");
    // MTI 7 is reserved; MTI 1 is network-to-MS only: both #97.
    assert_eq!(
        cause_of(s.handle_mo(t0, UNIX, &a, &[0x07, 0x05], &resolve)),
        Some(97)
    );
    assert_eq!(
        cause_of(s.handle_mo(t0, UNIX, &a, &[0x01, 0x05, 0, 0, 1, 0], &resolve)),
        Some(97)
    );
    // RP-DATA cut inside its destination address: #96.
    assert_eq!(
        cause_of(s.handle_mo(t0, UNIX, &a, &[0x00, 0x05, 0x00, 0x05, 0x91], &resolve)),
        Some(96)
    );
    // A TPDU whose TP-UDL overruns: the semantic error of the TPDU.
    let mut bad = submit(9, "+222", "hi", false, None);
    let last = bad.len() - 3; // TP-UDL octet: "hi" packs to 2 octets
    bad[last] = 200;
    assert!(cause_of(s.handle_mo(t0, UNIX, &a, &bad, &resolve)).is_some_and(|c| c == 95 || c == 96));
    // Too short to answer: ignored (TS 24.011 9.2.2).
    assert!(s.handle_mo(t0, UNIX, &a, &[0x00], &resolve).is_none());
    assert!(s.is_empty());
    assert_eq!(
        s.counters.decode_errors, 5,
        "the ignored one is counted too"
    );
}

#[test]
fn unknown_destination_full_store_forced_cause_and_filter() {
    let (t0, mut s) = (Instant::now(), Smsc::new(cfg()));
    let a = user("111");
    assert_eq!(
        cause_of(s.handle_mo(t0, UNIX, &a, &submit(1, "+999", "x", false, None), &resolve)),
        Some(1)
    );
    for mr in 0..4 {
        assert!(matches!(
            s.handle_mo(
                t0,
                UNIX,
                &a,
                &submit(mr, "+222", "x", false, None),
                &resolve
            ),
            Some(RpMessage::Ack(_))
        ));
    }
    assert_eq!(
        cause_of(s.handle_mo(t0, UNIX, &a, &submit(5, "+222", "x", false, None), &resolve)),
        Some(42)
    );
    s.set_config(Config {
        forced_rp_cause: 38,
        max_stored: 10,
        ..cfg()
    });
    assert_eq!(
        cause_of(s.handle_mo(t0, UNIX, &a, &submit(1, "+999", "x", false, None), &resolve)),
        Some(38)
    );
    s.set_config(Config {
        filter_rp_data: FilterAction::Reject,
        ..cfg()
    });
    assert_eq!(
        cause_of(s.handle_mo(t0, UNIX, &a, &submit(1, "+222", "x", false, None), &resolve)),
        Some(21)
    );
    s.set_config(Config {
        filter_rp_data: FilterAction::Ignore,
        ..cfg()
    });
    assert!(s
        .handle_mo(t0, UNIX, &a, &submit(1, "+222", "x", false, None), &resolve)
        .is_none());
    assert_eq!(s.len(), 4);
}

#[test]
fn offline_recipient_gets_the_message_when_it_registers() {
    let (t0, mut s) = (
        Instant::now(),
        Smsc::new(Config {
            retry_delay: None,
            ..cfg()
        }),
    );
    mo_111_to_222(&mut s, t0, "later");
    assert!(s.poll_transmit(t0, &|_| false).is_none());
    assert!(
        s.poll_transmit(t0 + Duration::from_secs(100), &everyone)
            .is_none(),
        "waits for the registration"
    );
    s.handle_registered(t0 + Duration::from_secs(200), "222@ims");
    let t = s
        .poll_transmit(t0 + Duration::from_secs(200), &everyone)
        .expect("due on registration");
    assert_eq!(t.to.impi, "222@ims");
}

#[test]
fn failures_are_retried_after_the_retry_delay_and_tr1m() {
    let (t0, mut s) = (Instant::now(), Smsc::new(cfg()));
    let b = user("222");
    mo_111_to_222(&mut s, t0, "x");
    let t1 = s.poll_transmit(t0, &everyone).unwrap();
    s.handle_mo(t0, UNIX, &b, &error_from(t1.rp.reference, 41), &resolve);
    assert!(s
        .poll_transmit(t0 + Duration::from_secs(29), &everyone)
        .is_none());
    let t2 = s
        .poll_transmit(t0 + Duration::from_secs(30), &everyone)
        .expect("retried");
    assert_ne!(
        t1.rp.reference, t2.rp.reference,
        "a new RP-Message-Reference per attempt"
    );
    // No answer: TR1M makes it a failed attempt, retried after the delay.
    let tr1m = t0 + Duration::from_secs(30) + TR1M;
    assert_eq!(s.poll_timeout(), Some(tr1m));
    s.handle_timeout(tr1m, UNIX + 70);
    let t3 = s
        .poll_transmit(tr1m + Duration::from_secs(30), &everyone)
        .expect("retried after TR1M");
    // A stale RP-ACK (old reference) does not complete it; the right one does.
    s.handle_mo(t0, UNIX, &b, &ack_from(t1.rp.reference), &resolve);
    assert_eq!(s.len(), 1);
    s.handle_mo(t0, UNIX, &b, &ack_from(t3.rp.reference), &resolve);
    assert!(s.is_empty());
}

#[test]
fn memory_full_waits_for_smma() {
    let (t0, mut s) = (Instant::now(), Smsc::new(cfg()));
    let b = user("222");
    mo_111_to_222(&mut s, t0, "x");
    let t = s.poll_transmit(t0, &everyone).unwrap();
    s.handle_mo(t0, UNIX, &b, &error_from(t.rp.reference, 22), &resolve);
    assert!(s
        .poll_transmit(t0 + Duration::from_secs(600), &everyone)
        .is_none());
    let smma = encode(&RpMessage::Smma(RpSmma { reference: 3 }));
    let t9 = t0 + Duration::from_secs(601);
    assert!(
        matches!(s.handle_mo(t9, UNIX, &b, &smma, &resolve), Some(RpMessage::Ack(k)) if k.reference == 3)
    );
    assert!(s.poll_transmit(t9, &everyone).is_some());
}

#[test]
fn status_report_follows_delivery_when_requested() {
    let (t0, mut s) = (Instant::now(), Smsc::new(cfg()));
    s.handle_mo(
        t0,
        UNIX,
        &user("111"),
        &submit(42, "+222", "srr", true, None),
        &resolve,
    );
    let t = s.poll_transmit(t0, &everyone).unwrap();
    let Tpdu::Deliver(d) = t.tpdu else { panic!() };
    assert!(d.status_report_indication);
    s.handle_mo(
        t0,
        UNIX + 5,
        &user("222"),
        &ack_from(t.rp.reference),
        &resolve,
    );
    let r = s
        .poll_transmit(t0, &everyone)
        .expect("report to the originator");
    assert_eq!(r.to.impi, "111@ims");
    let Tpdu::StatusReport(sr) = r.rp.tpdu().unwrap() else {
        panic!("not a STATUS-REPORT")
    };
    assert_eq!((sr.message_reference, sr.status), (42, status::DELIVERED));
    assert_eq!(super::party::address_text(&sr.recipient), "+222");
    assert_eq!(
        (sr.scts, sr.discharge_time),
        (timestamp_of_unix(UNIX), timestamp_of_unix(UNIX + 5))
    );
}

#[test]
fn validity_period_expires_the_message_and_reports_it() {
    let (t0, mut s) = (Instant::now(), Smsc::new(cfg()));
    // TP-VP relative 0: five minutes (TS 23.040 9.2.3.12.1), shorter than sms_expires.
    s.handle_mo(
        t0,
        UNIX,
        &user("111"),
        &submit(3, "+222", "x", true, Some(ValidityPeriod::Relative(0))),
        &resolve,
    );
    assert!(s.poll_transmit(t0, &|_| false).is_none());
    let end = t0 + Duration::from_secs(300);
    assert_eq!(s.poll_timeout(), Some(end));
    s.handle_timeout(end - Duration::from_secs(1), UNIX + 299);
    assert_eq!(s.pending_for("222@ims"), 1);
    s.handle_timeout(end, UNIX + 300);
    assert_eq!(s.pending_for("222@ims"), 0);
    let r = s.poll_transmit(end, &everyone).expect("report");
    let Tpdu::StatusReport(sr) = r.tpdu else {
        panic!()
    };
    assert_eq!(sr.status, status::VALIDITY_EXPIRED);
    // Without TP-VP, sms_expires applies.
    s.handle_mo(
        t0,
        UNIX,
        &user("111"),
        &submit(4, "+222", "x", false, None),
        &resolve,
    );
    assert!(s.stored().any(|m| m.expires_unix == UNIX + 3600));
}

#[test]
fn parts_of_one_recipient_go_in_order_and_others_in_parallel() {
    let (t0, mut s) = (Instant::now(), Smsc::new(cfg()));
    mo_111_to_222(&mut s, t0, "one");
    s.handle_mo(
        t0,
        UNIX,
        &user("111"),
        &submit(2, "+222", "two", false, None),
        &resolve,
    );
    s.handle_mo(
        t0,
        UNIX,
        &user("222"),
        &submit(3, "+111", "three", false, None),
        &resolve,
    );
    let a = s.poll_transmit(t0, &everyone).unwrap();
    let b = s.poll_transmit(t0, &everyone).unwrap();
    // The second message waits behind the first: only TR1M wakes the caller, not its due time.
    assert_eq!(s.poll_timeout(), Some(t0 + TR1M));
    assert_eq!(
        (a.to.impi.as_str(), b.to.impi.as_str()),
        ("222@ims", "111@ims")
    );
    let Tpdu::Deliver(d) = a.tpdu else { panic!() };
    assert!(d.more_messages, "TP-MMS: another message waits");
    assert!(s.poll_transmit(t0, &everyone).is_none());
    s.handle_mo(t0, UNIX, &user("222"), &ack_from(a.rp.reference), &resolve);
    let c = s.poll_transmit(t0, &everyone).unwrap();
    let Tpdu::Deliver(d) = c.tpdu else { panic!() };
    assert_eq!(d.user_data.text(d.dcs).as_deref(), Some("two"));
}

#[test]
fn pending_messages_survive_save_and_restore() {
    let (t0, mut s) = (Instant::now(), Smsc::new(cfg()));
    s.handle_mo(
        t0,
        UNIX,
        &user("111"),
        &submit(5, "+222", "kept", true, None),
        &resolve,
    );
    let saved = s.save();
    let json = serde_json::to_string(&saved).unwrap();
    let back: Vec<SavedMessage> = serde_json::from_str(&json).unwrap();
    let mut s2 = Smsc::new(cfg());
    let t1 = t0 + Duration::from_secs(10);
    assert_eq!(s2.restore(t1, UNIX + 100, back.clone()), 1);
    assert_eq!(s2.restore(t1, UNIX + 4000, back), 0, "expired while down");
    let m = s2.stored().next().unwrap();
    assert_eq!(m.expires_unix, UNIX + 3600);
    assert_eq!(m.expires_at, t1 + Duration::from_secs(3500));
    let t = s2.poll_transmit(t1, &everyone).unwrap();
    let Tpdu::Deliver(d) = t.tpdu else { panic!() };
    assert_eq!(d.user_data.text(d.dcs).as_deref(), Some("kept"));
    s2.handle_mo(t1, UNIX, &user("222"), &ack_from(t.rp.reference), &resolve);
    let r = s2
        .poll_transmit(t1, &everyone)
        .expect("the SRR survived too");
    assert_eq!(r.to.impi, "111@ims");
}

#[test]
fn flush_and_delay() {
    let (t0, mut s) = (Instant::now(), Smsc::new(cfg()));
    let to = Recipient {
        user: user("222"),
        delay: Duration::from_secs(2),
    };
    let (ud, _) = UserData::from_text("api", None).unwrap();
    let d = crate::sms::Deliver {
        more_messages: false,
        loop_prevention: false,
        status_report_indication: false,
        reply_path: false,
        originator: TpAddress::new(TypeOfAddress::UNKNOWN, "123").unwrap(),
        pid: 0,
        dcs: Dcs::general(Alphabet::Gsm7, None),
        scts: timestamp_of_unix(UNIX),
        user_data: ud,
    };
    s.submit_deliver(t0, UNIX, None, to, d, Duration::from_secs(60))
        .unwrap();
    assert!(
        s.poll_transmit(t0 + Duration::from_secs(1), &everyone)
            .is_none(),
        "sms_delay"
    );
    assert!(s
        .poll_transmit(t0 + Duration::from_secs(2), &everyone)
        .is_some());
    assert_eq!(s.remove_for("222@ims"), 1);
    assert!(s.is_empty());
}

#[test]
fn hook_only_reports_without_storing_while_listened_to() {
    let (t0, mut s) = (
        Instant::now(),
        Smsc::new(Config {
            hook_only: true,
            ..cfg()
        }),
    );
    mo_111_to_222(&mut s, t0, "stored");
    assert_eq!(s.len(), 1, "nobody listens: stored");
    s.set_hook_listeners(true);
    let answer = s.handle_mo(
        t0,
        UNIX,
        &user("111"),
        &submit(2, "+222", "hooked", false, None),
        &resolve,
    );
    assert!(matches!(answer, Some(RpMessage::Ack(_))));
    assert_eq!(s.len(), 1, "listened to: only reported");
    let texts: Vec<String> = std::iter::from_fn(|| s.poll_event())
        .filter_map(|e| match e {
            Event::Received { tpdu, .. } => match *tpdu {
                Tpdu::Deliver(d) => d.user_data.text(d.dcs),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["stored", "hooked"]);
}

#[test]
fn reject_duplicates_refuses_a_resubmission_still_held() {
    let (t0, mut s) = (Instant::now(), Smsc::new(cfg()));
    let a = user("111");
    let rd = |mr: u8| {
        let mut raw = submit(mr, "+222", "dup", false, None);
        // RP header (2) + originator LV (1) + destination LV (1 + 3: TOA and "3310") +
        // RP-User-Data length (1), then the TPDU's first octet: TP-RD is bit 2 (9.2.2.2).
        assert_eq!(raw[8] & 0x03, 0x01, "TP-MTI of SMS-SUBMIT at offset 8");
        raw[8] |= 0x04;
        raw
    };
    assert!(matches!(
        s.handle_mo(t0, UNIX, &a, &rd(5), &resolve),
        Some(RpMessage::Ack(_))
    ));
    assert_eq!(
        cause_of(s.handle_mo(t0, UNIX, &a, &rd(5), &resolve)),
        Some(21)
    );
    assert!(
        matches!(
            s.handle_mo(t0, UNIX, &a, &rd(6), &resolve),
            Some(RpMessage::Ack(_))
        ),
        "another TP-MR"
    );
    assert!(
        matches!(
            s.handle_mo(t0, UNIX, &user("222"), &rd(5), &resolve),
            Some(RpMessage::Ack(_))
        ),
        "another originator"
    );
    assert!(
        matches!(
            s.handle_mo(
                t0,
                UNIX,
                &a,
                &submit(5, "+222", "dup", false, None),
                &resolve
            ),
            Some(RpMessage::Ack(_))
        ),
        "without TP-RD"
    );
}
