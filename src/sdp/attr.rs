//! SDP attributes (RFC 8866 6) understood by ringcore: rtpmap, fmtp, ptime, maxptime,
//! the direction attributes, rtcp (RFC 3605), rtcp-mux (RFC 5761), mid (RFC 5888) and
//! the precondition attributes (RFC 3312); any other attribute is preserved verbatim.

use std::fmt;
use std::net::IpAddr;

use super::error::ErrorKind;
use super::parse::digits as num;
use super::precond::{PrecondFields, Precondition};
use super::repr::parse_address;

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]` (RFC 8866 6.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtpmap {
    /// RTP payload type (0-127).
    pub pt: u8,
    /// Encoding name as written (`AMR-WB`, `telephone-event`).
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Channel count when written.
    pub channels: Option<u16>,
}

impl Rtpmap {
    /// The channel count (1 when absent, RFC 8866 6.6).
    pub fn channel_count(&self) -> u16 {
        self.channels.unwrap_or(1)
    }
}

/// `a=fmtp:<payload type> <format specific parameters>` (RFC 8866 6.15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmtp {
    /// RTP payload type.
    pub pt: u8,
    /// The parameters as written.
    pub params: String,
}

impl Fmtp {
    /// `name=value` pairs split on `;` (names as written, values trimmed; a bare name
    /// gives an empty value).
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.split(';').map(str::trim).filter(|p| !p.is_empty()).map(|p| {
            match p.split_once('=') {
                Some((n, v)) => (n.trim(), v.trim()),
                None => (p, ""),
            }
        })
    }
}

/// Media direction (RFC 8866 6.7, RFC 3264 6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    fn bits(self) -> (bool, bool) {
        match self {
            Direction::SendRecv => (true, true),
            Direction::SendOnly => (true, false),
            Direction::RecvOnly => (false, true),
            Direction::Inactive => (false, false),
        }
    }

    fn from_bits(send: bool, recv: bool) -> Direction {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// RFC 3264 6.1: the answer to an offered direction (sendonly -> recvonly, ...).
    pub fn complement(self) -> Direction {
        let (send, recv) = self.bits();
        Direction::from_bits(recv, send)
    }

    /// Directions allowed by both (e.g. the complement of the offer and a local hold).
    pub fn intersect(self, other: Direction) -> Direction {
        let (s1, r1) = self.bits();
        let (s2, r2) = other.bits();
        Direction::from_bits(s1 && s2, r1 && r2)
    }

    /// True when this side sends media.
    pub fn sends(self) -> bool {
        self.bits().0
    }

    /// True when this side receives media.
    pub fn receives(self) -> bool {
        self.bits().1
    }

    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}

/// `a=rtcp:<port> [IN IP4|IP6 <address>]` (RFC 3605 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpAttr {
    /// RTCP port.
    pub port: u16,
    /// RTCP address when given.
    pub addr: Option<IpAddr>,
}

/// One `a=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    /// `a=rtpmap`.
    Rtpmap(Rtpmap),
    /// `a=fmtp` with a numeric format.
    Fmtp(Fmtp),
    /// `a=ptime:<ms>`.
    Ptime(u32),
    /// `a=maxptime:<ms>`.
    MaxPtime(u32),
    /// `a=sendrecv|sendonly|recvonly|inactive`.
    Direction(Direction),
    /// `a=rtcp` (RFC 3605).
    Rtcp(RtcpAttr),
    /// `a=rtcp-mux` (RFC 5761 5.1.1).
    RtcpMux,
    /// `a=mid:<id>` (RFC 5888).
    Mid(String),
    /// `a=curr` (RFC 3312 5).
    Curr(Precondition),
    /// `a=des` (RFC 3312 5).
    Des(Precondition),
    /// `a=conf` (RFC 3312 5).
    Conf(Precondition),
    /// Any other attribute, preserved.
    Other {
        /// Attribute name.
        name: String,
        /// Value after `:` when present.
        value: Option<String>,
    },
}

/// RFC 8866 9 `token` characters.
pub(crate) fn is_token(s: &str) -> bool {
    let token_char = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(b, b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'{' | b'|' | b'}' | b'~')
    };
    !s.is_empty() && s.bytes().all(token_char)
}

/// `s.split_once(b)` for an ASCII `b`, by a byte scan (cheaper than the char
/// searcher on the short fields of SDP lines).
pub(crate) fn split_ascii(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|c| c == b)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}


/// The fields of one `a=` line, borrowed from the body: what [`Attribute::parse`]
/// validates, so a body can be checked without building the representation.
enum Fields<'a> {
    Rtpmap(u8, &'a str, u32, Option<u16>),
    Fmtp(u8, &'a str),
    Ptime(u32),
    MaxPtime(u32),
    Direction(Direction),
    Rtcp(RtcpAttr),
    RtcpMux,
    Mid(&'a str),
    Curr(PrecondFields<'a>),
    Des(PrecondFields<'a>),
    Conf(PrecondFields<'a>),
    Other(&'a str, Option<&'a str>),
}

impl<'a> Fields<'a> {
    fn parse(value: &'a str) -> Result<Fields<'a>, ErrorKind> {
        let (name, arg) = match split_ascii(value, b':') {
            Some((n, v)) => (n, Some(v)),
            None => (value, None),
        };
        if !is_token(name) {
            return Err(ErrorKind::LineSyntax);
        }
        let known = |n: &'static str, a: Option<Fields<'a>>| a.ok_or(ErrorKind::BadAttribute(n));
        let pre = |v: &'a str, strength: bool| Precondition::fields(v, strength);
        match (name, arg) {
            ("rtpmap", Some(v)) => known("rtpmap", rtpmap_fields(v)),
            ("fmtp", Some(v)) => match fmtp_fields(v) {
                Some((pt, params)) => Ok(Fields::Fmtp(pt, params)),
                // Non-RTP media use non-numeric formats: keep those verbatim.
                None if !v.starts_with(|c: char| c.is_ascii_digit()) => Ok(Fields::Other(name, arg)),
                None => Err(ErrorKind::BadAttribute("fmtp")),
            },
            ("ptime", Some(v)) => known("ptime", num(v.trim()).map(Fields::Ptime)),
            ("maxptime", Some(v)) => known("maxptime", num(v.trim()).map(Fields::MaxPtime)),
            ("sendrecv", None) => Ok(Fields::Direction(Direction::SendRecv)),
            ("sendonly", None) => Ok(Fields::Direction(Direction::SendOnly)),
            ("recvonly", None) => Ok(Fields::Direction(Direction::RecvOnly)),
            ("inactive", None) => Ok(Fields::Direction(Direction::Inactive)),
            ("rtcp", Some(v)) => known("rtcp", parse_rtcp(v).map(Fields::Rtcp)),
            ("rtcp-mux", None) => Ok(Fields::RtcpMux),
            ("mid", Some(v)) => known("mid", Some(v).filter(|v| is_token(v)).map(Fields::Mid)),
            ("curr", Some(v)) => known("curr", pre(v, false).map(Fields::Curr)),
            ("des", Some(v)) => known("des", pre(v, true).map(Fields::Des)),
            ("conf", Some(v)) => known("conf", pre(v, false).map(Fields::Conf)),
            _ => Ok(Fields::Other(name, arg)),
        }
    }

    fn to_owned(&self) -> Attribute {
        match *self {
            Fields::Rtpmap(pt, encoding, clock_rate, channels) => {
                Attribute::Rtpmap(Rtpmap { pt, encoding: encoding.to_owned(), clock_rate, channels })
            }
            Fields::Fmtp(pt, params) => Attribute::Fmtp(Fmtp { pt, params: params.to_owned() }),
            Fields::Ptime(p) => Attribute::Ptime(p),
            Fields::MaxPtime(p) => Attribute::MaxPtime(p),
            Fields::Direction(d) => Attribute::Direction(d),
            Fields::Rtcp(r) => Attribute::Rtcp(r),
            Fields::RtcpMux => Attribute::RtcpMux,
            Fields::Mid(m) => Attribute::Mid(m.to_owned()),
            Fields::Curr(p) => Attribute::Curr(Precondition::from_fields(p)),
            Fields::Des(p) => Attribute::Des(Precondition::from_fields(p)),
            Fields::Conf(p) => Attribute::Conf(Precondition::from_fields(p)),
            Fields::Other(name, value) => Attribute::Other { name: name.to_owned(), value: value.map(str::to_owned) },
        }
    }
}

impl Attribute {
    /// Parses the value of an `a=` line.
    pub fn parse(value: &str) -> Result<Attribute, ErrorKind> {
        Fields::parse(value).map(|f| f.to_owned())
    }

    /// Checks the value of an `a=` line as [`Attribute::parse`] does, without
    /// building it (no allocation); true for an `a=des` precondition of type `qos`
    /// with strength mandatory or optional (RFC 3312 5).
    pub(crate) fn check(value: &str) -> Result<bool, ErrorKind> {
        use super::Strength::{Mandatory, Optional};
        Ok(matches!(Fields::parse(value)?, Fields::Des(("qos", Some(Mandatory | Optional), _, _))))
    }
}

fn rtpmap_fields(v: &str) -> Option<Fields<'_>> {
    let (pt, rest) = split_ascii(v, b' ')?;
    let pt = num::<u8>(pt).filter(|&p| p < 128)?;
    let mut parts = super::parse::split_on(rest.trim(), b'/');
    let encoding = parts.next().filter(|e| is_token(e))?;
    let clock_rate = num::<u32>(parts.next()?).filter(|&r| r > 0)?;
    let channels = match parts.next() {
        Some(c) => Some(num::<u16>(c).filter(|&c| c > 0)?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(Fields::Rtpmap(pt, encoding, clock_rate, channels))
}

fn fmtp_fields(v: &str) -> Option<(u8, &str)> {
    let (pt, params) = split_ascii(v, b' ').unwrap_or((v, ""));
    let pt = num::<u8>(pt).filter(|&p| p < 128)?;
    Some((pt, params.trim()))
}

fn parse_rtcp(v: &str) -> Option<RtcpAttr> {
    let mut words = v.split_ascii_whitespace();
    let port = num::<u16>(words.next()?)?;
    let addr = match words.next() {
        None => None,
        Some("IN") => Some(parse_address(words.next()?, words.next()?)?.0),
        Some(_) => return None,
    };
    if words.next().is_some() {
        return None;
    }
    Some(RtcpAttr { port, addr })
}

impl fmt::Display for Attribute {
    /// Writes the value of the `a=` line (without `a=` and line end).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attribute::Rtpmap(r) => {
                write!(f, "rtpmap:{} {}/{}", r.pt, r.encoding, r.clock_rate)?;
                match r.channels {
                    Some(c) => write!(f, "/{c}"),
                    None => Ok(()),
                }
            }
            Attribute::Fmtp(x) if x.params.is_empty() => write!(f, "fmtp:{}", x.pt),
            Attribute::Fmtp(x) => write!(f, "fmtp:{} {}", x.pt, x.params),
            Attribute::Ptime(p) => write!(f, "ptime:{p}"),
            Attribute::MaxPtime(p) => write!(f, "maxptime:{p}"),
            Attribute::Direction(d) => f.write_str(d.as_str()),
            Attribute::Rtcp(RtcpAttr { port, addr: None }) => write!(f, "rtcp:{port}"),
            Attribute::Rtcp(RtcpAttr { port, addr: Some(IpAddr::V4(a)) }) => write!(f, "rtcp:{port} IN IP4 {a}"),
            Attribute::Rtcp(RtcpAttr { port, addr: Some(IpAddr::V6(a)) }) => write!(f, "rtcp:{port} IN IP6 {a}"),
            Attribute::RtcpMux => f.write_str("rtcp-mux"),
            Attribute::Mid(m) => write!(f, "mid:{m}"),
            Attribute::Curr(p) => write!(f, "curr:{p}"),
            Attribute::Des(p) => write!(f, "des:{p}"),
            Attribute::Conf(p) => write!(f, "conf:{p}"),
            Attribute::Other { name, value: None } => f.write_str(name),
            Attribute::Other { name, value: Some(v) } => write!(f, "{name}:{v}"),
        }
    }
}
