//! The last touch on every SIP message the control thread sends (seed 000
//! `custom_headers`, `user_agent`, `force_user_agent`): rule headers added
//! to the requests and responses they select (by method, and by status
//! code for responses; `replace` keeps a single occurrence), and our
//! User-Agent (requests) or Server (responses) value, RFC 3261 20.41/20.35.
//!
//! The rewrite happens in place in the command's buffer: dropped header
//! lines are squeezed out, the tail (empty line and body) moves once, and
//! the added headers are written into the gap. Nothing is allocated unless
//! the buffer has to grow, and a message that already carries exactly our
//! user agent once (and no rule applies) costs one scan of its header section.

use crate::config::typed::{CustomHeader, SipSettings};
use crate::endpoint::ToWorker;
use crate::sip::Message;
use crate::stats::ascii::Folded;
use memchr::memchr;

/// Largest header section rewritten; bigger messages go out unchanged. Far
/// above what ringcore's builders write (a few hundred bytes) and above a
/// UDP datagram's practical size (RFC 3261 18.1.1), it bounds the scans of
/// relayed peer content.
const MAX_HEAD: usize = 16 * 1024;

/// Longest request method kept inline for rule selection; a longer one (an
/// extension method, RFC 3261 7.1 allows any token) is copied to the heap.
const INLINE_METHOD: usize = 16;

/// The message rewriter.
#[derive(Clone, Debug, Default)]
pub struct Rewriter {
    rules: Vec<CustomHeader>,
    user_agent: String,
    force_user_agent: bool,
}

fn method_matches(rule: &CustomHeader, method: &[u8]) -> bool {
    rule.methods.is_empty() || rule.methods.iter().any(|m| m == "*" || m.as_bytes().eq_ignore_ascii_case(method))
}

/// RFC 3261 7.3.1: the name of a header line, compared case-insensitively
/// (User-Agent and Server have no compact form, 7.3.3; rule names are
/// matched as configured). Whitespace before the colon is allowed (HCOLON).
fn line_is(line: &[u8], name: &[u8]) -> bool {
    let n = memchr(b':', line).and_then(|i| line.get(..i)).unwrap_or(line);
    n.trim_ascii().eq_ignore_ascii_case(name)
}

/// RFC 3261 7.3.1: a line starting with whitespace continues the previous header.
fn is_continuation(line: &[u8]) -> bool {
    matches!(line.first(), Some(b' ' | b'\t'))
}

/// The header lines of `head` (the start line first), each with its line end.
fn lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = head;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

/// Offset just past the last header line's CRLF (where the empty line
/// starts), when the header section fits in [`MAX_HEAD`].
fn head_end(raw: &[u8]) -> Option<usize> {
    let end = memchr::memmem::find(raw.get(..MAX_HEAD + 2).unwrap_or(raw), b"\r\n\r\n")? + 2;
    (end <= MAX_HEAD).then_some(end)
}

/// What selects rules: the request method, or the CSeq method (RFC 3261
/// 20.16) and the status code of a response, copied out of the message so
/// the buffer can be rewritten.
struct Selector {
    len: usize,
    inline: [u8; INLINE_METHOD],
    long: Vec<u8>,
    code: Option<u16>,
}

impl Selector {
    fn of(raw: &[u8]) -> Option<Self> {
        let msg = Message::parse(raw).ok()?;
        let (method, code) = match msg.method() {
            Some(m) => (m.as_bytes(), None),
            None => (msg.cseq().ok()?.method.as_bytes(), msg.status()),
        };
        let mut s = Selector { len: method.len(), inline: [0; INLINE_METHOD], long: Vec::new(), code };
        match s.inline.get_mut(..method.len()) {
            Some(dst) => dst.copy_from_slice(method),
            None => s.long = method.to_vec(),
        }
        Some(s)
    }

    fn method(&self) -> &[u8] {
        self.inline.get(..self.len).unwrap_or(&self.long)
    }

    fn selects(&self, r: &CustomHeader) -> bool {
        method_matches(r, self.method())
            && match self.code {
                None => r.codes.is_empty(),
                Some(c) => r.codes.iter().any(|&rc| rc == 0 || rc == c),
            }
    }
}

/// The user agent headers of a header section, fed line by line (the start line
/// first), for the rewrite to tell whether the section holds exactly one and that one
/// reads our user agent (then the user agent part leaves the message alone).
#[derive(Clone, Copy, Debug)]
pub struct UaLines<'m> {
    name: &'static [u8],
    /// `name` in lower case.
    lower: Folded,
    /// Lines named `name` seen (counting stops at 2).
    count: u8,
    /// The value of the last one (None when it has no colon).
    value: Option<&'m [u8]>,
}

/// What [`UaLines`] found, checked against a rewriter's user agent ([`UaLines::seen`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UaSeen {
    /// The user agent header's name in the message: User-Agent or Server.
    name: &'static [u8],
    /// Exactly one such header, reading the rewriter's user agent.
    only_ours: bool,
}

impl<'m> UaLines<'m> {
    /// Reads the user agent headers of message `msg`: RFC 3261 20.41 User-Agent in a
    /// request, 20.35 Server in a response.
    pub fn of(msg: &[u8]) -> Self {
        const SERVER: Folded = Folded::new(b"server");
        const USER_AGENT: Folded = Folded::new(b"user-agent");
        let (name, lower): (&'static [u8], _) = match msg.starts_with(b"SIP/2.0 ") {
            true => (b"Server", SERVER),
            false => (b"User-Agent", USER_AGENT),
        };
        UaLines { name, lower, count: 0, value: None }
    }

    /// Header line `line` (with or without its line end). Only lines whose first byte
    /// can start the name are compared.
    #[inline]
    pub fn line(&mut self, line: &'m [u8]) {
        // [`line_is`] for a name of letters and `-`: the name in any case, then
        // whitespace up to the colon or the end of the line.
        if !self.lower.starts(line) {
            return;
        }
        let rest = line.get(self.lower.name().len()..).unwrap_or_default();
        let colon = rest.iter().position(|b| !b.is_ascii_whitespace());
        match colon.map(|at| (rest.get(at), at)) {
            None => self.value = None,
            Some((Some(b':'), at)) => self.value = rest.get(at + 1..).map(<[u8]>::trim_ascii),
            Some(_) => return,
        }
        self.count = self.count.saturating_add(1).min(2);
    }

    /// The finding, against the user agent of `r`.
    pub fn seen(&self, r: &Rewriter) -> UaSeen {
        UaSeen { name: self.name, only_ours: self.count == 1 && self.value == Some(r.user_agent.as_bytes()) }
    }
}

/// Writes `parts` at `*at` in `buf`, advancing `at` (the caller sized the gap).
fn put(buf: &mut [u8], at: &mut usize, parts: &[&[u8]]) {
    for p in parts {
        if let Some(dst) = buf.get_mut(*at..*at + p.len()) {
            dst.copy_from_slice(p);
        }
        *at += p.len();
    }
}

impl Rewriter {
    /// The rules and user agent of the SIP settings.
    pub fn from_config(sip: &SipSettings) -> Self {
        Rewriter { rules: sip.custom_headers.clone(), user_agent: sip.user_agent.clone(), force_user_agent: sip.force_user_agent }
    }

    /// A rewriter with explicit settings (tests and benchmarks).
    pub fn new(rules: Vec<CustomHeader>, user_agent: &str, force_user_agent: bool) -> Self {
        Rewriter { rules, user_agent: user_agent.to_owned(), force_user_agent }
    }

    /// Rewrites the SIP message a worker command carries, if any.
    pub fn apply_cmd(&self, cmd: &mut ToWorker) {
        if let ToWorker::Respond { msg, .. } | ToWorker::SendRequest { msg, .. } | ToWorker::SendStateless { msg, .. } = cmd {
            self.rewrite(msg);
        }
    }

    /// The rewritten message, or None when nothing changes (or it does not parse).
    pub fn apply(&self, raw: &[u8]) -> Option<Vec<u8>> {
        let mut out = raw.to_vec();
        self.rewrite(&mut out).then_some(out)
    }

    /// True when a rule or a forced user agent is configured (else nothing is rewritten).
    fn active(&self) -> bool {
        !self.rules.is_empty() || self.wants_user_agent()
    }

    /// True when our user agent replaces the message's (`force_user_agent` with a value).
    fn wants_user_agent(&self) -> bool {
        self.force_user_agent && !self.user_agent.is_empty()
    }

    /// [`Self::rewrite`] of a message whose header section a caller's own pass has read
    /// (`seen`: [`UaLines`] fed the header lines up to the empty line, which starts at
    /// `empty_line`): the same result without a second pass over the header section.
    pub fn rewrite_scanned(&self, msg: &mut Vec<u8>, seen: UaSeen, empty_line: Option<usize>) -> bool {
        if !self.active() {
            return false;
        }
        // [`head_end`] is the first CRLF CRLF: the empty line when it is a CRLF after a
        // CRLF (an earlier CRLF CRLF would be an earlier empty line); with no empty line
        // there is none. Another empty line (a bare LF) leaves it unknown here.
        match empty_line {
            None => false,
            Some(at) if at >= 2 && msg.get(at - 2..at + 2) == Some(b"\r\n\r\n") => at <= MAX_HEAD && self.rewrite_at(msg, at, seen),
            Some(_) => self.rewrite(msg),
        }
    }

    /// Rewrites `msg` in place; false when it stays as it is (no rule
    /// applies and our user agent is already there once, or it does not parse).
    pub fn rewrite(&self, msg: &mut Vec<u8>) -> bool {
        if !self.active() {
            return false;
        }
        let Some(end) = head_end(msg) else { return false };
        let mut ua = UaLines::of(msg);
        lines(msg.get(..end).unwrap_or_default()).for_each(|l| ua.line(l));
        let seen = ua.seen(self);
        self.rewrite_at(msg, end, seen)
    }

    /// The rewrite of `msg`, whose header section ends at `end` and holds the user
    /// agent headers `seen`.
    fn rewrite_at(&self, msg: &mut Vec<u8>, end: usize, seen: UaSeen) -> bool {
        // Parsing is only needed to select rules; the user agent alone needs
        // the start line (the common case stays cheap).
        let selector = match self.rules.is_empty() {
            true => None,
            false => match Selector::of(msg) {
                Some(s) => Some(s),
                None => return false,
            },
        };
        let any_rule = self.rules.iter().any(|r| selector.as_ref().is_some_and(|s| s.selects(r)));
        let want_ua = self.wants_user_agent();
        if !any_rule && (!want_ua || seen.only_ours) {
            // Nothing selected, and our own builders already wrote the user agent.
            return false;
        }
        self.rewrite_head(msg, end, seen.name, selector.as_ref())
    }

    /// Writes the selected rule headers and our user agent into the header section
    /// `msg[..end]`, dropping those they replace; true (the message changed).
    fn rewrite_head(&self, msg: &mut Vec<u8>, end: usize, ua_name: &[u8], selector: Option<&Selector>) -> bool {
        let selected = |r: &CustomHeader| selector.is_some_and(|s| s.selects(r));
        let want_ua = self.wants_user_agent();
        let drops = |line: &[u8]| (want_ua && line_is(line, ua_name)) || self.rules.iter().any(|r| r.replace && selected(r) && line_is(line, r.name.as_bytes()));
        let kept = squeeze(msg, end, drops);
        let added: usize = self.rules.iter().filter(|r| selected(r)).map(|r| r.name.len() + r.value.len() + 4).sum::<usize>()
            + if want_ua { ua_name.len() + self.user_agent.len() + 4 } else { 0 };
        open_gap(msg, kept, end, added);
        let mut at = kept;
        for r in self.rules.iter().filter(|r| selected(r)) {
            put(msg, &mut at, &[r.name.as_bytes(), b": ", r.value.as_bytes(), b"\r\n"]);
        }
        if want_ua {
            put(msg, &mut at, &[ua_name, b": ", self.user_agent.as_bytes(), b"\r\n"]);
        }
        true
    }
}

/// Moves the header lines of `msg[..end]` that `drops` keeps to the front,
/// together with their continuation lines (RFC 3261 7.3.1); returns the
/// length they take. `msg[end..]` is untouched.
fn squeeze(msg: &mut [u8], end: usize, drops: impl Fn(&[u8]) -> bool) -> usize {
    let (mut read, mut write, mut dropping) = (0, 0, false);
    while read < end {
        let Some(line) = msg.get(read..end) else { break };
        let len = memchr(b'\n', line).map_or(line.len(), |i| i + 1);
        if !(read > 0 && is_continuation(line)) {
            // The start line (read == 0) is never dropped by a header name.
            dropping = read > 0 && line.get(..len).is_some_and(&drops);
        }
        if !dropping {
            msg.copy_within(read..read + len, write);
            write += len;
        }
        read += len;
    }
    write
}

/// Makes `msg[kept..end]` exactly `size` bytes long by moving `msg[end..]`
/// (the empty line and the body) once; the buffer grows only when needed.
fn open_gap(msg: &mut Vec<u8>, kept: usize, end: usize, size: usize) {
    let len = msg.len();
    let to = kept + size;
    if to > end {
        msg.resize(len + (to - end), 0);
    }
    msg.copy_within(end..len, to);
    msg.truncate(to + (len - end));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, value: &str, codes: &[u16], methods: &[&str], replace: bool) -> CustomHeader {
        CustomHeader { name: name.into(), value: value.into(), codes: codes.to_vec(), methods: methods.iter().map(|m| m.to_string()).collect(), replace }
    }

    const INVITE: &str = "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nX-Old: 1\r\nContent-Length: 4\r\n\r\nbody";
    const OK: &str = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nServer: ringcore\r\nContent-Length: 0\r\n\r\n";

    fn apply(r: &Rewriter, m: &str) -> String {
        String::from_utf8(r.apply(m.as_bytes()).unwrap_or_else(|| m.as_bytes().to_vec())).expect("utf-8")
    }

    /// The former copying rewriter (format! per header), the oracle the in-place one must match.
    fn reference(r: &Rewriter, raw: &[u8]) -> Option<Vec<u8>> {
        let old_line_is = |line: &[u8], name: &str| line.split(|b| *b == b':').next().is_some_and(|n| n.trim_ascii().eq_ignore_ascii_case(name.as_bytes()));
        if r.rules.is_empty() && !r.force_user_agent {
            return None;
        }
        let ua_name = if raw.starts_with(b"SIP/2.0 ") { "Server" } else { "User-Agent" };
        let rules: Vec<&CustomHeader> = match r.rules.is_empty() {
            true => Vec::new(),
            false => {
                let sel = Selector::of(raw)?;
                r.rules.iter().filter(|x| sel.selects(x)).collect()
            }
        };
        let want_ua = r.force_user_agent && !r.user_agent.is_empty();
        if rules.is_empty() && !want_ua {
            return None;
        }
        let end = head_end(raw)?;
        let head = raw.get(..end)?;
        let uas: Vec<_> = head.split_inclusive(|b| *b == b'\n').filter(|l| old_line_is(l, ua_name)).collect();
        let only_ours = uas.len() == 1 && uas[0].splitn(2, |b| *b == b':').nth(1).map(<[u8]>::trim_ascii) == Some(r.user_agent.as_bytes());
        if rules.is_empty() && only_ours {
            return None;
        }
        let mut out = Vec::new();
        for line in head.split_inclusive(|b| *b == b'\n') {
            if rules.iter().any(|x| x.replace && old_line_is(line, &x.name)) || (want_ua && old_line_is(line, ua_name)) {
                continue;
            }
            out.extend_from_slice(line);
        }
        for x in &rules {
            out.extend_from_slice(format!("{}: {}\r\n", x.name, x.value).as_bytes());
        }
        if want_ua {
            out.extend_from_slice(format!("{ua_name}: {}\r\n", r.user_agent).as_bytes());
        }
        out.extend_from_slice(&raw[end..]);
        Some(out)
    }

    #[test]
    fn request_rules_select_by_method_and_replace_keeps_one() {
        let r = Rewriter::new(vec![rule("X-Old", "2", &[], &["INVITE"], true), rule("X-Any", "a", &[], &["*"], false), rule("X-Bye", "b", &[], &["BYE"], false)], "", false);
        let out = apply(&r, INVITE);
        assert!(out.contains("X-Old: 2\r\n") && !out.contains("X-Old: 1"), "{out}");
        assert!(out.contains("X-Any: a\r\n") && !out.contains("X-Bye"), "{out}");
        assert!(out.ends_with("\r\n\r\nbody"), "body untouched: {out}");
        assert!(Message::parse(out.as_bytes()).is_ok());
    }

    #[test]
    fn response_rules_select_by_code_and_cseq_method() {
        let r = Rewriter::new(vec![rule("X-Ok", "1", &[200], &["INVITE"], false), rule("X-All", "2", &[0], &["*"], false), rule("X-Req", "3", &[], &["*"], false), rule("X-Ringing", "4", &[180], &["*"], false)], "", false);
        let out = apply(&r, OK);
        assert!(out.contains("X-Ok: 1") && out.contains("X-All: 2"), "{out}");
        assert!(!out.contains("X-Req") && !out.contains("X-Ringing"), "{out}");
    }

    #[test]
    fn forced_user_agent_replaces_server_and_is_added_to_requests() {
        let r = Rewriter::new(Vec::new(), "Lab-IMS-1", true);
        let out = apply(&r, OK);
        assert!(out.contains("Server: Lab-IMS-1\r\n") && !out.contains("Server: ringcore"), "{out}");
        assert!(apply(&r, INVITE).contains("User-Agent: Lab-IMS-1\r\n"));
        let r = Rewriter::new(Vec::new(), "Lab-IMS-1", false);
        assert!(r.apply(OK.as_bytes()).is_none(), "not forced and no rules: unchanged");
    }

    #[test]
    fn forced_user_agent_already_present_once_leaves_the_message_alone() {
        let r = Rewriter::new(Vec::new(), "ringcore", true);
        assert!(r.apply(OK.as_bytes()).is_none(), "Server: ringcore already there");
        let twice = OK.replace("Server: ringcore\r\n", "Server: ringcore\r\nServer: other\r\n");
        let out = apply(&r, &twice);
        assert_eq!(out.matches("Server: ").count(), 1, "{out}");
        assert!(out.contains("Server: ringcore\r\n") && !out.contains("other"), "{out}");
        let r = Rewriter::new(Vec::new(), "ringcore-2", true);
        assert!(apply(&r, OK).contains("Server: ringcore-2\r\n"), "another value is replaced");
    }

    #[test]
    fn odd_case_and_spaced_names_are_the_same_header() {
        let r = Rewriter::new(Vec::new(), "ringcore", true);
        // RFC 3261 7.3.1: names are case-insensitive and HCOLON allows whitespace before ':'.
        for variant in ["server: ringcore", "SERVER :ringcore", "sErVeR\t:  ringcore  "] {
            let m = OK.replace("Server: ringcore", variant);
            assert!(r.apply(m.as_bytes()).is_none(), "ours once: {variant}");
            let m = m.replace("ringcore", "peer-ua");
            let out = apply(&r, &m);
            assert!(out.contains("Server: ringcore\r\n") && !out.contains("peer-ua"), "{variant}: {out}");
        }
        // Compact forms (7.3.3) of other headers stay; a rule matches its configured name only.
        let compact = INVITE.replace("Content-Length: 4", "l: 4").replace("Via:", "v:");
        let r = Rewriter::new(vec![rule("x-old", "2", &[], &[], true)], "ringcore", true);
        let out = apply(&r, &compact);
        assert!(out.contains("\r\nl: 4\r\n") && out.contains("\r\nv: SIP/2.0"), "{out}");
        assert!(out.contains("x-old: 2\r\n") && !out.contains("X-Old: 1"), "{out}");
        assert!(out.contains("User-Agent: ringcore\r\n"), "{out}");
    }

    #[test]
    fn user_agent_twice_or_absent_becomes_ours_once() {
        let r = Rewriter::new(Vec::new(), "ringcore", true);
        let twice = INVITE.replace("X-Old: 1\r\n", "User-Agent: ringcore\r\nX-Old: 1\r\nuser-agent: ringcore\r\n");
        let absent = INVITE;
        for m in [twice.as_str(), absent] {
            let out = apply(&r, m);
            assert_eq!(out.matches("ser-Agent").count(), 1, "{out}");
            assert!(out.contains("User-Agent: ringcore\r\n\r\nbody"), "added last, body kept: {out}");
            assert!(Message::parse(out.as_bytes()).is_ok());
        }
        let empty_ua = Rewriter::new(Vec::new(), "", true);
        assert!(empty_ua.apply(INVITE.as_bytes()).is_none(), "an empty user_agent adds nothing");
    }

    #[test]
    fn server_text_in_the_body_does_not_count() {
        let r = Rewriter::new(Vec::new(), "ringcore", true);
        let with_body = |head_ua: &str| format!("SIP/2.0 200 OK\r\nCSeq: 1 MESSAGE\r\n{head_ua}Content-Length: 33\r\n\r\nServer: ringcore\r\nServer: other\r\n");
        assert!(r.apply(with_body("Server: ringcore\r\n").as_bytes()).is_none(), "the body's lines are not headers");
        let out = apply(&r, &with_body(""));
        assert!(out.starts_with("SIP/2.0 200 OK\r\nCSeq: 1 MESSAGE\r\nContent-Length: 33\r\nServer: ringcore\r\n\r\n"), "{out}");
        assert!(out.ends_with("\r\n\r\nServer: ringcore\r\nServer: other\r\n"), "body untouched: {out}");
    }

    #[test]
    fn a_folded_user_agent_goes_with_its_continuation() {
        let r = Rewriter::new(Vec::new(), "ringcore", true);
        let folded = INVITE.replace("X-Old: 1\r\n", "User-Agent: peer\r\n  version 2\r\nX-Old: 1\r\n");
        let out = apply(&r, &folded);
        assert!(!out.contains("version 2") && out.contains("X-Old: 1\r\n"), "{out}");
        let m = Message::parse(out.as_bytes()).expect("parses");
        assert_eq!(m.header(crate::sip::HeaderName::UserAgent), Some(&b"ringcore"[..]));
    }

    #[test]
    fn the_in_place_rewrite_matches_the_former_copy() {
        let rules = vec![rule("X-Old", "2", &[], &["invite"], true), rule("X-All", "a", &[0], &["*"], false), rule("Server", "s", &[200], &[], true)];
        let rewriters = [
            Rewriter::new(Vec::new(), "ringcore", true),
            Rewriter::new(Vec::new(), "ringcore", false),
            Rewriter::new(rules.clone(), "ringcore", true),
            Rewriter::new(rules, "a-much-longer-user-agent-value", true),
        ];
        let long_method = INVITE.replace("INVITE", "AVERYLONGEXTENSIONMETHOD");
        let msgs = [INVITE.to_owned(), OK.to_owned(), OK.replace("Server: ringcore\r\n", ""), OK.replace("200 OK", "180 Ringing"), long_method, "garbage".to_owned(), "SIP/2.0 200 OK\r\n".to_owned()];
        for r in &rewriters {
            for m in &msgs {
                assert_eq!(r.apply(m.as_bytes()), reference(r, m.as_bytes()), "{r:?} {m}");
            }
        }
    }

    #[test]
    // assert_no_alloc counts allocator calls in debug builds only (feature warn_debug).
    #[cfg(debug_assertions)]
    fn common_cases_do_not_allocate() {
        let r = Rewriter::new(Vec::new(), "ringcore-9", true);
        let ours = OK.replace("Server: ringcore", "Server: ringcore-9");
        let mut cmds: Vec<Vec<u8>> = (0..4).map(|_| ours.as_bytes().to_vec()).collect();
        // A builder's response: "Server: ringcore" replaced in a buffer with room to spare.
        let mut theirs: Vec<Vec<u8>> = (0..4).map(|_| Vec::with_capacity(2048)).collect();
        theirs.iter_mut().for_each(|v| v.extend_from_slice(OK.as_bytes()));
        assert_no_alloc::reset_violation_count();
        let changed = assert_no_alloc::assert_no_alloc(|| cmds.iter_mut().chain(theirs.iter_mut()).map(|m| r.rewrite(m)).filter(|changed| *changed).count());
        assert_eq!(assert_no_alloc::violation_count(), 0, "allocator calls while rewriting");
        assert_eq!(changed, 4, "only the builder-style responses change");
        assert!(cmds.iter().all(|m| m == ours.as_bytes()));
        let moved = OK.replace("Server: ringcore\r\n", "").replace("\r\n\r\n", "\r\nServer: ringcore-9\r\n\r\n");
        assert!(theirs.iter().all(|m| m == moved.as_bytes()), "{:?}", String::from_utf8_lossy(&theirs[0]));
    }
}
