//! The reg event package (RFC 3680) as TS 24.229 5.4.2.1 asks of an
//! S-CSCF: SUBSCRIBE to `Event: reg` from UEs, P-CSCFs or application
//! servers creates a subscription to the registration state of a public
//! identity; the subscriber gets a full-state reginfo NOTIFY at once and on
//! every change of the registration (new, refreshed, expired, removed or
//! network-deactivated contacts), and a final NOTIFY when the subscription
//! ends (RFC 6665 4.2.2).

use super::reply::{local_tag, reply_to, Extra};
use crate::endpoint::Peer;
use crate::ims::bindings::{Change, Record};
use crate::ims::hss::{normalize_impu, Hss};
use crate::ims::reginfo::write_reginfo;
use crate::sip::Message;
use std::collections::HashMap;
use std::fmt::Write;
use std::time::{Duration, Instant};

/// Most live subscriptions (each is a few hundred bytes).
pub const MAX_SUBSCRIPTIONS: usize = 100_000;
/// RFC 3680 6.7: a subscription lasts 3761 s when the SUBSCRIBE asks nothing.
pub const DEFAULT_EXPIRES: u32 = 3761;
/// Longest subscription granted (the manual's maximum for subscribe_expires).
pub const MAX_EXPIRES: u32 = 864_000;

/// One subscription: the dialog it lives in and what it watches.
#[derive(Clone, Debug)]
pub struct Subscription {
    /// The watched public identity (normalised).
    pub impu: String,
    /// Where NOTIFYs go (the flow the SUBSCRIBE came on).
    pub peer: Peer,
    /// The worker owning that flow.
    pub worker: u16,
    /// The subscriber's Contact URI (Request-URI of NOTIFYs, RFC 6665 4.1.2.4? 4.2.2).
    pub target: String,
    /// From of the SUBSCRIBE (To of our NOTIFYs), with its tag.
    pub remote: String,
    /// To of the SUBSCRIBE plus our tag (From of our NOTIFYs).
    pub local: String,
    /// Call-ID of the dialog.
    pub call_id: String,
    /// Our CSeq in the dialog.
    pub cseq: u32,
    /// reginfo version (RFC 3680 5.2: increases by one per NOTIFY).
    pub version: u32,
    /// When it ends.
    pub expires_at: Instant,
}

/// A NOTIFY to send: the worker, the peer and the request bytes.
pub struct Notify {
    /// The worker that owns the subscriber's flow.
    pub worker: u16,
    /// The subscriber.
    pub peer: Peer,
    /// The NOTIFY request.
    pub msg: Vec<u8>,
}

/// All reg event subscriptions.
pub struct RegEvents {
    subs: HashMap<String, Subscription>,
    /// Our address for Via and Contact of NOTIFYs.
    local_addr: String,
    branch_seq: u64,
    /// subscribe_expires: 0 = take the subscriber's value.
    forced_expires: u32,
    /// tcp_threshold: NOTIFYs larger than this go over TCP (RFC 3261 18.1.1).
    tcp_threshold: usize,
}

impl RegEvents {
    /// An empty table; `local_addr` is `host:port` of the core.
    pub fn new(local_addr: String, forced_expires: u32, tcp_threshold: usize) -> Self {
        RegEvents { subs: HashMap::new(), local_addr, branch_seq: 0, forced_expires, tcp_threshold }
    }

    /// Number of live subscriptions.
    pub fn len(&self) -> usize {
        self.subs.len()
    }

    /// True when there is no subscription.
    pub fn is_empty(&self) -> bool {
        self.subs.is_empty()
    }

    /// Handles a SUBSCRIBE for `Event: reg`: returns the response, and the
    /// first NOTIFY when the subscription was accepted (RFC 6665 4.2.1.2).
    pub fn handle_subscribe(
        &mut self,
        now: Instant,
        msg: &Message<'_>,
        worker: u16,
        peer: Peer,
        hss: &Hss,
        current: &dyn Fn(&str) -> Option<Record>,
    ) -> (Vec<u8>, Option<Notify>) {
        let Ok(ruri) = msg.request_uri() else { return (reply_to(msg, 400, "Bad Request", &Extra::warning("bad Request-URI")), None) };
        let impu = normalize_impu(&String::from_utf8_lossy(ruri.raw));
        if hss.impi_of_impu(&impu).is_none() {
            return (reply_to(msg, 404, "Not Found", &Extra::warning(&format!("no subscriber for {impu}"))), None);
        }
        let (Ok(from), Ok(to), Ok(call_id)) = (msg.from(), msg.to(), msg.call_id()) else {
            return (reply_to(msg, 400, "Bad Request", &Extra::warning("bad dialog headers")), None);
        };
        let Some(contact) = msg.contacts().find_map(|c| match c {
            Ok(crate::sip::Contact::Addr(na)) => Some(String::from_utf8_lossy(na.uri.raw).into_owned()),
            _ => None,
        }) else {
            return (reply_to(msg, 400, "Bad Request", &Extra::warning("SUBSCRIBE without Contact")), None);
        };
        let requested = msg.expires().ok().flatten().unwrap_or(DEFAULT_EXPIRES);
        let granted = match (requested, self.forced_expires) {
            (0, _) => 0,
            (r, 0) => r.min(MAX_EXPIRES),
            (_, f) => f.min(MAX_EXPIRES),
        };
        let tag = local_tag(msg);
        let key = format!("{}|{}", String::from_utf8_lossy(call_id), tag);
        if granted > 0 && !self.subs.contains_key(&key) && self.subs.len() >= MAX_SUBSCRIPTIONS {
            return (reply_to(msg, 503, "Service Unavailable", &Extra::warning("subscription table full")), None);
        }
        let sub = self.subs.entry(key.clone()).or_insert_with(|| Subscription {
            impu: impu.clone(),
            peer,
            worker,
            target: contact,
            remote: String::from_utf8_lossy(msg.header(crate::sip::HeaderName::From).unwrap_or(b"")).into_owned(),
            local: format!("{};tag={}", String::from_utf8_lossy(msg.header(crate::sip::HeaderName::To).unwrap_or(b"")), tag),
            call_id: String::from_utf8_lossy(call_id).into_owned(),
            cseq: 0,
            version: 0,
            expires_at: now,
        });
        sub.expires_at = now + Duration::from_secs(granted as u64);
        let _ = (from, to);
        let extra = Extra {
            headers: vec![("Expires", granted.to_string()), ("Contact", format!("<sip:{}>", self.local_addr))],
            body: None,
        };
        let resp = reply_to(msg, 200, "OK", &extra);
        let record = current(&impu);
        let notify = self.notify(now, &key, record.as_ref(), &[], granted == 0);
        if granted == 0 {
            self.subs.remove(&key);
        }
        (resp, notify)
    }

    /// The NOTIFYs a registration change calls for.
    pub fn on_change(&mut self, now: Instant, change: &Change) -> Vec<Notify> {
        let keys: Vec<String> = self
            .subs
            .iter()
            .filter(|(_, s)| change.record.impus.contains(&s.impu))
            .map(|(k, _)| k.clone())
            .collect();
        let record = (!change.record.contacts.is_empty()).then_some(&change.record);
        keys.iter().filter_map(|k| self.notify(now, k, record, &change.contacts, false)).collect()
    }

    /// The next subscription expiry.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.subs.values().map(|s| s.expires_at).min()
    }

    /// Ends expired subscriptions with a final NOTIFY (RFC 6665 4.2.2).
    pub fn handle_timeout(&mut self, now: Instant, current: &dyn Fn(&str) -> Option<Record>) -> Vec<Notify> {
        let due: Vec<String> = self.subs.iter().filter(|(_, s)| s.expires_at <= now).map(|(k, _)| k.clone()).collect();
        let mut out = Vec::new();
        for k in due {
            let impu = self.subs.get(&k).map(|s| s.impu.clone()).unwrap_or_default();
            let record = current(&impu);
            out.extend(self.notify(now, &k, record.as_ref(), &[], true));
            self.subs.remove(&k);
        }
        out
    }

    /// Drops a subscription whose NOTIFY was answered 481 (RFC 6665 4.1.3).
    pub fn drop_dialog(&mut self, call_id: &str) {
        self.subs.retain(|_, s| s.call_id != call_id);
    }

    fn notify(&mut self, now: Instant, key: &str, record: Option<&Record>, changed: &[(crate::ims::bindings::Contact, crate::ims::bindings::ContactEvent)], terminated: bool) -> Option<Notify> {
        self.branch_seq += 1;
        let branch = self.branch_seq;
        let local_addr = self.local_addr.clone();
        let sub = self.subs.get_mut(key)?;
        sub.cseq += 1;
        let version = sub.version;
        sub.version += 1;
        let identities: Vec<String> = match record {
            Some(r) => r.impus.clone(),
            None => vec![sub.impu.clone()],
        };
        let mut body = String::new();
        write_reginfo(&mut body, now, version, &identities, record, changed);
        let state = if terminated {
            "terminated;reason=timeout".to_owned()
        } else {
            format!("active;expires={}", crate::ims::bindings::seconds_left(now, sub.expires_at))
        };
        let mut m = String::with_capacity(512 + body.len());
        // RFC 3261 18.1.1: a request within 200 bytes of the path MTU (here
        // tcp_threshold, 1300 by default) goes over TCP; 0 disables the rule.
        let peer = if !sub.peer.is_reliable() && self.tcp_threshold > 0 && body.len() + 400 > self.tcp_threshold {
            Peer { transport: crate::endpoint::Transport::TcpTo, addr: sub.peer.addr }
        } else {
            sub.peer
        };
        let transport = if peer.is_reliable() { "TCP" } else { "UDP" };
        let _ = write!(
            m,
            "NOTIFY {target} SIP/2.0\r\nVia: SIP/2.0/{transport} {local_addr};branch=z9hG4bKrcn{branch:x}.{inst}\r\n\
             Max-Forwards: 70\r\nFrom: {local}\r\nTo: {remote}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} NOTIFY\r\n\
             Contact: <sip:{local_addr}>\r\nEvent: reg\r\nSubscription-State: {state}\r\n\
             Content-Type: application/reginfo+xml\r\nContent-Length: {len}\r\n\r\n{body}",
            inst = super::ids::instance(),
            target = sub.target,
            local = sub.local,
            remote = sub.remote,
            call_id = sub.call_id,
            cseq = sub.cseq,
            len = body.len(),
        );
        Some(Notify { worker: sub.worker, peer, msg: m.into_bytes() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::Transport;
    use crate::engine::SocketId;
    use crate::ims::bindings::{Contact, ContactEvent, RecordKey};
    use crate::ims::hss::{PublicId, Subscriber};

    fn hss() -> Hss {
        let mut h = Hss::default();
        let sub = Subscriber {
            impi: "u@ims".into(),
            imsi: None,
            impus: vec![PublicId { uri: "sip:u@ims".into(), authentication: false, associated: true, preferred: true, imei: None }],
            multi_sim: false,
            authent_type: crate::config::typed::AuthentType::None,
            qop: crate::ims::challenge::Qop::None,
            pwd: None,
            sim: None,
            amf: [0, 0],
            sqn: crate::auth::HeSqn::new(crate::auth::Sqn::new(0).unwrap(), crate::auth::SqnParams::DEFAULT).unwrap(),
        };
        h.insert(sub).unwrap();
        h
    }

    fn subscribe() -> Vec<u8> {
        b"SUBSCRIBE sip:u@ims SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKs\r\nMax-Forwards: 70\r\n\
From: <sip:u@ims>;tag=w\r\nTo: <sip:u@ims>\r\nCall-ID: s@w\r\nCSeq: 1 SUBSCRIBE\r\nContact: <sip:w@10.0.0.9>\r\n\
Event: reg\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"
            .to_vec()
    }

    fn change(event: ContactEvent, now: Instant) -> Change {
        let peer = "10.0.0.9:5060".parse().expect("literal address");
        let c = Contact { id: 4, ..Contact::udp_for_test("sip:u@10.0.0.9", now + Duration::from_secs(60), peer, "r") };
        let key = RecordKey { impi: "u@ims".into(), imei: String::new(), emergency: false };
        let record = Record { key, impus: vec!["sip:u@ims".into()], contacts: vec![], id: 1 };
        Change { record, contacts: vec![(c, event)] }
    }

    #[test]
    fn network_deactivation_is_notified_with_terminated_contacts_and_versions_increase() {
        let now = Instant::now();
        let mut ev = RegEvents::new("127.0.0.1:5060".into(), 0, 0);
        let raw = subscribe();
        let msg = Message::parse(&raw).unwrap();
        let peer = Peer { transport: Transport::Udp(SocketId(0)), addr: "10.0.0.9:5060".parse().unwrap() };
        let (resp, first) = ev.handle_subscribe(now, &msg, 0, peer, &hss(), &|_| None);
        assert!(resp.starts_with(b"SIP/2.0 200 OK"));
        let first = String::from_utf8(first.unwrap().msg).unwrap();
        assert!(first.contains("version=\"0\"") && first.contains("state=\"init\""), "{first}");
        assert!(first.contains("Subscription-State: active;expires=600"), "{first}");
        let n = ev.on_change(now, &change(ContactEvent::Deactivated, now));
        assert_eq!(n.len(), 1);
        let text = String::from_utf8(n[0].msg.clone()).unwrap();
        assert!(text.contains("version=\"1\""), "{text}");
        assert!(text.contains("state=\"terminated\" event=\"deactivated\""), "{text}");
        assert!(text.starts_with("NOTIFY sip:w@10.0.0.9 SIP/2.0\r\n"), "{text}");
        assert!(text.contains("CSeq: 2 NOTIFY"), "{text}");
    }

    #[test]
    fn large_notifies_go_over_tcp_and_expiry_ends_the_subscription() {
        let now = Instant::now();
        let mut ev = RegEvents::new("127.0.0.1:5060".into(), 0, 300);
        let raw = subscribe();
        let msg = Message::parse(&raw).unwrap();
        let peer = Peer { transport: Transport::Udp(SocketId(0)), addr: "10.0.0.9:5060".parse().unwrap() };
        let (_, first) = ev.handle_subscribe(now, &msg, 0, peer, &hss(), &|_| None);
        let first = first.unwrap();
        assert_eq!(first.peer.transport, Transport::TcpTo);
        assert!(String::from_utf8_lossy(&first.msg).contains("Via: SIP/2.0/TCP "));
        let done = ev.handle_timeout(now + Duration::from_secs(601), &|_| None);
        assert_eq!(done.len(), 1);
        assert!(String::from_utf8_lossy(&done[0].msg).contains("Subscription-State: terminated;reason=timeout"));
        assert!(ev.is_empty());
    }
}
