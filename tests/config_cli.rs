//! Black-box tests of `ringcore --check-config` (configuration issue
//! acceptance): the shipped configurations load with their documented
//! values, every documented property round-trips through the printed JSON,
//! the examples of seed 000 section 5.1 behave as the manual says, and bad
//! files are refused with `file:line:column` errors and exit status 1.
//!
//! Every run uses relative paths from the crate root, so the error prefixes
//! are exact strings. Fixtures live in tests/data/config_cli/.

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Bound on one `--check-config` run (the default config generates 10,000
/// users; a loaded 2-core machine running a debug build needs a few seconds).
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Fixture directory, relative to the crate root.
const DATA: &str = "tests/data/config_cli";

/// What one run of the binary left behind.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The printed configuration; fails the test when the run did not succeed.
    fn json(&self) -> Value {
        assert_eq!(self.code, Some(0), "--check-config failed:\n{}", self.stderr);
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Asserts exit status 1, an empty stdout and `prefix` at the start of a stderr line.
    fn assert_error(&self, prefix: &str) {
        assert_eq!(self.code, Some(1), "expected exit status 1, stderr:\n{}", self.stderr);
        assert!(self.stdout.is_empty(), "nothing is printed on stdout on error, got:\n{}", self.stdout);
        assert!(
            self.stderr.lines().any(|l| l.starts_with(prefix)),
            "no stderr line starts with {prefix:?}; stderr:\n{}",
            self.stderr
        );
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Drains a pipe on its own thread so a large output never blocks the child.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_string(&mut s);
        }
        s
    })
}

/// Runs `ringcore --check-config path` from the crate root, bounded in time.
fn check_config(path: impl AsRef<Path>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ringcore"))
        .arg("--check-config")
        .arg(path.as_ref())
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ringcore");
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for ringcore") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ringcore --check-config {} did not exit within {RUN_LIMIT:?}", path.as_ref().display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run { code: status.code(), stdout: out.join().expect("stdout reader"), stderr: err.join().expect("stderr reader") }
}

fn data(name: &str) -> String {
    format!("{DATA}/{name}")
}

fn str_of<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

/// The `ue_db` entry whose `imsi` is `imsi`.
fn user<'v>(cfg: &'v Value, imsi: &str) -> &'v Value {
    let db = cfg["ue_db"].as_array().expect("ue_db is an array");
    db.iter().find(|u| u["imsi"] == imsi).unwrap_or_else(|| panic!("no ue_db entry with IMSI {imsi}"))
}

fn impus(u: &Value) -> Vec<&str> {
    u["impu"].as_array().expect("impu is an array").iter().map(|i| str_of(i, "impu")).collect()
}

// ---------------------------------------------------------------------------
// Shipped configurations
// ---------------------------------------------------------------------------

#[test]
fn default_config_has_the_documented_values() {
    let cfg = check_config("config/ims.cfg").json();
    let addrs = cfg["sip_addr"].as_array().expect("sip_addr array");
    assert_eq!(addrs.len(), 1, "{addrs:?}");
    assert_eq!(addrs[0]["addr"], "127.0.0.1:5060");
    assert_eq!(addrs[0]["bind_addr"], "127.0.0.1:5060");
    assert_eq!((addrs[0]["port_min"].as_u64(), addrs[0]["port_max"].as_u64()), (Some(10000), Some(20000)));
    assert_eq!(cfg["com_addr"], "127.0.0.1:9003");
    assert_eq!(cfg["domain"], "ims.mnc001.mcc001.3gppnetwork.org");

    let db = cfg["ue_db"].as_array().expect("ue_db array");
    assert!(db.len() > 10_000, "ue_db has {} entries", db.len());
    // The preprocessor-generated load range: IMSI 001011000000000..001011000009999, each once.
    let mut load: Vec<&str> = db.iter().filter_map(|u| u["imsi"].as_str()).filter(|i| i.starts_with("0010110000")).collect();
    load.sort_unstable();
    load.dedup();
    assert_eq!(load.len(), 10_000);
    assert_eq!((load[0], load[9_999]), ("001011000000000", "001011000009999"));
    assert_eq!(user(&cfg, "001011000004242")["sim_algo"], "xor");

    let xor = user(&cfg, "001010123456789");
    assert_eq!((&xor["sim_algo"], &xor["K"], &xor["multi_sim"]), (&"xor".into(), &"00112233445566778899aabbccddeeff".into(), &true.into()));
    assert_eq!(impus(xor), ["sip:001010123456789", "tel:0600000000", "tel:600"]);

    // TS 35.208 test set 1.
    let miln = user(&cfg, "001010000000001");
    assert_eq!(miln["sim_algo"], "miln");
    assert_eq!(miln["K"], "465b5ce8b199b49faa5f0a2ee238a6bc");
    assert_eq!(miln["opc"], "cd63cb71954a9f4e48a5994e37a02baf");
    assert_eq!(miln["amf"], 0xb9b9);

    // TS 35.233 test set 1.
    let tuak = user(&cfg, "001010000000002");
    assert_eq!(tuak["sim_algo"], "tuak");
    assert_eq!(tuak["topc"], "bd04d9530e87513c5d837ac2ad954623a8e2330c115305a73eb45d1f40cccbff");
    assert_eq!(tuak["res_len"], 4);

    let md5: Vec<&Value> = db.iter().filter(|u| u["authent_type"] == "MD5").collect();
    assert!(!md5.is_empty(), "no MD5 user");
    assert!(md5.iter().all(|u| u["pwd"].is_string()), "MD5 users need a pwd: {md5:?}");

    let echo: Vec<&str> = cfg["echo"].as_array().expect("echo array").iter().map(|i| str_of(i, "impu")).collect();
    assert_eq!(echo, ["tel:666", "sip:echo"]);
}

#[test]
fn every_example_passes() {
    let dir = root().join("config/examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("read config/examples")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".cfg"))
        .collect();
    names.sort();
    assert!(names.len() >= 5, "too few examples found: {names:?}");
    for n in &names {
        let run = check_config(format!("config/examples/{n}"));
        assert_eq!(run.code, Some(0), "config/examples/{n} fails:\n{}", run.stderr);
        let cfg = run.json();
        assert!(cfg.is_object() && cfg["ue_db"].is_array(), "config/examples/{n}: {cfg}");
        assert!(!run.stderr.contains("unknown property"), "config/examples/{n} has unknown properties:\n{}", run.stderr);
    }
}

// ---------------------------------------------------------------------------
// Every property, and the JSON round trip
// ---------------------------------------------------------------------------

/// True when the generic path (`ue_db.impu.domain`) exists in `v`, looking
/// through arrays at every level.
fn has_path(v: &Value, parts: &[&str]) -> bool {
    match (parts.split_first(), v) {
        (None, _) => true,
        (Some(_), Value::Array(items)) => items.iter().any(|x| has_path(x, parts)),
        (Some((first, rest)), Value::Object(o)) => o.get(*first).is_some_and(|x| has_path(x, rest)),
        _ => false,
    }
}

#[test]
fn all_properties_round_trip() {
    let first = check_config(data("all_properties.cfg"));
    let cfg = first.json();
    assert!(!first.stderr.contains("unknown property"), "{}", first.stderr);

    // The lteims form is a faithful conversion of the JSON one of the typed tests.
    let reference = check_config("tests/data/config_typed/all_properties.json").json();
    assert_eq!(cfg, reference, "all_properties.cfg and config_typed/all_properties.json differ");

    // Every documented property shows up in the effective configuration; the
    // deprecated per-IMPU call-flow fields as a call-flow modifier.
    const MOVED: &[&str] = &["code", "method", "content", "content_type", "transparent"];
    for (path, _) in ringcore::config::typed::PROPERTIES {
        let generic = match path.strip_prefix("ue_db.impu.") {
            Some(f) if MOVED.contains(&f) => format!("ue_db.impu.callflow_modifier.{f}"),
            _ => (*path).to_owned(),
        };
        let parts: Vec<&str> = generic.split('.').collect();
        assert!(has_path(&cfg, &parts), "{path} is not exercised by all_properties.cfg");
    }
    for f in MOVED {
        assert!(first.stderr.contains(&format!("ue_db[5].impu[0].{f}: deprecated property")), "{}", first.stderr);
    }

    // Values written with the language's features.
    assert_eq!(cfg["rx_watchdog_duration"], 36_000_000); // 10 * HOUR * MS
    assert_eq!(cfg["rx_origin_host"], "pcscf.lab.example"); // backquote + #define
    assert_eq!(cfg["timer_t1"], 0.5); // 1 / 2
    assert_eq!(cfg["com_auth"], serde_json::json!({ "password": "secret", "passfile": "pass.txt", "unsecure": true }));
    assert_eq!(cfg["sim_events_loop_count"], 3); // #include'd, with its own #define
    assert_eq!(cfg["limits"]["max_bindings"], 1000); // #include of a computed name
    assert_eq!(cfg["ue_db"][1]["imsi"], "001010000000001"); // include keyword + backquote

    // The printed JSON is itself a configuration with the same effect.
    let dir = std::env::temp_dir().join(format!("ringcore-config-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let printed = dir.join("effective.cfg");
    std::fs::write(&printed, &first.stdout).expect("write effective config");
    // The files it names (SDP, modifier bodies) are read at load, next to it.
    for f in ["echo.sdp", "mt.sdp", "a.sdp", "u.sdp", "busy.xml", "x.txt"] {
        std::fs::copy(root().join(DATA).join(f), dir.join(f)).expect("copy a named file");
    }
    let second = check_config(&printed);
    assert_eq!(second.code, Some(0), "the printed configuration does not load:\n{}", second.stderr);
    assert!(second.stdout == first.stdout, "the printed configuration does not reprint identically");
    assert!(second.stderr.is_empty(), "reprint warns:\n{}", second.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------
// Seed 000 section 5.1
// ---------------------------------------------------------------------------

#[test]
fn seed_duplicate_properties_merge() {
    let cfg = check_config(data("seed_merge.cfg")).json();
    assert_eq!(cfg["com_name"], "bar");
    // Objects merge recursively: the later server_addr wins, name stays.
    assert_eq!(cfg["license_server"], serde_json::json!({ "server_addr": "bar", "name": "kept" }));

    // The manual's own text: unknown properties only warn, located at the
    // value that won the merge (line 4, `"bar"`) and at the merged object.
    let run = check_config(data("seed_merge_literal.cfg"));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "tests/data/config_cli/seed_merge_literal.cfg:4:12: value: unknown property, ignored",
            "tests/data/config_cli/seed_merge_literal.cfg:5:10: sub: unknown property, ignored",
        ]
    );
}

#[test]
fn seed_include_merges_relative_to_the_including_file() {
    let cfg = check_config(data("include/file1.cfg")).json();
    // file1: domain foo, include file2 (domain bar, user_agent bar), user_agent foo.
    assert_eq!(cfg["domain"], "bar.example");
    assert_eq!(cfg["user_agent"], "foo");

    let run = check_config(data("include/literal1.cfg"));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "tests/data/config_cli/include/literal2.cfg:1:12: value: unknown property, ignored",
            "tests/data/config_cli/include/literal1.cfg:3:10: foo: unknown property, ignored",
        ]
    );
}

#[test]
fn seed_preprocessor_commands() {
    let run = check_config(data("seed_preproc.cfg"));
    let cfg = run.json();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert_eq!(cfg["com_name"], "ims4"); // #undef, #ifdef / #elif, evaluated #define
    assert_eq!(cfg["domain"], "ims.mnc001.mcc001.3gppnetwork.org"); // #ifndef
    assert_eq!(cfg["user_agent"], "UA-ims4"); // #if / #else
    assert_eq!(cfg["ipsec_mtu"], 500); // #include of an expression, variables shared
    assert_eq!(cfg["path"], "sip:ims4.mnc001.mcc001.3gppnetwork.org");
}

#[test]
fn seed_backquote_strings() {
    let run = check_config(data("seed_backquote.cfg"));
    let cfg = run.json();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert_eq!(cfg["user_agent"], "abc3d");
    assert_eq!(cfg["com_name"], "IMS on 5060");
    assert_eq!(cfg["log_filename"], "line1\nline2 5061");
}

// ---------------------------------------------------------------------------
// Refused configurations: exit status 1 and a located error
// ---------------------------------------------------------------------------

#[test]
fn unterminated_string_is_located() {
    check_config(data("unterminated_string.cfg")).assert_error("tests/data/config_cli/unterminated_string.cfg:2:11: ");
}

#[test]
fn bad_expression_is_located() {
    check_config(data("bad_expression.cfg")).assert_error("tests/data/config_cli/bad_expression.cfg:2:18: ");
}

#[test]
fn missing_include_is_located() {
    let run = check_config(data("missing_include.cfg"));
    run.assert_error("tests/data/config_cli/missing_include.cfg:3:11: ");
    assert!(run.stderr.contains("no_such_file.cfg"), "{}", run.stderr);
}

#[test]
fn include_cycle_is_located() {
    let run = check_config(data("include_cycle_a.cfg"));
    run.assert_error("tests/data/config_cli/include_cycle_b.cfg:2:11: ");
    assert!(run.stderr.contains("cycle"), "{}", run.stderr);
}

#[test]
fn out_of_range_values_are_located() {
    let cases = [
        ("ipsec_mtu_range.cfg", "ipsec_mtu_range.cfg:2:14: ipsec_mtu"),
        ("com_log_count_range.cfg", "com_log_count_range.cfg:2:18: com_log_count"),
        ("port_min_range.cfg", "port_min_range.cfg:2:46: sip_addr[0].port_min"),
        ("timer_range.cfg", "timer_range.cfg:3:13: timer_t4"),
    ];
    for (file, prefix) in cases {
        let run = check_config(data(file));
        run.assert_error(&format!("{DATA}/{prefix}"));
        assert!(run.stderr.contains("out of range"), "{file}: {}", run.stderr);
    }
}

#[test]
fn wrong_type_is_located() {
    check_config(data("wrong_type.cfg")).assert_error("tests/data/config_cli/wrong_type.cfg:2:11: domain");
}

#[test]
fn every_error_is_reported() {
    let dir = std::env::temp_dir().join(format!("ringcore-config-cli-errs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("two.cfg");
    std::fs::write(&path, "{\n  ipsec_mtu: 67,\n  domain: 5,\n}\n").expect("write");
    let run = check_config(&path);
    let shown = path.display().to_string();
    run.assert_error(&format!("{shown}:2:14: ipsec_mtu"));
    run.assert_error(&format!("{shown}:3:11: domain"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_property_only_warns() {
    let run = check_config(data("unknown_property.cfg"));
    let cfg = run.json();
    assert_eq!(cfg["domain"], "a.example");
    assert!(cfg.get("no_such_property").is_none(), "unknown property printed: {cfg}");
    assert!(
        run.stderr.lines().any(|l| l.starts_with("tests/data/config_cli/unknown_property.cfg:3:") && l.contains("no_such_property")),
        "no located warning naming the property:\n{}",
        run.stderr
    );
}
