//! The timer queues as the scheduler of Timers B, D, F, H, I, J, K, L, M and of A, E, G at
//! T1, on a virtual clock: deadlines fire on time without any heap entry, `poll_timeout` is
//! the earliest of the heap (backed-off retransmits) and the queues, and a reclaimed
//! transaction leaves its queue; the cached earliest queued timer never goes stale.

use crate::sip::transaction::tests::{ms, new_id, response, Driver};
use crate::sip::transaction::tests_reclaim::{numbered, ok, via};
use crate::sip::transaction::{Inbound, State, TxId};

/// Server transaction `n` of `method` answered 200 over UDP at `t` ms.
fn answered(d: &mut Driver, t: u64, n: u32, method: &str) -> TxId {
    let id = new_id(d.recv_req(ms(t), &numbered(method, n), false));
    d.respond(ms(t), id, &ok(n, method)).unwrap();
    id
}

fn terminated_at(d: &Driver) -> Vec<(u64, TxId)> {
    let names = d.event_names().into_iter().zip(&d.event_ids);
    names
        .filter(|((_, name), _)| name == "Terminated")
        .map(|((t, _), id)| (t, *id))
        .collect()
}

#[test]
fn lingering_deadlines_fire_on_time_without_heap_entries() {
    let mut d = Driver::new(8);
    // RFC 3261 17.2.2: Timer J = 64*T1 in Completed; RFC 6026 7.1: Timer L = 64*T1 in Accepted.
    let j = answered(&mut d, 0, 1, "REGISTER");
    let l = answered(&mut d, 250, 2, "INVITE");
    assert_eq!(d.l.state(j), Some(State::Completed));
    assert_eq!(d.l.state(l), Some(State::Accepted));
    assert_eq!(d.l.timers.len(), 0, "no heap entry for a deadline");
    assert!(d.l.linger.is_queued(j.slot) && d.l.linger.is_queued(l.slot));
    assert_eq!(d.l.poll_timeout(), Some(d.base + ms(32_000)));
    d.run_until(ms(32_249));
    assert_eq!(terminated_at(&d), [(32_000, j)]);
    assert!(!d.l.linger.is_queued(j.slot));
    d.run_until(ms(40_000));
    assert_eq!(terminated_at(&d), [(32_000, j), (32_250, l)]);
    assert_eq!(d.l.poll_timeout(), None);
    assert!(d.l.is_empty());
}

#[test]
fn poll_timeout_is_the_earliest_of_heap_and_queues() {
    let mut d = Driver::new(8);
    // RFC 3261 17.1.2.2: Timer E (T1) and Timer F (64*T1), both queued.
    let register = d.send(ms(0), &numbered("REGISTER", 1), false).unwrap();
    assert_eq!(d.l.poll_timeout(), Some(d.base + ms(500)));
    assert_eq!(d.l.timers.len(), 0);
    // The 200 moves it to Completed: Timer K = T4 (5 s) from now; E is cancelled.
    d.recv_resp(ms(100), &ok(1, "REGISTER"));
    assert_eq!(d.l.state(register), Some(State::Completed));
    assert!(!d.l.t1_retransmits.is_queued(register.slot));
    assert_eq!(d.l.poll_timeout(), Some(d.base + ms(5_100)));
    // RFC 3261 17.1.1.2: Timer A (T1) of a new INVITE client comes first again.
    let invite = d.send(ms(200), &numbered("INVITE", 2), false).unwrap();
    assert_eq!(d.l.poll_timeout(), Some(d.base + ms(700)));
    d.run_until(ms(1_000));
    // A fired at 0.7 s from its queue and is re-armed with 2*T1 in the heap.
    assert_eq!(d.l.timers.len(), 1);
    assert_eq!(d.l.poll_timeout(), Some(d.base + ms(1_700)));
    d.run_until(ms(6_000));
    // A fired at 0.7, 1.7, 3.7 s; K ended the REGISTER at 5.1 s.
    assert_eq!(d.times(), [0, 200, 700, 1_700, 3_700]);
    assert_eq!(terminated_at(&d), [(5_100, register)]);
    assert_eq!(d.l.poll_timeout(), Some(d.base + ms(7_700)));
    // Timer B (64*T1 from 0.2 s) ends the INVITE: the queue head outlives the A entries.
    d.run_until(ms(40_000));
    assert_eq!(d.l.state(invite), None);
    assert_eq!(d.event_names().last().map(|(t, _)| *t), Some(32_200));
}

#[test]
fn a_reclaimed_lingering_transaction_leaves_its_queue() {
    let mut d = Driver::new(2);
    let first = answered(&mut d, 0, 1, "REGISTER");
    let second = answered(&mut d, 100, 2, "REGISTER");
    // The table is full: the third takes the slot of the first (Timer J at 32 s).
    let third = new_id(d.recv_req(ms(1_000), &numbered("REGISTER", 3), false));
    assert_eq!(d.l.reclaimed(), 1);
    assert_eq!(third.slot, first.slot);
    assert!(!d.l.linger.is_queued(third.slot), "Trying arms no deadline");
    assert_eq!(d.l.poll_timeout(), Some(d.base + ms(32_100)));
    d.run_until(ms(100_000));
    // No stale fire at 32 s for the slot's new occupant.
    assert_eq!(terminated_at(&d), [(1_000, first), (32_100, second)]);
    assert_eq!(d.l.state(third), Some(State::Trying));
}

#[test]
fn the_cached_earliest_queued_timer_is_always_the_one_computed_afresh() {
    // A seeded random mix of client and server transactions over UDP and TCP, responses,
    // answers and time passing (virtual clock, transactions reclaimed when the table is
    // full): after every step the cached head of the queues is the one computed anew.
    let mut d = Driver::new(16);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut pick = |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    let methods = ["INVITE", "REGISTER", "OPTIONS"];
    let (mut servers, mut t) = (Vec::new(), 0u64);
    for step in 0..4000 {
        t += pick(400);
        let n = pick(24) as u32;
        let method = methods[pick(3) as usize];
        let status = [100, 180, 200, 486][pick(4) as usize];
        match pick(5) {
            0 => {
                let _ = d.send(ms(t), &numbered(method, n), pick(4) == 0);
            }
            1 => {
                d.recv_resp(ms(t), &response(status, &via(n), ";tag=r", method));
            }
            2 => {
                if let Ok(Inbound::New(id)) = d.recv_req(ms(t), &numbered(method, 100 + n), pick(4) == 0) {
                    servers.push((id, 100 + n, method));
                }
            }
            3 if !servers.is_empty() => {
                let (id, n, method) = servers[pick(servers.len() as u64) as usize];
                let _ = d.respond(ms(t), id, &response(status.max(180), &via(n), ";tag=s", method));
            }
            _ => d.run_until(ms(t)),
        }
        assert_eq!(d.l.queue_head(), d.l.compute_queue_head(), "step {step} at {t} ms");
    }
    assert!(d.l.reclaimed() > 0, "the mix filled the table (reclaims happened)");
}
