//! Header field names: the known set (RFC 3261 20 plus the IMS extension headers) with
//! compact forms (RFC 3261 7.3.3 and later RFCs) mapped to the full name.

macro_rules! header_names {
    ($($variant:ident => $name:literal $(, $compact:literal)?;)*) => {
        /// A header field name. Comparison is case-insensitive (RFC 3261 7.3.1); compact
        /// forms map to the same variant as the full name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum HeaderName {
            $(
                #[doc = $name]
                $variant,
            )*
            /// Any other header; its name is available as a raw span.
            Other,
        }

        /// Every known header with its full name, in declaration order.
        const NAMES: &[(&str, HeaderName)] = &[$(($name, HeaderName::$variant),)*];

        impl HeaderName {
            /// Classifies a raw header name (full or compact form, any case).
            pub fn from_bytes(n: &[u8]) -> HeaderName {
                if let [c] = n {
                    return match c.to_ascii_lowercase() {
                        $($(x if x == $compact => HeaderName::$variant,)?)*
                        _ => HeaderName::Other,
                    };
                }
                lookup(n)
            }

            /// The canonical full name (`""` for `Other`).
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(HeaderName::$variant => $name,)*
                    HeaderName::Other => "",
                }
            }
        }
    };
}

header_names! {
    Via => "Via", b'v';
    From => "From", b'f';
    To => "To", b't';
    CallId => "Call-ID", b'i';
    CSeq => "CSeq";
    MaxForwards => "Max-Forwards";
    Contact => "Contact", b'm';
    ContentLength => "Content-Length", b'l';
    ContentType => "Content-Type", b'c';
    ContentEncoding => "Content-Encoding", b'e';
    Subject => "Subject", b's';
    Supported => "Supported", b'k';
    Expires => "Expires";
    Route => "Route";
    RecordRoute => "Record-Route";
    Require => "Require";
    ProxyRequire => "Proxy-Require";
    Unsupported => "Unsupported";
    Allow => "Allow";
    Accept => "Accept";
    Authorization => "Authorization";
    ProxyAuthorization => "Proxy-Authorization";
    WwwAuthenticate => "WWW-Authenticate";
    ProxyAuthenticate => "Proxy-Authenticate";
    AuthenticationInfo => "Authentication-Info";
    SecurityClient => "Security-Client";
    SecurityServer => "Security-Server";
    SecurityVerify => "Security-Verify";
    Path => "Path";
    ServiceRoute => "Service-Route";
    PAssociatedUri => "P-Associated-URI";
    PAssertedIdentity => "P-Asserted-Identity";
    PPreferredIdentity => "P-Preferred-Identity";
    PAccessNetworkInfo => "P-Access-Network-Info";
    PCalledPartyId => "P-Called-Party-ID";
    PVisitedNetworkId => "P-Visited-Network-ID";
    PChargingVector => "P-Charging-Vector";
    RSeq => "RSeq";
    RAck => "RAck";
    SessionExpires => "Session-Expires", b'x';
    MinSe => "Min-SE";
    MinExpires => "Min-Expires";
    Reason => "Reason";
    AcceptContact => "Accept-Contact", b'a';
    RejectContact => "Reject-Contact", b'j';
    RequestDisposition => "Request-Disposition", b'd';
    Event => "Event", b'o';
    AllowEvents => "Allow-Events", b'u';
    SubscriptionState => "Subscription-State";
    ReferTo => "Refer-To", b'r';
    ReferredBy => "Referred-By", b'b';
    Date => "Date";
    Timestamp => "Timestamp";
    UserAgent => "User-Agent";
    Server => "Server";
    Warning => "Warning";
    RetryAfter => "Retry-After";
    Identity => "Identity", b'y';
}

const BUCKETS: usize = 128;
const PER_BUCKET: usize = 4;

/// Bucket of a name: length, first and last byte, case-folded.
const fn bucket(n: &[u8]) -> usize {
    let len = n.len();
    if len == 0 {
        return 0;
    }
    let first = n[0] | 0x20;
    let last = n[len - 1] | 0x20;
    (len * 31 + first as usize * 7 + last as usize * 3) % BUCKETS
}

/// Hash table over `NAMES` built at compile time: indices + 1 (0 = empty slot).
const TABLE: [[u8; PER_BUCKET]; BUCKETS] = {
    let mut t = [[0u8; PER_BUCKET]; BUCKETS];
    let mut i = 0;
    while i < NAMES.len() {
        let b = bucket(NAMES[i].0.as_bytes());
        let mut k = 0;
        while t[b][k] != 0 {
            k += 1; // a compile error here means a bucket overflowed: raise BUCKETS
        }
        t[b][k] = (i + 1) as u8;
        i += 1;
    }
    t
};

/// Longest name compared word-wise; every known name is shorter.
const MAX_NAME: usize = 24;

/// The first `len` (<= [`MAX_NAME`]) bytes of `n` as three little-endian words: bytes
/// 0..8 (zero-padded when shorter), 8..16 when `len >= 16`, and the last 8 when `len >= 8`.
/// Together they cover every byte.
const fn words(n: &[u8], len: usize) -> [u64; 3] {
    let mut w = [0u64; 3];
    let mut i = 0;
    while i < len {
        let b = n[i] as u64;
        if i < 8 {
            w[0] |= b << (8 * i);
        } else if i < 16 && len >= 16 {
            w[1] |= b << (8 * (i - 8));
        }
        if len >= 8 && i + 8 >= len {
            w[2] |= b << (8 * (i + 8 - len));
        }
        i += 1;
    }
    w
}

/// Runtime [`words`] for `n.len() <= MAX_NAME`, with whole-word loads.
fn input_words(n: &[u8]) -> [u64; 3] {
    let word = |c: Option<&[u8; 8]>| c.map_or(0, |c| u64::from_le_bytes(*c));
    if n.len() < 8 {
        let mut w = 0u64;
        for (i, &b) in n.iter().enumerate() {
            w |= u64::from(b) << (8 * i);
        }
        return [w, 0, 0];
    }
    let middle = if n.len() >= 16 { word(n.get(8..).and_then(|m| m.first_chunk())) } else { 0 };
    [word(n.first_chunk()), middle, word(n.last_chunk())]
}

/// A known name prepared for a word-wise case-insensitive compare (RFC 3261 7.3.1): its
/// lower-case words, and 0x20 in every byte that holds a letter (the only bytes whose
/// case may differ).
#[derive(Clone, Copy)]
struct Folded {
    len: usize,
    lower: [u64; 3],
    letters: [u64; 3],
}

const FOLDED: [Folded; NAMES.len()] = {
    let mut out = [Folded { len: 0, lower: [0; 3], letters: [0; 3] }; NAMES.len()];
    let mut i = 0;
    while i < NAMES.len() {
        let n = NAMES[i].0.as_bytes();
        let mut lower = [0u8; MAX_NAME];
        let mut letters = [0u8; MAX_NAME];
        let mut k = 0;
        while k < n.len() {
            lower[k] = n[k].to_ascii_lowercase();
            letters[k] = if n[k].is_ascii_alphabetic() { 0x20 } else { 0 };
            k += 1;
        }
        out[i] = Folded { len: n.len(), lower: words(&lower, n.len()), letters: words(&letters, n.len()) };
        i += 1;
    }
    out
};

fn lookup(n: &[u8]) -> HeaderName {
    if n.len() > MAX_NAME {
        return HeaderName::Other;
    }
    let Some(slots) = TABLE.get(bucket(n)) else { return HeaderName::Other };
    let w = input_words(n);
    for &s in slots {
        let i = usize::from(s).wrapping_sub(1);
        let (Some(f), Some(&(_, kind))) = (FOLDED.get(i), NAMES.get(i)) else { break };
        if f.len == n.len() && (0..3).all(|k| w[k] | f.letters[k] == f.lower[k]) {
            return kind;
        }
    }
    HeaderName::Other
}

impl HeaderName {
    /// RFC 3261 7.3 / 20: headers that carry at most one value; a second instance is a
    /// malformed message (RFC 4475 multi01, mcl01).
    pub fn is_single(&self) -> bool {
        matches!(
            self,
            HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::MaxForwards
                | HeaderName::ContentLength
                | HeaderName::ContentType
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_case_insensitive() {
        assert_eq!(HeaderName::from_bytes(b"v"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"I"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"MaX-fOrWaRdS"), HeaderName::MaxForwards);
        assert_eq!(HeaderName::from_bytes(b"l"), HeaderName::ContentLength);
        assert_eq!(HeaderName::from_bytes(b"k"), HeaderName::Supported);
        assert_eq!(HeaderName::from_bytes(b"x"), HeaderName::SessionExpires);
        assert_eq!(HeaderName::from_bytes(b"q"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"p-associated-uri"), HeaderName::PAssociatedUri);
        assert_eq!(HeaderName::SecurityClient.as_str(), "Security-Client");
        for &(name, kind) in NAMES {
            assert_eq!(HeaderName::from_bytes(name.to_ascii_uppercase().as_bytes()), kind);
        }
        assert_eq!(HeaderName::from_bytes(b"Viaa"), HeaderName::Other);
        // Only letters fold: CR is not '-' and '@' is not '`'.
        assert_eq!(HeaderName::from_bytes(b"Call\rID"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"P-Access-Network-Inf@"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"p-access-network-info"), HeaderName::PAccessNetworkInfo);
        assert_eq!(HeaderName::from_bytes(b"Content-Lengtx"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"Proxy-Authorizatiom"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b""), HeaderName::Other);
    }
}
