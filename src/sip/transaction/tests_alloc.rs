//! Proof that the transaction layer does not allocate in steady state: after warm-up, full
//! cycles of server and client transactions, retransmissions and timers run under
//! `assert_no_alloc`, whose allocator (installed for test builds here) counts this thread's
//! allocator calls. Debug builds only (the crate disables its checks in release builds).
//!
//! Note for integration: this installs the test binary's `#[global_allocator]`; if another
//! module of the crate installs one in test builds, keep only one (AllocDisabler).

use std::time::{Duration, Instant};

use assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count, AllocDisabler};

use super::testmsg::TestMsg;
use super::*;

#[global_allocator]
static GLOBAL: AllocDisabler = AllocDisabler;

const INVITE: &[u8] = b"INVITE sip:bob@biloxi.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n\
To: Bob <sip:bob@biloxi.com>\r\nFrom: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.com\r\nCSeq: 314159 INVITE\r\nContent-Length: 0\r\n\r\n";
const BUSY: &[u8] = b"SIP/2.0 486 Busy Here\r\n\
Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n\
To: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\nFrom: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.com\r\nCSeq: 314159 INVITE\r\nContent-Length: 0\r\n\r\n";
const ACK: &[u8] = b"ACK sip:bob@biloxi.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n\
To: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\nFrom: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.com\r\nCSeq: 314159 ACK\r\nContent-Length: 0\r\n\r\n";

/// One server INVITE (100, retransmission, 486, G retransmissions, ACK, Timer I) and one
/// client INVITE (A retransmissions, 486, ACK, Timer D, then a Timer B timeout), on the clock
/// `now`; returns the transmit count and the time after the cycle.
fn cycle(l: &mut TransactionLayer<u8>, mut now: Instant) -> (usize, Instant) {
    let mut sent = 0;
    let mut drain = |l: &mut TransactionLayer<u8>| {
        while let Some(t) = l.poll_transmit() {
            sent += t.bytes.len().min(1);
        }
        while l.poll_event().is_some() {}
    };
    let inv = TestMsg::parse(INVITE);
    let Ok(Inbound::New(id)) = l.handle_request(now, &inv, 1, false) else {
        panic!("new")
    };
    assert_eq!(l.handle_request(now, &inv, 1, false), Ok(Inbound::Absorbed));
    l.respond(now, id, &TestMsg::parse(BUSY), BUSY).unwrap();
    l.send_request(now, &inv, INVITE, 2, false).unwrap();
    drain(l);
    for _ in 0..3 {
        now = l.poll_timeout().unwrap();
        l.handle_timeout(now);
        drain(l);
    }
    l.handle_response(now, &TestMsg::parse(BUSY));
    l.handle_request(now, &TestMsg::parse(ACK), 1, false)
        .unwrap();
    drain(l);
    // Timers I and D end both; then a lone client INVITE runs into Timer B.
    now += Duration::from_secs(40);
    l.handle_timeout(now);
    l.send_request(now, &inv, INVITE, 2, false).unwrap();
    while let Some(t) = l.poll_timeout() {
        now = t;
        l.handle_timeout(now);
        drain(l);
    }
    (sent, now)
}

#[test]
fn steady_state_does_not_allocate() {
    let mut l: TransactionLayer<u8> = TransactionLayer::new(Config::with_capacity(64));
    let (warm_sent, now) = cycle(&mut l, Instant::now());
    assert!(l.is_empty());
    reset_violation_count();
    let sent = assert_no_alloc(|| {
        let (mut now, mut sent) = (now, 0);
        for _ in 0..50 {
            let (s, t) = cycle(&mut l, now);
            sent += s;
            now = t;
        }
        sent
    });
    assert_eq!(violation_count(), 0, "allocator calls in steady state");
    assert_eq!(sent, warm_sent * 50);
    assert!(warm_sent >= 10);
    assert!(l.is_empty());
    assert_eq!(l.free_buffers(), (64, 1));
}

/// REGISTER `n` (own branch) and its 200, over UDP.
fn register(n: usize) -> (Vec<u8>, Vec<u8>) {
    let via = format!("Via: SIP/2.0/UDP ue.example.com;branch=z9hG4bKreg{n}");
    let common = format!(
        "{via}\r\nTo: <sip:u{n}@ims.lab>\r\nFrom: <sip:u{n}@ims.lab>;tag={n}\r\n\
         Call-ID: reg{n}@ue\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
    );
    (
        format!("REGISTER sip:ims.lab SIP/2.0\r\n{common}").into_bytes(),
        format!("SIP/2.0 200 OK\r\n{common}").into_bytes(),
    )
}

#[test]
fn reclamation_does_not_allocate() {
    // A table of 4 fed 8 distinct REGISTERs in turn: from the fifth on, each new one
    // reclaims the oldest Completed transaction (Timer J has not fired).
    let msgs: Vec<(Vec<u8>, Vec<u8>)> = (0..8).map(register).collect();
    let mut l: TransactionLayer<u8> = TransactionLayer::new(Config::with_capacity(4));
    let now = Instant::now();
    let round = |l: &mut TransactionLayer<u8>, r: usize| {
        let (req, ok) = &msgs[r % msgs.len()];
        let Ok(Inbound::New(id)) = l.handle_request(now, &TestMsg::parse(req), 1, false) else {
            panic!("new")
        };
        l.respond(now, id, &TestMsg::parse(ok), ok).unwrap();
        while l.poll_transmit().is_some() {}
        while l.poll_event().is_some() {}
    };
    for r in 0..8 {
        round(&mut l, r);
    }
    reset_violation_count();
    assert_no_alloc(|| {
        for r in 8..88 {
            round(&mut l, r);
        }
    });
    assert_eq!(violation_count(), 0, "allocator calls while reclaiming");
    assert_eq!(l.reclaimed(), 84);
    assert_eq!(l.len(), 4);
}
