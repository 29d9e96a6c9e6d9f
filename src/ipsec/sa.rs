//! One ESP security association in transport mode (RFC 4303 3): keys, sequence counter,
//! anti-replay window, and the in-place decapsulation / encapsulation of packets. Its
//! lifetime follows the registration that created it; the owner removes it.

use core::ops::Range;

use super::crypto::{Cipher, Integrity, MAX_IV_LEN};
use super::esp::{EspPacket, HEADER_LEN, TRAILER_LEN};
use super::replay::ReplayWindow;
use super::EspError;
use crate::auth::ipsec_keys::{EncrAlg, IntegAlg};

/// Which way the SA carries packets, seen from this node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Packets we receive and decapsulate (we chose the SPI).
    Inbound,
    /// Packets we encapsulate and send (the peer chose the SPI).
    Outbound,
}

/// What is needed to build an [`Sa`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaParams<'a> {
    /// Security Parameters Index (RFC 4303 2.1); 1..=255 are reserved.
    pub spi: u32,
    /// Inbound or outbound.
    pub direction: Direction,
    /// Integrity algorithm; `None` for `alg=null`.
    pub integ: Option<IntegAlg>,
    /// IK_ESP (TS 33.203 Annex I); empty for `None`.
    pub integ_key: &'a [u8],
    /// Encryption algorithm.
    pub encr: EncrAlg,
    /// CK_ESP (TS 33.203 Annex I); empty for NULL.
    pub encr_key: &'a [u8],
    /// Anti-replay window in packets (multiple of 64, 64..=1024); unused outbound.
    pub replay_window: u16,
}

/// A decapsulated packet: the transport payload now lies in clear in the packet buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inner {
    /// RFC 4303 2.6: protocol of the payload (17 UDP, 6 TCP; 59 = dummy, drop it).
    pub next_header: u8,
    /// Where the payload (e.g. the inner UDP header and datagram) lies in the buffer.
    pub payload: Range<usize>,
    /// The packet's sequence number.
    pub seq: u32,
}

/// Source of IVs for encapsulation (RFC 3602 2.1: unpredictable for AES-CBC).
pub trait IvSource {
    /// Fills `iv` (8 or 16 bytes) with a fresh IV.
    fn fill_iv(&mut self, iv: &mut [u8]);
}

impl<F: FnMut(&mut [u8])> IvSource for F {
    fn fill_iv(&mut self, iv: &mut [u8]) {
        self(iv)
    }
}

/// An ESP security association.
#[derive(Clone)]
pub struct Sa {
    spi: u32,
    direction: Direction,
    integ: Integrity,
    cipher: Cipher,
    /// Outbound: last sequence number sent (RFC 4303 3.3.3, starts at 0).
    seq: u32,
    replay: ReplayWindow,
}

impl Sa {
    /// Keys a new SA. `BadKey` for a key of the wrong length or NULL/NULL (RFC 4303 3.2
    /// forbids an SA with neither confidentiality nor integrity).
    pub fn new(p: &SaParams<'_>) -> Result<Sa, EspError> {
        let integ = Integrity::new(p.integ, p.integ_key)?;
        let cipher = Cipher::new(p.encr, p.encr_key)?;
        if matches!(integ, Integrity::None) && cipher.is_null() {
            return Err(EspError::BadKey);
        }
        let replay = ReplayWindow::new(p.replay_window)?;
        Ok(Sa {
            spi: p.spi,
            direction: p.direction,
            integ,
            cipher,
            seq: 0,
            replay,
        })
    }

    /// The SPI.
    pub fn spi(&self) -> u32 {
        self.spi
    }

    /// The direction.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The anti-replay state (inbound).
    pub fn replay_window(&self) -> &ReplayWindow {
        &self.replay
    }

    /// Last sequence number sent (outbound).
    pub fn last_seq(&self) -> u32 {
        self.seq
    }

    /// Size of the ESP packet that [`Sa::encap`] makes of `inner_len` payload bytes.
    pub fn encap_len(&self, inner_len: usize) -> usize {
        let align = self.cipher.align();
        let ct = (inner_len + TRAILER_LEN).div_ceil(align) * align;
        HEADER_LEN + self.cipher.iv_len() + ct + self.integ.icv_len()
    }

    /// Decapsulates `packet` (from the SPI to the end) in place. RFC 4303 3.4: length
    /// checks, anti-replay pre-check, ICV (constant time), window update, decryption,
    /// padding check. Nothing changes in the SA unless the ICV verified.
    pub fn decap(&mut self, packet: &mut [u8]) -> Result<Inner, EspError> {
        if self.direction != Direction::Inbound {
            return Err(EspError::WrongDirection);
        }
        let view = EspPacket::new_checked(&*packet)?;
        if view.spi() != self.spi {
            return Err(EspError::UnknownSpi);
        }
        let seq = view.seq();
        let spans = view.spans(
            self.cipher.iv_len(),
            self.cipher.align(),
            self.integ.icv_len(),
        )?;
        let anti_replay = !matches!(self.integ, Integrity::None);
        // RFC 4303 3.4.3: reject duplicates and packets left of the window before the ICV.
        if anti_replay {
            self.replay.check(seq)?;
        }
        let (authed, icv) = packet.split_at_mut(spans.icv.start);
        // RFC 4303 3.4.4.1: the ICV covers the ESP header, IV and ciphertext.
        if !self.integ.verify(authed, icv) {
            return Err(EspError::BadIcv);
        }
        // RFC 4303 3.4.3: the window is updated only once the ICV verified.
        if anti_replay {
            self.replay.update(seq);
        }
        let (head, ct) = authed.split_at_mut(spans.ciphertext.start);
        let mut iv = [0u8; MAX_IV_LEN];
        let iv = copy_iv(&mut iv, head.get(spans.iv.clone()).unwrap_or_default());
        self.cipher.decrypt(iv, ct)?;
        let (payload_len, next_header) = check_trailer(ct)?;
        let start = spans.ciphertext.start;
        Ok(Inner {
            next_header,
            payload: start..start + payload_len,
            seq,
        })
    }

    /// Encapsulates `inner` (a transport payload of protocol `next_header`) into `out` and
    /// returns the ESP packet's length. Padding 1, 2, 3, ... up to the cipher block and
    /// 4-byte alignment (RFC 4303 2.4), the IV from `iv`, the ICV appended.
    pub fn encap(
        &mut self,
        inner: &[u8],
        next_header: u8,
        iv: &mut dyn IvSource,
        out: &mut [u8],
    ) -> Result<usize, EspError> {
        if self.direction != Direction::Outbound {
            return Err(EspError::WrongDirection);
        }
        let total = self.encap_len(inner.len());
        let icv_start = total - self.integ.icv_len();
        let out = out.get_mut(..total).ok_or(EspError::BufferTooSmall)?;
        // RFC 4303 3.3.3: without ESN the counter must not cycle.
        let seq = self.seq.checked_add(1).ok_or(EspError::SeqOverflow)?;
        let ct_start = HEADER_LEN + self.cipher.iv_len();
        let (authed, icv) = out.split_at_mut(icv_start);
        let (head, ct) = authed.split_at_mut(ct_start);
        let (hdr, iv_buf) = head.split_at_mut(HEADER_LEN);
        let mut esp = EspPacket::new_checked(hdr)?;
        esp.set_spi(self.spi);
        esp.set_seq(seq);
        iv.fill_iv(iv_buf);
        fill_plaintext(ct, inner, next_header);
        self.cipher.encrypt(iv_buf, ct)?;
        // RFC 4303 3.3.4: the ICV covers the ESP header, IV and ciphertext.
        icv.copy_from_slice(&self.integ.compute(authed)[..icv.len()]);
        self.seq = seq;
        Ok(total)
    }
}

fn copy_iv<'a>(buf: &'a mut [u8; MAX_IV_LEN], iv: &[u8]) -> &'a [u8] {
    let n = iv.len().min(MAX_IV_LEN);
    buf[..n].copy_from_slice(&iv[..n]);
    &buf[..n]
}

/// Payload, then Padding 1, 2, 3, ..., Pad Length, Next Header (RFC 4303 2.4-2.6).
/// `ct` is `inner.len() + 2` rounded up to the cipher unit (so the pad fits in a byte).
fn fill_plaintext(ct: &mut [u8], inner: &[u8], next_header: u8) {
    let (payload, tail) = ct.split_at_mut(inner.len());
    payload.copy_from_slice(inner);
    let pad_len = tail.len() - TRAILER_LEN;
    for (i, b) in tail.iter_mut().enumerate() {
        *b = (i + 1) as u8;
    }
    if let [.., pl, nh] = tail {
        *pl = pad_len as u8;
        *nh = next_header;
    }
}

/// Checks Pad Length and the padding bytes (RFC 4303 2.4: 1, 2, 3, ...) of decrypted
/// `ct`; returns the payload length and Next Header.
fn check_trailer(ct: &[u8]) -> Result<(usize, u8), EspError> {
    let [rest @ .., pad_len, next_header] = ct else {
        return Err(EspError::Truncated);
    };
    let pad_len = usize::from(*pad_len);
    let payload_len = rest
        .len()
        .checked_sub(pad_len)
        .ok_or(EspError::BadPadding)?;
    let padding = rest.get(payload_len..).unwrap_or_default();
    if padding
        .iter()
        .enumerate()
        .any(|(i, b)| usize::from(*b) != i + 1)
    {
        return Err(EspError::BadPadding);
    }
    Ok((payload_len, *next_header))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md5_null(direction: Direction) -> Sa {
        Sa::new(&SaParams {
            spi: 0x500,
            direction,
            integ: Some(IntegAlg::HmacMd5_96),
            integ_key: &[7; 16],
            encr: EncrAlg::Null,
            encr_key: &[],
            replay_window: 64,
        })
        .unwrap()
    }

    /// Rewrites the ICV of a NULL-encrypted packet after an edit.
    fn reseal(tx: &Sa, pkt: &mut [u8]) {
        let at = pkt.len() - 12;
        let icv = tx.integ.compute(&pkt[..at]);
        pkt[at..].copy_from_slice(&icv);
    }

    #[test]
    fn padding_is_checked_after_the_icv() {
        let (mut tx, mut rx) = (md5_null(Direction::Outbound), md5_null(Direction::Inbound));
        let mut buf = [0u8; 64];
        let n = tx
            .encap(b"hello", 17, &mut |_: &mut [u8]| {}, &mut buf)
            .unwrap();
        let mut pkt = buf[..n].to_vec();
        // hello 01 | 01 11: make the pad byte 02, then a Pad Length beyond the payload.
        pkt[13] = 2;
        reseal(&tx, &mut pkt);
        assert_eq!(rx.decap(&mut pkt.clone()), Err(EspError::BadPadding));
        assert_eq!(
            rx.replay_window().top(),
            1,
            "authentic, so the window moved"
        );
        let n = tx
            .encap(b"hello", 17, &mut |_: &mut [u8]| {}, &mut buf)
            .unwrap();
        let mut pkt = buf[..n].to_vec();
        pkt[14] = 9;
        reseal(&tx, &mut pkt);
        assert_eq!(rx.decap(&mut pkt), Err(EspError::BadPadding));
        assert_eq!(check_trailer(&[0, 3, 0x11]), Err(EspError::BadPadding));
        assert_eq!(check_trailer(&[0xaa, 1, 2, 2, 4]), Ok((1, 4)));
    }

    #[test]
    fn sequence_number_never_cycles() {
        let mut tx = md5_null(Direction::Outbound);
        tx.seq = u32::MAX - 1;
        let mut buf = [0u8; 64];
        let mut iv = |_: &mut [u8]| {};
        assert!(tx.encap(b"a", 17, &mut iv, &mut buf).is_ok());
        assert_eq!(tx.last_seq(), u32::MAX);
        assert_eq!(
            tx.encap(b"a", 17, &mut iv, &mut buf),
            Err(EspError::SeqOverflow)
        );
    }

    #[test]
    fn sa_memory_is_bounded() {
        // Key schedules, HMAC states and a 1024-bit window, all inline.
        assert!(
            core::mem::size_of::<Sa>() <= 2048,
            "{}",
            core::mem::size_of::<Sa>()
        );
    }
}
