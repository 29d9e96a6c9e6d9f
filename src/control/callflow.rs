//! `ue_db.impu.callflow_modifier` (seed 000 5.2.1) applied to calls: the
//! modifiers of the served IMPU (the callee of MO dialogs) are matched by
//! step (`method`), direction (`dir`), counterpart (`impu`), radio access
//! (`access_network`, from P-Access-Network-Info, TS 24.229 7.2A.4), the
//! counterpart's registered IMEI (`imei`) and remaining `ttl`; a match
//! generates a response with `code`, the modifier's `custom_headers` and its
//! `content` file as body (`content_type`), and stops the dialog unless
//! `stop` is false or `transparent` is set.

use crate::config::typed::{CallflowModifier, Config, Direction, ModifierMethod, Rat};
use crate::ims::hss::normalize_impu;
use crate::ims::terminating::same_imei;
use crate::sip::{HeaderName, Message};
use std::collections::HashMap;
use std::sync::Arc;

/// Whether ringcore receives or sends the message a step is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Received by ringcore.
    Rx,
    /// Sent by ringcore.
    Tx,
}

/// What a matching modifier asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct Effect {
    /// Response to generate instead of (or, when transparent, besides) the normal one.
    pub code: Option<u16>,
    /// Stop the dialog (seed 000 `stop`, default true; never when transparent).
    pub stop: bool,
    /// Apply without stopping the normal call flow.
    pub transparent: bool,
    /// Header lines added to the generated response.
    pub headers: Vec<(String, String)>,
    /// seed 000 `content` (loaded file) and `content_type`: the generated body.
    pub body: Option<(String, Arc<str>)>,
}

/// One IMPU's modifiers with the remaining trigger counts.
#[derive(Clone, Debug, Default)]
struct Entry {
    rules: Vec<CallflowModifier>,
    /// Remaining triggers per rule (`None`: unlimited).
    left: Vec<Option<u32>>,
}

/// The callflow modifiers of every IMPU, by normalised IMPU.
#[derive(Clone, Debug, Default)]
pub struct Modifiers {
    by_impu: HashMap<String, Entry>,
    /// Some rule matches on `imei` (start-up: saves IMEI look-ups otherwise).
    imei_rules: bool,
}

/// TS 24.229 7.2A.4: the access types of P-Access-Network-Info per RAT.
fn rat_matches(rat: Rat, access: &[u8]) -> bool {
    let a = String::from_utf8_lossy(access).to_ascii_uppercase();
    match rat {
        Rat::Lte => a.starts_with("3GPP-E-UTRA"),
        Rat::Nr => a.starts_with("3GPP-NR"),
        Rat::N3gpp => a.starts_with("IEEE-") || a.starts_with("DSL") || a.starts_with("ADSL") || a.starts_with("DOCSIS"),
    }
}

/// An IMPU of the configuration as a full normalised URI (a relative
/// `sip:user` gets `domain`).
pub(super) fn full(impu: &str, domain: &str) -> String {
    if impu.starts_with("sip:") && !impu.contains('@') {
        normalize_impu(&format!("{impu}@{domain}"))
    } else {
        normalize_impu(impu)
    }
}

impl Modifiers {
    /// Collects the modifiers of `ue_db` and `echo` IMPUs (start-up only).
    pub fn from_config(cfg: &Config) -> Self {
        let domain = cfg.sip.domain.as_deref();
        let mut m = Modifiers::default();
        let mut add = |i: &crate::config::typed::Impu, d: &str| {
            if i.callflow_modifier.is_empty() {
                return;
            }
            let mut rules = i.callflow_modifier.clone();
            for r in &mut rules {
                r.impu = r.impu.as_deref().map(|x| full(x, d));
            }
            let left = rules.iter().map(|r| r.ttl).collect();
            m.by_impu.insert(normalize_impu(&i.public_identity(d)), Entry { rules, left });
        };
        for e in &cfg.ue_db {
            let d = e.domain_or(domain).unwrap_or("");
            e.impu.iter().for_each(|i| add(i, d));
        }
        cfg.calls.echo.iter().for_each(|i| add(i, domain.unwrap_or("")));
        m.imei_rules = m.by_impu.values().any(|e| e.rules.iter().any(|r| r.imei.is_some()));
        m
    }

    /// True when no IMPU has a modifier (the common case: nothing to look at).
    pub fn is_empty(&self) -> bool {
        self.by_impu.is_empty()
    }

    /// True when a rule asks for the counterpart's IMEI (worth looking up).
    pub fn uses_imei(&self) -> bool {
        self.imei_rules
    }

    /// The first modifier of `owner` applying to `step` seen in direction
    /// `dir` (`None`: relayed, so both received and sent), with
    /// `counterpart` the other party (and `imei`, the IMEI it registered
    /// with) and `msg` the message concerned; its ttl is consumed (seed 000
    /// `ttl`: removed after being triggered ttl times).
    pub fn fire(&mut self, owner: &str, step: ModifierMethod, dir: Option<Dir>, counterpart: &str, imei: Option<&str>, msg: &Message<'_>) -> Option<Effect> {
        let e = self.by_impu.get_mut(owner)?;
        let access = msg.header(HeaderName::PAccessNetworkInfo).unwrap_or(b"");
        let i = e.rules.iter().zip(&e.left).position(|(r, left)| {
            let dir_ok = matches!((r.dir, dir), (Direction::Both, _) | (_, None) | (Direction::Rx, Some(Dir::Rx)) | (Direction::Tx, Some(Dir::Tx)));
            let step_ok = r.method.map_or(any_covers(step), |m| m == step);
            let peer_ok = r.impu.as_deref().map_or(true, |p| p == counterpart);
            let rat_ok = r.access_network.is_empty() || r.access_network.iter().any(|&rat| rat_matches(rat, access));
            let imei_ok = r.imei.as_deref().map_or(true, |want| imei.is_some_and(|have| same_imei(want, have)));
            dir_ok && step_ok && peer_ok && rat_ok && imei_ok && *left != Some(0)
        })?;
        let r = e.rules.get(i)?;
        if let Some(Some(n)) = e.left.get_mut(i) {
            *n = n.saturating_sub(1);
        }
        let headers = r.custom_headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect();
        let body = match (&r.content, &r.content_type) {
            (Some(f), Some(t)) => f.text.clone().map(|text| (t.clone(), text)),
            _ => None,
        };
        Some(Effect { code: r.code, stop: r.stop && !r.transparent, transparent: r.transparent, headers, body })
    }
}

/// The steps a modifier without `method` applies to: the call steps and
/// emergency registration. Plain REGISTER, SUBSCRIBE and MESSAGE need the
/// method named, so an IMPU's call rule (or the deprecated per-IMPU `code`,
/// the echo answer of seed 001) never blocks its registration or its SMS.
fn any_covers(step: ModifierMethod) -> bool {
    !matches!(step, ModifierMethod::Register | ModifierMethod::Subscribe | ModifierMethod::Message)
}

/// IMEIs compare on TAC and serial number (the first 14 digits, TS 23.003
/// 6.2): the configuration may write the check digit or the software version.
/// RFC 3261 21: the reason phrase of a generated status code (its class's for a code
/// without one of its own here).
pub fn reason(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        480 => "Temporarily Unavailable",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        500 => "Server Internal Error",
        503 => "Service Unavailable",
        603 => "Decline",
        _ => match code / 100 {
            2 => "OK",
            3 => "Redirect",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    }
}

/// Inserts `headers` after the start line of `msg` (header order is free
/// except among same-name headers, RFC 3261 7.3.1).
pub fn with_headers(msg: Vec<u8>, headers: &[(String, String)]) -> Vec<u8> {
    if headers.is_empty() {
        return msg;
    }
    let Some(eol) = msg.windows(2).position(|w| w == b"\r\n") else { return msg };
    let mut out = Vec::with_capacity(msg.len() + 64 * headers.len());
    out.extend_from_slice(&msg[..eol + 2]);
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(&msg[eol + 2..]);
    out
}

/// What a response ringcore itself sends (echo, MT calls) becomes under a
/// modifier's effect.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    /// The generated response, sent first.
    pub generated: Option<Vec<u8>>,
    /// The normal response (with the modifier's headers when no code was
    /// generated), unless replaced or stopped.
    pub normal: Option<Vec<u8>>,
    /// The INVITE got its final answer this way, or the dialog is stopped.
    pub ends: bool,
}

/// seed 000 `code`, `transparent`, `stop` on a response of ours (`normal`);
/// `make(code)` builds a bare response to the same INVITE. Transparent: the
/// generated response goes besides the normal one; `stop` false: it replaces
/// it; `stop`: the dialog ends (with a 480 when no final answer was generated).
pub fn local_response(eff: &Effect, normal: Vec<u8>, make: &dyn Fn(u16) -> Vec<u8>) -> Outcome {
    let generated = eff.code.map(|c| render(make(c), eff));
    let gen_final = eff.code.is_some_and(|c| c >= 200);
    // seed 000 `content` fills generated messages only; the normal one gets the headers.
    let decorated = if eff.code.is_none() { with_headers(normal, &eff.headers) } else { normal };
    if eff.transparent || (!eff.stop && generated.is_none()) {
        return Outcome { normal: (!gen_final).then_some(decorated), generated, ends: gen_final };
    }
    if !eff.stop {
        return Outcome { generated, normal: None, ends: gen_final };
    }
    // RFC 3261 13.3.1.3: the INVITE still needs a final answer when the dialog stops.
    let closing = (!gen_final).then(|| make(480));
    Outcome { generated, normal: closing, ends: true }
}

/// A generated or decorated message with the effect applied: its header
/// lines, and its body replaced by the `content` file when there is one.
pub fn render(msg: Vec<u8>, eff: &Effect) -> Vec<u8> {
    let msg = with_headers(msg, &eff.headers);
    match &eff.body {
        Some((ctype, body)) => replace_body(&msg, ctype, body.as_bytes()),
        None => msg,
    }
}

/// `msg` with `body` of type `ctype` instead of its own (RFC 3261 20.14,
/// 20.15: Content-Length and Content-Type, long or compact form, rewritten).
pub fn replace_body(msg: &[u8], ctype: &str, body: &[u8]) -> Vec<u8> {
    let head_len = msg.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(msg.len());
    let head = msg.get(..head_len).unwrap_or(msg);
    let mut out = Vec::with_capacity(head_len + body.len() + 64);
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let name = line.split(|&b| b == b':').next().unwrap_or(b"");
        let name = String::from_utf8_lossy(name).trim().to_ascii_lowercase();
        if !matches!(name.as_str(), "content-type" | "c" | "content-length" | "l") {
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(format!("Content-Type: {ctype}\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modifiers(rules: &str) -> Modifiers {
        let cfg = format!("{{ domain: \"ims\", ue_db: [ {{ imsi: \"001010000000001\", impi: \"b@ims\", authent_type: \"none\", impu: [ {{ impu: \"sip:b\", callflow_modifier: {rules} }} ] }} ] }}");
        let loaded = crate::config::load_str("test", &cfg, std::path::Path::new(".")).expect("test config loads");
        Modifiers::from_config(&loaded.config)
    }

    const INVITE: &[u8] = b"INVITE sip:b@ims SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\nFrom: <sip:a@ims>;tag=1\r\nTo: <sip:b@ims>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nP-Access-Network-Info: 3GPP-NR;utran-cell-id-3gpp=001010001\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn method_dir_impu_access_network_and_ttl_select() {
        let mut m = modifiers("[ { method: \"INVITE.RINGING\", code: 183, dir: \"tx\" }, { method: \"INVITE\", code: 486, impu: \"sip:a\", access_network: \"nr\", ttl: 1, custom_headers: [ { name: \"X-Why\", value: \"busy\" } ] } ]");
        let msg = Message::parse(INVITE).expect("valid request");
        let e = m.fire("sip:b@ims", ModifierMethod::Invite, Some(Dir::Rx), "sip:a@ims", None, &msg).expect("INVITE rule");
        assert_eq!((e.code, e.stop), (Some(486), true));
        assert_eq!(e.headers, vec![("X-Why".to_string(), "busy".to_string())]);
        assert_eq!(m.fire("sip:b@ims", ModifierMethod::Invite, Some(Dir::Rx), "sip:a@ims", None, &msg), None, "ttl 1 used up");
        assert!(m.fire("sip:b@ims", ModifierMethod::InviteRinging, Some(Dir::Rx), "sip:a@ims", None, &msg).is_none(), "tx only");
        assert!(m.fire("sip:b@ims", ModifierMethod::InviteRinging, Some(Dir::Tx), "sip:a@ims", None, &msg).is_some());
        assert!(m.fire("sip:other@ims", ModifierMethod::InviteRinging, Some(Dir::Tx), "sip:a@ims", None, &msg).is_none());
    }

    #[test]
    fn counterpart_and_rat_mismatch_do_not_fire() {
        let mut m = modifiers("{ method: \"INVITE\", code: 403, impu: \"sip:c\" }");
        let msg = Message::parse(INVITE).expect("valid request");
        assert!(m.fire("sip:b@ims", ModifierMethod::Invite, Some(Dir::Rx), "sip:a@ims", None, &msg).is_none());
        let mut m = modifiers("{ code: 403, access_network: \"lte\" }");
        assert!(m.fire("sip:b@ims", ModifierMethod::Invite, Some(Dir::Rx), "sip:a@ims", None, &msg).is_none());
    }

    #[test]
    fn imei_selects_on_the_counterparts_registered_imei() {
        let mut m = modifiers("{ method: \"INVITE\", code: 403, imei: \"352099001761481\" }");
        assert!(m.uses_imei());
        let msg = Message::parse(INVITE).expect("valid request");
        assert!(m.fire("sip:b@ims", ModifierMethod::Invite, Some(Dir::Rx), "sip:a@ims", None, &msg).is_none(), "no IMEI registered");
        assert!(m.fire("sip:b@ims", ModifierMethod::Invite, Some(Dir::Rx), "sip:a@ims", Some("35209900176149"), &msg).is_none());
        let e = m.fire("sip:b@ims", ModifierMethod::Invite, Some(Dir::Rx), "sip:a@ims", Some("35209900176148"), &msg);
        assert_eq!(e.and_then(|e| e.code), Some(403), "TAC+SNR match, check digit ignored");
    }

    #[test]
    fn content_replaces_the_body_of_the_generated_message() {
        let eff = Effect {
            code: Some(486),
            stop: true,
            transparent: false,
            headers: vec![("X-A".into(), "1".into())],
            body: Some(("application/xml".into(), Arc::from("<busy/>"))),
        };
        let msg = b"SIP/2.0 486 Busy Here\r\nVia: x\r\nContent-Type: application/sdp\r\nl: 3\r\n\r\nabc".to_vec();
        let out = String::from_utf8(render(msg, &eff)).expect("text");
        assert_eq!(out, "SIP/2.0 486 Busy Here\r\nX-A: 1\r\nVia: x\r\nContent-Type: application/xml\r\nContent-Length: 7\r\n\r\n<busy/>");
        assert!(Message::parse(out.as_bytes()).is_ok_and(|m| m.body() == b"<busy/>"));
    }

    fn effect(code: Option<u16>, stop: bool, transparent: bool) -> Effect {
        Effect { code, stop: stop && !transparent, transparent, headers: vec![("X-M".into(), "1".into())], body: None }
    }

    #[test]
    fn local_responses_follow_code_stop_and_transparent() {
        let make = |c: u16| format!("SIP/2.0 {c} X\r\n\r\n").into_bytes();
        let normal = || make(180);
        let text = |m: &Option<Vec<u8>>| m.as_ref().map(|m| String::from_utf8_lossy(m).into_owned());
        // Transparent, no code: the normal response, decorated.
        let o = local_response(&effect(None, true, true), normal(), &make);
        assert_eq!((text(&o.generated), text(&o.normal), o.ends), (None, Some("SIP/2.0 180 X\r\nX-M: 1\r\n\r\n".into()), false));
        // Transparent with a provisional code: both, generated first.
        let o = local_response(&effect(Some(183), true, true), normal(), &make);
        assert_eq!((text(&o.generated).is_some(), text(&o.normal), o.ends), (true, Some("SIP/2.0 180 X\r\n\r\n".into()), false));
        // stop false: the generated response replaces the normal one.
        let o = local_response(&effect(Some(183), false, false), normal(), &make);
        assert_eq!((text(&o.generated), o.normal, o.ends), (Some("SIP/2.0 183 X\r\nX-M: 1\r\n\r\n".into()), None, false));
        // stop: a final code ends the call; without one a 480 closes the INVITE.
        let o = local_response(&effect(Some(486), true, false), normal(), &make);
        assert_eq!((o.normal, o.ends), (None, true));
        let o = local_response(&effect(None, true, false), normal(), &make);
        assert_eq!((o.generated, text(&o.normal), o.ends), (None, Some("SIP/2.0 480 X\r\n\r\n".into()), true));
    }

    #[test]
    fn without_a_method_rules_leave_register_message_and_subscribe_alone() {
        let mut m = modifiers("{ code: 480 }");
        let msg = Message::parse(INVITE).expect("valid request");
        assert!(m.fire("sip:b@ims", ModifierMethod::Message, Some(Dir::Rx), "sip:a@ims", None, &msg).is_none());
        assert!(m.fire("sip:b@ims", ModifierMethod::Register, Some(Dir::Rx), "", None, &msg).is_none());
        assert!(m.fire("sip:b@ims", ModifierMethod::Invite, Some(Dir::Rx), "sip:a@ims", None, &msg).is_some());
        let mut m = modifiers("{ method: \"MESSAGE\", code: 500 }");
        assert!(m.fire("sip:b@ims", ModifierMethod::Message, Some(Dir::Rx), "sip:a@ims", None, &msg).is_some());
    }

    #[test]
    fn headers_go_after_the_start_line() {
        let out = with_headers(b"SIP/2.0 486 Busy\r\nVia: x\r\n\r\n".to_vec(), &[("X-A".into(), "1".into())]);
        assert_eq!(out, b"SIP/2.0 486 Busy\r\nX-A: 1\r\nVia: x\r\n\r\n");
    }
}
