//! The offerer side of RFC 3264 (section 5 and the checks of section 6 applied to an
//! answer we receive): offers built from [`LocalCaps`] (MT calls towards a UE) or from an
//! SDP template (an `sdp_file`), and [`verify_answer`] with the AMR rules of RFC 4867 8.3.1.

use super::amr::AmrParams;
use super::answer::{local_session, AnswerError, LocalSession};
use super::attr::{Attribute, Fmtp};
use super::caps::{LocalCaps, MediaCaps};
use super::precond::{PrecondDirection, Precondition, StatusType, Strength};
use super::repr::{Connection, MediaDescription, MediaKind, SessionDescription};

/// Builds an offer with one media section per entry of `caps.media`.
pub fn build_offer(
    caps: &LocalCaps,
    local: &LocalSession,
    port_alloc: &mut dyn FnMut(MediaKind) -> Option<u16>,
) -> Result<SessionDescription, AnswerError> {
    let mut sd = local_session(caps, local);
    let mut ports = Vec::new();
    for mc in &caps.media {
        let Some(port) = port_alloc(mc.kind) else {
            return Err(AnswerError::PortsExhausted(ports));
        };
        ports.push(port);
        sd.media.push(offer_media(mc, caps, port));
    }
    if sd.media.is_empty() {
        return Err(AnswerError::NoMedia);
    }
    Ok(sd)
}

fn offer_media(mc: &MediaCaps, caps: &LocalCaps, port: u16) -> MediaDescription {
    let mut m = MediaDescription::new(mc.kind, port, &mc.proto);
    m.formats = mc.codecs.iter().map(|c| c.pt.to_string()).collect();
    m.bandwidths = mc.bandwidths.clone();
    for c in &mc.codecs {
        m.attributes.push(Attribute::Rtpmap(c.rtpmap()));
        if let Some(params) = &c.fmtp {
            m.attributes.push(Attribute::Fmtp(Fmtp { pt: c.pt, params: params.clone() }));
        }
    }
    if let Some(p) = mc.ptime {
        m.attributes.push(Attribute::Ptime(p));
    }
    if let Some(p) = mc.maxptime {
        m.attributes.push(Attribute::MaxPtime(p));
    }
    if caps.preconditions.offer {
        m.attributes.extend(offer_preconditions(caps.preconditions.local_reserved));
    }
    m.attributes.push(Attribute::Direction(caps.direction));
    m
}

/// RFC 3312 5 / TS 24.229 6.1.2: segmented status, our segment mandatory, the peer's
/// optional (the lab core cannot know the UE's bearer policy).
fn offer_preconditions(local_reserved: bool) -> [Attribute; 4] {
    let ours = if local_reserved { PrecondDirection::SendRecv } else { PrecondDirection::None };
    let sr = PrecondDirection::SendRecv;
    [
        Attribute::Curr(Precondition::qos(None, StatusType::Local, ours)),
        Attribute::Curr(Precondition::qos(None, StatusType::Remote, PrecondDirection::None)),
        Attribute::Des(Precondition::qos(Some(Strength::Mandatory), StatusType::Local, sr)),
        Attribute::Des(Precondition::qos(Some(Strength::Optional), StatusType::Remote, sr)),
    ]
}

/// An offer from a template (the content of an `sdp_file`): its media kept, with our
/// `o=`/`c=` and a fresh port for each enabled stream.
pub fn offer_from_template(
    template: &SessionDescription,
    caps: &LocalCaps,
    local: &LocalSession,
    port_alloc: &mut dyn FnMut(MediaKind) -> Option<u16>,
) -> Result<SessionDescription, AnswerError> {
    let mut sd = local_session(caps, local);
    sd.session_name = template.session_name.clone();
    sd.bandwidths = template.bandwidths.clone();
    sd.attributes = template.attributes.clone();
    let mut ports = Vec::new();
    for m in &template.media {
        let mut m = m.clone();
        m.connection = m.connection.map(|_| Connection::unicast(local.addr));
        if m.port != 0 {
            let Some(port) = port_alloc(m.kind) else {
                return Err(AnswerError::PortsExhausted(ports));
            };
            ports.push(port);
            m.port = port;
        }
        sd.media.push(m);
    }
    if ports.is_empty() {
        return Err(AnswerError::NoMedia);
    }
    Ok(sd)
}

/// Checks an answer against the offer we sent: same media sections in the same order
/// (RFC 3264 6), no stream revived after we disabled it, an accepted stream has a format,
/// and for every AMR payload type in both, the RFC 4867 8.3.1 rules.
pub fn verify_answer(offer: &SessionDescription, answer: &SessionDescription) -> Result<(), AnswerError> {
    if offer.media.len() != answer.media.len() {
        return Err(AnswerError::MediaMismatch { media: offer.media.len().min(answer.media.len()) });
    }
    let mut accepted = 0;
    for (i, (o, a)) in offer.media.iter().zip(&answer.media).enumerate() {
        if o.kind != a.kind || (o.port == 0 && a.port != 0) {
            return Err(AnswerError::MediaMismatch { media: i });
        }
        if a.port == 0 {
            continue;
        }
        accepted += 1;
        verify_amr(i, o, a)?;
    }
    if accepted == 0 {
        return Err(AnswerError::NoAcceptableMedia);
    }
    Ok(())
}

fn verify_amr(i: usize, o: &MediaDescription, a: &MediaDescription) -> Result<(), AnswerError> {
    for pt in a.payload_types() {
        let (Some(om), Some(am)) = (o.rtpmap(pt), a.rtpmap(pt).or(o.rtpmap(pt))) else { continue };
        let wideband = match om.encoding.to_ascii_uppercase().as_str() {
            "AMR" => false,
            "AMR-WB" => true,
            _ => continue,
        };
        let amr_err = |reason| AnswerError::Amr { media: i, pt, reason };
        if !om.encoding.eq_ignore_ascii_case(&am.encoding) {
            return Err(AnswerError::MediaMismatch { media: i });
        }
        let params = |m: &MediaDescription| AmrParams::parse(m.fmtp(pt).map_or("", |f| f.params.as_str()), wideband);
        let offered = params(o).map_err(amr_err)?;
        let answered = params(a).map_err(amr_err)?;
        offered.check_answer(&answered).map_err(amr_err)?;
    }
    Ok(())
}

