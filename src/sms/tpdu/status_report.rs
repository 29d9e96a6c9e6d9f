//! SMS-STATUS-REPORT (TS 23.040 9.2.2.3).

use super::{bit, emit_with, first_octet, udhi, Optional, MTI_STATUS};
use crate::sms::address::TpAddress;
use crate::sms::cursor::Reader;
use crate::sms::dcs::Dcs;
use crate::sms::error::Error;
use crate::sms::time::Timestamp;
use crate::sms::user_data::UserData;

/// SMS-STATUS-REPORT: the SC reports the fate of an earlier SUBMIT or COMMAND.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StatusReport {
    /// More messages are waiting in the SC (TP-MMS, bit 2, is 0 when true).
    pub more_messages: bool,
    /// TP-LP (bit 3): loop prevention.
    pub loop_prevention: bool,
    /// TP-SRQ (bit 5): the report is the result of an SMS-COMMAND (else of an SMS-SUBMIT).
    pub command_qualifier: bool,
    /// TP-MR of the reported message.
    pub message_reference: u8,
    /// TP-RA.
    pub recipient: TpAddress,
    /// TP-SCTS of the reported message.
    pub scts: Timestamp,
    /// TP-DT: discharge time.
    pub discharge_time: Timestamp,
    /// TP-ST (9.2.3.15): 0x00 delivered, 0x20.. temporary, 0x40.. / 0x60.. permanent errors.
    pub status: u8,
    /// TP-PID, when TP-PI announces it.
    pub pid: Option<u8>,
    /// TP-DCS, when TP-PI announces it.
    pub dcs: Option<Dcs>,
    /// TP-UDL/TP-UD, when TP-PI announces it.
    pub user_data: Option<UserData>,
}

impl StatusReport {
    /// Parses an SMS-STATUS-REPORT.
    pub fn parse(buf: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(buf);
        let fo = first_octet(&mut r, MTI_STATUS)?;
        let message_reference = r.u8()?;
        let recipient = TpAddress::parse(&mut r)?;
        let scts = Timestamp::from_bytes(r.array()?)?;
        let discharge_time = Timestamp::from_bytes(r.array()?)?;
        let status = r.u8()?;
        let opt = Optional::parse(&mut r, fo)?;
        Ok(StatusReport {
            more_messages: fo & 0x04 == 0,
            loop_prevention: fo & 0x08 != 0,
            command_qualifier: fo & 0x20 != 0,
            message_reference,
            recipient,
            scts,
            discharge_time,
            status,
            pid: opt.pid,
            dcs: opt.dcs,
            user_data: opt.user_data,
        })
    }

    fn optional(&self) -> Optional {
        Optional {
            pid: self.pid,
            dcs: self.dcs,
            user_data: self.user_data,
        }
    }

    /// Octets of the encoding.
    pub fn buffer_len(&self) -> usize {
        2 + self.recipient.buffer_len() + 7 + 7 + 1 + self.optional().buffer_len(true)
    }

    /// Encodes into `buf`; returns the octets written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let (scts, dt) = (self.scts.to_bytes()?, self.discharge_time.to_bytes()?);
        emit_with(buf, |w| {
            w.u8(MTI_STATUS
                | bit(!self.more_messages, 0x04)
                | bit(self.loop_prevention, 0x08)
                | bit(self.command_qualifier, 0x20)
                | udhi(self.user_data.as_ref()))?;
            w.u8(self.message_reference)?;
            self.recipient.emit(w)?;
            w.bytes(&scts)?;
            w.bytes(&dt)?;
            w.u8(self.status)?;
            self.optional().emit(w, true)
        })
    }
}
