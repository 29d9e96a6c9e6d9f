//! Which registered contact a request terminating at a public identity goes to: the
//! B2BUA's INVITE to the callee, an MT call placed by IMPU and an SMS delivered to a UE.
//!
//! The rules, in order:
//! - seed 000 `ue_db.impu.imei` (multi_sim subscribers, several UEs sharing one IMSI):
//!   only the UE that registered with that IMEI is a candidate ("allows to filter calls
//!   and SMS for a specific UE"). IMEIs are compared on their first 14 digits (TAC and
//!   serial number, TS 23.003 6.2.1), so an IMEI with its check digit or an IMEISV
//!   matches the 14 digits of a `urn:gsma:imei` instance (RFC 7254 4).
//! - Contacts of a normal registration come before those of an emergency registration
//!   (TS 24.229 5.4.8): the latter are used only when the identity has no other, which
//!   lets a PSAP call-back (TS 23.167 6.2.1) reach a UE that registered for emergency only.
//! - Among the candidates the highest q wins (RFC 3261 16.6 step 1: q orders targets),
//!   then the latest expiry, i.e. the binding refreshed last, the one most likely still
//!   in use when a UE left a stale binding behind (a new address after a reboot).

use super::bindings::{Bindings, Contact, Record};

/// True when IMEIs `a` and `b` name the same device (their first 14 digits agree).
pub fn same_imei(a: &str, b: &str) -> bool {
    a.get(..14).is_some_and(|x| b.get(..14) == Some(x))
}

/// The IMEI a contact was registered with: the record's (multi_sim registrations are
/// keyed by it) or the contact's own `+sip.instance`.
fn imei_of<'a>(record: &'a Record, contact: &'a Contact) -> Option<&'a str> {
    let keyed = Some(record.key.imei.as_str()).filter(|i| !i.is_empty());
    keyed.or(contact.imei.as_deref())
}

/// True when `contact` of `record` passes the `imei` filter (None: every contact does).
pub fn from_ue(record: &Record, contact: &Contact, imei: Option<&str>) -> bool {
    imei.map_or(true, |want| imei_of(record, contact).is_some_and(|have| same_imei(want, have)))
}

/// The contact a request terminating at `impu` (normalised) goes to, as the module doc
/// says; `imei` is the IMPU's configured IMEI (None: no filter). None when no UE of
/// `impu` (or none with that IMEI) is registered.
pub fn contact<'a>(bindings: &'a Bindings, impu: &str, imei: Option<&str>) -> Option<&'a Contact> {
    candidates(bindings, impu, imei, |_| true).into_iter().next()
}

/// The contacts of the best kind for `impu` (normal registrations, else emergency ones)
/// in groups of equal q, the highest q first, each group the binding refreshed last
/// first: the order in which a B2BUA tries them (RFC 3261 16.6 step 1: the targets of one
/// group at once, a group once every target of the one before failed). Empty when none
/// is registered.
pub fn groups<'a>(bindings: &'a Bindings, impu: &str, imei: Option<&str>) -> Vec<Vec<&'a Contact>> {
    let mut out: Vec<Vec<&'a Contact>> = Vec::new();
    // Sorted by q, highest first: a new q starts a new group.
    for c in candidates(bindings, impu, imei, |_| true) {
        match out.last_mut() {
            Some(g) if g.first().is_some_and(|f| f.q == c.q) => g.push(c),
            _ => out.push(vec![c]),
        }
    }
    out
}

/// [`contact`] among emergency registrations only (seed 000 `mt_call.sos`: "will only
/// try to reach emergency registered UEs").
pub fn emergency_contact<'a>(bindings: &'a Bindings, impu: &str, imei: Option<&str>) -> Option<&'a Contact> {
    candidates(bindings, impu, imei, |r| r.key.emergency).into_iter().next()
}

/// The contacts of `impu`'s records that `records` accepts and that pass the `imei`
/// filter, of the best kind (normal registrations before emergency ones), sorted by q,
/// highest first, then by expiry, latest first.
fn candidates<'a>(bindings: &'a Bindings, impu: &str, imei: Option<&str>, records: impl Fn(&Record) -> bool) -> Vec<&'a Contact> {
    let mut all: Vec<(bool, &'a Contact)> = bindings
        .lookup(impu)
        .filter(|r| records(r))
        .flat_map(|r| r.contacts.iter().filter(move |c| from_ue(r, c, imei)).map(move |c| (!r.key.emergency, c)))
        .collect();
    let Some(kind) = all.iter().map(|(normal, _)| *normal).max() else { return Vec::new() };
    all.retain(|(normal, _)| *normal == kind);
    all.sort_by_key(|(_, c)| std::cmp::Reverse((c.q, c.expires_at)));
    all.into_iter().map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ims::bindings::{ContactUpdate, RecordKey};
    use std::time::{Duration, Instant};

    const IMPU: &str = "sip:alice@ims.test";

    fn key(imei: &str, emergency: bool) -> RecordKey {
        RecordKey { impi: "alice@ims.test".into(), imei: imei.into(), emergency }
    }

    /// A binding table on a fixed clock.
    struct Reg {
        b: Bindings,
        t0: Instant,
    }

    impl Reg {
        fn new() -> Reg {
            Reg { b: Bindings::new(10), t0: Instant::now() }
        }

        /// Registers contact `uri` (q in thousandths, `secs` to live) under record `k`.
        fn add(&mut self, k: RecordKey, uri: &str, q: u16, secs: u64) {
            let peer = "127.0.0.1:5060".parse().expect("literal address");
            // One REGISTER dialog per contact; a later refresh has a longer life, so its CSeq grows.
            let c = Contact { q, cseq: secs as u32, ..Contact::udp_for_test(uri, self.t0 + Duration::from_secs(secs), peer, uri) };
            self.store(k, c);
        }

        fn store(&mut self, k: RecordKey, c: Contact) {
            self.b.update(self.t0, &k, &[IMPU.to_string()], vec![ContactUpdate { contact: c, remove: false }]).expect("room for the record");
        }

        /// The URI [`contact`] picks for IMPU with `imei`.
        fn chosen(&self, imei: Option<&str>) -> Option<String> {
            contact(&self.b, IMPU, imei).map(|c| c.uri.clone())
        }
    }

    #[test]
    fn highest_q_then_latest_refresh() {
        let mut r = Reg::new();
        r.add(key("", false), "sip:old@10.0.0.1", 1000, 600);
        r.add(key("", false), "sip:new@10.0.0.2", 1000, 3600);
        assert_eq!(r.chosen(None).as_deref(), Some("sip:new@10.0.0.2"), "equal q: the binding refreshed last");
        r.add(key("", false), "sip:low@10.0.0.3", 500, 7200);
        r.add(key("", false), "sip:old@10.0.0.1", 1000, 9000);
        assert_eq!(r.chosen(None).as_deref(), Some("sip:old@10.0.0.1"), "q before expiry");
        let order: Vec<Vec<&str>> = groups(&r.b, IMPU, None).iter().map(|g| g.iter().map(|c| c.uri.as_str()).collect()).collect();
        assert_eq!(order.first().map(Vec::as_slice), Some(&["sip:old@10.0.0.1", "sip:new@10.0.0.2"][..]), "the contacts of the best q, latest expiry first");
        assert_eq!(order, [vec!["sip:old@10.0.0.1", "sip:new@10.0.0.2"], vec!["sip:low@10.0.0.3"]], "then the lower q (serial search)");
        assert_eq!(contact(&r.b, "sip:nobody@ims.test", None), None);
    }

    #[test]
    fn imei_filter_picks_the_ue_of_that_imei() {
        let mut r = Reg::new();
        r.add(key("35209900176148", false), "sip:ue1@10.0.0.1", 1000, 600);
        r.add(key("35209900176149", false), "sip:ue2@10.0.0.2", 1000, 3600);
        assert_eq!(r.chosen(None).as_deref(), Some("sip:ue2@10.0.0.2"));
        // With the check digit (15 digits) and as an IMEISV (16 digits).
        assert_eq!(r.chosen(Some("352099001761487")).as_deref(), Some("sip:ue1@10.0.0.1"));
        assert_eq!(r.chosen(Some("3520990017614801")).as_deref(), Some("sip:ue1@10.0.0.1"));
        assert_eq!(r.chosen(Some("35209900176149")).as_deref(), Some("sip:ue2@10.0.0.2"));
        assert_eq!(r.chosen(Some("35209900176140")), None, "that UE is not registered");
    }

    #[test]
    fn imei_filter_reads_the_contact_instance_too() {
        let mut r = Reg::new();
        let peer = "127.0.0.1:5060".parse().expect("literal address");
        // Not multi_sim (no IMEI in the record key), the IMEI of its +sip.instance.
        let c = Contact { imei: Some("35209900176148".into()), ..Contact::udp_for_test("sip:ue@10.0.0.1", r.t0 + Duration::from_secs(600), peer, "x") };
        r.store(key("", false), c);
        assert_eq!(r.chosen(Some("35209900176148")).as_deref(), Some("sip:ue@10.0.0.1"));
        assert_eq!(r.chosen(Some("35209900176149")), None);
    }

    #[test]
    fn emergency_registration_only_as_a_last_resort() {
        let mut r = Reg::new();
        r.add(key("", true), "sip:sos@10.0.0.9", 1000, 9000);
        assert_eq!(r.chosen(None).as_deref(), Some("sip:sos@10.0.0.9"), "PSAP call-back: the only registration");
        r.add(key("", false), "sip:normal@10.0.0.1", 100, 60);
        assert_eq!(r.chosen(None).as_deref(), Some("sip:normal@10.0.0.1"), "a normal registration wins whatever its q");
        assert_eq!(groups(&r.b, IMPU, None).len(), 1, "the emergency registration is no later target either");
        let sos = emergency_contact(&r.b, IMPU, None).map(|c| c.uri.as_str());
        assert_eq!(sos, Some("sip:sos@10.0.0.9"), "mt_call sos: the emergency registration only");
        assert_eq!(emergency_contact(&r.b, IMPU, Some("35209900176148")), None, "the IMEI filter applies to it too");
    }
}
