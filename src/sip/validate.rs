//! Mandatory-header and consistency checks (RFC 3261 8.1.1, 8.2.2, 20), kept apart from
//! parsing so that a proxy can still build a 400 for a malformed message when Via, From,
//! To, Call-ID and CSeq are usable.

use super::error::Error;
use super::header::HeaderName as H;
use super::message::Message;
use super::scan::{balanced, trim};

/// Single-valued headers checked for duplicates (RFC 4475 multi01).
const SINGLE: [H; 6] = [H::From, H::To, H::CallId, H::CSeq, H::MaxForwards, H::ContentType];

impl<'a> Message<'a> {
    /// Checks what RFC 3261 requires of every message: Via (all values well formed),
    /// From, To, Call-ID, CSeq (method equal to the request method), Max-Forwards for
    /// requests, no duplicated single-valued header, balanced quotes in From/To/Contact,
    /// well-formed Contact values, Expires, a GMT Date and a Content-Type when a body is
    /// present. Returns the first violation.
    pub fn validate(&self) -> Result<(), Error> {
        // One pass over the header index counts the single-instance headers;
        // the first duplicate in SINGLE's order is reported.
        let mut seen = [0u8; SINGLE.len()];
        for h in self.headers() {
            if let Some(i) = SINGLE.iter().position(|n| *n == h.name) {
                seen[i] = seen[i].saturating_add(1);
            }
        }
        if let Some(i) = seen.iter().position(|&n| n > 1) {
            return Err(Error::Duplicate(SINGLE[i]));
        }
        if self.header(H::Via).is_none() {
            return Err(Error::Missing(H::Via));
        }
        for via in self.vias() {
            via?;
        }
        for name in [H::From, H::To] {
            if self.header(name).is_some_and(|v| !balanced(v)) {
                return Err(Error::Bad(name));
            }
        }
        self.from()?;
        self.to()?;
        self.call_id()?;
        let cseq = self.cseq()?;
        if let Some(method) = self.method() {
            // RFC 3261 8.1.1.5 / 12.2.1.1: the CSeq method matches the request method.
            if cseq.method != method {
                return Err(Error::CSeqMethodMismatch);
            }
            self.max_forwards()?;
        }
        for c in self.contacts() {
            c?;
        }
        self.expires()?;
        self.check_date()?;
        if !self.body().is_empty() && self.header(H::ContentType).is_none() {
            return Err(Error::MissingContentType);
        }
        Ok(())
    }

    /// RFC 3261 20.17: `Date: rfc1123-date`, always in GMT (RFC 4475 baddate).
    fn check_date(&self) -> Result<(), Error> {
        match self.header(H::Date) {
            Some(d) if !trim(d).ends_with(b" GMT") => Err(Error::Bad(H::Date)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) -> Result<(), Error> {
        Message::parse(s.as_bytes())?.validate()
    }

    const BASE: &str = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\
From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n";

    #[test]
    fn mandatory_headers() {
        assert_eq!(check(&format!("{BASE}Max-Forwards: 70\r\n\r\n")), Ok(()));
        assert_eq!(check(&format!("{BASE}\r\n")), Err(Error::Missing(H::MaxForwards)));
        assert_eq!(check(&format!("{BASE}Max-Forwards: 300\r\n\r\n")), Err(Error::Bad(H::MaxForwards)));
        let no_callid = BASE.replace("Call-ID: c\r\n", "");
        assert_eq!(check(&format!("{no_callid}Max-Forwards: 1\r\n\r\n")).unwrap_err().reason(), "Missing Call-ID");
        let mismatch = BASE.replace("1 OPTIONS", "1 INVITE");
        assert_eq!(check(&format!("{mismatch}Max-Forwards: 1\r\n\r\n")), Err(Error::CSeqMethodMismatch));
        assert_eq!(check(&format!("{BASE}Max-Forwards: 1\r\nCall-ID: d\r\n\r\n")), Err(Error::Duplicate(H::CallId)));
        assert_eq!(check(&format!("{BASE}Max-Forwards: 1\r\nDate: Fri, 01 Jan 2010 16:00:00 EST\r\n\r\n")), Err(Error::Bad(H::Date)));
        assert_eq!(check(&format!("{BASE}Max-Forwards: 1\r\n\r\nbody")), Err(Error::MissingContentType));
        assert_eq!(check(&format!("{BASE}Max-Forwards: 1\r\nContact: sip:x@y?a=b\r\n\r\n")), Err(Error::Bad(H::Contact)));
    }
}
