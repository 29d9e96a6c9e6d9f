//! Run-time UDP sockets of one worker (media ports): plain, non-reuseport sockets opened
//! and closed by the handler, in a table bounded by `EngineConfig::max_media_sockets`.
//!
//! Their [`SocketId`]s carry bit 15 (listener ids are below it and never change), the slot
//! index in the low bits and a generation in the bits left, so an id kept after its socket
//! was closed matches nothing. Freed slots are reused oldest first, which stretches the
//! time before a generation comes round again.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::handler::SocketId;
use super::sys;

/// Bit marking a run-time socket id.
pub(crate) const MEDIA_BIT: u16 = 0x8000;

/// Life cycle of a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Bound, waiting for the backend to register it (`Op::ArmUdp`).
    Opening,
    /// Registered: datagrams are delivered.
    Live,
    /// Closed by the handler: sends queued before still leave, receives are dropped;
    /// `Op::CloseUdp` deregisters and closes it.
    Closing,
}

struct Entry {
    fd: OwnedFd,
    local: SocketAddr,
    state: State,
    /// A UDP socket (its sends may be GSO trains); false for raw ESP sockets.
    udp: bool,
}

/// The run-time socket table.
pub(crate) struct MediaSockets {
    slots: Box<[Option<Entry>]>,
    gens: Box<[u16]>,
    free: VecDeque<u16>,
    slot_bits: u32,
}

impl MediaSockets {
    /// A table of `max` sockets (at most 2^15).
    pub(crate) fn new(max: usize) -> MediaSockets {
        let max = max.min(1 << 15);
        let slot_bits = usize::BITS - max.saturating_sub(1).leading_zeros();
        MediaSockets {
            slots: (0..max).map(|_| None).collect(),
            gens: vec![0; max].into_boxed_slice(),
            free: (0..max as u16).collect(),
            slot_bits,
        }
    }

    /// The bound on open sockets.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Slots free for opening now.
    pub(crate) fn free_slots(&self) -> usize {
        self.free.len()
    }

    fn id(&self, slot: u16) -> SocketId {
        let gen_mask = (1u16 << (15 - self.slot_bits)).wrapping_sub(1);
        let gen = self.gens.get(usize::from(slot)).copied().unwrap_or(0) & gen_mask;
        SocketId(MEDIA_BIT | (gen << self.slot_bits) | slot)
    }

    /// The slot of `id` when `id` is its current id.
    fn slot(&self, id: SocketId) -> Option<usize> {
        if id.0 & MEDIA_BIT == 0 {
            return None;
        }
        let slot = id.0 & ((1u16 << self.slot_bits).wrapping_sub(1)) & !MEDIA_BIT;
        let s = usize::from(slot);
        (s < self.slots.len() && self.id(slot) == id).then_some(s)
    }

    fn entry(&self, id: SocketId) -> Option<&Entry> {
        self.slots.get(self.slot(id)?)?.as_ref()
    }

    /// Opens a socket bound to `addr`; refused when the table is full.
    pub(crate) fn open(&mut self, addr: SocketAddr) -> io::Result<SocketId> {
        self.open_with(true, || {
            let fd = sys::socket(&addr, libc::SOCK_DGRAM)?;
            sys::grow_rcvbuf(fd.as_raw_fd());
            sys::bind(fd.as_raw_fd(), &addr)?;
            let local = sys::local_addr(fd.as_raw_fd())?;
            Ok((fd, local))
        })
    }

    /// Opens a raw ESP socket of `worker` bound to `local` ([`super::raw_esp`]); its
    /// datagrams are whole IPv4 packets or (IPv6) bare ESP packets, its sends ESP packets.
    pub(crate) fn open_raw_esp(&mut self, local: IpAddr, worker: u32, worker_bits: u8) -> io::Result<SocketId> {
        self.open_with(false, || {
            let fd = super::raw_esp::open(local, worker, worker_bits)?;
            sys::grow_rcvbuf(fd.as_raw_fd());
            Ok((fd, SocketAddr::new(local, 0)))
        })
    }

    fn open_with(&mut self, udp: bool, make: impl FnOnce() -> io::Result<(OwnedFd, SocketAddr)>) -> io::Result<SocketId> {
        let Some(&slot) = self.free.front() else {
            return Err(io::Error::new(io::ErrorKind::OutOfMemory, "max_media_sockets reached"));
        };
        let (fd, local) = make()?;
        let e = self.slots.get_mut(usize::from(slot)).ok_or_else(|| io::Error::from(io::ErrorKind::Other))?;
        *e = Some(Entry { fd, local, state: State::Opening, udp });
        self.free.pop_front();
        Ok(self.id(slot))
    }

    /// Marks `id` as closing; false for a stale or already closing id.
    pub(crate) fn start_close(&mut self, id: SocketId) -> bool {
        let Some(s) = self.slot(id) else { return false };
        match self.slots.get_mut(s).and_then(Option::as_mut) {
            Some(e) if e.state != State::Closing => {
                e.state = State::Closing;
                true
            }
            _ => false,
        }
    }

    /// Marks an opening socket live and returns its fd (for registration).
    pub(crate) fn arm(&mut self, id: SocketId) -> Option<RawFd> {
        let s = self.slot(id)?;
        let e = self.slots.get_mut(s)?.as_mut()?;
        (e.state == State::Opening).then(|| {
            e.state = State::Live;
            e.fd.as_raw_fd()
        })
    }

    /// Takes a closing socket out of the table (the caller deregisters, then drops it).
    pub(crate) fn finish_close(&mut self, id: SocketId) -> Option<OwnedFd> {
        let s = self.slot(id)?;
        let cell = self.slots.get_mut(s)?;
        if cell.as_ref()?.state != State::Closing {
            return None;
        }
        let e = cell.take()?;
        if let Some(g) = self.gens.get_mut(s) {
            *g = g.wrapping_add(1);
        }
        // Capacity is the number of slots and `s` was not free: never allocates.
        self.free.push_back(s as u16);
        Some(e.fd)
    }

    /// True for a UDP socket, false for a raw one (or a stale id).
    pub(crate) fn is_udp(&self, id: SocketId) -> bool {
        self.entry(id).is_some_and(|e| e.udp)
    }

    /// The fd datagrams may be sent from (open, live or closing).
    pub(crate) fn send_fd(&self, id: SocketId) -> Option<RawFd> {
        self.entry(id).map(|e| e.fd.as_raw_fd())
    }

    /// The fd of a live socket (receives are delivered only from these).
    pub(crate) fn live_fd(&self, id: SocketId) -> Option<RawFd> {
        self.entry(id).filter(|e| e.state == State::Live).map(|e| e.fd.as_raw_fd())
    }

    /// The bound address of an open (not closing) socket.
    pub(crate) fn local_addr(&self, id: SocketId) -> Option<SocketAddr> {
        self.entry(id).filter(|e| e.state != State::Closing).map(|e| e.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lo() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 0))
    }

    #[test]
    fn bound_generation_and_stale_ids() {
        let mut t = MediaSockets::new(2);
        let a = t.open(lo()).unwrap_or_else(|e| panic!("{e}"));
        let b = t.open(lo()).unwrap_or_else(|e| panic!("{e}"));
        assert!(a.0 & MEDIA_BIT != 0 && a != b);
        assert!(t.open(lo()).is_err(), "bound of 2 enforced");
        assert!(t.arm(a).is_some() && t.arm(a).is_none(), "armed once");
        assert!(t.live_fd(a).is_some() && t.live_fd(b).is_none());
        assert!(t.start_close(a) && !t.start_close(a));
        assert!(t.live_fd(a).is_none() && t.send_fd(a).is_some(), "closing: sends only");
        assert!(t.finish_close(a).is_some());
        let c = t.open(lo()).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(c, a, "reused slot gets a new generation");
        assert!(t.send_fd(a).is_none() && !t.start_close(a), "stale id is harmless");
        assert!(t.slot(SocketId(0)).is_none(), "listener ids are not media ids");
        assert_eq!(t.free.len(), 0);
    }
}
