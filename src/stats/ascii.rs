//! ASCII case-insensitive prefix tests for SIP header names (RFC 3261 7.3.1: names
//! are case-insensitive), for the scans over the messages the control thread counts,
//! logs and rewrites: letters match in either case, every other byte exactly.

/// True when `line` starts with `lower` in any case, `lower` being lower-case ASCII.
/// Stops at the first byte that differs, which most header lines do at their first or
/// second byte.
pub fn starts_with_ci(line: &[u8], lower: &[u8]) -> bool {
    line.len() >= lower.len() && line.iter().zip(lower).all(|(&b, &l)| b == l || (l.is_ascii_lowercase() && b == l.to_ascii_uppercase()))
}

/// A lower-case ASCII name of at most 16 bytes prepared for [`Folded::starts`]: its
/// bytes as two little-endian words, the case bit (0x20) of each letter, and the bytes
/// that count. Built at compile time.
#[derive(Clone, Copy, Debug)]
pub struct Folded {
    lower: &'static [u8],
    words: [u64; 2],
    folds: [u64; 2],
    keep: [u64; 2],
}

impl Folded {
    /// `lower` prepared; it must be lower-case ASCII of at most 16 bytes (checked at
    /// compile time when used in a `const`).
    pub const fn new(lower: &'static [u8]) -> Folded {
        assert!(lower.len() <= 16, "a name of at most 16 bytes");
        let mut f = Folded { lower, words: [0; 2], folds: [0; 2], keep: [0; 2] };
        let mut i = 0;
        while i < lower.len() {
            let b = lower[i];
            assert!(!b.is_ascii_uppercase(), "a lower-case name");
            let (w, shift) = (i / 8, (i % 8) * 8);
            f.words[w] |= (b as u64) << shift;
            f.keep[w] |= 0xff << shift;
            if b.is_ascii_lowercase() {
                f.folds[w] |= 0x20 << shift;
            }
            i += 1;
        }
        f
    }

    /// The name.
    pub fn name(&self) -> &'static [u8] {
        self.lower
    }

    /// [`starts_with_ci`] of the name, two word compares when `line` has 16 bytes:
    /// setting the case bit maps a letter's upper case to its lower case and no other
    /// byte to it; bytes past the name are masked off.
    #[inline]
    pub fn starts(&self, line: &[u8]) -> bool {
        let Some((a, b)) = line.first_chunk::<16>().and_then(|c| Some((c.first_chunk::<8>()?, c.last_chunk::<8>()?))) else {
            return starts_with_ci(line, self.lower);
        };
        let (a, b) = (u64::from_le_bytes(*a), u64::from_le_bytes(*b));
        ((a | self.folds[0]) & self.keep[0]) == self.words[0] && ((b | self.folds[1]) & self.keep[1]) == self.words[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_compare_letters_in_any_case_and_other_bytes_exactly() {
        const NAMES: [Folded; 4] = [Folded::new(b"cseq:"), Folded::new(b"content-type"), Folded::new(b"user-agent"), Folded::new(b"application/sdp")];
        let lines = ["CSeq: 1", "cSEQ:", "cseq", "cseq;", "CSeqq:", "", "Content-Type: application/sdp", "CONTENT-TYPE", "content\rtype: x", "contentMtype: x",
            "USER-AGENT: ringcore/1.0", "User\rAgent: ringcore/1.0", "UserMAgent: ringcore/1.0", "Application/SDP;x=1 long enough", "application/sdpx", "\u{e9}\u{e9}"];
        for f in NAMES {
            for line in lines {
                let want = line.len() >= f.name().len() && line.as_bytes()[..f.name().len()].eq_ignore_ascii_case(f.name());
                assert_eq!(f.starts(line.as_bytes()), want, "{line:?} {:?}", String::from_utf8_lossy(f.name()));
                assert_eq!(starts_with_ci(line.as_bytes(), f.name()), want, "{line:?}");
                // Every byte value at every position of a long line: only the name's bytes
                // in either case match.
                for at in 0..f.name().len() {
                    for byte in 0..=255u8 {
                        let mut l = f.name().to_vec();
                        l.extend_from_slice(b" padding to sixteen bytes");
                        l[at] = byte;
                        let want = l[at].eq_ignore_ascii_case(&f.name()[at]);
                        assert_eq!(f.starts(&l), want, "{at} {byte}");
                    }
                }
            }
        }
    }
}
