//! Call handling properties of seed 000 5.2: `session_expires`, `100rel`,
//! `precondition`, `dialog_timeout`, the `echo` service identities,
//! `mt_call_sdp_file` and the SIP `trunk`.

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::file_ref::{FileKind, FileText};
use super::impu::{Impu, Precondition, PRECONDITIONS};
use super::reader::{Ctx, Field, Obj};
use super::session::SessionExpires;
use super::sip::DEFAULT_SIP_PORT;

/// SIP trunk receiving calls to unknown users and sending calls in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trunk {
    /// Trunk address (port 5060 when omitted).
    pub addr: SocketAddr,
    /// Trunk account user name.
    pub name: String,
    /// Domain of SIP URIs (default: the address).
    pub domain: String,
    /// Overrides the global `tcp_threshold` when > 0 (default 0).
    pub tcp_threshold: u32,
}

/// Call settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallSettings {
    /// Session timers (RFC 4028).
    pub session_expires: SessionExpires,
    /// RFC 3262 support (default true).
    #[serde(rename = "100rel")]
    pub rel100: bool,
    /// Precondition handling (default on).
    pub precondition: Precondition,
    /// Seconds without activity before a call is stopped (default 30).
    pub dialog_timeout: u32,
    /// Echo service identities.
    pub echo: Vec<Impu>,
    /// SDP file used for MT calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mt_call_sdp_file: Option<FileText>,
    /// SIP trunk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trunk: Option<Trunk>,
    /// ringcore extension `emergency_target`: the IMPU (sip: or tel:) of a
    /// registered UE that receives emergency calls (INVITE to
    /// urn:service:sos, RFC 5031); without it the echo service answers them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emergency_target: Option<String>,
    /// ringcore extension `emergency_numbers`: dialled numbers (user part of
    /// a tel: or sip: Request-URI, e.g. "112", "911") treated as emergency calls.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emergency_numbers: Vec<String>,
}

impl CallSettings {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj<'_>) -> Self {
        let session_expires = o
            .take(ctx, "session_expires")
            .and_then(|f| SessionExpires::read(ctx, &f, SessionExpires::default()))
            .unwrap_or_default();
        CallSettings {
            session_expires,
            rel100: o.bool(ctx, "100rel", true),
            precondition: o.enumeration(ctx, "precondition", Precondition::On, PRECONDITIONS),
            dialog_timeout: o.int(ctx, "dialog_timeout", 30, 1..=86_400),
            echo: o.take(ctx, "echo").map(|f| Impu::read_list(ctx, &f, session_expires)).unwrap_or_default(),
            mt_call_sdp_file: FileText::read(ctx, o, "mt_call_sdp_file", FileKind::Sdp),
            trunk: o.take(ctx, "trunk").and_then(|f| read_trunk(ctx, &f)),
            emergency_target: o.opt_string(ctx, "emergency_target"),
            emergency_numbers: o.take(ctx, "emergency_numbers").map(|f| read_strings(ctx, &f)).unwrap_or_default(),
        }
    }
}

/// A list of strings (bounded to 64 entries; others are ignored).
fn read_strings(ctx: &mut Ctx, f: &Field<'_>) -> Vec<String> {
    let items = f.array(ctx).unwrap_or_default();
    items.iter().take(64).filter_map(|i| i.str(ctx).map(str::to_owned)).collect()
}

fn host_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

fn read_trunk(ctx: &mut Ctx, f: &Field<'_>) -> Option<Trunk> {
    let mut o = f.object(ctx)?;
    let addr = o.require(ctx, "addr").and_then(|a| a.socket_addr(ctx, DEFAULT_SIP_PORT));
    let name = o.require(ctx, "name").and_then(|n| n.str(ctx).map(str::to_owned));
    let domain = o.take(ctx, "domain").and_then(|d| super::sip::read_domain(ctx, &d));
    let tcp_threshold = o.int(ctx, "tcp_threshold", 0, 0..=65535);
    o.finish(ctx);
    let addr = addr?;
    let domain = domain.unwrap_or_else(|| host_of(addr.ip()));
    Some(Trunk { addr, name: name?, domain, tcp_threshold })
}
