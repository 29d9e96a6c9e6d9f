//! Which UE the B2BUA's INVITE goes to when the callee has several: seed 000
//! `ue_db.impu.imei` on a multi_sim subscriber ([`crate::ims::terminating`]).

use super::*;

const IMEI_1: &str = "35209900176148";
const IMEI_2: &str = "35209900176149";

fn ue(n: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 20 + n], 5060))
}

/// Callee `b` is a multi_sim subscriber whose IMPU carries `impu_props` (e.g. its
/// `imei`), with the UEs of `registered` (IMEI, address) registered.
fn multi_sim(impu_props: &str, registered: &[(&str, SocketAddr)]) -> World {
    let cfg = format!(
        "{{ domain: \"{D}\", ue_db: [ {{ imsi: \"001010000000001\", impi: \"a@{D}\", authent_type: \"none\", impu: [\"sip:a\"] }},\n\
         {{ imsi: \"001010000000002\", impi: \"b@{D}\", authent_type: \"none\", multi_sim: true, impu: [ {{ impu: \"sip:b\" {impu_props} }} ] }} ] }}"
    );
    let mut w = world_of(&cfg);
    for (imei, addr) in registered {
        register_b(&mut w, imei, *addr);
    }
    w
}

/// Where the INVITE of a new call went: the leg B request's worker peer.
fn invited(w: &mut World) -> Vec<(u16, Option<SocketAddr>)> {
    let out = w.invite_with("", SDP);
    out.iter()
        .filter_map(|(_, c)| match c {
            ToWorker::SendRequest { peer, msg } if msg.starts_with(b"INVITE ") => Some((0, Some(peer.addr))),
            ToWorker::Respond { msg, .. } => Some((std::str::from_utf8(msg).ok()?.get(8..11)?.parse().ok()?, None)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_impu_imei_picks_that_ue_of_a_multi_sim_callee() {
    // The IMEI as configured may carry its check digit (15 digits).
    let mut w = multi_sim(&format!(", imei: \"{IMEI_1}7\""), &[(IMEI_1, ue(1)), (IMEI_2, ue(2))]);
    assert_eq!(invited(&mut w), [(0, Some(ue(1)))]);
    let mut w = multi_sim(&format!(", imei: \"{IMEI_2}\""), &[(IMEI_1, ue(1)), (IMEI_2, ue(2))]);
    assert_eq!(invited(&mut w), [(0, Some(ue(2)))]);
}

#[test]
fn only_other_ues_registered_is_480() {
    let mut w = multi_sim(&format!(", imei: \"{IMEI_1}\""), &[(IMEI_2, ue(2))]);
    assert_eq!(invited(&mut w), [(480, None)]);
    assert_eq!(w.calls.len(), 0, "no call state kept");
}

#[test]
fn without_an_imei_any_registered_ue_is_reached() {
    let mut w = multi_sim("", &[(IMEI_2, ue(2))]);
    assert_eq!(invited(&mut w), [(0, Some(ue(2)))]);
}

#[test]
fn the_imei_filters_only_multi_sim_subscribers() {
    // seed 000: impu.imei is "only relevant if multi_sim is set to true".
    let mut w = world_with("", &format!(", imei: \"{IMEI_1}\""));
    assert_eq!(invited(&mut w), [(0, Some(callee_addr()))]);
}
