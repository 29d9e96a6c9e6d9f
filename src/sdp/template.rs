//! Local capabilities from a template SDP (the content of a seed 000
//! `sdp_file`): the media types, codecs, fmtp, bandwidths, ptime and
//! direction the file lists are what ringcore answers with. Answering the
//! offer against them keeps the offer/answer rules (RFC 3264 6) and, for AMR
//! and AMR-WB, RFC 4867 8.3.1: a file that leaves the mode-set open returns
//! the offered mode-set unchanged; a file that fixes one rejects an offered
//! mode-set it does not cover.

use super::amr::{all_modes, AmrParams};
use super::attr::{Attribute, Direction};
use super::caps::{static_rtpmap, AmrCaps, CodecCap, LocalCaps, MediaCaps, PreconditionPolicy};
use super::repr::{MediaDescription, SessionDescription};

impl LocalCaps {
    /// The capabilities a template describes (its disabled, port 0,
    /// sections left out). Several codecs of a section are all answered
    /// when offered (no single-codec rule: the file decides).
    pub fn from_template(t: &SessionDescription) -> LocalCaps {
        let media: Vec<MediaCaps> = t.media.iter().filter(|m| m.port != 0 && m.is_rtp()).map(media_caps).collect();
        let direction = t.media.iter().find_map(MediaDescription::direction).or_else(|| t.direction()).unwrap_or(Direction::SendRecv);
        LocalCaps {
            username: t.origin.username.clone(),
            media,
            single_codec: false,
            rtcp_mux: t.media.iter().any(MediaDescription::rtcp_mux),
            preconditions: PreconditionPolicy { offer: true, local_reserved: true },
            direction,
        }
    }
}

fn media_caps(m: &MediaDescription) -> MediaCaps {
    let maxptime = m.attributes.iter().find_map(|a| match a {
        Attribute::MaxPtime(p) => Some(*p),
        _ => None,
    });
    MediaCaps {
        kind: m.kind,
        proto: m.proto.clone(),
        codecs: m.payload_types().filter_map(|pt| codec(m, pt)).collect(),
        bandwidths: m.bandwidths.clone(),
        ptime: m.ptime(),
        maxptime,
    }
}

/// One listed payload type: its rtpmap (or RFC 3551 static mapping) and fmtp;
/// AMR options from the fmtp (RFC 4867 8.1).
fn codec(m: &MediaDescription, pt: u8) -> Option<CodecCap> {
    let map = m.rtpmap(pt).cloned().or_else(|| static_rtpmap(pt))?;
    let fmtp = m.fmtp(pt).map(|f| f.params.clone());
    let wideband = map.encoding.eq_ignore_ascii_case("AMR-WB");
    let amr = (wideband || map.encoding.eq_ignore_ascii_case("AMR")).then(|| amr_caps(fmtp.as_deref().unwrap_or(""), wideband));
    Some(CodecCap { pt, encoding: map.encoding, clock_rate: map.clock_rate, channels: map.channels, fmtp, amr })
}

/// What an AMR fmtp of the template allows: its mode-set (all modes when
/// none), its framing when `octet-align` is written (both when not), and
/// the options it turns on.
fn amr_caps(fmtp: &str, wideband: bool) -> AmrCaps {
    let Ok(p) = AmrParams::parse(fmtp, wideband) else { return AmrCaps::default() };
    let framing_written = fmtp.split(';').any(|kv| kv.trim().to_ascii_lowercase().starts_with("octet-align"));
    AmrCaps {
        modes: p.mode_set.unwrap_or(all_modes(wideband)),
        octet_aligned: !framing_written || p.octet_align,
        bandwidth_efficient: !framing_written || !p.octet_align,
        crc: p.crc,
        robust_sorting: p.robust_sorting,
        interleaving: p.interleaving.is_some(),
        mode_change_capability: p.mode_change_capability,
        max_red: p.max_red,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::{answer, LocalSession, MediaKind};

    const TEMPLATE: &str = "v=0\r\no=lab 7 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
        m=audio 4000 RTP/AVP 97 0 101\r\nb=AS:30\r\na=rtpmap:97 AMR/8000\r\na=fmtp:97 octet-align=1\r\n\
        a=rtpmap:101 telephone-event/8000\r\na=ptime:40\r\n";

    fn offer(amr_fmtp: &str) -> SessionDescription {
        let text = format!(
            "v=0\r\no=ue 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 5000 RTP/AVP 104 96 0 105\r\n\
             a=rtpmap:104 AMR-WB/16000\r\na=rtpmap:96 AMR/8000\r\na=fmtp:96 {amr_fmtp}\r\na=rtpmap:105 telephone-event/8000\r\n"
        );
        SessionDescription::parse(text.as_bytes()).expect("valid offer")
    }

    fn answer_to(template: &str, o: &SessionDescription) -> Result<SessionDescription, crate::sdp::AnswerError> {
        let caps = LocalCaps::from_template(&SessionDescription::parse(template.as_bytes()).expect("valid template"));
        let local = LocalSession { addr: "127.0.0.1".parse().expect("ip"), session_id: 1, session_version: 1 };
        answer(o, &caps, &local, &mut |k| (k == MediaKind::Audio).then_some(20000))
    }

    #[test]
    fn the_template_codecs_are_answered_and_the_offered_mode_set_kept() {
        let a = answer_to(TEMPLATE, &offer("mode-set=0,2,5,7;octet-align=1")).expect("answer");
        let m = &a.media[0];
        // AMR-WB is not in the file: not answered; AMR, PCMU and the event are.
        assert_eq!(m.formats, vec!["96", "0", "105"]);
        // RFC 4867 8.3.1: the offered mode-set comes back unchanged.
        let f = m.fmtp(96).expect("AMR fmtp").params.clone();
        assert!(f.contains("mode-set=0,2,5,7") && f.contains("octet-align=1"), "{f}");
        assert_eq!(m.ptime(), Some(40));
        assert_eq!(m.bandwidths, SessionDescription::parse(TEMPLATE.as_bytes()).expect("valid").media[0].bandwidths);
    }

    #[test]
    fn a_file_mode_set_rejects_an_offer_it_does_not_cover() {
        let fixed = TEMPLATE.replace("a=fmtp:97 octet-align=1", "a=fmtp:97 mode-set=7;octet-align=1");
        let a = answer_to(&fixed, &offer("mode-set=0,2,5,7;octet-align=1")).expect("PCMU still answered");
        assert_eq!(a.media[0].formats, vec!["0", "105"], "AMR rejected: the offered mode-set is not a subset of the file's");
        // The file's framing is octet-aligned only: a bandwidth-efficient offer is not answered with AMR.
        let a = answer_to(TEMPLATE, &offer("mode-set=7")).expect("PCMU answered");
        assert!(!a.media[0].formats.contains(&"96".to_string()));
    }

    #[test]
    fn no_common_codec_is_an_error() {
        let only_g722 = "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nc=IN IP4 1.1.1.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 9\r\n";
        assert!(answer_to(only_g722, &offer("mode-set=7")).is_err());
    }
}
