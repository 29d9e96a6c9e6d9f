//! A small blocking remote API client (`ringcore api HOST:PORT 'JSON'`), the
//! counterpart of the lteims sample ws.js (seed 000 6.4): RFC 6455 opening
//! handshake with an Origin header, masked client frames (5.3), the startup
//! message, authentication with `res` (6.2), then each message in turn; every
//! message received is printed as one JSON line.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use super::auth::compute_res;
use super::ws::{accept_key, Frame, FrameError, FrameRepr, Opcode};

/// Largest message accepted from the server.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;
/// Largest handshake response head.
const MAX_HEAD: usize = 16 * 1024;

/// What to send and how long to wait.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// `HOST:PORT`.
    pub addr: String,
    /// JSON texts, each an object or an array of objects.
    pub messages: Vec<String>,
    /// com_auth password.
    pub password: Option<String>,
    /// Time to wait for each answer (and for events after the last one).
    pub timeout: Duration,
    /// Keep printing received messages (events) this long after the last answer.
    pub linger: Duration,
}

struct Ws {
    sock: TcpStream,
    buf: Vec<u8>,
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    let ok = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).is_ok();
    if !ok {
        // Masking keys only need to be unpredictable to intermediaries (RFC 6455 10.3).
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        for (i, x) in b.iter_mut().enumerate() {
            *x = (t >> ((i % 16) * 8)) as u8;
        }
    }
    b
}

impl Ws {
    fn connect(addr: &str, timeout: Duration) -> Result<Ws, String> {
        let mut sock = TcpStream::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        sock.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        let key = base64::engine::general_purpose::STANDARD.encode(random::<16>());
        let req = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://{addr}\r\n\r\n"
        );
        sock.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
        let mut ws = Ws { sock, buf: Vec::new() };
        let end = loop {
            if let Some(i) = ws.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if ws.buf.len() > MAX_HEAD {
                return Err("handshake response too large".into());
            }
            ws.fill()?;
        };
        let head = String::from_utf8_lossy(ws.buf.get(..end).unwrap_or_default()).into_owned();
        ws.buf.drain(..end);
        if !head.starts_with("HTTP/1.1 101") {
            return Err(format!("handshake refused: {}", head.lines().next().unwrap_or("")));
        }
        let want = accept_key(&key);
        let ok = head.lines().any(|l| l.split_once(':').is_some_and(|(k, v)| k.trim().eq_ignore_ascii_case("sec-websocket-accept") && v.trim() == want));
        if !ok {
            return Err("bad Sec-WebSocket-Accept".into());
        }
        Ok(ws)
    }

    fn fill(&mut self) -> Result<(), String> {
        let mut b = [0u8; 16 * 1024];
        match self.sock.read(&mut b) {
            Ok(0) => Err("connection closed by the server".into()),
            Ok(n) => {
                self.buf.extend_from_slice(b.get(..n).unwrap_or_default());
                Ok(())
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => Err("timeout".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn send(&mut self, opcode: Opcode, payload: &[u8]) -> Result<(), String> {
        // RFC 6455 5.3: a client masks every frame.
        let repr = FrameRepr { fin: true, opcode, mask: Some(random::<4>()), payload_len: payload.len() as u64 };
        let mut out = Vec::with_capacity(payload.len() + 14);
        repr.emit(payload, &mut out);
        self.sock.write_all(&out).map_err(|e| e.to_string())
    }

    /// The next text message (pings answered, fragments joined); Err("timeout") when none came.
    fn recv(&mut self) -> Result<String, String> {
        let mut msg = Vec::new();
        loop {
            let frame = match Frame::new_checked(&self.buf) {
                Ok(f) => f,
                Err(FrameError::Truncated) => {
                    self.fill()?;
                    continue;
                }
                Err(e) => return Err(format!("bad frame from the server: {e:?}")),
            };
            let (repr, len) = (*frame.repr(), frame.total_len());
            let mut payload = Vec::new();
            frame.unmask_into(&mut payload);
            self.buf.drain(..len);
            match repr.opcode {
                Opcode::Ping => self.send(Opcode::Pong, &payload)?,
                Opcode::Pong => {}
                Opcode::Close => {
                    let code = payload.get(..2).map_or(0, |c| u16::from_be_bytes([c[0], c[1]]));
                    let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or_default()).into_owned();
                    return Err(format!("closed by the server: {code} {reason}"));
                }
                _ => {
                    msg.extend_from_slice(&payload);
                    if msg.len() > MAX_MESSAGE {
                        return Err("message too large".into());
                    }
                    if repr.fin {
                        return String::from_utf8(msg).map_err(|_| "message is not UTF-8".into());
                    }
                }
            }
        }
    }
}

/// Number of answers a request text calls for (one per object of an array).
fn expected_answers(text: &str) -> Result<usize, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(a)) => Ok(a.len()),
        Ok(Value::Object(_)) => Ok(1),
        Ok(_) => Err(format!("not a JSON object or array: {text}")),
        Err(e) => Err(format!("invalid JSON {text}: {e}")),
    }
}

/// Runs the session, printing every received message as a JSON line to `out`.
/// Returns true when no answer carried an `error` member.
pub fn run(opts: &ClientOptions, out: &mut dyn Write) -> Result<bool, String> {
    let mut ws = Ws::connect(&opts.addr, opts.timeout)?;
    let hello: Value = serde_json::from_str(&ws.recv()?).map_err(|e| e.to_string())?;
    let _ = writeln!(out, "{hello}");
    let mut clean = true;
    if hello["message"] == "authenticate" {
        let password = opts.password.as_deref().ok_or("the server asks for authentication: use --password")?;
        let name = hello["name"].as_str().unwrap_or_default();
        let challenge = hello["challenge"].as_str().unwrap_or_default();
        let req = json!({"message": "authenticate", "res": compute_res(password, name, challenge)});
        ws.send(Opcode::Text, req.to_string().as_bytes())?;
        let answer = ws.recv()?;
        let _ = writeln!(out, "{answer}");
        if answer.contains("\"error\"") {
            return Err("authentication failed".into());
        }
    }
    for text in &opts.messages {
        let mut want = expected_answers(text)?;
        ws.send(Opcode::Text, text.as_bytes())?;
        while want > 0 {
            let m: Value = serde_json::from_str(&ws.recv()?).map_err(|e| e.to_string())?;
            let _ = writeln!(out, "{m}");
            // Events carry no message_id and are not answers.
            let is_event = matches!(m["message"].as_str(), Some("users_update" | "sms" | "dialog")) && m.get("message_id").is_none();
            if !is_event {
                want -= 1;
                clean &= m.get("error").is_none();
            }
        }
    }
    let end = Instant::now() + opts.linger;
    while Instant::now() < end {
        match ws.recv() {
            Ok(m) => {
                let _ = writeln!(out, "{m}");
            }
            Err(e) if e == "timeout" => {}
            Err(_) => break,
        }
    }
    let _ = ws.send(Opcode::Close, &1000u16.to_be_bytes());
    Ok(clean)
}
