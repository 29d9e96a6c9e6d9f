//! SIP messages by method and status code as seen by the control thread
//! (requests and responses it receives from and sends through the workers;
//! OPTIONS answered inside a worker are counted there). One writer (the
//! control thread) and a fixed bound on distinct keys, so no atomics and no
//! growth past start-up size.

/// Most distinct (direction, method, status) keys kept; further keys are
/// folded into the `other` method.
pub const MAX_KEYS: usize = 256;

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

/// The counters.
#[derive(Debug, Default)]
pub struct SipMethodCounters {
    entries: Vec<(Key, u64)>,
}

/// RFC 3261 7.1 / 7.2 start line and CSeq method of `raw`: (method, status).
pub fn classify(raw: &[u8]) -> Option<(String, u16)> {
    let first = raw.split(|b| *b == b'\r' || *b == b'\n').next()?;
    let text = std::str::from_utf8(first).ok()?;
    if let Some(rest) = text.strip_prefix("SIP/2.0 ") {
        let status: u16 = rest.get(..3)?.parse().ok()?;
        return Some((cseq_method(raw)?, status));
    }
    // RFC 3261 7.1: Method SP Request-URI SP SIP-Version.
    if !text.ends_with(" SIP/2.0") {
        return None;
    }
    let method = text.split(' ').next().filter(|m| !m.is_empty() && m.len() <= 16)?;
    Some((method.to_ascii_uppercase(), 0))
}

/// The method of the CSeq header (RFC 3261 20.16).
fn cseq_method(raw: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(raw).ok()?;
    let head = text.split("\r\n\r\n").next()?;
    let line = head.split("\r\n").find(|l| l.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("cseq:")))?;
    let m = line.get(5..)?.split_whitespace().nth(1)?;
    (m.len() <= 16).then(|| m.to_ascii_uppercase())
}

impl SipMethodCounters {
    /// Counts one message `raw` in direction `dir` (unparsable ones are ignored).
    pub fn count(&mut self, dir: Direction, raw: &[u8]) {
        let Some((method, status)) = classify(raw) else { return };
        self.add(Key { dir, method, status });
    }

    fn add(&mut self, key: Key) {
        if let Some(e) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            e.1 += 1;
            return;
        }
        if self.entries.len() < MAX_KEYS {
            self.entries.push((key, 1));
            return;
        }
        let other = Key { method: "other".into(), ..key };
        match self.entries.iter_mut().find(|(k, _)| *k == other) {
            Some(e) => e.1 += 1,
            None => {
                if let Some(last) = self.entries.last_mut() {
                    // The table is full and has no `other` row: the last row becomes it.
                    *last = (other, last.1 + 1);
                }
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
    fn keys_are_bounded() {
        let mut c = SipMethodCounters::default();
        for i in 0..MAX_KEYS + 10 {
            c.count(Direction::In, format!("M{i} sip:x SIP/2.0\r\n\r\n").as_bytes());
        }
        assert_eq!(c.iter().count(), MAX_KEYS);
        assert_eq!(c.iter().map(|(_, n)| n).sum::<u64>(), (MAX_KEYS + 10) as u64);
    }
}
