//! SMS and MMS properties of seed 000 5.2: store lifetime and retry,
//! SMS centre address (TS 24.011 8.2.5.1 RP-Originator address),
//! message filters and forced CP/RP causes, and the MMS server.

use std::net::SocketAddr;

use serde::Serialize;

use super::reader::{Ctx, Field, Obj};

/// Type of number of the SC address (TS 24.008 10.5.4.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeOfNumber {
    /// Unknown.
    Unknown,
    /// International.
    International,
    /// National.
    National,
}

/// Numbering plan of the SC address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberingPlan {
    /// Unknown.
    Unknown,
    /// National.
    National,
    /// Private.
    Private,
}

/// SMS centre address.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SmsCentreAddress {
    /// Type of number (default unknown).
    pub type_of_number: TypeOfNumber,
    /// Numbering plan (default unknown).
    pub numbering_plan: NumberingPlan,
    /// Optional `+` and up to 20 digits.
    pub number: String,
}

/// What to do with one SMS message type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FilterAction {
    /// Process (default).
    Treat,
    /// Drop silently.
    Ignore,
    /// Reject.
    Reject,
}

/// `sms_message_filter`: action per CP/RP message (TS 24.011 7.2 / 7.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SmsMessageFilter {
    /// CP-DATA.
    pub cp_data: FilterAction,
    /// CP-ACK.
    pub cp_ack: FilterAction,
    /// RP-DATA.
    pub rp_data: FilterAction,
    /// RP-ACK.
    pub rp_ack: FilterAction,
}

/// SMS and MMS settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SmsSettings {
    /// Seconds an SMS is kept (default 86400) unless TP-VP says otherwise.
    pub sms_expires: u32,
    /// Leave SMS to remote API clients registered to `sms` (default false).
    pub sms_hook_only: bool,
    /// SC address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_centre_address: Option<SmsCentreAddress>,
    /// Retry delay in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_retry_delay: Option<u32>,
    /// Message filter.
    pub sms_message_filter: SmsMessageFilter,
    /// Forced CP cause; 0 disables (TS 24.011 8.1.4.2).
    pub sms_forced_cp_cause: u8,
    /// Forced RP cause; 0 disables (TS 24.011 8.2.5.4).
    pub sms_forced_rp_cause: u8,
    /// MMS server (MMSC) address (port 80 when omitted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mms_server_bind_addr: Option<SocketAddr>,
    /// Seconds an MMS is kept (default 86400).
    pub mms_expires: u32,
    /// HTTP interworking (ringcore extension): where `POST /sms` submissions are accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_http_bind_addr: Option<SocketAddr>,
    /// HTTP interworking (ringcore extension): `http://host[:port]/path` receiving the SMS of
    /// recipients ringcore does not serve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_http_webhook: Option<String>,
}

const LIFETIME: std::ops::RangeInclusive<i64> = 1..=31_536_000;

impl SmsSettings {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj<'_>) -> Self {
        SmsSettings {
            sms_expires: o.int(ctx, "sms_expires", 86_400, LIFETIME),
            sms_hook_only: o.bool(ctx, "sms_hook_only", false),
            sms_centre_address: o.take(ctx, "sms_centre_address").and_then(|f| read_sca(ctx, &f)),
            sms_retry_delay: o.opt_int(ctx, "sms_retry_delay", 1..=86_400),
            sms_message_filter: o.take(ctx, "sms_message_filter").and_then(|f| read_filter(ctx, &f)).unwrap_or(ALL_TREAT),
            sms_forced_cp_cause: o.int(ctx, "sms_forced_cp_cause", 0, 0..=255),
            sms_forced_rp_cause: o.int(ctx, "sms_forced_rp_cause", 0, 0..=255),
            mms_server_bind_addr: o.take(ctx, "mms_server_bind_addr").and_then(|f| f.socket_addr(ctx, 80)),
            mms_expires: o.int(ctx, "mms_expires", 86_400, LIFETIME),
            sms_http_bind_addr: o.take(ctx, "sms_http_bind_addr").and_then(|f| f.socket_addr(ctx, 8080)),
            sms_http_webhook: o.opt_string(ctx, "sms_http_webhook"),
        }
    }
}

const ALL_TREAT: SmsMessageFilter =
    SmsMessageFilter { cp_data: FilterAction::Treat, cp_ack: FilterAction::Treat, rp_data: FilterAction::Treat, rp_ack: FilterAction::Treat };

fn read_sca(ctx: &mut Ctx, f: &Field<'_>) -> Option<SmsCentreAddress> {
    let mut o = f.object(ctx)?;
    let tons = [("unknown", TypeOfNumber::Unknown), ("international", TypeOfNumber::International), ("national", TypeOfNumber::National)];
    let plans = [("unknown", NumberingPlan::Unknown), ("national", NumberingPlan::National), ("private", NumberingPlan::Private)];
    let type_of_number = o.enumeration(ctx, "type_of_number", TypeOfNumber::Unknown, &tons);
    let numbering_plan = o.enumeration(ctx, "numbering_plan", NumberingPlan::Unknown, &plans);
    let number = o.require(ctx, "number").and_then(|n| n.digits(ctx, "number", 1..=20, true));
    o.finish(ctx);
    Some(SmsCentreAddress { type_of_number, numbering_plan, number: number? })
}

fn read_filter(ctx: &mut Ctx, f: &Field<'_>) -> Option<SmsMessageFilter> {
    let mut o = f.object(ctx)?;
    let acts = [("treat", FilterAction::Treat), ("ignore", FilterAction::Ignore), ("reject", FilterAction::Reject)];
    let mut action = |name| o.enumeration(ctx, name, FilterAction::Treat, &acts);
    let filter = SmsMessageFilter { cp_data: action("cp_data"), cp_ack: action("cp_ack"), rp_data: action("rp_data"), rp_ack: action("rp_ack") };
    o.finish(ctx);
    Some(filter)
}
