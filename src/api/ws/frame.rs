//! RFC 6455 5.2 base framing, in two levels: `FrameRepr` is the validated
//! header (parse/emit) and `Frame` is a checked view over one whole frame.

/// Frame opcode (RFC 6455 5.2, 11.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opcode {
    /// %x0 continuation frame.
    Continuation,
    /// %x1 text frame.
    Text,
    /// %x2 binary frame.
    Binary,
    /// %x8 connection close.
    Close,
    /// %x9 ping.
    Ping,
    /// %xA pong.
    Pong,
}

impl Opcode {
    /// Decodes the 4-bit opcode; reserved values give `None`.
    pub fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    /// The 4-bit wire value.
    pub fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// RFC 6455 5.5: opcodes with the most significant bit set are control frames.
    pub fn is_control(self) -> bool {
        self.bits() & 0x8 != 0
    }
}

/// Why a frame header is not acceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// More bytes are needed to decide.
    Truncated,
    /// RFC 6455 5.2: RSV1-3 set without a negotiated extension.
    ReservedBits,
    /// RFC 6455 5.2: reserved opcode.
    UnknownOpcode(u8),
    /// RFC 6455 5.5: control frames must not be fragmented.
    FragmentedControl,
    /// RFC 6455 5.5: control frame payloads are at most 125 bytes.
    ControlTooLong,
    /// RFC 6455 5.2: the minimal number of bytes must encode the length.
    NonMinimalLength,
    /// RFC 6455 5.2: the most significant bit of the 64-bit length must be 0.
    LengthTooLarge,
}

/// Largest header: 2 + 8 (64-bit length) + 4 (masking key).
pub const MAX_HEADER_LEN: usize = 14;
/// RFC 6455 5.5: control frame payload bound.
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// Validated frame header (RFC 6455 5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRepr {
    /// FIN bit: last fragment of a message.
    pub fin: bool,
    /// Opcode.
    pub opcode: Opcode,
    /// Masking key, present when the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub payload_len: u64,
}

impl FrameRepr {
    /// Parses a header from the start of `buf`, returning it with its length.
    pub fn parse_header(buf: &[u8]) -> Result<(FrameRepr, usize), FrameError> {
        let (&b0, &b1) = match buf {
            [b0, b1, ..] => (b0, b1),
            _ => return Err(FrameError::Truncated),
        };
        // RFC 6455 5.2: RSV1, RSV2, RSV3 MUST be 0 unless an extension is negotiated.
        if b0 & 0x70 != 0 {
            return Err(FrameError::ReservedBits);
        }
        let opcode = Opcode::from_bits(b0 & 0x0F).ok_or(FrameError::UnknownOpcode(b0 & 0x0F))?;
        let fin = b0 & 0x80 != 0;
        let masked = b1 & 0x80 != 0;
        let (payload_len, mut pos) = parse_length(buf, b1 & 0x7F)?;
        if opcode.is_control() {
            if !fin {
                return Err(FrameError::FragmentedControl);
            }
            if payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(FrameError::ControlTooLong);
            }
        }
        let mask = if masked {
            let key = buf.get(pos..pos + 4).ok_or(FrameError::Truncated)?;
            pos += 4;
            Some([key[0], key[1], key[2], key[3]])
        } else {
            None
        };
        Ok((FrameRepr { fin, opcode, mask, payload_len }, pos))
    }

    /// Length of the emitted header.
    pub fn header_len(&self) -> usize {
        let len = match self.payload_len {
            0..=125 => 2,
            126..=0xFFFF => 4,
            _ => 10,
        };
        len + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Appends the header, then `payload` (masked when a key is set), to `out`.
    /// `payload.len()` must equal `payload_len`; the header follows `payload_len`.
    pub fn emit(&self, payload: &[u8], out: &mut Vec<u8>) {
        let b0 = if self.fin { 0x80 } else { 0 } | self.opcode.bits();
        let m = if self.mask.is_some() { 0x80 } else { 0 };
        out.push(b0);
        // RFC 6455 5.2: 7-bit, 16-bit (126) or 64-bit (127) length, minimal form.
        match self.payload_len {
            n @ 0..=125 => out.push(m | n as u8),
            n @ 126..=0xFFFF => {
                out.push(m | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(m | 127);
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
        match self.mask {
            Some(key) => {
                out.extend_from_slice(&key);
                let body = out.len();
                out.extend_from_slice(payload);
                if let Some(tail) = out.get_mut(body..) {
                    apply_mask(key, 0, tail);
                }
            }
            None => out.extend_from_slice(payload),
        }
    }
}

/// Decodes the payload length field whose 7-bit value is `len7`.
fn parse_length(buf: &[u8], len7: u8) -> Result<(u64, usize), FrameError> {
    match len7 {
        126 => {
            let b = buf.get(2..4).ok_or(FrameError::Truncated)?;
            let n = u64::from(u16::from_be_bytes([b[0], b[1]]));
            if n < 126 {
                return Err(FrameError::NonMinimalLength);
            }
            Ok((n, 4))
        }
        127 => {
            let b = buf.get(2..10).ok_or(FrameError::Truncated)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            let n = u64::from_be_bytes(a);
            if n >> 63 != 0 {
                return Err(FrameError::LengthTooLarge);
            }
            if n <= 0xFFFF {
                return Err(FrameError::NonMinimalLength);
            }
            Ok((n, 10))
        }
        n => Ok((u64::from(n), 2)),
    }
}

/// RFC 6455 5.3: XORs `data` with the masking key; `offset` is the position of
/// `data[0]` within the frame payload, so a payload can be unmasked in pieces.
pub fn apply_mask(key: [u8; 4], offset: u64, data: &mut [u8]) {
    let start = (offset % 4) as usize;
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[(start + i) % 4];
    }
}

/// Checked view over one complete frame (header and payload) at the start of a buffer.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    repr: FrameRepr,
    header_len: usize,
    payload: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Checks that `buf` starts with a valid, complete frame.
    pub fn new_checked(buf: &'a [u8]) -> Result<Frame<'a>, FrameError> {
        let (repr, header_len) = FrameRepr::parse_header(buf)?;
        let len = usize::try_from(repr.payload_len).map_err(|_| FrameError::LengthTooLarge)?;
        let end = header_len.checked_add(len).ok_or(FrameError::LengthTooLarge)?;
        let payload = buf.get(header_len..end).ok_or(FrameError::Truncated)?;
        Ok(Frame { repr, header_len, payload })
    }

    /// The validated header.
    pub fn repr(&self) -> &FrameRepr {
        &self.repr
    }

    /// Bytes taken by the whole frame.
    pub fn total_len(&self) -> usize {
        self.header_len + self.payload.len()
    }

    /// The payload as on the wire (still masked if the MASK bit is set).
    pub fn raw_payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Appends the unmasked payload to `out`.
    pub fn unmask_into(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(self.payload);
        if let (Some(key), Some(tail)) = (self.repr.mask, out.get_mut(start..)) {
            apply_mask(key, 0, tail);
        }
    }
}
