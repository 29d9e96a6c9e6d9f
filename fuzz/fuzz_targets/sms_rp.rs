//! Fuzz the RP layer (TS 24.011): whatever parses must re-emit and parse to the same value,
//! and the carried TPDU must round-trip the same way (`ringcore::sms::fuzzing`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if ringcore::sms::RpMessage::parse(data).is_err() {
        let _ = ringcore::sms::RpMessage::error_response(data, &ringcore::sms::Error::Truncated);
    }
    ringcore::sms::fuzzing::check_rp(data);
});
