//! The sockets of the SMS HTTP interworking (the codec is `crate::smsc::http`): one thread
//! serves `POST /sms` on `sms_http_bind_addr`, one thread posts to `sms_http_webhook`. Both
//! talk to the control thread over bounded channels and never touch its state.

use crate::smsc::http::{self, Submission, Webhook};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::time::Duration;

/// Submissions waiting for the control thread, and webhook posts waiting for the sender.
const QUEUE: usize = 256;
/// Socket timeouts and the longest a submission waits for the control thread's answer.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A submission and where its answer (status, JSON body) goes.
pub struct Inbound {
    /// What was submitted.
    pub sub: Submission,
    /// The answer.
    pub reply: SyncSender<(u16, Value)>,
}

/// Counters of the interworking.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HttpCounters {
    /// Submissions accepted into the store.
    pub inbound_accepted: u64,
    /// Submissions refused.
    pub inbound_refused: u64,
    /// Webhook posts started.
    pub webhook_posts: u64,
    /// Webhook posts answered 2xx.
    pub webhook_ok: u64,
    /// Webhook posts failed (error status, no answer); the SMSC retries them.
    pub webhook_failed: u64,
    /// Webhook posts not started because the queue was full.
    pub webhook_queue_full: u64,
}

/// The control thread's ends of the channels.
pub struct HttpLink {
    /// Submissions from the listener.
    pub inbound: Option<Receiver<Inbound>>,
    posts: Option<SyncSender<(u64, Vec<u8>)>>,
    /// Webhook results: message id and status (None: no answer).
    pub results: Option<Receiver<(u64, Option<u16>)>>,
    webhook: Option<Webhook>,
    /// Counters.
    pub counters: HttpCounters,
}

impl HttpLink {
    /// Starts the threads that are configured; errors are returned as text for the log.
    pub fn start(bind: Option<SocketAddr>, webhook: Option<&str>) -> (HttpLink, Vec<String>) {
        let mut errors = Vec::new();
        let mut link = HttpLink { inbound: None, posts: None, results: None, webhook: None, counters: HttpCounters::default() };
        if let Some(addr) = bind {
            match TcpListener::bind(addr) {
                Ok(l) => {
                    let (tx, rx) = sync_channel(QUEUE);
                    let spawned = std::thread::Builder::new().name("sms-http-in".into()).spawn(move || serve(l, tx));
                    match spawned {
                        Ok(_) => link.inbound = Some(rx),
                        Err(e) => errors.push(format!("cannot start the SMS HTTP listener: {e}")),
                    }
                }
                Err(e) => errors.push(format!("cannot listen for SMS over HTTP on {addr}: {e}")),
            }
        }
        if let Some(url) = webhook {
            match Webhook::parse(url) {
                Ok(w) => {
                    let (post_tx, post_rx) = sync_channel::<(u64, Vec<u8>)>(QUEUE);
                    let (res_tx, res_rx) = sync_channel(QUEUE);
                    let authority = w.authority.clone();
                    let spawned = std::thread::Builder::new().name("sms-webhook".into()).spawn(move || post_all(&authority, post_rx, res_tx));
                    match spawned {
                        Ok(_) => {
                            link.posts = Some(post_tx);
                            link.results = Some(res_rx);
                            link.webhook = Some(w);
                        }
                        Err(e) => errors.push(format!("cannot start the SMS webhook sender: {e}")),
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        (link, errors)
    }

    /// True when a webhook takes the SMS of recipients the core does not serve.
    pub fn has_webhook(&self) -> bool {
        self.posts.is_some()
    }

    /// Queues the post of message `id`; false when it cannot be queued now.
    pub fn post(&mut self, id: u64, from: &str, to: &str, text: &str) -> bool {
        let (Some(tx), Some(w)) = (&self.posts, &self.webhook) else { return false };
        match tx.try_send((id, w.request(from, to, text))) {
            Ok(()) => {
                self.counters.webhook_posts += 1;
                true
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counters.webhook_queue_full += 1;
                false
            }
        }
    }
}

/// Reads one request from `s` (bounded by [`http::MAX_HEAD`] + [`http::MAX_BODY`]).
fn read_request(s: &mut TcpStream) -> Result<Vec<u8>, http::HttpError> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(n) = http::request_len(&buf)? {
            buf.truncate(n);
            return Ok(buf);
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return Err(http::HttpError { status: 400, detail: "incomplete request".into() }),
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
        }
    }
}

/// The listener thread: one connection at a time, one request per connection.
fn serve(l: TcpListener, tx: SyncSender<Inbound>) {
    for stream in l.incoming() {
        let Ok(mut s) = stream else { continue };
        let _ = s.set_read_timeout(Some(IO_TIMEOUT));
        let _ = s.set_write_timeout(Some(IO_TIMEOUT));
        let (status, body) = match read_request(&mut s).and_then(|r| http::parse_submission(&r)) {
            Err(e) => (e.status, json!({ "error": e.detail })),
            Ok(sub) => {
                let (reply_tx, reply_rx) = sync_channel(1);
                match tx.try_send(Inbound { sub, reply: reply_tx }) {
                    Ok(()) => reply_rx.recv_timeout(IO_TIMEOUT).unwrap_or((503, json!({ "error": "no answer from the SMSC" }))),
                    Err(TrySendError::Full(_)) => (503, json!({ "error": "too many submissions" })),
                    Err(TrySendError::Disconnected(_)) => return,
                }
            }
        };
        let _ = s.write_all(&http::response(status, &body));
    }
}

/// Posts one request and returns the response status.
fn post_one(authority: &str, req: &[u8]) -> Option<u16> {
    let addr = authority.to_socket_addrs().ok()?.next()?;
    let mut s = TcpStream::connect_timeout(&addr, IO_TIMEOUT).ok()?;
    s.set_read_timeout(Some(IO_TIMEOUT)).ok()?;
    s.set_write_timeout(Some(IO_TIMEOUT)).ok()?;
    s.write_all(req).ok()?;
    let mut buf = [0u8; 1024];
    let mut got = 0;
    while got < buf.len() && !buf[..got].contains(&b'\n') {
        match s.read(&mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    http::response_status(&buf[..got])
}

/// The webhook thread: posts in order, reports each result.
fn post_all(authority: &str, rx: Receiver<(u64, Vec<u8>)>, results: SyncSender<(u64, Option<u16>)>) {
    for (id, req) in rx {
        if results.send((id, post_one(authority, &req))).is_err() {
            return;
        }
    }
}
