//! Transfer-layer PDUs (TS 23.040 9.2.2). TP-MTI values are shared by the two directions
//! (9.2.3.1: 00 is SMS-DELIVER towards the MS but SMS-DELIVER-REPORT from it), and the report
//! TPDUs have an RP-ACK and an RP-ERROR form, so a parser is told the direction and the RP
//! message that carried the TPDU.

mod command;
mod deliver;
mod report;
mod status_report;
mod submit;

pub use command::Command;
pub use deliver::Deliver;
pub use report::{DeliverReport, SubmitReport};
pub use status_report::StatusReport;
pub use submit::Submit;

use super::cursor::{Reader, Writer};
use super::dcs::Dcs;
use super::error::Error;
use super::user_data::UserData;

/// Direction of a TPDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Mobile originated: MS to SC (SMS-SUBMIT, SMS-COMMAND, SMS-DELIVER-REPORT).
    Mo,
    /// Mobile terminated: SC to MS (SMS-DELIVER, SMS-STATUS-REPORT, SMS-SUBMIT-REPORT).
    Mt,
}

/// The RP message carrying a TPDU (TS 24.011 7.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Carrier {
    /// RP-DATA: SUBMIT, COMMAND, DELIVER, STATUS-REPORT.
    RpData,
    /// RP-ACK: the RP-ACK form of SUBMIT-REPORT or DELIVER-REPORT.
    RpAck,
    /// RP-ERROR: the RP-ERROR form of SUBMIT-REPORT or DELIVER-REPORT (with TP-FCS).
    RpError,
}

/// TP-MTI values (TS 23.040 9.2.3.1).
pub(crate) const MTI_DELIVER: u8 = 0b00;
pub(crate) const MTI_SUBMIT: u8 = 0b01;
pub(crate) const MTI_STATUS: u8 = 0b10;
/// TP-UDHI, bit 6 of the first octet (9.2.3.23).
pub(crate) const UDHI: u8 = 0x40;

/// Any TPDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tpdu {
    /// SMS-DELIVER (SC to MS).
    Deliver(Deliver),
    /// SMS-DELIVER-REPORT (MS to SC).
    DeliverReport(DeliverReport),
    /// SMS-SUBMIT (MS to SC).
    Submit(Submit),
    /// SMS-SUBMIT-REPORT (SC to MS).
    SubmitReport(SubmitReport),
    /// SMS-STATUS-REPORT (SC to MS).
    StatusReport(StatusReport),
    /// SMS-COMMAND (MS to SC).
    Command(Command),
}

impl Tpdu {
    /// Parses a TPDU sent in `direction` inside `carrier`.
    pub fn parse(buf: &[u8], direction: Direction, carrier: Carrier) -> Result<Self, Error> {
        let mti = buf.first().ok_or(Error::Truncated)? & 0x03;
        match (direction, carrier, mti) {
            (Direction::Mo, Carrier::RpData, MTI_SUBMIT) => Submit::parse(buf).map(Tpdu::Submit),
            (Direction::Mo, Carrier::RpData, MTI_STATUS) => Command::parse(buf).map(Tpdu::Command),
            (Direction::Mt, Carrier::RpData, MTI_DELIVER) => Deliver::parse(buf).map(Tpdu::Deliver),
            (Direction::Mt, Carrier::RpData, MTI_STATUS) => {
                StatusReport::parse(buf).map(Tpdu::StatusReport)
            }
            (Direction::Mo, _, MTI_DELIVER) if carrier != Carrier::RpData => {
                DeliverReport::parse(buf, carrier).map(Tpdu::DeliverReport)
            }
            (Direction::Mt, _, MTI_SUBMIT) if carrier != Carrier::RpData => {
                SubmitReport::parse(buf, carrier).map(Tpdu::SubmitReport)
            }
            _ => Err(Error::UnknownMessageType(mti)),
        }
    }

    /// Parses the TPDU of an MS-to-network RP-DATA: SMS-SUBMIT or SMS-COMMAND.
    pub fn parse_mo(buf: &[u8]) -> Result<Self, Error> {
        Self::parse(buf, Direction::Mo, Carrier::RpData)
    }

    /// Parses the TPDU of a network-to-MS RP-DATA: SMS-DELIVER or SMS-STATUS-REPORT.
    pub fn parse_mt(buf: &[u8]) -> Result<Self, Error> {
        Self::parse(buf, Direction::Mt, Carrier::RpData)
    }

    /// The direction this TPDU travels in.
    pub fn direction(&self) -> Direction {
        match self {
            Tpdu::Submit(_) | Tpdu::Command(_) | Tpdu::DeliverReport(_) => Direction::Mo,
            _ => Direction::Mt,
        }
    }

    /// The RP message that carries this TPDU.
    pub fn carrier(&self) -> Carrier {
        let fcs = match self {
            Tpdu::SubmitReport(r) => r.failure_cause,
            Tpdu::DeliverReport(r) => r.failure_cause,
            _ => return Carrier::RpData,
        };
        if fcs.is_some() {
            Carrier::RpError
        } else {
            Carrier::RpAck
        }
    }

    /// Octets of the encoding.
    pub fn buffer_len(&self) -> usize {
        match self {
            Tpdu::Deliver(t) => t.buffer_len(),
            Tpdu::DeliverReport(t) => t.buffer_len(),
            Tpdu::Submit(t) => t.buffer_len(),
            Tpdu::SubmitReport(t) => t.buffer_len(),
            Tpdu::StatusReport(t) => t.buffer_len(),
            Tpdu::Command(t) => t.buffer_len(),
        }
    }

    /// Encodes into `buf`; returns the octets written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        match self {
            Tpdu::Deliver(t) => t.emit(buf),
            Tpdu::DeliverReport(t) => t.emit(buf),
            Tpdu::Submit(t) => t.emit(buf),
            Tpdu::SubmitReport(t) => t.emit(buf),
            Tpdu::StatusReport(t) => t.emit(buf),
            Tpdu::Command(t) => t.emit(buf),
        }
    }
}

/// Reads the first octet and checks its TP-MTI.
pub(crate) fn first_octet(r: &mut Reader<'_>, mti: u8) -> Result<u8, Error> {
    let fo = r.u8()?;
    if fo & 0x03 != mti {
        return Err(Error::UnknownMessageType(fo & 0x03));
    }
    Ok(fo)
}

/// Runs an encoder over `buf` and returns the octets it wrote.
pub(crate) fn emit_with(
    buf: &mut [u8],
    f: impl FnOnce(&mut Writer<'_>) -> Result<(), Error>,
) -> Result<usize, Error> {
    let mut w = Writer::new(buf);
    f(&mut w)?;
    Ok(w.len())
}

/// Sets `mask` in an octet when `on`.
pub(crate) fn bit(on: bool, mask: u8) -> u8 {
    if on {
        mask
    } else {
        0
    }
}

/// The TP-UDHI bit for `ud`.
pub(crate) fn udhi(ud: Option<&UserData>) -> u8 {
    bit(ud.is_some_and(|u| u.header().is_some()), UDHI)
}

/// TP-PID, TP-DCS, TP-UDL/TP-UD announced by TP-PI (TS 23.040 9.2.3.27).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub(crate) struct Optional {
    pub(crate) pid: Option<u8>,
    pub(crate) dcs: Option<Dcs>,
    pub(crate) user_data: Option<UserData>,
}

impl Optional {
    /// Reads TP-PI and what it announces; an absent TP-PI (end of buffer) announces nothing.
    pub(crate) fn parse(r: &mut Reader<'_>, fo: u8) -> Result<Self, Error> {
        if r.is_empty() {
            return Ok(Optional::default());
        }
        let pi = Self::read_pi(r)?;
        Self::parse_params(r, pi, fo)
    }

    /// Reads TP-PI. 9.2.3.27: bit 8 set means another TP-PI octet follows; such octets of
    /// later versions are skipped (each read is bounded by the buffer).
    pub(crate) fn read_pi(r: &mut Reader<'_>) -> Result<u8, Error> {
        let pi = r.u8()?;
        let mut ext = pi;
        while ext & 0x80 != 0 {
            ext = r.u8()?;
        }
        Ok(pi)
    }

    /// Reads the parameters `pi` announces.
    pub(crate) fn parse_params(r: &mut Reader<'_>, pi: u8, fo: u8) -> Result<Self, Error> {
        let pid = if pi & 0x01 != 0 { Some(r.u8()?) } else { None };
        let dcs = if pi & 0x02 != 0 {
            Some(Dcs(r.u8()?))
        } else {
            None
        };
        let user_data = if pi & 0x04 != 0 {
            let udl = r.u8()?;
            // 9.2.3.27: without TP-DCS the default alphabet is assumed.
            Some(UserData::parse(
                udl,
                fo & UDHI != 0,
                dcs.unwrap_or_default(),
                r,
            )?)
        } else {
            None
        };
        Ok(Optional {
            pid,
            dcs,
            user_data,
        })
    }

    /// TP-PI announcing the present parameters.
    pub(crate) fn pi(&self) -> u8 {
        bit(self.pid.is_some(), 0x01)
            | bit(self.dcs.is_some(), 0x02)
            | bit(self.user_data.is_some(), 0x04)
    }

    /// Octets of the parameters, without TP-PI.
    pub(crate) fn params_len(&self) -> usize {
        usize::from(self.pid.is_some())
            + usize::from(self.dcs.is_some())
            + self.user_data.as_ref().map_or(0, |u| 1 + u.buffer_len())
    }

    /// Octets of TP-PI and the parameters (none when `pi_optional` and nothing follows).
    pub(crate) fn buffer_len(&self, pi_optional: bool) -> usize {
        if pi_optional && self.pi() == 0 {
            0
        } else {
            1 + self.params_len()
        }
    }

    /// Writes the parameters, without TP-PI.
    pub(crate) fn emit_params(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        if let Some(pid) = self.pid {
            w.u8(pid)?;
        }
        if let Some(dcs) = self.dcs {
            w.u8(dcs.0)?;
        }
        if let Some(ud) = &self.user_data {
            ud.check_dcs(self.dcs.unwrap_or_default())?;
            ud.emit(w)?;
        }
        Ok(())
    }

    /// Writes TP-PI (omitted when `pi_optional` and nothing follows) and the parameters.
    pub(crate) fn emit(&self, w: &mut Writer<'_>, pi_optional: bool) -> Result<(), Error> {
        if pi_optional && self.pi() == 0 {
            return Ok(());
        }
        w.u8(self.pi())?;
        self.emit_params(w)
    }
}
