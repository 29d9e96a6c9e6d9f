//! Fuzz target for the SIP message layer: parse, validate, every typed accessor, stream
//! framing and building a 400 response (see `ringcore::sip::fuzzing::exercise`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ringcore::sip::fuzzing::exercise(data);
});
