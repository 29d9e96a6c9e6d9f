//! What the SMS scenario counts besides its histograms and action counts: SMS-DELIVERs
//! received by the recipients (with those that belong to no message of this run), and
//! MO failures by RP-Cause (TS 24.011 8.2.5.4), for the text and JSON reports.

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use super::sms::SmsEvent;

/// RP-Cause values are 7 bits (TS 24.011 8.2.5.4).
const RP_CAUSES: usize = 128;

/// SMS totals of a shard or a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsTotals {
    /// SMS-DELIVERs received by emulated UEs.
    pub received: u64,
    /// Of those, the ones without a stamp of this run (e.g. held by the SC since an
    /// earlier run).
    pub stray: u64,
    rp_causes: [u64; RP_CAUSES],
}

impl Default for SmsTotals {
    fn default() -> Self {
        SmsTotals { received: 0, stray: 0, rp_causes: [0; RP_CAUSES] }
    }
}

impl SmsTotals {
    /// Counts `e`; returns the (sender UE index, token) a delivery of this run (`run_id`)
    /// must be reported to.
    pub fn record(&mut self, e: SmsEvent, run_id: u32) -> Option<(usize, u32)> {
        match e {
            SmsEvent::Received(stamp) => {
                self.received += 1;
                let ours = stamp.filter(|s| s.0 == run_id).map(|(_, index, token)| (index, token));
                self.stray += u64::from(ours.is_none());
                ours
            }
            SmsEvent::RpCause(c) => {
                if let Some(n) = self.rp_causes.get_mut(usize::from(c)) {
                    *n += 1;
                }
                None
            }
        }
    }

    /// (RP-Cause, count) of every cause that refused an MO message.
    pub fn rp_causes(&self) -> impl Iterator<Item = (u8, u64)> + '_ {
        self.rp_causes.iter().enumerate().filter(|(_, &n)| n > 0).map(|(c, &n)| (c as u8, n))
    }

    /// Adds `o` into `self`.
    pub fn merge(&mut self, o: &SmsTotals) {
        self.received += o.received;
        self.stray += o.stray;
        for (a, b) in self.rp_causes.iter_mut().zip(o.rp_causes.iter()) {
            *a += b;
        }
    }

    /// The failures by RP-Cause as a JSON object (`{"38": 2}`).
    pub fn rp_causes_json(&self) -> Value {
        Value::Object(self.rp_causes().map(|(c, n)| (c.to_string(), json!(n))).collect::<Map<_, _>>())
    }

    /// The JSON section `sms`.
    pub fn json(&self) -> Value {
        json!({"received": self.received, "stray": self.stray})
    }

    /// The text report's lines: the SMS line (when any SMS went through) into `s`.
    pub fn text(&self, s: &mut String) {
        if self.received > 0 {
            let _ = writeln!(s, "\nSMS: {} SMS-DELIVER received by the UEs ({} not from this run)", self.received, self.stray);
        }
    }

    /// The failure lines by RP-Cause into `s`.
    pub fn failure_text(&self, s: &mut String) {
        for (c, n) in self.rp_causes() {
            let _ = writeln!(s, "  RP cause {c:<9} {n}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_of_this_run_are_routed_and_causes_counted() {
        let mut t = SmsTotals::default();
        assert_eq!(t.record(SmsEvent::Received(Some((7, 3, 9))), 7), Some((3, 9)));
        assert_eq!(t.record(SmsEvent::Received(Some((6, 3, 9))), 7), None, "an earlier run's SMS");
        assert_eq!(t.record(SmsEvent::Received(None), 7), None);
        assert_eq!(t.record(SmsEvent::RpCause(38), 7), None);
        let mut u = SmsTotals::default();
        u.record(SmsEvent::RpCause(38), 7);
        u.record(SmsEvent::RpCause(200), 7); // out of range: ignored, never panics
        t.merge(&u);
        assert_eq!((t.received, t.stray), (3, 2));
        assert_eq!(t.rp_causes().collect::<Vec<_>>(), vec![(38, 2)]);
        assert_eq!(t.rp_causes_json(), json!({"38": 2}));
        let mut s = String::new();
        t.failure_text(&mut s);
        assert!(s.contains("RP cause 38"), "{s}");
    }
}
