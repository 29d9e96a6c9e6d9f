//! SMS over IP in the control thread (TS 24.341): SIP MESSAGE in and out of the SMSC.
//!
//! A MESSAGE carrying `application/vnd.3gpp.sms` is answered 202 Accepted (TS 24.341
//! 5.3.2.2) and its RP message goes to the [`Smsc`]; the SMSC's RP-ACK / RP-ERROR travels back
//! to the UE in a MESSAGE of its own from the SC's identity. MT RP-DATA goes to the recipient's
//! contact that registered `+g.3gpp.smsip` (TS 24.341 5.3.2.4); a user registered only by
//! plain SIP clients gets `text/plain` instead (reassembled from concatenated parts), and a
//! `text/plain` MESSAGE from such a client becomes SMS for its recipient. The remote API's
//! `sms` / `sms_flush` and the `sms` event are served from here too.

use super::calls::{build_request_ext, route_to, Dialog};
use super::core::Control;
use super::reply::{reply_to, Extra};
use super::sms_http::{HttpCounters, HttpLink, Inbound};
use super::sms_text::{delivers_of_text, text_of_tpdu};
use crate::endpoint::{Peer, ToWorker};
use crate::ims::bindings::{Bindings, ContactEvent};
use crate::ims::hss::{normalize_impu, Hss};
use crate::ims::terminating;
use crate::log::{Head, Layer, Level, Logger};
use crate::sip::transaction::TxId;
use crate::sip::Message;
use crate::sms::{Dcs, Reassembler, RpMessage, TpAddress, Tpdu};
use crate::smsc::{self, Event, Recipient, Smsc, Transmit, User};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The SMS body type of TS 24.341 7.
pub const CONTENT_TYPE_SMS: &str = "application/vnd.3gpp.sms";
/// Most MESSAGE requests of ours awaiting their final response.
const MAX_REQUESTS: usize = 65_536;
/// Most RP-DATA sent per call of the pump (the rest go on the next loop turn).
const MAX_SENDS_PER_PUMP: usize = 256;
/// Most remote API `sms` events kept for the lead to broadcast.
const MAX_API_EVENTS: usize = 4096;
/// Incomplete concatenated messages held for plain-text recipients, and how long.
const MAX_REASSEMBLY: usize = 1024;
const REASSEMBLY_TIMEOUT: Duration = Duration::from_secs(600);
/// IMPI prefix of recipients the core does not serve, reached through the webhook.
const EXTERNAL: &str = "http:";
/// Most HTTP submissions and webhook results taken per loop turn.
const MAX_HTTP_PER_TURN: usize = 64;

/// What one of our MESSAGEs carried (its final response decides the delivery's fate).
#[derive(Clone, Copy, Debug)]
enum Sent {
    /// RP-DATA of stored message `id`: a failure is retried; success waits for RP-ACK.
    Rp(u64),
    /// A plain-text rendering of message `id`: a 2xx delivers it.
    Text(u64),
    /// An RP-ACK / RP-ERROR to the UE: nothing depends on it.
    Answer,
}

/// Where to send a request to a user.
struct Target {
    uri: String,
    routes: Vec<String>,
    worker: u16,
    peer: Peer,
    /// The contact registered `+g.3gpp.smsip`.
    sms: bool,
}

/// The SMS service of the control thread.
pub struct SmsService {
    /// The store-and-forward SMSC.
    pub smsc: Smsc,
    local_addr: String,
    domain: String,
    /// SIP identity of the SC (From of its MESSAGEs).
    centre_uri: String,
    n_workers: usize,
    seq: u64,
    sent: HashMap<String, Sent>,
    reassembly: Reassembler<(String, String)>,
    api_events: VecDeque<Value>,
    logger: Logger,
    dirty: bool,
    /// `ue_db.impu.sms_delay` by normalised IMPU, from the configuration at start.
    delays: HashMap<String, Duration>,
    /// HTTP interworking.
    http: HttpLink,
    /// seed 000 `p_called_party_id` of the MESSAGEs to recipients.
    pub(super) called_party: super::call_files::CalledParty,
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl SmsService {
    /// The service for `cfg`; requests leave through `local_addr`.
    pub fn new(cfg: &crate::config::typed::Config, local_addr: String, n_workers: usize, logger: Logger) -> Self {
        let domain = cfg.sip.domain.clone().unwrap_or_else(|| "ims".into());
        let centre_uri = match &cfg.sms.sms_centre_address {
            Some(a) => format!("sip:{}@{domain}", a.number),
            None => format!("sip:smsc@{domain}"),
        };
        let (http, errors) = HttpLink::start(cfg.sms.sms_http_bind_addr, cfg.sms.sms_http_webhook.as_deref());
        for e in errors {
            logger.log_now(Head::new(Layer::Sms, Level::Error), format_args!("{e}"));
        }
        let scfg = smsc::Config::from_settings(&cfg.sms, (cfg.engine.limits.max_stored_sms as usize).max(1));
        SmsService {
            smsc: Smsc::new(scfg),
            local_addr,
            domain: domain.clone(),
            centre_uri,
            n_workers,
            seq: 0,
            sent: HashMap::new(),
            reassembly: Reassembler::new(MAX_REASSEMBLY),
            api_events: VecDeque::new(),
            logger,
            dirty: false,
            delays: sms_delays(cfg, &domain),
            http,
            called_party: super::call_files::CalledParty::from_config(cfg),
        }
    }

    /// The next SMSC deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.smsc.poll_timeout()
    }

    /// True (once) when the pending messages changed since the last call: the state file
    /// needs writing.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// The next remote API `sms` event (seed 000 6.7), oldest first.
    pub fn poll_api_event(&mut self) -> Option<Value> {
        self.api_events.pop_front()
    }

    /// Puts back the messages of the state file.
    pub fn restore(&mut self, now: Instant, saved: Vec<smsc::SavedMessage>) -> usize {
        self.smsc.restore(now, unix_now(), saved)
    }

    fn log(&self, level: Level, args: std::fmt::Arguments<'_>) {
        if self.logger.enabled(Layer::Sms, level) {
            self.logger.log_now(Head::new(Layer::Sms, level), args);
        }
    }

    /// An MS-to-network RP message through the SMSC, TP-DAs resolved with the HSS.
    fn handle_mo(&mut self, now: Instant, from: &User, body: &[u8], hss: &Hss) -> Option<RpMessage> {
        let (domain, delays, external) = (&self.domain, &self.delays, self.http.has_webhook());
        // The recipient a TP-DA names: the first of its `tel:` / `sip:` forms the HSS knows,
        // else (with a webhook) the number outside.
        let resolve = |da: &TpAddress| {
            let served = smsc::impu_candidates(da, domain).into_iter().find_map(|impu| {
                let impi = hss.impi_of_impu(&impu)?.to_owned();
                Some(Recipient { delay: delays.get(&impu).copied().unwrap_or_default(), user: User { impi, impu } })
            });
            served.or_else(|| (external && !da.is_alphanumeric()).then(|| external_recipient(da)))
        };
        self.smsc.handle_mo(now, unix_now(), from, body, &resolve)
    }

    /// `sms_delay` of `impu`.
    pub(super) fn delay_of(&self, impu: &str) -> Duration {
        self.delays.get(impu).copied().unwrap_or(Duration::ZERO)
    }

    /// A MESSAGE from `from` (a SIP URI) to `to` through `t`; remembers what it carried.
    fn message(&mut self, from: &str, to: &str, t: &Target, ctype: &str, body: &[u8], what: Sent) -> Option<(u16, ToWorker)> {
        if self.sent.len() >= MAX_REQUESTS {
            return None;
        }
        self.seq += 1;
        let seq = self.seq;
        let d = Dialog {
            call_id: format!("rcsms{seq:x}.{}@{}", super::ids::instance(), self.local_addr),
            local: format!("<{from}>;tag=rcs{seq:x}.{}", super::ids::instance()),
            remote: format!("<{to}>"),
            target: t.uri.clone(),
            routes: t.routes.clone(),
            cseq: 1,
            worker: t.worker,
            peer: t.peer,
        };
        let branch = format!("{}{seq:x}.{}", super::ids::BRANCH_SMS, super::ids::instance());
        // TS 24.229 5.4.3.2: P-Called-Party-ID names the recipient, when configured.
        let called: Vec<(&'static str, String)> = self.called_party.header(&normalize_impu(to), to).map(|v| ("P-Called-Party-ID", v)).into_iter().collect();
        let msg = build_request_ext(&self.local_addr, &d, "MESSAGE", 1, &branch, Some(ctype), body, Some(from), &called);
        self.sent.insert(branch, what);
        Some((t.worker, ToWorker::SendRequest { peer: t.peer, msg }))
    }

    fn push_api_event(&mut self, v: Value) {
        if self.api_events.len() >= MAX_API_EVENTS {
            self.api_events.pop_front();
        }
        self.api_events.push_back(v);
    }

    /// Turns SMSC events into log lines and remote API events.
    pub(super) fn drain_events(&mut self) {
        while let Some(ev) = self.smsc.poll_event() {
            self.dirty = true;
            match ev {
                Event::Received { id, sender, destination, tpdu, date } => {
                    self.log(Level::Info, format_args!("SMS {id} from {sender} to {destination} received"));
                    self.push_api_event(api_event(&sender, &destination, &tpdu, date));
                }
                Event::Delivered { id } => self.log(Level::Info, format_args!("SMS {id} delivered")),
                Event::Failed { id, cause } => self.log(Level::Info, format_args!("SMS {id} delivery failed (RP cause {:?})", cause.map(|c| c.to_u8()))),
                Event::Dropped { id } => self.log(Level::Info, format_args!("SMS {id} dropped")),
                Event::Refused { cause } => self.log(Level::Warn, format_args!("MO SMS refused with RP cause {}", cause.to_u8())),
            }
        }
    }
}

/// A recipient the core does not serve: its messages go to the webhook.
fn external_recipient(da: &TpAddress) -> Recipient {
    let number = smsc::address_text(da);
    Recipient { user: User { impi: format!("{EXTERNAL}{number}"), impu: number }, delay: Duration::ZERO }
}

/// `ue_db.impu.sms_delay` of every IMPU that has one.
fn sms_delays(cfg: &crate::config::typed::Config, domain: &str) -> HashMap<String, Duration> {
    cfg.ue_db
        .iter()
        .flat_map(|e| e.impu.iter())
        .filter_map(|i| {
            let d = i.sms_delay.filter(|d| d.is_finite() && *d > 0.0 && *d < 86_400.0)?;
            Some((normalize_impu(&i.public_identity(domain)), Duration::from_secs_f64(d)))
        })
        .collect()
}

/// The seed 000 6.7 `sms` event of a received message.
fn api_event(sender: &str, destination: &str, tpdu: &Tpdu, date: u64) -> Value {
    let mut m = Map::new();
    m.insert("message".into(), json!("sms"));
    m.insert("sender".into(), json!(sender));
    m.insert("destination".into(), json!(destination));
    if let Tpdu::Deliver(d) = tpdu {
        match d.user_data.text(d.dcs) {
            Some(t) => m.insert("text".into(), json!(t)),
            None => m.insert("binary".into(), json!(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, d.user_data.body()))),
        };
        m.insert("dcs".into(), json!(d.dcs.0));
    }
    m.insert("date".into(), json!(date));
    Value::Object(m)
}

/// The best contact of `impi`: one that registered `+g.3gpp.smsip`, else any (plain text);
/// with `imei` (the recipient IMPU's `ue_db.impu.imei`) only that UE's.
fn target_of(bindings: &Bindings, impi: &str, imei: Option<&str>, n_workers: usize) -> Option<Target> {
    let c = bindings
        .records()
        .filter(|r| r.key.impi == impi && !r.key.emergency)
        .flat_map(|r| r.contacts.iter().filter(move |c| terminating::from_ue(r, c, imei)))
        .max_by_key(|c| (c.sms, c.q))?;
    let (worker, peer) = route_to(&c.uri, &c.flow, n_workers);
    Some(Target { uri: c.uri.clone(), routes: c.path.clone(), worker, peer, sms: c.sms })
}

fn reachable(bindings: &Bindings, impi: &str) -> bool {
    bindings.records().any(|r| r.key.impi == impi && !r.key.emergency && !r.contacts.is_empty())
}

/// The first public identity of `impi` that is a number (`tel:` first).
fn number_of(hss: &Hss, impi: &str) -> Option<String> {
    let impus = &hss.subscriber(impi)?.impus;
    let numeric = |p: &&crate::ims::hss::PublicId| !smsc::tp_address_of_impu(&p.uri).is_alphanumeric();
    let tel = impus.iter().filter(|p| p.uri.starts_with("tel:")).find(numeric);
    tel.or_else(|| impus.iter().find(numeric)).map(|p| p.uri.clone())
}

/// The media type of a request's body, lower-cased, without parameters.
fn content_type(msg: &Message<'_>) -> String {
    msg.content_type().map(|p| String::from_utf8_lossy(p.value).to_ascii_lowercase()).unwrap_or_default()
}

/// The served identity of a request: P-Asserted-Identity, else From.
fn sender_impu(msg: &Message<'_>) -> Option<String> {
    let pai = msg.p_asserted_identities().find_map(Result::ok).map(|na| na.uri.raw);
    let uri = pai.or_else(|| msg.from().ok().map(|f| f.uri.raw))?;
    Some(normalize_impu(&String::from_utf8_lossy(uri)))
}

impl Control {
    /// A MESSAGE request outside any dialog (TS 24.341 5.3.2, RFC 3428).
    pub(super) fn on_message(&mut self, now: Instant, worker: u16, tx: TxId, peer: Peer, msg: &Message<'_>) {
        let reply = |code: u16, reason: &str, why: &str| reply_to(msg, code, reason, &Extra::warning(why));
        let Some(from_impu) = sender_impu(msg) else {
            return self.respond(worker, tx, peer, reply(400, "Bad Request", "no sender"));
        };
        // TS 24.229 5.2.6.3.1: requests from identities the HSS does not know are refused.
        let Some(impi) = self.registrar.hss.impi_of_impu(&from_impu).map(str::to_owned) else {
            return self.respond(worker, tx, peer, reply(403, "Forbidden", &format!("unknown sender {from_impu}")));
        };
        // TS 23.040 9.1.2.5: TP-OA is the sender's number: its tel: (or numeric) identity.
        let impu = number_of(&self.registrar.hss, &impi).unwrap_or(from_impu);
        let from = User { impi, impu };
        let ctype = content_type(msg);
        let resp = match ctype.as_str() {
            CONTENT_TYPE_SMS => {
                // TS 24.341 5.3.2.2: the SC accepts the MESSAGE with 202 and answers at RP level.
                self.respond(worker, tx, peer, reply_to(msg, 202, "Accepted", &Extra::default()));
                self.sms_mo(now, &from, msg.body(), worker, peer);
                return;
            }
            "text/plain" | "" => self.sms_text_mo(now, &from, msg),
            _ => reply_to(msg, 415, "Unsupported Media Type", &Extra { headers: vec![("Accept", format!("{CONTENT_TYPE_SMS}, text/plain"))], body: None }),
        };
        self.respond(worker, tx, peer, resp);
        self.sms_pump(now);
    }

    /// An RP message from `from`; the SMSC's answer goes back to the UE.
    fn sms_mo(&mut self, now: Instant, from: &User, body: &[u8], worker: u16, peer: Peer) {
        let answer = self.sms.handle_mo(now, from, body, &self.registrar.hss);
        self.sms.drain_events();
        if let Some(rp) = answer {
            let mut buf = vec![0u8; rp.buffer_len()];
            if let Ok(n) = rp.emit(&mut buf) {
                buf.truncate(n);
                // The UE's contact on the flow the RP message came in on, else its best one.
                let fallback = Target { uri: from.impu.clone(), routes: vec![], worker, peer, sms: true };
                let t = self.reply_target(&from.impi, peer).unwrap_or(fallback);
                let centre = self.sms.centre_uri.clone();
                let out = self.sms.message(&centre, &from.impu, &t, CONTENT_TYPE_SMS, &buf, Sent::Answer);
                self.send_all(now, out.into_iter().collect());
            }
        }
        self.sms_pump(now);
    }

    fn reply_target(&self, impi: &str, peer: Peer) -> Option<Target> {
        let b = &self.registrar.bindings;
        let c = b.records().filter(|r| r.key.impi == impi).flat_map(|r| r.contacts.iter()).find(|c| c.flow.peer == peer.addr);
        match c {
            Some(c) => {
                let (worker, peer) = route_to(&c.uri, &c.flow, self.sms.n_workers);
                Some(Target { uri: c.uri.clone(), routes: c.path.clone(), worker, peer, sms: c.sms })
            }
            None => target_of(b, impi, None, self.sms.n_workers),
        }
    }

    /// RFC 3428 text from a plain SIP client: stored as SMS for the Request-URI's user.
    fn sms_text_mo(&mut self, now: Instant, from: &User, msg: &Message<'_>) -> Vec<u8> {
        let to_impu = msg.request_uri().map(|u| normalize_impu(&String::from_utf8_lossy(u.raw))).unwrap_or_default();
        let Some(to_impi) = self.registrar.hss.impi_of_impu(&to_impu).map(str::to_owned) else {
            return reply_to(msg, 404, "Not Found", &Extra::warning(&format!("no subscriber {to_impu}")));
        };
        let Ok(text) = std::str::from_utf8(msg.body()) else {
            return reply_to(msg, 415, "Unsupported Media Type", &Extra::warning("text/plain must be UTF-8"));
        };
        let to = Recipient { delay: self.sms.delay_of(&to_impu), user: User { impi: to_impi, impu: to_impu } };
        let originator = smsc::tp_address_of_impu(&from.impu);
        match self.sms_submit_text(now, Some(from.clone()), to, text, originator, None, 0, None) {
            Ok(_) => reply_to(msg, 202, "Accepted", &Extra::default()),
            Err(e) => reply_to(msg, 503, "Service Unavailable", &Extra::warning(&e)),
        }
    }

    /// Stores `text` as one or more SMS-DELIVERs; returns their ids.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn sms_submit_text(&mut self, now: Instant, from: Option<User>, to: Recipient, text: &str, oa: TpAddress, dcs: Option<Dcs>, pid: u8, lifetime: Option<Duration>) -> Result<Vec<u64>, String> {
        let unix = unix_now();
        self.sms.seq += 1;
        let reference = self.sms.seq as u8; // the 8-bit concatenation reference wraps
        let parts = delivers_of_text(text, oa, smsc::timestamp_of_unix(unix), reference, dcs, pid).map_err(|e| format!("cannot encode the text: {e}"))?;
        let lifetime = lifetime.unwrap_or(self.sms.smsc.config().expires);
        let mut ids = Vec::new();
        for d in parts {
            let id = self.sms.smsc.submit_deliver(now, unix, from.clone(), to.clone(), d, lifetime).map_err(|c| format!("SMS store refused it (RP cause {})", c.to_u8()))?;
            ids.push(id);
        }
        self.sms.drain_events();
        Ok(ids)
    }

    /// Sends every RP-DATA that is due (at most [`MAX_SENDS_PER_PUMP`]).
    pub(super) fn sms_pump(&mut self, now: Instant) {
        for _ in 0..MAX_SENDS_PER_PUMP {
            let (bindings, external) = (&self.registrar.bindings, self.sms.http.has_webhook());
            let reach = |impi: &str| if impi.starts_with(EXTERNAL) { external } else { reachable(bindings, impi) };
            let Some(t) = self.sms.smsc.poll_transmit(now, &reach) else { break };
            let out = self.sms_transmit(now, &t);
            self.send_all(now, out.into_iter().collect());
        }
        self.sms.drain_events();
    }

    fn sms_transmit(&mut self, now: Instant, t: &Transmit) -> Option<(u16, ToWorker)> {
        if t.to.impi.starts_with(EXTERNAL) {
            // The webhook gets numbers: the TP-OA as text.
            let from = match &t.tpdu {
                Tpdu::Deliver(d) => smsc::address_text(&d.originator),
                _ => self.sms.centre_uri.clone(),
            };
            let text = self.plain_text(now, t, &from)?;
            if !self.sms.http.post(t.id, &from, &t.to.impu, &text) {
                self.sms.smsc.handle_transport_failure(now, t.id);
            }
            return None;
        }
        let imei = self.registrar.hss.imei_filter(&t.to.impu);
        let Some(target) = target_of(&self.registrar.bindings, &t.to.impi, imei, self.sms.n_workers) else {
            self.sms.smsc.handle_transport_failure(now, t.id);
            return None;
        };
        let centre = self.sms.centre_uri.clone();
        if target.sms {
            // TS 24.341 5.3.2.4: RP-DATA in a MESSAGE from the SC to the UE.
            let rp = RpMessage::Data(t.rp);
            let mut buf = vec![0u8; rp.buffer_len()];
            let n = rp.emit(&mut buf).ok()?;
            let out = self.sms.message(&centre, &t.to.impu, &target, CONTENT_TYPE_SMS, buf.get(..n)?, Sent::Rp(t.id));
            if out.is_none() {
                self.sms.smsc.handle_transport_failure(now, t.id);
            }
            return out;
        }
        // A plain SIP client: the text, once every part of a concatenated message is in.
        let from = t.from.as_ref().map_or(centre, |u| u.impu.clone());
        let text = self.plain_text(now, t, &from)?;
        let out = self.sms.message(&from, &t.to.impu, &target, "text/plain;charset=UTF-8", text.as_bytes(), Sent::Text(t.id));
        if out.is_none() {
            self.sms.smsc.handle_transport_failure(now, t.id);
        }
        out
    }

    /// The text of a message for a text-only recipient; None while it is a part held for
    /// reassembly (such a part counts as delivered).
    fn plain_text(&mut self, now: Instant, t: &Transmit, from: &str) -> Option<String> {
        let Tpdu::Deliver(d) = &t.tpdu else { return Some(text_of_tpdu(&t.tpdu)) };
        let key = (from.to_owned(), t.to.impi.clone());
        self.sms.reassembly.expire(now.checked_sub(REASSEMBLY_TIMEOUT).unwrap_or(now));
        match self.sms.reassembly.handle_part(now, key, &d.user_data) {
            Ok(Some(whole)) => Some(whole.text(d.dcs).unwrap_or_else(|| text_of_tpdu(&t.tpdu))),
            Ok(None) => {
                self.sms.smsc.handle_delivered(now, unix_now(), t.id);
                None
            }
            Err(_) => Some(text_of_tpdu(&t.tpdu)),
        }
    }

    /// HTTP submissions and webhook results that came in since the last turn.
    fn sms_http_poll(&mut self, now: Instant) {
        for _ in 0..MAX_HTTP_PER_TURN {
            let Some(Inbound { sub, reply }) = self.sms.http.inbound.as_ref().and_then(|r| r.try_recv().ok()) else { break };
            let answer = self.sms_http_submit(now, &sub);
            if answer.0 == 202 {
                self.sms.http.counters.inbound_accepted += 1;
            } else {
                self.sms.http.counters.inbound_refused += 1;
            }
            let _ = reply.try_send(answer);
        }
        for _ in 0..MAX_HTTP_PER_TURN {
            let Some((id, status)) = self.sms.http.results.as_ref().and_then(|r| r.try_recv().ok()) else { break };
            if status.is_some_and(|s| (200..300).contains(&s)) {
                self.sms.http.counters.webhook_ok += 1;
                self.sms.smsc.handle_delivered(now, unix_now(), id);
            } else {
                self.sms.http.counters.webhook_failed += 1;
                self.sms.smsc.handle_transport_failure(now, id);
            }
        }
    }

    /// `POST /sms`: stores the text for a served user (202 with the ids), else 404.
    fn sms_http_submit(&mut self, now: Instant, sub: &smsc::http::Submission) -> (u16, Value) {
        let hss = &self.registrar.hss;
        let found = if sub.to.contains(':') {
            let impu = normalize_impu(&sub.to);
            hss.impi_of_impu(&impu).map(|i| User { impi: i.to_owned(), impu })
        } else {
            let da = smsc::tp_address_of_impu(&format!("tel:{}", sub.to));
            smsc::impu_candidates(&da, &self.sms.domain).into_iter().find_map(|impu| Some(User { impi: hss.impi_of_impu(&impu)?.to_owned(), impu }))
        };
        let Some(user) = found else { return (404, json!({ "error": format!("no subscriber {}", sub.to) })) };
        let to = Recipient { delay: self.sms.delay_of(&user.impu), user };
        let oa = smsc::tp_address_of_impu(&sub.from);
        match self.sms_submit_text(now, None, to, &sub.text, oa, None, 0, None) {
            Ok(ids) => (202, json!({ "ids": ids })),
            Err(e) => (503, json!({ "error": e })),
        }
    }

    /// Counters of the HTTP interworking.
    pub fn sms_http_counters(&self) -> HttpCounters {
        self.sms.http.counters
    }

    /// A response to one of our MESSAGEs; false when it is not ours.
    pub(super) fn sms_on_response(&mut self, now: Instant, msg: &Message<'_>) -> bool {
        let Some(branch) = msg.via_top().ok().and_then(|v| v.branch()).map(|b| String::from_utf8_lossy(b).into_owned()) else { return false };
        let Some(code) = msg.status() else { return false };
        if !branch.starts_with(super::ids::BRANCH_SMS) || code < 200 {
            return self.sms.sent.contains_key(&branch);
        }
        let Some(what) = self.sms.sent.remove(&branch) else { return false };
        match (what, code) {
            (Sent::Rp(_), 200..=299) | (Sent::Answer, _) => {}
            (Sent::Text(id), 200..=299) => self.sms.smsc.handle_delivered(now, unix_now(), id),
            (Sent::Rp(id) | Sent::Text(id), _) => self.sms.smsc.handle_transport_failure(now, id),
        }
        self.sms.drain_events();
        self.sms_pump(now);
        true
    }

    /// SMSC timers, then whatever became due.
    pub(super) fn sms_on_timeout(&mut self, now: Instant) {
        self.sms_http_poll(now);
        if self.sms.smsc.poll_timeout().is_some_and(|t| t <= now) {
            self.sms.smsc.handle_timeout(now, unix_now());
        }
        self.sms_pump(now);
    }

    /// A (re-)registration makes the user's waiting messages due (TS 23.040 3.2.5 alerting).
    pub(super) fn sms_on_binding_change(&mut self, now: Instant, change: &crate::ims::bindings::Change) {
        let registered = change.contacts.iter().any(|(_, ev)| matches!(ev, ContactEvent::Registered | ContactEvent::Refreshed));
        if registered && !change.record.key.emergency {
            self.sms.smsc.handle_registered(now, &change.record.key.impi);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::sms_text::deliver;
    use super::*;
    use crate::sms::UserData;

    #[test]
    fn api_event_has_the_seed_fields() {
        let (ud, _) = UserData::from_text("hello", None).unwrap();
        let d = deliver(TpAddress::international("+1").unwrap(), smsc::timestamp_of_unix(5), Dcs::GSM7, 0, ud);
        let v = api_event("tel:+1", "tel:+2", &Tpdu::Deliver(d), 5);
        assert_eq!(v["sender"], "tel:+1");
        assert_eq!(v["destination"], "tel:+2");
        assert_eq!(v["text"], "hello");
        assert_eq!((v["dcs"].as_u64(), v["date"].as_u64()), (Some(0), Some(5)));
    }

    #[test]
    fn an_sms_to_an_impu_with_an_imei_goes_to_that_ue_only() {
        use crate::ims::bindings::{Contact, ContactUpdate, RecordKey};
        let (t0, mut b) = (Instant::now(), Bindings::new(4));
        for (imei, port, sms) in [("35209900176148", 5061, false), ("35209900176149", 5062, true)] {
            let peer = std::net::SocketAddr::from(([10, 0, 0, 2], port));
            let c = Contact { sms, ..Contact::udp_for_test(&format!("sip:b@{peer}"), t0 + std::time::Duration::from_secs(60), peer, imei) };
            let key = RecordKey { impi: "b@ims".into(), imei: imei.into(), emergency: false };
            b.update(t0, &key, &["sip:b@ims".to_string()], vec![ContactUpdate { contact: c, remove: false }]).expect("room");
        }
        let uri = |imei: Option<&str>| target_of(&b, "b@ims", imei, 1).map(|t| t.uri);
        assert_eq!(uri(None).as_deref(), Some("sip:b@10.0.0.2:5062"), "no filter: the UE that announced SMS over IP");
        assert_eq!(uri(Some("352099001761480")).as_deref(), Some("sip:b@10.0.0.2:5061"));
        assert_eq!(uri(Some("35209900176140")), None, "that UE is not registered: delivery waits");
    }
}