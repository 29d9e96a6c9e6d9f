//! Helpers shared by the black-box tests: start a real ringcore process on a
//! free loopback port with a given configuration, wait until it answers, and
//! stop it when the test ends (also on panic).
#![allow(dead_code)]

pub mod load;

use std::io::Read;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

/// Sends one remote API request through `ringcore api ADDR JSON` (the CLI client) and
/// returns the last line it prints, the answer, as JSON.
pub fn api(addr: &str, req: serde_json::Value) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_ringcore")).args(["api", addr, &req.to_string()]).output().expect("run ringcore api");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or("null")).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A child process, killed and reaped on drop (also on panic).
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// ringcore on configuration `cfg` with its command-line monitor on stdin; stdout piped
/// (the monitor's replies), stderr discarded.
pub fn spawn_monitor(cfg: &std::path::Path) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_ringcore"))
            .arg(cfg)
            .arg("--monitor")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ringcore"),
    )
}

/// The lines `p` writes on its piped stdout, read by a thread (ends with the process).
pub fn stdout_lines(p: &mut Proc) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let stdout = p.0.stdout.take().expect("piped stdout");
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// A running ringcore process; killed on drop.
pub struct Core {
    /// The child process.
    pub child: Child,
    /// The SIP address it listens on (UDP and TCP).
    pub sip: SocketAddr,
    /// The directory holding its configuration and logs.
    pub dir: PathBuf,
}

static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

/// A port no other test of this process uses, chosen away from common services.
pub fn free_port() -> u16 {
    let base = 20000 + (std::process::id() % 2000) as u16 * 10;
    loop {
        let p = base + NEXT_PORT.fetch_add(1, Ordering::Relaxed) % 2000 * 7;
        if UdpSocket::bind(("127.0.0.1", p)).is_ok() && std::net::TcpListener::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

/// A fresh scratch directory for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ringcore-test-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// The engine backend the suite runs on (set by scripts/test.sh).
pub fn backend() -> &'static str {
    match std::env::var("RINGCORE_BACKEND").as_deref() {
        Ok("epoll") => "epoll",
        Ok("uring") => "uring",
        _ => "auto",
    }
}

impl Core {
    /// Starts ringcore with `body` (configuration properties, without braces)
    /// plus sip_addr on a free port; waits until it answers OPTIONS.
    pub fn start(name: &str, body: &str) -> Core {
        Core::start_on(name, body, &[std::net::Ipv4Addr::LOCALHOST.into()])
    }

    /// [`Core::start`] with one sip_addr item per address of `ips` (e.g. `::1`), all on
    /// the same port; `sip` is the first.
    pub fn start_on(name: &str, body: &str, ips: &[std::net::IpAddr]) -> Core {
        let port = free_port();
        let dir = scratch_dir(name);
        let sip = SocketAddr::new(ips[0], port);
        // Each core gets its own 1,000 media ports (derived from its SIP port), so cores that
        // tests run side by side do not both allocate from the bottom of the default range.
        let media = 10_000 + u32::from(port % 22) * 1000;
        let share = 1000 / ips.len() as u32;
        let items: Vec<String> = (0u32..)
            .zip(ips)
            .map(|(i, ip)| {
                let min = media + i * share;
                format!("{{ addr: \"{}\", port_min: {min}, port_max: {} }}", SocketAddr::new(*ip, port), min + share - 1)
            })
            .collect();
        let cfg = format!(
            "{{\n  sip_addr: [{}],\n  domain: \"ims.mnc001.mcc001.3gppnetwork.org\",\n  \
             log_filename: \"{log}\",\n  engine: {{ backend: \"{backend}\", workers: 1 }},\n{body}\n}}\n",
            items.join(", "),
            log = dir.join("ims.log").display(),
            backend = backend(),
        );
        let cfg_path = dir.join("ims.cfg");
        std::fs::write(&cfg_path, cfg).expect("write config");
        let child = Command::new(env!("CARGO_BIN_EXE_ringcore"))
            .arg(&cfg_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ringcore");
        let mut core = Core { child, sip, dir };
        core.wait_ready();
        core
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("ringcore exited early with {status}: {err}");
            }
            if options_ping(self.sip, Duration::from_millis(200)).is_some() {
                return;
            }
        }
        panic!("ringcore did not answer OPTIONS on {} within 20 s", self.sip);
    }

    /// True while the process runs.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends one OPTIONS over UDP and returns the response text, if one came in time.
pub fn options_ping(to: SocketAddr, wait: Duration) -> Option<String> {
    let sock = UdpSocket::bind(if to.is_ipv4() { "127.0.0.1:0" } else { "[::1]:0" }).ok()?;
    sock.set_read_timeout(Some(wait)).ok()?;
    let local = sock.local_addr().ok()?;
    let branch = format!("z9hG4bKping{}", Instant::now().elapsed().as_nanos() ^ local.port() as u128);
    let msg = format!(
        "OPTIONS sip:{to} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch}\r\nMax-Forwards: 70\r\n\
         From: <sip:probe@{local}>;tag=p1\r\nTo: <sip:{to}>\r\nCall-ID: ping-{branch}\r\n\
         CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    );
    sock.send_to(msg.as_bytes(), to).ok()?;
    let mut buf = [0u8; 4096];
    let (n, _) = sock.recv_from(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Runs SIPp with `args`, bounded in time; returns (success, combined output).
pub fn sipp(args: &[&str], dir: &std::path::Path) -> (bool, String) {
    let out = Command::new("timeout")
        .arg("120")
        .arg("sipp")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run sipp (apt-get install sip-tester)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Starts SIPp with `args` in the background, killed after `secs` seconds, its output
/// discarded (scenarios that must succeed are checked by their exit status).
pub fn spawn_sipp(secs: u32, args: &[&str], dir: &std::path::Path) -> std::process::Child {
    Command::new("timeout")
        .arg(secs.to_string())
        .arg("sipp")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run sipp (apt-get install sip-tester)")
}

/// The path of a file under tests/.
pub fn test_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join(rel)
}

/// Receives one SIP message (panics after the socket's read timeout).
pub fn recv_sip(s: &UdpSocket) -> (String, SocketAddr) {
    let mut buf = vec![0u8; 65536];
    let (n, from) = s.recv_from(&mut buf).expect("a SIP message from ringcore");
    (String::from_utf8_lossy(&buf[..n]).into_owned(), from)
}

/// The whole line of header `name` (written with its colon, e.g. "Via:").
pub fn header_line<'a>(m: &'a str, name: &str) -> &'a str {
    m.split("\r\n").find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in {m}"))
}

/// A UAS response to `req` (RFC 3261 8.2.6): Via, From, To (plus `to_tag`
/// when given), Call-ID and CSeq copied, then `extra` header lines (each
/// ending with CRLF) and an SDP `sdp` body when not empty.
pub fn respond(req: &str, status: &str, to_tag: Option<&str>, extra: &str, sdp: &str) -> String {
    let tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    let ctype = if sdp.is_empty() { "" } else { "Content-Type: application/sdp\r\n" };
    format!(
        "SIP/2.0 {status}\r\n{}\r\n{}\r\n{}{tag}\r\n{}\r\n{}\r\n{extra}{ctype}Content-Length: {}\r\n\r\n{sdp}",
        header_line(req, "Via:"),
        header_line(req, "From:"),
        header_line(req, "To:"),
        header_line(req, "Call-ID:"),
        header_line(req, "CSeq:"),
        sdp.len()
    )
}

/// A UE with `authent_type: "none"` registering `user@domain` from a fresh UDP socket; the
/// REGISTER is repeated until the core (possibly still starting) answers 200. The socket is
/// returned with a 5 s read timeout.
#[allow(dead_code)]
pub fn register_open_ue(core: SocketAddr, user: &str, domain: &str) -> UdpSocket {
    let ue = UdpSocket::bind("127.0.0.1:0").unwrap();
    ue.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let l = ue.local_addr().unwrap();
    let reg = format!(
        "REGISTER sip:{domain} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKmr\r\nMax-Forwards: 70\r\nFrom: <sip:{user}@{domain}>;tag=r\r\n\
         To: <sip:{user}@{domain}>\r\nCall-ID: mr\r\nCSeq: 1 REGISTER\r\nContact: <sip:{user}@{l}>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        ue.send_to(reg.as_bytes(), core).unwrap();
        let mut buf = [0u8; 4096];
        if let Ok((n, _)) = ue.recv_from(&mut buf) {
            assert!(buf[..n].starts_with(b"SIP/2.0 200"), "{}", String::from_utf8_lossy(&buf[..n]));
            break;
        }
        assert!(Instant::now() < deadline, "ringcore did not start");
    }
    ue.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    ue
}

/// tshark capturing ringcore's SIP port on loopback.
pub struct Capture(std::process::Child);

impl Capture {
    /// Starts capturing UDP `port` into `pcap` (after 2 s, tshark is listening).
    pub fn start(pcap: &std::path::Path, port: u16) -> Capture {
        let c = Command::new("tshark")
            .args(["-i", "lo", "-f", &format!("udp port {port}"), "-w", pcap.to_str().unwrap(), "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tshark (apt-get install tshark)");
        std::thread::sleep(Duration::from_secs(2));
        Capture(c)
    }

    /// Stops the capture, flushing the file.
    pub fn stop(&mut self) {
        std::thread::sleep(Duration::from_millis(500));
        let _ = Command::new("kill").args(["-INT", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        // A failed test must not leave tshark running.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The SIP messages of a capture that tshark flags as malformed or in error
/// (empty when every message decodes), and the `fields` it decodes per SIP
/// packet, tab-separated.
pub fn tshark_check(pcap: &std::path::Path, fields: &[&str]) -> (String, String) {
    let mut args: Vec<&str> = vec!["-r", pcap.to_str().unwrap_or(""), "-Y", "sip", "-T", "fields"];
    for f in fields {
        args.extend(["-e", f]);
    }
    let decoded = Command::new("tshark").args(&args).output().expect("tshark -r");
    let bad = Command::new("tshark")
        .args(["-r", pcap.to_str().unwrap_or(""), "-Y", "_ws.malformed || _ws.expert.severity >= \"error\""])
        .output()
        .expect("tshark -r");
    (String::from_utf8_lossy(&bad.stdout).trim().to_owned(), String::from_utf8_lossy(&decoded.stdout).into_owned())
}
