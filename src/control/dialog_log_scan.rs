//! The few facts the dialog log needs from a SIP message and from the UE's SDP, found
//! without allocating: the message's label, Call-ID and SDP body ([`Facts`]), read in
//! one pass over the bytes without a full parse ([`scan`], for the messages ringcore
//! sends) or from the message the control thread already parsed ([`facts`], for the
//! ones it receives), and the media sections with their direction
//! ([`SdpSections::scan`]).

use super::{Label, Section, MAX_SECTIONS};
use crate::sdp::{Direction, MediaKind, SdpView, MAX_MEDIA};
use crate::sip::{HeaderName, Message};
use crate::stats::ascii::Folded;

/// What a message event needs: its label, its Call-ID and its body when it is SDP.
pub type Facts<'a> = (Label, &'a str, Option<&'a [u8]>);

/// The method names events carry (anything else is `OTHER`), so that an event
/// holds a `&'static str` and recording allocates nothing.
const METHODS: [&str; 14] =
    ["INVITE", "ACK", "BYE", "CANCEL", "PRACK", "UPDATE", "INFO", "MESSAGE", "OPTIONS", "REFER", "NOTIFY", "SUBSCRIBE", "REGISTER", "PUBLISH"];

/// Bytes of a header line searched for its colon: the longest name looked for
/// (`Content-Type`, 12) with room for the whitespace RFC 3261 25.1 allows before it.
const NAME_SPAN: usize = 32;

/// The static name of method `m` (`OTHER` when not a known one).
pub fn method_name(m: &[u8]) -> &'static str {
    METHODS.iter().find(|n| n.as_bytes().eq_ignore_ascii_case(m)).copied().unwrap_or("OTHER")
}

/// The parts of a message an event needs, found without a full parse: the label, the
/// Call-ID and the body when it is SDP. None when not a SIP message (a bad status code, no
/// Call-ID). The header ends at the first empty line (RFC 3261 7);
/// a message without one is all header and has no body. When a header field repeats,
/// the last one counts.
pub fn scan(msg: &[u8]) -> Option<Facts<'_>> {
    scan_lines(msg, |_| {}).facts
}

/// What [`scan_lines`] found: the facts of [`scan`] and where the header section's
/// empty line starts (None when there is none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scanned<'a> {
    /// [`scan`]'s answer.
    pub facts: Option<Facts<'a>>,
    /// Offset of the first empty line after the start line.
    pub empty_line: Option<usize>,
}

/// [`scan`], handing on the way to `each` the lines of the header section (the start
/// line first, the empty line excluded, each with its line end) that can be CSeq,
/// Server or User-Agent lines: those beginning with `s` or `u` in any case, and those
/// [`header`] reads as CSeq (every line starting `CSeq:` in any case is one). So the
/// other readers of a message ringcore sends (method counters, user agent rewrite)
/// need no pass of their own.
pub fn scan_lines<'a>(msg: &'a [u8], mut each: impl FnMut(&'a [u8])) -> Scanned<'a> {
    let (mut call_id, mut cseq, mut sdp) = (None, None, false);
    let mut lines = memchr::memchr_iter(b'\n', msg);
    let first_end = lines.next();
    let mut start = first_end.map_or(msg.len(), |nl| nl + 1);
    let first = line(msg, 0, first_end);
    if matches!(first.first().map(u8::to_ascii_lowercase), Some(b's' | b'u')) || matches!(header(first), Some((Field::CSeq, _))) {
        each(msg.get(..start).unwrap_or_default());
    }
    let (mut body, mut empty_line): (&[u8], _) = (&[], None);
    while start < msg.len() {
        let end = lines.next();
        let next = end.map_or(msg.len(), |nl| nl + 1);
        // Only empty lines and those starting with `c` or `i` ([`header`]) matter here,
        // and those starting with `c`, `s` or `u` to `each`: the others are passed over
        // at their first byte.
        let raw = msg.get(start..next).unwrap_or_default();
        match raw.first().copied().unwrap_or(b'\n') {
            b'\r' | b'\n' if line(msg, start, end).is_empty() => {
                body = msg.get(next..).unwrap_or_default();
                empty_line = Some(start);
                break;
            }
            b'c' | b'C' | b'i' | b'I' => {
                match header(line(msg, start, end)) {
                    Some((Field::CallId, value)) => call_id = std::str::from_utf8(value).ok(),
                    Some((Field::CSeq, value)) => {
                        cseq = cseq_method(value);
                        each(raw);
                    }
                    Some((Field::ContentType, value)) => sdp = crate::sdp::is_media_type(value),
                    None => {}
                }
            }
            b's' | b'S' | b'u' | b'U' => each(raw),
            _ => {}
        }
        start = next;
    }
    let facts = || {
        let label = match first.strip_prefix(b"SIP/2.0 ") {
            Some(rest) => {
                let code = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
                Label::Response(code, cseq.unwrap_or("OTHER"))
            }
            None => Label::Request(method_name(first.split(|&b| b == b' ').next()?)),
        };
        Some((label, call_id?, (sdp && !body.is_empty()).then_some(body)))
    };
    Scanned { facts: facts(), empty_line }
}

/// The facts [`scan`] finds, read from message `msg` the control thread already parsed
/// (no second pass over its bytes). As in [`scan`], the last Call-ID, CSeq and
/// Content-Type fields count; the body is the one the message's framing gives
/// (Content-Length, RFC 3261 18.3). None without a Call-ID or a valid response code.
pub fn facts<'a>(msg: &Message<'a>) -> Option<Facts<'a>> {
    let last = |name| msg.headers_of(name).last();
    let call_id = std::str::from_utf8(last(HeaderName::CallId)?).ok()?;
    let label = match (msg.method(), msg.status()) {
        (Some(m), _) => Label::Request(method_name(m.as_bytes())),
        (None, Some(code)) => Label::Response(code, last(HeaderName::CSeq).and_then(cseq_method).unwrap_or("OTHER")),
        (None, None) => return None,
    };
    let sdp = last(HeaderName::ContentType).is_some_and(crate::sdp::is_media_type);
    let body = msg.body();
    Some((label, call_id, (sdp && !body.is_empty()).then_some(body)))
}

/// True when the value of To header field `value` carries a tag (an in-dialog
/// request, RFC 3261 12.2).
pub fn has_tag(value: &[u8]) -> bool {
    value.windows(5).any(|w| w.eq_ignore_ascii_case(b";tag="))
}

/// Line `msg[start..end]` without its CR (to the end of `msg` when `end` is None).
fn line(msg: &[u8], start: usize, end: Option<usize>) -> &[u8] {
    let line = msg.get(start..end.unwrap_or(msg.len())).unwrap_or_default();
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The method of CSeq value `value` (its second word).
fn cseq_method(value: &[u8]) -> Option<&'static str> {
    value.split(|&b| b == b' ').filter(|t| !t.is_empty()).nth(1).map(method_name)
}

/// The header fields [`scan`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    /// Call-ID (`i`).
    CallId,
    /// CSeq.
    CSeq,
    /// Content-Type (`c`).
    ContentType,
}

/// Field and value of header line `line` when it is one [`scan`] reads: the line starts
/// with the field's name (any case), then optional whitespace and the colon (RFC 3261
/// 25.1 HCOLON), the colon within the first [`NAME_SPAN`] bytes. The fields are
/// Call-ID, CSeq and Content-Type; RFC 3261 7.3.3: `i` and `c` are the compact forms
/// of Call-ID and Content-Type. Lines not starting with `c` or `i` are passed over at
/// their first byte.
pub(super) fn header(line: &[u8]) -> Option<(Field, &[u8])> {
    // The names differ by their first two bytes, and a compact `c` is followed by
    // whitespace or the colon: one name at most can match.
    const CALL_ID: Folded = Folded::new(b"call-id");
    const CSEQ: Folded = Folded::new(b"cseq");
    const CONTENT_TYPE: Folded = Folded::new(b"content-type");
    const I: Folded = Folded::new(b"i");
    const C: Folded = Folded::new(b"c");
    let (name, field) = match (line.first()?.to_ascii_lowercase(), line.get(1).map(u8::to_ascii_lowercase)) {
        (b'i', _) => (I, Field::CallId),
        (b'c', Some(b'a')) => (CALL_ID, Field::CallId),
        (b'c', Some(b's')) => (CSEQ, Field::CSeq),
        (b'c', Some(b'o')) => (CONTENT_TYPE, Field::ContentType),
        (b'c', _) => (C, Field::ContentType),
        _ => return None,
    };
    if !name.starts(line) {
        return None;
    }
    let rest = line.get(name.name().len()..)?;
    // Usually the colon follows the name.
    let space = match rest.first() {
        Some(b':') => 0,
        _ => rest.iter().take_while(|b| b.is_ascii_whitespace()).count(),
    };
    let colon = name.name().len() + space < NAME_SPAN && rest.get(space) == Some(&b':');
    colon.then(|| (field, rest.get(space + 1..).unwrap_or_default().trim_ascii()))
}

/// The media sections of an SDP body (the first [`MAX_SECTIONS`]), each with its
/// effective direction, read from its `m=` and direction `a=` lines only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdpSections {
    sections: [Section; MAX_SECTIONS],
    len: usize,
}

impl SdpSections {
    /// The sections of `body`; None when it is not SDP: a line of bad syntax (checked
    /// by [`SdpView`]), no `v=` line first, an `m=` line without a known media type
    /// and a port, or more than [`MAX_MEDIA`] media (limits of the full parser).
    pub fn scan(body: &[u8]) -> Option<SdpSections> {
        const BLANK: Section = Section { kind: "", dir: Direction::SendRecv, removed: false };
        let view = SdpView::new_checked(body).ok()?;
        let mut lines = view.lines();
        if lines.next()?.kind != b'v' {
            return None;
        }
        let mut out = SdpSections { sections: [BLANK; MAX_SECTIONS], len: 0 };
        let (mut media, mut session_dir) = (0usize, None);
        let mut dirs: [Option<Direction>; MAX_SECTIONS] = [None; MAX_SECTIONS];
        for line in lines {
            match line.kind {
                b'm' => {
                    let mut t = line.value.split(' ');
                    let kind = MediaKind::parse(t.next()?)?;
                    let port: u16 = t.next()?.split('/').next()?.parse().ok()?;
                    media += 1;
                    if media > MAX_MEDIA {
                        return None;
                    }
                    if let Some(s) = out.sections.get_mut(media - 1) {
                        *s = Section { kind: kind.as_str(), dir: Direction::SendRecv, removed: port == 0 };
                        out.len = media;
                    }
                }
                // RFC 3264 6.1 / RFC 8866 6.7: the first direction attribute of a
                // level counts; a media level one overrides the session level one.
                b'a' => {
                    let Some(d) = direction(line.value) else { continue };
                    let slot = match media.checked_sub(1) {
                        None => &mut session_dir,
                        Some(i) => match dirs.get_mut(i) {
                            Some(slot) => slot,
                            None => continue,
                        },
                    };
                    slot.get_or_insert(d);
                }
                _ => {}
            }
        }
        let session_dir = session_dir.unwrap_or(Direction::SendRecv);
        for (s, d) in out.sections.iter_mut().zip(dirs) {
            s.dir = d.unwrap_or(session_dir);
        }
        Some(out)
    }

    /// The sections in SDP order.
    pub fn as_slice(&self) -> &[Section] {
        self.sections.get(..self.len).unwrap_or_default()
    }
}

/// The direction attribute `a=<value>` names, if any (RFC 8866 6.7).
fn direction(value: &str) -> Option<Direction> {
    Some(match value {
        "sendrecv" => Direction::SendRecv,
        "sendonly" => Direction::SendOnly,
        "recvonly" => Direction::RecvOnly,
        "inactive" => Direction::Inactive,
        _ => return None,
    })
}
