//! Test-only [`TxMessage`] over SIP text: a minimal, allocation-free line splitter (no
//! folding, no compact forms), enough to drive the transaction layer with real messages.

use super::message::{TxHeader, TxMessage};

const MAX: usize = 32;

/// A SIP message split into its start line and header lines.
pub struct TestMsg<'a> {
    start: &'a [u8],
    /// (name, value, whole line)
    lines: [(&'a [u8], &'a [u8], &'a [u8]); MAX],
    n: usize,
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The value of `;name=` in `s`, up to the next `;`, `,` or `>`.
fn param<'a>(s: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut pat = [0u8; 16];
    pat[0] = b';';
    pat[1..1 + name.len()].copy_from_slice(name);
    pat[1 + name.len()] = b'=';
    let at = find(s, &pat[..name.len() + 2])? + name.len() + 2;
    let rest = &s[at..];
    let end = rest
        .iter()
        .position(|c| matches!(c, b';' | b',' | b'>'))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

impl<'a> TestMsg<'a> {
    /// Splits `raw` (CRLF line ends, blank line before the body).
    pub fn parse(raw: &'a [u8]) -> TestMsg<'a> {
        let mut m = TestMsg {
            start: &[],
            lines: [(&[], &[], &[]); MAX],
            n: 0,
        };
        let mut rest = raw;
        let mut first = true;
        while let Some(end) = find(rest, b"\r\n") {
            let line = &rest[..end];
            rest = &rest[end + 2..];
            if line.is_empty() {
                break;
            }
            if first {
                m.start = line;
                first = false;
            } else if let Some(colon) = line.iter().position(|&c| c == b':') {
                m.lines[m.n] = (trim(&line[..colon]), trim(&line[colon + 1..]), line);
                m.n += 1;
            }
        }
        m
    }

    fn value(&self, name: &str) -> Option<&'a [u8]> {
        self.lines[..self.n]
            .iter()
            .find(|l| l.0.eq_ignore_ascii_case(name.as_bytes()))
            .map(|l| l.1)
    }

    fn word(&self, i: usize) -> &'a [u8] {
        self.start.split(|&c| c == b' ').nth(i).unwrap_or(&[])
    }
}

fn header_name(h: TxHeader) -> &'static str {
    match h {
        TxHeader::Via => "Via",
        TxHeader::From => "From",
        TxHeader::To => "To",
        TxHeader::CallId => "Call-ID",
        TxHeader::CSeq => "CSeq",
        TxHeader::Route => "Route",
        TxHeader::Timestamp => "Timestamp",
    }
}

impl TxMessage for TestMsg<'_> {
    fn is_request(&self) -> bool {
        !self.start.starts_with(b"SIP/2.0 ")
    }
    fn method(&self) -> &[u8] {
        self.word(0)
    }
    fn status(&self) -> u16 {
        std::str::from_utf8(self.word(1))
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
    fn request_uri(&self) -> &[u8] {
        self.word(1)
    }
    fn cseq(&self) -> (u32, &[u8]) {
        let v = self.value("CSeq").unwrap_or(&[]);
        let mut it = v.split(|&c| c == b' ').filter(|w| !w.is_empty());
        let n = it
            .next()
            .and_then(|w| std::str::from_utf8(w).ok()?.parse().ok())
            .unwrap_or(0);
        (n, it.next().unwrap_or(&[]))
    }
    fn top_via(&self) -> &[u8] {
        let v = self.value("Via").unwrap_or(&[]);
        trim(v.split(|&c| c == b',').next().unwrap_or(&[]))
    }
    fn top_via_branch(&self) -> Option<&[u8]> {
        param(self.top_via(), b"branch")
    }
    fn top_via_sent_by(&self) -> &[u8] {
        let v = self.top_via();
        let after = v
            .iter()
            .position(|&c| c == b' ')
            .map_or(v, |i| trim(&v[i..]));
        after.split(|&c| c == b';').next().unwrap_or(&[])
    }
    fn call_id(&self) -> &[u8] {
        self.value("Call-ID").unwrap_or(&[])
    }
    fn from_tag(&self) -> Option<&[u8]> {
        param(self.value("From")?, b"tag")
    }
    fn to_tag(&self) -> Option<&[u8]> {
        param(self.value("To")?, b"tag")
    }
    fn header_line(&self, name: TxHeader, index: usize) -> Option<&[u8]> {
        let name = header_name(name).as_bytes();
        self.lines[..self.n]
            .iter()
            .filter(|l| l.0.eq_ignore_ascii_case(name))
            .nth(index)
            .map(|l| l.2)
    }
}
