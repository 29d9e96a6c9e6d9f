//! From the checked [`SdpView`] to the validated [`SessionDescription`]: RFC 8866 5 line
//! order (`v o s` first, then session lines, then media sections of `m i c b k a`),
//! field syntax and the bounds of `super::MAX_*`.

use super::attr::Attribute;
use super::error::{ErrorKind, ParseError};
use super::repr::{
    parse_address, Bandwidth, BandwidthType, Connection, ExtraLine, MediaDescription, MediaKind,
    Origin, SessionDescription, Timing,
};
use super::view::{Line, SdpView};
use super::{MAX_ATTRIBUTES, MAX_BANDWIDTHS, MAX_EXTRA_LINES, MAX_FORMATS, MAX_MEDIA};

pub(crate) fn parse(body: &[u8]) -> Result<SessionDescription, ParseError> {
    let view = SdpView::new_checked(body)?;
    let end = view.line_count() + 1;
    let mut lines = view.lines().peekable();
    let mut next_of = |kind: u8, err: ErrorKind| match lines.next() {
        Some(l) if l.kind == kind => Ok(l),
        Some(l) => Err(ParseError::new(l.number, err)),
        None => Err(ParseError::new(end, err)),
    };
    // RFC 8866 5: v=, o= and s= open every description, in this order.
    let v = next_of(b'v', ErrorKind::BadVersion)?;
    if v.value != "0" {
        return Err(ParseError::new(v.number, ErrorKind::BadVersion));
    }
    let o = next_of(b'o', ErrorKind::BadOrigin)?;
    let origin = parse_origin(o.value).ok_or(ParseError::new(o.number, ErrorKind::BadOrigin))?;
    let s = next_of(b's', ErrorKind::BadSessionName)?;
    if s.value.is_empty() {
        return Err(ParseError::new(s.number, ErrorKind::BadSessionName));
    }
    let mut sd = SessionDescription {
        origin,
        session_name: s.value.to_owned(),
        info: None,
        connection: None,
        bandwidths: Vec::new(),
        timing: Timing::default(),
        extra: Vec::new(),
        attributes: Vec::new(),
        media: Vec::new(),
    };
    let mut have_time = false;
    let mut m_lines = Vec::new();
    for line in lines {
        let n = line.number;
        let err = |kind| ParseError::new(n, kind);
        if line.kind == b'm' {
            if sd.media.len() >= MAX_MEDIA {
                return Err(err(ErrorKind::TooManyMedia));
            }
            sd.media.push(parse_m(line.value).ok_or(err(ErrorKind::BadMedia))?);
            m_lines.push(n);
            continue;
        }
        let res = match sd.media.last_mut() {
            None => session_line(&mut sd, &mut have_time, &line),
            Some(m) => media_line(m, &line),
        };
        res.map_err(err)?;
    }
    if !have_time {
        return Err(ParseError::new(m_lines.first().copied().unwrap_or(end), ErrorKind::BadTime));
    }
    check_connections(&sd, &m_lines)?;
    // RFC 8866 5: u=, e= and p= come before c=, b= and t=, where the emitter writes them.
    // Input that places one later is accepted; the line moves up among the preserved
    // lines (a stable partition: each group keeps its order), so that a description
    // reads back the same after we emit it.
    sd.extra.sort_by_key(|l| !l.precedes_timing());
    Ok(sd)
}

/// RFC 8866 5.7: a `c=` at session level or in every media section (rejected streams,
/// port 0, are exempt).
fn check_connections(sd: &SessionDescription, m_lines: &[usize]) -> Result<(), ParseError> {
    for (m, &n) in sd.media.iter().zip(m_lines) {
        if m.port != 0 && m.connection.is_none() && sd.connection.is_none() {
            return Err(ParseError::new(n, ErrorKind::MissingConnection));
        }
    }
    Ok(())
}

fn session_line(sd: &mut SessionDescription, have_time: &mut bool, l: &Line<'_>) -> Result<(), ErrorKind> {
    match l.kind {
        b'i' if sd.info.is_none() => sd.info = Some(l.value.to_owned()),
        b'c' if sd.connection.is_none() => {
            sd.connection = Some(parse_c(l.value).ok_or(ErrorKind::BadConnection)?)
        }
        b'b' => push_bounded(&mut sd.bandwidths, parse_b(l.value).ok_or(ErrorKind::BadBandwidth)?, MAX_BANDWIDTHS)?,
        b't' if !*have_time => {
            sd.timing = parse_t(l.value).ok_or(ErrorKind::BadTime)?;
            *have_time = true;
        }
        b't' | b'r' | b'z' | b'k' | b'u' | b'e' | b'p' => {
            push_bounded(&mut sd.extra, extra(l), MAX_EXTRA_LINES)?;
        }
        b'a' => push_attr(&mut sd.attributes, l.value)?,
        _ => return Err(ErrorKind::OutOfOrder),
    }
    Ok(())
}

fn media_line(m: &mut MediaDescription, l: &Line<'_>) -> Result<(), ErrorKind> {
    match l.kind {
        b'i' if m.info.is_none() => m.info = Some(l.value.to_owned()),
        b'c' if m.connection.is_none() => {
            m.connection = Some(parse_c(l.value).ok_or(ErrorKind::BadConnection)?)
        }
        b'b' => push_bounded(&mut m.bandwidths, parse_b(l.value).ok_or(ErrorKind::BadBandwidth)?, MAX_BANDWIDTHS)?,
        b'k' => push_bounded(&mut m.extra, extra(l), MAX_EXTRA_LINES)?,
        b'a' => push_attr(&mut m.attributes, l.value)?,
        _ => return Err(ErrorKind::OutOfOrder),
    }
    Ok(())
}

fn extra(l: &Line<'_>) -> ExtraLine {
    ExtraLine { kind: char::from(l.kind), value: l.value.to_owned() }
}

fn push_bounded<T>(v: &mut Vec<T>, item: T, max: usize) -> Result<(), ErrorKind> {
    if v.len() >= max {
        return Err(ErrorKind::TooManyLinesOfType);
    }
    v.push(item);
    Ok(())
}

fn push_attr(v: &mut Vec<Attribute>, value: &str) -> Result<(), ErrorKind> {
    if v.len() >= MAX_ATTRIBUTES {
        return Err(ErrorKind::TooManyAttributes);
    }
    v.push(Attribute::parse(value)?);
    Ok(())
}

/// A non-empty run of ASCII digits (leading zeros allowed) whose value fits `T`: what
/// `str::parse` accepts from such a run, read in one pass without its generic machinery.
pub(crate) fn digits<T: TryFrom<u64>>(s: &str) -> Option<T> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for b in s.bytes() {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    T::try_from(n).ok()
}

/// The decimal digits `s` (leading zeros allowed) name a value that fits a `u128`:
/// what `digits::<u128>` accepts, without the 128-bit arithmetic.
fn fits_u128(s: &str) -> bool {
    const MAX: &str = "340282366920938463463374607431768211455";
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let significant = s.trim_start_matches('0');
    // Equal lengths of ASCII digits compare as the numbers do.
    significant.len() < MAX.len() || (significant.len() == MAX.len() && significant <= MAX)
}

/// `s.split(sep)` for an ASCII `sep`, by a byte scan (the char searcher of `str::split`
/// costs more on the short fields of SDP lines).
pub(crate) fn split_on(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match super::attr::split_ascii(r, sep) {
            Some((head, tail)) => {
                rest = Some(tail);
                Some(head)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Exactly `N` words separated by single spaces (empty words count, as `split(' ')`).
fn words<const N: usize>(v: &str) -> Option<[&str; N]> {
    let mut it = split_on(v, b' ');
    let mut out = [""; N];
    for w in out.iter_mut() {
        *w = it.next()?;
    }
    it.next().is_none().then_some(out)
}

/// RFC 8866 5.2: `<username> <sess-id> <sess-version> IN <addrtype> <unicast-address>`,
/// borrowed: (username, session id, version, address type, address).
pub(crate) fn origin_fields(v: &str) -> Option<(&str, &str, u64, super::AddrType, &str)> {
    let [username, session_id, version, "IN", addr_type, address] = words(v)? else {
        return None;
    };
    fits_u128(session_id).then_some(())?;
    let addr_type = match addr_type {
        "IP4" => super::AddrType::Ip4,
        "IP6" => super::AddrType::Ip6,
        _ => return None,
    };
    if username.is_empty() || address.is_empty() {
        return None;
    }
    Some((username, session_id, digits(version)?, addr_type, address))
}

fn parse_origin(v: &str) -> Option<Origin> {
    let (username, session_id, session_version, addr_type, address) = origin_fields(v)?;
    Some(Origin {
        username: username.to_owned(),
        session_id: session_id.to_owned(),
        session_version,
        addr_type,
        address: address.to_owned(),
    })
}

/// RFC 8866 5.7: `IN IP4 <addr>[/<ttl>[/<n>]]`, `IN IP6 <addr>[/<n>]`.
pub(crate) fn parse_c(v: &str) -> Option<Connection> {
    let ["IN", addr_type, rest] = words(v)? else {
        return None;
    };
    let mut parts = split_on(rest, b'/');
    let (addr, _) = parse_address(addr_type, parts.next()?)?;
    let (first, second) = (parts.next(), parts.next());
    if parts.next().is_some() {
        return None;
    }
    let mut c = Connection::unicast(addr);
    match (addr.is_ipv4(), first, second) {
        (_, None, _) => {}
        (true, Some(t), n) => {
            c.ttl = Some(digits(t)?);
            c.count = n.map(digits).map_or(Some(None), |x| x.map(Some))?;
        }
        (false, Some(n), None) => c.count = Some(digits(n)?),
        (false, Some(_), Some(_)) => return None,
    }
    Some(c)
}

/// RFC 8866 5.8.
pub(crate) fn parse_b(v: &str) -> Option<Bandwidth> {
    let (kind, value) = super::attr::split_ascii(v, b':')?;
    let kind = match kind {
        "AS" => BandwidthType::As,
        "CT" => BandwidthType::Ct,
        "TIAS" => BandwidthType::Tias,
        "RS" => BandwidthType::Rs,
        "RR" => BandwidthType::Rr,
        k if super::attr::is_token(k) => BandwidthType::Other(k.to_owned()),
        _ => return None,
    };
    Some(Bandwidth { kind, value: digits(value)? })
}

/// RFC 8866 5.9.
pub(crate) fn parse_t(v: &str) -> Option<Timing> {
    let (start, stop) = super::attr::split_ascii(v, b' ')?;
    Some(Timing { start: digits(start)?, stop: digits(stop)? })
}

/// The fields of an `m=` line, borrowed.
pub(crate) struct MediaFields<'a> {
    /// `<media>`.
    pub kind: MediaKind,
    /// `<port>`.
    pub port: u16,
    /// `/<number of ports>`.
    pub count: Option<u16>,
    /// `<proto>`.
    pub proto: &'a str,
    /// `<fmt> ...`, checked tokens (at most `MAX_FORMATS`), single spaces.
    pub formats: &'a str,
}

/// RFC 8866 5.14: `<media> <port>[/<number of ports>] <proto> <fmt> ...`.
pub(crate) fn media_fields(v: &str) -> Option<MediaFields<'_>> {
    let split = super::attr::split_ascii;
    let (kind, rest) = split(v, b' ')?;
    let kind = MediaKind::parse(kind)?;
    let (port, rest) = split(rest, b' ')?;
    let (port, count) = match split(port, b'/') {
        Some((p, n)) => (digits(p)?, Some(digits(n)?)),
        None => (digits(port)?, None),
    };
    let (proto, formats) = split(rest, b' ')?;
    if proto.is_empty() || !split_on(proto, b'/').all(super::attr::is_token) {
        return None;
    }
    for (n, f) in split_on(formats, b' ').enumerate() {
        if !super::attr::is_token(f) || n >= MAX_FORMATS {
            return None;
        }
    }
    Some(MediaFields { kind, port, count, proto, formats })
}

fn parse_m(v: &str) -> Option<MediaDescription> {
    let f = media_fields(v)?;
    let mut m = MediaDescription::new(f.kind, f.port, f.proto);
    m.port_count = f.count;
    m.formats = f.formats.split(' ').map(str::to_owned).collect();
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::{digits, fits_u128, split_on};

    #[test]
    fn fits_u128_accepts_what_digits_parses() {
        let max = u128::MAX.to_string();
        let over = "340282366920938463463374607431768211456";
        for s in ["", "0", "000", "53655765", "+5", "12a", "0340282366920938463463374607431768211455", over, &max, &format!("{max}0")] {
            let parses = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u128>().is_ok();
            assert_eq!(fits_u128(s), parses, "{s:?}");
        }
    }

    #[test]
    fn digits_accepts_what_parse_accepts_from_digit_runs() {
        for s in ["", "0", "007", "255", "256", "65535", "65536", "4294967296", "18446744073709551615", "18446744073709551616", "000000000000000000000000001", "1a", "-1", "+1", " 1"] {
            let oracle = |ok: bool| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && ok;
            assert_eq!(digits::<u8>(s), s.parse::<u8>().ok().filter(|_| oracle(true)), "{s:?}");
            assert_eq!(digits::<u16>(s), s.parse::<u16>().ok().filter(|_| oracle(true)), "{s:?}");
            assert_eq!(digits::<u64>(s), s.parse::<u64>().ok().filter(|_| oracle(true)), "{s:?}");
        }
    }

    #[test]
    fn a_late_u_line_reads_back_the_same_after_emit() {
        // Found by the sdp_parse fuzz target: u= after a second t= (RFC 8866 5 wants it
        // before t=) was kept in place by the parser and moved up by the emitter.
        use crate::sdp::SessionDescription;
        let text = "v=0\r\no=- 0 4 IN IP4 192.0.2.1\r\ns=1\r\nt=0 6\r\nu=first\r\nt=0 7\r\nu=second\r\nk=prompt\r\n";
        let sd = SessionDescription::parse(text.as_bytes()).expect("lenient order parses");
        let kinds: String = sd.extra.iter().map(|l| l.kind).collect();
        assert_eq!(kinds, "uutk");
        assert_eq!(sd.extra[1].value, "second");
        let again = SessionDescription::parse(sd.to_string().as_bytes()).expect("our emit parses");
        assert_eq!(again, sd);
    }

    #[test]
    fn split_on_splits_as_str_split() {
        for s in ["", " ", "a", "a b", " a  b ", "IN IP4 10.0.0.1/127/2", "RTP/AVP"] {
            for sep in [' ', '/'] {
                let ours: Vec<&str> = split_on(s, sep as u8).collect();
                assert_eq!(ours, s.split(sep).collect::<Vec<_>>(), "{s:?} {sep:?}");
            }
        }
    }
}
