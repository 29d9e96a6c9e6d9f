//! Fuzz target for the media plane: RTP header view and representation, RTCP compound
//! views (strict and reduced-size) and the media table on the datagram (see
//! `ringcore::media::fuzzing::exercise`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ringcore::media::fuzzing::exercise(data);
});
