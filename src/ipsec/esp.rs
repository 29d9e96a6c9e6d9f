//! The ESP packet (RFC 4303 2): a checked zero-copy view over the bytes that follow the
//! outer IP (or RFC 3948 UDP) header, and the layout of its spans for a given transform.
//!
//! ```text
//! | SPI (4) | Sequence Number (4) | IV | Payload | Padding | Pad Len | Next Hdr | ICV |
//!                                      |<------------ ciphertext ------------>|
//! ```

use core::ops::Range;

use super::EspError;

/// SPI and Sequence Number (RFC 4303 2.1, 2.2).
pub const HEADER_LEN: usize = 8;
/// Pad Length and Next Header (RFC 4303 2.5, 2.6).
pub const TRAILER_LEN: usize = 2;
/// Next Header value of a dummy packet, to be dropped (RFC 4303 2.6).
pub const NEXT_HEADER_NONE: u8 = 59;

/// A checked view of an ESP packet: at least the SPI and Sequence Number are present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EspPacket<T> {
    buffer: T,
}

/// Where the parts of an ESP packet lie, for one transform (IV, block and ICV lengths).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EspSpans {
    /// The explicit IV (empty for NULL).
    pub iv: Range<usize>,
    /// Encrypted payload, padding, Pad Length and Next Header.
    pub ciphertext: Range<usize>,
    /// Integrity Check Value (empty without integrity).
    pub icv: Range<usize>,
}

impl<T: AsRef<[u8]>> EspPacket<T> {
    /// Wraps `buffer` after checking it holds at least the 8-byte header.
    pub fn new_checked(buffer: T) -> Result<EspPacket<T>, EspError> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(EspError::Truncated);
        }
        Ok(EspPacket { buffer })
    }

    /// RFC 4303 2.1: Security Parameters Index.
    pub fn spi(&self) -> u32 {
        self.word(0)
    }

    /// RFC 4303 2.2: Sequence Number (low 32 bits; ESN is not used by TS 33.203).
    pub fn seq(&self) -> u32 {
        self.word(4)
    }

    /// The whole packet.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Splits the packet for a transform with `iv_len`, cipher unit `align` and `icv_len`.
    /// `Truncated` below header + IV + one unit + ICV; `BadLength` when the ciphertext is
    /// not a whole number of units (RFC 4303 2.4).
    pub fn spans(&self, iv_len: usize, align: usize, icv_len: usize) -> Result<EspSpans, EspError> {
        let len = self.buffer.as_ref().len();
        let iv_end = HEADER_LEN + iv_len;
        if len < iv_end + align.max(TRAILER_LEN) + icv_len {
            return Err(EspError::Truncated);
        }
        let icv_start = len - icv_len;
        if align == 0 || (icv_start - iv_end) % align != 0 {
            return Err(EspError::BadLength);
        }
        Ok(EspSpans {
            iv: HEADER_LEN..iv_end,
            ciphertext: iv_end..icv_start,
            icv: icv_start..len,
        })
    }

    fn word(&self, at: usize) -> u32 {
        let b = self.buffer.as_ref();
        let mut w = [0u8; 4];
        // new_checked guarantees at least HEADER_LEN bytes; `at` is 0 or 4.
        for (o, i) in w.iter_mut().zip(b.iter().skip(at)) {
            *o = *i;
        }
        u32::from_be_bytes(w)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EspPacket<T> {
    /// Writes the SPI.
    pub fn set_spi(&mut self, spi: u32) {
        self.set_word(0, spi);
    }

    /// Writes the Sequence Number.
    pub fn set_seq(&mut self, seq: u32) {
        self.set_word(4, seq);
    }

    fn set_word(&mut self, at: usize, v: u32) {
        for (o, i) in self
            .buffer
            .as_mut()
            .iter_mut()
            .skip(at)
            .zip(v.to_be_bytes())
        {
            *o = i;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_and_spans() {
        let mut b = [0u8; 8 + 16 + 32 + 12];
        let mut p = EspPacket::new_checked(&mut b[..]).unwrap();
        p.set_spi(0x0102_0304);
        p.set_seq(7);
        assert_eq!((p.spi(), p.seq()), (0x0102_0304, 7));
        let s = p.spans(16, 16, 12).unwrap();
        assert_eq!((s.iv, s.ciphertext, s.icv), (8..24, 24..56, 56..68));
        assert_eq!(p.spans(16, 16, 0), Err(EspError::BadLength));
        assert_eq!(p.spans(16, 16, 48), Err(EspError::Truncated));
        assert_eq!(EspPacket::new_checked(&b[..7]), Err(EspError::Truncated));
    }
}
