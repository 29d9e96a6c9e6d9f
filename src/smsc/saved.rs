//! Pending messages as kept in the `ue_db_filename` state file (seed 000 5.2.1: "the IMS state
//! contains in particular the registration info and pending SMS"): the TPDU in hexadecimal,
//! the users, the status-report request and the end of validity in Unix seconds.

use super::party::address_text;
use super::store::{DeliveryState, ReportRequest, Stored};
use super::{Smsc, User};
use crate::sms::{Timestamp, TpAddress, Tpdu, TypeOfAddress};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Largest TPDU kept (TS 23.040 TPDUs are at most 164 octets).
const MAX_TPDU: usize = 232;

/// One pending message in the state file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedMessage {
    /// Store id.
    pub id: u64,
    /// Originator (IMPI, IMPU), if a user.
    pub from: Option<(String, String)>,
    /// Recipient (IMPI, IMPU).
    pub to: (String, String),
    /// The network-to-MS TPDU, hexadecimal.
    pub tpdu: String,
    /// TP-SRR: (TP-MR, type of TP-DA, TP-DA text, TP-SCTS in hexadecimal).
    pub report: Option<(u8, u8, String, String)>,
    /// sms_delay in milliseconds.
    pub delay_ms: u64,
    /// End of validity, Unix seconds.
    pub expires: u64,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    b.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

impl SavedMessage {
    fn of(m: &Stored) -> Option<Self> {
        let mut buf = [0u8; MAX_TPDU];
        let n = m.tpdu.emit(&mut buf).ok()?;
        let report = match &m.report {
            Some(r) => Some((
                r.mr,
                r.recipient.toa.to_u8(),
                address_text(&r.recipient),
                hex(&r.scts.to_bytes().ok()?),
            )),
            None => None,
        };
        Some(SavedMessage {
            id: m.id,
            from: m.from.as_ref().map(|u| (u.impi.clone(), u.impu.clone())),
            to: (m.to.impi.clone(), m.to.impu.clone()),
            tpdu: hex(buf.get(..n)?),
            report,
            delay_ms: m.delay.as_millis() as u64,
            expires: m.expires_unix,
        })
    }

    fn restore(self, now: Instant, unix: u64) -> Option<Stored> {
        if self.expires <= unix {
            return None;
        }
        let tpdu = Tpdu::parse_mt(&unhex(&self.tpdu)?).ok()?;
        let report = match self.report {
            Some((mr, toa, text, scts)) => {
                let toa = TypeOfAddress::from_u8(toa);
                let recipient = TpAddress::new(toa, text.trim_start_matches('+')).ok()?;
                let scts = Timestamp::from_bytes(unhex(&scts)?.try_into().ok()?).ok()?;
                Some(ReportRequest {
                    mr,
                    recipient,
                    scts,
                })
            }
            None => None,
        };
        let user = |(impi, impu): (String, String)| User { impi, impu };
        Some(Stored {
            id: self.id,
            from: self.from.map(user),
            to: user(self.to),
            tpdu,
            report,
            submit: None,
            delay: Duration::from_millis(self.delay_ms),
            expires_at: now + Duration::from_secs(self.expires - unix),
            expires_unix: self.expires,
            // After a restart every message is due: reachability is checked when sending.
            state: DeliveryState::Waiting(Some(now)),
            attempts: 0,
        })
    }
}

impl Smsc {
    /// The pending messages for the state file.
    pub fn save(&self) -> Vec<SavedMessage> {
        self.store.iter().filter_map(SavedMessage::of).collect()
    }

    /// Puts saved messages back (expired or unreadable ones are skipped); returns how many.
    pub fn restore(&mut self, now: Instant, unix: u64, saved: Vec<SavedMessage>) -> usize {
        let mut n = 0;
        for s in saved {
            if let Some(m) = s.restore(now, unix) {
                n += usize::from(self.store.push(m));
            }
        }
        n
    }
}
