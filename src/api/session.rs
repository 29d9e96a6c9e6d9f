//! The lteims API envelope, sans-IO (seed 000 6.1-6.3, 6.5): the startup
//! message, authentication, strict JSON requests (one object or an array of
//! objects), `message_id` echo, errors, event subscriptions and pending
//! log_get requests. `Api` holds what is shared by all connections, `Session`
//! the state of one connection.

use std::time::Instant;

use serde_json::{json, Map, Value};

use super::auth::{verify_password, verify_res, AuthConfig, ChallengeSource, SERVER_TYPE};
use super::context::{ApiContext, Reply};
use super::fields::{Fields, Named};
use super::log_get::PendingLogGet;
use super::request::{ApiEvent, Authenticate, ConfigSet, ImsRequest, Register, Request, RequestError, MESSAGES};

/// Settings of the remote API (seed 000 5.2 com_*).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiConfig {
    /// com_name (default "IMS").
    pub name: String,
    /// Server version reported in the startup message.
    pub version: String,
    /// com_auth, with the password resolved.
    pub auth: Option<AuthConfig>,
    /// com_logs_lock.
    pub logs_locked: bool,
    /// Largest array of messages accepted in one WebSocket message.
    pub max_batch: usize,
    /// Failed authentications after which the connection is closed.
    pub max_auth_failures: u32,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            name: "IMS".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            auth: None,
            logs_locked: false,
            max_batch: 1024,
            max_auth_failures: 8,
        }
    }
}

/// API state of one connection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Session {
    authenticated: bool,
    challenge: Option<String>,
    auth_failures: u32,
    /// Registered events, one bit per `ApiEvent` (its index in `ApiEvent::ALL`).
    events: u8,
    pending_log: Option<PendingLogGet>,
    /// Index of the next log this connection has not received.
    log_cursor: u64,
    close_requested: bool,
}

impl Session {
    /// True when authenticated and registered to `event`.
    pub fn is_registered(&self, event: ApiEvent) -> bool {
        self.authenticated && self.events & event_bit(event) != 0
    }

    /// True once the session wants its connection closed (too many failed authentications).
    pub fn close_requested(&self) -> bool {
        self.close_requested
    }

    /// True once requests other than `authenticate` are accepted.
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// When `Api::handle_timeout` must be called for this session.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending_log.as_ref().map(PendingLogGet::deadline)
    }
}

fn event_bit(e: ApiEvent) -> u8 {
    let i = ApiEvent::ALL.iter().position(|(_, v)| *v == e).unwrap_or(0);
    1 << i
}

/// Shared state of the remote API.
pub struct Api {
    cfg: ApiConfig,
    challenges: ChallengeSource,
}

impl Api {
    /// An API with its configuration and a 32-byte random seed for challenges.
    pub fn new(cfg: ApiConfig, seed: [u8; 32]) -> Api {
        Api { cfg, challenges: ChallengeSource::new(seed) }
    }

    /// The configuration.
    pub fn config(&self) -> &ApiConfig {
        &self.cfg
    }

    /// A session for a new connection and its startup message (seed 000 6.2).
    pub fn open_session(&mut self) -> (Session, Value) {
        let mut s = Session { authenticated: self.cfg.auth.is_none(), ..Session::default() };
        let msg = if self.cfg.auth.is_some() {
            let c = self.challenges.next_challenge();
            s.challenge = Some(c.clone());
            json!({"message": "authenticate", "type": SERVER_TYPE, "name": self.cfg.name, "version": self.cfg.version, "challenge": c})
        } else {
            json!({"message": "ready", "type": SERVER_TYPE, "name": self.cfg.name, "version": self.cfg.version})
        };
        (s, msg)
    }

    /// Handles one WebSocket text message; returns the responses to send in order.
    pub fn handle_text(&mut self, s: &mut Session, now: Instant, ctx: &mut dyn ApiContext, text: &str) -> Vec<Value> {
        let mut out = Vec::new();
        // Seed 000 6.1: "strict JSON"; serde_json refuses trailing characters.
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(o)) => self.handle_one(s, now, ctx, &o, &mut out),
            Ok(Value::Array(items)) if items.len() > self.cfg.max_batch => {
                out.push(json!({"error": format!("Too many messages: at most {}", self.cfg.max_batch)}));
            }
            // Seed 000 6.1: an array of message objects; each one is answered.
            Ok(Value::Array(items)) => {
                for item in &items {
                    match item {
                        Value::Object(o) => self.handle_one(s, now, ctx, o, &mut out),
                        _ => out.push(json!({"error": "Message must be an object"})),
                    }
                }
            }
            Ok(_) => out.push(json!({"error": "Message must be an object or an array of objects"})),
            Err(e) => out.push(json!({"error": format!("Invalid JSON: {e}")})),
        }
        out
    }

    /// Re-examines a pending log_get after new logs were stored.
    pub fn logs_changed(&self, s: &mut Session, now: Instant, ctx: &mut dyn ApiContext) -> Option<Value> {
        let p = s.pending_log.as_mut()?;
        if !p.is_ready(now, ctx.log_available(&p.req, s.log_cursor)) {
            return None;
        }
        let p = s.pending_log.take()?;
        Some(complete_log(s, ctx, p))
    }

    /// Runs the session timers due at `now` (the log_get timeout).
    pub fn handle_timeout(&self, s: &mut Session, now: Instant, ctx: &mut dyn ApiContext) -> Option<Value> {
        if s.poll_timeout().is_some_and(|t| now >= t) {
            return self.logs_changed(s, now, ctx);
        }
        None
    }

    fn handle_one(&mut self, s: &mut Session, now: Instant, ctx: &mut dyn ApiContext, o: &Map<String, Value>, out: &mut Vec<Value>) {
        let id = o.get("message_id").cloned();
        let name = match o.get("message") {
            Some(Value::String(n)) => n.as_str(),
            Some(Value::Null) | None => return out.push(response(None, id, Err("Missing parameter: message".into()))),
            Some(_) => return out.push(response(None, id, Err("Invalid parameter: message must be a string".into()))),
        };
        // Seed 000 6.2: any other message before authentication succeeds gets this error.
        if !s.authenticated && name != "authenticate" {
            return out.push(response(Some(name), id, Err("Authentication not done".into())));
        }
        match Request::parse(name, &Fields::new(o)) {
            Err(RequestError::Unknown) => out.push(response(Some(name), id, Err(format!("Unknown message: {name}")))),
            Err(RequestError::Field(e)) => out.push(response(Some(name), id, Err(e.to_string()))),
            Ok(Request::Authenticate(a)) => out.push(self.authenticate(s, id, &a)),
            Ok(Request::LogGet(req)) => {
                // Seed 000 6.5: a new log_get forces the previous one out.
                if let Some(prev) = s.pending_log.take() {
                    out.push(complete_log(s, ctx, prev));
                }
                s.pending_log = Some(PendingLogGet::new(now, req, id));
                out.extend(self.logs_changed(s, now, ctx));
            }
            Ok(req) => {
                let reply = self.execute(s, ctx, req);
                out.push(response(Some(name), id, reply));
            }
        }
    }

    fn execute(&self, s: &mut Session, ctx: &mut dyn ApiContext, req: Request) -> Reply {
        match req {
            Request::ConfigGet => ctx.config_get().map(|mut m| {
                m.insert("type".into(), SERVER_TYPE.into());
                m.insert("name".into(), self.cfg.name.clone().into());
                m.insert("locked".into(), self.cfg.logs_locked.into());
                m
            }),
            Request::ConfigSet(c) => self.config_set(ctx, c),
            Request::LogSet(r) => ctx.log_set(&r),
            Request::LogReset => ctx.log_reset(),
            Request::Quit => ctx.quit(),
            Request::Help => {
                let events: Vec<&str> = ApiEvent::ALL.iter().map(|(n, _)| *n).collect();
                Ok(json_map(json!({"messages": MESSAGES, "events": events})))
            }
            Request::Stats(r) => ctx.stats(&r),
            Request::Register(r) => Ok(register(s, &r)),
            Request::Ipsec => ctx.ipsec(),
            Request::Ims(r) => ims(ctx, &r),
            // Handled by the caller before execution.
            Request::Authenticate(_) | Request::LogGet(_) => Ok(Map::new()),
        }
    }

    /// Seed 000 6.5 config_set: "If set and logs are locked, response will have logs property set to locked."
    fn config_set(&self, ctx: &mut dyn ApiContext, mut c: ConfigSet) -> Reply {
        let locked = self.cfg.logs_locked && c.logs.take().is_some();
        let mut m = ctx.config_set(&c)?;
        if locked {
            m.insert("logs".into(), "locked".into());
        }
        Ok(m)
    }

    /// Seed 000 6.2: check `res`; on failure, an error and a new challenge.
    fn authenticate(&mut self, s: &mut Session, id: Option<Value>, a: &Authenticate) -> Value {
        let ready = || response(Some("authenticate"), id.clone(), Ok(json_map(json!({"ready": true}))));
        let Some(auth) = &self.cfg.auth else { return ready() };
        if s.authenticated {
            return ready();
        }
        let challenge = s.challenge.as_deref().unwrap_or_default();
        let (ok, error) = match (&a.res, &a.password) {
            (Some(res), _) => (verify_res(&auth.password, &self.cfg.name, challenge, res), "Authentication failed"),
            (None, Some(p)) if auth.unsecure => (verify_password(&auth.password, p), "Authentication failed"),
            _ => (false, "Plain password not allowed"),
        };
        if ok {
            s.authenticated = true;
            s.challenge = None;
            return ready();
        }
        s.auth_failures += 1;
        s.close_requested = s.auth_failures >= self.cfg.max_auth_failures;
        let c = self.challenges.next_challenge();
        s.challenge = Some(c.clone());
        let mut v = response(Some("authenticate"), id, Err(error.into()));
        if let Value::Object(m) = &mut v {
            m.insert("type".into(), SERVER_TYPE.into());
            m.insert("name".into(), self.cfg.name.clone().into());
            m.insert("challenge".into(), c.into());
        }
        v
    }
}

fn register(s: &mut Session, r: &Register) -> Map<String, Value> {
    for e in &r.register {
        s.events |= event_bit(*e);
    }
    for e in &r.unregister {
        s.events &= !event_bit(*e);
    }
    Map::new()
}

fn ims(ctx: &mut dyn ApiContext, r: &ImsRequest) -> Reply {
    match r {
        ImsRequest::UsersGet(q) => ctx.users_get(q),
        ImsRequest::UsersAdd(q) => ctx.users_add(q),
        ImsRequest::UserSet(q) => ctx.user_set(q),
        ImsRequest::ImpuSet(q) => ctx.impu_set(q),
        ImsRequest::ImpuAdd(q) => ctx.impu_add(q),
        ImsRequest::ImpuDel(q) => ctx.impu_del(q),
        ImsRequest::Sms(q) => ctx.sms(q),
        ImsRequest::SmsFlush(q) => ctx.sms_flush(q),
        ImsRequest::MtCall(q) => ctx.mt_call(q),
        ImsRequest::DialogGet(q) => ctx.dialog_get(q),
        ImsRequest::DialogSet(q) => ctx.dialog_set(q),
        ImsRequest::Unregister(q) => ctx.unregister(q),
    }
}

/// Takes the logs of a finished log_get and builds its response.
fn complete_log(s: &mut Session, ctx: &mut dyn ApiContext, p: PendingLogGet) -> Value {
    let batch = ctx.log_take(&p.req, s.log_cursor);
    s.log_cursor = batch.next_cursor.max(s.log_cursor);
    let mut m = Map::new();
    m.insert("logs".into(), Value::Array(batch.logs));
    if let Some(d) = batch.discontinuity {
        m.insert("discontinuity".into(), d.into());
    }
    response(Some("log_get"), p.message_id, Ok(m))
}

/// `{"message": name, "message_id": id, ...members}` or `{..., "error": text}` (seed 000 6.3, 6.8).
pub fn response(name: Option<&str>, id: Option<Value>, reply: Reply) -> Value {
    let mut m = match reply {
        Ok(m) => m,
        Err(e) => json_map(json!({"error": e})),
    };
    if let Some(n) = name {
        m.insert("message".into(), n.into());
    }
    if let Some(id) = id {
        m.insert("message_id".into(), id);
    }
    Value::Object(m)
}

fn json_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
