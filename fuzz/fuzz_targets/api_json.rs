//! Fuzz the remote API dispatcher (seed 000 6): any text must be answered
//! without panicking, every answer being a JSON object.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use ringcore::api::{Api, ApiConfig, NullContext};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut api = Api::new(ApiConfig::default(), [0; 32]);
    let (mut session, _) = api.open_session();
    let t0 = Instant::now();
    for v in api.handle_text(&mut session, t0, &mut NullContext, text) {
        assert!(v.is_object());
    }
    let _ = api.handle_timeout(&mut session, t0 + Duration::from_secs(86_400), &mut NullContext);
});
