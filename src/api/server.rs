//! The remote API server, sans-IO: a bounded table of WebSocket connections,
//! each with its API session. The control thread accepts sockets, moves bytes
//! in and out, and fans events out with `broadcast_event`; it never blocks on
//! a client because every send queue is bounded (`WsConfig::max_send_queue`).

use std::time::Instant;

use serde_json::{Map, Value};

use super::context::ApiContext;
use super::request::ApiEvent;
use super::session::{Api, ApiConfig, Session};
use super::ws::{CloseCode, Connection, Event, WsConfig};

/// Identifies a connection (slot and generation, so stale ids are harmless).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnId {
    slot: u32,
    generation: u32,
}

/// All connection slots are in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

/// Server settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// API envelope settings.
    pub api: ApiConfig,
    /// WebSocket bounds and timers.
    pub ws: WsConfig,
    /// Largest number of simultaneous connections.
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { api: ApiConfig::default(), ws: WsConfig::default(), max_connections: 64 }
    }
}

struct Peer {
    conn: Connection,
    session: Session,
    /// The startup message has been queued.
    greeted: bool,
}

struct Slot {
    generation: u32,
    peer: Option<Peer>,
}

/// The remote API server.
pub struct ApiServer {
    api: Api,
    ws: WsConfig,
    slots: Vec<Slot>,
}

impl ApiServer {
    /// A server with `cfg` and a 32-byte random seed for challenges.
    pub fn new(cfg: ServerConfig, seed: [u8; 32]) -> ApiServer {
        let slots = (0..cfg.max_connections).map(|_| Slot { generation: 0, peer: None }).collect();
        ApiServer { api: Api::new(cfg.api, seed), ws: cfg.ws, slots }
    }

    /// Registers a socket accepted at `now`.
    pub fn accept(&mut self, now: Instant) -> Result<ConnId, Full> {
        let (i, slot) = self.slots.iter_mut().enumerate().find(|(_, s)| s.peer.is_none()).ok_or(Full)?;
        slot.generation = slot.generation.wrapping_add(1);
        slot.peer = Some(Peer { conn: Connection::new(now, self.ws), session: Session::default(), greeted: false });
        // The slot count is a configured bound far below u32::MAX.
        Ok(ConnId { slot: i as u32, generation: slot.generation })
    }

    fn peer(&self, id: ConnId) -> Option<&Peer> {
        let s = self.slots.get(id.slot as usize)?;
        s.peer.as_ref().filter(|_| s.generation == id.generation)
    }

    fn peer_mut(&mut self, id: ConnId) -> Option<&mut Peer> {
        let s = self.slots.get_mut(id.slot as usize)?;
        s.peer.as_mut().filter(|_| s.generation == id.generation)
    }

    /// Feeds bytes read from connection `id`, running the requests they complete.
    pub fn handle_bytes(&mut self, id: ConnId, now: Instant, ctx: &mut dyn ApiContext, data: &[u8]) {
        let Some(slot) = self.slots.get_mut(id.slot as usize).filter(|s| s.generation == id.generation) else { return };
        let Some(peer) = slot.peer.as_mut() else { return };
        peer.conn.handle_bytes(now, data);
        if !peer.greeted && peer.conn.is_open() {
            // Seed 000 6.2: the first message once the WebSocket is set up.
            let (session, hello) = self.api.open_session();
            peer.session = session;
            peer.greeted = true;
            send(&mut peer.conn, &hello);
        }
        while let Some(ev) = peer.conn.poll_event() {
            let Event::Message(text) = ev else { continue };
            for v in self.api.handle_text(&mut peer.session, now, ctx, &text) {
                send(&mut peer.conn, &v);
            }
            if peer.session.close_requested() {
                peer.conn.close(now, CloseCode::POLICY_VIOLATION, "Authentication failed");
            }
        }
    }

    /// Bytes to write to connection `id`.
    pub fn poll_transmit(&self, id: ConnId) -> Option<&[u8]> {
        self.peer(id)?.conn.poll_transmit()
    }

    /// Marks `n` bytes of `poll_transmit(id)` as written.
    pub fn consume_transmit(&mut self, id: ConnId, n: usize) {
        if let Some(p) = self.peer_mut(id) {
            p.conn.consume_transmit(n);
        }
    }

    /// True when the socket of `id` should be closed (after flushing) and `remove`d.
    /// Unknown ids count as closed.
    pub fn is_closed(&self, id: ConnId) -> bool {
        self.peer(id).map_or(true, |p| p.conn.is_closed())
    }

    /// Frees the slot of a closed (or reset) connection.
    pub fn remove(&mut self, id: ConnId) {
        if let Some(s) = self.slots.get_mut(id.slot as usize).filter(|s| s.generation == id.generation) {
            s.peer = None;
        }
    }

    /// Live connection ids.
    pub fn connections(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.slots.iter().enumerate().filter(|(_, s)| s.peer.is_some()).map(|(i, s)| ConnId { slot: i as u32, generation: s.generation })
    }

    /// Earliest timer over every connection and session.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let peers = self.slots.iter().filter_map(|s| s.peer.as_ref());
        peers.flat_map(|p| [p.conn.poll_timeout(), p.session.poll_timeout()]).flatten().min()
    }

    /// Runs the timers due at `now` (pings, timeouts, pending log_get).
    pub fn handle_timeout(&mut self, now: Instant, ctx: &mut dyn ApiContext) {
        for peer in self.slots.iter_mut().filter_map(|s| s.peer.as_mut()) {
            peer.conn.handle_timeout(now);
            if let Some(v) = self.api.handle_timeout(&mut peer.session, now, ctx) {
                send(&mut peer.conn, &v);
            }
        }
    }

    /// New logs were stored: answer the log_get requests now satisfied.
    pub fn logs_changed(&mut self, now: Instant, ctx: &mut dyn ApiContext) {
        for peer in self.slots.iter_mut().filter_map(|s| s.peer.as_mut()) {
            if let Some(v) = self.api.logs_changed(&mut peer.session, now, ctx) {
                send(&mut peer.conn, &v);
            }
        }
    }

    /// True when some connection is registered to `event` (seed 000 5.2 sms_hook_only).
    pub fn has_subscribers(&self, event: ApiEvent) -> bool {
        self.slots.iter().filter_map(|s| s.peer.as_ref()).any(|p| p.conn.is_open() && p.session.is_registered(event))
    }

    /// Sends `{"message": <event>, ...payload}` (seed 000 6.7) to every
    /// connection registered to `event`; a client whose queue is full is dropped.
    pub fn broadcast_event(&mut self, event: ApiEvent, payload: &Map<String, Value>) {
        use super::fields::Named as _;
        let mut m = payload.clone();
        m.insert("message".into(), event.name().into());
        let text = Value::Object(m).to_string();
        for peer in self.slots.iter_mut().filter_map(|s| s.peer.as_mut()) {
            if peer.session.is_registered(event) && peer.conn.is_open() {
                let _ = peer.conn.send_text(&text);
            }
        }
    }

    /// Starts closing every connection (server shutdown, RFC 6455 7.4.1: 1001).
    pub fn shutdown(&mut self, now: Instant) {
        for peer in self.slots.iter_mut().filter_map(|s| s.peer.as_mut()) {
            peer.conn.close(now, CloseCode::GOING_AWAY, "");
        }
    }
}

/// Queues a JSON message; a refused send has already dropped the connection.
fn send(conn: &mut Connection, v: &Value) {
    let _ = conn.send_text(&v.to_string());
}
