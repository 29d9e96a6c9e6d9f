//! The short message service centre (sans-IO): store-and-forward of SMS over IP.
//!
//! MS-to-network RP messages (TS 24.011 7.3) enter through [`Smsc::handle_mo`]: an
//! RP-DATA(SMS-SUBMIT) is validated, stored as an SMS-DELIVER for its recipient and answered
//! with RP-ACK or RP-ERROR (undecodable RP or TPDU: the TS 24.011 clause 9 cause); RP-ACK and
//! RP-ERROR answer an earlier delivery; RP-SMMA makes the user's messages due again.
//! [`Smsc::poll_transmit`] hands out the next network-to-MS RP-DATA to send (one in flight per
//! recipient, so concatenated parts arrive in order); a delivery that fails, is refused or gets
//! no answer within TR1M is retried every `sms_retry_delay` and when the recipient registers
//! again, until `sms_expires` or the message's TP-VP runs out. Status reports
//! (TS 23.040 9.2.2.3) go back to the originator when TP-SRR asked for one.
//!
//! The caller passes `now` (monotonic) and the Unix time; nothing here reads a clock, touches
//! a socket or knows SIP. Users are keyed by their private identity (IMPI).

mod clock;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
mod mo;
mod mt;
mod party;
mod saved;
mod store;

#[cfg(test)]
mod tests;

pub use clock::{timestamp_of_unix, unix_of_timestamp};
pub use mo::{lifetime_of, Resolve};
pub use party::{address_text, impu_candidates, tp_address_of_impu};
pub use saved::SavedMessage;
pub use store::{DeliveryState, Stored};

use crate::config::typed::FilterAction;
use crate::sms::{RpAddress, RpCause, TpAddress, Tpdu};
use std::collections::VecDeque;
use std::time::Duration;

/// TS 24.011 10 (Table 10.1): TR1M, how long the network waits for RP-ACK, 35 to 45 s.
pub const TR1M: Duration = Duration::from_secs(40);
/// Most SMSC events kept for the caller before the oldest are dropped.
pub const MAX_EVENTS: usize = 4096;

/// What the SMSC is configured with (seed 000 5.2 `sms_*`).
#[derive(Clone, Debug)]
pub struct Config {
    /// `sms_centre_address`: RP-Originator of MT RP-DATA (TS 24.011 8.2.5.1).
    pub centre: RpAddress,
    /// `sms_expires`: lifetime of a message without TP-VP.
    pub expires: Duration,
    /// `sms_retry_delay`: retry period of failed deliveries (None: retry on registration only).
    pub retry_delay: Option<Duration>,
    /// Bound of the store (`max_stored_sms`).
    pub max_stored: usize,
    /// `sms_forced_rp_cause`: replaces the cause of every RP-ERROR sent (0: off).
    pub forced_rp_cause: u8,
    /// `sms_message_filter.rp_data`.
    pub filter_rp_data: FilterAction,
    /// `sms_message_filter.rp_ack`.
    pub filter_rp_ack: FilterAction,
    /// TR1M.
    pub ack_timeout: Duration,
    /// `sms_hook_only`: while a remote API client listens to `sms` events, accepted
    /// messages are only reported, not stored or delivered.
    pub hook_only: bool,
}

impl Config {
    /// The settings of the configuration file; `max_stored` from `max_stored_sms`.
    pub fn from_settings(s: &crate::config::typed::SmsSettings, max_stored: usize) -> Config {
        use crate::config::typed::{NumberingPlan, TypeOfNumber};
        use crate::sms::{Npi, Ton, TypeOfAddress};
        let centre = s.sms_centre_address.as_ref().and_then(|a| {
            let ton = match a.type_of_number {
                TypeOfNumber::Unknown if a.number.starts_with('+') => Ton::International,
                TypeOfNumber::Unknown => Ton::Unknown,
                TypeOfNumber::International => Ton::International,
                TypeOfNumber::National => Ton::National,
            };
            let npi = match a.numbering_plan {
                NumberingPlan::Unknown => Npi::Isdn,
                NumberingPlan::National => Npi::National,
                NumberingPlan::Private => Npi::Private,
            };
            RpAddress::new(TypeOfAddress { ton, npi }, a.number.trim_start_matches('+')).ok()
        });
        Config {
            centre: centre.unwrap_or_else(default_centre),
            expires: Duration::from_secs(u64::from(s.sms_expires)),
            retry_delay: s.sms_retry_delay.map(|d| Duration::from_secs(u64::from(d))),
            max_stored,
            forced_rp_cause: s.sms_forced_rp_cause,
            filter_rp_data: s.sms_message_filter.rp_data,
            filter_rp_ack: s.sms_message_filter.rp_ack,
            ack_timeout: TR1M,
            hook_only: s.sms_hook_only,
        }
    }
}

/// The SC address used when `sms_centre_address` is not configured.
pub fn default_centre() -> RpAddress {
    // Two digits always fit an RP address (at most 20).
    RpAddress::new(crate::sms::TypeOfAddress::UNKNOWN, "00").expect("two digits fit")
}

/// A user as the SMSC knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Private identity: the key of pending counts and reachability.
    pub impi: String,
    /// The public identity messages are addressed to / come from.
    pub impu: String,
}

/// Where an SMS-SUBMIT's TP-DA leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// The served user.
    pub user: User,
    /// `ue_db.impu.sms_delay`: wait this long before each delivery attempt.
    pub delay: Duration,
}

/// What happened, for logs, counters and the remote API's `sms` event.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A short message was accepted from `from` for `to` (seed 000 6.7 `sms` event).
    Received {
        /// Store id.
        id: u64,
        /// Originator IMPU.
        sender: String,
        /// Destination IMPU.
        destination: String,
        /// The message as stored (SMS-DELIVER), boxed to keep events small.
        tpdu: Box<Tpdu>,
        /// Submission time, Unix seconds.
        date: u64,
    },
    /// The recipient acknowledged message `id`.
    Delivered {
        /// Store id.
        id: u64,
    },
    /// Delivery of `id` failed for now (RP-ERROR `cause`, or none for a transport failure).
    Failed {
        /// Store id.
        id: u64,
        /// The RP-Cause of the recipient's RP-ERROR.
        cause: Option<RpCause>,
    },
    /// Message `id` was dropped: its validity ran out or the recipient refused it for good.
    Dropped {
        /// Store id.
        id: u64,
    },
    /// An MS-to-network message was refused with RP-ERROR `cause`.
    Refused {
        /// The RP-Cause sent.
        cause: RpCause,
    },
}

/// A network-to-MS RP-DATA to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Transmit {
    /// Store id (give it back to [`Smsc::handle_transport_failure`]).
    pub id: u64,
    /// The recipient.
    pub to: User,
    /// The originator, when a user (None for status reports and API messages without one).
    pub from: Option<User>,
    /// The RP-DATA.
    pub rp: crate::sms::RpData,
    /// Its TPDU.
    pub tpdu: Tpdu,
}

/// Counters of the SMSC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// SMS-SUBMITs accepted.
    pub submitted: u64,
    /// Deliveries acknowledged.
    pub delivered: u64,
    /// RP-ERRORs sent for MS-to-network messages.
    pub refused: u64,
    /// Undecodable RP messages or TPDUs.
    pub decode_errors: u64,
    /// Messages dropped on expiry or permanent error.
    pub dropped: u64,
    /// Delivery attempts.
    pub attempts: u64,
}

/// The SMSC state.
pub struct Smsc {
    cfg: Config,
    store: store::Store,
    events: VecDeque<Event>,
    next_rp_ref: u8,
    hook_listeners: bool,
    /// Counters since start.
    pub counters: Counters,
}

impl Smsc {
    /// An empty SMSC.
    pub fn new(cfg: Config) -> Self {
        let store = store::Store::new(cfg.max_stored);
        Smsc {
            cfg,
            store,
            events: VecDeque::new(),
            next_rp_ref: 0,
            hook_listeners: false,
            counters: Counters::default(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Replaces the configuration (config_set); stored messages are kept.
    pub fn set_config(&mut self, cfg: Config) {
        self.store.set_bound(cfg.max_stored);
        self.cfg = cfg;
    }

    /// Whether remote API clients listen to `sms` events (with `sms_hook_only`, they take
    /// the messages instead of the store).
    pub fn set_hook_listeners(&mut self, listening: bool) {
        self.hook_listeners = listening;
    }

    fn hooked(&self) -> bool {
        self.cfg.hook_only && self.hook_listeners
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn push_event(&mut self, ev: Event) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(ev);
    }

    /// Messages pending for `impi` (seed 000 `users_get.users.sms`).
    pub fn pending_for(&self, impi: &str) -> usize {
        self.store.iter().filter(|m| m.to.impi == impi).count()
    }

    /// Messages stored.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// True when no message is stored.
    pub fn is_empty(&self) -> bool {
        self.store.len() == 0
    }

    /// The stored messages, oldest first.
    pub fn stored(&self) -> impl Iterator<Item = &Stored> {
        self.store.iter()
    }

    /// Removes every message pending for `impi`; returns how many.
    pub fn remove_for(&mut self, impi: &str) -> usize {
        self.store.remove_where(|m| m.to.impi == impi)
    }

    /// The RP-Cause to send: `sms_forced_rp_cause` when set, else `cause`.
    fn cause(&self, cause: RpCause) -> RpCause {
        match self.cfg.forced_rp_cause {
            0 => cause,
            forced => RpCause::from_u8(forced),
        }
    }

    fn rp_reference(&mut self) -> u8 {
        self.next_rp_ref = self.next_rp_ref.wrapping_add(1);
        self.next_rp_ref
    }

    /// The originating address a user's messages carry (TP-OA).
    pub fn address_of(user: &User) -> TpAddress {
        tp_address_of_impu(&user.impu)
    }
}
