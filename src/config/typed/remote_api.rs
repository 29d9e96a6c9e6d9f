//! Remote API properties of seed 000 5.2 (`com_*`, `com_auth`,
//! `com_log_count`), the start-up `sim_events`, and `license_server`.

use std::net::SocketAddr;

use serde::Serialize;

use super::reader::{Ctx, Field, Obj};
use crate::config::value::{Value, ValueKind};

/// Default remote API port.
pub const DEFAULT_COM_PORT: u16 = 9003;

/// Remote API authentication (seed 000 6 "Startup").
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComAuth {
    /// File holding the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passfile: Option<String>,
    /// The password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Allow the password in plain text (default false).
    pub unsecure: bool,
}

/// License server (accepted for compatibility).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LicenseServer {
    /// Server address.
    pub server_addr: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Only licenses with this tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// Remote API settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RemoteApiSettings {
    /// WebSocket server address; the server is enabled when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub com_addr: Option<SocketAddr>,
    /// Server name (default "IMS").
    pub com_name: String,
    /// TLS certificate; forces TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub com_ssl_certificate: Option<String>,
    /// TLS private key; required with the certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub com_ssl_key: Option<String>,
    /// Verify client certificates (default false).
    pub com_ssl_peer_verify: bool,
    /// CA certificate for peer verification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub com_ssl_ca: Option<String>,
    /// Forbid log configuration changes through config_set (default false).
    pub com_logs_lock: bool,
    /// Authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub com_auth: Option<ComAuth>,
    /// Logs kept in memory (range 4096..2097152, default 8192).
    pub com_log_count: u32,
    /// Events run at start-up, remote API message objects.
    pub sim_events: Vec<serde_json::Value>,
    /// Overrides loop_count of each event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sim_events_loop_count: Option<u32>,
    /// Overrides loop_delay of each event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sim_events_loop_delay: Option<f64>,
    /// License server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_server: Option<LicenseServer>,
}

impl RemoteApiSettings {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj<'_>) -> Self {
        let s = RemoteApiSettings {
            com_addr: o.take(ctx, "com_addr").and_then(|f| f.socket_addr(ctx, DEFAULT_COM_PORT)),
            com_name: o.string(ctx, "com_name", "IMS"),
            com_ssl_certificate: o.opt_string(ctx, "com_ssl_certificate"),
            com_ssl_key: o.opt_string(ctx, "com_ssl_key"),
            com_ssl_peer_verify: o.bool(ctx, "com_ssl_peer_verify", false),
            com_ssl_ca: o.opt_string(ctx, "com_ssl_ca"),
            com_logs_lock: o.bool(ctx, "com_logs_lock", false),
            com_auth: o.take(ctx, "com_auth").and_then(|f| read_auth(ctx, &f)),
            com_log_count: o.int(ctx, "com_log_count", 8192, 4096..=2_097_152),
            sim_events: o.take(ctx, "sim_events").map(|f| read_events(ctx, &f)).unwrap_or_default(),
            sim_events_loop_count: o.opt_int(ctx, "sim_events_loop_count", 0..=i64::from(u32::MAX)),
            sim_events_loop_delay: o.opt_num(ctx, "sim_events_loop_delay", 0.0..=1e9),
            license_server: o.take(ctx, "license_server").and_then(|f| read_license(ctx, &f)),
        };
        if s.com_ssl_certificate.is_some() && s.com_ssl_key.is_none() {
            o.missing(ctx, "com_ssl_key (com_ssl_certificate is set)");
        }
        s
    }
}

fn read_auth(ctx: &mut Ctx, f: &Field<'_>) -> Option<ComAuth> {
    let mut o = f.object(ctx)?;
    let a = ComAuth {
        passfile: o.opt_string(ctx, "passfile"),
        password: o.opt_string(ctx, "password"),
        unsecure: o.bool(ctx, "unsecure", false),
    };
    if a.passfile.is_none() && a.password.is_none() && !o.has("passfile") && !o.has("password") {
        o.missing(ctx, "password (or passfile)");
    }
    o.finish(ctx);
    Some(a)
}

fn read_license(ctx: &mut Ctx, f: &Field<'_>) -> Option<LicenseServer> {
    let mut o = f.object(ctx)?;
    let server_addr = o.require(ctx, "server_addr").and_then(|s| s.str(ctx).map(str::to_owned));
    let name = o.opt_string(ctx, "name");
    let tag = o.opt_string(ctx, "tag");
    o.finish(ctx);
    Some(LicenseServer { server_addr: server_addr?, name, tag })
}

/// Array of remote API message objects whose `message` must be `event`.
fn read_events(ctx: &mut Ctx, f: &Field<'_>) -> Vec<serde_json::Value> {
    let Some(items) = f.array(ctx) else { return Vec::new() };
    let mut out = Vec::new();
    for item in &items {
        if !matches!(item.v.kind, ValueKind::Object(_)) {
            let _ = item.object(ctx);
            continue;
        }
        match item.v.get("message").map(|m| &m.kind) {
            Some(ValueKind::String(m)) if m == "event" => {}
            _ => ctx.error(&item.v.loc, &item.path, "sim_events item needs message: \"event\""),
        }
        if let Some(j) = to_json(ctx, item.v, &item.path) {
            out.push(j);
        }
    }
    out
}

/// Plain JSON copy of a value (complex numbers and non-finite numbers refused).
fn to_json(ctx: &mut Ctx, v: &Value, path: &str) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    Some(match &v.kind {
        ValueKind::Null => J::Null,
        ValueKind::Bool(b) => J::Bool(*b),
        ValueKind::Number(n) => match serde_json::Number::from_f64(*n) {
            Some(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() < 9.0e15) => {
                // The number is integral and well inside i64, the cast is exact.
                J::from(n.as_f64().unwrap_or(0.0) as i64)
            }
            Some(n) => J::Number(n),
            None => {
                ctx.error(&v.loc, path, "number is not finite");
                return None;
            }
        },
        ValueKind::Complex(..) => {
            ctx.error(&v.loc, path, "complex numbers are not allowed here");
            return None;
        }
        ValueKind::String(s) => J::String(s.clone()),
        ValueKind::Array(a) => J::Array(a.iter().map(|x| to_json(ctx, x, path)).collect::<Option<_>>()?),
        ValueKind::Object(o) => {
            J::Object(o.iter().map(|(k, x)| Some((k.clone(), to_json(ctx, x, &super::reader::join(path, k))?))).collect::<Option<_>>()?)
        }
    })
}
