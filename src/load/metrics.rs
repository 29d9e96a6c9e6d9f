//! What a load run measures: one HdrHistogram per [`Metric`] (microseconds, 3 significant
//! digits, 1 µs..60 s, allocated at start-up), attempts/successes/failures per
//! [`Action`], failures by SIP status and by [`Cause`], and RTP loss and jitter.
//!
//! Samples are taken from the *intended* start time of each action (open-loop), so a
//! late sender shows up as latency instead of being hidden: this is the coordinated
//! omission correction.

use std::time::Duration;

use hdrhistogram::Histogram;

/// Highest trackable value in microseconds (60 s); longer samples are clamped.
pub const MAX_MICROS: u64 = 60_000_000;

/// A latency histogram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Initial registration: intended send of the first REGISTER → final 200.
    InitialRegister,
    /// Re-registration (refresh): intended send → final 200.
    Reregister,
    /// INVITE intended send → first 180.
    InviteTo180,
    /// INVITE intended send → 200.
    InviteTo200,
    /// BYE intended send → 200.
    ByeTo200,
    /// RTP packet intended send → its echo received.
    RtpRoundTrip,
    /// MO SMS: MESSAGE intended send → the SC's RP-ACK at the sender.
    SmsSubmitToRpAck,
    /// MO SMS: MESSAGE intended send → SMS-DELIVER at the recipient UE.
    SmsSubmitToDelivery,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Metric; 8] = [
        Metric::InitialRegister,
        Metric::Reregister,
        Metric::InviteTo180,
        Metric::InviteTo200,
        Metric::ByeTo200,
        Metric::RtpRoundTrip,
        Metric::SmsSubmitToRpAck,
        Metric::SmsSubmitToDelivery,
    ];

    /// Stable name (JSON keys, hdr log tags, plot legend).
    pub fn name(self) -> &'static str {
        match self {
            Metric::InitialRegister => "initial_register",
            Metric::Reregister => "reregister",
            Metric::InviteTo180 => "invite_to_180",
            Metric::InviteTo200 => "invite_to_200",
            Metric::ByeTo200 => "bye_to_200",
            Metric::RtpRoundTrip => "rtp_round_trip",
            Metric::SmsSubmitToRpAck => "sms_submit_to_rp_ack",
            Metric::SmsSubmitToDelivery => "sms_submit_to_delivery",
        }
    }

    fn idx(self) -> usize {
        self as usize
    }
}

/// A scheduled action of an emulated UE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Initial registration (challenge, answer, 200).
    Register,
    /// Registration refresh.
    Reregister,
    /// De-registration (Expires: 0).
    Deregister,
    /// A call to the echo IMPU.
    EchoCall,
    /// A call to another emulated UE.
    UeCall,
    /// An SMS to another emulated UE (submit → RP-ACK and delivery).
    Sms,
}

impl Action {
    /// Every action, in report order.
    pub const ALL: [Action; 6] = [Action::Register, Action::Reregister, Action::Deregister, Action::EchoCall, Action::UeCall, Action::Sms];

    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            Action::Register => "register",
            Action::Reregister => "reregister",
            Action::Deregister => "deregister",
            Action::EchoCall => "echo_call",
            Action::UeCall => "ue_call",
            Action::Sms => "sms",
        }
    }

    fn idx(self) -> usize {
        self as usize
    }
}

/// Why an action failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cause {
    /// A final SIP status other than 2xx (the code is counted separately).
    Status,
    /// No final answer within the transaction timeout (or the run ended first).
    Timeout,
    /// The network failed AKA authentication (MAC failure) or a challenge could not be
    /// answered.
    AuthFailed,
    /// Challenged again after answering (wrong credentials).
    AuthRejected,
    /// The UE was still busy with an earlier action when this one was due.
    Busy,
    /// The answer had no usable SDP.
    BadSdp,
    /// The message could not be built (too long for the buffer).
    Build,
    /// The SC refused an MO SMS with RP-ERROR (the RP-Cause is counted separately).
    RpError,
    /// The SC acknowledged an MO SMS but its recipient did not receive it in time.
    NotDelivered,
}

impl Cause {
    /// Every cause, in report order.
    pub const ALL: [Cause; 9] = [
        Cause::Status,
        Cause::Timeout,
        Cause::AuthFailed,
        Cause::AuthRejected,
        Cause::Busy,
        Cause::BadSdp,
        Cause::Build,
        Cause::RpError,
        Cause::NotDelivered,
    ];

    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            Cause::Status => "sip_status",
            Cause::Timeout => "timeout",
            Cause::AuthFailed => "auth_failed",
            Cause::AuthRejected => "auth_rejected",
            Cause::Busy => "ue_busy",
            Cause::BadSdp => "bad_sdp",
            Cause::Build => "build",
            Cause::RpError => "rp_error",
            Cause::NotDelivered => "sms_not_delivered",
        }
    }

    fn idx(self) -> usize {
        self as usize
    }
}

/// Counts of one action kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Started.
    pub attempted: u64,
    /// Ended well.
    pub succeeded: u64,
    /// Ended in failure.
    pub failed: u64,
}

/// RTP totals of the caller side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtpTotals {
    /// Packets sent.
    pub sent: u64,
    /// Echoes received.
    pub received: u64,
    /// Largest RFC 3550 interarrival jitter seen on one call, in microseconds.
    pub max_jitter_us: u64,
    /// Sum of the final jitter of every call (for the mean), in microseconds.
    pub jitter_sum_us: u64,
    /// Calls with media.
    pub calls: u64,
}

/// Highest SIP status code counted (6xx).
const MAX_STATUS: usize = 700;

/// Everything one shard (or the whole run, after [`Metrics::merge`]) measured.
pub struct Metrics {
    hists: Vec<Histogram<u64>>,
    counts: [Counts; Action::ALL.len()],
    causes: [u64; Cause::ALL.len()],
    statuses: Box<[u64; MAX_STATUS]>,
    /// RTP totals.
    pub rtp: RtpTotals,
    /// SMS totals.
    pub sms: super::sms_report::SmsTotals,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("counts", &self.counts).field("causes", &self.causes).finish()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn new_hist() -> Histogram<u64> {
    // Invariant: 1 <= low, high >= 2 * low and 3 significant digits are valid bounds.
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("static histogram bounds are valid")
}

impl Metrics {
    /// Allocates every histogram (start-up only).
    pub fn new() -> Metrics {
        Metrics {
            hists: Metric::ALL.iter().map(|_| new_hist()).collect(),
            counts: [Counts::default(); Action::ALL.len()],
            causes: [0; Cause::ALL.len()],
            statuses: Box::new([0; MAX_STATUS]),
            rtp: RtpTotals::default(),
            sms: Default::default(),
        }
    }

    /// Records one latency sample (clamped to 1 µs..60 s; never allocates).
    pub fn record(&mut self, m: Metric, d: Duration) {
        let us = (d.as_micros().min(u128::from(MAX_MICROS)) as u64).max(1);
        if let Some(h) = self.hists.get_mut(m.idx()) {
            h.saturating_record(us);
        }
    }

    /// Counts the start of an action.
    pub fn attempt(&mut self, a: Action) {
        self.counts[a.idx()].attempted += 1;
    }

    /// Counts a success.
    pub fn success(&mut self, a: Action) {
        self.counts[a.idx()].succeeded += 1;
    }

    /// Counts a failure with its cause and, for [`Cause::Status`], the status code.
    pub fn failure(&mut self, a: Action, cause: Cause, status: Option<u16>) {
        self.counts[a.idx()].failed += 1;
        self.causes[cause.idx()] += 1;
        if let Some(s) = status.and_then(|s| self.statuses.get_mut(usize::from(s))) {
            *s += 1;
        }
    }

    /// The histogram of `m`.
    pub fn histogram(&self, m: Metric) -> &Histogram<u64> {
        // `hists` has one entry per Metric (built from Metric::ALL).
        &self.hists[m.idx()]
    }

    /// Counts of action `a`.
    pub fn counts(&self, a: Action) -> Counts {
        self.counts[a.idx()]
    }

    /// Failures with cause `c`.
    pub fn cause(&self, c: Cause) -> u64 {
        self.causes[c.idx()]
    }

    /// (status, count) of every SIP status that failed an action.
    pub fn statuses(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.statuses.iter().enumerate().filter(|(_, &n)| n > 0).map(|(s, &n)| (s as u16, n))
    }

    /// Total failures of every action.
    pub fn total_failed(&self) -> u64 {
        self.counts.iter().map(|c| c.failed).sum()
    }

    /// Total attempts of every action.
    pub fn total_attempted(&self) -> u64 {
        self.counts.iter().map(|c| c.attempted).sum()
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Metrics) {
        for (a, b) in self.hists.iter_mut().zip(&other.hists) {
            // Same bounds on both sides: add cannot fail.
            let _ = a.add(b);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            a.attempted += b.attempted;
            a.succeeded += b.succeeded;
            a.failed += b.failed;
        }
        for (a, b) in self.causes.iter_mut().zip(&other.causes) {
            *a += b;
        }
        for (a, b) in self.statuses.iter_mut().zip(other.statuses.iter()) {
            *a += b;
        }
        let (r, o) = (&mut self.rtp, &other.rtp);
        r.sent += o.sent;
        r.received += o.received;
        r.max_jitter_us = r.max_jitter_us.max(o.max_jitter_us);
        r.jitter_sum_us += o.jitter_sum_us;
        r.calls += o.calls;
        self.sms.merge(&other.sms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_counts_histograms_and_statuses() {
        let mut a = Metrics::new();
        let mut b = Metrics::new();
        a.attempt(Action::Register);
        a.success(Action::Register);
        a.record(Metric::InitialRegister, Duration::from_millis(2));
        b.attempt(Action::Register);
        b.failure(Action::Register, Cause::Status, Some(403));
        b.record(Metric::InitialRegister, Duration::from_secs(120));
        a.merge(&b);
        assert_eq!(a.counts(Action::Register), Counts { attempted: 2, succeeded: 1, failed: 1 });
        assert_eq!(a.statuses().collect::<Vec<_>>(), vec![(403, 1)]);
        assert_eq!(a.cause(Cause::Status), 1);
        let h = a.histogram(Metric::InitialRegister);
        assert_eq!(h.len(), 2);
        assert!(h.max() >= MAX_MICROS - MAX_MICROS / 1000, "clamped to 60 s");
        assert_eq!(a.total_failed(), 1);
    }
}
