//! Fuzz the SMSC's MS-to-network entry point (`ringcore::smsc::fuzzing::drive`): arbitrary RP
//! messages from two users never panic, every answer and delivery re-encodes and decodes, and
//! the store keeps its bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ringcore::smsc::fuzzing::drive(data);
});
