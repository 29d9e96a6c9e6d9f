//! The validated representation of an SDP body (RFC 8866 5): [`SessionDescription`] and
//! its parts, with `emit` (CRLF line ends, RFC 8866 field order).

use std::fmt::{self, Write as _};
use std::net::IpAddr;

use super::attr::{Attribute, Direction, Fmtp, Rtpmap};
use super::precond::Precondition;

/// `o=<username> <sess-id> <sess-version> IN <addrtype> <unicast-address>` (RFC 8866 5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// User name (`-` when none).
    pub username: String,
    /// Session id (numeric string, kept as written since some exceed 64 bits).
    pub session_id: String,
    /// Session version, incremented on every change (RFC 3264 8).
    pub session_version: u64,
    /// Address type.
    pub addr_type: AddrType,
    /// Address as written (may be a host name).
    pub address: String,
}

/// `IP4` or `IP6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrType {
    /// IPv4.
    Ip4,
    /// IPv6.
    Ip6,
}

impl AddrType {
    /// The type of `addr`.
    pub fn of(addr: IpAddr) -> AddrType {
        match addr {
            IpAddr::V4(_) => AddrType::Ip4,
            IpAddr::V6(_) => AddrType::Ip6,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            AddrType::Ip4 => "IP4",
            AddrType::Ip6 => "IP6",
        }
    }
}

/// `c=IN <addrtype> <address>[/<ttl>][/<count>]` (RFC 8866 5.7), numeric addresses only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connection {
    /// The address.
    pub addr: IpAddr,
    /// Multicast TTL (IPv4 only).
    pub ttl: Option<u8>,
    /// Number of multicast addresses.
    pub count: Option<u16>,
}

impl Connection {
    /// A unicast connection address.
    pub fn unicast(addr: IpAddr) -> Connection {
        Connection { addr, ttl: None, count: None }
    }

    /// RFC 3264 8.4: `0.0.0.0` is the old (RFC 2543) way of putting a stream on hold.
    pub fn is_hold(&self) -> bool {
        self.addr.is_unspecified()
    }
}

/// `b=` types (RFC 8866 5.8, RFC 3556, RFC 3890).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BandwidthType {
    /// `AS`: application specific maximum, kbit/s.
    As,
    /// `CT`: conference total, kbit/s.
    Ct,
    /// `TIAS`: transport independent application specific maximum, bit/s (RFC 3890).
    Tias,
    /// `RS`: RTCP bandwidth of active senders, bit/s (RFC 3556).
    Rs,
    /// `RR`: RTCP bandwidth of other participants, bit/s (RFC 3556).
    Rr,
    /// Another type, as written.
    Other(String),
}

/// One `b=<bwtype>:<bandwidth>` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// Type.
    pub kind: BandwidthType,
    /// Value.
    pub value: u64,
}

/// `t=<start-time> <stop-time>` (RFC 8866 5.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timing {
    /// NTP start time (0: unbounded).
    pub start: u64,
    /// NTP stop time (0: unbounded).
    pub stop: u64,
}

/// A preserved line of a type without a typed field (`u= e= p= r= z= k=`, further `t=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraLine {
    /// Type letter.
    pub kind: char,
    /// Value.
    pub value: String,
}

impl ExtraLine {
    /// RFC 8866 5: a session-level `u=`, `e=` or `p=` line, which the grammar places
    /// before `c=`, `b=` and `t=` (the others follow `t=`).
    pub fn precedes_timing(&self) -> bool {
        matches!(self.kind, 'u' | 'e' | 'p')
    }
}

/// The `<media>` of an `m=` line (RFC 8866 5.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// `audio`.
    Audio,
    /// `video`.
    Video,
    /// `text`.
    Text,
    /// `application`.
    Application,
    /// `message`.
    Message,
}

impl MediaKind {
    /// Parses the media token.
    pub fn parse(s: &str) -> Option<MediaKind> {
        Some(match s {
            "audio" => MediaKind::Audio,
            "video" => MediaKind::Video,
            "text" => MediaKind::Text,
            "application" => MediaKind::Application,
            "message" => MediaKind::Message,
            _ => return None,
        })
    }

    /// The media token.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::Text => "text",
            MediaKind::Application => "application",
            MediaKind::Message => "message",
        }
    }
}

/// One media section: `m=<media> <port>[/<number of ports>] <proto> <fmt> ...` and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type.
    pub kind: MediaKind,
    /// Transport port (0: stream rejected or disabled, RFC 3264 6).
    pub port: u16,
    /// `/<number of ports>` when written.
    pub port_count: Option<u16>,
    /// Transport protocol (`RTP/AVP`, `RTP/AVPF`, `RTP/SAVP`, ...).
    pub proto: String,
    /// Formats (RTP payload types for RTP protocols), in preference order.
    pub formats: Vec<String>,
    /// `i=`.
    pub info: Option<String>,
    /// Media-level `c=`.
    pub connection: Option<Connection>,
    /// Media-level `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// Preserved `k=` line.
    pub extra: Vec<ExtraLine>,
    /// Media-level attributes in order.
    pub attributes: Vec<Attribute>,
}

impl MediaDescription {
    /// A section with no lines besides `m=`.
    pub fn new(kind: MediaKind, port: u16, proto: &str) -> MediaDescription {
        MediaDescription {
            kind,
            port,
            port_count: None,
            proto: proto.to_owned(),
            formats: Vec::new(),
            info: None,
            connection: None,
            bandwidths: Vec::new(),
            extra: Vec::new(),
            attributes: Vec::new(),
        }
    }

    /// True for the RTP profiles (`RTP/AVP`, `RTP/AVPF`, `RTP/SAVP`, ...).
    pub fn is_rtp(&self) -> bool {
        self.proto.split('/').any(|p| p == "RTP")
    }

    /// The formats that are RTP payload types.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| f.parse::<u8>().ok()).filter(|&p| p < 128)
    }

    /// The `a=rtpmap` of `pt`.
    pub fn rtpmap(&self, pt: u8) -> Option<&Rtpmap> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Rtpmap(r) if r.pt == pt => Some(r),
            _ => None,
        })
    }

    /// The `a=fmtp` of `pt`.
    pub fn fmtp(&self, pt: u8) -> Option<&Fmtp> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Fmtp(f) if f.pt == pt => Some(f),
            _ => None,
        })
    }

    /// The media-level direction attribute, if any.
    pub fn direction(&self) -> Option<Direction> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Direction(d) => Some(*d),
            _ => None,
        })
    }

    /// `a=ptime`.
    pub fn ptime(&self) -> Option<u32> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Ptime(p) => Some(*p),
            _ => None,
        })
    }

    /// `a=mid`.
    pub fn mid(&self) -> Option<&str> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Mid(m) => Some(m.as_str()),
            _ => None,
        })
    }

    /// True with `a=rtcp-mux`.
    pub fn rtcp_mux(&self) -> bool {
        self.attributes.iter().any(|a| matches!(a, Attribute::RtcpMux))
    }

    /// The `a=curr` lines.
    pub fn curr(&self) -> impl Iterator<Item = &Precondition> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Curr(p) => Some(p),
            _ => None,
        })
    }

    /// The `a=des` lines.
    pub fn des(&self) -> impl Iterator<Item = &Precondition> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Des(p) => Some(p),
            _ => None,
        })
    }

    /// The `a=conf` lines.
    pub fn conf(&self) -> impl Iterator<Item = &Precondition> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Conf(p) => Some(p),
            _ => None,
        })
    }

    fn emit(&self, out: &mut String) -> fmt::Result {
        write!(out, "m={} {}", self.kind.as_str(), self.port)?;
        if let Some(n) = self.port_count {
            write!(out, "/{n}")?;
        }
        write!(out, " {}", self.proto)?;
        for f in &self.formats {
            write!(out, " {f}")?;
        }
        out.push_str("\r\n");
        if let Some(i) = &self.info {
            write!(out, "i={i}\r\n")?;
        }
        if let Some(c) = &self.connection {
            write!(out, "c={c}\r\n")?;
        }
        emit_common(out, &self.bandwidths, &self.extra, &self.attributes)
    }
}

/// A whole session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`.
    pub origin: Origin,
    /// `s=` (`-` when none, RFC 8866 5.3).
    pub session_name: String,
    /// `i=`.
    pub info: Option<String>,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// Session-level `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// The first `t=`.
    pub timing: Timing,
    /// Preserved lines of other types, in order.
    pub extra: Vec<ExtraLine>,
    /// Session-level attributes.
    pub attributes: Vec<Attribute>,
    /// Media sections in order.
    pub media: Vec<MediaDescription>,
}

impl SessionDescription {
    /// Parses and validates a body (see [`super::SdpView`] for the line rules).
    pub fn parse(body: &[u8]) -> Result<SessionDescription, super::ParseError> {
        super::parse::parse(body)
    }

    /// Appends the body (CRLF line ends) to `out`.
    pub fn emit(&self, out: &mut String) {
        // Writing into a String cannot fail.
        let _ = self.emit_fmt(out);
    }

    fn emit_fmt(&self, out: &mut String) -> fmt::Result {
        write!(out, "v=0\r\no={}\r\ns={}\r\n", self.origin, self.session_name)?;
        if let Some(i) = &self.info {
            write!(out, "i={i}\r\n")?;
        }
        for l in self.extra.iter().filter(|l| l.precedes_timing()) {
            write!(out, "{}={}\r\n", l.kind, l.value)?;
        }
        if let Some(c) = &self.connection {
            write!(out, "c={c}\r\n")?;
        }
        for b in &self.bandwidths {
            write!(out, "b={b}\r\n")?;
        }
        write!(out, "t={} {}\r\n", self.timing.start, self.timing.stop)?;
        let after_t: Vec<ExtraLine> = self.extra.iter().filter(|l| !l.precedes_timing()).cloned().collect();
        emit_common(out, &[], &after_t, &self.attributes)?;
        for m in &self.media {
            m.emit(out)?;
        }
        Ok(())
    }

    /// The session-level direction attribute, if any.
    pub fn direction(&self) -> Option<Direction> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Direction(d) => Some(*d),
            _ => None,
        })
    }

    /// The connection address of media section `index` (media level first).
    pub fn media_connection(&self, index: usize) -> Option<Connection> {
        self.media.get(index).and_then(|m| m.connection).or(self.connection)
    }

    /// Effective direction of media section `index`: media level, session level, sendrecv
    /// (RFC 8866 6.7).
    pub fn media_direction(&self, index: usize) -> Direction {
        self.media
            .get(index)
            .and_then(MediaDescription::direction)
            .or_else(|| self.direction())
            .unwrap_or(Direction::SendRecv)
    }
}

fn emit_common(out: &mut String, bw: &[Bandwidth], extra: &[ExtraLine], attrs: &[Attribute]) -> fmt::Result {
    for b in bw {
        write!(out, "b={b}\r\n")?;
    }
    for l in extra {
        write!(out, "{}={}\r\n", l.kind, l.value)?;
    }
    for a in attrs {
        write!(out, "a={a}\r\n")?;
    }
    Ok(())
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(1024);
        self.emit(&mut s);
        f.write_str(&s)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (u, id, v) = (&self.username, &self.session_id, self.session_version);
        write!(f, "{u} {id} {v} IN {} {}", self.addr_type.as_str(), self.address)
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IN {} {}", AddrType::of(self.addr).as_str(), self.addr)?;
        if let Some(t) = self.ttl {
            write!(f, "/{t}")?;
        }
        match self.count {
            Some(n) => write!(f, "/{n}"),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            BandwidthType::As => "AS",
            BandwidthType::Ct => "CT",
            BandwidthType::Tias => "TIAS",
            BandwidthType::Rs => "RS",
            BandwidthType::Rr => "RR",
            BandwidthType::Other(s) => s,
        };
        write!(f, "{kind}:{}", self.value)
    }
}

/// Parses `<addrtype> <address>` of `c=`/`a=rtcp` (numeric IPv4/IPv6 only).
pub(crate) fn parse_address(addr_type: &str, addr: &str) -> Option<(IpAddr, AddrType)> {
    match addr_type {
        "IP4" => addr.parse::<std::net::Ipv4Addr>().ok().map(|a| (IpAddr::V4(a), AddrType::Ip4)),
        "IP6" => addr.parse::<std::net::Ipv6Addr>().ok().map(|a| (IpAddr::V6(a), AddrType::Ip6)),
        _ => None,
    }
}
