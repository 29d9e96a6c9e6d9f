//! The bounded message store: messages waiting for delivery or for their RP-ACK, oldest first.

use super::User;
use crate::sms::{Timestamp, TpAddress, Tpdu};
use std::collections::VecDeque;
use std::time::Instant;

/// Where a stored message's delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting: due at `Some(t)`, or (None) when the recipient registers or frees memory.
    Waiting(Option<Instant>),
    /// RP-DATA sent with `rp_ref`; TR1M runs out at `deadline` (TS 24.011 10).
    InFlight {
        /// RP-Message-Reference of the RP-DATA.
        rp_ref: u8,
        /// End of TR1M.
        deadline: Instant,
    },
}

/// What TP-SRR asked for: the fields of the SMS-STATUS-REPORT (TS 23.040 9.2.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportRequest {
    /// TP-MR of the SMS-SUBMIT.
    pub mr: u8,
    /// TP-DA of the SMS-SUBMIT (TP-RA of the report).
    pub recipient: TpAddress,
    /// TP-SCTS given to the message.
    pub scts: Timestamp,
}

/// A stored message.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    /// Store id, unique while the SMSC runs.
    pub id: u64,
    /// The originating user (None: the SC itself or the remote API).
    pub from: Option<User>,
    /// The recipient.
    pub to: User,
    /// SMS-DELIVER or SMS-STATUS-REPORT.
    pub tpdu: Tpdu,
    /// The status report to send the originator, when TP-SRR was set.
    pub report: Option<ReportRequest>,
    /// TP-MR and TP-DA of the SMS-SUBMIT (TS 23.040 9.2.3.25: duplicates are recognised by
    /// them and the originator).
    pub submit: Option<(u8, TpAddress)>,
    /// `ue_db.impu.sms_delay` of the recipient.
    pub delay: std::time::Duration,
    /// End of validity (monotonic) and the same as Unix seconds (for the state file).
    pub expires_at: Instant,
    /// End of validity, Unix seconds.
    pub expires_unix: u64,
    /// Delivery state.
    pub state: DeliveryState,
    /// Delivery attempts so far.
    pub attempts: u32,
}

impl Stored {
    /// When this message next needs attention (a delivery attempt, TR1M or expiry).
    pub fn next_deadline(&self) -> Instant {
        let state = match self.state {
            DeliveryState::Waiting(Some(t)) => t,
            DeliveryState::Waiting(None) => self.expires_at,
            DeliveryState::InFlight { deadline, .. } => deadline,
        };
        state.min(self.expires_at)
    }
}

/// At most `bound` messages, in arrival order.
pub(super) struct Store {
    bound: usize,
    next_id: u64,
    messages: VecDeque<Stored>,
}

impl Store {
    pub(super) fn new(bound: usize) -> Self {
        Store {
            bound,
            next_id: 0,
            messages: VecDeque::new(),
        }
    }

    pub(super) fn set_bound(&mut self, bound: usize) {
        self.bound = bound;
    }

    pub(super) fn len(&self) -> usize {
        self.messages.len()
    }

    pub(super) fn is_full(&self) -> bool {
        self.messages.len() >= self.bound
    }

    /// A fresh id.
    pub(super) fn allocate_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Adds a message; false when the store is full.
    pub(super) fn push(&mut self, m: Stored) -> bool {
        if self.is_full() {
            return false;
        }
        self.next_id = self.next_id.max(m.id);
        self.messages.push_back(m);
        true
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Stored> {
        self.messages.iter()
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Stored> {
        self.messages.iter_mut()
    }

    pub(super) fn get_mut(&mut self, id: u64) -> Option<&mut Stored> {
        self.messages.iter_mut().find(|m| m.id == id)
    }

    pub(super) fn remove(&mut self, id: u64) -> Option<Stored> {
        let i = self.messages.iter().position(|m| m.id == id)?;
        self.messages.remove(i)
    }

    /// Removes the messages matching `f`; returns how many.
    pub(super) fn remove_where(&mut self, f: impl Fn(&Stored) -> bool) -> usize {
        let before = self.messages.len();
        self.messages.retain(|m| !f(m));
        before - self.messages.len()
    }
}
