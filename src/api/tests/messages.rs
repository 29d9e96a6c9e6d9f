//! Validation of every message of seed 000 6.5-6.6: for each, accepted
//! examples (checked through the typed request the context receives) and
//! rejected ones (checked through the error text naming the field).

use std::time::Instant;

use super::{j, FakeCtx};
use crate::api::fields::Fields;
use crate::api::request::*;
use crate::api::session::{Api, ApiConfig};

/// Sends `text`; returns the error text, or the context call it produced.
fn run(text: &str) -> Result<String, String> {
    let mut api = Api::new(ApiConfig::default(), [1; 32]);
    let (mut s, _) = api.open_session();
    let mut ctx = FakeCtx::default();
    let r = api.handle_text(&mut s, Instant::now(), &mut ctx, text);
    let first = r.first().cloned().unwrap_or_default();
    match first.get("error").and_then(|e| e.as_str()) {
        Some(e) => Err(e.to_owned()),
        None => Ok(ctx.last_call().to_owned()),
    }
}

fn parse(text: &str) -> Request {
    let v = j(text);
    let o = v.as_object().expect("object");
    let name = o["message"].as_str().expect("name");
    Request::parse(name, &Fields::new(o)).unwrap_or_else(|e| panic!("{text}: {e:?}"))
}

#[track_caller]
fn good(text: &str, call_contains: &str) {
    match run(text) {
        Ok(call) => assert!(call.contains(call_contains), "{text}\n -> {call}\n wanted {call_contains}"),
        Err(e) => panic!("{text} rejected: {e}"),
    }
}

#[track_caller]
fn bad(text: &str, error: &str) {
    assert_eq!(run(text), Err(error.to_owned()), "{text}");
}

#[test]
fn config_set() {
    good(r#"{"message": "config_set"}"#, "config_set: ConfigSet { logs: None");
    good(r#"{"message": "config_set", "binding_expires": 864000, "100rel": false, "precondition": "silent"}"#, "rel100: Some(false)");
    good(r#"{"message": "config_set", "session_expires": 1200}"#, "duration: Some(1200)");
    good(r#"{"message": "config_set", "sms_message_filter": {"rp_ack": "ignore"}}"#, "Some([(RpAck, Ignore)])");
    good(r#"{"message": "config_set", "logs": {"layers": {"all": {"level": "info", "payload": 1}}, "count": 4096}}"#, "(None, LayerConfig { level: Some(Info), max_size: None, key: None, crypto: None, payload: Some(true)");
    bad(r#"{"message": "config_set", "binding_expires": 864001}"#, "Invalid parameter: binding_expires must be between 0 and 864000");
    bad(r#"{"message": "config_set", "precondition": "maybe"}"#, "Invalid parameter: precondition must be one of on, off, silent");
    bad(r#"{"message": "config_set", "sms_hook_only": "yes"}"#, "Invalid parameter: sms_hook_only must be a boolean");
    bad(r#"{"message": "config_set", "logs": {"layers": {"phy": {}}}}"#, "Invalid parameter: logs.layers.phy must be a log layer (ims, sip, media, rx, cx, n5 or all)");
    bad(r#"{"message": "config_set", "logs": {"layers": {"sip": {"level": "loud"}}}}"#, "Invalid parameter: logs.layers.sip.level must be one of none, error, warn, info, debug");
    bad(r#"{"message": "config_set", "logs": {"count": 100}}"#, "Invalid parameter: logs.count must be between 4096 and 2097152");
    bad(r#"{"message": "config_set", "sms_forced_rp_cause": 256}"#, "Invalid parameter: sms_forced_rp_cause must be between 0 and 255");
    bad(r#"{"message": "config_set", "custom_headers": [1]}"#, "Invalid parameter: custom_headers must be an array of objects");
    bad(r#"{"message": "config_set", "session_expires": {"force": 1}}"#, "Invalid parameter: session_expires.force must be a boolean");
    bad(r#"{"message": "config_set", "dialog_timeout": 1.5}"#, "Invalid parameter: dialog_timeout must be an integer");
}

#[test]
fn log_get_defaults_and_errors() {
    let Request::LogGet(r) = parse(r#"{"message": "log_get"}"#) else { panic!("log_get") };
    assert_eq!((r.min, r.max, r.timeout.as_secs_f64(), r.allow_empty, r.max_size), (1, 4096, 1.0, false, 1_048_576));
    let Request::LogGet(r) = parse(r#"{"message": "log_get", "layers": {"sip": "debug", "ims": "none"}, "timeout": 0.25, "short": true}"#) else {
        panic!("log_get")
    };
    assert_eq!(r.layers, Some(vec![(LogLayer::Ims, LogLevel::None), (LogLayer::Sip, LogLevel::Debug)]));
    assert_eq!((r.timeout.as_millis(), r.short), (250, true));
    bad(r#"{"message": "log_get", "max": 0}"#, "Invalid parameter: max must be between 1 and 2097152");
    bad(r#"{"message": "log_get", "timeout": -1}"#, "Invalid parameter: timeout must be between 0 and 86400");
    bad(r#"{"message": "log_get", "layers": {"sip": "verbose"}}"#, "Invalid parameter: layers.sip must be one of none, error, warn, info, debug");
    bad(r#"{"message": "log_get", "allow_empty": 1}"#, "Invalid parameter: allow_empty must be a boolean");
}

#[test]
fn log_set_reset_and_simple_messages() {
    good(r#"{"message": "log_set", "log": "hello", "layer": "sip", "level": "info", "dir": "UL"}"#, r#"log: Some(("hello", Sip, Info)), dir: Some(Ul)"#);
    good(r#"{"message": "log_set", "flush": true}"#, "flush: true");
    bad(r#"{"message": "log_set", "log": "hello", "level": "info"}"#, "Missing parameter: layer");
    bad(r#"{"message": "log_set", "dir": "UP"}"#, "Invalid parameter: dir must be one of UL, DL, FROM, TO");
    for m in ["log_reset", "quit", "ipsec"] {
        good(&format!(r#"{{"message": "{m}"}}"#), &format!("{m}: ()"));
    }
    good(r#"{"message": "stats"}"#, "stats: Stats { hdr_histograms: false }");
    good(r#"{"message": "stats", "histograms": "hdr"}"#, "hdr_histograms: true");
    bad(r#"{"message": "stats", "histograms": "csv"}"#, "Invalid parameter: histograms must be \"hdr\"");
}

#[test]
fn users() {
    good(r#"{"message": "users_get", "registered_only": true}"#, "UsersGet { registered_only: true }");
    bad(r#"{"message": "users_get", "registered_only": "1"}"#, "Invalid parameter: registered_only must be a boolean");
    good(r#"{"message": "users_add", "users": [{"impi": "001010123456789@ims", "imsi": "001010123456789"}]}"#, "users_add: UsersAdd");
    bad(r#"{"message": "users_add"}"#, "Missing parameter: users");
    bad(r#"{"message": "users_add", "users": ["x"]}"#, "Invalid parameter: users must be an array of objects");
    good(r#"{"message": "user_set", "impi": "u1", "force_sms_over_sg": true}"#, r#"UserSet { impi: "u1", force_sms_over_sg: Some(true) }"#);
    bad(r#"{"message": "user_set", "force_sms_over_sg": true}"#, "Missing parameter: impi");
}

#[test]
fn impus() {
    good(r#"{"message": "impu_set", "impu": "tel:+331", "ring_only": true, "message_id": 1}"#, r#"ImpuSet { impu: "tel:+331", params: {"ring_only": Bool(true)} }"#);
    bad(r#"{"message": "impu_set", "impu": 5}"#, "Invalid parameter: impu must be a string");
    good(r#"{"message": "impu_add", "impi": "echo", "impu": "sip:echo2"}"#, r#"impi: "echo", impu: Uri("sip:echo2")"#);
    good(r#"{"message": "impu_del", "impi": "u1", "impu": {"impu": "tel:+1", "anonymous": true}}"#, "impu_del: ImpuChange");
    bad(r#"{"message": "impu_add", "impi": "u1", "impu": {"anonymous": true}}"#, "Missing parameter: impu.impu");
    bad(r#"{"message": "impu_del", "impi": "u1", "impu": []}"#, "Invalid parameter: impu must be a string or an object");
    bad(r#"{"message": "impu_add", "impu": "x"}"#, "Missing parameter: impi");
}

#[test]
fn sms() {
    good(r#"{"message": "sms", "impi": "u1", "text": "hello"}"#, r#"target: Impi("u1"), body: Text("hello"), sender: None, validity: 86400, tp_udl: None, tp_udhi_present: false, pid: 0, dcs: 4"#);
    good(r#"{"message": "sms", "impu": "tel:+1", "binary": "AAEC", "dcs": 246}"#, "target: Impu(\"tel:+1\"), body: Binary([0, 1, 2])");
    good(r#"{"message": "sms", "impu": "tel:+1", "binary_hex": "0A0b"}"#, "Binary([10, 11])");
    bad(r#"{"message": "sms", "text": "hello"}"#, "Missing parameter: impi");
    bad(r#"{"message": "sms", "impi": "u1"}"#, "Missing parameter: text");
    bad(r#"{"message": "sms", "impi": "u1", "binary": "!!"}"#, "Invalid parameter: binary must be base64 of at most 140 bytes");
    bad(r#"{"message": "sms", "impi": "u1", "binary_hex": "abc"}"#, "Invalid parameter: binary_hex must be hexadecimal of at most 140 bytes");
    let long = "00".repeat(141);
    bad(&format!(r#"{{"message": "sms", "impi": "u1", "binary_hex": "{long}"}}"#), "Invalid parameter: binary_hex must be hexadecimal of at most 140 bytes");
    bad(r#"{"message": "sms", "impi": "u1", "text": "x", "dcs": 300}"#, "Invalid parameter: dcs must be between 0 and 255");
    bad(r#"{"message": "sms", "impi": "u1", "text": "x", "validity": -1}"#, "Invalid parameter: validity must be between 0 and 4294967295");
    good(r#"{"message": "sms_flush", "impi": "u1"}"#, r#"SmsFlush { impi: "u1" }"#);
    bad(r#"{"message": "sms_flush", "impi": null}"#, "Missing parameter: impi");
}

#[test]
fn calls_and_dialogs() {
    good(r#"{"message": "mt_call", "impu": "tel:+1", "sip_file": "a.sdp", "duration": 10.5}"#, r#"sdp_file: Some("a.sdp"), caller: None, sos: false, duration: Some(10.5)"#);
    bad(r#"{"message": "mt_call", "sos": true}"#, "Missing parameter: impi");
    bad(r#"{"message": "mt_call", "impi": "u1", "duration": "10"}"#, "Invalid parameter: duration must be a number");
    good(r#"{"message": "dialog_get"}"#, "DialogGet { session_id: None }");
    bad(r#"{"message": "dialog_get", "session_id": 4}"#, "Invalid parameter: session_id must be a string");
    good(r#"{"message": "dialog_set", "session_id": "s1", "action": "answer", "code": 486}"#, "action: Answer, code: Some(486)");
    good(r#"{"message": "dialog_set", "session_id": "s1", "action": "downgrade", "media": "video"}"#, "media: Some(Video)");
    bad(r#"{"message": "dialog_set", "session_id": "s1"}"#, "Missing parameter: action");
    bad(r#"{"message": "dialog_set", "session_id": "s1", "action": "kill"}"#, "Invalid parameter: action must be one of stop, answer, reinvite, hold, downgrade, media");
    bad(r#"{"message": "dialog_set", "session_id": "s1", "action": "answer", "code": 99}"#, "Invalid parameter: code must be between 100 and 699");
    bad(r#"{"message": "dialog_set", "action": "stop"}"#, "Missing parameter: session_id");
    good(r#"{"message": "unregister", "uri": "sip:u1@1.2.3.4"}"#, r#"Unregister { uri: "sip:u1@1.2.3.4" }"#);
    bad(r#"{"message": "unregister"}"#, "Missing parameter: uri");
}

#[test]
fn mt_call_response_members() {
    let mut api = Api::new(ApiConfig::default(), [1; 32]);
    let (mut s, _) = api.open_session();
    let mut ctx = FakeCtx::default();
    let r = api.handle_text(&mut s, Instant::now(), &mut ctx, r#"{"message": "mt_call", "impi": "u1", "message_id": 2}"#);
    assert_eq!(r, vec![serde_json::json!({"message": "mt_call", "message_id": 2, "session_id": "s1"})]);
}
