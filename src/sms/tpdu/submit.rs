//! SMS-SUBMIT (TS 23.040 9.2.2.2).

use super::{bit, emit_with, first_octet, udhi, MTI_SUBMIT};
use crate::sms::address::TpAddress;
use crate::sms::cursor::Reader;
use crate::sms::dcs::Dcs;
use crate::sms::error::Error;
use crate::sms::time::ValidityPeriod;
use crate::sms::user_data::UserData;

/// SMS-SUBMIT: a short message from the MS to the SC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Submit {
    /// TP-RD (bit 2): reject a duplicate still held in the SC.
    pub reject_duplicates: bool,
    /// TP-SRR (bit 5): a status report is requested.
    pub status_report_request: bool,
    /// TP-RP (bit 7): reply path set.
    pub reply_path: bool,
    /// TP-MR.
    pub message_reference: u8,
    /// TP-DA.
    pub destination: TpAddress,
    /// TP-PID.
    pub pid: u8,
    /// TP-DCS.
    pub dcs: Dcs,
    /// TP-VP, its format giving TP-VPF (bits 4-3).
    pub validity: Option<ValidityPeriod>,
    /// TP-UDL and TP-UD; TP-UDHI (bit 6) is set when it has a header.
    pub user_data: UserData,
}

impl Submit {
    /// Parses an SMS-SUBMIT.
    pub fn parse(buf: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(buf);
        let fo = first_octet(&mut r, MTI_SUBMIT)?;
        let message_reference = r.u8()?;
        let destination = TpAddress::parse(&mut r)?;
        let pid = r.u8()?;
        let dcs = Dcs(r.u8()?);
        let vpf = (fo >> 3) & 0x03;
        let vp_len = match vpf {
            0b00 => 0,
            0b10 => 1,
            _ => 7,
        };
        let validity = ValidityPeriod::from_field(vpf, r.take(vp_len)?)?;
        let udl = r.u8()?;
        let user_data = UserData::parse(udl, fo & super::UDHI != 0, dcs, &mut r)?;
        Ok(Submit {
            reject_duplicates: fo & 0x04 != 0,
            status_report_request: fo & 0x20 != 0,
            reply_path: fo & 0x80 != 0,
            message_reference,
            destination,
            pid,
            dcs,
            validity,
            user_data,
        })
    }

    /// Octets of the encoding.
    pub fn buffer_len(&self) -> usize {
        4 + self.destination.buffer_len()
            + ValidityPeriod::len(self.validity.as_ref())
            + 1
            + self.user_data.buffer_len()
    }

    /// Encodes into `buf`; returns the octets written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.user_data.check_dcs(self.dcs)?;
        emit_with(buf, |w| {
            w.u8(MTI_SUBMIT
                | bit(self.reject_duplicates, 0x04)
                | (ValidityPeriod::vpf(self.validity.as_ref()) << 3)
                | bit(self.status_report_request, 0x20)
                | udhi(Some(&self.user_data))
                | bit(self.reply_path, 0x80))?;
            w.u8(self.message_reference)?;
            self.destination.emit(w)?;
            w.u8(self.pid)?;
            w.u8(self.dcs.0)?;
            if let Some(vp) = &self.validity {
                let (field, n) = vp.to_field()?;
                w.bytes(&field[..n])?;
            }
            self.user_data.emit(w)
        })
    }
}
