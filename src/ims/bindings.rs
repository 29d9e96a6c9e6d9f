//! The registrar's binding table: which contacts each registered UE has, and
//! until when (RFC 3261 10.3, TS 24.229 5.4.1).
//!
//! A registration is keyed by the private identity and, for `multi_sim`
//! subscribers (several test SIMs with the same IMSI), by the IMEI the UE
//! announced in `+sip.instance`. All public identities of the subscriber form
//! one implicit registration set (TS 23.228 4.3.3.4), so they are registered
//! and de-registered together with the record. Emergency registrations
//! (TS 24.229 5.4.8) are kept in records of their own, so that an emergency
//! de-registration never touches the normal one and vice versa.
//!
//! The table is bounded (`max_records`, `MAX_CONTACTS_PER_RECORD`); expiry is
//! driven by the caller through `handle_timeout(now)` and a min-heap of
//! deadlines with lazy deletion, so no timer ever fires late by more than the
//! caller's wake-up jitter. Every change is reported through `poll_event()`
//! for the reg event package (RFC 3680) and the remote API's users_update.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::{Duration, Instant};

/// At most this many contacts in one registration record (RFC 3261 10.3 lets
/// a UA register several; a UE registers one per flow / instance).
pub const MAX_CONTACTS_PER_RECORD: usize = 8;
/// At most this many Path entries stored per contact.
pub const MAX_PATH: usize = 4;
/// At most this many pending change events before the oldest are dropped.
pub const MAX_PENDING_EVENTS: usize = 65_536;

/// Which registration of a subscriber a record is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey {
    /// The private identity (IMPI).
    pub impi: String,
    /// The IMEI for `multi_sim` subscribers, else empty.
    pub imei: String,
    /// True for an emergency registration (TS 24.229 5.4.8).
    pub emergency: bool,
}

/// Where requests for a contact must be sent: the flow the REGISTER came on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flow {
    /// The worker that owns the flow.
    pub worker: u16,
    /// The transport connection, when the REGISTER came over TCP.
    pub conn: Option<u64>,
    /// The UE's source address of the REGISTER.
    pub peer: std::net::SocketAddr,
    /// True for TCP.
    pub tcp: bool,
    /// The worker's UDP socket index the REGISTER arrived on.
    pub sock: u16,
}

/// One registered contact (RFC 3261 10.2.1) with what the UE announced with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    /// The Contact URI as the UE wrote it.
    pub uri: String,
    /// When the binding expires.
    pub expires_at: Instant,
    /// The q value in thousandths (RFC 3261 20.10), 1000 when absent.
    pub q: u16,
    /// `+sip.instance` (RFC 5626), e.g. `<urn:gsma:imei:35209900-176148-1>`.
    pub instance: Option<String>,
    /// The IMEI taken from a `urn:gsma:imei` instance.
    pub imei: Option<String>,
    /// The UE can receive SMS over IP (`+g.3gpp.smsip`, TS 24.341 5.3.1.2).
    pub sms: bool,
    /// The UE announced the `video` media feature tag (RFC 3840).
    pub video: bool,
    /// `+g.3gpp.icsi-ref` values.
    pub icsi: Vec<String>,
    /// Path header values of the REGISTER (RFC 3327), outermost first.
    pub path: Vec<String>,
    /// Call-ID of the REGISTER that last refreshed this contact.
    pub call_id: String,
    /// CSeq of that REGISTER (RFC 3261 10.3 step 7).
    pub cseq: u32,
    /// The flow it was registered on.
    pub flow: Flow,
    /// The contact's id in reginfo documents (RFC 3680 5.3: stable per contact).
    pub id: u64,
}

#[cfg(test)]
impl Contact {
    /// A test contact over UDP from `peer`: q 1.0, no instance, IMEI, features or Path.
    pub(crate) fn udp_for_test(uri: &str, expires_at: Instant, peer: std::net::SocketAddr, call_id: &str) -> Contact {
        Contact {
            uri: uri.into(),
            expires_at,
            q: 1000,
            instance: None,
            imei: None,
            sms: false,
            video: false,
            icsi: Vec::new(),
            path: Vec::new(),
            call_id: call_id.into(),
            cseq: 1,
            flow: Flow { worker: 0, conn: None, peer, tcp: false, sock: 0 },
            id: 0,
        }
    }
}

/// A registration record: the implicit registration set of one UE.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Which registration this is.
    pub key: RecordKey,
    /// The public identities registered together (TS 23.228 4.3.3.4).
    pub impus: Vec<String>,
    /// The registered contacts.
    pub contacts: Vec<Contact>,
    /// The record's id in reginfo documents and logs.
    pub id: u64,
}

/// What a REGISTER asks of one contact.
#[derive(Clone, Debug)]
pub struct ContactUpdate {
    /// The new contact; `expires_at` is the granted expiry.
    pub contact: Contact,
    /// True when the REGISTER asks to remove it (expires 0).
    pub remove: bool,
}

/// The state of a contact in a change event (RFC 3680 5.1, 5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactEvent {
    /// A new contact.
    Registered,
    /// An existing contact was refreshed.
    Refreshed,
    /// The UE removed it.
    Unregistered,
    /// Its time ran out.
    Expired,
    /// The network removed it (network-initiated de-registration, TS 24.229 5.4.1.5).
    Deactivated,
    /// The network removed it and the UE should not register again at once.
    Rejected,
}

/// A change to the table, for reginfo NOTIFYs and API events.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// The record as it stands after the change (without the removed contacts).
    pub record: Record,
    /// The contacts that changed and how.
    pub contacts: Vec<(Contact, ContactEvent)>,
}

/// Why an update was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingError {
    /// RFC 3261 10.3 step 7: the same Call-ID with a CSeq not higher than stored.
    OutOfOrder,
    /// The table is full (`max_records`).
    TableFull,
    /// The record would have more than `MAX_CONTACTS_PER_RECORD` contacts.
    TooManyContacts,
}

/// The binding table.
#[derive(Debug)]
pub struct Bindings {
    records: HashMap<RecordKey, Record>,
    /// IMPU → records that registered it (usually one; several for multi_sim).
    by_impu: HashMap<String, Vec<RecordKey>>,
    deadlines: BinaryHeap<Reverse<(Instant, RecordKey)>>,
    events: VecDeque<Change>,
    dropped_events: u64,
    max_records: usize,
    next_id: u64,
}

impl Bindings {
    /// An empty table that holds at most `max_records` registrations.
    pub fn new(max_records: usize) -> Self {
        Bindings {
            records: HashMap::with_capacity(max_records.min(1 << 16)),
            by_impu: HashMap::with_capacity(max_records.min(1 << 16)),
            deadlines: BinaryHeap::new(),
            events: VecDeque::new(),
            dropped_events: 0,
            max_records,
            next_id: 1,
        }
    }

    /// Number of registration records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Number of registered contacts over all records.
    pub fn contact_count(&self) -> usize {
        self.records.values().map(|r| r.contacts.len()).sum()
    }

    /// A record by key.
    pub fn get(&self, key: &RecordKey) -> Option<&Record> {
        self.records.get(key)
    }

    /// Every record, in no particular order.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.records.values()
    }

    /// The records in which `impu` is registered.
    pub fn lookup(&self, impu: &str) -> impl Iterator<Item = &Record> {
        self.by_impu.get(impu).into_iter().flatten().filter_map(|k| self.records.get(k))
    }

    /// A fresh id for a contact or record.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Applies the contacts of one REGISTER (RFC 3261 10.3 steps 6-8) to the
    /// record `key`, creating it with `impus` when new. All updates are checked
    /// before any is applied, so a refused REGISTER changes nothing. Returns
    /// the record after the change, or None when no contact is left.
    pub fn update(
        &mut self,
        now: Instant,
        key: &RecordKey,
        impus: &[String],
        updates: Vec<ContactUpdate>,
    ) -> Result<Option<&Record>, BindingError> {
        let existing = self.records.get(key);
        if existing.is_none() && self.records.len() >= self.max_records {
            return Err(BindingError::TableFull);
        }
        let current: &[Contact] = existing.map(|r| r.contacts.as_slice()).unwrap_or(&[]);
        check_updates(current, &updates)?;
        let mut record = match self.records.remove(key) {
            Some(r) => r,
            None => {
                let id = self.next_id();
                Record { key: key.clone(), impus: impus.to_vec(), contacts: Vec::new(), id }
            }
        };
        let mut changed = Vec::with_capacity(updates.len());
        for u in updates {
            apply_update(&mut record, u, &mut changed, &mut self.next_id);
        }
        self.finish(now, record, changed);
        // None when the REGISTER removed the last contact.
        Ok(self.records.get(key))
    }

    /// Puts back a record read from the state file (`persist`), with fresh
    /// ids; false when the table is full or the key already exists.
    pub fn restore(&mut self, now: Instant, mut record: Record) -> bool {
        if self.records.contains_key(&record.key) || self.records.len() >= self.max_records {
            return false;
        }
        record.id = self.next_id();
        for c in &mut record.contacts {
            c.id = self.next_id();
        }
        record.contacts.truncate(MAX_CONTACTS_PER_RECORD);
        self.finish(now, record, Vec::new());
        true
    }

    /// Removes every contact of `key` (a `Contact: *` REGISTER with expires 0,
    /// or a network-initiated de-registration with `event`).
    pub fn remove_all(&mut self, now: Instant, key: &RecordKey, event: ContactEvent) -> bool {
        let Some(mut record) = self.records.remove(key) else { return false };
        let changed = record.contacts.drain(..).map(|c| (c, event)).collect();
        self.finish(now, record, changed);
        true
    }

    /// The next instant at which a contact expires.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.peek().map(|Reverse((t, _))| *t)
    }

    /// Removes the contacts whose time has run out (RFC 3261 10.3: a binding
    /// is removed when its expiration interval elapses).
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((t, _))) = self.deadlines.peek() {
            if *t > now {
                break;
            }
            let Some(Reverse((_, key))) = self.deadlines.pop() else { break };
            let Some(mut record) = self.records.remove(&key) else { continue };
            let (expired, kept): (Vec<_>, Vec<_>) = record.contacts.drain(..).partition(|c| c.expires_at <= now);
            record.contacts = kept;
            if expired.is_empty() {
                // A stale heap entry: the contact was refreshed since.
                self.records.insert(key, record);
                continue;
            }
            let changed = expired.into_iter().map(|c| (c, ContactEvent::Expired)).collect();
            self.finish(now, record, changed);
        }
    }

    /// The next change, for NOTIFYs and API events.
    pub fn poll_event(&mut self) -> Option<Change> {
        self.events.pop_front()
    }

    /// Change events dropped because nobody polled them in time.
    pub fn dropped_events(&self) -> u64 {
        self.dropped_events
    }

    /// Puts `record` back (or drops it when it has no contact left), indexes
    /// it, schedules its earliest expiry and queues the change event.
    fn finish(&mut self, now: Instant, record: Record, changed: Vec<(Contact, ContactEvent)>) {
        let key = record.key.clone();
        if let Some(t) = record.contacts.iter().map(|c| c.expires_at).min() {
            self.deadlines.push(Reverse((t.max(now), key.clone())));
        }
        if !changed.is_empty() {
            if self.events.len() >= MAX_PENDING_EVENTS {
                self.events.pop_front();
                self.dropped_events += 1;
            }
            self.events.push_back(Change { record: record.clone(), contacts: changed });
        }
        if record.contacts.is_empty() {
            self.unindex(&record);
        } else {
            self.index(&record);
            self.records.insert(key, record);
        }
    }

    fn index(&mut self, record: &Record) {
        for impu in &record.impus {
            let keys = self.by_impu.entry(impu.clone()).or_default();
            if !keys.contains(&record.key) {
                keys.push(record.key.clone());
            }
        }
    }

    fn unindex(&mut self, record: &Record) {
        for impu in &record.impus {
            if let Some(keys) = self.by_impu.get_mut(impu) {
                keys.retain(|k| k != &record.key);
                if keys.is_empty() {
                    self.by_impu.remove(impu);
                }
            }
        }
    }
}

/// RFC 3261 10.3 step 7 and the table's bounds, checked before any change.
fn check_updates(current: &[Contact], updates: &[ContactUpdate]) -> Result<(), BindingError> {
    let mut count = current.len();
    for u in updates {
        match current.iter().find(|c| same_contact(c, &u.contact)) {
            Some(old) if old.call_id == u.contact.call_id && u.contact.cseq <= old.cseq => {
                return Err(BindingError::OutOfOrder);
            }
            Some(_) => {}
            None if !u.remove => count += 1,
            None => {}
        }
    }
    if count > MAX_CONTACTS_PER_RECORD {
        return Err(BindingError::TooManyContacts);
    }
    Ok(())
}

/// RFC 5626 / RFC 3261 10.3 step 6: contacts are the same when their instance
/// ids are equal, or, without instance ids, when their URIs are.
fn same_contact(a: &Contact, b: &Contact) -> bool {
    match (&a.instance, &b.instance) {
        (Some(x), Some(y)) => x == y,
        _ => a.uri.eq_ignore_ascii_case(&b.uri),
    }
}

fn apply_update(record: &mut Record, u: ContactUpdate, changed: &mut Vec<(Contact, ContactEvent)>, ids: &mut u64) {
    let pos = record.contacts.iter().position(|c| same_contact(c, &u.contact));
    match (pos, u.remove) {
        (Some(i), true) => {
            let old = record.contacts.remove(i);
            changed.push((old, ContactEvent::Unregistered));
        }
        (None, true) => {}
        (Some(i), false) => {
            let mut c = u.contact;
            c.id = record.contacts[i].id;
            record.contacts[i] = c.clone();
            changed.push((c, ContactEvent::Refreshed));
        }
        (None, false) => {
            let mut c = u.contact;
            *ids += 1;
            c.id = *ids;
            record.contacts.push(c.clone());
            changed.push((c, ContactEvent::Registered));
        }
    }
}

/// Clamps a requested expiry (RFC 3261 10.3 step 8): 0 stays 0 (removal),
/// otherwise at most `max`; absent → `default`.
pub fn grant_expires(requested: Option<u32>, default: u32, max: u32) -> u32 {
    match requested {
        Some(0) => 0,
        Some(v) => v.min(max),
        None => default.min(max),
    }
}

/// The seconds left until `at`, rounded up, as reported in Contact expires.
pub fn seconds_left(now: Instant, at: Instant) -> u32 {
    let d = at.saturating_duration_since(now);
    (d + Duration::from_nanos(999_999_999)).as_secs().min(u32::MAX as u64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(impi: &str) -> RecordKey {
        RecordKey { impi: impi.into(), imei: String::new(), emergency: false }
    }

    fn contact(uri: &str, now: Instant, secs: u64, call_id: &str, cseq: u32) -> Contact {
        let peer = "127.0.0.1:5060".parse().expect("literal address");
        Contact { cseq, ..Contact::udp_for_test(uri, now + Duration::from_secs(secs), peer, call_id) }
    }

    fn add(c: Contact) -> Vec<ContactUpdate> {
        vec![ContactUpdate { contact: c, remove: false }]
    }

    #[test]
    fn register_refresh_and_lookup_by_every_impu() {
        let t0 = Instant::now();
        let mut b = Bindings::new(10);
        let impus = vec!["sip:a@d".to_string(), "tel:+1555".to_string()];
        b.update(t0, &key("a"), &impus, add(contact("sip:a@1.2.3.4", t0, 600, "x", 1))).unwrap();
        assert_eq!(b.lookup("tel:+1555").count(), 1);
        assert_eq!(b.poll_event().unwrap().contacts[0].1, ContactEvent::Registered);
        b.update(t0, &key("a"), &impus, add(contact("sip:a@1.2.3.4", t0, 1200, "x", 2))).unwrap();
        let ev = b.poll_event().unwrap();
        assert_eq!(ev.contacts[0].1, ContactEvent::Refreshed);
        assert_eq!(b.contact_count(), 1);
        assert_eq!(b.get(&key("a")).unwrap().contacts[0].expires_at, t0 + Duration::from_secs(1200));
    }

    #[test]
    fn out_of_order_cseq_is_refused_without_change() {
        let t0 = Instant::now();
        let mut b = Bindings::new(10);
        b.update(t0, &key("a"), &[], add(contact("sip:a@h", t0, 600, "x", 5))).unwrap();
        let err = b.update(t0, &key("a"), &[], add(contact("sip:a@h", t0, 9, "x", 5))).unwrap_err();
        assert_eq!(err, BindingError::OutOfOrder);
        assert_eq!(b.get(&key("a")).unwrap().contacts[0].cseq, 5);
    }

    #[test]
    fn expiry_removes_only_due_contacts_and_reports_expired() {
        let t0 = Instant::now();
        let mut b = Bindings::new(10);
        let impus = vec!["sip:a@d".to_string()];
        let ups = vec![
            ContactUpdate { contact: contact("sip:a@1", t0, 10, "x", 1), remove: false },
            ContactUpdate { contact: contact("sip:a@2", t0, 20, "x", 1), remove: false },
        ];
        b.update(t0, &key("a"), &impus, ups).unwrap();
        b.poll_event();
        assert_eq!(b.poll_timeout(), Some(t0 + Duration::from_secs(10)));
        b.handle_timeout(t0 + Duration::from_secs(10));
        let ev = b.poll_event().unwrap();
        assert_eq!(ev.contacts.len(), 1);
        assert_eq!(ev.contacts[0].1, ContactEvent::Expired);
        assert_eq!(b.contact_count(), 1);
        b.handle_timeout(t0 + Duration::from_secs(20));
        assert!(b.is_empty());
        assert_eq!(b.lookup("sip:a@d").count(), 0);
    }

    #[test]
    fn removal_and_remove_all() {
        let t0 = Instant::now();
        let mut b = Bindings::new(10);
        b.update(t0, &key("a"), &["sip:a@d".into()], add(contact("sip:a@1", t0, 10, "x", 1))).unwrap();
        let gone = b.update(t0, &key("a"), &[], vec![ContactUpdate { contact: contact("sip:a@1", t0, 0, "x", 2), remove: true }]).unwrap();
        assert!(gone.is_none());
        assert!(b.is_empty());
        b.update(t0, &key("b"), &["sip:b@d".into()], add(contact("sip:b@1", t0, 10, "y", 1))).unwrap();
        assert!(b.remove_all(t0, &key("b"), ContactEvent::Deactivated));
        let last = std::iter::from_fn(|| b.poll_event()).last().unwrap();
        assert_eq!(last.contacts[0].1, ContactEvent::Deactivated);
        assert!(b.is_empty());
    }

    #[test]
    fn bounds_hold() {
        let t0 = Instant::now();
        let mut b = Bindings::new(1);
        b.update(t0, &key("a"), &[], add(contact("sip:a@1", t0, 10, "x", 1))).unwrap();
        assert_eq!(b.update(t0, &key("b"), &[], add(contact("sip:b@1", t0, 10, "x", 1))).unwrap_err(), BindingError::TableFull);
        let many: Vec<_> = (0..=MAX_CONTACTS_PER_RECORD)
            .map(|i| ContactUpdate { contact: contact(&format!("sip:a@h{i}"), t0, 10, "z", 1), remove: false })
            .collect();
        assert_eq!(b.update(t0, &key("a"), &[], many).unwrap_err(), BindingError::TooManyContacts);
    }

    #[test]
    fn grant_expires_clamps() {
        assert_eq!(grant_expires(None, 3600, 864000), 3600);
        assert_eq!(grant_expires(Some(0), 3600, 864000), 0);
        assert_eq!(grant_expires(Some(999_999_999), 3600, 864000), 864000);
    }
}
