//! `ue_db.impu.callflow_modifier` (seed 000 5.2.1): rules that alter the SIP
//! call flow of an IMPU (answer with a code, drop, add headers), and the
//! mapping of the deprecated per-IMPU fields `code`, `method`, `content`,
//! `content_type` and `transparent` onto one such rule.

use serde::{Serialize, Serializer};

use super::file_ref::{FileKind, FileText};
use super::headers::{read_custom_headers, CustomHeader};
use super::reader::{Ctx, Field, Obj};

/// The call-flow step a modifier applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ModifierMethod {
    /// Final answer of INVITE.
    #[serde(rename = "INVITE.OK")]
    InviteOk,
    /// 100 responses.
    #[serde(rename = "INVITE.TRYING")]
    InviteTrying,
    /// 180 responses.
    #[serde(rename = "INVITE.RINGING")]
    InviteRinging,
    /// 183 responses.
    #[serde(rename = "INVITE.SESSION_PROGRESS")]
    InviteSessionProgress,
    /// INVITE requests.
    #[serde(rename = "INVITE")]
    Invite,
    /// SUBSCRIBE requests.
    #[serde(rename = "SUBSCRIBE")]
    Subscribe,
    /// REGISTER requests.
    #[serde(rename = "REGISTER")]
    Register,
    /// UPDATE requests.
    #[serde(rename = "UPDATE")]
    Update,
    /// CANCEL requests.
    #[serde(rename = "CANCEL")]
    Cancel,
    /// PRACK requests.
    #[serde(rename = "PRACK")]
    Prack,
    /// MESSAGE requests.
    #[serde(rename = "MESSAGE")]
    Message,
    /// Emergency REGISTER received.
    #[serde(rename = "REGISTER.SOS")]
    RegisterSos,
    /// INVITE within an established dialog.
    #[serde(rename = "REINVITE")]
    Reinvite,
}

const METHODS: &[(&str, ModifierMethod)] = &[
    ("INVITE.OK", ModifierMethod::InviteOk),
    ("INVITE.TRYING", ModifierMethod::InviteTrying),
    ("INVITE.RINGING", ModifierMethod::InviteRinging),
    ("INVITE.SESSION_PROGRESS", ModifierMethod::InviteSessionProgress),
    ("INVITE", ModifierMethod::Invite),
    ("SUBSCRIBE", ModifierMethod::Subscribe),
    ("REGISTER", ModifierMethod::Register),
    ("UPDATE", ModifierMethod::Update),
    ("CANCEL", ModifierMethod::Cancel),
    ("PRACK", ModifierMethod::Prack),
    ("MESSAGE", ModifierMethod::Message),
    ("REGISTER.SOS", ModifierMethod::RegisterSos),
    ("REINVITE", ModifierMethod::Reinvite),
];

/// Which messages the modifier looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Sent messages.
    Tx,
    /// Received messages.
    Rx,
    /// Both.
    Both,
}

/// A radio access type of P-Access-Network-Info (TS 24.229 7.2A.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rat {
    /// 3GPP-E-UTRA.
    Lte,
    /// 3GPP-NR.
    Nr,
    /// Non-3GPP (IEEE).
    N3gpp,
}

impl Rat {
    fn name(self) -> &'static str {
        match self {
            Rat::Lte => "lte",
            Rat::Nr => "nr",
            Rat::N3gpp => "n3gpp",
        }
    }
}

fn ser_rats<S: Serializer>(rats: &[Rat], s: S) -> Result<S::Ok, S::Error> {
    let names: Vec<&str> = rats.iter().map(|r| r.name()).collect();
    s.serialize_str(&names.join(","))
}

/// One call-flow modifier.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallflowModifier {
    /// Step it applies to; `None` means any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<ModifierMethod>,
    /// Generate a response with this code (100..699).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Stop the dialog when applied (default true).
    pub stop: bool,
    /// Direction (default both).
    pub dir: Direction,
    /// Apply without stopping the normal flow (default false).
    pub transparent: bool,
    /// File whose content fills the generated body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<FileText>,
    /// Content type of `content`; required with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Only when P-Access-Network-Info matches one of these; empty: always.
    #[serde(serialize_with = "ser_rats", skip_serializing_if = "Vec::is_empty")]
    pub access_network: Vec<Rat>,
    /// Headers added to the generated response.
    pub custom_headers: Vec<CustomHeader>,
    /// Only when the dialog counterpart is this IMPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impu: Option<String>,
    /// Only when the counterpart registered with this IMEI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imei: Option<String>,
    /// Removed after being triggered this many times.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
}

impl CallflowModifier {
    /// `callflow_modifier`: an object or an array of objects.
    pub(crate) fn read_all(ctx: &mut Ctx, f: &Field<'_>) -> Vec<Self> {
        f.one_or_many().iter().filter_map(|item| Self::read(ctx, item)).collect()
    }

    fn read(ctx: &mut Ctx, f: &Field<'_>) -> Option<Self> {
        let mut o = f.object(ctx)?;
        let mut m = read_common(ctx, &mut o);
        m.stop = o.bool(ctx, "stop", true);
        m.dir = o.enumeration(ctx, "dir", Direction::Both, &[("tx", Direction::Tx), ("rx", Direction::Rx), ("both", Direction::Both)]);
        m.access_network = o.take(ctx, "access_network").map(|a| read_rats(ctx, &a)).unwrap_or_default();
        m.custom_headers = read_custom_headers(ctx, &mut o);
        m.impu = o.opt_string(ctx, "impu");
        m.imei = o.take(ctx, "imei").and_then(|i| i.digits(ctx, "IMEI", 14..=16, false));
        m.ttl = o.opt_int(ctx, "ttl", 1..=i64::from(u32::MAX));
        o.finish(ctx);
        Some(m)
    }

    /// The deprecated per-IMPU fields, if any is written, as one modifier
    /// with the same meaning (seed 000 5.2.1: "Deprecated. See
    /// callflow_modifier"; seed 001: `code` is the echo answer code).
    pub(crate) fn read_legacy(ctx: &mut Ctx, impu: &mut Obj<'_>) -> Option<Self> {
        const LEGACY: [&str; 5] = ["code", "method", "content", "content_type", "transparent"];
        if !LEGACY.iter().any(|n| impu.has(n)) {
            return None;
        }
        for name in LEGACY {
            impu.warn_deprecated(ctx, name, &format!("callflow_modifier.{name}"));
        }
        Some(read_common(ctx, impu))
    }
}

/// The fields shared by a modifier and the deprecated per-IMPU form.
fn read_common(ctx: &mut Ctx, o: &mut Obj<'_>) -> CallflowModifier {
    let content = FileText::read(ctx, o, "content", FileKind::Body);
    let content_type = o.opt_string(ctx, "content_type");
    if content.is_some() && content_type.is_none() {
        o.missing(ctx, "content_type");
    }
    CallflowModifier {
        method: o.opt_enum(ctx, "method", METHODS),
        code: o.opt_int(ctx, "code", 100..=699),
        stop: true,
        dir: Direction::Both,
        transparent: o.bool(ctx, "transparent", false),
        content,
        content_type,
        access_network: Vec::new(),
        custom_headers: Vec::new(),
        impu: None,
        imei: None,
        ttl: None,
    }
}

/// Comma-separated RAT list: `lte`, `nr`, `n3gpp`.
fn read_rats(ctx: &mut Ctx, f: &Field<'_>) -> Vec<Rat> {
    let Some(s) = f.str(ctx) else { return Vec::new() };
    let mut out = Vec::new();
    for name in s.split(',').map(str::trim) {
        match [Rat::Lte, Rat::Nr, Rat::N3gpp].into_iter().find(|r| r.name() == name) {
            Some(r) if !out.contains(&r) => out.push(r),
            Some(_) => {}
            None => ctx.error(&f.v.loc, &f.path, format!("invalid RAT \"{name}\", expected lte, nr or n3gpp")),
        }
    }
    out
}
