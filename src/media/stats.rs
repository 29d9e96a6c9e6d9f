//! Per-media counters and RTP reception statistics: sequence tracking of RFC 3550 A.1
//! (without the probation period: the source is known from signalling), the loss
//! estimate of A.3 and the interarrival jitter of A.8.

/// Packet and byte counters of one media session (`dialog_get` medias counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MediaCounters {
    /// RTP packets received.
    pub rtp_rx_packets: u64,
    /// RTP bytes received.
    pub rtp_rx_bytes: u64,
    /// RTP packets sent.
    pub rtp_tx_packets: u64,
    /// RTP bytes sent.
    pub rtp_tx_bytes: u64,
    /// RTCP packets received.
    pub rtcp_rx_packets: u64,
    /// RTCP bytes received.
    pub rtcp_rx_bytes: u64,
    /// RTCP packets sent.
    pub rtcp_tx_packets: u64,
    /// RTCP bytes sent.
    pub rtcp_tx_bytes: u64,
    /// Dropped: source other than the latched one.
    pub drop_unexpected_source: u64,
    /// Dropped: media blocked or RTP/RTCP switched off.
    pub drop_blocked: u64,
    /// Dropped: not valid RTP or RTCP.
    pub drop_malformed: u64,
    /// Dropped: no destination known yet.
    pub drop_no_destination: u64,
    /// Dropped: the delay pool was full or the packet too large to hold.
    pub drop_delay_full: u64,
}

/// RTP reception statistics of the current source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReceptionStats {
    /// SSRC of the current source.
    pub ssrc: u32,
    /// Packets counted by A.1 (duplicates included).
    pub received: u64,
    /// A.3: extended highest sequence number - base + 1.
    pub expected: u64,
    /// A.3: expected - received (negative with duplicates).
    pub lost: i64,
    /// Forward jumps of the sequence number by more than one.
    pub gaps: u64,
    /// A.8 interarrival jitter, in timestamp units.
    pub jitter: u32,
}

/// RFC 3550 A.1 constants.
const MAX_DROPOUT: u16 = 3000;
const MAX_MISORDER: u16 = 100;
const SEQ_MOD: u32 = 1 << 16;

/// Sequence and jitter state of one source (RFC 3550 A.1, A.8).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SourceState {
    started: bool,
    ssrc: u32,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    received: u64,
    gaps: u64,
    have_transit: bool,
    transit: u32,
    /// Jitter times 16 (A.8 integer form).
    jitter_q4: u32,
}

impl SourceState {
    fn init(&mut self, ssrc: u32, seq: u16) {
        *self = SourceState {
            started: true,
            ssrc,
            max_seq: seq,
            base_seq: u32::from(seq),
            bad_seq: SEQ_MOD + 1,
            ..SourceState::default()
        };
    }

    /// Accounts one packet; `arrival` is the arrival time in timestamp units.
    pub(crate) fn update(&mut self, ssrc: u32, seq: u16, ts: u32, arrival: u32) {
        if !self.started || ssrc != self.ssrc {
            self.init(ssrc, seq);
        } else if !self.update_seq(seq) {
            return;
        }
        self.received += 1;
        self.update_jitter(ts, arrival);
    }

    /// RFC 3550 A.1 `update_seq`; false when the packet is not counted.
    fn update_seq(&mut self, seq: u16) -> bool {
        let udelta = seq.wrapping_sub(self.max_seq);
        if udelta < MAX_DROPOUT {
            if udelta > 1 {
                self.gaps += 1;
            }
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(SEQ_MOD);
            }
            self.max_seq = seq;
        } else if u32::from(udelta) <= SEQ_MOD - u32::from(MAX_MISORDER) {
            // A very large jump: believe it only when the next packet follows it.
            if u32::from(seq) == self.bad_seq {
                let ssrc = self.ssrc;
                self.init(ssrc, seq);
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (SEQ_MOD - 1);
                return false;
            }
        }
        // Otherwise a duplicate or reordered packet: counted, max unchanged.
        true
    }

    /// RFC 3550 A.8: J += (|D| - J) / 16, kept times 16.
    fn update_jitter(&mut self, ts: u32, arrival: u32) {
        let transit = arrival.wrapping_sub(ts);
        if self.have_transit {
            let d = transit.wrapping_sub(self.transit) as i32;
            let d = d.unsigned_abs();
            self.jitter_q4 = self.jitter_q4.wrapping_add(d).wrapping_sub(self.jitter_q4.wrapping_add(8) >> 4);
        }
        self.transit = transit;
        self.have_transit = true;
    }

    pub(crate) fn stats(&self) -> ReceptionStats {
        if !self.started {
            return ReceptionStats::default();
        }
        let extended = u64::from(self.cycles) + u64::from(self.max_seq);
        let expected = (extended + 1).saturating_sub(u64::from(self.base_seq));
        ReceptionStats {
            ssrc: self.ssrc,
            received: self.received,
            expected,
            lost: expected as i64 - self.received as i64,
            gaps: self.gaps,
            jitter: self.jitter_q4 >> 4,
        }
    }
}
