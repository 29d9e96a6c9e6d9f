//! The round-trip properties every SMS decoder must keep, shared by the
//! cargo-fuzz targets (fuzz/fuzz_targets/sms_*.rs) and the seeded mutation
//! test, so both check exactly the same thing.

use super::*;

/// Checks the round-trip property of an RP message and its TPDU.
pub fn check_rp(bytes: &[u8]) {
    let Ok(m) = RpMessage::parse(bytes) else {
        return;
    };
    let mut out = [0u8; 512];
    let n = m.emit(&mut out).expect("a parsed RP message re-emits");
    assert_eq!(n, m.buffer_len());
    assert_eq!(RpMessage::parse(&out[..n]), Ok(m));
    let (ud, carrier) = match m {
        RpMessage::Data(d) => (Some(d.user_data), Carrier::RpData),
        RpMessage::Ack(a) => (a.user_data, Carrier::RpAck),
        RpMessage::Error(e) => (e.user_data, Carrier::RpError),
        RpMessage::Smma(_) => (None, Carrier::RpData),
    };
    if let Some(ud) = ud {
        check_tpdu(ud.as_bytes(), m.direction().tpdu_direction(), carrier);
    }
}

/// Checks the round-trip property of a TPDU, and that its text decoders do not panic.
pub fn check_tpdu(bytes: &[u8], dir: Direction, carrier: Carrier) {
    let Ok(t) = Tpdu::parse(bytes, dir, carrier) else {
        return;
    };
    let mut out = [0u8; 512];
    let n = t.emit(&mut out).expect("a parsed TPDU re-emits");
    assert_eq!(n, t.buffer_len());
    assert_eq!(Tpdu::parse(&out[..n], dir, carrier), Ok(t));
    let (ud, dcs) = match t {
        Tpdu::Submit(s) => (Some(s.user_data), s.dcs),
        Tpdu::Deliver(d) => (Some(d.user_data), d.dcs),
        Tpdu::StatusReport(s) => (s.user_data, s.dcs.unwrap_or_default()),
        Tpdu::SubmitReport(s) => (s.user_data, s.dcs.unwrap_or_default()),
        Tpdu::DeliverReport(s) => (s.user_data, s.dcs.unwrap_or_default()),
        Tpdu::Command(_) => (None, Dcs::GSM7),
    };
    if let Some(ud) = ud {
        let _ = ud.text(dcs);
        let _ = ud.header().map(|h| h.iter().count());
    }
    if let Tpdu::Deliver(d) = t {
        let _ = d.originator.to_string();
    }
}

