//! The remote API's views of the control thread's state (seed 000 6.5-6.7):
//! config_get, users_get and dialog_get JSON, stats (CPU per thread,
//! counters reset on read, latency percentiles), and the users_update and
//! dialog events derived from state changes.

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::core::Control;
use super::dialogs::DialogRow;
use crate::api::fields::Named as _;
use crate::api::request::LayerConfig;
use crate::api::request_ims::MtCall;
use crate::api::ApiEvent;
use crate::ims::bindings::seconds_left;
use crate::ims::hss::normalize_impu;
use crate::log::{Layer, LevelFilter};
use crate::stats::latency::LatencyKind;

/// Counter values by name.
type CounterList = Vec<(String, u64)>;

/// Most IMPIs remembered between two users_update events.
const MAX_CHANGED_USERS: usize = 4096;
/// Linux reports thread times in USER_HZ ticks, 100 per second on every architecture.
const TICKS_PER_SEC: f64 = 100.0;

/// API state kept by the control thread between requests.
#[derive(Debug)]
pub struct ApiState {
    pub(super) instance_id: u64,
    /// CPU ticks per thread id at the last stats, and when.
    cpu: HashMap<String, u64>,
    cpu_at: Instant,
    /// Counter values at the last stats (stats resets on read).
    pub(super) base: HashMap<String, u64>,
    /// user_set.force_sms_over_sg per IMPI.
    pub(super) force_sms: HashMap<String, bool>,
    /// IMPIs whose bindings changed since the last users_update.
    changed: Vec<String>,
    /// Dialog states at the last dialog event check.
    dialogs: HashMap<String, &'static str>,
}

impl ApiState {
    /// Fresh state; `instance_id` changes on every process start.
    pub fn new() -> ApiState {
        let t = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64);
        ApiState {
            instance_id: (t ^ u64::from(std::process::id()) << 40) & 0x1f_ffff_ffff_ffff,
            cpu: HashMap::new(),
            cpu_at: Instant::now(),
            base: HashMap::new(),
            force_sms: HashMap::new(),
            changed: Vec::new(),
            dialogs: HashMap::new(),
        }
    }

    /// Notes that the bindings of `impi` changed (users_update).
    pub fn user_changed(&mut self, impi: &str) {
        if self.changed.len() < MAX_CHANGED_USERS && !self.changed.iter().any(|i| i == impi) {
            self.changed.push(impi.to_owned());
        }
    }
}

impl Default for ApiState {
    fn default() -> Self {
        Self::new()
    }
}

/// CPU ticks (utime + stime) of every thread of this process, by thread name.
fn thread_ticks() -> Vec<(String, u64)> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
    let mut out: Vec<(String, u64)> = Vec::new();
    for e in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
        // proc(5): "pid (comm) state ..."; comm may hold spaces, so split at the last ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        let name = head.split_once('(').map_or("?", |(_, n)| n).to_owned();
        let f: Vec<&str> = rest.split_whitespace().collect();
        // Fields 14 (utime) and 15 (stime) are the 12th and 13th after the comm.
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let total = ticks(11) + ticks(12);
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some(e) => e.1 += total,
            None => out.push((name, total)),
        }
    }
    out
}

pub(super) fn map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn level_name(l: LevelFilter) -> &'static str {
    l.name()
}

/// config_set.logs as a log_options string (seed 000 5.2).
pub(super) fn log_options_text(req: &crate::api::request::LogsConfig) -> String {
    let mut items = Vec::new();
    for (layer, c) in &req.layers {
        let p = layer.map_or("all", |l| l.name());
        let LayerConfig { level, max_size, key, crypto, payload, verbose } = c;
        if let Some(l) = level {
            items.push(format!("{p}.level={}", l.name()));
        }
        if let Some(n) = max_size {
            items.push(format!("{p}.max_size={n}"));
        }
        for (name, v) in [("key", key), ("crypto", crypto), ("payload", payload), ("verbose", verbose)] {
            if let Some(b) = v {
                items.push(format!("{p}.{name}={}", u8::from(*b)));
            }
        }
    }
    if let Some(r) = req.rotate {
        items.push(format!("file.rotate={r}"));
    }
    if let Some(p) = &req.path {
        items.push(format!("file.path={p}"));
    }
    items.join(",")
}

impl Control {
    pub(super) fn config_json(&self) -> Map<String, Value> {
        let mut layers = Map::new();
        if let Some(l) = self.log_control_ref() {
            for layer in Layer::ALL {
                let o = l.options().layer(layer);
                layers.insert(
                    layer.name().into(),
                    json!({"level": level_name(o.level), "max_size": o.max_size, "key": o.key, "crypto": o.crypto, "payload": o.payload, "verbose": o.verbose}),
                );
            }
        }
        let c = self.config();
        let s = &c.sip;
        map(json!({
            "logs": {"layers": layers, "count": c.remote_api.com_log_count},
            "binding_expires": s.binding_expires,
            "subscribe_expires": s.subscribe_expires,
            "auth_on_register_only": s.auth_on_register_only,
            "p_called_party_id": s.p_called_party_id,
            "tcp_threshold": s.tcp_threshold,
            "tcp_keepalive": s.tcp_keepalive,
            "tcp_keepcount": s.tcp_keepcount,
            "dialog_timeout": c.calls.dialog_timeout,
            "100rel": c.calls.rel100,
            "precondition": serde_json::to_value(c.calls.precondition).unwrap_or(Value::Null),
            "session_expires": serde_json::to_value(c.calls.session_expires).unwrap_or(Value::Null),
            "sms_retry_delay": c.sms.sms_retry_delay,
            "sms_message_filter": serde_json::to_value(c.sms.sms_message_filter).unwrap_or(Value::Null),
            "sms_forced_cp_cause": c.sms.sms_forced_cp_cause,
            "sms_forced_rp_cause": c.sms.sms_forced_rp_cause,
            "sms_expires": c.sms.sms_expires,
            "sms_hook_only": c.sms.sms_hook_only,
            "mms_expires": c.sms.mms_expires,
            "custom_headers": serde_json::to_value(&s.custom_headers).unwrap_or(Value::Null),
        }))
    }

    /// users_get.users item of one subscriber.
    pub(super) fn user_json(&self, impi: &str, now: Instant, dialogs: &super::core::UserDialogs) -> Value {
        let mut bindings = Vec::new();
        for rec in self.registrar.bindings.records().filter(|r| r.key.impi == impi) {
            for c in &rec.contacts {
                let mut b = json!({"uri": c.uri, "impu": rec.impus, "q": f64::from(c.q) / 1000.0, "video": c.video, "sms": c.sms, "expires": seconds_left(now, c.expires_at)});
                if let (Some(imei), Value::Object(m)) = (&c.imei, &mut b) {
                    m.insert("imei".into(), imei.clone().into());
                }
                bindings.push(b);
            }
        }
        let mut impus: Vec<String> = self.registrar.hss.subscriber(impi).map_or_else(Vec::new, |s| s.impus.iter().map(|p| normalize_impu(&p.uri)).collect());
        impus.extend(self.registrar.bindings.records().filter(|r| r.key.impi == impi).flat_map(|r| r.impus.iter().map(|i| normalize_impu(i))));
        impus.sort();
        impus.dedup();
        let dialogs: Vec<&Value> = impus.iter().filter_map(|i| dialogs.get(i)).flatten().collect();
        let mut u = json!({"impi": impi, "bindings": bindings, "dialogs": dialogs, "sms": self.sms_pending(impi)});
        if let (Some(f), Value::Object(m)) = (self.api_state.force_sms.get(impi), &mut u) {
            m.insert("force_sms_over_sg".into(), (*f).into());
        }
        u
    }

    /// seed 000 6.6 dialog_get.dialogs item (plus session_expires, per-media QoS state
    /// and the number of events dropped from the bounded event list).
    pub(super) fn dialog_json(&self, d: &DialogRow) -> Value {
        let date = SystemTime::now().checked_sub(d.age).and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs());
        let (events, dropped) = self.events_json(&d.id);
        json!({
            "session_id": d.id, "state": d.state, "type": d.kind, "from": d.from, "to": d.to,
            "date": date, "duration": d.age.as_secs_f64(), "event_list": events, "medias": self.medias_json(d),
            "session_expires": d.session_expires, "qos": d.qos, "events_dropped": dropped,
        })
    }

    /// Sends the users_update and dialog events due (call after handling events).
    pub(super) fn api_events(&mut self, server: &mut crate::api::ApiServer) {
        let now = Instant::now();
        let changed = std::mem::take(&mut self.api_state.changed);
        if !changed.is_empty() && server.has_subscribers(ApiEvent::UsersUpdate) {
            let index = self.user_dialog_index();
            let users: Vec<Value> = changed.iter().map(|i| self.user_json(i, now, &index)).collect();
            server.broadcast_event(ApiEvent::UsersUpdate, &map(json!({"users_update": users})));
        }
        // seed 000 sms_hook_only: SMS are handed to API listeners instead of being delivered
        // while a client subscribes to the sms event.
        let sms_listeners = server.has_subscribers(ApiEvent::Sms);
        self.set_sms_hook_listeners(sms_listeners);
        while let Some(ev) = self.poll_sms_event() {
            if sms_listeners {
                // seed 000 6.7: the event members (sender, destination, text...) are top level.
                server.broadcast_event(ApiEvent::Sms, &map(ev));
            }
        }
        if !server.has_subscribers(ApiEvent::Dialog) {
            self.api_state.dialogs.clear();
            return;
        }
        let current = self.dialogs();
        for d in &current {
            if self.api_state.dialogs.get(&d.id) != Some(&d.state) {
                server.broadcast_event(ApiEvent::Dialog, &map(json!({"dialog": self.dialog_json(d)})));
            }
        }
        // A dialog leaves the list once its stop was announced (seed 000: 30 s later), or at
        // once when it was never listed as stopped.
        let gone: Vec<String> =
            self.api_state.dialogs.iter().filter(|(k, s)| **s != "stop" && !current.iter().any(|d| &d.id == *k)).map(|(k, _)| k.clone()).collect();
        for id in gone {
            let d = json!({"session_id": id, "state": "stop"});
            server.broadcast_event(ApiEvent::Dialog, &map(json!({"dialog": d})));
        }
        self.api_state.dialogs = current.into_iter().map(|d| (d.id, d.state)).collect();
    }

    /// Counters reported by stats, by name: (messages, errors).
    pub(super) fn stat_counters(&self) -> (CounterList, CounterList) {
        let mut messages: Vec<(String, u64)> = Vec::new();
        for (k, n) in self.sip_methods.iter() {
            let name = if k.status == 0 { format!("sip_{}_{}", k.dir.name(), k.method) } else { format!("sip_{}_{}_{}", k.dir.name(), k.status, k.method) };
            messages.push((name, n));
        }
        let sum = |f: fn(&crate::stats::SipCounters) -> u64| self.sip_counters().iter().map(|c| f(c)).sum::<u64>();
        messages.push(("sip_options_answered".into(), sum(|c| c.options_answered.get())));
        messages.push(("sip_retransmissions_absorbed".into(), sum(|c| c.retransmissions_absorbed.get())));
        messages.push(("reg_notify".into(), self.counters.notifies.get()));
        let errors = vec![
            ("sip_malformed".into(), sum(|c| c.malformed.get())),
            ("sip_transaction_timeout".into(), sum(|c| c.transaction_timeouts.get())),
            ("sip_control_queue_full".into(), sum(|c| c.control_queue_full.get())),
            ("sip_transaction_table_full".into(), sum(|c| c.transaction_table_full.get())),
            ("command_queue_full".into(), self.counters.command_queue_full.get()),
            ("not_implemented".into(), self.counters.not_implemented.get()),
        ];
        (messages, errors)
    }

    pub(super) fn stats_cpu(&mut self, now: Instant) -> Map<String, Value> {
        let secs = now.saturating_duration_since(self.api_state.cpu_at).as_secs_f64().max(1e-3);
        let mut cpu = Map::new();
        let mut next = HashMap::new();
        for (name, ticks) in thread_ticks() {
            let prev = self.api_state.cpu.get(&name).copied().unwrap_or(0);
            let pct = ticks.saturating_sub(prev) as f64 / TICKS_PER_SEC / secs * 100.0;
            cpu.insert(name.clone(), json!((pct * 10.0).round() / 10.0));
            next.insert(name, ticks);
        }
        self.api_state.cpu = next;
        self.api_state.cpu_at = now;
        cpu
    }

    pub(super) fn latency_json(&self, hdr: bool) -> Map<String, Value> {
        let mut m = Map::new();
        for kind in LatencyKind::ALL {
            let s = self.latencies.summary(kind);
            let mut v = json!({"count": s.count, "p50": s.p50, "p90": s.p90, "p99": s.p99, "p99.9": s.p999, "max": s.max, "unit": "us"});
            if let (true, Value::Object(o)) = (hdr, &mut v) {
                o.insert("hdr".into(), self.latencies.encode_base64(kind).into());
            }
            m.insert(kind.name().into(), v);
        }
        m
    }

    pub(super) fn impu_uri(&self, i: &str) -> String {
        let domain = self.config().sip.domain.as_deref().unwrap_or("");
        if i.contains('@') || i.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("tel:")) {
            normalize_impu(i)
        } else {
            normalize_impu(&format!("sip:{}@{domain}", i.strip_prefix("sip:").unwrap_or(i)))
        }
    }

    /// The callee of an mt_call: the IMPU, and the exact registered contact when the
    /// request names one (seed 000 `mt_call.contact`; an IMPI names the subscriber, whose
    /// IMPU then picks the UE).
    pub(super) fn mt_target(&self, req: &MtCall) -> Result<(String, Option<String>), String> {
        if let Some(i) = &req.impu {
            return Ok((self.impu_uri(i), None));
        }
        let b = &self.registrar.bindings;
        let named = |x: &str, c: &str| x == c || x.trim_matches(['<', '>']) == c;
        let found = match (&req.impi, &req.contact) {
            (Some(impi), _) => b.records().find(|r| &r.key.impi == impi && r.key.emergency == req.sos).map(|r| (r, None)),
            (None, Some(c)) => b.records().find_map(|r| Some((r, Some(r.contacts.iter().find(|x| named(&x.uri, c))?.uri.clone())))),
            (None, None) => None,
        };
        found.and_then(|(r, contact)| Some((r.impus.first()?.clone(), contact))).ok_or_else(|| "User not registered".to_owned())
    }
}
