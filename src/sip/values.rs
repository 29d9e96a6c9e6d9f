//! Small typed header values: CSeq (RFC 3261 20.16), RAck (RFC 3262 7.2),
//! Session-Expires (RFC 4028 4), Reason (RFC 3326), and the generic `value;params` shape
//! shared by Event, Subscription-State, Accept-Contact, P-Access-Network-Info,
//! Content-Type and friends.

use super::error::Error;
use super::header::HeaderName;
use super::method::Method;
use super::scan::{find_unquoted, is_lws, is_token_str, parse_u32, trim, unquote, Params};

/// Splits `a LWS b` into its two trimmed words.
fn two_words(v: &[u8]) -> Option<(&[u8], &[u8])> {
    let v = trim(v);
    let sp = v.iter().position(|&b| is_lws(b))?;
    Some((v.get(..sp)?, trim(v.get(sp..)?)))
}

/// `CSeq: 1*DIGIT LWS Method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// Sequence number (RFC 3261 8.1.1.5: less than 2**31, we accept the u32 range).
    pub seq: u32,
    /// Method.
    pub method: Method<'a>,
}

impl<'a> CSeq<'a> {
    /// Parses a CSeq value.
    pub fn parse(v: &'a [u8]) -> Result<CSeq<'a>, Error> {
        let bad = Error::Bad(HeaderName::CSeq);
        let (n, m) = two_words(v).ok_or(bad)?;
        if !is_token_str(m) {
            return Err(bad);
        }
        Ok(CSeq { seq: parse_u32(n).ok_or(bad)?, method: Method::from_bytes(m) })
    }
}

/// `RAck: response-num LWS CSeq-num LWS Method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RAck<'a> {
    /// RSeq of the acknowledged provisional response.
    pub rseq: u32,
    /// CSeq of the acknowledged response.
    pub cseq: CSeq<'a>,
}

impl<'a> RAck<'a> {
    /// Parses an RAck value.
    pub fn parse(v: &'a [u8]) -> Result<RAck<'a>, Error> {
        let bad = Error::Bad(HeaderName::RAck);
        let (n, rest) = two_words(v).ok_or(bad)?;
        Ok(RAck { rseq: parse_u32(n).ok_or(bad)?, cseq: CSeq::parse(rest).map_err(|_| bad)? })
    }
}

/// A value followed by `;` parameters (`Event: reg;id=1`, `Subscription-State: active;
/// expires=600`, `Accept-Contact: *;+g.3gpp.icsi-ref="..."`, `P-Access-Network-Info:
/// 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=...`, `Content-Type: application/sdp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamValue<'a> {
    /// The value before the first `;`, trimmed.
    pub value: &'a [u8],
    /// The parameters after the first `;`.
    pub params: &'a [u8],
}

impl<'a> ParamValue<'a> {
    /// Splits a value from its parameters (quote-aware).
    pub fn parse(v: &'a [u8]) -> ParamValue<'a> {
        let v = trim(v);
        match find_unquoted(v, b';') {
            Some(i) => ParamValue {
                value: trim(v.get(..i).unwrap_or(&[])),
                params: v.get(i + 1..).unwrap_or(&[]),
            },
            None => ParamValue { value: v, params: &[] },
        }
    }

    /// Parameters.
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params)
    }

    /// Looks up a parameter, with quotes removed from its value.
    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        self.params().get(name).map(|v| v.map(unquote))
    }

    /// A numeric parameter (`expires`, `retry-after`, `cause`, `min-se`...).
    pub fn param_u32(&self, name: &[u8]) -> Option<u32> {
        self.param(name).flatten().and_then(parse_u32)
    }
}

/// `Session-Expires: delta-seconds [;refresher=uac|uas]` (RFC 4028 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionExpires<'a> {
    /// Session interval in seconds.
    pub delta: u32,
    /// `refresher` parameter (`uac` / `uas`).
    pub refresher: Option<&'a [u8]>,
}

impl<'a> SessionExpires<'a> {
    /// Parses a Session-Expires value.
    pub fn parse(v: &'a [u8]) -> Result<SessionExpires<'a>, Error> {
        let p = ParamValue::parse(v);
        let delta = parse_u32(p.value).ok_or(Error::Bad(HeaderName::SessionExpires))?;
        Ok(SessionExpires { delta, refresher: p.param(b"refresher").flatten() })
    }
}

/// `Reason: protocol ;cause=N ;text="..."` (RFC 3326 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reason<'a> {
    /// `SIP`, `Q.850`, ...
    pub protocol: &'a [u8],
    /// `cause` parameter.
    pub cause: Option<u32>,
    /// `text` parameter, unquoted.
    pub text: Option<&'a [u8]>,
}

impl<'a> Reason<'a> {
    /// Parses a Reason value.
    pub fn parse(v: &'a [u8]) -> Result<Reason<'a>, Error> {
        let p = ParamValue::parse(v);
        if !is_token_str(p.value) {
            return Err(Error::Bad(HeaderName::Reason));
        }
        Ok(Reason { protocol: p.value, cause: p.param_u32(b"cause"), text: p.param(b"text").flatten() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq_with_fold_and_leading_zeros() {
        assert_eq!(CSeq::parse(b"0009\r\n  INVITE").unwrap(), CSeq { seq: 9, method: Method::Invite });
        assert!(CSeq::parse(b"36893488147419103232 INVITE").is_err());
        assert!(CSeq::parse(b"1").is_err());
        assert!(CSeq::parse(b"x INVITE").is_err());
    }

    #[test]
    fn rack_session_expires_reason() {
        let r = RAck::parse(b"776656 1 INVITE").unwrap();
        assert_eq!((r.rseq, r.cseq.seq, r.cseq.method), (776656, 1, Method::Invite));
        let s = SessionExpires::parse(b"1800;refresher=uac").unwrap();
        assert_eq!((s.delta, s.refresher), (1800, Some(&b"uac"[..])));
        let r = Reason::parse(br#"Q.850 ;cause=16 ;text="Terminated; normal""#).unwrap();
        assert_eq!(r.protocol, b"Q.850");
        assert_eq!(r.cause, Some(16));
        assert_eq!(r.text, Some(&b"Terminated; normal"[..]));
    }

    #[test]
    fn param_values() {
        let p = ParamValue::parse(b"active;expires=600;reason=timeout");
        assert_eq!(p.value, b"active");
        assert_eq!(p.param_u32(b"expires"), Some(600));
        let p = ParamValue::parse(br#"*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel";explicit"#);
        assert_eq!(p.value, b"*");
        assert_eq!(p.param(b"explicit"), Some(None));
    }
}
