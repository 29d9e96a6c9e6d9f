//! ringcore's own extensions (not in the lteims manual): the packet
//! `engine` (I/O backend, worker threads, CPU pinning), `metrics_addr` and
//! the `limits` that bound every table and queue (DESIGN.md: "every queue,
//! table and pool has a configured bound"; overload answers 503).

use std::net::SocketAddr;

use serde::{Serialize, Serializer};

use super::reader::{Ctx, Field, Obj};
use crate::config::value::ValueKind;

/// I/O backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// io_uring when the kernel allows it, else epoll.
    Auto,
    /// io_uring only (fail if unavailable).
    Uring,
    /// mio/epoll with recvmmsg/sendmmsg.
    Epoll,
}

/// `engine` object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Engine {
    /// Backend (default auto).
    pub backend: Backend,
    /// Worker threads; 0 = one per CPU of `cpus`, or per available CPU
    /// (default 0, max 256).
    pub workers: u32,
    /// CPUs the workers are pinned to, worker i on `cpus[i % len]`; empty:
    /// no pinning (default []).
    pub cpus: Vec<u16>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine { backend: Backend::Auto, workers: 0, cpus: Vec::new() }
    }
}

/// `limits` object: upper bounds of the state tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Registered contacts (default 200000; two per UE over 100k UEs).
    pub max_bindings: u32,
    /// Concurrent dialogs (default 50000).
    pub max_dialogs: u32,
    /// Concurrent SIP transactions over all workers (default 262144).
    pub max_transactions: u32,
    /// Accepted TCP connections (default 100000).
    pub max_tcp_connections: u32,
    /// IPsec security associations (default 400000; 4 per protected UE).
    pub max_security_associations: u32,
    /// Stored SMS awaiting delivery (default 100000).
    pub max_stored_sms: u32,
    /// Slots of each worker/control queue, a power of two (default 8192).
    pub queue_depth: u32,
    /// Largest SIP message accepted, bytes (default 65535).
    pub max_message_size: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bindings: 200_000,
            max_dialogs: 50_000,
            max_transactions: 262_144,
            max_tcp_connections: 100_000,
            max_security_associations: 400_000,
            max_stored_sms: 100_000,
            queue_depth: 8192,
            max_message_size: 65_535,
        }
    }
}

/// Default Prometheus metrics address.
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9090";

fn ser_metrics<S: Serializer>(a: &Option<SocketAddr>, s: S) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => s.collect_str(a),
        None => s.serialize_str(""),
    }
}

/// Engine extension settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EngineSettings {
    /// Packet engine.
    pub engine: Engine,
    /// HTTP metrics endpoint; `""` disables it (serialized as `""`).
    #[serde(serialize_with = "ser_metrics")]
    pub metrics_addr: Option<SocketAddr>,
    /// Table and queue bounds.
    pub limits: Limits,
}

const MAX_TABLE: i64 = 10_000_000;

impl EngineSettings {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj<'_>) -> Self {
        let default_metrics = super::common::parse_socket_addr(DEFAULT_METRICS_ADDR, 9090);
        let metrics_addr = match o.take(ctx, "metrics_addr") {
            None => default_metrics,
            Some(f) if matches!(&f.v.kind, ValueKind::String(s) if s.is_empty()) => None,
            Some(f) => f.socket_addr(ctx, 9090).or(default_metrics),
        };
        EngineSettings {
            engine: o.take(ctx, "engine").and_then(|f| read_engine(ctx, &f)).unwrap_or_default(),
            metrics_addr,
            limits: o.take(ctx, "limits").and_then(|f| read_limits(ctx, &f)).unwrap_or_default(),
        }
    }
}

fn read_engine(ctx: &mut Ctx, f: &Field<'_>) -> Option<Engine> {
    let mut o = f.object(ctx)?;
    let backends = [("auto", Backend::Auto), ("uring", Backend::Uring), ("epoll", Backend::Epoll)];
    let backend = o.enumeration(ctx, "backend", Backend::Auto, &backends);
    let workers = o.int(ctx, "workers", 0, 0..=256);
    let mut cpus: Vec<u16> = Vec::new();
    for item in o.take(ctx, "cpus").and_then(|c| c.array(ctx)).unwrap_or_default() {
        match item.int::<u16>(ctx, 0..=4095) {
            Some(c) if cpus.contains(&c) => ctx.error(&item.v.loc, &item.path, format!("CPU {c} listed twice")),
            Some(c) => cpus.push(c),
            None => {}
        }
    }
    o.finish(ctx);
    Some(Engine { backend, workers, cpus })
}

fn read_limits(ctx: &mut Ctx, f: &Field<'_>) -> Option<Limits> {
    let mut o = f.object(ctx)?;
    let d = Limits::default();
    let l = Limits {
        max_bindings: o.int(ctx, "max_bindings", d.max_bindings, 1..=MAX_TABLE),
        max_dialogs: o.int(ctx, "max_dialogs", d.max_dialogs, 1..=MAX_TABLE),
        max_transactions: o.int(ctx, "max_transactions", d.max_transactions, 16..=MAX_TABLE),
        max_tcp_connections: o.int(ctx, "max_tcp_connections", d.max_tcp_connections, 0..=1_000_000),
        max_security_associations: o.int(ctx, "max_security_associations", d.max_security_associations, 0..=MAX_TABLE),
        max_stored_sms: o.int(ctx, "max_stored_sms", d.max_stored_sms, 0..=MAX_TABLE),
        queue_depth: o.int(ctx, "queue_depth", d.queue_depth, 64..=1 << 20),
        // RFC 3261 18.1.1 needs at least 1300 for UDP; 65535 is the UDP maximum.
        max_message_size: o.int(ctx, "max_message_size", d.max_message_size, 1300..=65_535),
    };
    if !l.queue_depth.is_power_of_two() {
        ctx.error(o.loc(), &super::reader::join(o.path(), "queue_depth"), format!("value {} is not a power of two", l.queue_depth));
    }
    o.finish(ctx);
    Some(l)
}
