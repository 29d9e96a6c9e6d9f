//! SMS-SUBMIT-REPORT (TS 23.040 9.2.2.2a) and SMS-DELIVER-REPORT (9.2.2.1a), each in its
//! RP-ACK form and its RP-ERROR form (the latter with TP-FCS, 9.2.3.22).

use super::{emit_with, first_octet, udhi, Carrier, Optional, MTI_DELIVER, MTI_SUBMIT};
use crate::sms::cursor::{Reader, Writer};
use crate::sms::dcs::Dcs;
use crate::sms::error::Error;
use crate::sms::time::Timestamp;
use crate::sms::user_data::UserData;

/// SMS-SUBMIT-REPORT: the SC's answer to an SMS-SUBMIT, carried in RP-ACK or RP-ERROR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubmitReport {
    /// TP-FCS: present exactly in the RP-ERROR form (e.g. 0xC0 SC busy, 0xD0 SIM full).
    pub failure_cause: Option<u8>,
    /// TP-SCTS.
    pub scts: Timestamp,
    /// TP-PID, when TP-PI announces it.
    pub pid: Option<u8>,
    /// TP-DCS, when TP-PI announces it.
    pub dcs: Option<Dcs>,
    /// TP-UDL/TP-UD, when TP-PI announces it.
    pub user_data: Option<UserData>,
}

/// SMS-DELIVER-REPORT: the MS's answer to an SMS-DELIVER, carried in RP-ACK or RP-ERROR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeliverReport {
    /// TP-FCS: present exactly in the RP-ERROR form (e.g. 0xD3 memory capacity exceeded).
    pub failure_cause: Option<u8>,
    /// TP-PID, when TP-PI announces it.
    pub pid: Option<u8>,
    /// TP-DCS, when TP-PI announces it.
    pub dcs: Option<Dcs>,
    /// TP-UDL/TP-UD, when TP-PI announces it.
    pub user_data: Option<UserData>,
}

/// Reads the first octet and, in the RP-ERROR form, TP-FCS.
fn head(r: &mut Reader<'_>, mti: u8, carrier: Carrier) -> Result<(u8, Option<u8>), Error> {
    let fo = first_octet(r, mti)?;
    let fcs = match carrier {
        Carrier::RpError => Some(r.u8()?),
        Carrier::RpAck => None,
        Carrier::RpData => return Err(Error::UnknownMessageType(mti)),
    };
    Ok((fo, fcs))
}

/// Writes the first octet and TP-FCS when present.
fn emit_head(
    w: &mut Writer<'_>,
    mti: u8,
    fcs: Option<u8>,
    ud: Option<&UserData>,
) -> Result<(), Error> {
    w.u8(mti | udhi(ud))?;
    fcs.map_or(Ok(()), |f| w.u8(f))
}

impl SubmitReport {
    /// Parses the form carried by `carrier` (RP-ACK or RP-ERROR).
    pub fn parse(buf: &[u8], carrier: Carrier) -> Result<Self, Error> {
        let mut r = Reader::new(buf);
        let (fo, failure_cause) = head(&mut r, MTI_SUBMIT, carrier)?;
        // 9.2.2.2a: TP-PI is mandatory and precedes TP-SCTS.
        let pi = Optional::read_pi(&mut r)?;
        let scts = Timestamp::from_bytes(r.array()?)?;
        let opt = Optional::parse_params(&mut r, pi, fo)?;
        Ok(SubmitReport {
            failure_cause,
            scts,
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
        1 + usize::from(self.failure_cause.is_some()) + 7 + self.optional().buffer_len(false)
    }

    /// Encodes into `buf`; returns the octets written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let scts = self.scts.to_bytes()?;
        let opt = self.optional();
        emit_with(buf, |w| {
            emit_head(w, MTI_SUBMIT, self.failure_cause, self.user_data.as_ref())?;
            w.u8(opt.pi())?;
            w.bytes(&scts)?;
            opt.emit_params(w)
        })
    }
}

impl DeliverReport {
    /// Parses the form carried by `carrier` (RP-ACK or RP-ERROR).
    pub fn parse(buf: &[u8], carrier: Carrier) -> Result<Self, Error> {
        let mut r = Reader::new(buf);
        let (fo, failure_cause) = head(&mut r, MTI_DELIVER, carrier)?;
        if r.is_empty() {
            return Err(Error::Truncated); // 9.2.2.1a: TP-PI is mandatory
        }
        let opt = Optional::parse(&mut r, fo)?;
        Ok(DeliverReport {
            failure_cause,
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
        1 + usize::from(self.failure_cause.is_some()) + self.optional().buffer_len(false)
    }

    /// Encodes into `buf`; returns the octets written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        emit_with(buf, |w| {
            emit_head(w, MTI_DELIVER, self.failure_cause, self.user_data.as_ref())?;
            self.optional().emit(w, false)
        })
    }
}
