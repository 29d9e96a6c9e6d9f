//! Transaction timers (RFC 3261 17 and Table 4, RFC 6026 Timers L and M) and the bounded
//! deadline heap that schedules them.
//!
//! The heap uses lazy deletion: cancelling a timer only clears it in its transaction; the
//! stale heap entry is recognised (sequence number mismatch) and skipped when it surfaces.
//! The heap is preallocated; when it reaches its bound, stale entries are purged in place.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// The protocol timer values T1, T2, T4 (RFC 3261 17.1.1.1, Table 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerConfig {
    /// RTT estimate (RFC default 500 ms).
    pub t1: Duration,
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses (RFC default 4 s).
    pub t2: Duration,
    /// Maximum duration a message remains in the network (RFC default 5 s).
    pub t4: Duration,
}

impl Default for TimerConfig {
    /// RFC 3261 Table 4 defaults: T1 = 500 ms, T2 = 4 s, T4 = 5 s.
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64*T1: Timers B, F, H, J (unreliable), L and M.
    pub fn t1x64(&self) -> Duration {
        self.t1.saturating_mul(64)
    }

    /// RFC 3261 17.1.1.2 and Table 4: Timer D is "> 32 s" on unreliable transports, 0 on
    /// reliable ones. We use max(32 s, 64*T1) so that it also covers a raised T1.
    pub fn timer_d(&self, reliable: bool) -> Duration {
        if reliable {
            Duration::ZERO
        } else {
            self.t1x64().max(Duration::from_secs(32))
        }
    }

    /// The wait in Completed/Confirmed before a transaction ends: unreliable value, or zero on
    /// a reliable transport (RFC 3261 17.1.2.2 K, 17.2.1 I, 17.2.2 J).
    pub fn linger(&self, timer: Timer, reliable: bool) -> Duration {
        match (timer, reliable) {
            (_, true) => Duration::ZERO,
            (Timer::D, false) => self.timer_d(false),
            (Timer::J, false) => self.t1x64(),
            // Timers I and K are T4.
            _ => self.t4,
        }
    }
}

/// The RFC 3261 / RFC 6026 transaction timers (Timer C belongs to proxies, not here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// INVITE client request retransmit (unreliable only).
    A,
    /// INVITE client transaction timeout.
    B,
    /// INVITE client wait for response retransmissions in Completed.
    D,
    /// Non-INVITE client request retransmit (unreliable only).
    E,
    /// Non-INVITE client transaction timeout.
    F,
    /// INVITE server final response retransmit (unreliable only).
    G,
    /// INVITE server wait for ACK.
    H,
    /// INVITE server wait for ACK retransmissions in Confirmed.
    I,
    /// Non-INVITE server wait for request retransmissions in Completed.
    J,
    /// Non-INVITE client wait for response retransmissions in Completed.
    K,
    /// RFC 6026: INVITE server wait in Accepted.
    L,
    /// RFC 6026: INVITE client wait in Accepted.
    M,
}

/// One scheduled deadline: `tag` is the transaction's arm sequence number, so a re-armed or
/// cancelled timer leaves a stale entry that no longer matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Entry {
    pub at: Instant,
    pub slot: u32,
    pub tag: u32,
}

/// A bounded min-heap of deadlines with lazy deletion.
pub(super) struct TimerHeap {
    heap: BinaryHeap<Reverse<Entry>>,
    bound: usize,
}

impl TimerHeap {
    /// Preallocates room for `bound` entries; the owner keeps at most `bound / 2` live.
    pub fn new(bound: usize) -> Self {
        TimerHeap {
            heap: BinaryHeap::with_capacity(bound),
            bound,
        }
    }

    /// Schedules `entry`. When the heap is at its bound, stale entries (those `live` rejects)
    /// are purged first, in place. Returns false if no room could be made.
    pub fn push(&mut self, entry: Entry, live: impl Fn(&Entry) -> bool) -> bool {
        if self.heap.len() >= self.bound {
            self.heap.retain(|Reverse(e)| live(e));
        }
        if self.heap.len() >= self.bound {
            return false;
        }
        self.heap.push(Reverse(entry));
        true
    }

    /// The earliest entry, stale or not.
    pub fn peek(&self) -> Option<Entry> {
        self.heap.peek().map(|Reverse(e)| *e)
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Entry> {
        match self.heap.peek() {
            Some(Reverse(e)) if e.at <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    /// Removes the earliest entry unconditionally (used to drop stale entries).
    pub fn pop(&mut self) -> Option<Entry> {
        self.heap.pop().map(|Reverse(e)| e)
    }

    /// Number of entries, stale ones included.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::{Entry, TimerHeap};
    use std::time::{Duration, Instant};

    #[test]
    fn stale_entries_are_purged_at_the_bound() {
        let base = Instant::now();
        let mut heap = TimerHeap::new(8);
        // Only even tags stay live; odd ones are "cancelled".
        let live = |e: &Entry| e.tag % 2 == 0;
        for tag in 0..100u32 {
            let at = base + Duration::from_millis(u64::from(100 - tag));
            assert!(heap.push(Entry { at, slot: 0, tag }, |e| live(e) && e.tag + 6 > tag));
            assert!(heap.len() <= 8);
        }
        let first = heap.pop_due(base + Duration::from_secs(1)).unwrap();
        assert_eq!(first.tag, 99, "earliest deadline first");
        // A heap full of live entries refuses more.
        let mut full = TimerHeap::new(2);
        assert!(full.push(
            Entry {
                at: base,
                slot: 0,
                tag: 0
            },
            |_| true
        ));
        assert!(full.push(
            Entry {
                at: base,
                slot: 1,
                tag: 0
            },
            |_| true
        ));
        assert!(!full.push(
            Entry {
                at: base,
                slot: 2,
                tag: 0
            },
            |_| true
        ));
    }
}
