//! The body shared by the `sip_parse` fuzz target and the in-crate mutation test: parse,
//! validate, every accessor, stream framing and a response built from the input. It must
//! never panic, whatever the bytes.

use super::builder::Builder;
use super::framing::{frame_len, keepalive};
use super::header::HeaderName;
use super::message::Message;
use super::transaction::TxMessage;
use super::{TxView, MAX_MESSAGE_SIZE};

/// Runs every decoder on `data`; returns the number of items decoded (to keep the work
/// observable for the optimiser).
pub fn exercise(data: &[u8]) -> usize {
    let mut n = usize::from(keepalive(data).is_some());
    n += frame_len(data, MAX_MESSAGE_SIZE).ok().flatten().unwrap_or(0);
    // The worker's light scan of a message the control thread built (falls back to the
    // full parse on anything unusual).
    n += TxView::with_built(data, |v| usize::from(v.message().is_none())).unwrap_or(0);
    let Ok(m) = Message::parse(data) else { return n };
    n += usize::from(m.validate().is_ok());
    n += usize::from(m.request_uri().is_ok()) + usize::from(m.via_top().is_ok());
    n += m.vias().filter_map(Result::ok).map(|v| v.branch().map_or(0, <[u8]>::len) + usize::from(v.rport().is_some())).sum::<usize>();
    // The control thread's read of a response's branch (light scan, else the full parse).
    n += m.header_values(HeaderName::Via).next().and_then(super::via_branch).map_or(0, <[u8]>::len);
    n += usize::from(m.cseq().is_ok()) + m.call_id().map_or(0, <[u8]>::len);
    n += m.from().map_or(0, |f| f.tag().map_or(1, <[u8]>::len));
    n += m.to().map_or(0, |t| t.display_name().map_or(1, <[u8]>::len));
    n += usize::from(m.max_forwards().is_ok()) + usize::from(m.expires().is_ok());
    n += usize::from(m.min_expires().is_ok()) + usize::from(m.rseq().is_ok());
    n += usize::from(m.min_se().is_ok()) + usize::from(m.rack().is_ok());
    n += usize::from(m.session_expires().is_ok()) + usize::from(m.content_type().is_some());
    n += m.contacts().filter_map(Result::ok).count();
    for c in m.contacts().flatten() {
        if let super::Contact::Addr(a) = c {
            n += usize::from(a.q().is_some()) + usize::from(a.expires().is_some());
            n += a.sip_instance().map_or(0, <[u8]>::len) + usize::from(a.feature(b"video").is_some());
        }
    }
    for name in [HeaderName::Route, HeaderName::Path, HeaderName::ServiceRoute, HeaderName::PAssociatedUri] {
        n += m.name_addrs(name).filter_map(Result::ok).map(|a| a.uri.params().count()).sum::<usize>();
    }
    n += m.record_routes().count() + m.p_asserted_identities().count() + m.p_preferred_identities().count();
    n += usize::from(m.p_called_party_id().is_ok()) + usize::from(m.event().is_some());
    n += usize::from(m.subscription_state().is_some()) + usize::from(m.p_access_network_info().is_some());
    n += m.reasons().count() + m.tokens(HeaderName::Supported).count();
    n += usize::from(m.has_token(HeaderName::Require, b"100rel"));
    n += m.param_values(HeaderName::AcceptContact).map(|p| p.params().count()).sum::<usize>();
    for a in [m.authorization(), m.proxy_authorization(), m.www_authenticate(), m.proxy_authenticate()] {
        if let Ok(Some(a)) = a {
            n += a.iter().count() + usize::from(a.nc().is_some()) + usize::from(a.stale());
            n += a.auts().map_or(0, <[u8]>::len) + usize::from(a.offers_qop(b"auth"));
        }
    }
    for s in m.security_client().chain(m.security_verify()).chain(m.security_server()).flatten() {
        n += usize::from(s.spi_c().is_some()) + usize::from(s.port_s().is_some()) + usize::from(s.q().is_some());
    }
    for v in m.headers() {
        n += m.header_values(v.name).count();
    }
    n += m.body().len();
    // The transaction views: the full one, the one of a validated received request and the
    // light scan of a built message (the worker's paths).
    n += usize::from(TxView::new(&m).is_ok());
    if let Ok(checked) = m.validated() {
        n += usize::from(TxView::validated(&m).is_ok());
        n += checked.map_or(0, |c| TxView::from_validated(&m, &c).call_id().len());
    }
    let mut out = [0u8; 4096];
    if let Ok(b) = Builder::response_to(&mut out, &m, 400, b"Bad Request", b"fz") {
        if let Ok(len) = b.finish(b"") {
            n += len;
        }
    }
    n
}

/// REGISTER with an AKA Authorization, sec-agree and IMS headers (a UE's second REGISTER).
pub const REGISTER_AKA: &[u8] = b"REGISTER sip:ims.mnc001.mcc001.3gppnetwork.org SIP/2.0\r\n\
Via: SIP/2.0/UDP [2001:db8:1::10]:5062;branch=z9hG4bK1f2e3d4c;rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=4a5b6c\r\n\
To: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>\r\n\
Call-ID: 7a1c3e5f-reg@2001:db8:1::10\r\n\
CSeq: 2 REGISTER\r\n\
Contact: <sip:001010000000001@[2001:db8:1::10]:5062>;expires=600000;+sip.instance=\"<urn:gsma:imei:35209900-176148-0>\";+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\";+g.3gpp.smsip;video\r\n\
Authorization: Digest username=\"001010000000001@ims.mnc001.mcc001.3gppnetwork.org\", realm=\"ims.mnc001.mcc001.3gppnetwork.org\", uri=\"sip:ims.mnc001.mcc001.3gppnetwork.org\", nonce=\"3qs5LMqXR4pKSqCpA1U5yAD4ECcQ4/sYvHgMbw9cWA8=\", response=\"6629fae49393a05397450978507c4ef1\", algorithm=AKAv1-MD5, qop=auth, nc=00000001, cnonce=\"0a4f113b\", integrity-protected=\"yes\"\r\n\
Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;spi-c=3929102;spi-s=1203393;port-c=5062;port-s=5064;prot=esp;mod=trans, ipsec-3gpp;alg=hmac-md5-96;ealg=null;spi-c=3929102;spi-s=1203393;port-c=5062;port-s=5064;prot=esp;mod=trans\r\n\
Security-Verify: ipsec-3gpp;q=0.1;alg=hmac-sha-1-96;ealg=null;spi-c=1111;spi-s=2222;port-c=5100;port-s=5101;prot=esp;mod=trans\r\n\
Require: sec-agree\r\nProxy-Require: sec-agree\r\n\
Supported: path, gruu, sec-agree\r\n\
Allow: INVITE, ACK, CANCEL, BYE, UPDATE, PRACK, MESSAGE, OPTIONS, NOTIFY\r\n\
P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=00101000100000001\r\n\
Expires: 600000\r\n\
User-Agent: ringload\r\n\
Content-Length: 0\r\n\r\n";

/// 200 OK to REGISTER with Service-Route, P-Associated-URI, Path and Contact.
pub const OK_REGISTER: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP [2001:db8:1::10]:5062;branch=z9hG4bK1f2e3d4c;rport=5062;received=2001:db8:1::10\r\n\
From: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=4a5b6c\r\n\
To: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>;tag=srv1\r\n\
Call-ID: 7a1c3e5f-reg@2001:db8:1::10\r\n\
CSeq: 2 REGISTER\r\n\
Path: <sip:term@pcscf.ims.mnc001.mcc001.3gppnetwork.org:5060;lr>\r\n\
Service-Route: <sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>\r\n\
P-Associated-URI: <sip:001010000000001@ims.mnc001.mcc001.3gppnetwork.org>, <tel:+15551234567>, \"Alice\" <sip:+15551234567@ims.mnc001.mcc001.3gppnetwork.org;user=phone>\r\n\
Contact: <sip:001010000000001@[2001:db8:1::10]:5062>;expires=600000;+sip.instance=\"<urn:gsma:imei:35209900-176148-0>\";+g.3gpp.smsip\r\n\
Security-Server: ipsec-3gpp;q=0.1;alg=hmac-sha-1-96;ealg=null;spi-c=1111;spi-s=2222;port-c=5100;port-s=5101;prot=esp;mod=trans\r\n\
Supported: path\r\n\
Content-Length: 0\r\n\r\n";

/// INVITE with an SDP offer.
pub const INVITE_SDP: &[u8] = b"INVITE tel:+15557654321;phone-context=ims.mnc001.mcc001.3gppnetwork.org SIP/2.0\r\n\
Via: SIP/2.0/UDP [2001:db8:1::10]:5062;branch=z9hG4bKinv0001;rport\r\n\
Max-Forwards: 70\r\n\
Route: <sip:[2001:db8::2]:5100;lr>, <sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>\r\n\
From: <sip:+15551234567@ims.mnc001.mcc001.3gppnetwork.org>;tag=f00d\r\n\
To: <tel:+15557654321;phone-context=ims.mnc001.mcc001.3gppnetwork.org>\r\n\
Call-ID: inv-1234567890@2001:db8:1::10\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:001010000000001@[2001:db8:1::10]:5062>;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"\r\n\
P-Preferred-Identity: <sip:+15551234567@ims.mnc001.mcc001.3gppnetwork.org>\r\n\
Accept-Contact: *;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"\r\n\
Supported: 100rel, timer, precondition\r\n\
Session-Expires: 1800;refresher=uac\r\nMin-SE: 90\r\n\
Allow: INVITE, ACK, CANCEL, BYE, UPDATE, PRACK, MESSAGE, OPTIONS, NOTIFY\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 227\r\n\r\n\
v=0\r\no=- 1 1 IN IP6 2001:db8:1::10\r\ns=-\r\nc=IN IP6 2001:db8:1::10\r\nt=0 0\r\n\
m=audio 50000 RTP/AVP 116 118\r\nb=AS:49\r\na=rtpmap:116 AMR-WB/16000/1\r\n\
a=fmtp:116 mode-change-capability=2\r\na=rtpmap:118 telephone-event/16000\r\na=sendrecv\r\n";

/// Ordinary messages for seeds and differential tests.
pub const CORPUS: &[&[u8]] = &[
    REGISTER_AKA,
    OK_REGISTER,
    INVITE_SDP,
    b"BYE sip:alice@[2001:db8:1::10]:5062 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bKbye1\r\n\
Max-Forwards: 69\r\nFrom: \"Bob\" <sip:bob@example.com>;tag=b1\r\nTo: <sip:alice@example.com>;tag=a1\r\n\
Call-ID: c-bye@x\r\nCSeq: 3 BYE\r\nReason: Q.850;cause=16;text=\"Normal call clearing\"\r\nl: 0\r\n\r\n",
    b"OPTIONS sip:pcscf.example.com SIP/2.0\r\nv: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKopt;rport\r\n\
Max-Forwards: 70\r\nf: <sip:probe@example.com>;tag=p\r\nt: <sip:pcscf.example.com>\r\ni: opt-1\r\n\
CSeq: 10 OPTIONS\r\nAccept: application/sdp\r\nl: 0\r\n\r\n",
    b"SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n\
From: <sip:u@example.com>;tag=1\r\nTo: <sip:u@example.com>;tag=2\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\n\
WWW-Authenticate: Digest realm=\"example.com\", nonce=\"bm9uY2U=\", algorithm=AKAv1-MD5, qop=\"auth,auth-int\", opaque=\"x\", stale=FALSE\r\n\
Content-Length: 0\r\n\r\n",
    b"NOTIFY sip:ue@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKn1\r\nMax-Forwards: 70\r\n\
From: <sip:ue@example.com>;tag=n1\r\nTo: <sip:ue@example.com>;tag=n2\r\nCall-ID: sub-1\r\nCSeq: 5 NOTIFY\r\n\
Event: reg;id=7\r\nSubscription-State: active;expires=600000\r\nRSeq: 4\r\nRAck: 1 1 INVITE\r\n\
P-Asserted-Identity: \"Svc\" <sip:svc@example.com>, <tel:+1555>\r\nP-Called-Party-ID: <sip:ue@example.com>\r\n\
P-Visited-Network-ID: \"Visited\", other.net\r\nContent-Type: application/reginfo+xml\r\nContent-Length: 4\r\n\r\n<r/>",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::XorShift;

    const INTERESTING: &[u8] = b":;,\"<>\r\n \t\\%@[]=/0123456789*";

    fn mutate(rng: &mut XorShift, v: &mut Vec<u8>) {
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(v.len());
            match rng.below(6) {
                0 => {
                    if let Some(b) = v.get_mut(at) {
                        *b ^= 1 << rng.below(8);
                    }
                }
                1 => v.insert(at.min(v.len()), INTERESTING[rng.below(INTERESTING.len())]),
                2 => {
                    let end = (at + rng.below(16)).min(v.len());
                    v.drain(at.min(end)..end);
                }
                3 => {
                    let end = (at + rng.below(32)).min(v.len());
                    let chunk = v[at.min(end)..end].to_vec();
                    let to = rng.below(v.len());
                    v.splice(to..to, chunk);
                }
                4 => v.truncate(at),
                _ => {
                    if let Some(b) = v.get_mut(at) {
                        *b = INTERESTING[rng.below(INTERESTING.len())];
                    }
                }
            }
        }
    }

    #[test]
    fn corpus_is_valid_and_exercised() {
        for m in CORPUS {
            let msg = Message::parse(m).unwrap();
            msg.validate().unwrap();
            assert!(exercise(m) > 0);
        }
    }

    #[test]
    fn twenty_thousand_mutations_never_panic() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut parsed = 0;
        for i in 0..20_000 {
            let mut v = CORPUS[i % CORPUS.len()].to_vec();
            mutate(&mut rng, &mut v);
            parsed += usize::from(Message::parse(&v).is_ok());
            exercise(&v);
        }
        // The mutations must leave many messages parseable, or deep code is not reached.
        assert!(parsed > 5_000, "only {parsed} mutated messages parsed");
    }
}
