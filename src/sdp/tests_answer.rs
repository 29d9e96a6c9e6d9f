//! Offer/answer tests: RFC 3264 6 answers, RFC 3312 preconditions, RFC 4867 8.3.1 AMR rules.

use std::net::{IpAddr, Ipv4Addr};

use super::tests::{parse, IPHONE_V6, MGW_ANSWER, MGW_OFFER, SAMSUNG, VILTE};
use super::*;

fn local() -> LocalSession {
    LocalSession { addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)), session_id: 77, session_version: 1 }
}

fn answer_with(offer: &str, caps: &LocalCaps) -> Result<SessionDescription, AnswerError> {
    let mut next = 40000u16;
    let mut alloc = |_| {
        next += 2;
        Some(next)
    };
    answer(&parse(offer), caps, &local(), &mut alloc)
}

fn ok_answer(offer: &str, caps: &LocalCaps) -> SessionDescription {
    let a = answer_with(offer, caps).unwrap();
    // Our own answers must satisfy our own checks and survive a round trip.
    verify_answer(&parse(offer), &a).unwrap();
    assert_eq!(parse(&a.to_string()), a);
    a
}

fn attr_lines(m: &MediaDescription) -> Vec<String> {
    m.attributes.iter().map(|a| a.to_string()).collect()
}

#[test]
fn samsung_offer_answered_with_first_codec_and_matching_dtmf() {
    let a = ok_answer(SAMSUNG, &LocalCaps::volte_default());
    assert_eq!(a.connection.unwrap().addr, local().addr);
    let m = &a.media[0];
    assert_eq!((m.port, m.formats.clone()), (40002, vec!["116".to_string(), "111".to_string()]));
    let lines = attr_lines(m);
    assert!(lines.contains(&"rtpmap:116 AMR-WB/16000/1".to_string()));
    assert!(lines.contains(&"fmtp:116 mode-change-capability=2".to_string()), "{lines:?}");
    assert!(lines.contains(&"rtpmap:111 telephone-event/16000".to_string()));
    assert!(lines.contains(&"fmtp:111 0-15".to_string()));
    assert!(lines.contains(&"sendrecv".to_string()));
}

#[test]
fn dtmf_answered_at_the_rate_of_the_chosen_codec() {
    let mut caps = LocalCaps::volte_default();
    caps.media[0].codecs.remove(0); // no AMR-WB: AMR/8000 chosen
    let a = ok_answer(SAMSUNG, &caps);
    assert_eq!(a.media[0].formats, vec!["118", "110"]);
}

#[test]
fn offered_mode_set_is_kept_unchanged() {
    let a = ok_answer(IPHONE_V6, &LocalCaps::volte_default());
    let m = &a.media[0];
    assert_eq!(m.formats, vec!["104", "105"]);
    let p = AmrParams::parse(&m.fmtp(104).unwrap().params, true).unwrap();
    assert_eq!(p.mode_set, Some(0x1ff));
    // Answer over IPv4 to an IPv6 offer is the caller's choice; the session is ours.
    assert_eq!(a.origin.session_id, "77");
}

#[test]
fn unsupported_mode_set_rejects_the_payload_type() {
    let mut caps = LocalCaps::volte_default();
    for c in &mut caps.media[0].codecs {
        if let Some(amr) = &mut c.amr {
            amr.modes = 0b0111_1111; // no mode 7 (AMR 12.2) nor 8 (AMR-WB 23.85)
        }
    }
    // Both AMR payload types carry a full mode-set: neither may be answered with a subset.
    assert_eq!(answer_with(IPHONE_V6, &caps), Err(AnswerError::NoAcceptableMedia));
    // Without an offered mode-set the answerer picks its own.
    let a = ok_answer(SAMSUNG, &caps);
    let p = AmrParams::parse(&a.media[0].fmtp(116).unwrap().params, true).unwrap();
    assert_eq!(p.mode_set, Some(0b0111_1111));
}

#[test]
fn mismatched_octet_align_rejected() {
    let mut caps = LocalCaps::volte_default();
    for c in &mut caps.media[0].codecs {
        if let Some(amr) = &mut c.amr {
            amr.bandwidth_efficient = false;
        }
    }
    // Only the octet-aligned payload types (107 AMR-WB, 96 AMR) can be answered.
    let a = ok_answer(SAMSUNG, &caps);
    assert_eq!(a.media[0].formats, vec!["107", "111"]);
    assert!(a.media[0].fmtp(107).unwrap().params.contains("octet-align=1"));
    // Offerer side: an answer that flips octet-align for the same payload type is refused.
    let offer = parse(SAMSUNG);
    let mut bad = a.clone();
    for attr in &mut bad.media[0].attributes {
        if let Attribute::Fmtp(f) = attr {
            if f.pt == 107 {
                f.params = "mode-change-capability=2".into();
            }
        }
    }
    let e = verify_answer(&offer, &bad).unwrap_err();
    assert_eq!(e, AnswerError::Amr { media: 0, pt: 107, reason: AmrMismatch::FormatChanged });
}

#[test]
fn mgw_answer_with_subset_mode_set_is_refused() {
    // The field case: offer mode-set 0-7 on AMR, the MGW answered mode-set=7.
    let e = verify_answer(&parse(MGW_OFFER), &parse(MGW_ANSWER)).unwrap_err();
    assert_eq!(e, AnswerError::Amr { media: 0, pt: 118, reason: AmrMismatch::ModeSetChanged });
}

#[test]
fn unsupported_video_rejected_with_port_zero_audio_accepted() {
    let a = ok_answer(VILTE, &LocalCaps::volte_default());
    assert_eq!(a.media.len(), 2);
    assert_ne!(a.media[0].port, 0);
    let v = &a.media[1];
    assert_eq!((v.kind, v.port, v.proto.as_str()), (MediaKind::Video, 0, "RTP/AVPF"));
    assert_eq!(v.formats, vec!["112", "113"]);
    assert!(v.attributes.is_empty());
}

#[test]
fn video_accepted_when_supported() {
    let a = ok_answer(VILTE, &LocalCaps::volte_default().with_h264_video());
    let v = &a.media[1];
    assert_eq!((v.port, v.formats.clone()), (40004, vec!["112".to_string()]));
    assert!(v.fmtp(112).unwrap().params.starts_with("profile-level-id=42C01F;packetization-mode=1"));
}

#[test]
fn hold_directions() {
    let caps = LocalCaps::volte_default();
    let with_dir = |d: &str| SAMSUNG.replace("a=sendrecv", d);
    let dir = |a: &SessionDescription| a.media[0].direction();
    assert_eq!(dir(&ok_answer(&with_dir("a=sendonly"), &caps)), Some(Direction::RecvOnly));
    assert_eq!(dir(&ok_answer(&with_dir("a=recvonly"), &caps)), Some(Direction::SendOnly));
    assert_eq!(dir(&ok_answer(&with_dir("a=inactive"), &caps)), Some(Direction::Inactive));
    // RFC 3264 8.4: the old c=0.0.0.0 hold.
    let old = SAMSUNG.replace("c=IN IP4 10.45.0.2", "c=IN IP4 0.0.0.0");
    assert_eq!(dir(&ok_answer(&old, &caps)), Some(Direction::RecvOnly));
    // Local hold: we only send.
    let held = LocalCaps { direction: Direction::SendOnly, ..caps.clone() };
    assert_eq!(dir(&ok_answer(SAMSUNG, &held)), Some(Direction::SendOnly));
    assert_eq!(dir(&ok_answer(&with_dir("a=sendonly"), &held)), Some(Direction::Inactive));
}

#[test]
fn preconditions_mirrored() {
    let a = ok_answer(SAMSUNG, &LocalCaps::volte_default());
    let lines = attr_lines(&a.media[0]);
    let pre: Vec<&str> = lines.iter().map(String::as_str).filter(|l| l.starts_with("curr") || l.starts_with("des") || l.starts_with("conf")).collect();
    assert_eq!(
        pre,
        vec![
            "curr:qos local sendrecv",
            "curr:qos remote none",
            "des:qos optional local sendrecv",
            "des:qos mandatory remote sendrecv",
            "conf:qos remote sendrecv",
        ]
    );
    let mut caps = LocalCaps::volte_default();
    caps.preconditions.local_reserved = false;
    let a = ok_answer(SAMSUNG, &caps);
    assert_eq!(a.media[0].curr().next().unwrap().direction, PrecondDirection::None);
    // Offerer already reserved: no confirmation requested.
    let reserved = SAMSUNG.replace("a=curr:qos local none", "a=curr:qos local sendrecv");
    let a = ok_answer(&reserved, &LocalCaps::volte_default());
    assert_eq!(a.media[0].conf().count(), 0);
    assert_eq!(a.media[0].curr().nth(1).unwrap().direction, PrecondDirection::SendRecv);
    // No preconditions offered: none answered.
    let plain = ok_answer(MGW_OFFER, &LocalCaps::volte_default());
    assert_eq!(plain.media[0].des().count(), 0);
}

#[test]
fn ports_exhausted_returns_the_ports_given() {
    let mut given = vec![40000u16];
    let mut alloc = |_| given.pop();
    let caps = LocalCaps::volte_default().with_h264_video();
    let e = answer(&parse(VILTE), &caps, &local(), &mut alloc).unwrap_err();
    assert_eq!(e, AnswerError::PortsExhausted(vec![40000]));
}

#[test]
fn built_offer_parses_and_answers_itself() {
    let caps = LocalCaps::volte_default().with_h264_video();
    let mut next = 50000u16;
    let mut alloc = |_| {
        next += 2;
        Some(next)
    };
    let offer = build_offer(&caps, &local(), &mut alloc).unwrap();
    let text = offer.to_string();
    assert!(text.contains("m=audio 50002 RTP/AVP 116 118 111 110\r\n"), "{text}");
    assert!(text.contains("a=des:qos mandatory local sendrecv\r\n"));
    assert!(text.contains("m=video 50004 RTP/AVP 112\r\n"));
    let reparsed = parse(&text);
    assert_eq!(reparsed, offer);
    let ans = answer(&reparsed, &caps, &local(), &mut alloc).unwrap();
    verify_answer(&offer, &ans).unwrap();
    // From an sdp_file template: media kept, our address and ports.
    let t = offer_from_template(&parse(IPHONE_V6), &caps, &local(), &mut alloc).unwrap();
    assert_eq!(t.connection.unwrap().addr, local().addr);
    assert_eq!(t.media[0].port, 50010);
    assert_eq!(t.media[0].formats, vec!["104", "102", "105", "100"]);
}

#[test]
fn no_media_and_rejected_everything() {
    let none = "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\n";
    assert_eq!(answer_with(none, &LocalCaps::volte_default()), Err(AnswerError::NoMedia));
    let srtp = SAMSUNG.replace("RTP/AVP", "RTP/SAVP");
    assert_eq!(answer_with(&srtp, &LocalCaps::volte_default()), Err(AnswerError::NoAcceptableMedia));
    assert_eq!(AnswerError::NoAcceptableMedia.to_string(), "incompatible media");
}
