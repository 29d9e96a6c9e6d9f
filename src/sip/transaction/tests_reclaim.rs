//! Reclamation of lingering transactions when the table or the buffer pool is full, on a
//! virtual clock: the transaction whose Timer D/I/J/K/L/M fires first gives way to a new
//! one; transactions with protocol work left never do.

use super::tests::{invite, ms, new_id, request, response, Driver, Peer};
use super::*;

/// The Via of request number `n` (also used by `layer/tests_deadlines.rs`).
pub(super) fn via(n: u32) -> String {
    format!("Via: SIP/2.0/UDP ue{n}.example.com;branch=z9hG4bKrc{n}")
}

/// Request number `n`: its own branch, sent-by and Call-ID.
pub(super) fn numbered(method: &str, n: u32) -> String {
    request(method, &via(n), &format!("c{n}@ue"), "", method)
}

/// The 200 to request number `n`.
pub(super) fn ok(n: u32, method: &str) -> String {
    response(200, &via(n), ";tag=r", method)
}

/// A REGISTER server transaction `n` answered 200 over UDP: Completed, lingering for Timer J.
fn completed_register(d: &mut Driver, t: u64, n: u32) -> TxId {
    let id = new_id(d.recv_req(ms(t), &numbered("REGISTER", n), false));
    d.respond(ms(t), id, &ok(n, "REGISTER")).unwrap();
    assert_eq!(d.l.state(id), Some(State::Completed));
    id
}

fn terminated(d: &Driver) -> Vec<(u64, TxId)> {
    d.event_names()
        .into_iter()
        .zip(&d.event_ids)
        .map(|((t, name), id)| {
            assert_eq!(name, "Terminated");
            (t, *id)
        })
        .collect()
}

#[test]
fn a_full_table_of_completed_non_invite_servers_reclaims_the_oldest() {
    let mut d = Driver::new(4);
    let ids: Vec<TxId> = (0..4)
        .map(|n| completed_register(&mut d, u64::from(n) * 100, n))
        .collect();
    let n4 = new_id(d.recv_req(ms(1000), &numbered("REGISTER", 4), false));
    assert_eq!(d.l.reclaimed(), 1);
    assert_eq!(d.l.len(), 4);
    assert_eq!(d.l.state(ids[0]), None, "the oldest is gone");
    assert_eq!(terminated(&d), [(1000, ids[0])], "and the TU is told");
    // The newest is still there and absorbs its retransmission, resending its 200.
    let sent = d.sent.len();
    assert_eq!(
        d.recv_req(ms(1100), &numbered("REGISTER", 3), false),
        Ok(Inbound::Absorbed)
    );
    assert_eq!(d.sent.len(), sent + 1);
    assert_eq!(d.sent[sent].1, ok(3, "REGISTER").as_bytes());
    // The oldest one's retransmission is now a new request (and takes the next oldest).
    let again = new_id(d.recv_req(ms(1200), &numbered("REGISTER", 0), false));
    assert_ne!(again, ids[0]);
    assert_eq!(d.l.reclaimed(), 2);
    assert_eq!(d.l.state(ids[1]), None);
    assert_eq!(d.l.state(ids[2]), Some(State::Completed));
    assert_eq!(d.l.state(n4), Some(State::Trying));
    // The survivors end on their own Timer J = 64*T1, once each.
    d.run_until(ms(100_000));
    let mut expected = vec![(1000, ids[0]), (1200, ids[1])];
    expected.extend([(32_200, ids[2]), (32_300, ids[3])]);
    assert_eq!(terminated(&d), expected);
}

#[test]
fn a_table_full_of_protocol_work_still_gives_full() {
    let mut d = Driver::new(4);
    let trying = new_id(d.recv_req(ms(0), &numbered("REGISTER", 0), false));
    let proceeding = new_id(d.recv_req(ms(0), &numbered("MESSAGE", 1), false));
    d.respond(ms(0), proceeding, &response(100, &via(1), "", "MESSAGE"))
        .unwrap();
    // An INVITE server awaiting the ACK for its 486 (Timers G and H).
    let awaiting = new_id(d.recv_req(ms(0), &numbered("INVITE", 2), false));
    let busy = response(486, &via(2), ";tag=b", "INVITE");
    d.respond(ms(0), awaiting, &busy).unwrap();
    let calling = d.send(ms(0), &invite(), false).unwrap();
    let states = [trying, proceeding, awaiting, calling].map(|id| d.l.state(id));
    assert_eq!(
        states.map(Option::unwrap),
        [
            State::Trying,
            State::Proceeding,
            State::Completed,
            State::Calling
        ]
    );
    assert_eq!(
        d.recv_req(ms(10), &numbered("REGISTER", 5), false),
        Err(Error::Full)
    );
    assert_eq!(
        d.send(ms(10), &numbered("OPTIONS", 6), false),
        Err(Error::Full)
    );
    assert_eq!(d.l.reclaimed(), 0);
    assert_eq!(
        states,
        [trying, proceeding, awaiting, calling].map(|id| d.l.state(id))
    );
    // Once the ACK arrives the INVITE server only lingers (Timer I): it can be reclaimed.
    let ack = request("ACK", &via(2), "c2@ue", ";tag=b", "ACK");
    assert_eq!(d.recv_req(ms(20), &ack, false), Ok(Inbound::Absorbed));
    new_id(d.recv_req(ms(30), &numbered("REGISTER", 5), false));
    assert_eq!(d.l.state(awaiting), None);
    assert_eq!(d.l.reclaimed(), 1);
}

#[test]
fn reclamation_follows_the_terminal_deadlines_across_states() {
    let mut d = Driver::new(3);
    // Entered first, ends last: Timer J = 32 s after 0 s.
    let j = completed_register(&mut d, 0, 0);
    // INVITE server Confirmed at 10 s: Timer I = T4 = 5 s, ends at 15 s.
    let i = new_id(d.recv_req(ms(10_000), &numbered("INVITE", 1), false));
    d.respond(ms(10_000), i, &response(486, &via(1), ";tag=b", "INVITE"))
        .unwrap();
    let ack = request("ACK", &via(1), "c1@ue", ";tag=b", "ACK");
    assert_eq!(d.recv_req(ms(10_000), &ack, false), Ok(Inbound::Absorbed));
    assert_eq!(d.l.state(i), Some(State::Confirmed));
    // Non-INVITE client Completed at 12 s: Timer K = T4, ends at 17 s.
    let k = d.send(ms(12_000), &numbered("OPTIONS", 2), false).unwrap();
    assert_eq!(
        d.recv_resp(ms(12_000), &ok(2, "OPTIONS")),
        Inbound::PassUp(k)
    );
    assert_eq!(d.l.state(k), Some(State::Completed));

    for n in 3..6 {
        new_id(d.recv_req(ms(13_000), &numbered("REGISTER", n), false));
    }
    assert_eq!(d.l.reclaimed(), 3);
    // I (15 s) first, then K (17 s), then J (32 s): deadline order, not entry order.
    assert_eq!(terminated(&d), [(13_000, i), (13_000, k), (13_000, j)]);
    assert_eq!(
        d.recv_req(ms(13_000), &numbered("REGISTER", 6), false),
        Err(Error::Full)
    );
}

#[test]
fn reclaimed_timers_never_fire_for_the_next_occupant_of_the_slot() {
    let mut d = Driver::new(1);
    let old = completed_register(&mut d, 0, 0);
    let new = new_id(d.recv_req(ms(1000), &numbered("REGISTER", 1), false));
    assert_eq!(new.slot, old.slot, "the only slot is reused");
    assert_ne!(new, old, "with a new generation");
    // The old Timer J (at 32 s) is stale: nothing is armed for the Trying transaction.
    assert_eq!(d.l.poll_timeout(), None);
    d.run_until(ms(100_000));
    assert_eq!(d.l.state(new), Some(State::Trying));
    assert_eq!(terminated(&d), [(1000, old)]);
    // The new occupant's own Timer J works.
    d.respond(ms(100_000), new, &ok(1, "REGISTER")).unwrap();
    d.run_until(ms(200_000));
    assert_eq!(terminated(&d), [(1000, old), (132_000, new)]);
}

fn small_pool_layer(buffers: usize) -> Driver {
    let mut cfg = Config::with_capacity(8);
    cfg.pool = PoolConfig {
        small_count: buffers,
        small_size: 2048,
        large_count: 0,
        large_size: 0,
    };
    let mut d = Driver::new(8);
    d.l = TransactionLayer::<Peer>::new(cfg);
    d
}

#[test]
fn buffer_exhaustion_triggers_reclamation() {
    let mut d = small_pool_layer(2);
    let a = completed_register(&mut d, 0, 0);
    let b = completed_register(&mut d, 10, 1);
    assert_eq!(d.l.free_buffers(), (0, 0));
    // Slots are free, buffers are not: the INVITE's 100 Trying takes A's buffer.
    let inv = new_id(d.recv_req(ms(20), &numbered("INVITE", 2), false));
    assert_eq!((d.l.state(a), d.l.state(b)), (None, Some(State::Completed)));
    assert_eq!(d.sent.last().unwrap().1[..20], *b"SIP/2.0 100 Trying\r\n");
    // A client request takes B's.
    let opt = numbered("OPTIONS", 3);
    let c = d.send(ms(30), &opt, false).unwrap();
    assert_eq!(d.sent.last().unwrap().1, opt.as_bytes());
    assert_eq!(d.l.state(b), None);
    assert_eq!(d.l.reclaimed(), 2);
    // Nothing lingers any more: a request needing a buffer and a response are refused.
    assert_eq!(
        d.recv_req(ms(40), &numbered("INVITE", 4), false),
        Err(Error::Full)
    );
    let busy = response(486, &via(2), ";tag=b", "INVITE");
    assert_eq!(d.respond(ms(40), inv, &busy), Err(Error::Full));
    assert_eq!(d.l.state(c), Some(State::Trying));
    assert_eq!(d.l.reclaimed(), 2);
}

#[test]
fn a_response_never_reclaims_its_own_transaction() {
    let mut d = small_pool_layer(2);
    // INVITE server Accepted (Timer L, 64*T1 from 0 s): the lingering transaction whose
    // deadline comes first.
    let x = new_id(d.recv_req(ms(0), &numbered("INVITE", 0), false));
    let ok_x = response(200, &via(0), ";tag=x", "INVITE");
    d.respond(ms(0), x, &ok_x).unwrap();
    assert_eq!(d.l.state(x), Some(State::Accepted));
    let y = completed_register(&mut d, 100, 1);
    let z = completed_register(&mut d, 200, 2);
    assert_eq!(d.l.free_buffers(), (0, 0));
    // The TU retransmits its 2xx (RFC 6026 7.1): Y gives way, not X.
    d.respond(ms(500), x, &ok_x).unwrap();
    assert_eq!(d.l.state(x), Some(State::Accepted));
    assert_eq!((d.l.state(y), d.l.state(z)), (None, Some(State::Completed)));
    assert_eq!(d.sent.last().unwrap().1, ok_x.as_bytes());
    assert_eq!(d.l.reclaimed(), 1);
    // Sent, the 2xx is not kept: the buffer is free again.
    assert_eq!(d.l.free_buffers(), (1, 0));
}

#[test]
fn states_that_only_absorb_keep_no_buffer() {
    let mut d = small_pool_layer(4);
    // RFC 6026 7.1: INVITE server Accepted, once its 2xx is out.
    let x = new_id(d.recv_req(ms(0), &numbered("INVITE", 0), false));
    d.respond(ms(0), x, &response(200, &via(0), ";tag=x", "INVITE")).unwrap();
    assert_eq!((d.l.state(x), d.l.free_buffers()), (Some(State::Accepted), (4, 0)));
    // RFC 3261 17.2.2: a non-INVITE server in Completed keeps its response (Timer J).
    let r = completed_register(&mut d, 10, 1);
    assert_eq!((d.l.state(r), d.l.free_buffers()), (Some(State::Completed), (3, 0)));
    // RFC 3261 17.1.2.2: a non-INVITE client in Completed keeps nothing (Timer K).
    let opt = d.send(ms(20), &numbered("OPTIONS", 2), false).unwrap();
    assert_eq!(d.l.free_buffers(), (2, 0));
    d.recv_resp(ms(30), &ok(2, "OPTIONS"));
    assert_eq!((d.l.state(opt), d.l.free_buffers()), (Some(State::Completed), (3, 0)));
    // RFC 6026 7.2: an INVITE client in Accepted keeps nothing (Timer M).
    let inv = d.send(ms(40), &numbered("INVITE", 3), false).unwrap();
    d.recv_resp(ms(50), &response(200, &via(3), ";tag=y", "INVITE"));
    assert_eq!((d.l.state(inv), d.l.free_buffers()), (Some(State::Accepted), (3, 0)));
    // RFC 3261 17.1.1.3: an INVITE client in Completed keeps the ACK it resends (Timer D).
    let rej = d.send(ms(60), &numbered("INVITE", 4), false).unwrap();
    d.recv_resp(ms(70), &response(486, &via(4), ";tag=z", "INVITE"));
    assert_eq!((d.l.state(rej), d.l.free_buffers()), (Some(State::Completed), (2, 0)));
    // The retransmission timers still end them all.
    d.run_until(ms(100_000));
    assert_eq!(d.l.free_buffers(), (4, 0));
}

#[test]
fn config_buffers() {
    let c = Config::with_capacity(65_536);
    assert_eq!(c.pool.small_size, 2048);
    assert_eq!(c.pool.large_count, 1024);
    // 128 MiB of small buffers and 64 MiB of large ones per worker.
    assert_eq!(c.pool.bytes(), 65_536 * 2048 + 1024 * 65_535);
    let c = Config::with_buffers(128, 4096);
    assert_eq!((c.pool.small_count, c.pool.small_size), (128, 4096));
    assert_eq!(Config::default(), Config::with_capacity(65_536));
}

/// Many client INVITEs whose Timer A is cancelled by a 180 and Timer B replaced by the
/// 2xx's Timer M leave stale heap entries; with a small table the heap reaches its bound
/// and is purged again and again; the live timers still fire: every transaction ends by
/// Timer M.
#[test]
fn stale_timer_entries_are_purged_without_losing_live_ones() {
    use super::testmsg::TestMsg;
    use super::tests::{layer, PEER};
    let mut t = layer(4);
    let mut now = std::time::Instant::now();
    for i in 0..400 {
        let via = format!("Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKchurn{i}");
        let raw = request("INVITE", &via, "c@h", "", "INVITE");
        let id = match t.send_request(now, &TestMsg::parse(raw.as_bytes()), raw.as_bytes(), PEER, false) {
            Ok(id) => id,
            Err(e) => panic!("call {i}: {e:?}"),
        };
        for status in [180, 200] {
            let resp = response(status, &via, ";tag=b", "INVITE");
            t.handle_response(now, &TestMsg::parse(resp.as_bytes()));
        }
        assert_eq!(t.state(id), Some(State::Accepted), "call {i}");
        while t.poll_transmit().is_some() {}
        while t.poll_event().is_some() {}
        now += ms(10);
        t.handle_timeout(now);
    }
    // Every Accepted transaction ends by Timer M (64*T1); none is left behind.
    let deadline = t.poll_timeout().expect("live Timer M entries");
    assert!(deadline <= now + ms(32_000));
    t.handle_timeout(now + ms(40_000));
    while t.poll_event().is_some() {}
    assert!(t.is_empty(), "{} transactions left", t.len());
    assert_eq!(t.poll_timeout(), None);
}
