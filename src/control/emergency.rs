//! Emergency sessions (TS 24.229 5.2.10 for the P-CSCF role, RFC 5031
//! service URNs): recognising an emergency INVITE, telling emergency-only
//! registrations apart, and choosing where the call goes (the configured
//! `emergency_target` IMPU, else the echo service).

use crate::config::typed::Config;
use crate::ims::bindings::Bindings;
use crate::ims::hss::normalize_impu;
use std::net::SocketAddr;

/// Emergency settings resolved from the configuration (ringcore extensions
/// `emergency_target` and `emergency_numbers`, ue_db `anonymous`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Emergency {
    /// Normalised IMPU receiving emergency calls; `None`: the echo service answers.
    pub target: Option<String>,
    /// Dialled numbers treated as emergency calls.
    pub numbers: Vec<String>,
    /// Normalised IMPUs allowed to call anonymously (ue_db `anonymous`).
    pub anonymous: Vec<String>,
}

/// What to do with an initial INVITE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Not an emergency call and no emergency restriction: normal routing.
    Normal,
    /// TS 24.229 5.2.10.3: a non-emergency request over an emergency
    /// registration is refused with 403.
    Forbidden,
    /// An emergency call the caller may not place (unknown, not registered, not anonymous).
    NotAllowed,
    /// An emergency call for this registered IMPU.
    Target(String),
    /// An emergency call answered by the echo service.
    Echo,
}

/// RFC 5031 4.2: `urn:service:sos` and its sub-services `urn:service:sos.*`
/// (URNs compare case-insensitively).
pub fn is_sos_urn(ruri: &str) -> bool {
    let l = ruri.trim().to_ascii_lowercase();
    l == "urn:service:sos" || l.starts_with("urn:service:sos.")
}

/// The user part of a `tel:` or `sip:`/`sips:` URI (parameters dropped).
fn dialled(ruri: &str) -> &str {
    let r = ruri.trim();
    let rest = r.strip_prefix("tel:").or_else(|| r.strip_prefix("sip:")).or_else(|| r.strip_prefix("sips:")).unwrap_or("");
    rest.split(['@', ';']).next().unwrap_or("")
}

impl Emergency {
    /// Resolves the configuration (start-up only).
    pub fn from_config(cfg: &Config) -> Self {
        let domain = cfg.sip.domain.as_deref();
        let mut anonymous = Vec::new();
        for e in &cfg.ue_db {
            let d = e.domain_or(domain).unwrap_or("");
            anonymous.extend(e.impu.iter().filter(|i| i.anonymous).map(|i| normalize_impu(&i.public_identity(d))));
        }
        Emergency {
            target: cfg.calls.emergency_target.as_deref().map(|t| super::callflow::full(t, domain.unwrap_or(""))),
            numbers: cfg.calls.emergency_numbers.clone(),
            anonymous,
        }
    }

    /// True when `ruri` asks for emergency service: an sos URN or a configured number.
    pub fn is_emergency(&self, ruri: &str) -> bool {
        is_sos_urn(ruri) || {
            let d = dialled(ruri);
            !d.is_empty() && self.numbers.iter().any(|n| n == d)
        }
    }

    /// Decides the routing of an initial INVITE to `ruri` from `caller`
    /// (normalised From IMPU) received from `source`.
    pub fn decide(&self, ruri: &str, caller: &str, source: SocketAddr, bindings: &Bindings) -> Decision {
        let over = |emergency: bool| {
            bindings.lookup(caller).filter(|r| r.key.emergency == emergency).flat_map(|r| r.contacts.iter()).any(|c| c.flow.peer == source)
        };
        let (sos_flow, normal_flow) = (over(true), over(false));
        if !self.is_emergency(ruri) {
            // TS 24.229 5.2.10.3: "the P-CSCF shall reject [...] with 403
            // (Forbidden)" an initial request that is not an emergency
            // request when it arrives over the emergency registration only.
            return if sos_flow && !normal_flow { Decision::Forbidden } else { Decision::Normal };
        }
        // TS 24.229 5.1.6.8: emergency calls come over an emergency
        // registration, a normal one, or without registration (anonymous).
        let allowed = sos_flow || normal_flow || self.anonymous.iter().any(|a| a == caller) || (is_anonymous_uri(caller) && !self.anonymous.is_empty());
        match (&self.target, allowed) {
            (_, false) => Decision::NotAllowed,
            (Some(t), true) => Decision::Target(t.clone()),
            (None, true) => Decision::Echo,
        }
    }
}

/// RFC 3323 4.1.1.3: the anonymous From URI.
fn is_anonymous_uri(impu: &str) -> bool {
    impu.to_ascii_lowercase().starts_with("sip:anonymous@")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ims::bindings::{Contact, ContactUpdate, RecordKey};

    #[test]
    fn sos_urns_and_numbers() {
        let e = Emergency { numbers: vec!["112".into()], ..Default::default() };
        assert!(e.is_emergency("urn:service:sos"));
        assert!(e.is_emergency("URN:Service:SOS.fire"));
        assert!(!e.is_emergency("urn:service:sosx"));
        assert!(!e.is_emergency("urn:service:counseling"));
        assert!(e.is_emergency("tel:112"));
        assert!(e.is_emergency("sip:112@ims;user=phone"));
        assert!(!e.is_emergency("sip:1120@ims"));
    }

    fn bindings_with(emergency: bool, peer: SocketAddr) -> Bindings {
        let t0 = std::time::Instant::now();
        let mut b = Bindings::new(8);
        let key = RecordKey { impi: "a@ims".into(), imei: String::new(), emergency };
        let contact = Contact::udp_for_test("sip:a@10.0.0.1", t0 + std::time::Duration::from_secs(60), peer, "r");
        let u = ContactUpdate { contact, remove: false };
        b.update(t0, &key, &["sip:a@ims".into()], vec![u]).expect("binding stored");
        b
    }

    #[test]
    fn emergency_only_registration_is_restricted() {
        let peer: SocketAddr = "10.0.0.1:5060".parse().unwrap();
        let b = bindings_with(true, peer);
        let e = Emergency::default();
        assert_eq!(e.decide("sip:b@ims", "sip:a@ims", peer, &b), Decision::Forbidden);
        assert_eq!(e.decide("urn:service:sos", "sip:a@ims", peer, &b), Decision::Echo);
        let e = Emergency { target: Some("sip:psap@ims".into()), ..Default::default() };
        assert_eq!(e.decide("urn:service:sos.police", "sip:a@ims", peer, &b), Decision::Target("sip:psap@ims".into()));
        // Unknown, unregistered caller without `anonymous` in ue_db.
        assert_eq!(e.decide("urn:service:sos", "sip:anonymous@anonymous.invalid", peer, &b), Decision::NotAllowed);
        let e = Emergency { anonymous: vec!["sip:z@ims".into()], ..Default::default() };
        assert_eq!(e.decide("urn:service:sos", "sip:anonymous@anonymous.invalid", peer, &b), Decision::Echo);
    }

    #[test]
    fn normal_registration_is_not_restricted() {
        let peer: SocketAddr = "10.0.0.1:5060".parse().unwrap();
        let b = bindings_with(false, peer);
        assert_eq!(Emergency::default().decide("sip:b@ims", "sip:a@ims", peer, &b), Decision::Normal);
    }
}
