//! SMS-DELIVER (TS 23.040 9.2.2.1).

use super::{bit, emit_with, first_octet, udhi, MTI_DELIVER};
use crate::sms::address::TpAddress;
use crate::sms::cursor::Reader;
use crate::sms::dcs::Dcs;
use crate::sms::error::Error;
use crate::sms::time::Timestamp;
use crate::sms::user_data::UserData;

/// SMS-DELIVER: a short message from the SC to the MS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Deliver {
    /// More messages are waiting in the SC (TP-MMS, bit 2, is 0 when true).
    pub more_messages: bool,
    /// TP-LP (bit 3): loop prevention.
    pub loop_prevention: bool,
    /// TP-SRI (bit 5): a status report will be returned to the originating SME.
    pub status_report_indication: bool,
    /// TP-RP (bit 7): reply path set.
    pub reply_path: bool,
    /// TP-OA.
    pub originator: TpAddress,
    /// TP-PID.
    pub pid: u8,
    /// TP-DCS.
    pub dcs: Dcs,
    /// TP-SCTS.
    pub scts: Timestamp,
    /// TP-UDL and TP-UD; TP-UDHI (bit 6) is set when it has a header.
    pub user_data: UserData,
}

impl Deliver {
    /// Parses an SMS-DELIVER.
    pub fn parse(buf: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(buf);
        let fo = first_octet(&mut r, MTI_DELIVER)?;
        let originator = TpAddress::parse(&mut r)?;
        let pid = r.u8()?;
        let dcs = Dcs(r.u8()?);
        let scts = Timestamp::from_bytes(r.array()?)?;
        let udl = r.u8()?;
        let user_data = UserData::parse(udl, fo & super::UDHI != 0, dcs, &mut r)?;
        Ok(Deliver {
            more_messages: fo & 0x04 == 0,
            loop_prevention: fo & 0x08 != 0,
            status_report_indication: fo & 0x20 != 0,
            reply_path: fo & 0x80 != 0,
            originator,
            pid,
            dcs,
            scts,
            user_data,
        })
    }

    /// Octets of the encoding.
    pub fn buffer_len(&self) -> usize {
        3 + self.originator.buffer_len() + 7 + 1 + self.user_data.buffer_len()
    }

    /// Encodes into `buf`; returns the octets written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.user_data.check_dcs(self.dcs)?;
        let scts = self.scts.to_bytes()?;
        emit_with(buf, |w| {
            w.u8(MTI_DELIVER
                | bit(!self.more_messages, 0x04)
                | bit(self.loop_prevention, 0x08)
                | bit(self.status_report_indication, 0x20)
                | udhi(Some(&self.user_data))
                | bit(self.reply_path, 0x80))?;
            self.originator.emit(w)?;
            w.u8(self.pid)?;
            w.u8(self.dcs.0)?;
            w.bytes(&scts)?;
            self.user_data.emit(w)
        })
    }
}
