//! Fuzz every TPDU decoder (TS 23.040) in both directions and all three carriers: whatever
//! parses must re-emit and parse to the same value; text decoding must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcore::sms::{Carrier, Direction, Udh};

fuzz_target!(|data: &[u8]| {
    for dir in [Direction::Mo, Direction::Mt] {
        for carrier in [Carrier::RpData, Carrier::RpAck, Carrier::RpError] {
            ringcore::sms::fuzzing::check_tpdu(data, dir, carrier);
        }
    }
    if let Ok(h) = Udh::parse(data) {
        let _ = h.iter().count();
    }
});
