//! `name-addr` / `addr-spec` values with header parameters (RFC 3261 20.10, 25.1): From,
//! To, Contact, Route, Record-Route, Path, Service-Route, P-Asserted-Identity ...

use super::error::Error;
use super::scan::{find_byte, find_unquoted, is_quoted_string, is_token, params_well_formed, parse_u32, trim, unquote, Params};
use super::uri::Uri;

/// A `name-addr` or `addr-spec` followed by header parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// Display name as received (quoted-string with quotes, or tokens), if any.
    pub display: Option<&'a [u8]>,
    /// The URI.
    pub uri: Uri<'a>,
    /// Header parameters, the text after the `;` that follows the URI.
    pub params: &'a [u8],
}

impl<'a> NameAddr<'a> {
    /// Parses one value (already split from a comma list).
    pub fn parse(v: &'a [u8]) -> Result<NameAddr<'a>, Error> {
        let v = trim(v);
        if let Some(lt) = find_unquoted(v, b'<') {
            let display = trim(v.get(..lt).unwrap_or(&[]));
            // RFC 3261 25.1: display-name = *(token LWS) / quoted-string (RFC 4475 baddn).
            let display_ok = display.is_empty()
                || is_quoted_string(display)
                || display.iter().all(|&b| is_token(b) || b == b' ' || b == b'\t' || b == b'\r' || b == b'\n');
            let after = v.get(lt + 1..).unwrap_or(&[]);
            let gt = find_byte(b'>', after).ok_or(Error::BadUri)?;
            if !display_ok {
                return Err(Error::BadUri);
            }
            // No LWS inside <> (RFC 4475 badaspec): Uri::parse rejects it.
            let uri = Uri::parse(after.get(..gt).unwrap_or(&[]))?;
            let tail = trim(after.get(gt + 1..).unwrap_or(&[]));
            let params = match tail {
                [] => &[][..],
                [b';', p @ ..] => p,
                _ => return Err(Error::BadUri),
            };
            let display = if display.is_empty() { None } else { Some(display) };
            return Self::checked(NameAddr { display, uri, params });
        }
        // RFC 3261 20: an addr-spec with ',', '?' or ';' must be in <> (RFC 4475 regbadct);
        // here every ';' starts a header parameter.
        let semi = find_byte(b';', v).unwrap_or(v.len());
        let spec = trim(v.get(..semi).unwrap_or(&[]));
        if spec.iter().any(|&b| matches!(b, b'?' | b',' | b'"')) {
            return Err(Error::BadUri);
        }
        let uri = Uri::parse(spec)?;
        Self::checked(NameAddr { display: None, uri, params: v.get(semi + 1..).unwrap_or(&[]) })
    }

    fn checked(na: NameAddr<'a>) -> Result<NameAddr<'a>, Error> {
        if na.params.is_empty() || params_well_formed(na.params) {
            Ok(na)
        } else {
            Err(Error::BadUri)
        }
    }

    /// Display name without the surrounding quotes (escapes kept).
    pub fn display_name(&self) -> Option<&'a [u8]> {
        self.display.map(unquote)
    }

    /// Header parameters.
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params)
    }

    /// Looks up a header parameter (`Some(None)` for a flag such as `video`).
    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        self.params().get(name)
    }

    /// `tag` parameter (From/To, RFC 3261 19.3).
    pub fn tag(&self) -> Option<&'a [u8]> {
        Self::tag_in(self.params)
    }

    /// The `tag` parameter in `params`, the header parameters of a From or To.
    pub fn tag_in(params: &[u8]) -> Option<&[u8]> {
        Params::new(params).get(b"tag").flatten()
    }

    /// Contact `expires` parameter (RFC 3261 20.10); `None` if absent or not a number.
    pub fn expires(&self) -> Option<u32> {
        self.param(b"expires").flatten().and_then(parse_u32)
    }

    /// Contact `q` parameter in thousandths (`q=0.33` gives 330), RFC 3261 20.10.
    pub fn q(&self) -> Option<u16> {
        parse_qvalue(self.param(b"q").flatten()?)
    }

    /// `+sip.instance` value with the quotes and `<>` removed, e.g.
    /// `urn:gsma:imei:35209900-176148-0` (RFC 5626 4.1, 3GPP TS 24.229 5.1.1.2).
    pub fn sip_instance(&self) -> Option<&'a [u8]> {
        let v = unquote(self.param(b"+sip.instance").flatten()?);
        Some(match v {
            [b'<', inner @ .., b'>'] => inner,
            _ => v,
        })
    }

    /// A feature tag (RFC 3840) such as `+g.3gpp.smsip`, `video` or `+g.3gpp.icsi-ref`:
    /// `Some(None)` if present without value, `Some(Some(v))` with its unquoted value.
    pub fn feature(&self, tag: &[u8]) -> Option<Option<&'a [u8]>> {
        self.param(tag).map(|v| v.map(unquote))
    }
}

/// RFC 3261 25.1: `qvalue = ("0" ["." 0*3DIGIT]) / ("1" ["." 0*3("0")])`, in thousandths.
pub fn parse_qvalue(v: &[u8]) -> Option<u16> {
    let (int, frac) = match v.iter().position(|&b| b == b'.') {
        Some(d) => (v.get(..d)?, v.get(d + 1..)?),
        None => (v, &[][..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths = 0u16;
    for i in 0..3 {
        thousandths = thousandths * 10 + frac.get(i).map_or(0, |&d| u16::from(d - b'0'));
    }
    match int {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// A Contact value: `*` (RFC 3261 10.2.2, only in a REGISTER with Expires 0) or an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contact<'a> {
    /// `Contact: *`
    Wildcard,
    /// An address with parameters.
    Addr(NameAddr<'a>),
}

impl<'a> Contact<'a> {
    /// Parses one Contact value.
    pub fn parse(v: &'a [u8]) -> Result<Contact<'a>, Error> {
        if trim(v) == b"*" {
            Ok(Contact::Wildcard)
        } else {
            NameAddr::parse(v).map(Contact::Addr)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_addr_forms() {
        let n = NameAddr::parse(br#" "J Rosenberg \\\"" <sip:jdrosen@example.com>
  ;
  tag = 98asjd8"#).unwrap();
        assert_eq!(n.display_name(), Some(&br#"J Rosenberg \\\""#[..]));
        assert_eq!(n.uri.user, Some(&b"jdrosen"[..]));
        assert_eq!(n.tag(), Some(&b"98asjd8"[..]));
        let n = NameAddr::parse(b"sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").unwrap();
        assert_eq!(n.tag(), Some(&b"1918181833n"[..]));
        assert!(n.display.is_none());
        let n = NameAddr::parse(b"caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(n.display, Some(&b"caller"[..]));
        let n = NameAddr::parse(b"<tel:+15551234;phone-context=+1>").unwrap();
        assert_eq!(n.uri.user, Some(&b"+15551234"[..]));
    }

    #[test]
    fn name_addr_rejects() {
        assert!(NameAddr::parse(br#""Mr. J. User <sip:j.user@example.com>"#).is_err());
        assert!(NameAddr::parse(b"Bell, Alexander <sip:a.g.bell@example.com>;tag=43").is_err());
        assert!(NameAddr::parse(b"\"Watson, Thomas\" < sip:t.watson@example.org >").is_err());
        assert!(NameAddr::parse(b"sip:user@example.com?Route=%3Csip:sip.example.com%3E").is_err());
        assert!(NameAddr::parse(b"\"Joe\" <sip:joe@example.org>;;;;").is_err());
    }

    #[test]
    fn contact_feature_tags() {
        let c = Contact::parse(br#"<sip:u@[2001:db8::5]:5060>;expires=600;q=0.7;+g.3gpp.smsip;video;+sip.instance="<urn:gsma:imei:35209900-176148-0>";+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel""#).unwrap();
        let Contact::Addr(a) = c else { panic!("not an address") };
        assert_eq!(a.uri.host, b"[2001:db8::5]");
        assert_eq!(a.expires(), Some(600));
        assert_eq!(a.q(), Some(700));
        assert_eq!(a.feature(b"+g.3gpp.smsip"), Some(None));
        assert_eq!(a.feature(b"VIDEO"), Some(None));
        assert_eq!(a.sip_instance(), Some(&b"urn:gsma:imei:35209900-176148-0"[..]));
        assert_eq!(a.feature(b"+g.3gpp.icsi-ref"), Some(Some(&b"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"[..])));
        assert_eq!(Contact::parse(b" * ").unwrap(), Contact::Wildcard);
        assert_eq!(parse_qvalue(b"1.0"), Some(1000));
        assert_eq!(parse_qvalue(b"1.5"), None);
        assert_eq!(parse_qvalue(b"0.33"), Some(330));
    }
}
