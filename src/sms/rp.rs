//! The short message relay layer (TS 24.011 7.3, 8.2): RP-DATA, RP-ACK, RP-ERROR, RP-SMMA, as
//! carried in SIP MESSAGE bodies of type `application/vnd.3gpp.sms` (TS 24.341).

use super::address::RpAddress;
use super::cursor::{Reader, Writer};
use super::error::Error;
use super::rp_cause::RpCause;
use super::tpdu::{Carrier, Direction, Tpdu};

/// Largest RP-User-Data contents accepted (a TPDU; TS 23.040 TPDUs are at most 164 octets).
pub const MAX_RP_USER_DATA: usize = 232;
/// TS 24.011 8.2.5.3: IEI of RP-User-Data when it is optional (RP-ACK, RP-ERROR).
const IEI_USER_DATA: u8 = 0x41;

/// Direction of an RP message (TS 24.011 8.2.2, the parity of the message type indicator).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RpDirection {
    /// MS to network (even MTI).
    MsToNetwork,
    /// Network to MS (odd MTI).
    NetworkToMs,
}

impl RpDirection {
    /// The other direction: that of the answer.
    pub fn reverse(self) -> Self {
        match self {
            RpDirection::MsToNetwork => RpDirection::NetworkToMs,
            RpDirection::NetworkToMs => RpDirection::MsToNetwork,
        }
    }

    fn bit(self) -> u8 {
        match self {
            RpDirection::MsToNetwork => 0,
            RpDirection::NetworkToMs => 1,
        }
    }

    /// The TPDU direction of data relayed this way.
    pub fn tpdu_direction(self) -> Direction {
        match self {
            RpDirection::MsToNetwork => Direction::Mo,
            RpDirection::NetworkToMs => Direction::Mt,
        }
    }
}

/// Checked zero-copy view of an RP message: the message type indicator and the message
/// reference, available even when the rest fails to decode (to answer with RP-ERROR).
#[derive(Clone, Copy, Debug)]
pub struct RpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RpPacket<T> {
    /// Wraps a buffer holding at least the MTI and message reference octets (TS 24.011 9.2.2:
    /// anything shorter is ignored).
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        if buffer.as_ref().len() < 2 {
            return Err(Error::Truncated);
        }
        Ok(RpPacket { buffer })
    }

    /// RP-MTI, bits 3-1 of octet 1 (TS 24.011 8.2.2, Table 8.3).
    pub fn message_type(&self) -> u8 {
        self.buffer.as_ref().first().map_or(0, |b| b & 0x07)
    }

    /// The direction given by the MTI parity.
    pub fn direction(&self) -> RpDirection {
        if self.message_type() & 1 == 0 {
            RpDirection::MsToNetwork
        } else {
            RpDirection::NetworkToMs
        }
    }

    /// RP-Message-Reference (TS 24.011 8.2.3).
    pub fn message_reference(&self) -> u8 {
        self.buffer.as_ref().get(1).copied().unwrap_or(0)
    }

    /// The information elements after the two header octets.
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(2..).unwrap_or(&[])
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

/// RP-User-Data contents (TS 24.011 8.2.5.3): one TPDU, bounded inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RpUserData {
    len: u8,
    bytes: [u8; MAX_RP_USER_DATA],
}

impl RpUserData {
    /// Wraps encoded TPDU octets ([`Error::TooLong`] beyond 232).
    pub fn new(tpdu: &[u8]) -> Result<Self, Error> {
        let mut bytes = [0u8; MAX_RP_USER_DATA];
        bytes
            .get_mut(..tpdu.len())
            .ok_or(Error::TooLong)?
            .copy_from_slice(tpdu);
        Ok(RpUserData {
            len: tpdu.len() as u8,
            bytes,
        }) // <= 232
    }

    /// Encodes `tpdu`.
    pub fn from_tpdu(tpdu: &Tpdu) -> Result<Self, Error> {
        let mut bytes = [0u8; MAX_RP_USER_DATA];
        let n = tpdu.emit(&mut bytes).map_err(|e| {
            if e == Error::BufferTooSmall {
                Error::TooLong
            } else {
                e
            }
        })?;
        Ok(RpUserData {
            len: n as u8,
            bytes,
        }) // n <= 232
    }

    /// The TPDU octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Decodes the TPDU sent in `direction` inside `carrier`.
    pub fn tpdu(&self, direction: RpDirection, carrier: Carrier) -> Result<Tpdu, Error> {
        Tpdu::parse(self.as_bytes(), direction.tpdu_direction(), carrier)
    }

    fn parse_lv(r: &mut Reader<'_>) -> Result<Self, Error> {
        let len = usize::from(r.u8()?);
        Self::new(r.take(len)?).map_err(|_| Error::BadLength)
    }

    fn lv_len(&self) -> usize {
        1 + usize::from(self.len)
    }

    fn emit_lv(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u8(self.len)?;
        w.bytes(self.as_bytes())
    }

    fn parse_optional_tlv(r: &mut Reader<'_>) -> Result<Option<Self>, Error> {
        match r.peek() {
            None => Ok(None),
            Some(IEI_USER_DATA) => {
                r.u8()?;
                Self::parse_lv(r).map(Some)
            }
            Some(iei) => Err(Error::UnexpectedIe(iei)),
        }
    }

    fn emit_optional_tlv(ud: Option<&Self>, w: &mut Writer<'_>) -> Result<(), Error> {
        match ud {
            None => Ok(()),
            Some(u) => {
                w.u8(IEI_USER_DATA)?;
                u.emit_lv(w)
            }
        }
    }
}

impl core::fmt::Debug for RpUserData {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("RpUserData").field(&self.as_bytes()).finish()
    }
}

/// RP-DATA (TS 24.011 7.3.1): a TPDU relayed with the service-centre address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RpData {
    /// MS-to-network (MTI 0) or network-to-MS (MTI 1).
    pub direction: RpDirection,
    /// RP-Message-Reference.
    pub reference: u8,
    /// RP-Originator-Address: the SC address network-to-MS, empty MS-to-network.
    pub originator: Option<RpAddress>,
    /// RP-Destination-Address: the SC address MS-to-network, empty network-to-MS.
    pub destination: Option<RpAddress>,
    /// RP-User-Data: the TPDU.
    pub user_data: RpUserData,
}

impl RpData {
    /// An MS-to-network RP-DATA carrying an SMS-SUBMIT or SMS-COMMAND to `sc`.
    pub fn mo(reference: u8, sc: RpAddress, tpdu: &Tpdu) -> Result<Self, Error> {
        let user_data = RpUserData::from_tpdu(tpdu)?;
        Ok(RpData {
            direction: RpDirection::MsToNetwork,
            reference,
            originator: None,
            destination: Some(sc),
            user_data,
        })
    }

    /// A network-to-MS RP-DATA carrying an SMS-DELIVER or SMS-STATUS-REPORT from `sc`.
    pub fn mt(reference: u8, sc: RpAddress, tpdu: &Tpdu) -> Result<Self, Error> {
        let user_data = RpUserData::from_tpdu(tpdu)?;
        Ok(RpData {
            direction: RpDirection::NetworkToMs,
            reference,
            originator: Some(sc),
            destination: None,
            user_data,
        })
    }

    /// Decodes the carried TPDU.
    pub fn tpdu(&self) -> Result<Tpdu, Error> {
        self.user_data.tpdu(self.direction, Carrier::RpData)
    }

    fn parse_body(
        direction: RpDirection,
        reference: u8,
        r: &mut Reader<'_>,
    ) -> Result<Self, Error> {
        let originator = RpAddress::parse_lv(r)?;
        let destination = RpAddress::parse_lv(r)?;
        let user_data = RpUserData::parse_lv(r)?;
        if user_data.len == 0 {
            return Err(Error::BadLength); // 8.2.5.3: a TPDU is mandatory
        }
        Ok(RpData {
            direction,
            reference,
            originator,
            destination,
            user_data,
        })
    }

    fn body_len(&self) -> usize {
        RpAddress::lv_len(self.originator.as_ref())
            + RpAddress::lv_len(self.destination.as_ref())
            + self.user_data.lv_len()
    }

    fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        RpAddress::emit_lv(self.originator.as_ref(), w)?;
        RpAddress::emit_lv(self.destination.as_ref(), w)?;
        self.user_data.emit_lv(w)
    }
}

/// RP-ACK (TS 24.011 7.3.3), optionally with a report TPDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RpAck {
    /// MS-to-network (MTI 2) or network-to-MS (MTI 3).
    pub direction: RpDirection,
    /// RP-Message-Reference of the acknowledged RP-DATA or RP-SMMA.
    pub reference: u8,
    /// RP-User-Data (IEI 0x41): SMS-DELIVER-REPORT or SMS-SUBMIT-REPORT, RP-ACK form.
    pub user_data: Option<RpUserData>,
}

/// RP-ERROR (TS 24.011 7.3.4): a cause, optionally a report TPDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RpError {
    /// MS-to-network (MTI 4) or network-to-MS (MTI 5).
    pub direction: RpDirection,
    /// RP-Message-Reference of the refused RP-DATA or RP-SMMA.
    pub reference: u8,
    /// RP-Cause (8.2.5.4).
    pub cause: RpCause,
    /// The optional diagnostic octet of RP-Cause.
    pub diagnostic: Option<u8>,
    /// RP-User-Data (IEI 0x41): SMS-DELIVER-REPORT or SMS-SUBMIT-REPORT, RP-ERROR form.
    pub user_data: Option<RpUserData>,
}

impl RpError {
    /// The RP-ERROR answering, in the reverse direction, a message that failed with `err`.
    pub fn for_decode_error(received: RpDirection, reference: u8, err: &Error) -> Self {
        RpError {
            direction: received.reverse(),
            reference,
            cause: err.rp_cause(),
            diagnostic: None,
            user_data: None,
        }
    }

    fn parse_body(
        direction: RpDirection,
        reference: u8,
        r: &mut Reader<'_>,
    ) -> Result<Self, Error> {
        // 8.2.5.4: LV, one cause octet (extension bit 0) and an optional diagnostic octet.
        let cause = match r.u8()? {
            1 => (r.u8()?, None),
            2 => (r.u8()?, Some(r.u8()?)),
            _ => return Err(Error::BadLength),
        };
        let user_data = RpUserData::parse_optional_tlv(r)?;
        Ok(RpError {
            direction,
            reference,
            cause: RpCause::from_u8(cause.0),
            diagnostic: cause.1,
            user_data,
        })
    }

    fn body_len(&self) -> usize {
        2 + usize::from(self.diagnostic.is_some())
            + self.user_data.as_ref().map_or(0, |u| 1 + u.lv_len())
    }

    fn emit_body(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u8(1 + u8::from(self.diagnostic.is_some()))?;
        w.u8(self.cause.to_u8())?;
        if let Some(d) = self.diagnostic {
            w.u8(d)?;
        }
        RpUserData::emit_optional_tlv(self.user_data.as_ref(), w)
    }
}

/// RP-SMMA (TS 24.011 7.3.2): the MS has memory available again (MS to network only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RpSmma {
    /// RP-Message-Reference.
    pub reference: u8,
}

/// Any RP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RpMessage {
    /// RP-DATA.
    Data(RpData),
    /// RP-ACK.
    Ack(RpAck),
    /// RP-ERROR.
    Error(RpError),
    /// RP-SMMA.
    Smma(RpSmma),
}

impl RpMessage {
    /// Parses an RP message of either direction. Errors map to the RP-ERROR cause with
    /// [`Error::rp_cause`]; trailing octets are an unknown information element (#99).
    pub fn parse(buf: &[u8]) -> Result<Self, Error> {
        let packet = RpPacket::new_checked(buf)?;
        let (dir, reference) = (packet.direction(), packet.message_reference());
        let mut r = Reader::new(packet.payload());
        // TS 24.011 Table 8.3: MTI values.
        let msg = match packet.message_type() {
            0 | 1 => RpMessage::Data(RpData::parse_body(dir, reference, &mut r)?),
            2 | 3 => RpMessage::Ack(RpAck {
                direction: dir,
                reference,
                user_data: RpUserData::parse_optional_tlv(&mut r)?,
            }),
            4 | 5 => RpMessage::Error(RpError::parse_body(dir, reference, &mut r)?),
            6 => RpMessage::Smma(RpSmma { reference }),
            mti => return Err(Error::UnknownMessageType(mti)),
        };
        match r.peek() {
            Some(iei) => Err(Error::UnexpectedIe(iei)),
            None => Ok(msg),
        }
    }

    /// Parses a message that must have been sent in direction `sent` (a network accepts only
    /// MS-to-network types: the others are non-existent for it, cause #97).
    pub fn parse_directed(buf: &[u8], sent: RpDirection) -> Result<Self, Error> {
        let packet = RpPacket::new_checked(buf)?;
        if packet.direction() != sent {
            return Err(Error::UnknownMessageType(packet.message_type()));
        }
        Self::parse(buf)
    }

    /// The RP-ERROR to send for a received message that failed to parse with `err`; `None`
    /// when it is too short to hold a message reference (TS 24.011 9.2.2: ignore it).
    pub fn error_response(received: &[u8], err: &Error) -> Option<RpMessage> {
        let packet = RpPacket::new_checked(received).ok()?;
        Some(RpMessage::Error(RpError::for_decode_error(
            packet.direction(),
            packet.message_reference(),
            err,
        )))
    }

    /// The direction of the message.
    pub fn direction(&self) -> RpDirection {
        match self {
            RpMessage::Data(m) => m.direction,
            RpMessage::Ack(m) => m.direction,
            RpMessage::Error(m) => m.direction,
            RpMessage::Smma(_) => RpDirection::MsToNetwork,
        }
    }

    /// RP-Message-Reference.
    pub fn reference(&self) -> u8 {
        match self {
            RpMessage::Data(m) => m.reference,
            RpMessage::Ack(m) => m.reference,
            RpMessage::Error(m) => m.reference,
            RpMessage::Smma(m) => m.reference,
        }
    }

    /// RP-MTI (TS 24.011 Table 8.3).
    pub fn message_type(&self) -> u8 {
        let base = match self {
            RpMessage::Data(_) => 0,
            RpMessage::Ack(_) => 2,
            RpMessage::Error(_) => 4,
            RpMessage::Smma(_) => 6,
        };
        base | self.direction().bit()
    }

    /// Octets of the encoding.
    pub fn buffer_len(&self) -> usize {
        2 + match self {
            RpMessage::Data(m) => m.body_len(),
            RpMessage::Ack(m) => m.user_data.as_ref().map_or(0, |u| 1 + u.lv_len()),
            RpMessage::Error(m) => m.body_len(),
            RpMessage::Smma(_) => 0,
        }
    }

    /// Encodes into `buf`; returns the octets written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::new(buf);
        w.u8(self.message_type())?;
        w.u8(self.reference())?;
        match self {
            RpMessage::Data(m) => m.emit_body(&mut w)?,
            RpMessage::Ack(m) => RpUserData::emit_optional_tlv(m.user_data.as_ref(), &mut w)?,
            RpMessage::Error(m) => m.emit_body(&mut w)?,
            RpMessage::Smma(_) => {}
        }
        Ok(w.len())
    }
}
