//! Typed remote API requests: every message name of seed 000 6.5-6.6 with its
//! documented members parsed and validated (types, defaults, ranges). The
//! common messages (6.5) live here, the IMS ones (6.6) in `request_ims`.

use std::time::Duration;

use serde_json::{Map, Value};

use super::fields::{named_enum, FieldError, FieldResult, Fields, Named};
pub use super::request_ims::*;

named_enum! {
    /// Events a client can register to (seed 000 6.5 register, 6.7).
    ApiEvent { UsersUpdate = "users_update", Sms = "sms", Dialog = "dialog" }
}

named_enum! {
    /// Log verbosity (seed 000 5.2 log_options; "warn" appears in log_get.logs.level).
    LogLevel { None = "none", Error = "error", Warn = "warn", Info = "info", Debug = "debug" }
}

named_enum! {
    /// Log layers of the IMS (seed 000 5.2 log_options: "ims, sip, media, rx, cx, n5").
    LogLayer { Ims = "ims", Sip = "sip", Media = "media", Rx = "rx", Cx = "cx", N5 = "n5" }
}

named_enum! {
    /// Log direction (seed 000 6.5 log_set.dir).
    LogDir { Ul = "UL", Dl = "DL", From = "FROM", To = "TO" }
}

named_enum! {
    /// Precondition mode (seed 000 5.2 precondition).
    Precondition { On = "on", Off = "off", Silent = "silent" }
}

named_enum! {
    /// SMS message filter action (seed 000 5.2 sms_message_filter).
    SmsFilterAction { Treat = "treat", Ignore = "ignore", Reject = "reject" }
}

named_enum! {
    /// SMS message types a filter applies to (seed 000 5.2 sms_message_filter).
    SmsFilterType { CpData = "cp_data", CpAck = "cp_ack", RpData = "rp_data", RpAck = "rp_ack" }
}

/// A validated request.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// `authenticate` (6.2).
    Authenticate(Authenticate),
    /// `config_get`.
    ConfigGet,
    /// `config_set`.
    ConfigSet(ConfigSet),
    /// `log_get`.
    LogGet(LogGet),
    /// `log_set`.
    LogSet(LogSet),
    /// `log_reset`.
    LogReset,
    /// `quit`.
    Quit,
    /// `help`.
    Help,
    /// `stats`.
    Stats(Stats),
    /// `register` (event subscriptions).
    Register(Register),
    /// `ipsec`.
    Ipsec,
    /// IMS messages of 6.6.
    Ims(ImsRequest),
}

/// Message names answered by `help` (seed 000 6.5 help).
pub const MESSAGES: &[&str] = &[
    "authenticate", "config_get", "config_set", "log_get", "log_set", "log_reset", "quit", "help", "stats", "register",
    "ipsec", "users_get", "users_add", "user_set", "impu_set", "impu_add", "impu_del", "sms", "sms_flush", "mt_call",
    "dialog_get", "dialog_set", "unregister",
];

/// Why a message could not be turned into a request.
#[derive(Clone, Debug, PartialEq)]
pub enum RequestError {
    /// No such message (seed 000 6.8: "Unknown message: bar").
    Unknown,
    /// A member is missing or invalid.
    Field(FieldError),
}

impl From<FieldError> for RequestError {
    fn from(e: FieldError) -> Self {
        RequestError::Field(e)
    }
}

impl Request {
    /// Parses the members of message `name`.
    pub fn parse(name: &str, f: &Fields<'_>) -> Result<Request, RequestError> {
        Ok(match name {
            "authenticate" => Request::Authenticate(Authenticate::parse(f)?),
            "config_get" => Request::ConfigGet,
            "config_set" => Request::ConfigSet(ConfigSet::parse(f)?),
            "log_get" => Request::LogGet(LogGet::parse(f)?),
            "log_set" => Request::LogSet(LogSet::parse(f)?),
            "log_reset" => Request::LogReset,
            "quit" => Request::Quit,
            "help" => Request::Help,
            "stats" => Request::Stats(Stats::parse(f)?),
            "register" => Request::Register(Register::parse(f)?),
            "ipsec" => Request::Ipsec,
            _ => Request::Ims(ImsRequest::parse(name, f)?.ok_or(RequestError::Unknown)?),
        })
    }
}

/// `authenticate` (6.2): `res`, or `password` in clear when com_auth.unsecure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticate {
    /// HMAC-SHA256 answer, hexadecimal.
    pub res: Option<String>,
    /// Plain password (only accepted with com_auth.unsecure, seed 000 5.2).
    pub password: Option<String>,
}

impl Authenticate {
    fn parse(f: &Fields<'_>) -> FieldResult<Self> {
        let a = Authenticate { res: f.opt_string("res")?, password: f.opt_string("password")? };
        if a.res.is_none() && a.password.is_none() {
            return Err(FieldError::Missing("res".into()));
        }
        Ok(a)
    }
}

/// Per-layer log settings (seed 000 6.5 config_get.logs.layers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LayerConfig {
    /// level.
    pub level: Option<LogLevel>,
    /// max_size: bytes of data dumped.
    pub max_size: Option<u32>,
    /// key: dump security keys.
    pub key: Option<bool>,
    /// crypto: dump plain and ciphered data.
    pub crypto: Option<bool>,
    /// payload: dump payloads in hexadecimal.
    pub payload: Option<bool>,
    /// verbose.
    pub verbose: Option<bool>,
}

/// config_set.logs (all members optional).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogsConfig {
    /// Layer settings; `None` layer stands for "all".
    pub layers: Vec<(Option<LogLayer>, LayerConfig)>,
    /// count: logs kept in memory (seed 000 5.2 com_log_count range).
    pub count: Option<u32>,
    /// rotate: file size before rotation.
    pub rotate: Option<u64>,
    /// path: rotation path.
    pub path: Option<String>,
}

impl LogsConfig {
    fn parse(f: &Fields<'_>) -> FieldResult<Self> {
        let mut layers = Vec::new();
        if let Some(obj) = f.opt_object("layers")? {
            for (name, v) in obj {
                let path = format!("logs.layers.{name}");
                let layer = match name.as_str() {
                    "all" => None,
                    n => Some(LogLayer::from_name(n).ok_or(FieldError::Value { field: path.clone(), allowed: "a log layer (ims, sip, media, rx, cx, n5 or all)" })?),
                };
                let Value::Object(o) = v else { return Err(FieldError::Type { field: path, expected: "an object" }) };
                let prefix = format!("{path}.");
                layers.push((layer, LayerConfig::parse(&Fields::nested(o, &prefix))?));
            }
        }
        Ok(LogsConfig {
            layers,
            count: f.opt_u32("count", 4096..=2_097_152)?,
            rotate: f.opt_int("rotate", 0..=i64::MAX)?.map(|n| n as u64),
            path: f.opt_string("path")?,
        })
    }
}

impl LayerConfig {
    fn parse(f: &Fields<'_>) -> FieldResult<Self> {
        Ok(LayerConfig {
            level: f.opt_enum("level")?,
            max_size: f.opt_u32("max_size", 0..=u32::MAX)?,
            key: flag(f, "key")?,
            crypto: flag(f, "crypto")?,
            payload: flag(f, "payload")?,
            verbose: flag(f, "verbose")?,
        })
    }
}

/// A log_options flag: boolean, or 0/1 as in the configuration text form.
fn flag(f: &Fields<'_>, name: &str) -> FieldResult<Option<bool>> {
    match f.get(name) {
        Some(Value::Number(_)) => Ok(f.opt_int(name, 0..=1)?.map(|n| n == 1)),
        _ => f.opt_bool(name),
    }
}

/// session_expires (seed 000 5.2): object, or legacy integer duration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionExpires {
    /// duration in seconds.
    pub duration: Option<u32>,
    /// min: minimum session expires.
    pub min: Option<u32>,
    /// refresher: "uac" or "uas".
    pub refresher: Option<String>,
    /// method: "update" or "invite".
    pub method: Option<String>,
    /// force.
    pub force: Option<bool>,
}

/// `config_set` (6.5): each member optional.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigSet {
    /// logs (refused with "locked" when com_logs_lock).
    pub logs: Option<LogsConfig>,
    /// precondition.
    pub precondition: Option<Precondition>,
    /// session_expires.
    pub session_expires: Option<SessionExpires>,
    /// sms_retry_delay (s).
    pub sms_retry_delay: Option<u32>,
    /// sms_expires (s).
    pub sms_expires: Option<u32>,
    /// sms_hook_only.
    pub sms_hook_only: Option<bool>,
    /// binding_expires (s, max 864000).
    pub binding_expires: Option<u32>,
    /// subscribe_expires (s, max 864000).
    pub subscribe_expires: Option<u32>,
    /// auth_on_register_only.
    pub auth_on_register_only: Option<bool>,
    /// dialog_timeout (s).
    pub dialog_timeout: Option<u32>,
    /// p_called_party_id.
    pub p_called_party_id: Option<bool>,
    /// sms_message_filter.
    pub sms_message_filter: Option<Vec<(SmsFilterType, SmsFilterAction)>>,
    /// sms_forced_cp_cause (0 disables).
    pub sms_forced_cp_cause: Option<u8>,
    /// sms_forced_rp_cause (0 disables).
    pub sms_forced_rp_cause: Option<u8>,
    /// mms_expires (s).
    pub mms_expires: Option<u32>,
    /// custom_headers: replaces the configured list; items are objects.
    pub custom_headers: Option<Vec<Map<String, Value>>>,
    /// 100rel.
    pub rel100: Option<bool>,
    /// tcp_threshold (bytes).
    pub tcp_threshold: Option<u32>,
    /// tcp_keepalive (s, 0 disables).
    pub tcp_keepalive: Option<u32>,
    /// tcp_keepcount.
    pub tcp_keepcount: Option<u32>,
}

const SECONDS: std::ops::RangeInclusive<u32> = 0..=u32::MAX;

impl ConfigSet {
    fn parse(f: &Fields<'_>) -> FieldResult<Self> {
        let logs = match f.opt_object("logs")? {
            Some(o) => Some(LogsConfig::parse(&Fields::nested(o, "logs."))?),
            None => None,
        };
        Ok(ConfigSet {
            logs,
            precondition: f.opt_enum("precondition")?,
            session_expires: session_expires(f)?,
            sms_retry_delay: f.opt_u32("sms_retry_delay", SECONDS)?,
            sms_expires: f.opt_u32("sms_expires", SECONDS)?,
            sms_hook_only: f.opt_bool("sms_hook_only")?,
            binding_expires: f.opt_u32("binding_expires", 0..=864_000)?,
            subscribe_expires: f.opt_u32("subscribe_expires", 0..=864_000)?,
            auth_on_register_only: f.opt_bool("auth_on_register_only")?,
            dialog_timeout: f.opt_u32("dialog_timeout", SECONDS)?,
            p_called_party_id: f.opt_bool("p_called_party_id")?,
            sms_message_filter: sms_filter(f)?,
            sms_forced_cp_cause: f.opt_u32("sms_forced_cp_cause", 0..=255)?.map(|n| n as u8),
            sms_forced_rp_cause: f.opt_u32("sms_forced_rp_cause", 0..=255)?.map(|n| n as u8),
            mms_expires: f.opt_u32("mms_expires", SECONDS)?,
            custom_headers: custom_headers(f)?,
            rel100: f.opt_bool("100rel")?,
            tcp_threshold: f.opt_u32("tcp_threshold", 0..=65_535)?,
            tcp_keepalive: f.opt_u32("tcp_keepalive", SECONDS)?,
            tcp_keepcount: f.opt_u32("tcp_keepcount", 0..=1000)?,
        })
    }
}

fn session_expires(f: &Fields<'_>) -> FieldResult<Option<SessionExpires>> {
    if let Some(Value::Number(_)) = f.get("session_expires") {
        // Seed 000 5.2: "For legacy purpose, session_expires can be an integer".
        let duration = f.opt_u32("session_expires", SECONDS)?;
        return Ok(Some(SessionExpires { duration, ..SessionExpires::default() }));
    }
    let Some(o) = f.opt_object("session_expires")? else { return Ok(None) };
    let s = Fields::nested(o, "session_expires.");
    Ok(Some(SessionExpires {
        duration: s.opt_u32("duration", SECONDS)?,
        min: s.opt_u32("min", SECONDS)?,
        refresher: s.opt_string("refresher")?,
        method: s.opt_string("method")?,
        force: s.opt_bool("force")?,
    }))
}

fn sms_filter(f: &Fields<'_>) -> FieldResult<Option<Vec<(SmsFilterType, SmsFilterAction)>>> {
    let Some(o) = f.opt_object("sms_message_filter")? else { return Ok(None) };
    let s = Fields::nested(o, "sms_message_filter.");
    let mut out = Vec::new();
    for key in o.keys() {
        let t = SmsFilterType::from_name(key).ok_or(FieldError::Value { field: s.path(key), allowed: SmsFilterType::ALLOWED })?;
        if let Some(a) = s.opt_enum(key)? {
            out.push((t, a));
        }
    }
    Ok(Some(out))
}

fn custom_headers(f: &Fields<'_>) -> FieldResult<Option<Vec<Map<String, Value>>>> {
    let Some(items) = f.opt_array("custom_headers")? else { return Ok(None) };
    let objects = items.iter().map(|v| v.as_object().cloned()).collect::<Option<Vec<_>>>();
    objects.map(Some).ok_or(FieldError::Type { field: "custom_headers".into(), expected: "an array of objects" })
}

/// `stats` (6.5), with the ringcore extension `histograms`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// `"histograms": "hdr"`: add the latency histograms in HdrHistogram's base64 form.
    pub hdr_histograms: bool,
}

impl Stats {
    fn parse(f: &Fields<'_>) -> FieldResult<Self> {
        match f.opt_string("histograms")?.as_deref() {
            None => Ok(Stats::default()),
            Some("hdr") => Ok(Stats { hdr_histograms: true }),
            Some(_) => Err(FieldError::Value { field: "histograms".into(), allowed: "\"hdr\"" }),
        }
    }
}

/// `log_get` (6.5) with its defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub struct LogGet {
    /// min (default 1): logs needed before answering, unless the timeout passes.
    pub min: u32,
    /// max (default 4096): logs per response.
    pub max: u32,
    /// timeout (default 1 s): quiet time after the last log before answering.
    pub timeout: Duration,
    /// allow_empty (default false): answer after the timeout even without logs.
    pub allow_empty: bool,
    /// rnti filter.
    pub rnti: Option<u32>,
    /// ue_id filter.
    pub ue_id: Option<u64>,
    /// layers: maximum level per layer; `None` means every layer at debug.
    pub layers: Option<Vec<(LogLayer, LogLevel)>>,
    /// short (default false): first line of each log only.
    pub short: bool,
    /// headers: send the log file headers.
    pub headers: Option<bool>,
    /// start_timestamp (ms): older logs are filtered out.
    pub start_timestamp: Option<f64>,
    /// end_timestamp (ms): more recent logs are filtered out.
    pub end_timestamp: Option<f64>,
    /// max_size (default 1 MiB): bytes of JSON that force the response.
    pub max_size: usize,
}

/// Bound on log_get.max (a response never holds more logs than the buffer).
pub const LOG_GET_MAX_LOGS: u32 = 2_097_152;
/// Bound on log_get.max_size (the WebSocket message bound of the sender side).
pub const LOG_GET_MAX_SIZE: i64 = 64 * 1024 * 1024;

impl LogGet {
    fn parse(f: &Fields<'_>) -> FieldResult<Self> {
        let mut layers = None;
        if let Some(o) = f.opt_object("layers")? {
            let l = Fields::nested(o, "layers.");
            let mut v = Vec::new();
            for key in o.keys() {
                let layer = LogLayer::from_name(key).ok_or(FieldError::Value { field: l.path(key), allowed: LogLayer::ALLOWED })?;
                v.extend(l.opt_enum(key)?.map(|level| (layer, level)));
            }
            layers = Some(v);
        }
        Ok(LogGet {
            min: f.opt_u32("min", 0..=LOG_GET_MAX_LOGS)?.unwrap_or(1),
            max: f.opt_u32("max", 1..=LOG_GET_MAX_LOGS)?.unwrap_or(4096),
            timeout: f.opt_seconds("timeout", 86_400.0)?.unwrap_or(Duration::from_secs(1)),
            allow_empty: f.bool_or("allow_empty", false)?,
            rnti: f.opt_u32("rnti", 0..=65_535)?,
            ue_id: f.opt_int("ue_id", 0..=i64::MAX)?.map(|n| n as u64),
            layers,
            short: f.bool_or("short", false)?,
            headers: f.opt_bool("headers")?,
            start_timestamp: f.opt_num("start_timestamp", 0.0..=f64::MAX)?,
            end_timestamp: f.opt_num("end_timestamp", 0.0..=f64::MAX)?,
            max_size: f.opt_int("max_size", 1024..=LOG_GET_MAX_SIZE)?.map_or(1_048_576, |n| n as usize),
        })
    }
}

/// `log_set` (6.5).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogSet {
    /// The log to add, with its mandatory layer and level.
    pub log: Option<(String, LogLayer, LogLevel)>,
    /// dir.
    pub dir: Option<LogDir>,
    /// ue_id.
    pub ue_id: Option<u64>,
    /// flush the log file.
    pub flush: bool,
    /// force rotation.
    pub rotate: bool,
    /// force reset of the log file.
    pub cut: bool,
}

impl LogSet {
    fn parse(f: &Fields<'_>) -> FieldResult<Self> {
        let layer: Option<LogLayer> = f.opt_enum("layer")?;
        let level: Option<LogLevel> = f.opt_enum("level")?;
        let log = match f.opt_string("log")? {
            // Seed 000 6.5: "If set, layer and level are mandatory".
            Some(text) => Some((
                text,
                layer.ok_or(FieldError::Missing("layer".into()))?,
                level.ok_or(FieldError::Missing("level".into()))?,
            )),
            None => None,
        };
        Ok(LogSet {
            log,
            dir: f.opt_enum("dir")?,
            ue_id: f.opt_int("ue_id", 0..=i64::MAX)?.map(|n| n as u64),
            flush: f.bool_or("flush", false)?,
            rotate: f.bool_or("rotate", false)?,
            cut: f.bool_or("cut", false)?,
        })
    }
}

/// `register` (6.5): events to register and unregister.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Register {
    /// Events to start receiving.
    pub register: Vec<ApiEvent>,
    /// Events to stop receiving.
    pub unregister: Vec<ApiEvent>,
}

impl Register {
    fn parse(f: &Fields<'_>) -> FieldResult<Self> {
        let events = |name: &str| -> FieldResult<Vec<ApiEvent>> {
            let names = f.opt_str_list(name)?.unwrap_or_default();
            names.iter().map(|n| ApiEvent::from_name(n).ok_or(FieldError::Value { field: f.path(name), allowed: ApiEvent::ALLOWED })).collect()
        };
        Ok(Register { register: events("register")?, unregister: events("unregister")? })
    }
}
