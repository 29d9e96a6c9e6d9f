//! The control loop: waits for worker events, the next timer or a monitor
//! line; dispatches requests to the registrar and the reg event package;
//! sends the answers back as worker commands.

#[path = "core_callflow.rs"]
mod callflow;
#[path = "core_emergency.rs"]
mod emergency;
#[path = "core_dialogs.rs"]
mod dialogs;
pub use dialogs::UserDialogs;
#[path = "core_dialog_log.rs"]
mod dialog_log;
#[path = "core_send.rs"]
mod send;

use super::anchor::MediaPorts;
use super::calls::Calls;
use super::echo::Echo;
use super::ids::BranchOwner;
use super::mt_call::MtCalls;
use super::monitor::Monitor;
use super::monitor_ctx::Ctx;
use super::regevent::{Notify, RegEvents};
use super::reply::{reply_to, Extra};
use crate::config::typed::Config;
use crate::endpoint::{Peer, ToControl, ToWorker};
use crate::engine::Engine;
use crate::ims::bindings::{ContactEvent, Record};
use crate::ims::registrar::Registrar;
use crate::log::{Dir, Head, Layer, Level, LogControl, Logger, Origin, Payload, Timestamp};
use crate::sip::transaction::TxId;
use crate::sip::{Message, MessageIndex, Method};
use crate::stats::sip_methods::{Direction, SipMethodCounters};
use crate::stats::{Counter, SipCounters};
use super::net::NetIo;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest the loop sleeps, so monitor lines and the stop flag are seen promptly.
const MAX_SLEEP: Duration = Duration::from_millis(50);
/// Shortest interval between two log_get re-examinations.
const LOG_CHECK: Duration = Duration::from_millis(20);
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
    /// The media counters the workers publish (dialog_get medias).
    pub media_board: Arc<crate::media::MediaBoard>,
}

/// The control thread's state.
pub struct Control {
    cfg: Config,
    pub(super) engine: Engine<ToWorker, ToControl>,
    /// The registrar with the HSS and the bindings.
    pub registrar: Registrar,
    regevents: RegEvents,
    pub(super) calls: Calls,
    pub(super) echo: Echo,
    media_ports: MediaPorts,
    /// Network-initiated calls.
    pub mt: MtCalls,
    /// Sec-agree and the IPsec SA sets.
    ipsec: super::ipsec::IpsecCore,
    logger: Logger,
    logctl: Option<LogControl>,
    monitor: Monitor,
    sip_counters: Vec<Arc<SipCounters>>,
    /// Control-thread counters.
    pub counters: ControlCounters,
    /// Registration and call set-up latency histograms (read by the API and metrics).
    pub latencies: crate::stats::latency::Latencies,
    /// SIP messages by method and status seen by this thread.
    pub sip_methods: SipMethodCounters,
    /// Remote API state (stats baselines, pending events).
    pub(super) api_state: super::api_views::ApiState,
    reg_latency: super::reg_latency::RegisterLatency,
    /// The remote API and metrics sockets (None until `start_net`).
    net: Option<NetIo>,
    quit: bool,
    /// ue_db_filename, resolved, and whether the state changed since the last save.
    state_file: Option<std::path::PathBuf>,
    dirty: bool,
    last_save: Instant,
    /// custom_headers and user_agent applied to every message sent.
    rewriter: super::custom_headers::Rewriter,
    /// SMS over IP (see super::sms).
    pub(super) sms: super::sms::SmsService,
    /// The media counters the workers publish (dialog_get medias).
    pub(super) media_board: Arc<crate::media::MediaBoard>,
    /// Event lists, media sections and last SDP of the dialogs (dialog_get, dialog_set).
    pub(super) dialog_log: super::dialog_log::DialogLog,
    /// Commands were queued this loop turn and the workers not woken yet.
    commands_queued: bool,
}

/// The `host:port` requests leave from (the first sip_addr).
fn local_addr_of(cfg: &Config) -> String {
    cfg.sip.sip_addr.first().map(|a| a.addr.to_string()).unwrap_or_else(|| "127.0.0.1:5060".into())
}

/// The state file is rewritten at most this often.
const SAVE_PERIOD: Duration = Duration::from_secs(1);

impl Control {
    /// Assembles the control state around a started engine.
    pub fn new(p: Parts) -> Self {
        let sms = super::sms::SmsService::new(&p.cfg, local_addr_of(&p.cfg), p.engine.n_workers(), p.logger.clone());
        let ipsec = super::ipsec::IpsecCore::new(&p.cfg, p.engine.n_workers());
        let max_dialogs = p.cfg.engine.limits.max_dialogs as usize;
        Control {
            ipsec,
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
            sip_methods: SipMethodCounters::default(),
            api_state: super::api_views::ApiState::new(),
            reg_latency: super::reg_latency::RegisterLatency::default(),
            net: None,
            quit: false,
            state_file: None,
            dirty: false,
            last_save: Instant::now(),
            sms,
            dialog_log: super::dialog_log::DialogLog::new(max_dialogs),
            media_board: p.media_board,
            commands_queued: false,
        }
    }

    /// Restores the state of `path` (ue_db_filename) and keeps it up to date.
    pub fn persist_to(&mut self, path: std::path::PathBuf) -> Result<crate::ims::persist::Restored, String> {
        let r = &mut self.registrar;
        let (restored, sms) = crate::ims::persist::load_with_sms(&path, Instant::now(), &mut r.bindings, &mut r.hss)?;
        self.sms.restore(Instant::now(), sms);
        self.state_file = Some(path);
        Ok(restored)
    }

    /// Writes the state file when it changed (at most every [`SAVE_PERIOD`], or now if `force`).
    fn save_state(&mut self, now: Instant, force: bool) {
        self.dirty |= self.sms.take_dirty();
        let Some(path) = &self.state_file else { return };
        if !self.dirty || (!force && now.saturating_duration_since(self.last_save) < SAVE_PERIOD) {
            return;
        }
        if let Err(e) = crate::ims::persist::save_with_sms(path, now, &self.registrar.bindings, &self.registrar.hss, &self.sms.smsc.save()) {
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
        let mut net = self.net.take().or_else(|| NetIo::new(self.engine.events().fd(), None, None).ok());
        let mut last_log = (None, Instant::now());
        while !self.quit && !stop.load(Ordering::Relaxed) {
            // The clock is read before the wait (to size it) and once after it: the
            // turn's events, timers and API I/O are handled at that instant.
            let now = Instant::now();
            let next = [self.next_timeout(), net.as_ref().and_then(NetIo::poll_timeout)].into_iter().flatten().min();
            let wait = next.map_or(MAX_SLEEP, |t| t.saturating_duration_since(now).min(MAX_SLEEP));
            match &mut net {
                Some(n) => {
                    // queue.rs: announce the sleep, then block only if no event is queued.
                    let idle = self.engine.events().prepare_wait();
                    n.wait(idle, wait);
                    self.engine.events().finish_wait();
                }
                None => std::thread::sleep(wait.min(Duration::from_millis(1))),
            }
            let now = Instant::now();
            for _ in 0..EVENT_BATCH {
                let Some((_, ev)) = self.engine.events().try_recv() else { break };
                self.handle_event(now, ev);
            }
            self.handle_timeouts(now);
            if let Some(n) = &mut net {
                self.service_net(now, n, &mut last_log);
            }
            if let Some(rx) = lines {
                while let Ok(line) = rx.try_recv() {
                    self.monitor_line(&line);
                }
            }
            self.wake_workers();
        }
        if let Some(n) = &mut net {
            // RFC 6455 7.4.1 1001 "going away" to every API client still connected.
            n.shutdown(Instant::now());
        }
    }

    /// Opens the remote API (com_addr) and metrics (metrics_addr) listeners.
    pub fn start_net(&mut self) -> Result<(), String> {
        let api = super::api_setup::server(&self.cfg)?;
        let metrics = self.cfg.engine.metrics_addr;
        let fd = self.engine.events().fd();
        let net = NetIo::new(fd, api, metrics)?;
        if let Some(a) = net.api_addr() {
            eprintln!("ringcore: remote API on {}://{a}", if net.api_tls() { "wss" } else { "ws" });
        }
        if let Some(a) = net.metrics_addr() {
            eprintln!("ringcore: metrics on http://{a}/metrics");
        }
        self.net = Some(net);
        Ok(())
    }

    /// Runs API and metrics I/O, log_get waits and API events for one loop turn.
    fn service_net(&mut self, now: Instant, net: &mut NetIo, last_log: &mut (Option<u64>, Instant)) {
        net.process(now, self);
        // Pending log_get requests are re-examined when the ring grew, at most
        // every LOG_CHECK (each check serializes up to `max` logs).
        if now.saturating_duration_since(last_log.1) >= LOG_CHECK {
            let newest = self.logctl.as_ref().and_then(LogControl::last_index);
            if newest != last_log.0 {
                *last_log = (newest, now);
                net.logs_changed(now, self);
            }
        }
        if let Some(server) = net.api_server() {
            self.api_events(server);
        }
        net.process(now, self);
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
        [self.registrar.poll_timeout(), self.regevents.poll_timeout(), self.mt.poll_timeout(), self.sms.poll_timeout(), self.calls.poll_timeout(), self.echo.poll_timeout()].into_iter().flatten().min()
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
            self.send_all(now, out);
        }
        if self.echo.poll_timeout().is_some_and(|t| t <= now) {
            let out = self.echo.handle_timeout(now, &mut self.media_ports);
            self.send_all(now, out);
        }
        if self.calls.poll_timeout().is_some_and(|t| t <= now) {
            let out = self.calls.handle_timeout(now, &mut self.media_ports, &mut self.latencies);
            self.send_all(now, out);
        }
        self.drain_binding_changes(now);
        self.sms_on_timeout(now);
        self.save_state(now, false);
    }

    /// Starts a network-initiated call to `impu` (the monitor's and the remote API's
    /// `mt_call`) as `args` asks.
    pub fn mt_call(&mut self, impu: &str, args: &super::mt_call::MtCallArgs<'_>) -> Result<String, String> {
        let template = args.sdp_file.map(super::call_files::read_request_sdp).transpose()?;
        let caller = args.caller.map(|c| self.impu_uri(c));
        let asserted = caller.as_deref().is_some_and(|c| self.registrar.hss.impi_of_impu(c).is_some());
        let impu = self.registrar.hss.canonical(crate::ims::hss::normalize_impu(impu));
        let imei = self.registrar.hss.imei_filter(&impu);
        let req = super::mt_call::MtRequest {
            duration: args.duration,
            template: template.as_ref(),
            caller: caller.as_deref().map(|c| (c, asserted)),
            imei,
            sos: args.sos,
            contact: args.contact,
        };
        let now = Instant::now();
        let (id, out) = self.mt.start(now, &impu, req, &self.registrar.bindings, &mut self.media_ports)?;
        self.send_all(now, out);
        Ok(id)
    }

    fn handle_event(&mut self, now: Instant, ev: ToControl) {
        /// The message of an event: rebuilt from the worker's parse when it came with one,
        /// else parsed here.
        fn rebuild<'a>(raw: &'a [u8], index: Option<&MessageIndex>) -> Option<Message<'a>> {
            index.and_then(|i| Message::from_index(raw, i)).or_else(|| Message::parse(raw).ok())
        }
        match ev {
            ToControl::Request { worker, tx, peer, msg, index } => {
                // Borrowed from here on: a Message is large, moving it copies it.
                let parsed = rebuild(&msg, index.as_ref());
                self.log_dialog_received(now, &msg, parsed.as_ref());
                let Some(parsed) = parsed.as_ref() else { return };
                self.on_request(now, worker, tx, peer, parsed)
            }
            ToControl::Response { tx, msg, index, .. } => {
                let parsed = rebuild(&msg, index.as_ref());
                self.log_dialog_received(now, &msg, parsed.as_ref());
                let Some(parsed) = parsed.as_ref() else { return };
                self.on_response(now, tx.is_some(), parsed)
            }
            ToControl::Cancelled { worker, target } => {
                let mut out = self.calls.on_cancelled(worker, target);
                out.extend(self.echo.on_cancelled(worker, target, &mut self.media_ports));
                self.send_all(now, out);
            }
            ToControl::ServerTimeout { .. } | ToControl::TransportError { .. } => {}
        }
        self.drain_binding_changes(now);
    }

    fn on_request(&mut self, now: Instant, worker: u16, tx: Option<TxId>, peer: Peer, msg: &Message<'_>) {
        let raw = msg.buffer();
        self.sip_methods.count_parsed(Direction::In, msg);
        self.log_sip(Dir::From, peer, raw);
        if self.mt.owns(msg) {
            let out = self.mt.on_in_dialog(now, worker, tx, msg, &mut self.media_ports);
            self.send_all(now, out);
            return;
        }
        if self.echo.owns(msg) {
            let out = self.echo.on_in_dialog(now, worker, tx, msg, &mut self.media_ports);
            self.send_all(now, out);
            return;
        }
        if self.calls.owns(msg) {
            let out = self.calls.on_in_dialog(worker, tx, msg, &mut self.media_ports);
            self.send_all(now, out);
            return;
        }
        let Some(tx) = tx else { return }; // an ACK for a 2xx of no known call
        let method = msg.method();
        // RFC 3261 12.2: an INVITE without a To tag is outside any dialog (the To header
        // is parsed once for the arms below).
        let initial = matches!(method, Some(Method::Invite)) && msg.to().is_ok_and(|t| t.tag().is_none());
        let resp = match method {
            Some(Method::Invite) if initial && self.on_modified_invite(worker, tx, peer, msg) => return,
            Some(Method::Invite) if initial && self.on_emergency_invite(now, worker, tx, peer, msg) => return,
            Some(Method::Invite) if initial && self.is_echo_call(msg) => {
                let imei = self.caller_imei(msg);
                let out = self.echo.on_invite(now, worker, tx, peer, msg, imei, &mut self.media_ports);
                self.send_all(now, out);
                return;
            }
            Some(Method::Invite) if initial => {
                let out = self.calls.on_invite(super::calls::Incoming { now, worker, tx, peer, msg }, &self.registrar.hss, &self.registrar.bindings, &mut self.media_ports);
                self.send_all(now, out);
                return;
            }
            Some(Method::Register) if self.on_modified_register(worker, tx, peer, msg) => return,
            Some(Method::Register) => {
                self.counters.registers.inc();
                // A challenge advances SEQ_HE; a success changes bindings.
                self.dirty = true;
                let (resp, cmds) = super::ipsec::register(now, &mut self.ipsec, &mut self.registrar, worker, peer, msg);
                self.reg_latency.observe(now, msg, &resp, &self.registrar.hss, &mut self.latencies);
                self.log_sa_commands(&cmds.before);
                self.send_all(now, cmds.before);
                self.respond(worker, tx, peer, resp);
                self.log_sa_commands(&cmds.after);
                self.send_all(now, cmds.after);
                self.log_ipsec();
                return;
            }
            // seed 000 callflow_modifier methods MESSAGE and SUBSCRIBE.
            Some(Method::Message | Method::Subscribe) if self.on_modified_request(worker, tx, peer, msg) => return,
            Some(Method::Subscribe) if msg.event().is_some_and(|e| e.value.eq_ignore_ascii_case(b"reg")) => {
                let bindings = &self.registrar.bindings;
                let current = |impu: &str| bindings.lookup(impu).next().cloned();
                let (resp, notify) = self.regevents.handle_subscribe(now, msg, worker, peer, &self.registrar.hss, &current);
                self.respond(worker, tx, peer, resp);
                self.send_notifies(notify.into_iter().collect());
                return;
            }
            Some(Method::Subscribe) => reply_to(msg, 489, "Bad Event", &Extra { headers: vec![("Allow-Events", "reg".into())], body: None }),
            Some(Method::Ack) => return,
            Some(Method::Message) => return self.on_message(now, worker, tx, peer, msg),
            _ => {
                // Calls, SMS and other services come with later issues; say so.
                self.counters.not_implemented.inc();
                let what = String::from_utf8_lossy(msg.method().map(|m| m.as_bytes()).unwrap_or(b"?")).into_owned();
                reply_to(msg, 501, "Not Implemented", &Extra::warning(&format!("{what} is not handled by this ringcore build yet")))
            }
        };
        self.respond(worker, tx, peer, resp);
    }

    fn on_response(&mut self, now: Instant, in_transaction: bool, msg: &Message<'_>) {
        self.sip_methods.count_parsed(Direction::In, msg);
        // ids.rs: the branch's prefix names the service whose request this answers; the
        // others are not asked (each lookup costs a Via parse and a hash).
        let branch = super::calls::top_branch(msg);
        let owner = branch.map_or(BranchOwner::Call, BranchOwner::of);
        let out = match owner {
            BranchOwner::Sms => {
                self.sms_on_response(now, msg);
                return;
            }
            BranchOwner::Mt => match self.mt.on_response(now, msg, &mut self.media_ports) {
                Some(out) if msg.status().is_some_and(|c| c >= 300) => {
                    // A final error can end an MT call (no message from ringcore follows).
                    self.log_dialog_ended(now, &String::from_utf8_lossy(msg.call_id().unwrap_or(b"")));
                    out
                }
                Some(out) => out,
                None => return,
            },
            BranchOwner::EchoOrCall | BranchOwner::Call => {
                let echo = if owner == BranchOwner::EchoOrCall { self.echo.on_response(now, msg, &mut self.media_ports) } else { None };
                match echo {
                    Some(out) => out,
                    None if in_transaction => match branch {
                        Some(b) => self.calls.on_response(now, b, msg, &mut self.media_ports, &mut self.latencies),
                        None => Vec::new(),
                    },
                    None => self.calls.on_stray_2xx(msg),
                }
            }
        };
        self.send_all(now, out);
        if msg.status() == Some(481) && msg.cseq().is_ok_and(|c| matches!(c.method, Method::Notify)) {
            if let Ok(cid) = msg.call_id() {
                self.regevents.drop_dialog(&String::from_utf8_lossy(cid));
            }
        }
    }

    pub(super) fn respond(&mut self, worker: u16, tx: TxId, peer: Peer, msg: Vec<u8>) {
        self.sip_methods.count(Direction::Out, &msg);
        self.log_sip(Dir::To, peer, &msg);
        self.command(worker, ToWorker::Respond { tx, msg });
    }

    fn is_echo_call(&self, msg: &Message<'_>) -> bool {
        msg.request_uri().is_ok_and(|u| self.echo.is_echo(&crate::ims::hss::normalize_impu(&String::from_utf8_lossy(u.raw))))
    }

    /// Wakes the workers that sleep after commands were queued this turn.
    fn wake_workers(&mut self) {
        if std::mem::take(&mut self.commands_queued) {
            for w in 0..self.engine.n_workers() {
                if let Some(q) = self.engine.commands(w) {
                    q.wake();
                }
            }
        }
    }

    /// Rewrites (custom headers, user agent) and queues `cmd` for `worker`.
    fn command(&mut self, worker: u16, mut cmd: ToWorker) {
        self.rewriter.apply_cmd(&mut cmd);
        self.queue(worker, cmd);
    }

    /// Queues `cmd`, rewritten already, for `worker`.
    fn queue(&mut self, worker: u16, cmd: ToWorker) {
        // Woken once per loop turn (`wake_workers`), not once per command.
        self.commands_queued = true;
        let ok = self.engine.commands(worker as usize).map(|q| q.send_batched(cmd).is_ok()).unwrap_or(false);
        if !ok {
            self.counters.command_queue_full.inc();
        }
    }

    fn send_notifies(&mut self, notifies: Vec<Notify>) {
        for n in notifies {
            self.counters.notifies.inc();
            self.sip_methods.count(Direction::Out, &n.msg);
            self.log_sip(Dir::To, n.peer, &n.msg);
            self.command(n.worker, ToWorker::SendRequest { peer: n.peer, msg: n.msg });
        }
    }

    /// Turns binding changes into reginfo NOTIFYs and IMS log lines.
    fn drain_binding_changes(&mut self, now: Instant) {
        while let Some(change) = self.registrar.bindings.poll_event() {
            self.dirty = true;
            self.api_state.user_changed(&change.record.key.impi);
            if change.record.contacts.is_empty() {
                // TS 33.203 7.4: the SAs live as long as the registration.
                let cmds = self.ipsec.remove_impi(&change.record.key.impi);
                self.log_sa_commands(&cmds);
                self.send_all(now, cmds);
            }
            for (c, ev) in &change.contacts {
                self.log_ims(change.record.id, ev, &change.record, &c.uri);
            }
            self.sms_on_binding_change(now, &change);
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

    /// Calls between UEs by outcome (final status to the caller), for metrics.
    pub fn calls_outcomes(&self) -> std::collections::BTreeMap<u16, u64> {
        self.calls.outcomes.clone()
    }

    /// The ESP counters summed over the workers (metrics).
    pub fn ipsec_counters(&self) -> crate::endpoint::EspSnapshot {
        self.ipsec.counters()
    }

    /// The SAs for the remote API's `ipsec` message.
    pub fn ipsec_sas(&self) -> serde_json::Value {
        self.ipsec.ipsec_sas()
    }

    /// Logs SA set installs and removals on the ipsec layer (info).
    fn log_sa_commands(&self, cmds: &[(u16, ToWorker)]) {
        if !self.logger.enabled(Layer::Ipsec, Level::Info) {
            return;
        }
        for (worker, cmd) in cmds {
            if let Some(line) = super::ipsec::describe(cmd) {
                let head = Head::new(Layer::Ipsec, Level::Info);
                self.logger.log_now(head, format_args!("worker {worker}: {line}"));
            }
        }
    }

    /// Logs the SA sets and ESP counters on the ipsec layer (debug).
    fn log_ipsec(&self) {
        if !self.logger.enabled(Layer::Ipsec, Level::Debug) {
            return;
        }
        let c = self.ipsec.counters();
        let e = c.esp;
        let head = Head::new(Layer::Ipsec, Level::Debug);
        self.logger.log_now(
            head,
            format_args!(
                "sets={} ok_in={} ok_out={} bad_icv={} replay={} unknown_spi={} truncated={} malformed={} out_failed={} selector={} install_failed={}",
                self.ipsec.set_count(), e.ok_in, e.ok_out, e.bad_icv, e.replay, e.unknown_spi, e.truncated, e.malformed, e.out_failed, c.selector, c.install_failed
            ),
        );
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The configuration, for run-time changes (remote API config_set).
    pub(super) fn config_mut(&mut self) -> &mut Config {
        &mut self.cfg
    }

    /// The log producer handle of the control thread.
    pub(super) fn logger_ref(&self) -> &Logger {
        &self.logger
    }

    /// Ends the loop after the current turn (monitor and API `quit`).
    pub(super) fn request_quit(&mut self) {
        self.quit = true;
    }

    /// The echo service (API impu_add / impu_del with impi "echo").
    pub(super) fn echo_mut(&mut self) -> &mut Echo {
        &mut self.echo
    }

    /// The persisted state (HSS, bindings) changed.
    pub(super) fn mark_dirty(&mut self) {
        self.dirty = true;
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

