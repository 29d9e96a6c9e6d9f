//! One log record as it travels from a worker to the log writer thread.
//!
//! A record is a pooled, fixed-capacity box: the message text lives in an inline buffer of
//! [`MSG_CAP`] bytes (longer texts are cut at a character boundary and marked), and an
//! optional payload (SIP text or binary bytes) is copied into a buffer taken from a pool of
//! pre-allocated vectors. Filling a record therefore never allocates.

use std::fmt;

use super::types::{Dir, Layer, Level, Origin, Timestamp};

/// Capacity of the inline message buffer, in bytes.
pub const MSG_CAP: usize = 512;

/// The fixed columns of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// Layer.
    pub layer: Layer,
    /// Severity.
    pub level: Level,
    /// Direction column.
    pub dir: Dir,
    /// Id, address or media column.
    pub origin: Origin,
}

impl Head {
    /// A head without direction nor origin.
    pub fn new(layer: Layer, level: Level) -> Head {
        Head {
            layer,
            level,
            dir: Dir::None,
            origin: Origin::None,
        }
    }

    /// Sets the direction.
    pub fn dir(self, dir: Dir) -> Head {
        Head { dir, ..self }
    }

    /// Sets the origin.
    pub fn origin(self, origin: Origin) -> Head {
        Head { origin, ..self }
    }
}

/// Data attached to a record, dumped under the line at debug level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    /// Nothing attached.
    None,
    /// Text (a SIP message): dumped line by line, indented.
    Text(&'a [u8]),
    /// Binary (Diameter, RTP, ESP): dumped in hexadecimal up to `layer.max_size`.
    Binary(&'a [u8]),
}

/// Kind of the payload held by a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadKind {
    /// Text, see [`Payload::Text`].
    Text,
    /// Binary, see [`Payload::Binary`].
    Binary,
}

/// A record slot. Obtained from the logger's pool, filled, queued, formatted, recycled.
pub struct Record {
    /// When the event happened.
    pub time: Timestamp,
    /// Fixed columns.
    pub head: Head,
    msg: [u8; MSG_CAP],
    msg_len: usize,
    msg_truncated: bool,
    /// Copied payload bytes (empty vector when none: no allocation).
    pub(crate) payload: Vec<u8>,
    /// Kind of `payload`.
    pub payload_kind: PayloadKind,
    /// Length of the original payload (greater than `payload.len()` when cut).
    pub payload_total: usize,
}

impl Record {
    /// An empty slot (allocated once, at start-up).
    pub fn empty() -> Box<Record> {
        Box::new(Record {
            time: Timestamp(0),
            head: Head::new(Layer::Ims, Level::Info),
            msg: [0; MSG_CAP],
            msg_len: 0,
            msg_truncated: false,
            payload: Vec::new(),
            payload_kind: PayloadKind::Text,
            payload_total: 0,
        })
    }

    /// Resets the slot for a new event and writes its message.
    pub fn fill(&mut self, time: Timestamp, head: Head, args: fmt::Arguments<'_>) {
        self.time = time;
        self.head = head;
        self.msg_len = 0;
        self.msg_truncated = false;
        self.payload_total = 0;
        // Writing into MsgWriter never returns an error: overflow is recorded instead.
        let _ = fmt::write(&mut MsgWriter(self), args);
    }

    /// The message text (possibly cut, see [`Record::message_truncated`]).
    pub fn message(&self) -> &str {
        let bytes = self.msg.get(..self.msg_len).unwrap_or_default();
        // Only whole characters are ever copied in, so this is valid UTF-8.
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    /// True when the message did not fit in [`MSG_CAP`] bytes.
    pub fn message_truncated(&self) -> bool {
        self.msg_truncated
    }

    /// The copied payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Copies a payload into `buf` (a pooled vector, capacity kept) and attaches it,
    /// keeping at most `limit` bytes and at most the vector's capacity.
    pub(crate) fn attach(
        &mut self,
        mut buf: Vec<u8>,
        kind: PayloadKind,
        data: &[u8],
        limit: usize,
    ) {
        buf.clear();
        let keep = data.len().min(limit).min(buf.capacity());
        buf.extend_from_slice(data.get(..keep).unwrap_or_default());
        self.payload = buf;
        self.payload_kind = kind;
        self.payload_total = data.len();
    }

    /// Detaches the payload buffer (to return it to its pool).
    pub(crate) fn take_payload(&mut self) -> Vec<u8> {
        self.payload_total = 0;
        std::mem::take(&mut self.payload)
    }
}

/// `fmt::Write` into the inline buffer, cutting at a character boundary.
struct MsgWriter<'a>(&'a mut Record);

impl fmt::Write for MsgWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let rec = &mut *self.0;
        if rec.msg_truncated {
            return Ok(());
        }
        let room = MSG_CAP - rec.msg_len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        if take < s.len() {
            rec.msg_truncated = true;
        }
        if let (Some(dst), Some(src)) = (
            rec.msg.get_mut(rec.msg_len..rec.msg_len + take),
            s.get(..take),
        ) {
            dst.copy_from_slice(src.as_bytes());
            rec.msg_len += take;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_written_inline() {
        let mut r = Record::empty();
        r.fill(
            Timestamp(5),
            Head::new(Layer::Sip, Level::Info),
            format_args!("INVITE {}", 42),
        );
        assert_eq!(r.message(), "INVITE 42");
        assert!(!r.message_truncated());
    }

    #[test]
    fn long_message_is_cut_on_char_boundary() {
        let mut r = Record::empty();
        let long = "é".repeat(MSG_CAP); // 2 bytes per char
        r.fill(
            Timestamp(0),
            Head::new(Layer::Ims, Level::Info),
            format_args!("x{long}"),
        );
        assert!(r.message_truncated());
        assert_eq!(r.message().len(), MSG_CAP - 1);
        assert!(r.message().starts_with("xé"));
        r.fill(
            Timestamp(0),
            Head::new(Layer::Ims, Level::Info),
            format_args!("short"),
        );
        assert_eq!(r.message(), "short");
        assert!(!r.message_truncated());
    }

    #[test]
    fn payload_respects_limit_and_capacity() {
        let mut r = Record::empty();
        r.attach(Vec::with_capacity(8), PayloadKind::Binary, &[1; 20], 100);
        assert_eq!(r.payload().len(), 8);
        assert_eq!(r.payload_total, 20);
        let buf = r.take_payload();
        r.attach(buf, PayloadKind::Binary, &[2; 20], 3);
        assert_eq!(r.payload(), &[2, 2, 2]);
    }
}
