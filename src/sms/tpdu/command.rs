//! SMS-COMMAND (TS 23.040 9.2.2.4).

use super::{bit, emit_with, first_octet, MTI_STATUS, UDHI};
use crate::sms::address::TpAddress;
use crate::sms::cursor::Reader;
use crate::sms::error::Error;

/// Largest TP-CD (TS 23.040 9.2.3.21).
const MAX_CD: usize = 156;

/// SMS-COMMAND: the MS asks the SC to act on an earlier SUBMIT.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Command {
    /// TP-SRR (bit 5): a status report is requested.
    pub status_report_request: bool,
    /// TP-UDHI (bit 6): TP-CD starts with a header.
    pub udhi: bool,
    /// TP-MR.
    pub message_reference: u8,
    /// TP-PID.
    pub pid: u8,
    /// TP-CT (9.2.3.19): 0 enquiry, 1 cancel SRR, 2 delete, 3 enable SRR.
    pub command_type: u8,
    /// TP-MN: the TP-MR of the message acted on.
    pub message_number: u8,
    /// TP-DA.
    pub destination: TpAddress,
    data_len: u8,
    data: [u8; MAX_CD],
}

impl core::fmt::Debug for Command {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Command")
            .field("status_report_request", &self.status_report_request)
            .field("udhi", &self.udhi)
            .field("message_reference", &self.message_reference)
            .field("pid", &self.pid)
            .field("command_type", &self.command_type)
            .field("message_number", &self.message_number)
            .field("destination", &self.destination)
            .field("data", &self.data())
            .finish()
    }
}

impl Command {
    /// A command without TP-CD.
    pub fn new(
        message_reference: u8,
        command_type: u8,
        message_number: u8,
        destination: TpAddress,
    ) -> Self {
        Command {
            status_report_request: false,
            udhi: false,
            message_reference,
            pid: 0,
            command_type,
            message_number,
            destination,
            data_len: 0,
            data: [0; MAX_CD],
        }
    }

    /// Sets TP-CD ([`Error::TooLong`] beyond 156 octets).
    pub fn set_data(&mut self, data: &[u8]) -> Result<(), Error> {
        let dst = self.data.get_mut(..data.len()).ok_or(Error::TooLong)?;
        dst.copy_from_slice(data);
        self.data[data.len()..].fill(0); // keep the unused tail zero: equality compares it
        self.data_len = data.len() as u8; // <= 156
        Ok(())
    }

    /// TP-CD.
    pub fn data(&self) -> &[u8] {
        &self.data[..usize::from(self.data_len)]
    }

    /// Parses an SMS-COMMAND.
    pub fn parse(buf: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(buf);
        let fo = first_octet(&mut r, MTI_STATUS)?;
        let message_reference = r.u8()?;
        let pid = r.u8()?;
        let command_type = r.u8()?;
        let message_number = r.u8()?;
        let destination = TpAddress::parse(&mut r)?;
        let cdl = usize::from(r.u8()?);
        if cdl > MAX_CD {
            return Err(Error::InvalidValue);
        }
        let mut c = Command::new(message_reference, command_type, message_number, destination);
        c.status_report_request = fo & 0x20 != 0;
        c.udhi = fo & UDHI != 0;
        c.pid = pid;
        c.set_data(r.take(cdl)?)?;
        Ok(c)
    }

    /// Octets of the encoding.
    pub fn buffer_len(&self) -> usize {
        5 + self.destination.buffer_len() + 1 + self.data().len()
    }

    /// Encodes into `buf`; returns the octets written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        emit_with(buf, |w| {
            w.u8(MTI_STATUS | bit(self.status_report_request, 0x20) | bit(self.udhi, UDHI))?;
            w.u8(self.message_reference)?;
            w.u8(self.pid)?;
            w.u8(self.command_type)?;
            w.u8(self.message_number)?;
            self.destination.emit(w)?;
            w.u8(self.data_len)?;
            w.bytes(self.data())
        })
    }
}
