//! Parse/emit tests of the SDP view and representation on realistic VoLTE bodies.

use std::net::IpAddr;

use super::*;

pub(crate) const SAMSUNG: &str = include_str!("../../tests/data/sdp/samsung_volte_offer.sdp");
pub(crate) const IPHONE_V6: &str = include_str!("../../tests/data/sdp/iphone_volte_offer_ipv6.sdp");
pub(crate) const VILTE: &str = include_str!("../../tests/data/sdp/vilte_offer_h264.sdp");
pub(crate) const MGW_OFFER: &str = include_str!("../../tests/data/sdp/mgw_offer_mode_set.sdp");
pub(crate) const MGW_ANSWER: &str = include_str!("../../tests/data/sdp/mgw_answer_bad_mode_set.sdp");

pub(crate) fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

pub(crate) fn parse(s: &str) -> SessionDescription {
    match SessionDescription::parse(s.as_bytes()) {
        Ok(sd) => sd,
        Err(e) => panic!("{e}"),
    }
}

fn err_of(s: &str) -> ParseError {
    match SessionDescription::parse(s.as_bytes()) {
        Ok(sd) => panic!("accepted: {sd:?}"),
        Err(e) => e,
    }
}

#[test]
fn real_offers_round_trip_byte_exact() {
    for body in [SAMSUNG, IPHONE_V6, VILTE, MGW_OFFER, MGW_ANSWER] {
        let from_lf = parse(body);
        let from_crlf = parse(&crlf(body));
        assert_eq!(from_lf, from_crlf);
        assert_eq!(from_lf.to_string(), crlf(body));
    }
}

#[test]
fn samsung_offer_fields() {
    let sd = parse(SAMSUNG);
    assert_eq!(sd.origin.username, "SAMSUNG-IMS-UE");
    assert_eq!(sd.origin.session_id, "1579174567862340");
    assert_eq!(sd.connection, Some(Connection::unicast("10.45.0.2".parse().unwrap())));
    let m = &sd.media[0];
    assert_eq!((m.kind, m.port, m.proto.as_str()), (MediaKind::Audio, 1234, "RTP/AVP"));
    assert_eq!(m.payload_types().collect::<Vec<_>>(), vec![116, 107, 118, 96, 111, 110]);
    let wb = m.rtpmap(116).unwrap();
    assert_eq!((wb.encoding.as_str(), wb.clock_rate, wb.channels), ("AMR-WB", 16000, Some(1)));
    assert_eq!(m.fmtp(107).unwrap().params, "octet-align=1;mode-change-capability=2;max-red=0");
    assert_eq!(m.ptime(), Some(20));
    assert_eq!(m.direction(), Some(Direction::SendRecv));
    assert_eq!(m.bandwidths[2], Bandwidth { kind: BandwidthType::Rr, value: 2500 });
    let des: Vec<_> = m.des().collect();
    assert_eq!(des[0], &Precondition::qos(Some(Strength::Mandatory), StatusType::Local, PrecondDirection::SendRecv));
    assert_eq!(des[1].strength, Some(Strength::Optional));
    assert_eq!(m.curr().count(), 2);
}

#[test]
fn ipv6_offer() {
    let sd = parse(IPHONE_V6);
    let addr: IpAddr = "2001:db8:10:0:1c4e:7b2a:9f3e:5d01".parse().unwrap();
    assert_eq!(sd.connection.unwrap().addr, addr);
    assert_eq!(sd.origin.addr_type, AddrType::Ip6);
    assert_eq!(sd.bandwidths, vec![Bandwidth { kind: BandwidthType::As, value: 41 }]);
    let amr = AmrParams::parse(&sd.media[0].fmtp(104).unwrap().params, true).unwrap();
    assert_eq!(amr.mode_set, Some(0x1ff));
    assert_eq!(amr.mode_change_capability, Some(2));
}

#[test]
fn video_offer_keeps_unknown_attributes() {
    let sd = parse(VILTE);
    let v = &sd.media[1];
    assert_eq!((v.kind, v.proto.as_str()), (MediaKind::Video, "RTP/AVPF"));
    assert!(v.fmtp(112).unwrap().params.starts_with("profile-level-id=42C01F;packetization-mode=1"));
    let fb = Attribute::Other { name: "rtcp-fb".into(), value: Some("* ccm fir".into()) };
    assert!(v.attributes.contains(&fb));
    let ext = Attribute::Other { name: "extmap".into(), value: Some("4 urn:3gpp:video-orientation".into()) };
    assert!(v.attributes.contains(&ext));
}

#[test]
fn rfc3605_rtcp_and_mux_and_mid() {
    let body = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 5000 RTP/AVP 0\nc=IN IP4 192.0.2.1\na=rtcp:5003 IN IP4 192.0.2.9\na=rtcp-mux\na=mid:a1\na=inactive\na=conf:qos remote sendrecv\n";
    let sd = parse(body);
    let m = &sd.media[0];
    let rtcp = RtcpAttr { port: 5003, addr: Some("192.0.2.9".parse().unwrap()) };
    assert!(m.attributes.contains(&Attribute::Rtcp(rtcp)));
    assert!(m.rtcp_mux());
    assert_eq!(m.mid(), Some("a1"));
    assert_eq!(sd.media_direction(0), Direction::Inactive);
    assert_eq!(m.conf().next().unwrap().status, StatusType::Remote);
    assert_eq!(sd.to_string(), crlf(body));
}

#[test]
fn malformed_lines_report_their_line_number() {
    let base = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n";
    let cases: [(&str, usize, ErrorKind); 12] = [
        ("m=audio x RTP/AVP 0\n", 6, ErrorKind::BadMedia),
        ("m=speech 1 RTP/AVP 0\n", 6, ErrorKind::BadMedia),
        ("m=audio 1 RTP/AVP\n", 6, ErrorKind::BadMedia),
        ("m=audio 1 RTP/AVP 0\na=rtpmap:0 PCMU\n", 7, ErrorKind::BadAttribute("rtpmap")),
        ("m=audio 1 RTP/AVP 0\na=ptime:abc\n", 7, ErrorKind::BadAttribute("ptime")),
        ("m=audio 1 RTP/AVP 0\na=curr:qos local maybe\n", 7, ErrorKind::BadAttribute("curr")),
        ("m=audio 1 RTP/AVP 0\na=des:qos local sendrecv\n", 7, ErrorKind::BadAttribute("des")),
        ("m=audio 1 RTP/AVP 0\nc=IN IP4 999.1.1.1\n", 7, ErrorKind::BadConnection),
        ("m=audio 1 RTP/AVP 0\nb=AS:lots\n", 7, ErrorKind::BadBandwidth),
        ("m=audio 1 RTP/AVP 0\nX=1\n", 7, ErrorKind::LineSyntax),
        ("m=audio 1 RTP/AVP 0\nt=0 0\n", 7, ErrorKind::OutOfOrder),
        ("m=audio 1 RTP/AVP 0\n\na=sendrecv\n", 7, ErrorKind::EmptyLine),
    ];
    for (tail, line, kind) in cases {
        let e = err_of(&format!("{base}{tail}"));
        assert_eq!((e.line, e.kind), (line, kind), "{tail:?}");
    }
    let e = err_of(&format!("{base}m=audio x RTP/AVP 0\n"));
    assert_eq!(e.to_string(), "SDP line 6: bad m= line");
    assert_eq!(err_of(&format!("{base}a=rtpmap:0 PCMU\n")).to_string(), "SDP line 6: bad a=rtpmap line");
}

#[test]
fn header_lines_are_mandatory_and_ordered() {
    assert_eq!(err_of("v=1\n").kind, ErrorKind::BadVersion);
    assert_eq!(err_of("o=- 1 1 IN IP4 1.2.3.4\n").kind, ErrorKind::BadVersion);
    let e = err_of("v=0\no=- 1 1 IN IP4 1.2.3.4\nt=0 0\n");
    assert_eq!((e.line, e.kind), (3, ErrorKind::BadSessionName));
    let e = err_of("v=0\no=- x 1 IN IP4 1.2.3.4\ns=-\n");
    assert_eq!((e.line, e.kind), (2, ErrorKind::BadOrigin));
    let e = err_of("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nm=audio 1 RTP/AVP 0\nc=IN IP4 1.2.3.4\n");
    assert_eq!((e.line, e.kind), (4, ErrorKind::BadTime));
    let e = err_of("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\nm=audio 1 RTP/AVP 0\n");
    assert_eq!((e.line, e.kind), (5, ErrorKind::MissingConnection));
    // A rejected stream needs no address.
    assert!(SessionDescription::parse(b"v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\nm=audio 0 RTP/AVP 0\n").is_ok());
}

#[test]
fn view_checks_syntax_encoding_and_size() {
    let v = SdpView::new_checked(b"v=0\r\no=x\r\n\r\n").unwrap();
    let lines: Vec<_> = v.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!((lines[1].number, lines[1].kind, lines[1].value, lines[1].span.clone()), (2, b'o', "x", 5..8));
    assert_eq!(SdpView::new_checked(b"v=0\r\no=\xff\r\n").unwrap_err(), ParseError { line: 2, kind: ErrorKind::NotUtf8 });
    assert_eq!(SdpView::new_checked(b"v=0\r\na=x\ry\r\n").unwrap_err().kind, ErrorKind::LineSyntax);
    assert_eq!(SdpView::new_checked(b"v=0\r\n a=x\r\n").unwrap_err().line, 2);
    let big = "a=x\n".repeat(MAX_BODY_SIZE / 4 + 1);
    assert_eq!(SdpView::new_checked(big.as_bytes()).unwrap_err().kind, ErrorKind::BodyTooLarge);
    let many = "a=x\n".repeat(MAX_LINES + 1);
    assert_eq!(SdpView::new_checked(many.as_bytes()).unwrap_err().kind, ErrorKind::TooManyLines);
}

#[test]
fn bounds_on_media_and_attributes() {
    let head = "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\n";
    let media = "m=audio 1 RTP/AVP 0\n".repeat(MAX_MEDIA + 1);
    let e = err_of(&format!("{head}{media}"));
    assert_eq!((e.line, e.kind), (6 + MAX_MEDIA, ErrorKind::TooManyMedia));
    let attrs = "a=x\n".repeat(MAX_ATTRIBUTES + 1);
    let e = err_of(&format!("{head}m=audio 1 RTP/AVP 0\n{attrs}"));
    assert_eq!((e.line, e.kind), (7 + MAX_ATTRIBUTES, ErrorKind::TooManyAttributes));
}

#[test]
fn amr_params_parse_and_emit() {
    let p = AmrParams::parse("mode-set=0,2,5,7; octet-align=1;mode-change-period=2;max-red=220", false).unwrap();
    assert_eq!(p.mode_set, Some(0b1010_0101));
    assert!(p.octet_align && p.octet_aligned());
    assert_eq!(p.to_fmtp(), "mode-set=0,2,5,7;octet-align=1;mode-change-period=2;max-red=220");
    assert_eq!(AmrParams::parse("mode-set=8", false), Err(AmrMismatch::Malformed));
    assert!(AmrParams::parse("mode-set=8", true).is_ok());
    assert_eq!(AmrParams::parse("octet-align=2", false), Err(AmrMismatch::Malformed));
    assert!(AmrParams::parse("crc=1", false).unwrap().octet_aligned());
}

#[test]
fn the_sdp_media_type_is_read_with_its_parameters_and_case() {
    // RFC 2045 5.1: type and subtype are case-insensitive; RFC 3261 20.15: parameters follow.
    for yes in ["application/sdp", "Application/SDP", " application/sdp ", "application/sdp;charset=utf-8", "application/sdp ; x=y"] {
        assert!(super::is_media_type(yes.as_bytes()), "{yes:?}");
    }
    for no in ["application/sdpx", "application/sd", "multipart/mixed;boundary=x", "text/plain", "", "application/sdp-x;a=b"] {
        assert!(!super::is_media_type(no.as_bytes()), "{no:?}");
    }
}
