//! Bookkeeping of the transaction table behind the public API: slot allocation and
//! reclamation, key lookup, applying state machine actions, timers, transmit and event queues.

use std::time::{Duration, Instant};

use super::{is_live, tx_mut, tx_of, Armed, EventKind, TransactionLayer, Tx};
use crate::sip::transaction::api::{Inbound, TxId};
use crate::sip::transaction::build::{self, RequestSpans};
use crate::sip::transaction::key::TxKey;
use crate::sip::transaction::machine::{self, Action, Arm, End, Kind};
use crate::sip::transaction::message::TxMessage;
use crate::sip::transaction::pool::Buf;
use crate::sip::transaction::timer::{Entry, Timer};
use crate::sip::transaction::{Error, State};

impl<P: Copy> TransactionLayer<P> {
    pub(super) fn id_of(&self, slot: u32) -> TxId {
        TxId {
            slot,
            gen: self.slots.get(slot as usize).map_or(0, |s| s.gen),
        }
    }

    pub(super) fn resolve(&self, id: TxId) -> Option<u32> {
        let s = self.slots.get(id.slot as usize)?;
        (s.gen == id.gen && s.tx.is_some()).then_some(id.slot)
    }

    pub(super) fn lookup(&self, key: &TxKey) -> Option<u32> {
        let slots = &self.slots;
        self.index.find(key.digest(), |s| {
            tx_of(slots, s).is_some_and(|t| t.key == *key)
        })
    }

    pub(super) fn create(
        &mut self,
        kind: Kind,
        key: TxKey,
        peer: P,
        reliable: bool,
        out: Option<Buf>,
        spans: RequestSpans,
    ) -> Result<u32, Error> {
        let Some((slot, entry)) = self
            .free
            .pop()
            .and_then(|s| Some((s, self.slots.get_mut(s as usize)?)))
        else {
            if let Some(b) = out {
                self.pool.release(b);
            }
            return Err(Error::Full);
        };
        entry.tx = Some(Tx {
            kind,
            state: State::Terminated, // set by `start`
            key,
            peer,
            reliable,
            out,
            acked: false,
            send_pending: false,
            in_send_queue: false,
            lending: false,
            retransmit: None,
            interval: Duration::ZERO,
            deadline: None,
            spans,
            resp_to_tag: 0,
        });
        self.index.insert(key.digest(), slot);
        Ok(slot)
    }

    pub(super) fn start(&mut self, slot: u32, now: Instant, kind: Kind, reliable: bool) {
        let (state, mut action) = machine::start(kind, reliable, &self.cfg);
        action.state = Some(state);
        // A new INVITE server transaction sends its 100 Trying.
        action.send = action.send || kind == Kind::InviteServer;
        self.apply(slot, now, action);
    }

    /// Carries out `action` on `slot`; returns what the input becomes for the caller.
    pub(super) fn apply(&mut self, slot: u32, now: Instant, action: Action) -> Inbound {
        let id = self.id_of(slot);
        if let (Some(state), Some(tx)) = (action.state, tx_mut(&mut self.slots, slot)) {
            tx.state = state;
        }
        if action.send {
            self.queue_send(slot);
        }
        let mut end = action.end.map(|e| match e {
            End::Terminated => EventKind::Terminated,
            End::Timeout(t) => EventKind::Timeout(t),
        });
        match action.retransmit {
            Arm::Keep => {}
            Arm::Cancel => self.set_timer(slot, true, None, false),
            Arm::Set(timer, d) => self.arm(slot, now, true, timer, d),
        }
        match action.deadline {
            Arm::Keep => {}
            Arm::Cancel => self.set_timer(slot, false, None, false),
            // RFC 3261 17.1.1.2 D, 17.1.2.2 K, 17.2.1 I, 17.2.2 J: zero on reliable
            // transports, so the transaction ends at once.
            Arm::Set(_, d) if d.is_zero() => end = Some(EventKind::Terminated),
            Arm::Set(timer, d) => self.arm(slot, now, false, timer, d),
        }
        if let Some(kind) = end {
            self.finish(slot, kind);
        }
        self.drop_spent_out(slot);
        if action.pass_up {
            Inbound::PassUp(id)
        } else {
            Inbound::Absorbed
        }
    }

    /// Arms (or with `None` cancels) a timer of `slot`; `queued`: scheduled by its queue
    /// rather than the heap.
    pub(super) fn set_timer(
        &mut self,
        slot: u32,
        retransmit: bool,
        armed: Option<Armed>,
        queued: bool,
    ) {
        let timer = armed.filter(|_| queued).map(|a| a.timer);
        if retransmit {
            self.t1_retransmits.armed(slot, timer);
        } else {
            // Any deadline goes to its timer's queue, which schedules it; an absorbing one
            // (D, I, J, K, L, M) also makes the transaction reclaimable.
            self.linger.armed(slot, timer);
        }
        if let Some(tx) = tx_mut(&mut self.slots, slot) {
            *(if retransmit {
                &mut tx.retransmit
            } else {
                &mut tx.deadline
            }) = armed;
        }
    }

    pub(super) fn arm(
        &mut self,
        slot: u32,
        now: Instant,
        retransmit: bool,
        timer: Timer,
        d: Duration,
    ) {
        let Some(at) = now.checked_add(d) else { return };
        let tag = self.next_tag;
        self.next_tag = tag.wrapping_add(1);
        // RFC 3261 17.1.1.2 A, 17.1.2.2 E, 17.2.1 G start at T1, a fixed duration like every
        // deadline's: queued. The backed-off intervals (2*T1 up to T2, or unbounded for A) go
        // to the heap.
        let queued = !retransmit || d == self.cfg.t1;
        self.set_timer(slot, retransmit, Some(Armed { at, timer, tag }), queued);
        if retransmit {
            if let Some(tx) = tx_mut(&mut self.slots, slot) {
                tx.interval = d;
            }
        }
        if !queued {
            let slots = &self.slots;
            // Cannot fail: at most 1 live entry per slot, and the bound is 4 per slot.
            self.timers
                .push(Entry { at, slot, tag }, |e| is_live(slots, e));
        }
    }

    pub(super) fn queue_send(&mut self, slot: u32) {
        let Some(tx) = tx_mut(&mut self.slots, slot) else {
            return;
        };
        if tx.out.is_none() {
            return;
        }
        tx.send_pending = true;
        if !tx.in_send_queue {
            // Bounded by `capacity`: each slot is in the queue at most once.
            tx.in_send_queue = true;
            self.sends.push_back(slot);
        }
    }

    /// RFC 3261 17.1.1.3: builds the ACK for a non-2xx final response once, replacing the
    /// stored INVITE, and queues it. If the pool is exhausted (even after reclaiming) the
    /// INVITE is kept and the next retransmission of the response retries.
    pub(super) fn ack<M: TxMessage>(&mut self, slot: u32, resp: &M) {
        let Some(tx) = tx_of(&self.slots, slot) else {
            return;
        };
        if !tx.acked {
            let (out, spans) = (tx.out, tx.spans);
            let built =
                self.room_for_buffer(Some(slot), |pool| pool.emit(out, &build::ack(&spans, resp)));
            let (Ok(buf), Some(tx)) = (built, tx_mut(&mut self.slots, slot)) else {
                return;
            };
            tx.acked = true;
            if let Some(old) = tx.out.replace(buf) {
                self.pool.release(old);
            }
        }
        self.queue_send(slot);
    }

    /// Ends the transaction on `slot` and queues the event telling the TU.
    pub(super) fn finish(&mut self, slot: u32, why: EventKind) {
        let id = self.id_of(slot);
        let Some(tx) = tx_mut(&mut self.slots, slot) else {
            return;
        };
        if tx.state == State::Terminated {
            return;
        }
        self.linger.remove(slot);
        self.t1_retransmits.remove(slot);
        let Some(tx) = tx_mut(&mut self.slots, slot) else {
            return;
        };
        tx.state = State::Terminated;
        tx.retransmit = None;
        tx.deadline = None;
        if !matches!(why, EventKind::Terminated) {
            // Failure: nothing more goes out.
            tx.send_pending = false;
        }
        if let EventKind::Timeout(Timer::B | Timer::F) = why {
            // RFC 3261 8.1.3.1: the TU sees a timeout as a 408; build it from the request.
            if let Ok(buf) = self.pool.emit(tx.out, &build::timeout_408(&tx.spans)) {
                if let Some(old) = tx.out.replace(buf) {
                    self.pool.release(old);
                }
                tx.lending = true;
            }
        }
        let lends = tx.lending;
        if lends || self.loose_events < self.capacity {
            self.loose_events += usize::from(!lends);
            // Room: at most `capacity` lending plus `capacity` other events.
            self.events.push_back((id, why, lends));
        } else {
            self.dropped_events += 1;
        }
        self.reclaim(slot);
    }

    /// Returns the stored message of a transaction that will not send it again to the pool
    /// once no transmit or event still refers to it (see [`keeps_out`]). At 2,000 calls/s
    /// three of a B2BUA call's four transactions linger 32 s (Timers L, M, J) or 5 s (K);
    /// without this each kept a 2 KiB buffer all that time.
    pub(super) fn drop_spent_out(&mut self, slot: u32) {
        let Some(tx) = tx_mut(&mut self.slots, slot) else {
            return;
        };
        if keeps_out(tx.kind, tx.state) || tx.in_send_queue || tx.send_pending || tx.lending {
            return;
        }
        if let Some(b) = tx.out.take() {
            self.pool.release(b);
        }
    }

    /// Frees a terminated slot once nothing refers to it any more.
    pub(super) fn reclaim(&mut self, slot: u32) {
        let Some(entry) = self.slots.get_mut(slot as usize) else {
            return;
        };
        let done = entry
            .tx
            .as_ref()
            .is_some_and(|t| t.state == State::Terminated && !t.in_send_queue && !t.lending);
        if !done {
            return;
        }
        let Some(tx) = entry.tx.take() else { return };
        entry.gen = entry.gen.wrapping_add(1);
        self.linger.remove(slot);
        self.t1_retransmits.remove(slot);
        if let Some(b) = tx.out {
            self.pool.release(b);
        }
        self.index.remove(tx.key.digest(), slot);
        self.free.push(slot);
    }
}

/// Whether a transaction of `kind` in `state` may send its stored message (or build one from
/// it) again. The states that only absorb retransmissions until their timer fires do not:
/// - RFC 3261 17.1.2.2: a non-INVITE client in Completed absorbs response retransmissions
///   (Timer K);
/// - RFC 6026 7.2: an INVITE client in Accepted passes 2xx retransmissions to the TU, which
///   sends the ACK (Timer M);
/// - RFC 3261 17.2.1: an INVITE server in Confirmed absorbs ACKs (Timer I);
/// - RFC 6026 7.1: an INVITE server in Accepted absorbs INVITE retransmissions without a
///   response, and each 2xx retransmission of the TU brings its own message (Timer L).
///
/// The others keep it: a client still retransmits its request (and builds the 408 or the
/// ACK from it), an INVITE client in Completed resends the ACK, a server in Proceeding or
/// Completed resends its last response.
fn keeps_out(kind: Kind, state: State) -> bool {
    !matches!(
        (kind, state),
        (Kind::NonInviteClient, State::Completed)
            | (Kind::InviteClient, State::Accepted)
            | (Kind::InviteServer, State::Confirmed | State::Accepted)
    )
}
