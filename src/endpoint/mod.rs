//! The SIP endpoint of one data-plane worker: everything between a datagram
//! or TCP byte stream and the control thread.
//!
//! Per message it frames (TCP, RFC 3261 18.3), parses and validates, answers
//! what needs no shared state in place — OPTIONS addressed to the core
//! (RFC 3261 11.2), 400 for malformed requests (RFC 3261 21.4.1), 503 when the
//! control thread's queue or the transaction table is full (RFC 3261 21.5.4)
//! — and runs the transaction layer (RFC 3261 17), so retransmissions, 100
//! Trying and ACKs of non-2xx responses never leave the worker. What needs a
//! decision goes to the control thread as a [`ToControl`] event; the control
//! thread answers with [`ToWorker`] commands.
//!
//! Hot path discipline: parsing is zero-copy, responses built here are
//! written into a preallocated scratch buffer and copied into the engine's
//! outbox slots; the only allocation is the copy of a request handed to the
//! control thread (which takes a decision that costs far more).

mod esp;
mod esp_tcp;
mod media_plane;
mod messages;
mod stateless;
#[cfg(test)]
mod tests;

pub use esp::{EspPlane, EspRx, EspSnapshot, EspStats, SaInstall};
pub use esp_tcp::is_esp_conn;
pub use media_plane::{MediaError, MediaPlane, MediaPlaneConfig};
pub use messages::{Peer, ToControl, ToWorker, Transport};

use crate::engine::{ConnId, Handler, Outbox, SocketId, StreamVerdict, WorkerCtx};
use crate::engine::EventSender;
use crate::sip::transaction::{self, Event, Inbound, TransactionLayer, TxId};
use crate::sip::{frame_len, keepalive, Message, Method, TxView, MAX_MESSAGE_SIZE, PONG};
use crate::stats::SipCounters;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// What the endpoint needs to know of the configuration.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    /// Host names that designate this core in a Request-URI (the domain, the
    /// SIP addresses), lower-case.
    pub local_hosts: Vec<String>,
    /// Server header value.
    pub user_agent: String,
    /// Transaction layer sizing and timers.
    pub transactions: transaction::Config,
    /// Largest message accepted on a TCP stream.
    pub max_message_size: usize,
    /// Media plane sizing.
    pub media: MediaPlaneConfig,
    /// Where the media sessions' counters are published for the control thread.
    pub media_board: Option<Arc<crate::media::MediaBoard>>,
}

/// The per-worker SIP endpoint (an [`engine::Handler`](crate::engine::Handler)).
pub struct Endpoint {
    worker: u16,
    cfg: EndpointConfig,
    txn: TransactionLayer<Peer>,
    events: EventSender<ToControl>,
    counters: Arc<SipCounters>,
    /// RTP/RTCP sessions of this worker's media ports.
    media: MediaPlane,
    /// IPsec SAs and protected ports.
    esp: EspPlane,
    /// Where stateless responses are built before being copied to the outbox.
    scratch: Box<[u8]>,
}

impl Endpoint {
    /// An endpoint for the worker described by `ctx`.
    pub fn new(ctx: WorkerCtx<ToControl>, cfg: EndpointConfig, counters: Arc<SipCounters>) -> Self {
        let txn = TransactionLayer::new(cfg.transactions);
        let mut media = MediaPlane::new(&cfg.media, ctx.worker, ctx.n_workers);
        if let Some(b) = &cfg.media_board {
            media.attach_board(b.clone());
        }
        Endpoint {
            worker: ctx.worker as u16,
            txn,
            events: ctx.events,
            counters,
            media,
            esp: EspPlane::new(ctx.worker),
            scratch: vec![0u8; MAX_MESSAGE_SIZE].into_boxed_slice(),
            cfg,
        }
    }

    /// Handles one complete message from `peer`.
    fn on_message(&mut self, now: Instant, peer: Peer, data: &[u8], out: &mut Outbox) {
        // Borrowed from the result, not moved out of it: a message with its header index
        // is over a kilobyte, copied at every move.
        let parsed = Message::parse(data);
        let msg = match &parsed {
            Ok(m) => m,
            Err(_) => {
                // Without a parsed request there is no Via to answer to.
                self.counters.malformed.inc();
                self.counters.malformed_dropped.inc();
                return;
            }
        };
        if msg.is_request() {
            self.counters.rx_requests.inc();
            self.on_request(now, peer, msg, out);
        } else {
            self.counters.rx_responses.inc();
            self.on_response(now, msg, out);
        }
        self.flush(out);
    }

    fn on_request(&mut self, now: Instant, peer: Peer, msg: &Message<'_>, out: &mut Outbox) {
        let is_ack = matches!(msg.method(), Some(Method::Ack));
        let checked = match msg.validated() {
            Ok(c) => c,
            Err(e) => {
                self.counters.malformed.inc();
                // RFC 3261 17.2.1: an ACK is never answered.
                if is_ack {
                    self.counters.malformed_dropped.inc();
                } else {
                    self.reply_stateless(peer, msg, 400, e.reason(), Some(e.reason()), out);
                }
                return;
            }
        };
        if matches!(msg.method(), Some(Method::Options)) && self.addressed_to_us(msg) {
            // RFC 3261 11.2: answered statelessly; a retransmission is simply
            // answered again, which keeps no state for keep-alive floods.
            self.counters.options_answered.inc();
            self.reply_stateless(peer, msg, 200, "OK", None, out);
            return;
        }
        // `validated` above parsed Via, From, To, Call-ID and CSeq in full: the view takes
        // the matching fields (RFC 3261 17.2.3) from that parse. Without a Via value
        // (`Via: ,` passes validation) the full view gives the 400.
        let view = match checked {
            Some(c) => TxView::from_validated(msg, &c),
            None => match TxView::new(msg) {
                Ok(v) => v,
                Err(e) => return self.reply_stateless(peer, msg, 400, e.reason(), Some(e.reason()), out),
            },
        };
        match self.txn.handle_request(now, &view, peer, peer.is_reliable()) {
            Ok(Inbound::New(id)) => self.pass_up(now, Some(id), peer, msg, out),
            Ok(Inbound::Cancel { id, target }) => self.on_cancel(now, id, target, msg, out),
            Ok(Inbound::PassUp(id)) => self.pass_up(now, Some(id), peer, msg, out),
            // An ACK for a 2xx goes to the dialog (RFC 3261 13.2.2.4).
            Ok(Inbound::Stray) if is_ack => self.pass_up(now, None, peer, msg, out),
            Ok(Inbound::Stray) => {}
            Ok(Inbound::Absorbed) => self.counters.retransmissions_absorbed.inc(),
            Err(transaction::Error::Full) => {
                self.counters.transaction_table_full.inc();
                if !is_ack {
                    self.reply_stateless(peer, msg, 503, "Service Unavailable", Some("transaction table full"), out);
                }
            }
            Err(transaction::Error::TooLarge) if !is_ack => {
                self.reply_stateless(peer, msg, 513, "Message Too Large", None, out)
            }
            Err(e) if !is_ack => {
                self.counters.malformed.inc();
                let why = match e {
                    transaction::Error::Malformed => "Malformed transaction headers",
                    _ => "Request refused by the transaction layer",
                };
                self.reply_stateless(peer, msg, 400, why, Some(why), out);
            }
            Err(_) => self.counters.malformed_dropped.inc(),
        }
    }

    /// RFC 3261 9.2: a CANCEL gets 200 when it matches an INVITE server
    /// transaction (whose TU then answers 487), else 481.
    fn on_cancel(&mut self, now: Instant, id: TxId, target: Option<TxId>, msg: &Message<'_>, out: &mut Outbox) {
        let (code, reason) = if target.is_some() { (200, "OK") } else { (481, "Call/Transaction Does Not Exist") };
        self.respond_built(now, id, |buf| stateless::response(buf, msg, code, reason, None, ""), out);
        if let Some(target) = target {
            let ev = ToControl::Cancelled { worker: self.worker, target };
            if self.events.send(ev).is_err() {
                self.counters.control_queue_full.inc();
            }
        }
    }

    /// Hands a request to the control thread, or answers 503 when its queue is full.
    fn pass_up(&mut self, now: Instant, tx: Option<TxId>, peer: Peer, msg: &Message<'_>, out: &mut Outbox) {
        let ev = ToControl::Request { worker: self.worker, tx, peer, msg: msg.buffer().to_vec(), index: Some(msg.index()) };
        if let Err(ToControl::Request { msg, .. }) = self.events.send(ev) {
            self.counters.control_queue_full.inc();
            let Some(id) = tx else { return };
            let Ok(req) = Message::parse(&msg) else { return };
            // RFC 3261 21.5.4 with Retry-After (20.33): come back shortly.
            if !matches!(req.method(), Some(Method::Ack)) {
                self.respond_built(now, id, |buf| stateless::response(buf, &req, 503, "Service Unavailable", Some("control queue full"), "1"), out);
            }
        }
    }

    fn on_response(&mut self, now: Instant, msg: &Message<'_>, _out: &mut Outbox) {
        let Ok(view) = TxView::new(msg) else {
            self.counters.malformed.inc();
            self.counters.malformed_dropped.inc();
            return;
        };
        match self.txn.handle_response(now, &view) {
            Inbound::PassUp(id) => self.send_event(ToControl::Response { worker: self.worker, tx: Some(id), msg: msg.buffer().to_vec(), index: Some(msg.index()) }),
            // A 2xx retransmission after the client transaction ended belongs to the dialog.
            Inbound::Stray if msg.status().is_some_and(|s| (200..300).contains(&s)) => {
                self.send_event(ToControl::Response { worker: self.worker, tx: None, msg: msg.buffer().to_vec(), index: Some(msg.index()) })
            }
            Inbound::Absorbed => self.counters.retransmissions_absorbed.inc(),
            _ => {}
        }
    }

    fn send_event(&self, ev: ToControl) {
        if self.events.send(ev).is_err() {
            self.counters.control_queue_full.inc();
        }
    }

    /// True when the Request-URI designates the core itself (no user part,
    /// host one of ours): RFC 3261 11 OPTIONS to a server. Compared on the
    /// raw bytes, without allocating.
    fn addressed_to_us(&self, msg: &Message<'_>) -> bool {
        let Ok(uri) = msg.request_uri() else { return false };
        if uri.user.is_some_and(|u| !u.is_empty()) {
            return false;
        }
        self.cfg.local_hosts.iter().any(|h| h.as_bytes().eq_ignore_ascii_case(uri.host))
    }

    /// Builds a response to `msg` outside any transaction and sends it to the
    /// request's source (RFC 3581: the flow it came on).
    fn reply_stateless(&mut self, peer: Peer, msg: &Message<'_>, code: u16, reason: &str, warning: Option<&str>, out: &mut Outbox) {
        let n = stateless::response(&mut self.scratch, msg, code, reason, warning, "");
        if n == 0 {
            self.counters.malformed_dropped.inc();
            return;
        }
        if code == 400 {
            self.counters.bad_request_sent.inc();
        }
        self.counters.tx_responses.inc();
        send(&mut self.esp, out, peer, &self.scratch[..n]);
    }

    /// Builds a response with `build` and gives it to transaction `id`.
    fn respond_built(&mut self, now: Instant, id: TxId, build: impl FnOnce(&mut [u8]) -> usize, out: &mut Outbox) {
        let n = build(&mut self.scratch);
        respond(&mut self.txn, now, id, self.scratch.get(..n).unwrap_or_default());
        self.flush(out);
    }

    /// Moves what the transaction layer wants sent into the outbox and its
    /// events to the control thread.
    fn flush(&mut self, out: &mut Outbox) {
        while let Some(t) = self.txn.poll_transmit() {
            if t.bytes.starts_with(b"SIP/2.0 ") {
                self.counters.tx_responses.inc();
            } else {
                self.counters.tx_requests.inc();
            }
            send(&mut self.esp, out, t.peer, t.bytes);
        }
        while let Some(ev) = self.txn.poll_event() {
            let ev = match ev {
                Event::Timeout { id, response, .. } => {
                    self.counters.transaction_timeouts.inc();
                    match response {
                        Some(r) => ToControl::Response { worker: self.worker, tx: Some(id), msg: r.to_vec(), index: None },
                        None => ToControl::ServerTimeout { worker: self.worker, tx: id },
                    }
                }
                Event::TransportError(id) => ToControl::TransportError { worker: self.worker, tx: id },
                _ => continue,
            };
            if self.events.send(ev).is_err() {
                self.counters.control_queue_full.inc();
            }
        }
    }

    fn on_command_inner(&mut self, now: Instant, cmd: ToWorker, out: &mut Outbox) {
        match cmd {
            // The control thread built these: the view comes from a light scan of the
            // lines the layer reads, not a full parse (see `TxView::with_built`).
            ToWorker::Respond { tx, msg } => respond(&mut self.txn, now, tx, &msg),
            ToWorker::SendRequest { peer, msg } => {
                let sent = TxView::with_built(&msg, |view| self.txn.send_request(now, view, &msg, peer, peer.is_reliable()));
                if !matches!(sent, Some(Ok(_))) {
                    self.counters.transaction_table_full.inc();
                }
            }
            ToWorker::SendStateless { peer, msg } => {
                send(&mut self.esp, out, peer, &msg);
            }
            ToWorker::MediaInstall { port, spec } => {
                let _ = self.media.install(port, spec, out);
            }
            ToWorker::MediaUpdate { port, spec } => {
                let _ = self.media.update(port, spec);
            }
            ToWorker::MediaSwitch { port, rtp, rtcp } => {
                let _ = self.media.switch(port, rtp, rtcp);
            }
            ToWorker::MediaRemove { port } => {
                let _ = self.media.remove(port, out);
            }
            ToWorker::IpsecInstall(sa) => {
                self.esp.install(now, &sa, out);
            }
            ToWorker::IpsecRemove { binding } => self.esp.remove(binding),
        }
        self.flush(out);
    }
}

impl Endpoint {
    /// Runs the TCP stack inside the SAs and hands what the UEs sent over it to the SIP
    /// layer as TCP streams (TS 33.203 7.1).
    fn esp_streams(&mut self, now: Instant, out: &mut Outbox) {
        self.esp.poll_stream(now, out);
        let mut from = 0;
        while let Some((conn, peer, bytes)) = self.esp.next_stream(&mut from) {
            let verdict = self.on_stream(now, conn, peer, &bytes, out);
            self.esp.stream_consumed(conn, bytes, verdict);
        }
        self.esp.poll_stream(now, out);
    }
}

/// Gives `raw`, a response this process built, to server transaction `id`. The layer reads
/// only its status (from the start line) and, for an RFC 2543 transaction, its To tag; the
/// full view only when the start line is unusual.
fn respond(txn: &mut TransactionLayer<Peer>, now: Instant, id: TxId, raw: &[u8]) {
    match TxView::built_status(raw) {
        Some(status) => {
            let _ = txn.respond_with(now, id, status, || TxView::built_to_tag(raw), raw);
        }
        None => {
            TxView::with_built(raw, |view| txn.respond(now, id, view, raw));
        }
    }
}

/// Queues `bytes` for `peer` on the transport the peer is reached by; through the UE's
/// outbound SA when the peer was reached on a protected socket (TS 33.203 7.1).
fn send(esp: &mut EspPlane, out: &mut Outbox, peer: Peer, bytes: &[u8]) {
    match peer.transport {
        Transport::Udp(sock) if esp.is_protected(sock) => {
            esp.send(out, peer.addr, bytes);
            return;
        }
        Transport::Tcp(conn) if esp.owns_conn(conn) => {
            esp.send_stream(out, conn, bytes);
            return;
        }
        _ => {}
    }
    let _ = match peer.transport {
        Transport::Udp(sock) => out.send_udp(sock, peer.addr, bytes),
        Transport::Tcp(conn) => out.send_tcp(conn, bytes),
        Transport::TcpTo => out.connect_and_send_tcp(peer.addr, bytes),
    };
}

impl Handler for Endpoint {
    type Command = ToWorker;
    type Event = ToControl;

    fn on_datagram(&mut self, now: Instant, sock: SocketId, src: SocketAddr, data: &[u8], out: &mut Outbox) {
        // RTP and RTCP are handled here and never reach the control thread.
        if self.media.on_datagram(now, sock, src, data, out, &self.counters.media) {
            return;
        }
        match self.esp.on_datagram(sock, src, data) {
            EspRx::NotOurs => {}
            EspRx::Dropped => return,
            EspRx::Stream => return self.esp_streams(now, out),
            EspRx::Deliver { peer, data } => {
                let buf = self.esp.take_buffer();
                if let Some(sip) = buf.get(data) {
                    self.on_message(now, peer, sip, out);
                }
                self.esp.put_buffer(buf);
                return;
            }
        }
        // RFC 5626 keep-alives over UDP are STUN; a lone CRLF is ignored.
        if data.iter().all(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0)) {
            return;
        }
        self.on_message(now, Peer { transport: Transport::Udp(sock), addr: src }, data, out);
    }

    fn on_stream(&mut self, now: Instant, conn: ConnId, peer: SocketAddr, data: &[u8], out: &mut Outbox) -> StreamVerdict {
        let mut used = 0;
        loop {
            let rest = &data[used..];
            if rest.is_empty() {
                return StreamVerdict::Consumed(used);
            }
            // RFC 5626 4.4.1: a double-CRLF ping is answered with a CRLF pong.
            if let Some(k) = keepalive(rest) {
                if k == crate::sip::KeepAlive::Ping {
                    let _ = out.send_tcp(conn, PONG);
                }
                used += k.len();
                continue;
            }
            match frame_len(rest, self.cfg.max_message_size) {
                Ok(Some(n)) if n > 0 => {
                    let p = Peer { transport: Transport::Tcp(conn), addr: peer };
                    self.on_message(now, p, &rest[..n], out);
                    used += n;
                }
                Ok(_) => return StreamVerdict::Consumed(used),
                Err(_) => {
                    // RFC 3261 18.3: without a usable Content-Length the stream
                    // cannot be resynchronised; close it.
                    self.counters.stream_framing_errors.inc();
                    return StreamVerdict::Close;
                }
            }
        }
    }

    fn on_command(&mut self, now: Instant, cmd: ToWorker, out: &mut Outbox) {
        self.on_command_inner(now, cmd, out);
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        [self.txn.poll_timeout(), self.media.poll_timeout(), self.esp.poll_at()].into_iter().flatten().min()
    }

    fn handle_timeout(&mut self, now: Instant, out: &mut Outbox) {
        self.media.handle_timeout(now, out, &self.counters.media);
        self.esp_streams(now, out);
        self.txn.handle_timeout(now);
        self.flush(out);
    }
}
