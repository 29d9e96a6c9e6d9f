//! What the SMS scenario puts on the wire: the SIP MESSAGE of SMS over IP (TS 24.341
//! 5.3.2.2: `application/vnd.3gpp.sms` to the SC's public service identity) carrying an RP
//! message of TS 24.011 7.3, the RP-DATA(SMS-SUBMIT) of an MO message and the RP-ACK that
//! answers an MT RP-DATA, and the stamp in the text that tells the recipient's side which
//! run, sender and message an SMS-DELIVER belongs to.

use std::fmt::Write as _;
use std::net::SocketAddr;

use crate::sip::{Builder, HeaderName, Method, Overflow};
use crate::sms::{Dcs, RpAck, RpAddress, RpData, RpDirection, RpMessage, Submit, TpAddress, Tpdu, TypeOfAddress, UserData};

use super::sipmsg::{from_tag, HostPort};

/// The body type of SMS over IP (TS 24.341 7).
pub const CONTENT_TYPE: &str = "application/vnd.3gpp.sms";
/// Largest RP message we build (RP-DATA header, SC address and a 164-octet TPDU fit).
pub const MAX_RP: usize = 256;
/// The stamp a text gets when the numbers are at their widest (run, UE index, token).
const WIDEST_STAMP: &str = " #ffffffff.4294967295.ffffffff";

/// The fields of an out-of-dialog MESSAGE (RFC 3428 4).
pub struct MessageReq<'a> {
    /// Request-URI and To: the SC's public service identity.
    pub ruri: &'a str,
    /// Our public identity (From).
    pub impu: &'a str,
    /// Our address (Via).
    pub local: SocketAddr,
    /// Call-ID.
    pub call_id: &'a str,
    /// From tag.
    pub tag: &'a str,
    /// Via branch.
    pub branch: &'a str,
}

/// Writes a MESSAGE (CSeq 1) with the RP message `rp` as its body.
pub fn message(buf: &mut [u8], m: &MessageReq<'_>, rp: &[u8]) -> Result<usize, Overflow> {
    let hp = HostPort::new(m.local);
    let mut b = Builder::request(buf, Method::Message, m.ruri.as_bytes())?;
    b.via(b"UDP", hp.as_bytes(), None, m.branch.as_bytes(), true)?;
    b.header_u32(HeaderName::MaxForwards, 70)?;
    from_tag(&mut b, m.impu, m.tag)?;
    b.name_addr(HeaderName::To, m.ruri.as_bytes(), b"")?;
    b.header(HeaderName::CallId, m.call_id.as_bytes())?;
    b.cseq(1, Method::Message)?;
    b.header(HeaderName::ContentType, CONTENT_TYPE.as_bytes())?;
    b.finish(rp)
}

/// The RP address of the SC named by a SIP URI: its user part when it is a number
/// (`+` for international), else ringcore's default SC address.
pub fn centre_address(uri: &str) -> RpAddress {
    let rest = uri.strip_prefix("sip:").or_else(|| uri.strip_prefix("tel:")).unwrap_or(uri);
    let user = rest.split(['@', ';']).next().unwrap_or("");
    let digits = user.trim_start_matches('+');
    let numeric = !digits.is_empty() && digits.len() <= crate::sms::MAX_DIGITS && digits.bytes().all(|b| b.is_ascii_digit());
    let addr = if !numeric {
        None
    } else if user.starts_with('+') {
        RpAddress::international(digits).ok()
    } else {
        RpAddress::new(TypeOfAddress::UNKNOWN, digits).ok()
    };
    addr.unwrap_or_else(crate::smsc::default_centre)
}

/// Writes `text` followed by the stamp ` #<run>.<ue>.<token>` (hex, decimal, hex) into `out`.
pub fn stamp(out: &mut String, text: &str, run_id: u32, index: usize, token: u32) {
    out.clear();
    out.push_str(text);
    let _ = write!(out, " #{run_id:x}.{index}.{token:x}");
}

/// The (run, UE index, token) of a stamped text.
pub fn parse_stamp(text: &str) -> Option<(u32, usize, u32)> {
    let (_, s) = text.rsplit_once(" #")?;
    let mut it = s.splitn(3, '.');
    let run = u32::from_str_radix(it.next()?, 16).ok()?;
    let index = it.next()?.parse().ok()?;
    let token = u32::from_str_radix(it.next()?, 16).ok()?;
    Some((run, index, token))
}

/// Checks that `text` with the widest stamp fits one SMS (160 GSM 7-bit characters, or 70
/// UCS2 characters when the text needs them).
pub fn check_text(text: &str) -> Result<(), String> {
    let mut s = String::with_capacity(text.len() + WIDEST_STAMP.len());
    s.push_str(text);
    s.push_str(WIDEST_STAMP);
    UserData::from_text(&s, None).map(|_| ()).map_err(|e| {
        format!("--sms-text: with the {} characters ringload appends to identify each SMS, the text does not fit one SMS ({e})", WIDEST_STAMP.len())
    })
}

/// Encodes the RP-DATA(MS → network) carrying an SMS-SUBMIT of `text` to the number
/// `to` (TS 24.011 7.3.1.2, TS 23.040 9.2.2.2) into `out`; returns its length.
pub fn mo_rp_data(out: &mut [u8], reference: u8, centre: RpAddress, to: &str, text: &str) -> Option<usize> {
    let (user_data, alphabet) = UserData::from_text(text, None).ok()?;
    let digits = to.trim_start_matches('+');
    let destination = if to.starts_with('+') { TpAddress::international(digits) } else { TpAddress::new(TypeOfAddress::UNKNOWN, digits) };
    let submit = Submit {
        reject_duplicates: false,
        status_report_request: false,
        reply_path: false,
        message_reference: reference,
        destination: destination.ok()?,
        pid: 0,
        dcs: Dcs::general(alphabet, None),
        validity: None,
        user_data,
    };
    let rp = RpMessage::Data(RpData::mo(reference, centre, &Tpdu::Submit(submit)).ok()?);
    rp.emit(out).ok()
}

/// Encodes the RP-ACK(MS → network) of the MT RP-DATA `reference` (TS 24.011 7.3.3).
pub fn mt_rp_ack(out: &mut [u8], reference: u8) -> Option<usize> {
    RpMessage::Ack(RpAck { direction: RpDirection::MsToNetwork, reference, user_data: None }).emit(out).ok()
}

/// What an MT RP message means to a UE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mt {
    /// RP-DATA (to be acknowledged with `reference`): an SMS-DELIVER whose text carried
    /// the stamp (run, UE index, token), or `None` for any other SMS or TPDU.
    Data {
        /// RP-Message-Reference.
        reference: u8,
        /// The stamp of the text.
        stamp: Option<(u32, usize, u32)>,
    },
    /// RP-ACK of our RP-DATA `reference`.
    Ack(u8),
    /// RP-ERROR of our RP-DATA `reference`, with its RP-Cause (TS 24.011 8.2.5.4).
    Error(u8, u8),
}

/// Decodes a network-to-MS RP message (`None`: undecodable or the wrong direction).
pub fn parse_mt(body: &[u8]) -> Option<Mt> {
    match RpMessage::parse_directed(body, RpDirection::NetworkToMs).ok()? {
        RpMessage::Data(d) => {
            let stamp = match d.tpdu() {
                Ok(Tpdu::Deliver(del)) => del.user_data.text(del.dcs).as_deref().and_then(parse_stamp),
                _ => None,
            };
            Some(Mt::Data { reference: d.reference, stamp })
        }
        RpMessage::Ack(a) => Some(Mt::Ack(a.reference)),
        RpMessage::Error(e) => Some(Mt::Error(e.reference, e.cause.to_u8())),
        RpMessage::Smma(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Message;

    #[test]
    fn stamps_round_trip_and_texts_are_bounded() {
        let mut s = String::new();
        stamp(&mut s, "hello", 0xbeef, 42, 0x1f);
        assert_eq!(s, "hello #beef.42.1f");
        assert_eq!(parse_stamp(&s), Some((0xbeef, 42, 0x1f)));
        assert_eq!(parse_stamp("a # b"), None);
        assert_eq!(parse_stamp("no stamp"), None);
        assert!(check_text(&"x".repeat(130)).is_ok());
        assert!(check_text(&"x".repeat(131)).is_err(), "160 septets at most");
        assert!(check_text(&"é€".repeat(20)).is_ok(), "é is GSM 7-bit, € an extension");
        assert!(check_text(&"ж".repeat(41)).is_err(), "UCS2: 70 characters at most");
    }

    #[test]
    fn mo_message_carries_a_submit_the_smsc_decodes() {
        let mut rp = [0u8; MAX_RP];
        let n = mo_rp_data(&mut rp, 7, centre_address("sip:+33699999999@d"), "001011000000100", "hi #1.2.3").unwrap_or(0);
        let Ok(RpMessage::Data(d)) = RpMessage::parse_directed(&rp[..n], RpDirection::MsToNetwork) else { panic!("RP-DATA") };
        assert_eq!(d.reference, 7);
        assert_eq!(d.destination.map(|a| a.digits().collect::<String>()), Some("33699999999".into()));
        let Ok(Tpdu::Submit(s)) = d.tpdu() else { panic!("SMS-SUBMIT") };
        assert_eq!(s.destination.digits().collect::<String>(), "001011000000100");
        assert_eq!(s.user_data.text(s.dcs).as_deref(), Some("hi #1.2.3"));
        let mut buf = [0u8; 2048];
        let req = MessageReq { ruri: "sip:smsc@d", impu: "sip:1@d", local: "127.1.0.1:4000".parse().unwrap_or_else(|_| unreachable!()), call_id: "c", tag: "t", branch: "z9hG4bK1.s1" };
        let len = message(&mut buf, &req, &rp[..n]).unwrap_or(0);
        let m = Message::parse(&buf[..len]).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(m.body(), &rp[..n]);
        assert_eq!(m.content_type().map(|p| p.value), Some(CONTENT_TYPE.as_bytes()));
        assert_eq!(centre_address("sip:smsc@d"), crate::smsc::default_centre());
    }

    #[test]
    fn mt_messages_decode() {
        let mut b = [0u8; 16];
        let n = mt_rp_ack(&mut b, 9).unwrap_or(0);
        assert_eq!(b[..n], [2, 9], "RP-ACK MS→N: MTI 2, reference, no user data");
        assert_eq!(parse_mt(&b[..n]), None, "an MS-to-network message is not for a UE");
        assert_eq!(parse_mt(&[3, 9]), Some(Mt::Ack(9)));
        assert_eq!(parse_mt(&[5, 9, 1, 22]), Some(Mt::Error(9, 22)));
        assert_eq!(parse_mt(&[5]), None);
    }
}
