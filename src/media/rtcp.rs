//! RTCP (RFC 3550 6): a checked view over one packet ([`RtcpPacket`]: SR, RR, SDES, BYE,
//! APP, others kept opaque) and over a compound packet ([`RtcpCompound`]) with the
//! validity checks of RFC 3550 A.2 (or the relaxed rules of RFC 5506 reduced-size RTCP).

use super::rtp::{be16, be32};

/// Why a datagram is not valid RTCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpError {
    /// Shorter than a header or than its length field says.
    Truncated,
    /// Version other than 2.
    BadVersion,
    /// Length field or per-type content inconsistent (report blocks, SDES chunks, ...).
    BadLength,
    /// Padding bit on a packet other than the last, or a bad padding count.
    BadPadding,
    /// RFC 3550 A.2: a compound packet must start with SR or RR.
    BadFirstPacket,
}

/// RTCP packet types (RFC 3550 12.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpType {
    /// 200 sender report.
    Sr,
    /// 201 receiver report.
    Rr,
    /// 202 source description.
    Sdes,
    /// 203 goodbye.
    Bye,
    /// 204 application-defined.
    App,
    /// Another type (RTPFB 205, PSFB 206, XR 207, ...).
    Other(u8),
}

impl RtcpType {
    fn from_u8(pt: u8) -> RtcpType {
        match pt {
            200 => RtcpType::Sr,
            201 => RtcpType::Rr,
            202 => RtcpType::Sdes,
            203 => RtcpType::Bye,
            204 => RtcpType::App,
            other => RtcpType::Other(other),
        }
    }
}

/// One report block of an SR or RR (RFC 3550 6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    /// SSRC of the reported source.
    pub ssrc: u32,
    /// Fraction lost (fixed point, /256).
    pub fraction_lost: u8,
    /// Cumulative number of packets lost (24-bit signed).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub highest_seq: u32,
    /// Interarrival jitter.
    pub jitter: u32,
    /// Last SR timestamp.
    pub lsr: u32,
    /// Delay since last SR.
    pub dlsr: u32,
}

const REPORT_LEN: usize = 24;

/// A checked view over one RTCP packet (exactly its `(length + 1) * 4` bytes).
#[derive(Debug, Clone, Copy)]
pub struct RtcpPacket<'a> {
    bytes: &'a [u8],
    body_end: usize,
}

impl<'a> RtcpPacket<'a> {
    /// Checks the first packet of `buf`; returns it and the bytes after it.
    pub fn new_checked(buf: &'a [u8]) -> Result<(RtcpPacket<'a>, &'a [u8]), RtcpError> {
        let first = *buf.first().ok_or(RtcpError::Truncated)?;
        if first >> 6 != 2 {
            return Err(RtcpError::BadVersion);
        }
        if buf.len() < 4 {
            return Err(RtcpError::Truncated);
        }
        let len = (usize::from(be16(buf, 2)) + 1) * 4;
        let bytes = buf.get(..len).ok_or(RtcpError::Truncated)?;
        let rest = buf.get(len..).unwrap_or_default();
        let mut body_end = len;
        if first & 0x20 != 0 {
            let pad = usize::from(*bytes.last().ok_or(RtcpError::Truncated)?);
            if pad == 0 || pad > len - 4 {
                return Err(RtcpError::BadPadding);
            }
            body_end -= pad;
        }
        let p = RtcpPacket { bytes, body_end };
        p.check_content()?;
        Ok((p, rest))
    }

    fn body(&self) -> &'a [u8] {
        self.bytes.get(..self.body_end).unwrap_or_default()
    }

    fn check_content(&self) -> Result<(), RtcpError> {
        let n = usize::from(self.count());
        let len = self.body_end;
        let fits = |need: usize| if need <= len { Ok(()) } else { Err(RtcpError::BadLength) };
        match self.packet_type() {
            RtcpType::Sr => fits(28 + REPORT_LEN * n),
            RtcpType::Rr => fits(8 + REPORT_LEN * n),
            RtcpType::Bye => self.bye_reason_span().map(|_| ()).ok_or(RtcpError::BadLength),
            RtcpType::App => fits(12),
            RtcpType::Sdes => self.check_sdes(),
            RtcpType::Other(_) => Ok(()),
        }
    }

    /// RFC 3550 6.5: SC chunks of an SSRC and items ending with a null octet, each chunk
    /// padded to 32 bits.
    fn check_sdes(&self) -> Result<(), RtcpError> {
        let body = self.body();
        let mut at = 4;
        for _ in 0..self.count() {
            at += 4;
            loop {
                match body.get(at) {
                    None => return Err(RtcpError::BadLength),
                    Some(0) => break,
                    Some(_) => at += 2 + usize::from(*body.get(at + 1).ok_or(RtcpError::BadLength)?),
                }
            }
            at = (at + 4) & !3;
        }
        if at > body.len() {
            return Err(RtcpError::BadLength);
        }
        Ok(())
    }

    /// True with the padding bit.
    pub fn padding(&self) -> bool {
        self.bytes.first().is_some_and(|f| f & 0x20 != 0)
    }

    /// RC / SC / subtype field (5 bits).
    pub fn count(&self) -> u8 {
        self.bytes.first().map_or(0, |f| f & 0x1f)
    }

    /// Packet type.
    pub fn packet_type(&self) -> RtcpType {
        RtcpType::from_u8(self.bytes.get(1).copied().unwrap_or(0))
    }

    /// Length in bytes (header included).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Never true for a checked packet.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// SSRC of the sender (SR, RR, APP, feedback) or of the first chunk / source (SDES, BYE).
    pub fn ssrc(&self) -> Option<u32> {
        (self.body_end >= 8).then(|| be32(self.bytes, 4))
    }

    /// SR sender info: (NTP timestamp, RTP timestamp, packet count, octet count).
    pub fn sender_info(&self) -> Option<(u64, u32, u32, u32)> {
        if self.packet_type() != RtcpType::Sr {
            return None;
        }
        let b = self.bytes;
        let ntp = (u64::from(be32(b, 8)) << 32) | u64::from(be32(b, 12));
        Some((ntp, be32(b, 16), be32(b, 20), be32(b, 24)))
    }

    /// Report blocks of an SR or RR.
    pub fn report_blocks(&self) -> impl Iterator<Item = ReportBlock> + 'a {
        let start = match self.packet_type() {
            RtcpType::Sr => 28,
            RtcpType::Rr => 8,
            _ => usize::MAX,
        };
        let n = if start == usize::MAX { 0 } else { usize::from(self.count()) };
        let b = self.bytes;
        (0..n).map(move |i| {
            let at = start + i * REPORT_LEN;
            let lost = be32(b, at + 4);
            let cumulative = ((lost & 0x00ff_ffff) << 8) as i32 >> 8;
            ReportBlock {
                ssrc: be32(b, at),
                fraction_lost: (lost >> 24) as u8,
                cumulative_lost: cumulative,
                highest_seq: be32(b, at + 8),
                jitter: be32(b, at + 12),
                lsr: be32(b, at + 16),
                dlsr: be32(b, at + 20),
            }
        })
    }

    /// BYE: the SSRC/CSRC list.
    pub fn bye_sources(&self) -> impl Iterator<Item = u32> + 'a {
        let n = if self.packet_type() == RtcpType::Bye { usize::from(self.count()) } else { 0 };
        let b = self.bytes;
        (0..n).map(move |i| be32(b, 4 + 4 * i))
    }

    /// BYE: the optional reason text.
    pub fn bye_reason(&self) -> Option<&'a [u8]> {
        self.bye_reason_span().flatten().and_then(|(s, e)| self.bytes.get(s..e))
    }

    /// `Some(None)`: valid BYE without reason; `None`: not a valid BYE.
    fn bye_reason_span(&self) -> Option<Option<(usize, usize)>> {
        if self.packet_type() != RtcpType::Bye {
            return None;
        }
        let at = 4 + 4 * usize::from(self.count());
        if at > self.body_end {
            return None;
        }
        if at == self.body_end {
            return Some(None);
        }
        let end = at + 1 + usize::from(*self.bytes.get(at)?);
        (end <= self.body_end).then_some(Some((at + 1, end)))
    }

    /// APP: the 4-character name and the application data.
    pub fn app(&self) -> Option<(&'a [u8], &'a [u8])> {
        if self.packet_type() != RtcpType::App {
            return None;
        }
        Some((self.bytes.get(8..12)?, self.bytes.get(12..self.body_end)?))
    }

    /// SDES: `(ssrc, item type, item value)` for every item of every chunk.
    pub fn sdes_items(&self) -> impl Iterator<Item = (u32, u8, &'a [u8])> + 'a {
        let body = if self.packet_type() == RtcpType::Sdes { self.body() } else { &[] };
        let mut chunks = if body.is_empty() { 0 } else { usize::from(self.count()) };
        let (mut at, mut ssrc, mut in_chunk) = (4, 0u32, false);
        std::iter::from_fn(move || loop {
            if !in_chunk {
                if chunks == 0 {
                    return None;
                }
                chunks -= 1;
                ssrc = be32(body, at);
                at += 4;
                in_chunk = true;
            }
            match body.get(at).copied() {
                Some(0) | None => {
                    at = (at + 4) & !3;
                    in_chunk = false;
                }
                Some(kind) => {
                    let len = usize::from(*body.get(at + 1)?);
                    let value = body.get(at + 2..at + 2 + len)?;
                    at += 2 + len;
                    return Some((ssrc, kind, value));
                }
            }
        })
    }
}

/// A checked view over a compound RTCP packet.
#[derive(Debug, Clone, Copy)]
pub struct RtcpCompound<'a> {
    bytes: &'a [u8],
}

impl<'a> RtcpCompound<'a> {
    /// RFC 3550 6.1 and A.2: every packet valid, lengths adding up to the datagram, the
    /// first packet an SR or RR, padding only on the last.
    pub fn new_checked(buf: &'a [u8]) -> Result<RtcpCompound<'a>, RtcpError> {
        Self::check(buf, true)
    }

    /// RFC 5506 reduced-size RTCP: as [`Self::new_checked`] without the first-packet rule.
    pub fn new_checked_reduced(buf: &'a [u8]) -> Result<RtcpCompound<'a>, RtcpError> {
        Self::check(buf, false)
    }

    fn check(buf: &'a [u8], full: bool) -> Result<RtcpCompound<'a>, RtcpError> {
        let mut rest = buf;
        let mut first = true;
        while !rest.is_empty() {
            let (p, next) = RtcpPacket::new_checked(rest)?;
            if first && full && !matches!(p.packet_type(), RtcpType::Sr | RtcpType::Rr) {
                return Err(RtcpError::BadFirstPacket);
            }
            if p.padding() && !next.is_empty() {
                return Err(RtcpError::BadPadding);
            }
            first = false;
            rest = next;
        }
        if first {
            return Err(RtcpError::Truncated);
        }
        Ok(RtcpCompound { bytes: buf })
    }

    /// The packets in order.
    pub fn packets(&self) -> impl Iterator<Item = RtcpPacket<'a>> + 'a {
        let mut rest = self.bytes;
        std::iter::from_fn(move || {
            let (p, next) = RtcpPacket::new_checked(rest).ok()?;
            rest = next;
            Some(p)
        })
    }
}
