//! The Prometheus scrape endpoint's HTTP/1.1 side, sans-IO: one request per
//! connection (RFC 9112: `Connection: close` answers), `GET /metrics` only,
//! a bounded request head and a deadline, so a client can hold at most one
//! slot for a few seconds.

use std::time::{Duration, Instant};

/// Largest request head accepted (RFC 9110 15.5.14: larger heads get 431).
const MAX_HEAD: usize = 8 * 1024;
/// Time a connection may stay open.
const LIFETIME: Duration = Duration::from_secs(5);
/// The Prometheus text exposition format 0.0.4.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One metrics connection.
#[derive(Debug)]
pub struct HttpConn {
    head: Vec<u8>,
    out: Vec<u8>,
    sent: usize,
    deadline: Instant,
    answered: bool,
    wants_body: bool,
    peer_closed: bool,
}

impl HttpConn {
    /// A connection accepted at `now`.
    pub fn new(now: Instant) -> HttpConn {
        HttpConn { head: Vec::new(), out: Vec::new(), sent: 0, deadline: now + LIFETIME, answered: false, wants_body: false, peer_closed: false }
    }

    /// Bytes read from the socket.
    pub fn handle_bytes(&mut self, data: &[u8]) {
        if self.answered {
            return;
        }
        let room = MAX_HEAD.saturating_sub(self.head.len());
        self.head.extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
        if let Some(end) = find(&self.head, b"\r\n\r\n") {
            let line = self.head.get(..end).unwrap_or_default().split(|b| *b == b'\r').next().unwrap_or_default();
            let line = String::from_utf8_lossy(line).to_string();
            self.route(&line);
        } else if self.head.len() >= MAX_HEAD {
            self.answer(431, "Request Header Fields Too Large", "text/plain", b"request head too large\n");
        }
    }

    fn route(&mut self, request_line: &str) {
        let mut parts = request_line.split(' ');
        let (method, target, version) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if !version.starts_with("HTTP/1.") {
            return self.answer(400, "Bad Request", "text/plain", b"bad request line\n");
        }
        let path = target.split('?').next().unwrap_or("");
        match (method, path) {
            ("GET", "/metrics") => {
                self.answered = true;
                self.wants_body = true;
            }
            (_, "/metrics") => self.answer(405, "Method Not Allowed", "text/plain", b"only GET\n"),
            _ => self.answer(404, "Not Found", "text/plain", b"see /metrics\n"),
        }
    }

    fn answer(&mut self, code: u16, reason: &str, ctype: &str, body: &[u8]) {
        self.answered = true;
        self.wants_body = false;
        self.out = format!("HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
        self.out.extend_from_slice(body);
        self.sent = 0;
    }

    /// The socket reached end of file or failed.
    pub fn peer_closed(&mut self) {
        self.peer_closed = true;
    }

    /// True once a complete request head was read (or refused).
    pub fn has_request(&self) -> bool {
        self.answered
    }

    /// True when the caller must render the metrics and pass them to [`HttpConn::respond_metrics`].
    pub fn wants_body(&self) -> bool {
        self.wants_body
    }

    /// Answers the pending `GET /metrics` with `body`.
    pub fn respond_metrics(&mut self, body: &str) {
        self.answer(200, "OK", CONTENT_TYPE, body.as_bytes());
    }

    /// Bytes still to write.
    pub fn pending(&self) -> &[u8] {
        self.out.get(self.sent..).unwrap_or_default()
    }

    /// Marks `n` bytes of [`HttpConn::pending`] as written.
    pub fn consume(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.out.len());
    }

    /// True when the connection can be closed: answered and flushed, peer gone, or expired.
    pub fn is_done(&self, now: Instant) -> bool {
        (self.answered && !self.wants_body && self.pending().is_empty()) || self.peer_closed || self.is_expired(now)
    }

    /// True once the connection outlived its deadline.
    pub fn is_expired(&self, now: Instant) -> bool {
        now >= self.deadline
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(c: &HttpConn) -> String {
        String::from_utf8_lossy(c.pending()).into_owned()
    }

    #[test]
    fn get_metrics_is_answered_with_the_body() {
        let now = Instant::now();
        let mut c = HttpConn::new(now);
        c.handle_bytes(b"GET /metrics HTTP/1.1\r\nHost: x\r\n");
        assert!(!c.has_request());
        c.handle_bytes(b"\r\n");
        assert!(c.wants_body());
        c.respond_metrics("a 1\n# EOF\n");
        let t = text(&c);
        assert!(t.starts_with("HTTP/1.1 200 OK\r\n"), "{t}");
        assert!(t.contains("Content-Length: 10\r\n") && t.ends_with("a 1\n# EOF\n"));
        let n = c.pending().len();
        c.consume(n);
        assert!(c.is_done(now));
    }

    #[test]
    fn other_paths_methods_and_huge_heads_are_refused() {
        let now = Instant::now();
        let mut c = HttpConn::new(now);
        c.handle_bytes(b"GET / HTTP/1.1\r\n\r\n");
        assert!(text(&c).starts_with("HTTP/1.1 404"));
        let mut c = HttpConn::new(now);
        c.handle_bytes(b"POST /metrics HTTP/1.1\r\n\r\n");
        assert!(text(&c).starts_with("HTTP/1.1 405"));
        let mut c = HttpConn::new(now);
        c.handle_bytes(&[b'a'; MAX_HEAD + 10]);
        assert!(text(&c).starts_with("HTTP/1.1 431"));
        let c = HttpConn::new(now);
        assert!(c.is_done(now + LIFETIME));
    }
}
