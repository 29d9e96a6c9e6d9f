//! The few facts the dialog log needs from a SIP message and from the UE's SDP, found
//! in one pass over the bytes without a full parse and without allocating: the
//! message's label, Call-ID and SDP body ([`scan`]), and the media sections with their
//! direction ([`SdpSections::scan`]).

use super::{Label, Section, MAX_SECTIONS};
use crate::sdp::{Direction, MediaKind, SdpView, MAX_MEDIA};

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
/// Call-ID and the body when it is SDP. None when not a SIP message (no start line, a
/// bad status code, no Call-ID). The header ends at the first empty line (RFC 3261 7);
/// a message without one is all header and has no body.
pub fn scan(msg: &[u8]) -> Option<(Label, &str, Option<&[u8]>)> {
    let (mut call_id, mut cseq_method, mut sdp) = (None, None, false);
    let mut first: Option<&[u8]> = None;
    let mut body: &[u8] = &[];
    let mut start = 0;
    while start < msg.len() {
        let rest = msg.get(start..).unwrap_or_default();
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(nl) => (rest.get(..nl).unwrap_or_default(), start + nl + 1),
            None => (rest, msg.len()),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if first.is_none() {
            first = Some(line);
        } else if line.is_empty() {
            body = msg.get(next..).unwrap_or_default();
            break;
        } else if let Some((name, value)) = header(line) {
            // RFC 3261 7.3.3: `i` and `c` are the compact forms of Call-ID and Content-Type.
            if name.eq_ignore_ascii_case(b"call-id") || name.eq_ignore_ascii_case(b"i") {
                call_id = std::str::from_utf8(value).ok();
            } else if name.eq_ignore_ascii_case(b"cseq") {
                cseq_method = value.split(|&b| b == b' ').filter(|t| !t.is_empty()).nth(1).map(method_name);
            } else {
                sdp = value.get(..15).is_some_and(|t| t.eq_ignore_ascii_case(b"application/sdp"));
            }
        }
        start = next;
    }
    let first = first?;
    let label = match first.strip_prefix(b"SIP/2.0 ") {
        Some(rest) => {
            let code = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
            Label::Response(code, cseq_method.unwrap_or("OTHER"))
        }
        None => Label::Request(method_name(first.split(|&b| b == b' ').next()?)),
    };
    Some((label, call_id?, (sdp && !body.is_empty()).then_some(body)))
}

/// Name and value of header line `line` when it is one [`scan`] looks at (Call-ID,
/// CSeq, Content-Type, long or compact): only lines starting with `c` or `i` and
/// having a colon in their first [`NAME_SPAN`] bytes are split.
fn header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    if !matches!(line.first(), Some(b'c' | b'C' | b'i' | b'I')) {
        return None;
    }
    let colon = memchr::memchr(b':', line.get(..NAME_SPAN).unwrap_or(line))?;
    let name = trim(line.get(..colon)?);
    let known = [&b"call-id"[..], b"i", b"cseq", b"content-type", b"c"].iter().any(|n| name.eq_ignore_ascii_case(n));
    known.then(|| (name, trim(line.get(colon + 1..).unwrap_or_default())))
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let e = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(s, |i| i + 1);
    b.get(s..e).unwrap_or(&[])
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
