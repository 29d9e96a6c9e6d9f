//! AMR and AMR-WB payload format parameters (RFC 4867 8.1, 8.2) and their offer/answer
//! rules (RFC 4867 8.3.1):
//!
//! - `octet-align`, `crc`, `robust-sorting` and `interleaving` select the payload format
//!   configuration; each combination is incompatible with every other, so the answer
//!   must use the offered combination for a payload type, or reject it.
//! - `mode-set` is bi-directional: when offered, the answerer returns it unmodified or
//!   rejects the payload type; only when absent may the answerer choose one.
//! - `mode-change-period` and `mode-change-neighbor` restrict both directions and are
//!   returned as offered; `mode-change-capability` and `max-red` declare the sender's own
//!   behaviour, so each side states its own.

use std::fmt::Write as _;

use super::caps::AmrCaps;

/// Why an AMR payload type cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmrMismatch {
    /// A parameter value is not valid (RFC 4867 8.1).
    Malformed,
    /// The offered mode-set contains a mode the answerer does not support.
    ModeSetUnsupported,
    /// The answer changed or dropped the offered mode-set (RFC 4867 8.3.1).
    ModeSetChanged,
    /// The offered payload format configuration is not supported by the answerer.
    FormatUnsupported,
    /// The answer's octet-align/crc/robust-sorting/interleaving differ from the offer's.
    FormatChanged,
}

/// Parsed AMR / AMR-WB `a=fmtp` parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AmrParams {
    /// `mode-set` as a bit mask (bit n = mode n); `None` when absent (all modes).
    pub mode_set: Option<u16>,
    /// `octet-align=1`.
    pub octet_align: bool,
    /// `crc=1`.
    pub crc: bool,
    /// `robust-sorting=1`.
    pub robust_sorting: bool,
    /// `interleaving=<frames>`.
    pub interleaving: Option<u32>,
    /// `mode-change-period` (1 or 2).
    pub mode_change_period: Option<u8>,
    /// `mode-change-capability` (1 or 2).
    pub mode_change_capability: Option<u8>,
    /// `mode-change-neighbor=1`.
    pub mode_change_neighbor: bool,
    /// `max-red` in ms.
    pub max_red: Option<u32>,
}

/// Modes of AMR (0-7) or AMR-WB (0-8) as a mask (RFC 4867 8.1, 8.2).
pub(crate) fn all_modes(wideband: bool) -> u16 {
    if wideband {
        0x1ff
    } else {
        0xff
    }
}

fn flag(v: &str) -> Option<bool> {
    match v {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

fn one_or_two(v: &str) -> Option<u8> {
    match v {
        "1" => Some(1),
        "2" => Some(2),
        _ => None,
    }
}

impl AmrParams {
    /// Parses fmtp parameters (unknown ones ignored); `wideband` selects AMR-WB's modes.
    pub fn parse(params: &str, wideband: bool) -> Result<AmrParams, AmrMismatch> {
        let mut p = AmrParams::default();
        let fmtp = super::Fmtp { pt: 0, params: params.to_owned() };
        for (name, value) in fmtp.pairs() {
            let ok = match name.to_ascii_lowercase().as_str() {
                "mode-set" => parse_mode_set(value, wideband).map(|m| p.mode_set = Some(m)),
                "octet-align" => flag(value).map(|f| p.octet_align = f),
                "crc" => flag(value).map(|f| p.crc = f),
                "robust-sorting" => flag(value).map(|f| p.robust_sorting = f),
                "interleaving" => value.parse().ok().map(|n| p.interleaving = Some(n)),
                "mode-change-period" => one_or_two(value).map(|n| p.mode_change_period = Some(n)),
                "mode-change-capability" => one_or_two(value).map(|n| p.mode_change_capability = Some(n)),
                "mode-change-neighbor" => flag(value).map(|f| p.mode_change_neighbor = f),
                "max-red" => value.parse().ok().map(|n| p.max_red = Some(n)),
                _ => Some(()),
            };
            ok.ok_or(AmrMismatch::Malformed)?;
        }
        Ok(p)
    }

    /// RFC 4867 8.1: crc, robust-sorting and interleaving imply octet-aligned operation.
    pub fn octet_aligned(&self) -> bool {
        self.octet_align || self.crc || self.robust_sorting || self.interleaving.is_some()
    }

    /// The payload format configuration that must be identical in offer and answer.
    fn format(&self) -> (bool, bool, bool, Option<u32>) {
        (self.octet_aligned(), self.crc, self.robust_sorting, self.interleaving)
    }

    /// Writes the parameters as an fmtp value (empty when all are defaults).
    pub fn to_fmtp(&self) -> String {
        let mut out = String::new();
        let mut put = |s: std::fmt::Arguments<'_>| {
            if !out.is_empty() {
                out.push(';');
            }
            let _ = out.write_fmt(s);
        };
        if let Some(mask) = self.mode_set {
            let modes: Vec<String> = (0..9).filter(|m| mask & (1 << m) != 0).map(|m| m.to_string()).collect();
            put(format_args!("mode-set={}", modes.join(",")));
        }
        if self.octet_align {
            put(format_args!("octet-align=1"));
        }
        if self.crc {
            put(format_args!("crc=1"));
        }
        if self.robust_sorting {
            put(format_args!("robust-sorting=1"));
        }
        if let Some(n) = self.interleaving {
            put(format_args!("interleaving={n}"));
        }
        if let Some(n) = self.mode_change_period {
            put(format_args!("mode-change-period={n}"));
        }
        if let Some(n) = self.mode_change_capability {
            put(format_args!("mode-change-capability={n}"));
        }
        if self.mode_change_neighbor {
            put(format_args!("mode-change-neighbor=1"));
        }
        if let Some(n) = self.max_red {
            put(format_args!("max-red={n}"));
        }
        out
    }

    /// RFC 4867 8.3.1, answerer side: the parameters to answer `self` (the offer) with,
    /// or why the payload type must be rejected.
    pub fn answer(&self, caps: &AmrCaps, wideband: bool) -> Result<AmrParams, AmrMismatch> {
        let supported = caps.modes & all_modes(wideband);
        let format_ok = if self.octet_aligned() { caps.octet_aligned } else { caps.bandwidth_efficient };
        let extras_ok = (!self.crc || caps.crc)
            && (!self.robust_sorting || caps.robust_sorting)
            && (self.interleaving.is_none() || caps.interleaving);
        if !format_ok || !extras_ok {
            return Err(AmrMismatch::FormatUnsupported);
        }
        let mode_set = match self.mode_set {
            // RFC 4867 8.3.1: "the answerer SHALL return the mode-set unmodified or reject".
            Some(offered) if offered & !supported != 0 => return Err(AmrMismatch::ModeSetUnsupported),
            Some(offered) => Some(offered),
            // Free to choose only when none was offered.
            None if supported != all_modes(wideband) => Some(supported),
            None => None,
        };
        Ok(AmrParams {
            mode_set,
            octet_align: self.octet_align,
            crc: self.crc,
            robust_sorting: self.robust_sorting,
            interleaving: self.interleaving,
            mode_change_period: self.mode_change_period,
            mode_change_capability: caps.mode_change_capability,
            mode_change_neighbor: self.mode_change_neighbor,
            max_red: caps.max_red,
        })
    }

    /// RFC 4867 8.3.1, offerer side: checks an answer (`answer`) to this offer (`self`)
    /// for the same payload type.
    pub fn check_answer(&self, answer: &AmrParams) -> Result<(), AmrMismatch> {
        if self.format() != answer.format() {
            return Err(AmrMismatch::FormatChanged);
        }
        match self.mode_set {
            Some(offered) if answer.mode_set != Some(offered) => Err(AmrMismatch::ModeSetChanged),
            _ => Ok(()),
        }
    }
}

/// `mode-set=0,2,5,7`: modes 0-7 (AMR) or 0-8 (AMR-WB), at least one.
fn parse_mode_set(value: &str, wideband: bool) -> Option<u16> {
    let mut mask = 0u16;
    for m in value.split(',') {
        let m: u8 = m.trim().parse().ok()?;
        let bit = 1u16.checked_shl(u32::from(m))?;
        if bit & all_modes(wideband) == 0 {
            return None;
        }
        mask |= bit;
    }
    Some(mask).filter(|&m| m != 0)
}
