//! Byte-exact vectors and round trips over the RP layer and every TPDU type.

use super::*;

pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn emit_tpdu(t: &Tpdu) -> Vec<u8> {
    let mut out = vec![0u8; t.buffer_len()];
    assert_eq!(t.emit(&mut out), Ok(out.len()));
    assert_eq!(
        t.emit(&mut vec![0u8; out.len() - 1]),
        Err(Error::BufferTooSmall)
    );
    out
}

fn emit_rp(m: &RpMessage) -> Vec<u8> {
    let mut out = vec![0u8; m.buffer_len()];
    assert_eq!(m.emit(&mut out), Ok(out.len()));
    out
}

/// Parses, checks that emitting gives the same bytes back, returns the TPDU.
fn exact(bytes: &[u8], dir: Direction, carrier: Carrier) -> Tpdu {
    let t = Tpdu::parse(bytes, dir, carrier).unwrap();
    assert_eq!(emit_tpdu(&t), bytes);
    assert_eq!((t.direction(), t.carrier()), (dir, carrier));
    t
}

fn ts(tz_quarters: i8) -> Timestamp {
    Timestamp {
        year: 25,
        month: 3,
        day: 9,
        hour: 14,
        minute: 5,
        second: 59,
        tz_quarters,
    }
}

#[test]
fn published_submit_hellohello() {
    // AT+CMGS PDU 00 11 00 0B 91 6407281553F8 00 00 AA 0A E8329BFD4697D9EC37; the leading 00
    // is the modem's empty SC address, not part of the TPDU. 0x11: MTI 01, VPF 10 (relative).
    let pdu = hex("0011000B916407281553F80000AA0AE8329BFD4697D9EC37");
    let Tpdu::Submit(s) = exact(&pdu[1..], Direction::Mo, Carrier::RpData) else {
        panic!()
    };
    assert_eq!(s.message_reference, 0);
    assert_eq!(s.destination.to_string(), "+46708251358");
    assert_eq!(s.validity, Some(ValidityPeriod::Relative(0xAA))); // 4 days
    assert_eq!(s.user_data.text(s.dcs).as_deref(), Some("hellohello"));
    assert!(!s.status_report_request && !s.reject_duplicates && !s.reply_path);
}

#[test]
fn published_deliver_hellohello() {
    // SC address 07 91 448720003023 stripped; 0x24: MTI 00, MMS (no more messages), SRI.
    let pdu = hex("0791448720003023240C914477581006500000916042113312800AE8329BFD4697D9EC37");
    let Tpdu::Deliver(d) = exact(&pdu[8..], Direction::Mt, Carrier::RpData) else {
        panic!()
    };
    assert_eq!(d.originator.to_string(), "+447785016005");
    assert!(!d.more_messages && d.status_report_indication);
    assert_eq!(d.scts.tz_quarters, 8);
    assert_eq!(d.user_data.text(d.dcs).as_deref(), Some("hellohello"));
}

#[test]
fn published_status_report() {
    // SC address 07 91 9761989901F0 stripped; 0x06: MTI 10, MMS; MR 1; TP-ST 0x46.
    let pdu = hex("07919761989901F006010B917777777777F751501211838321515012113465214 6");
    let Tpdu::StatusReport(r) = exact(&pdu[8..], Direction::Mt, Carrier::RpData) else {
        panic!()
    };
    assert_eq!((r.message_reference, r.status), (1, 0x46));
    assert_eq!(r.recipient.to_string(), "+77777777777");
    assert_eq!(
        r.scts,
        Timestamp {
            year: 15,
            month: 5,
            day: 21,
            hour: 11,
            minute: 38,
            second: 38,
            tz_quarters: 12
        }
    );
    assert_eq!(r.discharge_time.minute, 43);
    assert_eq!((r.pid, r.dcs, r.user_data), (None, None, None));
}

#[test]
fn three_part_concatenation_matches_published_pdus_and_reassembles() {
    let file = include_str!("../../tests/data/sms/concat_hello70.txt");
    let published: Vec<Vec<u8>> = file
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| hex(l)[1..].to_vec())
        .collect();
    assert_eq!(published.len(), 3);
    let text = "hello".repeat(70);
    let seg = segment_text(&text, 1).unwrap();
    assert_eq!(seg.alphabet, Alphabet::Gsm7);
    let mut r = Reassembler::new(4);
    let now = std::time::Instant::now();
    let mut done = None;
    for (part, bytes) in seg.parts.iter().zip(&published) {
        let submit = Submit {
            reject_duplicates: false,
            status_report_request: true,
            reply_path: false,
            message_reference: 1,
            destination: TpAddress::international("+77777777777").unwrap(),
            pid: 0,
            dcs: Dcs::general(seg.alphabet, None),
            validity: None,
            user_data: *part,
        };
        // UDL 0xA0 = 7 header septets (6 octets + 1 fill bit) + 153 text septets.
        assert_eq!(emit_tpdu(&Tpdu::Submit(submit)), *bytes);
        let Tpdu::Submit(parsed) = Tpdu::parse_mo(bytes).unwrap() else {
            panic!()
        };
        assert_eq!(parsed, submit);
        done = r
            .handle_part(now, parsed.destination, &parsed.user_data)
            .unwrap();
    }
    let done = done.expect("complete after the third part");
    assert_eq!(done.text(Dcs::GSM7), Some(text));
}

#[test]
fn direction_is_explicit() {
    let submit = hex("11000B916407281553F80000AA0AE8329BFD4697D9EC37");
    assert_eq!(Tpdu::parse_mt(&submit), Err(Error::UnknownMessageType(1)));
    let deliver = hex("240C914477581006500000916042113312800AE8329BFD4697D9EC37");
    assert_eq!(Tpdu::parse_mo(&deliver), Err(Error::UnknownMessageType(0)));
    assert_eq!(Tpdu::parse_mo(&[0x03]), Err(Error::UnknownMessageType(3)));
    assert_eq!(Tpdu::parse_mo(&[]), Err(Error::Truncated));
}

#[test]
fn flash_ucs2_and_alphanumeric_deliver() {
    let (ud, _) = UserData::from_text("Alert", None).unwrap();
    let flash = Deliver {
        more_messages: true,
        loop_prevention: false,
        status_report_indication: false,
        reply_path: false,
        originator: TpAddress::alphanumeric("ringcore").unwrap(),
        pid: 0,
        dcs: Dcs::flash(),
        scts: ts(-20),
        user_data: ud,
    };
    let bytes = emit_tpdu(&Tpdu::Deliver(flash));
    // first octet, OA (2 + 7 octets: 8 septets = 14 semi-octets), PID, then DCS 0x10.
    assert_eq!(bytes[0], 0x00);
    assert_eq!(bytes[1..3], [0x0E, 0xD0]);
    assert_eq!(bytes[11], 0x10);
    let Tpdu::Deliver(back) = exact(&bytes, Direction::Mt, Carrier::RpData) else {
        panic!()
    };
    assert!(back.dcs.is_flash());
    assert_eq!(back.originator.text().as_deref(), Some("ringcore"));
    assert_eq!(back.scts.tz_quarters, -20);

    let (ud, alphabet) = UserData::from_text("Hi 😀", None).unwrap();
    let ucs2 = Deliver {
        dcs: Dcs::general(alphabet, None),
        user_data: ud,
        ..flash
    };
    let bytes = emit_tpdu(&Tpdu::Deliver(ucs2));
    assert_eq!(bytes[11], 0x08);
    // UDL 10 octets: 0048 0069 0020 D83D DE00.
    assert_eq!(bytes[bytes.len() - 11..], hex("0A004800690020D83DDE00"));
    let Tpdu::Deliver(back) = exact(&bytes, Direction::Mt, Carrier::RpData) else {
        panic!()
    };
    assert_eq!(back.user_data.text(back.dcs).as_deref(), Some("Hi 😀"));
    // A DCS that disagrees with the user data units is refused at emit.
    let bad = Deliver {
        dcs: Dcs::GSM7,
        ..ucs2
    };
    assert_eq!(bad.emit(&mut [0u8; 200]), Err(Error::DcsMismatch));
}

#[test]
fn submit_every_validity_period_format() {
    let (ud, _) = UserData::from_text("vp", None).unwrap();
    let base = Submit {
        reject_duplicates: true,
        status_report_request: false,
        reply_path: true,
        message_reference: 200,
        destination: TpAddress::new(TypeOfAddress::UNKNOWN, "12345").unwrap(),
        pid: 0,
        dcs: Dcs::GSM7,
        validity: None,
        user_data: ud,
    };
    let cases = [
        (None, 0x00, 0),
        (Some(ValidityPeriod::Relative(167)), 0x10, 1),
        (
            Some(ValidityPeriod::Enhanced(EnhancedVp::Seconds {
                single_shot: true,
                value: 90,
            })),
            0x08,
            7,
        ),
        (Some(ValidityPeriod::Absolute(ts(-4))), 0x18, 7),
    ];
    for (vp, vpf_bits, vp_len) in cases {
        let s = Submit {
            validity: vp,
            ..base
        };
        let bytes = emit_tpdu(&Tpdu::Submit(s));
        // 0x85 = RP | RD | MTI 01, plus the VPF bits.
        assert_eq!(bytes[0], 0x85 | vpf_bits);
        // fo, MR, DA (2 + 3), PID, DCS, VP, UDL, 2 septets in 2 octets.
        assert_eq!(bytes.len(), 2 + 5 + 2 + vp_len + 1 + 2);
        assert_eq!(Tpdu::parse_mo(&bytes), Ok(Tpdu::Submit(s)));
    }
    let abs = Submit {
        validity: Some(ValidityPeriod::Absolute(ts(-4))),
        ..base
    };
    let bytes = emit_tpdu(&Tpdu::Submit(abs));
    // Absolute VP 25-03-09 14:05:59 -4 quarters: 52 30 90 41 50 95 48.
    assert_eq!(bytes[9..16], hex("52309041509548"));
}

#[test]
fn command_and_reports_round_trip() {
    let mut c = Command::new(5, 2, 4, TpAddress::international("4912345").unwrap());
    c.status_report_request = true;
    c.set_data(b"cd").unwrap();
    let bytes = emit_tpdu(&Tpdu::Command(c));
    // fo 22 (MTI 10, SRR), MR 05, PID 00, CT 02 (delete), MN 04, DA 07 91 942143F5, CDL 02, "cd".
    assert_eq!(bytes, hex("22 05 00 02 04 07 91 942143F5 02 6364"));
    exact(&bytes, Direction::Mo, Carrier::RpData);
    assert_eq!(c.clone().set_data(&[0; 157]), Err(Error::TooLong));

    // SMS-DELIVER-REPORT, RP-ERROR form: fo 00, FCS D3 (memory capacity exceeded), PI 00.
    let t = exact(&hex("00D300"), Direction::Mo, Carrier::RpError);
    assert_eq!(
        t,
        Tpdu::DeliverReport(DeliverReport {
            failure_cause: Some(0xD3),
            pid: None,
            dcs: None,
            user_data: None
        })
    );
    // RP-ACK form with PID, DCS and 8-bit user data: PI 07.
    let ud = UserData::from_octets(None, &[1, 2, 3]).unwrap();
    let dr = DeliverReport {
        failure_cause: None,
        pid: Some(0x7F),
        dcs: Some(Dcs::DATA8),
        user_data: Some(ud),
    };
    let bytes = emit_tpdu(&Tpdu::DeliverReport(dr));
    assert_eq!(bytes, hex("00 07 7F 04 03 010203"));
    exact(&bytes, Direction::Mo, Carrier::RpAck);
    assert_eq!(
        Tpdu::parse(&hex("00"), Direction::Mo, Carrier::RpAck),
        Err(Error::Truncated)
    );

    // SMS-SUBMIT-REPORT: TP-PI precedes TP-SCTS.
    let sr = SubmitReport {
        failure_cause: None,
        scts: ts(8),
        pid: None,
        dcs: None,
        user_data: None,
    };
    let bytes = emit_tpdu(&Tpdu::SubmitReport(sr));
    assert_eq!(bytes, hex("01 00 52309041509580"));
    exact(&bytes, Direction::Mt, Carrier::RpAck);
    let (ud, _) = UserData::from_text("busy", None).unwrap();
    let sr = SubmitReport {
        failure_cause: Some(0xC0),
        pid: Some(0),
        user_data: Some(ud),
        ..sr
    };
    let bytes = emit_tpdu(&Tpdu::SubmitReport(sr));
    assert_eq!(bytes[..3], [0x01, 0xC0, 0x05]);
    exact(&bytes, Direction::Mt, Carrier::RpError);
    // Status report with optional parameters and a header in its user data.
    let h = Udh::with_concat(Concat {
        reference: 0x1234,
        wide: true,
        total: 2,
        seq: 1,
    });
    let (ud, _) = UserData::from_text("sr", Some(h)).unwrap();
    let st = StatusReport {
        more_messages: true,
        loop_prevention: true,
        command_qualifier: true,
        message_reference: 9,
        recipient: TpAddress::international("1").unwrap(),
        scts: ts(0),
        discharge_time: ts(-1),
        status: 0,
        pid: None,
        dcs: Some(Dcs::GSM7),
        user_data: Some(ud),
    };
    let bytes = emit_tpdu(&Tpdu::StatusReport(st));
    assert_eq!(bytes[0], 0x02 | 0x08 | 0x20 | 0x40);
    exact(&bytes, Direction::Mt, Carrier::RpData);
}

#[test]
fn rp_data_from_the_seed_capture() {
    // MO RP-DATA: MTI 00, MR 09, empty originator, destination 03 81 98F4 ("894"), then the TPDU.
    let tpdu = hex("11000B916407281553F80000AA0AE8329BFD4697D9EC37");
    let mut wire = hex("0009000381 98F4");
    wire.push(tpdu.len() as u8);
    wire.extend_from_slice(&tpdu);
    let m = RpMessage::parse(&wire).unwrap();
    let RpMessage::Data(d) = m else { panic!() };
    assert_eq!(
        (d.direction, d.reference, d.originator),
        (RpDirection::MsToNetwork, 9, None)
    );
    assert_eq!(d.destination.unwrap().to_string(), "894");
    assert!(matches!(d.tpdu(), Ok(Tpdu::Submit(_))));
    assert_eq!(emit_rp(&m), wire);
    let rebuilt = RpData::mo(
        9,
        RpAddress::new(TypeOfAddress::UNKNOWN, "894").unwrap(),
        &d.tpdu().unwrap(),
    )
    .unwrap();
    assert_eq!(RpMessage::Data(rebuilt), m);
    assert_eq!(
        RpMessage::parse_directed(&wire, RpDirection::NetworkToMs),
        Err(Error::UnknownMessageType(0))
    );

    // MT RP-DATA: MTI 01, originator = SC address.
    let deliver = Tpdu::parse_mt(&hex(
        "240C914477581006500000916042113312800AE8329BFD4697D9EC37",
    ))
    .unwrap();
    let mt = RpMessage::Data(
        RpData::mt(
            3,
            RpAddress::international("+447785016005").unwrap(),
            &deliver,
        )
        .unwrap(),
    );
    let bytes = emit_rp(&mt);
    assert_eq!(bytes[..11], hex("0103 07 91 4477581006 50 00"));
    assert_eq!(RpMessage::parse(&bytes), Ok(mt));
}

#[test]
fn rp_ack_error_smma() {
    // Network-to-MS RP-ACK carrying an SMS-SUBMIT-REPORT (RP-ACK form) in IE 0x41.
    let wire = hex("0309 41 09 0100 52309041509580");
    let m = RpMessage::parse(&wire).unwrap();
    let RpMessage::Ack(a) = m else { panic!() };
    assert_eq!((a.direction, a.reference), (RpDirection::NetworkToMs, 9));
    let t = a
        .user_data
        .unwrap()
        .tpdu(a.direction, Carrier::RpAck)
        .unwrap();
    assert!(matches!(
        t,
        Tpdu::SubmitReport(SubmitReport {
            failure_cause: None,
            ..
        })
    ));
    assert_eq!(emit_rp(&m), wire);
    assert_eq!(
        emit_rp(&RpMessage::Ack(RpAck {
            direction: RpDirection::MsToNetwork,
            reference: 4,
            user_data: None
        })),
        [0x02, 0x04]
    );

    // MS-to-network RP-ERROR: cause 22 with diagnostic 0, DELIVER-REPORT (RP-ERROR form).
    let wire = hex("040A 02 16 00 41 03 00D300");
    let m = RpMessage::parse(&wire).unwrap();
    let RpMessage::Error(e) = m else { panic!() };
    assert_eq!(
        (e.cause, e.diagnostic),
        (RpCause::MemoryCapacityExceeded, Some(0))
    );
    let t = e
        .user_data
        .unwrap()
        .tpdu(e.direction, Carrier::RpError)
        .unwrap();
    assert_eq!(t.carrier(), Carrier::RpError);
    assert_eq!(emit_rp(&m), wire);
    let wire = hex("0501012A");
    assert_eq!(
        RpMessage::parse(&wire),
        Ok(RpMessage::Error(RpError {
            direction: RpDirection::NetworkToMs,
            reference: 1,
            cause: RpCause::Congestion,
            diagnostic: None,
            user_data: None
        }))
    );

    let m = RpMessage::parse(&[0x06, 0x05]).unwrap();
    assert_eq!(m, RpMessage::Smma(RpSmma { reference: 5 }));
    assert_eq!(emit_rp(&m), [0x06, 0x05]);
}

#[test]
fn decode_errors_produce_rp_error_95_96_97_99() {
    let cases: [(&str, Error, RpCause); 6] = [
        // MTI 7 is reserved.
        (
            "0701",
            Error::UnknownMessageType(7),
            RpCause::MessageTypeNonExistent,
        ),
        // RP-DATA cut inside the destination address.
        (
            "0002000391",
            Error::Truncated,
            RpCause::InvalidMandatoryInformation,
        ),
        // RP-ERROR with a 3-octet cause.
        (
            "0403032A0000",
            Error::BadLength,
            RpCause::InvalidMandatoryInformation,
        ),
        // RP-ACK followed by an unknown IE 0x42.
        (
            "020442",
            Error::UnexpectedIe(0x42),
            RpCause::InformationElementNonExistent,
        ),
        // RP-SMMA with trailing octets.
        (
            "060541",
            Error::UnexpectedIe(0x41),
            RpCause::InformationElementNonExistent,
        ),
        // RP-DATA with an empty TPDU.
        (
            "00070000",
            Error::Truncated,
            RpCause::InvalidMandatoryInformation,
        ),
    ];
    for (wire, err, cause) in cases {
        let wire = hex(wire);
        assert_eq!(RpMessage::parse(&wire), Err(err), "{wire:02x?}");
        let answer = RpMessage::error_response(&wire, &err).unwrap();
        let RpMessage::Error(e) = answer else {
            panic!()
        };
        assert_eq!(e.cause, cause);
        assert_eq!(e.reference, wire[1]);
        assert_eq!(
            e.direction,
            RpPacket::new_checked(&wire).unwrap().direction().reverse()
        );
    }
    // A TPDU whose TP-UDL exceeds 160 septets is semantically incorrect: #95.
    let bad = hex("01000B916407281553F80000A1");
    let err = Tpdu::parse_mo(&bad).unwrap_err();
    assert_eq!(err, Error::InvalidValue);
    let answer = RpMessage::error_response(&hex("0007"), &err).unwrap();
    let mut out = [0u8; 8];
    let n = answer.emit(&mut out).unwrap();
    assert_eq!(out[..n], [0x05, 0x07, 0x01, 95]);
    // Too short to carry a message reference: ignored.
    assert_eq!(RpMessage::error_response(&[0x00], &Error::Truncated), None);
}
