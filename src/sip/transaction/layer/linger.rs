//! The deadline queues: one FIFO per deadline timer, holding the transactions that armed it
//! in the order their deadline fires. They schedule every deadline (the timer heap only holds
//! the retransmit timers A, E, G), and the lingering ones let the oldest lingering
//! transaction be reclaimed when the table or the buffer pool is full.
//!
//! A transaction lingers in Completed of a non-INVITE server (Timer J) or client (Timer K),
//! Completed of an INVITE client (Timer D), Confirmed of an INVITE server (Timer I) and the
//! RFC 6026 Accepted states (Timers L, M). Timers B, F and H end a transaction that still has
//! protocol work left. Each deadline timer has a duration fixed for the layer's lifetime
//! (64*T1 for B, F, H, J, L, M; `TimerConfig::linger` for D, I, K; zero durations on reliable
//! transports end the transaction at once and are never queued), so as long as the caller's
//! clock does not go backwards, within one queue the order of entry is the order of the
//! deadlines, and the earliest deadline overall is the head of one of the queues. The queues
//! are intrusive doubly linked lists over slot numbers, preallocated with one link per slot
//! (a slot has at most one deadline armed): push, remove and heads are O(1) and never
//! allocate.
//!
//! A second instance holds the retransmit timers A, E, G while armed with their initial
//! interval T1 (RFC 3261 17.1.1.2, 17.1.2.2, 17.2.1), also a fixed duration: the common case,
//! a response or ACK arriving before T1, then never touches the heap.

use crate::sip::transaction::timer::Timer;

const NIL: u32 = u32::MAX;
const NONE: u8 = u8::MAX;

/// Queued timers, one queue each; the first `LINGERING` are the absorbing ones.
const QUEUED: [Timer; 12] = [
    Timer::D,
    Timer::I,
    Timer::J,
    Timer::K,
    Timer::L,
    Timer::M,
    Timer::B,
    Timer::F,
    Timer::H,
    Timer::A,
    Timer::E,
    Timer::G,
];

/// Number of absorbing timers at the front of `QUEUED` (D, I, J, K, L, M).
const LINGERING: usize = 6;

#[derive(Clone, Copy)]
struct Link {
    prev: u32,
    next: u32,
    queue: u8,
}

/// One FIFO per absorbing timer, over the slots of the table.
pub(super) struct Linger {
    links: Vec<Link>,
    heads: [u32; QUEUED.len()],
    tails: [u32; QUEUED.len()],
    /// Bumped by every `armed` and every `remove` that took a slot out: what the layer's
    /// cached earliest head is checked against.
    version: u64,
}

/// The queue of a timer (each instance only ever sees deadline or retransmit timers).
fn queue_of(timer: Timer) -> Option<u8> {
    QUEUED
        .iter()
        .position(|t| *t == timer)
        .and_then(|q| u8::try_from(q).ok())
}

impl Linger {
    /// Links for `capacity` slots, every queue empty.
    pub fn new(capacity: usize) -> Self {
        let free = Link {
            prev: NIL,
            next: NIL,
            queue: NONE,
        };
        Linger {
            links: vec![free; capacity],
            heads: [NIL; QUEUED.len()],
            tails: [NIL; QUEUED.len()],
            version: 0,
        }
    }

    /// Changes whenever a queue changed (see `version`).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Records that `slot` armed `timer`: appends it to the timer's queue (leaving any other
    /// first); `None` takes it out.
    pub fn armed(&mut self, slot: u32, timer: Option<Timer>) {
        self.version = self.version.wrapping_add(1);
        self.remove(slot);
        let Some(q) = timer.and_then(queue_of) else {
            return;
        };
        let tail = self.tails.get(q as usize).copied().unwrap_or(NIL);
        let Some(link) = self.links.get_mut(slot as usize) else {
            return;
        };
        *link = Link {
            prev: tail,
            next: NIL,
            queue: q,
        };
        match self.links.get_mut(tail as usize) {
            Some(t) => t.next = slot,
            None => self.set_head(q, slot),
        }
        if let Some(t) = self.tails.get_mut(q as usize) {
            *t = slot;
        }
    }

    /// Takes `slot` out of its queue, if it is in one.
    pub fn remove(&mut self, slot: u32) {
        let Some(link) = self.links.get_mut(slot as usize) else {
            return;
        };
        let Link { prev, next, queue } = *link;
        if queue == NONE {
            return;
        }
        link.queue = NONE;
        self.version = self.version.wrapping_add(1);
        match self.links.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => self.set_head(queue, next),
        }
        match self.links.get_mut(next as usize) {
            Some(n) => n.prev = prev,
            None => {
                if let Some(t) = self.tails.get_mut(queue as usize) {
                    *t = prev;
                }
            }
        }
    }

    fn set_head(&mut self, q: u8, slot: u32) {
        if let Some(h) = self.heads.get_mut(q as usize) {
            *h = slot;
        }
    }

    /// Whether `slot` is in one of the queues.
    #[cfg(test)]
    pub fn is_queued(&self, slot: u32) -> bool {
        self.links.get(slot as usize).is_some_and(|l| l.queue != NONE)
    }

    /// The head of each non-empty queue (at most 12): the earliest deadline of its timer.
    pub fn heads(&self) -> impl Iterator<Item = u32> + '_ {
        self.heads.iter().copied().filter(|&h| h != NIL)
    }

    /// The reclaim candidate of each non-empty lingering queue: its head, or the one after it
    /// when the head is `except`.
    pub fn candidates(&self, except: Option<u32>) -> impl Iterator<Item = u32> + '_ {
        self.heads.iter().take(LINGERING).filter_map(move |&h| {
            let first = (h != NIL).then_some(h)?;
            if Some(first) != except {
                return Some(first);
            }
            let next = self.links.get(first as usize)?.next;
            (next != NIL).then_some(next)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Linger, Timer};

    fn order(l: &Linger, except: Option<u32>) -> Vec<u32> {
        l.candidates(except).collect()
    }

    #[test]
    fn queues_are_fifo_and_removal_relinks() {
        let mut l = Linger::new(8);
        for s in [3, 1, 4] {
            l.armed(s, Some(Timer::J));
        }
        l.armed(5, Some(Timer::I));
        l.armed(6, Some(Timer::H)); // Protocol work left: queued, never a candidate.
        assert_eq!(order(&l, None), [5, 3]); // Queue order D, I, J, K, L, M.
        assert_eq!(l.heads().collect::<Vec<_>>(), [5, 3, 6]);
        assert_eq!(order(&l, Some(3)), [5, 1]);
        l.remove(3);
        assert_eq!(order(&l, None), [5, 1]);
        l.remove(4); // The tail.
        l.armed(2, Some(Timer::J));
        l.remove(1);
        assert_eq!(order(&l, None), [5, 2]);
        // Re-arming moves a slot to the back of its new queue.
        l.armed(5, Some(Timer::J));
        assert_eq!(order(&l, None), [2]);
        assert_eq!(order(&l, Some(2)), [5]);
        l.armed(2, None);
        l.remove(5);
        l.remove(5);
        assert_eq!(order(&l, None), [] as [u32; 0]);
        assert_eq!(l.heads().collect::<Vec<_>>(), [6]);
        l.armed(6, None);
        assert_eq!(l.heads().count(), 0);
    }
}
