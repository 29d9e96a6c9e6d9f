//! The GSM 7-bit default alphabet and its extension table (TS 23.038 6.2.1, 6.2.1.1) and the
//! packing of septets into octets (TS 23.038 6.1.2.1.1, TS 23.040 9.2.3.24 fill bits).

use super::error::Error;

/// TS 23.038 6.2.1: the escape to the extension table.
pub(crate) const ESC: u8 = 0x1b;

/// TS 23.038 6.2.1: the default alphabet, indexed by septet value. Entry 0x1B (escape) is
/// shown as a space when it cannot be followed (note 1 of the table).
const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', ' ', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// TS 23.038 6.2.1.1: the default alphabet extension table (septet after ESC, character).
const EXTENSION: [(u8, char); 10] = [
    (0x0a, '\u{0c}'), // form feed (page break)
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2f, '\\'),
    (0x3c, '['),
    (0x3d, '~'),
    (0x3e, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// The septets encoding `c`: one septet, or ESC and an extension septet.
fn encode_char(c: char) -> Option<(u8, Option<u8>)> {
    if let Some((code, _)) = EXTENSION.iter().find(|(_, e)| *e == c) {
        return Some((ESC, Some(*code)));
    }
    // Septet 0x1B is the escape, never a character, although BASIC shows it as a space.
    let pos = (0u8..128).find(|&s| s != ESC && basic(s) == c)?;
    Some((pos, None))
}

/// Number of septets `text` needs in the default alphabet (extension characters count 2).
pub fn gsm7_septet_len(text: &str) -> Result<usize, Error> {
    text.chars().try_fold(0usize, |n, c| match encode_char(c) {
        Some((_, Some(_))) => Ok(n + 2),
        Some((_, None)) => Ok(n + 1),
        None => Err(Error::Unrepresentable(c)),
    })
}

/// Encodes `text` as unpacked septet values into `out` and returns how many were written.
/// Fails with [`Error::Unrepresentable`] on a character outside the alphabet and
/// [`Error::TooLong`] when `out` is too short.
pub fn gsm7_encode(text: &str, out: &mut [u8]) -> Result<usize, Error> {
    let mut n = 0;
    for c in text.chars() {
        let (first, second) = encode_char(c).ok_or(Error::Unrepresentable(c))?;
        for septet in core::iter::once(first).chain(second) {
            *out.get_mut(n).ok_or(Error::TooLong)? = septet;
            n += 1;
        }
    }
    Ok(n)
}

/// Decodes unpacked septets to text, appending to `out`. TS 23.038 6.2.1.1: an escape followed
/// by a septet without an extension character shows the default-alphabet character; a trailing
/// escape shows as a space.
pub fn gsm7_decode(septets: &[u8], out: &mut String) {
    let mut iter = septets.iter().map(|s| s & 0x7f);
    while let Some(s) = iter.next() {
        if s != ESC {
            out.push(basic(s));
            continue;
        }
        match iter.next() {
            Some(code) => match EXTENSION.iter().find(|(e, _)| *e == code) {
                Some((_, c)) => out.push(*c),
                None => out.push(basic(code)),
            },
            None => out.push(' '),
        }
    }
}

fn basic(septet: u8) -> char {
    BASIC
        .get(usize::from(septet & 0x7f))
        .copied()
        .unwrap_or(' ')
}

/// Packs septets into `out`, septet `i` at bit `(first_septet + i) * 7` (TS 23.038 6.1.2.1.1:
/// least significant bit first). Bits are OR-ed in, so `out` must start zeroed; the bits before
/// `first_septet` (a user-data header plus fill bits) are left untouched.
pub fn pack_septets(septets: &[u8], first_septet: usize, out: &mut [u8]) -> Result<(), Error> {
    for (i, s) in septets.iter().enumerate() {
        let bit = (first_septet + i) * 7;
        let (byte, shift) = (bit / 8, bit % 8);
        let value = u16::from(s & 0x7f) << shift;
        let lo = out.get_mut(byte).ok_or(Error::BufferTooSmall)?;
        *lo |= value as u8; // low half of the 16-bit window
        if shift > 1 {
            let hi = out.get_mut(byte + 1).ok_or(Error::BufferTooSmall)?;
            *hi |= (value >> 8) as u8;
        }
    }
    Ok(())
}

/// Unpacks `out.len()` septets from `packed`, starting at septet index `first_septet`.
pub fn unpack_septets(packed: &[u8], first_septet: usize, out: &mut [u8]) -> Result<(), Error> {
    for (i, s) in out.iter_mut().enumerate() {
        let bit = (first_septet + i) * 7;
        let (byte, shift) = (bit / 8, bit % 8);
        let lo = u16::from(*packed.get(byte).ok_or(Error::Truncated)?);
        let hi = if shift > 1 {
            u16::from(*packed.get(byte + 1).ok_or(Error::Truncated)?)
        } else {
            0
        };
        *s = (((hi << 8) | lo) >> shift) as u8 & 0x7f;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_packed(text: &str) -> Vec<u8> {
        let mut septets = [0u8; 320];
        let n = gsm7_encode(text, &mut septets).unwrap();
        let mut out = vec![0u8; (n * 7).div_ceil(8)];
        pack_septets(&septets[..n], 0, &mut out).unwrap();
        out
    }

    #[test]
    fn hellohello_packs_to_the_classic_vector() {
        // TS 23.038 packing: 'h' 0x68 fills bits 0-6, bit 0 of 'e' (1) becomes bit 7 -> 0xE8.
        assert_eq!(
            encode_packed("hellohello"),
            [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]
        );
        let mut septets = [0u8; 10];
        unpack_septets(
            &[0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37],
            0,
            &mut septets,
        )
        .unwrap();
        let mut text = String::new();
        gsm7_decode(&septets, &mut text);
        assert_eq!(text, "hellohello");
    }

    #[test]
    fn extension_characters_take_two_septets() {
        for (c, code) in [
            ('€', 0x65),
            ('{', 0x28),
            ('}', 0x29),
            ('[', 0x3c),
            (']', 0x3e),
            ('~', 0x3d),
            ('\\', 0x2f),
            ('^', 0x14),
            ('|', 0x40),
            ('\u{c}', 0x0a),
        ] {
            let mut out = [0u8; 4];
            let s = c.to_string();
            assert_eq!(gsm7_encode(&s, &mut out), Ok(2), "{c}");
            assert_eq!(out[..2], [ESC, code]);
            assert_eq!(gsm7_septet_len(&s), Ok(2));
            let mut back = String::new();
            gsm7_decode(&out[..2], &mut back);
            assert_eq!(back, s);
        }
        assert_eq!(gsm7_septet_len("a€b"), Ok(4));
    }

    #[test]
    fn default_alphabet_is_not_latin1() {
        let mut out = [0u8; 8];
        // '@' is septet 0x00, '£' 0x01, 'è' 0x04, '_' 0x11, '¤' 0x24, '§' 0x5F, 'à' 0x7F.
        assert_eq!(gsm7_encode("@£è_¤§à", &mut out), Ok(7));
        assert_eq!(out[..7], [0x00, 0x01, 0x04, 0x11, 0x24, 0x5f, 0x7f]);
        assert_eq!(gsm7_encode("ç", &mut out), Err(Error::Unrepresentable('ç')));
        assert_eq!(gsm7_septet_len("😀"), Err(Error::Unrepresentable('😀')));
        assert_eq!(gsm7_encode("abc", &mut out[..2]), Err(Error::TooLong));
    }

    #[test]
    fn unknown_escape_and_trailing_escape_decode_per_23_038() {
        let mut text = String::new();
        gsm7_decode(&[ESC, 0x41, ESC], &mut text);
        assert_eq!(text, "A ");
    }

    #[test]
    fn packing_with_one_fill_bit_after_a_six_octet_header() {
        // A 6-octet UDH is 48 bits; the text starts at septet 7 (bit 49): one fill bit.
        let mut out = [0u8; 8];
        pack_septets(&[0x68], 7, &mut out).unwrap();
        // 'h' (1101000) at bit 49: byte 6 gets bits 1..7 = 0x68 << 1 = 0xD0.
        assert_eq!(out[6], 0xD0);
        let mut back = [0u8; 1];
        unpack_septets(&out, 7, &mut back).unwrap();
        assert_eq!(back, [0x68]);
        assert_eq!(
            unpack_septets(&out[..6], 7, &mut back),
            Err(Error::Truncated)
        );
    }
}
