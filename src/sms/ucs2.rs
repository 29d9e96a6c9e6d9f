//! The UCS2 alphabet of TS 23.038 6.2.3, carried as UTF-16 big-endian so that characters
//! outside the BMP (emoji) travel as surrogate pairs.

use super::error::Error;

/// Encodes `text` as UTF-16BE into `out` and returns the number of octets written
/// ([`Error::TooLong`] when `out` is too short).
pub fn ucs2_encode(text: &str, out: &mut [u8]) -> Result<usize, Error> {
    let mut n = 0;
    for unit in text.encode_utf16() {
        let dst = out.get_mut(n..n + 2).ok_or(Error::TooLong)?;
        dst.copy_from_slice(&unit.to_be_bytes());
        n += 2;
    }
    Ok(n)
}

/// Decodes UTF-16BE octets, appending to `out`. Unpaired surrogates and a trailing odd octet
/// become U+FFFD: a receiver shows what it can rather than dropping the message.
pub fn ucs2_decode(octets: &[u8], out: &mut String) {
    let units = octets.chunks(2).map(|pair| match pair {
        [hi, lo] => u16::from_be_bytes([*hi, *lo]),
        _ => 0xfffd,
    });
    out.extend(char::decode_utf16(units).map(|r| r.unwrap_or('\u{fffd}')));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_is_a_surrogate_pair() {
        let mut out = [0u8; 8];
        // U+1F600 = D83D DE00 in UTF-16.
        assert_eq!(ucs2_encode("a😀", &mut out), Ok(6));
        assert_eq!(out[..6], [0x00, 0x61, 0xD8, 0x3D, 0xDE, 0x00]);
        let mut text = String::new();
        ucs2_decode(&out[..6], &mut text);
        assert_eq!(text, "a😀");
        assert_eq!(ucs2_encode("a😀", &mut out[..4]), Err(Error::TooLong));
    }

    #[test]
    fn broken_input_decodes_lossily() {
        let mut text = String::new();
        ucs2_decode(&[0xD8, 0x3D, 0x00, 0x41, 0x00], &mut text);
        assert_eq!(text, "\u{fffd}A\u{fffd}");
    }
}
