//! The SIP messages an emulated UE sends, built with ringcore's allocation-free
//! [`Builder`] into a reused per-UE buffer: REGISTER (RFC 3261 10.2, TS 24.229 5.1.1.2),
//! INVITE with an SDP offer (RFC 3264), ACK and BYE in a dialog (RFC 3261 12.2.1.1), and
//! UAS responses (RFC 3261 8.2.6, 12.1.1).

use std::fmt::Write as _;
use std::net::SocketAddr;

use crate::sip::{Builder, HeaderName, Message, Method, Overflow};

/// Largest message a UE builds.
pub const MAX_MSG: usize = 4096;

/// Runs `f` over a stack scratch area of [`MAX_MSG`] bytes and copies what it wrote into
/// `out`, so a UE's buffers hold their message's size, not the bound (memory per UE), and
/// their capacity is reused (no allocation once warm).
pub fn build_into(out: &mut Vec<u8>, f: impl FnOnce(&mut [u8]) -> Result<usize, Overflow>) -> Result<(), Overflow> {
    let mut scratch = [0u8; MAX_MSG];
    let n = f(&mut scratch)?;
    out.clear();
    out.extend_from_slice(scratch.get(..n).ok_or(Overflow)?);
    Ok(())
}

/// `host:port` text of an address (stack buffer, no allocation).
pub struct HostPort {
    buf: [u8; 48],
    len: usize,
}

impl HostPort {
    /// Formats `a`.
    pub fn new(a: SocketAddr) -> HostPort {
        let mut h = HostPort { buf: [0; 48], len: 0 };
        let mut w = crate::sip::Writer::new(&mut h.buf);
        // An IPv4/IPv6 socket address is at most 47 characters: never overflows.
        let _ = write!(Fmt(&mut w), "{a}");
        h.len = w.len();
        h
    }

    /// The text.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// `fmt::Write` over a [`crate::sip::Writer`].
struct Fmt<'w, 'b>(&'w mut crate::sip::Writer<'b>);

impl std::fmt::Write for Fmt<'_, '_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.put(s.as_bytes()).map_err(|_| std::fmt::Error)
    }
}

/// The fields of a REGISTER.
pub struct Register<'a> {
    /// `sip:domain`.
    pub registrar: &'a str,
    /// Public identity (From/To).
    pub impu: &'a str,
    /// User part of the Contact.
    pub user: &'a str,
    /// Our address (Via, Contact).
    pub local: SocketAddr,
    /// Call-ID kept for the registration's life (RFC 3261 10.2.4).
    pub call_id: &'a str,
    /// From tag.
    pub tag: &'a str,
    /// CSeq number.
    pub cseq: u32,
    /// Via branch.
    pub branch: &'a str,
    /// Expires (0: de-registration).
    pub expires: u32,
    /// Authorization value (`Digest ...`), if answering a challenge.
    pub authorization: Option<&'a str>,
    /// The UE takes SMS over IP: `+g.3gpp.smsip` in the Contact (TS 24.341 5.3.1.2).
    pub sms: bool,
}

/// Writes a REGISTER.
pub fn register(buf: &mut [u8], r: &Register<'_>) -> Result<usize, Overflow> {
    let hp = HostPort::new(r.local);
    let mut b = Builder::request(buf, Method::Register, r.registrar.as_bytes())?;
    b.via(b"UDP", hp.as_bytes(), None, r.branch.as_bytes(), true)?;
    b.header_u32(HeaderName::MaxForwards, 70)?;
    from_tag(&mut b, r.impu, r.tag)?;
    b.name_addr(HeaderName::To, r.impu.as_bytes(), b"")?;
    b.header(HeaderName::CallId, r.call_id.as_bytes())?;
    b.cseq(r.cseq, Method::Register)?;
    contact_with(&mut b, r.user, &hp, if r.sms { b"+g.3gpp.smsip" } else { b"" })?;
    b.header_u32(HeaderName::Expires, r.expires)?;
    b.header_raw(b"Supported", b"path")?;
    if let Some(a) = r.authorization {
        b.header(HeaderName::Authorization, a.as_bytes())?;
    }
    b.finish(b"")
}

/// Adds `From: <impu>;tag=...`.
pub(super) fn from_tag(b: &mut Builder<'_>, impu: &str, tag: &str) -> Result<(), Overflow> {
    let mut p = [0u8; 64];
    let mut w = crate::sip::Writer::new(&mut p);
    w.put(b"tag=")?;
    w.put(tag.as_bytes())?;
    b.name_addr(HeaderName::From, impu.as_bytes(), w.as_bytes())?;
    Ok(())
}

fn contact(b: &mut Builder<'_>, user: &str, hp: &HostPort) -> Result<(), Overflow> {
    contact_with(b, user, hp, b"")
}

fn contact_with(b: &mut Builder<'_>, user: &str, hp: &HostPort, params: &[u8]) -> Result<(), Overflow> {
    let mut u = [0u8; 128];
    let mut w = crate::sip::Writer::new(&mut u);
    w.put(b"sip:")?;
    w.put(user.as_bytes())?;
    w.put(b"@")?;
    w.put(hp.as_bytes())?;
    b.name_addr(HeaderName::Contact, w.as_bytes(), params)?;
    Ok(())
}

/// The fields of an initial INVITE.
pub struct Invite<'a> {
    /// Request-URI and To.
    pub target: &'a str,
    /// Our public identity (From).
    pub impu: &'a str,
    /// User part of the Contact.
    pub user: &'a str,
    /// Our address.
    pub local: SocketAddr,
    /// Call-ID.
    pub call_id: &'a str,
    /// From tag.
    pub tag: &'a str,
    /// Via branch.
    pub branch: &'a str,
}

/// Writes an INVITE (CSeq 1) with an SDP offer of PCMU on our own port.
pub fn invite(buf: &mut [u8], i: &Invite<'_>) -> Result<usize, Overflow> {
    let hp = HostPort::new(i.local);
    let mut b = Builder::request(buf, Method::Invite, i.target.as_bytes())?;
    b.via(b"UDP", hp.as_bytes(), None, i.branch.as_bytes(), true)?;
    b.header_u32(HeaderName::MaxForwards, 70)?;
    from_tag(&mut b, i.impu, i.tag)?;
    b.name_addr(HeaderName::To, i.target.as_bytes(), b"")?;
    b.header(HeaderName::CallId, i.call_id.as_bytes())?;
    b.cseq(1, Method::Invite)?;
    contact(&mut b, i.user, &hp)?;
    b.header(HeaderName::ContentType, b"application/sdp")?;
    let mut sdp = [0u8; 512];
    let n = sdp_body(&mut sdp, i.local)?;
    b.finish(sdp.get(..n).unwrap_or(&[]))
}

/// An SDP offer/answer (RFC 8866) for PCMU at 20 ms on `local` (RTP shares the SIP
/// socket: the UE tells RTP from SIP by the first byte, RFC 7983 style).
pub fn sdp_body(buf: &mut [u8], local: SocketAddr) -> Result<usize, Overflow> {
    let mut w = crate::sip::Writer::new(buf);
    let ip = local.ip();
    let fam = if ip.is_ipv4() { "IP4" } else { "IP6" };
    write!(
        Fmt(&mut w),
        "v=0\r\no=ringload {p} 1 IN {fam} {ip}\r\ns=-\r\nc=IN {fam} {ip}\r\nt=0 0\r\nm=audio {p} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n",
        p = local.port()
    )
    .map_err(|_| Overflow)?;
    Ok(w.len())
}

/// The dialog state a caller needs for ACK and BYE (RFC 3261 12.1.2).
#[derive(Debug, Default, Clone)]
pub struct DialogOut {
    /// Remote target (the 2xx Contact URI).
    pub target: String,
    /// Route header values (the 2xx Record-Route in reverse order).
    pub routes: Vec<String>,
    /// The To header value with the remote tag.
    pub to: String,
}

impl DialogOut {
    /// Fills the dialog from a 2xx to our INVITE; false when it has no Contact.
    pub fn from_2xx(&mut self, msg: &Message<'_>) -> bool {
        self.routes.clear();
        for v in msg.headers_of(HeaderName::RecordRoute) {
            for part in split_commas(v) {
                self.routes.push(String::from_utf8_lossy(part).into_owned());
            }
        }
        self.routes.reverse();
        self.to.clear();
        self.to.push_str(&String::from_utf8_lossy(msg.header(HeaderName::To).unwrap_or(b"")));
        let target = msg.contacts().find_map(|c| match c {
            Ok(crate::sip::Contact::Addr(na)) => Some(na.uri.raw),
            _ => None,
        });
        self.target.clear();
        if let Some(t) = target {
            self.target.push_str(&String::from_utf8_lossy(t));
        }
        !self.target.is_empty()
    }
}

/// Splits a header value at commas outside `<...>` and quotes.
fn split_commas(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    let (mut depth, mut quoted, mut start, mut i) = (0i32, false, 0usize, 0usize);
    std::iter::from_fn(move || {
        while i <= v.len() {
            let c = v.get(i).copied().unwrap_or(b',');
            i += 1;
            match c {
                b'"' => quoted = !quoted,
                b'<' if !quoted => depth += 1,
                b'>' if !quoted => depth -= 1,
                b',' if !quoted && depth <= 0 => {
                    let part = v.get(start..i - 1).unwrap_or(&[]);
                    start = i;
                    let t = part.trim_ascii();
                    if !t.is_empty() {
                        return Some(t);
                    }
                }
                _ => {}
            }
        }
        None
    })
}

/// The fields shared by ACK and BYE of a caller.
pub struct InDialog<'a> {
    /// The dialog.
    pub dialog: &'a DialogOut,
    /// Our public identity.
    pub impu: &'a str,
    /// From tag.
    pub tag: &'a str,
    /// Call-ID.
    pub call_id: &'a str,
    /// Our address.
    pub local: SocketAddr,
}

/// Writes an in-dialog request (ACK for the 2xx, BYE) with CSeq `cseq`.
pub fn in_dialog(buf: &mut [u8], d: &InDialog<'_>, method: Method<'_>, cseq: u32, branch: &str) -> Result<usize, Overflow> {
    let hp = HostPort::new(d.local);
    let mut b = Builder::request(buf, method, d.dialog.target.as_bytes())?;
    b.via(b"UDP", hp.as_bytes(), None, branch.as_bytes(), true)?;
    b.header_u32(HeaderName::MaxForwards, 70)?;
    for r in &d.dialog.routes {
        b.header(HeaderName::Route, r.as_bytes())?;
    }
    from_tag(&mut b, d.impu, d.tag)?;
    b.header(HeaderName::To, d.dialog.to.as_bytes())?;
    b.header(HeaderName::CallId, d.call_id.as_bytes())?;
    b.cseq(cseq, method)?;
    b.finish(b"")
}

/// Writes the ACK of a non-2xx final response (RFC 3261 17.1.1.3): same branch as the
/// INVITE, the To of the response.
pub fn ack_non2xx(buf: &mut [u8], invite: &Invite<'_>, resp: &Message<'_>) -> Result<usize, Overflow> {
    let hp = HostPort::new(invite.local);
    let mut b = Builder::request(buf, Method::Ack, invite.target.as_bytes())?;
    b.via(b"UDP", hp.as_bytes(), None, invite.branch.as_bytes(), true)?;
    b.header_u32(HeaderName::MaxForwards, 70)?;
    from_tag(&mut b, invite.impu, invite.tag)?;
    b.header(HeaderName::To, resp.header(HeaderName::To).unwrap_or(b""))?;
    b.header(HeaderName::CallId, invite.call_id.as_bytes())?;
    b.cseq(1, Method::Ack)?;
    b.finish(b"")
}

/// Writes a UAS response to `req` (RFC 3261 8.2.6.2), copying Record-Route into
/// dialog-creating responses (12.1.1) and adding our Contact and `sdp` when given.
pub fn response(
    buf: &mut [u8],
    req: &Message<'_>,
    code: u16,
    reason: &str,
    to_tag: &str,
    contact_of: Option<(&str, SocketAddr)>,
    sdp: bool,
) -> Result<usize, Overflow> {
    let mut b = Builder::response_to(buf, req, code, reason.as_bytes(), to_tag.as_bytes())?;
    if let Some((user, local)) = contact_of {
        for rr in req.headers_of(HeaderName::RecordRoute) {
            b.header(HeaderName::RecordRoute, rr)?;
        }
        contact(&mut b, user, &HostPort::new(local))?;
        if sdp {
            b.header(HeaderName::ContentType, b"application/sdp")?;
            let mut body = [0u8; 512];
            let n = sdp_body(&mut body, local)?;
            return b.finish(body.get(..n).unwrap_or(&[]));
        }
    }
    b.finish(b"")
}

/// The audio destination of an SDP answer: `c=` (media or session level) and the first
/// `m=audio` port (RFC 8866 5.7, 5.14), read with the checked zero-copy view.
pub fn audio_dst(body: &[u8]) -> Option<SocketAddr> {
    let view = crate::sdp::SdpView::new_checked(body).ok()?;
    let (mut ip, mut port) = (None, None);
    for l in view.lines() {
        match l.kind {
            b'c' => {
                let addr = l.value.split_ascii_whitespace().nth(2)?;
                ip = addr.split('/').next().and_then(|a| a.parse::<std::net::IpAddr>().ok()).or(ip);
            }
            b'm' if port.is_none() && l.value.starts_with("audio ") => {
                port = l.value.split_ascii_whitespace().nth(1).and_then(|p| p.parse::<u16>().ok());
            }
            _ => {}
        }
    }
    Some(SocketAddr::new(ip?, port.filter(|&p| p != 0)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> SocketAddr {
        SocketAddr::from(([127, 1, 0, 7], 40007))
    }

    #[test]
    fn register_and_invite_parse_back() {
        let mut out = Vec::new();
        let r = Register {
            registrar: "sip:ims.example",
            impu: "sip:001@ims.example",
            user: "001",
            local: local(),
            call_id: "reg-001",
            tag: "t1",
            cseq: 2,
            branch: "z9hG4bK1",
            expires: 600,
            authorization: Some("Digest username=\"001@ims.example\""),
            sms: true,
        };
        assert!(build_into(&mut out, |b| register(b, &r)).is_ok());
        let m = Message::parse(&out).unwrap_or_else(|e| panic!("{e:?}: {}", String::from_utf8_lossy(&out)));
        assert_eq!(m.cseq().map(|c| c.seq).ok(), Some(2));
        assert_eq!(m.expires().ok().flatten(), Some(600));
        assert!(m.authorization().is_ok_and(|a| a.is_some()));
        assert!(m.contacts().any(|c| matches!(c, Ok(crate::sip::Contact::Addr(na)) if na.feature(b"+g.3gpp.smsip").is_some())));
        assert_eq!(m.via_top().ok().and_then(|v| v.branch()), Some(&b"z9hG4bK1"[..]));
        let i = Invite { target: "sip:echo@ims.example", impu: r.impu, user: "001", local: local(), call_id: "c1", tag: "t", branch: "z9hG4bK2" };
        assert!(build_into(&mut out, |b| invite(b, &i)).is_ok());
        let m = Message::parse(&out).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(audio_dst(m.body()), Some(local()), "the offer names our socket");
    }

    #[test]
    fn dialog_from_2xx_reverses_record_route_and_responses_copy_it() {
        let ok = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.1.0.7:40007;branch=z9hG4bK2\r\nRecord-Route: <sip:a;lr>, <sip:b;lr>\r\n\
Record-Route: <sip:c;lr>\r\nFrom: <sip:x@d>;tag=t\r\nTo: <sip:echo@d>;tag=r9\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContact: <sip:echo@127.0.0.1:5060>\r\nContent-Length: 0\r\n\r\n";
        let m = Message::parse(ok).unwrap_or_else(|e| panic!("{e:?}"));
        let mut d = DialogOut::default();
        assert!(d.from_2xx(&m));
        assert_eq!(d.routes, vec!["<sip:c;lr>", "<sip:b;lr>", "<sip:a;lr>"]);
        assert_eq!(d.to, "<sip:echo@d>;tag=r9");
        assert_eq!(d.target, "sip:echo@127.0.0.1:5060");
        let mut out = Vec::new();
        let id = InDialog { dialog: &d, impu: "sip:x@d", tag: "t", call_id: "c1", local: local() };
        assert!(build_into(&mut out, |b| in_dialog(b, &id, Method::Bye, 2, "z9hG4bK3")).is_ok());
        let bye = Message::parse(&out).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(bye.request_uri_raw(), Some(&b"sip:echo@127.0.0.1:5060"[..]));
        assert_eq!(bye.routes().count(), 3);
        let invite = b"INVITE sip:001@127.1.0.7:40007 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\nRecord-Route: <sip:p;lr>\r\n\
From: <sip:a@d>;tag=f\r\nTo: <sip:001@d>\r\nCall-ID: k\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
        let req = Message::parse(invite).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(build_into(&mut out, |b| response(b, &req, 200, "OK", "tt", Some(("001", local())), true)).is_ok());
        let r = Message::parse(&out).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(r.status(), Some(200));
        assert_eq!(r.record_routes().count(), 1);
        assert!(r.to().is_ok_and(|t| t.tag() == Some(&b"tt"[..])));
        assert_eq!(audio_dst(r.body()), Some(local()));
    }
}
