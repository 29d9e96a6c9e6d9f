//! The control loop: waits for worker events, the next timer or a monitor
//! line; dispatches requests to the registrar and the reg event package;
//! sends the answers back as worker commands.

#[path = "core_dialogs.rs"]
mod dialogs;

use super::anchor::MediaPorts;
use super::calls::Calls;
use super::echo::Echo;
use super::mt_call::MtCalls;
use super::monitor::Monitor;
use super::monitor_ctx::Ctx;
use super::regevent::{Notify, RegEvents};
use super::register;
use super::reply::{reply_to, Extra};
use crate::config::typed::Config;
use crate::endpoint::{Peer, ToControl, ToWorker};
use crate::engine::Engine;
use crate::ims::bindings::{ContactEvent, Record};
use crate::ims::registrar::Registrar;
use crate::log::{Dir, Head, Layer, Level, LogControl, Logger, Origin, Payload, Timestamp};
use crate::sip::transaction::TxId;
use crate::sip::{Message, Method};
use crate::stats::{Counter, SipCounters};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest the loop sleeps, so monitor lines and the stop flag are seen promptly.
const MAX_SLEEP: Duration = Duration::from_millis(50);
/// Most events handled before timers and the monitor get a turn.
const EVENT_BATCH: usize = 1024;

/// Counters of the control thread.
#[derive(Debug, Default)]
pub struct ControlCounters {
    /// Commands dropped because a worker's command queue was full.
    pub command_queue_full: Counter,
    /// Requests answered 501 because their feature is not built yet.
    pub not_implemented: Counter,
    /// REGISTER requests handled.
    pub registers: Counter,
    /// NOTIFYs sent.
    pub notifies: Counter,
}

/// What start-up hands to the control thread.
pub struct Parts {
    /// The configuration in force.
    pub cfg: Config,
    /// The started workers.
    pub engine: Engine<ToWorker, ToControl>,
    /// Registrar with HSS and bindings.
    pub registrar: Registrar,
    /// reg event subscriptions.
    pub regevents: RegEvents,
    /// Calls between UEs.
    pub calls: Calls,
    /// The echo service.
    pub echo: Echo,
    /// Media port pools of the workers.
    pub media_ports: MediaPorts,
    /// Network-initiated calls.
    pub mt: MtCalls,
    /// Log producer handle.
    pub logger: Logger,
    /// Log service control.
    pub logctl: LogControl,
    /// Per-worker SIP counters.
    pub sip_counters: Vec<Arc<SipCounters>>,
}

/// The control thread's state.
pub struct Control {
    cfg: Config,
    engine: Engine<ToWorker, ToControl>,
    /// The registrar with the HSS and the bindings.
    pub registrar: Registrar,
    regevents: RegEvents,
    calls: Calls,
    echo: Echo,
    media_ports: MediaPorts,
    /// Network-initiated calls.
    pub mt: MtCalls,
    logger: Logger,
    logctl: Option<LogControl>,
    monitor: Monitor,
    sip_counters: Vec<Arc<SipCounters>>,
    /// Control-thread counters.
    pub counters: ControlCounters,
    /// Registration and call set-up latency histograms (read by the API and metrics).
    pub latencies: crate::stats::latency::Latencies,
    quit: bool,
    /// ue_db_filename, resolved, and whether the state changed since the last save.
    state_file: Option<std::path::PathBuf>,
    dirty: bool,
    last_save: Instant,
    /// custom_headers and user_agent applied to every message sent.
    rewriter: super::custom_headers::Rewriter,
}

/// The state file is rewritten at most this often.
const SAVE_PERIOD: Duration = Duration::from_secs(1);

impl Control {
    /// Assembles the control state around a started engine.
    pub fn new(p: Parts) -> Self {
        Control {
            rewriter: super::custom_headers::Rewriter::from_config(&p.cfg.sip),
            cfg: p.cfg,
            engine: p.engine,
            registrar: p.registrar,
            regevents: p.regevents,
            calls: p.calls,
            echo: p.echo,
            media_ports: p.media_ports,
            mt: p.mt,
            logger: p.logger,
            logctl: Some(p.logctl),
            monitor: Monitor::new(),
            sip_counters: p.sip_counters,
            counters: ControlCounters::default(),
            latencies: crate::stats::latency::Latencies::new(),
            quit: false,
            state_file: None,
            dirty: false,
            last_save: Instant::now(),
        }
    }

    /// Restores the state of `path` (ue_db_filename) and keeps it up to date.
    pub fn persist_to(&mut self, path: std::path::PathBuf) -> Result<crate::ims::persist::Restored, String> {
        let r = &mut self.registrar;
        let restored = crate::ims::persist::load(&path, Instant::now(), &mut r.bindings, &mut r.hss)?;
        self.state_file = Some(path);
        Ok(restored)
    }

    /// Writes the state file when it changed (at most every [`SAVE_PERIOD`], or now if `force`).
    fn save_state(&mut self, now: Instant, force: bool) {
        let Some(path) = &self.state_file else { return };
        if !self.dirty || (!force && now.saturating_duration_since(self.last_save) < SAVE_PERIOD) {
            return;
        }
        if let Err(e) = crate::ims::persist::save(path, now, &self.registrar.bindings, &self.registrar.hss) {
            let head = Head::new(Layer::Ims, Level::Error);
            self.logger.log_now(head, format_args!("cannot save {}: {e}", path.display()));
        }
        self.dirty = false;
        self.last_save = now;
    }

    /// Runs until `stop` is raised or the monitor asks to quit.
    pub fn run(&mut self, stop: &AtomicBool, lines: Option<&Receiver<String>>) {
        if lines.is_some() {
            print!("{}", super::monitor::PROMPT);
            let _ = std::io::Write::flush(&mut std::io::stdout());
        }
        while !self.quit && !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            let wait = self.next_timeout().map_or(MAX_SLEEP, |t| t.saturating_duration_since(now).min(MAX_SLEEP));
            if let Some((_, ev)) = self.engine.events().recv_timeout(wait) {
                self.handle_event(Instant::now(), ev);
                for _ in 0..EVENT_BATCH {
                    let Some((_, ev)) = self.engine.events().try_recv() else { break };
                    self.handle_event(Instant::now(), ev);
                }
            }
            self.handle_timeouts(Instant::now());
            if let Some(rx) = lines {
                while let Ok(line) = rx.try_recv() {
                    self.monitor_line(&line);
                }
            }
        }
    }

    /// Stops the workers, saves the state and flushes the logs.
    pub fn shutdown(&mut self) {
        let _ = self.engine.shutdown();
        self.save_state(Instant::now(), true);
        if let Some(l) = self.logctl.take() {
            l.shutdown();
        }
    }

    fn next_timeout(&self) -> Option<Instant> {
        [self.registrar.poll_timeout(), self.regevents.poll_timeout(), self.mt.poll_timeout(), self.calls.poll_timeout(), self.echo.poll_timeout()].into_iter().flatten().min()
    }

    fn handle_timeouts(&mut self, now: Instant) {
        if self.registrar.poll_timeout().is_some_and(|t| t <= now) {
            self.registrar.handle_timeout(now);
        }
        if self.regevents.poll_timeout().is_some_and(|t| t <= now) {
            let bindings = &self.registrar.bindings;
            let current = |impu: &str| bindings.lookup(impu).next().cloned();
            let notifies = self.regevents.handle_timeout(now, &current);
            self.send_notifies(notifies);
        }
        if self.mt.poll_timeout().is_some_and(|t| t <= now) {
            let out = self.mt.handle_timeout(now, &mut self.media_ports);
            self.send_all(out);
        }
        if self.echo.poll_timeout().is_some_and(|t| t <= now) {
            let out = self.echo.handle_timeout(now, &mut self.media_ports);
            self.send_all(out);
        }
        if self.calls.poll_timeout().is_some_and(|t| t <= now) {
            let out = self.calls.handle_timeout(now, &mut self.media_ports);
            self.send_all(out);
        }
        self.drain_binding_changes(now);
        self.save_state(now, false);
    }

    /// Starts a network-initiated call (the monitor's and the remote API's `mt_call`).
    pub fn mt_call(&mut self, impu: &str, duration: Option<Duration>) -> Result<String, String> {
        let (id, out) = self.mt.start(Instant::now(), impu, duration, &self.registrar.bindings, &mut self.media_ports)?;
        self.send_all(out);
        Ok(id)
    }

    fn handle_event(&mut self, now: Instant, ev: ToControl) {
        match ev {
            ToControl::Request { worker, tx, peer, msg } => self.on_request(now, worker, tx, peer, &msg),
            ToControl::Response { tx, msg, .. } => self.on_response(tx.is_some(), &msg),
            ToControl::Cancelled { worker, target } => {
                let mut out = self.calls.on_cancelled(worker, target);
                out.extend(self.echo.on_cancelled(worker, target, &mut self.media_ports));
                self.send_all(out);
            }
            ToControl::ServerTimeout { .. } | ToControl::TransportError { .. } => {}
        }
        self.drain_binding_changes(now);
    }

    fn on_request(&mut self, now: Instant, worker: u16, tx: Option<TxId>, peer: Peer, raw: &[u8]) {
        let Ok(msg) = Message::parse(raw) else { return };
        self.log_sip(Dir::From, peer, raw);
        if self.mt.owns(&msg) {
            let out = self.mt.on_in_dialog(now, worker, tx, &msg, &mut self.media_ports);
            self.send_all(out);
            return;
        }
        if self.echo.owns(&msg) {
            let out = self.echo.on_in_dialog(now, worker, tx, &msg, &mut self.media_ports);
            self.send_all(out);
            return;
        }
        if self.calls.owns(&msg) {
            let out = self.calls.on_in_dialog(worker, tx, &msg, &mut self.media_ports);
            self.send_all(out);
            return;
        }
        let Some(tx) = tx else { return }; // an ACK for a 2xx of no known call
        let resp = match msg.method() {
            Some(Method::Invite) if msg.to().is_ok_and(|t| t.tag().is_none()) && self.is_echo_call(&msg) => {
                let out = self.echo.on_invite(now, worker, tx, peer, &msg, &mut self.media_ports);
                self.send_all(out);
                return;
            }
            Some(Method::Invite) if msg.to().is_ok_and(|t| t.tag().is_none()) => {
                let out = self.calls.on_invite(now, worker, tx, peer, &msg, &self.registrar.hss, &self.registrar.bindings, &mut self.media_ports);
                self.send_all(out);
                return;
            }
            Some(Method::Register) => {
                self.counters.registers.inc();
                // A challenge advances SEQ_HE; a success changes bindings.
                self.dirty = true;
                register::handle(now, &mut self.registrar, &msg, register::flow_of(worker, peer))
            }
            Some(Method::Subscribe) if msg.event().is_some_and(|e| e.value.eq_ignore_ascii_case(b"reg")) => {
                let bindings = &self.registrar.bindings;
                let current = |impu: &str| bindings.lookup(impu).next().cloned();
                let (resp, notify) = self.regevents.handle_subscribe(now, &msg, worker, peer, &self.registrar.hss, &current);
                self.respond(worker, tx, peer, resp);
                self.send_notifies(notify.into_iter().collect());
                return;
            }
            Some(Method::Subscribe) => reply_to(&msg, 489, "Bad Event", &Extra { headers: vec![("Allow-Events", "reg".into())], body: None }),
            Some(Method::Ack) => return,
            _ => {
                // Calls, SMS and other services come with later issues; say so.
                self.counters.not_implemented.inc();
                let what = String::from_utf8_lossy(msg.method().map(|m| m.as_bytes()).unwrap_or(b"?")).into_owned();
                reply_to(&msg, 501, "Not Implemented", &Extra::warning(&format!("{what} is not handled by this ringcore build yet")))
            }
        };
        self.respond(worker, tx, peer, resp);
    }

    fn on_response(&mut self, in_transaction: bool, raw: &[u8]) {
        let Ok(msg) = Message::parse(raw) else { return };
        let now = Instant::now();
        let out = match self.mt.on_response(now, &msg, &mut self.media_ports) {
            Some(out) => out,
            None => match self.echo.on_response(now, &msg, &mut self.media_ports) {
                Some(out) => out,
                None if in_transaction => self.calls.on_response(now, &msg, &mut self.media_ports, &mut self.latencies),
                None => self.calls.on_stray_2xx(&msg),
            },
        };
        self.send_all(out);
        if msg.status() == Some(481) && msg.cseq().is_ok_and(|c| matches!(c.method, Method::Notify)) {
            if let Ok(cid) = msg.call_id() {
                self.regevents.drop_dialog(&String::from_utf8_lossy(cid));
            }
        }
    }

    fn respond(&mut self, worker: u16, tx: TxId, peer: Peer, msg: Vec<u8>) {
        self.log_sip(Dir::To, peer, &msg);
        self.command(worker, ToWorker::Respond { tx, msg });
    }

    fn is_echo_call(&self, msg: &Message<'_>) -> bool {
        msg.request_uri().is_ok_and(|u| self.echo.is_echo(&crate::ims::hss::normalize_impu(&String::from_utf8_lossy(u.raw))))
    }

    fn send_all(&mut self, out: Vec<(u16, ToWorker)>) {
        for (worker, cmd) in out {
            match &cmd {
                ToWorker::Respond { msg, .. } | ToWorker::SendRequest { msg, .. } | ToWorker::SendStateless { msg, .. }
                    if self.logger.enabled(Layer::Sip, Level::Info) =>
                {
                    let first = msg.split(|b| *b == b'\r').next().unwrap_or(b"");
                    let head = Head::new(Layer::Sip, Level::Info).dir(Dir::To);
                    self.logger.log_now(head, format_args!("{}", String::from_utf8_lossy(first)));
                }
                _ => {}
            }
            self.command(worker, cmd);
        }
    }

    fn command(&mut self, worker: u16, mut cmd: ToWorker) {
        self.rewriter.apply_cmd(&mut cmd);
        let ok = self.engine.commands(worker as usize).map(|q| q.send(cmd).is_ok()).unwrap_or(false);
        if !ok {
            self.counters.command_queue_full.inc();
        }
    }

    fn send_notifies(&mut self, notifies: Vec<Notify>) {
        for n in notifies {
            self.counters.notifies.inc();
            self.log_sip(Dir::To, n.peer, &n.msg);
            self.command(n.worker, ToWorker::SendRequest { peer: n.peer, msg: n.msg });
        }
    }

    /// Turns binding changes into reginfo NOTIFYs and IMS log lines.
    fn drain_binding_changes(&mut self, now: Instant) {
        while let Some(change) = self.registrar.bindings.poll_event() {
            self.dirty = true;
            for (c, ev) in &change.contacts {
                self.log_ims(change.record.id, ev, &change.record, &c.uri);
            }
            let notifies = self.regevents.on_change(now, &change);
            self.send_notifies(notifies);
        }
    }

    fn log_ims(&self, id: u64, ev: &ContactEvent, record: &Record, uri: &str) {
        let head = Head::new(Layer::Ims, Level::Info).origin(Origin::Id(id as u32));
        if self.logger.enabled(Layer::Ims, Level::Info) {
            self.logger.log_now(head, format_args!("{} {} contact {}", record.key.impi, ev.as_str(), uri));
        }
    }

    fn log_sip(&self, dir: Dir, peer: Peer, raw: &[u8]) {
        if !self.logger.enabled(Layer::Sip, Level::Info) {
            return;
        }
        let first = raw.split(|b| *b == b'\r').next().unwrap_or(b"");
        let head = Head::new(Layer::Sip, Level::Info).dir(dir).origin(Origin::Addr(peer.addr));
        let payload = if self.logger.enabled(Layer::Sip, Level::Debug) { Payload::Text(raw) } else { Payload::None };
        self.logger.log(Timestamp::now(), head, format_args!("{}", String::from_utf8_lossy(first)), payload);
    }

    fn monitor_line(&mut self, line: &str) {
        let mut out = Vec::new();
        let mut ctx = Ctx { control: self, quit: false };
        let monitor = std::mem::take(&mut ctx.control.monitor);
        let _ = monitor.execute(&mut ctx, line, &mut out);
        let quit = ctx.quit;
        self.monitor = monitor;
        self.quit |= quit;
        print!("{}", String::from_utf8_lossy(&out));
        if !self.quit {
            print!("{}", super::monitor::PROMPT);
        }
        let _ = std::io::Write::flush(&mut std::io::stdout());
    }

    /// The log service handle.
    pub fn log_control(&mut self) -> Option<&mut LogControl> {
        self.logctl.as_mut()
    }

    /// The log service handle, read-only.
    pub fn log_control_ref(&self) -> Option<&LogControl> {
        self.logctl.as_ref()
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Per-worker SIP counters.
    pub fn sip_counters(&self) -> &[Arc<SipCounters>] {
        &self.sip_counters
    }

    /// Network-initiated de-registration of every registration of `impi`
    /// (TS 24.229 5.4.1.5): the contacts are removed and every reg event
    /// subscriber is told they were deactivated. Returns the number of
    /// registrations removed. The remote API's `unregister` calls this.
    pub fn unregister(&mut self, impi: &str) -> usize {
        let keys: Vec<_> = self.registrar.bindings.records().filter(|r| r.key.impi == impi).map(|r| r.key.clone()).collect();
        let now = Instant::now();
        let n = keys.iter().filter(|k| self.registrar.bindings.remove_all(now, k, ContactEvent::Deactivated)).count();
        self.drain_binding_changes(now);
        n
    }
}

