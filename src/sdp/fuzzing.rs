//! Entry point of the `sdp_parse` fuzz target and of the mutation test: parses, emits,
//! re-parses (emit must give a body that parses to the same value), answers and checks.

use std::net::{IpAddr, Ipv4Addr};

use super::{answer, verify_answer, LocalCaps, LocalSession, SdpView, SessionDescription};

/// Runs every SDP decoder on `data`; panics only on a broken invariant.
pub fn exercise(data: &[u8]) {
    if let Ok(view) = SdpView::new_checked(data) {
        for line in view.lines() {
            let _ = (line.number, line.kind, line.value.len());
        }
    }
    // sdp/check.rs: the checking walk (used to anchor media without building the
    // description) accepts exactly what the parser accepts, with the same error.
    let parsed = SessionDescription::parse(data);
    match (SdpView::new_valid(data), &parsed) {
        (Ok(_), Ok(_)) => {}
        (Err(a), Err(b)) => assert_eq!(&a, b, "the checking walk and the parser disagree on the error"),
        (a, b) => panic!("the checking walk and the parser disagree: {:?} vs {:?}", a.map(|_| ()), b.as_ref().map(|_| ())),
    }
    let Ok(sd) = parsed else { return };
    let text = sd.to_string();
    match SessionDescription::parse(text.as_bytes()) {
        Ok(again) => assert_eq!(again, sd, "emit/parse round trip changed the description"),
        Err(e) => assert!(text.len() > super::MAX_BODY_SIZE, "emitted SDP does not parse: {e}"),
    }
    let caps = LocalCaps::volte_default().with_h264_video();
    let local = LocalSession { addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), session_id: 1, session_version: 1 };
    let mut port = 40000u16;
    let mut alloc = |_| {
        port = port.wrapping_add(2);
        Some(port)
    };
    if let Ok(ans) = answer(&sd, &caps, &local, &mut alloc) {
        let text = ans.to_string();
        let reparsed = SessionDescription::parse(text.as_bytes());
        assert!(reparsed.is_ok(), "our answer does not parse: {text}");
        assert!(verify_answer(&sd, &ans).is_ok(), "our answer breaks the offer/answer rules");
    }
}
