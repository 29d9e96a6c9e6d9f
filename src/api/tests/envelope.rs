//! Startup, authentication (seed 000 6.2), errors (6.3, 6.8), arrays,
//! message_id, register/help and log_get timing.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::FakeCtx;
use crate::api::auth::AuthConfig;
use crate::api::request::ApiEvent;
use crate::api::session::{Api, ApiConfig, Session};

const SEED: [u8; 32] = [7; 32];

fn api(auth: Option<(&str, bool)>) -> Api {
    let auth = auth.map(|(p, unsecure)| AuthConfig { password: p.into(), unsecure });
    Api::new(ApiConfig { name: "lab-ims".into(), version: "1.0".into(), auth, ..ApiConfig::default() }, SEED)
}

/// The documented formula, computed independently of `crate::api::auth`:
/// HMAC-SHA256 with key "<type>:<password>:<name>" over the challenge, in hex.
fn expected_res(password: &str, name: &str, challenge: &str) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(format!("IMS:{password}:{name}").as_bytes()).expect("any key length");
    m.update(challenge.as_bytes());
    m.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn one(api: &mut Api, s: &mut Session, ctx: &mut FakeCtx, text: &str) -> Value {
    let mut v = api.handle_text(s, Instant::now(), ctx, text);
    assert_eq!(v.len(), 1, "{text} -> {v:?}");
    v.remove(0)
}

#[test]
fn startup_ready() {
    let (s, hello) = api(None).open_session();
    assert_eq!(hello, json!({"message": "ready", "type": "IMS", "name": "lab-ims", "version": "1.0"}));
    assert!(s.is_authenticated());
}

#[test]
fn res_formula_fixed_vector() {
    // Fixed challenge, computed with the documented formula.
    let res = crate::api::compute_res("secret", "lab-ims", "0123456789abcdef");
    assert_eq!(res, expected_res("secret", "lab-ims", "0123456789abcdef"));
    assert_eq!(res.len(), 64);
    assert_ne!(res, expected_res("secret", "lab-ims", "0123456789abcdeF"));
}

#[test]
fn res_file_vectors() {
    let data = include_str!("../../../tests/data/api/auth_vectors.txt");
    let mut n = 0;
    for line in data.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(f[0], "IMS");
        assert_eq!(crate::api::compute_res(f[1], f[2], f[3]), f[4], "{line}");
        assert!(crate::api::auth::verify_res(f[1], f[2], f[3], f[4]));
        n += 1;
    }
    assert_eq!(n, 2);
}

#[test]
fn authentication_flow() {
    let mut api = api(Some(("secret", false)));
    let mut ctx = FakeCtx::default();
    let (mut s, hello) = api.open_session();
    assert_eq!(hello["message"], "authenticate");
    assert_eq!((&hello["type"], &hello["name"]), (&json!("IMS"), &json!("lab-ims")));
    let c1 = hello["challenge"].as_str().expect("challenge").to_owned();
    assert_eq!(c1.len(), 32);

    let r = one(&mut api, &mut s, &mut ctx, r#"{"message": "config_get", "message_id": 1}"#);
    assert_eq!(r, json!({"message": "config_get", "message_id": 1, "error": "Authentication not done"}));
    assert!(ctx.calls.is_empty());

    let wrong = expected_res("guess", "lab-ims", &c1);
    let r = one(&mut api, &mut s, &mut ctx, &format!(r#"{{"message": "authenticate", "message_id": "a", "res": "{wrong}"}}"#));
    assert_eq!(r["error"], "Authentication failed");
    assert_eq!((&r["message_id"], &r["type"], &r["name"]), (&json!("a"), &json!("IMS"), &json!("lab-ims")));
    let c2 = r["challenge"].as_str().expect("new challenge").to_owned();
    assert_ne!(c1, c2);
    assert!(!s.is_authenticated());

    // The answer to the old challenge no longer works.
    let stale = expected_res("secret", "lab-ims", &c1);
    let r = one(&mut api, &mut s, &mut ctx, &format!(r#"{{"message": "authenticate", "res": "{stale}"}}"#));
    let c3 = r["challenge"].as_str().expect("new challenge").to_owned();

    let good = expected_res("secret", "lab-ims", &c3).to_uppercase();
    let r = one(&mut api, &mut s, &mut ctx, &format!(r#"{{"message": "authenticate", "message_id": 9, "res": "{good}"}}"#));
    assert_eq!(r, json!({"message": "authenticate", "message_id": 9, "ready": true}));
    let r = one(&mut api, &mut s, &mut ctx, r#"{"message": "config_get"}"#);
    assert_eq!(r["name"], "lab-ims");
}

#[test]
fn plain_password_only_when_unsecure() {
    let mut ctx = FakeCtx::default();
    let mut a = api(Some(("secret", false)));
    let (mut s, _) = a.open_session();
    let r = one(&mut a, &mut s, &mut ctx, r#"{"message": "authenticate", "password": "secret"}"#);
    assert_eq!(r["error"], "Plain password not allowed");
    let mut a = api(Some(("secret", true)));
    let (mut s, _) = a.open_session();
    let r = one(&mut a, &mut s, &mut ctx, r#"{"message": "authenticate", "password": "secret"}"#);
    assert_eq!(r["ready"], true);
}

#[test]
fn auth_failures_are_bounded() {
    let mut a = api(Some(("secret", false)));
    let mut ctx = FakeCtx::default();
    let (mut s, _) = a.open_session();
    for i in 0..8 {
        assert!(!s.close_requested(), "after {i} failures");
        one(&mut a, &mut s, &mut ctx, &format!(r#"{{"message": "authenticate", "res": "{}"}}"#, "0".repeat(64)));
    }
    assert!(s.close_requested());
}

#[test]
fn unknown_message_error_form() {
    // Seed 000 6.8 example 2.
    let (mut a, mut ctx) = (api(None), FakeCtx::default());
    let (mut s, _) = a.open_session();
    let r = one(&mut a, &mut s, &mut ctx, r#"{"message": "bar", "message_id": "foo"}"#);
    assert_eq!(r, json!({"message_id": "foo", "message": "bar", "error": "Unknown message: bar"}));
}

#[test]
fn envelope_errors_and_message_id_echo() {
    let (mut a, mut ctx) = (api(None), FakeCtx::default());
    let (mut s, _) = a.open_session();
    let cases = [
        (r#"{"message_id": 3}"#, json!({"message_id": 3, "error": "Missing parameter: message"})),
        (r#"{"message": 5}"#, json!({"error": "Invalid parameter: message must be a string"})),
        (r#""help""#, json!({"error": "Message must be an object or an array of objects"})),
        (r#"{"message": "help"} x"#, json!({"error": "Invalid JSON: trailing characters at line 1 column 21"})),
        (r#"{"message": "help""#, json!({"error": "Invalid JSON: EOF while parsing an object at line 1 column 18"})),
    ];
    for (text, want) in cases {
        assert_eq!(one(&mut a, &mut s, &mut ctx, text), want, "{text}");
    }
    for id in [json!(null), json!(7), json!("x"), json!({"k": [1, 2]})] {
        let r = one(&mut a, &mut s, &mut ctx, &json!({"message": "stats", "message_id": id}).to_string());
        if id.is_null() {
            assert_eq!(r["message_id"], Value::Null);
        } else {
            assert_eq!(r["message_id"], id);
        }
    }
}

#[test]
fn array_requests_each_answered() {
    let (mut a, mut ctx) = (api(None), FakeCtx::default());
    let (mut s, _) = a.open_session();
    let text = r#"[{"message": "stats", "message_id": 1}, {"message": "bar"}, 5, {"message": "ipsec", "message_id": 2}]"#;
    let r = a.handle_text(&mut s, Instant::now(), &mut ctx, text);
    assert_eq!(r.len(), 4);
    assert_eq!(r[0], json!({"message": "stats", "message_id": 1}));
    assert_eq!(r[1]["error"], "Unknown message: bar");
    assert_eq!(r[2], json!({"error": "Message must be an object"}));
    assert_eq!(r[3], json!({"message": "ipsec", "message_id": 2}));
    assert_eq!(ctx.calls, ["stats: Stats { hdr_histograms: false }", "ipsec: ()"]);
    assert!(a.handle_text(&mut s, Instant::now(), &mut ctx, "[]").is_empty());
    let big = format!("[{}]", vec![r#"{"message":"help"}"#; 1025].join(","));
    let r = a.handle_text(&mut s, Instant::now(), &mut ctx, &big);
    assert_eq!(r, vec![json!({"error": "Too many messages: at most 1024"})]);
}

#[test]
fn help_and_register() {
    let (mut a, mut ctx) = (api(None), FakeCtx::default());
    let (mut s, _) = a.open_session();
    let r = one(&mut a, &mut s, &mut ctx, r#"{"message": "help"}"#);
    assert_eq!(r["events"], json!(["users_update", "sms", "dialog"]));
    assert!(r["messages"].as_array().expect("array").contains(&json!("mt_call")));
    one(&mut a, &mut s, &mut ctx, r#"{"message": "register", "register": ["sms", "dialog"]}"#);
    assert!(s.is_registered(ApiEvent::Sms) && s.is_registered(ApiEvent::Dialog));
    assert!(!s.is_registered(ApiEvent::UsersUpdate));
    one(&mut a, &mut s, &mut ctx, r#"{"message": "register", "register": "users_update", "unregister": "sms"}"#);
    assert!(!s.is_registered(ApiEvent::Sms) && s.is_registered(ApiEvent::UsersUpdate));
    let r = one(&mut a, &mut s, &mut ctx, r#"{"message": "register", "register": ["sms", "foo"]}"#);
    assert_eq!(r["error"], "Invalid parameter: register must be one of users_update, sms, dialog");
}

#[test]
fn config_get_and_locked_logs() {
    let mut a = Api::new(ApiConfig { logs_locked: true, ..ApiConfig::default() }, SEED);
    let mut ctx = FakeCtx::default();
    let (mut s, _) = a.open_session();
    let r = one(&mut a, &mut s, &mut ctx, r#"{"message": "config_get", "message_id": "foo"}"#);
    assert_eq!(r, json!({"message": "config_get", "message_id": "foo", "type": "IMS", "name": "IMS", "locked": true, "logs": {"layers": {}}}));
    let r = one(&mut a, &mut s, &mut ctx, r#"{"message": "config_set", "logs": {"layers": {"sip": {"level": "debug"}}}, "sms_expires": 60}"#);
    assert_eq!(r, json!({"message": "config_set", "logs": "locked"}));
    assert!(ctx.last_call().contains("logs: None") && ctx.last_call().contains("sms_expires: Some(60)"), "{}", ctx.last_call());
}

#[test]
fn context_errors_are_reported() {
    let (mut a, mut ctx) = (api(None), FakeCtx::default());
    let (mut s, _) = a.open_session();
    let r = one(&mut a, &mut s, &mut ctx, r#"{"message": "dialog_set", "session_id": "nope", "action": "stop", "message_id": 4}"#);
    assert_eq!(r, json!({"message": "dialog_set", "message_id": 4, "error": "Dialog not found: nope"}));
}

#[test]
fn log_get_waits_for_min_or_quiet_timeout() {
    let (mut a, mut ctx) = (api(None), FakeCtx::default());
    let (mut s, _) = a.open_session();
    let t0 = Instant::now();
    let r = a.handle_text(&mut s, t0, &mut ctx, r#"{"message": "log_get", "message_id": 1, "min": 3, "timeout": 2}"#);
    assert!(r.is_empty(), "pending: {r:?}");
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(2)));
    // No logs and allow_empty unset: the timeout only re-arms.
    let t1 = t0 + Duration::from_secs(2);
    assert_eq!(a.handle_timeout(&mut s, t1, &mut ctx), None);
    assert_eq!(s.poll_timeout(), Some(t1 + Duration::from_secs(2)));
    // Two logs (below min) restart the quiet period.
    ctx.logs.extend(["a".to_owned(), "b".to_owned()]);
    let t2 = t1 + Duration::from_millis(500);
    assert_eq!(a.logs_changed(&mut s, t2, &mut ctx), None);
    assert_eq!(s.poll_timeout(), Some(t2 + Duration::from_secs(2)));
    assert_eq!(a.handle_timeout(&mut s, t2 + Duration::from_millis(1999), &mut ctx), None);
    let r = a.handle_timeout(&mut s, t2 + Duration::from_secs(2), &mut ctx).expect("quiet timeout");
    assert_eq!(r, json!({"message": "log_get", "message_id": 1, "logs": [{"data": ["a"]}, {"data": ["b"]}]}));
    assert_eq!(s.poll_timeout(), None);

    // Reaching min answers at once, from the cursor onwards.
    let r = a.handle_text(&mut s, t2, &mut ctx, r#"{"message": "log_get", "min": 2}"#);
    assert!(r.is_empty());
    ctx.logs.extend(["c".to_owned(), "d".to_owned()]);
    let r = a.logs_changed(&mut s, t2, &mut ctx).expect("min reached");
    assert_eq!(r["logs"], json!([{"data": ["c"]}, {"data": ["d"]}]));
}

#[test]
fn log_get_allow_empty_max_and_forced_previous() {
    let (mut a, mut ctx) = (api(None), FakeCtx::default());
    let (mut s, _) = a.open_session();
    let t0 = Instant::now();
    assert!(a.handle_text(&mut s, t0, &mut ctx, r#"{"message": "log_get", "allow_empty": true, "timeout": 0.5}"#).is_empty());
    let r = a.handle_timeout(&mut s, t0 + Duration::from_millis(500), &mut ctx).expect("empty answer");
    assert_eq!(r["logs"], json!([]));

    // A second log_get forces the first one out, unsatisfied.
    assert!(a.handle_text(&mut s, t0, &mut ctx, r#"{"message": "log_get", "message_id": "first", "min": 10}"#).is_empty());
    ctx.logs.push("x".into());
    let r = a.handle_text(&mut s, t0, &mut ctx, r#"{"message": "log_get", "message_id": "second", "min": 10}"#);
    assert_eq!(r, vec![json!({"message": "log_get", "message_id": "first", "logs": [{"data": ["x"]}]})]);

    // max caps the answer and triggers it.
    ctx.logs.extend((0..5).map(|i| i.to_string()));
    let r = a.handle_text(&mut s, t0, &mut ctx, r#"{"message": "log_get", "message_id": "third", "min": 10, "max": 3}"#);
    assert_eq!(r[0]["message_id"], "second");
    assert_eq!(r[0]["logs"].as_array().map(Vec::len), Some(5));
    ctx.logs.extend((0..4).map(|i| i.to_string()));
    let r = a.logs_changed(&mut s, t0, &mut ctx).expect("max reached");
    assert_eq!(r["logs"].as_array().map(Vec::len), Some(3));
}
