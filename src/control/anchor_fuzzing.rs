//! Entry point of the `sdp_anchor` fuzz target and of its seeded mutation test: media
//! anchoring of an arbitrary body taken as the caller's offer, then as the callee's
//! answer and as in-call offers, with the invariants every anchored call relies on.

use super::{anchor_answer, anchor_offer, extend_for_reoffer, learn_answer, release, rewrite_for, AnchorError, MediaPorts};
use crate::sdp::SessionDescription;
use std::net::{IpAddr, Ipv4Addr};

/// Port range of the exercise: 50 RTP/RTCP pairs on each of 2 workers.
const PORT_MIN: u16 = 40000;
const PORT_MAX: u16 = 40199;

/// How many RTP ports `ports` can still hand out on each worker.
fn free_ports(ports: &MediaPorts) -> [usize; 2] {
    [ports.available_on(0), ports.available_on(1)]
}

/// The `m=` ports of an SDP body we wrote; panics when it does not parse.
fn m_ports(what: &str, body: &[u8]) -> Vec<u16> {
    match SessionDescription::parse(body) {
        Ok(sd) => sd.media.iter().map(|m| m.port).collect(),
        Err(e) => panic!("{what} does not parse: {e}\n{}", String::from_utf8_lossy(body)),
    }
}

/// Anchors `data` as an offer, answer and re-offer; panics only on a broken invariant.
pub fn exercise(data: &[u8]) {
    let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let mut ports = MediaPorts::new(PORT_MIN, PORT_MAX, 2, ip);
    let before = free_ports(&ports);
    let parsed = SessionDescription::parse(data);
    let (mut anchors, offer, sections) = match anchor_offer(&mut ports, data) {
        Ok(a) => a,
        // The same bodies are refused as the parser refuses (the INVITE gets a 488).
        Err(AnchorError::Sdp(_)) => return assert!(parsed.is_err(), "anchoring refused SDP the parser accepts"),
        Err(AnchorError::NoPorts) => return assert_eq!(free_ports(&ports), before, "a refused offer keeps no port"),
    };
    let Ok(sd) = parsed else { panic!("anchoring accepted SDP the parser refuses") };
    // Every section keeps its place; a disabled one stays disabled (RFC 3264 5.1) and
    // a relayed one points at our port towards the callee.
    assert_eq!((anchors.len(), sections.len()), (sd.media.len(), sd.media.len()));
    let sent = m_ports("the offer to the callee", &offer);
    for ((a, m), p) in anchors.iter().zip(&sd.media).zip(&sent) {
        assert_eq!(*p, if a.relayed() { a.port_b } else { 0 });
        assert!(m.port != 0 || !a.relayed(), "a port-0 section got relay ports");
        assert!(!a.relayed() || (PORT_MIN..=PORT_MAX).contains(&a.port_a) && (PORT_MIN..=PORT_MAX).contains(&a.port_b));
    }
    // The same body as the callee's answer: the caller sees our ports where relayed.
    if let Some((answer, _cmds)) = anchor_answer(&mut ports, &mut anchors, data) {
        let back = m_ports("the answer to the caller", &answer);
        for (a, p) in anchors.iter().zip(&back) {
            assert!(*p == 0 || (a.relayed() && *p == a.port_a), "answer port {p} is not ours");
        }
    }
    // The same body again as an in-call offer from the callee: every section already has
    // its place and every live one its relay, so nothing is added; what the caller's
    // side did not know is learnt, once.
    let (cmds, added) = extend_for_reoffer(&mut ports, &mut anchors, false, data);
    assert!(cmds.is_empty() && added.is_empty());
    learn_answer(&mut ports, &mut anchors, true, false, data);
    assert!(learn_answer(&mut ports, &mut anchors, true, false, data).is_empty(), "an address is learnt once");
    assert_eq!(anchors.len(), sd.media.len());
    // The same body as a 2xx answer: the relays of the sections it disables go, and go
    // once; the anchors keep their places.
    learn_answer(&mut ports, &mut anchors, false, true, data);
    assert!(learn_answer(&mut ports, &mut anchors, false, true, data).is_empty(), "a relay is removed once");
    assert_eq!(anchors.len(), sd.media.len());
    for towards_b in [true, false] {
        if let Some(re) = rewrite_for(ip, &anchors, towards_b, data) {
            m_ports("a re-offer", &re);
        }
    }
    release(&mut ports, &anchors);
    assert_eq!(free_ports(&ports), before, "the call's ports all came back");
}
