//! What the registrar reads of a REGISTER request, extracted by the SIP layer
//! (so the registrar never parses SIP text itself and tests can build inputs
//! directly).

use super::bindings::{Contact, Flow, MAX_PATH};
use std::time::{Duration, Instant};

/// Digest credentials of an Authorization header (RFC 2617 3.2.2, RFC 3310 3.4).
#[derive(Clone, Debug, Default)]
pub struct DigestCredentials<'a> {
    /// `username`: the private identity in IMS.
    pub username: &'a str,
    /// `realm`.
    pub realm: &'a str,
    /// `nonce` as received (base64 for AKA).
    pub nonce: &'a str,
    /// `uri`.
    pub uri: &'a str,
    /// `response` (32 hex digits).
    pub response: &'a str,
    /// `algorithm` (MD5, AKAv1-MD5, AKAv2-MD5), when present.
    pub algorithm: Option<&'a str>,
    /// `qop`, when present.
    pub qop: Option<&'a str>,
    /// `nc`, when present.
    pub nc: Option<&'a str>,
    /// `cnonce`, when present.
    pub cnonce: Option<&'a str>,
    /// `auts` (RFC 3310 3.4), base64, when the USIM asks for resynchronisation.
    pub auts: Option<&'a str>,
}

/// One Contact of the REGISTER with the parameters the registrar keeps.
#[derive(Clone, Debug, Default)]
pub struct ContactInput<'a> {
    /// The contact URI (inside <> when it was a name-addr).
    pub uri: &'a str,
    /// The `expires` parameter.
    pub expires: Option<u32>,
    /// The `q` parameter in thousandths.
    pub q: Option<u16>,
    /// `+sip.instance` value, unquoted.
    pub instance: Option<&'a str>,
    /// `+g.3gpp.smsip` present.
    pub sms: bool,
    /// `video` present.
    pub video: bool,
    /// `+g.3gpp.icsi-ref` values (unquoted, comma-separated in the header).
    pub icsi: Option<&'a str>,
}

/// The Contact header(s) of a REGISTER.
#[derive(Clone, Debug)]
pub enum ContactsInput<'a> {
    /// `Contact: *` (RFC 3261 10.2.2).
    Star,
    /// The listed contacts (empty: a query, RFC 3261 10.2.3).
    List(Vec<ContactInput<'a>>),
}

/// A REGISTER as the registrar sees it.
#[derive(Clone, Debug)]
pub struct RegisterInput<'a> {
    /// The public identity being registered: the To URI, normalised.
    pub impu: &'a str,
    /// The request method (REGISTER), for the digest's HA2.
    pub method: &'a str,
    /// The Authorization header, if any.
    pub auth: Option<DigestCredentials<'a>>,
    /// The contacts.
    pub contacts: ContactsInput<'a>,
    /// The Expires header.
    pub expires: Option<u32>,
    /// Call-ID.
    pub call_id: &'a str,
    /// CSeq number.
    pub cseq: u32,
    /// Path header values in order (RFC 3327).
    pub path: Vec<&'a str>,
    /// The UE listed `path` in Supported.
    pub supports_path: bool,
    /// An emergency registration: the Contact carries the `sos` parameter (TS 24.229 5.1.6.2).
    pub emergency: bool,
    /// The flow the REGISTER came on.
    pub flow: Flow,
}

impl RegisterInput<'_> {
    /// The IMEI of `urn:gsma:imei:` instance ids (TS 23.003 13.8, RFC 7254),
    /// digits only, from the first contact that has one.
    pub fn imei(&self) -> Option<String> {
        let ContactsInput::List(list) = &self.contacts else { return None };
        list.iter().find_map(|c| c.instance.and_then(imei_of_instance))
    }
}

/// `<urn:gsma:imei:35209900-176148-1>` → "35209900176148" (TAC + SNR, RFC 7254 4).
pub fn imei_of_instance(instance: &str) -> Option<String> {
    let s = instance.trim_matches(|c| c == '<' || c == '>' || c == '"');
    let rest = s.get(..14).filter(|p| p.eq_ignore_ascii_case("urn:gsma:imei:")).map(|_| &s[14..])?;
    let mut parts = rest.split(';').next()?.split('-');
    let tac = parts.next()?;
    let snr = parts.next()?;
    let digits = format!("{tac}{snr}");
    (digits.len() == 14 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

impl ContactInput<'_> {
    /// The binding for this contact, granted `secs` seconds.
    pub fn to_contact(&self, now: Instant, secs: u32, req: &RegisterInput<'_>) -> Contact {
        Contact {
            uri: self.uri.to_owned(),
            expires_at: now + Duration::from_secs(secs as u64),
            q: self.q.unwrap_or(1000).min(1000),
            instance: self.instance.map(str::to_owned),
            imei: self.instance.and_then(imei_of_instance),
            sms: self.sms,
            video: self.video,
            icsi: self
                .icsi
                .map(|s| s.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect())
                .unwrap_or_default(),
            path: req.path.iter().take(MAX_PATH).map(|p| (*p).to_owned()).collect(),
            call_id: req.call_id.to_owned(),
            cseq: req.cseq,
            flow: req.flow,
            id: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imei_from_gsma_instance() {
        assert_eq!(imei_of_instance("\"<urn:gsma:imei:35209900-176148-1>\"").as_deref(), Some("35209900176148"));
        assert_eq!(imei_of_instance("<urn:gsma:imei:35209900-176148-1;svn=01>").as_deref(), Some("35209900176148"));
        assert_eq!(imei_of_instance("<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"), None);
        assert_eq!(imei_of_instance("<urn:gsma:imei:3520-17>"), None);
    }
}
