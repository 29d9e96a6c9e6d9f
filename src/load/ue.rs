//! One emulated UE as a sans-IO state machine: it is told to start an action at an
//! intended time ([`Ue::start`]), is fed datagrams ([`Ue::handle_datagram`]) and timeouts
//! ([`Ue::handle_timeout`]), and is asked what to send ([`Ue::poll_transmit`]), when to
//! wake ([`Ue::poll_timeout`]) and what it measured ([`Ue::poll_event`]). It never reads
//! a clock or touches a socket.
//!
//! Roles: registration (initial, refresh, de-registration, each answering a digest
//! challenge), caller (INVITE → 180/200 → ACK, RTP for the hold time, BYE) and callee
//! (180, 200 with SDP after the answer delay, RTP reflected back, 200 to BYE). Requests
//! are retransmitted over UDP (RFC 3261 17.1.1.2 Timer A, 17.1.2.2 Timer E) until the
//! run's transaction timeout (Timer B/F); 2xx to INVITE are retransmitted until the ACK
//! (13.3.1.4). With SMS on, MESSAGE traffic goes to the UE's [`super::sms::SmsAgent`].

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::{Sim, UeSqnStore};
use crate::sip::{Message, Method};

use super::answer::{authorization, Usim};
use super::metrics::{Action, Cause, Metric};
use super::profile::Identity;
use super::rtp::{is_rtp, RtpStream};
use super::sipmsg::{self, build_into, DialogOut, InDialog, Invite, Register};
use super::sms::{SmsAgent, SmsConfig, SmsEvent};

/// RFC 3261 17.1.1.1 T1.
pub const T1: Duration = Duration::from_millis(500);
/// RFC 3261 17.1.2.2 T2.
pub const T2: Duration = Duration::from_secs(4);

/// What every UE of a run shares.
#[derive(Debug, Clone)]
pub struct Shared {
    /// Where every request goes (the P-CSCF, used as outbound proxy).
    pub target: SocketAddr,
    /// REGISTER Request-URI (`sip:domain`).
    pub registrar: String,
    /// The USIM algorithm bound to K (`None`: MD5 users).
    pub sim: Option<Sim>,
    /// Registration Expires.
    pub expires: u32,
    /// Transaction timeout (Timer B/F).
    pub timeout: Duration,
    /// Call hold time (200 received → BYE).
    pub hold: Duration,
    /// Callee: 180 → 200 delay.
    pub answer_delay: Duration,
    /// Origin of the RTP send stamps.
    pub epoch: Instant,
    /// Distinguishes the Call-IDs of successive runs.
    pub run_id: u32,
}

/// What an action asks of a UE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start<'a> {
    /// Register (`Action::Register`/`Reregister`) or de-register (`Action::Deregister`).
    Register(Action),
    /// Call `uri` (`Action::EchoCall`/`UeCall`).
    Call(Action, &'a str),
    /// Send an SMS to the number `to` (`Action::Sms`, see [`super::sms`]).
    Sms(&'a str),
}

/// What a UE measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UeEvent {
    /// A latency sample.
    Sample(Metric, Duration),
    /// An action ended: `Ok`, or the cause and SIP status of its failure.
    Finished(Action, Result<(), (Cause, Option<u16>)>),
    /// The media totals of a finished call.
    Media {
        /// Packets sent.
        sent: u64,
        /// Echoes received.
        received: u64,
        /// Round-trip interarrival jitter (µs).
        jitter_us: u64,
    },
    /// SMS traffic the shard routes or counts.
    Sms(SmsEvent),
}

/// A datagram to send: `len` bytes written into the caller's buffer, to `dst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Destination.
    pub dst: SocketAddr,
    /// Bytes written.
    pub len: usize,
}

/// A running client transaction (the request bytes are in `Ue::req`).
#[derive(Debug, Clone, Copy)]
struct ClientTx {
    invite: bool,
    next_retx: Option<Instant>,
    interval: Duration,
    deadline: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutPhase {
    Inviting,
    Confirmed { bye_at: Instant },
    Byeing { intended: Instant },
}

#[derive(Debug)]
struct CallOut {
    action: Action,
    intended: Instant,
    got_180: bool,
    phase: OutPhase,
    dialog: DialogOut,
    media: Option<RtpStream>,
    media_to: Option<SocketAddr>,
    failed: Option<(Cause, Option<u16>)>,
}

#[derive(Debug)]
struct CallIn {
    answer_at: Option<Instant>,
    retx: Option<(Instant, Duration)>,
    give_up: Instant,
    confirmed: bool,
}

#[derive(Debug)]
enum Op {
    Idle,
    Reg { action: Action, intended: Instant, challenges: u8 },
    Out(Box<CallOut>),
    In(CallIn),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Req,
    Resp,
    Aux,
    Echo(SocketAddr),
}

/// One emulated UE.
pub struct Ue {
    shared: Arc<Shared>,
    id: Identity,
    sqn: Option<Box<UeSqnStore>>,
    own_sim: Option<Box<Sim>>,
    local: SocketAddr,
    seq: u32,
    reg_cseq: u32,
    reg_call_id: String,
    reg_tag: String,
    call_id: String,
    tag: String,
    branch: String,
    target: String,
    op: Op,
    tx: Option<ClientTx>,
    req: Vec<u8>,
    resp: Vec<u8>,
    resp_next: Vec<u8>,
    aux: Vec<u8>,
    echo: Vec<u8>,
    pending: VecDeque<Pending>,
    events: VecDeque<UeEvent>,
    registered: bool,
    sms: Option<Box<SmsAgent>>,
}

impl std::fmt::Debug for Ue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ue").field("user", &self.id.user).field("local", &self.local).field("op", &self.op).finish()
    }
}

impl Ue {
    /// A UE with identity `id` bound to `local`; `sqn` is its USIM SQN store (Milenage).
    pub fn new(shared: Arc<Shared>, id: Identity, local: SocketAddr, sqn: Option<Box<UeSqnStore>>) -> Ue {
        let reg_call_id = format!("reg{:x}-{}", shared.run_id, id.user);
        let reg_tag = format!("r{:x}", shared.run_id);
        Ue {
            shared,
            id,
            sqn,
            own_sim: None,
            local,
            seq: 0,
            reg_cseq: 0,
            reg_call_id,
            reg_tag,
            call_id: String::new(),
            tag: String::new(),
            branch: String::new(),
            target: String::new(),
            op: Op::Idle,
            tx: None,
            req: Vec::new(),
            resp: Vec::new(),
            resp_next: Vec::new(),
            aux: Vec::new(),
            echo: Vec::new(),
            pending: VecDeque::with_capacity(4),
            events: VecDeque::with_capacity(4),
            registered: false,
            sms: None,
        }
    }

    /// Gives this UE its own USIM (a `--users-csv` subscriber) instead of the run's.
    pub fn with_sim(mut self, sim: Sim) -> Ue {
        self.own_sim = Some(Box::new(sim));
        self
    }

    /// Turns SMS on for this UE, number `index` of the run: it registers with
    /// `+g.3gpp.smsip` and sends and receives SMS over IP.
    pub fn with_sms(mut self, cfg: Arc<SmsConfig>, index: usize) -> Ue {
        self.sms = Some(Box::new(SmsAgent::new(cfg, &self.id, self.local, self.shared.target, index)));
        self
    }

    /// The recipient of this UE's SMS `token` received it at `now`.
    pub fn handle_sms_delivered(&mut self, now: Instant, token: u32) {
        if let Some(s) = &mut self.sms {
            s.handle_delivered(now, token);
        }
    }

    /// The UE's identities.
    pub fn identity(&self) -> &Identity {
        &self.id
    }

    /// True while the last registration succeeded and was not withdrawn.
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    /// True when `src` is where this UE, as a caller, sends its media (so RTP from there
    /// is the echo of its own stream).
    pub fn is_media_peer(&self, src: SocketAddr) -> bool {
        matches!(&self.op, Op::Out(c) if c.media_to == Some(src))
    }

    /// True when no action or incoming call is in progress.
    pub fn is_idle(&self) -> bool {
        matches!(self.op, Op::Idle) && self.sms.as_ref().map_or(true, |s| s.is_idle())
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn new_branch(&mut self) {
        let n = self.next_seq();
        self.branch.clear();
        let _ = write!(self.branch, "z9hG4bK{}.{:x}.{n:x}", self.id.user, self.shared.run_id);
    }

    fn finish(&mut self, action: Action, r: Result<(), (Cause, Option<u16>)>) {
        self.tx = None;
        self.op = Op::Idle;
        self.push_event(UeEvent::Finished(action, r));
    }

    fn push_event(&mut self, e: UeEvent) {
        // Each handler call adds at most 3 events and the shard drains them after it:
        // the preallocated capacity holds.
        self.events.push_back(e);
    }

    fn push(&mut self, p: Pending) {
        // At most one of each kind is outstanding between two drains.
        if !self.pending.contains(&p) {
            self.pending.push_back(p);
        }
    }

    /// Starts `what`, intended at `intended` (`now` is the actual time). A busy UE refuses
    /// with [`Cause::Busy`] (reported as a failed action too).
    pub fn start(&mut self, now: Instant, intended: Instant, what: Start<'_>) -> Result<(), Cause> {
        let action = match what {
            Start::Register(a) | Start::Call(a, _) => a,
            Start::Sms(_) => Action::Sms,
        };
        if !self.is_idle() {
            self.push_event(UeEvent::Finished(action, Err((Cause::Busy, None))));
            return Err(Cause::Busy);
        }
        match what {
            Start::Register(a) => {
                self.op = Op::Reg { action: a, intended, challenges: 0 };
                self.send_register(now, None)
            }
            Start::Call(a, uri) => self.send_invite(now, intended, a, uri),
            Start::Sms(to) => self.sms.as_mut().map_or(Err(Cause::Build), |s| s.start(now, intended, to)),
        }
        .inspect_err(|&c| self.finish(action, Err((c, None))))
    }

    fn start_tx(&mut self, now: Instant, invite: bool) {
        self.tx = Some(ClientTx { invite, next_retx: Some(now + T1), interval: T1, deadline: now + self.shared.timeout });
        self.push(Pending::Req);
    }

    fn send_register(&mut self, now: Instant, auth: Option<&str>) -> Result<(), Cause> {
        let Op::Reg { action, .. } = self.op else { return Ok(()) };
        self.reg_cseq += 1;
        self.new_branch();
        let r = Register {
            registrar: &self.shared.registrar,
            impu: &self.id.impu,
            user: &self.id.user,
            local: self.local,
            call_id: &self.reg_call_id,
            tag: &self.reg_tag,
            cseq: self.reg_cseq,
            branch: &self.branch,
            expires: if action == Action::Deregister { 0 } else { self.shared.expires },
            authorization: auth,
            sms: self.sms.is_some(),
        };
        build_into(&mut self.req, |b| sipmsg::register(b, &r)).map_err(|_| Cause::Build)?;
        self.start_tx(now, false);
        Ok(())
    }

    /// The INVITE of the current call (built from fields, so the borrows stay disjoint).
    fn invite_of<'a>(target: &'a str, id: &'a Identity, local: SocketAddr, call_id: &'a str, tag: &'a str, branch: &'a str) -> Invite<'a> {
        Invite { target, impu: &id.impu, user: &id.user, local, call_id, tag, branch }
    }

    fn send_invite(&mut self, now: Instant, intended: Instant, action: Action, uri: &str) -> Result<(), Cause> {
        let n = self.next_seq();
        self.call_id.clear();
        let _ = write!(self.call_id, "c{:x}.{n:x}-{}", self.shared.run_id, self.id.user);
        self.tag.clear();
        let _ = write!(self.tag, "c{n:x}");
        self.target.clear();
        self.target.push_str(uri);
        self.new_branch();
        let fields = Self::invite_of(&self.target, &self.id, self.local, &self.call_id, &self.tag, &self.branch);
        build_into(&mut self.req, |b| sipmsg::invite(b, &fields)).map_err(|_| Cause::Build)?;
        self.op = Op::Out(Box::new(CallOut {
            action,
            intended,
            got_180: false,
            phase: OutPhase::Inviting,
            dialog: DialogOut::default(),
            media: None,
            media_to: None,
            failed: None,
        }));
        self.start_tx(now, true);
        Ok(())
    }

    /// A datagram from `src` arrived at `now`.
    pub fn handle_datagram(&mut self, now: Instant, src: SocketAddr, data: &[u8]) {
        if is_rtp(data) {
            self.on_rtp(now, src, data);
            return;
        }
        let Ok(msg) = Message::parse(data) else { return };
        if self.sms.as_mut().is_some_and(|s| s.handle_sip(now, &msg)) {
            return;
        }
        if msg.is_request() {
            self.on_request(now, &msg);
        } else {
            self.on_response(now, &msg);
        }
    }

    fn on_rtp(&mut self, now: Instant, src: SocketAddr, data: &[u8]) {
        match &mut self.op {
            Op::Out(c) => {
                if let Some(rtt) = c.media.as_mut().and_then(|m| m.on_echo(now, data)) {
                    self.push_event(UeEvent::Sample(Metric::RtpRoundTrip, rtt));
                }
            }
            Op::In(_) => {
                // The callee reflects every packet to where it came from (symmetric RTP).
                self.echo.clear();
                self.echo.extend_from_slice(data);
                self.push(Pending::Echo(src));
            }
            _ => {}
        }
    }

    fn on_response(&mut self, now: Instant, msg: &Message<'_>) {
        let (Some(code), Ok(cseq), Ok(cid)) = (msg.status(), msg.cseq(), msg.call_id()) else { return };
        match cseq.method {
            Method::Register if cid == self.reg_call_id.as_bytes() && cseq.seq == self.reg_cseq => self.on_register_response(now, code, msg),
            Method::Invite if cid == self.call_id.as_bytes() => self.on_invite_response(now, code, msg),
            Method::Bye if cid == self.call_id.as_bytes() && code >= 200 => self.on_bye_response(now, code),
            _ => {}
        }
    }

    fn on_register_response(&mut self, now: Instant, code: u16, msg: &Message<'_>) {
        let Op::Reg { action, intended, challenges } = self.op else { return };
        match code {
            100..=199 => self.stop_retx(),
            200..=299 => {
                let metric = match action {
                    Action::Register => Some(Metric::InitialRegister),
                    Action::Reregister => Some(Metric::Reregister),
                    _ => None,
                };
                if let Some(m) = metric {
                    self.push_event(UeEvent::Sample(m, now.saturating_duration_since(intended)));
                }
                self.registered = action != Action::Deregister;
                self.finish(action, Ok(()));
            }
            401 | 407 if challenges < 2 => {
                self.op = Op::Reg { action, intended, challenges: challenges + 1 };
                let ch = if code == 401 { msg.www_authenticate() } else { msg.proxy_authenticate() };
                let Ok(Some(ch)) = ch else {
                    return self.finish(action, Err((Cause::AuthFailed, Some(code))));
                };
                let cnonce = format!("{:x}{:x}", self.shared.run_id, self.seq);
                let sim = self.own_sim.as_deref().or(self.shared.sim.as_ref());
                let usim = sim.map(|sim| Usim { sim, store: self.sqn.as_deref_mut() });
                let r = authorization(&ch, &self.id, usim, "REGISTER", &self.shared.registrar, &cnonce)
                    .and_then(|a| self.send_register(now, Some(&a)));
                if let Err(c) = r {
                    self.finish(action, Err((c, None)));
                }
            }
            401 | 407 => self.finish(action, Err((Cause::AuthRejected, Some(code)))),
            _ => self.finish(action, Err((Cause::Status, Some(code)))),
        }
    }

    fn stop_retx(&mut self) {
        if let Some(tx) = &mut self.tx {
            tx.next_retx = None;
        }
    }

    fn on_invite_response(&mut self, now: Instant, code: u16, msg: &Message<'_>) {
        let Op::Out(c) = &mut self.op else { return };
        let since = now.saturating_duration_since(c.intended);
        match (c.phase, code) {
            (OutPhase::Inviting, 100..=199) => {
                if let Some(tx) = &mut self.tx {
                    tx.next_retx = None;
                }
                if code == 180 && !c.got_180 {
                    c.got_180 = true;
                    self.push_event(UeEvent::Sample(Metric::InviteTo180, since));
                }
            }
            (OutPhase::Inviting, 200..=299) => {
                self.tx = None;
                let dst = sipmsg::audio_dst(msg.body());
                let has_contact = c.dialog.from_2xx(msg);
                let bye_at = now + self.shared.hold;
                c.phase = OutPhase::Confirmed { bye_at };
                if dst.is_none() || !has_contact {
                    c.failed = Some((Cause::BadSdp, Some(code)));
                    c.phase = OutPhase::Confirmed { bye_at: now };
                }
                let ssrc = super::demux::ssrc_of(&self.id.user);
                c.media = dst.map(|_| RtpStream::new(ssrc, self.shared.epoch, now, bye_at));
                c.media_to = dst;
                self.push_event(UeEvent::Sample(Metric::InviteTo200, since));
                self.send_ack();
            }
            (OutPhase::Confirmed { .. } | OutPhase::Byeing { .. }, 200..=299) => {
                // A retransmitted 2xx: the ACK was lost (RFC 3261 13.2.2.4).
                self.push(Pending::Aux);
            }
            (OutPhase::Inviting, _) => {
                let action = c.action;
                let fields = Self::invite_of(&self.target, &self.id, self.local, &self.call_id, &self.tag, &self.branch);
                let built = build_into(&mut self.aux, |b| sipmsg::ack_non2xx(b, &fields, msg));
                if built.is_ok() {
                    self.push(Pending::Aux);
                }
                self.finish(action, Err((Cause::Status, Some(code))));
            }
            _ => {}
        }
    }

    fn send_ack(&mut self) {
        let n = self.next_seq();
        self.branch.clear();
        let _ = write!(self.branch, "z9hG4bK{}.{:x}.{n:x}a", self.id.user, self.shared.run_id);
        let Op::Out(c) = &self.op else { return };
        let d = InDialog { dialog: &c.dialog, impu: &self.id.impu, tag: &self.tag, call_id: &self.call_id, local: self.local };
        let mut aux = std::mem::take(&mut self.aux);
        let built = build_into(&mut aux, |b| sipmsg::in_dialog(b, &d, Method::Ack, 1, &self.branch));
        self.aux = aux;
        if built.is_ok() {
            self.push(Pending::Aux);
        }
    }

    fn send_bye(&mut self, now: Instant, intended: Instant) {
        self.new_branch();
        let Op::Out(c) = &mut self.op else { return };
        c.phase = OutPhase::Byeing { intended };
        let d = InDialog { dialog: &c.dialog, impu: &self.id.impu, tag: &self.tag, call_id: &self.call_id, local: self.local };
        let mut req = std::mem::take(&mut self.req);
        let built = build_into(&mut req, |b| sipmsg::in_dialog(b, &d, Method::Bye, 2, &self.branch));
        self.req = req;
        match built {
            Ok(()) => self.start_tx(now, false),
            Err(_) => self.end_call(Some((Cause::Build, None))),
        }
    }

    fn on_bye_response(&mut self, now: Instant, code: u16) {
        let Op::Out(c) = &self.op else { return };
        let OutPhase::Byeing { intended } = c.phase else { return };
        if (200..300).contains(&code) {
            self.push_event(UeEvent::Sample(Metric::ByeTo200, now.saturating_duration_since(intended)));
            self.end_call(None);
        } else {
            self.end_call(Some((Cause::Status, Some(code))));
        }
    }

    /// Ends the caller's call: media totals, then the outcome (an earlier failure wins).
    fn end_call(&mut self, failure: Option<(Cause, Option<u16>)>) {
        let Op::Out(c) = &self.op else { return };
        let action = c.action;
        let failure = c.failed.or(failure);
        if let Some(m) = &c.media {
            let e = UeEvent::Media { sent: m.sent, received: m.received, jitter_us: m.jitter_us() };
            self.push_event(e);
        }
        self.finish(action, failure.map_or(Ok(()), Err));
    }

    fn on_request(&mut self, now: Instant, msg: &Message<'_>) {
        let Some(method) = msg.method() else { return };
        let same_call = msg.call_id().is_ok_and(|c| c == self.call_id.as_bytes());
        match (method, &mut self.op) {
            (Method::Ack, Op::In(c)) if same_call => {
                c.confirmed = true;
                c.retx = None;
            }
            (Method::Ack, _) => {}
            (Method::Invite, Op::In(_)) if same_call => self.push(Pending::Resp),
            (Method::Invite, Op::Idle) if msg.to().is_ok_and(|t| t.tag().is_none()) => self.answer_invite(now, msg),
            (Method::Invite, _) => self.reply(msg, 486, "Busy Here"),
            (Method::Bye, Op::In(_)) if same_call => {
                self.op = Op::Idle;
                self.reply(msg, 200, "OK");
            }
            (Method::Bye, _) => self.reply(msg, 481, "Call/Transaction Does Not Exist"),
            _ => self.reply(msg, 200, "OK"),
        }
    }

    /// Callee: 180 now, 200 with the SDP answer after the answer delay (RFC 3261 13.3.1).
    fn answer_invite(&mut self, now: Instant, msg: &Message<'_>) {
        self.call_id.clear();
        self.call_id.push_str(std::str::from_utf8(msg.call_id().unwrap_or(b"")).unwrap_or(""));
        let n = self.next_seq();
        self.tag.clear();
        let _ = write!(self.tag, "a{n:x}");
        let contact = Some((self.id.user.as_str(), self.local));
        let (mut resp, mut next) = (std::mem::take(&mut self.resp), std::mem::take(&mut self.resp_next));
        let ringing = build_into(&mut resp, |b| sipmsg::response(b, msg, 180, "Ringing", &self.tag, contact, false));
        let ok = build_into(&mut next, |b| sipmsg::response(b, msg, 200, "OK", &self.tag, contact, true));
        (self.resp, self.resp_next) = (resp, next);
        if ringing.is_err() || ok.is_err() {
            return self.reply(msg, 500, "Server Internal Error");
        }
        self.op = Op::In(CallIn {
            answer_at: Some(now + self.shared.answer_delay),
            retx: None,
            give_up: now + self.shared.timeout + self.shared.hold * 2,
            confirmed: false,
        });
        self.push(Pending::Resp);
    }

    /// A one-off response (no dialog state) in the auxiliary buffer.
    fn reply(&mut self, msg: &Message<'_>, code: u16, reason: &str) {
        let mut aux = std::mem::take(&mut self.aux);
        let built = build_into(&mut aux, |b| sipmsg::response(b, msg, code, reason, "rl", None, false));
        self.aux = aux;
        if built.is_ok() {
            self.push(Pending::Aux);
        }
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(s) = &mut self.sms {
            s.handle_timeout(now);
        }
        if let Some(tx) = self.tx {
            if tx.deadline <= now {
                return self.on_tx_timeout(now);
            }
            if let Some(t) = tx.next_retx.filter(|&t| t <= now) {
                // RFC 3261 17.1.1.2 (Timer A doubles) and 17.1.2.2 (Timer E capped at T2).
                let interval = if tx.invite { tx.interval * 2 } else { (tx.interval * 2).min(T2) };
                self.tx = Some(ClientTx { next_retx: Some(t.max(now) + interval), interval, ..tx });
                self.push(Pending::Req);
            }
        }
        match &mut self.op {
            Op::Out(c) => {
                if let OutPhase::Confirmed { bye_at } = c.phase {
                    if bye_at <= now {
                        self.send_bye(now, bye_at);
                    }
                }
            }
            Op::In(c) => {
                if c.give_up <= now {
                    self.op = Op::Idle;
                    return;
                }
                if c.answer_at.is_some_and(|t| t <= now) {
                    c.answer_at = None;
                    c.retx = Some((now + T1, T1));
                    std::mem::swap(&mut self.resp, &mut self.resp_next);
                    self.push(Pending::Resp);
                } else if let Some((t, i)) = c.retx.filter(|&(t, _)| t <= now) {
                    // RFC 3261 13.3.1.4: the 2xx is retransmitted until the ACK.
                    c.retx = Some((t + (i * 2).min(T2), (i * 2).min(T2)));
                    self.push(Pending::Resp);
                }
            }
            _ => {}
        }
    }

    fn on_tx_timeout(&mut self, _now: Instant) {
        self.tx = None;
        match &self.op {
            Op::Reg { action, .. } => {
                let a = *action;
                self.finish(a, Err((Cause::Timeout, None)));
            }
            Op::Out(_) => self.end_call(Some((Cause::Timeout, None))),
            _ => {}
        }
    }

    /// Ends whatever is in progress as a timeout (the run's deadline passed).
    pub fn abort(&mut self, now: Instant) {
        match &self.op {
            Op::Reg { .. } | Op::Out(_) => self.on_tx_timeout(now),
            Op::In(_) => self.op = Op::Idle,
            Op::Idle => {}
        }
        if let Some(s) = &mut self.sms {
            s.abort();
        }
    }

    /// The next instant [`Ue::handle_timeout`] must run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let tx = self.tx.map(|t| t.next_retx.map_or(t.deadline, |r| r.min(t.deadline)));
        let op = match &self.op {
            Op::Out(c) => match c.phase {
                OutPhase::Confirmed { bye_at } => {
                    Some(c.media.as_ref().and_then(RtpStream::next_send).map_or(bye_at, |m| m.min(bye_at)))
                }
                _ => None,
            },
            Op::In(c) => [c.answer_at, c.retx.map(|r| r.0), Some(c.give_up)].into_iter().flatten().min(),
            _ => None,
        };
        let sms = self.sms.as_ref().and_then(|s| s.poll_timeout());
        [tx, op, sms].into_iter().flatten().min()
    }

    /// Writes the next datagram to send into `buf` (at least [`sipmsg::MAX_MSG`] bytes).
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        if let Some(p) = self.pending.pop_front() {
            let (src, dst) = match p {
                Pending::Req => (&self.req, self.shared.target),
                Pending::Resp => (&self.resp, self.shared.target),
                Pending::Aux => (&self.aux, self.shared.target),
                Pending::Echo(to) => (&self.echo, to),
            };
            let len = src.len().min(buf.len());
            buf.get_mut(..len)?.copy_from_slice(src.get(..len)?);
            return Some(Transmit { dst, len });
        }
        if let Some(t) = self.sms.as_mut().and_then(|s| s.poll_transmit(buf)) {
            return Some(t);
        }
        let Op::Out(c) = &mut self.op else { return None };
        let OutPhase::Confirmed { .. } = c.phase else { return None };
        let dst = c.media_to?;
        let len = c.media.as_mut()?.poll_packet(now, buf)?;
        Some(Transmit { dst, len })
    }

    /// The next measurement.
    pub fn poll_event(&mut self) -> Option<UeEvent> {
        self.events.pop_front().or_else(|| self.sms.as_mut()?.poll_event())
    }
}
