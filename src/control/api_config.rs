//! config_set (seed 000 6.5) applied to the configuration in force: every
//! listed member is validated first, then written, so a refused request
//! changes nothing. Services read these values when they next act.

use crate::api::request::{ConfigSet, Precondition as ApiPrecondition, SessionExpires as ApiSessionExpires, SmsFilterAction, SmsFilterType};
use crate::config::typed::{Config, CustomHeader, FilterAction, Precondition, RefreshMethod, Refresher, SessionExpires};
use serde_json::{Map, Value};

fn session_expires(mut cur: SessionExpires, req: &ApiSessionExpires) -> Result<SessionExpires, String> {
    if let Some(d) = req.duration {
        cur.duration = d;
    }
    if let Some(m) = req.min {
        cur.min = m;
    }
    cur.refresher = match req.refresher.as_deref() {
        None => cur.refresher,
        Some("uac") => Refresher::Uac,
        Some("uas") => Refresher::Uas,
        Some(_) => return Err("Invalid parameter: session_expires.refresher must be one of uac, uas".into()),
    };
    cur.method = match req.method.as_deref() {
        None => cur.method,
        Some("update") => RefreshMethod::Update,
        Some("invite") => RefreshMethod::Invite,
        Some(_) => return Err("Invalid parameter: session_expires.method must be one of update, invite".into()),
    };
    if let Some(f) = req.force {
        cur.force = f;
    }
    Ok(cur)
}

/// seed 000 5.2 custom_headers items: name and value strings, optional codes, methods, replace.
fn custom_header(o: &Map<String, Value>) -> Result<CustomHeader, String> {
    let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
    let bad = |k: &str| format!("Invalid parameter: custom_headers.{k}");
    let name = text("name").filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic() && b != b':')).ok_or_else(|| bad("name"))?;
    let value = text("value").ok_or_else(|| bad("value"))?;
    let codes = match o.get("codes") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.iter().map(|c| c.as_u64().and_then(|n| u16::try_from(n).ok())).collect::<Option<_>>().ok_or_else(|| bad("codes"))?,
        Some(_) => return Err(bad("codes")),
    };
    let methods = match o.get("methods") {
        None => vec!["*".to_owned()],
        Some(Value::Array(a)) => a.iter().map(|m| m.as_str().map(str::to_owned)).collect::<Option<_>>().ok_or_else(|| bad("methods"))?,
        Some(_) => return Err(bad("methods")),
    };
    let replace = o.get("replace").map_or(Some(false), Value::as_bool).ok_or_else(|| bad("replace"))?;
    Ok(CustomHeader { name, value, codes, methods, replace })
}

fn set<T: Copy>(dst: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *dst = v;
    }
}

/// Applies every member of `req` except `logs` to `cfg`.
pub fn apply(cfg: &mut Config, req: &ConfigSet) -> Result<(), String> {
    // Validate everything that can fail before writing anything.
    let session = req.session_expires.as_ref().map(|s| session_expires(cfg.calls.session_expires, s)).transpose()?;
    let headers = req.custom_headers.as_ref().map(|h| h.iter().map(custom_header).collect::<Result<Vec<_>, _>>()).transpose()?;
    let s = &mut cfg.sip;
    set(&mut s.binding_expires, req.binding_expires);
    set(&mut s.subscribe_expires, req.subscribe_expires);
    set(&mut s.tcp_threshold, req.tcp_threshold);
    set(&mut s.tcp_keepalive, req.tcp_keepalive);
    set(&mut s.tcp_keepcount, req.tcp_keepcount);
    set(&mut s.auth_on_register_only, req.auth_on_register_only);
    set(&mut s.p_called_party_id, req.p_called_party_id);
    if let Some(h) = headers {
        s.custom_headers = h;
    }
    let c = &mut cfg.calls;
    set(&mut c.dialog_timeout, req.dialog_timeout);
    set(&mut c.rel100, req.rel100);
    set(&mut c.session_expires, session);
    set(
        &mut c.precondition,
        req.precondition.map(|p| match p {
            ApiPrecondition::On => Precondition::On,
            ApiPrecondition::Off => Precondition::Off,
            ApiPrecondition::Silent => Precondition::Silent,
        }),
    );
    let m = &mut cfg.sms;
    set(&mut m.sms_expires, req.sms_expires);
    set(&mut m.mms_expires, req.mms_expires);
    set(&mut m.sms_hook_only, req.sms_hook_only);
    set(&mut m.sms_forced_cp_cause, req.sms_forced_cp_cause);
    set(&mut m.sms_forced_rp_cause, req.sms_forced_rp_cause);
    if let Some(d) = req.sms_retry_delay {
        m.sms_retry_delay = Some(d);
    }
    for (t, a) in req.sms_message_filter.iter().flatten() {
        let action = match a {
            SmsFilterAction::Treat => FilterAction::Treat,
            SmsFilterAction::Ignore => FilterAction::Ignore,
            SmsFilterAction::Reject => FilterAction::Reject,
        };
        let f = &mut m.sms_message_filter;
        match t {
            SmsFilterType::CpData => f.cp_data = action,
            SmsFilterType::CpAck => f.cp_ack = action,
            SmsFilterType::RpData => f.rp_data = action,
            SmsFilterType::RpAck => f.rp_ack = action,
        }
    }
    Ok(())
}
