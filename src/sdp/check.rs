//! Validation of an SDP body with exactly the rules of [`SessionDescription::parse`]
//! (RFC 8866 5 line order, field syntax, the `MAX_*` bounds, the same error and line
//! number) without building the representation, for paths that patch the body text
//! in place (media anchoring) and must still refuse what the parser refuses.
//!
//! [`SessionDescription::parse`]: super::SessionDescription::parse

use super::attr::Attribute;
use super::error::{ErrorKind, ParseError};
use super::parse::{media_fields, origin_fields, parse_b, parse_c, parse_t};
use super::sections::Sections;
use super::view::{Line, SdpView};
use super::{MAX_ATTRIBUTES, MAX_BANDWIDTHS, MAX_EXTRA_LINES, MAX_MEDIA};

/// Lines seen at one level (session, or one media section).
#[derive(Default)]
struct Level {
    info: bool,
    connection: bool,
    bandwidths: usize,
    extra: usize,
    attributes: usize,
}

/// The open media section: its `m=` line number, port and lines.
struct Section {
    line: usize,
    port: u16,
    level: Level,
}

/// Where the walk is: the `v= o= s=` header (RFC 8866 5), then the rest.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Head {
    V,
    O,
    S,
    Done,
}

/// State of the walk.
struct Walk {
    head: Head,
    session: Level,
    have_time: bool,
    media: Option<Section>,
    count: usize,
    first_m: Option<usize>,
    first_missing: Option<usize>,
    sections: Sections,
}

impl<'a> SdpView<'a> {
    /// A view of `body` that [`super::SessionDescription::parse`] accepts, with
    /// its media sections; when it does not, the error it gives (a line syntax
    /// error anywhere first, as the parser checks the view first). One pass over
    /// the body; nothing is allocated (except for a `b=` line of an unknown
    /// bandwidth type).
    pub fn new_valid(body: &'a [u8]) -> Result<(SdpView<'a>, Sections), ParseError> {
        let mut walk = Walk {
            head: Head::V,
            session: Level::default(),
            have_time: false,
            media: None,
            count: 0,
            first_m: None,
            first_missing: None,
            sections: Sections::new(),
        };
        let mut first_error = None;
        let view = SdpView::check_with(body, |line| {
            if first_error.is_none() {
                first_error = walk.step(&line).err();
            }
        })?;
        if let Some(e) = first_error {
            return Err(e);
        }
        let sections = walk.finish(view.line_count() + 1)?;
        Ok((view, sections))
    }
}

impl Walk {
    fn step(&mut self, l: &Line<'_>) -> Result<(), ParseError> {
        let err = |kind| ParseError::new(l.number, kind);
        // RFC 8866 5: v=, o= and s= open every description, in this order.
        match self.head {
            Head::V if l.kind == b'v' && l.value == "0" => self.head = Head::O,
            Head::O if l.kind == b'o' => {
                origin_fields(l.value).ok_or(err(ErrorKind::BadOrigin))?;
                self.head = Head::S;
            }
            Head::S if l.kind == b's' && !l.value.is_empty() => self.head = Head::Done,
            Head::Done => self.line(l).map_err(err)?,
            head => return Err(err(head_error(head))),
        }
        Ok(())
    }

    fn line(&mut self, l: &Line<'_>) -> Result<(), ErrorKind> {
        if l.kind != b'm' {
            let sections = &mut self.sections;
            return match &mut self.media {
                None => session_line(&mut self.session, &mut self.have_time, sections, l),
                Some(m) => media_line(&mut m.level, sections, l),
            };
        }
        if self.count >= MAX_MEDIA {
            return Err(ErrorKind::TooManyMedia);
        }
        let m = media_fields(l.value).ok_or(ErrorKind::BadMedia)?;
        self.close_section();
        self.sections.push(m.kind, m.port);
        self.count += 1;
        self.first_m.get_or_insert(l.number);
        self.media = Some(Section { line: l.number, port: m.port, level: Level::default() });
        Ok(())
    }

    /// RFC 8866 5.7: a `c=` at session level or in every media section (rejected
    /// streams, port 0, are exempt).
    fn close_section(&mut self) {
        if let Some(m) = self.media.take() {
            if m.port != 0 && !m.level.connection && !self.session.connection {
                self.first_missing.get_or_insert(m.line);
            }
        }
    }

    fn finish(mut self, end: usize) -> Result<Sections, ParseError> {
        if self.head != Head::Done {
            return Err(ParseError::new(end, head_error(self.head)));
        }
        self.close_section();
        if !self.have_time {
            return Err(ParseError::new(self.first_m.unwrap_or(end), ErrorKind::BadTime));
        }
        if let Some(n) = self.first_missing {
            return Err(ParseError::new(n, ErrorKind::MissingConnection));
        }
        self.sections.finish();
        Ok(self.sections)
    }
}

/// The error for a missing or bad header line.
fn head_error(head: Head) -> ErrorKind {
    match head {
        Head::V => ErrorKind::BadVersion,
        Head::O => ErrorKind::BadOrigin,
        _ => ErrorKind::BadSessionName,
    }
}

fn session_line(s: &mut Level, have_time: &mut bool, out: &mut Sections, l: &Line<'_>) -> Result<(), ErrorKind> {
    match l.kind {
        b'i' if !s.info => s.info = true,
        b'c' if !s.connection => {
            out.connection(parse_c(l.value).ok_or(ErrorKind::BadConnection)?.addr);
            s.connection = true;
        }
        b'b' => {
            parse_b(l.value).ok_or(ErrorKind::BadBandwidth)?;
            bump(&mut s.bandwidths, MAX_BANDWIDTHS)?;
        }
        b't' if !*have_time => {
            parse_t(l.value).ok_or(ErrorKind::BadTime)?;
            *have_time = true;
        }
        b't' | b'r' | b'z' | b'k' | b'u' | b'e' | b'p' => bump(&mut s.extra, MAX_EXTRA_LINES)?,
        b'a' => {
            attribute(&mut s.attributes, l.value)?;
        }
        _ => return Err(ErrorKind::OutOfOrder),
    }
    Ok(())
}

fn media_line(m: &mut Level, out: &mut Sections, l: &Line<'_>) -> Result<(), ErrorKind> {
    match l.kind {
        b'i' if !m.info => m.info = true,
        b'c' if !m.connection => {
            out.connection(parse_c(l.value).ok_or(ErrorKind::BadConnection)?.addr);
            m.connection = true;
        }
        b'b' => {
            parse_b(l.value).ok_or(ErrorKind::BadBandwidth)?;
            bump(&mut m.bandwidths, MAX_BANDWIDTHS)?;
        }
        b'k' => bump(&mut m.extra, MAX_EXTRA_LINES)?,
        b'a' if attribute(&mut m.attributes, l.value)? => out.qos_des(),
        b'a' => {}
        _ => return Err(ErrorKind::OutOfOrder),
    }
    Ok(())
}

fn bump(n: &mut usize, max: usize) -> Result<(), ErrorKind> {
    if *n >= max {
        return Err(ErrorKind::TooManyLinesOfType);
    }
    *n += 1;
    Ok(())
}

/// Checks one `a=` line; true for an `a=des:qos` mandatory or optional.
fn attribute(n: &mut usize, value: &str) -> Result<bool, ErrorKind> {
    if *n >= MAX_ATTRIBUTES {
        return Err(ErrorKind::TooManyAttributes);
    }
    let qos_des = Attribute::check(value)?;
    *n += 1;
    Ok(qos_des)
}
