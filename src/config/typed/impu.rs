//! IMS public user identities of the user database (`ue_db.impu`, seed 000
//! 5.2.1) and of the echo service (`echo`): the string form (`sip:user`,
//! `user`, `tel:+33123456789`) and the object form with per-IMPU flags.

use serde::Serialize;

use super::callflow::CallflowModifier;
use super::file_ref::{FileKind, FileText};
use super::reader::{Ctx, Field, Obj};
use super::session::SessionExpires;
use crate::config::value::ValueKind;

/// QoS precondition handling (RFC 3312 / TS 24.229 preconditions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precondition {
    /// Handle QoS according to the standard / guess from the request.
    On,
    /// No precondition and no dedicated bearer.
    Off,
    /// Establish dedicated bearers whatever the SIP and SDP say.
    Silent,
}

pub(crate) const PRECONDITIONS: &[(&str, Precondition)] =
    &[("on", Precondition::On), ("off", Precondition::Off), ("silent", Precondition::Silent)];

/// Reads `on`/`off`/`silent`, or a boolean (seed 001 per-IMPU legacy form).
pub(crate) fn read_precondition(ctx: &mut Ctx, f: &Field<'_>) -> Option<Precondition> {
    if matches!(f.v.kind, ValueKind::String(_)) {
        return f.enumeration(ctx, PRECONDITIONS);
    }
    let b = f.bool(ctx)?;
    ctx.warn(&f.v.loc, &f.path, "boolean precondition is deprecated, use \"on\" or \"off\"");
    Some(if b { Precondition::On } else { Precondition::Off })
}

/// URI scheme of an IMPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImpuScheme {
    /// SIP URI without host part (the domain is added).
    Sip,
    /// tel URI (RFC 3966).
    Tel,
}

/// One IMPU and its flags.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Impu {
    /// The identity as written (`sip:user`, `user` or `tel:...`).
    pub impu: String,
    /// IMEI this IMPU is bound to (multi_sim).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imei: Option<String>,
    /// Allow anonymous (emergency) use and mask the IMPU (default false).
    pub anonymous: bool,
    /// Authenticate (default true).
    pub authentication: bool,
    /// Stop at ringing (default false).
    pub ring_only: bool,
    /// Precondition override.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precondition: Option<Precondition>,
    /// RFC 3262 reliable provisional responses (default true).
    #[serde(rename = "100rel")]
    pub rel100: bool,
    /// Preferred identity and INVITE Request-URI (default false).
    pub preferred: bool,
    /// Asserted identity (default false).
    pub asserted: bool,
    /// Listed in P-Associated-URI (default true).
    pub associated: bool,
    /// Display name in SIP headers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Domain override.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Forced P-Called-Party-ID value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_called_party_id: Option<String>,
    /// Echo call: delay of the INVITE 200 OK, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_delay: Option<f64>,
    /// Delay before sending an SMS to this IMPU, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_delay: Option<f64>,
    /// Delay of media packets, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_delay: Option<f64>,
    /// Echo: final INVITE answer driven by the remote API (default false).
    pub remote_control: bool,
    /// Echo: SDP file forcing the answered media.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdp_file: Option<FileText>,
    /// Session timer override, resolved against the global setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_expires: Option<SessionExpires>,
    /// Call-flow modifiers (deprecated per-IMPU fields appended last).
    pub callflow_modifier: Vec<CallflowModifier>,
}

impl Impu {
    /// The scheme of the identity.
    pub fn scheme(&self) -> ImpuScheme {
        if self.impu.starts_with("tel:") {
            ImpuScheme::Tel
        } else {
            ImpuScheme::Sip
        }
    }

    /// The user part (SIP) or number (tel) without scheme.
    pub fn user(&self) -> &str {
        let s = self.impu.as_str();
        s.strip_prefix("tel:").or_else(|| s.strip_prefix("sip:")).unwrap_or(s)
    }

    /// The full public identity: `tel:...` as is, SIP as `sip:user@domain`
    /// using this IMPU's domain, else `default_domain` (user's or global).
    pub fn public_identity(&self, default_domain: &str) -> String {
        match self.scheme() {
            ImpuScheme::Tel => self.impu.clone(),
            ImpuScheme::Sip => {
                let domain = self.domain.as_deref().unwrap_or(default_domain);
                format!("sip:{}@{}", self.user(), domain)
            }
        }
    }

    fn plain(impu: String) -> Self {
        Impu {
            impu,
            imei: None,
            anonymous: false,
            authentication: true,
            ring_only: false,
            precondition: None,
            rel100: true,
            preferred: false,
            asserted: false,
            associated: true,
            display_name: None,
            domain: None,
            p_called_party_id: None,
            answer_delay: None,
            sms_delay: None,
            media_delay: None,
            remote_control: false,
            sdp_file: None,
            session_expires: None,
            callflow_modifier: Vec::new(),
        }
    }

    /// A string, an object, or an array of them (`ue_db.impu`, `echo`).
    pub(crate) fn read_list(ctx: &mut Ctx, f: &Field<'_>, session: SessionExpires) -> Vec<Impu> {
        f.one_or_many().iter().filter_map(|item| Self::read(ctx, item, session)).collect()
    }

    fn read(ctx: &mut Ctx, f: &Field<'_>, session: SessionExpires) -> Option<Impu> {
        if matches!(f.v.kind, ValueKind::String(_)) {
            return read_identity(ctx, f).map(Impu::plain);
        }
        let mut o = f.object(ctx)?;
        let id = o.require(ctx, "impu").and_then(|i| read_identity(ctx, &i));
        let ok = id.is_some();
        let mut imp = Impu::plain(id.unwrap_or_default());
        read_flags(ctx, &mut o, &mut imp, session);
        o.finish(ctx);
        ok.then_some(imp)
    }
}

fn read_flags(ctx: &mut Ctx, o: &mut Obj<'_>, imp: &mut Impu, session: SessionExpires) {
    let delay = 0.0..=86_400.0;
    imp.imei = o.take(ctx, "imei").and_then(|i| i.digits(ctx, "IMEI", 14..=16, false));
    if let Some(old) = o.warn_deprecated(ctx, "imeisv", "imei") {
        imp.imei = imp.imei.take().or_else(|| old.digits(ctx, "IMEISV", 14..=16, false));
    }
    imp.anonymous = o.bool(ctx, "anonymous", false);
    imp.authentication = o.bool(ctx, "authentication", true);
    imp.ring_only = o.bool(ctx, "ring_only", false);
    imp.precondition = o.take(ctx, "precondition").and_then(|p| read_precondition(ctx, &p));
    imp.rel100 = o.bool(ctx, "100rel", true);
    imp.preferred = o.bool(ctx, "preferred", false);
    imp.asserted = o.bool(ctx, "asserted", false);
    imp.associated = o.bool(ctx, "associated", true);
    imp.display_name = o.opt_string(ctx, "display_name");
    imp.domain = o.take(ctx, "domain").and_then(|d| super::sip::read_domain(ctx, &d));
    imp.p_called_party_id = o.opt_string(ctx, "p_called_party_id");
    imp.answer_delay = o.opt_num(ctx, "answer_delay", delay.clone());
    imp.sms_delay = o.opt_num(ctx, "sms_delay", delay.clone());
    imp.media_delay = o.opt_num(ctx, "media_delay", delay);
    imp.remote_control = o.bool(ctx, "remote_control", false);
    imp.sdp_file = FileText::read(ctx, o, "sdp_file", FileKind::Sdp);
    imp.session_expires = o.take(ctx, "session_expires").and_then(|s| SessionExpires::read(ctx, &s, session));
    imp.callflow_modifier = o.take(ctx, "callflow_modifier").map(|c| CallflowModifier::read_all(ctx, &c)).unwrap_or_default();
    imp.callflow_modifier.extend(CallflowModifier::read_legacy(ctx, o));
}

/// `sip:user`, `user` (SIP assumed) or `tel:number` (seed 000 5.2.1: a SIP
/// URI must not include the host name).
fn read_identity(ctx: &mut Ctx, f: &Field<'_>) -> Option<String> {
    let s = f.str(ctx)?;
    let problem = if let Some(num) = s.strip_prefix("tel:") {
        let digits = num.strip_prefix('+').unwrap_or(num);
        let ok = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_hexdigit() || b"*#-.()".contains(&b));
        (!ok).then_some("invalid tel URI number")
    } else {
        let user = s.strip_prefix("sip:").unwrap_or(s);
        if user.contains('@') {
            Some("SIP IMPU must not include a host name (the domain is added)")
        } else if user.is_empty() || user.contains(':') || user.bytes().any(|b| b.is_ascii_whitespace() || b"<>\"".contains(&b)) {
            Some("invalid IMPU, expected sip:user, user or tel:number")
        } else {
            None
        }
    };
    if let Some(msg) = problem {
        ctx.error(&f.v.loc, &f.path, format!("{msg}: \"{s}\""));
        return None;
    }
    Some(s.to_owned())
}
