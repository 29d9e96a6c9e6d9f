//! MS-to-network messages (TS 24.011 7.3, TS 24.341 5.3.2): RP-DATA(SMS-SUBMIT) is validated,
//! stored and acknowledged; undecodable messages get the RP-ERROR of TS 24.011 clause 9.

use super::clock::{timestamp_of_unix, unix_of_timestamp};
use super::party::tp_address_of_impu;
use super::store::{DeliveryState, ReportRequest, Stored};
use super::{Event, Recipient, Smsc, User};
use crate::config::typed::FilterAction;
use crate::sms::{
    Deliver, EnhancedVp, RpAck, RpCause, RpData, RpDirection, RpError, RpMessage, Submit,
    TpAddress, Tpdu, ValidityPeriod,
};
use std::time::{Duration, Instant};

/// Resolves a TP-DA to a served user (None: no such subscriber).
pub type Resolve<'a> = &'a dyn Fn(&TpAddress) -> Option<Recipient>;

impl Smsc {
    /// An MS-to-network RP message `body` from `from` (the body of a MESSAGE with
    /// `application/vnd.3gpp.sms`). Returns the RP-ACK / RP-ERROR to send back, if any.
    pub fn handle_mo(
        &mut self,
        now: Instant,
        unix: u64,
        from: &User,
        body: &[u8],
        resolve: Resolve<'_>,
    ) -> Option<RpMessage> {
        // TS 24.011 9.2: a network only receives even message types; the others are #97.
        let msg = match RpMessage::parse_directed(body, RpDirection::MsToNetwork) {
            Ok(m) => m,
            Err(e) => {
                self.counters.decode_errors += 1;
                let cause = self.cause(e.rp_cause());
                return RpMessage::error_response(body, &e).map(|m| self.refused(m, cause));
            }
        };
        match msg {
            RpMessage::Data(d) => self.on_rp_data(now, unix, from, &d, resolve),
            RpMessage::Ack(a) => {
                self.on_rp_ack(now, unix, from, a.reference);
                None
            }
            RpMessage::Error(e) => {
                self.on_rp_error(now, unix, from, &e);
                None
            }
            RpMessage::Smma(s) => {
                // TS 24.011 7.3.2: the MS has memory again; its waiting messages are due.
                self.handle_registered(now, &from.impi);
                Some(ack(s.reference))
            }
        }
    }

    /// The RP-ERROR `m` with `cause` in place of its own, counted.
    fn refused(&mut self, m: RpMessage, cause: RpCause) -> RpMessage {
        self.counters.refused += 1;
        self.push_event(Event::Refused { cause });
        match m {
            RpMessage::Error(e) => RpMessage::Error(RpError { cause, ..e }),
            other => other,
        }
    }

    fn refuse(&mut self, reference: u8, cause: RpCause) -> RpMessage {
        let cause = self.cause(cause);
        let e = RpError {
            direction: RpDirection::NetworkToMs,
            reference,
            cause,
            diagnostic: None,
            user_data: None,
        };
        self.refused(RpMessage::Error(e), cause)
    }

    fn on_rp_data(
        &mut self,
        now: Instant,
        unix: u64,
        from: &User,
        d: &RpData,
        resolve: Resolve<'_>,
    ) -> Option<RpMessage> {
        match self.cfg.filter_rp_data {
            FilterAction::Treat => {}
            FilterAction::Ignore => return None,
            FilterAction::Reject => {
                return Some(self.refuse(d.reference, RpCause::ShortMessageTransferRejected))
            }
        }
        let tpdu = match d.tpdu() {
            Ok(t) => t,
            Err(e) => {
                self.counters.decode_errors += 1;
                return Some(self.refuse(d.reference, e.rp_cause()));
            }
        };
        let result = match tpdu {
            Tpdu::Submit(s) => self.accept_submit(now, unix, from, &s, resolve),
            // TS 23.040 9.2.2.4: SMS-COMMAND (enquiry, cancel) is not offered by this SC.
            Tpdu::Command(_) => Err(RpCause::FacilityNotImplemented),
            _ => Err(RpCause::MessageTypeNonExistent),
        };
        match result {
            Ok(_) => {
                self.counters.submitted += 1;
                Some(ack(d.reference))
            }
            Err(cause) => Some(self.refuse(d.reference, cause)),
        }
    }

    /// TS 23.040 9.2.2.2: an SMS-SUBMIT becomes an SMS-DELIVER for the TP-DA's user.
    fn accept_submit(
        &mut self,
        now: Instant,
        unix: u64,
        from: &User,
        s: &Submit,
        resolve: Resolve<'_>,
    ) -> Result<u64, RpCause> {
        // TS 24.011 Table 8.4: #1 for a destination the network does not know.
        let to = resolve(&s.destination).ok_or(RpCause::UnassignedNumber)?;
        // TS 23.040 9.2.3.25: TP-RD asks to reject a duplicate of a message still held.
        let key = (s.message_reference, s.destination);
        let held = |m: &Stored| {
            m.submit == Some(key) && m.from.as_ref().is_some_and(|u| u.impi == from.impi)
        };
        if s.reject_duplicates && self.store.iter().any(held) {
            return Err(RpCause::ShortMessageTransferRejected);
        }
        let scts = timestamp_of_unix(unix);
        let deliver = Deliver {
            more_messages: false,
            loop_prevention: false,
            status_report_indication: s.status_report_request,
            reply_path: false,
            originator: tp_address_of_impu(&from.impu),
            pid: s.pid,
            dcs: s.dcs,
            scts,
            user_data: s.user_data,
        };
        let report = s.status_report_request.then_some(ReportRequest {
            mr: s.message_reference,
            recipient: s.destination,
            scts,
        });
        let lifetime = lifetime_of(s.validity.as_ref(), unix, self.cfg.expires);
        if self.hooked() {
            // sms_hook_only: the API client gets the message; only the RP layer is handled here.
            let (sender, destination) = (from.impu.clone(), to.user.impu);
            self.push_event(Event::Received {
                id: 0,
                sender,
                destination,
                tpdu: Box::new(Tpdu::Deliver(deliver)),
                date: unix,
            });
            return Ok(0);
        }
        let id = self.enqueue(
            now,
            unix,
            Some(from.clone()),
            to,
            Tpdu::Deliver(deliver),
            report,
            lifetime,
        )?;
        if let Some(m) = self.store.get_mut(id) {
            m.submit = Some(key);
        }
        Ok(id)
    }

    /// Stores an SMS-DELIVER built by the caller (remote API, plain-text MESSAGE), valid for
    /// `lifetime`. Errors give the RP-Cause that explains the refusal.
    pub fn submit_deliver(
        &mut self,
        now: Instant,
        unix: u64,
        from: Option<User>,
        to: Recipient,
        deliver: Deliver,
        lifetime: Duration,
    ) -> Result<u64, RpCause> {
        let id = self.enqueue(now, unix, from, to, Tpdu::Deliver(deliver), None, lifetime)?;
        self.counters.submitted += 1;
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn enqueue(
        &mut self,
        now: Instant,
        unix: u64,
        from: Option<User>,
        to: Recipient,
        tpdu: Tpdu,
        report: Option<ReportRequest>,
        lifetime: Duration,
    ) -> Result<u64, RpCause> {
        if self.store.is_full() {
            // TS 24.011 Table 8.4: #42 congestion, the SC has no room.
            return Err(RpCause::Congestion);
        }
        let id = self.store.allocate_id();
        let m = Stored {
            id,
            from,
            to: to.user,
            tpdu,
            report,
            submit: None,
            delay: to.delay,
            expires_at: now + lifetime,
            expires_unix: unix + lifetime.as_secs(),
            state: DeliveryState::Waiting(Some(now + to.delay)),
            attempts: 0,
        };
        if matches!(tpdu, Tpdu::Deliver(_)) {
            self.push_event(Event::Received {
                id,
                sender: m.from.as_ref().map_or_else(
                    || super::party::address_text(&tpdu_originator(&tpdu)),
                    |u| u.impu.clone(),
                ),
                destination: m.to.impu.clone(),
                tpdu: Box::new(tpdu),
                date: unix,
            });
        }
        self.store.push(m);
        Ok(id)
    }
}

fn tpdu_originator(t: &Tpdu) -> TpAddress {
    match t {
        Tpdu::Deliver(d) => d.originator,
        _ => tp_address_of_impu("ringcore"),
    }
}

/// An RP-ACK without user data.
fn ack(reference: u8) -> RpMessage {
    RpMessage::Ack(RpAck {
        direction: RpDirection::NetworkToMs,
        reference,
        user_data: None,
    })
}

/// TS 23.040 9.2.3.12: how long a message lives: its TP-VP, else `default` (`sms_expires`).
pub fn lifetime_of(vp: Option<&ValidityPeriod>, unix: u64, default: Duration) -> Duration {
    let secs = match vp {
        None => return default,
        Some(ValidityPeriod::Relative(v)) => u64::from(ValidityPeriod::relative_seconds(*v)),
        Some(ValidityPeriod::Absolute(t)) => unix_of_timestamp(t).saturating_sub(unix),
        Some(ValidityPeriod::Enhanced(e)) => match e {
            EnhancedVp::Relative { value, .. } => {
                u64::from(ValidityPeriod::relative_seconds(*value))
            }
            EnhancedVp::Seconds { value, .. } => u64::from(*value),
            EnhancedVp::Hms {
                hours,
                minutes,
                seconds,
                ..
            } => u64::from(*hours) * 3600 + u64::from(*minutes) * 60 + u64::from(*seconds),
            EnhancedVp::NotSpecified { .. } | EnhancedVp::Raw(_) => return default,
        },
    };
    Duration::from_secs(secs)
}
