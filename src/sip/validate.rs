//! Mandatory-header and consistency checks (RFC 3261 8.1.1, 8.2.2, 20), kept apart from
//! parsing so that a proxy can still build a 400 for a malformed message when Via, From,
//! To, Call-ID and CSeq are usable.

use super::accessors::{call_id_of, max_forwards_of, name_addr_of, optional_u32_of};
use super::error::Error;
use super::header::HeaderName as H;
use super::message::Message;
use super::nameaddr::NameAddr;
use super::scan::{balanced, trim};
use super::values::CSeq;
use super::via::Via;

/// Single-valued headers checked for duplicates (RFC 4475 multi01).
const SINGLE: [H; 6] = [H::From, H::To, H::CallId, H::CSeq, H::MaxForwards, H::ContentType];

/// What [`Message::validated`] parsed of the fields every transaction matches on
/// (RFC 3261 17.1.3, 17.2.3), so that nothing parses them again.
#[derive(Clone, Copy, Debug)]
pub struct Validated<'a> {
    /// The top Via value, as split from its list.
    pub top_via_raw: &'a [u8],
    /// The top Via.
    pub top_via: Via<'a>,
    /// CSeq.
    pub cseq: CSeq<'a>,
    /// Call-ID, trimmed.
    pub call_id: &'a [u8],
    /// From.
    pub from: NameAddr<'a>,
    /// To.
    pub to: NameAddr<'a>,
}

/// The first value of each header `validate` reads, and how many fields of each
/// [`SINGLE`] header there are, from one pass over the header index (instead of one
/// look-up per header).
#[derive(Default)]
struct Firsts<'a> {
    single: [Option<&'a [u8]>; SINGLE.len()],
    counts: [u8; SINGLE.len()],
    via: Option<&'a [u8]>,
    expires: Option<&'a [u8]>,
    date: Option<&'a [u8]>,
}

impl<'a> Firsts<'a> {
    fn of(msg: &Message<'a>) -> Self {
        let mut f = Firsts::default();
        for h in msg.headers() {
            let slot = match h.name {
                H::Via => &mut f.via,
                H::Expires => &mut f.expires,
                H::Date => &mut f.date,
                name => match SINGLE.iter().position(|n| *n == name) {
                    Some(i) => {
                        // `i` < SINGLE.len(), the length of both arrays.
                        f.counts[i] = f.counts[i].saturating_add(1);
                        &mut f.single[i]
                    }
                    None => continue,
                },
            };
            slot.get_or_insert(h.value);
        }
        f
    }

    /// The first value of `SINGLE[i]`.
    fn single(&self, name: H) -> Option<&'a [u8]> {
        let i = SINGLE.iter().position(|n| *n == name)?;
        *self.single.get(i)?
    }
}

impl<'a> Message<'a> {
    /// Checks what RFC 3261 requires of every message: Via (all values well formed),
    /// From, To, Call-ID, CSeq (method equal to the request method), Max-Forwards for
    /// requests, no duplicated single-valued header, balanced quotes in From/To/Contact,
    /// well-formed Contact values, Expires, a GMT Date and a Content-Type when a body is
    /// present. Returns the first violation.
    pub fn validate(&self) -> Result<(), Error> {
        self.validated().map(|_| ())
    }

    /// [`Message::validate`], giving what it parsed of the transaction fields; `Ok(None)`
    /// when the message is valid but its Via fields hold no value (`Via: ,`), which
    /// `validate` lets pass and the transaction layer refuses.
    pub fn validated(&self) -> Result<Option<Validated<'a>>, Error> {
        let first = Firsts::of(self);
        // The first duplicate in SINGLE's order is reported.
        if let Some(i) = first.counts.iter().position(|&n| n > 1) {
            return Err(Error::Duplicate(SINGLE.get(i).copied().unwrap_or(H::Other)));
        }
        if first.via.is_none() {
            return Err(Error::Missing(H::Via));
        }
        let mut vias = self.header_values(H::Via);
        let top = vias.next().map(|raw| Via::parse(raw).map(|via| (raw, via))).transpose()?;
        for via in vias {
            Via::parse(via)?;
        }
        let (from, to) = (first.single(H::From), first.single(H::To));
        if from.is_some_and(|v| !balanced(v)) {
            return Err(Error::Bad(H::From));
        }
        if to.is_some_and(|v| !balanced(v)) {
            return Err(Error::Bad(H::To));
        }
        let from = name_addr_of(H::From, from)?;
        let to = name_addr_of(H::To, to)?;
        let call_id = call_id_of(first.single(H::CallId))?;
        let cseq = CSeq::parse(first.single(H::CSeq).ok_or(Error::Missing(H::CSeq))?)?;
        if let Some(method) = self.method() {
            // RFC 3261 8.1.1.5 / 12.2.1.1: the CSeq method matches the request method.
            if cseq.method != method {
                return Err(Error::CSeqMethodMismatch);
            }
            max_forwards_of(first.single(H::MaxForwards))?;
        }
        for c in self.contacts() {
            c?;
        }
        optional_u32_of(H::Expires, first.expires)?;
        // RFC 3261 20.17: `Date: rfc1123-date`, always in GMT (RFC 4475 baddate).
        if first.date.is_some_and(|d| !trim(d).ends_with(b" GMT")) {
            return Err(Error::Bad(H::Date));
        }
        if !self.body().is_empty() && first.single(H::ContentType).is_none() {
            return Err(Error::MissingContentType);
        }
        Ok(top.map(|(top_via_raw, top_via)| Validated { top_via_raw, top_via, cseq, call_id, from, to }))
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

    /// The checks as one accessor call each (the definition the single pass must match).
    fn oracle(m: &Message<'_>) -> Result<(), Error> {
        let mut seen = [0u8; SINGLE.len()];
        for h in m.headers() {
            if let Some(i) = SINGLE.iter().position(|n| *n == h.name) {
                seen[i] += 1;
            }
        }
        if let Some(i) = seen.iter().position(|&n| n > 1) {
            return Err(Error::Duplicate(SINGLE[i]));
        }
        m.header(H::Via).ok_or(Error::Missing(H::Via))?;
        for via in m.vias() {
            via?;
        }
        for name in [H::From, H::To] {
            if m.header(name).is_some_and(|v| !balanced(v)) {
                return Err(Error::Bad(name));
            }
        }
        m.from()?;
        m.to()?;
        m.call_id()?;
        let cseq = m.cseq()?;
        if let Some(method) = m.method() {
            if cseq.method != method {
                return Err(Error::CSeqMethodMismatch);
            }
            m.max_forwards()?;
        }
        for c in m.contacts() {
            c?;
        }
        m.expires()?;
        match m.header(H::Date) {
            Some(d) if !trim(d).ends_with(b" GMT") => return Err(Error::Bad(H::Date)),
            _ => {}
        }
        if !m.body().is_empty() && m.header(H::ContentType).is_none() {
            return Err(Error::MissingContentType);
        }
        Ok(())
    }

    /// Every single-byte mutation (and duplicated or dropped line) of a full request and
    /// a response gives the error the accessor-by-accessor checks give.
    #[test]
    fn single_pass_matches_the_accessors_under_mutation() {
        let seeds = [
            format!("{BASE}Max-Forwards: 70\r\nContact: <sip:a@h:5060>;expires=60\r\nExpires: 60\r\nDate: Sat, 13 Nov 2010 23:29:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"),
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx, SIP/2.0/UDP g\r\nFrom: <sip:a@x>;tag=1\r\nTo: b <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n".to_string(),
        ];
        let specials = b";,<>\":= \r\n@/x0G";
        let mut checked = 0;
        for seed in &seeds {
            let lines: Vec<&str> = seed.split_inclusive("\r\n").collect();
            let mut variants: Vec<Vec<u8>> = Vec::new();
            for i in 1..lines.len() {
                let mut dup = lines.clone();
                dup.insert(i, lines[i]);
                variants.push(dup.concat().into_bytes());
                let mut drop = lines.clone();
                drop.remove(i);
                variants.push(drop.concat().into_bytes());
            }
            let bytes = seed.as_bytes();
            for i in 0..bytes.len() {
                for &b in specials {
                    let mut v = bytes.to_vec();
                    v[i] = b;
                    variants.push(v);
                }
            }
            for v in variants {
                if let Ok(m) = Message::parse(&v) {
                    assert_eq!(m.validate(), oracle(&m), "{:?}", String::from_utf8_lossy(&v));
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000, "only {checked} variants parsed");
    }

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
