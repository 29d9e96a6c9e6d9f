//! Between SIP identities and TP addresses (TS 23.040 9.1.2.5): the TP-OA of a user's
//! messages, and the public identities a TP-DA may name.

use crate::sms::{Ton, TpAddress, TypeOfAddress};

/// Longest alphanumeric originator (TS 23.040 9.1.2.5: 11 septets).
const MAX_ALPHA: usize = 11;

/// The TP address of a public identity: `tel:+N` / `sip:+N@host` international, an all-digit
/// user part of unknown type, anything else the user part as an alphanumeric address.
pub fn tp_address_of_impu(impu: &str) -> TpAddress {
    let user = user_part(impu);
    let digits = user.trim_start_matches('+');
    let numeric =
        !digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit());
    if numeric {
        let toa = if user.starts_with('+') {
            TypeOfAddress::INTERNATIONAL
        } else {
            TypeOfAddress::UNKNOWN
        };
        if let Ok(a) = TpAddress::new(toa, digits) {
            return a;
        }
    }
    let alpha: String = user
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(MAX_ALPHA)
        .collect();
    TpAddress::alphanumeric(if alpha.is_empty() { "ringcore" } else { &alpha })
        // ASCII letters and digits are all in the GSM 7-bit default alphabet, 11 fit.
        .expect("ASCII alphanumerics encode")
}

/// The user part of a `sip:`/`tel:` URI (the whole text when it has neither).
fn user_part(impu: &str) -> &str {
    let s = impu.trim().trim_start_matches('<').trim_end_matches('>');
    if let Some(n) = s.strip_prefix("tel:") {
        return n.split(';').next().unwrap_or(n);
    }
    let rest = s
        .strip_prefix("sips:")
        .or_else(|| s.strip_prefix("sip:"))
        .unwrap_or(s);
    let rest = rest.split([';', '?']).next().unwrap_or(rest);
    rest.rsplit_once('@').map_or(rest, |(u, _)| u)
}

/// The text form of a TP address: `+digits` for an international number, the digits, or
/// the alphanumeric text.
pub fn address_text(a: &TpAddress) -> String {
    if let Some(t) = a.text() {
        return t;
    }
    let digits: String = a.digits().collect();
    if a.toa.ton == Ton::International {
        format!("+{digits}")
    } else {
        digits
    }
}

/// The public identities a TP-DA may stand for, most specific first: `tel:+N`, `tel:N`,
/// `sip:+N@domain`, `sip:N@domain` (an alphanumeric one: `sip:text@domain`).
pub fn impu_candidates(da: &TpAddress, domain: &str) -> Vec<String> {
    if let Some(t) = da.text() {
        return vec![format!("sip:{t}@{domain}")];
    }
    let digits: String = da.digits().collect();
    let mut v = vec![
        format!("tel:+{digits}"),
        format!("tel:{digits}"),
        format!("sip:+{digits}@{domain}"),
        format!("sip:{digits}@{domain}"),
    ];
    if da.toa.ton != Ton::International {
        v.swap(0, 1);
        v.swap(2, 3);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_map_to_tp_addresses() {
        let a = tp_address_of_impu("tel:+33612345678");
        assert_eq!(
            (a.toa, address_text(&a)),
            (TypeOfAddress::INTERNATIONAL, "+33612345678".to_string())
        );
        let b = tp_address_of_impu("<sip:0612345678@ims.example;user=phone>");
        assert_eq!(
            (b.toa, address_text(&b)),
            (TypeOfAddress::UNKNOWN, "0612345678".to_string())
        );
        let c = tp_address_of_impu("sip:alice.smith@ims.example");
        assert!(c.is_alphanumeric());
        assert_eq!(address_text(&c), "alicesmith");
    }

    #[test]
    fn a_destination_names_tel_and_sip_forms() {
        let da = TpAddress::international("+123").unwrap();
        assert_eq!(
            impu_candidates(&da, "d")[..2],
            ["tel:+123".to_string(), "tel:123".to_string()]
        );
        let local = TpAddress::new(TypeOfAddress::UNKNOWN, "123").unwrap();
        assert_eq!(impu_candidates(&local, "d")[0], "tel:123");
        assert!(impu_candidates(&local, "d").contains(&"sip:123@d".to_string()));
    }
}
