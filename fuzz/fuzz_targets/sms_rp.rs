//! Fuzz the RP layer (TS 24.011): whatever parses must re-emit and parse to the same value,
//! and the carried TPDU must round-trip the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcore::sms::{Carrier, RpMessage, Tpdu};

fuzz_target!(|data: &[u8]| {
    let Ok(m) = RpMessage::parse(data) else {
        let _ = RpMessage::error_response(data, &ringcore::sms::Error::Truncated);
        return;
    };
    let mut out = [0u8; 512];
    let n = m.emit(&mut out).expect("a parsed RP message re-emits");
    assert_eq!(RpMessage::parse(&out[..n]), Ok(m));
    let (ud, carrier) = match m {
        RpMessage::Data(d) => (Some(d.user_data), Carrier::RpData),
        RpMessage::Ack(a) => (a.user_data, Carrier::RpAck),
        RpMessage::Error(e) => (e.user_data, Carrier::RpError),
        RpMessage::Smma(_) => (None, Carrier::RpData),
    };
    if let Some(ud) = ud {
        let dir = m.direction().tpdu_direction();
        if let Ok(t) = Tpdu::parse(ud.as_bytes(), dir, carrier) {
            let n = t.emit(&mut out).expect("a parsed TPDU re-emits");
            assert_eq!(Tpdu::parse(&out[..n], dir, carrier), Ok(t));
        }
    }
});
