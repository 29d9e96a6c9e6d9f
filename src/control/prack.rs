//! Reliable provisional responses (RFC 3262): the retransmission of an 18x
//! ringcore sends itself (echo) until the PRACK that acknowledges it, the
//! RAck rewriting when a PRACK crosses the B2BUA, and the option checks.

use super::retransmit::{Backoff, Due};
use crate::sip::{HeaderName, Message, Method};
use std::time::{Duration, Instant};

/// True when the request allows a reliable 18x: `100rel` in Supported or Require.
pub fn peer_supports_100rel(msg: &Message<'_>) -> bool {
    super::session_timer::supports(msg, b"100rel")
}

/// True when the request insists on reliable 18x (`Require: 100rel`).
pub fn peer_requires_100rel(msg: &Message<'_>) -> bool {
    msg.has_token(HeaderName::Require, b"100rel")
}

/// RFC 3262 7.2: the RAck of a PRACK relayed to the other leg names that
/// leg's INVITE CSeq; the RSeq is unchanged since reliable responses are
/// relayed with their RSeq.
pub fn mapped_rack(msg: &Message<'_>, invite_cseq: u32) -> Option<String> {
    let rack = msg.rack().ok().flatten()?;
    Some(format!("{} {invite_cseq} INVITE", rack.rseq))
}

/// One reliable provisional response ringcore sent and retransmits.
#[derive(Clone, Debug)]
pub struct Reliable {
    /// Its RSeq.
    pub rseq: u32,
    /// The INVITE's CSeq number (RAck must name it).
    pub cseq: u32,
    /// The response, to retransmit as is.
    pub msg: Vec<u8>,
    backoff: Backoff,
}

/// What the retransmission timer asks for: [`Due::Retransmit`] the response, or
/// [`Due::GiveUp`] (RFC 3262 3: no PRACK within 64*T1; the INVITE is to be rejected
/// with a 5xx).
pub type RelTimer = Due;

impl Reliable {
    /// RFC 3262 3: retransmissions start after T1 and double each time;
    /// the UAS gives up after 64*T1.
    pub fn new(now: Instant, t1: Duration, rseq: u32, cseq: u32, msg: Vec<u8>) -> Self {
        Reliable { rseq, cseq, msg, backoff: Backoff::new(now, t1, None) }
    }

    /// True when `prack` acknowledges this response (RFC 3262 3: RAck
    /// matches RSeq, CSeq number and method of the response).
    pub fn acked_by(&self, prack: &Message<'_>) -> bool {
        let Some(rack) = prack.rack().ok().flatten() else { return false };
        rack.rseq == self.rseq && rack.cseq.seq == self.cseq && matches!(rack.cseq.method, Method::Invite)
    }

    /// When [`Reliable::handle_timeout`] has something to do.
    pub fn poll_timeout(&self) -> Instant {
        self.backoff.poll_timeout()
    }

    /// What is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<RelTimer> {
        self.backoff.handle_timeout(now)
    }
}

/// RFC 3262 3: the first RSeq is chosen between 1 and 2^31 - 1.
pub fn first_rseq(seed: u64) -> u32 {
    ((seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 33) as u32 % 0x7fff_fff0) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prack(rack: &str) -> Vec<u8> {
        format!(
            "PRACK sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\n\
             Call-ID: c\r\nCSeq: 2 PRACK\r\nRAck: {rack}\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn retransmits_doubling_from_t1_until_64_t1() {
        let t0 = Instant::now();
        let t1 = Duration::from_millis(500);
        let mut r = Reliable::new(t0, t1, 7, 1, b"SIP/2.0 180 Ringing\r\n\r\n".to_vec());
        let mut at = Vec::new();
        let now = loop {
            let now = r.poll_timeout();
            match r.handle_timeout(now) {
                Some(RelTimer::Retransmit) => at.push(now.duration_since(t0).as_millis()),
                Some(RelTimer::GiveUp) => break now,
                None => panic!("poll_timeout named a time with nothing due"),
            }
        };
        assert_eq!(at, vec![500, 1500, 3500, 7500, 15500, 31500]);
        assert_eq!(now.duration_since(t0), t1 * 64);
        assert_eq!(r.handle_timeout(t0), None, "nothing due before the next retransmission");
    }

    #[test]
    fn prack_must_match_rseq_cseq_and_method() {
        let r = Reliable::new(Instant::now(), Duration::from_millis(500), 7, 1, Vec::new());
        let ok = prack("7 1 INVITE");
        assert!(r.acked_by(&Message::parse(&ok).expect("test PRACK parses")));
        for bad in ["8 1 INVITE", "7 2 INVITE", "7 1 UPDATE"] {
            let m = prack(bad);
            assert!(!r.acked_by(&Message::parse(&m).expect("test PRACK parses")), "{bad}");
        }
    }

    #[test]
    fn rack_is_mapped_to_the_other_legs_invite() {
        let m = prack("776656 17 INVITE");
        assert_eq!(mapped_rack(&Message::parse(&m).expect("parses"), 1).as_deref(), Some("776656 1 INVITE"));
    }

    #[test]
    fn first_rseq_is_in_range() {
        for s in [0, 1, u64::MAX, 12345] {
            let r = first_rseq(s);
            assert!((1..=0x7fff_ffff).contains(&r), "{r}");
        }
    }
}
