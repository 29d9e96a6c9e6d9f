//! One server-side WebSocket connection as a sans-IO state machine: opening
//! handshake, frame decoding with bounded reassembly, control frames, close
//! handshake, idle ping and a bounded send queue. The caller moves bytes and
//! time in (`handle_bytes`, `handle_timeout`) and asks what to send, when to
//! wake and what happened (`poll_transmit`, `poll_timeout`, `poll_event`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::close::{CloseBody, CloseCode};
use super::frame::{apply_mask, FrameError, FrameRepr, Opcode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use super::handshake::{emit_accept, emit_reject, header_block_len, HandshakeError, UpgradeRequest};

/// Bounds and timers of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsConfig {
    /// Largest opening handshake header block in bytes.
    pub max_handshake: usize,
    /// Largest reassembled message in bytes (larger: close 1009).
    pub max_message: usize,
    /// Largest amount of unsent output; beyond it the connection is dropped.
    pub max_send_queue: usize,
    /// Time allowed to complete the opening handshake.
    pub handshake_timeout: Duration,
    /// Silence after which a ping is sent; `None` disables pings.
    pub idle_ping: Option<Duration>,
    /// Time allowed for any traffic after a ping before the connection is dropped.
    pub pong_timeout: Duration,
    /// Time allowed for the peer's Close after ours.
    pub close_timeout: Duration,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            max_handshake: 8 * 1024,
            max_message: 1024 * 1024,
            max_send_queue: 8 * 1024 * 1024,
            handshake_timeout: Duration::from_secs(10),
            idle_ping: Some(Duration::from_secs(30)),
            pong_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
        }
    }
}

/// What the connection reports to its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A complete, valid UTF-8 text message.
    Message(String),
    /// The connection is over: flush `poll_transmit`, then close the socket.
    Closed,
}

/// Why `send_text` refused a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The connection is not open (handshake pending, closing or closed).
    NotOpen,
    /// The send queue bound was exceeded: the connection has been dropped.
    Backpressure,
}

/// Why the connection ended, as seen locally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The opening handshake was refused.
    Handshake(HandshakeError),
    /// A Close frame with this code was sent (by us, or echoing the peer's).
    Code(CloseCode),
    /// The peer's output exceeded the send queue bound.
    Backpressure,
    /// A handshake, pong or close timer expired.
    Timeout,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Handshake,
    Open,
    /// RFC 6455 7.1.2: our Close is sent; waiting for the peer's.
    CloseSent,
    Closed,
}

/// Frame whose payload is being received.
#[derive(Clone, Copy, Debug)]
struct Current {
    repr: FrameRepr,
    got: u64,
}

/// A server-side WebSocket connection.
#[derive(Debug)]
pub struct Connection {
    cfg: WsConfig,
    phase: Phase,
    reason: Option<CloseReason>,
    handshake: Vec<u8>,
    hdr: [u8; MAX_HEADER_LEN],
    hdr_len: usize,
    cur: Option<Current>,
    control: Vec<u8>,
    message: Vec<u8>,
    /// RFC 6455 5.4: opcode of the fragmented message being reassembled.
    message_opcode: Option<Opcode>,
    tx: Vec<u8>,
    tx_head: usize,
    events: VecDeque<Event>,
    started: Instant,
    last_rx: Instant,
    ping_sent: Option<Instant>,
    close_sent: Option<Instant>,
}

impl Connection {
    /// A connection whose TCP (or TLS) stream was accepted at `now`.
    pub fn new(now: Instant, cfg: WsConfig) -> Connection {
        Connection {
            cfg,
            phase: Phase::Handshake,
            reason: None,
            handshake: Vec::new(),
            hdr: [0; MAX_HEADER_LEN],
            hdr_len: 0,
            cur: None,
            control: Vec::with_capacity(MAX_CONTROL_PAYLOAD),
            message: Vec::new(),
            message_opcode: None,
            tx: Vec::new(),
            tx_head: 0,
            events: VecDeque::new(),
            started: now,
            last_rx: now,
            ping_sent: None,
            close_sent: None,
        }
    }

    /// True once the handshake succeeded and until a close starts.
    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// True when the connection is over (the socket can be closed once
    /// `poll_transmit` returns `None`).
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Why the connection ended or is ending.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.reason
    }

    /// Feeds bytes read from the socket (one read's worth: during the handshake
    /// the chunk is buffered whole before the size bound is checked).
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        if data.is_empty() || self.phase == Phase::Closed {
            return;
        }
        self.last_rx = now;
        self.ping_sent = None;
        if self.phase == Phase::Handshake {
            self.handle_handshake(data);
        } else {
            self.read_frames(now, data);
        }
    }

    /// The next event, if any. Events are bounded by the input given to
    /// `handle_bytes`; drain them after each call.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Bytes to write to the socket; report what was written with `consume_transmit`.
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.tx.get(self.tx_head..).filter(|b| !b.is_empty())
    }

    /// Marks `n` bytes from `poll_transmit` as written.
    pub fn consume_transmit(&mut self, n: usize) {
        self.tx_head = self.tx_head.saturating_add(n).min(self.tx.len());
        if self.tx_head == self.tx.len() {
            self.tx.clear();
            self.tx_head = 0;
        } else if self.tx_head >= 64 * 1024 && self.tx_head * 2 >= self.tx.len() {
            self.tx.drain(..self.tx_head);
            self.tx_head = 0;
        }
    }

    /// Bytes waiting in the send queue.
    pub fn send_queue_len(&self) -> usize {
        self.tx.len() - self.tx_head
    }

    /// Queues a text message (one unfragmented frame, unmasked: RFC 6455 5.1).
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        if self.phase != Phase::Open {
            return Err(SendError::NotOpen);
        }
        self.send_frame(Opcode::Text, text.as_bytes())
    }

    /// Starts the close handshake (RFC 6455 7.1.2).
    pub fn close(&mut self, now: Instant, code: CloseCode, reason: &str) {
        if self.phase != Phase::Open {
            return;
        }
        if self.send_close(code, reason).is_ok() {
            self.phase = Phase::CloseSent;
            self.close_sent = Some(now);
        }
    }

    /// When `handle_timeout` must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Handshake => Some(self.started + self.cfg.handshake_timeout),
            Phase::Open => match self.ping_sent {
                Some(t) => Some(t + self.cfg.pong_timeout),
                None => self.cfg.idle_ping.map(|d| self.last_rx + d),
            },
            Phase::CloseSent => self.close_sent.map(|t| t + self.cfg.close_timeout),
            Phase::Closed => None,
        }
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(due) = self.poll_timeout() else { return };
        if now < due {
            return;
        }
        if self.phase == Phase::Open && self.ping_sent.is_none() {
            // Idle: probe the peer (RFC 6455 5.5.2: a ping may serve as a keepalive).
            if self.send_frame(Opcode::Ping, b"").is_ok() {
                self.ping_sent = Some(now);
            }
        } else {
            self.abort(CloseReason::Timeout);
        }
    }

    fn handle_handshake(&mut self, data: &[u8]) {
        self.handshake.extend_from_slice(data);
        let Some(end) = header_block_len(&self.handshake) else {
            if self.handshake.len() > self.cfg.max_handshake {
                self.reject(HandshakeError::TooLarge);
            }
            return;
        };
        if end > self.cfg.max_handshake {
            return self.reject(HandshakeError::TooLarge);
        }
        let block = std::mem::take(&mut self.handshake);
        let (head, rest) = block.split_at(end);
        match UpgradeRequest::parse(head) {
            Ok(req) => {
                emit_accept(&req, &mut self.tx);
                self.phase = Phase::Open;
                if !rest.is_empty() {
                    self.read_frames(self.last_rx, rest);
                }
            }
            Err(e) => self.reject(e),
        }
    }

    fn reject(&mut self, e: HandshakeError) {
        self.handshake = Vec::new();
        emit_reject(e, &mut self.tx);
        self.enter_closed(CloseReason::Handshake(e));
    }

    fn read_frames(&mut self, now: Instant, mut data: &[u8]) {
        while !data.is_empty() && matches!(self.phase, Phase::Open | Phase::CloseSent) {
            let used = match self.cur {
                None => self.read_header(data),
                Some(cur) => self.read_payload(now, cur, data),
            };
            data = data.get(used..).unwrap_or_default();
        }
    }

    /// Consumes header bytes; returns how many of `data` were used.
    fn read_header(&mut self, data: &[u8]) -> usize {
        let before = self.hdr_len;
        let take = (MAX_HEADER_LEN - before).min(data.len());
        // In bounds: hdr_len < MAX_HEADER_LEN between calls and take fits both sides.
        self.hdr[before..before + take].copy_from_slice(&data[..take]);
        self.hdr_len = before + take;
        match FrameRepr::parse_header(&self.hdr[..self.hdr_len]) {
            Ok((repr, len)) => {
                self.hdr_len = 0;
                let used = len - before;
                if let Err(code) = self.check_header(&repr) {
                    self.fail(code);
                    return data.len();
                }
                self.cur = Some(Current { repr, got: 0 });
                if repr.payload_len == 0 {
                    // Zero-length payload: the frame is complete now.
                    self.read_payload(self.last_rx, Current { repr, got: 0 }, &[]);
                }
                used
            }
            Err(FrameError::Truncated) => take,
            Err(_) => {
                // Every header error is a framing violation (RFC 6455 7.4.1: 1002).
                self.fail(CloseCode::PROTOCOL_ERROR);
                data.len()
            }
        }
    }

    /// Validates a data or control header against the connection state.
    fn check_header(&self, repr: &FrameRepr) -> Result<(), CloseCode> {
        // RFC 6455 5.1: the server MUST close on an unmasked client frame.
        if repr.mask.is_none() {
            return Err(CloseCode::PROTOCOL_ERROR);
        }
        match repr.opcode {
            // RFC 6455 5.4: a continuation needs a message in progress, and a
            // new data frame must not interleave with one.
            Opcode::Continuation if self.message_opcode.is_none() => return Err(CloseCode::PROTOCOL_ERROR),
            Opcode::Text | Opcode::Binary if self.message_opcode.is_some() => return Err(CloseCode::PROTOCOL_ERROR),
            // The remote API speaks JSON text only (RFC 6455 7.4.1: 1003).
            Opcode::Binary => return Err(CloseCode::UNSUPPORTED_DATA),
            _ => {}
        }
        if !repr.opcode.is_control() {
            let total = (self.message.len() as u64).saturating_add(repr.payload_len);
            if total > self.cfg.max_message as u64 {
                return Err(CloseCode::MESSAGE_TOO_BIG);
            }
        }
        Ok(())
    }

    /// Consumes payload bytes of `cur`; returns how many of `data` were used.
    fn read_payload(&mut self, now: Instant, mut cur: Current, data: &[u8]) -> usize {
        let left = cur.repr.payload_len - cur.got;
        let take = usize::try_from(left).unwrap_or(usize::MAX).min(data.len());
        let dest = if cur.repr.opcode.is_control() { &mut self.control } else { &mut self.message };
        let start = dest.len();
        // In bounds: take <= data.len().
        dest.extend_from_slice(&data[..take]);
        if let (Some(key), Some(tail)) = (cur.repr.mask, dest.get_mut(start..)) {
            apply_mask(key, cur.got, tail);
        }
        cur.got += take as u64;
        if cur.got < cur.repr.payload_len {
            self.cur = Some(cur);
        } else {
            self.cur = None;
            self.frame_done(now, cur.repr);
        }
        take
    }

    fn frame_done(&mut self, now: Instant, repr: FrameRepr) {
        match repr.opcode {
            Opcode::Text | Opcode::Binary | Opcode::Continuation => {
                if repr.opcode != Opcode::Continuation {
                    self.message_opcode = Some(repr.opcode);
                }
                if repr.fin {
                    self.message_opcode = None;
                    self.deliver();
                }
            }
            Opcode::Ping => {
                // RFC 6455 5.5.3: answer with a Pong carrying the same data.
                let data = std::mem::take(&mut self.control);
                if self.phase == Phase::Open {
                    let _ = self.send_frame(Opcode::Pong, &data);
                }
                self.control = data;
                self.control.clear();
            }
            Opcode::Pong => self.control.clear(),
            Opcode::Close => self.close_received(now),
        }
    }

    fn deliver(&mut self) {
        let bytes = std::mem::take(&mut self.message);
        if self.phase != Phase::Open {
            // RFC 6455 7.1.2: after our Close, incoming data is discarded.
            return;
        }
        // RFC 6455 8.1: invalid UTF-8 in a text message fails the connection with 1007.
        match String::from_utf8(bytes) {
            Ok(text) => self.events.push_back(Event::Message(text)),
            Err(_) => self.fail(CloseCode::INVALID_PAYLOAD),
        }
    }

    fn close_received(&mut self, _now: Instant) {
        let payload = std::mem::take(&mut self.control);
        let body = CloseBody::parse(&payload);
        match (self.phase, body) {
            (Phase::Open, Ok(b)) => {
                // RFC 6455 5.5.1: echo the status code; 7.1.1: the server then closes TCP.
                let code = b.code.unwrap_or(CloseCode::NORMAL);
                if self.send_close(code, "").is_ok() {
                    self.enter_closed(CloseReason::Code(code));
                }
            }
            (Phase::Open, Err(code)) => self.fail(code),
            _ => {
                let why = self.reason.unwrap_or(CloseReason::Code(CloseCode::NORMAL));
                self.enter_closed(why);
            }
        }
    }

    /// RFC 6455 7.1.7 "Fail the WebSocket Connection": send Close with `code`, then close.
    fn fail(&mut self, code: CloseCode) {
        self.cur = None;
        self.hdr_len = 0;
        self.message = Vec::new();
        self.message_opcode = None;
        if self.phase == Phase::Open && self.send_close(code, "").is_err() {
            return;
        }
        self.enter_closed(CloseReason::Code(code));
    }

    fn send_close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        let mut body = Vec::with_capacity(MAX_CONTROL_PAYLOAD);
        CloseBody { code: Some(code), reason }.emit(&mut body);
        self.send_frame(Opcode::Close, &body)?;
        self.reason = Some(CloseReason::Code(code));
        Ok(())
    }

    /// Queues one final, unmasked frame, dropping the connection if the queue bound is exceeded.
    fn send_frame(&mut self, opcode: Opcode, payload: &[u8]) -> Result<(), SendError> {
        let repr = FrameRepr { fin: true, opcode, mask: None, payload_len: payload.len() as u64 };
        let need = repr.header_len() + payload.len();
        if self.send_queue_len().saturating_add(need) > self.cfg.max_send_queue {
            self.abort(CloseReason::Backpressure);
            return Err(SendError::Backpressure);
        }
        repr.emit(payload, &mut self.tx);
        Ok(())
    }

    /// Drops the connection without a closing handshake (output discarded).
    fn abort(&mut self, why: CloseReason) {
        self.tx = Vec::new();
        self.tx_head = 0;
        self.message = Vec::new();
        self.enter_closed(why);
    }

    fn enter_closed(&mut self, why: CloseReason) {
        if self.phase == Phase::Closed {
            return;
        }
        self.phase = Phase::Closed;
        self.reason = Some(why);
        self.events.push_back(Event::Closed);
    }
}
