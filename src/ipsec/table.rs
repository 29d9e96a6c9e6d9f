//! The SA table of one data-plane worker: a bounded set of SAs found by SPI (inbound) or by
//! the UE's address, port and protocol (outbound), SPI allocation that makes the owning
//! worker derivable from the SPI, and the ESP counters.
//!
//! The SAs of one registration (binding) are chained in an intrusive doubly linked list of
//! slots, so removing a binding costs O(its SAs), not O(table): a de-registration storm
//! stays linear in the number of de-registrations.

use std::collections::HashMap;
use std::net::IpAddr;

use super::sa::{Direction, Inner, IvSource, Sa};
use super::udp::IPPROTO_UDP;
use super::{EspError, EspPacket};

/// RFC 4303 2.1: SPIs 1..=255 are reserved by IANA and 0 means "no SA".
pub const FIRST_SPI: u32 = 256;
/// Most workers a deployment may have: 2^8.
pub const MAX_WORKER_BITS: u8 = 8;

/// The worker owning `spi` when SPIs are allocated with `worker_bits` low worker bits.
pub fn worker_of_spi(spi: u32, worker_bits: u8) -> u32 {
    spi & low_mask(worker_bits)
}

fn low_mask(bits: u8) -> u32 {
    1u32.checked_shl(u32::from(bits))
        .map_or(u32::MAX, |v| v - 1)
}

/// Why a table operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// `worker_bits` above 8, `worker` not below 2^worker_bits, or capacity 0.
    BadConfig,
    /// The table holds `capacity` SAs.
    Full,
    /// An inbound SA with this SPI, or an outbound SA with this key, exists.
    InUse,
    /// The inbound SPI's worker bits name another worker (or the SPI is reserved).
    NotOwned,
    /// An inbound SA given where an outbound one is expected, or the reverse.
    WrongDirection,
}

/// Allocates SPIs `(counter << worker_bits) | worker`, never below 256 (RFC 4303 2.1).
#[derive(Clone, Debug)]
pub struct SpiAllocator {
    worker: u32,
    worker_bits: u8,
    counter: u32,
}

impl SpiAllocator {
    /// Allocator for `worker`, starting at `start` (e.g. random, to avoid reusing the SPIs
    /// of a previous run).
    pub fn new(worker: u32, worker_bits: u8, start: u32) -> Result<SpiAllocator, TableError> {
        if worker_bits > MAX_WORKER_BITS || worker > low_mask(worker_bits) {
            return Err(TableError::BadConfig);
        }
        Ok(SpiAllocator {
            worker,
            worker_bits,
            counter: start,
        })
    }

    /// The next SPI. Its counter part wraps within `32 - worker_bits` bits; the table
    /// refuses an SPI still in use, and the caller then asks again.
    pub fn next_spi(&mut self) -> u32 {
        let max = u32::MAX >> self.worker_bits;
        let min = FIRST_SPI >> self.worker_bits;
        if self.counter < min || self.counter > max {
            self.counter = min;
        }
        let spi = (self.counter << self.worker_bits) | self.worker;
        self.counter = self.counter.wrapping_add(1);
        spi
    }
}

/// Which transport protocol an outbound SA selects (TS 33.203 7.1: SAs carry UDP and TCP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SelectorProto {
    /// UDP only.
    Udp,
    /// TCP only.
    Tcp,
    /// Both.
    Any,
}

/// Outbound selector: the UE's address and protected port, and the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OutboundKey {
    /// The UE's IP address.
    pub ue_addr: IpAddr,
    /// The UE's protected port (port-c or port-s).
    pub ue_port: u16,
    /// Transport protocol selected.
    pub proto: SelectorProto,
}

/// Configuration of one worker's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaTableConfig {
    /// This worker's index.
    pub worker: u32,
    /// Low SPI bits that carry the worker index (0..=8).
    pub worker_bits: u8,
    /// Most SAs held (inbound and outbound together).
    pub capacity: usize,
}

/// ESP counters of one worker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EspCounters {
    /// Packets decapsulated.
    pub ok_in: u64,
    /// Packets encapsulated.
    pub ok_out: u64,
    /// ICV failures.
    pub bad_icv: u64,
    /// Replayed or too old.
    pub replay: u64,
    /// No inbound SA for the SPI.
    pub unknown_spi: u64,
    /// Too short for the SA's transform.
    pub truncated: u64,
    /// Bad padding or ciphertext length.
    pub malformed: u64,
    /// Outbound packets with no SA or failing to encapsulate.
    pub out_failed: u64,
}

impl std::ops::AddAssign for EspCounters {
    /// Field-wise sum (totals over workers).
    fn add_assign(&mut self, o: EspCounters) {
        self.ok_in += o.ok_in;
        self.ok_out += o.ok_out;
        self.bad_icv += o.bad_icv;
        self.replay += o.replay;
        self.unknown_spi += o.unknown_spi;
        self.truncated += o.truncated;
        self.malformed += o.malformed;
        self.out_failed += o.out_failed;
    }
}

/// How an SA is found: what [`SaTable::remove_binding_with`] reports for each SA removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SaKey {
    /// An inbound SA, by its SPI.
    Inbound(u32),
    /// An outbound SA, by its selector.
    Outbound(OutboundKey),
}

/// No slot (end of a binding's list).
const NIL: usize = usize::MAX;

struct Slot {
    sa: Sa,
    binding: u64,
    key: Option<OutboundKey>,
    /// The previous and next slot of the same binding, or `NIL`.
    prev: usize,
    next: usize,
}

impl Slot {
    fn sa_key(&self) -> SaKey {
        match self.key {
            Some(k) => SaKey::Outbound(k),
            None => SaKey::Inbound(self.sa.spi()),
        }
    }
}

/// The SAs of one worker. The index (slots, maps) is reserved at construction; inserts
/// beyond `capacity` fail with `Full`, and the per-packet paths do not allocate. Each SA
/// (about 1 KiB with its key schedules) is boxed when it is installed, a control-plane event
/// per registration: a table of 65,536 SAs then costs 8 bytes per empty slot instead of
/// ~70 MB written on the worker's first install (a 240 ms stall measured with ringload).
pub struct SaTable {
    cfg: SaTableConfig,
    slots: Vec<Option<Box<Slot>>>,
    free: Vec<usize>,
    by_spi: HashMap<u32, usize>,
    by_key: HashMap<OutboundKey, usize>,
    /// The first slot of each binding's list (at most one binding per SA held).
    heads: HashMap<u64, usize>,
    counters: EspCounters,
}

impl SaTable {
    /// An empty table with room for `cfg.capacity` SAs.
    pub fn new(cfg: SaTableConfig) -> Result<SaTable, TableError> {
        if cfg.capacity == 0
            || cfg.worker_bits > MAX_WORKER_BITS
            || cfg.worker > low_mask(cfg.worker_bits)
        {
            return Err(TableError::BadConfig);
        }
        let mut slots = Vec::with_capacity(cfg.capacity);
        slots.resize_with(cfg.capacity, || None);
        Ok(SaTable {
            cfg,
            slots,
            free: (0..cfg.capacity).rev().collect(),
            by_spi: HashMap::with_capacity(cfg.capacity),
            by_key: HashMap::with_capacity(cfg.capacity),
            heads: HashMap::with_capacity(cfg.capacity),
            counters: EspCounters::default(),
        })
    }

    /// Does this worker own inbound `spi`?
    pub fn owns_spi(&self, spi: u32) -> bool {
        spi >= FIRST_SPI && worker_of_spi(spi, self.cfg.worker_bits) == self.cfg.worker
    }

    /// Number of SAs held.
    pub fn len(&self) -> usize {
        self.cfg.capacity - self.free.len()
    }

    /// True when no SA is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The counters.
    pub fn counters(&self) -> &EspCounters {
        &self.counters
    }

    /// Adds an inbound SA of registration `binding`; its SPI must belong to this worker.
    pub fn insert_inbound(&mut self, sa: Sa, binding: u64) -> Result<(), TableError> {
        if sa.direction() != Direction::Inbound {
            return Err(TableError::WrongDirection);
        }
        if !self.owns_spi(sa.spi()) {
            return Err(TableError::NotOwned);
        }
        if self.by_spi.contains_key(&sa.spi()) {
            return Err(TableError::InUse);
        }
        let spi = sa.spi();
        let i = self.store(sa, binding, None)?;
        self.by_spi.insert(spi, i);
        Ok(())
    }

    /// Adds an outbound SA of registration `binding`, selected by `key`.
    pub fn insert_outbound(
        &mut self,
        key: OutboundKey,
        sa: Sa,
        binding: u64,
    ) -> Result<(), TableError> {
        if sa.direction() != Direction::Outbound {
            return Err(TableError::WrongDirection);
        }
        if self.by_key.contains_key(&key) {
            return Err(TableError::InUse);
        }
        let i = self.store(sa, binding, Some(key))?;
        self.by_key.insert(key, i);
        Ok(())
    }

    /// Puts an SA in a free slot at the head of its binding's list.
    fn store(
        &mut self,
        sa: Sa,
        binding: u64,
        key: Option<OutboundKey>,
    ) -> Result<usize, TableError> {
        let i = self.free.pop().ok_or(TableError::Full)?;
        let next = self.heads.get(&binding).copied().unwrap_or(NIL);
        if let Some(Some(old)) = self.slots.get_mut(next) {
            old.prev = i;
        }
        if let Some(s) = self.slots.get_mut(i) {
            *s = Some(Box::new(Slot {
                sa,
                binding,
                key,
                prev: NIL,
                next,
            }));
        }
        // Bounded: one binding per held SA at most, and `heads` was sized for all of them.
        self.heads.insert(binding, i);
        Ok(i)
    }

    /// Empties slot `i`, unlinking it from its binding's list.
    fn take(&mut self, i: usize) -> Option<Slot> {
        let slot = *self.slots.get_mut(i)?.take()?;
        self.free.push(i);
        if let Some(Some(p)) = self.slots.get_mut(slot.prev) {
            p.next = slot.next;
        } else if slot.next == NIL {
            self.heads.remove(&slot.binding);
        } else {
            self.heads.insert(slot.binding, slot.next);
        }
        if let Some(Some(n)) = self.slots.get_mut(slot.next) {
            n.prev = slot.prev;
        }
        Some(slot)
    }

    /// The inbound SA with `spi`.
    pub fn inbound_mut(&mut self, spi: u32) -> Option<&mut Sa> {
        let i = *self.by_spi.get(&spi)?;
        self.slot_mut(i)
    }

    /// The outbound SA towards `ue_addr`/`ue_port` for IP protocol `proto` (an SA for
    /// exactly that protocol first, else one for any).
    pub fn outbound_mut(&mut self, ue_addr: IpAddr, ue_port: u16, proto: u8) -> Option<&mut Sa> {
        let exact = if proto == IPPROTO_UDP {
            SelectorProto::Udp
        } else {
            SelectorProto::Tcp
        };
        let key = |proto| OutboundKey {
            ue_addr,
            ue_port,
            proto,
        };
        let i = *self
            .by_key
            .get(&key(exact))
            .or_else(|| self.by_key.get(&key(SelectorProto::Any)))?;
        self.slot_mut(i)
    }

    fn slot_mut(&mut self, i: usize) -> Option<&mut Sa> {
        self.slots.get_mut(i)?.as_mut().map(|s| &mut s.sa)
    }

    /// Removes the inbound SA with `spi`; true if there was one.
    pub fn remove_inbound(&mut self, spi: u32) -> bool {
        self.by_spi
            .remove(&spi)
            .and_then(|i| self.take(i))
            .is_some()
    }

    /// Removes the outbound SA selected by `key`; true if there was one.
    pub fn remove_outbound(&mut self, key: &OutboundKey) -> bool {
        self.by_key.remove(key).and_then(|i| self.take(i)).is_some()
    }

    /// Removes every SA of registration `binding` (at expiry or deregistration); returns how
    /// many.
    pub fn remove_binding(&mut self, binding: u64) -> usize {
        self.remove_binding_with(binding, |_| {})
    }

    /// Removes every SA of registration `binding`, telling `removed` about each; returns how
    /// many. Walks only that binding's list: O(its SAs), at most `capacity` steps.
    pub fn remove_binding_with(&mut self, binding: u64, mut removed: impl FnMut(SaKey)) -> usize {
        let mut i = self.heads.remove(&binding).unwrap_or(NIL);
        let mut n = 0;
        while n < self.cfg.capacity {
            let Some(slot) = self.slots.get_mut(i).and_then(Option::take) else {
                break;
            };
            self.free.push(i);
            debug_assert_eq!(slot.binding, binding, "a binding's list holds only its SAs");
            match slot.key {
                Some(k) => self.by_key.remove(&k),
                None => self.by_spi.remove(&slot.sa.spi()),
            };
            removed(slot.sa_key());
            i = slot.next;
            n += 1;
        }
        n
    }

    /// Decapsulates an ESP packet with the inbound SA its SPI names, and counts the outcome.
    pub fn decap(&mut self, packet: &mut [u8]) -> Result<Inner, EspError> {
        let result = match EspPacket::new_checked(&*packet).map(|p| p.spi()) {
            Ok(spi) => match self.inbound_mut(spi) {
                Some(sa) => sa.decap(packet),
                None => Err(EspError::UnknownSpi),
            },
            Err(e) => Err(e),
        };
        self.count_in(&result);
        result
    }

    /// Encapsulates `inner` towards `ue_addr`/`ue_port` with the outbound SA for `proto`
    /// (which is also the Next Header); `UnknownSpi` when there is no such SA.
    pub fn encap(
        &mut self,
        ue_addr: IpAddr,
        ue_port: u16,
        proto: u8,
        inner: &[u8],
        iv: &mut dyn IvSource,
        out: &mut [u8],
    ) -> Result<usize, EspError> {
        let result = match self.outbound_mut(ue_addr, ue_port, proto) {
            Some(sa) => sa.encap(inner, proto, iv, out),
            None => Err(EspError::UnknownSpi),
        };
        match result {
            Ok(_) => self.counters.ok_out += 1,
            Err(_) => self.counters.out_failed += 1,
        }
        result
    }

    /// The SAs of `binding`, newest first (at most `capacity`).
    pub fn binding_sas(&self, binding: u64) -> impl Iterator<Item = SaKey> + '_ {
        let mut i = self.heads.get(&binding).copied().unwrap_or(NIL);
        std::iter::from_fn(move || {
            let slot = self.slots.get(i)?.as_ref()?;
            i = slot.next;
            Some(slot.sa_key())
        })
        .take(self.cfg.capacity)
    }

    fn count_in(&mut self, result: &Result<Inner, EspError>) {
        let c = &mut self.counters;
        let field = match result {
            Ok(_) => &mut c.ok_in,
            Err(EspError::BadIcv) => &mut c.bad_icv,
            Err(EspError::Replay) => &mut c.replay,
            Err(EspError::UnknownSpi) => &mut c.unknown_spi,
            Err(EspError::Truncated) => &mut c.truncated,
            Err(_) => &mut c.malformed,
        };
        *field += 1;
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
