//! The echo service (seed 000 `echo`): a call to an echo IMPU is answered by
//! ringcore itself with an SDP answer (RFC 3264, keeping the AMR mode-set
//! rule of RFC 4867 8.3.1) whose media port is served by a data-plane worker
//! that returns every RTP and RTCP packet to its sender (RFC 4961 symmetric
//! RTP, latching the first source). The media never reaches the control
//! thread; BYE frees the port.

use super::reply::{reply_to, reply_to_tagged, Extra};
use crate::endpoint::ToWorker;
use crate::ims::hss::normalize_impu;
use super::anchor::MediaPorts;
use crate::media::MediaSpec;
use crate::sdp::{self, CodecCap, LocalCaps, LocalSession, MediaKind, SessionDescription};
use crate::sip::transaction::TxId;
use crate::sip::{HeaderName, Message, Method};
use std::collections::{HashMap, HashSet};

/// A command for a worker.
pub type Out = (u16, ToWorker);

struct EchoCall {
    worker: u16,
    port: u16,
}

/// Echo IMPUs and the echo calls in progress.
pub struct Echo {
    impus: HashSet<String>,
    calls: HashMap<String, EchoCall>,
    contact: String,
    max_calls: usize,
    caps: LocalCaps,
    version: u64,
}

impl Echo {
    /// The echo service for `impus`; `local_addr` is our SIP `host:port`.
    pub fn new(impus: Vec<String>, local_addr: &str, max_calls: usize) -> Self {
        let mut caps = LocalCaps::volte_default();
        // Test tools and fixed-line phones offer G.711: echo it as well.
        if let Some(audio) = caps.media.iter_mut().find(|m| m.kind == MediaKind::Audio) {
            audio.codecs.push(CodecCap::new(0, "PCMU", 8000));
            audio.codecs.push(CodecCap::new(8, "PCMA", 8000));
        }
        Echo {
            impus: impus.into_iter().map(|i| normalize_impu(&i)).collect(),
            calls: HashMap::new(),
            contact: format!("<sip:echo@{local_addr}>"),
            max_calls,
            caps,
            version: 0,
        }
    }

    /// True when `impu` (normalised) is an echo identity.
    pub fn is_echo(&self, impu: &str) -> bool {
        self.impus.contains(impu)
    }

    /// True when the request belongs to an echo call.
    pub fn owns(&self, msg: &Message<'_>) -> bool {
        msg.call_id().is_ok_and(|c| self.calls.contains_key(std::str::from_utf8(c).unwrap_or("")))
    }

    /// Answers an INVITE to an echo IMPU: 200 with the SDP answer, or 488
    /// with a Warning when the offer is malformed or has nothing we can echo.
    pub fn on_invite(&mut self, worker: u16, tx: TxId, msg: &Message<'_>, ports: &mut MediaPorts) -> Vec<Out> {
        let respond = |m: Vec<u8>| vec![(worker, ToWorker::Respond { tx, msg: m })];
        if self.calls.len() >= self.max_calls {
            return respond(reply_to(msg, 503, "Service Unavailable", &Extra::warning("echo call table full")));
        }
        let offer = match SessionDescription::parse(msg.body()) {
            Ok(o) => o,
            // RFC 3261 21.4.26: 488 with a Warning saying what is wrong.
            Err(e) => return respond(reply_to(msg, 488, "Not Acceptable Here", &Extra::warning(&e.to_string()))),
        };
        let w = ports.pick_worker();
        let mut port = None;
        let media_ip = ports.ip;
        let mut alloc = |kind: MediaKind| {
            if kind != MediaKind::Audio || port.is_some() {
                return None;
            }
            port = ports.alloc_on(w);
            port
        };
        self.version += 1;
        let local = LocalSession { addr: media_ip, session_id: self.version, session_version: 1 };
        let answer = match sdp::answer(&offer, &self.caps, &local, &mut alloc) {
            Ok(a) => a,
            Err(e) => {
                if let Some(p) = port {
                    ports.free(p);
                }
                return respond(reply_to(msg, 488, "Not Acceptable Here", &Extra::warning(&format!("{e:?}"))));
            }
        };
        let Some(port) = port else {
            return respond(reply_to(msg, 488, "Not Acceptable Here", &Extra::warning("no audio to echo")));
        };
        let call_id = String::from_utf8_lossy(msg.call_id().unwrap_or(b"")).into_owned();
        self.calls.insert(call_id, EchoCall { worker: w as u16, port });
        let extra = Extra {
            headers: vec![("Contact", self.contact.clone())],
            body: Some(("application/sdp".into(), answer.to_string().into_bytes())),
        };
        let tag = format!("rce{:x}", self.version);
        let mut out = vec![(w as u16, ToWorker::MediaInstall { port, spec: MediaSpec::echo() })];
        out.push((worker, ToWorker::Respond { tx, msg: reply_to_tagged(msg, 200, "OK", &extra, &tag) }));
        out
    }

    /// In-dialog requests of an echo call: BYE ends it (and frees the media
    /// port); a re-INVITE or UPDATE is answered with the same media.
    pub fn on_in_dialog(&mut self, worker: u16, tx: Option<TxId>, msg: &Message<'_>, ports: &mut MediaPorts) -> Vec<Out> {
        let Some(tx) = tx else { return vec![] }; // the ACK of our 200
        let call_id = String::from_utf8_lossy(msg.call_id().unwrap_or(b"")).into_owned();
        match msg.method() {
            Some(Method::Bye) => {
                let mut out = vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, 200, "OK", &Extra::default()) })];
                if let Some(c) = self.calls.remove(&call_id) {
                    ports.free(c.port);
                    out.push((c.worker, ToWorker::MediaRemove { port: c.port }));
                }
                out
            }
            _ => {
                let ct = msg.header(HeaderName::ContentType).is_some();
                let warn = if ct { "media changes on an echo call are not handled yet" } else { "request not handled on an echo call" };
                vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, 501, "Not Implemented", &Extra::warning(warn)) })]
            }
        }
    }

    /// Echo calls in progress.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// True when no echo call is in progress.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}

/// Read-only views and echo list changes for the remote API.
impl Echo {
    /// Every echo call as an API dialog (type "echo", Call-ID as session id).
    pub(super) fn dialog_infos(&self) -> Vec<super::dialog_info::DialogInfo> {
        let info = |id: &String| super::dialog_info::DialogInfo {
            session_id: id.clone(),
            state: "start",
            kind: "echo",
            from: String::new(),
            to: String::new(),
            created: None,
        };
        self.calls.keys().map(info).collect()
    }

    /// impu_add with impi "echo" (seed 000 6.6): adds an echo identity.
    pub(super) fn add_impu(&mut self, impu: &str) -> bool {
        self.impus.insert(normalize_impu(impu))
    }

    /// impu_del with impi "echo": removes an echo identity.
    pub(super) fn remove_impu(&mut self, impu: &str) -> bool {
        self.impus.remove(&normalize_impu(impu))
    }
}
