//! Vocabulary of a log record: layer, level, direction, origin and timestamp
//! (lteims manual section 5.2 `log_options`, section 8 "Log file format", section 6.5 `log_get`).

use std::fmt;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// A log layer (section 5.2: "Available layers are: ims, sip, media, rx, cx, n5";
/// ringcore adds `ipsec` and `sms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    /// UE bindings, registrar, HSS.
    Ims,
    /// SIP messages and dialogs.
    Sip,
    /// RTP/RTCP media.
    Media,
    /// Diameter Rx.
    Rx,
    /// Diameter Cx.
    Cx,
    /// 5G N5 (HTTP/2 to the PCF).
    N5,
    /// Userspace ESP security associations.
    Ipsec,
    /// SMS over IP.
    Sms,
}

impl Layer {
    /// Number of layers (size of per-layer tables).
    pub const COUNT: usize = 8;
    /// Every layer, in table order.
    pub const ALL: [Layer; Layer::COUNT] = [
        Layer::Ims,
        Layer::Sip,
        Layer::Media,
        Layer::Rx,
        Layer::Cx,
        Layer::N5,
        Layer::Ipsec,
        Layer::Sms,
    ];

    /// Index into per-layer tables (`0..COUNT`).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Lower-case name used in `log_options` (`sip.level=debug`).
    pub fn name(self) -> &'static str {
        match self {
            Layer::Ims => "ims",
            Layer::Sip => "sip",
            Layer::Media => "media",
            Layer::Rx => "rx",
            Layer::Cx => "cx",
            Layer::N5 => "n5",
            Layer::Ipsec => "ipsec",
            Layer::Sms => "sms",
        }
    }

    /// Upper-case tag shown in log lines (`[SIP]`) and in `log_get` answers.
    pub fn tag(self) -> &'static str {
        match self {
            Layer::Ims => "IMS",
            Layer::Sip => "SIP",
            Layer::Media => "MEDIA",
            Layer::Rx => "RX",
            Layer::Cx => "CX",
            Layer::N5 => "N5",
            Layer::Ipsec => "IPSEC",
            Layer::Sms => "SMS",
        }
    }

    /// Parses a layer name, case-insensitively.
    pub fn parse(s: &str) -> Option<Layer> {
        Layer::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Severity of one record (section 6.5 `log_get.logs.level`: error, warn, info or debug).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Something failed.
    Error = 1,
    /// Something unexpected that ringcore handled.
    Warn = 2,
    /// Normal protocol events.
    Info = 3,
    /// Details, with message dumps.
    Debug = 4,
}

impl Level {
    /// Name used in `log_get` answers.
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    /// Parses `error`, `warn`, `info` or `debug` (`log_set.level`).
    pub fn parse(s: &str) -> Option<Level> {
        match LevelFilter::parse(s)? {
            LevelFilter::None => None,
            LevelFilter::Error => Some(Level::Error),
            LevelFilter::Warn => Some(Level::Warn),
            LevelFilter::Info => Some(Level::Info),
            LevelFilter::Debug => Some(Level::Debug),
        }
    }
}

/// Maximum level a layer lets through (`layer.level=none|error|warn|info|debug`).
///
/// Section 5.2 lists none, error, info and debug; `warn` is accepted too because
/// `log_get`/`log_set` (section 6.5) use it as a level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LevelFilter {
    /// Nothing is logged.
    None = 0,
    /// Errors only.
    Error = 1,
    /// Errors and warnings.
    Warn = 2,
    /// Up to info.
    Info = 3,
    /// Everything, with message dumps.
    Debug = 4,
}

impl LevelFilter {
    /// Name used in `log_options`.
    pub fn name(self) -> &'static str {
        match self {
            LevelFilter::None => "none",
            LevelFilter::Error => "error",
            LevelFilter::Warn => "warn",
            LevelFilter::Info => "info",
            LevelFilter::Debug => "debug",
        }
    }

    /// Parses a level name, case-insensitively.
    pub fn parse(s: &str) -> Option<LevelFilter> {
        let all = [
            LevelFilter::None,
            LevelFilter::Error,
            LevelFilter::Warn,
            LevelFilter::Info,
            LevelFilter::Debug,
        ];
        all.into_iter().find(|l| l.name().eq_ignore_ascii_case(s))
    }

    /// Inverse of `self as u8` (values above 4 saturate to `Debug`).
    pub fn from_u8(v: u8) -> LevelFilter {
        match v {
            0 => LevelFilter::None,
            1 => LevelFilter::Error,
            2 => LevelFilter::Warn,
            3 => LevelFilter::Info,
            _ => LevelFilter::Debug,
        }
    }

    /// True when a record of `level` passes this filter.
    pub fn allows(self, level: Level) -> bool {
        level as u8 <= self as u8
    }
}

/// Direction column (section 8: "FROM or TO or - (No direction associated)";
/// `log_set.dir` also allows UL and DL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// No direction: `-`.
    None,
    /// Received by ringcore.
    From,
    /// Sent by ringcore.
    To,
    /// Uplink (only from `log_set`).
    Ul,
    /// Downlink (only from `log_set`).
    Dl,
}

impl Dir {
    /// Column text.
    pub fn as_str(self) -> &'static str {
        match self {
            Dir::None => "-",
            Dir::From => "FROM",
            Dir::To => "TO",
            Dir::Ul => "UL",
            Dir::Dl => "DL",
        }
    }

    /// Parses FROM, TO, UL, DL or `-`, case-insensitively.
    pub fn parse(s: &str) -> Option<Dir> {
        [Dir::None, Dir::From, Dir::To, Dir::Ul, Dir::Dl]
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s))
    }
}

/// RTP or RTCP (section 8.3 `protocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaProto {
    /// RTP.
    Rtp,
    /// RTCP.
    Rtcp,
}

/// Media type (section 8.3 `media`: audio, video or text).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// Audio.
    Audio,
    /// Video.
    Video,
    /// Real-time text.
    Text,
}

/// What the record is about; selects the line family of section 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// No id or address: the column shows `-`.
    None,
    /// Section 8.1: UE binding id (IMS) or SIP dialog id (SIP).
    Id(u32),
    /// Section 8.2: peer address (source when received, destination when sent).
    Addr(SocketAddr),
    /// Section 8.3: SIP dialog id plus `protocol/media`.
    Media {
        /// SIP dialog id.
        id: u32,
        /// RTP or RTCP.
        proto: MediaProto,
        /// audio, video or text.
        kind: MediaKind,
    },
}

/// Wall-clock time of an event, in microseconds since 1970-01-01 UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Reads the system clock.
    pub fn now() -> Timestamp {
        Timestamp::from_system(SystemTime::now())
    }

    /// Converts a `SystemTime` (times before 1970 become 0).
    pub fn from_system(t: SystemTime) -> Timestamp {
        let us = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros());
        Timestamp(u64::try_from(us).unwrap_or(u64::MAX))
    }

    /// Milliseconds since 1970 (`log_get.logs.timestamp`).
    pub fn as_millis(self) -> u64 {
        self.0 / 1000
    }
}
