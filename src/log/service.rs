//! The log writer thread and its control handle.
//!
//! [`start`] allocates the pools, opens the file and spawns one thread running
//! [`LogWriter::run_once`] in a loop: it applies commands from the control thread, drains the
//! record queue (formats each record, writes it to the file, copies errors and warnings to
//! stderr, keeps it in the ring), reports drops, rotates by size and flushes.
//!
//! Flush policy (`log_sync`, section 5.2): when true, the buffer is handed to the kernel
//! after every record (a `write(2)` per record, no `fsync`); when false, at most every
//! [`FLUSH_PERIOD_US`] and whenever the 64 KiB buffer fills. `fsync` is done on rotation
//! and at shutdown only.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::clock::rotation_suffix;
use super::file::LogFile;
use super::format::{write_record, TimeStyle};
use super::logger::{Logger, QueueConfig, Shared};
use super::options::{FileActions, LogOptions, LogOptionsError};
use super::record::{Head, Record};
use super::ring::{
    LogBatch, LogQuery, LogRing, COM_LOG_COUNT_DEFAULT, COM_LOG_COUNT_MAX, COM_LOG_COUNT_MIN,
};
use super::types::{Layer, Level, Timestamp};

/// Buffered mode flushes at most this often (microseconds).
pub const FLUSH_PERIOD_US: u64 = 100_000;
/// Records formatted per `run_once` call, so commands are never starved.
const BATCH: usize = 1024;
/// Idle sleep of the writer thread after a turn that found records.
const IDLE: Duration = Duration::from_millis(5);
/// Longest idle sleep: each turn without records doubles the sleep up to this, so an
/// idle or quiet log (`level=error` under load) wakes 50 times a second, not 200, and a
/// busy one is still drained every 5 ms. A burst after a quiet spell waits at most this
/// long: at 40,000 SIP messages/s that is 800 records, within the 4,096 of the queue.
const MAX_IDLE: Duration = Duration::from_millis(20);

/// Everything needed to start logging.
#[derive(Clone, Debug)]
pub struct LogConfig {
    /// `log_filename`, already resolved against the configuration file's directory.
    /// None: no file (errors and warnings still go to stderr when `stderr` is set).
    pub file: Option<PathBuf>,
    /// Initial `log_options`.
    pub options: LogOptions,
    /// `log_sync`.
    pub sync: bool,
    /// `com_log_count`, clamped to 4096..=2097152.
    pub com_log_count: usize,
    /// Queue and payload pool bounds.
    pub queue: QueueConfig,
    /// Copy error and warning lines to stderr.
    pub stderr: bool,
    /// Seconds added to UTC when rendering times (see `clock`).
    pub utc_offset: i32,
    /// Server name (`log_get.logs.src`).
    pub src: String,
    /// Header lines written as `# line` at the top of every new file and returned by
    /// `log_get` with `headers`.
    pub headers: Vec<String>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            file: None,
            options: LogOptions::default(),
            sync: false,
            com_log_count: COM_LOG_COUNT_DEFAULT,
            queue: QueueConfig::default(),
            stderr: true,
            utc_offset: 0,
            src: "IMS".into(),
            headers: Vec::new(),
        }
    }
}

enum Command {
    Options(LogOptions, FileActions),
    Flush,
}

/// The consumer side. Normally driven by the thread [`start`] spawns; tests drive it directly.
pub struct LogWriter {
    shared: Arc<Shared>,
    ring: Arc<Mutex<LogRing>>,
    rx: Receiver<Command>,
    file: Option<LogFile>,
    options: LogOptions,
    cfg: LogConfig,
    line: String,
    spare: Box<Record>,
    last_flush: Timestamp,
    dirty: bool,
    rotating: bool,
}

fn lock(ring: &Mutex<LogRing>) -> MutexGuard<'_, LogRing> {
    // A panic while holding the lock leaves a consistent ring (push/get are not partial).
    ring.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LogWriter {
    /// One step: commands, up to a batch of records, drop report, timed flush.
    /// Returns the number of records formatted.
    pub fn run_once(&mut self, now: Timestamp) -> usize {
        while let Ok(cmd) = self.rx.try_recv() {
            self.command(cmd, now);
        }
        let mut n = 0;
        while n < BATCH {
            let Some(rec) = self.shared.pop() else { break };
            self.emit(&rec, now);
            self.shared.recycle(rec);
            n += 1;
        }
        let dropped = self.shared.take_dropped();
        if dropped > 0 {
            self.internal(
                now,
                Level::Warn,
                format_args!("{dropped} log records dropped"),
            );
        }
        if self.dirty
            && (self.cfg.sync || now.0.saturating_sub(self.last_flush.0) >= FLUSH_PERIOD_US)
        {
            self.flush(now);
        }
        n
    }

    fn command(&mut self, cmd: Command, now: Timestamp) {
        match cmd {
            Command::Options(options, actions) => {
                self.options = options;
                if actions.cut {
                    self.file_op(now, "cut", LogFile::cut);
                }
                if actions.rotate_now {
                    self.rotate(now);
                }
            }
            Command::Flush => self.flush(now),
        }
    }

    fn style(&self) -> TimeStyle {
        TimeStyle {
            format: self.options.time,
            us: self.options.time_us,
            utc_offset: self.cfg.utc_offset,
        }
    }

    fn emit(&mut self, rec: &Record, now: Timestamp) {
        let style = self.style();
        self.line.clear();
        let _ = write_record(&mut self.line, rec, style);
        if self.cfg.stderr && rec.head.level <= Level::Warn {
            let first = self.line.lines().next().unwrap_or_default();
            let _ = writeln!(io::stderr(), "{first}");
        }
        lock(&self.ring).push(rec);
        let Some(file) = self.file.as_mut() else {
            return;
        };
        if let Err(e) = file.write(&self.line) {
            let _ = writeln!(
                io::stderr(),
                "log: write to {} failed: {e}",
                file.path().display()
            );
            return;
        }
        self.dirty = true;
        if self
            .options
            .rotate_size
            .is_some_and(|max| file.size() >= max)
        {
            self.rotate(now);
        }
    }

    /// A record generated by the writer itself (drops, file errors), on the IMS layer.
    fn internal(&mut self, now: Timestamp, level: Level, args: std::fmt::Arguments<'_>) {
        let mut rec = std::mem::replace(&mut self.spare, Record::empty());
        rec.fill(now, Head::new(Layer::Ims, level), args);
        self.emit(&rec, now);
        self.spare = rec;
    }

    fn rotate(&mut self, now: Timestamp) {
        if self.rotating {
            return; // a failed rotation logs an error, which must not rotate again
        }
        self.rotating = true;
        let suffix = rotation_suffix(now, self.cfg.utc_offset);
        let dir = self.options.rotate_path.clone();
        self.file_op(now, "rotate", |f| {
            f.rotate(&suffix, dir.as_deref()).map(drop)
        });
        self.rotating = false;
    }

    /// Runs a file operation that leaves a fresh file, then writes the headers.
    fn file_op(
        &mut self,
        now: Timestamp,
        what: &str,
        op: impl FnOnce(&mut LogFile) -> io::Result<()>,
    ) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        match op(file) {
            Ok(()) => {
                self.write_headers();
                self.dirty = true;
            }
            Err(e) => {
                let path = file.path().display().to_string();
                self.internal(
                    now,
                    Level::Error,
                    format_args!("log: {what} of {path} failed: {e}"),
                );
            }
        }
    }

    /// Drains what is left and makes the file durable (shutdown).
    pub fn finish(&mut self, now: Timestamp) {
        // Bounded: producers may still be logging; 64 batches cover the default queue.
        for _ in 0..64 {
            if self.run_once(now) == 0 {
                break;
            }
        }
        self.flush(now);
        if let Some(f) = self.file.as_mut() {
            let _ = f.sync();
        }
    }

    fn write_headers(&mut self) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        for h in &self.cfg.headers {
            let _ = file.write(&format!("# {h}\n"));
        }
    }

    fn flush(&mut self, now: Timestamp) {
        self.last_flush = now;
        self.dirty = false;
        if let Some(f) = self.file.as_mut() {
            if let Err(e) = f.flush() {
                let _ = writeln!(
                    io::stderr(),
                    "log: flush of {} failed: {e}",
                    f.path().display()
                );
            }
        }
    }
}

/// The control thread's handle: options, file actions, the ring, shutdown.
pub struct LogControl {
    shared: Arc<Shared>,
    ring: Arc<Mutex<LogRing>>,
    tx: Sender<Command>,
    options: LogOptions,
    file: Option<PathBuf>,
    thread: Option<JoinHandle<()>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

/// Builds the logger, its control handle and the writer without spawning a thread.
pub fn build(cfg: LogConfig) -> io::Result<(Logger, LogControl, LogWriter)> {
    let mut cfg = cfg;
    cfg.com_log_count = cfg
        .com_log_count
        .clamp(COM_LOG_COUNT_MIN, COM_LOG_COUNT_MAX);
    let shared = Arc::new(Shared::new(cfg.queue, &cfg.options));
    let mut ring = LogRing::new(cfg.com_log_count, &cfg.src);
    ring.set_headers(cfg.headers.clone());
    let ring = Arc::new(Mutex::new(ring));
    let file = cfg
        .file
        .as_deref()
        .map(|p| LogFile::open(p, cfg.options.append))
        .transpose()?;
    let (tx, rx) = channel();
    let control = LogControl {
        shared: shared.clone(),
        ring: ring.clone(),
        tx,
        options: cfg.options.clone(),
        file: cfg.file.clone(),
        thread: None,
        stop: Arc::default(),
    };
    let mut writer = LogWriter {
        shared: shared.clone(),
        ring,
        rx,
        file,
        options: cfg.options.clone(),
        cfg,
        line: String::with_capacity(4096),
        spare: Record::empty(),
        last_flush: Timestamp(0),
        dirty: false,
        rotating: false,
    };
    writer.write_headers();
    Ok((Logger::new(shared), control, writer))
}

/// Starts logging: returns the producers' handle and the control handle; the writer runs
/// on a thread named `log` until [`LogControl::shutdown`].
pub fn start(cfg: LogConfig) -> io::Result<(Logger, LogControl)> {
    let (logger, mut control, mut writer) = build(cfg)?;
    let stop = control.stop.clone();
    let thread = std::thread::Builder::new()
        .name("log".into())
        .spawn(move || {
            use std::sync::atomic::Ordering;
            let mut idle = IDLE;
            while !stop.load(Ordering::Acquire) {
                if writer.run_once(Timestamp::now()) == 0 {
                    std::thread::park_timeout(idle);
                    idle = (idle * 2).min(MAX_IDLE);
                } else {
                    idle = IDLE;
                }
            }
            writer.finish(Timestamp::now());
        })?;
    control.thread = Some(thread);
    Ok((logger, control))
}

impl LogControl {
    /// Current options.
    pub fn options(&self) -> &LogOptions {
        &self.options
    }

    /// The log file, if any.
    pub fn file(&self) -> Option<&std::path::Path> {
        self.file.as_deref()
    }

    /// Applies a `log_options` string on top of the current state (config, monitor `log`,
    /// remote API). Levels take effect at once for every producer.
    pub fn set_options(&mut self, text: &str) -> Result<(), LogOptionsError> {
        let mut next = self.options.clone();
        let actions = next.apply(text)?;
        self.shared.set_options(&next);
        self.options = next.clone();
        self.send(Command::Options(next, actions));
        Ok(())
    }

    /// Current state as shown by the monitor's `log` command.
    pub fn describe(&self) -> String {
        let file = self
            .file
            .as_ref()
            .map_or("none".into(), |p| p.display().to_string());
        format!("file: {file}\noptions: {}", self.options)
    }

    /// `log_set.flush`.
    pub fn flush(&self) {
        self.send(Command::Flush);
    }

    /// `log_set.cut`.
    pub fn cut(&self) {
        let actions = FileActions {
            cut: true,
            rotate_now: false,
        };
        self.send(Command::Options(self.options.clone(), actions));
    }

    /// `log_set.rotate`.
    pub fn rotate(&self) {
        let actions = FileActions {
            cut: false,
            rotate_now: true,
        };
        self.send(Command::Options(self.options.clone(), actions));
    }

    /// `log_get` read of the ring.
    pub fn get(&self, query: &LogQuery) -> LogBatch {
        lock(&self.ring).get(query)
    }

    /// `log_reset`.
    pub fn reset(&self) {
        lock(&self.ring).reset();
    }

    /// Newest index in the ring (for `log_get`'s `min`/`timeout` wait).
    pub fn last_index(&self) -> Option<u64> {
        lock(&self.ring).last_index()
    }

    /// Stops the writer after it drained the queue and synced the file (also on drop).
    pub fn shutdown(self) {}

    fn send(&self, cmd: Command) {
        // The receiver lives as long as the writer; after shutdown there is nothing to do.
        let _ = self.tx.send(cmd);
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
    }
}

impl Drop for LogControl {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::file::tests::temp_dir;
    use crate::log::record::Payload;
    use crate::log::types::{Dir, Origin};
    use std::fs;

    // 2024-04-26 10:05:12.345 UTC
    const T0: Timestamp = Timestamp(1_714_125_912_345_000);

    fn config(file: Option<PathBuf>, options: &str) -> LogConfig {
        LogConfig {
            file,
            options: LogOptions::parse(options).expect("valid").0,
            stderr: false,
            queue: QueueConfig {
                records: 4,
                payload_buffers: 4,
                payload_capacity: 256,
            },
            ..LogConfig::default()
        }
    }

    fn sip(logger: &Logger, id: u32, msg: &str) -> bool {
        let head = Head::new(Layer::Sip, Level::Info)
            .dir(Dir::To)
            .origin(Origin::Id(id));
        logger.log(T0, head, format_args!("{msg}"), Payload::None)
    }

    #[test]
    fn records_reach_file_and_ring() {
        let dir = temp_dir("svc-basic");
        let path = dir.join("ims.log");
        fs::write(&path, "stale\n").expect("seed");
        let mut cfg = config(Some(path.clone()), "sip.level=debug");
        cfg.headers = vec!["ringcore test".into()];
        let (logger, control, mut writer) = build(cfg).expect("build");
        let head = Head::new(Layer::Sip, Level::Debug)
            .dir(Dir::From)
            .origin(Origin::Id(2));
        logger.log(
            T0,
            head,
            format_args!("MESSAGE"),
            Payload::Text(b"MESSAGE sip:a SIP/2.0\r\n"),
        );
        assert_eq!(writer.run_once(T0), 1);
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "# ringcore test\n10:05:12.345 [SIP] FROM 0002 MESSAGE\n  MESSAGE sip:a SIP/2.0\n",
            "truncated (append=0), flushed (first flush is due)"
        );
        let batch = control.get(&LogQuery::default());
        assert_eq!(batch.logs[0]["data"][1], "MESSAGE sip:a SIP/2.0");
    }

    #[test]
    fn append_keeps_content_and_buffering_waits_for_period() {
        let dir = temp_dir("svc-append");
        let path = dir.join("ims.log");
        fs::write(&path, "old\n").expect("seed");
        let (logger, _control, mut writer) =
            build(config(Some(path.clone()), "append=1,sip.level=info")).expect("build");
        writer.last_flush = T0;
        sip(&logger, 1, "a");
        writer.run_once(T0);
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "old\n",
            "buffered"
        );
        writer.run_once(Timestamp(T0.0 + FLUSH_PERIOD_US));
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "old\n10:05:12.345 [SIP] TO 0001 a\n"
        );
    }

    #[test]
    fn sync_flushes_every_record() {
        let dir = temp_dir("svc-sync");
        let path = dir.join("ims.log");
        let mut cfg = config(Some(path.clone()), "sip.level=info");
        cfg.sync = true;
        let (logger, _control, mut writer) = build(cfg).expect("build");
        writer.last_flush = T0;
        sip(&logger, 1, "a");
        writer.run_once(T0);
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "10:05:12.345 [SIP] TO 0001 a\n"
        );
    }

    #[test]
    fn overflow_is_reported_once_space_frees() {
        let (logger, control, mut writer) = build(config(None, "sip.level=info")).expect("build");
        let sent = (0..7).filter(|i| sip(&logger, *i, "x")).count();
        assert_eq!(sent, 4);
        assert_eq!(writer.run_once(T0), 4);
        let batch = control.get(&LogQuery::default());
        assert_eq!(batch.logs.len(), 5);
        assert_eq!(batch.logs[4]["data"][0], "3 log records dropped");
        assert_eq!(batch.logs[4]["level"], "warn");
        assert_eq!(logger.dropped(), 0);
    }

    #[test]
    fn rotate_by_size_and_cut_from_options() {
        let dir = temp_dir("svc-rotate");
        let path = dir.join("ims.log");
        let (logger, mut control, mut writer) =
            build(config(Some(path.clone()), "sip.level=info,file.rotate=40")).expect("build");
        sip(&logger, 1, "first line of the log"); // 40 bytes with time and columns
        sip(&logger, 2, "second");
        writer.run_once(T0);
        writer.flush(T0);
        let rotated = dir.join("ims.log.20240426-100512");
        assert_eq!(
            fs::read_to_string(&rotated).expect("rotated"),
            "10:05:12.345 [SIP] TO 0001 first line of the log\n"
        );
        assert_eq!(
            fs::read_to_string(&path).expect("fresh"),
            "10:05:12.345 [SIP] TO 0002 second\n"
        );
        control
            .set_options("file=cut,time=full,file.rotate=0")
            .expect("valid");
        sip(&logger, 3, "after cut");
        writer.run_once(T0);
        writer.flush(T0);
        assert_eq!(
            fs::read_to_string(&path).expect("cut"),
            "2024-04-26 10:05:12.345 [SIP] TO 0003 after cut\n"
        );
        control.set_options("file.rotate=now").expect("valid");
        writer.run_once(T0);
        assert!(dir.join("ims.log.20240426-100512.1").exists());
        assert!(control.set_options("file.rotate=soon").is_err());
    }

    #[test]
    fn control_levels_apply_to_producers() {
        let (logger, mut control, _writer) = build(config(None, "")).expect("build");
        assert!(!logger.enabled(Layer::Sip, Level::Info));
        control.set_options("all.level=info").expect("valid");
        assert!(logger.enabled(Layer::Media, Level::Info));
        assert!(control.describe().contains("sip.level=info"));
        assert!(control.describe().starts_with("file: none\n"));
    }

    #[test]
    fn thread_writes_and_shuts_down() {
        let dir = temp_dir("svc-thread");
        let path = dir.join("ims.log");
        let (logger, control) = start(config(Some(path.clone()), "sip.level=info")).expect("start");
        assert!(sip(&logger, 9, "threaded"));
        control.shutdown();
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "10:05:12.345 [SIP] TO 0009 threaded\n"
        );
    }
}
