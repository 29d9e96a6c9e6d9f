//! The producer side: [`Logger`], a cheap `Clone + Send` handle used by workers and the
//! control thread, and the lock-free pools it shares with the log writer thread.
//!
//! `enabled(layer, level)` is one relaxed atomic load, so a disabled log costs a branch.
//! An enabled log pops a pre-allocated record box from the `free` pool, writes the message
//! into it, copies the payload into a pooled buffer if the layer dumps payloads, and pushes
//! the box on the `pending` queue. Both queues are crossbeam `ArrayQueue`s (bounded,
//! lock-free). When the free pool is empty the record is dropped and counted; the writer
//! reports the count as a "N log records dropped" line once it catches up.

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use crossbeam_queue::ArrayQueue;

use super::options::LogOptions;
use super::record::{Head, Payload, PayloadKind, Record};
use super::types::{Layer, Level, LevelFilter, Timestamp};

/// Bounds of the record queue and of the payload pool, fixed at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// Records in flight between producers and the writer (at least 1).
    pub records: usize,
    /// Payload buffers in the pool (0 = payloads are never copied).
    pub payload_buffers: usize,
    /// Capacity of each payload buffer; longer payloads are cut and marked.
    pub payload_capacity: usize,
}

impl Default for QueueConfig {
    /// 4096 records (about 2.3 MiB) and 256 payload buffers of 8 KiB (2 MiB).
    fn default() -> Self {
        QueueConfig {
            records: 4096,
            payload_buffers: 256,
            payload_capacity: 8192,
        }
    }
}

/// `layer.key`, `layer.crypto` and `layer.verbose` as seen by producers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct LayerFlags {
    /// Dump security keys.
    pub key: bool,
    /// Dump plain and ciphered data.
    pub crypto: bool,
    /// ipsec: dump the filtering information of every packet.
    pub verbose: bool,
}

const FLAG_KEY: u8 = 1;
const FLAG_CRYPTO: u8 = 2;
const FLAG_VERBOSE: u8 = 4;

/// State shared by every [`Logger`] and the writer.
pub(crate) struct Shared {
    levels: [AtomicU8; Layer::COUNT],
    hex_limits: [AtomicU32; Layer::COUNT],
    flags: [AtomicU8; Layer::COUNT],
    free: ArrayQueue<Box<Record>>,
    pending: ArrayQueue<Box<Record>>,
    payloads: ArrayQueue<Vec<u8>>,
    dropped: AtomicU64,
}

impl Shared {
    /// Allocates every record and payload buffer up front.
    pub(crate) fn new(cfg: QueueConfig, options: &LogOptions) -> Shared {
        let records = cfg.records.max(1);
        let free = ArrayQueue::new(records);
        for _ in 0..records {
            // Cannot fail: exactly `records` pushes into a queue of that capacity.
            let _ = free.push(Record::empty());
        }
        let payloads = ArrayQueue::new(cfg.payload_buffers.max(1));
        for _ in 0..cfg.payload_buffers {
            let _ = payloads.push(Vec::with_capacity(cfg.payload_capacity));
        }
        let shared = Shared {
            levels: std::array::from_fn(|_| AtomicU8::new(0)),
            hex_limits: std::array::from_fn(|_| AtomicU32::new(0)),
            flags: std::array::from_fn(|_| AtomicU8::new(0)),
            free,
            pending: ArrayQueue::new(records),
            payloads,
            dropped: AtomicU64::new(0),
        };
        shared.set_options(options);
        shared
    }

    /// Publishes the per-layer levels and payload limits read by producers.
    pub(crate) fn set_options(&self, options: &LogOptions) {
        for layer in Layer::ALL {
            let l = options.layer(layer);
            self.levels[layer.index()].store(l.level as u8, Ordering::Relaxed);
            self.hex_limits[layer.index()].store(l.hex_limit(), Ordering::Relaxed);
            let bit = |on: bool, flag: u8| if on { flag } else { 0 };
            let flags =
                bit(l.key, FLAG_KEY) | bit(l.crypto, FLAG_CRYPTO) | bit(l.verbose, FLAG_VERBOSE);
            self.flags[layer.index()].store(flags, Ordering::Relaxed);
        }
    }

    /// Next queued record, oldest first.
    pub(crate) fn pop(&self) -> Option<Box<Record>> {
        self.pending.pop()
    }

    /// Returns a formatted record (and its payload buffer) to the pools.
    pub(crate) fn recycle(&self, mut rec: Box<Record>) {
        let buf = rec.take_payload();
        if buf.capacity() > 0 {
            let _ = self.payloads.push(buf);
        }
        let _ = self.free.push(rec);
    }

    /// Takes the count of records dropped since the last call.
    pub(crate) fn take_dropped(&self) -> u64 {
        self.dropped.swap(0, Ordering::Relaxed)
    }
}

/// Handle through which every thread emits log records. Cheap to clone.
#[derive(Clone)]
pub struct Logger {
    shared: Arc<Shared>,
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger").finish_non_exhaustive()
    }
}

impl Logger {
    pub(crate) fn new(shared: Arc<Shared>) -> Logger {
        Logger { shared }
    }

    /// True when `layer` currently lets `level` through (one atomic load).
    #[inline]
    pub fn enabled(&self, layer: Layer, level: Level) -> bool {
        let max = self.shared.levels[layer.index()].load(Ordering::Relaxed);
        LevelFilter::from_u8(max).allows(level)
    }

    /// The layer's key/crypto/verbose switches (one atomic load).
    pub fn flags(&self, layer: Layer) -> LayerFlags {
        let f = self.shared.flags[layer.index()].load(Ordering::Relaxed);
        LayerFlags {
            key: f & FLAG_KEY != 0,
            crypto: f & FLAG_CRYPTO != 0,
            verbose: f & FLAG_VERBOSE != 0,
        }
    }

    /// Queues a record of an event that happened at `time`. Returns false when the record
    /// was filtered out or dropped (queue full). Never blocks, never allocates.
    pub fn log(
        &self,
        time: Timestamp,
        head: Head,
        args: fmt::Arguments<'_>,
        payload: Payload<'_>,
    ) -> bool {
        if !self.enabled(head.layer, head.level) {
            return false;
        }
        let Some(mut rec) = self.shared.free.pop() else {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        rec.fill(time, head, args);
        self.attach_payload(&mut rec, payload);
        match self.shared.pending.push(rec) {
            Ok(()) => true,
            Err(rec) => {
                // Unreachable in practice: both queues hold the same number of boxes.
                self.shared.recycle(rec);
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// [`Logger::log`] stamped with the current time (read only when enabled), no payload.
    pub fn log_now(&self, head: Head, args: fmt::Arguments<'_>) -> bool {
        self.enabled(head.layer, head.level)
            && self.log(Timestamp::now(), head, args, Payload::None)
    }

    /// Records dropped and not yet reported by the writer.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Copies the payload when the layer dumps it: text at debug level, binary up to
    /// `layer.max_size` (see `LayerOptions::hex_limit`).
    fn attach_payload(&self, rec: &mut Record, payload: Payload<'_>) {
        let i = rec.head.layer.index();
        let debug = self.shared.levels[i].load(Ordering::Relaxed) == LevelFilter::Debug as u8;
        let (kind, data, limit) = match payload {
            Payload::Text(d) if debug => (PayloadKind::Text, d, usize::MAX),
            Payload::Binary(d) => {
                let limit = self.shared.hex_limits[i].load(Ordering::Relaxed);
                (
                    PayloadKind::Binary,
                    d,
                    usize::try_from(limit).unwrap_or(usize::MAX),
                )
            }
            _ => return,
        };
        if limit == 0 || data.is_empty() {
            return;
        }
        // An empty pool leaves the payload out; the line then says how much was not shown.
        let buf = self.shared.payloads.pop().unwrap_or_default();
        rec.attach(buf, kind, data, limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::types::Dir;

    fn logger(records: usize, options: &str) -> (Logger, Arc<Shared>) {
        let (opts, _) = LogOptions::parse(options).expect("valid options");
        let cfg = QueueConfig {
            records,
            payload_buffers: 2,
            payload_capacity: 64,
        };
        let shared = Arc::new(Shared::new(cfg, &opts));
        (Logger::new(shared.clone()), shared)
    }

    fn head(layer: Layer, level: Level) -> Head {
        Head::new(layer, level).dir(Dir::From)
    }

    #[test]
    fn enabled_follows_levels() {
        let (l, shared) = logger(4, "sip.level=info,ims.level=none");
        assert!(l.enabled(Layer::Sip, Level::Info));
        assert!(!l.enabled(Layer::Sip, Level::Debug));
        assert!(!l.enabled(Layer::Ims, Level::Error));
        assert!(l.enabled(Layer::Cx, Level::Error), "default is error");
        let (opts, _) = LogOptions::parse("sip.level=debug").expect("valid");
        shared.set_options(&opts);
        assert!(l.enabled(Layer::Sip, Level::Debug));
        assert_eq!(l.flags(Layer::Ipsec), LayerFlags::default());
        let (opts, _) =
            LogOptions::parse("ipsec.verbose=1,ipsec.key=1,sip.crypto=1").expect("valid");
        shared.set_options(&opts);
        assert_eq!(
            l.flags(Layer::Ipsec),
            LayerFlags {
                key: true,
                crypto: false,
                verbose: true
            }
        );
        assert_eq!(
            l.flags(Layer::Sip),
            LayerFlags {
                key: false,
                crypto: true,
                verbose: false
            }
        );
        assert!(!l.log_now(head(Layer::Ims, Level::Info), format_args!("filtered")));
        assert!(shared.pop().is_none());
    }

    #[test]
    fn overflow_is_dropped_and_counted() {
        let (l, shared) = logger(3, "all.level=debug");
        let sent: Vec<bool> = (0..5)
            .map(|i| {
                l.log(
                    Timestamp(i),
                    head(Layer::Sip, Level::Info),
                    format_args!("m{i}"),
                    Payload::None,
                )
            })
            .collect();
        assert_eq!(sent, [true, true, true, false, false]);
        assert_eq!(l.dropped(), 2);
        let first = shared.pop().expect("queued");
        assert_eq!(first.message(), "m0");
        shared.recycle(first);
        assert!(l.log(
            Timestamp(9),
            head(Layer::Sip, Level::Info),
            format_args!("m9"),
            Payload::None
        ));
        assert_eq!(shared.take_dropped(), 2);
        assert_eq!(shared.take_dropped(), 0);
        let order: Vec<String> = std::iter::from_fn(|| shared.pop())
            .map(|r| r.message().to_owned())
            .collect();
        assert_eq!(order, ["m1", "m2", "m9"]);
    }

    #[test]
    fn payload_copied_only_at_debug_and_pool_bounded() {
        let (l, shared) = logger(8, "sip.level=info,cx.level=debug,cx.max_size=4");
        l.log(
            Timestamp(0),
            head(Layer::Sip, Level::Info),
            format_args!("a"),
            Payload::Text(b"INVITE"),
        );
        let r = shared.pop().expect("queued");
        assert_eq!(r.payload_total, 0, "text payload needs debug level");
        shared.recycle(r);
        for _ in 0..3 {
            l.log(
                Timestamp(0),
                head(Layer::Cx, Level::Info),
                format_args!("b"),
                Payload::Binary(&[9; 10]),
            );
        }
        let recs: Vec<Box<Record>> = std::iter::from_fn(|| shared.pop()).collect();
        assert_eq!(recs[0].payload(), &[9; 4]);
        assert_eq!(recs[0].payload_total, 10);
        assert_eq!(recs[1].payload().len(), 4);
        assert!(recs[2].payload().is_empty(), "pool of 2 buffers exhausted");
        assert_eq!(recs[2].payload_total, 10);
    }
}
