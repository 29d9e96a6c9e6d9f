//! Fuzz every TPDU decoder (TS 23.040) in both directions and all three carriers: whatever
//! parses must re-emit and parse to the same value; text decoding must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcore::sms::{Carrier, Direction, Tpdu, Udh};

fuzz_target!(|data: &[u8]| {
    for dir in [Direction::Mo, Direction::Mt] {
        for carrier in [Carrier::RpData, Carrier::RpAck, Carrier::RpError] {
            let Ok(t) = Tpdu::parse(data, dir, carrier) else {
                continue;
            };
            let mut out = [0u8; 512];
            let n = t.emit(&mut out).expect("a parsed TPDU re-emits");
            assert_eq!(Tpdu::parse(&out[..n], dir, carrier), Ok(t));
            let (ud, dcs) = match t {
                Tpdu::Submit(s) => (Some(s.user_data), s.dcs),
                Tpdu::Deliver(d) => (Some(d.user_data), d.dcs),
                Tpdu::StatusReport(s) => (s.user_data, s.dcs.unwrap_or_default()),
                Tpdu::SubmitReport(s) => (s.user_data, s.dcs.unwrap_or_default()),
                Tpdu::DeliverReport(s) => (s.user_data, s.dcs.unwrap_or_default()),
                Tpdu::Command(_) => (None, Default::default()),
            };
            if let Some(ud) = ud {
                let _ = ud.text(dcs);
            }
        }
    }
    if let Ok(h) = Udh::parse(data) {
        let _ = h.iter().count();
    }
});
