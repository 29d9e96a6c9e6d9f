//! Graceful degradation when the table or the buffer pool is full: a new transaction (or a
//! message an existing one must store) takes the room of the lingering transaction whose
//! terminal timer fires first, instead of failing with [`Error::Full`].
//!
//! A lingering transaction (see `linger`) has no protocol work left: it only absorbs
//! retransmissions until Timer D, I, J, K, L or M. Under load those dominate the table (a
//! non-INVITE server over UDP lingers 64*T1 after its final response), so reclaiming them
//! keeps a registrar answering where a strict table would answer 503 to everything.
//!
//! Trade-off: a retransmission arriving after its transaction was reclaimed is no longer
//! absorbed. A request comes back as a new one (`Inbound::New`: the TU must tolerate a replay,
//! as the registrar does, answering a replayed REGISTER with a fresh challenge or the same
//! binding); an ACK for a reclaimed Confirmed/Accepted INVITE and a response retransmission to
//! a reclaimed client transaction come back as `Inbound::Stray`. The TU is told with
//! `Event::Terminated`, as when the timer fires. Transactions with protocol work left
//! (Calling, Trying, Proceeding, INVITE server Completed awaiting its ACK) are never taken.

use super::{tx_of, EventKind, TransactionLayer};
use crate::sip::transaction::pool::Pool;
use crate::sip::transaction::Error;

/// At most this many transactions are reclaimed for one slot or buffer. It bounds the work
/// of one call and the collateral when only a large buffer would do while the oldest
/// lingering transactions hold small ones (or when victims still have a transmit queued, which
/// defers the release of their slot and buffer until `poll_transmit`).
const MAX_RECLAIMS: usize = 16;

impl<P: Copy> TransactionLayer<P> {
    /// Ends the lingering transaction, other than `except`, whose terminal timer fires first.
    /// False if there is none. O(1): the candidates are the heads of the six queues.
    fn reclaim_oldest(&mut self, except: Option<u32>) -> bool {
        let slots = &self.slots;
        let deadline = |s: u32| tx_of(slots, s).and_then(|t| t.deadline).map(|a| a.at);
        let Some(victim) = self.linger.candidates(except).min_by_key(|&s| deadline(s)) else {
            return false;
        };
        // Taken out first so that every call makes progress whatever `finish` does.
        self.linger.remove(victim);
        self.reclaimed += 1;
        // Its timers become stale (`finish` disarms them; the slot's generation changes when
        // it is freed), so they can never fire for the slot's next occupant.
        self.finish(victim, EventKind::Terminated);
        true
    }

    /// Makes sure a slot is free for a new transaction, reclaiming if needed.
    pub(super) fn room_for_slot(&mut self) -> Result<(), Error> {
        for _ in 0..MAX_RECLAIMS {
            if !self.free.is_empty() || !self.reclaim_oldest(None) {
                break;
            }
        }
        if self.free.is_empty() {
            Err(Error::Full)
        } else {
            Ok(())
        }
    }

    /// Runs `alloc` on the pool; while it fails with `Full`, reclaims a lingering transaction
    /// other than `except` (the one the buffer is for) and tries again.
    pub(super) fn room_for_buffer<T>(
        &mut self,
        except: Option<u32>,
        mut alloc: impl FnMut(&mut Pool) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut budget = MAX_RECLAIMS;
        loop {
            match alloc(&mut self.pool) {
                Err(Error::Full) if budget > 0 && self.reclaim_oldest(except) => budget -= 1,
                r => return r,
            }
        }
    }
}
