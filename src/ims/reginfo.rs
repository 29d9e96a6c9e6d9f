//! The reg event package document, `application/reginfo+xml` (RFC 3680 5.3),
//! with the content TS 24.229 5.4.2.1.2 requires of an S-CSCF: one
//! `<registration>` element per public identity of the implicit registration
//! set, each listing the contacts with their state and the event that led
//! there. ringcore always sends full state (`state="full"`), which every
//! subscriber (UE, P-CSCF, AS) understands.

use super::bindings::{seconds_left, Contact, ContactEvent, Record};
use std::fmt::Write;
use std::time::Instant;

/// Upper bound on the size of one reginfo document; a record has at most
/// `MAX_CONTACTS_PER_RECORD` contacts and a bounded number of IMPUs, so this
/// is never reached in practice and is checked by the caller's writer.
pub const MAX_REGINFO_LEN: usize = 16 * 1024;

/// The state of the whole registration of an AoR (RFC 3680 5.3 `state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegState {
    /// Not registered yet (no contact ever).
    Init,
    /// At least one active contact.
    Active,
    /// No contact left.
    Terminated,
}

impl RegState {
    fn as_str(self) -> &'static str {
        match self {
            RegState::Init => "init",
            RegState::Active => "active",
            RegState::Terminated => "terminated",
        }
    }
}

impl ContactEvent {
    /// The `event` attribute value of RFC 3680 5.3.
    pub fn as_str(self) -> &'static str {
        match self {
            ContactEvent::Registered => "registered",
            ContactEvent::Refreshed => "refreshed",
            ContactEvent::Unregistered => "unregistered",
            ContactEvent::Expired => "expired",
            ContactEvent::Deactivated => "deactivated",
            ContactEvent::Rejected => "rejected",
        }
    }

    /// Whether the contact is still active after this event.
    pub fn is_active(self) -> bool {
        matches!(self, ContactEvent::Registered | ContactEvent::Refreshed)
    }
}

/// Writes the full reginfo document for `record` as it stands, plus the
/// contacts in `removed` (terminated, with their event), at `version`.
/// `identities` are the AoRs to report (the implicit set, TS 24.229 5.4.2.1.2).
pub fn write_reginfo(
    out: &mut String,
    now: Instant,
    version: u32,
    identities: &[String],
    record: Option<&Record>,
    changed: &[(Contact, ContactEvent)],
) {
    out.clear();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"{version}\" state=\"full\">");
    let active: &[Contact] = record.map(|r| r.contacts.as_slice()).unwrap_or(&[]);
    let state = if !active.is_empty() {
        RegState::Active
    } else if changed.is_empty() {
        RegState::Init
    } else {
        RegState::Terminated
    };
    let rid = record.map(|r| r.id).unwrap_or(0);
    for (n, aor) in identities.iter().enumerate() {
        out.push_str(" <registration aor=\"");
        escape_into(out, aor);
        let _ = writeln!(out, "\" id=\"r{rid}x{n}\" state=\"{}\">", state.as_str());
        for c in active {
            let event = changed.iter().find(|(x, _)| x.id == c.id).map(|(_, e)| *e).unwrap_or(ContactEvent::Registered);
            write_contact(out, now, c, "active", event);
        }
        for (c, e) in changed.iter().filter(|(_, e)| !e.is_active()) {
            write_contact(out, now, c, "terminated", *e);
        }
        out.push_str(" </registration>\n");
    }
    out.push_str("</reginfo>\n");
}

fn write_contact(out: &mut String, now: Instant, c: &Contact, state: &str, event: ContactEvent) {
    let _ = write!(out, "  <contact id=\"c{}\" state=\"{state}\" event=\"{}\"", c.id, event.as_str());
    if state == "active" {
        let _ = write!(out, " expires=\"{}\"", seconds_left(now, c.expires_at));
    }
    if c.q != 1000 {
        let _ = write!(out, " q=\"{}.{:03}\"", c.q / 1000, c.q % 1000);
    }
    out.push_str(">\n   <uri>");
    escape_into(out, &c.uri);
    out.push_str("</uri>\n");
    if let Some(instance) = &c.instance {
        // RFC 3680 5.3: contact parameters go in unknown-param elements.
        out.push_str("   <unknown-param name=\"+sip.instance\">");
        escape_into(out, instance);
        out.push_str("</unknown-param>\n");
    }
    out.push_str("  </contact>\n");
}

/// XML character escaping for attribute and text content.
fn escape_into(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ims::bindings::{Flow, RecordKey};
    use std::time::Duration;

    fn contact(id: u64, now: Instant) -> Contact {
        Contact {
            uri: "sip:001010123456789@10.0.0.2:5060;transport=udp".into(),
            expires_at: now + Duration::from_secs(600),
            q: 1000,
            instance: Some("<urn:gsma:imei:35209900-176148-1>".into()),
            imei: Some("35209900176148".into()),
            sms: true,
            video: false,
            icsi: vec![],
            path: vec![],
            call_id: "c1".into(),
            cseq: 1,
            flow: Flow { worker: 0, conn: None, peer: "10.0.0.2:5060".parse().unwrap(), tcp: false, sock: 0 },
            id,
        }
    }

    #[test]
    fn full_state_document_lists_every_identity_and_escapes() {
        let now = Instant::now();
        let key = RecordKey { impi: "001010123456789@ims".into(), imei: String::new(), emergency: false };
        let c = contact(7, now);
        let record = Record { key, impus: vec![], contacts: vec![c.clone()], id: 3 };
        let ids = vec!["sip:001010123456789@ims.mnc001.mcc001.3gppnetwork.org".to_string(), "tel:+33&1".to_string()];
        let mut out = String::new();
        write_reginfo(&mut out, now, 4, &ids, Some(&record), &[(c, ContactEvent::Registered)]);
        assert!(out.contains("version=\"4\" state=\"full\""));
        assert_eq!(out.matches("<registration ").count(), 2);
        assert!(out.contains("aor=\"tel:+33&amp;1\""));
        assert!(out.contains("state=\"active\" event=\"registered\" expires=\"600\""));
        assert!(out.contains("&lt;urn:gsma:imei:35209900-176148-1&gt;"));
    }

    #[test]
    fn removed_contacts_are_terminated_with_their_event() {
        let now = Instant::now();
        let c = contact(9, now);
        let mut out = String::new();
        let ids = vec!["sip:u@d".to_string()];
        write_reginfo(&mut out, now, 1, &ids, None, &[(c, ContactEvent::Deactivated)]);
        assert!(out.contains("state=\"terminated\">"), "{out}");
        assert!(out.contains("id=\"c9\" state=\"terminated\" event=\"deactivated\""), "{out}");
        assert!(!out.contains("expires="));
    }
}
