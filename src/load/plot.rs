//! `--plot FILE.svg`: the percentile distribution of every non-empty histogram in one
//! SVG chart, drawn the way HdrHistogram's plotter does: the x axis is the percentile on
//! a `1 / (1 - q)` log scale (50 %, 90 %, 99 %, ... 99.999 %), the y axis the latency in
//! milliseconds on a log scale. Plain SVG 1.1 text: no font or library is embedded.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

use super::metrics::{Metric, Metrics};

const W: f64 = 900.0;
const H: f64 = 540.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 220.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
/// x runs over log10(1/(1-q)) from 0 (q = 0) to 5 (q = 99.999 %).
const X_MAX: f64 = 5.0;
const COLORS: [&str; 6] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// (x, latency ms) points of `h` along the percentile axis.
fn curve(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    (0..=100)
        .map(|i| {
            let x = X_MAX * f64::from(i) / 100.0;
            let q = 1.0 - 10f64.powf(-x);
            (x, (h.value_at_quantile(q).max(1) as f64) / 1000.0)
        })
        .collect()
}

/// Renders the chart; `title` goes on top.
pub fn svg(m: &Metrics, title: &str) -> String {
    let series: Vec<(Metric, Vec<(f64, f64)>)> =
        Metric::ALL.iter().filter(|&&k| !m.histogram(k).is_empty()).map(|&k| (k, curve(m.histogram(k)))).collect();
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for (_, c) in &series {
        for &(_, y) in c {
            lo = lo.min(y);
            hi = hi.max(y);
        }
    }
    if series.is_empty() {
        (lo, hi) = (0.001, 1.0);
    }
    let (d0, d1) = (lo.log10().floor(), hi.log10().ceil().max(lo.log10().floor() + 1.0));
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let px = |x: f64| LEFT + x / X_MAX * pw;
    let py = |y: f64| TOP + ph - (y.log10() - d0) / (d1 - d0) * ph;
    let mut s = String::new();
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(s, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#);
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(s, r#"<text x="{}" y="24" font-size="15" text-anchor="middle">{}</text>"#, LEFT + pw / 2.0, esc(title));
    for (i, label) in ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"].iter().enumerate() {
        let x = px(i as f64);
        let _ = writeln!(s, r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/>"##, TOP + ph);
        let _ = writeln!(s, r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#, TOP + ph + 18.0);
    }
    let mut d = d0;
    while d <= d1 {
        let y = py(10f64.powf(d));
        let _ = writeln!(s, r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/>"##, LEFT + pw);
        let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#, LEFT - 6.0, y + 4.0, 10f64.powf(d));
        d += 1.0;
    }
    let _ = writeln!(s, r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##);
    let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">percentile</text>"#, LEFT + pw / 2.0, H - 14.0);
    let _ = writeln!(s, r#"<text x="18" y="{:.1}" transform="rotate(-90 18 {:.1})" text-anchor="middle">latency (ms)</text>"#, TOP + ph / 2.0, TOP + ph / 2.0);
    for (i, (metric, c)) in series.iter().enumerate() {
        let color = COLORS.get(i % COLORS.len()).copied().unwrap_or("black");
        let pts: Vec<String> = c.iter().map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y))).collect();
        let _ = writeln!(s, r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#, pts.join(" "));
        let ly = TOP + 10.0 + 20.0 * i as f64;
        let lx = LEFT + pw + 16.0;
        let _ = writeln!(s, r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="3"/>"#, lx + 20.0);
        let n = m.histogram(*metric).len();
        let _ = writeln!(s, r#"<text x="{}" y="{}">{} (n={n})</text>"#, lx + 26.0, ly + 4.0, metric.name());
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn svg_has_one_curve_per_histogram_and_is_well_formed() {
        let mut m = Metrics::new();
        for i in 1..1000u64 {
            m.record(Metric::InitialRegister, Duration::from_micros(500 + i));
            m.record(Metric::RtpRoundTrip, Duration::from_micros(80 + i % 50));
        }
        let s = svg(&m, "a < b");
        assert!(s.starts_with("<?xml") && s.trim_end().ends_with("</svg>"));
        assert_eq!(s.matches("<polyline").count(), 2);
        assert!(s.contains("initial_register (n=999)") && s.contains("a &lt; b"));
        assert!(!s.contains("NaN") && !s.contains("inf"));
        assert_eq!(s.matches('<').count(), s.matches('>').count());
        let empty = svg(&Metrics::new(), "none");
        assert_eq!(empty.matches("<polyline").count(), 0);
    }
}
