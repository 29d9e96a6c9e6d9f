//! The transaction table and its sans-IO API: matching (RFC 3261 17.1.3, 17.2.3), buffers,
//! timers, and the transmit and event queues.
//!
//! Bounds: `capacity` slots (free list), an index of 2*capacity buckets, the buffer pool, a
//! timer heap of 4*capacity entries for the backed-off retransmit timers A, E, G (at most one
//! live per slot), one intrusive queue per deadline timer B, D, F, H, I, J, K, L, M and per
//! retransmit timer armed with T1 (two links per slot, see `linger`), a transmit queue of
//! `capacity` (a slot is queued at most once) and an event queue of 2*capacity (events that
//! lend a slot's buffer are at most one per slot; the others are capped at `capacity` and
//! counted when dropped). A terminated slot is reclaimed once its pending transmit and
//! lending event have been polled.
//!
//! When a slot or a buffer is missing, the lingering transaction whose terminal timer fires
//! first is reclaimed before `Error::Full` is given (see `pressure`).

mod linger;
mod pressure;
mod table;
#[cfg(test)]
mod tests_deadlines;

use std::cell::Cell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::api::{Config, Event, Inbound, Transmit, TxId};
use super::build::{self, RequestSpans};
use super::index::{self, Index};
use super::key::{self, Keyer, TxKey};
use super::machine::{self, Kind};
use super::message::TxMessage;
use super::pool::{Buf, Pool};
use super::timer::{Entry, Timer, TimerConfig, TimerHeap};
use super::{Error, State};
use linger::Linger;

#[derive(Clone, Copy, Debug)]
enum EventKind {
    Timeout(Timer),
    TransportError,
    Terminated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Armed {
    at: Instant,
    timer: Timer,
    tag: u32,
}

struct Tx<P> {
    kind: Kind,
    state: State,
    key: TxKey,
    peer: P,
    reliable: bool,
    /// What a (re)transmission sends: the request, the ACK, or the last response.
    out: Option<Buf>,
    /// `out` holds the ACK (client INVITE).
    acked: bool,
    send_pending: bool,
    in_send_queue: bool,
    /// A queued Timeout event lends `out` (the 408).
    lending: bool,
    retransmit: Option<Armed>,
    interval: Duration,
    deadline: Option<Armed>,
    /// Client: where the request's fields are in `out` (for ACK and 408).
    spans: RequestSpans,
    /// Server: digest of the To tag of the last response (RFC 2543 ACK matching).
    resp_to_tag: u64,
}

struct Slot<P> {
    gen: u32,
    tx: Option<Tx<P>>,
}

fn tx_of<P>(slots: &[Slot<P>], slot: u32) -> Option<&Tx<P>> {
    slots.get(slot as usize)?.tx.as_ref()
}

fn tx_mut<P>(slots: &mut [Slot<P>], slot: u32) -> Option<&mut Tx<P>> {
    slots.get_mut(slot as usize)?.tx.as_mut()
}

/// A heap entry is live if its transaction still has its retransmit timer armed with that
/// tag (deadlines are never in the heap: see `linger`).
fn is_live<P>(slots: &[Slot<P>], e: &Entry) -> bool {
    tx_of(slots, e.slot)
        .and_then(|t| t.retransmit)
        .is_some_and(|a| a.tag == e.tag && a.at == e.at)
}

/// Every transaction of one worker. `P` is the caller's opaque peer (address, transport,
/// connection), carried and handed back in [`Transmit`].
pub struct TransactionLayer<P> {
    cfg: TimerConfig,
    capacity: usize,
    slots: Vec<Slot<P>>,
    free: Vec<u32>,
    index: Index,
    keyer: Keyer,
    pool: Pool,
    timers: TimerHeap,
    next_tag: u32,
    sends: VecDeque<u32>,
    events: VecDeque<(TxId, EventKind, bool)>,
    loose_events: usize,
    dropped_events: u64,
    /// The armed deadlines, one FIFO per timer, earliest first; the lingering ones are the
    /// reclaim candidates.
    linger: Linger,
    /// The retransmit timers armed with interval T1, one FIFO per timer, earliest first.
    t1_retransmits: Linger,
    /// The last `queue_head` and the queue versions it was computed at: the worker asks
    /// for the next deadline every turn, the queues change far less often.
    head_cache: Cell<HeadCache>,
    reclaimed: u64,
}

/// The versions of `linger` and `t1_retransmits` and the earliest queued timer then (the
/// entry, and whether it is a retransmit timer).
type HeadCache = (u64, u64, Option<(Entry, bool)>);

impl<P: Copy> TransactionLayer<P> {
    /// Allocates every table, queue and buffer for `config`.
    pub fn new(config: Config) -> Self {
        // The index holds at most 2^31 entries (far beyond any memory for the slots).
        let capacity = config.capacity.clamp(1, index::MAX_ENTRIES);
        let mut cfg = config.timers;
        // Zero T1 would make Timer A fire forever at one instant.
        cfg.t1 = cfg.t1.max(Duration::from_millis(1));
        cfg.t2 = cfg.t2.max(cfg.t1);
        TransactionLayer {
            cfg,
            capacity,
            slots: (0..capacity).map(|_| Slot { gen: 0, tx: None }).collect(),
            free: (0..capacity as u32).rev().collect(),
            index: Index::new(capacity),
            keyer: Keyer::new(),
            pool: Pool::new(config.pool),
            timers: TimerHeap::new(capacity * 4 + 4),
            next_tag: 0,
            sends: VecDeque::with_capacity(capacity),
            events: VecDeque::with_capacity(capacity * 2),
            loose_events: 0,
            dropped_events: 0,
            linger: Linger::new(capacity),
            t1_retransmits: Linger::new(capacity),
            head_cache: Cell::new((u64::MAX, u64::MAX, None)),
            reclaimed: 0,
        }
    }

    /// A request arrived from `peer` (`reliable`: over TCP/TLS/SCTP).
    ///
    /// RFC 3261 17.2.3 matching: a retransmission or ACK of a known transaction is handled
    /// here (`Absorbed`, or `PassUp` for an ACK in Accepted); an unmatched ACK is `Stray`;
    /// any other request creates a server transaction (`New`, or `Cancel` for a CANCEL).
    /// An INVITE transaction sends 100 Trying at once (RFC 3261 17.2.1).
    /// Without a free slot or buffer, the oldest lingering transaction is reclaimed (see
    /// [`reclaimed`](Self::reclaimed)); `Err(Full)`: nothing to reclaim, answer 503
    /// statelessly.
    pub fn handle_request<M: TxMessage>(
        &mut self,
        now: Instant,
        msg: &M,
        peer: P,
        reliable: bool,
    ) -> Result<Inbound, Error> {
        let method = msg.method();
        let is_ack = method == b"ACK";
        // RFC 3261 17.2.3: a request other than ACK matches by its own key, the key a new
        // transaction is created with: computed once for both.
        // Only the RFC 2543 rule reads the To tag: not looked up for a magic cookie branch.
        let key = (!is_ack).then(|| {
            let to_tag = if key::is_rfc2543(msg) { msg.to_tag() } else { None };
            self.keyer.server(msg, method, to_tag)
        });
        let found = match &key {
            Some(key) => self.lookup(key),
            None => self.match_ack(msg),
        };
        if let Some(slot) = found {
            let Some(tx) = tx_of(&self.slots, slot) else {
                return Ok(Inbound::Stray);
            };
            let action = machine::server_request(tx.kind, tx.state, is_ack, tx.reliable, &self.cfg);
            return Ok(self.apply(slot, now, action));
        }
        let Some(key) = key else {
            return Ok(Inbound::Stray);
        };
        self.room_for_slot()?;
        let invite = method == b"INVITE";
        // RFC 3261 17.2.1: the INVITE server transaction sends 100 Trying itself.
        let out = if invite {
            Some(self.room_for_buffer(None, |pool| pool.emit(None, &build::trying(msg)))?)
        } else {
            None
        };
        let kind = if invite {
            Kind::InviteServer
        } else {
            Kind::NonInviteServer
        };
        let slot = self.create(kind, key, peer, reliable, out, RequestSpans::default())?;
        let id = self.id_of(slot);
        self.start(slot, now, kind, reliable);
        if method == b"CANCEL" {
            // RFC 3261 9.2: the transaction to cancel matches the CANCEL as if its method
            // were INVITE (a CANCEL of a non-INVITE has no effect, 9.1).
            let target = self.lookup(&self.keyer.server(msg, b"INVITE", msg.to_tag()));
            return Ok(Inbound::Cancel {
                id,
                target: target.map(|s| self.id_of(s)),
            });
        }
        Ok(Inbound::New(id))
    }

    /// RFC 3261 17.2.3: the server transaction the ACK `msg` belongs to, if any.
    fn match_ack<M: TxMessage>(&self, msg: &M) -> Option<u32> {
        if !key::is_rfc2543(msg) {
            // Branch + sent-by, with the ACK matching the INVITE.
            return self.lookup(&self.keyer.server(msg, b"INVITE", None));
        }
        // RFC 2543 ACK: as the INVITE (whose To tag is the ACK's inside a dialog, absent
        // otherwise), and the ACK's To tag equals that of the response sent.
        let tag = self.keyer.digest(msg.to_tag());
        [msg.to_tag(), None].into_iter().find_map(|to| {
            let slot = self.lookup(&self.keyer.server(msg, b"INVITE", to))?;
            tx_of(&self.slots, slot)
                .filter(|t| t.resp_to_tag == tag)
                .map(|_| slot)
        })
    }

    /// A response arrived. RFC 3261 17.1.3: it matches the client transaction whose branch
    /// and method equal its top Via branch and CSeq method.
    pub fn handle_response<M: TxMessage>(&mut self, now: Instant, msg: &M) -> Inbound {
        let status = msg.status();
        let Some(branch) = msg.top_via_branch() else {
            return Inbound::Stray;
        };
        let found = self.lookup(&self.keyer.client(branch, msg.cseq().1));
        let Some((slot, tx)) = found.and_then(|s| Some((s, tx_of(&self.slots, s)?))) else {
            return Inbound::Stray;
        };
        if !(100..700).contains(&status) {
            return Inbound::Stray;
        }
        let action = machine::client_response(tx.kind, tx.state, status, tx.reliable, &self.cfg);
        if action.ack {
            self.ack(slot, msg);
        }
        self.apply(slot, now, action)
    }

    /// Starts a client transaction for the TU's request `raw` (parsed as `msg`, whose slices
    /// borrow from `raw`) to `peer`, and queues its first transmission. Like
    /// `handle_request`, it reclaims the oldest lingering transaction for room before
    /// giving `Err(Full)`.
    pub fn send_request<M: TxMessage>(
        &mut self,
        now: Instant,
        msg: &M,
        raw: &[u8],
        peer: P,
        reliable: bool,
    ) -> Result<TxId, Error> {
        let method = msg.method();
        let branch = msg.top_via_branch().ok_or(Error::Malformed)?;
        // RFC 3261 17.1.1.3: the ACK for a 2xx is the TU's, sent without a transaction.
        if !msg.is_request() || method == b"ACK" {
            return Err(Error::Malformed);
        }
        let spans = RequestSpans::capture(msg, raw).ok_or(Error::Malformed)?;
        let key = self.keyer.client(branch, method);
        if self.lookup(&key).is_some() {
            return Err(Error::Duplicate);
        }
        self.room_for_slot()?;
        let out = self.room_for_buffer(None, |pool| pool.store(raw))?;
        let kind = if method == b"INVITE" {
            Kind::InviteClient
        } else {
            Kind::NonInviteClient
        };
        let slot = self.create(kind, key, peer, reliable, Some(out), spans)?;
        self.start(slot, now, kind, reliable);
        Ok(self.id_of(slot))
    }

    /// The TU's response `raw` (parsed as `msg`) for server transaction `id`: stored for
    /// retransmission and queued for sending. Without a free buffer the oldest lingering
    /// transaction (never `id` itself) is reclaimed before `Err(Full)` is given.
    pub fn respond<M: TxMessage>(
        &mut self,
        now: Instant,
        id: TxId,
        msg: &M,
        raw: &[u8],
    ) -> Result<(), Error> {
        self.respond_with(now, id, msg.status(), || msg.to_tag(), raw)
    }

    /// [`respond`](Self::respond) with the only fields of the response it reads: its
    /// status code, and for a transaction matched by the RFC 2543 rule the To tag, which
    /// its ACK must carry (RFC 3261 17.2.3); `to_tag` is not called otherwise.
    pub fn respond_with<'t>(
        &mut self,
        now: Instant,
        id: TxId,
        status: u16,
        to_tag: impl FnOnce() -> Option<&'t [u8]>,
        raw: &[u8],
    ) -> Result<(), Error> {
        let slot = self.resolve(id).ok_or(Error::UnknownTransaction)?;
        let tx = tx_of(&self.slots, slot).ok_or(Error::UnknownTransaction)?;
        if matches!(tx.kind, Kind::InviteClient | Kind::NonInviteClient) {
            return Err(Error::InvalidState);
        }
        let action =
            machine::server_respond(tx.kind, tx.state, status, tx.reliable, &self.cfg)?;
        // Only an RFC 2543 ACK is matched by the tag (see `match_ack`).
        let rfc2543 = tx.key.is_rfc2543();
        let buf = self.room_for_buffer(Some(slot), |pool| pool.store(raw))?;
        let tag = if rfc2543 { self.keyer.digest(to_tag()) } else { 0 };
        if let Some(tx) = tx_mut(&mut self.slots, slot) {
            tx.resp_to_tag = tag;
            if let Some(old) = tx.out.replace(buf) {
                self.pool.release(old);
            }
        }
        self.apply(slot, now, action);
        Ok(())
    }

    /// Fires every timer due at `now`, earliest first across the timer heap and the queues.
    /// Bounded: each step pops a heap entry or takes a slot out of a queue, and firing arms
    /// timers later than `now` only (T1 >= 1 ms).
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(e) = self.take_due(now) {
            let Some(tx) = tx_mut(&mut self.slots, e.slot) else {
                continue;
            };
            let hit = |a: &Option<Armed>| a.is_some_and(|a| a.tag == e.tag && a.at == e.at);
            let armed = if hit(&tx.retransmit) {
                tx.retransmit.take()
            } else if hit(&tx.deadline) {
                tx.deadline.take()
            } else {
                None
            };
            if let Some(armed) = armed {
                let action = machine::timer_fired(tx.state, armed.timer, tx.interval, &self.cfg);
                self.apply(e.slot, now, action);
            }
        }
    }

    /// Removes and returns the earliest of the heap top and the queue heads if it is due at
    /// `now` (ties broken as the heap orders entries).
    fn take_due(&mut self, now: Instant) -> Option<Entry> {
        let heap = self.timers.peek().filter(|e| e.at <= now);
        let queued = self.queue_head().filter(|(e, _)| e.at <= now);
        match (heap, queued) {
            (Some(h), Some((q, retransmit))) if q < h => self.dequeue(q, retransmit),
            (Some(_), _) => self.timers.pop_due(now),
            (None, Some((q, retransmit))) => self.dequeue(q, retransmit),
            (None, None) => None,
        }
    }

    fn dequeue(&mut self, e: Entry, retransmit: bool) -> Option<Entry> {
        if retransmit {
            self.t1_retransmits.remove(e.slot);
        } else {
            self.linger.remove(e.slot);
        }
        Some(e)
    }

    /// The earliest queued timer and whether it is a retransmit timer: the least of the queue
    /// heads (at most 21). A queued slot always has that timer armed (`set_timer` keeps both
    /// in step; `finish` and `reclaim` take the slot out).
    fn queue_head(&self) -> Option<(Entry, bool)> {
        let versions = (self.linger.version(), self.t1_retransmits.version());
        let (linger, t1, head) = self.head_cache.get();
        if (linger, t1) == versions {
            return head;
        }
        let head = self.compute_queue_head();
        self.head_cache.set((versions.0, versions.1, head));
        head
    }

    /// [`Self::queue_head`] without the cache.
    fn compute_queue_head(&self) -> Option<(Entry, bool)> {
        let slots = &self.slots;
        let entry = move |retransmit: bool| {
            move |slot: u32| {
                let t = tx_of(slots, slot)?;
                let a = if retransmit { t.retransmit } else { t.deadline }?;
                let e = Entry {
                    at: a.at,
                    slot,
                    tag: a.tag,
                };
                Some((e, retransmit))
            }
        };
        let deadlines = self.linger.heads().filter_map(entry(false));
        let retransmits = self.t1_retransmits.heads().filter_map(entry(true));
        deadlines.chain(retransmits).min_by_key(|(e, _)| *e)
    }

    /// The caller could not send for transaction `id` (RFC 3261 17.1.4, 17.2.4): it ends and
    /// the TU is told.
    pub fn handle_transport_error(&mut self, _now: Instant, id: TxId) {
        if let Some(slot) = self.resolve(id) {
            self.finish(slot, EventKind::TransportError);
        }
    }

    /// Ends transaction `id` at once at the TU's request (e.g. a server transaction the TU
    /// will never answer, or a client transaction it abandons); a pending transmit still goes
    /// out, then `Event::Terminated` follows.
    pub fn terminate(&mut self, _now: Instant, id: TxId) {
        if let Some(slot) = self.resolve(id) {
            self.finish(slot, EventKind::Terminated);
        }
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit<'_, P>> {
        while let Some(slot) = self.sends.pop_front() {
            let id = self.id_of(slot);
            let Some(tx) = tx_mut(&mut self.slots, slot) else {
                continue;
            };
            tx.in_send_queue = false;
            let pending = std::mem::take(&mut tx.send_pending);
            let (peer, out) = (tx.peer, tx.out);
            // Reclaiming (or dropping a spent `out`) releases it to the pool, but its bytes
            // stay intact until the next call that takes `&mut self`, which the returned
            // borrow prevents.
            self.reclaim(slot);
            self.drop_spent_out(slot);
            if let (true, Some(buf)) = (pending, out) {
                return Some(Transmit {
                    id,
                    peer,
                    bytes: self.pool.bytes(buf),
                });
            }
        }
        None
    }

    /// The next event for the TU.
    pub fn poll_event(&mut self) -> Option<Event<'_>> {
        let (id, kind, lends) = self.events.pop_front()?;
        if !lends {
            self.loose_events = self.loose_events.saturating_sub(1);
        }
        let mut response = None;
        if let (true, Some(tx)) = (lends, tx_mut(&mut self.slots, id.slot)) {
            tx.lending = false;
            response = tx.out;
            self.reclaim(id.slot); // As in poll_transmit, the bytes outlive the release.
        }
        Some(match kind {
            EventKind::Timeout(timer) => Event::Timeout {
                id,
                timer,
                response: response.map(|b| self.pool.bytes(b)),
            },
            EventKind::TransportError => Event::TransportError(id),
            EventKind::Terminated => Event::Terminated(id),
        })
    }

    /// The earliest timer deadline: call `handle_timeout` then. Stale heap entries on top
    /// are dropped; the deadline queues hold no stale entries.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let mut heap = None;
        while let Some(e) = self.timers.peek() {
            if is_live(&self.slots, &e) {
                heap = Some(e.at);
                break;
            }
            self.timers.pop();
        }
        let queued = self.queue_head().map(|(e, _)| e.at);
        heap.into_iter().chain(queued).min()
    }

    /// The state of transaction `id`, if it still exists.
    pub fn state(&self, id: TxId) -> Option<State> {
        tx_of(&self.slots, self.resolve(id)?).map(|t| t.state)
    }

    /// Number of transaction slots in use.
    pub fn len(&self) -> usize {
        self.capacity - self.free.len()
    }

    /// True if no transaction slot is in use.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Free pool buffers (small, large).
    pub fn free_buffers(&self) -> (usize, usize) {
        self.pool.free()
    }

    /// Events dropped because the caller did not poll them (should stay 0).
    pub fn dropped_events(&self) -> u64 {
        self.dropped_events
    }

    /// Lingering transactions (Completed of non-INVITE and INVITE client, non-INVITE server
    /// Completed, INVITE server Confirmed, Accepted) reclaimed before their Timer D, I, J, K,
    /// L or M fired, to make room under load. A rising count means the table or the pool is
    /// too small for the load: late retransmissions are then seen as new requests or strays.
    pub fn reclaimed(&self) -> u64 {
        self.reclaimed
    }
}
#[cfg(test)]
mod tests {
    use super::Slot;

    #[test]
    fn slot_stays_within_the_documented_memory_budget() {
        // The module docs count about 0.5 KiB per slot for a peer of address, transport
        // and connection id.
        type Peer = (std::net::SocketAddr, u8, u32);
        assert!(std::mem::size_of::<Slot<Peer>>() <= 512);
    }
}
