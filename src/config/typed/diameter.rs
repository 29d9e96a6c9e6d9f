//! Diameter and policy properties of seed 000 5.2: the SGs `sctp_addr`, the
//! Cx and Rx peers (RFC 6733, TS 29.228/29.214), and the N5 client towards
//! the PCF (TS 29.514) selected by `use_n5`. Unset Rx and N5 addresses take
//! the documented fallbacks, so the effective values are explicit.

use std::net::SocketAddr;

use serde::Serialize;

use super::reader::{Ctx, Field, Obj};

/// Diameter port (RFC 6733 2.1).
pub const DIAMETER_PORT: u16 = 3868;
/// SGsAP SCTP port (TS 29.118 9.1).
pub const SGSAP_PORT: u16 = 29118;
/// Default Origin-Realm.
pub const DEFAULT_ORIGIN_REALM: &str = "amarisoft.com";
/// Default Origin-Host.
pub const DEFAULT_ORIGIN_HOST: &str = "ims.amarisoft.com";

/// N5 interface towards the PCF.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct N5 {
    /// `<scheme>://<host>:<port>` (TS 29.501 4.4.1).
    pub api_root: String,
    /// Transaction timeout in ms (range 1..15000, default 4000).
    pub transaction_timeout: u32,
    /// Local address (default: `cx_bind_addr`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_addr: Option<SocketAddr>,
}

/// Diameter and policy settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiameterSettings {
    /// MME SGs association (SMS over SGs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sctp_addr: Option<SocketAddr>,
    /// HSS Cx peer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cx_server_addr: Option<SocketAddr>,
    /// Cx local address (default: `sctp_addr`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cx_bind_addr: Option<SocketAddr>,
    /// Cx Origin-Realm.
    pub cx_origin_realm: String,
    /// Cx Origin-Host.
    pub cx_origin_host: String,
    /// Cx Tw in ms, 0 disables (RFC 3539 3.4.1; range 0..36000000).
    pub cx_watchdog_duration: u32,
    /// Rx peer (default: `cx_server_addr`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rx_server_addr: Option<SocketAddr>,
    /// Rx local address (default: `cx_bind_addr`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rx_bind_addr: Option<SocketAddr>,
    /// Rx Origin-Realm.
    pub rx_origin_realm: String,
    /// Rx Origin-Host.
    pub rx_origin_host: String,
    /// Rx Tw in ms, 0 disables.
    pub rx_watchdog_duration: u32,
    /// Use N5 instead of Rx (default false).
    pub use_n5: bool,
    /// N5 client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n5: Option<N5>,
}

const WATCHDOG: std::ops::RangeInclusive<i64> = 0..=36_000_000;

impl DiameterSettings {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj<'_>) -> Self {
        let addr = |ctx: &mut Ctx, o: &mut Obj<'_>, name: &str, port: u16| o.take(ctx, name).and_then(|f| f.socket_addr(ctx, port));
        let sctp_addr = addr(ctx, o, "sctp_addr", SGSAP_PORT);
        let cx_server_addr = addr(ctx, o, "cx_server_addr", DIAMETER_PORT);
        let cx_bind_addr = addr(ctx, o, "cx_bind_addr", 0).or(sctp_addr);
        let rx_server_addr = addr(ctx, o, "rx_server_addr", DIAMETER_PORT).or(cx_server_addr);
        let rx_bind_addr = addr(ctx, o, "rx_bind_addr", 0).or(cx_bind_addr);
        let use_n5 = o.bool(ctx, "use_n5", false);
        let mut n5 = o.take(ctx, "n5").and_then(|f| read_n5(ctx, &f));
        if let Some(n5) = &mut n5 {
            n5.bind_addr = n5.bind_addr.or(cx_bind_addr);
        }
        if use_n5 && n5.is_none() && !o.has("n5") {
            o.missing(ctx, "n5 (use_n5 is set)");
        }
        DiameterSettings {
            sctp_addr,
            cx_server_addr,
            cx_bind_addr,
            cx_origin_realm: o.string(ctx, "cx_origin_realm", DEFAULT_ORIGIN_REALM),
            cx_origin_host: o.string(ctx, "cx_origin_host", DEFAULT_ORIGIN_HOST),
            cx_watchdog_duration: o.int(ctx, "cx_watchdog_duration", 0, WATCHDOG),
            rx_server_addr,
            rx_bind_addr,
            rx_origin_realm: o.string(ctx, "rx_origin_realm", DEFAULT_ORIGIN_REALM),
            rx_origin_host: o.string(ctx, "rx_origin_host", DEFAULT_ORIGIN_HOST),
            rx_watchdog_duration: o.int(ctx, "rx_watchdog_duration", 0, WATCHDOG),
            use_n5,
            n5,
        }
    }
}

fn read_n5(ctx: &mut Ctx, f: &Field<'_>) -> Option<N5> {
    let mut o = f.object(ctx)?;
    let api_root = o.require(ctx, "api_root").and_then(|a| read_api_root(ctx, &a));
    let transaction_timeout = o.int(ctx, "transaction_timeout", 4000, 1..=15_000);
    let bind_addr = o.take(ctx, "bind_addr").and_then(|b| b.socket_addr(ctx, 0));
    o.finish(ctx);
    Some(N5 { api_root: api_root?, transaction_timeout, bind_addr })
}

/// TS 29.501 4.4.1: apiRoot = `{scheme}://{authority}`, scheme http or https.
fn read_api_root(ctx: &mut Ctx, f: &Field<'_>) -> Option<String> {
    let s = f.str(ctx)?;
    let authority = s.strip_prefix("http://").or_else(|| s.strip_prefix("https://"));
    match authority {
        Some(a) if !a.is_empty() && !a.contains(['/', ' ', '?', '#']) => Some(s.trim_end_matches('/').to_owned()),
        _ => {
            ctx.error(&f.v.loc, &f.path, format!("invalid api_root \"{s}\", expected http(s)://host:port"));
            None
        }
    }
}
