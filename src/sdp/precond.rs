//! QoS precondition attributes of RFC 3312 5: `a=curr`, `a=des` and `a=conf`.
//!
//! ```text
//! current-status = "a=curr:" precondition-type SP status-type SP direction-tag
//! desired-status = "a=des:"  precondition-type SP strength-tag SP status-type SP direction-tag
//! confirm-status = "a=conf:" precondition-type SP status-type SP direction-tag
//! ```

use std::fmt;

/// RFC 3312 5 `strength-tag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// `none`: no precondition for this segment.
    None,
    /// `optional`: try to reserve, proceed anyway.
    Optional,
    /// `mandatory`: the session must not proceed without the resources.
    Mandatory,
    /// `failure`: the precondition failed (RFC 3312 11).
    Failure,
    /// `unknown`: the precondition type is not understood.
    Unknown,
}

/// RFC 3312 5 `status-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusType {
    /// `e2e`: end-to-end status.
    E2e,
    /// `local`: the segment of the sender of the SDP.
    Local,
    /// `remote`: the segment of the receiver of the SDP.
    Remote,
}

/// RFC 3312 5 `direction-tag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrecondDirection {
    /// `none`.
    None,
    /// `send`.
    Send,
    /// `recv`.
    Recv,
    /// `sendrecv`.
    SendRecv,
}

impl PrecondDirection {
    fn bits(self) -> u8 {
        match self {
            PrecondDirection::None => 0,
            PrecondDirection::Send => 1,
            PrecondDirection::Recv => 2,
            PrecondDirection::SendRecv => 3,
        }
    }

    fn from_bits(bits: u8) -> PrecondDirection {
        match bits & 3 {
            0 => PrecondDirection::None,
            1 => PrecondDirection::Send,
            2 => PrecondDirection::Recv,
            _ => PrecondDirection::SendRecv,
        }
    }

    /// The same segment seen from the other side: send and recv swapped.
    pub fn reversed(self) -> PrecondDirection {
        let b = self.bits();
        PrecondDirection::from_bits(((b & 1) << 1) | ((b >> 1) & 1))
    }

    /// True when every direction of `other` is also in `self`.
    pub fn covers(self, other: PrecondDirection) -> bool {
        self.bits() & other.bits() == other.bits()
    }
}

/// One precondition status line (`curr`, `des` or `conf`, see [`super::Attribute`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition {
    /// `precondition-type`, `qos` for RFC 3312.
    pub kind: String,
    /// Strength, present only on `a=des`.
    pub strength: Option<Strength>,
    /// Status type.
    pub status: StatusType,
    /// Direction.
    pub direction: PrecondDirection,
}

impl Precondition {
    /// A `qos` precondition line.
    pub fn qos(strength: Option<Strength>, status: StatusType, direction: PrecondDirection) -> Self {
        Precondition { kind: "qos".to_owned(), strength, status, direction }
    }

    /// The fields of an `a=curr`/`a=conf` (`with_strength` false) or `a=des` (true)
    /// value, borrowed (RFC 3312 5).
    pub(crate) fn fields(value: &str, with_strength: bool) -> Option<PrecondFields<'_>> {
        let mut words = value.split_ascii_whitespace();
        let kind = words.next().filter(|k| super::attr::is_token(k))?;
        let strength = match with_strength {
            true => Some(parse_strength(words.next()?)?),
            false => None,
        };
        let status = parse_status(words.next()?)?;
        let direction = parse_direction(words.next()?)?;
        if words.next().is_some() {
            return None;
        }
        Some((kind, strength, status, direction))
    }

    /// The owned precondition of [`Precondition::fields`].
    pub(crate) fn from_fields((kind, strength, status, direction): PrecondFields<'_>) -> Precondition {
        Precondition { kind: kind.to_owned(), strength, status, direction }
    }
}

/// Borrowed precondition fields: type, strength, status type, direction.
pub(crate) type PrecondFields<'a> = (&'a str, Option<Strength>, StatusType, PrecondDirection);

fn parse_strength(s: &str) -> Option<Strength> {
    Some(match s {
        "none" => Strength::None,
        "optional" => Strength::Optional,
        "mandatory" => Strength::Mandatory,
        "failure" => Strength::Failure,
        "unknown" => Strength::Unknown,
        _ => return None,
    })
}

fn parse_status(s: &str) -> Option<StatusType> {
    Some(match s {
        "e2e" => StatusType::E2e,
        "local" => StatusType::Local,
        "remote" => StatusType::Remote,
        _ => return None,
    })
}

fn parse_direction(s: &str) -> Option<PrecondDirection> {
    Some(match s {
        "none" => PrecondDirection::None,
        "send" => PrecondDirection::Send,
        "recv" => PrecondDirection::Recv,
        "sendrecv" => PrecondDirection::SendRecv,
        _ => return None,
    })
}

impl fmt::Display for Precondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind)?;
        if let Some(s) = self.strength {
            let s = match s {
                Strength::None => "none",
                Strength::Optional => "optional",
                Strength::Mandatory => "mandatory",
                Strength::Failure => "failure",
                Strength::Unknown => "unknown",
            };
            write!(f, " {s}")?;
        }
        let status = match self.status {
            StatusType::E2e => "e2e",
            StatusType::Local => "local",
            StatusType::Remote => "remote",
        };
        let dir = match self.direction {
            PrecondDirection::None => "none",
            PrecondDirection::Send => "send",
            PrecondDirection::Recv => "recv",
            PrecondDirection::SendRecv => "sendrecv",
        };
        write!(f, " {status} {dir}")
    }
}
