//! Log line formats (lteims manual section 8).
//!
//! - 8.1 IMS, SIP (and SMS, IPSEC): `time [LAYER] dir id message`
//! - 8.2 CX, RX (and N5): `time [LAYER] dir addr message`
//! - 8.3 MEDIA: `time [LAYER] id dir protocol/media message`
//!
//! The family follows the record's [`Origin`]. The layer is shown in brackets, upper case;
//! ids are decimal, zero-padded to 4 digits; an address with port 0 is shown without port.
//! The manual shows no level column, so none is printed (the level is kept in `log_get`).
//! A message cut at `MSG_CAP` ends with `...`. At debug level the payload follows the line,
//! indented by two spaces: text line by line, binary as a hex dump of 16 bytes per line.

use std::fmt::{self, Write};
use std::net::SocketAddr;

use super::clock::write_time;
use super::options::TimeFormat;
use super::record::{PayloadKind, Record};
use super::types::{MediaKind, MediaProto, Origin};

/// Indentation of payload lines in the log file.
pub const INDENT: &str = "  ";

/// How the time column is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TimeStyle {
    /// `time=`.
    pub format: TimeFormat,
    /// `time.us=`.
    pub us: bool,
    /// Seconds added to UTC (see `clock`).
    pub utc_offset: i32,
}

/// Appends the full text of `rec` (first line and payload lines) to `out`.
pub fn write_record(out: &mut String, rec: &Record, style: TimeStyle) -> fmt::Result {
    write_time(out, rec.time, style.format, style.us, style.utc_offset)?;
    write!(out, " [{}] ", rec.head.layer.tag())?;
    let dir = rec.head.dir.as_str();
    match rec.head.origin {
        Origin::None => write!(out, "{dir} - ")?,
        Origin::Id(id) => write!(out, "{dir} {id:04} ")?,
        Origin::Addr(addr) => {
            write!(out, "{dir} ")?;
            write_addr(out, addr)?;
            out.push(' ');
        }
        Origin::Media { id, .. } => write!(out, "{id:04} {dir} ")?,
    }
    write_message(out, rec)?;
    out.push('\n');
    write_payload(out, rec, INDENT)
}

/// Appends `protocol/media ` (media records only) and the message, with the cut marker.
pub fn write_message(out: &mut String, rec: &Record) -> fmt::Result {
    if let Origin::Media { proto, kind, .. } = rec.head.origin {
        write!(out, "{}/{} ", proto_name(proto), kind_name(kind))?;
    }
    out.push_str(rec.message());
    if rec.message_truncated() {
        out.push_str("...");
    }
    Ok(())
}

/// Appends an address: `ip` when the port is 0, else `ip:port`.
pub fn write_addr(out: &mut String, addr: SocketAddr) -> fmt::Result {
    if addr.port() == 0 {
        write!(out, "{}", addr.ip())
    } else {
        write!(out, "{addr}")
    }
}

/// Appends the payload lines of `rec`, each prefixed by `indent` and ended by `\n`.
pub fn write_payload(out: &mut String, rec: &Record, indent: &str) -> fmt::Result {
    let data = rec.payload();
    if rec.payload_total == 0 {
        return Ok(());
    }
    match rec.payload_kind {
        PayloadKind::Text => {
            let text = String::from_utf8_lossy(data);
            for line in text.trim_end_matches(['\r', '\n']).lines() {
                writeln!(out, "{indent}{line}")?;
            }
        }
        PayloadKind::Binary => write_hex(out, data, indent)?,
    }
    let hidden = rec.payload_total.saturating_sub(data.len());
    if hidden > 0 {
        writeln!(
            out,
            "{indent}... ({} bytes, {hidden} not shown)",
            rec.payload_total
        )?;
    }
    Ok(())
}

/// `0000:  01 02 .. 0f  |ascii...|`, 16 bytes per line.
fn write_hex(out: &mut String, data: &[u8], indent: &str) -> fmt::Result {
    for (n, chunk) in data.chunks(16).enumerate() {
        write!(out, "{indent}{:04x}: ", n * 16)?;
        for i in 0..16 {
            match chunk.get(i) {
                Some(b) => write!(out, " {b:02x}")?,
                None => out.push_str("   "),
            }
        }
        out.push_str("  |");
        for &b in chunk {
            out.push(if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            });
        }
        out.push_str("|\n");
    }
    Ok(())
}

fn proto_name(p: MediaProto) -> &'static str {
    match p {
        MediaProto::Rtp => "RTP",
        MediaProto::Rtcp => "RTCP",
    }
}

fn kind_name(k: MediaKind) -> &'static str {
    match k {
        MediaKind::Audio => "audio",
        MediaKind::Video => "video",
        MediaKind::Text => "text",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::record::{Head, MSG_CAP};
    use crate::log::types::{Dir, Layer, Level, Timestamp};

    // 2024-04-26 10:05:12.345678 UTC
    const TS: Timestamp = Timestamp(1_714_125_912_345_678);

    fn line(head: Head, msg: &str, style: TimeStyle) -> String {
        let mut r = Record::empty();
        r.fill(TS, head, format_args!("{msg}"));
        let mut s = String::new();
        write_record(&mut s, &r, style).expect("String write");
        s
    }

    fn short() -> TimeStyle {
        TimeStyle::default()
    }

    #[test]
    fn ims_sip_family() {
        let h = Head::new(Layer::Sip, Level::Info)
            .dir(Dir::From)
            .origin(Origin::Id(7));
        assert_eq!(
            line(
                h,
                "REGISTER sip:ims.mnc001.mcc001.3gppnetwork.org SIP/2.0",
                short()
            ),
            "10:05:12.345 [SIP] FROM 0007 REGISTER sip:ims.mnc001.mcc001.3gppnetwork.org SIP/2.0\n"
        );
        let h = Head::new(Layer::Ims, Level::Warn).origin(Origin::Id(12345));
        assert_eq!(
            line(h, "binding expired", short()),
            "10:05:12.345 [IMS] - 12345 binding expired\n"
        );
        let h = Head::new(Layer::Ims, Level::Error);
        assert_eq!(
            line(h, "no user", short()),
            "10:05:12.345 [IMS] - - no user\n"
        );
    }

    #[test]
    fn cx_rx_family() {
        let addr: SocketAddr = "192.0.2.10:3868".parse().expect("literal");
        let h = Head::new(Layer::Cx, Level::Info)
            .dir(Dir::To)
            .origin(Origin::Addr(addr));
        assert_eq!(
            line(h, "MAR", short()),
            "10:05:12.345 [CX] TO 192.0.2.10:3868 MAR\n"
        );
        let addr: SocketAddr = "[2001:db8::1]:0".parse().expect("literal");
        let h = Head::new(Layer::Rx, Level::Info)
            .dir(Dir::From)
            .origin(Origin::Addr(addr));
        assert_eq!(
            line(h, "AAA", short()),
            "10:05:12.345 [RX] FROM 2001:db8::1 AAA\n"
        );
    }

    #[test]
    fn media_family() {
        let origin = Origin::Media {
            id: 3,
            proto: MediaProto::Rtcp,
            kind: MediaKind::Video,
        };
        let h = Head::new(Layer::Media, Level::Debug)
            .dir(Dir::To)
            .origin(origin);
        assert_eq!(
            line(h, "SR ssrc=1", short()),
            "10:05:12.345 [MEDIA] 0003 TO RTCP/video SR ssrc=1\n"
        );
    }

    #[test]
    fn time_styles() {
        let h = Head::new(Layer::Ims, Level::Info);
        let full = TimeStyle {
            format: TimeFormat::Full,
            us: true,
            utc_offset: 0,
        };
        assert_eq!(
            line(h, "x", full),
            "2024-04-26 10:05:12.345678 [IMS] - - x\n"
        );
        let sec = TimeStyle {
            format: TimeFormat::Sec,
            us: false,
            utc_offset: 0,
        };
        assert_eq!(line(h, "x", sec), "1714125912.345 [IMS] - - x\n");
        let short_us = TimeStyle {
            us: true,
            ..short()
        };
        assert_eq!(line(h, "x", short_us), "10:05:12.345678 [IMS] - - x\n");
    }

    #[test]
    fn cut_message_is_marked() {
        let long = "a".repeat(MSG_CAP + 10);
        let text = line(Head::new(Layer::Ims, Level::Info), &long, short());
        assert!(text.ends_with(&format!("{}...\n", "a".repeat(10))));
    }

    #[test]
    fn text_payload_is_indented() {
        let mut r = Record::empty();
        r.fill(
            TS,
            Head::new(Layer::Sip, Level::Debug)
                .dir(Dir::To)
                .origin(Origin::Id(1)),
            format_args!("200 OK"),
        );
        let msg = b"SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
        r.attach(Vec::with_capacity(1024), PayloadKind::Text, msg, usize::MAX);
        let mut s = String::new();
        write_record(&mut s, &r, short()).expect("String write");
        assert_eq!(
            s,
            "10:05:12.345 [SIP] TO 0001 200 OK\n  SIP/2.0 200 OK\n  CSeq: 1 REGISTER\n  Content-Length: 0\n"
        );
    }

    #[test]
    fn hex_payload_is_cut_by_limit() {
        let mut r = Record::empty();
        r.fill(TS, Head::new(Layer::Cx, Level::Debug), format_args!("UAR"));
        let data: Vec<u8> = (0x30..0x30 + 40).collect();
        r.attach(Vec::with_capacity(1024), PayloadKind::Binary, &data, 20);
        let mut s = String::new();
        write_payload(&mut s, &r, INDENT).expect("String write");
        assert_eq!(
            s,
            "  0000:  30 31 32 33 34 35 36 37 38 39 3a 3b 3c 3d 3e 3f  |0123456789:;<=>?|\n\
             \x20 0010:  40 41 42 43                                      |@ABC|\n\
             \x20 ... (40 bytes, 20 not shown)\n"
        );
    }
}
