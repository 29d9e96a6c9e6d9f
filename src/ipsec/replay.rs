//! The receiver's anti-replay window (RFC 4303 3.4.3 and Appendix A): a bitmap of the last
//! `size` sequence numbers below the highest one authenticated so far, kept as a ring
//! indexed by `seq mod size` so that advancing the window clears bits instead of shifting.

use super::EspError;

/// Default window: 64 packets (RFC 4303 3.4.3 "a minimum window size of 32 packets MUST be
/// supported ... 64 SHOULD be the default").
pub const DEFAULT_WINDOW: u16 = 64;
/// Largest configurable window.
pub const MAX_WINDOW: u16 = 1024;
const WORDS: usize = MAX_WINDOW as usize / 64;

/// Anti-replay state of one inbound SA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayWindow {
    bits: [u64; WORDS],
    size: u32,
    /// Highest sequence number authenticated so far (0: none yet).
    top: u32,
}

impl ReplayWindow {
    /// A window of `size` packets: a multiple of 64 in 64..=1024.
    pub fn new(size: u16) -> Result<ReplayWindow, EspError> {
        if !(DEFAULT_WINDOW..=MAX_WINDOW).contains(&size) || size % 64 != 0 {
            return Err(EspError::BadWindow);
        }
        Ok(ReplayWindow {
            bits: [0; WORDS],
            size: u32::from(size),
            top: 0,
        })
    }

    /// Window size in packets.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Highest authenticated sequence number (0 before the first packet).
    pub fn top(&self) -> u32 {
        self.top
    }

    /// RFC 4303 3.4.3: may `seq` be accepted? Done before the ICV check; changes nothing.
    pub fn check(&self, seq: u32) -> Result<(), EspError> {
        // The first packet sent on an SA has sequence number 1 (RFC 4303 3.3.3).
        if seq == 0 {
            return Err(EspError::Replay);
        }
        if seq > self.top {
            return Ok(());
        }
        // Left of the window, or a duplicate inside it.
        if self.top - seq >= self.size || self.get(seq) {
            return Err(EspError::Replay);
        }
        Ok(())
    }

    /// RFC 4303 3.4.3: records `seq` after its ICV verified (and `check` passed),
    /// sliding the window right when `seq` is new highest.
    pub fn update(&mut self, seq: u32) {
        if seq > self.top {
            let advance = seq - self.top;
            if advance >= self.size {
                self.bits = [0; WORDS];
            } else {
                // Bounded by the window size: clear the slots the window slides over.
                for s in 1..=advance {
                    self.put(self.top.wrapping_add(s), false);
                }
            }
            self.top = seq;
        }
        self.put(seq, true);
    }

    fn slot(&self, seq: u32) -> (usize, u64) {
        let i = seq % self.size;
        ((i / 64) as usize, 1u64 << (i % 64))
    }

    fn get(&self, seq: u32) -> bool {
        let (w, m) = self.slot(seq);
        self.bits.get(w).is_some_and(|b| b & m != 0)
    }

    fn put(&mut self, seq: u32, on: bool) {
        let (w, m) = self.slot(seq);
        if let Some(b) = self.bits.get_mut(w) {
            if on {
                *b |= m;
            } else {
                *b &= !m;
            }
        }
    }
}
