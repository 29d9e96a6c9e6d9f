//! `ue_db.impu.callflow_modifier` (seed 000 5.2.1) applied to calls: the
//! modifiers of the served IMPU (the callee of MO dialogs) are matched by
//! step (`method`), direction (`dir`), counterpart (`impu`), radio access
//! (`access_network`, from P-Access-Network-Info, TS 24.229 7.2A.4) and
//! remaining `ttl`; a match generates a response with `code` and the
//! modifier's `custom_headers`, and stops the dialog unless `stop` is false
//! or `transparent` is set. `content`, `imei` are not applied yet.

use crate::config::typed::{CallflowModifier, Config, Direction, ModifierMethod, Rat};
use crate::ims::hss::normalize_impu;
use crate::sip::{HeaderName, Message};
use std::collections::HashMap;

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
        m
    }

    /// True when no IMPU has a modifier (the common case: nothing to look at).
    pub fn is_empty(&self) -> bool {
        self.by_impu.is_empty()
    }

    /// The first modifier of `owner` applying to `step` seen in direction
    /// `dir` (`None`: relayed, so both received and sent), with
    /// `counterpart` the other party and `msg` the message concerned; its
    /// ttl is consumed (seed 000 `ttl`: removed after being triggered ttl times).
    pub fn fire(&mut self, owner: &str, step: ModifierMethod, dir: Option<Dir>, counterpart: &str, msg: &Message<'_>) -> Option<Effect> {
        let e = self.by_impu.get_mut(owner)?;
        let access = msg.header(HeaderName::PAccessNetworkInfo).unwrap_or(b"");
        let i = e.rules.iter().zip(&e.left).position(|(r, left)| {
            let dir_ok = matches!((r.dir, dir), (Direction::Both, _) | (_, None) | (Direction::Rx, Some(Dir::Rx)) | (Direction::Tx, Some(Dir::Tx)));
            let step_ok = r.method.is_none_or(|m| m == step);
            let peer_ok = r.impu.as_deref().is_none_or(|p| p == counterpart);
            let rat_ok = r.access_network.is_empty() || r.access_network.iter().any(|&rat| rat_matches(rat, access));
            dir_ok && step_ok && peer_ok && rat_ok && *left != Some(0)
        })?;
        let r = e.rules.get(i)?;
        if let Some(Some(n)) = e.left.get_mut(i) {
            *n = n.saturating_sub(1);
        }
        let headers = r.custom_headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect();
        Some(Effect { code: r.code, stop: r.stop && !r.transparent, transparent: r.transparent, headers })
    }
}

/// RFC 3261 21: the reason phrase of a generated status code.
pub fn reason(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200..=299 => "OK",
        300..=399 => "Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        480 => "Temporarily Unavailable",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        400..=499 => "Client Error",
        500 => "Server Internal Error",
        503 => "Service Unavailable",
        500..=599 => "Server Error",
        603 => "Decline",
        _ => "Global Failure",
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
        let e = m.fire("sip:b@ims", ModifierMethod::Invite, Some(Dir::Rx), "sip:a@ims", &msg).expect("INVITE rule");
        assert_eq!((e.code, e.stop), (Some(486), true));
        assert_eq!(e.headers, vec![("X-Why".to_string(), "busy".to_string())]);
        assert_eq!(m.fire("sip:b@ims", ModifierMethod::Invite, Some(Dir::Rx), "sip:a@ims", &msg), None, "ttl 1 used up");
        assert!(m.fire("sip:b@ims", ModifierMethod::InviteRinging, Some(Dir::Rx), "sip:a@ims", &msg).is_none(), "tx only");
        assert!(m.fire("sip:b@ims", ModifierMethod::InviteRinging, Some(Dir::Tx), "sip:a@ims", &msg).is_some());
        assert!(m.fire("sip:other@ims", ModifierMethod::InviteRinging, Some(Dir::Tx), "sip:a@ims", &msg).is_none());
    }

    #[test]
    fn counterpart_and_rat_mismatch_do_not_fire() {
        let mut m = modifiers("{ method: \"INVITE\", code: 403, impu: \"sip:c\" }");
        let msg = Message::parse(INVITE).expect("valid request");
        assert!(m.fire("sip:b@ims", ModifierMethod::Invite, Some(Dir::Rx), "sip:a@ims", &msg).is_none());
        let mut m = modifiers("{ code: 403, access_network: \"lte\" }");
        assert!(m.fire("sip:b@ims", ModifierMethod::Invite, Some(Dir::Rx), "sip:a@ims", &msg).is_none());
    }

    #[test]
    fn headers_go_after_the_start_line() {
        let out = with_headers(b"SIP/2.0 486 Busy\r\nVia: x\r\n\r\n".to_vec(), &[("X-A".into(), "1".into())]);
        assert_eq!(out, b"SIP/2.0 486 Busy\r\nX-A: 1\r\nVia: x\r\n\r\n");
    }
}
