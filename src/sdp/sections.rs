//! What the media sections of a valid body say about transport, read while the
//! body is checked ([`super::SdpView::new_valid`]): kind, port, RTP address and
//! whether a `qos` precondition is desired — enough to anchor media without
//! building the [`super::SessionDescription`].

use std::net::{IpAddr, SocketAddr};

use super::{MediaKind, MAX_MEDIA};

/// One media section of a valid body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    /// `<media>` of the `m=` line.
    pub kind: MediaKind,
    /// `<port>` of the `m=` line (0: rejected, RFC 3264 6).
    pub port: u16,
    /// RTP address: the media-level `c=` address, else the session-level one
    /// (RFC 8866 5.7), with the port; None for a rejected section.
    pub remote: Option<SocketAddr>,
    /// An `a=des:qos` line of strength mandatory or optional (RFC 3312 5).
    pub qos_des: bool,
}

/// The media sections of a valid body, in order (at most [`MAX_MEDIA`]; no allocation).
#[derive(Clone, Debug)]
pub struct Sections {
    items: [Option<Section>; MAX_MEDIA],
    len: usize,
    session_addr: Option<IpAddr>,
}

impl Sections {
    pub(super) fn new() -> Sections {
        Sections { items: [None; MAX_MEDIA], len: 0, session_addr: None }
    }

    /// Opens section `len` (the caller checked the `MAX_MEDIA` bound).
    pub(super) fn push(&mut self, kind: MediaKind, port: u16) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = Some(Section { kind, port, remote: None, qos_des: false });
            self.len += 1;
        }
    }

    fn last(&mut self) -> Option<&mut Section> {
        self.items.get_mut(self.len.checked_sub(1)?)?.as_mut()
    }

    /// A `c=` address: of the open section, or of the session before any `m=`.
    pub(super) fn connection(&mut self, addr: IpAddr) {
        match self.last() {
            Some(m) => m.remote = Some(SocketAddr::new(addr, m.port)),
            None => self.session_addr = Some(addr),
        }
    }

    /// An `a=des:qos` (mandatory or optional) in the open section.
    pub(super) fn qos_des(&mut self) {
        if let Some(m) = self.last() {
            m.qos_des = true;
        }
    }

    /// After the last line: sections without `c=` use the session's; port 0 has none.
    pub(super) fn finish(&mut self) {
        let session = self.session_addr;
        for m in self.items.iter_mut().flatten() {
            m.remote = match m.port {
                0 => None,
                port => m.remote.or(session.map(|a| SocketAddr::new(a, port))),
            };
        }
    }

    /// The sections in order.
    pub fn iter(&self) -> impl Iterator<Item = &Section> {
        self.items.iter().take(self.len).flatten()
    }

    /// Number of sections.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there is no media section.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Section `i`.
    pub fn get(&self, i: usize) -> Option<&Section> {
        self.items.get(i)?.as_ref()
    }
}
