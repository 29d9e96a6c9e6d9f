//! Logging (lteims manual sections 5.2 `log_filename`/`log_options`/`log_sync`/
//! `com_log_count`, 8 "Log file format", 6.5 `log_get`/`log_set`/`log_reset`).
//!
//! ```text
//!  workers, control ──Logger::log──▶ [free pool] ─▶ [pending ArrayQueue] ──▶ log thread
//!  (enabled(): 1 atomic load)         Box<Record>, inline 512-byte message,   format, file,
//!                                     pooled payload buffer                   stderr, ring
//! ```
//!
//! Design choices:
//! - **No allocation per record.** Record boxes are allocated once (`QueueConfig::records`)
//!   and cycle between a free pool and the pending queue, both crossbeam `ArrayQueue`s.
//!   The message is formatted straight into a 512-byte inline buffer (`MSG_CAP`): log
//!   messages are one line, and 512 bytes holds a SIP request line plus context; longer
//!   ones are cut at a character boundary and end with `...`. Payloads (a SIP message, a
//!   Diameter PDU) vary from 100 bytes to tens of KiB, so an inline buffer would waste
//!   memory on every record: they are copied into one of `payload_buffers` pre-allocated
//!   vectors of `payload_capacity` bytes, only when the layer dumps payloads (debug level),
//!   and cut with a "... (N bytes, M not shown)" line. The writer allocates (ring entries),
//!   but it is off the packet path.
//! - **Overflow drops, never blocks.** An empty free pool drops the record and counts it;
//!   the writer logs "N log records dropped" when it next runs.
//! - **Record time is event time**: producers pass a [`Timestamp`] (`Logger::log`) or let
//!   `Logger::log_now` read the clock only when the record is enabled.
//! - **Time rendering** is UTC plus a fixed offset computed by the caller (no `unsafe`, no
//!   chrono; see `clock`).
//! - **stderr**: error and warning lines are copied to stderr (`LogConfig::stderr`), with or
//!   without a log file.
//! - The ring behind `log_get` is a `Mutex<VecDeque>` shared by the writer and the control
//!   thread only (see `ring`).

mod clock;
mod file;
mod format;
mod logger;
mod options;
mod record;
mod ring;
mod service;
mod types;

pub use clock::{rotation_suffix, write_time, Civil};
pub use file::LogFile;
pub use format::{write_record, TimeStyle};
pub use logger::{LayerFlags, Logger, QueueConfig};
pub use options::{FileActions, LayerOptions, LogOptions, LogOptionsError, TimeFormat};
pub use record::{Head, Payload, PayloadKind, Record, MSG_CAP};
pub use ring::{
    LogBatch, LogEntry, LogQuery, LogRing, COM_LOG_COUNT_DEFAULT, COM_LOG_COUNT_MAX,
    COM_LOG_COUNT_MIN,
};
pub use service::{build, start, LogConfig, LogControl, LogWriter, FLUSH_PERIOD_US};
pub use types::{Dir, Layer, Level, LevelFilter, MediaKind, MediaProto, Origin, Timestamp};
