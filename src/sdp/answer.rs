//! The answerer side of the offer/answer model (RFC 3264 6): one answered media section
//! per offered one, in order; unsupported streams rejected with port 0; codecs chosen in
//! the offerer's order; telephone-event (RFC 4733) at an offered rate; the direction
//! complemented (RFC 3264 6.1, hold in 8.4); preconditions mirrored (RFC 3312 5.1); AMR
//! parameters per RFC 4867 8.3.1.

use std::fmt;
use std::net::IpAddr;

use super::amr::{AmrMismatch, AmrParams};
use super::attr::{Attribute, Direction, Fmtp, Rtpmap};
use super::caps::{static_rtpmap, CodecCap, LocalCaps, MediaCaps};
use super::precond::{PrecondDirection, Precondition, StatusType, Strength};
use super::repr::{AddrType, Connection, MediaDescription, MediaKind, Origin, SessionDescription, Timing};

/// Identity of the local side of a session: `o=` and `c=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalSession {
    /// Media address written in `c=` (and `o=`).
    pub addr: IpAddr,
    /// `o=` session id.
    pub session_id: u64,
    /// `o=` session version.
    pub session_version: u64,
}

/// Why no acceptable answer (or no acceptable remote answer) exists: a 488 case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerError {
    /// The offer has no media section.
    NoMedia,
    /// Every media section had to be rejected.
    NoAcceptableMedia,
    /// The port allocator ran dry; the ports it had given are listed to be freed.
    PortsExhausted(Vec<u16>),
    /// An answer's media sections do not match the offer's (RFC 3264 6).
    MediaMismatch {
        /// Index of the media section.
        media: usize,
    },
    /// An answer breaks RFC 4867 8.3.1 for an AMR payload type.
    Amr {
        /// Index of the media section.
        media: usize,
        /// Payload type.
        pt: u8,
        /// The rule broken.
        reason: AmrMismatch,
    },
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerError::NoMedia => f.write_str("no media in offer"),
            AnswerError::NoAcceptableMedia => f.write_str("incompatible media"),
            AnswerError::PortsExhausted(_) => f.write_str("no media port available"),
            AnswerError::MediaMismatch { media } => write!(f, "answer media {media} does not match offer"),
            AnswerError::Amr { media, pt, reason } => write!(f, "media {media} AMR payload {pt}: {reason:?}"),
        }
    }
}

impl std::error::Error for AnswerError {}

/// A codec chosen for the answer: its offered rtpmap and the fmtp to answer with.
struct Chosen {
    map: Rtpmap,
    fmtp: Option<String>,
}

/// Answers `offer` (RFC 3264 6). `port_alloc` gives an RTP port for each stream we can
/// accept, or 0 to decline it (it is answered as rejected, port 0), or None when no port
/// is left (the answer fails and the ports given so far are listed to be freed).
pub fn answer(
    offer: &SessionDescription,
    caps: &LocalCaps,
    local: &LocalSession,
    port_alloc: &mut dyn FnMut(MediaKind) -> Option<u16>,
) -> Result<SessionDescription, AnswerError> {
    if offer.media.is_empty() {
        return Err(AnswerError::NoMedia);
    }
    let mut sd = local_session(caps, local);
    let mut ports = Vec::new();
    for (i, m) in offer.media.iter().enumerate() {
        let chosen = caps.media(m.kind).filter(|_| acceptable(m)).map(|mc| choose(m, mc, caps.single_codec));
        let answered = match chosen {
            Some(chosen) if !chosen.is_empty() => {
                match port_alloc(m.kind) {
                    None => return Err(AnswerError::PortsExhausted(ports)),
                    Some(0) => rejected(m),
                    Some(port) => {
                        ports.push(port);
                        accepted(offer, i, m, caps, port, &chosen)
                    }
                }
            }
            _ => rejected(m),
        };
        sd.media.push(answered);
    }
    if ports.is_empty() {
        return Err(AnswerError::NoAcceptableMedia);
    }
    Ok(sd)
}

/// `o=`, `s=-`, `c=` and `t=0 0` of a locally generated description.
pub(crate) fn local_session(caps: &LocalCaps, local: &LocalSession) -> SessionDescription {
    SessionDescription {
        origin: Origin {
            username: caps.username.clone(),
            session_id: local.session_id.to_string(),
            session_version: local.session_version,
            addr_type: AddrType::of(local.addr),
            address: local.addr.to_string(),
        },
        session_name: "-".to_owned(),
        info: None,
        connection: Some(Connection::unicast(local.addr)),
        bandwidths: Vec::new(),
        timing: Timing::default(),
        extra: Vec::new(),
        attributes: Vec::new(),
        media: Vec::new(),
    }
}

/// RFC 3264 6: a stream offered with port 0 stays rejected; only plain RTP profiles.
fn acceptable(m: &MediaDescription) -> bool {
    m.port != 0 && matches!(m.proto.as_str(), "RTP/AVP" | "RTP/AVPF")
}

/// RFC 3264 6: a rejected stream keeps its media type and formats with port 0.
fn rejected(m: &MediaDescription) -> MediaDescription {
    let mut r = MediaDescription::new(m.kind, 0, &m.proto);
    r.formats = m.formats.clone();
    if let Some(mid) = m.mid() {
        r.attributes.push(Attribute::Mid(mid.to_owned()));
    }
    r
}

/// The offered rtpmap of `pt`, or its RFC 3551 static mapping.
fn offered_map(m: &MediaDescription, pt: u8) -> Option<Rtpmap> {
    m.rtpmap(pt).cloned().or_else(|| static_rtpmap(pt))
}

/// Codecs in the offerer's order (RFC 3264 6.1), AMR checked per RFC 4867 8.3.1, plus one
/// telephone-event at an offered rate, preferring the rate of the chosen codec (RFC 4733 2.1).
fn choose(m: &MediaDescription, mc: &MediaCaps, single: bool) -> Vec<Chosen> {
    let mut chosen: Vec<Chosen> = Vec::new();
    let mut events: Vec<Rtpmap> = Vec::new();
    for pt in m.payload_types() {
        let Some(map) = offered_map(m, pt) else { continue };
        let Some(cap) = mc.codecs.iter().find(|c| c.matches(&map)) else { continue };
        if cap.is_telephone_event() {
            events.push(map);
        } else if !single || chosen.is_empty() {
            if let Some(fmtp) = answer_fmtp(m, pt, &map, cap) {
                chosen.push(Chosen { map, fmtp });
            }
        }
    }
    let Some(rate) = chosen.first().map(|c| c.map.clock_rate) else { return chosen };
    let event = events.iter().find(|e| e.clock_rate == rate).or(events.first());
    if let Some(e) = event {
        let fmtp = m.fmtp(e.pt).map(|f| f.params.clone());
        chosen.push(Chosen { map: e.clone(), fmtp });
    }
    // Keep the offer's format order.
    let pos = |pt: u8| m.payload_types().position(|p| p == pt);
    chosen.sort_by_key(|c| pos(c.map.pt));
    chosen
}

/// The fmtp answered for one codec, `None` in the outer option to reject the payload type.
#[allow(clippy::option_option)]
fn answer_fmtp(m: &MediaDescription, pt: u8, map: &Rtpmap, cap: &CodecCap) -> Option<Option<String>> {
    let offered = m.fmtp(pt).map(|f| f.params.as_str());
    let Some(amr_caps) = &cap.amr else { return Some(offered.map(str::to_owned)) };
    let wideband = map.encoding.eq_ignore_ascii_case("AMR-WB");
    let params = AmrParams::parse(offered.unwrap_or(""), wideband).ok()?;
    let answer = params.answer(amr_caps, wideband).ok()?;
    let text = answer.to_fmtp();
    Some(Some(text).filter(|t| !t.is_empty()))
}

fn accepted(
    offer: &SessionDescription,
    i: usize,
    m: &MediaDescription,
    caps: &LocalCaps,
    port: u16,
    chosen: &[Chosen],
) -> MediaDescription {
    let mc = caps.media(m.kind);
    let mut a = MediaDescription::new(m.kind, port, &m.proto);
    a.formats = chosen.iter().map(|c| c.map.pt.to_string()).collect();
    a.bandwidths = mc.map(|mc| mc.bandwidths.clone()).unwrap_or_default();
    if let Some(mid) = m.mid() {
        a.attributes.push(Attribute::Mid(mid.to_owned()));
    }
    for c in chosen {
        a.attributes.push(Attribute::Rtpmap(c.map.clone()));
        if let Some(params) = &c.fmtp {
            a.attributes.push(Attribute::Fmtp(Fmtp { pt: c.map.pt, params: params.clone() }));
        }
    }
    if let Some(p) = mc.and_then(|mc| mc.ptime) {
        a.attributes.push(Attribute::Ptime(p));
    }
    if let Some(p) = mc.and_then(|mc| mc.maxptime) {
        a.attributes.push(Attribute::MaxPtime(p));
    }
    a.attributes.extend(answer_preconditions(m, caps.preconditions.local_reserved));
    a.attributes.push(Attribute::Direction(answer_direction(offer, i, caps.direction)));
    if caps.rtcp_mux && m.rtcp_mux() {
        a.attributes.push(Attribute::RtcpMux);
    }
    a
}

/// RFC 3264 6.1: sendonly is answered recvonly, recvonly sendonly, inactive inactive,
/// limited by the local direction (local hold). RFC 3264 8.4: `c=0.0.0.0` means the
/// offerer does not want to receive.
fn answer_direction(offer: &SessionDescription, i: usize, local: Direction) -> Direction {
    let mut offered = offer.media_direction(i);
    if offer.media_connection(i).is_some_and(|c| c.is_hold()) {
        offered = offered.intersect(Direction::SendOnly);
    }
    offered.complement().intersect(local)
}

/// RFC 3312 5.1: the answer states the answerer's local status, the offerer's status as
/// remote, mirrors the desired strengths, and asks for a confirmation (`a=conf`) while the
/// offerer's segment is not yet reserved. Directions are seen from the SDP's sender, so
/// they are reversed when mirrored.
fn answer_preconditions(m: &MediaDescription, local_reserved: bool) -> Vec<Attribute> {
    let qos = |p: &&Precondition| p.kind == "qos";
    let des_of = |st| m.des().filter(qos).find(|p| p.status == st);
    let curr_of = |st| m.curr().filter(qos).find(|p| p.status == st).map(|p| p.direction);
    if m.des().find(qos).is_none() {
        return Vec::new();
    }
    let ours = if local_reserved { PrecondDirection::SendRecv } else { PrecondDirection::None };
    let mut out = Vec::new();
    if let Some(e2e) = des_of(StatusType::E2e) {
        let cur = curr_of(StatusType::E2e).unwrap_or(PrecondDirection::None);
        let cur = if local_reserved { cur.reversed() } else { PrecondDirection::None };
        out.push(Attribute::Curr(Precondition::qos(None, StatusType::E2e, cur)));
        let d = e2e.direction.reversed();
        out.push(Attribute::Des(Precondition::qos(e2e.strength, StatusType::E2e, d)));
        return out;
    }
    let theirs = curr_of(StatusType::Local).unwrap_or(PrecondDirection::None).reversed();
    out.push(Attribute::Curr(Precondition::qos(None, StatusType::Local, ours)));
    out.push(Attribute::Curr(Precondition::qos(None, StatusType::Remote, theirs)));
    let (our_strength, our_dir) = des_of(StatusType::Remote)
        .map_or((Strength::Optional, PrecondDirection::SendRecv), |p| {
            (p.strength.unwrap_or(Strength::Optional), p.direction.reversed())
        });
    out.push(Attribute::Des(Precondition::qos(Some(our_strength), StatusType::Local, our_dir)));
    if let Some(p) = des_of(StatusType::Local) {
        let dir = p.direction.reversed();
        out.push(Attribute::Des(Precondition::qos(p.strength, StatusType::Remote, dir)));
        if !theirs.covers(dir) && p.strength.is_some_and(|s| s != Strength::None) {
            out.push(Attribute::Conf(Precondition::qos(None, StatusType::Remote, dir)));
        }
    }
    out
}
