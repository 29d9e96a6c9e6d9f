//! Fuzz target for media anchoring: an arbitrary body as the caller's offer, the callee's
//! answer and a re-offer (see `ringcore::control::anchor::fuzzing::exercise`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ringcore::control::anchor::fuzzing::exercise(data);
});
