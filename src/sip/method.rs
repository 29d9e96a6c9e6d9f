//! SIP request methods (RFC 3261 7.1 plus the extension methods an IMS core meets:
//! PRACK RFC 3262, SUBSCRIBE/NOTIFY RFC 6665, PUBLISH RFC 3903, INFO RFC 6086,
//! REFER RFC 3515, MESSAGE RFC 3428, UPDATE RFC 3311).

/// A request method. Methods are case-sensitive (RFC 3261 7.1); anything not listed is
/// kept verbatim in `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method<'a> {
    /// INVITE
    Invite,
    /// ACK
    Ack,
    /// BYE
    Bye,
    /// CANCEL
    Cancel,
    /// REGISTER
    Register,
    /// OPTIONS
    Options,
    /// PRACK
    Prack,
    /// SUBSCRIBE
    Subscribe,
    /// NOTIFY
    Notify,
    /// PUBLISH
    Publish,
    /// INFO
    Info,
    /// REFER
    Refer,
    /// MESSAGE
    Message,
    /// UPDATE
    Update,
    /// An extension method (a `token`, RFC 3261 25.1 `extension-method`).
    Other(&'a [u8]),
}

const KNOWN: [(&[u8], Method<'static>); 14] = [
    (b"INVITE", Method::Invite),
    (b"ACK", Method::Ack),
    (b"BYE", Method::Bye),
    (b"CANCEL", Method::Cancel),
    (b"REGISTER", Method::Register),
    (b"OPTIONS", Method::Options),
    (b"PRACK", Method::Prack),
    (b"SUBSCRIBE", Method::Subscribe),
    (b"NOTIFY", Method::Notify),
    (b"PUBLISH", Method::Publish),
    (b"INFO", Method::Info),
    (b"REFER", Method::Refer),
    (b"MESSAGE", Method::Message),
    (b"UPDATE", Method::Update),
];

impl<'a> Method<'a> {
    /// Maps method text to a `Method` (exact, case-sensitive match per RFC 3261 7.1).
    pub fn from_bytes(s: &'a [u8]) -> Method<'a> {
        KNOWN.iter().find(|(n, _)| *n == s).map_or(Method::Other(s), |&(_, m)| m)
    }

    /// The method text.
    pub fn as_bytes(&self) -> &'a [u8] {
        match self {
            Method::Other(s) => s,
            known => KNOWN
                .iter()
                .find(|(_, m)| m == known)
                .map_or(&b""[..], |&(n, _)| n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_case_sensitive() {
        for (n, m) in KNOWN {
            assert_eq!(Method::from_bytes(n), m);
            assert_eq!(m.as_bytes(), n);
        }
        assert_eq!(Method::from_bytes(b"invite"), Method::Other(b"invite"));
        assert_eq!(Method::from_bytes(b"RE%47IST%45R").as_bytes(), b"RE%47IST%45R");
    }
}
