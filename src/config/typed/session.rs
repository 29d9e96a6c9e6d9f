//! `session_expires` (seed 000 5.2; RFC 4028 session timers), global and per
//! IMPU, including the legacy integer form that sets only `duration`.

use serde::Serialize;

use super::reader::{Ctx, Field};
use crate::config::value::ValueKind;

/// Who refreshes the session (RFC 4028 `refresher` parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Refresher {
    /// The UAC refreshes.
    Uac,
    /// The UAS refreshes.
    Uas,
}

/// Method used for a refresh the IMS performs (RFC 4028 7.4 / 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RefreshMethod {
    /// UPDATE (RFC 3311).
    Update,
    /// re-INVITE.
    Invite,
}

/// Session timer configuration.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SessionExpires {
    /// Session-Expires in seconds (default 1800).
    pub duration: u32,
    /// Min-SE in seconds (default 90; RFC 4028 4 forbids less than 90).
    pub min: u32,
    /// Refresher when the IMS decides (default uac).
    pub refresher: Refresher,
    /// Refresh method when the IMS refreshes (default update).
    pub method: RefreshMethod,
    /// Force the refresher in IMS requests (default true).
    pub force: bool,
}

impl Default for SessionExpires {
    fn default() -> Self {
        SessionExpires { duration: 1800, min: 90, refresher: Refresher::Uac, method: RefreshMethod::Update, force: true }
    }
}

/// RFC 4028 4: Min-SE is at least 90 seconds; one day is the upper bound we
/// accept for both.
const SECONDS: std::ops::RangeInclusive<i64> = 90..=86_400;

impl SessionExpires {
    /// Reads an integer (legacy: duration only) or an object; fields not
    /// written are taken from `base` (the global setting for per-IMPU ones).
    pub(crate) fn read(ctx: &mut Ctx, f: &Field<'_>, base: SessionExpires) -> Option<Self> {
        if matches!(f.v.kind, ValueKind::Number(_)) {
            let duration = f.int(ctx, SECONDS)?;
            return Some(SessionExpires { duration, ..base });
        }
        let mut o = f.object(ctx)?;
        let s = SessionExpires {
            duration: o.int(ctx, "duration", base.duration, SECONDS),
            min: o.int(ctx, "min", base.min, SECONDS),
            refresher: o.enumeration(ctx, "refresher", base.refresher, &[("uac", Refresher::Uac), ("uas", Refresher::Uas)]),
            method: o.enumeration(
                ctx,
                "method",
                base.method,
                &[("update", RefreshMethod::Update), ("invite", RefreshMethod::Invite)],
            ),
            force: o.bool(ctx, "force", base.force),
        };
        if s.min > s.duration {
            ctx.error(o.loc(), o.path(), format!("min ({}) is greater than duration ({})", s.min, s.duration));
        }
        o.finish(ctx);
        Some(s)
    }
}
