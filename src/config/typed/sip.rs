//! SIP transport, timer and registration properties of seed 000 5.2:
//! `sip_addr` (with its legacy single string/object forms), `domain`,
//! `tcp_*`, `timer_t1/t2/t4`, `binding_expires`, `subscribe_expires`,
//! `user_agent`, `path`, `custom_headers`.

use std::net::SocketAddr;

use serde::Serialize;

use super::headers::{read_custom_headers, CustomHeader};
use super::reader::{Ctx, Field, Obj};
use crate::config::value::ValueKind;

/// Default SIP port (RFC 3261 19.1.2).
pub const DEFAULT_SIP_PORT: u16 = 5060;
/// The product's own SIP User-Agent (deviation: the manual's default names
/// its vendor, ringcore names itself).
pub const DEFAULT_USER_AGENT: &str = concat!("ringcore-", env!("CARGO_PKG_VERSION"));
/// Default Path header content (seed 000 5.2 `path`).
pub const DEFAULT_PATH: &str = "sip:ims.mnc001.mcc001.3gppnetwork.org";

/// One SIP server socket (`sip_addr` item); the server listens on UDP and
/// TCP at `addr`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SipAddr {
    /// Listening address; port 5060 when omitted.
    pub addr: SocketAddr,
    /// Interface address actually bound; defaults to `addr`.
    pub bind_addr: SocketAddr,
    /// Lowest UDP media port (default 10000).
    pub port_min: u16,
    /// Highest UDP media port (default 20000).
    pub port_max: u16,
}

/// SIP transport, timers and registration settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SipSettings {
    /// SIP server sockets; empty means none configured.
    pub sip_addr: Vec<SipAddr>,
    /// Global SIP domain for IMPUs and authentication realm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Message size in bytes above which TCP is used instead of UDP
    /// (RFC 3261 18.1.1; default 1300).
    pub tcp_threshold: u32,
    /// Seconds before a TCP keepalive is sent; 0 disables (default 900).
    pub tcp_keepalive: u32,
    /// Keepalive failures before the socket is released (default 2).
    pub tcp_keepcount: u32,
    /// Default registration duration in seconds (default 3600, max 864000).
    pub binding_expires: u32,
    /// Subscription expiration; 0 uses the UE's value (default 0, max 864000).
    pub subscribe_expires: u32,
    /// SIP User-Agent / Server header value.
    pub user_agent: String,
    /// Always use our user agent rather than the peer's (default true).
    pub force_user_agent: bool,
    /// Path header of registration responses; empty disables it.
    pub path: String,
    /// RFC 3261 T1 in seconds (manual default 2).
    pub timer_t1: f64,
    /// RFC 3261 T2 in seconds (manual default 16).
    pub timer_t2: f64,
    /// RFC 3261 T4 in seconds (manual default 17).
    pub timer_t4: f64,
    /// Headers added to matching requests/responses.
    pub custom_headers: Vec<CustomHeader>,
    /// Add P-Called-Party-ID to INVITE and MESSAGE (default false).
    pub p_called_party_id: bool,
    /// Authenticate only REGISTER (default true).
    pub auth_on_register_only: bool,
}

/// Upper bound of `binding_expires` and `subscribe_expires` (seed 000 5.2).
const MAX_EXPIRES: i64 = 864_000;
const PORT: std::ops::RangeInclusive<i64> = 0..=65535;

impl SipSettings {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj<'_>) -> Self {
        let sip_addr = o.take(ctx, "sip_addr").map(|f| read_sip_addrs(ctx, &f)).unwrap_or_default();
        let domain = o.take(ctx, "domain").and_then(|f| read_domain(ctx, &f));
        let timer_t1 = o.num(ctx, "timer_t1", 2.0, 0.01..=60.0);
        let timer_t2 = o.num(ctx, "timer_t2", 16.0, 0.01..=600.0);
        if timer_t2 < timer_t1 {
            ctx.error(o.loc(), o.path(), format!("timer_t2 ({timer_t2}) is smaller than timer_t1 ({timer_t1})"));
        }
        SipSettings {
            sip_addr,
            domain,
            tcp_threshold: o.int(ctx, "tcp_threshold", 1300, 0..=65535),
            tcp_keepalive: o.int(ctx, "tcp_keepalive", 900, 0..=86_400),
            tcp_keepcount: o.int(ctx, "tcp_keepcount", 2, 1..=100),
            binding_expires: o.int(ctx, "binding_expires", 3600, 1..=MAX_EXPIRES),
            subscribe_expires: o.int(ctx, "subscribe_expires", 0, 0..=MAX_EXPIRES),
            user_agent: o.string(ctx, "user_agent", DEFAULT_USER_AGENT),
            force_user_agent: o.bool(ctx, "force_user_agent", true),
            path: o.string(ctx, "path", DEFAULT_PATH),
            timer_t1,
            timer_t2,
            timer_t4: o.num(ctx, "timer_t4", 17.0, 0.01..=600.0),
            custom_headers: read_custom_headers(ctx, o),
            p_called_party_id: o.bool(ctx, "p_called_party_id", false),
            auth_on_register_only: o.bool(ctx, "auth_on_register_only", true),
        }
    }
}

/// A domain name: non-empty, no blanks, no `@`, no scheme.
pub(crate) fn read_domain(ctx: &mut Ctx, f: &Field<'_>) -> Option<String> {
    let s = f.str(ctx)?;
    let ok = !s.is_empty() && !s.contains(['@', ' ', '\t', '/']) && !s.contains("sip:");
    if !ok {
        ctx.error(&f.v.loc, &f.path, format!("invalid domain \"{s}\""));
        return None;
    }
    Some(s.to_owned())
}

/// `sip_addr`: array of (string | object), or, for legacy, a single string
/// or object (seed 000 5.2 `sip_addr` NB).
fn read_sip_addrs(ctx: &mut Ctx, f: &Field<'_>) -> Vec<SipAddr> {
    f.one_or_many().iter().filter_map(|item| read_sip_addr(ctx, item)).collect()
}

fn read_sip_addr(ctx: &mut Ctx, f: &Field<'_>) -> Option<SipAddr> {
    if matches!(f.v.kind, ValueKind::String(_)) {
        let addr = f.socket_addr(ctx, DEFAULT_SIP_PORT)?;
        return Some(SipAddr { addr, bind_addr: addr, port_min: 10000, port_max: 20000 });
    }
    let mut o = f.object(ctx)?;
    let addr = o.require(ctx, "addr").and_then(|a| a.socket_addr(ctx, DEFAULT_SIP_PORT));
    let bind_addr = o.take(ctx, "bind_addr").and_then(|b| b.socket_addr(ctx, addr.map_or(DEFAULT_SIP_PORT, |a| a.port())));
    let port_min = o.int(ctx, "port_min", 10000, PORT);
    let port_max = o.int(ctx, "port_max", 20000, PORT);
    if port_min > port_max {
        ctx.error(o.loc(), o.path(), format!("port_min ({port_min}) is greater than port_max ({port_max})"));
    }
    o.finish(ctx);
    let addr = addr?;
    Some(SipAddr { addr, bind_addr: bind_addr.unwrap_or(addr), port_min, port_max })
}
