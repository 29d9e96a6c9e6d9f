//! Typed IMS requests of seed 000 6.6 (users, IMPUs, SMS, calls, dialogs,
//! network deregistration) with their documented members validated.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::fields::{named_enum, FieldError, FieldResult, Fields};

/// A validated 6.6 request.
#[derive(Clone, Debug, PartialEq)]
pub enum ImsRequest {
    /// `users_get`.
    UsersGet(UsersGet),
    /// `users_add`.
    UsersAdd(UsersAdd),
    /// `user_set`.
    UserSet(UserSet),
    /// `impu_set`.
    ImpuSet(ImpuSet),
    /// `impu_add`.
    ImpuAdd(ImpuChange),
    /// `impu_del`.
    ImpuDel(ImpuChange),
    /// `sms`.
    Sms(Sms),
    /// `sms_flush`.
    SmsFlush(SmsFlush),
    /// `mt_call`.
    MtCall(MtCall),
    /// `dialog_get`.
    DialogGet(DialogGet),
    /// `dialog_set`.
    DialogSet(DialogSet),
    /// `unregister` (network deregistration of a binding).
    Unregister(Unregister),
}

impl ImsRequest {
    /// Parses message `name`; `None` when it is not a 6.6 message.
    pub fn parse(name: &str, f: &Fields<'_>) -> FieldResult<Option<ImsRequest>> {
        Ok(Some(match name {
            "users_get" => ImsRequest::UsersGet(UsersGet { registered_only: f.bool_or("registered_only", false)? }),
            "users_add" => ImsRequest::UsersAdd(UsersAdd::parse(f)?),
            "user_set" => ImsRequest::UserSet(UserSet { impi: f.string("impi")?, force_sms_over_sg: f.opt_bool("force_sms_over_sg")? }),
            "impu_set" => ImsRequest::ImpuSet(ImpuSet::parse(f)?),
            "impu_add" => ImsRequest::ImpuAdd(ImpuChange::parse(f)?),
            "impu_del" => ImsRequest::ImpuDel(ImpuChange::parse(f)?),
            "sms" => ImsRequest::Sms(Sms::parse(f)?),
            "sms_flush" => ImsRequest::SmsFlush(SmsFlush { impi: f.string("impi")? }),
            "mt_call" => ImsRequest::MtCall(MtCall::parse(f)?),
            "dialog_get" => ImsRequest::DialogGet(DialogGet { session_id: f.opt_string("session_id")? }),
            "dialog_set" => ImsRequest::DialogSet(DialogSet::parse(f)?),
            "unregister" => ImsRequest::Unregister(Unregister { uri: f.string("uri")? }),
            _ => return Ok(None),
        }))
    }
}

/// Members that belong to the envelope, not to a message definition.
const ENVELOPE: [&str; 2] = ["message", "message_id"];

/// `users_get`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsersGet {
    /// Only registered users (default false).
    pub registered_only: bool,
}

/// `users_add`: ue_db items (seed 000 5.2.1), checked to be objects; their
/// members are validated by the user database.
#[derive(Clone, Debug, PartialEq)]
pub struct UsersAdd {
    /// The ue_db objects.
    pub users: Vec<Map<String, Value>>,
}

impl UsersAdd {
    fn parse(f: &Fields<'_>) -> FieldResult<Self> {
        let items = f.opt_array("users")?.ok_or(FieldError::Missing("users".into()))?;
        let users = items.iter().map(|v| v.as_object().cloned()).collect::<Option<Vec<_>>>();
        let users = users.ok_or(FieldError::Type { field: "users".into(), expected: "an array of objects" })?;
        Ok(UsersAdd { users })
    }
}

/// `user_set`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSet {
    /// IMPI of the user.
    pub impi: String,
    /// Set or unset SMS over SGs forcing.
    pub force_sms_over_sg: Option<bool>,
}

/// `impu_set`: the IMPU and the impu-object members to change (seed 000 5.2.1 ue_db.impu).
#[derive(Clone, Debug, PartialEq)]
pub struct ImpuSet {
    /// IMPU to configure.
    pub impu: String,
    /// Every other member of the message, as in an impu configuration object.
    pub params: Map<String, Value>,
}

impl ImpuSet {
    fn parse(f: &Fields<'_>) -> FieldResult<Self> {
        let impu = f.string("impu")?;
        let mut params = f.object().clone();
        for k in ENVELOPE.iter().chain(&["impu"]) {
            params.remove(*k);
        }
        Ok(ImpuSet { impu, params })
    }
}

/// An IMPU given as a string or as an impu configuration object.
#[derive(Clone, Debug, PartialEq)]
pub enum Impu {
    /// sip URI, user or tel: number.
    Uri(String),
    /// Impu object; its `impu` member is a string.
    Object(Map<String, Value>),
}

/// `impu_add` / `impu_del`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImpuChange {
    /// User, or "echo" for the echo list.
    pub impi: String,
    /// The IMPU.
    pub impu: Impu,
}

impl ImpuChange {
    /// True when the change applies to the echo list.
    pub fn is_echo(&self) -> bool {
        self.impi == "echo"
    }

    fn parse(f: &Fields<'_>) -> FieldResult<Self> {
        let impi = f.string("impi")?;
        let impu = match f.require("impu")? {
            Value::String(s) => Impu::Uri(s.clone()),
            Value::Object(o) => {
                Fields::nested(o, "impu.").str("impu")?;
                Impu::Object(o.clone())
            }
            _ => return Err(FieldError::Type { field: "impu".into(), expected: "a string or an object" }),
        };
        Ok(ImpuChange { impi, impu })
    }
}

/// The user an SMS goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsTarget {
    /// By IMPI.
    Impi(String),
    /// By IMPU (when impi is not set).
    Impu(String),
}

/// The SMS content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsBody {
    /// Text, encoded in GSM 7-bit or UCS2.
    Text(String),
    /// TP-User-Data bytes (from binary or binary_hex).
    Binary(Vec<u8>),
}

/// TS 23.040 9.2.3.24: TP-User-Data holds at most 140 octets.
pub const MAX_TP_UD: usize = 140;

/// `sms` (send an SMS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sms {
    /// Destination user.
    pub target: SmsTarget,
    /// Content.
    pub body: SmsBody,
    /// sender.
    pub sender: Option<String>,
    /// validity in seconds (default 86400).
    pub validity: u32,
    /// tp_udl: TP-User-Data-Length override with binary data.
    pub tp_udl: Option<u8>,
    /// tp_udhi_present (default false).
    pub tp_udhi_present: bool,
    /// pid (default 0).
    pub pid: u8,
    /// dcs (default 4).
    pub dcs: u8,
}

impl Sms {
    fn parse(f: &Fields<'_>) -> FieldResult<Self> {
        let target = match (f.opt_string("impi")?, f.opt_string("impu")?) {
            (Some(i), _) => SmsTarget::Impi(i),
            (None, Some(u)) => SmsTarget::Impu(u),
            (None, None) => return Err(FieldError::Missing("impi".into())),
        };
        Ok(Sms {
            target,
            body: sms_body(f)?,
            sender: f.opt_string("sender")?,
            validity: f.opt_u32("validity", 0..=u32::MAX)?.unwrap_or(86_400),
            tp_udl: f.opt_u32("tp_udl", 0..=255)?.map(|n| n as u8),
            tp_udhi_present: f.bool_or("tp_udhi_present", false)?,
            pid: f.opt_u32("pid", 0..=255)?.map_or(0, |n| n as u8),
            dcs: f.opt_u32("dcs", 0..=255)?.map_or(4, |n| n as u8),
        })
    }
}

/// Seed 000 6.6 sms: text, else binary (base64), else binary_hex.
fn sms_body(f: &Fields<'_>) -> FieldResult<SmsBody> {
    if let Some(t) = f.opt_string("text")? {
        return Ok(SmsBody::Text(t));
    }
    let (field, bytes) = if let Some(b) = f.opt_str("binary")? {
        ("binary", base64::engine::general_purpose::STANDARD.decode(b).ok())
    } else if let Some(h) = f.opt_str("binary_hex")? {
        ("binary_hex", decode_hex(h))
    } else {
        return Err(FieldError::Missing("text".into()));
    };
    let allowed = if field == "binary" { "base64 of at most 140 bytes" } else { "hexadecimal of at most 140 bytes" };
    match bytes {
        Some(b) if b.len() <= MAX_TP_UD => Ok(SmsBody::Binary(b)),
        _ => Err(FieldError::Value { field: field.into(), allowed }),
    }
}

/// Even-length hexadecimal to bytes.
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.as_bytes().chunks(2).map(|p| Some(nibble(*p.first()?)? << 4 | nibble(*p.get(1)?)?)).collect()
}

/// `sms_flush`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsFlush {
    /// User whose pending SMS are flushed.
    pub impi: String,
}

/// `mt_call`: the callee is named by impi, impu or contact (at least one).
#[derive(Clone, Debug, PartialEq)]
pub struct MtCall {
    /// IMPI of the callee.
    pub impi: Option<String>,
    /// IMPU of the callee.
    pub impu: Option<String>,
    /// Contact SIP URI of the callee.
    pub contact: Option<String>,
    /// SDP file overriding mt_call_sdp_file (member `sip_file`, also read as `sdp_file`).
    pub sdp_file: Option<String>,
    /// Forced caller IMPU.
    pub caller: Option<String>,
    /// Only emergency-registered UEs (default false).
    pub sos: bool,
    /// Call duration in seconds after which the server ends the dialog.
    pub duration: Option<f64>,
}

impl MtCall {
    fn parse(f: &Fields<'_>) -> FieldResult<Self> {
        let c = MtCall {
            impi: f.opt_string("impi")?,
            impu: f.opt_string("impu")?,
            contact: f.opt_string("contact")?,
            sdp_file: match f.opt_string("sip_file")? {
                Some(s) => Some(s),
                None => f.opt_string("sdp_file")?,
            },
            caller: f.opt_string("caller")?,
            sos: f.bool_or("sos", false)?,
            duration: f.opt_num("duration", 0.0..=31_536_000.0)?,
        };
        if c.impi.is_none() && c.impu.is_none() && c.contact.is_none() {
            return Err(FieldError::Missing("impi".into()));
        }
        Ok(c)
    }
}

/// `dialog_get`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialogGet {
    /// Session ID filter.
    pub session_id: Option<String>,
}

named_enum! {
    /// dialog_set.action (seed 000 6.6 table).
    DialogAction { Stop = "stop", Answer = "answer", Reinvite = "reinvite", Hold = "hold", Downgrade = "downgrade", Media = "media" }
}

named_enum! {
    /// Media kind (dialog_set.media).
    MediaKind { Audio = "audio", Video = "video" }
}

/// `dialog_set`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialogSet {
    /// Session ID of the dialog.
    pub session_id: String,
    /// Action.
    pub action: DialogAction,
    /// answer: SIP code; stop: protocol cause of the Reason header.
    pub code: Option<u16>,
    /// stop: Reason header text.
    pub reason: Option<String>,
    /// stop: Reason header protocol.
    pub reason_protocol: Option<String>,
    /// New SDP file (MT call dialogs).
    pub sdp_file: Option<String>,
    /// downgrade: media to remove.
    pub media: Option<MediaKind>,
    /// media: enable (true) or block (false) RTP.
    pub rtp: Option<bool>,
    /// media: enable (true) or block (false) RTCP.
    pub rtcp: Option<bool>,
}

impl DialogSet {
    fn parse(f: &Fields<'_>) -> FieldResult<Self> {
        let session_id = f.string("session_id")?;
        let action = f.opt_enum("action")?.ok_or(FieldError::Missing("action".into()))?;
        let code_range = if action == DialogAction::Answer { 100..=699 } else { 0..=65_535 };
        Ok(DialogSet {
            session_id,
            action,
            code: f.opt_int("code", code_range)?.map(|n| n as u16),
            reason: f.opt_string("reason")?,
            reason_protocol: f.opt_string("reason_protocol")?,
            sdp_file: f.opt_string("sdp_file")?,
            media: f.opt_enum("media")?,
            rtp: f.opt_bool("rtp")?,
            rtcp: f.opt_bool("rtcp")?,
        })
    }
}

/// `unregister`: network deregistration of a binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unregister {
    /// Binding URI (address of record).
    pub uri: String,
}
