//! Typed, on-demand accessors of [`Message`]: each parses the raw header span when called
//! and borrows from the receive buffer. Mandatory headers return `Result<T, Error>`
//! (`Error::Missing` if absent); optional single headers return `Result<Option<T>, Error>`;
//! list headers return iterators of `Result<T, Error>`.

use super::digest::Auth;
use super::error::Error;
use super::header::HeaderName as H;
use super::message::Message;
use super::nameaddr::{Contact, NameAddr};
use super::scan::{parse_u32, trim, Split};
use super::security::SecMechanism;
use super::uri::Uri;
use super::values::{CSeq, ParamValue, RAck, Reason, SessionExpires};
use super::via::Via;

/// Headers whose value is never a comma list (RFC 3261 7.3.1 exceptions and
/// single-valued headers whose grammar allows commas).
fn is_unsplittable(name: H) -> bool {
    matches!(
        name,
        H::Authorization
            | H::ProxyAuthorization
            | H::WwwAuthenticate
            | H::ProxyAuthenticate
            | H::AuthenticationInfo
            | H::Date
            | H::CallId
            | H::CSeq
            | H::Subject
            | H::UserAgent
            | H::Server
            | H::RetryAfter
            | H::Timestamp
            | H::Identity
            | H::Other
    )
}

/// Iterator over the comma-separated values of every header field of one kind, in order,
/// skipping empty elements. Commas inside quoted strings and `<...>` do not split.
pub struct Values<'a, 'm> {
    msg: &'m Message<'a>,
    name: H,
    next_field: usize,
    current: Option<Split<'a>>,
    split: bool,
}

impl<'a, 'm> Values<'a, 'm> {
    fn next_field(&mut self) -> Option<&'a [u8]> {
        while let Some(h) = self.msg.field(self.next_field) {
            self.next_field += 1;
            if h.name == self.name {
                return Some(h.value);
            }
        }
        None
    }
}

impl<'a, 'm> Iterator for Values<'a, 'm> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if let Some(v) = self.current.as_mut().and_then(Iterator::next) {
                if !v.is_empty() {
                    return Some(v);
                }
                continue;
            }
            let field = self.next_field()?;
            if !self.split {
                return Some(field);
            }
            self.current = Some(Split::new(field, b','));
        }
    }
}

fn required<'a>(m: &Message<'a>, name: H) -> Result<&'a [u8], Error> {
    m.header(name).ok_or(Error::Missing(name))
}

// The value-level checks behind the accessors, shared with `validate` (which finds the
// first values of all its headers in one pass over the index). `value` is the first
// field of its kind, `None` when absent.

/// Call-ID (`word ["@" word]`, RFC 3261 25.1).
pub(super) fn call_id_of(value: Option<&[u8]>) -> Result<&[u8], Error> {
    let v = trim(value.ok_or(Error::Missing(H::CallId))?);
    if v.is_empty() || v.iter().any(|&b| b <= b' ') {
        return Err(Error::Bad(H::CallId));
    }
    Ok(v)
}

/// From or To (`name`).
pub(super) fn name_addr_of(name: H, value: Option<&[u8]>) -> Result<NameAddr<'_>, Error> {
    NameAddr::parse(value.ok_or(Error::Missing(name))?).map_err(|_| Error::Bad(name))
}

/// Max-Forwards (0..=255, RFC 3261 20.22).
pub(super) fn max_forwards_of(value: Option<&[u8]>) -> Result<u8, Error> {
    let v = value.ok_or(Error::Missing(H::MaxForwards))?;
    parse_u32(v).and_then(|n| u8::try_from(n).ok()).ok_or(Error::Bad(H::MaxForwards))
}

/// An optional delta-seconds header (`name`).
pub(super) fn optional_u32_of(name: H, value: Option<&[u8]>) -> Result<Option<u32>, Error> {
    value.map(|v| parse_u32(v).ok_or(Error::Bad(name))).transpose()
}

impl<'a> Message<'a> {
    /// Comma-split values of header `name` across all its fields (RFC 3261 7.3.1). For
    /// headers whose grammar is not a list (authorization, Date, Call-ID, unknown
    /// headers...) each field is yielded whole.
    pub fn header_values(&self, name: H) -> Values<'a, '_> {
        Values { msg: self, name, next_field: 0, current: None, split: !is_unsplittable(name) }
    }

    /// The parsed Request-URI (requests only).
    pub fn request_uri(&self) -> Result<Uri<'a>, Error> {
        Uri::parse(self.request_uri_raw().ok_or(Error::BadStartLine)?).map_err(|_| Error::BadRequestUri)
    }

    /// All Via values, top first.
    pub fn vias(&self) -> impl Iterator<Item = Result<Via<'a>, Error>> + '_ {
        self.header_values(H::Via).map(Via::parse)
    }

    /// The topmost Via (RFC 3261 8.2.6, 18.2.1).
    pub fn via_top(&self) -> Result<Via<'a>, Error> {
        self.vias().next().unwrap_or(Err(Error::Missing(H::Via)))
    }

    /// CSeq.
    pub fn cseq(&self) -> Result<CSeq<'a>, Error> {
        CSeq::parse(required(self, H::CSeq)?)
    }

    /// Call-ID (`word ["@" word]`, RFC 3261 25.1).
    pub fn call_id(&self) -> Result<&'a [u8], Error> {
        call_id_of(self.header(H::CallId))
    }

    /// From.
    pub fn from(&self) -> Result<NameAddr<'a>, Error> {
        name_addr_of(H::From, self.header(H::From))
    }

    /// To.
    pub fn to(&self) -> Result<NameAddr<'a>, Error> {
        name_addr_of(H::To, self.header(H::To))
    }

    /// Max-Forwards (0..=255, RFC 3261 20.22; RFC 4475 scalar02 has 300).
    pub fn max_forwards(&self) -> Result<u8, Error> {
        max_forwards_of(self.header(H::MaxForwards))
    }

    fn optional_u32(&self, name: H) -> Result<Option<u32>, Error> {
        optional_u32_of(name, self.header(name))
    }

    /// Expires header (delta-seconds).
    pub fn expires(&self) -> Result<Option<u32>, Error> {
        self.optional_u32(H::Expires)
    }

    /// Min-Expires (RFC 3261 20.23).
    pub fn min_expires(&self) -> Result<Option<u32>, Error> {
        self.optional_u32(H::MinExpires)
    }

    /// RSeq (RFC 3262 7.1).
    pub fn rseq(&self) -> Result<Option<u32>, Error> {
        self.optional_u32(H::RSeq)
    }

    /// Min-SE (RFC 4028 5), parameters ignored.
    pub fn min_se(&self) -> Result<Option<u32>, Error> {
        self.header(H::MinSe)
            .map(|v| parse_u32(ParamValue::parse(v).value).ok_or(Error::Bad(H::MinSe)))
            .transpose()
    }

    /// RAck (RFC 3262 7.2).
    pub fn rack(&self) -> Result<Option<RAck<'a>>, Error> {
        self.header(H::RAck).map(RAck::parse).transpose()
    }

    /// Session-Expires (RFC 4028 4).
    pub fn session_expires(&self) -> Result<Option<SessionExpires<'a>>, Error> {
        self.header(H::SessionExpires).map(SessionExpires::parse).transpose()
    }

    /// Content-Type as `type/subtype` plus parameters.
    pub fn content_type(&self) -> Option<ParamValue<'a>> {
        self.header(H::ContentType).map(ParamValue::parse)
    }

    /// Contact values (`*` or addresses), across all Contact fields.
    pub fn contacts(&self) -> impl Iterator<Item = Result<Contact<'a>, Error>> + '_ {
        self.header_values(H::Contact).map(|v| Contact::parse(v).map_err(|_| Error::Bad(H::Contact)))
    }

    /// name-addr list of `name` (Route, Record-Route, Path, Service-Route,
    /// P-Associated-URI, P-Asserted-Identity, P-Preferred-Identity, P-Called-Party-ID...).
    pub fn name_addrs(&self, name: H) -> impl Iterator<Item = Result<NameAddr<'a>, Error>> + '_ {
        self.header_values(name).map(move |v| NameAddr::parse(v).map_err(|_| Error::Bad(name)))
    }

    /// Route (RFC 3261 20.34).
    pub fn routes(&self) -> impl Iterator<Item = Result<NameAddr<'a>, Error>> + '_ {
        self.name_addrs(H::Route)
    }

    /// Record-Route (RFC 3261 20.30).
    pub fn record_routes(&self) -> impl Iterator<Item = Result<NameAddr<'a>, Error>> + '_ {
        self.name_addrs(H::RecordRoute)
    }

    /// Path (RFC 3327).
    pub fn paths(&self) -> impl Iterator<Item = Result<NameAddr<'a>, Error>> + '_ {
        self.name_addrs(H::Path)
    }

    /// Service-Route (RFC 3608).
    pub fn service_routes(&self) -> impl Iterator<Item = Result<NameAddr<'a>, Error>> + '_ {
        self.name_addrs(H::ServiceRoute)
    }

    /// P-Associated-URI (RFC 7315 4.1).
    pub fn p_associated_uris(&self) -> impl Iterator<Item = Result<NameAddr<'a>, Error>> + '_ {
        self.name_addrs(H::PAssociatedUri)
    }

    /// P-Asserted-Identity (RFC 3325 9.1).
    pub fn p_asserted_identities(&self) -> impl Iterator<Item = Result<NameAddr<'a>, Error>> + '_ {
        self.name_addrs(H::PAssertedIdentity)
    }

    /// P-Preferred-Identity (RFC 3325 9.2).
    pub fn p_preferred_identities(&self) -> impl Iterator<Item = Result<NameAddr<'a>, Error>> + '_ {
        self.name_addrs(H::PPreferredIdentity)
    }

    /// P-Called-Party-ID (RFC 7315 4.2).
    pub fn p_called_party_id(&self) -> Result<Option<NameAddr<'a>>, Error> {
        self.name_addrs(H::PCalledPartyId).next().transpose()
    }

    /// `value;params` items of `name` (Event, Subscription-State, Accept-Contact,
    /// P-Access-Network-Info, P-Visited-Network-ID, Reason...).
    pub fn param_values(&self, name: H) -> impl Iterator<Item = ParamValue<'a>> + '_ {
        self.header_values(name).map(ParamValue::parse)
    }

    /// Event (RFC 6665 8.2.1): package in `value`, `id` parameter in `params`.
    pub fn event(&self) -> Option<ParamValue<'a>> {
        self.header(H::Event).map(ParamValue::parse)
    }

    /// Subscription-State (RFC 6665 8.2.3).
    pub fn subscription_state(&self) -> Option<ParamValue<'a>> {
        self.header(H::SubscriptionState).map(ParamValue::parse)
    }

    /// P-Access-Network-Info (RFC 7315 4.4): access type in `value`.
    pub fn p_access_network_info(&self) -> Option<ParamValue<'a>> {
        self.header(H::PAccessNetworkInfo).map(ParamValue::parse)
    }

    /// Reason values (RFC 3326).
    pub fn reasons(&self) -> impl Iterator<Item = Result<Reason<'a>, Error>> + '_ {
        self.header_values(H::Reason).map(Reason::parse)
    }

    /// Option tags / tokens of Supported, Require, Proxy-Require, Unsupported, Allow...
    pub fn tokens(&self, name: H) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.header_values(name)
    }

    /// True if the token list `name` contains `token` (case-insensitive).
    pub fn has_token(&self, name: H, token: &[u8]) -> bool {
        self.tokens(name).any(|t| t.eq_ignore_ascii_case(token))
    }

    fn auth(&self, name: H) -> Result<Option<Auth<'a>>, Error> {
        self.header(name).map(|v| Auth::parse(v).map_err(|_| Error::Bad(name))).transpose()
    }

    /// Authorization (first field).
    pub fn authorization(&self) -> Result<Option<Auth<'a>>, Error> {
        self.auth(H::Authorization)
    }

    /// Proxy-Authorization (first field).
    pub fn proxy_authorization(&self) -> Result<Option<Auth<'a>>, Error> {
        self.auth(H::ProxyAuthorization)
    }

    /// WWW-Authenticate (first field).
    pub fn www_authenticate(&self) -> Result<Option<Auth<'a>>, Error> {
        self.auth(H::WwwAuthenticate)
    }

    /// Proxy-Authenticate (first field).
    pub fn proxy_authenticate(&self) -> Result<Option<Auth<'a>>, Error> {
        self.auth(H::ProxyAuthenticate)
    }

    fn sec(&self, name: H) -> impl Iterator<Item = Result<SecMechanism<'a>, Error>> + '_ {
        self.header_values(name).map(move |v| SecMechanism::parse(v).map_err(|_| Error::Bad(name)))
    }

    /// Security-Client mechanisms (RFC 3329 2.2).
    pub fn security_client(&self) -> impl Iterator<Item = Result<SecMechanism<'a>, Error>> + '_ {
        self.sec(H::SecurityClient)
    }

    /// Security-Server mechanisms.
    pub fn security_server(&self) -> impl Iterator<Item = Result<SecMechanism<'a>, Error>> + '_ {
        self.sec(H::SecurityServer)
    }

    /// Security-Verify mechanisms.
    pub fn security_verify(&self) -> impl Iterator<Item = Result<SecMechanism<'a>, Error>> + '_ {
        self.sec(H::SecurityVerify)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fuzzing::{CORPUS, INVITE_SDP, OK_REGISTER, REGISTER_AKA};
    use super::super::{Algorithm, Method, Scheme};
    use super::*;

    #[test]
    fn register_with_aka_and_sec_agree() {
        let m = Message::parse(REGISTER_AKA).unwrap();
        let v = m.via_top().unwrap();
        assert_eq!((v.host, v.port, v.rport()), (&b"[2001:db8:1::10]"[..], Some(5062), Some(None)));
        let a = m.authorization().unwrap().unwrap();
        assert_eq!(a.algorithm(), Algorithm::AkaV1Md5);
        assert_eq!(a.integrity_protected(), Some(&b"yes"[..]));
        let sc: Vec<_> = m.security_client().map(Result::unwrap).collect();
        assert_eq!(sc.len(), 2);
        assert_eq!(sc[0].alg(), Some(&b"hmac-sha-1-96"[..]));
        assert_eq!(sc[1].alg(), Some(&b"hmac-md5-96"[..]));
        assert_eq!(sc[1].port_s(), Some(5064));
        assert_eq!(m.security_verify().next().unwrap().unwrap().spi_s(), Some(2222));
        assert!(m.has_token(H::Require, b"sec-agree"));
        assert_eq!(m.tokens(H::Supported).collect::<Vec<_>>(), vec![&b"path"[..], b"gruu", b"sec-agree"]);
        assert_eq!(m.expires(), Ok(Some(600000)));
        let pani = m.p_access_network_info().unwrap();
        assert_eq!(pani.value, b"3GPP-E-UTRAN-FDD");
        assert_eq!(pani.param(b"utran-cell-id-3gpp"), Some(Some(&b"00101000100000001"[..])));
        let Contact::Addr(c) = m.contacts().next().unwrap().unwrap() else { panic!() };
        assert_eq!(c.sip_instance(), Some(&b"urn:gsma:imei:35209900-176148-0"[..]));
        assert_eq!(m.header_values(H::Allow).count(), 9);
        // Authorization is never comma-split.
        assert_eq!(m.header_values(H::Authorization).count(), 1);
    }

    #[test]
    fn ok_register_ims_routes() {
        let m = Message::parse(OK_REGISTER).unwrap();
        assert_eq!(m.status(), Some(200));
        assert_eq!(m.paths().next().unwrap().unwrap().uri.host, b"pcscf.ims.mnc001.mcc001.3gppnetwork.org");
        assert!(m.service_routes().next().unwrap().unwrap().uri.lr());
        let pau: Vec<_> = m.p_associated_uris().map(Result::unwrap).collect();
        assert_eq!(pau.len(), 3);
        assert_eq!(pau[1].uri.scheme, Scheme::Tel);
        assert_eq!(pau[2].display_name(), Some(&b"Alice"[..]));
        assert_eq!(pau[2].uri.user_param(), Some(&b"phone"[..]));
        assert_eq!(m.via_top().unwrap().received(), Some(&b"2001:db8:1::10"[..]));
        assert_eq!(m.via_top().unwrap().rport(), Some(Some(5062)));
        assert_eq!(m.to().unwrap().tag(), Some(&b"srv1"[..]));
    }

    #[test]
    fn invite_with_tel_uri_and_session_timer() {
        let m = Message::parse(INVITE_SDP).unwrap();
        let ru = m.request_uri().unwrap();
        assert_eq!(ru.scheme, Scheme::Tel);
        assert_eq!(ru.phone_context(), Some(&b"ims.mnc001.mcc001.3gppnetwork.org"[..]));
        assert_eq!(m.routes().count(), 2);
        assert_eq!(m.routes().next().unwrap().unwrap().uri.host, b"[2001:db8::2]");
        let se = m.session_expires().unwrap().unwrap();
        assert_eq!((se.delta, se.refresher), (1800, Some(&b"uac"[..])));
        assert_eq!(m.min_se(), Ok(Some(90)));
        let ac = m.param_values(H::AcceptContact).next().unwrap();
        assert_eq!(ac.value, b"*");
        assert!(ac.param(b"+g.3gpp.icsi-ref").flatten().is_some());
        assert_eq!(m.body().len(), 227);
        assert_eq!(m.p_preferred_identities().count(), 1);
    }

    #[test]
    fn notify_bye_and_challenge() {
        let m = Message::parse(CORPUS[6]).unwrap();
        let ev = m.event().unwrap();
        assert_eq!((ev.value, ev.param(b"id")), (&b"reg"[..], Some(Some(&b"7"[..]))));
        assert_eq!(m.subscription_state().unwrap().param_u32(b"expires"), Some(600000));
        assert_eq!(m.rseq(), Ok(Some(4)));
        assert_eq!(m.rack().unwrap().unwrap().cseq.method, Method::Invite);
        assert_eq!(m.p_asserted_identities().count(), 2);
        assert!(m.p_called_party_id().unwrap().is_some());
        let vn: Vec<_> = m.header_values(H::PVisitedNetworkId).collect();
        assert_eq!(vn, vec![&b"\"Visited\""[..], b"other.net"]);
        let bye = Message::parse(CORPUS[3]).unwrap();
        assert_eq!(bye.reasons().next().unwrap().unwrap().cause, Some(16));
        let ch = Message::parse(CORPUS[5]).unwrap().www_authenticate().unwrap().unwrap();
        assert!(ch.offers_qop(b"auth") && !ch.stale());
    }

    #[test]
    fn compact_forms_and_quoted_commas() {
        let m = Message::parse(
            b"MESSAGE sip:b@x SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: \"Doe, \\\"J\\\"\" <sip:a@x>;tag=1\r\n\
t: sip:b@x\r\ni: id\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 1\r\nm: \"A, B\" <sip:a@h;x=1,2>;q=0.5, <sip:c@h>\r\n\
k: timer\r\nk: 100rel\r\nc: text/plain\r\ne: gzip\r\nx: 90\r\nl: 2\r\n\r\nhi",
        )
        .unwrap();
        m.validate().unwrap();
        assert_eq!(m.from().unwrap().display_name(), Some(&br#"Doe, \"J\""#[..]));
        let cs: Vec<_> = m.contacts().map(Result::unwrap).collect();
        assert_eq!(cs.len(), 2);
        assert_eq!(m.tokens(H::Supported).collect::<Vec<_>>(), vec![&b"timer"[..], b"100rel"]);
        assert_eq!(m.content_type().unwrap().value, b"text/plain");
        assert_eq!(m.header(H::ContentEncoding), Some(&b"gzip"[..]));
        assert_eq!(m.session_expires().unwrap().unwrap().delta, 90);
        assert_eq!(m.body(), b"hi");
        assert!(m.via_top().is_ok() && m.call_id() == Ok(&b"id"[..]));
    }
}
