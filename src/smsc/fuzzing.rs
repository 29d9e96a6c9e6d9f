//! The SMSC's MS-to-network entry point driven by arbitrary bytes (for the `smsc_mo` fuzz
//! target and its unit test): the input is split into messages from two users; whatever the
//! SMSC answers or sends must encode and decode again, and the store stays within its bound.

use super::{Config, Recipient, Smsc, User, TR1M};
use crate::config::typed::FilterAction;
use crate::sms::{RpAddress, RpMessage, TpAddress};
use std::time::{Duration, Instant};

const BOUND: usize = 8;

fn user(n: u8) -> User {
    User {
        impi: format!("u{n}"),
        impu: format!("tel:+{n}"),
    }
}

fn check_encodes(m: &RpMessage) {
    let mut buf = [0u8; 512];
    let n = m.emit(&mut buf).expect("an SMSC message encodes");
    let back = RpMessage::parse(&buf[..n]).expect("an SMSC message decodes");
    assert_eq!(&back, m, "round trip");
}

/// Feeds `data` to an SMSC: each chunk (one length octet, then the bytes) is an MS-to-network
/// message from user 1 or 2 (alternating); the clock advances a second per chunk. Returns the
/// SMSC's counters.
pub fn drive(data: &[u8]) -> super::Counters {
    let cfg = Config {
        centre: RpAddress::international("+1").expect("one digit"),
        expires: Duration::from_secs(30),
        retry_delay: Some(Duration::from_secs(5)),
        max_stored: BOUND,
        forced_rp_cause: 0,
        filter_rp_data: FilterAction::Treat,
        filter_rp_ack: FilterAction::Treat,
        ack_timeout: TR1M,
        hook_only: false,
    };
    let mut s = Smsc::new(cfg);
    let t0 = Instant::now();
    let resolve = |da: &TpAddress| {
        let d: String = da.digits().collect();
        matches!(d.as_str(), "1" | "2").then(|| Recipient {
            user: user(if d == "1" { 1 } else { 2 }),
            delay: Duration::ZERO,
        })
    };
    let mut rest = data;
    let mut step = 0u64;
    while let Some((&len, tail)) = rest.split_first() {
        let n = usize::from(len).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        rest = next;
        step += 1;
        let now = t0 + Duration::from_secs(step);
        let from = user(1 + (step % 2) as u8);
        if let Some(answer) = s.handle_mo(now, step, &from, chunk, &resolve) {
            check_encodes(&answer);
        }
        s.handle_timeout(now, step);
        while let Some(t) = s.poll_transmit(now, &|_| true) {
            check_encodes(&RpMessage::Data(t.rp));
        }
        while s.poll_event().is_some() {}
        assert!(s.len() <= BOUND, "the store keeps its bound");
    }
    s.counters
}

#[cfg(test)]
mod tests {
    #[test]
    fn arbitrary_and_valid_inputs_run_clean() {
        let _ = super::drive(&[]);
        let _ = super::drive(&[3, 0x07, 0x01, 0x02, 2, 0x00, 0x01, 0xff, 0xff, 0xff]);
        // From user 2: an RP-DATA(SUBMIT "hi" to +2); an empty message from user 1; then from
        // user 2 the RP-ACK for reference 1 (its delivery); then SUBMITs until the store is full.
        let submit = [
            0x00, 0x05, 0x00, 0x02, 0x91, 0x11, 0x0a, 0x01, 0x05, 0x01, 0x91, 0xf2, 0x00, 0x00,
            0x02, 0xe8, 0x34,
        ];
        let mut input = vec![submit.len() as u8];
        input.extend_from_slice(&submit);
        input.extend_from_slice(&[0, 2, 0x02, 0x01]);
        for _ in 0..20 {
            input.extend_from_slice(&[submit.len() as u8]);
            input.extend_from_slice(&submit);
        }
        let c = super::drive(&input);
        assert_eq!(
            (c.delivered, c.submitted),
            (1, 1 + super::BOUND as u64),
            "{c:?}"
        );
        assert!(c.refused >= 1, "the full store refuses: {c:?}");
    }
}
