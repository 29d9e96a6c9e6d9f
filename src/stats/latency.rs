//! Latency histograms kept by the control thread: how long the core took for
//! registrations and call set-ups, as seen at the core. The remote API
//! (`stats`) and the metrics endpoint read them; HdrHistogram keeps 3
//! significant digits over 1 µs..60 s in a fixed allocation made at start-up,
//! so recording never allocates.

use std::time::Duration;

use hdrhistogram::serialization::{Serializer, V2Serializer};
use hdrhistogram::Histogram;

/// Highest trackable value in microseconds (60 s); longer samples are clamped.
const MAX_MICROS: u64 = 60_000_000;

/// What a histogram measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatencyKind {
    /// REGISTER carrying credentials received → final 2xx sent (the authenticated leg).
    Register,
    /// Initial INVITE received from the caller → first 180 Ringing relayed to it.
    InviteToRinging,
    /// Initial INVITE received from the caller → 2xx relayed to it.
    InviteToAnswer,
}

impl LatencyKind {
    /// Every kind, in report order.
    pub const ALL: [LatencyKind; 3] = [LatencyKind::Register, LatencyKind::InviteToRinging, LatencyKind::InviteToAnswer];

    /// Stable name used in the API and the metrics.
    pub fn name(self) -> &'static str {
        match self {
            LatencyKind::Register => "register",
            LatencyKind::InviteToRinging => "invite_to_180",
            LatencyKind::InviteToAnswer => "invite_to_200",
        }
    }
}

/// Percentiles of one histogram, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Samples recorded.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest sample.
    pub max: u64,
}

/// One histogram per [`LatencyKind`].
pub struct Latencies {
    hists: [Histogram<u64>; 3],
}

impl std::fmt::Debug for Latencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Latencies").field("register", &self.summary(LatencyKind::Register)).finish()
    }
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

fn new_hist() -> Histogram<u64> {
    // Invariant: 1 ≤ low, high ≥ 2·low and 3 significant digits are valid bounds.
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("static histogram bounds are valid")
}

impl Latencies {
    /// Allocates every histogram (start-up only).
    pub fn new() -> Self {
        Latencies { hists: [new_hist(), new_hist(), new_hist()] }
    }

    fn idx(kind: LatencyKind) -> usize {
        match kind {
            LatencyKind::Register => 0,
            LatencyKind::InviteToRinging => 1,
            LatencyKind::InviteToAnswer => 2,
        }
    }

    /// Records one sample (clamped to 1 µs..60 s; never allocates).
    pub fn record(&mut self, kind: LatencyKind, d: Duration) {
        let us = (d.as_micros().min(u128::from(MAX_MICROS)) as u64).max(1);
        self.hists[Self::idx(kind)].saturating_record(us);
    }

    /// The percentiles of one histogram.
    pub fn summary(&self, kind: LatencyKind) -> Summary {
        let h = &self.hists[Self::idx(kind)];
        if h.is_empty() {
            return Summary::default();
        }
        Summary {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }

    /// The histogram in HdrHistogram's V2 encoding, base64 (what `HistogramLogReader` and the
    /// Java/Python HdrHistogram libraries decode).
    pub fn encode_base64(&self, kind: LatencyKind) -> String {
        use base64::Engine;
        let mut buf = Vec::new();
        // Serializing into a Vec cannot fail for a valid histogram (no I/O error possible).
        let _ = V2Serializer::new().serialize(&self.hists[Self::idx(kind)], &mut buf);
        base64::engine::general_purpose::STANDARD.encode(buf)
    }

    /// The raw histogram (for exporters).
    pub fn histogram(&self, kind: LatencyKind) -> &Histogram<u64> {
        &self.hists[Self::idx(kind)]
    }

    /// Clears every histogram (API `stats` resets on read).
    pub fn reset(&mut self) {
        for h in &mut self.hists {
            h.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::Deserializer;

    #[test]
    fn percentiles_follow_the_samples() {
        let mut l = Latencies::new();
        for us in 1..=1000u64 {
            l.record(LatencyKind::Register, Duration::from_micros(us));
        }
        let s = l.summary(LatencyKind::Register);
        assert_eq!(s.count, 1000);
        assert!((499..=501).contains(&s.p50), "{s:?}");
        assert!((989..=991).contains(&s.p99), "{s:?}");
        assert_eq!(s.max, 1000);
        assert_eq!(l.summary(LatencyKind::InviteToAnswer), Summary::default());
    }

    #[test]
    fn base64_round_trips_through_the_v2_decoder() {
        use base64::Engine;
        let mut l = Latencies::new();
        l.record(LatencyKind::InviteToRinging, Duration::from_millis(3));
        l.record(LatencyKind::InviteToRinging, Duration::from_secs(120)); // clamped
        let bytes = base64::engine::general_purpose::STANDARD.decode(l.encode_base64(LatencyKind::InviteToRinging)).unwrap();
        let h: Histogram<u64> = Deserializer::new().deserialize(&mut &bytes[..]).unwrap();
        assert_eq!(h.len(), 2);
        assert!(h.max() >= MAX_MICROS - MAX_MICROS / 1000);
        l.reset();
        assert_eq!(l.summary(LatencyKind::InviteToRinging).count, 0);
    }
}
