//! Network-initiated (MT) calls (seed 000 `mt_call`): ringcore calls a
//! registered UE with its own SDP offer (RFC 3264 5: AMR-WB, AMR,
//! telephone-event, and G.711 for test tools), answers the UE's media with
//! the echo of the data-plane worker once the UE accepts, and hangs up after
//! the requested duration — or when the UE does. The monitor's `mt_call`
//! and the remote API's `mt_call` call [`MtCalls::start`].

use super::anchor::MediaPorts;
use super::calls::{build_request, Dialog};
use super::reply::{reply_to, Extra};
use crate::endpoint::ToWorker;
use crate::ims::bindings::Bindings;
use crate::ims::hss::normalize_impu;
use crate::media::MediaSpec;
use crate::sdp::{self, CodecCap, LocalCaps, LocalSession, MediaKind, SessionDescription};
use crate::sip::transaction::TxId;
use crate::sip::{HeaderName, Message, Method};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A command for a worker.
pub type Out = (u16, ToWorker);

struct MtCall {
    /// The dialog with the UE (ringcore is the UAC).
    dialog: Dialog,
    media_worker: u16,
    port: u16,
    answered: bool,
    hang_up_at: Option<Instant>,
    duration: Option<Duration>,
}

/// The MT calls in progress.
pub struct MtCalls {
    calls: HashMap<String, MtCall>,
    by_branch: HashMap<String, String>,
    local_addr: String,
    caller: String,
    n_workers: usize,
    seq: u64,
    max_calls: usize,
}

impl MtCalls {
    /// MT calls presented as coming from `caller` (a SIP URI of the core).
    pub fn new(local_addr: String, caller: String, n_workers: usize, max_calls: usize) -> Self {
        MtCalls { calls: HashMap::new(), by_branch: HashMap::new(), local_addr, caller, n_workers, seq: 0, max_calls }
    }

    /// True when the Call-ID is one of ours.
    pub fn owns(&self, msg: &Message<'_>) -> bool {
        msg.call_id().is_ok_and(|c| self.calls.contains_key(std::str::from_utf8(c).unwrap_or("")))
    }

    /// Calls `impu`'s registered contact; the call ends after `duration` (None: when the UE hangs up).
    pub fn start(&mut self, impu: &str, duration: Option<Duration>, bindings: &Bindings, ports: &mut MediaPorts) -> Result<(String, Vec<Out>), String> {
        if self.calls.len() >= self.max_calls {
            return Err("too many MT calls in progress".into());
        }
        let impu = normalize_impu(impu);
        let contact = bindings
            .lookup(&impu)
            .flat_map(|r| r.contacts.iter())
            .max_by_key(|c| c.q)
            .ok_or_else(|| format!("{impu} is not registered"))?;
        let w = ports.pick_worker();
        let port = ports.alloc_on(w).ok_or("no free media port")?;
        let mut caps = LocalCaps::volte_default();
        if let Some(audio) = caps.media.iter_mut().find(|m| m.kind == MediaKind::Audio) {
            audio.codecs.push(CodecCap::new(0, "PCMU", 8000));
        }
        self.seq += 1;
        let local = LocalSession { addr: ports.ip, session_id: self.seq, session_version: 1 };
        let mut given = Some(port);
        let offer = sdp::build_offer(&caps, &local, &mut |k| if k == MediaKind::Audio { given.take() } else { None })
            .map_err(|e| format!("cannot build the offer: {e:?}"))?;
        let (worker, peer) = super::calls::route_to(&contact.uri, &contact.flow, self.n_workers);
        let call = MtCall {
            dialog: Dialog {
                call_id: format!("rcmt{:x}@{}", self.seq, self.local_addr),
                local: format!("<{}>;tag=rcm{:x}", self.caller, self.seq),
                remote: format!("<{impu}>"),
                target: contact.uri.clone(),
                // RFC 3327 5.3: requests to the UE follow its registered Path.
                routes: contact.path.clone(),
                cseq: 1,
                worker,
                peer,
            },
            media_worker: w as u16,
            port,
            answered: false,
            hang_up_at: None,
            duration,
        };
        let branch = format!("z9hG4bKrcm{:x}", self.seq);
        let invite = self.request(&call, "INVITE", &branch, Some(&offer.to_string()));
        let id = call.dialog.call_id.clone();
        self.by_branch.insert(branch, id.clone());
        self.calls.insert(id.clone(), call);
        Ok((id, vec![(worker, ToWorker::SendRequest { peer, msg: invite })]))
    }

    fn request(&self, c: &MtCall, method: &str, branch: &str, sdp: Option<&str>) -> Vec<u8> {
        let d = &c.dialog;
        let body = sdp.unwrap_or("").as_bytes();
        build_request(&self.local_addr, d, method, d.cseq, branch, sdp.map(|_| "application/sdp"), body, None)
    }

    /// A response to one of our requests: the UE's answer starts the echo.
    pub fn on_response(&mut self, now: Instant, msg: &Message<'_>, ports: &mut MediaPorts) -> Option<Vec<Out>> {
        let branch = msg.via_top().ok()?.branch().map(|b| String::from_utf8_lossy(b).into_owned())?;
        let id = self.by_branch.get(&branch)?.clone();
        let code = msg.status()?;
        if !matches!(msg.cseq().ok()?.method, Method::Invite) {
            if code >= 200 {
                self.by_branch.remove(&branch);
            }
            return Some(vec![]);
        }
        let call = self.calls.get_mut(&id)?;
        if let Some(tag) = msg.to().ok().and_then(|t| t.tag()) {
            if !call.dialog.remote.contains(";tag=") {
                call.dialog.remote = format!("{};tag={}", call.dialog.remote, String::from_utf8_lossy(tag));
            }
        }
        if code < 200 {
            return Some(vec![]);
        }
        if code >= 300 {
            ports.free(call.port);
            self.by_branch.remove(&branch);
            self.calls.remove(&id);
            return Some(vec![]);
        }
        if let Some(Ok(crate::sip::Contact::Addr(na))) = msg.contacts().next() {
            call.dialog.target = String::from_utf8_lossy(na.uri.raw).into_owned();
        }
        let mut out = Vec::new();
        if !call.answered {
            call.answered = true;
            call.hang_up_at = call.duration.map(|d| now + d);
            let remote = SessionDescription::parse(msg.body()).ok().and_then(|sd| {
                let m = sd.media.first()?;
                let c = m.connection.as_ref().or(sd.connection.as_ref())?;
                Some(SocketAddr::new(c.addr, m.port))
            });
            let spec = MediaSpec { remote_rtp: remote, ..MediaSpec::echo() };
            out.push((call.media_worker, ToWorker::MediaInstall { port: call.port, spec }));
        }
        // RFC 3261 13.2.2.4: the UAC acknowledges every 2xx.
        let call = &self.calls[&id];
        let ack = self.request(call, "ACK", &format!("{branch}a"), None);
        out.push((call.dialog.worker, ToWorker::SendStateless { peer: call.dialog.peer, msg: ack }));
        Some(out)
    }

    /// A request inside an MT call: the UE hangs up (BYE) or re-offers.
    pub fn on_in_dialog(&mut self, worker: u16, tx: Option<TxId>, msg: &Message<'_>, ports: &mut MediaPorts) -> Vec<Out> {
        let Some(tx) = tx else { return vec![] };
        let id = String::from_utf8_lossy(msg.call_id().unwrap_or(b"")).into_owned();
        match msg.method() {
            Some(Method::Bye) => {
                let mut out = vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, 200, "OK", &Extra::default()) })];
                if let Some(c) = self.calls.remove(&id) {
                    ports.free(c.port);
                    out.push((c.media_worker, ToWorker::MediaRemove { port: c.port }));
                }
                out
            }
            _ => {
                let w = Extra::warning("only BYE is handled inside an MT call for now");
                let _ = msg.header(HeaderName::ContentType);
                vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, 501, "Not Implemented", &w) })]
            }
        }
    }

    /// The next hang-up time.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.calls.values().filter_map(|c| c.hang_up_at).min()
    }

    /// Hangs up the calls whose duration is over (BYE, RFC 3261 15.1.1).
    pub fn handle_timeout(&mut self, now: Instant, ports: &mut MediaPorts) -> Vec<Out> {
        let due: Vec<String> = self.calls.iter().filter(|(_, c)| c.hang_up_at.is_some_and(|t| t <= now)).map(|(k, _)| k.clone()).collect();
        let mut out = Vec::new();
        for id in due {
            let Some(mut c) = self.calls.remove(&id) else { continue };
            c.dialog.cseq += 1;
            self.seq += 1;
            let branch = format!("z9hG4bKrcm{:x}b", self.seq);
            let bye = self.request(&c, "BYE", &branch, None);
            self.by_branch.insert(branch, id);
            ports.free(c.port);
            out.push((c.media_worker, ToWorker::MediaRemove { port: c.port }));
            out.push((c.dialog.worker, ToWorker::SendRequest { peer: c.dialog.peer, msg: bye }));
        }
        out
    }

    /// MT calls in progress.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// True when no MT call is in progress.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}

/// Read-only views and API actions (dialog_get, dialog_set stop).
impl MtCalls {
    /// Every MT call as an API dialog (type "mt call").
    pub(super) fn dialog_infos(&self) -> Vec<super::dialog_info::DialogInfo> {
        let info = |(id, c): (&String, &MtCall)| super::dialog_info::DialogInfo {
            session_id: id.clone(),
            state: if c.answered { "start" } else { "init" },
            kind: "mt call",
            from: self.caller.clone(),
            to: super::dialog_info::without_tag(&c.dialog.remote),
            created: None,
        };
        self.calls.iter().map(info).collect()
    }

    /// dialog_set stop: hangs an answered MT call up at the next timer run.
    pub(super) fn stop(&mut self, id: &str, now: Instant) -> Result<(), String> {
        let c = self.calls.get_mut(id).ok_or_else(|| format!("Unknown dialog: {id}"))?;
        if !c.answered {
            return Err("Dialog not answered yet".into());
        }
        c.hang_up_at = Some(now);
        Ok(())
    }
}
