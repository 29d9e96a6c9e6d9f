//! Tests of the typed configuration. The language parser is not used: a
//! small converter builds the evaluated tree from serde_json values, giving
//! each value a distinct line number (its rank in document order).

use serde_json::{json, Value as J};

use super::*;
use crate::config::value::{Location, Value, ValueKind};

/// serde_json -> evaluated tree; line = 1 + rank of the value in document order.
fn tree(j: &J) -> Value {
    let mut line = 0;
    build(j, &mut line)
}

fn build(j: &J, line: &mut u32) -> Value {
    *line += 1;
    let loc = Location { file: "test.cfg".into(), line: *line, column: 1 };
    let kind = match j {
        J::Null => ValueKind::Null,
        J::Bool(b) => ValueKind::Bool(*b),
        J::Number(n) => ValueKind::Number(n.as_f64().unwrap_or(f64::NAN)),
        J::String(s) => ValueKind::String(s.clone()),
        J::Array(a) => ValueKind::Array(a.iter().map(|x| build(x, line)).collect()),
        J::Object(o) => ValueKind::Object(o.iter().map(|(k, x)| (k.clone(), build(x, line))).collect()),
    };
    Value { kind, loc }
}

fn ok(j: J) -> (Config, Vec<Warning>) {
    match from_value(&tree(&j)) {
        Ok(r) => r,
        Err(e) => panic!("unexpected errors: {:#?}", e.iter().map(ToString::to_string).collect::<Vec<_>>()),
    }
}

fn errors(j: J) -> Vec<String> {
    match from_value(&tree(&j)) {
        Ok(_) => panic!("accepted {j}"),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

fn has_error(j: J, needle: &str) {
    let e = errors(j);
    assert!(e.iter().any(|m| m.contains(needle)), "no error containing {needle:?} in {e:#?}");
}

fn xor_user(extra: J) -> J {
    let mut u = json!({"imsi": "001010123456789", "impi": "u@ims", "K": "00112233445566778899aabbccddeeff", "impu": ["u"]});
    if let (Some(u), J::Object(x)) = (u.as_object_mut(), extra) {
        u.extend(x);
    }
    json!({"domain": "ims.example", "ue_db": [u]})
}

#[test]
fn defaults_of_an_empty_config() {
    let (c, w) = ok(json!({}));
    assert!(w.is_empty());
    let expected = json!({
        "log_options": crate::log::LogOptions::default().to_string(), "log_sync": false,
        "sip_addr": [], "tcp_threshold": 1300, "tcp_keepalive": 900, "tcp_keepcount": 2,
        "binding_expires": 3600, "subscribe_expires": 0, "user_agent": sip::DEFAULT_USER_AGENT,
        "force_user_agent": true, "path": "sip:ims.mnc001.mcc001.3gppnetwork.org",
        "timer_t1": 2.0, "timer_t2": 16.0, "timer_t4": 17.0, "custom_headers": [],
        "p_called_party_id": false, "auth_on_register_only": true,
    });
    let part2 = json!({
        "session_expires": {"duration": 1800, "min": 90, "refresher": "uac", "method": "update", "force": true},
        "100rel": true, "precondition": "on", "dialog_timeout": 30, "echo": [],
        "ipsec": true, "ipsec_aalg_list": ["hmac-md5-96", "hmac-sha-1-96"],
        "ipsec_ealg_list": ["null", "aes-cbc", "des-ede3-cbc"], "ipsec_mtu": 1400, "ipsec_port": 0,
        "cx_origin_realm": "amarisoft.com", "cx_origin_host": "ims.amarisoft.com", "cx_watchdog_duration": 0,
        "rx_origin_realm": "amarisoft.com", "rx_origin_host": "ims.amarisoft.com", "rx_watchdog_duration": 0,
        "use_n5": false,
    });
    let part3 = json!({
        "com_name": "IMS", "com_ssl_peer_verify": false, "com_logs_lock": false, "com_log_count": 8192,
        "sim_events": [],
        "sms_expires": 86400, "sms_hook_only": false,
        "sms_message_filter": {"cp_data": "treat", "cp_ack": "treat", "rp_data": "treat", "rp_ack": "treat"},
        "sms_forced_cp_cause": 0, "sms_forced_rp_cause": 0, "mms_expires": 86400,
        "ue_db": [],
        "engine": {"backend": "auto", "workers": 0, "cpus": []},
        "metrics_addr": "127.0.0.1:9090",
        "limits": {"max_bindings": 200000, "max_dialogs": 50000, "max_transactions": 262144,
                   "max_tcp_connections": 100000, "max_security_associations": 400000,
                   "max_stored_sms": 100000, "queue_depth": 8192, "max_message_size": 65535}
    });
    let mut expected = expected;
    for part in [part2, part3] {
        if let (Some(e), J::Object(p)) = (expected.as_object_mut(), part) {
            e.extend(p);
        }
    }
    let got = c.to_json();
    let (Some(got), Some(exp)) = (got.as_object(), expected.as_object()) else { panic!("not objects") };
    for (k, v) in exp {
        assert_eq!(got.get(k), Some(v), "default of {k}");
    }
    let extra: Vec<&String> = got.keys().filter(|k| !exp.contains_key(*k)).collect();
    assert!(extra.is_empty(), "unexpected defaults {extra:?}");
}

#[test]
fn kitchen_sink_round_trips_and_covers_every_property() {
    let text = include_str!("../../../tests/data/config_typed/all_properties.json");
    let j: J = serde_json::from_str(text).expect("test data is JSON");
    let (c1, warnings) = ok(j);
    // Only the deprecated per-IMPU fields warn.
    assert_eq!(warnings.len(), 5, "{warnings:#?}");
    assert!(warnings.iter().all(|w| w.message.contains("deprecated")));
    let (c2, w2) = ok(c1.to_json());
    assert!(w2.is_empty(), "{w2:#?}");
    assert_eq!(c1, c2);
    assert_eq!(c1.to_json(), c2.to_json());
    let written = c1.inactive_properties(&|_| false);
    for (path, _) in PROPERTIES {
        assert!(written.iter().any(|w| w == path), "kitchen sink misses {path}");
    }
}

#[test]
fn kitchen_sink_typed_values() {
    let text = include_str!("../../../tests/data/config_typed/all_properties.json");
    let (c, _) = ok(serde_json::from_str(text).expect("test data is JSON"));
    let u = &c.ue_db()[0];
    assert_eq!(u.sim, Some(Sim::Xor { k: Hex([0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]) }));
    assert_eq!(u.amf, 0x9001);
    assert_eq!(u.sqn, Hex([0, 0, 0, 0, 0, 0x21]));
    assert_eq!(u.impu[1].public_identity("x"), "tel:+33600000001");
    assert_eq!(u.impu[0].public_identity("ims.example"), "sip:001010123456789@ims.example");
    let m = &u.impu[1].callflow_modifier[0];
    assert_eq!((m.method, m.code, m.dir, m.access_network.clone()), (Some(ModifierMethod::InviteRinging), Some(486), Direction::Rx, vec![Rat::Lte, Rat::Nr]));
    // Per-IMPU session_expires is resolved against the global one.
    let s = u.impu[1].session_expires.expect("set");
    assert_eq!((s.duration, s.min, s.refresher), (300, 120, Refresher::Uas));
    match c.ue_db()[1].sim {
        Some(Sim::Milenage { op: MilenageOp::Opc(opc), r, c: consts, .. }) => {
            assert_eq!(opc.0[0], 0xcd);
            assert_eq!((r, consts), (MILENAGE_R, MILENAGE_C));
        }
        ref other => panic!("{other:?}"),
    }
    assert!(matches!(c.ue_db()[4].sim, Some(Sim::Tuak { k: TuakKey::K256(_), op: TuakOp::Top(_), keccak_iter: 2 })));
    assert_eq!(c.ue_db()[5].authent_type, AuthentType::Md5);
    assert_eq!(c.diameter.n5.as_ref().and_then(|n| n.bind_addr).map(|a| a.to_string()).as_deref(), Some("127.0.0.1:0"));
    assert_eq!(c.sip.sip_addr[1].addr.to_string(), "[2001:db8::1]:5070");
    assert_eq!(c.sip.sip_addr[1].bind_addr.to_string(), "[::]:5070");
}

#[test]
fn sip_addr_legacy_forms() {
    let (c, _) = ok(json!({"sip_addr": "10.0.0.1"}));
    let a = &c.sip.sip_addr[0];
    assert_eq!((a.addr.to_string(), a.port_min, a.port_max), ("10.0.0.1:5060".into(), 10000, 20000));
    let (c, _) = ok(json!({"sip_addr": {"addr": "10.0.0.1:5080", "port_max": 10010}}));
    assert_eq!((c.sip.sip_addr[0].addr.port(), c.sip.sip_addr[0].bind_addr.port(), c.sip.sip_addr[0].port_max), (5080, 5080, 10010));
    let (c, _) = ok(json!({"sip_addr": ["::1", {"addr": "[::1]:5061"}]}));
    assert_eq!(c.sip.sip_addr.iter().map(|a| a.addr.to_string()).collect::<Vec<_>>(), ["[::1]:5060", "[::1]:5061"]);
    has_error(json!({"sip_addr": [{"bind_addr": "1.2.3.4"}]}), "sip_addr[0]: missing required property addr");
    has_error(json!({"sip_addr": ["1.2.3"]}), "invalid address");
    has_error(json!({"sip_addr": {"addr": "1.1.1.1", "port_min": 20001}}), "port_min (20001) is greater than port_max (20000)");
}

#[test]
fn session_expires_legacy_integer_and_object() {
    let (c, _) = ok(json!({"session_expires": 600}));
    assert_eq!(c.calls.session_expires, SessionExpires { duration: 600, ..SessionExpires::default() });
    let (c, _) = ok(json!({"session_expires": {"refresher": "uas"}}));
    assert_eq!(c.calls.session_expires, SessionExpires { refresher: Refresher::Uas, ..SessionExpires::default() });
    has_error(json!({"session_expires": {"duration": 100, "min": 200}}), "min (200) is greater than duration (100)");
    has_error(json!({"session_expires": {"method": "bye"}}), "invalid value \"bye\"");
}

#[test]
fn range_bounds_just_in_and_just_out() {
    let cases: &[(&str, f64, f64)] = &[
        ("ipsec_mtu", 68.0, 67.0),
        ("ipsec_mtu", 65535.0, 65536.0),
        ("cx_watchdog_duration", 36_000_000.0, 36_000_001.0),
        ("rx_watchdog_duration", 0.0, -1.0),
        ("com_log_count", 4096.0, 4095.0),
        ("com_log_count", 2_097_152.0, 2_097_153.0),
        ("binding_expires", 864_000.0, 864_001.0),
        ("subscribe_expires", 864_000.0, 864_001.0),
        ("sms_forced_cp_cause", 255.0, 256.0),
        ("sms_forced_rp_cause", 0.0, -1.0),
        ("tcp_threshold", 65535.0, 65536.0),
        ("session_expires", 90.0, 89.0),
        ("timer_t4", 600.0, 600.5),
        ("timer_t1", 0.01, 0.005),
    ];
    for (name, good, bad) in cases {
        ok(json!({ *name: good }));
        has_error(json!({ *name: bad }), &format!("{name}: value {bad} out of range"));
    }
    ok(json!({"sip_addr": {"addr": "1.1.1.1", "port_min": 0, "port_max": 65535}}));
    let e = errors(json!({"sip_addr": [{"addr": "1.1.1.1"}, {"addr": "1.1.1.2", "port_min": 70000}]}));
    assert!(e.contains(&"test.cfg:7:1: sip_addr[1].port_min: value 70000 out of range 0..65535".to_owned()), "{e:?}");
    ok(json!({"n5": {"api_root": "http://pcf:80", "transaction_timeout": 1}}));
    has_error(json!({"n5": {"api_root": "http://pcf:80", "transaction_timeout": 0}}), "n5.transaction_timeout: value 0 out of range 1..15000");
    has_error(json!({"n5": {"api_root": "http://pcf:80", "transaction_timeout": 15001}}), "out of range 1..15000");
    ok(xor_user(json!({"amf": 65535})));
    has_error(xor_user(json!({"amf": 65536})), "ue_db[0].amf: value 65536 out of range 0..65535");
    has_error(xor_user(json!({"impu": [{"impu": "u", "callflow_modifier": {"code": 700}}]})), "out of range 100..699");
    has_error(xor_user(json!({"impu": [{"impu": "u", "callflow_modifier": {"ttl": 0}}]})), "ttl: value 0 out of range");
    has_error(json!({"limits": {"queue_depth": 1000}}), "limits.queue_depth: value 1000 is not a power of two");
    has_error(json!({"engine": {"workers": 257}}), "engine.workers: value 257 out of range 0..256");
}

#[test]
fn wrong_types_are_reported_with_location_and_all_collected() {
    let e = errors(json!({"domain": 5, "ipsec": "yes", "sip_addr": [true], "tcp_keepcount": 2.5}));
    assert_eq!(e.len(), 4, "{e:#?}");
    assert!(e.contains(&"test.cfg:2:1: domain: expected string, got number".to_owned()), "{e:?}");
    assert!(e.iter().any(|m| m.contains("ipsec: expected boolean, got string")));
    assert!(e.iter().any(|m| m.contains("sip_addr[0]: expected object, got boolean")));
    assert!(e.iter().any(|m| m.contains("tcp_keepcount: expected integer, got 2.5")));
}

#[test]
fn booleans_accept_zero_and_one_only() {
    let (c, _) = ok(json!({"ipsec": 0, "log_sync": 1}));
    assert!(!c.ipsec.ipsec && c.log.log_sync);
    has_error(json!({"ipsec": 2}), "ipsec: expected boolean, got number");
}

#[test]
fn unknown_properties_warn_with_location() {
    let (_, w) = ok(json!({"domain": "d", "sip_adr": "1.2.3.4", "trunk": {"addr": "1.1.1.1", "name": "n", "colour": 1}}));
    let w: Vec<String> = w.iter().map(ToString::to_string).collect();
    // serde_json orders keys: domain(2) sip_adr(3) trunk(4) addr(5) colour(6) name(7).
    assert_eq!(w, ["test.cfg:6:1: trunk.colour: unknown property, ignored", "test.cfg:3:1: sip_adr: unknown property, ignored"]);
}

#[test]
fn deprecated_impu_fields_become_a_callflow_modifier() {
    let (c, w) = ok(xor_user(json!({"impu": [{"impu": "echo", "code": 486, "content": "b.xml", "content_type": "application/xml",
        "callflow_modifier": {"method": "MESSAGE", "code": 500}}]})));
    let mods = &c.ue_db()[0].impu[0].callflow_modifier;
    assert_eq!(mods.len(), 2);
    assert_eq!((mods[0].method, mods[0].code), (Some(ModifierMethod::Message), Some(500)));
    let legacy = &mods[1];
    assert_eq!((legacy.method, legacy.code, legacy.stop, legacy.dir), (None, Some(486), true, Direction::Both));
    assert_eq!(legacy.content_type.as_deref(), Some("application/xml"));
    assert_eq!(w.iter().filter(|w| w.message.contains("use callflow_modifier.")).count(), 3);
    has_error(xor_user(json!({"impu": [{"impu": "e", "content": "b.xml"}]})), "missing required property content_type");
}

#[test]
fn user_database_validation() {
    has_error(xor_user(json!({"imsi": "00101012345678a"})), "invalid IMSI");
    has_error(xor_user(json!({"imsi": "0010101234567890"})), "invalid IMSI");
    has_error(xor_user(json!({"K": "00112233445566778899aabbccddeef"})), "expected 16-byte hexadecimal string (32 digits), got 31 characters");
    has_error(xor_user(json!({"K": "00112233445566778899aabbccddeegg"})), "invalid hexadecimal digit");
    has_error(xor_user(json!({"msisdn": "12a"})), "invalid MSISDN");
    has_error(xor_user(json!({"sim_algo": "miln"})), "missing required property op or opc");
    has_error(xor_user(json!({"sim_algo": "tuak", "topc": "00", "res_len": 8})), "expected 32-byte hexadecimal string");
    has_error(xor_user(json!({"sim_algo": "tuak", "topc": "55".repeat(32), "res_len": 5})), "res_len 5 not supported");
    has_error(xor_user(json!({"sim_algo": "miln", "opc": "00".repeat(16), "multi_sim": true})), "multi_sim is only allowed");
    has_error(xor_user(json!({"sim_algo": "miln", "opc": "00".repeat(16), "r": [1, 2, 3]})), "expected array of 5 items");
    has_error(xor_user(json!({"impu": ["sip:u@host"]})), "must not include a host name");
    has_error(json!({"ue_db": [{"imsi": "001010000000001", "impi": "x", "pwd": "p", "impu": ["x"]}]}), "ue_db[0]: missing required property domain");
    has_error(json!({"domain": "d", "ue_db": [{"impi": "x", "pwd": "p"}]}), "missing required property imsi (or nai)");
    has_error(json!({"domain": "d", "ue_db": [{"imsi": "001010000000001", "impi": "x"}]}), "missing required property K");
    has_error(json!({"domain": "d", "ue_db": [{"imsi": "001010000000001", "impi": "x", "authent_type": "MD5"}]}), "missing required property pwd");
    // Per-user domain satisfies the domain rule; tel: IMPUs need none.
    ok(json!({"ue_db": [{"imsi": "001010000000001", "impi": "x", "pwd": "p", "domain": "u.example", "impu": ["x", "tel:1"]}]}));
    let (_, w) = ok(xor_user(json!({"opc": "00".repeat(16)})));
    assert!(w.iter().any(|w| w.path == "ue_db[0].opc" && w.message.contains("not used by this sim_algo")));
}

#[test]
fn echo_accepts_string_object_or_array() {
    let (c, _) = ok(json!({"echo": "tel:666"}));
    assert_eq!(c.calls.echo[0].impu, "tel:666");
    let (c, _) = ok(json!({"echo": ["tel:666", {"impu": "sip:echo", "ring_only": 1}]}));
    assert!(c.calls.echo[1].ring_only);
}

#[test]
fn log_options_are_parsed_and_normalized() {
    let (c, _) = ok(json!({"log_options": "sip.level=debug, file.rotate=1K,time=sec"}));
    assert_eq!(c.log.log_options.layers[crate::log::Layer::Sip.index()].level, crate::log::LevelFilter::Debug);
    assert_eq!(c.log.log_options.time, crate::log::TimeFormat::Sec);
    let canonical = c.to_json()["log_options"].as_str().unwrap().to_owned();
    assert!(canonical.contains("sip.level=debug"), "{canonical}");
    has_error(json!({"log_options": "foo.level=debug"}), "unknown layer");
    has_error(json!({"log_options": "sip.level=loud"}), "sip.level=loud");
}

#[test]
fn inactive_properties_follow_features() {
    let (c, _) = ok(json!({"domain": "d", "trunk": {"addr": "1.1.1.1", "name": "n"}, "ipsec_mtu": 1300, "metrics_addr": ""}));
    let inactive = c.inactive_properties(&|p| !matches!(feature_of(p), Feature::Trunk | Feature::Ipsec));
    assert_eq!(inactive, ["ipsec_mtu", "trunk", "trunk.addr", "trunk.name"]);
    assert_eq!(c.engine.metrics_addr, None);
    assert_eq!(feature_of("ue_db.impu.callflow_modifier.code"), Feature::Calls);
}

#[test]
fn cross_property_requirements() {
    has_error(json!({"use_n5": true}), "missing required property n5");
    has_error(json!({"com_ssl_certificate": "c.pem"}), "missing required property com_ssl_key");
    has_error(json!({"com_auth": {"unsecure": true}}), "com_auth: missing required property password (or passfile)");
    has_error(json!({"trunk": {"addr": "1.1.1.1"}}), "trunk: missing required property name");
    has_error(json!({"timer_t1": 4, "timer_t2": 3}), "timer_t2 (3) is smaller than timer_t1 (4)");
    has_error(json!({"sim_events": [{"message": "sms"}]}), "needs message: \"event\"");
    let (c, _) = ok(json!({"cx_server_addr": "10.0.0.1", "sctp_addr": "10.0.0.2"}));
    assert_eq!(c.diameter.rx_server_addr.map(|a| a.to_string()).as_deref(), Some("10.0.0.1:3868"));
    assert_eq!(c.diameter.cx_bind_addr.map(|a| a.to_string()).as_deref(), Some("10.0.0.2:29118"));
    let (c, _) = ok(json!({"cx_bind_addr": "10.0.0.3", "n5": {"api_root": "http://pcf:80"}}));
    assert_eq!(c.diameter.n5.and_then(|n| n.bind_addr), c.diameter.cx_bind_addr);
    let (c, _) = ok(json!({"trunk": {"addr": "2001:db8::5", "name": "n"}}));
    assert_eq!(c.calls.trunk.map(|t| t.domain).as_deref(), Some("[2001:db8::5]"));
}
