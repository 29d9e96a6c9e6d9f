//! Network-to-MS delivery (TS 24.011 7.3, TS 24.341 5.3.2.4): RP-DATA(SMS-DELIVER or
//! SMS-STATUS-REPORT) with a fresh RP-Message-Reference, one in flight per recipient, TR1M,
//! retries, expiry, and the status report of TS 23.040 9.2.2.3 when TP-SRR asked for one.

use super::clock::timestamp_of_unix;
use super::store::{DeliveryState, Stored};
use super::{Event, Recipient, Smsc, Transmit};
use crate::config::typed::FilterAction;
use crate::sms::{RpCause, RpData, RpError, StatusReport, Tpdu};
use std::collections::HashSet;
use std::time::Instant;

/// TS 23.040 9.2.3.15 TP-Status values used by this SC.
pub mod status {
    /// 0x00: short message received by the SME.
    pub const DELIVERED: u8 = 0x00;
    /// 0x40: permanent error, remote procedure error.
    pub const REMOTE_PROCEDURE_ERROR: u8 = 0x40;
    /// 0x46: permanent error, SM validity period expired.
    pub const VALIDITY_EXPIRED: u8 = 0x46;
}

/// Sets TP-MMS (TS 23.040 9.2.3.2) on a network-to-MS TPDU.
fn with_more_messages(t: Tpdu, more: bool) -> Tpdu {
    match t {
        Tpdu::Deliver(d) => Tpdu::Deliver(crate::sms::Deliver {
            more_messages: more,
            ..d
        }),
        Tpdu::StatusReport(r) => Tpdu::StatusReport(StatusReport {
            more_messages: more,
            ..r
        }),
        other => other,
    }
}

impl Smsc {
    /// The next time [`Smsc::handle_timeout`] or [`Smsc::poll_transmit`] has work: any
    /// expiry, and the attempt or TR1M of each recipient's first message (the others wait
    /// behind it, so their due times must not wake the caller).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut seen: HashSet<&str> = HashSet::new();
        self.store
            .iter()
            .map(|m| {
                if seen.insert(m.to.impi.as_str()) {
                    m.next_deadline()
                } else {
                    m.expires_at
                }
            })
            .min()
    }

    /// Drops expired messages (reporting them when asked) and turns TR1M expiries into
    /// failed attempts.
    pub fn handle_timeout(&mut self, now: Instant, unix: u64) {
        let expired: Vec<u64> = self
            .store
            .iter()
            .filter(|m| m.expires_at <= now)
            .map(|m| m.id)
            .collect();
        for id in expired {
            self.drop_message(now, unix, id, status::VALIDITY_EXPIRED);
        }
        let silent: Vec<u64> = self
            .store
            .iter()
            .filter(
                |m| matches!(m.state, DeliveryState::InFlight { deadline, .. } if deadline <= now),
            )
            .map(|m| m.id)
            .collect();
        for id in silent {
            // TS 24.011 10: TR1M ran out without RP-ACK or RP-ERROR.
            self.handle_transport_failure(now, id);
        }
    }

    /// The next RP-DATA to send: the oldest due message of a recipient with nothing in flight
    /// and `reachable(impi)`. Messages of unreachable recipients wait for their registration.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        reachable: &dyn Fn(&str) -> bool,
    ) -> Option<Transmit> {
        let mut seen: HashSet<String> = HashSet::new();
        let mut pick = None;
        for m in self.store.iter_mut() {
            // Only the first message of each recipient is a candidate: parts stay in order.
            if !seen.insert(m.to.impi.clone()) {
                continue;
            }
            let DeliveryState::Waiting(Some(due)) = m.state else {
                continue;
            };
            if due > now {
                continue;
            }
            if !reachable(&m.to.impi) {
                m.state = DeliveryState::Waiting(None);
                continue;
            }
            pick = Some(m.id);
            break;
        }
        let id = pick?;
        let rp_ref = self.rp_reference();
        let centre = self.cfg.centre;
        let deadline = now + self.cfg.ack_timeout;
        let more = {
            let to = &self.store.iter().find(|m| m.id == id)?.to.impi;
            self.store.iter().filter(|m| &m.to.impi == to).count() > 1
        };
        let m = self.store.get_mut(id)?;
        let tpdu = with_more_messages(m.tpdu, more);
        let Ok(rp) = RpData::mt(rp_ref, centre, &tpdu) else {
            // The TPDU was encodable when stored; a failure here is dropped, not retried.
            self.store.remove(id);
            self.counters.dropped += 1;
            return None;
        };
        m.state = DeliveryState::InFlight { rp_ref, deadline };
        m.attempts += 1;
        let t = Transmit {
            id,
            to: m.to.clone(),
            from: m.from.clone(),
            rp,
            tpdu,
        };
        self.counters.attempts += 1;
        Some(t)
    }

    /// `impi` registered (or freed memory): its waiting messages are due after its sms_delay.
    pub fn handle_registered(&mut self, now: Instant, impi: &str) {
        for m in self.store.iter_mut().filter(|m| m.to.impi == impi) {
            if let DeliveryState::Waiting(_) = m.state {
                m.state = DeliveryState::Waiting(Some(now + m.delay));
            }
        }
    }

    /// The transfer of message `id` failed below RP (no 2xx to the MESSAGE, TR1M): retried
    /// after `sms_retry_delay`, or when the recipient registers again.
    pub fn handle_transport_failure(&mut self, now: Instant, id: u64) {
        let retry = self.cfg.retry_delay.map(|d| now + d);
        if let Some(m) = self.store.get_mut(id) {
            if matches!(m.state, DeliveryState::InFlight { .. }) {
                m.state = DeliveryState::Waiting(retry);
                self.push_event(Event::Failed { id, cause: None });
            }
        }
    }

    /// The message in flight to `impi` with RP-Message-Reference `rp_ref`.
    fn in_flight(&self, impi: &str, rp_ref: u8) -> Option<u64> {
        self.store
            .iter()
            .find(|m| {
                m.to.impi == impi
                    && matches!(m.state, DeliveryState::InFlight { rp_ref: r, .. } if r == rp_ref)
            })
            .map(|m| m.id)
    }

    /// TS 24.011 7.3.3: the recipient acknowledged; a status report follows when asked.
    pub(super) fn on_rp_ack(&mut self, now: Instant, unix: u64, from: &super::User, rp_ref: u8) {
        if self.cfg.filter_rp_ack != FilterAction::Treat {
            return; // sms_message_filter.rp_ack: the RP-ACK is not taken; TR1M will retry.
        }
        if let Some(id) = self.in_flight(&from.impi, rp_ref) {
            self.handle_delivered(now, unix, id);
        }
    }

    /// Message `id` reached its recipient by other means than RP-ACK (a 2xx to a plain-text
    /// MESSAGE): it leaves the store and its status report follows.
    pub fn handle_delivered(&mut self, now: Instant, unix: u64, id: u64) {
        let Some(m) = self.store.remove(id) else {
            return;
        };
        self.counters.delivered += 1;
        self.push_event(Event::Delivered { id });
        self.report(now, unix, &m, status::DELIVERED);
    }

    /// TS 24.011 7.3.4: the recipient refused. #22 (memory full) waits for RP-SMMA; protocol
    /// errors (#95 and above) are permanent; anything else is retried.
    pub(super) fn on_rp_error(&mut self, now: Instant, unix: u64, from: &super::User, e: &RpError) {
        let Some(id) = self.in_flight(&from.impi, e.reference) else {
            return;
        };
        self.push_event(Event::Failed {
            id,
            cause: Some(e.cause),
        });
        match e.cause {
            RpCause::MemoryCapacityExceeded => {
                if let Some(m) = self.store.get_mut(id) {
                    m.state = DeliveryState::Waiting(None);
                }
            }
            c if c.to_u8() >= 95 => {
                self.drop_message(now, unix, id, status::REMOTE_PROCEDURE_ERROR)
            }
            _ => {
                let retry = self.cfg.retry_delay.map(|d| now + d);
                if let Some(m) = self.store.get_mut(id) {
                    m.state = DeliveryState::Waiting(retry);
                }
            }
        }
    }

    fn drop_message(&mut self, now: Instant, unix: u64, id: u64, status: u8) {
        let Some(m) = self.store.remove(id) else {
            return;
        };
        self.counters.dropped += 1;
        self.push_event(Event::Dropped { id });
        self.report(now, unix, &m, status);
    }

    /// TS 23.040 9.2.2.3: tells the originator what became of `m`, when TP-SRR asked.
    fn report(&mut self, now: Instant, unix: u64, m: &Stored, status: u8) {
        let (Some(r), Some(originator)) = (m.report, m.from.clone()) else {
            return;
        };
        let sr = StatusReport {
            more_messages: false,
            loop_prevention: false,
            command_qualifier: false,
            message_reference: r.mr,
            recipient: r.recipient,
            scts: r.scts,
            discharge_time: timestamp_of_unix(unix),
            status,
            pid: None,
            dcs: None,
            user_data: None,
        };
        let to = Recipient {
            user: originator,
            delay: std::time::Duration::ZERO,
        };
        let lifetime = self.cfg.expires;
        if self
            .enqueue(now, unix, None, to, Tpdu::StatusReport(sr), None, lifetime)
            .is_err()
        {
            self.counters.dropped += 1;
        }
    }
}
