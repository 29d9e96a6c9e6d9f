//! The results of a run: a percentile table per histogram, counts per action, failures by
//! SIP status and by cause, RTP loss and jitter (text for the terminal), the same as JSON
//! (`--report-json`), and the histograms in the HdrHistogram interval log format
//! (`--hdr-log`), which HdrHistogram's tools in every language read.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2Serializer;
use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

use super::metrics::{Action, Cause, Counts, Metric, Metrics};
use super::run::{PhaseReport, RunConfig, RunResult};

/// The percentiles reported for every histogram.
pub const PERCENTILES: [(&str, f64); 5] = [("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p99.9", 0.999), ("p99.99", 0.9999)];

/// The name of a phase (`busy_hour` for a mix).
pub fn phase_name(p: &PhaseReport) -> &'static str {
    if p.mix {
        "busy_hour"
    } else {
        p.action.name()
    }
}

/// The counts of a phase's actions (all calls and re-registrations for a mix; a mix and
/// fixed phases of the same actions in one run share these totals).
fn phase_counts(m: &Metrics, p: &PhaseReport) -> Counts {
    if !p.mix {
        return m.counts(p.action);
    }
    let mut c = Counts::default();
    for a in [Action::EchoCall, Action::UeCall, Action::Reregister] {
        let x = m.counts(a);
        c.attempted += x.attempted;
        c.succeeded += x.succeeded;
        c.failed += x.failed;
    }
    c
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Calls (echo + UE-to-UE, succeeded) per CPU-second of this process during the call
/// phases.
pub fn calls_per_cpu_second(r: &RunResult) -> f64 {
    let calls = r.metrics.counts(Action::EchoCall).succeeded + r.metrics.counts(Action::UeCall).succeeded;
    let is_call = |a: Action| matches!(a, Action::EchoCall | Action::UeCall);
    let cpu: f64 = r.phases.iter().filter(|p| is_call(p.action)).map(|p| p.cpu.as_secs_f64()).sum();
    if cpu > 0.0 {
        calls as f64 / cpu
    } else {
        0.0
    }
}

/// The text report.
pub fn text(cfg: &RunConfig, r: &RunResult) -> String {
    let m = &r.metrics;
    let mut s = String::new();
    let _ = writeln!(s, "ringload: {} UEs against {} ({} worker(s)), wall {:.2} s, CPU {:.2} s", cfg.ues, cfg.target, r.workers, r.wall.as_secs_f64(), r.cpu.as_secs_f64());
    let _ = writeln!(s, "\n{:<12} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} time", "phase", "scheduled", "attempted", "succeeded", "failed", "rate/s", "CPU s");
    for p in &r.phases {
        let c = phase_counts(m, p);
        let cut = if p.cut { " (cut by deadline)" } else { "" };
        let _ = writeln!(
            s,
            "{:<12} {:>9} {:>9} {:>9} {:>9} {:>8.1} {:>8.2} {:.2} s{cut}",
            phase_name(p),
            p.count,
            c.attempted,
            c.succeeded,
            c.failed,
            p.rate,
            p.cpu.as_secs_f64(),
            p.elapsed.as_secs_f64()
        );
    }
    let _ = writeln!(s, "\nlatency (ms, from intended send time){:>14} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}", "count", "p50", "p90", "p99", "p99.9", "p99.99", "max");
    for metric in Metric::ALL {
        let h = m.histogram(metric);
        if h.is_empty() {
            continue;
        }
        let _ = write!(s, "{:<37} {:>14}", metric.name(), h.len());
        for (_, q) in PERCENTILES {
            let _ = write!(s, " {:>9.3}", ms(h.value_at_quantile(q)));
        }
        let _ = writeln!(s, " {:>9.3}", ms(h.max()));
    }
    let rtp = &m.rtp;
    if rtp.sent > 0 {
        let loss = 1.0 - rtp.received as f64 / rtp.sent as f64;
        let _ = writeln!(
            s,
            "\nRTP: {} calls, {} sent, {} echoed, loss {:.3} %, jitter mean {:.3} ms max {:.3} ms",
            rtp.calls,
            rtp.sent,
            rtp.received,
            loss * 100.0,
            ms(rtp.jitter_sum_us / rtp.calls),
            ms(rtp.max_jitter_us)
        );
    }
    m.sms.text(&mut s);
    let failed = m.total_failed();
    if failed > 0 {
        let _ = writeln!(s, "\nfailures: {failed}");
        for c in Cause::ALL {
            if m.cause(c) > 0 {
                let _ = writeln!(s, "  cause {:<14} {}", c.name(), m.cause(c));
            }
        }
        for (code, n) in m.statuses() {
            let _ = writeln!(s, "  SIP status {code:<8} {n}");
        }
        m.sms.failure_text(&mut s);
    } else {
        let _ = writeln!(s, "\nno failures");
    }
    let cps = calls_per_cpu_second(r);
    if cps > 0.0 {
        let _ = writeln!(s, "calls per CPU-second of ringload: {cps:.1}");
    }
    s
}

fn hist_json(h: &Histogram<u64>) -> Value {
    let mut o = Map::new();
    o.insert("count".into(), json!(h.len()));
    if !h.is_empty() {
        o.insert("min_us".into(), json!(h.min()));
        o.insert("mean_us".into(), json!(h.mean()));
        for (name, q) in PERCENTILES {
            o.insert(format!("{}_us", name.replace('.', "_")), json!(h.value_at_quantile(q)));
        }
        o.insert("max_us".into(), json!(h.max()));
    }
    Value::Object(o)
}

/// The JSON report.
pub fn json(cfg: &RunConfig, r: &RunResult) -> Value {
    let m: &Metrics = &r.metrics;
    let actions: Map<String, Value> = Action::ALL
        .iter()
        .map(|&a| {
            let c = m.counts(a);
            (a.name().to_string(), json!({"attempted": c.attempted, "succeeded": c.succeeded, "failed": c.failed}))
        })
        .collect();
    let hists: Map<String, Value> = Metric::ALL.iter().map(|&k| (k.name().to_string(), hist_json(m.histogram(k)))).collect();
    let by_status: Map<String, Value> = m.statuses().map(|(c, n)| (c.to_string(), json!(n))).collect();
    let by_cause: Map<String, Value> = Cause::ALL.iter().filter(|&&c| m.cause(c) > 0).map(|&c| (c.name().to_string(), json!(m.cause(c)))).collect();
    let phases: Vec<Value> = r
        .phases
        .iter()
        .map(|p| json!({"action": phase_name(p), "count": p.count, "rate": p.rate, "elapsed_s": p.elapsed.as_secs_f64(), "cpu_s": p.cpu.as_secs_f64(), "cut": p.cut}))
        .collect();
    let rtp = &m.rtp;
    json!({
        "target": cfg.target.to_string(),
        "ues": cfg.ues,
        "workers": r.workers,
        "wall_s": r.wall.as_secs_f64(),
        "cpu_s": r.cpu.as_secs_f64(),
        "calls_per_cpu_second": calls_per_cpu_second(r),
        "phases": phases,
        "actions": actions,
        "histograms": hists,
        "failures": {"total": m.total_failed(), "by_status": by_status, "by_cause": by_cause, "by_rp_cause": m.sms.rp_causes_json()},
        "sms": m.sms.json(),
        "rtp": {
            "calls": rtp.calls,
            "sent": rtp.sent,
            "received": rtp.received,
            "loss_ratio": if rtp.sent > 0 { 1.0 - rtp.received as f64 / rtp.sent as f64 } else { 0.0 },
            "mean_jitter_us": rtp.jitter_sum_us.checked_div(rtp.calls).unwrap_or(0),
            "max_jitter_us": rtp.max_jitter_us,
        },
    })
}

/// Writes the JSON report to `path`.
pub fn write_json(path: &Path, cfg: &RunConfig, r: &RunResult) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(&json(cfg, r)).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

/// Writes every non-empty histogram as one interval (tagged with its name) of an
/// HdrHistogram log; values are microseconds, the max column is in milliseconds.
pub fn write_hdr_log(path: &Path, r: &RunResult, started: SystemTime) -> std::io::Result<()> {
    let mut out = Vec::new();
    let mut ser = V2Serializer::new();
    let mut b = IntervalLogWriterBuilder::new();
    b.add_comment("ringload latency histograms, values in microseconds")
        .with_start_time(started)
        .with_base_time(started)
        .with_max_value_divisor(1000.0);
    let mut w = b.begin_log_with(&mut out, &mut ser)?;
    for metric in Metric::ALL {
        let h = r.metrics.histogram(metric);
        if h.is_empty() {
            continue;
        }
        w.write_histogram(h, Duration::ZERO, r.wall, Tag::new(metric.name())).map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    let mut f = std::fs::File::create(path)?;
    f.write_all(&out)
}
