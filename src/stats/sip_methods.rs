//! SIP messages by method and status code as seen by the control thread
//! (requests and responses it receives from and sends through the workers;
//! OPTIONS answered inside a worker are counted there). One writer (the
//! control thread) and a fixed bound on distinct keys, so no atomics and no
//! growth past start-up size.
//!
//! Counting is allocation-free once a key has been seen: the start line and
//! the CSeq line are found with `memchr` inside the header section, the
//! method is kept inline ([`MethodName`]) and the row is found through a
//! fixed open-addressed index. Only the first sight of a key allocates its
//! exported [`Key`] (at most [`MAX_KEYS`] times over the process lifetime).

use super::ascii::Folded;
use memchr::memchr;

/// Most distinct (direction, method, status) keys kept; further keys are
/// folded into the `other` method.
pub const MAX_KEYS: usize = 256;

/// Longest method counted. RFC 3261 and its extensions define none longer
/// than 9 bytes (SUBSCRIBE); 16 leaves room for private extensions and keeps
/// a key in two machine words. Longer methods are not counted.
pub const MAX_METHOD: usize = 16;

/// Slots of the row index: a power of two (masking replaces a modulo) at
/// least twice [`MAX_KEYS`], so linear probing stays short (load <= 1/2)
/// and always ends at an empty slot.
const SLOTS: usize = 2 * MAX_KEYS;
const _: () = assert!(SLOTS.is_power_of_two() && SLOTS > MAX_KEYS && MAX_KEYS < u16::MAX as usize);

/// Message direction relative to the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from the network.
    In,
    /// Sent to the network.
    Out,
}

impl Direction {
    /// Label value.
    pub fn name(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// One counted key: status 0 stands for requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// Direction.
    pub dir: Direction,
    /// RFC 3261 7.1 method (of the CSeq for responses), upper case.
    pub method: String,
    /// RFC 3261 7.2 status code, 0 for a request.
    pub status: u16,
}

/// A method name of at most [`MAX_METHOD`] bytes, upper case, stored inline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodName {
    len: u8,
    /// Zero past `len`, so equal names have equal arrays.
    bytes: [u8; MAX_METHOD],
}

impl MethodName {
    /// The bucket keys beyond [`MAX_KEYS`] fall into (lower case, so no
    /// upper-cased method can equal it).
    pub const OTHER: MethodName = MethodName { len: 5, bytes: *b"other\0\0\0\0\0\0\0\0\0\0\0" };

    /// `m` upper-cased; None when empty, longer than [`MAX_METHOD`] or not UTF-8.
    pub fn new(m: &[u8]) -> Option<Self> {
        if m.is_empty() || m.len() > MAX_METHOD || (!m.is_ascii() && std::str::from_utf8(m).is_err()) {
            return None;
        }
        let mut bytes = [0u8; MAX_METHOD];
        for (d, s) in bytes.iter_mut().zip(m) {
            *d = s.to_ascii_uppercase();
        }
        Some(MethodName { len: m.len() as u8, bytes })
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len as usize).unwrap_or(&[])
    }

    /// The name (ASCII upper-casing keeps the UTF-8 `new` checked).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// The first line of `raw` (up to the first CR or LF).
pub fn first_line(raw: &[u8]) -> &[u8] {
    let end = memchr::memchr2(b'\r', b'\n', raw).unwrap_or(raw.len());
    raw.get(..end).unwrap_or(raw)
}

/// RFC 3261 7.1 / 7.2 start line and CSeq method of `raw`: (method, status),
/// status 0 for a request. None when the start line is neither (or not UTF-8).
pub fn classify(raw: &[u8]) -> Option<(MethodName, u16)> {
    classify_start(first_line(raw), || cseq_method(raw))
}

/// [`classify`] of a message whose start line ([`first_line`]) is `first`; `cseq`
/// gives the CSeq method as [`classify`] finds it (asked for responses only), for a
/// caller that saw the CSeq line in a pass of its own ([`CseqLine`]).
pub fn classify_start(first: &[u8], cseq: impl FnOnce() -> Option<MethodName>) -> Option<(MethodName, u16)> {
    // ASCII (the usual case, checked a word at a time) is UTF-8.
    if !first.is_ascii() {
        std::str::from_utf8(first).ok()?;
    }
    // RFC 3261 7.2: SIP-Version SP Status-Code SP Reason-Phrase.
    if let Some(rest) = first.strip_prefix(b"SIP/2.0 ") {
        let status: u16 = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
        return Some((cseq()?, status));
    }
    // RFC 3261 7.1: Method SP Request-URI SP SIP-Version.
    if !first.ends_with(b" SIP/2.0") {
        return None;
    }
    let sp = memchr(b' ', first)?;
    Some((MethodName::new(first.get(..sp)?)?, 0))
}

/// The CSeq method of a message as [`classify`] reads it, fed the header lines one by
/// one (up to the empty line): the first line named `CSeq` counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct CseqLine {
    found: Option<Option<MethodName>>,
}

impl CseqLine {
    /// Header line `line` (with or without its line end).
    #[inline]
    pub fn line(&mut self, line: &[u8]) {
        if self.found.is_none() {
            self.found = cseq_line(line);
        }
    }

    /// The method of the first CSeq line seen.
    pub fn method(&self) -> Option<MethodName> {
        self.found.flatten()
    }
}

/// When header line `line` is named CSeq (RFC 3261 20.16: `CSeq: 1 INVITE`; no compact
/// form, 7.3.3; the name is case-insensitive): its method, if valid.
fn cseq_line(line: &[u8]) -> Option<Option<MethodName>> {
    const CSEQ: Folded = Folded::new(b"cseq:");
    if !CSEQ.starts(line) {
        return None;
    }
    // The second whitespace-separated word after the colon (the first is the number).
    let word = |s: &[u8]| -> (usize, usize) {
        let start = s.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(s.len());
        (start, s.get(start..).and_then(|w| w.iter().position(u8::is_ascii_whitespace)).map_or(s.len(), |e| start + e))
    };
    let rest = line.get(5..).unwrap_or_default();
    let rest = rest.get(word(rest).1..).unwrap_or_default();
    let (start, end) = word(rest);
    Some(rest.get(start..end).filter(|m| !m.is_empty()).and_then(MethodName::new))
}

/// The method of the CSeq header, looked for in the header section only (it ends at
/// the first empty line, RFC 3261 7).
fn cseq_method(raw: &[u8]) -> Option<MethodName> {
    let mut rest = raw;
    loop {
        let end = memchr(b'\n', rest);
        let line = rest.get(..end.unwrap_or(rest.len()))?;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return None;
        }
        if let Some(found) = cseq_line(line) {
            return found;
        }
        rest = rest.get(end? + 1..)?;
    }
}

/// A row's key as compared on the hot path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Packed {
    dir: Direction,
    method: MethodName,
    status: u16,
}

impl Packed {
    /// The home slot: a multiplicative hash of the two halves of the name,
    /// the status and the direction.
    fn slot(&self) -> usize {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        let name = u128::from_le_bytes(self.method.bytes);
        let mut h = (name as u64).wrapping_mul(K) ^ ((name >> 64) as u64);
        h = h.wrapping_mul(K) ^ ((u64::from(self.status) << 1) | self.dir as u64);
        (h.wrapping_mul(K) >> 32) as usize & (SLOTS - 1)
    }

    fn key(&self) -> Key {
        Key { dir: self.dir, method: self.method.as_str().to_owned(), status: self.status }
    }
}

/// The counters.
#[derive(Debug)]
pub struct SipMethodCounters {
    /// Exported rows in first-seen order.
    entries: Vec<(Key, u64)>,
    /// The key of each row of `entries`, same index.
    packed: Vec<Packed>,
    /// Row index + 1 by hash slot, 0 for an empty slot.
    index: Box<[u16; SLOTS]>,
}

impl Default for SipMethodCounters {
    fn default() -> Self {
        SipMethodCounters { entries: Vec::with_capacity(MAX_KEYS), packed: Vec::with_capacity(MAX_KEYS), index: Box::new([0; SLOTS]) }
    }
}

/// Where a key is: its row, or the empty slot it would take.
enum Probe {
    Row(usize),
    Empty(usize),
}

impl SipMethodCounters {
    /// Counts one message `raw` in direction `dir` (unparsable ones are ignored).
    pub fn count(&mut self, dir: Direction, raw: &[u8]) {
        let Some((method, status)) = classify(raw) else { return };
        self.add(Packed { dir, method, status });
    }

    /// Counts one message in direction `dir` as classified by [`classify_start`] (None,
    /// not a SIP message, is ignored).
    pub fn count_classified(&mut self, dir: Direction, class: Option<(MethodName, u16)>) {
        let Some((method, status)) = class else { return };
        self.add(Packed { dir, method, status });
    }

    /// [`SipMethodCounters::count`] of a message already parsed (no second scan): the
    /// method of a request, the CSeq method and status of a response.
    pub fn count_parsed(&mut self, dir: Direction, msg: &crate::sip::Message<'_>) {
        let (name, status) = match (msg.method(), msg.status()) {
            (Some(m), _) => (m.as_bytes(), 0),
            (None, Some(code)) => match msg.cseq() {
                Ok(c) => (c.method.as_bytes(), code),
                Err(_) => return,
            },
            (None, None) => return,
        };
        let Some(method) = MethodName::new(name) else { return };
        self.add(Packed { dir, method, status });
    }

    fn probe(&self, key: &Packed) -> Option<Probe> {
        let mut s = key.slot();
        // At most MAX_KEYS slots are used, so an empty one comes within SLOTS steps.
        for _ in 0..SLOTS {
            match self.index[s] {
                0 => return Some(Probe::Empty(s)),
                n if self.packed.get(n as usize - 1) == Some(key) => return Some(Probe::Row(n as usize - 1)),
                _ => s = (s + 1) & (SLOTS - 1),
            }
        }
        None
    }

    fn bump(&mut self, row: usize) {
        if let Some(e) = self.entries.get_mut(row) {
            e.1 += 1;
        }
    }

    fn add(&mut self, key: Packed) {
        match self.probe(&key) {
            Some(Probe::Row(row)) => return self.bump(row),
            Some(Probe::Empty(slot)) if self.entries.len() < MAX_KEYS => {
                self.entries.push((key.key(), 1));
                self.packed.push(key);
                self.index[slot] = self.entries.len() as u16;
                return;
            }
            _ => {}
        }
        let other = Packed { method: MethodName::OTHER, ..key };
        match self.probe(&other) {
            Some(Probe::Row(row)) => self.bump(row),
            _ => self.last_row_becomes(other),
        }
    }

    /// The table is full and has no `other` row for this direction and
    /// status: the last row becomes it (once per such key; the index is rebuilt).
    fn last_row_becomes(&mut self, other: Packed) {
        if let (Some(last), Some(p)) = (self.entries.last_mut(), self.packed.last_mut()) {
            *last = (other.key(), last.1 + 1);
            *p = other;
        }
        self.index.fill(0);
        for row in 0..self.packed.len() {
            if let Some(Probe::Empty(s)) = self.packed.get(row).and_then(|k| self.probe(k)) {
                self.index[s] = row as u16 + 1;
            }
        }
    }

    /// Every key with its count.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, u64)> {
        self.entries.iter().map(|(k, n)| (k, *n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The former String-based classifier, kept as the oracle the fast one must match.
    fn reference(raw: &[u8]) -> Option<(String, u16)> {
        let first = raw.split(|b| *b == b'\r' || *b == b'\n').next()?;
        let text = std::str::from_utf8(first).ok()?;
        if let Some(rest) = text.strip_prefix("SIP/2.0 ") {
            let status: u16 = rest.get(..3)?.parse().ok()?;
            let all = std::str::from_utf8(raw).ok()?;
            let head = all.split("\r\n\r\n").next()?;
            let line = head.split("\r\n").find(|l| l.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("cseq:")))?;
            let m = line.get(5..)?.split_whitespace().nth(1)?;
            return (m.len() <= 16).then(|| (m.to_ascii_uppercase(), status));
        }
        if !text.ends_with(" SIP/2.0") {
            return None;
        }
        let method = text.split(' ').next().filter(|m| !m.is_empty() && m.len() <= 16)?;
        Some((method.to_ascii_uppercase(), 0))
    }

    fn fast(raw: &[u8]) -> Option<(String, u16)> {
        classify(raw).map(|(m, s)| (m.as_str().to_owned(), s))
    }

    #[test]
    fn requests_and_responses_are_keyed_by_method_and_status() {
        let mut c = SipMethodCounters::default();
        c.count(Direction::In, b"REGISTER sip:ims SIP/2.0\r\nCSeq: 1 REGISTER\r\n\r\n");
        c.count(Direction::Out, b"SIP/2.0 401 Unauthorized\r\nVia: x\r\ncseq: 1 register\r\n\r\n");
        c.count(Direction::Out, b"SIP/2.0 401 Unauthorized\r\nCSeq: 2 REGISTER\r\n\r\n");
        c.count(Direction::Out, b"garbage");
        let v: Vec<_> = c.iter().map(|(k, n)| (k.dir, k.method.as_str(), k.status, n)).collect();
        assert_eq!(v, vec![(Direction::In, "REGISTER", 0, 1), (Direction::Out, "REGISTER", 401, 2)]);
    }

    #[test]
    fn a_parsed_message_counts_like_its_bytes() {
        let msgs: [&[u8]; 4] = [
            b"INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
            b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\ncseq: 1 invite\r\nContent-Length: 0\r\n\r\n",
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK3\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
            b"FOO sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK4\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 FOO\r\nContent-Length: 0\r\n\r\n",
        ];
        let (mut bytes, mut parsed) = (SipMethodCounters::default(), SipMethodCounters::default());
        for m in msgs {
            bytes.count(Direction::In, m);
            parsed.count_parsed(Direction::In, &crate::sip::Message::parse(m).expect("test message parses"));
        }
        let rows = |c: &SipMethodCounters| c.iter().map(|(k, n)| (k.method.clone(), k.status, n)).collect::<Vec<_>>();
        assert_eq!(rows(&bytes), rows(&parsed));
        assert_eq!(rows(&parsed).len(), 4);
    }

    #[test]
    fn keys_are_bounded() {
        let mut c = SipMethodCounters::default();
        for i in 0..MAX_KEYS + 10 {
            c.count(Direction::In, format!("M{i} sip:x SIP/2.0\r\n\r\n").as_bytes());
        }
        assert_eq!(c.iter().count(), MAX_KEYS);
        assert_eq!(c.iter().map(|(_, n)| n).sum::<u64>(), (MAX_KEYS + 10) as u64);
        let last = c.iter().last().map(|(k, n)| (k.method.clone(), n));
        assert_eq!(last, Some(("other".to_owned(), 11)), "the last row became `other` and took the overflow");
        // Rows found through the rebuilt index keep counting where they are.
        c.count(Direction::In, b"M0 sip:x SIP/2.0\r\n\r\n");
        c.count(Direction::In, b"NEW sip:x SIP/2.0\r\n\r\n");
        let first = c.iter().next().map(|(k, n)| (k.method.clone(), n));
        assert_eq!(first, Some(("M0".to_owned(), 2)));
        assert_eq!(c.iter().last().map(|(_, n)| n), Some(12));
    }

    #[test]
    fn every_known_method_and_status_gets_its_own_row() {
        let methods = ["INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "PRACK", "SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"];
        let mut c = SipMethodCounters::default();
        for (i, m) in methods.iter().enumerate() {
            for _ in 0..=i {
                c.count(Direction::Out, format!("{m} sip:x SIP/2.0\r\nCSeq: 1 {m}\r\n\r\n").as_bytes());
                c.count(Direction::In, format!("SIP/2.0 200 OK\r\nCSeq: 1 {m}\r\n\r\n").as_bytes());
                c.count(Direction::In, format!("SIP/2.0 180 Ringing\r\nCSeq: 1 {m}\r\n\r\n").as_bytes());
            }
        }
        assert_eq!(c.iter().count(), 3 * methods.len());
        for (k, n) in c.iter() {
            let i = methods.iter().position(|m| *m == k.method).expect("a known method");
            assert_eq!(n, i as u64 + 1, "{k:?}");
        }
    }

    #[test]
    fn cseq_is_read_from_the_header_section_only() {
        assert_eq!(fast(b"SIP/2.0 200 OK\r\nVia: x\r\n\r\nCSeq: 1 INVITE\r\n"), None);
        assert_eq!(fast(b"SIP/2.0 200 OK\r\nX-CSeq: 9 BYE\r\nCSEQ:  7\tinfo \r\n\r\n"), Some(("INFO".into(), 200)));
        assert_eq!(fast(b"SIP/2.0 200 OK\r\nCSeq: 7\r\n\r\n"), None, "no method");
        assert_eq!(fast(b"SIP/2.0 200 OK\r\nCSeq: 7 AVERYLONGMETHODNAME\r\n\r\n"), None, "longer than MAX_METHOD");
        // A binary body does not hide the CSeq (the former whole-message UTF-8 check did).
        assert_eq!(fast(b"SIP/2.0 200 OK\r\nCSeq: 1 MESSAGE\r\n\r\n\xff\xfe"), Some(("MESSAGE".into(), 200)));
    }

    #[test]
    fn the_fast_classifier_agrees_with_the_former_one() {
        let mut cases: Vec<Vec<u8>> = crate::sip::fuzzing::CORPUS.iter().map(|m| m.to_vec()).collect();
        for raw in [
            &b"invite sip:b@x SIP/2.0\r\nCSeq: 1 invite\r\n\r\n"[..],
            b"SIP/2.0 486 Busy Here\r\nVia: a\r\nCSeq: 12 INVITE\r\nContent-Length: 0\r\n\r\n",
            b"SIP/2.0 2x0 OK\r\nCSeq: 1 BYE\r\n\r\n",
            b"SIP/2.0 20",
            b"SIP/2.0 200 OK\r\n",
            b"SIP/2.0 200 OK",
            b"SIP/2.0 200 OK\r\nCSeq: 1 BYE",
            b" sip:x SIP/2.0\r\n\r\n",
            b"INVITE sip:x SIP/2.1\r\n\r\n",
            b"INVITE\xff sip:x SIP/2.0\r\n\r\n",
            b"SIP/2.0 \xe2\x82\xac OK\r\n\r\n",
            b"",
            b"\r\n",
            b"SIP/2.0 603 Decline\rCSeq: 1 BYE\r\n\r\n",
        ] {
            cases.push(raw.to_vec());
        }
        for raw in &cases {
            assert_eq!(fast(raw), reference(raw), "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    // assert_no_alloc counts allocator calls in debug builds only (feature warn_debug).
    #[cfg(debug_assertions)]
    fn counting_a_known_key_does_not_allocate() {
        let mut c = SipMethodCounters::default();
        let ok = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";
        c.count(Direction::Out, ok);
        // The crate's test allocator (sip/transaction/tests_alloc.rs) counts this thread's calls.
        assert_no_alloc::reset_violation_count();
        assert_no_alloc::assert_no_alloc(|| {
            for _ in 0..10 {
                c.count(Direction::Out, ok);
            }
        });
        assert_eq!(assert_no_alloc::violation_count(), 0, "allocator calls while counting");
        assert_eq!(c.iter().next().map(|(_, n)| n), Some(11));
    }
}
