//! Black-box tests of the command-line monitor (seed 000 section 7):
//! ringcore runs with `--monitor` and piped stdin on a free port; the test
//! types commands and reads the answers up to the next "(ims) " prompt,
//! always with a deadline, and registers users over UDP to see `users`
//! follow the registrar.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Prompt printed before each command is read.
const PROMPT: &str = "(ims) ";
/// Bound on one command's answer (generous: loaded 2-core machine, debug build).
const ANSWER_LIMIT: Duration = Duration::from_secs(20);
/// Bound on start-up until the core answers OPTIONS.
const START_LIMIT: Duration = Duration::from_secs(30);
/// Bound on the exit after `quit`.
const QUIT_LIMIT: Duration = Duration::from_secs(10);
/// Most bytes of stdout kept; beyond it the test fails rather than grows.
const MAX_OUTPUT: usize = 1 << 20;
const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";

/// Three subscribers: alice needs no authentication at all (authent_type
/// none), bob's IMPU has `authentication: false` (an AKA user otherwise),
/// carol is an MD5 user who stays unregistered.
const USERS: &str = r#"
  ue_db: [
    { imsi: "001010000000101", impi: "alice@ims.mnc001.mcc001.3gppnetwork.org",
      authent_type: "none", impu: [ "sip:alice", "tel:+33600000101" ] },
    { imsi: "001010000000102", impi: "bob@ims.mnc001.mcc001.3gppnetwork.org",
      sim_algo: "xor", K: "00112233445566778899aabbccddeeff",
      impu: [ { impu: "sip:bob", authentication: false } ] },
    { imsi: "001010000000103", impi: "carol@ims.mnc001.mcc001.3gppnetwork.org",
      pwd: "carolpass", impu: [ "sip:carol" ] }
  ],
"#;

/// A ringcore process with a monitor on piped stdin; killed on drop.
struct Monitored {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Receiver<Vec<u8>>,
    /// Everything read from stdout so far.
    text: String,
    /// How far `text` has been consumed by answers.
    seen: usize,
    sip: SocketAddr,
    /// Where the process's stderr goes (shown when start-up fails).
    dir: std::path::PathBuf,
}

impl Monitored {
    fn start(name: &str) -> Monitored {
        let port = common::free_port();
        let dir = common::scratch_dir(name);
        let sip: SocketAddr = format!("127.0.0.1:{port}").parse().expect("socket address");
        let cfg = format!(
            "{{\n  sip_addr: \"{sip}\",\n  domain: \"{DOMAIN}\",\n  log_filename: \"{log}\",\n  \
             log_options: \"all.level=error,sip.level=info\",\n  \
             engine: {{ backend: \"{backend}\", workers: 1 }},\n{USERS}\n}}\n",
            log = dir.join("ims.log").display(),
            backend = common::backend(),
        );
        let cfg_path = dir.join("ims.cfg");
        std::fs::write(&cfg_path, cfg).expect("write config");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ringcore"))
            .arg(&cfg_path)
            .arg("--monitor")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(dir.join("stderr.txt")).expect("create stderr file")))
            .spawn()
            .expect("spawn ringcore");
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().expect("piped stdout");
        let (tx, out) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let mut m = Monitored { child, stdin, out, text: String::new(), seen: 0, sip, dir };
        m.wait_ready();
        m
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_LIMIT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let err = std::fs::read_to_string(self.dir.join("stderr.txt")).unwrap_or_default();
                panic!("ringcore exited during start-up with {status}: {err}");
            }
            if common::options_ping(self.sip, Duration::from_millis(300)).is_some() {
                // The first prompt is printed once the control loop runs.
                assert_eq!(self.answer(), "", "output before the first prompt");
                return;
            }
        }
        panic!("ringcore did not answer OPTIONS on {} within {START_LIMIT:?}", self.sip);
    }

    /// Reads stdout until `done(text since the last answer)` or the deadline.
    fn read_until(&mut self, limit: Duration, done: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if done(&self.text[self.seen..]) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left) {
                Ok(bytes) => {
                    self.text.push_str(&String::from_utf8_lossy(&bytes));
                    assert!(self.text.len() < MAX_OUTPUT, "monitor output exceeds {MAX_OUTPUT} bytes");
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => return done(&self.text[self.seen..]),
            }
        }
    }

    /// The text up to the next prompt (the prompt consumed, not returned).
    fn answer(&mut self) -> String {
        let got = self.read_until(ANSWER_LIMIT, |t| t.contains(PROMPT));
        let rest = &self.text[self.seen..];
        assert!(got, "no prompt within {ANSWER_LIMIT:?}; output so far: {rest:?}");
        let end = rest.find(PROMPT).expect("prompt found above");
        let a = rest[..end].to_owned();
        self.seen += end + PROMPT.len();
        a
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(format!("{line}\n").as_bytes()).expect("write to the monitor");
        stdin.flush().expect("flush stdin");
    }

    /// Types `line` and returns its answer.
    fn command(&mut self, line: &str) -> String {
        self.type_line(line);
        self.answer()
    }
}

impl Drop for Monitored {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends one REGISTER over UDP for `user` and returns the status line.
fn register(core: SocketAddr, user: &str) -> String {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
    sock.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
    let local = sock.local_addr().expect("local addr");
    let msg = format!(
        "REGISTER sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKreg{user}{p}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:{user}@{DOMAIN}>;tag=t{user}\r\nTo: <sip:{user}@{DOMAIN}>\r\n\
         Call-ID: reg-{user}-{p}\r\nCSeq: 1 REGISTER\r\nContact: <sip:{user}@{local}>\r\n\
         Expires: 600\r\nContent-Length: 0\r\n\r\n",
        p = local.port()
    );
    let mut buf = [0u8; 8192];
    // UDP: retransmit a few times on a loaded machine (same branch: the server transaction absorbs it).
    for _ in 0..10 {
        sock.send_to(msg.as_bytes(), core).expect("send REGISTER");
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if !text.starts_with("SIP/2.0 1") {
                return text.lines().next().unwrap_or("").to_owned();
            }
        }
    }
    panic!("no final response to REGISTER of {user}");
}

/// The `users` summary line's (subscribers, registered contacts).
fn users_summary(text: &str) -> (usize, usize) {
    let line = text.lines().find(|l| l.contains("subscriber(s)")).unwrap_or_else(|| panic!("no summary in {text:?}"));
    let nums: Vec<usize> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
    match nums[..] {
        [s, r] => (s, r),
        _ => panic!("unexpected summary {line:?}"),
    }
}

#[test]
fn help_lists_commands_and_shows_usage() {
    let mut m = Monitored::start("monitor-help");
    let help = m.command("help");
    assert!(help.starts_with("Available commands:"), "{help:?}");
    for usage in ["help [command]", "log [log_options]", "users", "quit"] {
        assert!(help.lines().any(|l| l.trim_start().starts_with(usage)), "{usage} missing in {help:?}");
    }
    let log = m.command("help log");
    assert!(log.starts_with("log [log_options]\n"), "{log:?}");
    assert!(log.contains("log_options"), "{log:?}");
    let unknown = m.command("frobnicate now");
    assert!(unknown.starts_with("Unknown command: frobnicate"), "{unknown:?}");
    // The monitor goes on after an error.
    assert!(m.command("help quit").starts_with("quit\n"));
}

#[test]
fn log_shows_and_changes_options() {
    let mut m = Monitored::start("monitor-log");
    let before = m.command("log");
    assert!(before.contains("sip.level=info"), "{before:?}");
    assert!(before.contains("ims.log"), "the log file is shown: {before:?}");
    assert_eq!(m.command("log sip.level=debug"), "", "a valid change answers nothing");
    let after = m.command("log");
    assert!(after.contains("sip.level=debug"), "{after:?}");
    assert!(!after.contains("sip.level=info"), "{after:?}");

    let bad = m.command("log nolayer.level=debug");
    assert!(bad.contains("nolayer"), "the error names the bad option: {bad:?}");
    let bad_level = m.command("log sip.level=loud");
    assert!(bad_level.contains("loud"), "the error names the bad value: {bad_level:?}");
    assert_eq!(m.command("log"), after, "a refused change leaves the options as they were");
}

#[test]
fn users_follow_registrations() {
    let mut m = Monitored::start("monitor-users");
    let before = m.command("users");
    assert_eq!(users_summary(&before), (3, 0), "{before}");
    assert!(!before.contains(" reg "), "nobody registered yet: {before}");

    for user in ["alice", "bob"] {
        let status = register(m.sip, user);
        assert!(status.starts_with("SIP/2.0 200"), "REGISTER {user}: {status}");
    }
    let after = m.command("users");
    assert_eq!(users_summary(&after), (3, 2), "{after}");
    for user in ["alice", "bob"] {
        let row = after
            .lines()
            .find(|l| l.starts_with(&format!("{user}@{DOMAIN}")))
            .unwrap_or_else(|| panic!("no row for {user}: {after}"));
        assert!(row.contains(" reg "), "{row}");
        assert!(row.contains(&format!("sip:{user}@127.0.0.1:")), "contact missing: {row}");
    }
    assert!(after.contains(&format!("sip:alice@{DOMAIN}")), "alice's IMPUs: {after}");
    let carol = after.lines().find(|l| l.starts_with("carol@")).unwrap_or_else(|| panic!("carol is listed: {after}"));
    assert!(carol.contains(" unreg "), "carol is not registered: {carol}");
}

/// The `users` help says "List the users of the database and their
/// registration state", and `users_get` (seed 000 6.6) dumps every user
/// unless `registered_only`; the monitor only prints registered ones.
#[test]
fn users_lists_unregistered_subscribers() {
    let mut m = Monitored::start("monitor-users-all");
    let text = m.command("users");
    for user in ["alice", "bob", "carol"] {
        assert!(text.contains(&format!("{user}@{DOMAIN}")), "{user} missing: {text}");
    }
}

#[test]
fn quit_exits_with_status_zero() {
    let mut m = Monitored::start("monitor-quit");
    m.type_line("quit");
    let deadline = Instant::now() + QUIT_LIMIT;
    let status = loop {
        if let Some(s) = m.child.try_wait().expect("wait for ringcore") {
            break s;
        }
        assert!(Instant::now() < deadline, "ringcore still runs {QUIT_LIMIT:?} after quit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{status}");
    // No prompt after quit.
    m.read_until(Duration::from_millis(500), |_| false);
    assert!(!m.text[m.seen..].contains(PROMPT), "prompt after quit: {:?}", &m.text[m.seen..]);
}

#[test]
fn end_of_input_keeps_the_core_running() {
    let mut m = Monitored::start("monitor-eof");
    assert!(m.command("help").starts_with("Available commands:"));
    m.stdin = None; // close stdin
    std::thread::sleep(Duration::from_millis(500));
    assert!(matches!(m.child.try_wait(), Ok(None)), "ringcore stopped at end of input");
    assert!(common::options_ping(m.sip, Duration::from_secs(2)).is_some(), "SIP stopped at end of input");
}
