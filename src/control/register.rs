//! REGISTER over SIP: reads a [`RegisterInput`] out of the request, runs the
//! registrar and writes its outcome as the SIP response (TS 24.229 5.4.1.2.2
//! for the 200 OK: Contact with expires, Service-Route, Path,
//! P-Associated-URI; RFC 3261 22.4 for the 401).

use super::reply::{reply_to, Extra};
use crate::endpoint::{Peer, Transport};
use crate::ims::bindings::{seconds_left, Flow};
use crate::ims::hss::normalize_impu;
use crate::ims::register_input::{ContactInput, ContactsInput, DigestCredentials, RegisterInput};
use crate::ims::registrar::{RegisterOutcome, Registrar};
use crate::sip::{Contact, HeaderName, Message};
use std::fmt::Write;
use std::time::Instant;

fn text(b: &[u8]) -> Result<&str, &'static str> {
    std::str::from_utf8(b).map_err(|_| "header value is not UTF-8")
}

fn strip_quotes(b: &[u8]) -> &[u8] {
    match b {
        [b'"', inner @ .., b'"'] => inner,
        _ => b,
    }
}

/// The flow a request came on, as the registrar stores it.
pub fn flow_of(worker: u16, peer: Peer) -> Flow {
    let (conn, tcp, sock) = match peer.transport {
        Transport::Tcp(c) => (Some(c.0), true, 0),
        Transport::TcpTo => (None, true, 0),
        Transport::Udp(s) => (None, false, s.0),
    };
    Flow { worker, conn, peer: peer.addr, tcp, sock }
}

/// Extracts what the registrar needs; `Err` is the Warning text of a 400.
fn input<'a>(msg: &Message<'a>, impu: &'a str, flow: Flow) -> Result<RegisterInput<'a>, &'static str> {
    // RFC 3261 25.1: quoted strings must be closed, or every later parameter
    // would be read from the wrong place.
    if msg.header(HeaderName::Authorization).is_some_and(|raw| !crate::sip::scan::balanced(raw)) {
        return Err("malformed Authorization");
    }
    let auth = match msg.authorization().map_err(|_| "malformed Authorization")? {
        Some(a) if a.is_digest() => {
            let get = |k: &[u8]| a.get(k).map(strip_quotes).map(text).transpose();
            Some(DigestCredentials {
                username: get(b"username")?.unwrap_or(""),
                realm: get(b"realm")?.unwrap_or(""),
                nonce: get(b"nonce")?.unwrap_or(""),
                uri: get(b"uri")?.unwrap_or(""),
                response: get(b"response")?.unwrap_or(""),
                algorithm: get(b"algorithm")?,
                qop: get(b"qop")?,
                nc: get(b"nc")?,
                cnonce: get(b"cnonce")?,
                auts: get(b"auts")?,
            })
        }
        Some(_) => return Err("Authorization scheme is not Digest"),
        None => None,
    };
    let mut list = Vec::new();
    let mut star = false;
    let mut emergency = false;
    for c in msg.contacts() {
        match c.map_err(|_| "malformed Contact")? {
            Contact::Wildcard => star = true,
            Contact::Addr(na) => {
                // TS 24.229 5.1.6.2: the sos URI parameter marks an emergency registration.
                emergency |= na.param(b"sos").is_some() || crate::sip::scan::find_param(na.uri.params, b"sos").is_some();
                list.push(ContactInput {
                    uri: text(na.uri.raw)?,
                    expires: na.expires(),
                    q: na.q(),
                    instance: na.sip_instance().map(text).transpose()?,
                    sms: na.feature(b"+g.3gpp.smsip").is_some(),
                    video: na.feature(b"video").is_some(),
                    icsi: na.feature(b"+g.3gpp.icsi-ref").flatten().map(text).transpose()?,
                });
            }
        }
    }
    if star && !list.is_empty() {
        return Err("Contact: * with other contacts");
    }
    let mut path = Vec::new();
    for p in msg.headers_of(HeaderName::Path) {
        path.push(text(p)?);
    }
    let cseq = msg.cseq().map_err(|_| "bad CSeq")?;
    Ok(RegisterInput {
        impu,
        method: "REGISTER",
        auth,
        contacts: if star { ContactsInput::Star } else { ContactsInput::List(list) },
        expires: msg.expires().map_err(|_| "bad Expires")?,
        call_id: text(msg.call_id().map_err(|_| "bad Call-ID")?)?,
        cseq: cseq.seq,
        path,
        supports_path: msg.has_token(HeaderName::Supported, b"path"),
        emergency,
        flow,
    })
}

/// Headers a security layer adds to the answer, given the registrar's outcome (sec-agree,
/// TS 24.229 5.2.2: Security-Server in the 401).
pub type OutcomeHook<'h> = &'h mut dyn FnMut(&Registrar, &RegisterOutcome) -> Vec<(&'static str, String)>;

/// Handles a REGISTER and returns the response bytes, with `hook`'s headers added.
pub fn handle(now: Instant, registrar: &mut Registrar, msg: &Message<'_>, flow: Flow, hook: OutcomeHook<'_>) -> Vec<u8> {
    let to = match msg.to() {
        Ok(t) => t,
        Err(_) => return reply_to(msg, 400, "Bad Request", &Extra::warning("malformed To")),
    };
    let impu = normalize_impu(&String::from_utf8_lossy(to.uri.raw));
    let req = match input(msg, &impu, flow) {
        Ok(r) => r,
        Err(why) => return reply_to(msg, 400, "Bad Request", &Extra::warning(why)),
    };
    let outcome = registrar.handle_register(now, &req);
    let added = hook(registrar, &outcome);
    match outcome {
        RegisterOutcome::Challenge(ch) => {
            let mut headers = vec![("WWW-Authenticate", ch.www_authenticate())];
            headers.extend(added);
            let extra = Extra { headers, ..Extra::default() };
            reply_to(msg, 401, "Unauthorized", &extra)
        }
        RegisterOutcome::Reject { code, reason, warning } => reply_to(msg, code, reason, &Extra::warning(&warning)),
        RegisterOutcome::Ok(ok) => {
            let mut headers = Vec::new();
            if let Some(record) = &ok.record {
                for c in &record.contacts {
                    // RFC 3261 10.3 step 8: every current binding, with its expiry.
                    let mut v = format!("<{}>;expires={}", c.uri, seconds_left(now, c.expires_at));
                    if let Some(i) = &c.instance {
                        let _ = write!(v, ";+sip.instance=\"<{i}>\"");
                    }
                    headers.push(("Contact", v));
                }
            }
            if let Some(p) = &ok.path {
                headers.push(("Path", p.clone()));
            }
            headers.push(("Service-Route", ok.service_route.clone()));
            let pau: Vec<String> = ok.associated.iter().map(|u| format!("<{u}>")).collect();
            headers.push(("P-Associated-URI", pau.join(", ")));
            headers.extend(added);
            reply_to(msg, 200, "OK", &Extra { headers, ..Extra::default() })
        }
    }
}
