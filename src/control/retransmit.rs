//! Retransmissions the control thread makes as a UAS core, outside any transaction: the
//! schedule (first after T1, doubling, optionally capped, until a give-up instant) shared
//! by reliable provisional responses (RFC 3262 3) and 2xx responses to INVITE awaiting
//! their ACK (RFC 3261 13.3.1.4). Sans-IO: the owner asks [`Backoff::poll_timeout`] and
//! feeds [`Backoff::handle_timeout`] with `now`.

use super::dialogs::Reason;
use crate::sip::Message;
use std::time::{Duration, Instant};

/// What a retransmission schedule asks for at a given instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// Send the message again.
    Retransmit,
    /// The give-up instant passed without the acknowledgement.
    GiveUp,
}

/// One retransmission schedule.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    next: Instant,
    interval: Duration,
    cap: Option<Duration>,
    give_up: Instant,
}

impl Backoff {
    /// First retransmission at `now + t1`, each interval twice the previous one (at most
    /// `cap`), giving up at `now + 64*t1` (RFC 3261 13.3.1.4, RFC 3262 3).
    pub fn new(now: Instant, t1: Duration, cap: Option<Duration>) -> Backoff {
        Backoff { next: now + t1, interval: t1, cap, give_up: now + t1 * 64 }
    }

    /// When [`Backoff::handle_timeout`] has something to do.
    pub fn poll_timeout(&self) -> Instant {
        self.next.min(self.give_up)
    }

    /// What is due at `now`; a retransmission schedules the next one.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Due> {
        if now >= self.give_up {
            return Some(Due::GiveUp);
        }
        if now < self.next {
            return None;
        }
        let doubled = self.interval.saturating_mul(2);
        self.interval = self.cap.map_or(doubled, |c| doubled.min(c));
        self.next = now + self.interval;
        Some(Due::Retransmit)
    }
}

/// A 2xx response to an INVITE the UAS core sent, retransmitted until its ACK arrives
/// (RFC 3261 13.3.1.4: from T1, doubling up to T2, even over a reliable transport since
/// hops further on may be UDP; after 64*T1 the session is to be ended with a BYE).
#[derive(Clone, Debug)]
pub struct AwaitingAck {
    /// The CSeq number of the INVITE (and of its ACK).
    cseq: u32,
    /// The response, sent again as is.
    msg: Vec<u8>,
    /// Its schedule.
    backoff: Backoff,
}

/// What a 2xx awaiting its ACK asks of its owner at a given instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AckDue<'a> {
    /// Send the 2xx again, as is, outside any transaction (RFC 3261 13.3.1.4).
    Resend(&'a [u8]),
    /// 64*T1 passed without the ACK: the session is to be ended with a BYE (RFC 3261
    /// 13.3.1.4) carrying this Reason header line (RFC 3326 2).
    GiveUp((&'static str, String)),
}

impl AwaitingAck {
    /// The 2xx `msg` to the INVITE with CSeq number `cseq` was sent at `now`.
    pub fn new(now: Instant, t1: Duration, t2: Duration, cseq: u32, msg: Vec<u8>) -> AwaitingAck {
        AwaitingAck { cseq, msg, backoff: Backoff::new(now, t1, Some(t2)) }
    }

    /// True when `ack` acknowledges this 2xx: RFC 3261 13.2.2.4, the ACK carries the
    /// CSeq number of the INVITE it acknowledges (a late ACK of an earlier INVITE of the
    /// dialog does not stop the 2xx of a re-INVITE).
    pub fn acked_by(&self, ack: &Message<'_>) -> bool {
        ack.cseq().is_ok_and(|c| c.seq == self.cseq)
    }

    /// When [`AwaitingAck::handle_timeout`] has something to do.
    pub fn poll_timeout(&self) -> Instant {
        self.backoff.poll_timeout()
    }

    /// What is due at `now`: the 2xx again, or the give-up with the Reason of the BYE.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<AckDue<'_>> {
        match self.backoff.handle_timeout(now)? {
            Due::Retransmit => Some(AckDue::Resend(&self.msg)),
            Due::GiveUp => Some(AckDue::GiveUp(no_ack_reason())),
        }
    }
}

/// The Reason of the BYE ending a session whose 2xx got no ACK: RFC 3326 2 with the SIP
/// cause 408 (RFC 3261 21.4.9 Request Timeout).
fn no_ack_reason() -> (&'static str, String) {
    Reason { protocol: "SIP".to_owned(), cause: Some(408), text: Some("no ACK for the 2xx".to_owned()) }.header()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: Duration = Duration::from_millis(500);
    const T2: Duration = Duration::from_secs(4);

    /// The instants of every retransmission until the give-up, driven at each deadline.
    fn run(mut b: Backoff, start: Instant) -> (Vec<u64>, u64) {
        let mut sent = Vec::new();
        for _ in 0..100 {
            let at = b.poll_timeout();
            match b.handle_timeout(at) {
                Some(Due::Retransmit) => sent.push(at.duration_since(start).as_millis() as u64),
                Some(Due::GiveUp) => return (sent, at.duration_since(start).as_millis() as u64),
                None => panic!("nothing due at its own deadline"),
            }
        }
        panic!("never gave up");
    }

    #[test]
    fn rfc3261_13_3_1_4_doubles_up_to_t2_and_gives_up_at_64_t1() {
        let t0 = Instant::now();
        let (sent, gave_up) = run(AwaitingAck::new(t0, T1, T2, 1, Vec::new()).backoff, t0);
        // 0.5, 1.5, 3.5, 7.5 (interval 4 s = T2 from here on), 11.5, ... 31.5 s.
        assert_eq!(sent[..5], [500, 1500, 3500, 7500, 11_500]);
        assert!(sent.windows(2).skip(3).all(|w| w[1] - w[0] == 4000), "{sent:?}");
        assert_eq!(gave_up, 32_000);
        assert_eq!(*sent.last().unwrap(), 31_500);
    }

    #[test]
    fn rfc3262_3_doubles_without_a_cap() {
        let t0 = Instant::now();
        let (sent, gave_up) = run(Backoff::new(t0, T1, None), t0);
        assert_eq!(sent, [500, 1500, 3500, 7500, 15_500, 31_500]);
        assert_eq!(gave_up, 32_000);
    }

    #[test]
    fn nothing_is_due_before_the_deadline() {
        let t0 = Instant::now();
        let mut b = Backoff::new(t0, T1, Some(T2));
        assert_eq!(b.handle_timeout(t0 + T1 - Duration::from_millis(1)), None);
        assert_eq!(b.handle_timeout(t0 + T1), Some(Due::Retransmit));
        assert_eq!(b.poll_timeout(), t0 + T1 * 3);
    }

    #[test]
    fn rfc3261_13_3_1_4_the_2xx_is_resent_as_is_then_given_up_with_reason_408() {
        let t0 = Instant::now();
        let mut u = AwaitingAck::new(t0, T1, T2, 1, b"SIP/2.0 200 OK\r\n\r\n".to_vec());
        assert_eq!(u.handle_timeout(t0), None);
        assert_eq!(u.poll_timeout(), t0 + T1);
        assert_eq!(u.handle_timeout(t0 + T1), Some(AckDue::Resend(b"SIP/2.0 200 OK\r\n\r\n")));
        let header = ("Reason", "SIP;cause=408;text=\"no ACK for the 2xx\"".to_owned());
        assert_eq!(u.handle_timeout(t0 + T1 * 64), Some(AckDue::GiveUp(header)));
    }

    #[test]
    fn rfc3261_13_2_2_4_only_the_ack_with_the_invite_cseq_acknowledges() {
        let ack = |seq: u32| {
            format!(
                "ACK sip:b@ims SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa{seq}\r\nMax-Forwards: 70\r\n\
                 From: <sip:a@ims>;tag=1\r\nTo: <sip:b@ims>;tag=2\r\nCall-ID: c1\r\nCSeq: {seq} ACK\r\nContent-Length: 0\r\n\r\n"
            )
        };
        let u = AwaitingAck::new(Instant::now(), T1, T2, 2, Vec::new());
        let (old, this) = (ack(1), ack(2));
        assert!(!u.acked_by(&Message::parse(old.as_bytes()).expect("test ACK parses")));
        assert!(u.acked_by(&Message::parse(this.as_bytes()).expect("test ACK parses")));
    }
}
