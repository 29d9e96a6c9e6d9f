//! The media of a load call: the caller sends PCMU RTP (RFC 3550) every 20 ms on an
//! open-loop grid and stamps each packet's intended send time in its payload; whoever
//! answers echoes it (ringcore's echo IMPU, or the callee UE, which reflects every packet
//! it gets). Each echo gives one round-trip sample; the stream counts loss and keeps the
//! RFC 3550 6.4.1 interarrival jitter of the round trip (A.8 estimator).

use std::time::{Duration, Instant};

use crate::media::RtpPacket;

/// RTP fixed header length (RFC 3550 5.1, no CSRC).
pub const HEADER_LEN: usize = 12;

/// Packetisation interval (20 ms, TS 26.114 for speech).
pub const PTIME: Duration = Duration::from_millis(20);
/// PCMU payload of 20 ms at 8 kHz.
pub const PAYLOAD_LEN: usize = 160;
/// Size of one packet.
pub const PACKET_LEN: usize = HEADER_LEN + PAYLOAD_LEN;
/// Packets sent in one catch-up when the worker was late (the rest are skipped).
const MAX_CATCH_UP: u32 = 5;

/// True when a datagram is RTP or RTCP rather than SIP (version 2 in the first two bits;
/// SIP starts with a letter).
pub fn is_rtp(datagram: &[u8]) -> bool {
    datagram.first().is_some_and(|b| b & 0xc0 == 0x80)
}

/// The sending and measuring side of one call's media.
#[derive(Debug, Clone)]
pub struct RtpStream {
    ssrc: u32,
    epoch: Instant,
    start: Instant,
    next_index: u32,
    stop: Instant,
    /// Packets sent.
    pub sent: u64,
    /// Echoes received.
    pub received: u64,
    jitter: f64,
    last_transit: Option<i64>,
}

impl RtpStream {
    /// A stream sending from `start` until `stop`; send times are carried relative to
    /// `epoch`.
    pub fn new(ssrc: u32, epoch: Instant, start: Instant, stop: Instant) -> RtpStream {
        RtpStream { ssrc, epoch, start, next_index: 0, stop, sent: 0, received: 0, jitter: 0.0, last_transit: None }
    }

    /// Intended send time of the next packet, while the stream runs.
    pub fn next_send(&self) -> Option<Instant> {
        let t = self.start + PTIME * self.next_index;
        (t < self.stop).then_some(t)
    }

    /// Writes the next due packet into `buf` when one is due at `now`; returns its length.
    /// Packets more than [`MAX_CATCH_UP`] behind are skipped (counted as neither sent nor
    /// lost).
    pub fn poll_packet(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        let due = self.next_send().filter(|&t| t <= now)?;
        let behind = (now.saturating_duration_since(due).as_micros() / PTIME.as_micros()) as u32;
        if behind > MAX_CATCH_UP {
            self.next_index += behind - MAX_CATCH_UP;
        }
        let intended = self.start + PTIME * self.next_index;
        let seq = self.next_index as u16;
        self.next_index += 1;
        let buf = buf.get_mut(..PACKET_LEN)?;
        buf.fill(0xd5);
        buf[0] = 0x80;
        buf[1] = 0; // PT 0 PCMU (RFC 3551)
        buf[2..4].copy_from_slice(&seq.to_be_bytes());
        buf[4..8].copy_from_slice(&(u32::from(seq).wrapping_mul(160)).to_be_bytes());
        buf[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        let stamp = intended.saturating_duration_since(self.epoch).as_nanos() as u64;
        buf[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&stamp.to_be_bytes());
        self.sent += 1;
        Some(PACKET_LEN)
    }

    /// An echo arrived at `now`: returns the round trip from the intended send time, or
    /// `None` for packets that are not ours.
    pub fn on_echo(&mut self, now: Instant, packet: &[u8]) -> Option<Duration> {
        let p = RtpPacket::new_checked(packet).ok()?;
        if p.ssrc() != self.ssrc {
            return None;
        }
        let stamp = u64::from_be_bytes(p.payload().get(..8)?.try_into().ok()?);
        let sent = self.epoch + Duration::from_nanos(stamp);
        let rtt = now.checked_duration_since(sent)?;
        self.received += 1;
        // RFC 3550 6.4.1: J += (|D| - J) / 16, D the change in transit time.
        let transit = rtt.as_micros() as i64;
        if let Some(prev) = self.last_transit {
            let d = (transit - prev).unsigned_abs() as f64;
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.last_transit = Some(transit);
        Some(rtt)
    }

    /// The interarrival jitter of the round trip, in microseconds.
    pub fn jitter_us(&self) -> u64 {
        self.jitter as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_follow_the_20ms_grid_and_echoes_give_round_trips() {
        let t0 = Instant::now();
        let mut s = RtpStream::new(0xabcd, t0, t0, t0 + Duration::from_millis(100));
        let mut buf = [0u8; 256];
        assert_eq!(s.next_send(), Some(t0));
        let n = s.poll_packet(t0, &mut buf).unwrap_or(0);
        assert_eq!(n, PACKET_LEN);
        assert!(is_rtp(&buf) && !is_rtp(b"SIP/2.0 200 OK"));
        assert_eq!(s.poll_packet(t0, &mut buf), None, "next one is 20 ms later");
        assert_eq!(s.next_send(), Some(t0 + PTIME));
        let echo = buf;
        assert_eq!(s.on_echo(t0 + Duration::from_millis(3), &echo[..n]), Some(Duration::from_millis(3)));
        let mut foreign = echo;
        foreign[8] ^= 1;
        assert_eq!(s.on_echo(t0, &foreign[..n]), None, "another SSRC is ignored");
        // Late by 100 ms: at most MAX_CATCH_UP packets, and the stream ends at stop.
        let mut late = 0;
        while s.poll_packet(t0 + Duration::from_millis(99), &mut buf).is_some() {
            late += 1;
        }
        assert_eq!(late, 4, "packets at 20, 40, 60, 80 ms");
        assert_eq!(s.next_send(), None);
        assert_eq!((s.sent, s.received), (5, 1));
    }
}
