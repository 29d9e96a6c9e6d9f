//! RTP fixed header (RFC 3550 5.1): a checked view [`RtpPacket`] over the bytes and the
//! [`RtpHeader`] representation with `parse`/`emit`.
//!
//! ```text
//!  0                   1                   2                   3
//! |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//! |                           timestamp                           |
//! |           synchronization source (SSRC) identifier            |
//! |            contributing source (CSRC) identifiers  ...        |
//! ```

/// Why a datagram is not a valid RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtpError {
    /// Shorter than its header, CSRC list or extension.
    Truncated,
    /// Version other than 2.
    BadVersion,
    /// Padding count 0 or larger than the payload (RFC 3550 5.1 "P").
    BadPadding,
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = 12;

pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    let mut x = [0u8; 2];
    if let Some(s) = b.get(at..at + 2) {
        x.copy_from_slice(s);
    }
    u16::from_be_bytes(x)
}

pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        x.copy_from_slice(s);
    }
    u32::from_be_bytes(x)
}


/// RFC 5761 4: on a multiplexed port, bytes 1 with PT 64-95 (marker included: 192-223)
/// are RTCP (SR 200 ... XR 207 fall in that range).
pub fn is_rtcp(datagram: &[u8]) -> bool {
    matches!(datagram.get(1), Some(192..=223))
}

/// A checked view over an RTP packet.
#[derive(Debug, Clone, Copy)]
pub struct RtpPacket<T: AsRef<[u8]>> {
    buffer: T,
    payload_start: usize,
    payload_end: usize,
}

impl<T: AsRef<[u8]>> RtpPacket<T> {
    /// Checks version, CSRC list, extension length and padding (RFC 3550 5.1, 5.3.1).
    pub fn new_checked(buffer: T) -> Result<RtpPacket<T>, RtpError> {
        let b = buffer.as_ref();
        let first = *b.first().ok_or(RtpError::Truncated)?;
        if first >> 6 != 2 {
            return Err(RtpError::BadVersion);
        }
        if b.len() < HEADER_LEN {
            return Err(RtpError::Truncated);
        }
        let mut start = HEADER_LEN + 4 * usize::from(first & 0x0f);
        if first & 0x10 != 0 {
            // RFC 3550 5.3.1: 16-bit profile field, 16-bit length in 32-bit words.
            let words = usize::from(be16(b, start + 2));
            start += 4 + 4 * words;
        }
        if b.len() < start {
            return Err(RtpError::Truncated);
        }
        let mut end = b.len();
        if first & 0x20 != 0 {
            let pad = usize::from(*b.last().ok_or(RtpError::Truncated)?);
            if pad == 0 || pad > end - start {
                return Err(RtpError::BadPadding);
            }
            end -= pad;
        }
        Ok(RtpPacket { buffer, payload_start: start, payload_end: end })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// V.
    pub fn version(&self) -> u8 {
        self.b().first().map_or(0, |f| f >> 6)
    }

    /// P.
    pub fn padding(&self) -> bool {
        self.b().first().is_some_and(|f| f & 0x20 != 0)
    }

    /// X.
    pub fn extension(&self) -> bool {
        self.b().first().is_some_and(|f| f & 0x10 != 0)
    }

    /// CC.
    pub fn csrc_count(&self) -> u8 {
        self.b().first().map_or(0, |f| f & 0x0f)
    }

    /// M.
    pub fn marker(&self) -> bool {
        self.b().get(1).is_some_and(|f| f & 0x80 != 0)
    }

    /// PT.
    pub fn payload_type(&self) -> u8 {
        self.b().get(1).map_or(0, |f| f & 0x7f)
    }

    /// Sequence number.
    pub fn sequence_number(&self) -> u16 {
        be16(self.b(), 2)
    }

    /// Timestamp.
    pub fn timestamp(&self) -> u32 {
        be32(self.b(), 4)
    }

    /// SSRC.
    pub fn ssrc(&self) -> u32 {
        be32(self.b(), 8)
    }

    /// CSRC `i` (`None` past CC).
    pub fn csrc(&self, i: usize) -> Option<u32> {
        (i < usize::from(self.csrc_count())).then(|| be32(self.b(), HEADER_LEN + 4 * i))
    }

    /// The header extension: profile-defined 16 bits and the extension data.
    pub fn extension_data(&self) -> Option<(u16, &[u8])> {
        if !self.extension() {
            return None;
        }
        let at = HEADER_LEN + 4 * usize::from(self.csrc_count());
        Some((be16(self.b(), at), self.b().get(at + 4..self.payload_start)?))
    }

    /// The payload without padding.
    pub fn payload(&self) -> &[u8] {
        self.b().get(self.payload_start..self.payload_end).unwrap_or_default()
    }

    /// Total length.
    pub fn len(&self) -> usize {
        self.b().len()
    }

    /// Never true for a checked packet.
    pub fn is_empty(&self) -> bool {
        self.b().is_empty()
    }
}

/// The RTP fixed header and CSRC list as values (no extension, no padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtpHeader {
    /// M.
    pub marker: bool,
    /// PT (7 bits).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence_number: u16,
    /// Timestamp.
    pub timestamp: u32,
    /// SSRC.
    pub ssrc: u32,
    /// Number of valid entries of `csrcs`.
    pub csrc_count: u8,
    /// CSRC identifiers (RFC 3550: at most 15).
    pub csrcs: [u32; 15],
}

impl RtpHeader {
    /// Reads the header of a checked packet.
    pub fn parse<T: AsRef<[u8]>>(p: &RtpPacket<T>) -> RtpHeader {
        let mut h = RtpHeader {
            marker: p.marker(),
            payload_type: p.payload_type(),
            sequence_number: p.sequence_number(),
            timestamp: p.timestamp(),
            ssrc: p.ssrc(),
            csrc_count: p.csrc_count(),
            csrcs: [0; 15],
        };
        for (i, c) in h.csrcs.iter_mut().enumerate().take(usize::from(h.csrc_count)) {
            *c = p.csrc(i).unwrap_or(0);
        }
        h
    }

    /// Header length when emitted.
    pub fn len(&self) -> usize {
        HEADER_LEN + 4 * usize::from(self.csrc_count.min(15))
    }

    /// Never true (a header has 12 bytes at least).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the header at the start of `buf`; `None` when `buf` is too short.
    pub fn emit(&self, buf: &mut [u8]) -> Option<usize> {
        let len = self.len();
        // `out` has `len` >= HEADER_LEN bytes, so the fixed indices below are in bounds.
        let out = buf.get_mut(..len)?;
        let cc = self.csrc_count.min(15);
        out[0] = 0x80 | cc;
        out[1] = (u8::from(self.marker) << 7) | (self.payload_type & 0x7f);
        out[2..4].copy_from_slice(&self.sequence_number.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        for (chunk, c) in out[HEADER_LEN..].chunks_exact_mut(4).zip(&self.csrcs) {
            chunk.copy_from_slice(&c.to_be_bytes());
        }
        Some(len)
    }
}
