//! Which UE the B2BUA's INVITE goes to when the callee has several: seed 000
//! `ue_db.impu.imei` on a multi_sim subscriber ([`crate::ims::terminating`]), forking to
//! the UEs of the best q and the serial search through lower q.

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

/// The requests of `out` starting with `method`, by where they go.
fn sent(out: &[Out], method: &str) -> Vec<(SocketAddr, String)> {
    out.iter()
        .filter_map(|(_, c)| match c {
            ToWorker::SendRequest { peer, msg } | ToWorker::SendStateless { peer, msg } if msg.starts_with(method.as_bytes()) => {
                Some((peer.addr, String::from_utf8_lossy(msg).into_owned()))
            }
            _ => None,
        })
        .collect()
}

/// The statuses of the responses of `out` to the caller.
fn to_caller(out: &[Out]) -> Vec<u16> {
    out.iter()
        .filter_map(|(_, c)| match c {
            ToWorker::Respond { msg, .. } => std::str::from_utf8(msg).ok()?.get(8..11)?.parse().ok(),
            _ => None,
        })
        .collect()
}

/// A multi_sim callee with two UEs and no IMEI filter, called: our INVITE to each.
fn forked() -> (World, String, String) {
    let mut w = multi_sim("", &[(IMEI_1, ue(1)), (IMEI_2, ue(2))]);
    let out = w.invite_with("", SDP);
    let mut invites = sent(&out, "INVITE ");
    invites.sort();
    assert_eq!(peers(&invites), [ue(1), ue(2)], "RFC 3261 16.6: one INVITE per UE");
    let [(_, one), (_, two)] = <[_; 2]>::try_from(invites).expect("two INVITEs");
    assert_ne!(header(&one, "Via:"), header(&two, "Via:"), "a branch each");
    assert!(one.starts_with(&format!("INVITE sip:b@{}", ue(1))) && two.starts_with(&format!("INVITE sip:b@{}", ue(2))));
    (w, one, two)
}

#[test]
fn a_forked_call_relays_each_ues_ringing_and_the_first_2xx_wins() {
    let (mut w, one, two) = forked();
    assert_eq!(to_caller(&w.respond_out(Duration::ZERO, &two, "180 Ringing", "", "")), [180]);
    let won = w.respond_out(Duration::from_millis(5), &one, "200 OK", "", SDP);
    assert_eq!(to_caller(&won), [200]);
    assert_eq!(peers(&sent(&won, "ACK ")), [ue(1)]);
    // RFC 3261 9.1: the CANCEL to the other UE repeats its INVITE's branch, without a To tag.
    let cancels = sent(&won, "CANCEL ");
    assert_eq!(peers(&cancels), [ue(2)]);
    assert_eq!(header(&cancels[0].1, "Via:"), header(&two, "Via:"));
    assert!(!header(&cancels[0].1, "To:").contains("tag="));
    // Its 2xx crossing the CANCEL: acknowledged and hung up (RFC 3261 13.2.2.4), not relayed.
    let late = w.respond_out(Duration::from_millis(6), &two, "200 OK", "", SDP);
    assert_eq!((to_caller(&late), sent(&late, "ACK ").len(), sent(&late, "BYE ").len()), (vec![], 1, 1));
    assert!(sent(&late, "BYE ").iter().all(|(to, _)| *to == ue(2)));
    // The call goes on with the first UE: the caller's BYE reaches it only.
    assert!(w.ack_from_caller().is_empty());
    assert_eq!(peers(&sent(&from_caller(&mut w, "BYE", 8, ""), "BYE ")), [ue(1)]);
}

#[test]
fn when_every_fork_fails_the_best_error_is_relayed_once() {
    let (mut w, one, two) = forked();
    assert!(w.respond(Duration::ZERO, &one, "486 Busy Here", "", "").is_empty(), "the other UE may still answer");
    // RFC 3261 16.7 step 6: 4xx before 5xx, though the 503 came last.
    assert_eq!(to_caller(&w.respond_out(Duration::ZERO, &two, "503 Service Unavailable", "", "")), [486]);
    assert_eq!(w.calls.len(), 0);
}

#[test]
fn a_6xx_cancels_the_other_forks_and_is_relayed_when_they_end() {
    let (mut w, one, two) = forked();
    let out = w.respond_out(Duration::ZERO, &one, "603 Decline", "", "");
    assert_eq!((to_caller(&out), peers(&sent(&out, "CANCEL "))), (vec![], vec![ue(2)]));
    assert_eq!(to_caller(&w.respond_out(Duration::ZERO, &two, "487 Request Terminated", "", "")), [603]);
}

#[test]
fn the_callers_cancel_reaches_every_fork() {
    let (mut w, one, two) = forked();
    // Its 180's Contact (the test callee's address) refreshes the target of the fork's dialog.
    assert_eq!(to_caller(&w.respond_out(Duration::ZERO, &two, "180 Ringing", "", "")), [180]);
    let tx = w.calls.calls.values().find_map(|c| c.a_tx).expect("the caller's INVITE is pending");
    let cancels = sent(&w.calls.on_cancelled(0, tx), "CANCEL ");
    // RFC 3261 9.1: each CANCEL repeats its INVITE's branch and Request-URI.
    let line = |m: &str| (header(m, "Via:").to_owned(), m.split(' ').nth(1).map(str::to_owned));
    let mut got: Vec<_> = cancels.iter().map(|(_, m)| line(m)).collect();
    let mut want = [line(&one), line(&two)];
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert!(w.respond(Duration::ZERO, &one, "487 Request Terminated", "", "").is_empty());
    assert_eq!(to_caller(&w.respond_out(Duration::ZERO, &two, "487 Request Terminated", "", "")), [487]);
}

/// What the caller's in-dialog request `method` yields.
fn from_caller(w: &mut World, method: &str, cseq: u32, extra: &str) -> Vec<Out> {
    let raw = request(method, cseq, ";tag=rca1", extra, "");
    let tx = w.tx(&raw);
    w.calls.on_in_dialog(0, Some(tx), &Message::parse(raw.as_bytes()).expect("parses"), &mut w.ports)
}

fn peers(sent: &[(SocketAddr, String)]) -> Vec<SocketAddr> {
    sent.iter().map(|(to, _)| *to).collect()
}

#[test]
fn each_prack_goes_to_the_fork_whose_reliable_18x_it_acknowledges() {
    let (mut w, one, two) = forked();
    let reliable = |rseq: u32| format!("Require: 100rel\r\nRSeq: {rseq}\r\n");
    assert_eq!(to_caller(&w.respond_out(Duration::ZERO, &one, "183 Session Progress", &reliable(10), SDP)), [183]);
    assert_eq!(to_caller(&w.respond_out(Duration::ZERO, &two, "180 Ringing", &reliable(500), "")), [180]);
    // RFC 3262 7.2: RAck names the RSeq; the fork that sent it gets the PRACK.
    assert_eq!(peers(&sent(&from_caller(&mut w, "PRACK", 8, "RAck: 10 7 INVITE\r\n"), "PRACK ")), [ue(1)]);
    assert_eq!(peers(&sent(&from_caller(&mut w, "PRACK", 9, "RAck: 500 7 INVITE\r\n"), "PRACK ")), [ue(2)]);
    assert_eq!(peers(&sent(&from_caller(&mut w, "PRACK", 10, "RAck: 11 7 INVITE\r\n"), "PRACK ")), [ue(2)], "unknown RSeq: the current fork");
}

#[test]
fn a_number_dialled_in_another_form_reaches_the_subscriber_of_that_number() {
    let cfg = format!(
        "{{ domain: \"{D}\", ue_db: [ {{ imsi: \"001010000000001\", impi: \"a@{D}\", authent_type: \"none\", impu: [\"sip:a\"] }},\n\
         {{ imsi: \"001010000000002\", impi: \"b@{D}\", authent_type: \"none\", impu: [\"sip:b\", \"tel:+15550100\"] }} ] }}"
    );
    let mut w = world_of(&cfg);
    let key = RecordKey { impi: format!("b@{D}"), imei: String::new(), emergency: false };
    let contact = Contact::udp_for_test(&format!("sip:b@{}", ue(1)), w.t0 + Duration::from_secs(3600), ue(1), "reg-b");
    let set = [format!("sip:b@{D}"), "tel:+15550100".to_string()];
    w.bindings.update(w.t0, &key, &set, vec![ContactUpdate { contact, remove: false }]).expect("binding stored");
    // RFC 3261 19.1.6: sip:+N;user=phone names the number of tel:+N (E.164).
    for (i, dialled) in [format!("sip:+1-555-0100@{D};user=phone"), "tel:+15550100".to_string(), format!("sip:+15550100@{D}")].iter().enumerate() {
        // A new call each time: its own Call-ID and branch.
        let raw = request("INVITE", 7, "", "", SDP).replacen(&format!("INVITE sip:b@{D}"), &format!("INVITE {dialled}"), 1);
        let raw = raw.replace("call-1", &format!("call-n{i}")).replace("z9hG4bKINVITE7", &format!("z9hG4bKn{i}"));
        let tx = w.tx(&raw);
        let msg = Message::parse(raw.as_bytes()).expect("parses");
        let out = w.calls.on_invite(Incoming { now: w.t0, worker: 0, tx, peer: caller_peer(), msg: &msg }, &w.hss, &w.bindings, &mut w.ports);
        assert_eq!(peers(&sent(&out, "INVITE ")), [ue(1)], "{dialled}");
    }
}

/// A multi_sim callee whose UEs registered as `ues` (IMEI, address, q in thousandths).
fn with_q(ues: &[(&str, SocketAddr, u16)]) -> World {
    let mut w = multi_sim("", &[]);
    for &(imei, addr, q) in ues {
        let key = RecordKey { impi: format!("b@{D}"), imei: imei.into(), emergency: false };
        let contact = Contact { q, ..Contact::udp_for_test(&format!("sip:b@{addr}"), w.t0 + Duration::from_secs(3600), addr, imei) };
        w.bindings.update(w.t0, &key, &[format!("sip:b@{D}")], vec![ContactUpdate { contact, remove: false }]).expect("binding stored");
    }
    w
}

/// A multi_sim callee whose UE 1 registered with q 1.0 and UE 2 with q 0.5, called: our
/// INVITE goes to UE 1 only (RFC 3261 16.6: the best q first).
fn serial() -> (World, String) {
    let mut w = with_q(&[(IMEI_1, ue(1), 1000), (IMEI_2, ue(2), 500)]);
    let out = w.invite_with("", SDP);
    let invites = sent(&out, "INVITE ");
    assert_eq!(peers(&invites), [ue(1)], "the lower q waits");
    let first = invites.into_iter().next().map(|(_, m)| m).unwrap_or_default();
    (w, first)
}

#[test]
fn the_ue_of_lower_q_is_called_when_the_best_fails() {
    let (mut w, first) = serial();
    let out = w.respond_out(Duration::ZERO, &first, "486 Busy Here", "", "");
    assert_eq!(to_caller(&out), Vec::<u16>::new(), "not relayed while a UE is left");
    let next = sent(&out, "INVITE ");
    assert_eq!(peers(&next), [ue(2)]);
    let second = &next[0].1;
    // A new INVITE: its own Call-ID and branch, CSeq 1, no To tag; the same offer.
    assert_ne!(header(second, "Call-ID:"), header(&first, "Call-ID:"));
    assert_ne!(header(second, "Via:"), header(&first, "Via:"));
    assert_eq!((header(second, "CSeq:"), header(second, "To:").contains("tag=")), ("CSeq: 1 INVITE", false));
    assert_eq!(second.split("\r\n\r\n").nth(1), first.split("\r\n\r\n").nth(1));
    assert_eq!(to_caller(&w.respond_out(Duration::ZERO, second, "180 Ringing", "", "")), [180]);
    let answered = w.respond_out(Duration::from_millis(5), second, "200 OK", "", SDP);
    assert_eq!((to_caller(&answered), peers(&sent(&answered, "ACK "))), (vec![200], vec![ue(2)]));
    assert!(w.ack_from_caller().is_empty());
    assert_eq!(peers(&sent(&from_caller(&mut w, "BYE", 8, ""), "BYE ")), [ue(2)]);
}

#[test]
fn the_best_error_of_every_q_is_relayed() {
    let (mut w, first) = serial();
    let out = w.respond_out(Duration::ZERO, &first, "486 Busy Here", "", "");
    let second = sent(&out, "INVITE ").into_iter().next().map(|(_, m)| m).unwrap_or_default();
    // RFC 3261 16.7 step 6: the 4xx of the first UE before the 5xx of the second.
    assert_eq!(to_caller(&w.respond_out(Duration::ZERO, &second, "503 Service Unavailable", "", "")), [486]);
    assert_eq!(w.calls.len(), 0);
}

#[test]
fn a_6xx_or_the_callers_cancel_ends_the_search() {
    let (mut w, first) = serial();
    let out = w.respond_out(Duration::ZERO, &first, "603 Decline", "", "");
    assert_eq!((to_caller(&out), sent(&out, "INVITE ").len()), (vec![603], 0), "RFC 3261 16.7 step 5");
    let (mut w, first) = serial();
    let tx = w.calls.calls.values().find_map(|c| c.a_tx).expect("the caller's INVITE is pending");
    assert_eq!(peers(&sent(&w.calls.on_cancelled(0, tx), "CANCEL ")), [ue(1)]);
    let out = w.respond_out(Duration::ZERO, &first, "487 Request Terminated", "", "");
    assert_eq!((to_caller(&out), sent(&out, "INVITE ").len()), (vec![487], 0));
}

/// An SDP answer from media address `ip`:`port`.
fn sdp_from(ip: &str, port: u16) -> String {
    format!("v=0\r\no=b 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
}

/// The remote RTP addresses the relay commands of `out` set.
fn relay_remotes(out: &[Out]) -> Vec<SocketAddr> {
    out.iter()
        .filter_map(|(_, c)| match c {
            ToWorker::MediaInstall { spec, .. } | ToWorker::MediaUpdate { spec, .. } => spec.remote_rtp,
            _ => None,
        })
        .collect()
}

#[test]
fn the_relays_go_back_to_the_winners_early_answer_when_its_2xx_has_no_sdp() {
    let (mut w, one, two) = forked();
    let (media_1, media_2): (SocketAddr, SocketAddr) = ("10.0.0.21:5000".parse().expect("literal"), "10.0.0.22:6000".parse().expect("literal"));
    let early = w.respond_out(Duration::ZERO, &one, "183 Session Progress", "", &sdp_from("10.0.0.21", 5000));
    assert!(relay_remotes(&early).contains(&media_1));
    // The other UE's early media SDP comes last: the relays follow it.
    let early = w.respond_out(Duration::ZERO, &two, "183 Session Progress", "", &sdp_from("10.0.0.22", 6000));
    assert!(relay_remotes(&early).contains(&media_2));
    // The first UE answers with a 2xx without SDP (its answer was in its 183).
    let won = w.respond_out(Duration::from_millis(5), &one, "200 OK", "", "");
    assert_eq!(to_caller(&won), [200]);
    assert!(relay_remotes(&won).contains(&media_1), "the relays must send to the UE that answered: {:?}", relay_remotes(&won));
    assert!(!relay_remotes(&won).contains(&media_2));
}

#[test]
fn the_callers_early_update_reaches_every_ringing_ue_and_one_answer_is_relayed() {
    let (mut w, one, two) = forked();
    assert_eq!(to_caller(&w.respond_out(Duration::ZERO, &one, "183 Session Progress", "", &sdp_from("10.0.0.21", 5000))), [183]);
    assert_eq!(to_caller(&w.respond_out(Duration::ZERO, &two, "183 Session Progress", "", &sdp_from("10.0.0.22", 6000))), [183]);
    // RFC 3311 5.1 / RFC 3312: the caller's UPDATE (preconditions met) before the answer.
    let raw = request("UPDATE", 8, ";tag=rca1", "", SDP);
    let tx = w.tx(&raw);
    let out = w.calls.on_in_dialog(0, Some(tx), &Message::parse(raw.as_bytes()).expect("parses"), &mut w.ports);
    let mut updates = sent(&out, "UPDATE ");
    updates.sort();
    assert_eq!(peers(&updates), [ue(1), ue(2)], "each UE with an early dialog gets it");
    assert_ne!(header(&updates[0].1, "Via:"), header(&updates[1].1, "Via:"), "a branch each");
    assert!(updates.iter().all(|(_, m)| header(m, "CSeq:") == "CSeq: 2 UPDATE"), "each in its own dialog, after its INVITE");
    // The current fork's (the one that sent the last 183) answer is relayed, the other's absorbed.
    let (current, other) = (&updates[1].1, &updates[0].1);
    // The other UE's answer moves its media port: kept as its early answer.
    assert_eq!(to_caller(&w.respond_out(Duration::ZERO, other, "200 OK", "", &sdp_from("10.0.0.21", 5002))), Vec::<u16>::new());
    assert_eq!(to_caller(&w.respond_out(Duration::ZERO, current, "200 OK", "", &sdp_from("10.0.0.22", 6000))), [200]);
    // That UE answers the INVITE without SDP: the relays go to its address from the UPDATE.
    let won = w.respond_out(Duration::from_millis(5), &one, "200 OK", "", "");
    assert_eq!(to_caller(&won), [200]);
    assert!(relay_remotes(&won).contains(&"10.0.0.21:5002".parse().expect("literal")), "{:?}", relay_remotes(&won));
}

/// When the silent forks of a call placed at `w.t0` are given up: 2 T1 later.
fn silent_at(w: &World) -> Instant {
    w.t0 + w.calls.policy().t1 * fork::SILENT_T1S
}

#[test]
fn a_fork_that_never_answers_is_given_up_two_t1_after_the_invite_once_another_failed() {
    // The stale binding of a UE that came back on a new address, and that UE refusing.
    let (mut w, one, two) = forked();
    assert!(w.respond(Duration::ZERO, &one, "486 Busy Here", "", "").is_empty(), "the other UE may still answer");
    let due = silent_at(&w);
    assert_eq!(w.calls.poll_timeout(), Some(due), "sooner than dialog_timeout");
    assert!(w.calls.handle_timeout(due - Duration::from_millis(1), &mut w.ports, &mut w.lat).is_empty());
    let out = w.calls.handle_timeout(due, &mut w.ports, &mut w.lat);
    assert_eq!(to_caller(&out), [486], "what the UE said, not a timeout of ours");
    assert!(sent(&out, "CANCEL ").is_empty(), "RFC 3261 9.1: no CANCEL before a provisional response");
    assert_eq!(w.calls.len(), 0);
    // The stale UE waking up later finds no call.
    assert!(w.respond(Duration::from_secs(5), &two, "180 Ringing", "", "").is_empty());
}

#[test]
fn a_fork_that_sent_anything_is_waited_for_until_dialog_timeout() {
    let (mut w, one, two) = forked();
    assert!(w.respond(Duration::ZERO, &two, "100 Trying", "", "").is_empty());
    assert!(w.respond(Duration::ZERO, &one, "486 Busy Here", "", "").is_empty());
    let due = w.t0 + w.calls.policy().dialog_timeout;
    assert_eq!(w.calls.poll_timeout(), Some(due));
    assert!(w.calls.handle_timeout(silent_at(&w), &mut w.ports, &mut w.lat).is_empty(), "a live UE");
    assert_eq!(to_caller(&w.calls.handle_timeout(due, &mut w.ports, &mut w.lat)), [408]);
}

#[test]
fn silent_forks_are_not_given_up_before_another_fork_failed() {
    let (mut w, _, _) = forked();
    assert_eq!(w.calls.poll_timeout(), Some(w.t0 + w.calls.policy().dialog_timeout));
    assert!(w.calls.handle_timeout(silent_at(&w), &mut w.ports, &mut w.lat).is_empty());
    assert_eq!(w.calls.len(), 1);
}

#[test]
fn after_silent_forks_are_given_up_the_ues_of_lower_q_are_called() {
    let mut w = with_q(&[(IMEI_1, ue(1), 1000), (IMEI_2, ue(2), 1000), ("35209900176150", ue(3), 500)]);
    let mut invites = sent(&w.invite_with("", SDP), "INVITE ");
    invites.sort();
    assert_eq!(peers(&invites), [ue(1), ue(2)]);
    assert!(w.respond(Duration::ZERO, &invites[0].1, "486 Busy Here", "", "").is_empty());
    let out = w.calls.handle_timeout(silent_at(&w), &mut w.ports, &mut w.lat);
    assert_eq!((to_caller(&out), peers(&sent(&out, "INVITE "))), (vec![], vec![ue(3)]));
}
