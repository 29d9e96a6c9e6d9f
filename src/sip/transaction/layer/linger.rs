//! The lingering queues: transactions that only wait out an absorbing timer, in the order
//! their terminal timer fires, so that the oldest can be reclaimed when the table or the
//! buffer pool is full.
//!
//! A transaction lingers in Completed of a non-INVITE server (Timer J) or client (Timer K),
//! Completed of an INVITE client (Timer D), Confirmed of an INVITE server (Timer I) and the
//! RFC 6026 Accepted states (Timers L, M). Each of these timers has a duration fixed for the
//! layer's lifetime, so within one queue per timer the order of entry is the order of the
//! deadlines, and the transaction whose deadline comes first overall is the head of one of the
//! queues. The queues are intrusive doubly linked lists over slot numbers, preallocated
//! with one link per slot: push, remove and heads are O(1) and never allocate.

use crate::sip::transaction::timer::Timer;

const NIL: u32 = u32::MAX;
const NONE: u8 = u8::MAX;

/// Absorbing timers, one queue each.
const LINGERING: [Timer; 6] = [Timer::D, Timer::I, Timer::J, Timer::K, Timer::L, Timer::M];

#[derive(Clone, Copy)]
struct Link {
    prev: u32,
    next: u32,
    queue: u8,
}

/// One FIFO per absorbing timer, over the slots of the table.
pub(super) struct Linger {
    links: Vec<Link>,
    heads: [u32; LINGERING.len()],
    tails: [u32; LINGERING.len()],
}

/// The queue of an absorbing timer; `None` for the timers of transactions with protocol work
/// left (A, B, E, F, G, H).
fn queue_of(timer: Timer) -> Option<u8> {
    LINGERING
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
            heads: [NIL; LINGERING.len()],
            tails: [NIL; LINGERING.len()],
        }
    }

    /// Records that `slot` armed the deadline `timer`: an absorbing timer appends it to its
    /// queue (leaving any other first), any other timer takes it out of the queues.
    pub fn armed(&mut self, slot: u32, timer: Option<Timer>) {
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

    /// The candidate of each non-empty queue: its head, or the one after it when the head is
    /// `except`.
    pub fn candidates(&self, except: Option<u32>) -> impl Iterator<Item = u32> + '_ {
        self.heads.iter().filter_map(move |&h| {
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
        l.armed(6, Some(Timer::H)); // Protocol work left: never queued.
        assert_eq!(order(&l, None), [5, 3]); // Queue order D, I, J, K, L, M.
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
    }
}
