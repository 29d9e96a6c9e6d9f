//! Fuzz target for SDP: the checked view, parse, emit/re-parse round trip, answering the
//! body as an offer and checking our answer (see `ringcore::sdp::fuzzing::exercise`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ringcore::sdp::fuzzing::exercise(data);
});
