//! The Prometheus scrape (`metrics_addr`, path /metrics) rendered from the
//! control thread's state with the prometheus-client crate: SIP messages by
//! method and status, worker SIP and socket counters, retransmissions,
//! registrations and bindings, dialogs, queue depths and drops per worker,
//! and the latency histograms. Served as the Prometheus text format 0.0.4
//! (what `promtool check metrics` reads): counters carry their `_total` name
//! in HELP and TYPE too.

use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::core::Control;
use crate::stats::latency::LatencyKind;

type Labels = Vec<(&'static str, String)>;
/// Reads one counter of a worker's `SipCounters`.
type WorkerCounter = fn(&crate::stats::SipCounters) -> u64;

/// Upper bounds (seconds) of the exported latency buckets.
const BUCKETS: [f64; 15] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// An HdrHistogram re-bucketed for export.
#[derive(Debug)]
struct Buckets {
    sum: f64,
    count: u64,
    /// (upper bound, samples in this bucket only); the last bound is `f64::MAX` (+Inf).
    buckets: Vec<(f64, u64)>,
}

impl Buckets {
    fn of(h: &hdrhistogram::Histogram<u64>) -> Buckets {
        let mut buckets: Vec<(f64, u64)> = BUCKETS.iter().map(|b| (*b, 0)).collect();
        buckets.push((f64::MAX, 0));
        let mut sum = 0.0;
        for v in h.iter_recorded() {
            let secs = v.value_iterated_to() as f64 / 1e6;
            let n = v.count_at_value();
            sum += secs * n as f64;
            if let Some(b) = buckets.iter_mut().find(|(le, _)| secs <= *le) {
                b.1 += n;
            }
        }
        Buckets { sum, count: h.len(), buckets }
    }
}

impl EncodeMetric for Buckets {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_histogram::<()>(self.sum, self.count, &self.buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// A counter family exported under its full `_total` name.
#[derive(Debug, Default)]
struct Totals(Vec<(Labels, u64)>);

impl Totals {
    fn add(&mut self, labels: Labels, v: u64) {
        self.0.push((labels, v));
    }
}

impl EncodeMetric for Totals {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (labels, v) in &self.0 {
            encoder.encode_family(labels)?.encode_gauge(&i64::try_from(*v).unwrap_or(i64::MAX))?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Counter
    }
}

fn gauge(v: u64) -> Gauge {
    let g = Gauge::default();
    g.set(i64::try_from(v).unwrap_or(i64::MAX));
    g
}

fn counter(v: u64) -> Totals {
    Totals(vec![(Vec::new(), v)])
}

fn worker(i: usize) -> Labels {
    vec![("worker", i.to_string())]
}

/// Renders every metric of `c`.
pub fn render(c: &Control) -> String {
    let mut reg = Registry::with_prefix("ringcore");
    sip(c, &mut reg);
    engine(c, &mut reg);
    ims(c, &mut reg);
    for kind in LatencyKind::ALL {
        let help = match kind {
            LatencyKind::Register => "Challenge sent to 200 OK of the same IMPI, seconds",
            LatencyKind::InviteToRinging => "Initial INVITE received to 180 relayed, seconds",
            LatencyKind::InviteToAnswer => "Initial INVITE received to 2xx relayed, seconds",
        };
        reg.register(format!("latency_{}_seconds", kind.name()), help, Buckets::of(c.latencies.histogram(kind)));
    }
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &reg);
    out
}

fn sip(c: &Control, reg: &mut Registry) {
    let mut requests = Totals::default();
    let mut responses = Totals::default();
    for (k, n) in c.sip_methods.iter() {
        let mut l: Labels = vec![("direction", k.dir.name().into()), ("method", k.method.clone())];
        if k.status == 0 {
            requests.add(l, n);
        } else {
            l.push(("status", k.status.to_string()));
            responses.add(l, n);
        }
    }
    reg.register("sip_requests_total", "SIP requests handled by the control thread, by direction and method", requests);
    reg.register("sip_responses_total", "SIP responses handled by the control thread, by direction, CSeq method and status", responses);
    let per_worker: [(&str, &str, WorkerCounter); 9] = [
        ("sip_rx_requests", "SIP requests received by the workers (with retransmissions)", |s| s.rx_requests.get()),
        ("sip_rx_responses", "SIP responses received by the workers", |s| s.rx_responses.get()),
        ("sip_tx_requests", "SIP requests sent by the workers (with retransmissions)", |s| s.tx_requests.get()),
        ("sip_tx_responses", "SIP responses sent by the workers (with retransmissions)", |s| s.tx_responses.get()),
        ("sip_options_answered", "OPTIONS answered inside the workers", |s| s.options_answered.get()),
        ("sip_malformed", "SIP messages that failed to parse", |s| s.malformed.get()),
        ("sip_retransmissions_absorbed", "Retransmitted requests absorbed by server transactions", |s| s.retransmissions_absorbed.get()),
        ("sip_transaction_timeouts", "Client transactions timed out (Timer B or F)", |s| s.transaction_timeouts.get()),
        ("sip_control_queue_full", "Requests refused with 503: control event queue full", |s| s.control_queue_full.get()),
    ];
    for (name, help, get) in per_worker {
        let mut f = Totals::default();
        for (i, s) in c.sip_counters().iter().enumerate() {
            f.add(worker(i), get(s));
        }
        reg.register(format!("{name}_total"), help, f);
    }
}

fn engine(c: &Control, reg: &mut Registry) {
    let n = c.engine.n_workers();
    let depth = Family::<Labels, Gauge>::default();
    let (mut dropped, mut ev_full, mut rx, mut tx) = (Totals::default(), Totals::default(), Totals::default(), Totals::default());
    for i in 0..n {
        if let Some(q) = c.engine.commands(i) {
            depth.get_or_create(&worker(i)).set(q.len() as i64);
            dropped.add(worker(i), q.full_count());
        }
        if let Some(w) = c.engine.counters(i) {
            let s = w.snapshot();
            ev_full.add(worker(i), s.queue_full);
            rx.add(worker(i), s.rx_packets);
            tx.add(worker(i), s.tx_packets);
        }
    }
    reg.register("command_queue_depth", "Commands waiting in each worker's queue", depth);
    reg.register("command_queue_drops_total", "Commands dropped because a worker's queue was full", dropped);
    reg.register("event_queue_drops_total", "Events dropped because the queue to the control thread was full", ev_full);
    reg.register("rx_packets_total", "Datagrams and stream reads received by each worker", rx);
    reg.register("tx_packets_total", "Datagrams and stream writes sent by each worker", tx);
    media(c, reg);
    esp(c, reg);
}

fn media(c: &Control, reg: &mut Registry) {
    let (mut rx, mut tx, mut dropped) = (Totals::default(), Totals::default(), Totals::default());
    for (i, s) in c.sip_counters().iter().enumerate() {
        let m = &s.media;
        rx.add(worker(i), m.received.get());
        tx.add(worker(i), m.sent.get());
        for (why, v) in [("unexpected_source", &m.dropped_unexpected_source), ("malformed", &m.dropped_malformed), ("other", &m.dropped_other)] {
            dropped.add(vec![("worker", i.to_string()), ("reason", why.to_string())], v.get());
        }
    }
    reg.register("rtp_rx_packets_total", "RTP and RTCP packets received on media ports, per worker", rx);
    reg.register("rtp_tx_packets_total", "RTP and RTCP packets echoed or relayed, per worker", tx);
    reg.register("rtp_dropped_packets_total", "RTP and RTCP packets dropped, per worker and reason", dropped);
}

fn esp(c: &Control, reg: &mut Registry) {
    let s = c.ipsec_counters();
    let e = &s.esp;
    reg.register("esp_rx_packets_total", "ESP packets decapsulated", counter(e.ok_in));
    reg.register("esp_tx_packets_total", "ESP packets encapsulated and sent", counter(e.ok_out));
    let mut dropped = Totals::default();
    for (why, v) in [
        ("bad_icv", e.bad_icv),
        ("replay", e.replay),
        ("unknown_spi", e.unknown_spi),
        ("truncated", e.truncated),
        ("malformed", e.malformed),
        ("selector", s.selector),
        ("out_failed", e.out_failed),
    ] {
        dropped.add(vec![("reason", why.to_string())], v);
    }
    reg.register("esp_dropped_packets_total", "ESP packets dropped, by reason", dropped);
}

fn ims(c: &Control, reg: &mut Registry) {
    let b = &c.registrar.bindings;
    reg.register("registrations", "Registration records (implicit registration sets)", gauge(b.len() as u64));
    reg.register("bindings", "Registered contacts", gauge(b.contact_count() as u64));
    reg.register("register_requests_total", "REGISTER requests handled", counter(c.counters.registers.get()));
    reg.register("reg_notifies_total", "reg event NOTIFYs sent", counter(c.counters.notifies.get()));
    let dialogs = Family::<Labels, Gauge>::default();
    for (kind, n) in [("call", c.calls.len()), ("echo", c.echo.len()), ("mt_call", c.mt.len())] {
        dialogs.get_or_create(&vec![("type", kind.into())]).set(n as i64);
    }
    reg.register("dialogs", "Dialogs in progress by type", dialogs);
    let mut outcomes = Totals::default();
    for (code, n) in &c.calls_outcomes() {
        outcomes.add(vec![("status", code.to_string())], *n);
    }
    reg.register("calls_total", "Calls between UEs by outcome: the final status sent to the caller's INVITE", outcomes);
}
