//! Fuzz target: the lteims configuration language reader must never panic,
//! hang or overflow its stack on any input (errors are fine).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        // Relative includes resolve under a directory that does not exist.
        let base = std::path::Path::new("/nonexistent/ringcore-fuzz");
        let _ = ringcore::config::lang::load_str("fuzz.cfg", text, base);
    }
});
