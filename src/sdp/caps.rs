//! Local media capabilities used to answer (RFC 3264 6) and to build offers (RFC 3264 5):
//! the codecs per media type with their payload types and fmtp, AMR options (RFC 4867),
//! bandwidths, packetisation time, local direction (hold) and the precondition policy.

use super::attr::{Direction, Rtpmap};
use super::repr::{Bandwidth, BandwidthType, MediaKind};

/// What ringcore supports of the AMR payload format (RFC 4867 8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmrCaps {
    /// Supported modes as a mask (bit n = mode n; AMR uses bits 0-7, AMR-WB 0-8).
    pub modes: u16,
    /// Octet-aligned mode supported.
    pub octet_aligned: bool,
    /// Bandwidth-efficient mode supported.
    pub bandwidth_efficient: bool,
    /// `crc=1` supported.
    pub crc: bool,
    /// `robust-sorting=1` supported.
    pub robust_sorting: bool,
    /// `interleaving` supported.
    pub interleaving: bool,
    /// `mode-change-capability` declared in answers (TS 26.114 recommends 2).
    pub mode_change_capability: Option<u8>,
    /// `max-red` declared in answers.
    pub max_red: Option<u32>,
}

impl Default for AmrCaps {
    /// All modes, both framings, no crc/robust-sorting/interleaving, capability 2.
    fn default() -> AmrCaps {
        AmrCaps {
            modes: 0x1ff,
            octet_aligned: true,
            bandwidth_efficient: true,
            crc: false,
            robust_sorting: false,
            interleaving: false,
            mode_change_capability: Some(2),
            max_red: None,
        }
    }
}

/// One supported codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecCap {
    /// Payload type used in offers.
    pub pt: u8,
    /// Encoding name (compared without case).
    pub encoding: String,
    /// Clock rate.
    pub clock_rate: u32,
    /// Channels (1 when absent).
    pub channels: Option<u16>,
    /// fmtp written in offers.
    pub fmtp: Option<String>,
    /// AMR options, for `AMR` and `AMR-WB`.
    pub amr: Option<AmrCaps>,
}

impl CodecCap {
    /// A codec without fmtp.
    pub fn new(pt: u8, encoding: &str, clock_rate: u32) -> CodecCap {
        CodecCap { pt, encoding: encoding.to_owned(), clock_rate, channels: None, fmtp: None, amr: None }
    }

    /// Sets the fmtp written in offers.
    pub fn with_fmtp(mut self, fmtp: &str) -> CodecCap {
        self.fmtp = Some(fmtp.to_owned());
        self
    }

    /// True when an offered `rtpmap` names this codec.
    pub fn matches(&self, map: &Rtpmap) -> bool {
        self.encoding.eq_ignore_ascii_case(&map.encoding)
            && self.clock_rate == map.clock_rate
            && self.channels.unwrap_or(1) == map.channel_count()
    }

    /// The `a=rtpmap` of this codec at its own payload type.
    pub fn rtpmap(&self) -> Rtpmap {
        Rtpmap { pt: self.pt, encoding: self.encoding.clone(), clock_rate: self.clock_rate, channels: self.channels }
    }

    pub(crate) fn is_telephone_event(&self) -> bool {
        self.encoding.eq_ignore_ascii_case("telephone-event")
    }
}

/// Supported codecs and options of one media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaCaps {
    /// Media type.
    pub kind: MediaKind,
    /// Transport written in offers (`RTP/AVP`).
    pub proto: String,
    /// Codecs in local preference order (telephone-event included, one per rate).
    pub codecs: Vec<CodecCap>,
    /// `b=` lines written for this media.
    pub bandwidths: Vec<Bandwidth>,
    /// `a=ptime`.
    pub ptime: Option<u32>,
    /// `a=maxptime`.
    pub maxptime: Option<u32>,
}

/// QoS precondition behaviour (RFC 3312).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreconditionPolicy {
    /// Put preconditions in offers we build.
    pub offer: bool,
    /// Report the local segment as reserved (`a=curr:qos local sendrecv`) at once: the
    /// lab core has no Rx peer reserving bearers yet.
    pub local_reserved: bool,
}

/// Everything needed to answer or build an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCaps {
    /// `o=` user name.
    pub username: String,
    /// Supported media types.
    pub media: Vec<MediaCaps>,
    /// Answer with one codec per media (plus telephone-event), as VoLTE UEs expect.
    pub single_codec: bool,
    /// Accept `a=rtcp-mux` when offered.
    pub rtcp_mux: bool,
    /// Precondition policy.
    pub preconditions: PreconditionPolicy,
    /// Local direction: `SendRecv`, or `SendOnly`/`Inactive` to put the peer on hold.
    pub direction: Direction,
}

fn bw(kind: BandwidthType, value: u64) -> Bandwidth {
    Bandwidth { kind, value }
}

impl LocalCaps {
    /// VoLTE audio: AMR-WB (PT 116) and AMR (PT 118) with mode-change-capability=2 and
    /// telephone-event at 16 kHz (PT 111) and 8 kHz (PT 110), ptime 20, maxptime 240.
    pub fn volte_default() -> LocalCaps {
        let amr = |pt, name: &str, rate| CodecCap {
            amr: Some(AmrCaps::default()),
            ..CodecCap::new(pt, name, rate).with_fmtp("mode-change-capability=2;max-red=0")
        };
        let audio = MediaCaps {
            kind: MediaKind::Audio,
            proto: "RTP/AVP".to_owned(),
            codecs: vec![
                amr(116, "AMR-WB", 16000),
                amr(118, "AMR", 8000),
                CodecCap::new(111, "telephone-event", 16000).with_fmtp("0-15"),
                CodecCap::new(110, "telephone-event", 8000).with_fmtp("0-15"),
            ],
            bandwidths: vec![bw(BandwidthType::As, 49), bw(BandwidthType::Rs, 600), bw(BandwidthType::Rr, 2000)],
            ptime: Some(20),
            maxptime: Some(240),
        };
        LocalCaps {
            username: "ringcore".to_owned(),
            media: vec![audio],
            single_codec: true,
            rtcp_mux: false,
            preconditions: PreconditionPolicy { offer: true, local_reserved: true },
            direction: Direction::SendRecv,
        }
    }

    /// Adds H.264 video (PT 112, Constrained Baseline level 1.2, packetization-mode 1).
    pub fn with_h264_video(mut self) -> LocalCaps {
        self.media.push(MediaCaps {
            kind: MediaKind::Video,
            proto: "RTP/AVP".to_owned(),
            codecs: vec![CodecCap::new(112, "H264", 90000)
                .with_fmtp("profile-level-id=42C00C;packetization-mode=1")],
            bandwidths: vec![bw(BandwidthType::As, 512)],
            ptime: None,
            maxptime: None,
        });
        self
    }

    /// The capabilities of a media type.
    pub fn media(&self, kind: MediaKind) -> Option<&MediaCaps> {
        self.media.iter().find(|m| m.kind == kind)
    }
}

/// RFC 3551 6: the static payload types an offer may use without `a=rtpmap`.
pub(crate) fn static_rtpmap(pt: u8) -> Option<Rtpmap> {
    let (name, rate) = match pt {
        0 => ("PCMU", 8000),
        3 => ("GSM", 8000),
        4 => ("G723", 8000),
        8 => ("PCMA", 8000),
        9 => ("G722", 8000),
        18 => ("G729", 8000),
        34 => ("H263", 90000),
        _ => return None,
    };
    Some(Rtpmap { pt, encoding: name.to_owned(), clock_rate: rate, channels: None })
}
