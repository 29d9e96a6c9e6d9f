//! Plain-text SIP MESSAGE interworking (RFC 3428 clients without `+g.3gpp.smsip`): a text
//! becomes SMS-DELIVERs (segmented with a concatenation header when longer than one SMS,
//! TS 23.040 9.2.3.24.1), and what is stored for such a client becomes text again
//! (concatenated parts reassembled first).

use crate::sms::{segment_text, Alphabet, Dcs, Deliver, Error, Timestamp, TpAddress, Tpdu, UserData};

/// The SMS-DELIVERs carrying `text` from `originator`; `dcs` (API `dcs`) keeps its message
/// class when its alphabet matches the one the text needs.
pub fn delivers_of_text(text: &str, originator: TpAddress, scts: Timestamp, reference: u8, dcs: Option<Dcs>, pid: u8) -> Result<Vec<Deliver>, Error> {
    let seg = segment_text(text, reference)?;
    let dcs = match dcs {
        Some(d) if d.alphabet() == seg.alphabet && !d.compressed() => d,
        Some(d) => Dcs::general(seg.alphabet, d.class().filter(|_| d.alphabet() != Alphabet::Data8)),
        None => Dcs::general(seg.alphabet, None),
    };
    Ok(seg.parts.into_iter().map(|user_data| deliver(originator, scts, dcs, pid, user_data)).collect())
}

/// One SMS-DELIVER.
pub fn deliver(originator: TpAddress, scts: Timestamp, dcs: Dcs, pid: u8, user_data: UserData) -> Deliver {
    Deliver {
        more_messages: false,
        loop_prevention: false,
        status_report_indication: false,
        reply_path: false,
        originator,
        pid,
        dcs,
        scts,
        user_data,
    }
}

/// The text of a single TPDU for a plain-text client: the decoded text, 8-bit data in
/// hexadecimal, or a sentence describing a status report.
pub fn text_of_tpdu(t: &Tpdu) -> String {
    match t {
        Tpdu::Deliver(d) => text_of(&d.user_data, d.dcs),
        Tpdu::StatusReport(r) => {
            let to = crate::smsc::address_text(&r.recipient);
            // TS 23.040 9.2.3.15: 0x00-0x1f completed, 0x20-0x3f still trying, others failed.
            let what = match r.status {
                0x00..=0x1f => "delivered",
                0x20..=0x3f => "pending",
                _ => "failed",
            };
            format!("Status report: message {} to {to} {what} (TP-ST {:#04x})", r.message_reference, r.status)
        }
        _ => String::new(),
    }
}

/// Text of user data: decoded, or its octets in hexadecimal for 8-bit data.
pub fn text_of(ud: &UserData, dcs: Dcs) -> String {
    ud.text(dcs).unwrap_or_else(|| ud.body().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::MessageClass;
    use crate::smsc::timestamp_of_unix;

    #[test]
    fn long_text_is_segmented_and_reads_back() {
        let text = "x".repeat(200);
        let oa = TpAddress::international("+111").unwrap();
        let parts = delivers_of_text(&text, oa, timestamp_of_unix(0), 9, None, 0).unwrap();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|d| d.user_data.header().and_then(|h| h.concat()).is_some()));
        let joined: String = parts.iter().map(|d| text_of(&d.user_data, d.dcs)).collect();
        assert_eq!(joined, text);
    }

    #[test]
    fn api_dcs_keeps_its_class_when_the_alphabet_fits() {
        let oa = TpAddress::international("+111").unwrap();
        let flash = delivers_of_text("hi", oa, timestamp_of_unix(0), 1, Some(Dcs::flash()), 0).unwrap();
        assert_eq!(flash[0].dcs.class(), Some(MessageClass::Class0));
        let ucs = delivers_of_text("😀", oa, timestamp_of_unix(0), 1, Some(Dcs(4)), 0).unwrap();
        assert_eq!(ucs[0].dcs, Dcs::UCS2);
        assert_eq!(text_of(&ucs[0].user_data, ucs[0].dcs), "😀");
    }
}
