//! The SMS side of an emulated UE (SMS over IP, TS 24.341), sans-IO like [`super::ue`]:
//! as a sender it submits one MO message at a time (MESSAGE with RP-DATA(SMS-SUBMIT) to
//! the SC, 202, then the SC's RP-ACK or RP-ERROR in a MESSAGE of its own); as a recipient
//! it answers the SC's MESSAGE with RP-DATA(SMS-DELIVER) with 200 and acknowledges it with
//! RP-ACK in a MESSAGE (TS 24.341 5.3.2.4, TS 24.011 7.3.3).
//!
//! An MO message ends well once the sender has the RP-ACK *and* its recipient received the
//! SMS-DELIVER: the recipient reports the stamp in the text ([`SmsEvent::Received`]), the
//! shard hands it to the sender ([`SmsAgent::handle_delivered`]). Latencies run from the
//! intended send time; every message ends within [`SmsConfig::limit`] of its start.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sip::{Message, Method};
use crate::sms::RpAddress;

use super::metrics::{Action, Cause, Metric};
use super::profile::Identity;
use super::sipmsg::{build_into, response};
use super::sms_wire::{self as wire, MessageReq, Mt};
use super::ue::{Transmit, UeEvent, T1, T2};

/// RP-ACK MESSAGEs of one recipient in flight at once (the oldest gives way).
const MAX_ACKS: usize = 4;
/// MT MESSAGEs remembered to answer retransmissions without counting them twice.
const SEEN: usize = 8;

/// The SMS options of a run (`--sms`, `--sms-text`, `--smsc`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsOptions {
    /// Messages to send (UE i to UE i + ues/2).
    pub count: u64,
    /// The text (a stamp is appended to each message).
    pub text: String,
    /// Request-URI of MO MESSAGEs: the SC's public service identity.
    pub smsc: String,
}

/// What every UE's SMS side shares.
#[derive(Debug)]
pub struct SmsConfig {
    /// Request-URI of MO MESSAGEs.
    pub smsc: String,
    /// RP-Destination-Address of MO RP-DATA (TS 24.011 8.2.5.2).
    pub centre: RpAddress,
    /// The text before its stamp.
    pub text: String,
    /// Transaction timeout of a MESSAGE (Timer F).
    pub timeout: Duration,
    /// Bound on a whole MO message: submit → RP-ACK and delivery.
    pub limit: Duration,
    /// The run's id (in the stamp, so SMS of earlier runs still held by the SC are told apart).
    pub run_id: u32,
}

impl SmsConfig {
    /// The configuration of `o`, with MESSAGE transactions bounded by `timeout` and every
    /// message by twice that.
    pub fn new(o: &SmsOptions, timeout: Duration, run_id: u32) -> SmsConfig {
        SmsConfig { smsc: o.smsc.clone(), centre: wire::centre_address(&o.smsc), text: o.text.clone(), timeout, limit: timeout * 2, run_id }
    }
}

/// The recipient of the SMS sent by UE `actor`: `actor + ues/2`, the half rounded down
/// to a multiple of `workers` so both UEs live on the same worker (UE `i` is on worker
/// `i % workers`) and the delivery reaches the sender's machine without crossing threads.
pub fn recipient(actor: usize, ues: usize, workers: usize) -> usize {
    let w = workers.max(1);
    let half = ues / 2 / w * w;
    if half == 0 {
        (actor + ues / 2) % ues.max(1)
    } else {
        actor + half
    }
}

/// What the SMS side tells the shard (besides samples and finished actions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsEvent {
    /// This UE received an SMS-DELIVER: the stamp (run, sender UE index, token) if any.
    Received(Option<(u32, usize, u32)>),
    /// Our MO message was refused with this RP-Cause.
    RpCause(u8),
}

/// A non-INVITE client transaction (RFC 3261 17.1.2) of ours.
#[derive(Debug, Default)]
struct Tx {
    call_id: String,
    buf: Vec<u8>,
    live: bool,
    next_retx: Option<Instant>,
    interval: Duration,
    deadline: Option<Instant>,
}

impl Tx {
    fn start(&mut self, now: Instant, timeout: Duration) {
        self.live = true;
        self.interval = T1;
        self.next_retx = Some(now + T1);
        self.deadline = Some(now + timeout);
    }

    fn next(&self) -> Option<Instant> {
        if !self.live {
            return None;
        }
        [self.next_retx, self.deadline].into_iter().flatten().min()
    }
}

/// The MO message in progress.
#[derive(Debug, Clone, Copy)]
struct Mo {
    token: u32,
    reference: u8,
    intended: Instant,
    limit_at: Instant,
    rp_acked: bool,
    delivered: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Send {
    Mo,
    Ack(usize),
    Resp,
}

/// The SMS side of one UE.
#[derive(Debug)]
pub struct SmsAgent {
    cfg: Arc<SmsConfig>,
    impu: String,
    user: String,
    local: SocketAddr,
    target: SocketAddr,
    index: usize,
    seq: u32,
    token: u32,
    reference: u8,
    mo: Option<Mo>,
    mo_tx: Tx,
    acks: Vec<Tx>,
    resp: Vec<u8>,
    text: String,
    tag: String,
    branch: String,
    seen: [u64; SEEN],
    seen_next: usize,
    pending: VecDeque<Send>,
    events: VecDeque<UeEvent>,
}

/// FNV-1a of a Call-ID (the key of an MT MESSAGE already answered).
fn key_of(call_id: &[u8]) -> u64 {
    call_id.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl SmsAgent {
    /// The SMS side of UE number `index` (identity `id`, bound to `local`), sending to
    /// `target` (the P-CSCF).
    pub fn new(cfg: Arc<SmsConfig>, id: &Identity, local: SocketAddr, target: SocketAddr, index: usize) -> SmsAgent {
        SmsAgent {
            cfg,
            impu: id.impu.clone(),
            user: id.user.clone(),
            local,
            target,
            index,
            seq: 0,
            token: 0,
            reference: 0,
            mo: None,
            mo_tx: Tx::default(),
            acks: (0..MAX_ACKS).map(|_| Tx::default()).collect(),
            resp: Vec::new(),
            text: String::new(),
            tag: String::new(),
            branch: String::new(),
            seen: [0; SEEN],
            seen_next: 0,
            pending: VecDeque::with_capacity(MAX_ACKS + 2),
            events: VecDeque::with_capacity(4),
        }
    }

    /// True when no MO message is in progress.
    pub fn is_idle(&self) -> bool {
        self.mo.is_none()
    }

    fn push(&mut self, s: Send) {
        if !self.pending.contains(&s) {
            self.pending.push_back(s);
        }
    }

    /// Fresh Call-ID, tag and branch (the branch starts with our user part for
    /// `--shared-socket` routing, see [`super::demux`]).
    fn new_ids(&mut self, call_id: &mut String) {
        self.seq = self.seq.wrapping_add(1);
        let (run, n, user) = (self.cfg.run_id, self.seq, &self.user);
        call_id.clear();
        let _ = write!(call_id, "s{run:x}.{n:x}-{user}");
        self.tag.clear();
        let _ = write!(self.tag, "s{n:x}");
        self.branch.clear();
        let _ = write!(self.branch, "z9hG4bK{user}.{run:x}.s{n:x}");
    }

    /// Builds a MESSAGE to the SC carrying `rp` into `tx` and starts it.
    fn send(&mut self, now: Instant, slot: Option<usize>, rp: &[u8]) -> Result<(), Cause> {
        let mut tx = std::mem::take(match slot {
            Some(i) => self.acks.get_mut(i).ok_or(Cause::Build)?,
            None => &mut self.mo_tx,
        });
        let mut call_id = std::mem::take(&mut tx.call_id);
        self.new_ids(&mut call_id);
        tx.call_id = call_id;
        let req = MessageReq { ruri: &self.cfg.smsc, impu: &self.impu, local: self.local, call_id: &tx.call_id, tag: &self.tag, branch: &self.branch };
        let built = build_into(&mut tx.buf, |b| wire::message(b, &req, rp)).is_ok();
        if built {
            tx.start(now, self.cfg.timeout);
        }
        let send = match slot {
            Some(i) => {
                if let Some(s) = self.acks.get_mut(i) {
                    *s = tx;
                }
                Send::Ack(i)
            }
            None => {
                self.mo_tx = tx;
                Send::Mo
            }
        };
        if !built {
            return Err(Cause::Build);
        }
        self.push(send);
        Ok(())
    }

    /// Starts an MO message to the number `to`, intended at `intended`.
    pub fn start(&mut self, now: Instant, intended: Instant, to: &str) -> Result<(), Cause> {
        if self.mo.is_some() {
            return Err(Cause::Busy);
        }
        self.token = self.token.wrapping_add(1);
        self.reference = self.reference.wrapping_add(1);
        let mut text = std::mem::take(&mut self.text);
        wire::stamp(&mut text, &self.cfg.text, self.cfg.run_id, self.index, self.token);
        let mut rp = [0u8; wire::MAX_RP];
        let n = wire::mo_rp_data(&mut rp, self.reference, self.cfg.centre, to, &text);
        self.text = text;
        let rp = n.and_then(|n| rp.get(..n)).ok_or(Cause::Build)?;
        self.send(now, None, rp)?;
        let limit_at = now + self.cfg.limit;
        self.mo = Some(Mo { token: self.token, reference: self.reference, intended, limit_at, rp_acked: false, delivered: false });
        Ok(())
    }

    /// Takes `msg` when it is SMS traffic: a MESSAGE request with an RP body, or a
    /// response to one of our MESSAGEs. False when it is not ours to handle.
    pub fn handle_sip(&mut self, now: Instant, msg: &Message<'_>) -> bool {
        if msg.is_request() {
            let sms = msg.method() == Some(Method::Message) && msg.content_type().is_some_and(|c| c.value.eq_ignore_ascii_case(wire::CONTENT_TYPE.as_bytes()));
            if sms {
                self.on_mt(now, msg);
            }
            return sms;
        }
        let (Some(code), Ok(cseq), Ok(cid)) = (msg.status(), msg.cseq(), msg.call_id()) else { return false };
        if cseq.method != Method::Message {
            return false;
        }
        if self.mo_tx.live && self.mo_tx.call_id.as_bytes() == cid {
            self.on_mo_response(code);
        } else if let Some(tx) = self.acks.iter_mut().find(|t| t.live && t.call_id.as_bytes() == cid) {
            // RFC 3261 17.1.2.2: a provisional stops retransmissions, a final ends it.
            tx.next_retx = None;
            tx.live = code < 200;
        }
        true
    }

    fn on_mo_response(&mut self, code: u16) {
        match code {
            100..=199 => self.mo_tx.next_retx = None,
            // TS 24.341 5.3.2.2: 202 Accepted; the outcome comes in RP-ACK / RP-ERROR.
            200..=299 => self.mo_tx.live = false,
            _ => self.finish(Err((Cause::Status, Some(code)))),
        }
    }

    /// A MESSAGE from the SC: 200 (TS 24.341 5.3.2.4), then its RP content.
    fn on_mt(&mut self, now: Instant, msg: &Message<'_>) {
        if build_into(&mut self.resp, |b| response(b, msg, 200, "OK", "rl", None, false)).is_ok() {
            self.push(Send::Resp);
        }
        let key = key_of(msg.call_id().unwrap_or(b""));
        if self.seen.contains(&key) {
            return; // a retransmission: answered again, handled once
        }
        if let Some(s) = self.seen.get_mut(self.seen_next % SEEN) {
            *s = key;
        }
        self.seen_next = self.seen_next.wrapping_add(1);
        match wire::parse_mt(msg.body()) {
            Some(Mt::Data { reference, stamp }) => {
                self.events.push_back(UeEvent::Sms(SmsEvent::Received(stamp)));
                self.send_rp_ack(now, reference);
            }
            Some(Mt::Ack(r)) => self.on_rp_answer(now, r, None),
            Some(Mt::Error(r, cause)) => self.on_rp_answer(now, r, Some(cause)),
            None => {}
        }
    }

    /// TS 24.011 7.3.3: RP-ACK of a delivered RP-DATA, in a MESSAGE of its own.
    fn send_rp_ack(&mut self, now: Instant, reference: u8) {
        let slot = self.acks.iter().position(|t| !t.live);
        let oldest = || self.acks.iter().enumerate().min_by_key(|(_, t)| t.deadline).map(|(i, _)| i);
        let Some(slot) = slot.or_else(oldest) else { return };
        let mut rp = [0u8; 8];
        if let Some(n) = wire::mt_rp_ack(&mut rp, reference) {
            let _ = self.send(now, Some(slot), rp.get(..n).unwrap_or(&[]));
        }
    }

    fn on_rp_answer(&mut self, now: Instant, reference: u8, cause: Option<u8>) {
        let Some(mo) = self.mo.as_mut().filter(|m| m.reference == reference && !m.rp_acked) else { return };
        match cause {
            None => {
                mo.rp_acked = true;
                let d = now.saturating_duration_since(mo.intended);
                self.events.push_back(UeEvent::Sample(Metric::SmsSubmitToRpAck, d));
                self.finish_if_done();
            }
            Some(c) => {
                self.events.push_back(UeEvent::Sms(SmsEvent::RpCause(c)));
                self.finish(Err((Cause::RpError, None)));
            }
        }
    }

    /// The recipient of our message `token` received it at `now`.
    pub fn handle_delivered(&mut self, now: Instant, token: u32) {
        let Some(mo) = self.mo.as_mut().filter(|m| m.token == token && !m.delivered) else { return };
        mo.delivered = true;
        let d = now.saturating_duration_since(mo.intended);
        self.events.push_back(UeEvent::Sample(Metric::SmsSubmitToDelivery, d));
        self.finish_if_done();
    }

    fn finish_if_done(&mut self) {
        if self.mo.is_some_and(|m| m.rp_acked && m.delivered) {
            self.finish(Ok(()));
        }
    }

    fn finish(&mut self, r: Result<(), (Cause, Option<u16>)>) {
        if self.mo.take().is_some() {
            self.mo_tx.live = false;
            self.events.push_back(UeEvent::Finished(Action::Sms, r));
        }
    }

    /// The cause of a message that ran out of time: no RP answer, or not delivered.
    fn expired(&mut self) {
        let cause = if self.mo.is_some_and(|m| m.rp_acked) { Cause::NotDelivered } else { Cause::Timeout };
        self.finish(Err((cause, None)));
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.mo.is_some_and(|m| m.limit_at <= now) {
            self.expired();
        }
        if self.mo_tx.live && self.mo_tx.deadline.is_some_and(|d| d <= now) {
            // Timer F: no final answer to the MO MESSAGE.
            self.finish(Err((Cause::Timeout, None)));
        }
        if retransmit(&mut self.mo_tx, now) {
            self.push(Send::Mo);
        }
        for i in 0..self.acks.len() {
            if self.acks.get_mut(i).is_some_and(|t| retransmit(t, now)) {
                self.push(Send::Ack(i));
            }
        }
    }

    /// Ends the message in progress (the run's deadline passed).
    pub fn abort(&mut self) {
        self.expired();
        for t in &mut self.acks {
            t.live = false;
        }
    }

    /// The next instant [`SmsAgent::handle_timeout`] must run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mo = self.mo.map(|m| m.limit_at);
        let txs = self.acks.iter().chain([&self.mo_tx]).filter_map(Tx::next);
        txs.chain(mo).min()
    }

    /// Writes the next datagram into `buf`.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        let src = match self.pending.pop_front()? {
            Send::Mo => &self.mo_tx.buf,
            Send::Ack(i) => &self.acks.get(i)?.buf,
            Send::Resp => &self.resp,
        };
        let len = src.len().min(buf.len());
        buf.get_mut(..len)?.copy_from_slice(src.get(..len)?);
        Some(Transmit { dst: self.target, len })
    }

    /// The next measurement.
    pub fn poll_event(&mut self) -> Option<UeEvent> {
        self.events.pop_front()
    }
}

/// Timer E of a live transaction: true when it fired (RFC 3261 17.1.2.2, doubling up to
/// T2); a transaction past its deadline (Timer F) ends.
fn retransmit(tx: &mut Tx, now: Instant) -> bool {
    if !tx.live {
        return false;
    }
    if tx.deadline.is_some_and(|d| d <= now) {
        tx.live = false;
        return false;
    }
    let Some(t) = tx.next_retx.filter(|&t| t <= now) else { return false };
    tx.interval = (tx.interval * 2).min(T2);
    tx.next_retx = Some(t.max(now) + tx.interval);
    true
}
